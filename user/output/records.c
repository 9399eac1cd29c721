// SPDX-License-Identifier: BSD-2-Clause
#include "output/records.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <json-c/json.h>

#include "lib/addr.h"
#include "output/json_field.h"

uint64_t record_wall(const struct record_out *o, uint64_t datapath_ns)
{
	return envelope_wall(&o->env, datapath_ns);
}

static void flush_group(struct record_out *o, struct text_group *g)
{
	if (!g->key[0])
		return;
	if (o->out && g->n == 1)
		fprintf(o->out, "%s %s\n", g->head, g->alone);
	else if (o->out && g->lo == g->hi)
		fprintf(o->out, "%s x%u: %s%s\n", g->head, g->n, g->list,
			g->n > 4 ? ", ..." : "");
	else if (o->out)
		fprintf(o->out, "%s x%u (score %.2f-%.2f): %s%s\n", g->head,
			g->n, g->lo, g->hi, g->list, g->n > 4 ? ", ..." : "");
	g->key[0] = 0;
}

void record_flush(struct record_out *o)
{
	for (size_t i = 0; i < sizeof(o->groups) / sizeof(o->groups[0]); i++)
		flush_group(o, &o->groups[i]);
}

/* Text: add one item to group slot (a kind, or the blocks); a new key
 * (another round, TTL or reason) writes the slot out first. */
static void group_add(struct record_out *o, size_t slot, const char *key,
		      const char *head, const char *item, const char *alone,
		      double score)
{
	struct text_group *g = &o->groups[slot];
	size_t len;

	if (strcmp(g->key, key)) {
		flush_group(o, g);
		snprintf(g->key, sizeof(g->key), "%s", key);
		snprintf(g->head, sizeof(g->head), "%s", head);
		snprintf(g->alone, sizeof(g->alone), "%s", alone);
		g->list[0] = 0;
		g->n = 0;
		g->lo = g->hi = score;
	}
	if (score < g->lo)
		g->lo = score;
	if (score > g->hi)
		g->hi = score;
	len = strlen(g->list);
	if (g->n < 4 && len < sizeof(g->list) - 1)
		snprintf(g->list + len, sizeof(g->list) - len, "%s%s",
			 len ? ", " : "", item);
	g->n++;
}

