/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Indicator, decision and note records: one JSON object per line (stable
 * field names, documented in the README) for the log and --format json,
 * one line for people otherwise. This is the single producer of records;
 * a consumer (another blocking layer, a fleet transport) reads the log.
 */
#ifndef HS_USER_RECORDS_H
#define HS_USER_RECORDS_H

#include <stdint.h>
#include <stdio.h>

#include "correlate/correlate.h"
#include "output/envelope.h"
#include "output/format.h"

struct json_object;

/* Text output groups the per-source records of one kind (and the prefix
 * blocks of one kind) from one round into a line ("relay_rtt_gap x24: a,
 * b, c, ..."); JSON keeps one record a line. */
struct text_group {
	char key[96];	 /* what the group holds; "" when empty */
	char head[160];	 /* the line up to the list */
	char alone[640]; /* the full line of the first, if it stays alone */
	char list[200];	 /* the first few items */
	unsigned n;
	double lo, hi; /* score range */
};

/* Where this host's own decisions go besides the log: a fleet transport
 * (output/fleet.c) publishes them to every other host, the CrowdSec
 * exporter (output/crowdsec.c) to a LAPI. A sink may add fields (the
 * fleet's id and origin) before the record is written, so that the log
 * and the fleet carry the same record. A record that already has an
 * origin came from another host or a LAPI and is not handed out again. */
struct record_sink {
	void (*decision)(void *ctx, struct json_object *d);
	void *ctx;
};

#define RECORD_SINKS 2 /* the fleet, CrowdSec */

struct record_out {
	FILE *out; /* report stream, or NULL */
	enum out_format fmt;
	FILE *log;				 /* JSON-lines log, or NULL */
	struct envelope env;			 /* clock, host, interface */
	unsigned max_listed;			 /* sources per record */
	struct record_sink sinks[RECORD_SINKS];	 /* in the order added */
	uint64_t written;			 /* records written */
	struct text_group groups[IND_COUNT + 1]; /* by kind; + blocks */
};

/* Hand this host's decisions to s too. -1 when every slot is taken. */
int record_add_sink(struct record_out *o, struct record_sink s);
/* Only fresh indicators are written. */
void record_indicator(struct record_out *o, const struct indicator *ind);
/* Takes ownership of d. */
void record_decision(struct record_out *o, struct json_object *d);
/* at_ns: the datapath time it speaks for; 0: now. */
void record_note(struct record_out *o, const char *about, const char *text,
		 uint64_t at_ns);
/* Write out the pending text groups (at the end of each round). */
void record_flush(struct record_out *o);
/* Wall-clock nanoseconds of a datapath time. */
uint64_t record_wall(const struct record_out *o, uint64_t datapath_ns);

#endif
