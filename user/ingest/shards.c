// SPDX-License-Identifier: BSD-2-Clause
#include "ingest/shards.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

/* A batch holds packets of one shard, run in order by its worker: one
 * hand-over per batch, not per packet. Every batch can hold the largest
 * frame. */
#define BATCH_BYTES (512u * 1024)
#define BATCH_PKTS 256
/* Per worker: the one being filled, the others queued, running or free. */
#define BATCHES_PER_WORKER 4

struct rec {
	uint64_t ts_ns, index;
	uint32_t len;
	uint8_t egress, truncated;
	uint8_t pad[2];
	uint8_t buf[]; /* TESTRUN_HEADROOM + len bytes, padded to 8 */
};

struct batch {
	struct batch *next; /* in a worker's queue, or the free list */
	size_t used, npkts, nevents;
	_Alignas(8) uint8_t data[BATCH_BYTES];
};

struct worker {
	struct shards *s;
	pthread_t thread;
	bool started;
	pthread_cond_t work;	    /* a batch queued, or stop */
	struct batch *head, *tail;  /* queued, in order (under s->mu) */
	struct batch *fill;	    /* being filled by the caller */
	struct shard_counts counts; /* the worker's own */
};

/* Packets that may send an event to one ring: put, run (finished
 * batches), and run when the ring was last drained. */
struct credit {
	uint64_t put, finished, drained;
	size_t max;
};

enum { RING_HELLO, RING_FLOW, RINGS };

struct shards {
	struct shards_opts o;
	pthread_mutex_t mu;
	pthread_cond_t done; /* a batch finished */
	struct batch *free;  /* under mu */
	size_t pending;	     /* batches queued or running, under mu */
	bool stop;
	struct credit
	    ring[RINGS]; /* finished under mu, the rest the caller's */
	unsigned n;
	struct worker w[];
};

static void run_one(const struct shards *s, struct shard_counts *c, bool egress,
		    uint8_t *buf, size_t len, uint64_t ts_ns, bool truncated,
		    uint64_t index)
{
	uint32_t verdict;

	/* time 0 is the kernel's clock: a packet at the epoch runs at 1 */
	if (testrun_packet(&s->o.progs, egress, buf, len, ts_ns ? ts_ns : 1,
			   &verdict)) {
		if (!c->run_errors++) {
			c->first_error = index;
			c->first_errno = errno;
		}
		return;
	}
	c->packets++;
	if (egress) {
		c->egress++;
	} else {
		c->ingress++;
		c->passed += verdict == XDP_PASS;
		c->dropped += verdict == XDP_DROP;
	}
	c->truncated += truncated;
}

static size_t rec_size(size_t len)
{
	return sizeof(struct rec) + (TESTRUN_HEADROOM + len + 7) / 8 * 8;
}

