/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Prometheus text exposition on /metrics (libmicrohttpd, its own thread),
 * and the status page on / and /status.json (output/status_page.h).
 * A scrape renders the snapshot the main loop published after its last
 * round plus the per-CPU datapath counters: it never walks a kernel map.
 * Labels are bounded: counter names and reasons from fixed lists, map and
 * table names, and the top METRICS_TOP_K clusters by short id plus an
 * "other" bucket; never an address.
 */
#ifndef HS_USER_METRICS_H
#define HS_USER_METRICS_H

#include <stdbool.h>

#include "ingest/collector.h"
#include "correlate/correlate.h"
#include "decide/crowdsec_pull.h"
#include "decide/enforce.h"
#include "decide/policy.h"
#include "lib/histogram.h"
#include "output/crowdsec.h"
#include "output/fleet.h"
#include "output/report.h"

#define METRICS_TOP_K 10

struct metrics;
struct status_page;

struct metrics_src {
	int stats_fd;
	int ifindex; /* where our XDP program should be attached */
	unsigned xdp_prog_id;
	bool enforce;
	unsigned max_blocks; /* the policy's cap */
	unsigned map_max[3]; /* flows, sources, tcp_sigs */
	unsigned blocklist_max, tuple_rules_max;
	/* hydrascope_config_info: what this instance runs with */
	const char *iface;
	bool asn_db;
	unsigned decide_interval_s, window_s;
};

/* What the main loop publishes after each round. */
struct metrics_snapshot {
	struct collector_stats coll;
	struct corr_stats corr;
	struct policy_stats policy;
	struct enforce_stats enforce;
	struct cluster_view top[METRICS_TOP_K];
	size_t n_top;
	size_t active_blocks;	  /* unexpired entries in the blocklist */
	uint64_t probe_evictions; /* table_probe_evictions_all() */
	uint64_t rounds;
	struct hs_hist round_seconds; /* the pipeline's */
	bool have_fleet;	      /* run --fleet */
	struct fleet_stats fleet;
	/* --crowdsec-push, --crowdsec-export, --crowdsec-pull */
	bool have_cs_push, have_cs_export, have_cs_pull;
	struct crowdsec_push_stats cs_push;
	struct crowdsec_pull_stats cs_pull;
};

/* Bind addr ("HOST:PORT" with IPv4 or [IPv6], or "unix:PATH", a socket
 * of mode 0660) without serving yet, so that a bad address stops the
 * start before the datapath is attached. NULL with err set on failure. */
struct metrics *metrics_open(const char *addr, const struct metrics_src *src,
			     char *err, size_t errlen);
/* Serve on a thread of its own. Start it after privs_drop: a thread
 * keeps the capabilities it was created with. */
int metrics_serve(struct metrics *m, char *err, size_t errlen);
void metrics_publish(struct metrics *m, const struct metrics_snapshot *s);
/* The status page's snapshot (GET / and /status.json; it is copied). */
void metrics_publish_page(struct metrics *m, const struct status_page *p);
/* Once attached: the modes the datapath got (for hydrascope_config_info).
 * The strings must outlive m. */
void metrics_set_modes(struct metrics *m, const char *xdp_mode,
		       const char *tc_mode);
void metrics_stop(struct metrics *m);
/* Validate an address without binding (for the up-front flag check). */
int metrics_check_addr(const char *addr);

/* The exposition text (also used by tests). Caller frees. */
char *metrics_render(struct metrics *m);

#endif
