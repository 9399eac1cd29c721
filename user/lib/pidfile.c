// SPDX-License-Identifier: BSD-2-Clause
#include "lib/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

pid_t pidfile_running(void)
{
	FILE *f = fopen(HS_PIDFILE, "r");
	long pid = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 0 || (kill((pid_t)pid, 0) && errno == ESRCH))
		return 0; /* stale: its process is gone */
	return (pid_t)pid;
}

int pidfile_claim(char *err, size_t errlen)
{
	pid_t other = pidfile_running();
	char buf[32];
	int fd, n;

	if (other && other != getpid()) {
		snprintf(err, errlen,
			 "another hydrascope instance is running (pid %d); "
			 "stop it ('hydrascope detach'), or replace it "
			 "without a gap with run --takeover",
			 (int)other);
		return -1;
	}
	if (mkdir(HS_RUN_DIR, 0755) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", HS_RUN_DIR,
			 strerror(errno));
		return -1;
	}
	fd = open(HS_PIDFILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write %s: %s", HS_PIDFILE,
			 strerror(errno));
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		snprintf(err, errlen, "cannot write %s", HS_PIDFILE);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

void pidfile_release(void)
{
	if (pidfile_running() == getpid())
		unlink(HS_PIDFILE);
}

int pidfile_handover(char *err, size_t errlen)
{
	pid_t other = pidfile_running();
	int i;

	if (!other || other == getpid())
		return 0;
	if (kill(other, SIGUSR1)) {
		snprintf(err, errlen, "cannot signal instance %d: %s",
			 (int)other, strerror(errno));
		return -1;
	}
	for (i = 0; i < 200 && pidfile_running() == other; i++)
		usleep(50 * 1000);
	if (pidfile_running() == other) {
		snprintf(err, errlen,
			 "instance %d did not hand over within 10 s",
			 (int)other);
		return -1;
	}
	return 0;
}
