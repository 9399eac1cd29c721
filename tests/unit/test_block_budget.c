// SPDX-License-Identifier: BSD-2-Clause
/*
 * The policy's block budgets (issue 10, row 3): the overall cap, per /16 or
 * /48 and per round. At a full budget the weakest block (lowest score, then
 * soonest expiry) makes room for a stronger decision, a decision no
 * stronger than it is refused, and both are counted by budget.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "decide/policy.h"
#include "lib/addr.h"
#include "output/records.h"
#include "policy_feed.h"

static bool held(struct policy *p, const char *addr)
{
	struct block_key bk;
	struct cidr c;

	assert_int_equal(cidr_parse(addr, &c), 0);
	memset(&bk, 0, sizeof(bk));
	bk.k.prefixlen = addr_is_v4(&c.addr) ? 128 : 64;
	memcpy(bk.k.addr, c.addr.b, 16);
	if (bk.k.prefixlen == 64)
		memset(bk.k.addr + 8, 0, 8);
	return table_get(policy_blocks(p), &bk) != NULL;
}

static void end_round(struct policy *p)
{
	FILE *null = fopen("/dev/null", "w");
	struct record_out out = {.log = null, .max_listed = 10};

	assert_non_null(null);
	policy_flush(p, &out);
	fclose(null);
}

static struct policy *new_policy(unsigned cap, unsigned per_prefix,
				 unsigned per_round)
{
	struct corr_config cfg;
	struct policy *p;

	corr_config_defaults(&cfg);
	cfg.ttl_jitter_pct = 0;
	cfg.decide_residential_min_score = 0;
	cfg.max_blocks = cap;
	cfg.max_blocks_per_prefix = per_prefix;
	cfg.max_new_blocks_per_round = per_round;
	p = policy_new(&cfg);
	assert_non_null(p);
	return p;
}

/* A cap full of weak blocks does not lock a strong decision out. */
static void test_cap_evicts_weakest(void **state)
{
	struct policy *p = new_policy(10, 100, 100);
	struct policy_stats st;
	char a[32];

	(void)state;
	/* equal scores: the earlier decision expires first, the weaker */
	for (int i = 0; i < 10; i++) {
		snprintf(a, sizeof(a), "100.%d.0.1", 64 + i);
		feed(p, a, i == 3 ? 0.71 : 0.7, 100 + (uint64_t)i);
	}
	feed(p, "100.90.0.1", 0.95, 100);
	assert_true(held(p, "100.90.0.1"));
	assert_false(held(p, "100.64.0.1")); /* the weakest, the first */
	assert_true(held(p, "100.67.0.1"));
	/* no stronger than the weakest left (100.65.0.1): refused */
	feed(p, "100.91.0.1", 0.7, 100);
	assert_false(held(p, "100.91.0.1"));
	/* the same score later (fresher evidence) replaces the oldest */
	feed(p, "100.92.0.1", 0.7, 200);
	assert_true(held(p, "100.92.0.1"));
	policy_get_stats(p, &st);
	assert_int_equal(table_len(policy_blocks(p)), 10);
	assert_int_equal(st.evicted[BUDGET_CAP], 2);
	assert_int_equal(st.refused[BUDGET_CAP], 1);
	policy_free(p);
}

/* One /16 (or /48) holds at most max_blocks_per_prefix blocks. */
static void test_prefix_budget(void **state)
{
	struct policy *p = new_policy(100, 3, 100);
	struct policy_stats st;

	(void)state;
	feed(p, "100.64.1.1", 0.7, 100);
	feed(p, "100.64.2.1", 0.8, 100);
	feed(p, "100.64.3.1", 0.9, 100);
	feed(p, "100.64.4.1", 0.7, 100); /* no stronger than 100.64.1.1 */
	assert_false(held(p, "100.64.4.1"));
	feed(p, "100.64.5.1", 0.85, 100);
	assert_true(held(p, "100.64.5.1"));
	assert_false(held(p, "100.64.1.1"));
	feed(p, "100.65.1.1", 0.5, 100); /* another /16: room */
	assert_true(held(p, "100.65.1.1"));
	/* IPv6: a /48 is one group */
	feed(p, "2001:db8:1::1", 0.7, 100);
	feed(p, "2001:db8:1:1::1", 0.7, 100);
	feed(p, "2001:db8:1:2::1", 0.7, 100);
	feed(p, "2001:db8:1:3::1", 0.7, 100);
	assert_false(held(p, "2001:db8:1:3::1"));
	feed(p, "2001:db8:2::1", 0.7, 100);
	assert_true(held(p, "2001:db8:2::1"));
	policy_get_stats(p, &st);
	assert_int_equal(st.refused[BUDGET_PREFIX], 2);
	assert_int_equal(st.evicted[BUDGET_PREFIX], 1);
	/* expiry gives the room back */
	policy_expire(p, 100000 * HS_NS_PER_SEC);
	assert_int_equal(table_len(policy_blocks(p)), 0);
	feed(p, "100.64.6.1", 0.6, 100000);
	feed(p, "100.64.7.1", 0.6, 100000);
	feed(p, "100.64.8.1", 0.6, 100000);
	assert_true(held(p, "100.64.8.1"));
	policy_free(p);
}

