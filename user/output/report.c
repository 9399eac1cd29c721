// SPDX-License-Identifier: BSD-2-Clause
/*
 * Reports. JSON output is one object per line with stable field names
 * (documented in the README); text output is for people.
 */
#include "output/report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "datapath/mapiter.h"
#include "datapath/maps.h"
#include "fingerprint/tcpsig.h"
#include "ingest/collector.h"
#include "lib/addr.h"
#include "lib/table.h"
#include "fingerprint/client_family.h"
#include "hydrascope/tuple.h"
#include "output/community_id.h"
#include "output/json_field.h"

struct flow_rec {
	struct hs_flow_key k;
	struct hs_flow v;
};

struct source_rec {
	struct hs_addr k;
	struct hs_source v;
};

static int cmp_flow(const void *a, const void *b)
{
	const struct flow_rec *x = a, *y = b;

	return map_time_order(x->v.first_ns, &x->k, y->v.first_ns, &y->k,
			      sizeof(x->k));
}

static int cmp_source(const void *a, const void *b)
{
	const struct source_rec *x = a, *y = b;

	return map_time_order(x->v.first_ns, &x->k, y->v.first_ns, &y->k,
			      sizeof(x->k));
}

/* The snapshot's envelope: every flow, source or stats record of one
 * report carries the time the maps were read. */
static void add_envelope(const struct report_ctx *r, json_object *o)
{
	envelope_add(o, &r->env, envelope_wall(&r->env, r->now_ns));
}

/* first_ns/last_ns in wall clock (the maps hold datapath time: monotonic
 * live, packet time in replay), and their RFC 3339 forms. */
static void add_span(const struct report_ctx *r, json_object *o,
		     uint64_t first_ns, uint64_t last_ns)
{
	uint64_t first = envelope_wall(&r->env, first_ns),
		 last = envelope_wall(&r->env, last_ns);

	json_set_u64(o, "first_ns", first);
	json_set_u64(o, "last_ns", last);
	envelope_time(o, "first_seen", first);
	envelope_time(o, "last_seen", last);
}

/* Coefficient of variation of a cadence's intervals (-1 if < 2 samples). */
static double cadence_cv(const struct hs_cadence *c)
{
	if (c->bursts < 3 || !c->ivl_mean_us)
		return -1;
	return sqrt((double)c->ivl_var_us2) / (double)c->ivl_mean_us;
}

static void add_cadence(json_object *o, const struct hs_cadence *c)
{
	double cv = cadence_cv(c);

	json_set_u64(o, "bursts", c->bursts);
	json_set_u64(o, "burst_interval_mean_us", c->ivl_mean_us);
	json_set_u64(o, "burst_interval_var_us2", c->ivl_var_us2);
	json_object_object_add(o, "burst_interval_cv",
			       cv < 0 ? NULL : json_object_new_double(cv));
	json_set_u64(o, "burst_size_mean", c->size_mean);
	json_set_u64(o, "burst_size_var", c->size_var);
}

/* What the records show of a signature: no pointer into p0f_db_match()'s
 * buffers, which the next match overwrites, so that it can be kept. */
struct sig_view {
	bool ok;
	struct hs_tcp_sig sig;
	char raw[256];
	const char *label; /* the p0f match, NULL if none */
	bool fuzzy;
	enum os_class os;
};

/* A signature as the records show it; seen is a cache by id (may be NULL):
 * a few dozen signatures serve tens of thousands of flows, each looked up
 * (a system call), formatted and matched against the p0f database once. */
static void sig_lookup(const struct report_ctx *r, struct table *seen, __u64 id,
		       struct sig_view *v)
{
	const struct sig_view *c = seen && id ? table_get(seen, &id) : NULL;
	struct sig_view *add;
	struct p0f_match m;

