// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for the userspace parsers and helpers (ASan/UBSan build). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/addr.h"
#include "ingest/collector.h"
#include "fingerprint/tls_fp.h"
#include "frames.h"
#include "fingerprint/hello.h"
#include "hydrascope/tuple.h"
#include "lib/table.h"
#include "fingerprint/tcpsig.h"

static void test_grease(void **state)
{
	(void)state;
	assert_true(hs_is_grease(0x0a0a));
	assert_true(hs_is_grease(0xfafa));
	assert_false(hs_is_grease(0x0a1a));
	assert_false(hs_is_grease(0x1301));
}

static void test_hello_errors(void **state)
{
	static const uint16_t c[] = {0x1301};
	static const uint16_t e[] = {0x000a};
	uint8_t buf[512];
	struct tls_hello *h = malloc(sizeof(*h));
	size_t n = hello_build(buf, sizeof(buf), c, 1, e, 1, 2);
	size_t cut;

	(void)state;
	assert_int_equal(hello_parse(buf, n, h), HELLO_OK);
	assert_int_equal(h->n_ciphers, 1);
	assert_int_equal(h->n_exts, 1);
	for (cut = 0; cut < n; cut++)
		assert_int_equal(hello_parse(buf, cut, h), HELLO_INCOMPLETE);
	buf[0] = 0x17;
	assert_int_equal(hello_parse(buf, n, h), HELLO_NOT_TLS);
	buf[0] = 0x16;
	buf[5] = 0x02;
	assert_int_equal(hello_parse(buf, n, h), HELLO_NOT_CH);
	buf[5] = 0x01;
	buf[n - 3] = 0xff; /* extension length beyond the list */
	assert_int_equal(hello_parse(buf, n, h), HELLO_BAD_LENGTH);
	free(h);
}

/* A hello spread over two TLS records is joined; its needed length counts
 * both record headers. */
static void test_hello_multi_record(void **state)
{
	static const uint16_t c[] = {0x1301, 0x1302};
	static const uint16_t e[] = {0x000a, 0x002b};
	uint8_t one[512], two[600];
	struct tls_hello *h = malloc(sizeof(*h));
	size_t n = hello_build(one, sizeof(one), c, 2, e, 2, 3), body = n - 5;
	size_t split = body / 2;

	(void)state;
	/* record 1: first half, record 2: second half */
	memcpy(two, one, 5);
	two[3] = (uint8_t)(split >> 8);
	two[4] = (uint8_t)split;
	memcpy(two + 5, one + 5, split);
	two[5 + split] = 0x16;
	two[6 + split] = 0x03;
	two[7 + split] = 0x01;
	two[8 + split] = (uint8_t)((body - split) >> 8);
	two[9 + split] = (uint8_t)(body - split);
	memcpy(two + 10 + split, one + 5 + split, body - split);
	assert_int_equal(hello_needed(two, n + 5), n + 5);
	assert_int_equal(hello_parse(two, n + 5, h), HELLO_OK);
	assert_true(h->multi_record);
	assert_int_equal(h->n_ciphers, 2);
	assert_int_equal(h->n_exts, 2);
	free(h);
}

static void test_ja4_known_vector(void **state)
{
	/* Shape of curl's hello: JA4 prefix from counts, SNI and ALPN. */
	static const uint16_t c[] = {0x1302, 0x1303, 0x1301, 0x3a3a};
	static const uint16_t e[] = {0x002b, 0x0033};
	uint8_t buf[512];
	struct tls_hello *h = malloc(sizeof(*h));
	struct tls_fp fp;
	size_t n = hello_build(buf, sizeof(buf), c, 4, e, 2, 0);

	(void)state;
	assert_int_equal(hello_parse(buf, n, h), HELLO_OK);
	assert_int_equal(fp_compute(h, &fp), 0);
	/* 3 ciphers (GREASE dropped), 2 extensions, no SNI, no ALPN;
	 * supported_versions is empty, so the record version 0x0303 */
	assert_memory_equal(fp.ja4, "t12i030200_", 11);
	/* JA4_r: sorted ciphers, sorted extensions, no signature algorithms */
	assert_string_equal(fp.ja4_r, "t12i030200_1301,1302,1303_002b,0033");
	assert_string_equal(fp.ja3_str, "771,4866-4867-4865,43-51,,");
	fp_free(&fp);
	free(h);
}

static void test_cidr(void **state)
{
	struct cidr c;
	struct hs_addr a;
	uint8_t v4[4] = {10, 1, 2, 3};

	(void)state;
	assert_int_equal(cidr_parse("10.0.0.0/8", &c), 0);
	addr_from_v4(&a, v4);
	assert_true(cidr_contains(&c, &a));
	assert_int_equal(cidr_parse("10.1.2.0/31", &c), 0);
	assert_false(cidr_contains(&c, &a));
	assert_int_equal(cidr_parse("fd00::/8", &c), 0);
	assert_false(cidr_contains(&c, &a));
	assert_int_equal(cidr_parse("10.0.0.0/33", &c), -1);
	assert_int_equal(cidr_parse("banana", &c), -1);
	assert_int_equal(cidr_parse("/8", &c), -1);
	assert_int_equal(cidr_parse("1.2.3.4/x", &c), -1);
	assert_int_equal(cidr_parse("::/0", &c), 0);
	assert_true(cidr_contains(&c, &a));
}

