// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests for what bounds userspace memory: the string pool, the raw
 * fingerprint forms rebuilt from packed fields, the collector's budget and
 * the chunked table (ASan/UBSan build). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fingerprint/hello.h"
#include "fingerprint/tls_fp.h"
#include "frames.h"
#include "ingest/collector.h"
#include "lib/strpool.h"
#include "lib/table.h"

static void test_strpool_refcount(void **state)
{
	struct strpool *p = strpool_new(SIZE_MAX);
	struct strpool_stats st;
	uint32_t a, b, c;
	bool created;
	size_t len;

	(void)state;
	assert_non_null(p);
	a = strpool_intern(p, "abc", 3, &created);
	assert_true(a && created);
	b = strpool_intern(p, "abc", 3, &created);
	assert_int_equal(a, b);
	assert_false(created);
	c = strpool_intern(p, "abd", 3, NULL);
	assert_true(c && c != a);
	assert_string_equal(strpool_get(p, a, &len), "abc");
	assert_int_equal(len, 3);
	/* contents with NULs are byte strings: length counts */
	assert_int_not_equal(strpool_intern(p, "ab\0x", 4, NULL),
			     strpool_intern(p, "ab\0y", 4, NULL));
	strpool_get_stats(p, &st);
	assert_int_equal(st.strings, 4);
	assert_false(strpool_put(p, a)); /* one reference left */
	assert_true(strpool_put(p, b));	 /* the last one */
	assert_null(strpool_get(p, a, NULL));
	strpool_get_stats(p, &st);
	assert_int_equal(st.strings, 3);
	/* a freed id is reused for the next new string */
	assert_int_equal(strpool_intern(p, "new", 3, NULL), a);
	assert_null(strpool_get(p, 0, NULL));
	assert_false(strpool_put(p, 0));
	strpool_free(p);
}

/* Past the budget a new string is refused and counted; what is held stays
 * within it; freeing makes room again. */
static void test_strpool_budget(void **state)
{
	char s[64];
	size_t one = sizeof(uint64_t) * 2 + 32 + 1 + STRPOOL_ITEM_OVERHEAD;
	struct strpool *p = strpool_new(3 * one);
	struct strpool_stats st;
	uint32_t ids[4];

	(void)state;
	assert_non_null(p);
	for (int i = 0; i < 4; i++) {
		snprintf(s, sizeof(s), "%032d", i);
		ids[i] = strpool_intern(p, s, 32, NULL);
	}
	assert_true(ids[0] && ids[1] && ids[2]);
	assert_int_equal(ids[3], 0);
	strpool_get_stats(p, &st);
	assert_int_equal(st.refused, 1);
	assert_true(st.bytes <= 3 * one);
	/* a string already held costs nothing more */
	snprintf(s, sizeof(s), "%032d", 1);
	assert_int_equal(strpool_intern(p, s, 32, NULL), ids[1]);
	assert_true(strpool_put(p, ids[0]));
	snprintf(s, sizeof(s), "%032d", 3);
	assert_int_not_equal(strpool_intern(p, s, 32, NULL), 0);
	strpool_free(p);
}

/* Many strings in and half of them out: probing and the backward shift
 * keep every remaining one findable. */
static void test_strpool_many(void **state)
{
	struct strpool *p = strpool_new(SIZE_MAX);
	enum { N = 20000 };
	uint32_t *ids = calloc(N, sizeof(*ids));
	char s[32];

	(void)state;
	assert_non_null(p);
	assert_non_null(ids);
	for (int i = 0; i < N; i++) {
		snprintf(s, sizeof(s), "s%d", i);
		ids[i] = strpool_intern(p, s, strlen(s), NULL);
		assert_int_not_equal(ids[i], 0);
	}
	for (int i = 0; i < N; i += 2)
		assert_true(strpool_put(p, ids[i]));
	for (int i = 1; i < N; i += 2) {
		snprintf(s, sizeof(s), "s%d", i);
		assert_string_equal(strpool_get(p, ids[i], NULL), s);
		assert_int_equal(strpool_intern(p, s, strlen(s), NULL), ids[i]);
	}
	free(ids);
	strpool_free(p);
}

static size_t put16(uint8_t *b, size_t o, uint16_t v)
{
	b[o] = (uint8_t)(v >> 8);
	b[o + 1] = (uint8_t)v;
	return o + 2;
}

/* A hello with every list JA3 and JA4 read: GREASE in ciphers, extensions,
 * groups and signature algorithms; SNI and ALPN; EC point formats. */
