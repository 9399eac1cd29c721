// SPDX-License-Identifier: BSD-2-Clause
/* The map fds the readers share: from a loaded skeleton or from the pins
 * of a running instance; whole-map dumps and the per-CPU counter sum. */
#include "datapath/maps.h"
#include "datapath/mapiter.h"
#include "lib/paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hydrascope.skel.h"

int map_fds_open_pinned(struct map_fds *m, char *err, size_t errlen)
{
	const char *names[] = {"flows", "sources", "tcp_sigs", "stats"};
	int *fds[] = {&m->flows, &m->sources, &m->sigs, &m->stats};
	char path[256];
	size_t i;

	for (i = 0; i < 4; i++)
		*fds[i] = -1;
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", paths_pin_dir(),
			 names[i]);
		*fds[i] = bpf_obj_get(path);
		if (*fds[i] < 0) {
			snprintf(err, errlen,
				 "cannot open %s: %s (is hydrascope running?)",
				 path, strerror(errno));
			map_fds_close(m);
			return -1;
		}
	}
	return 0;
}

void map_fds_close(struct map_fds *m)
{
	int *fds[] = {&m->flows, &m->sources, &m->sigs, &m->stats};

	for (size_t i = 0; i < 4; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int stats_read(int fd, struct hs_stats *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct hs_stats *per;
	__u32 zero = 0;
	int c;

	memset(sum, 0, sizeof(*sum));
	if (ncpu <= 0)
		return -1;
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return -1;
	if (bpf_map_lookup_elem(fd, &zero, per)) {
		free(per);
		return -1;
	}
	for (c = 0; c < ncpu; c++) {
		__u64 *d = (__u64 *)sum;
		const __u64 *s = (const __u64 *)&per[c];

		for (size_t i = 0; i < sizeof(*sum) / sizeof(__u64); i++)
			d[i] += s[i];
	}
	free(per);
	return 0;
}

/* Load every entry of a hash map into an array (bounded by the map). */
struct dump {
	unsigned char *buf;
	size_t cap, n, ksz, vsz;
};

static int dump_one(const void *key, const void *val, void *ctx)
{
	struct dump *d = ctx;
	unsigned char *r = d->buf + d->n * (d->ksz + d->vsz);

	memcpy(r, key, d->ksz);
	memcpy(r + d->ksz, val, d->vsz);
	return ++d->n == d->cap;
}

void *dump_map(int fd, size_t ksz, size_t vsz, size_t *n)
{
	struct bpf_map_info info = {0};
	__u32 ilen = sizeof(info);
	struct dump d = {.ksz = ksz, .vsz = vsz};

	*n = 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return NULL;
	d.cap = info.max_entries ? info.max_entries : 1;
	d.buf = malloc(d.cap * (ksz + vsz));
	if (!d.buf)
		return NULL;
	/* batched where the map type allows (a system call per 1,024
	 * entries, not two per entry) */
	if (map_each(fd, ksz, vsz, dump_one, &d) < 0) {
		free(d.buf);
		return NULL;
	}
	*n = d.n;
	return d.buf;
}

void map_fds_from_skel(const struct hydrascope *skel, struct map_fds *m)
{
	m->flows = bpf_map__fd(skel->maps.flows);
	m->sources = bpf_map__fd(skel->maps.sources);
	m->sigs = bpf_map__fd(skel->maps.tcp_sigs);
	m->stats = bpf_map__fd(skel->maps.stats);
}
