// SPDX-License-Identifier: BSD-2-Clause
/*
 * What a round reads of the kernel's maps. The datapath reports each
 * flow's milestones on the flow_events ring (bpf/track.h flow_report: the
 * completed handshake, the hello, the client's second flight, FIN or RST,
 * a retransmission that spoils the timing, a move after FLOW_IDLE of
 * silence), and each event lists the flow for the next round. A listed
 * flow is read and folded (fold.c); while it is active (it moved within
 * FLOW_IDLE) it stays listed, so that every round sees what it did, as a
 * sweep of the whole map did; once idle it is folded as over and leaves
 * the list until an event names it again. A round costs what its active
 * flows cost, not what the map holds.
 *
 * The safety net is the reconciliation walk: each round reads a slice of
 * each map (a full pass every RECON_ROUNDS rounds). A flow with a
 * completed handshake that it finds moved with no event to say so (the
 * ring overflowed) is folded and counted (flows_reconciled: 0 otherwise);
 * a flow without one is counted unverified once idle; shadows of flows the
 * kernel no longer holds go at the end of a pass. Sources are read when
 * one of their flows moved, and by their own walk. Whole maps are read by
 * the first round after a restart that reused them (corr_resync), the last
 * round (every flow over), and a round that lists so many flows that one
 * batched read of the map is cheaper than a lookup each.
 */
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "correlate/state.h"
#include "lib/hstime.h"

/* Rounds a reconciliation pass takes, and the entries a slice reads at
 * least: a full pass every 16 rounds (~3 minutes at the default interval)
 * whatever the map's size. */
#define RECON_ROUNDS 16
#define RECON_MIN 1024
/* A lookup costs ~1.3 us, a batched read ~0.3 us an entry (2 vCPU VM,
 * kernel 6.18): past a quarter of the map, reading all of it is cheaper. */
#define FULL_READ_RATIO 4
#define FULL_READ_MIN 4096
/* A flow leaves the list this long after it went idle: the datapath
 * reports a move after FLOW_IDLE of silence, and the margin covers a
 * packet that moved the flow on another CPU while the round read it. */
#define SETTLE_NS (HS_FLOW_IDLE_NS + HS_NS_PER_SEC)

/* Keys of a list kept allocated between rounds at most (2.6 MB). */
#define SPARE_KEEP 65536

/* shadow.queued */
enum { Q_NO = 0, Q_NEXT, Q_THIS };

static bool list_push(struct flow_list *l, const struct hs_flow_key *k,
		      size_t max)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 1024;
		struct hs_flow_key *nk;

		if (nc > max)
			nc = max;
		if (l->n >= nc)
			return false;
		nk = realloc(l->keys, nc * sizeof(*nk));
		if (!nk)
			return false;
		l->keys = nk;
		l->cap = nc;
	}
	l->keys[l->n++] = *k;
	return true;
}

/* List the flow for the next round, once. */
static void watch_flow(struct corr *c, const struct hs_flow_key *k,
		       struct flow_shadow *sh)
{
	if (sh->queued == Q_NEXT)
		return;
	if (!list_push(&c->watch, k, c->max_flows)) {
		c->st.list_dropped++;
		return;
	}
	sh->queued = Q_NEXT;
}

/* The flow's shadow, made if need be and renewed: the shadow table gives
 * way oldest first, and flows the kernel still holds are used. */
static struct flow_shadow *shadow_of(struct corr *c,
				     const struct hs_flow_key *k)
{
	bool created;
	struct flow_shadow *sh = table_get_or_add(c->shadows, k, &created);

	if (!sh)
		return NULL;
	if (created)
		sh->pass = c->pass;
	table_renew(c->shadows, sh);
	return sh;
}

