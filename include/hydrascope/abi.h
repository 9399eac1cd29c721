/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hydrascope kernel/userspace ABI: map keys, map values, ring buffer events
 * and constants. Compiled by clang -target bpf and by the userspace
 * compiler, both with the UAPI linux/types.h. Layouts are explicit and
 * padded by hand so that both sides agree without relying on the compiler.
 */
#ifndef HYDRASCOPE_ABI_H
#define HYDRASCOPE_ABI_H

#include <linux/types.h>

/* Bumped whenever a pinned map's key or value layout changes (2: datapath
 * insert counters in hs_stats; the meta map. 3: the TLS id and the hello
 * follow state in hs_flow, rule kinds and relay bounds in hs_tuple_rule,
 * the cuts map, adversary counters in hs_stats. 4: decapsulation and
 * hello-conflict counters in hs_stats, the server's ACK in hs_flow. 5: flow
 * event counters in hs_stats. 6: the second hello's capture in hs_flow
 * and hs_stats, learned relay bounds in hs_tuple_rule). */
#define HS_SCHEMA_VERSION 6

/* Default map sizes (overridable on the command line before load). */
#define HS_DEFAULT_FLOWS 65536
#define HS_DEFAULT_SOURCES 65536
#define HS_DEFAULT_SIGS 4096
#define HS_DEFAULT_HELLO_STATES 8192
#define HS_DEFAULT_BLOCKS 65536
#define HS_DEFAULT_ALLOWS 4096
#define HS_DEFAULT_TUPLE_RULES 4096
/* Cut flows kept apart from the LRU flow map (a flood cannot evict them). */
#define HS_DEFAULT_CUTS 16384
/* A cut lasts this long after the flow's last client packet. */
#define HS_CUT_TTL_NS (3600ull * 1000 * 1000 * 1000)
#define HS_RINGBUF_BYTES (4u << 20)
/* The flow milestone ring (struct hs_flow_event, 64 bytes a record with
 * the ring's header): 65,536 events between two reads of userspace. */
#define HS_FLOW_EVENTS_BYTES (4u << 20)
/* A flow silent this long is over for the correlator (its request sizes
 * are folded, it is no longer looked at each round); a packet that moves
 * it after such a silence reports it (HS_EV_RESUMED). */
#define HS_FLOW_IDLE_NS (10ull * 1000 * 1000 * 1000)

/* ClientHello capture: bytes of the hello (from its record header) that the
 * kernel copies to userspace, over however many segments it spans. Post-
 * quantum Chrome/Firefox hellos are ~1.8 KB; 4 KB leaves headroom. */
#define HS_HELLO_CAP 4096
/* A handshake record's length: at most 2^14 (a longer one is
 * record_overflow). A server's TLS rejects a longer one, so a hello in one
 * has no ids, in the kernel's walk as in userspace. Empty ones, which RFC
 * 8446 5.1 forbids a client to send, a server may skip (OpenSSL takes 32
 * in a row): both walks skip them, or one would hide the hello. */
#define HS_TLS_RECORD_MAX 16384
/* In-sequence client data packets of a flow inspected for a hello: the
 * hello may follow a SOCKS greeting or an HTTP CONNECT exchange on a
 * relayed connection. Segments the server's TCP would discard (no ACK,
 * off sequence) are not inspected and do not use up the search. */
#define HS_HELLO_SEARCH_PKTS 8
/* Segments of one hello handled at most; past it the flow is marked
 * unfingerprintable (browsers send a hello in one or two segments). */
#define HS_HELLO_MAX_SEGS 64
/* Segments of a second ClientHello (the answer to a HelloRetryRequest)
 * copied to userspace at most; it is captured, not walked (the ids are the
 * first hello's), and a post-quantum one takes two. */
#define HS_RETRY_MAX_SEGS 8
/* TLS records one hello may span before the walker gives up (marked
 * unfingerprintable; browsers use one). */
