/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ClientHello detection, bounded capture to the ring buffer, and the
 * in-kernel walk that accumulates the fingerprint tuple id across segments.
 *
 * The walk never looks at every byte: it reads the record and handshake
 * headers, each cipher suite, each extension header and a few ALPN bytes,
 * and jumps over everything else by length, so its cost is linear in the
 * number of items and capped (HS_HELLO_MAX_ITEMS). It follows the
 * handshake message across TLS records (a record header met inside the
 * message is read and stepped over) and across segments; an item or a
 * record header split across either is carried in the walker state.
 * Anything it cannot follow (out-of-order segments, lying lengths) or that
 * goes past a bound (segments, records, steps) stops the walk, is counted
 * by reason, and marks the flow "unfingerprintable TLS" (HS_F_UNFP); the
 * packet passes.
 */
#ifndef HS_BPF_HELLO_H
#define HS_BPF_HELLO_H

#include "track.h"

#define HELLO_BUF_MASK (HS_HELLO_CAP - 1)

/* The payload starts like a TLS handshake record carrying a ClientHello.
 * A first segment shorter than the 6 bytes that prove it is accepted on
 * what it has (a client must not dodge fingerprinting by sending its hello
 * in 1-byte segments); the walk rejects it later if the rest disagrees. */
static __always_inline bool bytes_are_hello(const __u8 b[6], __u32 n)
{
	/* an empty handshake record first: a server's TLS skips it (OpenSSL
	 * takes up to 32), so the hello's message starts in the next one */
	bool empty = n >= 5 && !b[3] && !b[4];

	return b[0] == 0x16 && (n < 2 || b[1] == 0x03) &&
	       (n < 3 || b[2] <= 0x04) &&
	       (n < 6 || b[5] == (empty ? 0x16 : 0x01));
}

static __always_inline bool payload_is_hello(struct xdp_md *ctx,
					     const struct pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *first = data + p->payload_off;
	__u8 b[6] = {};
	__u32 n = p->payload_len < 6 ? p->payload_len : 6;

	if (n < 1 || p->payload_off > 0x7fff)
		return false;
	/* cheap reject for the common case: one direct byte read */
	if ((void *)(first + 1) <= data_end && *first != 0x16)
		return false;
	if (bpf_xdp_load_bytes(ctx, p->payload_off, b, n))
		return false;
	return bytes_are_hello(b, n);
}

static __always_inline __u32 walk_item_size(__u8 phase)
{
	switch (phase) {
	case HS_W_HS: return 4;
	case HS_W_SID: return 1;
	case HS_W_CS_LEN: return 2;
	case HS_W_CS: return 2;
	case HS_W_COMP_LEN: return 1;
	case HS_W_EXT_LEN: return 2;
	case HS_W_EXT: return 4;
	case HS_W_ALPN: return 1;
	}
	return 0;
}

/* Once the handshake length and enough record headers are known: where
 * the message ends in the stream. */
static __always_inline void walk_msg_end(struct hs_hello_walk *w)
{
	if (w->hs_want && !w->msg_end && w->hs_seen >= w->hs_want)
		w->msg_end = w->rec_end - (w->hs_seen - w->hs_want);
}

/* The extension list is over once its last body has been skipped: the
 * body must still fit in the message (walk_step checks its end on the
 * way), as userspace's parser requires. */
static __always_inline void walk_list_end(struct hs_hello_walk *w)
{
	if (w->phase == HS_W_EXT && !w->remain && !w->skip)
		w->phase = HS_W_DONE;
}

/* After an extension header of body length l: the ALPN body's first bytes
 * are hashed (first ALPN extension only), every other body skipped. */
static __always_inline void walk_ext_body(struct hs_hello_walk *w, __u16 v,
					  __u32 l)
{
	if (v == 0x0010 && l && !w->acc.alpn_seen) {
		w->acc.alpn_seen = 1;
		w->alpn_left = l < HS_ALPN_BYTES ? l : HS_ALPN_BYTES;
		w->alpn_rest = l - w->alpn_left;
		w->phase = HS_W_ALPN;
		return;
	}
	w->skip = l;
	walk_list_end(w);
}

