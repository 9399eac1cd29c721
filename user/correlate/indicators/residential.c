// SPDX-License-Identifier: BSD-2-Clause
/*
 * residential_proxy: a source with the relay signal or a stack mismatch
 * that the network database places in a residential or mobile network:
 * an exit node of a residential-proxy service. Needs --asn-db; without
 * one the report says it was not evaluated. A corporate proxy (business
 * network) or a cloud relay (hosting) does not qualify.
 *
 * One relayed flow lists a source but scores below any block: a client
 * slowed on a busy host delays its hello and its second flight by about
 * the same amount, as a relay does (seen live: gnutls-cli on a loaded
 * host, ~20 ms on both sides of one flow). Exits used once are stopped by
 * their cluster's TLS-id rule instead; two relayed flows, or a stack
 * mismatch beside the relay, make the source blockable.
 */
#include "correlate/state.h"

#define RESIDENTIAL_ONE_FLOW_SCORE 0.6

bool eval_residential(const struct corr *c, const struct hs_addr *a,
		      const struct src_state *s, uint32_t fired,
		      struct indicator *ind)
{
	bool relay = fired & (1u << IND_RELAY_RTT_GAP);
	bool stack = fired & (1u << IND_STACK_MISMATCH);

	(void)a;
	if (!c->env.asn || !(relay || stack) ||
	    (s->asn.cls != NET_RESIDENTIAL && s->asn.cls != NET_MOBILE))
		return false;
	if (relay && !stack && s->relay_hits < 2)
		ind->score = RESIDENTIAL_ONE_FLOW_SCORE;
	else
		ind->score = relay && stack ? 0.95 : relay ? 0.85 : 0.7;
	ind->relay = relay;
	return true;
}

void explain_residential(const struct corr *c, const struct src_state *s,
			 uint32_t fired, struct indicator *ind)
{
	bool relay = fired & (1u << IND_RELAY_RTT_GAP);
	bool stack = fired & (1u << IND_STACK_MISMATCH);

	ind->evidence = evidence_new();
	json_set_u64(ind->evidence, "asn", s->asn.asn);
	json_set_str(ind->evidence, "as_org", corr_str(c, s->asn.org));
	json_set_str(ind->evidence, "network",
		     net_class_name((enum net_class)s->asn.cls));
	json_set_str(ind->evidence, "signals",
		     relay && stack ? "relay_rtt_gap,stack_mismatch"
		     : relay	    ? "relay_rtt_gap"
				    : "stack_mismatch");
}
