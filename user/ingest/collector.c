// SPDX-License-Identifier: BSD-2-Clause
#include "ingest/collector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint/client_family.h"
#include "lib/table.h"

struct reasm {
	uint64_t ts_ns;
	uint32_t contig; /* bytes present from offset 0 */
	uint16_t segments;
	uint8_t got[HS_HELLO_CAP / 8];
	uint8_t buf[HS_HELLO_CAP];
};

struct collector {
	struct table *inflight; /* hs_flow_key -> struct reasm */
	struct table *fps;	/* hs_flow_key -> struct flow_fp */
	struct collector_stats st;
};

static void fp_evict(void *v)
{
	fp_free(&((struct flow_fp *)v)->fp);
}

struct collector *collector_new(size_t max_flows, size_t max_inflight)
{
	struct collector *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->inflight = table_new(max_inflight, sizeof(struct hs_flow_key),
				sizeof(struct reasm), NULL);
	c->fps = table_new(max_flows, sizeof(struct hs_flow_key),
			   sizeof(struct flow_fp), fp_evict);
	if (!c->inflight || !c->fps) {
		collector_free(c);
		return NULL;
	}
	return c;
}

void collector_free(struct collector *c)
{
	if (!c)
		return;
	table_free(c->inflight);
	table_free(c->fps);
	free(c);
}

static void finish(struct collector *c, const struct hs_flow_key *k,
		   struct reasm *r)
{
	struct flow_fp *f = table_get_or_add(c->fps, k, NULL);
	struct tls_hello *h = malloc(sizeof(*h));

	if (!f || !h) {
		free(h);
		return;
	}
	fp_free(&f->fp);
	memset(f, 0, sizeof(*f));
	f->ts_ns = r->ts_ns;
	f->segments = r->segments;
	f->err = hello_parse(r->buf, r->contig, h);
	if (f->err == HELLO_OK && fp_compute(h, &f->fp))
		f->err = HELLO_INCOMPLETE;
	if (f->err == HELLO_OK) {
		c->st.hellos++;
		snprintf(f->sni, sizeof(f->sni), "%s", h->sni);
		snprintf(f->alpn, sizeof(f->alpn), "%s", h->alpn);
		f->family = (uint8_t)client_family_of(h);
		f->tuple_valid = fp_tuple_acc(h, &f->acc);
	} else {
		c->st.hello_errors[f->err]++;
	}
	free(h);
	table_del(c->inflight, k);
}

static void mark(struct reasm *r, uint32_t off, uint32_t len)
{
	uint32_t i;

	for (i = off; i < off + len && i < HS_HELLO_CAP; i++)
		r->got[i / 8] |= (uint8_t)(1u << (i % 8));
	while (r->contig < HS_HELLO_CAP &&
	       r->got[r->contig / 8] & (1u << (r->contig % 8)))
		r->contig++;
}

int collector_on_event(void *ctx, void *data, size_t len)
{
	struct collector *c = ctx;
	const struct hs_hello_seg *ev = data;
	size_t hdr = offsetof(struct hs_hello_seg, data), n, need;
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
	r = table_get_or_add(c->inflight, &ev->key, &created);
	if (!r)
		return 0;
	if (created)
		r->ts_ns = ev->ts_ns;
	r->segments++;
	memcpy(r->buf + ev->offset, ev->data, n);
	mark(r, ev->offset, (uint32_t)n);
	need = hello_needed(r->buf, r->contig);
	if ((need && r->contig >= need) || r->contig >= HS_HELLO_CAP ||
	    (r->contig >= 6 && !need && (r->buf[0] != 0x16 || r->buf[5] != 1)))
		finish(c, &ev->key, r);
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

const struct flow_fp *collector_lookup(const struct collector *c,
				       const struct hs_flow_key *k)
{
	return table_get(c->fps, k);
}

void collector_get_stats(const struct collector *c, struct collector_stats *s)
{
	*s = c->st;
	s->reasm_evictions = table_evictions(c->inflight);
	s->fp_evictions = table_evictions(c->fps);
}
