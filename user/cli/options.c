// SPDX-License-Identifier: BSD-2-Clause
#include "cli/options.h"

#include <getopt.h>
#include <string.h>

#include "cli/cli.h"

#define MAX_OPTS 64
#define OPT_BASE 256 /* getopt_long vals above any short option */
#define HELP_COL 26

static size_t count(const struct cli_option *o)
{
	size_t n = 0;

	while (o && o[n].name)
		n++;
	return n;
}

/* The i-th option of cmd: its own first, then the common ones. */
static const struct cli_option *nth(const struct cli_command *cmd, size_t i,
				    bool *common)
{
	size_t own = count(cmd->opts);

	*common = i >= own;
	return *common ? &common_options[i - own] : &cmd->opts[i];
}

static int unknown(const struct cli_command *cmd, const char *arg)
{
	/* "--name=value": name the option, not its value */
	int len = (int)strcspn(arg, "=");
	size_t n = count(cmd->opts) + (cmd->common ? count(common_options) : 0);
	char alts[256] = "";
	int matches = 0;

	/* getopt_long takes a unique prefix; say when one was not unique */
	for (size_t i = 0; arg[0] == '-' && arg[1] == '-' && i < n; i++) {
		bool common;
		const struct cli_option *o = nth(cmd, i, &common);

		if (!strncmp(o->name, arg + 2, (size_t)len - 2)) {
			size_t used = strlen(alts);

			snprintf(alts + used, sizeof(alts) - used, "%s--%s",
				 matches++ ? ", " : "", o->name);
		}
	}
	if (matches > 1)
		return cli_fail("ambiguous %s option %.*s (%s)", cmd->name, len,
				arg, alts);
	return cli_fail("unknown %s option %.*s (see %s --help)", cmd->name,
			len, arg, cmd->name);
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv, void *ctx,
	      struct common_opts *co, int *first)
{
	struct option lo[MAX_OPTS + 2];
	size_t n = count(cmd->opts) + (cmd->common ? count(common_options) : 0);
	int c, idx;

	if (n > MAX_OPTS)
		return cli_fail("%s: too many options in its table", cmd->name);
	for (size_t i = 0; i < n; i++) {
		bool common;
		const struct cli_option *o = nth(cmd, i, &common);

		lo[i] = (struct option){
		    o->name, o->arg ? required_argument : no_argument, NULL,
		    OPT_BASE + (int)i};
	}
	lo[n] = (struct option){"help", no_argument, NULL, 'h'};
	lo[n + 1] = (struct option){0};
	/* ':' first: a missing value is told apart from an unknown option;
	 * 0 makes getopt start over (GNU) */
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, &idx)) != -1) {
		bool common;
		const struct cli_option *o;

		if (c == 'h') {
			cli_help(stdout, cmd);
			return 1;
		}
		if (c == ':') {
			o = nth(cmd, (size_t)(optopt - OPT_BASE), &common);
			return cli_fail(
			    "--%s needs a value (%s; see %s --help)", o->name,
			    o->arg, cmd->name);
		}
		if (c == '?')
			return unknown(cmd, argv[optind - 1]);
		o = nth(cmd, (size_t)(c - OPT_BASE), &common);
		if (o->set(common ? (void *)co : ctx, optarg))
			return 2;
	}
	*first = optind;
	return 0;
}

/* "  --name ARG   first line\n" and the further lines aligned under it. */
static void option_lines(FILE *out, const struct cli_option *o)
{
	char head[64];
	const char *h = o->help;
	int w;

	w = snprintf(head, sizeof(head), "  --%s%s%s", o->name,
		     o->arg ? " " : "", o->arg ? o->arg : "");
	fputs(head, out);
	do {
		size_t len = strcspn(h, "\n");

		fprintf(out, "%*s%.*s\n", w < HELP_COL ? HELP_COL - w : 1, "",
			(int)len, h);
		h += len + (h[len] == '\n');
		w = 0;
	} while (*h);
}

void cli_help(FILE *out, const struct cli_command *cmd)
{
	fprintf(out, "usage: hydrascope %s %s\n%s\n", cmd->name, cmd->synopsis,
		cmd->about);
	if (cmd->detail)
		fprintf(out, "\n%s", cmd->detail);
	if (count(cmd->opts) || cmd->common)
		fprintf(out, "\noptions:\n");
	for (size_t i = 0; i < count(cmd->opts); i++)
		option_lines(out, &cmd->opts[i]);
	for (size_t i = 0; cmd->common && i < count(common_options); i++)
		option_lines(out, &common_options[i]);
}

void cli_help_all(FILE *out)
{
	fprintf(out, "usage: hydrascope COMMAND [options]\n");
	for (size_t i = 0; cli_commands[i]; i++)
		fprintf(out, "  %-10s %s\n", cli_commands[i]->name,
			cli_commands[i]->about);
	fprintf(out, "Every command takes --instance NAME (anywhere): that "
		     "instance's own pins, pid\nand status files, for several "
		     "instances on one host.\n");
	fprintf(out, "Each command takes --help. hydrascope --version prints "
		     "the version; man hydrascope has it all.\n");
}
