// SPDX-License-Identifier: BSD-2-Clause
/*
 * relay_rtt_gap (user/correlate/indicators/relay.c, with the per-flow
 * detour of fold.c): one source's flows, each with a hand-made handshake
 * timing, through the sweep; which rows fire and with what score.
 *
 * A flow's detour is ACK->ClientHello - relay_base_ack_us when the TLS
 * RTT - TCP RTT gap corroborates it (reaches it within max(2 ms, a quarter
 * of the delay, an eighth of the TCP RTT)), else min(that gap - the
 * family's allowance, ACK->ClientHello - relay_base_ack_us). With the
 * defaults the table is written for: allowance 2 ms for OpenSSL, 40 ms for
 * Chromium; base ACK delay 2 ms; a flow is relayed from a 10 ms detour and
 * one such flow making at least half of the source's measured ones fires;
 * 3 flows with a detour from 3 ms (80 % of them) fire too. The score is
 * 0.5 + 0.5 * share * min(1, median detour / 30 ms) * (0.6, 0.8, 1 for 1,
 * 2, 3+ flows with a detour).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "corr_fixture.h"
#include "rows.h"

#define SRC "198.51.100.7"
#define TCP_RTT 20000

struct relay_flow {
	uint32_t tls_gap;   /* TLS RTT - TCP RTT, us */
	uint32_t ack_hello; /* ACK -> ClientHello, us */
	uint32_t flags;	    /* e.g. a retransmitted SYN-ACK */
};

struct relay_row {
	const char *name;
	enum client_family fam;
	bool gap_only; /* relay_require_ack_delay = 0 */
	size_t n;
	struct relay_flow flow[5];
	bool fires;
	double score;
	int32_t detour_median; /* us, in the evidence */
};

/* a relay whose detour adds d us to both estimates (OpenSSL allowance) */
#define OSSL_DETOUR(d)                                                         \
	{                                                                      \
		2000 + (d), 2000 + (d), 0                                      \
	}
/* a direct OpenSSL client: 0.5 ms over the TLS RTT, hello at once */
#define OSSL_DIRECT                                                            \
	{                                                                      \
		2500, 500, 0                                                   \
	}

