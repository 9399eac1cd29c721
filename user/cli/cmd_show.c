// SPDX-License-Identifier: BSD-2-Clause
/* hydrascope flows|sources|stats: read the pinned maps of a running
 * instance (the same data `bpftool map dump pinned ...` shows). */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "datapath/maps.h"
#include "fingerprint/tcpsig.h"
#include "lib/hstime.h"
#include "lib/paths.h"
#include "output/report.h"
#include "output/status.h"

struct show_args {
	enum out_format fmt;
	struct common_opts co;
};

static int opt_format(void *ctx, const char *val)
{
	return cli_opt_format(&((struct show_args *)ctx)->fmt, val);
}

static int opt_p0f_db(void *ctx, const char *val)
{
	return common_opt_p0f_db(&((struct show_args *)ctx)->co, val);
}

static const struct cli_option show_options[] = {
    {"format", "text|json", "output format (default text)", opt_format},
    {"p0f-db", "FILE", "extra p0f-format signatures, searched first",
     opt_p0f_db},
    {0},
};

const struct cli_command cmd_flows_def = {
    .name = "flows",
    .synopsis = "[options]",
    .about = "the flows in the maps of the running instance",
    .opts = show_options,
    .main = cmd_show,
};

const struct cli_command cmd_sources_def = {
    .name = "sources",
    .synopsis = "[options]",
    .about = "the sources in the maps of the running instance",
    .opts = show_options,
    .main = cmd_show,
};

const struct cli_command cmd_stats_def = {
    .name = "stats",
    .synopsis = "[options]",
    .about = "the datapath counters of the running instance",
    .opts = show_options,
    .main = cmd_show,
};

int cmd_show(int argc, char **argv)
{
	const struct cli_command *def =
	    !strcmp(argv[0], "flows")	  ? &cmd_flows_def
	    : !strcmp(argv[0], "sources") ? &cmd_sources_def
					  : &cmd_stats_def;
	struct show_args a = {.fmt = FMT_TEXT};
	struct map_fds m;
	struct p0f_db *db;
	/* the maps hold kernel time (CLOCK_MONOTONIC) */
	struct envelope env = {.live = true};
	json_object *status, *iface;
	char err[512];
	int first, rc;

	common_opts_init(&a.co);
	rc = cli_parse(def, argc, argv, &a, NULL, &first);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (first < argc)
		return cli_fail("unexpected argument '%s' (see %s --help)",
				argv[first], argv[0]);
	if (map_fds_open_pinned(&m, err, sizeof(err)))
		return cli_fail("%s", err);
	db = common_load_p0f(&a.co, false);
	/* the running instance names its interface in its status file */
	status = json_object_from_file(paths_status_file());
	if (status && json_object_object_get_ex(status, "iface", &iface) &&
	    json_object_is_type(iface, json_type_string))
		env.iface = json_object_get_string(iface);
	envelope_refresh(&env);
	{
		struct report_ctx r = {stdout,
				       a.fmt,
				       &m,
				       NULL,
				       db,
				       env,
				       hs_clock_ns(CLOCK_MONOTONIC)};
		struct hs_stats st;

		if (def == &cmd_flows_def)
			rc = report_flows(&r);
		else if (def == &cmd_sources_def)
			rc = report_sources(&r);
		else if ((rc = stats_read(m.stats, &st)) == 0)
			report_stats(&r, &st);
	}
	json_object_put(status);
	p0f_db_free(db);
	map_fds_close(&m);
	return rc ? 1 : 0;
}
