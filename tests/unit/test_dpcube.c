/* dpcube: the differentially private cube release.
 *
 * The noise here is the test's own (zero, a fixed pattern, or a seeded
 * rounded normal from GSL): what is tested is what dpcube does with
 * measurements -- which cells it measures and at what sigma, the
 * least-squares estimate (checked against GSL's solution of the same
 * least-squares problem), consistency at every level, intervals worked out
 * by hand and around GSL's linear estimate, and their empirical coverage.  The samplers are tested in
 * test_dpsample.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "aggregator/cube.h"
#include "core/period.h"
#include "privacy/dpcube.h"
#include "tests/unit/cube_fixture.h"

enum { F = 0, M = 1 };
enum { MINOR = 0, ADULT = 1 };
enum { SEXF = 0, LAB = 1, MAR = 4 };

/* Victims of AAA, BBB, DDD in 2022 and 2023, by quarter; `scale` makes
 * the counts large (coverage test) or small. */
static cube *build(const fixture *f, int scale)
{
	cube *c;
	diag d = DIAG_INIT;
	assert_int_equal(cube_new(&f->cl, &c, &d), 0);
	for (int y = 2022; y <= 2023; y++)
		for (int q = 1; q <= 4; q++) {
			fx_recs(c, AAA, y, q, F, ADULT, SEXF, AAA, 30 * scale);
			fx_recs(c, AAA, y, q, M, ADULT, LAB, BBB, 20 * scale);
			fx_recs(c, AAA, y, q, F, MINOR, MAR, AAA, 10 * scale);
			fx_recs(c, BBB, y, q, F, ADULT, SEXF, BBB, 25 * scale);
			fx_recs(c, BBB, y, q, M, MINOR, LAB, DDD, 15 * scale);
			fx_recs(c, DDD, y, q, M, ADULT, LAB, DDD, 40 * scale);
		}
	assert_int_equal(cube_finish(c, &d), 0);
	diag_free(&d);
	return c;
}

static size_t idx(const cube *c, int geo_kind, int geo_index, int period, int slot)
{
	int g = cube_geo_find(c, geo_kind, geo_index);
	assert_true(g >= 0);
	if (period < 10000) /* a bare year */
		period = period_make(period, 0);
	size_t np = cube_n_periods(c), pp = np;
	for (size_t k = 0; k < np; k++)
		if (cube_period_at(c, k) == period)
			pp = k;
	assert_true(pp < np);
	return (((size_t)g * np + pp) * cube_n_indicators(c) + 0) * CUBE_NSLOTS + (size_t)slot;
}

static int64_t truth(const cube *c, size_t i)
{
	cube_iter it;
	cube_cell cc;
	cube_iter_init(&it);
	for (size_t k = 0; cube_next(c, &it, &cc); k++)
		if (k == i)
			return cc.v.lo;
	fail();
	return 0;
}

/* --- noise sources ---------------------------------------------------------- */

typedef struct rec_noise {
	size_t calls;
	uint64_t num, den;   /* of the last call */
	int same;            /* every call had the same sigma^2 */
	int64_t pattern;     /* 0: zero noise; else a fixed pattern */
	gsl_rng *rng;        /* non-NULL: rounded normal */
} rec_noise;

static int noise_fn(void *ctx, uint64_t num, uint64_t den, int64_t *out, diag *d)
{
	(void)d;
	rec_noise *r = ctx;
	if (r->calls && (num != r->num || den != r->den))
		r->same = 0;
	r->num = num;
	r->den = den;
	r->calls++;
	if (r->rng)
		*out = (int64_t)llround(gsl_ran_gaussian(r->rng, sqrt((double)num / (double)den)));
	else if (r->pattern)
		*out = (int64_t)((r->calls * 7919) % 41) - 20; /* -20 .. 20 */
	else
		*out = 0;
	return 0;
}

static const uint64_t RHO1 = 1000000000u; /* rho = 1 */

