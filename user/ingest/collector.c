// SPDX-License-Identifier: BSD-2-Clause
#include "ingest/collector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint/client_family.h"
#include "lib/strpool.h"
#include "lib/table.h"

struct reasm {
	uint64_t ts_ns;
	uint32_t contig; /* bytes present from offset 0 */
	uint16_t segments;
	uint8_t conflict; /* other bytes came for an offset already taken */
	uint8_t got[HS_HELLO_CAP / 8];
	uint8_t buf[HS_HELLO_CAP];
};

/* One hello of a flow: references only. */
struct hello_fp {
	uint32_t rec; /* fingerprint (c->recs), 0 unless err is HELLO_OK */
	uint32_t sni; /* c->strs, 0: dropped at the budget */
	uint16_t segments;
	uint8_t err;	  /* enum hello_err */
	uint8_t conflict; /* two versions of the hello's bytes were sent */
	uint8_t seen;	  /* parsed (or given up on) */
};

/* Per flow: fixed size. The second hello is the one a HelloRetryRequest
 * makes the client send (the kernel marks its segments); no flow has a
 * third. */
struct flow_fp {
	struct hello_fp first, retry;
};

/* Reassembly of a flow's second hello is keyed apart from its first: the
 * flow key with this in its (otherwise zero) pad. */
#define RETRY_KEY_PAD 1u

/* One per distinct hello, interned by content in c->recs. It holds one
 * reference to each of its strings, whatever number of flows share it.
 * No budget: each flow holds at most one record, so the flow table bounds
 * them, and a flow never loses its hashes. The ALPN list (at most 127
 * characters) is part of the fingerprint (the correlator clusters on it):
 * it lives with the records, not under the budget. */
struct fp_rec {
	struct hs_tuple_acc acc;
	uint32_t alpn;	 /* c->alpns */
	uint32_t fields; /* c->strs: packed hello fields, 0: dropped */
	char ja3[33];
	char ja4[JA4_LEN];
	char ja4_o[JA4_LEN];
	char tls_version[3];
	uint8_t family;
	uint8_t tuple_valid;
};

/* The ALPN the flow record printed was cut at 127 characters (a 128-byte
 * field); keep that form. */
#define ALPN_MAX 127

struct collector {
	struct table *inflight; /* hs_flow_key -> struct reasm */
	struct table *kept;	/* ... finished, for resends to compare */
	struct table *fps;	/* hs_flow_key -> struct flow_fp */
	struct strpool *recs;	/* struct fp_rec, by content */
	struct strpool *alpns;	/* ALPN lists of the records */
	struct strpool *strs;	/* SNI, packed fields: budgeted */
	struct fp_memo *memo;	/* hashed forms of recent fields */
	struct reasm *whole;	/* a hello whole in its first segment */
	struct collector_stats st;
};

static bool rec_get(const struct collector *c, uint32_t id, struct fp_rec *r)
{
	size_t len;
	const char *p = strpool_get(c->recs, id, &len);

	if (!p || len != sizeof(*r))
		return false;
	memcpy(r, p, sizeof(*r)); /* pool copies are byte strings */
	return true;
}

static void rec_put(struct collector *c, uint32_t id)
{
	struct fp_rec r;

	if (!rec_get(c, id, &r))
		return;
	if (strpool_put(c->recs, id)) {
		strpool_put(c->alpns, r.alpn);
		strpool_put(c->strs, r.fields);
	}
}

static void hello_release(struct collector *c, struct hello_fp *h)
{
	rec_put(c, h->rec);
	strpool_put(c->strs, h->sni);
	memset(h, 0, sizeof(*h));
}

/* Drop what a flow record references (eviction, replacement, free). */
static void fp_release(void *ctx, void *v)
{
	struct collector *c = ctx;
	struct flow_fp *f = v;

	hello_release(c, &f->first);
	hello_release(c, &f->retry);
}

struct collector *collector_new(size_t max_flows, size_t max_inflight)
{
	struct collector *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->inflight = table_new(max_inflight, sizeof(struct hs_flow_key),
				sizeof(struct reasm), NULL);
	c->kept = table_new(max_inflight, sizeof(struct hs_flow_key),
			    sizeof(struct reasm), NULL);
	c->fps = table_new(max_flows, sizeof(struct hs_flow_key),
			   sizeof(struct flow_fp), NULL);
	c->recs = strpool_new(SIZE_MAX);
	c->alpns = strpool_new(SIZE_MAX);
	c->strs = strpool_new(COLLECTOR_FP_BUDGET);
	c->memo = fp_memo_new();
	c->whole = malloc(sizeof(*c->whole));
	if (!c->inflight || !c->kept || !c->fps || !c->recs || !c->alpns ||
	    !c->strs || !c->memo || !c->whole) {
		collector_free(c);
		return NULL;
	}
	table_set_evict_ctx(c->fps, fp_release, c);
	return c;
}

