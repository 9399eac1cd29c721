// SPDX-License-Identifier: BSD-2-Clause
/*
 * JA3: "SSLVersion,Ciphers,Extensions,EllipticCurves,ECPointFormats" in
 * decimal, '-'-joined, GREASE removed, then MD5.
 * JA4 (TCP): t + version + d/i + cipher count + extension count + ALPN
 * first/last character, then sha256[:12] of the sorted cipher list and of
 * the sorted extension list (without SNI and ALPN) + "_" + signature
 * algorithms in wire order. The _o forms keep wire order (and SNI/ALPN);
 * the _r forms print the lists instead of hashing them.
 */
#include "fingerprint/tls_fp.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "hydrascope/tuple.h"
#include "lib/siphash.h"

static void digest_hex(const EVP_MD *md, const char *s, char *out, size_t nhex)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	size_t i;

	EVP_Digest(s, strlen(s), d, &dl, md, NULL);
	for (i = 0; i < nhex / 2 && i < dl; i++) {
		static const char hx[] = "0123456789abcdef";

		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[nhex] = 0;
}

/*
 * The packed fields: everything the raw strings are made of, GREASE
 * removed, in wire order, native byte order (it never leaves the process):
 *   u16 legacy_version, u16 counts of ciphers, extensions, groups,
 *   signature algorithms and EC point formats, then the u16 lists in that
 *   order and the u8 formats last (so every u16 sits at an even offset).
 * A few hundred bytes where the three strings take ~3x as many; a hostile
 * hello's fields are ~4 KB against ~22 KB of strings.
 */
struct fields {
	uint16_t legacy_version;
	size_t nc, ne, ng, ns, nf;
	const uint16_t *ciphers, *exts, *groups, *sigs;
	const uint8_t *formats;
};

#define FIELDS_HDR 12

static size_t pack_u16(uint8_t *out, const uint16_t *v, size_t n, bool strip)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (!strip || !hs_is_grease(v[i])) {
			memcpy(out + 2 * k, &v[i], 2);
			k++;
		}
	return k;
}

size_t fp_fields_pack(const struct tls_hello *h, uint8_t *out)
{
	uint16_t hdr[6] = {h->legacy_version};
	size_t off = FIELDS_HDR, i, ne = 0;

	hdr[1] = (uint16_t)pack_u16(out + off, h->ciphers, h->n_ciphers, true);
	off += 2u * hdr[1];
	for (i = 0; i < h->n_exts; i++)
		if (!hs_is_grease(h->exts[i].type)) {
			memcpy(out + off + 2 * ne, &h->exts[i].type, 2);
			ne++;
		}
	hdr[2] = (uint16_t)ne;
	off += 2 * ne;
	hdr[3] = (uint16_t)pack_u16(out + off, h->groups, h->n_groups, true);
	off += 2u * hdr[3];
	hdr[4] =
	    (uint16_t)pack_u16(out + off, h->sig_algs, h->n_sig_algs, true);
	off += 2u * hdr[4];
	hdr[5] = (uint16_t)h->n_ec_formats;
	memcpy(out + off, h->ec_formats, h->n_ec_formats);
	off += h->n_ec_formats;
	memcpy(out, hdr, sizeof(hdr));
	return off;
}

/* A view of packed fields; false when they do not add up (never for what
 * fp_fields_pack wrote). The buffer must be 2-byte aligned. */
static bool fields_view(const uint8_t *b, size_t len, struct fields *f)
{
	uint16_t hdr[6];
	size_t need;

	if (len < FIELDS_HDR || (uintptr_t)b % 2)
		return false;
	memcpy(hdr, b, sizeof(hdr));
	f->legacy_version = hdr[0];
	f->nc = hdr[1];
	f->ne = hdr[2];
	f->ng = hdr[3];
	f->ns = hdr[4];
	f->nf = hdr[5];
	need = FIELDS_HDR + 2 * (f->nc + f->ne + f->ng + f->ns) + f->nf;
	if (need != len)
		return false;
	f->ciphers = (const uint16_t *)(b + FIELDS_HDR);
	f->exts = f->ciphers + f->nc;
	f->groups = f->exts + f->ne;
	f->sigs = f->groups + f->ng;
	f->formats = (const uint8_t *)(f->sigs + f->ns);
	return true;
}

