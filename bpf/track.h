/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Flow and source bookkeeping: counters, client bursts and their cadence,
 * and the handshake stamps that give each TLS flow a TCP RTT and a TLS RTT.
 *
 * Updates are plain read-modify-writes, not atomics: a flow's packets
 * arrive on one RX queue (RSS hashes the 5-tuple), so flow fields do not
 * race; a source whose flows land on several CPUs can lose an increment
 * under contention. The counters are indicators, not accounting, and an
 * atomic add costs more than the rest of a mid-flow packet's bookkeeping.
 */
#ifndef HS_BPF_TRACK_H
#define HS_BPF_TRACK_H

#include "maps.h"
#include "parse.h"

/* Sequence-space comparisons (RFC 1982 style). */
static __always_inline bool seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

/* Is seq in [lo, hi)? By its offset from lo, so that a stream 2 GiB past
 * the range (where seq_before turns over) is not in it. */
static __always_inline bool seq_within(__u32 seq, __u32 lo, __u32 hi)
{
	return seq - lo < hi - lo;
}

/* How far before the hello a resent segment may start (one segment that
 * repacketises the bytes before it, as after a CONNECT, with the hello). */
#define HS_RESEND_LEAD 0x10000
/* Where no server packet is seen (a one-sided capture, no egress program),
 * client bytes after which no segment is the hello again: the stream's
 * sequence numbers come round to the hello's every 4 GiB. With the
 * server's packets, HS_F_HELLO_TAKEN ends it instead: a count of bytes
 * the client sends, discarded ones too, is the client's to inflate. */
#define HS_RESEND_BYTES_MAX (1ULL << 31)

/* Is this client segment of a flow whose hello is done the hello again
 * (a retransmission, or other bytes sent in its place, hello_resend)?
 * Not once the server took the whole hello. */
static __always_inline bool client_hello_again(const struct hs_flow *f,
					       const struct pkt *p)
{
	return (f->flags & (HS_F_HELLO_END | HS_F_HELLO_TAKEN)) ==
		   HS_F_HELLO_END &&
	       (f->srv_ack || f->bytes_in < HS_RESEND_BYTES_MAX) &&
	       seq_within(p->seq, f->hello_seq - HS_RESEND_LEAD, f->hello_end);
}

/* Microseconds since the flow's first packet, saturating, never 0 so that
 * 0 can mean "not stamped". */
static __always_inline __u32 flow_stamp_us(const struct hs_flow *f, __u64 now)
{
	__u64 us = now > f->first_ns ? (now - f->first_ns) / 1000 : 0;

	if (us >= 0xffffffffull)
		return 0xffffffffu;
	return us ? us : 1;
}

static __always_inline __s64 sdiv(__s64 a, __u32 n)
{
	return a < 0 ? -(__s64)((__u64)-a / n) : (__s64)((__u64)a / n);
}

/* Welford's update on (mean, population variance); n counts x. Inputs are
 * clamped by the caller so that the products fit in 63 bits. */
static __always_inline void welford(__u64 *mean, __u64 *var, __u32 n, __u64 x)
{
	__s64 d = (__s64)x - (__s64)*mean;
	__s64 m = (__s64)*mean + sdiv(d, n);
	__s64 v = (__s64)*var + sdiv(d * ((__s64)x - m) - (__s64)*var, n);

	*mean = m;
	*var = v > 0 ? v : 0;
}

/* Account client payload; returns true when it starts a new burst. */
static __always_inline bool cadence_update(struct hs_cadence *c, __u64 now,
					   __u32 bytes)
{
	__u64 ivl;

	/* signed: the tick clock can be behind a stamp from another CPU,
	 * and a capture's time can step back; neither is a gap */
	if (c->last_data_ns &&
	    (__s64)(now - c->last_data_ns) < (__s64)cfg.idle_gap_ns) {
		__u64 sum = (__u64)c->cur_bytes + bytes;

		c->cur_bytes = sum > HS_SIZE_CLAMP ? HS_SIZE_CLAMP : sum;
		time_forward(&c->last_data_ns, now);
		return false;
	}
	if (c->bursts) {
		c->size_n++;
		welford(&c->size_mean, &c->size_var, c->size_n, c->cur_bytes);
		ivl = (now - c->burst_start_ns) / 1000;
		if (ivl > HS_IVL_CLAMP_US)
			ivl = HS_IVL_CLAMP_US;
		/* intervals so far = bursts started so far */
		welford(&c->ivl_mean_us, &c->ivl_var_us2, c->bursts, ivl);
	}
	c->bursts++;
	c->burst_start_ns = now;
	c->last_data_ns = now;
	c->cur_bytes = bytes > HS_SIZE_CLAMP ? HS_SIZE_CLAMP : bytes;
	return true;
}

