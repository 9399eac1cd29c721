// SPDX-License-Identifier: BSD-2-Clause
#include "output/fleet.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "hydrascope/tuple.h"
#include "lib/addr.h"
#include "lib/hstime.h"
#include "lib/table.h"
#include "output/json_field.h"

/* Every call is bounded: a slow Redis costs the main loop at most this
 * per attempt, and attempts back off. */
#define IO_TIMEOUT_MS 300
#define BACKOFF_MIN_NS (250 * HS_NS_PER_MS)
#define BACKOFF_MAX_NS (5 * HS_NS_PER_SEC)
#define READ_EVERY_NS (200 * HS_NS_PER_MS)
#define FLEET_OBS_MAX 65536  /* (cluster, source) pairs per round */
#define FLEET_GROUPS_MAX 512 /* clusters read back per round */
#define FLEET_SEEN 16384     /* decision ids remembered (redelivery) */
#define FLEET_PUBLISH_BATCH 256
#define STREAM_KEY "hs:decisions"
/* HyperLogLogs per cluster and window; hosts is its own */
enum hll { HLL_SRC, HLL_PFX, HLL_RM, HLL_RH, HLL_SM, HLL_SH, HLL_HOSTS, HLL_N };
static const char *const hll_name[HLL_N] = {"src", "pfx", "rm",	  "rh",
					    "sm",  "sh",  "hosts"};

struct obs {
	uint64_t group, tuple_id;
	struct hs_addr addr;
	uint32_t flows, bits;
};

struct pub_key {
	uint64_t group;
	struct hs_addr addr;
};

struct pub_val {
	uint64_t win;
	uint32_t bits, pad;
};

struct view {
	uint64_t win; /* window it was read in */
	struct fleet_counts c;
};

struct fleet {
	struct fleet_url url;
	char origin[128];
	unsigned window_s;
	redisContext *rc;
	uint64_t next_try_ns, backoff_ns, next_read_ns;
	bool group_ready, pending_phase; /* consumer group; re-read pending */
	/* decisions waiting for Redis: a ring of JSON lines */
	char *outbox[FLEET_OUTBOX];
	size_t ob_head, ob_len;
	uint64_t seq;
	/* observations of this round */
	struct obs *obs;
	size_t n_obs;
	uint64_t groups[FLEET_GROUPS_MAX];
	size_t n_groups;
	struct table *published; /* pub_key -> pub_val */
	struct table *views;	 /* group -> view */
	struct table *seen;	 /* hash of a decision id -> (nothing) */
	/* staging for one command */
	const char **argv;
	size_t *argl;
	unsigned char (*bin)[16];
	struct fleet_stats st;
};

/* ---- URL ------------------------------------------------------------- */

int fleet_parse_url(const char *url, struct fleet_url *u, char *err,
		    size_t errlen)
{
	const char *p, *at, *h, *hend, *slash;
	char *end;
	unsigned long v;

	memset(u, 0, sizeof(*u));
	u->port = 6379;
	if (strncmp(url, "redis://", 8)) {
		snprintf(err, errlen,
			 "--fleet wants redis://[USER:PASS@]HOST:PORT[/DB], "
			 "got '%s'",
			 url);
		return -1;
	}
	p = url + 8;
	slash = strchr(p, '/');
	at = memrchr(p, '@', slash ? (size_t)(slash - p) : strlen(p));
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));

		if (!colon || (size_t)(colon - p) >= sizeof(u->user) ||
		    (size_t)(at - colon - 1) >= sizeof(u->pass) ||
		    at == colon + 1) {
			snprintf(err, errlen,
				 "--fleet: credentials are USER:PASS@ (USER "
				 "may be empty), in '%s'",
				 url);
			return -1;
		}
		memcpy(u->user, p, (size_t)(colon - p));
		memcpy(u->pass, colon + 1, (size_t)(at - colon - 1));
		p = at + 1;
	}
	h = p;
	if (*h == '[') {
		hend = strchr(h, ']');
		if (!hend)
			goto bad;
		h++;
		p = hend + 1;
	} else {
		hend = h + strcspn(h, ":/");
		p = hend;
	}
	if (hend == h || (size_t)(hend - h) >= sizeof(u->host))
		goto bad;
	memcpy(u->host, h, (size_t)(hend - h));
	if (*p == ':') {
		errno = 0;
		v = strtoul(p + 1, &end, 10);
		if (errno || end == p + 1 || v < 1 || v > 65535)
			goto bad;
		u->port = (unsigned)v;
		p = end;
	}
	if (*p == '/' && p[1]) {
		errno = 0;
		v = strtoul(p + 1, &end, 10);
		if (errno || end == p + 1 || *end || v > 65535)
			goto bad;
		u->db = (unsigned)v;
		p = end;
	} else if (*p == '/') {
		p++;
	}
	if (*p)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen,
		 "--fleet wants redis://[USER:PASS@]HOST:PORT[/DB], got '%s'",
		 url);
	return -1;
}

