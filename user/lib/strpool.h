/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interned byte strings: one refcounted copy per distinct content, under a
 * byte budget. A sender chooses the strings a hello carries (and whether
 * they repeat), so what it can make userspace keep is bounded by the
 * budget, not by how many flows it opens; a string refused at the budget
 * is counted, never silently lost. Hashing is keyed (SipHash-1-3, a random
 * key per pool), so chosen contents cannot pile into one probe run.
 */
#ifndef HS_USER_STRPOOL_H
#define HS_USER_STRPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a copy is charged beyond its bytes: its header, the allocator's,
 * and its slot and index entries. The budget bounds real memory. */
#define STRPOOL_ITEM_OVERHEAD 48

struct strpool_stats {
	uint64_t strings;	/* distinct copies held */
	uint64_t bytes;		/* charged to the budget (with overhead) */
	uint64_t budget;	/* SIZE_MAX: none */
	uint64_t refused;	/* interns refused at the budget */
	uint64_t refused_bytes; /* what they would have added */
};

struct strpool;

/* budget: bytes (SIZE_MAX: unbounded). */
struct strpool *strpool_new(size_t budget);
void strpool_free(struct strpool *p);
/* A reference to the copy of data[0..len), made on first use (*created,
 * if not NULL, says which); 0 when a new copy would pass the budget
 * (counted) or memory runs out. */
uint32_t strpool_intern(struct strpool *p, const void *data, size_t len,
			bool *created);
/* Change the budget; copies already held stay. */
void strpool_set_budget(struct strpool *p, size_t budget);
/* One more reference to id (0: nothing). */
void strpool_ref(struct strpool *p, uint32_t id);
/* Drop a reference to id (0: nothing); true when that freed the copy. */
bool strpool_put(struct strpool *p, uint32_t id);
/* The copy (NUL-terminated past its length), NULL for id 0. */
const char *strpool_get(const struct strpool *p, uint32_t id, size_t *len);
void strpool_get_stats(const struct strpool *p, struct strpool_stats *s);

#endif