/* Can this client data start or continue a hello? While the search is
 * on, and later for a segment over bytes it took (a retake, see
 * client_retakes); in a TLS flow until the hello is done. */
static __always_inline bool client_hello_open(const struct hs_flow *f,
					      const struct pkt *p)
{
	if (f->flags & HS_F_TLS)
		return !(f->flags & HS_F_HELLO_DONE);
	return f->search_pkts < HS_HELLO_SEARCH_PKTS ||
	       (f->flags & HS_F_SYN &&
		seq_within(p->seq, f->cli_isn + 1, f->cli_next));
}

/* Does this client packet of a known flow take a stamp (the handshake
 * ACK, the hello, the client's second flight, the second hello, the start
 * of a burst)? Then it reads the fine clock; the others keep the tick
 * (tick: now_tick()). A burst may start once the gap on the tick clock is
 * within HS_TICK_SLACK_NS of the burst gap. */
static __always_inline bool client_stamps(const struct hs_flow *f,
					  const struct pkt *p, __u64 tick)
{
	if ((f->flags & (HS_F_SYNACK | HS_F_ACK)) == HS_F_SYNACK)
		return true;
	if (!p->payload_len)
		return false;
	if (client_hello_open(f, p) ||
	    (f->flags & (HS_F_SRV_FLIGHT | HS_F_CLI_FLIGHT)) ==
		HS_F_SRV_FLIGHT ||
	    (f->flags & (HS_F_RETRY | HS_F_RETRY_DONE)) == HS_F_RETRY)
		return true;
	return !f->cad.last_data_ns ||
	       (__s64)(tick - f->cad.last_data_ns) >=
		   (__s64)(cfg.idle_gap_ns - HS_TICK_SLACK_NS);
}

/* The source sees a flow's mid-burst client data at least once per slot
 * of 2^22 ns (4.2 ms): its last data time stays that close to the flow's,
 * far inside the burst gap, so a source burst still starts only where one
 * of its flows starts one. */
#define HS_SRC_SYNC_SHIFT 22

/* A client data packet that takes no stamp (client_stamps: so mid-burst,
 * the handshake measured, no hello open) in a slot the source has seen,
 * past a TLS flow's search for a second hello and not a resent hello: it
 * updates the flow only (its packet and bytes wait in src_pkts and
 * src_bytes). */
static __always_inline bool client_quiet(const struct hs_flow *f,
					 const struct pkt *p, __u64 now)
{
	if (!p->payload_len || p->flags & (TCPF_FIN | TCPF_RST) ||
	    f->src_pkts == 0xff)
		return false;
	if (f->flags & HS_F_TLS &&
	    (!(f->flags & HS_F_RETRY_DONE) || client_hello_again(f, p)))
		return false;
	return now >> HS_SRC_SYNC_SHIFT ==
	       f->cad.last_data_ns >> HS_SRC_SYNC_SHIFT;
}

/* The source takes the flow's waiting client packets and bytes; into its
 * current burst too (a connection's, see struct hs_source), whose last
 * data moves up to the flow's. Before the packet's own cadence update. */
static __always_inline void source_sync(struct hs_flow *f,
					struct hs_source *src)
{
	__u64 sum;

	if (!f->src_pkts)
		return;
	src->pkts_in += f->src_pkts;
	src->bytes_in += f->src_bytes;
	if (f->flags & HS_F_ACK && src->cad.last_data_ns) {
		sum = (__u64)src->cad.cur_bytes + f->src_bytes;
		src->cad.cur_bytes = sum > HS_SIZE_CLAMP ? HS_SIZE_CLAMP : sum;
		time_forward(&src->cad.last_data_ns, f->cad.last_data_ns);
	}
	f->src_pkts = 0;
	f->src_bytes = 0;
}

/* Keep the minimum of samples; 0 means "no sample yet", so a sample below
 * the microsecond resolution is stored as 1. */
static __always_inline void min_u32(__u32 *dst, __u32 v)
{
	if (!v)
		v = 1;
	if (!*dst || v < *dst)
		*dst = v;
}

static __always_inline struct hs_source *
source_get(const struct hs_addr *a, __u64 now, struct hs_stats *st)
{
	struct hs_source *s = bpf_map_lookup_elem(&sources, a);
	struct hs_source init = {};

	if (s)
		return s;
	init.first_ns = now;
	/* EEXIST from a racing CPU is fine: the lookup below finds it. */
	if (!bpf_map_update_elem(&sources, a, &init, BPF_NOEXIST))
		st->source_inserts++;
	s = bpf_map_lookup_elem(&sources, a);
	if (!s)
		st->source_insert_fail++;
	return s;
}

