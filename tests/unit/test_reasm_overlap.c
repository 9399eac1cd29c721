// SPDX-License-Identifier: BSD-2-Clause
/*
 * Collector reassembly of a ClientHello over overlapping segments (issue
 * 10, row 5): the first writer wins, as with the server's TCP, which
 * never replaces bytes it has taken in order. A raw-socket segment that
 * overlaps the hello with other bytes must not change the fingerprint
 * userspace computes (the kernel walks the hello in order, so it would
 * differ from the kernel's too).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "frames.h"
#include "ingest/collector.h"

static void feed(struct collector *c, const struct hs_flow_key *k,
		 const uint8_t *data, uint32_t off, uint32_t len)
{
	static struct hs_hello_seg ev;

	memset(&ev, 0, offsetof(struct hs_hello_seg, data));
	ev.hdr.type = HS_EV_HELLO_SEG;
	ev.hdr.len = len;
	ev.key = *k;
	ev.ts_ns = 1;
	ev.offset = off;
	ev.seg_len = len;
	memcpy(ev.data, data, len);
	collector_on_event(c, &ev, offsetof(struct hs_hello_seg, data) + len);
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
	collector_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_writer_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
