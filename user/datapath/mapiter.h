/* SPDX-License-Identifier: BSD-2-Clause */
/* Iterate a BPF map's entries in batches (BPF_MAP_LOOKUP_BATCH), falling
 * back to get_next_key + lookup where a map type has no batch support. */
#ifndef HS_USER_MAPITER_H
#define HS_USER_MAPITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Called for each entry; return non-zero to stop. */
typedef int (*map_entry_fn)(const void *key, const void *val, void *ctx);

/* Returns the number of entries visited, or -1 on an error. At most
 * max_entries of the map are visited. */
long map_each(int fd, size_t ksz, size_t vsz, map_entry_fn fn, void *ctx);

/* Entries in a map (a walk over its keys). */
long map_count_keys(int fd, size_t ksz);

/* A walk over a hash map in slices, each resumed where the last stopped:
 * a map too large to read at once is read over many rounds. An entry
 * that stays in the map the whole pass is visited once (the kernel reads
 * whole buckets, and an entry keeps its bucket). Zeroed: at the start. */
struct map_cursor {
	unsigned char token[8]; /* the kernel's batch position (a bucket) */
	bool started;
	long seen; /* entries of the pass so far */
};

/* Visit max entries or a few more (whole batches) from the cursor on.
 * Returns the number visited, or -1 on an error (the cursor starts over).
 * When the walk reached the end of the map, *pass (if not NULL) is the
 * number of entries of the pass just completed, else -1; the next slice
 * starts a new pass. Maps with batch lookups only (hashes). */
long map_slice(int fd, size_t ksz, size_t vsz, struct map_cursor *cur, long max,
	       map_entry_fn fn, void *ctx, long *pass);

/* The order entries read from the maps are handled in: their first
 * packet, then their key's bytes (the correlator's ordered folds, the
 * report's flow and source records). A qsort-style result. */
int map_time_order(uint64_t a_first, const void *a_key, uint64_t b_first,
		   const void *b_key, size_t ksz);

#endif
