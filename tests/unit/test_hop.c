// SPDX-License-Identifier: BSD-2-Clause
/*
 * hop_anomaly (user/correlate/indicators/hop.c): one flow whose SYN has a
 * hand-made TTL and MSS, through the sweep. With the defaults an MSS
 * under 1400 (a tunnel or VPN MTU) or more than 30 hops (initial TTL - TTL)
 * fires, always at 0.3: VPN users and mobile carriers show it too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "corr_fixture.h"
#include "rows.h"

#define SRC "198.51.100.30"

struct hop_row {
	const char *name;
	uint8_t ttl; /* 0: no SYN seen */
	uint16_t mss;
	bool fires;
	unsigned hops; /* in the evidence */
};

static const struct hop_row rows[] = {
    {"hop: MSS 1399, one under hop_max_mss", 60, 1399, true, 4},
    {"hop: MSS at hop_max_mss", 60, 1400, false, 0},
    {"hop: 31 hops from an initial TTL of 64", 33, 1460, true, 31},
    {"hop: 30 hops, at hop_max_hops", 34, 1460, false, 0},
    {"hop: 31 hops from an initial TTL of 128", 97, 1460, true, 31},
    {"hop: 30 hops from an initial TTL of 128", 98, 1460, false, 0},
    {"hop: a SYN without MSS option is not a tunnel", 60, 0, false, 0},
    {"hop: no SYN seen", 0, 0, false, 0},
    /* look-alikes: a VPN user fires, informational only; plain access
     * links do not */
    {"hop: VPN user behind WireGuard (MSS 1380)", 52, 1380, true, 12},
    {"benign: Ethernet (MSS 1460), 12 hops", 52, 1460, false, 0},
    {"benign: PPPoE DSL (MSS 1452)", 115, 1452, false, 0},
};

static void run_row(void **state)
{
	const struct hop_row *r = *state;
	struct fx *f = fx_new();
	const struct fx_ind *g;

	assert_int_equal(f->cfg.hop_max_mss, 1400);
	assert_int_equal(f->cfg.hop_max_hops, 30);
	fx_flow(f, &(struct fx_flow){
		       .client = SRC,
		       .at_s = 100,
		       .dur_s = 1,
		       .fam = FAM_OPENSSL,
		       .ttl = r->ttl,
		       .mss = r->mss,
		   });
	fx_eval(f, 120);
	g = fx_find(f, IND_HOP_ANOMALY, SRC);
	if (!g != !r->fires) {
		fx_dump(f);
		fail_msg("hop_anomaly %s", g ? "fired" : "did not fire");
	}
	if (g) {
		assert_score(g->score, 0.3);
		assert_int_equal(fx_ev(g, "mss"), r->mss);
		assert_int_equal(fx_ev(g, "hops"), r->hops);
	}
	fx_free(f);
}

int main(void)
{
	return ROWS_RUN("hop", rows, run_row);
}
