// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hydrascope datapath: entry points only.
 *  xdp_ingress - client -> server: SYN signatures, hellos, bursts, RTT
 *                stamps, and the blocking layer (prefix blocks, tuple rules)
 *  tc_egress   - server -> client: SYN-ACK and handshake-flight stamps, bytes
 * Only the blocking layer drops, and only in enforce mode; everything else
 * (including any packet that cannot be parsed) passes.
 */
#include "parse.h"
#include "tcpsig.h"
#include "track.h"
#include "hello.h"
#include "verdict.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline void key_from_client(struct hs_flow_key *k,
					    const struct pkt *p)
{
	k->client = p->src;
	k->server = p->dst;
	k->cport = p->sport;
	k->sport = p->dport;
	k->pad = 0;
}

static __always_inline void key_from_server(struct hs_flow_key *k,
					    const struct pkt *p)
{
	k->client = p->dst;
	k->server = p->src;
	k->cport = p->dport;
	k->sport = p->sport;
	k->pad = 0;
}

/* A client SYN opens (or reopens) a flow and records its signature. */
static __always_inline void handle_syn(struct xdp_md *ctx,
				       const struct hs_flow_key *key,
				       const struct pkt *p, __u64 now,
				       struct hs_stats *st)
{
	struct hs_source *src;
	struct hs_tcp_sig sig;
	struct hs_flow *f;
	__u64 id = 0;

	f = bpf_map_lookup_elem(&flows, key);
	if (f && f->flags & HS_F_SYN && f->cli_isn == p->seq) {
		f->last_ns = now; /* retransmitted SYN */
		f->pkts_in++;
		return;
	}
	/* a reused 5-tuple: the old connection's waiting client packets reach
	 * its source before the reset (not an unproven one's, see
	 * handshake_unproven) */
	if (f && f->src_pkts && f->flags & HS_F_ACK) {
		src = bpf_map_lookup_elem(&sources, &key->client);
		if (src)
			source_sync(f, src);
	}
	f = flow_create(key, f != NULL, now, st);
	if (!f)
		return;
	if (!syn_signature(ctx, p, &sig))
		st->err_tcp_opt++;
	id = hs_tcp_sig_id(&sig);
	/* look up first: an LRU update takes a free node (evicting if need
	 * be) before it finds the key exists, and most SYNs repeat a known
	 * signature */
	if (!bpf_map_lookup_elem(&tcp_sigs, &id)) {
		if (!bpf_map_update_elem(&tcp_sigs, &id, &sig, BPF_NOEXIST))
			st->sig_inserts++;
		else if (!bpf_map_lookup_elem(&tcp_sigs, &id))
			st->sig_insert_fail++;
	}
	f->flags = HS_F_SYN;
	f->cli_isn = p->seq;
	f->cli_next = p->seq + 1 + p->payload_len;
	f->sig_id = id;
	f->last_ns = now;
	f->pkts_in = 1;
	f->bytes_in = p->payload_len;
	/* the source sees the SYN with the handshake's ACK (a forged SYN
	 * never reaches one: see handshake_unproven) */
	f->src_pkts = 1;
	f->src_bytes = p->payload_len;
	st->syn++;
	/* a hello in the SYN (TCP Fast Open): not walked, but a TLS flow
	 * marked unfingerprintable, never "non-TLS" */
	if (p->payload_len && payload_is_hello(ctx, p)) {
		f->flags |= HS_F_TLS | HS_F_HELLO_DONE | HS_F_HELLO_END;
		f->hello_seq = p->seq + 1;
		f->hello_end = f->cli_next;
		st->tls_flows++;
		mark_unfp(f, HS_U_TFO, st);
	}
}

/* ACK set, acknowledging only what the server sent: a segment the
 * server's TCP would take at its sequence number. */
static __always_inline bool client_ack_ok(const struct hs_flow *f,
					  const struct pkt *p)
{
	if (!(p->flags & TCPF_ACK))
		return false;
	if (f->flags & HS_F_SYNACK && (seq_before(p->ack, f->srv_isn + 1) ||
				       seq_before(f->srv_next, p->ack)))
		return false;
	return true;
}

/* Is this segment where the server's TCP takes the client's next bytes?
 * At the next sequence number (so inside the window), with a valid ACK.
 * Flows seen mid-stream (no SYN) take the first segment as it comes. */