/* Hellos in progress and fingerprints live in bounded tables; what full
 * tables push out is counted, not lost silently. */
static void test_collector_bounded(void **state)
{
	static const uint16_t ciphers[] = {0x1301, 0x1302};
	static const uint16_t exts[] = {0x000a, 0x000d};
	struct hs_hello_seg *ev = calloc(1, sizeof(*ev));
	struct collector *c = collector_new(1, 2);
	struct collector_stats st;
	uint8_t hello[512];
	size_t n = hello_build(hello, sizeof(hello), ciphers, 2, exts, 2, 4);
	uint32_t i;

	(void)state;
	assert_non_null(ev);
	assert_non_null(c);
	assert_true(n > 40);
	ev->hdr.type = HS_EV_HELLO_SEG;
	/* three hellos cut after 20 bytes: the third pushes the first out */
	for (i = 1; i <= 3; i++) {
		ev->key.sport = (uint16_t)i;
		memcpy(ev->data, hello, 20);
		ev->seg_len = 20;
		collector_on_event(c, ev,
				   offsetof(struct hs_hello_seg, data) + 20);
	}
	collector_get_stats(c, &st);
	assert_int_equal(st.segments, 3);
	assert_int_equal(st.hellos, 0);
	assert_int_equal(st.reasm_evictions, 1);
	/* two whole hellos: fingerprints of the second push out the first */
	for (i = 4; i <= 5; i++) {
		ev->key.sport = (uint16_t)i;
		memcpy(ev->data, hello, n);
		ev->seg_len = (uint32_t)n;
		collector_on_event(c, ev,
				   offsetof(struct hs_hello_seg, data) + n);
	}
	collector_get_stats(c, &st);
	assert_int_equal(st.hellos, 2);
	assert_int_equal(st.reasm_evictions, 2);
	assert_int_equal(st.fp_evictions, 1);
	collector_free(c);
	free(ev);
}

static void test_table_bounded(void **state)
{
	struct table *t = table_new(100, 8, sizeof(uint64_t), NULL);
	uint64_t k, *v;
	size_t found = 0;

	(void)state;
	assert_non_null(t);
	for (k = 1; k <= 1000; k++) {
		v = table_get_or_add(t, &k, NULL);
		assert_non_null(v);
		*v = k * 3;
	}
	assert_int_equal(table_len(t), 100);
	assert_int_equal(table_evictions(t), 900);
	for (k = 1; k <= 1000; k++) {
		v = table_get(t, &k);
		if (v) {
			assert_int_equal(*v, k * 3);
			found++;
		}
	}
	assert_int_equal(found, 100);
	k = 1000;
	table_del(t, &k);
	assert_null(table_get(t, &k));
	assert_int_equal(table_len(t), 99);
	table_free(t);
}

static void test_tcpsig_format(void **state)
{
	struct hs_tcp_sig s = {.ip_ver = 4,
			       .ttl = 126,
			       .mss = 1460,
			       .win = 64240,
			       .wscale = 8,
			       .has_ws = 1,
			       .opt_cnt = 6,
			       .quirks = HS_Q_DF | HS_Q_NZ_ID,
			       .hdr_len = 52,
			       .opts = {HS_OPT_MSS, HS_OPT_NOP, HS_OPT_WS,
					HS_OPT_NOP, HS_OPT_NOP, HS_OPT_SOK}};
	char out[256];

	(void)state;
	tcpsig_format(&s, out, sizeof(out));
	assert_string_equal(
	    out, "4:126+2:0:1460:mss*44,8:mss,nop,ws,nop,nop,sok:df,id+:0");
	s.win = 65535;
	s.opts[5] = HS_OPT_EOL;
	s.eol_pad = 1;
	tcpsig_format(&s, out, sizeof(out));
	assert_string_equal(
	    out, "4:126+2:0:1460:65535,8:mss,nop,ws,nop,nop,eol+1:df,id+:0");
}

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
	    cmocka_unit_test(test_grease),
	    cmocka_unit_test(test_hello_errors),
	    cmocka_unit_test(test_hello_multi_record),
	    cmocka_unit_test(test_ja4_known_vector),
	    cmocka_unit_test(test_cidr),
	    cmocka_unit_test(test_table_bounded),
	    cmocka_unit_test(test_collector_bounded),
	    cmocka_unit_test(test_tcpsig_format),
	    cmocka_unit_test(test_p0f_db),
	};

	return cmocka_run_group_tests_name("userspace", tests, NULL, NULL);
}
