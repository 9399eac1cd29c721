/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What run and replay share: the p0f and network databases, the record
 * log, the collector, the loaded datapath, its ring buffer and the
 * pipeline. Opened in two steps so that run can check every input
 * (session_open_inputs) before it disturbs a running instance, then
 * load the datapath (session_start). session_close undoes whatever was
 * opened, in reverse.
 */
#ifndef HS_USER_CLI_SESSION_H
#define HS_USER_CLI_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "output/format.h"

struct asndb;
struct collector;
struct common_opts;
struct crowdsec_push;
struct hydrascope;
struct lapi_conf;
struct p0f_db;
struct pipeline;
struct ring_buffer;

struct session {
	const struct common_opts *co;
	struct p0f_db *p0f;
	struct asndb *asn; /* NULL without --asn-db */
	FILE *log;	   /* --log, or NULL */
	struct collector *coll;
	struct hydrascope *skel;
	struct ring_buffer *rb;
	struct pipeline *pl;
	struct lapi_conf *lapi;	       /* --crowdsec, or NULL */
	struct crowdsec_push *cs_push; /* --crowdsec-push/-export, or NULL */
};

/* Where the pipeline's records go besides the log. */
struct session_records {
	FILE *out; /* NULL: the log only */
	enum out_format fmt;
	const char *iface; /* live; NULL in replay (packet time) */
	bool adopt;	   /* take over the blocks the maps hold (run) */
};

/* p0f databases, network database, --log, the CrowdSec credentials and
 * import file. Returns 0, or 2 with the reason printed. */
int session_open_inputs(struct session *s, const struct common_opts *co);
/* Collector, load, --allow, ring buffer, pipeline, the CrowdSec
 * exporter. Returns 0, or 1 with the reason printed. */
int session_start(struct session *s, const struct session_records *r);
/* Drain the ring buffer, then a last round with every flow finished. */
void session_finish(struct session *s, uint64_t now_ns);
/* The flows/sources report and the counters. Returns 0 or -1. */
/* now_ns: the datapath time of the snapshot (monotonic live, the last
 * packet's in replay). */
int session_report(const struct session *s, FILE *out, enum out_format fmt,
		   bool flows, bool sources, uint64_t now_ns);
/* The end-of-run summary: clusters, decisions, what was given up. */
void session_summary(const struct session *s, FILE *out, enum out_format fmt,
		     uint64_t now_ns);
/* Reopen --log under its name (SIGHUP, after logrotate moved it); on
 * failure the old file is kept and a line says why. Returns 0 or -1. */
int session_reopen_log(struct session *s);
void session_close(struct session *s);

#endif
