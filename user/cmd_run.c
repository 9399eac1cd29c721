// SPDX-License-Identifier: BSD-2-Clause
/*
 * hydrascope run --iface IF: load, attach XDP + TC egress, pin the maps,
 * consume the ring buffer and print a one-line summary per interval.
 * SIGINT/SIGTERM (or --duration) detach, unpin and print the report.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "cli.h"
#include "collector.h"
#include "decide.h"
#include "hydrascope/abi.h" /* before the skeleton: its .rodata uses hs_config */
#include "hydrascope.skel.h"
#include "metrics.h"
#include "pidfile.h"
#include "report.h"

static const char usage[] =
    "usage: hydrascope run --iface IF [options]\n"
    "  --iface IF               interface to attach to (ingress XDP, egress "
    "TC)\n"
    "  --xdp-mode native|generic   default: native, falling back to generic\n"
    "  --replace                take over a foreign XDP program on IF\n"
    "  --metrics HOST:PORT      serve Prometheus metrics on "
    "http://HOST:PORT/metrics\n"
    "  --decide-interval SEC    correlate and decide every SEC s (default 10)\n"
    "  --decision-log FILE      append every indicator decision as a JSON "
    "line\n"
    "  --enforce                drop what the blocking layer matches\n"
    "                           (default: dry-run, count what would drop)\n"
    "  --interval SEC           summary line period (default 10)\n"
    "  --duration SEC           stop after SEC seconds (default: run until "
    "signalled)\n"
    "  --format text|json       report printed at exit (default text)\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void summary_line(const struct map_fds *m, const struct collector *c,
			 struct hs_stats *prev)
{
	struct collector_stats cs;
	struct hs_stats st;

