/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Prometheus text exposition on /metrics (libmicrohttpd, its own thread).
 * Labels are bounded: counter names and reasons from fixed lists, map
 * names; never an address.
 */
#ifndef HS_USER_METRICS_H
#define HS_USER_METRICS_H

#include <stdbool.h>

#include "collector.h"
#include "report.h"

struct metrics;

struct metrics_src {
	struct map_fds maps;
	int blocklist_fd, tuple_rules_fd;
	int ifindex;      /* where our XDP program should be attached */
	unsigned xdp_prog_id;
	bool enforce;
};

/* addr is "HOST:PORT" (IPv4 or [IPv6]). NULL with err set on failure. */
struct metrics *metrics_start(const char *addr, const struct metrics_src *src,
			      char *err, size_t errlen);
/* The main loop publishes the collector's counters (thread-safe copy). */
void metrics_publish(struct metrics *m, const struct collector_stats *cs);
void metrics_stop(struct metrics *m);
/* Validate "HOST:PORT" without binding (for the up-front flag check). */
int metrics_parse_addr(const char *addr, char *host, size_t hcap,
		       unsigned *port);

/* The exposition text (also used by tests). Caller frees. */
char *metrics_render(struct metrics *m);

#endif