/*
 * Strings of a known maximum length, written without printf: a hostile
 * hello's lists run to a thousand items, and a printf per item was most
 * of the cost of fingerprinting one (and now the raw forms are rebuilt on
 * every output).
 */
struct out {
	char *p;
	size_t len;
};

static bool out_new(struct out *o, size_t max)
{
	o->len = 0;
	o->p = malloc(max + 1);
	if (o->p)
		o->p[0] = 0;
	return o->p != NULL;
}

static void put_c(struct out *o, char c)
{
	o->p[o->len++] = c;
	o->p[o->len] = 0;
}

static void put_s(struct out *o, const char *s, size_t n)
{
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = 0;
}

static void put_dec(struct out *o, unsigned v)
{
	char t[12];
	size_t n = 0;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		o->p[o->len++] = t[--n];
	o->p[o->len] = 0;
}

static void put_hex4(struct out *o, uint16_t v)
{
	static const char hx[] = "0123456789abcdef";

	o->p[o->len++] = hx[v >> 12];
	o->p[o->len++] = hx[(v >> 8) & 15];
	o->p[o->len++] = hx[(v >> 4) & 15];
	o->p[o->len++] = hx[v & 15];
	o->p[o->len] = 0;
}

/* '-'-joined decimals (JA3) */
static void dec_list(struct out *o, const uint16_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			put_c(o, '-');
		put_dec(o, v[i]);
	}
}

/* JA3's string: a heap string, NULL on allocation failure. */
static char *ja3_string(const struct fields *f)
{
	struct out o;

	/* "65535" and four commas, up to 6 characters a list item ("-" and
	 * 5 digits), 4 a point format */
	if (!out_new(&o, 9 + 6 * (f->nc + f->ne + f->ng) + 4 * f->nf))
		return NULL;
	put_dec(&o, f->legacy_version);
	put_c(&o, ',');
	dec_list(&o, f->ciphers, f->nc);
	put_c(&o, ',');
	dec_list(&o, f->exts, f->ne);
	put_c(&o, ',');
	dec_list(&o, f->groups, f->ng);
	put_c(&o, ',');
	for (size_t i = 0; i < f->nf; i++) {
		if (i)
			put_c(&o, '-');
		put_dec(&o, f->formats[i]);
	}
	return o.p;
}

/* Ascending u16 sort: two counting passes (a hostile list has a thousand
 * items; a comparison sort cost as much as the hashing). tmp holds n. */
static void sort_u16(uint16_t *v, uint16_t *tmp, size_t n)
{
	size_t cnt[256], i, sum;

	for (int pass = 0; pass < 2; pass++) {
		uint16_t *src = pass ? tmp : v, *dst = pass ? v : tmp;
		int sh = pass * 8;

		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < n; i++)
			cnt[(src[i] >> sh) & 0xff]++;
		for (i = 0, sum = 0; i < 256; i++) {
			size_t c = cnt[i];

			cnt[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[cnt[(src[i] >> sh) & 0xff]++] = src[i];
	}
}

static const char *ja4_version(const struct tls_hello *h)
{
	uint16_t v = 0;
	size_t i;

	for (i = 0; i < h->n_versions; i++)
		if (!hs_is_grease(h->versions[i]) && h->versions[i] > v)
			v = h->versions[i];
	if (!v)
		v = h->legacy_version;
	switch (v) {
	case 0x0304: return "13";
	case 0x0303: return "12";
	case 0x0302: return "11";
	case 0x0301: return "10";
	case 0x0300: return "s3";
	case 0x0200: return "s2";
	case 0x0100: return "s1";
	case 0xfeff: return "d1";
	case 0xfefd: return "d2";
	case 0xfefc: return "d3";
	}
	return "00";
}

static void ja4_alpn(const struct tls_hello *h, char out[3])
{
	const uint8_t *a = h->alpn_first;
	size_t n = h->alpn_first_len;

	if (!h->has_alpn || n == 0) {
		strcpy(out, "00");
		return;
	}
	if (a[0] < 0x80 && a[n - 1] < 0x80 && isalnum(a[0]) &&
	    isalnum(a[n - 1])) {
		out[0] = (char)a[0];
		out[1] = (char)a[n - 1];
	} else {
		/* FoxIO's reference implementation prints "99" for a value
		 * that does not start and end with an ASCII alphanumeric
		 * (the reference outputs we check against). */
		out[0] = out[1] = '9';
	}
	out[2] = 0;
}

/* A comma-joined hex list. */
static void hex_list(struct out *o, const uint16_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			put_c(o, ',');
		put_hex4(o, v[i]);
	}
}

