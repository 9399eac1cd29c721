/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One packet through the loaded programs with BPF_PROG_TEST_RUN, at a
 * time of the caller's choosing (replay, the datapath tests). The time
 * travels with the packet, not through a global of the object: 8 bytes of
 * XDP metadata ahead of the frame, the skb's tstamp for TC. So several
 * threads can run packets at once, each at its own packet's time. The
 * object must be loaded with load_opts.replay.
 */
#ifndef HS_USER_DATAPATH_TESTRUN_H
#define HS_USER_DATAPATH_TESTRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes the caller leaves free ahead of the frame (the XDP metadata). */
#define TESTRUN_HEADROOM 8

struct hydrascope;

struct testrun_progs {
	int xdp_fd, tc_fd;
};

void testrun_progs_from_skel(const struct hydrascope *skel,
			     struct testrun_progs *p);

/* buf: TESTRUN_HEADROOM free bytes, then the frame's len bytes. egress
 * runs TC egress, else XDP. ts_ns 0 is the kernel's clock. Returns 0 with
 * the program's verdict in *retval, or -1 with errno set. */
int testrun_packet(const struct testrun_progs *p, bool egress, uint8_t *buf,
		   size_t len, uint64_t ts_ns, uint32_t *retval);

#endif
