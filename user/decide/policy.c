// SPDX-License-Identifier: BSD-2-Clause
#include "decide/policy.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <json-c/json.h>

#include "lib/addr.h"
#include "hydrascope/tuple.h"
#include "lib/hstime.h"
#include "output/json_field.h"

#define MAX_PENDING 65536 /* decision records per round */

struct offence {
	double level; /* decays by half every offence_half_life_s */
	uint64_t last_ns;
};

struct pending {
	json_object *rec;
	bool rule;
	struct block_key bk;
	uint64_t tuple_id;
};

/* A lower bound on the weakest block of a set (all, one group, this
 * round's): exact right after a scan of the set; a block that leaves or
 * is renewed only raises the true minimum, so it stays a bound, and a new
 * block lowers it. A decision no stronger than the bound is refused with
 * no scan, so a flood of weak decisions at a full budget costs O(1) each;
 * a scan happens for a decision stronger than the bound, and most of those
 * evict (bounded by the round budget). */
struct weak_bound {
	bool valid;
	double score;
	uint64_t expires_ns;
};

struct group_state {
	uint32_t n; /* blocks in the group */
	struct weak_bound weak;
};

struct policy {
	struct corr_config cfg;
	int allow_fd;
	/* the allowlist held an entry at the last policy_check_allowlist */
	bool allow_any;
	struct table *blocks;	 /* block_key -> desired_block */
	struct table *rules;	 /* u64 -> desired_rule */
	struct table *offences;	 /* block_key -> offence */
	struct table *groups;	 /* block_key of a /16 or /48 -> group_state */
	struct pending *pending; /* records of this round */
	size_t n_pending;
	/* rounds are numbered from 1: adopted blocks carry round 0 */
	uint64_t round;
	size_t round_new; /* blocks made in this round */
	struct weak_bound weak_cap, weak_round;
	struct policy_stats st;
};

const char *budget_name(enum budget b)
{
	static const char *const names[BUDGET_COUNT] = {"cap", "prefix",
							"round"};

	return b < BUDGET_COUNT ? names[b] : "?";
}

const char *decision_reason_name(unsigned reason)
{
	if (reason < IND_COUNT)
		return ind_kind_name((enum ind_kind)reason);
	return reason == DECISION_ADOPTED ? "adopted" : "remote";
}

struct policy *policy_new(const struct corr_config *cfg)
{
	struct policy *p = calloc(1, sizeof(*p));
	size_t blocks = cfg->max_blocks ? cfg->max_blocks : 1;

	if (!p)
		return NULL;
	p->cfg = *cfg;
	p->allow_fd = -1;
	p->round = 1;
	/* the tables hold one more than the cap: the cap is enforced here,
	 * never by the table evicting a live decision */
	p->blocks = table_new(blocks + 1, sizeof(struct block_key),
			      sizeof(struct desired_block), NULL);
	p->rules =
	    table_new((cfg->max_tuple_rules ? cfg->max_tuple_rules : 1) + 1,
		      sizeof(uint64_t), sizeof(struct desired_rule), NULL);
	/* offence history outlives blocks; bounded, oldest forgotten */
	p->offences = table_new(2 * blocks + 16, sizeof(struct block_key),
				sizeof(struct offence), NULL);
	/* at most one group per block: never evicts */
	p->groups = table_new(blocks + 16, sizeof(struct block_key),
			      sizeof(struct group_state), NULL);
	p->pending = calloc(MAX_PENDING, sizeof(*p->pending));
	if (!p->blocks || !p->rules || !p->offences || !p->groups ||
	    !p->pending) {
		policy_free(p);
		return NULL;
	}
	return p;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_pending; i++)
		json_object_put(p->pending[i].rec);
	free(p->pending);
	table_free(p->blocks);
	table_free(p->rules);
	table_free(p->offences);
	table_free(p->groups);
	free(p);
}

void policy_set_allowlist(struct policy *p, int allow_fd)
{
	p->allow_fd = allow_fd;
	p->allow_any = allow_fd >= 0;
}

void policy_check_allowlist(struct policy *p)
{
	struct hs_lpm_key k;

	p->allow_any =
	    p->allow_fd >= 0 && !bpf_map_get_next_key(p->allow_fd, NULL, &k);
}

bool policy_allowlisted(const struct policy *p, const struct hs_lpm_key *k)
{
	struct hs_lpm_key q = *k;
	struct hs_allow v;

	/* an LPM lookup considers at most q.prefixlen bits: a hit is an
	 * allowlist entry at least as wide as the prefix, covering all of it
	 * (narrower entries inside it win in the datapath, per packet) */
	if (!p->allow_any)
		return false;
	return bpf_map_lookup_elem(p->allow_fd, &q, &v) == 0;
}