/* ---- life ------------------------------------------------------------ */

struct fleet *fleet_new(const struct fleet_opts *o, char *err, size_t errlen)
{
	struct fleet *f = calloc(1, sizeof(*f));
	size_t members = o->max_members ? o->max_members : 65536;

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (fleet_parse_url(o->url, &f->url, err, errlen)) {
		free(f);
		return NULL;
	}
	snprintf(f->origin, sizeof(f->origin), "%s", o->origin);
	f->window_s = o->window_s ? o->window_s : 300;
	f->backoff_ns = BACKOFF_MIN_NS;
	f->obs = calloc(FLEET_OBS_MAX, sizeof(*f->obs));
	f->published = table_new(members, sizeof(struct pub_key),
				 sizeof(struct pub_val), NULL);
	f->views = table_new(4 * FLEET_GROUPS_MAX, sizeof(uint64_t),
			     sizeof(struct view), NULL);
	f->seen =
	    table_new(FLEET_SEEN, sizeof(uint64_t), sizeof(uint64_t), NULL);
	/* the longest command: PFADD key + every observation of a round */
	f->argv = calloc(FLEET_OBS_MAX + 8, sizeof(*f->argv));
	f->argl = calloc(FLEET_OBS_MAX + 8, sizeof(*f->argl));
	f->bin = calloc(FLEET_OBS_MAX, sizeof(*f->bin));
	if (!f->obs || !f->published || !f->views || !f->seen || !f->argv ||
	    !f->argl || !f->bin) {
		fleet_free(f);
		snprintf(err, errlen, "out of memory for the fleet transport");
		return NULL;
	}
	return f;
}

void fleet_free(struct fleet *f)
{
	if (!f)
		return;
	if (f->rc)
		redisFree(f->rc);
	for (size_t i = 0; i < f->ob_len; i++)
		free(f->outbox[(f->ob_head + i) % FLEET_OUTBOX]);
	free(f->obs);
	table_free(f->published);
	table_free(f->views);
	table_free(f->seen);
	free(f->argv);
	free(f->argl);
	free(f->bin);
	free(f);
}

static uint64_t wall_ns(void)
{
	return hs_clock_ns(CLOCK_REALTIME);
}

static uint64_t window_now(const struct fleet *f)
{
	return wall_ns() / HS_NS_PER_SEC / f->window_s;
}

/* hs:{w<window>}:<kind>:<cluster>: the hash tag keeps one window's keys
 * in one Redis Cluster slot. */
static int key_of(char *buf, size_t cap, uint64_t win, const char *kind,
		  uint64_t group)
{
	return snprintf(buf, cap, "hs:{w%" PRIu64 "}:%s:%016" PRIx64, win, kind,
			group);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0x666c656574ull;

	for (; *s; s++)
		h = hs_mix64(h ^ (uint8_t)*s);
	return h;
}

/* ---- producers (called by the correlator and the records) ------------- */

