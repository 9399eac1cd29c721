// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer: capture files through the replay feed (link-layer
 * conversion, direction learning, header views). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ingest/pcap_feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct feed_packet pkt;
	char path[64], err[256];
	struct cidr local;
	struct feed *f;
	int fd = memfd_create("pcap", 0), pass;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	cidr_parse("198.18.0.0/15", &local);
	for (pass = 0; pass < 2;
	     pass++) { /* learned servers, then --local-net */
		f = feed_open(path, &local, (size_t)pass, err, sizeof(err));
		if (!f)
			continue;
		while (feed_next(f, &pkt, err, sizeof(err)) == 1)
			;
		feed_close(f);
	}
	close(fd);
	return 0;
}
