// SPDX-License-Identifier: BSD-2-Clause
#include "decide/pipeline.h"
#include "lib/hstime.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "lib/addr.h"
#include "output/json_field.h"

#define VERIFY_EVERY 6 /* rounds between full reads of the maps */

static void on_indicator(void *ctx, const struct indicator *ind)
{
	struct pipeline *pl = ctx;

	record_indicator(&pl->out, ind);
	policy_on_indicator(pl->policy, ind);
	if (pl->tap.emit)
		pl->tap.emit(pl->tap.ctx, ind);
}

struct pipeline *pipeline_new(const struct pipeline_opts *o, char *err,
			      size_t errlen)
{
	struct pipeline *pl = calloc(1, sizeof(*pl));

	if (!pl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pl->out = o->out;
	pl->flows_fd = o->flows_fd;
	pl->sources_fd = o->sources_fd;
	pl->eval_ns = (uint64_t)o->cfg->eval_interval_s * HS_NS_PER_SEC;
	pl->verify_ns = VERIFY_EVERY * pl->eval_ns;
	pl->corr = corr_new(o->cfg, &o->env, o->max_flows, o->max_sources);
	pl->policy = policy_new(o->cfg);
	pl->enf = enforcer_new(&o->enforce);
	if (!pl->corr || !pl->policy || !pl->enf) {
		snprintf(err, errlen,
			 "out of memory for the correlator's tables");
		pipeline_free(pl);
		return NULL;
	}
	policy_set_allowlist(pl->policy, o->allowlist_fd);
	corr_set_ordered(pl->corr, o->ordered);
	if (o->adopt) {
		pl->adopt_pending = true;
		/* the maps may hold flows of the instance before us */
		corr_resync(pl->corr);
	}
	return pl;
}

void pipeline_free(struct pipeline *pl)
{
	if (!pl)
		return;
	corr_free(pl->corr);
	policy_free(pl->policy);
	enforcer_free(pl->enf);
	free(pl);
}

static void round_at(struct pipeline *pl, uint64_t now_ns, bool verify,
		     bool final)
{
	struct ind_sink sink = {on_indicator, pl};
	/* the process's own clock, not now_ns: replay runs on packet time */
	uint64_t t0 = hs_clock_ns(CLOCK_MONOTONIC);

	/* live, every round: an NTP step since the last one moves the
	 * records of this round with it */
	envelope_refresh(&pl->out.env);
	policy_check_allowlist(pl->policy);
	if (corr_sweep(pl->corr, pl->flows_fd, pl->sources_fd, now_ns, final))
		fprintf(stderr, "hydrascope: map sweep failed\n");
	corr_eval(pl->corr, now_ns, &sink);
	enforcer_reconcile(pl->enf, pl->policy, now_ns, verify);
	policy_flush(pl->policy, &pl->out);
	record_flush(&pl->out);
	hs_hist_observe(&pl->round_seconds, HS_HIST_ROUND_SECONDS,
			(double)(hs_clock_ns(CLOCK_MONOTONIC) - t0) / 1e9);
}

static bool start(struct pipeline *pl, uint64_t now_ns)
{
	if (pl->started)
		return false;
	pl->started = true;
	pl->next_eval_ns = now_ns + pl->eval_ns;
	pl->next_verify_ns = now_ns + pl->verify_ns;
	if (pl->adopt_pending) {
		enforcer_adopt(pl->enf, pl->policy, now_ns);
		pl->adopt_pending = false;
	}
	return true;
}

void pipeline_finish(struct pipeline *pl, uint64_t now_ns)
{
	start(pl, now_ns);
	round_at(pl, now_ns, true, true);
}

bool pipeline_due(const struct pipeline *pl, uint64_t now_ns)
{
	return pl->started && now_ns >= pl->next_eval_ns;
}

bool pipeline_step(struct pipeline *pl, uint64_t now_ns)
{
	bool verify;

	if (start(pl, now_ns) || now_ns < pl->next_eval_ns)
		return false;
	while (pl->next_eval_ns <= now_ns)
		pl->next_eval_ns += pl->eval_ns;
	verify = now_ns >= pl->next_verify_ns;
	if (verify)
		while (pl->next_verify_ns <= now_ns)
			pl->next_verify_ns += pl->verify_ns;
	round_at(pl, now_ns, verify, false);
	return true;
}

static uint64_t field_u64(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v)
		   ? (uint64_t)json_object_get_uint64(v)
		   : 0;
}

