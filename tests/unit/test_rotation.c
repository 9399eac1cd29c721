// SPDX-License-Identifier: BSD-2-Clause
/*
 * rotation (user/correlate/indicators/rotation.c): a farm of relayed exits
 * (the rows' robotic band; the human band is direct visitors) whose
 * members are new in the current window, carried over from the previous
 * one, or gone, through the sweep. Evaluated at 1000 s with 300 s windows:
 * new members connect at 800 s, carried ones at 690 s and 705 s, departed
 * ones at 500 s. With the defaults the churn (the smaller of the new share
 * of current members and the departed share of previous ones) must reach
 * 0.5 over at least 5 previous members, and the median member span stay
 * within 120 s. Score: 0.5 + 0.5 * churn.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "corr_fixture.h"
#include "rows.h"

struct rotation_row {
	const char *name;
	unsigned fresh, carried, departed;
	double span_s; /* of each new member */
	enum cadence_band band;
	bool fires;
	double score;
};

static const struct rotation_row rows[] = {
    {"rotation: 5 new, 5 departed, full churn", 5, 0, 5, 10, BAND_ROBOTIC, true,
     1.0},
    {"rotation: 3 of 6 new and 3 of 6 departed, churn at the bound", 3, 3, 3,
     10, BAND_ROBOTIC, true, 0.75},
    {"rotation: 3 of 7 new, churn under the bound", 3, 4, 4, 10, BAND_ROBOTIC,
     false, 0},
    {"rotation: 2 of 5 departed, churn under the bound", 3, 3, 2, 10,
     BAND_ROBOTIC, false, 0},
    {"rotation: 4 previous members, under cluster_min_sources", 5, 0, 4, 10,
     BAND_ROBOTIC, false, 0},
    {"rotation: median member span at rotation_max_span_s", 5, 0, 5, 120,
     BAND_ROBOTIC, true, 1.0},
    {"rotation: median member span 121 s", 5, 0, 5, 121, BAND_ROBOTIC, false,
     0},
    /* benign look-alikes */
    {"benign: a popular site's visitors come and go (human band)", 5, 0, 5, 10,
     BAND_HUMAN, false, 0},
    {"benign: a stable farm, the same members in both windows", 0, 6, 0, 10,
     BAND_ROBOTIC, false, 0},
};

static void member(struct fx *f, unsigned i, enum cadence_band band,
		   double at_s, double dur_s)
{
	char a[32];

	fx_member_addr(a, sizeof(a), i, 32);
	fx_band_source(f, a, band, 2, at_s, at_s + dur_s);
	/* the farm's members are exits (relayed, a 30 ms detour): one relay
	 * group whatever their cadence; the human band is direct visitors */
	fx_flow(f, &(struct fx_flow){
		       .client = a,
		       .at_s = at_s,
		       .dur_s = dur_s,
		       .fam = FAM_OPENSSL,
		       .tcp_rtt_us = 20000,
		       .tls_rtt_us = band == BAND_ROBOTIC ? 20000 + 32000 : 0,
		       .ack_hello_us = band == BAND_ROBOTIC ? 32000 : 0,
		   });
}

static void run_row(void **state)
{
	const struct rotation_row *r = *state;
	struct fx *f = fx_new();
	const struct fx_ind *g;
	unsigned i, m = 0;

	assert_int_equal(f->cfg.window_s, 300);
	assert_true(f->cfg.rotation_min_churn == 0.5);
	assert_int_equal(f->cfg.rotation_max_span_s, 120);
	assert_int_equal(f->cfg.cluster_min_sources, 5);
	for (i = 0; i < r->fresh; i++)
		member(f, m++, r->band, 800, r->span_s);
	for (i = 0; i < r->carried; i++, m++) {
		member(f, m, r->band, 690, 0);
		member(f, m, r->band, 705, 5);
	}
	for (i = 0; i < r->departed; i++)
		member(f, m++, r->band, 500, 10);
	fx_eval(f, 1000);
	g = fx_find_cluster(f, IND_ROTATION);
	if (!g != !r->fires) {
		fx_dump(f);
		fail_msg("rotation %s", g ? "fired" : "did not fire");
	}
	if (g) {
		assert_score(g->score, r->score);
		assert_int_equal(g->n_sources, r->fresh + r->carried);
		assert_int_equal(fx_ev(g, "previous_members"),
				 r->carried + r->departed);
	}
	fx_free(f);
}

int main(void)
{
	return ROWS_RUN("rotation", rows, run_row);
}
