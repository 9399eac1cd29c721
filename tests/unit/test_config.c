// SPDX-License-Identifier: BSD-2-Clause
/*
 * The correlator and policy config file (user/correlate/config.c): a bad
 * line stops the load with file:line and the reason; the shipped example
 * holds every key at its default.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "correlate/correlate.h"

static int load_text(const char *text, struct corr_config *c, char *err,
		     size_t errlen)
{
	char path[] = "/tmp/hs-cfg-XXXXXX";
	int fd = mkstemp(path), rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	rc = corr_config_load(path, c, err, errlen);
	unlink(path);
	return rc;
}

static void test_config(void **state)
{
	struct corr_config c;
	char err[256];

	(void)state;
	corr_config_defaults(&c);
	assert_int_equal(load_text("# comment\n\nwindow_s = 60\n"
				   "relay_base_gap_us_chromium = 55000  # x\n"
				   "robotic_max_cv=0.2\n",
				   &c, err, sizeof(err)),
			 0);
	assert_int_equal(c.window_s, 60);
	assert_int_equal(c.relay_base_gap_us[FAM_CHROMIUM], 55000);
	assert_true(c.robotic_max_cv == 0.2);
	assert_int_equal(load_text("window_s = 5\n", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: window_s wants an integer from 10"));
	assert_int_equal(load_text("a\nmax_blocks = x\n", &c, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, ":1: expected key = value"));
	assert_int_equal(
	    load_text("relay_base_gap_us_nss = 1\n", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown key"));
	assert_int_equal(
	    load_text("relay_min_share = inf\n", &c, err, sizeof(err)), -1);
}

/* The shipped example config sets every key to its default: loaded over a
 * config that differs everywhere (UINT_MAX, NaN), it gives exactly the
 * defaults. A key the generator spells unlike the parser, or a default out
 * of its own range, fails here. Run from the repository root (tests/run.sh,
 * make test-unit). */
static void test_config_example(void **state)
{
	struct corr_config c, def;
	char err[256];

	(void)state;
	corr_config_defaults(&def);
	memset(&c, 0xff, sizeof(c));
	if (corr_config_load("deploy/hydrascope.conf.example", &c, err,
			     sizeof(err)))
		fail_msg("%s", err);
#define SAME_UINT(name)                                                        \
	if (c.name != def.name)                                                \
		fail_msg("%s = %u, default %u", #name, c.name, def.name);
#define SAME_REAL(name)                                                        \
	if (c.name != def.name)                                                \
		fail_msg("%s = %g, default %g", #name, c.name, def.name);
#define SAME_UINT_PER_FAMILY(name)                                             \
	if (memcmp(c.name, def.name, sizeof(c.name)))                          \
		fail_msg("%s_<family> differ from the defaults", #name);
#define SAME(name, kind, d, lo, hi, help) SAME_##kind(name)
	HS_CORR_THRESHOLDS(SAME, HS_THR_NO_GROUP)
#undef SAME
#undef SAME_UINT_PER_FAMILY
#undef SAME_REAL
#undef SAME_UINT
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_config_example),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