static const struct relay_row rows[] = {
    {"relay: two flows with the detour at relay_min_gap_us fire",
     FAM_OPENSSL,
     false,
     2,
     {OSSL_DETOUR(10000), OSSL_DETOUR(10000)},
     true,
     0.5 + 0.5 * 10000.0 / 30000 * 0.8,
     10000},
    {"relay: two flows 1 us under relay_min_gap_us (small detours need 3)",
     FAM_OPENSSL,
     false,
     2,
     {OSSL_DETOUR(9999), OSSL_DETOUR(9999)},
     false,
     0,
     0},
    {"relay: ACK->hello 1 us short, TLS gap far above: the hello delay "
     "decides",
     FAM_OPENSSL,
     false,
     2,
     {{40000, 11999, 0}, {40000, 11999, 0}},
     false,
     0,
     0},
    {"relay: a 40 ms hello delay the TLS gap does not follow (a stalled "
     "hello): the gap past the allowance decides, 1 us short",
     FAM_OPENSSL,
     false,
     2,
     {{11999, 40000, 0}, {11999, 40000, 0}},
     false,
     0,
     0},
    {"relay: ACK->hello at the bound, TLS gap far above",
     FAM_OPENSSL,
     false,
     2,
     {{40000, 12000, 0}, {40000, 12000, 0}},
     true,
     0.5 + 0.5 * 10000.0 / 30000 * 0.8,
     10000},
    {"relay: one relayed flow is enough (rotating exits are used once)",
     FAM_OPENSSL,
     false,
     1,
     {OSSL_DETOUR(30000)},
     true,
     0.5 + 0.5 * 0.6,
     30000},
    {"relay: two of four flows relayed, share at relay_min_share",
     FAM_OPENSSL,
     false,
     4,
     {OSSL_DETOUR(30000), OSSL_DIRECT, OSSL_DETOUR(30000), OSSL_DIRECT},
     true,
     0.5 + 0.5 * 0.5 * 0.8,
     30000},
    {"relay: two of five flows relayed, share under relay_min_share",
     FAM_OPENSSL,
     false,
     5,
     {OSSL_DETOUR(30000), OSSL_DIRECT, OSSL_DETOUR(30000), OSSL_DIRECT,
      OSSL_DIRECT},
     false,
     0,
     0},
    {"relay: a detour of three times the bound over three flows saturates",
     FAM_OPENSSL,
     false,
     3,
     {OSSL_DETOUR(30000), OSSL_DETOUR(45000), OSSL_DETOUR(30000)},
     true,
     1.0,
     30000},
    {"relay: three flows with a small, steady 5 ms detour",
     FAM_OPENSSL,
     false,
     3,
     {OSSL_DETOUR(5000), OSSL_DETOUR(5000), OSSL_DETOUR(5000)},
     true,
     0.5 + 0.5 * 5000.0 / 30000,
     5000},
    {"relay: retransmitted SYN-ACKs give no timing (Karn)",
     FAM_OPENSSL,
     false,
     2,
     {{40000, 40000, HS_F_SYNACK_RTX}, {40000, 40000, HS_F_SRV_RTX}},
     false,
     0,
     0},
    {"relay: Chromium, a 12 ms hello delay under a 50 ms TLS gap",
     FAM_CHROMIUM,
     false,
     2,
     {{50000, 12000, 0}, {50000, 12000, 0}},
     true,
     0.5 + 0.5 * 10000.0 / 30000 * 0.8,
     10000},
    {"relay: Chromium, a 40 ms hello delay the TLS gap corroborates: its "
     "processing allowance is not taken off (a browser-mimicking farm)",
     FAM_CHROMIUM,
     false,
     2,
     {{49999, 40000, 0}, {49999, 40000, 0}},
     true,
     0.5 + 0.5 * 0.8,
     38000},
    /* benign look-alikes */
    {"benign: headless Chromium, 39 ms of client processing",
     FAM_CHROMIUM,
     false,
     3,
     {{39000, 1000, 0}, {39000, 1000, 0}, {39000, 1000, 0}},
     false,
     0,
     0},
    {"benign: mobile CGNAT jitter, TLS samples 30 ms late, hellos on time",
     FAM_OPENSSL,
     false,
     3,
     {{32000, 1500, 0}, {32000, 1500, 0}, {32000, 1500, 0}},
     false,
     0,
     0},
    {"benign: a lost hello, retransmitted 210 ms later, TLS gap 3 ms",
     FAM_CHROMIUM,
     false,
     1,
     {{3000, 210000, 0}},
     false,
     0,
     0},
    {"relay: without relay_require_ack_delay the CGNAT jitter fires",
     FAM_OPENSSL,
     true,
     3,
     {{32000, 1500, 0}, {32000, 1500, 0}, {32000, 1500, 0}},
     true,
     1.0,
     30000},
};

static void run_row(void **state)
{
	const struct relay_row *r = *state;
	struct fx *f = fx_new();
	const struct fx_ind *g;

	/* the defaults the table is written against */
	assert_int_equal(f->cfg.relay_min_gap_us, 10000);
	assert_int_equal(f->cfg.relay_base_ack_us, 2000);
	assert_int_equal(f->cfg.relay_base_gap_us[FAM_OPENSSL], 2000);
	assert_int_equal(f->cfg.relay_base_gap_us[FAM_CHROMIUM], 40000);
	assert_int_equal(f->cfg.relay_min_flows, 1);
	assert_int_equal(f->cfg.relay_weak_gap_us, 3000);
	assert_int_equal(f->cfg.relay_weak_min_flows, 3);
	assert_true(f->cfg.relay_min_share == 0.5);
	if (r->gap_only)
		f->cfg.relay_require_ack_delay = 0;
	for (size_t i = 0; i < r->n; i++)
		fx_flow(f, &(struct fx_flow){
			       .client = SRC,
			       .at_s = 100 + i,
			       .dur_s = 1,
			       .fam = r->fam,
			       .tcp_rtt_us = TCP_RTT,
			       .tls_rtt_us = TCP_RTT + r->flow[i].tls_gap,
			       .ack_hello_us = r->flow[i].ack_hello,
			       .flags = r->flow[i].flags,
			   });
	fx_eval(f, 120);
	g = fx_find(f, IND_RELAY_RTT_GAP, SRC);
	if (!g != !r->fires) {
		fx_dump(f);
		fail_msg("relay_rtt_gap %s", g ? "fired" : "did not fire");
	}
	if (g) {
		assert_score(g->score, r->score);
		assert_true(g->relay);
		assert_int_equal(g->n_sources, 1);
		assert_int_equal(fx_ev(g, "detour_median_us"),
				 r->detour_median);
	}
	fx_free(f);
}

int main(void)
{
	return ROWS_RUN("relay", rows, run_row);
}
