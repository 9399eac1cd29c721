// SPDX-License-Identifier: BSD-2-Clause
/*
 * The fleet transport against a real Redis, through hydrascope's own
 * transport code (user/output/fleet.c), as another host would use it:
 *
 *   bench_fleet memory URL SOURCES CLUSTERS
 *       Redis memory (INFO memory, used_memory) for SOURCES tracked sources
 *       spread over CLUSTERS clusters, published as the correlator's slices;
 *       per 100k sources.
 *   bench_fleet latency URL SAMPLES INSTANCE...
 *       one decision at a time from this process (origin bench/producer):
 *       time from handing it to the transport until every instance's
 *       pinned blocklist holds it (median, p99, max).
 *   bench_fleet throughput URL N INSTANCE...
 *       N decisions at once: the time until every instance holds all N,
 *       in decisions per second.
 * Each prints one JSON object. The instances are `hydrascope --instance
 * NAME run --fleet URL` (tools/bench/bench_fleet.sh starts them).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "hydrascope/abi.h"
#include "lib/addr.h"
#include "lib/hstime.h"
#include "output/fleet.h"
#include "output/json_field.h"

#define MAX_INST 8

static uint64_t mono(void)
{
	return hs_clock_ns(CLOCK_MONOTONIC);
}

static void nothing_to_apply(void *ctx, struct json_object **recs, size_t n,
			     enum fleet_outcome *out)
{
	(void)ctx;
	(void)recs;
	for (size_t i = 0; i < n; i++)
		out[i] = FLEET_EXPIRED;
}

static struct fleet *open_fleet(const char *url)
{
	struct fleet_opts o = {.url = url,
			       .origin = "bench/producer",
			       .window_s = 300,
			       .max_members = 1 << 20};
	char err[256];
	struct fleet *f = fleet_new(&o, err, sizeof(err));

	if (!f) {
		fprintf(stderr, "bench_fleet: %s\n", err);
		exit(1);
	}
	return f;
}

/* Poll until the outbox is empty (bounded: 30 s). */
static void flush(struct fleet *f)
{
	struct fleet_stats st;
	uint64_t until = mono() + 30 * HS_NS_PER_SEC;

	do {
		fleet_poll(f, mono(), nothing_to_apply, NULL);
		fleet_get_stats(f, &st);
	} while (st.outbox && mono() < until);
}

static redisContext *raw(const char *url)
{
	struct fleet_url u;
	char err[256];
	redisContext *c;
	redisReply *r;

	if (fleet_parse_url(url, &u, err, sizeof(err)))
		exit(1);
	c = redisConnect(u.host, (int)u.port);
	if (!c || c->err)
		exit(1);
	if (u.pass[0]) {
		r = u.user[0] ? redisCommand(c, "AUTH %s %s", u.user, u.pass)
			      : redisCommand(c, "AUTH %s", u.pass);
		freeReplyObject(r);
	}
	return c;
}

static long long used_memory(redisContext *c)
{
	redisReply *r = redisCommand(c, "INFO memory");
	const char *p = r && r->str ? strstr(r->str, "used_memory:") : NULL;
	long long v = p ? atoll(p + 12) : -1;

	freeReplyObject(r);
	return v;
}

static int cmd_memory(const char *url, size_t sources, size_t clusters)
{
	struct fleet *f = open_fleet(url);
	struct corr_fleet hooks = fleet_corr_hooks(f);
	redisContext *c = raw(url);
	size_t per = (sources + clusters - 1) / clusters, done = 0, k;
	struct fleet_member *m = calloc(per, sizeof(*m));
	redisReply *r;
	long long before, after, keys;

	if (!m)
		return 1;
	freeReplyObject(redisCommand(c, "FLUSHDB"));
	before = used_memory(c);
	for (k = 0; k < clusters && done < sources; k++) {
		struct fleet_slice s = {.group_id = 0x1000 + k,
					.tuple_id = 0xabc0 + k,
					.band = BAND_SPARSE,
					.members = m};

		for (s.n = 0; s.n < per && done < sources; s.n++, done++) {
			uint32_t a = htonl(0x0a000000u + (uint32_t)done);

			addr_from_v4(&m[s.n].addr, &a);
			m[s.n].flows = 1;
			m[s.n].bits =
			    FLEET_MEMBER_RELAY_MEASURED | FLEET_MEMBER_RELAY;
		}
		hooks.observe(hooks.ctx, &s);
		/* one round's worth at a time, as the correlator would */
		if (k % 256 == 255 || s.n >= 4096)
			fleet_poll(f, mono(), nothing_to_apply, NULL);
	}
	fleet_poll(f, mono(), nothing_to_apply, NULL);
	after = used_memory(c);
	r = redisCommand(c, "DBSIZE");
	keys = r ? r->integer : -1;
	freeReplyObject(r);
	printf("{\"sources\":%zu,\"clusters\":%zu,\"keys\":%lld,"
	       "\"used_memory_bytes\":%lld,\"bytes_per_100k_sources\":%.0f}\n",
	       done, k, keys, after - before,
	       (double)(after - before) * 100000.0 / (double)done);
	free(m);
	redisFree(c);
	fleet_free(f);
	return 0;
}

static int open_blocklists(int n, char **names, int *fds)
{
	char path[256];

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path),
			 "/sys/fs/bpf/hydrascope-%s/blocklist", names[i]);
		fds[i] = bpf_obj_get(path);
		if (fds[i] < 0) {
			fprintf(stderr, "bench_fleet: cannot open %s\n", path);
			return -1;
		}
	}
	return 0;
}

