// SPDX-License-Identifier: BSD-2-Clause
/*
 * Datapath tests through BPF_PROG_TEST_RUN: crafted frames for every header
 * path, truncations at every byte, lying lengths, option garbage, hellos
 * split at every byte, hostile hellos, and the handshake timing logic.
 * Every frame must pass (XDP_PASS / TC_ACT_OK) and be counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "lib/addr.h"
#include "datapath/maps.h"
#include "ingest/collector.h"
#include "fingerprint/tls_fp.h"
#include "frames.h"
#include "datapath/mapiter.h"
#include "fingerprint/hello.h"
#include "hydrascope/abi.h"
#include "hydrascope.skel.h"
#include "hydrascope/tuple.h"
#include "datapath/loader.h"
#include "output/report.h"

#define XDP_PASS_RC 2
#define MS 1000000ull

static struct hydrascope *skel;
static uint8_t frame[70000];
static const uint8_t cli4[4] = {198, 18, 0, 2}, srv4[4] = {198, 18, 0, 1};
static const uint8_t cli6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0,
				 0,    0, 0, 0, 0, 0, 0, 2};
static const uint8_t srv6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0,
				 0,    0, 0, 0, 0, 0, 0, 1};
/* mss 1460, sok, ts, nop, ws 7 (Linux order) */
static const uint8_t linux_opts[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
				       0, 1, 0,	   0,	 0, 0, 1, 3,  3, 7};

static int load(void **state)
{
	struct load_opts o = {.flows = 4096,
			      .sources = 1024,
			      .sigs = 256,
			      .blocks = 1024,
			      .idle_gap_ns = 100 * MS};
	char err[256];

	(void)state;
	libbpf_set_print(NULL);
	skel = loader_open_load(&o, err, sizeof(err));
	if (!skel)
		fprintf(stderr, "load failed: %s\n", err);
	return skel ? 0 : -1;
}

static int unload(void **state)
{
	(void)state;
	hydrascope__destroy(skel);
	return 0;
}

static int run_at(const uint8_t *f, size_t len, bool egress, uint64_t t)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f,
		    .data_size_in = (__u32)len, .repeat = 1);
	int fd = egress ? bpf_program__fd(skel->progs.tc_egress)
			: bpf_program__fd(skel->progs.xdp_ingress);

	skel->bss->replay_now_ns = t ? t : 1;
	assert_int_equal(bpf_prog_test_run_opts(fd, &o), 0);
	return (int)o.retval;
}

static void ingress(const uint8_t *f, size_t len, uint64_t t)
{
	assert_int_equal(run_at(f, len, false, t), XDP_PASS_RC);
}

static void egress(const uint8_t *f, size_t len, uint64_t t)
{
	assert_int_equal(run_at(f, len, true, t), 0 /* TC_ACT_OK */);
}

static struct hs_stats stats(void)
{
	struct hs_stats s;

	assert_int_equal(stats_read(bpf_map__fd(skel->maps.stats), &s), 0);
	return s;
}

static struct frame_spec v4_spec(uint16_t sport, uint8_t flags)
{
	struct frame_spec s = {.src = cli4,
			       .dst = srv4,
			       .sport = sport,
			       .dport = 443,
			       .seq = 1000,
			       .flags = flags};
	return s;
}

static struct frame_spec reverse(struct frame_spec s)
{
	const uint8_t *a = s.src;
	uint16_t p = s.sport;

	s.src = s.dst;
	s.dst = a;
	s.sport = s.dport;
	s.dport = p;
	return s;
}

static struct hs_flow_key key_of(const struct frame_spec *s)
{
	struct hs_flow_key k;

	memset(&k, 0, sizeof(k));
	if (s->ipv6) {
		memcpy(k.client.b, s->src, 16);
		memcpy(k.server.b, s->dst, 16);
	} else {
		k.client.b[10] = k.client.b[11] = k.server.b[10] =
		    k.server.b[11] = 0xff;
		memcpy(&k.client.b[12], s->src, 4);
		memcpy(&k.server.b[12], s->dst, 4);
	}
	k.cport = s->sport;
	k.sport = s->dport;
	return k;
}

static bool flow_get(const struct frame_spec *s, struct hs_flow *f)
{
	struct hs_flow_key k = key_of(s);

	return bpf_map_lookup_elem(bpf_map__fd(skel->maps.flows), &k, f) == 0;
}

