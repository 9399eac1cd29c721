// SPDX-License-Identifier: BSD-2-Clause
/*
 * The reconcile loop against real kernel maps (an LPM trie and a hash, as
 * the datapath's blocklist and tuple_rules; needs root): the maps follow
 * the policy's desired set, an operator's removal sticks, a previous run's
 * blocks are adopted, stale indicator entries go, manual blocks stay, the
 * allowlist lifts blocks, a full map is counted and retried, and a desired
 * set of a million prefixes is written in batches and expires cleanly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "lib/addr.h"
#include "decide/enforce.h"
#include "datapath/mapiter.h"
#include "decide/policy.h"
#include "lib/hstime.h"
#include "blocking_maps.h"

static struct hs_addr addr_n(uint32_t n)
{
	struct hs_addr a = {{0}};
	uint8_t v4[4] = {100, (uint8_t)(64 + (n >> 16)), (uint8_t)(n >> 8),
			 (uint8_t)n};

	addr_from_v4(&a, v4);
	return a;
}

static void block_at(struct policy *p, const struct hs_addr *a, uint64_t t)
{
	struct indicator ind = {.kind = IND_RESIDENTIAL_PROXY,
				.score = 1,
				.fresh = true,
				.at_ns = t,
				.sources = a,
				.n_sources = 1};

	policy_on_indicator(p, &ind);
}

static void discard_records(struct policy *p)
{
	FILE *null = fopen("/dev/null", "w");
	struct record_out out = {.log = null};

	policy_flush(p, &out);
	fclose(null);
}

static long count(int fd)
{
	return map_count_keys(fd, sizeof(struct hs_lpm_key));
}

static struct policy *new_policy(unsigned max_blocks, struct blocking_maps *m)
{
	struct corr_config cfg;
	struct policy *p;

	corr_config_defaults(&cfg);
	cfg.max_blocks = max_blocks;
	/* these tests are about the reconcile: only the overall cap binds */
	cfg.max_blocks_per_prefix = max_blocks;
	cfg.max_new_blocks_per_round = max_blocks;
	cfg.ttl_residential_s = 100;
	cfg.ttl_jitter_pct = 0;
	p = policy_new(&cfg);
	assert_non_null(p);
	policy_set_allowlist(p, m->allow);
	return p;
}

/* What each test runs: the blocking maps, a policy over them and an
 * enforcer of both. */
struct rig {
	struct blocking_maps m;
	struct enforce_fds fds;
	struct policy *p;
	struct enforcer *e;
};

/* entries: the maps' size; cuts: a cut-flow map, -1 for none. */
static void rig_open(struct rig *r, uint32_t entries, unsigned max_blocks,
		     int cuts)
{
	blocking_maps_open(&r->m, entries);
	r->fds = (struct enforce_fds){r->m.block, r->m.rules, r->m.hint,
				      r->m.allow, cuts};
	r->p = new_policy(max_blocks, &r->m);
	r->e = enforcer_new(&r->fds);
	assert_non_null(r->e);
}

static void rig_close(struct rig *r)
{
	enforcer_free(r->e);
	policy_free(r->p);
	blocking_maps_close(&r->m);
}