int corr_on_event(void *ctx, void *data, size_t len)
{
	struct corr *c = ctx;
	const struct hs_flow_event *ev = data;
	struct flow_shadow *sh;

	if (len < sizeof(*ev) || ev->hdr.type != HS_EV_FLOW) {
		c->st.bad_flow_events++;
		return 0;
	}
	c->st.flow_events++;
	sh = shadow_of(c, &ev->key);
	if (sh)
		watch_flow(c, &ev->key, sh);
	return 0;
}

void corr_resync(struct corr *c)
{
	c->resync = true;
}

/* Refresh the source's kernel counters this round (its flow moved). */
static void touch_source(struct corr *c, const struct hs_addr *a)
{
	struct src_state *s = table_get(c->srcs, a);

	if (!s || s->round == c->round)
		return;
	if (c->n_touched == c->touched_cap) {
		size_t nc = c->touched_cap ? 2 * c->touched_cap : 1024;
		struct hs_addr *n = realloc(c->touched, nc * sizeof(*n));

		if (!n)
			return; /* its walk reads it later */
		c->touched = n;
		c->touched_cap = nc;
	}
	c->touched[c->n_touched++] = *a;
	s->round = c->round;
}

struct round_ctx {
	struct corr *c;
	uint64_t now;
	bool over;
	enum corr_read how; /* of flows that were not listed */
	bool audit;	    /* count flows no event reported */
	bool full;	    /* the whole maps are read (sources too) */
	/* corr_set_ordered: flows to fold once the read is over */
	struct stage *stage;
};

/* Fold a flow read from the kernel; keep it listed while it is active. */
static void read_flow(struct round_ctx *r, const struct hs_flow_key *k,
		      const struct hs_flow *f, struct flow_shadow *sh,
		      enum corr_read how)
{
	struct corr *c = r->c;
	bool moved = sh->first_ns != f->first_ns || sh->last_ns != f->last_ns;

	c->st.flow_reads[how]++;
	sh->pass = c->pass;
	/* an event reports every move of a flow with a handshake that is
	 * not listed: this one went unreported */
	if (how != CORR_READ_LISTED && r->audit && moved && f->flags & HS_F_ACK)
		c->st.flows_reconciled++;
	fold_flow(c, k, f, sh, r->now, r->over);
	if (moved && !r->full)
		touch_source(c, &k->client);
	if (!r->over && r->now < f->last_ns + SETTLE_NS)
		watch_flow(c, k, sh);
}

/* corr_set_ordered: the flows a read would fold, copied, then folded in
 * time order (first packet, then flow key). */
struct staged {
	struct hs_flow_key k;
	struct hs_flow f;
	enum corr_read how;
};

struct stage {
	struct staged *v;
	size_t n, cap;
};

/* Returns false when out of memory (the caller folds at once). */
static bool stage_push(struct stage *st, const struct hs_flow_key *k,
		       const struct hs_flow *f, enum corr_read how)
{
	if (st->n == st->cap) {
		size_t nc = st->cap ? 2 * st->cap : 1024;
		struct staged *nv = realloc(st->v, nc * sizeof(*nv));

		if (!nv)
			return false;
		st->v = nv;
		st->cap = nc;
	}
	st->v[st->n++] = (struct staged){*k, *f, how};
	return true;
}

static int cmp_staged(const void *a, const void *b)
{
	const struct staged *x = a, *y = b;

	return map_time_order(x->f.first_ns, &x->k, y->f.first_ns, &y->k,
			      sizeof(x->k));
}

static void fold_staged(struct round_ctx *r, struct stage *st)
{
	if (!st->n)
		return; /* nothing staged (not ordered): no array to sort */
	qsort(st->v, st->n, sizeof(*st->v), cmp_staged);
	for (size_t i = 0; i < st->n; i++) {
		struct flow_shadow *sh = shadow_of(r->c, &st->v[i].k);

		if (sh)
			read_flow(r, &st->v[i].k, &st->v[i].f, sh,
				  st->v[i].how);
	}
	free(st->v);
	*st = (struct stage){0};
}

/* Read one flow of a whole-map read or a slice, its shadow found. */
static void read_walked(struct round_ctx *r, const void *key, const void *val,
			struct flow_shadow *sh)
{
	enum corr_read how = r->how;

