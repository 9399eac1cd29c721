// SPDX-License-Identifier: BSD-2-Clause
#include "output/status.h"
#include "lib/paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "datapath/loader.h"
#include "decide/pipeline.h"
#include "lib/hstime.h"
#include "lib/safefile.h"
#include "output/json_field.h"
#include "output/summary.h"

void status_publish(struct pipeline *pl, int stats_fd,
		    const struct attachment *a, bool enforce)
{
	json_object *o = json_object_new_object(), *s;
	struct timespec ts;
	char *text;

	clock_gettime(CLOCK_REALTIME, &ts);
	json_set_str(o, "type", "status");
	envelope_add(o, &pl->out.env, hs_timespec_ns(&ts));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_set_str(o, "instance", paths_instance());
	json_set_str(o, "xdp_mode", a->xdp_mode ? a->xdp_mode : "");
	json_set_str(o, "tc_mode", a->tc_mode ? a->tc_mode : "");
	json_object_object_add(o, "enforce", json_object_new_boolean(enforce));
	json_set_u64(o, "updated_unix_ns", hs_timespec_ns(&ts));
	s = summary_json(pl, stats_fd, hs_clock_ns(CLOCK_MONOTONIC));
	if (s)
		json_object_object_add(o, "summary", s);
	if (asprintf(&text, "%s\n",
		     json_object_to_json_string_ext(
			 o, JSON_C_TO_STRING_PLAIN)) > 0) {
		safefile_replace(paths_status_file(), text);
		free(text);
	}
	json_object_put(o);
}

void status_remove(void)
{
	unlink(paths_status_file());
}