void collector_free(struct collector *c)
{
	if (!c)
		return;
	table_free(c->inflight);
	table_free(c->kept);
	table_free(c->fps); /* releases into the pools: before them */
	strpool_free(c->recs);
	strpool_free(c->alpns);
	strpool_free(c->strs);
	fp_memo_free(c->memo);
	free(c->whole);
	free(c);
}

void collector_set_fp_budget(struct collector *c, size_t bytes)
{
	strpool_set_budget(c->strs, bytes);
}

/* The interned fingerprint of a parsed hello; 0 on allocation failure. */
static uint32_t rec_intern(struct collector *c, const struct tls_hello *h,
			   const struct tls_fp *fp, const uint8_t *packed,
			   size_t plen)
{
	struct fp_rec r;
	bool created;
	uint32_t id;

	memset(&r, 0, sizeof(r)); /* interned by bytes: padding too */
	memcpy(r.ja3, fp->ja3, sizeof(r.ja3));
	memcpy(r.ja4, fp->ja4, sizeof(r.ja4));
	memcpy(r.ja4_o, fp->ja4_o, sizeof(r.ja4_o));
	memcpy(r.tls_version, fp->tls_version, sizeof(r.tls_version));
	r.family = (uint8_t)client_family_of(h);
	r.tuple_valid = fp_tuple_acc(h, &r.acc);
	r.alpn =
	    strpool_intern(c->alpns, h->alpn, strnlen(h->alpn, ALPN_MAX), NULL);
	r.fields = strpool_intern(c->strs, packed, plen, NULL);
	id = strpool_intern(c->recs, &r, sizeof(r), &created);
	if (!id || !created) {
		/* a record that exists already holds its own references */
		strpool_put(c->alpns, r.alpn);
		strpool_put(c->strs, r.fields);
	}
	return id;
}

/* Parse a reassembled hello into out (its references replace out's). */
static void parse_into(struct collector *c, const struct reasm *r,
		       struct hello_fp *out)
{
	struct tls_hello *h = malloc(sizeof(*h));
	uint16_t *packed = malloc(FP_FIELDS_MAX); /* u16: 2-byte aligned */
	enum hello_err err;
	struct tls_fp fp;
	size_t plen = 0;

	if (!h || !packed) {
		free(h);
		free(packed);
		return;
	}
	hello_release(c, out);
	out->seen = 1;
	out->segments = r->segments;
	err = hello_parse(r->buf, r->contig, h);
	if (err == HELLO_OK &&
	    fp_compute_hashed(h, &fp, (uint8_t *)packed, &plen, c->memo))
		err = HELLO_INCOMPLETE;
	if (err == HELLO_OK) {
		out->rec = rec_intern(c, h, &fp, (uint8_t *)packed, plen);
		if (!out->rec)
			err = HELLO_INCOMPLETE; /* out of memory */
	}
	out->err = (uint8_t)err;
	out->conflict = r->conflict;
	if (err == HELLO_OK) {
		c->st.hellos++;
		out->sni =
		    strpool_intern(c->strs, h->sni, strlen(h->sni), NULL);
	} else {
		c->st.hello_errors[err]++;
	}
	free(h);
	free(packed);
}

/* A hello is complete (or given up on): parse it into its flow's record.
 * k is the reassembly key (RETRY_KEY_PAD in pad for a second hello). A
 * first hello starts the flow's record over: a second one follows it. */
static void finish(struct collector *c, const struct hs_flow_key *k,
		   struct reasm *r)
{
	struct hs_flow_key fk = *k;
	struct flow_fp *f;
	struct reasm *kept;

	fk.pad = 0;
	f = table_get_or_add(c->fps, &fk, NULL);
	if (f && k->pad == RETRY_KEY_PAD) {
		parse_into(c, r, &f->retry);
		c->st.retry_hellos++;
	} else if (f) {
		fp_release(c, f);
		parse_into(c, r, &f->first);
		/* kept for the resends of its bytes to be compared with */
		kept = table_get_or_add(c->kept, k, NULL);
		if (kept)
			memcpy(kept, r, sizeof(*kept));
	}
	table_del(c->inflight, k);
}

/* Take the bytes of a segment that no earlier segment brought: the first
 * writer wins, as with the server's TCP, which never replaces bytes it
 * has taken. A raw-socket segment overlapping the hello with other bytes
 * then cannot change what userspace fingerprints (nor make it differ from
 * the kernel's in-order walk). take false: compare only. Returns true when
 * a byte differs from the one taken at its offset: two versions of the
 * hello were sent, and a benign stack never does that. */
