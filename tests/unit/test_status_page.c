// SPDX-License-Identifier: BSD-2-Clause
/*
 * The status page's renderers (output/status_page.c, status_json.c) on a
 * fixed snapshot: every client string escaped (an SNI, a JA4, evidence
 * quoting one), the expiry and time texts, the per-table "and N more",
 * the byte bound and its count, dry-run against enforce, the empty state,
 * and the same data in the JSON; and the history of indicators the
 * snapshot takes from the pipeline (output/status_snapshot.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "decide/policy.h"
#include "lib/addr.h"
#include "lib/hstime.h"
#include "lib/sbuf.h"
#include "output/envelope.h"
#include "output/status_page.h"
#include "output/status_snapshot.h"

/* 2026-03-02 10:00:05 UTC */
#define NOW (1772445605ull * HS_NS_PER_SEC)
#define HOSTILE "<script>alert(1)</script>\"'&x"
#define HOSTILE_HTML "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;x"

static void addr(const char *s, struct hs_addr *a)
{
	struct cidr c;

	assert_int_equal(cidr_parse(s, &c), 0);
	*a = c.addr;
}

static void fixture(struct status_page *p, bool enforce)
{
	struct status_cluster *c = &p->clusters[0];
	struct cidr k;

	memset(p, 0, sizeof(*p));
	snprintf(p->iface, sizeof(p->iface), "veth0");
	p->enforce = enforce;
	p->started_ns = NOW - 3605 * HS_NS_PER_SEC;
	p->round_ns = NOW - 2 * HS_NS_PER_SEC;
	p->rounds = 7;
	p->n_clusters = 1;
	p->clusters_total = 4;
	p->farm_clusters = 1;
	c->d.v = (struct cluster_view){
	    .cluster_id = 0x4dd2186215073ef6ull,
	    .tuple_id = 0xe004e4006c141664ull,
	    .ja4 = "t13d3111h1_<b>_f6ef03f872d3",
	    .band = BAND_ANY,
	    .sources = 20,
	    .prefixes = 18,
	    .farm = true,
	    .score = 0.91,
	};
	c->d.n_members = 3;
	addr("198.18.101.2", &c->d.members[0].addr);
	c->d.members[0].flows = 3;
	c->d.members[0].detour_us = 50400;
	c->d.members[0].relayed = true;
	snprintf(c->d.members[0].tcp_sig, sizeof(c->d.members[0].tcp_sig),
		 "4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0");
	addr("2001:db8::7", &c->d.members[1].addr);
	addr("198.18.103.2", &c->d.members[2].addr);
	c->d.n_endpoints = 1;
	snprintf(c->d.endpoints[0].name, sizeof(c->d.endpoints[0].name), "%s",
		 HOSTILE);
	c->d.endpoints[0].flows = 9;
	c->kinds = 1u << IND_FARM_CLUSTER | 1u << IND_PIVOT;
	snprintf(c->evidence, sizeof(c->evidence),
		 "{\"relay_share\":1.0,\"exit_stacks\":3,\"period_s\":1.98,"
		 "\"from\":{\"<img src=x onerror=alert(1)>\":1.0}}");
	p->hour[IND_FARM_CLUSTER] = 2;
	p->hour[IND_RELAY_RTT_GAP] = 6;
	p->n_recent = 1;
	p->recent[0] = (struct status_indicator){
	    .at_ns = NOW - 60 * HS_NS_PER_SEC,
	    .score = 0.8,
	    .sources = 1,
	    .kind = IND_RELAY_RTT_GAP,
	    .evidence = "{\"detour_median_us\":50123,"
			"\"min_ack_to_hello_us\":50410}",
	};
	addr("198.18.101.2", &p->recent[0].source);
	p->n_blocks = 4;
	p->blocks_total = 130;
	p->blocks_pending = 1;
	p->manual_blocks = 2;
	assert_int_equal(cidr_parse("198.18.101.2/32", &k), 0);
	p->blocks[0] = (struct status_block){
	    .expires_ns = NOW + 899500 * HS_NS_PER_MS,
	    .score = 0.91,
	    .ttl_s = 900,
	    .offences = 1,
	    .reason = IND_FARM_CLUSTER,
	    .state = DS_WRITTEN,
	};
	p->blocks[0].key.prefixlen = k.plen;
	memcpy(p->blocks[0].key.addr, k.addr.b, 16);
	p->blocks[1] = p->blocks[0];
	p->blocks[1].expires_ns = 0;
	p->blocks[1].reason = DECISION_ADOPTED;
	p->blocks[2] = p->blocks[0];
	p->blocks[2].expires_ns = NOW - HS_NS_PER_SEC;
	p->blocks[3] = p->blocks[0];
	p->blocks[3].state = DS_PENDING;
	p->n_rules = 1;
	p->rules_total = 1;
	p->rules[0] = (struct status_rule){
	    .id = 0xf0be4251b3892899ull,
	    .expires_ns = NOW + 3599 * HS_NS_PER_SEC,
	    .score = 0.91,
	    .ttl_s = 3600,
	    .min_gap_us = 12000,
	    .min_ack_hello_us = 12000,
	    .low_ack_us = 5000,
	    .lead_max_us = 2000,
	    .kind = HS_RULE_TLS,
	    .reason = IND_FARM_CLUSTER,
	    .state = DS_WRITTEN,
	};
	p->block_would_drop = 11;
	p->tuple_would_drop = 5;
	p->block_drops = 13;
	p->tuple_cuts = 1;
	p->n_cuts = 1;
	p->cuts_total = 1;
	addr("198.18.107.2", &p->cuts[0].key.client);
	addr("198.18.77.1", &p->cuts[0].key.server);
	p->cuts[0].key.cport = 40000;
	p->cuts[0].key.sport = 8443;
	p->cuts[0].rule_id = 0xf0be4251b3892899ull;
	p->cuts[0].last_ns = NOW - 3 * HS_NS_PER_SEC;
	p->cuts[0].kind = HS_RULE_TLS;
}

