/* cubesupp: suppression of a small synthetic cube, attacked.
 *
 * The cube (hand-made codelists as in test_cube.c): World 001; R1 (100) =
 * S11 (110) + S12 (120); R2 (200) = S21 (210).  Victims in 2022:
 *   AAA (S11), records by quarter: Q1 2 girls forced marriage (MAR),
 *       6 women SEX, 5 men LAB; Q2 7 women, 6 men; Q3 8 women, 5 men;
 *       Q4 6 women, 9 men.  -> year: 2 girls, 27 women, 25 men.
 *   BBB (S11), records by quarter: 6 women SEX and 7 men LAB a quarter.
 *   CCC (S12), annual cells: total 30, F adult 14, M adult 9, F minor
 *       "<5" = [0, 4] (censored: public), M minor 3; SEX 18, LAB 12.
 *   DDD (S21), records by quarter: 8 men LAB a quarter.
 * The 2 girls of AAA show up as GROUP:girls, SEXAGE:F:Y0T17, AGE:Y0T17
 * (AAA has no other minors), FORM:MAR, in Q1 and in the year, and in the
 * aggregates (S11 and R1 girls = 2 exactly; World girls [2, 6]).
 *
 * The attacker here is independent of privacy/: one LP over every
 * available cell of the whole cube (all periods at once), whose relations
 * are written below from the cube's documented rules and from what this
 * test knows of its own data (which countries' years are sums of
 * quarters), then lp_attacker.h's GLPK check.  Every primary cell must
 * stay in an interval at least 5 wide (or as wide as public bounds alone
 * leave it). */
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
#include "core/period.h"
#include "privacy/cubesupp.h"
#include "tests/unit/lp_attacker.h"

#include "tests/unit/cube_fixture.h"

static void cell(cube *c, int sex, int age, int form, int64_t lo, int64_t hi, unsigned flags)
{
	static unsigned long line;
	diag d = DIAG_INIT;
	std_row r;
	memset(&r, 0, sizeof r);
	r.country = CCC;
	r.period = period_make(2022, 0);
	r.indicator = 0;
	r.sex = sex;
	r.age = age;
	r.age_band = STD_NONE;
	r.form = form;
	r.citizenship = STD_TOTAL;
	r.lo = lo;
	r.hi = hi;
	r.flags = flags;
	r.line = ++line;
	assert_int_equal(cube_add_cell(c, &r, &d), 0);
	diag_free(&d);
}

enum { F = 0, M = 1 };
enum { MINOR = 0, ADULT = 1 };
enum { SEX_ = 0, LAB = 1, MAR = 4 };
#define T STD_TOTAL

static cube *build(const fixture *f)
{
	cube *c;
	diag d = DIAG_INIT;
	assert_int_equal(cube_new(&f->cl, &c, &d), 0);
	static const int women[4] = {6, 7, 8, 6}, men[4] = {5, 6, 5, 9};
	static const int men_cit[4] = {CCC, AAA, DDD, AAA};
	fx_recs(c, AAA, 2022, 1, F, MINOR, MAR, AAA, 2);
	for (int q = 1; q <= 4; q++) {
		fx_recs(c, AAA, 2022, q, F, ADULT, SEX_, AAA, women[q - 1]);
		fx_recs(c, AAA, 2022, q, M, ADULT, LAB, men_cit[q - 1], men[q - 1]);
	}
	for (int q = 1; q <= 4; q++) {
		fx_recs(c, BBB, 2022, q, F, ADULT, SEX_, BBB, 6);
		fx_recs(c, BBB, 2022, q, M, ADULT, LAB, BBB, 7);
	}
	for (int q = 1; q <= 4; q++)
		fx_recs(c, DDD, 2022, q, M, ADULT, LAB, DDD, 8);
	cell(c, T, T, T, 30, 30, 0);
	cell(c, F, ADULT, T, 14, 14, 0);
	cell(c, M, ADULT, T, 9, 9, 0);
	cell(c, F, MINOR, T, 0, 4, STD_F_CENSORED);
	cell(c, M, MINOR, T, 3, 3, 0);
	cell(c, T, T, SEX_, 18, 18, 0);
	cell(c, T, T, LAB, 12, 12, 0);
	assert_int_equal(cube_finish(c, &d), 0);
	diag_free(&d);
	return c;
}