static void test_syn_signature(void **state)
{
	struct frame_spec s = v4_spec(40001, 0x02);
	struct hs_tcp_sig sig;
	struct hs_flow f;
	uint64_t before = stats().syn;
	size_t n;

	(void)state;
	s.opts = linux_opts;
	s.opts_len = sizeof(linux_opts);
	s.ttl = 61;
	n = frame_build(&s, frame, sizeof(frame));
	ingress(frame, n, 1 * MS);
	assert_int_equal(stats().syn, before + 1);
	assert_true(flow_get(&s, &f));
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.tcp_sigs),
					     &f.sig_id, &sig),
			 0);
	assert_int_equal(sig.ttl, 61);
	assert_int_equal(sig.mss, 1460);
	assert_int_equal(sig.wscale, 7);
	assert_int_equal(sig.opt_cnt, 5);
	assert_int_equal(sig.opts[0], HS_OPT_MSS);
	assert_int_equal(sig.opts[1], HS_OPT_SOK);
	assert_int_equal(sig.opts[2], HS_OPT_TS);
	assert_int_equal(sig.opts[3], HS_OPT_NOP);
	assert_int_equal(sig.opts[4], HS_OPT_WS);
	assert_true(sig.quirks & HS_Q_DF);
	assert_true(sig.quirks & HS_Q_NZ_ID);
	assert_true(sig.quirks & HS_Q_OPT_ZERO_TS1 ? false : true);
}

static void test_vlan_and_qinq(void **state)
{
	struct hs_stats a, b;
	int tags;

	(void)state;
	for (tags = 0; tags <= 3; tags++) {
		struct frame_spec s = v4_spec((uint16_t)(41000 + tags), 0x02);
		size_t n;

		s.vlan_tags = tags;
		s.opts = linux_opts;
		s.opts_len = sizeof(linux_opts);
		n = frame_build(&s, frame, sizeof(frame));
		a = stats();
		ingress(frame, n, 2 * MS);
		b = stats();
		if (tags <= 2)
			assert_int_equal(b.syn, a.syn + 1);
		else
			assert_int_equal(b.err_vlan, a.err_vlan + 1);
	}
}

static void test_ipv6_extension_headers(void **state)
{
	struct hs_stats a, b;
	int ext;

	(void)state;
	for (ext = 0; ext <= HS_MAX_V6_EXT + 1; ext++) {
		struct frame_spec s = {.ipv6 = 1,
				       .src = cli6,
				       .dst = srv6,
				       .sport = (uint16_t)(42000 + ext),
				       .dport = 443,
				       .seq = 5,
				       .flags = 0x02,
				       .v6_ext = ext};
		size_t n = frame_build(&s, frame, sizeof(frame));

		a = stats();
		ingress(frame, n, 3 * MS);
		b = stats();
		if (ext <= HS_MAX_V6_EXT)
			assert_int_equal(b.syn, a.syn + 1);
		else
			assert_int_equal(b.ipv6_ext_limit,
					 a.ipv6_ext_limit + 1);
	}
}

static void test_fragments_and_options(void **state)
{
	struct frame_spec s = v4_spec(43000, 0x02);
	struct hs_stats a, b;
	size_t n;

	(void)state;
	s.frag = 1;
	n = frame_build(&s, frame, sizeof(frame));
	a = stats();
	ingress(frame, n, 4 * MS);
	b = stats();
	assert_int_equal(b.ip_frag, a.ip_frag + 1);

	s = (struct frame_spec){.ipv6 = 1,
				.src = cli6,
				.dst = srv6,
				.sport = 43001,
				.dport = 443,
				.flags = 2,
				.frag = 1};
	n = frame_build(&s, frame, sizeof(frame));
	ingress(frame, n, 4 * MS);
	assert_int_equal(stats().ip_frag, b.ip_frag + 1);

	s = v4_spec(43002, 0x02);
	s.v4_opt_words = 2;
	n = frame_build(&s, frame, sizeof(frame));
	a = stats();
	ingress(frame, n, 4 * MS);
	assert_int_equal(stats().syn, a.syn + 1);
	{
		struct hs_flow f;
		struct hs_tcp_sig sig;

		assert_true(flow_get(&s, &f));
		assert_int_equal(
		    bpf_map_lookup_elem(bpf_map__fd(skel->maps.tcp_sigs),
					&f.sig_id, &sig),
		    0);
		assert_int_equal(sig.ip_opt_len, 8);
	}
}

static void test_non_tcp_and_non_ip(void **state)
{
	struct frame_spec s = v4_spec(0, 0);
	struct hs_stats a, b;
	size_t n;

	(void)state;
	s.l4proto = 17;
	n = frame_build(&s, frame, sizeof(frame));
	a = stats();
	ingress(frame, n, 5 * MS);
	memset(frame, 0, 60);
	frame[12] = 0x08;
	frame[13] = 0x06; /* ARP */
	ingress(frame, 60, 5 * MS);
	b = stats();
	assert_int_equal(b.non_tcp, a.non_tcp + 1);
	assert_int_equal(b.non_ip, a.non_ip + 1);
}

