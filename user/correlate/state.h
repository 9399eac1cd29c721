/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The correlator's internal state, shared by the engine (correlate.c) and
 * the indicator evaluators (user/indicators/). Every table is bounded
 * (user/table.h): when full, the oldest entry goes and is counted.
 */
#ifndef HS_USER_CORR_STATE_H
#define HS_USER_CORR_STATE_H

#include <json-c/json.h>

#include "fingerprint/asndb.h"
#include "correlate/correlate.h"
#include "output/json_field.h"
#include "datapath/mapiter.h"
#include "lib/strpool.h"
#include "lib/table.h"

/* Running mean and variance (Welford), in doubles: userspace only. */
struct running {
	double n, mean, m2;
};

void running_add(struct running *r, double x);
/* Pool b into a (parallel Welford). */
void running_merge(struct running *a, const struct running *b);
double running_cv(const struct running *r); /* -1 below 2 samples */

#define DETOUR_SAMPLES 9 /* recent per-flow detour estimates, for a median */

/* What the evaluators read of the kernel's source counters (struct
 * hs_source is 160 bytes; a source keeps these 40). */
struct src_kernel {
	uint64_t ivl_mean_us; /* inter-burst interval */
	uint64_t ivl_var_us2;
	uint32_t flows;
	uint32_t bursts;
	uint32_t min_tcp_rtt_us;
	uint32_t min_tls_rtt_us;
	uint32_t min_ack_hello_us;
};

/* The network database's answer, the AS name interned (c->strs). */
struct src_asn {
	uint32_t asn; /* 0: unknown */
	uint32_t org; /* c->strs id */
	uint8_t cls;  /* enum net_class */
};

/*
 * Per source, fixed size: strings (the last SYN signature, the AS name)
 * are references into c->strs, which holds one copy per distinct string
 * for however many sources share it. At a million flows this is a quarter
 * of the correlator's memory; it was 456 bytes a source.
 */
#define SOURCE_KINDS 6 /* per-source indicator kinds (eval_sources) */

struct src_state {
	/* nonzero while this entry holds this source (src_release clears
	 * it, a new source gets a new one): what a member's link is checked
	 * against */
	uint64_t serial;
	struct src_kernel k; /* the kernel's counters, last sweep */
	bool have_kernel;
	uint64_t first_ns, last_ns;
	/* relay: per flow, family-aware (see relay.c) */
	uint32_t relay_measured, relay_hits;
	uint32_t relay_weak; /* flows with a small but consistent detour */
	int32_t detour_us[DETOUR_SAMPLES];
	uint8_t detour_n, detour_pos;
	/* stack: per flow, TLS family vs the SYN's OS class */
	uint32_t stack_checked, stack_hits;
	double stack_worst;
	uint8_t worst_family, worst_os;
	uint8_t family; /* of the last fingerprinted flow */
	/* request sizes of finished flows */
	struct running sizes;
	/* the last SYN signature: its raw form is c->strs id tcp_sig */
	uint16_t mss;
	uint8_t hops, have_sig;
	uint32_t tcp_sig;
	/* network database */
	bool asn_done;
	struct src_asn asn;
	uint32_t fired; /* kinds firing at the last evaluation */
	uint32_t round; /* the last round that queued it for a refresh */
	/* per source indicator kind (in eval_sources' order): its last
	 * record, when and at what score, for freshness; kept here rather
	 * than in c->raised (clusters'), which cost every firing source a
	 * keyed lookup per kind per round */
	uint64_t raised_ns[SOURCE_KINDS];
	double raised_score[SOURCE_KINDS]; /* exact: a rise of 0.1 is fresh */
	uint8_t raised_on; /* bit i: raised_*[i] hold a record */
};

/* One source in one cluster (the TLS client identity, see fold.c). */
struct member_key {
	struct hs_addr addr;
	uint64_t cluster;
};

/* The learned relay bound (relay_bound.c) checks how far a flow's TLS gap
 * falls short of its ACK->hello delay in steps of RELAY_LEAD_STEP_US << k,
 * k < RELAY_LEAD_STEPS (0.5, 1, 2, 4 ms). */
#define RELAY_LEAD_STEPS 4
#define RELAY_LEAD_STEP_US 500u
/* Relayed flows of a cluster the default bounds missed, kept to choose
 * the lead by (the latest ones). */
#define RELAY_MISSED 32

