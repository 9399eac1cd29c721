// SPDX-License-Identifier: BSD-2-Clause
/* JA3 and JA4 strings (user/fingerprint/tls_fp.c) of a built hello. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ja4_known_vector),
	};

	return cmocka_run_group_tests_name("tls_fp", tests, NULL, NULL);
}