/* Every prefix of a valid frame passes and is counted as exactly one
 * packet; only the whole frame is fingerprinted. */
static void truncate_all(struct frame_spec s)
{
	size_t n = frame_build(&s, frame, sizeof(frame)), len;
	uint8_t copy[2048];
	struct hs_stats a, b;
	uint64_t errs_a, errs_b;

	assert_true(n <= sizeof(copy));
	memcpy(copy, frame, n);
	a = stats();
	for (len = 0; len < n; len++)
		ingress(copy, len < 14 ? 14 : len, 6 * MS);
	b = stats();
	assert_int_equal(b.xdp_packets, a.xdp_packets + n);
	assert_int_equal(b.syn, a.syn);
	errs_a = a.err_eth + a.err_vlan + a.err_ipv4 + a.err_ipv6 + a.err_tcp +
		 a.non_ip;
	errs_b = b.err_eth + b.err_vlan + b.err_ipv4 + b.err_ipv6 + b.err_tcp +
		 b.non_ip;
	assert_int_equal(errs_b - errs_a, n);
}

static void test_truncation_every_offset(void **state)
{
	struct frame_spec s = v4_spec(44000, 0x02);

	(void)state;
	s.opts = linux_opts;
	s.opts_len = sizeof(linux_opts);
	s.vlan_tags = 2;
	truncate_all(s);
	s = (struct frame_spec){.ipv6 = 1,
				.src = cli6,
				.dst = srv6,
				.sport = 44001,
				.dport = 443,
				.flags = 2,
				.v6_ext = 3,
				.opts = linux_opts,
				.opts_len = sizeof(linux_opts)};
	truncate_all(s);
}

static void test_lying_lengths(void **state)
{
	struct frame_spec s = v4_spec(45000, 0x02);
	struct hs_stats a, b;
	size_t n, l3 = 14;

	(void)state;
	n = frame_build(&s, frame, sizeof(frame));
	a = stats();
	frame[l3] = 0x44; /* ihl 4 < 5 */
	ingress(frame, n, 7 * MS);
	frame_build(&s, frame, sizeof(frame));
	frame[l3 + 2] = 0xff; /* total length beyond the frame */
	ingress(frame, n, 7 * MS);
	frame_build(&s, frame, sizeof(frame));
	frame[l3 + 2] = 0;
	frame[l3 + 3] = 10; /* total length < header */
	ingress(frame, n, 7 * MS);
	b = stats();
	assert_int_equal(b.err_ipv4, a.err_ipv4 + 3);

	frame_build(&s, frame, sizeof(frame));
	frame[l3 + 20 + 12] = 0x40; /* doff 4 */
	ingress(frame, n, 7 * MS);
	frame[l3 + 20 + 12] = 0xf0; /* doff 15: beyond the segment */
	ingress(frame, n, 7 * MS);
	assert_int_equal(stats().err_tcp, b.err_tcp + 2);
}

static void test_tcp_option_garbage(void **state)
{
	static const uint8_t cases[][8] = {
	    {2, 0, 0, 0, 0, 0, 0, 0},	 /* length 0 */
	    {2, 9, 5, 0xb4, 0, 0, 0, 0}, /* length past the end */
	    {3, 3, 20, 1, 0, 0, 0, 0},	 /* ws 20 (exws), fine */
	    {0, 1, 1, 0, 0, 0, 0, 0},	 /* EOL then non-zero (opt+) */
	    {8, 10, 0, 0, 0, 0, 0, 0},	 /* truncated timestamp */
	    {1, 1, 1, 1, 1, 1, 1, 1},	 /* all NOPs */
	};
	const unsigned expect[] = {HS_Q_OPT_BAD,    HS_Q_OPT_BAD, HS_Q_OPT_EXWS,
				   HS_Q_OPT_EOL_NZ, HS_Q_OPT_BAD, 0};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame_spec s = v4_spec((uint16_t)(46000 + i), 0x02);
		struct hs_tcp_sig sig;
		struct hs_flow f;
		size_t n;

		s.opts = cases[i];
		s.opts_len = 8;
		n = frame_build(&s, frame, sizeof(frame));
		ingress(frame, n, 8 * MS);
		assert_true(flow_get(&s, &f));
		assert_int_equal(
		    bpf_map_lookup_elem(bpf_map__fd(skel->maps.tcp_sigs),
					&f.sig_id, &sig),
		    0);
		if (expect[i])
			assert_true(sig.quirks & expect[i]);
		else
			assert_int_equal(
			    sig.quirks & (HS_Q_OPT_BAD | HS_Q_OPT_EOL_NZ), 0);
	}
}

/* Open a flow (SYN, SYN-ACK, ACK) and send payload in segments cut at
 * the given offsets. Returns the flow. */
