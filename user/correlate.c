// SPDX-License-Identifier: BSD-2-Clause
/*
 * Indicators over a snapshot of the source map.
 *
 * relay_rtt_gap    a source whose TLS round trip exceeds its TCP round trip
 *                  AND whose ClientHello trails its handshake ACK: TCP ends
 *                  at a relay, so both grow by the detour. Both are needed:
 *                  headless Chromium adds ~40 ms to the TLS round trip on a
 *                  busy host by itself, but sends its hello within ~2 ms of
 *                  the ACK (design measurements); curl and openssl add ~1 ms
 *                  to both (demo capture: ACK->hello 0.3-3 ms, TLS-TCP gap
 *                  0.3-1.9 ms on veth). Default: both >= 10 ms, minima over
 *                  >= 2 TLS flows (retransmitted samples are discarded by
 *                  the kernel).
 * robotic_cadence  inter-request interval CV <= 0.15 over >= 5 requests.
 *                  Scripts with a fixed period sit near 0 (the health
 *                  checker of the scenario: 0.00); human think times give
 *                  CV 0.5-1.1 (scenario browsers).
 * hop_anomaly      the source's SYN carries an MSS below 1400 (a tunnel or
 *                  VPN MTU: Ethernet gives 1460, PPPoE 1452, WireGuard
 *                  1380, IPsec and OpenVPN 1300-1400) or comes from more
 *                  than 30 hops. Informational: VPN users and mobile
 *                  carriers trigger it too, so it never blocks by itself.
 * farm_cluster     one tuple id shared by >= 5 sources from >= 5 distinct
 *                  /24 (/48) prefixes, each low-volume (<= 20 flows), all
 *                  in the robotic cadence band (CV <= robotic_max_cv over
 *                  >= 3 requests). Browsers share popular tuples too but
 *                  sit in the human band, so they never join.
 */
#include "correlate.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <bpf/bpf.h>

#include "addr.h"
#include "tcpsig.h"

void corr_config_defaults(struct corr_config *c)
{
	*c = (struct corr_config){
	    .relay_min_gap_us = 10000,
	    .relay_min_ack_hello_us = 10000,
	    .relay_min_flows = 2,
	    .robotic_max_cv = 0.15,
	    .robotic_min_bursts = 5,
	    .band_min_bursts = 3,
	    .cluster_min_sources = 5,
	    .cluster_min_prefixes = 5,
	    .cluster_max_source_flows = 20,
	    .hop_max_mss = 1400,
	    .hop_max_hops = 30,
	    .decide_relay_min_score = 0.8,
	    .decide_cluster_min_score = 0.6,
	    .ttl_relay_s = 900,
	    .ttl_cluster_s = 3600,
	    .block_v4_prefix = 32,
	    .block_v6_prefix = 64,
	    .max_blocks = 10000,
	    .max_listed_sources = 100,
	};
}

struct key_def {
	const char *name;
	size_t off;
	double min, max;
	bool is_double;
};

#define U(field, lo, hi)                                                       \
	{                                                                      \
#field, offsetof(struct corr_config, field), lo, hi, false     \
	}
static const struct key_def keys[] = {
    U(relay_min_gap_us, 0, 10e6),
    U(relay_min_ack_hello_us, 0, 10e6),
    U(relay_min_flows, 1, 1e6),
    {"robotic_max_cv", offsetof(struct corr_config, robotic_max_cv), 0, 10,
     true},
    U(robotic_min_bursts, 3, 1e6),
    U(band_min_bursts, 3, 1e6),
    U(cluster_min_sources, 2, 1e7),
    U(cluster_min_prefixes, 1, 1e7),
    U(cluster_max_source_flows, 1, 1e9),
    U(hop_max_mss, 0, 65535),
    U(hop_max_hops, 1, 255),
    {"decide_relay_min_score",
     offsetof(struct corr_config, decide_relay_min_score), 0, 1, true},
    {"decide_cluster_min_score",
     offsetof(struct corr_config, decide_cluster_min_score), 0, 1, true},
    U(ttl_relay_s, 1, 31536000),
    U(ttl_cluster_s, 1, 31536000),
    U(block_v4_prefix, 8, 32),
    U(block_v6_prefix, 16, 128),
    U(max_blocks, 0, 1e8),
    U(max_listed_sources, 1, 1e5),
};
#undef U

