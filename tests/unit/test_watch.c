// SPDX-License-Identifier: BSD-2-Clause
/*
 * What a round reads (user/correlate/watch.c): the flows flow events name
 * and those still active, a bounded slice of the map (reconciliation), and
 * never the idle flows that are folded already. Flows are written into a
 * kernel map of the datapath's types and reported as the datapath would
 * (struct hs_flow_event); the correlator's read counters say what each
 * round read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "corr_fixture.h"

#define SEC HS_NS_PER_SEC

/* The datapath's report of a flow milestone. */
static void report(struct corr *c, const struct hs_flow_key *k, uint32_t why)
{
	struct hs_flow_event ev = {
	    .hdr = {HS_EV_FLOW, sizeof(ev) - sizeof(struct hs_event_hdr)},
	    .key = *k,
	    .why = why,
	};

	corr_on_event(c, &ev, sizeof(ev));
}

/* The key of flow i: its own client. */
static struct hs_flow_key flow_key(uint32_t i)
{
	struct hs_flow_key k = {0};
	uint8_t cli[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8),
			  (uint8_t)i};
	uint8_t srv[4] = {192, 0, 2, 1};

	addr_from_v4(&k.client, cli);
	addr_from_v4(&k.server, srv);
	k.cport = 40000;
	k.sport = 443;
	return k;
}

/* Flow i: a completed handshake with a timing sample, first seen at
 * first_ns, last at last_ns; FIN when fin. */
static struct hs_flow_key put_flow(int fd, uint32_t i, uint64_t first_ns,
				   uint64_t last_ns, bool fin)
{
	struct hs_flow_key k = flow_key(i);
	struct hs_flow f = {0};

	f.first_ns = first_ns;
	f.last_ns = last_ns;
	f.flags = HS_F_SYN | HS_F_SYNACK | HS_F_ACK | HS_F_TLS |
		  HS_F_HELLO_DONE | HS_F_TUPLE | HS_F_SRV_FLIGHT |
		  HS_F_CLI_FLIGHT | (fin ? HS_F_FIN : 0);
	f.tuple_id = FX_TUPLE;
	f.synack_us = 100;
	f.ack_us = 20100;
	f.hello_us = 20600;
	f.srv_flight_us = 21000;
	f.cli_flight_us = 41500;
	assert_int_equal(bpf_map_update_elem(fd, &k, &f, BPF_ANY), 0);
	return k;
}

struct wt {
	int flows_fd, sources_fd, sigs_fd;
	struct collector *coll;
	struct corr *c;
	struct corr_stats was; /* at the last round */
};

static void wt_new(struct wt *w, uint32_t max_flows)
{
	struct corr_config cfg;
	struct corr_env env = {0};

	corr_config_defaults(&cfg);
	w->flows_fd = fx_map("wt_flows", sizeof(struct hs_flow_key),
			     sizeof(struct hs_flow), max_flows);
	w->sources_fd = fx_map("wt_sources", sizeof(struct hs_addr),
			       sizeof(struct hs_source), max_flows);
	w->sigs_fd =
	    fx_map("wt_sigs", sizeof(__u64), sizeof(struct hs_tcp_sig), 16);
	w->coll = collector_new(16, 16);
	assert_non_null(w->coll);
	env.coll = w->coll;
	env.sigs_fd = w->sigs_fd;
	w->c = corr_new(&cfg, &env, max_flows, max_flows);
	assert_non_null(w->c);
	memset(&w->was, 0, sizeof(w->was));
}

static void wt_free(struct wt *w)
{
	corr_free(w->c);
	collector_free(w->coll);
	close(w->flows_fd);
	close(w->sources_fd);
	close(w->sigs_fd);
}

/* A round at now; *d: what it read (the counters' growth). */
static void wt_round(struct wt *w, uint64_t now, struct corr_stats *d)
{
	struct corr_stats s;

	assert_int_equal(
	    corr_sweep(w->c, w->flows_fd, w->sources_fd, now, false), 0);
	corr_get_stats(w->c, &s);
	*d = s;
	for (int i = 0; i < CORR_READ_KINDS; i++)
		d->flow_reads[i] = s.flow_reads[i] - w->was.flow_reads[i];
	d->flows_reconciled = s.flows_reconciled - w->was.flows_reconciled;
	d->relay_samples = s.relay_samples - w->was.relay_samples;
	d->source_reads = s.source_reads - w->was.source_reads;
	w->was = s;
}

