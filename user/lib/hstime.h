/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One time module. The datapath clock is bpf_ktime_get_ns(), which is
 * CLOCK_MONOTONIC; records and files carry wall clock (CLOCK_REALTIME).
 * Durations are uint64_t nanoseconds everywhere in userspace.
 */
#ifndef HS_USER_LIB_HSTIME_H
#define HS_USER_LIB_HSTIME_H

#include <stdint.h>
#include <time.h>

#define HS_NS_PER_US 1000ull
#define HS_NS_PER_MS 1000000ull
#define HS_NS_PER_SEC 1000000000ull

static inline uint64_t hs_timespec_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * HS_NS_PER_SEC + (uint64_t)ts->tv_nsec;
}

/* The clock's time in ns: CLOCK_MONOTONIC is the datapath's clock. */
static inline uint64_t hs_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return hs_timespec_ns(&ts);
}

static inline double hs_clock_s(clockid_t id)
{
	return (double)hs_clock_ns(id) / (double)HS_NS_PER_SEC;
}

static inline uint64_t hs_sec_ns(uint64_t s)
{
	return s * HS_NS_PER_SEC;
}

#endif
