// SPDX-License-Identifier: BSD-2-Clause
#include "lib/sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->failed)
		return;
	for (;;) {
		size_t room = sb->cap - sb->len;

		va_start(ap, fmt);
		n = vsnprintf(sb->p ? sb->p + sb->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			sb->failed = true;
			return;
		}
		if ((size_t)n < room) {
			sb->len += (size_t)n;
			return;
		}
		size_t ncap = (sb->cap ? sb->cap * 2 : 256) + (size_t)n;
		char *np = realloc(sb->p, ncap);

		if (!np) {
			sb->failed = true;
			return;
		}
		sb->p = np;
		sb->cap = ncap;
	}
}

void sb_free(struct sbuf *sb)
{
	free(sb->p);
	*sb = (struct sbuf){0};
}

const char *sb_str(const struct sbuf *sb)
{
	return sb->p && !sb->failed ? sb->p : "";
}

bool sb_failed(const struct sbuf *sb)
{
	return sb->failed;
}