/* --- the independent attacker's table ----------------------------------------- */

typedef struct atk {
	sdct_table t;
	uint32_t *cell;     /* cube index -> table cell, UINT32_MAX = not available */
	size_t n;
} atk;

static uint32_t at(const atk *a, const cube *c, int g, int per, int slot)
{
	size_t np = cube_n_periods(c), pp = np;
	for (size_t k = 0; k < np; k++)
		if (cube_period_at(c, k) == per)
			pp = k;
	if (pp == np)
		return UINT32_MAX;
	size_t i = (((size_t)g * np + pp) * cube_n_indicators(c) + 0) * CUBE_NSLOTS + (size_t)slot;
	return a->cell[i];
}

static void con(atk *a, uint32_t tot, const uint32_t *parts, size_t n)
{
	diag d = DIAG_INIT;
	if (tot == UINT32_MAX)
		return;
	for (size_t k = 0; k < n; k++)
		if (parts[k] == UINT32_MAX)
			return;
	if (sdct_add_constraint(&a->t, tot, parts, n, &d) != 0)
		fail_msg("attacker constraint: %s", d.msg);
	diag_free(&d);
}

/* Every available cell of the whole cube, statuses from the result. */
static void atk_build(atk *a, const cube *c, const cubesupp_result *r)
{
	diag d = DIAG_INIT;
	sdct_init(&a->t);
	a->n = r->n;
	a->cell = malloc(r->n * sizeof *a->cell);
	cube_iter it;
	cube_cell cc;
	cube_iter_init(&it);
	size_t i = 0;
	char lab[128];
	while (cube_next(c, &it, &cc)) {
		a->cell[i] = UINT32_MAX;
		if (cc.v.avail) {
			/* not published at all (quarters of an annual release):
			 * an unknown to the attacker, like a suppressed cell */
			if (r->status[i] == CUBESUPP_NA)
				assert_int_not_equal(period_quarter(cc.period), 0);
			int64_t hi = cc.v.hi == CUBE_UNBOUNDED ? ((int64_t)1 << 40) : cc.v.hi;
			unsigned fl = cc.geo.kind == CUBE_GEO_COUNTRY && (cc.v.flags & CUBE_F_CENSORED)
			                  ? SDCT_F_PUBLIC_BOUNDS : 0;
			snprintf(lab, sizeof lab, "g%d/%d/%d/%s", cc.geo_pos, cc.period, cc.indicator,
			         cube_slot_name(cc.slot));
			assert_int_equal(sdct_add_cell(&a->t, cc.v.lo, hi, fl, lab, &a->cell[i], &d), 0);
			uint8_t st = r->status[i];
			a->t.cells[a->cell[i]].status = st == CUBESUPP_PRIMARY ? SDCT_PRIMARY :
			                                st == CUBESUPP_SECONDARY ? SDCT_SECONDARY :
			                                st == CUBESUPP_NA ? SDCT_SECONDARY :
			                                SDCT_PUBLISHED;
		} else {
			assert_int_equal(r->status[i], CUBESUPP_NA);
		}
		i++;
	}
	assert_int_equal(i, r->n);
	size_t ngeo = cube_n_geo(c), nc = cube_n_countries(c), nagg = ngeo - nc;
	uint32_t parts[64];
	for (size_t pp = 0; pp < cube_n_periods(c); pp++) {
		int per = cube_period_at(c, pp);
		/* aggregates: the sum of their contributing countries */
		for (size_t g = 0; g < nagg; g++)
			for (int s = 0; s < CUBE_NSLOTS; s++) {
				size_t n = 0;
				for (size_t cp = 0; cp < nc; cp++)
					if (cube_contributes(c, (int)g, per, 0, s, cp))
						parts[n++] = at(a, c, (int)(nagg + cp), per, s);
				if (n)
					con(a, at(a, c, (int)g, per, s), parts, n);
			}
		/* countries: every family partitions the total; margins; groups */
		for (size_t g = nagg; g < ngeo; g++) {
			int gi = (int)g;
			for (int fam = CUBE_FAM_SEXAGE; fam < CUBE_NFAM; fam++) {
				int n = cube_family_size(fam);
				for (int k = 0; k < n; k++)
					parts[k] = at(a, c, gi, per, cube_family_first(fam) + k);
				con(a, at(a, c, gi, per, CUBE_S_TOTAL), parts, (size_t)n);
			}
			for (int sx = 0; sx < 4; sx++) {
				for (int ag = 0; ag < 3; ag++)
					parts[ag] = at(a, c, gi, per, CUBE_SLOT_SEXAGE(sx, ag));
				con(a, at(a, c, gi, per, CUBE_S_SEX + sx), parts, 3);
			}
			for (int ag = 0; ag < 3; ag++) {
				for (int sx = 0; sx < 4; sx++)
					parts[sx] = at(a, c, gi, per, CUBE_SLOT_SEXAGE(sx, ag));
				con(a, at(a, c, gi, per, CUBE_S_AGE + ag), parts, 4);
			}
			parts[0] = at(a, c, gi, per, CUBE_SLOT_SEXAGE(CUBE_SEX_F, CUBE_AGE_ADULT));
			con(a, at(a, c, gi, per, CUBE_S_GROUP + CUBE_G_WOMEN), parts, 1);
			parts[0] = at(a, c, gi, per, CUBE_SLOT_SEXAGE(CUBE_SEX_M, CUBE_AGE_ADULT));
			con(a, at(a, c, gi, per, CUBE_S_GROUP + CUBE_G_MEN), parts, 1);
			parts[0] = at(a, c, gi, per, CUBE_SLOT_SEXAGE(CUBE_SEX_F, CUBE_AGE_MINOR));
			con(a, at(a, c, gi, per, CUBE_S_GROUP + CUBE_G_GIRLS), parts, 1);
			parts[0] = at(a, c, gi, per, CUBE_SLOT_SEXAGE(CUBE_SEX_M, CUBE_AGE_MINOR));
			con(a, at(a, c, gi, per, CUBE_S_GROUP + CUBE_G_BOYS), parts, 1);
			size_t n = 0;
			for (int sx = 0; sx < 4; sx++)
				for (int ag = 0; ag < 3; ag++)
					if (sx >= 2 || ag == 2)
						parts[n++] = at(a, c, gi, per, CUBE_SLOT_SEXAGE(sx, ag));
			con(a, at(a, c, gi, per, CUBE_S_GROUP + CUBE_G_UNKNOWN), parts, n);
		}
	}
	/* years of the quarterly countries (AAA, BBB, DDD) = sum of quarters */
	int quarterly[3] = {AAA, BBB, DDD};
	for (int k = 0; k < 3; k++) {
		int g = cube_geo_find(c, CUBE_GEO_COUNTRY, quarterly[k]);
		for (int s = 0; s < CUBE_NSLOTS && g >= 0; s++) {
			for (int q = 1; q <= 4; q++)
				parts[q - 1] = at(a, c, g, period_make(2022, q), s);
			con(a, at(a, c, g, period_make(2022, 0), s), parts, 4);
		}
	}
	assert_int_equal(sdct_finalize(&a->t, &d), 0);
	diag_free(&d);
}

