// SPDX-License-Identifier: BSD-2-Clause
/*
 * The datapath's four blocking maps as plain kernel maps (no program
 * loaded; needs root), and a pipeline that enforces into them: the
 * reconcile test and the CrowdSec tests drive the policy through the same
 * set-up.
 */
#ifndef HS_TEST_BLOCKING_MAPS_H
#define HS_TEST_BLOCKING_MAPS_H

#include <stdio.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "correlate/correlate.h"
#include "decide/pipeline.h"
#include "hydrascope/abi.h"
#include "output/envelope.h"

struct blocking_maps {
	int block, rules, hint, allow;
};

static inline int blocking_lpm(const char *name, size_t vsize, unsigned max)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);

	return bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, name,
			      sizeof(struct hs_lpm_key), vsize, max, &o);
}

/* A blocklist of `blocks` prefixes; 64 allowlist entries and rules. */
static inline void blocking_maps_open(struct blocking_maps *m, unsigned blocks)
{
	m->block = blocking_lpm("blocklist", sizeof(struct hs_block), blocks);
	m->allow = blocking_lpm("allowlist", sizeof(struct hs_allow), 64);
	m->rules = bpf_map_create(BPF_MAP_TYPE_HASH, "tuple_rules", 8,
				  sizeof(struct hs_tuple_rule), 64, NULL);
	m->hint = bpf_map_create(BPF_MAP_TYPE_ARRAY, "block_hint", 4,
				 sizeof(struct hs_block_hint), 1, NULL);
	assert_true(m->block >= 0 && m->allow >= 0 && m->rules >= 0 &&
		    m->hint >= 0);
}

static inline void blocking_maps_close(struct blocking_maps *m)
{
	close(m->block);
	close(m->allow);
	close(m->rules);
	close(m->hint);
}

/* A pipeline at cfg's defaults enforcing into m, its records in log as
 * JSON lines. */
static inline struct pipeline *
blocking_pipeline_new(const struct blocking_maps *m, struct corr_config *cfg,
		      FILE *log)
{
	struct pipeline_opts po = {0};
	struct pipeline *pl;
	char err[256];

	corr_config_defaults(cfg);
	po.cfg = cfg;
	po.max_flows = po.max_sources = 64;
	po.flows_fd = po.sources_fd = -1;
	po.enforce =
	    (struct enforce_fds){m->block, m->rules, m->hint, m->allow, -1};
	po.allowlist_fd = m->allow;
	po.out = (struct record_out){.log = log,
				     .fmt = FMT_JSON,
				     .env = {.iface = "test", .live = true},
				     .max_listed = 10};
	envelope_refresh(&po.out.env);
	pl = pipeline_new(&po, err, sizeof(err));
	assert_non_null(pl);
	return pl;
}

#endif