/* --- tests ---------------------------------------------------------------- */

/* Which cells are measured, at which sigma. */
static void test_measure_plan(void **state)
{
	(void)state;
	fixture *f = fx_new();
	cube *c = build(f, 1);
	diag d = DIAG_INIT;
	rec_noise rn = {.same = 1};
	int64_t *raw;
	size_t n;
	assert_int_equal(dpcube_measure(c, RHO1, noise_fn, &rn, &raw, &n, &d), 0);
	assert_int_equal(n, dpcube_n_cells(c));
	/* 3 countries x 2 years, victims only: TOTAL + SEXAGE 12 + FORM 10 + CIT 5 */
	assert_int_equal(rn.calls, 3 * 2 * (1 + 12 + 10 + 5));
	assert_true(rn.same);
	/* k = 4 partitions, 2 years x 4 indicators = 8 tables, rho 1:
	 * sigma^2 = 4 * 8 / 2 = 16 */
	assert_int_equal(rn.num, 4ull * 1000000000ull);
	assert_int_equal(rn.den, 2ull * 125000000ull);
	size_t measured = 0;
	for (size_t i = 0; i < n; i++)
		measured += raw[i] != DPCUBE_NONE;
	assert_int_equal(measured, rn.calls);
	/* aggregates, quarters and margins are never measured */
	assert_int_equal(raw[idx(c, CUBE_GEO_WORLD, 0, 2022, CUBE_S_TOTAL)], DPCUBE_NONE);
	assert_int_equal(raw[idx(c, CUBE_GEO_COUNTRY, AAA, period_make(2022, 1), CUBE_S_TOTAL)],
	                 DPCUBE_NONE);
	assert_int_equal(raw[idx(c, CUBE_GEO_COUNTRY, AAA, 2022, CUBE_S_SEX)], DPCUBE_NONE);
	/* zero noise: a measurement is the count */
	assert_int_equal(raw[idx(c, CUBE_GEO_COUNTRY, AAA, 2022, CUBE_S_TOTAL)], 240);
	free(raw);
	cube_free(c);
	free(f);
	diag_free(&d);
}

/* The 90% interval of a truth t >= 0 from X = t + N(0, s^2), written from
 * the belt of privacy/dpcube.c (central [t - z95 s, t + z95 s] from
 * t* = z95 s up, one-sided (-inf, t + z90 s] below) and widened to hold the
 * released value v: [*L, *U]. */
static const double Z95 = 1.6448536269514722, Z90 = 1.2815515655446004;
static void belt_interval(double X, double s, double v, double *L, double *U)
{
	double tstar = Z95 * s;
	*U = fmax(X + Z95 * s, tstar);
	*L = X - Z90 * s < tstar ? fmax(X - Z90 * s, 0) : fmax(X - Z95 * s, tstar);
	*L = fmin(*L, v);
	*U = fmax(*U, v);
}

