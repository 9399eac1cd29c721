// SPDX-License-Identifier: BSD-2-Clause
/*
 * Network class from whichever MaxMind-format fields the database has, so
 * that commercial databases and an operator's own work alike:
 *  - hydrascope_class: "residential" | "mobile" | "hosting" | "business"
 *    (an operator-built database, e.g. with MaxMind::DB::Writer);
 *  - user_type or traits.user_type (GeoIP2 Enterprise/Insights):
 *    residential, cellular, hosting/content_delivery, business and the
 *    institutional types;
 *  - is_residential_proxy / is_hosting_provider (GeoIP2 Anonymous IP);
 *  - connection_type or traits.connection_type (GeoIP2 Connection-Type):
 *    Cable/DSL, Dialup, Satellite -> residential, Cellular -> mobile,
 *    Corporate -> business.
 * The AS number and organisation come from autonomous_system_number and
 * autonomous_system_organization (GeoLite2-ASN, GeoIP2 ISP), or traits.*.
 */
#include "fingerprint/asndb.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <maxminddb.h>

#include "lib/addr.h"

struct asndb {
	MMDB_s mmdb;
};

static const char *const class_names[NET_COUNT] = {
    [NET_UNKNOWN] = "unknown",	 [NET_RESIDENTIAL] = "residential",
    [NET_MOBILE] = "mobile",	 [NET_HOSTING] = "hosting",
    [NET_BUSINESS] = "business",
};

const char *net_class_name(enum net_class c)
{
	return c < NET_COUNT ? class_names[c] : "unknown";
}

struct asndb *asndb_open(const char *path, char *err, size_t errlen)
{
	struct asndb *db = calloc(1, sizeof(*db));
	int rc;

	if (!db) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rc = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb);
	if (rc != MMDB_SUCCESS) {
		snprintf(err, errlen, "--asn-db %s: %s%s%s", path,
			 MMDB_strerror(rc), rc == MMDB_IO_ERROR ? ": " : "",
			 rc == MMDB_IO_ERROR ? strerror(errno) : "");
		free(db);
		return NULL;
	}
	return db;
}

void asndb_close(struct asndb *db)
{
	if (!db)
		return;
	MMDB_close(&db->mmdb);
	free(db);
}

/* A string field at path (NULL-terminated list), copied into buf. */
static bool get_str(MMDB_entry_s *e, char *buf, size_t cap,
		    const char *const *path)
{
	MMDB_entry_data_s d;

	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_UTF8_STRING)
		return false;
	snprintf(buf, cap, "%.*s", (int)d.data_size, d.utf8_string);
	return true;
}

static bool get_bool(MMDB_entry_s *e, const char *const *path)
{
	MMDB_entry_data_s d;

	return MMDB_aget_value(e, &d, path) == MMDB_SUCCESS && d.has_data &&
	       d.type == MMDB_DATA_TYPE_BOOLEAN && d.boolean;
}

static uint32_t get_u32(MMDB_entry_s *e, const char *const *path)
{
	MMDB_entry_data_s d;

	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data)
		return 0;
	switch (d.type) {
	case MMDB_DATA_TYPE_UINT16: return d.uint16;
	case MMDB_DATA_TYPE_UINT32: return d.uint32;
	case MMDB_DATA_TYPE_INT32: return d.int32 > 0 ? (uint32_t)d.int32 : 0;
	case MMDB_DATA_TYPE_UINT64:
		return d.uint64 <= UINT32_MAX ? (uint32_t)d.uint64 : 0;
	}
	return 0;
}

static enum net_class class_of_name(const char *v)
{
	static const struct {
		const char *name;
		enum net_class c;
	} map[] = {
	    {"residential", NET_RESIDENTIAL},
	    {"Cable/DSL", NET_RESIDENTIAL},
	    {"Dialup", NET_RESIDENTIAL},
	    {"Satellite", NET_RESIDENTIAL},
	    {"mobile", NET_MOBILE},
	    {"cellular", NET_MOBILE},
	    {"Cellular", NET_MOBILE},
	    {"hosting", NET_HOSTING},
	    {"content_delivery", NET_HOSTING},
	    {"business", NET_BUSINESS},
	    {"Corporate", NET_BUSINESS},
	    {"government", NET_BUSINESS},
	    {"college", NET_BUSINESS},
	    {"school", NET_BUSINESS},
	    {"library", NET_BUSINESS},
	    {"military", NET_BUSINESS},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].name, v))
			return map[i].c;
	return NET_UNKNOWN;
}

static enum net_class classify(MMDB_entry_s *e)
{
	static const char *const own[] = {"hydrascope_class", NULL};
	static const char *const ut[] = {"user_type", NULL};
	static const char *const tut[] = {"traits", "user_type", NULL};
	static const char *const ct[] = {"connection_type", NULL};
	static const char *const tct[] = {"traits", "connection_type", NULL};
	static const char *const resp[] = {"is_residential_proxy", NULL};
	static const char *const host[] = {"is_hosting_provider", NULL};
	const char *const *const strs[] = {own, ut, tut, ct, tct};
	char v[64];
	size_t i;

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		enum net_class c;

		if (get_str(e, v, sizeof(v), strs[i]) &&
		    (c = class_of_name(v)) != NET_UNKNOWN)
			return c;
		if (i == 2) { /* the Anonymous-IP flags rank after user_type */
			if (get_bool(e, resp))
				return NET_RESIDENTIAL;
			if (get_bool(e, host))
				return NET_HOSTING;
		}
	}
	return NET_UNKNOWN;
}

void asndb_lookup(const struct asndb *db, const struct hs_addr *a,
		  struct asn_info *info)
{
	static const char *const asn[] = {"autonomous_system_number", NULL};
	static const char *const tasn[] = {"traits", "autonomous_system_number",
					   NULL};
	static const char *const org[] = {"autonomous_system_organization",
					  NULL};
	static const char *const torg[] = {
	    "traits", "autonomous_system_organization", NULL};
	struct sockaddr_storage ss = {0};
	MMDB_lookup_result_s r;
	int mmerr = 0;

	memset(info, 0, sizeof(*info));
	if (!db)
		return;
	if (addr_is_v4(a)) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a->b + 12, 4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->b, 16);
	}
	r = MMDB_lookup_sockaddr(&db->mmdb, (struct sockaddr *)&ss, &mmerr);
	if (mmerr != MMDB_SUCCESS || !r.found_entry)
		return;
	info->asn = get_u32(&r.entry, asn);
	if (!info->asn)
		info->asn = get_u32(&r.entry, tasn);
	if (!get_str(&r.entry, info->org, sizeof(info->org), org))
		get_str(&r.entry, info->org, sizeof(info->org), torg);
	info->cls = classify(&r.entry);
}
