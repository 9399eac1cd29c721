// SPDX-License-Identifier: BSD-2-Clause
/*
 * farm_cluster (user/correlate/indicators/cluster.c, with the grouping of
 * correlate.c): members sharing one fingerprint tuple, each a source
 * record with the cadence of a band and one flow, through the sweep.
 *
 * With the defaults a group needs 5 low-volume members (at most 20
 * flows each) over 5 /24s, and machine evidence: a relay group (the
 * cluster's members with the relay signal, whatever their stack) beyond
 * chance among the cluster's measured members; a direct group (one SYN
 * class and band) in the robotic band, or with at least half of its
 * checked members mismatched (a share counted once max(3, members / 4)
 * were checked). Score: 0.3 + 0.3 * min(1, /24s / 10) + 0.3 * evidence
 * (+ 0.1 for uniform sizes, see test_uniform.c; + 0.1 for 3 exit stacks).
 * A robotic group is one schedule: its members here connect every 3 s with
 * the same request, so they earn the uniform bonus.
 * With mismatch evidence only the members that show it are listed.
 *
 * Fleet rows: a fake transport answers the fleet's distinct counts (as
 * Redis's HyperLogLogs would) and records the slice this host hands it;
 * the fleet's counts replace this host's where they are larger, so a farm
 * forms from slices that each stay under the thresholds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "corr_fixture.h"
#include "rows.h"

struct cluster_row {
	const char *name;
	unsigned min_prefixes; /* cluster_min_prefixes; 0: the default */
	unsigned members, prefixes;
	enum cadence_band band;
	unsigned measured, relayed;   /* members 0.. with a timing sample */
	unsigned checked, mismatched; /* members 0.. with a SYN */
	uint32_t flows0;	      /* kernel flows of member 0 (0: 1) */
	bool fires;
	double score;
	size_t listed;
};

/* A row seen with the fleet's counts. */
struct fleet_row {
	const char *name;
	struct cluster_row here; /* this host's slice and the verdict */
	struct fleet_counts fleet;
	const char *scope; /* the evidence's "scope" when it fires */
};

/* The fake transport: answers the row's counts, keeps the last slice. */
static struct {
	const struct fleet_counts *counts;
	size_t slice_n, slice_relayed;
} fake;

static void fake_observe(void *ctx, const struct fleet_slice *s)
{
	(void)ctx;
	fake.slice_n = s->n;
	fake.slice_relayed = 0;
	for (size_t i = 0; i < s->n; i++)
		fake.slice_relayed +=
		    !!(s->members[i].bits & FLEET_MEMBER_RELAY);
}

static bool fake_view(void *ctx, uint64_t group, struct fleet_counts *out)
{
	(void)ctx;
	(void)group;
	*out = *fake.counts;
	return true;
}