#define HS_HELLO_MAX_RECORDS 32
/* Bytes of the (first) ALPN extension body that enter the TLS id. */
#define HS_ALPN_BYTES 32
/* Items (header fields, cipher suites, extension headers) the in-kernel
 * hello walker handles per packet and per hello: keeps the cost of a
 * hostile hello with hundreds of suites linear and capped. */
#define HS_HELLO_MAX_ITEMS 512
/* Walker steps per packet: every item is one step, an item or body that
 * crosses a segment or record end one more, a record header one, an ALPN
 * byte one. Running out of steps is a give-up (counted, flagged). */
#define HS_HELLO_STEPS_PER_PKT                                                 \
	(2 * HS_HELLO_MAX_ITEMS + 4 * HS_HELLO_MAX_RECORDS + HS_ALPN_BYTES + 16)

/* TCP SYN option layout entries kept (p0f keeps up to 16). */
#define HS_MAX_TCPOPTS 16

/* IPv6 extension headers walked before giving up (counted, passed); a
 * slower walk goes on to HS_MAX_V6_EXT_DEEP to find the flow of a client
 * segment and mark a hello there unfingerprintable. */
#define HS_MAX_V6_EXT 8
#define HS_MAX_V6_EXT_DEEP 64
/* VLAN tags (802.1Q / 802.1ad) walked before giving up (counted, passed). */
#define HS_MAX_VLAN 4

/* Cadence values are clamped so that squares stay inside 64 bits. */
#define HS_IVL_CLAMP_US (600ull * 1000 * 1000) /* 10 minutes */
#define HS_SIZE_CLAMP (1u << 30)

/* Addresses: IPv4 is stored v4-mapped (::ffff:a.b.c.d) in 16 bytes. */
struct hs_addr {
	__u8 b[16];
};

/* Flow key, always oriented client -> server (the client is the side that
 * sends towards the ingress interface). */
struct hs_flow_key {
	struct hs_addr client;
	struct hs_addr server;
	__u16 cport; /* host byte order */
	__u16 sport; /* host byte order */
	__u32 pad;
};

/* p0f-v3 TCP SYN signature fields. */
enum hs_tcpopt {
	HS_OPT_EOL = 0,
	HS_OPT_NOP = 1,
	HS_OPT_MSS = 2,
	HS_OPT_WS = 3,
	HS_OPT_SOK = 4,
	HS_OPT_SACK = 5,
	HS_OPT_TS = 8,
	/* anything else is stored as 0x80 | kind (p0f prints ?N) */
};

enum hs_quirk {
	HS_Q_DF = 1 << 0,	     /* df: don't fragment set */
	HS_Q_NZ_ID = 1 << 1,	     /* id+: DF set but IPID non-zero */
	HS_Q_ZERO_ID = 1 << 2,	     /* id-: DF not set but IPID zero */
	HS_Q_ECN = 1 << 3,	     /* ecn: explicit congestion notification */
	HS_Q_NZ_MBZ = 1 << 4,	     /* 0+: must-be-zero IP field set */
	HS_Q_FLOW = 1 << 5,	     /* flow: IPv6 flow label non-zero */
	HS_Q_ZERO_SEQ = 1 << 6,	     /* seq-: sequence number zero */
	HS_Q_NZ_ACK = 1 << 7,	     /* ack+: ACK number non-zero, flag unset */
	HS_Q_ZERO_ACK = 1 << 8,	     /* ack-: ACK number zero, flag set */
	HS_Q_NZ_URG = 1 << 9,	     /* uptr+: urgent pointer non-zero */
	HS_Q_URG = 1 << 10,	     /* urgf+: URG flag set */
	HS_Q_PUSH = 1 << 11,	     /* pushf+: PUSH flag set */
	HS_Q_OPT_ZERO_TS1 = 1 << 12, /* ts1-: own timestamp zero */
	HS_Q_OPT_NZ_TS2 = 1 << 13,   /* ts2+: peer timestamp non-zero */
	HS_Q_OPT_EOL_NZ = 1 << 14,   /* opt+: non-zero data past EOL */
	HS_Q_OPT_EXWS = 1 << 15,     /* exws: window scale > 14 */
	HS_Q_OPT_BAD = 1 << 16,	     /* bad: malformed options */
};

