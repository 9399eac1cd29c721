// SPDX-License-Identifier: BSD-2-Clause
/*
 * The correlator's evaluation: per-source indicators over the sources
 * active in the window, then clusters (members grouped by cluster and
 * cadence band) with farm_cluster and, on farms, rotation, pivot and
 * uniform_requests. Every firing indicator reaches the sink on every
 * evaluation (the policy renews its decisions from them); a record is
 * "fresh" when it is new, lists new sources, is clearly stronger, or is
 * due for a repeat (reemit_s).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "correlate/state.h"
#include "hydrascope/tuple.h"
#include "lib/hstime.h"

struct raised {
	uint64_t last_emit_ns;
	double score;
};

struct corr *corr_new(const struct corr_config *cfg, const struct corr_env *env,
		      size_t max_flows, size_t max_sources)
{
	struct corr *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cfg = *cfg;
	c->env = *env;
	c->srcs = table_new(max_sources, sizeof(struct hs_addr),
			    sizeof(struct src_state), NULL);
	c->members = table_new(cfg->max_members, sizeof(struct member_key),
			       sizeof(struct member), NULL);
	c->clusters = table_new(cfg->max_clusters, sizeof(uint64_t),
				sizeof(struct cluster_state), NULL);
	c->shadows = table_new(max_flows, sizeof(struct hs_flow_key),
			       sizeof(struct flow_shadow), NULL);
	c->raised = table_new(max_sources + cfg->max_clusters, sizeof(uint64_t),
			      sizeof(struct raised), NULL);
	c->sigs = table_new(HS_DEFAULT_SIGS, sizeof(uint64_t),
			    sizeof(struct sig_info), NULL);
	if (!c->srcs || !c->members || !c->clusters || !c->shadows ||
	    !c->raised || !c->sigs) {
		corr_free(c);
		return NULL;
	}
	return c;
}

void corr_free(struct corr *c)
{
	if (!c)
		return;
	table_free(c->srcs);
	table_free(c->members);
	table_free(c->clusters);
	table_free(c->shadows);
	table_free(c->raised);
	table_free(c->sigs);
	free(c);
}

/* ---- expiry ------------------------------------------------------------ */

/* Entries idle since before the horizon (ctx) go. */
static bool src_stale(const void *k, const void *v, void *ctx)
{
	(void)k;
	return ((const struct src_state *)v)->last_ns < *(uint64_t *)ctx;
}

static bool member_stale(const void *k, const void *v, void *ctx)
{
	(void)k;
	return ((const struct member *)v)->last_ns < *(uint64_t *)ctx;
}

static bool cluster_stale(const void *k, const void *v, void *ctx)
{
	(void)k;
	return ((const struct cluster_state *)v)->last_ns < *(uint64_t *)ctx;
}

static bool raised_stale(const void *k, const void *v, void *ctx)
{
	(void)k;
	return ((const struct raised *)v)->last_emit_ns < *(uint64_t *)ctx;
}

static void expire_all(struct corr *c, uint64_t now)
{
	uint64_t keep =
	    2ull * c->cfg.window_s * HS_NS_PER_SEC + 60 * HS_NS_PER_SEC;
	uint64_t rkeep = keep > 2ull * c->cfg.reemit_s * HS_NS_PER_SEC
			     ? keep
			     : 2ull * c->cfg.reemit_s * HS_NS_PER_SEC;
	uint64_t horizon;

	if (now <= keep)
		return;
	horizon = now - keep;
	table_delete_if(c->srcs, src_stale, &horizon);
	table_delete_if(c->members, member_stale, &horizon);
	table_delete_if(c->clusters, cluster_stale, &horizon);
	if (now > rkeep) {
		horizon = now - rkeep;
		table_delete_if(c->raised, raised_stale, &horizon);
	}
}

/* ---- emission ---------------------------------------------------------- */

static uint64_t subject_hash(enum ind_kind kind, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = hs_mix64(0x72616973ull + kind);

	for (size_t i = 0; i < n; i++)
		h = hs_mix64(h ^ b[i]);
	return h;
}

/* Decide freshness, count it, hand the indicator to the sink. */
static void emit(struct corr *c, struct indicator *ind, uint64_t subject,
		 const struct ind_sink *sink)
{
	struct raised *r = table_get(c->raised, &subject);
	bool is_new = !r;

	if (!r)
		r = table_get_or_add(c->raised, &subject, NULL);
	/* new members refresh a farm record (they are new detections); the
	 * cluster annotations (rotation, pivot, uniform) repeat on time */
	ind->fresh =
	    is_new || !r || (ind->kind == IND_FARM_CLUSTER && ind->n_new) ||
	    ind->at_ns - r->last_emit_ns >= c->cfg.reemit_s * HS_NS_PER_SEC ||
	    ind->score >= r->score + 0.1;
	if (ind->cluster_id == 0 && ind->n_sources == 1)
		ind->n_new = is_new;
	if (ind->fresh) {
		c->st.raised[ind->kind]++;
		if (r) {
			r->last_emit_ns = ind->at_ns;
			r->score = ind->score;
		}
	}
	if (sink && sink->emit)
		sink->emit(sink->ctx, ind);
	json_object_put(ind->evidence);
	ind->evidence = NULL;
}

