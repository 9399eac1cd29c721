// SPDX-License-Identifier: BSD-2-Clause
#include "output/status_snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "datapath/mapiter.h"
#include "datapath/maps.h"
#include "decide/pipeline.h"
#include "lib/hstime.h"
#include "lib/topk.h"
#include "output/envelope.h"
#include "output/status_page.h"

#define HOUR_MINUTES 60
#define HOUR_NS (3600 * HS_NS_PER_SEC)
#define MINUTE_NS (60 * HS_NS_PER_SEC)
/* clusters whose kinds and evidence are remembered: the top list's and
 * as many again, so that the next round's newcomers have theirs */
#define CLUSTER_NOTES (2 * CORR_TOP_K)

/* What the last evaluation that fired on a cluster said of it. */
struct cluster_note {
	uint64_t id;	/* the top list's cluster id (a group) */
	uint64_t at_ns; /* datapath time of that evaluation */
	uint32_t kinds;
	char evidence[STATUS_EVIDENCE]; /* farm_cluster's */
};

struct status_history {
	const struct envelope *env;
	/* fresh indicators per wall-clock minute, by kind (a ring) */
	struct {
		uint64_t minute;
		uint64_t n[IND_COUNT];
	} minutes[HOUR_MINUTES];
	struct status_indicator recent[STATUS_RECENT]; /* a ring */
	size_t n_recent, next;
	struct cluster_note notes[CLUSTER_NOTES];
	uint64_t evidence_omitted;
};

struct status_history *status_history_new(const struct envelope *env)
{
	struct status_history *h = calloc(1, sizeof(*h));

	if (h)
		h->env = env;
	return h;
}

void status_history_free(struct status_history *h)
{
	free(h);
}

/* The evidence as JSON text, or "" (counted) when longer than its room:
 * the page shows all of it or none, never a cut JSON text. */
static void evidence_text(struct status_history *h, json_object *ev, char *buf,
			  size_t cap)
{
	const char *t = ev ? json_object_to_json_string_ext(
				 ev, JSON_C_TO_STRING_PLAIN |
					 JSON_C_TO_STRING_NOSLASHESCAPE)
			   : "";

	if (strlen(t) < cap) {
		memcpy(buf, t, strlen(t) + 1);
		return;
	}
	buf[0] = 0;
	h->evidence_omitted++;
}

/* The note of a cluster: its own, else the one not written longest. */
static struct cluster_note *note_of(struct status_history *h, uint64_t id)
{
	struct cluster_note *old = &h->notes[0];

	for (size_t i = 0; i < CLUSTER_NOTES; i++) {
		if (h->notes[i].id == id)
			return &h->notes[i];
		if (h->notes[i].at_ns < old->at_ns)
			old = &h->notes[i];
	}
	old->id = id;
	old->at_ns = 0;
	return old;
}

static void note_cluster(struct status_history *h, const struct indicator *ind)
{
	struct cluster_note *n = note_of(h, ind->cluster_id);

	if (n->at_ns != ind->at_ns) { /* a new evaluation */
		n->at_ns = ind->at_ns;
		n->kinds = 0;
		n->evidence[0] = 0;
	}
	n->kinds |= 1u << ind->kind;
	if (ind->kind == IND_FARM_CLUSTER)
		evidence_text(h, ind_evidence(ind), n->evidence,
			      sizeof(n->evidence));
}

void status_history_on_indicator(void *ctx, const struct indicator *ind)
{
	struct status_history *h = ctx;
	uint64_t wall = envelope_wall(h->env, ind->at_ns);
	uint64_t minute = wall / MINUTE_NS;
	struct status_indicator *r;

	if (ind->cluster_id)
		note_cluster(h, ind);
	if (!ind->fresh)
		return;
	if (h->minutes[minute % HOUR_MINUTES].minute != minute) {
		memset(&h->minutes[minute % HOUR_MINUTES], 0,
		       sizeof(h->minutes[0]));
		h->minutes[minute % HOUR_MINUTES].minute = minute;
	}
	h->minutes[minute % HOUR_MINUTES].n[ind->kind]++;
	r = &h->recent[h->next];
	h->next = (h->next + 1) % STATUS_RECENT;
	if (h->n_recent < STATUS_RECENT)
		h->n_recent++;
	*r = (struct status_indicator){
	    .at_ns = wall,
	    .score = ind->score,
	    .cluster_id = ind->cluster_id,
	    .sources = (uint32_t)ind->n_sources,
	    .kind = (uint8_t)ind->kind,
	};
	if (ind->n_sources)
		r->source = ind->sources[0];
	evidence_text(h, ind->evidence, r->evidence, sizeof(r->evidence));
}

void status_history_add(const struct status_history *h, struct status_page *out,
			uint64_t now_ns)
{
	uint64_t wall = envelope_wall(h->env, now_ns);
	uint64_t minute = wall / MINUTE_NS;
	size_t i, k;

	for (i = 0; i < HOUR_MINUTES; i++)
		if (h->minutes[i].minute + HOUR_MINUTES > minute)
			for (k = 0; k < IND_COUNT; k++)
				out->hour[k] += h->minutes[i].n[k];
	for (i = 1; i <= h->n_recent; i++) {
		const struct status_indicator *r =
		    &h->recent[(h->next + STATUS_RECENT - i) % STATUS_RECENT];

		if (r->at_ns + HOUR_NS >= wall)
			out->recent[out->n_recent++] = *r;
	}
	/* what the evaluation at now said of the clusters listed */
	for (i = 0; i < out->n_clusters; i++)
		for (k = 0; k < CLUSTER_NOTES; k++) {
			const struct cluster_note *no = &h->notes[k];
			struct status_cluster *c = &out->clusters[i];

			if (no->id != c->d.v.cluster_id || no->at_ns != now_ns)
				continue;
			c->kinds = no->kinds;
			memcpy(c->evidence, no->evidence, sizeof(c->evidence));
		}
	out->evidence_omitted = h->evidence_omitted;
}

