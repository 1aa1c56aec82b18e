/* measures: known answers on the dataset of test_cube.c (the same
 * hand-made rows, from cube_known.h),
 * with every expected number worked out by hand in the comments; and the
 * population loader on small in-memory files, its errors included.
 *
 * Counts used below (victims; from test_cube.c's tables):
 *   totals   AAA 6 / 8 / 9 (2020 / 2021 / 2022), BBB 5 / 6 / 4 (2022
 *            partial: Q3 missing), CCC 20 / 25 / 30 (annual), DDD - / 14
 *            / 16 (derived from breakdowns, flag d; no 2020).
 *   girls    AAA 1 / 2 / 1, BBB 0 / 1 / 0, CCC 3 / [0,4] / 4, DDD - / 0 / 0.
 *   population (the test file below): AAA 1,000,000, BBB 500,000, CCC
 *            2,000,000 every year; DDD 400,000 in 2020 and 2021, empty
 *            (missing) in 2022; EEE (never reports) 100,000 in 2021 only.
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
#include <sysexits.h>
#include "aggregator/cube.h"
#include "aggregator/measures.h"
#include "aggregator/population.h"
#include "core/period.h"
#include "tests/unit/cube_known.h"

/* --- helpers ----------------------------------------------------------------------- */

static const char POP_CSV[] =
	"iso3,year,population\n"
	"AAA,2020,1000000\n"
	"AAA,2021,1000000\n"
	"AAA,2022,1000000\n"
	"BBB,2020,500000\n"
	"BBB,2021,500000\n"
	"BBB,2022,500000\n"
	"CCC,2020,2000000\n"
	"CCC,2021,2000000\n"
	"CCC,2022,2000000\n"
	"DDD,2020,400000\n"
	"DDD,2021,400000\n"
	"DDD,2022,\n"
	"EEE,2021,100000\n"
	"ZZZ,2021,5\n";

typedef struct env {
	fixture *f;
	cube *c;
	pop_table pop;
} env;

static int setup(void **state)
{
	env *e = calloc(1, sizeof *e);
	assert_non_null(e);
	e->f = fx_small();
	e->c = build_known(e->f);
	diag d = DIAG_INIT;
	assert_int_equal(pop_load_mem(POP_CSV, strlen(POP_CSV), "pop.csv", &e->f->cl, &e->pop, &d), 0);
	diag_free(&d);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;
	pop_free(&e->pop);
	cube_free(e->c);
	free(e->f);
	free(e);
	return 0;
}

