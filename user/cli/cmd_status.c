// SPDX-License-Identifier: BSD-2-Clause
/*
 * hydrascope status | clusters: what the running instance publishes after
 * each round (its interface and modes, the largest clusters, indicators
 * raised, blocks desired and enforced), plus the datapath counters read
 * from the pinned stats map.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "lib/paths.h"
#include "lib/pidfile.h"
#include "output/report.h"
#include "output/status.h"
#include "output/summary.h"

static json_object *read_status(void)
{
	json_object *o = json_object_from_file(paths_status_file()), *pid;

	if (!o)
		return NULL;
	/* a file a dead instance left is not a status */
	if (!json_object_object_get_ex(o, "pid", &pid) ||
	    pidfile_running(paths_pidfile()) !=
		(pid_t)json_object_get_int(pid)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int opt_format(void *ctx, const char *val)
{
	return cli_opt_format(ctx, val);
}

static const struct cli_option status_options[] = {
    {"format", "text|json", "output format (default text)", opt_format},
    {0},
};

const struct cli_command cmd_status_def = {
    .name = "status",
    .synopsis = "[options]",
    .about = "what the running instance found (its status file)",
    .opts = status_options,
    .main = cmd_status,
};

const struct cli_command cmd_clusters_def = {
    .name = "clusters",
    .synopsis = "[options]",
    .about = "the largest clusters of the running instance",
    .opts = status_options,
    .main = cmd_status,
};

int cmd_status(int argc, char **argv)
{
	enum out_format fmt = FMT_TEXT;
	bool clusters = !strcmp(argv[0], "clusters");
	json_object *o, *s, *v;
	int first, rc;

	rc = cli_parse(clusters ? &cmd_clusters_def : &cmd_status_def, argc,
		       argv, &fmt, NULL, &first);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (first < argc)
		return cli_fail("unexpected argument '%s' (see %s --help)",
				argv[first], argv[0]);
	o = read_status();
	if (!o)
		return cli_fail("no running instance has published %s yet",
				paths_status_file());
	json_object_object_get_ex(o, "summary", &s);
	if (fmt == FMT_JSON) {
		printf("%s\n",
		       json_object_to_json_string_ext(
			   clusters && s ? json_object_object_get(s, "clusters")
					 : o,
			   JSON_C_TO_STRING_PLAIN |
			       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return 0;
	}
	if (!clusters) {
		printf(
		    "instance %d on %s (XDP %s, TC egress %s), %s\n",
		    json_object_get_int(json_object_object_get(o, "pid")),
		    json_object_get_string(json_object_object_get(o, "iface")),
		    json_object_get_string(
			json_object_object_get(o, "xdp_mode")),
		    json_object_get_string(
			json_object_object_get(o, "tc_mode")),
		    json_object_get_boolean(
			json_object_object_get(o, "enforce"))
			? "enforcing"
			: "dry-run");
		if (s &&
		    json_object_object_get_ex(s, "indicators_raised", &v)) {
			printf("indicators raised:");
			json_object_object_foreach(v, k, n)
			    printf(" %s=%" PRId64, k, json_object_get_int64(n));
			printf("\nblocks: %" PRId64 " desired, %" PRId64
			       " enforced; tuple rules: %" PRId64
			       " desired, %" PRId64 " enforced\n",
			       json_object_get_int64(
				   json_object_object_get(s, "desired_blocks")),
			       json_object_get_int64(json_object_object_get(
				   s, "enforced_blocks")),
			       json_object_get_int64(
				   json_object_object_get(s, "desired_rules")),
			       json_object_get_int64(json_object_object_get(
				   s, "enforced_rules")));
		}
		if (s && json_object_object_get_ex(s, "fleet", &v))
			printf("fleet: %s, %" PRId64
			       " decisions published, %" PRId64
			       " waiting, %" PRId64 " remote applied, %" PRId64
			       " Redis failures\n",
			       json_object_get_boolean(
				   json_object_object_get(v, "connected"))
				   ? "connected"
				   : "NOT connected (working alone)",
			       json_object_get_int64(
				   json_object_object_get(v, "published")),
			       json_object_get_int64(
				   json_object_object_get(v, "outbox")),
			       json_object_get_int64(
				   json_object_object_get(v, "remote_applied")),
			       json_object_get_int64(
				   json_object_object_get(v, "failures")));
	}
	if (s)
		summary_clusters_text(stdout, s);
	json_object_put(o);
	return 0;
}
