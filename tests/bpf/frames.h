/* SPDX-License-Identifier: BSD-2-Clause */
/* Crafted frames for datapath tests. */
#ifndef HS_TEST_FRAMES_H
#define HS_TEST_FRAMES_H

#include <stddef.h>
#include <stdint.h>

/* An outer header that wraps the frame's IP packet, as an L4 load
 * balancer sends it on. */
enum frame_encap {
	ENCAP_IPIP = 1, /* protocol 4 or 41 */
	ENCAP_GRE,	/* with gre_flags (checksum, key, sequence) */
	ENCAP_GUE,	/* UDP to port, variant 1: the bare inner packet */
	ENCAP_GUE_V0,	/* UDP to port, a 4-byte GUE header first */
};

struct encap_spec {
	enum frame_encap kind;
	int ipv6;		  /* outer IPv6 */
	const uint8_t *src, *dst; /* outer addresses, 4 or 16 bytes */
	uint16_t gre_flags;
	uint16_t port; /* GUE */
};

struct frame_spec {
	int vlan_tags;		  /* 0..3 */
	int ipv6;		  /* 0: IPv4, 1: IPv6 */
	int v6_ext;		  /* IPv6 extension headers before TCP */
	int v4_opt_words;	  /* IPv4 option words (4 bytes each) */
	int frag;		  /* set MF on IPv4 / a fragment header on v6 */
	uint8_t l4proto;	  /* 0 -> TCP (6) */
	const uint8_t *src, *dst; /* 4 or 16 bytes */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *opts; /* TCP options, padded by the caller */
	size_t opts_len;
	const uint8_t *payload;
	size_t payload_len;
	uint8_t ttl;
	const struct encap_spec *encap; /* NULL: not encapsulated */
};

/* Writes the frame into buf (cap bytes) and returns its length. */
size_t frame_build(const struct frame_spec *s, uint8_t *buf, size_t cap);

/* A ClientHello record with the given cipher suites and extensions (each
 * extension gets body_len bytes of zeros, sig_algs and ALPN are added). */
size_t hello_build(uint8_t *buf, size_t cap, const uint16_t *ciphers, size_t nc,
		   const uint16_t *exts, size_t ne, size_t body_len);

#endif
