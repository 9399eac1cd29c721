// SPDX-License-Identifier: BSD-2-Clause
/* The record envelope's time form (output/envelope.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "output/envelope.h"

static void test_rfc3339(void **state)
{
	char t[40];

	(void)state;
	time_rfc3339(0, t, sizeof(t));
	assert_string_equal(t, "1970-01-01T00:00:00.000000Z");
	/* microseconds kept, nanoseconds cut, not rounded */
	time_rfc3339(1772442000123456789ull, t, sizeof(t));
	assert_string_equal(t, "2026-03-02T09:00:00.123456Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc3339),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
