// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer: what a CrowdSec LAPI or its operator hands hydrascope: a
 * decision stream answer (each decision validated and turned into the
 * record the pipeline takes), a Go duration, a credentials file, a
 * --crowdsec URL. The first byte picks the parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "decide/crowdsec_pull.h"
#include "lib/lapi.h"

static void decisions(json_object *ans, const char *key)
{
	json_object *list;
	size_t n;

	if (!json_object_object_get_ex(ans, key, &list) ||
	    !json_object_is_type(list, json_type_array))
		return;
	n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++) {
		struct crowdsec_decision d;
		enum crowdsec_outcome why;
		json_object *r;

		if (!crowdsec_decision_parse(json_object_array_get_idx(list, i),
					     &d, &why))
			continue;
		r = crowdsec_decision_record(&d, 1800000000ull * 1000000000ull);
		json_object_put(r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, out[512], err[600];
	json_object *ans;
	struct lapi_conf c;
	int64_t ns;

	if (size < 1)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	switch (data[0] & 3) {
	case 0:
		ans = json_tokener_parse(s);
		if (ans && json_object_is_type(ans, json_type_object)) {
			decisions(ans, "new");
			decisions(ans, "deleted");
		}
		json_object_put(ans);
		break;
	case 1: (void)crowdsec_parse_duration(s, &ns); break;
	case 2:
		memset(&c, 0, sizeof(c));
		(void)lapi_parse_credentials(s, &c, err, sizeof(err));
		break;
	default: (void)lapi_check_url(s, out, sizeof(out), err, sizeof(err));
	}
	free(s);
	return 0;
}
