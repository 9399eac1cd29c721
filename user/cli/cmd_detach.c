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
#include <unistd.h>

#include "cli/cli.h"
#include "datapath/loader.h"
#include "lib/pidfile.h"

int cmd_detach(int argc, char **argv)
{
	bool all = false;
	pid_t pid;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: hydrascope detach [--all]\n"
			       "  --all   also remove the pinned blocklist, "
			       "allowlist and tuple rules\n");
			return 0;
		}
		if (!strcmp(argv[i], "--all")) {
			all = true;
			continue;
		}
		return cli_fail("detach takes no argument '%s'", argv[i]);
	}
	pid = pidfile_running();
	if (pid) {
		kill(pid, SIGTERM);
		for (i = 0; i < 100 && pidfile_running() == pid; i++)
			usleep(50 * 1000);
		if (pidfile_running() == pid)
			return cli_fail("instance %d did not stop within 5 s",
					(int)pid);
		fprintf(stderr, "hydrascope: stopped instance %d\n", (int)pid);
	} else if (loader_detach_pinned()) {
		fprintf(stderr, "hydrascope: removed the datapath a stopped "
				"instance left attached\n");
	}
	loader_unpin_maps(all);
	return 0;
}
