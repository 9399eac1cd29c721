/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Optional network database (MaxMind DB format, read with libmaxminddb):
 * the source's autonomous system and the class of its network. Residential
 * and mobile networks are where residential-proxy exit nodes live; hosting
 * networks are where scripted clients usually run.
 */
#ifndef HS_USER_ASNDB_H
#define HS_USER_ASNDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hydrascope/abi.h"

enum net_class {
	NET_UNKNOWN = 0,
	NET_RESIDENTIAL,
	NET_MOBILE,
	NET_HOSTING,
	NET_BUSINESS,
	NET_COUNT
};

struct asn_info {
	uint32_t asn; /* 0: unknown */
	enum net_class cls;
	char org[48];
};

struct asndb;

/* NULL with a one-line reason in err when the file is not a usable
 * MaxMind DB. */
struct asndb *asndb_open(const char *path, char *err, size_t errlen);
void asndb_close(struct asndb *db);
/* Fills info (zeroed when the address is not in the database). */
void asndb_lookup(const struct asndb *db, const struct hs_addr *a,
		  struct asn_info *info);
const char *net_class_name(enum net_class c);

#endif
