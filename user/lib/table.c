// SPDX-License-Identifier: BSD-2-Clause
#include "lib/table.h"

#include <stdlib.h>
#include <string.h>

/* Slots a key may sit past its home slot. With at least twice as many
 * slots as entries, a window this long fills by chance about never; keys
 * an attacker chose to collide would fill it, and then the oldest entry of
 * the window gives its slot up (counted) instead of every operation on the
 * table walking a run as long as the attack. */
#define PROBE_LIMIT 64

/* Probe-limit evictions of every table of the process (for the metrics). */
static uint64_t probe_evictions_all;

/*
 * Layout. The probe array holds 4-byte slots (an entry index); keys and
 * values live in fixed-size entries allocated in chunks, each headed by 32
 * bits of its key's hash (the home slot, and a filter before the key
 * compare) and its insertion number. A table costs per entry its key, its
 * value, 8 bytes of header and two slots (the probe array stays at most
 * half full), not a malloc'd block plus a fat slot: at a million flows ~50
 * bytes of overhead per entry instead of ~170.
 *
 * Slot positions, probing, backward-shift deletion and the eviction
 * sample are those of the slot-per-entry table this replaces: iteration
 * order (which the correlator's records follow) stays the same.
 */
typedef uint32_t slot_t; /* entry index + 1; 0 = empty */

/* Entry: [header][key][value]. */
struct entry_hdr {
	uint32_t hash; /* low 32 bits of the key's hash */
	/* insertion number mod 2^32: eviction compares ages (next - seq),
	 * which order entries as their full numbers did while fewer than
	 * 2^32 inserts separate them */
	uint32_t seq;
};

#define CHUNK_BYTES (64u * 1024)

struct table {
	size_t nslots, max, len, ksz, vsz, esz;
	uint64_t next_seq, evictions, evict_cursor;
	uint64_t probes, probe_evictions;
	/* a random key per table: the keys are addresses and ports that
	 * senders choose, and an unkeyed hash lets them choose collisions */
	struct hs_sipkey key;
	void (*on_evict)(void *val);
	void (*on_evict_ctx)(void *ctx, void *val);
	void *evict_ctx;
	slot_t *slots;
	/* entries: chunks of per_chunk entries, allocated as they fill */
	unsigned char **chunks;
	size_t per_chunk, nchunks, used; /* used: entries ever handed out */
	unsigned chunk_shift;		 /* per_chunk = 1 << chunk_shift */
	uint32_t free_head;		 /* free entry index + 1; 0 = none */
};

static uint64_t hash_key(const struct table *t, const void *key)
{
	return hs_siphash24(&t->key, key, t->ksz);
}

static unsigned char *entry(const struct table *t, uint32_t idx)
{
	/* a power-of-two chunk: a shift and a mask, not two divisions */
	return t->chunks[idx >> t->chunk_shift] +
	       (idx & (t->per_chunk - 1)) * t->esz;
}

static struct entry_hdr *ehdr(unsigned char *e)
{
	return (struct entry_hdr *)e;
}

static void *ekey(unsigned char *e)
{
	return e + sizeof(struct entry_hdr);
}

static void *eval(const struct table *t, unsigned char *e)
{
	return e + sizeof(struct entry_hdr) + t->ksz;
}

static unsigned char *slot_entry(const struct table *t, size_t i)
{
	return entry(t, t->slots[i] - 1);
}

static bool has_evict(const struct table *t)
{
	return t->on_evict || t->on_evict_ctx;
}

static void evicted(const struct table *t, void *val)
{
	if (t->on_evict_ctx)
		t->on_evict_ctx(t->evict_ctx, val);
	else if (t->on_evict)
		t->on_evict(val);
}

/* A zeroed entry: a freed one, or the next of the current chunk. */
static uint32_t entry_alloc(struct table *t)
{
	uint32_t idx;

	if (t->free_head) {
		idx = t->free_head - 1;
		memcpy(&t->free_head, ekey(entry(t, idx)), sizeof(uint32_t));
		memset(entry(t, idx), 0, t->esz);
		return idx;
	}
	if (t->used / t->per_chunk >= t->nchunks)
		return UINT32_MAX;
	if (t->used % t->per_chunk == 0) {
		unsigned char *c = calloc(t->per_chunk, t->esz);

		if (!c)
			return UINT32_MAX;
		t->chunks[t->used / t->per_chunk] = c;
	}
	return (uint32_t)t->used++;
}

static void entry_release(struct table *t, uint32_t idx)
{
	unsigned char *e = entry(t, idx);

	memcpy(ekey(e), &t->free_head, sizeof(uint32_t));
	t->free_head = idx + 1;
}

