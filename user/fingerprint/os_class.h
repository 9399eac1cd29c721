/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef HS_USER_FINGERPRINT_OS_CLASS_H
#define HS_USER_FINGERPRINT_OS_CLASS_H

/* OS class of the TCP side: from the p0f match's name, else (no match)
 * from the initial TTL alone (128 Windows, 64 a Unix-like, 255 gear). */
enum os_class {
	OS_UNKNOWN = 0,
	OS_LINUX, /* Linux and Android (one TCP stack) */
	OS_WINDOWS,
	OS_APPLE, /* macOS and iOS */
	OS_BSD,
	OS_OTHER, /* network gear, legacy Unix */
	OS_UNIX,  /* no p0f match, initial TTL 64: some Unix-like */
	OS_COUNT
};

const char *os_class_name(enum os_class c);

#endif
