/* SPDX-License-Identifier: BSD-2-Clause */
/* The k items of highest rank among many, highest first: for the short
 * lists (largest, newest) that views take out of big tables. An item
 * ranking below a full list costs one comparison. */
#ifndef HS_USER_TOPK_H
#define HS_USER_TOPK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* items (isz bytes each) and ranks hold *n <= k entries, highest rank
 * first. Returns the slot where an item of this rank goes (the rest moved
 * down, the lowest dropped when full; ties keep the earlier first), or
 * NULL when it ranks below all k. */
static inline void *topk_slot(void *items, uint64_t *ranks, size_t *n, size_t k,
			      size_t isz, uint64_t rank)
{
	unsigned char *b = items;
	size_t at = *n;

	while (at > 0 && ranks[at - 1] < rank)
		at--;
	if (at >= k)
		return NULL;
	if (*n < k)
		(*n)++;
	memmove(b + (at + 1) * isz, b + at * isz, (*n - 1 - at) * isz);
	memmove(&ranks[at + 1], &ranks[at], (*n - 1 - at) * sizeof(*ranks));
	ranks[at] = rank;
	return b + at * isz;
}

#endif