static void hash12(const char *s, char *out)
{
	if (!*s)
		strcpy(out, "000000000000");
	else
		digest_hex(EVP_sha256(), s, out, 12);
}

/* The two lists of a JA4 variant, sorted (JA4) or in wire order (JA4_o):
 * cs the ciphers, es the extensions (then "_" and the signature
 * algorithms); *n_hashed counts the extensions besides SNI and ALPN.
 * Heap strings (the caller frees both); -1 on allocation failure. */
static int ja4_lists(const struct fields *f, bool sorted, struct out *cs,
		     struct out *es, size_t *n_hashed)
{
	size_t nmax = f->nc > f->ne ? f->nc : f->ne;
	uint16_t *ciph = malloc((f->nc + 1) * sizeof(*ciph));
	uint16_t *ext = malloc((f->ne + 1) * sizeof(*ext));
	uint16_t *tmp = malloc((nmax + 1) * sizeof(*tmp));
	size_t ne = 0, i;
	int rc = -1;

	*n_hashed = 0;
	cs->p = es->p = NULL;
	if (!ciph || !ext || !tmp || !out_new(cs, 5 * f->nc) ||
	    !out_new(es, 5 * (f->ne + f->ns) + 1))
		goto out;
	memcpy(ciph, f->ciphers, f->nc * sizeof(*ciph));
	for (i = 0; i < f->ne; i++) {
		uint16_t t = f->exts[i];

		if (t != 0x0000 && t != 0x0010)
			(*n_hashed)++;
		else if (sorted)
			continue;
		ext[ne++] = t;
	}
	if (sorted) {
		sort_u16(ciph, tmp, f->nc);
		sort_u16(ext, tmp, ne);
	}
	hex_list(cs, ciph, f->nc);
	hex_list(es, ext, ne);
	if (f->ns && ne) {
		put_c(es, '_');
		hex_list(es, f->sigs, f->ns);
	}
	rc = 0;
out:
	if (rc) {
		free(cs->p);
		free(es->p);
		cs->p = es->p = NULL;
	}
	free(ciph);
	free(ext);
	free(tmp);
	return rc;
}

/* One hashed JA4 variant. */
static int ja4_hashed(const struct fields *f, const char *prefix, bool sorted,
		      char hashed[JA4_LEN])
{
	struct out cs, es;
	size_t n_hashed;
	char hc[13], he[13];

	if (ja4_lists(f, sorted, &cs, &es, &n_hashed))
		return -1;
	hash12(cs.p, hc);
	/* as the reference: no extensions besides SNI/ALPN hash to zeros, in
	 * the original-order variant too */
	hash12(n_hashed ? es.p : "", he);
	snprintf(hashed, JA4_LEN, "%s_%s_%s", prefix, hc, he);
	free(cs.p);
	free(es.p);
	return 0;
}

char *fp_raw(const uint8_t *packed, size_t len, const char *ja4,
	     enum fp_raw_kind kind)
{
	struct out cs, es, o = {NULL, 0};
	struct fields f;
	size_t n_hashed, plen;

