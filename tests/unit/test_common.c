// SPDX-License-Identifier: BSD-2-Clause
/*
 * Helpers shared by the indicator evaluators
 * (user/correlate/indicators/common.c): running statistics, the detour
 * median relay_rtt_gap scores with, and the cadence bands that split
 * clusters, as a table of hand-made kernel cadence records. With the
 * defaults a band needs 3 requests; robotic when the CV's upper confidence
 * bound (at the level of a thousand sources) is at most 0.15, human from a
 * CV of 0.35, regular otherwise; and the bounds behind them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "correlate/state.h"
#include "rows.h"

static void test_running(void **state)
{
	struct running a = {0}, b = {0}, all = {0};
	double xs[] = {10, 12, 9, 11, 30, 31, 29, 30};

	(void)state;
	for (int i = 0; i < 8; i++) {
		running_add(i < 4 ? &a : &b, xs[i]);
		running_add(&all, xs[i]);
	}
	running_merge(&a, &b);
	assert_true(a.n == 8);
	assert_true(a.mean > 20.249 && a.mean < 20.251);
	assert_true(a.m2 > all.m2 - 1e-9 && a.m2 < all.m2 + 1e-9);
	assert_true(running_cv(&(struct running){0}) < 0);
	b = (struct running){0};
	running_add(&b, 5);
	running_add(&b, 5);
	assert_true(running_cv(&b) == 0);
}

/* The median of the recent detours: the upper middle of an even count,
 * over the last DETOUR_SAMPLES only. */
static void test_detour_median(void **state)
{
	static const int32_t samples[] = {
	    4000, -1000, 30000, 2000, 12000, 11000, 9000, 10000, 500, 700, 800};
	struct src_state s = {0};

	(void)state;
	assert_int_equal(detour_median(&s), 0);
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		s.detour_us[s.detour_pos] = samples[i];
		s.detour_pos = (uint8_t)((s.detour_pos + 1) % DETOUR_SAMPLES);
		if (s.detour_n < DETOUR_SAMPLES)
			s.detour_n++;
		if (i == 0)
			assert_int_equal(detour_median(&s), 4000);
		if (i == 3) /* -1000 2000 4000 30000 */
			assert_int_equal(detour_median(&s), 4000);
		if (i == 4) /* -1000 2000 4000 12000 30000 */
			assert_int_equal(detour_median(&s), 4000);
	}
	/* the first two went: 500 700 800 2000 9000 10000 11000 12000 30000 */
	assert_int_equal(detour_median(&s), 9000);
}

struct band_row {
	const char *name;
	unsigned min_bursts; /* band_min_bursts; 0: the default */
	uint32_t requests;
	uint64_t mean_us, sd_us;
	enum cadence_band band;
};

static const struct band_row rows[] = {
    {"band: 2 requests are too few", 0, 2, 1000000, 0, BAND_SPARSE},
    {"band: 3 requests at CV 0 are robotic", 0, 3, 1000000, 0, BAND_ROBOTIC},
    {"band: 3 requests with band_min_bursts 4 are too few", 4, 3, 1000000, 0,
     BAND_SPARSE},
    {"band: 4 requests with band_min_bursts 4", 4, 4, 1000000, 0, BAND_ROBOTIC},
    {"band: CV at robotic_max_cv over 10 requests is regular (its upper "
     "bound is above)",
     0, 10, 1000000, 150000, BAND_REGULAR},
    {"band: CV 0.05 over 4 requests is regular (too few to be sure)", 0, 4,
     1000000, 50000, BAND_REGULAR},
    {"band: CV 0.01 over 60 requests is robotic", 0, 60, 1000000, 10000,
     BAND_ROBOTIC},
    {"band: CV 0.151 is regular", 0, 10, 1000000, 151000, BAND_REGULAR},
    {"band: CV 0.349 is regular", 0, 10, 1000000, 349000, BAND_REGULAR},
    {"band: CV at human_min_cv is human", 0, 10, 1000000, 350000, BAND_HUMAN},
    {"band: a zero mean interval tells nothing", 0, 10, 0, 0, BAND_SPARSE},
};

static void run_band(void **state)
{
	const struct band_row *r = *state;
	struct corr_config cfg;
	struct src_kernel k = {0};
	struct corr c;

	corr_config_defaults(&cfg);
	assert_int_equal(cfg.band_min_bursts, 3);
	assert_true(cfg.robotic_max_cv == 0.15);
	assert_true(cfg.human_min_cv == 0.35);
	if (r->min_bursts)
		cfg.band_min_bursts = r->min_bursts;
	k.bursts = r->requests;
	k.ivl_mean_us = r->mean_us;
	k.ivl_var_us2 = r->sd_us * r->sd_us;
	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.n_tested_sources = 1000; /* the level of a thousand sources */
	assert_string_equal(band_name(source_band(&c, &k)), band_name(r->band));
}

/* The statistics that must hold among thousands of sources. */
static void test_bounds(void **state)
{
	(void)state;
	/* two or three evenly spaced clicks prove nothing at a strict level */
	assert_true(cv_upper(0.02, 2, 1e-6) > 1);
	assert_true(cv_upper(0.02, 3, 1e-6) > 0.15);
	/* a script's dozens of intervals do */
	assert_true(cv_upper(0.01, 60, 1e-6) < 0.05);
	assert_true(cv_upper(0.01, 60, 1e-6) > 0.01);
	/* the bound tightens with the samples and loosens with the level */
	assert_true(cv_upper(0.05, 20, 1e-6) < cv_upper(0.05, 10, 1e-6));
	assert_true(cv_upper(0.05, 20, 1e-3) < cv_upper(0.05, 20, 1e-6));
	/* 500 relayed members among 5,500 at a 1 % chance rate: certain;
	 * 60 among 5,000 (expected 50): chance */
	assert_true(binom_tail_bound(500, 5500, 0.01) < 1e-100);
	assert_true(binom_tail_bound(60, 5000, 0.01) > 1e-3);
	assert_true(binom_tail_bound(40, 5000, 0.01) == 1);
	assert_true(binom_tail_bound(5, 5, 0.01) < 1e-9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_running),
	    cmocka_unit_test(test_detour_median),
	    cmocka_unit_test(test_bounds),
	};

	return rows_run("common", tests, sizeof(tests) / sizeof(tests[0]), rows,
			sizeof(rows) / sizeof(rows[0]), sizeof(rows[0]),
			run_band);
}
