/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bounded hash table with fixed-size keys and values (open addressing,
 * linear probing, tombstone-free deletion by backward shift). When full,
 * an insert evicts the oldest entry and counts it: memory never grows past
 * what the caller asked for.
 *
 * Keys come from packets, so the hash is keyed (SipHash-2-4, a random key
 * per table) and probing is bounded: a key sits at most a fixed number of
 * slots past its home; an insert that finds those all taken evicts the
 * oldest of them (counted). No choice of keys makes an operation cost
 * more than that window.
 */
#ifndef HS_USER_TABLE_H
#define HS_USER_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/siphash.h"

struct table;

/* key_size must be a multiple of 8 (keys are hashed and compared whole).
 * on_evict (may be NULL) is called for entries pushed out or cleared. */
struct table *table_new(size_t max_entries, size_t key_size, size_t val_size,
			void (*on_evict)(void *val));
/* An eviction callback that also gets ctx (replaces on_evict): for values
 * that hold references into something the table does not know. */
void table_set_evict_ctx(struct table *t, void (*fn)(void *ctx, void *val),
			 void *ctx);
void table_free(struct table *t);
/* Replace the random hash key of an empty table (-1 if not empty): for
 * tests and fuzzing, which must be reproducible. */
int table_set_key(struct table *t, const struct hs_sipkey *k);
void *table_get(const struct table *t, const void *key);
/* Existing value, or a new zeroed one (evicting the oldest when full). */
void *table_get_or_add(struct table *t, const void *key, bool *created);
void table_del(struct table *t, const void *key);
/* Count an entry (a value the table handed out) as just inserted: the
 * oldest-first eviction passes over entries renewed as they are used. */
void table_renew(struct table *t, void *val);
size_t table_len(const struct table *t);
uint64_t table_evictions(const struct table *t); /* any reason */
/* Slots looked at by inserts (get_or_add), in all. */
uint64_t table_probes(const struct table *t);
/* Evictions because a key's probe window was full: of this table, of
 * every table of the process. */
uint64_t table_probe_evictions(const struct table *t);
uint64_t table_probe_evictions_all(void);
/* Iterate: returns false at the end. *pos starts at 0. Do not delete
 * while iterating (deletion shifts probe runs): collect, then delete. */
bool table_next(const struct table *t, size_t *pos, const void **key,
		void **val);

typedef bool (*table_pick_fn)(const void *key, const void *val, void *ctx);
/* The keys of the entries pick() chooses, copied into *keys (caller
 * frees); returns how many. pick() sees every entry once, also when
 * memory runs out for the keys (fewer are returned then). */
size_t table_collect(const struct table *t, table_pick_fn pick, void *ctx,
		     void **keys);
/* Delete the entries pick() chooses; returns how many. */
size_t table_delete_if(struct table *t, table_pick_fn pick, void *ctx);

#endif
