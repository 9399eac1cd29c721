// SPDX-License-Identifier: BSD-2-Clause
/* hydrascope: command dispatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: hydrascope COMMAND [options]\n"
    "  run --iface IF        attach to an interface and profile live traffic\n"
    "  replay FILE           run a pcap/pcapng through the same programs\n"
    "  flows | sources | stats   read the maps of a running instance\n"
    "  status | clusters     what the running instance found (its status "
    "file)\n"
    "  block|allow|tuple list|add|del   the blocking layer (see block --help)\n"
    "  detach [--all]        stop the running instance, remove its pins\n"
    "Each command takes --help.\n";

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

int main(int argc, char **argv)
{
	const char *dbg = getenv("HS_DEBUG");

	libbpf_set_print(dbg && *dbg == '1' ? verbose_print : silent_print);
	/* scores and shares: 6 significant digits, not json-c's 17 */
	json_c_set_serialization_double_format("%.6g", JSON_C_OPTION_GLOBAL);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "replay"))
		return cmd_replay(argc - 1, argv + 1);
	if (!strcmp(argv[1], "flows") || !strcmp(argv[1], "sources") ||
	    !strcmp(argv[1], "stats"))
		return cmd_show(argc - 1, argv + 1);
	if (!strcmp(argv[1], "status") || !strcmp(argv[1], "clusters"))
		return cmd_status(argc - 1, argv + 1);
	if (!strcmp(argv[1], "block") || !strcmp(argv[1], "allow") ||
	    !strcmp(argv[1], "tuple"))
		return cmd_blocking(argc - 1, argv + 1);
	if (!strcmp(argv[1], "detach"))
		return cmd_detach(argc - 1, argv + 1);
	return cli_fail("unknown command '%s' (see hydrascope --help)",
			argv[1]);
}
