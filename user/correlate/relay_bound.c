// SPDX-License-Identifier: BSD-2-Clause
/*
 * The relay bound a farm's tuple rule learns from its TLS client's flows.
 *
 * The default bounds of a relay-conditional rule are fixed per client
 * family: TLS RTT - TCP RTT >= the family's processing allowance + 10 ms and
 * ACK->ClientHello >= 2 + 10 ms (hs_relay_cut, include/hydrascope/relay.h).
 * A farm whose exits sit 5-10 ms away passes under them. How low a bound may
 * go depends on how late the direct clients of the same TLS stack send their
 * hello, and that is measured: every clean flow of a member leaves, per lead
 * step k (0.5, 1, 2, 4 ms), the largest ACK->hello delay among its flows
 * whose TLS gap fell short of that delay by at most the step (struct
 * member). A relay adds one detour to both samples, so its flows have a
 * small lead whatever the detour; a direct client that stalls before its
 * hello (a cold start: 30-45 ms late, TLS gap 3-13 ms) has a large one, and
 * a slow certificate check (a large gap, a prompt hello) a negative one
 * with a small delay.
 *
 * For each lead step the bound is the largest ACK->hello delay of the
 * cluster's direct members within that lead (struct bound_direct) plus a
 * margin of relay_base_ack_us or a quarter of it, whichever is more, never
 * below relay_base_ack_us + relay_weak_gap_us (the floor); a bound at or
 * above the default ACK->hello bound is no bound (the ceiling). Of the
 * four, the rule takes the one that would have cut most of the cluster's
 * latest relayed flows the default bounds missed (the farm's own jitter
 * decides how strict the match must be), then the lowest, then the widest
 * lead; with fewer than relay_learn_min_flows direct flows from
 * relay_learn_min_sources sources, none. The largest delay, not a
 * quantile: a handful of slow direct clients among thousands must still
 * not be cut, and flows added by anyone can only raise a maximum. A farm
 * that runs direct clients stalling on purpose raises its own bound back to
 * the default, no higher; a farm that keeps its detour under the bound
 * passes, with the bound as low as its TLS client's direct jitter allows;
 * exits whose TLS gap strays from their hello delay by more than 4 ms are
 * left to the default.
 */
#include <string.h>

#include "correlate/state.h"
#include "hydrascope/relay.h"

void relay_default_bounds(const struct corr_config *cfg, enum client_family fam,
			  uint32_t *min_gap_us, uint32_t *min_ack_us)
{
	*min_gap_us = cfg->relay_base_gap_us[fam < FAM_COUNT ? fam : 0] +
		      cfg->relay_min_gap_us;
	*min_ack_us = cfg->relay_require_ack_delay
			  ? cfg->relay_base_ack_us + cfg->relay_min_gap_us
			  : 0;
}

static uint32_t lead_us(unsigned k)
{
	return RELAY_LEAD_STEP_US << k;
}

static uint32_t us32(int64_t v)
{
	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

void bound_fold(const struct corr_config *cfg, struct member *m,
		struct cluster_state *cl, enum client_family fam, int64_t tcp,
		int64_t tls, int64_t ack_hello, bool detour)
{
	int64_t lead = ack_hello - (tls - tcp);
	struct hs_tuple_rule def = {0};
	unsigned k;

	if (m) {
		if (ack_hello <= (int64_t)cfg->relay_base_ack_us)
			m->prompt = true;
		for (k = 0; k < RELAY_LEAD_STEPS; k++)
			if (lead <= (int64_t)lead_us(k) &&
			    us32(ack_hello) > m->lead_ack_us[k])
				m->lead_ack_us[k] = us32(ack_hello);
	}
	if (!cl || !detour)
		return;
	relay_default_bounds(cfg, fam, &def.min_gap_us, &def.min_ack_hello_us);
	if (hs_relay_cut(&def, us32(tcp), us32(tls), us32(ack_hello)))
		return; /* the default cuts it already */
	cl->missed[cl->missed_pos].ack_us = us32(ack_hello);
	cl->missed[cl->missed_pos].lead_us =
	    (int32_t)(lead < INT32_MIN	 ? INT32_MIN
		      : lead > INT32_MAX ? INT32_MAX
					 : lead);
	cl->missed_pos = (uint8_t)((cl->missed_pos + 1) % RELAY_MISSED);
	if (cl->missed_n < RELAY_MISSED)
		cl->missed_n++;
}

void bound_direct_add(struct bound_direct *d, const struct member *m)
{
	if (!m->relay_measured)
		return;
	d->sources++;
	d->flows += m->relay_measured;
	for (unsigned k = 0; k < RELAY_LEAD_STEPS; k++)
		if (m->lead_ack_us[k] > d->ack_max_us[k])
			d->ack_max_us[k] = m->lead_ack_us[k];
}

/* The bound at lead step k: the direct envelope plus the margin, at the
 * floor at least; 0 at or above the ceiling. */
static uint32_t bound_at(const struct corr_config *cfg,
			 const struct bound_direct *d, unsigned k,
			 uint32_t ceiling)
{
	uint32_t env = d->ack_max_us[k], floor, margin, low;

	margin =
	    env / 4 > cfg->relay_base_ack_us ? env / 4 : cfg->relay_base_ack_us;
	floor = cfg->relay_base_ack_us + cfg->relay_weak_gap_us;
	low = env + margin > floor ? env + margin : floor;
	return low < ceiling ? low : 0;
}

/* How many of the cluster's missed relayed flows the bound would cut. */
static uint32_t missed_cut(const struct cluster_state *cl, uint32_t low,
			   uint32_t lead)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < cl->missed_n; i++)
		n += cl->missed[i].ack_us >= low &&
		     cl->missed[i].lead_us <= (int64_t)lead;
	return n;
}

void bound_learn(const struct corr *c, struct group *g,
		 const struct bound_direct *d)
{
	const struct corr_config *cfg = &c->cfg;
	static const struct bound_direct none;
	struct relay_bound *b = &g->bound;
	uint32_t def_gap, def_ack;
	int best = -1;

	memset(b, 0, sizeof(*b));
	if (!d)
		d = &none;
	b->direct_sources = d->sources;
	b->direct_flows = d->flows;
	b->relayed_missed = g->cl->missed_n;
	relay_default_bounds(cfg, (enum client_family)g->cl->family, &def_gap,
			     &def_ack);
	if (!def_ack) {
		b->why = "relay_require_ack_delay is off";
		return;
	}
	if (!cfg->relay_learn_min_flows ||
	    d->flows < cfg->relay_learn_min_flows ||
	    d->sources < cfg->relay_learn_min_sources) {
		b->why = "too few direct flows";
		return;
	}
	for (unsigned k = 0; k < RELAY_LEAD_STEPS; k++) {
		uint32_t low = bound_at(cfg, d, k, def_ack), cut;

		if (!low)
			continue;
		cut = missed_cut(g->cl, low, lead_us(k));
		if (best < 0 || cut > b->relayed_cut ||
		    (cut == b->relayed_cut && low <= b->low_ack_us)) {
			best = (int)k;
			b->low_ack_us = low;
			b->lead_max_us = lead_us(k);
			b->relayed_cut = cut;
		}
	}
	if (best < 0) {
		b->why = "direct hellos too late";
		b->direct_ack_max_us = d->ack_max_us[RELAY_LEAD_STEPS - 1];
		return;
	}
	b->direct_ack_max_us = d->ack_max_us[best];
}
