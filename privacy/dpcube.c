/* dpcube: see dpcube.h.  A country block (country, year, indicator) is the
 * unit of everything here: its plan (which partitions are measured), its
 * measurements, its estimate.  Aggregates are sums over country blocks. */
#include "privacy/dpcube.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "core/period.h"

#define MAXP 6          /* partitions of a block, the total included */
#define MAXC 12         /* cells of one partition */

typedef struct part {
	int first, size;    /* slots first .. first+size-1 */
	int fam;            /* enum cube_family */
	int constrained;    /* complete and additive: sums to the total */
	uint8_t avail[MAXC];
} part;

typedef struct plan {
	int has_total;      /* the total is measured */
	part p[MAXP];       /* partitions other than the total */
	int np;
	int sexage;         /* SEXAGE measured: SEX, AGE, GROUP are its sums */
} plan;

size_t dpcube_n_cells(const cube *c)
{
	return cube_n_geo(c) * cube_n_periods(c) * cube_n_indicators(c) * CUBE_NSLOTS;
}

static size_t cell_index(const cube *c, size_t g, size_t pp, size_t ind, int slot)
{
	return ((g * cube_n_periods(c) + pp) * cube_n_indicators(c) + ind) * CUBE_NSLOTS +
	       (size_t)slot;
}

void dpcube_sigma2(unsigned k, uint64_t table_nano, uint64_t *num, uint64_t *den)
{
	*num = (uint64_t)k * 1000000000u;
	*den = 2 * table_nano;
}

static size_t n_tables_of(const cube *c);

/* Tables in order: year (ascending) major, indicator minor. */
int dpcube_table(const cube *c, uint64_t rho_nano, size_t t, int *indicator, int *year,
                 uint64_t *table_nano)
{
	size_t nt = n_tables_of(c), nind = cube_n_indicators(c);
	if (t >= nt || !nind)
		return -1;
	size_t y = t / nind, seen = 0;
	for (size_t pp = 0; pp < cube_n_periods(c); pp++) {
		int per = cube_period_at(c, pp);
		if (period_quarter(per))
			continue;
		if (seen++ == y)
			*year = period_year(per);
	}
	*indicator = (int)(t % nind);
	*table_nano = rho_nano / nt + (t < rho_nano % nt ? 1 : 0);
	return 0;
}

/* The share of the table holding (year position yi, indicator). */
static uint64_t table_share(const cube *c, uint64_t rho_nano, size_t yi, size_t ind)
{
	size_t nt = n_tables_of(c), t = yi * cube_n_indicators(c) + ind;
	return rho_nano / nt + (t < rho_nano % nt ? 1 : 0);
}

static unsigned plan_k(const plan *pl)
{
	return (unsigned)(pl->has_total + pl->np);
}

/* Which partitions of a block are measured, from what the cube has. */
static void make_plan(const cube *c, int g, int per, int ind, plan *pl)
{
	memset(pl, 0, sizeof *pl);
	cube_value tv;
	cube_get(c, g, per, ind, CUBE_S_TOTAL, &tv);
	pl->has_total = tv.avail;
	int additive = tv.avail && !(tv.flags & CUBE_F_NONADDITIVE);
	int fams[] = {CUBE_FAM_SEXAGE, CUBE_FAM_SEX, CUBE_FAM_AGE, CUBE_FAM_GROUP, CUBE_FAM_FORM,
	              CUBE_FAM_CIT};
	for (size_t f = 0; f < sizeof fams / sizeof *fams; f++) {
		int fam = fams[f];
		if (pl->sexage && (fam == CUBE_FAM_SEX || fam == CUBE_FAM_AGE || fam == CUBE_FAM_GROUP))
			continue;
		part p;
		memset(&p, 0, sizeof p);
		p.fam = fam;
		p.first = cube_family_first(fam);
		p.size = cube_family_size(fam);
		int n_av = 0;
		for (int k = 0; k < p.size && k < MAXC; k++) {
			cube_value v;
			cube_get(c, g, per, ind, p.first + k, &v);
			p.avail[k] = v.avail;
			n_av += v.avail;
		}
		if (!n_av)
			continue;
		if (fam == CUBE_FAM_SEXAGE && n_av < p.size)
			continue; /* a partial SEXAGE: measure the margins instead */
		if (fam == CUBE_FAM_SEXAGE)
			pl->sexage = 1;
		p.constrained = additive && n_av == p.size;
		pl->p[pl->np++] = p;
	}
}

