// SPDX-License-Identifier: BSD-2-Clause
/*
 * The LAPI clients against a fake LAPI on loopback that answers what a
 * test scripts, one connection a request: a huge answer (declared, and
 * not declared) is cut at the cap and counted; a stalled one times out;
 * connection refused, 401 and a body that is not JSON are counted by
 * reason; a stream of 10,003 decisions applies 10,000 at most, counts the
 * rest and every refusal, and lands in a real blocklist map; a push
 * logs in again after a 401 and drops a batch the LAPI refuses (400)
 * rather than retry it for ever. The real LAPI: tests/live/crowdsec_test.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "decide/crowdsec_pull.h"
#include "decide/pipeline.h"
#include "lib/hstime.h"
#include "lib/lapi.h"
#include "lib/sbuf.h"
#include "output/crowdsec.h"
#include "blocking_maps.h"
#include "policy_feed.h"

/* ---- a scripted LAPI ------------------------------------------------------
 */

enum how { SEND, NO_LENGTH, STALL };

struct answer {
	const char *status; /* "200 OK" */
	const char *body;
	enum how how;
};

#define MAX_ANSWERS 8

struct fake {
	int lfd;
	unsigned port;
	struct answer a[MAX_ANSWERS];
	size_t n;
	char requests[MAX_ANSWERS][4096]; /* head and body as received */
	pthread_t th;
};

/* Read one request (head and a Content-Length body) into buf. */
static void read_request(int fd, char *buf, size_t cap)
{
	size_t len = 0, want = 0;
	ssize_t r;
	char *head_end;

	while (len < cap - 1 && (r = read(fd, buf + len, cap - 1 - len)) > 0) {
		len += (size_t)r;
		buf[len] = 0;
		head_end = strstr(buf, "\r\n\r\n");
		if (!head_end)
			continue;
		if (!want) {
			const char *cl = strcasestr(buf, "Content-Length:");

			want = (size_t)(head_end + 4 - buf) +
			       (cl && cl < head_end ? strtoul(cl + 15, NULL, 10)
						    : 0);
		}
		if (len >= want)
			break;
	}
	buf[len] = 0;
}

static void *serve(void *arg)
{
	struct fake *f = arg;

	for (size_t i = 0; i < f->n; i++) {
		const struct answer *a = &f->a[i];
		int fd = accept(f->lfd, NULL, NULL);
		char head[256], sink[256];
		int hl;

		if (fd < 0)
			break;
		read_request(fd, f->requests[i], sizeof(f->requests[i]));
		if (a->how == STALL) {
			/* until the client gives up and closes */
			while (read(fd, sink, sizeof(sink)) > 0)
				;
			close(fd);
			continue;
		}
		hl = a->how == NO_LENGTH
			 ? snprintf(head, sizeof(head),
				    "HTTP/1.1 %s\r\nConnection: close\r\n\r\n",
				    a->status)
			 : snprintf(head, sizeof(head),
				    "HTTP/1.1 %s\r\nContent-Type: "
				    "application/json\r\nContent-Length: "
				    "%zu\r\nConnection: close\r\n\r\n",
				    a->status, strlen(a->body));
		/* MSG_NOSIGNAL: a client that hangs up at its cap ends
		 * this, not the test */
		if (send(fd, head, (size_t)hl, MSG_NOSIGNAL) == hl) {
			const char *p = a->body;
			size_t left = strlen(p);
			ssize_t w;

			while (left &&
			       (w = send(fd, p, left, MSG_NOSIGNAL)) > 0) {
				p += w;
				left -= (size_t)w;
			}
		}
		close(fd);
	}
	return NULL;
}

static void fake_start(struct fake *f, const struct answer *a, size_t n)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);

	memset(f, 0, sizeof(*f));
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
	f->port = ntohs(sa.sin_port);
	memcpy(f->a, a, n * sizeof(*a));
	f->n = n;
	assert_int_equal(pthread_create(&f->th, NULL, serve, f), 0);
}

