/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Maps shared by the XDP and TC programs. max_entries here are defaults;
 * the loader sets the sizes from the command line before load.
 */
#ifndef HS_BPF_MAPS_H
#define HS_BPF_MAPS_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HS_DEFAULT_FLOWS);
	__type(key, struct hs_flow_key);
	__type(value, struct hs_flow);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HS_DEFAULT_SOURCES);
	__type(key, struct hs_addr);
	__type(value, struct hs_source);
} sources SEC(".maps");

/* Full SYN signatures by id; flows and sources refer to them by id. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HS_DEFAULT_SIGS);
	__type(key, __u64);
	__type(value, struct hs_tcp_sig);
} tcp_sigs SEC(".maps");

/* Walker state of hellos in progress; entries live for one handshake. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HS_DEFAULT_HELLO_STATES);
	__type(key, struct hs_flow_key);
	__type(value, struct hs_hello_walk);
} hello_walk SEC(".maps");

/* Per-CPU staging area for a hello segment on its way to the ring buffer
 * (too big for the 512-byte stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hs_hello_seg);
} scratch SEC(".maps");

/* Per-CPU walk state of a hello's first segment: most hellos fit in one,
 * and then no hello_walk entry is made at all. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hs_hello_walk);
} walk_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, HS_RINGBUF_BYTES);
} events SEC(".maps");

/* Flow milestones (struct hs_flow_event) for the correlator, apart from
 * the hello bytes: a flood of 4 KB hello records cannot crowd them out. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, HS_FLOW_EVENTS_BYTES);
} flow_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hs_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, HS_DEFAULT_BLOCKS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct hs_lpm_key);
	__type(value, struct hs_block);
} blocklist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, HS_DEFAULT_ALLOWS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct hs_lpm_key);
	__type(value, struct hs_allow);
} allowlist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HS_DEFAULT_TUPLE_RULES);
	__type(key, __u64);
	__type(value, struct hs_tuple_rule);
} tuple_rules SEC(".maps");

/* Flows cut by a tuple rule or for an evasive hello, apart from the LRU
 * flows map: a plain hash (no eviction) of bounded size whose entries
 * lapse by kernel time. Only a flow whose handshake completed enters it
 * (cut_flow), so forged packets cannot fill it; a full map is counted
 * (the flow stays cut in `flows`). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HS_DEFAULT_CUTS);
	__type(key, struct hs_flow_key);
	__type(value, struct hs_cut);
} cuts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hs_block_hint);
} block_hint SEC(".maps");

/* Schema version and attachment of the pinned datapath (userspace only;
 * pinned so that `bpftool map dump` and the next daemon can read it). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hs_meta);
} meta SEC(".maps");

/* Load-time configuration. */
const volatile struct hs_config cfg = {
    .idle_gap_ns = 100ull * 1000 * 1000,
};

/*
 * Replay's clock: each packet carries its capture time (XDP metadata, the
 * skb's tstamp; see replay_clock_set), which the entry point keeps here for
 * the length of the run. Per CPU because replay runs packets on several
 * threads at once: a test run does not migrate, and a non-preemptible
 * kernel finishes one run before another starts on the same CPU. Live,
 * cfg.replay is 0 and the verifier drops all of it (kernel time).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} replay_clock SEC(".maps");

static __always_inline void replay_clock_set(__u64 t)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&replay_clock, &zero);

	if (c)
		*c = t;
}

static __always_inline __u64 now_ns(void)
{
	if (cfg.replay) {
		__u32 zero = 0;
		__u64 *c = bpf_map_lookup_elem(&replay_clock, &zero);

		/* 0: a test run without a time, on kernel time */
		if (c && *c)
			return *c;
	}
	return bpf_ktime_get_ns();
}

/*
 * The tick clock: kernel time read once per CPU per jiffy. A fine read
 * (bpf_ktime_get_ns) is about a fifth of a mid-flow packet's cost on a VM,
 * and most packets only note that the flow is alive or see whether a gap
 * started a burst, for which a tick (1-10 ms, far below the 100 ms burst
 * gap) is precise enough: they take this clock. The stamps that measure
 * round trips, the hello and the start of a burst take now_ns(). It lags
 * kernel time by at most a tick (HS_TICK_SLACK_NS with room for a late
 * one), so it can be behind a fine stamp taken on another CPU: where it
 * is written over a time it moves it only forward (time_forward). Replay
 * has one clock, the capture's.
 */
#define HS_TICK_SLACK_NS (20ull * 1000 * 1000)

struct hs_tick {
	__u64 jiffies; /* of the stamp below */
	__u64 ns;      /* kernel time of the CPU's first packet in it */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hs_tick);
} tick_clock SEC(".maps");

static __always_inline __u64 now_tick(void)
{
	__u32 zero = 0;
	struct hs_tick *t;
	__u64 j;

	if (cfg.replay)
		return now_ns();
	t = bpf_map_lookup_elem(&tick_clock, &zero);
	if (!t)
		return bpf_ktime_get_ns();
	j = bpf_jiffies64();
	if (t->jiffies != j) {
		t->jiffies = j;
		t->ns = bpf_ktime_get_ns();
	}
	return t->ns;
}

/* Write now over a time unless it would move back (live: the tick clock);
 * replay writes the capture's time as it comes. */
static __always_inline void time_forward(__u64 *t, __u64 now)
{
	if (cfg.replay || (__s64)(now - *t) > 0)
		*t = now;
}

/* A ring buffer record wakes no one: userspace reads both rings at every
 * turn of its loop (200 ms at most) and before a round, and a wakeup (an
 * irq_work, an IPI, a VM exit under a hypervisor; then a context switch)
 * per hello or milestone costs more than the record. The record that
 * fills the ring past a quarter wakes it, once: a reader that does not
 * come (stopped, or busy) is not woken again for every record after it.
 * Replay drains the rings itself and is never woken. */
static __always_inline __u64 ring_wakeup(void *ring, __u64 size, __u64 rec)
{
	__u64 avail;

	if (cfg.replay)
		return BPF_RB_NO_WAKEUP;
	avail = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);
	return avail < size / 4 && avail + rec + 8 >= size / 4
		   ? BPF_RB_FORCE_WAKEUP
		   : BPF_RB_NO_WAKEUP;
}

static __always_inline struct hs_stats *get_stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&stats, &zero);
}

#endif /* HS_BPF_MAPS_H */
