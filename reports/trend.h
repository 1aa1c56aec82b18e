/* trend (rep_trend_): the comparable panel and its trend, computed only
 * from released values (post-processing, so it costs no privacy).
 *
 * Over a window of years [y0, y1], the panel of an aggregate (M49 code,
 * "001" = world) is the set of its countries whose annual TOTAL for the
 * indicator is published as a single number in EVERY year of the window:
 * status free with an exact value, or noisy.  Free intervals (censored),
 * suppressed, missing and partial years (flag p: fewer than four quarters)
 * leave a country out, because a changing membership or a part-year would
 * make the years incomparable.  For each year the panel total is the sum of
 * the members' values; its margin of error combines the members' noisy
 * MOEs in quadrature (independent noise).
 *
 *   change  = 100 * (T_y1 - T_y0) / T_y0           (NaN when T_y0 <= 0)
 *   OLS of T on x = year - y0 with gsl_fit_linear:
 *   slope, its standard error SE = sqrt(s^2 / Sxx), s^2 = SSE / (n - 2),
 *   CI95 = slope +- t(0.975, n - 2) * SE            (gsl_cdf_tdist_Pinv)
 *   intercept (fitted total at y0), slope as % of the mean total.
 *
 * SE and CI need at least 3 years (NaN otherwise); with no member the
 * trend is not available (ok = 0).  The noise of noisy members is not
 * propagated into SE (it is part of the residual variance).
 *
 * Ownership: rep_trend is caller-owned; rep_trend_free() releases members.
 */
#ifndef TIPSTAT_TREND_H
#define TIPSTAT_TREND_H

#include <stddef.h>
#include "core/codelist.h"
#include "core/diag.h"
#include "privacy/release.h"

#define REP_TREND_MAXY 64

typedef struct rep_trend {
	int ok;                     /* 1: at least one member */
	int indicator;
	char geo[4];
	int y0, y1, n_years;
	char (*members)[4];         /* ISO alpha-3 of the members, codelist order */
	size_t n_members;
	size_t n_noisy;             /* member-years that were noisy */
	double total[REP_TREND_MAXY];   /* panel total per year (index year - y0) */
	double moe[REP_TREND_MAXY];     /* its 90% margin of error (0 if all free) */
	double change_pct;
	double slope, se, ci_lo, ci_hi, intercept, mean, slope_pct;
} rep_trend;

/* First and last year with an annual row in the release; -1 when none. */
int rep_trend_years(const rel_table *rel, int *y0, int *y1);
/* Compute the panel and trend.  EX_USAGE for a bad window (y1 < y0 or
 * more than REP_TREND_MAXY years) or geo not an aggregate of the
 * codelists; an empty panel is not an error (ok = 0). */
int rep_trend_compute(const rel_table *rel, const codelists *cl, int indicator,
                      const char *geo, int y0, int y1, rep_trend *out, diag *d);
void rep_trend_free(rep_trend *t);

#endif