/* Zero noise: every value is the count; margins as worked out by hand. */
static void test_known_answers(void **state)
{
	(void)state;
	fixture *f = fx_new();
	cube *c = build(f, 1);
	diag d = DIAG_INIT;
	rec_noise rn = {.same = 1};
	int64_t *raw;
	size_t n;
	assert_int_equal(dpcube_measure(c, RHO1, noise_fn, &rn, &raw, &n, &d), 0);
	dpcube_result r;
	assert_int_equal(dpcube_estimate(c, RHO1, raw, n, &r, &d), 0);
	cube_iter it;
	cube_cell cc;
	cube_iter_init(&it);
	for (size_t i = 0; cube_next(c, &it, &cc); i++) {
		if (period_quarter(cc.period) || !cc.v.avail) {
			assert_int_equal(r.status[i], DPCUBE_NA);
			continue;
		}
		assert_int_equal(r.status[i], DPCUBE_NOISY);
		assert_int_equal(r.value[i], cc.v.lo);
	}
	/* sigma^2 = 16; D = 1 + 1/12 + 1/10 + 1/5.  The intervals are built on
	 * the linear estimate, which zero noise makes the count itself, with
	 * its standard deviation s worked out by hand: a count of 3.29 s or more
	 * gets the central [t - z95 s, t + z95 s], so both margins are exactly
	 * z95 s (all four counts below are 40 or more against s <= 7); a true 0
	 * gets [0, z95 s]. */
	double s2 = 16, D = 1 + 1.0 / 12 + 1.0 / 10 + 1.0 / 5, z = Z95;
	struct { int kind, geo, year, slot; double sd; int zero; } ka[] = {
		{CUBE_GEO_COUNTRY, AAA, 2023, CUBE_S_TOTAL, sqrt(s2 / D), 0},
		/* a SEXAGE cell: (1 - 1/12) + 1/(144 D) */
		{CUBE_GEO_COUNTRY, AAA, 2023, CUBE_SLOT_SEXAGE(F, ADULT),
		 sqrt(s2 * ((1 - 1.0 / 12) + 1 / (144 * D))), 0},
		/* an empty one */
		{CUBE_GEO_COUNTRY, AAA, 2023, CUBE_SLOT_SEXAGE(M, MINOR),
		 sqrt(s2 * ((1 - 1.0 / 12) + 1 / (144 * D))), 1},
		/* a form cell: (1 - 1/10) + 1/(100 D) */
		{CUBE_GEO_COUNTRY, BBB, 2022, CUBE_S_FORM + LAB,
		 sqrt(s2 * ((1 - 1.0 / 10) + 1 / (100 * D))), 0},
		/* SEX F = 3 SEXAGE cells: 3 (1 - 3/12) + 9/(144 D) */
		{CUBE_GEO_COUNTRY, AAA, 2023, CUBE_S_SEX + F,
		 sqrt(s2 * (3 * (1 - 3.0 / 12) + 9 / (144 * D))), 0},
		/* the same over the world: three countries' variances */
		{CUBE_GEO_WORLD, 0, 2023, CUBE_S_SEX + F,
		 sqrt(3 * s2 * (3 * (1 - 3.0 / 12) + 9 / (144 * D))), 0},
		/* the world total */
		{CUBE_GEO_WORLD, 0, 2022, CUBE_S_TOTAL, sqrt(3 * s2 / D), 0},
	};
	size_t at = 0;
	for (size_t k = 0; k < sizeof ka / sizeof *ka; k++) {
		at = idx(c, ka[k].kind, ka[k].geo, ka[k].year, ka[k].slot);
		assert_true(fabs(r.moe_lo[at] - (ka[k].zero ? 0 : z * ka[k].sd)) < 1e-9);
		assert_true(fabs(r.moe_hi[at] - z * ka[k].sd) < 1e-9);
	}
	assert_int_equal(r.value[at], 240 + 160 + 160);
	assert_int_equal(r.report.n_tables, 8);
	assert_int_equal(r.report.max_partitions, 4);
	assert_int_equal(r.report.n_measured, 3 * 2 * 28);
	dpcube_result_free(&r);
	free(raw);
	cube_free(c);
	free(f);
	diag_free(&d);
}

/* Every family adds up to its total, margins to SEXAGE, aggregates to
 * their countries; nothing negative; and a re-run of the estimate on the
 * same measurements is identical. */