/* 100k flows, over and folded: a round with nothing new reads none of
 * them but the reconciliation walk's slice (1/16 of the map and one
 * batch); the rounds before read each once, as events named them. */
static void test_idle_flows_not_read(void **state)
{
	const uint32_t n = 100000, slice = n / 16 + 1024;
	struct corr_stats d;
	struct wt w;
	uint64_t reads = 0;

	(void)state;
	wt_new(&w, n);
	for (uint32_t i = 0; i < n; i++) {
		struct hs_flow_key k =
		    put_flow(w.flows_fd, i, SEC + i, 2 * SEC + i, true);

		report(w.c, &k, HS_F_FIN);
	}
	wt_round(&w, 30 * SEC, &d);
	assert_int_equal(d.relay_samples, n);
	reads = d.flow_reads[CORR_READ_LISTED] + d.flow_reads[CORR_READ_SWEEP];
	assert_int_equal(reads, n);
	assert_int_equal(d.flows_listed, 0); /* all idle: none listed */
	for (int r = 0; r < 20; r++) {
		wt_round(&w, (40 + 10 * (uint64_t)r) * SEC, &d);
		assert_int_equal(d.flow_reads[CORR_READ_LISTED], 0);
		assert_int_equal(d.flow_reads[CORR_READ_SWEEP], 0);
		assert_true(d.flow_reads[CORR_READ_RECONCILE] <= slice);
		assert_int_equal(d.flows_reconciled, 0);
		assert_int_equal(d.relay_samples, 0);
	}
	/* the walk went over the whole map (and counted it) meanwhile */
	assert_true(d.recon_passes >= 2);
	assert_int_equal(d.kernel_flows, n);
	wt_free(&w);
}

/* An event the ring lost: the walk finds the flow within a pass (a slice
 * of the map a round), folds it once and counts it. */
static void test_lost_event_reconciled(void **state)
{
	const uint32_t max = 16384, n = 3000, lost = 1234;
	const uint32_t bound = n / 1024 + 2; /* slices of 1024 (and more) */
	struct corr_stats d;
	struct wt w;
	uint32_t r;

	(void)state;
	wt_new(&w, max);
	for (uint32_t i = 0; i < n; i++) {
		struct hs_flow_key k =
		    put_flow(w.flows_fd, i, SEC, 2 * SEC, true);

		if (i != lost)
			report(w.c, &k, HS_F_ACK);
	}
	for (r = 0; r < bound && !w.was.flows_reconciled; r++) {
		wt_round(&w, (30 + 10 * (uint64_t)r) * SEC, &d);
		assert_int_equal(d.flow_reads[CORR_READ_LISTED], r ? 0 : n - 1);
		assert_true(d.flow_reads[CORR_READ_RECONCILE] <= 2048);
		/* folded when found, not before */
		assert_int_equal(w.was.relay_samples,
				 n - 1 + w.was.flows_reconciled);
	}
	assert_int_equal(w.was.flows_reconciled, 1);
	/* found once: the walk's next passes find it folded */
	for (r = 0; r < 2 * bound; r++)
		wt_round(&w, (200 + 10 * (uint64_t)r) * SEC, &d);
	assert_int_equal(w.was.flows_reconciled, 1);
	assert_int_equal(w.was.relay_samples, n);
	wt_free(&w);
}

/* A flow is read every round while it moves, as a sweep read it, and no
 * longer once idle; a move after the idle time (the datapath reports it)
 * lists it again. A listed flow the kernel dropped loses its shadow. */
