/* measures: see measures.h; formulas in docs/cube.md.
 *
 * Aggregate rates and coverage are recomputed from the country cells of
 * the cube (through its coverage) rather than from the aggregate value, so
 * that numerator and denominator always run over the same countries.
 */
#include "aggregator/measures.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_fit.h>
#include "core/period.h"

static int check_cube(const cube *c, diag *d)
{
	if (!cube_finished(c))
		return diag_fail(d, EX_SOFTWARE, "measures: the cube is not finished");
	return 0;
}

static int get_cell(const cube *c, int geo, int period, int ind, int slot,
                    cube_value *v, diag *d)
{
	if (cube_get(c, geo, period, ind, slot, v) != 0) {
		char pb[16] = "?";
		if (period >= 0)
			period_format(period, pb);
		return diag_fail(d, EX_USAGE, "measures: no cell geo=%d period=%s indicator=%d slot=%d",
		                 geo, pb, ind, slot);
	}
	return 0;
}

/* Does country (codelist index) belong to geography g? */
static int in_geo(const codelists *cl, cube_geo g, int country)
{
	const cl_country *ct = &cl->countries[country];
	switch (g.kind) {
	case CUBE_GEO_WORLD: return 1;
	case CUBE_GEO_REGION: return ct->region == g.index;
	case CUBE_GEO_SUBREGION: return ct->subregion == g.index;
	case CUBE_GEO_COUNTRY: return country == g.index;
	default: return 0;
	}
}

static int country_geo(const cube *c, size_t cpos)
{
	return cube_geo_find(c, CUBE_GEO_COUNTRY, cube_country_at(c, cpos));
}

/* x / (x + rest) in percent, the smallest (x at its lowest, rest at its
 * highest) and the largest; hi < 0 means unbounded. */
static double share_lo(int64_t xlo, int64_t rest_hi)
{
	if (xlo == 0 || rest_hi < 0)
		return 0.0;
	return 100.0 * (double)xlo / ((double)xlo + (double)rest_hi);
}

static double share_hi(int64_t xhi, int64_t rest_lo)
{
	if (xhi < 0)
		return 100.0;
	if (xhi == 0)
		return 0.0;
	return 100.0 * (double)xhi / ((double)xhi + (double)rest_lo);
}

/* --- rates ------------------------------------------------------------------- */

int meas_rate_get(const cube *c, const pop_table *p, int geo, int period,
                  int indicator, int slot, meas_rate *out, diag *d)
{
	memset(out, 0, sizeof *out);
	cube_value v;
	if (check_cube(c, d) != 0 || get_cell(c, geo, period, indicator, slot, &v, d) != 0)
		return -1;
	if (!v.avail)
		return 0;
	int year = period_year(period);
	size_t nc = cube_n_countries(c);
	for (size_t j = 0; j < nc; j++) {
		if (!cube_contributes(c, geo, period, indicator, slot, j))
			continue;
		int country = cube_country_at(c, j);
		int64_t pop = pop_get(p, country, year);
		if (pop <= 0) {
			out->n_no_pop++;
			continue;
		}
		cube_value cv;
		if (get_cell(c, country_geo(c, j), period, indicator, slot, &cv, d) != 0)
			return -1;
		out->num_lo += cv.lo;
		out->num_hi = (out->num_hi < 0 || cv.hi < 0) ? -1 : out->num_hi + cv.hi;
		out->population += (double)pop;
		out->flags |= cv.flags;
		out->n_countries++;
	}
	if (out->n_countries == 0)
		return 0;
	out->avail = 1;
	out->lo = MEAS_PER * (double)out->num_lo / out->population;
	out->hi = out->num_hi < 0 ? INFINITY : MEAS_PER * (double)out->num_hi / out->population;
	return 0;
}

/* --- shares ------------------------------------------------------------------- */

