/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What run hands its metrics thread after each round: the Prometheus
 * snapshot and the status page's (a history of the round's indicators
 * rides on the pipeline's tap). Copies only: the thread never reads the
 * correlator, the policy or a kernel map.
 */
#ifndef HS_USER_CLI_PUBLISH_H
#define HS_USER_CLI_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output/status_snapshot.h"

struct crowdsec_pull;
struct fleet;
struct metrics;
struct session;
struct status_page;

struct publisher {
	struct metrics *mx; /* NULL: no --metrics, nothing to publish */
	struct status_history *hist;
	struct status_page *page; /* built here, then copied over */
	struct status_inputs in;
};

/* Hooks the history to the session's pipeline and publishes a first page
 * (its header; no round yet). Returns 0, or -1 with err set. */
int publisher_start(struct publisher *p, struct metrics *mx, struct session *s,
		    const char *iface, bool enforce, char *err, size_t errlen);
/* After the round at now_ns (datapath clock); cs_pull: the bouncer, or
 * NULL (the exporter, if any, is the session's). */
void publisher_round(struct publisher *p, const struct session *s,
		     const struct fleet *fl,
		     const struct crowdsec_pull *cs_pull, uint64_t now_ns);
void publisher_free(struct publisher *p);

#endif