static bool store(struct reasm *r, uint32_t off, const uint8_t *data,
		  uint32_t len, bool take)
{
	bool differs = false;
	uint32_t i;

	for (i = off; i < off + len && i < HS_HELLO_CAP; i++) {
		uint8_t bit = (uint8_t)(1u << (i % 8));

		if (r->got[i / 8] & bit) {
			differs |= r->buf[i] != data[i - off];
			continue;
		}
		if (!take)
			continue;
		r->buf[i] = data[i - off];
		r->got[i / 8] |= bit;
	}
	while (r->contig < HS_HELLO_CAP &&
	       r->got[r->contig / 8] & (1u << (r->contig % 8)))
		r->contig++;
	return differs;
}

static void note_conflict(struct collector *c, struct reasm *r)
{
	if (!r->conflict)
		c->st.hello_conflicts++;
	r->conflict = 1;
}

/* Bytes for a hello whose copy was pushed out of its bounded table cannot
 * be checked: flagged all the same, or a sender would only have to push
 * its decoy's copy out first. */
static void flag_unchecked(struct collector *c, struct flow_fp *f)
{
	if (!f->first.conflict)
		c->st.hello_resends_unchecked++;
	f->first.conflict = 1;
}

/* The hello's range sent again after the kernel's capture ended: compared
 * with the bytes taken (the hello in progress, or the copy kept after it
 * was finished), never taken; when neither is left, flag_unchecked. */
static void resend(struct collector *c, const struct hs_hello_seg *ev, size_t n)
{
	struct reasm *r = table_get(c->inflight, &ev->key);
	struct flow_fp *f = table_get(c->fps, &ev->key);
	bool finished = !r;

	if (!r)
		r = table_get(c->kept, &ev->key);
	if (!r) {
		if (f)
			flag_unchecked(c, f);
		return;
	}
	if (store(r, ev->offset, ev->data, (uint32_t)n, false))
		note_conflict(c, r);
	if (finished && f)
		f->first.conflict = r->conflict;
}

/* A segment of a first hello the collector has finished, which the kernel
 * still captures: the collector parses a stream at once when no bytes can
 * make it a hello (hello_needed), where the kernel's walk may read on.
 * The bytes go to the finished hello's copy, compared and taken there, so
 * that a resend of their range is checked against them (as with a hello
 * in progress); they never open an entry without the hello's first bytes,
 * which could not complete and would replace the flow's record. Returns
 * false when the flow has no finished first hello. */
static bool late_segment(struct collector *c, const struct hs_flow_key *k,
			 const struct hs_hello_seg *ev, size_t n)
{
	struct flow_fp *f;
	struct reasm *kept;

	if (table_get(c->inflight, k))
		return false;
	f = table_get(c->fps, k);
	if (!f || !f->first.seen)
		return false;
	c->st.late_segments++;
	kept = table_get(c->kept, k);
	if (!kept) { /* only streams that were never a well-formed hello */
		flag_unchecked(c, f);
		return true;
	}
	if (store(kept, ev->offset, ev->data, (uint32_t)n, true)) {
		note_conflict(c, kept);
		f->first.conflict = 1;
	}
	return true;
}

/* Are the contiguous bytes a whole hello, or bytes no more can make one
 * (see hello_needed), or all the collector keeps? Then they are parsed. */
static bool hello_ends(const uint8_t *buf, size_t contig)
{
	size_t need = hello_needed(buf, contig);

	return need == HELLO_NEVER || (need && contig >= need) ||
	       contig >= HS_HELLO_CAP;
}

