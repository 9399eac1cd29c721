/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Policy: indicators in, the intended set of decisions out.
 *  - farm_cluster with the relay signal (score >= decide_cluster_min_score):
 *    a tuple rule for the cluster's tuple id, conditional on the relay gap
 *    (a never-seen exit node of the farm is cut on its first connection, a
 *    direct client with the same stack is not), and a prefix block for each
 *    member that shows the signal; without the relay signal, member blocks
 *    only with decide_cluster_members = 1;
 *  - residential_proxy (>= decide_residential_min_score): a prefix block;
 *  - relay_rtt_gap alone blocks only with decide_relay_alone = 1 (cloud
 *    security proxies relay too); the other kinds never block.
 * Each block lasts its reason's TTL, doubled per repeat offence (offences
 * decay with offence_half_life_s), capped at ttl_max_s, and stretched by a
 * per-prefix jitter of up to ttl_jitter_pct so that blocks made together
 * do not all lapse together. A still-firing indicator renews its decision.
 * The allowlist always wins. Block budgets: max_blocks in all, at most
 * max_blocks_per_prefix inside one /16 (IPv4) or /48 (IPv6), at most
 * max_new_blocks_per_round new ones a round; max_tuple_rules rules. At a
 * budget the weakest entry (lowest score, then soonest expiry) makes room
 * for a stronger one, so a flood of weak decisions can never lock the
 * strongest out; a decision no stronger than the weakest is refused. Every
 * refusal and eviction is counted by budget.
 */
#ifndef HS_USER_POLICY_H
#define HS_USER_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "correlate/correlate.h"
#include "output/records.h"
#include "lib/table.h"

/* Keys of the desired blocks (the LPM key, padded to 8 bytes). */
struct block_key {
	struct hs_lpm_key k;
	uint32_t pad;
};

enum desired_state {
	DS_PENDING = 0, /* to be written to the datapath */
	DS_WRITTEN,	/* the datapath holds it as intended */
	DS_FAILED,	/* a write failed: retried at the next reconcile */
};

/* Why a decision is held: the enum ind_kind that made it, or one of
 * these. */
/* in the maps at start: a previous run's */
#define DECISION_ADOPTED IND_COUNT
/* another host's (run --fleet) */
#define DECISION_REMOTE (IND_COUNT + 1)

const char *decision_reason_name(unsigned reason);

struct desired_block {
	uint64_t expires_ns; /* datapath clock */
	double score;	     /* strongest indicator score behind it */
	uint64_t round;	     /* policy round that made it */
	uint32_t ttl_s;
	uint8_t state;	/* enum desired_state */
	uint8_t reason; /* enum ind_kind or DECISION_* */
	uint16_t offences;
};

/* A tuple rule, keyed by its id; kind says which id (enum hs_rule_kind).
 * min_gap_us and min_ack_hello_us are the kernel's default relay bounds
 * (family allowance + detour bound; base ACK->hello + detour bound),
 * low_ack_us and lead_max_us the bound learned from the farm's TLS
 * client's direct flows (0: none); see hs_relay_cut. */
struct desired_rule {
	uint64_t expires_ns;
	double score;
	uint32_t ttl_s;
	uint32_t min_gap_us;
	uint32_t min_ack_hello_us;
	uint32_t low_ack_us;
	uint32_t lead_max_us;
	uint8_t kind;
	uint8_t state;
	uint8_t reason; /* enum ind_kind or DECISION_* */
};

/* The budgets a decision can meet (refusal and eviction counters). */
enum budget {
	BUDGET_CAP = 0, /* max_blocks / max_tuple_rules */
	BUDGET_PREFIX,	/* max_blocks_per_prefix in one /16 or /48 */
	BUDGET_ROUND,	/* max_new_blocks_per_round */
	BUDGET_COUNT
};

const char *budget_name(enum budget b);

struct policy_stats {
	uint64_t decisions[IND_COUNT]; /* new decisions by reason */
	uint64_t renewals;
	uint64_t refused[BUDGET_COUNT]; /* no stronger than the weakest */
	uint64_t evicted[BUDGET_COUNT]; /* weakest pushed out for it */
	uint64_t refused_allow;		/* the allowlist covered it */
	uint64_t refused_remote;	/* a remote decision over a cap */
	uint64_t refused_wide;		/* a remote prefix wider than ours */
	uint64_t expired;
	uint64_t lifted;	  /* removed from outside (block del, allow) */
	uint64_t records_dropped; /* pending records over their cap */
};

