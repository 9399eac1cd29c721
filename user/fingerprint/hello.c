// SPDX-License-Identifier: BSD-2-Clause
/*
 * ClientHello parser. Input is the TCP byte stream of the client from its
 * first TLS record header; handshake fragments spread over several records
 * are joined. Every length is checked against its container; a malformed
 * extension body is counted and skipped, a malformed structure rejects the
 * hello with a reason.
 */
#include "fingerprint/hello.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REC_HDR 5
#define HS_HDR 4
#define MAX_HS_LEN (64 * 1024)

static const char *const hello_errors[HELLO_ERR_MAX] = {
    [HELLO_OK] = "ok",
    [HELLO_INCOMPLETE] = "incomplete",
    [HELLO_NOT_TLS] = "not_tls",
    [HELLO_NOT_CH] = "not_client_hello",
    [HELLO_BAD_LENGTH] = "bad_length",
    [HELLO_TOO_MANY] = "too_many_items",
};

const char *hello_strerror(enum hello_err e)
{
	return e < HELLO_ERR_MAX ? hello_errors[e] : "unknown";
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A cursor over a bounded byte range. */
struct cur {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool bad;
};

static bool cur_has(struct cur *c, size_t n)
{
	if (c->bad || c->len - c->off < n) {
		c->bad = true;
		return false;
	}
	return true;
}

static unsigned cur_u8(struct cur *c)
{
	return cur_has(c, 1) ? c->p[c->off++] : 0;
}

static unsigned cur_u16(struct cur *c)
{
	unsigned v;

	if (!cur_has(c, 2))
		return 0;
	v = rd16(c->p + c->off);
	c->off += 2;
	return v;
}

/* A sub-cursor over the next n bytes (n must be present). */
static struct cur cur_sub(struct cur *c, size_t n)
{
	struct cur s = {.bad = true};

	if (cur_has(c, n)) {
		s = (struct cur){.p = c->p + c->off, .len = n};
		c->off += n;
	}
	return s;
}

/* Join handshake fragments of consecutive handshake records into out.
 * Returns bytes joined; sets *complete when the hello message is whole. */
static size_t join_records(const uint8_t *buf, size_t len, uint8_t *out,
			   size_t cap, bool *complete, bool *multi,
			   struct tls_hello *h)
{
	size_t off = 0, n = 0, rec = 0;

	*complete = false;
	*multi = false;
	while (off + REC_HDR <= len && buf[off] == 0x16) {
		size_t rlen = rd16(buf + off + 3), take;

		if (rlen > HS_TLS_RECORD_MAX)
			break; /* a record the server rejects: incomplete */
		if (rec > 0)
			*multi = true;
		take = rlen;
		if (take > len - off - REC_HDR)
			take = len - off - REC_HDR;
		if (take > cap - n)
			take = cap - n;
		/* remember where each joined byte came from in the stream */
		if (rec < HELLO_MAX_RECMAP) {
			h->rec_join[rec] = (uint32_t)n;
			h->rec_stream[rec] = (uint32_t)(off + REC_HDR);
		}
		memcpy(out + n, buf + off + REC_HDR, take);
		n += take;
		rec++;
		h->n_records = rec;
		if (n >= HS_HDR) {
			size_t want = HS_HDR + ((size_t)out[1] << 16 |
						(size_t)out[2] << 8 | out[3]);
			if (n >= want) {
				*complete = true;
				return n;
			}
		}
		if (take < rlen)
			break;
		off += REC_HDR + rlen;
	}
	return n;
}

size_t hello_needed(const uint8_t *buf, size_t len)
{
	size_t off = 0, have = 0, want = 0, hn = 0;
	uint8_t hh[HS_HDR];

	if (len && buf[0] != 0x16)
		return HELLO_NEVER;
	/* walk records until the handshake message is covered; its header
	 * (and so its length) may itself be split over records, and empty
	 * records (which a server's TLS skips) may come between */
	while (off + REC_HDR <= len) {
		size_t rlen = rd16(buf + off + 3), i;

		if (buf[off] != 0x16)
			return HELLO_NEVER; /* another record type mid-message
					     */
		if (rlen > HS_TLS_RECORD_MAX)
			return HELLO_NEVER; /* a record the server rejects */
		for (i = 0; i < rlen && hn < HS_HDR && off + REC_HDR + i < len;
		     i++)
			hh[hn++] = buf[off + REC_HDR + i];
		if (hn && hh[0] != 0x01)
			return HELLO_NEVER; /* not a ClientHello */
		if (!want && hn == HS_HDR) {
			want = HS_HDR + ((size_t)hh[1] << 16 |
					 (size_t)hh[2] << 8 | hh[3]);
			if (want > MAX_HS_LEN)
				return HELLO_NEVER;
		}
		have += rlen;
		off += REC_HDR + rlen;
		if (want && have >= want)
			return off - (have - want);
	}
	if (off < len && buf[off] != 0x16)
		return HELLO_NEVER;
	/* unknown yet, or more records needed: at least one more header */
	return want ? off + REC_HDR + (want - have) : 0;
}

static void printable(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 5 < cap; i++) {
		uint8_t ch = src[i];

		if (ch >= 0x21 && ch <= 0x7e && ch != '\\' && ch != ',' &&
		    ch != '"')
			dst[o++] = (char)ch;
		else
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", ch);
	}
	dst[o] = 0;
}

