// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer: ring buffer events as the kernel would send them (any bytes,
 * any offsets), through reassembly and parsing. The input is a sequence of
 * records: u16 length, then that many event bytes. */
#include <stdint.h>
#include <string.h>

#include "ingest/collector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct collector *c = collector_new(64, 8);
	size_t off = 0;

	if (!c)
		return 0;
	while (off + 2 <= size) {
		size_t n = (size_t)data[off] << 8 | data[off + 1];
		uint8_t ev[sizeof(struct hs_hello_seg)];

		off += 2;
		if (n > size - off)
			n = size - off;
		if (n > sizeof(ev))
			n = sizeof(ev);
		memcpy(ev, data + off, n);
		collector_on_event(c, ev, n);
		off += n;
	}
	collector_flush(c);
	collector_free(c);
	return 0;
}
