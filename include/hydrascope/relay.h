/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The relay test of a relay-conditional tuple rule: does a flow's handshake
 * timing show the detour a relay adds? Compiled into the BPF program, which
 * cuts a flow the test passes on before its first request, and into
 * userspace, which learns the rule's bounds from the flows it saw and
 * checks them with this very function (tests assert that the kernel's
 * verdicts are this function's).
 *
 * A relay in the path adds its detour d to two samples: the ACK->ClientHello
 * delay (the client sends its hello only once the relay's "connected" reply
 * crossed the detour; direct clients send it within ~2 ms) and TLS RTT -
 * TCP RTT (the TLS round trip crosses it again, the TCP one ends at the
 * relay). Client processing adds to the TLS gap only (certificate checks:
 * ~40 ms for headless Chromium, ~1 ms for curl), a stall of the client
 * before its hello to the ACK->hello delay only. A flow is cut when
 *  - both samples pass the rule's default bounds: TLS gap >= min_gap_us
 *    (the client family's processing allowance + the detour bound) and
 *    ACK->hello >= min_ack_hello_us (the direct allowance + the detour
 *    bound), or
 *  - with a learned bound (low_ack_us set): ACK->hello >= low_ack_us and
 *    the TLS gap falls short of it by at most lead_max_us, i.e. both grew
 *    by one detour. low_ack_us sits above every direct flow of the rule's
 *    TLS client that the same lead admits (user/correlate/relay_bound.c),
 *    so a slow certificate check (a large gap, a prompt hello) and a
 *    client that stalls before its hello (a late hello, a small gap) stay
 *    out whatever its size.
 * The timing must be clean (no retransmitted SYN-ACK or server flight):
 * the caller checks that and passes the three samples in microseconds.
 */
#ifndef HYDRASCOPE_RELAY_H
#define HYDRASCOPE_RELAY_H

#include "abi.h"

#include <stdbool.h>

#ifndef __bpf__
#define HS_RELAY_FN static inline
#else
#define HS_RELAY_FN static __always_inline
#endif

HS_RELAY_FN bool hs_relay_cut(const struct hs_tuple_rule *r, __u32 tcp_rtt_us,
			      __u32 tls_rtt_us, __u32 ack_hello_us)
{
	__u32 gap;

	if (tls_rtt_us < tcp_rtt_us)
		return false; /* the detour cannot be in the TLS round trip */
	gap = tls_rtt_us - tcp_rtt_us;
	if (gap >= r->min_gap_us && ack_hello_us >= r->min_ack_hello_us)
		return true;
	return r->low_ack_us && ack_hello_us >= r->low_ack_us &&
	       (__u64)gap + r->lead_max_us >= ack_hello_us;
}

#endif /* HYDRASCOPE_RELAY_H */
