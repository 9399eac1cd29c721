// SPDX-License-Identifier: BSD-2-Clause
/*
 * hydrascope detach: stop the running instance (a clean stop removes its
 * links and instance maps), or, when none runs, remove the datapath and
 * pins one that died left behind. Idempotent: running it twice, or with
 * nothing attached, is not an error.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "datapath/loader.h"
#include "lib/paths.h"
#include "lib/pidfile.h"

static int opt_all(void *ctx, const char *val)
{
	(void)val;
	*(bool *)ctx = true;
	return 0;
}

static const struct cli_option detach_options[] = {
    {"all", NULL, "also remove the pinned blocklist, allowlist and tuple rules",
     opt_all},
    {0},
};

const struct cli_command cmd_detach_def = {
    .name = "detach",
    .synopsis = "[--all]",
    .about = "stop the running instance, remove its pins",
    .detail = "Stops the running instance (a clean stop removes its links "
	      "and instance maps), or,\nwhen none runs, removes the datapath "
	      "and pins one that died left behind.\n",
    .opts = detach_options,
    .main = cmd_detach,
};

int cmd_detach(int argc, char **argv)
{
	bool all = false;
	char err[256];
	pid_t pid;
	int first, rc;

	rc = cli_parse(&cmd_detach_def, argc, argv, &all, NULL, &first);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (first < argc)
		return cli_fail("detach takes no argument '%s'", argv[first]);
	pid = pidfile_running(paths_pidfile());
	if (pid) {
		if (pidfile_signal(paths_pidfile(), SIGTERM, 5000, err,
				   sizeof(err)))
			return cli_fail("%s", err);
		fprintf(stderr, "hydrascope: stopped instance %d\n", (int)pid);
	} else if (loader_detach_pinned()) {
		fprintf(stderr, "hydrascope: removed the datapath a stopped "
				"instance left attached\n");
	}
	loader_unpin_maps(all);
	return 0;
}
