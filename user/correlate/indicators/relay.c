// SPDX-License-Identifier: BSD-2-Clause
/*
 * relay_rtt_gap: TCP ends at a relay. Each TLS flow with a clean timing
 * (no retransmitted SYN-ACK or server flight) gives a detour estimate
 * (fold.c): the ACK->ClientHello delay past relay_base_ack_us when the TLS
 * round trip grew by as much (a relay adds its detour to both), else
 * min(TLS RTT - TCP RTT - client processing of its family, that delay).
 *
 * One flow is evidence on its own: rotating farms use most exits once, so
 * waiting for a second flow misses them. Fires when
 *  - at least relay_min_flows (1) flows pass relay_min_gap_us and they are
 *    at least relay_min_share of the source's measured flows, or
 *  - at least relay_weak_min_flows flows show a small detour (from
 *    relay_weak_gap_us) and nearly all (max(relay_min_share, 0.8)) of its
 *    flows do: a stable few-millisecond detour that one flow could not
 *    tell from a slow client.
 * The score grows with the number of samples and the median detour: a
 * single 10 ms flow is weaker evidence than three 50 ms ones.
 */
#include "correlate/state.h"

/* Enough flows over relay_min_gap_us, at relay_min_share of those measured. */
static bool relay_strong(const struct corr_config *cfg,
			 const struct src_state *s)
{
	return s->relay_hits >= cfg->relay_min_flows &&
	       (double)s->relay_hits / s->relay_measured >=
		   cfg->relay_min_share;
}

bool eval_relay(const struct corr *c, const struct hs_addr *a,
		const struct src_state *s, uint32_t fired,
		struct indicator *ind)
{
	const struct corr_config *cfg = &c->cfg;
	double share, weak_share, depth, samples, weak_min_share;
	bool strong, weak;
	int32_t med;

	(void)a;
	(void)fired;
	if (!s->relay_measured || !s->relay_weak)
		return false;
	share = (double)s->relay_hits / s->relay_measured;
	weak_share = (double)s->relay_weak / s->relay_measured;
	weak_min_share =
	    cfg->relay_min_share > 0.8 ? cfg->relay_min_share : 0.8;
	strong = relay_strong(cfg, s);
	weak = s->relay_weak >= cfg->relay_weak_min_flows &&
	       weak_share >= weak_min_share;
	if (!strong && !weak)
		return false;
	med = detour_median(s);
	depth = cfg->relay_min_gap_us ? (double)(med > 0 ? med : 0) /
					    (3.0 * cfg->relay_min_gap_us)
				      : 1;
	/* 1 sample: 0.6, 2: 0.8, 3 and more: 1 */
	samples = s->relay_weak >= 3 ? 1 : 0.4 + 0.2 * s->relay_weak;
	ind->score = clamp01(0.5 + 0.5 * (strong ? share : weak_share) *
				       (depth > 1 ? 1 : depth) * samples);
	ind->relay = true;
	return true;
}

void explain_relay(const struct corr *c, const struct src_state *s,
		   uint32_t fired, struct indicator *ind)
{
	int32_t med = detour_median(s);

	(void)fired;
	ind->evidence = evidence_new();
	json_set_u64(ind->evidence, "flows_measured", s->relay_measured);
	json_set_u64(ind->evidence, "relay_flows", s->relay_hits);
	json_set_u64(ind->evidence, "small_detour_flows", s->relay_weak);
	ev_dbl(
	    ind->evidence, "share",
	    (double)(relay_strong(&c->cfg, s) ? s->relay_hits : s->relay_weak) /
		s->relay_measured);
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
}