static void test_consistency(void **state)
{
	(void)state;
	fixture *f = fx_new();
	cube *c = build(f, 1);
	diag d = DIAG_INIT;
	rec_noise rn = {.same = 1, .pattern = 1};
	int64_t *raw;
	size_t n;
	assert_int_equal(dpcube_measure(c, RHO1 / 50, noise_fn, &rn, &raw, &n, &d), 0);
	dpcube_result r, r2;
	assert_int_equal(dpcube_estimate(c, RHO1 / 50, raw, n, &r, &d), 0);
	assert_int_equal(dpcube_estimate(c, RHO1 / 50, raw, n, &r2, &d), 0);
	assert_memory_equal(r.value, r2.value, n * sizeof *r.value);
	assert_memory_equal(r.moe_lo, r2.moe_lo, n * sizeof *r.moe_lo);
	assert_memory_equal(r.moe_hi, r2.moe_hi, n * sizeof *r.moe_hi);
	int ctry[] = {AAA, BBB, DDD};
	for (int y = 2022; y <= 2023; y++) {
		for (size_t k = 0; k < 3; k++) {
			int64_t tot = r.value[idx(c, CUBE_GEO_COUNTRY, ctry[k], y, CUBE_S_TOTAL)];
			int fams[] = {CUBE_FAM_SEXAGE, CUBE_FAM_SEX, CUBE_FAM_AGE, CUBE_FAM_GROUP,
			              CUBE_FAM_FORM, CUBE_FAM_CIT};
			for (size_t q = 0; q < 6; q++) {
				int64_t s = 0;
				for (int j = 0; j < cube_family_size(fams[q]); j++) {
					size_t i = idx(c, CUBE_GEO_COUNTRY, ctry[k], y, cube_family_first(fams[q]) + j);
					assert_int_equal(r.status[i], DPCUBE_NOISY);
					assert_true(r.value[i] >= 0);
					s += r.value[i];
				}
				assert_int_equal(s, tot);
			}
			for (int sx = 0; sx < CUBE_NSEX; sx++) {
				int64_t s = 0;
				for (int ag = 0; ag < CUBE_NAGE; ag++)
					s += r.value[idx(c, CUBE_GEO_COUNTRY, ctry[k], y, CUBE_SLOT_SEXAGE(sx, ag))];
				assert_int_equal(s, r.value[idx(c, CUBE_GEO_COUNTRY, ctry[k], y, CUBE_S_SEX + sx)]);
			}
		}
		for (int s = 0; s < CUBE_NSLOTS; s++) {
			int64_t sum = 0;
			for (size_t k = 0; k < 3; k++)
				sum += r.value[idx(c, CUBE_GEO_COUNTRY, ctry[k], y, s)];
			assert_int_equal(r.value[idx(c, CUBE_GEO_WORLD, 0, y, s)], sum);
		}
	}
	/* the noise did move things */
	assert_int_not_equal(r.value[idx(c, CUBE_GEO_WORLD, 0, 2022, CUBE_S_TOTAL)],
	                     truth(c, idx(c, CUBE_GEO_WORLD, 0, 2022, CUBE_S_TOTAL)));
	dpcube_result_free(&r);
	dpcube_result_free(&r2);
	free(raw);
	cube_free(c);
	free(f);
	diag_free(&d);
}

/* The estimate is GSL's least-squares solution under the constraints
 * "every partition sums to the total", then rounded: the total within
 * 0.5, the cells of a partition whose solution is non-negative within 1.
 * The 90% intervals are built on that solution X (belt_interval, with the
 * standard deviation worked out by hand), and hold the released value: the
 * noise here (-20 .. 20 against sigma 4) puts X on every branch of the
 * belt, and pushes some released values outside the belt's interval. */