static void test_reconcile(void **state)
{
	struct enforce_stats es;
	struct rig r;
	struct hs_lpm_key k = {.prefixlen = 128};
	struct hs_block b;
	struct hs_addr a;
	uint64_t t = 1000 * HS_NS_PER_SEC;
	__u32 zero = 0;
	struct hs_block_hint hint;

	(void)state;
	rig_open(&r, 1024, 1000, -1);
	/* a manual block and a stale indicator block from another run */
	a = addr_n(999);
	memcpy(k.addr, a.b, 16);
	b = (struct hs_block){.expires_ns = 0, .reason = HS_R_MANUAL};
	assert_int_equal(bpf_map_update_elem(r.m.block, &k, &b, BPF_ANY), 0);
	a = addr_n(998);
	memcpy(k.addr, a.b, 16);
	b = (struct hs_block){.expires_ns = t + 50 * HS_NS_PER_SEC,
			      .reason = HS_R_INDICATOR};
	assert_int_equal(bpf_map_update_elem(r.m.block, &k, &b, BPF_ANY), 0);

	for (uint32_t i = 0; i < 10; i++) {
		a = addr_n(i);
		block_at(r.p, &a, t);
	}
	enforcer_reconcile(r.e, r.p, t, true);
	discard_records(r.p);
	enforcer_get_stats(r.e, &es);
	/* ten written, the stale one removed, the manual one kept */
	assert_int_equal(count(r.m.block), 11);
	assert_int_equal(es.desired_blocks, 10);
	assert_int_equal(es.enforced_blocks, 10);
	assert_int_equal(es.manual_blocks, 1);
	assert_int_equal(es.stale_removed, 1);
	a = addr_n(3);
	memcpy(k.addr, a.b, 16);
	assert_int_equal(bpf_map_lookup_elem(r.m.block, &k, &b), 0);
	assert_int_equal(b.reason, HS_R_INDICATOR);
	assert_true(b.expires_ns == t + 100 * HS_NS_PER_SEC);
	assert_int_equal(bpf_map_lookup_elem(r.m.hint, &zero, &hint), 0);
	assert_int_equal(hint.prefixes, 1);

	/* an operator deletes one: the next verify drops it from the desired
	 * set and it is not written back */
	assert_int_equal(bpf_map_delete_elem(r.m.block, &k), 0);
	enforcer_reconcile(r.e, r.p, t + HS_NS_PER_SEC, true);
	enforcer_reconcile(r.e, r.p, t + 2 * HS_NS_PER_SEC, true);
	enforcer_get_stats(r.e, &es);
	assert_int_equal(es.lifted_outside, 1);
	assert_int_equal(es.desired_blocks, 9);
	assert_int_equal(count(r.m.block), 10);

	/* an allowlist entry covering one lifts it on the next verify */
	{
		struct hs_lpm_key ak = {.prefixlen = 120};
		struct hs_allow av = {0};

		a = addr_n(4);
		memcpy(ak.addr, a.b, 16);
		ak.addr[15] = 0;
		assert_int_equal(bpf_map_update_elem(r.m.allow, &ak, &av, 0),
				 0);
	}
	enforcer_reconcile(r.e, r.p, t + 3 * HS_NS_PER_SEC, true);
	enforcer_get_stats(r.e, &es);
	assert_int_equal(es.desired_blocks, 0);
	assert_int_equal(count(r.m.block), 1); /* the manual one */
	/* and new decisions inside it are refused */
	a = addr_n(5);
	block_at(r.p, &a, t + 4 * HS_NS_PER_SEC);
	enforcer_reconcile(r.e, r.p, t + 4 * HS_NS_PER_SEC, false);
	assert_int_equal(count(r.m.block), 1);

	/* expiry: what the policy no longer wants is deleted */
	{
		struct hs_lpm_key ak = {.prefixlen = 120};

		a = addr_n(4);
		memcpy(ak.addr, a.b, 16);
		ak.addr[15] = 0;
		bpf_map_delete_elem(r.m.allow, &ak);
	}
	a = addr_n(300);
	block_at(r.p, &a, t + 5 * HS_NS_PER_SEC);
	enforcer_reconcile(r.e, r.p, t + 5 * HS_NS_PER_SEC, false);
	assert_int_equal(count(r.m.block), 2);
	enforcer_reconcile(r.e, r.p, t + 106 * HS_NS_PER_SEC, true);
	assert_int_equal(count(r.m.block), 1);
	discard_records(r.p);

	/* a restart adopts the indicator blocks it finds */
	a = addr_n(301);
	block_at(r.p, &a, t + 110 * HS_NS_PER_SEC);
	enforcer_reconcile(r.e, r.p, t + 110 * HS_NS_PER_SEC, true);
	discard_records(r.p);
	enforcer_free(r.e);
	policy_free(r.p);
	r.p = new_policy(1000, &r.m);
	r.e = enforcer_new(&r.fds);
	assert_int_equal(enforcer_adopt(r.e, r.p, t + 111 * HS_NS_PER_SEC), 1);
	enforcer_reconcile(r.e, r.p, t + 111 * HS_NS_PER_SEC, true);
	enforcer_get_stats(r.e, &es);
	assert_int_equal(es.desired_blocks, 1);
	assert_int_equal(es.enforced_blocks, 1);
	assert_int_equal(es.stale_removed, 0);
	rig_close(&r);
}

