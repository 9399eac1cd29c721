// SPDX-License-Identifier: BSD-2-Clause
#include "lib/safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *safefile_append(const char *path)
{
	struct stat st;
	FILE *f;
	/* O_NONBLOCK: a FIFO planted at the path must not hang the open */
	int fd = open(path,
		      O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
			  O_NONBLOCK,
		      HS_FILE_MODE);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	if (fcntl(fd, F_SETFL, O_APPEND) || !(f = fdopen(fd, "a"))) {
		close(fd);
		return NULL;
	}
	return f;
}

int safefile_replace(const char *path, const char *text)
{
	size_t n = strlen(path), len = strlen(text);
	char *tmp = malloc(n + 16);
	const char *slash;
	int fd, rc = -1;

	if (!tmp)
		return -1;
	/* a hidden name in the same directory: rename stays atomic */
	slash = strrchr(path, '/');
	if (slash)
		snprintf(tmp, n + 16, "%.*s.%s.XXXXXX", (int)(slash - path + 1),
			 path, slash + 1);
	else
		snprintf(tmp, n + 16, ".%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC); /* O_CREAT | O_EXCL, mode 0600 */
	if (fd < 0)
		goto out;
	if (fchmod(fd, HS_FILE_MODE) == 0 &&
	    write(fd, text, len) == (ssize_t)len && close(fd) == 0) {
		fd = -1;
		rc = rename(tmp, path);
	}
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
out:
	free(tmp);
	return rc;
}

int safefile_read_secret(const char *path, char *buf, size_t cap, char *why,
			 size_t whylen)
{
	struct stat st;
	size_t len = 0;
	ssize_t n;
	/* O_NONBLOCK: a FIFO at the path must not hang the start */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		goto fail;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(why, whylen, "owned by uid %u, not by root",
			 (unsigned)st.st_uid);
		goto fail;
	}
	if (st.st_mode & (S_IRWXO | S_IWGRP)) {
		snprintf(why, whylen,
			 "mode %04o lets others read or change it (chmod 600 "
			 "or 640)",
			 (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	if ((uint64_t)st.st_size >= cap) {
		snprintf(why, whylen, "larger than %zu bytes", cap - 1);
		goto fail;
	}
	while (len < cap - 1) {
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			snprintf(why, whylen, "%s", strerror(errno));
			goto fail;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}
