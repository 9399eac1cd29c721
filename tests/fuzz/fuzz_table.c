// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer: the bounded userspace table under adversarial keys. Half of
 * the key universe collides on purpose: their SipHash homes (under a fixed
 * key, for reproducible runs) fall in the first 8 slots of the largest
 * table, so runs outgrow the probe window. Input: byte 0 sizes the table,
 * then (op, key index) pairs insert, look up, delete or walk. Checked after
 * every step: a key found holds the value last written for it, a deleted
 * key is gone, no insert looks at more than the probe window, the table
 * never holds more than asked and a walk sees exactly its entries. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/table.h"

#define NKEYS 256
#define MAX_ENTRIES 1024 /* 2048 slots: the homes below are for that */
#define PROBE_LIMIT 64	 /* table.c's window */

static const struct hs_sipkey fixed = {0x0706050403020100ull,
				       0x0f0e0d0c0b0a0908ull};
static uint64_t keys[NKEYS][2];

static void make_keys(void)
{
	size_t n = 0;

	for (uint64_t c = 0; n < NKEYS / 2; c++) {
		uint64_t k[2] = {c, 0xc011de};

		if ((hs_siphash24(&fixed, k, sizeof(k)) & 2047) < 8) {
			keys[n][0] = k[0];
			keys[n++][1] = k[1];
		}
	}
	for (; n < NKEYS; n++) {
		keys[n][0] = n * 0x9e3779b97f4a7c15ull;
		keys[n][1] = n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	uint64_t model[NKEYS]; /* last value written, 0 = never or deleted */
	size_t max, i;
	struct table *t;
	uint64_t stamp = 1;

	if (!ready) {
		make_keys();
		ready = 1;
	}
	if (size < 1)
		return 0;
	max = 1 + (size_t)data[0] * MAX_ENTRIES / 256;
	t = table_new(max, sizeof(keys[0]), sizeof(uint64_t), NULL);
	if (!t || table_set_key(t, &fixed))
		abort();
	memset(model, 0, sizeof(model));
	for (i = 1; i + 1 < size; i += 2) {
		unsigned op = data[i] & 3, k = data[i + 1];
		uint64_t before = table_probes(t), *v;
		bool created;

		switch (op) {
		case 0: /* insert or update */
			v = table_get_or_add(t, keys[k], &created);
			if (!v || table_probes(t) - before > 2 * PROBE_LIMIT)
				abort(); /* a full table re-probes once */
			if (!created && *v != model[k])
				abort();
			*v = model[k] = stamp++;
			if (table_get(t, keys[k]) != v)
				abort();
			break;
		case 1: /* look up */
			v = table_get(t, keys[k]);
			if (v && *v != model[k])
				abort();
			break;
		case 2: /* delete */
			table_del(t, keys[k]);
			model[k] = 0;
			if (table_get(t, keys[k]))
				abort();
			break;
		default: { /* walk */
			size_t pos = 0, n = 0;
			const void *kp;
			void *vp;

			while (table_next(t, &pos, &kp, &vp)) {
				const uint64_t *kk = kp;
				size_t j = kk[1] == 0xc011de ? NKEYS : kk[1];

				for (size_t m = 0; j == NKEYS && m < NKEYS / 2;
				     m++)
					if (!memcmp(keys[m], kk,
						    sizeof(keys[m])))
						j = m;
				if (j >= NKEYS || *(uint64_t *)vp != model[j])
					abort();
				n++;
			}
			if (n != table_len(t))
				abort();
		}
		}
		if (table_len(t) > max)
			abort();
	}
	table_free(t);
	return 0;
}