/* The prefix of addr (16 bytes) of length plen, as a block key. */
static void prefix_key(const uint8_t *addr, unsigned plen, struct block_key *bk)
{
	memset(bk, 0, sizeof(*bk));
	bk->k.prefixlen = plen;
	memcpy(bk->k.addr, addr, 16);
	for (unsigned i = plen; i < 128; i++)
		bk->k.addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

static void block_key_of(const struct corr_config *cfg, const struct hs_addr *a,
			 struct block_key *bk)
{
	bool v4 = addr_is_v4(a);

	prefix_key(a->b, v4 ? 96 + cfg->block_v4_prefix : cfg->block_v6_prefix,
		   bk);
}

/* The budget group of a block: its /16 (IPv4) or /48 (IPv6), one
 * provider's network at most, or the block itself when it is wider. */
static void group_of(const struct block_key *bk, struct block_key *g)
{
	struct hs_addr a;
	unsigned plen;

	memcpy(a.b, bk->k.addr, 16);
	plen = addr_is_v4(&a) ? 96 + 16 : 48;
	prefix_key(bk->k.addr, bk->k.prefixlen < plen ? bk->k.prefixlen : plen,
		   g);
}

/* Is (s1, e1) weaker than (s2, e2)? A lower score, or the same score and
 * an earlier expiry (older evidence). */
static bool weaker(double s1, uint64_t e1, double s2, uint64_t e2)
{
	return s1 < s2 || (s1 == s2 && e1 < e2);
}

static void lower_bound(struct weak_bound *w, const struct desired_block *d)
{
	if (w->valid &&
	    weaker(d->score, d->expires_ns, w->score, w->expires_ns)) {
		w->score = d->score;
		w->expires_ns = d->expires_ns;
	}
}

/* A block enters or leaves the desired set: keep the group counts, the
 * bounds and the round's count of new blocks. */
static void block_added(struct policy *p, const struct block_key *bk,
			const struct desired_block *d)
{
	struct group_state *gs;
	struct block_key g;

	group_of(bk, &g);
	gs = table_get_or_add(p->groups, &g, NULL);
	if (gs) {
		gs->n++;
		lower_bound(&gs->weak, d);
	}
	lower_bound(&p->weak_cap, d);
	if (d->round == p->round)
		lower_bound(&p->weak_round, d);
}

static void block_drop(struct policy *p, const struct block_key *bk)
{
	struct desired_block *d = table_get(p->blocks, bk);
	struct group_state *gs;
	struct block_key g;

	if (!d)
		return;
	if (d->round == p->round && p->round_new)
		p->round_new--;
	group_of(bk, &g);
	gs = table_get(p->groups, &g);
	if (gs && --gs->n == 0)
		table_del(p->groups, &g);
	table_del(p->blocks, bk);
}

/* The weakest block that budget b would give up for a new block in group
 * g (state gs): any block (cap), one of g (prefix) or one made this round
 * (round). False if none is weaker than (score, expires): at once when
 * the set's bound says so, else after a scan of the desired blocks
 * (~12 us per 1000), which makes the bound exact again. */
static bool weakest_block(struct policy *p, enum budget b,
			  const struct block_key *g, struct group_state *gs,
			  double score, uint64_t expires, struct block_key *out)
{
	struct weak_bound *w = b == BUDGET_CAP	   ? &p->weak_cap
			       : b == BUDGET_ROUND ? &p->weak_round
						   : &gs->weak;
	const struct desired_block *best = NULL;
	struct block_key kg;
	size_t pos = 0;
	const void *k;
	void *v;

	if (w->valid && !weaker(w->score, w->expires_ns, score, expires))
		return false;

	while (table_next(p->blocks, &pos, &k, &v)) {
		const struct desired_block *d = v;

		if (b == BUDGET_ROUND && d->round != p->round)
			continue;
		if (b == BUDGET_PREFIX) {
			group_of(k, &kg);
			if (memcmp(&kg, g, sizeof(kg)))
				continue;
		}
		if (!best || weaker(d->score, d->expires_ns, best->score,
				    best->expires_ns)) {
			best = d;
			memcpy(out, k, sizeof(*out));
		}
	}
	if (!best) {
		w->valid = false;
		return false;
	}
	*w = (struct weak_bound){true, best->score, best->expires_ns};
	return weaker(best->score, best->expires_ns, score, expires);
}

/* Room for a new block bk of strength (score, expires) under every budget:
 * where one is full, its weakest block goes if it is weaker; otherwise
 * the new one is refused. Nothing is evicted unless all budgets agree. */
static bool make_room(struct policy *p, const struct block_key *bk,
		      double score, uint64_t expires)
{
	const struct corr_config *cfg = &p->cfg;
	struct block_key g, victim[BUDGET_COUNT];
	struct group_state *gs;
	bool full[BUDGET_COUNT];
	int b;

	group_of(bk, &g);
	gs = table_get(p->groups, &g);
	full[BUDGET_CAP] = table_len(p->blocks) >= cfg->max_blocks;
	full[BUDGET_PREFIX] = gs && gs->n >= cfg->max_blocks_per_prefix;
	full[BUDGET_ROUND] = p->round_new >= cfg->max_new_blocks_per_round;
	for (b = 0; b < BUDGET_COUNT; b++)
		if (full[b] &&
		    !weakest_block(p, b, &g, gs, score, expires, &victim[b])) {
			p->st.refused[b]++;
			return false;
		}
	for (b = BUDGET_COUNT - 1; b >= 0; b--) {
		/* any eviction frees a place under the cap */
		if (!full[b] || (b == BUDGET_CAP &&
				 (full[BUDGET_PREFIX] || full[BUDGET_ROUND])))
			continue;
		if (table_get(p->blocks, &victim[b])) {
			block_drop(p, &victim[b]);
			p->st.evicted[b]++;
		}
	}
	return true;
}

/* Deterministic jitter in [0, pct] percent of ttl, from the key. */
static uint64_t jitter_ns(const struct corr_config *cfg, uint64_t ttl_ns,
			  uint64_t seed)
{
	uint64_t span = ttl_ns / 100 * cfg->ttl_jitter_pct;

	return span ? hs_mix64(seed) % (span + 1) : 0;
}

static uint64_t key_seed(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0x6a6974746572ull;

	for (size_t i = 0; i < n; i++)
		h = hs_mix64(h ^ b[i]);
	return h;
}

/* Callers made sure of the room (record_room). */
static void queue(struct policy *p, json_object *rec, bool rule,
		  const struct block_key *bk, uint64_t tuple_id)
{
	struct pending *q = &p->pending[p->n_pending++];

	q->rec = rec;
	q->rule = rule;
	if (bk)
		q->bk = *bk;
	q->tuple_id = tuple_id;
}

/* Room for one more record this round? If not, it is counted as dropped
 * (the decision itself stands) and not built at all. */
static bool record_room(struct policy *p)
{
	if (p->n_pending < MAX_PENDING)
		return true;
	p->st.records_dropped++;
	return false;
}

static json_object *decision_json(const struct indicator *ind,
				  const char *action, uint32_t ttl_s,
				  uint64_t expires_ns, bool renewal)
{
	json_object *d = json_object_new_object(), *inds, *one;

	json_set_str(d, "type", "decision");
	/* time_ns and expires_ns are datapath clock here; the flush turns
	 * them into wall clock */
	json_set_u64(d, "time_ns", ind->at_ns);
	json_set_str(d, "action", action);
	json_set_u64(d, "ttl_s", ttl_s);
	json_set_u64(d, "expires_ns", expires_ns);
	json_set_str(d, "reason", ind_kind_name(ind->kind));
	inds = json_object_new_array();
	one = json_object_new_object();
	json_set_str(one, "kind", ind_kind_name(ind->kind));
	json_object_object_add(
	    one, "score",
	    json_object_new_double(round(ind->score * 1000) / 1000));
	json_object_array_add(inds, one);
	json_object_object_add(d, "indicators", inds);
	if (ind->tuple_id) {
		char id[24];

		snprintf(id, sizeof(id), "%016" PRIx64, ind->tuple_id);
		json_set_str(d, "fingerprint_tuple", id);
	}
	if (ind_evidence(ind))
		json_object_object_add(d, "evidence",
				       json_object_get(ind_evidence(ind)));
	json_object_object_add(d, "renewal", json_object_new_boolean(renewal));
	return d;
}

static uint32_t base_ttl(const struct corr_config *cfg, enum ind_kind k)
{
	switch (k) {
	case IND_RESIDENTIAL_PROXY: return cfg->ttl_residential_s;
	case IND_FARM_CLUSTER:
	case IND_ROTATION:
	case IND_PIVOT: return cfg->ttl_cluster_s;
	default: return cfg->ttl_relay_s;
	}
}

/* Offences decay by half every offence_half_life_s; this one adds 1. */
static unsigned offend(struct policy *p, const struct block_key *bk,
		       uint64_t now)
{
	struct offence *o = table_get_or_add(p->offences, bk, NULL);
	double dt;

	if (!o)
		return 1;
	dt = o->last_ns && now > o->last_ns
		 ? (double)(now - o->last_ns) / HS_NS_PER_SEC
		 : 0;
	o->level = o->level * pow(0.5, dt / p->cfg.offence_half_life_s) + 1;
	o->last_ns = now;
	/* rounded: an offence one half-life ago still counts as half */
	return (unsigned)lround(o->level);
}

/* The record of a new or renewed block, if the record queue has room. */
static void record_block(struct policy *p, const struct indicator *ind,
			 const struct block_key *bk,
			 const struct desired_block *d, bool renewal)
{
	char prefix[64];
	json_object *rec;

	if (!record_room(p))
		return;
	rec = decision_json(ind, "block_prefix", d->ttl_s, d->expires_ns,
			    renewal);
	lpm_key_str(&bk->k, prefix, sizeof(prefix));
	json_set_str(rec, "prefix", prefix);
	json_set_u64(rec, "offences", d->offences);
	queue(p, rec, false, bk, 0);
}

static void block(struct policy *p, const struct indicator *ind,
		  const struct hs_addr *a, enum ind_kind reason)
{
	const struct corr_config *cfg = &p->cfg;
	uint64_t now = ind->at_ns, ttl_ns;
	struct desired_block *d;
	struct block_key bk;
	unsigned offences, shift;
	uint32_t ttl;

	block_key_of(cfg, a, &bk);
	d = table_get(p->blocks, &bk);
	if (d && d->expires_ns > now) {
		if (ind->score > d->score)
			d->score = ind->score;
		/* still justified: renew at the same TTL level; say so once
		 * it has run half its course */
		uint64_t left = d->expires_ns - now;
		bool say = left < (uint64_t)d->ttl_s * HS_NS_PER_SEC / 2;

		d->expires_ns =
		    now + (uint64_t)d->ttl_s * HS_NS_PER_SEC +
		    jitter_ns(cfg, (uint64_t)d->ttl_s * HS_NS_PER_SEC,
			      key_seed(&bk, sizeof(bk)));
		/* a block the datapath holds stays held: the enforcer writes
		 * the new expiry once the old one nears
		 * (policy_rewrite_lead_ns) */
		if (d->state != DS_WRITTEN)
			d->state = DS_PENDING;
		p->st.renewals++;
		if (say && ind->fresh)
			record_block(p, ind, &bk, d, true);
		return;
	}
	if (policy_allowlisted(p, &bk.k)) {
		p->st.refused_allow++;
		return;
	}
	ttl_ns = (uint64_t)base_ttl(cfg, reason) * HS_NS_PER_SEC;
	/* a lapsed entry starts over as a new block */
	block_drop(p, &bk);
	if (!make_room(p, &bk, ind->score, now + ttl_ns))
		return;
	d = table_get_or_add(p->blocks, &bk, NULL);
	if (!d)
		return;
	p->round_new++;
	offences = offend(p, &bk, now);
	shift = offences > 1 ? offences - 1 : 0;
	ttl = base_ttl(cfg, reason);
	while (shift-- && ttl < cfg->ttl_max_s)
		ttl = ttl * 2 > cfg->ttl_max_s ? cfg->ttl_max_s : ttl * 2;
	if (ttl > cfg->ttl_max_s)
		ttl = cfg->ttl_max_s;
	ttl_ns = (uint64_t)ttl * HS_NS_PER_SEC;
	*d = (struct desired_block){
	    .expires_ns = now + ttl_ns +
			  jitter_ns(cfg, ttl_ns, key_seed(&bk, sizeof(bk))),
	    .score = ind->score,
	    .round = p->round,
	    .ttl_s = ttl,
	    .state = DS_PENDING,
	    .reason = (uint8_t)reason,
	    .offences = (uint16_t)(offences > 0xffff ? 0xffff : offences),
	};
	block_added(p, &bk, d);
	p->st.decisions[reason]++;
	record_block(p, ind, &bk, d, false);
}

/* At the rule cap, the weakest rule makes room for a stronger one. Rules
 * are few (one per farm cluster, max_tuple_rules): a plain scan. */
static bool rule_room(struct policy *p, double score, uint64_t expires)
{
	const struct desired_rule *best = NULL;
	uint64_t victim = 0;
	size_t pos = 0;
	const void *k;
	void *v;

	if (table_len(p->rules) < p->cfg.max_tuple_rules)
		return true;
	while (table_next(p->rules, &pos, &k, &v)) {
		const struct desired_rule *r = v;

		if (!best || weaker(r->score, r->expires_ns, best->score,
				    best->expires_ns)) {
			best = r;
			memcpy(&victim, k, sizeof(victim));
		}
	}
	if (!best || !weaker(best->score, best->expires_ns, score, expires)) {
		p->st.refused[BUDGET_CAP]++;
		return false;
	}
	table_del(p->rules, &victim);
	p->st.evicted[BUDGET_CAP]++;
	return true;
}

/* A relay-conditional rule for a relayed farm cluster: on its TLS id when
 * the kernel gave one (a never-seen exit of any SYN stack is cut), else on
 * one of its tuple ids (tuple_rules); the kernel applies hs_relay_cut with
 * the cluster's client family's default bounds and the bound learned from
 * its direct flows (relay_bound.c), which follows the evidence at every
 * renewal: a changed bound is written again and said in a record. */
static void tuple_rule(struct policy *p, const struct indicator *ind,
		       uint64_t id, uint8_t kind)
{
	const struct corr_config *cfg = &p->cfg;
	uint64_t now = ind->at_ns;
	enum client_family fam = ind->family < FAM_COUNT
				     ? (enum client_family)ind->family
				     : FAM_UNKNOWN;
	uint64_t ttl_ns = (uint64_t)cfg->ttl_cluster_s * HS_NS_PER_SEC;
	struct desired_rule *r;
	json_object *rec;
	char tid[24];
	bool renewal, moved;

	if (!id)
		return;
	r = table_get(p->rules, &id);
	renewal = r && r->expires_ns > now;
	if (!r && !rule_room(p, ind->score, now + ttl_ns))
		return;
	if (!r)
		r = table_get_or_add(p->rules, &id, NULL);
	if (!r)
		return;
	moved = renewal && (r->low_ack_us != ind->relay_low_ack_us ||
			    r->lead_max_us != ind->relay_lead_max_us);
	if (renewal) {
		bool say = r->expires_ns - now < ttl_ns / 2;

		/* this host's decision now: its bounds from here on */
		r->reason = (uint8_t)ind->kind;
		if (ind->score > r->score)
			r->score = ind->score;
		r->expires_ns = now + ttl_ns + jitter_ns(cfg, ttl_ns, id);
		r->low_ack_us = ind->relay_low_ack_us;
		r->lead_max_us = ind->relay_lead_max_us;
		r->state = DS_PENDING;
		p->st.renewals++;
		if (!moved && (!say || !ind->fresh))
			return;
	} else {
		*r = (struct desired_rule){
		    .expires_ns = now + ttl_ns + jitter_ns(cfg, ttl_ns, id),
		    .score = ind->score,
		    .ttl_s = cfg->ttl_cluster_s,
		    .low_ack_us = ind->relay_low_ack_us,
		    .lead_max_us = ind->relay_lead_max_us,
		    .kind = kind,
		    .state = DS_PENDING,
		    .reason = (uint8_t)ind->kind,
		};
		relay_default_bounds(cfg, fam, &r->min_gap_us,
				     &r->min_ack_hello_us);
		p->st.decisions[ind->kind]++;
	}
	if (!record_room(p))
		return;
	rec =
	    decision_json(ind, "tuple_rule", r->ttl_s, r->expires_ns, renewal);
	/* the cluster's tuple id, its TLS id, and which one the rule is on */
	snprintf(tid, sizeof(tid), "%016" PRIx64,
		 r->kind == HS_RULE_TUPLE || !ind->tuple_id ? id
							    : ind->tuple_id);
	json_set_str(rec, "tuple_id", tid);
	if (ind->tls_id) {
		snprintf(tid, sizeof(tid), "%016" PRIx64, ind->tls_id);
		json_set_str(rec, "tls_id", tid);
	}
	snprintf(tid, sizeof(tid), "%016" PRIx64, id);
	json_set_str(rec, "rule_id", tid);
	json_set_str(rec, "rule_on",
		     r->kind == HS_RULE_TLS ? "tls_id" : "tuple_id");
	/* the detour bound; the kernel adds the family allowance */
	json_set_u64(rec, "min_gap_us", cfg->relay_min_gap_us);
	json_set_u64(rec, "tls_tcp_gap_min_us", r->min_gap_us);
	json_set_u64(rec, "ack_hello_min_us", r->min_ack_hello_us);
	json_object_object_add(
	    rec, "ack_hello_low_us",
	    r->low_ack_us ? json_object_new_int64(r->low_ack_us) : NULL);
	json_set_u64(rec, "lead_max_us", r->lead_max_us);
	queue(p, rec, true, NULL, id);
}

/* The kernel's TLS id is the farm's client whatever the exit's SYN: one
 * rule on it cuts a never-seen exit of any OS. Without one (a hello the
 * kernel could not walk whole) a rule per kernel tuple id of the farm's
 * relayed members, i.e. per exit stack seen, commonest first, up to a
 * quarter of the rule budget per farm. */
static void tuple_rules(struct policy *p, const struct indicator *ind)
{
	const struct corr_config *cfg = &p->cfg;
	size_t i, cap = cfg->max_tuple_rules / 4 ? cfg->max_tuple_rules / 4 : 1;

	if (ind->tls_id) {
		tuple_rule(p, ind, ind->tls_id, HS_RULE_TLS);
		return;
	}
	if (!ind->n_tuple_ids) {
		tuple_rule(p, ind, ind->tuple_id, HS_RULE_TUPLE);
		return;
	}
	for (i = 0; i < ind->n_tuple_ids && i < cap; i++)
		tuple_rule(p, ind, ind->tuple_ids[i], HS_RULE_TUPLE);
}

static bool is_linked(const struct indicator *ind, const struct hs_addr *a)
{
	for (size_t i = 0; i < ind->n_linked; i++)
		if (!memcmp(&ind->linked[i], a, sizeof(*a)))
			return true;
	return false;
}

void policy_on_indicator(void *ctx, const struct indicator *ind)
{
	struct policy *p = ctx;
	const struct corr_config *cfg = &p->cfg;
	size_t i;

	switch (ind->kind) {
	case IND_FARM_CLUSTER:
		if (ind->score < cfg->decide_cluster_min_score)
			return;
		if (ind->relay)
			tuple_rules(p, ind);
		if (ind->relay || cfg->decide_cluster_members)
			for (i = 0; i < ind->n_sources; i++) {
				/* a member linked by behaviour alone has no
				 * relay signal of its own: a direct member */
				if (!cfg->decide_cluster_members &&
				    is_linked(ind, &ind->sources[i]))
					continue;
				block(p, ind, &ind->sources[i],
				      IND_FARM_CLUSTER);
			}
		return;
	case IND_RESIDENTIAL_PROXY:
		if (ind->score >= cfg->decide_residential_min_score)
			block(p, ind, &ind->sources[0], ind->kind);
		return;
	case IND_RELAY_RTT_GAP:
		if (cfg->decide_relay_alone &&
		    ind->score >= cfg->decide_relay_min_score)
			block(p, ind, &ind->sources[0], ind->kind);
		return;
	default: return; /* informational kinds never block */
	}
}

static bool block_expired(const void *k, const void *v, void *ctx)
{
	(void)k;
	return ((const struct desired_block *)v)->expires_ns <=
	       *(uint64_t *)ctx;
}

/* Drop the blocks pick() chooses (group counts kept); returns how many. */
static size_t drop_blocks_if(struct policy *p, table_pick_fn pick, void *ctx)
{
	void *keys;
	size_t n = table_collect(p->blocks, pick, ctx, &keys);

	for (size_t i = 0; i < n; i++)
		block_drop(p, (struct block_key *)keys + i);
	free(keys);
	return n;
}

static bool rule_expired(const void *k, const void *v, void *ctx)
{
	(void)k;
	return ((const struct desired_rule *)v)->expires_ns <= *(uint64_t *)ctx;
}

void policy_expire(struct policy *p, uint64_t now_ns)
{
	p->st.expired += drop_blocks_if(p, block_expired, &now_ns);
	p->st.expired += table_delete_if(p->rules, rule_expired, &now_ns);
}

void policy_flush(struct policy *p, struct record_out *out)
{
	for (size_t i = 0; i < p->n_pending; i++) {
		struct pending *q = &p->pending[i];
		json_object *t;
		uint8_t state = DS_PENDING;

		if (q->rule) {
			struct desired_rule *r =
			    table_get(p->rules, &q->tuple_id);

			state = r ? r->state : DS_PENDING;
		} else {
			struct desired_block *d = table_get(p->blocks, &q->bk);

			state = d ? d->state : DS_PENDING;
		}
		json_object_object_add(
		    q->rec, "applied",
		    json_object_new_boolean(state == DS_WRITTEN));
		if (json_object_object_get_ex(q->rec, "time_ns", &t))
			json_set_u64(
			    q->rec, "time_ns",
			    record_wall(out,
					(uint64_t)json_object_get_uint64(t)));
		if (json_object_object_get_ex(q->rec, "expires_ns", &t))
			json_set_u64(
			    q->rec, "expires_ns",
			    record_wall(out,
					(uint64_t)json_object_get_uint64(t)));
		record_decision(out, q->rec);
		q->rec = NULL;
	}
	p->n_pending = 0;
	/* a flush ends the round */
	p->round++;
	p->round_new = 0;
	p->weak_round.valid = false;
}

uint64_t policy_rewrite_lead_ns(const struct policy *p,
				const struct desired_block *d)
{
	uint64_t ttl = (uint64_t)d->ttl_s * HS_NS_PER_SEC;
	uint64_t rounds = 2ull * p->cfg.eval_interval_s * HS_NS_PER_SEC;

	return ttl - ttl / 8 > rounds ? ttl - ttl / 8 : rounds;
}

struct table *policy_blocks(struct policy *p)
{
	return p->blocks;
}

struct table *policy_rules(struct policy *p)
{
	return p->rules;
}

void policy_adopt_block(struct policy *p, const struct hs_lpm_key *k,
			const struct hs_block *b, uint64_t now_ns)
{
	struct block_key bk = {.k = *k};
	struct desired_block *d;

	if (b->expires_ns && b->expires_ns <= now_ns)
		return;
	if (table_get(p->blocks, &bk))
		return;
	if (table_len(p->blocks) >= p->cfg.max_blocks) {
		p->st.refused[BUDGET_CAP]++;
		return;
	}
	d = table_get_or_add(p->blocks, &bk, NULL);
	if (!d)
		return;
	/* round 0, score 0: the evidence stayed with the process that made
	 * it, so an adopted block is the first to make room */
	*d = (struct desired_block){
	    .expires_ns = b->expires_ns,
	    .ttl_s = b->expires_ns
			 ? (uint32_t)((b->expires_ns - now_ns) / HS_NS_PER_SEC)
			 : p->cfg.ttl_max_s,
	    .state = DS_WRITTEN,
	    .reason = DECISION_ADOPTED,
	    .offences = 1,
	};
	block_added(p, &bk, d);
}

void policy_adopt_rule(struct policy *p, uint64_t tuple_id,
		       const struct hs_tuple_rule *r, uint64_t now_ns)
{
	struct desired_rule *d;

	if (r->expires_ns && r->expires_ns <= now_ns)
		return;
	if (table_len(p->rules) >= p->cfg.max_tuple_rules) {
		p->st.refused[BUDGET_CAP]++;
		return;
	}
	d = table_get_or_add(p->rules, &tuple_id, NULL);
	if (!d)
		return;
	*d = (struct desired_rule){
	    .expires_ns = r->expires_ns,
	    .ttl_s = p->cfg.ttl_cluster_s,
	    .min_gap_us = r->min_gap_us,
	    .min_ack_hello_us = r->min_ack_hello_us,
	    .low_ack_us = r->low_ack_us,
	    .lead_max_us = r->lead_max_us,
	    .kind = r->kind,
	    .state = DS_WRITTEN,
	    .reason = DECISION_ADOPTED,
	};
}

void policy_lift_block(struct policy *p, const struct block_key *k)
{
	if (table_get(p->blocks, k)) {
		block_drop(p, k);
		p->st.lifted++;
	}
}

void policy_lift_rule(struct policy *p, uint64_t tuple_id)
{
	if (table_get(p->rules, &tuple_id)) {
		table_del(p->rules, &tuple_id);
		p->st.lifted++;
	}
}

void policy_get_stats(const struct policy *p, struct policy_stats *s)
{
	*s = p->st;
}

enum remote_result policy_remote_block(struct policy *p,
				       const struct hs_lpm_key *k,
				       uint64_t expires_ns, uint32_t ttl_s,
				       uint64_t now_ns)
{
	struct block_key bk = {.k = *k};
	struct desired_block *d;
	struct hs_addr a;
	uint64_t max_ns = now_ns + (uint64_t)p->cfg.ttl_max_s * HS_NS_PER_SEC;

	if (expires_ns <= now_ns)
		return REMOTE_EXPIRED;
	/* never wider than this host would block itself: a stream writer
	 * cannot cut a whole network off here */
	memcpy(a.b, k->addr, 16);
	if (k->prefixlen < (addr_is_v4(&a) ? 96 + p->cfg.block_v4_prefix
					   : p->cfg.block_v6_prefix)) {
		p->st.refused_wide++;
		return REMOTE_WIDE;
	}
	/* nor longer than this host's longest block (clocks, a bad record) */
	if (expires_ns > max_ns)
		expires_ns = max_ns;
	if (policy_allowlisted(p, &bk.k)) {
		p->st.refused_allow++;
		return REMOTE_ALLOWLISTED;
	}
	d = table_get(p->blocks, &bk);
	if (d && d->expires_ns >= expires_ns)
		return REMOTE_HELD;
	if (!d && table_len(p->blocks) >= p->cfg.max_blocks) {
		p->st.refused_remote++;
		return REMOTE_CAP;
	}
	if (!d) {
		d = table_get_or_add(p->blocks, &bk, NULL);
		if (!d)
			return REMOTE_CAP;
		d->reason = DECISION_REMOTE;
		/* score 0, round 0: no local evidence, the first to make
		 * room; counted in its /16 or /48 like any block, so that
		 * dropping it later leaves the group's count right */
		d->expires_ns = expires_ns;
		d->offences = 1;
		block_added(p, &bk, d);
	}
	/* no offence here: the host that saw it counts them */
	d->expires_ns = expires_ns;
	d->ttl_s = ttl_s;
	d->state = DS_PENDING;
	return REMOTE_APPLIED;
}

bool policy_lift_remote(struct policy *p, const struct hs_lpm_key *k)
{
	struct block_key bk = {.k = *k};
	const struct desired_block *d = table_get(p->blocks, &bk);

	/* every local decision carries its indicator's score (> 0) */
	if (!d || d->score > 0)
		return false;
	block_drop(p, &bk);
	p->st.lifted++;
	return true;
}

bool policy_block_local(const struct policy *p, const struct hs_lpm_key *k)
{
	struct block_key bk = {.k = *k};
	const struct desired_block *d = table_get(p->blocks, &bk);

	return d && d->score > 0;
}

enum remote_result policy_remote_rule(struct policy *p, uint64_t rule_id,
				      const struct desired_rule *want,
				      uint64_t now_ns)
{
	uint64_t max_ns = now_ns + (uint64_t)p->cfg.ttl_max_s * HS_NS_PER_SEC;
	uint64_t expires_ns = want->expires_ns;
	struct desired_rule *r;

	if (!rule_id || expires_ns <= now_ns)
		return REMOTE_EXPIRED;
	if (expires_ns > max_ns)
		expires_ns = max_ns;
	r = table_get(p->rules, &rule_id);
	/* a rule this host decided keeps its own bounds: the learned one
	 * comes from this host's direct clients, which its kernel serves
	 * (taking the other's would make both flip at every round) */
	if (r && r->reason < IND_COUNT) {
		if (r->expires_ns >= expires_ns)
			return REMOTE_HELD;
		r->expires_ns = expires_ns;
		r->state = DS_PENDING;
		return REMOTE_APPLIED;
	}
	if (r && r->expires_ns >= expires_ns && r->kind == want->kind &&
	    r->min_gap_us == want->min_gap_us &&
	    r->min_ack_hello_us == want->min_ack_hello_us &&
	    r->low_ack_us == want->low_ack_us &&
	    r->lead_max_us == want->lead_max_us)
		return REMOTE_HELD;
	if (!r && table_len(p->rules) >= p->cfg.max_tuple_rules) {
		p->st.refused_remote++;
		return REMOTE_CAP;
	}
	if (!r) {
		r = table_get_or_add(p->rules, &rule_id, NULL);
		if (!r)
			return REMOTE_CAP;
		r->reason = DECISION_REMOTE;
	}
	if (r->expires_ns < expires_ns)
		r->expires_ns = expires_ns;
	r->ttl_s = want->ttl_s;
	r->min_gap_us = want->min_gap_us;
	r->min_ack_hello_us = want->min_ack_hello_us;
	r->low_ack_us = want->low_ack_us;
	r->lead_max_us = want->lead_max_us;
	r->kind = want->kind;
	r->state = DS_PENDING;
	return REMOTE_APPLIED;
}

bool policy_block_written(struct policy *p, const struct hs_lpm_key *k)
{
	struct block_key bk = {.k = *k};
	struct desired_block *d = table_get(p->blocks, &bk);

	return d && d->state == DS_WRITTEN;
}

bool policy_rule_written(struct policy *p, uint64_t tuple_id)
{
	struct desired_rule *r = table_get(p->rules, &tuple_id);

	return r && r->state == DS_WRITTEN;
}
