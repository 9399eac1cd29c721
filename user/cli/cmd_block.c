// SPDX-License-Identifier: BSD-2-Clause
/*
 * hydrascope block|allow|tuple list|add|del: the blocking layer's pinned
 * maps (the same entries `bpftool map dump pinned ...` shows).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "lib/addr.h"
#include "lib/paths.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "hydrascope/abi.h"
#include "datapath/loader.h"
#include "lib/hstime.h"
#include "output/envelope.h"

static int open_pinned(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", paths_pin_dir(), name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		cli_fail("cannot open %s: %s (start 'hydrascope run' first)",
			 path, strerror(errno));
	return fd;
}

static void print_expiry(FILE *o, uint64_t expires, uint64_t now, bool json)
{
	if (!expires)
		fprintf(o, json ? "null" : "never");
	else if (expires <= now)
		fprintf(o, json ? "0" : "expired");
	else
		fprintf(o, json ? "%" PRIu64 : "%" PRIu64 "s",
			(uint64_t)((expires - now + HS_NS_PER_SEC - 1) /
				   HS_NS_PER_SEC));
}

/* The record envelope of a JSON list line (output/envelope.h): the maps
 * are shared by whatever instance runs, so no interface; an expiry also
 * as wall clock (the map holds kernel time). */
static void list_envelope(uint64_t expires, uint64_t now)
{
	uint64_t wall = hs_clock_ns(CLOCK_REALTIME);
	char t[40];

	time_rfc3339(wall, t, sizeof(t));
	printf(",\"timestamp\":\"%s\",\"host\":\"%s\",\"iface\":null,"
	       "\"schema\":%d",
	       t, envelope_host(), HS_RECORD_SCHEMA);
	if (expires) {
		time_rfc3339(wall + (expires > now ? expires - now : 0), t,
			     sizeof(t));
		printf(",\"expires\":\"%s\"", t);
	}
}

struct opts {
	uint64_t ttl_s, min_gap_ms;
	bool json;
	bool tls; /* the ID is a TLS id (--on tls) */
};

static int opt_ttl(void *ctx, const char *val)
{
	if (cli_parse_u64(val, 1, 365ull * 86400, &((struct opts *)ctx)->ttl_s))
		return cli_fail("--ttl wants seconds from 1 to 31536000, got "
				"'%s'",
				val);
	return 0;
}

static int opt_min_gap(void *ctx, const char *val)
{
	if (cli_parse_u64(val, 1, 60000, &((struct opts *)ctx)->min_gap_ms))
		return cli_fail("--min-gap-ms wants 1 to 60000, got '%s'", val);
	return 0;
}

static int opt_on(void *ctx, const char *val)
{
	if (strcmp(val, "tuple") && strcmp(val, "tls"))
		return cli_fail("--on wants tuple or tls, got '%s'", val);
	((struct opts *)ctx)->tls = !strcmp(val, "tls");
	return 0;
}

static int opt_format(void *ctx, const char *val)
{
	enum out_format f;

	if (cli_opt_format(&f, val))
		return 2;
	((struct opts *)ctx)->json = f == FMT_JSON;
	return 0;
}

#define OPT_FORMAT                                                             \
	{                                                                      \
		"format", "text|json", "list: output format", opt_format       \
	}
#define OPT_TTL                                                                \
	{                                                                      \
		"ttl", "SEC", "add: lapse after SEC seconds (default: never)", \
		    opt_ttl                                                    \
	}

static const struct cli_option block_options[] = {OPT_TTL, OPT_FORMAT, {0}};
static const struct cli_option allow_options[] = {OPT_FORMAT, {0}};
static const struct cli_option tuple_options[] = {
    OPT_TTL,
    {"min-gap-ms", "N", "add: cut only flows with a relay gap of at least N ms",
     opt_min_gap},
    {"on", "tuple|tls",
     "add: ID is a tuple id (default) or a TLS id (any SYN stack)", opt_on},
    OPT_FORMAT,
    {0},
};

const struct cli_command cmd_block_def = {
    .name = "block",
    .synopsis = "list | add CIDR [--ttl SEC] | del CIDR",
    .about = "prefix blocks of the running datapath",
    .detail = "A prefix block lapses in the kernel at its expiry, even if "
	      "no daemon runs.\n",
    .opts = block_options,
    .positional = "list add del",
    .main = cmd_blocking,
};

const struct cli_command cmd_allow_def = {
    .name = "allow",
    .synopsis = "list | add CIDR | del CIDR",
    .about = "the allowlist, which always wins over blocks",
    .detail = "Adding a prefix lifts the blocks inside it at once.\n",
    .opts = allow_options,
    .positional = "list add del",
    .main = cmd_blocking,
};

