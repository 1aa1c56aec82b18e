/* dpsample + dprng: the samplers against the exact distributions, the
 * timing property, an empirical privacy check, the accounting and the
 * margins of error.
 *
 * Every statistical test uses a fixed seed, so a run is reproducible; the
 * stated false-failure rate is the probability that a correct sampler
 * fails the test for a random seed.  Chi-square tests fail at p < 1e-4
 * (false-failure rate 1e-4 each), z-tests at |z| > 5 (5.7e-7 each).
 * Expected probabilities are computed here, independently of the library
 * (direct sums of exp(-x^2/2s2) in long double, closed-form Laplace tails).
 *
 * The timing test is skipped under AddressSanitizer or valgrind, or when
 * the environment variable TIPSTAT_SKIP_TIMING is set.  Under valgrind
 * (scripts/valgrind.sh sets TIPSTAT_UNDER_VALGRIND) the goodness-of-fit
 * tests draw a tenth of their samples: every sampler, bin and assertion
 * still runs, and memcheck sees the same code; the stated false-failure
 * rates hold for any sample size, only the power drops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "privacy/dprng.h"
#include "privacy/dpsample.h"

static dprng *seeded(uint64_t seed)
{
	diag d = DIAG_INIT;
	dprng *r = NULL;
	assert_int_equal(dprng_new_seeded(seed, &r, &d), 0);
	diag_free(&d);
	return r;
}

static dp_gauss *gauss(uint64_t num, uint64_t den)
{
	diag d = DIAG_INIT;
	dp_gauss *g = NULL;
	assert_int_equal(dp_gauss_new(num, den, &g, &d), 0);
	diag_free(&d);
	return g;
}

static dp_laplace *laplace(uint64_t num, uint64_t den)
{
	diag d = DIAG_INIT;
	dp_laplace *l = NULL;
	assert_int_equal(dp_laplace_new(num, den, &l, &d), 0);
	diag_free(&d);
	return l;
}

/* The sample size of a goodness-of-fit test: n, or n / 10 under valgrind. */
static long reps(long n)
{
	return getenv("TIPSTAT_UNDER_VALGRIND") ? n / 10 : n;
}

/* ---------- binned chi-square ---------- */

/* Bins: [-R, R] cut into cells of width w, plus one tail cell each side.
 * cell 0 = (-inf, -R-1], cells 1..m = the interior, m+1 = [R+1, inf). */
typedef struct bins {
	int64_t R, w;
	size_t m, nb;
	double *p;   /* expected probability */
	long *obs;
} bins;

static void bins_init(bins *b, int64_t R, int64_t w)
{
	b->R = R;
	b->w = w;
	b->m = (size_t)((2 * R + 1 + w - 1) / w);
	b->nb = b->m + 2;
	b->p = calloc(b->nb, sizeof *b->p);
	b->obs = calloc(b->nb, sizeof *b->obs);
	assert_non_null(b->p);
	assert_non_null(b->obs);
}

static size_t bin_of(const bins *b, int64_t x)
{
	if (x < -b->R)
		return 0;
	if (x > b->R)
		return b->m + 1;
	return 1 + (size_t)((x + b->R) / b->w);
}

static void bins_free(bins *b)
{
	free(b->p);
	free(b->obs);
}

/* Pool adjacent cells until each expects >= 5, return the p-value. */
static double chisq_p(const bins *b, long n, double *stat_out, size_t *dof_out)
{
	double e = 0, le = 0, stat = 0;
	long o = 0, lo = 0;
	size_t k = 0;
	for (size_t i = 0; i < b->nb; i++) {
		e += b->p[i] * (double)n;
		o += b->obs[i];
		if (e >= 5) {
			if (k > 0)
				stat += (lo - le) * (lo - le) / le;
			le = e;
			lo = o;
			k++;
			e = 0;
			o = 0;
		}
	}
	le += e;
	lo += o;
	stat += (lo - le) * (lo - le) / le;
	assert_true(k >= 2);
	*stat_out = stat;
	*dof_out = k - 1;
	return gsl_cdf_chisq_Q(stat, (double)(k - 1));
}

/* exp(-x^2/(2 s2)) for x = 0, 1, 2, ... in long double: expl() at every
 * 256th x, in between w(x+1) = w(x) f(x), f(x) = exp(-(2x+1)/(2 s2)),
 * f(x+1) = f(x) exp(-1/s2) (relative drift < 1e-16 over 256 steps). */
typedef struct gw {
	long double s2, w, f, step;
	int64_t x;
} gw;

static void gw_init(gw *g, long double s2)
{
	g->s2 = s2;
	g->x = -1;
	g->w = g->f = 0;
	g->step = expl(-1 / s2);
}

static long double gw_next(gw *g)
{
	g->x++;
	long double xx = (long double)g->x;
	if (g->x % 256 == 0) {
		g->w = expl(-xx * xx / (2 * g->s2));
		g->f = expl(-(2 * xx + 1) / (2 * g->s2));
	} else {
		g->w *= g->f;
		g->f *= g->step;
	}
	return g->w;
}