static __always_inline bool client_in_sequence(const struct hs_flow *f,
					       const struct pkt *p)
{
	if (!(f->flags & HS_F_SYN))
		return !f->search_pkts || p->seq == f->cli_next;
	return p->seq == f->cli_next && client_ack_ok(f, p);
}

/* Does this segment start inside the client bytes the hello search took,
 * at a byte the server has not acknowledged? Then the server may take it
 * in place of what the search saw there (which the server discarded). */
static __always_inline bool client_retakes(const struct hs_flow *f,
					   const struct pkt *p)
{
	return f->flags & HS_F_SYN && f->search_pkts &&
	       !seq_before(p->seq, f->cli_isn + 1) &&
	       seq_before(p->seq, f->cli_next) &&
	       (!f->srv_ack || !seq_before(p->seq, f->srv_ack)) &&
	       client_ack_ok(f, p);
}

/* The hello search: the first in-sequence client segments (a hello may
 * follow a SOCKS or CONNECT exchange). A hello starts where the server's
 * TCP takes the next bytes; decoys it would discard are counted, not
 * walked. A hello sent for bytes the search took as something else is a
 * conflict: the search saw a decoy the server discarded (no checksum or
 * timestamp check here), and the hello is the one a working connection
 * can only have used: walked, and the flow flagged. Returns true when
 * the segment started a hello. */
static __always_inline bool
hello_search(struct xdp_md *ctx, const struct hs_flow_key *key,
	     struct hs_flow *f, struct hs_source *src, const struct pkt *p,
	     __u64 now, struct hs_stats *st)
{
	bool start = false;

	if (client_retakes(f, p)) {
		start = payload_is_hello(ctx, p);
		if (start) {
			f->flags &= ~HS_F_NONTLS;
			f->flags |= HS_F_HELLO_CONFLICT;
			st->hello_conflict++;
		}
	} else if (f->search_pkts >= HS_HELLO_SEARCH_PKTS) {
		return false;
	} else if (!client_in_sequence(f, p)) {
		if (payload_is_hello(ctx, p))
			st->hello_decoy++;
	} else {
		f->search_pkts++;
		f->cli_next = p->seq + p->payload_len;
		start = payload_is_hello(ctx, p);
		if (!start && f->search_pkts == 1) {
			f->flags |= HS_F_NONTLS;
			src->nontls_flows++;
			st->nontls_flows++;
		}
		if (!start && f->search_pkts == HS_HELLO_SEARCH_PKTS)
			st->hello_search_end++;
	}
	if (start)
		hello_start(ctx, key, f, src, p, now, st);
	return start;
}

/* Client payload: bursts, hello detection and capture, TLS RTT. */
static __always_inline void
handle_client_data(struct xdp_md *ctx, const struct hs_flow_key *key,
		   struct hs_flow *f, struct hs_source *src,
		   const struct pkt *p, __u64 now, struct hs_stats *st)
{
	bool hello = true;

	if (f->data_pkts < 0xffff)
		f->data_pkts++;
	if (!(f->flags & HS_F_TLS))
		hello = hello_search(ctx, key, f, src, p, now, st);
	else if (!(f->flags & HS_F_HELLO_DONE))
		hello_segment(ctx, key, f, src, p, now, st, NULL);
	else if (client_hello_again(f, p))
		hello_resend(ctx, key, f, p, now, st);
	else {
		track_client_flight(ctx, f, src, p, now, st);
		if (!(f->flags & (HS_F_RETRY | HS_F_RETRY_DONE)))
			retry_search(ctx, f, p, st);
		hello =
		    (f->flags & (HS_F_RETRY | HS_F_RETRY_DONE)) == HS_F_RETRY &&
		    retry_segment(ctx, key, f, p, now, st);
	}
	/* Requests make the cadence, not the ClientHello: a one-request-per-
	 * connection script then shows its true period. The source's only
	 * from connections whose handshake completed (see struct hs_source):
	 * forged packets must not give an address a rhythm. */
	if (hello)
		return;
	if (f->flags & HS_F_ACK &&
	    cadence_update(&src->cad, now, p->payload_len))
		st->bursts++;
	cadence_update(&f->cad, now, p->payload_len);
}

