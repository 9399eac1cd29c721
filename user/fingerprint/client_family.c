// SPDX-License-Identifier: BSD-2-Clause
/*
 * TLS client family from structural markers of the ClientHello, not from a
 * list of hashes: a new browser or library version keeps its family's
 * markers while its JA4 changes. The markers, in the order they are tested:
 *
 *  GREASE (RFC 8701) in the cipher or extension list: BoringSSL and Apple.
 *    - ALPS (0x4469 or 0x44cd): Chromium (Chrome 91+, Edge, Brave, Opera,
 *      Electron). Seen in ../shared/testdata (tls3, http2-with-cookies,
 *      debian-clients Chromium 156).
 *    - ECDHE CBC-SHA suites (0xc008-0xc00a) without ALPS: Apple's stack
 *      (Safari/URLSession keep them; Chromium dropped them in 2020).
 *    - otherwise Chromium (pre-ALPS builds).
 *  No GREASE:
 *    - TLS_AES_128_CCM_SHA256 (0x1304): GnuTLS, the only common client
 *      stack that offers CCM by default (debian-clients gnutls-cli; it
 *      also sends record_size_limit, so this test comes first).
 *    - record_size_limit (0x001c): NSS, Firefox (debian-clients Firefox
 *      ESR, tls12.pcap contile.services.mozilla.com).
 *    - signature_algorithms_cert (0x0032): Java's JSSE (11+).
 *    - TLS 1.3 suites offered after TLS 1.2 ones: Go's crypto/tls, which
 *      appends its TLS 1.3 suites to the list.
 *    - TLS 1.3 without any ChaCha20 suite: Windows SChannel.
 *    - encrypt_then_mac (0x0016): OpenSSL (curl, wget, python, node,
 *      openssl s_client; debian-clients curl and s_client).
 *    - TLS 1.3 suites with the ECDHE 3DES ones (0xc008/0xc012): Apple's
 *      SecureTransport (macos_tcp_flags.pcap, from a macOS SYN). TLS 1.2
 *      clients with 3DES are left out: OpenSSL 1.0 offered them too
 *      (https-connect.pcap), and a wrong "Apple" would be a false strong
 *      mismatch.
 *    - otherwise "other".
 */
#include "fingerprint/client_family.h"

#include <stdint.h>
#include <string.h>

#include "fingerprint/hello.h"
#include "hydrascope/tuple.h"

static const char *const family_names[FAM_COUNT] = {
    [FAM_UNKNOWN] = "unknown",	 [FAM_CHROMIUM] = "chromium",
    [FAM_FIREFOX] = "firefox",	 [FAM_SAFARI] = "safari",
    [FAM_SCHANNEL] = "schannel", [FAM_OPENSSL] = "openssl",
    [FAM_GNUTLS] = "gnutls",	 [FAM_GO] = "go",
    [FAM_JAVA] = "java",	 [FAM_OTHER] = "other",
};

const char *client_family_name(enum client_family f)
{
	return f < FAM_COUNT ? family_names[f] : "unknown";
}

enum client_family client_family_parse(const char *name)
{
	for (int f = 0; f < FAM_COUNT; f++)
		if (!strcmp(family_names[f], name))
			return (enum client_family)f;
	return FAM_COUNT;
}

static bool has_ext(const struct tls_hello *h, uint16_t t)
{
	for (size_t i = 0; i < h->n_exts; i++)
		if (h->exts[i].type == t)
			return true;
	return false;
}

static bool has_cipher(const struct tls_hello *h, uint16_t c)
{
	for (size_t i = 0; i < h->n_ciphers; i++)
		if (h->ciphers[i] == c)
			return true;
	return false;
}

static bool has_grease(const struct tls_hello *h)
{
	for (size_t i = 0; i < h->n_ciphers; i++)
		if (hs_is_grease(h->ciphers[i]))
			return true;
	for (size_t i = 0; i < h->n_exts; i++)
		if (hs_is_grease(h->exts[i].type))
			return true;
	return false;
}

static bool is_tls13_suite(uint16_t c)
{
	return c >= 0x1301 && c <= 0x1305;
}

/* TLS 1.3 suites present, and a TLS 1.2 suite listed before the first. */
static bool tls13_suites_last(const struct tls_hello *h)
{
	bool seen12 = false;

	for (size_t i = 0; i < h->n_ciphers; i++) {
		uint16_t c = h->ciphers[i];

		if (hs_is_grease(c) || c == 0x00ff)
			continue;
		if (is_tls13_suite(c))
			return seen12;
		seen12 = true;
	}
	return false;
}

static bool offers_tls13(const struct tls_hello *h)
{
	for (size_t i = 0; i < h->n_ciphers; i++)
		if (is_tls13_suite(h->ciphers[i]))
			return true;
	return false;
}

static bool offers_chacha(const struct tls_hello *h)
{
	return has_cipher(h, 0x1303) || has_cipher(h, 0xcca8) ||
	       has_cipher(h, 0xcca9);
}

enum client_family client_family_of(const struct tls_hello *h)
{
	if (has_grease(h)) {
		if (has_ext(h, 0x4469) || has_ext(h, 0x44cd))
			return FAM_CHROMIUM;
		if (has_cipher(h, 0xc008) || has_cipher(h, 0xc009) ||
		    has_cipher(h, 0xc00a))
			return FAM_SAFARI;
		return FAM_CHROMIUM;
	}
	if (has_cipher(h, 0x1304))
		return FAM_GNUTLS;
	if (has_ext(h, 0x001c))
		return FAM_FIREFOX;
	if (has_ext(h, 0x0032))
		return FAM_JAVA;
	if (tls13_suites_last(h))
		return FAM_GO;
	if (offers_tls13(h) && !offers_chacha(h))
		return FAM_SCHANNEL;
	if (has_ext(h, 0x0016))
		return FAM_OPENSSL;
	if (offers_tls13(h) && (has_cipher(h, 0xc008) || has_cipher(h, 0xc012)))
		return FAM_SAFARI;
	return FAM_OTHER;
}

/*
 * Rows: family; columns: OS class. 0 = plausible. Browsers run everywhere
 * that matters; Apple's stack only on Apple systems, SChannel only on
 * Windows; script libraries and servers' TLS live on Unix-likes and are
 * unusual (not impossible) behind a Windows desktop stack. Network gear
 * (initial TTL 255) does not run browsers.
 */
static const double implausible[FAM_COUNT][OS_COUNT] = {
    [FAM_CHROMIUM] = {[OS_OTHER] = 0.7},
    [FAM_FIREFOX] = {[OS_OTHER] = 0.7},
    [FAM_SAFARI] = {[OS_LINUX] = 0.9,
		    [OS_WINDOWS] = 0.9,
		    [OS_BSD] = 0.9,
		    [OS_OTHER] = 0.9},
    [FAM_SCHANNEL] = {[OS_LINUX] = 0.9,
		      [OS_APPLE] = 0.9,
		      [OS_BSD] = 0.9,
		      [OS_OTHER] = 0.9,
		      [OS_UNIX] = 0.7},
    [FAM_OPENSSL] = {[OS_WINDOWS] = 0.5},
    [FAM_GNUTLS] = {[OS_WINDOWS] = 0.6, [OS_APPLE] = 0.4},
    [FAM_GO] = {[OS_WINDOWS] = 0.5},
    [FAM_JAVA] = {[OS_WINDOWS] = 0.4},
};

double stack_implausibility(enum client_family f, enum os_class c)
{
	if (f >= FAM_COUNT || c >= OS_COUNT)
		return 0;
	return implausible[f][c];
}
