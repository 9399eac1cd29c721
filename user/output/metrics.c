// SPDX-License-Identifier: BSD-2-Clause
#include "output/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <microhttpd.h>

#include "build_info.h"
#include "datapath/maps.h"
#include "lib/hstime.h"
#include "lib/version.h"
#include "lib/procfs.h"
#include "lib/sbuf.h"
#include "output/status_page.h"

/* Connection bounds. A scrape is one small request and a ~30 KB answer
 * in a few milliseconds, so: few connections, few per address, small
 * buffers, and a deadline for each request. The idle timeout alone is not
 * one: a client sending a byte every few seconds resets it forever. */
#define CONN_LIMIT 64		 /* concurrent connections */
#define CONN_PER_IP 4		 /* ... from one address (TCP) */
#define CONN_IDLE_S 5		 /* no byte for this long: closed */
#define CONN_MEMORY 16384	 /* request buffer per connection */
#define REQUEST_DEADLINE_MS 5000 /* accept (or last answer) to answer */
#define POLL_MS 250		 /* deadline check period */

/* A connection and the time by which its current request must be done. */
struct conn_slot {
	struct MHD_Connection *c;
	int fd;
	uint64_t deadline_ns;
};

struct metrics {
	struct MHD_Daemon *d;
	struct metrics_src src;
	pthread_mutex_t lock;
	struct metrics_snapshot snap; /* published by the main loop */
	struct status_page *page;     /* ... and the status page's */
	uint64_t scrapes;
	double start_time;
	int listen_fd;
	bool is_unix, serving;
	char unix_path[108];
	pthread_t thread;
	atomic_int stop; /* set by metrics_stop, read by the thread */
	/* touched by the server thread only (MHD runs on it) */
	struct conn_slot conns[CONN_LIMIT];
	uint64_t deadline_cuts;
	uint64_t page_rows_cut; /* status page rows past its byte bound */
	const char *xdp_mode, *tc_mode; /* set once attached */
	char kernel[65];		/* uname -r */
};

static int metrics_parse_addr(const char *addr, char *host, size_t hcap,
			      unsigned *port)
{
	const char *colon = strrchr(addr, ':');
	size_t hl;
	char *end;
	unsigned long p;
	unsigned char buf[16];

	if (!colon || colon == addr)
		return -1;
	hl = (size_t)(colon - addr);
	if (addr[0] == '[') {
		if (hl < 3 || addr[hl - 1] != ']')
			return -1;
		addr++;
		hl -= 2;
	}
	if (hl >= hcap)
		return -1;
	memcpy(host, addr, hl);
	host[hl] = 0;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || p == 0 || p > 65535)
		return -1;
	if (inet_pton(AF_INET, host, buf) != 1 &&
	    inet_pton(AF_INET6, host, buf) != 1)
		return -1;
	*port = (unsigned)p;
	return 0;
}

/* A label value in the exposition format: \\, \" and \n escaped. */
static void put_label(struct sbuf *sb, const char *name, const char *v,
		      bool last)
{
	sb_printf(sb, "%s=\"", name);
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			sb_printf(sb, "\\%c", *v);
		else if (*v == '\n')
			sb_printf(sb, "\\n");
		else
			sb_printf(sb, "%c", *v);
	}
	sb_printf(sb, "\"%s", last ? "} 1\n" : ",");
}

