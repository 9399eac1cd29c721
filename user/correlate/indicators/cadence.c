// SPDX-License-Identifier: BSD-2-Clause
/*
 * robotic_cadence: the coefficient of variation of the source's
 * inter-request intervals (a request is client payload after an idle gap;
 * the kernel keeps count, mean and variance) is at most robotic_max_cv
 * over at least robotic_min_bursts requests, and its upper confidence
 * bound is too (the level keeps the expected chance hits among all the
 * sources tested within alert_budget: among thousands of browsers, a few
 * show three or four evenly spaced clicks). Health checkers are robotic
 * too: this never blocks by itself.
 */
#include "correlate/state.h"

bool eval_robotic(const struct corr *c, const struct hs_addr *a,
		  const struct src_state *s, uint32_t fired,
		  struct indicator *ind)
{
	const struct corr_config *cfg = &c->cfg;
	double cv = source_cv(&s->k), ucb;

	(void)a;
	(void)fired;
	if (!s->have_kernel || s->k.bursts < cfg->robotic_min_bursts ||
	    cv < 0 || cv > cfg->robotic_max_cv)
		return false;
	ucb =
	    cv_upper(cv, s->k.bursts - 1, test_alpha(cfg, c->n_tested_sources));
	if (ucb > cfg->robotic_max_cv)
		return false;
	ind->score = cfg->robotic_max_cv > 0
			 ? clamp01(1.0 - 0.5 * cv / cfg->robotic_max_cv)
			 : 1;
	return true;
}

void explain_robotic(const struct corr *c, const struct src_state *s,
		     uint32_t fired, struct indicator *ind)
{
	double cv = source_cv(&s->k);

	(void)fired;
	ind->evidence = evidence_new();
	json_set_u64(ind->evidence, "requests", s->k.bursts);
	json_set_u64(ind->evidence, "interval_mean_us", s->k.ivl_mean_us);
	ev_dbl(ind->evidence, "interval_cv", cv);
	ev_dbl(ind->evidence, "interval_cv_upper",
	       cv_upper(cv, s->k.bursts - 1,
			test_alpha(&c->cfg, c->n_tested_sources)));
}
