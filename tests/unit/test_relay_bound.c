// SPDX-License-Identifier: BSD-2-Clause
/*
 * The relay bound a farm's tuple rule learns (user/correlate/relay_bound.c)
 * from its TLS client's flows, through the sweep, the farm_cluster
 * indicator and the policy's rule, checked with hs_relay_cut, the kernel's
 * own test (tests/bpf/test_datapath.c asserts the kernel cuts exactly
 * when it says so).
 *
 * A farm of OpenSSL-stack exits 7-9 ms away (one flow each, over 8 /24s)
 * and five direct clients of the same stack (12 flows each, hello 0.4 ms
 * after the ACK; one with a 9 ms certificate check). The default bounds
 * (TLS gap and ACK->hello >= 12 ms) miss every exit; the learned one cuts
 * a never-seen 7 ms exit on its first connection and spares a direct
 * client with a 9 ms certificate check and a cold-starting one (hello 40
 * ms late, gap 9 ms).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "corr_fixture.h"
#include "decide/policy.h"
#include "hydrascope/relay.h"

#define TCP_RTT 20000

/* The farm and its direct neighbours; slow: one direct flow whose hello
 * and TLS gap both came `slow` us late (0: none). */
static void feed_farm(struct fx *f, uint32_t slow)
{
	char a[32];

	for (unsigned i = 0; i < 8; i++) {
		uint32_t d = 7000 + 250 * i;

		fx_flow(f, &(struct fx_flow){
			       .client = fx_member_addr(a, sizeof(a), i, 8),
			       .at_s = 100 + i,
			       .dur_s = 1,
			       .fam = FAM_OPENSSL,
			       .ttl = i % 2 ? 128 : 64,
			       .mss = 1460,
			       .tcp_rtt_us = TCP_RTT,
			       .tls_rtt_us = TCP_RTT + d,
			       .ack_hello_us = d + 200,
			   });
	}
	for (unsigned s = 0; s < 5; s++)
		for (unsigned j = 0; j < 12; j++) {
			bool cert = s == 4, late = slow && s == 0 && j == 5;

			snprintf(a, sizeof(a), "198.51.100.%u", 10 + s);
			fx_flow(f, &(struct fx_flow){
				       .client = a,
				       .at_s = 100 + 5 * j,
				       .dur_s = 1,
				       .fam = FAM_OPENSSL,
				       .ttl = 64,
				       .mss = 1460,
				       .tcp_rtt_us = TCP_RTT,
				       .tls_rtt_us = TCP_RTT + (late   ? slow
								: cert ? 9000
								       : 600),
				       .ack_hello_us = late ? slow : 400,
				   });
		}
}

/* The policy's one rule: its id into *id, the kernel's rule into *out. */
static struct desired_rule *the_rule(struct policy *p, uint64_t *id,
				     struct hs_tuple_rule *out)
{
	struct desired_rule *d = NULL;
	size_t pos = 0;
	const void *k;
	void *v;

	while (table_next(policy_rules(p), &pos, &k, &v)) {
		assert_null(d); /* one rule */
		d = v;
		memcpy(id, k, sizeof(*id));
	}
	assert_non_null(d);
	*out = (struct hs_tuple_rule){.min_gap_us = d->min_gap_us,
				      .min_ack_hello_us = d->min_ack_hello_us,
				      .low_ack_us = d->low_ack_us,
				      .lead_max_us = d->lead_max_us};
	return d;
}

/* Run the correlator into a new policy (the caller frees it). */
static struct policy *decide(struct fx *f)
{
	struct policy *p = policy_new(&f->cfg);

	assert_non_null(p);
	f->also = (struct ind_sink){policy_on_indicator, p};
	fx_eval(f, 170);
	assert_non_null(fx_find_cluster(f, IND_FARM_CLUSTER));
	return p;
}

/* Run the correlator and the policy; the farm's one rule into *out. */
static void learn(struct fx *f, struct hs_tuple_rule *out)
{
	struct policy *p = decide(f);
	uint64_t id;

	the_rule(p, &id, out);
	policy_free(p);
}

