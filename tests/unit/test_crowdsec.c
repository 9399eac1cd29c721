// SPDX-License-Identifier: BSD-2-Clause
/*
 * CrowdSec's pure parts, one row each where there are many cases:
 *  - the LAPI's Go durations, and its stream decisions: what is acted on,
 *    and why the rest is refused (type, scope, an invalid value);
 *  - a decision through the pipeline into a real blocklist map (the
 *    policy path the fleet takes): applied with its duration, cut to
 *    ttl_max_s, refused by the allowlist and by a prefix wider than the
 *    local block size, lifted on deletion unless local evidence holds it;
 *  - the alert POST /v1/alerts takes for a block (every field LAPI 1.4.6
 *    requires, checked against the list its validator printed), and the
 *    import file `cscli decisions import` takes;
 *  - --crowdsec URLs and the credentials file (its format, its mode).
 * The clients themselves run against a real LAPI in
 * tests/live/crowdsec_test.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "decide/crowdsec_pull.h"
#include "decide/pipeline.h"
#include "lib/hstime.h"
#include "lib/lapi.h"
#include "lib/safefile.h"
#include "output/crowdsec.h"
#include "output/json_field.h"
#include "blocking_maps.h"
#include "policy_feed.h"
#include "rows.h"

/* ---- durations ------------------------------------------------------------
 */

struct dur_row {
	const char *name;
	const char *s;
	bool ok;
	int64_t ns;
};

static const struct dur_row dur_rows[] = {
    {"duration: the stream's form", "59m33.848565063s", true, 3573848565063LL},
    {"duration: hours, minutes, seconds", "1h2m3.5s", true, 3723500000000LL},
    {"duration: a deleted decision's (negative)", "-9.927781ms", true,
     -9927781},
    {"duration: micro sign", "150\xc2\xb5s", true, 150000},
    {"duration: Greek mu", "150\xce\xbcs", true, 150000},
    {"duration: us", "2us", true, 2000},
    {"duration: ns", "7ns", true, 7},
    {"duration: zero", "0", true, 0},
    {"duration: a fraction of an hour", "1.5h", true, 5400000000000LL},
    {"duration: no unit", "5", false, 0},
    {"duration: empty", "", false, 0},
    {"duration: a sign alone", "-", false, 0},
    {"duration: an unknown unit", "3d", false, 0},
    {"duration: an exponent", "1e3s", false, 0},
    {"duration: two signs", "--1s", false, 0},
    {"duration: a unit alone", "h", false, 0},
    {"duration: past int64", "9999999999h", false, 0},
};

static void run_dur_row(void **state)
{
	const struct dur_row *r = *state;
	int64_t ns = 12345;

	assert_int_equal(crowdsec_parse_duration(r->s, &ns), r->ok ? 0 : -1);
	if (r->ok)
		assert_int_equal(ns, r->ns);
}

/* ---- stream decisions --------------------------------------------------- */

struct dec_row {
	const char *name;
	const char *json;
	bool ok;
	enum crowdsec_outcome why;
	const char *prefix; /* the key, when ok */
};

#define DEC(type, scope, value, dur)                                           \
	"{\"id\":7,\"origin\":\"cscli\",\"scenario\":\"manual 'ban' from "     \
	"'x'\",\"type\":\"" type "\",\"scope\":\"" scope                       \
	"\",\"value\":\"" value "\",\"duration\":\"" dur "\"}"

