// SPDX-License-Identifier: BSD-2-Clause
#include "cli/session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "cli/cli.h"
#include "datapath/maps.h"
#include "decide/pipeline.h"
#include "fingerprint/asndb.h"
#include "fingerprint/tcpsig.h"
#include "hydrascope/abi.h" /* before the skeleton: its .rodata uses hs_config */
#include "hydrascope.skel.h"
#include "ingest/collector.h"
#include "lib/lapi.h"
#include "lib/paths.h"
#include "lib/safefile.h"
#include "output/crowdsec.h"
#include "output/records.h"
#include "output/report.h"
#include "output/summary.h"

/* Hello bytes waiting for their flow's later segments (collector.h). */
#define SESSION_PENDING_HELLOS 4096

int session_open_inputs(struct session *s, const struct common_opts *co)
{
	bool asn_failed, failed;

	memset(s, 0, sizeof(*s));
	s->co = co;
	s->p0f = common_load_p0f(co, true);
	if (!s->p0f)
		return 2;
	s->asn = common_open_asndb(co, &asn_failed);
	if (asn_failed)
		return 2;
	if (co->log && !(s->log = safefile_append(co->log)))
		return cli_fail("--log %s: %s", co->log, strerror(errno));
	s->lapi = crowdsec_open(&co->crowdsec, &failed);
	return failed ? 2 : 0;
}

/* This host's blocks out to a LAPI and/or the import file: a sink of
 * the records, as the fleet is. */
static int start_crowdsec(struct session *s)
{
	const struct common_opts *co = s->co;
	char origin[128];
	struct crowdsec_push_opts o = {
	    .lapi = co->crowdsec.push ? s->lapi : NULL,
	    .simulated = !co->load.enforce && !co->crowdsec.dry_run_bans,
	    .export_path = co->crowdsec.export_path,
	    .origin = origin,
	    .max_held = co->corr.max_blocks,
	};

	if (!co->crowdsec.push && !co->crowdsec.export_path)
		return 0;
	snprintf(origin, sizeof(origin), "%s/%s", envelope_host(),
		 *paths_instance() ? paths_instance() : "default");
	s->cs_push = crowdsec_push_new(&o);
	if (!s->cs_push) {
		cli_fail("out of memory for the CrowdSec exporter");
		return 1;
	}
	record_add_sink(&s->pl->out, crowdsec_push_sink(s->cs_push));
	if (o.lapi)
		fprintf(stderr, "hydrascope: crowdsec push to %s (%s)\n",
			s->lapi->url,
			o.simulated ? "simulated: dry-run" : "bans");
	return 0;
}

static int start_pipeline(struct session *s, const struct session_records *r)
{
	const struct common_opts *co = s->co;
	struct pipeline_opts po = {
	    .cfg = &co->corr,
	    .env = {s->coll, s->p0f, s->asn,
		    bpf_map__fd(s->skel->maps.tcp_sigs)},
	    .max_flows = co->load.flows,
	    .max_sources = co->load.sources,
	    .flows_fd = bpf_map__fd(s->skel->maps.flows),
	    .sources_fd = bpf_map__fd(s->skel->maps.sources),
	    .enforce = {bpf_map__fd(s->skel->maps.blocklist),
			bpf_map__fd(s->skel->maps.tuple_rules),
			bpf_map__fd(s->skel->maps.block_hint),
			bpf_map__fd(s->skel->maps.allowlist),
			bpf_map__fd(s->skel->maps.cuts)},
	    .allowlist_fd = bpf_map__fd(s->skel->maps.allowlist),
	    .out = {.out = r->out,
		    .fmt = r->fmt,
		    .log = s->log,
		    .env = {.iface = r->iface, .live = r->iface != NULL},
		    .max_listed = co->corr.max_listed_sources},
	    .adopt = r->adopt,
	    /* replay: the same records whatever the map's hash seed or the
	     * number of threads */
	    .ordered = !r->iface,
	};
	char err[512];

	envelope_refresh(&po.out.env);
	s->pl = pipeline_new(&po, err, sizeof(err));
	if (!s->pl) {
		cli_fail("%s", err);
		return 1;
	}
	if (!s->asn)
		record_note(&s->pl->out, "residential_proxy",
			    "not evaluated: no network database (--asn-db "
			    "FILE)",
			    0);
	return start_crowdsec(s);
}

int session_start(struct session *s, const struct session_records *r)
{
	const struct common_opts *co = s->co;
	char err[512];

	s->coll = collector_new(co->load.flows, SESSION_PENDING_HELLOS);
	if (!s->coll) {
		cli_fail("out of memory");
		return 1;
	}
	collector_set_fp_budget(s->coll, co->fp_budget);
	s->skel = loader_open_load(&co->load, err, sizeof(err));
	if (!s->skel) {
		cli_fail("%s", err);
		return 1;
	}
	if (common_apply_allow(co, bpf_map__fd(s->skel->maps.allowlist),
			       bpf_map__fd(s->skel->maps.block_hint)))
		return 1;
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events),
				 collector_on_event, s->coll, NULL);
	if (!s->rb) {
		cli_fail("cannot open the ring buffer: %s", strerror(errno));
		return 1;
	}
	if (start_pipeline(s, r))
		return 1;
	/* flow milestones: read by the same polls as the hellos */
	if (ring_buffer__add(s->rb, bpf_map__fd(s->skel->maps.flow_events),
			     corr_on_event, s->pl->corr)) {
		cli_fail("cannot open the flow event ring: %s",
			 strerror(errno));
		return 1;
	}
	return 0;
}

void session_finish(struct session *s, uint64_t now_ns)
{
	ring_buffer__consume(s->rb);
	collector_flush(s->coll);
	pipeline_finish(s->pl, now_ns);
}

int session_report(const struct session *s, FILE *out, enum out_format fmt,
		   bool flows, bool sources, uint64_t now_ns)
{
	struct map_fds m;
	struct report_ctx rep = {
	    out, fmt, &m, s->coll, s->p0f, s->pl->out.env, now_ns};

	envelope_refresh(&rep.env);
	map_fds_from_skel(s->skel, &m);
	return report_all(&rep, flows, sources) ? -1 : 0;
}

void session_summary(const struct session *s, FILE *out, enum out_format fmt,
		     uint64_t now_ns)
{
	struct map_fds m;

	map_fds_from_skel(s->skel, &m);
	summary_print(out, fmt, s->pl, m.stats, now_ns);
}

int session_reopen_log(struct session *s)
{
	FILE *f;

	if (!s->log)
		return 0;
	/* after a rotation too: never through a symlink planted meanwhile */
	f = safefile_append(s->co->log);
	if (!f) {
		fprintf(stderr,
			"hydrascope: --log %s: cannot reopen: %s; still "
			"writing to the file it had open\n",
			s->co->log, strerror(errno));
		return -1;
	}
	fclose(s->log);
	s->log = f;
	s->pl->out.log = f;
	return 0;
}

void session_close(struct session *s)
{
	crowdsec_push_free(s->cs_push);
	crowdsec_conf_free(s->lapi);
	pipeline_free(s->pl);
	ring_buffer__free(s->rb);
	hydrascope__destroy(s->skel);
	collector_free(s->coll);
	p0f_db_free(s->p0f);
	asndb_close(s->asn);
	if (s->log)
		fclose(s->log);
	memset(s, 0, sizeof(*s));
}
