/* reports: known answers on a small hand-built release (tidy rows and
 * labels, SDMX codes, panel and trend worked out by hand below), and the
 * privacy property: the numbers of suppressed cells (7 and 4321, chosen to
 * be distinctive among values that are otherwise multiples of 50 or 100)
 * appear in no output, and their cells are empty everywhere.
 *
 * The release (detected victims, annual unless said otherwise):
 *
 *   TOTAL        2020        2021             2022
 *   AUT (155)    100         200              300          2022-Q1: 80
 *   DEU (155)    1000        1100             1300
 *   NLD (155)    500         600 noisy ±12.5  700
 *   ITA (039)    400         primary (7)      500
 *   SWE (154)    50 p        60               70
 *   155          1600        1900             2300         3 countries
 *   150          2000        secondary (4321) 2800         5 countries
 *   001          2000        2700 noisy ±30.5 2800         5 countries
 *
 *   2022 breakdowns: AUT SEXAGE:F:Y0T17 100, SEXAGE:M:Y0T17 primary (7),
 *   FORM:SEX 150, FORM:LAB secondary (4321), CIT:domestic 200;
 *   DEU FORM:ORG [0,4] c, FORM:ADOP missing;
 *   groups 001: women 1100, men 700, girls 600, boys 300 noisy ±10,
 *   unknown 100; groups 150: women 1200, men 500, girls primary (7), boys
 *   secondary (4321), unknown 100.
 *   population: AUT 10M, DEU 80M, NLD 10M, SWE 10M every year; ITA none.
 *
 * Panel 2020-2022, world: AUT, DEU, NLD (ITA: 2021 suppressed; SWE: 2020
 * partial).  Totals 1600, 1900, 2300 (2021 MOE 12.5).  change = 100 * 700
 * / 1600 = 43.75%.  x = 0, 1, 2: Sxx = 2, Sxy = 700, slope = 350,
 * intercept = 1933.33 - 350 = 1583.33; residuals 16.67, -33.33, 16.67, SSE
 * = 1666.67, s^2 = 1666.67 (n - 2 = 1), SE = sqrt(1666.67 / 2) = 28.8675;
 * t(0.975, 1) = 12.7062, CI = 350 -+ 366.80 = [-16.80, 716.80].
 */
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
#include <unistd.h>
#include "aggregator/population.h"
#include "core/codelist.h"
#include "core/json.h"
#include "core/period.h"
#include "privacy/release.h"
#include "reports/html.h"
#include "reports/labels.h"
#include "reports/rbuf.h"
#include "reports/report.h"
#include "reports/sdmx.h"
#include "reports/tidy.h"
#include "reports/trend.h"

typedef struct fx {
	codelists cl;
	pop_table pop;
	rel_table rel;
} fx;

#define Y(y) period_make((y), 0)

static void add(rel_table *t, int kind, const char *geo, int period, int slot, int64_t v,
                uint32_t countries)
{
	diag d = DIAG_INIT;
	cube_value cv = {v, v, countries, 0, 1};
	rel_row r;
	rel_row_from_cube(&r, kind, geo, period, REL_VIC, slot, &cv);
	assert_int_equal(rel_add_row(t, &r, &d), 0);
}

static void add_status(rel_table *t, int kind, const char *geo, int period, int slot,
                       int64_t truth, int status, double moe, uint32_t countries)
{
	diag d = DIAG_INIT;
	cube_value cv = {truth, truth, countries, 0, 1};
	rel_row r;
	rel_row_from_cube(&r, kind, geo, period, REL_VIC, slot, &cv);
	if (status == REL_NOISY)
		rel_row_noisy(&r, truth, moe, moe);
	else
		rel_row_suppress(&r, status);
	assert_int_equal(rel_add_row(t, &r, &d), 0);
}

/* A noisy cell with the 90% interval [value - lo, value + hi]. */
static void add_noisy(rel_table *t, int kind, const char *geo, int period, int slot,
                      int64_t value, double lo, double hi, uint32_t countries)
{
	diag d = DIAG_INIT;
	cube_value cv = {value, value, countries, 0, 1};
	rel_row r;
	rel_row_from_cube(&r, kind, geo, period, REL_VIC, slot, &cv);
	rel_row_noisy(&r, value, lo, hi);
	assert_int_equal(rel_add_row(t, &r, &d), 0);
}

