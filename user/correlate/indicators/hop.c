// SPDX-License-Identifier: BSD-2-Clause
/*
 * hop_anomaly: the source's SYN carries an MSS below hop_max_mss (a tunnel
 * or VPN MTU: Ethernet gives 1460, PPPoE 1452, WireGuard 1380, IPsec and
 * OpenVPN 1300-1400) or comes from more than hop_max_hops hops.
 * Informational (score 0.3): VPN users and mobile carriers show it too.
 */
#include "correlate/state.h"

bool eval_hop(const struct corr *c, const struct hs_addr *a,
	      const struct src_state *s, uint32_t fired, struct indicator *ind)
{
	const struct corr_config *cfg = &c->cfg;

	(void)a;
	(void)fired;
	if (!s->have_sig || ((!s->mss || s->mss >= cfg->hop_max_mss) &&
			     s->hops <= cfg->hop_max_hops))
		return false;
	ind->score = 0.3;
	return true;
}

void explain_hop(const struct corr *c, const struct src_state *s,
		 uint32_t fired, struct indicator *ind)
{
	(void)fired;
	ind->evidence = evidence_new();
	json_set_u64(ind->evidence, "mss", s->mss);
	json_set_u64(ind->evidence, "hops", s->hops);
	json_set_str(ind->evidence, "tcp_sig", corr_str(c, s->tcp_sig));
}
