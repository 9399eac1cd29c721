// SPDX-License-Identifier: BSD-2-Clause
/*
 * stack_mismatch (user/correlate/indicators/stack.c, with the per-flow
 * check of fold.c): one source's flows, each a ClientHello of a family
 * behind a SYN of an OS class, through the sweep.
 *
 * Without a p0f database the OS class comes from the initial TTL: 64 Unix,
 * 128 Windows, 255 network gear. Implausibilities (client_family.c):
 * Java on Windows 0.4, OpenSSL on Windows 0.5, Safari on Windows 0.9,
 * Schannel on network gear 0.9, a browser on its own OS 0. With the
 * defaults a flow mismatches from 0.5; the source needs 2 such flows
 * making at least half of its checked ones. Score: worst implausibility
 * times that share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "corr_fixture.h"
#include "rows.h"

#define SRC "198.51.100.20"

enum { UNIX = 64, WINDOWS = 128, GEAR = 255 };

struct stack_flow {
	enum client_family fam;
	uint8_t ttl;
};

struct stack_row {
	const char *name;
	double min_implausibility; /* 0: the default */
	size_t n;
	struct stack_flow flow[5];
	bool fires;
	double score;
	const char *family, *os; /* the worst pair, in the evidence */
};

static const struct stack_row rows[] = {
    {"stack: OpenSSL behind Windows, implausibility at the bound",
     0,
     2,
     {{FAM_OPENSSL, WINDOWS}, {FAM_OPENSSL, WINDOWS}},
     true,
     0.5,
     "openssl",
     "windows"},
    {"stack: Java behind Windows, implausibility under the bound",
     0,
     2,
     {{FAM_JAVA, WINDOWS}, {FAM_JAVA, WINDOWS}},
     false,
     0,
     NULL,
     NULL},
    {"stack: OpenSSL behind Windows with the bound raised to 0.51",
     0.51,
     2,
     {{FAM_OPENSSL, WINDOWS}, {FAM_OPENSSL, WINDOWS}},
     false,
     0,
     NULL,
     NULL},
    {"stack: one mismatched flow is under stack_min_flows",
     0,
     1,
     {{FAM_SAFARI, WINDOWS}},
     false,
     0,
     NULL,
     NULL},
    {"stack: two of four flows mismatched, share at stack_min_share",
     0,
     4,
     {{FAM_SAFARI, WINDOWS},
      {FAM_CHROMIUM, WINDOWS},
      {FAM_SAFARI, WINDOWS},
      {FAM_CHROMIUM, WINDOWS}},
     true,
     0.9 * 0.5,
     "safari",
     "windows"},
    {"stack: two of five flows mismatched, share under stack_min_share",
     0,
     5,
     {{FAM_SAFARI, WINDOWS},
      {FAM_CHROMIUM, WINDOWS},
      {FAM_SAFARI, WINDOWS},
      {FAM_CHROMIUM, WINDOWS},
      {FAM_CHROMIUM, WINDOWS}},
     false,
     0,
     NULL,
     NULL},
    {"stack: Schannel behind network gear",
     0,
     2,
     {{FAM_SCHANNEL, GEAR}, {FAM_SCHANNEL, GEAR}},
     true,
     0.9,
     "schannel",
     "other"},
    {"stack: the worst pair scores, OpenSSL and Safari behind Windows",
     0,
     3,
     {{FAM_OPENSSL, WINDOWS}, {FAM_SAFARI, WINDOWS}, {FAM_OPENSSL, WINDOWS}},
     true,
     0.9,
     "safari",
     "windows"},
    {"stack: no SYN seen, nothing to check",
     0,
     2,
     {{FAM_SAFARI, 0}, {FAM_SAFARI, 0}},
     false,
     0,
     NULL,
     NULL},
    /* benign look-alikes */
    {"benign: Chromium on Windows",
     0,
     3,
     {{FAM_CHROMIUM, WINDOWS},
      {FAM_CHROMIUM, WINDOWS},
      {FAM_CHROMIUM, WINDOWS}},
     false,
     0,
     NULL,
     NULL},
    {"benign: Firefox and curl behind one Linux NAT",
     0,
     4,
     {{FAM_FIREFOX, UNIX},
      {FAM_OPENSSL, UNIX},
      {FAM_FIREFOX, UNIX},
      {FAM_OPENSSL, UNIX}},
     false,
     0,
     NULL,
     NULL},
};

static void run_row(void **state)
{
	const struct stack_row *r = *state;
	struct fx *f = fx_new();
	const struct fx_ind *g;

	assert_true(f->cfg.stack_min_implausibility == 0.5);
	assert_int_equal(f->cfg.stack_min_flows, 2);
	assert_true(f->cfg.stack_min_share == 0.5);
	if (r->min_implausibility)
		f->cfg.stack_min_implausibility = r->min_implausibility;
	for (size_t i = 0; i < r->n; i++)
		fx_flow(f, &(struct fx_flow){
			       .client = SRC,
			       .at_s = 100 + i,
			       .dur_s = 1,
			       .fam = r->flow[i].fam,
			       .ttl = r->flow[i].ttl,
			       .mss = 1460,
			   });
	fx_eval(f, 120);
	g = fx_find(f, IND_STACK_MISMATCH, SRC);
	if (!g != !r->fires) {
		fx_dump(f);
		fail_msg("stack_mismatch %s", g ? "fired" : "did not fire");
	}
	if (g) {
		assert_score(g->score, r->score);
		assert_false(g->relay);
		fx_ev_str(g, "client_family", r->family);
		fx_ev_str(g, "os_class", r->os);
	}
	fx_free(f);
}

int main(void)
{
	return ROWS_RUN("stack", rows, run_row);
}