static void build_release(rel_table *t, int is_private)
{
	diag d = DIAG_INIT;
	rel_init(t);
	if (is_private)
		assert_int_equal(rel_set_protection(t, REL_M_SUPPRESSION, 1, "", &d), 0);
	else
		assert_int_equal(rel_set_protection(t, REL_M_NONE, 0,
		                                    "NOT PRIVATE: raw counts <for testing> & more", &d), 0);
	assert_int_equal(rel_set_name(t, "Test release <b>&", &d), 0);
	assert_int_equal(rel_set_created(t, "2026-11-24T19:00:00Z", &d), 0);
	assert_int_equal(rel_set_params(t, "{\"threshold\": 5, \"note\": \"</pre><script>\"}", &d), 0);
	const int C = REL_GEO_COUNTRY, S = REL_GEO_SUBREGION, R = REL_GEO_REGION, W = REL_GEO_WORLD;
	const int T = CUBE_S_TOTAL;
	static const struct { const char *geo; int64_t v[3]; } ctry[] = {
		{"AUT", {100, 200, 300}}, {"DEU", {1000, 1100, 1300}}, {"NLD", {500, 600, 700}},
		{"ITA", {400, 7, 500}}, {"SWE", {50, 60, 70}}};
	for (size_t i = 0; i < 5; i++)
		for (int y = 0; y < 3; y++) {
			if (i == 2 && y == 1)
				add_status(t, C, "NLD", Y(2021), T, 600, REL_NOISY, 12.5, 1);
			else if (i == 3 && y == 1)
				add_status(t, C, "ITA", Y(2021), T, 7, REL_PRIMARY, 0, 1);
			else if (i == 4 && y == 0) {
				cube_value cv = {50, 50, 1, CUBE_F_PARTIAL, 1};
				rel_row r;
				rel_row_from_cube(&r, C, "SWE", Y(2020), REL_VIC, T, &cv);
				assert_int_equal(rel_add_row(t, &r, &d), 0);
			} else
				add(t, C, ctry[i].geo, Y(2020 + y), T, ctry[i].v[y], 1);
		}
	add(t, C, "AUT", period_make(2022, 1), T, 80, 1);
	add(t, S, "155", Y(2020), T, 1600, 3);
	add(t, S, "155", Y(2021), T, 1900, 3);
	add(t, S, "155", Y(2022), T, 2300, 3);
	add(t, R, "150", Y(2020), T, 2000, 5);
	add_status(t, R, "150", Y(2021), T, 4321, REL_SECONDARY, 0, 5);
	add(t, R, "150", Y(2022), T, 2800, 5);
	add(t, W, "001", Y(2020), T, 2000, 5);
	add_status(t, W, "001", Y(2021), T, 2700, REL_NOISY, 30.5, 5);
	add(t, W, "001", Y(2022), T, 2800, 5);

	add(t, C, "AUT", Y(2022), CUBE_SLOT_SEXAGE(CUBE_SEX_F, CUBE_AGE_MINOR), 100, 1);
	add_status(t, C, "AUT", Y(2022), CUBE_SLOT_SEXAGE(CUBE_SEX_M, CUBE_AGE_MINOR), 7,
	           REL_PRIMARY, 0, 1);
	add(t, C, "AUT", Y(2022), CUBE_S_FORM + CUBE_FORM_SEX, 150, 1);
	add_status(t, C, "AUT", Y(2022), CUBE_S_FORM + CUBE_FORM_LAB, 4321, REL_SECONDARY, 0, 1);
	add(t, C, "AUT", Y(2022), CUBE_S_CIT + CUBE_CIT_DOMESTIC, 200, 1);
	{
		cube_value cv = {0, 4, 1, CUBE_F_CENSORED, 1};
		rel_row r;
		rel_row_from_cube(&r, C, "DEU", Y(2022), REL_VIC, CUBE_S_FORM + CUBE_FORM_ORG, &cv);
		assert_int_equal(rel_add_row(t, &r, &d), 0);
		rel_row_from_cube(&r, C, "DEU", Y(2022), REL_VIC, CUBE_S_FORM + CUBE_FORM_ADOP, NULL);
		assert_int_equal(rel_add_row(t, &r, &d), 0);
	}
	const int G = CUBE_S_GROUP;
	add(t, W, "001", Y(2022), G + CUBE_G_WOMEN, 1100, 5);
	add(t, W, "001", Y(2022), G + CUBE_G_MEN, 700, 5);
	add(t, W, "001", Y(2022), G + CUBE_G_GIRLS, 600, 5);
	add_status(t, W, "001", Y(2022), G + CUBE_G_BOYS, 300, REL_NOISY, 10, 5);
	add(t, W, "001", Y(2022), G + CUBE_G_UNKNOWN, 100, 5);
	add(t, R, "150", Y(2022), G + CUBE_G_WOMEN, 1200, 5);
	add(t, R, "150", Y(2022), G + CUBE_G_MEN, 500, 5);
	add_status(t, R, "150", Y(2022), G + CUBE_G_GIRLS, 7, REL_PRIMARY, 0, 5);
	add_status(t, R, "150", Y(2022), G + CUBE_G_BOYS, 4321, REL_SECONDARY, 0, 5);
	add(t, R, "150", Y(2022), G + CUBE_G_UNKNOWN, 100, 5);
	diag_free(&d);
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	diag d = DIAG_INIT;
	char dir[1024];
	if (codelists_load(codelists_default_dir(dir, sizeof dir), &f->cl, &d) != 0) {
		fprintf(stderr, "codelists: %s\n", d.msg);
		return -1;
	}
	static const char pop[] =
		"iso3,year,population\n"
		"AUT,2020,10000000\nAUT,2021,10000000\nAUT,2022,10000000\n"
		"DEU,2020,80000000\nDEU,2021,80000000\nDEU,2022,80000000\n"
		"NLD,2020,10000000\nNLD,2021,10000000\nNLD,2022,10000000\n"
		"SWE,2020,10000000\nSWE,2021,10000000\nSWE,2022,10000000\n";
	if (pop_load_mem(pop, sizeof pop - 1, "pop", &f->cl, &f->pop, &d) != 0)
		return -1;
	build_release(&f->rel, 1);
	diag_free(&d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	rel_free(&f->rel);
	pop_free(&f->pop);
	codelists_free(&f->cl);
	free(f);
	return 0;
}

/* The secrets: no output may contain them. */
static void assert_no_secret(const char *s)
{
	assert_null(strstr(s, "4321"));
	/* 7 as a whole number: not preceded or followed by a digit, '.' or ':' */
	for (const char *p = strchr(s, '7'); p; p = strchr(p + 1, '7')) {
		char a = p > s ? p[-1] : ' ', b = p[1];
		int isnum_a = (a >= '0' && a <= '9') || a == '.' || a == ':' || a == '-';
		int isnum_b = (b >= '0' && b <= '9') || b == '.';
		if (!isnum_a && !isnum_b) {
			char ctx[64];
			snprintf(ctx, sizeof ctx, "%.30s", p > s + 20 ? p - 20 : s);
			fail_msg("a lone 7 in the output near '%s'", ctx);
		}
	}
}

/* The same on an HTML page's text (tags and their attributes, which hold
 * colours and coordinates, removed; SVG titles and text stay). */
static void assert_no_secret_html(const char *s)
{
	assert_null(strstr(s, "4321"));
	char *t = malloc(strlen(s) + 1);
	size_t n = 0;
	int in_tag = 0;
	for (const char *p = s; *p; p++) {
		if (*p == '<')
			in_tag = 1;
		if (!in_tag)
			t[n++] = *p;
		if (*p == '>') {
			in_tag = 0;
			t[n++] = ' ';
		}
	}
	t[n] = 0;
	/* character references are not numbers */
	for (char *p = strstr(t, "&#"); p; p = strstr(p, "&#"))
		while (*p && *p != ';')
			*p++ = ' ';
	assert_no_secret(t);
	free(t);
}

static int has_line(const char *buf, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = buf; (p = strstr(p, line)); p++)
		if ((p == buf || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

#define ASSERT_LINE(buf, line) do { if (!has_line((buf), (line))) \
	fail_msg("missing line: %s", (line)); } while (0)

static void test_tidy(void **state)
{
	fx *f = *state;
	strbuf b = {0};
	diag d = DIAG_INIT;
	assert_int_equal(rep_tidy_render(&f->rel, &f->cl, &f->pop, &b, &d), 0);
	const char *s = b.s;
	assert_true(strncmp(s, REP_TIDY_HEADER "\n", strlen(REP_TIDY_HEADER) + 1) == 0);
	ASSERT_LINE(s, "AUT,Austria,Europe,Western Europe,Detected trafficking victims,Total,Total,"
	               "Total,Total,2020,Counts,100,free,,100,100,,1");
	/* rate: 100 / 10M * 100,000 = 1 */
	ASSERT_LINE(s, "AUT,Austria,Europe,Western Europe,Detected trafficking victims,Total,Total,"
	               "Total,Total,2020,\"Rate per 100,000 population\",1.000,free,,1.000,1.000,,1");
	/* suppressed: empty value and bounds, status says why */
	ASSERT_LINE(s, "ITA,Italy,Europe,Southern Europe,Detected trafficking victims,Total,Total,"
	               "Total,Total,2021,Counts,,primary,,,,,1");
	ASSERT_LINE(s, ",Europe,Europe,,Detected trafficking victims,Total,Total,Total,Total,2021,"
	               "Counts,,secondary,,,,,5");
	/* noisy with its 90% interval in Lower/Upper and, symmetric, its MOE;
	 * and its rate: 600 / 10M -> 6.000, MOE 0.125 */
	ASSERT_LINE(s, "NLD,Netherlands,Europe,Western Europe,Detected trafficking victims,Total,"
	               "Total,Total,Total,2021,Counts,600,noisy,,587.5,612.5,12.5,1");
	ASSERT_LINE(s, "NLD,Netherlands,Europe,Western Europe,Detected trafficking victims,Total,"
	               "Total,Total,Total,2021,\"Rate per 100,000 population\",6.000,noisy,,5.875,"
	               "6.125,0.125,1");
	/* subregion rate: 1600 / 100M -> 1.6 (AUT+DEU+NLD) */
	ASSERT_LINE(s, ",Western Europe,Europe,Western Europe,Detected trafficking victims,Total,"
	               "Total,Total,Total,2020,\"Rate per 100,000 population\",1.600,free,,1.600,1.600,,3");
	/* world: ITA has no population, so no rate */
	assert_null(strstr(s, ",World,,,Detected trafficking victims,Total,Total,Total,Total,2020,\"Rate"));
	ASSERT_LINE(s, ",World,,,Detected trafficking victims,Total,Total,Total,Total,2020,Counts,"
	               "2000,free,,2000,2000,,5");
	/* partial year flag */
	ASSERT_LINE(s, "SWE,Sweden,Europe,Northern Europe,Detected trafficking victims,Total,Total,"
	               "Total,Total,2020,Counts,50,free,p,50,50,,1");
	/* quarter, no rate */
	ASSERT_LINE(s, "AUT,Austria,Europe,Western Europe,Detected trafficking victims,Total,Total,"
	               "Total,Total,2022-Q1,Counts,80,free,,80,80,,1");
	assert_null(strstr(s, "2022-Q1,\"Rate"));
	/* breakdown labels */
	ASSERT_LINE(s, "AUT,Austria,Europe,Western Europe,Detected trafficking victims,Total,Total,"
	               "Female,Minor,2022,Counts,100,free,,100,100,,1");
	ASSERT_LINE(s, "AUT,Austria,Europe,Western Europe,Detected trafficking victims,Total,Total,"
	               "Male,Minor,2022,Counts,,primary,,,,,1");
	ASSERT_LINE(s, "AUT,Austria,Europe,Western Europe,Detected trafficking victims,"
	               "by form of exploitation,Sexual exploitation,Total,Total,2022,Counts,150,free,,150,150,,1");
	ASSERT_LINE(s, "AUT,Austria,Europe,Western Europe,Detected trafficking victims,"
	               "by form of exploitation,Forced labour,Total,Total,2022,Counts,,secondary,,,,,1");
	ASSERT_LINE(s, "AUT,Austria,Europe,Western Europe,Detected trafficking victims,"
	               "by citizenship,Domestic,Total,Total,2022,Counts,200,free,,200,200,,1");
	ASSERT_LINE(s, "DEU,Germany,Europe,Western Europe,Detected trafficking victims,"
	               "by form of exploitation,Removal of organs,Total,Total,2022,Counts,,free,c,0,4,,1");
	ASSERT_LINE(s, "DEU,Germany,Europe,Western Europe,Detected trafficking victims,"
	               "by form of exploitation,Illegal adoption,Total,Total,2022,Counts,,missing,,,,,0");
	/* group slots are not repeated in the tidy file */
	assert_null(strstr(s, "Women"));
	assert_no_secret(s);
	/* count: 32 rows without groups, + rate rows: AUT 3, DEU 3, NLD 3, SWE 3,
	 * 155 3, 150 0 (ITA has no population), 001 0 */
	size_t lines = 0;
	for (const char *p = s; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 1 + 32 + 15);
	strbuf_free(&b);
	diag_free(&d);
}

static void test_sdmx(void **state)
{
	fx *f = *state;
	strbuf b = {0};
	diag d = DIAG_INIT;
	assert_int_equal(rep_sdmx_render(&f->rel, &b, &d), 0);
	const char *s = b.s;
	assert_true(strncmp(s, REP_SDMX_HEADER "\n", strlen(REP_SDMX_HEADER) + 1) == 0);
	ASSERT_LINE(s, "TIPSTAT:DF_TIP(1.0),AUT,2020,VIC,_T,_T,_T,_T,PS,100,A,F,,,,flags=;countries=1");
	ASSERT_LINE(s, "TIPSTAT:DF_TIP(1.0),ITA,2021,VIC,_T,_T,_T,_T,PS,,A,C,,,,flags=;countries=1");
	ASSERT_LINE(s, "TIPSTAT:DF_TIP(1.0),150,2021,VIC,_T,_T,_T,_T,PS,,A,D,,,,flags=;countries=5");
	ASSERT_LINE(s, "TIPSTAT:DF_TIP(1.0),NLD,2021,VIC,_T,_T,_T,_T,PS,600,E,F,587.5,612.5,12.5,flags=;countries=1");
	ASSERT_LINE(s, "TIPSTAT:DF_TIP(1.0),DEU,2022,VIC,_T,_T,ORG,_T,PS,,A,F,0,4,,flags=c;countries=1");
	ASSERT_LINE(s, "TIPSTAT:DF_TIP(1.0),DEU,2022,VIC,_T,_T,ADOP,_T,PS,,L,F,,,,flags=;countries=0");
	ASSERT_LINE(s, "TIPSTAT:DF_TIP(1.0),AUT,2022,VIC,F,Y0T17,_T,_T,PS,100,A,F,,,,flags=;countries=1");
	ASSERT_LINE(s, "TIPSTAT:DF_TIP(1.0),AUT,2022,VIC,_T,_T,_T,DOMESTIC,PS,200,A,F,,,,flags=;countries=1");
	ASSERT_LINE(s, "TIPSTAT:DF_TIP(1.0),SWE,2020,VIC,_T,_T,_T,_T,PS,50,A,F,,,,flags=p;countries=1");
	ASSERT_LINE(s, "TIPSTAT:DF_TIP(1.0),AUT,2022-Q1,VIC,_T,_T,_T,_T,PS,80,A,F,,,,flags=;countries=1");
	assert_no_secret(s);
	size_t lines = 0;
	for (const char *p = s; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 1 + 32);
	strbuf_free(&b);

	/* the DSD lists every dimension and its codes */
	assert_int_equal(rep_sdmx_render_dsd(&b, &d), 0);
	json_doc doc;
	assert_int_equal(json_parse(b.s, b.n, "dsd.json", &doc, &d), 0);
	const json_value *dims = json_get(doc.root, "dimensions");
	assert_non_null(dims);
	assert_int_equal(dims->len, 8);
	const char *want[8] = {"REF_AREA", "TIME_PERIOD", "INDICATOR", "SEX", "AGE", "FORM",
		"CITIZENSHIP_CLASS", "UNIT_MEASURE"};
	for (size_t i = 0; i < 8; i++)
		assert_string_equal(json_get_str(dims->items[i], "id"), want[i]);
	assert_string_equal(json_get_str(dims->items[3], "codelist"), "CL_TIP_SEX");
	const json_value *codes = json_get(dims->items[3], "codes");
	assert_int_equal(codes->len, 5);
	assert_string_equal(json_get_str(codes->items[4], "id"), "_T");
	assert_string_equal(json_get_str(doc.root, "dataflow"), "TIPSTAT:DF_TIP(1.0)");
	json_free(&doc);
	strbuf_free(&b);
	diag_free(&d);
}

static void test_trend(void **state)
{
	fx *f = *state;
	diag d = DIAG_INIT;
	int y0, y1;
	assert_int_equal(rep_trend_years(&f->rel, &y0, &y1), 0);
	assert_int_equal(y0, 2020);
	assert_int_equal(y1, 2022);
	rep_trend t;
	assert_int_equal(rep_trend_compute(&f->rel, &f->cl, REL_VIC, "001", y0, y1, &t, &d), 0);
	assert_int_equal(t.ok, 1);
	assert_int_equal(t.n_members, 3);
	assert_string_equal(t.members[0], "AUT");
	assert_string_equal(t.members[1], "DEU");
	assert_string_equal(t.members[2], "NLD");
	assert_int_equal(t.n_noisy, 1);
	assert_true(t.total[0] == 1600 && t.total[1] == 1900 && t.total[2] == 2300);
	assert_true(t.moe[0] == 0 && t.moe[1] == 12.5 && t.moe[2] == 0);
	assert_true(fabs(t.change_pct - 43.75) < 1e-9);
	assert_true(fabs(t.slope - 350) < 1e-9);
	assert_true(fabs(t.intercept - 1583.3333333) < 1e-6);
	assert_true(fabs(t.se - 28.8675135) < 1e-6);
	assert_true(fabs(t.ci_lo - (-16.80)) < 0.01);
	assert_true(fabs(t.ci_hi - 716.80) < 0.01);
	assert_true(fabs(t.mean - 1933.3333333) < 1e-6);
	rep_trend_free(&t);

	/* Southern Europe: ITA only, suppressed in 2021 -> no panel */
	assert_int_equal(rep_trend_compute(&f->rel, &f->cl, REL_VIC, "039", 2020, 2022, &t, &d), 0);
	assert_int_equal(t.ok, 0);
	rep_trend_free(&t);
	/* two years: slope without SE; ITA and SWE join for 2021-2022?  ITA
	 * 2021 is suppressed, SWE 2021-2022 free and complete */
	assert_int_equal(rep_trend_compute(&f->rel, &f->cl, REL_VIC, "150", 2021, 2022, &t, &d), 0);
	assert_int_equal(t.n_members, 4);
	assert_true(t.total[0] == 1960 && t.total[1] == 2370);
	assert_true(fabs(t.slope - 410) < 1e-9);
	assert_true(isnan(t.se));
	rep_trend_free(&t);
	assert_int_equal(rep_trend_compute(&f->rel, &f->cl, REL_VIC, "AUT", 2020, 2022, &t, &d), -1);
	rep_trend_free(&t);
	assert_int_equal(rep_trend_compute(&f->rel, &f->cl, REL_VIC, "001", 2022, 2020, &t, &d), -1);
	rep_trend_free(&t);
	diag_free(&d);
}

/* Balanced tags: every element opened is closed in order (the page is
 * XHTML-style: void elements are written self-closing). */
static void assert_balanced(const char *s)
{
	char stack[256][16];
	int sp = 0;
	for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<')) {
		if (p[1] == '!')
			continue; /* doctype */
		int closing = p[1] == '/';
		const char *n = p + 1 + closing;
		size_t len = strcspn(n, " />\n");
		const char *end = strchr(p, '>');
		assert_non_null(end);
		assert_true(len > 0 && len < 16);
		if (closing) {
			assert_true(sp > 0);
			sp--;
			if (strncmp(stack[sp], n, len) != 0 || stack[sp][len])
				fail_msg("closing </%.*s> does not match <%s>", (int)len, n, stack[sp]);
		} else if (end[-1] != '/') {
			assert_true(sp < 256);
			memcpy(stack[sp], n, len);
			stack[sp++][len] = 0;
		}
	}
	assert_int_equal(sp, 0);
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;
	for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

/* xmllint (when installed) must parse the page as well-formed XML. */
static void assert_xmllint(const char *s, size_t n)
{
	if (system("command -v xmllint >/dev/null 2>&1") != 0)
		return;
	char path[] = "/tmp/test_reports_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, n), (ssize_t)n);
	close(fd);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", path);
	int rc = system(cmd);
	snprintf(cmd, sizeof cmd, "xmllint --noout --html '%s' 2>&1 | grep -v 'Tag .* invalid' "
	         "| grep -q error", path);
	int html_errors = system(cmd) == 0;
	unlink(path);
	assert_int_equal(rc, 0);
	assert_false(html_errors);
}

/* Property: every figure cell of the HTML tables (a <td> with data-
 * attributes) shows exactly what the release holds for the cell it names:
 * the status, the value (free exact and noisy), the margin rounded to one
 * decimal, the interval; a cell named "absent" has no row in the release. */
static void attr(const char *tag, const char *name, char *out, size_t n)
{
	char key[32];
	snprintf(key, sizeof key, " %s=\"", name);
	const char *p = strstr(tag, key);
	const char *end = strchr(tag, '>');
	out[0] = 0;
	if (!p || p > end)
		return;
	p += strlen(key);
	size_t k = strcspn(p, "\"");
	assert_true(k < n);
	memcpy(out, p, k);
	out[k] = 0;
}

static void assert_cells_match_release(const char *s, const rel_table *rel, const codelists *cl,
                                       size_t min_cells)
{
	size_t cells = 0, absent = 0;
	for (const char *p = strstr(s, "<td"); p; p = strstr(p + 1, "<td")) {
		const char *gt = strchr(p, '>');
		assert_non_null(gt);
		char geo[8], area[128], year[8], ind[8], slot[32], status[16], measure[16];
		attr(p, "data-geo", geo, sizeof geo);
		if (!*geo)
			continue;
		attr(p, "data-area", area, sizeof area);
		attr(p, "data-year", year, sizeof year);
		attr(p, "data-indicator", ind, sizeof ind);
		attr(p, "data-slot", slot, sizeof slot);
		attr(p, "data-status", status, sizeof status);
		attr(p, "data-measure", measure, sizeof measure);
		int kind = strlen(geo) == 3 && geo[0] >= 'A' ? REL_GEO_COUNTRY
		           : strcmp(geo, "001") == 0 ? REL_GEO_WORLD
		           : strcmp(geo, "150") == 0 ? REL_GEO_REGION : REL_GEO_SUBREGION;
		rep_geo_info g;
		assert_int_equal(rep_geo_lookup(cl, kind, geo, &g), 0);
		assert_string_equal(area, g.name);
		const rel_row *r = rel_find(rel, geo, period_make(atoi(year), 0),
		                            rel_indicator_parse(ind), rel_slot_parse(slot));
		cells++;
		if (strcmp(status, "absent") == 0) {
			assert_null(r);
			assert_true(strncmp(gt, ">..</td>", 8) == 0);
			absent++;
			continue;
		}
		assert_non_null(r);
		assert_string_equal(status, rel_status_name(r->status));
		char want[192];
		if (*measure) { /* coverage */
			assert_string_equal(measure, "countries");
			snprintf(want, sizeof want, ">%lu/", (unsigned long)r->countries);
		} else if (r->status == REL_FREE && r->has_value)
			snprintf(want, sizeof want, ">%lld", (long long)r->value);
		else if (r->status == REL_NOISY) {
			char a[32], c[32];
			snprintf(a, sizeof a, "%.1f", r->moe_lo);
			snprintf(c, sizeof c, "%.1f", r->moe_hi);
			if (strcmp(a, c) == 0)
				snprintf(want, sizeof want, ">%lld&#160;&#177;&#160;%s<sup>&#8224;</sup>",
				         (long long)r->value, a);
			else
				snprintf(want, sizeof want, ">%lld&#160;&#8722;%s&#160;+%s<sup>&#8224;</sup>",
				         (long long)r->value, a, c);
		}
		else if (r->status == REL_FREE)
			snprintf(want, sizeof want, r->hi == REL_UNBOUNDED ? ">&#8805;%lld<" : ">%lld&#8211;%lld<",
			         (long long)r->lo, (long long)r->hi);
		else if (r->status == REL_MISSING)
			snprintf(want, sizeof want, ">..</td>");
		else
			snprintf(want, sizeof want, ">x<sup>%d</sup></td>", r->status == REL_PRIMARY ? 1 : 2);
		if (strncmp(gt, want, strlen(want)) != 0)
			fail_msg("cell %s %s %s %s shows '%.40s', want '%s'", geo, year, ind, slot, gt, want);
		/* a free exact value is followed by a flag or the end of the cell */
		if (!*measure && r->status == REL_FREE && r->has_value)
			assert_true(gt[strlen(want)] == '<');
	}
	assert_true(cells >= min_cells);
	assert_true(absent > 0);
}

/* World -> regions, region -> subregions and the countries no subregion
 * table lists, subregion -> countries.  The release has Western Europe
 * (155) only: AUT, DEU and NLD are in its table; ITA (039) and SWE (154)
 * in Europe's. */
static void assert_area_tables(const char *s)
{
	const char *w = strstr(s, "<h3 id=\"area-001\">World</h3>");
	const char *e = strstr(s, "<h3 id=\"area-150\">Europe</h3>");
	const char *we = strstr(s, "<h3 id=\"area-155\" class=\"subr\">Western Europe "
	                           "<span class=\"in\">(subregion of Europe)</span></h3>");
	const char *notes = strstr(s, "<section id=\"notes\">");
	assert_true(w && e && we && notes && w < e && e < we && we < notes);
	assert_non_null(strstr(we, "data-kind=\"subregion\""));
	/* each part row lies in the table of its parent */
#define IN(from, to, what) do { const char *q_ = strstr((from), (what)); \
	assert_true(q_ && q_ < (to)); } while (0)
#define NOT_IN(from, to, what) do { const char *q_ = strstr((from), (what)); \
	assert_true(!q_ || q_ > (to)); } while (0)
	IN(w, e, "<td class=\"l\">Victims, Europe</td>");
	NOT_IN(w, e, "Victims, Austria");
	IN(e, we, "<td class=\"l\">Victims, Western Europe</td>");
	IN(e, we, "<td class=\"l\">Victims, Italy</td>");
	IN(e, we, "<td class=\"l\">Victims, Sweden</td>");
	NOT_IN(e, we, "Victims, Austria");
	IN(we, notes, "<td class=\"l\">Victims, Austria</td>");
	IN(we, notes, "<td class=\"l\">Victims, Germany</td>");
	IN(we, notes, "<td class=\"l\">Victims, Netherlands</td>");
	NOT_IN(we, notes, "Victims, Italy");
	/* Western Europe: 3 of the 9 countries of the subregion report */
	IN(we, notes, "data-geo=\"155\" data-area=\"Western Europe\" data-year=\"2020\" "
	              "data-indicator=\"VIC\" data-slot=\"TOTAL\" data-status=\"free\">3/9</td>");
#undef IN
#undef NOT_IN
}

