/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One running instance per host: it owns the pinned maps. The pid file is
 * held under an exclusive flock for the instance's whole life, and names
 * the instance by pid and start time (field 22 of /proc/PID/stat). An
 * instance is running only while the lock is held, and a signal goes out
 * only through a pidfd of the process whose start time matches: after a
 * kill -9 and pid reuse, nothing is signalled but hydrascope.
 */
#ifndef HS_USER_PIDFILE_H
#define HS_USER_PIDFILE_H

#include <stddef.h>
#include <sys/types.h>

/* The path is the instance's (lib/paths.h: paths_pidfile()). */
/* Claim the pid file at path and hold it until pidfile_release or exit;
 * fails (err set) if a live instance holds it. */
int pidfile_claim(const char *path, char *err, size_t errlen);
void pidfile_release(void);
/* pid of the instance holding path, checked, or 0. */
pid_t pidfile_running(const char *path);
/* Send sig to the instance holding path, if any, and wait up to wait_ms
 * for it to exit. 0: none was running, or it exited; -1 with err set. */
int pidfile_signal(const char *path, int sig, int wait_ms, char *err,
		   size_t errlen);
/* Start time of a process (clock ticks after boot), 0 if it is gone. */
unsigned long long pidfile_start_time(pid_t pid);

#endif