/* Exact discrete Gaussian cell probabilities, by direct summation to
 * 10 sigma + 12 (the mass beyond is < 1e-21). */
static void gauss_expect(bins *b, long double s2)
{
	int64_t xmax = (int64_t)(10 * sqrtl(s2)) + 12;
	long double z = 0;
	gw g;
	gw_init(&g, s2);
	for (int64_t x = 0; x <= xmax; x++)
		z += (x ? 2 : 1) * gw_next(&g);
	gw_init(&g, s2);
	for (int64_t x = 0; x <= xmax; x++) {
		long double p = gw_next(&g) / z;
		b->p[bin_of(b, x)] += (double)p;
		if (x > 0)
			b->p[bin_of(b, -x)] += (double)p;
	}
}

/* P(X >= a) for the discrete Laplace, a >= 1: r^a / (1 + r). */
static long double lap_ge(long double t, int64_t a)
{
	long double r = expl(-1 / t);
	return expl(-(long double)a / t) / (1 + r);
}

/* P(a <= X <= b) */
static long double lap_range(long double t, int64_t a, int64_t b)
{
	if (a >= 1)
		return lap_ge(t, a) - lap_ge(t, b + 1);
	if (b <= -1)
		return lap_ge(t, -b) - lap_ge(t, -a + 1);
	return 1 - lap_ge(t, -a + 1) - lap_ge(t, b + 1);
}

static void laplace_expect(bins *b, long double t)
{
	const int64_t big = INT64_MAX / 4;
	b->p[0] = (double)lap_range(t, -big, -b->R - 1);
	b->p[b->m + 1] = (double)lap_range(t, b->R + 1, big);
	for (size_t i = 0; i < b->m; i++) {
		int64_t a = -b->R + (int64_t)i * b->w, e = a + b->w - 1;
		if (e > b->R)
			e = b->R;
		b->p[1 + i] = (double)lap_range(t, a, e);
	}
}

/* Moments of the exact pmf given as (p(x), x = -L..L) sums. */
typedef struct moments {
	double var, m4;
} moments;

static moments gauss_moments(long double s2)
{
	int64_t xmax = (int64_t)(10 * sqrtl(s2)) + 12;
	long double z = 1, v = 0, m4 = 0;
	gw g;
	gw_init(&g, s2);
	gw_next(&g);
	for (int64_t x = 1; x <= xmax; x++) {
		long double w = gw_next(&g);
		long double xx = (long double)x * x;
		z += 2 * w;
		v += 2 * w * xx;
		m4 += 2 * w * xx * xx;
	}
	moments m = {(double)(v / z), (double)(m4 / z)};
	return m;
}

/* Discrete Laplace: Var = 2r/(1-r)^2; E X^4 = 2 r (1 + 10 r + r^2)/(1-r)^4
 * (moments of the two-sided geometric law). */
static moments laplace_moments(long double t)
{
	long double r = expl(-1 / t), q = 1 - r;
	moments m = {(double)(2 * r / (q * q)),
	             (double)(2 * r * (1 + 10 * r + r * r) / (q * q * q * q))};
	return m;
}

/* Sample n values, check the mean and variance by z-tests (|z| <= 5) and
 * fill the bins. */
typedef int64_t (*sampler_fn)(const void *s, dprng *r);
static int64_t gs(const void *s, dprng *r) { return dp_gauss_sample(s, r); }
static int64_t ls(const void *s, dprng *r) { return dp_laplace_sample(s, r); }

static void sample_and_check(sampler_fn f, const void *s, dprng *r, long n,
                             bins *b, moments mo, const char *what)
{
	long double sum = 0, sq = 0;
	for (long i = 0; i < n; i++) {
		int64_t x = f(s, r);
		b->obs[bin_of(b, x)]++;
		sum += (long double)x;
		sq += (long double)x * x;
	}
	double mean = (double)(sum / n);
	double var = (double)(sq / n) - mean * mean;
	double zm = mean / sqrt(mo.var / n);
	double zv = (var - mo.var) / sqrt((mo.m4 - mo.var * mo.var) / n);
	double stat;
	size_t dof;
	double p = chisq_p(b, n, &stat, &dof);
	printf("  %-28s n=%ld mean=%.4g (z=%.2f) var=%.6g/%.6g (z=%.2f) "
	       "chi2=%.1f dof=%zu p=%.3f\n",
	       what, n, mean, zm, var, mo.var, zv, stat, dof, p);
	assert_true(fabs(zm) <= 5);
	assert_true(fabs(zv) <= 5);
	assert_true(p >= 1e-4);
}