static void test_html(void **state)
{
	fx *f = *state;
	strbuf b = {0};
	diag d = DIAG_INIT;
	assert_int_equal(rep_html_render(&f->rel, &f->cl, &b, &d), 0);
	const char *s = b.s;
	assert_balanced(s);
	assert_xmllint(s, b.n);
	assert_no_secret_html(s);
	/* private release: no banner */
	assert_null(strstr(s, "NOT PRIVATE"));
	assert_null(strstr(s, "<script"));
	/* escaping of release text */
	assert_non_null(strstr(s, "Test release &lt;b&gt;&amp;"));
	assert_non_null(strstr(s, "&lt;/pre&gt;&lt;script&gt;"));
	/* suppressed cells marked, with the reason, and the cell they come from */
#define DA(geo, area, year) " data-geo=\"" geo "\" data-area=\"" area "\" data-year=\"" year \
	"\" data-indicator=\"VIC\" data-slot=\"TOTAL\""
	assert_non_null(strstr(s, "<td class=\"x\" title=\"suppressed: small cell\""
	                          DA("ITA", "Italy", "2021") " data-status=\"primary\">x<sup>1</sup></td>"));
	assert_non_null(strstr(s, "<td class=\"x\" title=\"suppressed to protect another cell\""
	                          DA("150", "Europe", "2021") " data-status=\"secondary\">x<sup>2</sup></td>"));
	/* noisy with its margin, partial flag, coverage */
	assert_non_null(strstr(s, "<td class=\"noisy\" title=\"noisy value, 90% margin of error\""
	                          DA("NLD", "Netherlands", "2021") " data-status=\"noisy\">"
	                          "600&#160;&#177;&#160;12.5<sup>&#8224;</sup></td>"));
	assert_non_null(strstr(s, "<td" DA("SWE", "Sweden", "2020") " data-status=\"free\">50<sup>p</sup></td>"));
	/* world: 5 of the 247 countries reporting */
	assert_non_null(strstr(s, "<td data-measure=\"countries\"" DA("001", "World", "2020")
	                          " data-status=\"free\">5/247</td>"));
	/* the coverage of a suppressed total is shown: the number of countries is published */
	assert_non_null(strstr(s, "<td data-measure=\"countries\"" DA("150", "Europe", "2021")
	                          " data-status=\"secondary\">5/51</td>"));
	/* a cell the release does not hold at all */
	assert_non_null(strstr(s, "<td class=\"na\" title=\"not available\" data-geo=\"001\" "
	                          "data-area=\"World\" data-year=\"2020\" data-indicator=\"SUS\" "
	                          "data-slot=\"TOTAL\" data-status=\"absent\">..</td>"));
#undef DA
	/* 3 areas x (4 indicators + coverage) x 3 years, + parts rows */
	assert_cells_match_release(s, &f->rel, &f->cl, 3 * 5 * 3 + 3 * 6);
	assert_area_tables(s);
	/* every chart is a figure holding an SVG: the line chart and two bar charts */
	assert_int_equal(count(s, "<figure class=\"chart\""), 3);
	for (const char *p = strstr(s, "<figure class=\"chart\""); p;
	     p = strstr(p + 1, "<figure class=\"chart\"")) {
		const char *svg = strstr(p, "<svg"), *end = strstr(p, "</figure>");
		assert_true(svg && end && svg < end);
	}
	/* line chart: world 3 points, Europe 2 (2021 suppressed is not plotted) */
	assert_int_equal(count(s, "<circle"), 5);
	assert_non_null(strstr(s, "World 2021: 2700 &#177; 30.5 (noisy, 90% interval)"));
	assert_null(strstr(s, "Europe 2021:"));
	/* trend table for the world: 3 members, +43.8%, slope +350.0, SE 28.9;
	 * the same panel for Europe (ITA and SWE drop out) and for Western
	 * Europe, which has its own row */
	assert_int_equal(count(s, "<td>3</td><td>1600</td><td>2300</td><td>+43.8%</td><td>+350.0</td>"
	                          "<td>28.9</td><td>[-16.8, 716.8]</td>"), 3);
	assert_non_null(strstr(s, "<tr><td class=\"l\">Western Europe</td><td>3</td><td>1600</td>"));
	/* groups: world all published (boys noisy, error bar); Europe combined suppressed
	 * segment = 2800 - 1800 = 1000 of 2800 = 35.7% */
	assert_non_null(strstr(s, "Boys: 10.7% (noisy)"));
	assert_non_null(strstr(s, "Suppressed categories (combined): 35.7%"));
	assert_non_null(strstr(s, "Women: 42.9%"));   /* 1200 / 2800 */
	assert_non_null(strstr(s, "Girls: 21.4%"));  /* world: 600 / 2800 */
	assert_int_equal(count(s, "Girls: "), 1);    /* Europe's girls are suppressed: no segment */
	/* the legend names the combined segment in the groups chart only (the
	 * forms chart has no bar: the areas have no form breakdown) */
	assert_int_equal(count(s, ">x suppressed (combined)</text>"), 1);
	strbuf_free(&b);

	/* a DP release: the margin is shown to one decimal in the page, exactly in
	 * the tidy file; a negative noisy value is shown as it is */
	{
		rel_table dp;
		rel_init(&dp);
		assert_int_equal(rel_set_protection(&dp, REL_M_DP, 1, "", &d), 0);
		/* an interval that is not symmetric: [262 - 20.5, 262 + 31.625] */
		add_noisy(&dp, REL_GEO_WORLD, "001", Y(2020), CUBE_S_TOTAL, 262, 20.5, 31.625, 1);
		add_status(&dp, REL_GEO_WORLD, "001", Y(2021), CUBE_S_TOTAL, -3, REL_NOISY, 0.04, 1);
		add_status(&dp, REL_GEO_COUNTRY, "AUT", Y(2020), CUBE_S_TOTAL, 262, REL_NOISY,
		           23.73340622355812, 1);
		assert_int_equal(rep_html_render(&dp, &f->cl, &b, &d), 0);
		assert_balanced(b.s);
		assert_non_null(strstr(b.s, "data-status=\"noisy\">262&#160;&#8722;20.5&#160;+31.6"
		                            "<sup>&#8224;</sup></td>"));
		assert_non_null(strstr(b.s, "data-status=\"noisy\">-3&#160;&#177;&#160;0.0<sup>&#8224;</sup></td>"));
		assert_non_null(strstr(b.s, "[v &#8722; a, v + b]")); /* the footnote says how to read it */
		assert_null(strstr(b.s, "31.625"));
		assert_null(strstr(b.s, "suppressed (combined)")); /* nothing is suppressed */
		assert_non_null(strstr(b.s, "World 2020: 262 &#8722;20.5 +31.6 (noisy, 90% interval)"));
		assert_non_null(strstr(b.s, "dp (differential privacy"));
		assert_cells_match_release(b.s, &dp, &f->cl, 5 * 2);
		strbuf_free(&b);
		assert_int_equal(rep_tidy_render(&dp, &f->cl, NULL, &b, &d), 0);
		/* the asymmetric one: its interval, no single MOE */
		assert_non_null(strstr(b.s, ",World,,,Detected trafficking victims,Total,Total,Total,Total,"
		                            "2020,Counts,262,noisy,,241.5,293.625,,1\n"));
		/* a symmetric one: Lower, Upper exact and its MOE */
		const char *w = strstr(b.s, "AUT,Austria,Europe,Western Europe,Detected trafficking victims,"
		                            "Total,Total,Total,Total,2020,Counts,262,noisy,,");
		assert_non_null(w);
		char *e;
		w = strstr(w, "noisy,,") + strlen("noisy,,");
		assert_true(strtod(w, &e) == 262 - 23.73340622355812 && *e == ',');
		assert_true(strtod(e + 1, &e) == 262 + 23.73340622355812 && *e == ',');
		assert_int_equal(strncmp(e, ",23.73340622355812,1\n", 21), 0);
		strbuf_free(&b);
		assert_int_equal(rep_sdmx_render(&dp, &b, &d), 0);
		assert_non_null(strstr(b.s, "TIPSTAT:DF_TIP(1.0),001,2020,VIC,_T,_T,_T,_T,PS,262,E,F,"
		                            "241.5,293.625,,flags=;countries=1\n"));
		strbuf_free(&b);
		rel_free(&dp);
	}

	/* a release that is not private carries the banner */
	rel_table np;
	build_release(&np, 0);
	assert_int_equal(rep_html_render(&np, &f->cl, &b, &d), 0);
	assert_balanced(b.s);
	assert_no_secret_html(b.s);
	assert_non_null(strstr(b.s, "<div class=\"banner\" id=\"not-private\" role=\"alert\">NOT PRIVATE"));
	assert_non_null(strstr(b.s, "NOT PRIVATE: raw counts &lt;for testing&gt; &amp; more"));
	assert_non_null(strstr(b.s, "<title>NOT PRIVATE &#8211; "));
	strbuf_free(&b);
	rel_free(&np);
	diag_free(&d);
}

