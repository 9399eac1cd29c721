/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared command-line helpers and the subcommand entry points. */
#ifndef HS_USER_CLI_H
#define HS_USER_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "correlate/correlate.h"
#include "datapath/loader.h"
#include "lib/addr.h"
#include "output/format.h"

struct asndb;
struct lapi_conf;
struct p0f_db;

#define MAX_ALLOW_OPTS 64

/* Print "hydrascope: <message>" to stderr; returns 2 (usage/config error). */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse an unsigned decimal in [min, max]; returns -1 if it is not one. */
int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Parse a tuple or TLS id: 16 hex digits, not zero; returns -1 if not. */
int cli_parse_tuple_id(const char *s, uint64_t *id);

/* CrowdSec (user/cli/crowdsec_opts.c): where the LAPI is, what to do
 * with it, and the import file. pull and pull_interval_s are run's. */
struct crowdsec_cli {
	const char *url_arg; /* --crowdsec, as given */
	char url[512];	     /* ... checked, without a trailing slash */
	const char *creds;   /* --crowdsec-credentials FILE */
	const char *export_path;
	bool push, dry_run_bans, pull;
	unsigned pull_interval_s;
};

/* Options shared by run and replay: map sizes, idle gap, p0f files. */
struct common_opts {
	struct load_opts load;
	const char *p0f_files[16];
	int n_p0f_files;
	bool no_default_p0f;
	struct corr_config corr; /* indicator thresholds (--config FILE) */
	const char *asn_db;	 /* --asn-db FILE */
	const char *log;	 /* --log FILE: JSON-lines records */
	struct cidr allow[MAX_ALLOW_OPTS]; /* --allow CIDR */
	int n_allow;
	uint64_t fp_budget; /* --fp-budget MB, in bytes */
	struct crowdsec_cli crowdsec;
};

void common_opts_init(struct common_opts *o);
/* --p0f-db FILE into a struct common_opts (cmd_show takes it too). */
int common_opt_p0f_db(void *co, const char *val);
/* The p0f databases in priority order: --p0f-db files, the project's
 * supplement (from the data directory), /etc/p0f/p0f.fp. A missing
 * supplement fails when strict (run, replay), else warns. */
struct p0f_db *common_load_p0f(const struct common_opts *o, bool strict);
/* The --asn-db database, NULL when none was given; *failed on error
 * (message printed). */
struct asndb *common_open_asndb(const struct common_opts *o, bool *failed);
/* Write the --allow prefixes into an allowlist map (the block_hint map
 * marked first). Returns 0 or -1 (message printed). */
int common_apply_allow(const struct common_opts *o, int allow_fd, int hint_fd);

/* The common CrowdSec options' handlers (ctx: struct common_opts). */
int crowdsec_opt_url(void *ctx, const char *val);
int crowdsec_opt_credentials(void *ctx, const char *val);
int crowdsec_opt_push(void *ctx, const char *val);
int crowdsec_opt_dry_run_bans(void *ctx, const char *val);
int crowdsec_opt_export(void *ctx, const char *val);
/* After parsing: the CrowdSec options agree with each other. 0 or 2
 * (message printed). */
int crowdsec_opts_check(const struct crowdsec_cli *c);
/* The credentials for what was asked (push: login and password; pull:
 * api_key) and libcurl; the import file is created. NULL when no LAPI
 * is used (*failed says whether that is an error, message printed). The
 * caller frees the result (it holds secrets: crowdsec_conf_free). */
struct lapi_conf *crowdsec_open(const struct crowdsec_cli *c, bool *failed);
void crowdsec_conf_free(struct lapi_conf *l);

/* "text" or "json"; -1 for anything else. */
int parse_format(const char *s, enum out_format *f);
/* --format's handler: 0, or 2 with the message printed. */
int cli_opt_format(enum out_format *f, const char *val);

int cmd_run(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_show(int argc, char **argv);   /* flows | sources | stats */
int cmd_status(int argc, char **argv); /* status | clusters */
int cmd_detach(int argc, char **argv);
int cmd_blocking(int argc, char **argv); /* block | allow | tuple */

#endif