static void check_gauss(uint64_t num, uint64_t den, long n, uint64_t seed,
                        const char *method)
{
	long double s2 = (long double)num / den;
	double sigma = sqrt((double)s2);
	dp_gauss *g = gauss(num, den);
	assert_string_equal(dp_gauss_method(g), method);
	dprng *r = seeded(seed);
	bins b;
	int64_t w = sigma < 50 ? 1 : (int64_t)(sigma / 8);
	bins_init(&b, (int64_t)ceil(6 * sigma) + 1, w);
	gauss_expect(&b, s2);
	char what[64];
	snprintf(what, sizeof what, "gauss s2=%llu/%llu %s", (unsigned long long)num,
	         (unsigned long long)den, method);
	sample_and_check(gs, g, r, reps(n), &b, gauss_moments(s2), what);
	bins_free(&b);
	dprng_free(r);
	dp_gauss_free(g);
}

static void check_laplace(uint64_t num, uint64_t den, long n, uint64_t seed)
{
	long double t = (long double)num / den;
	dp_laplace *l = laplace(num, den);
	dprng *r = seeded(seed);
	bins b;
	int64_t w = t < 20 ? 1 : (int64_t)(t / 4);
	bins_init(&b, (int64_t)ceil(15 * (double)t) + 1, w);
	laplace_expect(&b, t);
	char what[64];
	snprintf(what, sizeof what, "laplace t=%llu/%llu", (unsigned long long)num,
	         (unsigned long long)den);
	sample_and_check(ls, l, r, reps(n), &b, laplace_moments(t), what);
	bins_free(&b);
	dprng_free(r);
	dp_laplace_free(l);
}

/* Goodness of fit, mean and variance of the table sampler: sigma^2 = 1/4,
 * 1, 7/3, 100 and 4096 (the largest table).  False-failure rate:
 * 5 x (1e-4 + 2 x 5.7e-7) ~ 5e-4. */
static void test_gauss_cdt_fit(void **state)
{
	(void)state;
	check_gauss(1, 4, 1000000, 11, "cdt");
	check_gauss(1, 1, 1000000, 12, "cdt");
	check_gauss(7, 3, 1000000, 13, "cdt");
	check_gauss(100, 1, 1000000, 14, "cdt");
	check_gauss(4096, 1, 400000, 15, "cdt");
}

/* The constant-time CKS rejection sampler: sigma^2 = 4097 (just past the
 * table), 2500/3, sigma = 1000 and sigma = 10^6 (cells of sigma/8 over
 * +-6 sigma, tails pooled).  False-failure rate ~4e-4. */
static void test_gauss_rejection_fit(void **state)
{
	(void)state;
	check_gauss(4097, 1, 300000, 21, "rejection");
	check_gauss(250000, 3, 300000, 22, "rejection");
	check_gauss(1000000, 1, 300000, 23, "rejection");
	check_gauss(1000000000000ull, 1, 300000, 24, "rejection");
}

/* Discrete Laplace, t = 1/2, 1, 10/3, 1000, 10^6.  False-failure ~5e-4. */
static void test_laplace_fit(void **state)
{
	(void)state;
	check_laplace(1, 2, 1000000, 31);
	check_laplace(1, 1, 1000000, 32);
	check_laplace(10, 3, 1000000, 33);
	check_laplace(1000, 1, 300000, 34);
	check_laplace(1000000, 1, 300000, 35);
}

/* Bernoulli(num/den) and Bernoulli(exp(-num/den)) frequencies, z-tests
 * at |z| <= 5 (false failure 5.7e-7 each, ~6e-6 in all); the exact cases
 * (p = 0, 1, gamma = 0, gamma >= 128) must be exact. */
