// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The baseline every datapath figure is compared with: a bare XDP_PASS. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp.frags")
int xdp_pass(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
