// SPDX-License-Identifier: BSD-2-Clause
/*
 * The policy (user/decide/policy.c): TTLs, repeat offences, decay, jitter,
 * renewals and caps, read back from the decision records it writes; and
 * the decisions other hosts took (the fleet's stream).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "lib/addr.h"
#include "decide/policy.h"
#include "fingerprint/client_family.h"
#include "lib/hstime.h"
#include "lib/table.h"
#include "output/records.h"
#include "policy_feed.h"

struct decisions {
	json_object *d[4096];
	size_t n;
};

static void read_records(FILE *f, struct decisions *out)
{
	char line[8192];

	rewind(f);
	out->n = 0;
	while (fgets(line, sizeof(line), f) && out->n < 4096) {
		json_object *o = json_tokener_parse(line), *t;

		if (o && json_object_object_get_ex(o, "type", &t) &&
		    !strcmp(json_object_get_string(t), "decision"))
			out->d[out->n++] = o;
		else
			json_object_put(o);
	}
}

static void free_records(struct decisions *d)
{
	for (size_t i = 0; i < d->n; i++)
		json_object_put(d->d[i]);
	d->n = 0;
}

static int64_t num(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v)
						   : -1;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v)
						   : "";
}

static void round_out(struct policy *p, FILE *f, uint64_t t)
{
	struct record_out out = {.log = f, .max_listed = 10};

	policy_expire(p, t * HS_NS_PER_SEC);
	policy_flush(p, &out);
	fflush(f);
}

static void test_policy_ttls(void **state)
{
	struct corr_config cfg;
	struct policy *p;
	struct decisions d;
	FILE *f = tmpfile();

	(void)state;
	corr_config_defaults(&cfg);
	cfg.ttl_residential_s = 100;
	cfg.ttl_max_s = 350;
	cfg.ttl_jitter_pct = 0;
	cfg.offence_half_life_s = 1000;
	p = policy_new(&cfg);
	assert_non_null(p);

	/* below the decision score: nothing */
	feed(p, "100.64.0.1", 0.5, 10);
	round_out(p, f, 10);
	/* first offence: the reason's TTL, a /32 (v4) and a /64 (v6) */
	feed(p, "100.64.0.1", 0.9, 20);
	feed(p, "2001:db8::1", 0.9, 20);
	round_out(p, f, 20);
	/* still firing at 30 s: a renewal, no new record (half not run) */
	feed(p, "100.64.0.1", 0.9, 30);
	round_out(p, f, 30);
	/* lapses at 130 s; offends again at 200: 2 offences, twice the TTL */
	round_out(p, f, 131);
	feed(p, "100.64.0.1", 0.9, 200);
	round_out(p, f, 200);
	/* lapses at 400; a third time at 410: 4x = 400 > ttl_max 350 */
	round_out(p, f, 401);
	feed(p, "100.64.0.1", 0.9, 410);
	round_out(p, f, 410);
	/* ten half-lives later the history has decayed to nothing */
	round_out(p, f, 761);
	feed(p, "100.64.0.1", 0.9, 761 + 10000);
	round_out(p, f, 761 + 10000);

	read_records(f, &d);
	assert_int_equal(d.n, 5);
	assert_string_equal(str(d.d[0], "prefix"), "100.64.0.1/32");
	assert_int_equal(num(d.d[0], "ttl_s"), 100);
	assert_int_equal(num(d.d[0], "offences"), 1);
	assert_int_equal(num(d.d[0], "expires_ns") - num(d.d[0], "time_ns"),
			 100 * (int64_t)HS_NS_PER_SEC);
	assert_string_equal(str(d.d[0], "action"), "block_prefix");
	assert_string_equal(str(d.d[0], "reason"), "residential_proxy");
	assert_string_equal(str(d.d[1], "prefix"), "2001:db8::/64");
	assert_int_equal(num(d.d[2], "offences"), 2);
	assert_int_equal(num(d.d[2], "ttl_s"), 200);
	assert_int_equal(num(d.d[3], "offences"), 3);
	assert_int_equal(num(d.d[3], "ttl_s"), 350);
	assert_int_equal(num(d.d[4], "offences"), 1);
	assert_int_equal(num(d.d[4], "ttl_s"), 100);
	free_records(&d);
	{
		struct policy_stats st;

		policy_get_stats(p, &st);
		assert_int_equal(st.decisions[IND_RESIDENTIAL_PROXY], 5);
		assert_int_equal(st.renewals, 1);
	}
	policy_free(p);
	fclose(f);
}

