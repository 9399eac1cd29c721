// SPDX-License-Identifier: BSD-2-Clause
#include "lib/safefile.h"

#include <errno.h>
#include <fcntl.h>
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
