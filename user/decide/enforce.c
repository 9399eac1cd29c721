// SPDX-License-Identifier: BSD-2-Clause
#include "decide/enforce.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "datapath/loader.h"
#include "datapath/mapiter.h"
#include "decide/policy.h"

#define BATCH 4096

struct written {
	uint64_t expires_ns; /* as last written */
};

struct enforcer {
	struct enforce_fds fd;
	/* what this process wrote and believes the maps hold */
	struct table *blocks; /* block_key -> written */
	struct table *rules;  /* u64 -> written */
	struct enforce_stats st;
	bool rules_changed; /* since the hint was last marked */
	/* batch buffers */
	struct hs_lpm_key *bkeys;
	struct hs_block *bvals;
	uint64_t *rkeys;
	struct hs_tuple_rule *rvals;
};

struct enforcer *enforcer_new(const struct enforce_fds *fds)
{
	struct enforcer *e = calloc(1, sizeof(*e));
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	size_t max = 1 << 16;

	if (!e)
		return NULL;
	e->fd = *fds;
	if (!bpf_obj_get_info_by_fd(fds->blocklist, &info, &len))
		max = info.max_entries;
	/* what the map holds, plus entries removed from outside that stay
	 * here until the next verify notices: the table must never evict */
	e->blocks = table_new(2 * max + 16, sizeof(struct block_key),
			      sizeof(struct written), NULL);
	e->rules = table_new(2 * HS_DEFAULT_TUPLE_RULES + 16, sizeof(uint64_t),
			     sizeof(struct written), NULL);
	e->bkeys = calloc(BATCH, sizeof(*e->bkeys));
	e->bvals = calloc(BATCH, sizeof(*e->bvals));
	e->rkeys = calloc(BATCH, sizeof(*e->rkeys));
	e->rvals = calloc(BATCH, sizeof(*e->rvals));
	if (!e->blocks || !e->rules || !e->bkeys || !e->bvals || !e->rkeys ||
	    !e->rvals) {
		enforcer_free(e);
		return NULL;
	}
	return e;
}

void enforcer_free(struct enforcer *e)
{
	if (!e)
		return;
	table_free(e->blocks);
	table_free(e->rules);
	free(e->bkeys);
	free(e->bvals);
	free(e->rkeys);
	free(e->rvals);
	free(e);
}

/* Write n entries in one batch; on a partial failure, one by one so that
 * each failing entry is known. Returns a bitmap-free result: ok[i]. */
static void write_batch(int fd, void *keys, void *vals, size_t ksz, size_t vsz,
			size_t n, bool *ok)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	__u32 count = (__u32)n;
	size_t i;

	if (!n)
		return;
	if (!bpf_map_update_batch(fd, keys, vals, &count, &opts)) {
		for (i = 0; i < n; i++)
			ok[i] = true;
		return;
	}
	for (i = 0; i < n; i++)
		ok[i] = i < count ||
			!bpf_map_update_elem(fd, (char *)keys + i * ksz,
					     (char *)vals + i * vsz, BPF_ANY);
}

/* Returns how many were deleted. */
static size_t delete_batch(int fd, void *keys, size_t ksz, size_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = (__u32)n;
	size_t done;

	if (!n || !bpf_map_delete_batch(fd, keys, &count, &opts))
		return n;
	/* ENOENT stops a batch: finish one by one */
	done = count;
	for (size_t i = count; i < n; i++)
		done += !bpf_map_delete_elem(fd, (char *)keys + i * ksz);
	return done;
}

/* ---- blocks -------------------------------------------------------------- */

/* After a write: count it, remember what the map now holds, and tell the
 * policy's entry (state, may be NULL) whether it is in place. */
static void note_write(struct enforcer *e, bool ok, struct table *written,
		       const void *key, uint64_t expires_ns, uint8_t *state)
{
	struct written *w;

	if (!ok) {
		e->st.write_failures++;
		if (state)
			*state = DS_FAILED;
		return;
	}
	e->st.writes++;
	w = table_get_or_add(written, key, NULL);
	if (w)
		w->expires_ns = expires_ns;
	if (state)
		*state = DS_WRITTEN;
}

static void flush_block_writes(struct enforcer *e, struct policy *p, size_t n)
{
	bool ok[BATCH];
	size_t i;

	write_batch(e->fd.blocklist, e->bkeys, e->bvals, sizeof(*e->bkeys),
		    sizeof(*e->bvals), n, ok);
	for (i = 0; i < n; i++) {
		struct block_key bk = {.k = e->bkeys[i]};
		struct desired_block *d = table_get(policy_blocks(p), &bk);

		note_write(e, ok[i], e->blocks, &bk, e->bvals[i].expires_ns,
			   d ? &d->state : NULL);
	}
}