static struct hs_lpm_key key_of(uint32_t i)
{
	struct hs_lpm_key k = {.prefixlen = 128};
	uint32_t a = htonl(0x0ac80000u + i); /* 10.200.0.0/16 */
	struct hs_addr x;

	addr_from_v4(&x, &a);
	memcpy(k.addr, x.b, 16);
	return k;
}

/* A decision record as the policy writes it, on the wall clock. */
static void decide(struct fleet *f, uint32_t i)
{
	struct record_sink sink = fleet_record_sink(f);
	json_object *d = json_object_new_object();
	uint64_t now = hs_clock_ns(CLOCK_REALTIME);
	uint32_t a = htonl(0x0ac80000u + i);
	struct hs_addr x;
	char s[ADDR_STRLEN + 4];

	addr_from_v4(&x, &a);
	addr_str(&x, s, sizeof(s) - 3);
	strcat(s, "/32");
	json_set_str(d, "type", "decision");
	json_set_u64(d, "time_ns", now);
	json_set_str(d, "action", "block_prefix");
	json_set_str(d, "prefix", s);
	json_set_u64(d, "ttl_s", 600);
	json_set_u64(d, "expires_ns", now + 600 * HS_NS_PER_SEC);
	json_set_str(d, "reason", "farm_cluster");
	sink.decision(sink.ctx, d);
	json_object_put(d);
}

static bool held_everywhere(int n, const int *fds, uint32_t i)
{
	struct hs_lpm_key k = key_of(i);
	struct hs_block b;

	for (int j = 0; j < n; j++)
		if (bpf_map_lookup_elem(fds[j], &k, &b))
			return false;
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int cmd_latency(const char *url, size_t samples, int n, char **names)
{
	struct fleet *f = open_fleet(url);
	int fds[MAX_INST];
	uint64_t *lat = calloc(samples, sizeof(*lat));
	size_t got = 0;

	if (!lat || open_blocklists(n, names, fds))
		return 1;
	for (uint32_t i = 0; i < samples; i++) {
		uint64_t t0 = mono(), until = t0 + 10 * HS_NS_PER_SEC;

		decide(f, 100000 + i);
		flush(f);
		while (!held_everywhere(n, fds, 100000 + i) && mono() < until)
			usleep(200);
		if (mono() < until)
			lat[got++] = mono() - t0;
		/* decisions arrive at random points of the readers' cycle */
		usleep(20000 + (unsigned)(rand() % 50000));
	}
	qsort(lat, got, sizeof(*lat), cmp_u64);
	printf("{\"samples\":%zu,\"enforced\":%zu,\"hosts\":%d,"
	       "\"median_ms\":%.1f,\"p99_ms\":%.1f,\"max_ms\":%.1f}\n",
	       samples, got, n, got ? lat[got / 2] / 1e6 : -1,
	       got ? lat[(got * 99) / 100 < got ? (got * 99) / 100 : got - 1] /
			 1e6
		   : -1,
	       got ? lat[got - 1] / 1e6 : -1);
	free(lat);
	fleet_free(f);
	return 0;
}

static int cmd_throughput(const char *url, uint32_t n_dec, int n, char **names)
{
	struct fleet *f = open_fleet(url);
	int fds[MAX_INST];
	uint64_t t0, t_pub, until;
	uint32_t i, last = 0;

	if (open_blocklists(n, names, fds))
		return 1;
	t0 = mono();
	for (i = 0; i < n_dec; i++) {
		decide(f, i);
		/* the outbox holds FLEET_OUTBOX: hand over in slices */
		if (i % 1024 == 1023)
			flush(f);
	}
	flush(f);
	t_pub = mono();
	until = t_pub + 60 * HS_NS_PER_SEC;
	/* in order: each instance applies the stream in order */
	while (last < n_dec && mono() < until) {
		while (last < n_dec && held_everywhere(n, fds, last))
			last++;
		if (last < n_dec)
			usleep(1000);
	}
	printf("{\"decisions\":%u,\"hosts\":%d,\"enforced_everywhere\":%u,"
	       "\"publish_s\":%.3f,\"all_enforced_s\":%.3f,"
	       "\"publish_per_s\":%.0f,\"enforced_per_s\":%.0f}\n",
	       n_dec, n, last, (t_pub - t0) / 1e9, (mono() - t0) / 1e9,
	       n_dec / ((t_pub - t0) / 1e9), last / ((mono() - t0) / 1e9));
	fleet_free(f);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "memory"))
		return cmd_memory(argv[2], strtoul(argv[3], NULL, 10),
				  strtoul(argv[4], NULL, 10));
	if (argc >= 5 && argc - 4 <= MAX_INST && !strcmp(argv[1], "latency"))
		return cmd_latency(argv[2], strtoul(argv[3], NULL, 10),
				   argc - 4, argv + 4);
	if (argc >= 5 && argc - 4 <= MAX_INST && !strcmp(argv[1], "throughput"))
		return cmd_throughput(argv[2],
				      (uint32_t)strtoul(argv[3], NULL, 10),
				      argc - 4, argv + 4);
	fprintf(stderr, "usage: bench_fleet memory URL SOURCES CLUSTERS\n"
			"       bench_fleet latency URL SAMPLES INSTANCE...\n"
			"       bench_fleet throughput URL N INSTANCE...\n");
	return 2;
}
