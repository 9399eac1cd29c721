// SPDX-License-Identifier: BSD-2-Clause
#include "frames.h"

#include <arpa/inet.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Wrap the IP packet at l3 (len bytes from there) in e's headers. */
static size_t encap_wrap(const struct encap_spec *e, uint8_t *b, size_t l3,
			 size_t len, size_t cap)
{
	uint8_t inner_v6 = (uint8_t)(b[l3] >> 4 == 6);
	size_t ip = e->ipv6 ? 40 : 20, hdr = ip, payload;
	uint8_t proto;

	if (e->kind == ENCAP_GRE)
		hdr +=
		    4 + 4 * (size_t)__builtin_popcount(e->gre_flags & 0xb000);
	else if (e->kind == ENCAP_GUE)
		hdr += 8;
	else if (e->kind == ENCAP_GUE_V0)
		hdr += 12;
	if (l3 + hdr + len > cap)
		return 0;
	memmove(b + l3 + hdr, b + l3, len);
	memset(b + l3, 0, hdr);
	payload = hdr - ip + len;
	proto = e->kind == ENCAP_IPIP  ? (inner_v6 ? 41 : 4)
		: e->kind == ENCAP_GRE ? 47
				       : 17;
	put16(b + l3 - 2, e->ipv6 ? 0x86dd : 0x0800);
	if (e->ipv6) {
		b[l3] = 0x60;
		put16(b + l3 + 4, (uint16_t)payload);
		b[l3 + 6] = proto;
		b[l3 + 7] = 64;
		memcpy(b + l3 + 8, e->src, 16);
		memcpy(b + l3 + 24, e->dst, 16);
	} else {
		b[l3] = 0x45;
		put16(b + l3 + 2, (uint16_t)(20 + payload));
		put16(b + l3 + 6, 0x4000);
		b[l3 + 8] = 64;
		b[l3 + 9] = proto;
		memcpy(b + l3 + 12, e->src, 4);
		memcpy(b + l3 + 16, e->dst, 4);
	}
	if (e->kind == ENCAP_GRE) {
		put16(b + l3 + ip, e->gre_flags);
		put16(b + l3 + ip + 2, inner_v6 ? 0x86dd : 0x0800);
	} else if (e->kind == ENCAP_GUE || e->kind == ENCAP_GUE_V0) {
		put16(b + l3 + ip, 40000);
		put16(b + l3 + ip + 2, e->port);
		put16(b + l3 + ip + 4, (uint16_t)(payload));
		if (e->kind == ENCAP_GUE_V0)
			b[l3 + ip + 9] = inner_v6 ? 41 : 4;
	}
	return l3 + hdr + len;
}

size_t frame_build(const struct frame_spec *s, uint8_t *b, size_t cap)
{
	size_t off = 12, l3, l4, tcp_len, ip_payload;
	uint8_t proto = s->l4proto ? s->l4proto : 6;
	int i;

	memset(b, 0, cap);
	b[0] = 0x02;
	b[6] = 0x02;
	for (i = 0; i < s->vlan_tags; i++) {
		put16(b + off, i == 0 && s->vlan_tags > 1 ? 0x88a8 : 0x8100);
		put16(b + off + 2, (uint16_t)(100 + i));
		off += 4;
	}
	put16(b + off, s->ipv6 ? 0x86dd : 0x0800);
	l3 = off + 2;
	tcp_len = 20 + s->opts_len;
	if (!s->ipv6) {
		size_t ihl = 20 + 4 * (size_t)s->v4_opt_words;

		l4 = l3 + ihl;
		ip_payload = tcp_len + s->payload_len;
		b[l3] = (uint8_t)(0x40 | (ihl / 4));
		put16(b + l3 + 2, (uint16_t)(ihl + ip_payload));
		put16(b + l3 + 4, 0x1234);
		put16(b + l3 + 6, s->frag ? 0x2000 : 0x4000);
		b[l3 + 8] = s->ttl ? s->ttl : 64;
		b[l3 + 9] = proto;
		memcpy(b + l3 + 12, s->src, 4);
		memcpy(b + l3 + 16, s->dst, 4);
		for (i = 0; i < s->v4_opt_words * 4; i++)
			b[l3 + 20 + i] = 1; /* NOP options */
	} else {
		uint8_t nh = proto;
		size_t ext_len = 8 * (size_t)s->v6_ext + (s->frag ? 8 : 0);

		l4 = l3 + 40 + ext_len;
		ip_payload = ext_len + tcp_len + s->payload_len;
		b[l3] = 0x60;
		put16(b + l3 + 4, (uint16_t)ip_payload);
		b[l3 + 7] = s->ttl ? s->ttl : 64;
		memcpy(b + l3 + 8, s->src, 16);
		memcpy(b + l3 + 24, s->dst, 16);
		/* chain: hop-by-hop, then destination options..., fragment */
		{
			size_t e = l3 + 40;
			uint8_t *prev_nh = &b[l3 + 6];

			for (i = 0; i < s->v6_ext; i++) {
				*prev_nh = i == 0 ? 0 : 60;
				prev_nh = &b[e];
				b[e + 1] = 0; /* 8 bytes */
				e += 8;
			}
			if (s->frag) {
				*prev_nh = 44;
				prev_nh = &b[e];
				put16(b + e + 2,
				      (uint16_t)(8 << 3)); /* offset 8 */
				e += 8;
			}
			*prev_nh = nh;
		}
	}
	if (proto == 6) {
		put16(b + l4, s->sport);
		put16(b + l4 + 2, s->dport);
		put32(b + l4 + 4, s->seq);
		put32(b + l4 + 8, s->ack);
		b[l4 + 12] = (uint8_t)((tcp_len / 4) << 4);
		b[l4 + 13] = s->flags;
		put16(b + l4 + 14, s->win ? s->win : 64240);
		if (s->opts_len)
			memcpy(b + l4 + 20, s->opts, s->opts_len);
		if (s->payload_len)
			memcpy(b + l4 + tcp_len, s->payload, s->payload_len);
	}
	if (s->encap)
		return encap_wrap(s->encap, b, l3,
				  l4 + tcp_len + s->payload_len - l3, cap);
	return l4 + tcp_len + s->payload_len;
}

size_t hello_build(uint8_t *b, size_t cap, const uint16_t *ciphers, size_t nc,
		   const uint16_t *exts, size_t ne, size_t body_len)
{
	size_t o = 0, hs_start, ext_start, i;

	memset(b, 0, cap);
	b[o++] = 0x16;
	b[o++] = 0x03;
	b[o++] = 0x01;
	o += 2; /* record length */
	hs_start = o;
	b[o++] = 0x01;
	o += 3; /* handshake length */
	put16(b + o, 0x0303);
	o += 2 + 32;
	b[o++] = 32; /* session id */
	o += 32;
	put16(b + o, (uint16_t)(nc * 2));
	o += 2;
	for (i = 0; i < nc; i++, o += 2)
		put16(b + o, ciphers[i]);
	b[o++] = 1;
	b[o++] = 0;
	ext_start = o;
	o += 2;
	for (i = 0; i < ne; i++) {
		put16(b + o, exts[i]);
		put16(b + o + 2, (uint16_t)body_len);
		o += 4 + body_len;
	}
	put16(b + ext_start, (uint16_t)(o - ext_start - 2));
	put16(b + 3, (uint16_t)(o - 5));
	b[hs_start + 1] = (uint8_t)((o - hs_start - 4) >> 16);
	put16(b + hs_start + 2, (uint16_t)(o - hs_start - 4));
	return o;
}