static char *html(const struct status_page *p, size_t max, size_t *cut)
{
	struct sbuf sb = {0};
	size_t n = status_page_html(p, NOW, max, &sb);

	assert_false(sb_failed(&sb));
	if (cut)
		*cut = n;
	return sb.p;
}

static void has(const char *page, const char *what)
{
	if (!strstr(page, what))
		fail_msg("the page lacks \"%s\"", what);
}

static void lacks(const char *page, const char *what)
{
	if (strstr(page, what))
		fail_msg("the page holds \"%s\"", what);
}

static void test_escaped(void **state)
{
	struct status_page p;
	char *h;

	(void)state;
	fixture(&p, false);
	h = html(&p, STATUS_PAGE_MAX_BYTES, NULL);
	has(h, HOSTILE_HTML);
	lacks(h, "<script");
	lacks(h, "\"'&x");
	/* evidence quoting a client's string, and a JA4 */
	has(h, "&quot;&lt;img src=x onerror=alert(1)&gt;&quot;:1.0");
	lacks(h, "<img");
	has(h, "t13d3111h1_&lt;b&gt;_f6ef03f872d3");
	lacks(h, "_<b>_");
	/* nothing to fetch or run */
	lacks(h, "src=\"");
	lacks(h, "<link");
	free(h);
}

