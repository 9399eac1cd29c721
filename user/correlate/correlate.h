/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Correlator: folds the kernel's flow and source maps (swept on an
 * interval) and the ClientHello fingerprints into bounded per-source,
 * per-member (source x fingerprint tuple) and per-cluster state, and
 * evaluates the indicators over a sliding window on the datapath's clock
 * (packet time in replay, kernel time live). Every firing indicator goes
 * to a sink on every evaluation; `fresh` marks the ones worth a new record.
 */
#ifndef HS_USER_CORRELATE_H
#define HS_USER_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fingerprint/client_family.h"
#include "hydrascope/abi.h"

/* Thresholds and limits. Defaults, and how they were chosen, are in
 * corr_config.c and the README; each can be set in a config file. */
struct corr_config {
	/* windows */
	unsigned window_s;	  /* activity window of every indicator */
	unsigned eval_interval_s; /* evaluate this often (datapath clock) */
	unsigned reemit_s;	  /* repeat a still-firing record after */
	/* relay_rtt_gap */
	unsigned relay_min_gap_us; /* detour estimate per flow */
	unsigned relay_require_ack_delay;
	unsigned relay_base_ack_us; /* direct clients send the hello within */
	unsigned
	    relay_base_gap_us[FAM_COUNT]; /* client processing, by family */
	unsigned relay_min_flows;
	double relay_min_share;
	/* stack_mismatch */
	double stack_min_implausibility;
	unsigned stack_min_flows;
	double stack_min_share;
	/* hop_anomaly */
	unsigned hop_max_mss;
	unsigned hop_max_hops;
	/* cadence bands and robotic_cadence */
	double robotic_max_cv;
	unsigned robotic_min_bursts;
	unsigned band_min_bursts;
	double human_min_cv;
	/* uniform_requests */
	double uniform_max_cv;
	unsigned uniform_min_requests;
	/* farm_cluster, rotation, pivot */
	unsigned cluster_min_sources;
	unsigned cluster_min_prefixes;
	unsigned cluster_max_source_flows;
	double cluster_min_evidence;
	double rotation_min_churn;
	unsigned rotation_max_span_s;
	double pivot_min_shift;
	unsigned pivot_min_flows;
	/* bounded state */
	unsigned max_clusters;
	unsigned max_members;
	/* decisions (user/policy.c) */
	double decide_relay_min_score;
	unsigned decide_relay_alone;
	double decide_residential_min_score;
	double decide_cluster_min_score;
	unsigned decide_cluster_members;
	unsigned ttl_relay_s;
	unsigned ttl_residential_s;
	unsigned ttl_cluster_s;
	unsigned ttl_max_s;
	unsigned ttl_jitter_pct;
	unsigned offence_half_life_s;
	unsigned block_v4_prefix;
	unsigned block_v6_prefix;
	unsigned max_blocks;
	unsigned max_tuple_rules;
	/* output */
	unsigned max_listed_sources; /* sources printed per record */
};

void corr_config_defaults(struct corr_config *c);
/* Returns 0, or -1 with a one-line reason (file:line: ...) in err. */
int corr_config_load(const char *path, struct corr_config *c, char *err,
		     size_t errlen);

enum ind_kind {
	IND_RELAY_RTT_GAP = 0,
	IND_STACK_MISMATCH,
	IND_HOP_ANOMALY,
	IND_ROBOTIC_CADENCE,
	IND_UNIFORM_REQUESTS,
	IND_RESIDENTIAL_PROXY,
	IND_FARM_CLUSTER,
	IND_ROTATION,
	IND_PIVOT,
	IND_COUNT
};

const char *ind_kind_name(enum ind_kind k);

enum cadence_band {
	BAND_SPARSE = 0, /* too few requests to tell */
	BAND_ROBOTIC,
	BAND_REGULAR,
	BAND_HUMAN,
	BAND_COUNT
};

const char *band_name(enum cadence_band b);

struct json_object;

struct indicator {
	enum ind_kind kind;
	double score;	   /* 0..1 */
	bool fresh;	   /* new, grown, stronger, or due for a repeat */
	uint64_t at_ns;	   /* datapath clock of the evaluation */
	uint64_t first_ns; /* activity it covers */
	uint64_t last_ns;
	const struct hs_addr *sources; /* every source it covers */
	size_t n_sources;
	size_t n_new; /* sources[0..n_new) were in no earlier record */
	/* clusters */
	uint64_t cluster_id; /* tuple, JA4 and cadence band; 0: a source */
	uint64_t tuple_id;   /* kernel tuple id */
	const char *ja4;
	enum cadence_band band;
	bool relay; /* the sources carry the relay signal */
	struct json_object *evidence;
};

struct ind_sink {
	void (*emit)(void *ctx, const struct indicator *ind);
	void *ctx;
};

struct collector;
struct p0f_db;
struct asndb;

struct corr_env {
	const struct collector *coll; /* fingerprints by flow */
	const struct p0f_db *p0f;
	const struct asndb *asn; /* NULL: no network classes */
	int sigs_fd;		 /* the tcp_sigs map */
};

struct corr_stats {
	uint64_t evals;
	uint64_t relay_samples;	    /* flows with a complete timing */
	uint64_t relay_hits;	    /* ... whose detour passed the bound */
	uint64_t raised[IND_COUNT]; /* fresh records by kind */
	uint64_t evictions;	    /* entries pushed out of full tables */
	size_t sources, members, clusters, flows_tracked;
	size_t farm_clusters;	/* firing at the last evaluation */
	size_t cluster_sources; /* active low-volume members, all clusters */
	size_t kernel_flows, kernel_sources, kernel_sigs; /* last sweep */
	double relay_share; /* relay hits / samples, last window */
};

struct corr;

struct corr *corr_new(const struct corr_config *cfg, const struct corr_env *env,
		      size_t max_flows, size_t max_sources);
void corr_free(struct corr *c);
/* Fold the kernel's flows and sources maps. With flows_over (the end of a
 * capture) every flow counts as finished. Returns 0 or -1. */
int corr_sweep(struct corr *c, int flows_fd, int sources_fd, uint64_t now_ns,
	       bool flows_over);
/* Evaluate every indicator at now_ns; each firing one goes to sink. */
void corr_eval(struct corr *c, uint64_t now_ns, const struct ind_sink *sink);
void corr_get_stats(const struct corr *c, struct corr_stats *s);

/* The largest clusters of the last evaluation (for bounded metrics). */
struct cluster_view {
	uint64_t cluster_id, tuple_id;
	char ja4[37];
	enum cadence_band band;
	size_t sources, prefixes;
	bool farm;
	double score;
};

size_t corr_top_clusters(const struct corr *c, struct cluster_view *out,
			 size_t k);

#endif
