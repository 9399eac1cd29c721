/* SPDX-License-Identifier: BSD-2-Clause */
/* The closing summary of replay and run: top clusters, indicators and
 * decisions by kind, and what the blocking layer dropped or would drop. */
#ifndef HS_USER_SUMMARY_H
#define HS_USER_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "output/format.h"

struct pipeline;

struct json_object;

/* The summary as one JSON object ("type":"summary"); NULL on error. */
/* now_ns: datapath time of the summary (its "timestamp"). */
struct json_object *summary_json(struct pipeline *pl, int stats_fd,
				 uint64_t now_ns);
void summary_print(FILE *out, enum out_format fmt, struct pipeline *pl,
		   int stats_fd, uint64_t now_ns);
/* The clusters of a summary object, for people. */
void summary_clusters_text(FILE *out, struct json_object *summary);

#endif
