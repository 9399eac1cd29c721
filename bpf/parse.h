/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Bounds-checked header parsers for the packet path. Every read is checked
 * against data_end; anything unexpected returns a reason that the caller
 * counts before passing the packet on untouched (fail open).
 */
#ifndef HS_BPF_PARSE_H
#define HS_BPF_PARSE_H

#include "decap.h"

#define ETH_P_IP_BE bpf_htons(0x0800)
#define ETH_P_IPV6_BE bpf_htons(0x86DD)
#define ETH_P_8021Q_BE bpf_htons(0x8100)
#define ETH_P_8021AD_BE bpf_htons(0x88A8)

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10
#define TCPF_URG 0x20
#define TCPF_ECE 0x40
#define TCPF_CWR 0x80

enum parse_result {
	PARSE_OK = 0,
	PARSE_NON_IP,
	PARSE_ERR_ETH,
	PARSE_ERR_VLAN,
	PARSE_VLAN_LIMIT,
	PARSE_ERR_IPV4,
	PARSE_ERR_IPV6,
	PARSE_V6_EXT_LIMIT,
	PARSE_FRAG,
	PARSE_NON_TCP,
	PARSE_ERR_TCP,
	PARSE_ERR_DECAP,
	PARSE_DECAP, /* not an outcome: parse_inner goes on (--decap) */
};

/* What the parser did with an encapsulation. Kept apart from struct pkt,
 * which lives on the stack of the deepest call chain (at its limit). */
enum encap_state {
	ENC_NONE = 0,
	ENC_OPENED,	 /* the inner packet is what p describes */
	ENC_OFF,	 /* that kind's decap is off: the outer packet */
	ENC_UNSUPPORTED, /* known, not opened; or one inside the inner */
};

struct encap_note {
	__u8 kind;	 /* enum hs_decap_kind */
	__u8 state;	 /* enum encap_state */
	struct encap at; /* the one parse_l3_tcp found open: parse_inner's */
};

struct pkt {
	struct hs_addr src;
	struct hs_addr dst;
	__u32 seq;
	__u32 ack;
	__u32 l4_off;	   /* TCP header offset from data */
	__u32 payload_off; /* TCP payload offset from data */
	__u32 payload_len; /* from the IP length fields, not the frame */
	__u32 ip_quirks; /* HS_Q_DF, HS_Q_NZ_ID, HS_Q_ZERO_ID, HS_Q_ECN, ... */
	__u16 sport;
	__u16 dport;
	__u16 win;
	__u16 urg_ptr;
	__u8 flags;
	__u8 tcp_hdr_len;
	__u8 ip_ver;
	__u8 ttl;
	__u8 ip_opt_len;
	__u8 have_addr;	 /* src/dst valid (also for fragments and non-TCP) */
	__u8 frag_first; /* a first IP fragment whose TCP header was parsed */
	/* the protocol (IPv6: next header) at l4_off, when it is not TCP
	 * or where the extension walk stopped (PARSE_V6_EXT_LIMIT) */
	__u8 l4_proto;
};

/* --decap: the kinds to open and the GUE port (hs_config). */
struct decap_cfg {
	__u16 kinds;
	__u16 gue_port;
};

static __always_inline void addr_from_v4(struct hs_addr *a, __u32 be_addr)
{
	__builtin_memset(a, 0, sizeof(*a));
	a->b[10] = 0xff;
	a->b[11] = 0xff;
	__builtin_memcpy(&a->b[12], &be_addr, 4);
}