int collector_on_event(void *ctx, void *data, size_t len)
{
	struct collector *c = ctx;
	const struct hs_hello_seg *ev = data;
	size_t hdr = offsetof(struct hs_hello_seg, data), n;
	struct hs_flow_key key;
	struct reasm *r;
	bool created;

	c->st.events++;
	if (len < hdr || ev->hdr.type != HS_EV_HELLO_SEG) {
		c->st.bad_events++;
		return 0;
	}
	n = len - hdr;
	if (ev->offset >= HS_HELLO_CAP || n > HS_HELLO_CAP - ev->offset) {
		c->st.bad_events++;
		return 0;
	}
	c->st.segments++;
	if (ev->flags & HS_SEG_RESEND) {
		resend(c, ev, n);
		return 0;
	}
	key = ev->key;
	key.pad = 0;
	if (ev->flags & HS_SEG_RETRY) {
		const struct flow_fp *f = table_get(c->fps, &key);

		/* one second hello per flow: later bytes are not one */
		if (f && f->retry.seen) {
			c->st.retry_late++;
			return 0;
		}
		key.pad = RETRY_KEY_PAD;
	}
	if (ev->flags & HS_SEG_FIRST) {
		/* a new connection on the same addresses and ports: what
		 * was kept of the previous one's hellos no longer applies */
		struct hs_flow_key rk = key;

		table_del(c->inflight, &key);
		table_del(c->kept, &key);
		rk.pad = RETRY_KEY_PAD;
		table_del(c->inflight, &rk);
		/* most hellos are whole in their first segment (or can never
		 * be one): parsed from there, they neither take nor push out
		 * an entry of the bounded in-flight table */
		if (!ev->offset && hello_ends(ev->data, n)) {
			r = c->whole;
			memset(r, 0, sizeof(*r));
			r->ts_ns = ev->ts_ns;
			r->segments = 1;
			store(r, 0, ev->data, (uint32_t)n, true);
			finish(c, &key, r);
			return 0;
		}
	}
	if (!(ev->flags & HS_SEG_FIRST) && !key.pad &&
	    late_segment(c, &key, ev, n))
		return 0;
	r = table_get_or_add(c->inflight, &key, &created);
	if (!r)
		return 0;
	if (created)
		r->ts_ns = ev->ts_ns;
	r->segments++;
	if (store(r, ev->offset, ev->data, (uint32_t)n, true))
		note_conflict(c, r);
	if (hello_ends(r->buf, r->contig))
		finish(c, &key, r);
	return 0;
}

void collector_flush(struct collector *c)
{
	const void *k;
	void *v;
	size_t pos = 0;

	/* finish() deletes from inflight: restart the walk after each */
	while (table_next(c->inflight, &pos, &k, &v)) {
		struct hs_flow_key key;

		memcpy(&key, k, sizeof(key));
		finish(c, &key, v);
		pos = 0;
	}
}

static bool view_of(const struct collector *c, const struct hello_fp *h,
		    struct fp_view *v)
{
	struct fp_rec r;

	memset(v, 0, sizeof(*v));
	if (!h->seen)
		return false;
	v->err = (enum hello_err)h->err;
	v->segments = h->segments;
	v->conflict = h->conflict;
	if (v->err != HELLO_OK)
		return true;
	if (!rec_get(c, h->rec, &r)) {
		v->err = HELLO_INCOMPLETE; /* cannot happen: a held reference */
		return true;
	}
	v->family = r.family;
	v->tuple_valid = r.tuple_valid;
	v->acc = r.acc;
	memcpy(v->ja3, r.ja3, sizeof(v->ja3));
	memcpy(v->ja4, r.ja4, sizeof(v->ja4));
	memcpy(v->ja4_o, r.ja4_o, sizeof(v->ja4_o));
	memcpy(v->tls_version, r.tls_version, sizeof(v->tls_version));
	v->sni = strpool_get(c->strs, h->sni, NULL);
	v->alpn = strpool_get(c->alpns, r.alpn, NULL);
	v->fields = r.fields;
	return true;
}

bool collector_view(const struct collector *c, const struct hs_flow_key *k,
		    struct fp_view *v)
{
	const struct flow_fp *f = table_get(c->fps, k);

	memset(v, 0, sizeof(*v));
	return f && view_of(c, &f->first, v);
}

bool collector_view_retry(const struct collector *c,
			  const struct hs_flow_key *k, struct fp_view *v)
{
	const struct flow_fp *f = table_get(c->fps, k);

	memset(v, 0, sizeof(*v));
	return f && view_of(c, &f->retry, v);
}

char *collector_raw(const struct collector *c, const struct fp_view *v,
		    enum fp_raw_kind kind)
{
	size_t len;
	const char *p = strpool_get(c->strs, v->fields, &len);

	return p ? fp_raw((const uint8_t *)p, len, v->ja4, kind) : NULL;
}

void collector_get_stats(const struct collector *c, struct collector_stats *s)
{
	struct strpool_stats rs, ss;

	*s = c->st;
	s->reasm_evictions = table_evictions(c->inflight);
	s->kept_evictions = table_evictions(c->kept);
	s->fp_evictions = table_evictions(c->fps);
	strpool_get_stats(c->recs, &rs);
	strpool_get_stats(c->strs, &ss);
	s->fp_records = rs.strings;
	s->fp_strings = ss.strings;
	s->fp_string_bytes = ss.bytes;
	s->fp_string_budget = ss.budget;
	s->fp_strings_dropped = ss.refused;
}