static void open_flow(struct frame_spec *s, uint64_t *t)
{
	struct frame_spec r;
	size_t n;

	s->flags = 0x02;
	s->seq = 1000;
	s->opts = linux_opts;
	s->opts_len = sizeof(linux_opts);
	n = frame_build(s, frame, sizeof(frame));
	ingress(frame, n, *t);
	r = reverse(*s);
	r.flags = 0x12;
	r.seq = 5000;
	r.ack = 1001;
	n = frame_build(&r, frame, sizeof(frame));
	egress(frame, n, *t += MS);
	s->flags = 0x10;
	s->seq = 1001;
	s->ack = 5001;
	s->opts = NULL;
	s->opts_len = 0;
	n = frame_build(s, frame, sizeof(frame));
	ingress(frame, n, *t += 10 * MS);
}

static void send_segments(struct frame_spec *s, const uint8_t *data, size_t len,
			  const size_t *cuts, size_t ncuts, uint64_t *t)
{
	size_t start = 0, i;

	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len, n;

		if (end <= start)
			continue;
		s->flags = 0x18;
		s->payload = data + start;
		s->payload_len = end - start;
		n = frame_build(s, frame, sizeof(frame));
		ingress(frame, n, *t += MS / 10);
		s->seq += (uint32_t)(end - start);
		start = end;
	}
	s->payload = NULL;
	s->payload_len = 0;
}

/* The userspace id of the bytes, with the flow's TCP class. */
static uint64_t user_tuple(const uint8_t *hello, size_t len, uint64_t sig_id)
{
	struct tls_hello *h = malloc(sizeof(*h));
	struct hs_tuple_acc acc;
	struct hs_tcp_sig sig;
	uint64_t cls = 0, id;

	assert_non_null(h);
	assert_int_equal(hello_parse(hello, len, h), HELLO_OK);
	assert_true(fp_tuple_acc(h, &acc));
	if (sig_id && !bpf_map_lookup_elem(bpf_map__fd(skel->maps.tcp_sigs),
					   &sig_id, &sig))
		cls = hs_tcp_class_id(&sig);
	id = hs_tuple_id(&acc, cls);
	free(h);
	return id;
}

static void test_hello_split_at_every_byte(void **state)
{
	uint16_t ciphers[40],
	    exts[] = {0x0a0a, 0x0000, 0x0017, 0xff01, 0x000a, 0x000b,
		      0x0023, 0x0010, 0x0005, 0x000d, 0x0012, 0x0033,
		      0x002d, 0x002b, 0x001b, 0x4469, 0x0015};
	static uint8_t hello[4096];
	size_t len, cut, i;
	uint64_t t = 100 * MS, expect = 0;

	(void)state;
	for (i = 0; i < 40; i++)
		ciphers[i] = (uint16_t)(i == 0 ? 0x1a1a : 0x1300 + i);
	len = hello_build(hello, sizeof(hello), ciphers, 40, exts,
			  sizeof(exts) / sizeof(exts[0]), 7);
	for (cut = 1; cut < len; cut++) {
		struct frame_spec s = v4_spec((uint16_t)(10000 + cut), 0);
		struct hs_flow f;
		size_t cuts[2] = {cut, cut + 37 < len ? cut + 37 : len};

		open_flow(&s, &t);
		send_segments(&s, hello, len, cuts, 2, &t);
		assert_true(flow_get(&s, &f));
		assert_true(f.flags & HS_F_TLS);
		assert_true(f.flags & HS_F_TUPLE);
		if (!expect)
			expect = user_tuple(hello, len, f.sig_id);
		assert_int_equal(f.tuple_id, expect);
	}
}

/* GREASE and order do not change the id; another cipher does. */
static void test_tuple_order_insensitive(void **state)
{
	uint16_t c1[] = {0x1301, 0x1302, 0x1303, 0xc02b},
		 c2[] = {0xc02b, 0x2a2a, 0x1303, 0x1301, 0x1302};
	uint16_t c3[] = {0x1301, 0x1302, 0x1303, 0xc02c};
	uint16_t e1[] = {0x0000, 0x000a, 0x0010, 0x002b},
		 e2[] = {0x002b, 0x0010, 0x5a5a, 0x000a, 0x0015};
	static uint8_t h1[2048], h2[2048], h3[2048];
	size_t l1 = hello_build(h1, sizeof(h1), c1, 4, e1, 4, 3);
	size_t l2 = hello_build(h2, sizeof(h2), c2, 5, e2, 5, 3);
	size_t l3 = hello_build(h3, sizeof(h3), c3, 4, e1, 4, 3);
	struct frame_spec s1 = v4_spec(47001, 0), s2 = v4_spec(47002, 0),
			  s3 = v4_spec(47003, 0);
	struct hs_flow f1, f2, f3;
	uint64_t t = 900 * MS;

	(void)state;
	open_flow(&s1, &t);
	send_segments(&s1, h1, l1, NULL, 0, &t);
	open_flow(&s2, &t);
	send_segments(&s2, h2, l2, NULL, 0, &t);
	open_flow(&s3, &t);
	send_segments(&s3, h3, l3, NULL, 0, &t);
	assert_true(flow_get(&s1, &f1) && flow_get(&s2, &f2) &&
		    flow_get(&s3, &f3));
	assert_true(f1.flags & f2.flags & f3.flags & HS_F_TUPLE);
	assert_int_equal(f1.tuple_id, f2.tuple_id);
	assert_int_not_equal(f1.tuple_id, f3.tuple_id);
}