	if (sh->queued == Q_THIS) {
		how = CORR_READ_LISTED;
		sh->queued = Q_NO;
	}
	/* what folds nothing is read at once, in any order */
	if (r->stage && !fold_idle(sh, val) &&
	    stage_push(r->stage, key, val, how))
		return;
	read_flow(r, key, val, sh, how);
}

/* A whole-map read: every flow, listed or not. */
static int read_any(const void *key, const void *val, void *ctx)
{
	struct round_ctx *r = ctx;
	struct flow_shadow *sh = shadow_of(r->c, key);

	if (sh)
		read_walked(r, key, val, sh);
	return 0;
}

/* A slice of the reconciliation walk: flows the list holds wait for it
 * (one lookup: a shadow found is renewed as shadow_of would). */
static int read_unlisted(const void *key, const void *val, void *ctx)
{
	struct round_ctx *r = ctx;
	struct flow_shadow *sh = table_get(r->c->shadows, key);

	if (sh && sh->queued == Q_NEXT)
		return 0;
	if (sh)
		table_renew(r->c->shadows, sh);
	else
		sh = shadow_of(r->c, key);
	if (sh)
		read_walked(r, key, val, sh);
	return 0;
}

/* Shadows the pass just completed did not find: flows the kernel dropped
 * (LRU evictions), listed ones included, but not those events listed for
 * the next round meanwhile. */
static bool shadow_stale(const void *k, const void *v, void *ctx)
{
	const struct flow_shadow *sh = v;

	(void)k;
	return sh->queued != Q_NEXT && sh->pass != *(const uint16_t *)ctx;
}

static void pass_done(struct corr *c, long entries)
{
	table_delete_if(c->shadows, shadow_stale, &c->pass);
	c->pass++;
	c->st.kernel_flows = (size_t)entries;
	c->st.recon_passes++;
}

/* Read the flows listed for this round, one lookup each. */
static void read_listed(struct round_ctx *r, int fd, const struct flow_list *l)
{
	struct corr *c = r->c;
	struct hs_flow f;

	for (size_t i = 0; i < l->n; i++) {
		struct flow_shadow *sh = table_get(c->shadows, &l->keys[i]);

		if (!sh || sh->queued != Q_THIS)
			continue; /* evicted meanwhile */
		sh->queued = Q_NO;
		if (bpf_map_lookup_elem(fd, &l->keys[i], &f)) {
			/* the kernel no longer holds it */
			table_del(c->shadows, &l->keys[i]);
			continue;
		}
		table_renew(c->shadows, sh);
		if (r->stage &&
		    stage_push(r->stage, &l->keys[i], &f, CORR_READ_LISTED))
			continue;
		read_flow(r, &l->keys[i], &f, sh, CORR_READ_LISTED);
	}
}

/* Entries a slice of the reconciliation walk reads. */
static long recon_slice(size_t max_entries)
{
	size_t n = max_entries / RECON_ROUNDS;

	return (long)(n > RECON_MIN ? n : RECON_MIN);
}

static int read_source(const void *key, const void *val, void *ctx)
{
	fold_source(ctx, key, val);
	return 0;
}

/* Sources whose flows moved, and a slice of their walk. Returns 0 or -1
 * (a map read failed). */