	if (!fields_view(packed, len, &f))
		return NULL;
	if (kind == FP_JA3_STR)
		return ja3_string(&f);
	if (ja4_lists(&f, kind == FP_JA4_R, &cs, &es, &n_hashed))
		return NULL;
	/* the prefix is the hashed form's (prefix_hash_hash) */
	plen = strcspn(ja4, "_");
	if (out_new(&o, plen + cs.len + es.len + 2)) {
		put_s(&o, ja4, plen);
		put_c(&o, '_');
		put_s(&o, cs.p, cs.len);
		put_c(&o, '_');
		put_s(&o, es.p, es.len);
	}
	free(cs.p);
	free(es.p);
	return o.p;
}

#define FP_MEMO_SLOTS 64
#define FP_MEMO_FIELDS 1024 /* longer fields are hashed every time */

struct fp_memo_slot {
	uint16_t len; /* of fields; 0: empty */
	char prefix[16];
	char ja3[33];
	char ja4[JA4_LEN];
	char ja4_o[JA4_LEN];
	uint8_t fields[FP_MEMO_FIELDS];
};

struct fp_memo {
	struct hs_sipkey key;
	uint64_t hits;
	struct fp_memo_slot slot[FP_MEMO_SLOTS];
};

struct fp_memo *fp_memo_new(void)
{
	/* the slots' spread only: equal bytes decide, not the hash */
	static const struct hs_sipkey key = {0x6670, 0x6d656d6f};
	struct fp_memo *m = calloc(1, sizeof(*m));

	if (m)
		m->key = key;
	return m;
}

void fp_memo_free(struct fp_memo *m)
{
	free(m);
}

uint64_t fp_memo_hits(const struct fp_memo *m)
{
	return m->hits;
}

static struct fp_memo_slot *memo_slot(struct fp_memo *m, const char *prefix,
				      const uint8_t *packed, size_t len)
{
	uint64_t h;

	if (!m || len > FP_MEMO_FIELDS)
		return NULL;
	h = hs_siphash24(&m->key, packed, len) ^
	    hs_siphash24(&m->key, prefix, strlen(prefix));
	return &m->slot[h % FP_MEMO_SLOTS];
}

int fp_compute_hashed(const struct tls_hello *h, struct tls_fp *fp,
		      uint8_t *packed, size_t *packed_len, struct fp_memo *memo)
{
	size_t nc = 0, ne = 0, i;
	char prefix[16], alpn[3], *j3;
	struct fp_memo_slot *ms;
	struct fields f;
	int rc = 0;

	memset(fp, 0, sizeof(*fp));
	*packed_len = fp_fields_pack(h, packed);
	if (!fields_view(packed, *packed_len, &f))
		return -1;
	for (i = 0; i < h->n_ciphers; i++)
		nc += !hs_is_grease(h->ciphers[i]);
	for (i = 0; i < h->n_exts; i++)
		ne += !hs_is_grease(h->exts[i].type);
	ja4_alpn(h, alpn);
	snprintf(fp->tls_version, sizeof(fp->tls_version), "%s",
		 ja4_version(h));
	snprintf(prefix, sizeof(prefix), "t%s%c%02zu%02zu%s", fp->tls_version,
		 h->has_sni ? 'd' : 'i', nc > 99 ? 99 : nc, ne > 99 ? 99 : ne,
		 alpn);
	ms = memo_slot(memo, prefix, packed, *packed_len);
	if (ms && ms->len == *packed_len && !strcmp(ms->prefix, prefix) &&
	    !memcmp(ms->fields, packed, *packed_len)) {
		memcpy(fp->ja3, ms->ja3, sizeof(fp->ja3));
		memcpy(fp->ja4, ms->ja4, sizeof(fp->ja4));
		memcpy(fp->ja4_o, ms->ja4_o, sizeof(fp->ja4_o));
		memo->hits++;
		return 0;
	}
	j3 = ja3_string(&f);
	if (!j3)
		rc = -1;
	else
		digest_hex(EVP_md5(), j3, fp->ja3, 32);
	free(j3);
	if (rc || ja4_hashed(&f, prefix, true, fp->ja4) ||
	    ja4_hashed(&f, prefix, false, fp->ja4_o)) {
		memset(fp, 0, sizeof(*fp));
		return -1;
	}
	if (ms && *packed_len) {
		ms->len = (uint16_t)*packed_len;
		memcpy(ms->prefix, prefix, sizeof(ms->prefix));
		memcpy(ms->ja3, fp->ja3, sizeof(ms->ja3));
		memcpy(ms->ja4, fp->ja4, sizeof(ms->ja4));
		memcpy(ms->ja4_o, fp->ja4_o, sizeof(ms->ja4_o));
		memcpy(ms->fields, packed, *packed_len);
	}
	return 0;
}

