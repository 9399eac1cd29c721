// SPDX-License-Identifier: BSD-2-Clause
/*
 * Helpers shared by the indicator evaluators
 * (user/correlate/indicators/common.c): running statistics, and the
 * cadence bands and detour median the indicators read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "correlate/state.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_running),
	};

	return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
