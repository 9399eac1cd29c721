/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where an instance keeps what outlives a call: its bpffs pin directory
 * (maps, and links/ below it), its pid file and its status file. One host
 * may run several instances (one per ingress interface, or three in a
 * test), each named with --instance NAME; without a name the paths are the
 * single-instance defaults:
 *   /sys/fs/bpf/hydrascope[-NAME]         pinned maps
 *   /sys/fs/bpf/hydrascope[-NAME]/links   pinned bpf_links
 *   /run/hydrascope/hydrascope[-NAME].pid
 *   /run/hydrascope/status[-NAME].json
 */
#ifndef HS_USER_PATHS_H
#define HS_USER_PATHS_H

#include <stdbool.h>

#define HS_BPFFS "/sys/fs/bpf"
/* A directory of its own: the systemd unit makes it (RuntimeDirectory=)
 * and keeps the rest of /run read-only (ProtectSystem=strict). */
#define HS_RUN_DIR "/run/hydrascope"
#define HS_INSTANCE_MAX 32 /* characters of an instance name */

/* Select the instance (NULL or "": the default). Names are 1-32 of
 * [A-Za-z0-9_-], so that they stay one path component. Returns 0, or -1
 * for a bad name (nothing changed). */
int paths_set_instance(const char *name);
/* The instance name, "" for the default one. */
const char *paths_instance(void);
const char *paths_pin_dir(void);
const char *paths_link_dir(void);
const char *paths_pidfile(void);
const char *paths_status_file(void);

#endif