static void atk_free(atk *a)
{
	sdct_free(&a->t);
	free(a->cell);
}

static size_t idx_of(const cube *c, const char *geo, int q, int slot)
{
	int g = -1;
	if (strcmp(geo, "AAA") == 0)
		g = cube_geo_find(c, CUBE_GEO_COUNTRY, AAA);
	else if (strcmp(geo, "World") == 0)
		g = cube_geo_find(c, CUBE_GEO_WORLD, 0);
	else if (strcmp(geo, "S11") == 0)
		g = cube_geo_find(c, CUBE_GEO_SUBREGION, 3);
	assert_true(g >= 0);
	return cubesupp_index(c, g, period_make(2022, q), 0, slot);
}

/* --- tests ------------------------------------------------------------------------ */

static void test_girls_forced_marriage(void **state)
{
	(void)state;
	fixture *f = fx_new();
	cube *c = build(f);
	cubesupp_result r;
	diag d = DIAG_INIT;
	cubesupp_params qp;
	cubesupp_params_default(&qp);
	qp.quarters = 1;
	assert_int_equal(cubesupp_protect(c, &qp, &r, &d), 0);

	/* the cells that say "2 girls, forced marriage" are primary */
	int slots[] = {CUBE_S_GROUP + CUBE_G_GIRLS, CUBE_SLOT_SEXAGE(CUBE_SEX_F, CUBE_AGE_MINOR),
	               CUBE_S_AGE + CUBE_AGE_MINOR, CUBE_S_FORM + CUBE_FORM_MAR};
	for (size_t k = 0; k < 4; k++)
		for (int q = 0; q <= 1; q++) {
			size_t i = idx_of(c, "AAA", q, slots[k]);
			assert_int_equal(r.status[i], CUBESUPP_PRIMARY);
			/* the audit shows an interval >= 5 wide around 2 */
			assert_true(r.audit_lo[i] <= 2.0 && r.audit_hi[i] >= 2.0);
			assert_true(r.audit_hi[i] - r.audit_lo[i] >= 5.0 - 1e-9);
		}
	/* S11 girls = 2 (only AAA has girls in S11): primary too */
	assert_int_equal(r.status[idx_of(c, "S11", 0, CUBE_S_GROUP + CUBE_G_GIRLS)], CUBESUPP_PRIMARY);
	/* AAA's Q2 girls are 0: published (zeros policy) */
	assert_int_equal(r.status[idx_of(c, "AAA", 2, CUBE_S_GROUP + CUBE_G_GIRLS)], CUBESUPP_PUBLISHED);

	/* the independent attack on the whole cube */
	atk a;
	atk_build(&a, c, &r);
	size_t first;
	size_t bad = lpa_check_all(&a.t, 5, 0, &first);
	if (bad) {
		char b[128];
		fail_msg("attacker narrows %zu primary cells, first '%s'", bad,
		         sdct_label(&a.t, (uint32_t)first, b, sizeof b));
	}
	/* ... and over the integers too */
	assert_int_equal(lpa_check_all(&a.t, 5, 1, &first), 0);
	/* the girls themselves, directly */
	double lo, hi;
	uint32_t girls = a.cell[idx_of(c, "AAA", 0, CUBE_S_GROUP + CUBE_G_GIRLS)];
	assert_int_equal(lpa_range(&a.t, girls, 0, &lo, &hi), 0);
	assert_true(lo <= 2.0 && hi >= 2.0 && hi - lo >= 5.0);

	/* without the secondary cells the attack succeeds */
	for (size_t k = 0; k < a.t.n_cells; k++)
		if (a.t.cells[k].status == SDCT_SECONDARY)
			a.t.cells[k].status = SDCT_PUBLISHED;
	assert_true(lpa_check_all(&a.t, 5, 0, &first) > 0);
	atk_free(&a);

	/* the report adds up */
	size_t np = 0, ns = 0, nna = 0;
	for (size_t i = 0; i < r.n; i++) {
		np += r.status[i] == CUBESUPP_PRIMARY;
		ns += r.status[i] == CUBESUPP_SECONDARY;
		nna += r.status[i] == CUBESUPP_NA;
	}
	assert_int_equal(r.report.n_primary, np);
	assert_int_equal(r.report.n_secondary, ns);
	assert_int_equal(r.report.n_na, nna);
	assert_int_equal(r.report.n_cells + r.report.n_na, r.n);
	assert_int_equal(r.report.n_tables, 4); /* 4 indicators x 1 year */
	assert_true(ns >= 3);
	assert_true(r.report.narrow_cell != SIZE_MAX);
	assert_int_equal(r.status[r.report.narrow_cell], CUBESUPP_PRIMARY);
	/* CCC's censored girls [0, 4] cannot be widened beyond its public 4 */
	assert_true(r.report.narrow_hi - r.report.narrow_lo >= 4.0 - 1e-9);
	cubesupp_result_free(&r);
	cube_free(c);
	free(f);
	diag_free(&d);
}

