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
	uint16_t decap;	   /* enum hs_decap_kind bits (--decap); 0: none */
	uint16_t gue_port; /* with HS_DECAP_GUE */
	bool enforce;	   /* drop; default is dry-run */
	bool reuse_pins;   /* reuse pinned maps of a previous instance (run) */
	bool replay;	   /* packets come from BPF_PROG_TEST_RUN (testrun.h) */
	/* flag, never cut, flows whose hello no TLS stack sends (the
	 * datapath's hello_evasive); default: cut them */
	bool allow_evasive;
	uint32_t ringbuf_bytes; /* the events ring buffer, 0: the default */
	/* LRU lists per CPU for flows (BPF_F_NO_COMMON_LRU): what `make
	 * bench` compares with the common list the datapath runs with */
	bool flows_percpu_lru;
};

enum xdp_mode_req { XDP_MODE_AUTO = 0, XDP_MODE_NATIVE, XDP_MODE_GENERIC };

struct attachment {
	int ifindex;
	char ifname[IF_NAMESIZE];
	int xdp_link_fd;  /* bpf_link, or -1 */
	int tc_link_fd;	  /* tcx bpf_link, or -1 (netlink fallback) */
	int old_xdp_prog; /* a taken-over link's previous program */
	int old_tc_prog;
	bool xdp_pinned; /* this instance pinned the link */
	bool tc_pinned;
	bool xdp_took_over; /* updated a pinned link in place */
	bool tc_took_over;
	bool tc_netlink;       /* attached with bpf_tc_attach */
	bool tc_created_qdisc; /* we created clsact, so we remove it */
	const char *xdp_mode;  /* "native" / "generic" as reported */
	const char *tc_mode;   /* "tcx" / "netlink" */
};

/* Returns the loaded skeleton or NULL with a one-line reason in err. */
struct hydrascope *loader_open_load(const struct load_opts *o, char *err,
				    size_t errlen);

/* Attach XDP (bpf_link) and TC egress (tcx link, else netlink), pinning
 * the links; links pinned by a previous instance are taken over in place
 * (bpf_link_update, no gap). Refuses a foreign XDP program unless replace
 * is set. On failure everything is rolled back (attach.c). */
int loader_attach(struct hydrascope *skel, const char *ifname,
		  enum xdp_mode_req mode, bool replace, struct attachment *a,
		  char *err, size_t errlen);
/* Remove the datapath: unpin and close the links, remove a netlink
 * filter (and the clsact qdisc we created). Idempotent. */
void loader_detach(struct attachment *a);
/* Hand over: close our fds, leave the pinned links (and the datapath) in
 * place for the next instance. */
void loader_release(struct attachment *a);
/* No instance running: remove the datapath its pins left behind. Returns
 * the number of hooks it found. */
int loader_detach_pinned(void);

/* Mount bpffs on /sys/fs/bpf when missing. */
int bpffs_ensure(char *err, size_t errlen);
/* Pin the maps operators inspect under paths_pin_dir(). Unpinning removes the
 * per-instance maps; the blocking layer's maps (blocklist, allowlist,
 * tuple_rules) stay, so that blocks outlive a restart, unless all is set. */
int loader_pin_maps(struct hydrascope *skel, char *err, size_t errlen);
void loader_unpin_maps(bool all);
/* block_hint: which blocking maps may hold entries (the datapath skips
 * lookups in empty ones). Writers mark their field: an allowlist writer
 * before it adds (an allowlisted source must never meet a "no allowlist"
 * hint), a rules writer after it changed a rule (the new generation makes
 * flows look their rule up again). */
enum hint_field { HINT_PREFIXES, HINT_ALLOWS, HINT_RULES, HINT_CUTS };
int loader_hint_mark(int hint_fd, enum hint_field f);
/* The running instance: clear the fields of empty maps, then check them
 * again in case a writer added something meanwhile. */
void loader_hint_sync(int hint_fd, int blocklist_fd, int allowlist_fd,
		      int tuple_rules_fd, int cuts_fd);
/* Path of a pinned map by name. */
void loader_pin_path(const char *name, char *buf, size_t cap);

#endif