/* Consume one complete item, its bytes big-endian in x from the top
 * (b0 = x >> 24, b1 = x >> 16 & 0xff, ...). */
static __always_inline void walk_item(struct hs_hello_walk *w, __u32 x)
{
	__u32 v = x >> 16, l;
	__u8 b0 = x >> 24;

	switch (w->phase) {
	case HS_W_HS:
		if (b0 != 0x01)
			goto bad;
		w->hs_want = 4 + (x & 0xffffff);
		walk_msg_end(w);
		w->skip = 34; /* legacy version + random */
		w->phase = HS_W_SID;
		return;
	case HS_W_SID:
		w->skip = b0;
		w->phase = HS_W_CS_LEN;
		return;
	case HS_W_CS_LEN:
		if (v & 1)
			goto bad;
		w->remain = v;
		w->phase = v ? HS_W_CS : HS_W_COMP_LEN;
		return;
	case HS_W_CS:
		if (!hs_tuple_add_cipher(&w->acc, v)) {
			w->capped = 1;
			w->phase = HS_W_DONE;
			return;
		}
		w->remain -= 2;
		if (!w->remain)
			w->phase = HS_W_COMP_LEN;
		return;
	case HS_W_COMP_LEN:
		w->skip = b0;
		w->phase = HS_W_EXT_LEN;
		return;
	case HS_W_EXT_LEN:
		w->remain = v;
		w->phase = v ? HS_W_EXT : HS_W_DONE;
		return;
	case HS_W_EXT:
		l = x & 0xffff;
		if (w->remain < 4 + l)
			goto bad;
		if (!hs_tuple_add_ext(&w->acc, v)) {
			w->capped = 1;
			w->phase = HS_W_DONE;
			return;
		}
		w->remain -= 4 + l;
		walk_ext_body(w, v, l);
		return;
	case HS_W_ALPN:
		hs_tuple_add_alpn(&w->acc, b0);
		if (--w->alpn_left)
			return;
		w->skip = w->alpn_rest;
		w->phase = HS_W_EXT;
		walk_list_end(w);
		return;
	}
bad:
	w->phase = HS_W_BAD;
}

struct walk_ctx {
	struct hs_hello_walk *w;
	const __u8 *buf; /* this segment's captured bytes */
	__u32 base;	 /* stream offset of buf[0] */
	__u32 pos;
	__u32 end;
};

/* Bytes from pos that lie in this segment and in the current record. */
static __always_inline __u32 walk_avail(const struct walk_ctx *c,
					const struct hs_hello_walk *w)
{
	__u32 seg = c->end - c->pos, rec = w->rec_end - (c->base + c->pos);

	return seg < rec ? seg : rec;
}

/* A record header at pos (possibly split across segments). Returns 1 to
 * stop the walk of this segment. */
static __always_inline long walk_rec_hdr(struct walk_ctx *c,
					 struct hs_hello_walk *w)
{
	__u32 k, n = w->rh_len & 7, rlen;

	for (k = 0; k < 5; k++) {
		if (n >= 5 || c->pos >= c->end)
			break;
		w->rh[n & 7] = c->buf[c->pos & HELLO_BUF_MASK];
		n++;
		c->pos++;
	}
	if (n < 5) {
		w->rh_len = n;
		return 1; /* the rest of the header is in the next segment */
	}
	w->rh_len = 0;
	rlen = (w->rh[3] << 8) | w->rh[4];
	if (w->rh[0] != 0x16 || (!w->records && w->rh[1] != 0x03) ||
	    rlen > HS_TLS_RECORD_MAX) {
		/* not a handshake record where the message goes on, or one
		 * longer than a record can be (HS_TLS_RECORD_MAX): the
		 * server's TLS rejects it, userspace finds it incomplete
		 * (also at the record bound below). An empty record is
		 * walked past, as a server's TLS skips it; it counts
		 * towards the bound. */
		w->phase = HS_W_BAD;
		return 1;
	}
	/* past the bound, only once the ids are done (at most the last body
	 * was left to skip): the walk follows record headers to the message
	 * end, so that the capture ends there, as userspace finds it (the
	 * step budget and the capture bound its cost) */
	if (w->records >= HS_HELLO_MAX_RECORDS && w->phase != HS_W_DONE &&
	    (w->phase != HS_W_EXT || w->remain)) {
		w->phase = HS_W_GIVEUP;
		w->give_up = HS_U_RECORDS;
		return 1;
	}
	if (w->records < 0xff)
		w->records++;
	w->rec_end = c->base + c->pos + rlen;
	w->hs_seen += rlen;
	walk_msg_end(w);
	return 0;
}