static __always_inline int parse_ipv4(void *data, void *data_end, __u32 off,
				      __u32 total, struct pkt *p)
{
	struct iphdr *ip = data + off;
	__u32 hlen, tot;
	__u16 frag;

	if ((void *)(ip + 1) > data_end)
		return PARSE_ERR_IPV4;
	hlen = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (ip->version != 4 || hlen < sizeof(*ip) || tot < hlen)
		return PARSE_ERR_IPV4;
	if (off + tot > total)
		return PARSE_ERR_IPV4; /* truncated: length field lies */
	/* addresses first: the blocklist applies to every IP packet */
	addr_from_v4(&p->src, ip->saddr);
	addr_from_v4(&p->dst, ip->daddr);
	p->have_addr = 1;
	frag = bpf_ntohs(ip->frag_off);
	if (frag & 0x1fff) /* a non-zero offset: no TCP header */
		return PARSE_FRAG;
	p->l4_proto = ip->protocol;
	p->l4_off = off + hlen;
	p->payload_len = tot - hlen; /* TCP header subtracted later */
	if (ip->protocol != IPPROTO_TCP)
		return frag & 0x2000 ? PARSE_FRAG : PARSE_NON_TCP;
	if (frag & 0x2000) /* MF: the first fragment, TCP header read */
		p->frag_first = 1;

	p->ip_ver = 4;
	p->ttl = ip->ttl;
	p->ip_opt_len = hlen - sizeof(*ip);
	if (frag & 0x4000) {
		p->ip_quirks |= HS_Q_DF;
		if (ip->id)
			p->ip_quirks |= HS_Q_NZ_ID;
	} else if (!ip->id) {
		p->ip_quirks |= HS_Q_ZERO_ID;
	}
	if (frag & 0x8000)
		p->ip_quirks |= HS_Q_NZ_MBZ;
	if (ip->tos & 0x3)
		p->ip_quirks |= HS_Q_ECN;
	return PARSE_OK;
}

/* Walk at most HS_MAX_V6_EXT extension headers. */
static __always_inline int parse_ipv6(void *data, void *data_end, __u32 off,
				      __u32 total, struct pkt *p)
{
	struct ipv6hdr *ip6 = data + off;
	__u32 plen, used = 0;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > data_end)
		return PARSE_ERR_IPV6;
	if (ip6->version != 6)
		return PARSE_ERR_IPV6;
	plen = bpf_ntohs(ip6->payload_len);
	if (plen == 0) /* jumbogram or garbage: not ours to parse */
		return PARSE_ERR_IPV6;
	if (off + sizeof(*ip6) + plen > total)
		return PARSE_ERR_IPV6;

	p->ip_ver = 6;
	p->ttl = ip6->hop_limit;
	if (ip6->flow_lbl[0] & 0x0f || ip6->flow_lbl[1] || ip6->flow_lbl[2])
		p->ip_quirks |= HS_Q_FLOW;
	if ((ip6->priority << 4 | ip6->flow_lbl[0] >> 4) & 0x3)
		p->ip_quirks |= HS_Q_ECN;
	__builtin_memcpy(p->src.b, &ip6->saddr, 16);
	__builtin_memcpy(p->dst.b, &ip6->daddr, 16);
	p->have_addr = 1;

	nh = ip6->nexthdr;
	off += sizeof(*ip6);
	for (i = 0; i <= HS_MAX_V6_EXT; i++) {
		__u8 *ext = data + off;
		__u32 elen;

		if (nh == IPPROTO_TCP) {
			if (used > plen)
				return PARSE_ERR_IPV6;
			p->l4_off = off;
			p->payload_len = plen - used;
			return PARSE_OK;
		}
		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING &&
		    nh != IPPROTO_DSTOPTS && nh != IPPROTO_FRAGMENT) {
			if (used > plen)
				return PARSE_ERR_IPV6;
			p->l4_proto = nh; /* what is inside, for decap */
			p->l4_off = off;
			p->payload_len = plen - used;
			return PARSE_NON_TCP;
		}
		if (i == HS_MAX_V6_EXT) {
			/* where the walk stopped, for the deep walk */
			p->l4_off = off;
			p->payload_len = used < plen ? plen - used : 0;
			p->l4_proto = nh;
			break;
		}
		if ((void *)(ext + 8) > data_end)
			return PARSE_ERR_IPV6;
		if (nh == IPPROTO_FRAGMENT) {
			/* a non-zero offset: no TCP header; more-fragments
			 * at offset 0: the first fragment, parsed on */
			if ((ext[2] << 8 | ext[3]) & 0xfff8)
				return PARSE_FRAG;
			if (ext[3] & 1)
				p->frag_first = 1;
			elen = 8;
		} else {
			elen = (ext[1] + 1) * 8;
		}
		nh = ext[0];
		off += elen;
		used += elen;
		if (off > 0xffff)
			return PARSE_ERR_IPV6;
	}
	return PARSE_V6_EXT_LIMIT;
}

