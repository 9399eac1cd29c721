// SPDX-License-Identifier: BSD-2-Clause
/*
 * The tuple id helpers shared by the kernel and userspace
 * (include/hydrascope/tuple.h): GREASE values (RFC 8701) must never reach a
 * fingerprint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hydrascope/tuple.h"

static void test_grease(void **state)
{
	(void)state;
	assert_true(hs_is_grease(0x0a0a));
	assert_true(hs_is_grease(0xfafa));
	assert_false(hs_is_grease(0x0a1a));
	assert_false(hs_is_grease(0x1301));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grease),
	};

	return cmocka_run_group_tests_name("tuple", tests, NULL, NULL);
}