static void test_wls_against_gsl(void **state)
{
	(void)state;
	fixture *f = fx_new();
	cube *c = build(f, 1);
	diag d = DIAG_INIT;
	rec_noise rn = {.same = 1, .pattern = 1};
	int64_t *raw;
	size_t n;
	assert_int_equal(dpcube_measure(c, RHO1, noise_fn, &rn, &raw, &n, &d), 0);
	dpcube_result r;
	assert_int_equal(dpcube_estimate(c, RHO1, raw, n, &r, &d), 0);
	/* unknowns: TOTAL, SEXAGE 12, FORM 10, CIT 5 = 28; constraints 3:
	 * x = m - C' (C C')^-1 C m */
	int slots[28], ns = 0;
	slots[ns++] = CUBE_S_TOTAL;
	for (int k = 0; k < 12; k++)
		slots[ns++] = CUBE_S_SEXAGE + k;
	for (int k = 0; k < 10; k++)
		slots[ns++] = CUBE_S_FORM + k;
	for (int k = 0; k < 5; k++)
		slots[ns++] = CUBE_S_CIT + k;
	int ctry[] = {AAA, BBB, DDD};
	/* X <= z90 s (lower end 0), below t* + z90 s, at t*, central; widened */
	int branch[5] = {0};
	for (size_t k = 0; k < 3; k++) {
		gsl_matrix *C = gsl_matrix_calloc(3, 28);
		for (int row = 0; row < 3; row++) {
			gsl_matrix_set(C, (size_t)row, 0, -1);
			int from = row == 0 ? 1 : row == 1 ? 13 : 23, len = row == 0 ? 12 : row == 1 ? 10 : 5;
			for (int j = 0; j < len; j++)
				gsl_matrix_set(C, (size_t)row, (size_t)(from + j), 1);
		}
		gsl_vector *m = gsl_vector_alloc(28), *Cm = gsl_vector_alloc(3), *lam = gsl_vector_alloc(3);
		for (int j = 0; j < 28; j++)
			gsl_vector_set(m, (size_t)j, (double)raw[idx(c, CUBE_GEO_COUNTRY, ctry[k], 2022, slots[j])]);
		gsl_matrix *CCt = gsl_matrix_alloc(3, 3);
		gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, C, C, 0.0, CCt);
		gsl_blas_dgemv(CblasNoTrans, 1.0, C, m, 0.0, Cm);
		gsl_permutation *perm = gsl_permutation_alloc(3);
		int sg;
		gsl_linalg_LU_decomp(CCt, perm, &sg);
		gsl_linalg_LU_solve(CCt, perm, Cm, lam);
		gsl_blas_dgemv(CblasTrans, -1.0, C, lam, 1.0, m); /* m := m - C' lam */
		/* sigma^2 = 16, D = 1 + 1/12 + 1/10 + 1/5 */
		double s2 = 16, D = 1 + 1.0 / 12 + 1.0 / 10 + 1.0 / 5;
		for (int j = 0; j < 28; j++) {
			int len = j == 0 ? 0 : j < 13 ? 12 : j < 23 ? 10 : 5;
			double sd = sqrt(j == 0 ? s2 / D : s2 * ((1 - 1.0 / len) + 1 / (len * len * D)));
			double X = gsl_vector_get(m, (size_t)j), L, U;
			size_t i = idx(c, CUBE_GEO_COUNTRY, ctry[k], 2022, slots[j]);
			double v = (double)r.value[i];
			belt_interval(X, sd, v, &L, &U);
			assert_true(fabs(r.moe_lo[i] - (v - L)) < 1e-6);
			assert_true(fabs(r.moe_hi[i] - (U - v)) < 1e-6);
			branch[X - Z90 * sd <= 0 ? 0 : X - Z90 * sd < Z95 * sd ? 1 : X - Z95 * sd > Z95 * sd ? 3 : 2]++;
			branch[4] += v < X - Z90 * sd || v > fmax(X + Z95 * sd, Z95 * sd);
		}
		double xt = gsl_vector_get(m, 0);
		assert_true(fabs((double)r.value[idx(c, CUBE_GEO_COUNTRY, ctry[k], 2022, CUBE_S_TOTAL)] - xt) <= 0.5 + 1e-9);
		int from[3] = {1, 13, 23}, len[3] = {12, 10, 5};
		for (int q = 0; q < 3; q++) {
			int nonneg = 1;
			for (int j = 0; j < len[q]; j++)
				nonneg &= gsl_vector_get(m, (size_t)(from[q] + j)) >= 0;
			if (!nonneg)
				continue;
			for (int j = 0; j < len[q]; j++) {
				double x = gsl_vector_get(m, (size_t)(from[q] + j));
				int64_t v = r.value[idx(c, CUBE_GEO_COUNTRY, ctry[k], 2022, slots[from[q] + j])];
				assert_true(fabs((double)v - x) <= 1.0 + 1e-9);
			}
		}
		gsl_permutation_free(perm);
		gsl_matrix_free(CCt);
		gsl_matrix_free(C);
		gsl_vector_free(m);
		gsl_vector_free(Cm);
		gsl_vector_free(lam);
	}
	/* 84 cells: 42, 10, 0 and 32 on the branches, 38 widened */
	assert_true(branch[0] > 0 && branch[1] > 0 && branch[3] > 0 && branch[4] > 0);
	dpcube_result_free(&r);
	free(raw);
	cube_free(c);
	free(f);
	diag_free(&d);
}

