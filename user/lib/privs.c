// SPDX-License-Identifier: BSD-2-Clause
#include "lib/privs.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* What the main loop does after attach, and what it needs for it:
 *  - map lookups, updates, deletes and batches, and iteration, through
 *    the fds it holds (the reconcile, the sweeps, the hints): CAP_BPF,
 *    which kernels that check the bpf() call itself (unprivileged BPF
 *    disabled) want for any command;
 *  - program and map info by fd (the exporter), ring buffer polling:
 *    CAP_BPF and CAP_PERFMON;
 *  - at a clean stop, the TC detach over netlink and the XDP link
 *    teardown: CAP_NET_ADMIN; unlinking its pins in bpffs and its files
 *    in /run: plain owner permissions of uid 0.
 * Nothing looks a BPF object up by id after attach (that needs
 * CAP_SYS_ADMIN), so CAP_SYS_ADMIN goes. */
static const int kept[] = {CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON};

static uint64_t kept_mask(void)
{
	uint64_t m = 0;

	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		m |= 1ull << kept[i];
	return m;
}

int privs_drop(char *err, size_t errlen)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	uint64_t permitted, want;
	int cap;

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d)) {
		snprintf(err, errlen, "capget: %s", strerror(errno));
		return -1;
	}
	permitted = d[0].permitted | (uint64_t)d[1].permitted << 32;
	want = kept_mask() & permitted;
	/* the bounding set first: dropping from it needs CAP_SETPCAP,
	 * which goes with the capset below */
	if (permitted & (1ull << CAP_SETPCAP))
		for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
			if (!(want & (1ull << cap)) &&
			    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)) {
				snprintf(err, errlen,
					 "cannot drop capability %d from the "
					 "bounding set: %s",
					 cap, strerror(errno));
				return -1;
			}
	/* EINVAL: a kernel without ambient capabilities, nothing to clear */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) &&
	    errno != EINVAL) {
		snprintf(err, errlen, "cannot clear ambient capabilities: %s",
			 strerror(errno));
		return -1;
	}
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = (uint32_t)want;
	d[1].effective = d[1].permitted = (uint32_t)(want >> 32);
	if (syscall(SYS_capset, &h, d)) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}
