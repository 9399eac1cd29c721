// SPDX-License-Identifier: BSD-2-Clause
/* hydrascope: command dispatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "lib/paths.h"
#include "lib/version.h"

static int silent_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	/* libbpf's own warnings are noise for operators; errors are reported
	 * by us in one line. HS_DEBUG=1 shows everything. */
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static int verbose_print(enum libbpf_print_level level, const char *fmt,
			 va_list ap)
{
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

/* Options before the command; the man page lists them from here too. */
static int global_option(const char *a)
{
	if (!strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "help"))
		cli_help_all(stdout);
	else if (!strcmp(a, "--version") || !strcmp(a, "-V"))
		printf("hydrascope %s\n", hs_version);
	else if (!strcmp(a, "--help-man"))
		cli_man(stdout);
	else if (!strcmp(a, "--help-completion"))
		cli_completion(stdout);
	else if (a[0] == '-')
		return cli_fail("unknown option %s (see hydrascope --help)", a);
	else
		return -1;
	return 0;
}

/* --instance NAME applies to every command, run and readers alike (the
 * instance's own pins, pid and status files, lib/paths.h): take it out of
 * argv before the command parses the rest. */
static int take_instance(int *argc, char **argv)
{
	int i, j;

	for (i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--instance"))
			continue;
		if (i + 1 >= *argc || paths_set_instance(argv[i + 1]))
			return cli_fail("--instance wants a name of 1-%d "
					"letters, digits, '-' or '_', got '%s'",
					HS_INSTANCE_MAX,
					i + 1 < *argc ? argv[i + 1] : "");
		for (j = i; j + 2 <= *argc; j++)
			argv[j] = argv[j + 2];
		*argc -= 2;
		i--;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *dbg = getenv("HS_DEBUG");
	int rc;

	libbpf_set_print(dbg && *dbg == '1' ? verbose_print : silent_print);
	/* scores and shares: 6 significant digits, not json-c's 17 */
	json_c_set_serialization_double_format("%.6g", JSON_C_OPTION_GLOBAL);
	if (take_instance(&argc, argv))
		return 2;
	if (argc < 2) {
		cli_help_all(stderr);
		return 2;
	}
	rc = global_option(argv[1]);
	if (rc >= 0)
		return rc;
	for (size_t i = 0; cli_commands[i]; i++)
		if (!strcmp(argv[1], cli_commands[i]->name))
			return cli_commands[i]->main(argc - 1, argv + 1);
	return cli_fail("unknown command '%s' (see hydrascope --help)",
			argv[1]);
}
