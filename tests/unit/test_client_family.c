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
#include "family_hellos.h"

/* Classify the hello of family fam's lists (family_hellos.h). */
static enum client_family family_of(enum client_family fam)
{
	uint8_t buf[4096];
	struct tls_hello *h = malloc(sizeof(*h));
	size_t n = family_hello(fam, buf, sizeof(buf));
	enum client_family f;

	assert_true(n > 0);
	assert_non_null(h);
	assert_int_equal(hello_parse(buf, n, h), HELLO_OK);
	f = client_family_of(h);
	free(h);
	return f;
}

static void test_client_family(void **state)
{
	(void)state;
	for (enum client_family fam = FAM_CHROMIUM; fam < FAM_COUNT; fam++)
		assert_int_equal(family_of(fam), fam);
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