static void test_write_all(void **state)
{
	fx *f = *state;
	diag d = DIAG_INIT;
	char dir[] = "/tmp/test_reports_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char out[64];
	snprintf(out, sizeof out, "%s/out", dir);
	assert_int_equal(rep_write_all(&f->rel, &f->cl, &f->pop, out, &d), 0);
	static const char *const names[] = {"tidy.csv", "sdmx.csv", "dsd.json", "report.html"};
	for (int i = 0; i < 4; i++) {
		char path[128];
		snprintf(path, sizeof path, "%s/%s", out, names[i]);
		FILE *fp = fopen(path, "rb");
		assert_non_null(fp);
		static char buf[1 << 20];
		size_t n = fread(buf, 1, sizeof buf - 1, fp);
		buf[n] = 0;
		fclose(fp);
		assert_true(n > 100);
		if (i == 3)
			assert_no_secret_html(buf);
		else if (i == 2)
			assert_null(strstr(buf, "4321")); /* the DSD holds no data */
		else
			assert_no_secret(buf);
		unlink(path);
	}
	rmdir(out);
	rmdir(dir);
	/* a geography the codelists do not know: nothing is written */
	rel_table t;
	rel_init(&t);
	rel_row r;
	cube_value v = {5, 5, 1, 0, 1};
	rel_row_from_cube(&r, REL_GEO_COUNTRY, "XXX", Y(2020), REL_VIC, CUBE_S_TOTAL, &v);
	assert_int_equal(rel_add_row(&t, &r, &d), 0);
	assert_int_equal(rep_write_all(&t, &f->cl, &f->pop, "/tmp/test_reports_never", &d), -1);
	assert_non_null(strstr(d.msg, "XXX is not in the codelists"));
	assert_int_equal(access("/tmp/test_reports_never", F_OK), -1);
	rel_free(&t);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tidy),
		cmocka_unit_test(test_sdmx),
		cmocka_unit_test(test_trend),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_write_all),
	};
	return cmocka_run_group_tests_name("reports", tests, setup, teardown);
}
