/* SPDX-License-Identifier: BSD-2-Clause */
/* Window-size forms shared by the signature printer and the matcher. */
#ifndef HS_USER_TCPSIG_WIN_H
#define HS_USER_TCPSIG_WIN_H

#include <stddef.h>

#include "hydrascope/abi.h"

enum win_kind { WIN_RAW = 0, WIN_MSS, WIN_MTU };

/* How p0f expresses the window: a multiple of the MSS (also MSS-12 when
 * timestamps are on, and the MSS of a 1500-byte MTU), of the MTU, or raw.
 * Returns the kind and the multiplier in *mult. */
int tcpsig_window_multiple(const struct hs_tcp_sig *s, unsigned *mult);

size_t tcpsig_quirks_format(unsigned quirks, char *out, size_t cap);
size_t tcpsig_layout_format(const struct hs_tcp_sig *s, char *out, size_t cap);
unsigned tcpsig_quirk_bit(const char *name);

#endif
