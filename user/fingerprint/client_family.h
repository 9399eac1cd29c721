/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TLS client family of a ClientHello (the TLS library of the real client)
 * and the operating systems each family plausibly runs on. A relay passes
 * the hello end to end while TCP ends at the relay, so the family and the
 * SYN's OS class can disagree: that is the stack_mismatch signal.
 */
#ifndef HS_USER_CLIENT_FAMILY_H
#define HS_USER_CLIENT_FAMILY_H

#include "fingerprint/os_class.h"

struct tls_hello;

enum client_family {
	FAM_UNKNOWN = 0, /* no hello parsed */
	FAM_CHROMIUM,	 /* BoringSSL in Chrome, Edge, Brave, Electron */
	FAM_FIREFOX,	 /* NSS */
	FAM_SAFARI,	 /* Apple's stack (Safari, URLSession) */
	FAM_SCHANNEL,	 /* Windows' native TLS */
	FAM_OPENSSL,	 /* curl, wget, python, node, openssl s_client */
	FAM_GNUTLS,
	FAM_GO,	  /* crypto/tls */
	FAM_JAVA, /* JSSE */
	FAM_OTHER,
	FAM_COUNT
};

enum client_family client_family_of(const struct tls_hello *h);
const char *client_family_name(enum client_family f);
/* Parse a family name; returns FAM_COUNT if it is not one. */
enum client_family client_family_parse(const char *name);

/*
 * How implausible it is that a client of family f runs on an OS of class c,
 * from 0 (plausible, or nothing to say) to 1. Apple-only and Windows-only
 * stacks on another OS are strong signs; a script library (curl, python,
 * Go, Java) on a Windows TCP stack is a weaker one.
 */
double stack_implausibility(enum client_family f, enum os_class c);

#endif
