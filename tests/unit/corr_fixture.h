/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A correlator fed by hand, for the indicator tests. Flows, sources and SYN
 * signatures are written into kernel maps of the datapath's key and value
 * types, ClientHellos go to a collector as ring-buffer events, each flow's
 * milestone (its end) goes to the correlator as the datapath reports it,
 * and a round (corr_sweep, which reads the flows those events name) +
 * corr_eval run over them; a sink keeps every indicator for the
 * assertions. Feeding the public sweep
 * rather than filling struct src_state keeps the per-flow thresholds
 * (relay_min_gap_us, the base gaps, stack_min_implausibility) and the
 * grouping into clusters inside what the tables test. The maps need
 * CAP_BPF, as the datapath tests do.
 *
 * Include after <cmocka.h>.
 */
#ifndef HS_TEST_CORR_FIXTURE_H
#define HS_TEST_CORR_FIXTURE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <json-c/json.h>

#include "correlate/correlate.h"
#include "fingerprint/asndb.h"
#include "fingerprint/client_family.h"
#include "family_hellos.h"
#include "frames.h"
#include "ingest/collector.h"
#include "lib/addr.h"
#include "lib/hstime.h"

#define FX_MAX_IND 512
#define FX_MAX_FLOWS 4096 /* the flow map's size */
#define FX_MAX_SRC 32
/* The tuple id of every flow that names none: one shared client stack. */
#define FX_TUPLE 0xfa12f00dull
/* Built by tools/gen-asn-db.pl from tests/data/unit-networks.json:
 * 100.64.0.0/16 residential, 198.18.0.0/24 mobile, 203.0.113.0/24
 * business, 2001:db8::/32 hosting; anything else is not in it. */
#define FX_NETWORKS "tests/data/unit-networks.mmdb"

/* One kernel flow: the hs_flow the datapath would have written. */
struct fx_flow {
	const char *client;
	double at_s, dur_s; /* first packet, and last - first */
	/* ClientHello of this family; FAM_UNKNOWN: no fingerprint */
	enum client_family fam;
	/* SYN: TTL (64 Unix, 128 Windows, 255 network gear; 0: no SYN seen)
	 * and MSS (0: no option) */
	uint8_t ttl;
	uint16_t mss;
	/* handshake timing in us; tls_rtt_us 0: no timing sample */
	uint32_t tcp_rtt_us, tls_rtt_us, ack_hello_us;
	uint32_t flags; /* added to the handshake's, e.g. HS_F_SYNACK_RTX */
	/* completed requests: count, mean size, population variance */
	uint32_t req_n;
	uint64_t req_mean, req_var;
	uint16_t sport;	   /* server port, the pivot endpoint; 0: 443 */
	uint64_t tuple_id; /* 0: FX_TUPLE */
};

/* One kernel source record: volume and request cadence. */
struct fx_source {
	const char *addr;
	uint32_t flows;	 /* flows opened (0: 1) */
	uint32_t bursts; /* requests */
	uint64_t ivl_mean_us, ivl_var_us2;
	double first_s, last_s;
};

/* An indicator as the sink saw it. */
struct fx_ind {
	enum ind_kind kind;
	double score;
	bool relay;
	bool fresh;	     /* goes out as a record */
	bool had_evidence;   /* written before anyone asked (ind_evidence) */
	uint64_t cluster_id; /* 0: a per-source indicator */
	enum cadence_band band;
	size_t n_sources;
	struct hs_addr src[FX_MAX_SRC];
	char evidence[2048];
};

struct fx {
	struct corr_config cfg; /* adjust before the first fx_eval */
	size_t max_sources;	/* ... this too (0: 1024) */
	struct corr_env env;
	struct collector *coll;
	struct asndb *asn;
	struct corr *c;
	int flows_fd, sources_fd, sigs_fd;
	uint16_t next_cport;
	/* flow events of the flows written since the last fx_eval */
	size_t n_events;
	struct hs_flow_event events[FX_MAX_FLOWS];
	size_t n_got;
	struct fx_ind got[FX_MAX_IND];
	struct ind_sink also; /* a second sink (a policy), if set */
};

