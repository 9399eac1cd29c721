// SPDX-License-Identifier: BSD-2-Clause
/*
 * hydrascope replay FILE: the same BPF programs, driven by BPF_PROG_TEST_RUN
 * over the packets of a capture, each run at its capture time (testrun.h),
 * on --threads worker threads sharded by client address (shards.h).
 *
 * The correlator and the policy run on packet time, as they run on kernel
 * time live: indicators and decisions carry the packet time at which they
 * were raised, and decisions are written to the replay's own datapath maps
 * (dry-run unless --enforce), so that its would-drop counters show what
 * they would have stopped.
 *
 * Rounds are driven by packet time: the round due after a packet runs
 * once every packet before it has run on every thread (shards_sync) and
 * before any later one is handed over, so that it sees the maps and
 * writes its decisions exactly where a single thread would.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/session.h"
#include "datapath/loader.h"
#include "datapath/maps.h"
#include "datapath/testrun.h"
#include "decide/pipeline.h"
#include "hydrascope/abi.h" /* before the skeleton: its .rodata uses hs_config */
#include "hydrascope.skel.h"
#include "ingest/pcap_feed.h"
#include "ingest/shards.h"
#include "lib/hstime.h"
#include "lib/siphash.h"
#include "output/crowdsec.h"
#include "output/json_field.h"

#define MAX_LOCAL 32
/* Room for the hello segments of ~3,900 packets in flight on the replay
 * threads between two drains (shards.h), four times the live size. */
#define REPLAY_RINGBUF_BYTES (16u << 20)
#define MAX_PRESETS 32

/* A tuple rule given on the command line (--tuple-rule). */
struct preset_rule {
	uint64_t id;
	uint8_t kind; /* enum hs_rule_kind */
};

struct replay_args {
	struct common_opts co;
	const char *file;
	struct cidr local[MAX_LOCAL];
	const char *local_arg[MAX_LOCAL]; /* as given, for warnings */
	size_t nlocal;
	enum out_format fmt;
	bool no_flows, no_sources;
	struct cidr block[MAX_PRESETS]; /* --block */
	size_t nblock;
	struct preset_rule rule[MAX_PRESETS]; /* --tuple-rule */
	size_t nrule;
	bool seeded; /* --seed */
	uint64_t seed;
	unsigned threads; /* --threads, 0: one per online CPU */
};

/* Progress on stderr when it is a terminal, redrawn at most every
 * PROGRESS_NS; erased before each round, whose records may go to the
 * same terminal. */
#define PROGRESS_NS (250 * HS_NS_PER_MS)

struct progress {
	bool on, shown;
	uint64_t next_ns;
};

struct replay {
	struct session ses;
	struct shards *shards;
	struct progress prog;
	uint64_t read;		 /* packets read from the capture */
	uint64_t last_ts_ns;	 /* capture time of the last packet */
	struct shard_counts run; /* at the end */
};

static void progress_erase(struct progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = false;
}

static void progress_draw(struct replay *r, struct feed *feed, const char *file)
{
	uint64_t now = hs_clock_ns(CLOCK_MONOTONIC);
	int pct;

	if (now < r->prog.next_ns)
		return;
	r->prog.next_ns = now + PROGRESS_NS;
	pct = feed_progress(feed);
	fprintf(stderr, "\r\033[Kreplay %s: %llu packets", file,
		(unsigned long long)r->read);
	if (pct >= 0)
		fprintf(stderr, " (%d%%)", pct);
	r->prog.shown = true;
}

