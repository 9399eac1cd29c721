// SPDX-License-Identifier: BSD-2-Clause
/*
 * A ClientHello of each TLS client family, carrying the markers
 * user/fingerprint/client_family.c reads: the classifier's own test and the
 * correlator fixture build their hellos from these one lists.
 */
#ifndef HS_TEST_FAMILY_HELLOS_H
#define HS_TEST_FAMILY_HELLOS_H

#include <stddef.h>
#include <stdint.h>

#include "fingerprint/client_family.h"
#include "frames.h"

/* Writes family fam's hello into buf; FAM_OTHER gives a TLS 1.2 hello with
 * 3DES, which must not be called Apple (OpenSSL 1.0 offered 3DES too).
 * Returns its length, 0 for a family without a list. */
static inline size_t family_hello(enum client_family fam, uint8_t *buf,
				  size_t cap)
{
	static const uint16_t chrome_c[] = {0x2a2a, 0x1301, 0x1302, 0x1303,
					    0xc02b};
	static const uint16_t chrome_e[] = {0x3a3a, 0x0000, 0x000a, 0x4469};
	static const uint16_t safari_c[] = {0x4a4a, 0x1301, 0xc00a, 0xc009};
	static const uint16_t safari_e[] = {0x5a5a, 0x0000, 0x000a};
	static const uint16_t ff_c[] = {0x1301, 0x1303, 0x1302, 0xc02b};
	static const uint16_t ff_e[] = {0x0000, 0x000a, 0x001c, 0x0022};
	static const uint16_t gnutls_c[] = {0x1302, 0x1303, 0x1301, 0x1304};
	static const uint16_t gnutls_e[] = {0x000a, 0x0016, 0x001c};
	static const uint16_t go_c[] = {0xc02b, 0xc02f, 0x1301, 0x1302};
	static const uint16_t go_e[] = {0x0000, 0x000a, 0x000d};
	static const uint16_t sch_c[] = {0x1302, 0x1301, 0xc02c, 0xc02b};
	static const uint16_t sch_e[] = {0x0000, 0x000a, 0x0017};
	static const uint16_t ossl_c[] = {0x1302, 0x1303, 0x1301, 0xc02c};
	static const uint16_t ossl_e[] = {0x0000, 0x000a, 0x0016, 0x0017};
	static const uint16_t java_e[] = {0x0000, 0x000a, 0x0032};
	static const uint16_t old_c[] = {0xc02f, 0xc012, 0x000a};
	static const uint16_t old_e[] = {0x0000, 0x000a};
#define FH(c, e) hello_build(buf, cap, c, sizeof(c) / 2, e, sizeof(e) / 2, 0)

	switch (fam) {
	case FAM_CHROMIUM: return FH(chrome_c, chrome_e);
	case FAM_SAFARI: return FH(safari_c, safari_e);
	case FAM_FIREFOX: return FH(ff_c, ff_e);
	case FAM_GNUTLS: return FH(gnutls_c, gnutls_e);
	case FAM_GO: return FH(go_c, go_e);
	case FAM_SCHANNEL: return FH(sch_c, sch_e);
	case FAM_OPENSSL: return FH(ossl_c, ossl_e);
	case FAM_JAVA: return FH(ossl_c, java_e);
	case FAM_OTHER: return FH(old_c, old_e);
	default: return 0;
	}
#undef FH
}

#endif
