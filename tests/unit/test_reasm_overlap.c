// SPDX-License-Identifier: BSD-2-Clause
/*
 * Collector reassembly of a ClientHello over overlapping segments (issue
 * 10, row 5): the first writer wins, as with the server's TCP, which
 * never replaces bytes it has taken in order. A raw-socket segment that
 * overlaps the hello with other bytes must not change the fingerprint
 * userspace computes (the kernel walks the hello in order, so it would
 * differ from the kernel's too). The other bytes are a conflict, flagged:
 * whether sent during the capture or resent after it (compared with the
 * kept copy, never taken); identical bytes are a retransmission; a resend
 * whose copy was pushed out is flagged unchecked; a new hello on the same
 * addresses and ports starts clean.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "frames.h"
#include "ingest/collector.h"

static void feed_flags(struct collector *c, const struct hs_flow_key *k,
		       const uint8_t *data, uint32_t off, uint32_t len,
		       uint32_t flags)
{
	static struct hs_hello_seg ev;

	memset(&ev, 0, offsetof(struct hs_hello_seg, data));
	ev.flags = flags;
	ev.hdr.type = HS_EV_HELLO_SEG;
	ev.hdr.len = len;
	ev.key = *k;
	ev.ts_ns = 1;
	ev.offset = off;
	ev.seg_len = len;
	memcpy(ev.data, data, len);
	collector_on_event(c, &ev, offsetof(struct hs_hello_seg, data) + len);
}

static void feed(struct collector *c, const struct hs_flow_key *k,
		 const uint8_t *data, uint32_t off, uint32_t len)
{
	feed_flags(c, k, data, off, len, 0);
}

static void test_first_writer_wins(void **state)
{
	static const uint16_t ciphers[] = {0x1301, 0x1302, 0x1303, 0xc02b,
					   0xc02f, 0xc02c, 0xc030, 0xcca9};
	static const uint16_t exts[] = {0x0000, 0x000a, 0x000d,
					0x002b, 0x0033, 0x0010};
	uint8_t hello[2048], junk[2048];
	struct collector *c = collector_new(64, 16);
	struct hs_flow_key clean = {.cport = 1}, first = {.cport = 2},
			   later = {.cport = 3};
	struct fp_view a, b, d;
	size_t n = hello_build(hello, sizeof(hello), ciphers, 8, exts, 6, 0);

	(void)state;
	assert_non_null(c);
	assert_true(n > 120);
	/* the same length, other cipher suites and extensions past byte 40 */
	memcpy(junk, hello, n);
	for (size_t i = 60; i < n; i++)
		junk[i] ^= 0x5a;

	feed(c, &clean, hello, 0, (uint32_t)n);
	/* the real bytes first, then a segment rewriting 40 of them with
	 * junk, then the rest */
	feed(c, &first, hello, 0, 100);
	feed(c, &first, junk + 60, 60, 40);
	feed(c, &first, hello + 100, 100, (uint32_t)n - 100);
	/* a junk segment ahead of the real one: it was there first */
	feed(c, &later, hello, 0, 50);
	feed(c, &later, junk + 50, 50, 30);
	feed(c, &later, hello + 50, 50, (uint32_t)n - 50);

	assert_true(collector_view(c, &clean, &a));
	assert_true(collector_view(c, &first, &b));
	assert_int_equal(a.err, HELLO_OK);
	assert_int_equal(b.err, HELLO_OK);
	assert_string_equal(a.ja4, b.ja4);
	assert_string_equal(a.ja3, b.ja3);
	/* later: what arrived first (junk) stays, whatever it parses to */
	assert_true(!collector_view(c, &later, &d) || d.err != HELLO_OK ||
		    strcmp(a.ja4, d.ja4) != 0);
	assert_false(a.conflict);
	assert_true(b.conflict);
	collector_free(c);
}

static void test_resend_conflict(void **state)
{
	static const uint16_t ciphers[] = {0x1301, 0x1302, 0xc02b};
	static const uint16_t exts[] = {0x0000, 0x000a, 0x0010};
	uint8_t hello[1024], other[1024];
	struct collector *c = collector_new(64, 2);
	struct hs_flow_key same = {.cport = 1}, diff = {.cport = 2},
			   gone = {.cport = 3}, k;
	struct collector_stats st;
	struct fp_view v;
	size_t n = hello_build(hello, sizeof(hello), ciphers, 3, exts, 3, 0);
	uint16_t p;

	(void)state;
	assert_non_null(c);
	memcpy(other, hello, n);
	other[n - 3] ^= 0x01; /* one byte of the last extension */
	feed_flags(c, &same, hello, 0, (uint32_t)n, HS_SEG_FIRST);
	feed_flags(c, &diff, hello, 0, (uint32_t)n, HS_SEG_FIRST);
	/* resent after the capture: the same bytes, then other bytes */
	feed_flags(c, &same, hello + 10, 10, 50, HS_SEG_RESEND);
	feed_flags(c, &diff, other, 0, (uint32_t)n, HS_SEG_RESEND);
	assert_true(collector_view(c, &same, &v));
	assert_false(v.conflict);
	assert_true(collector_view(c, &diff, &v));
	assert_true(v.conflict);
	assert_int_equal(v.err, HELLO_OK); /* the first bytes' fingerprint */
	/* a new connection on the same addresses and ports starts clean */
	feed_flags(c, &diff, other, 0, (uint32_t)n, HS_SEG_FIRST);
	assert_true(collector_view(c, &diff, &v));
	assert_false(v.conflict);
	/* the copy of gone's hello pushed out by later hellos (two kept):
	 * a resend cannot be compared, and is flagged all the same */
	feed_flags(c, &gone, hello, 0, (uint32_t)n, HS_SEG_FIRST);
	for (p = 10; p < 20; p++) {
		k = (struct hs_flow_key){.cport = p};
		feed_flags(c, &k, hello, 0, (uint32_t)n, HS_SEG_FIRST);
	}
	feed_flags(c, &gone, hello, 0, (uint32_t)n, HS_SEG_RESEND);
	assert_true(collector_view(c, &gone, &v));
	assert_true(v.conflict);
	collector_get_stats(c, &st);
	assert_int_equal(st.hello_conflicts, 1);
	assert_int_equal(st.hello_resends_unchecked, 1);
	assert_true(st.kept_evictions > 0);
	collector_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_writer_wins),
	    cmocka_unit_test(test_resend_conflict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
