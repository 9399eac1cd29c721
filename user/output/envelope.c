// SPDX-License-Identifier: BSD-2-Clause
#include "output/envelope.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/hstime.h"
#include "output/json_field.h"

void envelope_refresh(struct envelope *e)
{
	if (e->live)
		e->wall_offset_ns = (int64_t)(hs_clock_ns(CLOCK_REALTIME) -
					      hs_clock_ns(CLOCK_MONOTONIC));
}

uint64_t envelope_wall(const struct envelope *e, uint64_t datapath_ns)
{
	return (uint64_t)((int64_t)datapath_ns + e->wall_offset_ns);
}

uint64_t envelope_now(const struct envelope *e, uint64_t replay_now_ns)
{
	if (e->live || !replay_now_ns)
		return hs_clock_ns(CLOCK_REALTIME);
	return replay_now_ns;
}

const char *envelope_host(void)
{
	static char host[256];

	if (!host[0] && gethostname(host, sizeof(host) - 1))
		snprintf(host, sizeof(host), "unknown");
	return host;
}

void time_rfc3339(uint64_t wall_ns, char *buf, size_t cap)
{
	time_t s = (time_t)(wall_ns / HS_NS_PER_SEC);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec,
		 (unsigned)(wall_ns % HS_NS_PER_SEC / HS_NS_PER_US));
}

void time_local(uint64_t wall_ns, char *buf, size_t cap)
{
	time_t s = (time_t)(wall_ns / HS_NS_PER_SEC);
	char day[32], zone[16];
	struct tm tm;

	localtime_r(&s, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%Z", &tm);
	snprintf(buf, cap, "%s.%03u %s", day,
		 (unsigned)(wall_ns % HS_NS_PER_SEC / HS_NS_PER_MS), zone);
}

void envelope_time(json_object *r, const char *key, uint64_t wall_ns)
{
	char t[40];

	time_rfc3339(wall_ns, t, sizeof(t));
	json_set_str(r, key, t);
}

void envelope_add(json_object *r, const struct envelope *e, uint64_t wall_ns)
{
	envelope_time(r, "timestamp", wall_ns);
	json_set_str(r, "host", envelope_host());
	json_object_object_add(
	    r, "iface", e->iface ? json_object_new_string(e->iface) : NULL);
	json_object_object_add(r, "schema",
			       json_object_new_int(HS_RECORD_SCHEMA));
}