struct member {
	uint64_t first_ns, last_ns;
	uint32_t flows;
	uint32_t relay_measured, relay_hits, relay_weak;
	uint32_t stack_checked, stack_hits;
	struct running sizes;
	uint64_t syn_class;	/* SYN OS-class id (0: none seen), last flow */
	uint64_t tuple_id;	/* the kernel's tuple id, last flow */
	uint64_t endpoints;	/* 64-bit Bloom set of the endpoints it used */
	uint64_t last_start_ns; /* start of its latest flow (period) */
	/* client bytes after the hello per flow no rule cut (a cut one's
	 * are ours to decide, not the script's) */
	struct running conn_bytes;
	uint32_t reported;  /* kinds whose records listed it already */
	uint32_t cut_flows; /* flows a tuple rule cut (its pace is off) */
	/* its flows' timing envelope (relay_bound.c): the largest ACK->hello
	 * delay among those whose TLS gap fell short of it by at most lead
	 * step k; and a flow whose hello came within relay_base_ack_us of the
	 * ACK, which no relay of a larger detour can show */
	uint32_t lead_ack_us[RELAY_LEAD_STEPS];
	bool prompt;
	/* its source, as fold_flow last found it: the evaluation follows the
	 * link instead of a keyed lookup per member per round while the
	 * source's serial still matches (member_src) */
	struct src_state *src;
	uint64_t src_serial;
};

/* Endpoint mix of a cluster in one window (pivot). */
#define PIVOT_ENDPOINTS 8
struct endpoint_window {
	uint64_t idx; /* window number: time / window_s */
	uint32_t flows, other;
	struct {
		uint64_t h;
		uint32_t n;
		char name[48];
	} ep[PIVOT_ENDPOINTS];
};

struct cluster_state {
	uint64_t tuple_id; /* of the first flow (a TLS cluster has several) */
	uint64_t tls_id;   /* kernel TLS id, 0 when unknown */
	uint8_t family;	   /* enum client_family of its first hello */
	char ja4[37];
	uint64_t last_ns;
	/* by window number parity: flows without and with a detour */
	struct endpoint_window win[2], rwin[2];
	/* its latest flows with a detour that the default relay bounds would
	 * not cut: ACK->hello and how far the TLS gap fell short of it */
	struct {
		uint32_t ack_us;
		int32_t lead_us;
	} missed[RELAY_MISSED];
	uint8_t missed_pos, missed_n;
};

/* Progress of one kernel flow through the folds. */
enum fold_bits {
	FOLD_MEMBER = 1 << 0, /* joined its cluster */
	FOLD_RELAY = 1 << 1,  /* timing sample taken */
	FOLD_STACK = 1 << 2,  /* family vs OS class checked */
	FOLD_SIZES = 1 << 3,  /* request sizes taken (flow over) */
	/* over without a completed handshake: counted, never folded */
	FOLD_UNVERIFIED = 1 << 4,
};

#define FOLD_ALL (FOLD_MEMBER | FOLD_RELAY | FOLD_STACK | FOLD_SIZES)

struct flow_shadow {
	uint64_t first_ns; /* tells a reused 5-tuple apart (0: not read yet) */
	uint64_t last_ns;  /* the flow's last packet when last read */
	uint64_t cluster;
	uint32_t done;
	uint16_t pass;	/* reconciliation pass that last found the flow */
	uint8_t queued; /* listed for a round (watch.c) */
	uint8_t pad;
};

/* Nothing for fold_flow to do: the same connection, done, not moved. */
static inline bool fold_idle(const struct flow_shadow *sh,
			     const struct hs_flow *f)
{
	return sh->first_ns == f->first_ns && sh->done == FOLD_ALL &&
	       sh->last_ns == f->last_ns;
}

/* The flows the next round reads: keys, each also marked in its shadow
 * (queued) so that a flow is listed once however many events name it. */
struct flow_list {
	struct hs_flow_key *keys;
	size_t n, cap;
};

/* What a group holds (see build_groups in correlate.c). */
enum group_kind {
	GROUP_DIRECT, /* cluster x SYN class x cadence band */
	GROUP_RELAY,  /* the cluster's members with the relay signal */
	GROUP_CANDS,  /* every direct member of the cluster (linking) */
};

/* The direct members of a cluster, for its relay bound (relay_bound.c):
 * every member in the current window but the farm's listed exits, i.e.
 * those without the relay signal, relayed ones of more than
 * cluster_max_source_flows (a NAT, a proxy) and relayed ones that sent a
 * hello within relay_base_ack_us of the ACK once. Their timing envelope
 * (struct member's lead_ack_us) at each lead step, members and flows. */
struct bound_direct {
	uint32_t ack_max_us[RELAY_LEAD_STEPS];
	uint32_t sources, flows;
};

/* The relay bound learned for a relay group's tuple rule (relay_bound.c):
 * ACK->hello at least low_ack_us with the TLS gap at most lead_max_us
 * short of it; low_ack_us 0 when the evidence does not allow one. */