struct hs_tcp_sig {
	__u8 ip_ver;	 /* 4 or 6 */
	__u8 ttl;	 /* observed TTL / hop limit */
	__u8 ip_opt_len; /* IPv4 options length in bytes */
	__u8 wscale;	 /* window scale, 0 when absent */
	__u16 mss;	 /* 0 when absent */
	__u16 win;	 /* raw window */
	__u32 quirks;	 /* enum hs_quirk bits */
	__u8 opt_cnt;	 /* entries in opts */
	__u8 eol_pad;	 /* bytes after EOL (p0f eol+N) */
	__u8 has_ws;	 /* window scale option present */
	__u8 payload;	 /* SYN carried payload (p0f pclass +) */
	__u8 opts[HS_MAX_TCPOPTS];
	__u8 hdr_len; /* IP + TCP header bytes (p0f's MTU heuristics) */
	__u8 pad[3];
};

/* Incremental cadence statistics (integer Welford on mean and variance). */
struct hs_cadence {
	__u64 last_data_ns;   /* last client payload */
	__u64 burst_start_ns; /* start of the current burst */
	__u32 bursts;	      /* bursts started */
	__u32 cur_bytes;      /* bytes in the current burst (clamped) */
	__u64 ivl_mean_us;    /* inter-burst interval (start to start) */
	__u64 ivl_var_us2;    /* population variance */
	__u64 size_mean;      /* completed burst sizes in bytes */
	__u64 size_var;
	__u32 size_n; /* completed bursts in size stats */
	__u32 pad;
};

enum hs_flow_flags {
	HS_F_SYN = 1 << 0,	   /* client SYN seen */
	HS_F_SYNACK = 1 << 1,	   /* server SYN-ACK seen */
	HS_F_SYNACK_RTX = 1 << 2,  /* SYN-ACK retransmitted (Karn) */
	HS_F_ACK = 1 << 3,	   /* client handshake ACK seen */
	HS_F_TLS = 1 << 4,	   /* ClientHello seen */
	HS_F_NONTLS = 1 << 5,	   /* client data that is not TLS */
	HS_F_HELLO_DONE = 1 << 6,  /* hello capture complete */
	HS_F_TUPLE = 1 << 7,	   /* kernel tuple id complete */
	HS_F_HELLO_GAP = 1 << 8,   /* hello out of order: kernel walk stopped */
	HS_F_SRV_FLIGHT = 1 << 9,  /* server data after the hello seen */
	HS_F_SRV_RTX = 1 << 10,	   /* server flight retransmitted (Karn) */
	HS_F_CLI_FLIGHT = 1 << 11, /* client's second flight seen */
	HS_F_FIN = 1 << 12,	   /* FIN or RST seen */
	HS_F_HELLO_BAD = 1 << 13,  /* hello malformed for the kernel walker */
	HS_F_CUT = 1 << 14, /* a tuple rule matched: client packets cut */
	HS_F_CUT_SPARED = 1 << 15, /* a rule matched but spared (gap, allow) */
	/* unfingerprintable TLS: a hello the kernel had to give up on (reason
	 * in hs_flow.unfp_reason); browsers never send one, so it is a signal
	 * for the policy, not an escape */
	HS_F_UNFP = 1 << 16,
	/* other bytes came for a range of the client's stream the search had
	 * taken as not a hello (a decoy the server discarded): the hello
	 * there was walked and this is a signal for the policy */
	HS_F_HELLO_CONFLICT = 1 << 17,
	/* the client followed its hello with a second ClientHello (after a
	 * HelloRetryRequest): copied to userspace from retry_seq on, until
	 * HS_F_RETRY_DONE */
	HS_F_RETRY = 1 << 18,
	HS_F_RETRY_DONE = 1 << 19, /* ... its search or capture is over */
	/* hello_end holds where the hello ends (0 is a sequence number like
	 * any other: the client picks its ISN) */
	HS_F_HELLO_END = 1 << 20,
	/* the server acknowledged the whole hello: bytes for its range are
	 * old to the server's TCP, no resend to compare */
	HS_F_HELLO_TAKEN = 1 << 21,
};