/* A new flow, or a reset of a reused 5-tuple (existed = true). */
/* The zeroed flow entries are copied from (read-only data, not a 200-byte
 * struct on the packet path's stack). */
static const struct hs_flow flow_init;

static __always_inline struct hs_flow *flow_create(const struct hs_flow_key *k,
						   bool existed, __u64 now,
						   struct hs_stats *st)
{
	struct hs_flow *f;

	if (bpf_map_update_elem(&flows, k, &flow_init, BPF_ANY)) {
		st->flow_insert_fail++;
		return NULL;
	}
	if (!existed)
		st->flow_inserts++;
	f = bpf_map_lookup_elem(&flows, k);
	if (f)
		f->first_ns = now;
	return f;
}

/* Report a packet's milestones to the correlator (struct hs_flow_event):
 * the milestone flags it set, and a move after HS_FLOW_IDLE_NS of silence
 * (old_last: the flow's last_ns before the packet, 0 to skip). At most one
 * event a packet and one a milestone: mid-flow packets send none. A flow
 * without a completed handshake reports only its end. */
static __always_inline void flow_report(const struct hs_flow_key *k,
					const struct hs_flow *f,
					__u32 old_flags, __u64 old_last,
					__u64 now, struct hs_stats *st)
{
	__u32 why = f->flags & ~old_flags & HS_FLOW_MILESTONES;
	struct hs_flow_event *ev;
	__u64 wake;

	/* signed: capture times may step back */
	if (old_last && (__s64)(now - old_last) >= (__s64)HS_FLOW_IDLE_NS)
		why |= HS_EV_RESUMED;
	if (!why || !(f->flags & HS_F_ACK || why & HS_F_FIN))
		return;
	/* written in place: no copy, and no event on the packet path's
	 * stack (its deepest chain is near the verifier's 512 bytes) */
	wake = ring_wakeup(&flow_events, HS_FLOW_EVENTS_BYTES, sizeof(*ev));
	ev = bpf_ringbuf_reserve(&flow_events, sizeof(*ev), 0);
	if (!ev) {
		st->flow_event_drops++;
		return;
	}
	ev->hdr.type = HS_EV_FLOW;
	ev->hdr.len = sizeof(*ev) - sizeof(ev->hdr);
	ev->key = *k;
	ev->flags = f->flags;
	ev->why = why;
	bpf_ringbuf_submit(ev, wake);
	st->flow_events++;
}

/* Is this the client's ACK of the SYN-ACK (alone or on data; ECN/CWR/PSH
 * bits do not matter)? A forged address never sees the SYN-ACK. */
static __always_inline bool handshake_acked(const struct hs_flow *f,
					    const struct pkt *p)
{
	return (f->flags & (HS_F_SYNACK | HS_F_ACK)) == HS_F_SYNACK &&
	       p->flags & TCPF_ACK && !(p->flags & (TCPF_SYN | TCPF_RST)) &&
	       p->ack == f->srv_isn + 1;
}

/* A client packet of a flow whose SYN-ACK went out and that the client has
 * not acknowledged, which does not acknowledge it either: forged (a blind
 * sender cannot know the server's sequence number) or premature. It counts
 * on the flow only: no source is made or moved for it, so that forged
 * SYNs and what follows them cannot evict sources or write over them. */
static __always_inline bool handshake_unproven(const struct hs_flow *f,
					       const struct pkt *p)
{
	return (f->flags & (HS_F_SYNACK | HS_F_ACK)) == HS_F_SYNACK &&
	       !handshake_acked(f, p);
}

/* Client's ACK of our SYN-ACK: the connection reaches its source (with
 * its SYN's packet, signature and a TLS hello the SYN carried), and the
 * TCP round trip (Karn: no sample if the SYN-ACK was retransmitted). */
static __always_inline void track_handshake_ack(struct hs_flow *f,
						struct hs_source *src,
						const struct pkt *p, __u64 now,
						struct hs_stats *st)
{
	if (!handshake_acked(f, p))
		return;
	f->flags |= HS_F_ACK;
	src->flows++; /* a connection, not a forged SYN */
	src->last_sig_id = f->sig_id;
	if (f->flags & HS_F_TLS) /* TCP Fast Open: the hello was in the SYN */
		src->tls_flows++;
	f->ack_us = flow_stamp_us(f, now);
	if (f->flags & HS_F_SYNACK_RTX) {
		f->rtt_discards++;
		src->rtt_discards++;
		st->rtt_discards++;
		return;
	}
	if (f->ack_us >= f->synack_us) {
		min_u32(&src->min_tcp_rtt_us, f->ack_us - f->synack_us);
		st->rtt_samples++;
	}
}

