/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The running instance's status file: what `hydrascope status` and
 * `hydrascope clusters` show. Clusters and decisions live in the daemon,
 * not in kernel maps, so the daemon rewrites this small file (top clusters,
 * counts) after each round, atomically (a new file, then rename: never
 * written through a symlink, mode 0640; lib/safefile.h).
 */
#ifndef HS_USER_STATUS_H
#define HS_USER_STATUS_H

#include <stdbool.h>

struct attachment;
struct pipeline;

void status_publish(struct pipeline *pl, int stats_fd,
		    const struct attachment *a, bool enforce);
void status_remove(void);

#endif
