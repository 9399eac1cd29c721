// SPDX-License-Identifier: BSD-2-Clause
/*
 * The CrowdSec options of run and replay: checked when parsed and
 * against each other, the credentials read and the import file created
 * before anything is loaded or attached, so that a mistake stops the
 * start with one line naming the flag or the file.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lapi.h"
#include "lib/safefile.h"
#include "output/crowdsec.h"

int crowdsec_opt_url(void *ctx, const char *val)
{
	struct crowdsec_cli *c = &((struct common_opts *)ctx)->crowdsec;
	char err[600];

	if (lapi_check_url(val, c->url, sizeof(c->url), err, sizeof(err)))
		return cli_fail("--crowdsec %s", err);
	c->url_arg = val;
	return 0;
}

int crowdsec_opt_credentials(void *ctx, const char *val)
{
	if (!*val)
		return cli_fail("--crowdsec-credentials needs a file");
	((struct common_opts *)ctx)->crowdsec.creds = val;
	return 0;
}

int crowdsec_opt_push(void *ctx, const char *val)
{
	(void)val;
	((struct common_opts *)ctx)->crowdsec.push = true;
	return 0;
}

int crowdsec_opt_dry_run_bans(void *ctx, const char *val)
{
	(void)val;
	((struct common_opts *)ctx)->crowdsec.dry_run_bans = true;
	return 0;
}

int crowdsec_opt_export(void *ctx, const char *val)
{
	size_t n = strlen(val);

	/* cscli decisions import takes the format from the name */
	if (n < 5 || strcmp(val + n - 4, ".csv"))
		return cli_fail("--crowdsec-export wants a FILE.csv (cscli "
				"decisions import reads the format from its "
				"name), got '%s'",
				val);
	((struct common_opts *)ctx)->crowdsec.export_path = val;
	return 0;
}

int crowdsec_opts_check(const struct crowdsec_cli *c)
{
	bool use = c->push || c->pull;

	if (use && !c->url_arg)
		return cli_fail("--crowdsec-%s needs --crowdsec URL (the LAPI)",
				c->push ? "push" : "pull");
	if (c->url_arg && !use)
		return cli_fail("--crowdsec %s: nothing to do without "
				"--crowdsec-push or --crowdsec-pull",
				c->url_arg);
	if (c->url_arg && !c->creds)
		return cli_fail("--crowdsec needs --crowdsec-credentials FILE");
	if (c->creds && !c->url_arg)
		return cli_fail("--crowdsec-credentials needs --crowdsec URL");
	if (c->dry_run_bans && !c->push)
		return cli_fail("--crowdsec-dry-run-bans goes with "
				"--crowdsec-push");
	return 0;
}

void crowdsec_conf_free(struct lapi_conf *l)
{
	if (!l)
		return;
	explicit_bzero(l, sizeof(*l));
	free(l);
}

struct lapi_conf *crowdsec_open(const struct crowdsec_cli *c, bool *failed)
{
	struct lapi_conf *l = NULL;
	char err[1024];

	*failed = true;
	if (c->url_arg) {
		l = calloc(1, sizeof(*l));
		if (!l) {
			cli_fail("out of memory");
			return NULL;
		}
		snprintf(l->url, sizeof(l->url), "%s", c->url);
		if (lapi_load_credentials(c->creds, l, err, sizeof(err))) {
			cli_fail("--crowdsec-credentials %s", err);
			goto fail;
		}
		if (c->push && (!l->login[0] || !l->password[0])) {
			cli_fail("--crowdsec-credentials %s: --crowdsec-push "
				 "needs login: and password: (cscli machines "
				 "add NAME -f FILE)",
				 c->creds);
			goto fail;
		}
		if (c->pull && !l->api_key[0]) {
			cli_fail("--crowdsec-credentials %s: --crowdsec-pull "
				 "needs api_key: (cscli bouncers add NAME -o "
				 "raw)",
				 c->creds);
			goto fail;
		}
		if (lapi_global_init()) {
			cli_fail("cannot initialise libcurl");
			goto fail;
		}
	}
	/* created now: a directory that cannot take it stops the start */
	if (c->export_path &&
	    safefile_replace(c->export_path, CROWDSEC_CSV_HEADER)) {
		cli_fail("--crowdsec-export %s: %s", c->export_path,
			 strerror(errno));
		goto fail;
	}
	*failed = false;
	return l;
fail:
	crowdsec_conf_free(l);
	return NULL;
}
