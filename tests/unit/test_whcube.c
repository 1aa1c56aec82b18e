/* Unit tests for aggregator/whcube: the cube built from warehouse contents.
 *
 * Two hand-written canonical submissions of one country share a case key
 * across a year boundary: the person must count once (at the first
 * appearance), a keyless record always counts, an indicator a manifest
 * declares without rows is a zero (not missing), and a resubmission
 * (version 2) replaces version 1 for the cube while --as-of rebuilds the
 * earlier state exactly.  Expected values are worked out by hand below. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "aggregator/auditlog.h"
#include "aggregator/whcube.h"
#include "core/period.h"
#include "core/text.h"

static codelists cl;
static char dir[64];

static int setup(void **state)
{
	(void)state;
	char cdir[4096];
	diag d;
	diag_init(&d, 10);
	int rc = codelists_load(codelists_default_dir(cdir, sizeof cdir), &cl, &d);
	diag_free(&d);
	snprintf(dir, sizeof dir, "/tmp/whcube.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	codelists_free(&cl);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *path, const char *s)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

/* Write data + manifest (kind records, country AUT, the given periods and
 * indicators) and load it as version v. */
static void load(wh *w, const char *name, const char *periods_json, const char *periods,
                 const char *data, uint32_t v)
{
	char dp[256], mp[256], hex[65], m[1024];
	unsigned char h[32];
	snprintf(dp, sizeof dp, "%s/%s", dir, name);
	snprintf(mp, sizeof mp, "%s/%s.manifest", dir, name);
	write_text(dp, data);
	crypto_generichash(h, 32, (const unsigned char *)data, strlen(data), NULL, 0);
	text_hex(h, 32, hex);
	long rows = -1;
	for (const char *p = data; *p; p++)
		rows += *p == '\n';
	snprintf(m, sizeof m,
	         "{\"format\": \"tipstat-submission/1\", \"kind\": \"records\", "
	         "\"countries\": [\"AUT\"], \"periods\": [%s], \"indicators\": [\"VIC\", \"SUS\"], "
	         "\"output\": {\"blake2b\": \"%s\", \"rows\": %ld}}\n", periods_json, hex, rows);
	write_text(mp, m);
	wh_submission_meta meta = {.actor = "test", .country = "AUT", .periods = periods,
	                           .version = v, .kind = WH_RECORDS};
	diag d;
	diag_init(&d, 10);
	if (wh_load_submission(w, &meta, dp, mp, NULL, &d) != 0) {
		char buf[512];
		for (size_t i = 0; i < d.n_items; i++) {
			diag_format(&d.items[i], buf, sizeof buf);
			print_error("%s\n", buf);
		}
		fail_msg("load %s: %s", name, d.msg);
	}
	diag_free(&d);
}

#define HDR "country,period,indicator,sex,age,age_band,form,citizenship,case_key\n"
#define K1 "11111111111111111111111111111111"
#define K2 "22222222222222222222222222222222"
#define K3 "33333333333333333333333333333333"

static int64_t total(const cube *c, int geo_kind, int geo_index, int period, const char *ind)
{
	int g = cube_geo_find(c, geo_kind, geo_index);
	assert_true(g >= 0);
	cube_value v;
	assert_int_equal(cube_get(c, g, period, cl_find(&cl.indicators, ind, strlen(ind)),
	                          CUBE_S_TOTAL, &v), 0);
	if (!v.avail)
		return -1;
	assert_int_equal(v.lo, v.hi);
	return v.lo;
}