static void test_bernoulli(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	dprng *r = seeded(41);
	const uint64_t rat[][2] = {{1, 3}, {5, 7}, {0, 4}, {9, 9}, {1, 1000}};
	for (size_t c = 0; c < sizeof rat / sizeof rat[0]; c++) {
		const long n = 200000;
		long k = 0;
		for (long i = 0; i < n; i++) {
			int o;
			assert_int_equal(dp_bern_rational(r, rat[c][0], rat[c][1], &o, &d), 0);
			k += o;
		}
		double p = (double)rat[c][0] / (double)rat[c][1];
		if (p == 0 || p == 1) {
			assert_int_equal(k, (long)(p * n));
			continue;
		}
		double z = (k - n * p) / sqrt(n * p * (1 - p));
		printf("  bern %llu/%llu: %ld/%ld z=%.2f\n", (unsigned long long)rat[c][0],
		       (unsigned long long)rat[c][1], k, n, z);
		assert_true(fabs(z) <= 5);
	}
	/* gamma: 1/3, 1, 5/2, 7 (> 1: several rounds), 0 and 300 (exact). */
	const uint64_t ge[][2] = {{1, 3}, {1, 1}, {5, 2}, {7, 1}, {0, 1}, {300, 1}};
	for (size_t c = 0; c < sizeof ge / sizeof ge[0]; c++) {
		const long n = 100000;
		long k = 0;
		for (long i = 0; i < n; i++) {
			int o;
			assert_int_equal(dp_bern_exp(r, ge[c][0], ge[c][1], &o, &d), 0);
			k += o;
		}
		double p = exp(-(double)ge[c][0] / (double)ge[c][1]);
		if (ge[c][0] == 0 || ge[c][0] >= 128 * ge[c][1]) {
			assert_int_equal(k, ge[c][0] == 0 ? n : 0);
			continue;
		}
		double z = (k - n * p) / sqrt(n * p * (1 - p));
		printf("  bern exp(-%llu/%llu)=%.5f: %ld/%ld z=%.2f\n",
		       (unsigned long long)ge[c][0], (unsigned long long)ge[c][1], p, k, n, z);
		assert_true(fabs(z) <= 5);
	}
	int o;
	assert_int_equal(dp_bern_rational(r, 3, 2, &o, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	assert_non_null(strstr(d.msg, "num <= den"));
	diag_reset(&d);
	assert_int_equal(dp_bern_exp(r, 1, 0, &o, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_free(&d);
	dprng_free(r);
}

/* Same seed, same stream and samples; other seed, other stream;
 * production contexts say they are not seeded and differ. */
static void test_determinism(void **state)
{
	(void)state;
	dprng *a = seeded(7), *b = seeded(7), *c = seeded(8);
	assert_int_equal(dprng_is_seeded(a), 1);
	int same_c = 1;
	for (int i = 0; i < 2000; i++) { /* crosses 4 KiB refills */
		uint64_t x = dprng_u64(a), y = dprng_u64(b), z = dprng_u64(c);
		assert_true(x == y);
		same_c &= x == z;
	}
	assert_false(same_c);
	/* dprng_words is the same stream as dprng_u64 */
	uint64_t w[1000];
	dprng_words(a, w, 1000);
	for (int i = 0; i < 1000; i++)
		assert_true(w[i] == dprng_u64(b));
	dp_gauss *g = gauss(100, 1), *h = gauss(1000000, 1);
	dp_laplace *l = laplace(3, 1);
	for (int i = 0; i < 5000; i++) {
		assert_true(dp_gauss_sample(g, a) == dp_gauss_sample(g, b));
		assert_true(dp_gauss_sample(h, a) == dp_gauss_sample(h, b));
		assert_true(dp_laplace_sample(l, a) == dp_laplace_sample(l, b));
	}
	/* uniform: in range, and every value of [0, 7) seen */
	int seen[7] = {0};
	for (int i = 0; i < 1000; i++) {
		uint64_t u = dprng_uniform(a, 7);
		assert_true(u < 7);
		seen[u] = 1;
	}
	for (int i = 0; i < 7; i++)
		assert_true(seen[i]);
	dprng_free(a);
	dprng_free(b);
	dprng_free(c);
	diag d = DIAG_INIT;
	dprng *p = NULL, *q = NULL;
	assert_int_equal(dprng_new(&p, &d), 0);
	assert_int_equal(dprng_new(&q, &d), 0);
	assert_int_equal(dprng_is_seeded(p), 0);
	assert_true(dprng_u64(p) != dprng_u64(q) || dprng_u64(p) != dprng_u64(q));
	dprng_free(p);
	dprng_free(q);
	dprng_free(NULL);
	dp_gauss_free(g);
	dp_gauss_free(h);
	dp_laplace_free(l);
	diag_free(&d);
}

/* Parameter errors come back as EX_USAGE with a message. */
static void test_errors(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	dp_gauss *g = (dp_gauss *)&d;
	assert_int_equal(dp_gauss_new(0, 1, &g, &d), -1);
	assert_null(g);
	assert_int_equal(d.code, EX_USAGE);
	assert_non_null(strstr(d.msg, "must be positive"));
	diag_reset(&d);
	assert_int_equal(dp_gauss_new(1ull << 62, 1, &g, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_reset(&d);
	dp_laplace *l;
	assert_int_equal(dp_laplace_new(5, 0, &l, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_reset(&d);
	/* 6/4 is reduced to 3/2 */
	assert_int_equal(dp_gauss_new(6, 4, &g, &d), 0);
	dp_gauss_free(g);
	/* noise addition refuses to overflow and writes nothing */
	dprng *r = seeded(1);
	assert_int_equal(dp_laplace_new(1000, 1, &l, &d), 0);
	int64_t in[2] = {5, INT64_MAX}, out[2] = {0, 0};
	int rc = 0;
	for (int i = 0; i < 50 && rc == 0; i++)
		rc = dp_laplace_add(l, r, in, 2, out, &d);
	assert_int_equal(rc, -1);
	assert_int_equal(d.code, EX_DATAERR);
	diag_reset(&d);
	int64_t c3[3] = {10, 20, 30};
	assert_int_equal(dp_laplace_add(l, r, c3, 3, c3, &d), 0);
	dp_laplace_free(l);
	dprng_free(r);
	diag_free(&d);
}

/* ---------- the exact-arithmetic claim ---------- */

static char *slurp(const char *rel)
{
	const char *roots[3] = {".", getenv("TIPSTAT_SRCDIR"), NULL};
	char ds[4096];
	const char *dsenv = getenv("TIPSTAT_DATASETS"); /* <root>/datasets */
	if (dsenv && strlen(dsenv) < sizeof ds) {
		strcpy(ds, dsenv);
		char *sl = strrchr(ds, '/');
		if (sl) {
			*sl = '\0';
			roots[2] = ds;
		}
	}
	for (int i = 0; i < 3; i++) {
		if (!roots[i])
			continue;
		char path[4200];
		snprintf(path, sizeof path, "%s/%s", roots[i], rel);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		fseek(f, 0, SEEK_END);
		long n = ftell(f);
		fseek(f, 0, SEEK_SET);
		char *s = malloc((size_t)n + 1);
		assert_non_null(s);
		assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
		s[n] = '\0';
		fclose(f);
		return s;
	}
	return NULL;
}

/* The region between the markers mentions neither "double" nor "float"
 * (comments included), and its code calls no libm function. */
static void check_exact_region(const char *rel)
{
	char *s = slurp(rel);
	if (!s) {
		skip(); /* not run from the source tree */
		return;
	}
	char *b = strstr(s, "/* BEGIN EXACT */"), *e = strstr(s, "/* END EXACT */");
	assert_non_null(b);
	assert_non_null(e);
	assert_true(b < e);
	*e = '\0';
	assert_null(strstr(b, "double"));
	assert_null(strstr(b, "float"));
	assert_null(strstr(b, "math.h"));
	/* identifiers outside comments */
	static const char *libm[] = {"exp", "expl", "expf", "log", "logl", "log1p",
	                             "sqrt", "sqrtl", "pow", "ldexp", "erf", "tanh",
	                             "ceil", "floor", "round", "fabs", NULL};
	size_t nid = 0;
	for (char *p = b; *p;) {
		if (p[0] == '/' && p[1] == '*') {
			char *q = strstr(p + 2, "*/");
			assert_non_null(q);
			p = q + 2;
		} else if (p[0] == '"') {
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p)
				p++;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_') {
			char id[64];
			size_t k = 0;
			while (((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			        (*p >= '0' && *p <= '9') || *p == '_')) {
				if (k + 1 < sizeof id)
					id[k++] = *p;
				p++;
			}
			id[k] = '\0';
			nid++;
			for (int i = 0; libm[i]; i++)
				if (strcmp(id, libm[i]) == 0)
					fail_msg("%s: libm call '%s' in the exact region", rel, id);
		} else {
			p++;
		}
	}
	assert_true(nid > 100); /* the region is not empty */
	free(s);
}

static void test_no_floating_point(void **state)
{
	(void)state;
	check_exact_region("privacy/dpsample.c");
	check_exact_region("privacy/dprng.c");
}

/* ---------- timing ---------- */

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Test-only leaky sampler: the textbook geometric loop for a discrete
 * Laplace magnitude (one more random draw per unit of |x|). */
typedef struct naive {
	uint64_t thr; /* P(continue) = exp(-1/t) = thr / 2^64 */
	uint64_t half;
} naive;

static int64_t naive_sample(const void *s, dprng *r)
{
	const naive *nv = s;
	int64_t k = 0;
	for (;;) {
		/* sign and zero: P(0) = (1-q)/(1+q) via a rejection of -0 */
		unsigned neg = dprng_bit(r);
		k = 0;
		while (dprng_u64(r) < nv->thr)
			k++;
		if (neg && k == 0)
			continue;
		return neg ? -k : k;
	}
}

/* Time each of n samples; medians of the per-sample times of outputs
 * with |x| <= small and of those with |x| >= big. */
static void time_split(sampler_fn f, const void *s, dprng *r, long n, int64_t small,
                       int64_t big, double *med_small, double *med_big, size_t *ns,
                       size_t *nb)
{
	double *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
	assert_non_null(a);
	assert_non_null(b);
	size_t na = 0, nbig = 0;
	volatile int64_t sink = 0;
	for (long i = 0; i < n; i++) {
		double t0 = now_ns();
		int64_t x = f(s, r);
		double t1 = now_ns();
		sink += x;
		int64_t ax = x < 0 ? -x : x;
		if (ax <= small)
			a[na++] = t1 - t0;
		else if (ax >= big)
			b[nbig++] = t1 - t0;
	}
	assert_true(na > 100 && nbig > 100);
	*med_small = median(a, na);
	*med_big = median(b, nbig);
	*ns = na;
	*nb = nbig;
	free(a);
	free(b);
}

/* Is the median time of large outputs within 15% (+ 5 ns of timer
 * granularity) of that of small ones?  Up to 5 attempts, each of n
 * interleaved samples (a loaded machine can spoil one); also prints the
 * figures.  A sampler that leaks fails every attempt. */
static int timing_equal(const char *what, sampler_fn f, const void *s, dprng *r,
                        long n, int64_t small, int64_t big)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		double ms, mb;
		size_t ns, nb;
		time_split(f, s, r, n, small, big, &ms, &mb, &ns, &nb);
		double rel = (mb - ms) / ms;
		printf("  timing %-24s small(|x|<=%lld, n=%zu) %.0f ns, large(|x|>=%lld, "
		       "n=%zu) %.0f ns, diff %+.1f%%\n",
		       what, (long long)small, ns, ms, (long long)big, nb, mb, 100 * rel);
		if (fabs(mb - ms) <= 0.15 * ms + 5)
			return 1;
	}
	return 0;
}

static void test_timing(void **state)
{
	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	printf("  timing test skipped under AddressSanitizer\n");
	skip();
#endif
	if (getenv("TIPSTAT_SKIP_TIMING") || getenv("TIPSTAT_UNDER_VALGRIND")) {
		printf("  timing test skipped (TIPSTAT_SKIP_TIMING or valgrind)\n");
		skip();
	}
	dprng *r = seeded(51);
	dp_gauss *g10 = gauss(100, 1), *g1k = gauss(1000000, 1);
	dp_laplace *l10 = laplace(10, 1);
	/* small = |x| <= 1 (|x| <= 10 = sigma/100 for sigma = 1000, where
	 * |x| <= 1 has probability 0.1%), large = |x| >= 2 sigma */
	assert_true(timing_equal("gauss sigma=10 (cdt)", gs, g10, r, 200000, 1, 20));
	assert_true(timing_equal("gauss sigma=1000 (rej)", gs, g1k, r, 100000, 10, 2000));
	assert_true(timing_equal("laplace t=10", ls, l10, r, 200000, 1, 20));
	/* the test can see a leak: the textbook loop, same law as Lap_Z(10) */
	naive nv = {(uint64_t)(exp(-0.1) * 18446744073709551616.0), 0};
	double ms = 0, mb = 0;
	size_t ns, nb;
	int leak_seen = 1;
	for (int attempt = 0; attempt < 3; attempt++) {
		time_split(naive_sample, &nv, r, 200000, 1, 20, &ms, &mb, &ns, &nb);
		printf("  timing naive laplace t=10     small %.0f ns, large(|x|>=20) %.0f ns, "
		       "diff %+.1f%%\n", ms, mb, 100 * (mb - ms) / ms);
		leak_seen &= mb > 1.3 * ms;
	}
	assert_true(leak_seen);
	dp_gauss_free(g10);
	dp_gauss_free(g1k);
	dp_laplace_free(l10);
	dprng_free(r);
}

/* ---------- empirical privacy ---------- */

/* Mechanism M(c) = c + noise on neighbouring counts 0 and 1, n runs each.
 * For every output y with >= 2000 hits on both sides, the observed log
 * ratio ln(P[M(0)=y] / P[M(1)=y]) must match the exact privacy loss within
 * 5 standard errors (sqrt(1/n0 + 1/n1)) and, for the Laplace, stay below
 * eps = 1/t plus that margin.  False-failure rate: ~40 outputs x 5.7e-7. */
static void privacy_check(sampler_fn f, const void *s, long n, int gaussian,
                          double scale, uint64_t seed)
{
	enum { W = 200 };
	static long h0[2 * W + 1], h1[2 * W + 1];
	memset(h0, 0, sizeof h0);
	memset(h1, 0, sizeof h1);
	dprng *r0 = seeded(seed), *r1 = seeded(seed + 1000);
	for (long i = 0; i < n; i++) {
		int64_t y0 = 0 + f(s, r0), y1 = 1 + f(s, r1);
		if (y0 >= -W && y0 <= W)
			h0[y0 + W]++;
		if (y1 >= -W && y1 <= W)
			h1[y1 + W]++;
	}
	double maxloss = 0;
	int used = 0;
	for (int y = -W; y <= W; y++) {
		long a = h0[y + W], b = h1[y + W];
		if (a < 2000 || b < 2000)
			continue;
		used++;
		double obs = log((double)a / (double)b);
		double se = sqrt(1.0 / a + 1.0 / b);
		double exact = gaussian ? (1.0 - 2.0 * y) / (2.0 * scale)
		                        : (fabs(y - 1.0) - fabs((double)y)) / scale;
		if (fabs(obs - exact) > 5 * se)
			fail_msg("privacy loss at y=%d: observed %.4f, exact %.4f (se %.4f)", y,
			         obs, exact, se);
		if (!gaussian && fabs(obs) > 1.0 / scale + 5 * se)
			fail_msg("laplace loss %.4f at y=%d above eps=%.4f", obs, y, 1.0 / scale);
		if (fabs(obs) > maxloss)
			maxloss = fabs(obs);
	}
	printf("  privacy %s scale=%g: %d outputs checked, max |observed loss| %.3f%s\n",
	       gaussian ? "gauss s2" : "laplace t", scale, used, maxloss,
	       gaussian ? "" : " (eps bound 1/t)");
	assert_true(used >= 5);
	dprng_free(r0);
	dprng_free(r1);
}

static void test_empirical_privacy(void **state)
{
	(void)state;
	dp_laplace *l = laplace(2, 1); /* eps = 0.5 */
	privacy_check(ls, l, 1000000, 0, 2.0, 61);
	dp_laplace_free(l);
	dp_gauss *g = gauss(4, 1);
	privacy_check(gs, g, 1000000, 1, 4.0, 62);
	dp_gauss_free(g);
	/* the rejection sampler too (sigma^2 = 5000: loss (1-2y)/10000) */
	g = gauss(5000, 1);
	assert_string_equal(dp_gauss_method(g), "rejection");
	privacy_check(gs, g, 400000, 1, 5000.0, 63);
	dp_gauss_free(g);
}

/* ---------- accounting and margins of error ---------- */

/* Independent CKS delta: bisection on the derivative of the log bound,
 * (2a-1) rho - eps + ln(1 - 1/a), as in the authors' reference code. */
static double ref_delta(double rho, double eps)
{
	double amin = 1.01, amax = (eps + 1) / (2 * rho) + 2, a = amin;
	for (int i = 0; i < 200; i++) {
		a = (amin + amax) / 2;
		double der = (2 * a - 1) * rho - eps + log1p(-1.0 / a);
		if (der < 0)
			amin = a;
		else
			amax = a;
	}
	double v = exp((a - 1) * (a * rho - eps) + a * log1p(-1.0 / a)) / (a - 1);
	return v < 1 ? v : 1;
}

static double ref_eps(double rho, double delta)
{
	double lo = 0, hi = rho + 2 * sqrt(rho * log(1 / delta));
	for (int i = 0; i < 200; i++) {
		double m = (lo + hi) / 2;
		if (ref_delta(rho, m) <= delta)
			hi = m;
		else
			lo = m;
	}
	return hi;
}

static void test_accounting(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	double rho, eps, std, del;
	assert_int_equal(dp_gauss_rho(1, 1, 1, &rho, &d), 0);
	assert_true(fabs(rho - 0.5) < 1e-15);
	assert_int_equal(dp_gauss_rho(2, 8, 1, &rho, &d), 0); /* 4/16 */
	assert_true(fabs(rho - 0.25) < 1e-15);
	uint64_t num;
	assert_int_equal(dp_gauss_s2_for_rho(1, 0.01, 100, &num, &d), 0);
	assert_true(num == 5000); /* s2 = 1/(2 0.01) = 50 */
	assert_int_equal(dp_gauss_s2_for_rho(3, 0.7, 7, &num, &d), 0);
	assert_int_equal(dp_gauss_rho(3, num, 7, &rho, &d), 0);
	assert_true(rho <= 0.7);
	assert_int_equal(dp_gauss_rho(3, num - 1, 7, &rho, &d), 0);
	assert_true(rho > 0.7); /* the smallest such numerator */
	const double parts[3] = {0.1, 0.25, 0.05};
	double tot;
	assert_int_equal(dp_zcdp_compose(parts, 3, &tot, &d), 0);
	assert_true(fabs(tot - 0.4) < 1e-15);
	const double bad[2] = {0.1, -1};
	assert_int_equal(dp_zcdp_compose(bad, 2, &tot, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	assert_non_null(strstr(d.msg, "rho[1]"));
	diag_reset(&d);
	/* standard bound: 0.5 + 2 sqrt(0.5 ln 1e6) = 5.756631... */
	assert_int_equal(dp_zcdp_eps_standard(0.5, 1e-6, &std, &d), 0);
	assert_true(fabs(std - (0.5 + 2 * sqrt(0.5 * 13.815510557964274))) < 1e-12);
	const double rhos[] = {0.001, 0.025, 0.5, 2, 10};
	const double dels[] = {1e-5, 1e-6, 1e-10};
	for (size_t i = 0; i < 5; i++)
		for (size_t j = 0; j < 3; j++) {
			assert_int_equal(dp_zcdp_eps(rhos[i], dels[j], &eps, &d), 0);
			assert_int_equal(dp_zcdp_eps_standard(rhos[i], dels[j], &std, &d), 0);
			double ref = ref_eps(rhos[i], dels[j]);
			assert_true(eps <= std);
			assert_true(fabs(eps - ref) <= 1e-6 * ref + 1e-9);
			assert_int_equal(dp_zcdp_delta(rhos[i], eps, &del, &d), 0);
			assert_true(fabs(log(del / dels[j])) < 1e-4);
		}
	assert_int_equal(dp_zcdp_eps(0.025, 1e-6, &eps, &d), 0);
	assert_int_equal(dp_zcdp_eps_standard(0.025, 1e-6, &std, &d), 0);
	printf("  rho=0.025 delta=1e-6: eps CKS %.4f, standard %.4f\n", eps, std);
	assert_true(eps < std - 0.05); /* the tighter bound is tighter */
	assert_int_equal(dp_zcdp_eps(0.5, 0, &eps, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_reset(&d);
	assert_int_equal(dp_laplace_eps(1, 2, 1, &eps, &d), 0);
	assert_true(fabs(eps - 0.5) < 1e-15);
	diag_free(&d);
}

/* The pmfs sum to 1 and match the direct formula. */
static void test_pmf(void **state)
{
	(void)state;
	const uint64_t s2[][2] = {{1, 4}, {1, 1}, {7, 3}, {100, 1}, {1, 100}};
	for (size_t c = 0; c < 5; c++) {
		long double v = (long double)s2[c][0] / s2[c][1], z = 1;
		for (int x = 1; x < 200; x++)
			z += 2 * expl(-(long double)x * x / (2 * v));
		double sum = 0;
		for (int x = -199; x < 200; x++) {
			double p = dp_gauss_pmf(s2[c][0], s2[c][1], x);
			sum += p;
			double want = (double)(expl(-(long double)x * x / (2 * v)) / z);
			assert_true(fabs(p - want) <= 1e-14 * want + 1e-300);
		}
		assert_true(fabs(sum - 1) < 1e-13);
	}
	double sum = 0;
	for (int x = -2000; x <= 2000; x++)
		sum += dp_laplace_pmf(10, 3, x);
	assert_true(fabs(sum - 1) < 1e-13);
	/* t = 1: P(0) = (1 - 1/e)/(1 + 1/e) = tanh(1/2) */
	assert_true(fabs(dp_laplace_pmf(1, 1, 0) - 0.46211715726000974) < 1e-15);
}

/* Margins of error at 90%: known answers worked out by hand and by an
 * independent summation here. */
static void test_moe(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	int64_t m;
	/* sigma = 1: P(|X| <= 1) = (1 + 2e^-1/2)/2.5066 = 0.883 < 0.9,
	 * P(|X| <= 2) = 0.991 -> 2.  sigma^2 = 1/4: P(0) = 0.787,
	 * P(|X| <= 1) = 0.9999 -> 1. */
	assert_int_equal(dp_gauss_moe(1, 1, 0.90, &m, &d), 0);
	assert_int_equal(m, 2);
	assert_int_equal(dp_gauss_moe(1, 4, 0.90, &m, &d), 0);
	assert_int_equal(m, 1);
	/* independent: cumulative direct sums */
	const uint64_t s2[][2] = {{7, 3}, {100, 1}, {2500, 1}, {1000000, 1}, {123457, 10}};
	for (size_t c = 0; c < 5; c++) {
		long double v = (long double)s2[c][0] / s2[c][1], z = 1;
		int64_t xmax = (int64_t)(12 * sqrtl(v)) + 10;
		for (int64_t x = 1; x <= xmax; x++)
			z += 2 * expl(-(long double)x * x / (2 * v));
		long double acc = 1;
		int64_t k = 0;
		while (acc / z < 0.9L) {
			k++;
			acc += 2 * expl(-(long double)k * k / (2 * v));
		}
		assert_int_equal(dp_gauss_moe(s2[c][0], s2[c][1], 0.90, &m, &d), 0);
		assert_int_equal(m, k);
	}
	/* large sigma: ~ z_0.95 sigma = 1.6448536 sigma */
	assert_int_equal(dp_gauss_moe(1000000000000ull, 1, 0.90, &m, &d), 0);
	printf("  moe90 sigma=1e6: %lld\n", (long long)m);
	assert_true(llabs(m - (int64_t)(1.6448536269514722 * 1e6)) <= 1);
	/* the two methods agree at the switch (sigma = 10^4) */
	int64_t m1, m2;
	assert_int_equal(dp_gauss_moe(100000000, 1, 0.90, &m1, &d), 0);
	assert_int_equal(dp_gauss_moe(100000001, 1, 0.90, &m2, &d), 0);
	assert_true(m1 == m2 || m1 + 1 == m2);
	/* Laplace, against cumulative sums of (1-r)/(1+r) r^|x| */
	const uint64_t ts[][2] = {{1, 2}, {1, 1}, {10, 3}, {10, 1}, {1000, 1}, {7, 3}};
	for (size_t c = 0; c < 6; c++) {
		long double t = (long double)ts[c][0] / ts[c][1], r = expl(-1 / t);
		long double p0 = (1 - r) / (1 + r), acc = p0;
		int64_t k = 0;
		while (acc < 0.9L) {
			k++;
			acc += 2 * p0 * powl(r, (long double)k);
		}
		assert_int_equal(dp_laplace_moe(ts[c][0], ts[c][1], 0.90, &m, &d), 0);
		assert_int_equal(m, k);
	}
	/* t = 1: P(|X| <= m) = 1 - 2 e^-(m+1)/(1 + e^-1) >= 0.9 -> m = 2 */
	assert_int_equal(dp_laplace_moe(1, 1, 0.90, &m, &d), 0);
	assert_int_equal(m, 2);
	assert_int_equal(dp_gauss_moe(1, 1, 1.0, &m, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_floating_point),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_bernoulli),
		cmocka_unit_test(test_gauss_cdt_fit),
		cmocka_unit_test(test_gauss_rejection_fit),
		cmocka_unit_test(test_laplace_fit),
		cmocka_unit_test(test_empirical_privacy),
		cmocka_unit_test(test_pmf),
		cmocka_unit_test(test_moe),
		cmocka_unit_test(test_accounting),
		cmocka_unit_test(test_timing),
	};
	return cmocka_run_group_tests_name("dpsample", tests, NULL, NULL);
}
