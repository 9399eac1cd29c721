// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the correlator's and the policy's pure logic (ASan/UBSan,
 * no kernel): running statistics, the client family markers, the config
 * file, and the policy's TTLs, repeat offences, decay, jitter, renewals
 * and caps, read back from the decision records it writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "lib/addr.h"
#include "fingerprint/asndb.h"
#include "fingerprint/client_family.h"
#include "correlate/state.h"
#include "frames.h"
#include "fingerprint/hello.h"
#include "decide/policy.h"
#include "output/records.h"

#define NS 1000000000ull

static void test_running(void **state)
{
	struct running a = {0}, b = {0}, all = {0};
	double xs[] = {10, 12, 9, 11, 30, 31, 29, 30};

	(void)state;
	for (int i = 0; i < 8; i++) {
		running_add(i < 4 ? &a : &b, xs[i]);
		running_add(&all, xs[i]);
	}
	running_merge(&a, &b);
	assert_true(a.n == 8);
	assert_true(a.mean > 20.249 && a.mean < 20.251);
	assert_true(a.m2 > all.m2 - 1e-9 && a.m2 < all.m2 + 1e-9);
	assert_true(running_cv(&(struct running){0}) < 0);
	b = (struct running){0};
	running_add(&b, 5);
	running_add(&b, 5);
	assert_true(running_cv(&b) == 0);
}

/* Build a hello from lists and classify it. */
static enum client_family family_of(const uint16_t *c, size_t nc,
				    const uint16_t *e, size_t ne)
{
	uint8_t buf[4096];
	struct tls_hello *h = malloc(sizeof(*h));
	size_t n = hello_build(buf, sizeof(buf), c, nc, e, ne, 0);
	enum client_family f;

	assert_non_null(h);
	assert_int_equal(hello_parse(buf, n, h), HELLO_OK);
	f = client_family_of(h);
	free(h);
	return f;
}

#define FAM(c, e) family_of(c, sizeof(c) / 2, e, sizeof(e) / 2)

static void test_client_family(void **state)
{
	static const uint16_t chrome_c[] = {0x2a2a, 0x1301, 0x1302, 0x1303,
					    0xc02b};
	static const uint16_t chrome_e[] = {0x3a3a, 0x0000, 0x000a, 0x4469};
	static const uint16_t safari_c[] = {0x4a4a, 0x1301, 0xc00a, 0xc009};
	static const uint16_t safari_e[] = {0x5a5a, 0x0000, 0x000a};
	static const uint16_t ff_c[] = {0x1301, 0x1303, 0x1302, 0xc02b};
	static const uint16_t ff_e[] = {0x0000, 0x000a, 0x001c, 0x0022};
	static const uint16_t gnutls_c[] = {0x1302, 0x1303, 0x1301, 0x1304};
	static const uint16_t gnutls_e[] = {0x000a, 0x0016, 0x001c};
	static const uint16_t go_c[] = {0xc02b, 0xc02f, 0x1301, 0x1302};
	static const uint16_t go_e[] = {0x0000, 0x000a, 0x000d};
	static const uint16_t sch_c[] = {0x1302, 0x1301, 0xc02c, 0xc02b};
	static const uint16_t sch_e[] = {0x0000, 0x000a, 0x0017};
	static const uint16_t ossl_c[] = {0x1302, 0x1303, 0x1301, 0xc02c};
	static const uint16_t ossl_e[] = {0x0000, 0x000a, 0x0016, 0x0017};
	static const uint16_t java_e[] = {0x0000, 0x000a, 0x0032};
	static const uint16_t old_c[] = {0xc02f, 0xc012, 0x000a};
	static const uint16_t old_e[] = {0x0000, 0x000a};

	(void)state;
	assert_int_equal(FAM(chrome_c, chrome_e), FAM_CHROMIUM);
	assert_int_equal(FAM(safari_c, safari_e), FAM_SAFARI);
	assert_int_equal(FAM(ff_c, ff_e), FAM_FIREFOX);
	assert_int_equal(FAM(gnutls_c, gnutls_e), FAM_GNUTLS);
	assert_int_equal(FAM(go_c, go_e), FAM_GO);
	assert_int_equal(FAM(sch_c, sch_e), FAM_SCHANNEL);
	assert_int_equal(FAM(ossl_c, ossl_e), FAM_OPENSSL);
	assert_int_equal(FAM(ossl_c, java_e), FAM_JAVA);
	/* TLS 1.2 with 3DES: not called Apple (OpenSSL 1.0 did that too) */
	assert_int_equal(FAM(old_c, old_e), FAM_OTHER);
	/* plausibility: Apple-only on Linux is strong, a browser anywhere
	 * that matters is fine, a script library on Windows is weaker */
	assert_true(stack_implausibility(FAM_SAFARI, OS_LINUX) >= 0.9);
	assert_true(stack_implausibility(FAM_CHROMIUM, OS_LINUX) == 0);
	assert_true(stack_implausibility(FAM_CHROMIUM, OS_WINDOWS) == 0);
	assert_true(stack_implausibility(FAM_OPENSSL, OS_WINDOWS) == 0.5);
	assert_true(stack_implausibility(FAM_UNKNOWN, OS_OTHER) == 0);
	assert_int_equal(client_family_parse("go"), FAM_GO);
	assert_int_equal(client_family_parse("netscape"), FAM_COUNT);
}