static __always_inline __u32 walk_byte(const struct walk_ctx *c, __u32 pos)
{
	return c->buf[pos & HELLO_BUF_MASK];
}

/* The hello's fixed-layout stretches in one call each, when they lie
 * whole in this segment, the record and the message (the common case):
 * the handshake header through the cipher suites' length (header,
 * version, random, session id), and the compression methods through the
 * extensions' length. The state after is the generic steps' (walk_item
 * and skips); anything else (a split, a lying length, a wrong type) is
 * left to them, which know how to carry, flag or reject it. */
static __always_inline bool walk_fixed_batch(struct walk_ctx *c,
					     struct hs_hello_walk *w)
{
	__u32 pos = c->pos, avail, want, need, v;

	if (w->carry_len || w->skip)
		return false;
	avail = walk_avail(c, w);
	if (w->phase == HS_W_HS) {
		if (avail < 4 + 34 + 1 || walk_byte(c, pos) != 0x01)
			return false;
		need = 4 + 34 + 1 + walk_byte(c, pos + 38) + 2;
		want = 4 + (walk_byte(c, pos + 1) << 16 |
			    walk_byte(c, pos + 2) << 8 | walk_byte(c, pos + 3));
		if (avail < need || want < need)
			return false;
		v = walk_byte(c, pos + need - 2) << 8 |
		    walk_byte(c, pos + need - 1);
		if (v & 1)
			return false;
		w->hs_want = want;
		walk_msg_end(w);
		w->remain = v;
		w->phase = v ? HS_W_CS : HS_W_COMP_LEN;
		c->pos = pos + need;
		return true;
	}
	if (w->phase != HS_W_COMP_LEN || avail < 1)
		return false;
	need = 1 + walk_byte(c, pos) + 2;
	if (avail < need || (w->msg_end && c->base + pos + need > w->msg_end))
		return false;
	v = walk_byte(c, pos + need - 2) << 8 | walk_byte(c, pos + need - 1);
	w->remain = v;
	w->phase = v ? HS_W_EXT : HS_W_DONE;
	c->pos = pos + need;
	return true;
}

#define CS_BATCH 16
#define EXT_BATCH 8

/* Up to CS_BATCH whole cipher suites in one call (no carried bytes, all
 * inside this segment, the record and the list, under the item cap): the
 * same sums as hs_tuple_add_cipher, with few values live in the loop so
 * that the callback's frame stays small. Returns how many it took. */
static __always_inline __u32 walk_cipher_batch(struct walk_ctx *c,
					       struct hs_hello_walk *w)
{
	const __u8 *buf = c->buf;
	__u32 n, k, pos = c->pos;
	__u64 sum = 0;

	if (w->phase != HS_W_CS || w->carry_len)
		return 0;
	n = walk_avail(c, w);
	if (n > w->remain)
		n = w->remain;
	n /= 2;
	if (n > CS_BATCH)
		n = CS_BATCH;
	if (w->acc.items >= HS_HELLO_MAX_ITEMS)
		return 0; /* the generic step marks the cap */
	if (n > HS_HELLO_MAX_ITEMS - w->acc.items)
		n = HS_HELLO_MAX_ITEMS - w->acc.items;
#pragma clang loop unroll(disable)
	for (k = 0; k < CS_BATCH; k++) {
		__u16 v;

		if (k >= n)
			break;
		v = (buf[pos & HELLO_BUF_MASK] << 8) |
		    buf[(pos + 1) & HELLO_BUF_MASK];
		if (!hs_is_grease(v))
			sum += hs_mix64(0x100000000ull | v);
		pos += 2;
	}
	w->acc.ciphers += sum;
	w->acc.items += n;
	w->remain -= 2 * n;
	c->pos = pos;
	if (!w->remain)
		w->phase = HS_W_COMP_LEN;
	return n;
}