const struct cli_command cmd_tuple_def = {
    .name = "tuple",
    .synopsis = "list | add ID [--ttl SEC] [--min-gap-ms N] [--on tuple|tls] | "
		"del ID",
    .about = "tuple rules: cut the flows of a fingerprint tuple",
    .detail = "ID is the 16-hex-digit tuple id that records and "
	      "`hydrascope flows` show.\n",
    .opts = tuple_options,
    .positional = "list add del",
    .main = cmd_blocking,
};

static int prefix_list(int fd, const char *what, bool json, bool blocks)
{
	struct hs_lpm_key k, *prev = NULL;
	uint64_t now = hs_clock_ns(CLOCK_MONOTONIC);
	char s[64];

	while (bpf_map_get_next_key(fd, prev, &k) == 0) {
		struct hs_block b = {0};
		struct hs_allow al = {0};

		if (bpf_map_lookup_elem(
			fd, &k, blocks ? (void *)&b : (void *)&al) == 0) {
			lpm_key_str(&k, s, sizeof(s));
			if (json) {
				printf("{\"type\":\"%s\"", what);
				list_envelope(blocks ? b.expires_ns : 0, now);
				printf(",\"prefix\":\"%s\"", s);
				if (blocks) {
					printf(",\"expires_in_s\":");
					print_expiry(stdout, b.expires_ns, now,
						     true);
					printf(",\"reason\":\"%s\"",
					       b.reason == HS_R_INDICATOR
						   ? "indicator"
						   : "manual");
				}
				printf("}\n");
			} else {
				printf("%-43s", s);
				if (blocks) {
					printf(" expires=");
					print_expiry(stdout, b.expires_ns, now,
						     false);
					printf(" reason=%s",
					       b.reason == HS_R_INDICATOR
						   ? "indicator"
						   : "manual");
				}
				printf("\n");
			}
		}
		prev = &k;
	}
	return 0;
}

/* Tell the running datapath what the blocking maps may hold (its
 * block_hint; none pinned: no datapath runs, the next start syncs it). */
