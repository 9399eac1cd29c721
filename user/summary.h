/* SPDX-License-Identifier: BSD-2-Clause */
/* The closing summary of replay and run: top clusters, indicators and
 * decisions by kind, and what the blocking layer dropped or would drop. */
#ifndef HS_USER_SUMMARY_H
#define HS_USER_SUMMARY_H

#include <stdio.h>

#include "pipeline.h"
#include "report.h"

void summary_print(FILE *out, enum out_format fmt, struct pipeline *pl,
		   int stats_fd);

#endif
