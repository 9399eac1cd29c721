/* SPDX-License-Identifier: BSD-2-Clause */
/* Flow, source and counter reports from the kernel maps (text or JSON). */
#ifndef HS_USER_REPORT_H
#define HS_USER_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "collector.h"
#include "hydrascope/abi.h"
#include "tcpsig.h"

struct map_fds {
	int flows, sources, sigs, stats;
};

enum out_format { FMT_TEXT = 0, FMT_JSON };

int parse_format(const char *s, enum out_format *f);

/* Open the maps pinned by a running instance (-1 with err set). */
int map_fds_open_pinned(struct map_fds *m, char *err, size_t errlen);
void map_fds_close(struct map_fds *m);

/* Every entry of a hash map as key+value records (at most max_entries);
 * NULL on error. Caller frees. */
void *dump_map(int fd, size_t ksz, size_t vsz, size_t *n);

/* Sum of the per-CPU counters. */
int stats_read(int fd, struct hs_stats *sum);

struct report_ctx {
	FILE *out;
	enum out_format fmt;
	const struct map_fds *maps;
	const struct collector *coll; /* may be NULL (pinned-map readers) */
	const struct p0f_db *p0f;     /* may be NULL */
};

int report_flows(const struct report_ctx *r);
int report_sources(const struct report_ctx *r);
void report_stats(const struct report_ctx *r, const struct hs_stats *st);
/* Flows and sources (as asked), then the counters. */
int report_all(const struct report_ctx *r, bool flows, bool sources);
/* The map fds of a loaded skeleton. */
struct hydrascope;
void map_fds_from_skel(const struct hydrascope *skel, struct map_fds *m);

#endif
