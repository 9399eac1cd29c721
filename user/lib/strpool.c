// SPDX-License-Identifier: BSD-2-Clause
#include "lib/strpool.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

struct item {
	uint64_t hash;
	uint32_t refs;
	uint32_t len;
	char data[]; /* len bytes and a NUL */
};

struct strpool {
	size_t budget, bytes;
	uint64_t key[2];
	struct item **items; /* id - 1 -> item; NULL when free */
	uint32_t nitems, cap;
	uint32_t *free_ids; /* ids to reuse (a stack) */
	uint32_t nfree;
	uint32_t *slots; /* open addressing over ids, 0 = empty */
	size_t nslots, used;
	uint64_t refused, refused_bytes;
};

/* SipHash-1-3 (Aumasson and Bernstein): keyed, so that a sender who
 * chooses the strings cannot choose their slots. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                               \
	do {                                                                   \
		v0 += v1;                                                      \
		v1 = ROTL(v1, 13);                                             \
		v1 ^= v0;                                                      \
		v0 = ROTL(v0, 32);                                             \
		v2 += v3;                                                      \
		v3 = ROTL(v3, 16);                                             \
		v3 ^= v2;                                                      \
		v0 += v3;                                                      \
		v3 = ROTL(v3, 21);                                             \
		v3 ^= v0;                                                      \
		v2 += v1;                                                      \
		v1 = ROTL(v1, 17);                                             \
		v1 ^= v2;                                                      \
		v2 = ROTL(v2, 32);                                             \
	} while (0)

static uint64_t siphash13(const uint64_t k[2], const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t v0 = 0x736f6d6570736575ull ^ k[0];
	uint64_t v1 = 0x646f72616e646f6dull ^ k[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ k[0];
	uint64_t v3 = 0x7465646279746573ull ^ k[1];
	uint64_t m, last = (uint64_t)n << 56;
	size_t i, tail = n & 7;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&m, b + i, 8);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; j < tail; j++)
		last |= (uint64_t)b[i + j] << (8 * j);
	v3 ^= last;
	SIPROUND;
	v0 ^= last;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static size_t cost(size_t len)
{
	return sizeof(struct item) + len + 1 + STRPOOL_ITEM_OVERHEAD;
}

struct strpool *strpool_new(size_t budget)
{
	struct strpool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->budget = budget;
	if (getrandom(p->key, sizeof(p->key), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(p->key)) {
		/* no entropy yet (early boot): still unpredictable enough to
		 * a remote sender, who never sees the slots */
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		p->key[0] ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull;
		p->key[1] ^= (uint64_t)getpid() << 32 ^ (uint64_t)ts.tv_sec;
	}
	p->nslots = 64;
	p->slots = calloc(p->nslots, sizeof(*p->slots));
	if (!p->slots) {
		free(p);
		return NULL;
	}
	return p;
}

void strpool_free(struct strpool *p)
{
	if (!p)
		return;
	for (uint32_t i = 0; i < p->nitems; i++)
		free(p->items[i]);
	free(p->items);
	free(p->free_ids);
	free(p->slots);
	free(p);
}

static struct item *item_of(const struct strpool *p, uint32_t id)
{
	return id && id <= p->nitems ? p->items[id - 1] : NULL;
}

/* The slot holding (or that would hold) data. */
static size_t find(const struct strpool *p, uint64_t h, const void *data,
		   size_t len, bool *found)
{
	size_t mask = p->nslots - 1, i = h & mask;

	for (;; i = (i + 1) & mask) {
		const struct item *it;

		if (!p->slots[i]) {
			*found = false;
			return i;
		}
		it = p->items[p->slots[i] - 1];
		if (it->hash == h && it->len == len &&
		    !memcmp(it->data, data, len)) {
			*found = true;
			return i;
		}
	}
}

static int grow_slots(struct strpool *p)
{
	size_t n = p->nslots * 2, mask = n - 1;
	uint32_t *s = calloc(n, sizeof(*s));

	if (!s)
		return -1;
	for (size_t i = 0; i < p->nslots; i++) {
		size_t j;

		if (!p->slots[i])
			continue;
		j = p->items[p->slots[i] - 1]->hash & mask;
		while (s[j])
			j = (j + 1) & mask;
		s[j] = p->slots[i];
	}
	free(p->slots);
	p->slots = s;
	p->nslots = n;
	return 0;
}