/* Coverage of the 90% intervals, at three noise levels (rho / 20, / 200,
 * / 2000 on counts of 0 to 1,920: from sigma a few percent of the large
 * counts to sigma comparable with them), 200 (REPS_FULL) releases each with
 * seeded rounded-normal noise, and the whole again with a second seed base
 * (SEED_BASES: the test's own, 20261205, and 777777, under which the
 * simulated intervals that preceded these covered the large aggregates at
 * rho / 2000 only 0.844).  A cell is covered when its truth lies
 * in [value - moe_lo, value + moe_hi].  Cells are grouped by their true
 * count against the cell's margin -- its mean half-width (moe_lo + moe_hi)
 * / 2 over the releases, a fixed scale of the cell, so that the grouping
 * does not select releases by the width of their own interval: 0; below 1
 * margin; 1 to 3 margins; 3 margins or more.  The claim checked, at each
 * level and seed base: overall coverage in [0.88, 0.92] and every group
 * with at least 1,000 cell-releases in [0.87, 0.93] (the aim is 90 +- 2
 * points; 1 point of slack for the Monte Carlo error of the test itself).
 *
 * The Monte Carlo error.  The cells of one release are correlated (they
 * share measurements and a post-processing), so the cell count overstates
 * the information: the standard error of a group's coverage is taken from
 * the spread of its per-release coverage over the 200 releases (sd /
 * sqrt(199)), printed with each figure: about 0.002 overall and 0.002 to
 * 0.011 for the groups checked (the smallest, 2,000 cell-releases of >= 3
 * margins at rho / 2000, has the largest).  For a group whose true coverage
 * is 90%, the 3-point slack is 2.8 standard errors for that group (false
 * failure about 0.3%) and 4.6 or more for every other (below 2e-6 each); a
 * group at the aim's edge (88% or 92%) fails with chance from 3e-7 to 18%
 * depending on its standard error.  With the fixed seeds the test is deterministic;
 * the printed figures are those of the docs/reports.md table.  Over 20
 * further seed bases (7919 k, k = 1..20; not committed) every group stayed
 * in 0.890-0.916 and the overall figures in 0.902-0.910.
 *
 * Before the intervals were a Neyman construction (value +- moe, from a
 * bias and variance), true zeros were covered about 0.99 of the time (a
 * zero is released as exactly 0 about 60% of the time, and a symmetric
 * interval always contains its own estimate) and the overall figure was
 * 0.97: that is what the upper bounds guard; the lower bounds guard the
 * large cells the projection pushes down (0.859 with the linear margin
 * around the released value; 0.84-0.875 for the large aggregates at
 * rho / 2000 with the simulated intervals that preceded the present ones).
 *
 * Under valgrind (TIPSTAT_UNDER_VALGRIND, scripts/valgrind.sh) 10 releases
 * run per level: memcheck sees every path of the interval code, but 10
 * releases cannot judge a coverage, so the bounds are checked only in the
 * full run (make check, make asan). */