static void test_hostile_hello(void **state)
{
	static uint16_t ciphers[400], exts[300];
	static uint8_t hello[8192];
	struct frame_spec s = v4_spec(48000, 0);
	struct hs_stats a;
	struct hs_flow f;
	uint64_t t = 2000 * MS;
	size_t len, i, cuts[3] = {1400, 2800, 4200};

	(void)state;
	for (i = 0; i < 400; i++)
		ciphers[i] = (uint16_t)(0x0100 + i);
	for (i = 0; i < 300; i++)
		exts[i] = (uint16_t)(0x1000 + i);
	len = hello_build(hello, sizeof(hello), ciphers, 400, exts, 300, 4);
	a = stats();
	open_flow(&s, &t);
	send_segments(&s, hello, len, cuts, 3, &t);
	assert_true(flow_get(&s, &f));
	assert_true(f.flags & HS_F_TUPLE);
	assert_int_equal(stats().hello_item_cap, a.hello_item_cap + 1);
	assert_int_equal(f.tuple_id, user_tuple(hello, len, f.sig_id));

	/* an extension length that lies: walk rejected, packet passed */
	len = hello_build(hello, sizeof(hello), ciphers, 4, exts, 2, 4);
	hello[len - 8 + 2] = 0x40; /* second extension claims 16 KB */
	s = v4_spec(48001, 0);
	a = stats();
	open_flow(&s, &t);
	send_segments(&s, hello, len, NULL, 0, &t);
	assert_true(flow_get(&s, &f));
	assert_true(f.flags & HS_F_HELLO_BAD);
	assert_false(f.flags & HS_F_TUPLE);
	assert_int_equal(stats().hello_bad, a.hello_bad + 1);
}

static void test_handshake_timing(void **state)
{
	uint16_t c[] = {0x1301, 0x1302};
	uint16_t e[] = {0x002b, 0x000a};
	static uint8_t hello[512];
	size_t len = hello_build(hello, sizeof(hello), c, 2, e, 2, 2), n;
	struct frame_spec s = v4_spec(49000, 0), r;
	uint64_t t = 5000 * MS;
	static const uint8_t srv_flight[300], cli_flight[80];
	struct hs_flow f;

	(void)state;
	open_flow(&s,
		  &t); /* SYN t0, SYN-ACK t0+1ms, ACK t0+11ms: TCP RTT 10ms */
	t += 2 * MS;   /* ACK -> hello: 2.1 ms (send_segments adds 0.1) */
	send_segments(&s, hello, len, NULL, 0, &t);
	r = reverse(s);
	r.flags = 0x18;
	r.seq = 5001;
	r.ack = s.seq;
	r.payload = srv_flight;
	r.payload_len = sizeof(srv_flight);
	n = frame_build(&r, frame, sizeof(frame));
	egress(frame, n, t += MS);
	/* client's ECN/CWR-flagged pure ACK does not count as its flight */
	s.flags = 0x90;
	n = frame_build(&s, frame, sizeof(frame));
	ingress(frame, n, t + MS);
	s.flags = 0x18 | 0x80;
	s.payload = cli_flight;
	s.payload_len = sizeof(cli_flight);
	n = frame_build(&s, frame, sizeof(frame));
	ingress(frame, n, t += 50 * MS);
	assert_true(flow_get(&s, &f));
	assert_int_equal(f.ack_us - f.synack_us, 10000);
	assert_int_equal(f.hello_us - f.ack_us, 2100);
	assert_int_equal(f.cli_flight_us - f.srv_flight_us, 50000);
	assert_int_equal(f.rtt_discards, 0);

	/* a retransmitted SYN-ACK makes the TCP sample ambiguous (Karn) */
	s = v4_spec(49001, 0);
	{
		struct frame_spec rr;
		uint64_t t2 = t + 100 * MS;
		struct hs_stats a = stats();

		s.flags = 0x02;
		s.opts = linux_opts;
		s.opts_len = sizeof(linux_opts);
		n = frame_build(&s, frame, sizeof(frame));
		ingress(frame, n, t2);
		rr = reverse(s);
		rr.flags = 0x12;
		rr.seq = 7000;
		rr.ack = s.seq + 1;
		n = frame_build(&rr, frame, sizeof(frame));
		egress(frame, n, t2 += MS);
		egress(frame, n, t2 += 1000 * MS);
		s.flags = 0x10;
		s.seq++;
		s.ack = 7001;
		s.opts = NULL;
		s.opts_len = 0;
		n = frame_build(&s, frame, sizeof(frame));
		ingress(frame, n, t2 += MS);
		assert_true(flow_get(&s, &f));
		assert_int_equal(f.rtt_discards, 1);
		assert_int_equal(stats().rtt_discards, a.rtt_discards + 1);
	}
}

