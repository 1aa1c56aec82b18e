/* measures (meas_): comparable measures computed from a finished cube and
 * the population table: what a global report prints beside the counts.
 *
 *  - rates per 100,000 population, at every geography level; for an
 *    aggregate, numerator and denominator run over the same countries:
 *    those that reported the value and have a population figure;
 *  - shares of the categories of a breakdown (percent), computed over the
 *    known categories only, with the unknown category's share of all
 *    categories reported beside them;
 *  - coverage of a regional figure: countries reporting / countries of the
 *    region in the codelists, and the share of the region's population
 *    they hold;
 *  - the comparable panel: countries with a complete year (available, not
 *    partial) for every year of a window, panel totals per year and
 *    geography, % change between two years and a linear trend (OLS slope,
 *    standard error, 95% confidence interval, with GSL).
 *
 * Intervals: counts are intervals (aggregator/cube.h).  Rates, shares and
 * changes are returned as intervals [lo, hi] that contain every value the
 * true counts could give (INFINITY for an unbounded side); for exact counts
 * lo == hi.  The trend is fitted on the panel totals, using the interval's
 * midpoint for a censored total (flag c); an unbounded total makes the
 * trend unavailable.
 *
 * Formulas are in docs/cube.md.  Every function returns 0 with
 * out->avail = 0 when the measure is not available (no value, zero
 * denominator, too few years) and -1 (diag filled) for a bad call: an
 * unfinished cube, coordinates not in the cube, a bad family or window.
 *
 * Ownership: the cube and population table are only read.  meas_panel
 * owns its country array (meas_panel_free).
 */
#ifndef TIPSTAT_MEASURES_H
#define TIPSTAT_MEASURES_H

#include <stddef.h>
#include <stdint.h>
#include "aggregator/cube.h"
#include "aggregator/population.h"
#include "core/diag.h"

#define MEAS_PER 100000.0   /* rates per 100,000 population */
#define MEAS_CI_LEVEL 0.95  /* confidence level of the trend's interval */

/* --- rates ------------------------------------------------------------------ */

typedef struct meas_rate {
	int avail;
	double lo, hi;          /* per 100,000; hi = INFINITY when unbounded */
	int64_t num_lo, num_hi; /* numerator (hi < 0: unbounded) */
	double population;      /* denominator */
	uint32_t n_countries;   /* countries in numerator and denominator */
	uint32_t n_no_pop;      /* reporting countries left out: no population */
	unsigned flags;         /* cube flags of the numerator */
} meas_rate;

/* Rate of one cube cell; the population is that of the period's year. */
int meas_rate_get(const cube *c, const pop_table *p, int geo, int period,
                  int indicator, int slot, meas_rate *out, diag *d);

/* --- shares ----------------------------------------------------------------- */

#define MEAS_MAX_CAT 10

typedef struct meas_share {
	int avail;
	int family;                    /* enum cube_family */
	int n_known;                   /* known categories */
	int slot[MEAS_MAX_CAT];        /* their slots */
	double lo[MEAS_MAX_CAT], hi[MEAS_MAX_CAT]; /* % of the known total */
	int unknown_slot;
	double unknown_lo, unknown_hi; /* % of unknown among all categories */
	int64_t known_lo, known_hi;    /* sum of the known categories */
	uint32_t n_countries;          /* countries behind the breakdown */
	unsigned flags;                /* cube flags of the breakdown */
} meas_share;

/* Shares of a breakdown family: CUBE_FAM_SEX (known F M O, unknown U),
 * CUBE_FAM_AGE (minor adult / U), CUBE_FAM_GROUP (women men girls boys /
 * unknown), CUBE_FAM_FORM (9 forms / U), CUBE_FAM_CIT (4 classes /
 * unknown).  Not available when the breakdown is not, or no person is
 * in a known category. */
int meas_shares(const cube *c, int geo, int period, int indicator, int family,
                meas_share *out, diag *d);

/* --- coverage --------------------------------------------------------------- */

typedef struct meas_coverage {
	uint32_t n_reporting;    /* countries with the value */
	uint32_t n_countries;    /* countries of the geography (codelists) */
	double pop_reporting;    /* population of the reporting countries with a figure */
	double pop_total;        /* population of the geography's countries with a figure */
	double pop_share;        /* 100 * pop_reporting / pop_total; NAN if pop_total == 0 */
	uint32_t n_no_pop;       /* countries of the geography without a figure */
	uint32_t n_reporting_no_pop; /* of them, reporting */
} meas_coverage;

int meas_coverage_get(const cube *c, const pop_table *p, int geo, int period,
                      int indicator, int slot, meas_coverage *out, diag *d);

/* --- the comparable panel --------------------------------------------------- */

typedef struct meas_panel {
	int indicator, y0, y1;
	size_t n;                /* member countries */
	int *countries;          /* codelist indices, ascending */
} meas_panel;

/* Countries whose annual total of the indicator is available and not
 * partial for every year y0..y1. */
int meas_panel_build(const cube *c, int indicator, int y0, int y1,
                     meas_panel *out, diag *d);
void meas_panel_free(meas_panel *pn);
int meas_panel_has(const meas_panel *pn, int country);

/* Sum of the slot's annual value over the panel members in geo (a
 * country: itself if a member).  out->n_countries = members contributing;
 * not available when none does. */
int meas_panel_total(const cube *c, const meas_panel *pn, int geo, int year,
                     int slot, cube_value *out, diag *d);

typedef struct meas_change {
	int avail;
	double pct;              /* % change; from midpoints when censored; NAN if unbounded */
	double lo, hi;           /* interval of the % change (INFINITY when unbounded) */
	cube_value a, b;         /* panel totals of the two years */
	unsigned flags;
} meas_change;

/* % change of the panel total from year ya to year yb (both in the
 * panel's window): 100 * (T_yb - T_ya) / T_ya. */
int meas_pct_change(const cube *c, const meas_panel *pn, int geo, int slot,
                    int ya, int yb, meas_change *out, diag *d);

typedef struct meas_trend {
	int avail;
	int n;                   /* years (points) */
	double slope;            /* change of the panel total per year */
	double se;               /* standard error of the slope */
	double ci_lo, ci_hi;     /* slope -/+ t * se */
	double t_crit;           /* Student t quantile (1+level)/2, n-2 df */
	double intercept;        /* fitted total at year y0 */
	double mean;             /* mean panel total over the window */
	double slope_pct;        /* 100 * slope / mean: average change in % of the level */
	unsigned flags;          /* cube flags of the totals */
} meas_trend;

/* OLS line through (year, panel total) for y0..y1 (needs >= 3 years). */
int meas_trend_fit(const cube *c, const meas_panel *pn, int geo, int slot,
                   meas_trend *out, diag *d);

#endif