int meas_shares(const cube *c, int geo, int period, int indicator, int family,
                meas_share *out, diag *d)
{
	memset(out, 0, sizeof *out);
	out->family = family;
	if (check_cube(c, d) != 0)
		return -1;
	if (family != CUBE_FAM_SEX && family != CUBE_FAM_AGE && family != CUBE_FAM_GROUP &&
	    family != CUBE_FAM_FORM && family != CUBE_FAM_CIT)
		return diag_fail(d, EX_USAGE, "measures: no shares for breakdown family %d", family);
	int first = cube_family_first(family), size = cube_family_size(family);
	/* in every family with shares the unknown category is the last slot */
	cube_value v[MEAS_MAX_CAT];
	for (int k = 0; k < size; k++)
		if (get_cell(c, geo, period, indicator, first + k, &v[k], d) != 0)
			return -1;
	out->n_known = size - 1;
	out->unknown_slot = first + size - 1;
	for (int k = 0; k < size; k++) {
		if (!v[k].avail)
			return 0; /* breakdowns are available as a whole */
		out->flags |= v[k].flags;
		if (v[k].n_countries > out->n_countries)
			out->n_countries = v[k].n_countries;
	}
	int64_t klo = 0, khi = 0;
	for (int k = 0; k < size - 1; k++) {
		out->slot[k] = first + k;
		klo += v[k].lo;
		khi = (khi < 0 || v[k].hi < 0) ? -1 : khi + v[k].hi;
	}
	out->known_lo = klo;
	out->known_hi = khi;
	if (khi == 0)
		return 0; /* nobody in a known category */
	for (int k = 0; k < size - 1; k++) {
		/* the other known categories */
		int64_t rlo = klo - v[k].lo, rhi = 0;
		for (int o = 0; o < size - 1; o++)
			if (o != k)
				rhi = (rhi < 0 || v[o].hi < 0) ? -1 : rhi + v[o].hi;
		out->lo[k] = share_lo(v[k].lo, rhi);
		out->hi[k] = share_hi(v[k].hi, rlo);
	}
	const cube_value *u = &v[size - 1];
	out->unknown_lo = share_lo(u->lo, khi);
	out->unknown_hi = share_hi(u->hi, klo);
	out->avail = 1;
	return 0;
}

/* --- coverage ----------------------------------------------------------------- */

int meas_coverage_get(const cube *c, const pop_table *p, int geo, int period,
                      int indicator, int slot, meas_coverage *out, diag *d)
{
	memset(out, 0, sizeof *out);
	cube_value v;
	if (check_cube(c, d) != 0 || get_cell(c, geo, period, indicator, slot, &v, d) != 0)
		return -1;
	const codelists *cl = cube_codelists(c);
	cube_geo g = cube_geo_at(c, (size_t)geo);
	int year = period_year(period);
	for (size_t i = 0; i < cl->n_countries; i++) {
		if (!in_geo(cl, g, (int)i))
			continue;
		out->n_countries++;
		int cp = cube_country_pos(c, (int)i);
		int rep = cp >= 0 && cube_contributes(c, geo, period, indicator, slot, (size_t)cp);
		int64_t pop = pop_get(p, (int)i, year);
		if (rep)
			out->n_reporting++;
		if (pop < 0) {
			out->n_no_pop++;
			out->n_reporting_no_pop += (uint32_t)rep;
			continue;
		}
		out->pop_total += (double)pop;
		if (rep)
			out->pop_reporting += (double)pop;
	}
	out->pop_share = out->pop_total > 0 ? 100.0 * out->pop_reporting / out->pop_total : NAN;
	return 0;
}

/* --- panel -------------------------------------------------------------------- */

void meas_panel_free(meas_panel *pn)
{
	free(pn->countries);
	memset(pn, 0, sizeof *pn);
}

int meas_panel_has(const meas_panel *pn, int country)
{
	size_t lo = 0, hi = pn->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (pn->countries[mid] < country)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < pn->n && pn->countries[lo] == country;
}

int meas_panel_build(const cube *c, int indicator, int y0, int y1,
                     meas_panel *out, diag *d)
{
	memset(out, 0, sizeof *out);
	if (check_cube(c, d) != 0)
		return -1;
	if (y0 > y1 || y0 < PERIOD_MIN_YEAR || y1 > PERIOD_MAX_YEAR)
		return diag_fail(d, EX_USAGE, "measures: bad panel window %d-%d", y0, y1);
	if (indicator < 0 || (size_t)indicator >= cube_n_indicators(c))
		return diag_fail(d, EX_USAGE, "measures: bad indicator %d", indicator);
	out->indicator = indicator;
	out->y0 = y0;
	out->y1 = y1;
	size_t nc = cube_n_countries(c);
	out->countries = malloc((nc ? nc : 1) * sizeof *out->countries);
	if (!out->countries)
		return diag_fail(d, EX_OSERR, "out of memory");
	for (size_t j = 0; j < nc; j++) {
		int g = country_geo(c, j), ok = 1;
		for (int y = y0; y <= y1 && ok; y++) {
			cube_value v;
			ok = cube_get(c, g, period_make(y, 0), indicator, CUBE_S_TOTAL, &v) == 0 &&
			     v.avail && !(v.flags & CUBE_F_PARTIAL);
		}
		if (ok)
			out->countries[out->n++] = cube_country_at(c, j);
	}
	return 0;
}

