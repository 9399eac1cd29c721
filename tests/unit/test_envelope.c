// SPDX-License-Identifier: BSD-2-Clause
/* The record envelope (output/envelope.c): its time form, and the clock
 * conversion live and in replay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/hstime.h"
#include "output/envelope.h"

static void test_rfc3339(void **state)
{
	char t[40];

	(void)state;
	time_rfc3339(0, t, sizeof(t));
	assert_string_equal(t, "1970-01-01T00:00:00.000000Z");
	/* microseconds kept, nanoseconds cut, not rounded */
	time_rfc3339(1772442000123456789ull, t, sizeof(t));
	assert_string_equal(t, "2026-03-02T09:00:00.123456Z");
}

/* Live, a refresh takes the monotonic -> wall offset again (the pipeline
 * does it every round, so that an NTP step reaches the next records);
 * replay keeps packet time as it is. */
static void test_clock(void **state)
{
	struct envelope live = {.live = true, .wall_offset_ns = 12345};
	struct envelope replay = {.wall_offset_ns = 0};
	uint64_t mono, wall;

	(void)state;
	envelope_refresh(&live);
	mono = hs_clock_ns(CLOCK_MONOTONIC);
	wall = hs_clock_ns(CLOCK_REALTIME);
	assert_true(envelope_wall(&live, mono) <= wall);
	assert_true(wall - envelope_wall(&live, mono) < HS_NS_PER_SEC);
	envelope_refresh(&replay);
	assert_int_equal(envelope_wall(&replay, 1772442000000000000ull),
			 1772442000000000000ull);
	assert_int_equal(envelope_now(&replay, 42), 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc3339),
	    cmocka_unit_test(test_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
