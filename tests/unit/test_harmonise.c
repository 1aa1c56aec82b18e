/* Unit tests for ingest/harmonise: one national row -> one standard row.
 *
 * Small mappings written inline, rows fed through csvr_open_mem, and the
 * harmonised codes compared with values worked out by hand (ages from dates
 * of birth at a reference date, periods from year/quarter constants,
 * citizenship categories named by country in long aggregate tables). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/codelist.h"
#include "core/csvr.h"
#include "core/period.h"
#include "ingest/harmonise.h"
#include "ingest/mapping.h"

static codelists cl;

static int setup(void **state)
{
	(void)state;
	char dir[4096];
	diag d;
	diag_init(&d, 10);
	int rc = codelists_load(codelists_default_dir(dir, sizeof dir), &cl, &d);
	diag_free(&d);
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	codelists_free(&cl);
	return 0;
}

/* Harmonise every data row of csv with mapping text map; rows[] receives
 * the results (up to max), rcs[] harm_row's return values.  Returns the
 * number of data rows. */
static size_t run(const char *map, const char *csv, std_row *rows, int *rcs, size_t max,
                  diag *d)
{
	mapping m;
	assert_int_equal(mapping_parse(map, strlen(map), "t.map", &cl, &m, d), 0);
	csvr_opts o = {.delim = m.delimiter ? m.delimiter : ',', .quote = '"'};
	csvr *r;
	assert_int_equal(csvr_open_mem(csv, strlen(csv), "t.csv", &o, &r, d), 0);
	harm h;
	memset(&h, 0, sizeof h);
	csvr_record rec;
	size_t n = 0;
	int first = 1;
	while (csvr_next(r, &rec, d) > 0) {
		if (first) {
			assert_int_equal(harm_init(&h, &m, &cl, "t.csv", &rec, 0, NULL, -1, d), 0);
			first = 0;
			continue;
		}
		assert_true(n < max);
		rcs[n] = harm_row(&h, &rec, &rows[n], d);
		n++;
	}
	harm_free(&h);
	csvr_close(r);
	mapping_free(&m);
	return n;
}

static int age_code(const char *code)
{
	return cl_find(&cl.age, code, strlen(code));
}

static void test_age_reference_column(void **state)
{
	(void)state;
	/* age at the registration date (2024-03-31), not at the offence date
	 * (2020-01-10) nor at the end of the period */
	const char *map =
		"[file]\nkind = records\nage_reference = registered\n"
		"[constant]\ncountry = DEU\nindicator = VIC\n"
		"[column offence]\nfield = date\nformats = YYYY-MM-DD\n"
		"[column born]\nfield = birth_date\nformats = YYYY-MM-DD\n"
		"[column registered]\ndrop = other\n"
		"[column sex]\nfield = sex\n[column form]\nfield = form\n"
		"[column cit]\nfield = citizenship\n";
	const char *csv = "offence,born,registered,sex,form,cit\n"
	                  "2020-01-10,2006-04-01,2024-03-31,F,SEX,DEU\n"  /* 17 at reference */
	                  "2020-01-10,2006-03-31,2024-03-31,F,SEX,DEU\n"  /* 18 that day */
	                  "2020-01-10,2006-03-31,,F,SEX,DEU\n"            /* empty: offence date, 13 */
	                  "2020-01-10,2006-03-31,31/03/2024,F,SEX,DEU\n"; /* bad date */
	std_row rows[4];
	int rcs[4];
	diag d;
	diag_init(&d, 20);
	size_t n = run(map, csv, rows, rcs, 4, &d);
	assert_int_equal(n, 4);
	assert_int_equal(rcs[0], 0);
	assert_int_equal(rows[0].age, age_code("Y0T17"));
	assert_int_equal(rows[0].age_band, age_code("Y15T17"));
	assert_int_equal(rows[0].period, period_make(2020, 1));
	assert_int_equal(rcs[1], 0);
	assert_int_equal(rows[1].age, age_code("Y_GE18"));
	assert_int_equal(rows[1].age_band, age_code("Y18T24"));
	assert_int_equal(rcs[2], 0);
	assert_int_equal(rows[2].age_band, age_code("Y10T14"));
	assert_int_equal(rcs[3], 1);
	assert_int_equal(d.n_errors, 1);
	assert_string_equal(d.items[0].file, "t.csv");
	assert_int_equal(d.items[0].line, 5);
	assert_int_equal(d.items[0].col, 23); /* "31/03/2024" starts at byte 23 */
	diag_free(&d);
}

