// SPDX-License-Identifier: BSD-2-Clause
/*
 * The ring-buffer collector (user/ingest/collector.c): reassembly and
 * fingerprint tables are bounded and count what they push out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/collector.h"
#include "frames.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_collector_bounded),
	};

	return cmocka_run_group_tests_name("collector", tests, NULL, NULL);
}