static void test_dedup_zero_and_supersession(void **state)
{
	(void)state;
	char db[128];
	snprintf(db, sizeof db, "%s/w.db", dir);
	wh *w;
	diag d;
	diag_init(&d, 10);
	assert_int_equal(wh_open(db, WH_CREATE, &w, &d), 0);
	/* 2023-Q4: persons K1, K2 (victims) */
	load(w, "a", "\"2023-Q4\"", "2023-Q4",
	     HDR "AUT,2023-Q4,VIC,F,Y0T17,,SEX,AUT," K1 "\n"
	         "AUT,2023-Q4,VIC,M,Y_GE18,Y25T34,LAB,ROU," K2 "\n", 1);
	/* 2024-Q1: K1 again (counted in 2023-Q4 already), K3, one keyless */
	load(w, "b", "\"2024-Q1\"", "2024-Q1",
	     HDR "AUT,2024-Q1,VIC,F,Y0T17,,SEX,AUT," K1 "\n"
	         "AUT,2024-Q1,VIC,F,Y_GE18,,SEX,NGA," K3 "\n"
	         "AUT,2024-Q1,VIC,U,U,,U,U,\n", 1);
	int64_t seq_v1;
	char hx[AUDIT_HEX];
	assert_int_equal(audit_head(wh_db(w), &seq_v1, hx, &d), 0);
	cube *c;
	whcube_info info;
	assert_int_equal(whcube_build(w, &cl, 0, 0, &c, &info, &d), 0);
	int aut = cl_find_country(&cl, "AUT", 3);
	assert_int_equal(total(c, CUBE_GEO_COUNTRY, aut, period_make(2023, 4), "VIC"), 2);
	assert_int_equal(total(c, CUBE_GEO_COUNTRY, aut, period_make(2024, 1), "VIC"), 2);
	/* SUS declared by both manifests, no rows: zero, not missing */
	assert_int_equal(total(c, CUBE_GEO_COUNTRY, aut, period_make(2024, 1), "SUS"), 0);
	assert_int_equal(total(c, CUBE_GEO_WORLD, 0, period_make(2024, 1), "VIC"), 2);
	assert_int_equal(info.records, 5);
	assert_int_equal(info.stats.records_duplicate, 1);
	/* a boy of 17 among girls: the SEXAGE slot of M x Y_GE18 has K2 only */
	int g = cube_geo_find(c, CUBE_GEO_COUNTRY, aut);
	cube_value v;
	cube_get(c, g, period_make(2023, 4), 0, CUBE_SLOT_SEXAGE(CUBE_SEX_M, CUBE_AGE_ADULT), &v);
	assert_int_equal(v.lo, 1);
	cube_get(c, g, period_make(2024, 1), 0, CUBE_S_CIT + CUBE_CIT_OTHERREG, &v);
	assert_int_equal(v.lo, 1); /* NGA: another region than AUT's */
	cube_free(c);
	whcube_info_free(&info);
	/* version 2 of 2024-Q1 drops the keyless record */
	load(w, "b2", "\"2024-Q1\"", "2024-Q1",
	     HDR "AUT,2024-Q1,VIC,F,Y_GE18,,SEX,NGA," K3 "\n", 2);
	assert_int_equal(whcube_build(w, &cl, 0, 0, &c, &info, &d), 0);
	assert_int_equal(total(c, CUBE_GEO_COUNTRY, aut, period_make(2024, 1), "VIC"), 1);
	cube_free(c);
	whcube_info_free(&info);
	/* as of the earlier state: the release built then is rebuilt exactly */
	assert_int_equal(whcube_build(w, &cl, seq_v1, 0, &c, &info, &d), 0);
	assert_int_equal(total(c, CUBE_GEO_COUNTRY, aut, period_make(2024, 1), "VIC"), 2);
	cube_free(c);
	whcube_info_free(&info);
	wh_close(w);
	diag_free(&d);
}

static void test_empty_warehouse(void **state)
{
	(void)state;
	char db[128];
	snprintf(db, sizeof db, "%s/empty.db", dir);
	wh *w;
	diag d;
	diag_init(&d, 10);
	assert_int_equal(wh_open(db, WH_CREATE, &w, &d), 0);
	cube *c;
	whcube_info info;
	assert_int_equal(whcube_build(w, &cl, 0, 0, &c, &info, &d), -1);
	assert_non_null(strstr(d.msg, "no submission"));
	assert_null(c);
	whcube_info_free(&info);
	wh_close(w);
	diag_free(&d);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dedup_zero_and_supersession),
		cmocka_unit_test(test_empty_warehouse),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
