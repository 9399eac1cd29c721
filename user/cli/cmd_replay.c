// SPDX-License-Identifier: BSD-2-Clause
/*
 * hydrascope replay FILE: the same BPF programs, driven by BPF_PROG_TEST_RUN
 * over the packets of a capture, with each packet's capture time fed to the
 * datapath through a .bss global. Repeat is 1: a larger repeat makes the
 * kernel swap the XDP dispatcher on every call, which costs ~300 us.
 *
 * The correlator and the policy run on packet time, as they run on kernel
 * time live: indicators and decisions carry the packet time at which they
 * were raised, and decisions are written to the replay's own datapath maps
 * (dry-run), so that its would-drop counters show what they would have
 * stopped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/session.h"
#include "decide/pipeline.h"
#include "hydrascope/abi.h" /* before the skeleton: its .rodata uses hs_config */
#include "hydrascope.skel.h"
#include "ingest/pcap_feed.h"
#include "output/json_field.h"

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
	struct session ses;
	uint64_t packets, ingress, egress, truncated, run_errors;
	uint64_t passed, dropped; /* ingress verdicts: XDP_PASS, XDP_DROP */
	uint64_t last_ts_ns;	  /* capture time of the last packet */
};

static int run_packet(struct replay *r, const struct feed_packet *p)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->frame,
		    .data_size_in = (__u32)p->len, .repeat = 1);
	int fd = p->dir == DIR_EGRESS
		     ? bpf_program__fd(r->ses.skel->progs.tc_egress)
		     : bpf_program__fd(r->ses.skel->progs.xdp_ingress);
	uint64_t ts = p->ts_ns ? p->ts_ns : 1; /* 0 means "live clock" */

	r->ses.skel->bss->replay_now_ns = ts;
	if (bpf_prog_test_run_opts(fd, &o)) {
		r->run_errors++;
		return -1;
	}
	r->packets++;
	if (ts > r->last_ts_ns)
		r->last_ts_ns = ts;
	if (p->dir == DIR_EGRESS) {
		r->egress++;
	} else {
		r->ingress++;
		r->passed += o.retval == XDP_PASS;
		r->dropped += o.retval == XDP_DROP;
	}
	r->truncated += p->truncated;
	ring_buffer__consume(r->ses.rb);
	pipeline_step(r->ses.pl, r->last_ts_ns);
	return 0;
}

/* {"type":"replay", ...}: what was run, and the ingress verdicts */
static void print_replay_record(const struct replay *r, const char *file,
				uint64_t unsupported)
{
	json_object *o = json_object_new_object();
	const struct {
		const char *k;
		uint64_t v;
	} f[] = {{"packets", r->packets},     {"ingress", r->ingress},
		 {"passed", r->passed},	      {"dropped", r->dropped},
		 {"egress", r->egress},	      {"not_run", r->run_errors},
		 {"truncated", r->truncated}, {"unsupported", unsupported}};

	json_set_str(o, "type", "replay");
	json_set_str(o, "file", file);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		json_set_u64(o, f[i].k, f[i].v);
	printf("%s\n",
	       json_object_to_json_string_ext(
		   o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int parse_args(int argc, char **argv, struct common_opts *co,
		      const char **file, struct cidr *local, size_t *nlocal,
		      enum out_format *fmt, bool *no_flows, bool *no_sources)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i],
			   *val = i + 1 < argc ? argv[i + 1] : NULL;
		int c;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			printf("%s%s", usage, common_opts_help);
			return 1;
		}
		if (strncmp(a, "--", 2)) {
			if (*file)
				return cli_fail(
				    "replay takes one capture file");
			*file = a;
			continue;
		}
		a += 2;
		if (!strcmp(a, "no-flows")) {
			*no_flows = true;
			continue;
		}
		if (!strcmp(a, "no-sources")) {
			*no_sources = true;
			continue;
		}
		if (!strcmp(a, "no-default-p0f")) {
			co->no_default_p0f = true;
			continue;
		}
		if (!strcmp(a, "local-net")) {
			if (*nlocal >= MAX_LOCAL || !val ||
			    cidr_parse(val, &local[*nlocal]))
				return cli_fail("--local-net wants a CIDR such "
						"as 10.0.0.0/8, got '%s'",
						val ? val : "");
			(*nlocal)++;
		} else if (!strcmp(a, "format")) {
			if (!val || parse_format(val, fmt))
				return cli_fail(
				    "--format wants text or json, got '%s'",
				    val ? val : "");
		} else {
			c = common_opt(co, a, val);
			if (c < 0)
				return 2;
			if (c == 0)
				return cli_fail("unknown replay option --%s "
						"(see replay --help)",
						a);
		}
		i++;
	}
	if (!*file)
		return cli_fail(
		    "replay needs a capture file (see replay --help)");
	return 0;
}

