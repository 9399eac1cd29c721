// SPDX-License-Identifier: BSD-2-Clause
/*
 * farm_cluster: one fingerprint tuple (kernel tuple id: the hello's cipher
 * and extension sets plus the SYN's OS-class fields; JA4, so ALPN; and the
 * cadence band) shared in the current window by at least
 * cluster_min_sources low-volume sources over at least
 * cluster_min_prefixes distinct /24 (v4) or /48 (v6) prefixes, with
 * machine evidence:
 *  - the band is robotic, or
 *  - at least cluster_min_evidence of the members measured carry the relay
 *    signal, or the stack mismatch.
 * Browsers sharing a popular tuple sit in the human band with neither
 * signal, so they never form one. When the evidence is the relay signal
 * (or the mismatch), only members that show it are listed: a direct
 * customer whose SDK shares the farm's tuple is not swept in.
 */
#include "correlate/state.h"

static double share_of(size_t hits, size_t measured, size_t n)
{
	/* a share only counts once a quarter of the members (at least 3)
	 * were measured */
	size_t need = n / 4 > 3 ? n / 4 : 3;

	return measured >= need ? (double)hits / measured : 0;
}

bool eval_farm(const struct corr *c, struct group *g, struct indicator *ind)
{
	const struct corr_config *cfg = &c->cfg;
	double relay = share_of(g->relay_members, g->relay_measured, g->n);
	double stack = share_of(g->stack_members, g->stack_checked, g->n);
	double ev = 0, spread, size_cv;
	json_object *kinds;

	g->farm = false;
	if (g->n < cfg->cluster_min_sources ||
	    g->prefixes < cfg->cluster_min_prefixes)
		return false;
	g->relay = relay >= cfg->cluster_min_evidence;
	g->mismatch = stack >= cfg->cluster_min_evidence;
	if (g->band == BAND_ROBOTIC)
		ev = 1;
	if (g->relay && relay > ev)
		ev = relay;
	if (g->mismatch && stack > ev)
		ev = stack;
	if (ev <= 0)
		return false;
	spread = (double)g->prefixes / (2.0 * cfg->cluster_min_prefixes);
	size_cv = running_cv(&g->sizes);
	g->farm_score =
	    clamp01(0.3 + 0.3 * (spread > 1 ? 1 : spread) + 0.3 * ev +
		    (size_cv >= 0 && size_cv <= cfg->uniform_max_cv &&
			     g->size_members >= cfg->cluster_min_sources
			 ? 0.1
			 : 0));
	g->farm = true;
	ind->score = g->farm_score;
	ind->relay = g->relay;
	ind->evidence = evidence_new();
	json_set_u64(ind->evidence, "sources", g->n);
	json_set_u64(ind->evidence, "prefixes", g->prefixes);
	if (c->env.asn)
		json_set_u64(ind->evidence, "asns", g->asns);
	json_set_u64(ind->evidence, "flows", g->flows);
	json_set_str(ind->evidence, "cadence_band", band_name(g->band));
	ev_dbl(ind->evidence, "relay_share", relay);
	ev_dbl(ind->evidence, "stack_mismatch_share", stack);
	if (size_cv >= 0)
		ev_dbl(ind->evidence, "request_size_cv", size_cv);
	kinds = json_object_new_array();
	if (g->band == BAND_ROBOTIC)
		json_object_array_add(kinds, json_object_new_string("robotic"));
	if (g->relay)
		json_object_array_add(kinds, json_object_new_string("relay"));
	if (g->mismatch)
		json_object_array_add(kinds,
				      json_object_new_string("stack_mismatch"));
	json_object_object_add(ind->evidence, "machine_evidence", kinds);
	return true;
}
