// SPDX-License-Identifier: BSD-2-Clause
/*
 * Folding: what a kernel flow and a kernel source add to the correlator's
 * state (the rounds that read them are watch.c's). Each kernel flow is
 * folded once per step (enum fold_bits), tracked by a shadow entry keyed
 * like the flow; a 5-tuple reused by a new connection (another first_ns)
 * starts over.
 *
 * Only flows whose TCP handshake completed (the client ACKed the SYN-ACK)
 * are folded: a forged source address never sees the SYN-ACK, so it can
 * never complete one, and nothing a spoofer sends can make a source, a
 * cluster member or a decision. The others are counted when they are over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "lib/addr.h"
#include "ingest/collector.h"
#include "hydrascope/tuple.h"
#include "correlate/state.h"
#include "fingerprint/tcpsig.h"
#include "lib/hstime.h"

/* How long a TLS flow waits for its fingerprint (the ring buffer event)
 * before it joins a cluster on its kernel tuple id alone. */
#define FP_WAIT_NS (2 * HS_NS_PER_SEC)
/* A flow with no FIN is over for request sizes after this much silence;
 * the datapath reports a flow that moves again after it (flow_report). */
#define FLOW_IDLE_NS HS_FLOW_IDLE_NS

/* Silent since t for FLOW_IDLE_NS at now. Live, a flow read after the
 * round took its time may have moved past it: not idle then, where an
 * unsigned now - t would wrap around. */
static bool idle_at(uint64_t now, uint64_t t)
{
	return now >= t + FLOW_IDLE_NS;
}

const struct sig_info *corr_sig(struct corr *c, uint64_t id)
{
	struct sig_info *si;
	struct p0f_match m;
	bool created;

	if (!id)
		return NULL;
	si = table_get_or_add(c->sigs, &id, &created);
	if (!si || !created)
		return si;
	if (bpf_map_lookup_elem(c->env.sigs_fd, &id, &si->sig)) {
		table_del(c->sigs, &id);
		return NULL;
	}
	p0f_db_match(c->env.p0f, &si->sig, &m);
	si->os = tcpsig_os_class(&si->sig, &m);
	tcpsig_format(&si->sig, si->raw, sizeof(si->raw));
	/* the copy sources refer to (strnlen: as a %s print of raw) */
	si->raw_id = strpool_intern(
	    c->strs, si->raw, strnlen(si->raw, sizeof(si->raw) - 1), NULL);
	return si;
}

/* Widen the source's first/last seen to [first_ns, last_ns]. */
static void src_widen(struct src_state *s, uint64_t first_ns, uint64_t last_ns)
{
	if (!s->first_ns || first_ns < s->first_ns)
		s->first_ns = first_ns;
	if (last_ns > s->last_ns)
		s->last_ns = last_ns;
}

/* The source's state (created), widened to [first_ns, last_ns]. */
static struct src_state *src_touch(struct corr *c, const struct hs_addr *a,
				   uint64_t first_ns, uint64_t last_ns)
{
	bool created;
	struct src_state *s = table_get_or_add(c->srcs, a, &created);

	if (!s)
		return NULL;
	if (created)
		s->serial = ++c->src_serial;
	src_widen(s, first_ns, last_ns);
	return s;
}

/* The cluster of a flow: the real client's TLS identity, not the exit's.
 * Behind a residential proxy the SYN is each exit device's own while the
 * hello crosses the tunnel unchanged, so one farm is one TLS client under
 * many SYN stacks; clustering on the full tuple split it into one small
 * cluster per exit OS. The identity is what the kernel's TLS id takes:
 * the cipher and extension sets (GREASE, server_name and padding out,
 * order-insensitive: tuple.h's accumulators) and the ALPN list. The SYN
 * class is kept per member and splits direct members again
 * (build_groups). Without the accumulators (a multi-record hello) the JA4
 * stands in, and without any fingerprint the kernel's tuple id. */