enum hs_unfp_reason {
	HS_U_NONE = 0,
	HS_U_BAD,     /* structure the walker could not follow */
	HS_U_GAP,     /* a hole in the hello's segments (loss or evasion) */
	HS_U_SEGS,    /* more than HS_HELLO_MAX_SEGS segments */
	HS_U_RECORDS, /* more than HS_HELLO_MAX_RECORDS records */
	HS_U_BUDGET,  /* walker steps of one packet used up */
	HS_U_STATE,   /* walk state could not be kept (map full / evicted) */
	HS_U_TFO,     /* hello carried in the SYN (TCP Fast Open) */
	HS_U_FRAG,    /* hello in IP fragments */
	HS_U_V6EXT,   /* hello behind more IPv6 extension headers than parsed */
	HS_U_UNSEEN,  /* the server answered a hello the parser did not see */
};

struct hs_flow {
	__u64 first_ns;
	__u64 last_ns;
	__u64 bytes_in;	 /* client -> server, IP payload bytes */
	__u64 bytes_out; /* server -> client */
	__u32 pkts_in;
	__u32 pkts_out;
	__u64 sig_id;	 /* key into the tcp_sigs map, 0 if no SYN seen */
	__u64 tuple_id;	 /* fingerprint tuple id (HS_F_TUPLE) */
	__u64 tls_id;	 /* TLS id: the tuple id without the SYN (HS_F_TUPLE) */
	__u32 flags;	 /* enum hs_flow_flags */
	__u32 cli_isn;	 /* client initial sequence number */
	__u32 srv_isn;	 /* server initial sequence number */
	__u32 srv_next;	 /* highest server sequence sent + 1 */
	__u32 hello_seq; /* sequence number of the hello's first byte */
	__u32 hello_end; /* sequence after the hello message (if known) */
	__u32 cli_next;	 /* next in-sequence client byte (hello search) */
	/* handshake stamps, microseconds after first_ns */
	__u32 synack_us;
	__u32 ack_us;
	__u32 hello_us;
	__u32 srv_flight_us;
	__u32 cli_flight_us;
	__u16 data_pkts;   /* client data packets seen */
	__u8 rtt_discards; /* timing samples discarded (retransmissions) */
	__u8 hello_segs;   /* hello segments captured */
	__u32 rule_gen;	   /* rules generation that had no rule for us */
	__u8 search_pkts;  /* in-sequence data packets searched for a hello */
	__u8 unfp_reason;  /* enum hs_unfp_reason (HS_F_UNFP) */
	__u8 retry_segs;   /* second hello segments looked at (HS_F_RETRY) */
	/* client data packets (and their bytes) mid-burst, not yet added to
	 * the source: a mid-burst packet does not look the source up, the
	 * next packet that does (within about 4 ms, bpf/track.h) adds them */
	__u8 src_pkts;
	__u32 srv_ack;	 /* highest ACK the server sent (0: none seen) */
	__u32 retry_seq; /* the second hello's first byte (searched: next) */
	__u32 src_bytes;
	struct hs_cadence cad;
};

/* Per-source counters. Pure ACKs (no data, no SYN/FIN/RST, not the
 * handshake's) are counted per flow only: they carry no request, and
 * skipping the source lookup for them halves the cost of the commonest
 * ingress packet of a download. What the correlator reads (flows, the
 * cadence, the round trips) counts only connections whose handshake
 * completed: the client acknowledged the server's SYN-ACK, which a forged
 * address never sees. Packets, bytes and TLS/non-TLS flows count all. */
struct hs_source {
	__u64 first_ns;
	__u64 last_ns;
	__u64 pkts_in;
	__u64 bytes_in;
	__u64 pkts_out;
	__u64 bytes_out;
	__u32 flows; /* connections whose handshake completed */
	__u32 tls_flows;
	__u32 nontls_flows;
	__u32 rtt_samples; /* flows with both a TCP and a TLS RTT */
	__u32 min_tcp_rtt_us;
	__u32 min_tls_rtt_us;
	__u32 min_ack_hello_us;
	__u32 rtt_discards;
	__u64 last_sig_id;
	__u64 last_tuple_id;
	struct hs_cadence cad;
};

