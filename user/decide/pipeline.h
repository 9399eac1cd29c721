/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The userspace pipeline shared by run and replay: on the datapath clock,
 * every eval_interval_s, sweep the maps into the correlator, evaluate,
 * hand indicators to the records and the policy, reconcile the policy's
 * decisions into the datapath maps, then write the decision records.
 */
#ifndef HS_USER_PIPELINE_H
#define HS_USER_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "correlate/correlate.h"
#include "decide/enforce.h"
#include "decide/policy.h"
#include "lib/histogram.h"
#include "output/records.h"

struct pipeline_opts {
	const struct corr_config *cfg;
	struct corr_env env;
	size_t max_flows, max_sources;
	int flows_fd, sources_fd;
	struct enforce_fds enforce; /* the datapath's blocking maps */
	int allowlist_fd;
	struct record_out out;
	bool adopt;   /* take over blocks the maps already hold (run) */
	bool ordered; /* fold in time order (corr_set_ordered; replay) */
};

struct fleet;

struct pipeline {
	struct corr *corr;
	struct policy *policy;
	struct enforcer *enf;
	struct record_out out;
	int flows_fd, sources_fd;
	uint64_t next_eval_ns, next_verify_ns, eval_ns, verify_ns;
	struct hs_hist round_seconds; /* wall time each round took */
	struct fleet *fleet; /* the fleet transport (run --fleet), or NULL */
	/* sees every indicator of a round as well (run --metrics: the
	 * status page's history); emit == NULL: none */
	struct ind_sink tap;
	bool adopt_pending; /* adopt the maps' blocks at the first round */
	bool started;
};

/* NULL with a one-line reason in err. */
struct pipeline *pipeline_new(const struct pipeline_opts *o, char *err,
			      size_t errlen);
void pipeline_free(struct pipeline *pl);
/* Run a round if one is due at now_ns. Returns true when one ran. */
bool pipeline_step(struct pipeline *pl, uint64_t now_ns);
/* Whether pipeline_step(now_ns) would run a round (the first step only
 * starts the clock). */
bool pipeline_due(const struct pipeline *pl, uint64_t now_ns);
/* Decisions other hosts took (self-contained records from the fleet's
 * stream: action, prefix or tuple_id, expires_ns in wall-clock time, ttl_s)
 * go through the policy (allowlist, caps, idempotence) and, when any
 * changed the desired set, straight to the enforcer, without waiting for
 * the next round. Each is logged with "applied". Returns what the policy
 * said of each (results[i]); n at most PIPELINE_REMOTE_MAX. */
#define PIPELINE_REMOTE_MAX 256
struct json_object;
void pipeline_apply_remote(struct pipeline *pl, struct json_object **recs,
			   size_t n, uint64_t now_ns, enum remote_result *res);
/* Blocks a remote source withdrew (CrowdSec's deleted decisions): each
 * is lifted unless a local indicator stands behind it, and the datapath
 * follows at once. lifted[i] says which were. */
void pipeline_lift_remote(struct pipeline *pl, const struct hs_lpm_key *keys,
			  size_t n, uint64_t now_ns, bool *lifted);
/* A last round now, every flow counted as finished (end of a capture, or
 * of a run). */
void pipeline_finish(struct pipeline *pl, uint64_t now_ns);

#endif