static int load_text(const char *text, struct corr_config *c, char *err,
		     size_t errlen)
{
	char path[] = "/tmp/hs-cfg-XXXXXX";
	int fd = mkstemp(path), rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	rc = corr_config_load(path, c, err, errlen);
	unlink(path);
	return rc;
}

static void test_config(void **state)
{
	struct corr_config c;
	char err[256];

	(void)state;
	corr_config_defaults(&c);
	assert_int_equal(load_text("# comment\n\nwindow_s = 60\n"
				   "relay_base_gap_us_chromium = 55000  # x\n"
				   "robotic_max_cv=0.2\n",
				   &c, err, sizeof(err)),
			 0);
	assert_int_equal(c.window_s, 60);
	assert_int_equal(c.relay_base_gap_us[FAM_CHROMIUM], 55000);
	assert_true(c.robotic_max_cv == 0.2);
	assert_int_equal(load_text("window_s = 5\n", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: window_s wants an integer from 10"));
	assert_int_equal(load_text("a\nmax_blocks = x\n", &c, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, ":1: expected key = value"));
	assert_int_equal(
	    load_text("relay_base_gap_us_nss = 1\n", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown key"));
	assert_int_equal(
	    load_text("relay_min_share = inf\n", &c, err, sizeof(err)), -1);
}

static void test_asndb_errors(void **state)
{
	char err[256];

	(void)state;
	assert_null(asndb_open("/nonexistent.mmdb", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent.mmdb"));
	assert_null(asndb_open("/etc/hostname", err, sizeof(err)));
	assert_int_equal(strchr(err, '\n') == NULL, 1);
	/* no database: lookups answer "unknown" */
	{
		struct asn_info ai;
		struct hs_addr a = {{0}};

		asndb_lookup(NULL, &a, &ai);
		assert_int_equal(ai.asn, 0);
		assert_int_equal(ai.cls, NET_UNKNOWN);
	}
}

/* ---- policy ---------------------------------------------------------- */

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

/* One residential_proxy indicator for addr at time t (seconds). */
static void feed(struct policy *p, const char *addr, double score, uint64_t t)
{
	struct cidr c;
	struct indicator ind = {
	    .kind = IND_RESIDENTIAL_PROXY,
	    .score = score,
	    .fresh = true,
	    .at_ns = t * NS,
	    .n_sources = 1,
	};

	assert_int_equal(cidr_parse(addr, &c), 0);
	ind.sources = &c.addr;
	ind.evidence = json_object_new_object();
	policy_on_indicator(p, &ind);
	json_object_put(ind.evidence);
}

static void round_out(struct policy *p, FILE *f, uint64_t t)
{
	struct record_out out = {.log = f, .max_listed = 10};

	policy_expire(p, t * NS);
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
			 100 * (int64_t)NS);
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
	assert_int_equal(st.refused_cap, 50);
	/* expiries spread over [ttl, ttl * 1.1]: no bulk-expiry cliff */
	for (size_t i = 0; i < d.n; i++) {
		int64_t j = num(d.d[i], "expires_ns") - num(d.d[i], "time_ns") -
			    1000 * (int64_t)NS;

		lo = j < lo ? j : lo;
		hi = j > hi ? j : hi;
		distinct += i == 0 || num(d.d[i], "expires_ns") !=
					  num(d.d[i - 1], "expires_ns");
	}
	assert_true(lo >= 0);
	assert_true(hi <= 100 * (int64_t)NS);
	assert_true(hi - lo > 50 * (int64_t)NS);
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
	    .at_ns = 10 * NS,
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
	assert_string_equal(str(d.d[1], "reason"), "farm_cluster");
	assert_int_equal(num(d.d[1], "ttl_s"), cfg.ttl_cluster_s);
	free_records(&d);
	json_object_put(ind.evidence);
	policy_free(p);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_running),
	    cmocka_unit_test(test_client_family),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_asndb_errors),
	    cmocka_unit_test(test_policy_ttls),
	    cmocka_unit_test(test_policy_jitter_and_cap),
	    cmocka_unit_test(test_policy_cluster),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
