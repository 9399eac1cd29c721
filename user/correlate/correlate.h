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

#include "correlate/thresholds.h"
#include "fingerprint/client_family.h"
#include "hydrascope/abi.h"
#include "lib/histogram.h"

/* Thresholds and limits, one field per entry of HS_CORR_THRESHOLDS. */
#define HS_THR_FIELD_UINT(name) unsigned name;
#define HS_THR_FIELD_REAL(name) double name;
#define HS_THR_FIELD_UINT_PER_FAMILY(name) unsigned name[FAM_COUNT];
#define HS_THR_FIELD(name, kind, def, lo, hi, help) HS_THR_FIELD_##kind(name)
struct corr_config {
	HS_CORR_THRESHOLDS(HS_THR_FIELD, HS_THR_NO_GROUP)
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
	BAND_ANY, /* a relay group: members of every band */
	BAND_COUNT
};

const char *band_name(enum cadence_band b);

struct json_object;

struct ind_explain;

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
	uint64_t tls_id;     /* kernel TLS id (the tuple id without the SYN) */
	uint8_t family;	     /* enum client_family of the cluster's hello */
	const char *ja4;
	enum cadence_band band;
	bool relay; /* the sources carry the relay signal */
	/* kernel tuple ids the sources used (a farm behind exits of many
	 * OSes has one per exit stack); tuple_id is the most common */
	const uint64_t *tuple_ids;
	size_t n_tuple_ids;
	/* sources that joined a relayed farm by behaviour alone (direct, no
	 * relay signal of their own): listed, blocked only as direct members */
	const struct hs_addr *linked;
	size_t n_linked;
	/* relayed farms: the relay bound learned for their tuple rule (see
	 * hs_relay_cut), 0: the default bounds only */
	uint32_t relay_low_ack_us, relay_lead_max_us;
	/* why, as records print it: read it through ind_evidence, which
	 * writes a per-source indicator's on first use (a repeat that only
	 * renews a decision never needs it) */
	struct json_object *evidence;
	const struct ind_explain *explain; /* how to write it, if not yet */
};

/* The indicator's evidence, written now if it was left for later; valid
 * while the sink runs (NULL: it has none). */
struct json_object *ind_evidence(const struct indicator *ind);

/* The default relay bounds of a rule on a client of family fam (see
 * hs_relay_cut): TLS RTT - TCP RTT >= *min_gap_us (the family's allowance +
 * relay_min_gap_us) and ACK->hello >= *min_ack_us (relay_base_ack_us +
 * relay_min_gap_us; 0 without relay_require_ack_delay). */
void relay_default_bounds(const struct corr_config *cfg, enum client_family fam,
			  uint32_t *min_gap_us, uint32_t *min_ack_us);

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

/* How a round came to read a kernel flow (watch.c). */
enum corr_read {
	CORR_READ_LISTED,    /* named by an event, or active last round */
	CORR_READ_RECONCILE, /* found by the reconciliation walk */
	CORR_READ_SWEEP,     /* a read of the whole map (first, last, busy) */
	CORR_READ_KINDS
};

struct corr_stats {
	uint64_t evals;
	uint64_t relay_samples;	    /* flows with a complete timing */
	uint64_t relay_hits;	    /* ... whose detour passed the bound */
	uint64_t raised[IND_COUNT]; /* fresh records by kind */
	uint64_t evictions;	    /* entries pushed out of full tables */
	uint64_t flows_unverified;  /* over without a completed handshake */
	size_t sources, members, clusters, flows_tracked;
	size_t farm_clusters;	/* firing at the last evaluation */
	size_t cluster_sources; /* active low-volume members, all clusters */
	size_t cluster_groups;	/* clusters (groups) with any of them */
	/* flow milestones from the datapath (corr_on_event), and events
	 * that were not one */
	uint64_t flow_events, bad_flow_events;
	uint64_t flow_reads[CORR_READ_KINDS]; /* kernel flows rounds read */
	uint64_t source_reads;		      /* kernel sources read */
	/* flows with a completed handshake the reconciliation walk found
	 * moved that no event reported (lost to a full ring; 0 otherwise) */
	uint64_t flows_reconciled;
	uint64_t recon_passes; /* complete passes over the flow map */
	uint64_t list_dropped; /* flows not listed: the list was full */
	size_t flows_listed;   /* flows the next round reads */
	/* entries found by the last complete pass over each map */
	size_t kernel_flows, kernel_sources;
	double relay_share;	  /* relay hits / samples, last window */
	struct hs_hist relay_gap; /* detour estimates, s (0: none) */
};