/* Statuses line up with cube_next; published cells show their value. */
static void test_order_and_values(void **state)
{
	(void)state;
	fixture *f = fx_new();
	cube *c = build(f);
	cubesupp_result r;
	diag d = DIAG_INIT;
	cubesupp_params qp;
	cubesupp_params_default(&qp);
	qp.quarters = 1;
	assert_int_equal(cubesupp_protect(c, &qp, &r, &d), 0);
	cube_iter it;
	cube_cell cc;
	cube_iter_init(&it);
	size_t i = 0, n_avail = 0;
	while (cube_next(c, &it, &cc)) {
		assert_int_equal(cubesupp_index(c, cc.geo_pos, cc.period, cc.indicator, cc.slot), i);
		if (!cc.v.avail) {
			assert_int_equal(r.status[i], CUBESUPP_NA);
			assert_true(isnan(r.audit_lo[i]));
		} else {
			n_avail++;
			if (r.status[i] == CUBESUPP_PUBLISHED) {
				assert_true(r.audit_lo[i] == (double)cc.v.lo);
				if (cc.v.hi != CUBE_UNBOUNDED)
					assert_true(r.audit_hi[i] == (double)cc.v.hi);
			}
			/* every small non-zero count is suppressed as primary */
			if (cc.v.lo >= 1 && cc.v.hi <= 4)
				assert_int_equal(r.status[i], CUBESUPP_PRIMARY);
			if (cc.v.lo == 0 && cc.v.hi == 0)
				assert_int_not_equal(r.status[i], CUBESUPP_PRIMARY);
		}
		i++;
	}
	assert_int_equal(i, r.n);
	assert_int_equal(n_avail, r.report.n_cells);
	cubesupp_result_free(&r);

	/* zeros sensitive: every available zero becomes primary */
	cubesupp_params p;
	cubesupp_params_default(&p);
	p.primary.zeros = SUPP_ZEROS_SENSITIVE;
	/* annual tables: with quarters this case costs about a minute of GLPK */
	p.quarters = 0;
	assert_int_equal(cubesupp_protect(c, &p, &r, &d), 0);
	cube_iter_init(&it);
	i = 0;
	while (cube_next(c, &it, &cc)) {
		if (cc.v.avail && cc.v.lo == 0 && cc.v.hi == 0 && period_quarter(cc.period) == 0)
			assert_int_equal(r.status[i], CUBESUPP_PRIMARY);
		i++;
	}
	atk a;
	atk_build(&a, c, &r);
	size_t first;
	assert_int_equal(lpa_check_all(&a.t, 5, 0, &first), 0);
	atk_free(&a);
	cubesupp_result_free(&r);

	/* threshold 2: only ones are sensitive, the 2 girls are published */
	cubesupp_params_default(&p);
	p.primary.threshold = 2;
	p.quarters = 1;
	assert_int_equal(cubesupp_protect(c, &p, &r, &d), 0);
	assert_int_equal(r.status[idx_of(c, "AAA", 0, CUBE_S_GROUP + CUBE_G_GIRLS)],
	                 CUBESUPP_PUBLISHED);
	cubesupp_result_free(&r);
	cube_free(c);
	free(f);
	diag_free(&d);
}