static void metric(struct sbuf *sb, const char *name, const char *type,
		   const char *help)
{
	sb_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample line: a series (name and fixed labels) and its value. */
static void put(struct sbuf *sb, const char *series, uint64_t v)
{
	sb_printf(sb, "%s %llu\n", series, (unsigned long long)v);
}

/* One labelled sample: name{label="value"} v */
static void put1(struct sbuf *sb, const char *name, const char *label,
		 const char *value, uint64_t v)
{
	sb_printf(sb, "%s{%s=\"%s\"} %llu\n", name, label, value,
		  (unsigned long long)v);
}

#define HS_STAT_NAME(n) #n,
static const char *const stat_names[] = {HS_STATS_FIELDS(HS_STAT_NAME)};
#undef HS_STAT_NAME
#define N_STATS (sizeof(stat_names) / sizeof(stat_names[0]))

static uint64_t stat_of(const struct hs_stats *st, const char *name)
{
	const uint64_t *v = (const uint64_t *)st;

	for (size_t j = 0; j < N_STATS; j++)
		if (!strcmp(stat_names[j], name))
			return v[j];
	return 0;
}

/* xdp_bytes and the like: a counter of bytes, not of events */
static bool is_bytes(const char *stat)
{
	size_t n = strlen(stat);

	return n > 6 && !strcmp(stat + n - 6, "_bytes");
}

/* A histogram family: cumulative buckets, +Inf, sum and count. */
static void put_hist(struct sbuf *sb, const char *name, const char *help,
		     const struct hs_hist *h, enum hs_hist_kind k)
{
	size_t n, i;
	const double *le = hs_hist_bounds(k, &n);
	uint64_t cum = 0;

	metric(sb, name, "histogram", help);
	for (i = 0; i < n; i++) {
		cum += h->bucket[i];
		sb_printf(sb, "%s_bucket{le=\"%g\"} %llu\n", name, le[i],
			  (unsigned long long)cum);
	}
	sb_printf(sb, "%s_bucket{le=\"+Inf\"} %llu\n", name,
		  (unsigned long long)h->count);
	sb_printf(sb, "%s_sum %.9g\n%s_count %llu\n", name, h->sum, name,
		  (unsigned long long)h->count);
}

static void render_info(struct sbuf *sb, const struct metrics *m)
{
	char n[16];

	metric(sb, "hydrascope_build_info", "gauge",
	       "the running binary's version and build (always 1)");
	sb_printf(sb, "hydrascope_build_info{");
	put_label(sb, "version", hs_version, false);
	put_label(sb, "commit", HS_BUILD_COMMIT, false);
	put_label(sb, "compiler", HS_BUILD_COMPILER, false);
	put_label(sb, "libbpf", libbpf_version_string(), true);
	metric(sb, "hydrascope_config_info", "gauge",
	       "what this instance runs with (always 1)");
	sb_printf(sb, "hydrascope_config_info{");
	put_label(sb, "iface", m->src.iface, false);
	put_label(sb, "mode", m->src.enforce ? "enforce" : "dry_run", false);
	put_label(sb, "xdp_mode", m->xdp_mode ? m->xdp_mode : "", false);
	put_label(sb, "tc_mode", m->tc_mode ? m->tc_mode : "", false);
	snprintf(n, sizeof(n), "%u", m->src.decide_interval_s);
	put_label(sb, "decide_interval_s", n, false);
	snprintf(n, sizeof(n), "%u", m->src.window_s);
	put_label(sb, "window_s", n, false);
	put_label(sb, "asn_db", m->src.asn_db ? "true" : "false", false);
	put_label(sb, "kernel", m->kernel, true);
}

static void render_datapath(struct sbuf *sb, const struct metrics *m,
			    const struct hs_stats *st)
{
	static const char *const parse_reasons[] = {
	    "non_ip",	"err_eth",  "err_vlan",	      "vlan_limit",
	    "err_ipv4", "err_ipv6", "ipv6_ext_limit", "ip_frag",
	    "non_tcp",	"err_tcp",  "err_tcp_opt",    "err_decap"};
	const uint64_t *v = (const uint64_t *)st;
	unsigned cur = 0;
	size_t i;

	metric(sb, "hydrascope_datapath_attached", "gauge",
	       "1 while our XDP program is the one attached to the interface");
	if (bpf_xdp_query_id(m->src.ifindex, 0, &cur))
		cur = 0;
	sb_printf(sb, "hydrascope_datapath_attached %d\n",
		  cur && cur == m->src.xdp_prog_id);
	metric(sb, "hydrascope_packets_total", "counter",
	       "packets seen by hook");
	put1(sb, "hydrascope_packets_total", "hook", "xdp", st->xdp_packets);
	put1(sb, "hydrascope_packets_total", "hook", "tc", st->tc_packets);
	metric(sb, "hydrascope_parse_failures_total", "counter",
	       "packets passed unparsed, by reason");
	for (i = 0; i < sizeof(parse_reasons) / sizeof(parse_reasons[0]); i++)
		put1(sb, "hydrascope_parse_failures_total", "reason",
		     parse_reasons[i], stat_of(st, parse_reasons[i]));
	/* every datapath counter under its own name (a fixed set); byte
	 * counters go to their own family, so that no sum() over a family
	 * adds bytes to events */
	metric(sb, "hydrascope_datapath_events_total", "counter",
	       "datapath event counters by name (see "
	       "include/hydrascope/abi.h; bytes are in "
	       "hydrascope_bytes_total)");
	for (i = 0; i < N_STATS; i++)
		if (!is_bytes(stat_names[i]))
			put1(sb, "hydrascope_datapath_events_total", "counter",
			     stat_names[i], v[i]);
	metric(sb, "hydrascope_bytes_total", "counter",
	       "bytes seen by hook (L2 frame lengths)");
	for (i = 0; i < N_STATS; i++)
		if (is_bytes(stat_names[i])) {
			char hook[32];

			snprintf(hook, sizeof(hook), "%.*s",
				 (int)(strlen(stat_names[i]) - 6),
				 stat_names[i]);
			put1(sb, "hydrascope_bytes_total", "hook", hook, v[i]);
		}
	metric(sb, "hydrascope_decap_packets_total", "counter",
	       "encapsulated packets opened (--decap), by kind");
	put1(sb, "hydrascope_decap_packets_total", "kind", "ipip",
	     st->decap_ipip);
	put1(sb, "hydrascope_decap_packets_total", "kind", "gre",
	     st->decap_gre);
	put1(sb, "hydrascope_decap_packets_total", "kind", "gue",
	     st->decap_gue);
	metric(sb, "hydrascope_encap_closed_total", "counter",
	       "encapsulated packets left closed: that kind's --decap is "
	       "off, or an encapsulation it does not open");
	put1(sb, "hydrascope_encap_closed_total", "why", "decap_off",
	     st->encap_off);
	put1(sb, "hydrascope_encap_closed_total", "why", "unsupported",
	     st->decap_unsupported);
	metric(sb, "hydrascope_flows_total", "counter", "flows by kind");
	put1(sb, "hydrascope_flows_total", "kind", "tls", st->tls_flows);
	put1(sb, "hydrascope_flows_total", "kind", "nontls", st->nontls_flows);
	metric(sb, "hydrascope_ringbuf_drops_total", "counter",
	       "events lost because their ring buffer was full (hello: "
	       "ClientHello bytes, flow: flow milestones)");
	put1(sb, "hydrascope_ringbuf_drops_total", "ring", "hello",
	     st->ringbuf_drops);
	put1(sb, "hydrascope_ringbuf_drops_total", "ring", "flow",
	     st->flow_event_drops);
	metric(sb, "hydrascope_dropped_packets_total", "counter",
	       "packets the blocking layer dropped (mode=drop) or would drop "
	       "(mode=dry_run)");
	sb_printf(sb,
		  "hydrascope_dropped_packets_total{kind=\"prefix\",mode="
		  "\"drop\"} %llu\n"
		  "hydrascope_dropped_packets_total{kind=\"prefix\",mode=\"dry_"
		  "run\"} %llu\n"
		  "hydrascope_dropped_packets_total{kind=\"tuple\",mode="
		  "\"drop\"} %llu\n"
		  "hydrascope_dropped_packets_total{kind=\"tuple\",mode=\"dry_"
		  "run\"} %llu\n",
		  (unsigned long long)st->block_drops,
		  (unsigned long long)st->block_would_drop,
		  (unsigned long long)st->tuple_drops,
		  (unsigned long long)st->tuple_would_drop);
}

static void render_maps(struct sbuf *sb, const struct metrics *m,
			const struct metrics_snapshot *s,
			const struct hs_stats *st)
{
	static const char *const names[] = {"flows", "sources", "tcp_sigs"};
	/* flows and sources: the last complete pass of the correlator's
	 * walk over them; signatures (never walked): inserts, up to the
	 * map's size */
	uint64_t entries[3] = {s->corr.kernel_flows, s->corr.kernel_sources,
			       st->sig_inserts < m->src.map_max[2]
				   ? st->sig_inserts
				   : m->src.map_max[2]};
	uint64_t inserts[3] = {st->flow_inserts, st->source_inserts,
			       st->sig_inserts};
	uint64_t fails[3] = {st->flow_insert_fail, st->source_insert_fail,
			     st->sig_insert_fail};
	size_t i;

	metric(sb, "hydrascope_map_entries", "gauge",
	       "entries in a map (flows, sources: the correlator's last pass "
	       "over them)");
	for (i = 0; i < 3; i++)
		put1(sb, "hydrascope_map_entries", "map", names[i], entries[i]);
	put1(sb, "hydrascope_map_entries", "map", "blocklist",
	     s->enforce.enforced_blocks + s->enforce.manual_blocks);
	put1(sb, "hydrascope_map_entries", "map", "tuple_rules",
	     s->enforce.enforced_rules);
	metric(sb, "hydrascope_map_max_entries", "gauge", "capacity of a map");
	for (i = 0; i < 3; i++)
		put1(sb, "hydrascope_map_max_entries", "map", names[i],
		     m->src.map_max[i]);
	put1(sb, "hydrascope_map_max_entries", "map", "blocklist",
	     m->src.blocklist_max);
	put1(sb, "hydrascope_map_max_entries", "map", "tuple_rules",
	     m->src.tuple_rules_max);
	metric(sb, "hydrascope_map_inserts_total", "counter",
	       "entries the datapath added to an LRU map");
	for (i = 0; i < 3; i++)
		put1(sb, "hydrascope_map_inserts_total", "map", names[i],
		     inserts[i]);
	/* nothing but the LRU removes flows, sources or signatures, so
	 * inserts - entries is what it evicted (LRU maps evict per CPU
	 * before they are full) */
	metric(sb, "hydrascope_map_evictions_total", "counter",
	       "entries an LRU map evicted (inserts - entries)");
	for (i = 0; i < 3; i++)
		put1(sb, "hydrascope_map_evictions_total", "map", names[i],
		     inserts[i] > entries[i] ? inserts[i] - entries[i] : 0);
	metric(sb, "hydrascope_map_insert_failures_total", "counter",
	       "datapath inserts that failed");
	for (i = 0; i < 3; i++)
		put1(sb, "hydrascope_map_insert_failures_total", "map",
		     names[i], fails[i]);
}

static void render_userspace(struct sbuf *sb, const struct metrics_snapshot *s)
{
	static const char *const read_names[CORR_READ_KINDS] = {
	    "listed", "reconcile", "sweep"};
	const struct collector_stats *cs = &s->coll;
	size_t i;

	metric(sb, "hydrascope_hellos_parsed_total", "counter",
	       "ClientHellos reassembled and fingerprinted");
	put(sb, "hydrascope_hellos_parsed_total", cs->hellos);
	metric(sb, "hydrascope_retry_hellos_parsed_total", "counter",
	       "second ClientHellos (after a HelloRetryRequest) among them");
	put(sb, "hydrascope_retry_hellos_parsed_total", cs->retry_hellos);
	metric(sb, "hydrascope_retry_hello_late_events_total", "counter",
	       "segments marked as a flow's second hello after it was "
	       "parsed: dropped");
	put(sb, "hydrascope_retry_hello_late_events_total", cs->retry_late);
	metric(sb, "hydrascope_hello_late_segments_total", "counter",
	       "segments of a first hello after userspace parsed it (the "
	       "kernel read on): kept with its copy for resends");
	put(sb, "hydrascope_hello_late_segments_total", cs->late_segments);
	metric(sb, "hydrascope_hello_errors_total", "counter",
	       "ClientHellos rejected, by reason");
	for (i = 1; i < HELLO_ERR_MAX; i++)
		put1(sb, "hydrascope_hello_errors_total", "reason",
		     hello_strerror((enum hello_err)i), cs->hello_errors[i]);
	metric(sb, "hydrascope_hello_conflicts_total", "counter",
	       "hellos whose bytes were sent again with other bytes "
	       "(checked), or resent after their copy was pushed out "
	       "(unchecked, flagged all the same)");
	put1(sb, "hydrascope_hello_conflicts_total", "check", "bytes",
	     cs->hello_conflicts);
	put1(sb, "hydrascope_hello_conflicts_total", "check", "unchecked",
	     cs->hello_resends_unchecked);
	metric(sb, "hydrascope_userspace_evictions_total", "counter",
	       "entries pushed out of bounded userspace tables");
	put1(sb, "hydrascope_userspace_evictions_total", "table", "reassembly",
	     cs->reasm_evictions);
	put1(sb, "hydrascope_userspace_evictions_total", "table",
	     "fingerprints", cs->fp_evictions);
	put1(sb, "hydrascope_userspace_evictions_total", "table",
	     "hello_copies", cs->kept_evictions);
	put1(sb, "hydrascope_userspace_evictions_total", "table", "correlator",
	     s->corr.evictions);
	put1(sb, "hydrascope_userspace_evictions_total", "table",
	     "flows_listed", s->corr.list_dropped);
	metric(sb, "hydrascope_fingerprint_strings_dropped_total", "counter",
	       "SNIs or raw fingerprint strings not kept: past the "
	       "byte budget");
	put(sb, "hydrascope_fingerprint_strings_dropped_total",
	    cs->fp_strings_dropped);
	metric(sb, "hydrascope_fingerprint_string_bytes", "gauge",
	       "memory held by interned fingerprint strings");
	put(sb, "hydrascope_fingerprint_string_bytes", cs->fp_string_bytes);
	metric(sb, "hydrascope_fingerprint_string_budget_bytes", "gauge",
	       "the byte budget of interned fingerprint strings");
	put(sb, "hydrascope_fingerprint_string_budget_bytes",
	    cs->fp_string_budget);
	metric(sb, "hydrascope_fingerprints", "gauge",
	       "distinct TLS fingerprints held (one per distinct hello)");
	put(sb, "hydrascope_fingerprints", cs->fp_records);
	metric(sb, "hydrascope_userspace_probe_evictions_total", "counter",
	       "entries a userspace table gave up because a key's probe "
	       "window was full (keys chosen to collide)");
	put(sb, "hydrascope_userspace_probe_evictions_total",
	    s->probe_evictions);
	metric(sb, "hydrascope_correlator_entries", "gauge",
	       "entries in the correlator's bounded tables");
	put1(sb, "hydrascope_correlator_entries", "table", "sources",
	     s->corr.sources);
	put1(sb, "hydrascope_correlator_entries", "table", "members",
	     s->corr.members);
	put1(sb, "hydrascope_correlator_entries", "table", "clusters",
	     s->corr.clusters);
	put1(sb, "hydrascope_correlator_entries", "table", "flows",
	     s->corr.flows_tracked);
	put1(sb, "hydrascope_correlator_entries", "table", "flows_listed",
	     s->corr.flows_listed);
	metric(sb, "hydrascope_flows_unverified_total", "counter",
	       "flows over without a completed TCP handshake: left out of "
	       "correlation and decisions (a forged source cannot complete "
	       "one)");
	put(sb, "hydrascope_flows_unverified_total", s->corr.flows_unverified);
	metric(sb, "hydrascope_correlator_flow_reads_total", "counter",
	       "kernel flows the correlator's rounds read, by why (listed: "
	       "named by a flow event or active; reconcile: the walk over the "
	       "map; sweep: a read of the whole map)");
	for (i = 0; i < CORR_READ_KINDS; i++)
		put1(sb, "hydrascope_correlator_flow_reads_total", "why",
		     read_names[i], s->corr.flow_reads[i]);
	metric(sb, "hydrascope_correlator_flow_events_total", "counter",
	       "flow milestones the correlator read from the flow ring, by "
	       "outcome (malformed: not a flow event)");
	put1(sb, "hydrascope_correlator_flow_events_total", "outcome", "read",
	     s->corr.flow_events);
	put1(sb, "hydrascope_correlator_flow_events_total", "outcome",
	     "malformed", s->corr.bad_flow_events);
	metric(sb, "hydrascope_flows_reconciled_total", "counter",
	       "flows the reconciliation walk found moved that no flow event "
	       "reported (events lost to a full ring; 0 otherwise)");
	put(sb, "hydrascope_flows_reconciled_total", s->corr.flows_reconciled);
	metric(sb, "hydrascope_records_dropped_total", "counter",
	       "decision records over the per-round cap, not written");
	put(sb, "hydrascope_records_dropped_total", s->policy.records_dropped);
	metric(sb, "hydrascope_rounds_total", "counter",
	       "correlate-decide-reconcile rounds");
	put(sb, "hydrascope_rounds_total", s->rounds);
	put_hist(sb, "hydrascope_round_duration_seconds",
		 "time one correlate-decide-reconcile round took",
		 &s->round_seconds, HS_HIST_ROUND_SECONDS);
}

static void render_indicators(struct sbuf *sb, const struct metrics_snapshot *s)
{
	uint64_t shown = 0;
	size_t i;

	metric(sb, "hydrascope_indicators_total", "counter",
	       "indicator records raised (new, grown or repeated), by kind");
	for (i = 0; i < IND_COUNT; i++)
		put1(sb, "hydrascope_indicators_total", "kind",
		     ind_kind_name((enum ind_kind)i), s->corr.raised[i]);
	metric(sb, "hydrascope_farm_clusters", "gauge",
	       "farm clusters firing at the last evaluation");
	put(sb, "hydrascope_farm_clusters", s->corr.farm_clusters);
	metric(sb, "hydrascope_relay_share_ratio", "gauge",
	       "share of measured TLS flows with the relay signal (last "
	       "window), 0-1");
	sb_printf(sb, "hydrascope_relay_share_ratio %.4f\n",
		  s->corr.relay_share);
	put_hist(sb, "hydrascope_relay_gap_seconds",
		 "relay detour estimate of each TLS flow with a clean "
		 "handshake timing (TLS RTT - TCP RTT - the client family's "
		 "allowance, or the ACK->ClientHello delay; 0 when none)",
		 &s->corr.relay_gap, HS_HIST_RELAY_GAP_SECONDS);
	metric(sb, "hydrascope_relay_samples_total", "counter",
	       "TLS flows with a clean handshake timing");
	put(sb, "hydrascope_relay_samples_total", s->corr.relay_samples);
	metric(sb, "hydrascope_relay_hits_total", "counter",
	       "... whose detour estimate passed relay_min_gap_us");
	put(sb, "hydrascope_relay_hits_total", s->corr.relay_hits);
	metric(sb, "hydrascope_cluster_sources", "gauge",
	       "active low-volume sources of the largest clusters (top "
	       "K by short id, the rest as cluster=\"other\")");
	for (i = 0; i < s->n_top; i++) {
		sb_printf(sb,
			  "hydrascope_cluster_sources{cluster=\"%08x\","
			  "band=\"%s\",farm=\"%s\"} %zu\n",
			  (unsigned)(s->top[i].cluster_id >> 32),
			  band_name(s->top[i].band),
			  s->top[i].farm ? "true" : "false", s->top[i].sources);
		shown += s->top[i].sources;
	}
	sb_printf(sb,
		  "hydrascope_cluster_sources{cluster=\"other\",band=\"\","
		  "farm=\"\"} %llu\n",
		  (unsigned long long)(s->corr.cluster_sources > shown
					   ? s->corr.cluster_sources - shown
					   : 0));
}

static void render_blocking(struct sbuf *sb, const struct metrics *m,
			    const struct metrics_snapshot *s)
{
	const struct enforce_stats *e = &s->enforce;
	size_t i;

	metric(sb, "hydrascope_enforce", "gauge",
	       "1: blocking drops; 0: dry-run");
	sb_printf(sb, "hydrascope_enforce %d\n", m->src.enforce);
	metric(sb, "hydrascope_decisions_total", "counter",
	       "new decisions by reason");
	for (i = 0; i < IND_COUNT; i++)
		if (i == IND_FARM_CLUSTER || i == IND_RESIDENTIAL_PROXY ||
		    i == IND_RELAY_RTT_GAP)
			put1(sb, "hydrascope_decisions_total", "reason",
			     ind_kind_name((enum ind_kind)i),
			     s->policy.decisions[i]);
	metric(sb, "hydrascope_decision_renewals_total", "counter",
	       "decisions renewed by a still-firing indicator");
	put(sb, "hydrascope_decision_renewals_total", s->policy.renewals);
	metric(sb, "hydrascope_decisions_refused_total", "counter",
	       "decisions not taken: the allowlist, or a full budget whose "
	       "weakest entry was not weaker");
	for (i = 0; i < BUDGET_COUNT; i++)
		put1(sb, "hydrascope_decisions_refused_total", "why",
		     budget_name((enum budget)i), s->policy.refused[i]);
	put1(sb, "hydrascope_decisions_refused_total", "why", "allowlist",
	     s->policy.refused_allow);
	put1(sb, "hydrascope_decisions_refused_total", "why", "remote_wide",
	     s->policy.refused_wide);
	put1(sb, "hydrascope_decisions_refused_total", "why", "remote_cap",
	     s->policy.refused_remote);
	metric(sb, "hydrascope_decisions_evicted_total", "counter",
	       "decisions withdrawn to make room for a stronger one, by "
	       "budget");
	for (i = 0; i < BUDGET_COUNT; i++)
		put1(sb, "hydrascope_decisions_evicted_total", "budget",
		     budget_name((enum budget)i), s->policy.evicted[i]);
	metric(sb, "hydrascope_blocks_desired", "gauge",
	       "prefix blocks the policy wants");
	put(sb, "hydrascope_blocks_desired", e->desired_blocks);
	metric(sb, "hydrascope_blocks_enforced", "gauge",
	       "indicator blocks the datapath holds as intended");
	put(sb, "hydrascope_blocks_enforced", e->enforced_blocks);
	metric(sb, "hydrascope_blocks_manual", "gauge",
	       "operator blocks (hydrascope block add)");
	put(sb, "hydrascope_blocks_manual", e->manual_blocks);
	metric(sb, "hydrascope_blocks_cap", "gauge",
	       "the policy's cap on indicator blocks (max_blocks)");
	put(sb, "hydrascope_blocks_cap", m->src.max_blocks);
	metric(sb, "hydrascope_blocks_active", "gauge",
	       "blocklist entries not yet expired");
	put(sb, "hydrascope_blocks_active", s->active_blocks);
	metric(sb, "hydrascope_tuple_rules_desired", "gauge",
	       "tuple rules the policy wants");
	put(sb, "hydrascope_tuple_rules_desired", e->desired_rules);
	metric(sb, "hydrascope_tuple_rules_enforced", "gauge",
	       "tuple rules the datapath holds as intended");
	put(sb, "hydrascope_tuple_rules_enforced", e->enforced_rules);
	metric(sb, "hydrascope_reconcile_total", "counter",
	       "reconcile work by kind");
	put1(sb, "hydrascope_reconcile_total", "op", "write", e->writes);
	put1(sb, "hydrascope_reconcile_total", "op", "delete", e->deletes);
	put1(sb, "hydrascope_reconcile_total", "op", "write_failure",
	     e->write_failures);
	put1(sb, "hydrascope_reconcile_total", "op", "lifted_outside",
	     e->lifted_outside);
	put1(sb, "hydrascope_reconcile_total", "op", "stale_removed",
	     e->stale_removed);
	put1(sb, "hydrascope_reconcile_total", "op", "cuts_expired",
	     e->cuts_expired);
}

/* Fleet transport (run --fleet): the fleet-level rules in
 * deploy/prometheus/ compare these across hosts. */
static void render_fleet(struct sbuf *sb, const struct metrics_snapshot *s)
{
	static const char *const outcome[] = {"applied", "held", "refused",
					      "expired"};
	const struct fleet_stats *f = &s->fleet;

	if (!s->have_fleet)
		return;
	metric(sb, "hydrascope_fleet_connected", "gauge",
	       "1 while the Redis connection is up");
	put(sb, "hydrascope_fleet_connected", f->connected);
	metric(sb, "hydrascope_fleet_connects_total", "counter",
	       "connections made to Redis");
	put(sb, "hydrascope_fleet_connects_total", f->connects);
	metric(sb, "hydrascope_fleet_failures_total", "counter",
	       "Redis connection and command failures (timeouts included)");
	put(sb, "hydrascope_fleet_failures_total", f->failures);
	metric(sb, "hydrascope_fleet_published_total", "counter",
	       "decisions appended to the fleet stream");
	put(sb, "hydrascope_fleet_published_total", f->published);
	metric(sb, "hydrascope_fleet_publish_dropped_total", "counter",
	       "decisions dropped from a full outbox");
	put(sb, "hydrascope_fleet_publish_dropped_total", f->publish_dropped);
	metric(sb, "hydrascope_fleet_outbox", "gauge",
	       "decisions waiting for Redis");
	put(sb, "hydrascope_fleet_outbox", f->outbox);
	metric(sb, "hydrascope_fleet_received_total", "counter",
	       "fleet stream entries read (own and redelivered included)");
	put(sb, "hydrascope_fleet_received_total", f->received);
	metric(sb, "hydrascope_fleet_remote_decisions_total", "counter",
	       "other hosts' decisions, by what this host made of them");
	for (size_t i = 0; i < 4; i++)
		put1(sb, "hydrascope_fleet_remote_decisions_total", "outcome",
		     outcome[i], f->outcome[i]);
	metric(sb, "hydrascope_fleet_redelivered_total", "counter",
	       "stream entries already applied (same decision id)");
	put(sb, "hydrascope_fleet_redelivered_total", f->redelivered);
	metric(sb, "hydrascope_fleet_observed_total", "counter",
	       "(cluster, source) pairs published to the fleet view");
	put(sb, "hydrascope_fleet_observed_total", f->observed);
	metric(sb, "hydrascope_fleet_stream_last_ms", "gauge",
	       "time part (unix ms) of the last stream entry acknowledged");
	put(sb, "hydrascope_fleet_stream_last_ms", f->last_stream_ms);
}

/* One sample of a role ("push", "pull") and a reason. */
/* CrowdSec (README: CrowdSec): the exporter's and the bouncer's side of
 * the LAPI in one set of families, by role. */
static void put_role_reason(struct sbuf *sb, const char *name, const char *role,
			    const char *reason, uint64_t v)
{
	sb_printf(sb, "%s{role=\"%s\",reason=\"%s\"} %llu\n", name, role,
		  reason, (unsigned long long)v);
}

static void render_crowdsec(struct sbuf *sb, const struct metrics_snapshot *s)
{
	static const char *const drop[CS_DROP_COUNT] = {"full", "expired",
							"rejected"};
	const struct crowdsec_push_stats *p = &s->cs_push;
	const struct crowdsec_pull_stats *q = &s->cs_pull;
	/* the families both clients report, labelled by role */
	const struct {
		bool on;
		const char *role;
		uint64_t up, requests;
		const uint64_t *failures;
	} roles[] = {
	    {s->have_cs_push, "push", p->up, p->requests, p->failures},
	    {s->have_cs_pull, "pull", q->up, q->requests, q->failures},
	};
	size_t i, r;

	if (s->have_cs_push || s->have_cs_pull) {
		metric(sb, "hydrascope_crowdsec_up", "gauge",
		       "1 while the LAPI answered the last request");
		for (r = 0; r < 2; r++)
			if (roles[r].on)
				put1(sb, "hydrascope_crowdsec_up", "role",
				     roles[r].role, roles[r].up);
		metric(sb, "hydrascope_crowdsec_requests_total", "counter",
		       "requests made to the LAPI (logins included)");
		for (r = 0; r < 2; r++)
			if (roles[r].on)
				put1(sb, "hydrascope_crowdsec_requests_total",
				     "role", roles[r].role, roles[r].requests);
		metric(sb, "hydrascope_crowdsec_failures_total", "counter",
		       "LAPI requests that failed, by reason");
		for (i = 0; i < LAPI_F_COUNT; i++)
			for (r = 0; r < 2; r++)
				if (roles[r].on)
					put_role_reason(sb,
							"hydrascope_crowdsec_"
							"failures_total",
							roles[r].role,
							lapi_failure_name(i),
							roles[r].failures[i]);
	}
	if (s->have_cs_push) {
		metric(sb, "hydrascope_crowdsec_logins_total", "counter",
		       "watcher logins (a token lasts an hour)");
		put(sb, "hydrascope_crowdsec_logins_total", p->logins);
		metric(sb, "hydrascope_crowdsec_pushed_total", "counter",
		       "alerts, each with one ban, the LAPI took");
		put(sb, "hydrascope_crowdsec_pushed_total", p->pushed);
		metric(sb, "hydrascope_crowdsec_push_dropped_total", "counter",
		       "blocks given up before the LAPI took them, by why");
		for (i = 0; i < CS_DROP_COUNT; i++)
			put1(sb, "hydrascope_crowdsec_push_dropped_total",
			     "why", drop[i], p->dropped[i]);
		metric(sb, "hydrascope_crowdsec_push_pending", "gauge",
		       "blocks waiting to be pushed");
		put(sb, "hydrascope_crowdsec_push_pending", p->pending);
	}
	if (s->have_cs_export) {
		metric(sb, "hydrascope_crowdsec_blocks_held", "gauge",
		       "this host's blocks in force, as exported");
		put(sb, "hydrascope_crowdsec_blocks_held", p->held);
		metric(sb, "hydrascope_crowdsec_export_writes_total", "counter",
		       "import files written (--crowdsec-export)");
		put(sb, "hydrascope_crowdsec_export_writes_total", p->exports);
		metric(sb, "hydrascope_crowdsec_export_failures_total",
		       "counter", "import files that could not be written");
		put(sb, "hydrascope_crowdsec_export_failures_total",
		    p->export_failures);
	}
	if (!s->have_cs_pull)
		return;
	metric(sb, "hydrascope_crowdsec_pull_startups_total", "counter",
	       "full answers asked for (start, and after a failure)");
	put(sb, "hydrascope_crowdsec_pull_startups_total", q->startups);
	metric(sb, "hydrascope_crowdsec_decisions_received_total", "counter",
	       "decisions read from the stream, new and deleted");
	put(sb, "hydrascope_crowdsec_decisions_received_total", q->received);
	metric(sb, "hydrascope_crowdsec_decisions_total", "counter",
	       "what became of the LAPI's decisions, by outcome");
	for (i = 0; i < CS_OUTCOME_COUNT; i++)
		put1(sb, "hydrascope_crowdsec_decisions_total", "outcome",
		     crowdsec_outcome_name(i), q->outcome[i]);
	metric(sb, "hydrascope_crowdsec_pull_last_success_timestamp_seconds",
	       "gauge", "when the stream was last read (unix time)");
	sb_printf(sb,
		  "hydrascope_crowdsec_pull_last_success_timestamp_seconds "
		  "%.3f\n",
		  (double)q->last_ok_ns / 1e9);
}

char *metrics_render(struct metrics *m)
{
	struct sbuf sb = {0};
	struct metrics_snapshot s;
	struct hs_stats st;
	uint64_t evidence_omitted;

	pthread_mutex_lock(&m->lock);
	s = m->snap;
	evidence_omitted = m->page->evidence_omitted;
	m->scrapes++;
	pthread_mutex_unlock(&m->lock);
	if (stats_read(m->src.stats_fd, &st))
		memset(&st, 0, sizeof(st));

	metric(&sb, "hydrascope_up", "gauge", "1 while the exporter serves");
	sb_printf(&sb, "hydrascope_up 1\n");
	pthread_mutex_lock(&m->lock);
	render_info(&sb, m);
	pthread_mutex_unlock(&m->lock);
	render_datapath(&sb, m, &st);
	render_maps(&sb, m, &s, &st);
	render_userspace(&sb, &s);
	render_indicators(&sb, &s);
	render_blocking(&sb, m, &s);
	metric(&sb, "hydrascope_metrics_connections_cut_total", "counter",
	       "metrics connections closed for missing their request "
	       "deadline (slow or stalled clients)");
	put(&sb, "hydrascope_metrics_connections_cut_total", m->deadline_cuts);
	metric(&sb, "hydrascope_status_page_omitted_total", "counter",
	       "what the status page left out: rows past its byte bound, "
	       "evidence longer than its room");
	put1(&sb, "hydrascope_status_page_omitted_total", "what", "rows",
	     m->page_rows_cut);
	put1(&sb, "hydrascope_status_page_omitted_total", "what", "evidence",
	     evidence_omitted);
	render_fleet(&sb, &s);
	render_crowdsec(&sb, &s);
	metric(&sb, "process_resident_memory_bytes", "gauge",
	       "resident memory");
	sb_printf(&sb, "process_resident_memory_bytes %ld\n", proc_rss_bytes());
	metric(&sb, "process_start_time_seconds", "gauge", "start time (unix)");
	sb_printf(&sb, "process_start_time_seconds %.3f\n", m->start_time);
	if (sb_failed(&sb)) {
		sb_free(&sb);
		return NULL;
	}
	return sb.p;
}

/* The status page (HTML) or its JSON, from a copy of the published
 * snapshot: the lock is held for a memcpy, never for a render. */
static char *render_page(struct metrics *m, bool json)
{
	struct status_page *p = malloc(sizeof(*p));
	uint64_t now = hs_clock_ns(CLOCK_REALTIME);
	struct sbuf sb = {0};

	if (!p)
		return NULL;
	pthread_mutex_lock(&m->lock);
	memcpy(p, m->page, sizeof(*p));
	pthread_mutex_unlock(&m->lock);
	if (json) {
		char *text = status_page_json(p, now);

		free(p);
		return text;
	}
	m->page_rows_cut +=
	    status_page_html(p, now, STATUS_PAGE_MAX_BYTES, &sb);
	free(p);
	if (sb_failed(&sb)) {
		sb_free(&sb);
		return NULL;
	}
	return sb.p;
}

/* 200 with a body of ours to free. */
static enum MHD_Result answer(struct MHD_Connection *c, char *body,
			      const char *type, bool page)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), body,
					    MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	/* the page quotes what clients sent (SNIs, fingerprints): nothing
	 * in it may run, load or be taken for another type */
	if (page) {
		MHD_add_response_header(r, "Content-Security-Policy",
					"default-src 'none'; "
					"style-src 'unsafe-inline'");
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
		MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
		MHD_add_response_header(r, "Cache-Control", "no-store");
	}
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result not_found(struct MHD_Connection *c)
{
	static char nf[] = "not found; try /, /status.json or /metrics\n";
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(nf), nf,
					    MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, MHD_HTTP_NOT_FOUND, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	struct metrics *m = cls;
	char *body;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)state;
	if (strcmp(method, "GET"))
		return MHD_NO;
	if (!strcmp(url, "/metrics")) {
		body = metrics_render(m);
		return body
			   ? answer(c, body, "text/plain; version=0.0.4", false)
			   : MHD_NO;
	}
	if (!strcmp(url, "/") || !strcmp(url, "/status.json")) {
		bool json = url[1] != 0;

		body = render_page(m, json);
		return body ? answer(c, body,
				     json ? "application/json"
					  : "text/html; charset=utf-8",
				     true)
			    : MHD_NO;
	}
	return not_found(c);
}

