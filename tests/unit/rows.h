/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Table-driven cmocka tests: every row of a table becomes one test named
 * after the row, so a failing case names itself in the output (and in
 * tests/run.sh's count) instead of hiding inside one loop. A row type
 * starts with `const char *name`; the row is the test's initial state.
 * Include after <cmocka.h>.
 */
#ifndef HS_TEST_ROWS_H
#define HS_TEST_ROWS_H

#include <stdlib.h>

/* Runs the fixed tests, then one test per row, as one group: tests/run.sh
 * reads the last "PASSED" line of a binary, so a binary runs one group. */
static inline int rows_run(const char *group, const struct CMUnitTest *fixed,
			   size_t n_fixed, const void *rows, size_t n_rows,
			   size_t row_size, CMUnitTestFunction fn)
{
	struct CMUnitTest *t = calloc(n_fixed + n_rows, sizeof(*t));
	const char *row = rows;
	size_t i;
	int rc;

	if (!t)
		return 1;
	for (i = 0; i < n_fixed; i++)
		t[i] = fixed[i];
	for (i = 0; i < n_rows; i++, row += row_size) {
		t[n_fixed + i].name = *(const char *const *)row;
		t[n_fixed + i].test_func = fn;
		t[n_fixed + i].initial_state = (void *)row;
	}
	rc = _cmocka_run_group_tests(group, t, n_fixed + n_rows, NULL, NULL);
	free(t);
	return rc;
}

#define ROWS_RUN(group, rows, fn)                                              \
	rows_run(group, NULL, 0, rows, sizeof(rows) / sizeof(rows[0]),         \
		 sizeof(rows[0]), fn)

/* Scores are compared to the formula's value, not to a rounded one. */
#define assert_score(got, want)                                                \
	do {                                                                   \
		double g_ = (got), w_ = (want);                                \
		if (g_ < w_ - 1e-9 || g_ > w_ + 1e-9)                          \
			fail_msg("score %.6f, expected %.6f", g_, w_);         \
	} while (0)

#endif