/* Per-CPU datapath counters, one named field each so that `bpftool map
 * dump` is readable; userspace sums over CPUs. Listed once as an X-macro
 * so that userspace gets the names without a second list. */
#define HS_STATS_FIELDS(X)                                                     \
	X(xdp_packets) /* packets seen by XDP */                               \
	X(xdp_bytes)                                                           \
	X(tc_packets)	  /* packets seen by TC egress */                      \
	X(non_ip)	  /* not IPv4/IPv6: passed */                          \
	X(err_eth)	  /* truncated Ethernet header */                      \
	X(err_vlan)	  /* truncated VLAN tag */                             \
	X(vlan_limit)	  /* more than HS_MAX_VLAN tags: address not read */   \
	X(err_ipv4)	  /* truncated or inconsistent IPv4 header */          \
	X(err_ipv6)	  /* truncated or inconsistent IPv6 header */          \
	X(ipv6_ext_limit) /* more extension headers than walked */             \
	X(ip_frag)	  /* IP fragments (passed unparsed) */                 \
	X(non_tcp)	  /* IP but not TCP */                                 \
	X(err_decap)	  /* --decap: encapsulation header cut short */        \
	X(tcp_packets)	/* parsed TCP: with the reasons above, every packet */ \
	X(err_tcp)	/* truncated TCP header or bad data offset */          \
	X(err_tcp_opt)	/* malformed TCP options in a SYN */                   \
	X(syn)		/* client SYNs fingerprinted */                        \
	X(synack)	/* server SYN-ACKs stamped (egress) */                 \
	X(tls_flows)	/* flows whose client sent a ClientHello */            \
	X(nontls_flows) /* flows whose first client data was not TLS */        \
	X(hello_segments) /* hello segments sent to userspace */               \
	X(hello_bad)	  /* hellos the kernel walker rejected */              \
	X(hello_ooo)	  /* hello segments out of order / retransmitted */    \
	X(hello_item_cap) /* hellos cut at the item or capture cap */          \
	X(tuple_ids)	  /* tuple ids completed */                            \
	X(hello_multi_record) /* hellos walked across several records */       \
	X(hello_unfp) /* flows marked unfingerprintable TLS, any reason */     \
	X(hello_seg_limit) /* ... more than HS_HELLO_MAX_SEGS segments */      \
	X(hello_rec_limit) /* ... more than HS_HELLO_MAX_RECORDS records */    \
	X(hello_budget)	   /* ... walker steps of a packet used up */          \
	X(hello_gap)	   /* ... a hole in the hello's segments */            \
	X(hello_tfo)	   /* ... hello in a TCP Fast Open SYN */              \
	X(hello_frag)	   /* ... hello in an IP fragment */                   \
	X(hello_v6ext)	   /* ... hello behind a long IPv6 extension chain */  \
	X(hello_unseen)	   /* ... server answered a hello the parser missed */ \
	X(hello_decoy) /* hello-like segment off sequence or without ACK */    \
	X(hello_search_end) /* search for a hello over, none found */          \
	X(hello_retries)    /* second hellos (HelloRetryRequest) captured */   \
	X(ccs_skipped)	    /* client CCS not taken as its second flight */    \
	X(flight_unacked)   /* client data not acking the server's flight */   \
	X(ringbuf_drops)    /* events lost: ring buffer full */                \
	X(flow_events)	    /* flow milestones sent to userspace */            \
	X(flow_event_drops) /* ... lost: flow_events ring full */              \
	X(flow_inserts)	    /* new flow entries (LRU: evictions follow) */     \
	X(source_inserts)   /* new source entries */                           \
	X(sig_inserts)	    /* new SYN signature entries */                    \
	X(flow_insert_fail)                                                    \
	X(source_insert_fail)                                                  \
	X(sig_insert_fail)                                                     \
	X(hello_state_fail)                                                    \
	X(rtt_samples)	    /* TCP RTT samples taken */                        \
	X(tls_rtt_samples)  /* TLS RTT samples taken */                        \
	X(rtt_discards)	    /* samples discarded: retransmission (Karn) */     \
	X(bursts)	    /* client bursts started */                        \
	X(block_drops)	    /* dropped: source in an active prefix block */    \
	X(block_would_drop) /* dry-run: would have been dropped (prefix) */    \
	X(block_expired)    /* packets from a block past its expiry */         \
	X(allow_hits)	    /* matched a block or rule, allowlisted: passed */ \
	X(tuple_cuts)	    /* flows cut by a tuple rule */                    \
	X(tuple_drops)	    /* packets dropped: flow cut by a tuple rule */    \
	X(tuple_would_drop) /* dry-run: would have been dropped (tuple) */     \
	X(tuple_gap_spared) /* tuple matched, relay gap below the rule's */    \
	X(tls_rule_hits)    /* flows matched by a TLS-id rule */               \
	X(evasive_cuts)	    /* flows cut for a hello no TLS stack sends */     \
	X(cut_unproven)	    /* ... not cut: no handshake seen (mid-stream) */  \
	X(cut_inserts)	    /* cut flows entered in the cuts map */            \
	X(cut_insert_fail)  /* ... not entered: cuts map full */               \
	X(cut_hits)    /* client packets of flows found in the cuts map */     \
	X(cut_expired) /* cuts found past their expiry (removed) */            \
	X(decap_ipip)  /* packets decapsulated: IP in IP */                    \
	X(decap_gre)   /* ... GRE */                                           \
	X(decap_gue)   /* ... GUE / FOU on the --decap gue port */             \
	X(encap_off)   /* IPIP/GRE packets seen, that kind's decap off */      \
	X(decap_unsupported) /* encapsulations left closed (see decap.h) */    \
	X(hello_conflict)    /* other bytes sent for the hello's range */      \
	X(hello_rtx)	     /* hello-range segments resent after capture */

