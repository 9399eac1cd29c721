/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bouncer mode (run --crowdsec-pull): a CrowdSec LAPI's decisions into
 * the blocklist. Every --crowdsec-pull-interval seconds the main loop
 * asks GET /v1/decisions/stream (X-Api-Key): with startup=true at the
 * start and after any failure (every decision in force, and the ones
 * deleted or lapsed lately), then the changes since the last call.
 *
 * Each ban on an Ip or a Range goes through the policy as the fleet's
 * remote decisions do (pipeline_apply_remote): the local allowlist wins,
 * a prefix wider than block_v4_prefix / block_v6_prefix is refused, the
 * expiry is the decision's duration cut to ttl_max_s, max_blocks holds,
 * one already held as long is a duplicate; each is logged as a decision
 * record with origin "crowdsec/<its origin>". A deleted decision lifts
 * its block unless a local indicator stands behind it. hydrascope's own
 * decisions (pushed by output/crowdsec.c) come back through the stream
 * and are skipped while this host holds them on its own evidence.
 *
 * The LAPI is another host's input: the answer is capped (bytes, and
 * decisions a poll), each decision is validated (type ban, scope Ip or
 * Range, an address or prefix, a Go duration), and whatever is refused
 * or fails is counted by reason. A request is bounded by its timeout;
 * failures back off; the main loop never waits for the LAPI for long.
 */
#ifndef HS_USER_CROWDSEC_PULL_H
#define HS_USER_CROWDSEC_PULL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hydrascope/abi.h"
#include "lib/lapi.h"

#define CROWDSEC_PULL_MAX_BODY (8u << 20) /* bytes of one answer */
#define CROWDSEC_PULL_MAX 10000		  /* decisions a poll takes, per list */

/* What became of a decision read from the stream: one list, the enum and
 * the hydrascope_crowdsec_decisions_total{outcome} labels. */
#define CROWDSEC_OUTCOMES(X)                                                   \
	X(APPLIED, "applied")	    /* new or longer: to the blocklist */      \
	X(HELD, "held")		    /* held as long already, or sent again */  \
	X(OWN, "own")		    /* hydrascope's, held on local evidence */ \
	X(ALLOWLIST, "allowlist")   /* the local allowlist covers it */        \
	X(WIDE, "wide")		    /* wider than block_v4/v6_prefix */        \
	X(CAP, "cap")		    /* max_blocks reached */                   \
	X(EXPIRED, "expired")	    /* under a second left */                  \
	X(LIFTED, "lifted")	    /* deleted on the LAPI: the block went */  \
	X(NOT_LIFTED, "not_lifted") /* deleted: not held, or held locally */   \
	X(INVALID, "invalid")	/* a value or duration that does not parse */  \
	X(SCOPE, "scope")	/* neither Ip nor Range */                     \
	X(TYPE, "type")		/* not a ban (captcha, ...) */                 \
	X(OVER_CAP, "over_cap") /* past CROWDSEC_PULL_MAX in one answer */

enum crowdsec_outcome {
#define X(e, s) CS_##e,
	CROWDSEC_OUTCOMES(X)
#undef X
	    CS_OUTCOME_COUNT
};

const char *crowdsec_outcome_name(enum crowdsec_outcome o);

struct crowdsec_pull_stats {
	bool up; /* the last request was answered 200 */
	uint64_t requests, startups;
	uint64_t failures[LAPI_F_COUNT];
	uint64_t received; /* decisions read, new and deleted */
	uint64_t outcome[CS_OUTCOME_COUNT];
	uint64_t last_ok_ns; /* wall clock of the last answer taken */
};

/* One decision of the stream, validated. */
struct crowdsec_decision {
	int64_t id;
	struct hs_lpm_key k;
	int64_t duration_ns; /* what it has left; < 0 once lapsed */
	char origin[64], scenario[128];
};

struct crowdsec_pull;
struct pipeline;
struct json_object;

/* NULL when out of memory. */
struct crowdsec_pull *crowdsec_pull_new(const struct lapi_conf *lapi,
					unsigned interval_s);
void crowdsec_pull_free(struct crowdsec_pull *c);
/* Ask the LAPI if due and apply what it says. now_ns: CLOCK_MONOTONIC,
 * the datapath's clock live. */
void crowdsec_pull_poll(struct crowdsec_pull *c, struct pipeline *pl,
			uint64_t now_ns);
void crowdsec_pull_get_stats(const struct crowdsec_pull *c,
			     struct crowdsec_pull_stats *s);

/* Pure parts, for the tests. A Go duration ("1h2m3.5s", "-9.9ms",
 * "150µs") in ns: 0, or -1 when it is not one or does not fit. */
int crowdsec_parse_duration(const char *s, int64_t *ns);
/* A decision of the stream: true when it is one to act on, else why not
 * in *why (CS_INVALID, CS_SCOPE, CS_TYPE). */
bool crowdsec_decision_parse(struct json_object *o, struct crowdsec_decision *d,
			     enum crowdsec_outcome *why);
/* The remote decision record pipeline_apply_remote takes for d, at
 * wall_now_ns; NULL when it has under a second left. */
struct json_object *crowdsec_decision_record(const struct crowdsec_decision *d,
					     uint64_t wall_now_ns);

#endif
