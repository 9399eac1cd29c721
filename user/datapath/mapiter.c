// SPDX-License-Identifier: BSD-2-Clause
#include "datapath/mapiter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#define BATCH 1024

static long each_by_key(int fd, size_t ksz, size_t vsz, __u32 max,
			map_entry_fn fn, void *ctx)
{
	unsigned char *key = malloc(ksz), *next = malloc(ksz),
		      *val = malloc(vsz);
	long n = 0;
	bool have = false;

	if (!key || !next || !val) {
		n = -1;
		goto out;
	}
	while ((__u32)n < max &&
	       bpf_map_get_next_key(fd, have ? key : NULL, next) == 0) {
		memcpy(key, next, ksz);
		have = true;
		if (bpf_map_lookup_elem(fd, key, val))
			continue; /* deleted meanwhile */
		n++;
		if (fn(key, val, ctx))
			break;
	}
out:
	free(key);
	free(next);
	free(val);
	return n;
}

long map_each(int fd, size_t ksz, size_t vsz, map_entry_fn fn, void *ctx)
{
	struct bpf_map_info info = {0};
	__u32 ilen = sizeof(info), count, i;
	/* batch tokens: a bucket index for hashes, a key for others */
	size_t tsz = ksz > 8 ? ksz : 8;
	unsigned char *keys = NULL, *vals = NULL, *in = NULL, *out = NULL;
	bool first = true;
	long n = 0;
	int ret;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return -1;
	if (info.type == BPF_MAP_TYPE_PERCPU_HASH ||
	    info.type == BPF_MAP_TYPE_LRU_PERCPU_HASH)
		return -1; /* not used: values would be per CPU */
	keys = malloc(BATCH * ksz);
	vals = malloc(BATCH * vsz);
	in = calloc(1, tsz);
	out = calloc(1, tsz);
	if (!keys || !vals || !in || !out) {
		n = -1;
		goto out;
	}
	for (;;) {
		count = BATCH;
		ret = bpf_map_lookup_batch(fd, first ? NULL : in, out, keys,
					   vals, &count, &opts);
		if (ret && errno != ENOENT) {
			if (first && (errno == EINVAL || errno == EOPNOTSUPP ||
				      errno == 524 /* ENOTSUPP */)) {
				n = each_by_key(fd, ksz, vsz, info.max_entries,
						fn, ctx);
				goto out;
			}
			n = -1;
			goto out;
		}
		for (i = 0; i < count; i++) {
			n++;
			if (fn(keys + i * ksz, vals + i * vsz, ctx))
				goto out;
		}
		if (ret) /* ENOENT: that was the last batch */
			break;
		memcpy(in, out, tsz);
		first = false;
	}
out:
	free(keys);
	free(vals);
	free(in);
	free(out);
	return n;
}

long map_count_keys(int fd, size_t ksz)
{
	unsigned char key[64], next[64];
	bool have = false;
	long n = 0;

	if (ksz > sizeof(key))
		return -1;
	while (bpf_map_get_next_key(fd, have ? key : NULL, next) == 0) {
		memcpy(key, next, ksz);
		have = true;
		n++;
	}
	return n;
}

long map_slice(int fd, size_t ksz, size_t vsz, struct map_cursor *cur, long max,
	       map_entry_fn fn, void *ctx, long *pass)
{
	unsigned char *keys = malloc(BATCH * ksz), *vals = malloc(BATCH * vsz);
	long n = 0;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	if (pass)
		*pass = -1;
	while (keys && vals && n < max) {
		unsigned char next[sizeof(cur->token)] = {0};
		__u32 count = BATCH, i;
		int ret =
		    bpf_map_lookup_batch(fd, cur->started ? cur->token : NULL,
					 next, keys, vals, &count, &opts);

		if (ret && errno != ENOENT)
			break;
		for (i = 0; i < count; i++)
			fn(keys + i * ksz, vals + i * vsz, ctx);
		n += count;
		cur->seen += count;
		if (ret) { /* ENOENT: that was the map's last batch */
			if (pass)
				*pass = cur->seen;
			memset(cur, 0, sizeof(*cur));
			goto out;
		}
		memcpy(cur->token, next, sizeof(next));
		cur->started = true;
	}
	if (!keys || !vals || n < max) { /* an error: start over */
		memset(cur, 0, sizeof(*cur));
		n = -1;
	}
out:
	free(keys);
	free(vals);
	return n;
}

int map_time_order(uint64_t a_first, const void *a_key, uint64_t b_first,
		   const void *b_key, size_t ksz)
{
	if (a_first != b_first)
		return a_first < b_first ? -1 : 1;
	return memcmp(a_key, b_key, ksz);
}
