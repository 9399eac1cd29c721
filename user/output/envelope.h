/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The envelope every JSON record carries, so that a log shipped off the
 * host still says when, where and in which layout it was written:
 * "timestamp" (RFC 3339, UTC, microseconds), "host", "iface" (null in
 * replay) and "schema" (deploy/schema/). Also the one place that turns
 * datapath time into wall clock: live, the datapath clock is
 * CLOCK_MONOTONIC and the offset to CLOCK_REALTIME is taken again every
 * round, so an NTP step moves later records with it instead of skewing
 * them all; in replay the datapath runs on packet time, which already is
 * wall clock (the capture's).
 */
#ifndef HS_USER_OUTPUT_ENVELOPE_H
#define HS_USER_OUTPUT_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/* Bump when a field changes meaning or goes away (adding one does not). */
#define HS_RECORD_SCHEMA 1

struct envelope {
	const char *iface;	/* NULL in replay: "iface": null */
	bool live;		/* datapath time is CLOCK_MONOTONIC */
	int64_t wall_offset_ns; /* datapath time + this = wall clock */
};

/* Live: take the monotonic -> wall offset again (every round). */
void envelope_refresh(struct envelope *e);
/* Wall-clock ns of a datapath time. */
uint64_t envelope_wall(const struct envelope *e, uint64_t datapath_ns);
/* Wall-clock ns of "now" on the record's clock: the system's live, the
 * given capture time in replay (0 there: unknown yet, the system's). */
uint64_t envelope_now(const struct envelope *e, uint64_t replay_now_ns);
/* timestamp, host, iface, schema; wall_ns is the time the record speaks
 * for. */
void envelope_add(struct json_object *r, const struct envelope *e,
		  uint64_t wall_ns);
/* key: the RFC 3339 form of wall_ns, beside an integer *_ns field (jq 1.6
 * and most SIEMs round integers past 2^53). */
void envelope_time(struct json_object *r, const char *key, uint64_t wall_ns);
/* "2026-03-02T09:00:01.123456Z" */
void time_rfc3339(uint64_t wall_ns, char *buf, size_t cap);
/* For people: local time, "2026-03-02 10:00:01.123 CET". */
void time_local(uint64_t wall_ns, char *buf, size_t cap);
/* gethostname(), taken once. */
const char *envelope_host(void);

#endif
