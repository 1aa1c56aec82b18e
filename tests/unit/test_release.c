/* release: round trip through a directory, the status rules (a suppressed
 * cell never carries a number, whoever builds the table), and malformed
 * release files with their positioned messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "core/period.h"
#include "privacy/release.h"

static const char *JSON_OK =
	"{\"format\":\"tipstat-release-2\",\"name\":\"t\",\"created\":\"2026-11-24T19:00:00Z\","
	"\"method\":\"suppression\",\"private\":true,\"notice\":\"\",\"params\":{\"k\":5},"
	"\"rho\":null,\"seed\":null,\"submissions\":[],\"audit\":{}}";

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		fclose(f);
		return NULL;
	}
	b[n] = 0;
	fclose(f);
	return b;
}

/* A small table: an exact free cell, a censored interval, an unbounded
 * interval, a primary, a secondary, a noisy and a missing cell. */
static void build(rel_table *t)
{
	diag d = DIAG_INIT;
	rel_init(t);
	assert_int_equal(rel_set_protection(t, REL_M_SUPPRESSION, 1, "", &d), 0);
	assert_int_equal(rel_set_name(t, "Test \"release\"\n\\ é", &d), 0);
	assert_int_equal(rel_set_created(t, "2026-11-24T19:16:22Z", &d), 0);
	assert_int_equal(rel_set_params(t, "{ \"k\" : 5, \"rule\": [\"p%\", 0.1] }", &d), 0);
	assert_int_equal(rel_set_audit(t, "{\"checked\": true}", &d), 0);
	assert_int_equal(rel_add_submission(t, "AUT", "2019-2021", 2, "ab12", &d), 0);
	t->meta.rho = 0.5;
	t->meta.has_seed = 1;
	t->meta.seed = 12345;

	rel_row r;
	cube_value v = {100, 100, 1, 0, 1};
	rel_row_from_cube(&r, REL_GEO_COUNTRY, "AUT", period_make(2020, 0), REL_VIC, CUBE_S_TOTAL, &v);
	assert_int_equal(rel_add_row(t, &r, &d), 0);
	v = (cube_value){3, 7, 3, CUBE_F_CENSORED, 1};
	rel_row_from_cube(&r, REL_GEO_SUBREGION, "155", period_make(2020, 0), REL_VIC,
	                  CUBE_S_GROUP + CUBE_G_GIRLS, &v);
	assert_int_equal(rel_add_row(t, &r, &d), 0);
	v = (cube_value){0, CUBE_UNBOUNDED, 1, CUBE_F_CENSORED | CUBE_F_PARTIAL, 1};
	rel_row_from_cube(&r, REL_GEO_COUNTRY, "EGY", period_make(2021, 3), REL_SUS,
	                  CUBE_S_AGE + CUBE_AGE_ADULT, &v);
	assert_int_equal(rel_add_row(t, &r, &d), 0);
	v = (cube_value){7, 7, 1, 0, 1};
	rel_row_from_cube(&r, REL_GEO_COUNTRY, "AUT", period_make(2020, 0), REL_VIC,
	                  CUBE_S_GROUP + CUBE_G_BOYS, &v);
	rel_row_suppress(&r, REL_PRIMARY);
	assert_int_equal(rel_add_row(t, &r, &d), 0);
	v = (cube_value){93, 93, 1, 0, 1};
	rel_row_from_cube(&r, REL_GEO_COUNTRY, "AUT", period_make(2020, 0), REL_VIC,
	                  CUBE_S_GROUP + CUBE_G_WOMEN, &v);
	rel_row_suppress(&r, REL_SECONDARY);
	assert_int_equal(rel_add_row(t, &r, &d), 0);
	v = (cube_value){400, 400, 2, CUBE_F_DERIVED, 1};
	rel_row_from_cube(&r, REL_GEO_WORLD, "001", period_make(2020, 0), REL_CONV, CUBE_S_TOTAL, &v);
	rel_row_noisy(&r, -3, 4.9, 6.25);
	assert_int_equal(rel_add_row(t, &r, &d), 0);
	rel_row_from_cube(&r, REL_GEO_REGION, "150", period_make(2022, 0), REL_PROS,
	                  CUBE_S_FORM + CUBE_FORM_LAB, NULL);
	assert_int_equal(rel_add_row(t, &r, &d), 0);
	assert_int_equal(d.n_errors, 0);
	diag_free(&d);
}

