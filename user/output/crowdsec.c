// SPDX-License-Identifier: BSD-2-Clause
#include "output/crowdsec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "lib/addr.h"
#include "lib/hstime.h"
#include "lib/safefile.h"
#include "lib/sbuf.h"
#include "lib/table.h"
#include "lib/version.h"
#include "output/envelope.h"
#include "output/json_field.h"

/* A dead LAPI costs one bounded request per backoff period. */
#define TIMEOUT_MS 5000 /* a request; the main loop does not wait */
#define FLUSH_NS (15 * HS_NS_PER_SEC) /* the last push, at the end */
#define MAX_ANSWER (64 * 1024)	      /* login and alert answers are small */
#define REJECT_AFTER 3 /* 5xx answers before a batch is given up */

struct held_key {
	struct hs_lpm_key k;
	uint32_t pad;
};

struct held {
	uint64_t since_ns, expires_ns; /* the records' clock */
	uint64_t pushed_ns;	       /* the expiry the LAPI has */
	double score;
	char reason[24];
};

enum push_state { PUSH_IDLE, PUSH_LOGIN, PUSH_POST };

struct crowdsec_push {
	struct lapi_http *http; /* NULL: the file only */
	enum push_state state;
	bool relogged; /* this batch had its one login after a 401 */
	struct held_key batch[CROWDSEC_PUSH_BATCH];
	size_t n_batch;
	char *body; /* the batch's alerts */
	struct lapi_conf lapi;
	bool simulated, dirty; /* dirty: a held block may wait for a push */
	char *export_path;
	char origin[128];
	char token[4096];   /* the watcher's JWT; "" until logged in */
	struct table *held; /* its evictions are the CS_DROP_FULL drops */
	uint64_t next_try_ns;
	struct lapi_backoff backoff;
	unsigned server_errors; /* 5xx answers to the current batch */
	struct crowdsec_push_stats st;
};

/* ---- CrowdSec's form -------------------------------------------------- */

