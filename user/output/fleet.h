/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fleet transport (--fleet redis://...): what one ingress host shares
 * with the others through Redis, beside the single-host code.
 *  - producer of observations: the correlator's slice of each cluster,
 *    per wall-clock window, into HyperLogLogs (distinct sources, /24s,
 *    members with evidence, hosts) and a capped list of member samples;
 *  - consumer of observations: the fleet's distinct counts (PFCOUNT) for
 *    the clusters this host scores;
 *  - producer of decisions: this host's decision records, appended to a
 *    Redis Stream (XADD MAXLEN ~);
 *  - consumer of decisions: the stream, through a consumer group of this
 *    host's own (resumes after a restart, re-reads what it had not
 *    acknowledged), handed to the pipeline, acknowledged once applied.
 * Key names and TTLs are in the README ("Fleet"). The main loop calls
 * fleet_poll; every Redis call has a short timeout, a failure drops the
 * connection and retries with a backoff, so the host keeps working alone.
 * Outgoing decisions wait in a bounded queue (the oldest are dropped and
 * counted); observations are simply made again by the next round.
 */
#ifndef HS_USER_FLEET_H
#define HS_USER_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "correlate/correlate.h"
#include "output/records.h"

#define FLEET_OUTBOX 4096	  /* decision records waiting for Redis */
#define FLEET_STREAM_MAXLEN 10000 /* entries the stream keeps (~) */
#define FLEET_SAMPLES 32	  /* member samples kept per cluster, window */
#define FLEET_READ_BATCH 128	  /* stream entries read per call */

struct fleet_url {
	char host[256];
	unsigned port;
	char user[128], pass[256]; /* empty: no AUTH / password only */
	unsigned db;
};

/* redis://[USER:PASS@]HOST:PORT[/DB] (HOST may be [v6]; PORT defaults to
 * 6379). Returns 0, or -1 with a one-line reason. */
int fleet_parse_url(const char *url, struct fleet_url *u, char *err,
		    size_t errlen);

struct fleet_opts {
	const char *url;
	const char *origin; /* this host and instance: "host/instance" */
	unsigned window_s;  /* the correlator's window */
	size_t max_members; /* published (cluster, source) pairs remembered */
};

/* What the pipeline made of a remote decision (the fleet counts them). */
enum fleet_outcome {
	FLEET_APPLIED = 0,
	FLEET_HELD,    /* this host held it already */
	FLEET_REFUSED, /* allowlist or cap */
	FLEET_EXPIRED, /* lapsed, or nothing this build applies */
};

struct fleet_stats {
	bool connected;
	uint64_t connects, failures; /* failures: connect, I/O, timeouts */
	uint64_t published;	     /* decisions appended to the stream */
	uint64_t publish_dropped;    /* pushed out of a full outbox */
	size_t outbox;		     /* waiting now */
	uint64_t received;	     /* stream entries read */
	uint64_t own;		     /* ... this host's own */
	uint64_t redelivered;	     /* ... already applied (same id) */
	uint64_t outcome[4];	     /* by enum fleet_outcome */
	uint64_t observed;	     /* (cluster, source) pairs published */
	uint64_t views;		     /* fleet counts read back */
	uint64_t last_stream_ms;     /* time part of the last acked entry */
};

struct fleet;

struct fleet *fleet_new(const struct fleet_opts *o, char *err, size_t errlen);
void fleet_free(struct fleet *f);
/* The hooks the correlator and the records take. */
struct corr_fleet fleet_corr_hooks(struct fleet *f);
struct record_sink fleet_record_sink(struct fleet *f);

/* Remote decisions for the pipeline: out[i] says what became of recs[i]. */
struct json_object;
typedef void (*fleet_apply_fn)(void *ctx, struct json_object **recs, size_t n,
			       enum fleet_outcome *out);

/* Talk to Redis if due: connect (with backoff), publish the waiting
 * observations and decisions, read the fleet counts back, read the
 * stream and hand new decisions to apply. Bounded in time by the
 * timeouts. now_ns: CLOCK_MONOTONIC. */
void fleet_poll(struct fleet *f, uint64_t now_ns, fleet_apply_fn apply,
		void *ctx);
void fleet_get_stats(const struct fleet *f, struct fleet_stats *s);

#endif