/* The point a cell is measured at: its value, or its interval's midpoint. */
static int64_t point_of(const cube_value *v)
{
	if (v->hi == CUBE_UNBOUNDED)
		return v->lo;
	return v->lo + (v->hi - v->lo) / 2;
}

static size_t n_tables_of(const cube *c)
{
	size_t years = 0;
	for (size_t pp = 0; pp < cube_n_periods(c); pp++)
		years += period_quarter(cube_period_at(c, pp)) == 0;
	return years * cube_n_indicators(c);
}

int dpcube_measure(const cube *c, uint64_t rho_nano, dpcube_noise_fn noise, void *ctx,
                   int64_t **raw, size_t *n, diag *d)
{
	*raw = NULL;
	*n = 0;
	if (!cube_finished(c))
		return diag_fail(d, EX_SOFTWARE, "dpcube: cube not finished");
	if (!rho_nano)
		return diag_fail(d, EX_USAGE, "dpcube: rho must be positive");
	size_t nc = dpcube_n_cells(c), nt = n_tables_of(c);
	if (rho_nano < nt)
		return diag_fail(d, EX_USAGE, "dpcube: rho %.9g cannot be split over %zu tables",
		                 (double)rho_nano / 1e9, nt);
	int64_t *m = malloc((nc ? nc : 1) * sizeof *m);
	if (!m)
		return diag_fail(d, EX_OSERR, "dpcube: out of memory");
	for (size_t i = 0; i < nc; i++)
		m[i] = DPCUBE_NONE;
	size_t nagg = cube_n_geo(c) - cube_n_countries(c);
	for (size_t g = nagg; g < cube_n_geo(c); g++)
		for (size_t pp = 0, yi = 0; pp < cube_n_periods(c); pp++) {
			int per = cube_period_at(c, pp);
			if (period_quarter(per))
				continue;
			for (size_t ind = 0; ind < cube_n_indicators(c); ind++) {
				plan pl;
				make_plan(c, (int)g, per, (int)ind, &pl);
				uint64_t num, den;
				dpcube_sigma2(plan_k(&pl), table_share(c, rho_nano, yi, ind), &num, &den);
				int slots[1 + MAXP * MAXC], ns = 0;
				if (pl.has_total)
					slots[ns++] = CUBE_S_TOTAL;
				for (int j = 0; j < pl.np; j++)
					for (int k = 0; k < pl.p[j].size; k++)
						if (pl.p[j].avail[k])
							slots[ns++] = pl.p[j].first + k;
				for (int s = 0; s < ns; s++) {
					cube_value v;
					cube_get(c, (int)g, per, (int)ind, slots[s], &v);
					int64_t z;
					if (noise(ctx, num, den, &z, d)) {
						free(m);
						return -1;
					}
					m[cell_index(c, g, pp, ind, slots[s])] = point_of(&v) + z;
				}
			}
			yi++;
		}
	*raw = m;
	*n = nc;
	return 0;
}

/* Euclidean projection of v (n entries) onto {x >= 0, sum x = z}. */
static void project_simplex(double *v, int n, double z)
{
	double u[MAXC];
	memcpy(u, v, (size_t)n * sizeof *u);
	for (int i = 1; i < n; i++) /* insertion sort, descending */
		for (int j = i; j > 0 && u[j] > u[j - 1]; j--) {
			double t = u[j];
			u[j] = u[j - 1];
			u[j - 1] = t;
		}
	double cum = 0, theta = 0;
	for (int j = 0; j < n; j++) {
		cum += u[j];
		double th = (cum - z) / (j + 1);
		if (u[j] - th > 0)
			theta = th;
	}
	for (int i = 0; i < n; i++)
		v[i] = v[i] - theta > 0 ? v[i] - theta : 0;
}

/* Integers >= 0 summing to z, closest to x (x >= 0, sum x = z), by largest
 * remainders; ties go to the earlier cell. */