#define HS_STAT_FIELD(name) __u64 name;
struct hs_stats {
	HS_STATS_FIELDS(HS_STAT_FIELD)
};

/* In-kernel ClientHello walker state (kernel-private; the map is not
 * pinned). Lives from the hello's first segment to its end. */
enum hs_walk_phase {
	HS_W_HS = 0,   /* 4-byte handshake header */
	HS_W_SID,      /* session id length (after version and random) */
	HS_W_CS_LEN,   /* cipher suites length */
	HS_W_CS,       /* one cipher suite */
	HS_W_COMP_LEN, /* compression methods length */
	HS_W_EXT_LEN,  /* extensions length */
	HS_W_EXT,      /* one extension header */
	HS_W_ALPN,     /* one byte of the ALPN body */
	HS_W_DONE,
	HS_W_BAD,
	HS_W_GIVEUP, /* followable but over a bound (reason in the flow) */
};

/* Order-insensitive accumulator of the tuple id (see tuple.h). */
struct hs_tuple_acc {
	__u64 ciphers;
	__u64 exts;
	__u64 alpn;	 /* ALPN body bytes, in order */
	__u16 items;	 /* cipher + extension entries seen (cap accounting) */
	__u8 alpn_seen;	 /* the (first) ALPN extension was taken */
	__u8 alpn_bytes; /* ... bytes of it hashed */
	__u16 pad[2];
};

/* Offsets are in the client's byte stream from the hello's first record
 * header; record headers are followed, so the walk covers a handshake
 * message fragmented over several records as well as segments. */