static const struct dec_row dec_rows[] = {
    {"decision: an IPv4 ban", DEC("ban", "Ip", "192.0.2.7", "1m59.8s"), true, 0,
     "192.0.2.7/32"},
    {"decision: an IPv6 ban", DEC("ban", "Ip", "2001:db8::7", "10s"), true, 0,
     "2001:db8::7/128"},
    {"decision: a range", DEC("ban", "Range", "10.0.0.0/8", "2m"), true, 0,
     "10.0.0.0/8"},
    {"decision: a range with host bits",
     DEC("ban", "Range", "10.1.2.3/16", "2m"), true, 0, "10.1.0.0/16"},
    {"decision: an IPv6 range", DEC("ban", "Range", "2001:db8:1::/64", "2m"),
     true, 0, "2001:db8:1::/64"},
    {"decision: scope and type in any case",
     DEC("BAN", "ip", "192.0.2.8", "2m"), true, 0, "192.0.2.8/32"},
    {"decision: a captcha is not a ban",
     DEC("captcha", "Ip", "192.0.2.9", "2m"), false, CS_TYPE, NULL},
    {"decision: a country", DEC("ban", "Country", "FR", "2m"), false, CS_SCOPE,
     NULL},
    {"decision: a username", DEC("ban", "Username", "bob", "2m"), false,
     CS_SCOPE, NULL},
    {"decision: an Ip with a prefix", DEC("ban", "Ip", "192.0.2.0/24", "2m"),
     false, CS_INVALID, NULL},
    {"decision: a Range without one", DEC("ban", "Range", "192.0.2.1", "2m"),
     false, CS_INVALID, NULL},
    {"decision: not an address", DEC("ban", "Ip", "999.1.1.1", "2m"), false,
     CS_INVALID, NULL},
    {"decision: a prefix past /32", DEC("ban", "Range", "10.0.0.0/33", "2m"),
     false, CS_INVALID, NULL},
    {"decision: a name", DEC("ban", "Ip", "lapi.example", "2m"), false,
     CS_INVALID, NULL},
    {"decision: a bad duration", DEC("ban", "Ip", "192.0.2.7", "soon"), false,
     CS_INVALID, NULL},
    {"decision: a value far too long",
     DEC("ban", "Ip",
	 "192.0.2."
	 "7aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaa",
	 "2m"),
     false, CS_INVALID, NULL},
    {"decision: a value that is a number",
     "{\"type\":\"ban\",\"scope\":\"Ip\",\"value\":3221225985,"
     "\"duration\":\"2m\"}",
     false, CS_INVALID, NULL},
    {"decision: no value",
     "{\"type\":\"ban\",\"scope\":\"Ip\",\"duration\":\"2m\"}", false,
     CS_INVALID, NULL},
    {"decision: not an object", "[1,2]", false, CS_INVALID, NULL},
};

static void run_dec_row(void **state)
{
	const struct dec_row *r = *state;
	json_object *o = json_tokener_parse(r->json);
	struct crowdsec_decision d;
	enum crowdsec_outcome why = CS_APPLIED;

	assert_non_null(o);
	assert_int_equal(crowdsec_decision_parse(o, &d, &why), r->ok);
	if (r->ok) {
		struct hs_lpm_key k = lpm(r->prefix);

		assert_memory_equal(&d.k, &k, sizeof(k));
		assert_int_equal(d.id, 7);
		assert_string_equal(d.origin, "cscli");
	} else {
		assert_int_equal(why, r->why);
	}
	json_object_put(o);
}

/* The record a decision becomes: the fleet's remote form, its expiry the
 * decision's duration from now. */
static void test_decision_record(void **state)
{
	json_object *o = json_tokener_parse(
	    DEC("ban", "Range", "2001:db8:1::/64", "1h0m0.9s"));
	const uint64_t wall = 1800000000ull * HS_NS_PER_SEC;
	struct crowdsec_decision d;
	enum crowdsec_outcome why;
	json_object *r;

	(void)state;
	assert_true(crowdsec_decision_parse(o, &d, &why));
	r = crowdsec_decision_record(&d, wall);
	assert_non_null(r);
	assert_string_equal(json_field_str(r, "action"), "block_prefix");
	assert_string_equal(json_field_str(r, "prefix"), "2001:db8:1::/64");
	assert_int_equal(json_field_u64(r, "ttl_s"), 3600);
	assert_int_equal(json_field_u64(r, "expires_ns"),
			 wall + 3600900 * HS_NS_PER_MS);
	assert_string_equal(json_field_str(r, "origin"), "crowdsec/cscli");
	assert_string_equal(json_field_str(r, "id"), "crowdsec/7");
	assert_string_equal(json_field_str(r, "reason"), "crowdsec");
	json_object_put(r);
	/* under a second left: nothing to apply */
	d.duration_ns = 999 * (int64_t)HS_NS_PER_MS;
	assert_null(crowdsec_decision_record(&d, wall));
	json_object_put(o);
}

/* ---- through the pipeline into the kernel's blocklist -------------------- */

/* The blocking maps with 192.0.2.50 allowlisted, and a pipeline into them. */
static struct pipeline *test_pipeline(struct blocking_maps *m,
				      struct corr_config *cfg, FILE *log)
{
	struct hs_lpm_key allow = lpm("192.0.2.50/32");
	struct hs_allow av = {0};

