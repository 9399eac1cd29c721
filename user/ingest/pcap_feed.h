/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Capture reader for replay: every packet as an Ethernet frame (other link
 * types get a synthetic Ethernet header), with its time and its direction
 * relative to the monitored host.
 */
#ifndef HS_USER_PCAP_FEED_H
#define HS_USER_PCAP_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datapath/testrun.h"
#include "lib/addr.h"

#define FEED_MAX_FRAME 65550

enum direction { DIR_INGRESS = 0, DIR_EGRESS };

struct feed_packet {
	uint64_t ts_ns;
	size_t len;
	bool truncated; /* captured shorter than on the wire */
	enum direction dir;
	/* a hash of the client's address (0: not IP): what the datapath keys
	 * flows and sources on, so the shard of a threaded replay */
	uint64_t client;
	/* XDP may send a ring buffer event for it: an ingress packet, unless
	 * its TCP header is followed by no byte */
	bool may_event;
	/* room for the time a test run carries ahead of the frame, then the
	 * frame: the packet runs from here without a copy */
	uint8_t buf[TESTRUN_HEADROOM + FEED_MAX_FRAME];
};

static inline uint8_t *feed_frame(struct feed_packet *p)
{
	return p->buf + TESTRUN_HEADROOM;
}

struct feed;

/* local: prefixes of the monitored host (its packets go out through TC).
 * With none, servers are learned in a first pass: endpoints that receive
 * a SYN or a ClientHello. */
struct feed *feed_open(const char *path, const struct cidr *local,
		       size_t nlocal, char *err, size_t errlen);
/* 1: packet read, 0: end, -1: error (err set). */
int feed_next(struct feed *f, struct feed_packet *p, char *err, size_t errlen);
void feed_close(struct feed *f);
uint64_t feed_skipped(const struct feed *f); /* unsupported link types */
/* Whether a packet so far had an address inside local[i] (a --local-net
 * that matches nothing makes every flow inbound and hides the relay
 * signal). Only the first 64 prefixes are tracked; others count as
 * matched. */
bool feed_local_matched(const struct feed *f, size_t i);
/* Percent of the file read, or -1 when unknown (a pipe). */
int feed_progress(const struct feed *f);

#endif