static void on_slice(void *ctx, const struct fleet_slice *s)
{
	struct fleet *f = ctx;
	uint64_t win = window_now(f);
	size_t i;

	if (f->n_groups < FLEET_GROUPS_MAX)
		f->groups[f->n_groups++] = s->group_id;
	for (i = 0; i < s->n && f->n_obs < FLEET_OBS_MAX; i++) {
		struct pub_key k = {.group = s->group_id,
				    .addr = s->members[i].addr};
		const struct pub_val *v = table_get(f->published, &k);

		/* once per window, and again when its evidence changes */
		if (v && v->win == win && v->bits == s->members[i].bits)
			continue;
		f->obs[f->n_obs++] = (struct obs){
		    .group = s->group_id,
		    .tuple_id = s->tuple_id,
		    .addr = s->members[i].addr,
		    .flows = s->members[i].flows,
		    .bits = s->members[i].bits,
		};
	}
}

static bool on_view(void *ctx, uint64_t group, struct fleet_counts *out)
{
	struct fleet *f = ctx;
	const struct view *v = table_get(f->views, &group);

	/* counts of the current or the previous window only */
	if (!v || v->win + 1 < window_now(f))
		return false;
	*out = v->c;
	return true;
}

static void on_decision(void *ctx, json_object *d)
{
	struct fleet *f = ctx;
	char id[192];
	size_t slot;

	snprintf(id, sizeof(id), "%s/%" PRIu64 "-%" PRIu64, f->origin,
		 wall_ns(), ++f->seq);
	json_set_str(d, "id", id);
	json_set_str(d, "origin", f->origin);
	if (f->ob_len == FLEET_OUTBOX) {
		/* the newest decisions matter most: the oldest go */
		free(f->outbox[f->ob_head]);
		f->ob_head = (f->ob_head + 1) % FLEET_OUTBOX;
		f->ob_len--;
		f->st.publish_dropped++;
	}
	slot = (f->ob_head + f->ob_len) % FLEET_OUTBOX;
	f->outbox[slot] = strdup(json_object_to_json_string_ext(
	    d, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (f->outbox[slot])
		f->ob_len++;
}

struct corr_fleet fleet_corr_hooks(struct fleet *f)
{
	return (struct corr_fleet){on_slice, on_view, f};
}

struct record_sink fleet_record_sink(struct fleet *f)
{
	return (struct record_sink){on_decision, f};
}

/* ---- connection ------------------------------------------------------- */

static void drop(struct fleet *f, uint64_t now)
{
	if (f->rc)
		redisFree(f->rc);
	f->rc = NULL;
	f->st.connected = false;
	f->st.failures++;
	f->next_try_ns = now + f->backoff_ns;
	f->backoff_ns = f->backoff_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS
							   : f->backoff_ns * 2;
}

/* A command and its reply; NULL (connection dropped) on an I/O error. An
 * error reply is returned: callers look at its type. */
static redisReply *cmd(struct fleet *f, uint64_t now, int argc,
		       const char **argv, const size_t *argl)
{
	redisReply *r = redisCommandArgv(f->rc, argc, argv, argl);

	if (!r)
		drop(f, now);
	return r;
}

static bool ok_reply(const redisReply *r)
{
	return r && r->type != REDIS_REPLY_ERROR;
}

/* A command whose only answer is OK or an error; an error drops the
 * connection (a wrong password or database is no state to go on in). */
static bool cmd_ok(struct fleet *f, uint64_t now, int argc, const char **argv)
{
	redisReply *r = cmd(f, now, argc, argv, NULL);
	bool ok = ok_reply(r);

	if (r && !ok)
		drop(f, now);
	if (r)
		freeReplyObject(r);
	return ok;
}

/* The consumer group of this host: it remembers what this host read, so
 * a restart resumes there. Created at the stream's start, so that a new
 * host applies the decisions still in force. */
static bool ensure_group(struct fleet *f, uint64_t now)
{
	const char *a[] = {"XGROUP",  "CREATE", STREAM_KEY,
			   f->origin, "0",	"MKSTREAM"};
	redisReply *r;
	bool ok;

	if (f->group_ready)
		return true;
	r = cmd(f, now, 6, a, NULL);
	if (!r)
		return false;
	ok = ok_reply(r) || (r->str && !strncmp(r->str, "BUSYGROUP", 9));
	freeReplyObject(r);
	f->group_ready = ok;
	f->pending_phase = true; /* first what was read and not acked */
	return ok;
}

static bool connect_now(struct fleet *f, uint64_t now)
{
	struct timeval tv = {0, IO_TIMEOUT_MS * 1000};
	char db[16];

	f->rc = redisConnectWithTimeout(f->url.host, (int)f->url.port, tv);
	if (!f->rc || f->rc->err || redisSetTimeout(f->rc, tv) != REDIS_OK) {
		drop(f, now);
		return false;
	}
	if (f->url.pass[0]) {
		const char *a[] = {"AUTH", f->url.user, f->url.pass};
		const char *b[] = {"AUTH", f->url.pass};

		if (!cmd_ok(f, now, f->url.user[0] ? 3 : 2,
			    f->url.user[0] ? a : b))
			return false;
	}
	if (f->url.db) {
		snprintf(db, sizeof(db), "%u", f->url.db);
		if (!cmd_ok(f, now, 2, (const char *[]){"SELECT", db}))
			return false;
	}
	f->group_ready = false;
	if (!ensure_group(f, now))
		return false;
	f->st.connects++;
	f->st.connected = true;
	f->backoff_ns = BACKOFF_MIN_NS;
	return true;
}

/* ---- observations out, fleet counts back -------------------------------- */

/* Append one command to the pipeline. */
static void append(struct fleet *f, int argc, size_t *n)
{
	redisAppendCommandArgv(f->rc, argc, f->argv, f->argl);
	(*n)++;
}

static void set_arg(struct fleet *f, int i, const void *p, size_t len)
{
	f->argv[i] = p;
	f->argl[i] = len;
}

/* PFADD key e... for the observations [from, to) of one group that pass
 * want(bits); returns the number of commands appended. */
static void pfadd(struct fleet *f, const char *key, size_t from, size_t to,
		  uint32_t want, bool prefix, size_t *n)
{
	int argc = 2;

	set_arg(f, 0, "PFADD", 5);
	set_arg(f, 1, key, strlen(key));
	for (size_t i = from; i < to; i++) {
		const struct obs *o = &f->obs[i];

		/* peers count in the relay test's denominator only */
		if (want ? !(o->bits & want) : !!(o->bits & FLEET_MEMBER_PEER))
			continue;
		if (prefix) {
			bool v4 = addr_is_v4(&o->addr);

			/* /24 for IPv4, /48 for IPv6, as the correlator */
			memcpy(f->bin[i], o->addr.b, 16);
			memset(f->bin[i] + (v4 ? 15 : 6), 0, v4 ? 1 : 10);
			set_arg(f, argc++, f->bin[i], 16);
		} else {
			set_arg(f, argc++, o->addr.b, 16);
		}
	}
	if (argc > 2)
		append(f, argc, n);
}

static void expire(struct fleet *f, const char *key, size_t *n)
{
	char ttl[24];

	/* readable through the next window, then gone */
	snprintf(ttl, sizeof(ttl), "%u", 2 * f->window_s);
	set_arg(f, 0, "EXPIRE", 6);
	set_arg(f, 1, key, strlen(key));
	set_arg(f, 2, ttl, strlen(ttl));
	append(f, 3, n);
}

/* Member samples with their evidence, newest first, capped. */
static void samples(struct fleet *f, const char *key, size_t from, size_t to,
		    size_t *n)
{
	char(*s)[192] = calloc(FLEET_SAMPLES, sizeof(*s));
	char cap[16], a[ADDR_STRLEN];
	int argc = 2;

	if (!s)
		return;
	set_arg(f, 0, "LPUSH", 5);
	set_arg(f, 1, key, strlen(key));
	for (size_t i = from; i < to && argc - 2 < FLEET_SAMPLES; i++) {
		const struct obs *o = &f->obs[i];
		int len;

		if (o->bits & FLEET_MEMBER_PEER)
			continue;
		len = snprintf(s[argc - 2], sizeof(s[0]),
			       "{\"addr\":\"%s\",\"host\":\"%s\",\"flows\":%u,"
			       "\"tuple_id\":\"%016" PRIx64 "\",\"relay\":%s,"
			       "\"stack_mismatch\":%s}",
			       addr_str(&o->addr, a, sizeof(a)), f->origin,
			       o->flows, o->tuple_id,
			       o->bits & FLEET_MEMBER_RELAY ? "true" : "false",
			       o->bits & FLEET_MEMBER_STACK ? "true" : "false");

		set_arg(f, argc, s[argc - 2],
			len < (int)sizeof(s[0]) ? (size_t)len
						: sizeof(s[0]) - 1);
		argc++;
	}
	if (argc > 2) {
		append(f, argc, n);
		snprintf(cap, sizeof(cap), "%d", FLEET_SAMPLES - 1);
		set_arg(f, 0, "LTRIM", 5);
		set_arg(f, 1, key, strlen(key));
		set_arg(f, 2, "0", 1);
		set_arg(f, 3, cap, strlen(cap));
		append(f, 4, n);
	}
	/* hiredis formats the command when it is appended: s can go */
	free(s);
}

static void publish_group(struct fleet *f, uint64_t win, size_t from, size_t to,
			  size_t *n)
{
	static const uint32_t want[HLL_N] = {
	    0,
	    0,
	    FLEET_MEMBER_RELAY_MEASURED | FLEET_MEMBER_PEER,
	    FLEET_MEMBER_RELAY,
	    FLEET_MEMBER_STACK_CHECKED,
	    FLEET_MEMBER_STACK,
	    0,
	};
	uint64_t g = f->obs[from].group;
	char key[96];

	for (int h = 0; h < HLL_N; h++) {
		key_of(key, sizeof(key), win, hll_name[h], g);
		if (h == HLL_HOSTS) {
			set_arg(f, 0, "PFADD", 5);
			set_arg(f, 1, key, strlen(key));
			set_arg(f, 2, f->origin, strlen(f->origin));
			append(f, 3, n);
		} else {
			pfadd(f, key, from, to, want[h], h == HLL_PFX, n);
		}
		expire(f, key, n);
	}
	key_of(key, sizeof(key), win, "samples", g);
	samples(f, key, from, to, n);
	expire(f, key, n);
}

static uint64_t count_of(const redisReply *r)
{
	return r && r->type == REDIS_REPLY_INTEGER && r->integer > 0
		   ? (uint64_t)r->integer
		   : 0;
}

/* Read n replies, keeping the ones from index skip on in keep[]; false
 * (connection dropped, nothing kept) when the connection broke. */
static bool drain(struct fleet *f, uint64_t now, size_t n, size_t skip,
		  redisReply **keep)
{
	for (size_t i = 0; i < n; i++) {
		void *r = NULL;

		if (redisGetReply(f->rc, &r) != REDIS_OK) {
			for (size_t j = skip; j < i; j++)
				freeReplyObject(keep[j - skip]);
			drop(f, now);
			return false;
		}
		if (i >= skip)
			keep[i - skip] = r;
		else
			freeReplyObject(r);
	}
	return true;
}

static void sync_observations(struct fleet *f, uint64_t now)
{
	uint64_t win = window_now(f);
	size_t n = 0, i, start, reads;
	redisReply **r;

	reads = f->n_groups * HLL_N * 2;
	r = calloc(reads + 1, sizeof(*r));
	if (!r)
		return;
	/* the observations of one slice are contiguous */
	for (start = 0, i = 1; i <= f->n_obs; i++)
		if (i == f->n_obs || f->obs[i].group != f->obs[start].group) {
			publish_group(f, win, start, i, &n);
			start = i;
		}
	/* then the fleet counts of every cluster this host scores: the
	 * larger of this window's and the previous one's (a sliding window
	 * over fixed ones) */
	for (i = 0; i < f->n_groups; i++)
		for (int h = 0; h < HLL_N; h++)
			for (uint64_t w = win - 1; w <= win; w++) {
				char key[96];

				key_of(key, sizeof(key), w, hll_name[h],
				       f->groups[i]);
				set_arg(f, 0, "PFCOUNT", 7);
				set_arg(f, 1, key, strlen(key));
				redisAppendCommandArgv(f->rc, 2, f->argv,
						       f->argl);
			}
	if (!drain(f, now, n + reads, n, r)) {
		free(r);
		return; /* observed again by the next round */
	}
	for (i = 0; i < f->n_obs; i++) {
		struct pub_key k = {.group = f->obs[i].group,
				    .addr = f->obs[i].addr};
		struct pub_val *v = table_get_or_add(f->published, &k, NULL);

		if (v)
			*v = (struct pub_val){.win = win,
					      .bits = f->obs[i].bits};
	}
	f->st.observed += f->n_obs;
	for (i = 0; i < f->n_groups; i++) {
		struct view *v =
		    table_get_or_add(f->views, &f->groups[i], NULL);
		uint64_t c[HLL_N];

		for (int h = 0; h < HLL_N; h++) {
			uint64_t a = count_of(r[(i * HLL_N + h) * 2]),
				 b = count_of(r[(i * HLL_N + h) * 2 + 1]);

			c[h] = a > b ? a : b;
		}
		if (v)
			*v = (struct view){
			    .win = win,
			    .c = {.sources = c[HLL_SRC],
				  .prefixes = c[HLL_PFX],
				  .hosts = c[HLL_HOSTS],
				  .relay_measured = c[HLL_RM],
				  .relay_members = c[HLL_RH],
				  .stack_checked = c[HLL_SM],
				  .stack_members = c[HLL_SH]},
			};
	}
	f->st.views += f->n_groups;
	for (i = 0; i < reads; i++)
		freeReplyObject(r[i]);
	free(r);
	f->n_obs = f->n_groups = 0;
}

/* ---- decisions out ------------------------------------------------------ */

static void publish_decisions(struct fleet *f, uint64_t now)
{
	char maxlen[24];
	size_t n =
	    f->ob_len < FLEET_PUBLISH_BATCH ? f->ob_len : FLEET_PUBLISH_BATCH;
	size_t i;

	snprintf(maxlen, sizeof(maxlen), "%d", FLEET_STREAM_MAXLEN);
	for (i = 0; i < n; i++) {
		const char *line = f->outbox[(f->ob_head + i) % FLEET_OUTBOX];
		const char *a[] = {"XADD", STREAM_KEY, "MAXLEN", "~",
				   maxlen, "*",	       "d",	 line};

		redisAppendCommandArgv(f->rc, 8, a, NULL);
	}
	for (i = 0; i < n; i++) {
		void *r = NULL;

		if (redisGetReply(f->rc, &r) != REDIS_OK) {
			/* the rest stay queued; a record sent twice is
			 * recognised by its id on every host */
			drop(f, now);
			return;
		}
		freeReplyObject(r);
		free(f->outbox[f->ob_head]);
		f->ob_head = (f->ob_head + 1) % FLEET_OUTBOX;
		f->ob_len--;
		f->st.published++;
	}
}

/* ---- decisions in ------------------------------------------------------- */

static const char *field_d(const redisReply *fields)
{
	if (!fields || fields->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < fields->elements; i += 2)
		if (fields->element[i]->str &&
		    !strcmp(fields->element[i]->str, "d"))
			return fields->element[i + 1]->str;
	return NULL;
}

/* One XREADGROUP batch. Returns the number of entries read, -1 when the
 * connection broke or the group is gone. */
static int read_batch(struct fleet *f, uint64_t now, fleet_apply_fn apply,
		      void *ctx)
{
	char count[16];
	const char *a[] = {
	    "XREADGROUP", "GROUP",    f->origin,
	    f->origin,	  "COUNT",    count,
	    "STREAMS",	  STREAM_KEY, f->pending_phase ? "0" : ">"};
	json_object *recs[FLEET_READ_BATCH];
	enum fleet_outcome out[FLEET_READ_BATCH];
	const char *ack[FLEET_READ_BATCH + 3];
	redisReply *r, *entries;
	size_t n_recs = 0, n_ack = 0, i;
	int got;

	snprintf(count, sizeof(count), "%d", FLEET_READ_BATCH);
	r = cmd(f, now, 9, a, NULL);
	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_ERROR) {
		/* NOGROUP: Redis restarted without its data; start over */
		f->group_ready = false;
		freeReplyObject(r);
		return -1;
	}
	if (r->type != REDIS_REPLY_ARRAY || !r->elements ||
	    r->element[0]->elements < 2) {
		freeReplyObject(r);
		return 0;
	}
	entries = r->element[0]->element[1];
	got = (int)entries->elements;
	if (f->pending_phase && !got)
		f->pending_phase = false; /* everything pending was redone */
	ack[n_ack++] = "XACK";
	ack[n_ack++] = STREAM_KEY;
	ack[n_ack++] = f->origin;
	for (i = 0; i < entries->elements && i < FLEET_READ_BATCH; i++) {
		const redisReply *e = entries->element[i];
		const char *line, *origin, *id;
		json_object *rec;
		uint64_t h;
		bool created = false;

		if (e->type != REDIS_REPLY_ARRAY || e->elements < 2)
			continue;
		ack[n_ack++] = e->element[0]->str;
		f->st.received++;
		f->st.last_stream_ms = strtoull(e->element[0]->str, NULL, 10);
		line = field_d(e->element[1]);
		rec = line ? json_tokener_parse(line) : NULL;
		if (!rec)
			continue; /* not ours to read: acked, skipped */
		origin = json_field_str(rec, "origin");
		id = json_field_str(rec, "id");
		if (!strcmp(origin, f->origin)) {
			f->st.own++; /* applied here when it was taken */
			json_object_put(rec);
			continue;
		}
		h = hash_str(id);
		table_get_or_add(f->seen, &h, &created);
		if (!created && *id) {
			f->st.redelivered++;
			json_object_put(rec);
			continue;
		}
		recs[n_recs++] = rec;
	}
	if (n_recs) {
		apply(ctx, recs, n_recs, out);
		for (i = 0; i < n_recs; i++) {
			f->st
			    .outcome[out[i] <= FLEET_EXPIRED ? out[i]
							     : FLEET_EXPIRED]++;
			json_object_put(recs[i]);
		}
	}
	/* acknowledged once applied: a crash before this re-reads them (the
	 * ids point into the reply, freed after) */
	if (n_ack > 3) {
		redisReply *a = cmd(f, now, (int)n_ack, ack, NULL);

		freeReplyObject(r);
		if (!a)
			return -1;
		freeReplyObject(a);
		return got;
	}
	freeReplyObject(r);
	return got;
}

static void read_stream(struct fleet *f, uint64_t now, fleet_apply_fn apply,
			void *ctx)
{
	/* bounded per call: a long backlog is caught up over a few calls */
	for (int i = 0; i < 8 && f->rc; i++) {
		int got;

		if (!ensure_group(f, now))
			return;
		got = read_batch(f, now, apply, ctx);
		if (got < 0 || (got < FLEET_READ_BATCH && !f->pending_phase))
			return;
	}
}

void fleet_poll(struct fleet *f, uint64_t now, fleet_apply_fn apply, void *ctx)
{
	if (!f->rc) {
		if (now < f->next_try_ns)
			goto unsent;
		if (!connect_now(f, now))
			goto unsent;
	}
	if (f->n_groups || f->n_obs)
		sync_observations(f, now);
	if (f->rc && f->ob_len)
		publish_decisions(f, now);
	if (f->rc && now >= f->next_read_ns) {
		f->next_read_ns = now + READ_EVERY_NS;
		read_stream(f, now, apply, ctx);
	}
	return;
unsent:
	/* observations are made again every round: this round's are lost
	 * with no harm, never queued behind a dead connection */
	f->n_obs = f->n_groups = 0;
}

void fleet_get_stats(const struct fleet *f, struct fleet_stats *s)
{
	*s = f->st;
	s->outbox = f->ob_len;
}
