/* SPDX-License-Identifier: BSD-2-Clause */
/* Process and BPF object figures from /proc, for the exporter and the
 * benchmarks. */
#ifndef HS_USER_PROCFS_H
#define HS_USER_PROCFS_H

/* Resident memory of this process in bytes (0 if unknown). */
long proc_rss_bytes(void);
/* Memory the kernel charges to a BPF map or program fd (fdinfo memlock),
 * -1 if unknown. */
long fd_memlock(int fd);

#endif