static void test_year_quarter_constants(void **state)
{
	(void)state;
	/* a quarterly file whose year is given once in the mapping */
	const char *map =
		"[file]\nkind = cells\n[constant]\ncountry = NLD\nindicator = VIC\nyear = 2023\n"
		"[column q]\nfield = quarter\n[column sex]\nfield = sex\n[column n]\nfield = count\n";
	const char *csv = "q,sex,n\nQ2,F,7\n3,M,<5\n";
	std_row rows[2];
	int rcs[2];
	diag d;
	diag_init(&d, 20);
	assert_int_equal(run(map, csv, rows, rcs, 2, &d), 2);
	assert_int_equal(rcs[0], 0);
	assert_int_equal(rows[0].period, period_make(2023, 2));
	assert_int_equal(rows[0].lo, 7);
	assert_int_equal(rows[0].hi, 7);
	assert_int_equal(rcs[1], 0);
	assert_int_equal(rows[1].period, period_make(2023, 3));
	assert_int_equal(rows[1].lo, 0);
	assert_int_equal(rows[1].hi, 4);
	assert_true(rows[1].flags & STD_F_CENSORED);
	diag_free(&d);
}

static void test_citizenship_category_by_country_name(void **state)
{
	(void)state;
	const char *map =
		"[file]\nkind = cells\n[constant]\nindicator = VIC\nyear = 2022\n"
		"[column c]\nfield = country\n[column dim]\nfield = dimension\n"
		"map = by citizenship -> citizenship\nmap = by form -> form\n"
		"[column cat]\nfield = category\nmap = Unknown -> citizenship:U\n"
		"map = Forced labour -> form:LAB\n[column n]\nfield = count\n";
	const char *csv = "c,dim,cat,n\n"
	                  "ITA,by citizenship,Nigeria,12\n"
	                  "ITA,by citizenship,Unknown,3\n"
	                  "ITA,by form,Romania,1\n"; /* a country in a form row: error */
	std_row rows[3];
	int rcs[3];
	diag d;
	diag_init(&d, 20);
	assert_int_equal(run(map, csv, rows, rcs, 3, &d), 3);
	assert_int_equal(rcs[0], 0);
	assert_int_equal(rows[0].citizenship, cl_find_country(&cl, "NGA", 3));
	assert_int_equal(rows[0].form, STD_TOTAL);
	assert_int_equal(rcs[1], 0);
	assert_int_equal(rows[1].citizenship, STD_UNKNOWN);
	assert_int_equal(rcs[2], 1);
	assert_non_null(strstr(d.items[d.n_items - 1].msg, "citizenship"));
	diag_free(&d);
}

/* Every whole age 0..120 and one past it: the band and group harm_row
 * gives (from its per-harm table) are the ones the age codelist gives,
 * worked out here by hand from the bands' bounds (the finest band whose
 * [min, max] holds the age), and 121 is an impossible age. */
