/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Community ID v1 (https://github.com/corelight/community-id-spec): the
 * flow hash Zeek, Suricata and tshark put on their records, so that a
 * hydrascope flow joins theirs. Direction-free: both orders of the
 * endpoints give the same id.
 */
#ifndef HS_USER_OUTPUT_COMMUNITY_ID_H
#define HS_USER_OUTPUT_COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>

#include "hydrascope/abi.h"

/* "1:" + base64(SHA-1(...)): 31 characters and the NUL. */
#define COMMUNITY_ID_LEN 32

/* a, b: addresses as the maps hold them (IPv4 v4-mapped); ports in host
 * order; proto: an IP protocol with ports (TCP 6, UDP 17). Returns 0, or
 * -1 if the two addresses are not of one family or cap is too small. */
int community_id_v1(const struct hs_addr *a, uint16_t aport,
		    const struct hs_addr *b, uint16_t bport, uint8_t proto,
		    uint16_t seed, char *out, size_t cap);

#endif
