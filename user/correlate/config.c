// SPDX-License-Identifier: BSD-2-Clause
/*
 * Correlator and policy thresholds: defaults and the config file
 * (`key = value` lines, `#` comments). An unknown key, a value of the wrong
 * kind or out of range stops with "file:line: ..." before anything loads.
 *
 * How the defaults were chosen (measurements in the README):
 *  - relay: a flow's detour estimate is min(TLS RTT - TCP RTT - the
 *    family's client processing, ACK->ClientHello - 2 ms). With a relay
 *    both grow by the detour; client processing only grows the first
 *    (headless Chromium ~40 ms, Go ~20 ms on a busy host, curl/openssl
 *    ~1 ms), network jitter (CGNAT) only moves one of the two samples.
 *    Real proxies in netns tracked the configured detour within ~3 ms;
 *    direct clients stay under 3 ms. Bound: 10 ms.
 *  - robotic: fixed-period scripts give CV < 0.05, human think times
 *    0.5-1.1; bound 0.15, humans from 0.35.
 *  - uniform: templated requests of one script vary by < 5 % in size;
 *    browsers' requests by 30 % and more (cookies, paths). Bound 0.1.
 *  - clusters: 5 low-volume sources over 5 distinct /24 (/48) is more
 *    spread than one NAT, office or small cloud customer shows.
 */
#include "correlate/correlate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void corr_config_defaults(struct corr_config *c)
{
	static const unsigned base_gap[FAM_COUNT] = {
	    [FAM_UNKNOWN] = 40000,  [FAM_CHROMIUM] = 40000,
	    [FAM_FIREFOX] = 20000,  [FAM_SAFARI] = 20000,
	    [FAM_SCHANNEL] = 10000, [FAM_OPENSSL] = 2000,
	    [FAM_GNUTLS] = 2000,    [FAM_GO] = 20000,
	    [FAM_JAVA] = 20000,	    [FAM_OTHER] = 40000,
	};

	*c = (struct corr_config){
	    .window_s = 300,
	    .eval_interval_s = 10,
	    .reemit_s = 600,
	    .relay_min_gap_us = 10000,
	    .relay_require_ack_delay = 1,
	    .relay_base_ack_us = 2000,
	    .relay_min_flows = 2,
	    .relay_min_share = 0.5,
	    .stack_min_implausibility = 0.5,
	    .stack_min_flows = 2,
	    .stack_min_share = 0.5,
	    .hop_max_mss = 1400,
	    .hop_max_hops = 30,
	    .robotic_max_cv = 0.15,
	    .robotic_min_bursts = 5,
	    .band_min_bursts = 3,
	    .human_min_cv = 0.35,
	    .uniform_max_cv = 0.1,
	    .uniform_min_requests = 5,
	    .cluster_min_sources = 5,
	    .cluster_min_prefixes = 5,
	    .cluster_max_source_flows = 20,
	    .cluster_min_evidence = 0.5,
	    .rotation_min_churn = 0.5,
	    .rotation_max_span_s = 120,
	    .pivot_min_shift = 0.5,
	    .pivot_min_flows = 20,
	    .max_clusters = 16384,
	    .max_members = 131072,
	    .decide_relay_min_score = 0.8,
	    .decide_relay_alone = 0,
	    .decide_residential_min_score = 0.7,
	    .decide_cluster_min_score = 0.6,
	    .decide_cluster_members = 0,
	    .ttl_relay_s = 900,
	    .ttl_residential_s = 1800,
	    .ttl_cluster_s = 3600,
	    .ttl_max_s = 86400,
	    .ttl_jitter_pct = 10,
	    .offence_half_life_s = 86400,
	    .block_v4_prefix = 32,
	    .block_v6_prefix = 64,
	    .max_blocks = 10000,
	    .max_tuple_rules = 1024,
	    .max_listed_sources = 100,
	};
	memcpy(c->relay_base_gap_us, base_gap, sizeof(base_gap));
}

struct key_def {
	const char *name;
	size_t off;
	double min, max;
	bool is_double;
};

#define U(field, lo, hi)                                                       \
	{                                                                      \
#field, offsetof(struct corr_config, field), lo, hi, false     \
	}
#define D(field, lo, hi)                                                       \
	{                                                                      \
#field, offsetof(struct corr_config, field), lo, hi, true      \
	}
