/* trend: see trend.h. */
#include "reports/trend.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_fit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "core/period.h"
#include "reports/labels.h"

int rep_trend_years(const rel_table *rel, int *y0, int *y1)
{
	*y0 = *y1 = -1;
	for (size_t i = 0; i < rel_n_rows(rel); i++) {
		const rel_row *r = rel_row_at(rel, i);
		if (period_quarter(r->period) != 0)
			continue;
		int y = period_year(r->period);
		if (*y0 < 0 || y < *y0)
			*y0 = y;
		if (y > *y1)
			*y1 = y;
	}
	return *y0 < 0 ? -1 : 0;
}

void rep_trend_free(rep_trend *t)
{
	free(t->members);
	t->members = NULL;
	t->n_members = 0;
}

/* The published number of a country-year, or 0 when it is not usable. */
static int usable(const rel_row *r)
{
	return r && !(r->flags & CUBE_F_PARTIAL) &&
	       ((r->status == REL_FREE && r->has_value) || r->status == REL_NOISY);
}

int rep_trend_compute(const rel_table *rel, const codelists *cl, int indicator,
                      const char *geo, int y0, int y1, rep_trend *t, diag *d)
{
	memset(t, 0, sizeof *t);
	t->indicator = indicator;
	t->y0 = y0;
	t->y1 = y1;
	t->change_pct = t->slope = t->se = t->ci_lo = t->ci_hi = t->intercept = t->mean =
		t->slope_pct = NAN;
	if (y1 < y0 || y1 - y0 + 1 > REP_TREND_MAXY)
		return diag_fail(d, EX_USAGE, "trend window %d-%d: need y0 <= y1, at most %d years",
		                 y0, y1, REP_TREND_MAXY);
	rep_geo_info g;
	int kind = strcmp(geo, "001") == 0 ? REL_GEO_WORLD : -1;
	if (kind < 0 && rep_geo_lookup(cl, REL_GEO_REGION, geo, &g) == 0)
		kind = REL_GEO_REGION;
	if (kind < 0 && rep_geo_lookup(cl, REL_GEO_SUBREGION, geo, &g) == 0)
		kind = REL_GEO_SUBREGION;
	if (kind < 0)
		return diag_fail(d, EX_USAGE, "trend: %.8s is not an aggregate of the codelists", geo);
	snprintf(t->geo, sizeof t->geo, "%s", geo);
	t->n_years = y1 - y0 + 1;
	t->members = malloc((cl->n_countries ? cl->n_countries : 1) * sizeof *t->members);
	if (!t->members)
		return diag_fail(d, EX_OSERR, "out of memory");
	double var[REP_TREND_MAXY] = {0};
	for (size_t c = 0; c < cl->n_countries; c++) {
		if (!rep_country_in(cl, (int)c, geo))
			continue;
		const char *iso = cl->countries[c].iso3;
		int all = 1;
		for (int y = y0; y <= y1 && all; y++)
			all = usable(rel_find(rel, iso, period_make(y, 0), indicator, CUBE_S_TOTAL));
		if (!all)
			continue;
		memcpy(t->members[t->n_members++], iso, 4);
		for (int y = y0; y <= y1; y++) {
			const rel_row *r = rel_find(rel, iso, period_make(y, 0), indicator, CUBE_S_TOTAL);
			t->total[y - y0] += (double)r->value;
			if (r->status == REL_NOISY) {
				t->n_noisy++;
				/* the member's interval as a symmetric margin: its
				 * half-width (an approximation when it is not symmetric) */
				double h = (r->moe_lo + r->moe_hi) / 2;
				var[y - y0] += h * h;
			}
		}
	}
	for (int i = 0; i < t->n_years; i++)
		t->moe[i] = sqrt(var[i]);
	if (!t->n_members)
		return 0;
	t->ok = 1;
	int n = t->n_years;
	if (t->total[0] > 0)
		t->change_pct = 100.0 * (t->total[n - 1] - t->total[0]) / t->total[0];
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += t->total[i];
	t->mean = sum / n;
	if (n < 2)
		return 0;
	double x[REP_TREND_MAXY], c0, c1, cov00, cov01, cov11, sumsq;
	for (int i = 0; i < n; i++)
		x[i] = i;
	gsl_fit_linear(x, 1, t->total, 1, (size_t)n, &c0, &c1, &cov00, &cov01, &cov11, &sumsq);
	t->intercept = c0;
	t->slope = c1;
	if (t->mean != 0)
		t->slope_pct = 100.0 * c1 / t->mean;
	if (n >= 3) {
		/* gsl's cov11 = s^2 / Sxx with s^2 = SSE / (n - 2) */
		t->se = sqrt(cov11);
		double q = gsl_cdf_tdist_Pinv(0.975, n - 2);
		t->ci_lo = c1 - q * t->se;
		t->ci_hi = c1 + q * t->se;
	}
	return 0;
}
