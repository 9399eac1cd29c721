/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The blocking layer: prefix blocks (LPM trie with kernel-time expiry),
 * an allowlist that always wins, and tuple rules that cut a farm's flows
 * at their next client packet whatever address they come from. Dry-run
 * (the default) counts what would be dropped; only --enforce drops.
 */
#ifndef HS_BPF_VERDICT_H
#define HS_BPF_VERDICT_H

#include "hydrascope/relay.h"
#include "maps.h"
#include "parse.h"

static __always_inline struct hs_block_hint *get_hint(void)
{
	__u32 zero = 0;

	/* an array lookup: inlined by the verifier, a few ns */
	return bpf_map_lookup_elem(&block_hint, &zero);
}

static __always_inline bool allowlisted(const struct hs_addr *a)
{
	struct hs_block_hint *hint = get_hint();
	struct hs_lpm_key k = {.prefixlen = 128};

	if (hint && !hint->allows)
		return false; /* empty allowlist: skip the trie */
	__builtin_memcpy(k.addr, a->b, 16);
	return bpf_map_lookup_elem(&allowlist, &k) != NULL;
}

/* XDP_DROP or XDP_PASS for a source address. With an empty blocklist this
 * costs one array lookup; otherwise one trie lookup when no block covers
 * the source, and the allowlist is only consulted on a hit. */
static __always_inline int prefix_verdict(const struct hs_addr *src,
					  struct hs_stats *st)
{
	struct hs_lpm_key k = {.prefixlen = 128};
	struct hs_block_hint *hint = get_hint();
	struct hs_block *b;

	if (hint && !hint->prefixes)
		return XDP_PASS; /* nothing blocked: skip the trie */
	__builtin_memcpy(k.addr, src->b, 16);
	b = bpf_map_lookup_elem(&blocklist, &k);
	if (!b)
		return XDP_PASS;
	if (b->expires_ns && now_ns() >= b->expires_ns) {
		st->block_expired++;
		return XDP_PASS;
	}
	if (allowlisted(src)) {
		st->allow_hits++;
		return XDP_PASS;
	}
	if (!cfg.enforce) {
		st->block_would_drop++;
		return XDP_PASS;
	}
	st->block_drops++;
	return XDP_DROP;
}

/* The relay test of a relay-conditional rule, hs_relay_cut (relay.h, the
 * function userspace learns the bounds with), on a clean timing (no
 * retransmitted SYN-ACK or server flight). Returns 1 relay, 0 no relay,
 * -1 not measured (yet). */
static __always_inline int relay_test(const struct hs_flow *f,
				      const struct hs_tuple_rule *r)
{
	if (!(f->flags & HS_F_CLI_FLIGHT))
		return -1; /* decide on a later packet */
	if (!(f->flags & HS_F_ACK) ||
	    f->flags & (HS_F_SYNACK_RTX | HS_F_SRV_RTX) || !f->synack_us ||
	    !f->hello_us || f->ack_us < f->synack_us ||
	    f->hello_us < f->ack_us || f->cli_flight_us < f->srv_flight_us)
		return 0; /* no clean timing: never proof of a relay */
	return hs_relay_cut(r, f->ack_us - f->synack_us,
			    f->cli_flight_us - f->srv_flight_us,
			    f->hello_us - f->ack_us);
}

/* A live rule of the given kind for id, or NULL. */
static __always_inline struct hs_tuple_rule *rule_get(__u64 id, __u8 kind,
						      __u64 now)
{
	struct hs_tuple_rule *r = bpf_map_lookup_elem(&tuple_rules, &id);

	if (!r || r->kind != kind || (r->expires_ns && now >= r->expires_ns))
		return NULL;
	return r;
}

/* Enter a cut flow in the cuts map, where a flood of new flows cannot
 * evict it: why is the rule's reason, its kind in bits 32-39 (five
 * arguments at most). Not inlined, and its value written in place: no
 * stack on the packet path's deepest chain. */
static const struct hs_cut cut_init;

static __noinline void cut_enter(const struct hs_flow_key *k, __u64 id,
				 __u64 why, __u64 now, struct hs_stats *st)
{
	struct hs_block_hint *hint = get_hint();
	struct hs_cut *c;

	if (!k || !st)
		return;
	if (hint && !hint->cuts)
		hint->cuts = 1; /* before the entry: never an unseen cut */
	if (bpf_map_update_elem(&cuts, k, &cut_init, BPF_ANY)) {
		st->cut_insert_fail++;
		return;
	}
	c = bpf_map_lookup_elem(&cuts, k);
	if (!c) {
		st->cut_insert_fail++;
		return;
	}
	c->expires_ns = now + HS_CUT_TTL_NS;
	c->rule_id = id;
	c->reason = (__u32)why;
	c->kind = (__u8)(why >> 32);
	st->cut_inserts++;
}