static const struct cluster_row rows[] = {
    {"cluster: 5 robotic members over 5 /24s, both minimums at the bound", 0, 5,
     5, BAND_ROBOTIC, 0, 0, 0, 0, 0, true, 0.3 + 0.3 * 0.5 + 0.3 + 0.1, 5},
    {"cluster: 5 robotic members over 4 /24s, under cluster_min_prefixes", 0, 5,
     4, BAND_ROBOTIC, 0, 0, 0, 0, 0, false, 0, 0},
    {"cluster: 5 members over 4 /24s with cluster_min_prefixes 4", 4, 5, 4,
     BAND_ROBOTIC, 0, 0, 0, 0, 0, true, 0.3 + 0.3 * 0.5 + 0.3 + 0.1, 5},
    {"cluster: 4 members over 4 /24s, under cluster_min_sources", 4, 4, 4,
     BAND_ROBOTIC, 0, 0, 0, 0, 0, false, 0, 0},
    {"cluster: 10 members over 10 /24s saturate the spread", 0, 10, 10,
     BAND_ROBOTIC, 0, 0, 0, 0, 0, true, 1.0, 10},
    {"cluster: a member with 20 flows is still low-volume", 0, 5, 5,
     BAND_ROBOTIC, 0, 0, 0, 0, 20, true, 0.85, 5},
    {"cluster: a member with 21 flows is not, 4 remain", 0, 5, 5, BAND_ROBOTIC,
     0, 0, 0, 0, 21, false, 0, 0},
    /* relayed members form one group whatever their stack and band:
     * that many of the cluster's measured members relayed must be beyond
     * chance (1 % of direct clients, a binomial bound at alert_budget) */
    {"cluster: relay on 5 of 8 measured members over 8 /24s", 0, 8, 8,
     BAND_SPARSE, 8, 5, 0, 0, 0, true, 0.3 + 0.3 * 0.5 + 0.3, 5},
    {"cluster: relay on 4 of 9 measured members, under cluster_min_sources", 0,
     9, 9, BAND_SPARSE, 9, 4, 0, 0, 0, false, 0, 0},
    {"cluster: relay on 10 of 10, single flows each", 0, 10, 10, BAND_SPARSE,
     10, 10, 0, 0, 0, true, 0.9, 10},
    /* direct members are grouped by SYN class: the Windows SYNs apart */
    {"cluster: stack mismatch on 5 of 10 checked members", 0, 10, 10,
     BAND_SPARSE, 0, 0, 10, 5, 0, true, 0.3 + 0.3 * 0.5 + 0.3, 5},
    {"cluster: stack mismatch on 3 of 7 checked members", 0, 7, 7, BAND_SPARSE,
     0, 0, 7, 3, 0, false, 0, 0},
    {"cluster: the regular band is no machine evidence", 0, 5, 5, BAND_REGULAR,
     0, 0, 0, 0, 0, false, 0, 0},
    /* benign look-alikes */
    {"benign: browsers sharing a popular stack, human band over 12 /24s", 0, 12,
     12, BAND_HUMAN, 0, 0, 0, 0, 0, false, 0, 0},
    {"benign: SDK customers with the farm's stack, direct", 0, 8, 8,
     BAND_SPARSE, 8, 0, 8, 0, 0, false, 0, 0},
    {"benign: 5 slow clients among 60 direct members of one client", 0, 60, 60,
     BAND_SPARSE, 60, 5, 0, 0, 0, false, 0, 0},

    {"benign: a NAT address with many users, robotic", 0, 1, 1, BAND_ROBOTIC, 0,
     0, 0, 0, 50, false, 0, 0},
};

static const struct fleet_row fleet_rows[] = {
    {"fleet: relay on 4 of 4 over 4 /24s here, 6 of 6 over 6 in the fleet",
     {NULL, 0, 4, 4, BAND_SPARSE, 4, 4, 0, 0, 0, true, 0.3 + 0.3 * 0.6 + 0.3,
      4},
     {.sources = 6,
      .prefixes = 6,
      .hosts = 3,
      .relay_measured = 6,
      .relay_members = 6},
     "\"scope\":\"fleet\""},
    {"fleet: the fleet has 4 sources too, under cluster_min_sources",
     {NULL, 0, 4, 4, BAND_SPARSE, 4, 4, 0, 0, 0, false, 0, 0},
     {.sources = 4,
      .prefixes = 4,
      .hosts = 2,
      .relay_measured = 4,
      .relay_members = 4},
     NULL},
    {"fleet: 6 sources over 4 /24s in the fleet, under cluster_min_prefixes",
     {NULL, 0, 4, 4, BAND_SPARSE, 4, 4, 0, 0, 0, false, 0, 0},
     {.sources = 6,
      .prefixes = 4,
      .hosts = 2,
      .relay_measured = 6,
      .relay_members = 6},
     NULL},
    {"fleet: 6 relayed among 600 measured in the fleet is chance",
     {NULL, 0, 4, 4, BAND_SPARSE, 4, 4, 0, 0, 0, false, 0, 0},
     {.sources = 6,
      .prefixes = 6,
      .hosts = 3,
      .relay_measured = 600,
      .relay_members = 6},
     NULL},
    {"fleet: 5 robotic over 5 here and no more in the fleet: scope host",
     {NULL, 0, 5, 5, BAND_ROBOTIC, 0, 0, 0, 0, 0, true,
      0.3 + 0.3 * 0.5 + 0.3 + 0.1, 5},
     {.sources = 5, .prefixes = 5, .hosts = 1},
     "\"scope\":\"host\""},
};

