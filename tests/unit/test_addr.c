// SPDX-License-Identifier: BSD-2-Clause
/* Address and prefix parsing (user/lib/addr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/addr.h"

static void test_cidr(void **state)
{
	struct cidr c;
	struct hs_addr a;
	uint8_t v4[4] = {10, 1, 2, 3};

	(void)state;
	assert_int_equal(cidr_parse("10.0.0.0/8", &c), 0);
	addr_from_v4(&a, v4);
	assert_true(cidr_contains(&c, &a));
	assert_int_equal(cidr_parse("10.1.2.0/31", &c), 0);
	assert_false(cidr_contains(&c, &a));
	assert_int_equal(cidr_parse("fd00::/8", &c), 0);
	assert_false(cidr_contains(&c, &a));
	assert_int_equal(cidr_parse("10.0.0.0/33", &c), -1);
	assert_int_equal(cidr_parse("banana", &c), -1);
	assert_int_equal(cidr_parse("/8", &c), -1);
	assert_int_equal(cidr_parse("1.2.3.4/x", &c), -1);
	assert_int_equal(cidr_parse("::/0", &c), 0);
	assert_true(cidr_contains(&c, &a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cidr),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
