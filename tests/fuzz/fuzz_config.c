// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer: text inputs operators give us: p0f signature files, CIDR
 * arguments, numeric flags. The first byte picks the parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "addr.h"
#include "cli.h"
#include "tcpsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

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
	} else {
		int fd = memfd_create("p0f", 0);
		char path[64], err[256];
		const char *paths[1] = {path};
		struct p0f_db *db;

		if (fd >= 0 && write(fd, s, size - 1) == (ssize_t)(size - 1)) {
			struct hs_tcp_sig sig = {.ip_ver = 4,
						 .ttl = 64,
						 .mss = 1460,
						 .win = 64240,
						 .opt_cnt = 1,
						 .opts = {HS_OPT_MSS}};
			struct p0f_match m;

			snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
			db = p0f_db_load(paths, 1, err, sizeof(err));
			p0f_db_match(db, &sig, &m);
			p0f_db_free(db);
		}
		if (fd >= 0)
			close(fd);
	}
	free(s);
	return 0;
}
