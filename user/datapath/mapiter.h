/* SPDX-License-Identifier: BSD-2-Clause */
/* Iterate a BPF map's entries in batches (BPF_MAP_LOOKUP_BATCH), falling
 * back to get_next_key + lookup where a map type has no batch support. */
#ifndef HS_USER_MAPITER_H
#define HS_USER_MAPITER_H

#include <stddef.h>

/* Called for each entry; return non-zero to stop. */
typedef int (*map_entry_fn)(const void *key, const void *val, void *ctx);

/* Returns the number of entries visited, or -1 on an error. At most
 * max_entries of the map are visited. */
long map_each(int fd, size_t ksz, size_t vsz, map_entry_fn fn, void *ctx);

/* Entries in a map (a walk over its keys). */
long map_count_keys(int fd, size_t ksz);

#endif
