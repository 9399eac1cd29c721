/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Ring buffer consumer: reassembles ClientHello segments by flow and
 * offset, and keeps the fingerprints of each flow (bounded tables).
 */
#ifndef HS_USER_COLLECTOR_H
#define HS_USER_COLLECTOR_H

#include <stdint.h>

#include "fingerprint/tls_fp.h"
#include "fingerprint/hello.h"
#include "hydrascope/abi.h"

struct flow_fp {
	uint64_t ts_ns;	    /* first hello segment */
	enum hello_err err; /* HELLO_OK when fp is valid */
	struct tls_fp fp;
	char sni[256];
	char alpn[128];
	uint8_t family;		 /* enum client_family */
	bool tuple_valid;	 /* userspace tuple accumulation done */
	struct hs_tuple_acc acc; /* the userspace mirror of the kernel's */
	uint16_t segments;
};

struct collector_stats {
	uint64_t events;
	uint64_t bad_events; /* short or unknown events */
	uint64_t segments;
	uint64_t hellos; /* parsed ClientHellos */
	uint64_t hello_errors[HELLO_ERR_MAX];
	uint64_t reasm_evictions; /* hellos in progress pushed out */
	uint64_t fp_evictions;	  /* fingerprint records pushed out */
};

struct collector;

struct collector *collector_new(size_t max_flows, size_t max_inflight);
void collector_free(struct collector *c);
/* libbpf ring_buffer callback (ctx is the collector). */
int collector_on_event(void *ctx, void *data, size_t len);
const struct flow_fp *collector_lookup(const struct collector *c,
				       const struct hs_flow_key *k);
void collector_get_stats(const struct collector *c, struct collector_stats *s);
/* Give up on hellos still incomplete (end of a replay): parse what is there
 * so that truncated hellos are reported with their reason. */
void collector_flush(struct collector *c);

#endif
