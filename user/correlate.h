/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Correlator: turns the kernel's per-source counters into indicators, each
 * with a kind, a score in [0,1], its evidence and the sources it covers.
 * This first version runs over a snapshot of the maps (end of a replay, or
 * on demand); windows, decisions and the remaining indicator kinds build on
 * it.
 */
#ifndef HS_USER_CORRELATE_H
#define HS_USER_CORRELATE_H

#include <stdio.h>

#include "report.h"

/* Thresholds. Defaults and how they were chosen are in correlate.c and
 * the README; every one can be set in a config file (key = value). */
struct corr_config {
	unsigned relay_min_gap_us;	 /* TLS RTT - TCP RTT */
	unsigned relay_min_ack_hello_us; /* ACK -> ClientHello delay */
	unsigned relay_min_flows;	 /* TLS flows of the source */
	double robotic_max_cv;		 /* CV of inter-request intervals */
	unsigned robotic_min_bursts;	 /* requests needed to judge a source */
	unsigned band_min_bursts;	 /* requests to place it in a band */
	unsigned cluster_min_sources;
	unsigned cluster_min_prefixes;	   /* distinct /24 (v4) or /48 (v6) */
	unsigned cluster_max_source_flows; /* "low volume" */
	unsigned hop_max_mss;		   /* SYN MSS below this: a tunnel */
	unsigned hop_max_hops;	     /* more hops than this: implausible */
	/* decisions (user/decide.c) */
	double decide_relay_min_score;
	double decide_cluster_min_score;
	unsigned ttl_relay_s;
	unsigned ttl_cluster_s;
	unsigned block_v4_prefix;
	unsigned block_v6_prefix;
	unsigned max_blocks;
	unsigned max_listed_sources; /* sources printed per indicator */
};

void corr_config_defaults(struct corr_config *c);
/* Returns 0, or -1 with a one-line reason (file:line: ...) in err. */
int corr_config_load(const char *path, struct corr_config *c, char *err,
		     size_t errlen);

struct json_object;

/* Evaluate the indicators over the maps and print them (JSON lines or a
 * text section); each is also appended to found (a JSON array) unless it
 * is NULL. Returns the number of indicators, -1 on error. */
int correlate(const struct report_ctx *r, const struct corr_config *c,
	      struct json_object *found);

#endif