int metrics_check_addr(const char *addr)
{
	char host[64];
	unsigned port;

	if (!strncmp(addr, "unix:", 5))
		return addr[5] == '/' &&
			       strlen(addr + 5) <
				   sizeof(((struct sockaddr_un *)0)->sun_path)
			   ? 0
			   : -1;
	return metrics_parse_addr(addr, host, sizeof(host), &port);
}

/* The listening socket: TCP, or a UNIX socket that only its owner and
 * group reach (a unit that scrapes through a local proxy, no network). */
static int open_listener(struct metrics *m, const char *addr, char *err,
			 size_t errlen)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	char host[64];
	unsigned port;
	int fd, one = 1;

	if (!strncmp(addr, "unix:", 5)) {
		struct sockaddr_un *su = (struct sockaddr_un *)&ss;
		struct stat st;

		m->is_unix = true;
		snprintf(m->unix_path, sizeof(m->unix_path), "%s", addr + 5);
		su->sun_family = AF_UNIX;
		memcpy(su->sun_path, m->unix_path, strlen(m->unix_path) + 1);
		len = sizeof(*su);
		/* a previous instance's socket, never another kind of file */
		if (!lstat(m->unix_path, &st) && S_ISSOCK(st.st_mode))
			unlink(m->unix_path);
	} else {
		if (metrics_parse_addr(addr, host, sizeof(host), &port))
			goto bad;
		if (inet_pton(AF_INET, host,
			      &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
			((struct sockaddr_in *)&ss)->sin_family = AF_INET;
			((struct sockaddr_in *)&ss)->sin_port =
			    htons((uint16_t)port);
			len = sizeof(struct sockaddr_in);
		} else {
			inet_pton(AF_INET6, host,
				  &((struct sockaddr_in6 *)&ss)->sin6_addr);
			((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
			((struct sockaddr_in6 *)&ss)->sin6_port =
			    htons((uint16_t)port);
			len = sizeof(struct sockaddr_in6);
		}
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (!m->is_unix)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) ||
	    (m->is_unix && chmod(m->unix_path, 0660)) || listen(fd, 64)) {
		int e = errno;

		close(fd);
		errno = e;
		goto fail;
	}
	m->listen_fd = fd;
	return 0;
bad:
	snprintf(err, errlen,
		 "--metrics wants HOST:PORT or unix:PATH, got '%s'", addr);
	return -1;
fail:
	snprintf(err, errlen, "cannot serve metrics on %s: %s", addr,
		 strerror(errno));
	return -1;
}

struct metrics *metrics_open(const char *addr, const struct metrics_src *src,
			     char *err, size_t errlen)
{
	struct metrics *m = calloc(1, sizeof(*m));
	struct utsname u;

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->listen_fd = -1;
	m->page = calloc(1, sizeof(*m->page));
	if (!m->page) {
		snprintf(err, errlen, "out of memory");
		free(m);
		return NULL;
	}
	if (open_listener(m, addr, err, errlen)) {
		free(m->page);
		free(m);
		return NULL;
	}
	m->src = *src;
	m->start_time = hs_clock_s(CLOCK_REALTIME);
	if (uname(&u) == 0)
		snprintf(m->kernel, sizeof(m->kernel), "%s", u.release);
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

static struct conn_slot *slot_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* MHD tells us of each connection (on the server thread). */
static void on_connection(void *cls, struct MHD_Connection *c, void **ctx,
			  enum MHD_ConnectionNotificationCode what)
{
	struct metrics *m = cls;
	struct conn_slot *sl = *ctx;

	if (what == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (sl)
			memset(sl, 0, sizeof(*sl));
		*ctx = NULL;
		return;
	}
	for (size_t i = 0; i < CONN_LIMIT; i++) {
		const union MHD_ConnectionInfo *ci;

		if (m->conns[i].c)
			continue;
		ci = MHD_get_connection_info(c,
					     MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!ci)
			return;
		m->conns[i] = (struct conn_slot){
		    .c = c,
		    .fd = ci->connect_fd,
		    .deadline_ns = hs_clock_ns(CLOCK_MONOTONIC) +
				   REQUEST_DEADLINE_MS * 1000000ull,
		};
		*ctx = &m->conns[i];
		return;
	}
}

/* An answer went out: the next request on the connection gets its own. */
static void on_completed(void *cls, struct MHD_Connection *c, void **req,
			 enum MHD_RequestTerminationCode toe)
{
	struct conn_slot *sl = slot_of(c);

	(void)cls;
	(void)req;
	(void)toe;
	if (sl)
		sl->deadline_ns = hs_clock_ns(CLOCK_MONOTONIC) +
				  REQUEST_DEADLINE_MS * 1000000ull;
}

/* Past their deadline: shut the socket down; MHD sees the end on its next
 * poll and closes the connection itself (the fd stays MHD's to close, so
 * no other file can take its number meanwhile). */
static void cut_late(struct metrics *m)
{
	uint64_t now = hs_clock_ns(CLOCK_MONOTONIC);

	for (size_t i = 0; i < CONN_LIMIT; i++) {
		struct conn_slot *sl = &m->conns[i];

		if (sl->c && sl->fd >= 0 && now > sl->deadline_ns) {
			shutdown(sl->fd, SHUT_RDWR);
			sl->fd = -1;
			m->deadline_cuts++;
		}
	}
}

static void *serve(void *arg)
{
	struct metrics *m = arg;

	while (!atomic_load(&m->stop)) {
		MHD_run_wait(m->d, POLL_MS);
		cut_late(m);
	}
	return NULL;
}

int metrics_serve(struct metrics *m, char *err, size_t errlen)
{
	/* MHD's per-address limit knows IPv4 and IPv6 only: it would refuse
	 * every client of a UNIX socket */
	unsigned per_ip = m->is_unix ? 0 : CONN_PER_IP;

	m->d = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, m,
	    MHD_OPTION_LISTEN_SOCKET, m->listen_fd, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)CONN_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_IDLE_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, m,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, m, MHD_OPTION_END);
	if (!m->d) {
		snprintf(err, errlen, "cannot start the metrics server");
		return -1;
	}
	if (pthread_create(&m->thread, NULL, serve, m)) {
		snprintf(err, errlen, "cannot start the metrics thread");
		MHD_stop_daemon(m->d);
		m->d = NULL;
		m->listen_fd = -1; /* MHD closed it */
		return -1;
	}
	m->serving = true;
	return 0;
}

void metrics_publish(struct metrics *m, const struct metrics_snapshot *s)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->snap = *s;
	pthread_mutex_unlock(&m->lock);
}

void metrics_publish_page(struct metrics *m, const struct status_page *p)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	memcpy(m->page, p, sizeof(*p));
	pthread_mutex_unlock(&m->lock);
}

void metrics_set_modes(struct metrics *m, const char *xdp_mode,
		       const char *tc_mode)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->xdp_mode = xdp_mode;
	m->tc_mode = tc_mode;
	pthread_mutex_unlock(&m->lock);
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	if (m->serving) {
		atomic_store(&m->stop, 1);
		pthread_join(m->thread, NULL);
	}
	if (m->d)
		MHD_stop_daemon(m->d); /* closes the listening socket */
	else if (m->listen_fd >= 0)
		close(m->listen_fd);
	if (m->is_unix)
		unlink(m->unix_path);
	pthread_mutex_destroy(&m->lock);
	free(m->page);
	free(m);
}
