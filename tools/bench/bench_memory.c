// SPDX-License-Identifier: BSD-2-Clause
/*
 * Memory at N flows: kernel map memory per flow and per source (fdinfo
 * memlock of maps sized for N), and the userspace resident memory the
 * collector (a fingerprint per flow) and the correlator (one round and one
 * evaluation) add, per flow. The kernel maps are filled with N finished
 * TLS flows from N/4 sources by batch updates; every flow's hello goes
 * through the collector and its end (a flow milestone) to the correlator
 * as the ring buffers would hand them. Rounds, each timed as its reads of
 * the maps and its evaluation: the first (every flow new), one with
 * nothing new (what idle flows cost), one where 1 % of the flows are new
 * connections (a steady state).
 *
 *   bench_memory N      prints one JSON object
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/addr.h"
#include "ingest/collector.h"
#include "correlate/correlate.h"
#include "frames.h"
#include "hydrascope/abi.h"
#include "hydrascope.skel.h"
#include "datapath/loader.h"
#include "lib/procfs.h"
#include "fingerprint/tcpsig.h"

#define BATCH 4096

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct hs_addr client_of(uint32_t src)
{
	struct hs_addr a = {{0}};

	a.b[10] = a.b[11] = 0xff;
	a.b[12] = 10;
	a.b[13] = (uint8_t)(src >> 16);
	a.b[14] = (uint8_t)(src >> 8);
	a.b[15] = (uint8_t)src;
	return a;
}

static struct hs_flow_key flow_key(uint32_t i)
{
	struct hs_flow_key k = {0};
	uint8_t srv[4] = {198, 51, 100, 10};

	k.client = client_of(i / 4);
	addr_from_v4(&k.server, srv);
	k.cport = (uint16_t)(20000 + i % 4);
	k.sport = 443;
	return k;
}

/* Flows [from, from + n), first seen from t0 on (1 us apart), each
 * reported to the correlator as the datapath reports a flow's end. */
static void fill_flows(int fd, struct corr *corr, uint32_t from, uint32_t n,
		       uint64_t t0)
{
	static struct hs_flow_key keys[BATCH];
	static struct hs_flow vals[BATCH];
	LIBBPF_OPTS(bpf_map_batch_opts, o);

	for (uint32_t i = from; i < from + n; i += BATCH) {
		__u32 m = from + n - i < BATCH ? from + n - i : BATCH;

		for (uint32_t j = 0; j < m; j++) {
			struct hs_flow *f = &vals[j];

			keys[j] = flow_key(i + j);
			memset(f, 0, sizeof(*f));
			f->first_ns = t0 + (uint64_t)(i - from + j) * 1000;
			f->last_ns = f->first_ns + 2000000000ull;
			f->pkts_in = 8;
			f->pkts_out = 8;
			f->bytes_in = 2000;
			f->bytes_out = 9000;
			f->tuple_id = 1 + (i + j) % 97;
			f->flags = HS_F_SYN | HS_F_SYNACK | HS_F_ACK |
				   HS_F_TLS | HS_F_HELLO_DONE | HS_F_TUPLE |
				   HS_F_SRV_FLIGHT | HS_F_CLI_FLIGHT | HS_F_FIN;
			f->synack_us = 10;
			f->ack_us = 20010;
			f->hello_us = 20500;
			f->srv_flight_us = 21000;
			f->cli_flight_us = 41500;
			f->cad.bursts = 2;
			f->cad.size_n = 1;
			f->cad.size_mean = 400;
			f->cad.cur_bytes = 420;
		}
		if (bpf_map_update_batch(fd, keys, vals, &m, &o)) {
			perror("flows batch update");
			exit(1);
		}
		for (uint32_t j = 0; j < m; j++) {
			struct hs_flow_event ev = {
			    .hdr = {HS_EV_FLOW, sizeof(ev) - sizeof(ev.hdr)},
			    .key = keys[j],
			    .flags = vals[j].flags,
			    .why = HS_F_FIN,
			};

			corr_on_event(corr, &ev, sizeof(ev));
		}
	}
}

static void fill_sources(int fd, uint32_t n, uint64_t t0)
{
	static struct hs_addr keys[BATCH];
	static struct hs_source vals[BATCH];
	LIBBPF_OPTS(bpf_map_batch_opts, o);

	for (uint32_t i = 0; i < n; i += BATCH) {
		__u32 m = n - i < BATCH ? n - i : BATCH;

		for (uint32_t j = 0; j < m; j++) {
			keys[j] = client_of(i + j);
			memset(&vals[j], 0, sizeof(vals[j]));
			vals[j].first_ns = t0;
			vals[j].last_ns = t0 + 3000000000ull;
			vals[j].flows = 4;
			vals[j].tls_flows = 4;
			vals[j].cad.bursts = 8;
			vals[j].cad.ivl_mean_us = 2000000;
			vals[j].cad.ivl_var_us2 = 400000000ull;
		}
		if (bpf_map_update_batch(fd, keys, vals, &m, &o)) {
			perror("sources batch update");
			exit(1);
		}
	}
}