/* A block renewed every round is not written every round: the datapath's
 * copy keeps its expiry until that comes within 7/8 of the TTL (the lead:
 * 87.5 s of 100 here, above two 10 s rounds), then takes the renewed one,
 * so that it trails the decision by at most an eighth of the TTL, and it
 * never lapses while the block is desired (fails on 010edce: one LPM
 * write a renewal). */
static void test_renewal_writes_late(void **state)
{
	struct enforce_stats es;
	struct rig r;
	struct hs_lpm_key k = {.prefixlen = 128};
	struct hs_block b;
	struct hs_addr a = addr_n(4242);
	const uint64_t s = HS_NS_PER_SEC, t0 = 2000 * s;
	uint64_t t;

	(void)state;
	rig_open(&r, 1024, 1000, -1);
	memcpy(k.addr, a.b, 16);
	block_at(r.p, &a, t0);
	enforcer_reconcile(r.e, r.p, t0, false);
	discard_records(r.p);
	/* renewed every 10 s: written every other round (20 s > 12.5 s) */
	for (t = t0 + 10 * s; t <= t0 + 60 * s; t += 10 * s) {
		block_at(r.p, &a, t);
		enforcer_reconcile(r.e, r.p, t, false);
		discard_records(r.p);
		assert_true(policy_block_written(r.p, &k));
		assert_int_equal(bpf_map_lookup_elem(r.m.block, &k, &b), 0);
		assert_true(b.expires_ns + 100 * s / 8 >= t + 100 * s);
		assert_int_equal(b.expires_ns, (t - t0) % (20 * s)
						   ? t + 90 * s
						   : t + 100 * s);
	}
	enforcer_get_stats(r.e, &es);
	assert_int_equal(es.writes, 4); /* 0, 20, 40, 60 s */
	/* no renewal since: the copy holds the last one's expiry (160 s)
	 * and lapses with the decision */
	for (t = t0 + 70 * s; t < t0 + 160 * s; t += 10 * s) {
		enforcer_reconcile(r.e, r.p, t, false);
		assert_int_equal(bpf_map_lookup_elem(r.m.block, &k, &b), 0);
		assert_int_equal(b.expires_ns, t0 + 160 * s);
	}
	enforcer_get_stats(r.e, &es);
	assert_int_equal(es.writes, 4);
	rig_close(&r);
}

/* A map smaller than the desired set: failures are counted and the
 * entries retried once there is room. */
static void test_full_map(void **state)
{
	struct enforce_stats es;
	struct rig r;
	struct hs_addr a;
	uint64_t t = 1000 * HS_NS_PER_SEC;

	(void)state;
	rig_open(&r, 8, 100, -1);
	for (uint32_t i = 0; i < 12; i++) {
		a = addr_n(i);
		block_at(r.p, &a, t);
	}
	enforcer_reconcile(r.e, r.p, t, true);
	discard_records(r.p);
	enforcer_get_stats(r.e, &es);
	assert_int_equal(count(r.m.block), 8);
	assert_int_equal(es.write_failures, 4);
	assert_int_equal(es.desired_blocks, 12);
	assert_int_equal(es.enforced_blocks, 8);
	/* room again (an operator removes the manual clutter, blocks expire):
	 * the failed ones are written */
	{
		struct hs_lpm_key keys[8];
		__u32 n = 0;
		struct hs_lpm_key k, nk;
		bool have = false;

		while (n < 4 && !bpf_map_get_next_key(r.m.block,
						      have ? &k : NULL, &nk)) {
			keys[n++] = nk;
			k = nk;
			have = true;
		}
		for (__u32 i = 0; i < n; i++)
			bpf_map_delete_elem(r.m.block, &keys[i]);
	}
	enforcer_reconcile(r.e, r.p, t + HS_NS_PER_SEC,
			   true); /* finds 4 lifted outside */
	enforcer_reconcile(r.e, r.p, t + 2 * HS_NS_PER_SEC, true);
	enforcer_get_stats(r.e, &es);
	assert_int_equal(es.lifted_outside, 4);
	assert_int_equal(es.desired_blocks, 8);
	assert_int_equal(es.enforced_blocks, 8);
	assert_int_equal(count(r.m.block), 8);
	rig_close(&r);
}

