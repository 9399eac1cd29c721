// SPDX-License-Identifier: BSD-2-Clause
#include "lib/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void addr_from_v4(struct hs_addr *a, const void *be4)
{
	memset(a, 0, sizeof(*a));
	a->b[10] = a->b[11] = 0xff;
	memcpy(&a->b[12], be4, 4);
}

void addr_from_v6(struct hs_addr *a, const void *b16)
{
	memcpy(a->b, b16, 16);
}

bool addr_is_v4(const struct hs_addr *a)
{
	static const unsigned char prefix[12] = {0, 0, 0, 0, 0,	   0,
						 0, 0, 0, 0, 0xff, 0xff};

	return !memcmp(a->b, prefix, sizeof(prefix));
}

const char *addr_str(const struct hs_addr *a, char *buf, size_t cap)
{
	if (addr_is_v4(a))
		inet_ntop(AF_INET, &a->b[12], buf, (socklen_t)cap);
	else
		inet_ntop(AF_INET6, a->b, buf, (socklen_t)cap);
	return buf;
}

void lpm_key_str(const struct hs_lpm_key *k, char *buf, size_t cap)
{
	struct hs_addr a;
	char s[ADDR_STRLEN];
	unsigned plen = k->prefixlen;

	memcpy(a.b, k->addr, 16);
	addr_str(&a, s, sizeof(s));
	if (addr_is_v4(&a) && plen >= 96)
		plen -= 96;
	snprintf(buf, cap, "%s/%u", s, plen);
}

void cidr_lpm_key(const struct cidr *c, struct hs_lpm_key *k)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = c->plen;
	memcpy(k->addr, c->addr.b, 16);
}

int cidr_parse(const char *s, struct cidr *c)
{
	char host[INET6_ADDRSTRLEN + 1], *end;
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	unsigned char raw[16];
	long plen = -1;

	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = 0;
	if (slash) {
		errno = 0;
		plen = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || plen < 0)
			return -1;
	}
	if (inet_pton(AF_INET, host, raw) == 1) {
		if (plen > 32)
			return -1;
		addr_from_v4(&c->addr, raw);
		c->plen = (unsigned)(plen < 0 ? 32 : plen) + 96;
	} else if (inet_pton(AF_INET6, host, raw) == 1) {
		if (plen > 128)
			return -1;
		addr_from_v6(&c->addr, raw);
		c->plen = (unsigned)(plen < 0 ? 128 : plen);
	} else {
		return -1;
	}
	/* clear host bits so that equal prefixes compare equal */
	for (unsigned i = c->plen; i < 128; i++)
		c->addr.b[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
	return 0;
}

bool cidr_contains(const struct cidr *c, const struct hs_addr *a)
{
	unsigned full = c->plen / 8, rem = c->plen % 8;

	if (memcmp(c->addr.b, a->b, full))
		return false;
	if (!rem)
		return true;
	return ((c->addr.b[full] ^ a->b[full]) & (0xff00u >> rem)) == 0;
}