static void test_active_then_idle(void **state)
{
	struct corr_stats d;
	struct hs_flow_key k, gone;
	struct wt w;

	(void)state;
	wt_new(&w, 4096);
	k = put_flow(w.flows_fd, 1, 100 * SEC, 101 * SEC, false);
	report(w.c, &k, HS_F_ACK);
	wt_round(&w, 105 * SEC, &d);
	assert_int_equal(d.flow_reads[CORR_READ_LISTED], 1);
	assert_int_equal(d.source_reads >= 1, 1);
	/* it moved (no milestone, no event): read at the next round */
	put_flow(w.flows_fd, 1, 100 * SEC, 108 * SEC, false);
	wt_round(&w, 115 * SEC, &d);
	assert_int_equal(d.flow_reads[CORR_READ_LISTED], 1);
	/* quiet, not yet idle long enough: read, folded as over at idle */
	wt_round(&w, 125 * SEC, &d);
	assert_int_equal(d.flow_reads[CORR_READ_LISTED], 1);
	assert_int_equal(d.flows_listed, 0);
	wt_round(&w, 135 * SEC, &d);
	assert_int_equal(d.flow_reads[CORR_READ_LISTED], 0);
	/* resumed after the idle time: the datapath says so */
	put_flow(w.flows_fd, 1, 100 * SEC, 140 * SEC, false);
	report(w.c, &k, HS_EV_RESUMED);
	wt_round(&w, 145 * SEC, &d);
	assert_int_equal(d.flow_reads[CORR_READ_LISTED], 1);
	assert_int_equal(d.flows_reconciled, 0);
	/* gone from the kernel (LRU) before the round read it */
	gone = put_flow(w.flows_fd, 2, 150 * SEC, 151 * SEC, true);
	report(w.c, &gone, HS_F_ACK);
	assert_int_equal(bpf_map_delete_elem(w.flows_fd, &gone), 0);
	wt_round(&w, 155 * SEC, &d);
	assert_int_equal(d.flows_tracked, 1);
	wt_free(&w);
}

/* Shadows of flows the kernel evicted while they were idle go at the end
 * of the walk's pass: the table holds what the kernel holds. */
static void test_stale_shadows_dropped(void **state)
{
	const uint32_t n = 3000;
	struct corr_stats d;
	struct wt w;

	(void)state;
	wt_new(&w, 4096);
	for (uint32_t i = 0; i < n; i++) {
		struct hs_flow_key k =
		    put_flow(w.flows_fd, i, SEC, 2 * SEC, true);

		report(w.c, &k, HS_F_FIN);
	}
	wt_round(&w, 30 * SEC, &d);
	assert_int_equal(d.flows_tracked, n);
	for (uint32_t i = 0; i < n; i += 2) {
		struct hs_flow_key k = flow_key(i);

		assert_int_equal(bpf_map_delete_elem(w.flows_fd, &k), 0);
	}
	/* two passes of 4096 / 1024 slices at most */
	for (int r = 0; r < 10; r++)
		wt_round(&w, (40 + 10 * (uint64_t)r) * SEC, &d);
	assert_int_equal(d.flows_tracked, n / 2);
	assert_int_equal(d.kernel_flows, n / 2);
	wt_free(&w);
}

/* A flow map that churns (LRU evictions: here deletions) past its size:
 * every flow is folded once, the long-lived ones too. Shadows of evicted
 * flows must not push out those of flows the kernel holds, or these are
 * folded again (the sweep counted 2.8 relay samples a flow on a replay
 * with twice the flows of its map). */
static void test_churn_folds_once(void **state)
{
	const uint32_t max = 4096, lived = 100, wave = 1000, waves = 16;
	struct corr_stats d;
	struct wt w;

	(void)state;
	wt_new(&w, max);
	for (uint32_t i = 0; i < lived; i++) {
		struct hs_flow_key k =
		    put_flow(w.flows_fd, i, SEC, 2 * SEC, true);

		report(w.c, &k, HS_F_FIN);
	}
	for (uint32_t r = 0; r < waves; r++) {
		uint64_t t = (30 + 10 * (uint64_t)r) * SEC;

		for (uint32_t i = 0; r >= 3 && i < wave; i++) {
			struct hs_flow_key k =
			    flow_key(10000 + (r - 3) * wave + i);

			assert_int_equal(bpf_map_delete_elem(w.flows_fd, &k),
					 0);
		}
		for (uint32_t i = 0; i < wave; i++) {
			struct hs_flow_key k =
			    put_flow(w.flows_fd, 10000 + r * wave + i,
				     t - 5 * SEC, t - 4 * SEC, true);

			report(w.c, &k, HS_F_FIN);
		}
		wt_round(&w, t, &d);
	}
	assert_int_equal(w.was.relay_samples, lived + waves * wave);
	assert_int_equal(w.was.flows_reconciled, 0);
	assert_true(d.flows_tracked <= max + max / 2);
	wt_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_idle_flows_not_read),
	    cmocka_unit_test(test_lost_event_reconciled),
	    cmocka_unit_test(test_active_then_idle),
	    cmocka_unit_test(test_stale_shadows_dropped),
	    cmocka_unit_test(test_churn_folds_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
