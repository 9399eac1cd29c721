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
#include "lib/sbuf.h"

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

static void ja3(const struct tls_hello *h, struct tls_fp *fp)
{
	struct sbuf sb = {0};
	const char *sep;
	size_t i;

	sb_printf(&sb, "%u,", h->legacy_version);
	for (sep = "", i = 0; i < h->n_ciphers; i++)
		if (!hs_is_grease(h->ciphers[i])) {
			sb_printf(&sb, "%s%u", sep, h->ciphers[i]);
			sep = "-";
		}
	sb_printf(&sb, ",");
	for (sep = "", i = 0; i < h->n_exts; i++)
		if (!hs_is_grease(h->exts[i].type)) {
			sb_printf(&sb, "%s%u", sep, h->exts[i].type);
			sep = "-";
		}
	sb_printf(&sb, ",");
	for (sep = "", i = 0; i < h->n_groups; i++)
		if (!hs_is_grease(h->groups[i])) {
			sb_printf(&sb, "%s%u", sep, h->groups[i]);
			sep = "-";
		}
	sb_printf(&sb, ",");
	for (sep = "", i = 0; i < h->n_ec_formats; i++) {
		sb_printf(&sb, "%s%u", sep, h->ec_formats[i]);
		sep = "-";
	}
	digest_hex(EVP_md5(), sb_str(&sb), fp->ja3, 32);
	fp->ja3_str = strdup(sb_str(&sb));
	sb_free(&sb);
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
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

/* Append a comma-joined hex list to sb. */
static void hex_list(struct sbuf *sb, const uint16_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sb_printf(sb, "%s%04x", i ? "," : "", v[i]);
}

static void hash12(const char *s, char *out)
{
	if (!*s)
		strcpy(out, "000000000000");
	else
		digest_hex(EVP_sha256(), s, out, 12);
}

/* One JA4 variant: sorted (JA4) or original order (JA4_o). */
static char *ja4_variant(const struct tls_hello *h, const char *prefix,
			 bool sorted, char hashed[JA4_LEN])
{
	uint16_t *ciph = calloc(h->n_ciphers + 1, sizeof(*ciph));
	uint16_t *ext = calloc(h->n_exts + 1, sizeof(*ext));
	uint16_t *sig = calloc(h->n_sig_algs + 1, sizeof(*sig));
	struct sbuf cs = {0}, es = {0}, raw = {0};
	size_t nc = 0, ne = 0, ns = 0, n_hashed = 0, i;
	char hc[13], he[13];
	char *out = NULL;

	if (!ciph || !ext || !sig)
		goto out;
	for (i = 0; i < h->n_ciphers; i++)
		if (!hs_is_grease(h->ciphers[i]))
			ciph[nc++] = h->ciphers[i];
	for (i = 0; i < h->n_exts; i++) {
		uint16_t t = h->exts[i].type;

		if (hs_is_grease(t))
			continue;
		if (t != 0x0000 && t != 0x0010)
			n_hashed++;
		else if (sorted)
			continue;
		ext[ne++] = t;
	}
	for (i = 0; i < h->n_sig_algs; i++)
		if (!hs_is_grease(h->sig_algs[i]))
			sig[ns++] = h->sig_algs[i];
	if (sorted) {
		qsort(ciph, nc, sizeof(*ciph), cmp_u16);
		qsort(ext, ne, sizeof(*ext), cmp_u16);
	}
	hex_list(&cs, ciph, nc);
	hex_list(&es, ext, ne);
	if (ns && ne) {
		sb_printf(&es, "_");
		hex_list(&es, sig, ns);
	}
	hash12(sb_str(&cs), hc);
	/* as the reference: no extensions besides SNI/ALPN hash to zeros,
	 * in the original-order variant too */
	hash12(n_hashed ? sb_str(&es) : "", he);
	snprintf(hashed, JA4_LEN, "%s_%s_%s", prefix, hc, he);
	sb_printf(&raw, "%s_%s_%s", prefix, sb_str(&cs), sb_str(&es));
	if (!sb_failed(&cs) && !sb_failed(&es) && !sb_failed(&raw))
		out = strdup(sb_str(&raw));
out:
	free(ciph);
	free(ext);
	free(sig);
	sb_free(&cs);
	sb_free(&es);
	sb_free(&raw);
	return out;
}

static void ja4(const struct tls_hello *h, struct tls_fp *fp)
{
	size_t nc = 0, ne = 0, i;
	char prefix[16], alpn[3];

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
	fp->ja4_r = ja4_variant(h, prefix, true, fp->ja4);
	fp->ja4_ro = ja4_variant(h, prefix, false, fp->ja4_o);
}

int fp_compute(const struct tls_hello *h, struct tls_fp *fp)
{
	memset(fp, 0, sizeof(*fp));
	ja3(h, fp);
	ja4(h, fp);
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