static void round_to_sum(const double *x, int n, int64_t z, int64_t *out)
{
	int64_t s = 0;
	double frac[MAXC];
	for (int i = 0; i < n; i++) {
		double f = floor(x[i] + 1e-9);
		out[i] = (int64_t)f;
		frac[i] = x[i] - f;
		s += out[i];
	}
	while (s < z) {
		int best = -1;
		for (int i = 0; i < n; i++)
			if (frac[i] > -1 && (best < 0 || frac[i] > frac[best]))
				best = i;
		if (best < 0)
			break;
		out[best]++;
		frac[best] = -2; /* once each */
		s++;
	}
	while (s > z) { /* round-off: take from the largest */
		int best = 0;
		for (int i = 1; i < n; i++)
			if (out[i] > out[best])
				best = i;
		out[best]--;
		s--;
	}
}

/* Estimate one country block: values and variances (in units of sigma^2
 * times sig2) into val/var at the block's slots.  lin, when not NULL,
 * receives the linear WLS estimate before clamping and rounding (unbiased,
 * with exactly the variance in var): what the 90% intervals are built on. */
static void estimate_block(const plan *pl, const int64_t *m, double sig2, int64_t *val,
                           double *var, uint8_t *have, double *lin)
{
	double D = 1;
	for (int j = 0; j < pl->np; j++)
		if (pl->p[j].constrained && pl->has_total)
			D += 1.0 / pl->p[j].size;
	double S[MAXP] = {0};
	for (int j = 0; j < pl->np; j++)
		for (int k = 0; k < pl->p[j].size; k++)
			if (pl->p[j].avail[k])
				S[j] += (double)m[pl->p[j].first + k];
	int64_t tint = 0;
	if (pl->has_total) {
		double num = (double)m[CUBE_S_TOTAL];
		for (int j = 0; j < pl->np; j++)
			if (pl->p[j].constrained)
				num += S[j] / pl->p[j].size;
		double th = num / D;
		tint = th > 0 ? (int64_t)llround(th) : 0;
		if (lin)
			lin[CUBE_S_TOTAL] = th;
		val[CUBE_S_TOTAL] = tint;
		var[CUBE_S_TOTAL] = sig2 / D;
		have[CUBE_S_TOTAL] = 1;
	}
	for (int j = 0; j < pl->np; j++) {
		const part *p = &pl->p[j];
		int n = p->size;
		double x[MAXC];
		int64_t xi[MAXC];
		int cons = p->constrained && pl->has_total;
		for (int k = 0; k < n; k++)
			x[k] = p->avail[k] ? (double)m[p->first + k] : 0;
		if (cons) {
			double th = (double)m[CUBE_S_TOTAL];
			for (int q = 0; q < pl->np; q++)
				if (pl->p[q].constrained)
					th += S[q] / pl->p[q].size;
			th /= D;
			for (int k = 0; k < n; k++)
				x[k] += (th - S[j]) / n;
		}
		if (lin)
			for (int k = 0; k < n; k++)
				lin[p->first + k] = x[k];
		if (cons) {
			project_simplex(x, n, (double)tint);
			round_to_sum(x, n, tint, xi);
		}
		for (int k = 0; k < n; k++) {
			if (!p->avail[k])
				continue;
			int s = p->first + k;
			val[s] = cons ? xi[k] : (x[k] > 0 ? (int64_t)llround(x[k]) : 0);
			/* Var(x_k) = (1 - 1/n) + 1/(n^2 D) when constrained, else 1 */
			var[s] = sig2 * (cons ? (1 - 1.0 / n) + 1.0 / ((double)n * n * D) : 1.0);
			have[s] = 1;
		}
	}
	if (!pl->sexage)
		return;
	/* SEX, AGE, GROUP: sums of a SEXAGE cells; Var of a sum of a cells of
	 * a constrained partition of n: a(1 - a/n) + a^2/(n^2 D). */
	const part *sa = NULL;
	for (int j = 0; j < pl->np; j++)
		if (pl->p[j].fam == CUBE_FAM_SEXAGE)
			sa = &pl->p[j];
	if (!sa)
		return; /* sexage is set only with a SEXAGE partition */
	int cons = sa->constrained && pl->has_total;
	double n = CUBE_NSEX * CUBE_NAGE;
	struct { int slot; int cells[12]; int a; } der[CUBE_NSEX + CUBE_NAGE + CUBE_NGROUP];
	int nd = 0;
	for (int sx = 0; sx < CUBE_NSEX; sx++, nd++) {
		der[nd].slot = CUBE_S_SEX + sx;
		der[nd].a = CUBE_NAGE;
		for (int ag = 0; ag < CUBE_NAGE; ag++)
			der[nd].cells[ag] = CUBE_SLOT_SEXAGE(sx, ag);
	}
	for (int ag = 0; ag < CUBE_NAGE; ag++, nd++) {
		der[nd].slot = CUBE_S_AGE + ag;
		der[nd].a = CUBE_NSEX;
		for (int sx = 0; sx < CUBE_NSEX; sx++)
			der[nd].cells[sx] = CUBE_SLOT_SEXAGE(sx, ag);
	}
	static const int gsx[4] = {CUBE_SEX_F, CUBE_SEX_M, CUBE_SEX_F, CUBE_SEX_M};
	static const int gag[4] = {CUBE_AGE_ADULT, CUBE_AGE_ADULT, CUBE_AGE_MINOR, CUBE_AGE_MINOR};
	for (int gi = 0; gi < 4; gi++, nd++) {
		der[nd].slot = CUBE_S_GROUP + gi;
		der[nd].a = 1;
		der[nd].cells[0] = CUBE_SLOT_SEXAGE(gsx[gi], gag[gi]);
	}
	der[nd].slot = CUBE_S_GROUP + CUBE_G_UNKNOWN;
	der[nd].a = 0;
	for (int sx = 0; sx < CUBE_NSEX; sx++)
		for (int ag = 0; ag < CUBE_NAGE; ag++) {
			int named = (sx == CUBE_SEX_F || sx == CUBE_SEX_M) && ag != CUBE_AGE_U;
			if (!named)
				der[nd].cells[der[nd].a++] = CUBE_SLOT_SEXAGE(sx, ag);
		}
	nd++;
	for (int q = 0; q < nd; q++) {
		int64_t sum = 0;
		double lsum = 0;
		for (int k = 0; k < der[q].a; k++) {
			sum += val[der[q].cells[k]];
			lsum += lin ? lin[der[q].cells[k]] : 0;
		}
		double a = der[q].a;
		val[der[q].slot] = sum;
		if (lin)
			lin[der[q].slot] = lsum;
		var[der[q].slot] = sig2 * (cons ? a * (1 - a / n) + a * a / (n * n * D) : a);
		have[der[q].slot] = 1;
	}
}

