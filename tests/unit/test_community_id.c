// SPDX-License-Identifier: BSD-2-Clause
/* Community ID v1 (output/community_id.c) against the spec's published
 * vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/addr.h"
#include "output/community_id.h"

static void v4(struct hs_addr *a, unsigned char w, unsigned char x,
	       unsigned char y, unsigned char z)
{
	unsigned char b[4] = {w, x, y, z};

	addr_from_v4(a, b);
}

/* The vectors of the community-id-spec baseline (also Zeek's tests):
 * 1.2.3.4:1122 <-> 5.6.7.8:3344, seeds 0 and 1, TCP and UDP, both
 * directions. */
static void test_community_id_vectors(void **state)
{
	static const struct {
		uint8_t proto;
		uint16_t seed;
		const char *want;
	} v[] = {
	    {6, 0, "1:wCb3OG7yAFWelaUydu0D+125CLM="},
	    {17, 0, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="},
	    {6, 1, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
	    {17, 1, "1:OShq+iKDAMVouh/4bMxB9Sz4amw="},
	};
	struct hs_addr a, b;
	char id[COMMUNITY_ID_LEN];

	(void)state;
	v4(&a, 1, 2, 3, 4);
	v4(&b, 5, 6, 7, 8);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(community_id_v1(&a, 1122, &b, 3344, v[i].proto,
						 v[i].seed, id, sizeof(id)),
				 0);
		assert_string_equal(id, v[i].want);
		assert_int_equal(community_id_v1(&b, 3344, &a, 1122, v[i].proto,
						 v[i].seed, id, sizeof(id)),
				 0);
		assert_string_equal(id, v[i].want);
	}
}

static void test_community_id_mixed(void **state)
{
	struct hs_addr a, b;
	unsigned char six[16] = {0xfd, 0, 0, 0x77, [15] = 1};
	char id[COMMUNITY_ID_LEN];

	(void)state;
	v4(&a, 1, 2, 3, 4);
	addr_from_v6(&b, six);
	assert_int_equal(community_id_v1(&a, 1, &b, 2, 6, 0, id, sizeof(id)),
			 -1);
	assert_int_equal(community_id_v1(&a, 1, &a, 2, 6, 0, id, 10), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_community_id_vectors),
	    cmocka_unit_test(test_community_id_mixed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
