// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer, differential: a hello's bytes cut into TLS records and TCP
 * segments at places the input chooses (and one segment sent again with
 * other bytes), run through the real datapath (BPF_PROG_TEST_RUN, needs
 * root) after a handshake, its ring buffer events through the collector.
 * The kernel's tuple id and TLS id must equal the ones userspace computes
 * from the bytes it reassembled (the first received at each offset, as
 * the kernel walks them), or both must have none; past the kernel's own
 * bounds (records, segments) userspace must agree it has none. Any other
 * outcome aborts with both sides printed.
 *
 * Input: byte 0 = segment cuts (low 4 bits), record cuts (bits 4-6),
 * resend (bit 7); then a 16-bit offset per cut, segment cuts first; a
 * resent segment's index; then the hello record.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/frames.h"
#include "datapath/loader.h"
#include "datapath/testrun.h"
#include "lib/addr.h"
#include "fingerprint/hello.h"
#include "fingerprint/tls_fp.h"
#include "hydrascope/abi.h"
#include "hydrascope.skel.h"
#include "hydrascope/tuple.h"
#include "ingest/collector.h"

#define MAX_STREAM 8192
#define XDP_PASS_ 2
#define MS 1000000ull

static struct hydrascope *skel;
static struct ring_buffer *rb;
static struct collector *coll;
/* the packet's time ahead of the frame (testrun.h) */
static uint8_t frame[TESTRUN_HEADROOM + MAX_STREAM + 256];
static struct testrun_progs progs;
static const uint8_t srv[4] = {198, 18, 0, 1};
/* mss 1460, sok, ts, nop, ws 7 (Linux order) */
static const uint8_t syn_opts[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
				     0, 1, 0,	 0,    0, 0, 1, 3,  3, 7};
static uint64_t now = 1000 * MS;
static uint32_t flow_no;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_hello_ids: %s\n", what);
	abort();
}

static void run(const struct frame_spec *s, bool egress)
{
	size_t n = frame_build(s, frame + TESTRUN_HEADROOM,
			       sizeof(frame) - TESTRUN_HEADROOM);
	uint32_t verdict;

	if (testrun_packet(&progs, egress, frame, n, now += MS / 10, &verdict))
		die("BPF_PROG_TEST_RUN failed");
	if (!egress && verdict != XDP_PASS_)
		die("a client packet was not passed");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct load_opts o = {.flows = 4096,
			      .sources = 1024,
			      .sigs = 256,
			      .blocks = 16,
			      .idle_gap_ns = 100 * MS,
			      .replay = true};
	char err[256];

	(void)argc;
	(void)argv;
	libbpf_set_print(NULL);
	skel = loader_open_load(&o, err, sizeof(err));
	if (!skel) {
		fprintf(stderr, "fuzz_hello_ids: %s (needs root)\n", err);
		exit(1);
	}
	testrun_progs_from_skel(skel, &progs);
	coll = collector_new(4096, 64);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events),
			      collector_on_event, coll, NULL);
	if (!coll || !rb)
		die("no collector");
	return 0;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* The record's handshake message cut into records at the given message
 * offsets (a malformed record goes as it is); a cut at 0 or at the offset
 * of another makes an empty record, which a server's TLS skips. Returns
 * the stream length. */
static size_t records(const uint8_t *rec, size_t len, size_t *at, size_t nat,
		      uint8_t *out)
{
	size_t body, start = 0, o = 0, i;

	if (len < 6 || rec[0] != 0x16 ||
	    (size_t)((rec[3] << 8) | rec[4]) != len - 5)
		nat = 0;
	if (!nat) {
		memcpy(out, rec, len);
		return len;
	}
	body = len - 5;
	for (i = 0; i < nat; i++)
		at[i] %= body;
	qsort(at, nat, sizeof(*at), cmp_size);
	for (i = 0; i <= nat; i++) {
		size_t end = i < nat ? at[i] : body;

		memcpy(out + o, rec, 3);
		out[o + 3] = (uint8_t)((end - start) >> 8);
		out[o + 4] = (uint8_t)(end - start);
		memcpy(out + o + 5, rec + 5 + start, end - start);
		o += 5 + end - start;
		start = end;
	}
	return o;
}