static uint64_t cluster_key(const struct hs_flow *f, const struct fp_view *fp)
{
	bool ok = fp && fp->err == HELLO_OK;
	uint64_t h;
	const char *p;

	if (ok && fp->tuple_valid) {
		h = hs_mix64(fp->acc.ciphers ^ 0x746c73ull);
		h = hs_mix64(h ^ fp->acc.exts);
		p = fp->alpn;
	} else if (ok) {
		h = hs_mix64(0x6a6134ull);
		p = fp->ja4;
	} else {
		h = hs_mix64((f->flags & HS_F_TUPLE ? f->tuple_id : 0) ^
			     0x636c7573746572ull);
		p = "";
	}
	for (; *p; p++)
		h = hs_mix64(h ^ (uint8_t)*p);
	return h ? h : 1;
}

/* Two bits of a 64-bit Bloom set per endpoint. */
static uint64_t endpoint_bits(const char *name)
{
	uint64_t h = 0x656e64ull;

	for (const char *p = name; *p; p++)
		h = hs_mix64(h ^ (uint8_t)*p);
	return (1ull << (h & 63)) | (1ull << ((h >> 6) & 63));
}

/* Endpoint of a flow for the pivot mix: its SNI, else server:port. */
static void endpoint_of(const struct hs_flow_key *k, const struct fp_view *fp,
			char *buf, size_t cap)
{
	char a[ADDR_STRLEN];

	/* an SNI dropped at the collector's budget: the server, as without */
	if (fp && fp->err == HELLO_OK && fp->sni && fp->sni[0])
		snprintf(buf, cap, "%s", fp->sni);
	else
		snprintf(buf, cap, "%s:%u", addr_str(&k->server, a, sizeof(a)),
			 k->sport);
}

