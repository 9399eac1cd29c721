// SPDX-License-Identifier: BSD-2-Clause
/* SipHash-2-4, written from the paper (section 2): the state is four 64-bit
 * words initialised from the key and "somepseudorandomlygeneratedbytes";
 * each 8-byte little-endian message word goes through 2 SipRounds, the last
 * word carries the length in its top byte, then 0xff is xored into v2 and
 * 4 SipRounds finish. */
#include "lib/siphash.h"

#include <stdbool.h>
#include <string.h>
#include <sys/random.h>

static uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#define SIPROUND(v0, v1, v2, v3)                                               \
	do {                                                                   \
		v0 += v1;                                                      \
		v1 = rotl(v1, 13);                                             \
		v1 ^= v0;                                                      \
		v0 = rotl(v0, 32);                                             \
		v2 += v3;                                                      \
		v3 = rotl(v3, 16);                                             \
		v3 ^= v2;                                                      \
		v0 += v3;                                                      \
		v3 = rotl(v3, 21);                                             \
		v3 ^= v0;                                                      \
		v2 += v1;                                                      \
		v1 = rotl(v1, 17);                                             \
		v1 ^= v2;                                                      \
		v2 = rotl(v2, 32);                                             \
	} while (0)

/* hs_sipkey_seed: keys drawn from the seed, in the order they are asked. */
static struct {
	bool on;
	struct hs_sipkey key;
	uint64_t drawn;
} seeded;

void hs_sipkey_seed(uint64_t seed)
{
	seeded.on = true;
	seeded.key = (struct hs_sipkey){seed, ~seed};
	seeded.drawn = 0;
}

int hs_sipkey_random(struct hs_sipkey *k)
{
	uint8_t b[16];

	if (seeded.on) {
		uint64_t n = seeded.drawn++;

		k->k0 = hs_siphash24(&seeded.key, &n, sizeof(n));
		n |= 1ull << 63;
		k->k1 = hs_siphash24(&seeded.key, &n, sizeof(n));
		return 0;
	}
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	hs_sipkey_from_bytes(k, b);
	return 0;
}

void hs_sipkey_from_bytes(struct hs_sipkey *k, const uint8_t b[16])
{
	k->k0 = le64(b);
	k->k1 = le64(b + 8);
}

uint64_t hs_siphash24(const struct hs_sipkey *k, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t v0 = k->k0 ^ 0x736f6d6570736575ull;
	uint64_t v1 = k->k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k->k0 ^ 0x6c7967656e657261ull;
	uint64_t v3 = k->k1 ^ 0x7465646279746573ull;
	uint64_t m;
	uint8_t last[8] = {0};
	size_t i, tail = len % 8;

	for (i = 0; i + 8 <= len; i += 8) {
		m = le64(p + i);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	memcpy(last, p + i, tail);
	last[7] = (uint8_t)len;
	m = le64(last);
	v3 ^= m;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	v2 ^= 0xff;
	for (i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}
