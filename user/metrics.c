// SPDX-License-Identifier: BSD-2-Clause
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <microhttpd.h>

#include "sbuf.h"

struct metrics {
	struct MHD_Daemon *d;
	struct metrics_src src;
	pthread_mutex_t lock;
	struct collector_stats cs; /* published by the main loop */
	uint64_t scrapes;
	double start_time;
};

int metrics_parse_addr(const char *addr, char *host, size_t hcap,
		       unsigned *port)
{
	const char *colon = strrchr(addr, ':');
	size_t hl;
	char *end;
	unsigned long p;
	unsigned char buf[16];

	if (!colon || colon == addr)
		return -1;
	hl = (size_t)(colon - addr);
	if (addr[0] == '[') {
		if (hl < 3 || addr[hl - 1] != ']')
			return -1;
		addr++;
		hl -= 2;
	}
	if (hl >= hcap)
		return -1;
	memcpy(host, addr, hl);
	host[hl] = 0;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || p == 0 || p > 65535)
		return -1;
	if (inet_pton(AF_INET, host, buf) != 1 &&
	    inet_pton(AF_INET6, host, buf) != 1)
		return -1;
	*port = (unsigned)p;
	return 0;
}

static void metric(struct sbuf *sb, const char *name, const char *type,
		   const char *help)
{
	sb_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample line: a series (name and fixed labels) and its value. */
static void put(struct sbuf *sb, const char *series, uint64_t v)
{
	sb_printf(sb, "%s %llu\n", series, (unsigned long long)v);
}

static size_t map_count(int fd, size_t ksz, uint64_t now_ns,
			size_t *active_blocks)
{
	unsigned char key[64], next[64];
	bool have = false;
	size_t n = 0;

	if (fd < 0 || ksz > sizeof(key))
		return 0;
	while (bpf_map_get_next_key(fd, have ? key : NULL, next) == 0) {
		if (active_blocks) {
			struct hs_block b;

			if (bpf_map_lookup_elem(fd, next, &b) == 0 &&
			    (!b.expires_ns || b.expires_ns > now_ns))
				(*active_blocks)++;
		}
		memcpy(key, next, ksz);
		have = true;
		n++;
	}
	return n;
}

static uint32_t map_max(int fd)
{
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len)
		   ? info.max_entries
		   : 0;
}

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * sysconf(_SC_PAGESIZE);
}