/* A never-seen exit 7 ms away, as its first connection shows it. */
static bool cuts_exit_7ms(const struct hs_tuple_rule *r)
{
	return hs_relay_cut(r, TCP_RTT, TCP_RTT + 7000, 7000 + 200);
}

static void test_bound_cuts_small_detour(void **state)
{
	struct fx *f = fx_new();
	struct hs_tuple_rule r;

	(void)state;
	feed_farm(f, 0);
	learn(f, &r);
	assert_int_equal(r.min_ack_hello_us, 12000); /* the default stays */
	assert_int_equal(r.low_ack_us, 5000);	     /* the floor */
	assert_true(cuts_exit_7ms(&r));
	/* a direct client of the stack: a 9 ms certificate check */
	assert_false(hs_relay_cut(&r, TCP_RTT, TCP_RTT + 9000, 1000));
	/* a cold start: the hello 40 ms late, the TLS gap 9 ms */
	assert_false(hs_relay_cut(&r, TCP_RTT, TCP_RTT + 9000, 40000));
	/* the direct hellos came within 0.4 ms: a 4 ms detour is too close */
	assert_false(hs_relay_cut(&r, TCP_RTT, TCP_RTT + 4000, 4000));
	fx_free(f);
}

/* One direct flow 7 ms late in both samples (a stalled host) is the
 * direct population's jitter: the bound goes above it (+ 2 ms), and the
 * 7 ms exit passes: the bound is as low as the direct flows allow. */
static void test_bound_above_direct_jitter(void **state)
{
	struct fx *f = fx_new();
	struct hs_tuple_rule r;

	(void)state;
	feed_farm(f, 7000);
	learn(f, &r);
	assert_int_equal(r.low_ack_us, 7000 + 2000);
	assert_false(cuts_exit_7ms(&r));
	assert_false(hs_relay_cut(&r, TCP_RTT, TCP_RTT + 7000, 7000));
	assert_true(hs_relay_cut(&r, TCP_RTT, TCP_RTT + 9000, 9000));
	fx_free(f);
}

/* Without enough direct flows (or with learning off) the default bounds
 * alone: what the rule was before, which lets the 7 ms exit through. */
static void test_bound_needs_direct_flows(void **state)
{
	struct fx *f = fx_new();
	struct hs_tuple_rule r;

	(void)state;
	f->cfg.relay_learn_min_flows = 61; /* 60 direct flows */
	feed_farm(f, 0);
	learn(f, &r);
	assert_int_equal(r.low_ack_us, 0);
	assert_false(cuts_exit_7ms(&r));
	assert_true(hs_relay_cut(&r, TCP_RTT, TCP_RTT + 12000, 12000));
	fx_free(f);
}

/* Past one host: a rule this host decided keeps the bound it learned from
 * its own direct clients (its kernel serves them) when another host's
 * decision on the same TLS client arrives with another; the expiry is
 * still taken. Otherwise both would take the other's at every round. */
static void test_bound_local_over_remote(void **state)
{
	struct fx *f = fx_new();
	struct policy *p;
	struct desired_rule want, *d;
	struct hs_tuple_rule r;
	uint64_t id, now = 180 * HS_NS_PER_SEC;

	(void)state;
	feed_farm(f, 0);
	p = decide(f);
	d = the_rule(p, &id, &r);
	assert_int_equal(r.low_ack_us, 5000);
	want = *d;
	want.low_ack_us = 9000;
	want.expires_ns = d->expires_ns + 60 * HS_NS_PER_SEC;
	assert_int_equal(policy_remote_rule(p, id, &want, now), REMOTE_APPLIED);
	d = the_rule(p, &id, &r);
	assert_int_equal(r.low_ack_us, 5000);
	assert_int_equal(d->expires_ns, want.expires_ns);
	assert_int_equal(policy_remote_rule(p, id, &want, now), REMOTE_HELD);
	policy_free(p);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bound_cuts_small_detour),
	    cmocka_unit_test(test_bound_above_direct_jitter),
	    cmocka_unit_test(test_bound_needs_direct_flows),
	    cmocka_unit_test(test_bound_local_over_remote),
	};

	return cmocka_run_group_tests_name("relay_bound", tests, NULL, NULL);
}