/* --- 90% intervals ------------------------------------------------------------
 *
 * The released integers are a non-linear function of the noise: clamping at
 * 0 and projecting a partition onto {x >= 0, sum = total} push a cell near 0
 * up and take that mass from the other cells of its partition (a large cell
 * among many empty ones is pushed down by about one sigma at high noise).
 * How far depends on the true counts of the other cells -- how many are
 * truly 0 -- which the release does not know.  An interval inverted from
 * the released value's own distribution therefore needs a plug-in truth for
 * those cells; the simulated construction used before did so, and the
 * plug-in's error did not average out in the aggregates (their push is the
 * sum of their countries' pushes, nearly always down): the large
 * aggregates at sigma comparable with the counts were covered 0.84-0.875.
 *
 * The intervals are instead a Neyman construction on the linear WLS
 * estimate X (lin in estimate_block, before clamping and rounding; an
 * aggregate's X is the sum of its countries'): X - t is a fixed linear
 * combination of the measurements' noises, N(0, s^2) in shape with s^2 =
 * var in closed form (a discrete Gaussian's variance is sigma^2 or a
 * little less), whatever the other cells' truths are -- there is nothing
 * to plug in, so every cell and every aggregate is covered 90% whatever
 * the configuration.  The acceptance region of a truth t >= 0 holds 90% of
 * X:
 *   t >= t* = z95 s: [t - z95 s, t + z95 s]   (central)
 *   t <  t*:         (-inf, t + z90 s]         (one-sided: all 10% above)
 * and the interval is the set of t whose region holds X:
 *   upper U = max(X + z95 s, t*);
 *   lower L = max(0, X - z90 s) when that is below t*, else
 *             max(t*, X - z95 s).
 * Every region holds exactly 90% of X, so every t >= 0 is covered 90% of
 * the time.  Below t* (where the central region's lower edge would be
 * below 0) the region is one-sided, so that the set is never empty (U >=
 * t*: a central belt would give no t at all for X < -z95 s) and a true 0 is
 * covered exactly when X <= z90 s.  The published value E (the
 * post-processed integer) is not X: the interval is reported around it as
 * moe_lo = E - L, moe_hi = U - E, and when E falls outside [L, U] (a cell
 * pushed further than the interval reaches) the interval is widened to hold
 * it -- coverage can only grow, and does by well under a point.  This costs
 * width where the post-processing was informative: a large cell among
 * empty ones, whose released value uses that the empty cells are not
 * negative, has an interval wider than its released value's spread (about
 * a quarter wider than the simulated intervals had for the large cells at
 * low noise); the true zeros' are narrower.
 * tests/unit/test_dpcube.c measures the coverage at three noise levels and
 * two seeds (docs/reports.md has the table).  The intervals are a pure
 * function of the stored measurements: a re-issue is identical. */
