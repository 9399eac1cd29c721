/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The status page on the metrics port: GET / (one self-contained HTML
 * page: inline CSS, no script, no external asset) and GET /status.json
 * (the same data as one record, deploy/schema/status_page.json). Both are
 * rendered on the metrics thread from a snapshot that the main loop
 * publishes after each round (output/status_snapshot.h builds it): fixed
 * size, no pointer into a live table. Strings in it come from clients
 * (SNIs, JA4s, SYN signatures, addresses, evidence that quotes them): the
 * page escapes every one. Each table holds a bounded number of rows ("and
 * N more"), and the page a bounded number of bytes.
 */
#ifndef HS_USER_STATUS_PAGE_H
#define HS_USER_STATUS_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "correlate/correlate.h"
#include "hydrascope/abi.h"

struct sbuf;

#define STATUS_RECENT 20 /* latest indicators listed */
#define STATUS_BLOCKS 50 /* prefix blocks listed, newest first */
#define STATUS_RULES 20	 /* tuple rules listed, newest first */
#define STATUS_CUTS 10	 /* cut flows listed, latest packet first */
/* evidence, as JSON text: a cluster's; an indicator's takes half */
#define STATUS_EVIDENCE 1024
/* the page: far above what the capped tables make (~150 KB with every
 * string at its longest, all escaped), a bound all the same */
#define STATUS_PAGE_MAX_BYTES (512 * 1024)

struct status_cluster {
	struct cluster_detail d;
	uint32_t kinds; /* indicator kinds firing on it, last round (bits) */
	char evidence[STATUS_EVIDENCE]; /* its farm_cluster evidence, or "" */
};

struct status_indicator {
	uint64_t at_ns; /* wall clock */
	double score;
	uint64_t cluster_id;   /* 0: a source's */
	struct hs_addr source; /* the first it lists */
	uint32_t sources;
	uint8_t kind; /* enum ind_kind */
	char evidence[STATUS_EVIDENCE / 2];
};

struct status_block {
	struct hs_lpm_key key;
	uint64_t expires_ns; /* wall clock; 0: never */
	double score;
	uint32_t ttl_s;
	uint16_t offences;
	uint8_t reason; /* enum ind_kind or DECISION_* (decide/policy.h) */
	uint8_t state;	/* enum desired_state */
};

struct status_rule {
	uint64_t id;
	uint64_t expires_ns; /* wall clock; 0: never */
	double score;
	uint32_t ttl_s, min_gap_us, min_ack_hello_us;
	uint32_t low_ack_us, lead_max_us; /* the learned bound, 0: none */
	uint8_t kind;			  /* enum hs_rule_kind */
	uint8_t reason, state;
};

struct status_cut {
	struct hs_flow_key key;
	uint64_t rule_id;
	uint64_t last_ns; /* wall clock of its last client packet */
	uint8_t kind;	  /* enum hs_rule_kind */
};

struct status_page {
	char iface[32];
	bool enforce;
	uint64_t started_ns; /* wall clock */
	uint64_t round_ns;   /* wall clock of the last round; 0: none yet */
	uint64_t rounds;
	/* the largest clusters, farms first */
	struct status_cluster clusters[CORR_TOP_K];
	size_t n_clusters, clusters_total, farm_clusters;
	/* indicators raised in the last hour: by kind, and the latest */
	uint64_t hour[IND_COUNT];
	struct status_indicator recent[STATUS_RECENT]; /* newest first */
	size_t n_recent;
	/* decisions held */
	struct status_block blocks[STATUS_BLOCKS];
	size_t n_blocks, blocks_total, blocks_pending, manual_blocks;
	struct status_rule rules[STATUS_RULES];
	size_t n_rules, rules_total, rules_pending;
	/* the blocking layer: packets dropped or (dry-run) counted */
	uint64_t block_drops, block_would_drop, tuple_drops, tuple_would_drop;
	uint64_t tuple_cuts, tuple_gap_spared, evasive_cuts;
	struct status_cut cuts[STATUS_CUTS];
	size_t n_cuts, cuts_total;
	uint64_t evidence_omitted; /* evidence longer than its room, left out */
};

/* The page (HTML) into sb, at most about max_bytes: past that, rows are
 * left out and the page says how many. Returns how many were left out.
 * now_ns: wall clock. */
size_t status_page_html(const struct status_page *p, uint64_t now_ns,
			size_t max_bytes, struct sbuf *sb);
/* A held decision: "enforced", or in dry-run "would_drop" (the map holds
 * it), "pending" or "write_failed" (the reconcile has yet to write it). */
const char *status_state_name(bool enforce, uint8_t state);
/* Which id a tuple rule is on: "tls_id" or "tuple_id". */
const char *status_rule_on(uint8_t kind);

/* The same data as one JSON record ("type":"status_page", status_json.c);
 * the caller frees it. NULL when out of memory. */
char *status_page_json(const struct status_page *p, uint64_t now_ns);

#endif
