// SPDX-License-Identifier: BSD-2-Clause
/* The radix sort (lib/radix.c) against qsort on keys of every shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/radix.h"

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return (a > b) - (a < b);
}

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Full-width keys, keys differing in one middle byte only (the skipped
 * passes), few distinct values, already sorted, reversed, all equal (no
 * pass at all), tiny sizes. */
static void test_radix_matches_qsort(void **state)
{
	static const size_t sizes[] = {0, 1, 2, 3, 255, 256, 257, 10007};
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		for (int shape = 0; shape < 6; shape++) {
			size_t n = sizes[si];
			uint64_t *a = malloc(n * 8 + 8), *b = malloc(n * 8 + 8);

			assert_non_null(a);
			assert_non_null(b);
			for (size_t i = 0; i < n; i++) {
				uint64_t r = next(&seed);

				a[i] = shape == 0   ? r
				       : shape == 1 ? 0x1122330000556677ull |
							  (r & 0xff) << 24
				       : shape == 2 ? r % 3
				       : shape == 3 ? i
				       : shape == 4 ? ~(uint64_t)i
						    : 0x8000000000000001ull;
			}
			memcpy(b, a, n * 8);
			assert_true(radix_sort_u64(a, n));
			qsort(b, n, 8, cmp_u64);
			assert_memory_equal(a, b, n * 8);
			free(a);
			free(b);
		}
	}
}

static void test_distinct_nonzero(void **state)
{
	uint64_t v[] = {0, 0, 3, 3, 3, 9, 12, 12};

	(void)state;
	assert_int_equal(radix_distinct_nonzero(v, 8), 3);
	assert_int_equal(radix_distinct_nonzero(v, 2), 0);
	assert_int_equal(radix_distinct_nonzero(v + 2, 1), 1);
	assert_int_equal(radix_distinct_nonzero(v, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_radix_matches_qsort),
	    cmocka_unit_test(test_distinct_nonzero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