static inline struct hs_addr fx_addr(const char *s)
{
	struct cidr c;

	if (cidr_parse(s, &c))
		fail_msg("bad address %s", s);
	return c.addr;
}

static inline int fx_map(const char *name, size_t ksz, size_t vsz, size_t max)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, name, (__u32)ksz, (__u32)vsz,
				(__u32)max, NULL);

	if (fd < 0)
		fail_msg("bpf_map_create %s: %s (the indicator tests need "
			 "CAP_BPF)",
			 name, strerror(errno));
	return fd;
}

static inline struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	corr_config_defaults(&f->cfg);
	f->flows_fd = fx_map("fx_flows", sizeof(struct hs_flow_key),
			     sizeof(struct hs_flow), FX_MAX_FLOWS);
	f->sources_fd = fx_map("fx_sources", sizeof(struct hs_addr),
			       sizeof(struct hs_source), 1024);
	f->sigs_fd =
	    fx_map("fx_sigs", sizeof(__u64), sizeof(struct hs_tcp_sig), 256);
	f->coll = collector_new(FX_MAX_FLOWS, 64);
	assert_non_null(f->coll);
	f->env.coll = f->coll;
	f->env.sigs_fd = f->sigs_fd;
	f->next_cport = 40000;
	return f;
}

/* Classify sources with the test network database (residential_proxy). */
static inline void fx_use_networks(struct fx *f)
{
	char err[256];

	f->asn = asndb_open(FX_NETWORKS, err, sizeof(err));
	if (!f->asn)
		fail_msg("%s (run from the repository root)", err);
	f->env.asn = f->asn;
}

static inline void fx_free(struct fx *f)
{
	corr_free(f->c);
	collector_free(f->coll);
	asndb_close(f->asn);
	close(f->flows_fd);
	close(f->sources_fd);
	close(f->sigs_fd);
	free(f);
}

static inline uint64_t fx_sig(struct fx *f, const struct fx_flow *in,
			      const struct hs_addr *client)
{
	struct hs_tcp_sig s = {
	    .ip_ver = addr_is_v4(client) ? 4 : 6,
	    .ttl = in->ttl,
	    .mss = in->mss,
	    .win = 64240,
	    .wscale = 7,
	    .has_ws = 1,
	    .quirks = HS_Q_DF,
	    .opt_cnt = 5,
	    .opts = {HS_OPT_MSS, HS_OPT_SOK, HS_OPT_TS, HS_OPT_NOP, HS_OPT_WS},
	};
	uint64_t id =
	    ((uint64_t)s.ip_ver << 32 | (uint64_t)in->ttl << 16 | in->mss) + 1;

	if (!in->ttl)
		return 0;
	assert_int_equal(bpf_map_update_elem(f->sigs_fd, &id, &s, BPF_ANY), 0);
	return id;
}

/* Handshake stamps (us after the SYN) that give exactly the row's TCP RTT,
 * TLS RTT and ACK->ClientHello delay (fold.c: flow_timing). */
static inline void fx_timing(struct hs_flow *fl, const struct fx_flow *in)
{
	if (!in->tls_rtt_us)
		return;
	fl->flags |= HS_F_SRV_FLIGHT | HS_F_CLI_FLIGHT;
	fl->synack_us = 100;
	fl->ack_us = fl->synack_us + in->tcp_rtt_us;
	fl->hello_us = fl->ack_us + in->ack_hello_us;
	fl->srv_flight_us = fl->hello_us + 50;
	fl->cli_flight_us = fl->srv_flight_us + in->tls_rtt_us;
}

