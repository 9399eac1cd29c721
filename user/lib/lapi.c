// SPDX-License-Identifier: BSD-2-Clause
#include "lib/lapi.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "lib/hstime.h"
#include "lib/safefile.h"
#include "lib/version.h"

#define CONNECT_TIMEOUT_MS 1000
#define CREDENTIALS_MAX 8192  /* bytes of a credentials file */
#define KEEP_BODY (64 * 1024) /* answer buffer kept between requests */

const char *lapi_failure_name(enum lapi_failure f)
{
	static const char *const names[] = {
#define X(e, s) s,
	    LAPI_FAILURES(X)
#undef X
	};

	return f < LAPI_F_COUNT ? names[f] : "ok";
}

#define BACKOFF_MIN_NS (250 * HS_NS_PER_MS)
#define BACKOFF_MAX_NS (5 * HS_NS_PER_SEC)

void lapi_backoff_init(struct lapi_backoff *b)
{
	b->delay_ns = BACKOFF_MIN_NS;
	b->down_said = false;
}

uint64_t lapi_backoff_fail(struct lapi_backoff *b, const char *role,
			   const char *url, enum lapi_failure f, uint64_t now)
{
	uint64_t at = now + b->delay_ns;

	if (!b->down_said)
		fprintf(stderr,
			"hydrascope: crowdsec %s: %s (%s); retrying with "
			"backoff\n",
			role, url, lapi_failure_name(f));
	b->down_said = true;
	b->delay_ns =
	    b->delay_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : b->delay_ns * 2;
	return at;
}

void lapi_backoff_ok(struct lapi_backoff *b, const char *role, const char *url)
{
	if (b->down_said)
		fprintf(stderr, "hydrascope: crowdsec %s: %s answers again\n",
			role, url);
	lapi_backoff_init(b);
}

enum lapi_failure lapi_status_failure(long status)
{
	return status == 401 || status == 403 ? LAPI_F_AUTH : LAPI_F_HTTP;
}

/* ---- URL ---------------------------------------------------------------- */

int lapi_check_url(const char *url, char *out, size_t cap, char *err,
		   size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *full = NULL, *part = NULL;
	const char *why = NULL;
	size_t len;

	if (!u || curl_url_set(u, CURLUPART_URL, url, 0))
		why = "not a URL";
	else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
		 (strcmp(scheme, "http") && strcmp(scheme, "https")))
		why = "the scheme is not http or https";
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) || !*host)
		why = "no host";
	else if (curl_url_get(u, CURLUPART_USER, &part, 0) != CURLUE_NO_USER)
		why = "credentials go in --crowdsec-credentials, not the URL";
	else if (curl_url_get(u, CURLUPART_QUERY, &part, 0) !=
		     CURLUE_NO_QUERY ||
		 curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) !=
		     CURLUE_NO_FRAGMENT)
		why = "a query or fragment";
	else if (curl_url_get(u, CURLUPART_URL, &full, 0))
		why = "not a URL";
	if (!why) {
		/* paths are appended to it: "/v1/..." */
		len = strlen(full);
		while (len && full[len - 1] == '/')
			len--;
		if (len >= cap)
			why = "too long";
		else
			snprintf(out, cap, "%.*s", (int)len, full);
	}
	if (why)
		snprintf(err, errlen,
			 "wants the LAPI as http[s]://HOST[:PORT][/PATH], got "
			 "'%s' (%s)",
			 url, why);
	curl_free(scheme);
	curl_free(host);
	curl_free(full);
	curl_free(part);
	curl_url_cleanup(u);
	return why ? -1 : 0;
}

/* ---- credentials ------------------------------------------------------ */

