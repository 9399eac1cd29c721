/* SPDX-License-Identifier: BSD-2-Clause */
/* TLS client fingerprints from a parsed ClientHello: JA3 (Salesforce spec)
 * and JA4 with its raw and original-order forms (FoxIO spec, BSD part). */
#ifndef HS_USER_FINGERPRINT_H
#define HS_USER_FINGERPRINT_H

#include "fingerprint/hello.h"
#include "hydrascope/abi.h"

#define JA4_LEN 37 /* 36 characters + NUL */

struct tls_fp {
	char ja3[33];  /* md5 hex */
	char *ja3_str; /* full JA3 string (heap) */
	char ja4[JA4_LEN];
	char ja4_o[JA4_LEN];
	char *ja4_r;  /* heap */
	char *ja4_ro; /* heap */
	char tls_version[3];
};

/* Returns 0, or -1 on allocation failure (fp left empty). */
int fp_compute(const struct tls_hello *h, struct tls_fp *fp);
void fp_free(struct tls_fp *fp);

/* The raw forms need not be kept: the hello fields they are made of pack
 * into a few hundred bytes (FP_FIELDS_MAX at most), and fp_raw() turns
 * those back into exactly the strings fp_compute() makes. */
#define FP_FIELDS_MAX (12 + 2 * 4 * HELLO_MAX_LIST + 256)

enum fp_raw_kind {
	FP_JA3_STR, /* JA3's string (before MD5) */
	FP_JA4_R,   /* JA4_r */
	FP_JA4_RO,  /* JA4_ro */
};

/* Recent hashed forms by their packed fields and JA4 prefix: a client
 * stack sends the same fields on every connection (a farm's thousands, a
 * browser's tabs), so most hellos need no MD5 and SHA-256. A fixed number
 * of slots; a slot is used only when its bytes are equal. */
struct fp_memo;
struct fp_memo *fp_memo_new(void);
void fp_memo_free(struct fp_memo *m);
/* Hellos the memo answered. */
uint64_t fp_memo_hits(const struct fp_memo *m);

/* The hashed forms (ja3, ja4, ja4_o, tls_version; the raw pointers stay
 * NULL) and the packed fields into packed (FP_FIELDS_MAX bytes, 2-byte
 * aligned), their length in *packed_len; through memo if not NULL.
 * Returns 0 or -1 (fp empty). */
int fp_compute_hashed(const struct tls_hello *h, struct tls_fp *fp,
		      uint8_t *packed, size_t *packed_len,
		      struct fp_memo *memo);
/* Pack the fields only; returns their length. */
size_t fp_fields_pack(const struct tls_hello *h, uint8_t *packed);
/* One raw form from packed fields (2-byte aligned) and the flow's JA4 (for
 * its prefix): a heap string the caller frees, NULL on failure. */
char *fp_raw(const uint8_t *packed, size_t len, const char *ja4,
	     enum fp_raw_kind kind);

/* The userspace mirror of the kernel's tuple accumulation (tuple.h rules).
 * Returns false when the kernel would not produce an id (multi-record). */
bool fp_tuple_acc(const struct tls_hello *h, struct hs_tuple_acc *acc);

#endif
