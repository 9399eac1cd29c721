// SPDX-License-Identifier: BSD-2-Clause
/*
 * TLS client families from hello markers and their plausibility on each
 * OS class (user/fingerprint/client_family.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "fingerprint/client_family.h"
#include "fingerprint/hello.h"
#include "frames.h"

/* Build a hello from lists and classify it. */
static enum client_family family_of(const uint16_t *c, size_t nc,
				    const uint16_t *e, size_t ne)
{
	uint8_t buf[4096];
	struct tls_hello *h = malloc(sizeof(*h));
	size_t n = hello_build(buf, sizeof(buf), c, nc, e, ne, 0);
	enum client_family f;

	assert_non_null(h);
	assert_int_equal(hello_parse(buf, n, h), HELLO_OK);
	f = client_family_of(h);
	free(h);
	return f;
}

#define FAM(c, e) family_of(c, sizeof(c) / 2, e, sizeof(e) / 2)

static void test_client_family(void **state)
{
	static const uint16_t chrome_c[] = {0x2a2a, 0x1301, 0x1302, 0x1303,
					    0xc02b};
	static const uint16_t chrome_e[] = {0x3a3a, 0x0000, 0x000a, 0x4469};
	static const uint16_t safari_c[] = {0x4a4a, 0x1301, 0xc00a, 0xc009};
	static const uint16_t safari_e[] = {0x5a5a, 0x0000, 0x000a};
	static const uint16_t ff_c[] = {0x1301, 0x1303, 0x1302, 0xc02b};
	static const uint16_t ff_e[] = {0x0000, 0x000a, 0x001c, 0x0022};
	static const uint16_t gnutls_c[] = {0x1302, 0x1303, 0x1301, 0x1304};
	static const uint16_t gnutls_e[] = {0x000a, 0x0016, 0x001c};
	static const uint16_t go_c[] = {0xc02b, 0xc02f, 0x1301, 0x1302};
	static const uint16_t go_e[] = {0x0000, 0x000a, 0x000d};
	static const uint16_t sch_c[] = {0x1302, 0x1301, 0xc02c, 0xc02b};
	static const uint16_t sch_e[] = {0x0000, 0x000a, 0x0017};
	static const uint16_t ossl_c[] = {0x1302, 0x1303, 0x1301, 0xc02c};
	static const uint16_t ossl_e[] = {0x0000, 0x000a, 0x0016, 0x0017};
	static const uint16_t java_e[] = {0x0000, 0x000a, 0x0032};
	static const uint16_t old_c[] = {0xc02f, 0xc012, 0x000a};
	static const uint16_t old_e[] = {0x0000, 0x000a};

	(void)state;
	assert_int_equal(FAM(chrome_c, chrome_e), FAM_CHROMIUM);
	assert_int_equal(FAM(safari_c, safari_e), FAM_SAFARI);
	assert_int_equal(FAM(ff_c, ff_e), FAM_FIREFOX);
	assert_int_equal(FAM(gnutls_c, gnutls_e), FAM_GNUTLS);
	assert_int_equal(FAM(go_c, go_e), FAM_GO);
	assert_int_equal(FAM(sch_c, sch_e), FAM_SCHANNEL);
	assert_int_equal(FAM(ossl_c, ossl_e), FAM_OPENSSL);
	assert_int_equal(FAM(ossl_c, java_e), FAM_JAVA);
	/* TLS 1.2 with 3DES: not called Apple (OpenSSL 1.0 did that too) */
	assert_int_equal(FAM(old_c, old_e), FAM_OTHER);
	/* plausibility: Apple-only on Linux is strong, a browser anywhere
	 * that matters is fine, a script library on Windows is weaker */
	assert_true(stack_implausibility(FAM_SAFARI, OS_LINUX) >= 0.9);
	assert_true(stack_implausibility(FAM_CHROMIUM, OS_LINUX) == 0);
	assert_true(stack_implausibility(FAM_CHROMIUM, OS_WINDOWS) == 0);
	assert_true(stack_implausibility(FAM_OPENSSL, OS_WINDOWS) == 0.5);
	assert_true(stack_implausibility(FAM_UNKNOWN, OS_OTHER) == 0);
	assert_int_equal(client_family_parse("go"), FAM_GO);
	assert_int_equal(client_family_parse("netscape"), FAM_COUNT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_client_family),
	};

	return cmocka_run_group_tests_name("client_family", tests, NULL, NULL);
}
