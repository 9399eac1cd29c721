/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fixed-bucket histograms for the Prometheus exporter, small enough to be
 * copied by value into the snapshot a scrape renders. The buckets of each
 * kind are fixed here, once, so that the code that observes and the code
 * that renders cannot disagree, and a dashboard's quantiles keep their
 * meaning across releases.
 */
#ifndef HS_USER_LIB_HISTOGRAM_H
#define HS_USER_LIB_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#define HS_HIST_MAX 16 /* buckets of any kind, +Inf not counted */

enum hs_hist_kind {
	HS_HIST_ROUND_SECONDS,	   /* one correlate-decide-reconcile round */
	HS_HIST_RELAY_GAP_SECONDS, /* a flow's relay detour estimate */
};

struct hs_hist {
	uint64_t bucket[HS_HIST_MAX + 1]; /* per bucket (not cumulative); last:
					     above every bound */
	uint64_t count;
	double sum;
};

/* The upper bounds ("le") of a kind, ascending; *n gets their number. */
const double *hs_hist_bounds(enum hs_hist_kind k, size_t *n);
void hs_hist_observe(struct hs_hist *h, enum hs_hist_kind k, double v);

#endif
