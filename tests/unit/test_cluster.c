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
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

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

static void run_row(void **state)
{
	const struct cluster_row *r = *state;
	struct fx *f = fx_new();
	const struct fx_ind *g;
	char a[32];

	assert_int_equal(f->cfg.cluster_min_sources, 5);
	assert_int_equal(f->cfg.cluster_min_prefixes, 5);
	assert_int_equal(f->cfg.cluster_max_source_flows, 20);
	assert_true(f->cfg.cluster_min_evidence == 0.5);
	if (r->min_prefixes)
		f->cfg.cluster_min_prefixes = r->min_prefixes;
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
	fx_eval(f, 120);
	g = fx_find_cluster(f, IND_FARM_CLUSTER);
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

int main(void)
{
	return ROWS_RUN("cluster", rows, run_row);
}
