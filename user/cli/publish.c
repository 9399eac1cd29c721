// SPDX-License-Identifier: BSD-2-Clause
#include "cli/publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "cli/cli.h"
#include "cli/session.h"
#include "decide/crowdsec_pull.h"
#include "decide/pipeline.h"
#include "hydrascope/abi.h" /* before the skeleton: its .rodata uses hs_config */
#include "hydrascope.skel.h"
#include "lib/hstime.h"
#include "lib/table.h"
#include "output/crowdsec.h"
#include "output/fleet.h"
#include "output/metrics.h"
#include "output/status_page.h"

static void publish_metrics(struct metrics *mx, const struct session *s,
			    const struct fleet *fl,
			    const struct crowdsec_pull *cs_pull)
{
	const struct pipeline *pl = s->pl;
	struct metrics_snapshot m = {0};

	if (fl) {
		m.have_fleet = true;
		fleet_get_stats(fl, &m.fleet);
	}
	if (s->cs_push) {
		/* the exporter pushes to a LAPI, or only keeps the file */
		m.have_cs_push = s->co->crowdsec.push;
		m.have_cs_export = true;
		crowdsec_push_get_stats(s->cs_push, &m.cs_push);
	}
	if (cs_pull) {
		m.have_cs_pull = true;
		crowdsec_pull_get_stats(cs_pull, &m.cs_pull);
	}
	collector_get_stats(s->coll, &m.coll);
	corr_get_stats(pl->corr, &m.corr);
	policy_get_stats(pl->policy, &m.policy);
	enforcer_get_stats(pl->enf, &m.enforce);
	m.n_top = corr_top_clusters(pl->corr, m.top, METRICS_TOP_K);
	m.active_blocks = m.enforce.active_blocks;
	m.probe_evictions = table_probe_evictions_all();
	m.rounds = m.corr.evals;
	m.round_seconds = pl->round_seconds;
	metrics_publish(mx, &m);
}

int publisher_start(struct publisher *p, struct metrics *mx, struct session *s,
		    const char *iface, bool enforce, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	if (!mx)
		return 0;
	p->hist = status_history_new(&s->pl->out.env);
	p->page = malloc(sizeof(*p->page));
	if (!p->hist || !p->page) {
		publisher_free(p);
		snprintf(err, errlen, "out of memory for the status page");
		return -1;
	}
	p->mx = mx;
	p->in = (struct status_inputs){
	    .stats_fd = bpf_map__fd(s->skel->maps.stats),
	    .cuts_fd = bpf_map__fd(s->skel->maps.cuts),
	    .iface = iface,
	    .enforce = enforce,
	    .started_ns = hs_clock_ns(CLOCK_REALTIME),
	};
	s->pl->tap = (struct ind_sink){status_history_on_indicator, p->hist};
	status_snapshot_build(p->page, p->hist, s->pl, &p->in,
			      hs_clock_ns(CLOCK_MONOTONIC));
	metrics_publish_page(mx, p->page);
	return 0;
}

void publisher_round(struct publisher *p, const struct session *s,
		     const struct fleet *fl,
		     const struct crowdsec_pull *cs_pull, uint64_t now_ns)
{
	if (!p->mx)
		return;
	publish_metrics(p->mx, s, fl, cs_pull);
	status_snapshot_build(p->page, p->hist, s->pl, &p->in, now_ns);
	metrics_publish_page(p->mx, p->page);
}

void publisher_free(struct publisher *p)
{
	status_history_free(p->hist);
	free(p->page);
	memset(p, 0, sizeof(*p));
}