static void put_line(struct record_out *o, json_object *rec, const char *text)
{
	const char *line = json_object_to_json_string_ext(
	    rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (o->out && o->fmt == FMT_JSON)
		fprintf(o->out, "%s\n", line);
	else if (o->out && text)
		fprintf(o->out, "%s\n", text);
	if (o->log) {
		fprintf(o->log, "%s\n", line);
		fflush(o->log);
	}
	o->written++;
}

void record_indicator(struct record_out *o, const struct indicator *ind)
{
	json_object *r, *srcs;
	char a[ADDR_STRLEN], when[48], text[1024], id[24];
	const char *ev;
	size_t i,
	    n = ind->n_sources < o->max_listed ? ind->n_sources : o->max_listed;

	if (!ind->fresh)
		return;
	r = json_object_new_object();
	json_set_str(r, "type", "indicator");
	envelope_add(r, &o->env, record_wall(o, ind->at_ns));
	json_set_str(r, "kind", ind_kind_name(ind->kind));
	json_object_object_add(
	    r, "score",
	    json_object_new_double(round(ind->score * 1000) / 1000));
	json_set_u64(r, "time_ns", record_wall(o, ind->at_ns));
	json_set_u64(r, "first_ns", record_wall(o, ind->first_ns));
	json_set_u64(r, "last_ns", record_wall(o, ind->last_ns));
	envelope_time(r, "first_seen", record_wall(o, ind->first_ns));
	envelope_time(r, "last_seen", record_wall(o, ind->last_ns));
	if (ind->cluster_id) {
		snprintf(id, sizeof(id), "%016" PRIx64, ind->cluster_id);
		json_set_str(r, "cluster", id);
		snprintf(id, sizeof(id), "%016" PRIx64, ind->tuple_id);
		json_set_str(r, "tuple_id", id);
		json_set_str(r, "ja4", ind->ja4 ? ind->ja4 : "");
		json_set_str(r, "band", band_name(ind->band));
	}
	srcs = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(
		    srcs, json_object_new_string(
			      addr_str(&ind->sources[i], a, sizeof(a))));
	json_object_object_add(r, "sources", srcs);
	json_set_u64(r, "new_sources", ind->n_new < n ? ind->n_new : n);
	json_set_u64(r, "sources_total", ind->n_sources);
	json_object_object_add(r, "evidence",
			       json_object_get(ind_evidence(ind)));

	time_local(record_wall(o, ind->at_ns), when, sizeof(when));
	ev = json_object_to_json_string_ext(ind_evidence(ind),
					    JSON_C_TO_STRING_PLAIN |
						JSON_C_TO_STRING_NOSLASHESCAPE);
	if (ind->cluster_id) {
		snprintf(text, sizeof(text),
			 "  %s %-17s score=%.2f cluster %016" PRIx64
			 " band=%s sources=%zu (%zu new) %s",
			 when, ind_kind_name(ind->kind), ind->score,
			 ind->cluster_id, band_name(ind->band), ind->n_sources,
			 ind->n_new, ev);
		put_line(o, r, text);
	} else {
		char key[96], head[160];

		put_line(o, r, NULL);
		addr_str(&ind->sources[0], a, sizeof(a));
		snprintf(key, sizeof(key), "%s@%" PRIu64,
			 ind_kind_name(ind->kind), ind->at_ns);
		snprintf(head, sizeof(head), "  %s %-17s", when,
			 ind_kind_name(ind->kind));
		snprintf(text, sizeof(text), "score=%.2f %s %s", ind->score, a,
			 ev);
		if (o->fmt == FMT_TEXT)
			group_add(o, ind->kind, key, head, a, text, ind->score);
	}
	json_object_put(r);
}

int record_add_sink(struct record_out *o, struct record_sink s)
{
	for (size_t i = 0; i < RECORD_SINKS; i++)
		if (!o->sinks[i].decision) {
			o->sinks[i] = s;
			return 0;
		}
	return -1;
}

void record_decision(struct record_out *o, json_object *d)
{
	char text[512], when[48], key[96], head[160];
	uint64_t at = json_field_u64(d, "time_ns");
	const char *prefix = json_field_str(d, "prefix");
	bool renewal =
	    json_object_get_boolean(json_object_object_get(d, "renewal"));
	bool applied =
	    json_object_get_boolean(json_object_object_get(d, "applied"));

	/* read once, before any sink: a sink (the fleet) may add an origin */
	if (!json_object_object_get_ex(d, "origin", NULL))
		for (size_t i = 0; i < RECORD_SINKS && o->sinks[i].decision;
		     i++)
			o->sinks[i].decision(o->sinks[i].ctx, d);
	envelope_add(d, &o->env, at);
	envelope_time(d, "expires", json_field_u64(d, "expires_ns"));
	time_local(at, when, sizeof(when));
	snprintf(head, sizeof(head),
		 "  %s decision %-12s ttl=%ss reason=%s%s%s", when,
		 json_field_str(d, "action"), json_field_str(d, "ttl_s"),
		 json_field_str(d, "reason"), renewal ? " (renewal)" : "",
		 applied ? " (applied)" : "");
	if (!*prefix) { /* a tuple rule: a line of its own */
		/* a learned bound shows, 0 none */
		snprintf(
		    text, sizeof(text),
		    "%s %s min_gap_us=%s ack_hello_low_us=%llu", head,
		    json_field_str(d, "tuple_id"),
		    json_field_str(d, "min_gap_us"),
		    (unsigned long long)json_field_u64(d, "ack_hello_low_us"));
		put_line(o, d, text);
	} else {
		put_line(o, d, NULL);
		snprintf(key, sizeof(key), "decision@%s", head);
		if (o->fmt == FMT_TEXT)
			group_add(o, IND_COUNT, key, head, prefix, prefix, 1);
	}
	json_object_put(d);
}

void record_note(struct record_out *o, const char *about, const char *text,
		 uint64_t at_ns)
{
	json_object *r = json_object_new_object();
	char line[512];

	json_set_str(r, "type", "note");
	envelope_add(r, &o->env,
		     at_ns ? record_wall(o, at_ns) : envelope_now(&o->env, 0));
	json_set_str(r, "about", about);
	json_set_str(r, "text", text);
	snprintf(line, sizeof(line), "  note: %s: %s", about, text);
	put_line(o, r, line);
	json_object_put(r);
}
