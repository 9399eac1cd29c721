// SPDX-License-Identifier: BSD-2-Clause
#include "lib/paths.h"

#include <stdio.h>
#include <string.h>

static struct {
	char name[HS_INSTANCE_MAX + 1];
	char pin[64], link[80], pid[64], status[80];
} P = {
    .pin = HS_BPFFS "/hydrascope",
    .link = HS_BPFFS "/hydrascope/links",
    .pid = HS_RUN_DIR "/hydrascope.pid",
    .status = HS_RUN_DIR "/status.json",
};

int paths_set_instance(const char *name)
{
	const char *sep = name && *name ? "-" : "";
	size_t n = name ? strlen(name) : 0;

	if (n > HS_INSTANCE_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return -1;
	}
	snprintf(P.name, sizeof(P.name), "%s", n ? name : "");
	snprintf(P.pin, sizeof(P.pin), HS_BPFFS "/hydrascope%s%s", sep, P.name);
	snprintf(P.link, sizeof(P.link), "%s/links", P.pin);
	snprintf(P.pid, sizeof(P.pid), HS_RUN_DIR "/hydrascope%s%s.pid", sep,
		 P.name);
	snprintf(P.status, sizeof(P.status), HS_RUN_DIR "/status%s%s.json", sep,
		 P.name);
	return 0;
}

const char *paths_instance(void)
{
	return P.name;
}

const char *paths_pin_dir(void)
{
	return P.pin;
}

const char *paths_link_dir(void)
{
	return P.link;
}

const char *paths_pidfile(void)
{
	return P.pid;
}

const char *paths_status_file(void)
{
	return P.status;
}
