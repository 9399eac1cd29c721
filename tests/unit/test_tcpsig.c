// SPDX-License-Identifier: BSD-2-Clause
/* TCP SYN signatures in p0f-v3 form (user/fingerprint/tcpsig.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fingerprint/tcpsig.h"

static void test_tcpsig_format(void **state)
{
	struct hs_tcp_sig s = {.ip_ver = 4,
			       .ttl = 126,
			       .mss = 1460,
			       .win = 64240,
			       .wscale = 8,
			       .has_ws = 1,
			       .opt_cnt = 6,
			       .quirks = HS_Q_DF | HS_Q_NZ_ID,
			       .hdr_len = 52,
			       .opts = {HS_OPT_MSS, HS_OPT_NOP, HS_OPT_WS,
					HS_OPT_NOP, HS_OPT_NOP, HS_OPT_SOK}};
	char out[256];

	(void)state;
	tcpsig_format(&s, out, sizeof(out));
	assert_string_equal(
	    out, "4:126+2:0:1460:mss*44,8:mss,nop,ws,nop,nop,sok:df,id+:0");
	s.win = 65535;
	s.opts[5] = HS_OPT_EOL;
	s.eol_pad = 1;
	tcpsig_format(&s, out, sizeof(out));
	assert_string_equal(
	    out, "4:126+2:0:1460:65535,8:mss,nop,ws,nop,nop,eol+1:df,id+:0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tcpsig_format),
	};

	return cmocka_run_group_tests_name("tcpsig", tests, NULL, NULL);
}