static void fake_stop(struct fake *f)
{
	shutdown(f->lfd, SHUT_RDWR); /* an accept still waiting returns */
	pthread_join(f->th, NULL);
	close(f->lfd);
}

static void conf_for(struct lapi_conf *c, unsigned port)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->url, sizeof(c->url), "http://127.0.0.1:%u", port);
	snprintf(c->login, sizeof(c->login), "hs");
	snprintf(c->password, sizeof(c->password), "pw");
	snprintf(c->api_key, sizeof(c->api_key), "k3y");
}

/* One request to its end. */
static enum lapi_failure exchange(struct lapi_http *h, const char *body,
				  long *status)
{
	enum lapi_failure f;

	assert_int_equal(lapi_http_start(h, "/v1/x", NULL, body), 0);
	do
		f = lapi_http_step(h, 50, status);
	while (f == LAPI_PENDING);
	return f;
}

/* A string of n bytes of c, for answers past a cap. */
static char *bytes(size_t n, char c)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = 0;
	return s;
}

/* ---- the HTTP exchange's bounds ------------------------------------------ */

static void test_http_bounds(void **state)
{
	char *big = bytes(70000, ' ');
	struct answer a[] = {
	    {"200 OK", "{\"ok\":1}", SEND},
	    {"200 OK", big, SEND},	/* declared past the cap */
	    {"200 OK", big, NO_LENGTH}, /* not declared: cut while read */
	    {"200 OK", "", STALL},
	};
	struct fake f;
	struct lapi_conf c;
	struct lapi_http *h;
	long status;

	(void)state;
	fake_start(&f, a, 4);
	conf_for(&c, f.port);
	h = lapi_http_new(&c, 65536, 300);
	assert_non_null(h);
	assert_int_equal(exchange(h, "{\"q\":1}", &status), LAPI_OK);
	assert_int_equal(status, 200);
	assert_string_equal(lapi_http_body(h, NULL), "{\"ok\":1}");
	assert_non_null(strstr(f.requests[0], "POST /v1/x HTTP/1.1"));
	assert_non_null(strstr(f.requests[0], "{\"q\":1}"));
	assert_int_equal(exchange(h, NULL, &status), LAPI_F_TOO_LARGE);
	assert_int_equal(exchange(h, NULL, &status), LAPI_F_TOO_LARGE);
	assert_int_equal(exchange(h, NULL, &status), LAPI_F_TIMEOUT);
	lapi_http_free(h);
	fake_stop(&f);
	/* nobody listens there any more */
	h = lapi_http_new(&c, 65536, 300);
	assert_int_equal(exchange(h, NULL, &status), LAPI_F_CONNECT);
	lapi_http_free(h);
	free(big);
}

/* ---- the bouncer against a hostile stream -----------------------------------
 */

static uint64_t failures(const struct crowdsec_pull_stats *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < LAPI_F_COUNT; i++)
		n += s->failures[i];
	return n;
}

/* Poll until one request has ended (answered or failed). */
static void pull_once(struct crowdsec_pull *p, struct pipeline *pl)
{
	struct crowdsec_pull_stats a, b;

	crowdsec_pull_get_stats(p, &a);
	for (int i = 0; i < 20000; i++) {
		crowdsec_pull_poll(p, pl, hs_clock_ns(CLOCK_MONOTONIC));
		crowdsec_pull_get_stats(p, &b);
		if (b.requests > a.requests && (b.last_ok_ns != a.last_ok_ns ||
						failures(&b) != failures(&a)))
			return;
		usleep(500);
	}
	fail_msg("the bouncer's request never ended");
}

