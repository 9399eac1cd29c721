// SPDX-License-Identifier: BSD-2-Clause
/* Histogram buckets of the exporter (lib/histogram.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/histogram.h"

/* Buckets are "less than or equal": a value on a bound counts in it. */
static void test_histogram(void **state)
{
	struct hs_hist h = {0};
	size_t n;
	const double *le = hs_hist_bounds(HS_HIST_RELAY_GAP_SECONDS, &n);

	(void)state;
	assert_true(n > 2 && n <= HS_HIST_MAX);
	hs_hist_observe(&h, HS_HIST_RELAY_GAP_SECONDS, 0);
	hs_hist_observe(&h, HS_HIST_RELAY_GAP_SECONDS, le[1]);
	hs_hist_observe(&h, HS_HIST_RELAY_GAP_SECONDS, le[n - 1] * 2);
	assert_int_equal(h.bucket[0], 1);
	assert_int_equal(h.bucket[1], 1);
	assert_int_equal(h.bucket[n], 1);
	assert_int_equal(h.count, 3);
	assert_true(h.sum > le[n - 1] * 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_histogram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