static void test_texts(void **state)
{
	struct status_page p;
	char *h;

	(void)state;
	fixture(&p, false);
	h = html(&p, STATUS_PAGE_MAX_BYTES, NULL);
	has(h, "interface <b>veth0</b>");
	has(h, "<span class=\"mode dry\">dry-run</span>");
	has(h, "up 1h 00m");
	has(h, "2026-03-02 10:00:03.000 UTC (2s ago, round 7)");
	/* expiry: time left rounded up, then local time */
	has(h, "in 15m 00s <span class=\"muted\">(2026-03-02 10:15:04.500 "
	       "UTC)</span>");
	has(h, "<td>never</td>");
	has(h, "<span class=\"warn\">expired</span>");
	has(h, "in 59m 59s");
	has(h, "<td>adopted</td>");
	has(h, "TLS RTT - TCP RTT &ge; 12.0 ms, ACK&rarr;hello &ge; 12.0 ms; "
	       "or ACK&rarr;hello &ge; 5.0 ms with the TLS gap within 2.0 ms "
	       "of it (learned)");
	/* members and their evidence, the cluster's */
	has(h, "<code>2001:db8::7</code>");
	has(h, "50.4 ms (relayed)");
	has(h, "<dt>exit_stacks</dt><dd>3</dd>");
	has(h, "<span class=\"tag\">pivot</span>");
	has(h, "<dt>min_ack_to_hello_us</dt><dd>50410</dd>");
	has(h, "<span class=\"tag\">relay_rtt_gap 6</span>");
	/* bounded tables say what they left out */
	has(h, "and 17 more");
	has(h, "and 126 more");
	has(h, "the 1 largest of 4 clusters");
	free(h);
}

static void test_dry_run_and_enforce(void **state)
{
	struct status_page p;
	char *h;

	(void)state;
	fixture(&p, false);
	h = html(&p, STATUS_PAGE_MAX_BYTES, NULL);
	has(h, "What dry-run would have dropped");
	has(h, "11 packets matched a prefix block, 5 a flow cut");
	has(h, ">would_drop</span>");
	has(h, ">pending</span>");
	has(h, "Desired but not in the datapath yet: 1 prefix blocks");
	has(h, "<code>198.18.107.2 40000</code>");
	has(h, "(dry-run: counted, not dropped)");
	lacks(h, ">enforced</span>");
	free(h);
	fixture(&p, true);
	h = html(&p, STATUS_PAGE_MAX_BYTES, NULL);
	has(h, "<span class=\"mode enf\">enforce</span>");
	has(h, "<h2>Dropped</h2><p>13 packets by prefix blocks");
	has(h, ">enforced</span>");
	lacks(h, "would_drop");
	lacks(h, "would have dropped");
	free(h);
}

/* Past the byte bound rows are left out, counted and said; the page
 * still ends. */
static void test_byte_bound(void **state)
{
	struct status_page p;
	size_t cut, all;
	char *h;

	(void)state;
	fixture(&p, false);
	h = html(&p, STATUS_PAGE_MAX_BYTES, &cut);
	assert_int_equal(cut, 0);
	all = strlen(h);
	lacks(h, "rows left out");
	free(h);
	h = html(&p, all / 2, &cut);
	assert_true(cut > 0);
	assert_true(strlen(h) < all);
	has(h, "rows left out: the page reached its size bound");
	assert_string_equal(h + strlen(h) - 15, "</body></html>\n");
	free(h);
}

static void test_empty(void **state)
{
	struct status_page p;
	size_t cut;
	char *h;

	(void)state;
	memset(&p, 0, sizeof(p));
	snprintf(p.iface, sizeof(p.iface), "eth0");
	p.started_ns = NOW;
	h = html(&p, STATUS_PAGE_MAX_BYTES, &cut);
	assert_int_equal(cut, 0);
	assert_memory_equal(h, "<!DOCTYPE html>", 15);
	assert_string_equal(h + strlen(h) - 15, "</body></html>\n");
	has(h, "last round none yet");
	has(h, "No cluster yet");
	has(h, "None raised.");
	has(h, "Prefix blocks (0; 0 manual ones");
	has(h, "No flow cut.");
	lacks(h, "more</div>");
	lacks(h, "<table>");
	free(h);
}

static json_object *at(json_object *o, const char *path)
{
	char buf[128], *save, *k;

	snprintf(buf, sizeof(buf), "%s", path);
	for (k = strtok_r(buf, ".", &save); k && o;
	     k = strtok_r(NULL, ".", &save))
		o = *k >= '0' && *k <= '9'
			? json_object_array_get_idx(o, (size_t)atoi(k))
			: json_object_object_get(o, k);
	return o;
}