/*
 * The functions below are global (not static, not inlined) on purpose: the
 * verifier checks each one once with generic arguments, instead of once
 * for every path through the header parser (VLAN tags x IP versions x
 * extension headers), which would not fit its instruction budget.
 */

/* A parsed client packet (not a SYN): flow and source updates. Returns
 * the XDP verdict (a flow cut by a tuple rule drops in enforce mode). */
__noinline int hs_ingress_tcp(struct xdp_md *ctx, struct pkt *p)
{
	struct hs_flow_key key;
	struct hs_source *src;
	struct hs_stats *st;
	struct hs_flow *f;
	bool opened, cut, stamps = true;
	__u64 now, old_last;
	__u32 old_flags;

	st = get_stats();
	if (!p || !st)
		return XDP_PASS;
	now = now_tick();
	key_from_client(&key, p);

	/* a cut flow stays cut even when the LRU evicted its flow entry */
	cut = cut_lookup(&key, now, st);
	if (cut && cfg.enforce)
		return cut_verdict(st);
	f = bpf_map_lookup_elem(&flows, &key);
	if (!f) {
		/* Flows are opened by a SYN, or mid-stream by a hello. */
		if (cut || !payload_is_hello(ctx, p))
			return cut ? cut_verdict(st) : XDP_PASS;
		now = now_ns();
		f = flow_create(&key, false, now, st);
		if (!f)
			return XDP_PASS;
	} else {
		stamps = client_stamps(f, p, now);
		if (stamps)
			now = now_ns();
	}
	opened = !f->pkts_in; /* mid-stream */
	old_flags = f->flags;
	old_last = f->last_ns;
	time_forward(&f->last_ns, now);
	f->pkts_in++;
	f->bytes_in += p->payload_len;
	if (!opened && !stamps && client_quiet(f, p, now)) {
		if (f->data_pkts < 0xffff)
			f->data_pkts++;
		f->src_pkts++;
		f->src_bytes += p->payload_len;
		cadence_update(&f->cad, now, p->payload_len);
	} else if ((opened || p->payload_len ||
		    p->flags & (TCPF_FIN | TCPF_RST) ||
		    (f->flags & (HS_F_SYNACK | HS_F_ACK)) == HS_F_SYNACK) &&
		   !handshake_unproven(f, p)) {
		/* a pure ACK touches the flow only (see struct hs_source) */
		src = source_get(&key.client, now, st);
		if (!src) {
			flow_report(&key, f, old_flags, old_last, now, st);
			return XDP_PASS;
		}
		source_sync(f, src);
		time_forward(&src->last_ns, now);
		src->pkts_in++;
		src->bytes_in += p->payload_len;
		track_handshake_ack(f, src, p, now, st);
		if (p->payload_len)
			handle_client_data(ctx, &key, f, src, p, now, st);
	}
	if (p->flags & (TCPF_FIN | TCPF_RST))
		f->flags |=
		    HS_F_FIN | (f->flags & HS_F_RETRY ? HS_F_RETRY_DONE : 0);
	tuple_check(f, &key, now, st);
	flow_report(&key, f, old_flags, old_last, now, st);
	return cut ? cut_verdict(st) : flow_verdict(f, st);
}

/* A client segment the parser gave up on but whose TCP header was found
 * (a first IP fragment, a long IPv6 extension chain): the walk cannot
 * follow a hello there, so a hello there (or a hello going on in one)
 * marks the flow TLS and unfingerprintable, never "non-TLS". */
static __always_inline int ingress_unparsed(struct xdp_md *ctx, struct pkt *p,
					    __u8 reason)
{
	struct hs_flow_key key;
	struct hs_source *src;
	struct hs_stats *st = get_stats();
	struct hs_flow *f;
	__u32 old_flags;

	if (!p || !st)
		return 0;
	key_from_client(&key, p);
	f = bpf_map_lookup_elem(&flows, &key);
	if (!f || !p->payload_len || f->flags & HS_F_HELLO_DONE)
		return 0;
	old_flags = f->flags;
	if (!(f->flags & HS_F_TLS)) {
		if (f->search_pkts >= HS_HELLO_SEARCH_PKTS ||
		    !payload_is_hello(ctx, p))
			return 0;
		/* before the handshake's ACK, the ACK counts it */
		src = handshake_unproven(f, p)
			  ? NULL
			  : source_get(&key.client, now_ns(), st);
		if (src)
			src->tls_flows++;
		st->tls_flows++;
		f->flags |= HS_F_TLS;
		f->hello_seq = p->seq;
	}
	f->flags |= HS_F_HELLO_DONE;
	bpf_map_delete_elem(&hello_walk, &key);
	if (!(f->flags & HS_F_TUPLE))
		mark_unfp(f, reason, st);
	flow_report(&key, f, old_flags, 0, 0, st);
	return 0;
}