/* Up to EXT_BATCH whole extension headers in one call, each with a body
 * that lies in this segment and record (the common case); the generic
 * step takes everything else (ALPN, bodies that go on, lying lengths). */
static __always_inline __u32 walk_ext_batch(struct walk_ctx *c,
					    struct hs_hello_walk *w)
{
	__u32 k;

#pragma clang loop unroll(disable)
	for (k = 0; k < EXT_BATCH; k++) {
		__u32 pos = c->pos, l, avail;
		__u16 v;

		avail = walk_avail(c, w);
		if (w->phase != HS_W_EXT || w->carry_len || w->skip ||
		    avail < 4)
			break;
		v = (c->buf[pos & HELLO_BUF_MASK] << 8) |
		    c->buf[(pos + 1) & HELLO_BUF_MASK];
		l = (c->buf[(pos + 2) & HELLO_BUF_MASK] << 8) |
		    c->buf[(pos + 3) & HELLO_BUF_MASK];
		if (v == 0x0010 || w->remain < 4 + l || avail - 4 < l)
			break;
		if (!hs_tuple_add_ext(&w->acc, v)) {
			w->capped = 1;
			w->phase = HS_W_DONE;
			return k + 1;
		}
		w->remain -= 4 + l;
		c->pos = pos + 4 + l;
		if (!w->remain) {
			w->phase = HS_W_DONE;
			return k + 1;
		}
	}
	return k;
}

/* One item through the generic path: from carried bytes and this
 * segment, or kept as carried bytes when it goes on past the segment or
 * the record. */
static __always_inline long walk_generic(struct walk_ctx *c,
					 struct hs_hello_walk *w)
{
	__u32 sz = walk_item_size(w->phase), cl = w->carry_len & 7;
	__u32 avail = walk_avail(c, w), k, x = 0;

	if (cl + avail < sz) { /* split item: keep its head for what follows */
		for (k = 0; k < 4; k++) {
			if (k >= avail)
				break;
			w->carry[(cl + k) & 7] =
			    c->buf[(c->pos + k) & HELLO_BUF_MASK];
		}
		w->carry_len = cl + avail;
		c->pos += avail;
		return 0;
	}
	for (k = 0; k < 4; k++) {
		__u32 byte = 0;

		if (k < cl)
			byte = w->carry[k & 7];
		else if (k < sz)
			byte = c->buf[(c->pos + k - cl) & HELLO_BUF_MASK];
		x |= byte << (24 - 8 * k);
	}
	c->pos += sz - cl;
	w->carry_len = 0;
	walk_item(w, x);
	return 0;
}

/* The walk is over: keep following records until the message end is
 * known, so that the capture knows where the hello ends. */
static __always_inline long walk_over(struct walk_ctx *c,
				      struct hs_hello_walk *w)
{
	if (w->phase != HS_W_DONE || w->msg_end || !w->hs_want)
		return 1;
	if (c->base + c->pos >= w->rec_end)
		return walk_rec_hdr(c, w);
	c->pos += walk_avail(c, w);
	return 0;
}

/* bpf_loop callback: one item (or a batch of cipher suites or extension
 * headers, or a record header, or a skip to the record's end) per call.
 * Returns 1 to stop. */
static long walk_step(__u32 i __attribute__((unused)), void *ctx)
{
	struct walk_ctx *c = ctx;
	struct hs_hello_walk *w = c->w;
	__u32 avail;

	/* nothing of the hello lies past its handshake message: it may end
	 * where extensions would start (none), a skip may not overrun it;
	 * checked before the segment's end, where the message may end too */
	if (w->phase < HS_W_DONE && w->msg_end &&
	    c->base + c->pos >= w->msg_end) {
		w->phase = c->base + c->pos == w->msg_end &&
				   w->phase == HS_W_EXT_LEN && !w->carry_len &&
				   !w->skip
			       ? HS_W_DONE
			       : HS_W_BAD;
		return 1;
	}
	if (c->pos >= c->end)
		return 1;
	if (w->phase >= HS_W_DONE)
		return walk_over(c, w);
	if (c->base + c->pos >= w->rec_end)
		return walk_rec_hdr(c, w);
	if (w->skip) {
		avail = walk_avail(c, w);
		if (avail > w->skip)
			avail = w->skip;
		c->pos += avail;
		w->skip -= avail;
		walk_list_end(w);
		return 0;
	}
	if (walk_fixed_batch(c, w) || walk_cipher_batch(c, w) ||
	    walk_ext_batch(c, w))
		return 0;
	return walk_generic(c, w);
}