#define NEAR(a, b) do { double a_ = (a), b_ = (b); \
	if (!(fabs(a_ - b_) <= 1e-9 * (fabs(b_) > 1 ? fabs(b_) : 1))) \
		fail_msg("%s = %.12g, expected %.12g", #a, a_, b_); } while (0)

#define VIC 0
#define SUS 1
#define S_GROUP(g) (CUBE_S_GROUP + (g))
#define S_FORM(x) (CUBE_S_FORM + (x))
#define S_CIT(x) (CUBE_S_CIT + (x))

static void flags_are(unsigned flags, const char *want)
{
	char b[8];
	cube_flags_str(flags, b);
	assert_string_equal(b, want);
}

/* --- population ------------------------------------------------------------------------ */

static void test_population_load(void **state)
{
	env *e = *state;
	const pop_table *p = &e->pop;
	assert_int_equal(p->year0, 2020);
	assert_int_equal(p->n_years, 3);
	assert_int_equal(pop_get(p, ctry_of(e->f, "AAA"), 2021), 1000000);
	assert_int_equal(pop_get(p, ctry_of(e->f, "CCC"), 2022), 2000000);
	assert_int_equal(pop_get(p, ctry_of(e->f, "EEE"), 2021), 100000);
	/* missing is missing, not zero: an empty value, no row, no year */
	assert_int_equal(pop_get(p, ctry_of(e->f, "DDD"), 2022), -1);
	assert_int_equal(pop_get(p, ctry_of(e->f, "EEE"), 2020), -1);
	assert_int_equal(pop_get(p, ctry_of(e->f, "AAA"), 2019), -1);
	assert_int_equal(pop_get(p, ctry_of(e->f, "AAA"), 2023), -1);
	assert_int_equal(pop_get(p, 99, 2021), -1);
	assert_int_equal(pop_get(p, -1, 2021), -1);

	/* columns found by name; CRLF; an unknown code is a warning */
	static const char other[] = "population,iso3,year\r\n7,BBB,2015\r\n,CCC,2016\r\n9,XKX,2015\r\n";
	pop_table q;
	diag d = DIAG_INIT;
	assert_int_equal(pop_load_mem(other, strlen(other), "o.csv", &e->f->cl, &q, &d), 0);
	assert_int_equal(pop_get(&q, ctry_of(e->f, "BBB"), 2015), 7);
	assert_int_equal(pop_get(&q, ctry_of(e->f, "CCC"), 2016), -1);
	assert_int_equal(pop_get(&q, ctry_of(e->f, "CCC"), 2015), -1);
	assert_int_equal(d.n_warnings, 1);
	assert_int_equal(d.n_errors, 0);
	char buf[256];
	diag_format(&d.items[0], buf, sizeof buf);
	assert_string_equal(buf, "o.csv:4:3: warning: 'XKX' is not a country of the codelists; row skipped");
	pop_free(&q);
	diag_free(&d);
}

static void test_population_errors(void **state)
{
	env *e = *state;
	static const char bad[] =
		"iso3,year,population\n"
		"AAA,2020,10\n"
		"AAA,20x1,10\n"          /* 3: bad year */
		"BBB,2021,-3\n"          /* 4: negative */
		"BBB,2022,1.5e6\n"       /* 5: not a whole number */
		"AAA,2020,11\n"          /* 6: twice */
		"CCC,1800,5\n";          /* 7: year out of range */
	pop_table q;
	diag d = DIAG_INIT;
	assert_int_equal(pop_load_mem(bad, strlen(bad), "bad.csv", &e->f->cl, &q, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_string_equal(d.msg, "bad.csv: 5 errors");
	assert_int_equal(d.n_errors, 5);
	assert_null(q.v);
	char buf[256];
	const char *want[] = {
		"bad.csv:3:5: error: bad year '20x1'",
		"bad.csv:4:10: error: bad population '-3' (a whole number >= 0, or empty)",
		"bad.csv:5:10: error: bad population '1.5e6' (a whole number >= 0, or empty)",
		"bad.csv:7:5: error: bad year '1800'",
		"bad.csv:6:1: error: AAA 2020 given twice",
	};
	for (size_t i = 0; i < 5; i++) {
		diag_format(&d.items[i], buf, sizeof buf);
		assert_string_equal(buf, want[i]);
	}
	diag_free(&d);
	/* a header without the population column */
	static const char nocol[] = "iso3,year,pop\nAAA,2020,1\n";
	assert_int_equal(pop_load_mem(nocol, strlen(nocol), "h.csv", &e->f->cl, &q, &d), -1);
	assert_string_equal(d.msg, "h.csv:1: header lacks column 'population'");
	diag_free(&d);
	assert_int_equal(pop_load("/nonexistent/population.csv", &e->f->cl, &q, &d), -1);
	assert_int_equal(d.code, EX_NOINPUT);
	diag_free(&d);
}

/* --- rates ----------------------------------------------------------------------------- */

static void test_rates(void **state)
{
	env *e = *state;
	fixture *f = e->f;
	cube *c = e->c;
	meas_rate r;
	diag d = DIAG_INIT;
	/* AAA 2021: 8 / 1,000,000 * 100,000 = 0.8 */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "AAA"), per("2021"), VIC, CUBE_S_TOTAL, &r, &d), 0);
	assert_true(r.avail);
	NEAR(r.lo, 0.8);
	NEAR(r.hi, 0.8);
	/* a quarter: AAA 2021-Q4 = 3 over the year's population: 0.3 */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "AAA"), per("2021-Q4"), VIC, CUBE_S_TOTAL, &r, &d), 0);
	NEAR(r.lo, 0.3);
	/* R1 2021: (8 + 6 + 25) / (1.0 + 0.5 + 2.0 million) = 39 / 3.5e6
	 * * 1e5 = 1.114285714... */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "100"), per("2021"), VIC, CUBE_S_TOTAL, &r, &d), 0);
	NEAR(r.lo, 1.1142857142857143);
	NEAR(r.population, 3.5e6);
	assert_int_equal(r.n_countries, 3);
	assert_int_equal(r.n_no_pop, 0);
	/* world 2021: 53 / 3.9e6 * 1e5 = 1.358974358...; EEE did not report,
	 * so its population is not in the denominator */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "001"), per("2021"), VIC, CUBE_S_TOTAL, &r, &d), 0);
	NEAR(r.lo, 1.358974358974359);
	NEAR(r.population, 3.9e6);
	flags_are(r.flags, "d");
	/* world 2022: DDD has no population, so DDD is left out of both
	 * sides: (9 + 4 + 30) / 3.5e6 * 1e5 = 1.228571428... */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "001"), per("2022"), VIC, CUBE_S_TOTAL, &r, &d), 0);
	NEAR(r.lo, 1.2285714285714286);
	assert_int_equal(r.num_lo, 43);
	assert_int_equal(r.n_countries, 3);
	assert_int_equal(r.n_no_pop, 1);
	flags_are(r.flags, "p");
	/* R2 2022 = DDD alone, without population: no rate */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "200"), per("2022"), VIC, CUBE_S_TOTAL, &r, &d), 0);
	assert_false(r.avail);
	assert_int_equal(r.n_no_pop, 1);
	/* girls, world 2021: [3, 7] / 3.9e6 * 1e5 = [0.0769.., 0.1794..] */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "001"), per("2021"), VIC,
	                               S_GROUP(CUBE_G_GIRLS), &r, &d), 0);
	NEAR(r.lo, 0.07692307692307693);
	NEAR(r.hi, 0.1794871794871795);
	flags_are(r.flags, "cd");
	/* not available value: CCC 2022 forms */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "CCC"), per("2022"), VIC, S_FORM(0), &r, &d), 0);
	assert_false(r.avail);
	/* bad coordinates */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "CCC"), per("2019"), VIC, 0, &r, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_free(&d);
}

