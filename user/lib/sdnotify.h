/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * systemd's readiness protocol (sd_notify(3)) without libsystemd: one
 * datagram to the AF_UNIX socket named in $NOTIFY_SOCKET. With
 * Type=notify, "READY=1" after the attach tells systemd (and units
 * ordered after this one) that the interface is covered.
 */
#ifndef HS_USER_SDNOTIFY_H
#define HS_USER_SDNOTIFY_H

/* Send state ("READY=1", "STOPPING=1", "STATUS=..."). 0 when sent or
 * when not started by systemd; -1 when the socket refused it. */
int sd_notify_state(const char *state);

#endif
