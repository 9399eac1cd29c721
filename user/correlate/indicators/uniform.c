// SPDX-License-Identifier: BSD-2-Clause
/*
 * uniform_requests: request sizes (client bytes per burst, from finished
 * flows) with a coefficient of variation of at most uniform_max_cv:
 *  - per source, over at least uniform_min_requests requests (score 0.4,
 *    informational: a health checker sends one request over and over);
 *  - per farm cluster, pooled over its members (templated prompts repeated
 *    at scale), which strengthens the farm record.
 */
#include "correlate/state.h"

bool eval_uniform_source(const struct corr *c, const struct hs_addr *a,
			 const struct src_state *s, uint32_t fired,
			 struct indicator *ind)
{
	const struct corr_config *cfg = &c->cfg;
	double cv = running_cv(&s->sizes);

	(void)a;
	(void)fired;
	if (s->sizes.n < cfg->uniform_min_requests || cv < 0 ||
	    cv > cfg->uniform_max_cv)
		return false;
	ind->score = 0.4;
	return true;
}

void explain_uniform_source(const struct corr *c, const struct src_state *s,
			    uint32_t fired, struct indicator *ind)
{
	(void)c;
	(void)fired;
	ind->evidence = evidence_new();
	json_set_u64(ind->evidence, "requests", (uint64_t)s->sizes.n);
	ev_dbl(ind->evidence, "size_mean", s->sizes.mean);
	ev_dbl(ind->evidence, "size_cv", running_cv(&s->sizes));
}

bool eval_uniform_cluster(const struct corr *c, const struct group *g,
			  struct indicator *ind)
{
	const struct corr_config *cfg = &c->cfg;
	double cv = running_cv(&g->sizes);

	if (!g->farm || g->size_members < cfg->cluster_min_sources || cv < 0 ||
	    cv > cfg->uniform_max_cv)
		return false;
	ind->score = clamp01(
	    0.5 +
	    0.5 * (1.0 - cv / (cfg->uniform_max_cv ? cfg->uniform_max_cv : 1)));
	ind->evidence = evidence_new();
	json_set_u64(ind->evidence, "sources_with_sizes", g->size_members);
	json_set_u64(ind->evidence, "requests", (uint64_t)g->sizes.n);
	ev_dbl(ind->evidence, "size_mean", g->sizes.mean);
	ev_dbl(ind->evidence, "size_cv", cv);
	return true;
}
