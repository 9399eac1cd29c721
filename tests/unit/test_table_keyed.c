// SPDX-License-Identifier: BSD-2-Clause
/*
 * Keyed hashing and bounded probing in the userspace tables (issue 10,
 * row 7). SipHash-2-4 against the reference vectors; 65,536 IPv6 sources
 * chosen to collide under the unkeyed hash the tables used before (each
 * insert then walked the whole run: n^2/2 probes) cost a bounded number of
 * probes each; keys made to collide under a known key fill their probe
 * window and the oldest gives way, counted, never a longer walk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hydrascope/tuple.h"
#include "lib/siphash.h"
#include "lib/table.h"

#define PROBE_LIMIT 64 /* table.c's window */

static void test_siphash_vectors(void **state)
{
	/* the paper's key and messages 00 01 02 ... of each length */
	static const struct {
		size_t len;
		uint64_t h;
	} v[] = {
	    {0, 0x726fdb47dd0e0e31ull},	 {1, 0x74f839c593dc67fdull},
	    {7, 0xab0200f58b01d137ull},	 {8, 0x93f5f5799a932462ull},
	    {15, 0xa129ca6149be45e5ull}, {16, 0x3f2acc7f57c29bdbull},
	    {63, 0x958a324ceb064572ull},
	};
	uint8_t key[16], msg[64];
	struct hs_sipkey k;

	(void)state;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	hs_sipkey_from_bytes(&k, key);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_true(hs_siphash24(&k, msg, v[i].len) == v[i].h);
}

/* The unkeyed hash of 16-byte keys the tables used before. */
static uint64_t old_hash(uint64_t w0, uint64_t w1)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ 16;

	h = hs_mix64(h ^ w0);
	return hs_mix64(h ^ w1);
}

static uint64_t unxorshift(uint64_t y, unsigned s)
{
	uint64_t x = y;

	for (unsigned i = 0; i < 64 / s + 1; i++)
		x = y ^ (x >> s);
	return x;
}

static uint64_t inverse(uint64_t c)
{
	uint64_t x = c; /* Newton: each step doubles the correct bits */

	for (int i = 0; i < 6; i++)
		x *= 2 - c * x;
	return x;
}

/* hs_mix64 is a bijection; this is its inverse. */
static uint64_t unmix64(uint64_t x)
{
	x = unxorshift(x, 31);
	x *= inverse(0x94d049bb133111ebull);
	x = unxorshift(x, 27);
	x *= inverse(0xbf58476d1ce4e5b9ull);
	return unxorshift(x, 30);
}

/* 65,536 sources of one /64 whose old hash is i << 32: the same low bits,
 * so one home slot in any table of up to 2^32 slots. */
static void test_old_collisions_bounded(void **state)
{
	const size_t n = 65536;
	struct table *t = table_new(n, 16, sizeof(uint64_t), NULL);
	uint64_t w0 = 0x0000000000b80d20ull; /* 2001:db8::/64, little end */

	(void)state;
	assert_non_null(t);
	for (size_t i = 0; i < n; i++) {
		uint64_t h0 = hs_mix64((0x9e3779b97f4a7c15ull ^ 16) ^ w0);
		uint64_t key[2] = {w0, unmix64((uint64_t)i << 32) ^ h0};
		uint64_t *v;

		assert_true(old_hash(key[0], key[1]) == (uint64_t)i << 32);
		v = table_get_or_add(t, key, NULL);
		assert_non_null(v);
		*v = i;
	}
	/* random keys' cost: a couple of probes an insert, not n / 2 */
	assert_true(table_probes(t) < 3 * n);
	assert_int_equal(table_len(t), n);
	assert_int_equal(table_probe_evictions(t), 0);
	table_free(t);
}

/* Keys that collide under a known key: a run longer than the window. */
static void test_probe_window(void **state)
{
	struct table *t = table_new(1024, 16, sizeof(uint64_t), NULL);
	struct hs_sipkey k = {1, 2};
	uint64_t keys[200][2], prev = 0;
	size_t n = 0;

	(void)state;
	assert_non_null(t);
	assert_int_equal(table_set_key(t, &k), 0);
	/* 2048 slots; homes in slots 0-7 */
	for (uint64_t c = 0; n < 200; c++) {
		uint64_t key[2] = {c, 0x5eed};

		if ((hs_siphash24(&k, key, 16) & 2047) < 8) {
			memcpy(keys[n++], key, 16);
		}
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t *v = table_get_or_add(t, keys[i], NULL);

		assert_non_null(v);
		*v = i;
		/* no insert looks at more than the window */
		assert_true(table_probes(t) - prev <= PROBE_LIMIT);
		prev = table_probes(t);
	}
	/* the window holds at most 8 + 64 of them; the newest are kept */
	assert_true(table_len(t) <= 8 + PROBE_LIMIT);
	assert_true(table_probe_evictions(t) >= n - (8 + PROBE_LIMIT));
	assert_int_equal(table_probe_evictions(t) + table_len(t), n);
	assert_non_null(table_get(t, keys[n - 1]));
	assert_null(table_get(t, keys[0]));
	/* deleting within the run keeps every survivor reachable */
	for (size_t i = n - 40; i < n; i += 2)
		table_del(t, keys[i]);
	for (size_t i = n - 39; i < n; i += 2)
		assert_non_null(table_get(t, keys[i]));
	assert_int_equal(table_set_key(t, &k), -1);
	table_free(t);
}

/* The keys of the entries in iteration order, as 64-bit words. */
static size_t walk(const struct table *t, uint64_t *out, size_t cap)
{
	const void *k;
	void *v;
	size_t pos = 0, n = 0;

	while (n < cap && table_next(t, &pos, &k, &v))
		memcpy(&out[n++], k, sizeof(uint64_t));
	return n;
}

/* replay --seed: keys drawn from a seed repeat from run to run, so two
 * tables made and filled alike iterate alike; another seed, another
 * order. Last in the file: the seed stays set for the process. */
static void test_seeded_keys(void **state)
{
	uint64_t a[512], b[512], c[512];
	struct hs_sipkey k1, k2, again;
	struct table *t[3];
	size_t n[3];

	(void)state;
	hs_sipkey_seed(42);
	assert_int_equal(hs_sipkey_random(&k1), 0);
	assert_int_equal(hs_sipkey_random(&k2), 0);
	assert_false(k1.k0 == k2.k0 && k1.k1 == k2.k1);
	hs_sipkey_seed(42);
	assert_int_equal(hs_sipkey_random(&again), 0);
	assert_true(again.k0 == k1.k0 && again.k1 == k1.k1);
	for (int i = 0; i < 3; i++) {
		hs_sipkey_seed(i < 2 ? 7 : 8);
		t[i] = table_new(512, sizeof(uint64_t), 1, NULL);
		assert_non_null(t[i]);
		for (uint64_t x = 0; x < 500; x++)
			assert_non_null(table_get_or_add(t[i], &x, NULL));
	}
	n[0] = walk(t[0], a, 512);
	n[1] = walk(t[1], b, 512);
	n[2] = walk(t[2], c, 512);
	assert_int_equal(n[0], 500);
	assert_int_equal(n[1], 500);
	assert_int_equal(n[2], 500);
	assert_memory_equal(a, b, sizeof(a[0]) * 500);
	assert_memory_not_equal(a, c, sizeof(a[0]) * 500);
	for (int i = 0; i < 3; i++)
		table_free(t[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_siphash_vectors),
	    cmocka_unit_test(test_old_collisions_bounded),
	    cmocka_unit_test(test_probe_window),
	    cmocka_unit_test(test_seeded_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
