// SPDX-License-Identifier: BSD-2-Clause
/*
 * Sorting and counting 64-bit keys in linear time. The correlator sorts
 * per-member keys of a cluster (/24s, ASNs, spans, SYN classes, tuple ids)
 * every round, and a cluster of a common client can hold a quarter of a
 * million members: qsort's comparator calls were a tenth of a round there.
 * Keys are addresses and ids senders choose; a radix sort's cost does not
 * depend on them.
 */
#ifndef HYDRASCOPE_LIB_RADIX_H
#define HYDRASCOPE_LIB_RADIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sort v[0..n) ascending (least significant byte first, bytes that are
 * the same in every key skipped). Needs n keys of scratch: false without
 * memory, v then unchanged. */
bool radix_sort_u64(uint64_t *v, size_t n);

/* Distinct nonzero values of a sorted array. */
size_t radix_distinct_nonzero(const uint64_t *v, size_t n);

#endif
