/* SPDX-License-Identifier: BSD-2-Clause */
/* Growable string buffer. On allocation failure the buffer turns "failed"
 * and further appends are dropped; callers check sb_failed() once. */
#ifndef HS_USER_SBUF_H
#define HS_USER_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *p;
	size_t len;
	size_t cap;
	bool failed;
};

void sb_printf(struct sbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sb_free(struct sbuf *sb);
/* The string ("" if empty or failed); valid until the next append. */
const char *sb_str(const struct sbuf *sb);
bool sb_failed(const struct sbuf *sb);

#endif
