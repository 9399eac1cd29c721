// SPDX-License-Identifier: BSD-2-Clause
#include "cli/cli.h"
#include "cli/options.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "fingerprint/asndb.h"
#include "fingerprint/tcpsig.h"
#include "hydrascope/abi.h"
#include "ingest/collector.h"
#include "lib/hstime.h"
#include "lib/version.h"

int cli_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hydrascope: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int cli_parse_tuple_id(const char *s, uint64_t *id)
{
	char *end;

	if (!s || strlen(s) != 16)
		return -1;
	errno = 0;
	*id = strtoull(s, &end, 16);
	return errno || *end || !*id ? -1 : 0;
}

void common_opts_init(struct common_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->load.flows = HS_DEFAULT_FLOWS;
	o->load.sources = HS_DEFAULT_SOURCES;
	o->load.sigs = HS_DEFAULT_SIGS;
	o->load.blocks = HS_DEFAULT_BLOCKS;
	corr_config_defaults(&o->corr);
	o->load.idle_gap_ns = 100ull * 1000 * 1000;
	o->fp_budget = COLLECTOR_FP_BUDGET;
}

static int opt_config(void *ctx, const char *val)
{
	struct common_opts *o = ctx;
	char err[512];

	/* corr_config_load names the file and line */
	if (corr_config_load(val, &o->corr, err, sizeof(err)))
		return cli_fail("--config %s", err);
	return 0;
}

static int opt_asn_db(void *ctx, const char *val)
{
	struct common_opts *o = ctx;

	if (!*val || access(val, R_OK))
		return cli_fail("--asn-db %s: %s", val,
				*val ? strerror(errno) : "missing file");
	o->asn_db = val;
	return 0;
}

static int opt_log(void *ctx, const char *val)
{
	struct common_opts *o = ctx;

	if (!*val)
		return cli_fail("--log needs a file");
	o->log = val;
	return 0;
}

static int opt_allow(void *ctx, const char *val)
{
	struct common_opts *o = ctx;

	if (o->n_allow >= MAX_ALLOW_OPTS ||
	    cidr_parse(val, &o->allow[o->n_allow]))
		return cli_fail("--allow wants a CIDR such as 10.0.0.0/8 (at "
				"most %d), got '%s'",
				MAX_ALLOW_OPTS, val);
	o->n_allow++;
	return 0;
}

static int opt_blocks(void *ctx, const char *val)
{
	struct common_opts *o = ctx;
	uint64_t v;

	if (cli_parse_u64(val, 16, 1ull << 24, &v))
		return cli_fail("--blocks wants a number from 16 to 16777216, "
				"got '%s'",
				val);
	o->load.blocks = (uint32_t)v;
	return 0;
}

static int table_size(const char *name, const char *val, uint32_t *out)
{
	uint64_t v;

	if (cli_parse_u64(val, 16, 1ull << 26, &v))
		return cli_fail("--%s wants a number from 16 to 67108864, got "
				"'%s'",
				name, val);
	*out = (uint32_t)v;
	return 0;
}

static int opt_flows(void *ctx, const char *val)
{
	return table_size("flows", val,
			  &((struct common_opts *)ctx)->load.flows);
}

static int opt_sources(void *ctx, const char *val)
{
	return table_size("sources", val,
			  &((struct common_opts *)ctx)->load.sources);
}

static int opt_idle_gap(void *ctx, const char *val)
{
	struct common_opts *o = ctx;
	uint64_t v;

	if (cli_parse_u64(val, 1, 3600 * 1000, &v))
		return cli_fail("--idle-gap wants milliseconds from 1 to "
				"3600000, got '%s'",
				val);
	o->load.idle_gap_ns = v * HS_NS_PER_MS;
	return 0;
}

