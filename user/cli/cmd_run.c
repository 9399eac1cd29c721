// SPDX-License-Identifier: BSD-2-Clause
/*
 * hydrascope run --iface IF: load, attach XDP + TC egress, pin the maps,
 * consume the ring buffer; every eval_interval_s correlate, decide and
 * reconcile the blocking maps (user/pipeline.c); print a one-line summary
 * per interval. SIGINT/SIGTERM (or --duration) detach, unpin and print
 * the report. SIGUSR1 hands over instead: the process exits and leaves
 * the pinned links and maps to the next instance (`run --takeover`).
 * SIGHUP reopens --log (logrotate). Under systemd (Type=notify) READY=1
 * is sent once the datapath is attached. If
 * the process dies, the pinned datapath stays; the next `run` takes it
 * over in place and keeps its state.
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

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/publish.h"
#include "lib/paths.h"
#include "cli/session.h"
#include "datapath/maps.h"
#include "decide/crowdsec_pull.h"
#include "decide/pipeline.h"
#include "hydrascope/abi.h" /* before the skeleton: its .rodata uses hs_config */
#include "hydrascope.skel.h"
#include "ingest/collector.h"
#include "lib/hstime.h"
#include "lib/pidfile.h"
#include "output/crowdsec.h"
#include "output/fleet.h"
#include "lib/sdnotify.h"
#include "lib/privs.h"
#include "output/metrics.h"
#include "output/status.h"

static volatile sig_atomic_t stop, handover, reopen;

static void on_signal(int sig)
{
	if (sig == SIGHUP) {
		reopen = 1;
		return;
	}
	if (sig == SIGUSR1)
		handover = 1;
	stop = 1;
}

struct run_opts {
	struct common_opts co;
	enum xdp_mode_req mode;
	enum out_format fmt;
	const char *iface, *metrics_addr, *fleet_url;
	bool replace, takeover;
	uint64_t interval, duration;
};

static int opt_iface(void *ctx, const char *val)
{
	if (!*val)
		return cli_fail("--iface needs an interface name");
	((struct run_opts *)ctx)->iface = val;
	return 0;
}

static int opt_xdp_mode(void *ctx, const char *val)
{
	struct run_opts *o = ctx;

	if (!strcmp(val, "native"))
		o->mode = XDP_MODE_NATIVE;
	else if (!strcmp(val, "generic"))
		o->mode = XDP_MODE_GENERIC;
	else
		return cli_fail("--xdp-mode wants native or generic, got '%s'",
				val);
	return 0;
}

static int opt_replace(void *ctx, const char *val)
{
	(void)val;
	((struct run_opts *)ctx)->replace = true;
	return 0;
}

static int opt_takeover(void *ctx, const char *val)
{
	(void)val;
	((struct run_opts *)ctx)->takeover = true;
	return 0;
}

static int opt_enforce(void *ctx, const char *val)
{
	(void)val;
	((struct run_opts *)ctx)->co.load.enforce = true;
	return 0;
}

static int opt_metrics(void *ctx, const char *val)
{
	if (metrics_check_addr(val))
		return cli_fail(
		    "--metrics wants HOST:PORT such as "
		    "127.0.0.1:9477 or unix:/ABSOLUTE/PATH, got '%s'",
		    val);
	((struct run_opts *)ctx)->metrics_addr = val;
	return 0;
}

static int opt_fleet(void *ctx, const char *val)
{
	struct fleet_url u;
	char err[512];

	if (fleet_parse_url(val, &u, err, sizeof(err)))
		return cli_fail("%s", err);
	((struct run_opts *)ctx)->fleet_url = val;
	return 0;
}

static int opt_crowdsec_pull(void *ctx, const char *val)
{
	(void)val;
	((struct run_opts *)ctx)->co.crowdsec.pull = true;
	return 0;
}

static int opt_crowdsec_pull_interval(void *ctx, const char *val)
{
	uint64_t v;

	if (cli_parse_u64(val, 1, 3600, &v))
		return cli_fail("--crowdsec-pull-interval wants seconds from 1 "
				"to 3600, got '%s'",
				val);
	((struct run_opts *)ctx)->co.crowdsec.pull_interval_s = (unsigned)v;
	return 0;
}

static int opt_decide_interval(void *ctx, const char *val)
{
	uint64_t v;

	if (cli_parse_u64(val, 1, 3600, &v))
		return cli_fail("--decide-interval wants seconds from 1 to "
				"3600, got '%s'",
				val);
	((struct run_opts *)ctx)->co.corr.eval_interval_s = (unsigned)v;
	return 0;
}