/* Every flow's hello through the collector, as the ring buffer hands it. */
static void feed_hellos(struct collector *c, uint32_t n)
{
	static const uint16_t ciphers[] = {0x1301, 0x1302, 0x1303, 0xc02b,
					   0xc02f, 0xc02c, 0xc030, 0xcca9};
	static const uint16_t exts[] = {0x0000, 0x000a, 0x000b, 0x0017,
					0x002b, 0x0033, 0x002d, 0x0023};
	struct hs_hello_seg *ev = calloc(1, sizeof(*ev));
	size_t len =
	    hello_build(ev->data, sizeof(ev->data), ciphers, 8, exts, 8, 8);

	ev->hdr.type = HS_EV_HELLO_SEG;
	for (uint32_t i = 0; i < n; i++) {
		ev->key = flow_key(i);
		ev->seg_len = (uint32_t)len;
		collector_on_event(c, ev,
				   offsetof(struct hs_hello_seg, data) + len);
	}
	free(ev);
}

struct round_time {
	double read_ms, eval_ms;
};

/* One round at now: the correlator's reads of the maps, its evaluation. */
static struct round_time round_at(struct corr *corr, struct hydrascope *skel,
				  uint64_t now)
{
	struct round_time r;
	double t = now_s(), t1;

	corr_sweep(corr, bpf_map__fd(skel->maps.flows),
		   bpf_map__fd(skel->maps.sources), now, false);
	t1 = now_s();
	corr_eval(corr, now, NULL);
	r.read_ms = (t1 - t) * 1e3;
	r.eval_ms = (now_s() - t1) * 1e3;
	return r;
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 100000;
	uint32_t nsrc = n / 4 ? n / 4 : 1;
	struct load_opts lo = {.flows = n,
			       .sources = nsrc,
			       .sigs = 4096,
			       .blocks = 1024,
			       .idle_gap_ns = 100000000ull};
	struct corr_config cfg;
	struct hydrascope *skel;
	struct collector *coll;
	struct corr *corr;
	char err[256];
	long rss0, rss1, rss2;
	uint64_t t0 = 1000ull * 1000000000ull, sec = 1000000000ull;
	struct round_time first, idle, steady;
	struct corr_stats cs;

	libbpf_set_print(NULL);
	skel = loader_open_load(&lo, err, sizeof(err));
	if (!skel) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	fill_sources(bpf_map__fd(skel->maps.sources), nsrc, t0);
	rss0 = proc_rss_bytes();
	coll = collector_new(n, 4096);
	feed_hellos(coll, n);
	rss1 = proc_rss_bytes();
	corr_config_defaults(&cfg);
	cfg.max_members = n;
	corr = corr_new(&cfg,
			&(struct corr_env){coll, NULL, NULL,
					   bpf_map__fd(skel->maps.tcp_sigs)},
			n, nsrc);
	if (!coll || !corr) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	fill_flows(bpf_map__fd(skel->maps.flows), corr, 0, n, t0);
	/* every flow new (and over: each reported its end) */
	first = round_at(corr, skel, t0 + 20 * sec);
	rss2 = proc_rss_bytes();
	/* a round later with nothing new: what idle flows cost a round (the
	 * issue's goal is a round independent of them) */
	idle = round_at(corr, skel, t0 + 30 * sec);
	/* 1 % of the 5-tuples reused by new connections */
	fill_flows(bpf_map__fd(skel->maps.flows), corr, 0, n / 100,
		   t0 + 31 * sec);
	steady = round_at(corr, skel, t0 + 40 * sec);
	corr_get_stats(corr, &cs);
	printf("{\"flows\":%u,\"sources\":%u,"
	       "\"kernel_bytes_per_flow\":%.0f,"
	       "\"kernel_bytes_per_source\":%.0f,"
	       "\"collector_bytes_per_flow\":%.0f,"
	       "\"correlator_bytes_per_flow\":%.0f,"
	       "\"rss_mb\":%.1f,\"sweep_and_eval_ms\":%.1f,"
	       "\"idle_round_ms\":%.1f,\"first_read_ms\":%.1f,"
	       "\"first_eval_ms\":%.1f,\"idle_read_ms\":%.1f,"
	       "\"idle_eval_ms\":%.1f,\"steady_round_ms\":%.1f,"
	       "\"steady_read_ms\":%.1f,\"flows_reconciled\":%llu}\n",
	       n, nsrc, (double)fd_memlock(bpf_map__fd(skel->maps.flows)) / n,
	       (double)fd_memlock(bpf_map__fd(skel->maps.sources)) / nsrc,
	       (double)(rss1 - rss0) / n, (double)(rss2 - rss1) / n,
	       (double)rss2 / 1e6, first.read_ms + first.eval_ms,
	       idle.read_ms + idle.eval_ms, first.read_ms, first.eval_ms,
	       idle.read_ms, idle.eval_ms, steady.read_ms + steady.eval_ms,
	       steady.read_ms, (unsigned long long)cs.flows_reconciled);
	corr_free(corr);
	collector_free(coll);
	hydrascope__destroy(skel);
	return 0;
}