	if (c) {
		*v = *c;
		return;
	}
	memset(v, 0, sizeof(*v));
	if (!id || bpf_map_lookup_elem(r->maps->sigs, &id, &v->sig))
		return;
	v->ok = true;
	tcpsig_format(&v->sig, v->raw, sizeof(v->raw));
	p0f_db_match(r->p0f, &v->sig, &m);
	v->label = m.label;
	v->fuzzy = m.fuzzy;
	v->os = tcpsig_os_class(&v->sig, &m);
	add = seen ? table_get_or_add(seen, &id, NULL) : NULL;
	if (add)
		*add = *v;
}

static void flags_str(__u32 f, char *out, size_t cap)
{
	static const char *const names[] = {
	    "syn",
	    "synack",
	    "synack_rtx",
	    "ack",
	    "tls",
	    "nontls",
	    "hello_done",
	    "tuple",
	    "hello_gap",
	    "srv_flight",
	    "srv_rtx",
	    "cli_flight",
	    "fin",
	    "hello_bad",
	    "cut",
	    "cut_spared",
	    "unfingerprintable",
	    "hello_conflict",
	    "hello_retry",
	    NULL, /* internal: the second hello's search or capture is over */
	};
	size_t o = 0;

	out[0] = 0;
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (f & (1u << i) && names[i] && o < cap)
			o += (size_t)snprintf(out + o, cap - o, "%s%s",
					      o ? "," : "", names[i]);
}

/* Round-trip measures of a flow in microseconds (-1: not measured). */
struct flow_rtt {
	long tcp, tls, ack_hello;
};

static struct flow_rtt flow_rtts(const struct hs_flow *f)
{
	struct flow_rtt t = {-1, -1, -1};

	if (f->flags & HS_F_ACK && f->synack_us &&
	    !(f->flags & HS_F_SYNACK_RTX) && f->ack_us >= f->synack_us)
		t.tcp = (long)(f->ack_us - f->synack_us);
	if (f->flags & HS_F_CLI_FLIGHT && !(f->flags & HS_F_SRV_RTX) &&
	    f->cli_flight_us >= f->srv_flight_us)
		t.tls = (long)(f->cli_flight_us - f->srv_flight_us);
	if (f->flags & HS_F_ACK && f->hello_us && f->hello_us >= f->ack_us)
		t.ack_hello = (long)(f->hello_us - f->ack_us);
	return t;
}

static void add_opt_us(json_object *o, const char *k, long v)
{
	json_object_object_add(o, k, v < 0 ? NULL : json_object_new_int64(v));
}

/* A string the collector may have dropped at its byte budget: null then
 * ("fields not measured are null"). */
