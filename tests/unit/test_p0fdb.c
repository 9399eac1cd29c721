// SPDX-License-Identifier: BSD-2-Clause
/*
 * The p0f signature database (user/fingerprint/p0fdb.c): specific
 * signatures win over generic ones, and a bad line is refused with its
 * number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fingerprint/tcpsig.h"

static void test_p0f_db(void **state)
{
	char path[] = "/tmp/hs-p0f-XXXXXX", err[256];
	const char *paths[1] = {path};
	struct hs_tcp_sig s = {
	    .ip_ver = 4,
	    .ttl = 60,
	    .mss = 1460,
	    .win = 64240,
	    .wscale = 7,
	    .has_ws = 1,
	    .opt_cnt = 5,
	    .quirks = HS_Q_DF | HS_Q_NZ_ID,
	    .opts = {HS_OPT_MSS, HS_OPT_SOK, HS_OPT_TS, HS_OPT_NOP, HS_OPT_WS}};
	struct p0f_match m;
	struct p0f_db *db;
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	(void)state;
	fputs("[tcp:request]\nlabel = g:unix:Linux:generic\n"
	      "sig = *:64:0:*:*,*:mss,sok,ts,nop,ws:df,id+:0\n"
	      "label = s:unix:Linux:test\n"
	      "sig = 4:64:0:*:mss*44,7:mss,sok,ts,nop,ws:df,id+:0\n"
	      "[http:request]\nsig = not:a:tcp:sig\n",
	      f);
	fclose(f);
	db = p0f_db_load(paths, 1, err, sizeof(err));
	assert_non_null(db);
	assert_int_equal(p0f_db_size(db), 2);
	/* per file: what the empty-file warning counts */
	assert_int_equal(p0f_db_file_size(db, path), 2);
	assert_int_equal(p0f_db_file_size(db, "/etc/p0f/p0f.fp"), 0);
	p0f_db_match(db, &s, &m);
	assert_string_equal(m.label, "s:unix:Linux:test");
	assert_string_equal(m.name, "Linux");
	assert_false(m.fuzzy);
	s.wscale = 9; /* only the generic signature still fits */
	p0f_db_match(db, &s, &m);
	assert_string_equal(m.label, "g:unix:Linux:generic");
	s.opt_cnt = 4; /* different layout: nothing */
	p0f_db_match(db, &s, &m);
	assert_null(m.label);
	p0f_db_free(db);

	f = fopen(path, "w");
	fputs("[tcp:request]\nlabel = s:unix:X:y\nsig = 4:64:0\n", f);
	fclose(f);
	assert_null(p0f_db_load(paths, 1, err, sizeof(err)));
	assert_non_null(strstr(err, ":3: bad signature"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_p0f_db),
	};

	return cmocka_run_group_tests_name("p0fdb", tests, NULL, NULL);
}