#define Z95 1.6448536269514722 /* standard normal 95th percentile */
#define Z90 1.2815515655446004 /* standard normal 90th percentile */

/* The interval of a truth t >= 0 from X = t + N(0, s^2), s > 0 (see above),
 * widened to hold the released value E: its margins around E. */
static void neyman_interval(double X, double s, int64_t E_, double *moe_lo, double *moe_hi)
{
	double E = (double)E_, tstar = Z95 * s, U = X + Z95 * s, L;
	if (U < tstar)
		U = tstar;
	if (X - Z90 * s < tstar)
		L = X - Z90 * s > 0 ? X - Z90 * s : 0;
	else
		L = X - Z95 * s > tstar ? X - Z95 * s : tstar;
	*moe_lo = E > L ? E - L : 0;
	*moe_hi = U > E ? U - E : 0;
}

int dpcube_estimate(const cube *c, uint64_t rho_nano, const int64_t *raw, size_t n,
                    dpcube_result *out, diag *d)
{
	memset(out, 0, sizeof *out);
	if (!cube_finished(c))
		return diag_fail(d, EX_SOFTWARE, "dpcube: cube not finished");
	if (n != dpcube_n_cells(c))
		return diag_fail(d, EX_DATAERR, "dpcube: %zu measurements for a cube of %zu cells", n,
		                 dpcube_n_cells(c));
	if (rho_nano < n_tables_of(c) || !rho_nano)
		return diag_fail(d, EX_USAGE, "dpcube: rho %.9g cannot be split over %zu tables",
		                 (double)rho_nano / 1e9, n_tables_of(c));
	size_t nn = n ? n : 1, nctry = cube_n_countries(c);
	out->n = n;
	out->status = calloc(nn, 1);
	out->value = calloc(nn, sizeof *out->value);
	out->moe_lo = calloc(nn, sizeof *out->moe_lo);
	out->moe_hi = calloc(nn, sizeof *out->moe_hi);
	out->raw = malloc(nn * sizeof *out->raw);
	/* every published cell's linear estimate X and its variance: an
	 * aggregate's are the sums of its countries' */
	double *var = calloc(nn, sizeof *var), *lin = calloc(nn, sizeof *lin);
	if (!out->status || !out->value || !out->moe_lo || !out->moe_hi || !out->raw || !var ||
	    !lin) {
		free(var);
		free(lin);
		dpcube_result_free(out);
		return diag_fail(d, EX_OSERR, "dpcube: out of memory");
	}
	memcpy(out->raw, raw, n * sizeof *raw);
	dpcube_report *rep = &out->report;
	size_t nt = n_tables_of(c);
	rep->n_tables = nt;
	rep->rho_nano = rho_nano;
	rep->rho_table = nt ? (double)rho_nano / 1e9 / (double)nt : 0;
	size_t ngeo = cube_n_geo(c), nagg = ngeo - nctry;
	for (size_t pp = 0, yi = 0; pp < cube_n_periods(c); pp++) {
		int per = cube_period_at(c, pp);
		if (period_quarter(per))
			continue;
		for (size_t ind = 0; ind < cube_n_indicators(c); ind++) {
			uint64_t share = table_share(c, rho_nano, yi, ind);
			for (size_t g = nagg; g < ngeo; g++) {
				plan pl;
				make_plan(c, (int)g, per, (int)ind, &pl);
				if (plan_k(&pl) > rep->max_partitions)
					rep->max_partitions = plan_k(&pl);
				uint64_t num, den;
				dpcube_sigma2(plan_k(&pl), share, &num, &den);
				size_t base = cell_index(c, g, pp, ind, 0);
				int64_t m[CUBE_NSLOTS], val[CUBE_NSLOTS];
				double vr[CUBE_NSLOTS], x[CUBE_NSLOTS] = {0};
				uint8_t have[CUBE_NSLOTS] = {0};
				int missing = 0;
				for (int s = 0; s < CUBE_NSLOTS; s++)
					m[s] = raw[base + (size_t)s];
				if (pl.has_total && m[CUBE_S_TOTAL] == DPCUBE_NONE)
					missing = 1;
				for (int j = 0; j < pl.np; j++)
					for (int k = 0; k < pl.p[j].size; k++)
						if (pl.p[j].avail[k] && m[pl.p[j].first + k] == DPCUBE_NONE)
							missing = 1;
				if (missing) {
					free(var);
					free(lin);
					dpcube_result_free(out);
					return diag_fail(d, EX_DATAERR, "dpcube: the stored measurements do not "
					                 "match the cube (a measured cell has none)");
				}
				rep->n_measured += (size_t)pl.has_total;
				for (int j = 0; j < pl.np; j++)
					for (int k = 0; k < pl.p[j].size; k++)
						rep->n_measured += pl.p[j].avail[k];
				double sig2 = (double)num / (double)den;
				estimate_block(&pl, m, sig2, val, vr, have, x);
				for (int s = 0; s < CUBE_NSLOTS; s++) {
					cube_value v;
					cube_get(c, (int)g, per, (int)ind, s, &v);
					if (!have[s] || !v.avail)
						continue;
					size_t i = base + (size_t)s;
					out->status[i] = DPCUBE_NOISY;
					out->value[i] = val[s];
					var[i] = vr[s];
					lin[i] = x[s];
					neyman_interval(x[s], sqrt(vr[s]), val[s], &out->moe_lo[i], &out->moe_hi[i]);
				}
			}
			/* aggregates: sums of their countries' estimates, linear
			 * estimates and variances (the countries are independent) */
			for (size_t g = 0; g < nagg; g++)
				for (int s = 0; s < CUBE_NSLOTS; s++) {
					cube_value v;
					cube_get(c, (int)g, per, (int)ind, s, &v);
					if (!v.avail)
						continue;
					int ok = 1;
					for (size_t cp = 0; cp < nctry && ok; cp++)
						if (cube_contributes(c, (int)g, per, (int)ind, s, cp) &&
						    out->status[cell_index(c, nagg + cp, pp, ind, s)] != DPCUBE_NOISY)
							ok = 0;
					if (!ok)
						continue; /* a part was not estimated: not published */
					size_t ai = cell_index(c, g, pp, ind, s);
					int64_t sum = 0;
					double vs = 0, xs = 0;
					for (size_t cp = 0; cp < nctry; cp++)
						if (cube_contributes(c, (int)g, per, (int)ind, s, cp)) {
							size_t ci = cell_index(c, nagg + cp, pp, ind, s);
							sum += out->value[ci];
							vs += var[ci];
							xs += lin[ci];
						}
					out->status[ai] = DPCUBE_NOISY;
					out->value[ai] = sum;
					var[ai] = vs;
					lin[ai] = xs;
					neyman_interval(xs, sqrt(vs), sum, &out->moe_lo[ai], &out->moe_hi[ai]);
				}
		}
		yi++;
	}
	for (size_t i = 0; i < n; i++)
		rep->n_published += out->status[i] == DPCUBE_NOISY;
	free(var);
	free(lin);
	return 0;
}

void dpcube_result_free(dpcube_result *r)
{
	free(r->status);
	free(r->value);
	free(r->moe_lo);
	free(r->moe_hi);
	free(r->raw);
	memset(r, 0, sizeof *r);
}