struct relay_bound {
	uint32_t low_ack_us, lead_max_us;
	/* the evidence: the direct members and flows, their largest
	 * ACK->hello delay within the lead, the relayed flows the default
	 * bounds missed (the latest RELAY_MISSED) and how many the bound cuts
	 */
	uint32_t direct_sources, direct_flows, direct_ack_max_us;
	uint32_t relayed_missed, relayed_cut;
	const char *why; /* why there is none */
};

/* A group of members of one cluster, built at each evaluation. */
struct group {
	uint64_t id, cluster;
	const struct cluster_state *cl;
	enum group_kind kind;
	uint64_t syn_class;
	enum cadence_band band;
	/* members active in the current window (low-volume ones) */
	size_t n, cap;
	struct hs_addr *addrs;
	struct member **mem;
	const struct src_state **src;
	/* members seen only in the previous window */
	size_t prev_only, prev_total;
	size_t fresh; /* first seen in the cluster in the current window */
	uint64_t first_ns, last_ns, flows;
	double span_median_s;
	size_t prefixes, asns;
	size_t relay_measured, relay_members;
	size_t stack_checked, stack_members;
	struct running sizes;
	size_t size_members;
	size_t stacks;	  /* distinct SYN classes (relay groups) */
	uint64_t *tuples; /* distinct kernel tuple ids, commonest first */
	size_t n_tuples;
	size_t peers_measured; /* direct members of the cluster with timing */
	size_t linked;	       /* direct members that joined (relay groups) */
	struct hs_addr *linked_addrs; /* ... their addresses */
	/* the shared schedule (coherent direct groups, linked relay groups) */
	double period_s, conn_bytes;
	/* relay groups: the bound learned for the cluster's tuple rule;
	 * candidates' groups: the cluster's direct members for it */
	struct relay_bound bound;
	struct bound_direct direct;
	/* results */
	bool farm;
	double farm_score;
	bool relay; /* evidence is the relay signal */
	bool mismatch;
};

struct corr {
	struct corr_config cfg;
	struct corr_env env;
	struct table *srcs;	/* hs_addr -> src_state */
	uint64_t src_serial;	/* the last src_state serial given */
	struct table *members;	/* member_key -> member */
	struct table *clusters; /* u64 -> cluster_state */
	struct table *shadows;	/* hs_flow_key -> flow_shadow */
	struct table *raised;	/* u64 (kind, subject) -> struct raised */
	struct table *sigs;	/* u64 sig id -> struct sig_info */
	struct strpool *strs;	/* SYN signatures and AS names, interned */
	bool ordered; /* fold each round in time order (corr_set_ordered) */
	struct corr_stats st;
	/* what rounds read (watch.c) */
	struct flow_list watch;		     /* flows the next round reads */
	struct flow_list spare;		     /* the list a round reads */
	struct hs_addr *touched;	     /* sources whose flows moved */
	size_t n_touched, touched_cap;	     /* ... this round */
	struct map_cursor flow_cur, src_cur; /* reconciliation walks */
	uint32_t round;
	uint64_t next_expire_ns; /* expire_all's next walk of the members */
	uint16_t pass;		 /* the flow walk's pass number */
	bool resync;		 /* read whole maps at the next round */
	size_t max_flows, max_sources; /* the kernel maps' sizes */
	/* relay share: samples and hits of the current and last window */
	uint64_t win_idx, win_samples, win_hits;
	uint64_t last_samples, last_hits;
	/* sources and groups tested at the last evaluation (the multiple-
	 * testing denominators) */
	size_t n_tested_sources, n_tested_groups;
	struct corr_fleet fleet;    /* observe == NULL: single host */
	struct fleet_member *slice; /* staging for fleet.observe */
	size_t slice_cap;
	/* top clusters of the last evaluation (top.c) */
	struct cluster_detail top[CORR_TOP_K];
	size_t n_top;
};

struct sig_info {
	struct hs_tcp_sig sig;
	enum os_class os;
	uint32_t raw_id; /* c->strs: the raw form, one reference */
	char raw[96];
};

/* A string of c->strs ("" for none). */
const char *corr_str(const struct corr *c, uint32_t id);

/* The SYN signature behind an id (cached), NULL if unknown. */
const struct sig_info *corr_sig(struct corr *c, uint64_t id);

/* Folding (fold.c). A kernel flow into the state, tracked by its shadow
 * (a flow done and not moved since costs nothing more). With flows_over
 * every flow counts as finished. */
void fold_flow(struct corr *c, const struct hs_flow_key *k,
	       const struct hs_flow *f, struct flow_shadow *sh, uint64_t now,
	       bool flows_over);
/* A kernel source's counters into its state, if it has one. */
void fold_source(struct corr *c, const struct hs_addr *a,
		 const struct hs_source *k);