enum { REPS_FULL = 200, REPS_VALGRIND = 10 };
typedef struct cov_group { size_t n, in, zero_est; double s1, s2; int reps; } cov_group;

static void coverage_at(cube *c, uint64_t rho, unsigned long seed, int reps, cov_group g[5])
{
	diag d = DIAG_INIT;
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, seed);
	rec_noise rn = {.same = 1, .rng = rng};
	size_t n = dpcube_n_cells(c);
	int64_t *tr = malloc(n * sizeof *tr);
	double *half = calloc(n, sizeof *half);
	uint8_t *cov = malloc(n * (size_t)reps), *zest = malloc(n * (size_t)reps), *pub = calloc(n, 1);
	assert_non_null(tr);
	assert_non_null(half);
	assert_non_null(cov);
	assert_non_null(zest);
	assert_non_null(pub);
	cube_iter it;
	cube_cell cc;
	cube_iter_init(&it);
	for (size_t i = 0; cube_next(c, &it, &cc); i++)
		tr[i] = cc.v.avail ? cc.v.lo : -1;
	for (int run = 0; run < reps; run++) {
		int64_t *raw;
		size_t nn;
		assert_int_equal(dpcube_measure(c, rho, noise_fn, &rn, &raw, &nn, &d), 0);
		dpcube_result r;
		assert_int_equal(dpcube_estimate(c, rho, raw, nn, &r, &d), 0);
		for (size_t i = 0; i < n; i++) {
			pub[i] = r.status[i] == DPCUBE_NOISY;
			if (!pub[i])
				continue;
			assert_true(r.moe_lo[i] >= 0 && r.moe_hi[i] >= 0);
			double t = (double)tr[i], v = (double)r.value[i];
			cov[(size_t)run * n + i] = t >= v - r.moe_lo[i] && t <= v + r.moe_hi[i];
			zest[(size_t)run * n + i] = r.value[i] == 0;
			half[i] += (r.moe_lo[i] + r.moe_hi[i]) / 2 / reps;
		}
		dpcube_result_free(&r);
		free(raw);
	}
	/* g[0..3]: the groups; g[4]: every published cell */
	for (int run = 0; run < reps; run++) {
		size_t rn_[5] = {0}, ri[5] = {0};
		for (size_t i = 0; i < n; i++) {
			if (!pub[i])
				continue;
			double t = (double)tr[i];
			int k = tr[i] == 0 ? 0 : t < half[i] ? 1 : t < 3 * half[i] ? 2 : 3;
			int in = cov[(size_t)run * n + i];
			for (int q = 0; q < 2; q++) {
				int kk = q ? 4 : k;
				g[kk].n++;
				g[kk].in += (size_t)in;
				g[kk].zero_est += zest[(size_t)run * n + i];
				rn_[kk]++;
				ri[kk] += (size_t)in;
			}
		}
		for (int k = 0; k < 5; k++)
			if (rn_[k]) {
				double p = (double)ri[k] / (double)rn_[k];
				g[k].s1 += p;
				g[k].s2 += p * p;
			}
	}
	for (int k = 0; k < 5; k++)
		g[k].reps = reps;
	free(tr);
	free(half);
	free(cov);
	free(zest);
	free(pub);
	gsl_rng_free(rng);
	diag_free(&d);
}

/* Standard error of a group's coverage from its per-release spread. */
static double cov_se(const cov_group *g)
{
	double m = g->s1 / g->reps, v = g->s2 / g->reps - m * m;
	return v > 0 ? sqrt(v / (g->reps - 1)) : 0;
}

