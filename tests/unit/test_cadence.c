// SPDX-License-Identifier: BSD-2-Clause
/*
 * robotic_cadence (user/correlate/indicators/cadence.c): a source whose
 * kernel record carries hand-made request cadence (count, mean and
 * variance of the inter-request intervals), through the sweep. With the
 * defaults it fires from 5 requests at a coefficient of variation of at
 * most 0.15, the CV's upper confidence bound too (alert_budget over the
 * sources tested); score 1 - 0.5 * CV / 0.15. Variances are squares of whole
 * microseconds so that the CVs at the bound are exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "corr_fixture.h"
#include "rows.h"

#define SRC "198.51.100.40"
#define MEAN 1000000ull /* 1 s between requests */

struct cadence_row {
	const char *name;
	uint32_t requests;
	uint64_t sd_us; /* standard deviation of the intervals */
	bool kernel;	/* the kernel's source record was swept */
	bool fires;
	double score;
};

static const struct cadence_row rows[] = {
    {"cadence: CV at robotic_max_cv over 5 requests: its upper bound is "
     "above",
     5, 150000, true, false, 0},
    {"cadence: CV 0.03 over 60 requests", 60, 30000, true, true, 0.9},
    {"cadence: CV 0.151, just over the bound", 5, 151000, true, false, 0},
    {"cadence: fixed period over 4 requests, under robotic_min_bursts", 4, 0,
     true, false, 0},
    {"cadence: fixed period over 5 requests", 5, 0, true, true, 1.0},
    {"cadence: CV 0.075 scores halfway", 40, 75000, true, true, 0.75},
    {"cadence: no kernel source record, no cadence", 5, 0, false, false, 0},
    /* benign look-alike */
    {"benign: a browser with human think times (CV 0.6)", 30, 600000, true,
     false, 0},
};

static void run_row(void **state)
{
	const struct cadence_row *r = *state;
	struct fx *f = fx_new();
	const struct fx_ind *g;

	assert_true(f->cfg.robotic_max_cv == 0.15);
	assert_int_equal(f->cfg.robotic_min_bursts, 5);
	fx_flow(f, &(struct fx_flow){
		       .client = SRC,
		       .at_s = 100,
		       .dur_s = 10,
		       .fam = FAM_OPENSSL,
		   });
	if (r->kernel)
		fx_source(f, &(struct fx_source){
				 .addr = SRC,
				 .bursts = r->requests,
				 .ivl_mean_us = MEAN,
				 .ivl_var_us2 = r->sd_us * r->sd_us,
				 .first_s = 100,
				 .last_s = 110,
			     });
	fx_eval(f, 120);
	g = fx_find(f, IND_ROBOTIC_CADENCE, SRC);
	if (!g != !r->fires) {
		fx_dump(f);
		fail_msg("robotic_cadence %s", g ? "fired" : "did not fire");
	}
	if (g) {
		assert_score(g->score, r->score);
		assert_int_equal(fx_ev(g, "requests"), r->requests);
		assert_int_equal(fx_ev(g, "interval_mean_us"), MEAN);
	}
	fx_free(f);
}

/* A source still firing renews what it caused every round, but only a
 * fresh indicator (the first, a stronger one, one due for a repeat after
 * reemit_s) goes out as a record: the repeats' evidence is written only
 * if a sink asks for it (ind_evidence; at a quarter of a million sources,
 * writing it for every one was most of the per-source evaluation). */
static void test_evidence_only_when_fresh(void **state)
{
	struct fx *f = fx_new();
	const struct fx_ind *g;

	(void)state;
	f->cfg.reemit_s = 30;
	fx_flow(f, &(struct fx_flow){
		       .client = SRC,
		       .at_s = 100,
		       .dur_s = 10,
		       .fam = FAM_OPENSSL,
		   });
	fx_source(f, &(struct fx_source){
			 .addr = SRC,
			 .bursts = 60,
			 .ivl_mean_us = MEAN,
			 .ivl_var_us2 = 30000ull * 30000,
			 .first_s = 100,
			 .last_s = 110,
		     });
	fx_eval(f, 120);
	g = fx_find(f, IND_ROBOTIC_CADENCE, SRC);
	assert_non_null(g);
	assert_true(g->fresh);
	assert_int_equal(fx_ev(g, "requests"), 60);
	fx_eval(f, 130);
	g = fx_find(f, IND_ROBOTIC_CADENCE, SRC);
	assert_non_null(g);
	assert_false(g->fresh);
	assert_false(g->had_evidence);
	/* ... and has it when a sink asks (a block taken on a repeat) */
	assert_int_equal(fx_ev(g, "requests"), 60);
	fx_eval(f, 150);
	g = fx_find(f, IND_ROBOTIC_CADENCE, SRC);
	assert_non_null(g);
	assert_true(g->fresh);
	assert_int_equal(fx_ev(g, "interval_mean_us"), MEAN);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_evidence_only_when_fresh),
	};

	return rows_run("cadence", tests, sizeof(tests) / sizeof(tests[0]),
			rows, sizeof(rows) / sizeof(rows[0]), sizeof(rows[0]),
			run_row);
}
