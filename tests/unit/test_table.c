// SPDX-License-Identifier: BSD-2-Clause
/* The bounded hash table (user/lib/table.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/table.h"

static void test_table_bounded(void **state)
{
	struct table *t = table_new(100, 8, sizeof(uint64_t), NULL);
	uint64_t k, *v;
	size_t found = 0;

	(void)state;
	assert_non_null(t);
	for (k = 1; k <= 1000; k++) {
		v = table_get_or_add(t, &k, NULL);
		assert_non_null(v);
		*v = k * 3;
	}
	assert_int_equal(table_len(t), 100);
	assert_int_equal(table_evictions(t), 900);
	for (k = 1; k <= 1000; k++) {
		v = table_get(t, &k);
		if (v) {
			assert_int_equal(*v, k * 3);
			found++;
		}
	}
	assert_int_equal(found, 100);
	k = 1000;
	table_del(t, &k);
	assert_null(table_get(t, &k));
	assert_int_equal(table_len(t), 99);
	table_free(t);
}

/* A renewed entry counts as just inserted: the oldest-first eviction takes
 * the entries inserted before it (here, key 2) and passes over it. */
static void test_table_renew(void **state)
{
	struct table *t = table_new(100, 8, sizeof(uint64_t), NULL);
	uint64_t k;

	(void)state;
	assert_non_null(t);
	for (k = 1; k <= 100; k++)
		assert_non_null(table_get_or_add(t, &k, NULL));
	k = 1;
	table_renew(t, table_get(t, &k));
	for (k = 101; k <= 150; k++)
		assert_non_null(table_get_or_add(t, &k, NULL));
	assert_int_equal(table_evictions(t), 50);
	k = 1;
	assert_non_null(table_get(t, &k));
	k = 2;
	assert_null(table_get(t, &k));
	table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_bounded),
	    cmocka_unit_test(test_table_renew),
	};

	return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