/* The flow as the datapath leaves it once the connection closed (FIN). */
static inline void fx_flow(struct fx *f, const struct fx_flow *in)
{
	struct hs_flow_key k = {0};
	struct hs_flow fl = {0};
	struct hs_hello_seg *ev;
	size_t n;

	k.client = fx_addr(in->client);
	k.server = fx_addr(addr_is_v4(&k.client) ? "192.0.2.1" : "2001:db8::1");
	k.cport = f->next_cport++;
	k.sport = in->sport ? in->sport : 443;
	fl.first_ns = (uint64_t)(in->at_s * HS_NS_PER_SEC);
	fl.last_ns = fl.first_ns + (uint64_t)(in->dur_s * HS_NS_PER_SEC);
	fl.flags = HS_F_SYN | HS_F_SYNACK | HS_F_ACK | HS_F_TLS |
		   HS_F_HELLO_DONE | HS_F_TUPLE | HS_F_FIN | in->flags;
	fl.tuple_id = in->tuple_id ? in->tuple_id : FX_TUPLE;
	fl.sig_id = fx_sig(f, in, &k.client);
	fx_timing(&fl, in);
	fl.cad.bursts = in->req_n;
	fl.cad.size_n = in->req_n;
	fl.cad.size_mean = in->req_mean;
	fl.cad.size_var = in->req_var;
	assert_int_equal(bpf_map_update_elem(f->flows_fd, &k, &fl, BPF_ANY), 0);
	/* the datapath reports the flow's milestones; the last (its FIN)
	 * is enough for a round to read it */
	assert_true(f->n_events < FX_MAX_FLOWS);
	f->events[f->n_events++] = (struct hs_flow_event){
	    .hdr = {HS_EV_FLOW,
		    sizeof(struct hs_flow_event) - sizeof(struct hs_event_hdr)},
	    .key = k,
	    .flags = fl.flags,
	    .why = HS_F_FIN,
	};
	if (in->fam == FAM_UNKNOWN)
		return;
	ev = calloc(1, sizeof(*ev));
	assert_non_null(ev);
	n = family_hello(in->fam, ev->data, sizeof(ev->data));
	assert_true(n > 0);
	ev->hdr.type = HS_EV_HELLO_SEG;
	ev->key = k;
	ev->ts_ns = fl.first_ns;
	ev->seg_len = (uint32_t)n;
	collector_on_event(f->coll, ev,
			   offsetof(struct hs_hello_seg, data) + n);
	free(ev);
}

static inline void fx_source(struct fx *f, const struct fx_source *in)
{
	struct hs_addr a = fx_addr(in->addr);
	struct hs_source s = {0};

	s.first_ns = (uint64_t)(in->first_s * HS_NS_PER_SEC);
	s.last_ns = (uint64_t)(in->last_s * HS_NS_PER_SEC);
	s.flows = in->flows ? in->flows : 1;
	s.tls_flows = s.flows;
	s.cad.bursts = in->bursts;
	s.cad.ivl_mean_us = in->ivl_mean_us;
	s.cad.ivl_var_us2 = in->ivl_var_us2;
	assert_int_equal(bpf_map_update_elem(f->sources_fd, &a, &s, BPF_ANY),
			 0);
}

/* Address of member i of a cluster spread over `prefixes` /24s. */
static inline const char *fx_member_addr(char *buf, size_t cap, unsigned i,
					 unsigned prefixes)
{
	snprintf(buf, cap, "10.%u.7.%u", i % prefixes, i + 1);
	return buf;
}

/* A source record with the request cadence of a band (1 s mean interval;
 * CV 0, 0.25 and 0.6; a single request is too few to tell). */
static inline void fx_band_source(struct fx *f, const char *addr,
				  enum cadence_band band, uint32_t flows,
				  double first_s, double last_s)
{
	static const uint64_t sd[BAND_COUNT] = {
	    [BAND_REGULAR] = 250000,
	    [BAND_HUMAN] = 600000,
	};

	fx_source(f, &(struct fx_source){
			 .addr = addr,
			 .flows = flows,
			 .bursts = band == BAND_SPARSE ? 1 : 10,
			 .ivl_mean_us = 1000000,
			 .ivl_var_us2 = sd[band] * sd[band],
			 .first_s = first_s,
			 .last_s = last_s,
		     });
}