static bool parse_u16_list(struct cur *c, size_t len_bytes, uint16_t *out,
			   size_t *n, size_t cap)
{
	size_t len = len_bytes == 1 ? cur_u8(c) : cur_u16(c);
	struct cur l = cur_sub(c, len);

	if (l.bad || len % 2)
		return false;
	*n = 0;
	while (l.off < l.len) {
		uint16_t v = (uint16_t)cur_u16(&l);

		if (*n < cap)
			out[(*n)++] = v;
	}
	return true;
}

static void parse_sni(struct cur e, struct tls_hello *h)
{
	struct cur list = cur_sub(&e, cur_u16(&e));

	while (!list.bad && list.off < list.len) {
		unsigned type = cur_u8(&list);
		struct cur name = cur_sub(&list, cur_u16(&list));

		if (list.bad)
			break;
		if (type == 0 && !h->has_sni) {
			h->has_sni = true;
			printable(h->sni, sizeof(h->sni), name.p, name.len);
		}
	}
	if (list.bad || e.off != e.len)
		h->bad_ext++;
	if (!h->has_sni) /* present but empty/odd: still "d" for JA4 */
		h->has_sni = true;
}

static void parse_alpn(struct cur e, struct tls_hello *h)
{
	struct cur list = cur_sub(&e, cur_u16(&e));
	size_t o = 0;

	h->has_alpn = true;
	while (!list.bad && list.off < list.len) {
		size_t n = cur_u8(&list);
		struct cur v = cur_sub(&list, n);

		if (v.bad)
			break;
		if (o == 0 && h->alpn_first_len == 0 && n > 0) {
			memcpy(h->alpn_first, v.p, n);
			h->alpn_first_len = n;
		}
		if (o && o + 1 < sizeof(h->alpn))
			h->alpn[o++] = ',';
		printable(h->alpn + o, sizeof(h->alpn) - o, v.p, v.len);
		o += strlen(h->alpn + o);
	}
	if (list.bad || e.off != e.len)
		h->bad_ext++;
}

static void parse_ext_body(uint16_t type, struct cur e, struct tls_hello *h)
{
	bool ok = true;

	switch (type) {
	case 0x0000: parse_sni(e, h); return;
	case 0x0010: parse_alpn(e, h); return;
	case 0x000a:
		ok = parse_u16_list(&e, 2, h->groups, &h->n_groups,
				    HELLO_MAX_LIST);
		break;
	case 0x000b: {
		struct cur l = cur_sub(&e, cur_u8(&e));

		ok = !l.bad;
		h->n_ec_formats = 0;
		while (ok && l.off < l.len &&
		       h->n_ec_formats < sizeof(h->ec_formats))
			h->ec_formats[h->n_ec_formats++] = (uint8_t)cur_u8(&l);
		break;
	}
	case 0x000d:
		ok = parse_u16_list(&e, 2, h->sig_algs, &h->n_sig_algs,
				    HELLO_MAX_LIST);
		break;
	case 0x002b:
		ok = parse_u16_list(&e, 1, h->versions, &h->n_versions, 128);
		break;
	default: return;
	}
	if (!ok || e.bad)
		h->bad_ext++;
}

