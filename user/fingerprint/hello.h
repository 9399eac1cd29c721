/* SPDX-License-Identifier: BSD-2-Clause */
/* ClientHello parser: structure and the fields fingerprints need. */
#ifndef HS_USER_HELLO_H
#define HS_USER_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hydrascope/abi.h"

#define HELLO_MAX_LIST 1024
/* Records whose place in the stream is kept (the kernel walks at most
 * HS_HELLO_MAX_RECORDS; one more tells where it gives up). */
#define HELLO_MAX_RECMAP (HS_HELLO_MAX_RECORDS + 1)

struct hello_ext {
	uint16_t type;
	uint16_t body_len;
	uint32_t offset; /* of the extension header in the joined message */
};

struct tls_hello {
	uint16_t legacy_version;
	bool multi_record; /* handshake spans several TLS records */
	/* where the joined handshake message lies in the record stream: record
	 * r's payload starts at joined offset rec_join[r], stream offset
	 * rec_stream[r] (its header 5 bytes before) */
	size_t n_records; /* records the message spans (may exceed the map) */
	uint32_t rec_join[HELLO_MAX_RECMAP], rec_stream[HELLO_MAX_RECMAP];
	uint32_t cs_off; /* joined offset of the first cipher suite */
	/* joined offset of the last byte before the extension headers (the
	 * extensions' length; with none, the message's last byte): the walk
	 * reads that far before its ids can be done */
	uint32_t fixed_end;
	/* the first ALPN extension's body, as the TLS id takes it */
	uint8_t alpn_raw[HS_ALPN_BYTES];
	size_t alpn_raw_len;
	size_t n_ciphers, n_exts, n_groups, n_ec_formats, n_sig_algs,
	    n_versions;
	uint16_t ciphers[HELLO_MAX_LIST];
	struct hello_ext exts[HELLO_MAX_LIST];
	uint16_t groups[HELLO_MAX_LIST];
	uint8_t ec_formats[256];
	uint16_t sig_algs[HELLO_MAX_LIST];
	uint16_t versions[128];
	bool has_sni;
	char sni[256]; /* printable form of the first host_name */
	bool has_alpn;
	uint8_t alpn_first[255];
	size_t alpn_first_len;
	char alpn[512];	  /* all ALPN values, printable, comma-separated */
	unsigned bad_ext; /* extensions whose body did not parse (kept going) */
};

enum hello_err {
	HELLO_OK = 0,
	HELLO_INCOMPLETE, /* more bytes needed */
	HELLO_NOT_TLS,	  /* not a handshake record */
	HELLO_NOT_CH,	  /* handshake but not a ClientHello */
	HELLO_BAD_LENGTH, /* a length field points outside its container */
	HELLO_TOO_MANY,	  /* a list longer than HELLO_MAX_LIST */
	HELLO_ERR_MAX
};

const char *hello_strerror(enum hello_err e);

/* Bytes of record stream needed to hold the complete ClientHello; 0 if
 * unknown yet (its handshake header, which may span records, not all
 * there); HELLO_NEVER if no bytes to come can complete one (not a hello, a
 * record longer than 2^14 or of another type mid-message, a message longer
 * than any hello): parse it as it is. Empty records are skipped. */
#define HELLO_NEVER SIZE_MAX
size_t hello_needed(const uint8_t *buf, size_t len);

/* Parse a ClientHello from the record stream starting at its first record
 * header. h is fully overwritten. */
enum hello_err hello_parse(const uint8_t *buf, size_t len, struct tls_hello *h);

#endif
