// SPDX-License-Identifier: BSD-2-Clause
#include "decide.h"

#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <json-c/json.h>

#include "addr.h"
#include "hydrascope/abi.h"

static const char *str_of(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v)
						   : NULL;
}

static double num_of(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_double(v)
						   : 0;
}

static void record(const struct report_ctx *r, const struct decide_target *t,
		   json_object *d)
{
	const char *line = json_object_to_json_string_ext(
	    d, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (r->fmt == FMT_JSON) {
		fprintf(r->out, "%s\n", line);
	} else {
		const char *target = str_of(d, "prefix");

		fprintf(r->out, "  decision %-12s %-18s ttl=%ss reason=%s%s\n",
			str_of(d, "action"),
			target ? target : str_of(d, "tuple_id"),
			str_of(d, "ttl_s"), str_of(d, "reason"),
			json_object_get_boolean(
			    json_object_object_get(d, "applied"))
			    ? " (applied)"
			    : "");
	}
	if (t->log) {
		fprintf(t->log, "%s\n", line);
		fflush(t->log);
	}
}

static json_object *decision(const char *action, json_object *ind,
			     const struct decide_target *t, uint64_t ttl_s,
			     bool applied)
{
	json_object *d = json_object_new_object(), *e, *inds;

	json_object_object_add(d, "type", json_object_new_string("decision"));
	json_object_object_add(d, "time_ns",
			       json_object_new_uint64(t->stamp_ns));
	json_object_object_add(d, "action", json_object_new_string(action));
	json_object_object_add(d, "ttl_s", json_object_new_uint64(ttl_s));
	json_object_object_add(d, "reason",
			       json_object_new_string(str_of(ind, "kind")));
	inds = json_object_new_array();
	{
		json_object *one = json_object_new_object();

		json_object_object_add(
		    one, "kind", json_object_new_string(str_of(ind, "kind")));
		json_object_object_add(
		    one, "score", json_object_new_double(num_of(ind, "score")));
		json_object_array_add(inds, one);
	}
	json_object_object_add(d, "indicators", inds);
	if (json_object_object_get_ex(ind, "evidence", &e))
		json_object_object_add(d, "evidence", json_object_get(e));
	json_object_object_add(d, "applied", json_object_new_boolean(applied));
	return d;
}

static bool allowlisted(int fd, const struct hs_addr *a)
{
	struct hs_lpm_key k = {.prefixlen = 128};
	struct hs_allow v;

	if (fd < 0)
		return false;
	memcpy(k.addr, a->b, 16);
	return bpf_map_lookup_elem(fd, &k, &v) == 0;
}

static size_t active_blocks(int fd)
{
	struct hs_lpm_key k, n;
	size_t count = 0;
	bool have = false;

	while (fd >= 0 && bpf_map_get_next_key(fd, have ? &k : NULL, &n) == 0 &&
	       count < (1u << 26)) {
		k = n;
		have = true;
		count++;
	}
	return count;
}

static int block_source(const struct report_ctx *r, const struct corr_config *c,
			json_object *ind, const char *src,
			const struct decide_target *t, size_t *blocks)
{
	struct hs_lpm_key k = {0};
	struct hs_block b = {.reason = HS_R_INDICATOR};
	struct cidr cd;
	char prefix[64];
	json_object *d;
	bool applied = false;

	if (cidr_parse(src, &cd))
		return 0;
	if (allowlisted(t->allowlist_fd, &cd.addr))
		return 0; /* the allowlist always wins */
	cd.plen =
	    addr_is_v4(&cd.addr) ? 96 + c->block_v4_prefix : c->block_v6_prefix;
	for (unsigned i = cd.plen; i < 128; i++)
		cd.addr.b[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
	{
		char a[ADDR_STRLEN];

		snprintf(prefix, sizeof(prefix), "%s/%u",
			 addr_str(&cd.addr, a, sizeof(a)),
			 addr_is_v4(&cd.addr) ? cd.plen - 96 : cd.plen);
	}
	if (t->blocklist_fd >= 0 && *blocks < c->max_blocks) {
		k.prefixlen = cd.plen;
		memcpy(k.addr, cd.addr.b, 16);
		b.expires_ns =
		    t->now_ns + (uint64_t)c->ttl_relay_s * 1000000000ull;
		if (bpf_map_update_elem(t->blocklist_fd, &k, &b, BPF_ANY) ==
		    0) {
			applied = true;
			(*blocks)++;
		}
	}
	d = decision("block_prefix", ind, t, c->ttl_relay_s, applied);
	json_object_object_add(d, "prefix", json_object_new_string(prefix));
	record(r, t, d);
	json_object_put(d);
	return 1;
}

static int tuple_rule(const struct report_ctx *r, const struct corr_config *c,
		      json_object *ind, const struct decide_target *t)
{
	const char *tid = str_of(ind, "tuple_id");
	struct hs_tuple_rule rule = {.reason = HS_R_INDICATOR};
	bool applied = false;
	unsigned long long id;
	json_object *d;

	if (!tid || sscanf(tid, "%llx", &id) != 1 || !id)
		return 0;
	rule.min_gap_us = c->relay_min_gap_us;
	rule.expires_ns =
	    t->now_ns + (uint64_t)c->ttl_cluster_s * 1000000000ull;
	if (t->tuple_rules_fd >= 0) {
		__u64 key = id;

		applied = bpf_map_update_elem(t->tuple_rules_fd, &key, &rule,
					      BPF_ANY) == 0;
	}
	d = decision("tuple_rule", ind, t, c->ttl_cluster_s, applied);
	json_object_object_add(d, "tuple_id", json_object_new_string(tid));
	json_object_object_add(d, "min_gap_us",
			       json_object_new_uint64(rule.min_gap_us));
	record(r, t, d);
	json_object_put(d);
	return 1;
}

int decide(const struct report_ctx *r, const struct corr_config *c,
	   json_object *found, const struct decide_target *t)
{
	size_t blocks = active_blocks(t->blocklist_fd), i, n;
	int count = 0;

	n = found ? json_object_array_length(found) : 0;
	for (i = 0; i < n; i++) {
		json_object *ind = json_object_array_get_idx(found, i), *srcs;
		const char *kind = str_of(ind, "kind");
		double score = num_of(ind, "score");

		if (!kind)
			continue;
		if (!strcmp(kind, "farm_cluster") &&
		    score >= c->decide_cluster_min_score)
			count += tuple_rule(r, c, ind, t);
		if (!strcmp(kind, "relay_rtt_gap") &&
		    score >= c->decide_relay_min_score &&
		    json_object_object_get_ex(ind, "sources", &srcs))
			for (size_t j = 0; j < json_object_array_length(srcs);
			     j++)
				count += block_source(
				    r, c, ind,
				    json_object_get_string(
					json_object_array_get_idx(srcs, j)),
				    t, &blocks);
	}
	if (blocks && t->hint_fd >= 0) {
		struct hs_block_hint h = {.prefixes = 1};
		__u32 zero = 0;

		bpf_map_update_elem(t->hint_fd, &zero, &h, BPF_ANY);
	}
	return count;
}