static void test_json(void **state)
{
	struct status_page p;
	json_object *o;
	char *t;

	(void)state;
	fixture(&p, false);
	t = status_page_json(&p, NOW);
	o = json_tokener_parse(t);
	assert_non_null(o);
	assert_string_equal(json_object_get_string(at(o, "type")),
			    "status_page");
	assert_string_equal(json_object_get_string(at(o, "iface")), "veth0");
	assert_string_equal(json_object_get_string(at(o, "mode")), "dry_run");
	assert_string_equal(json_object_get_string(at(o, "last_round")),
			    "2026-03-02T10:00:03.000000Z");
	assert_int_equal(json_object_get_int(at(o, "uptime_s")), 3605);
	assert_string_equal(
	    json_object_get_string(at(o, "clusters.0.endpoints.0.name")),
	    HOSTILE);
	assert_int_equal(json_object_array_length(at(o, "clusters.0.members")),
			 3);
	assert_int_equal(json_object_get_int(at(o, "clusters.0.more_members")),
			 17);
	assert_int_equal(
	    json_object_get_int(at(o, "clusters.0.members.0.detour_us")),
	    50400);
	assert_null(at(o, "clusters.0.members.1.detour_us"));
	assert_int_equal(
	    json_object_get_int(at(o, "clusters.0.evidence.exit_stacks")), 3);
	assert_string_equal(
	    json_object_get_string(at(o, "clusters.0.indicators.1")), "pivot");
	assert_int_equal(
	    json_object_get_int(at(o, "indicators_last_hour.relay_rtt_gap")),
	    6);
	assert_string_equal(json_object_get_string(at(o, "blocks.0.state")),
			    "would_drop");
	assert_string_equal(json_object_get_string(at(o, "blocks.0.prefix")),
			    "198.18.101.2/32");
	assert_int_equal(json_object_get_int(at(o, "blocks.0.expires_in_s")),
			 900);
	assert_null(at(o, "blocks.1.expires"));
	assert_string_equal(json_object_get_string(at(o, "blocks.1.reason")),
			    "adopted");
	assert_int_equal(json_object_get_int(at(o, "blocks.2.expires_in_s")),
			 0);
	assert_string_equal(json_object_get_string(at(o, "blocks.3.state")),
			    "pending");
	assert_int_equal(json_object_get_int(at(o, "blocks_total")), 130);
	assert_string_equal(
	    json_object_get_string(at(o, "tuple_rules.0.rule_on")), "tls_id");
	assert_int_equal(
	    json_object_get_int(at(o, "tuple_rules.0.ack_hello_low_us")), 5000);
	assert_int_equal(
	    json_object_get_int(at(o, "tuple_rules.0.lead_max_us")), 2000);
	assert_int_equal(
	    json_object_get_int(at(o, "blocking.would_drop_prefix")), 11);
	assert_string_equal(json_object_get_string(at(o, "cut_flows.0.client")),
			    "198.18.107.2");
	json_object_put(o);
	free(t);
	/* before the first round */
	memset(&p, 0, sizeof(p));
	p.started_ns = NOW;
	t = status_page_json(&p, NOW);
	o = json_tokener_parse(t);
	assert_non_null(o);
	assert_null(at(o, "last_round"));
	assert_int_equal(json_object_array_length(at(o, "clusters")), 0);
	json_object_put(o);
	free(t);
}

/* The history the pipeline's tap feeds: fresh indicators of the last hour
 * counted by kind, the latest 20 newest first, evidence too long for its
 * room left out and counted; a listed cluster gets the kinds and farm
 * evidence of this round's evaluation only. */
