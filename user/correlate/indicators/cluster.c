// SPDX-License-Identifier: BSD-2-Clause
/*
 * farm_cluster: many low-volume sources of one client, spread over at
 * least cluster_min_prefixes distinct /24 (v4) or /48 (v6) prefixes, with
 * machine evidence. A cluster is the real client's TLS identity (fold.c:
 * cipher and extension sets, ALPN), not the exit's SYN. Two kinds of
 * groups are tested (correlate.c builds them):
 *
 *  - relay groups: the cluster's members with the relay signal, whatever
 *    their SYN stack or cadence (rotating farms use most exits once, each
 *    exit device has its own TCP stack). Their samples are pooled: the
 *    test is whether that many members of the cluster show a detour when
 *    direct clients show one at relay_chance_rate at most, a binomial tail
 *    (a Chernoff bound) below the per-group level that keeps the expected
 *    chance farms among all groups tested within alert_budget. A popular
 *    browser hello shared by thousands of direct users and a few hundred
 *    exits of a browser-mimicking farm passes; a handful of slow clients
 *    among the thousands does not. Many SYN stacks under one TLS client
 *    raise the score: that is what exits look like.
 *  - direct groups (cluster x SYN class x cadence band): the robotic band
 *    (a confidence bound on the CV, common.c), or at least
 *    cluster_min_evidence of the checked members with the stack mismatch;
 *    only the members that show it are listed. Browsers sit in the human
 *    or regular band with no mismatch.
 *
 * With a fleet transport (correlate.h, struct corr_fleet) the counts are
 * the fleet's where they are larger: distinct members, /24s, members with
 * the relay signal and members measured (relay groups: the relay members
 * and the cluster's direct members with timing, the test's denominator),
 * members checked for and showing the stack mismatch, over every host's
 * slice of the group. A farm that a load balancer spreads over many
 * ingress hosts forms although no host's slice reaches the thresholds.
 * Only this host's members are listed (and blocked here); the others' are
 * blocked by their own hosts, and the decisions reach every host.
 */
#include <math.h>

#include "correlate/state.h"

static double share_of(size_t hits, size_t measured, size_t n)
{
	/* a share only counts once a quarter of the members (at least 3)
	 * were measured */
	size_t need = n / 4 > 3 ? n / 4 : 3;

	return measured >= need ? (double)hits / measured : 0;
}

/* The relay group's pooled test over n relay members of all measured;
 * p receives the bound. */
static bool relay_pooled(const struct corr *c, size_t n, size_t all, double *p)
{
	const struct corr_config *cfg = &c->cfg;

	*p = binom_tail_bound(n, all, cfg->relay_chance_rate);
	return *p <= test_alpha(cfg, c->n_tested_groups);
}

/* The fleet's count where it knows more than this host. */
static size_t wider(size_t local, uint64_t fleet)
{
	return fleet > local ? (size_t)fleet : local;
}

bool eval_farm(const struct corr *c, struct group *g, struct indicator *ind)
{
	const struct corr_config *cfg = &c->cfg;
	double relay = 0, stack = 0, ev = 0, spread, size_cv, p = 1, stacks;
	struct fleet_counts fc = {0};
	bool fleet = corr_fleet_view(c, g, &fc);
	size_t n = wider(g->n, fc.sources);
	size_t prefixes = wider(g->prefixes, fc.prefixes);
	json_object *kinds;

	g->farm = false;
	g->relay = g->mismatch = false;
	if (n < cfg->cluster_min_sources ||
	    prefixes < cfg->cluster_min_prefixes)
		return false;
	if (g->kind == GROUP_RELAY) {
		size_t hits = wider(g->relay_members, fc.relay_members);
		size_t all = wider(g->relay_members + g->peers_measured,
				   fc.relay_measured);

		relay = g->relay_measured
			    ? (double)g->relay_members / g->relay_measured
			    : 0;
		g->relay = relay_pooled(c, hits, all, &p);
		ev = g->relay ? 1 : 0;
	} else {
		/* the shares of the side that checked more members */
		stack = fc.stack_checked > g->stack_checked
			    ? share_of(wider(0, fc.stack_members),
				       wider(0, fc.stack_checked), n)
			    : share_of(g->stack_members, g->stack_checked, n);
		g->mismatch = stack >= cfg->cluster_min_evidence;
		if (g->band == BAND_ROBOTIC)
			ev = 1;
		if (g->mismatch && stack > ev)
			ev = stack;
	}
	if (ev <= 0)
		return false;
	spread = (double)prefixes / (2.0 * cfg->cluster_min_prefixes);
	size_cv = running_cv(&g->sizes);
	/* exits of several OSes under one TLS client */
	stacks = g->kind == GROUP_RELAY && g->stacks >= 3 ? 0.1 : 0;
	g->farm_score =
	    clamp01(0.3 + 0.3 * (spread > 1 ? 1 : spread) + 0.3 * ev + stacks +
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
	if (g->kind == GROUP_RELAY) {
		json_set_u64(ind->evidence, "direct_members_measured",
			     g->peers_measured);
		json_object_object_add(
		    ind->evidence, "relay_chance_bound",
		    json_object_new_double(p < 1e-300 ? 0 : p));
		json_set_u64(ind->evidence, "exit_stacks", g->stacks);
		json_set_u64(ind->evidence, "tuple_ids", g->n_tuples);
	}
	if (size_cv >= 0)
		ev_dbl(ind->evidence, "request_size_cv", size_cv);
	if (g->period_s > 0) {
		ev_dbl(ind->evidence, "period_s", g->period_s);
		ev_dbl(ind->evidence, "bytes_per_connection", g->conn_bytes);
	}
	kinds = json_object_new_array();
	if (g->band == BAND_ROBOTIC)
		json_object_array_add(kinds, json_object_new_string("robotic"));
	if (g->relay)
		json_object_array_add(kinds, json_object_new_string("relay"));
	if (g->mismatch)
		json_object_array_add(kinds,
				      json_object_new_string("stack_mismatch"));
	if (stacks > 0)
		json_object_array_add(kinds,
				      json_object_new_string("exit_stacks"));
	json_object_object_add(ind->evidence, "machine_evidence", kinds);
	if (fleet) {
		json_object *f = json_object_new_object();

		/* "fleet": no host's slice alone reached the thresholds */
		json_set_str(ind->evidence, "scope",
			     g->n < cfg->cluster_min_sources ||
				     g->prefixes < cfg->cluster_min_prefixes
				 ? "fleet"
				 : "host");
		json_set_u64(f, "sources", fc.sources);
		json_set_u64(f, "prefixes", fc.prefixes);
		json_set_u64(f, "hosts", fc.hosts);
		json_set_u64(f, "relay_members", fc.relay_members);
		json_set_u64(f, "relay_measured", fc.relay_measured);
		json_object_object_add(ind->evidence, "fleet", f);
	}
	return true;
}