static void check_row(const struct cluster_row *r,
		      const struct fleet_counts *fleet, const char *scope)
{
	struct fx *f = fx_new();
	const struct fx_ind *g;
	char a[32];

	assert_int_equal(f->cfg.cluster_min_sources, 5);
	assert_int_equal(f->cfg.cluster_min_prefixes, 5);
	assert_int_equal(f->cfg.cluster_max_source_flows, 20);
	assert_true(f->cfg.cluster_min_evidence == 0.5);
	if (r->min_prefixes)
		f->cfg.cluster_min_prefixes = r->min_prefixes;
	fake.counts = fleet;
	fake.slice_n = 0;
	for (unsigned i = 0; i < r->members; i++) {
		bool timed = i < r->measured, relayed = i < r->relayed;

		fx_member_addr(a, sizeof(a), i, r->prefixes);
		fx_band_source(f, a, r->band, i == 0 ? r->flows0 : 1, 100, 110);
		/* relayed: a 30 ms detour (OpenSSL allowance 2 ms); a
		 * mismatch: OpenSSL behind a Windows SYN (0.5) */
		fx_flow(f, &(struct fx_flow){
			       .client = a,
			       .at_s = 100,
			       .dur_s = 10,
			       .fam = FAM_OPENSSL,
			       .ttl = i >= r->checked	  ? 0
				      : i < r->mismatched ? 128
							  : 64,
			       .mss = 1460,
			       .tcp_rtt_us = 20000,
			       .tls_rtt_us = !timed    ? 0
					     : relayed ? 20000 + 32000
						       : 20000 + 500,
			       .ack_hello_us = relayed ? 32000 : 500,
			   });
		/* a robotic farm is one script: every member makes a
		 * connection every 3 s with the same 400-byte request */
		for (unsigned k = 0; r->band == BAND_ROBOTIC && k < 3; k++)
			fx_flow(f, &(struct fx_flow){
				       .client = a,
				       .at_s = 101 + 3 * k,
				       .dur_s = 1,
				       .fam = FAM_OPENSSL,
				       .req_n = 1,
				       .req_mean = 400,
				   });
	}
	if (fleet) {
		/* the correlator exists once evaluated: a first pass */
		fx_eval(f, 120);
		corr_set_fleet(
		    f->c, &(struct corr_fleet){fake_observe, fake_view, NULL});
	}
	fx_eval(f, 120);
	g = fx_find_cluster(f, IND_FARM_CLUSTER);
	if (fleet) {
		/* this host's slice went out: every member, with evidence */
		assert_int_equal(fake.slice_n, r->members);
		assert_int_equal(fake.slice_relayed, r->relayed);
	}
	if (g && scope)
		assert_non_null(strstr(g->evidence, scope));
	if (!g != !r->fires) {
		fx_dump(f);
		fail_msg("farm_cluster %s", g ? "fired" : "did not fire");
	}
	if (g) {
		assert_score(g->score, r->score);
		assert_int_equal(g->n_sources, r->listed);
		assert_int_equal(g->relay, r->relayed > 0);
		assert_int_equal(fx_ev(g, "prefixes"),
				 r->relayed || r->mismatched ? r->listed
							     : r->prefixes);
		/* a relay group holds its relayed members only; a direct
		 * group with the mismatch lists those that show it */
		assert_int_equal(
		    fx_ev(g, "members_without_evidence"),
		    r->relayed || r->mismatched ? 0 : r->members - r->listed);
	}
	fx_free(f);
}

static void run_row(void **state)
{
	check_row(*state, NULL, NULL);
}

static void run_fleet_row(void **state)
{
	const struct fleet_row *r = *state;

	check_row(&r->here, &r->fleet, r->scope);
}

/* The top clusters the status page shows: farms first whatever their
 * size, with the members seen last (their relay detour and SYN), and the
 * endpoints used most. */