/* The flow's hello cannot be fingerprinted: say so (a signal for the
 * policy), count it by reason. */
static __always_inline void mark_unfp(struct hs_flow *f, __u8 reason,
				      struct hs_stats *st)
{
	if (f->flags & HS_F_UNFP)
		return;
	f->flags |= HS_F_UNFP;
	f->unfp_reason = reason;
	st->hello_unfp++;
	switch (reason) {
	case HS_U_GAP: st->hello_gap++; break;
	case HS_U_SEGS: st->hello_seg_limit++; break;
	case HS_U_RECORDS: st->hello_rec_limit++; break;
	case HS_U_BUDGET: st->hello_budget++; break;
	case HS_U_TFO: st->hello_tfo++; break;
	case HS_U_FRAG: st->hello_frag++; break;
	case HS_U_V6EXT: st->hello_v6ext++; break;
	case HS_U_UNSEEN: st->hello_unseen++; break;
	}
}

/* Finish the flow's ids once the walk is over. */
static __always_inline void
walk_finish(struct hs_flow *f, struct hs_hello_walk *w, struct hs_stats *st)
{
	struct hs_tcp_sig *sig = NULL;
	__u64 tcp_class = 0;

	if (w->phase == HS_W_BAD) {
		f->flags |= HS_F_HELLO_BAD;
		st->hello_bad++;
		mark_unfp(f, HS_U_BAD, st);
		return;
	}
	if (w->phase == HS_W_GIVEUP) {
		mark_unfp(f, w->give_up, st);
		return;
	}
	if (f->sig_id)
		sig = bpf_map_lookup_elem(&tcp_sigs, &f->sig_id);
	if (sig)
		tcp_class = hs_tcp_class_id(sig);
	if (w->capped)
		st->hello_item_cap++;
	if (w->records > 1)
		st->hello_multi_record++;
	f->tls_id = hs_tls_id(&w->acc);
	f->tuple_id = hs_tuple_id(&w->acc, tcp_class);
	f->flags |= HS_F_TUPLE;
	st->tuple_ids++;
}

/* Capture over: no more hello segments for this flow. */
static __always_inline void hello_over(const struct hs_flow_key *key,
				       struct hs_flow *f, bool stored)
{
	f->flags |= HS_F_HELLO_DONE;
	if (stored)
		bpf_map_delete_elem(&hello_walk, key);
}

/* Copy the segment's payload from byte skip on to userspace as the
 * hello's bytes at stream offset off (up to the capture's end). Returns
 * the staged event, whose bytes the walk reads, and their number. */
static __always_inline struct hs_hello_seg *
hello_emit(struct xdp_md *ctx, const struct hs_flow_key *key,
	   const struct pkt *p, __u32 skip, __u32 off, __u32 flags, __u64 now,
	   struct hs_stats *st, __u32 *lenp)
{
	struct hs_hello_seg *ev;
	__u32 zero = 0, len, len_ev;

