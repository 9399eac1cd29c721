// SPDX-License-Identifier: BSD-2-Clause
/*
 * Loading the BPF object (reusing pinned maps where their layout allows),
 * pinning its maps, mounting bpffs. Attaching is in attach.c.
 */
#include "datapath/loader.h"
#include "lib/paths.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "hydrascope/abi.h" /* before the skeleton: its .rodata uses hs_config */
#include "hydrascope.skel.h"
#include "output/report.h"
#include "hydrascope/abi.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

/* Maps of the running datapath: reused by the next instance (state kept
 * across a restart or an upgrade), removed by a clean stop. */
static const char *const instance_maps[] = {"flows", "sources", "tcp_sigs",
					    "stats", "meta",	NULL};
/* The blocking layer: outlives instances (blocks survive a restart) until
 * `detach --all`. */
static const char *const persistent_maps[] = {
    "blocklist", "allowlist", "tuple_rules", "block_hint", "cuts", NULL};

void loader_pin_path(const char *name, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", paths_pin_dir(), name);
}

/*
 * Reuse a pinned map when its layout matches this build's. A different key
 * or value size is a schema change: an instance map is recreated (its
 * counters and flows start over; a note says so), a blocking-layer map is
 * refused (its blocks would be lost silently). A different size only
 * (--flows N against the pinned one) keeps the pinned size.
 */
