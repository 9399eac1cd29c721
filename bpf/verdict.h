/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The blocking layer: prefix blocks (LPM trie with kernel-time expiry),
 * an allowlist that always wins, and tuple rules that cut a farm's flows
 * at their next client packet whatever address they come from. Dry-run
 * (the default) counts what would be dropped; only --enforce drops.
 */
#ifndef HS_BPF_VERDICT_H
#define HS_BPF_VERDICT_H

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

/* Once the tuple id is known: does a rule cut this flow? Unconditional
 * rules decide at once; relay-conditional ones when the TLS round trip is
 * measured (the client's second flight, before its first request). */
static __always_inline void tuple_check(struct hs_flow *f,
					const struct hs_flow_key *k, __u64 now,
					struct hs_stats *st)
{
	struct hs_block_hint *hint;
	struct hs_tuple_rule *r;
	__u32 tcp_rtt, tls_rtt;

	if (!(f->flags & HS_F_TUPLE) || f->flags & (HS_F_CUT | HS_F_CUT_SPARED))
		return;
	hint = get_hint();
	if (hint && (!hint->rules || hint->rules == f->rule_gen))
		return; /* no rules, or none for us since they last changed */
	r = bpf_map_lookup_elem(&tuple_rules, &f->tuple_id);
	if (!r || (r->expires_ns && now >= r->expires_ns)) {
		if (hint)
			f->rule_gen = hint->rules;
		return;
	}
	if (r->min_gap_us) {
		if (!(f->flags & HS_F_CLI_FLIGHT) || !(f->flags & HS_F_ACK) ||
		    f->flags & (HS_F_SYNACK_RTX | HS_F_SRV_RTX))
			return; /* not measured (yet): decide on a later packet
				 */
		tcp_rtt = f->ack_us - f->synack_us;
		tls_rtt = f->cli_flight_us - f->srv_flight_us;
		if (tls_rtt < tcp_rtt || tls_rtt - tcp_rtt < r->min_gap_us) {
			st->tuple_gap_spared++;
			f->flags |= HS_F_CUT_SPARED;
			return;
		}
	}
	if (allowlisted(&k->client)) {
		st->allow_hits++;
		f->flags |= HS_F_CUT_SPARED;
		return;
	}
	f->flags |= HS_F_CUT;
	st->tuple_cuts++;
}

/* Verdict for a client packet of a flow that a tuple rule cut. */
static __always_inline int flow_verdict(const struct hs_flow *f,
					struct hs_stats *st)
{
	if (!(f->flags & HS_F_CUT))
		return XDP_PASS;
	if (!cfg.enforce) {
		st->tuple_would_drop++;
		return XDP_PASS;
	}
	st->tuple_drops++;
	return XDP_DROP;
}

#endif /* HS_BPF_VERDICT_H */
