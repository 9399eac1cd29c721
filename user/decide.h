/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Decisions from indicators. The policy is simple and conservative:
 *  - relay_rtt_gap with score >= decide_relay_min_score blocks the source's
 *    prefix (/32, /64 by default) for ttl_relay_s;
 *  - farm_cluster with score >= decide_cluster_min_score adds a tuple rule
 *    for the cluster's tuple id, conditional on the relay signal (gap >=
 *    relay_min_gap_us), for ttl_cluster_s: a new exit node of the farm is
 *    cut on its first connection, a direct client with the same stack is
 *    not;
 *  - robotic_cadence and hop_anomaly never block on their own;
 *  - the allowlist always wins; at most max_blocks prefix blocks are active.
 * Every decision is a self-contained JSON record (time, action, prefix or
 * tuple id, ttl, reason, indicator scores, evidence) written to the report
 * and to --decision-log, so another blocking layer can consume it.
 */
#ifndef HS_USER_DECIDE_H
#define HS_USER_DECIDE_H

#include <stdint.h>
#include <stdio.h>

#include "correlate.h"

struct json_object;

struct decide_target {
	int blocklist_fd; /* -1: decisions are reported, not applied */
	int allowlist_fd; /* -1: no allowlist check */
	int tuple_rules_fd;
	int hint_fd;
	uint64_t now_ns;   /* kernel CLOCK_MONOTONIC (expiry base) */
	uint64_t stamp_ns; /* time written in the record (packet or wall) */
	FILE *log;	   /* JSON-lines decision log, or NULL */
};

/* Derive decisions from the indicators in found, print them with r, apply
 * them to the target maps. Returns the number of decisions. */
int decide(const struct report_ctx *r, const struct corr_config *c,
	   struct json_object *found, const struct decide_target *t);

#endif
