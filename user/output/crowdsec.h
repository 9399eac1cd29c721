/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * This host's decisions in CrowdSec's form: pushed to a LAPI as alerts
 * that carry their decision (--crowdsec-push, as a watcher: login, then
 * POST /v1/alerts), and written as a file `cscli decisions import`
 * takes (--crowdsec-export FILE.csv).
 *
 * Only the prefix blocks the policy took are exported (tuple rules have
 * no CrowdSec scope), each as scope Ip (a /32 or /128) or Range, type
 * ban, origin "hydrascope", scenario "hydrascope/<indicator>", for the
 * time it has left. A renewal that extends a block is pushed again. In
 * dry-run the pushed alerts and decisions are "simulated" (CrowdSec's own
 * dry-run: listed, never sent to a bouncer) unless the operator asks for
 * bans (--crowdsec-dry-run-bans: hydrascope detects, CrowdSec's bouncers
 * block).
 *
 * The blocks in force are held in a bounded table (the policy's
 * max_blocks): the push takes the ones not yet pushed, a batch per call,
 * so a dead or slow LAPI costs the main loop one bounded request per
 * backoff period, and nothing is lost until a block expires or the table
 * is full (the oldest gives way, counted). The file is rewritten whole
 * (a new file renamed over it) with the time each block has left.
 */
#ifndef HS_USER_CROWDSEC_H
#define HS_USER_CROWDSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hydrascope/abi.h"
#include "lib/lapi.h"
#include "output/records.h"

#define CROWDSEC_PUSH_BATCH 64 /* alerts per POST /v1/alerts */
/* cscli decisions import's CSV: any of these columns, a header line */
#define CROWDSEC_CSV_HEADER "duration,origin,reason,scope,type,value\n"

struct crowdsec_push_opts {
	const struct lapi_conf *lapi; /* NULL: no push, the file only */
	bool simulated;		 /* dry-run without --crowdsec-dry-run-bans */
	const char *export_path; /* NULL: no file */
	const char *origin;	 /* this host and instance */
	size_t max_held;	 /* blocks held at most (max_blocks) */
};

/* Why a pushed or held block was given up. */
enum crowdsec_drop {
	CS_DROP_FULL = 0, /* the table was full: the oldest went */
	CS_DROP_EXPIRED,  /* it lapsed before the LAPI took it */
	CS_DROP_REJECTED, /* the LAPI refused the batch (4xx, or 5xx thrice) */
	CS_DROP_COUNT,
};

struct crowdsec_push_stats {
	bool up; /* the last request got a 2xx */
	uint64_t requests, logins;
	uint64_t failures[LAPI_F_COUNT];
	uint64_t pushed; /* alerts the LAPI took */
	uint64_t dropped[CS_DROP_COUNT];
	size_t pending, held;
	uint64_t exports, export_failures; /* files written, not written */
};

/* One block in CrowdSec's terms (the alert builder's input). */
struct crowdsec_block {
	struct hs_lpm_key k;
	const char *reason; /* the indicator kind */
	double score;
	uint64_t since_ns, expires_ns; /* the records' clock */
};

struct crowdsec_push;

struct crowdsec_push *crowdsec_push_new(const struct crowdsec_push_opts *o);
void crowdsec_push_free(struct crowdsec_push *c);
/* The records' sink: this host's decision records come in here. */
struct record_sink crowdsec_push_sink(struct crowdsec_push *c);
/* Push a batch if one is waiting and no backoff runs. now_ns:
 * CLOCK_MONOTONIC (the backoff); rec_now_ns: now on the records' clock
 * (wall clock live, the capture's in replay): what a block has left. */
void crowdsec_push_poll(struct crowdsec_push *c, uint64_t now_ns,
			uint64_t rec_now_ns);
/* At the end: push until nothing waits, a request fails, or the table
 * was gone through once. */
void crowdsec_push_flush(struct crowdsec_push *c, uint64_t rec_now_ns);
/* Rewrite the import file (if any). 0 or -1 (counted). */
int crowdsec_push_export(struct crowdsec_push *c, uint64_t rec_now_ns);
void crowdsec_push_get_stats(const struct crowdsec_push *c,
			     struct crowdsec_push_stats *s);

/* Pure parts, for the tests. The alert POST /v1/alerts takes for b:
 * stop_at is wall_now_ns (the LAPI counts the duration from it). NULL
 * when the block has under a second left. */
struct json_object *crowdsec_alert(const struct crowdsec_block *b,
				   uint64_t rec_now_ns, uint64_t wall_now_ns,
				   bool simulated, const char *origin);
/* Scope ("Ip" or "Range") and value of a block key. */
void crowdsec_scope_value(const struct hs_lpm_key *k, const char **scope,
			  char *value, size_t cap);

#endif