static inline void fx_emit(void *ctx, const struct indicator *ind)
{
	struct fx *f = ctx;
	struct fx_ind *g;
	size_t i;

	if (f->n_got == FX_MAX_IND)
		fail_msg("more than %d indicators", FX_MAX_IND);
	g = &f->got[f->n_got++];
	g->kind = ind->kind;
	g->score = ind->score;
	g->relay = ind->relay;
	g->fresh = ind->fresh;
	g->cluster_id = ind->cluster_id;
	g->band = ind->band;
	g->n_sources = ind->n_sources;
	for (i = 0; i < ind->n_sources && i < FX_MAX_SRC; i++)
		g->src[i] = ind->sources[i];
	g->had_evidence = ind->evidence != NULL;
	snprintf(g->evidence, sizeof(g->evidence), "%s",
		 ind_evidence(ind)
		     ? json_object_to_json_string_ext(ind_evidence(ind),
						      JSON_C_TO_STRING_PLAIN)
		     : "{}");
	if (f->also.emit)
		f->also.emit(f->also.ctx, ind);
}

/* A round at now_s over what was written so far (every flow reported its
 * end), then an evaluation; the sink collects what fires. Every flow is
 * read because an event named it: the reconciliation walk finds none that
 * events missed. */
static inline void fx_eval(struct fx *f, double now_s)
{
	struct ind_sink sink = {fx_emit, f};
	uint64_t now = (uint64_t)(now_s * HS_NS_PER_SEC);
	struct corr_stats cs;

	if (!f->c) {
		f->c = corr_new(&f->cfg, &f->env, FX_MAX_FLOWS,
				f->max_sources ? f->max_sources : 1024);
		assert_non_null(f->c);
	}
	for (size_t i = 0; i < f->n_events; i++)
		corr_on_event(f->c, &f->events[i], sizeof(f->events[i]));
	f->n_events = 0;
	assert_int_equal(
	    corr_sweep(f->c, f->flows_fd, f->sources_fd, now, false), 0);
	corr_get_stats(f->c, &cs);
	assert_int_equal(cs.flows_reconciled, 0);
	f->n_got = 0;
	corr_eval(f->c, now, &sink);
}

/* The indicator of this kind on addr (NULL: on any subject), or NULL. */
static inline const struct fx_ind *fx_find(const struct fx *f,
					   enum ind_kind kind, const char *addr)
{
	struct hs_addr a = addr ? fx_addr(addr) : (struct hs_addr){{0}};

	for (size_t i = 0; i < f->n_got; i++) {
		const struct fx_ind *g = &f->got[i];

		if (g->kind != kind)
			continue;
		if (!addr)
			return g;
		for (size_t j = 0; j < g->n_sources && j < FX_MAX_SRC; j++)
			if (!memcmp(&g->src[j], &a, sizeof(a)))
				return g;
	}
	return NULL;
}

/* The first cluster indicator of this kind, or NULL. */
static inline const struct fx_ind *fx_find_cluster(const struct fx *f,
						   enum ind_kind kind)
{
	for (size_t i = 0; i < f->n_got; i++)
		if (f->got[i].kind == kind && f->got[i].cluster_id)
			return &f->got[i];
	return NULL;
}

static inline size_t fx_count(const struct fx *f, enum ind_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n_got; i++)
		n += f->got[i].kind == kind;
	return n;
}

/* A number of the indicator's evidence (as the record prints it). */
static inline double fx_ev(const struct fx_ind *g, const char *key)
{
	json_object *o = json_tokener_parse(g->evidence), *v;
	double d;

	assert_non_null(o);
	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no %s in evidence %s", key, g->evidence);
	d = json_object_get_double(v);
	json_object_put(o);
	return d;
}

/* A string of the indicator's evidence, compared. */
static inline void fx_ev_str(const struct fx_ind *g, const char *key,
			     const char *want)
{
	json_object *o = json_tokener_parse(g->evidence), *v;

	assert_non_null(o);
	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no %s in evidence %s", key, g->evidence);
	assert_string_equal(json_object_get_string(v), want);
	json_object_put(o);
}

/* Report what fired when a row fails: the row names the case, this the
 * state the correlator reached. */
static inline void fx_dump(const struct fx *f)
{
	for (size_t i = 0; i < f->n_got; i++)
		print_message("  fired %s score %.4f sources %zu %s\n",
			      ind_kind_name(f->got[i].kind), f->got[i].score,
			      f->got[i].n_sources, f->got[i].evidence);
}

#endif
