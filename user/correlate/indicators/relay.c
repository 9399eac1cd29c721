// SPDX-License-Identifier: BSD-2-Clause
/*
 * relay_rtt_gap: TCP ends at a relay. Each TLS flow with a clean timing
 * (no retransmitted SYN-ACK or server flight) gives a detour estimate
 *   min(TLS RTT - TCP RTT - client processing of its family,
 *       ACK->ClientHello - relay_base_ack_us)
 * (the first alone with relay_require_ack_delay = 0). Fires when at least
 * relay_min_flows flows of the source pass relay_min_gap_us and they are
 * at least relay_min_share of its measured flows. The score grows with the
 * median detour and the share.
 */
#include "correlate/state.h"

bool eval_relay(const struct corr *c, const struct hs_addr *a,
		const struct src_state *s, uint32_t fired,
		struct indicator *ind)
{
	const struct corr_config *cfg = &c->cfg;
	double share, depth;
	int32_t med;

	(void)a;
	(void)fired;
	if (!s->relay_measured || s->relay_hits < cfg->relay_min_flows)
		return false;
	share = (double)s->relay_hits / s->relay_measured;
	if (share < cfg->relay_min_share)
		return false;
	med = detour_median(s);
	depth = cfg->relay_min_gap_us ? (double)(med > 0 ? med : 0) /
					    (3.0 * cfg->relay_min_gap_us)
				      : 1;
	ind->score = clamp01(0.5 + 0.5 * share * (depth > 1 ? 1 : depth));
	ind->relay = true;
	ind->evidence = evidence_new();
	json_set_u64(ind->evidence, "flows_measured", s->relay_measured);
	json_set_u64(ind->evidence, "relay_flows", s->relay_hits);
	ev_dbl(ind->evidence, "share", share);
	json_set_u64(ind->evidence, "detour_median_us",
		     med > 0 ? (uint64_t)med : 0);
	if (s->have_kernel) {
		json_set_u64(ind->evidence, "min_tcp_rtt_us",
			     s->k.min_tcp_rtt_us);
		json_set_u64(ind->evidence, "min_tls_rtt_us",
			     s->k.min_tls_rtt_us);
		json_set_u64(ind->evidence, "min_ack_to_hello_us",
			     s->k.min_ack_hello_us);
	}
	json_set_str(ind->evidence, "client_family",
		     client_family_name((enum client_family)s->family));
	return true;
}