	ev = bpf_map_lookup_elem(&scratch, &zero);
	if (!ev || skip >= p->payload_len || off >= HS_HELLO_CAP)
		return NULL;
	len = p->payload_len - skip;
	if (len > HS_HELLO_CAP - off)
		len = HS_HELLO_CAP - off;
	/* clang knows len >= 1 here, the verifier does not: keep the test */
	barrier_var(len);
	if (len < 1 || len > HS_HELLO_CAP)
		return NULL;
	if (bpf_xdp_load_bytes(ctx, p->payload_off + skip, ev->data, len))
		return NULL;
	ev->hdr.type = HS_EV_HELLO_SEG;
	ev->hdr.len = sizeof(*ev) - sizeof(ev->data) - sizeof(ev->hdr) + len;
	ev->key = *key;
	ev->ts_ns = now;
	ev->offset = off;
	ev->seg_len = p->payload_len;
	ev->flags = flags;
	ev->pad = 0;
	len_ev = sizeof(*ev) - sizeof(ev->data) + len;
	if (bpf_ringbuf_output(&events, ev, len_ev,
			       ring_wakeup(&events, HS_RINGBUF_BYTES, len_ev)))
		st->ringbuf_drops++;
	else
		st->hello_segments++;
	*lenp = len;
	return ev;
}

/* Copy this hello segment to userspace and walk it. The first segment is
 * walked in per-CPU scratch (first != NULL); only a hello that goes on in
 * another segment keeps its walk state in hello_walk. */
static __always_inline void
hello_segment(struct xdp_md *ctx, const struct hs_flow_key *key,
	      struct hs_flow *f, struct hs_source *src, const struct pkt *p,
	      __u64 now, struct hs_stats *st, struct hs_hello_walk *first)
{
	struct hs_hello_walk *w;
	struct hs_hello_seg *ev;
	struct walk_ctx wc = {};
	__u32 off, len = 0;
	long steps;
	bool over;

	off = p->seq - f->hello_seq;
	if (off >= HS_HELLO_CAP) {
		/* past the capture before the hello ended: a hole */
		st->hello_ooo++;
		if (!(f->flags & HS_F_TUPLE))
			mark_unfp(f, HS_U_GAP, st);
		hello_over(key, f, !first);
		return;
	}
	if (++f->hello_segs > HS_HELLO_MAX_SEGS) {
		if (!(f->flags & HS_F_TUPLE))
			mark_unfp(f, HS_U_SEGS, st);
		hello_over(key, f, !first);
		return;
	}
	ev = hello_emit(ctx, key, p, 0, off, first ? HS_SEG_FIRST : 0, now, st,
			&len);
	if (!ev)
		return;

	w = first ? first : bpf_map_lookup_elem(&hello_walk, key);
	if (!w) {
		/* walk state gone (evicted, or never stored) */
		if (!(f->flags & HS_F_TUPLE))
			mark_unfp(f, HS_U_STATE, st);
		if (!(f->flags & HS_F_TUPLE) || !(f->flags & HS_F_HELLO_END) ||
		    !seq_before(p->seq + p->payload_len, f->hello_end))
			hello_over(key, f, false);
		return;
	}
	/* a segment from before the next byte that brings new ones (sent
	 * again, repacketised): the walk takes its new tail, as the server's
	 * TCP does (and userspace, which keeps the first bytes it got) */
	if (off < w->next_off && w->next_off - off < len)
		wc.pos = w->next_off - off;
	else if (off != w->next_off) {
		/* retransmission (before) or a gap (after): the walk needs
		 * bytes in order, so it stops; userspace reassembles. */
		st->hello_ooo++;
		if (off > w->next_off) {
			f->flags |= HS_F_HELLO_GAP;
			if (!(f->flags & HS_F_TUPLE))
				mark_unfp(f, HS_U_GAP, st);
			hello_over(key, f, true);
		}
		return;
	}
	wc.w = w;
	wc.buf = ev->data;
	wc.base = off;
	wc.end = len;
	steps = bpf_loop(HS_HELLO_STEPS_PER_PKT, walk_step, &wc, 0);
	if (steps >= HS_HELLO_STEPS_PER_PKT && wc.pos < wc.end &&
	    w->phase < HS_W_DONE) {
		w->phase = HS_W_GIVEUP;
		w->give_up = HS_U_BUDGET;
	}
	/* the extension list ran past the message's end (once that end is
	 * known, and not only the capture's end at the record bound, the
	 * walk stops where the list ended) */
	if (w->phase == HS_W_DONE && w->msg_end && w->hs_want &&
	    w->hs_seen >= w->hs_want && off + wc.pos > w->msg_end)
		w->phase = HS_W_BAD;
	w->next_off = off + len;
	if (w->msg_end) {
		f->hello_end = f->hello_seq + w->msg_end;
		f->flags |= HS_F_HELLO_END;
	}
	if (w->phase < HS_W_DONE && w->next_off >= HS_HELLO_CAP) {
		w->capped = 1; /* the rest lies beyond what we capture */
		w->phase = HS_W_DONE;
	}
	/* capture (and the walk state) ends with the message, the cap, or a
	 * walk that cannot go on */
	over = (w->msg_end && w->next_off >= w->msg_end) ||
	       w->next_off >= HS_HELLO_CAP || w->phase > HS_W_DONE;
	/* ids once the whole message is in, as the server's TLS reads it
	 * (and userspace fingerprints it): not on a message that never ends
	 * after its extensions */
	if (w->phase >= HS_W_DONE && over &&
	    !(f->flags & (HS_F_TUPLE | HS_F_HELLO_BAD | HS_F_UNFP))) {
		walk_finish(f, w, st);
		if (f->flags & HS_F_TUPLE)
			src->last_tuple_id = f->tuple_id;
	}
	if (over) {
		if (!(f->flags & HS_F_HELLO_END)) {
			f->hello_end = f->hello_seq + w->next_off;
			f->flags |= HS_F_HELLO_END;
		}
		hello_over(key, f, !first);
	} else if (first &&
		   bpf_map_update_elem(&hello_walk, key, first, BPF_ANY)) {
		st->hello_state_fail++; /* later segments: capture only */
		if (!(f->flags & HS_F_TUPLE))
			mark_unfp(f, HS_U_STATE, st);
	}
}