/* The blocks made last (by policy round), the rules renewed last. */
static void add_decisions(struct status_page *out, struct pipeline *pl)
{
	const struct envelope *env = &pl->out.env;
	struct table *t = policy_blocks(pl->policy);
	uint64_t
	    rank[STATUS_BLOCKS > STATUS_RULES ? STATUS_BLOCKS : STATUS_RULES];
	size_t pos = 0;
	const void *k;
	void *v;

	while (table_next(t, &pos, &k, &v)) {
		const struct desired_block *d = v;
		struct status_block *b;

		out->blocks_pending += d->state != DS_WRITTEN;
		b = topk_slot(out->blocks, rank, &out->n_blocks, STATUS_BLOCKS,
			      sizeof(*b), d->round);
		if (!b)
			continue;
		*b = (struct status_block){
		    .key = ((const struct block_key *)k)->k,
		    .expires_ns =
			d->expires_ns ? envelope_wall(env, d->expires_ns) : 0,
		    .score = d->score,
		    .ttl_s = d->ttl_s,
		    .offences = d->offences,
		    .reason = d->reason,
		    .state = d->state,
		};
	}
	out->blocks_total = table_len(t);
	t = policy_rules(pl->policy);
	pos = 0;
	while (table_next(t, &pos, &k, &v)) {
		const struct desired_rule *d = v;
		struct status_rule *u;

		out->rules_pending += d->state != DS_WRITTEN;
		u = topk_slot(out->rules, rank, &out->n_rules, STATUS_RULES,
			      sizeof(*u), d->expires_ns);
		if (!u)
			continue;
		*u = (struct status_rule){
		    .id = *(const uint64_t *)k,
		    .expires_ns =
			d->expires_ns ? envelope_wall(env, d->expires_ns) : 0,
		    .score = d->score,
		    .ttl_s = d->ttl_s,
		    .min_gap_us = d->min_gap_us,
		    .min_ack_hello_us = d->min_ack_hello_us,
		    .low_ack_us = d->low_ack_us,
		    .lead_max_us = d->lead_max_us,
		    .kind = d->kind,
		    .reason = d->reason,
		    .state = d->state,
		};
	}
	out->rules_total = table_len(t);
}

struct cut_walk {
	struct status_page *out;
	const struct envelope *env;
	uint64_t now;
	uint64_t rank[STATUS_CUTS];
};

/* A live cut flow; its expiry is pushed on by each client packet, so the
 * latest expiries are the flows seen last. */
static int on_cut(const void *key, const void *val, void *ctx)
{
	const struct hs_cut *c = val;
	struct cut_walk *w = ctx;
	struct status_cut *u;

	if (c->expires_ns <= w->now)
		return 0;
	w->out->cuts_total++;
	u = topk_slot(w->out->cuts, w->rank, &w->out->n_cuts, STATUS_CUTS,
		      sizeof(*u), c->expires_ns);
	if (u)
		*u = (struct status_cut){
		    .key = *(const struct hs_flow_key *)key,
		    .rule_id = c->rule_id,
		    .last_ns =
			envelope_wall(w->env, c->expires_ns - HS_CUT_TTL_NS),
		    .kind = c->kind,
		};
	return 0;
}

static void add_datapath(struct status_page *out, const struct pipeline *pl,
			 const struct status_inputs *in, uint64_t now)
{
	struct cut_walk w = {.out = out, .env = &pl->out.env, .now = now};
	struct hs_stats st;

	if (!stats_read(in->stats_fd, &st)) {
		out->block_drops = st.block_drops;
		out->block_would_drop = st.block_would_drop;
		out->tuple_drops = st.tuple_drops;
		out->tuple_would_drop = st.tuple_would_drop;
		out->tuple_cuts = st.tuple_cuts;
		out->tuple_gap_spared = st.tuple_gap_spared;
		out->evasive_cuts = st.evasive_cuts;
	}
	/* the cuts map is bounded (16384): one batched walk a round */
	if (in->cuts_fd > 0)
		map_each(in->cuts_fd, sizeof(struct hs_flow_key),
			 sizeof(struct hs_cut), on_cut, &w);
}

void status_snapshot_build(struct status_page *out,
			   const struct status_history *h, struct pipeline *pl,
			   const struct status_inputs *in, uint64_t now_ns)
{
	uint64_t wall = envelope_wall(&pl->out.env, now_ns);
	struct cluster_detail top[CORR_TOP_K];
	struct enforce_stats es;
	struct corr_stats cs;

	memset(out, 0, sizeof(*out));
	snprintf(out->iface, sizeof(out->iface), "%s", in->iface);
	out->enforce = in->enforce;
	out->started_ns = in->started_ns;
	corr_get_stats(pl->corr, &cs);
	enforcer_get_stats(pl->enf, &es);
	out->rounds = cs.evals;
	out->round_ns = cs.evals ? wall : 0;
	out->clusters_total = cs.cluster_groups;
	out->farm_clusters = cs.farm_clusters;
	out->manual_blocks = es.manual_blocks;
	out->n_clusters = corr_top_details(pl->corr, top, CORR_TOP_K);
	for (size_t i = 0; i < out->n_clusters; i++)
		out->clusters[i].d = top[i];
	status_history_add(h, out, now_ns);
	add_decisions(out, pl);
	add_datapath(out, pl, in, now_ns);
}