int meas_panel_total(const cube *c, const meas_panel *pn, int geo, int year,
                     int slot, cube_value *out, diag *d)
{
	memset(out, 0, sizeof *out);
	if (check_cube(c, d) != 0)
		return -1;
	if (year < pn->y0 || year > pn->y1)
		return diag_fail(d, EX_USAGE, "measures: year %d outside the panel window %d-%d",
		                 year, pn->y0, pn->y1);
	if (geo < 0 || (size_t)geo >= cube_n_geo(c) || slot < 0 || slot >= CUBE_NSLOTS)
		return diag_fail(d, EX_USAGE, "measures: bad geography %d or slot %d", geo, slot);
	const codelists *cl = cube_codelists(c);
	cube_geo g = cube_geo_at(c, (size_t)geo);
	for (size_t k = 0; k < pn->n; k++) {
		int country = pn->countries[k];
		if (!in_geo(cl, g, country))
			continue;
		cube_value v;
		int cg = cube_geo_find(c, CUBE_GEO_COUNTRY, country);
		if (get_cell(c, cg, period_make(year, 0), pn->indicator, slot, &v, d) != 0)
			return -1;
		if (!v.avail)
			continue;
		if (!out->avail)
			out->avail = 1;
		out->lo += v.lo;
		out->hi = (out->hi < 0 || v.hi < 0) ? CUBE_UNBOUNDED : out->hi + v.hi;
		out->flags |= v.flags;
		out->n_countries++;
	}
	return 0;
}

int meas_pct_change(const cube *c, const meas_panel *pn, int geo, int slot,
                    int ya, int yb, meas_change *out, diag *d)
{
	memset(out, 0, sizeof *out);
	if (meas_panel_total(c, pn, geo, ya, slot, &out->a, d) != 0 ||
	    meas_panel_total(c, pn, geo, yb, slot, &out->b, d) != 0)
		return -1;
	const cube_value *a = &out->a, *b = &out->b;
	out->flags = a->flags | b->flags;
	if (!a->avail || !b->avail || a->hi == 0)
		return 0; /* no base: the change is not defined */
	out->avail = 1;
	/* smallest: b at its lowest over a at its highest; largest: the reverse */
	out->lo = a->hi < 0 ? -100.0 : 100.0 * ((double)b->lo / (double)a->hi - 1.0);
	if (b->hi < 0 || a->lo == 0)
		out->hi = INFINITY;
	else
		out->hi = 100.0 * ((double)b->hi / (double)a->lo - 1.0);
	if (a->hi < 0 || b->hi < 0) {
		out->pct = NAN;
	} else {
		double ma = ((double)a->lo + (double)a->hi) / 2, mb = ((double)b->lo + (double)b->hi) / 2;
		out->pct = 100.0 * (mb - ma) / ma;
	}
	return 0;
}

int meas_trend_fit(const cube *c, const meas_panel *pn, int geo, int slot,
                   meas_trend *out, diag *d)
{
	memset(out, 0, sizeof *out);
	int n = pn->y1 - pn->y0 + 1;
	double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
	if (!x || !y) {
		free(x);
		free(y);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	int rc = 0, ok = 1;
	for (int k = 0; k < n; k++) {
		cube_value v;
		if (meas_panel_total(c, pn, geo, pn->y0 + k, slot, &v, d) != 0) {
			rc = -1;
			break;
		}
		out->flags |= v.flags;
		if (!v.avail || v.hi < 0) {
			ok = 0;
			continue;
		}
		x[k] = (double)k;             /* years since y0 */
		y[k] = ((double)v.lo + (double)v.hi) / 2;
	}
	out->n = n;
	if (rc == 0 && ok && n >= 3) {
		double c0, c1, cov00, cov01, cov11, sumsq;
		gsl_fit_linear(x, 1, y, 1, (size_t)n, &c0, &c1, &cov00, &cov01, &cov11, &sumsq);
		double mean = 0;
		for (int k = 0; k < n; k++)
			mean += y[k];
		mean /= n;
		out->avail = 1;
		out->slope = c1;
		out->intercept = c0;
		out->se = sqrt(cov11);
		out->t_crit = gsl_cdf_tdist_Pinv(0.5 + MEAS_CI_LEVEL / 2, (double)(n - 2));
		out->ci_lo = c1 - out->t_crit * out->se;
		out->ci_hi = c1 + out->t_crit * out->se;
		out->mean = mean;
		out->slope_pct = mean != 0 ? 100.0 * c1 / mean : NAN;
	}
	free(x);
	free(y);
	return rc;
}