struct hs_hello_walk {
	__u32 next_off; /* stream bytes handed to the walker so far */
	__u32 rec_end; /* where the current record ends (0: before the first) */
	__u32 msg_end; /* where the handshake message ends, 0 until known */
	__u32 hs_want; /* 4 + handshake length, 0 until read */
	__u32 hs_seen; /* record payload bytes announced so far */
	__u32 skip;    /* bytes to skip before the next item */
	__u32 remain;  /* bytes left in the current list */
	__u32 alpn_rest; /* ALPN body bytes to skip after the hashed ones */
	__u8 phase;	 /* enum hs_walk_phase */
	__u8 carry_len;	 /* bytes of an item split across segments/records */
	__u8 capped;	 /* stopped at HS_HELLO_MAX_ITEMS or HS_HELLO_CAP */
	__u8 records;	 /* record headers read */
	__u8 rh_len;	 /* bytes of a record header split across segments */
	__u8 alpn_left;	 /* ALPN body bytes still to hash */
	__u8 give_up;	 /* enum hs_unfp_reason of HS_W_GIVEUP */
	__u8 pad;
	__u8 carry[8];
	__u8 rh[8];
	struct hs_tuple_acc acc;
};

/* Ring buffer events. */
enum hs_event_type {
	HS_EV_HELLO_SEG = 1, /* bytes of a ClientHello segment (events) */
	HS_EV_FLOW = 2,	     /* a flow milestone (flow_events) */
};

enum hs_seg_flags {
	HS_SEG_FIRST = 1 << 0,	/* the hello's first segment: a new hello */
	HS_SEG_RESEND = 1 << 1, /* the hello's range sent again after the
				 * capture ended (compared, never taken) */
	/* a second ClientHello's bytes (after a HelloRetryRequest), the
	 * offset from that hello's first byte */
	HS_SEG_RETRY = 1 << 2,
};

struct hs_event_hdr {
	__u32 type;
	__u32 len; /* payload bytes following the header */
};

struct hs_hello_seg {
	struct hs_event_hdr hdr;
	struct hs_flow_key key;
	__u64 ts_ns;
	__u32 offset;  /* of data[0] from the hello's first byte */
	__u32 seg_len; /* TCP payload length of the segment */
	__u32 flags;   /* enum hs_seg_flags */
	__u32 pad;
	__u8 data[HS_HELLO_CAP];
};

/* Flow flags whose setting is a milestone of the correlator's folding
 * (user/correlate/fold.c waits on each of them): the packet that sets one
 * or more of them reports the flow once. */
#define HS_FLOW_MILESTONES                                                     \
	(HS_F_ACK | HS_F_TLS | HS_F_NONTLS | HS_F_HELLO_DONE |                 \
	 HS_F_HELLO_BAD | HS_F_UNFP | HS_F_SYNACK_RTX | HS_F_SRV_RTX |         \
	 HS_F_CLI_FLIGHT | HS_F_FIN)
/* hs_flow_event.why, besides milestone flags: the flow moved after
 * HS_FLOW_IDLE_NS of silence. */
#define HS_EV_RESUMED (1u << 31)

/* A flow milestone: what a packet did to a flow that the correlator must
 * look at. Flows whose handshake completed report every milestone and a
 * resumption after idle; the others only their end (FIN or RST), so that
 * forged sources make no more than one event a flow. */
struct hs_flow_event {
	struct hs_event_hdr hdr;
	struct hs_flow_key key;
	__u32 flags; /* the flow's flags after the packet */
	__u32 why;   /* milestone flags the packet set, HS_EV_RESUMED */
};

/* Blocking layer. Keys of the LPM tries: prefix length over a 16-byte
 * address (IPv4 v4-mapped, so an IPv4 /24 is stored as /120). */
struct hs_lpm_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* A prefix block; it lapses by itself at expires_ns (kernel CLOCK_MONOTONIC
 * time, 0 = no expiry) even if the daemon is gone. */
struct hs_block {
	__u64 expires_ns;
	__u32 reason; /* enum hs_block_reason */
	__u32 pad;
};

enum hs_block_reason {
	HS_R_MANUAL = 1,
	HS_R_INDICATOR = 2,
};

struct hs_allow {
	__u64 added_ns;
};

/* What the blocking maps may hold, so that the datapath skips lookups in
 * empty ones: the blocklist trie (~30 ns), the allowlist trie, the tuple
 * rules. A writer sets its field before it adds an entry (never a moment
 * where an entry exists and the hint says none); the running instance
 * clears fields when it finds the maps empty. `rules` is a generation:
 * 0 = no rules, bumped on every change, so a flow that found no rule for
 * its tuple need not look again until the rules change. */