static void test_moe_coverage(void **state)
{
	(void)state;
	fixture *f = fx_new();
	cube *c = build(f, 4);
	static const char *names[4] = {"true 0", "below 1 margin", "1-3 margins", ">= 3 margins"};
	static const unsigned long SEED_BASES[2] = {20261205, 777777};
	uint64_t divs[3] = {20, 200, 2000};
	int ok = 1, judge = !getenv("TIPSTAT_UNDER_VALGRIND");
	int reps = judge ? REPS_FULL : REPS_VALGRIND;
	for (int sb = 0; sb < 2; sb++)
	for (int l = 0; l < 3; l++) {
		cov_group g[5];
		memset(g, 0, sizeof g);
		coverage_at(c, RHO1 / divs[l], SEED_BASES[sb] + (unsigned long)l, reps, g);
		double all = (double)g[4].in / (double)g[4].n;
		print_message("seed base %lu, rho/%llu: coverage %.4f (se %.4f) over all %zu published "
		              "cell-releases\n", SEED_BASES[sb], (unsigned long long)divs[l], all,
		              cov_se(&g[4]), g[4].n);
		for (int k = 0; k < 4; k++)
			if (g[k].n)
				print_message("  %-15s %7zu cells: coverage %.4f (se %.4f; estimate 0: %.3f)\n",
				              names[k], g[k].n, (double)g[k].in / (double)g[k].n, cov_se(&g[k]),
				              (double)g[k].zero_est / (double)g[k].n);
		/* every level is printed before any is judged */
		ok &= all >= 0.88 && all <= 0.92;
		for (int k = 0; k < 4; k++) {
			if (g[k].n < 1000)
				continue;
			double cov = (double)g[k].in / (double)g[k].n;
			ok &= cov >= 0.87 && cov <= 0.93;
		}
		ok &= g[0].n > 1000 && g[3].n + g[2].n > 1000;
	}
	if (judge)
		assert_true(ok);
	else
		print_message("coverage not judged: %d releases per level under valgrind\n", reps);
	cube_free(c);
	free(f);
}

/* Stored measurements that do not fit the cube are refused. */
static void test_bad_measurements(void **state)
{
	(void)state;
	fixture *f = fx_new();
	cube *c = build(f, 1);
	diag d = DIAG_INIT;
	rec_noise rn = {.same = 1};
	int64_t *raw;
	size_t n;
	assert_int_equal(dpcube_measure(c, RHO1, noise_fn, &rn, &raw, &n, &d), 0);
	dpcube_result r;
	assert_int_equal(dpcube_estimate(c, RHO1, raw, n - 1, &r, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	raw[idx(c, CUBE_GEO_COUNTRY, BBB, 2023, CUBE_S_CIT + 2)] = DPCUBE_NONE;
	diag_reset(&d);
	assert_int_equal(dpcube_estimate(c, RHO1, raw, n, &r, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	diag_reset(&d);
	assert_int_equal(dpcube_estimate(c, 0, raw, n, &r, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_reset(&d);
	assert_int_equal(dpcube_estimate(c, 7, raw, n, &r, &d), -1); /* 7 nano over 8 tables */
	assert_int_equal(d.code, EX_USAGE);
	/* the split adds up exactly: 1e9 + 3 nano over 8 tables */
	uint64_t sum = 0, u;
	int ind, year;
	for (size_t t = 0; t < 8; t++) {
		assert_int_equal(dpcube_table(c, RHO1 + 3, t, &ind, &year, &u), 0);
		assert_int_equal(ind, (int)(t % 4));
		assert_int_equal(year, t < 4 ? 2022 : 2023);
		assert_int_equal(u, 125000000u + (t < 3));
		sum += u;
	}
	assert_int_equal(sum, RHO1 + 3);
	assert_int_equal(dpcube_table(c, RHO1, 8, &ind, &year, &u), -1);
	free(raw);
	cube_free(c);
	free(f);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_measure_plan),
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_consistency),
		cmocka_unit_test(test_wls_against_gsl),
		cmocka_unit_test(test_moe_coverage),
		cmocka_unit_test(test_bad_measurements),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
