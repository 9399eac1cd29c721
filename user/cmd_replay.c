// SPDX-License-Identifier: BSD-2-Clause
/*
 * hydrascope replay FILE: the same BPF programs, driven by BPF_PROG_TEST_RUN
 * over the packets of a capture, with each packet's capture time fed to the
 * datapath through a .bss global. Repeat is 1: a larger repeat makes the
 * kernel swap the XDP dispatcher on every call, which costs ~300 us.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "cli.h"
#include "collector.h"
#include "decide.h"
#include "hydrascope/abi.h" /* before the skeleton: its .rodata uses hs_config */
#include "hydrascope.skel.h"
#include "pcap_feed.h"
#include "report.h"

#define MAX_LOCAL 32

static const char usage[] =
    "usage: hydrascope replay FILE [options]\n"
    "  --local-net CIDR   prefix of the monitored host (repeatable); packets\n"
    "                     from it go through TC egress, others through XDP.\n"
    "                     Without it, endpoints that receive SYNs or\n"
    "                     ClientHellos are taken as the local servers.\n"
    "  --format text|json report format (default text)\n"
    "  --no-flows | --no-sources   leave a section out of the report\n";

struct replay {
	struct hydrascope *skel;
	struct ring_buffer *rb;
	struct collector *coll;
	uint64_t packets, ingress, egress, truncated, run_errors;
	uint64_t last_ts_ns; /* capture time of the last packet */
};

static int run_packet(struct replay *r, const struct feed_packet *p)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->frame,
		    .data_size_in = (__u32)p->len, .repeat = 1);
	int fd = p->dir == DIR_EGRESS
		     ? bpf_program__fd(r->skel->progs.tc_egress)
		     : bpf_program__fd(r->skel->progs.xdp_ingress);

	/* 0 means "live clock" to the datapath */
	r->skel->bss->replay_now_ns = p->ts_ns ? p->ts_ns : 1;
	if (bpf_prog_test_run_opts(fd, &o)) {
		r->run_errors++;
		return -1;
	}
	r->packets++;
	r->last_ts_ns = p->ts_ns;
	if (p->dir == DIR_EGRESS)
		r->egress++;
	else
		r->ingress++;
	r->truncated += p->truncated;
	ring_buffer__consume(r->rb);
	return 0;
}

int cmd_replay(int argc, char **argv)
{
	struct cidr local[MAX_LOCAL];
	struct common_opts co;
	enum out_format fmt = FMT_TEXT;
	const char *file = NULL;
	bool no_flows = false, no_sources = false;
	struct replay r = {0};
	struct feed *feed = NULL;
	struct feed_packet *pkt = NULL;
	struct p0f_db *db = NULL;
	size_t nlocal = 0;
	char err[512];
	int i, rc = 1;

	common_opts_init(&co);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i],
			   *val = i + 1 < argc ? argv[i + 1] : NULL;
		int c;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			printf("%s%s", usage, common_opts_help);
			return 0;
		}
		if (strncmp(a, "--", 2)) {
			if (file)
				return cli_fail(
				    "replay takes one capture file");
			file = a;
			continue;
		}
		a += 2;
		if (!strcmp(a, "no-flows")) {
			no_flows = true;
			continue;
		}
		if (!strcmp(a, "no-sources")) {
			no_sources = true;
			continue;
		}
		if (!strcmp(a, "no-default-p0f")) {
			co.no_default_p0f = true;
			continue;
		}
		if (!strcmp(a, "local-net")) {
			if (nlocal >= MAX_LOCAL || !val ||
			    cidr_parse(val, &local[nlocal]))
				return cli_fail("--local-net wants a CIDR such "
						"as 10.0.0.0/8, got '%s'",
						val ? val : "");
			nlocal++;
			i++;
			continue;
		}
		if (!strcmp(a, "format")) {
			if (!val || parse_format(val, &fmt))
				return cli_fail(
				    "--format wants text or json, got '%s'",
				    val ? val : "");
			i++;
			continue;
		}
		c = common_opt(&co, a, val);
		if (c < 0)
			return 2;
		if (c == 0)
			return cli_fail(
			    "unknown replay option --%s (see replay --help)",
			    a);
		i++;
	}
	if (!file)
		return cli_fail(
		    "replay needs a capture file (see replay --help)");

	db = common_load_p0f(&co);
	if (!db)
		return 2;
	feed = feed_open(file, local, nlocal, err, sizeof(err));
	if (!feed) {
		rc = cli_fail("%s", err);
		goto out;
	}
	r.coll = collector_new(co.load.flows, 4096);
	pkt = malloc(sizeof(*pkt));
	if (!r.coll || !pkt) {
		cli_fail("out of memory");
		goto out;
	}
	r.skel = loader_open_load(&co.load, err, sizeof(err));
	if (!r.skel) {
		cli_fail("%s", err);
		goto out;
	}
	r.rb = ring_buffer__new(bpf_map__fd(r.skel->maps.events),
				collector_on_event, r.coll, NULL);
	if (!r.rb) {
		cli_fail("cannot open the ring buffer: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		int n = feed_next(feed, pkt, err, sizeof(err));

		if (n < 0) {
			cli_fail("%s", err);
			goto out;
		}
		if (n == 0)
			break;
		if (run_packet(&r, pkt) && r.run_errors == 1)
			fprintf(stderr, "hydrascope: packet %llu not run: %s\n",
				(unsigned long long)(r.packets + r.run_errors),
				strerror(errno));
	}
	ring_buffer__consume(r.rb);
	collector_flush(r.coll);

	{
		struct map_fds m;
		struct report_ctx rep = {stdout, fmt, &m, r.coll, db};

		map_fds_from_skel(r.skel, &m);
		if (fmt == FMT_TEXT)
			printf("replay %s: %llu packets (%llu in, %llu out), "
			       "%llu not run, %llu truncated in capture, %llu "
			       "unsupported link layer\n",
			       file, (unsigned long long)r.packets,
			       (unsigned long long)r.ingress,
			       (unsigned long long)r.egress,
			       (unsigned long long)r.run_errors,
			       (unsigned long long)r.truncated,
			       (unsigned long long)feed_skipped(feed));
		json_object *found = json_object_new_array();
		/* replay reports decisions; it does not apply them */
		struct decide_target t = {.blocklist_fd = -1,
					  .allowlist_fd = -1,
					  .tuple_rules_fd = -1,
					  .hint_fd = -1,
					  .stamp_ns = r.last_ts_ns};

		if (report_all(&rep, !no_flows, !no_sources) ||
		    correlate(&rep, &co.corr, found) < 0) {
			json_object_put(found);
			goto out;
		}
		decide(&rep, &co.corr, found, &t);
		json_object_put(found);
	}
	rc = r.run_errors ? 1 : 0;
out:
	ring_buffer__free(r.rb);
	hydrascope__destroy(r.skel);
	collector_free(r.coll);
	feed_close(feed);
	free(pkt);
	p0f_db_free(db);
	return rc;
}
