/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Privilege after attach: loading, pinning and attaching need root's
 * powers; the main loop that parses packet bytes from senders does not.
 * Once attached the daemon keeps CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON
 * only (effective and permitted, and in the bounding set, so that no exec
 * could get the rest back), no inheritable or ambient ones, and sets
 * no_new_privs. Call it before any other thread starts: capabilities are
 * per thread, and threads started later inherit the reduced set.
 */
#ifndef HS_USER_PRIVS_H
#define HS_USER_PRIVS_H

#include <stddef.h>

/* 0, or -1 with err set. */
int privs_drop(char *err, size_t errlen);

#endif