static void test_top_details(void **state)
{
	struct cluster_detail d[CORR_TOP_K];
	struct cluster_view v[CORR_TOP_K];
	struct fx *f = fx_new();
	char a[32];
	size_t n;

	(void)state;
	/* a relayed farm of 10, member i's flow ending at 101 + i s, three
	 * of them to another port */
	for (unsigned i = 0; i < 10; i++) {
		fx_member_addr(a, sizeof(a), i, 10);
		fx_band_source(f, a, BAND_SPARSE, 1, 100, 110);
		fx_flow(f, &(struct fx_flow){.client = a,
					     .at_s = 100 + i,
					     .dur_s = 1,
					     .fam = FAM_OPENSSL,
					     .ttl = 64,
					     .mss = 1460,
					     .tcp_rtt_us = 20000,
					     .tls_rtt_us = 20000 + 32000,
					     .ack_hello_us = 32000,
					     .sport = i < 3 ? 8443 : 0});
	}
	/* 12 direct browsers of one /24: bigger, no farm */
	for (unsigned i = 0; i < 12; i++) {
		snprintf(a, sizeof(a), "198.51.100.%u", i + 1);
		fx_band_source(f, a, BAND_HUMAN, 1, 100, 110);
		fx_flow(f, &(struct fx_flow){.client = a,
					     .at_s = 100,
					     .dur_s = 1,
					     .fam = FAM_FIREFOX,
					     .ttl = 64,
					     .mss = 1460});
	}
	fx_eval(f, 120);
	n = corr_top_details(f->c, d, CORR_TOP_K);
	assert_int_equal(n, 2);
	assert_true(d[0].v.farm);
	assert_int_equal(d[0].v.sources, 10);
	assert_false(d[1].v.farm);
	assert_int_equal(d[1].v.sources, 12);
	assert_int_equal(d[0].n_members, CLUSTER_DETAIL_MEMBERS);
	for (unsigned i = 0; i < CLUSTER_DETAIL_MEMBERS; i++) {
		struct hs_addr want;

		fx_member_addr(a, sizeof(a), 9 - i, 10);
		want = fx_addr(a);
		assert_memory_equal(&d[0].members[i].addr, &want, sizeof(want));
		assert_true(d[0].members[i].relayed);
		assert_int_equal(d[0].members[i].flows, 1);
		assert_in_range(d[0].members[i].detour_us, 25000, 32000);
		assert_non_null(strstr(d[0].members[i].tcp_sig, ":1460:"));
	}
	assert_int_equal(d[0].n_endpoints, 2);
	assert_string_equal(d[0].endpoints[0].name, "192.0.2.1:443");
	assert_int_equal(d[0].endpoints[0].flows, 7);
	assert_string_equal(d[0].endpoints[1].name, "192.0.2.1:8443");
	assert_int_equal(d[0].endpoints[1].flows, 3);
	{
		struct corr_stats cs;

		corr_get_stats(f->c, &cs);
		assert_int_equal(cs.cluster_groups, 2);
	}
	/* the metrics' view is the same list */
	assert_int_equal(corr_top_clusters(f->c, v, CORR_TOP_K), 2);
	assert_memory_equal(&v[0], &d[0].v, sizeof(v[0]));
	fx_free(f);
}

/* A member follows a link to its source instead of a lookup; a source
 * table full evicts the oldest, and the entry goes to the next new source.
 * Three clients of one stack in a table with room for two: the first one's
 * member must not be counted with the state of the source that took its
 * entry (it has no source now: the serial the eviction cleared says so). */
static void test_member_link_after_eviction(void **state)
{
	static const char *const clients[] = {"198.51.100.1", "198.51.100.2",
					      "198.51.100.3"};
	struct fx *f = fx_new();
	struct corr_stats cs;

	(void)state;
	f->max_sources = 2;
	for (unsigned i = 0; i < 3; i++) {
		fx_flow(f, &(struct fx_flow){
			       .client = clients[i],
			       .at_s = 100 + i,
			       .dur_s = 1,
			       .fam = FAM_OPENSSL,
			       .ttl = 64,
			       .mss = 1460,
			   });
		fx_eval(f, 110 + i);
	}
	corr_get_stats(f->c, &cs);
	assert_int_equal(cs.sources, 2);
	assert_int_equal(cs.members, 3);
	assert_true(cs.evictions >= 1);
	assert_int_equal(cs.cluster_sources, 2);
	fx_free(f);
}

int main(void)
{
	enum { N = sizeof(fleet_rows) / sizeof(fleet_rows[0]) + 2 };
	struct CMUnitTest fixed[N];

	for (size_t i = 0; i < N - 2; i++)
		fixed[i] = (struct CMUnitTest){
		    .name = fleet_rows[i].name,
		    .test_func = run_fleet_row,
		    .initial_state = (void *)&fleet_rows[i],
		};
	fixed[N - 2] = (struct CMUnitTest){
	    .name = "top: farms first, members seen last, endpoints",
	    .test_func = test_top_details,
	};
	fixed[N - 1] = (struct CMUnitTest){
	    .name = "a member's source link after the source was evicted",
	    .test_func = test_member_link_after_eviction,
	};
	return rows_run("cluster", fixed, N, rows,
			sizeof(rows) / sizeof(rows[0]), sizeof(rows[0]),
			run_row);
}