/* --- shares ---------------------------------------------------------------------------- */

static void test_shares(void **state)
{
	env *e = *state;
	fixture *f = e->f;
	cube *c = e->c;
	meas_share s;
	diag d = DIAG_INIT;
	/* S11 2021 = AAA + BBB: women 2+2 = 4, men 3+1 = 4, girls 2+1 = 3,
	 * boys 0+1 = 1, unknown 1+1 = 2.  Known 12: women 4/12 = 33.33%,
	 * girls 3/12 = 25%, boys 1/12 = 8.33%; unknown 2/14 = 14.29% */
	assert_int_equal(meas_shares(c, geo(c, f, "110"), per("2021"), VIC, CUBE_FAM_GROUP, &s, &d), 0);
	assert_true(s.avail);
	assert_int_equal(s.n_known, 4);
	assert_int_equal(s.slot[2], S_GROUP(CUBE_G_GIRLS));
	assert_int_equal(s.unknown_slot, S_GROUP(CUBE_G_UNKNOWN));
	assert_int_equal(s.known_lo, 12);
	NEAR(s.lo[CUBE_G_WOMEN], 100.0 / 3);
	NEAR(s.hi[CUBE_G_WOMEN], 100.0 / 3);
	NEAR(s.lo[CUBE_G_MEN], 100.0 / 3);
	NEAR(s.lo[CUBE_G_GIRLS], 25.0);
	NEAR(s.lo[CUBE_G_BOYS], 100.0 / 12);
	NEAR(s.unknown_lo, 100.0 * 2 / 14);
	NEAR(s.unknown_hi, 100.0 * 2 / 14);
	assert_int_equal(s.n_countries, 2);
	/* world 2021, girls censored: women 26, men 12, girls [3,7], boys 7,
	 * unknown 2.  women: lowest 26/(26+12+7+7) = 50%, highest
	 * 26/(26+12+3+7) = 54.17%; girls 3/48 = 6.25% .. 7/52 = 13.46%;
	 * unknown 2/54 = 3.70% .. 2/50 = 4% */
	assert_int_equal(meas_shares(c, geo(c, f, "001"), per("2021"), VIC, CUBE_FAM_GROUP, &s, &d), 0);
	NEAR(s.lo[CUBE_G_WOMEN], 50.0);
	NEAR(s.hi[CUBE_G_WOMEN], 54.166666666666664);
	NEAR(s.lo[CUBE_G_GIRLS], 6.25);
	NEAR(s.hi[CUBE_G_GIRLS], 13.461538461538462);
	NEAR(s.unknown_lo, 3.7037037037037033);
	NEAR(s.unknown_hi, 4.0);
	assert_int_equal(s.known_lo, 48);
	assert_int_equal(s.known_hi, 52);
	flags_are(s.flags, "cd");
	/* world 2022 forms (CCC reported none: AAA, BBB, DDD): SEX 4+4+10 =
	 * 18, LAB 3+0+6 = 9, MAR 1, unknown 1.  Known 28: SEX 64.29%, LAB
	 * 32.14%, MAR 3.57%; unknown 1/29 = 3.45% */
	assert_int_equal(meas_shares(c, geo(c, f, "001"), per("2022"), VIC, CUBE_FAM_FORM, &s, &d), 0);
	assert_int_equal(s.n_known, 9);
	NEAR(s.lo[CUBE_FORM_SEX], 64.28571428571429);
	NEAR(s.lo[CUBE_FORM_LAB], 32.142857142857146);
	NEAR(s.lo[CUBE_FORM_MAR], 3.571428571428571);
	NEAR(s.lo[CUBE_FORM_ORG], 0.0);
	NEAR(s.unknown_lo, 3.4482758620689653);
	assert_int_equal(s.n_countries, 3);
	flags_are(s.flags, "dp");
	/* CCC 2021 citizenship: domestic 20/23 = 86.96%, other subregion
	 * 3/23 = 13.04%; unknown 2/25 = 8% */
	assert_int_equal(meas_shares(c, geo(c, f, "CCC"), per("2021"), VIC, CUBE_FAM_CIT, &s, &d), 0);
	NEAR(s.lo[CUBE_CIT_DOMESTIC], 86.95652173913044);
	NEAR(s.lo[CUBE_CIT_OTHERSUB], 13.043478260869565);
	NEAR(s.unknown_lo, 8.0);
	/* not available breakdown: CCC 2022 forms */
	assert_int_equal(meas_shares(c, geo(c, f, "CCC"), per("2022"), VIC, CUBE_FAM_FORM, &s, &d), 0);
	assert_false(s.avail);
	/* nobody known: AAA 2021 suspects (one man of unknown form) */
	assert_int_equal(meas_shares(c, geo(c, f, "AAA"), per("2021"), SUS, CUBE_FAM_FORM, &s, &d), 0);
	assert_false(s.avail);
	assert_int_equal(meas_shares(c, geo(c, f, "AAA"), per("2021"), SUS, CUBE_FAM_SEX, &s, &d), 0);
	assert_true(s.avail);
	NEAR(s.lo[CUBE_SEX_M], 100.0);
	/* no shares of the total or of the full cross */
	assert_int_equal(meas_shares(c, geo(c, f, "AAA"), per("2021"), VIC, CUBE_FAM_SEXAGE, &s, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_free(&d);
}

/* --- coverage -------------------------------------------------------------------------- */

static void test_coverage(void **state)
{
	env *e = *state;
	fixture *f = e->f;
	cube *c = e->c;
	meas_coverage cv;
	diag d = DIAG_INIT;
	/* R2 2021: DDD reports, EEE does not: 1 of 2; population 400,000 of
	 * 500,000 = 80% */
	assert_int_equal(meas_coverage_get(c, &e->pop, geo(c, f, "200"), per("2021"), VIC, CUBE_S_TOTAL, &cv, &d), 0);
	assert_int_equal(cv.n_reporting, 1);
	assert_int_equal(cv.n_countries, 2);
	NEAR(cv.pop_reporting, 400000);
	NEAR(cv.pop_total, 500000);
	NEAR(cv.pop_share, 80.0);
	/* R2 2022: neither has a population figure */
	assert_int_equal(meas_coverage_get(c, &e->pop, geo(c, f, "200"), per("2022"), VIC, CUBE_S_TOTAL, &cv, &d), 0);
	assert_int_equal(cv.n_reporting, 1);
	assert_int_equal(cv.n_no_pop, 2);
	assert_int_equal(cv.n_reporting_no_pop, 1);
	assert_true(isnan(cv.pop_share));
	/* world 2021: 4 of 5 countries; 3.9 of 4.0 million = 97.5% */
	assert_int_equal(meas_coverage_get(c, &e->pop, geo(c, f, "001"), per("2021"), VIC, CUBE_S_TOTAL, &cv, &d), 0);
	assert_int_equal(cv.n_reporting, 4);
	assert_int_equal(cv.n_countries, 5);
	NEAR(cv.pop_share, 97.5);
	/* world 2022 forms: AAA, BBB, DDD (CCC none); population known for
	 * AAA, BBB, CCC: 1.5 of 3.5 million = 42.86% */
	assert_int_equal(meas_coverage_get(c, &e->pop, geo(c, f, "001"), per("2022"), VIC, S_FORM(0), &cv, &d), 0);
	assert_int_equal(cv.n_reporting, 3);
	NEAR(cv.pop_share, 100.0 * 1.5 / 3.5);
	/* world 2021 citizenship: 3 (DDD has none) */
	assert_int_equal(meas_coverage_get(c, &e->pop, geo(c, f, "001"), per("2021"), VIC, S_CIT(0), &cv, &d), 0);
	assert_int_equal(cv.n_reporting, 3);
	/* a country: itself */
	assert_int_equal(meas_coverage_get(c, &e->pop, geo(c, f, "BBB"), per("2022-Q3"), VIC, 0, &cv, &d), 0);
	assert_int_equal(cv.n_countries, 1);
	assert_int_equal(cv.n_reporting, 0);
	diag_free(&d);
}

/* --- panel ------------------------------------------------------------------------------ */

static void test_panel(void **state)
{
	env *e = *state;
	fixture *f = e->f;
	cube *c = e->c;
	meas_panel pn;
	diag d = DIAG_INIT;
	/* 2020-2022: BBB drops out (2022 partial), DDD too (no 2020) */
	assert_int_equal(meas_panel_build(c, VIC, 2020, 2022, &pn, &d), 0);
	assert_int_equal(pn.n, 2);
	assert_int_equal(pn.countries[0], ctry_of(f, "AAA"));
	assert_int_equal(pn.countries[1], ctry_of(f, "CCC"));
	assert_true(meas_panel_has(&pn, ctry_of(f, "CCC")));
	assert_false(meas_panel_has(&pn, ctry_of(f, "BBB")));
	/* panel totals: 6+20 = 26, 8+25 = 33, 9+30 = 39 */
	cube_value v;
	static const int64_t want[3] = {26, 33, 39};
	for (int y = 2020; y <= 2022; y++) {
		assert_int_equal(meas_panel_total(c, &pn, geo(c, f, "001"), y, CUBE_S_TOTAL, &v, &d), 0);
		assert_true(v.avail);
		assert_int_equal(v.lo, want[y - 2020]);
		assert_int_equal(v.hi, want[y - 2020]);
		assert_int_equal(v.n_countries, 2);
		flags_are(v.flags, "");
	}
	/* by geography: S11 = AAA alone (9 in 2022), R2 has no member, a
	 * country outside the panel has no panel total */
	assert_int_equal(meas_panel_total(c, &pn, geo(c, f, "110"), 2022, CUBE_S_TOTAL, &v, &d), 0);
	assert_int_equal(v.lo, 9);
	assert_int_equal(v.n_countries, 1);
	assert_int_equal(meas_panel_total(c, &pn, geo(c, f, "200"), 2022, CUBE_S_TOTAL, &v, &d), 0);
	assert_false(v.avail);
	assert_int_equal(meas_panel_total(c, &pn, geo(c, f, "CCC"), 2021, CUBE_S_TOTAL, &v, &d), 0);
	assert_int_equal(v.lo, 25);
	assert_int_equal(meas_panel_total(c, &pn, geo(c, f, "BBB"), 2021, CUBE_S_TOTAL, &v, &d), 0);
	assert_false(v.avail);
	/* girls 2021: AAA 2 + CCC [0,4] = [2,6] */
	assert_int_equal(meas_panel_total(c, &pn, geo(c, f, "001"), 2021, S_GROUP(CUBE_G_GIRLS), &v, &d), 0);
	assert_int_equal(v.lo, 2);
	assert_int_equal(v.hi, 6);
	flags_are(v.flags, "c");
	/* a year outside the window */
	assert_int_equal(meas_panel_total(c, &pn, geo(c, f, "001"), 2019, CUBE_S_TOTAL, &v, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	meas_panel_free(&pn);
	/* 2021-2022: AAA, CCC, DDD; 2020-2021: AAA, BBB, CCC */
	assert_int_equal(meas_panel_build(c, VIC, 2021, 2022, &pn, &d), 0);
	assert_int_equal(pn.n, 3);
	assert_int_equal(pn.countries[2], ctry_of(f, "DDD"));
	meas_panel_free(&pn);
	assert_int_equal(meas_panel_build(c, VIC, 2020, 2021, &pn, &d), 0);
	assert_int_equal(pn.n, 3);
	assert_int_equal(pn.countries[1], ctry_of(f, "BBB"));
	meas_panel_free(&pn);
	/* suspects 2021: AAA has one quarter only (partial): nobody */
	assert_int_equal(meas_panel_build(c, SUS, 2021, 2021, &pn, &d), 0);
	assert_int_equal(pn.n, 0);
	meas_panel_free(&pn);
	/* a year nobody reported: nobody */
	assert_int_equal(meas_panel_build(c, VIC, 2019, 2021, &pn, &d), 0);
	assert_int_equal(pn.n, 0);
	meas_panel_free(&pn);
	assert_int_equal(meas_panel_build(c, VIC, 2022, 2021, &pn, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_free(&d);
}

static void test_pct_change(void **state)
{
	env *e = *state;
	fixture *f = e->f;
	cube *c = e->c;
	meas_panel pn;
	meas_change ch;
	diag d = DIAG_INIT;
	assert_int_equal(meas_panel_build(c, VIC, 2021, 2022, &pn, &d), 0);
	/* world, panel AAA+CCC+DDD: 8+25+14 = 47 -> 9+30+16 = 55:
	 * +8/47 = +17.02% (BBB, whose 2022 is partial, is not in it) */
	assert_int_equal(meas_pct_change(c, &pn, geo(c, f, "001"), CUBE_S_TOTAL, 2021, 2022, &ch, &d), 0);
	assert_true(ch.avail);
	assert_int_equal(ch.a.lo, 47);
	assert_int_equal(ch.b.lo, 55);
	NEAR(ch.pct, 17.02127659574468);
	NEAR(ch.lo, 17.02127659574468);
	NEAR(ch.hi, 17.02127659574468);
	flags_are(ch.flags, "d");
	/* R1: 33 -> 39 = +18.18%; R2 (DDD): 14 -> 16 = +14.29% */
	assert_int_equal(meas_pct_change(c, &pn, geo(c, f, "100"), CUBE_S_TOTAL, 2021, 2022, &ch, &d), 0);
	NEAR(ch.pct, 18.181818181818183);
	assert_int_equal(meas_pct_change(c, &pn, geo(c, f, "200"), CUBE_S_TOTAL, 2021, 2022, &ch, &d), 0);
	NEAR(ch.pct, 14.285714285714285);
	/* backwards: 55 -> 47 = -14.55% */
	assert_int_equal(meas_pct_change(c, &pn, geo(c, f, "001"), CUBE_S_TOTAL, 2022, 2021, &ch, &d), 0);
	NEAR(ch.pct, 100.0 * (47.0 - 55.0) / 55.0);
	/* girls: 2021 = AAA 2 + CCC [0,4] + DDD 0 = [2,6]; 2022 = 1 + 4 + 0
	 * = 5.  Change between 5/6 - 1 = -16.67% and 5/2 - 1 = +150%;
	 * midpoints 4 -> 5: +25% */
	assert_int_equal(meas_pct_change(c, &pn, geo(c, f, "001"), S_GROUP(CUBE_G_GIRLS), 2021, 2022, &ch, &d), 0);
	NEAR(ch.lo, -100.0 / 6);
	NEAR(ch.hi, 150.0);
	NEAR(ch.pct, 25.0);
	flags_are(ch.flags, "cd");
	/* boys: 2021 = 0 + 2 + 4 = 6, 2022 = 1 + 3 + 6 = 10: +66.67% */
	assert_int_equal(meas_pct_change(c, &pn, geo(c, f, "001"), S_GROUP(CUBE_G_BOYS), 2021, 2022, &ch, &d), 0);
	NEAR(ch.pct, 100.0 * 4 / 6);
	/* from zero: men in R2 (DDD 0 -> 0): not defined */
	assert_int_equal(meas_pct_change(c, &pn, geo(c, f, "200"), S_GROUP(CUBE_G_MEN), 2021, 2022, &ch, &d), 0);
	assert_false(ch.avail);
	assert_int_equal(meas_pct_change(c, &pn, geo(c, f, "001"), CUBE_S_TOTAL, 2020, 2022, &ch, &d), -1);
	meas_panel_free(&pn);
	diag_free(&d);
}

static void test_trend(void **state)
{
	env *e = *state;
	fixture *f = e->f;
	cube *c = e->c;
	meas_panel pn;
	meas_trend t;
	diag d = DIAG_INIT;
	assert_int_equal(meas_panel_build(c, VIC, 2020, 2022, &pn, &d), 0);
	/* world panel totals 26, 33, 39 at x = 0, 1, 2 (years since 2020):
	 * mean x 1, mean y 98/3; Sxx = 2; Sxy = -1*(26-98/3) + 1*(39-98/3)
	 * = 13; slope 6.5; intercept 98/3 - 6.5 = 26.1667; residuals -1/6,
	 * 1/3, -1/6, SSE = 1/6, s^2 = SSE/(n-2) = 1/6, SE = sqrt(s^2/Sxx) =
	 * sqrt(1/12) = 0.288675; t(0.975, 1 df) = 12.7062047362; CI = 6.5 -/+
	 * 3.667965 = [2.832035, 10.167965]; slope/mean = 19.898% a year */
	assert_int_equal(meas_trend_fit(c, &pn, geo(c, f, "001"), CUBE_S_TOTAL, &t, &d), 0);
	assert_true(t.avail);
	assert_int_equal(t.n, 3);
	NEAR(t.slope, 6.5);
	NEAR(t.intercept, 26.0 + 1.0 / 6);
	NEAR(t.se, 0.28867513459481287);
	NEAR(t.t_crit, 12.7062047361747);
	NEAR(t.ci_lo, 2.83203463759552);
	NEAR(t.ci_hi, 10.16796536240448);
	NEAR(t.mean, 98.0 / 3);
	NEAR(t.slope_pct, 19.89795918367347);
	flags_are(t.flags, "");
	/* girls: 1+3 = 4, 2+[0,4] = [2,6] (midpoint 4), 1+4 = 5: slope
	 * Sxy/Sxx = (-(4-13/3) + (5-13/3))/2 = 0.5; residuals 1/6, -1/3,
	 * 1/6: SE sqrt(1/12) again; flag c */
	assert_int_equal(meas_trend_fit(c, &pn, geo(c, f, "001"), S_GROUP(CUBE_G_GIRLS), &t, &d), 0);
	NEAR(t.slope, 0.5);
	NEAR(t.se, 0.28867513459481287);
	flags_are(t.flags, "c");
	/* S11 = AAA: 6, 8, 9: slope (9-6)/2 = 1.5; intercept 23/3 - 1.5 =
	 * 6.1667; residuals -1/6, 1/3, -1/6: SE sqrt(1/12) */
	assert_int_equal(meas_trend_fit(c, &pn, geo(c, f, "110"), CUBE_S_TOTAL, &t, &d), 0);
	NEAR(t.slope, 1.5);
	NEAR(t.se, 0.28867513459481287);
	/* R2 has no panel member */
	assert_int_equal(meas_trend_fit(c, &pn, geo(c, f, "200"), CUBE_S_TOTAL, &t, &d), 0);
	assert_false(t.avail);
	meas_panel_free(&pn);
	/* two years: no standard error, no trend */
	assert_int_equal(meas_panel_build(c, VIC, 2021, 2022, &pn, &d), 0);
	assert_int_equal(meas_trend_fit(c, &pn, geo(c, f, "001"), CUBE_S_TOTAL, &t, &d), 0);
	assert_false(t.avail);
	meas_panel_free(&pn);
	diag_free(&d);
}

/* unbounded totals; exact straight line; calls on an unfinished cube */
static void test_unbounded_and_bad_calls(void **state)
{
	env *e = *state;
	fixture *f = e->f;
	cube *c;
	diag d = DIAG_INIT;
	assert_int_equal(cube_new(&f->cl, &c, &d), 0);
	/* AAA annual totals 2019..2022: 5, ".." = [0, unbounded), 7, 9;
	 * BBB 10, 12, 14, 16 */
	static const kcell cells[] = {
		{"AAA", "2019", "_T", "_T", NULL, "_T", "_T", 5, 5, 0},
		{"AAA", "2020", "_T", "_T", NULL, "_T", "_T", 0, -1, STD_F_CENSORED},
		{"AAA", "2021", "_T", "_T", NULL, "_T", "_T", 7, 7, 0},
		{"AAA", "2022", "_T", "_T", NULL, "_T", "_T", 9, 9, 0},
		{"BBB", "2019", "_T", "_T", NULL, "_T", "_T", 10, 10, 0},
		{"BBB", "2020", "_T", "_T", NULL, "_T", "_T", 12, 12, 0},
		{"BBB", "2021", "_T", "_T", NULL, "_T", "_T", 14, 14, 0},
		{"BBB", "2022", "_T", "_T", NULL, "_T", "_T", 16, 16, 0},
	};
	for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
		std_row r = krow_cell(f, &cells[i], i + 1);
		assert_int_equal(cube_add_cell(c, &r, &d), 0);
	}
	meas_panel pn;
	meas_rate r;
	assert_int_equal(meas_panel_build(c, VIC, 2019, 2022, &pn, &d), -1);
	assert_int_equal(d.code, EX_SOFTWARE);
	assert_int_equal(meas_rate_get(c, &e->pop, 0, per("2020"), VIC, 0, &r, &d), -1);
	assert_int_equal(cube_finish(c, &d), 0);
	assert_int_equal(meas_panel_build(c, VIC, 2019, 2022, &pn, &d), 0);
	assert_int_equal(pn.n, 2);
	meas_change ch;
	meas_trend t;
	/* AAA 5 -> [0, inf): between -100% and +inf, no midpoint */
	assert_int_equal(meas_pct_change(c, &pn, geo(c, f, "AAA"), CUBE_S_TOTAL, 2019, 2020, &ch, &d), 0);
	assert_true(ch.avail);
	NEAR(ch.lo, -100.0);
	assert_true(isinf(ch.hi));
	assert_true(isnan(ch.pct));
	assert_int_equal(meas_trend_fit(c, &pn, geo(c, f, "AAA"), CUBE_S_TOTAL, &t, &d), 0);
	assert_false(t.avail);
	flags_are(t.flags, "c");
	/* BBB is a straight line: slope 2, SE 0, CI [2, 2] */
	assert_int_equal(meas_trend_fit(c, &pn, geo(c, f, "BBB"), CUBE_S_TOTAL, &t, &d), 0);
	assert_true(t.avail);
	assert_int_equal(t.n, 4);
	NEAR(t.slope, 2.0);
	NEAR(t.se, 0.0);
	NEAR(t.ci_lo, 2.0);
	NEAR(t.ci_hi, 2.0);
	NEAR(t.intercept, 10.0);
	/* rate with an unbounded numerator: AAA 2020 population 1e6 */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "AAA"), per("2020"), VIC, 0, &r, &d), 0);
	NEAR(r.lo, 0.0);
	assert_true(isinf(r.hi));
	meas_panel_free(&pn);
	cube_free(c);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_population_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_population_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shares, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coverage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_panel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pct_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unbounded_and_bad_calls, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