static void test_history(void **state)
{
	const uint64_t s = HS_NS_PER_SEC, x = 0x1111, y = 0x2222;
	struct envelope env = {0}; /* wall clock = datapath time */
	struct status_history *h = status_history_new(&env);
	json_object *ev = json_object_new_object();
	json_object *big = json_object_new_object();
	struct indicator ind;
	struct status_page p;
	struct hs_addr a;
	char key[64];

	(void)state;
	assert_non_null(h);
	addr("198.18.101.2", &a);
	json_object_object_add(ev, "detour_median_us",
			       json_object_new_int(50123));
	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "endpoint-%02d.example.test", i);
		json_object_object_add(big, key, json_object_new_double(0.025));
	}
	ind = (struct indicator){.kind = IND_RELAY_RTT_GAP,
				 .score = 0.8,
				 .fresh = true,
				 .at_ns = NOW - 7200 * s, /* past the hour */
				 .sources = &a,
				 .n_sources = 1,
				 .evidence = ev};
	status_history_on_indicator(h, &ind);
	for (uint64_t i = 25; i > 0; i--) {
		ind.at_ns = NOW - i * s;
		status_history_on_indicator(h, &ind);
	}
	ind.fresh = false; /* repeated, not raised again */
	ind.at_ns = NOW;
	status_history_on_indicator(h, &ind);
	ind = (struct indicator){.kind = IND_FARM_CLUSTER,
				 .at_ns = NOW,
				 .cluster_id = x,
				 .sources = &a,
				 .n_sources = 1,
				 .evidence = ev};
	status_history_on_indicator(h, &ind);
	ind.kind = IND_PIVOT;
	ind.fresh = true;
	ind.evidence = big;
	status_history_on_indicator(h, &ind);
	ind.kind = IND_FARM_CLUSTER;
	ind.cluster_id = y;
	ind.at_ns = NOW - s; /* an earlier evaluation */
	ind.evidence = ev;
	status_history_on_indicator(h, &ind);

	memset(&p, 0, sizeof(p));
	p.n_clusters = 2;
	p.clusters[0].d.v.cluster_id = x;
	p.clusters[1].d.v.cluster_id = y;
	status_history_add(h, &p, NOW);
	assert_int_equal(p.hour[IND_RELAY_RTT_GAP], 25);
	assert_int_equal(p.hour[IND_PIVOT], 1);
	assert_int_equal(p.hour[IND_FARM_CLUSTER], 1); /* y's, fresh */
	assert_int_equal(p.n_recent, STATUS_RECENT);
	assert_int_equal(p.recent[0].kind, IND_FARM_CLUSTER);
	assert_int_equal(p.recent[0].cluster_id, y);
	assert_int_equal(p.recent[1].kind, IND_PIVOT);
	assert_string_equal(p.recent[1].evidence, "");
	assert_int_equal(p.recent[2].at_ns, NOW - s);
	assert_string_equal(p.recent[2].evidence,
			    "{\"detour_median_us\":50123}");
	assert_int_equal(p.recent[19].at_ns, NOW - 18 * s);
	assert_int_equal(p.evidence_omitted, 1);
	assert_int_equal(p.clusters[0].kinds,
			 1u << IND_FARM_CLUSTER | 1u << IND_PIVOT);
	assert_string_equal(p.clusters[0].evidence,
			    "{\"detour_median_us\":50123}");
	assert_int_equal(p.clusters[1].kinds, 0);
	assert_string_equal(p.clusters[1].evidence, "");
	/* an hour on, nothing is left */
	memset(&p, 0, sizeof(p));
	status_history_add(h, &p, NOW + 3661 * s);
	assert_int_equal(p.hour[IND_RELAY_RTT_GAP] + p.hour[IND_PIVOT], 0);
	assert_int_equal(p.n_recent, 0);
	json_object_put(ev);
	json_object_put(big);
	status_history_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escaped),
	    cmocka_unit_test(test_texts),
	    cmocka_unit_test(test_dry_run_and_enforce),
	    cmocka_unit_test(test_byte_bound),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_history),
	};

	/* local times in the page: a fixed zone */
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
