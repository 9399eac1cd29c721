// SPDX-License-Identifier: BSD-2-Clause
/*
 * Attaching the datapath to an interface. XDP attaches as a bpf_link
 * (native, else generic in auto mode); TC egress as a tcx bpf_link where the
 * kernel has tcx (6.6+), else through netlink on a clsact qdisc. The links
 * are pinned under paths_link_dir(), so the datapath outlives a daemon that
 * dies (blocks then lapse at their kernel-time expiry), and the next daemon
 * takes them over with bpf_link_update: the program is replaced atomically,
 * with no moment where the interface runs without one.
 *
 * Any failure undoes what was done before it: new links are removed, a
 * link that was taken over gets its previous program back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "hydrascope/abi.h" /* before the skeleton: its .rodata uses hs_config */
#include "hydrascope.skel.h"
#include "lib/paths.h"
#include "datapath/loader.h"
#include "lib/hstime.h"

/* Debian 12's uapi headers predate tcx (kernel 6.6); the values are ABI. */
#define HS_BPF_TCX_EGRESS 47
#define TC_HANDLE 0x4853
#define TC_PRIO 1

static void link_path(const char *hook, const char *ifname, char *buf,
		      size_t cap)
{
	snprintf(buf, cap, "%s/%s_%s", paths_link_dir(), hook, ifname);
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

static int pin_link(int fd, const char *path, char *err, size_t errlen)
{
	if ((mkdir(paths_pin_dir(), 0700) && errno != EEXIST) ||
	    (mkdir(paths_link_dir(), 0700) && errno != EEXIST) ||
	    bpf_obj_pin(fd, path)) {
		snprintf(err, errlen, "cannot pin %s: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* The program a link runs now (an fd, to put it back on a rollback). */
static int prog_of_link(int link_fd)
{
	struct bpf_link_info info = {0};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(link_fd, &info, &len))
		return -1;
	return bpf_prog_get_fd_by_id(info.prog_id);
}

/* Take over the link pinned at path, if any: point it at prog_fd in one
 * atomic update. Returns 1 (taken over), 0 (nothing pinned) or -1. */
static int take_over(const char *path, int prog_fd, int *link_fd, int *old_prog,
		     char *err, size_t errlen)
{
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return 0;
	*old_prog = prog_of_link(fd);
	if (bpf_link_update(fd, prog_fd, NULL)) {
		snprintf(err, errlen, "cannot update the pinned link %s: %s",
			 path, strerror(errno));
		close(fd);
		if (*old_prog >= 0)
			close(*old_prog);
		*old_prog = -1;
		return -1;
	}
	*link_fd = fd;
	return 1;
}

static int read_meta(struct hs_meta *m)
{
	char path[256];
	__u32 zero = 0;
	int fd, rc;

	loader_pin_path("meta", path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -1;
	rc = bpf_map_lookup_elem(fd, &zero, m);
	close(fd);
	return rc;
}

static int tc_netlink(struct attachment *a, int prog_fd, bool replace_ours,
		      char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, to, .prog_fd = prog_fd, .handle = TC_HANDLE,
		    .priority = TC_PRIO);
	int ret;

	if (replace_ours) {
		/* our filter from a previous daemon: swap its program */
		to.flags = BPF_TC_F_REPLACE;
		ret = bpf_tc_attach(&hook, &to);
		if (ret) {
			snprintf(err, errlen,
				 "cannot replace the TC filter: %s",
				 strerror(-ret));
			return -1;
		}
		a->tc_netlink = true;
		a->tc_mode = "netlink";
		return 0;
	}
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

static int attach_tc(int prog_fd, struct attachment *a, char *err,
		     size_t errlen)
{
	char path[256];
	struct hs_meta m;
	int r;

	link_path("tc", a->ifname, path, sizeof(path));
	r = take_over(path, prog_fd, &a->tc_link_fd, &a->old_tc_prog, err,
		      errlen);
	if (r) {
		a->tc_took_over = r > 0;
		a->tc_mode = "tcx";
		return r < 0 ? -1 : 0;
	}
	if (!read_meta(&m) && m.ifindex == (__u32)a->ifindex &&
	    m.flags & HS_META_TC_NETLINK) {
		a->tc_took_over = true;
		a->tc_created_qdisc = m.flags & HS_META_TC_QDISC;
		return tc_netlink(a, prog_fd, true, err, errlen);
	}
	a->tc_link_fd =
	    bpf_link_create(prog_fd, a->ifindex, HS_BPF_TCX_EGRESS, NULL);
	if (a->tc_link_fd >= 0) {
		a->tc_mode = "tcx";
		if (pin_link(a->tc_link_fd, path, err, errlen)) {
			close(a->tc_link_fd);
			a->tc_link_fd = -1;
			return -1;
		}
		a->tc_pinned = true;
		return 0;
	}
	/* no tcx on this kernel: clsact + netlink filter */
	return tc_netlink(a, prog_fd, false, err, errlen);
}

static int attach_new_xdp(struct hydrascope *skel, struct attachment *a,
			  enum xdp_mode_req mode, bool replace,
			  const char *path, char *err, size_t errlen)
{
	char cur[64];

	if (current_xdp_prog(a->ifindex, cur, sizeof(cur))) {
		if (!replace) {
			snprintf(err, errlen,
				 "%s already has an XDP program (%s); refusing "
				 "to replace it (use --replace)",
				 a->ifname, cur);
			return -1;
		}
		/* take over: remove a netlink-attached program; a program
		 * held by another bpf_link cannot be removed from here */
		if (bpf_xdp_detach(a->ifindex, 0, NULL)) {
			snprintf(err, errlen,
				 "cannot replace XDP program %s on %s: %s "
				 "(held by a bpf_link?)",
				 cur, a->ifname, strerror(errno));
			return -1;
		}
	}
	a->xdp_link_fd = attach_xdp(bpf_program__fd(skel->progs.xdp_ingress),
				    a->ifindex, mode, err, errlen);
	if (a->xdp_link_fd < 0)
		return -1;
	if (pin_link(a->xdp_link_fd, path, err, errlen)) {
		close(a->xdp_link_fd);
		a->xdp_link_fd = -1;
		return -1;
	}
	a->xdp_pinned = true;
	return 0;
}

static void write_meta(struct hydrascope *skel, const struct attachment *a)
{
	struct hs_meta m = {
	    .schema_version = HS_SCHEMA_VERSION,
	    .ifindex = (__u32)a->ifindex,
	    .flags = (a->tc_netlink ? HS_META_TC_NETLINK : 0) |
		     (a->tc_created_qdisc ? HS_META_TC_QDISC : 0),
	};
	struct timespec ts;
	__u32 zero = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	m.attached_unix_ns = hs_timespec_ns(&ts);
	snprintf(m.ifname, sizeof(m.ifname), "%s", a->ifname);
	bpf_map_update_elem(bpf_map__fd(skel->maps.meta), &zero, &m, BPF_ANY);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* TC failed: a taken-over XDP link gets its previous program back (the
 * previous daemon's pin stays); a new one is removed. */
static void rollback_xdp(struct attachment *a)
{
	char path[256];

	if (a->xdp_took_over) {
		if (a->old_xdp_prog >= 0)
			bpf_link_update(a->xdp_link_fd, a->old_xdp_prog, NULL);
	} else {
		link_path("xdp", a->ifname, path, sizeof(path));
		unlink(path);
	}
	close_fd(&a->xdp_link_fd);
	close_fd(&a->old_xdp_prog);
}

int loader_attach(struct hydrascope *skel, const char *ifname,
		  enum xdp_mode_req mode, bool replace, struct attachment *a,
		  char *err, size_t errlen)
{
	char path[256];
	int r;

	memset(a, 0, sizeof(*a));
	a->xdp_link_fd = a->tc_link_fd = -1;
	a->old_xdp_prog = a->old_tc_prog = -1;
	a->ifindex = (int)if_nametoindex(ifname);
	if (!a->ifindex) {
		snprintf(err, errlen, "no such interface: %s", ifname);
		return -1;
	}
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	link_path("xdp", ifname, path, sizeof(path));
	r = take_over(path, bpf_program__fd(skel->progs.xdp_ingress),
		      &a->xdp_link_fd, &a->old_xdp_prog, err, errlen);
	if (r < 0)
		return -1;
	a->xdp_took_over = r > 0;
	if (!r && attach_new_xdp(skel, a, mode, replace, path, err, errlen))
		return -1;
	a->xdp_mode = xdp_mode_name(a->ifindex);
	if (attach_tc(bpf_program__fd(skel->progs.tc_egress), a, err, errlen)) {
		rollback_xdp(a);
		return -1;
	}
	write_meta(skel, a);
	return 0;
}

void loader_detach(struct attachment *a)
{
	char path[256];

	if (a->xdp_link_fd >= 0 || a->xdp_pinned) {
		link_path("xdp", a->ifname, path, sizeof(path));
		unlink(path);
	}
	if (a->tc_link_fd >= 0 || a->tc_pinned) {
		link_path("tc", a->ifname, path, sizeof(path));
		unlink(path);
	}
	close_fd(&a->tc_link_fd);
	if (a->tc_netlink) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->ifindex,
			    .attach_point = BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, to, .handle = TC_HANDLE,
			    .priority = TC_PRIO);

		bpf_tc_detach(&hook, &to);
		if (a->tc_created_qdisc) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
	}
	close_fd(&a->xdp_link_fd);
	close_fd(&a->old_xdp_prog);
	close_fd(&a->old_tc_prog);
	rmdir(paths_link_dir()); /* only once empty */
	a->tc_netlink = a->tc_created_qdisc = false;
	a->xdp_pinned = a->tc_pinned = false;
}

void loader_release(struct attachment *a)
{
	/* the pins keep the links, and the datapath, in place */
	close_fd(&a->xdp_link_fd);
	close_fd(&a->tc_link_fd);
	close_fd(&a->old_xdp_prog);
	close_fd(&a->old_tc_prog);
	a->xdp_pinned = a->tc_pinned = false;
	a->tc_netlink = a->tc_created_qdisc = false;
}

int loader_detach_pinned(void)
{
	struct attachment a;
	struct hs_meta m;
	int n = 0;

	memset(&a, 0, sizeof(a));
	a.xdp_link_fd = a.tc_link_fd = a.old_xdp_prog = a.old_tc_prog = -1;
	if (read_meta(&m))
		return 0;
	snprintf(a.ifname, sizeof(a.ifname), "%.*s", (int)sizeof(m.ifname) - 1,
		 m.ifname);
	a.ifindex = (int)m.ifindex;
	a.xdp_pinned = a.tc_pinned = true;
	a.tc_netlink = m.flags & HS_META_TC_NETLINK;
	a.tc_created_qdisc = m.flags & HS_META_TC_QDISC;
	{
		char path[256];

		link_path("xdp", a.ifname, path, sizeof(path));
		n += !access(path, F_OK);
		link_path("tc", a.ifname, path, sizeof(path));
		n += !access(path, F_OK) || a.tc_netlink;
	}
	loader_detach(&a);
	return n;
}
