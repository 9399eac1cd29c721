// SPDX-License-Identifier: BSD-2-Clause
#include "datapath/testrun.h"

#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "hydrascope/abi.h" /* before the skeleton: its .rodata uses hs_config */
#include "hydrascope.skel.h"

void testrun_progs_from_skel(const struct hydrascope *skel,
			     struct testrun_progs *p)
{
	p->xdp_fd = bpf_program__fd(skel->progs.xdp_ingress);
	p->tc_fd = bpf_program__fd(skel->progs.tc_egress);
}

/* Repeat is 1: a larger repeat makes the kernel swap the XDP dispatcher on
 * every call, which costs ~300 us. */
int testrun_packet(const struct testrun_progs *p, bool egress, uint8_t *buf,
		   size_t len, uint64_t ts_ns, uint32_t *retval)
{
	struct __sk_buff skb = {.tstamp = ts_ns};
	/* the metadata is the TESTRUN_HEADROOM bytes ahead of data */
	struct xdp_md md = {.data = TESTRUN_HEADROOM,
			    .data_end = TESTRUN_HEADROOM + (__u32)len};
	LIBBPF_OPTS(bpf_test_run_opts, o, .repeat = 1);
	int fd;

	if (egress) {
		fd = p->tc_fd;
		o.data_in = buf + TESTRUN_HEADROOM;
		o.data_size_in = (__u32)len;
		o.ctx_in = &skb;
		o.ctx_size_in = sizeof(skb);
	} else {
		fd = p->xdp_fd;
		memcpy(buf, &ts_ns, sizeof(ts_ns));
		o.data_in = buf;
		o.data_size_in = TESTRUN_HEADROOM + (__u32)len;
		o.ctx_in = &md;
		o.ctx_size_in = sizeof(md);
	}
	if (bpf_prog_test_run_opts(fd, &o))
		return -1;
	*retval = o.retval;
	return 0;
}
