// SPDX-License-Identifier: BSD-2-Clause
#include "summary.h"

#include <inttypes.h>

#include <json-c/json.h>

static void clusters_text(FILE *out, const struct cluster_view *v, size_t n)
{
	fprintf(out, "clusters (largest, farms first):\n");
	for (size_t i = 0; i < n; i++)
		fprintf(out,
			"  %016" PRIx64 " tuple=%016" PRIx64
			" ja4=%-36s band=%-7s sources=%-5zu prefixes=%-5zu%s\n",
			v[i].cluster_id, v[i].tuple_id,
			v[i].ja4[0] ? v[i].ja4 : "-", band_name(v[i].band),
			v[i].sources, v[i].prefixes, v[i].farm ? " FARM" : "");
}

void summary_print(FILE *out, enum out_format fmt, struct pipeline *pl,
		   int stats_fd)
{
	struct cluster_view top[16];
	size_t n = corr_top_clusters(pl->corr, top, 16), i;
	struct corr_stats cs;
	struct policy_stats ps;
	struct enforce_stats es;
	struct hs_stats st;
	json_object *o, *a, *k;

	corr_get_stats(pl->corr, &cs);
	policy_get_stats(pl->policy, &ps);
	enforcer_get_stats(pl->enf, &es);
	if (stats_read(stats_fd, &st))
		return;
	if (fmt == FMT_TEXT) {
		clusters_text(out, top, n);
		fprintf(out, "indicators raised:");
		for (i = 0; i < IND_COUNT; i++)
			if (cs.raised[i])
				fprintf(out, " %s=%" PRIu64,
					ind_kind_name((enum ind_kind)i),
					cs.raised[i]);
		fprintf(out,
			"\nblocking: %zu prefix blocks, %zu tuple rules "
			"desired (%zu/%zu enforced); packets dropped "
			"%llu, would drop %llu (dry-run)\n",
			es.desired_blocks, es.desired_rules, es.enforced_blocks,
			es.enforced_rules,
			(unsigned long long)(st.block_drops + st.tuple_drops),
			(unsigned long long)(st.block_would_drop +
					     st.tuple_would_drop));
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("summary"));
	a = json_object_new_array();
	for (i = 0; i < n; i++) {
		json_object *c = json_object_new_object();
		char id[24];

		snprintf(id, sizeof(id), "%016" PRIx64, top[i].cluster_id);
		json_object_object_add(c, "cluster",
				       json_object_new_string(id));
		snprintf(id, sizeof(id), "%016" PRIx64, top[i].tuple_id);
		json_object_object_add(c, "tuple_id",
				       json_object_new_string(id));
		json_object_object_add(c, "ja4",
				       json_object_new_string(top[i].ja4));
		json_object_object_add(
		    c, "band", json_object_new_string(band_name(top[i].band)));
		json_object_object_add(c, "sources",
				       json_object_new_uint64(top[i].sources));
		json_object_object_add(c, "prefixes",
				       json_object_new_uint64(top[i].prefixes));
		json_object_object_add(c, "farm",
				       json_object_new_boolean(top[i].farm));
		json_object_array_add(a, c);
	}
	json_object_object_add(o, "clusters", a);
	k = json_object_new_object();
	for (i = 0; i < IND_COUNT; i++)
		json_object_object_add(k, ind_kind_name((enum ind_kind)i),
				       json_object_new_uint64(cs.raised[i]));
	json_object_object_add(o, "indicators_raised", k);
	json_object_object_add(o, "relay_samples",
			       json_object_new_uint64(cs.relay_samples));
	json_object_object_add(o, "relay_hits",
			       json_object_new_uint64(cs.relay_hits));
	json_object_object_add(o, "desired_blocks",
			       json_object_new_uint64(es.desired_blocks));
	json_object_object_add(o, "desired_rules",
			       json_object_new_uint64(es.desired_rules));
	json_object_object_add(o, "renewals",
			       json_object_new_uint64(ps.renewals));
	json_object_object_add(o, "refused_cap",
			       json_object_new_uint64(ps.refused_cap));
	json_object_object_add(o, "refused_allow",
			       json_object_new_uint64(ps.refused_allow));
	json_object_object_add(o, "correlator_evictions",
			       json_object_new_uint64(cs.evictions));
	fprintf(
	    out, "%s\n",
	    json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}