/* A block the datapath holds, renewed since it was written: written again
 * once the datapath's expiry comes within the policy's lead. */
static bool rewrite_due(struct enforcer *e, struct policy *p,
			const struct block_key *bk,
			const struct desired_block *d, uint64_t now)
{
	const struct written *w = table_get(e->blocks, bk);

	return w && w->expires_ns && d->expires_ns > w->expires_ns &&
	       w->expires_ns < now + policy_rewrite_lead_ns(p, d);
}

static void write_blocks(struct enforcer *e, struct policy *p, uint64_t now)
{
	size_t pos = 0, n = 0;
	const void *k;
	void *v;

	while (table_next(policy_blocks(p), &pos, &k, &v)) {
		const struct block_key *bk = k;
		struct desired_block *d = v;

		if (d->state == DS_WRITTEN && !rewrite_due(e, p, bk, d, now))
			continue;
		if (policy_allowlisted(p, &bk->k)) {
			d->state = DS_FAILED; /* never written; lifted on
					       * the next verify round */
			continue;
		}
		e->bkeys[n] = bk->k;
		e->bvals[n] = (struct hs_block){.expires_ns = d->expires_ns,
						.reason = HS_R_INDICATOR};
		if (++n == BATCH) {
			flush_block_writes(e, p, n);
			n = 0;
		}
	}
	flush_block_writes(e, p, n);
}

static bool block_unwanted(const void *k, const void *v, void *ctx)
{
	struct policy *p = ctx;

	(void)v;
	return !table_get(policy_blocks(p), k);
}

static bool allow_covers(const void *k, const void *v, void *ctx)
{
	(void)v;
	return policy_allowlisted(ctx, &((const struct block_key *)k)->k);
}

static void delete_blocks(struct enforcer *e, struct policy *p, bool verify)
{
	void *keys;
	size_t n, i, j;

	/* the allowlist wins: forget what it covers (new allowlist entries
	 * are found on verify rounds; `allow add` lifts the kernel's blocks
	 * itself at once). Still in e->blocks, so deleted just below. */
	if (verify) {
		n = table_collect(policy_blocks(p), allow_covers, p, &keys);
		for (i = 0; i < n; i++)
			policy_lift_block(p, (struct block_key *)keys + i);
		free(keys);
	}

	n = table_collect(e->blocks, block_unwanted, p, &keys);
	for (i = 0; i < n; i += BATCH) {
		size_t m = n - i < BATCH ? n - i : BATCH;

		for (j = 0; j < m; j++)
			e->bkeys[j] = ((struct block_key *)keys)[i + j].k;
		delete_batch(e->fd.blocklist, e->bkeys, sizeof(*e->bkeys), m);
		for (j = 0; j < m; j++)
			table_del(e->blocks, (struct block_key *)keys + i + j);
		e->st.deletes += m;
	}
	free(keys);
}

struct verify_ctx {
	struct enforcer *e;
	struct policy *p;
	uint64_t now;
	struct table *seen; /* block keys present in the map */
	struct hs_lpm_key *stale;
	size_t n_stale, cap_stale;
	size_t manual, enforced, active;
};

static int verify_block(const void *key, const void *val, void *ctx)
{
	struct verify_ctx *vc = ctx;
	const struct hs_block *b = val;
	struct block_key bk = {.k = *(const struct hs_lpm_key *)key};

	vc->active += !b->expires_ns || b->expires_ns > vc->now;
	if (b->reason != HS_R_INDICATOR) {
		vc->manual++;
		return 0;
	}
	if (table_get(vc->e->blocks, &bk)) {
		table_get_or_add(vc->seen, &bk, NULL);
		vc->enforced++;
		return 0;
	}
	/* an indicator entry this process does not own: stale */
	if (vc->n_stale == vc->cap_stale) {
		size_t nc = vc->cap_stale ? vc->cap_stale * 2 : 256;
		struct hs_lpm_key *q = realloc(vc->stale, nc * sizeof(*q));

		if (!q)
			return 0;
		vc->stale = q;
		vc->cap_stale = nc;
	}
	vc->stale[vc->n_stale++] = bk.k;
	return 0;
}

static bool not_seen(const void *k, const void *v, void *ctx)
{
	(void)v;
	return !table_get(ctx, k);
}