static int opt_interval(void *ctx, const char *val)
{
	if (cli_parse_u64(val, 1, 86400, &((struct run_opts *)ctx)->interval))
		return cli_fail("--interval wants seconds from 1 to 86400, got "
				"'%s'",
				val);
	return 0;
}

static int opt_duration(void *ctx, const char *val)
{
	if (cli_parse_u64(val, 1, 365ull * 86400,
			  &((struct run_opts *)ctx)->duration))
		return cli_fail("--duration wants seconds (at least 1), got "
				"'%s'",
				val);
	return 0;
}

static int opt_format(void *ctx, const char *val)
{
	return cli_opt_format(&((struct run_opts *)ctx)->fmt, val);
}

static const struct cli_option run_options[] = {
    {"iface", "IF", "interface to attach to (ingress XDP, egress TC)",
     opt_iface},
    {"xdp-mode", "native|generic", "default: native, falling back to generic",
     opt_xdp_mode},
    {"replace", NULL, "take over a foreign XDP program on IF", opt_replace},
    {"takeover", NULL,
     "replace a running instance without a gap (it hands\n"
     "over its pinned links and maps)",
     opt_takeover},
    {"metrics", "HOST:PORT",
     "serve Prometheus metrics on http://HOST:PORT/metrics and\n"
     "a status page on / (its data: /status.json); unix:PATH\n"
     "serves them on a UNIX socket (mode 0660)",
     opt_metrics},
    {"fleet", "redis://[USER:PASS@]HOST:PORT[/DB]",
     "share cluster counts and decisions with the other\n"
     "ingress hosts through Redis (README: Fleet)",
     opt_fleet},
    {"crowdsec-pull", NULL,
     "bouncer: the LAPI's bans into the blocklist (with\n"
     "--crowdsec, --crowdsec-credentials; README: CrowdSec)",
     opt_crowdsec_pull},
    {"crowdsec-pull-interval", "SEC",
     "ask the LAPI's decision stream every SEC s (default 10)",
     opt_crowdsec_pull_interval},
    {"decide-interval", "SEC",
     "correlate and decide every SEC s (default: eval_interval_s, 10)",
     opt_decide_interval},
    {"enforce", NULL,
     "drop what the blocking layer matches (default: dry-run,\n"
     "count what would drop)",
     opt_enforce},
    {"interval", "SEC", "summary line period (default 10)", opt_interval},
    {"duration", "SEC", "stop after SEC seconds (default: until signalled)",
     opt_duration},
    {"format", "text|json", "report printed at exit (default text)",
     opt_format},
    {0},
};

const struct cli_command cmd_run_def = {
    .name = "run",
    .synopsis = "--iface IF [options]",
    .about = "attach to an interface and profile live traffic",
    .detail = "Loads the datapath, attaches XDP on ingress and TC on egress, "
	      "pins the maps under\n/sys/fs/bpf/hydrascope and correlates "
	      "every decide interval. SIGINT or SIGTERM\ndetach and print the "
	      "report; SIGUSR1 hands the datapath over to the next\ninstance "
	      "(run --takeover); SIGHUP reopens --log. Under systemd "
	      "(Type=notify)\nREADY=1 is sent once attached.\n",
    .opts = run_options,
    .common = true,
    .main = cmd_run,
};

static int parse_args(int argc, char **argv, struct run_opts *o)
{
	int first, rc = cli_parse(&cmd_run_def, argc, argv, o, &o->co, &first);

	if (rc)
		return rc;
	if (first < argc)
		return cli_fail("unexpected argument '%s' (see run --help)",
				argv[first]);
	if (crowdsec_opts_check(&o->co.crowdsec))
		return 2;
	if (!o->iface)
		return cli_fail("run needs --iface IF (see run --help)");
	if (!if_nametoindex(o->iface))
		return cli_fail("--iface %s: no such interface", o->iface);
	return 0;
}