int corr_config_load(const char *path, struct corr_config *c, char *err,
		     size_t errlen)
{
	char line[512];
	unsigned n = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *k = line, *v, *end, *e;
		const struct key_def *d = NULL;
		double val;
		size_t i;

		n++;
		k += strspn(k, " \t");
		if (*k == '#' || *k == '\n' || !*k)
			continue;
		v = strchr(k, '=');
		if (!v) {
			snprintf(err, errlen, "%s:%u: expected key = value",
				 path, n);
			goto bad;
		}
		*v++ = 0;
		for (e = v - 2; e >= k && (*e == ' ' || *e == '\t'); e--)
			*e = 0;
		v += strspn(v, " \t");
		v[strcspn(v, " \t\r\n#")] = 0;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(keys[i].name, k))
				d = &keys[i];
		if (!d) {
			snprintf(err, errlen, "%s:%u: unknown key '%s'", path,
				 n, k);
			goto bad;
		}
		errno = 0;
		val = strtod(v, &end);
		if (errno || end == v || *end || val < d->min || val > d->max ||
		    (!d->is_double && val != floor(val))) {
			snprintf(err, errlen,
				 "%s:%u: %s wants %s from %g to %g, got '%s'",
				 path, n, k,
				 d->is_double ? "a number" : "an integer",
				 d->min, d->max, v);
			goto bad;
		}
		if (d->is_double)
			*(double *)((char *)c + d->off) = val;
		else
			*(unsigned *)((char *)c + d->off) = (unsigned)val;
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	return -1;
}

struct src_rec {
	struct hs_addr k;
	struct hs_source v;
};

static double cv_of(const struct hs_cadence *c)
{
	/* bursts counts requests; intervals = bursts - 1 */
	if (c->bursts < 3 || !c->ivl_mean_us)
		return -1;
	return sqrt((double)c->ivl_var_us2) / (double)c->ivl_mean_us;
}

static double clamp01(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* Prefix that counts as one network: /24 for IPv4, /48 for IPv6. */
static void net_of(const struct hs_addr *a, unsigned char out[16])
{
	memcpy(out, a->b, 16);
	memset(out + (addr_is_v4(a) ? 15 : 6), 0, addr_is_v4(a) ? 1 : 10);
}

static json_object *indicator(const char *kind, double score, uint64_t first,
			      uint64_t last)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string("indicator"));
	json_object_object_add(o, "kind", json_object_new_string(kind));
	json_object_object_add(
	    o, "score", json_object_new_double(round(score * 1000) / 1000));
	json_object_object_add(o, "first_ns", json_object_new_uint64(first));
	json_object_object_add(o, "last_ns", json_object_new_uint64(last));
	return o;
}