/* ---- per-source indicators ---------------------------------------------- */

static const struct {
	enum ind_kind kind;
	source_eval_fn fn;
} source_evals[] = {
    {IND_RELAY_RTT_GAP, eval_relay},
    {IND_STACK_MISMATCH, eval_stack},
    {IND_HOP_ANOMALY, eval_hop},
    {IND_ROBOTIC_CADENCE, eval_robotic},
    {IND_UNIFORM_REQUESTS, eval_uniform_source},
    {IND_RESIDENTIAL_PROXY, eval_residential},
};

static void eval_sources(struct corr *c, uint64_t now,
			 const struct ind_sink *sink)
{
	uint64_t since = now > c->cfg.window_s * HS_NS_PER_SEC
			     ? now - c->cfg.window_s * HS_NS_PER_SEC
			     : 0;
	size_t pos = 0, i;
	const void *k;
	void *v;

	while (table_next(c->srcs, &pos, &k, &v)) {
		const struct hs_addr *a = k;
		struct src_state *s = v;
		uint32_t fired = 0;

		if (s->last_ns < since) {
			s->fired = 0;
			continue;
		}
		if (c->env.asn && !s->asn_done) {
			asndb_lookup(c->env.asn, a, &s->asn);
			s->asn_done = true;
		}
		for (i = 0; i < sizeof(source_evals) / sizeof(source_evals[0]);
		     i++) {
			struct indicator ind = {
			    .kind = source_evals[i].kind,
			    .at_ns = now,
			    .first_ns = s->first_ns,
			    .last_ns = s->last_ns,
			    .sources = a,
			    .n_sources = 1,
			};

			if (!source_evals[i].fn(c, a, s, fired, &ind))
				continue;
			fired |= 1u << ind.kind;
			emit(c, &ind, subject_hash(ind.kind, a, sizeof(*a)),
			     sink);
		}
		s->fired = fired;
	}
}

/* ---- clusters ------------------------------------------------------------ */

static void group_free(void *v)
{
	struct group *g = v;

	free(g->addrs);
	free(g->mem);
	free(g->src);
}

static bool group_push(struct group *g, const struct hs_addr *a,
		       struct member *m, const struct src_state *s)
{
	if (g->n == g->cap) {
		size_t nc = g->cap ? g->cap * 2 : 16;
		struct hs_addr *na = realloc(g->addrs, nc * sizeof(*na));
		struct member **nm;
		const struct src_state **ns;

		if (!na)
			return false;
		g->addrs = na;
		nm = realloc(g->mem, nc * sizeof(*nm));
		if (!nm)
			return false;
		g->mem = nm;
		ns = realloc(g->src, nc * sizeof(*ns));
		if (!ns)
			return false;
		g->src = ns;
		g->cap = nc;
	}
	g->addrs[g->n] = *a;
	g->mem[g->n] = m;
	g->src[g->n] = s;
	g->n++;
	return true;
}

static bool member_shows(uint32_t hits, uint32_t measured, double min_share)
{
	return hits && (double)hits >= min_share * measured;
}

/* Fold one member into its group (current window) or count it as a
 * member of the previous window only. */
static void group_add(struct corr *c, struct group *g, const struct hs_addr *a,
		      struct member *m, const struct src_state *s, uint64_t now)
{
	const struct corr_config *cfg = &c->cfg;
	uint64_t cur = now > cfg->window_s * HS_NS_PER_SEC
			   ? now - cfg->window_s * HS_NS_PER_SEC
			   : 0;
	uint32_t volume = s->have_kernel ? s->k.flows : m->flows;

	if (m->first_ns < cur)
		g->prev_total++;
	if (m->last_ns < cur) {
		g->prev_only++;
		return;
	}
	if (volume > cfg->cluster_max_source_flows)
		return; /* not low-volume: a NAT, an office, a big customer */
	if (!group_push(g, a, m, s))
		return;
	g->fresh += m->first_ns >= cur;
	g->flows += m->flows;
	if (!g->first_ns || m->first_ns < g->first_ns)
		g->first_ns = m->first_ns;
	if (m->last_ns > g->last_ns)
		g->last_ns = m->last_ns;
	g->relay_measured += m->relay_measured > 0;
	g->relay_members += member_shows(m->relay_hits, m->relay_measured,
					 cfg->relay_min_share);
	g->stack_checked += m->stack_checked > 0;
	g->stack_members +=
	    member_shows(m->stack_hits, m->stack_checked, cfg->stack_min_share);
	if (m->sizes.n) {
		running_merge(&g->sizes, &m->sizes);
		g->size_members++;
	}
}

