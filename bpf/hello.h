/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ClientHello detection, bounded capture to the ring buffer, and the
 * in-kernel walk that accumulates the fingerprint tuple id across segments.
 *
 * The walk never looks at every byte: it reads the record and handshake
 * headers, each cipher suite and each extension header, and jumps over
 * everything else by length, so its cost is linear in the number of items
 * and capped (HS_HELLO_MAX_ITEMS). An item split across two segments is
 * carried in the walker state. Anything it cannot follow (out-of-order
 * segments, lying lengths) stops the walk and is counted; the packet passes.
 */
#ifndef HS_BPF_HELLO_H
#define HS_BPF_HELLO_H

#include "track.h"

#define HELLO_BUF_MASK (HS_HELLO_CAP - 1)

/* The payload starts like a TLS handshake record carrying a ClientHello.
 * A first segment shorter than the 6 bytes that prove it is accepted on
 * what it has (a client must not dodge fingerprinting by sending its hello
 * in 1-byte segments); the walk rejects it later if the rest disagrees. */
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
	return b[0] == 0x16 && (n < 2 || b[1] == 0x03) &&
	       (n < 3 || b[2] <= 0x04) && (n < 6 || b[5] == 0x01);
}

static __always_inline __u32 walk_item_size(__u8 phase)
{
	switch (phase) {
	case HS_W_REC: return 5;
	case HS_W_HS: return 4;
	case HS_W_SID: return 1;
	case HS_W_CS_LEN: return 2;
	case HS_W_CS: return 2;
	case HS_W_COMP_LEN: return 1;
	case HS_W_EXT_LEN: return 2;
	case HS_W_EXT: return 4;
	}
	return 0;
}

/* Consume one complete item b[0..size). */
static __always_inline void walk_item(struct hs_hello_walk *w, const __u8 *b)
{
	__u32 v = (b[0] << 8) | b[1];
	__u32 l;

	switch (w->phase) {
	case HS_W_REC:
		if (b[0] != 0x16 || b[1] != 0x03)
			goto bad;
		w->rec_end = 5 + ((b[3] << 8) | b[4]);
		w->phase = HS_W_HS;
		return;
	case HS_W_HS:
		if (b[0] != 0x01)
			goto bad;
		w->skip = 34; /* legacy version + random */
		w->phase = HS_W_SID;
		return;
	case HS_W_SID:
		w->skip = b[0];
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
		w->skip = b[0];
		w->phase = HS_W_EXT_LEN;
		return;
	case HS_W_EXT_LEN:
		w->remain = v;
		w->phase = v ? HS_W_EXT : HS_W_DONE;
		return;
	case HS_W_EXT:
		l = (b[2] << 8) | b[3];
		if (w->remain < 4 + l)
			goto bad;
		if (!hs_tuple_add_ext(&w->acc, v)) {
			w->capped = 1;
			w->phase = HS_W_DONE;
			return;
		}
		w->remain -= 4 + l;
		w->skip = l;
		if (!w->remain)
			w->phase = HS_W_DONE;
		return;
	}
bad:
	w->phase = HS_W_BAD;
}

struct walk_ctx {
	struct hs_hello_walk *w;
	const __u8 *buf; /* this segment's captured bytes */
	__u32 base;	 /* hello offset of buf[0] */
	__u32 pos;
	__u32 end;
};

static __always_inline void walk_skip(struct walk_ctx *c)
{
	struct hs_hello_walk *w = c->w;
	__u32 adv = c->end - c->pos;

	if (adv > w->skip)
		adv = w->skip;
	c->pos += adv;
	w->skip -= adv;
}

#define CS_BATCH 16
#define EXT_BATCH 8

/* Up to CS_BATCH whole cipher suites in one call (the common case: no
 * carried bytes, all inside this segment and the record). Returns how many
 * it took; the generic step handles everything else. */
static __always_inline __u32 walk_cipher_batch(struct walk_ctx *c,
					       struct hs_hello_walk *w)
{
	__u32 k;

