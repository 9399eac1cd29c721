// SPDX-License-Identifier: BSD-2-Clause
#include "lib/table.h"

#include <stdlib.h>
#include <string.h>

#include "hydrascope/tuple.h"

struct slot_hdr {
	uint64_t seq; /* insertion order; 0 = empty */
};

struct table {
	size_t nslots, max, len, ksz, vsz, slot_sz;
	uint64_t next_seq, evictions, evict_cursor;
	void (*on_evict)(void *val);
	unsigned char *slots;
};

/* Keys are whole 64-bit words (key_size % 8 == 0): mix a word at a time
 * (SplitMix64's finaliser, as the tuple id does), several times faster
 * than a byte-wise hash on the 24- and 40-byte keys of the correlator. */
static uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;

	for (size_t i = 0; i < n; i += 8) {
		uint64_t w;

		memcpy(&w, b + i, 8);
		h = hs_mix64(h ^ w);
	}
	return h;
}

static unsigned char *slot(const struct table *t, size_t i)
{
	return t->slots + i * t->slot_sz;
}

static struct slot_hdr *hdr(unsigned char *s)
{
	return (struct slot_hdr *)s;
}

static void *skey(unsigned char *s)
{
	return s + sizeof(struct slot_hdr);
}

/* Values live outside the slot array (allocated on insert), so an empty
 * or sparse table costs a pointer per slot, not a value per slot. */
static void **sval_ptr(const struct table *t, unsigned char *s)
{
	return (void **)(s + sizeof(struct slot_hdr) + t->ksz);
}

static void *sval(const struct table *t, unsigned char *s)
{
	return *sval_ptr(t, s);
}

struct table *table_new(size_t max_entries, size_t key_size, size_t val_size,
			void (*on_evict)(void *val))
{
	struct table *t = calloc(1, sizeof(*t));
	size_t align = sizeof(uint64_t);

	/* keys are compared and hashed on their full size: no padding */
	if (!t || !max_entries || key_size % align)
		goto fail;
	t->max = max_entries;
	t->nslots = 16;
	while (t->nslots < max_entries * 2)
		t->nslots *= 2;
	t->ksz = key_size;
	t->vsz = val_size;
	t->slot_sz = sizeof(struct slot_hdr) + t->ksz + sizeof(void *);
	t->on_evict = on_evict;
	t->next_seq = 1;
	t->slots = calloc(t->nslots, t->slot_sz);
	if (!t->slots)
		goto fail;
	return t;
fail:
	free(t);
	return NULL;
}

void table_free(struct table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nslots; i++)
		if (hdr(slot(t, i))->seq) {
			if (t->on_evict)
				t->on_evict(sval(t, slot(t, i)));
			free(sval(t, slot(t, i)));
		}
	free(t->slots);
	free(t);
}

static size_t find(const struct table *t, const void *key, bool *found)
{
	size_t mask = t->nslots - 1;
	size_t i = hash_bytes(key, t->ksz) & mask;

	for (;;) {
		unsigned char *s = slot(t, i);

		if (!hdr(s)->seq) {
			*found = false;
			return i;
		}
		if (!memcmp(skey(s), key, t->ksz)) {
			*found = true;
			return i;
		}
		i = (i + 1) & mask;
	}
}

void *table_get(const struct table *t, const void *key)
{
	bool found;
	size_t i = find(t, key, &found);

	return found ? sval(t, slot(t, i)) : NULL;
}

static void remove_at(struct table *t, size_t i)
{
	size_t mask = t->nslots - 1, j = i;

	free(sval(t, slot(t, i)));
	memset(slot(t, i), 0, t->slot_sz);
	t->len--;
	/* backward-shift the probe run that follows */
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!hdr(slot(t, j))->seq)
			return;
		home = hash_bytes(skey(slot(t, j)), t->ksz) & mask;
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			memcpy(slot(t, i), slot(t, j), t->slot_sz);
			memset(slot(t, j), 0, t->slot_sz);
			i = j;
		}
	}
}

/* Approximate FIFO in O(1): the oldest of a few dozen slots from a moving
 * start point (as Redis samples for LRU), not a scan of the whole table. */
static void evict_oldest(struct table *t)
{
	size_t i, n, oldest = 0, mask = t->nslots - 1;
	uint64_t best = UINT64_MAX;

	t->evict_cursor = (t->evict_cursor + 0x9e3779b97f4a7c15ull) & mask;
	for (i = t->evict_cursor, n = 0; n < t->nslots;
	     n++, i = (i + 1) & mask) {
		uint64_t s = hdr(slot(t, i))->seq;

		if (s && s < best) {
			best = s;
			oldest = i;
		}
		if (n >= 64 && best != UINT64_MAX)
			break;
	}
	if (best == UINT64_MAX)
		return;
	if (t->on_evict)
		t->on_evict(sval(t, slot(t, oldest)));
	remove_at(t, oldest);
	t->evictions++;
}

void *table_get_or_add(struct table *t, const void *key, bool *created)
{
	bool found;
	size_t i;
	void *v;

	i = find(t, key, &found);
	if (created)
		*created = !found;
	if (found)
		return sval(t, slot(t, i));
	if (t->len >= t->max) {
		evict_oldest(t);
		i = find(t, key, &found);
	}
	v = calloc(1, t->vsz ? t->vsz : 1);
	if (!v)
		return NULL;
	hdr(slot(t, i))->seq = t->next_seq++;
	memcpy(skey(slot(t, i)), key, t->ksz);
	*sval_ptr(t, slot(t, i)) = v;
	t->len++;
	return v;
}

void table_del(struct table *t, const void *key)
{
	bool found;
	size_t i = find(t, key, &found);

	if (!found)
		return;
	if (t->on_evict)
		t->on_evict(sval(t, slot(t, i)));
	remove_at(t, i);
}

size_t table_len(const struct table *t)
{
	return t->len;
}

uint64_t table_evictions(const struct table *t)
{
	return t->evictions;
}

bool table_next(const struct table *t, size_t *pos, const void **key,
		void **val)
{
	while (*pos < t->nslots) {
		unsigned char *s = slot(t, (*pos)++);

		if (hdr(s)->seq) {
			if (key)
				*key = skey(s);
			if (val)
				*val = sval(t, s);
			return true;
		}
	}
	return false;
}

size_t table_collect(const struct table *t, table_pick_fn pick, void *ctx,
		     void **keys)
{
	unsigned char *out = NULL;
	size_t n = 0, cap = 0, pos = 0;
	const void *k;
	void *v;

	while (table_next(t, &pos, &k, &v)) {
		if (!pick(k, v, ctx))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			unsigned char *q = realloc(out, nc * t->ksz);

			if (!q)
				break; /* the rest waits for the next call */
			out = q;
			cap = nc;
		}
		memcpy(out + n++ * t->ksz, k, t->ksz);
	}
	*keys = out;
	return n;
}

size_t table_delete_if(struct table *t, table_pick_fn pick, void *ctx)
{
	void *keys;
	size_t n = table_collect(t, pick, ctx, &keys);

	for (size_t i = 0; i < n; i++)
		table_del(t, (unsigned char *)keys + i * t->ksz);
	free(keys);
	return n;
}
