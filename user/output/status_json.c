// SPDX-License-Identifier: BSD-2-Clause
/*
 * GET /status.json: the status page's snapshot as one record
 * (deploy/schema/status_page.json). Times are RFC 3339 (UTC) like every
 * record's; a program reads the same figures the page shows.
 */
#include "output/status_page.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "decide/policy.h"
#include "lib/addr.h"
#include "lib/hstime.h"
#include "lib/version.h"
#include "output/envelope.h"
#include "output/json_field.h"

static void set_hex(json_object *o, const char *k, uint64_t v)
{
	char id[24];

	snprintf(id, sizeof(id), "%016" PRIx64, v);
	json_set_str(o, k, id);
}

static void set_addr(json_object *o, const char *k, const struct hs_addr *a)
{
	char s[ADDR_STRLEN];

	json_set_str(o, k, addr_str(a, s, sizeof(s)));
}

static void set_score(json_object *o, double v)
{
	json_object_object_add(o, "score",
			       json_object_new_double(round(v * 1000) / 1000));
}

/* RFC 3339, or null for 0 (never, none yet). */
static void set_time(json_object *o, const char *k, uint64_t wall_ns)
{
	if (wall_ns)
		envelope_time(o, k, wall_ns);
	else
		json_object_object_add(o, k, NULL);
}

/* The expiry and the seconds left (0 once past; both null: never). */
static void set_expiry(json_object *o, uint64_t expires_ns, uint64_t now)
{
	set_time(o, "expires", expires_ns);
	if (!expires_ns)
		json_object_object_add(o, "expires_in_s", NULL);
	else
		json_set_u64(o, "expires_in_s",
			     expires_ns > now
				 ? (expires_ns - now + HS_NS_PER_SEC - 1) /
				       HS_NS_PER_SEC
				 : 0);
}

static json_object *evidence(const char *text)
{
	json_object *ev = *text ? json_tokener_parse(text) : NULL;

	if (ev && !json_object_is_type(ev, json_type_object)) {
		json_object_put(ev);
		return NULL;
	}
	return ev;
}

static json_object *cluster_json(const struct status_cluster *c)
{
	const struct cluster_detail *d = &c->d;
	json_object *o = json_object_new_object(), *a;
	size_t i;

	set_hex(o, "cluster", d->v.cluster_id);
	set_hex(o, "tuple_id", d->v.tuple_id);
	json_set_str(o, "ja4", d->v.ja4);
	json_set_str(o, "band", band_name(d->v.band));
	json_object_object_add(o, "farm", json_object_new_boolean(d->v.farm));
	set_score(o, d->v.score);
	json_set_u64(o, "sources", d->v.sources);
	json_set_u64(o, "prefixes", d->v.prefixes);
	a = json_object_new_array();
	for (i = 0; i < IND_COUNT; i++)
		if (c->kinds & (1u << i))
			json_object_array_add(
			    a, json_object_new_string(
				   ind_kind_name((enum ind_kind)i)));
	json_object_object_add(o, "indicators", a);
	json_object_object_add(o, "evidence", evidence(c->evidence));
	a = json_object_new_array();
	for (i = 0; i < d->n_members; i++) {
		const struct cluster_member_view *m = &d->members[i];
		json_object *e = json_object_new_object();

		set_addr(e, "addr", &m->addr);
		json_set_u64(e, "flows", m->flows);
		json_object_object_add(e, "relayed",
				       json_object_new_boolean(m->relayed));
		if (m->detour_us > 0)
			json_set_u64(e, "detour_us", (uint64_t)m->detour_us);
		else
			json_object_object_add(e, "detour_us", NULL);
		json_set_str(e, "tcp_sig", m->tcp_sig);
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "members", a);
	json_set_u64(o, "more_members", d->v.sources - d->n_members);
	a = json_object_new_array();
	for (i = 0; i < d->n_endpoints; i++) {
		json_object *e = json_object_new_object();

		json_set_str(e, "name", d->endpoints[i].name);
		json_set_u64(e, "flows", d->endpoints[i].flows);
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "endpoints", a);
	return o;
}

static void add_indicators(json_object *o, const struct status_page *p)
{
	json_object *h = json_object_new_object(), *a = json_object_new_array();
	size_t i;

	for (i = 0; i < IND_COUNT; i++)
		json_set_u64(h, ind_kind_name((enum ind_kind)i), p->hour[i]);
	json_object_object_add(o, "indicators_last_hour", h);
	for (i = 0; i < p->n_recent; i++) {
		const struct status_indicator *d = &p->recent[i];
		json_object *e = json_object_new_object();

		envelope_time(e, "time", d->at_ns);
		json_set_str(e, "kind", ind_kind_name((enum ind_kind)d->kind));
		set_score(e, d->score);
		if (d->cluster_id)
			set_hex(e, "cluster", d->cluster_id);
		else
			json_object_object_add(e, "cluster", NULL);
		set_addr(e, "source", &d->source);
		json_set_u64(e, "sources", d->sources);
		json_object_object_add(e, "evidence", evidence(d->evidence));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "recent_indicators", a);
}

