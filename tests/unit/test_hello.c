// SPDX-License-Identifier: BSD-2-Clause
/*
 * ClientHello parsing (user/fingerprint/hello.c): every way a hello can be
 * cut or malformed has its own answer, and a hello over several records is
 * joined.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fingerprint/hello.h"
#include "frames.h"

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
 * both record headers, also when the handshake header is the split, and
 * empty records around them, which a server's TLS skips (fails on
 * 5e4b1e9: no ids, the kernel's walk as userspace; found by a helper's
 * review, OpenSSL 3.0 answering such a hello). */
static void test_hello_multi_record(void **state)
{
	static const uint16_t c[] = {0x1301, 0x1302};
	static const uint16_t e[] = {0x000a, 0x002b};
	uint8_t one[512], two[600], three[620];
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
	/* the handshake header itself split: 3 bytes of it in record 1
	 * (the differential fuzz target found the length misread) */
	split = 3;
	two[3] = 0;
	two[4] = (uint8_t)split;
	two[5 + split] = 0x16;
	two[6 + split] = 0x03;
	two[7 + split] = 0x01;
	two[8 + split] = (uint8_t)((body - split) >> 8);
	two[9 + split] = (uint8_t)(body - split);
	memcpy(two + 10 + split, one + 5 + split, body - split);
	assert_int_equal(hello_needed(two, 8), 0);	/* not known yet */
	assert_int_equal(hello_needed(two, 9), 0);	/* nor here */
	assert_int_equal(hello_needed(two, 16), n + 5); /* now it is */
	assert_int_equal(hello_needed(two, n + 5), n + 5);
	assert_int_equal(hello_parse(two, n + 5, h), HELLO_OK);
	memcpy(three, "\x16\x03\x01\x00\x00", 5);
	memcpy(three + 5, two, 5 + split);
	memcpy(three + 10 + split, "\x16\x03\x01\x00\x00", 5);
	memcpy(three + 15 + split, two + 5 + split, n - split);
	assert_int_equal(hello_needed(three, 10), 0);
	assert_int_equal(hello_needed(three, n + 15), n + 15);
	assert_int_equal(hello_parse(three, n + 15, h), HELLO_OK);
	assert_int_equal(h->n_ciphers, 2);
	assert_int_equal(h->n_exts, 2);
	/* what no bytes to come complete (the collector parses it at once):
	 * another record type before the message ends, known from its
	 * first byte; a record past 2^14 bytes */
	two[5 + split] = 0x17;
	assert_int_equal(hello_needed(two, 9), HELLO_NEVER);
	two[5 + split] = 0x16;
	two[8 + split] = 0x40;
	two[9 + split] = 0x01;
	assert_int_equal(hello_needed(two, 16), HELLO_NEVER);
	assert_int_equal(hello_needed((const uint8_t *)"\x17", 1), HELLO_NEVER);
	assert_int_equal(hello_needed((const uint8_t *)"\x16\x03\x01", 3), 0);
	assert_int_equal(
	    hello_needed((const uint8_t *)"\x16\x03\x01\x00\x04\x02", 6),
	    HELLO_NEVER); /* a handshake, not a ClientHello */
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hello_errors),
	    cmocka_unit_test(test_hello_multi_record),
	};

	return cmocka_run_group_tests_name("hello", tests, NULL, NULL);
}