/* Print an indicator and keep it in found (for decisions). */
static void emit(const struct report_ctx *r, json_object *found, json_object *o)
{
	if (found)
		json_object_array_add(found, json_object_get(o));
	if (r->fmt == FMT_JSON) {
		fprintf(r->out, "%s\n",
			json_object_to_json_string_ext(
			    o, JSON_C_TO_STRING_PLAIN |
				   JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		json_object *k, *s, *src;

		json_object_object_get_ex(o, "kind", &k);
		json_object_object_get_ex(o, "score", &s);
		fprintf(r->out, "  %-16s score=%.2f", json_object_get_string(k),
			json_object_get_double(s));
		if (json_object_object_get_ex(o, "sources", &src)) {
			size_t n = json_object_array_length(src);

			if (n == 1)
				fprintf(r->out, " %-15s",
					json_object_get_string(
					    json_object_array_get_idx(src, 0)));
			else
				fprintf(r->out, " sources=%zu", n);
		}
		json_object_object_get_ex(o, "evidence", &s);
		fprintf(r->out, " %s\n",
			json_object_to_json_string_ext(
			    s, JSON_C_TO_STRING_PLAIN |
				   JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	json_object_put(o);
}

static void add_sources(json_object *o, const char *const *addrs, size_t n,
			unsigned cap)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n && i < cap; i++)
		json_object_array_add(a, json_object_new_string(addrs[i]));
	json_object_object_add(o, "sources", a);
	json_object_object_add(o, "sources_total", json_object_new_uint64(n));
}

static int per_source(const struct report_ctx *r, const struct corr_config *c,
		      const struct src_rec *s, json_object *found)
{
	const struct hs_source *v = &s->v;
	char a[ADDR_STRLEN];
	const char *addrs[1] = {a};
	double cv = cv_of(&v->cad);
	struct hs_tcp_sig sig;
	int n = 0;

	addr_str(&s->k, a, sizeof(a));
	if (v->tls_flows >= c->relay_min_flows && v->min_tcp_rtt_us &&
	    v->min_tls_rtt_us > v->min_tcp_rtt_us &&
	    v->min_tls_rtt_us - v->min_tcp_rtt_us >= c->relay_min_gap_us &&
	    v->min_ack_hello_us >= c->relay_min_ack_hello_us) {
		unsigned gap = v->min_tls_rtt_us - v->min_tcp_rtt_us;
		double score =
		    clamp01(0.5 + 0.5 *
				      (double)(gap < v->min_ack_hello_us
						   ? gap
						   : v->min_ack_hello_us) /
				      (4.0 * c->relay_min_gap_us));
		json_object *o =
		    indicator("relay_rtt_gap", score, v->first_ns, v->last_ns);
		json_object *e = json_object_new_object();

		json_object_object_add(
		    e, "min_tcp_rtt_us",
		    json_object_new_uint64(v->min_tcp_rtt_us));
		json_object_object_add(
		    e, "min_tls_rtt_us",
		    json_object_new_uint64(v->min_tls_rtt_us));
		json_object_object_add(
		    e, "min_ack_to_hello_us",
		    json_object_new_uint64(v->min_ack_hello_us));
		json_object_object_add(e, "tls_flows",
				       json_object_new_uint64(v->tls_flows));
		json_object_object_add(o, "evidence", e);
		add_sources(o, addrs, 1, 1);
		emit(r, found, o);
		n++;
	}
	if (v->last_sig_id &&
	    !bpf_map_lookup_elem(r->maps->sigs, &v->last_sig_id, &sig) &&
	    ((sig.mss && sig.mss < c->hop_max_mss) ||
	     tcpsig_distance(&sig) > c->hop_max_hops)) {
		json_object *o =
		    indicator("hop_anomaly", 0.3, v->first_ns, v->last_ns);
		json_object *e = json_object_new_object();
		char raw[256];

		tcpsig_format(&sig, raw, sizeof(raw));
		json_object_object_add(e, "mss",
				       json_object_new_uint64(sig.mss));
		json_object_object_add(
		    e, "hops", json_object_new_uint64(tcpsig_distance(&sig)));
		json_object_object_add(e, "tcp_sig",
				       json_object_new_string(raw));
		json_object_object_add(o, "evidence", e);
		add_sources(o, addrs, 1, 1);
		emit(r, found, o);
		n++;
	}
	if (v->cad.bursts >= c->robotic_min_bursts && cv >= 0 &&
	    cv <= c->robotic_max_cv) {
		json_object *o =
		    indicator("robotic_cadence",
			      clamp01(1.0 - cv / c->robotic_max_cv * 0.5),
			      v->first_ns, v->last_ns);
		json_object *e = json_object_new_object();

		json_object_object_add(e, "requests",
				       json_object_new_uint64(v->cad.bursts));
		json_object_object_add(
		    e, "interval_mean_us",
		    json_object_new_uint64(v->cad.ivl_mean_us));
		json_object_object_add(
		    e, "interval_cv",
		    json_object_new_double(round(cv * 1e4) / 1e4));
		json_object_object_add(o, "evidence", e);
		add_sources(o, addrs, 1, 1);
		emit(r, found, o);
		n++;
	}
	return n;
}

static int cmp_tuple(const void *x, const void *y)
{
	const struct src_rec *a = x, *b = y;

	if (a->v.last_tuple_id != b->v.last_tuple_id)
		return a->v.last_tuple_id < b->v.last_tuple_id ? -1 : 1;
	return memcmp(&a->k, &b->k, sizeof(a->k));
}

static int cmp_net(const void *x, const void *y)
{
	return memcmp(x, y, 16);
}

/* Sources [lo, hi) share one tuple id: are they a farm? */
static int cluster(const struct report_ctx *r, const struct corr_config *c,
		   const struct src_rec *s, size_t lo, size_t hi,
		   json_object *found)
{
	size_t n = 0, nets = 0, i;
	unsigned char(*net)[16] = calloc(hi - lo, 16);
	char(*addr)[ADDR_STRLEN] = calloc(hi - lo, ADDR_STRLEN);
	const char **addrs = calloc(hi - lo, sizeof(*addrs));
	uint64_t first = UINT64_MAX, last = 0, flows = 0;
	int out = 0;

	if (!net || !addr || !addrs)
		goto done;
	for (i = lo; i < hi; i++) {
		const struct hs_source *v = &s[i].v;
		double cv = cv_of(&v->cad);

		if (v->cad.bursts < c->band_min_bursts || cv < 0 ||
		    cv > c->robotic_max_cv ||
		    v->flows > c->cluster_max_source_flows)
			continue; /* not in the robotic band, or not low-volume
				   */
		net_of(&s[i].k, net[n]);
		addr_str(&s[i].k, addr[n], ADDR_STRLEN);
		addrs[n] = addr[n];
		first = v->first_ns < first ? v->first_ns : first;
		last = v->last_ns > last ? v->last_ns : last;
		flows += v->flows;
		n++;
	}
	if (n < c->cluster_min_sources)
		goto done;
	qsort(net, n, 16, cmp_net);
	for (i = 0; i < n; i++)
		nets += i == 0 || memcmp(net[i], net[i - 1], 16);
	if (nets < c->cluster_min_prefixes)
		goto done;
	{
		json_object *o = indicator(
		    "farm_cluster",
		    clamp01((double)nets / (4.0 * c->cluster_min_prefixes) +
			    0.5),
		    first, last);
		json_object *e = json_object_new_object();
		char tid[24];

		snprintf(tid, sizeof(tid), "%016llx",
			 (unsigned long long)s[lo].v.last_tuple_id);
		json_object_object_add(o, "tuple_id",
				       json_object_new_string(tid));
		json_object_object_add(e, "sources", json_object_new_uint64(n));
		json_object_object_add(e, "prefixes",
				       json_object_new_uint64(nets));
		json_object_object_add(e, "flows",
				       json_object_new_uint64(flows));
		json_object_object_add(e, "cadence_band",
				       json_object_new_string("robotic"));
		json_object_object_add(o, "evidence", e);
		add_sources(o, addrs, n, c->max_listed_sources);
		emit(r, found, o);
		out = 1;
	}
done:
	free(net);
	free(addr);
	free(addrs);
	return out;
}

int correlate(const struct report_ctx *r, const struct corr_config *c,
	      json_object *found)
{
	size_t n, i, lo;
	struct src_rec *s = dump_map(r->maps->sources, sizeof(struct hs_addr),
				     sizeof(struct hs_source), &n);
	int count = 0;

	if (!s)
		return -1;
	if (r->fmt == FMT_TEXT)
		fprintf(r->out, "indicators:\n");
	qsort(s, n, sizeof(*s), cmp_tuple);
	for (i = 0; i < n; i++)
		count += per_source(r, c, &s[i], found);
	for (lo = 0; lo < n; lo = i) {
		for (i = lo + 1;
		     i < n && s[i].v.last_tuple_id == s[lo].v.last_tuple_id;
		     i++)
			;
		if (s[lo].v.last_tuple_id)
			count += cluster(r, c, s, lo, i, found);
	}
	free(s);
	return count;
}
