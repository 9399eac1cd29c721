/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * p0f-v3 SYN signature: option layout, MSS, window scale, quirks. Options
 * are walked byte by byte inside the (checked) TCP header, at most 40
 * bytes, each step consuming at least one byte.
 */
#ifndef HS_BPF_TCPSIG_H
#define HS_BPF_TCPSIG_H

#include "parse.h"

#define TCP_MAX_OPT_BYTES 40

static __always_inline void sig_add_opt(struct hs_tcp_sig *s, __u8 code)
{
	__u8 n = s->opt_cnt;

	if (n < HS_MAX_TCPOPTS) {
		s->opts[n & (HS_MAX_TCPOPTS - 1)] = code;
		s->opt_cnt = n + 1;
	}
}

struct opt_walk {
	__u8 buf[64]; /* the options, copied out of the packet */
	struct hs_tcp_sig *sig;
	__u32 i;
	__u32 olen;
	bool eol; /* past EOL: the bytes left are padding */
	bool bad;
};

/* bpf_loop callback: one option, or one padding byte after EOL, per call
 * (each consumes >= 1 byte), so the verifier checks the body once instead
 * of every path of 40 iterations (a loop over the padding in here would
 * be checked for every start it may have). */
static long opt_step(__u32 n __attribute__((unused)), void *ctx)
{
	struct opt_walk *ow = ctx;
	struct hs_tcp_sig *s = ow->sig;
	__u32 i = ow->i;
	__u8 *o = ow->buf;
	__u8 kind, len;

	if (i >= ow->olen)
		return 1;
	kind = o[i & 63];
	if (ow->eol) {
		if (kind)
			s->quirks |= HS_Q_OPT_EOL_NZ;
		ow->i = i + 1;
		return 0;
	}
	if (kind == 0) { /* EOL: count the padding, then look at it */
		sig_add_opt(s, HS_OPT_EOL);
		s->eol_pad = ow->olen - i - 1;
		ow->eol = true;
		ow->i = i + 1;
		return 0;
	}
	if (kind == 1) {
		sig_add_opt(s, HS_OPT_NOP);
		ow->i = i + 1;
		return 0;
	}
	if (i + 1 >= ow->olen)
		goto bad;
	len = o[(i + 1) & 63];
	if (len < 2 || i + len > ow->olen)
		goto bad;
	switch (kind) {
	case 2:
		if (len != 4)
			goto bad;
		sig_add_opt(s, HS_OPT_MSS);
		s->mss = (o[(i + 2) & 63] << 8) | o[(i + 3) & 63];
		break;
	case 3:
		if (len != 3)
			goto bad;
		sig_add_opt(s, HS_OPT_WS);
		s->has_ws = 1;
		s->wscale = o[(i + 2) & 63];
		if (s->wscale > 14)
			s->quirks |= HS_Q_OPT_EXWS;
		break;
	case 4:
		if (len != 2)
			goto bad;
		sig_add_opt(s, HS_OPT_SOK);
		break;
	case 5: sig_add_opt(s, HS_OPT_SACK); break;
	case 8:
		if (len != 10)
			goto bad;
		sig_add_opt(s, HS_OPT_TS);
		if (!(o[(i + 2) & 63] | o[(i + 3) & 63] | o[(i + 4) & 63] |
		      o[(i + 5) & 63]))
			s->quirks |= HS_Q_OPT_ZERO_TS1;
		if (o[(i + 6) & 63] | o[(i + 7) & 63] | o[(i + 8) & 63] |
		    o[(i + 9) & 63])
			s->quirks |= HS_Q_OPT_NZ_TS2;
		break;
	default: sig_add_opt(s, 0x80 | kind);
	}
	ow->i = i + len;
	return 0;
bad:
	s->quirks |= HS_Q_OPT_BAD;
	ow->bad = true;
	return 1;
}

/* Returns false if the options were malformed (quirk "bad" is set too). */
static __always_inline bool
parse_syn_options(struct xdp_md *ctx, const struct pkt *p, struct hs_tcp_sig *s)
{
	struct opt_walk ow = {};
	__u32 olen = p->tcp_hdr_len - sizeof(struct tcphdr);

	if (!olen)
		return true;
	if (olen > TCP_MAX_OPT_BYTES)
		return false;
	if (bpf_xdp_load_bytes(ctx, p->l4_off + sizeof(struct tcphdr), ow.buf,
			       olen))
		return false;
	ow.sig = s;
	ow.olen = olen;
	bpf_loop(TCP_MAX_OPT_BYTES, opt_step, &ow, 0);
	return !ow.bad;
}

/* Fill a signature from a client SYN. */
static __always_inline bool
syn_signature(struct xdp_md *ctx, const struct pkt *p, struct hs_tcp_sig *s)
{
	__builtin_memset(s, 0, sizeof(*s));
	s->ip_ver = p->ip_ver;
	s->ttl = p->ttl;
	s->ip_opt_len = p->ip_opt_len;
	s->win = p->win;
	s->quirks = p->ip_quirks;
	s->payload = p->payload_len > 0;
	s->hdr_len =
	    (p->ip_ver == 4 ? 20 + p->ip_opt_len : 40) + p->tcp_hdr_len;
	if (!p->seq)
		s->quirks |= HS_Q_ZERO_SEQ;
	if (p->flags & TCPF_ACK) {
		if (!p->ack)
			s->quirks |= HS_Q_ZERO_ACK;
	} else if (p->ack) {
		s->quirks |= HS_Q_NZ_ACK;
	}
	if (p->flags & TCPF_URG)
		s->quirks |= HS_Q_URG;
	else if (p->urg_ptr)
		s->quirks |= HS_Q_NZ_URG;
	if (p->flags & TCPF_PSH)
		s->quirks |= HS_Q_PUSH;
	if (p->flags & (TCPF_ECE | TCPF_CWR))
		s->quirks |= HS_Q_ECN;
	return parse_syn_options(ctx, p, s);
}

#endif /* HS_BPF_TCPSIG_H */