static int mark_hint(enum hint_field f)
{
	char path[256];
	int fd, rc;

	loader_pin_path("block_hint", path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	rc = loader_hint_mark(fd, f);
	close(fd);
	return rc;
}

/* Remove the blocks that lie inside an allowed prefix. */
static unsigned lift_covered_blocks(const struct cidr *allow)
{
	struct hs_lpm_key k, next;
	unsigned lifted = 0;
	int fd = open_pinned("blocklist");
	bool have = false;

	if (fd < 0)
		return 0;
	while (bpf_map_get_next_key(fd, have ? &k : NULL, &next) == 0) {
		struct hs_addr a;

		memcpy(a.b, next.addr, 16);
		k = next;
		have = true;
		if (next.prefixlen >= allow->plen && cidr_contains(allow, &a) &&
		    bpf_map_delete_elem(fd, &next) == 0) {
			lifted++;
			have = false; /* the walk restarts after a delete */
		}
	}
	close(fd);
	return lifted;
}

static int cmd_prefix(int argc, char **argv, const struct opts *o, bool blocks)
{
	const char *map = blocks ? "blocklist" : "allowlist";
	const char *what = blocks ? "block" : "allow";
	struct cidr c;
	struct hs_lpm_key k;
	int fd, rc = 0;

	if (argc < 1)
		return cli_fail("%s needs list, add or del (see %s --help)",
				what, what);
	if (!strcmp(argv[0], "list")) {
		if ((fd = open_pinned(map)) < 0)
			return 1;
		prefix_list(fd, what, o->json, blocks);
		close(fd);
		return 0;
	}
	if (strcmp(argv[0], "add") && strcmp(argv[0], "del"))
		return cli_fail("%s: unknown action '%s' (list, add, del)",
				what, argv[0]);
	if (argc < 2 || cidr_parse(argv[1], &c))
		return cli_fail(
		    "%s %s wants a CIDR such as 198.51.100.0/24, got '%s'",
		    what, argv[0], argc < 2 ? "" : argv[1]);
	if (argc > 2)
		return cli_fail("%s %s takes one CIDR, got also '%s'", what,
				argv[0], argv[2]);
	if ((fd = open_pinned(map)) < 0)
		return 1;
	cidr_lpm_key(&c, &k);
	if (!strcmp(argv[0], "del")) {
		if (bpf_map_delete_elem(fd, &k))
			rc = cli_fail("%s: no entry %s", map, argv[1]);
	} else if (blocks) {
		struct hs_block b = {.reason = HS_R_MANUAL};

		if (o->ttl_s)
			b.expires_ns =
			    hs_clock_ns(CLOCK_MONOTONIC) + hs_sec_ns(o->ttl_s);
		/* the datapath must know the trie is no longer empty */
		if (mark_hint(HINT_PREFIXES))
			rc = cli_fail("cannot update block_hint: %s",
				      strerror(errno));
		else if (bpf_map_update_elem(fd, &k, &b, BPF_ANY))
			rc = cli_fail(
			    "cannot add %s: %s%s", argv[1], strerror(errno),
			    errno == ENOSPC ? " (blocklist full, see --blocks)"
					    : "");
	} else {
		struct hs_allow al = {.added_ns = hs_clock_ns(CLOCK_MONOTONIC)};

		/* before the entry: an allowlisted source must never meet a
		 * hint that says the allowlist is empty */
		if (mark_hint(HINT_ALLOWS))
			rc = cli_fail("cannot update block_hint: %s",
				      strerror(errno));
		else if (bpf_map_update_elem(fd, &k, &al, BPF_ANY))
			rc = cli_fail("cannot add %s: %s", argv[1],
				      strerror(errno));
		else
			fprintf(stderr,
				"hydrascope: allowed %s, lifted %u block(s) "
				"inside it\n",
				argv[1], lift_covered_blocks(&c));
	}
	close(fd);
	return rc;
}

static int cmd_tuple(int argc, char **argv, const struct opts *o)
{
	struct hs_tuple_rule r;
	uint64_t id, now = hs_clock_ns(CLOCK_MONOTONIC);
	int fd, rc = 0;

	if (argc < 1)
		return cli_fail(
		    "tuple needs list, add or del (see tuple --help)");
	if (!strcmp(argv[0], "list")) {
		uint64_t k, *prev = NULL;

		if ((fd = open_pinned("tuple_rules")) < 0)
			return 1;
		while (bpf_map_get_next_key(fd, prev, &k) == 0) {
			if (bpf_map_lookup_elem(fd, &k, &r) == 0) {
				if (o->json) {
					printf("{\"type\":\"tuple_rule\"");
					list_envelope(r.expires_ns, now);
				}
				printf(o->json ? ",\"tuple_id\":\"%016" PRIx64
						 "\",\"min_gap_us\":%u,"
						 "\"ack_hello_min_us\":%u,"
						 "\"ack_hello_low_us\":%u,"
						 "\"lead_max_us\":%u,"
						 "\"expires_in_s\":"
					       : "%016" PRIx64
						 " min_gap=%uus ack_hello=%uus"
						 " low_ack_hello=%uus lead=%uus"
						 " expires=",
				       k, r.min_gap_us, r.min_ack_hello_us,
				       r.low_ack_us, r.lead_max_us);
				print_expiry(stdout, r.expires_ns, now,
					     o->json);
				if (o->json)
					printf(",\"on\":\"%s\"",
					       r.kind == HS_RULE_TLS ? "tls"
								     : "tuple");
				else if (r.kind == HS_RULE_TLS)
					printf(" on=tls");
				printf(o->json ? "}\n" : "\n");
			}
			prev = &k;
		}
		close(fd);
		return 0;
	}
	if (strcmp(argv[0], "add") && strcmp(argv[0], "del"))
		return cli_fail("tuple: unknown action '%s' (list, add, del)",
				argv[0]);
	if (argc < 2 || cli_parse_tuple_id(argv[1], &id))
		return cli_fail(
		    "tuple %s wants a 16-hex-digit tuple id, got '%s'", argv[0],
		    argc < 2 ? "" : argv[1]);
	if ((fd = open_pinned("tuple_rules")) < 0)
		return 1;
	if (!strcmp(argv[0], "del")) {
		if (bpf_map_delete_elem(fd, &id))
			rc = cli_fail("tuple_rules: no rule %s", argv[1]);
	} else {
		memset(&r, 0, sizeof(r));
		r.reason = HS_R_MANUAL;
		r.min_gap_us = (uint32_t)(o->min_gap_ms * 1000);
		r.kind = o->tls ? HS_RULE_TLS : HS_RULE_TUPLE;
		if (o->ttl_s)
			r.expires_ns = now + hs_sec_ns(o->ttl_s);
		if (bpf_map_update_elem(fd, &id, &r, BPF_ANY))
			rc = cli_fail("cannot add rule: %s", strerror(errno));
	}
	/* after the change: a new generation makes flows look again */
	if (!rc && mark_hint(HINT_RULES))
		rc = cli_fail("cannot update block_hint: %s", strerror(errno));
	close(fd);
	return rc;
}

int cmd_blocking(int argc, char **argv)
{
	const struct cli_command *def =
	    !strcmp(argv[0], "tuple")	? &cmd_tuple_def
	    : !strcmp(argv[0], "block") ? &cmd_block_def
					: &cmd_allow_def;
	struct opts o = {0};
	int first, rc = cli_parse(def, argc, argv, &o, NULL, &first);

	if (rc)
		return rc == 1 ? 0 : rc;
	if (def == &cmd_tuple_def)
		return cmd_tuple(argc - first, argv + first, &o);
	return cmd_prefix(argc - first, argv + first, &o,
			  def == &cmd_block_def);
}