/* --decap ipip,gre,gue:PORT: the encapsulations to open. */
static int opt_decap(void *ctx, const char *val)
{
	struct load_opts *l = &((struct common_opts *)ctx)->load;
	const char *p = val;
	uint64_t port;

	l->decap = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		char tok[16];

		if (!n || n >= sizeof(tok))
			goto bad;
		memcpy(tok, p, n);
		tok[n] = 0;
		if (!strcmp(tok, "ipip"))
			l->decap |= HS_DECAP_IPIP;
		else if (!strcmp(tok, "gre"))
			l->decap |= HS_DECAP_GRE;
		else if (!strncmp(tok, "gue:", 4) &&
			 !cli_parse_u64(tok + 4, 1, 65535, &port)) {
			l->decap |= HS_DECAP_GUE;
			l->gue_port = (uint16_t)port;
		} else {
			goto bad;
		}
		p += n + (p[n] == ',');
		if (p[-1] == ',' && !*p)
			goto bad;
	}
	if (l->decap)
		return 0;
bad:
	return cli_fail("--decap wants a list of ipip, gre and gue:PORT (such "
			"as ipip,gue:6080), got '%s'",
			val);
}

static int opt_fp_budget(void *ctx, const char *val)
{
	uint64_t v;

	if (cli_parse_u64(val, 1, 1u << 20, &v))
		return cli_fail(
		    "--fp-budget wants megabytes from 1 to 1048576, "
		    "got '%s'",
		    val);
	((struct common_opts *)ctx)->fp_budget = v << 20;
	return 0;
}

int common_opt_p0f_db(void *ctx, const char *val)
{
	struct common_opts *o = ctx;

	if (access(val, R_OK))
		return cli_fail("--p0f-db %s: %s", val, strerror(errno));
	if (o->n_p0f_files >= 14)
		return cli_fail("--p0f-db %s: at most 14 files", val);
	o->p0f_files[o->n_p0f_files++] = val;
	return 0;
}

static int opt_allow_evasive(void *ctx, const char *val)
{
	(void)val;
	((struct common_opts *)ctx)->load.allow_evasive = true;
	return 0;
}

static int opt_no_default_p0f(void *ctx, const char *val)
{
	(void)val;
	((struct common_opts *)ctx)->no_default_p0f = true;
	return 0;
}

const struct cli_option common_options[] = {
    {"flows", "N", "flow table entries (default 65536)", opt_flows},
    {"sources", "N", "source table entries (default 65536)", opt_sources},
    {"idle-gap", "MS", "client idle time that starts a new burst (default 100)",
     opt_idle_gap},
    {"blocks", "N", "blocklist entries (default 65536)", opt_blocks},
    {"config", "FILE",
     "indicator thresholds, key = value (hydrascope.conf.example)", opt_config},
    {"asn-db", "FILE",
     "MaxMind-format network database (residential_proxy,\n"
     "AS spread of clusters)",
     opt_asn_db},
    {"allow", "CIDR", "never block this prefix (repeatable)", opt_allow},
    {"log", "FILE",
     "append indicator and decision records (JSON lines);\n"
     "run reopens it on SIGHUP",
     opt_log},
    {"decap", "LIST",
     "open these encapsulations of a load balancer and\n"
     "profile the inner packet: ipip, gre, gue:PORT\n"
     "(comma-separated; default: none, counted)",
     opt_decap},
    {"allow-evasive-hellos", NULL,
     "flag, but do not cut, flows whose ClientHello no TLS\n"
     "stack sends (over 32 records or 64 segments, past the\n"
     "walk's budget), shaped to hide its fingerprint",
     opt_allow_evasive},
    {"fp-budget", "MB",
     "memory for SNIs and raw fingerprint strings;\n"
     "past it they are dropped and counted (default 64)",
     opt_fp_budget},
    {"p0f-db", "FILE",
     "extra p0f-format signatures, searched first (repeatable)",
     common_opt_p0f_db},
    {"no-default-p0f", NULL,
     "do not load the supplement (DATADIR/p0f/hydrascope.fp)\n"
     "and /etc/p0f/p0f.fp",
     opt_no_default_p0f},
    {"crowdsec", "URL",
     "a CrowdSec LAPI, http[s]://HOST:PORT (README: CrowdSec);\n"
     "with --crowdsec-push and/or (run) --crowdsec-pull",
     crowdsec_opt_url},
    {"crowdsec-credentials", "FILE",
     "login:/password: (cscli machines add -f FILE) and/or\n"
     "api_key: (cscli bouncers add); mode 600 or 640",
     crowdsec_opt_credentials},
    {"crowdsec-push", NULL,
     "push this host's prefix blocks to the LAPI as alerts with\n"
     "a ban (simulated in dry-run)",
     crowdsec_opt_push},
    {"crowdsec-dry-run-bans", NULL,
     "in dry-run, push real bans rather than simulated ones\n"
     "(CrowdSec's bouncers block what hydrascope finds)",
     crowdsec_opt_dry_run_bans},
    {"crowdsec-export", "FILE",
     "keep FILE.csv, the blocks in force in the form\n"
     "cscli decisions import -i FILE --scope '' takes",
     crowdsec_opt_export},
    {0},
};

