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
 * with exactly the variance in var): the control variate of the margins'
 * simulation. */
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

/* --- 90% intervals that account for the post-processing ----------------------
 *
 * Clamping at 0 and projecting a partition onto {x >= 0, sum = total} make
 * the released integers a non-linear function of the noise: a true 0 is
 * released as exactly 0 about 60% of the time, a cell near 0 is pushed up,
 * and the mass it gains is taken from the other cells of its partition (a
 * large cell among many empty ones is pushed down by a good part of sigma).
 * A symmetric interval value +- m always contains its own estimate, so it
 * covered the zeros about 99% of the time; the intervals here are instead a
 * Neyman construction, inverted from a simulated distribution.
 *
 * The model: a released value is E = max(t + eta, 0) for the cell's truth t
 * and an error eta whose distribution does not depend on t (a shift).  The
 * distribution of eta is simulated: with a plug-in truth P for the block
 * (consistent: every sum holds), DPCUBE_MC draws of normal noise of the
 * block's sigma go through the same estimate_block, and eta_r = S_r - P for
 * the draw's released value S_r (a draw released as 0 only says
 * eta_r <= -P: censored; a quantile that falls among the censored draws is
 * extrapolated from the lowest uncensored of the 50/75/90/95% quantiles
 * with the normal shape of the linear estimate's sd).  An aggregate's draws
 * are the sums of its countries' draws (the countries are independent), so
 * its eta includes the clamping in every country.
 *
 * The acceptance region of a truth t, A(t), holds 90% of E's distribution:
 *   t >= t* = -eta_05 (a release of 0 has chance <= 5%): [t + eta_05, t + eta_95]
 *   t <  t*: [0, max(t + eta_90, 0)] -- the point mass at 0 cannot be split,
 *            so the whole 10% goes to the upper tail;
 * and the interval is {t >= 0 : E in A(t)}:
 *   upper U = E - eta_05;
 *   lower L = 0 when E = 0, else max(0, E - eta_90) when that is below t*,
 *           else max(t*, E - eta_95).
 * A true 0 is then covered when E <= eta_90: 90% of the time, not 99%.  The
 * margins are lo = E - L and hi = U - E (each at least 0: the interval
 * always holds the released value).  When E is below every region (U < 0:
 * a value the draws give less than 5% of the time even at t = 0) the set is
 * empty; the interval is then [0, E + (eta_95 - eta_05) / 2] rather than
 * the bare point.
 *
 * The plug-in.  eta does depend on the truth of the other cells of the
 * partition: the more of them are near 0, the more mass the clamping moves.
 * The released values as the truth see too little of it when true zeros
 * were released as small positive counts (the large cells are then pushed
 * down more than the simulation says), and the same values with every cell
 * below 1 sd taken as 0 (its mass moved to the partition's largest cell)
 * see too much when the small cells are real.  Each gives an interval; the
 * published one is the smallest holding both (DPCUBE_NPLUG candidates).
 * tests/unit/test_dpcube.c measures the coverage at three noise levels.
 *
 * This simulation is post-processing of the released values, not privacy
 * noise: it uses a fixed public generator seeded by the block's position,
 * so the same measurements always give the same intervals (a re-issue is
 * identical) and it costs no budget. */
#define DPCUBE_MC 256
#define DPCUBE_NPLUG 2 /* plug-ins: cells below k sd taken as 0, k = 0, 1 */