static size_t rich_hello(uint8_t *b)
{
	static const uint16_t ciphers[] = {0x2a2a, 0x1302, 0x1301,
					   0xc02b, 0x1303, 0xcca9};
	static const uint16_t groups[] = {0xdada, 0x001d, 0x0017, 0x0018};
	static const uint16_t sigs[] = {0x0403, 0x7a7a, 0x0804, 0x0401};
	size_t o = 0, hs, ext, e, i;
	const char host[] = "example.org";

	b[o++] = 0x16;
	b[o++] = 3;
	b[o++] = 1;
	o += 2;
	hs = o;
	b[o++] = 1;
	o += 3;
	o = put16(b, o, 0x0303);
	memset(b + o, 7, 32);
	o += 32;
	b[o++] = 0;
	o = put16(b, o, sizeof(ciphers));
	for (i = 0; i < 6; i++)
		o = put16(b, o, ciphers[i]);
	b[o++] = 1;
	b[o++] = 0;
	ext = o;
	o += 2;
	o = put16(b, o, 0x3a3a); /* GREASE extension */
	o = put16(b, o, 0);
	o = put16(b, o, 0x0000); /* SNI */
	o = put16(b, o, (uint16_t)(5 + strlen(host)));
	o = put16(b, o, (uint16_t)(3 + strlen(host)));
	b[o++] = 0;
	o = put16(b, o, (uint16_t)strlen(host));
	memcpy(b + o, host, strlen(host));
	o += strlen(host);
	o = put16(b, o, 0x000a); /* groups */
	o = put16(b, o, 2 + sizeof(groups));
	o = put16(b, o, sizeof(groups));
	for (i = 0; i < 4; i++)
		o = put16(b, o, groups[i]);
	o = put16(b, o, 0x000b); /* EC point formats */
	o = put16(b, o, 3);
	b[o++] = 2;
	b[o++] = 0;
	b[o++] = 1;
	o = put16(b, o, 0x000d); /* signature algorithms */
	o = put16(b, o, 2 + sizeof(sigs));
	o = put16(b, o, sizeof(sigs));
	for (i = 0; i < 4; i++)
		o = put16(b, o, sigs[i]);
	o = put16(b, o, 0x0010); /* ALPN: h2, http/1.1 */
	o = put16(b, o, 14);
	o = put16(b, o, 12);
	b[o++] = 2;
	memcpy(b + o, "h2", 2);
	o += 2;
	b[o++] = 8;
	memcpy(b + o, "http/1.1", 8);
	o += 8;
	o = put16(b, o, 0x002b); /* supported versions: 1.3 */
	o = put16(b, o, 3);
	b[o++] = 2;
	o = put16(b, o, 0x0304);
	e = o;
	put16(b, ext, (uint16_t)(e - ext - 2));
	put16(b, 3, (uint16_t)(e - 5));
	b[hs + 1] = 0;
	put16(b, hs + 2, (uint16_t)(e - hs - 4));
	return e;
}

/* fp_raw() rebuilds exactly what fp_compute() makes. */
static void test_fp_raw_matches(void **state)
{
	uint8_t buf[1024];
	uint16_t packed[FP_FIELDS_MAX / 2];
	struct tls_hello *h = malloc(sizeof(*h));
	struct tls_fp full, hashed;
	size_t n = rich_hello(buf), plen;
	char *s;

	(void)state;
	assert_non_null(h);
	assert_int_equal(hello_parse(buf, n, h), HELLO_OK);
	assert_int_equal(fp_compute(h, &full), 0);
	assert_string_equal(full.ja3_str,
			    "771,4866-4865-49195-4867-52393,0-10-11-13-16-43,"
			    "29-23-24,0-1");
	assert_memory_equal(full.ja4, "t13d0506h2_", 11);
	assert_int_equal(
	    fp_compute_hashed(h, &hashed, (uint8_t *)packed, &plen, NULL), 0);
	assert_string_equal(hashed.ja3, full.ja3);
	assert_string_equal(hashed.ja4, full.ja4);
	assert_string_equal(hashed.ja4_o, full.ja4_o);
	assert_null(hashed.ja4_r);
	s = fp_raw((uint8_t *)packed, plen, hashed.ja4, FP_JA3_STR);
	assert_string_equal(s, full.ja3_str);
	free(s);
	s = fp_raw((uint8_t *)packed, plen, hashed.ja4, FP_JA4_R);
	assert_string_equal(s, full.ja4_r);
	assert_string_equal(s, "t13d0506h2_1301,1302,1303,c02b,cca9_000a,"
			       "000b,000d,002b_0403,0804,0401");
	free(s);
	s = fp_raw((uint8_t *)packed, plen, hashed.ja4, FP_JA4_RO);
	assert_string_equal(s, full.ja4_ro);
	free(s);
	/* fields that do not add up are refused */
	assert_null(fp_raw((uint8_t *)packed, plen - 1, hashed.ja4, FP_JA4_R));
	fp_free(&full);
	free(h);
}

/* The longest JA3 string for its lists: version 65535 and empty lists
 * ("65535,,,,", found by fuzz_collector overrunning its buffer). */
