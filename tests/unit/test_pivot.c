// SPDX-License-Identifier: BSD-2-Clause
/*
 * pivot (user/correlate/indicators/pivot.c): a robotic farm of 5 members
 * whose flows go to endpoint A (port 443) or B (port 8443) in the previous
 * window (600-900 s) and the current one (900-1200 s), through the sweep;
 * evaluated at 1190 s. With the defaults the total variation distance of
 * the two endpoint mixes must reach 0.5 with 20 flows in each window; the
 * score is that distance.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "corr_fixture.h"
#include "rows.h"

#define MEMBERS 5
#define PORT_A 443
#define PORT_B 8443

struct pivot_row {
	const char *name;
	unsigned prev_a, prev_b, cur_a, cur_b; /* flows to each endpoint */
	enum cadence_band band;
	bool fires;
	double score;
};

static const struct pivot_row rows[] = {
    {"pivot: 10 of 20 flows move to a new endpoint, shift at the bound", 20, 0,
     10, 10, BAND_ROBOTIC, true, 0.5},
    {"pivot: 9 of 20 flows move", 20, 0, 11, 9, BAND_ROBOTIC, false, 0},
    {"pivot: every flow moves", 20, 0, 0, 20, BAND_ROBOTIC, true, 1.0},
    {"pivot: the same endpoints in new proportions", 10, 10, 20, 0,
     BAND_ROBOTIC, true, 0.5},
    {"pivot: 19 flows in the previous window, under pivot_min_flows", 19, 0, 0,
     20, BAND_ROBOTIC, false, 0},
    {"pivot: 19 flows in the current window, under pivot_min_flows", 20, 0, 0,
     19, BAND_ROBOTIC, false, 0},
    /* benign look-alikes */
    {"benign: a farm whose endpoint mix stays put", 20, 0, 20, 0, BAND_ROBOTIC,
     false, 0},
    {"benign: browsers moving to a new endpoint, not a farm", 20, 0, 0, 20,
     BAND_HUMAN, false, 0},
};

/* n flows to port from t0 on, spread over the members */
static void flows(struct fx *f, unsigned n, uint16_t port, double t0,
		  unsigned *next)
{
	char a[32];

	for (unsigned j = 0; j < n; j++, (*next)++) {
		fx_member_addr(a, sizeof(a), *next % MEMBERS, MEMBERS);
		fx_flow(f, &(struct fx_flow){
			       .client = a,
			       .at_s = t0 + 5 * j,
			       .dur_s = 1,
			       .fam = FAM_OPENSSL,
			       .sport = port,
			       /* one script: the same request every time */
			       .req_n = 1,
			       .req_mean = 400,
			   });
	}
}

static void run_row(void **state)
{
	const struct pivot_row *r = *state;
	struct fx *f = fx_new();
	const struct fx_ind *g;
	unsigned i, next = 0,
		    total = r->prev_a + r->prev_b + r->cur_a + r->cur_b;
	char a[32];

	assert_int_equal(f->cfg.window_s, 300);
	assert_true(f->cfg.pivot_min_shift == 0.5);
	assert_int_equal(f->cfg.pivot_min_flows, 20);
	for (i = 0; i < MEMBERS; i++) {
		fx_member_addr(a, sizeof(a), i, MEMBERS);
		fx_band_source(f, a, r->band, total / MEMBERS + 1, 610, 1150);
	}
	flows(f, r->prev_a, PORT_A, 610, &next);
	flows(f, r->prev_b, PORT_B, 612, &next);
	flows(f, r->cur_a, PORT_A, 910, &next);
	flows(f, r->cur_b, PORT_B, 912, &next);
	fx_eval(f, 1190);
	g = fx_find_cluster(f, IND_PIVOT);
	if (!g != !r->fires) {
		fx_dump(f);
		fail_msg("pivot %s", g ? "fired" : "did not fire");
	}
	if (g) {
		assert_score(g->score, r->score);
		assert_int_equal(fx_ev(g, "flows_before"),
				 r->prev_a + r->prev_b);
		assert_int_equal(fx_ev(g, "flows_now"), r->cur_a + r->cur_b);
	}
	fx_free(f);
}

int main(void)
{
	return ROWS_RUN("pivot", rows, run_row);
}