	for (k = 0; k < CS_BATCH; k++) {
		__u32 pos = c->pos;
		__u16 v;

		if (w->phase != HS_W_CS || w->carry_len || w->remain < 2 ||
		    c->end - pos < 2 ||
		    (w->rec_end && c->base + pos + 2 > w->rec_end))
			break;
		v = (c->buf[pos & HELLO_BUF_MASK] << 8) |
		    c->buf[(pos + 1) & HELLO_BUF_MASK];
		if (!hs_tuple_add_cipher(&w->acc, v)) {
			w->capped = 1;
			w->phase = HS_W_DONE;
			return k + 1;
		}
		c->pos = pos + 2;
		w->remain -= 2;
		if (!w->remain)
			w->phase = HS_W_COMP_LEN;
	}
	return k;
}

/* Up to EXT_BATCH whole extension headers in one call, each body jumped
 * over when it lies in this segment (the common case). */
static __always_inline __u32 walk_ext_batch(struct walk_ctx *c,
					    struct hs_hello_walk *w)
{
	__u32 k;

	for (k = 0; k < EXT_BATCH; k++) {
		__u32 pos = c->pos, l;
		__u16 v;

		if (w->phase != HS_W_EXT || w->carry_len || w->skip ||
		    c->end - pos < 4 ||
		    (w->rec_end && c->base + pos + 4 > w->rec_end))
			break;
		v = (c->buf[pos & HELLO_BUF_MASK] << 8) |
		    c->buf[(pos + 1) & HELLO_BUF_MASK];
		l = (c->buf[(pos + 2) & HELLO_BUF_MASK] << 8) |
		    c->buf[(pos + 3) & HELLO_BUF_MASK];
		if (w->remain < 4 + l) {
			w->phase = HS_W_BAD;
			return k + 1;
		}
		if (!hs_tuple_add_ext(&w->acc, v)) {
			w->capped = 1;
			w->phase = HS_W_DONE;
			return k + 1;
		}
		w->remain -= 4 + l;
		if (!w->remain)
			w->phase = HS_W_DONE;
		pos += 4;
		if (c->end - pos < l) { /* the body goes on past this segment */
			c->pos = pos;
			w->skip = l;
			return k + 1;
		}
		c->pos = pos + l;
	}
	return k;
}

/* bpf_loop callback: one item (or a batch of cipher suites or extension
 * headers) per call.
 * Returns 1 to stop. */
static long walk_step(__u32 i __attribute__((unused)), void *ctx)
{
	struct walk_ctx *c = ctx;
	struct hs_hello_walk *w = c->w;
	__u8 b[8] = {};
	__u32 sz, have, k, cl;

	if (w->skip)
		walk_skip(c);
	if (w->phase >= HS_W_DONE || c->pos >= c->end)
		return 1;
	if (walk_cipher_batch(c, w) || walk_ext_batch(c, w))
		return 0;
	/* nothing of the hello lies past its record (single-record hellos) */
	if (w->rec_end && c->base + c->pos - w->carry_len >= w->rec_end) {
		w->phase = w->phase == HS_W_EXT_LEN ? HS_W_DONE : HS_W_BAD;
		return 1;
	}
	sz = walk_item_size(w->phase);
	cl = w->carry_len & 7;
	have = cl + (c->end - c->pos);
	if (have < sz) { /* split item: keep its head for the next segment */
		for (k = 0; k < 5; k++) {
			if (c->pos + k >= c->end)
				break;
			w->carry[(cl + k) & 7] =
			    c->buf[(c->pos + k) & HELLO_BUF_MASK];
		}
		w->carry_len = cl + (c->end - c->pos);
		c->pos = c->end;
		return 1;
	}
	for (k = 0; k < 5; k++) {
		if (k < cl)
			b[k] = w->carry[k & 7];
		else
			b[k] = c->buf[(c->pos + k - cl) & HELLO_BUF_MASK];
	}
	c->pos += sz - cl;
	w->carry_len = 0;
	walk_item(w, b);
	return 0;
}

