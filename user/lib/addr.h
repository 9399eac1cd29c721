/* SPDX-License-Identifier: BSD-2-Clause */
/* Addresses (v4 stored v4-mapped in 16 bytes) and CIDR prefixes. */
#ifndef HS_USER_ADDR_H
#define HS_USER_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "hydrascope/abi.h"

#define ADDR_STRLEN 46

struct cidr {
	struct hs_addr addr;
	unsigned plen; /* 0..128, v4 prefixes are stored as 96 + n */
};

void addr_from_v4(struct hs_addr *a, const void *be4);
void addr_from_v6(struct hs_addr *a, const void *b16);
bool addr_is_v4(const struct hs_addr *a);
const char *addr_str(const struct hs_addr *a, char *buf, size_t cap);
/* An LPM key as "198.18.0.0/24" or "fd00::/64" (v4 lengths without the
 * 96 of the mapping). */
void lpm_key_str(const struct hs_lpm_key *k, char *buf, size_t cap);
/* The LPM key of a parsed prefix (the kernel maps' form). */
void cidr_lpm_key(const struct cidr *c, struct hs_lpm_key *k);
/* "10.0.0.0/8", "fd00::/8" or a bare address. Returns 0 or -1. */
int cidr_parse(const char *s, struct cidr *c);
bool cidr_contains(const struct cidr *c, const struct hs_addr *a);

#endif
