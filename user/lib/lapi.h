/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What every client of a CrowdSec Local API (LAPI) shares: its base URL
 * (checked once, at start), the credentials file, and a bounded HTTP
 * exchange.
 *
 * The exchange is libcurl's rather than a client of our own: the LAPI
 * speaks HTTP/1.1 (chunked bodies from Go's server, keep-alive) and often
 * HTTPS, and a hand-written parser of both would be one more parser of
 * bytes from another host. It runs on libcurl's multi interface, without
 * blocking: the main loop starts a request and moves it on at each turn
 * (lapi_http_step), so a slow, stalled or dead LAPI never holds up the
 * datapath's ring buffer or the rounds (a LAPI 1.4 with SQLite takes
 * ~20 ms per alert written: a batch can take a second). A request is
 * still bounded: a connect timeout and a total timeout, after which it
 * fails and is counted. No signals (CURLOPT_NOSIGNAL: a daemon with
 * signal handlers), http and https only, no redirects, no proxy from the
 * environment (the credentials go to the URL given, nowhere else), TLS
 * peer and host verification on, and the response body capped: past
 * the cap the transfer is aborted and counted.
 *
 * The credentials file is the one `cscli machines add NAME -f FILE`
 * writes ("url:", "login:", "password:", one "key: value" a line), plus
 * "api_key:" (`cscli bouncers add NAME -o raw`) and, for a LAPI with a
 * private CA, "ca_cert_path:". It is a secret: refused when others may
 * read it (lib/safefile.h).
 */
#ifndef HS_USER_LAPI_H
#define HS_USER_LAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a request failed, for the hydrascope_crowdsec_failures_total
 * reasons: one list, the enum and the label names. */
#define LAPI_FAILURES(X)                                                       \
	X(CONNECT, "connect")	  /* no connection (refused, unreachable) */   \
	X(TIMEOUT, "timeout")	  /* the connect or total timeout */           \
	X(TOO_LARGE, "too_large") /* the body passed the cap */                \
	X(IO, "io")		  /* any other transfer error (TLS, reset) */  \
	X(AUTH, "auth")		  /* 401/403 after a fresh login */            \
	X(HTTP, "http")		  /* another status that is not 2xx */         \
	X(PARSE, "parse")	  /* an answer that is not what the API says */

enum lapi_failure {
#define X(e, s) LAPI_F_##e,
	LAPI_FAILURES(X)
#undef X
	    LAPI_F_COUNT,
	LAPI_OK = LAPI_F_COUNT,
	LAPI_PENDING, /* still in flight */
};

const char *lapi_failure_name(enum lapi_failure f);

#define LAPI_SECRET_MAX 256
/* A client's retries: the wait after a failure doubles from 250 ms to 5 s;
 * the first failure of a run of them and the recovery are said on stderr
 * ("crowdsec ROLE: URL ..."). */
struct lapi_backoff {
	uint64_t delay_ns;
	bool down_said;
};

void lapi_backoff_init(struct lapi_backoff *b);
/* A failure f at now; returns when to try again. */
uint64_t lapi_backoff_fail(struct lapi_backoff *b, const char *role,
			   const char *url, enum lapi_failure f, uint64_t now);
/* An answer: the wait back to its floor. */
void lapi_backoff_ok(struct lapi_backoff *b, const char *role, const char *url);
/* The failure an HTTP status other than 200 is: refused credentials or
 * another answer. */
enum lapi_failure lapi_status_failure(long status);

/* The origin of the decisions hydrascope pushes; its bouncer knows its own
 * decisions coming back by it. */
#define CROWDSEC_ORIGIN "hydrascope"

struct lapi_conf {
	char url[512]; /* base, without a trailing slash */
	char login[LAPI_SECRET_MAX], password[LAPI_SECRET_MAX];
	char api_key[LAPI_SECRET_MAX];
	char ca_path[512]; /* "": the system's CA store */
};

/* http://HOST[:PORT][/PATH] or https://...: no user, query or fragment.
 * The base goes to out (cap bytes) without a trailing slash. 0, or -1
 * with a one-line reason. */
int lapi_check_url(const char *url, char *out, size_t cap, char *err,
		   size_t errlen);
/* Parse the text of a credentials file into c (url untouched). 0, or -1
 * with a one-line reason (which line). */
int lapi_parse_credentials(const char *text, struct lapi_conf *c, char *err,
			   size_t errlen);
/* Read and parse a credentials file, refusing one others may read. */
int lapi_load_credentials(const char *path, struct lapi_conf *c, char *err,
			  size_t errlen);
/* libcurl's global state: once, before any thread starts. */
int lapi_global_init(void);

struct lapi_http;

/* One client per role (push, pull), one request at a time; it keeps its
 * connection alive. max_body: the response cap; timeout_ms: the whole
 * request. */
struct lapi_http *lapi_http_new(const struct lapi_conf *c, size_t max_body,
				unsigned timeout_ms);
void lapi_http_free(struct lapi_http *h);
/* Start a POST of body (JSON) to base URL + path, or a GET when body is
 * NULL, with header (one "Name: value" line, or NULL). -1 when one is in
 * flight already or out of memory. */
int lapi_http_start(struct lapi_http *h, const char *path, const char *header,
		    const char *body);
bool lapi_http_busy(const struct lapi_http *h);
/* Move the request on, waiting up to wait_ms for the socket (0: not at
 * all). LAPI_PENDING while in flight; then LAPI_OK when an answer came
 * (whatever its status, in *status), else why not. */
enum lapi_failure lapi_http_step(struct lapi_http *h, unsigned wait_ms,
				 long *status);
/* The last answer's body, NUL-terminated; valid until the next start. */
const char *lapi_http_body(const struct lapi_http *h, size_t *len);

#endif
