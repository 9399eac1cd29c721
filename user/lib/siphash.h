/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): a keyed hash whose outputs an attacker who does not know the
 * 128-bit key cannot predict, so keys chosen to collide in a hash table
 * collide no more often than random ones.
 */
#ifndef HS_USER_SIPHASH_H
#define HS_USER_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct hs_sipkey {
	uint64_t k0, k1; /* the key's two little-endian halves */
};

/* A fresh random key (getrandom); 0, or -1 with errno set. */
int hs_sipkey_random(struct hs_sipkey *k);
/* From now on hs_sipkey_random() draws its keys from seed instead, the
 * n-th key of the process the same on every run: reproducible table
 * layouts (replay --seed). Keys known in advance let chosen inputs
 * collide; set it only for inputs that are not hostile. Not thread-safe:
 * call it before the tables are made. */
void hs_sipkey_seed(uint64_t seed);
/* The key from its 16 bytes as the paper writes it (k0 = bytes 0-7). */
void hs_sipkey_from_bytes(struct hs_sipkey *k, const uint8_t b[16]);
uint64_t hs_siphash24(const struct hs_sipkey *k, const void *data, size_t len);

#endif
