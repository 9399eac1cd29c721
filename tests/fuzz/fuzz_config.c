// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer: text inputs operators give us: p0f signature files,
 * correlator config files, CIDR arguments, numeric flags. The first byte
 * picks the parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/addr.h"
#include "cli/cli.h"
#include "correlate/correlate.h"
#include "fingerprint/tcpsig.h"

/* Write the text to a memory file and return its /proc path (fd kept). */
static int as_file(const char *s, size_t n, char *path, size_t cap)
{
	int fd = memfd_create("cfg", 0);

	if (fd < 0)
		return -1;
	if (write(fd, s, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	snprintf(path, cap, "/proc/self/fd/%d", fd);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[256];
	char *s;
	int fd;

	if (size < 1)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	if (data[0] & 1) {
		struct cidr c;
		struct hs_addr a = {0};
		uint64_t v;

		if (cidr_parse(s, &c) == 0)
			(void)cidr_contains(&c, &a);
		(void)cli_parse_u64(s, 0, UINT64_MAX, &v);
	} else if ((fd = as_file(s, size - 1, path, sizeof(path))) >= 0) {
		if (data[0] & 2) {
			struct corr_config cc;

			corr_config_defaults(&cc);
			(void)corr_config_load(path, &cc, err, sizeof(err));
		} else {
			const char *paths[1] = {path};
			struct hs_tcp_sig sig = {.ip_ver = 4,
						 .ttl = 64,
						 .mss = 1460,
						 .win = 64240,
						 .opt_cnt = 1,
						 .opts = {HS_OPT_MSS}};
			struct p0f_match m;
			struct p0f_db *db =
			    p0f_db_load(paths, 1, err, sizeof(err));

			p0f_db_match(db, &sig, &m);
			p0f_db_free(db);
		}
		close(fd);
	}
	free(s);
	return 0;
}
