// SPDX-License-Identifier: BSD-2-Clause
#include "status.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "summary.h"

void status_publish(struct pipeline *pl, int stats_fd,
		    const struct attachment *a, bool enforce)
{
	json_object *o = json_object_new_object(), *s;
	struct timespec ts;
	FILE *f;

	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_object_add(o, "type", json_object_new_string("status"));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "iface", json_object_new_string(a->ifname));
	json_object_object_add(
	    o, "xdp_mode",
	    json_object_new_string(a->xdp_mode ? a->xdp_mode : ""));
	json_object_object_add(
	    o, "tc_mode", json_object_new_string(a->tc_mode ? a->tc_mode : ""));
	json_object_object_add(o, "enforce", json_object_new_boolean(enforce));
	json_object_object_add(
	    o, "updated_unix_ns",
	    json_object_new_uint64((uint64_t)ts.tv_sec * 1000000000ull +
				   (uint64_t)ts.tv_nsec));
	s = summary_json(pl, stats_fd);
	if (s)
		json_object_object_add(o, "summary", s);
	f = fopen(HS_STATUS_FILE ".tmp", "w");
	if (f) {
		fprintf(
		    f, "%s\n",
		    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		if (fclose(f) == 0)
			rename(HS_STATUS_FILE ".tmp", HS_STATUS_FILE);
	}
	json_object_put(o);
}

void status_remove(void)
{
	unlink(HS_STATUS_FILE);
}