/* Parse the joined handshake message; offsets are kept in the joined
 * message (rec_join/rec_stream map them to the record stream). */
static enum hello_err parse_handshake(const uint8_t *hs, size_t n,
				      struct tls_hello *h)
{
	struct cur c, exts;

	c = (struct cur){.p = hs, .len = n};
	c.off = HS_HDR;
	c.len = HS_HDR + ((size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3]);
	h->legacy_version = (uint16_t)cur_u16(&c);
	cur_sub(&c, 32);	 /* random */
	cur_sub(&c, cur_u8(&c)); /* session id */
	{
		size_t cl = cur_u16(&c);
		struct cur cs = cur_sub(&c, cl);

		if (cs.bad || cl % 2)
			return HELLO_BAD_LENGTH;
		h->cs_off = (uint32_t)(cs.p - hs);
		if (cl / 2 > HELLO_MAX_LIST)
			return HELLO_TOO_MANY;
		while (cs.off < cs.len)
			h->ciphers[h->n_ciphers++] = (uint16_t)cur_u16(&cs);
	}
	cur_sub(&c, cur_u8(&c)); /* compression methods */
	if (c.bad)
		return HELLO_BAD_LENGTH;
	if (c.off == c.len) {
		h->fixed_end = (uint32_t)c.len - 1;
		return HELLO_OK; /* no extensions (SSLv3-style) */
	}
	h->fixed_end = (uint32_t)c.off + 1;
	exts = cur_sub(&c, cur_u16(&c));
	if (exts.bad)
		return HELLO_BAD_LENGTH;
	while (exts.off < exts.len) {
		size_t hdr_off = exts.off + (size_t)(exts.p - hs);
		uint16_t type = (uint16_t)cur_u16(&exts);
		struct cur body = cur_sub(&exts, cur_u16(&exts));

		if (exts.bad)
			return HELLO_BAD_LENGTH;
		if (h->n_exts >= HELLO_MAX_LIST)
			return HELLO_TOO_MANY;
		h->exts[h->n_exts].type = type;
		h->exts[h->n_exts].body_len = (uint16_t)body.len;
		h->exts[h->n_exts].offset = (uint32_t)hdr_off;
		h->n_exts++;
		if (type == 0x0010 && !h->alpn_raw_len && body.len) {
			h->alpn_raw_len =
			    body.len < HS_ALPN_BYTES ? body.len : HS_ALPN_BYTES;
			memcpy(h->alpn_raw, body.p, h->alpn_raw_len);
		}
		parse_ext_body(type, body, h);
	}
	return HELLO_OK;
}

enum hello_err hello_parse(const uint8_t *buf, size_t len, struct tls_hello *h)
{
	uint8_t *hs;
	size_t n;
	enum hello_err err;
	bool complete, multi;

	memset(h, 0, sizeof(*h));
	if (len < REC_HDR + HS_HDR)
		return len && buf[0] != 0x16 ? HELLO_NOT_TLS : HELLO_INCOMPLETE;
	if (buf[0] != 0x16 || buf[1] != 0x03)
		return HELLO_NOT_TLS;
	hs = malloc(MAX_HS_LEN);
	if (!hs)
		return HELLO_INCOMPLETE;
	/* the message type is its first byte, after any empty records */
	n = join_records(buf, len, hs, MAX_HS_LEN, &complete, &multi, h);
	h->multi_record = multi;
	if (n && hs[0] != 0x01)
		err = HELLO_NOT_CH;
	else
		err = complete ? parse_handshake(hs, n, h) : HELLO_INCOMPLETE;
	free(hs);
	return err;
}