static void test_policy_jitter_and_cap(void **state)
{
	struct corr_config cfg;
	struct policy *p;
	struct decisions d;
	struct policy_stats st;
	FILE *f = tmpfile();
	int64_t lo = INT64_MAX, hi = 0;
	size_t distinct = 0;
	char a[32];

	(void)state;
	corr_config_defaults(&cfg);
	cfg.ttl_residential_s = 1000;
	cfg.ttl_jitter_pct = 10;
	cfg.max_blocks = 200;
	p = policy_new(&cfg);
	for (int i = 0; i < 250; i++) {
		snprintf(a, sizeof(a), "100.64.%d.%d", i / 200, i % 200 + 1);
		feed(p, a, 0.9, 50);
	}
	round_out(p, f, 50);
	read_records(f, &d);
	/* the cap holds: 200 blocks, 50 refused and counted */
	assert_int_equal(d.n, 200);
	policy_get_stats(p, &st);
	assert_int_equal(st.refused[BUDGET_CAP], 50);
	/* expiries spread over [ttl, ttl * 1.1]: no bulk-expiry cliff */
	for (size_t i = 0; i < d.n; i++) {
		int64_t j = num(d.d[i], "expires_ns") - num(d.d[i], "time_ns") -
			    1000 * (int64_t)HS_NS_PER_SEC;

		lo = j < lo ? j : lo;
		hi = j > hi ? j : hi;
		distinct += i == 0 || num(d.d[i], "expires_ns") !=
					  num(d.d[i - 1], "expires_ns");
	}
	assert_true(lo >= 0);
	assert_true(hi <= 100 * (int64_t)HS_NS_PER_SEC);
	assert_true(hi - lo > 50 * (int64_t)HS_NS_PER_SEC);
	assert_true(distinct > 150);
	free_records(&d);
	policy_free(p);
	fclose(f);
}

static void test_policy_cluster(void **state)
{
	struct corr_config cfg;
	struct policy *p;
	struct decisions d;
	struct hs_addr srcs[3];
	FILE *f = tmpfile();
	struct indicator ind = {
	    .kind = IND_FARM_CLUSTER,
	    .score = 0.9,
	    .fresh = true,
	    .at_ns = 10 * HS_NS_PER_SEC,
	    .sources = srcs,
	    .n_sources = 3,
	    .n_new = 3,
	    .cluster_id = 7,
	    .tuple_id = 0xabcdef,
	};

	(void)state;
	corr_config_defaults(&cfg);
	for (int i = 0; i < 3; i++) {
		struct cidr c;
		char a[32];

		snprintf(a, sizeof(a), "100.64.1.%d", i + 1);
		cidr_parse(a, &c);
		srcs[i] = c.addr;
	}
	p = policy_new(&cfg);
	/* without the relay signal a cluster blocks nothing by default */
	ind.evidence = json_object_new_object();
	policy_on_indicator(p, &ind);
	round_out(p, f, 10);
	read_records(f, &d);
	assert_int_equal(d.n, 0);
	/* with it: a relay-conditional tuple rule and the members' blocks */
	ind.relay = true;
	policy_on_indicator(p, &ind);
	round_out(p, f, 10);
	read_records(f, &d);
	assert_int_equal(d.n, 4);
	assert_string_equal(str(d.d[0], "action"), "tuple_rule");
	assert_string_equal(str(d.d[0], "tuple_id"), "0000000000abcdef");
	assert_int_equal(num(d.d[0], "min_gap_us"), cfg.relay_min_gap_us);
	assert_string_equal(str(d.d[0], "rule_on"), "tuple_id");
	assert_string_equal(str(d.d[1], "reason"), "farm_cluster");
	assert_int_equal(num(d.d[1], "ttl_s"), cfg.ttl_cluster_s);
	free_records(&d);
	/* a cluster whose flows carry the kernel's TLS id: the rule goes on
	 * the TLS id (any SYN stack), with the relay test userspace applies:
	 * the family's allowance + the detour bound, ACK->hello bound */
	ind.cluster_id = 8;
	ind.tuple_id = 0xabcdf0;
	ind.tls_id = 0x7151d;
	ind.family = FAM_CHROMIUM;
	policy_on_indicator(p, &ind);
	round_out(p, f, 11);
	read_records(f, &d); /* the file from its start: the new one is 5th */
	assert_true(d.n >= 5);
	assert_string_equal(str(d.d[4], "action"), "tuple_rule");
	assert_string_equal(str(d.d[4], "rule_on"), "tls_id");
	assert_string_equal(str(d.d[4], "rule_id"), "000000000007151d");
	assert_string_equal(str(d.d[4], "tuple_id"), "0000000000abcdf0");
	assert_int_equal(num(d.d[4], "tls_tcp_gap_min_us"),
			 cfg.relay_base_gap_us[FAM_CHROMIUM] +
			     cfg.relay_min_gap_us);
	assert_int_equal(num(d.d[4], "ack_hello_min_us"),
			 cfg.relay_base_ack_us + cfg.relay_min_gap_us);
	{
		uint64_t id = 0x7151d;
		struct desired_rule *r = table_get(policy_rules(p), &id);

		assert_non_null(r);
		assert_int_equal(r->kind, HS_RULE_TLS);
		assert_int_equal(r->min_gap_us,
				 cfg.relay_base_gap_us[FAM_CHROMIUM] +
				     cfg.relay_min_gap_us);
	}
	free_records(&d);
	json_object_put(ind.evidence);
	policy_free(p);
	fclose(f);
}