/* Cut the flow: its packets drop from now on (enforce), and it goes into
 * the cuts map. Spared: an allowlisted client, and a flow whose handshake
 * was not seen completed (opened mid-stream), which one forged packet can
 * make: it would cut the address's real connection on that 5-tuple later
 * and fill the cuts map, one packet an entry. Returns whether it cut. */
static __always_inline bool cut_flow(struct hs_flow *f,
				     const struct hs_flow_key *k, __u64 id,
				     __u32 reason, __u8 kind, __u64 now,
				     struct hs_stats *st)
{
	if (!(f->flags & HS_F_ACK)) {
		st->cut_unproven++;
		f->flags |= HS_F_CUT_SPARED;
		return false;
	}
	if (allowlisted(&k->client)) {
		st->allow_hits++;
		f->flags |= HS_F_CUT_SPARED;
		return false;
	}
	f->flags |= HS_F_CUT;
	cut_enter(k, id, (__u64)kind << 32 | reason, now, st);
	return true;
}

/* A hello no TLS stack sends: more records or segments than the walk
 * follows, or more items than its budget. Only a client hiding its
 * fingerprint shapes one, and the server still takes it, so the flow
 * would go unrecognised; cut like a rule's match (cfg.cut_evasive).
 * Shapes a benign client can make (IP fragments, a hole, TFO) are
 * flagged, never cut. */
static __always_inline bool hello_evasive(const struct hs_flow *f)
{
	return f->flags & HS_F_UNFP &&
	       (f->unfp_reason == HS_U_RECORDS || f->unfp_reason == HS_U_SEGS ||
		f->unfp_reason == HS_U_BUDGET);
}

/* Is this client packet's flow in the cuts map? Pushes its expiry on. */
static __always_inline bool cut_lookup(const struct hs_flow_key *k, __u64 now,
				       struct hs_stats *st)
{
	struct hs_block_hint *hint = get_hint();
	struct hs_cut *c;

	if (hint && !hint->cuts)
		return false; /* no cut ever entered: skip the lookup */
	c = bpf_map_lookup_elem(&cuts, k);
	if (!c)
		return false;
	if (now >= c->expires_ns) {
		bpf_map_delete_elem(&cuts, k);
		st->cut_expired++;
		return false;
	}
	c->expires_ns = now + HS_CUT_TTL_NS;
	st->cut_hits++;
	return true;
}

/* Once the ids are known: does a rule cut this flow? A tuple-id rule is
 * looked up first, then a TLS-id rule. Unconditional rules decide at
 * once; relay-conditional ones when the TLS round trip is measured (the
 * client's second flight, before its first request). A flow whose hello
 * is evasive (no ids to match) is cut by that alone. */
static __always_inline void tuple_check(struct hs_flow *f,
					const struct hs_flow_key *k, __u64 now,
					struct hs_stats *st)
{
	struct hs_block_hint *hint;
	struct hs_tuple_rule *r;
	__u64 id;
	int relay;

	if (f->flags & (HS_F_CUT | HS_F_CUT_SPARED))
		return;
	if (cfg.cut_evasive && hello_evasive(f)) {
		if (cut_flow(f, k, f->unfp_reason, 0, HS_RULE_EVASIVE, now, st))
			st->evasive_cuts++;
		return;
	}
	if (!(f->flags & HS_F_TUPLE))
		return;
	hint = get_hint();
	if (hint && (!hint->rules || hint->rules == f->rule_gen))
		return; /* no rules, or none for us since they last changed */
	id = f->tuple_id;
	r = rule_get(id, HS_RULE_TUPLE, now);
	if (!r) {
		id = f->tls_id;
		r = rule_get(id, HS_RULE_TLS, now);
	}
	if (!r) {
		if (hint)
			f->rule_gen = hint->rules;
		return;
	}
	if (r->min_gap_us || r->min_ack_hello_us || r->low_ack_us) {
		relay = relay_test(f, r);
		if (relay < 0)
			return;
		if (!relay) {
			st->tuple_gap_spared++;
			f->flags |= HS_F_CUT_SPARED;
			return;
		}
	}
	if (r->kind == HS_RULE_TLS)
		st->tls_rule_hits++;
	if (cut_flow(f, k, id, r->reason, r->kind, now, st))
		st->tuple_cuts++;
}

/* Verdict for a client packet of a cut flow. */
static __always_inline int cut_verdict(struct hs_stats *st)
{
	if (!cfg.enforce) {
		st->tuple_would_drop++;
		return XDP_PASS;
	}
	st->tuple_drops++;
	return XDP_DROP;
}

/* Verdict for a client packet of a flow that a tuple rule cut. */
static __always_inline int flow_verdict(const struct hs_flow *f,
					struct hs_stats *st)
{
	if (!(f->flags & HS_F_CUT))
		return XDP_PASS;
	return cut_verdict(st);
}

#endif /* HS_BPF_VERDICT_H */