static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* One "key: value" of the file into c; NULL, or why the line is refused. */
static const char *set_key(struct lapi_conf *c, const char *key, char *val,
			   unsigned *seen)
{
	static const struct {
		const char *key;
		size_t off, cap;
	} keys[] = {
	    {"login", offsetof(struct lapi_conf, login), LAPI_SECRET_MAX},
	    {"password", offsetof(struct lapi_conf, password), LAPI_SECRET_MAX},
	    {"api_key", offsetof(struct lapi_conf, api_key), LAPI_SECRET_MAX},
	    {"ca_cert_path", offsetof(struct lapi_conf, ca_path),
	     sizeof(c->ca_path)},
	};
	size_t vl = strlen(val);

	/* YAML quoting, as an editor might add */
	if (vl >= 2 && (*val == '"' || *val == '\'') && val[vl - 1] == *val) {
		val[--vl] = 0;
		val++;
		vl--;
	}
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		if (strcmp(key, keys[k].key))
			continue;
		if (*seen & (1u << k))
			return "given twice";
		*seen |= 1u << k;
		if (!vl || vl >= keys[k].cap)
			return "empty or too long";
		for (size_t i = 0; i < vl; i++)
			if ((unsigned char)val[i] < 0x20 || val[i] == 0x7f)
				return "holds control characters";
		memcpy((char *)c + keys[k].off, val, vl + 1);
		return NULL;
	}
	return NULL; /* other keys (url: --crowdsec says where) are cscli's */
}

int lapi_parse_credentials(const char *text, struct lapi_conf *c, char *err,
			   size_t errlen)
{
	char *copy = strdup(text), *line, *next;
	unsigned n = 0, seen = 0;
	int rc = 0;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (line = copy; line && !rc; line = next) {
		char *colon, *key;
		const char *why;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		n++;
		key = trim(line);
		if (!*key || *key == '#')
			continue;
		colon = strchr(key, ':');
		if (!colon) {
			snprintf(err, errlen, "line %u: not 'key: value'", n);
			rc = -1;
			break;
		}
		*colon = 0;
		key = trim(key);
		why = set_key(c, key, trim(colon + 1), &seen);
		if (why) {
			snprintf(err, errlen, "line %u: %s %s", n, key, why);
			rc = -1;
		}
	}
	explicit_bzero(copy, strlen(text));
	free(copy);
	return rc;
}

int lapi_load_credentials(const char *path, struct lapi_conf *c, char *err,
			  size_t errlen)
{
	char *buf = malloc(CREDENTIALS_MAX), why[160];
	int rc = -1;

	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	if (safefile_read_secret(path, buf, CREDENTIALS_MAX, why, sizeof(why)))
		snprintf(err, errlen, "%s: %s", path, why);
	else if (!lapi_parse_credentials(buf, c, why, sizeof(why)))
		rc = 0;
	else
		snprintf(err, errlen, "%s: %s", path, why);
	explicit_bzero(buf, CREDENTIALS_MAX);
	free(buf);
	return rc;
}

int lapi_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

/* ---- HTTP ------------------------------------------------------------ */

struct lapi_http {
	CURLM *m; /* one transfer at a time; keeps the connection */
	CURL *c;
	struct curl_slist *hdr; /* of the transfer in flight */
	bool busy;
	char base[512];
	char *body;
	size_t len, alloc, max;
	bool too_large;
};

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct lapi_http *h = ctx;
	size_t m = size * n;

	if (m > h->max - h->len) {
		h->too_large = true;
		return 0; /* libcurl aborts the transfer */
	}
	if (h->len + m + 1 > h->alloc) {
		size_t want = h->alloc ? 2 * h->alloc : 16384;
		char *b;

		while (want < h->len + m + 1)
			want *= 2;
		if (want > h->max + 1)
			want = h->max + 1;
		b = realloc(h->body, want);
		if (!b)
			return 0;
		h->body = b;
		h->alloc = want;
	}
	memcpy(h->body + h->len, p, m);
	h->len += m;
	h->body[h->len] = 0;
	return m;
}

