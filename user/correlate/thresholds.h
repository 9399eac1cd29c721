/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The correlator and policy thresholds, listed once. From this list come
 * the fields of struct corr_config (correlate.h), the defaults and the
 * config file's keys and ranges (config.c), and, through
 * tools/gen-thresholds.c (`make thresholds-docs`),
 * deploy/hydrascope.conf.example and the README's threshold table;
 * tests/docs/thresholds_test.sh fails when those two differ from the list.
 *
 * X(name, kind, default, min, max, help) is one key; S(title) starts a
 * group of the example config and the table. Kinds:
 *  UINT              an unsigned integer
 *  REAL              a double
 *  UINT_PER_FAMILY   an unsigned per TLS client family: unsigned
 *                    name[FAM_COUNT], keys name_<family> (client_family.c's
 *                    names), the default a designated initializer
 * min and max bound the config file's values; the help is one line, shown
 * in the README's table (and, for a per-family key, above its keys in the
 * example config, where the name alone does not say what the suffix is).
 *
 * How the defaults were chosen (measurements in the README):
 *  - relay: a flow's detour estimate is ACK->ClientHello - 2 ms when the
 *    TLS RTT - TCP RTT gap grew by as much (within the path's jitter),
 *    else min(that gap - the family's client processing, ACK->hello -
 *    2 ms). With a relay both grow by the detour; client processing only
 *    grows the gap (headless Chromium ~40 ms, Go ~20 ms on a busy host,
 *    curl/openssl ~1 ms), network jitter (CGNAT) only moves one of the two
 *    samples. Real proxies in netns tracked the configured detour within
 *    ~3 ms; direct clients stay under 3 ms. Bound: 10 ms; 3 ms where
 *    several flows or a cluster's members agree. One flow suffices:
 *    rotating farms use most exits once.
 *  - learned relay bound: a farm's tuple rule cuts at the default bound
 *    (the family's allowance + relay_min_gap_us, 12 ms for a script) or
 *    lower where the farm's TLS client has enough direct flows (50, from 3
 *    sources) to show how late its direct hellos come: above the latest
 *    of them by relay_base_ack_us or a quarter, never under
 *    relay_base_ack_us + relay_weak_gap_us (relay_bound.c).
 *  - multiple testing: among thousands of sources a rare pattern shows by
 *    chance; alert_budget bounds the expected chance hits per window.
 *  - robotic: fixed-period scripts give CV < 0.05, human think times
 *    0.5-1.1; bound 0.15, humans from 0.35.
 *  - uniform: templated requests of one script vary by < 5 % in size;
 *    browsers' requests by 30 % and more (cookies, paths). Bound 0.1.
 *  - clusters: 5 low-volume sources over 5 distinct /24 (/48) is more
 *    spread than one NAT, office or small cloud customer shows.
 */
#ifndef HS_USER_THRESHOLDS_H
#define HS_USER_THRESHOLDS_H

#include "fingerprint/client_family.h"

#define HS_RELAY_BASE_GAP_US_DEFAULTS                                          \
	{                                                                      \
		[FAM_UNKNOWN] = 40000, [FAM_CHROMIUM] = 40000,                 \
		[FAM_FIREFOX] = 20000, [FAM_SAFARI] = 20000,                   \
		[FAM_SCHANNEL] = 10000, [FAM_OPENSSL] = 2000,                  \
		[FAM_GNUTLS] = 2000, [FAM_GO] = 20000, [FAM_JAVA] = 20000,     \
		[FAM_OTHER] = 40000,                                           \
	}

#define HS_CORR_THRESHOLDS(X, S)                                               \
	S("windows")                                                           \
	X(window_s, UINT, 300, 10, 86400,                                      \
	  "activity window of every indicator")                                \
	X(eval_interval_s, UINT, 10, 1, 3600,                                  \
	  "evaluate this often (datapath clock)")                              \
	X(reemit_s, UINT, 600, 1, 86400, "repeat a still-firing record after") \
	S("relay_rtt_gap")                                                     \
	X(relay_min_gap_us, UINT, 10000, 0, 10e6,                              \
	  "detour estimate that makes a flow a relay hit")                     \
	X(relay_require_ack_delay, UINT, 1, 0, 1,                              \
	  "1: the estimate is also bounded by ACK->ClientHello - "             \
	  "relay_base_ack_us")                                                 \
	X(relay_base_ack_us, UINT, 2000, 0, 10e6,                              \
	  "direct clients send the ClientHello within this of the ACK")        \
	X(relay_min_flows, UINT, 1, 1, 1e6,                                    \
	  "relay hits a source needs (one: rotating exits are used once)")     \
	X(relay_min_share, REAL, 0.5, 0, 1,                                    \
	  "share of its measured flows a source (or member) needs as hits")    \
	X(relay_weak_gap_us, UINT, 3000, 0, 10e6,                              \
	  "small detour that counts when several flows (or a cluster's "       \
	  "members) agree")                                                    \
	X(relay_weak_min_flows, UINT, 3, 1, 1e6,                               \
	  "small-detour flows a source needs (80 % of its flows)")             \
	X(relay_chance_rate, REAL, 0.01, 1e-6, 0.5,                            \
	  "share of a cluster's direct members that look relayed by chance")   \
	X(relay_base_gap_us, UINT_PER_FAMILY, HS_RELAY_BASE_GAP_US_DEFAULTS,   \
	  0, 10e6,                                                             \
	  "client processing added to TLS RTT - TCP RTT, by TLS client "       \
	  "family")                                                            \
	X(relay_learn_min_flows, UINT, 50, 0, 1e9,                             \
	  "direct flows of a farm's TLS client measured before its rule's "    \
	  "bound is learned from them (0: never)")                             \
	X(relay_learn_min_sources, UINT, 3, 1, 1e6,                            \
	  "... from at least this many direct sources")                        \
	S("stack_mismatch")                                                    \
	X(stack_min_implausibility, REAL, 0.5, 0, 1,                           \
	  "implausibility of the TLS family on the SYN's OS class that makes " \
	  "a flow a hit")                                                      \
	X(stack_min_flows, UINT, 2, 1, 1e6,                                    \
	  "mismatching flows a source needs")                                  \
	X(stack_min_share, REAL, 0.5, 0, 1,                                    \
	  "share of its checked flows a source (or member) needs mismatching") \
	S("hop_anomaly")                                                       \
	X(hop_max_mss, UINT, 1400, 0, 65535, "a SYN's MSS below this fires")   \
	X(hop_max_hops, UINT, 30, 1, 255, "more hops than this fire")          \
	S("cadence bands, robotic_cadence")                                    \
	X(robotic_max_cv, REAL, 0.15, 0, 10,                                   \
	  "inter-request CV up to this: the robotic band and robotic_cadence") \
	X(robotic_min_bursts, UINT, 5, 3, 1e6,                                 \
	  "requests robotic_cadence needs")                                    \
	X(band_min_bursts, UINT, 3, 3, 1e6,                                    \
	  "requests a cadence band needs (fewer: sparse)")                     \
	X(human_min_cv, REAL, 0.35, 0, 10,                                     \
	  "inter-request CV from this: the human band")                        \
	X(alert_budget, REAL, 0.01, 1e-9, 100,                                 \
	  "chance hits allowed per window over every source and group "        \
	  "tested")                                                            \
	S("uniform_requests")                                                  \
	X(uniform_max_cv, REAL, 0.1, 0, 10,                                    \
	  "request-size CV up to this fires")                                  \
	X(uniform_min_requests, UINT, 5, 2, 1e6, "requests a source needs")    \
	S("farm_cluster, rotation, pivot")                                     \
	X(cluster_min_sources, UINT, 5, 2, 1e7, "sources a farm needs")        \
	X(cluster_min_prefixes, UINT, 5, 1, 1e7,                               \
	  "distinct /24 (/48) a farm needs")                                   \
	X(cluster_max_source_flows, UINT, 20, 1, 1e9,                          \
	  "flows of a source above which it is no farm member (a NAT, an "     \
	  "office)")                                                           \
	X(cluster_min_evidence, REAL, 0.5, 0, 1,                               \
	  "share of measured members with the relay signal (or the stack "     \
	  "mismatch) that is machine evidence")                                \
	X(rotation_min_churn, REAL, 0.5, 0, 1,                                 \
	  "share of members new to the farm, and of the previous window's "    \
	  "gone")                                                              \
	X(rotation_max_span_s, UINT, 120, 1, 86400,                            \
	  "median member span up to this")                                     \
	X(pivot_min_shift, REAL, 0.5, 0, 1,                                    \
	  "total variation distance of the endpoint mix between windows")      \
	X(pivot_min_flows, UINT, 20, 1, 1e9, "flows each window needs")        \
	X(link_min_intervals, UINT, 4, 2, 1e6,                                 \
	  "connection intervals a direct member needs to link to a relayed "   \
	  "farm")                                                              \
	X(link_max_period_dev, REAL, 0.1, 0, 1,                                \
	  "largest relative period difference of a linked member or a "        \
	  "robotic farm's members")                                            \
	X(link_max_size_dev, REAL, 0.15, 0, 10,                                \
	  "largest relative bytes-per-connection difference of the same")      \
	S("bounded state")                                                     \
	X(max_clusters, UINT, 16384, 16, 1e7, "clusters tracked")              \
	X(max_members, UINT, 131072, 16, 1e8,                                  \
	  "members (source x cluster) tracked")                                \
	S("decisions")                                                         \
	X(decide_relay_min_score, REAL, 0.8, 0, 1,                             \
	  "relay_rtt_gap score that blocks, with decide_relay_alone")          \
	X(decide_relay_alone, UINT, 0, 0, 1,                                   \
	  "1: relay_rtt_gap alone blocks its sources")                         \
	X(decide_residential_min_score, REAL, 0.7, 0, 1,                       \
	  "residential_proxy score that blocks")                               \
	X(decide_cluster_min_score, REAL, 0.6, 0, 1,                           \
	  "farm_cluster score that blocks")                                    \
	X(decide_cluster_members, UINT, 0, 0, 1,                               \
	  "1: block a farm's members without the relay signal too")            \
	X(ttl_relay_s, UINT, 900, 1, 31536000, "first block of relay_rtt_gap") \
	X(ttl_residential_s, UINT, 1800, 1, 31536000,                          \
	  "first block of residential_proxy")                                  \
	X(ttl_cluster_s, UINT, 3600, 1, 31536000,                              \
	  "first block of a farm, its tuple rule")                             \
	X(ttl_max_s, UINT, 86400, 1, 31536000,                                 \
	  "the TTL doubles per offence up to this")                            \
	X(ttl_jitter_pct, UINT, 10, 0, 50,                                     \
	  "each expiry stretched by up to this (per prefix)")                  \
	X(offence_half_life_s, UINT, 86400, 1, 31536000,                       \
	  "offences decay by half every")                                      \
	X(block_v4_prefix, UINT, 32, 8, 32, "IPv4 block prefix length")        \
	X(block_v6_prefix, UINT, 64, 16, 128, "IPv6 block prefix length")      \
	X(max_blocks, UINT, 10000, 0, 1e8,                                     \
	  "prefix blocks at most; the weakest gives way to a stronger one")    \
	X(max_blocks_per_prefix, UINT, 1024, 1, 1e8,                           \
	  "prefix blocks at most in one /16 (IPv4) or /48 (IPv6)")             \
	X(max_new_blocks_per_round, UINT, 2000, 1, 1e8,                        \
	  "new prefix blocks at most per round")                               \
	X(max_tuple_rules, UINT, 1024, 0, 1e6,                                 \
	  "tuple rules at most; the weakest gives way to a stronger one")      \
	S("output")                                                            \
	X(max_listed_sources, UINT, 100, 1, 1e5, "sources printed per record")

/* S for the users that have no groups */
#define HS_THR_NO_GROUP(title)

#endif
