/* SPDX-License-Identifier: BSD-2-Clause */
/* TCP SYN signatures in p0f-v3 form and matching against p0f databases. */
#ifndef HS_USER_TCPSIG_H
#define HS_USER_TCPSIG_H

#include <stdbool.h>
#include <stddef.h>

#include "fingerprint/os_class.h"
#include "hydrascope/abi.h"

/* p0f's raw_sig: ver:ttl+dist:olen:mss:wsize,scale:olayout:quirks:pclass */
void tcpsig_format(const struct hs_tcp_sig *s, char *out, size_t cap);
/* Hop distance from the guessed initial TTL. */
unsigned tcpsig_distance(const struct hs_tcp_sig *s);

struct p0f_db;

/* Load p0f.fp-format files in priority order (first match wins across
 * files). Returns NULL with a message in err on a parse error. */
struct p0f_db *p0f_db_load(const char *const *paths, size_t n, char *err,
			   size_t errlen);
void p0f_db_free(struct p0f_db *db);
size_t p0f_db_size(const struct p0f_db *db);
/* Signatures loaded from one of the files given to p0f_db_load. */
size_t p0f_db_file_size(const struct p0f_db *db, const char *path);

struct p0f_match {
	const char *label;    /* "s:unix:Linux:3.11 and newer", NULL if none */
	const char *os_class; /* "unix", "win", ... */
	const char *name;     /* "Linux" */
	const char *flavor;   /* "3.11 and newer" */
	bool generic;
	bool fuzzy;
	const char *source; /* file it came from */
};

void p0f_db_match(const struct p0f_db *db, const struct hs_tcp_sig *s,
		  struct p0f_match *m);

enum os_class tcpsig_os_class(const struct hs_tcp_sig *s,
			      const struct p0f_match *m);

#endif