/* The default release is annual: quarter cells are not published at all
 * (not available), the annual cells are protected against the whole-cube
 * attacker, and the result does not depend on the number of threads. */
static void test_annual_and_threads(void **state)
{
	(void)state;
	fixture *f = fx_new();
	cube *c = build(f);
	diag d = DIAG_INIT;
	cubesupp_params p;
	cubesupp_params_default(&p);
	assert_int_equal(p.quarters, 0);
	/* the result is independent of the thread count only when no wall-clock
	 * budget runs out (clean-up, MIP time limits); under valgrind (50x
	 * slower) the 20 s clean-up budget did, and the two runs differed */
	p.secondary.cleanup_ms = 0;
	p.secondary.mip_time_ms = 3600000;
	p.secondary.global_time_ms = 3600000;
	cubesupp_result r1, r2;
	p.threads = 1;
	assert_int_equal(cubesupp_protect(c, &p, &r1, &d), 0);
	p.threads = 3;
	assert_int_equal(cubesupp_protect(c, &p, &r2, &d), 0);
	assert_int_equal(r1.n, r2.n);
	assert_memory_equal(r1.status, r2.status, r1.n);
	assert_int_equal(r1.report.n_secondary, r2.report.n_secondary);
	assert_int_equal(r1.report.n_tables, r2.report.n_tables);
	cube_iter it;
	cube_cell cc;
	cube_iter_init(&it);
	size_t i = 0, n_year = 0;
	while (cube_next(c, &it, &cc)) {
		if (period_quarter(cc.period) != 0)
			assert_int_equal(r1.status[i], CUBESUPP_NA);
		else if (cc.v.avail)
			n_year++;
		i++;
	}
	assert_int_equal(n_year, r1.report.n_cells);
	/* the annual girls of AAA (2) are primary and hold against the attack */
	assert_int_equal(r1.status[idx_of(c, "AAA", 0, CUBE_S_GROUP + CUBE_G_GIRLS)],
	                 CUBESUPP_PRIMARY);
	atk a;
	atk_build(&a, c, &r1);
	size_t first;
	assert_int_equal(lpa_check_all(&a.t, 5, 0, &first), 0);
	atk_free(&a);
	cubesupp_result_free(&r1);
	cubesupp_result_free(&r2);
	cube_free(c);
	free(f);
	diag_free(&d);
}