static void test_cadence(void **state)
{
	struct frame_spec s = v4_spec(50000, 0);
	static const uint8_t req[100];
	const uint64_t gaps_ms[] = {0, 1000, 3000, 4000, 6000};
	uint64_t t = 10000 * MS;
	struct hs_flow f;
	size_t i, n;

	(void)state;
	open_flow(&s, &t);
	for (i = 0; i < 5; i++) {
		/* each request: two segments 10 ms apart (one burst) */
		uint64_t at = 20000 * MS + gaps_ms[i] * MS;

		s.flags = 0x18;
		s.payload = req;
		s.payload_len = sizeof(req);
		n = frame_build(&s, frame, sizeof(frame));
		ingress(frame, n, at);
		s.seq += sizeof(req);
		n = frame_build(&s, frame, sizeof(frame));
		ingress(frame, n, at + 10 * MS);
		s.seq += sizeof(req);
	}
	assert_true(flow_get(&s, &f));
	assert_int_equal(f.cad.bursts, 5);
	/* intervals 1,2,1,2 s: mean 1.5 s, population variance 0.25 s^2 */
	assert_int_equal(f.cad.ivl_mean_us, 1500000);
	assert_int_equal(f.cad.ivl_var_us2, 250000000000ull);
	assert_int_equal(f.cad.size_mean, 200);
	assert_int_equal(f.cad.size_var, 0);
}

/* ---- blocking layer ---------------------------------------------------- */

static struct hydrascope *load_mode(bool enforce)
{
	struct load_opts o = {.flows = 4096,
			      .sources = 1024,
			      .sigs = 256,
			      .blocks = 1024,
			      .idle_gap_ns = 100 * MS,
			      .enforce = enforce};
	char err[256];
	struct hydrascope *s = loader_open_load(&o, err, sizeof(err));

	if (!s)
		fprintf(stderr, "load failed: %s\n", err);
	return s;
}

static void lpm_put(int fd, const char *cidr, const void *val)
{
	struct hs_lpm_key k = {0};
	struct cidr c;

	assert_int_equal(cidr_parse(cidr, &c), 0);
	k.prefixlen = c.plen;
	memcpy(k.addr, c.addr.b, 16);
	/* as the CLI does: the hint first, so that no moment has an entry the
	 * datapath would skip */
	assert_int_equal(
	    loader_hint_mark(bpf_map__fd(skel->maps.block_hint),
			     fd == bpf_map__fd(skel->maps.blocklist)
				 ? HINT_PREFIXES
				 : HINT_ALLOWS),
	    0);
	assert_int_equal(bpf_map_update_elem(fd, &k, val, BPF_ANY), 0);
}

static int syn_from(const uint8_t src[4], uint16_t port, uint64_t t)
{
	struct frame_spec s = {.src = src,
			       .dst = srv4,
			       .sport = port,
			       .dport = 443,
			       .seq = 1,
			       .flags = 0x02};
	size_t n = frame_build(&s, frame, sizeof(frame));

	return run_at(frame, n, false, t);
}