static void run_batch(struct shards *s, struct worker *w, struct batch *b)
{
	for (size_t off = 0; off < b->used;) {
		struct rec *r = (struct rec *)(b->data + off);

		run_one(s, &w->counts, r->egress, r->buf, r->len, r->ts_ns,
			r->truncated, r->index);
		off += rec_size(r->len);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct shards *s = w->s;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		struct batch *b;

		while (!w->head && !s->stop)
			pthread_cond_wait(&w->work, &s->mu);
		if (!w->head)
			break; /* stopped, and nothing left to run */
		b = w->head;
		w->head = b->next;
		if (!w->head)
			w->tail = NULL;
		pthread_mutex_unlock(&s->mu);
		run_batch(s, w, b);
		pthread_mutex_lock(&s->mu);
		/* its events are in the ring buffer: a drain from now on
		 * takes them */
		s->ring[RING_HELLO].finished += b->nevents;
		s->ring[RING_FLOW].finished += b->npkts;
		b->used = b->npkts = b->nevents = 0;
		b->next = s->free;
		s->free = b;
		s->pending--;
		pthread_cond_signal(&s->done);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* A batch to fill (under mu): waits for a worker to finish one. */
static struct batch *take_free(struct shards *s)
{
	struct batch *b;

	while (!s->free)
		pthread_cond_wait(&s->done, &s->mu);
	b = s->free;
	s->free = b->next;
	b->next = NULL;
	return b;
}

/* Hand w's batch over to w, take a new one. */
static void hand_over(struct shards *s, struct worker *w)
{
	if (!w->fill->npkts)
		return;
	pthread_mutex_lock(&s->mu);
	if (w->tail)
		w->tail->next = w->fill;
	else
		w->head = w->fill;
	w->tail = w->fill;
	s->pending++;
	pthread_cond_signal(&w->work);
	w->fill = take_free(s);
	pthread_mutex_unlock(&s->mu);
}

static void hand_over_all(struct shards *s)
{
	for (unsigned i = 0; i < s->n; i++)
		hand_over(s, &s->w[i]);
}

/* Drain the ring buffers of what the finished batches sent. all: wait for
 * every batch handed over; else for at least one more to finish. */
static void drain_finished(struct shards *s, bool all)
{
	uint64_t fin[RINGS];

	pthread_mutex_lock(&s->mu);
	while (all ? s->pending > 0
		   : s->ring[RING_FLOW].finished == s->ring[RING_FLOW].drained)
		pthread_cond_wait(&s->done, &s->mu);
	for (int i = 0; i < RINGS; i++)
		fin[i] = s->ring[i].finished;
	pthread_mutex_unlock(&s->mu);
	s->o.drain(s->o.ctx);
	for (int i = 0; i < RINGS; i++)
		s->ring[i].drained = fin[i];
}

/* What may sit in a ring: the events of packets put since its last drain,
 * which took every event of the packets run before it. */
static bool full(const struct credit *c)
{
	return c->put - c->drained >= c->max;
}

/* Room in the rings for the events of one more packet. */
static void make_room(struct shards *s, bool hello)
{
	if (!full(&s->ring[RING_FLOW]) &&
	    !(hello && full(&s->ring[RING_HELLO])))
		return;
	hand_over_all(s); /* the workers need them to go on */
	while (full(&s->ring[RING_FLOW]) ||
	       (hello && full(&s->ring[RING_HELLO])))
		drain_finished(s, false);
}

static void drained_all(struct shards *s)
{
	for (int i = 0; i < RINGS; i++)
		s->ring[i].drained = s->ring[i].finished = s->ring[i].put;
}

static int put_inline(struct shards *s, struct feed_packet *p, uint64_t index)
{
	run_one(s, &s->w[0].counts, p->dir == DIR_EGRESS, p->buf, p->len,
		p->ts_ns, p->truncated, index);
	s->ring[RING_HELLO].put += p->may_event;
	s->ring[RING_FLOW].put++;
	if (full(&s->ring[RING_HELLO]) || full(&s->ring[RING_FLOW])) {
		s->o.drain(s->o.ctx);
		drained_all(s);
	}
	return 0;
}

int shards_put(struct shards *s, struct feed_packet *p, uint64_t index)
{
	struct worker *w;
	struct rec *r;
	size_t need = rec_size(p->len);

	if (s->n == 1)
		return put_inline(s, p, index);
	if (need > BATCH_BYTES) {
		errno = EMSGSIZE; /* cannot happen: FEED_MAX_FRAME fits */
		return -1;
	}
	w = &s->w[p->client % s->n];
	make_room(s, p->may_event);
	if (w->fill->used + need > BATCH_BYTES)
		hand_over(s, w);
	r = (struct rec *)(w->fill->data + w->fill->used);
	r->ts_ns = p->ts_ns;
	r->index = index;
	r->len = (uint32_t)p->len;
	r->egress = p->dir == DIR_EGRESS;
	r->truncated = p->truncated;
	memcpy(r->buf + TESTRUN_HEADROOM, feed_frame(p), p->len);
	w->fill->used += need;
	w->fill->npkts++;
	w->fill->nevents += p->may_event;
	s->ring[RING_HELLO].put += p->may_event;
	s->ring[RING_FLOW].put++;
	if (w->fill->npkts >= BATCH_PKTS)
		hand_over(s, w);
	return 0;
}

void shards_sync(struct shards *s)
{
	if (s->n > 1) {
		hand_over_all(s);
		drain_finished(s, true);
		return;
	}
	s->o.drain(s->o.ctx);
	drained_all(s);
}

void shards_counts(const struct shards *s, struct shard_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < s->n; i++) {
		const struct shard_counts *w = &s->w[i].counts;

		c->packets += w->packets;
		c->ingress += w->ingress;
		c->egress += w->egress;
		c->passed += w->passed;
		c->dropped += w->dropped;
		c->truncated += w->truncated;
		if (w->run_errors &&
		    (!c->run_errors || w->first_error < c->first_error)) {
			c->first_error = w->first_error;
			c->first_errno = w->first_errno;
		}
		c->run_errors += w->run_errors;
	}
}

/* Workers on CPUs of their own when there are enough: a test run does not
 * migrate but may be preempted, and the datapath's per-CPU scratch and
 * clock must not be shared by two runs at once (see bpf/maps.h). */
static void pin(pthread_attr_t *attr, const cpu_set_t *allowed, unsigned n,
		unsigned i)
{
	cpu_set_t one;
	unsigned seen = 0;

	if ((unsigned)CPU_COUNT(allowed) < n)
		return;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, allowed) || seen++ != i)
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pthread_attr_setaffinity_np(attr, sizeof(one), &one);
		return;
	}
}

