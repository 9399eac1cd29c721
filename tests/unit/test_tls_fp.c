// SPDX-License-Identifier: BSD-2-Clause
/* JA3 and JA4 strings (user/fingerprint/tls_fp.c) of a built hello. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fingerprint/hello.h"
#include "fingerprint/tls_fp.h"
#include "frames.h"

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

/* Set the 5-byte body of the ALPN extension to one protocol, "h" + v. */
static void set_alpn(uint8_t *buf, size_t n, char v)
{
	static const uint8_t hdr[4] = {0x00, 0x10, 0x00, 0x05};
	const uint8_t body[5] = {0x00, 0x03, 0x02, 'h', (uint8_t)v};

	for (size_t i = 0; i + 9 <= n; i++)
		if (!memcmp(buf + i, hdr, 4)) {
			memcpy(buf + i + 4, body, 5);
			return;
		}
	fail_msg("no ALPN extension");
}

/* The memo gives what hashing gives: over more distinct field sets than
 * it has slots, each seen twice, and hellos whose fields are equal but
 * whose JA4 prefix is not (ALPN h2, h3); and it answers the repeats. */
static void test_memo_equals_hashing(void **state)
{
	static uint16_t packed[FP_FIELDS_MAX / 2], plain[FP_FIELDS_MAX / 2];
	struct tls_hello *h = malloc(sizeof(*h));
	struct fp_memo *m = fp_memo_new();
	struct tls_fp a, b;
	uint8_t buf[512];
	size_t n, la, lb;

	(void)state;
	assert_non_null(h);
	assert_non_null(m);
	for (int round = 0; round < 2; round++) {
		for (int k = 0; k < 150; k++) {
			const uint16_t c[3] = {0x1301, 0x1302,
					       (uint16_t)(0xc000 + k / 2)};
			const uint16_t e[2] = {0x0010, 0x002b};

			n = hello_build(buf, sizeof(buf), c, 3, e, 2, 5);
			set_alpn(buf, n, k % 2 ? '3' : '2');
			assert_int_equal(hello_parse(buf, n, h), HELLO_OK);
			assert_int_equal(
			    fp_compute_hashed(h, &a, (uint8_t *)packed, &la, m),
			    0);
			assert_int_equal(fp_compute_hashed(h, &b,
							   (uint8_t *)plain,
							   &lb, NULL),
					 0);
			assert_string_equal(a.ja3, b.ja3);
			assert_string_equal(a.ja4, b.ja4);
			assert_string_equal(a.ja4_o, b.ja4_o);
			assert_string_equal(a.tls_version, b.tls_version);
			assert_int_equal(la, lb);
			assert_memory_equal(packed, plain, la);
			assert_int_equal(a.ja4[9], k % 2 ? '3' : '2');
		}
	}
	/* the second round found at least some of the first's */
	assert_true(fp_memo_hits(m) > 0);
	/* and the same hello right after itself always */
	{
		uint64_t before = fp_memo_hits(m);

		assert_int_equal(
		    fp_compute_hashed(h, &a, (uint8_t *)packed, &la, m), 0);
		assert_int_equal(fp_memo_hits(m), before + 1);
	}
	fp_memo_free(m);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ja4_known_vector),
	    cmocka_unit_test(test_memo_equals_hashing),
	};

	return cmocka_run_group_tests_name("tls_fp", tests, NULL, NULL);
}
