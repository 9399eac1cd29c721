// SPDX-License-Identifier: BSD-2-Clause
/*
 * The pid file and the files the daemon writes (issue 10, row 10), on
 * files in a temporary directory. A pid file whose pid now belongs to an
 * unrelated process (kill -9, then pid reuse) never gets that process
 * signalled, with or without a lock on the file; a held pid file names its
 * holder and refuses a second claim. The record log and the status file
 * never write through a symlink planted at their path, and are created
 * 0640.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/pidfile.h"
#include "lib/safefile.h"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hs-hard-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/hydrascope.pid", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

/* An unrelated process: a child that sleeps until killed. */
static pid_t sleeper(void)
{
	pid_t p = fork();

	if (p == 0) {
		pause();
		_exit(0);
	}
	assert_true(p > 0);
	return p;
}

static bool alive(pid_t p)
{
	return waitpid(p, NULL, WNOHANG) == 0;
}

static void write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_stale_pidfile(void **state)
{
	pid_t victim = sleeper();
	char text[64], err[256];
	int fd;

	(void)state;
	/* kill -9 left the file; the pid now is another process's. Written
	 * in every form: the old one (pid only), pid with its true start
	 * time, pid with the dead instance's start time */
	snprintf(text, sizeof(text), "%d\n", (int)victim);
	write_file(path, text);
	assert_int_equal(pidfile_running(path), 0);
	assert_int_equal(pidfile_signal(path, SIGTERM, 100, err, 256), 0);
	snprintf(text, sizeof(text), "%d %llu\n", (int)victim,
		 pidfile_start_time(victim));
	write_file(path, text);
	assert_int_equal(pidfile_running(path), 0); /* nobody holds it */
	assert_int_equal(pidfile_signal(path, SIGUSR1, 100, err, 256), 0);
	/* even a lock on it (someone else's) and a pid that lies */
	snprintf(text, sizeof(text), "%d 1\n", (int)victim);
	write_file(path, text);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(pidfile_running(path), 0);
	assert_int_equal(pidfile_signal(path, SIGTERM, 100, err, 256), 0);
	close(fd);
	usleep(100 * 1000);
	assert_true(alive(victim));
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	/* and the stale file is simply taken over */
	assert_int_equal(pidfile_claim(path, err, sizeof(err)), 0);
	assert_int_equal(pidfile_running(path), getpid());
	pidfile_release();
	assert_int_equal(access(path, F_OK), -1);
}

static void test_held_pidfile(void **state)
{
	char err[256], text[64];
	int pipefd[2];
	pid_t holder;
	FILE *f;

	(void)state;
	assert_int_equal(pipe(pipefd), 0);
	holder = fork();
	if (holder == 0) {
		char c = pidfile_claim(path, err, sizeof(err)) ? 'n' : 'y';

		(void)!write(pipefd[1], &c, 1);
		pause(); /* holds the lock until signalled */
		_exit(0);
	}
	assert_int_equal(read(pipefd[0], text, 1), 1);
	assert_int_equal(text[0], 'y');
	assert_int_equal(pidfile_running(path), holder);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	assert_int_equal(atoi(text), holder);
	/* a second claim is refused, naming the holder */
	assert_int_equal(pidfile_claim(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "another hydrascope instance"));
	/* the holder is signalled and waited for */
	assert_int_equal(pidfile_signal(path, SIGTERM, 5000, err, 256), 0);
	waitpid(holder, NULL, 0);
	assert_int_equal(pidfile_running(path), 0);
	/* a symlink at the path is not followed */
	unlink(path);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(pidfile_claim(path, err, sizeof(err)), -1);
	unlink(path);
	close(pipefd[0]);
	close(pipefd[1]);
}

static void test_files_no_symlinks(void **state)
{
	char target[160], link[160], buf[64] = {0};
	struct stat st;
	FILE *f;

	(void)state;
	snprintf(target, sizeof(target), "%s/target", dir);
	snprintf(link, sizeof(link), "%s/records.jsonl", dir);
	write_file(target, "precious\n");
	assert_int_equal(symlink(target, link), 0);
	/* the log: refused at the symlink, the target untouched */
	assert_null(safefile_append(link));
	/* the status file: the symlink is replaced, not written through */
	assert_int_equal(safefile_replace(link, "{\"type\":\"status\"}\n"), 0);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, HS_FILE_MODE);
	f = fopen(target, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "precious\n");
	/* a new log is created 0640 and appended to */
	unlink(link);
	f = safefile_append(link);
	assert_non_null(f);
	fputs("{}\n", f);
	fclose(f);
	assert_int_equal(stat(link, &st), 0);
	assert_int_equal(st.st_mode & 0777, HS_FILE_MODE);
	/* not a regular file (a FIFO would block the daemon): refused */
	unlink(link);
	assert_int_equal(mkfifo(link, 0600), 0);
	assert_null(safefile_append(link));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stale_pidfile),
	    cmocka_unit_test(test_held_pidfile),
	    cmocka_unit_test(test_files_no_symlinks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
