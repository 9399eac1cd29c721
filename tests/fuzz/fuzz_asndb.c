// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer: a network database file (--asn-db) of arbitrary bytes: open
 * it, and look up IPv4 and IPv6 addresses through our field extraction
 * (class, AS number, organisation). A file that is not a MaxMind DB must
 * be refused with a message, never crash. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/addr.h"
#include "fingerprint/asndb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t v4[4] = {100, 64, 3, 7};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				       0,    0,	   0,	 0,    0, 0, 0, 9};
	char path[64], err[256];
	struct asn_info ai;
	struct hs_addr a;
	struct asndb *db;
	int fd = memfd_create("mmdb", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		db = asndb_open(path, err, sizeof(err));
		if (db) {
			addr_from_v4(&a, v4);
			asndb_lookup(db, &a, &ai);
			addr_from_v6(&a, v6);
			asndb_lookup(db, &a, &ai);
			asndb_close(db);
		}
	}
	close(fd);
	return 0;
}
