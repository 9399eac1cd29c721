// SPDX-License-Identifier: BSD-2-Clause
/*
 * pivot: a farm cluster sharply shifts its endpoint mix (SNI, else server
 * address and port) from one window to the next, as a campaign does when
 * it redirects to a newly released model. Total variation distance of the
 * two mixes (top PIVOT_ENDPOINTS endpoints plus "other") of at least
 * pivot_min_shift, with pivot_min_flows flows in each window. A relayed
 * farm is judged on its cluster's relayed flows only.
 */
#include <math.h>
#include <string.h>

#include "correlate/state.h"
#include "lib/hstime.h"

static const struct endpoint_window *window_at(const struct group *g,
					       uint64_t idx)
{
	const struct endpoint_window *w = g->kind == GROUP_RELAY
					      ? &g->cl->rwin[idx & 1]
					      : &g->cl->win[idx & 1];

	return w->idx == idx && w->flows ? w : NULL;
}

static uint32_t count_of(const struct endpoint_window *w, uint64_t h)
{
	for (int i = 0; i < PIVOT_ENDPOINTS; i++)
		if (w->ep[i].n && w->ep[i].h == h)
			return w->ep[i].n;
	return 0;
}

static double tvd(const struct endpoint_window *a,
		  const struct endpoint_window *b)
{
	double d = 0;
	int i;

	/* endpoints of a (and those of b that a lacks), then "other" */
	for (i = 0; i < PIVOT_ENDPOINTS; i++)
		if (a->ep[i].n)
			d += fabs((double)a->ep[i].n / a->flows -
				  (double)count_of(b, a->ep[i].h) / b->flows);
	for (i = 0; i < PIVOT_ENDPOINTS; i++)
		if (b->ep[i].n && !count_of(a, b->ep[i].h))
			d += (double)b->ep[i].n / b->flows;
	d += fabs((double)a->other / a->flows - (double)b->other / b->flows);
	return d / 2;
}

static json_object *mix_json(const struct endpoint_window *w)
{
	json_object *o = json_object_new_object();

	for (int i = 0; i < PIVOT_ENDPOINTS; i++)
		if (w->ep[i].n)
			ev_dbl(o, w->ep[i].name, (double)w->ep[i].n / w->flows);
	if (w->other)
		ev_dbl(o, "(other)", (double)w->other / w->flows);
	return o;
}

bool eval_pivot(const struct corr *c, const struct group *g, uint64_t now_ns,
		struct indicator *ind)
{
	const struct corr_config *cfg = &c->cfg;
	uint64_t idx = now_ns / (cfg->window_s * HS_NS_PER_SEC);
	const struct endpoint_window *cur, *prev;
	double shift;

	if (!g->farm || !idx)
		return false;
	cur = window_at(g, idx);
	prev = window_at(g, idx - 1);
	if (!cur || !prev || cur->flows < cfg->pivot_min_flows ||
	    prev->flows < cfg->pivot_min_flows)
		return false;
	shift = tvd(prev, cur);
	if (shift < cfg->pivot_min_shift)
		return false;
	ind->score = clamp01(shift);
	ind->relay = g->relay;
	ind->evidence = evidence_new();
	ev_dbl(ind->evidence, "shift", shift);
	json_object_object_add(ind->evidence, "from", mix_json(prev));
	json_object_object_add(ind->evidence, "to", mix_json(cur));
	json_set_u64(ind->evidence, "flows_before", prev->flows);
	json_set_u64(ind->evidence, "flows_now", cur->flows);
	return true;
}