char *metrics_render(struct metrics *m)
{
#define HS_STAT_NAME(n) #n,
	static const char *const names[] = {HS_STATS_FIELDS(HS_STAT_NAME)};
#undef HS_STAT_NAME
	static const char *const parse_reasons[] = {
	    "non_ip",	      "err_eth", "err_vlan", "err_ipv4", "err_ipv6",
	    "ipv6_ext_limit", "ip_frag", "non_tcp",  "err_tcp",	 "err_tcp_opt"};
	struct sbuf sb = {0};
	struct hs_stats st;
	struct collector_stats cs;
	const uint64_t *v = (const uint64_t *)&st;
	uint64_t mono = (uint64_t)(now_s(CLOCK_MONOTONIC) * 1e9);
	size_t i, j, active = 0;
	unsigned cur = 0;

	pthread_mutex_lock(&m->lock);
	cs = m->cs;
	m->scrapes++;
	pthread_mutex_unlock(&m->lock);
	if (stats_read(m->src.maps.stats, &st))
		memset(&st, 0, sizeof(st));

	metric(&sb, "hydrascope_up", "gauge", "1 while the exporter serves");
	sb_printf(&sb, "hydrascope_up 1\n");
	metric(&sb, "hydrascope_enforce", "gauge",
	       "1: blocking drops; 0: dry-run");
	sb_printf(&sb, "hydrascope_enforce %d\n", m->src.enforce);

	metric(&sb, "hydrascope_datapath_attached", "gauge",
	       "1 while our XDP program is the one attached to the interface");
	if (bpf_xdp_query_id(m->src.ifindex, 0, &cur))
		cur = 0;
	sb_printf(&sb, "hydrascope_datapath_attached %d\n",
		  cur && cur == m->src.xdp_prog_id);

	metric(&sb, "hydrascope_packets_total", "counter",
	       "packets seen by hook");
	put(&sb, "hydrascope_packets_total{hook=\"xdp\"}", st.xdp_packets);
	put(&sb, "hydrascope_packets_total{hook=\"tc\"}", st.tc_packets);

	metric(&sb, "hydrascope_parse_failures_total", "counter",
	       "packets passed unparsed, by reason");
	for (i = 0; i < sizeof(parse_reasons) / sizeof(parse_reasons[0]); i++)
		for (j = 0; j < sizeof(names) / sizeof(names[0]); j++)
			if (!strcmp(names[j], parse_reasons[i]))
				sb_printf(&sb,
					  "hydrascope_parse_failures_total{"
					  "reason=\"%s\"} %llu\n",
					  parse_reasons[i],
					  (unsigned long long)v[j]);

	/* every datapath counter under its own name (a fixed set) */
	metric(&sb, "hydrascope_datapath_events_total", "counter",
	       "datapath counters by name (see include/hydrascope/abi.h)");
	for (j = 0; j < sizeof(names) / sizeof(names[0]); j++)
		sb_printf(
		    &sb,
		    "hydrascope_datapath_events_total{counter=\"%s\"} %llu\n",
		    names[j], (unsigned long long)v[j]);

	metric(&sb, "hydrascope_flows_total", "counter", "flows by kind");
	put(&sb, "hydrascope_flows_total{kind=\"tls\"}", st.tls_flows);
	put(&sb, "hydrascope_flows_total{kind=\"nontls\"}", st.nontls_flows);

	metric(&sb, "hydrascope_ringbuf_drops_total", "counter",
	       "events lost because the ring buffer was full");
	put(&sb, "hydrascope_ringbuf_drops_total", st.ringbuf_drops);

	metric(&sb, "hydrascope_dropped_packets_total", "counter",
	       "packets the blocking layer dropped (mode=drop) or would drop "
	       "(mode=dry_run)");
	{
		const struct {
			const char *kind, *mode;
			uint64_t v;
		} drops[] = {
		    {"prefix", "drop", st.block_drops},
		    {"prefix", "dry_run", st.block_would_drop},
		    {"tuple", "drop", st.tuple_drops},
		    {"tuple", "dry_run", st.tuple_would_drop},
		};

		for (i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
			sb_printf(
			    &sb,
			    "hydrascope_dropped_packets_total{kind=\"%s\","
			    "mode=\"%s\"} %llu\n",
			    drops[i].kind, drops[i].mode,
			    (unsigned long long)drops[i].v);
	}

	metric(&sb, "hydrascope_hellos_parsed_total", "counter",
	       "ClientHellos reassembled and fingerprinted");
	put(&sb, "hydrascope_hellos_parsed_total", cs.hellos);
	metric(&sb, "hydrascope_hello_errors_total", "counter",
	       "ClientHellos rejected, by reason");
	for (i = 1; i < HELLO_ERR_MAX; i++)
		sb_printf(&sb,
			  "hydrascope_hello_errors_total{reason=\"%s\"} %llu\n",
			  hello_strerror((enum hello_err)i),
			  (unsigned long long)cs.hello_errors[i]);
	metric(&sb, "hydrascope_userspace_evictions_total", "counter",
	       "entries pushed out of bounded userspace tables");
	put(&sb, "hydrascope_userspace_evictions_total{table=\"reassembly\"}",
	    cs.reasm_evictions);
	sb_printf(&sb,
		  "hydrascope_userspace_evictions_total{table=\"fingerprints\"}"
		  " %llu\n",
		  (unsigned long long)cs.fp_evictions);

	{
		struct {
			const char *name;
			int fd;
			size_t ksz;
		} maps[] = {
		    {"flows", m->src.maps.flows, sizeof(struct hs_flow_key)},
		    {"sources", m->src.maps.sources, sizeof(struct hs_addr)},
		    {"tcp_sigs", m->src.maps.sigs, sizeof(__u64)},
		    {"blocklist", m->src.blocklist_fd,
		     sizeof(struct hs_lpm_key)},
		    {"tuple_rules", m->src.tuple_rules_fd, sizeof(__u64)},
		};

		metric(&sb, "hydrascope_map_entries", "gauge",
		       "entries in a map");
		for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
			sb_printf(&sb,
				  "hydrascope_map_entries{map=\"%s\"} %zu\n",
				  maps[i].name,
				  map_count(maps[i].fd, maps[i].ksz, mono,
					    !strcmp(maps[i].name, "blocklist")
						? &active
						: NULL));
		metric(&sb, "hydrascope_map_max_entries", "gauge",
		       "capacity of a map");
		for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
			sb_printf(&sb,
				  "hydrascope_map_max_entries{map=\"%s\"} %u\n",
				  maps[i].name, map_max(maps[i].fd));
	}
	metric(&sb, "hydrascope_blocks_active", "gauge",
	       "prefix blocks not yet expired");
	sb_printf(&sb, "hydrascope_blocks_active %zu\n", active);

	metric(&sb, "process_resident_memory_bytes", "gauge",
	       "resident memory");
	sb_printf(&sb, "process_resident_memory_bytes %ld\n", rss_bytes());
	metric(&sb, "process_start_time_seconds", "gauge", "start time (unix)");
	sb_printf(&sb, "process_start_time_seconds %.3f\n", m->start_time);
	if (sb_failed(&sb)) {
		sb_free(&sb);
		return NULL;
	}
	return sb.p;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	struct metrics *m = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *body;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)state;
	if (strcmp(method, "GET"))
		return MHD_NO;
	if (strcmp(url, "/metrics")) {
		static char nf[] = "not found; try /metrics\n";

		r = MHD_create_response_from_buffer(strlen(nf), nf,
						    MHD_RESPMEM_PERSISTENT);
		ret = MHD_queue_response(c, MHD_HTTP_NOT_FOUND, r);
		MHD_destroy_response(r);
		return ret;
	}
	body = metrics_render(m);
	if (!body)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(body), body,
					    MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

struct metrics *metrics_start(const char *addr, const struct metrics_src *src,
			      char *err, size_t errlen)
{
	struct metrics *m = calloc(1, sizeof(*m));
	struct sockaddr_storage ss = {0};
	char host[64];
	unsigned port;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

	if (!m || metrics_parse_addr(addr, host, sizeof(host), &port)) {
		snprintf(err, errlen, "--metrics wants HOST:PORT, got '%s'",
			 addr);
		free(m);
		return NULL;
	}
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) ==
	    1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	} else {
		inet_pton(AF_INET6, host,
			  &((struct sockaddr_in6 *)&ss)->sin6_addr);
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
		flags |= MHD_USE_IPv6;
	}
	m->src = *src;
	m->start_time = now_s(CLOCK_REALTIME);
	pthread_mutex_init(&m->lock, NULL);
	/* bounded: at most 16 concurrent scrapers, 10 s per connection */
	m->d = MHD_start_daemon(
	    flags, (uint16_t)port, NULL, NULL, handle, m, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, 16u,
	    MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (!m->d) {
		snprintf(err, errlen, "cannot serve metrics on %s: %s", addr,
			 strerror(errno));
		pthread_mutex_destroy(&m->lock);
		free(m);
		return NULL;
	}
	return m;
}

void metrics_publish(struct metrics *m, const struct collector_stats *cs)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->cs = *cs;
	pthread_mutex_unlock(&m->lock);
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
