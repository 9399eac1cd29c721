/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Files the daemon writes as root in shared directories (/run, /var/log):
 * the record log and the status file name client addresses and SNIs. A
 * symlink planted at the path must not redirect a root write, and a child
 * process must not inherit them; they are created 0640. Secrets the
 * daemon reads (credentials of another service) must not be readable by
 * just anyone on the host.
 */
#ifndef HS_USER_SAFEFILE_H
#define HS_USER_SAFEFILE_H

#include <stdio.h>

#define HS_FILE_MODE 0640

/* Open path for appending: never through a symlink, close-on-exec,
 * created HS_FILE_MODE, a regular file only. NULL with errno set. */
FILE *safefile_append(const char *path);
/* Replace path with text: a new file in path's directory (exclusive
 * create, HS_FILE_MODE), then renamed over path, which replaces whatever
 * path was (a symlink included) without writing through it. 0 or -1. */
int safefile_replace(const char *path, const char *text);
/* Read a secret file whole into buf (NUL-terminated, at most cap - 1
 * bytes): a regular file owned by root or by us, not writable by its
 * group, and no access at all for others. 0, or -1 with the reason in
 * why (errno's text, or which rule it breaks). */
int safefile_read_secret(const char *path, char *buf, size_t cap, char *why,
			 size_t whylen);

#endif