struct policy;

struct policy *policy_new(const struct corr_config *cfg);
void policy_free(struct policy *p);
/* The allowlist map (LPM trie of hs_lpm_key -> hs_allow); -1: none. */
void policy_set_allowlist(struct policy *p, int allow_fd);
/* Whether the allowlist holds anything, read once a round (one system
 * call): while it is empty, as it usually is, no decision and no block
 * write looks an entry up. An entry added during the round is seen at the
 * next; meanwhile the datapath checks the allowlist itself on every block
 * hit, and the next verify round lifts the blocks it covers. */
void policy_check_allowlist(struct policy *p);
bool policy_allowlisted(const struct policy *p, const struct hs_lpm_key *k);
/* An ind_sink callback (ctx is the policy). */
void policy_on_indicator(void *ctx, const struct indicator *ind);
/* Forget decisions that expired at now. */
void policy_expire(struct policy *p, uint64_t now_ns);
/* Write the decision records of this round (after the reconcile, so that
 * they say whether the datapath applied them). */
void policy_flush(struct policy *p, struct record_out *out);

struct table *policy_blocks(struct policy *p); /* block_key -> desired_block */
struct table *policy_rules(struct policy *p);  /* u64 -> desired_rule */
/* How long before the datapath's copy of a block lapses it is written
 * again when the block was renewed meanwhile: 7/8 of its TTL, and at
 * least two rounds. Renewals between are not written (a block that fires
 * every round would otherwise go into the LPM trie every round); the
 * copy's expiry trails the decision's by at most an eighth of the TTL. */
uint64_t policy_rewrite_lead_ns(const struct policy *p,
				const struct desired_block *d);
/* Take over a block the datapath already holds (restart). */
void policy_adopt_block(struct policy *p, const struct hs_lpm_key *k,
			const struct hs_block *b, uint64_t now_ns);
void policy_adopt_rule(struct policy *p, uint64_t tuple_id,
		       const struct hs_tuple_rule *r, uint64_t now_ns);
/* An operator removed it (block del, allow add): forget it. */
void policy_lift_block(struct policy *p, const struct block_key *k);
void policy_lift_rule(struct policy *p, uint64_t tuple_id);
/* A decision another host took (the fleet's stream), on this host's
 * clock. Idempotent: one this host already holds for as long or longer
 * changes nothing. The allowlist and the caps still hold; a prefix wider
 * than this host's own block_v4_prefix / block_v6_prefix is refused and
 * an expiry past ttl_max_s from now is cut to it. */
enum remote_result {
	REMOTE_APPLIED = 0, /* new or extended: the reconcile writes it */
	REMOTE_HELD,	    /* already held as long: a duplicate */
	REMOTE_ALLOWLISTED,
	REMOTE_CAP,
	REMOTE_EXPIRED,
	REMOTE_WIDE, /* a prefix wider than block_v4/v6_prefix */
};
enum remote_result policy_remote_block(struct policy *p,
				       const struct hs_lpm_key *k,
				       uint64_t expires_ns, uint32_t ttl_s,
				       uint64_t now_ns);
enum remote_result policy_remote_rule(struct policy *p, uint64_t rule_id,
				      const struct desired_rule *want,
				      uint64_t now_ns);
/* A remote source withdrew its block of k (a CrowdSec decision deleted on
 * the LAPI): it is lifted unless a local indicator stands behind it (the
 * remote and adopted blocks are the ones no local evidence backs: score
 * 0). True when it was lifted; the reconcile removes it from the map. */
bool policy_lift_remote(struct policy *p, const struct hs_lpm_key *k);
/* True when a local indicator stands behind the block of k (this host
 * decided it itself). */
bool policy_block_local(const struct policy *p, const struct hs_lpm_key *k);
/* The state of a desired block or rule, for the record of a remote one:
 * true once the datapath holds it. */
bool policy_block_written(struct policy *p, const struct hs_lpm_key *k);
bool policy_rule_written(struct policy *p, uint64_t tuple_id);
void policy_get_stats(const struct policy *p, struct policy_stats *s);

#endif