__noinline int hs_ingress_frag(struct xdp_md *ctx, struct pkt *p)
{
	if (!p)
		return 0;
	return ingress_unparsed(ctx, p, HS_U_FRAG);
}

struct v6_walk {
	struct xdp_md *ctx;
	__u32 off;  /* of the next header */
	__u32 left; /* IPv6 payload bytes from off */
	__u8 nh;
	__u8 tcp;
};

static long v6_ext_step(__u32 i __attribute__((unused)), void *data)
{
	struct v6_walk *w = data;
	__u8 h[2];
	__u32 elen;

	if (w->nh == IPPROTO_TCP) {
		w->tcp = 1;
		return 1;
	}
	if (w->nh != IPPROTO_HOPOPTS && w->nh != IPPROTO_ROUTING &&
	    w->nh != IPPROTO_DSTOPTS)
		return 1;
	if (w->off > 0xffff || bpf_xdp_load_bytes(w->ctx, w->off, h, 2))
		return 1;
	elen = (h[1] + 1) * 8;
	if (elen > w->left)
		return 1;
	w->nh = h[0];
	w->off += elen;
	w->left -= elen;
	return 0;
}

/* An IPv6 packet past the parser's extension-header bound: walk on (up to
 * HS_MAX_V6_EXT_DEEP, reading with bpf_xdp_load_bytes) to the TCP header,
 * and mark a hello behind the chain. */
__noinline int hs_ingress_v6deep(struct xdp_md *ctx, struct pkt *p)
{
	struct v6_walk w = {};
	__u8 th[20];
	__u32 hlen;

	if (!p)
		return 0;
	w.ctx = ctx;
	w.off = p->l4_off;
	w.left = p->payload_len;
	w.nh = p->l4_proto;
	bpf_loop(HS_MAX_V6_EXT_DEEP, v6_ext_step, &w, 0);
	if (!w.tcp || w.off > 0xffff || w.left < sizeof(th) ||
	    bpf_xdp_load_bytes(ctx, w.off, th, sizeof(th)))
		return 0;
	hlen = (th[12] >> 4) * 4;
	if (hlen < sizeof(th) || hlen > w.left)
		return 0;
	p->sport = (th[0] << 8) | th[1];
	p->dport = (th[2] << 8) | th[3];
	p->seq = ((__u32)th[4] << 24) | (th[5] << 16) | (th[6] << 8) | th[7];
	p->flags = th[13];
	p->l4_off = w.off;
	p->payload_off = w.off + hlen;
	p->payload_len = w.left - hlen;
	if (p->flags & (TCPF_SYN | TCPF_RST))
		return 0;
	return ingress_unparsed(ctx, p, HS_U_V6EXT);
}

__noinline int hs_ingress_syn(struct xdp_md *ctx, struct pkt *p)
{
	struct hs_flow_key key;
	struct hs_stats *st = get_stats();

	if (!p || !st)
		return 0;
	key_from_client(&key, p);
	handle_syn(ctx, &key, p, now_ns(), st);
	return 0;
}

/* --decap, from read-only data: with it off, the verifier sees the
 * constant and drops the opening code. */
static __always_inline struct decap_cfg decap_cfg(void)
{
	struct decap_cfg dc = {cfg.decap, cfg.gue_port};

	return dc;
}

/* The inner packet of an encapsulation (--decap): its own function, so
 * that the verifier checks it once and not for every outer path. */
__noinline int hs_decap_xdp(struct xdp_md *ctx, struct pkt *p,
			    struct encap_note *n)
{
	if (!p || !n)
		return PARSE_ERR_ETH;
	return parse_inner((void *)(long)ctx->data, (void *)(long)ctx->data_end,
			   p, decap_cfg(), n);
}

