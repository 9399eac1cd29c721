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
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "correlate/state.h"
#include "hydrascope/tuple.h"
#include "lib/hstime.h"
#include "lib/radix.h"

struct raised {
	uint64_t last_emit_ns;
	double score;
};

/* A source's and a signature's references into c->strs go with them. */
static void src_release(void *ctx, void *v)
{
	struct corr *c = ctx;
	struct src_state *s = v;

	strpool_put(c->strs, s->tcp_sig);
	strpool_put(c->strs, s->asn.org);
	s->tcp_sig = s->asn.org = 0;
	s->serial = 0;
}

static void sig_release(void *ctx, void *v)
{
	struct corr *c = ctx;
	struct sig_info *si = v;

	strpool_put(c->strs, si->raw_id);
	si->raw_id = 0;
}

const char *corr_str(const struct corr *c, uint32_t id)
{
	const char *s = strpool_get(c->strs, id, NULL);

	return s ? s : "";
}

struct corr *corr_new(const struct corr_config *cfg, const struct corr_env *env,
		      size_t max_flows, size_t max_sources)
{
	struct corr *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cfg = *cfg;
	c->env = *env;
	c->max_flows = max_flows;
	c->max_sources = max_sources;
	c->srcs = table_new(max_sources, sizeof(struct hs_addr),
			    sizeof(struct src_state), NULL);
	c->members = table_new(cfg->max_members, sizeof(struct member_key),
			       sizeof(struct member), NULL);
	c->clusters = table_new(cfg->max_clusters, sizeof(uint64_t),
				sizeof(struct cluster_state), NULL);
	/* room for the flows the kernel holds and as many as half of them
	 * evicted since the last pass of the reconciliation walk: a shadow
	 * pushed out while its flow lives would fold it twice (watch.c) */
	c->shadows =
	    table_new(max_flows + max_flows / 2, sizeof(struct hs_flow_key),
		      sizeof(struct flow_shadow), NULL);
	c->raised = table_new(max_sources + cfg->max_clusters, sizeof(uint64_t),
			      sizeof(struct raised), NULL);
	c->sigs = table_new(HS_DEFAULT_SIGS, sizeof(uint64_t),
			    sizeof(struct sig_info), NULL);
	/* no budget: every string is held by a source or a signature, and
	 * those tables are bounded (a SYN signature prints in < 96 bytes, an
	 * AS name is cut at 47) */
	c->strs = strpool_new(SIZE_MAX);
	if (!c->srcs || !c->members || !c->clusters || !c->shadows ||
	    !c->raised || !c->sigs || !c->strs) {
		corr_free(c);
		return NULL;
	}
	table_set_evict_ctx(c->srcs, src_release, c);
	table_set_evict_ctx(c->sigs, sig_release, c);
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
	strpool_free(c->strs); /* after the tables that release into it */
	free(c->watch.keys);
	free(c->spare.keys);
	free(c->touched);
	free(c->slice);
	free(c);
}

void corr_set_fleet(struct corr *c, const struct corr_fleet *f)
{
	c->fleet = f ? *f : (struct corr_fleet){0};
}

void corr_set_ordered(struct corr *c, bool on)
{
	c->ordered = on;
}

/* ---- expiry ------------------------------------------------------------ */

/* Entries idle since before the horizon (ctx) go: one predicate per table,
 * each reading its own last-activity field. */
#define STALE_BEFORE(name, type, field)                                        \
	static bool name(const void *k, const void *v, void *ctx)              \
	{                                                                      \
		(void)k;                                                       \
		return ((const type *)v)->field < *(uint64_t *)ctx;            \
	}
STALE_BEFORE(member_stale, struct member, last_ns)
STALE_BEFORE(cluster_stale, struct cluster_state, last_ns)
STALE_BEFORE(raised_stale, struct raised, last_emit_ns)

/* Sources: the stale go, and the walk counts those active in the
 * current window (the multiple-testing denominator of eval_sources),
 * which a second walk of a quarter of a million sources cost otherwise. */
struct src_sweep {
	uint64_t horizon, since;
	size_t active;
};

static bool src_sweep_stale(const void *k, const void *v, void *ctx)
{
	const struct src_state *s = v;
	struct src_sweep *sw = ctx;

	(void)k;
	sw->active += s->last_ns >= sw->since;
	return s->last_ns < sw->horizon;
}

/* The start of the last n windows at now (0 before that much time). */
static uint64_t windows_back(const struct corr_config *cfg, uint64_t now,
			     unsigned n)
{
	uint64_t span = (uint64_t)n * cfg->window_s * HS_NS_PER_SEC;

	return now > span ? now - span : 0;
}

/* How long an entry stays without activity: two windows and a minute. */
static uint64_t keep_ns(const struct corr_config *cfg)
{
	return 2ull * cfg->window_s * HS_NS_PER_SEC + 60 * HS_NS_PER_SEC;
}

/* How long a record is remembered: that, or two repeat intervals. */
static uint64_t raised_keep_ns(const struct corr_config *cfg)
{
	uint64_t keep = keep_ns(cfg),
		 twice = 2ull * cfg->reemit_s * HS_NS_PER_SEC;

	return keep > twice ? keep : twice;
}

