// SPDX-License-Identifier: BSD-2-Clause
/* hydrascope flows|sources|stats: read the pinned maps of a running
 * instance (the same data `bpftool map dump pinned ...` shows). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "datapath/maps.h"
#include "fingerprint/tcpsig.h"
#include "output/report.h"

int cmd_show(int argc, char **argv)
{
	enum out_format fmt = FMT_TEXT;
	struct common_opts co;
	struct map_fds m;
	struct p0f_db *db;
	char err[512];
	int i, rc = 0;

	common_opts_init(&co);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: hydrascope %s [--format text|json] "
			       "[--p0f-db FILE]\n",
			       argv[0]);
			return 0;
		}
		if (!strcmp(argv[i], "--format") && i + 1 < argc &&
		    !parse_format(argv[i + 1], &fmt)) {
			i++;
			continue;
		}
		if (!strcmp(argv[i], "--p0f-db") && i + 1 < argc &&
		    common_opt(&co, "p0f-db", argv[i + 1]) == 1) {
			i++;
			continue;
		}
		return cli_fail("bad %s argument '%s' (see %s --help)", argv[0],
				argv[i], argv[0]);
	}
	if (map_fds_open_pinned(&m, err, sizeof(err)))
		return cli_fail("%s", err);
	db = common_load_p0f(&co, false);
	{
		struct report_ctx r = {stdout, fmt, &m, NULL, db};
		struct hs_stats st;

		if (!strcmp(argv[0], "flows"))
			rc = report_flows(&r);
		else if (!strcmp(argv[0], "sources"))
			rc = report_sources(&r);
		else if ((rc = stats_read(m.stats, &st)) == 0)
			report_stats(&r, &st);
	}
	p0f_db_free(db);
	map_fds_close(&m);
	return rc ? 1 : 0;
}
