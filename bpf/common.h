/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Includes and small definitions shared by the BPF headers. */
#ifndef HS_BPF_COMMON_H
#define HS_BPF_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "hydrascope/abi.h"
#include "hydrascope/tuple.h"

/* uapi #defines that BTF does not carry */
#define IPPROTO_HOPOPTS 0
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_DSTOPTS 60
#define TC_ACT_OK 0

struct hs_vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

#endif /* HS_BPF_COMMON_H */