static int cmp_net(const void *x, const void *y)
{
	return memcmp(x, y, 16);
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return (a > b) - (a < b);
}

static int cmp_dbl(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/* Distinct prefixes and ASNs, and the median member span. */
static void group_spread(struct group *g)
{
	unsigned char(*net)[16] = malloc(g->n * 16 + 1);
	uint32_t *asn = malloc(g->n * sizeof(*asn) + 1);
	double *span = malloc(g->n * sizeof(*span) + 1);
	size_t i;

	g->prefixes = g->asns = 0;
	if (!net || !asn || !span)
		goto out;
	for (i = 0; i < g->n; i++) {
		bool v4 = addr_is_v4(&g->addrs[i]);

		/* /24 for IPv4, /48 for IPv6 */
		memcpy(net[i], g->addrs[i].b, 16);
		memset(net[i] + (v4 ? 15 : 6), 0, v4 ? 1 : 10);
		asn[i] = g->src[i]->asn.asn;
		span[i] = (double)(g->mem[i]->last_ns - g->mem[i]->first_ns) /
			  HS_NS_PER_SEC;
	}
	qsort(net, g->n, 16, cmp_net);
	qsort(asn, g->n, sizeof(*asn), cmp_u32);
	qsort(span, g->n, sizeof(*span), cmp_dbl);
	for (i = 0; i < g->n; i++) {
		g->prefixes += i == 0 || memcmp(net[i], net[i - 1], 16);
		g->asns += asn[i] && (i == 0 || asn[i] != asn[i - 1]);
	}
	g->span_median_s = g->n ? span[g->n / 2] : 0;
out:
	free(net);
	free(asn);
	free(span);
}

static struct table *build_groups(struct corr *c, uint64_t now)
{
	uint64_t since = now > 2ull * c->cfg.window_s * HS_NS_PER_SEC
			     ? now - 2ull * c->cfg.window_s * HS_NS_PER_SEC
			     : 0;
	struct table *groups =
	    table_new(table_len(c->clusters) * 2 + 16, sizeof(uint64_t),
		      sizeof(struct group), group_free);
	size_t pos = 0;
	const void *k;
	void *v;

	if (!groups)
		return NULL;
	while (table_next(c->members, &pos, &k, &v)) {
		const struct member_key *mk = k;
		struct member *m = v;
		const struct src_state *s;
		const struct cluster_state *cl;
		enum cadence_band band;
		struct group *g;
		uint64_t id;
		bool created;

		if (m->last_ns < since)
			continue;
		s = table_get(c->srcs, &mk->addr);
		cl = table_get(c->clusters, &mk->cluster);
		if (!s || !cl)
			continue;
		band =
		    s->have_kernel ? source_band(&c->cfg, &s->k) : BAND_SPARSE;
		id = hs_mix64(mk->cluster ^ (0x62616e64ull + band));
		g = table_get_or_add(groups, &id, &created);
		if (!g)
			continue;
		if (created) {
			g->id = id;
			g->cluster = mk->cluster;
			g->cl = cl;
			g->band = band;
		}
		group_add(c, g, &mk->addr, m, s, now);
	}
	pos = 0;
	while (table_next(groups, &pos, NULL, &v))
		group_spread(v);
	return groups;
}

/* Members not yet listed by a record of this kind come first. */
static size_t order_new_first(struct group *g, enum ind_kind kind)
{
	size_t i, j = 0;

	for (i = 0; i < g->n; i++) {
		if (g->mem[i]->reported & (1u << kind))
			continue;
		if (i != j) {
			struct hs_addr a = g->addrs[i];
			struct member *m = g->mem[i];
			const struct src_state *s = g->src[i];

			g->addrs[i] = g->addrs[j];
			g->mem[i] = g->mem[j];
			g->src[i] = g->src[j];
			g->addrs[j] = a;
			g->mem[j] = m;
			g->src[j] = s;
		}
		j++;
	}
	return j;
}

/* With relay (or mismatch) evidence only the members that show it are
 * listed; they move to the front and the count shrinks. */
static void keep_evidence_members(const struct corr *c, struct group *g)
{
	size_t i, j = 0;

	if (!g->relay && !g->mismatch)
		return;
	for (i = 0; i < g->n; i++) {
		const struct member *m = g->mem[i];
		bool shows =
		    (g->relay && member_shows(m->relay_hits, m->relay_measured,
					      c->cfg.relay_min_share)) ||
		    (g->mismatch &&
		     member_shows(m->stack_hits, m->stack_checked,
				  c->cfg.stack_min_share));

		if (!shows)
			continue;
		g->addrs[j] = g->addrs[i];
		g->mem[j] = g->mem[i];
		g->src[j] = g->src[i];
		j++;
	}
	g->n = j;
}

static void emit_group(struct corr *c, struct group *g, struct indicator *ind,
		       const struct ind_sink *sink)
{
	size_t i;

	ind->n_new = order_new_first(g, ind->kind);
	ind->sources = g->addrs;
	ind->n_sources = g->n;
	ind->first_ns = g->first_ns;
	ind->last_ns = g->last_ns;
	ind->cluster_id = g->id;
	ind->tuple_id = g->cl->tuple_id;
	ind->tls_id = g->cl->tls_id;
	ind->family = g->cl->family;
	ind->ja4 = g->cl->ja4;
	ind->band = g->band;
	emit(c, ind, subject_hash(ind->kind, &g->id, sizeof(g->id)), sink);
	if (!ind->fresh)
		return;
	for (i = 0; i < g->n; i++)
		g->mem[i]->reported |= 1u << ind->kind;
}

static void note_top(struct corr *c, const struct group *g)
{
	size_t k = sizeof(c->top) / sizeof(c->top[0]), i, at;
	struct cluster_view v = {
	    .cluster_id = g->id,
	    .tuple_id = g->cl->tuple_id,
	    .band = g->band,
	    .sources = g->n,
	    .prefixes = g->prefixes,
	    .farm = g->farm,
	    .score = g->farm_score,
	};

	snprintf(v.ja4, sizeof(v.ja4), "%s", g->cl->ja4);
	/* farms first, then by size */
	for (at = 0; at < c->n_top; at++)
		if ((v.farm && !c->top[at].farm) ||
		    (v.farm == c->top[at].farm &&
		     v.sources > c->top[at].sources))
			break;
	if (at >= k)
		return;
	if (c->n_top < k)
		c->n_top++;
	for (i = c->n_top - 1; i > at; i--)
		c->top[i] = c->top[i - 1];
	c->top[at] = v;
}

static void eval_groups(struct corr *c, uint64_t now,
			const struct ind_sink *sink)
{
	struct table *groups = build_groups(c, now);
	size_t pos = 0;
	void *v;

	c->n_top = 0;
	c->st.farm_clusters = 0;
	c->st.cluster_sources = 0;
	if (!groups)
		return;
	while (table_next(groups, &pos, NULL, &v)) {
		struct group *g = v;
		struct indicator ind = {.kind = IND_FARM_CLUSTER, .at_ns = now};

		if (g->n && eval_farm(c, g, &ind)) {
			size_t all = g->n;

			c->st.farm_clusters++;
			keep_evidence_members(c, g);
			json_set_u64(ind.evidence, "members_without_evidence",
				     all - g->n);
			emit_group(c, g, &ind, sink);
			ind = (struct indicator){.kind = IND_ROTATION,
						 .at_ns = now};
			if (eval_rotation(c, g, &ind))
				emit_group(c, g, &ind, sink);
			ind =
			    (struct indicator){.kind = IND_PIVOT, .at_ns = now};
			if (eval_pivot(c, g, now, &ind))
				emit_group(c, g, &ind, sink);
			ind = (struct indicator){.kind = IND_UNIFORM_REQUESTS,
						 .at_ns = now};
			if (eval_uniform_cluster(c, g, &ind))
				emit_group(c, g, &ind, sink);
		}
		c->st.cluster_sources += g->n;
		if (g->n)
			note_top(c, g);
	}
	table_free(groups);
}

void corr_eval(struct corr *c, uint64_t now_ns, const struct ind_sink *sink)
{
	c->st.evals++;
	expire_all(c, now_ns);
	eval_sources(c, now_ns, sink);
	eval_groups(c, now_ns, sink);
}

void corr_get_stats(const struct corr *c, struct corr_stats *s)
{
	*s = c->st;
	s->evictions = table_evictions(c->srcs) + table_evictions(c->members) +
		       table_evictions(c->clusters);
	s->sources = table_len(c->srcs);
	s->members = table_len(c->members);
	s->clusters = table_len(c->clusters);
	s->flows_tracked = table_len(c->shadows);
	s->relay_share = c->last_samples
			     ? (double)c->last_hits / c->last_samples
			 : c->win_samples ? (double)c->win_hits / c->win_samples
					  : 0;
}

size_t corr_top_clusters(const struct corr *c, struct cluster_view *out,
			 size_t k)
{
	size_t n = k < c->n_top ? k : c->n_top;

	memcpy(out, c->top, n * sizeof(*out));
	return n;
}
