// SPDX-License-Identifier: BSD-2-Clause
#include "lib/histogram.h"

/* A round is a map sweep plus evaluation: milliseconds when calm, seconds
 * under a flood of flows (the benchmarks: 5 s at a million prefixes). */
static const double round_le[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
				  0.25,	 0.5,	 1,	2.5,  5,     10,   30};
/* Relay detours: ~0 direct, a few ms through a LAN proxy, 10 ms the
 * default relay bound, 40-120 ms for residential proxies, more across
 * continents. */
static const double gap_le[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.04,
				0.08,  0.16,  0.32,  0.64, 1.28};

const double *hs_hist_bounds(enum hs_hist_kind k, size_t *n)
{
	if (k == HS_HIST_ROUND_SECONDS) {
		*n = sizeof(round_le) / sizeof(round_le[0]);
		return round_le;
	}
	*n = sizeof(gap_le) / sizeof(gap_le[0]);
	return gap_le;
}

void hs_hist_observe(struct hs_hist *h, enum hs_hist_kind k, double v)
{
	size_t n, i;
	const double *le = hs_hist_bounds(k, &n);

	for (i = 0; i < n && v > le[i]; i++)
		;
	h->bucket[i]++;
	h->count++;
	h->sum += v;
}
