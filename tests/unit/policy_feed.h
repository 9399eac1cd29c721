/* SPDX-License-Identifier: BSD-2-Clause */
/* What the policy tests feed the policy: one residential_proxy indicator;
 * and the blocklist key of a prefix. */
#ifndef HS_TESTS_POLICY_FEED_H
#define HS_TESTS_POLICY_FEED_H

#include <string.h>

#include <json-c/json.h>

#include "decide/policy.h"
#include "lib/addr.h"
#include "lib/hstime.h"

/* One residential_proxy indicator for addr at time t (seconds). */
static inline void feed(struct policy *p, const char *addr, double score,
			uint64_t t)
{
	struct cidr c;
	struct indicator ind = {
	    .kind = IND_RESIDENTIAL_PROXY,
	    .score = score,
	    .fresh = true,
	    .at_ns = t * HS_NS_PER_SEC,
	    .n_sources = 1,
	};

	assert_int_equal(cidr_parse(addr, &c), 0);
	ind.sources = &c.addr;
	ind.evidence = json_object_new_object();
	policy_on_indicator(p, &ind);
	json_object_put(ind.evidence);
}

/* The LPM key of "10.0.0.0/8" (v4 as v4-mapped: /104). */
static inline struct hs_lpm_key lpm(const char *cidr)
{
	struct hs_lpm_key k = {0};
	struct cidr c;

	assert_int_equal(cidr_parse(cidr, &c), 0);
	k.prefixlen = c.plen;
	memcpy(k.addr, c.addr.b, 16);
	return k;
}

#endif