/* Past one host (README, "Fleet"): a load balancer spreads one farm over
 * every ingress host, so each sees a slice of its members. The correlator
 * hands each evaluation's slice of every cluster to a fleet transport and
 * scores farm_cluster on the fleet's distinct counts where they are larger
 * than its own. The transport is optional and never blocks: view() answers
 * from what it read back last. */
#define FLEET_MEMBER_RELAY_MEASURED (1u << 0)
#define FLEET_MEMBER_RELAY (1u << 1) /* shows the relay signal */
#define FLEET_MEMBER_STACK_CHECKED (1u << 2)
#define FLEET_MEMBER_STACK (1u << 3) /* shows the stack mismatch */
/* not a member: a direct member of the relay group's cluster with a timing
 * sample, counted in the relay test's denominator only */
#define FLEET_MEMBER_PEER (1u << 4)

struct fleet_member {
	struct hs_addr addr;
	uint32_t flows;
	uint32_t bits; /* FLEET_MEMBER_* */
};

/* One cluster x band as this host sees it in the current window. */
struct fleet_slice {
	uint64_t group_id; /* tuple, JA4 and band: the same on every host */
	uint64_t tuple_id;
	enum cadence_band band;
	const struct fleet_member *members;
	size_t n;
};

/* Distinct counts over every host's slices (HyperLogLog estimates).
 * relay_measured: members with a timing sample and peers. */
struct fleet_counts {
	uint64_t sources, prefixes, hosts;
	uint64_t relay_measured, relay_members;
	uint64_t stack_checked, stack_members;
};

struct corr_fleet {
	void (*observe)(void *ctx, const struct fleet_slice *s);
	bool (*view)(void *ctx, uint64_t group_id, struct fleet_counts *out);
	void *ctx;
};

struct corr;

/* Attach a fleet transport (NULL: single host, the default). */
void corr_set_fleet(struct corr *c, const struct corr_fleet *f);
/* Fold the flows a round reads (listed by events, or the whole map) in
 * time order, first packet then flow key, instead of the order events
 * arrived in and the kernel map's order, which follows a random hash seed
 * and, in a threaded replay, which thread ran first. What the correlator
 * keeps of "the first flow" or "the last flow" (a cluster's JA4, a
 * source's SYN signature, a member's tuple id, the recent detours) and
 * the floating-point sums then come out the same on every run. It costs a
 * copy and a sort of the flows a round folds: replay sets it, live does
 * not. */
void corr_set_ordered(struct corr *c, bool on);

struct corr *corr_new(const struct corr_config *cfg, const struct corr_env *env,
		      size_t max_flows, size_t max_sources);
void corr_free(struct corr *c);
/* A round's reads of the kernel's flows and sources maps (watch.c): the
 * flows flow events named and those still active, a slice of each map (the
 * reconciliation walk), the sources whose flows moved. With flows_over
 * (the end of a capture or a run) the whole maps, every flow counted as
 * finished. Returns 0 or -1. */
int corr_sweep(struct corr *c, int flows_fd, int sources_fd, uint64_t now_ns,
	       bool flows_over);
/* A flow milestone (struct hs_flow_event): the flow is read at the next
 * round. A libbpf ring_buffer callback on the flow_events ring; ctx is
 * the correlator. */
int corr_on_event(void *ctx, void *data, size_t len);
/* Read the whole maps at the next round: they hold flows no event of
 * ours reported (a restart that reused them). */
void corr_resync(struct corr *c);
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

/* ... and what the status page shows of them: the members seen last with
 * the evidence each carries, and the endpoints the cluster used most. */
#define CORR_TOP_K 16
#define CLUSTER_DETAIL_MEMBERS 8
#define CLUSTER_DETAIL_ENDPOINTS 3

struct cluster_member_view {
	struct hs_addr addr;
	uint32_t flows;	   /* its flows in the cluster */
	int32_t detour_us; /* median relay detour estimate of the source */
	bool relayed;	   /* shows the relay signal */
	char tcp_sig[96];  /* its last SYN signature (p0f raw form), or "" */
};

struct cluster_endpoint_view {
	char name[48]; /* SNI, else server:port: client-chosen bytes */
	uint32_t flows;
};

struct cluster_detail {
	struct cluster_view v;
	struct cluster_member_view members[CLUSTER_DETAIL_MEMBERS];
	size_t n_members; /* of v.sources, the ones seen last */
	struct cluster_endpoint_view endpoints[CLUSTER_DETAIL_ENDPOINTS];
	size_t n_endpoints;
};

size_t corr_top_details(const struct corr *c, struct cluster_detail *out,
			size_t k);

#endif
