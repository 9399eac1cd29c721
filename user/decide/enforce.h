/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reconcile loop: keeps the datapath's blocklist and tuple_rules maps equal
 * to the policy's desired set. Each round writes what is pending (batched
 * updates), deletes what the policy no longer wants, and now and then
 * verifies the whole map: an entry it wrote that is gone was removed by an
 * operator (block del, allow add) and is dropped from the desired set; an
 * indicator entry nobody wants (a previous run's) is deleted; a failed
 * write is retried, never lost silently. Manual blocks are not touched.
 */
#ifndef HS_USER_ENFORCE_H
#define HS_USER_ENFORCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct policy;

struct enforce_fds {
	int blocklist, tuple_rules, hint, allowlist;
	int cuts; /* the datapath's cut flows; <= 0: none */
};

struct enforce_stats {
	uint64_t rounds, verifies;
	uint64_t writes, deletes, write_failures;
	uint64_t lifted_outside; /* removed by an operator */
	uint64_t stale_removed;	 /* indicator entries nobody wanted */
	uint64_t cuts_expired;	 /* lapsed cut flows removed (verify) */
	size_t desired_blocks, enforced_blocks;
	size_t desired_rules, enforced_rules;
	size_t manual_blocks;
	size_t active_blocks; /* unexpired entries, any reason (verify) */
};

struct enforcer;

struct enforcer *enforcer_new(const struct enforce_fds *fds);
void enforcer_free(struct enforcer *e);
/* Take over the indicator entries the maps already hold (a restart keeps
 * its blocks). Returns how many were adopted. */
size_t enforcer_adopt(struct enforcer *e, struct policy *p, uint64_t now_ns);
/* One round at now_ns (datapath clock); verify reads the whole maps. */
void enforcer_reconcile(struct enforcer *e, struct policy *p, uint64_t now_ns,
			bool verify);
void enforcer_get_stats(const struct enforcer *e, struct enforce_stats *s);

#endif