/* A stream answer: three refusals, then n bans of 10.a.b.c. */
static char *stream_of(size_t n)
{
	struct sbuf sb = {0};

	sb_printf(&sb, "{\"deleted\":null,\"new\":["
		       "{\"id\":1,\"type\":\"ban\",\"scope\":\"Ip\","
		       "\"value\":\"not-an-ip\",\"duration\":\"1h\"},"
		       "{\"id\":2,\"type\":\"captcha\",\"scope\":\"Ip\","
		       "\"value\":\"192.0.2.1\",\"duration\":\"1h\"},"
		       "{\"id\":3,\"type\":\"ban\",\"scope\":\"Country\","
		       "\"value\":\"FR\",\"duration\":\"1h\"}");
	for (size_t i = 0; i < n; i++)
		sb_printf(&sb,
			  ",{\"id\":%zu,\"origin\":\"CAPI\",\"type\":\"ban\","
			  "\"scope\":\"Ip\",\"value\":\"10.%zu.%zu.%zu\","
			  "\"duration\":\"1h\"}",
			  10 + i, i >> 16, (i >> 8) & 255, i & 255);
	sb_printf(&sb, "]}");
	assert_false(sb_failed(&sb));
	return sb.p;
}

static void test_pull_hostile(void **state)
{
	char *stream = stream_of(CROWDSEC_PULL_MAX);
	char *huge = bytes(CROWDSEC_PULL_MAX_BODY + 1, ' ');
	struct answer a[] = {
	    {"200 OK", stream, SEND},
	    {"200 OK",
	     "{\"deleted\":[{\"id\":10,\"type\":\"ban\",\"scope\":"
	     "\"Ip\",\"value\":\"10.0.0.0\",\"duration\":\"-1s\"}],"
	     "\"new\":null}",
	     SEND},
	    {"401 Unauthorized", "{\"message\":\"access forbidden\"}", SEND},
	    {"200 OK", "<html>", SEND},
	    {"200 OK", huge, NO_LENGTH},
	    /* after a failure, a full answer again (startup=true) */
	    {"200 OK", "{\"deleted\":null,\"new\":null}", SEND},
	};
	struct crowdsec_pull_stats st;
	struct crowdsec_pull *p;
	struct lapi_conf c;
	struct hs_lpm_key k;
	struct hs_block b;
	struct fake f;
	FILE *log = tmpfile();
	static struct corr_config cfg;
	struct blocking_maps m;
	struct pipeline *pl;

	(void)state;
	blocking_maps_open(&m, 16384); /* every ban of a full answer */
	pl = blocking_pipeline_new(&m, &cfg, log);
	fake_start(&f, a, 6);
	conf_for(&c, f.port);
	/* no interval (the option's floor is 1 s): the polls come back to
	 * back, after a failure when the backoff lets them */
	p = crowdsec_pull_new(&c, 0);
	assert_non_null(p);
	pull_once(p, pl);
	crowdsec_pull_get_stats(p, &st);
	assert_true(st.up);
	assert_int_equal(st.received, CROWDSEC_PULL_MAX + 3);
	assert_int_equal(st.outcome[CS_INVALID], 1);
	assert_int_equal(st.outcome[CS_TYPE], 1);
	assert_int_equal(st.outcome[CS_SCOPE], 1);
	assert_int_equal(st.outcome[CS_OVER_CAP], 3);
	assert_int_equal(st.outcome[CS_APPLIED], CROWDSEC_PULL_MAX - 3);
	k = lpm("10.0.0.0/32");
	assert_int_equal(bpf_map_lookup_elem(m.block, &k, &b), 0);
	assert_true(b.expires_ns > hs_clock_ns(CLOCK_MONOTONIC));
	assert_non_null(strstr(f.requests[0], "startup=true"));
	assert_non_null(strstr(f.requests[0], "X-Api-Key: k3y"));
	/* the next is a delta: the deletion lifts the block */
	pull_once(p, pl);
	assert_non_null(strstr(f.requests[1], "startup=false"));
	assert_int_not_equal(bpf_map_lookup_elem(m.block, &k, &b), 0);
	crowdsec_pull_get_stats(p, &st);
	assert_int_equal(st.outcome[CS_LIFTED], 1);
	/* 401, not JSON, past the cap: counted by reason, nothing applied */
	for (int i = 0; i < 3; i++)
		pull_once(p, pl);
	crowdsec_pull_get_stats(p, &st);
	assert_false(st.up);
	assert_int_equal(st.failures[LAPI_F_AUTH], 1);
	assert_int_equal(st.failures[LAPI_F_PARSE], 1);
	assert_int_equal(st.failures[LAPI_F_TOO_LARGE], 1);
	assert_int_equal(st.outcome[CS_APPLIED], CROWDSEC_PULL_MAX - 3);
	pull_once(p, pl);
	assert_non_null(strstr(f.requests[5], "startup=true"));
	crowdsec_pull_get_stats(p, &st);
	assert_true(st.up);
	crowdsec_pull_free(p);
	fake_stop(&f);
	pipeline_free(pl);
	blocking_maps_close(&m);
	fclose(log);
	free(stream);
	free(huge);
}

