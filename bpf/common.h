/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Includes and small definitions shared by the BPF headers. */
#ifndef HS_BPF_COMMON_H
#define HS_BPF_COMMON_H

/* UAPI headers, not a vmlinux.h: no CO-RE read is made, so the build does
 * not depend on the build host's kernel. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "hydrascope/abi.h"
#include "hydrascope/tuple.h"

struct hs_vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

#endif /* HS_BPF_COMMON_H */