static void test_every_age(void **state)
{
	(void)state;
	const char *map =
		"[file]\nkind = records\n"
		"[constant]\ncountry = DEU\nindicator = VIC\nperiod = 2024-Q1\n"
		"[column age]\nfield = age_years\n"
		"[column sex]\nfield = sex\n";
	enum { N = 122 };
	size_t cap = 32 + N * 12;
	char *csv = malloc(cap);
	assert_non_null(csv);
	size_t len = (size_t)snprintf(csv, cap, "age,sex\n");
	for (int y = 0; y < N; y++)
		len += (size_t)snprintf(csv + len, cap - len, "%d,F\n", y);
	std_row rows[N];
	int rcs[N];
	diag d;
	diag_init(&d, 200);
	assert_int_equal(run(map, csv, rows, rcs, N, &d), N);
	static const struct { int lo, hi; const char *band, *group; } want[] = {
		{0, 4, "Y0T4", "Y0T17"}, {5, 9, "Y5T9", "Y0T17"}, {10, 14, "Y10T14", "Y0T17"},
		{15, 17, "Y15T17", "Y0T17"}, {18, 24, "Y18T24", "Y_GE18"},
		{25, 34, "Y25T34", "Y_GE18"}, {35, 44, "Y35T44", "Y_GE18"},
		{45, 54, "Y45T54", "Y_GE18"}, {55, 64, "Y55T64", "Y_GE18"},
		{65, 120, "Y_GE65", "Y_GE18"},
	};
	for (int y = 0; y <= 120; y++) {
		size_t k = 0;
		while (!(y >= want[k].lo && y <= want[k].hi))
			k++;
		assert_int_equal(rcs[y], 0);
		assert_int_equal(rows[y].age, age_code(want[k].group));
		assert_int_equal(rows[y].age_band, age_code(want[k].band));
	}
	assert_int_equal(rcs[121], 1);
	assert_int_equal(d.n_errors, 1);
	assert_int_equal(d.items[0].line, 123);
	diag_free(&d);
	free(csv);
}

/* A column's value repeated, alternated, a prefix of another, the same
 * bytes with a trailing space, a value longer than the memo, a fallback,
 * an unknown value between known ones: each row gets the code its own
 * value maps to, whatever came before (the per-column memo and cache
 * never answer for another value). */
static void test_repeated_values(void **state)
{
	(void)state;
	const char *map =
		"[file]\nkind = records\n"
		"[constant]\ncountry = DEU\nindicator = VIC\nperiod = 2024-Q1\n"
		"[column sexo]\nfield = sex\nmap = 1 -> M\nmap = 10 -> F\n"
		"map = una mujer con un nombre muy largo de verdad -> F\n"
		"[column fin]\nfield = form\nmap = sexual -> SEX\nmap = laboral -> LAB\n"
		"fallback = U\n";
	const char *csv = "sexo,fin\n"
	                  "1,sexual\n"
	                  "1,sexual\n"
	                  "10,laboral\n"
	                  "1,laboral\n"
	                  "1 ,otra\n"      /* "1 " is normalised to 1; otra falls back */
	                  "una mujer con un nombre muy largo de verdad,sexual\n"
	                  "una mujer con un nombre muy largo de verdad,sexual\n"
	                  "7,sexual\n"     /* unknown sex */
	                  "10,otra\n"
	                  "1,laboral\n";
	enum { N = 10 };
	std_row rows[N];
	int rcs[N];
	diag d;
	diag_init(&d, 20);
	assert_int_equal(run(map, csv, rows, rcs, N, &d), N);
	int m = cl_find(&cl.sex, "M", 1), f = cl_find(&cl.sex, "F", 1);
	int sex = cl_find(&cl.forms, "SEX", 3), lab = cl_find(&cl.forms, "LAB", 3),
	    u = cl_find(&cl.forms, "U", 1);
	const int want_sex[N] = {m, m, f, m, m, f, f, -1, f, m};
	const int want_form[N] = {sex, sex, lab, lab, u, sex, sex, -1, u, lab};
	for (int i = 0; i < N; i++) {
		if (i == 7) {
			assert_int_equal(rcs[i], 1);
			continue;
		}
		assert_int_equal(rcs[i], 0);
		assert_int_equal(rows[i].sex, want_sex[i]);
		assert_int_equal(rows[i].form, want_form[i]);
	}
	assert_int_equal(d.n_errors, 1);
	assert_int_equal(d.items[0].line, 9);
	diag_free(&d);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_age_reference_column),
		cmocka_unit_test(test_every_age),
		cmocka_unit_test(test_repeated_values),
		cmocka_unit_test(test_year_quarter_constants),
		cmocka_unit_test(test_citizenship_category_by_country_name),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