/* An adversarial submission (issue: hostile input): a country (CCC) that
 * reports a single victim together with every total and breakdown that
 * contains it, beside two quarterly countries.  What was tried: the
 * whole-cube LP attacker and its integer version over every published
 * total and margin; it narrows no primary cell, and it does once the
 * secondary cells are published. */
static cube *build_hostile(const fixture *f)
{
	cube *c;
	diag d = DIAG_INIT;
	assert_int_equal(cube_new(&f->cl, &c, &d), 0);
	for (int q = 1; q <= 4; q++) {
		fx_recs(c, AAA, 2022, q, F, ADULT, SEX_, AAA, 6 + q);
		fx_recs(c, AAA, 2022, q, M, ADULT, LAB, AAA, 5 + q);
		fx_recs(c, BBB, 2022, q, F, ADULT, SEX_, BBB, 9);
		fx_recs(c, BBB, 2022, q, M, ADULT, LAB, BBB, 7);
	}
	/* CCC: one victim, and every total that contains it */
	cell(c, T, T, T, 1, 1, 0);
	cell(c, F, ADULT, T, 1, 1, 0);
	cell(c, M, ADULT, T, 0, 0, 0);
	cell(c, F, MINOR, T, 0, 0, 0);
	cell(c, M, MINOR, T, 0, 0, 0);
	cell(c, T, T, SEX_, 1, 1, 0);
	cell(c, T, T, LAB, 0, 0, 0);
	assert_int_equal(cube_finish(c, &d), 0);
	diag_free(&d);
	return c;
}