/* Helpers shared by the evaluators. */
double clamp01(double x);
json_object *evidence_new(void);
void ev_dbl(json_object *e, const char *k, double v);
enum cadence_band source_band(const struct corr *c, const struct src_kernel *k);
/* Upper confidence bound of a CV from k intervals at level 1 - alpha. */
double cv_upper(double cv, unsigned k, double alpha);
/* Upper bound of P(X >= k), X ~ Binomial(n, p) (Chernoff). */
double binom_tail_bound(size_t k, size_t n, double p);
/* The relay signal of a member: strong flows, or small consistent ones. */
bool member_relayed(const struct corr_config *cfg, const struct member *m);
/* Per-test false-alarm level for n tests per evaluation, within the
 * alert budget (expected chance hits per window). */
double test_alpha(const struct corr_config *cfg, size_t n);
double source_cv(const struct src_kernel *k);
/* Median of the source's recent detour estimates (us). */
int32_t detour_median(const struct src_state *s);

/* Per-source evaluators: fill the score, return true to fire. fired holds
 * the kinds that fired before this one (in enum order). Their explainers
 * write the evidence, which only an indicator that goes out as a record
 * (fresh) carries: most of a round's are repeats that renew decisions, and
 * at a quarter of a million sources, writing every one's evidence again was
 * most of a round. */
typedef bool (*source_eval_fn)(const struct corr *c, const struct hs_addr *a,
			       const struct src_state *s, uint32_t fired,
			       struct indicator *ind);
typedef void (*source_explain_fn)(const struct corr *c,
				  const struct src_state *s, uint32_t fired,
				  struct indicator *ind);
void explain_relay(const struct corr *c, const struct src_state *s,
		   uint32_t fired, struct indicator *ind);
void explain_stack(const struct corr *c, const struct src_state *s,
		   uint32_t fired, struct indicator *ind);
void explain_hop(const struct corr *c, const struct src_state *s,
		 uint32_t fired, struct indicator *ind);
void explain_robotic(const struct corr *c, const struct src_state *s,
		     uint32_t fired, struct indicator *ind);
void explain_uniform_source(const struct corr *c, const struct src_state *s,
			    uint32_t fired, struct indicator *ind);
void explain_residential(const struct corr *c, const struct src_state *s,
			 uint32_t fired, struct indicator *ind);
bool eval_relay(const struct corr *c, const struct hs_addr *a,
		const struct src_state *s, uint32_t fired,
		struct indicator *ind);
bool eval_stack(const struct corr *c, const struct hs_addr *a,
		const struct src_state *s, uint32_t fired,
		struct indicator *ind);
bool eval_hop(const struct corr *c, const struct hs_addr *a,
	      const struct src_state *s, uint32_t fired, struct indicator *ind);
bool eval_robotic(const struct corr *c, const struct hs_addr *a,
		  const struct src_state *s, uint32_t fired,
		  struct indicator *ind);
bool eval_uniform_source(const struct corr *c, const struct hs_addr *a,
			 const struct src_state *s, uint32_t fired,
			 struct indicator *ind);
bool eval_residential(const struct corr *c, const struct hs_addr *a,
		      const struct src_state *s, uint32_t fired,
		      struct indicator *ind);

/* Enter a group of the evaluation at now into the top clusters, if it
 * is among the largest (farms first). */
void corr_note_top(struct corr *c, const struct group *g, uint64_t now_ns);

/* The fleet's counts for a group (false: no fleet transport, or it
 * knows nothing of the group yet). */
bool corr_fleet_view(const struct corr *c, const struct group *g,
		     struct fleet_counts *fc);

/* The learned relay bound (relay_bound.c). bound_fold takes one flow's
 * clean timing (us) into its member's envelope and, with a detour the
 * default bounds miss, its cluster's samples; bound_direct_add a direct
 * member into d; bound_learn sets g->bound for a relay group from its
 * cluster's direct members (NULL: none). */
void bound_fold(const struct corr_config *cfg, struct member *m,
		struct cluster_state *cl, enum client_family fam, int64_t tcp,
		int64_t tls, int64_t ack_hello, bool detour);
void bound_direct_add(struct bound_direct *d, const struct member *m);
void bound_learn(const struct corr *c, struct group *g,
		 const struct bound_direct *d);

/* Per-group evaluators (after farm_cluster has run on the group). */
bool eval_farm(const struct corr *c, struct group *g, struct indicator *ind);
bool eval_rotation(const struct corr *c, const struct group *g,
		   struct indicator *ind);
bool eval_pivot(const struct corr *c, const struct group *g, uint64_t now_ns,
		struct indicator *ind);
bool eval_uniform_cluster(const struct corr *c, const struct group *g,
			  struct indicator *ind);

#endif