static void verify_blocks(struct enforcer *e, struct policy *p, uint64_t now)
{
	struct verify_ctx vc = {.e = e, .p = p, .now = now};
	void *gone;
	size_t n, i;

	vc.seen = table_new(table_len(e->blocks) + 16, sizeof(struct block_key),
			    0, NULL);
	if (!vc.seen)
		return;
	if (map_each(e->fd.blocklist, sizeof(struct hs_lpm_key),
		     sizeof(struct hs_block), verify_block, &vc) < 0)
		goto out;
	/* written by us, gone from the map: an operator removed it */
	n = table_collect(e->blocks, not_seen, vc.seen, &gone);
	for (i = 0; i < n; i++) {
		policy_lift_block(p, (struct block_key *)gone + i);
		table_del(e->blocks, (struct block_key *)gone + i);
	}
	e->st.lifted_outside += n;
	free(gone);
	for (i = 0; i < vc.n_stale; i += BATCH) {
		size_t m = vc.n_stale - i < BATCH ? vc.n_stale - i : BATCH;

		delete_batch(e->fd.blocklist, vc.stale + i, sizeof(*vc.stale),
			     m);
	}
	e->st.stale_removed += vc.n_stale;
	e->st.manual_blocks = vc.manual;
	e->st.enforced_blocks = vc.enforced;
	e->st.active_blocks = vc.active;
out:
	free(vc.stale);
	table_free(vc.seen);
}

/* ---- tuple rules ------------------------------------------------------- */

static void write_rules(struct enforcer *e, struct policy *p)
{
	size_t pos = 0, n = 0, i;
	bool ok[BATCH];
	const void *k;
	void *v;

	while (table_next(policy_rules(p), &pos, &k, &v) && n < BATCH) {
		struct desired_rule *d = v;

		if (d->state == DS_WRITTEN)
			continue;
		e->rkeys[n] = *(const uint64_t *)k;
		e->rvals[n] = (struct hs_tuple_rule){
		    .expires_ns = d->expires_ns,
		    .min_gap_us = d->min_gap_us,
		    .reason = HS_R_INDICATOR,
		    .min_ack_hello_us = d->min_ack_hello_us,
		    .kind = d->kind,
		    .low_ack_us = d->low_ack_us,
		    .lead_max_us = d->lead_max_us};
		n++;
	}
	write_batch(e->fd.tuple_rules, e->rkeys, e->rvals, sizeof(*e->rkeys),
		    sizeof(*e->rvals), n, ok);
	e->rules_changed |= n > 0;
	for (i = 0; i < n; i++) {
		struct desired_rule *d =
		    table_get(policy_rules(p), &e->rkeys[i]);

		note_write(e, ok[i], e->rules, &e->rkeys[i],
			   e->rvals[i].expires_ns, d ? &d->state : NULL);
	}
}

static bool rule_unwanted(const void *k, const void *v, void *ctx)
{
	(void)v;
	return !table_get(policy_rules(ctx), k);
}

static bool rule_gone(const void *k, const void *v, void *ctx)
{
	struct hs_tuple_rule r;

	(void)v;
	return bpf_map_lookup_elem(*(int *)ctx, k, &r) != 0;
}

static void delete_rules(struct enforcer *e, struct policy *p, bool verify)
{
	void *keys;
	size_t n, i;

	n = table_collect(e->rules, rule_unwanted, p, &keys);
	for (i = 0; i < n; i++) {
		bpf_map_delete_elem(e->fd.tuple_rules, (uint64_t *)keys + i);
		table_del(e->rules, (uint64_t *)keys + i);
	}
	e->st.deletes += n;
	e->rules_changed |= n > 0;
	free(keys);
	if (!verify)
		return;
	/* rules this process wrote that are gone: removed by an operator */
	n = table_collect(e->rules, rule_gone, &e->fd.tuple_rules, &keys);
	for (i = 0; i < n; i++) {
		policy_lift_rule(p, ((uint64_t *)keys)[i]);
		table_del(e->rules, (uint64_t *)keys + i);
	}
	e->st.lifted_outside += n;
	free(keys);
	e->st.enforced_rules = table_len(e->rules);
}

/* ---- rounds -------------------------------------------------------------- */