/* userspace's ids of the flow; false when it has none (why in *why) */
static bool user_ids(const struct hs_flow *f, const struct hs_flow_key *k,
		     uint64_t *tuple, uint64_t *tls, const char **why)
{
	struct hs_tcp_sig sig;
	struct fp_view v;
	uint64_t cls = 0;

	*why = "no hello";
	if (!collector_view(coll, k, &v))
		return false;
	*why = v.err != HELLO_OK ? hello_strerror(v.err) : "past the kernel";
	if (v.err != HELLO_OK || !v.tuple_valid)
		return false;
	if (f->sig_id && !bpf_map_lookup_elem(bpf_map__fd(skel->maps.tcp_sigs),
					      &f->sig_id, &sig))
		cls = hs_tcp_class_id(&sig);
	*tuple = hs_tuple_id(&v.acc, cls);
	*tls = hs_tls_id(&v.acc);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t stream[MAX_STREAM], resend[MAX_STREAM];
	size_t ncut, nrec, cut[16], rat[8], i, sl, start;
	size_t hdr, pos = 1, again = SIZE_MAX;
	uint8_t cli[4];
	struct frame_spec s = {.src = cli, .dst = srv, .dport = 443};
	struct hs_flow_key k = {0};
	struct hs_flow f;
	uint64_t ut = 0, ul = 0;
	const char *why;
	bool uok;

	if (size < 1)
		return 0;
	ncut = data[0] & 15;
	nrec = (data[0] >> 4) & 7;
	hdr = 1 + 2 * (ncut + nrec) + (data[0] >> 7);
	if (size <= hdr || size - hdr > MAX_STREAM / 2)
		return 0;
	for (i = 0; i < ncut; i++, pos += 2)
		cut[i] = (size_t)(data[pos] << 8 | data[pos + 1]);
	for (i = 0; i < nrec; i++, pos += 2)
		rat[i] = (size_t)(data[pos] << 8 | data[pos + 1]);
	sl = records(data + hdr, size - hdr, rat, nrec, stream);
	for (i = 0; i < ncut; i++)
		cut[i] = 1 + cut[i] % (sl > 1 ? sl - 1 : 1);
	qsort(cut, ncut, sizeof(*cut), cmp_size);
	if (data[0] >> 7)
		again = data[pos] % (ncut + 1);

	/* a fresh flow: SYN, SYN-ACK, ACK */
	flow_no++;
	cli[0] = 10;
	cli[1] = (uint8_t)(flow_no >> 16);
	cli[2] = (uint8_t)(flow_no >> 8);
	cli[3] = (uint8_t)flow_no;
	s.sport = (uint16_t)(1024 + flow_no % 60000);
	s.flags = 0x02;
	s.seq = 1000;
	s.opts = syn_opts;
	s.opts_len = sizeof(syn_opts);
	run(&s, false);
	{
		struct frame_spec r = {.src = srv,
				       .dst = cli,
				       .sport = 443,
				       .dport = s.sport,
				       .seq = 5000,
				       .ack = 1001,
				       .flags = 0x12};

		run(&r, true);
	}
	s.flags = 0x10;
	s.seq = 1001;
	s.ack = 5001;
	s.opts = NULL;
	s.opts_len = 0;
	run(&s, false);
	/* the stream in segments; one of them sent again with other bytes */
	s.flags = 0x18;
	for (i = 0, start = 0; i <= ncut; i++) {
		size_t end = i < ncut ? cut[i] : sl;

		if (end <= start)
			continue;
		s.seq = 1001 + (uint32_t)start;
		s.payload = stream + start;
		s.payload_len = end - start;
		run(&s, false);
		if (i == again) {
			for (size_t j = start; j < end; j++)
				resend[j] = stream[j] ^ 0x5a;
			s.payload = resend + start;
			run(&s, false);
		}
		start = end;
	}
	ring_buffer__consume(rb);
	collector_flush(coll);

	addr_from_v4(&k.client, cli);
	addr_from_v4(&k.server, srv);
	k.cport = s.sport;
	k.sport = 443;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.flows), &k, &f))
		die("the flow is gone");
	uok = user_ids(&f, &k, &ut, &ul, &why);
	if (f.flags & HS_F_TUPLE) {
		if (!uok || ut != f.tuple_id || ul != f.tls_id) {
			fprintf(stderr,
				"kernel tuple %016llx tls %016llx flags %x, "
				"userspace %016llx %016llx (%s; %zu segments, "
				"%zu records)\n",
				(unsigned long long)f.tuple_id,
				(unsigned long long)f.tls_id, f.flags,
				(unsigned long long)ut, (unsigned long long)ul,
				uok ? "ids" : why, ncut + 1, nrec + 1);
			die("kernel and userspace ids differ");
		}
	} else if (uok &&
		   !(f.flags & HS_F_UNFP && f.unfp_reason == HS_U_SEGS)) {
		fprintf(stderr,
			"kernel flags %x unfp %u, %u hello segments of %u "
			"data packets, hello end +%u: no ids; userspace "
			"%016llx\n",
			f.flags, f.unfp_reason, f.hello_segs, f.data_pkts,
			f.hello_end - f.hello_seq, (unsigned long long)ut);
		die("userspace has ids the kernel has not");
	}
	return 0;
}
