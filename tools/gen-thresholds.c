// SPDX-License-Identifier: BSD-2-Clause
/*
 * Prints deploy/hydrascope.conf.example (`conf`) or the README's threshold
 * table (`readme`) from the list in user/correlate/thresholds.h, with the
 * defaults read back from corr_config_defaults() so that the documents show
 * what the product uses. `make thresholds-docs` writes both;
 * tests/docs/thresholds_test.sh compares them with what is committed.
 */
#include <stdio.h>
#include <string.h>

#include "correlate/correlate.h"

/* The example config: the key names suffice (README.md explains them),
 * but name_<family> needs a line on what the per-family value is. */
static void conf_UINT(const char *name, unsigned v, const char *help)
{
	(void)help;
	printf("%s = %u\n", name, v);
}

static void conf_REAL(const char *name, double v, const char *help)
{
	(void)help;
	printf("%s = %g\n", name, v);
}

static void conf_UINT_PER_FAMILY(const char *name, const unsigned *v,
				 const char *help)
{
	printf("# %s\n", help);
	for (int f = 0; f < FAM_COUNT; f++)
		printf("%s_%s = %u\n", name,
		       client_family_name((enum client_family)f), v[f]);
}

static void conf(const struct corr_config *c)
{
	printf(
	    "# hydrascope thresholds: every key with its default (hydrascope "
	    "run|replay\n"
	    "# --config FILE). Change what you need; README.md explains "
	    "each,\n"
	    "# user/correlate/thresholds.h how the defaults were chosen. An "
	    "unknown key\n"
	    "# or a bad value stops the start with file:line.\n"
	    "# Generated from user/correlate/thresholds.h by make "
	    "thresholds-docs.\n");
#define GROUP(title) printf("\n# ---- %s\n", title);
#define KEY(name, kind, def, lo, hi, help) conf_##kind(#name, c->name, help);
	HS_CORR_THRESHOLDS(KEY, GROUP)
#undef KEY
#undef GROUP
}

/* The first row of a group names it. */
static const char *group;

static void row(const char *key, const char *def, const char *range,
		const char *help)
{
	printf("| %s | `%s` | %s | %s | %s |\n", group, key, def, range, help);
	group = "";
}

static void readme_UINT(const char *name, unsigned v, double lo, double hi,
			const char *help)
{
	char def[32], range[64];

	snprintf(def, sizeof(def), "%u", v);
	snprintf(range, sizeof(range), "%.0f to %.0f", lo, hi);
	row(name, def, range, help);
}

static void readme_REAL(const char *name, double v, double lo, double hi,
			const char *help)
{
	char def[32], range[64];

	snprintf(def, sizeof(def), "%g", v);
	snprintf(range, sizeof(range), "%g to %g", lo, hi);
	row(name, def, range, help);
}

static void readme_UINT_PER_FAMILY(const char *name, const unsigned *v,
				   double lo, double hi, const char *help)
{
	char key[64], def[512], range[64];
	size_t n = 0;

	for (int f = 0; f < FAM_COUNT; f++)
		n +=
		    snprintf(def + n, sizeof(def) - n, "%s%s %u", f ? ", " : "",
			     client_family_name((enum client_family)f), v[f]);
	snprintf(key, sizeof(key), "%s_<family>", name);
	snprintf(range, sizeof(range), "%.0f to %.0f", lo, hi);
	row(key, def, range, help);
}

static void readme(const struct corr_config *c)
{
	printf("| for | key | default | range | meaning |\n"
	       "|---|---|---|---|---|\n");
#define GROUP(title) group = title;
#define KEY(name, kind, def, lo, hi, help)                                     \
	readme_##kind(#name, c->name, lo, hi, help);
	HS_CORR_THRESHOLDS(KEY, GROUP)
#undef KEY
#undef GROUP
}

int main(int argc, char **argv)
{
	struct corr_config c;

	corr_config_defaults(&c);
	if (argc == 2 && !strcmp(argv[1], "conf"))
		conf(&c);
	else if (argc == 2 && !strcmp(argv[1], "readme"))
		readme(&c);
	else {
		fprintf(stderr, "usage: %s conf|readme\n", argv[0]);
		return 2;
	}
	return 0;
}