static __always_inline int parse_tcp(void *data, void *data_end, struct pkt *p)
{
	struct tcphdr *th;
	__u32 hlen;

	if (p->l4_off > 0xffff)
		return PARSE_ERR_TCP;
	th = data + p->l4_off;
	if ((void *)(th + 1) > data_end)
		return PARSE_ERR_TCP;
	hlen = th->doff * 4;
	if (hlen < sizeof(*th) || hlen > p->payload_len)
		return PARSE_ERR_TCP;
	if ((void *)th + hlen > data_end) /* options must be linear */
		return PARSE_ERR_TCP;

	p->sport = bpf_ntohs(th->source);
	p->dport = bpf_ntohs(th->dest);
	p->seq = bpf_ntohl(th->seq);
	p->ack = bpf_ntohl(th->ack_seq);
	p->win = bpf_ntohs(th->window);
	p->urg_ptr = bpf_ntohs(th->urg_ptr);
	p->flags = ((__u8 *)th)[13];
	p->tcp_hdr_len = hlen;
	p->payload_off = p->l4_off + hlen;
	p->payload_len -= hlen;
	return PARSE_OK;
}

static __always_inline int parse_ip(void *data, void *data_end, __u32 off,
				    __u32 end, __u16 proto, struct pkt *p)
{
	if (proto == ETH_P_IP_BE)
		return parse_ipv4(data, data_end, off, end, p);
	if (proto == ETH_P_IPV6_BE)
		return parse_ipv6(data, data_end, off, end, p);
	return PARSE_NON_IP;
}

/*
 * An IP packet at off and its TCP header. A non-TCP payload that is an
 * encapsulation is noted in n; one that --decap opens returns PARSE_DECAP,
 * for the caller to parse with parse_inner in a function of its own (one
 * verification for every outer path, or the verifier's budget runs out).
 * Only non-TCP packets look further, so plain TCP pays nothing; with
 * --decap off the verifier drops the opening code (dc is read-only data).
 * inner: p is already the inner packet, and an encapsulation in it stays
 * closed (one level).
 */
static __always_inline int parse_l3_tcp(void *data, void *data_end, __u32 off,
					__u32 total, __u16 proto, struct pkt *p,
					struct decap_cfg dc,
					struct encap_note *n, bool inner)
{
	struct encap e = {};
	int ret, enc;

	ret = parse_ip(data, data_end, off, total, proto, p);
	if (ret == PARSE_NON_TCP && !p->frag_first) {
		enc = encap_find(data, data_end, p->l4_proto, p->l4_off,
				 p->payload_len, dc.gue_port, &e);
		if (enc != ENCAP_NONE && inner) {
			n->state = ENC_UNSUPPORTED;
		} else if (enc != ENCAP_NONE) {
			n->kind = e.kind;
			if (!(dc.kinds & e.kind))
				n->state = ENC_OFF;
			else if (enc == ENCAP_ERR)
				return PARSE_ERR_DECAP;
			else if (enc == ENCAP_UNSUPPORTED)
				n->state = ENC_UNSUPPORTED;
			else {
				n->at = e;
				return PARSE_DECAP;
			}
		}
	}
	if (ret != PARSE_OK && p->frag_first) {
		p->frag_first = 0; /* a fragment of something we do not parse */
		return PARSE_FRAG;
	}
	if (ret != PARSE_OK)
		return ret;
	ret = parse_tcp(data, data_end, p);
	if (p->frag_first) {
		/* a first fragment: counted as a fragment; the TCP header
		 * (when it parsed) lets the caller find the flow */
		if (ret != PARSE_OK)
			p->frag_first = 0;
		return PARSE_FRAG;
	}
	return ret;
}

/* Where the network layer starts, as one value: its offset (at most
 * HS_L3_MAX_OFF) and its ethertype (big endian) above it. */
#define HS_L3_MAX_OFF (sizeof(struct ethhdr) + HS_MAX_VLAN * 4)
#define L3_AT(off, proto) ((__u32)(proto) << 16 | (off))
#define L3_OFF(l3) ((l3) & 0xffff)