static void test_prefix_blocks(void **state)
{
	static const uint8_t in[4] = {203, 0, 113, 9},
			     out[4] = {203, 0, 114, 9};
	static const uint8_t allowed[4] = {203, 0, 113, 77};
	struct hydrascope *dry = skel, *enf = load_mode(true);
	struct hs_block b = {.reason = HS_R_MANUAL};
	struct hs_allow al = {0};
	struct hs_stats a, z;

	(void)state;
	assert_non_null(enf);
	/* an empty blocklist is not even looked up */
	skel = enf;
	assert_int_equal(syn_from(in, 999, 4000 * MS), XDP_PASS_RC);
	/* enforce: /24 blocked until t=10s, one address of it allowlisted */
	b.expires_ns = 10000 * MS;
	lpm_put(bpf_map__fd(skel->maps.blocklist), "203.0.113.0/24", &b);
	lpm_put(bpf_map__fd(skel->maps.allowlist), "203.0.113.77/32", &al);
	a = stats();
	assert_int_equal(syn_from(in, 1000, 5000 * MS), 1 /* XDP_DROP */);
	assert_int_equal(syn_from(out, 1001, 5000 * MS), XDP_PASS_RC);
	assert_int_equal(syn_from(allowed, 1002, 5000 * MS), XDP_PASS_RC);
	assert_int_equal(syn_from(in, 1003, 10001 * MS),
			 XDP_PASS_RC); /* lapsed */
	z = stats();
	assert_int_equal(z.block_drops, a.block_drops + 1);
	assert_int_equal(z.allow_hits, a.allow_hits + 1);
	assert_int_equal(z.block_expired, a.block_expired + 1);
	hydrascope__destroy(enf);

	/* dry-run (the default): counted, passed */
	skel = dry;
	b.expires_ns = 0;
	lpm_put(bpf_map__fd(skel->maps.blocklist), "203.0.113.0/24", &b);
	a = stats();
	assert_int_equal(syn_from(in, 1004, 5000 * MS), XDP_PASS_RC);
	z = stats();
	assert_int_equal(z.block_would_drop, a.block_would_drop + 1);
	assert_int_equal(z.block_drops, a.block_drops);
}

/* A farm's hello through a relay (TLS RTT - TCP RTT = gap), from src. Returns
 * the verdict of the client's second flight. */
static int farm_flow(const uint8_t src[4], uint16_t port, const uint8_t *hello,
		     size_t len, uint64_t gap_ms, uint64_t *t,
		     struct hs_flow *f)
{
	static const uint8_t flight[200], fin[64];
	struct frame_spec s = {.src = src,
			       .dst = srv4,
			       .sport = port,
			       .dport = 443},
			  r;
	size_t n;
	int rc;

	open_flow(&s, t); /* TCP RTT 10 ms */
	send_segments(&s, hello, len, NULL, 0, t);
	r = reverse(s);
	r.flags = 0x18;
	r.seq = 5001;
	r.ack = s.seq;
	r.payload = flight;
	r.payload_len = sizeof(flight);
	n = frame_build(&r, frame, sizeof(frame));
	egress(frame, n, *t += MS);
	s.flags = 0x18;
	s.payload = fin;
	s.payload_len = sizeof(fin);
	n = frame_build(&s, frame, sizeof(frame));
	rc = run_at(frame, n, false, *t += (10 + gap_ms) * MS);
	assert_true(flow_get(&s, f));
	return rc;
}

static void test_tuple_rules(void **state)
{
	static const uint8_t farm1[4] = {100, 64, 1, 1},
			     farm2[4] = {100, 64, 99, 2};
	static const uint8_t sdk[4] = {192, 0, 2, 10};
	uint16_t c[] = {0x1301, 0x1302, 0x1303, 0xc02b};
	uint16_t e[] = {0x0000, 0x000a, 0x0010, 0x002b, 0x000d};
	static uint8_t hello[1024];
	size_t len = hello_build(hello, sizeof(hello), c, 4, e, 5, 6);
	struct hydrascope *dry = skel;
	struct hs_tuple_rule rule = {.min_gap_us = 20000,
				     .reason = HS_R_MANUAL};
	uint64_t t = 50000 * MS;
	struct hs_flow f;
	struct hs_stats a, z;

	(void)state;
	skel = load_mode(true);
	assert_non_null(skel);
	/* learn the farm's tuple id from one of its flows */
	assert_int_equal(farm_flow(farm1, 2000, hello, len, 60, &t, &f),
			 XDP_PASS_RC);
	assert_true(f.flags & HS_F_TUPLE);
	assert_int_equal(
	    bpf_map_update_elem(bpf_map__fd(skel->maps.tuple_rules),
				&f.tuple_id, &rule, BPF_ANY),
	    0);
	/* a rule changed: a new generation, flows look their rule up again */
	assert_int_equal(
	    loader_hint_mark(bpf_map__fd(skel->maps.block_hint), HINT_RULES),
	    0);
	a = stats();
	/* a never-seen exit node of the farm (relay gap 60 ms): cut at its
	 * second flight, before any request */
	assert_int_equal(farm_flow(farm2, 2001, hello, len, 60, &t, &f),
			 1 /* DROP */);
	assert_true(f.flags & HS_F_CUT);
	/* an SDK customer with the same client stack, direct (gap 1 ms): spared
	 */
	assert_int_equal(farm_flow(sdk, 2002, hello, len, 1, &t, &f),
			 XDP_PASS_RC);
	assert_false(f.flags & HS_F_CUT);
	z = stats();
	assert_int_equal(z.tuple_cuts, a.tuple_cuts + 1);
	assert_int_equal(z.tuple_drops, a.tuple_drops + 1);
	assert_int_equal(z.tuple_gap_spared, a.tuple_gap_spared + 1);
	/* further packets of the cut flow are dropped too */
	{
		struct frame_spec s = {.src = farm2,
				       .dst = srv4,
				       .sport = 2001,
				       .dport = 443,
				       .flags = 0x10,
				       .seq = 99999};
		size_t n = frame_build(&s, frame, sizeof(frame));

		assert_int_equal(run_at(frame, n, false, t += MS), 1);
	}
	hydrascope__destroy(skel);
	skel = dry;
}

