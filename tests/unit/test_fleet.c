// SPDX-License-Identifier: BSD-2-Clause
/*
 * The fleet transport's URL (user/output/fleet.c): what --fleet accepts
 * and refuses, one row each. The transport itself runs against a real
 * redis-server in tests/live/fleet_test.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "output/fleet.h"
#include "rows.h"

struct url_row {
	const char *name;
	const char *url;
	bool ok;
	const char *host, *user, *pass;
	unsigned port, db;
};

static const struct url_row rows[] = {
    {"url: host and port", "redis://10.0.0.5:6380", true, "10.0.0.5", "", "",
     6380, 0},
    {"url: the port defaults to 6379", "redis://redis.internal", true,
     "redis.internal", "", "", 6379, 0},
    {"url: a database", "redis://127.0.0.1:6379/3", true, "127.0.0.1", "", "",
     6379, 3},
    {"url: a trailing slash is database 0", "redis://127.0.0.1:6379/", true,
     "127.0.0.1", "", "", 6379, 0},
    {"url: ACL user and password", "redis://fleet:s3cr:et@10.1.1.1:7000/1",
     true, "10.1.1.1", "fleet", "s3cr:et", 7000, 1},
    {"url: password only (requirepass)", "redis://:pw@h:1", true, "h", "", "pw",
     1, 0},
    {"url: an IPv6 host", "redis://u:p@[fd00::1]:6390", true, "fd00::1", "u",
     "p", 6390, 0},
    {"url: another scheme", "rediss://h:6379", false, NULL, NULL, NULL, 0, 0},
    {"url: no host", "redis://:6379", false, NULL, NULL, NULL, 0, 0},
    {"url: port 0", "redis://h:0", false, NULL, NULL, NULL, 0, 0},
    {"url: port 65536", "redis://h:65536", false, NULL, NULL, NULL, 0, 0},
    {"url: a port that is not a number", "redis://h:x", false, NULL, NULL, NULL,
     0, 0},
    {"url: a database that is not a number", "redis://h:1/db", false, NULL,
     NULL, NULL, 0, 0},
    {"url: credentials without a colon", "redis://user@h:1", false, NULL, NULL,
     NULL, 0, 0},
    {"url: an empty password", "redis://user:@h:1", false, NULL, NULL, NULL, 0,
     0},
    {"url: an unclosed IPv6 bracket", "redis://[fd00::1:6390", false, NULL,
     NULL, NULL, 0, 0},
};

static void run_row(void **state)
{
	const struct url_row *r = *state;
	struct fleet_url u;
	char err[256] = "";
	int rc = fleet_parse_url(r->url, &u, err, sizeof(err));

	if (!r->ok) {
		assert_int_equal(rc, -1);
		assert_non_null(strstr(err, "--fleet"));
		return;
	}
	assert_int_equal(rc, 0);
	assert_string_equal(u.host, r->host);
	assert_string_equal(u.user, r->user);
	assert_string_equal(u.pass, r->pass);
	assert_int_equal(u.port, r->port);
	assert_int_equal(u.db, r->db);
}

int main(void)
{
	return ROWS_RUN("fleet", rows, run_row);
}
