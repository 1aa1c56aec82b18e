/* wh_fixture: canonical records submissions written by hand, for the tests
 * that need a warehouse with something in it (test_whcube, test_query,
 * test_alloc_sqlite), and a row count for any test holding a database
 * (test_ledger too).  A submission is the canonical CSV an ingest would
 * have produced plus its manifest, whose output hash and row count are
 * worked out here from the text, so a test states only the rows.
 * Header-only (static inline, so a test may use only some of it).
 * Needs cmocka's headers included before it. */
#ifndef TIPSTAT_TEST_WH_FIXTURE_H
#define TIPSTAT_TEST_WH_FIXTURE_H

#include <sodium.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aggregator/warehouse.h"
#include "core/text.h"

/* The canonical records header and three case keys. */
#define FX_HDR "country,period,indicator,sex,age,age_band,form,citizenship,case_key\n"
#define FX_K1 "11111111111111111111111111111111"
#define FX_K2 "22222222222222222222222222222222"
#define FX_K3 "33333333333333333333333333333333"

/* The single integer a query such as "SELECT count(*) ..." returns. */
static inline int64_t fx_count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Remove a test's temporary directory tree: 0, or -1 (for a teardown). */
static inline int fx_rm_tree(const char *dir)
{
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static inline void fx_write_text(const char *path, const char *s)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fputs(s, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Write data to dp and its manifest to mp: kind records, one country;
 * periods_json and indicators_json are JSON array bodies ("\"2023-Q4\""). */
static inline void fx_write_sub(const char *dp, const char *mp, const char *country,
                         const char *periods_json, const char *indicators_json,
                         const char *data)
{
	unsigned char h[32];
	char hex[65], m[1024];
	fx_write_text(dp, data);
	crypto_generichash(h, 32, (const unsigned char *)data, strlen(data), NULL, 0);
	text_hex(h, 32, hex);
	long rows = -1; /* the header is not a row */
	for (const char *p = data; *p; p++)
		rows += *p == '\n';
	snprintf(m, sizeof m,
	         "{\"format\": \"tipstat-submission/1\", \"kind\": \"records\", "
	         "\"countries\": [\"%s\"], \"periods\": [%s], \"indicators\": [%s], "
	         "\"output\": {\"blake2b\": \"%s\", \"rows\": %ld}}\n",
	         country, periods_json, indicators_json, hex, rows);
	fx_write_text(mp, m);
}

/* The metadata of a records submission of AUT, version v. */
static inline wh_submission_meta fx_meta(const char *periods, uint32_t v)
{
	wh_submission_meta m = {.actor = "test", .country = "AUT", .periods = periods,
	                        .version = v, .kind = WH_RECORDS};
	return m;
}

/* Load dp with its manifest mp; a failed load fails the test and prints
 * the first messages. */
static inline void fx_load_files(wh *w, const wh_submission_meta *meta, const char *dp, const char *mp)
{
	diag d;
	diag_init(&d, 10);
	if (wh_load_submission(w, meta, dp, mp, NULL, &d) != 0) {
		char buf[512];
		for (size_t i = 0; i < d.n_items && i < 5; i++) {
			diag_format(&d.items[i], buf, sizeof buf);
			print_error("%s\n", buf);
		}
		fail_msg("load %s: %s", dp, d.msg);
	}
	diag_free(&d);
}

/* Write DIR/NAME and its manifest (AUT; indicators VIC and SUS) and load
 * them into w as version v. */
static inline void fx_load(wh *w, const char *dir, const char *name, const char *periods_json,
                    const char *periods, const char *data, uint32_t v)
{
	char dp[256], mp[256];
	snprintf(dp, sizeof dp, "%s/%s", dir, name);
	snprintf(mp, sizeof mp, "%s/%s.manifest", dir, name);
	fx_write_sub(dp, mp, "AUT", periods_json, "\"VIC\", \"SUS\"", data);
	wh_submission_meta meta = fx_meta(periods, v);
	fx_load_files(w, &meta, dp, mp);
}

/* The two AUT quarters test_whcube and test_query start from, as files
 * DIR/a and DIR/b, version 1: 2023-Q4 holds persons FX_K1 and FX_K2
 * (victims); 2024-Q1 holds FX_K1 again (counted in 2023-Q4 already),
 * FX_K3 and one record without a key. */
static inline void fx_load_aut(wh *w, const char *dir)
{
	fx_load(w, dir, "a", "\"2023-Q4\"", "2023-Q4",
	        FX_HDR "AUT,2023-Q4,VIC,F,Y0T17,,SEX,AUT," FX_K1 "\n"
	               "AUT,2023-Q4,VIC,M,Y_GE18,Y25T34,LAB,ROU," FX_K2 "\n", 1);
	fx_load(w, dir, "b", "\"2024-Q1\"", "2024-Q1",
	        FX_HDR "AUT,2024-Q1,VIC,F,Y0T17,,SEX,AUT," FX_K1 "\n"
	               "AUT,2024-Q1,VIC,F,Y_GE18,,SEX,NGA," FX_K3 "\n"
	               "AUT,2024-Q1,VIC,U,U,,U,U,\n", 1);
}

#endif