/* ---- resources under pressure ------------------------------------------ */

/* A flood of ClientHellos with nobody reading the ring buffer: the events
 * that do not fit are counted as drops, none goes unaccounted, every
 * packet passes. */
static void test_ringbuf_overflow(void **state)
{
	static const uint16_t c[] = {0x1301, 0x1302, 0x1303, 0xc02b};
	static const uint16_t e[] = {0x000a, 0x000d, 0x002b, 0x0033};
	uint8_t hello[2048];
	size_t hl = hello_build(hello, sizeof(hello), c, 4, e, 4, 200);
	const int n = 8000; /* ~1 KB events: more than the 4 MB ring holds */
	static const uint8_t flooder[4] = {198, 18, 200,
					   1}; /* new flows only */
	struct hs_stats a, b;

	(void)state;
	a = stats();
	for (int i = 0; i < n; i++) {
		struct frame_spec s = v4_spec((uint16_t)(10000 + i), 0x18);
		size_t len;

		s.src = flooder;
		s.payload = hello;
		s.payload_len = hl;
		s.seq = (uint32_t)i * 7u;
		len = frame_build(&s, frame, sizeof(frame));
		ingress(frame, len, 1000 * MS + (uint64_t)i);
	}
	b = stats();
	assert_true(b.ringbuf_drops - a.ringbuf_drops > 0);
	assert_int_equal((b.hello_segments - a.hello_segments) +
			     (b.ringbuf_drops - a.ringbuf_drops),
			 n);
	assert_int_equal(b.xdp_packets - a.xdp_packets, n);
}

/* A flow table far smaller than the flows: every SYN passes, every insert
 * succeeds and is counted, the LRU keeps the table at its size, and the
 * evictions (inserts - entries) are what the exporter reports. */
static void test_lru_eviction(void **state)
{
	struct load_opts o = {.flows = 256,
			      .sources = 64,
			      .sigs = 64,
			      .blocks = 16,
			      .idle_gap_ns = 100 * MS};
	struct hydrascope *saved = skel, *small;
	const int n = 3000;
	struct hs_stats st;
	char err[256];
	long entries;

	(void)state;
	small = loader_open_load(&o, err, sizeof(err));
	assert_non_null(small);
	skel = small;
	for (int i = 0; i < n; i++) {
		struct frame_spec s = v4_spec((uint16_t)(1024 + i), 0x02);
		size_t len;

		s.opts = linux_opts;
		s.opts_len = sizeof(linux_opts);
		s.seq = (uint32_t)i * 13u;
		len = frame_build(&s, frame, sizeof(frame));
		ingress(frame, len, 1000 * MS + (uint64_t)i * 1000);
	}
	st = stats();
	entries = map_count_keys(bpf_map__fd(small->maps.flows),
				 sizeof(struct hs_flow_key));
	assert_int_equal(st.syn, n);
	assert_int_equal(st.flow_inserts, n);
	assert_int_equal(st.flow_insert_fail, 0);
	assert_true(entries > 0 && entries <= 256);
	assert_true(st.flow_inserts - (uint64_t)entries >= (uint64_t)n - 256);
	skel = saved;
	hydrascope__destroy(small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_syn_signature),
	    cmocka_unit_test(test_vlan_and_qinq),
	    cmocka_unit_test(test_ipv6_extension_headers),
	    cmocka_unit_test(test_fragments_and_options),
	    cmocka_unit_test(test_non_tcp_and_non_ip),
	    cmocka_unit_test(test_truncation_every_offset),
	    cmocka_unit_test(test_lying_lengths),
	    cmocka_unit_test(test_tcp_option_garbage),
	    cmocka_unit_test(test_hello_split_at_every_byte),
	    cmocka_unit_test(test_tuple_order_insensitive),
	    cmocka_unit_test(test_hostile_hello),
	    cmocka_unit_test(test_handshake_timing),
	    cmocka_unit_test(test_cadence),
	    cmocka_unit_test(test_prefix_blocks),
	    cmocka_unit_test(test_tuple_rules),
	    cmocka_unit_test(test_ringbuf_overflow),
	    cmocka_unit_test(test_lru_eviction),
	};

	return cmocka_run_group_tests_name("datapath", tests, load, unload);
}