/* At most max_new_blocks_per_round new blocks a round: the strongest. */
static void test_round_budget(void **state)
{
	struct policy *p = new_policy(100, 100, 2);
	struct policy_stats st;

	(void)state;
	feed(p, "100.64.0.1", 0.7, 100);
	feed(p, "100.65.0.1", 0.8, 100);
	feed(p, "100.66.0.1", 0.9, 100);
	feed(p, "100.67.0.1", 0.6, 100);
	assert_false(held(p, "100.64.0.1"));
	assert_true(held(p, "100.66.0.1"));
	assert_false(held(p, "100.67.0.1"));
	end_round(p);
	feed(p, "100.68.0.1", 0.6, 110);
	feed(p, "100.69.0.1", 0.6, 110);
	assert_true(held(p, "100.68.0.1") && held(p, "100.69.0.1"));
	/* a renewal is not a new block */
	feed(p, "100.66.0.1", 0.9, 110);
	policy_get_stats(p, &st);
	assert_int_equal(st.evicted[BUDGET_ROUND], 1);
	assert_int_equal(st.refused[BUDGET_ROUND], 1);
	assert_int_equal(st.renewals, 1);
	assert_int_equal(table_len(policy_blocks(p)), 4);
	policy_free(p);
}

/* Refusals use a lower bound on the weakest block; blocks that leave or
 * are renewed make it stale (too low), never wrong: a decision between
 * the bound and the true weakest is still refused, one above the true
 * weakest still evicts it. */
static void test_bound_after_changes(void **state)
{
	struct policy *p = new_policy(3, 100, 100);
	struct policy_stats st;

	(void)state;
	feed(p, "100.64.0.1", 0.7, 100);
	feed(p, "100.65.0.1", 0.8, 100);
	feed(p, "100.66.0.1", 0.9, 100);
	feed(p, "100.67.0.1", 0.6, 100); /* refused: the bound is exact now */
	/* the weakest renewed stronger: the bound (0.7) is stale */
	feed(p, "100.64.0.1", 0.95, 110);
	feed(p, "100.68.0.1", 0.75, 110); /* above the bound, below 0.8 */
	assert_false(held(p, "100.68.0.1"));
	feed(p, "100.69.0.1", 0.85, 110); /* evicts the 0.8 block */
	assert_true(held(p, "100.69.0.1"));
	assert_false(held(p, "100.65.0.1"));
	assert_true(held(p, "100.64.0.1"));
	policy_get_stats(p, &st);
	assert_int_equal(st.refused[BUDGET_CAP], 2);
	assert_int_equal(st.evicted[BUDGET_CAP], 1);
	policy_free(p);
}

/* A remote block (the fleet's, CrowdSec's) counts in its /16 like any
 * block: lifting it leaves the group's count right, so the group never
 * holds more than max_blocks_per_prefix (before: it was not counted, its
 * lift took a local block's place in the count, and the group took a
 * third block). */
static void test_remote_in_group(void **state)
{
	struct policy *p = new_policy(100, 2, 100);
	struct hs_lpm_key k = lpm("100.64.2.1/32");
	struct block_key bk = {.k = k};
	const uint64_t now = 100 * HS_NS_PER_SEC;

	(void)state;
	feed(p, "100.64.1.1", 0.7, 100);
	assert_int_equal(
	    policy_remote_block(p, &k, now + 60 * HS_NS_PER_SEC, 60, now),
	    REMOTE_APPLIED);
	policy_lift_block(p, &bk);
	feed(p, "100.64.3.1", 0.8, 100);
	feed(p, "100.64.4.1", 0.9, 100); /* the group is full: 1.1 goes */
	assert_int_equal(table_len(policy_blocks(p)), 2);
	assert_false(held(p, "100.64.1.1"));
	assert_true(held(p, "100.64.4.1"));
	policy_free(p);
}

/* The same for tuple rules at max_tuple_rules. */
static void test_rule_cap(void **state)
{
	struct corr_config cfg;
	struct policy *p;
	struct policy_stats st;
	struct hs_addr none = {{0}};
	struct indicator ind = {
	    .kind = IND_FARM_CLUSTER,
	    .fresh = true,
	    .relay = true,
	    .at_ns = 100 * HS_NS_PER_SEC,
	    .sources = &none,
	    .n_sources = 0,
	};

	(void)state;
	corr_config_defaults(&cfg);
	cfg.max_tuple_rules = 2;
	p = policy_new(&cfg);
	assert_non_null(p);
	for (uint64_t id = 1; id <= 3; id++) {
		ind.tuple_id = id;
		ind.score = id == 1 ? 0.9 : id == 2 ? 0.7 : 0.8;
		policy_on_indicator(p, &ind);
	}
	assert_non_null(table_get(policy_rules(p), &(uint64_t){1}));
	assert_null(table_get(policy_rules(p), &(uint64_t){2}));
	assert_non_null(table_get(policy_rules(p), &(uint64_t){3}));
	ind.tuple_id = 4;
	ind.score = 0.6;
	policy_on_indicator(p, &ind);
	assert_null(table_get(policy_rules(p), &(uint64_t){4}));
	policy_get_stats(p, &st);
	assert_int_equal(st.evicted[BUDGET_CAP], 1);
	assert_int_equal(st.refused[BUDGET_CAP], 1);
	end_round(p);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cap_evicts_weakest),
	    cmocka_unit_test(test_prefix_budget),
	    cmocka_unit_test(test_round_budget),
	    cmocka_unit_test(test_bound_after_changes),
	    cmocka_unit_test(test_rule_cap),
	    cmocka_unit_test(test_remote_in_group),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
