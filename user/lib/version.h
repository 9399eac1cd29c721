/* SPDX-License-Identifier: BSD-2-Clause */
/* What was built and where it was meant to be installed (the Makefile's
 * VERSION and PREFIX), and where its data files are found. */
#ifndef HS_USER_VERSION_H
#define HS_USER_VERSION_H

#include <stddef.h>

extern const char hs_version[];
extern const char hs_datadir[];	   /* $(PREFIX)/share/hydrascope */
extern const char hs_sysconfdir[]; /* /etc/hydrascope */

/* The path of a data file (rel: "p0f/hydrascope.fp") into buf; 0 if it
 * is readable there, -1 if not (buf then holds where it was looked for).
 * Looked for in $HYDRASCOPE_DATADIR when set, else in the source tree
 * when this binary runs from its build directory, else in hs_datadir;
 * never relative to the working directory, so that a capture gives the
 * same result wherever it is replayed from. */
int hs_data_path(const char *rel, char *buf, size_t cap);

#endif