static uint32_t new_id(struct strpool *p, struct item *it)
{
	if (p->nfree) {
		uint32_t id = p->free_ids[--p->nfree];

		p->items[id - 1] = it;
		return id;
	}
	if (p->nitems == p->cap) {
		uint32_t nc = p->cap ? p->cap * 2 : 64;
		struct item **ni;
		uint32_t *nf;

		if (nc <= p->cap)
			return 0;
		ni = realloc(p->items, nc * sizeof(*ni));
		if (!ni)
			return 0;
		p->items = ni;
		/* the free stack never holds more ids than there are */
		nf = realloc(p->free_ids, nc * sizeof(*nf));
		if (!nf)
			return 0;
		p->free_ids = nf;
		p->cap = nc;
	}
	p->items[p->nitems++] = it;
	return p->nitems;
}

void strpool_set_budget(struct strpool *p, size_t budget)
{
	p->budget = budget;
}

uint32_t strpool_intern(struct strpool *p, const void *data, size_t len,
			bool *created)
{
	uint64_t h;
	struct item *it;
	bool found;
	size_t i;
	uint32_t id;

	if (created)
		*created = false;
	if (len > UINT32_MAX - 1)
		return 0;
	h = siphash13(p->key, data, len);
	i = find(p, h, data, len, &found);
	if (found) {
		it = p->items[p->slots[i] - 1];
		if (it->refs < UINT32_MAX) /* saturated: kept for good */
			it->refs++;
		return p->slots[i];
	}
	if (p->bytes + cost(len) > p->budget ||
	    p->bytes + cost(len) < p->bytes) {
		p->refused++;
		p->refused_bytes += cost(len);
		return 0;
	}
	if ((p->used + 1) * 2 > p->nslots) {
		if (grow_slots(p))
			return 0;
		i = find(p, h, data, len, &found);
	}
	it = malloc(sizeof(*it) + len + 1);
	if (!it)
		return 0;
	it->hash = h;
	it->refs = 1;
	it->len = (uint32_t)len;
	memcpy(it->data, data, len);
	it->data[len] = 0;
	id = new_id(p, it);
	if (!id) {
		free(it);
		return 0;
	}
	p->slots[i] = id;
	p->used++;
	if (created)
		*created = true;
	p->bytes += cost(len);
	return id;
}

void strpool_ref(struct strpool *p, uint32_t id)
{
	struct item *it = item_of(p, id);

	if (it && it->refs < UINT32_MAX)
		it->refs++;
}

static void unlink_slot(struct strpool *p, const struct item *it)
{
	size_t mask = p->nslots - 1, i = it->hash & mask, j;

	while (p->items[p->slots[i] - 1] != it)
		i = (i + 1) & mask;
	p->slots[i] = 0;
	/* backward shift, as user/lib/table.c */
	for (j = i;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!p->slots[j])
			break;
		home = p->items[p->slots[j] - 1]->hash & mask;
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			p->slots[i] = p->slots[j];
			p->slots[j] = 0;
			i = j;
		}
	}
	p->used--;
}

bool strpool_put(struct strpool *p, uint32_t id)
{
	struct item *it = item_of(p, id);

	/* a saturated count stays: the copy lives as long as the pool */
	if (!it || it->refs == UINT32_MAX || --it->refs)
		return false;
	unlink_slot(p, it);
	p->bytes -= cost(it->len);
	p->items[id - 1] = NULL;
	p->free_ids[p->nfree++] = id;
	free(it);
	return true;
}

const char *strpool_get(const struct strpool *p, uint32_t id, size_t *len)
{
	const struct item *it = item_of(p, id);

	if (len)
		*len = it ? it->len : 0;
	return it ? it->data : NULL;
}

void strpool_get_stats(const struct strpool *p, struct strpool_stats *s)
{
	s->strings = p->used;
	s->bytes = p->bytes;
	s->budget = p->budget;
	s->refused = p->refused;
	s->refused_bytes = p->refused_bytes;
}
