/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Commands and their options as tables (after xdp-tools' params.h): one
 * entry per option gives getopt_long its long option, --help its line,
 * the man page its paragraph and the bash completion its word, so the
 * four never disagree. Both --opt=value and --opt value are accepted.
 */
#ifndef HS_USER_CLI_OPTIONS_H
#define HS_USER_CLI_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

struct common_opts;

struct cli_option {
	const char *name; /* long name, without "--" */
	/* metavariable: "FILE", "IF", "text|json" (the words are completed,
	 * FILE completes file names, IF interfaces); NULL for a flag */
	const char *arg;
	const char *help; /* '\n' starts another line */
	/* val is NULL for a flag. 0, or 2 with the message printed. */
	int (*set)(void *ctx, const char *val);
};

struct cli_command {
	const char *name;
	const char *synopsis; /* what follows the name in the usage line */
	const char *about;    /* one line */
	const char *detail;   /* paragraphs for --help and the man page */
	const struct cli_option *opts; /* ends with an entry without name */
	bool common;		       /* also takes common_options */
	/* completion of the first positional argument: words, "FILE", or
	 * NULL for none */
	const char *positional;
	int (*main)(int argc, char **argv);
};

/* Options of run and replay (ctx: struct common_opts). */
extern const struct cli_option common_options[];
/* Every command, in --help order; ends with NULL. */
extern const struct cli_command *const cli_commands[];

/* Parse argv[1..] of cmd (argv[0] is the command's name): options go to
 * their handlers with ctx (common_options with co); the positional
 * arguments are left, in order, at argv[*first..argc). Returns 0, 1 when
 * --help was printed, or 2 with a one-line message printed. */
int cli_parse(const struct cli_command *cmd, int argc, char **argv, void *ctx,
	      struct common_opts *co, int *first);
/* A command's --help: usage line, detail, options. */
void cli_help(FILE *out, const struct cli_command *cmd);
/* hydrascope --help: every command with its one line. */
void cli_help_all(FILE *out);
/* The man page hydrascope(8), roff. */
void cli_man(FILE *out);
/* The bash completion script. */
void cli_completion(FILE *out);

#endif