static void set_str_or_null(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

/* A raw fingerprint form, rebuilt from the retained hello fields. */
static void set_raw(const struct report_ctx *r, json_object *o, const char *k,
		    const struct fp_view *fp, enum fp_raw_kind kind)
{
	char *s = collector_raw(r->coll, fp, kind);

	set_str_or_null(o, k, s);
	free(s);
}

/* A hello's fingerprints (the flow's first, or its second's object). */
static void hello_json(const struct report_ctx *r, json_object *o,
		       const struct fp_view *fp)
{
	json_set_str(o, "ja3", fp->ja3);
	set_raw(r, o, "ja3_str", fp, FP_JA3_STR);
	json_set_str(o, "ja4", fp->ja4);
	set_raw(r, o, "ja4_r", fp, FP_JA4_R);
	json_set_str(o, "ja4_o", fp->ja4_o);
	set_raw(r, o, "ja4_ro", fp, FP_JA4_RO);
	json_set_str(o, "tls_version", fp->tls_version);
}

/* The second hello (HelloRetryRequest), when the flow had one. */
static void retry_json(const struct report_ctx *r, const struct flow_rec *fr,
		       json_object *o)
{
	struct fp_view fp;
	json_object *h;

	if (!r->coll || !collector_view_retry(r->coll, &fr->k, &fp))
		return;
	h = json_object_new_object();
	if (fp.err == HELLO_OK) {
		hello_json(r, h, &fp);
		set_str_or_null(h, "sni", fp.sni);
		set_str_or_null(h, "alpn", fp.alpn);
	} else {
		json_set_str(h, "hello_error", hello_strerror(fp.err));
	}
	json_set_u64(h, "hello_segments", fp.segments);
	json_object_object_add(o, "retry_hello", h);
}

static void flow_json(const struct report_ctx *r, const struct flow_rec *fr,
		      struct table *sigs)
{
	const struct hs_flow *f = &fr->v;
	struct fp_view view;
	const struct fp_view *fp =
	    r->coll && collector_view(r->coll, &fr->k, &view) ? &view : NULL;
	json_object *o = json_object_new_object();
	struct flow_rtt t = flow_rtts(f);
	char a[ADDR_STRLEN], b[ADDR_STRLEN], fl[256], tid[24];
	char cid[COMMUNITY_ID_LEN];
	struct sig_view sv;

	sig_lookup(r, sigs, f->sig_id, &sv);
	flags_str(f->flags, fl, sizeof(fl));
	json_set_str(o, "type", "flow");
	add_envelope(r, o);
	json_set_str(o, "client", addr_str(&fr->k.client, a, sizeof(a)));
	json_set_u64(o, "cport", fr->k.cport);
	json_set_str(o, "server", addr_str(&fr->k.server, b, sizeof(b)));
	json_set_u64(o, "sport", fr->k.sport);
	/* the datapath follows TCP only */
	if (!community_id_v1(&fr->k.client, fr->k.cport, &fr->k.server,
			     fr->k.sport, 6, 0, cid, sizeof(cid)))
		json_set_str(o, "community_id", cid);
	add_span(r, o, f->first_ns, f->last_ns);
	json_set_u64(o, "pkts_in", f->pkts_in);
	json_set_u64(o, "pkts_out", f->pkts_out);
	json_set_u64(o, "bytes_in", f->bytes_in);
	json_set_u64(o, "bytes_out", f->bytes_out);
	json_set_str(o, "flags", fl);
	json_object_object_add(
	    o, "tls", json_object_new_boolean(!!(f->flags & HS_F_TLS)));
	if (sv.ok) {
		json_set_str(o, "tcp_sig", sv.raw);
		json_set_u64(o, "hops", tcpsig_distance(&sv.sig));
		json_object_object_add(
		    o, "os",
		    sv.label ? json_object_new_string(sv.label) : NULL);
		json_object_object_add(o, "os_fuzzy",
				       json_object_new_boolean(sv.fuzzy));
	}
	if (f->flags & HS_F_TUPLE) {
		snprintf(tid, sizeof(tid), "%016" PRIx64,
			 (uint64_t)f->tuple_id);
		json_set_str(o, "tuple_id", tid);
		snprintf(tid, sizeof(tid), "%016" PRIx64, (uint64_t)f->tls_id);
		json_set_str(o, "tls_id", tid);
	}
	if (f->flags & HS_F_UNFP)
		json_set_u64(o, "unfp_reason", f->unfp_reason);
	if (f->flags & HS_F_HELLO_CONFLICT || (fp && fp->conflict))
		json_object_object_add(o, "hello_conflict",
				       json_object_new_boolean(true));
	if (fp && fp->err == HELLO_OK) {
		hello_json(r, o, fp);
		json_set_str(
		    o, "client_family",
		    client_family_name((enum client_family)fp->family));
		if (sv.ok) {
			json_set_str(o, "os_class", os_class_name(sv.os));
			json_object_object_add(
			    o, "stack_implausibility",
			    json_object_new_double(stack_implausibility(
				(enum client_family)fp->family, sv.os)));
		}
		set_str_or_null(o, "sni", fp->sni);
		set_str_or_null(o, "alpn", fp->alpn);
		json_set_u64(o, "hello_segments", fp->segments);
		if (fp->tuple_valid) {
			__u64 cls = sv.ok ? hs_tcp_class_id(&sv.sig) : 0;

			snprintf(tid, sizeof(tid), "%016" PRIx64,
				 (uint64_t)hs_tuple_id(&fp->acc, cls));
			json_set_str(o, "tuple_id_user", tid);
			snprintf(tid, sizeof(tid), "%016" PRIx64,
				 (uint64_t)hs_tls_id(&fp->acc));
			json_set_str(o, "tls_id_user", tid);
		}
	} else if (fp) {
		json_set_str(o, "hello_error", hello_strerror(fp->err));
	}
	retry_json(r, fr, o);
	add_opt_us(o, "tcp_rtt_us", t.tcp);
	add_opt_us(o, "tls_rtt_us", t.tls);
	add_opt_us(o, "ack_to_hello_us", t.ack_hello);
	json_set_u64(o, "rtt_discards", f->rtt_discards);
	add_cadence(o, &f->cad);
	fprintf(
	    r->out, "%s\n",
	    json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void fmt_us(char *buf, size_t cap, long us)
{
	if (us < 0)
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%.3fms", (double)us / 1000.0);
}

static void flow_text(const struct report_ctx *r, const struct flow_rec *fr,
		      struct table *sigs)
{
	const struct hs_flow *f = &fr->v;
	struct fp_view view;
	const struct fp_view *fp =
	    r->coll && collector_view(r->coll, &fr->k, &view) ? &view : NULL;
	struct flow_rtt t = flow_rtts(f);
	char a[ADDR_STRLEN], b[ADDR_STRLEN], tcp[16], tls[16], ah[16];
	char first[48], last[48], cid[COMMUNITY_ID_LEN];
	struct sig_view sv;

	sig_lookup(r, sigs, f->sig_id, &sv);
	time_local(envelope_wall(&r->env, f->first_ns), first, sizeof(first));
	time_local(envelope_wall(&r->env, f->last_ns), last, sizeof(last));
	if (community_id_v1(&fr->k.client, fr->k.cport, &fr->k.server,
			    fr->k.sport, 6, 0, cid, sizeof(cid)))
		snprintf(cid, sizeof(cid), "-");
	fmt_us(tcp, sizeof(tcp), t.tcp);
	fmt_us(tls, sizeof(tls), t.tls);
	fmt_us(ah, sizeof(ah), t.ack_hello);
	fprintf(r->out, "%s:%u -> %s:%u  in %u/%llu B  out %u/%llu B  %s\n",
		addr_str(&fr->k.client, a, sizeof(a)), fr->k.cport,
		addr_str(&fr->k.server, b, sizeof(b)), fr->k.sport, f->pkts_in,
		(unsigned long long)f->bytes_in, f->pkts_out,
		(unsigned long long)f->bytes_out,
		f->flags & HS_F_TLS
		    ? "TLS"
		    : (f->flags & HS_F_NONTLS ? "non-TLS" : ""));
	fprintf(r->out, "    seen %s .. %s  community_id=%s\n", first, last,
		cid);
	if (sv.ok)
		fprintf(r->out, "    tcp  %s  os=%s%s hops=%u\n", sv.raw,
			sv.label ? sv.label : "?", sv.fuzzy ? " (fuzzy)" : "",
			tcpsig_distance(&sv.sig));
	if (f->flags & HS_F_HELLO_CONFLICT || (fp && fp->conflict))
		fprintf(r->out, "    tls  hello conflict: two versions of "
				"the hello were sent\n");
	if (fp && fp->err == HELLO_OK)
		fprintf(r->out,
			"    tls  ja4=%s ja3=%s sni=%s alpn=%s family=%s\n",
			fp->ja4, fp->ja3, fp->sni && fp->sni[0] ? fp->sni : "-",
			fp->alpn && fp->alpn[0] ? fp->alpn : "-",
			client_family_name((enum client_family)fp->family));
	else if (fp)
		fprintf(r->out, "    tls  hello not parsed: %s\n",
			hello_strerror(fp->err));
	if (r->coll && collector_view_retry(r->coll, &fr->k, &view))
		fprintf(r->out, "    tls  second hello (retry): %s%s\n",
			view.err == HELLO_OK ? "ja4=" : "not parsed: ",
			view.err == HELLO_OK ? view.ja4
					     : hello_strerror(view.err));
	if (f->flags & HS_F_TLS)
		fprintf(r->out,
			"    rtt  tcp=%s tls=%s ack->hello=%s  tuple=%016llx\n",
			tcp, tls, ah, (unsigned long long)f->tuple_id);
	if (f->cad.bursts > 1)
		fprintf(r->out, "    bursts=%u interval mean=%.1fms\n",
			f->cad.bursts, (double)f->cad.ivl_mean_us / 1000.0);
}

static void source_out(const struct report_ctx *r, const void *rec,
		       struct table *sigs)
{
	const struct source_rec *sr = rec;
	const struct hs_source *s = &sr->v;
	char a[ADDR_STRLEN], tid[24];
	double cv = cadence_cv(&s->cad);
	struct sig_view sv;

	sig_lookup(r, sigs, s->last_sig_id, &sv);
	addr_str(&sr->k, a, sizeof(a));
	if (r->fmt == FMT_TEXT) {
		char tcp[16], tls[16], ah[16], cvs[16];

		fmt_us(tcp, sizeof(tcp),
		       s->min_tcp_rtt_us ? (long)s->min_tcp_rtt_us : -1);
		fmt_us(tls, sizeof(tls),
		       s->min_tls_rtt_us ? (long)s->min_tls_rtt_us : -1);
		fmt_us(ah, sizeof(ah),
		       s->min_ack_hello_us ? (long)s->min_ack_hello_us : -1);
		if (cv < 0)
			snprintf(cvs, sizeof(cvs), "-");
		else
			snprintf(cvs, sizeof(cvs), "%.2f", cv);
		fprintf(r->out,
			"%-39s flows=%u tls=%u non-tls=%u in=%llu B out=%llu B "
			" min rtt tcp=%s tls=%s ack->hello=%s  bursts=%u cv=%s "
			" os=%s\n",
			a, s->flows, s->tls_flows, s->nontls_flows,
			(unsigned long long)s->bytes_in,
			(unsigned long long)s->bytes_out, tcp, tls, ah,
			s->cad.bursts, cvs, sv.label ? sv.label : "?");
		return;
	}
	json_object *o = json_object_new_object();

	json_set_str(o, "type", "source");
	add_envelope(r, o);
	json_set_str(o, "addr", a);
	add_span(r, o, s->first_ns, s->last_ns);
	json_set_u64(o, "flows", s->flows);
	json_set_u64(o, "tls_flows", s->tls_flows);
	json_set_u64(o, "nontls_flows", s->nontls_flows);
	json_set_u64(o, "pkts_in", s->pkts_in);
	json_set_u64(o, "bytes_in", s->bytes_in);
	json_set_u64(o, "pkts_out", s->pkts_out);
	json_set_u64(o, "bytes_out", s->bytes_out);
	json_set_u64(o, "rtt_samples", s->rtt_samples);
	add_opt_us(o, "min_tcp_rtt_us",
		   s->min_tcp_rtt_us ? (long)s->min_tcp_rtt_us : -1);
	add_opt_us(o, "min_tls_rtt_us",
		   s->min_tls_rtt_us ? (long)s->min_tls_rtt_us : -1);
	add_opt_us(o, "min_ack_to_hello_us",
		   s->min_ack_hello_us ? (long)s->min_ack_hello_us : -1);
	json_set_u64(o, "rtt_discards", s->rtt_discards);
	if (sv.ok)
		json_set_str(o, "tcp_sig", sv.raw);
	if (s->last_tuple_id) {
		snprintf(tid, sizeof(tid), "%016llx",
			 (unsigned long long)s->last_tuple_id);
		json_set_str(o, "tuple_id", tid);
	}
	add_cadence(o, &s->cad);
	fprintf(
	    r->out, "%s\n",
	    json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* Dump a map, sort it, and print every record; the records are key then
 * value, as dump_map() stores them. */
static int report_map(const struct report_ctx *r, int fd, size_t ksz,
		      size_t vsz, const char *label,
		      int (*cmp)(const void *, const void *),
		      void (*each)(const struct report_ctx *, const void *,
				   struct table *))
{
	size_t n, i;
	unsigned char *recs = dump_map(fd, ksz, vsz, &n);
	/* the signatures met so far (no cache when out of memory) */
	struct table *sigs = table_new(HS_DEFAULT_SIGS, sizeof(__u64),
				       sizeof(struct sig_view), NULL);

	if (!recs) {
		table_free(sigs);
		return -1;
	}
	qsort(recs, n, ksz + vsz, cmp);
	if (r->fmt == FMT_TEXT)
		fprintf(r->out, "%s: %zu\n", label, n);
	for (i = 0; i < n; i++)
		each(r, recs + i * (ksz + vsz), sigs);
	free(recs);
	table_free(sigs);
	return 0;
}

static void flow_out(const struct report_ctx *r, const void *rec,
		     struct table *sigs)
{
	if (r->fmt == FMT_JSON)
		flow_json(r, rec, sigs);
	else
		flow_text(r, rec, sigs);
}

int report_flows(const struct report_ctx *r)
{
	return report_map(r, r->maps->flows, sizeof(struct hs_flow_key),
			  sizeof(struct hs_flow), "flows", cmp_flow, flow_out);
}

int report_sources(const struct report_ctx *r)
{
	return report_map(r, r->maps->sources, sizeof(struct hs_addr),
			  sizeof(struct hs_source), "sources", cmp_source,
			  source_out);
}

int report_all(const struct report_ctx *r, bool flows, bool sources)
{
	struct hs_stats st;

	if (flows && report_flows(r))
		return -1;
	if (sources && report_sources(r))
		return -1;
	if (stats_read(r->maps->stats, &st))
		return -1;
	report_stats(r, &st);
	return 0;
}

void report_stats(const struct report_ctx *r, const struct hs_stats *st)
{
#define HS_STAT_NAME(n) #n,
	static const char *const names[] = {HS_STATS_FIELDS(HS_STAT_NAME)};
#undef HS_STAT_NAME
	const __u64 *v = (const __u64 *)st;
	size_t i, n = sizeof(names) / sizeof(names[0]);

	if (r->fmt == FMT_TEXT) {
		fprintf(r->out, "datapath counters:\n");
		for (i = 0; i < n; i++)
			if (v[i])
				fprintf(r->out, "  %-20s %llu\n", names[i],
					(unsigned long long)v[i]);
		return;
	}
	json_object *o = json_object_new_object();

	json_set_str(o, "type", "stats");
	add_envelope(r, o);
	for (i = 0; i < n; i++)
		json_set_u64(o, names[i], v[i]);
	if (r->coll) {
		struct collector_stats cs;

		collector_get_stats(r->coll, &cs);
		json_set_u64(o, "hello_events", cs.events);
		json_set_u64(o, "hellos_parsed", cs.hellos);
		json_set_u64(o, "retry_hellos_parsed", cs.retry_hellos);
		json_set_u64(o, "retry_hello_late_events", cs.retry_late);
		json_set_u64(o, "hello_late_segments", cs.late_segments);
		for (i = 1; i < HELLO_ERR_MAX; i++) {
			char k[64];

			snprintf(k, sizeof(k), "hello_error_%s",
				 hello_strerror((enum hello_err)i));
			json_set_u64(o, k, cs.hello_errors[i]);
		}
		json_set_u64(o, "reasm_evictions", cs.reasm_evictions);
		json_set_u64(o, "kept_evictions", cs.kept_evictions);
		json_set_u64(o, "hello_conflicts", cs.hello_conflicts);
		json_set_u64(o, "hello_resends_unchecked",
			     cs.hello_resends_unchecked);
		json_set_u64(o, "fp_evictions", cs.fp_evictions);
		json_set_u64(o, "fp_records", cs.fp_records);
		json_set_u64(o, "fp_strings", cs.fp_strings);
		json_set_u64(o, "fp_string_bytes", cs.fp_string_bytes);
		json_set_u64(o, "fp_strings_dropped", cs.fp_strings_dropped);
	}
	fprintf(
	    r->out, "%s\n",
	    json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}