static void print_replay_line(const struct replay *r, const char *file,
			      uint64_t unsupported)
{
	printf("replay %s: %llu packets (%llu in: %llu passed, %llu dropped; "
	       "%llu out), %llu not run, %llu truncated in capture, %llu "
	       "unsupported link layer\n",
	       file, (unsigned long long)r->packets,
	       (unsigned long long)r->ingress, (unsigned long long)r->passed,
	       (unsigned long long)r->dropped, (unsigned long long)r->egress,
	       (unsigned long long)r->run_errors,
	       (unsigned long long)r->truncated,
	       (unsigned long long)unsupported);
}

static void copy_stream(FILE *from, FILE *to)
{
	char buf[4096];
	size_t n;

	rewind(from);
	while ((n = fread(buf, 1, sizeof(buf), from)) > 0)
		fwrite(buf, 1, n, to);
}

/* Every packet of the capture through the datapath, in capture order. */
static int feed_all(struct replay *r, struct feed *feed)
{
	struct feed_packet *pkt = malloc(sizeof(*pkt));
	char err[512];
	int n;

	if (!pkt) {
		cli_fail("out of memory");
		return 1;
	}
	while ((n = feed_next(feed, pkt, err, sizeof(err))) > 0)
		if (run_packet(r, pkt) && r->run_errors == 1)
			fprintf(
			    stderr, "hydrascope: packet %llu not run: %s\n",
			    (unsigned long long)(r->packets + r->run_errors),
			    strerror(errno));
	free(pkt);
	if (n < 0) {
		cli_fail("%s", err);
		return 1;
	}
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
	FILE *held = NULL;
	size_t nlocal = 0;
	char err[512];
	int rc;

	common_opts_init(&co);
	rc = parse_args(argc, argv, &co, &file, local, &nlocal, &fmt, &no_flows,
			&no_sources);
	if (rc)
		return rc == 1 ? 0 : rc;
	rc = session_open_inputs(&r.ses, &co);
	if (rc)
		goto out;
	rc = 1;
	feed = feed_open(file, local, nlocal, err, sizeof(err));
	if (!feed) {
		rc = cli_fail("%s", err);
		goto out;
	}
	/* text: records follow the report, so they are held until then */
	held = fmt == FMT_TEXT ? tmpfile() : stdout;
	if (!held) {
		cli_fail("cannot open a temporary file: %s", strerror(errno));
		goto out;
	}
	if (session_start(&r.ses,
			  &(struct session_records){held, fmt, 0, false}))
		goto out;
	rc = feed_all(&r, feed);
	if (rc)
		goto out;
	session_finish(&r.ses, r.last_ts_ns);
	if (fmt == FMT_TEXT)
		print_replay_line(&r, file, feed_skipped(feed));
	else
		print_replay_record(&r, file, feed_skipped(feed));
	if (session_report(&r.ses, stdout, fmt, !no_flows, !no_sources)) {
		rc = 1;
		goto out;
	}
	if (fmt == FMT_TEXT) {
		printf("indicators and decisions (packet time):\n");
		copy_stream(held, stdout);
	}
	session_summary(&r.ses, stdout, fmt);
	rc = r.run_errors ? 1 : 0;
out:
	session_close(&r.ses);
	feed_close(feed);
	if (held && held != stdout)
		fclose(held);
	return rc;
}