static void test_ja3_longest_empty(void **state)
{
	uint8_t buf[256];
	struct tls_hello *h = malloc(sizeof(*h));
	struct tls_fp fp;
	size_t n = hello_build(buf, sizeof(buf), NULL, 0, NULL, 0, 0);

	(void)state;
	assert_non_null(h);
	buf[9] = buf[10] = 0xff; /* legacy_version */
	assert_int_equal(hello_parse(buf, n, h), HELLO_OK);
	assert_int_equal(fp_compute(h, &fp), 0);
	assert_string_equal(fp.ja3_str, "65535,,,,");
	fp_free(&fp);
	free(h);
}

static void feed(struct collector *c, struct hs_hello_seg *ev, uint16_t port,
		 const uint8_t *hello, size_t n)
{
	ev->key.cport = port;
	memcpy(ev->data, hello, n);
	ev->seg_len = (uint32_t)n;
	collector_on_event(c, ev, offsetof(struct hs_hello_seg, data) + n);
}

/* A flow keeps its hashes whatever the budget; the raw forms come back
 * from the fields while they fit, and what does not fit is counted. One
 * record per distinct hello, however many flows send it. */
static void test_collector_budget(void **state)
{
	uint16_t ciphers[300], exts[8] = {0x000a, 0x000d, 0x002b, 0x0017};
	struct hs_hello_seg *ev = calloc(1, sizeof(*ev));
	struct collector *c = collector_new(64, 8);
	struct collector_stats st;
	struct hs_flow_key k = {0};
	struct fp_view v;
	uint8_t hello[2048];
	size_t n;
	char *raw;

	(void)state;
	assert_non_null(ev);
	assert_non_null(c);
	ev->hdr.type = HS_EV_HELLO_SEG;
	/* room for the empty SNI and one set of fields (~700 B) */
	collector_set_fp_budget(c, 1000);
	for (uint16_t port = 1; port <= 3; port++) {
		for (int i = 0; i < 300; i++)
			ciphers[i] = (uint16_t)(0x0100 + i + (port == 2));
		n = hello_build(hello, sizeof(hello), ciphers, 300, exts, 4, 0);
		feed(c, ev, port, hello, n); /* 1 and 3 are the same hello */
	}
	collector_get_stats(c, &st);
	assert_int_equal(st.hellos, 3);
	assert_int_equal(st.fp_records, 2);
	assert_int_equal(st.fp_strings_dropped, 1);
	assert_true(st.fp_string_bytes <= 1000);
	k.cport = 1;
	assert_true(collector_view(c, &k, &v));
	assert_int_equal(v.err, HELLO_OK);
	assert_non_null(v.sni);
	raw = collector_raw(c, &v, FP_JA4_R);
	assert_non_null(raw);
	assert_memory_equal(raw, "t12i990400_0100,0101,", 21);
	free(raw);
	k.cport = 2;
	assert_true(collector_view(c, &k, &v));
	assert_int_equal(strlen(v.ja4), 36); /* hashes kept */
	assert_int_equal(v.fields, 0);	     /* fields dropped */
	assert_null(collector_raw(c, &v, FP_JA3_STR));
	collector_free(c);
	free(ev);
}

/* Values stay where they are while other entries come and go, and freed
 * entries are reused: memory follows the live entries, not the history. */
static void test_table_entries(void **state)
{
	struct table *t = table_new(5000, 16, 24, NULL);
	uint64_t key[2] = {0, 0}, *first;

	(void)state;
	assert_non_null(t);
	key[0] = 1;
	first = table_get_or_add(t, key, NULL);
	first[0] = 42;
	for (int round = 0; round < 20; round++) {
		for (uint64_t i = 2; i < 4000; i++) {
			uint64_t *v;

			key[0] = i;
			key[1] = (uint64_t)round;
			v = table_get_or_add(t, key, NULL);
			assert_non_null(v);
			assert_int_equal(v[0], 0); /* zeroed, even reused */
			v[0] = i;
		}
		for (uint64_t i = 2; i < 4000; i++) {
			key[0] = i;
			key[1] = (uint64_t)round;
			assert_int_equal(*(uint64_t *)table_get(t, key), i);
			table_del(t, key);
		}
	}
	key[0] = 1;
	key[1] = 0;
	assert_ptr_equal(table_get(t, key), first);
	assert_int_equal(first[0], 42);
	assert_int_equal(table_len(t), 1);
	assert_int_equal(table_evictions(t), 0);
	table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strpool_refcount),
	    cmocka_unit_test(test_strpool_budget),
	    cmocka_unit_test(test_strpool_many),
	    cmocka_unit_test(test_fp_raw_matches),
	    cmocka_unit_test(test_ja3_longest_empty),
	    cmocka_unit_test(test_collector_budget),
	    cmocka_unit_test(test_table_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