/* One remote record through the policy; *is_rule and the key say what to
 * look up afterwards. */
static enum remote_result remote_one(struct pipeline *pl, json_object *rec,
				     uint64_t now_ns, struct hs_lpm_key *k,
				     uint64_t *rule)
{
	const char *action = json_field_str(rec, "action");
	uint64_t wall = field_u64(rec, "expires_ns");
	/* expiry on this host's datapath clock */
	int64_t exp = (int64_t)wall - pl->out.env.wall_offset_ns;
	uint32_t ttl = (uint32_t)field_u64(rec, "ttl_s");
	struct cidr c;

	*rule = 0;
	if (!wall || exp <= (int64_t)now_ns)
		return REMOTE_EXPIRED;
	if (!strcmp(action, "block_prefix")) {
		if (cidr_parse(json_field_str(rec, "prefix"), &c))
			return REMOTE_EXPIRED;
		cidr_lpm_key(&c, k);
		return policy_remote_block(pl->policy, k, (uint64_t)exp, ttl,
					   now_ns);
	}
	if (!strcmp(action, "tuple_rule")) {
		/* the rule as the deciding host wrote it to its kernel: its
		 * key, what the key is, and the relay bounds */
		const char *id = json_field_str(rec, "rule_id");
		struct desired_rule want = {
		    .expires_ns = (uint64_t)exp,
		    .ttl_s = ttl,
		    .min_gap_us =
			(uint32_t)field_u64(rec, "tls_tcp_gap_min_us"),
		    .min_ack_hello_us =
			(uint32_t)field_u64(rec, "ack_hello_min_us"),
		    .low_ack_us = (uint32_t)field_u64(rec, "ack_hello_low_us"),
		    .lead_max_us = (uint32_t)field_u64(rec, "lead_max_us"),
		    .kind = strcmp(json_field_str(rec, "rule_on"), "tls_id")
				? HS_RULE_TUPLE
				: HS_RULE_TLS,
		};

		if (sscanf(*id ? id : json_field_str(rec, "tuple_id"),
			   "%" SCNx64, rule) != 1)
			return REMOTE_EXPIRED;
		return policy_remote_rule(pl->policy, *rule, &want, now_ns);
	}
	return REMOTE_EXPIRED; /* nothing this build can apply */
}

void pipeline_apply_remote(struct pipeline *pl, json_object **recs, size_t n,
			   uint64_t now_ns, enum remote_result *res)
{
	struct hs_lpm_key keys[PIPELINE_REMOTE_MAX];
	uint64_t rules[PIPELINE_REMOTE_MAX];
	bool changed = false;
	size_t i;

	if (n > PIPELINE_REMOTE_MAX)
		n = PIPELINE_REMOTE_MAX;
	for (i = 0; i < n; i++) {
		res[i] = remote_one(pl, recs[i], now_ns, &keys[i], &rules[i]);
		changed |= res[i] == REMOTE_APPLIED;
	}
	if (changed) /* a remote decision is enforced now, not next round */
		enforcer_reconcile(pl->enf, pl->policy, now_ns, false);
	for (i = 0; i < n; i++) {
		bool held = res[i] == REMOTE_APPLIED || res[i] == REMOTE_HELD;

		if (!held)
			continue;
		json_object_object_add(
		    recs[i], "applied",
		    json_object_new_boolean(
			rules[i] ? policy_rule_written(pl->policy, rules[i])
				 : policy_block_written(pl->policy, &keys[i])));
		json_object_object_add(
		    recs[i], "duplicate",
		    json_object_new_boolean(res[i] == REMOTE_HELD));
		record_decision(&pl->out, json_object_get(recs[i]));
	}
	record_flush(&pl->out);
}

void pipeline_lift_remote(struct pipeline *pl, const struct hs_lpm_key *keys,
			  size_t n, uint64_t now_ns, bool *lifted)
{
	bool changed = false;

	for (size_t i = 0; i < n; i++)
		changed |= lifted[i] = policy_lift_remote(pl->policy, &keys[i]);
	if (changed)
		enforcer_reconcile(pl->enf, pl->policy, now_ns, false);
}
