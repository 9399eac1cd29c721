/* SPDX-License-Identifier: BSD-2-Clause */
/* One running instance per host: it owns the pinned maps. */
#ifndef HS_USER_PIDFILE_H
#define HS_USER_PIDFILE_H

#include <stddef.h>
#include <sys/types.h>

/* A directory of its own: the systemd unit makes it (RuntimeDirectory=)
 * and keeps the rest of /run read-only (ProtectSystem=strict). */
#define HS_RUN_DIR "/run/hydrascope"
#define HS_PIDFILE HS_RUN_DIR "/hydrascope.pid"

/* Claim the pid file; fails (err set) if a live instance holds it. */
int pidfile_claim(char *err, size_t errlen);
void pidfile_release(void);
/* pid of the running instance, or 0. */
pid_t pidfile_running(void);
/* Ask the running instance, if any, to hand its datapath over (SIGUSR1)
 * and wait (bounded) until it has exited. */
int pidfile_handover(char *err, size_t errlen);

#endif
