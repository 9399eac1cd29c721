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

/* The userspace mirror of the kernel's tuple accumulation (tuple.h rules).
 * Returns false when the kernel would not produce an id (multi-record). */
bool fp_tuple_acc(const struct tls_hello *h, struct hs_tuple_acc *acc);

#endif
