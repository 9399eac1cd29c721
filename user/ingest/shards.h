/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Replay on several threads. Packets go to worker threads by the hash of
 * their client's address (feed_packet.client): every flow, source, hello
 * walk and cut the datapath keys on is then touched by one thread only,
 * in capture order, as a single thread would touch it. Each worker runs
 * its packets with BPF_PROG_TEST_RUN (testrun.h), in batches handed over
 * by the caller, which reads the capture.
 *
 * The caller calls shards_sync() before each correlator round: it returns
 * once every packet handed over has run and the ring buffer is drained, so
 * that the round reads the maps as one thread would have left them. The
 * ring buffers are shared: the events of packets in flight must fit in
 * them, so between two drains at most max_hellos packets that may send a
 * hello segment (feed_packet.may_event) and max_packets packets (any may
 * send a flow event, one at most) are in flight; past that the caller
 * waits for workers to finish batches, and drains.
 *
 * With one thread no worker is started: each packet runs at once on the
 * caller's thread, in the feed's buffer.
 */
#ifndef HS_USER_INGEST_SHARDS_H
#define HS_USER_INGEST_SHARDS_H

#include <stddef.h>
#include <stdint.h>

#include "datapath/testrun.h"
#include "ingest/pcap_feed.h"

#define SHARDS_MAX 64

struct shards_opts {
	unsigned threads; /* 1..SHARDS_MAX */
	struct testrun_progs progs;
	size_t max_hellos;	  /* the hello ring's room, in events */
	size_t max_packets;	  /* the flow event ring's room, in events */
	void (*drain)(void *ctx); /* consume the ring buffers */
	void *ctx;
};

/* What the runs did, over every thread. */
struct shard_counts {
	uint64_t packets; /* run */
	uint64_t ingress, egress;
	uint64_t passed, dropped; /* ingress verdicts: XDP_PASS, XDP_DROP */
	uint64_t truncated;	  /* run, and captured short */
	uint64_t run_errors;	  /* not run: BPF_PROG_TEST_RUN failed */
	uint64_t first_error;	  /* index of the first packet not run */
	int first_errno;
};

struct shards;

/* NULL with a one-line reason in err. */
struct shards *shards_new(const struct shards_opts *o, char *err,
			  size_t errlen);
/* Run p (index: its number in the capture, from 1) on its shard's thread;
 * p's buffer may be reused on return. May wait for the workers. Returns 0,
 * or -1 when out of memory. */
int shards_put(struct shards *s, struct feed_packet *p, uint64_t index);
/* Every packet put so far has run; the ring buffer is drained. */
void shards_sync(struct shards *s);
/* The counts of the packets run so far (call after shards_sync). */
void shards_counts(const struct shards *s, struct shard_counts *c);
/* Stops the workers. */
void shards_free(struct shards *s);

#endif