static uint64_t mc_next(uint64_t *st)
{
	uint64_t z = (*st += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Two independent standard normals (Box-Muller). */
static void mc_normal2(uint64_t *st, double *z0, double *z1)
{
	double u1 = ((double)(mc_next(st) >> 11) + 0.5) / 9007199254740992.0;
	double u2 = (double)(mc_next(st) >> 11) / 9007199254740992.0;
	double r = sqrt(-2 * log(u1));
	*z0 = r * cos(2 * M_PI * u2);
	*z1 = r * sin(2 * M_PI * u2);
}

/* The plug-in truth: the released estimate, except that cells below thr
 * are taken as 0 (their mass moved to the partition's largest cell, so
 * every sum still holds). */
static void plug_in(const plan *pl, const int64_t *val, double thr, int64_t *pin)
{
	memcpy(pin, val, CUBE_NSLOTS * sizeof *pin);
	for (int j = 0; j < pl->np; j++) {
		const part *p = &pl->p[j];
		int big = -1;
		int64_t moved = 0;
		for (int k = 0; k < p->size; k++) {
			if (!p->avail[k])
				continue;
			int s = p->first + k;
			if (big < 0 || pin[s] > pin[p->first + big])
				big = k;
		}
		for (int k = 0; k < p->size; k++) {
			int s = p->first + k;
			if (!p->avail[k] || k == big || (double)pin[s] >= thr)
				continue;
			moved += pin[s];
			pin[s] = 0;
		}
		if (big >= 0 && p->constrained && pl->has_total)
			pin[p->first + big] += moved;
	}
}

/* DPCUBE_MC releases of the block simulated with the plug-in truth (val,
 * cells below thr sd taken as 0): S[s * DPCUBE_MC + r] is draw r's
 * released value of slot s, P[s] the plug-in (slots with have[s]). */
static void block_sims(const plan *pl, const int64_t *val, const uint8_t *have, double sig2,
                       double thr, uint64_t seed, float *S, int64_t *P)
{
	int ms[1 + MAXP * MAXC], nm = 0;
	if (pl->has_total)
		ms[nm++] = CUBE_S_TOTAL;
	for (int j = 0; j < pl->np; j++)
		for (int k = 0; k < pl->p[j].size; k++)
			if (pl->p[j].avail[k])
				ms[nm++] = pl->p[j].first + k;
	double sd = sqrt(sig2), vr2[CUBE_NSLOTS];
	int64_t pin[CUBE_NSLOTS];
	uint8_t h2[CUBE_NSLOTS] = {0};
	plug_in(pl, val, thr * sd, pin);
	/* the plug-in is consistent: estimated without noise it is itself, and
	 * the derived slots (SEX, AGE, GROUP of a SEXAGE) get its sums */
	memset(P, 0, CUBE_NSLOTS * sizeof *P);
	estimate_block(pl, pin, sig2, P, vr2, h2, NULL);
	uint64_t st = seed;
	for (int r = 0; r < DPCUBE_MC; r++) {
		int64_t m[CUBE_NSLOTS] = {0}, v2[CUBE_NSLOTS] = {0}; /* m: the slots of ms */
		for (int q = 0; q < nm; q += 2) {
			double z0, z1;
			mc_normal2(&st, &z0, &z1);
			m[ms[q]] = pin[ms[q]] + (int64_t)llround(sd * z0);
			if (q + 1 < nm)
				m[ms[q + 1]] = pin[ms[q + 1]] + (int64_t)llround(sd * z1);
		}
		estimate_block(pl, m, sig2, v2, vr2, h2, NULL);
		for (int s = 0; s < CUBE_NSLOTS; s++)
			if (have[s])
				S[(size_t)s * DPCUBE_MC + (size_t)r] = (float)v2[s];
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* 0-based index of the empirical a-quantile (the ceil(a R)-th smallest). */
static int q_index(double a)
{
	int k = (int)ceil(a * DPCUBE_MC - 1e-9) - 1;
	return k < 0 ? 0 : k >= DPCUBE_MC ? DPCUBE_MC - 1 : k;
}

/* The a-quantile (standard normal quantile za) of eta from the sorted
 * draws e[], the first nc of them censored; see above. */
static double eta_q(const double *e, int nc, double a, double za, double sd)
{
	static const double lv[4] = {0.50, 0.75, 0.90, 0.95};
	static const double zv[4] = {0, 0.6744897501960817, 1.2815515655446004,
	                             1.6448536269514722};
	int k = q_index(a);
	if (k >= nc)
		return e[k];
	for (int i = 0; i < 4; i++) {
		int ki = q_index(lv[i]);
		if (lv[i] > a && ki >= nc)
			return e[ki] - (zv[i] - za) * sd;
	}
	/* (almost) every draw released as 0: the largest draw, at ~99.6% */
	return e[DPCUBE_MC - 1] - (2.6600674686174596 - za) * sd;
}

/* Widen [E - *lo, E + *hi] to hold the interval that the draws S
 * (DPCUBE_MC of them; overwritten: scratch) around the plug-in P give, sd
 * the linear estimate's standard deviation. */
static void widen(int64_t E_, int64_t P, double *S, double sd, double *lo, double *hi)
{
	double E = (double)E_;
	int nc = 0;
	for (int r = 0; r < DPCUBE_MC; r++) {
		nc += S[r] <= 0;
		S[r] -= (double)P;
	}
	qsort(S, DPCUBE_MC, sizeof *S, cmp_double);
	double q05 = eta_q(S, nc, 0.05, -1.6448536269514722, sd);
	double q90 = eta_q(S, nc, 0.90, 1.2815515655446004, sd);
	double q95 = eta_q(S, nc, 0.95, 1.6448536269514722, sd);
	double tstar = -q05, U = E - q05, L;
	if (U < 0) {
		/* E lies below every truth's region: the draws put less than 5%
		 * on values this low even at t = 0 (an aggregate of zeros whose
		 * countries were all released as 0).  The Neyman set is empty;
		 * rather than claim the truth is exactly 0, the interval is 0 to
		 * half a region's width above E. */
		L = 0;
		U = E + (q95 - q05) / 2;
	} else if (E <= 0)
		L = 0;
	else if (tstar > 0 && E - q90 < tstar) /* some t below t* is accepted */
		L = E - q90 > 0 ? E - q90 : 0;
	else
		L = E - q95 > tstar ? E - q95 : tstar;
	if (L < 0)
		L = 0;
	if (E - L > *lo)
		*lo = E - L;
	if (U - E > *hi)
		*hi = U - E;
}

/* The seed of a block's simulation: its first cell's index, mixed. */
static uint64_t mc_seed(size_t base)
{
	uint64_t st = (uint64_t)base ^ 0x7469707374617431ULL; /* "tipstat1" */
	return mc_next(&st);
}

static double std_normal_cdf(double x)
{
	return 0.5 * erfc(-x / M_SQRT2);
}

/* The half-width m with P(|b + sd Z| <= m) = 0.90, Z standard normal. */
double dpcube_margin90(double b, double sd)
{
	if (!(sd > 1e-12))
		return fabs(b);
	double lo = 0, hi = fabs(b) + 4 * sd;
	for (int it = 0; it < 100 && hi - lo > 1e-12 * (1 + hi); it++) {
		double m = (lo + hi) / 2;
		double p = std_normal_cdf((m - b) / sd) - std_normal_cdf((-m - b) / sd);
		if (p < 0.90)
			lo = m;
		else
			hi = m;
	}
	return (lo + hi) / 2;
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
	double *var = calloc(nn, sizeof *var), *scr = malloc(DPCUBE_MC * sizeof *scr);
	/* one table's draws: [plug-in k][country][slot][draw], and the plug-ins */
	size_t nblk = DPCUBE_NPLUG * (nctry ? nctry : 1) * CUBE_NSLOTS;
	/* zeroed: an aggregate reads only the draws of countries estimated in
	 * this table (it is skipped otherwise), but a zero start makes that
	 * visible to the analyzer and harmless if it ever changed */
	float *sims = calloc(nblk * DPCUBE_MC, sizeof *sims);
	int64_t *plug = calloc(nblk, sizeof *plug);
	if (!out->status || !out->value || !out->moe_lo || !out->moe_hi || !out->raw || !var ||
	    !scr || !sims || !plug) {
		free(var);
		free(scr);
		free(sims);
		free(plug);
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
				double vr[CUBE_NSLOTS];
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
					free(scr);
					free(sims);
					free(plug);
					dpcube_result_free(out);
					return diag_fail(d, EX_DATAERR, "dpcube: the stored measurements do not "
					                 "match the cube (a measured cell has none)");
				}
				rep->n_measured += (size_t)pl.has_total;
				for (int j = 0; j < pl.np; j++)
					for (int k = 0; k < pl.p[j].size; k++)
						rep->n_measured += pl.p[j].avail[k];
				double sig2 = (double)num / (double)den;
				estimate_block(&pl, m, sig2, val, vr, have, NULL);
				size_t cs_ = (g - nagg) * CUBE_NSLOTS, part_ = nctry * CUBE_NSLOTS;
				for (int k = 0; k < DPCUBE_NPLUG; k++)
					block_sims(&pl, val, have, sig2, k, mc_seed(base) ^ (uint64_t)k,
					           sims + (k * part_ + cs_) * DPCUBE_MC, plug + k * part_ + cs_);
				for (int s = 0; s < CUBE_NSLOTS; s++) {
					cube_value v;
					cube_get(c, (int)g, per, (int)ind, s, &v);
					if (!have[s] || !v.avail)
						continue;
					size_t i = base + (size_t)s;
					out->status[i] = DPCUBE_NOISY;
					out->value[i] = val[s];
					var[i] = vr[s];
					out->moe_lo[i] = out->moe_hi[i] = 0;
					for (int k = 0; k < DPCUBE_NPLUG; k++) {
						const float *sk = sims + (k * part_ + cs_ + (size_t)s) * DPCUBE_MC;
						for (int r = 0; r < DPCUBE_MC; r++)
							scr[r] = sk[r];
						widen(val[s], plug[k * part_ + cs_ + (size_t)s], scr, sqrt(vr[s]),
						      &out->moe_lo[i], &out->moe_hi[i]);
					}
				}
			}
			/* aggregates: sums of their countries' estimates and draws */
			size_t part_ = nctry * CUBE_NSLOTS;
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
					double vs = 0;
					for (size_t cp = 0; cp < nctry; cp++)
						if (cube_contributes(c, (int)g, per, (int)ind, s, cp)) {
							size_t ci = cell_index(c, nagg + cp, pp, ind, s);
							sum += out->value[ci];
							vs += var[ci];
						}
					out->status[ai] = DPCUBE_NOISY;
					out->value[ai] = sum;
					var[ai] = vs;
					out->moe_lo[ai] = out->moe_hi[ai] = 0;
					for (int k = 0; k < DPCUBE_NPLUG; k++) {
						int64_t psum = 0;
						for (int r = 0; r < DPCUBE_MC; r++)
							scr[r] = 0;
						for (size_t cp = 0; cp < nctry; cp++) {
							if (!cube_contributes(c, (int)g, per, (int)ind, s, cp))
								continue;
							size_t q = k * part_ + cp * CUBE_NSLOTS + (size_t)s;
							const float *sk = sims + q * DPCUBE_MC;
							psum += plug[q];
							for (int r = 0; r < DPCUBE_MC; r++)
								scr[r] += sk[r];
						}
						widen(sum, psum, scr, sqrt(vs), &out->moe_lo[ai], &out->moe_hi[ai]);
					}
				}
		}
		yi++;
	}
	for (size_t i = 0; i < n; i++)
		rep->n_published += out->status[i] == DPCUBE_NOISY;
	free(var);
	free(scr);
	free(sims);
	free(plug);
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