/* {"type":"replay", ...}: what was run, and the ingress verdicts */
static void print_replay_record(const struct replay *r, const char *file,
				uint64_t unsupported)
{
	json_object *o = json_object_new_object();
	const struct {
		const char *k;
		uint64_t v;
	} f[] = {
	    {"packets", r->run.packets},     {"ingress", r->run.ingress},
	    {"passed", r->run.passed},	     {"dropped", r->run.dropped},
	    {"egress", r->run.egress},	     {"not_run", r->run.run_errors},
	    {"truncated", r->run.truncated}, {"unsupported", unsupported}};

	json_set_str(o, "type", "replay");
	envelope_add(o, &r->ses.pl->out.env, r->last_ts_ns);
	json_set_str(o, "file", file);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		json_set_u64(o, f[i].k, f[i].v);
	printf("%s\n",
	       json_object_to_json_string_ext(
		   o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int opt_local_net(void *ctx, const char *val)
{
	struct replay_args *a = ctx;

	if (a->nlocal >= MAX_LOCAL || cidr_parse(val, &a->local[a->nlocal]))
		return cli_fail("--local-net wants a CIDR such as 10.0.0.0/8 "
				"(at most %d), got '%s'",
				MAX_LOCAL, val);
	a->local_arg[a->nlocal++] = val;
	return 0;
}

static int opt_enforce(void *ctx, const char *val)
{
	(void)val;
	((struct replay_args *)ctx)->co.load.enforce = true;
	return 0;
}

static int opt_format(void *ctx, const char *val)
{
	return cli_opt_format(&((struct replay_args *)ctx)->fmt, val);
}

static int opt_no_flows(void *ctx, const char *val)
{
	(void)val;
	((struct replay_args *)ctx)->no_flows = true;
	return 0;
}

static int opt_no_sources(void *ctx, const char *val)
{
	(void)val;
	((struct replay_args *)ctx)->no_sources = true;
	return 0;
}

static int opt_block(void *ctx, const char *val)
{
	struct replay_args *a = ctx;

	if (a->nblock >= MAX_PRESETS || cidr_parse(val, &a->block[a->nblock]))
		return cli_fail("--block wants a CIDR such as 203.0.113.0/24 "
				"(at most %d), got '%s'",
				MAX_PRESETS, val);
	a->nblock++;
	return 0;
}

static int opt_tuple_rule(void *ctx, const char *val)
{
	struct replay_args *a = ctx;
	struct preset_rule r = {0, HS_RULE_TUPLE};
	const char *hex = val;

	if (!strncmp(val, "tls:", 4)) {
		r.kind = HS_RULE_TLS;
		hex += 4;
	} else if (!strncmp(val, "tuple:", 6)) {
		hex += 6;
	}
	if (a->nrule >= MAX_PRESETS || cli_parse_tuple_id(hex, &r.id))
		return cli_fail("--tuple-rule wants [tls:|tuple:] and a "
				"16-hex-digit id (at most %d), got '%s'",
				MAX_PRESETS, val);
	a->rule[a->nrule++] = r;
	return 0;
}

/* --block and --tuple-rule, as `hydrascope block add` and `tuple add`
 * write them to a live datapath (manual, no expiry; the hint first for a
 * block, after for a rule): what an operator's rule would have done to
 * this capture. */
static int apply_presets(struct replay *r, const struct replay_args *a)
{
	int blocks = bpf_map__fd(r->ses.skel->maps.blocklist),
	    rules = bpf_map__fd(r->ses.skel->maps.tuple_rules),
	    hint = bpf_map__fd(r->ses.skel->maps.block_hint);
	struct hs_block b = {.reason = HS_R_MANUAL};
	size_t i;

	if (a->nblock && loader_hint_mark(hint, HINT_PREFIXES))
		return cli_fail("cannot mark block_hint: %s", strerror(errno));
	for (i = 0; i < a->nblock; i++) {
		struct hs_lpm_key k;

		cidr_lpm_key(&a->block[i], &k);
		if (bpf_map_update_elem(blocks, &k, &b, BPF_ANY))
			return cli_fail("cannot add --block: %s",
					strerror(errno));
	}
	for (i = 0; i < a->nrule; i++) {
		struct hs_tuple_rule t = {.reason = HS_R_MANUAL,
					  .kind = a->rule[i].kind};

		if (bpf_map_update_elem(rules, &a->rule[i].id, &t, BPF_ANY))
			return cli_fail("cannot add --tuple-rule: %s",
					strerror(errno));
	}
	if (a->nrule && loader_hint_mark(hint, HINT_RULES))
		return cli_fail("cannot mark block_hint: %s", strerror(errno));
	return 0;
}

static int opt_seed(void *ctx, const char *val)
{
	struct replay_args *a = ctx;

	if (cli_parse_u64(val, 0, UINT64_MAX, &a->seed))
		return cli_fail("--seed wants a number, got '%s'", val);
	a->seeded = true;
	return 0;
}

static int opt_threads(void *ctx, const char *val)
{
	uint64_t n;

	if (cli_parse_u64(val, 1, SHARDS_MAX, &n))
		return cli_fail("--threads wants a number of threads from 1 to "
				"%d, got '%s'",
				SHARDS_MAX, val);
	((struct replay_args *)ctx)->threads = (unsigned)n;
	return 0;
}

static const struct cli_option replay_options[] = {
    {"local-net", "CIDR",
     "prefix of the monitored host (repeatable); packets\n"
     "from it go through TC egress, others through XDP.\n"
     "Without it, endpoints that receive SYNs or\n"
     "ClientHellos are taken as the local servers.",
     opt_local_net},
    {"enforce", NULL,
     "the replay datapath drops what the blocking layer\n"
     "matches (default: dry-run, counts what would drop)",
     opt_enforce},
    {"block", "CIDR",
     "a manual prefix block in place from the first packet\n"
     "(repeatable)",
     opt_block},
    {"tuple-rule", "[tls:]ID",
     "a manual tuple rule (a TLS id with tls:) in place\n"
     "from the first packet (repeatable)",
     opt_tuple_rule},
    {"format", "text|json", "report format (default text)", opt_format},
    {"no-flows", NULL, "leave the flows out of the report", opt_no_flows},
    {"no-sources", NULL, "leave the sources out of the report", opt_no_sources},
    {"seed", "N",
     "hash keys of the userspace tables from N, not\n"
     "random: the same capture and N give the same\n"
     "records in the same order (keys known in\n"
     "advance: not for hostile captures)",
     opt_seed},
    {"threads", "N",
     "threads running packets through the datapath\n"
     "(default: one per online CPU, at most 16); the\n"
     "results are those of --threads 1",
     opt_threads},
    {0},
};

const struct cli_command cmd_replay_def = {
    .name = "replay",
    .synopsis = "FILE [options]",
    .about = "run a pcap/pcapng through the same programs",
    .detail = "Each packet of FILE goes through the datapath with "
	      "BPF_PROG_TEST_RUN at its\ncapture time; indicators and "
	      "decisions are printed as they are raised (packet\ntime), then "
	      "the report. Progress goes to stderr when it is a terminal.\n"
	      "Warns when a --local-net matched no packet, when the capture "
	      "holds no TCP SYN,\nor when a p0f file has no signature.\n",
    .opts = replay_options,
    .common = true,
    .positional = "FILE",
    .main = cmd_replay,
};

static int parse_args(int argc, char **argv, struct replay_args *a)
{
	int first,
	    rc = cli_parse(&cmd_replay_def, argc, argv, a, &a->co, &first);

	if (rc)
		return rc;
	if (crowdsec_opts_check(&a->co.crowdsec))
		return 2;
	if (first >= argc)
		return cli_fail(
		    "replay needs a capture file (see replay --help)");
	if (first + 1 < argc)
		return cli_fail("replay takes one capture file, got '%s' and "
				"'%s'",
				argv[first], argv[first + 1]);
	a->file = argv[first];
	/* the datapath keys a decapsulated packet's flow on its inner
	 * header, which the sharding does not read (it takes the outer
	 * addresses): one thread, then */
	if (a->co.load.decap) {
		if (a->threads > 1)
			return cli_fail("--threads %u: a replay with --decap "
					"runs on one thread",
					a->threads);
		a->threads = 1;
	}
	return 0;
}

static void print_replay_line(const struct replay *r, const char *file,
			      uint64_t unsupported)
{
	printf("replay %s: %llu packets (%llu in: %llu passed, %llu dropped; "
	       "%llu out), %llu not run, %llu truncated in capture, %llu "
	       "unsupported link layer\n",
	       file, (unsigned long long)r->run.packets,
	       (unsigned long long)r->run.ingress,
	       (unsigned long long)r->run.passed,
	       (unsigned long long)r->run.dropped,
	       (unsigned long long)r->run.egress,
	       (unsigned long long)r->run.run_errors,
	       (unsigned long long)r->run.truncated,
	       (unsigned long long)unsupported);
}

/* Every packet of the capture through the datapath, a round whenever one
 * is due by packet time. */
static int feed_all(struct replay *r, struct feed *feed, const char *file)
{
	struct feed_packet *pkt = malloc(sizeof(*pkt));
	char err[512];
	int n;

	if (!pkt) {
		cli_fail("out of memory");
		return 1;
	}
	while ((n = feed_next(feed, pkt, err, sizeof(err))) > 0) {
		uint64_t ts = pkt->ts_ns ? pkt->ts_ns : 1;

		if (shards_put(r->shards, pkt, ++r->read)) {
			n = -1;
			snprintf(err, sizeof(err), "out of memory");
			break;
		}
		if (ts > r->last_ts_ns)
			r->last_ts_ns = ts;
		if (pipeline_due(r->ses.pl, r->last_ts_ns)) {
			shards_sync(r->shards);
			/* its records may go to the progress' terminal */
			progress_erase(&r->prog);
		}
		pipeline_step(r->ses.pl, r->last_ts_ns);
		if (r->prog.on && !(r->read & 1023))
			progress_draw(r, feed, file);
	}
	shards_sync(r->shards);
	progress_erase(&r->prog);
	free(pkt);
	shards_counts(r->shards, &r->run);
	if (r->run.run_errors)
		fprintf(stderr, "hydrascope: packet %llu not run: %s\n",
			(unsigned long long)r->run.first_error,
			strerror(r->run.first_errno));
	if (n < 0) {
		cli_fail("%s", err);
		return 1;
	}
	return 0;
}

static void drain_ring(void *ctx)
{
	ring_buffer__consume(ctx);
}

/* One thread per online CPU by default, at most DEFAULT_THREADS_MAX: past
 * that the main thread (capture, fingerprints, rounds) is the limit. */
#define DEFAULT_THREADS_MAX 16

static unsigned default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1			 ? 1
	       : n > DEFAULT_THREADS_MAX ? DEFAULT_THREADS_MAX
					 : (unsigned)n;
}

/* Events of a ring buffer record, its 8-byte header included, at most. */
static size_t ring_room(const struct bpf_map *m, size_t event)
{
	return bpf_map__max_entries(m) / ((event + 8 + 7) / 8 * 8);
}

static int start_shards(struct replay *r, unsigned threads)
{
	struct shards_opts o = {
	    .threads = threads ? threads : default_threads(),
	    /* a hello segment: its header and up to HS_HELLO_CAP bytes */
	    .max_hellos = ring_room(r->ses.skel->maps.events,
				    sizeof(struct hs_hello_seg)),
	    .max_packets = ring_room(r->ses.skel->maps.flow_events,
				     sizeof(struct hs_flow_event)),
	    .drain = drain_ring,
	    .ctx = r->ses.rb,
	};
	char err[256];

	testrun_progs_from_skel(r->ses.skel, &o.progs);
	r->shards = shards_new(&o, err, sizeof(err));
	if (!r->shards) {
		cli_fail("%s", err);
		return 1;
	}
	return 0;
}

/* What the capture did not have that the results depend on. */
static void warn_missing(const struct replay *r, const struct replay_args *a,
			 const struct feed *feed)
{
	struct map_fds m;
	struct hs_stats st;

	for (size_t i = 0; i < a->nlocal; i++)
		if (!feed_local_matched(feed, i))
			fprintf(stderr,
				"hydrascope: warning: --local-net %s matched "
				"no packet of %s: its flows count as inbound, "
				"without the relay signal\n",
				a->local_arg[i], a->file);
	map_fds_from_skel(r->ses.skel, &m);
	if (r->run.packets && !stats_read(m.stats, &st) && !st.syn)
		fprintf(stderr,
			"hydrascope: warning: no TCP SYN in %s: no OS "
			"fingerprints or round-trip times (did the capture "
			"start after the handshakes?)\n",
			a->file);
}

int cmd_replay(int argc, char **argv)
{
	static char out_buf[1 << 20];
	struct replay_args a = {.fmt = FMT_TEXT};
	struct replay r = {.prog.on = isatty(STDERR_FILENO)};
	struct feed *feed = NULL;
	char err[512];
	int rc;

	common_opts_init(&a.co);
	a.co.load.replay = true;
	a.co.load.ringbuf_bytes = REPLAY_RINGBUF_BYTES;
	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (a.seeded)
		hs_sipkey_seed(a.seed);
	/* records and the report go out in 1 MB writes, not 4 KB ones (a
	 * terminal stays line-buffered); glibc takes the size only with a
	 * buffer, which must outlive every write to stdout */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf));
	rc = session_open_inputs(&r.ses, &a.co);
	if (rc)
		goto out;
	rc = 1;
	feed = feed_open(a.file, a.local, a.nlocal, err, sizeof(err));
	if (!feed) {
		rc = cli_fail("%s", err);
		goto out;
	}
	/* records are streamed as they are raised, the report follows */
	if (a.fmt == FMT_TEXT)
		printf("indicators and decisions (packet time):\n");
	if (session_start(&r.ses, &(struct session_records){stdout, a.fmt, NULL,
							    false}) ||
	    apply_presets(&r, &a))
		goto out;
	if (start_shards(&r, a.threads))
		goto out;
	rc = feed_all(&r, feed, a.file);
	if (rc)
		goto out;
	session_finish(&r.ses, r.last_ts_ns);
	if (r.ses.cs_push) {
		/* the blocks in force at the capture's end, for the time
		 * they have left then */
		uint64_t end = record_wall(&r.ses.pl->out, r.last_ts_ns);

		crowdsec_push_flush(r.ses.cs_push, end);
		crowdsec_push_export(r.ses.cs_push, end);
	}
	warn_missing(&r, &a, feed);
	if (a.fmt == FMT_TEXT)
		print_replay_line(&r, a.file, feed_skipped(feed));
	else
		print_replay_record(&r, a.file, feed_skipped(feed));
	if (session_report(&r.ses, stdout, a.fmt, !a.no_flows, !a.no_sources,
			   r.last_ts_ns)) {
		rc = 1;
		goto out;
	}
	session_summary(&r.ses, stdout, a.fmt, r.last_ts_ns);
	rc = r.run.run_errors ? 1 : 0;
out:
	shards_free(r.shards);
	session_close(&r.ses);
	feed_close(feed);
	return rc;
}