	blocking_maps_open(m, 64);
	assert_int_equal(bpf_map_update_elem(m->allow, &allow, &av, BPF_ANY),
			 0);
	return blocking_pipeline_new(m, cfg, log);
}

/* One stream decision as the bouncer hands it on; returns the outcome. */
static enum remote_result pull_one(struct pipeline *pl, const char *json,
				   uint64_t now)
{
	json_object *o = json_tokener_parse(json), *rec;
	struct crowdsec_decision d;
	enum crowdsec_outcome why;
	enum remote_result res;

	assert_true(crowdsec_decision_parse(o, &d, &why));
	rec = crowdsec_decision_record(&d, record_wall(&pl->out, now));
	assert_non_null(rec);
	pipeline_apply_remote(pl, &rec, 1, now, &res);
	json_object_put(rec);
	json_object_put(o);
	return res;
}

static bool in_map(int fd, const char *prefix, struct hs_block *b)
{
	struct hs_lpm_key k = lpm(prefix);

	return !bpf_map_lookup_elem(fd, &k, b);
}

static void test_pull_into_blocklist(void **state)
{
	FILE *log = tmpfile();
	struct corr_config cfg;
	struct blocking_maps m;
	struct pipeline *pl = test_pipeline(&m, &cfg, log);
	uint64_t now = hs_clock_ns(CLOCK_MONOTONIC);
	struct hs_lpm_key k = lpm("192.0.2.7/32");
	struct hs_block b;
	bool lifted;
	char line[4096];

	(void)state;
	assert_int_equal(pull_one(pl, DEC("ban", "Ip", "192.0.2.7", "2m"), now),
			 REMOTE_APPLIED);
	assert_true(in_map(m.block, "192.0.2.7/32", &b));
	assert_int_equal(b.reason, HS_R_INDICATOR);
	assert_true(b.expires_ns >= now + 119 * HS_NS_PER_SEC &&
		    b.expires_ns <= now + 121 * HS_NS_PER_SEC);
	/* the same again: a duplicate */
	assert_int_equal(pull_one(pl, DEC("ban", "Ip", "192.0.2.7", "1m"), now),
			 REMOTE_HELD);
	/* the allowlist wins; wider than block_v4_prefix (32) is refused */
	assert_int_equal(
	    pull_one(pl, DEC("ban", "Ip", "192.0.2.50", "2m"), now),
	    REMOTE_ALLOWLISTED);
	assert_int_equal(
	    pull_one(pl, DEC("ban", "Range", "10.0.0.0/8", "2m"), now),
	    REMOTE_WIDE);
	assert_false(in_map(m.block, "192.0.2.50/32", &b));
	assert_false(in_map(m.block, "10.0.0.0/8", &b));
	/* a year is cut to ttl_max_s */
	assert_int_equal(
	    pull_one(pl, DEC("ban", "Ip", "192.0.2.8", "8760h"), now),
	    REMOTE_APPLIED);
	assert_true(in_map(m.block, "192.0.2.8/32", &b));
	assert_true(b.expires_ns <=
		    now + (uint64_t)cfg.ttl_max_s * HS_NS_PER_SEC);
	/* deleted on the LAPI: lifted at once */
	pipeline_lift_remote(pl, &k, 1, now, &lifted);
	assert_true(lifted);
	assert_false(in_map(m.block, "192.0.2.7/32", &b));
	/* again: nothing held, nothing lifted */
	pipeline_lift_remote(pl, &k, 1, now, &lifted);
	assert_false(lifted);
	/* a block a local indicator stands behind stays, and counts as
	 * this host's own (the bouncer skips hydrascope's own decisions) */
	feed(pl->policy, "192.0.2.9", 0.9, now / HS_NS_PER_SEC);
	k = lpm("192.0.2.9/32");
	assert_true(policy_block_local(pl->policy, &k));
	assert_int_equal(pull_one(pl, DEC("ban", "Ip", "192.0.2.9", "1m"), now),
			 REMOTE_HELD);
	pipeline_lift_remote(pl, &k, 1, now, &lifted);
	assert_false(lifted);
	k = lpm("192.0.2.8/32");
	assert_false(policy_block_local(pl->policy, &k));
	/* the applied decisions are logged with their origin */
	rewind(log);
	assert_non_null(fgets(line, sizeof(line), log));
	assert_non_null(strstr(line, "\"origin\":\"crowdsec/cscli\""));
	assert_non_null(strstr(line, "\"prefix\":\"192.0.2.7/32\""));
	pipeline_free(pl);
	fclose(log);
	blocking_maps_close(&m);
}