/* ---- the push: a new login after a 401, a refused batch dropped ------------
 */

static void sink_block(struct crowdsec_push *c, const char *prefix,
		       uint64_t now)
{
	struct record_sink s = crowdsec_push_sink(c);
	char j[512];
	json_object *d;

	snprintf(j, sizeof(j),
		 "{\"type\":\"decision\",\"time_ns\":%llu,\"action\":"
		 "\"block_prefix\",\"prefix\":\"%s\",\"ttl_s\":600,"
		 "\"expires_ns\":%llu,\"reason\":\"residential_proxy\","
		 "\"indicators\":[{\"kind\":\"residential_proxy\",\"score\":"
		 "0.8}]}",
		 (unsigned long long)now, prefix,
		 (unsigned long long)(now + 600 * HS_NS_PER_SEC));
	d = json_tokener_parse(j);
	s.decision(s.ctx, d);
	json_object_put(d);
}

static void test_push_relogin_and_reject(void **state)
{
	const char *tok = "{\"code\":200,\"token\":\"%s\"}";
	char t1[64], t2[64];
	struct answer a[] = {
	    {"200 OK", t1, SEND},
	    {"401 Unauthorized", "{}", SEND}, /* the token lapsed */
	    {"200 OK", t2, SEND},
	    {"201 Created", "[\"1\",\"2\"]", SEND},
	    {"400 Bad Request", "{\"message\":\"bad\"}", SEND},
	};
	const uint64_t now = hs_clock_ns(CLOCK_REALTIME);
	struct crowdsec_push_opts o = {.origin = "h/i", .max_held = 16};
	struct crowdsec_push_stats st;
	struct crowdsec_push *c;
	struct lapi_conf conf;
	struct fake f;

	(void)state;
	snprintf(t1, sizeof(t1), tok, "first");
	snprintf(t2, sizeof(t2), tok, "second");
	fake_start(&f, a, 5);
	conf_for(&conf, f.port);
	o.lapi = &conf;
	c = crowdsec_push_new(&o);
	assert_non_null(c);
	sink_block(c, "192.0.2.7/32", now);
	sink_block(c, "2001:db8:7::/64", now);
	crowdsec_push_flush(c, now);
	crowdsec_push_get_stats(c, &st);
	assert_int_equal(st.pushed, 2);
	assert_int_equal(st.logins, 2);
	assert_int_equal(st.pending, 0);
	assert_non_null(strstr(f.requests[0], "POST /v1/watchers/login"));
	assert_non_null(strstr(f.requests[0], "\"machine_id\":\"hs\""));
	assert_non_null(strstr(f.requests[1], "Bearer first"));
	assert_non_null(strstr(f.requests[3], "Bearer second"));
	assert_non_null(strstr(f.requests[3], "\"value\":\"192.0.2.7\""));
	assert_non_null(strstr(f.requests[3], "\"scope\":\"Range\""));
	/* a batch the LAPI refuses for good is dropped, not retried */
	sink_block(c, "192.0.2.8/32", now);
	crowdsec_push_flush(c, now);
	crowdsec_push_get_stats(c, &st);
	assert_int_equal(st.dropped[CS_DROP_REJECTED], 1);
	assert_int_equal(st.failures[LAPI_F_HTTP], 1);
	assert_int_equal(st.pending, 0);
	crowdsec_push_free(c);
	fake_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_bounds),
	    cmocka_unit_test(test_pull_hostile),
	    cmocka_unit_test(test_push_relogin_and_reject),
	};

	lapi_global_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