/* Finish the flow's tuple id once the walk is over. */
static __always_inline void
walk_finish(struct hs_flow *f, struct hs_hello_walk *w, struct hs_stats *st)
{
	struct hs_tcp_sig *sig = NULL;
	__u64 tcp_class = 0;

	if (w->phase == HS_W_BAD) {
		f->flags |= HS_F_HELLO_BAD;
		st->hello_bad++;
		return;
	}
	if (f->sig_id)
		sig = bpf_map_lookup_elem(&tcp_sigs, &f->sig_id);
	if (sig)
		tcp_class = hs_tcp_class_id(sig);
	if (w->capped)
		st->hello_item_cap++;
	f->tuple_id = hs_tuple_id(&w->acc, tcp_class);
	f->flags |= HS_F_TUPLE;
	st->tuple_ids++;
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
	__u32 zero = 0, off, len;

	off = p->seq - f->hello_seq;
	if (off >= HS_HELLO_CAP || ++f->hello_segs > HS_HELLO_MAX_SEGS) {
		/* beyond the capture (or a stream of gaps): stop capturing */
		f->flags |= HS_F_HELLO_DONE;
		bpf_map_delete_elem(&hello_walk, key);
		return;
	}
	ev = bpf_map_lookup_elem(&scratch, &zero);
	if (!ev)
		return;
	len = p->payload_len;
	if (len > HS_HELLO_CAP - off)
		len = HS_HELLO_CAP - off;
	if (len < 1 || len > HS_HELLO_CAP)
		return;
	if (bpf_xdp_load_bytes(ctx, p->payload_off, ev->data, len))
		return;
	ev->hdr.type = HS_EV_HELLO_SEG;
	ev->hdr.len = sizeof(*ev) - sizeof(ev->data) - sizeof(ev->hdr) + len;
	ev->key = *key;
	ev->ts_ns = now;
	ev->offset = off;
	ev->seg_len = p->payload_len;
	if (bpf_ringbuf_output(&events, ev,
			       sizeof(*ev) - sizeof(ev->data) + len, 0))
		st->ringbuf_drops++;
	else
		st->hello_segments++;

	w = first ? first : bpf_map_lookup_elem(&hello_walk, key);
	if (!w)
		return; /* walk over (or its state evicted): capture only */
	if (off != w->next_off) {
		/* retransmission (before) or a gap (after): the walk needs
		 * bytes in order, so it stops; userspace reassembles. */
		st->hello_ooo++;
		if (off > w->next_off) {
			f->flags |= HS_F_HELLO_GAP;
			bpf_map_delete_elem(&hello_walk, key);
		}
		return;
	}
	wc.w = w;
	wc.buf = ev->data;
	wc.base = off;
	wc.end = len;
	bpf_loop(HS_HELLO_STEPS_PER_PKT, walk_step, &wc, 0);
	w->next_off = off + len;
	if (w->rec_end)
		f->hello_end = f->hello_seq + w->rec_end;
	if (w->phase < HS_W_DONE && w->next_off >= HS_HELLO_CAP) {
		w->capped = 1; /* the rest lies beyond what we capture */
		w->phase = HS_W_DONE;
	}
	if (w->phase >= HS_W_DONE &&
	    !(f->flags & (HS_F_TUPLE | HS_F_HELLO_BAD))) {
		walk_finish(f, w, st);
		if (f->flags & HS_F_TUPLE)
			src->last_tuple_id = f->tuple_id;
	}
	/* capture (and the walk state) ends with the record or the cap */
	if ((w->rec_end && w->next_off >= w->rec_end) ||
	    w->next_off >= HS_HELLO_CAP) {
		f->flags |= HS_F_HELLO_DONE;
		if (!first)
			bpf_map_delete_elem(&hello_walk, key);
	} else if (first &&
		   bpf_map_update_elem(&hello_walk, key, first, BPF_ANY)) {
		st->hello_state_fail++; /* later segments: capture only */
	}
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

#endif /* HS_BPF_HELLO_H */
