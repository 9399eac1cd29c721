// SPDX-License-Identifier: BSD-2-Clause
#include "lib/radix.h"

#include <stdlib.h>
#include <string.h>

bool radix_sort_u64(uint64_t *v, size_t n)
{
	uint64_t *tmp, *src = v, *dst, *swap, all_or = 0, all_and = ~0ull;
	size_t count[256], i;
	unsigned shift;

	if (n < 2)
		return true;
	tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		return false;
	dst = tmp;
	for (i = 0; i < n; i++) {
		all_or |= v[i];
		all_and &= v[i];
	}
	for (shift = 0; shift < 64; shift += 8) {
		size_t sum = 0;

		/* a byte every key shares orders nothing */
		if (!(((all_or ^ all_and) >> shift) & 0xff))
			continue;
		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(src[i] >> shift) & 0xff]++;
		for (i = 0; i < 256; i++) {
			size_t c = count[i];

			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[count[(src[i] >> shift) & 0xff]++] = src[i];
		swap = src;
		src = dst;
		dst = swap;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
	free(tmp);
	return true;
}

size_t radix_distinct_nonzero(const uint64_t *v, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += v[i] && (i == 0 || v[i] != v[i - 1]);
	return k;
}
