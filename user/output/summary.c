// SPDX-License-Identifier: BSD-2-Clause
#include "output/summary.h"

#include <inttypes.h>

#include <json-c/json.h>

#include "datapath/maps.h"
#include "decide/pipeline.h"
#include "lib/table.h"
#include "output/fleet.h"
#include "output/json_field.h"

void summary_clusters_text(FILE *out, json_object *summary)
{
	json_object *a;
	size_t i, n;

	fprintf(out, "clusters (largest, farms first):\n");
	if (!json_object_object_get_ex(summary, "clusters", &a))
		return;
	n = json_object_array_length(a);
	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(a, i);

		fprintf(
		    out,
		    "  %s tuple=%s ja4=%-36s band=%-7s sources=%-5" PRIu64
		    " prefixes=%-5" PRIu64 "%s\n",
		    json_field_str(c, "cluster"), json_field_str(c, "tuple_id"),
		    *json_field_str(c, "ja4") ? json_field_str(c, "ja4") : "-",
		    json_field_str(c, "band"), json_field_u64(c, "sources"),
		    json_field_u64(c, "prefixes"),
		    json_object_get_boolean(json_object_object_get(c, "farm"))
			? " FARM"
			: "");
	}
}

json_object *summary_json(struct pipeline *pl, int stats_fd, uint64_t now_ns)
{
	struct cluster_view top[16];
	size_t n = corr_top_clusters(pl->corr, top, 16), i;
	struct corr_stats cs;
	struct policy_stats ps;
	struct enforce_stats es;
	struct hs_stats st;
	json_object *o, *a, *k;

	if (stats_read(stats_fd, &st))
		return NULL;
	corr_get_stats(pl->corr, &cs);
	policy_get_stats(pl->policy, &ps);
	enforcer_get_stats(pl->enf, &es);
	o = json_object_new_object();
	json_set_str(o, "type", "summary");
	envelope_add(o, &pl->out.env, envelope_wall(&pl->out.env, now_ns));
	a = json_object_new_array();
	for (i = 0; i < n; i++) {
		json_object *c = json_object_new_object();
		char id[24];

		snprintf(id, sizeof(id), "%016" PRIx64, top[i].cluster_id);
		json_set_str(c, "cluster", id);
		snprintf(id, sizeof(id), "%016" PRIx64, top[i].tuple_id);
		json_set_str(c, "tuple_id", id);
		json_set_str(c, "ja4", top[i].ja4);
		json_set_str(c, "band", band_name(top[i].band));
		json_set_u64(c, "sources", top[i].sources);
		json_set_u64(c, "prefixes", top[i].prefixes);
		json_object_object_add(c, "farm",
				       json_object_new_boolean(top[i].farm));
		json_object_array_add(a, c);
	}
	json_object_object_add(o, "clusters", a);
	k = json_object_new_object();
	for (i = 0; i < IND_COUNT; i++)
		json_set_u64(k, ind_kind_name((enum ind_kind)i), cs.raised[i]);
	json_object_object_add(o, "indicators_raised", k);
	json_set_u64(o, "farm_clusters", cs.farm_clusters);
	json_set_u64(o, "relay_samples", cs.relay_samples);
	json_set_u64(o, "relay_hits", cs.relay_hits);
	json_set_u64(o, "desired_blocks", es.desired_blocks);
	json_set_u64(o, "enforced_blocks", es.enforced_blocks);
	json_set_u64(o, "desired_rules", es.desired_rules);
	json_set_u64(o, "enforced_rules", es.enforced_rules);
	json_set_u64(o, "renewals", ps.renewals);
	json_set_u64(o, "refused_cap", ps.refused[BUDGET_CAP]);
	json_set_u64(o, "refused_prefix", ps.refused[BUDGET_PREFIX]);
	json_set_u64(o, "refused_round", ps.refused[BUDGET_ROUND]);
	json_set_u64(o, "refused_allow", ps.refused_allow);
	json_set_u64(o, "evicted_cap", ps.evicted[BUDGET_CAP]);
	json_set_u64(o, "evicted_prefix", ps.evicted[BUDGET_PREFIX]);
	json_set_u64(o, "evicted_round", ps.evicted[BUDGET_ROUND]);
	json_set_u64(o, "flows_unverified", cs.flows_unverified);
	json_set_u64(o, "flows_reconciled", cs.flows_reconciled);
	json_set_u64(o, "correlator_evictions", cs.evictions);
	json_set_u64(o, "table_probe_evictions", table_probe_evictions_all());
	json_set_u64(o, "dropped", st.block_drops + st.tuple_drops);
	json_set_u64(o, "would_drop",
		     st.block_would_drop + st.tuple_would_drop);
	if (pl->fleet) {
		struct fleet_stats fs;
		json_object *f = json_object_new_object();

		fleet_get_stats(pl->fleet, &fs);
		json_object_object_add(f, "connected",
				       json_object_new_boolean(fs.connected));
		json_set_u64(f, "connects", fs.connects);
		json_set_u64(f, "failures", fs.failures);
		json_set_u64(f, "published", fs.published);
		json_set_u64(f, "publish_dropped", fs.publish_dropped);
		json_set_u64(f, "outbox", fs.outbox);
		json_set_u64(f, "received", fs.received);
		json_set_u64(f, "own", fs.own);
		json_set_u64(f, "redelivered", fs.redelivered);
		json_set_u64(f, "remote_applied", fs.outcome[FLEET_APPLIED]);
		json_set_u64(f, "remote_held", fs.outcome[FLEET_HELD]);
		json_set_u64(f, "remote_refused", fs.outcome[FLEET_REFUSED]);
		json_set_u64(f, "remote_expired", fs.outcome[FLEET_EXPIRED]);
		json_set_u64(f, "observed", fs.observed);
		json_set_u64(f, "views", fs.views);
		json_object_object_add(o, "fleet", f);
	}
	return o;
}

