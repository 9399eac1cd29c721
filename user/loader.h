/* SPDX-License-Identifier: BSD-2-Clause */
/* Open/load the BPF object, attach it to an interface, pin, detach. */
#ifndef HS_USER_LOADER_H
#define HS_USER_LOADER_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

struct hydrascope;

struct load_opts {
	uint32_t flows;
	uint32_t sources;
	uint32_t sigs;
	uint32_t blocks;
	uint64_t idle_gap_ns;
	bool enforce;	 /* drop; default is dry-run */
	bool reuse_pins; /* take over pinned blocking-layer maps (run) */
};

enum xdp_mode_req { XDP_MODE_AUTO = 0, XDP_MODE_NATIVE, XDP_MODE_GENERIC };

struct attachment {
	int ifindex;
	char ifname[IF_NAMESIZE];
	int xdp_link_fd;       /* bpf_link, or -1 */
	int tc_link_fd;	       /* tcx bpf_link, or -1 (netlink fallback) */
	bool tc_netlink;       /* attached with bpf_tc_attach */
	bool tc_created_qdisc; /* we created clsact, so we remove it */
	const char *xdp_mode;  /* "native" / "generic" as reported */
	const char *tc_mode;   /* "tcx" / "netlink" */
};

/* Returns the loaded skeleton or NULL with a one-line reason in err. */
struct hydrascope *loader_open_load(const struct load_opts *o, char *err,
				    size_t errlen);

/* Attach XDP (bpf_link) and TC egress (tcx link, else netlink). Refuses a
 * foreign XDP program unless replace is set. On failure everything that
 * was attached is rolled back. */
int loader_attach(struct hydrascope *skel, const char *ifname,
		  enum xdp_mode_req mode, bool replace, struct attachment *a,
		  char *err, size_t errlen);
void loader_detach(struct attachment *a);

/* Mount bpffs on /sys/fs/bpf when missing. */
int bpffs_ensure(char *err, size_t errlen);
/* Pin the maps operators inspect under HS_PIN_DIR. Unpinning removes the
 * per-instance maps; the blocking layer's maps (blocklist, allowlist,
 * tuple_rules) stay, so that blocks outlive a restart, unless all is set. */
int loader_pin_maps(struct hydrascope *skel, char *err, size_t errlen);
void loader_unpin_maps(bool all);
/* Keep block_hint equal to "the blocklist is not empty" (the datapath
 * skips the trie lookup while it is empty). */
void loader_block_hint_sync(int blocklist_fd, int hint_fd);
/* Path of a pinned map by name. */
void loader_pin_path(const char *name, char *buf, size_t cap);

#endif
