// SPDX-License-Identifier: BSD-2-Clause
#include "decide/crowdsec_pull.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "decide/pipeline.h"
#include "lib/addr.h"
#include "lib/hstime.h"
#include "lib/table.h"
#include "output/json_field.h"

#define TIMEOUT_MS 10000	 /* a request; the main loop does not wait */
#define VALUE_MAX 64		 /* an address or prefix, with room to spare */
#define CROWDSEC_PULL_SEEN 65536 /* decisions remembered as applied */

/* A decision already applied: the LAPI's id and the prefix (ids start
 * again from 1 in a new LAPI database). */
struct seen_key {
	struct hs_lpm_key k;
	uint32_t pad;
	int64_t id;
};

struct crowdsec_pull {
	struct lapi_http *http;
	struct table *seen;		    /* seen_key -> nothing */
	char api_key[LAPI_SECRET_MAX + 16]; /* the header line */
	char url[sizeof(((struct lapi_conf *)0)->url)];
	uint64_t interval_ns, next_ns;
	struct lapi_backoff backoff;
	bool startup;
	struct crowdsec_pull_stats st;
};

const char *crowdsec_outcome_name(enum crowdsec_outcome o)
{
	static const char *const names[] = {
#define X(e, s) s,
	    CROWDSEC_OUTCOMES(X)
#undef X
	};

	return o < CS_OUTCOME_COUNT ? names[o] : "?";
}

/* ---- parsing ------------------------------------------------------------ */

int crowdsec_parse_duration(const char *s, int64_t *ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {
	    {"ns", 1},		{"us", 1e3}, {"\xc2\xb5s", 1e3}, /* µs */
	    {"\xce\xbcs", 1e3},					 /* μs */
	    {"ms", 1e6},	{"s", 1e9},  {"m", 60e9},	 {"h", 3600e9},
	};
	double total = 0;
	bool neg = false;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!strcmp(s, "0")) {
		*ns = 0;
		return 0;
	}
	if (!*s)
		return -1;
	while (*s) {
		double v = 0, scale = 1;
		bool digits = false;
		size_t i, best = 0, best_len = 0;

		for (; *s >= '0' && *s <= '9'; s++, digits = true)
			v = v * 10 + (*s - '0');
		if (*s == '.')
			for (s++; *s >= '0' && *s <= '9'; s++, digits = true)
				v += (*s - '0') * (scale /= 10);
		if (!digits)
			return -1;
		/* the longest unit that matches: "ms" before "m" */
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].unit);

			if (l > best_len && !strncmp(s, units[i].unit, l)) {
				best = i;
				best_len = l;
			}
		}
		if (!best_len)
			return -1;
		total += v * units[best].ns;
		s += best_len;
	}
	if (total >= 9.2e18)
		return -1;
	*ns = (int64_t)llround(neg ? -total : total);
	return 0;
}

/* A string field, truncated to cap; "" when absent or not a string.
 * Control characters become '?': the origin and scenario reach notes and
 * records that people read on a terminal too. */