static int start_workers(struct shards *s, char *err, size_t errlen)
{
	cpu_set_t allowed;
	size_t nb = (size_t)s->n * BATCHES_PER_WORKER;

	for (size_t i = 0; i < nb; i++) {
		struct batch *b = calloc(1, sizeof(*b));

		if (!b) {
			snprintf(err, errlen, "out of memory for the batches");
			return -1;
		}
		b->next = s->free;
		s->free = b;
	}
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		CPU_ZERO(&allowed);
	for (unsigned i = 0; i < s->n; i++) {
		struct worker *w = &s->w[i];
		pthread_attr_t attr;
		int rc;

		pthread_mutex_lock(&s->mu);
		w->fill = take_free(s); /* never waits: nb > n */
		pthread_mutex_unlock(&s->mu);
		pthread_attr_init(&attr);
		pin(&attr, &allowed, s->n, i);
		rc = pthread_create(&w->thread, &attr, worker_main, w);
		pthread_attr_destroy(&attr);
		if (rc) {
			snprintf(err, errlen,
				 "cannot start replay thread %u: %s", i + 1,
				 strerror(rc));
			return -1;
		}
		w->started = true;
	}
	return 0;
}

struct shards *shards_new(const struct shards_opts *o, char *err, size_t errlen)
{
	struct shards *s;

	if (!o->threads || o->threads > SHARDS_MAX || !o->max_hellos ||
	    !o->max_packets) {
		snprintf(err, errlen, "replay threads: 1 to %d", SHARDS_MAX);
		return NULL;
	}
	s = calloc(1, sizeof(*s) + o->threads * sizeof(s->w[0]));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->o = *o;
	s->n = o->threads;
	s->ring[RING_HELLO].max = o->max_hellos;
	s->ring[RING_FLOW].max = o->max_packets;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->done, NULL);
	for (unsigned i = 0; i < s->n; i++) {
		s->w[i].s = s;
		pthread_cond_init(&s->w[i].work, NULL);
	}
	if (s->n > 1 && start_workers(s, err, errlen)) {
		shards_free(s);
		return NULL;
	}
	return s;
}

void shards_free(struct shards *s)
{
	struct batch *b;

	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	for (unsigned i = 0; i < s->n; i++)
		pthread_cond_signal(&s->w[i].work);
	pthread_mutex_unlock(&s->mu);
	for (unsigned i = 0; i < s->n; i++) {
		if (s->w[i].started)
			pthread_join(s->w[i].thread, NULL);
		free(s->w[i].fill);
		pthread_cond_destroy(&s->w[i].work);
	}
	while ((b = s->free)) {
		s->free = b->next;
		free(b);
	}
	pthread_cond_destroy(&s->done);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
