// SPDX-License-Identifier: BSD-2-Clause
/*
 * stack_mismatch: the TLS client family of a flow's ClientHello does not
 * fit the OS class of the same flow's SYN (client_family.c has the table:
 * an Apple-only or Windows-only TLS stack on another OS, a script library
 * behind a Windows desktop stack, a browser behind network gear). A relay
 * produces it (the SYN is the exit node's, the hello the real client's);
 * so does an explicit corporate proxy, which is why this never blocks by
 * itself. Fires on stack_min_flows flows that are at least stack_min_share
 * of the source's checked flows; the score is the worst implausibility
 * times that share.
 */
#include "correlate/state.h"

bool eval_stack(const struct corr *c, const struct hs_addr *a,
		const struct src_state *s, uint32_t fired,
		struct indicator *ind)
{
	const struct corr_config *cfg = &c->cfg;
	double share;

	(void)a;
	(void)fired;
	if (!s->stack_checked || s->stack_hits < cfg->stack_min_flows)
		return false;
	share = (double)s->stack_hits / s->stack_checked;
	if (share < cfg->stack_min_share)
		return false;
	ind->score = clamp01(s->stack_worst * share);
	return true;
}

void explain_stack(const struct corr *c, const struct src_state *s,
		   uint32_t fired, struct indicator *ind)
{
	(void)fired;
	ind->evidence = evidence_new();
	json_set_str(ind->evidence, "client_family",
		     client_family_name((enum client_family)s->worst_family));
	json_set_str(ind->evidence, "os_class",
		     os_class_name((enum os_class)s->worst_os));
	if (s->have_sig)
		json_set_str(ind->evidence, "tcp_sig", corr_str(c, s->tcp_sig));
	json_set_u64(ind->evidence, "flows_checked", s->stack_checked);
	json_set_u64(ind->evidence, "mismatched_flows", s->stack_hits);
	ev_dbl(ind->evidence, "implausibility", s->stack_worst);
}