static void summary_line(const struct map_fds *m, const struct collector *c,
			 const struct pipeline *pl, struct hs_stats *prev)
{
	struct collector_stats cs;
	struct corr_stats rs;
	struct enforce_stats es;
	struct hs_stats st;

	if (stats_read(m->stats, &st))
		return;
	collector_get_stats(c, &cs);
	corr_get_stats(pl->corr, &rs);
	enforcer_get_stats(pl->enf, &es);
	fprintf(
	    stderr,
	    "hydrascope: pkts=%llu (+%llu) syn=%llu tls_flows=%llu "
	    "hellos=%llu tls_rtt=%llu parse_err=%llu ringbuf_drops=%llu "
	    "farms=%zu relay_share=%.2f blocks=%zu/%zu rules=%zu drops=%llu "
	    "would_drop=%llu\n",
	    (unsigned long long)st.xdp_packets,
	    (unsigned long long)(st.xdp_packets - prev->xdp_packets),
	    (unsigned long long)st.syn, (unsigned long long)st.tls_flows,
	    (unsigned long long)cs.hellos,
	    (unsigned long long)st.tls_rtt_samples,
	    (unsigned long long)(st.err_eth + st.err_vlan + st.vlan_limit +
				 st.err_ipv4 + st.err_ipv6 + st.err_tcp +
				 st.ipv6_ext_limit + st.err_decap),
	    (unsigned long long)st.ringbuf_drops, rs.farm_clusters,
	    rs.relay_share, es.enforced_blocks, es.desired_blocks,
	    es.enforced_rules,
	    (unsigned long long)(st.block_drops + st.tuple_drops),
	    (unsigned long long)(st.block_would_drop + st.tuple_would_drop));
	*prev = st;
}

static struct metrics *start_metrics(const struct run_opts *o,
				     struct hydrascope *skel, char *err,
				     size_t errlen)
{
	struct metrics_src ms = {
	    .stats_fd = bpf_map__fd(skel->maps.stats),
	    .ifindex = (int)if_nametoindex(o->iface),
	    .enforce = o->co.load.enforce,
	    .max_blocks = o->co.corr.max_blocks,
	    .map_max = {bpf_map__max_entries(skel->maps.flows),
			bpf_map__max_entries(skel->maps.sources),
			bpf_map__max_entries(skel->maps.tcp_sigs)},
	    .blocklist_max = bpf_map__max_entries(skel->maps.blocklist),
	    .tuple_rules_max = bpf_map__max_entries(skel->maps.tuple_rules),
	    .iface = o->iface,
	    .asn_db = o->co.asn_db != NULL,
	    .decide_interval_s = o->co.corr.eval_interval_s,
	    .window_s = o->co.corr.window_s,
	};
	struct bpf_prog_info info = {0};
	__u32 ilen = sizeof(info);

	if (!bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.xdp_ingress),
				    &info, &ilen))
		ms.xdp_prog_id = info.id;
	return metrics_open(o->metrics_addr, &ms, err, errlen);
}

/* Remote decisions through the pipeline; the fleet counts the outcomes. */
static void apply_remote(void *ctx, struct json_object **recs, size_t n,
			 enum fleet_outcome *out)
{
	static const enum fleet_outcome map[] = {
	    [REMOTE_APPLIED] = FLEET_APPLIED,	  [REMOTE_HELD] = FLEET_HELD,
	    [REMOTE_ALLOWLISTED] = FLEET_REFUSED, [REMOTE_CAP] = FLEET_REFUSED,
	    [REMOTE_EXPIRED] = FLEET_EXPIRED,	  [REMOTE_WIDE] = FLEET_REFUSED,
	};
	enum remote_result res[PIPELINE_REMOTE_MAX];
	struct pipeline *pl = ctx;

	for (size_t at = 0; at < n; at += PIPELINE_REMOTE_MAX) {
		size_t k =
		    n - at < PIPELINE_REMOTE_MAX ? n - at : PIPELINE_REMOTE_MAX;

		pipeline_apply_remote(pl, recs + at, k,
				      hs_clock_ns(CLOCK_MONOTONIC), res);
		for (size_t i = 0; i < k; i++)
			out[at + i] = map[res[i]];
	}
}

static void main_loop(const struct run_opts *o, struct session *s,
		      struct publisher *pub, const struct attachment *att,
		      struct fleet *fl, struct crowdsec_pull *cs_pull)
{
	struct pipeline *pl = s->pl;
	struct map_fds m;
	struct hs_stats prev = {0};
	uint64_t start = hs_clock_ns(CLOCK_MONOTONIC);
	uint64_t next_line = start + hs_sec_ns(o->interval);