static const struct key_def keys[] = {
    U(window_s, 10, 86400),
    U(eval_interval_s, 1, 3600),
    U(reemit_s, 1, 86400),
    U(relay_min_gap_us, 0, 10e6),
    U(relay_require_ack_delay, 0, 1),
    U(relay_base_ack_us, 0, 10e6),
    U(relay_min_flows, 1, 1e6),
    D(relay_min_share, 0, 1),
    D(stack_min_implausibility, 0, 1),
    U(stack_min_flows, 1, 1e6),
    D(stack_min_share, 0, 1),
    U(hop_max_mss, 0, 65535),
    U(hop_max_hops, 1, 255),
    D(robotic_max_cv, 0, 10),
    U(robotic_min_bursts, 3, 1e6),
    U(band_min_bursts, 3, 1e6),
    D(human_min_cv, 0, 10),
    D(uniform_max_cv, 0, 10),
    U(uniform_min_requests, 2, 1e6),
    U(cluster_min_sources, 2, 1e7),
    U(cluster_min_prefixes, 1, 1e7),
    U(cluster_max_source_flows, 1, 1e9),
    D(cluster_min_evidence, 0, 1),
    D(rotation_min_churn, 0, 1),
    U(rotation_max_span_s, 1, 86400),
    D(pivot_min_shift, 0, 1),
    U(pivot_min_flows, 1, 1e9),
    U(max_clusters, 16, 1e7),
    U(max_members, 16, 1e8),
    D(decide_relay_min_score, 0, 1),
    U(decide_relay_alone, 0, 1),
    D(decide_residential_min_score, 0, 1),
    D(decide_cluster_min_score, 0, 1),
    U(decide_cluster_members, 0, 1),
    U(ttl_relay_s, 1, 31536000),
    U(ttl_residential_s, 1, 31536000),
    U(ttl_cluster_s, 1, 31536000),
    U(ttl_max_s, 1, 31536000),
    U(ttl_jitter_pct, 0, 50),
    U(offence_half_life_s, 1, 31536000),
    U(block_v4_prefix, 8, 32),
    U(block_v6_prefix, 16, 128),
    U(max_blocks, 0, 1e8),
    U(max_tuple_rules, 0, 1e6),
    U(max_listed_sources, 1, 1e5),
};
#undef U
#undef D

#define BASE_GAP_PREFIX "relay_base_gap_us_"

/* A key of the table, or one of relay_base_gap_us_<family>. */
static bool find_key(const char *k, struct key_def *out)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].name, k)) {
			*out = keys[i];
			return true;
		}
	if (!strncmp(k, BASE_GAP_PREFIX, strlen(BASE_GAP_PREFIX))) {
		enum client_family f =
		    client_family_parse(k + strlen(BASE_GAP_PREFIX));

		if (f == FAM_COUNT)
			return false;
		*out = (struct key_def){
		    k,
		    offsetof(struct corr_config, relay_base_gap_us[0]) +
			f * sizeof(unsigned),
		    0, 10e6, false};
		return true;
	}
	return false;
}

/* Split "key = value  # comment" in place; false if there is no '='. */
static bool split_line(char *line, char **key, char **val)
{
	char *k = line + strspn(line, " \t"), *v, *e;

	v = strchr(k, '=');
	if (!v)
		return false;
	*v++ = 0;
	for (e = v - 2; e >= k && (*e == ' ' || *e == '\t'); e--)
		*e = 0;
	v += strspn(v, " \t");
	v[strcspn(v, " \t\r\n#")] = 0;
	*key = k;
	*val = v;
	return true;
}

int corr_config_load(const char *path, struct corr_config *c, char *err,
		     size_t errlen)
{
	char line[512];
	unsigned n = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *k, *v, *end, *first = line + strspn(line, " \t");
		struct key_def d;
		double val;

		n++;
		if (*first == '#' || *first == '\n' || *first == '\r' ||
		    !*first)
			continue;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, n);
			goto bad;
		}
		if (!split_line(line, &k, &v)) {
			snprintf(err, errlen, "%s:%u: expected key = value",
				 path, n);
			goto bad;
		}
		if (!find_key(k, &d)) {
			snprintf(err, errlen, "%s:%u: unknown key '%s'", path,
				 n, k);
			goto bad;
		}
		errno = 0;
		val = strtod(v, &end);
		if (errno || end == v || *end || !(val >= d.min) ||
		    !(val <= d.max) || (!d.is_double && val != floor(val))) {
			snprintf(err, errlen,
				 "%s:%u: %s wants %s from %g to %g, got '%s'",
				 path, n, k,
				 d.is_double ? "a number" : "an integer", d.min,
				 d.max, v);
			goto bad;
		}
		if (d.is_double)
			*(double *)((char *)c + d.off) = val;
		else
			*(unsigned *)((char *)c + d.off) = (unsigned)val;
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	return -1;
}

static const char *const kind_names[IND_COUNT] = {
    [IND_RELAY_RTT_GAP] = "relay_rtt_gap",
    [IND_STACK_MISMATCH] = "stack_mismatch",
    [IND_HOP_ANOMALY] = "hop_anomaly",
    [IND_ROBOTIC_CADENCE] = "robotic_cadence",
    [IND_UNIFORM_REQUESTS] = "uniform_requests",
    [IND_RESIDENTIAL_PROXY] = "residential_proxy",
    [IND_FARM_CLUSTER] = "farm_cluster",
    [IND_ROTATION] = "rotation",
    [IND_PIVOT] = "pivot",
};

const char *ind_kind_name(enum ind_kind k)
{
	return k < IND_COUNT ? kind_names[k] : "unknown";
}

static const char *const band_names[BAND_COUNT] = {
    [BAND_SPARSE] = "sparse",
    [BAND_ROBOTIC] = "robotic",
    [BAND_REGULAR] = "regular",
    [BAND_HUMAN] = "human",
};

const char *band_name(enum cadence_band b)
{
	return b < BAND_COUNT ? band_names[b] : "unknown";
}