static void expire_all(struct corr *c, uint64_t now)
{
	uint64_t keep = keep_ns(&c->cfg), rkeep = raised_keep_ns(&c->cfg);
	struct src_sweep sw = {
	    .horizon = now > keep ? now - keep : 0,
	    .since = windows_back(&c->cfg, now, 1),
	};
	uint64_t horizon;

	table_delete_if(c->srcs, src_sweep_stale, &sw);
	c->n_tested_sources = sw.active;
	/* the other tables only every sixteenth of the retention: an entry
	 * outlives it by that much at most (the evaluation skips what is
	 * older than two windows anyway), and a walk of every member each
	 * round was a tenth of an idle round at a million flows */
	if (now <= keep || now < c->next_expire_ns)
		return;
	c->next_expire_ns = now + keep / 16;
	horizon = now - keep;
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

/* Does the indicator go out as a record (fresh): new, due for a repeat,
 * or stronger than its last record? New members refresh a farm record
 * (they are new detections); the cluster annotations (rotation, pivot,
 * uniform) repeat on time. Counted when it does. */
static bool fresh_record(struct corr *c, const struct indicator *ind,
			 bool is_new, uint64_t last_ns, double last_score)
{
	bool fresh = is_new || (ind->kind == IND_FARM_CLUSTER && ind->n_new) ||
		     ind->at_ns - last_ns >= c->cfg.reemit_s * HS_NS_PER_SEC ||
		     ind->score >= last_score + 0.1;

	c->st.raised[ind->kind] += fresh;
	return fresh;
}

/* Freshness of a cluster's indicator (c->raised by subject). */
static void judge(struct corr *c, struct indicator *ind, uint64_t subject)
{
	struct raised *r = table_get(c->raised, &subject);
	bool is_new = !r;

	if (!r)
		r = table_get_or_add(c->raised, &subject, NULL);
	ind->fresh = fresh_record(c, ind, is_new || !r, r ? r->last_emit_ns : 0,
				  r ? r->score : 0);
	if (ind->fresh && r) {
		r->last_emit_ns = ind->at_ns;
		r->score = ind->score;
	}
}

/* Freshness of the source's indicator of source kind i (its own record):
 * new when it has none, or none for raised_keep_ns (as a raised table
 * entry lapsed); a source that left the table and came back starts over. */
static void judge_source(struct corr *c, struct src_state *s, unsigned i,
			 struct indicator *ind)
{
	bool is_new = !(s->raised_on & 1u << i) ||
		      ind->at_ns - s->raised_ns[i] >= raised_keep_ns(&c->cfg);

	ind->n_new = is_new;
	ind->fresh =
	    fresh_record(c, ind, is_new, s->raised_ns[i], s->raised_score[i]);
	if (ind->fresh) {
		s->raised_on |= (uint8_t)(1u << i);
		s->raised_ns[i] = ind->at_ns;
		s->raised_score[i] = ind->score;
	}
}

/* A per-source indicator's evidence, left for later: what its explainer
 * needs, and the indicator it writes into. */
struct ind_explain {
	const struct corr *c;
	const struct src_state *s;
	uint32_t fired;
	source_explain_fn fn;
	struct indicator *ind;
};

json_object *ind_evidence(const struct indicator *ind)
{
	const struct ind_explain *e = ind->explain;

	if (!ind->evidence && e && e->ind == ind)
		e->fn(e->c, e->s, e->fired, e->ind);
	return ind->evidence;
}

/* Hand the indicator to the sink; its evidence goes with it. */
static void deliver(struct indicator *ind, const struct ind_sink *sink)
{
	if (sink && sink->emit)
		sink->emit(sink->ctx, ind);
	json_object_put(ind->evidence);
	ind->evidence = NULL;
}

static void emit(struct corr *c, struct indicator *ind, uint64_t subject,
		 const struct ind_sink *sink)
{
	judge(c, ind, subject);
	deliver(ind, sink);
}

/* ---- per-source indicators ---------------------------------------------- */

static const struct {
	enum ind_kind kind;
	source_eval_fn fn;
	source_explain_fn explain;
} source_evals[] = {
    {IND_RELAY_RTT_GAP, eval_relay, explain_relay},
    {IND_STACK_MISMATCH, eval_stack, explain_stack},
    {IND_HOP_ANOMALY, eval_hop, explain_hop},
    {IND_ROBOTIC_CADENCE, eval_robotic, explain_robotic},
    {IND_UNIFORM_REQUESTS, eval_uniform_source, explain_uniform_source},
    {IND_RESIDENTIAL_PROXY, eval_residential, explain_residential},
};
_Static_assert(sizeof(source_evals) / sizeof(source_evals[0]) == SOURCE_KINDS,
	       "a source kind without its raised slot");

static void eval_sources(struct corr *c, uint64_t now,
			 const struct ind_sink *sink)
{
	uint64_t since = windows_back(&c->cfg, now, 1);
	size_t pos = 0, i;
	const void *k;
	void *v;

	/* c->n_tested_sources: counted by expire_all's walk */
	while (table_next(c->srcs, &pos, &k, &v)) {
		const struct hs_addr *a = k;
		struct src_state *s = v;
		uint32_t fired = 0;

		if (s->last_ns < since) {
			s->fired = 0;
			continue;
		}
		if (c->env.asn && !s->asn_done) {
			struct asn_info ai;

			asndb_lookup(c->env.asn, a, &ai);
			s->asn.asn = ai.asn;
			s->asn.cls = (uint8_t)ai.cls;
			s->asn.org = strpool_intern(
			    c->strs, ai.org,
			    strnlen(ai.org, sizeof(ai.org) - 1), NULL);
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
			struct ind_explain ex = {c, s, fired,
						 source_evals[i].explain, &ind};

			if (!source_evals[i].fn(c, a, s, fired, &ind))
				continue;
			ind.explain = &ex;
			judge_source(c, s, (unsigned)i, &ind);
			fired |= 1u << ind.kind;
			deliver(&ind, sink);
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
	free(g->tuples);
	free(g->linked_addrs);
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

/* A member's share of its group's totals (cur: the current window's start). */
static void group_count(const struct corr_config *cfg, struct group *g,
			const struct member *m, uint64_t cur)
{
	g->fresh += m->first_ns >= cur;
	g->flows += m->flows;
	if (!g->first_ns || m->first_ns < g->first_ns)
		g->first_ns = m->first_ns;
	if (m->last_ns > g->last_ns)
		g->last_ns = m->last_ns;
	g->relay_measured += m->relay_measured > 0;
	g->relay_members += member_relayed(cfg, m);
	g->stack_checked += m->stack_checked > 0;
	g->stack_members +=
	    member_shows(m->stack_hits, m->stack_checked, cfg->stack_min_share);
	if (m->sizes.n) {
		running_merge(&g->sizes, &m->sizes);
		g->size_members++;
	}
}

/* Fold one member into its group (current window) or count it as a
 * member of the previous window only. */
static void group_add(struct corr *c, struct group *g, const struct hs_addr *a,
		      struct member *m, const struct src_state *s, uint64_t now)
{
	const struct corr_config *cfg = &c->cfg;
	uint64_t cur = windows_back(cfg, now, 1);
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
	group_count(cfg, g, m, cur);
}

/* Every direct member of the cluster active in the current window,
 * whatever its volume: what linking may pull into a relayed farm, and the
 * denominator of the cluster's relay test. */
static void cands_add(struct corr *c, struct group *g, const struct hs_addr *a,
		      struct member *m, const struct src_state *s, uint64_t now)
{
	uint64_t cur = windows_back(&c->cfg, now, 1);

	if (m->last_ns < cur)
		return;
	g->peers_measured += m->relay_measured > 0;
	group_push(g, a, m, s);
}

static int cmp_dbl(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

struct tuple_count {
	uint64_t id;
	size_t n;
};

static int cmp_count_desc(const void *x, const void *y)
{
	const struct tuple_count *a = x, *b = y;

	return (a->n < b->n) - (a->n > b->n);
}

/* A relay group's exit stacks and kernel tuple ids (commonest first). */
static void group_stacks(struct group *g)
{
	uint64_t *syn = malloc(g->n * sizeof(*syn) + 1);
	struct tuple_count *tc = calloc(g->n + 1, sizeof(*tc));
	uint64_t *tid = malloc(g->n * sizeof(*tid) + 1);
	size_t i, k = 0;

	g->stacks = g->n_tuples = 0;
	if (!syn || !tc || !tid)
		goto out;
	for (i = 0; i < g->n; i++) {
		syn[i] = g->mem[i]->syn_class;
		tid[i] = g->mem[i]->tuple_id;
	}
	if (!radix_sort_u64(syn, g->n) || !radix_sort_u64(tid, g->n))
		goto out;
	g->stacks = radix_distinct_nonzero(syn, g->n);
	for (i = 0; i < g->n; i++) {
		if (!tid[i])
			continue;
		if (k && tc[k - 1].id == tid[i])
			tc[k - 1].n++;
		else
			tc[k++] = (struct tuple_count){tid[i], 1};
	}
	qsort(tc, k, sizeof(*tc), cmp_count_desc);
	free(g->tuples);
	g->tuples = malloc(k * sizeof(*g->tuples) + 1);
	if (!g->tuples)
		goto out;
	for (i = 0; i < k; i++)
		g->tuples[i] = tc[i].id;
	g->n_tuples = k;
out:
	free(syn);
	free(tc);
	free(tid);
}

/* A member's network as a sortable key: the /24 of an IPv4 address, the
 * /48 of an IPv6 one (tagged apart), never 0. */
static uint64_t net_key(const struct hs_addr *a)
{
	uint64_t k = 0;
	int i;

	if (addr_is_v4(a))
		return 1ull << 32 | (uint64_t)a->b[12] << 16 |
		       (uint64_t)a->b[13] << 8 | a->b[14];
	for (i = 0; i < 6; i++)
		k = k << 8 | a->b[i];
	return 1ull << 63 | k;
}

/* Distinct prefixes and ASNs, and the median member span. */
static void group_spread(struct group *g)
{
	uint64_t *net = malloc(g->n * sizeof(*net) + 1);
	uint64_t *asn = malloc(g->n * sizeof(*asn) + 1);
	uint64_t *span = malloc(g->n * sizeof(*span) + 1);
	size_t i;

	g->prefixes = g->asns = 0;
	if (!net || !asn || !span)
		goto out;
	for (i = 0; i < g->n; i++) {
		net[i] = net_key(&g->addrs[i]);
		asn[i] = g->src[i]->asn.asn;
		span[i] = g->mem[i]->last_ns - g->mem[i]->first_ns;
	}
	if (!radix_sort_u64(net, g->n) || !radix_sort_u64(asn, g->n) ||
	    !radix_sort_u64(span, g->n))
		goto out;
	g->prefixes = radix_distinct_nonzero(net, g->n);
	g->asns = radix_distinct_nonzero(asn, g->n);
	g->span_median_s = g->n ? (double)span[g->n / 2] / HS_NS_PER_SEC : 0;
out:
	free(net);
	free(asn);
	free(span);
}

static uint64_t group_id(uint64_t cluster, enum group_kind kind,
			 uint64_t syn_class, enum cadence_band band)
{
	switch (kind) {
	case GROUP_RELAY: return hs_mix64(cluster ^ 0x72656c6179ull);
	case GROUP_CANDS: return hs_mix64(cluster ^ 0x63616e6473ull);
	default:
		return hs_mix64(hs_mix64(cluster ^ syn_class) ^
				(0x62616e64ull + band));
	}
}

static struct group *group_at(struct table *groups, uint64_t cluster,
			      const struct cluster_state *cl,
			      enum group_kind kind, uint64_t syn_class,
			      enum cadence_band band)
{
	uint64_t id = group_id(cluster, kind, syn_class, band);
	bool created;
	struct group *g = table_get_or_add(groups, &id, &created);

	if (g && created) {
		g->id = id;
		g->cluster = cluster;
		g->cl = cl;
		g->kind = kind;
		g->syn_class = syn_class;
		g->band = band;
	}
	return g;
}

/* A member's source: its link while the source's serial matches (the
 * entry was neither dropped nor reused since), else by its address. */
static const struct src_state *
member_src(struct corr *c, const struct member_key *mk, const struct member *m)
{
	if (m->src && m->src_serial && m->src->serial == m->src_serial)
		return m->src;
	return table_get(c->srcs, &mk->addr);
}

/* What build_groups found last, by key: a member's cluster and groups are
 * found by the tables' keyed hash otherwise, two to four times per member,
 * and a few clusters hold most members. A miss (or a collision a sender
 * arranged) only costs the table lookup. */
#define MEMO_SETS 32 /* of two: a member's two groups may share a set */
struct memo {
	uint64_t key[MEMO_SETS][2];
	void *val[MEMO_SETS][2];
};

/* The value slot of key, the latest used first in its set; on a miss
 * the older of the set is replaced and *hit is false. */
static void **memo_slot(struct memo *mo, uint64_t key, bool *hit)
{
	size_t i = (size_t)(key ^ key >> 29) & (MEMO_SETS - 1);
	uint64_t *k = mo->key[i];
	void **v = mo->val[i], *older = v[0];

	*hit = v[0] && k[0] == key;
	if (*hit)
		return &v[0];
	*hit = v[1] && k[1] == key;
	/* the way that matched (or an empty one) comes first */
	k[1] = k[0];
	k[0] = key;
	v[0] = *hit ? v[1] : NULL;
	v[1] = older;
	return &v[0];
}

static const struct cluster_state *memo_cluster(struct corr *c, struct memo *mo,
						uint64_t cluster)
{
	bool hit;
	void **v = memo_slot(mo, cluster, &hit);

	if (!hit)
		*v = table_get(c->clusters, &cluster);
	return *v;
}

static struct group *memo_group(struct table *groups, struct memo *mo,
				uint64_t cluster,
				const struct cluster_state *cl,
				enum group_kind kind, uint64_t syn_class,
				enum cadence_band band)
{
	bool hit;
	void **v =
	    memo_slot(mo, group_id(cluster, kind, syn_class, band), &hit);

	if (!hit)
		*v = group_at(groups, cluster, cl, kind, syn_class, band);
	return *v;
}

/* Members with the relay signal form one group per cluster, whatever
 * their SYN stack and cadence (exits of every OS, most used once, so no
 * band to speak of); the other members are grouped by cluster, SYN class
 * and cadence band as before, and all of them are linking candidates. */
static struct table *build_groups(struct corr *c, uint64_t now)
{
	uint64_t since = windows_back(&c->cfg, now, 2);
	uint64_t cur = windows_back(&c->cfg, now, 1);
	struct memo clusters = {0}, memo = {0};
	struct table *groups;
	size_t pos = 0;
	const void *k;
	void *v;

	/* a bounded table evicts when full, and a big cluster would lose
	 * members half-way through the build: room for the most groups the
	 * members can make (two each), which costs only the probe array until
	 * groups are made (entries are allocated as they fill) */
	groups = table_new(2 * table_len(c->members) + 16, sizeof(uint64_t),
			   sizeof(struct group), group_free);
	if (!groups)
		return NULL;
	while (table_next(c->members, &pos, &k, &v)) {
		const struct member_key *mk = k;
		struct member *m = v;
		const struct src_state *s;
		const struct cluster_state *cl;
		enum cadence_band band;
		struct group *g;
		bool relayed;

		if (m->last_ns < since)
			continue;
		s = member_src(c, mk, m);
		cl = memo_cluster(c, &clusters, mk->cluster);
		if (!s || !cl)
			continue;
		relayed = member_relayed(&c->cfg, m);
		if (m->last_ns >= cur &&
		    (!relayed || m->prompt ||
		     (s->have_kernel ? s->k.flows : m->flows) >
			 c->cfg.cluster_max_source_flows)) {
			g = memo_group(groups, &memo, mk->cluster, cl,
				       GROUP_CANDS, 0, BAND_ANY);
			if (g)
				bound_direct_add(&g->direct, m);
		}
		if (relayed) {
			g = memo_group(groups, &memo, mk->cluster, cl,
				       GROUP_RELAY, 0, BAND_ANY);
			if (g)
				group_add(c, g, &mk->addr, m, s, now);
			continue;
		}
		band = s->have_kernel ? source_band(c, &s->k) : BAND_SPARSE;
		g = memo_group(groups, &memo, mk->cluster, cl, GROUP_DIRECT,
			       m->syn_class, band);
		if (g)
			group_add(c, g, &mk->addr, m, s, now);
		g = memo_group(groups, &memo, mk->cluster, cl, GROUP_CANDS, 0,
			       BAND_ANY);
		if (g)
			cands_add(c, g, &mk->addr, m, s, now);
	}
	pos = 0;
	while (table_next(groups, &pos, NULL, &v)) {
		struct group *g = v;

		if (g->kind == GROUP_CANDS)
			continue;
		group_spread(g);
		if (g->kind == GROUP_RELAY) {
			const struct group *cands;
			uint64_t id =
			    group_id(g->cluster, GROUP_CANDS, 0, BAND_ANY);

			cands = table_get(groups, &id);
			g->peers_measured = cands ? cands->peers_measured : 0;
			group_stacks(g);
		}
	}
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

/* With mismatch evidence (direct groups) only the members that show it
 * are listed; they move to the front and the count shrinks. A relay group
 * holds only members with the relay signal already. */
static void keep_evidence_members(const struct corr *c, struct group *g)
{
	size_t i, j = 0;

	if (g->kind != GROUP_DIRECT || (!g->relay && !g->mismatch))
		return;
	for (i = 0; i < g->n; i++) {
		const struct member *m = g->mem[i];
		bool shows = (g->relay && member_relayed(&c->cfg, m)) ||
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

/* ---- linked members ------------------------------------------------------ */

/* Connection period of a member: the mean time between its flows' starts
 * (-1 below two flows). Burst intervals would not do: behind a long
 * detour a relayed flow's hello is a burst of its own. */
static double member_period_s(const struct member *m)
{
	if (m->flows < 2 || m->last_start_ns <= m->first_ns)
		return -1;
	return (double)(m->last_start_ns - m->first_ns) / HS_NS_PER_SEC /
	       (m->flows - 1);
}

/* ---- one script, one schedule ----------------------------------------------
 */

/* A member's schedule for coherence: its connection period (else its
 * burst interval) and its bytes per connection (else per burst). */
static void member_schedule(const struct member *m, const struct src_state *s,
			    double *period, double *bytes)
{
	*period = member_period_s(m);
	if (*period <= 0 && s->have_kernel && s->k.ivl_mean_us)
		*period = (double)s->k.ivl_mean_us / 1e6;
	*bytes = m->conn_bytes.n ? m->conn_bytes.mean : m->sizes.mean;
}

/* Recount a group's totals after its member list was cut down. */
static void group_recount(const struct corr *c, struct group *g, uint64_t now)
{
	const struct corr_config *cfg = &c->cfg;
	uint64_t cur = windows_back(cfg, now, 1);
	size_t i;

	g->fresh = g->flows = g->first_ns = g->last_ns = 0;
	g->relay_measured = g->relay_members = 0;
	g->stack_checked = g->stack_members = g->size_members = 0;
	memset(&g->sizes, 0, sizeof(g->sizes));
	for (i = 0; i < g->n; i++) {
		const struct member *m = g->mem[i];

		group_count(cfg, g, m, cur);
	}
	group_spread(g);
}

/* Is the densest schedule box more than chance? Its background is the
 * density of members around it (periods and sizes within three times the
 * tolerances, the box itself left out: eight boxes' worth), at least
 * COHERENT_MIN_BG; the count in the box must be unlikely under a Poisson
 * of that mean (Chernoff bound) at the per-group level of alert_budget.
 * Many customers of one SDK polling every ~minute with ~1 KB payloads
 * fill the neighbourhood too; one script's workers stand alone. */
#define COHERENT_ANCHORS 2048
struct per_idx {
	double per;
	size_t idx;
};

static int cmp_per_idx(const void *x, const void *y)
{
	double a = ((const struct per_idx *)x)->per;
	double b = ((const struct per_idx *)y)->per;

	return (a > b) - (a < b);
}

#define COHERENT_MIN_BG 0.1
static double box_chance(size_t in_box, size_t wide)
{
	double bg = wide > in_box ? (double)(wide - in_box) / 8 : 0;

	if (bg < COHERENT_MIN_BG)
		bg = COHERENT_MIN_BG;
	/* P(X >= k), X ~ Poisson(bg), k > bg: e^-bg (e bg / k)^k */
	return (double)in_box > bg
		   ? exp(-bg + (double)in_box * (1 + log(bg / (double)in_box)))
		   : 1;
}

/* Members within [lo, hi] of period in a period-sorted array whose bytes
 * lie within db of b. */
static size_t count_window(const struct per_idx *o, size_t n, const double *byt,
			   double lo, double hi, double b, double db)
{
	size_t l = 0, r = n, k = 0;

	while (l < r) { /* the first at or above lo */
		size_t mid = (l + r) / 2;

		if (o[mid].per < lo)
			l = mid + 1;
		else
			r = mid;
	}
	for (; l < n && o[l].per <= hi; l++)
		k += fabs(byt[o[l].idx] - b) <= db;
	return k;
}

/* A robotic direct group is many regular clients of one library; a farm
 * is one script run by many workers: one period and one request template.
 * Keep the subset whose members agree with one of them on the period and
 * on bytes per connection (within three of that member's CVs, 2 % and
 * 3 % at least, link_max_period_dev and link_max_size_dev at most), each
 * member's own requests uniform (CV at most 3 x uniform_max_cv, over 3
 * flows at least): of the boxes with cluster_min_sources members, the one
 * least likely given its neighbourhood, if beyond chance. Independent API
 * customers polling on their own schedules with their own payloads fall apart;
 * so do health checkers. */
static void keep_coherent(const struct corr *c, struct group *g, uint64_t now)
{
	const struct corr_config *cfg = &c->cfg;
	double *per = malloc(g->n * sizeof(*per) + 1);
	double *byt = malloc(g->n * sizeof(*byt) + 1);
	double *tp = malloc(g->n * sizeof(*tp) + 1);
	double *tb = malloc(g->n * sizeof(*tb) + 1);
	bool *ok = malloc(g->n * sizeof(*ok) + 1);
	struct per_idx *ord = malloc(g->n * sizeof(*ord) + 1);
	struct per_idx *all = malloc(g->n * sizeof(*all) + 1);
	size_t i, j, best = 0, best_i = 0, k = 0, n_ok = 0, n_all = 0, step;
	double best_p = 2;

	if (!per || !byt || !tp || !tb || !ok || !ord || !all)
		goto out;
	for (i = 0; i < g->n; i++) {
		double cv, scv;

		member_schedule(g->mem[i], g->src[i], &per[i], &byt[i]);
		/* a template repeats: a member whose own requests vary widely
		 * (an API client with assorted calls) has no template */
		cv = running_cv(g->mem[i]->conn_bytes.n ? &g->mem[i]->conn_bytes
							: &g->mem[i]->sizes);
		ok[i] = per[i] > 0 && byt[i] > 0 && cv >= 0 &&
			cv <= 3 * cfg->uniform_max_cv &&
			(g->mem[i]->conn_bytes.n ? g->mem[i]->conn_bytes.n
						 : g->mem[i]->sizes.n) >= 3;
		/* the box around a member is as tight as its own precision
		 * allows (three of its CVs, 2-3 % at least), the configured
		 * deviations at most: a template repeated within 1 % is not
		 * matched by whatever lies within 15 % */
		scv = g->src[i]->have_kernel ? source_cv(&g->src[i]->k) : -1;
		tp[i] = per[i] * fmin(cfg->link_max_period_dev,
				      fmax(0.02, scv >= 0 ? 3 * scv : 1));
		tb[i] = byt[i] * fmin(cfg->link_max_size_dev,
				      fmax(0.03, cv >= 0 ? 3 * cv : 1));
	}
	/* members by period (the uniform ones, and all with a schedule for
	 * the background); anchors spread over them, each counting only the
	 * members within its period windows: O(n log n + anchors x window),
	 * not O(n^2). The most significant box wins, not the fullest: ties
	 * between boxes do not depend on table order. */
	for (i = 0; i < g->n; i++) {
		if (ok[i])
			ord[n_ok++] = (struct per_idx){per[i], i};
		if (per[i] > 0 && byt[i] > 0)
			all[n_all++] = (struct per_idx){per[i], i};
	}
	qsort(ord, n_ok, sizeof(*ord), cmp_per_idx);
	qsort(all, n_all, sizeof(*all), cmp_per_idx);
	step = n_ok / COHERENT_ANCHORS + 1;
	for (size_t q = 0; q < n_ok; q += step) {
		size_t a = ord[q].idx, n, wide;
		double p;

		n = count_window(ord, n_ok, byt, per[a] - tp[a], per[a] + tp[a],
				 byt[a], tb[a]);
		if (n < c->cfg.cluster_min_sources)
			continue;
		wide = count_window(all, n_all, byt, per[a] - 3 * tp[a],
				    per[a] + 3 * tp[a], byt[a], 3 * tb[a]);
		p = box_chance(n, wide);
		if (p < best_p || (p == best_p && n > best)) {
			best_p = p;
			best = n;
			best_i = a;
		}
	}
	if (best && best_p > test_alpha(cfg, c->n_tested_groups))
		best = 0;
	for (j = 0; j < g->n; j++) {
		if (!best || !ok[j] ||
		    fabs(per[j] - per[best_i]) > tp[best_i] ||
		    fabs(byt[j] - byt[best_i]) > tb[best_i])
			continue;
		g->addrs[k] = g->addrs[j];
		g->mem[k] = g->mem[j];
		g->src[k] = g->src[j];
		k++;
	}
	g->n = k;
	if (best) {
		g->period_s = per[best_i];
		g->conn_bytes = byt[best_i];
	}
	group_recount(c, g, now);
out:
	free(per);
	free(byt);
	free(tp);
	free(tb);
	free(ok);
	free(ord);
	free(all);
}

struct farm_profile {
	double period_s;      /* median connection period of the members */
	double period_tol;    /* how far a linked member's may be (s) */
	double bytes_tol;     /* ... and its bytes per connection */
	struct running bytes; /* client bytes after the hello, per flow */
	uint64_t endpoints;   /* Bloom set */
	uint64_t first_ns, last_ns;
};

/* What a relayed farm's members do in common. Needs a period from at
 * least three members (most exits make one connection; the rest give it):
 * from members no rule cut when there are three, since a client whose
 * connection was cut waits out its own timeout before the next (its pace
 * is then ours, not the script's); else from all. */
static bool farm_profile(const struct corr *c, const struct group *g,
			 struct farm_profile *p)
{
	double *per = malloc(g->n * sizeof(*per) + 1);
	size_t i, n = 0, clean = 0;

	memset(p, 0, sizeof(*p));
	if (!per)
		return false;
	for (i = 0; i < g->n; i++)
		clean +=
		    !g->mem[i]->cut_flows && member_period_s(g->mem[i]) > 0;
	for (i = 0; i < g->n; i++) {
		const struct member *m = g->mem[i];
		double t = member_period_s(m);

		if (t > 0 && (clean < 3 || !m->cut_flows))
			per[n++] = t;
		running_merge(&p->bytes, &m->conn_bytes);
		p->endpoints |= m->endpoints;
	}
	p->first_ns = g->first_ns;
	p->last_ns = g->last_ns;
	if (n >= 3) {
		/* the tolerances follow the farm's own precision (three robust
		 * deviations: the interquartile range over 1.349, and the
		 * bytes' CV; 2 % and 3 % at least), the configured deviations
		 * at most: a template repeated within 2 % is not matched by
		 * whatever lies within 15 % */
		double rs, bcv = running_cv(&p->bytes);

		qsort(per, n, sizeof(*per), cmp_dbl);
		p->period_s = per[n / 2];
		rs = (per[3 * n / 4] - per[n / 4]) / 1.349 / p->period_s;
		p->period_tol = p->period_s * fmin(c->cfg.link_max_period_dev,
						   fmax(0.02, 3 * rs));
		p->bytes_tol =
		    p->bytes.mean * fmin(c->cfg.link_max_size_dev,
					 fmax(0.03, bcv >= 0 ? 3 * bcv : 1));
	}
	free(per);
	return n >= 3 && p->bytes.n >= 3 && p->endpoints;
}

/* A direct member of the farm's cluster joins it when it behaves as the
 * farm's members do, all at once: a regular connection period within the
 * farm's precision (link_max_period_dev at most) over at least
 * link_min_intervals intervals, the same bytes per connection (within the
 * farm's precision, link_max_size_dev at most, and as uniform), only endpoints
 * the farm uses, active while the farm is. An SDK customer with the farm's
 * exact client stack shares the identity, not the script: its own period and
 * its own requests. */
static bool links(const struct corr_config *cfg, const struct farm_profile *p,
		  const struct member *m, const struct src_state *s)
{
	double t = member_period_s(m), cv, pcv;

	if (t <= 0 || m->flows < cfg->link_min_intervals + 1 ||
	    fabs(t - p->period_s) > p->period_tol)
		return false;
	if (s->have_kernel) {
		double scv = source_cv(&s->k);

		if (scv > cfg->human_min_cv)
			return false; /* the same mean, but human spacing */
	}
	if (m->conn_bytes.n < 2 ||
	    fabs(m->conn_bytes.mean - p->bytes.mean) > p->bytes_tol)
		return false;
	cv = running_cv(&m->conn_bytes);
	pcv = running_cv(&p->bytes);
	if (cv > (pcv > cfg->uniform_max_cv ? 2 * pcv : cfg->uniform_max_cv))
		return false;
	if (!m->endpoints || (m->endpoints & ~p->endpoints))
		return false;
	return m->last_ns >= p->first_ns && m->first_ns <= p->last_ns;
}

static size_t link_members(struct corr *c, struct table *groups,
			   struct group *g)
{
	uint64_t id = group_id(g->cluster, GROUP_CANDS, 0, BAND_ANY);
	struct group *cands = table_get(groups, &id);
	struct farm_profile p;
	size_t i, n = 0;

	if (!cands || !cands->n || !farm_profile(c, g, &p))
		return 0;
	g->period_s = p.period_s;
	g->conn_bytes = p.bytes.mean;
	free(g->linked_addrs);
	g->linked_addrs = malloc(cands->n * sizeof(*g->linked_addrs) + 1);
	if (!g->linked_addrs)
		return 0;
	for (i = 0; i < cands->n; i++) {
		if (!links(&c->cfg, &p, cands->mem[i], cands->src[i]))
			continue;
		if (group_push(g, &cands->addrs[i], cands->mem[i],
			       cands->src[i]))
			g->linked_addrs[n++] = cands->addrs[i];
	}
	g->linked = n;
	return n;
}

/* A relayed farm's learned relay bound (relay_bound.c), with the
 * evidence behind it, from the cluster's direct members (gathered on its
 * candidates' group). */
static void relay_bound_evidence(struct corr *c, struct table *groups,
				 struct group *g, json_object *ev)
{
	uint64_t id = group_id(g->cluster, GROUP_CANDS, 0, BAND_ANY);
	const struct group *cands = table_get(groups, &id);
	json_object *b = json_object_new_object();

	bound_learn(c, g, cands ? &cands->direct : NULL);
	json_set_u64(b, "direct_sources", g->bound.direct_sources);
	json_set_u64(b, "direct_flows", g->bound.direct_flows);
	json_set_u64(b, "direct_ack_hello_max_us", g->bound.direct_ack_max_us);
	json_set_u64(b, "lead_max_us", g->bound.lead_max_us);
	json_set_u64(b, "relayed_flows_under_default", g->bound.relayed_missed);
	json_set_u64(b, "relayed_flows_cut", g->bound.relayed_cut);
	json_object_object_add(b, "ack_hello_low_us",
			       g->bound.low_ack_us
				   ? json_object_new_int64(g->bound.low_ack_us)
				   : NULL);
	if (g->bound.why)
		json_set_str(b, "not_learned", g->bound.why);
	json_object_object_add(ev, "relay_bound", b);
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
	ind->tuple_id = g->n_tuples ? g->tuples[0] : g->cl->tuple_id;
	ind->tls_id = g->cl->tls_id;
	ind->tuple_ids = g->tuples;
	ind->n_tuple_ids = g->n_tuples;
	ind->linked = g->linked_addrs;
	ind->n_linked = g->linked_addrs ? g->linked : 0;
	ind->family = g->cl->family;
	ind->ja4 = g->cl->ja4;
	ind->band = g->band;
	ind->relay_low_ack_us = g->bound.low_ack_us;
	ind->relay_lead_max_us = g->bound.low_ack_us ? g->bound.lead_max_us : 0;
	emit(c, ind, subject_hash(ind->kind, &g->id, sizeof(g->id)), sink);
	if (!ind->fresh)
		return;
	for (i = 0; i < g->n; i++)
		g->mem[i]->reported |= 1u << ind->kind;
}

bool corr_fleet_view(const struct corr *c, const struct group *g,
		     struct fleet_counts *fc)
{
	return c->fleet.view && c->fleet.view(c->fleet.ctx, g->id, fc);
}

static bool slice_room(struct corr *c, size_t n)
{
	struct fleet_member *m;

	if (n <= c->slice_cap)
		return true;
	m = realloc(c->slice, n * sizeof(*m));
	if (!m)
		return false;
	c->slice = m;
	c->slice_cap = n;
	return true;
}

/* This host's slice of a group goes to the fleet before the group is
 * scored (the fleet counts it reads back include it from the next round
 * on): the group's current-window, low-volume members with the evidence
 * each shows, and for a relay group the cluster's direct members with a
 * timing sample (the relay test's denominator). */
static void fleet_observe(struct corr *c, struct table *groups,
			  const struct group *g)
{
	const struct corr_config *cfg = &c->cfg;
	struct fleet_slice sl = {
	    .group_id = g->id, .tuple_id = g->cl->tuple_id, .band = g->band};
	const struct group *cands = NULL;
	size_t i, n = 0;

	if (!c->fleet.observe || !g->n || g->kind == GROUP_CANDS)
		return;
	if (g->kind == GROUP_RELAY) {
		uint64_t id = group_id(g->cluster, GROUP_CANDS, 0, BAND_ANY);

		cands = table_get(groups, &id);
	}
	if (!slice_room(c, g->n + (cands ? cands->n : 0)))
		return;
	for (i = 0; i < g->n; i++) {
		const struct member *m = g->mem[i];

		c->slice[n++] = (struct fleet_member){
		    .addr = g->addrs[i],
		    .flows = m->flows,
		    .bits =
			(m->relay_measured ? FLEET_MEMBER_RELAY_MEASURED : 0) |
			(member_relayed(cfg, m) ? FLEET_MEMBER_RELAY : 0) |
			(m->stack_checked ? FLEET_MEMBER_STACK_CHECKED : 0) |
			(member_shows(m->stack_hits, m->stack_checked,
				      cfg->stack_min_share)
			     ? FLEET_MEMBER_STACK
			     : 0),
		};
	}
	for (i = 0; cands && i < cands->n; i++)
		if (cands->mem[i]->relay_measured)
			c->slice[n++] = (struct fleet_member){
			    .addr = cands->addrs[i],
			    .flows = cands->mem[i]->flows,
			    .bits = FLEET_MEMBER_PEER,
			};
	sl.members = c->slice;
	sl.n = n;
	c->fleet.observe(c->fleet.ctx, &sl);
}

static void eval_groups(struct corr *c, uint64_t now,
			const struct ind_sink *sink)
{
	struct table *groups = build_groups(c, now);
	size_t pos = 0, tested = 0;
	void *v;

	c->n_top = 0;
	c->st.farm_clusters = 0;
	c->st.cluster_sources = 0;
	c->st.cluster_groups = 0;
	if (!groups)
		return;
	/* the multiple-testing denominator: groups big enough to be tested */
	while (table_next(groups, &pos, NULL, &v)) {
		const struct group *g = v;

		struct fleet_counts fc = {0};

		/* with a fleet, a group is tested once the fleet's is big */
		tested += g->kind != GROUP_CANDS &&
			  (g->n >= c->cfg.cluster_min_sources ||
			   (corr_fleet_view(c, g, &fc) &&
			    fc.sources >= c->cfg.cluster_min_sources));
	}
	c->n_tested_groups = tested;
	pos = 0;
	while (table_next(groups, &pos, NULL, &v)) {
		struct group *g = v;
		struct indicator ind = {.kind = IND_FARM_CLUSTER, .at_ns = now};

		if (g->kind == GROUP_CANDS)
			continue;
		fleet_observe(c, groups, g);
		if (g->kind == GROUP_DIRECT && g->band == BAND_ROBOTIC &&
		    g->n >= c->cfg.cluster_min_sources)
			keep_coherent(c, g, now);
		if (g->n && eval_farm(c, g, &ind)) {
			size_t all = g->n;

			c->st.farm_clusters++;
			keep_evidence_members(c, g);
			json_set_u64(ind.evidence, "members_without_evidence",
				     all - g->n);
			if (g->kind == GROUP_RELAY) {
				link_members(c, groups, g);
				relay_bound_evidence(c, groups, g,
						     ind.evidence);
				json_set_u64(ind.evidence, "linked_members",
					     g->linked);
				if (g->period_s > 0) {
					ev_dbl(ind.evidence, "period_s",
					       g->period_s);
					ev_dbl(ind.evidence,
					       "bytes_per_connection",
					       g->conn_bytes);
				}
			}
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
		c->st.cluster_groups += g->n > 0;
		if (g->n)
			corr_note_top(c, g, now);
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
	s->flows_listed = c->watch.n;
	s->relay_share = c->last_samples
			     ? (double)c->last_hits / c->last_samples
			 : c->win_samples ? (double)c->win_hits / c->win_samples
					  : 0;
}