	map_fds_from_skel(s->skel, &m);
	while (!stop) {
		uint64_t now;
		int n = ring_buffer__poll(s->rb, 200);

		if (n < 0 && n != -EINTR) {
			cli_fail("ring buffer poll failed: %s", strerror(-n));
			break;
		}
		/* flow events wake no one (bpf/track.h flow_report): read
		 * them at every turn, and so before a round */
		ring_buffer__consume(s->rb);
		if (reopen) {
			reopen = 0;
			session_reopen_log(s);
		}
		now = hs_clock_ns(CLOCK_MONOTONIC);
		if (pipeline_step(pl, now)) {
			if (s->cs_push)
				crowdsec_push_export(
				    s->cs_push, envelope_now(&pl->out.env, 0));
			publisher_round(pub, s, fl, cs_pull, now);
			status_publish(pl, m.stats, att, o->co.load.enforce);
		}
		if (fl)
			fleet_poll(fl, now, apply_remote, pl);
		if (cs_pull)
			crowdsec_pull_poll(cs_pull, pl, now);
		if (s->cs_push)
			crowdsec_push_poll(s->cs_push, now,
					   envelope_now(&pl->out.env, 0));
		if (now >= next_line) {
			summary_line(&m, s->coll, pl, &prev);
			next_line += hs_sec_ns(o->interval);
		}
		if (o->duration && now - start >= hs_sec_ns(o->duration))
			break;
	}
}

/* Everything that can fail before the datapath is attached; the attach
 * is the last step, so nothing needs undoing after it. Then the daemon
 * gives up what it no longer needs, and only then starts the metrics
 * thread (it inherits the reduced capabilities). */
static int start(struct run_opts *o, struct session *s, struct metrics **mx,
		 struct publisher *pub, bool *pinned, struct attachment *att)
{
	struct hydrascope *skel = s->skel;
	char err[512];

	/* reused blocks are enforced from the first packet */
	loader_hint_sync(bpf_map__fd(skel->maps.block_hint),
			 bpf_map__fd(skel->maps.blocklist),
			 bpf_map__fd(skel->maps.allowlist),
			 bpf_map__fd(skel->maps.tuple_rules),
			 bpf_map__fd(skel->maps.cuts));
	if (loader_pin_maps(skel, err, sizeof(err)))
		return cli_fail("%s", err);
	*pinned = true;
	if (o->metrics_addr) {
		*mx = start_metrics(o, skel, err, sizeof(err));
		if (!*mx ||
		    publisher_start(pub, *mx, s, o->iface, o->co.load.enforce,
				    err, sizeof(err)))
			return cli_fail("%s", err);
	}
	if (loader_attach(skel, o->iface, o->mode, o->replace, att, err,
			  sizeof(err)))
		return cli_fail("%s", err);
	if (privs_drop(err, sizeof(err)))
		return cli_fail("%s", err);
	if (*mx && metrics_serve(*mx, err, sizeof(err)))
		return cli_fail("%s", err);
	fprintf(stderr,
		"hydrascope: %s %s (XDP %s, TC egress %s), maps pinned under "
		"%s\n",
		att->xdp_took_over ? "took over the datapath on"
				   : "attached to",
		o->iface, att->xdp_mode, att->tc_mode, paths_pin_dir());
	metrics_set_modes(*mx, att->xdp_mode, att->tc_mode);
	if (*mx)
		fprintf(stderr,
			"hydrascope: metrics on %s%s/metrics, status page on "
			"/\n",
			strncmp(o->metrics_addr, "unix:", 5) ? "http://" : "",
			o->metrics_addr);
	/* ready means attached: units ordered after this one start with
	 * the interface covered */
	snprintf(err, sizeof(err), "READY=1\nSTATUS=attached to %s (XDP %s)",
		 o->iface, att->xdp_mode ? att->xdp_mode : "?");
	if (sd_notify_state(err))
		fprintf(stderr, "hydrascope: warning: cannot notify systemd "
				"($NOTIFY_SOCKET)\n");
	return 0;
}

/* The fleet transport beside the pipeline: the correlator's slices and
 * this host's decisions go out through it, the fleet's counts and the
 * other hosts' decisions come back. */
static struct fleet *start_fleet(const struct run_opts *o, struct pipeline *pl)
{
	char host[64] = "localhost", origin[128], err[512];
	struct fleet_opts fo = {
	    .url = o->fleet_url,
	    .origin = origin,
	    .window_s = o->co.corr.window_s,
	    .max_members = o->co.corr.max_members,
	};
	struct corr_fleet hooks;
	struct fleet *fl;