void summary_print(FILE *out, enum out_format fmt, struct pipeline *pl,
		   int stats_fd, uint64_t now_ns)
{
	json_object *o = summary_json(pl, stats_fd, now_ns), *k;

	if (!o)
		return;
	if (fmt == FMT_JSON) {
		fprintf(out, "%s\n",
			json_object_to_json_string_ext(
			    o, JSON_C_TO_STRING_PLAIN |
				   JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return;
	}
	summary_clusters_text(out, o);
	fprintf(out, "indicators raised:");
	json_object_object_get_ex(o, "indicators_raised", &k);
	json_object_object_foreach(k, name, val) if (json_object_get_int64(val))
	    fprintf(out, " %s=%" PRId64, name, json_object_get_int64(val));
	fprintf(out,
		"\nblocking: %" PRIu64 " prefix blocks, %" PRIu64
		" tuple rules desired (%" PRIu64 "/%" PRIu64
		" enforced); packets dropped %" PRIu64 ", would drop %" PRIu64
		" (dry-run)\n",
		json_field_u64(o, "desired_blocks"),
		json_field_u64(o, "desired_rules"),
		json_field_u64(o, "enforced_blocks"),
		json_field_u64(o, "enforced_rules"),
		json_field_u64(o, "dropped"), json_field_u64(o, "would_drop"));
	if (json_object_object_get_ex(o, "fleet", &k))
		fprintf(out,
			"fleet: %" PRIu64 " decisions published (%" PRIu64
			" dropped), %" PRIu64 " remote applied, %" PRIu64
			" already held, %" PRIu64 " Redis failures\n",
			json_field_u64(k, "published"),
			json_field_u64(k, "publish_dropped"),
			json_field_u64(k, "remote_applied"),
			json_field_u64(k, "remote_held"),
			json_field_u64(k, "failures"));
	json_object_put(o);
}