struct table *table_new(size_t max_entries, size_t key_size, size_t val_size,
			void (*on_evict)(void *val))
{
	struct table *t = calloc(1, sizeof(*t));
	size_t align = sizeof(uint64_t);

	/* keys are compared and hashed on their full size: no padding; the
	 * key area of a free entry holds the free list link */
	if (!t || !max_entries || key_size % align || !key_size ||
	    max_entries >= (1ull << 31))
		goto fail;
	t->max = max_entries;
	t->nslots = 16;
	while (t->nslots < max_entries * 2)
		t->nslots *= 2;
	t->ksz = key_size;
	t->vsz = val_size;
	/* values start 8-byte aligned, as every value type here needs */
	t->esz = sizeof(struct entry_hdr) + t->ksz +
		 (val_size + align - 1) / align * align;
	/* the largest power of two of entries in CHUNK_BYTES, but no more
	 * than the table can hold */
	while ((2ul << t->chunk_shift) * t->esz <= CHUNK_BYTES &&
	       (1ul << t->chunk_shift) < max_entries)
		t->chunk_shift++;
	t->per_chunk = 1ul << t->chunk_shift;
	t->nchunks = (max_entries + t->per_chunk - 1) / t->per_chunk;
	t->on_evict = on_evict;
	t->next_seq = 1;
	if (hs_sipkey_random(&t->key))
		goto fail;
	t->slots = calloc(t->nslots, sizeof(*t->slots));
	t->chunks = calloc(t->nchunks, sizeof(*t->chunks));
	if (!t->slots || !t->chunks)
		goto fail;
	return t;
fail:
	if (t) {
		free(t->slots);
		free(t->chunks);
	}
	free(t);
	return NULL;
}

void table_set_evict_ctx(struct table *t, void (*fn)(void *ctx, void *val),
			 void *ctx)
{
	t->on_evict_ctx = fn;
	t->evict_ctx = ctx;
}

int table_set_key(struct table *t, const struct hs_sipkey *k)
{
	if (t->len)
		return -1;
	t->key = *k;
	return 0;
}

void table_free(struct table *t)
{
	size_t i;

	if (!t)
		return;
	if (has_evict(t))
		for (i = 0; i < t->nslots; i++)
			if (t->slots[i])
				evicted(t, eval(t, slot_entry(t, i)));
	for (i = 0; i < t->nchunks; i++)
		free(t->chunks[i]);
	free(t->chunks);
	free(t->slots);
	free(t);
}

#define WINDOW_FULL SIZE_MAX

/* The slot holding key (*found), else the empty slot it would take, else
 * WINDOW_FULL: its PROBE_LIMIT slots are all taken by other keys. Every
 * key sits within PROBE_LIMIT slots of its home with no empty slot
 * between (inserts never go further, deletions only shift keys back), so
 * the search stops there. *probes: slots looked at. */
static size_t find(const struct table *t, const void *key, uint64_t h,
		   bool *found, size_t *probes)
{
	size_t mask = t->nslots - 1, n;
	size_t i = h & mask;

	*found = false;
	for (n = 0; n < PROBE_LIMIT && n < t->nslots; n++) {
		unsigned char *e;

		if (!t->slots[i]) {
			*probes = n + 1;
			return i;
		}
		e = slot_entry(t, i);
		if (ehdr(e)->hash == (uint32_t)h &&
		    !memcmp(ekey(e), key, t->ksz)) {
			*found = true;
			*probes = n + 1;
			return i;
		}
		i = (i + 1) & mask;
	}
	*probes = n;
	return WINDOW_FULL;
}

void *table_get(const struct table *t, const void *key)
{
	bool found;
	size_t probes;
	size_t i = find(t, key, hash_key(t, key), &found, &probes);

	return found ? eval(t, slot_entry(t, i)) : NULL;
}

static void remove_at(struct table *t, size_t i)
{
	size_t mask = t->nslots - 1, j = i;

	entry_release(t, t->slots[i] - 1);
	t->slots[i] = 0;
	t->len--;
	/* backward-shift the probe run that follows (the header keeps the
	 * low hash bits, hence the home slot: nslots <= 2^32) */
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!t->slots[j])
			return;
		home = ehdr(slot_entry(t, j))->hash & mask;
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			t->slots[i] = t->slots[j];
			t->slots[j] = 0;
			i = j;
		}
	}
}

/* Approximate FIFO in O(1): the oldest of a few dozen slots from a moving
 * start point (as Redis samples for LRU), not a scan of the whole table. */