__noinline int hs_l3_xdp(struct xdp_md *ctx, struct pkt *p,
			 struct encap_note *n, __u32 l3, __u32 len)
{
	if (!p || !n)
		return PARSE_ERR_ETH;
	return parse_l3((void *)(long)ctx->data, (void *)(long)ctx->data_end,
			l3, len, p, decap_cfg(), n);
}

__noinline int hs_parse_xdp(struct xdp_md *ctx, struct pkt *p, __u32 len)
{
	struct encap_note n = {};
	struct hs_stats *st;
	__u32 l3 = 0;
	int ret;

	if (!p)
		return PARSE_ERR_ETH;
	ret = parse_eth((void *)(long)ctx->data, (void *)(long)ctx->data_end,
			&l3);
	if (ret == PARSE_OK && L3_OFF(l3) == sizeof(struct ethhdr))
		ret = parse_l3((void *)(long)ctx->data,
			       (void *)(long)ctx->data_end, l3, len, p,
			       decap_cfg(), &n);
	else if (ret == PARSE_OK)
		ret = hs_l3_xdp(ctx, p, &n, l3, len);
	if (ret == PARSE_DECAP)
		ret = hs_decap_xdp(ctx, p, &n);
	if (n.state && (st = get_stats()))
		count_encap(st, &n);
	return ret;
}

__noinline int hs_decap_skb(struct __sk_buff *skb, struct pkt *p,
			    struct encap_note *n)
{
	if (!p || !n)
		return PARSE_ERR_ETH;
	return parse_inner((void *)(long)skb->data, (void *)(long)skb->data_end,
			   p, decap_cfg(), n);
}

__noinline int hs_l3_skb(struct __sk_buff *skb, struct pkt *p,
			 struct encap_note *n, __u32 l3)
{
	if (!p || !n)
		return PARSE_ERR_ETH;
	return parse_l3((void *)(long)skb->data, (void *)(long)skb->data_end,
			l3, skb->len, p, decap_cfg(), n);
}

/* Egress: the same parse (a tunnel both ways is opened both ways);
 * counted at ingress only. */
__noinline int hs_parse_skb(struct __sk_buff *skb, struct pkt *p)
{
	struct encap_note n = {};
	__u32 l3 = 0;
	int ret;

	if (!p)
		return PARSE_ERR_ETH;
	ret = parse_eth((void *)(long)skb->data, (void *)(long)skb->data_end,
			&l3);
	if (ret == PARSE_OK && L3_OFF(l3) == sizeof(struct ethhdr))
		ret = parse_l3((void *)(long)skb->data,
			       (void *)(long)skb->data_end, l3, skb->len, p,
			       decap_cfg(), &n);
	else if (ret == PARSE_OK)
		ret = hs_l3_skb(skb, p, &n, l3);
	return ret == PARSE_DECAP ? hs_decap_skb(skb, p, &n) : ret;
}

/* Replay puts the packet's capture time in 8 bytes of XDP metadata. */
static __always_inline __u64 replay_meta_time(struct xdp_md *ctx)
{
	void *meta = (void *)(long)ctx->data_meta;
	void *data = (void *)(long)ctx->data;
	__u64 t;

	if (meta + sizeof(t) > data)
		return 0;
	__builtin_memcpy(&t, meta, sizeof(t));
	return t;
}

/* xdp.frags: frames larger than a page (jumbo MTU, GRO) are seen whole;
 * payload bytes are read with bpf_xdp_load_bytes, which follows fragments. */