/*
 * Bytes of the hello's range sent again after its capture ended. A benign
 * stack resends the bytes it sent; other bytes there mean two versions of
 * the hello, one of them a decoy the server's TCP discarded (a bad
 * checksum, a stale timestamp, a filter: reasons XDP cannot all check,
 * and a veth or local path carries partial checksums). The kernel keeps
 * no copy of the hello (hashing every hello byte would double its cost),
 * so the bytes go to userspace, which holds the first ones received at
 * each offset and compares (a conflict is flagged there). Bytes the server
 * has acknowledged are not sent: its TCP drops them too. Past
 * HS_HELLO_MAX_SEGS segments of a hello nothing more is compared, and the
 * flow is flagged instead.
 */
static __always_inline void hello_resend(struct xdp_md *ctx,
					 const struct hs_flow_key *key,
					 struct hs_flow *f, const struct pkt *p,
					 __u64 now, struct hs_stats *st)
{
	__u32 end = p->seq + p->payload_len, skip = 0, len;

	if (seq_before(f->hello_end, end))
		end = f->hello_end;
	if (f->srv_ack && !seq_before(f->srv_ack, end))
		return; /* the server has taken all of it */
	if (seq_before(p->seq, f->hello_seq))
		skip = f->hello_seq - p->seq;
	st->hello_rtx++;
	if (f->hello_segs >= HS_HELLO_MAX_SEGS) {
		if (!(f->flags & HS_F_HELLO_CONFLICT))
			st->hello_conflict++;
		f->flags |= HS_F_HELLO_CONFLICT;
		return;
	}
	f->hello_segs++;
	hello_emit(ctx, key, p, skip, p->seq + skip - f->hello_seq,
		   HS_SEG_RESEND, now, st, &len);
}

/* First segment of a hello: set up the walk and capture it. */
static __always_inline void
hello_start(struct xdp_md *ctx, const struct hs_flow_key *key,
	    struct hs_flow *f, struct hs_source *src, const struct pkt *p,
	    __u64 now, struct hs_stats *st)
{
	struct hs_hello_walk *w;
	__u32 zero = 0;

	f->flags |= HS_F_TLS;
	f->hello_seq = p->seq;
	f->hello_us = flow_stamp_us(f, now);
	src->tls_flows++;
	st->tls_flows++;
	if (f->flags & HS_F_ACK && !(f->flags & HS_F_SYNACK_RTX) &&
	    f->hello_us >= f->ack_us)
		min_u32(&src->min_ack_hello_us, f->hello_us - f->ack_us);
	w = bpf_map_lookup_elem(&walk_scratch, &zero);
	if (!w)
		return;
	__builtin_memset(w, 0, sizeof(*w));
	hello_segment(ctx, key, f, src, p, now, st, w);
}