/* The client's next flight after the server's handshake flight: TLS RTT.
 * Only new client data (at or past the hello's end) that acknowledges the
 * server's last flight segment counts, and not a segment that holds only
 * a ChangeCipherSpec record: a client may send that one early (TLS 1.3
 * middlebox compatibility, or on purpose to fake a short TLS RTT). A CCS
 * followed by another record in the same segment (CCS + Finished) counts. */
static __always_inline void track_client_flight(struct xdp_md *ctx,
						struct hs_flow *f,
						struct hs_source *src,
						const struct pkt *p, __u64 now,
						struct hs_stats *st)
{
	__u8 rh[5] = {};

	if ((f->flags & (HS_F_SRV_FLIGHT | HS_F_CLI_FLIGHT)) != HS_F_SRV_FLIGHT)
		return;
	if (!(f->flags & HS_F_HELLO_DONE) || seq_before(p->seq, f->hello_end))
		return;
	if (!(p->flags & TCPF_ACK) || seq_before(p->ack, f->srv_next)) {
		st->flight_unacked++;
		return;
	}
	if (p->payload_len >= 5 && p->payload_off <= 0xffff &&
	    !bpf_xdp_load_bytes(ctx, p->payload_off, rh, 5) && rh[0] == 0x14 &&
	    p->payload_len <= 5u + (__u32)((rh[3] << 8) | rh[4])) {
		st->ccs_skipped++;
		return;
	}
	f->flags |= HS_F_CLI_FLIGHT;
	f->cli_flight_us = flow_stamp_us(f, now);
	if (f->flags & HS_F_SRV_RTX) {
		f->rtt_discards++;
		src->rtt_discards++;
		st->rtt_discards++;
		return;
	}
	if (f->cli_flight_us < f->srv_flight_us)
		return;
	min_u32(&src->min_tls_rtt_us, f->cli_flight_us - f->srv_flight_us);
	st->tls_rtt_samples++;
	if (f->synack_us && f->ack_us && !(f->flags & HS_F_SYNACK_RTX))
		src->rtt_samples++;
}

/* Egress: the server's SYN-ACK and handshake flight. */
static __always_inline void track_server_packet(struct hs_flow *f,
						const struct pkt *p, __u64 now,
						struct hs_stats *st)
{
	__u32 end;

	/* what the server's TCP has taken of the client's stream */
	if (p->flags & TCPF_ACK &&
	    (!f->srv_ack || seq_before(f->srv_ack, p->ack)))
		f->srv_ack = p->ack;
	if ((f->flags & (HS_F_HELLO_END | HS_F_HELLO_TAKEN)) ==
		HS_F_HELLO_END &&
	    f->srv_ack && !seq_before(f->srv_ack, f->hello_end))
		f->flags |= HS_F_HELLO_TAKEN;
	if ((p->flags & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK)) {
		if (f->flags & HS_F_SYNACK) {
			f->flags |= HS_F_SYNACK_RTX;
		} else {
			f->flags |= HS_F_SYNACK;
			f->srv_isn = p->seq;
			f->srv_next = p->seq + 1;
			/* the server did not take a TFO SYN's data (no valid
			 * cookie): the client sends it again from isn + 1,
			 * where the hello search must look */
			if (f->flags & HS_F_SYN && !(f->flags & HS_F_TLS) &&
			    p->ack == f->cli_isn + 1)
				f->cli_next = p->ack;
			f->synack_us = flow_stamp_us(f, now);
			st->synack++;
		}
		return;
	}
	if (!p->payload_len)
		return;
	/* the server answered the second hello: its capture is over */
	if (f->flags & HS_F_RETRY)
		f->flags |= HS_F_RETRY_DONE;
	end = p->seq + p->payload_len;
	/* Server data after the hello and before the client's next flight
	 * is its handshake flight; the last segment of it is the stamp. */
	if ((f->flags & (HS_F_TLS | HS_F_CLI_FLIGHT)) == HS_F_TLS) {
		if (f->flags & HS_F_SRV_FLIGHT &&
		    seq_before(p->seq, f->srv_next))
			f->flags |= HS_F_SRV_RTX;
		f->flags |= HS_F_SRV_FLIGHT;
		f->srv_flight_us = flow_stamp_us(f, now);
	}
	if (!f->srv_next || seq_before(f->srv_next, end))
		f->srv_next = end;
}

#endif /* HS_BPF_TRACK_H */