static int adopt_block(const void *key, const void *val, void *ctx)
{
	struct verify_ctx *vc = ctx;
	const struct hs_block *b = val;
	struct block_key bk = {.k = *(const struct hs_lpm_key *)key};
	struct written *w;

	if (b->reason != HS_R_INDICATOR ||
	    (b->expires_ns && b->expires_ns <= vc->now))
		return 0;
	policy_adopt_block(vc->p, &bk.k, b, vc->now);
	if (!table_get(policy_blocks(vc->p), &bk))
		return 0;
	w = table_get_or_add(vc->e->blocks, &bk, NULL);
	if (w)
		w->expires_ns = b->expires_ns;
	vc->enforced++;
	return 0;
}

static int adopt_rule(const void *key, const void *val, void *ctx)
{
	struct verify_ctx *vc = ctx;
	const struct hs_tuple_rule *r = val;
	uint64_t id = *(const uint64_t *)key;
	struct written *w;

	if (r->reason != HS_R_INDICATOR ||
	    (r->expires_ns && r->expires_ns <= vc->now))
		return 0;
	policy_adopt_rule(vc->p, id, r, vc->now);
	if (!table_get(policy_rules(vc->p), &id))
		return 0;
	w = table_get_or_add(vc->e->rules, &id, NULL);
	if (w)
		w->expires_ns = r->expires_ns;
	vc->enforced++;
	return 0;
}

size_t enforcer_adopt(struct enforcer *e, struct policy *p, uint64_t now_ns)
{
	struct verify_ctx vc = {.e = e, .p = p, .now = now_ns};

	map_each(e->fd.blocklist, sizeof(struct hs_lpm_key),
		 sizeof(struct hs_block), adopt_block, &vc);
	map_each(e->fd.tuple_rules, sizeof(uint64_t),
		 sizeof(struct hs_tuple_rule), adopt_rule, &vc);
	return vc.enforced;
}

/* ---- cut flows ---------------------------------------------------------- */

/* The datapath removes a lapsed cut when the flow sends again; a flow that
 * went quiet leaves its entry behind. Verify rounds remove those, so the
 * bounded cuts map keeps room for new cuts: read in batches, deleted in
 * batches (it was two system calls an entry). */
struct cut_sweep {
	uint64_t now;
	struct hs_flow_key *gone;
	size_t n, cap;
};

static int cut_lapsed(const void *key, const void *val, void *ctx)
{
	struct cut_sweep *cs = ctx;
	const struct hs_cut *c = val;

	if (c->expires_ns > cs->now)
		return 0;
	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? 2 * cs->cap : 256;
		struct hs_flow_key *g = realloc(cs->gone, cap * sizeof(*g));

		if (!g)
			return 1; /* the rest at the next verify round */
		cs->gone = g;
		cs->cap = cap;
	}
	memcpy(&cs->gone[cs->n++], key, sizeof(*cs->gone));
	return 0;
}

static void sweep_cuts(struct enforcer *e, uint64_t now)
{
	struct cut_sweep cs = {.now = now};

	if (e->fd.cuts <= 0)
		return;
	map_each(e->fd.cuts, sizeof(struct hs_flow_key), sizeof(struct hs_cut),
		 cut_lapsed, &cs);
	for (size_t i = 0; i < cs.n; i += BATCH)
		e->st.cuts_expired +=
		    delete_batch(e->fd.cuts, cs.gone + i, sizeof(*cs.gone),
				 cs.n - i < BATCH ? cs.n - i : BATCH);
	free(cs.gone);
}

void enforcer_reconcile(struct enforcer *e, struct policy *p, uint64_t now_ns,
			bool verify)
{
	e->st.rounds++;
	policy_expire(p, now_ns);
	delete_blocks(e, p, verify);
	write_blocks(e, p, now_ns);
	delete_rules(e, p, verify);
	write_rules(e, p);
	if (verify) {
		e->st.verifies++;
		verify_blocks(e, p, now_ns);
		sweep_cuts(e, now_ns);
	} else {
		e->st.enforced_blocks = table_len(e->blocks);
	}
	e->st.desired_blocks = table_len(policy_blocks(p));
	e->st.desired_rules = table_len(policy_rules(p));
	if (e->fd.hint < 0)
		return;
	if (e->rules_changed) {
		/* a new generation: flows look their rule up again */
		loader_hint_mark(e->fd.hint, HINT_RULES);
		e->rules_changed = false;
	}
	loader_hint_sync(e->fd.hint, e->fd.blocklist, e->fd.allowlist,
			 e->fd.tuple_rules, e->fd.cuts);
}

void enforcer_get_stats(const struct enforcer *e, struct enforce_stats *s)
{
	*s = e->st;
}