static void endpoint_add(struct corr *c, struct cluster_state *cl, bool relayed,
			 uint64_t ts_ns, const char *name)
{
	uint64_t idx = ts_ns / (c->cfg.window_s * HS_NS_PER_SEC), h = 5381;
	struct endpoint_window *w =
	    relayed ? &cl->rwin[idx & 1] : &cl->win[idx & 1];
	int i, free_slot = -1;

	if (w->idx != idx) {
		if (w->idx > idx && w->flows)
			return; /* an old flow folded late: its window is gone
				 */
		memset(w, 0, sizeof(*w));
		w->idx = idx;
	}
	for (const char *p = name; *p; p++)
		h = h * 33 + (uint8_t)*p;
	w->flows++;
	for (i = 0; i < PIVOT_ENDPOINTS; i++) {
		if (w->ep[i].n && w->ep[i].h == h) {
			w->ep[i].n++;
			return;
		}
		if (!w->ep[i].n && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0) {
		w->other++;
		return;
	}
	w->ep[free_slot].h = h;
	w->ep[free_slot].n = 1;
	snprintf(w->ep[free_slot].name, sizeof(w->ep[free_slot].name), "%s",
		 name);
}

static struct member *member_get(struct corr *c, const struct hs_addr *a,
				 uint64_t cluster, bool add)
{
	struct member_key mk;

	memset(&mk, 0, sizeof(mk));
	mk.addr = *a;
	mk.cluster = cluster;
	return add ? table_get_or_add(c->members, &mk, NULL)
		   : table_get(c->members, &mk);
}

/* The flow joins its cluster (cluster_key); returns the cluster key, 0
 * when the flow has no fingerprint at all. */
static uint64_t join_cluster(struct corr *c, const struct hs_flow_key *k,
			     const struct hs_flow *f, const struct fp_view *fp,
			     const struct sig_info *si)
{
	bool ok = fp && fp->err == HELLO_OK, created;
	uint64_t tuple = f->flags & HS_F_TUPLE ? f->tuple_id : 0, key;
	struct cluster_state *cl;
	struct member *m;
	char ep[64];

	if (!tuple && !ok)
		return 0;
	key = cluster_key(f, fp);
	cl = table_get_or_add(c->clusters, &key, &created);
	if (!cl)
		return 0;
	if (created) {
		cl->tuple_id = tuple;
		cl->tls_id = tuple ? f->tls_id : 0;
		if (ok) {
			snprintf(cl->ja4, sizeof(cl->ja4), "%s", fp->ja4);
			cl->family = fp->family;
		}
	}
	if (f->last_ns > cl->last_ns)
		cl->last_ns = f->last_ns;
	endpoint_of(k, fp, ep, sizeof(ep));
	m = member_get(c, &k->client, key, true);
	if (m) {
		if (!m->first_ns || f->first_ns < m->first_ns)
			m->first_ns = f->first_ns;
		m->flows++;
		if (f->first_ns > m->last_start_ns)
			m->last_start_ns = f->first_ns;
		m->endpoints |= endpoint_bits(ep);
		if (tuple)
			m->tuple_id = tuple;
		if (si)
			m->syn_class = hs_tcp_class_id(&si->sig);
	}
	return key;
}

struct flow_rtt {
	bool ok;
	int64_t tcp, tls, ack_hello;
};

/* A clean timing: no retransmitted SYN-ACK or server flight (Karn). */
static struct flow_rtt flow_timing(const struct hs_flow *f)
{
	struct flow_rtt t = {0};
	const __u32 need = HS_F_ACK | HS_F_CLI_FLIGHT;

	if ((f->flags & need) != need ||
	    f->flags & (HS_F_SYNACK_RTX | HS_F_SRV_RTX) || !f->synack_us ||
	    !f->hello_us || f->ack_us < f->synack_us ||
	    f->hello_us < f->ack_us || f->cli_flight_us < f->srv_flight_us)
		return t;
	t.ok = true;
	t.tcp = (int64_t)f->ack_us - f->synack_us;
	t.tls = (int64_t)f->cli_flight_us - f->srv_flight_us;
	t.ack_hello = (int64_t)f->hello_us - f->ack_us;
	return t;
}

/* Can this flow still produce a timing sample? */
static bool timing_pending(const struct hs_flow *f, uint64_t now)
{
	return !(f->flags & (HS_F_CLI_FLIGHT | HS_F_FIN | HS_F_SYNACK_RTX |
			     HS_F_SRV_RTX)) &&
	       !idle_at(now, f->last_ns);
}

/* How far the TLS gap may fall short of the ACK->hello delay and still
 * corroborate it: the TCP and TLS round trips are two samples of the exit's
 * path, whose jitter grows with the path (an eighth of the TCP round trip)
 * and with the delay itself (a quarter), relay_base_ack_us at least. A lost
 * and retransmitted hello (hundreds of ms) stays far outside. */
static int64_t corroborate_tol(const struct corr_config *cfg, int64_t ack_hello,
			       int64_t tcp_rtt)
{
	int64_t q = ack_hello / 4, r = tcp_rtt / 8, t = cfg->relay_base_ack_us;

	if (q > t)
		t = q;
	if (r > t)
		t = r;
	return t;
}

/* Returns whether the flow showed a detour (at least the small bound). */
static bool fold_relay(struct corr *c, struct src_state *s, struct member *m,
		       struct cluster_state *cl, const struct hs_flow *f,
		       enum client_family fam, uint64_t now)
{
	const struct corr_config *cfg = &c->cfg;
	struct flow_rtt t = flow_timing(f);
	int64_t gap, ack, detour;
	bool hit, weak;

	if (!t.ok)
		return false;
	gap = t.tls - t.tcp - (int64_t)cfg->relay_base_gap_us[fam];
	ack = t.ack_hello - (int64_t)cfg->relay_base_ack_us;
	if (!cfg->relay_require_ack_delay)
		detour = gap;
	else if (t.tls - t.tcp + corroborate_tol(cfg, t.ack_hello, t.tcp) >=
		 t.ack_hello)
		/* a relay adds the detour to both: the ACK->hello delay
		 * measures it (direct clients send the hello within ~2 ms,
		 * whatever their TLS processing) and the TLS round trip,
		 * which also carries the client's processing, corroborates
		 * it. So the family's processing allowance is not taken off
		 * here: a browser-mimicking farm behind 8-40 ms detours would
		 * hide under Chromium's 40 ms. */
		detour = ack;
	else
		/* the hello came late but the TLS round trip did not grow
		 * with it (a lost and retransmitted hello, a stall between
		 * ACK and hello): trust the gap only past the processing */
		detour = ack < gap ? ack : gap;
	hit = detour >= (int64_t)cfg->relay_min_gap_us;
	/* the small bound never exceeds the strong one */
	weak =
	    detour >= (int64_t)(cfg->relay_weak_gap_us < cfg->relay_min_gap_us
				    ? cfg->relay_weak_gap_us
				    : cfg->relay_min_gap_us);
	s->relay_measured++;
	s->relay_hits += hit;
	s->relay_weak += weak;
	s->detour_us[s->detour_pos] = (int32_t)(detour < INT32_MIN   ? INT32_MIN
						: detour > INT32_MAX ? INT32_MAX
								     : detour);
	s->detour_pos = (uint8_t)((s->detour_pos + 1) % DETOUR_SAMPLES);
	if (s->detour_n < DETOUR_SAMPLES)
		s->detour_n++;
	if (m) {
		m->relay_measured++;
		m->relay_hits += hit;
		m->relay_weak += weak;
	}
	bound_fold(cfg, m, cl, fam, t.tcp, t.tls, t.ack_hello, weak);
	c->st.relay_samples++;
	c->st.relay_hits += hit;
	/* a negative estimate (the client was faster than its allowance)
	 * is no detour at all */
	hs_hist_observe(&c->st.relay_gap, HS_HIST_RELAY_GAP_SECONDS,
			detour > 0 ? (double)detour / 1e6 : 0);
	if (now / (cfg->window_s * HS_NS_PER_SEC) == c->win_idx) {
		c->win_samples++;
		c->win_hits += hit;
	}
	return weak;
}

static void fold_stack(struct corr *c, struct src_state *s, struct member *m,
		       enum client_family fam, const struct sig_info *si)
{
	double imp = stack_implausibility(fam, si->os);
	bool hit = imp >= c->cfg.stack_min_implausibility;

	s->stack_checked++;
	s->stack_hits += hit;
	if (imp > s->stack_worst) {
		s->stack_worst = imp;
		s->worst_family = (uint8_t)fam;
		s->worst_os = (uint8_t)si->os;
	}
	if (m) {
		m->stack_checked++;
		m->stack_hits += hit;
	}
}

/* Request sizes of a finished flow: its completed bursts and its last
 * (the kernel counts requests, not the ClientHello); and the client's
 * bytes per connection, which linking compares (one script, one
 * template, however the path splits it into bursts), but for a flow a
 * rule cut: then what the client sent is our cut's doing. */
static void fold_sizes(struct src_state *s, struct member *m,
		       const struct hs_flow *f)
{
	const struct hs_cadence *cad = &f->cad;
	struct running r = {0};
	double total = 0;

	if (cad->size_n) {
		r.n = cad->size_n;
		r.mean = (double)cad->size_mean;
		r.m2 = (double)cad->size_var * cad->size_n;
		total = (double)cad->size_mean * cad->size_n;
	}
	if (cad->bursts > cad->size_n && cad->cur_bytes) {
		running_add(&r, cad->cur_bytes);
		total += cad->cur_bytes;
	}
	running_merge(&s->sizes, &r);
	if (!m)
		return;
	running_merge(&m->sizes, &r);
	if (f->flags & HS_F_CUT)
		m->cut_flows++;
	else if (total > 0)
		running_add(&m->conn_bytes, total);
}

static void note_sig(struct corr *c, struct src_state *s,
		     const struct sig_info *si)
{
	s->have_sig = 1;
	s->mss = si->sig.mss;
	s->hops = (uint8_t)tcpsig_distance(&si->sig);
	if (s->tcp_sig != si->raw_id) {
		strpool_put(c->strs, s->tcp_sig);
		strpool_ref(c->strs, si->raw_id);
		s->tcp_sig = si->raw_id;
	}
}

void fold_flow(struct corr *c, const struct hs_flow_key *k,
	       const struct hs_flow *f, struct flow_shadow *sh, uint64_t now,
	       bool flows_over)
{
	const struct fp_view *fp;
	struct fp_view view;
	const struct sig_info *si;
	enum client_family fam = FAM_UNKNOWN;
	struct src_state *s;
	struct member *m = NULL;
	bool conflict;

	if (fold_idle(sh, f))
		return;
	if (sh->first_ns != f->first_ns) {
		/* a new connection on the 5-tuple: its folds start over */
		sh->last_ns = sh->cluster = 0;
		sh->done = 0;
		sh->first_ns = f->first_ns;
	}
	sh->last_ns = f->last_ns;
	if (!(f->flags & HS_F_ACK)) {
		if (!(sh->done & FOLD_UNVERIFIED) &&
		    (flows_over || f->flags & HS_F_FIN ||
		     idle_at(now, f->last_ns))) {
			sh->done |= FOLD_UNVERIFIED;
			c->st.flows_unverified++;
		}
		return;
	}
	s = src_touch(c, &k->client, f->first_ns, f->last_ns);
	if (!s)
		return;
	fp = collector_view(c->env.coll, k, &view) ? &view : NULL;
	/* two versions of the hello were sent: which one the server took is
	 * unknown, so neither fingerprint (nor the kernel's ids, walked from
	 * the first) speaks for the client; the flow record flags it */
	conflict = fp && fp->conflict;
	if (conflict)
		fp = NULL;
	si = corr_sig(c, f->sig_id);
	if (si)
		note_sig(c, s, si);
	if (fp && fp->err == HELLO_OK) {
		fam = (enum client_family)fp->family;
		s->family = (uint8_t)fam;
	}

	if (!(sh->done & FOLD_MEMBER)) {
		if (f->flags & HS_F_NONTLS) {
			sh->done = FOLD_ALL; /* not TLS: nothing to correlate */
			return;
		}
		if (!(f->flags & HS_F_TLS))
			return; /* no client data yet */
		if (!(fp && fp->err == HELLO_OK) && !conflict &&
		    now < f->first_ns + FP_WAIT_NS &&
		    !(f->flags & (HS_F_FIN | HS_F_HELLO_BAD | HS_F_UNFP)))
			return; /* give the fingerprint time to arrive */
		if (!conflict)
			sh->cluster = join_cluster(c, k, f, fp, si);
		sh->done |= FOLD_MEMBER;
	}
	if (sh->cluster) {
		m = member_get(c, &k->client, sh->cluster, false);
		if (m && f->last_ns > m->last_ns)
			m->last_ns = f->last_ns;
		if (m) {
			m->src = s;
			m->src_serial = s->serial;
		}
	}
	if (!(sh->done & FOLD_RELAY) &&
	    (flows_over || !timing_pending(f, now))) {
		struct cluster_state *cl =
		    sh->cluster ? table_get(c->clusters, &sh->cluster) : NULL;
		bool relayed = fold_relay(c, s, m, cl, f, fam, now);

		/* the endpoint mix is kept apart for relayed flows: a farm's
		 * pivot shows in its exits' flows, not diluted by the direct
		 * users of the same client library */
		if (cl) {
			char ep[64];

			endpoint_of(k, fp, ep, sizeof(ep));
			endpoint_add(c, cl, relayed, f->first_ns, ep);
		}
		sh->done |= FOLD_RELAY;
	}
	if (!(sh->done & FOLD_STACK) && si && fam != FAM_UNKNOWN) {
		fold_stack(c, s, m, fam, si);
		sh->done |= FOLD_STACK;
	}
	/* The datapath names a flow's SYN signature when the SYN creates it,
	 * and a later SYN makes a new flow (another first_ns): a flow without
	 * one (opened mid-stream, e.g. before a restart) never gets one. Done,
	 * or it would be folded again every round for nothing. */
	if (!f->sig_id)
		sh->done |= FOLD_STACK;
	if (!(sh->done & FOLD_SIZES) &&
	    (flows_over || f->flags & HS_F_FIN || idle_at(now, f->last_ns))) {
		fold_sizes(s, m, f);
		sh->done |= FOLD_SIZES;
	}
}

void fold_source(struct corr *c, const struct hs_addr *a,
		 const struct hs_source *k)
{
	/* only sources with a completed handshake have a state (fold_flow,
	 * which runs first) */
	struct src_state *s = table_get(c->srcs, a);

	if (!s)
		return;
	src_widen(s, k->first_ns, k->last_ns);
	s->k = (struct src_kernel){
	    .ivl_mean_us = k->cad.ivl_mean_us,
	    .ivl_var_us2 = k->cad.ivl_var_us2,
	    .flows = k->flows,
	    .bursts = k->cad.bursts,
	    .min_tcp_rtt_us = k->min_tcp_rtt_us,
	    .min_tls_rtt_us = k->min_tls_rtt_us,
	    .min_ack_hello_us = k->min_ack_hello_us,
	};
	s->have_kernel = true;
}
