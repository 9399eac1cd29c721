// SPDX-License-Identifier: BSD-2-Clause
#include "output/community_id.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "lib/addr.h"

int community_id_v1(const struct hs_addr *a, uint16_t aport,
		    const struct hs_addr *b, uint16_t bport, uint8_t proto,
		    uint16_t seed, char *out, size_t cap)
{
	/* seed, two addresses of up to 16 bytes, proto, pad, two ports */
	unsigned char buf[2 + 16 + 16 + 1 + 1 + 2 + 2], md[SHA_DIGEST_LENGTH];
	bool v4 = addr_is_v4(a);
	/* IPv4 is hashed as its 4 bytes, not the v4-mapped 16 we store */
	size_t off = v4 ? 12 : 0, len = 16 - off, n = 0;
	const struct hs_addr *lo = a, *hi = b;
	uint16_t plo = aport, phi = bport;
	int c;

	if (v4 != addr_is_v4(b) || cap < COMMUNITY_ID_LEN)
		return -1;
	/* the smaller address first, or on equal addresses the smaller
	 * port, so that both directions hash alike */
	c = memcmp(a->b + off, b->b + off, len);
	if (c > 0 || (c == 0 && aport > bport)) {
		lo = b;
		hi = a;
		plo = bport;
		phi = aport;
	}
	buf[n++] = (unsigned char)(seed >> 8);
	buf[n++] = (unsigned char)seed;
	memcpy(buf + n, lo->b + off, len);
	n += len;
	memcpy(buf + n, hi->b + off, len);
	n += len;
	buf[n++] = proto;
	buf[n++] = 0;
	buf[n++] = (unsigned char)(plo >> 8);
	buf[n++] = (unsigned char)plo;
	buf[n++] = (unsigned char)(phi >> 8);
	buf[n++] = (unsigned char)phi;
	SHA1(buf, n, md);
	memcpy(out, "1:", 2);
	/* 20 bytes -> 28 base64 characters and a NUL */
	EVP_EncodeBlock((unsigned char *)out + 2, md, sizeof(md));
	return 0;
}