static double since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A million desired prefixes: written in batches, verified, expired. */
static void test_million(void **state)
{
	const uint32_t n = 1000000;
	struct enforce_stats es;
	struct rig r;
	struct timespec t0;
	uint64_t t = 1000 * HS_NS_PER_SEC;
	double decide_s, write_s, verify_s, expire_s;

	(void)state;
	rig_open(&r, n + 1024, n + 16, -1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint32_t i = 0; i < n; i++) {
		struct hs_addr a = addr_n(i);

		block_at(r.p, &a, t);
	}
	discard_records(r.p);
	decide_s = since(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	enforcer_reconcile(r.e, r.p, t, false);
	write_s = since(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	enforcer_reconcile(r.e, r.p, t + HS_NS_PER_SEC, true);
	verify_s = since(&t0);
	enforcer_get_stats(r.e, &es);
	assert_int_equal(es.desired_blocks, n);
	assert_int_equal(es.enforced_blocks, n);
	assert_int_equal(es.write_failures, 0);
	assert_int_equal(count(r.m.block), (long)n);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	enforcer_reconcile(r.e, r.p, t + 200 * HS_NS_PER_SEC, true);
	expire_s = since(&t0);
	enforcer_get_stats(r.e, &es);
	assert_int_equal(es.desired_blocks, 0);
	assert_int_equal(count(r.m.block), 0);
	/* measured, not asserted: the figures go to the log */
	printf("1M prefixes: decide %.2f s, batch write %.2f s, verify %.2f s, "
	       "expire+delete %.2f s\n",
	       decide_s, write_s, verify_s, expire_s);
	rig_close(&r);
}

/* Lapsed cut flows that never came back are removed on verify rounds;
 * live ones stay. */
static void test_cut_sweep(void **state)
{
	struct enforce_stats es;
	struct rig r;
	uint64_t t = 1000 * HS_NS_PER_SEC;
	int cuts;

	(void)state;
	cuts = bpf_map_create(BPF_MAP_TYPE_HASH, "cuts",
			      sizeof(struct hs_flow_key), sizeof(struct hs_cut),
			      600, NULL);
	assert_true(cuts >= 0);
	for (uint32_t i = 0; i < 500; i++) {
		struct hs_flow_key k = {.cport = (uint16_t)(1024 + i),
					.sport = 443};
		struct hs_cut c = {.expires_ns = i % 2
						     ? t - HS_NS_PER_SEC
						     : t + 100 * HS_NS_PER_SEC};

		k.client = addr_n(i);
		assert_int_equal(bpf_map_update_elem(cuts, &k, &c, BPF_ANY), 0);
	}
	rig_open(&r, 16, 100, cuts);
	enforcer_reconcile(r.e, r.p, t, false); /* not a verify round */
	assert_int_equal(map_count_keys(cuts, sizeof(struct hs_flow_key)), 500);
	enforcer_reconcile(r.e, r.p, t, true);
	enforcer_get_stats(r.e, &es);
	assert_int_equal(es.cuts_expired, 250);
	assert_int_equal(map_count_keys(cuts, sizeof(struct hs_flow_key)), 250);
	rig_close(&r);
	close(cuts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cut_sweep),
	    cmocka_unit_test(test_reconcile),
	    cmocka_unit_test(test_renewal_writes_late),
	    cmocka_unit_test(test_full_map),
	    cmocka_unit_test(test_million),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
