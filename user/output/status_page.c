// SPDX-License-Identifier: BSD-2-Clause
#include "output/status_page.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "decide/policy.h"
#include "lib/addr.h"
#include "lib/hstime.h"
#include "lib/sbuf.h"
#include "lib/version.h"
#include "output/envelope.h"

/* The page reloads itself (a meta refresh, no script) about as often as
 * rounds come. */
#define REFRESH_S 10

static const char style[] =
    "body{font:14px/1.45 'DejaVu Sans',system-ui,sans-serif;margin:0;"
    "color:#1b1f24;background:#f3f4f6}"
    "header{background:#14213d;color:#fff;padding:14px 22px}"
    "header h1{font-size:20px;margin:0 0 6px}"
    "header span{margin-right:20px;white-space:nowrap}"
    ".mode{padding:2px 9px;border-radius:4px;font-weight:700}"
    ".dry{background:#f4a261;color:#111}.enf{background:#e63946}"
    "main{padding:14px 22px}"
    "section{background:#fff;border:1px solid #d9dde3;border-radius:6px;"
    "margin:0 0 14px;padding:10px 16px}"
    "h2{font-size:16px;margin:2px 0 10px}h3{font-size:14px;margin:8px 0 4px}"
    "table{border-collapse:collapse;width:100%;font-size:13px;margin:4px 0}"
    "th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eceef1;"
    "vertical-align:top}th{background:#f0f2f5}"
    "code{font:12px 'DejaVu Sans Mono',monospace;word-break:break-all}"
    ".muted{color:#6b7280}.warn{color:#b3261e;font-weight:600}"
    ".tag{display:inline-block;background:#e8ebef;border-radius:3px;"
    "padding:0 6px;margin:0 4px 2px 0;font-size:12px}"
    ".tag.farm{background:#e63946;color:#fff}.tag.held{background:#fde2c4}"
    ".tag.late{background:#f8d7da}"
    ".cl{border-left:4px solid #adb5bd;padding:4px 12px;margin:0 0 12px}"
    ".cl.farm{border-color:#e63946}"
    ".figs{display:flex;flex-wrap:wrap;gap:10px}.fig{min-width:130px;"
    "border:1px solid #e1e4e8;border-radius:5px;padding:6px 10px}"
    ".fig b{display:block;font-size:20px}"
    "dl{display:flex;flex-wrap:wrap;margin:2px 0 6px;font-size:12px}"
    "dt{color:#6b7280;margin-right:4px}dd{margin:0 14px 0 0}"
    "footer{padding:0 22px 14px}";

struct render {
	struct sbuf *sb;
	const struct status_page *p;
	uint64_t now;
	size_t max, cut; /* byte bound; rows left out for it */
};

/* Text for HTML: every byte that could end a text node or an attribute
 * value is escaped. */
static void esc(struct sbuf *sb, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *rep;

		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		sb_printf(sb, "%.*s%s", (int)(s - run), run, rep);
		run = s + 1;
	}
	sb_printf(sb, "%s", run);
}

/* Room for one more row? Past the byte bound, no: counted. */
static bool room(struct render *r)
{
	if (r->sb->len <= r->max)
		return true;
	r->cut++;
	return false;
}

/* "3d 4h", "1h 02m", "14m 59s", "59s" */
static void span_text(uint64_t s, char *buf, size_t cap)
{
	if (s >= 86400)
		snprintf(buf, cap, "%" PRIu64 "d %" PRIu64 "h", s / 86400,
			 s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, cap, "%" PRIu64 "h %02" PRIu64 "m", s / 3600,
			 s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, cap, "%" PRIu64 "m %02" PRIu64 "s", s / 60,
			 s % 60);
	else
		snprintf(buf, cap, "%" PRIu64 "s", s);
}

static void put_time(struct render *r, uint64_t wall_ns)
{
	char t[64];

	time_local(wall_ns, t, sizeof(t));
	esc(r->sb, t);
}

/* "in 14m 59s (2026-03-02 10:15:00.000 CET)", "expired", "never" */
static void put_expiry(struct render *r, uint64_t expires_ns)
{
	char s[32];

	if (!expires_ns) {
		sb_printf(r->sb, "never");
		return;
	}
	if (expires_ns <= r->now) {
		sb_printf(r->sb, "<span class=\"warn\">expired</span>");
		return;
	}
	span_text((expires_ns - r->now + HS_NS_PER_SEC - 1) / HS_NS_PER_SEC, s,
		  sizeof(s));
	sb_printf(r->sb, "in %s <span class=\"muted\">(", s);
	put_time(r, expires_ns);
	sb_printf(r->sb, ")</span>");
}