/* ---- what is pushed ------------------------------------------------------ */

/* Every field LAPI 1.4.6's validator asks for ("validation failure list:
 * capacity in body is required ..."), and the decision's. */
static const char *const alert_fields[] = {
    "capacity", "events",	 "events_count",     "leakspeed", "message",
    "scenario", "scenario_hash", "scenario_version", "simulated", "source",
    "start_at", "stop_at",	 "decisions",
};
static const char *const decision_fields[] = {
    "duration", "origin", "scenario", "scope", "type", "value",
};

static void check_alert(json_object *a, const char *scope, const char *value,
			const char *duration, bool simulated)
{
	json_object *d, *src;

	for (size_t i = 0; i < sizeof(alert_fields) / sizeof(*alert_fields);
	     i++)
		assert_true(
		    json_object_object_get_ex(a, alert_fields[i], NULL));
	assert_true(json_object_is_type(json_object_object_get(a, "events"),
					json_type_array));
	assert_true(json_object_is_type(json_object_object_get(a, "capacity"),
					json_type_int));
	assert_true(json_object_is_type(json_object_object_get(a, "leakspeed"),
					json_type_string));
	assert_int_equal(
	    json_object_array_length(json_object_object_get(a, "decisions")),
	    1);
	d = json_object_array_get_idx(json_object_object_get(a, "decisions"),
				      0);
	for (size_t i = 0;
	     i < sizeof(decision_fields) / sizeof(*decision_fields); i++)
		assert_true(json_object_is_type(
		    json_object_object_get(d, decision_fields[i]),
		    json_type_string));
	assert_string_equal(json_field_str(d, "origin"), "hydrascope");
	assert_string_equal(json_field_str(d, "type"), "ban");
	assert_string_equal(json_field_str(d, "scope"), scope);
	assert_string_equal(json_field_str(d, "value"), value);
	assert_string_equal(json_field_str(d, "duration"), duration);
	assert_string_equal(json_field_str(d, "scenario"),
			    "hydrascope/residential_proxy");
	assert_string_equal(json_field_str(a, "scenario"),
			    "hydrascope/residential_proxy");
	assert_int_equal(
	    json_object_get_boolean(json_object_object_get(d, "simulated")),
	    simulated);
	assert_int_equal(
	    json_object_get_boolean(json_object_object_get(a, "simulated")),
	    simulated);
	src = json_object_object_get(a, "source");
	assert_string_equal(json_field_str(src, "scope"), scope);
	assert_string_equal(json_field_str(src, "value"), value);
	assert_string_equal(
	    json_field_str(src, strcmp(scope, "Ip") ? "range" : "ip"), value);
}

static void test_alert(void **state)
{
	const uint64_t now =
	    1772442000ull * HS_NS_PER_SEC; /* 2026-03-02 09:00 */
	struct crowdsec_block b = {
	    .k = lpm("198.51.100.7/32"),
	    .reason = "residential_proxy",
	    .score = 0.8,
	    .since_ns = now - 60 * HS_NS_PER_SEC,
	    .expires_ns = now + 1800 * HS_NS_PER_SEC + 700 * HS_NS_PER_MS,
	};
	json_object *a;

	(void)state;
	a = crowdsec_alert(&b, now, now + 5 * HS_NS_PER_SEC, false, "h/i");
	assert_non_null(a);
	check_alert(a, "Ip", "198.51.100.7", "1800s", false);
	/* the LAPI's expiry is stop_at + duration: stop_at is the push */
	assert_string_equal(json_field_str(a, "stop_at"),
			    "2026-03-02T09:00:05.000000Z");
	assert_string_equal(json_field_str(a, "start_at"),
			    "2026-03-02T08:59:00.000000Z");
	json_object_put(a);
	/* an IPv6 /64 is a Range; dry-run pushes simulated decisions */
	b.k = lpm("2001:db8:5::/64");
	a = crowdsec_alert(&b, now, now, true, "h/i");
	check_alert(a, "Range", "2001:db8:5::/64", "1800s", true);
	json_object_put(a);
	/* under a second left: nothing to push */
	b.expires_ns = now + 999 * HS_NS_PER_MS;
	assert_null(crowdsec_alert(&b, now, now, false, "h/i"));
}