static const char *EXPECTED_CSV =
	REL_CSV_HEADER "\n"
	"country,AUT,2020,VIC,TOTAL,free,100,100,100,,,,1\n"
	"subregion,155,2020,VIC,GROUP:girls,free,,3,7,,,c,3\n"
	"country,EGY,2021-Q3,SUS,AGE:Y_GE18,free,,0,,,,cp,1\n"
	"country,AUT,2020,VIC,GROUP:boys,primary,,,,,,,1\n"
	"country,AUT,2020,VIC,GROUP:women,secondary,,,,,,,1\n"
	"world,001,2020,CONV,TOTAL,noisy,-3,,,4.9,6.25,d,2\n"
	"region,150,2022,PROS,FORM:LAB,missing,,,,,,,0\n";

static void test_round_trip(void **state)
{
	(void)state;
	rel_table t, u;
	build(&t);
	char dir[] = "/tmp/test_release_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char sub[64];
	snprintf(sub, sizeof sub, "%s/rel", dir); /* created by rel_write_dir */
	diag d = DIAG_INIT;
	assert_int_equal(rel_write_dir(&t, sub, &d), 0);
	char path[96];
	snprintf(path, sizeof path, "%s/release.csv", sub);
	char *csv = read_all(path);
	assert_non_null(csv);
	assert_string_equal(csv, EXPECTED_CSV);
	assert_int_equal(rel_read_dir(sub, &u, &d), 0);
	assert_int_equal(u.n_rows, t.n_rows);
	for (size_t i = 0; i < t.n_rows; i++) {
		const rel_row *a = &t.rows[i], *b = &u.rows[i];
		assert_int_equal(a->geo_kind, b->geo_kind);
		assert_string_equal(a->geo, b->geo);
		assert_int_equal(a->period, b->period);
		assert_int_equal(a->indicator, b->indicator);
		assert_int_equal(a->slot, b->slot);
		assert_int_equal(a->status, b->status);
		assert_int_equal(a->has_value, b->has_value);
		if (a->has_value)
			assert_int_equal(a->value, b->value);
		assert_int_equal(a->has_interval, b->has_interval);
		if (a->has_interval) {
			assert_int_equal(a->lo, b->lo);
			assert_int_equal(a->hi, b->hi);
		}
		assert_true(isnan(a->moe_lo) ? isnan(b->moe_lo) : a->moe_lo == b->moe_lo);
		assert_true(isnan(a->moe_hi) ? isnan(b->moe_hi) : a->moe_hi == b->moe_hi);
		assert_int_equal(a->flags, b->flags);
		assert_int_equal(a->countries, b->countries);
	}
	assert_string_equal(u.meta.name, t.meta.name);
	assert_string_equal(u.meta.created, "2026-11-24T19:16:22Z");
	assert_int_equal(u.meta.method, REL_M_SUPPRESSION);
	assert_int_equal(u.meta.is_private, 1);
	assert_string_equal(u.meta.notice, "");
	assert_string_equal(u.meta.params_json, "{\"k\":5,\"rule\":[\"p%\",0.1]}");
	assert_string_equal(u.meta.audit_json, "{\"checked\":true}");
	assert_true(u.meta.rho == 0.5);
	assert_int_equal(u.meta.has_seed, 1);
	assert_int_equal(u.meta.seed, 12345);
	assert_int_equal(u.meta.n_subs, 1);
	assert_string_equal(u.meta.subs[0].country, "AUT");
	assert_string_equal(u.meta.subs[0].periods, "2019-2021");
	assert_int_equal(u.meta.subs[0].version, 2);
	assert_string_equal(u.meta.subs[0].id, "ab12");

	/* lookups */
	const rel_row *r = rel_find(&u, "155", period_make(2020, 0), REL_VIC, CUBE_S_GROUP + CUBE_G_GIRLS);
	assert_non_null(r);
	assert_int_equal(r->lo, 3);
	assert_int_equal(r->hi, 7);
	assert_null(rel_find(&u, "155", period_make(2021, 0), REL_VIC, CUBE_S_GROUP + CUBE_G_GIRLS));
	r = rel_find(&u, "EGY", period_make(2021, 3), REL_SUS, CUBE_S_AGE + CUBE_AGE_ADULT);
	assert_non_null(r);
	assert_int_equal(r->hi, REL_UNBOUNDED);

	/* writing the read table again gives the same bytes */
	snprintf(sub, sizeof sub, "%s/rel2", dir);
	assert_int_equal(rel_write_dir(&u, sub, &d), 0);
	snprintf(path, sizeof path, "%s/release.csv", sub);
	char *csv2 = read_all(path);
	assert_string_equal(csv2, csv);
	char jp1[96], jp2[96];
	snprintf(jp1, sizeof jp1, "%s/rel/release.json", dir);
	snprintf(jp2, sizeof jp2, "%s/rel2/release.json", dir);
	char *j1 = read_all(jp1), *j2 = read_all(jp2);
	assert_string_equal(j1, j2);
	assert_non_null(strstr(j1, "\"name\": \"Test \\\"release\\\"\\n\\\\ é\""));
	assert_non_null(strstr(j1, "\"rho\": 0.5"));
	assert_non_null(strstr(j1, "\"seed\": 12345"));
	free(csv);
	free(csv2);
	free(j1);
	free(j2);
	rel_free(&t);
	rel_free(&u);
	diag_free(&d);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* No row of any table that reaches a file carries a number for a
 * suppressed cell: the builder clears them, rel_add_row refuses them,
 * rel_write_dir refuses a table patched behind its back. */
static void test_suppressed_never_numbered(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	rel_table t;
	rel_init(&t);
	rel_row r;
	cube_value v = {7, 7, 1, 0, 1};
	rel_row_from_cube(&r, REL_GEO_COUNTRY, "AUT", 20200, REL_VIC, CUBE_S_TOTAL, &v);
	rel_row_suppress(&r, REL_PRIMARY);
	assert_int_equal(r.has_value, 0);
	assert_int_equal(r.has_interval, 0);
	assert_true(isnan(r.moe_lo) && isnan(r.moe_hi));

	rel_row bad = r;
	bad.has_value = 1;
	bad.value = 7;
	assert_int_equal(rel_add_row(&t, &bad, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_non_null(strstr(d.msg, "suppressed cell carries no value"));
	bad = r;
	bad.has_interval = 1;
	bad.lo = bad.hi = 7;
	assert_int_equal(rel_add_row(&t, &bad, &d), -1);
	bad = r;
	bad.status = REL_SECONDARY;
	bad.moe_lo = 2.0;
	assert_int_equal(rel_add_row(&t, &bad, &d), -1);
	bad = r;
	bad.status = REL_MISSING;
	bad.has_value = 1;
	assert_int_equal(rel_add_row(&t, &bad, &d), -1);

	assert_int_equal(rel_add_row(&t, &r, &d), 0);
	assert_int_equal(rel_add_row(&t, &r, &d), -1); /* same key twice */
	assert_non_null(strstr(d.msg, "given twice"));
	t.rows[0].has_value = 1;  /* patched behind the API */
	t.rows[0].value = 7;
	char dir[] = "/tmp/test_release_XXXXXX";
	assert_non_null(mkdtemp(dir));
	assert_int_equal(rel_write_dir(&t, dir, &d), -1);
	char path[96];
	snprintf(path, sizeof path, "%s/release.csv", dir);
	assert_int_equal(access(path, F_OK), -1); /* nothing written */
	rmdir(dir);

	/* other rules */
	rel_row x;
	v = (cube_value){3, 3, 1, 0, 1};
	rel_row_from_cube(&x, REL_GEO_COUNTRY, "aut", 20200, REL_VIC, CUBE_S_TOTAL, &v);
	assert_int_equal(rel_row_check(&x, &d), -1);
	rel_row_from_cube(&x, REL_GEO_COUNTRY, "AUTX", 20200, REL_VIC, CUBE_S_TOTAL, &v);
	assert_int_equal(rel_row_check(&x, &d), -1); /* not truncated to AUT */
	rel_row_from_cube(&x, REL_GEO_WORLD, "002", 20200, REL_VIC, CUBE_S_TOTAL, &v);
	assert_int_equal(rel_row_check(&x, &d), -1);
	rel_row_from_cube(&x, REL_GEO_REGION, "150", 20200, REL_VIC, CUBE_S_TOTAL, &v);
	assert_int_equal(rel_row_check(&x, &d), 0);
	x.has_value = 0;       /* [3,3] written as an interval */
	assert_int_equal(rel_row_check(&x, &d), -1);
	rel_row_noisy(&x, 5, 1.0, -1.0);
	assert_int_equal(rel_row_check(&x, &d), -1);
	rel_row_noisy(&x, 5, NAN, 1.0);
	assert_int_equal(rel_row_check(&x, &d), -1);

	/* protection consistency */
	assert_int_equal(rel_set_protection(&t, REL_M_NONE, 1, "", &d), -1);
	assert_int_equal(rel_set_protection(&t, REL_M_DP, 0, "", &d), -1);
	assert_int_equal(rel_set_protection(&t, REL_M_DP, 1, "NOT PRIVATE", &d), -1);
	assert_int_equal(rel_set_protection(&t, REL_M_NONE, 0, "NOT PRIVATE: raw counts", &d), 0);
	assert_int_equal(rel_set_params(&t, "[1,2]", &d), -1);
	assert_int_equal(rel_set_params(&t, "{bad", &d), -1);
	assert_int_equal(rel_set_created(&t, "2026-13-01T00:00:00Z", &d), -1);
	rel_free(&t);
	diag_free(&d);
}

/* Reads csv text with the valid JSON; returns the diag for inspection. */
static int read_csv_text(const char *csv, diag *d)
{
	rel_table t;
	int rc = rel_read_mem(csv, strlen(csv), "r.csv", JSON_OK, strlen(JSON_OK), "r.json", &t, d);
	if (rc == 0) {
		rel_free(&t);
	}
	return rc;
}

static int has_item(const diag *d, const char *formatted)
{
	char buf[512];
	for (size_t i = 0; i < d->n_items; i++) {
		diag_format(&d->items[i], buf, sizeof buf);
		if (strstr(buf, formatted))
			return 1;
	}
	return 0;
}

static void test_malformed_csv(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	/* One file with a problem per line: every one is reported, in place. */
	const char *csv =
		REL_CSV_HEADER "\n"
		"country,AUT,2020,VIC,TOTAL,free,100,100,100,,,,1\n"     /* 2 ok */
		"country,AUT,2020,VIC,SEX:F,hidden,,,,,,,1\n"            /* 3 bad status */
		"country,AUT,2020,VIC,SEX:M,primary,7,,,,,,1\n"          /* 4 value on suppressed */
		"country,AUT,2020-Q5,VIC,TOTAL,free,1,1,1,,,,1\n"        /* 5 bad period */
		"country,AUT,20,VIC,AGE:U,free,1,1,1,,,,1\n"             /* 6 bad period */
		"country,AUT,2020,VIC,GROUP:boys,secondary,,4,4,,,,1\n"  /* 7 interval on suppressed */
		"country,AUT,2020,VIC,GROUP:men,missing,,,,1.5,,,0\n"    /* 8 moe on missing */
		"region,AUT,2020,VIC,TOTAL,free,1,1,1,,,,1\n"            /* 9 bad geo for kind */
		"country,AUT,2020,VIC,FORM:XYZ,free,1,1,1,,,,1\n"        /* 10 unknown slot */
		"country,AUT,2020,VIC,FORM:SEX,free,5,4,6,,,,1\n"        /* 11 value outside lo=hi */
		"country,AUT,2020,VIC,FORM:LAB,noisy,5,,,,,,1\n"         /* 12 noisy without moe */
		"country,AUT,2020,VIC,FORM:BEG,free,1,1,1,,,pc,1\n"      /* 13 flags out of order */
		"country,AUT,2020,VIC,TOTAL,free,100,100,100,,,,1\n"     /* 14 duplicate */
		"country,AUT,2020,VIC,FORM:MAR,free,1,1\n"              /* 15 too few fields */
		"country,AUT,2020,XYZ,FORM:ORG,free,-1,1,1,,,,1\n";      /* 16 bad ind + negative */
	d.max_items = 100;
	assert_int_equal(read_csv_text(csv, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_true(has_item(&d, "r.csv:3:28: error: bad status"));
	assert_true(has_item(&d, "r.csv:4:36: error: a suppressed cell must leave value empty"));
	assert_true(has_item(&d, "r.csv:5:13: error: bad period"));
	assert_true(has_item(&d, "r.csv:6:13: error: bad period"));
	assert_true(has_item(&d, "r.csv:7:44: error: a suppressed cell must leave lo empty"));
	assert_true(has_item(&d, "r.csv:7:46: error: a suppressed cell must leave hi empty"));
	assert_true(has_item(&d, "r.csv:8:43: error: a missing cell must leave moe_lo empty"));
	assert_true(has_item(&d, "r.csv:9:8: error: bad geo for geo_kind region"));
	assert_true(has_item(&d, "r.csv:10:22: error: unknown slot"));
	assert_true(has_item(&d, "r.csv:11:1: error: an exact free cell has lo = hi = value"));
	assert_true(has_item(&d, "r.csv:12:41: error: a noisy cell needs its margins of error (moe_lo and moe_hi)"));
	assert_true(has_item(&d, "r.csv:13:44: error: bad flags"));
	assert_true(has_item(&d, "r.csv:14:1: error: cell AUT 2020 VIC TOTAL given twice"));
	assert_true(has_item(&d, "r.csv:15:1: error: row has 8 fields, expected 13"));
	assert_true(has_item(&d, "r.csv:16:18: error: bad indicator"));
	assert_true(has_item(&d, "r.csv:16:36: error: bad value (a whole number >= 0)"));
	assert_int_equal(d.n_errors, 16);
	diag_free(&d);

	/* missing columns */
	diag_init(&d, 0);
	assert_int_equal(read_csv_text("geo_kind,geo,period,indicator,slot,status,value,lo,hi,flags\n", &d), -1);
	assert_true(has_item(&d, "r.csv:1:1: error: header lacks column 'moe_lo'"));
	assert_true(has_item(&d, "r.csv:1:1: error: header lacks column 'countries'"));
	assert_false(has_item(&d, "lacks column 'flags'"));
	diag_free(&d);
	/* the same columns in another order are not the format either */
	diag_init(&d, 0);
	assert_int_equal(read_csv_text("geo,geo_kind,period,indicator,slot,status,value,lo,hi,moe_lo,moe_hi,flags,countries\n", &d), -1);
	assert_true(has_item(&d, "header must be exactly"));
	diag_free(&d);
	/* a noisy cell's interval needs both of its margins */
	diag_init(&d, 0);
	assert_int_equal(read_csv_text(REL_CSV_HEADER "\n"
	                               "country,AUT,2020,VIC,FORM:LAB,noisy,5,,,2.5,,,1\n", &d), -1);
	assert_true(has_item(&d, "r.csv:2:45: error: a noisy cell needs its margins of error "
	                         "(moe_lo and moe_hi)"));
	diag_free(&d);
	diag_init(&d, 0);
	assert_int_equal(read_csv_text(REL_CSV_HEADER "\n"
	                               "country,AUT,2020,VIC,FORM:LAB,noisy,5,,,2.5,x,,1\n", &d), -1);
	assert_true(has_item(&d, "r.csv:2:45: error: bad moe_hi (a decimal >= 0)"));
	diag_free(&d);
	diag_init(&d, 0);
	assert_int_equal(read_csv_text("", &d), -1);
	assert_true(has_item(&d, "empty file"));
	diag_free(&d);

	/* the diag cap: every problem counted, the first ones kept */
	diag_init(&d, 3);
	assert_int_equal(read_csv_text(csv, &d), -1);
	assert_int_equal(d.n_items, 3);
	assert_int_equal(d.n_errors, 16);
	diag_free(&d);

	/* a header alone is a valid empty release */
	diag_init(&d, 0);
	assert_int_equal(read_csv_text(REL_CSV_HEADER "\n", &d), 0);
	diag_free(&d);
}

static void test_malformed_json(void **state)
{
	(void)state;
	const char *csv = REL_CSV_HEADER "\n";
	struct { const char *json, *expect; } cases[] = {
		{"{\"format\":\"other\"}", "format is \"other\""},
		/* version 1 had one symmetric moe column: refused, not misread */
		{"{\"format\":\"tipstat-release-1\"}",
		 "format is \"tipstat-release-1\", expected \"tipstat-release-2\""},
		{"{", "r.json:1:2"},
		{"[]", "must hold a JSON object"},
		{"{\"format\":\"tipstat-release-2\",\"name\":\"t\",\"created\":\"yesterday\","
		 "\"method\":\"dp\",\"private\":true,\"notice\":\"\",\"params\":{},"
		 "\"rho\":1,\"seed\":3,\"submissions\":[],\"audit\":{}}", "created must be"},
		{"{\"format\":\"tipstat-release-2\",\"name\":\"t\",\"created\":\"2026-11-24T19:00:00Z\","
		 "\"method\":\"none\",\"private\":true,\"notice\":\"\",\"params\":{},"
		 "\"rho\":null,\"seed\":null,\"submissions\":[],\"audit\":{}}", "cannot be private"},
		{"{\"format\":\"tipstat-release-2\",\"name\":\"t\",\"created\":\"2026-11-24T19:00:00Z\","
		 "\"method\":\"none\",\"private\":false,\"notice\":\"\",\"params\":{},"
		 "\"rho\":null,\"seed\":null,\"submissions\":[],\"audit\":{}}", "NOT PRIVATE"},
		{"{\"format\":\"tipstat-release-2\",\"name\":\"t\",\"created\":\"2026-11-24T19:00:00Z\","
		 "\"method\":\"dp\",\"private\":true,\"notice\":\"\",\"params\":[],"
		 "\"rho\":-1,\"seed\":null,\"submissions\":[{\"country\":\"AUT\"}],\"audit\":{}}",
		 "member \"params\" must be an object"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		diag d = DIAG_INIT;
		rel_table t;
		assert_int_equal(rel_read_mem(csv, strlen(csv), "r.csv", cases[i].json,
		                              strlen(cases[i].json), "r.json", &t, &d), -1);
		if (!has_item(&d, cases[i].expect)) {
			char buf[512];
			for (size_t k = 0; k < d.n_items; k++) {
				diag_format(&d.items[k], buf, sizeof buf);
				print_message("  %s\n", buf);
			}
			fail_msg("case %zu: expected '%s'", i, cases[i].expect);
		}
		diag_free(&d);
	}
	/* the last case reports all three of its problems */
	diag d = DIAG_INIT;
	rel_table t;
	const char *j = cases[sizeof cases / sizeof cases[0] - 1].json;
	assert_int_equal(rel_read_mem(csv, strlen(csv), "r.csv", j, strlen(j), "r.json", &t, &d), -1);
	assert_true(has_item(&d, "rho must be >= 0"));
	assert_true(has_item(&d, "submissions[0] needs"));
	diag_free(&d);

	/* a missing file */
	diag_init(&d, 0);
	assert_int_equal(rel_read_dir("/nonexistent/release", &t, &d), -1);
	assert_int_equal(d.code, EX_NOINPUT);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_suppressed_never_numbered),
		cmocka_unit_test(test_malformed_csv),
		cmocka_unit_test(test_malformed_json),
	};
	return cmocka_run_group_tests_name("release", tests, NULL, NULL);
}