struct lapi_http *lapi_http_new(const struct lapi_conf *conf, size_t max_body,
				unsigned timeout_ms)
{
	struct lapi_http *h = calloc(1, sizeof(*h));
	char ua[64];

	if (!h)
		return NULL;
	h->m = curl_multi_init();
	h->c = curl_easy_init();
	if (!h->m || !h->c) {
		lapi_http_free(h);
		return NULL;
	}
	snprintf(h->base, sizeof(h->base), "%s", conf->url);
	snprintf(ua, sizeof(ua), "hydrascope/%s", hs_version);
	h->max = max_body;
	curl_easy_setopt(h->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->c, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(timeout_ms < CONNECT_TIMEOUT_MS
				    ? timeout_ms
				    : CONNECT_TIMEOUT_MS));
	curl_easy_setopt(h->c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h->c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h->c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h->c, CURLOPT_PROXY, "");
	curl_easy_setopt(h->c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h->c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (conf->ca_path[0])
		curl_easy_setopt(h->c, CURLOPT_CAINFO, conf->ca_path);
	/* a declared length past the cap stops before the body */
	curl_easy_setopt(h->c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_body);
	curl_easy_setopt(h->c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h->c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->c, CURLOPT_USERAGENT, ua);
	return h;
}

static void finish(struct lapi_http *h)
{
	if (h->busy)
		curl_multi_remove_handle(h->m, h->c);
	curl_easy_setopt(h->c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h->hdr);
	h->hdr = NULL;
	h->busy = false;
}

void lapi_http_free(struct lapi_http *h)
{
	if (!h)
		return;
	if (h->c)
		finish(h);
	curl_easy_cleanup(h->c);
	curl_multi_cleanup(h->m);
	free(h->body);
	free(h);
}

int lapi_http_start(struct lapi_http *h, const char *path, const char *header,
		    const char *body)
{
	/* no 100-continue round trip before a body; JSON both ways, and no
	 * compressed answer whose size the cap could not see */
	const char *lines[4] = {"Expect:", "Accept: application/json"};
	struct curl_slist *l;
	size_t n = 2;
	char url[1024];

	if (h->busy)
		return -1;
	h->len = 0;
	h->too_large = false;
	/* a full stream answer (MiBs) does not stay resident until the
	 * next one */
	if (h->alloc > KEEP_BODY) {
		free(h->body);
		h->body = NULL;
		h->alloc = 0;
	}
	if (h->body)
		h->body[0] = 0;
	if (body)
		lines[n++] = "Content-Type: application/json";
	if (header)
		lines[n++] = header;
	for (size_t i = 0; i < n; i++) {
		l = curl_slist_append(h->hdr, lines[i]);
		if (!l) {
			finish(h);
			return -1;
		}
		h->hdr = l;
	}
	snprintf(url, sizeof(url), "%s%s", h->base, path);
	curl_easy_setopt(h->c, CURLOPT_URL, url);
	curl_easy_setopt(h->c, CURLOPT_HTTPHEADER, h->hdr);
	if (body) {
		curl_easy_setopt(h->c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)strlen(body));
		curl_easy_setopt(h->c, CURLOPT_COPYPOSTFIELDS, body);
	} else {
		curl_easy_setopt(h->c, CURLOPT_HTTPGET, 1L);
	}
	if (curl_multi_add_handle(h->m, h->c) != CURLM_OK) {
		finish(h);
		return -1;
	}
	h->busy = true;
	return 0;
}

bool lapi_http_busy(const struct lapi_http *h)
{
	return h->busy;
}

enum lapi_failure lapi_http_step(struct lapi_http *h, unsigned wait_ms,
				 long *status)
{
	CURLcode rc = CURLE_OK;
	bool done = false;
	CURLMsg *msg;
	int running, left;

	*status = 0;
	if (!h->busy)
		return LAPI_F_IO;
	if (wait_ms)
		curl_multi_poll(h->m, NULL, 0, (int)wait_ms, NULL);
	curl_multi_perform(h->m, &running);
	while ((msg = curl_multi_info_read(h->m, &left)))
		if (msg->msg == CURLMSG_DONE) {
			rc = msg->data.result;
			done = true;
		}
	if (!done)
		return LAPI_PENDING;
	finish(h);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h->c, CURLINFO_RESPONSE_CODE, status);
		return LAPI_OK;
	}
	if (h->too_large || rc == CURLE_FILESIZE_EXCEEDED)
		return LAPI_F_TOO_LARGE;
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
		return LAPI_F_CONNECT;
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return LAPI_F_TIMEOUT;
	return LAPI_F_IO;
}

const char *lapi_http_body(const struct lapi_http *h, size_t *len)
{
	if (len)
		*len = h->len;
	return h->body ? h->body : "";
}
