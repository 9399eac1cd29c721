// SPDX-License-Identifier: BSD-2-Clause
#include "decide/pipeline.h"
#include "lib/hstime.h"

#include <stdio.h>
#include <stdlib.h>

#define VERIFY_EVERY 6 /* rounds between full reads of the maps */

static void on_indicator(void *ctx, const struct indicator *ind)
{
	struct pipeline *pl = ctx;

	record_indicator(&pl->out, ind);
	policy_on_indicator(pl->policy, ind);
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
	if (o->adopt)
		pl->adopt_pending = true;
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
