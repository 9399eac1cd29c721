// SPDX-License-Identifier: BSD-2-Clause
#include "lib/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The claimed file: its descriptor holds the lock until release or exit. */
static int held_fd = -1;
static char held_path[256];

unsigned long long pidfile_start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* the name (field 2) may hold spaces and parentheses: fields are
	 * counted from the last ')' (field 3 follows it) */
	p = strrchr(buf, ')');
	for (field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

struct ident {
	pid_t pid;
	unsigned long long start;
};

/* The instance holding path's lock, if it is still the process the file
 * names: 0 with id filled, else -1 (none runs, or the file lies). */
static int read_ident(const char *path, struct ident *id)
{
	char buf[64];
	long long pid = 0;
	ssize_t n;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* a shared lock we can take means nobody holds the exclusive one:
	 * whatever the file says, no instance runs */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK)
		goto out;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		goto out;
	buf[n] = 0;
	if (sscanf(buf, "%lld %llu", &pid, &id->start) != 2 || pid <= 0 ||
	    pid > 0x3fffffff)
		goto out;
	id->pid = (pid_t)pid;
	if (pidfile_start_time(id->pid) == id->start)
		rc = 0;
out:
	close(fd);
	return rc;
}

pid_t pidfile_running(const char *path)
{
	struct ident id;

	return read_ident(path, &id) ? 0 : id.pid;
}

int pidfile_claim(const char *path, char *err, size_t errlen)
{
	struct stat a, b;
	char buf[64], dir[256], *slash;
	int fd, n, tries;

	if (held_fd >= 0)
		return 0;
	/* its directory (RuntimeDirectory= under systemd, else made here) */
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0755) && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir,
				 strerror(errno));
			return -1;
		}
	}
	for (tries = 0; tries < 5; tries++) {
		fd =
		    open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0) {
			snprintf(err, errlen, "cannot open %s: %s", path,
				 strerror(errno));
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			pid_t other = pidfile_running(path);

			close(fd);
			snprintf(err, errlen,
				 "another hydrascope instance is running (pid "
				 "%d); stop it ('hydrascope detach'), or "
				 "replace it without a gap with run --takeover",
				 (int)other);
			return -1;
		}
		/* the holder before us may have unlinked the file between our
		 * open and our lock: then the lock is on a file nobody sees */
		if (fstat(fd, &a) == 0 && lstat(path, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		snprintf(err, errlen, "%s keeps changing under us", path);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%d %llu\n", (int)getpid(),
		     pidfile_start_time(getpid()));
	if (ftruncate(fd, 0) || pwrite(fd, buf, (size_t)n, 0) != n) {
		snprintf(err, errlen, "cannot write %s: %s", path,
			 strerror(errno));
		close(fd);
		return -1;
	}
	held_fd = fd;
	snprintf(held_path, sizeof(held_path), "%s", path);
	return 0;
}

void pidfile_release(void)
{
	if (held_fd < 0)
		return;
	/* unlink first, while the lock still says the file is ours */
	unlink(held_path);
	close(held_fd);
	held_fd = -1;
}

int pidfile_signal(const char *path, int sig, int wait_ms, char *err,
		   size_t errlen)
{
	struct ident id;
	struct pollfd pfd;
	int pidfd, rc;

	if (read_ident(path, &id) || id.pid == getpid())
		return 0;
	/* a pidfd pins the process: checked once more through it, the
	 * signal cannot reach a process that took the pid over meanwhile */
	pidfd = (int)syscall(SYS_pidfd_open, id.pid, 0);
	if (pidfd < 0)
		return 0; /* gone */
	if (pidfile_start_time(id.pid) != id.start) {
		close(pidfd);
		return 0;
	}
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0)) {
		snprintf(err, errlen, "cannot signal instance %d: %s",
			 (int)id.pid, strerror(errno));
		close(pidfd);
		return -1;
	}
	/* the pidfd turns readable when the process exits */
	pfd = (struct pollfd){.fd = pidfd, .events = POLLIN};
	do
		rc = poll(&pfd, 1, wait_ms);
	while (rc < 0 && errno == EINTR);
	close(pidfd);
	if (rc <= 0) {
		snprintf(err, errlen, "instance %d did not exit within %d s",
			 (int)id.pid, wait_ms / 1000);
		return -1;
	}
	return 0;
}
