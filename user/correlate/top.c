// SPDX-License-Identifier: BSD-2-Clause
/*
 * The largest clusters of an evaluation, farms first, then by size: a
 * bounded list that the metrics label by short id and the status page
 * shows with the members seen last and the endpoints used most. Copied
 * out of the groups while they exist (they are freed after each
 * evaluation), so that readers never walk the correlator's tables.
 */
#include <stdio.h>
#include <string.h>

#include "correlate/state.h"
#include "lib/hstime.h"
#include "lib/topk.h"

/* The members seen last (their latest flow). */
static void top_members(const struct corr *c, const struct group *g,
			struct cluster_detail *d)
{
	uint64_t last[CLUSTER_DETAIL_MEMBERS];
	size_t idx[CLUSTER_DETAIL_MEMBERS], n = 0, i, *slot;

	for (i = 0; i < g->n; i++) {
		slot = topk_slot(idx, last, &n, CLUSTER_DETAIL_MEMBERS,
				 sizeof(idx[0]), g->mem[i]->last_ns);
		if (slot)
			*slot = i;
	}
	for (i = 0; i < n; i++) {
		const struct member *m = g->mem[idx[i]];
		const struct src_state *s = g->src[idx[i]];
		struct cluster_member_view *mv = &d->members[i];

		*mv = (struct cluster_member_view){
		    .addr = g->addrs[idx[i]],
		    .flows = m->flows,
		    .detour_us = detour_median(s),
		    .relayed = member_relayed(&c->cfg, m),
		};
		if (s->have_sig)
			snprintf(mv->tcp_sig, sizeof(mv->tcp_sig), "%s",
				 corr_str(c, s->tcp_sig));
	}
	d->n_members = n;
}

/* The endpoints (SNI, else server:port) the cluster's flows used most in
 * the current and the previous window, relayed and direct flows
 * together. */
static void top_endpoints(const struct corr *c, const struct cluster_state *cl,
			  uint64_t now, struct cluster_detail *d)
{
	const struct endpoint_window *ws[] = {&cl->win[0], &cl->win[1],
					      &cl->rwin[0], &cl->rwin[1]};
	uint64_t cur = now / ((uint64_t)c->cfg.window_s * HS_NS_PER_SEC);
	struct ep_count {
		uint64_t h;
		uint32_t n;
		const char *name;
	} all[4 * PIVOT_ENDPOINTS];
	uint64_t rank[CLUSTER_DETAIL_ENDPOINTS];
	size_t n = 0, w, i, j;

	for (w = 0; w < 4; w++) {
		if (!ws[w]->flows || ws[w]->idx + 1 < cur)
			continue;
		for (i = 0; i < PIVOT_ENDPOINTS; i++) {
			if (!ws[w]->ep[i].n)
				continue;
			for (j = 0; j < n && all[j].h != ws[w]->ep[i].h; j++)
				;
			if (j == n)
				all[n++] = (struct ep_count){ws[w]->ep[i].h, 0,
							     ws[w]->ep[i].name};
			all[j].n += ws[w]->ep[i].n;
		}
	}
	for (j = 0; j < n; j++) {
		struct cluster_endpoint_view *e =
		    topk_slot(d->endpoints, rank, &d->n_endpoints,
			      CLUSTER_DETAIL_ENDPOINTS, sizeof(*e), all[j].n);

		if (!e)
			continue;
		snprintf(e->name, sizeof(e->name), "%s", all[j].name);
		e->flows = all[j].n;
	}
}

void corr_note_top(struct corr *c, const struct group *g, uint64_t now_ns)
{
	size_t k = sizeof(c->top) / sizeof(c->top[0]), i, at;
	bool farm = g->farm;
	struct cluster_detail *d;

	/* farms first, then by size */
	for (at = 0; at < c->n_top; at++)
		if ((farm && !c->top[at].v.farm) ||
		    (farm == c->top[at].v.farm && g->n > c->top[at].v.sources))
			break;
	if (at >= k)
		return;
	if (c->n_top < k)
		c->n_top++;
	for (i = c->n_top - 1; i > at; i--)
		c->top[i] = c->top[i - 1];
	d = &c->top[at];
	memset(d, 0, sizeof(*d));
	d->v = (struct cluster_view){
	    .cluster_id = g->id,
	    .tuple_id = g->n_tuples ? g->tuples[0] : g->cl->tuple_id,
	    .band = g->band,
	    .sources = g->n,
	    .prefixes = g->prefixes,
	    .farm = farm,
	    .score = g->farm_score,
	};
	snprintf(d->v.ja4, sizeof(d->v.ja4), "%s", g->cl->ja4);
	top_members(c, g, d);
	top_endpoints(c, g->cl, now_ns, d);
}

size_t corr_top_clusters(const struct corr *c, struct cluster_view *out,
			 size_t k)
{
	size_t n = k < c->n_top ? k : c->n_top;

	for (size_t i = 0; i < n; i++)
		out[i] = c->top[i].v;
	return n;
}

size_t corr_top_details(const struct corr *c, struct cluster_detail *out,
			size_t k)
{
	size_t n = k < c->n_top ? k : c->n_top;

	memcpy(out, c->top, n * sizeof(*out));
	return n;
}