SEC("xdp.frags")
int xdp_ingress(struct xdp_md *ctx)
{
	struct hs_stats *st;
	struct pkt p = {};
	__u32 len;
	int ret;

	if (cfg.replay)
		replay_clock_set(replay_meta_time(ctx));
	st = get_stats();
	if (!st)
		return XDP_PASS;
	st->xdp_packets++;
	len = bpf_xdp_get_buff_len(ctx);
	st->xdp_bytes += len;

	ret = hs_parse_xdp(ctx, &p, len);
	if (ret != PARSE_OK)
		count_parse_result(st, ret);
	/* prefix blocks cover every IP packet whose source we could read
	 * (behind an opened encapsulation, the inner source only) */
	if (p.have_addr && prefix_verdict(&p.src, st) == XDP_DROP)
		return XDP_DROP;
	if (ret != PARSE_OK) {
		if (ret == PARSE_FRAG && p.frag_first)
			hs_ingress_frag(ctx, &p);
		else if (ret == PARSE_V6_EXT_LIMIT && p.ip_ver == 6)
			hs_ingress_v6deep(ctx, &p);
		return XDP_PASS;
	}
	st->tcp_packets++;
	if ((p.flags & (TCPF_SYN | TCPF_ACK | TCPF_RST)) == TCPF_SYN) {
		hs_ingress_syn(ctx, &p);
		return XDP_PASS;
	}
	if (p.flags & TCPF_SYN) /* a SYN-ACK: a connection we opened */
		return XDP_PASS;
	return hs_ingress_tcp(ctx, &p);
}

/*
 * The server's first data is a TLS handshake record, yet the datapath saw
 * no hello from the client: it came in a form the parser does not follow
 * (its TCP header in a later IP fragment, more IPv6 extension headers
 * than the deep walk, whatever comes next). A TLS server speaks only
 * after the client's hello, so the flow is TLS and unfingerprintable: a
 * catch-all for what the parser misses, never a silent flow. Costs a
 * check of flags on every egress packet, a 2-byte read on a flow's first
 * server data when no hello was seen.
 */
static __always_inline bool hello_unseen(struct __sk_buff *skb,
					 struct hs_flow *f, const struct pkt *p,
					 struct hs_stats *st)
{
	__u8 h[2];

	if (f->flags & HS_F_TLS || !(f->flags & HS_F_SYNACK) ||
	    !p->payload_len || f->srv_next != f->srv_isn + 1 ||
	    p->seq != f->srv_isn + 1 || p->payload_off > 0xffff ||
	    bpf_skb_load_bytes(skb, p->payload_off, h, sizeof(h)) ||
	    h[0] != 0x16 || h[1] != 0x03)
		return false;
	f->flags &= ~HS_F_NONTLS;
	f->flags |= HS_F_TLS | HS_F_HELLO_DONE;
	st->tls_flows++;
	mark_unfp(f, HS_U_UNSEEN, st);
	return true;
}

/* Does this server packet take a stamp (the SYN-ACK, the handshake
 * flight, a first data that shows a hello the parser missed)? Then it
 * reads the fine clock (see now_tick). */
static __always_inline bool server_stamps(const struct hs_flow *f,
					  const struct pkt *p)
{
	if (p->flags & TCPF_SYN)
		return true;
	return p->payload_len && !(f->flags & HS_F_CLI_FLIGHT) &&
	       (f->flags & HS_F_TLS || f->srv_next == f->srv_isn + 1);
}

SEC("tc")
int tc_egress(struct __sk_buff *skb)
{
	struct hs_flow_key key;
	struct hs_source *src;
	struct hs_stats *st;
	struct hs_flow *f;
	struct pkt p = {};
	__u64 now, old_last;
	__u32 old_flags;
	bool unseen;

	if (cfg.replay)
		replay_clock_set(skb->tstamp);
	st = get_stats();
	if (!st)
		return TC_ACT_OK;
	st->tc_packets++;
	/* Headers are normally in the linear area; a failed parse is fine
	 * here (egress only adds stamps and byte counts). */
	if (hs_parse_skb(skb, &p) != PARSE_OK)
		return TC_ACT_OK;
	key_from_server(&key, &p);
	f = bpf_map_lookup_elem(&flows, &key);
	if (!f)
		return TC_ACT_OK;
	now = server_stamps(f, &p) ? now_ns() : now_tick();
	old_flags = f->flags;
	old_last = f->last_ns;
	time_forward(&f->last_ns, now);
	f->pkts_out++;
	f->bytes_out += p.payload_len;
	unseen = hello_unseen(skb, f, &p, st);
	track_server_packet(f, &p, now, st);
	flow_report(&key, f, old_flags, old_last, now, st);
	src = bpf_map_lookup_elem(&sources, &key.client);
	if (src) {
		src->pkts_out++;
		src->bytes_out += p.payload_len;
		src->tls_flows += unseen;
	}
	return TC_ACT_OK;
}