/* A decision record as the policy writes it. */
static json_object *block_record(const char *action, const char *prefix,
				 uint64_t t, uint64_t expires)
{
	char j[512];

	snprintf(j, sizeof(j),
		 "{\"type\":\"decision\",\"time_ns\":%llu,\"action\":\"%s\","
		 "\"prefix\":\"%s\",\"ttl_s\":1800,\"expires_ns\":%llu,"
		 "\"reason\":\"farm_cluster\",\"indicators\":[{\"kind\":"
		 "\"farm_cluster\",\"score\":0.9}]}",
		 (unsigned long long)t, action, prefix,
		 (unsigned long long)expires);
	return json_tokener_parse(j);
}

/* The import file: one line per block in force, the time it has left;
 * a lapsed block and a tuple rule are not in it; a renewal extends. */
static void test_export_file(void **state)
{
	char path[] = "/tmp/hydrascope-test-export-XXXXXX.csv", text[1024];
	const uint64_t s = HS_NS_PER_SEC, now = 1000000 * s;
	struct crowdsec_push_opts o = {
	    .export_path = path, .origin = "h/i", .max_held = 16};
	struct crowdsec_push *c;
	struct record_sink sink;
	struct crowdsec_push_stats st;
	json_object *d;
	FILE *f;
	size_t n;
	int fd;

	(void)state;
	fd = mkstemps(path, 4);
	assert_true(fd >= 0);
	close(fd);
	c = crowdsec_push_new(&o);
	assert_non_null(c);
	sink = crowdsec_push_sink(c);
	const struct {
		const char *action, *prefix;
		uint64_t expires;
	} recs[] = {
	    {"block_prefix", "100.64.1.7/32", now + 600 * s},
	    {"block_prefix", "2001:db8:7::/64", now + 3600 * s},
	    {"block_prefix", "100.64.2.7/32", now - s},	      /* lapsed */
	    {"tuple_rule", "", now + 600 * s},		      /* no scope */
	    {"block_prefix", "100.64.1.7/32", now + 900 * s}, /* renewal */
	};
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		d = block_record(recs[i].action, recs[i].prefix, now,
				 recs[i].expires);
		sink.decision(sink.ctx, d);
		json_object_put(d);
	}
	assert_int_equal(crowdsec_push_export(c, now), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	fclose(f);
	assert_non_null(
	    strstr(text, "duration,origin,reason,scope,type,value\n"));
	assert_non_null(strstr(
	    text,
	    "900s,hydrascope,hydrascope/farm_cluster,Ip,ban,100.64.1.7\n"));
	assert_non_null(strstr(text,
			       "3600s,hydrascope,hydrascope/"
			       "farm_cluster,Range,ban,2001:db8:7::/64\n"));
	assert_null(strstr(text, "100.64.2.7"));
	crowdsec_push_get_stats(c, &st);
	assert_int_equal(st.exports, 1);
	assert_int_equal(st.pending, 0); /* no LAPI: nothing waits */
	crowdsec_push_free(c);
	unlink(path);
}

/* ---- URL and credentials ---------------------------------------------------
 */

struct url_row {
	const char *name;
	const char *url;
	const char *base; /* NULL: refused */
};

static const struct url_row url_rows[] = {
    {"url: host and port", "http://127.0.0.1:8080", "http://127.0.0.1:8080"},
    {"url: a trailing slash goes", "https://lapi.example/",
     "https://lapi.example"},
    {"url: IPv6 and a path", "http://[::1]:8080/crowdsec/",
     "http://[::1]:8080/crowdsec"},
    {"url: another scheme", "ftp://127.0.0.1:8080", NULL},
    {"url: no scheme", "127.0.0.1:8080", NULL},
    {"url: credentials in it", "http://machine:pw@127.0.0.1:8080", NULL},
    {"url: a query", "http://127.0.0.1:8080/?startup=true", NULL},
    {"url: a fragment", "http://127.0.0.1:8080/#x", NULL},
    {"url: no host", "http://", NULL},
    {"url: a port past 65535", "http://127.0.0.1:70000", NULL},
};

static void run_url_row(void **state)
{
	const struct url_row *r = *state;
	char base[512], err[600];

	assert_int_equal(
	    lapi_check_url(r->url, base, sizeof(base), err, sizeof(err)),
	    r->base ? 0 : -1);
	if (r->base)
		assert_string_equal(base, r->base);
	else
		assert_non_null(strstr(err, r->url));
}