#define P0F_SYSTEM_DB "/etc/p0f/p0f.fp"

/* A p0f file that parses but holds no [tcp:request] signature (an
 * fp file of another section, a truncated copy) labels nothing; say so
 * rather than let every OS label quietly fall back to the TTL. */
static void warn_empty(const struct p0f_db *db, const char *const *files,
		       size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!p0f_db_file_size(db, files[i]))
			fprintf(stderr,
				"hydrascope: warning: p0f file %s has no "
				"[tcp:request] signature\n",
				files[i]);
}

struct p0f_db *common_load_p0f(const struct common_opts *o, bool strict)
{
	const char *files[16];
	char sup[4096];
	size_t n = 0;
	char err[512];
	struct p0f_db *db;
	int i;

	for (i = 0; i < o->n_p0f_files; i++)
		files[n++] = o->p0f_files[i];
	if (!o->no_default_p0f) {
		/* without the supplement the same SYN gets another label;
		 * never let that depend on where the binary was started */
		if (hs_data_path("p0f/hydrascope.fp", sup, sizeof(sup))) {
			if (strict) {
				cli_fail("p0f supplement %s: %s (set "
					 "HYDRASCOPE_DATADIR, or run with "
					 "--no-default-p0f)",
					 sup, strerror(errno));
				return NULL;
			}
			fprintf(stderr,
				"hydrascope: warning: p0f supplement %s: %s; "
				"OS labels may differ\n",
				sup, strerror(errno));
		} else {
			files[n++] = sup;
		}
		if (!access(P0F_SYSTEM_DB, R_OK))
			files[n++] = P0F_SYSTEM_DB;
	}
	db = p0f_db_load(files, n, err, sizeof(err));
	if (!db)
		cli_fail("%s", err);
	else
		warn_empty(db, files, n);
	return db;
}

struct asndb *common_open_asndb(const struct common_opts *o, bool *failed)
{
	struct asndb *db;
	char err[512];

	*failed = false;
	if (!o->asn_db)
		return NULL;
	db = asndb_open(o->asn_db, err, sizeof(err));
	if (!db) {
		cli_fail("%s", err);
		*failed = true;
	}
	return db;
}

int common_apply_allow(const struct common_opts *o, int allow_fd, int hint_fd)
{
	/* the hint before the entries: never an allowlisted source the
	 * datapath would not look up */
	if (o->n_allow && loader_hint_mark(hint_fd, HINT_ALLOWS)) {
		cli_fail("cannot mark block_hint: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < o->n_allow; i++) {
		struct hs_lpm_key k;
		struct hs_allow v = {0};

		cidr_lpm_key(&o->allow[i], &k);
		if (bpf_map_update_elem(allow_fd, &k, &v, BPF_ANY)) {
			cli_fail("cannot add --allow entry: %s",
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

int cli_opt_format(enum out_format *f, const char *val)
{
	if (parse_format(val, f))
		return cli_fail("--format wants text or json, got '%s'", val);
	return 0;
}

int parse_format(const char *s, enum out_format *f)
{
	if (!strcmp(s, "text"))
		*f = FMT_TEXT;
	else if (!strcmp(s, "json"))
		*f = FMT_JSON;
	else
		return -1;
	return 0;
}