static void field_str(json_object *o, const char *k, char *out, size_t cap)
{
	json_object *v;

	out[0] = 0;
	if (json_object_object_get_ex(o, k, &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(out, cap, "%s", json_object_get_string(v));
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

bool crowdsec_decision_parse(json_object *o, struct crowdsec_decision *d,
			     enum crowdsec_outcome *why)
{
	char type[16], scope[16], value[VALUE_MAX + 2], dur[64];
	json_object *id;
	struct cidr c;
	bool range;

	memset(d, 0, sizeof(*d));
	*why = CS_INVALID;
	if (!json_object_is_type(o, json_type_object))
		return false;
	field_str(o, "type", type, sizeof(type));
	field_str(o, "scope", scope, sizeof(scope));
	field_str(o, "value", value, sizeof(value));
	field_str(o, "duration", dur, sizeof(dur));
	field_str(o, "origin", d->origin, sizeof(d->origin));
	field_str(o, "scenario", d->scenario, sizeof(d->scenario));
	if (json_object_object_get_ex(o, "id", &id) &&
	    json_object_is_type(id, json_type_int))
		d->id = json_object_get_int64(id);
	if (strcasecmp(type, "ban")) {
		*why = CS_TYPE;
		return false;
	}
	range = !strcasecmp(scope, "range");
	if (!range && strcasecmp(scope, "ip")) {
		*why = CS_SCOPE;
		return false;
	}
	/* an Ip is one address, a Range a prefix; nothing else passes */
	if (strlen(value) > VALUE_MAX || !strchr(value, '/') != !range ||
	    cidr_parse(value, &c) ||
	    crowdsec_parse_duration(dur, &d->duration_ns))
		return false;
	cidr_lpm_key(&c, &d->k);
	return true;
}

json_object *crowdsec_decision_record(const struct crowdsec_decision *d,
				      uint64_t wall_now_ns)
{
	json_object *r, *inds, *one;
	char prefix[64], s[96];

	if (d->duration_ns < (int64_t)HS_NS_PER_SEC)
		return NULL;
	lpm_key_str(&d->k, prefix, sizeof(prefix));
	r = json_object_new_object();
	json_set_str(r, "type", "decision");
	json_set_u64(r, "time_ns", wall_now_ns);
	json_set_str(r, "action", "block_prefix");
	json_set_str(r, "prefix", prefix);
	json_set_u64(r, "ttl_s", (uint64_t)d->duration_ns / HS_NS_PER_SEC);
	json_set_u64(r, "expires_ns", wall_now_ns + (uint64_t)d->duration_ns);
	/* CrowdSec's decision is the evidence: its scenario says why */
	json_set_str(r, "reason", "crowdsec");
	inds = json_object_new_array();
	one = json_object_new_object();
	json_set_str(one, "kind", "crowdsec");
	json_object_object_add(one, "score", json_object_new_double(1));
	json_object_array_add(inds, one);
	json_object_object_add(r, "indicators", inds);
	json_set_u64(r, "offences", 1);
	json_object_object_add(r, "renewal", json_object_new_boolean(false));
	snprintf(s, sizeof(s), "crowdsec/%s", d->origin);
	json_set_str(r, "origin", s);
	snprintf(s, sizeof(s), "crowdsec/%" PRId64, d->id);
	json_set_str(r, "id", s);
	json_set_str(r, "scenario", d->scenario);
	return r;
}

/* ---- life ------------------------------------------------------------------
 */

struct crowdsec_pull *crowdsec_pull_new(const struct lapi_conf *lapi,
					unsigned interval_s)
{
	struct crowdsec_pull *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->http = lapi_http_new(lapi, CROWDSEC_PULL_MAX_BODY, TIMEOUT_MS);
	c->seen =
	    table_new(CROWDSEC_PULL_SEEN, sizeof(struct seen_key), 8, NULL);
	if (!c->http || !c->seen) {
		crowdsec_pull_free(c);
		return NULL;
	}
	snprintf(c->api_key, sizeof(c->api_key), "X-Api-Key: %s",
		 lapi->api_key);
	snprintf(c->url, sizeof(c->url), "%s", lapi->url);
	c->interval_ns = (uint64_t)interval_s * HS_NS_PER_SEC;
	lapi_backoff_init(&c->backoff);
	c->startup = true;
	return c;
}

void crowdsec_pull_free(struct crowdsec_pull *c)
{
	if (!c)
		return;
	lapi_http_free(c->http);
	table_free(c->seen);
	explicit_bzero(c->api_key, sizeof(c->api_key));
	free(c);
}

/* ---- applying
 * ---------------------------------------------------------------- */

static enum crowdsec_outcome outcome_of(enum remote_result r)
{
	switch (r) {
	case REMOTE_APPLIED: return CS_APPLIED;
	case REMOTE_HELD: return CS_HELD;
	case REMOTE_ALLOWLISTED: return CS_ALLOWLIST;
	case REMOTE_CAP: return CS_CAP;
	case REMOTE_WIDE: return CS_WIDE;
	default: return CS_EXPIRED;
	}
}

static void apply_chunk(struct crowdsec_pull *c, struct pipeline *pl,
			json_object **recs, const struct seen_key *ids,
			size_t n, uint64_t now)
{
	enum remote_result res[PIPELINE_REMOTE_MAX];

	pipeline_apply_remote(pl, recs, n, now, res);
	for (size_t i = 0; i < n; i++) {
		c->st.outcome[outcome_of(res[i])]++;
		/* refused ones may pass later (room at the cap): not seen */
		if (res[i] == REMOTE_APPLIED || res[i] == REMOTE_HELD)
			table_get_or_add(c->seen, &ids[i], NULL);
		json_object_put(recs[i]);
	}
}

/* The "new" list: every ban through the policy, a chunk at a time. */
static void apply_new(struct crowdsec_pull *c, struct pipeline *pl,
		      json_object *list, uint64_t now)
{
	json_object *recs[PIPELINE_REMOTE_MAX];
	struct seen_key ids[PIPELINE_REMOTE_MAX];
	size_t len = json_object_array_length(list), n = 0, i;
	uint64_t wall = record_wall(&pl->out, now);

	for (i = 0; i < len && i < CROWDSEC_PULL_MAX; i++) {
		struct crowdsec_decision d;
		enum crowdsec_outcome why;

		if (!crowdsec_decision_parse(json_object_array_get_idx(list, i),
					     &d, &why)) {
			c->st.outcome[why]++;
			continue;
		}
		/* a decision the LAPI sends again (a full answer after a
		 * failure, an overlap of its deltas): applied already, and
		 * a second record would only say so */
		ids[n] = (struct seen_key){.k = d.k, .id = d.id};
		if (table_get(c->seen, &ids[n])) {
			c->st.outcome[CS_HELD]++;
			continue;
		}
		if (!strcmp(d.origin, CROWDSEC_ORIGIN) &&
		    policy_block_local(pl->policy, &d.k)) {
			c->st.outcome[CS_OWN]++;
			continue;
		}
		recs[n] = crowdsec_decision_record(&d, wall);
		if (!recs[n]) {
			c->st.outcome[CS_EXPIRED]++;
			continue;
		}
		if (++n == PIPELINE_REMOTE_MAX) {
			apply_chunk(c, pl, recs, ids, n, now);
			n = 0;
		}
	}
	if (n)
		apply_chunk(c, pl, recs, ids, n, now);
	c->st.outcome[CS_OVER_CAP] += len - i;
}

static void lift_chunk(struct crowdsec_pull *c, struct pipeline *pl,
		       const struct crowdsec_decision *d, size_t n,
		       uint64_t now)
{
	struct hs_lpm_key keys[PIPELINE_REMOTE_MAX];
	bool lifted[PIPELINE_REMOTE_MAX];
	char text[256], prefix[64];

	for (size_t i = 0; i < n; i++)
		keys[i] = d[i].k;
	pipeline_lift_remote(pl, keys, n, now, lifted);
	for (size_t i = 0; i < n; i++) {
		c->st.outcome[lifted[i] ? CS_LIFTED : CS_NOT_LIFTED]++;
		if (!lifted[i])
			continue;
		lpm_key_str(&d[i].k, prefix, sizeof(prefix));
		snprintf(text, sizeof(text),
			 "lifted %s: decision %" PRId64
			 " (%s) deleted on the LAPI",
			 prefix, d[i].id, d[i].origin);
		record_note(&pl->out, "crowdsec", text, now);
	}
}

/* The "deleted" list: lifts. A value is listed once no decision holds it
 * any more (the LAPI keeps the ones still in force out of it). */
static void apply_deleted(struct crowdsec_pull *c, struct pipeline *pl,
			  json_object *list, uint64_t now)
{
	struct crowdsec_decision *d = calloc(PIPELINE_REMOTE_MAX, sizeof(*d));
	size_t len = json_object_array_length(list), n = 0, i;

	if (!d)
		return;
	for (i = 0; i < len && i < CROWDSEC_PULL_MAX; i++) {
		enum crowdsec_outcome why;

		if (!crowdsec_decision_parse(json_object_array_get_idx(list, i),
					     &d[n], &why)) {
			c->st.outcome[why]++;
			continue;
		}
		if (++n == PIPELINE_REMOTE_MAX) {
			lift_chunk(c, pl, d, n, now);
			n = 0;
		}
	}
	if (n)
		lift_chunk(c, pl, d, n, now);
	c->st.outcome[CS_OVER_CAP] += len - i;
	free(d);
}

/* ---- the bouncer's side of the LAPI ---------------------------------------
 */

static void failed(struct crowdsec_pull *c, uint64_t now, enum lapi_failure f)
{
	c->st.failures[f]++;
	c->st.up = false;
	/* what was missed meanwhile is only in a full answer */
	c->startup = true;
	c->next_ns = lapi_backoff_fail(&c->backoff, "pull", c->url, f, now);
}

/* The answer as a JSON object, or NULL. */
static json_object *parse_answer(const struct crowdsec_pull *c)
{
	size_t len;
	const char *body = lapi_http_body(c->http, &len);
	struct json_tokener *tok = json_tokener_new();
	json_object *o;

	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, body, (int)len);
	json_tokener_free(tok);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

static json_object *list_of(json_object *ans, const char *k)
{
	json_object *v;

	/* "deleted": null when there is none */
	return json_object_object_get_ex(ans, k, &v) &&
		       json_object_is_type(v, json_type_array)
		   ? v
		   : NULL;
}

/* The answer to a stream request has come (f, status): apply it. */
static void pulled(struct crowdsec_pull *c, struct pipeline *pl,
		   uint64_t now_ns, enum lapi_failure f, long status)
{
	json_object *ans, *news, *dels;

	if (f == LAPI_OK && status != 200)
		f = lapi_status_failure(status);
	ans = f == LAPI_OK ? parse_answer(c) : NULL;
	if (f == LAPI_OK && !ans)
		f = LAPI_F_PARSE;
	if (f != LAPI_OK) {
		failed(c, now_ns, f);
		return;
	}
	dels = list_of(ans, "deleted");
	news = list_of(ans, "new");
	c->st.received += (dels ? json_object_array_length(dels) : 0) +
			  (news ? json_object_array_length(news) : 0);
	/* deletions first: a value deleted and banned again ends banned */
	if (dels)
		apply_deleted(c, pl, dels, now_ns);
	if (news)
		apply_new(c, pl, news, now_ns);
	json_object_put(ans);
	lapi_backoff_ok(&c->backoff, "pull", c->url);
	c->st.up = true;
	c->st.last_ok_ns = hs_clock_ns(CLOCK_REALTIME);
	c->startup = false;
}

void crowdsec_pull_poll(struct crowdsec_pull *c, struct pipeline *pl,
			uint64_t now_ns)
{
	enum lapi_failure f;
	long status;

	if (lapi_http_busy(c->http)) {
		f = lapi_http_step(c->http, 0, &status);
		if (f != LAPI_PENDING)
			pulled(c, pl, now_ns, f, status);
		return;
	}
	if (now_ns < c->next_ns)
		return;
	/* the next one counts from this one's start: a period, not a gap */
	c->next_ns = now_ns + c->interval_ns;
	c->st.requests++;
	c->st.startups += c->startup;
	if (lapi_http_start(
		c->http,
		c->startup
		    ? "/v1/decisions/stream?startup=true&scopes=ip,range"
		    : "/v1/decisions/stream?startup=false&scopes=ip,range",
		c->api_key, NULL))
		failed(c, now_ns, LAPI_F_IO);
}

void crowdsec_pull_get_stats(const struct crowdsec_pull *c,
			     struct crowdsec_pull_stats *s)
{
	*s = c->st;
}