/* Remote decisions: idempotent, extended by a later expiry, the local
 * allowlist wins, the cap holds, lapsed ones are skipped. */
static void test_policy_remote(void **state)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_NO_PREALLOC);
	const uint64_t s = HS_NS_PER_SEC, now = 1000 * s;
	struct corr_config cfg;
	struct hs_lpm_key k = lpm("10.0.0.1/32"), allow = lpm("10.9.0.0/16");
	struct hs_allow av = {0};
	struct policy *p;
	int afd;

	(void)state;
	corr_config_defaults(&cfg);
	cfg.max_blocks = 2;
	cfg.max_tuple_rules = 1;
	p = policy_new(&cfg);
	afd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "test_allow", sizeof(k),
			     sizeof(av), 16, &mo);
	assert_true(afd >= 0);
	assert_int_equal(bpf_map_update_elem(afd, &allow, &av, BPF_ANY), 0);
	policy_set_allowlist(p, afd);

	assert_int_equal(policy_remote_block(p, &k, now + 100 * s, 100, now),
			 REMOTE_APPLIED);
	assert_false(policy_block_written(p, &k)); /* the enforcer writes */
	assert_int_equal(policy_remote_block(p, &k, now + 100 * s, 100, now),
			 REMOTE_HELD);
	assert_int_equal(policy_remote_block(p, &k, now + 50 * s, 50, now),
			 REMOTE_HELD);
	assert_int_equal(policy_remote_block(p, &k, now + 200 * s, 200, now),
			 REMOTE_APPLIED);
	k = lpm("10.0.0.2/32");
	assert_int_equal(policy_remote_block(p, &k, now, 100, now),
			 REMOTE_EXPIRED);
	k = lpm("10.9.1.1/32");
	assert_int_equal(policy_remote_block(p, &k, now + 100 * s, 100, now),
			 REMOTE_ALLOWLISTED);
	/* wider than block_v4_prefix (32): refused; a far expiry is cut */
	k = lpm("10.0.0.0/24");
	assert_int_equal(policy_remote_block(p, &k, now + 100 * s, 100, now),
			 REMOTE_WIDE);
	k = lpm("10.0.0.3/32");
	assert_int_equal(policy_remote_block(p, &k, now + 100 * s, 100, now),
			 REMOTE_APPLIED);
	k = lpm("10.0.0.4/32");
	assert_int_equal(policy_remote_block(p, &k, now + 100 * s, 100, now),
			 REMOTE_CAP);
	assert_int_equal(table_len(policy_blocks(p)), 2);

	{
		struct desired_rule want = {.expires_ns = now + 100 * s,
					    .ttl_s = 100,
					    .min_gap_us = 12000,
					    .min_ack_hello_us = 12000,
					    .kind = HS_RULE_TLS};
		uint64_t id = 0x1234;

		assert_int_equal(policy_remote_rule(p, id, &want, now),
				 REMOTE_APPLIED);
		assert_int_equal(policy_remote_rule(p, id, &want, now),
				 REMOTE_HELD);
		assert_int_equal(policy_remote_rule(p, 0x5678, &want, now),
				 REMOTE_CAP);
		assert_int_equal(policy_remote_rule(p, 0, &want, now),
				 REMOTE_EXPIRED);
		/* the kernel gets the rule the deciding host wrote */
		assert_int_equal(
		    ((struct desired_rule *)table_get(policy_rules(p), &id))
			->kind,
		    HS_RULE_TLS);
		/* another learned bound from another host: taken while the
		 * rule is the others' */
		want.low_ack_us = 6000;
		want.lead_max_us = 1000;
		assert_int_equal(policy_remote_rule(p, id, &want, now),
				 REMOTE_APPLIED);
		assert_int_equal(
		    ((struct desired_rule *)table_get(policy_rules(p), &id))
			->low_ack_us,
		    6000);
	}
	policy_free(p);
	close(afd);
}