static int read_sources(struct corr *c, int fd, bool full)
{
	struct hs_source k;
	long n, pass;

	if (!full && c->n_touched >= FULL_READ_MIN &&
	    c->n_touched * FULL_READ_RATIO >= c->st.kernel_sources)
		full = true;
	if (full) {
		n = map_each(fd, sizeof(struct hs_addr),
			     sizeof(struct hs_source), read_source, c);
		if (n >= 0) {
			c->st.kernel_sources = (size_t)n;
			memset(&c->src_cur, 0, sizeof(c->src_cur));
		}
		c->st.source_reads += n > 0 ? (uint64_t)n : 0;
		c->n_touched = 0;
		return n < 0 ? -1 : 0;
	}
	for (size_t i = 0; i < c->n_touched; i++)
		if (!bpf_map_lookup_elem(fd, &c->touched[i], &k))
			fold_source(c, &c->touched[i], &k);
	c->st.source_reads += c->n_touched;
	c->n_touched = 0;
	n = map_slice(fd, sizeof(struct hs_addr), sizeof(struct hs_source),
		      &c->src_cur, recon_slice(c->max_sources), read_source, c,
		      &pass);
	c->st.source_reads += n > 0 ? (uint64_t)n : 0;
	if (pass >= 0)
		c->st.kernel_sources = (size_t)pass;
	return n < 0 ? -1 : 0;
}

int corr_sweep(struct corr *c, int flows_fd, int sources_fd, uint64_t now_ns,
	       bool flows_over)
{
	/* the first round after a restart reads flows no event of ours
	 * could report: not counted */
	struct stage stage = {0};
	struct round_ctx r = {c,
			      now_ns,
			      flows_over,
			      CORR_READ_RECONCILE,
			      !c->resync,
			      false,
			      c->ordered ? &stage : NULL};
	uint64_t idx = now_ns / (c->cfg.window_s * HS_NS_PER_SEC);
	struct flow_list l = c->watch;
	long n, pass = -1;
	bool full;
	int ret = 0;

	if (idx != c->win_idx) {
		/* the relay share of the window that just ended */
		c->last_samples = idx == c->win_idx + 1 ? c->win_samples : 0;
		c->last_hits = idx == c->win_idx + 1 ? c->win_hits : 0;
		c->win_idx = idx;
		c->win_samples = c->win_hits = 0;
	}
	c->round++;
	/* this round reads the list; events and active flows fill the next */
	c->watch = c->spare;
	c->watch.n = 0;
	for (size_t i = 0; i < l.n; i++) {
		struct flow_shadow *sh = table_get(c->shadows, &l.keys[i]);

		if (sh)
			sh->queued = Q_THIS;
	}
	/* a whole-map read when cheaper than lookups, and when the shadows
	 * of flows the kernel evicted (LRU churn) would soon push out those
	 * of flows it holds: its pass drops them */
	full = flows_over || c->resync ||
	       (l.n >= FULL_READ_MIN &&
		l.n * FULL_READ_RATIO >=
		    (c->st.kernel_flows ? c->st.kernel_flows : l.n)) ||
	       table_len(c->shadows) > c->max_flows + c->max_flows / 4;
	if (full) {
		r.how = CORR_READ_SWEEP;
		r.full = true;
		/* a pass of its own: only what this read finds is kept */
		c->pass++;
		n = map_each(flows_fd, sizeof(struct hs_flow_key),
			     sizeof(struct hs_flow), read_any, &r);
		fold_staged(&r, &stage);
		if (n >= 0) {
			memset(&c->flow_cur, 0, sizeof(c->flow_cur));
			pass_done(c, n);
		} else {
			ret = -1;
		}
	} else {
		read_listed(&r, flows_fd, &l);
		fold_staged(&r, &stage);
		r.stage = NULL; /* the walk folds flows no event reported */
		n = map_slice(flows_fd, sizeof(struct hs_flow_key),
			      sizeof(struct hs_flow), &c->flow_cur,
			      recon_slice(c->max_flows), read_unlisted, &r,
			      &pass);
		if (n < 0)
			ret = -1;
		else if (pass >= 0)
			pass_done(c, pass);
	}
	/* the list read keeps its memory for the next round, unless a
	 * burst of flows made it far larger than what is listed now */
	c->spare = l;
	if (c->spare.cap > 2 * c->watch.n + SPARE_KEEP) {
		free(c->spare.keys);
		c->spare = (struct flow_list){0};
	}
	if (read_sources(c, sources_fd, full))
		ret = -1;
	c->resync = false;
	return ret;
}