struct hs_block_hint {
	__u32 prefixes;
	__u32 allows;
	__u32 rules;
	__u32 cuts; /* set by the datapath when it enters a cut */
};

/* A tuple rule, keyed by a 64-bit id that is a tuple id or a TLS id
 * (kind): flows whose id of that kind matches are cut at their next client
 * packet. Relay-conditional rules (any bound set) cut only a flow whose
 * timing passes hs_relay_cut (relay.h): TLS RTT - TCP RTT at least
 * min_gap_us (the client family's processing allowance + the detour bound)
 * and ACK -> ClientHello at least min_ack_hello_us; or, with a bound
 * learned from the TLS client's direct flows, ACK -> ClientHello at least
 * low_ack_us with the TLS gap at most lead_max_us short of it. */
enum hs_rule_kind {
	HS_RULE_TUPLE = 0, /* key is a tuple id (TLS id + SYN class) */
	HS_RULE_TLS = 1,   /* key is a TLS id (any SYN stack) */
	/* no rule: the flow's hello is one no TLS stack sends, shaped to
	 * hide its fingerprint (a cut's rule_id is then its unfp reason) */
	HS_RULE_EVASIVE = 2,
};

struct hs_tuple_rule {
	__u64 expires_ns;
	__u32 min_gap_us;
	__u32 reason;
	__u32 min_ack_hello_us;
	__u8 kind; /* enum hs_rule_kind */
	__u8 pad[3];
	__u32 low_ack_us;  /* learned ACK -> hello bound, 0: none */
	__u32 lead_max_us; /* ... with the TLS gap at most this short of it */
};

/* A cut flow (the cuts map, keyed by the flow key): lives apart from the
 * LRU flow map so that a flood cannot evict it; lapses at expires_ns
 * (kernel time), pushed on by every client packet of the flow. */
struct hs_cut {
	__u64 expires_ns;
	__u64 rule_id; /* the id the rule matched */
	__u32 reason;
	__u8 kind; /* enum hs_rule_kind */
	__u8 pad[3];
};

/* Who pinned what (written by userspace; the programs do not read it). */
enum hs_meta_flags {
	HS_META_TC_NETLINK = 1 << 0, /* TC egress attached through netlink */
	HS_META_TC_QDISC = 1 << 1,   /* ... on a clsact qdisc we created */
};

struct hs_meta {
	__u32 schema_version; /* HS_SCHEMA_VERSION of the pinning build */
	__u32 ifindex;
	__u32 flags; /* enum hs_meta_flags */
	__u32 pad;
	__u64 attached_unix_ns;
	char ifname[16];
};

/* Encapsulations the datapath opens (--decap), bits of hs_config.decap. */
enum hs_decap_kind {
	HS_DECAP_IPIP = 1 << 0, /* IPv4/IPv6 in IPv4/IPv6 (protocol 4, 41) */
	HS_DECAP_GRE = 1 << 1,	/* GRE version 0 with an IPv4/IPv6 payload */
	HS_DECAP_GUE = 1 << 2,	/* GUE variants 0 and 1 (FOU) on gue_port */
};

/* Load-time configuration (.rodata, set before load). */
struct hs_config {
	__u64 idle_gap_ns; /* client idle time that starts a new burst */
	__u32 enforce;	   /* 1: drop; 0: dry-run, count what would drop */
	__u16 decap;	   /* enum hs_decap_kind bits; 0: none (default) */
	__u16 gue_port;	   /* UDP destination port of GUE (HS_DECAP_GUE) */
	/* 1: BPF_PROG_TEST_RUN replay: each packet's time comes with it
	 * (XDP metadata, the skb's tstamp), and the ring buffer wakes no one */
	__u32 replay;
	/* 1: cut flows whose hello no TLS stack sends (hello_evasive) */
	__u32 cut_evasive;
};

#endif /* HYDRASCOPE_ABI_H */
