/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fingerprint ids: the TLS id, one 64-bit id per TLS client stack, and
 * the tuple id, one per (TLS client stack, TCP stack).
 *
 * Compiled into the BPF program, which accumulates it while it walks a
 * ClientHello across segments, and into userspace, which recomputes it from
 * the captured bytes (tests assert both agree) and uses it to name, list and
 * explain tuple rules.
 *
 * Definition:
 *  - Items are the hello's cipher suites and extension types in wire order,
 *    the first HS_HELLO_MAX_ITEMS of them (GREASE included in that count),
 *    and only items lying wholly inside the first HS_HELLO_CAP bytes of the
 *    client's byte stream from the first record header (record headers of
 *    a hello fragmented over several records count as stream bytes).
 *  - ALPN: the first HS_ALPN_BYTES bytes of the body of the first ALPN
 *    extension (its list length and protocol names), in order, those in
 *    the same first HS_HELLO_CAP stream bytes, before the item cap.
 *  - GREASE values (RFC 8701), server_name (0) and padding (21) are skipped:
 *    the last two depend on how the client was pointed at the server (name
 *    vs address, name length), not on the client stack.
 *  - Each set is hashed order-insensitively as a wrapping sum of mixed
 *    values, so Chrome's extension-order randomisation and any permutation
 *    give one id and no sort is needed (linear, capped cost in the kernel).
 *  - The TLS id combines the cipher set, the extension set and ALPN.
 *  - The tuple id is the TLS id combined with the TCP part, the SYN's
 *    OS-class fields (initial TTL, window as a multiple of MSS where it is
 *    one, window scale, option layout, quirks); path-dependent fields
 *    (observed TTL, MSS value) are left out so that one client stack
 *    behind many exit paths keeps one id.
 */
#ifndef HYDRASCOPE_TUPLE_H
#define HYDRASCOPE_TUPLE_H

#include "abi.h"

#include <stdbool.h>

#ifndef __bpf__
/* userspace: the compiler decides */
#define HS_TUPLE_FN static inline
#else
/* BPF: force inlining, a BPF-to-BPF call per cipher suite is not free */
#define HS_TUPLE_FN static __always_inline
#endif

#define HS_EXT_SERVER_NAME 0x0000
#define HS_EXT_PADDING 0x0015

/* SplitMix64 finaliser: a strong, cheap 64-bit mixer. */
HS_TUPLE_FN __u64 hs_mix64(__u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* RFC 8701: 0x0a0a, 0x1a1a, ... 0xfafa. */
HS_TUPLE_FN bool hs_is_grease(__u16 v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* Returns false once the item cap is reached: the caller stops walking. */
HS_TUPLE_FN bool hs_tuple_add_cipher(struct hs_tuple_acc *acc, __u16 v)
{
	if (acc->items >= HS_HELLO_MAX_ITEMS)
		return false;
	acc->items++;
	if (!hs_is_grease(v))
		acc->ciphers += hs_mix64(0x100000000ull | v);
	return true;
}

/* One byte of the ALPN body (the caller bounds them by HS_ALPN_BYTES). */
HS_TUPLE_FN void hs_tuple_add_alpn(struct hs_tuple_acc *acc, __u8 b)
{
	acc->alpn = hs_mix64(
	    acc->alpn ^ (0x300000000ull | (__u64)acc->alpn_bytes << 8 | b));
	acc->alpn_bytes++;
}

HS_TUPLE_FN bool hs_tuple_add_ext(struct hs_tuple_acc *acc, __u16 v)
{
	if (acc->items >= HS_HELLO_MAX_ITEMS)
		return false;
	acc->items++;
	if (!hs_is_grease(v) && v != HS_EXT_SERVER_NAME && v != HS_EXT_PADDING)
		acc->exts += hs_mix64(0x200000000ull | v);
	return true;
}

/* p0f's initial-TTL guess: the next of 32, 64, 128, 255 at or above. */
HS_TUPLE_FN __u8 hs_initial_ttl(__u8 ttl)
{
	if (ttl <= 32)
		return 32;
	if (ttl <= 64)
		return 64;
	if (ttl <= 128)
		return 128;
	return 255;
}

/* Window as p0f sees it: a multiple of MSS (tagged) where it is one. */
HS_TUPLE_FN __u32 hs_window_class(const struct hs_tcp_sig *s)
{
	if (s->mss && s->win && s->win % s->mss == 0)
		return 0x10000u | (s->win / s->mss);
	return s->win;
}

HS_TUPLE_FN __u64 hs_tcp_class_id(const struct hs_tcp_sig *s)
{
	__u64 h = hs_mix64(((__u64)hs_initial_ttl(s->ttl) << 40) |
			   ((__u64)s->wscale << 32) | hs_window_class(s));
	__u32 i;

	h = hs_mix64(h ^ ((__u64)s->quirks << 8 | s->eol_pad));
	for (i = 0; i < HS_MAX_TCPOPTS; i++) {
		if (i >= s->opt_cnt)
			break;
		h = hs_mix64(h + s->opts[i] + 1);
	}
	return h;
}

/* The TLS id: the hello sets and ALPN, nothing of the TCP stack. */
HS_TUPLE_FN __u64 hs_tls_id(const struct hs_tuple_acc *acc)
{
	__u64 h = hs_mix64(acc->ciphers ^ 0x746c736964ull);

	h = hs_mix64(h ^ acc->exts);
	h = hs_mix64(h ^ acc->alpn ^ ((__u64)acc->alpn_seen << 40));
	return h ? h : 1; /* 0 means "none" in maps */
}

/* The tuple id: the TLS id with the TCP class id (0 when no SYN was seen);
 * never equal to the TLS id of the same hello. */
HS_TUPLE_FN __u64 hs_tuple_id(const struct hs_tuple_acc *acc, __u64 tcp_class)
{
	__u64 h = hs_mix64(hs_tls_id(acc) + 0x6879647261ull);

	h = hs_mix64(h ^ tcp_class);
	return h ? h : 1;
}

/* Key of the tcp_sigs map: every raw field, so the p0f string is exact. */
HS_TUPLE_FN __u64 hs_tcp_sig_id(const struct hs_tcp_sig *s)
{
	__u64 h = hs_tcp_class_id(s);

	h = hs_mix64(h ^ ((__u64)s->ip_ver << 56 | (__u64)s->ttl << 48 |
			  (__u64)s->ip_opt_len << 40 | (__u64)s->mss << 16 |
			  s->payload));
	return h ? h : 1;
}

#endif /* HYDRASCOPE_TUPLE_H */