int fp_compute(const struct tls_hello *h, struct tls_fp *fp)
{
	uint16_t packed[FP_FIELDS_MAX / 2]; /* u16: lists read in place */
	size_t len;

	if (fp_compute_hashed(h, fp, (uint8_t *)packed, &len, NULL))
		return -1;
	fp->ja3_str = fp_raw((uint8_t *)packed, len, fp->ja4, FP_JA3_STR);
	fp->ja4_r = fp_raw((uint8_t *)packed, len, fp->ja4, FP_JA4_R);
	fp->ja4_ro = fp_raw((uint8_t *)packed, len, fp->ja4, FP_JA4_RO);
	if (!fp->ja3_str || !fp->ja4_r || !fp->ja4_ro) {
		fp_free(fp);
		return -1;
	}
	return 0;
}

void fp_free(struct tls_fp *fp)
{
	free(fp->ja3_str);
	free(fp->ja4_r);
	free(fp->ja4_ro);
	memset(fp, 0, sizeof(*fp));
}

/* Would the kernel's walk take the item whose last byte lies at joined
 * offset x? 1 yes, 0 no: it stops there (capture or record cap), -1 no:
 * it gives up on the hello (more records than it follows). */
static int kernel_takes(const struct tls_hello *h, uint32_t x)
{
	size_t r, n = h->n_records < HELLO_MAX_RECMAP ? h->n_records
						      : HELLO_MAX_RECMAP;

	for (r = n; r-- > 1;)
		if (h->rec_join[r] <= x)
			break;
	if (r >= HS_HELLO_MAX_RECORDS) {
		/* the walk needs record header number MAX + 1: it gives up
		 * once that header is in, unless the capture ends first */
		if (h->rec_stream[HS_HELLO_MAX_RECORDS] <= HS_HELLO_CAP)
			return -1;
		return 0;
	}
	return h->rec_stream[r] + (x - h->rec_join[r]) + 1 <= HS_HELLO_CAP;
}

bool fp_tuple_acc(const struct tls_hello *h, struct hs_tuple_acc *acc)
{
	size_t i, j;
	int take;

	memset(acc, 0, sizeof(*acc));
	for (i = 0; i < h->n_ciphers; i++) {
		take = kernel_takes(h, h->cs_off + 2 * (uint32_t)i + 1);
		if (take <= 0)
			return take == 0;
		if (!hs_tuple_add_cipher(acc, h->ciphers[i]))
			return true;
	}
	/* the walk also reads the fields between the items (compression,
	 * the extensions' length, a message without extensions to its end):
	 * where they lie past the record bound, it gives up there */
	take = kernel_takes(h, h->fixed_end);
	if (take <= 0)
		return take == 0;
	for (i = 0; i < h->n_exts; i++) {
		take = kernel_takes(h, h->exts[i].offset + 3);
		if (take <= 0)
			return take == 0;
		if (!hs_tuple_add_ext(acc, h->exts[i].type))
			return true;
		if (h->exts[i].type != 0x0010 || !h->exts[i].body_len ||
		    acc->alpn_seen)
			continue;
		acc->alpn_seen = 1;
		for (j = 0; j < h->alpn_raw_len; j++) {
			take = kernel_takes(h, h->exts[i].offset + 4 +
						   (uint32_t)j);
			if (take <= 0)
				return take == 0;
			hs_tuple_add_alpn(acc, h->alpn_raw[j]);
		}
	}
	return true;
}