static int reuse_one(struct hydrascope *skel, const char *name, bool persistent,
		     char *err, size_t errlen)
{
	struct bpf_map *m = bpf_object__find_map_by_name(skel->obj, name);
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	char path[256];
	int fd;

	loader_pin_path(name, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0; /* not pinned: a new one is created */
	if (!m || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		snprintf(err, errlen, "cannot inspect %s: %s", path,
			 strerror(errno));
		close(fd);
		return -1;
	}
	if (info.type != bpf_map__type(m) ||
	    info.key_size != bpf_map__key_size(m) ||
	    info.value_size != bpf_map__value_size(m)) {
		close(fd);
		if (persistent) {
			snprintf(
			    err, errlen,
			    "%s has another layout (key %u, value %u bytes; "
			    "this build: %u, %u): refusing to drop its "
			    "entries; 'hydrascope detach --all' removes it",
			    path, info.key_size, info.value_size,
			    bpf_map__key_size(m), bpf_map__value_size(m));
			return -1;
		}
		fprintf(stderr,
			"hydrascope: %s has another layout (an older build): "
			"recreated, its state starts over\n",
			path);
		unlink(path);
		return 0;
	}
	if (info.max_entries != bpf_map__max_entries(m)) {
		if (strcmp(name, "blocklist") && strcmp(name, "flows") &&
		    strcmp(name, "sources") && strcmp(name, "tcp_sigs")) {
			close(fd);
			snprintf(err, errlen, "%s: unexpected size %u", path,
				 info.max_entries);
			return -1;
		}
		fprintf(stderr,
			"hydrascope: keeping the pinned %s with %u entries "
			"(asked %u)\n",
			name, info.max_entries, bpf_map__max_entries(m));
		bpf_map__set_max_entries(m, info.max_entries);
	}
	if (bpf_map__reuse_fd(m, fd)) {
		snprintf(err, errlen, "cannot reuse %s: %s", path,
			 strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int reuse_pinned(struct hydrascope *skel, char *err, size_t errlen)
{
	int i;

	for (i = 0; persistent_maps[i]; i++)
		if (reuse_one(skel, persistent_maps[i], true, err, errlen))
			return -1;
	for (i = 0; instance_maps[i]; i++)
		if (reuse_one(skel, instance_maps[i], false, err, errlen))
			return -1;
	return 0;
}

struct hydrascope *loader_open_load(const struct load_opts *o, char *err,
				    size_t errlen)
{
	struct hydrascope *skel;
	int ret;

	skel = hydrascope__open();
	if (!skel) {
		snprintf(err, errlen, "cannot open BPF object: %s",
			 strerror(errno));
		return NULL;
	}
	if (bpf_map__set_max_entries(skel->maps.flows, o->flows) ||
	    bpf_map__set_max_entries(skel->maps.sources, o->sources) ||
	    bpf_map__set_max_entries(skel->maps.tcp_sigs, o->sigs)) {
		snprintf(err, errlen, "cannot size maps");
		hydrascope__destroy(skel);
		return NULL;
	}
	if (o->flows_percpu_lru &&
	    bpf_map__set_map_flags(skel->maps.flows,
				   bpf_map__map_flags(skel->maps.flows) |
				       BPF_F_NO_COMMON_LRU)) {
		snprintf(err, errlen, "cannot set the flows map's flags");
		hydrascope__destroy(skel);
		return NULL;
	}
	if (o->ringbuf_bytes &&
	    bpf_map__set_max_entries(skel->maps.events, o->ringbuf_bytes)) {
		snprintf(err, errlen, "cannot size the ring buffer");
		hydrascope__destroy(skel);
		return NULL;
	}
	if (bpf_map__set_max_entries(skel->maps.blocklist, o->blocks)) {
		snprintf(err, errlen, "cannot size the blocklist");
		hydrascope__destroy(skel);
		return NULL;
	}
	skel->rodata->cfg.idle_gap_ns = o->idle_gap_ns;
	skel->rodata->cfg.enforce = o->enforce;
	skel->rodata->cfg.decap = o->decap;
	skel->rodata->cfg.gue_port = o->gue_port;
	skel->rodata->cfg.replay = o->replay;
	skel->rodata->cfg.cut_evasive = !o->allow_evasive;
	if (o->reuse_pins && reuse_pinned(skel, err, errlen)) {
		hydrascope__destroy(skel);
		return NULL;
	}
	ret = hydrascope__load(skel);
	if (ret) {
		const char *hint = "";

		if (ret == -EPERM)
			hint = " (needs root or CAP_BPF+CAP_NET_ADMIN)";
		else if (o->reuse_pins)
			hint = " (pinned maps of another version? 'hydrascope "
			       "detach --all' removes them)";
		snprintf(err, errlen, "cannot load BPF programs: %s%s",
			 strerror(-ret), hint);
		hydrascope__destroy(skel);
		return NULL;
	}
	return skel;
}

int bpffs_ensure(char *err, size_t errlen)
{
	struct statfs st;

	if (statfs(HS_BPFFS, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	mkdir(HS_BPFFS, 0700);
	if (mount("bpf", HS_BPFFS, "bpf", 0, "mode=0700")) {
		snprintf(err, errlen, "cannot mount bpffs on " HS_BPFFS ": %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Pin the maps of names that are not pinned yet (reused ones are); on a
 * failure, unpin only what this call pinned. */
static int pin_list(struct hydrascope *skel, const char *const *names,
		    bool *pinned, char *err, size_t errlen)
{
	char path[256];
	int i;

	for (i = 0; names[i]; i++) {
		struct bpf_map *m =
		    bpf_object__find_map_by_name(skel->obj, names[i]);

		loader_pin_path(names[i], path, sizeof(path));
		if (!access(path, F_OK))
			continue; /* reused at load: already pinned there */
		if (!m || bpf_map__pin(m, path)) {
			snprintf(err, errlen, "cannot pin %s: %s", path,
				 strerror(errno));
			return -1;
		}
		pinned[i] = true;
	}
	return 0;
}

static void unpin_listed(const char *const *names, const bool *which)
{
	char path[256];

	for (int i = 0; names[i]; i++) {
		if (!which[i])
			continue;
		loader_pin_path(names[i], path, sizeof(path));
		unlink(path);
	}
}

int loader_pin_maps(struct hydrascope *skel, char *err, size_t errlen)
{
	bool inst[8] = {0}, pers[8] = {0};

	if (mkdir(paths_pin_dir(), 0700) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", paths_pin_dir(),
			 strerror(errno));
		return -1;
	}
	if (pin_list(skel, instance_maps, inst, err, errlen) ||
	    pin_list(skel, persistent_maps, pers, err, errlen)) {
		unpin_listed(instance_maps, inst);
		unpin_listed(persistent_maps, pers);
		return -1;
	}
	return 0;
}

void loader_unpin_maps(bool all)
{
	char path[256];
	int i;

	for (i = 0; instance_maps[i]; i++) {
		loader_pin_path(instance_maps[i], path, sizeof(path));
		unlink(path);
	}
	for (i = 0; all && persistent_maps[i]; i++) {
		loader_pin_path(persistent_maps[i], path, sizeof(path));
		unlink(path);
	}
	rmdir(paths_pin_dir()); /* only succeeds once empty */
}

int loader_hint_mark(int hint_fd, enum hint_field f)
{
	struct hs_block_hint h = {0};
	__u32 zero = 0;

	bpf_map_lookup_elem(hint_fd, &zero, &h);
	if (f == HINT_PREFIXES)
		h.prefixes = 1;
	else if (f == HINT_ALLOWS)
		h.allows = 1;
	else if (f == HINT_CUTS)
		h.cuts = 1;
	else
		h.rules = h.rules + 1 ? h.rules + 1 : 1; /* 0 means none */
	return bpf_map_update_elem(hint_fd, &zero, &h, BPF_ANY);
}

static bool map_empty(int fd, size_t ksz)
{
	unsigned char k[64];

	return fd < 0 || ksz > sizeof(k) ||
	       bpf_map_get_next_key(fd, NULL, k) != 0;
}

void loader_hint_sync(int hint_fd, int blocklist_fd, int allowlist_fd,
		      int tuple_rules_fd, int cuts_fd)
{
	struct hs_block_hint h = {0}, old = {0};
	__u32 zero = 0;

	bpf_map_lookup_elem(hint_fd, &zero, &old);
	h = old;
	h.prefixes = !map_empty(blocklist_fd, sizeof(struct hs_lpm_key));
	h.allows = !map_empty(allowlist_fd, sizeof(struct hs_lpm_key));
	if (map_empty(tuple_rules_fd, sizeof(__u64)))
		h.rules = 0;
	else if (!h.rules)
		h.rules = 1;
	/* the datapath marks cuts itself; clear the mark once none is left
	 * (a cut flow is also cut in its flows entry meanwhile) */
	if (cuts_fd > 0)
		h.cuts = !map_empty(cuts_fd, sizeof(struct hs_flow_key));
	if (!memcmp(&h, &old, sizeof(h)))
		return;
	bpf_map_update_elem(hint_fd, &zero, &h, BPF_ANY);
	/* a writer may have added an entry between the checks and the write:
	 * mark again what is not empty now */
	if (!h.prefixes && !map_empty(blocklist_fd, sizeof(struct hs_lpm_key)))
		loader_hint_mark(hint_fd, HINT_PREFIXES);
	if (!h.allows && !map_empty(allowlist_fd, sizeof(struct hs_lpm_key)))
		loader_hint_mark(hint_fd, HINT_ALLOWS);
	if (!h.rules && !map_empty(tuple_rules_fd, sizeof(__u64)))
		loader_hint_mark(hint_fd, HINT_RULES);
	if (cuts_fd > 0 && !h.cuts &&
	    !map_empty(cuts_fd, sizeof(struct hs_flow_key)))
		loader_hint_mark(hint_fd, HINT_CUTS);
}