static void test_hostile_submissions(void **state)
{
	(void)state;
	fixture *f = fx_new();
	cube *c = build_hostile(f);
	diag d = DIAG_INIT;
	cubesupp_result r;
	assert_int_equal(cubesupp_protect(c, NULL, &r, &d), 0);
	int g = cube_geo_find(c, CUBE_GEO_COUNTRY, CCC);
	assert_true(g >= 0);
	size_t tot = cubesupp_index(c, g, period_make(2022, 0), 0, CUBE_S_TOTAL);
	assert_int_equal(r.status[tot], CUBESUPP_PRIMARY);
	assert_true(r.audit_hi[tot] - r.audit_lo[tot] >= 5.0 - 1e-9);
	atk a;
	atk_build(&a, c, &r);
	size_t first;
	assert_int_equal(lpa_check_all(&a.t, 5, 0, &first), 0);
	assert_int_equal(lpa_check_all(&a.t, 5, 1, &first), 0);
	for (size_t k = 0; k < a.t.n_cells; k++)
		if (a.t.cells[k].status == SDCT_SECONDARY)
			a.t.cells[k].status = SDCT_PUBLISHED;
	assert_true(lpa_check_all(&a.t, 5, 0, &first) > 0);
	atk_free(&a);
	cubesupp_result_free(&r);
	cube_free(c);
	free(f);
	diag_free(&d);
}

/* The table of one indicator and year: what relations it holds. */
static void test_table_relations(void **state)
{
	(void)state;
	fixture *f = fx_new();
	cube *c = build(f);
	diag d = DIAG_INIT;
	sdct_table t;
	size_t *idx;
	assert_int_equal(cubesupp_table(c, 0, 2022, 1, &t, &idx, &d), 0);
	/* every relation holds for the cube's values (all exact but CCC's
	 * censored girls and the sums that include them) */
	for (size_t k = 0; k < t.n_cons; k++) {
		int64_t lo = 0, hi = 0;
		for (uint32_t e = t.con_start[k]; e < t.con_start[k + 1]; e++) {
			lo += t.cells[t.con_parts[e]].lo;
			hi += t.cells[t.con_parts[e]].hi;
		}
		const sdct_cell *tc = &t.cells[t.con_total[k]];
		assert_true(lo <= tc->hi && hi >= tc->lo);
	}
	/* CCC's censored cells are public bounds, aggregates are not */
	size_t n_public = 0;
	for (size_t k = 0; k < t.n_cells; k++)
		if (t.cells[k].flags & SDCT_F_PUBLIC_BOUNDS) {
			char b[128];
			sdct_label(&t, (uint32_t)k, b, sizeof b);
			assert_non_null(strstr(b, "CCC/2022/VIC/"));
			n_public++;
		}
	/* girls, SEXAGE:F:Y0T17, AGE:Y0T17, TOTAL (family sums are derived) */
	assert_true(n_public >= 3);
	/* AAA's year girls is linked to its Q1..Q4 girls */
	uint32_t y = UINT32_MAX;
	for (size_t k = 0; k < t.n_cells; k++) {
		char b[128];
		if (strcmp(sdct_label(&t, (uint32_t)k, b, sizeof b), "AAA/2022/VIC/GROUP:girls") == 0)
			y = (uint32_t)k;
	}
	assert_true(y != UINT32_MAX);
	int linked_to_quarters = 0;
	for (uint32_t k = t.cell_start[y]; k < t.cell_start[y + 1]; k++) {
		uint32_t con = t.cell_cons[k];
		if (t.con_total[con] == y && t.con_start[con + 1] - t.con_start[con] == 4)
			linked_to_quarters = 1;
	}
	assert_true(linked_to_quarters);
	sdct_free(&t);
	free(idx);
	assert_int_equal(cubesupp_table(c, 0, 2019, 1, &t, &idx, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	free(idx);
	cube_free(c);
	free(f);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_girls_forced_marriage),
		cmocka_unit_test(test_order_and_values),
		cmocka_unit_test(test_annual_and_threads),
		cmocka_unit_test(test_hostile_submissions),
		cmocka_unit_test(test_table_relations),
	};
	return cmocka_run_group_tests_name("cubesupp", tests, NULL, NULL);
}
