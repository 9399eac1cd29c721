/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Encapsulation headers an L4 load balancer wraps client packets in (IPIP,
 * GRE, GUE/FOU): behind one, the outer source is the balancer and the
 * client is the inner source, the one to fingerprint and block. Opened
 * only where the deployment asks (--decap): elsewhere an IPIP or GRE
 * packet is what it was (non-TCP, its outer address the sender) and is
 * counted. One level, bounded: a header of fixed size or a length field
 * checked against the outer payload, never a loop.
 */
#ifndef HS_BPF_DECAP_H
#define HS_BPF_DECAP_H

#include "common.h"

#define IPPROTO_IPIP_ 4 /* IPv4 inside (linux/in.h's enum is not a macro) */
#define IPPROTO_IPV6_ 41
#define IPPROTO_GRE_ 47
#define IPPROTO_UDP_ 17

/* GRE (RFC 2784, 2890): the flags this parser follows; any other bit
 * (routing, strict route, recursion, reserved, version != 0) leaves the
 * packet closed. */
#define GRE_F_CSUM 0x8000
#define GRE_F_KEY 0x2000
#define GRE_F_SEQ 0x1000
#define GRE_F_KNOWN (GRE_F_CSUM | GRE_F_KEY | GRE_F_SEQ)

/* GUE (draft-ietf-intarea-gue): the first two bits are the variant. 0: a
 * 4-byte header (C bit, Hlen words of extension fields, the inner IP
 * protocol) before the inner packet; 1: the inner IPv4/IPv6 packet itself
 * (as FOU sends it). */
#define GUE_HDR_LEN 4
#define GUE_C_BIT 0x20
#define GUE_HLEN_MASK 0x1f

enum encap_result {
	ENCAP_NONE = 0,	   /* not an encapsulation this parser knows */
	ENCAP_OPEN,	   /* inner IP header at e->off */
	ENCAP_UNSUPPORTED, /* known, but not opened (see decap_unsupported) */
	ENCAP_ERR,	   /* its header is cut short */
};

struct encap {
	__u32 off;    /* inner IP header, from data */
	__u32 end;    /* end of the outer IP payload: the inner fits in it */
	__be16 proto; /* inner ethertype */
	__u8 kind;    /* enum hs_decap_kind */
};

static __always_inline int encap_ip(struct encap *e, __u8 proto)
{
	if (proto == IPPROTO_IPIP_)
		e->proto = bpf_htons(0x0800);
	else if (proto == IPPROTO_IPV6_)
		e->proto = bpf_htons(0x86DD);
	else
		return ENCAP_UNSUPPORTED;
	return ENCAP_OPEN;
}

static __always_inline int encap_gre(void *data, void *data_end,
				     struct encap *e)
{
	__u8 *g = data + e->off;
	__u16 flags;
	__u32 hlen = 4;

	if ((void *)(g + 4) > data_end)
		return ENCAP_ERR;
	flags = (g[0] << 8) | g[1];
	if (flags & ~GRE_F_KNOWN)
		return ENCAP_UNSUPPORTED;
	/* checksum+reserved, key, sequence: 4 bytes each when flagged */
	hlen += flags & GRE_F_CSUM ? 4 : 0;
	hlen += flags & GRE_F_KEY ? 4 : 0;
	hlen += flags & GRE_F_SEQ ? 4 : 0;
	e->proto = *(__be16 *)(g + 2);
	if (e->proto != bpf_htons(0x0800) && e->proto != bpf_htons(0x86DD))
		return ENCAP_UNSUPPORTED; /* e.g. transparent Ethernet */
	e->off += hlen;
	return ENCAP_OPEN;
}

static __always_inline int encap_gue(void *data, void *data_end,
				     struct encap *e)
{
	__u8 *h = data + e->off;

	if ((void *)(h + GUE_HDR_LEN) > data_end)
		return ENCAP_ERR;
	if ((h[0] >> 6) == 1) { /* variant 1: a bare IPv4/IPv6 packet */
		if (h[0] >> 4 == 4)
			e->proto = bpf_htons(0x0800);
		else if (h[0] >> 4 == 6)
			e->proto = bpf_htons(0x86DD);
		else
			return ENCAP_UNSUPPORTED;
		return ENCAP_OPEN;
	}
	if (h[0] >> 6 || h[0] & GUE_C_BIT)
		return ENCAP_UNSUPPORTED; /* variants 2-3, control messages */
	e->off += GUE_HDR_LEN + (h[0] & GUE_HLEN_MASK) * 4;
	return encap_ip(e, h[1]);
}

/*
 * The encapsulation in an outer IP packet's payload (protocol l4_proto at
 * l4_off, payload_len bytes): its kind and where the inner IP header
 * starts. GUE is known only by its port (gue_port, 0: none).
 */
static __always_inline int encap_find(void *data, void *data_end, __u8 proto,
				      __u32 l4_off, __u32 len, __u16 gue_port,
				      struct encap *e)
{
	__u8 *udp = data + l4_off;
	int ret;

	/* below the verifier's packet offset limit with room for the
	 * header reads after it (headers lie in the linear part anyway) */
	if (l4_off > 0x7fff)
		return ENCAP_NONE;
	e->off = l4_off;
	e->end = l4_off + len;
	switch (proto) {
	case IPPROTO_IPIP_:
	case IPPROTO_IPV6_:
		e->kind = HS_DECAP_IPIP;
		ret = encap_ip(e, proto);
		break;
	case IPPROTO_GRE_:
		e->kind = HS_DECAP_GRE;
		ret = encap_gre(data, data_end, e);
		break;
	case IPPROTO_UDP_:
		if (!gue_port || (void *)(udp + 8) > data_end ||
		    ((udp[2] << 8) | udp[3]) != gue_port)
			return ENCAP_NONE;
		e->kind = HS_DECAP_GUE;
		e->off += 8;
		ret = encap_gue(data, data_end, e);
		break;
	default: return ENCAP_NONE;
	}
	if (ret == ENCAP_OPEN && e->off >= e->end)
		return ENCAP_ERR; /* the header claims more than the payload */
	return ret;
}

#endif /* HS_BPF_DECAP_H */