static uint8_t block_reason(struct policy *p, const char *cidr)
{
	struct block_key bk = {.k = lpm(cidr)};
	struct desired_block *d = table_get(policy_blocks(p), &bk);

	assert_non_null(d);
	return d->reason;
}

/* Each held decision says why (the status page shows it): the indicator
 * that made it, "adopted" when found in the maps at start, "remote" when
 * another host took it; a remote extension of a local one keeps its
 * reason. */
static void test_policy_reasons(void **state)
{
	const uint64_t s = HS_NS_PER_SEC, now = 1000 * s;
	struct hs_block hb = {.expires_ns = now + 100 * s,
			      .reason = HS_R_INDICATOR};
	struct hs_tuple_rule hr = {.expires_ns = now + 100 * s,
				   .kind = HS_RULE_TLS};
	struct desired_rule want = {.expires_ns = now + 100 * s, .ttl_s = 100};
	struct hs_lpm_key k;
	struct corr_config cfg;
	struct policy *p;
	uint64_t id;

	(void)state;
	corr_config_defaults(&cfg);
	p = policy_new(&cfg);
	feed(p, "100.64.0.1", 0.9, 1000);
	k = lpm("100.64.0.2/32");
	policy_adopt_block(p, &k, &hb, now);
	k = lpm("100.64.0.3/32");
	assert_int_equal(policy_remote_block(p, &k, now + 100 * s, 100, now),
			 REMOTE_APPLIED);
	k = lpm("100.64.0.1/32");
	assert_int_equal(policy_remote_block(p, &k, now + 99999 * s, 100, now),
			 REMOTE_APPLIED);
	assert_int_equal(block_reason(p, "100.64.0.1/32"),
			 IND_RESIDENTIAL_PROXY);
	assert_int_equal(block_reason(p, "100.64.0.2/32"), DECISION_ADOPTED);
	assert_int_equal(block_reason(p, "100.64.0.3/32"), DECISION_REMOTE);
	policy_adopt_rule(p, 7, &hr, now);
	assert_int_equal(policy_remote_rule(p, 8, &want, now), REMOTE_APPLIED);
	id = 7;
	assert_int_equal(
	    ((struct desired_rule *)table_get(policy_rules(p), &id))->reason,
	    DECISION_ADOPTED);
	id = 8;
	assert_int_equal(
	    ((struct desired_rule *)table_get(policy_rules(p), &id))->reason,
	    DECISION_REMOTE);
	assert_string_equal(decision_reason_name(IND_FARM_CLUSTER),
			    "farm_cluster");
	assert_string_equal(decision_reason_name(DECISION_ADOPTED), "adopted");
	assert_string_equal(decision_reason_name(DECISION_REMOTE), "remote");
	policy_free(p);
}

/* policy_check_allowlist: the allowlist's emptiness is read once a round;
 * an empty one costs no lookup, an entry counts from the next check. */
static void test_policy_allowlist_check(void **state)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_NO_PREALLOC);
	struct hs_lpm_key k = lpm("10.9.1.1/32"), allow = lpm("10.9.0.0/16");
	struct hs_allow av = {0};
	struct corr_config cfg;
	struct policy *p;
	int afd;

	(void)state;
	corr_config_defaults(&cfg);
	p = policy_new(&cfg);
	assert_non_null(p);
	assert_false(policy_allowlisted(p, &k)); /* no allowlist at all */
	afd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "test_allow", sizeof(k),
			     sizeof(av), 16, &mo);
	assert_true(afd >= 0);
	policy_set_allowlist(p, afd);
	policy_check_allowlist(p);
	assert_int_equal(bpf_map_update_elem(afd, &allow, &av, BPF_ANY), 0);
	assert_false(policy_allowlisted(p, &k)); /* empty at the check */
	policy_check_allowlist(p);
	assert_true(policy_allowlisted(p, &k));
	assert_int_equal(bpf_map_delete_elem(afd, &allow), 0);
	policy_check_allowlist(p);
	assert_false(policy_allowlisted(p, &k));
	policy_free(p);
	close(afd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_policy_ttls),
	    cmocka_unit_test(test_policy_jitter_and_cap),
	    cmocka_unit_test(test_policy_cluster),
	    cmocka_unit_test(test_policy_remote),
	    cmocka_unit_test(test_policy_reasons),
	    cmocka_unit_test(test_policy_allowlist_check),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
