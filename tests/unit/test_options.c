// SPDX-License-Identifier: BSD-2-Clause
/*
 * The command-line tables (user/cli/options.c): --opt=value and --opt
 * value are one thing, positional arguments keep their order around
 * options, a missing value, an unknown or ambiguous option stop with 2;
 * every command's table is complete enough to make --help, the man page
 * and the completion. And the data directory (user/lib/version.c) is
 * never the working directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "lib/version.h"

struct t_args {
	const char *name;
	int n;
	bool flag;
};

static int t_name(void *ctx, const char *val)
{
	((struct t_args *)ctx)->name = val;
	return 0;
}

static int t_num(void *ctx, const char *val)
{
	uint64_t v;

	if (cli_parse_u64(val, 1, 9, &v))
		return cli_fail("--num wants 1 to 9, got '%s'", val);
	((struct t_args *)ctx)->n = (int)v;
	return 0;
}

static int t_flag(void *ctx, const char *val)
{
	(void)val;
	((struct t_args *)ctx)->flag = true;
	return 0;
}

static const struct cli_option t_opts[] = {
    {"name", "X", "a value", t_name},
    {"num", "N", "a number", t_num},
    {"no-thing", NULL, "a flag", t_flag},
    {"no-other", NULL, "another flag", t_flag},
    {0},
};

static const struct cli_command t_cmd = {
    .name = "t", .synopsis = "FILE", .about = "test", .opts = t_opts};

static int parse(struct t_args *a, int *first, int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	return cli_parse(&t_cmd, argc, argv, a, NULL, first);
}

static void test_equals_form(void **state)
{
	char *v1[] = {"t", "--name=x", "--num=3", "f", NULL};
	char *v2[] = {"t", "--name", "x", "--num", "3", "f", NULL};
	struct t_args a;
	int first;

	(void)state;
	assert_int_equal(parse(&a, &first, 4, v1), 0);
	assert_string_equal(a.name, "x");
	assert_int_equal(a.n, 3);
	assert_string_equal(v1[first], "f");
	assert_int_equal(parse(&a, &first, 6, v2), 0);
	assert_string_equal(a.name, "x");
	assert_int_equal(a.n, 3);
	assert_string_equal(v2[first], "f");
}

static void test_positional_order(void **state)
{
	char *v[] = {"t", "a", "--no-thing", "b", "--num", "2", "c", NULL};
	struct t_args a;
	int first;

	(void)state;
	assert_int_equal(parse(&a, &first, 7, v), 0);
	assert_true(a.flag);
	assert_int_equal(7 - first, 3);
	assert_string_equal(v[first], "a");
	assert_string_equal(v[first + 1], "b");
	assert_string_equal(v[first + 2], "c");
}

static void test_errors(void **state)
{
	char *missing[] = {"t", "--num", NULL};
	char *bad[] = {"t", "--num=12", NULL};
	char *unknown[] = {"t", "--bogus=1", NULL};
	char *ambiguous[] = {"t", "--no", NULL};
	char *prefix[] = {"t", "--no-t", NULL};
	char *value_like_flag[] = {"t", "--name", "-5", NULL};
	struct t_args a;
	int first;

	(void)state;
	assert_int_equal(parse(&a, &first, 2, missing), 2);
	assert_int_equal(parse(&a, &first, 2, bad), 2);
	assert_int_equal(parse(&a, &first, 2, unknown), 2);
	assert_int_equal(parse(&a, &first, 2, ambiguous), 2);
	assert_int_equal(parse(&a, &first, 2, prefix), 0); /* unique prefix */
	assert_true(a.flag);
	/* a required value is taken even when it starts with '-' */
	assert_int_equal(parse(&a, &first, 3, value_like_flag), 0);
	assert_string_equal(a.name, "-5");
}

static void check_table(const struct cli_option *o)
{
	for (; o->name; o++) {
		assert_non_null(o->help);
		assert_non_null(o->set);
		assert_true(o->help[0] != 0);
		assert_null(strchr(o->name, '='));
	}
}

static void test_command_tables(void **state)
{
	size_t n = 0;

	(void)state;
	check_table(common_options);
	for (const struct cli_command *const *c = cli_commands; *c; c++, n++) {
		assert_non_null((*c)->synopsis);
		assert_non_null((*c)->about);
		assert_non_null((*c)->main);
		check_table((*c)->opts);
		for (const struct cli_command *const *d = c + 1; *d; d++)
			assert_string_not_equal((*c)->name, (*d)->name);
	}
	assert_true(n >= 11);
}

static void test_data_dir(void **state)
{
	char dir[] = "/tmp/hs-data-XXXXXX", path[4096], buf[4096];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("HYDRASCOPE_DATADIR", dir, 1);
	assert_int_equal(hs_data_path("p0f/x.fp", buf, sizeof(buf)), -1);
	snprintf(path, sizeof(path), "%s/p0f/x.fp", dir);
	assert_string_equal(buf, path); /* the path looked at, for the error */
	snprintf(buf, sizeof(buf), "%s/p0f", dir);
	assert_int_equal(mkdir(buf, 0700), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(hs_data_path("p0f/x.fp", buf, sizeof(buf)), 0);
	assert_string_equal(buf, path);
	/* without the override: an absolute directory, never the cwd */
	unsetenv("HYDRASCOPE_DATADIR");
	hs_data_path("p0f/x.fp", buf, sizeof(buf));
	assert_int_equal(buf[0], '/');
	unlink(path);
	snprintf(buf, sizeof(buf), "%s/p0f", dir);
	rmdir(buf);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_equals_form),
	    cmocka_unit_test(test_positional_order),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_command_tables),
	    cmocka_unit_test(test_data_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