	gethostname(host, sizeof(host) - 1);
	snprintf(origin, sizeof(origin), "%s/%s", host,
		 *paths_instance() ? paths_instance() : "default");
	fl = fleet_new(&fo, err, sizeof(err));
	if (!fl) {
		cli_fail("%s", err);
		return NULL;
	}
	hooks = fleet_corr_hooks(fl);
	corr_set_fleet(pl->corr, &hooks);
	record_add_sink(&pl->out, fleet_record_sink(fl));
	pl->fleet = fl;
	fprintf(stderr, "hydrascope: fleet %s as %s\n", o->fleet_url, origin);
	return fl;
}

/* Bouncer mode: the LAPI's decision stream into the pipeline. */
static struct crowdsec_pull *start_pull(const struct run_opts *o,
					struct session *s)
{
	unsigned every = o->co.crowdsec.pull_interval_s
			     ? o->co.crowdsec.pull_interval_s
			     : 10;
	struct crowdsec_pull *p = crowdsec_pull_new(s->lapi, every);

	if (!p) {
		cli_fail("out of memory for the CrowdSec bouncer");
		return NULL;
	}
	fprintf(stderr, "hydrascope: crowdsec pull from %s every %u s\n",
		s->lapi->url, every);
	return p;
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o = {.fmt = FMT_TEXT, .interval = 10};
	struct metrics *metrics = NULL;
	struct publisher pub = {0};
	struct session ses = {0};
	struct fleet *fleet = NULL;
	struct crowdsec_pull *cs_pull = NULL;
	struct attachment att = {.xdp_link_fd = -1, .tc_link_fd = -1};
	bool pinned = false, have_pid = false;
	/* live: records go to the log; stdout keeps the exit report */
	struct session_records recs = {
	    .fmt = FMT_JSON,
	    .adopt = true,
	};
	char err[512];
	int rc;

	common_opts_init(&o.co);
	o.co.load.reuse_pins = true;
	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : rc;
	recs.iface = o.iface;
	/* until attached: a start-up error */
	rc = session_open_inputs(&ses, &o.co);
	if (rc)
		goto out;
	rc = 2;
	if (o.takeover &&
	    pidfile_signal(paths_pidfile(), SIGUSR1, 10000, err, sizeof(err))) {
		cli_fail("%s", err);
		goto out;
	}
	if (pidfile_claim(paths_pidfile(), err, sizeof(err))) {
		cli_fail("%s", err);
		goto out;
	}
	have_pid = true;
	if (bpffs_ensure(err, sizeof(err))) {
		cli_fail("%s", err);
		goto out;
	}
	/* before READY=1: a reload (SIGHUP) may follow it at once, and
	 * SIGHUP's default would end the process */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	signal(SIGHUP, on_signal);
	if (session_start(&ses, &recs) ||
	    (o.fleet_url && !(fleet = start_fleet(&o, ses.pl))) ||
	    (o.co.crowdsec.pull && !(cs_pull = start_pull(&o, &ses))) ||
	    start(&o, &ses, &metrics, &pub, &pinned, &att))
		goto out;
	main_loop(&o, &ses, &pub, &att, fleet, cs_pull);
	sd_notify_state("STOPPING=1");
	status_remove();
	ring_buffer__consume(ses.rb);
	if (handover) {
		/* the next instance takes the pinned links and maps over */
		loader_release(&att);
		pinned = false;
		fprintf(stderr, "hydrascope: handed the datapath over\n");
	} else {
		loader_detach(&att);
	}
	session_finish(&ses, hs_clock_ns(CLOCK_MONOTONIC));
	if (fleet) /* the last round's decisions still go out (bounded) */
		fleet_poll(fleet, hs_clock_ns(CLOCK_MONOTONIC), apply_remote,
			   ses.pl);
	if (ses.cs_push) { /* so do the CrowdSec ones, and the file */
		crowdsec_push_flush(ses.cs_push,
				    envelope_now(&ses.pl->out.env, 0));
		crowdsec_push_export(ses.cs_push,
				     envelope_now(&ses.pl->out.env, 0));
	}
	session_report(&ses, stdout, o.fmt, true, true,
		       hs_clock_ns(CLOCK_MONOTONIC));
	session_summary(&ses, stdout, o.fmt, hs_clock_ns(CLOCK_MONOTONIC));
	rc = 0;
out:
	metrics_stop(metrics);
	loader_detach(&att);
	if (pinned)
		loader_unpin_maps(false);
	session_close(&ses);
	publisher_free(&pub); /* after the pipeline: its tap points here */
	fleet_free(fleet);
	crowdsec_pull_free(cs_pull);
	if (have_pid)
		pidfile_release();
	return rc;
}