void crowdsec_scope_value(const struct hs_lpm_key *k, const char **scope,
			  char *value, size_t cap)
{
	struct hs_addr a;

	if (k->prefixlen == 128) {
		*scope = "Ip";
		memcpy(a.b, k->addr, 16);
		addr_str(&a, value, cap);
	} else {
		*scope = "Range";
		lpm_key_str(k, value, cap);
	}
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_meta(json_object *meta, const char *k, const char *v)
{
	json_object *m = json_object_new_object();

	add_str(m, "key", k);
	add_str(m, "value", v);
	json_object_array_add(meta, m);
}

json_object *crowdsec_alert(const struct crowdsec_block *b, uint64_t rec_now_ns,
			    uint64_t wall_now_ns, bool simulated,
			    const char *origin)
{
	json_object *a, *d, *src, *meta, *list;
	char value[64], scenario[64], dur[32], t[40], msg[256], score[16];
	const char *scope;
	uint64_t left;

	if (b->expires_ns < rec_now_ns + HS_NS_PER_SEC)
		return NULL;
	left = (b->expires_ns - rec_now_ns) / HS_NS_PER_SEC;
	crowdsec_scope_value(&b->k, &scope, value, sizeof(value));
	snprintf(scenario, sizeof(scenario), CROWDSEC_ORIGIN "/%s", b->reason);
	snprintf(dur, sizeof(dur), "%" PRIu64 "s", left);
	snprintf(score, sizeof(score), "%.3f", b->score);

	d = json_object_new_object();
	add_str(d, "origin", CROWDSEC_ORIGIN);
	add_str(d, "type", "ban");
	add_str(d, "scope", scope);
	add_str(d, "value", value);
	add_str(d, "duration", dur);
	add_str(d, "scenario", scenario);
	json_object_object_add(d, "simulated",
			       json_object_new_boolean(simulated));

	a = json_object_new_object();
	add_str(a, "scenario", scenario);
	add_str(a, "scenario_hash", "");
	add_str(a, "scenario_version", hs_version);
	snprintf(msg, sizeof(msg),
		 "hydrascope on %s: %s (score %s): block %s for %" PRIu64 " s",
		 origin, b->reason, score, value, left);
	add_str(a, "message", msg);
	json_object_object_add(a, "events_count", json_object_new_int(1));
	json_object_object_add(a, "events", json_object_new_array());
	json_object_object_add(a, "capacity", json_object_new_int(0));
	add_str(a, "leakspeed", "0");
	json_object_object_add(a, "simulated",
			       json_object_new_boolean(simulated));
	time_rfc3339(b->since_ns, t, sizeof(t));
	add_str(a, "start_at", t);
	/* the LAPI's expiry is stop_at + duration: stop_at is now */
	time_rfc3339(wall_now_ns, t, sizeof(t));
	add_str(a, "stop_at", t);
	src = json_object_new_object();
	add_str(src, "scope", scope);
	add_str(src, "value", value);
	add_str(src, strcmp(scope, "Ip") ? "range" : "ip", value);
	json_object_object_add(a, "source", src);
	meta = json_object_new_array();
	add_meta(meta, "hydrascope_origin", origin);
	add_meta(meta, "hydrascope_score", score);
	json_object_object_add(a, "meta", meta);
	list = json_object_new_array();
	json_object_array_add(list, d);
	json_object_object_add(a, "decisions", list);
	return a;
}

/* ---- held blocks -------------------------------------------------------- */

static void on_decision(void *ctx, json_object *d)
{
	struct crowdsec_push *c = ctx;
	struct held_key hk = {0};
	json_object *inds, *one;
	struct held *h;
	struct cidr p;
	uint64_t exp = json_field_u64(d, "expires_ns");
	bool created;

	if (strcmp(json_field_str(d, "action"), "block_prefix") ||
	    cidr_parse(json_field_str(d, "prefix"), &p))
		return;
	cidr_lpm_key(&p, &hk.k);
	h = table_get_or_add(c->held, &hk, &created);
	if (!h || (!created && exp <= h->expires_ns))
		return;
	if (created)
		h->since_ns = json_field_u64(d, "time_ns");
	h->expires_ns = exp;
	snprintf(h->reason, sizeof(h->reason), "%s",
		 json_field_str(d, "reason"));
	h->score =
	    json_object_object_get_ex(d, "indicators", &inds) &&
		    (one = json_object_array_get_idx(inds, 0))
		? json_object_get_double(json_object_object_get(one, "score"))
		: 0;
	c->dirty = c->http != NULL;
}

struct record_sink crowdsec_push_sink(struct crowdsec_push *c)
{
	return (struct record_sink){on_decision, c};
}

static void block_of(const struct held_key *hk, const struct held *h,
		     struct crowdsec_block *b)
{
	*b = (struct crowdsec_block){
	    .k = hk->k,
	    .reason = h->reason,
	    .score = h->score,
	    .since_ns = h->since_ns,
	    .expires_ns = h->expires_ns,
	};
}

static bool lapsed(const void *k, const void *v, void *ctx)
{
	(void)k;
	return ((const struct held *)v)->expires_ns <
	       *(const uint64_t *)ctx + HS_NS_PER_SEC;
}

/* ---- life --------------------------------------------------------------- */

struct crowdsec_push *crowdsec_push_new(const struct crowdsec_push_opts *o)
{
	struct crowdsec_push *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->simulated = o->simulated;
	lapi_backoff_init(&c->backoff);
	snprintf(c->origin, sizeof(c->origin), "%s", o->origin);
	c->held = table_new(o->max_held ? o->max_held : 1,
			    sizeof(struct held_key), sizeof(struct held), NULL);
	if (o->export_path)
		c->export_path = strdup(o->export_path);
	if (o->lapi) {
		c->lapi = *o->lapi;
		c->http = lapi_http_new(o->lapi, MAX_ANSWER, TIMEOUT_MS);
	}
	if (!c->held || (o->export_path && !c->export_path) ||
	    (o->lapi && !c->http)) {
		crowdsec_push_free(c);
		return NULL;
	}
	return c;
}

void crowdsec_push_free(struct crowdsec_push *c)
{
	if (!c)
		return;
	lapi_http_free(c->http);
	free(c->body);
	table_free(c->held);
	free(c->export_path);
	explicit_bzero(&c->lapi, sizeof(c->lapi));
	explicit_bzero(c->token, sizeof(c->token));
	free(c);
}

/* ---- the watcher's side of the LAPI ------------------------------------ */

static void failed(struct crowdsec_push *c, uint64_t now, enum lapi_failure f)
{
	c->st.failures[f]++;
	c->st.up = false;
	c->next_try_ns =
	    lapi_backoff_fail(&c->backoff, "push", c->lapi.url, f, now);
}

static void answered(struct crowdsec_push *c)
{
	lapi_backoff_ok(&c->backoff, "push", c->lapi.url);
	c->st.up = true;
}

/* POST /v1/watchers/login: the JWT every other call carries. */
static int start_login(struct crowdsec_push *c)
{
	json_object *req = json_object_new_object();
	int rc;

	add_str(req, "machine_id", c->lapi.login);
	add_str(req, "password", c->lapi.password);
	rc = lapi_http_start(
	    c->http, "/v1/watchers/login", NULL,
	    json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	json_object_put(req);
	c->st.requests++;
	c->st.logins++;
	c->state = PUSH_LOGIN;
	return rc;
}

static int start_post(struct crowdsec_push *c)
{
	char auth[sizeof(c->token) + 32];

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
	c->st.requests++;
	c->state = PUSH_POST;
	return lapi_http_start(c->http, "/v1/alerts", auth, c->body);
}

static enum lapi_failure took_token(struct crowdsec_push *c, long status)
{
	json_object *ans;
	const char *tok;
	enum lapi_failure f;

	if (status != 200)
		return lapi_status_failure(status);
	ans = json_tokener_parse(lapi_http_body(c->http, NULL));
	tok = json_field_str(ans, "token");
	f = *tok && strlen(tok) < sizeof(c->token) ? LAPI_OK : LAPI_F_PARSE;
	if (f == LAPI_OK)
		snprintf(c->token, sizeof(c->token), "%s", tok);
	json_object_put(ans);
	return f;
}

/* Forget the blocks with under a second left; one that had not reached
 * the LAPI yet is counted. */
static void drop_lapsed(struct crowdsec_push *c, uint64_t rec_now)
{
	void *keys;
	size_t n = table_collect(c->held, lapsed, &rec_now, &keys);

	for (size_t i = 0; i < n; i++) {
		const struct held_key *hk = (struct held_key *)keys + i;
		const struct held *h = table_get(c->held, hk);

		if (h && h->pushed_ns < h->expires_ns && c->http)
			c->st.dropped[CS_DROP_EXPIRED]++;
		table_del(c->held, hk);
	}
	free(keys);
}

/* Up to a batch of the blocks not pushed yet. */
static size_t take_batch(struct crowdsec_push *c, uint64_t rec_now)
{
	size_t pos = 0, n = 0;
	const void *k;
	void *v;

	drop_lapsed(c, rec_now);
	while (n < CROWDSEC_PUSH_BATCH && table_next(c->held, &pos, &k, &v))
		if (((struct held *)v)->pushed_ns <
		    ((struct held *)v)->expires_ns)
			c->batch[n++] = *(const struct held_key *)k;
	if (!n)
		c->dirty = false;
	return n;
}

/* The alerts of the batch, as the body of POST /v1/alerts (kept for a
 * retry after a new login). NULL when none is left to say. */
static char *batch_body(struct crowdsec_push *c, uint64_t rec_now)
{
	json_object *arr = json_object_new_array();
	uint64_t wall = hs_clock_ns(CLOCK_REALTIME);
	char *body = NULL;

	for (size_t i = 0; i < c->n_batch; i++) {
		struct crowdsec_block b;
		json_object *a;

		block_of(&c->batch[i], table_get(c->held, &c->batch[i]), &b);
		a = crowdsec_alert(&b, rec_now, wall, c->simulated, c->origin);
		if (a)
			json_object_array_add(arr, a);
	}
	if (json_object_array_length(arr))
		body = strdup(json_object_to_json_string_ext(
		    arr, JSON_C_TO_STRING_PLAIN));
	json_object_put(arr);
	return body;
}

static void batch_done(struct crowdsec_push *c, bool taken)
{
	for (size_t i = 0; taken && i < c->n_batch; i++) {
		struct held *h = table_get(c->held, &c->batch[i]);

		if (h)
			h->pushed_ns = h->expires_ns;
	}
	free(c->body);
	c->body = NULL;
	c->n_batch = 0;
	c->state = PUSH_IDLE;
}

/* A request that could not even start (out of memory): a failure, so
 * that the backoff and the end's flush treat it as one. */
static void not_started(struct crowdsec_push *c, uint64_t now)
{
	failed(c, now, LAPI_F_IO);
	batch_done(c, false);
}

/* The answer to the alerts: taken, refused for good, or to retry. */
static void posted(struct crowdsec_push *c, uint64_t now, long status)
{
	if (status / 100 == 2) {
		answered(c);
		c->server_errors = 0;
		c->st.pushed += c->n_batch;
		batch_done(c, true);
		return;
	}
	/* a batch the LAPI will never take must not block the ones after
	 * it; a 5xx may pass (1.4 also answers 500 to a validation error) */
	failed(c, now, lapi_status_failure(status));
	if ((status / 100 == 4 && status != 401 && status != 403) ||
	    (status / 100 == 5 && ++c->server_errors >= REJECT_AFTER)) {
		c->st.dropped[CS_DROP_REJECTED] += c->n_batch;
		c->server_errors = 0;
		batch_done(c, true);
		return;
	}
	batch_done(c, false);
}

/* A request in flight has ended (f, status): what comes next. */
static void step_done(struct crowdsec_push *c, uint64_t now,
		      enum lapi_failure f, long status)
{
	if (f == LAPI_OK && c->state == PUSH_LOGIN)
		f = took_token(c, status);
	if (f != LAPI_OK) {
		failed(c, now, f);
		batch_done(c, false);
		return;
	}
	if (c->state == PUSH_LOGIN) {
		if (start_post(c))
			not_started(c, now);
		return;
	}
	/* the token lapsed (an hour in 1.4): one new login, then again */
	if (status == 401 && !c->relogged) {
		c->relogged = true;
		c->token[0] = 0;
		if (start_login(c))
			not_started(c, now);
		return;
	}
	posted(c, now, status);
}

void crowdsec_push_poll(struct crowdsec_push *c, uint64_t now_ns,
			uint64_t rec_now_ns)
{
	enum lapi_failure f;
	long status;

	if (!c->http)
		return;
	if (c->state != PUSH_IDLE) {
		f = lapi_http_step(c->http, 0, &status);
		if (f != LAPI_PENDING)
			step_done(c, now_ns, f, status);
		return;
	}
	if (!c->dirty || now_ns < c->next_try_ns)
		return;
	c->n_batch = take_batch(c, rec_now_ns);
	if (!c->n_batch || !(c->body = batch_body(c, rec_now_ns))) {
		c->n_batch = 0;
		return;
	}
	c->relogged = false;
	if (c->token[0] ? start_post(c) : start_login(c))
		not_started(c, now_ns);
}

static uint64_t failures(const struct crowdsec_push *c)
{
	uint64_t n = 0;

	for (size_t i = 0; i < LAPI_F_COUNT; i++)
		n += c->st.failures[i];
	return n;
}

void crowdsec_push_flush(struct crowdsec_push *c, uint64_t rec_now_ns)
{
	uint64_t end = hs_clock_ns(CLOCK_MONOTONIC) + FLUSH_NS;
	uint64_t before = failures(c);
	long status;

	if (!c->http)
		return;
	while (hs_clock_ns(CLOCK_MONOTONIC) < end) {
		if (c->state != PUSH_IDLE) {
			enum lapi_failure f =
			    lapi_http_step(c->http, 100, &status);

			if (f != LAPI_PENDING)
				step_done(c, hs_clock_ns(CLOCK_MONOTONIC), f,
					  status);
			continue;
		}
		/* everything out, or a failure: the rest waits no longer */
		if (!c->dirty || failures(c) != before)
			break;
		c->next_try_ns = 0;
		crowdsec_push_poll(c, hs_clock_ns(CLOCK_MONOTONIC), rec_now_ns);
	}
}

/* ---- the import file ------------------------------------------------------
 */

int crowdsec_push_export(struct crowdsec_push *c, uint64_t rec_now_ns)
{
	struct sbuf sb = {0};
	size_t pos = 0;
	const void *k;
	void *v;
	int rc;

	if (!c->export_path)
		return 0;
	drop_lapsed(c, rec_now_ns);
	sb_printf(&sb, CROWDSEC_CSV_HEADER);
	while (table_next(c->held, &pos, &k, &v)) {
		const struct held *h = v;
		const char *scope;
		char value[64];

		crowdsec_scope_value(&((const struct held_key *)k)->k, &scope,
				     value, sizeof(value));
		sb_printf(
		    &sb,
		    "%" PRIu64 "s," CROWDSEC_ORIGIN "," CROWDSEC_ORIGIN
		    "/%s,%s,ban,%s\n",
		    (uint64_t)((h->expires_ns - rec_now_ns) / HS_NS_PER_SEC),
		    h->reason, scope, value);
	}
	rc =
	    sb_failed(&sb) ? -1 : safefile_replace(c->export_path, sb_str(&sb));
	sb_free(&sb);
	if (rc)
		c->st.export_failures++;
	else
		c->st.exports++;
	return rc;
}

void crowdsec_push_get_stats(const struct crowdsec_push *c,
			     struct crowdsec_push_stats *s)
{
	size_t pos = 0;
	const void *k;
	void *v;

	*s = c->st;
	s->dropped[CS_DROP_FULL] = table_evictions(c->held);
	s->held = table_len(c->held);
	s->pending = 0;
	while (c->http && table_next(c->held, &pos, &k, &v))
		s->pending += ((struct held *)v)->pushed_ns <
			      ((struct held *)v)->expires_ns;
}
