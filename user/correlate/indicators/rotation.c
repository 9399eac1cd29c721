// SPDX-License-Identifier: BSD-2-Clause
/*
 * rotation: a farm cluster whose members churn. Of the members active in
 * the previous window at least rotation_min_churn have left, of the
 * current ones at least that share are new to the cluster, and a member
 * typically stays less than rotation_max_span_s: exit nodes used a few
 * times each, then replaced. Evaluated on farm clusters only (a popular
 * site's visitors come and go too).
 */
#include "correlate/state.h"

bool eval_rotation(const struct corr *c, const struct group *g,
		   struct indicator *ind)
{
	const struct corr_config *cfg = &c->cfg;
	double fresh, left, churn;

	if (!g->farm || g->prev_total < cfg->cluster_min_sources || !g->n)
		return false;
	fresh = (double)g->fresh / g->n;
	left = (double)g->prev_only / g->prev_total;
	churn = fresh < left ? fresh : left;
	if (churn < cfg->rotation_min_churn ||
	    g->span_median_s > cfg->rotation_max_span_s)
		return false;
	ind->score = clamp01(0.5 + 0.5 * churn);
	ind->relay = g->relay;
	ind->evidence = evidence_new();
	ev_dbl(ind->evidence, "new_share", fresh);
	ev_dbl(ind->evidence, "departed_share", left);
	json_set_u64(ind->evidence, "members", g->n);
	json_set_u64(ind->evidence, "previous_members", g->prev_total);
	ev_dbl(ind->evidence, "member_span_median_s", g->span_median_s);
	return true;
}
