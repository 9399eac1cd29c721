/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The status page's snapshot (output/status_page.h), built on the main
 * loop after each round: the largest clusters from the correlator, the
 * decisions the policy holds, the datapath's counters and the flows its
 * rules cut, and what no table keeps: the indicators of the last hour,
 * which a history collects from the pipeline (its tap). The metrics
 * thread renders the published copy and never reads these tables.
 */
#ifndef HS_USER_STATUS_SNAPSHOT_H
#define HS_USER_STATUS_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

struct envelope;
struct indicator;
struct pipeline;
struct status_page;

struct status_history;

/* env: the pipeline's (datapath time to wall clock); it must outlive
 * the history. NULL when out of memory. */
struct status_history *status_history_new(const struct envelope *env);
void status_history_free(struct status_history *h);
/* An ind_sink callback (ctx: the history) for every indicator of a
 * round: fresh ones are counted and listed, and a cluster's kinds and
 * farm evidence are kept for the snapshot. */
void status_history_on_indicator(void *ctx, const struct indicator *ind);

/* Into a snapshot at now_ns (datapath clock): the indicators of the last
 * hour, by kind and the latest; and for the clusters it lists, the kinds
 * that fired on them and a farm's evidence at that evaluation. */
void status_history_add(const struct status_history *h, struct status_page *out,
			uint64_t now_ns);

struct status_inputs {
	int stats_fd, cuts_fd; /* the datapath's counters and cut flows */
	const char *iface;
	bool enforce;
	uint64_t started_ns; /* wall clock */
};

/* The snapshot after the round at now_ns (datapath clock; before the
 * first round: the header and empty tables). */
void status_snapshot_build(struct status_page *out,
			   const struct status_history *h, struct pipeline *pl,
			   const struct status_inputs *in, uint64_t now_ns);

#endif