	if (stats_read(m->stats, &st))
		return;
	collector_get_stats(c, &cs);
	fprintf(
	    stderr,
	    "hydrascope: pkts=%llu (+%llu) syn=%llu tls_flows=%llu "
	    "nontls_flows=%llu hellos=%llu rtt=%llu tls_rtt=%llu "
	    "parse_err=%llu ringbuf_drops=%llu\n",
	    (unsigned long long)st.xdp_packets,
	    (unsigned long long)(st.xdp_packets - prev->xdp_packets),
	    (unsigned long long)st.syn, (unsigned long long)st.tls_flows,
	    (unsigned long long)st.nontls_flows, (unsigned long long)cs.hellos,
	    (unsigned long long)st.rtt_samples,
	    (unsigned long long)st.tls_rtt_samples,
	    (unsigned long long)(st.err_eth + st.err_vlan + st.err_ipv4 +
				 st.err_ipv6 + st.err_tcp + st.ipv6_ext_limit),
	    (unsigned long long)st.ringbuf_drops);
	*prev = st;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Correlate the maps and apply the decisions to the blocking maps. The
 * indicators and decisions go to the decision log (stdout stays for the
 * final report). */
static void decide_now(struct hydrascope *skel, const struct map_fds *m,
		       const struct collector *coll, const struct p0f_db *db,
		       const struct corr_config *c, FILE *dlog)
{
	FILE *null = fopen("/dev/null", "w");
	struct report_ctx r = {null, FMT_JSON, m, coll, db};
	json_object *found = json_object_new_array();
	struct timespec wall;
	struct decide_target t = {
	    .blocklist_fd = bpf_map__fd(skel->maps.blocklist),
	    .allowlist_fd = bpf_map__fd(skel->maps.allowlist),
	    .tuple_rules_fd = bpf_map__fd(skel->maps.tuple_rules),
	    .hint_fd = bpf_map__fd(skel->maps.block_hint),
	    .now_ns = mono_ns(),
	    .log = dlog,
	};

	clock_gettime(CLOCK_REALTIME, &wall);
	t.stamp_ns =
	    (uint64_t)wall.tv_sec * 1000000000ull + (uint64_t)wall.tv_nsec;
	if (null && found && correlate(&r, c, found) >= 0)
		decide(&r, c, found, &t);
	json_object_put(found);
	if (null)
		fclose(null);
}

int cmd_run(int argc, char **argv)
{
	struct common_opts co;
	enum xdp_mode_req mode = XDP_MODE_AUTO;
	enum out_format fmt = FMT_TEXT;
	const char *iface = NULL, *metrics_addr = NULL;
	struct metrics *metrics = NULL;
	bool replace = false;
	uint64_t interval = 10, duration = 0, decide_every = 10;
	const char *decision_log = NULL;
	FILE *dlog = NULL;
	struct hydrascope *skel = NULL;
	struct ring_buffer *rb = NULL;
	struct collector *coll = NULL;
	struct attachment att = {.xdp_link_fd = -1, .tc_link_fd = -1};
	struct p0f_db *db = NULL;
	struct hs_stats prev = {0};
	bool pinned = false, have_pid = false;
	char err[512];
	int i, rc = 1;

	common_opts_init(&co);
	co.load.reuse_pins = true;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i],
			   *val = i + 1 < argc ? argv[i + 1] : NULL;
		int c;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			printf("%s%s", usage, common_opts_help);
			return 0;
		}
		if (strncmp(a, "--", 2))
			return cli_fail(
			    "unexpected argument '%s' (see run --help)", a);
		a += 2;
		if (!strcmp(a, "replace")) {
			replace = true;
			continue;
		}
		if (!strcmp(a, "enforce")) {
			co.load.enforce = true;
			continue;
		}
		if (!strcmp(a, "no-default-p0f")) {
			co.no_default_p0f = true;
			continue;
		}
		if (!strcmp(a, "iface")) {
			if (!val || !*val)
				return cli_fail(
				    "--iface needs an interface name");
			iface = val;
		} else if (!strcmp(a, "decide-interval")) {
			if (cli_parse_u64(val, 1, 86400, &decide_every))
				return cli_fail(
				    "--decide-interval wants seconds from 1 to "
				    "86400, got '%s'",
				    val ? val : "");
		} else if (!strcmp(a, "decision-log")) {
			if (!val || !*val)
				return cli_fail("--decision-log needs a file");
			decision_log = val;
		} else if (!strcmp(a, "metrics")) {
			char host[64];
			unsigned port;

			if (!val ||
			    metrics_parse_addr(val, host, sizeof(host), &port))
				return cli_fail(
				    "--metrics wants HOST:PORT such as "
				    "127.0.0.1:9477, got '%s'",
				    val ? val : "");
			metrics_addr = val;
		} else if (!strcmp(a, "xdp-mode")) {
			if (val && !strcmp(val, "native"))
				mode = XDP_MODE_NATIVE;
			else if (val && !strcmp(val, "generic"))
				mode = XDP_MODE_GENERIC;
			else
				return cli_fail("--xdp-mode wants native or "
						"generic, got '%s'",
						val ? val : "");
		} else if (!strcmp(a, "interval")) {
			if (cli_parse_u64(val, 1, 86400, &interval))
				return cli_fail("--interval wants seconds from "
						"1 to 86400, got '%s'",
						val ? val : "");
		} else if (!strcmp(a, "duration")) {
			if (cli_parse_u64(val, 1, 365ull * 86400, &duration))
				return cli_fail("--duration wants seconds (at "
						"least 1), got '%s'",
						val ? val : "");
		} else if (!strcmp(a, "format")) {
			if (!val || parse_format(val, &fmt))
				return cli_fail(
				    "--format wants text or json, got '%s'",
				    val ? val : "");
		} else {
			c = common_opt(&co, a, val);
			if (c < 0)
				return 2;
			if (c == 0)
				return cli_fail(
				    "unknown run option --%s (see run --help)",
				    a);
		}
		i++;
	}
	if (!iface)
		return cli_fail("run needs --iface IF (see run --help)");
	if (!if_nametoindex(iface))
		return cli_fail("no such interface: %s", iface);

	db = common_load_p0f(&co);
	if (!db)
		return 2;
	if (decision_log && !(dlog = fopen(decision_log, "a"))) {
		p0f_db_free(db);
		return cli_fail("--decision-log %s: %s", decision_log,
				strerror(errno));
	}
	if (pidfile_claim(err, sizeof(err))) {
		cli_fail("%s", err);
		goto out;
	}
	have_pid = true;
	if (bpffs_ensure(err, sizeof(err))) {
		cli_fail("%s", err);
		goto out;
	}
	coll = collector_new(co.load.flows, 4096);
	if (!coll) {
		cli_fail("out of memory");
		goto out;
	}
	skel = loader_open_load(&co.load, err, sizeof(err));
	if (!skel) {
		cli_fail("%s", err);
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events),
			      collector_on_event, coll, NULL);
	if (!rb) {
		cli_fail("cannot open the ring buffer: %s", strerror(errno));
		goto out;
	}
	/* reused blocks are enforced from the first packet */
	loader_block_hint_sync(bpf_map__fd(skel->maps.blocklist),
			       bpf_map__fd(skel->maps.block_hint));
	if (loader_pin_maps(skel, err, sizeof(err))) {
		cli_fail("%s", err);
		goto out;
	}
	pinned = true;
	if (loader_attach(skel, iface, mode, replace, &att, err, sizeof(err))) {
		cli_fail("%s", err);
		goto out;
	}
	fprintf(stderr,
		"hydrascope: attached to %s (XDP %s, TC egress %s), maps "
		"pinned under %s\n",
		iface, att.xdp_mode, att.tc_mode, HS_PIN_DIR);

	if (metrics_addr) {
		struct metrics_src ms = {.ifindex = att.ifindex,
					 .enforce = co.load.enforce};
		struct bpf_prog_info info = {0};
		__u32 ilen = sizeof(info);

		map_fds_from_skel(skel, &ms.maps);
		ms.blocklist_fd = bpf_map__fd(skel->maps.blocklist);
		ms.tuple_rules_fd = bpf_map__fd(skel->maps.tuple_rules);
		if (!bpf_obj_get_info_by_fd(
			bpf_program__fd(skel->progs.xdp_ingress), &info, &ilen))
			ms.xdp_prog_id = info.id;
		metrics = metrics_start(metrics_addr, &ms, err, sizeof(err));
		if (!metrics) {
			cli_fail("%s", err);
			goto out; /* rolls back the attach */
		}
		fprintf(stderr, "hydrascope: metrics on http://%s/metrics\n",
			metrics_addr);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	{
		struct map_fds m;
		double start = mono_now(), next = start + (double)interval;
		double next_decide = start + (double)decide_every;

		map_fds_from_skel(skel, &m);

		while (!stop) {
			double now = mono_now();
			int n = ring_buffer__poll(rb, 200);

			if (n < 0 && n != -EINTR) {
				cli_fail("ring buffer poll failed: %s",
					 strerror(-n));
				break;
			}
			{
				struct collector_stats cs;

				collector_get_stats(coll, &cs);
				metrics_publish(metrics, &cs);
			}
			loader_block_hint_sync(
			    bpf_map__fd(skel->maps.blocklist),
			    bpf_map__fd(skel->maps.block_hint));
			if (now >= next_decide) {
				decide_now(skel, &m, coll, db, &co.corr, dlog);
				next_decide += (double)decide_every;
			}
			if (now >= next) {
				summary_line(&m, coll, &prev);
				next += (double)interval;
			}
			if (duration && now - start >= (double)duration)
				break;
		}
		ring_buffer__consume(rb);
		loader_detach(&att);
		collector_flush(coll);
		{
			struct report_ctx r = {stdout, fmt, &m, coll, db};

			report_all(&r, true, true);
			correlate(&r, &co.corr, NULL);
		}
	}
	rc = 0;
out:
	metrics_stop(metrics);
	loader_detach(&att);
	if (pinned)
		loader_unpin_maps(false);
	ring_buffer__free(rb);
	hydrascope__destroy(skel);
	collector_free(coll);
	p0f_db_free(db);
	if (have_pid)
		pidfile_release();
	if (dlog)
		fclose(dlog);
	return rc;
}
