// SPDX-License-Identifier: BSD-2-Clause
/*
 * The network database (user/fingerprint/asndb.c): a missing or foreign
 * file is refused with a one-line reason, and no database answers unknown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fingerprint/asndb.h"

static void test_asndb_errors(void **state)
{
	char err[256];

	(void)state;
	assert_null(asndb_open("/nonexistent.mmdb", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent.mmdb"));
	assert_null(asndb_open("/etc/hostname", err, sizeof(err)));
	assert_int_equal(strchr(err, '\n') == NULL, 1);
	/* no database: lookups answer "unknown" */
	{
		struct asn_info ai;
		struct hs_addr a = {{0}};

		asndb_lookup(NULL, &a, &ai);
		assert_int_equal(ai.asn, 0);
		assert_int_equal(ai.cls, NET_UNKNOWN);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_asndb_errors),
	};

	return cmocka_run_group_tests_name("asndb", tests, NULL, NULL);
}
