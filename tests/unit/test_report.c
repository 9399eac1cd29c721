// SPDX-License-Identifier: BSD-2-Clause
/*
 * The flow report (user/output/report.c): one record per flow of the map,
 * and each flow's p0f fields (os, os_class) those of its own SYN
 * signature, while flows of two signatures alternate. The report looks a
 * signature up, formats and matches it once for all the flows that share
 * it; what p0f_db_match() hands back points into buffers its next call
 * overwrites, so a kept match would give a flow another flow's OS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "corr_fixture.h"
#include "datapath/maps.h"
#include "fingerprint/tcpsig.h"
#include "output/json_field.h"
#include "output/report.h"

/* The fixture's SYN (fx_sig) under each initial TTL. */
static const char p0f_file[] =
    "[tcp:request]\n"
    "label = s:win:Windows:7 or 8\n"
    "sig   = 4:128:0:*:64240,7:mss,sok,ts,nop,ws:df:0\n"
    "\n"
    "label = s:unix:Linux:3.11 and newer\n"
    "sig   = 4:64:0:*:64240,7:mss,sok,ts,nop,ws:df:0\n";

static void test_flow_os_per_signature(void **state)
{
	char path[] = "/tmp/hs-test-report-XXXXXX", err[256], *text = NULL;
	const char *paths[] = {path};
	struct fx *f = fx_new();
	struct p0f_db *db;
	struct map_fds m;
	size_t len = 0, n = 0;
	FILE *out;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p0f_file, sizeof(p0f_file) - 1),
			 (ssize_t)(sizeof(p0f_file) - 1));
	close(fd);
	db = p0f_db_load(paths, 1, err, sizeof(err));
	unlink(path);
	assert_non_null(db);
	/* Windows, Linux, Windows, ...: every lookup after the first two
	 * finds its signature already seen */
	for (int i = 0; i < 6; i++)
		fx_flow(f, &(struct fx_flow){.client = "100.64.1.1",
					     .at_s = 1000 + i,
					     .dur_s = 1,
					     .fam = FAM_OPENSSL,
					     .ttl = i % 2 ? 64 : 128,
					     .mss = 1460});
	m = (struct map_fds){f->flows_fd, f->sources_fd, f->sigs_fd, -1};
	out = open_memstream(&text, &len);
	assert_non_null(out);
	assert_int_equal(report_flows(&(struct report_ctx){.out = out,
							   .fmt = FMT_JSON,
							   .maps = &m,
							   .coll = f->coll,
							   .p0f = db}),
			 0);
	fclose(out);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		json_object *o = json_tokener_parse(line);
		bool win;

		assert_non_null(o);
		win = strstr(json_field_str(o, "tcp_sig"), ":128+") ||
		      strstr(json_field_str(o, "tcp_sig"), ":128:");
		assert_string_equal(json_field_str(o, "os"),
				    win ? "s:win:Windows:7 or 8"
					: "s:unix:Linux:3.11 and newer");
		assert_string_equal(json_field_str(o, "os_class"),
				    win ? "windows" : "linux");
		json_object_put(o);
		n++;
	}
	assert_int_equal(n, 6);
	free(text);
	p0f_db_free(db);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flow_os_per_signature),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