static void add_decisions(json_object *o, const struct status_page *p,
			  uint64_t now)
{
	json_object *a = json_object_new_array();
	char s[64];
	size_t i;

	for (i = 0; i < p->n_blocks; i++) {
		const struct status_block *b = &p->blocks[i];
		json_object *e = json_object_new_object();

		lpm_key_str(&b->key, s, sizeof(s));
		json_set_str(e, "prefix", s);
		json_set_str(e, "reason", decision_reason_name(b->reason));
		set_score(e, b->score);
		json_set_u64(e, "offences", b->offences);
		json_set_u64(e, "ttl_s", b->ttl_s);
		set_expiry(e, b->expires_ns, now);
		json_set_str(e, "state",
			     status_state_name(p->enforce, b->state));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "blocks", a);
	json_set_u64(o, "blocks_total", p->blocks_total);
	json_set_u64(o, "blocks_pending", p->blocks_pending);
	json_set_u64(o, "manual_blocks", p->manual_blocks);
	a = json_object_new_array();
	for (i = 0; i < p->n_rules; i++) {
		const struct status_rule *u = &p->rules[i];
		json_object *e = json_object_new_object();

		set_hex(e, "rule_id", u->id);
		json_set_str(e, "rule_on", status_rule_on(u->kind));
		json_set_str(e, "reason", decision_reason_name(u->reason));
		set_score(e, u->score);
		json_set_u64(e, "tls_tcp_gap_min_us", u->min_gap_us);
		json_set_u64(e, "ack_hello_min_us", u->min_ack_hello_us);
		json_object_object_add(
		    e, "ack_hello_low_us",
		    u->low_ack_us ? json_object_new_int64(u->low_ack_us)
				  : NULL);
		json_set_u64(e, "lead_max_us", u->lead_max_us);
		json_set_u64(e, "ttl_s", u->ttl_s);
		set_expiry(e, u->expires_ns, now);
		json_set_str(e, "state",
			     status_state_name(p->enforce, u->state));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "tuple_rules", a);
	json_set_u64(o, "tuple_rules_total", p->rules_total);
	json_set_u64(o, "tuple_rules_pending", p->rules_pending);
}

static void add_blocking(json_object *o, const struct status_page *p)
{
	json_object *b = json_object_new_object(), *a = json_object_new_array();

	json_set_u64(b, "dropped_prefix", p->block_drops);
	json_set_u64(b, "dropped_tuple", p->tuple_drops);
	json_set_u64(b, "would_drop_prefix", p->block_would_drop);
	json_set_u64(b, "would_drop_tuple", p->tuple_would_drop);
	json_set_u64(b, "flows_cut", p->tuple_cuts);
	json_set_u64(b, "flows_cut_evasive", p->evasive_cuts);
	json_set_u64(b, "flows_spared", p->tuple_gap_spared);
	json_object_object_add(o, "blocking", b);
	for (size_t i = 0; i < p->n_cuts; i++) {
		const struct status_cut *u = &p->cuts[i];
		json_object *e = json_object_new_object();

		set_addr(e, "client", &u->key.client);
		json_set_u64(e, "cport", u->key.cport);
		set_addr(e, "server", &u->key.server);
		json_set_u64(e, "sport", u->key.sport);
		set_hex(e, "rule_id", u->rule_id);
		json_set_str(e, "rule_on", status_rule_on(u->kind));
		envelope_time(e, "last_seen", u->last_ns);
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "cut_flows", a);
	json_set_u64(o, "cut_flows_total", p->cuts_total);
}

char *status_page_json(const struct status_page *p, uint64_t now_ns)
{
	struct envelope env = {.iface = p->iface, .live = true};
	json_object *o = json_object_new_object(), *a;
	char *text;
	size_t i;

	json_set_str(o, "type", "status_page");
	envelope_add(o, &env, now_ns);
	json_set_str(o, "version", hs_version);
	json_set_str(o, "mode", p->enforce ? "enforce" : "dry_run");
	envelope_time(o, "started", p->started_ns);
	json_set_u64(o, "uptime_s",
		     now_ns > p->started_ns
			 ? (now_ns - p->started_ns) / HS_NS_PER_SEC
			 : 0);
	set_time(o, "last_round", p->round_ns);
	json_set_u64(o, "rounds", p->rounds);
	a = json_object_new_array();
	for (i = 0; i < p->n_clusters; i++)
		json_object_array_add(a, cluster_json(&p->clusters[i]));
	json_object_object_add(o, "clusters", a);
	json_set_u64(o, "clusters_total", p->clusters_total);
	json_set_u64(o, "farm_clusters", p->farm_clusters);
	add_indicators(o, p);
	add_decisions(o, p, now_ns);
	add_blocking(o, p);
	json_set_u64(o, "evidence_omitted", p->evidence_omitted);
	text = strdup(json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}
