// SPDX-License-Identifier: BSD-2-Clause
/*
 * residential_proxy (user/correlate/indicators/residential.c): a source
 * with the relay signal or a stack mismatch (each fed as flows through the
 * sweep, as in test_relay.c and test_stack.c) that the network database
 * (tests/data/unit-networks.mmdb) places in a residential or mobile
 * network. Scores: both signals 0.95, relay 0.85, mismatch alone 0.7;
 * relay on one flow only 0.6 (listed, below decide_residential_min_score).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "corr_fixture.h"
#include "rows.h"

#define HOME "100.64.1.1"
#define MOBILE "198.18.0.7"
#define OFFICE "203.0.113.5"
#define CLOUD "2001:db8::5"
#define UNLISTED "192.0.2.77"

struct residential_row {
	const char *name;
	const char *src;
	bool no_db;	  /* run without --asn-db */
	unsigned relayed; /* flows with a 30 ms detour */
	bool mismatch;	  /* Safari hellos behind a Windows SYN */
	bool fires;
	double score;
	const char *network, *signals;
};

static const struct residential_row rows[] = {
    {"residential: relay exit in a residential network", HOME, false, 2, false,
     true, 0.85, "residential", "relay_rtt_gap"},
    {"residential: stack mismatch in a residential network", HOME, false, 0,
     true, true, 0.7, "residential", "stack_mismatch"},
    {"residential: both signals", HOME, false, 2, true, true, 0.95,
     "residential", "relay_rtt_gap,stack_mismatch"},
    {"residential: relay exit in a mobile network", MOBILE, false, 2, false,
     true, 0.85, "mobile", "relay_rtt_gap"},
    {"residential: one relayed flow of two lists the source, not blockable",
     HOME, false, 1, false, true, 0.6, "residential", "relay_rtt_gap"},
    {"residential: one relayed flow and a stack mismatch is blockable", HOME,
     false, 1, true, true, 0.95, "residential", "relay_rtt_gap,stack_mismatch"},
    {"residential: no network database, not evaluated", HOME, true, 2, true,
     false, 0, NULL, NULL},
    {"residential: address not in the database", UNLISTED, false, 2, true,
     false, 0, NULL, NULL},
    /* benign look-alikes */
    {"benign: a home user with neither signal", HOME, false, 0, false, false, 0,
     NULL, NULL},
    {"benign: a corporate proxy (business network) with both signals", OFFICE,
     false, 2, true, false, 0, NULL, NULL},
    {"benign: a cloud relay (hosting network)", CLOUD, false, 2, false, false,
     0, NULL, NULL},
};

static void run_row(void **state)
{
	const struct residential_row *r = *state;
	struct fx *f = fx_new();
	const struct fx_ind *g;
	unsigned i, n = r->relayed > 2 ? r->relayed : 2;

	if (!r->no_db)
		fx_use_networks(f);
	/* 30 ms detours on the relayed flows, direct timing on the rest */
	for (i = 0; i < n; i++)
		fx_flow(f, &(struct fx_flow){
			       .client = r->src,
			       .at_s = 100 + i,
			       .dur_s = 1,
			       .fam = r->mismatch ? FAM_SAFARI : FAM_OPENSSL,
			       .ttl = r->mismatch ? 128 : 64,
			       .mss = 1460,
			       .tcp_rtt_us = 20000,
			       .tls_rtt_us =
				   i < r->relayed ? 20000 + 50000 : 20000 + 500,
			       .ack_hello_us = i < r->relayed ? 32000 : 500,
			   });
	fx_eval(f, 120);
	g = fx_find(f, IND_RESIDENTIAL_PROXY, r->src);
	if (!g != !r->fires) {
		fx_dump(f);
		fail_msg("residential_proxy %s", g ? "fired" : "did not fire");
	}
	if (g) {
		assert_score(g->score, r->score);
		assert_int_equal(g->relay, r->relayed >= 1);
		fx_ev_str(g, "network", r->network);
		fx_ev_str(g, "signals", r->signals);
	}
	fx_free(f);
}

/* Two flows of a residential exit, relayed or with a Safari hello
 * behind a Windows SYN, at at_s. */
static void exit_flows(struct fx *f, double at_s, bool mismatch)
{
	for (unsigned i = 0; i < 2; i++)
		fx_flow(f, &(struct fx_flow){
			       .client = HOME,
			       .at_s = at_s + i,
			       .dur_s = 1,
			       .fam = mismatch ? FAM_SAFARI : FAM_OPENSSL,
			       .ttl = mismatch ? 128 : 64,
			       .mss = 1460,
			       .tcp_rtt_us = 20000,
			       .tls_rtt_us = 20000 + (mismatch ? 500 : 50000),
			       .ack_hello_us = mismatch ? 500 : 32000,
			   });
}

/* A score that rises by exactly 0.1 (relay 0.85, then relay and a stack
 * mismatch 0.95) is a new record: its last score is kept exactly (a float
 * made 0.85 + 0.1 more than 0.95 and kept the stronger record back until
 * reemit_s). The repeat in between carries no evidence until asked for. */
static void test_rise_by_a_tenth_is_fresh(void **state)
{
	struct fx *f = fx_new();
	const struct fx_ind *g;

	(void)state;
	fx_use_networks(f);
	exit_flows(f, 100, false);
	fx_eval(f, 120);
	g = fx_find(f, IND_RESIDENTIAL_PROXY, HOME);
	assert_non_null(g);
	assert_score(g->score, 0.85);
	assert_true(g->fresh);
	fx_eval(f, 130);
	g = fx_find(f, IND_RESIDENTIAL_PROXY, HOME);
	assert_non_null(g);
	assert_false(g->fresh);
	assert_false(g->had_evidence);
	fx_ev_str(g, "signals", "relay_rtt_gap");
	exit_flows(f, 135, true);
	fx_eval(f, 150);
	g = fx_find(f, IND_RESIDENTIAL_PROXY, HOME);
	assert_non_null(g);
	assert_score(g->score, 0.95);
	assert_true(g->fresh);
	fx_ev_str(g, "signals", "relay_rtt_gap,stack_mismatch");
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rise_by_a_tenth_is_fresh),
	};

	return rows_run("residential", tests, sizeof(tests) / sizeof(tests[0]),
			rows, sizeof(rows) / sizeof(rows[0]), sizeof(rows[0]),
			run_row);
}
