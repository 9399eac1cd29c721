// SPDX-License-Identifier: BSD-2-Clause
/*
 * uniform_requests (user/correlate/indicators/uniform.c): request sizes
 * of finished flows, per source and pooled over a farm cluster, through
 * the sweep. Each flow carries the kernel's size statistics (count, mean,
 * population variance; mean 1000 bytes here, variances squares of whole
 * bytes so that the CVs at the bound are exact). With the defaults a
 * source fires from 5 requests at a CV of at most 0.1 (score 0.4); a farm
 * from 5 members with sizes, scored 0.5 + 0.5 * (1 - CV / 0.1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "corr_fixture.h"
#include "rows.h"

#define SRC "198.51.100.50"

struct uniform_row {
	const char *name;
	unsigned members; /* 0: one source; else a cluster over 5 /24s */
	unsigned sized;	  /* members whose flow has request sizes */
	enum cadence_band band;
	uint32_t requests; /* per flow */
	uint64_t sd;	   /* bytes */
	bool fires;
	double score;
};

static const struct uniform_row rows[] = {
    {"uniform: one source, 5 requests at uniform_max_cv", 0, 0, BAND_SPARSE, 5,
     100, true, 0.4},
    {"uniform: one source, CV 0.101", 0, 0, BAND_SPARSE, 5, 101, false, 0},
    {"uniform: one source, 4 requests, under uniform_min_requests", 0, 0,
     BAND_SPARSE, 4, 0, false, 0},
    {"benign: a browser's requests vary by 40 %", 0, 0, BAND_SPARSE, 30, 400,
     false, 0},
    {"uniform: farm of 5, pooled CV at the bound", 5, 5, BAND_ROBOTIC, 5, 100,
     true, 0.5},
    {"uniform: farm of 5, pooled CV 0.101", 5, 5, BAND_ROBOTIC, 5, 101, false,
     0},
    {"uniform: farm of 5, 4 members with sizes (cluster_min_sources)", 5, 4,
     BAND_ROBOTIC, 5, 0, false, 0},
    {"uniform: farm of 6, pooled CV 0.05", 6, 6, BAND_ROBOTIC, 5, 50, true,
     0.75},
    {"benign: templated sizes on human-band members, not a farm", 5, 5,
     BAND_HUMAN, 5, 0, false, 0},
};

static void run_row(void **state)
{
	const struct uniform_row *r = *state;
	struct fx *f = fx_new();
	const struct fx_ind *g;
	char a[32];

	assert_true(f->cfg.uniform_max_cv == 0.1);
	assert_int_equal(f->cfg.uniform_min_requests, 5);
	assert_int_equal(f->cfg.cluster_min_sources, 5);
	if (!r->members) {
		fx_flow(f, &(struct fx_flow){
			       .client = SRC,
			       .at_s = 100,
			       .dur_s = 10,
			       .fam = FAM_OPENSSL,
			       .req_n = r->requests,
			       .req_mean = 1000,
			       .req_var = r->sd * r->sd,
			   });
		fx_eval(f, 120);
		g = fx_find(f, IND_UNIFORM_REQUESTS, SRC);
	} else {
		for (unsigned i = 0; i < r->members; i++) {
			fx_member_addr(a, sizeof(a), i, 5);
			fx_band_source(f, a, r->band, 1, 100, 110);
			fx_flow(f, &(struct fx_flow){
				       .client = a,
				       .at_s = 100,
				       .dur_s = 10,
				       .fam = FAM_OPENSSL,
				       .req_n = i < r->sized ? r->requests : 0,
				       .req_mean = 1000,
				       .req_var = r->sd * r->sd,
				       /* the farm (the rows' robotic band) is
					* relayed exits: one relay group */
				       .tcp_rtt_us = 20000,
				       .tls_rtt_us = r->band == BAND_ROBOTIC
							 ? 20000 + 32000
							 : 0,
				       .ack_hello_us =
					   r->band == BAND_ROBOTIC ? 32000 : 0,
				   });
		}
		fx_eval(f, 120);
		g = fx_find_cluster(f, IND_UNIFORM_REQUESTS);
	}
	if (!g != !r->fires) {
		fx_dump(f);
		fail_msg("uniform_requests %s", g ? "fired" : "did not fire");
	}
	if (g) {
		assert_score(g->score, r->score);
		assert_true(fx_ev(g, "size_mean") == 1000);
		if (r->members) {
			assert_int_equal(g->n_sources, r->members);
			assert_int_equal(fx_ev(g, "sources_with_sizes"),
					 r->sized);
		}
	}
	fx_free(f);
}

int main(void)
{
	return ROWS_RUN("uniform", rows, run_row);
}
