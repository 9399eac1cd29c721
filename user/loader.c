// SPDX-License-Identifier: BSD-2-Clause
/*
 * Loading and attaching. XDP attaches as a bpf_link (native, else generic
 * in auto mode); TC egress as a tcx bpf_link where the kernel has tcx
 * (6.6+), else through netlink on a clsact qdisc. Any failure undoes what
 * was done before it, so a failed start leaves the interface as it was.
 */
#include "loader.h"

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
#include "report.h"
#include "hydrascope/abi.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
/* Debian 12's uapi headers predate tcx (kernel 6.6); the values are ABI. */
#define HS_BPF_TCX_EGRESS 47

static const char *const instance_maps[] = {"flows", "sources", "tcp_sigs",
					    "stats", NULL};
static const char *const persistent_maps[] = {
    "blocklist", "allowlist", "tuple_rules", "block_hint", NULL};

void loader_pin_path(const char *name, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", HS_PIN_DIR, name);
}

/* Reuse pinned blocking-layer maps so that blocks survive a restart. */
static int reuse_persistent(struct hydrascope *skel, char *err, size_t errlen)
{
	char path[256];
	int i, fd;

	for (i = 0; persistent_maps[i]; i++) {
		struct bpf_map *m =
		    bpf_object__find_map_by_name(skel->obj, persistent_maps[i]);

		loader_pin_path(persistent_maps[i], path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue; /* not pinned yet: a new one is created */
		if (!m || bpf_map__reuse_fd(m, fd)) {
			snprintf(err, errlen, "cannot reuse %s: %s", path,
				 strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
	}
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
	if (bpf_map__set_max_entries(skel->maps.blocklist, o->blocks)) {
		snprintf(err, errlen, "cannot size the blocklist");
		hydrascope__destroy(skel);
		return NULL;
	}
	skel->rodata->cfg.idle_gap_ns = o->idle_gap_ns;
	skel->rodata->cfg.enforce = o->enforce;
	if (o->reuse_pins && reuse_persistent(skel, err, errlen)) {
		hydrascope__destroy(skel);
		return NULL;
	}
	ret = hydrascope__load(skel);
	if (ret) {
		const char *hint = "";

		if (ret == -EPERM)
			hint = " (needs root or CAP_BPF+CAP_NET_ADMIN)";
		else if (o->reuse_pins)
			hint =
			    " (pinned blocking-layer maps of another version? "
			    "'hydrascope detach --all' removes them)";
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

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	mkdir("/sys/fs/bpf", 0700);
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		snprintf(err, errlen, "cannot mount bpffs on /sys/fs/bpf: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Name of the program attached at XDP on ifindex, "" if none. */
static __u32 current_xdp_prog(int ifindex, char *name, size_t cap)
{
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info), id = 0;
	int fd;

	name[0] = 0;
	if (bpf_xdp_query_id(ifindex, 0, &id) || !id)
		return 0;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd >= 0) {
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			snprintf(name, cap, "%s", info.name);
		close(fd);
	}
	if (!name[0])
		snprintf(name, cap, "id %u", id);
	return id;
}

static const char *xdp_mode_name(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return "unknown";
	switch (q.attach_mode) {
	case XDP_ATTACHED_DRV: return "native";
	case XDP_ATTACHED_SKB: return "generic";
	case XDP_ATTACHED_HW: return "offload";
	case XDP_ATTACHED_MULTI: return "multi";
	}
	return "none";
}

static int attach_xdp(int prog_fd, int ifindex, enum xdp_mode_req mode,
		      char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	int fd;

	if (mode != XDP_MODE_GENERIC) {
		lo.flags = XDP_FLAGS_DRV_MODE;
		fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);
		if (fd >= 0 || mode == XDP_MODE_NATIVE) {
			if (fd < 0)
				snprintf(err, errlen,
					 "native XDP attach failed: %s (try "
					 "--xdp-mode generic)",
					 strerror(errno));
			return fd;
		}
	}
	lo.flags = XDP_FLAGS_SKB_MODE;
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);
	if (fd < 0)
		snprintf(err, errlen, "XDP attach failed: %s", strerror(errno));
	return fd;
}

static int attach_tc(int prog_fd, struct attachment *a, char *err,
		     size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, to, .prog_fd = prog_fd, .handle = 0x4853,
		    .priority = 1);
	int ret;

	a->tc_link_fd =
	    bpf_link_create(prog_fd, a->ifindex, HS_BPF_TCX_EGRESS, NULL);
	if (a->tc_link_fd >= 0) {
		a->tc_mode = "tcx";
		return 0;
	}
	/* no tcx on this kernel: clsact + netlink filter */
	ret = bpf_tc_hook_create(&hook);
	if (ret && ret != -EEXIST) {
		snprintf(err, errlen, "cannot create clsact qdisc: %s",
			 strerror(-ret));
		return -1;
	}
	a->tc_created_qdisc = ret == 0;
	ret = bpf_tc_attach(&hook, &to);
	if (ret) {
		snprintf(err, errlen, "TC egress attach failed: %s",
			 strerror(-ret));
		if (a->tc_created_qdisc)
			bpf_tc_hook_destroy(&hook);
		a->tc_created_qdisc = false;
		return -1;
	}
	a->tc_netlink = true;
	a->tc_mode = "netlink";
	return 0;
}

int loader_attach(struct hydrascope *skel, const char *ifname,
		  enum xdp_mode_req mode, bool replace, struct attachment *a,
		  char *err, size_t errlen)
{
	char cur[64];

	memset(a, 0, sizeof(*a));
	a->xdp_link_fd = a->tc_link_fd = -1;
	a->ifindex = (int)if_nametoindex(ifname);
	if (!a->ifindex) {
		snprintf(err, errlen, "no such interface: %s", ifname);
		return -1;
	}
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	if (current_xdp_prog(a->ifindex, cur, sizeof(cur))) {
		if (!replace) {
			snprintf(err, errlen,
				 "%s already has an XDP program (%s); refusing "
				 "to replace it (use --replace)",
				 ifname, cur);
			return -1;
		}
		/* take over: remove a netlink-attached program; a program
		 * held by another bpf_link cannot be removed from here */
		if (bpf_xdp_detach(a->ifindex, 0, NULL)) {
			snprintf(err, errlen,
				 "cannot replace XDP program %s on %s: %s "
				 "(held by a bpf_link?)",
				 cur, ifname, strerror(errno));
			return -1;
		}
	}
	a->xdp_link_fd = attach_xdp(bpf_program__fd(skel->progs.xdp_ingress),
				    a->ifindex, mode, err, errlen);
	if (a->xdp_link_fd < 0)
		return -1;
	a->xdp_mode = xdp_mode_name(a->ifindex);
	if (attach_tc(bpf_program__fd(skel->progs.tc_egress), a, err, errlen)) {
		loader_detach(a); /* roll back XDP */
		return -1;
	}
	return 0;
}

void loader_detach(struct attachment *a)
{
	if (a->tc_link_fd >= 0)
		close(a->tc_link_fd);
	if (a->tc_netlink) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->ifindex,
			    .attach_point = BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, to, .handle = 0x4853, .priority = 1);

		bpf_tc_detach(&hook, &to);
		if (a->tc_created_qdisc) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
	}
	if (a->xdp_link_fd >= 0)
		close(a->xdp_link_fd);
	a->tc_link_fd = a->xdp_link_fd = -1;
	a->tc_netlink = a->tc_created_qdisc = false;
}