const char *status_state_name(bool enforce, uint8_t state)
{
	if (state == DS_WRITTEN)
		return enforce ? "enforced" : "would_drop";
	return state == DS_FAILED ? "write_failed" : "pending";
}

const char *status_rule_on(uint8_t kind)
{
	switch (kind) {
	case HS_RULE_TLS: return "tls_id";
	case HS_RULE_EVASIVE: return "evasive_hello"; /* id: unfp_reason */
	}
	return "tuple_id";
}

static void put_state(struct render *r, uint8_t state)
{
	sb_printf(r->sb, "<span class=\"tag %s\">%s</span>",
		  state == DS_WRITTEN ? "held" : "late",
		  status_state_name(r->p->enforce, state));
}

/* Evidence (JSON text) as a definition list; nested values as compact
 * JSON. All of it escaped: it quotes SNIs and SYN signatures. */
static void put_evidence(struct render *r, const char *text)
{
	json_object *ev = *text ? json_tokener_parse(text) : NULL;

	if (!ev || !json_object_is_type(ev, json_type_object)) {
		sb_printf(r->sb, "<span class=\"muted\">none</span>");
		json_object_put(ev);
		return;
	}
	sb_printf(r->sb, "<dl>");
	json_object_object_foreach(ev, k, v)
	{
		sb_printf(r->sb, "<dt>");
		esc(r->sb, k);
		sb_printf(r->sb, "</dt><dd>");
		esc(r->sb, json_object_is_type(v, json_type_string)
			       ? json_object_get_string(v)
			       : json_object_to_json_string_ext(
				     v, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
		sb_printf(r->sb, "</dd>");
	}
	sb_printf(r->sb, "</dl>");
	json_object_put(ev);
}

static void put_header(struct render *r)
{
	const struct status_page *p = r->p;
	char up[32], ago[32];

	sb_printf(r->sb,
		  "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
		  "charset=\"utf-8\"><meta http-equiv=\"refresh\" "
		  "content=\"%d\"><title>hydrascope on ",
		  REFRESH_S);
	esc(r->sb, envelope_host());
	sb_printf(r->sb, " (");
	esc(r->sb, p->iface);
	sb_printf(r->sb,
		  ")</title><style>%s</style></head><body><header><h1>"
		  "hydrascope on ",
		  style);
	esc(r->sb, envelope_host());
	span_text(r->now > p->started_ns
		      ? (r->now - p->started_ns) / HS_NS_PER_SEC
		      : 0,
		  up, sizeof(up));
	sb_printf(r->sb, "</h1><div><span>interface <b>");
	esc(r->sb, p->iface);
	sb_printf(
	    r->sb, "</b></span><span class=\"mode %s\">%s</span><span>version ",
	    p->enforce ? "enf" : "dry", p->enforce ? "enforce" : "dry-run");
	esc(r->sb, hs_version);
	sb_printf(r->sb, "</span><span>up %s</span><span>last round ", up);
	if (p->round_ns) {
		span_text(r->now > p->round_ns
			      ? (r->now - p->round_ns) / HS_NS_PER_SEC
			      : 0,
			  ago, sizeof(ago));
		put_time(r, p->round_ns);
		sb_printf(r->sb, " (%s ago, round %" PRIu64 ")", ago,
			  p->rounds);
	} else {
		sb_printf(r->sb, "none yet");
	}
	sb_printf(r->sb, "</span></div></header><main>");
}

static void put_figures(struct render *r)
{
	const struct status_page *p = r->p;
	uint64_t hour = 0;

	for (size_t i = 0; i < IND_COUNT; i++)
		hour += p->hour[i];
	sb_printf(r->sb,
		  "<section><div class=\"figs\">"
		  "<div class=\"fig\"><b>%zu</b>farm clusters</div>"
		  "<div class=\"fig\"><b>%" PRIu64 "</b>indicators, last "
		  "hour</div>"
		  "<div class=\"fig\"><b>%zu</b>prefix blocks</div>"
		  "<div class=\"fig\"><b>%zu</b>tuple rules</div>"
		  "<div class=\"fig\"><b>%" PRIu64 "</b>packets %s</div>"
		  "</div></section>",
		  p->farm_clusters, hour, p->blocks_total, p->rules_total,
		  p->enforce ? p->block_drops + p->tuple_drops
			     : p->block_would_drop + p->tuple_would_drop,
		  p->enforce ? "dropped" : "that would have dropped");
}

static void put_members(struct render *r, const struct cluster_detail *d)
{
	char a[ADDR_STRLEN];

	sb_printf(r->sb, "<table><tr><th>member</th><th>flows</th><th>relay "
			 "detour</th><th>SYN signature</th></tr>");
	for (size_t i = 0; i < d->n_members; i++) {
		const struct cluster_member_view *m = &d->members[i];

		if (!room(r))
			continue;
		sb_printf(r->sb, "<tr><td><code>");
		esc(r->sb, addr_str(&m->addr, a, sizeof(a)));
		sb_printf(r->sb, "</code></td><td>%u</td><td>", m->flows);
		if (m->detour_us > 0)
			sb_printf(r->sb, "%.1f ms%s", m->detour_us / 1000.0,
				  m->relayed ? " (relayed)" : "");
		else
			sb_printf(r->sb, "<span class=\"muted\">-</span>");
		sb_printf(r->sb, "</td><td><code>");
		esc(r->sb, m->tcp_sig);
		sb_printf(r->sb, "</code></td></tr>");
	}
	sb_printf(r->sb, "</table>");
	if (d->v.sources > d->n_members)
		sb_printf(r->sb, "<div class=\"muted\">and %zu more</div>",
			  d->v.sources - d->n_members);
}

static void put_cluster(struct render *r, const struct status_cluster *c)
{
	const struct cluster_detail *d = &c->d;
	size_t i;

	sb_printf(r->sb,
		  "<div class=\"cl%s\"><h3>cluster <code>%016" PRIx64
		  "</code> %s</h3><div>band %s, %zu sources over %zu "
		  "prefixes, JA4 <code>",
		  d->v.farm ? " farm" : "", d->v.cluster_id,
		  d->v.farm ? "<span class=\"tag farm\">farm</span>" : "",
		  band_name(d->v.band), d->v.sources, d->v.prefixes);
	esc(r->sb, *d->v.ja4 ? d->v.ja4 : "-");
	sb_printf(r->sb, "</code>, tuple <code>%016" PRIx64 "</code>",
		  d->v.tuple_id);
	if (d->v.farm)
		sb_printf(r->sb, ", score %.2f", d->v.score);
	sb_printf(r->sb, "</div><div>");
	for (i = 0; i < IND_COUNT; i++)
		if (c->kinds & (1u << i))
			sb_printf(r->sb, "<span class=\"tag\">%s</span>",
				  ind_kind_name((enum ind_kind)i));
	sb_printf(r->sb, "</div><div>endpoints: ");
	for (i = 0; i < d->n_endpoints; i++) {
		sb_printf(r->sb, "%s<code>", i ? ", " : "");
		esc(r->sb, d->endpoints[i].name);
		sb_printf(r->sb, "</code> (%u flows)", d->endpoints[i].flows);
	}
	if (!d->n_endpoints)
		sb_printf(r->sb,
			  "<span class=\"muted\">none this window</span>");
	sb_printf(r->sb, "</div>");
	if (d->v.farm)
		put_evidence(r, c->evidence);
	put_members(r, d);
	sb_printf(r->sb, "</div>");
}

static void put_clusters(struct render *r)
{
	const struct status_page *p = r->p;

	sb_printf(r->sb, "<section id=\"clusters\"><h2>Clusters</h2>");
	if (!p->n_clusters)
		sb_printf(r->sb,
			  "<p class=\"muted\">No cluster yet: clusters form "
			  "from TLS flows whose handshake completed.</p>");
	for (size_t i = 0; i < p->n_clusters; i++)
		if (room(r))
			put_cluster(r, &p->clusters[i]);
	if (p->clusters_total > p->n_clusters)
		sb_printf(r->sb,
			  "<p class=\"muted\">the %zu largest of %zu "
			  "clusters</p>",
			  p->n_clusters, p->clusters_total);
	sb_printf(r->sb, "</section>");
}

static void put_indicators(struct render *r)
{
	const struct status_page *p = r->p;
	char a[ADDR_STRLEN];
	size_t i;

	sb_printf(r->sb, "<section id=\"indicators\"><h2>Indicators, last "
			 "hour</h2><div>");
	for (i = 0; i < IND_COUNT; i++)
		sb_printf(r->sb, "<span class=\"tag\">%s %" PRIu64 "</span>",
			  ind_kind_name((enum ind_kind)i), p->hour[i]);
	sb_printf(r->sb, "</div>");
	if (!p->n_recent) {
		sb_printf(r->sb, "<p class=\"muted\">None raised.</p>"
				 "</section>");
		return;
	}
	sb_printf(r->sb, "<table><tr><th>time</th><th>kind</th><th>score</th>"
			 "<th>subject</th><th>sources</th><th>evidence</th>"
			 "</tr>");
	for (i = 0; i < p->n_recent; i++) {
		const struct status_indicator *d = &p->recent[i];

		if (!room(r))
			continue;
		sb_printf(r->sb, "<tr><td>");
		put_time(r, d->at_ns);
		sb_printf(r->sb, "</td><td>%s</td><td>%.2f</td><td><code>",
			  ind_kind_name((enum ind_kind)d->kind), d->score);
		if (d->cluster_id)
			sb_printf(r->sb, "cluster %016" PRIx64, d->cluster_id);
		else
			esc(r->sb, addr_str(&d->source, a, sizeof(a)));
		sb_printf(r->sb, "</code></td><td>%u</td><td>", d->sources);
		put_evidence(r, d->evidence);
		sb_printf(r->sb, "</td></tr>");
	}
	sb_printf(r->sb, "</table></section>");
}

static void put_blocks(struct render *r)
{
	const struct status_page *p = r->p;
	char s[64];

	sb_printf(r->sb,
		  "<h3>Prefix blocks (%zu; %zu manual ones: hydrascope block "
		  "list)</h3>",
		  p->blocks_total, p->manual_blocks);
	if (!p->n_blocks)
		return;
	sb_printf(r->sb, "<table><tr><th>prefix</th><th>reason</th><th>score"
			 "</th><th>offences</th><th>expires</th><th>state</th>"
			 "</tr>");
	for (size_t i = 0; i < p->n_blocks; i++) {
		const struct status_block *b = &p->blocks[i];

		if (!room(r))
			continue;
		lpm_key_str(&b->key, s, sizeof(s));
		sb_printf(r->sb, "<tr><td><code>");
		esc(r->sb, s);
		sb_printf(r->sb,
			  "</code></td><td>%s</td><td>%.2f</td><td>%u"
			  "</td><td>",
			  decision_reason_name(b->reason), b->score,
			  b->offences);
		put_expiry(r, b->expires_ns);
		sb_printf(r->sb, "</td><td>");
		put_state(r, b->state);
		sb_printf(r->sb, "</td></tr>");
	}
	sb_printf(r->sb, "</table>");
	if (p->blocks_total > p->n_blocks)
		sb_printf(r->sb, "<div class=\"muted\">and %zu more</div>",
			  p->blocks_total - p->n_blocks);
}

static void put_rules(struct render *r)
{
	const struct status_page *p = r->p;

	sb_printf(r->sb, "<h3>Tuple rules (%zu)</h3>", p->rules_total);
	if (!p->n_rules)
		return;
	sb_printf(r->sb, "<table><tr><th>rule</th><th>on</th><th>reason</th>"
			 "<th>cuts a flow when</th><th>expires</th>"
			 "<th>state</th></tr>");
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct status_rule *u = &p->rules[i];

		if (!room(r))
			continue;
		sb_printf(r->sb,
			  "<tr><td><code>%016" PRIx64 "</code></td><td>%s</td>"
			  "<td>%s</td><td>",
			  u->id, status_rule_on(u->kind),
			  decision_reason_name(u->reason));
		if (u->min_gap_us || u->min_ack_hello_us)
			sb_printf(r->sb,
				  "TLS RTT - TCP RTT &ge; %.1f ms, ACK&rarr;"
				  "hello &ge; %.1f ms",
				  u->min_gap_us / 1000.0,
				  u->min_ack_hello_us / 1000.0);
		if (u->low_ack_us)
			sb_printf(
			    r->sb,
			    "; or ACK&rarr;hello &ge; %.1f ms with the TLS "
			    "gap within %.1f ms of it (learned)",
			    u->low_ack_us / 1000.0, u->lead_max_us / 1000.0);
		else if (!u->min_gap_us && !u->min_ack_hello_us)
			sb_printf(r->sb, "always");
		sb_printf(r->sb, "</td><td>");
		put_expiry(r, u->expires_ns);
		sb_printf(r->sb, "</td><td>");
		put_state(r, u->state);
		sb_printf(r->sb, "</td></tr>");
	}
	sb_printf(r->sb, "</table>");
	if (p->rules_total > p->n_rules)
		sb_printf(r->sb, "<div class=\"muted\">and %zu more</div>",
			  p->rules_total - p->n_rules);
}

static void put_cuts(struct render *r)
{
	const struct status_page *p = r->p;
	char c[ADDR_STRLEN], s[ADDR_STRLEN];

	if (!p->n_cuts) {
		sb_printf(r->sb, "<p class=\"muted\">No flow cut.</p>");
		return;
	}
	sb_printf(r->sb, "<table><tr><th>client</th><th>server</th><th>rule"
			 "</th><th>last packet</th></tr>");
	for (size_t i = 0; i < p->n_cuts; i++) {
		const struct status_cut *u = &p->cuts[i];

		if (!room(r))
			continue;
		addr_str(&u->key.client, c, sizeof(c));
		addr_str(&u->key.server, s, sizeof(s));
		sb_printf(r->sb, "<tr><td><code>");
		esc(r->sb, c);
		sb_printf(r->sb, " %u</code></td><td><code>", u->key.cport);
		esc(r->sb, s);
		sb_printf(r->sb,
			  " %u</code></td><td><code>%016" PRIx64
			  "</code> (%s)</td><td>",
			  u->key.sport, u->rule_id, status_rule_on(u->kind));
		put_time(r, u->last_ns);
		sb_printf(r->sb, "</td></tr>");
	}
	sb_printf(r->sb, "</table>");
	if (p->cuts_total > p->n_cuts)
		sb_printf(r->sb, "<div class=\"muted\">and %zu more</div>",
			  p->cuts_total - p->n_cuts);
}

/* Dry-run: what the blocking layer counted instead of dropping; enforce:
 * what it dropped. Both: what the policy wants that the maps lack yet. */
static void put_dropped(struct render *r)
{
	const struct status_page *p = r->p;

	if (p->enforce)
		sb_printf(r->sb,
			  "<section id=\"dropped\"><h2>Dropped</h2><p>%" PRIu64
			  " packets by prefix blocks, %" PRIu64
			  " by tuple rules; ",
			  p->block_drops, p->tuple_drops);
	else
		sb_printf(r->sb,
			  "<section id=\"dry-run\"><h2>What dry-run would have "
			  "dropped</h2><p>%" PRIu64
			  " packets matched a prefix block, %" PRIu64
			  " a flow cut by a tuple rule; they were counted and "
			  "passed. The %zu prefix blocks and %zu tuple rules "
			  "marked <i>would_drop</i> are in the datapath's maps "
			  "and would drop with <code>--enforce</code>. ",
			  p->block_would_drop, p->tuple_would_drop,
			  p->blocks_total - p->blocks_pending,
			  p->rules_total - p->rules_pending);
	sb_printf(r->sb,
		  "%" PRIu64 " flows cut by a rule, %" PRIu64
		  " spared by its relay test, %" PRIu64
		  " cut for a hello no TLS stack sends.</p>",
		  p->tuple_cuts, p->tuple_gap_spared, p->evasive_cuts);
	if (p->blocks_pending || p->rules_pending)
		sb_printf(r->sb,
			  "<p class=\"warn\">Desired but not in the datapath "
			  "yet: %zu prefix blocks, %zu tuple rules.</p>",
			  p->blocks_pending, p->rules_pending);
	sb_printf(r->sb, "<h3>Flows cut%s</h3>",
		  p->enforce ? "" : " (dry-run: counted, not dropped)");
	put_cuts(r);
	sb_printf(r->sb, "</section>");
}

size_t status_page_html(const struct status_page *p, uint64_t now_ns,
			size_t max_bytes, struct sbuf *sb)
{
	struct render r = {sb, p, now_ns, max_bytes, 0};

	put_header(&r);
	put_figures(&r);
	put_clusters(&r);
	sb_printf(sb, "<section id=\"decisions\"><h2>Blocks and tuple "
		      "rules</h2>");
	put_blocks(&r);
	put_rules(&r);
	sb_printf(sb, "</section>");
	put_dropped(&r);
	put_indicators(&r);
	if (r.cut)
		sb_printf(sb,
			  "<p class=\"warn\">%zu rows left out: the page "
			  "reached its size bound.</p>",
			  r.cut);
	if (p->evidence_omitted)
		sb_printf(sb,
			  "<p class=\"muted\">%" PRIu64
			  " evidence objects were too long for this page: the "
			  "record log (--log) has them whole.</p>",
			  p->evidence_omitted);
	sb_printf(sb, "</main><footer class=\"muted\">rendered ");
	put_time(&r, now_ns);
	sb_printf(sb, " &middot; <a href=\"/status.json\">status.json</a> "
		      "&middot; <a href=\"/metrics\">metrics</a></footer>"
		      "</body></html>\n");
	return r.cut;
}