/* Ethernet and up to HS_MAX_VLAN VLAN tags (802.1Q / 802.1ad): PARSE_OK
 * and *l3 (L3_AT), or why not. */
static __always_inline int parse_eth(void *data, void *data_end, __u32 *l3)
{
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return PARSE_ERR_ETH;
	proto = eth->h_proto;
	for (i = 0; i < HS_MAX_VLAN; i++) {
		struct hs_vlan_hdr *vh = data + off;

		if (proto != ETH_P_8021Q_BE && proto != ETH_P_8021AD_BE)
			break;
		if ((void *)(vh + 1) > data_end)
			return PARSE_ERR_VLAN;
		proto = vh->h_vlan_encapsulated_proto;
		off += sizeof(*vh);
	}
	if (proto == ETH_P_8021Q_BE || proto == ETH_P_8021AD_BE)
		return PARSE_VLAN_LIMIT; /* more tags than we walk */
	*l3 = L3_AT(off, proto);
	return PARSE_OK;
}

/* IPv4 or IPv6, TCP, after parse_eth (l3); PARSE_DECAP when an
 * encapsulation is to be opened (parse_inner). Headers must lie in the
 * linear part (data..data_end); length fields are checked against the
 * whole frame (total, which includes XDP fragments). Its callers are
 * global functions taking l3 as an argument: the verifier checks this
 * once with the offset a bounded unknown, not once per number of tags. */
static __always_inline int parse_l3(void *data, void *data_end, __u32 l3,
				    __u32 total, struct pkt *p,
				    struct decap_cfg dc, struct encap_note *n)
{
	__u32 off = L3_OFF(l3);

	if (off > HS_L3_MAX_OFF)
		return PARSE_ERR_ETH;
	return parse_l3_tcp(data, data_end, off, total, l3 >> 16, p, dc, n,
			    false);
}

/* The packet inside the encapsulation parse_l3 found open (n->at; p
 * still holds the outer IP layer): the outer addresses and quirks are
 * dropped, so that the inner source is the one looked up and fingerprinted
 * and the outer (the balancer) is never blocked; the inner packet must fit
 * in the outer payload. */
static __always_inline int parse_inner(void *data, void *data_end,
				       struct pkt *p, struct decap_cfg dc,
				       struct encap_note *n)
{
	struct encap e = n->at;

	/* read back through a global function's argument: bounded again
	 * for the verifier (encap_find kept it below that) */
	if (e.off > 0x7fff)
		return PARSE_ERR_DECAP;
	n->state = ENC_OPENED;
	p->have_addr = 0;
	p->ip_quirks = 0;
	return parse_l3_tcp(data, data_end, e.off, e.end, e.proto, p, dc, n,
			    true);
}

/* Count a parse failure by reason (the packet is passed regardless). */
static __always_inline void count_parse_result(struct hs_stats *st, int ret)
{
	switch (ret) {
	case PARSE_NON_IP: st->non_ip++; break;
	case PARSE_ERR_ETH: st->err_eth++; break;
	case PARSE_ERR_VLAN: st->err_vlan++; break;
	case PARSE_VLAN_LIMIT: st->vlan_limit++; break;
	case PARSE_ERR_IPV4: st->err_ipv4++; break;
	case PARSE_ERR_IPV6: st->err_ipv6++; break;
	case PARSE_V6_EXT_LIMIT: st->ipv6_ext_limit++; break;
	case PARSE_FRAG: st->ip_frag++; break;
	case PARSE_NON_TCP: st->non_tcp++; break;
	case PARSE_ERR_TCP: st->err_tcp++; break;
	case PARSE_ERR_DECAP: st->err_decap++; break;
	}
}

/* Count what the parser did with an encapsulation. */
static __always_inline void count_encap(struct hs_stats *st,
					const struct encap_note *n)
{
	switch (n->state) {
	case ENC_OPENED:
		if (n->kind == HS_DECAP_IPIP)
			st->decap_ipip++;
		else if (n->kind == HS_DECAP_GRE)
			st->decap_gre++;
		else
			st->decap_gue++;
		break;
	case ENC_OFF: st->encap_off++; break;
	case ENC_UNSUPPORTED: st->decap_unsupported++; break;
	}
}

#endif /* HS_BPF_PARSE_H */