static int pin_list(struct hydrascope *skel, const char *const *names,
		    char *err, size_t errlen)
{
	char path[256];
	int i;

	for (i = 0; names[i]; i++) {
		struct bpf_map *m =
		    bpf_object__find_map_by_name(skel->obj, names[i]);

		loader_pin_path(names[i], path, sizeof(path));
		if (!access(path, F_OK) && names == persistent_maps)
			continue; /* reused at load: already pinned there */
		if (!m || bpf_map__pin(m, path)) {
			snprintf(err, errlen, "cannot pin %s: %s", path,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

int loader_pin_maps(struct hydrascope *skel, char *err, size_t errlen)
{
	if (mkdir(HS_PIN_DIR, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", HS_PIN_DIR,
			 strerror(errno));
		return -1;
	}
	loader_unpin_maps(false); /* stale pins of a dead instance */
	if (pin_list(skel, instance_maps, err, errlen) ||
	    pin_list(skel, persistent_maps, err, errlen)) {
		loader_unpin_maps(false);
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
	rmdir(HS_PIN_DIR); /* only succeeds once empty */
}

void map_fds_from_skel(const struct hydrascope *skel, struct map_fds *m)
{
	m->flows = bpf_map__fd(skel->maps.flows);
	m->sources = bpf_map__fd(skel->maps.sources);
	m->sigs = bpf_map__fd(skel->maps.tcp_sigs);
	m->stats = bpf_map__fd(skel->maps.stats);
}

void loader_block_hint_sync(int blocklist_fd, int hint_fd)
{
	struct hs_lpm_key k;
	struct hs_block_hint h = {0};
	__u32 zero = 0;

	h.prefixes = bpf_map_get_next_key(blocklist_fd, NULL, &k) == 0;
	bpf_map_update_elem(hint_fd, &zero, &h, BPF_ANY);
	/* a block added between the check and the write: set it again */
	if (!h.prefixes && bpf_map_get_next_key(blocklist_fd, NULL, &k) == 0) {
		h.prefixes = 1;
		bpf_map_update_elem(hint_fd, &zero, &h, BPF_ANY);
	}
}
