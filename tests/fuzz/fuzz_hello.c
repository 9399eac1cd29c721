// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer: ClientHello parser, fingerprints, the tuple mirror and the
 * client family (with its OS plausibility). */
#include <stdint.h>
#include <stdlib.h>

#include "fingerprint/client_family.h"
#include "fingerprint/tls_fp.h"
#include "fingerprint/hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_hello *h = malloc(sizeof(*h));
	struct hs_tuple_acc acc;
	struct tls_fp fp;

	if (!h)
		return 0;
	(void)hello_needed(data, size);
	if (hello_parse(data, size, h) == HELLO_OK) {
		if (fp_compute(h, &fp) == 0)
			fp_free(&fp);
		(void)fp_tuple_acc(h, &acc);
		(void)stack_implausibility(client_family_of(h),
					   (enum os_class)(size % OS_COUNT));
	}
	free(h);
	return 0;
}
