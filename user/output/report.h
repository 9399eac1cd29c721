/* SPDX-License-Identifier: BSD-2-Clause */
/* Flow, source and counter reports from the kernel maps (text or JSON). */
#ifndef HS_USER_REPORT_H
#define HS_USER_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "output/envelope.h"
#include "output/format.h"

struct collector;
struct hs_stats;
struct map_fds;
struct p0f_db;

struct report_ctx {
	FILE *out;
	enum out_format fmt;
	const struct map_fds *maps;
	const struct collector *coll; /* may be NULL (pinned-map readers) */
	const struct p0f_db *p0f;     /* may be NULL */
	struct envelope env;	      /* datapath time -> wall clock */
	uint64_t now_ns; /* datapath time of the snapshot ("timestamp") */
};

int report_flows(const struct report_ctx *r);
int report_sources(const struct report_ctx *r);
void report_stats(const struct report_ctx *r, const struct hs_stats *st);
/* Flows and sources (as asked), then the counters. */
int report_all(const struct report_ctx *r, bool flows, bool sources);

#endif