static void evict_oldest(struct table *t)
{
	size_t i, n, oldest = 0, mask = t->nslots - 1;
	uint32_t now = (uint32_t)t->next_seq, best = 0;
	bool any = false;

	t->evict_cursor = (t->evict_cursor + 0x9e3779b97f4a7c15ull) & mask;
	/* the sample's sequence numbers sit in scattered entries: ask for
	 * them all before reading any, so the cache misses overlap */
	for (i = t->evict_cursor, n = 0; n <= 64 && n < t->nslots;
	     n++, i = (i + 1) & mask)
		if (t->slots[i])
			__builtin_prefetch(slot_entry(t, i));
	for (i = t->evict_cursor, n = 0; n < t->nslots;
	     n++, i = (i + 1) & mask) {
		if (t->slots[i]) {
			/* the oldest: the most inserts ago (no two equal) */
			uint32_t age = now - ehdr(slot_entry(t, i))->seq;

			if (!any || age > best) {
				best = age;
				oldest = i;
				any = true;
			}
		}
		if (n >= 64 && any)
			break;
	}
	if (!any)
		return;
	evicted(t, eval(t, slot_entry(t, oldest)));
	remove_at(t, oldest);
	t->evictions++;
}

/* The key's window (from slot home) is full: its oldest entry gives up
 * its slot to the new key in place, so no slot in any run becomes empty.
 * Returns the slot. */
static size_t evict_in_window(struct table *t, size_t home)
{
	size_t mask = t->nslots - 1, i = home, oldest = home, n;
	uint32_t now = (uint32_t)t->next_seq, best = 0;

	for (n = 0; n < PROBE_LIMIT && n < t->nslots; n++, i = (i + 1) & mask) {
		uint32_t age = now - ehdr(slot_entry(t, i))->seq;

		if (age > best) {
			best = age;
			oldest = i;
		}
	}
	evicted(t, eval(t, slot_entry(t, oldest)));
	entry_release(t, t->slots[oldest] - 1);
	t->slots[oldest] = 0;
	t->len--;
	t->evictions++;
	t->probe_evictions++;
	probe_evictions_all++;
	return oldest;
}

void *table_get_or_add(struct table *t, const void *key, bool *created)
{
	uint64_t h = hash_key(t, key);
	unsigned char *e;
	uint32_t idx;
	bool found;
	size_t i, probes;

	i = find(t, key, h, &found, &probes);
	t->probes += probes;
	if (created)
		*created = !found;
	if (found)
		return eval(t, slot_entry(t, i));
	if (t->len >= t->max) {
		evict_oldest(t);
		i = find(t, key, h, &found, &probes);
		t->probes += probes;
	}
	idx = entry_alloc(t);
	if (idx == UINT32_MAX)
		return NULL;
	if (i == WINDOW_FULL)
		i = evict_in_window(t, h & (t->nslots - 1));
	e = entry(t, idx);
	ehdr(e)->hash = (uint32_t)h;
	ehdr(e)->seq = (uint32_t)t->next_seq++;
	memcpy(ekey(e), key, t->ksz);
	t->slots[i] = idx + 1;
	t->len++;
	return eval(t, e);
}

void table_del(struct table *t, const void *key)
{
	bool found;
	size_t probes;
	size_t i = find(t, key, hash_key(t, key), &found, &probes);

	if (!found)
		return;
	evicted(t, eval(t, slot_entry(t, i)));
	remove_at(t, i);
}

void table_renew(struct table *t, void *val)
{
	unsigned char *e =
	    (unsigned char *)val - t->ksz - sizeof(struct entry_hdr);

	ehdr(e)->seq = (uint32_t)t->next_seq++;
}

size_t table_len(const struct table *t)
{
	return t->len;
}

uint64_t table_evictions(const struct table *t)
{
	return t->evictions;
}

uint64_t table_probes(const struct table *t)
{
	return t->probes;
}

uint64_t table_probe_evictions(const struct table *t)
{
	return t->probe_evictions;
}

uint64_t table_probe_evictions_all(void)
{
	return probe_evictions_all;
}

/* Slots ahead whose entries a walk asks for early: entries sit in no
 * order of their slots, and a walk of a big table waited on a cache miss
 * per entry. */
#define WALK_PREFETCH 16

bool table_next(const struct table *t, size_t *pos, const void **key,
		void **val)
{
	while (*pos < t->nslots) {
		size_t i = (*pos)++;

		if (i + WALK_PREFETCH < t->nslots &&
		    t->slots[i + WALK_PREFETCH])
			__builtin_prefetch(slot_entry(t, i + WALK_PREFETCH));
		if (t->slots[i]) {
			unsigned char *e = slot_entry(t, i);

			if (key)
				*key = ekey(e);
			if (val)
				*val = eval(t, e);
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
	bool full = false;

	while (table_next(t, &pos, &k, &v)) {
		if (!pick(k, v, ctx) || full)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			unsigned char *q = realloc(out, nc * t->ksz);

			/* the rest waits for the next call, but pick still
			 * sees every entry (it may count as it goes) */
			full = !q;
			if (full)
				continue;
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
