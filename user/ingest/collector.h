/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Ring buffer consumer: reassembles ClientHello segments by flow and
 * offset, and keeps the fingerprints of each flow (bounded tables).
 *
 * Memory: a flow keeps a fixed 32-byte record (plus its table entry); what
 * a hello makes it keep beyond that is interned. Fingerprints (the hashed
 * JA3/JA4/JA4_o, the tuple accumulation, the client family, the ALPN list)
 * are one refcounted copy per distinct hello, never dropped. Strings a
 * sender chooses freely (the SNI, and the packed hello fields the raw JA3
 * string and JA4_r/JA4_ro are rebuilt from on demand) share a pool under
 * a byte budget: past it they are dropped (the hashes stay) and counted.
 * The bytes of the last max_inflight finished hellos are kept, so that a
 * resend of a hello's range (HS_SEG_RESEND) is compared with them.
 */
#ifndef HS_USER_COLLECTOR_H
#define HS_USER_COLLECTOR_H

#include <stdint.h>

#include "fingerprint/tls_fp.h"
#include "fingerprint/hello.h"
#include "hydrascope/abi.h"

/* Default byte budget of the string pool: ~20k distinct maximal hellos, or
 * hundreds of thousands of distinct SNIs of ordinary length. */
#define COLLECTOR_FP_BUDGET (64ull << 20)

/* A flow's fingerprint as its readers see it (collector_view). */
struct fp_view {
	enum hello_err err; /* HELLO_OK when the rest is valid */
	uint16_t segments;
	/* two versions of the hello's bytes were sent (the first ones
	 * received are the fingerprint): a decoy, whichever it was */
	bool conflict;
	uint8_t family;		 /* enum client_family */
	bool tuple_valid;	 /* userspace tuple accumulation done */
	struct hs_tuple_acc acc; /* the userspace mirror of the kernel's */
	char ja3[33];
	char ja4[JA4_LEN];
	char ja4_o[JA4_LEN];
	char tls_version[3];
	/* in the pools, valid until the next event */
	const char *sni;  /* NULL: dropped at the budget */
	const char *alpn; /* never dropped */
	uint32_t fields;  /* packed hello fields (pool id), 0: dropped */
};

struct collector_stats {
	uint64_t events;
	uint64_t bad_events; /* short or unknown events */
	uint64_t segments;
	uint64_t hellos;       /* parsed ClientHellos */
	uint64_t retry_hellos; /* ... of them second ones (HelloRetryRequest) */
	uint64_t retry_late;   /* second-hello bytes after it was parsed */
	/* first-hello bytes after it was parsed (the kernel read on where
	 * the collector saw the end): compared and kept with its copy */
	uint64_t late_segments;
	uint64_t hello_errors[HELLO_ERR_MAX];
	uint64_t reasm_evictions; /* hellos in progress pushed out */
	uint64_t kept_evictions;  /* finished hellos' bytes pushed out */
	uint64_t hello_conflicts; /* hellos sent with other bytes again */
	/* resends whose hello bytes were pushed out: flagged unchecked */
	uint64_t hello_resends_unchecked;
	uint64_t fp_evictions;	  /* fingerprint records pushed out */
	uint64_t fp_records;	  /* distinct fingerprints held */
	uint64_t fp_strings;	  /* distinct strings held */
	uint64_t fp_string_bytes; /* charged to the budget */
	uint64_t fp_string_budget;
	uint64_t fp_strings_dropped; /* SNI or fields past the budget */
};

struct collector;

struct collector *collector_new(size_t max_flows, size_t max_inflight);
void collector_free(struct collector *c);
/* The string pool's byte budget (default COLLECTOR_FP_BUDGET). */
void collector_set_fp_budget(struct collector *c, size_t bytes);
/* libbpf ring_buffer callback (ctx is the collector). */
int collector_on_event(void *ctx, void *data, size_t len);
/* The flow's fingerprint into *v; false when the collector has none. */
bool collector_view(const struct collector *c, const struct hs_flow_key *k,
		    struct fp_view *v);
/* The same for the flow's second hello (after a HelloRetryRequest). The
 * correlator clusters on the first: it is the client's own choice, the
 * second answers the server's (its group, a cookie). */
bool collector_view_retry(const struct collector *c,
			  const struct hs_flow_key *k, struct fp_view *v);
/* A raw form (JA3 string, JA4_r, JA4_ro) of a viewed fingerprint, built
 * from the packed fields: a heap string the caller frees, NULL when the
 * fields were dropped at the budget. */
char *collector_raw(const struct collector *c, const struct fp_view *v,
		    enum fp_raw_kind kind);
void collector_get_stats(const struct collector *c, struct collector_stats *s);
/* Give up on hellos still incomplete (end of a replay): parse what is there
 * so that truncated hellos are reported with their reason. */
void collector_flush(struct collector *c);

#endif