struct cred_row {
	const char *name;
	const char *text;
	const char *login, *password, *api_key; /* NULL: refused */
};

static const struct cred_row cred_rows[] = {
    {"credentials: what cscli machines add -f writes",
     "url: http://127.0.0.1:8080\nlogin: hs-1\npassword: pw1\n", "hs-1", "pw1",
     ""},
    {"credentials: with a bouncer key, CRLF, comments",
     "# hydrascope\r\nlogin: hs-1\r\npassword: 'p: w'\r\n\r\napi_key: "
     "\"k123\"\r\n",
     "hs-1", "p: w", "k123"},
    {"credentials: the bouncer key alone", "api_key: k123", "", "", "k123"},
    {"credentials: other keys are cscli's", "login: a\nkey_path: x\n", "a", "",
     ""},
    {"credentials: a key twice", "api_key: a\napi_key: b\n", NULL, NULL, NULL},
    {"credentials: an empty value", "login:\n", NULL, NULL, NULL},
    {"credentials: not key: value", "login hs-1\n", NULL, NULL, NULL},
    {"credentials: a control character",
     "password: a\x01"
     "b\n",
     NULL, NULL, NULL},
};

static void run_cred_row(void **state)
{
	const struct cred_row *r = *state;
	struct lapi_conf c = {0};
	char err[256] = "";

	assert_int_equal(lapi_parse_credentials(r->text, &c, err, sizeof(err)),
			 r->login ? 0 : -1);
	if (!r->login) {
		assert_non_null(strstr(err, "line "));
		return;
	}
	assert_string_equal(c.login, r->login);
	assert_string_equal(c.password, r->password);
	assert_string_equal(c.api_key, r->api_key);
}

/* A secret file: refused when others may read it or the group write it. */
static void test_credentials_mode(void **state)
{
	static const struct {
		mode_t mode;
		bool ok;
	} modes[] = {{0600, true},  {0640, true},  {0400, true},
		     {0644, false}, {0660, false}, {0604, false}};
	char path[] = "/tmp/hydrascope-test-creds-XXXXXX", err[512];
	struct lapi_conf c;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "login: a\npassword: b\n", 21), 21);
	close(fd);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		memset(&c, 0, sizeof(c));
		assert_int_equal(chmod(path, modes[i].mode), 0);
		assert_int_equal(
		    lapi_load_credentials(path, &c, err, sizeof(err)),
		    modes[i].ok ? 0 : -1);
		if (!modes[i].ok) {
			assert_non_null(strstr(err, path));
			assert_non_null(strstr(err, "mode"));
		} else {
			assert_string_equal(c.password, "b");
		}
	}
	unlink(path);
	assert_int_equal(lapi_load_credentials(path, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
	const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(test_decision_record),
	    cmocka_unit_test(test_pull_into_blocklist),
	    cmocka_unit_test(test_alert),
	    cmocka_unit_test(test_export_file),
	    cmocka_unit_test(test_credentials_mode),
	};
	struct {
		const void *rows;
		size_t n, size;
		CMUnitTestFunction fn;
	} tables[] = {
	    {dur_rows, sizeof(dur_rows) / sizeof(dur_rows[0]),
	     sizeof(dur_rows[0]), run_dur_row},
	    {dec_rows, sizeof(dec_rows) / sizeof(dec_rows[0]),
	     sizeof(dec_rows[0]), run_dec_row},
	    {url_rows, sizeof(url_rows) / sizeof(url_rows[0]),
	     sizeof(url_rows[0]), run_url_row},
	    {cred_rows, sizeof(cred_rows) / sizeof(cred_rows[0]),
	     sizeof(cred_rows[0]), run_cred_row},
	};
	size_t total = sizeof(fixed) / sizeof(fixed[0]), at;
	struct CMUnitTest *t;
	int rc;

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		total += tables[i].n;
	t = calloc(total, sizeof(*t));
	if (!t)
		return 1;
	memcpy(t, fixed, sizeof(fixed));
	at = sizeof(fixed) / sizeof(fixed[0]);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		for (size_t j = 0; j < tables[i].n; j++, at++) {
			const char *row =
			    (const char *)tables[i].rows + j * tables[i].size;

			t[at].name = *(const char *const *)row;
			t[at].test_func = tables[i].fn;
			t[at].initial_state = (void *)row;
		}
	rc = _cmocka_run_group_tests("crowdsec", t, total, NULL, NULL);
	free(t);
	return rc;
}
