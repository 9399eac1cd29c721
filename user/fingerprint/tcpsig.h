/* SPDX-License-Identifier: BSD-2-Clause */
/* TCP SYN signatures in p0f-v3 form and matching against p0f databases. */
#ifndef HS_USER_TCPSIG_H
#define HS_USER_TCPSIG_H

#include <stdbool.h>
#include <stddef.h>

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

/* OS class of the TCP side: from the p0f match's name, else (no match)
 * from the initial TTL alone (128 Windows, 64 a Unix-like, 255 gear). */
enum os_class {
	OS_UNKNOWN = 0,
	OS_LINUX, /* Linux and Android (one TCP stack) */
	OS_WINDOWS,
	OS_APPLE, /* macOS and iOS */
	OS_BSD,
	OS_OTHER, /* network gear, legacy Unix */
	OS_UNIX,  /* no p0f match, initial TTL 64: some Unix-like */
	OS_COUNT
};

enum os_class tcpsig_os_class(const struct hs_tcp_sig *s,
			      const struct p0f_match *m);
const char *os_class_name(enum os_class c);

#endif