/*
 * A HelloRetryRequest makes the client send a second ClientHello right
 * after its first (behind a ChangeCipherSpec record in middlebox
 * compatibility mode), where it otherwise sends its second flight (a
 * ChangeCipherSpec, encrypted records or, in TLS 1.2, a
 * ClientKeyExchange). Its JA4 is worth having (the references give one
 * per hello), so its segments are copied to userspace as well
 * (HS_SEG_RETRY, offsets from its first byte): at most
 * HS_RETRY_MAX_SEGS segments and HS_HELLO_CAP bytes, until the server
 * speaks again or the flow ends. It is not walked: the TLS and tuple ids,
 * and so the clusters and rules, are the first hello's. The search looks
 * at the client's bytes that follow the first hello in sequence (not at
 * the server's flight, which a one-sided capture lacks) and ends at the
 * first record that is neither a ChangeCipherSpec nor a hello.
 */

/* A client segment after the first hello, while the search is on: does
 * the second hello start here? retry_seq holds where the client's next
 * bytes are expected (0: the first hello's end). */
static __always_inline void retry_search(struct xdp_md *ctx, struct hs_flow *f,
					 const struct pkt *p,
					 struct hs_stats *st)
{
	__u32 want = f->retry_seq ? f->retry_seq : f->hello_end, at = 0, n;
	__u8 b[6] = {};

	if (!(f->flags & HS_F_HELLO_END) || seq_before(p->seq, want))
		return; /* the first hello again (retransmitted) */
	if (p->seq != want || ++f->retry_segs > HS_RETRY_MAX_SEGS ||
	    p->payload_off > 0x7fff)
		goto over; /* a hole, or too long a search */
	n = p->payload_len < 6 ? p->payload_len : 6;
	barrier_var(n); /* as in hello_emit */
	if (n < 1 || n > 6 || bpf_xdp_load_bytes(ctx, p->payload_off, b, n))
		goto over;
	if (b[0] == 0x14 && n >= 5) {
		at = 5 + ((__u32)b[3] << 8 | b[4]);
		if (at >= p->payload_len) {
			/* a ChangeCipherSpec alone: the next segment */
			f->retry_seq = p->seq + p->payload_len;
			return;
		}
		n = p->payload_len - at < 6 ? p->payload_len - at : 6;
		barrier_var(n); /* as in hello_emit */
		if (n < 1 || n > 6 ||
		    bpf_xdp_load_bytes(ctx, p->payload_off + at, b, n))
			goto over;
	}
	if (!bytes_are_hello(b, n))
		goto over;
	f->flags |= HS_F_RETRY;
	f->retry_seq = p->seq + at;
	f->retry_segs = 0;
	st->hello_retries++;
	return;
over:
	f->flags |= HS_F_RETRY_DONE;
}

/* A client segment while the second hello is captured. Returns whether
 * it was copied (a hello's bytes: no request). */
static __always_inline bool retry_segment(struct xdp_md *ctx,
					  const struct hs_flow_key *key,
					  struct hs_flow *f,
					  const struct pkt *p, __u64 now,
					  struct hs_stats *st)
{
	__u32 skip = 0, off, len;

	if (seq_before(p->seq, f->retry_seq)) {
		skip = f->retry_seq - p->seq;
		if (skip >= p->payload_len)
			return false; /* all before it: a retransmission */
		off = 0;
	} else {
		off = p->seq - f->retry_seq;
	}
	if (off >= HS_HELLO_CAP || ++f->retry_segs > HS_RETRY_MAX_SEGS) {
		f->flags |= HS_F_RETRY_DONE;
		return false;
	}
	if (hello_emit(ctx, key, p, skip, off, HS_SEG_RETRY, now, st, &len) &&
	    off + len >= HS_HELLO_CAP)
		f->flags |= HS_F_RETRY_DONE;
	return true;
}

#endif /* HS_BPF_HELLO_H */
