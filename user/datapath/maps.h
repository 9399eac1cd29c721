/* SPDX-License-Identifier: BSD-2-Clause */
/* The flow, source, signature and counter maps as the readers see them. */
#ifndef HS_USER_DATAPATH_MAPS_H
#define HS_USER_DATAPATH_MAPS_H

#include <stddef.h>

#include "hydrascope/abi.h"

struct hydrascope;

struct map_fds {
	int flows, sources, sigs, stats;
};

/* Open the maps pinned by a running instance (-1 with err set). */
int map_fds_open_pinned(struct map_fds *m, char *err, size_t errlen);
void map_fds_close(struct map_fds *m);
/* The map fds of a loaded skeleton. */
void map_fds_from_skel(const struct hydrascope *skel, struct map_fds *m);

/* Every entry of a hash map as key+value records (at most max_entries);
 * NULL on error. Caller frees. */
void *dump_map(int fd, size_t ksz, size_t vsz, size_t *n);

/* Sum of the per-CPU counters. */
int stats_read(int fd, struct hs_stats *sum);

#endif
