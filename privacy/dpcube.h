/* dpcube: a differentially private release of the cube's annual tables.
 *
 * What is measured.  For every country, year and indicator, a person (a
 * victim, a suspect, ...) is counted once in the total and once in each
 * breakdown family that partitions it.  The mechanism measures, with
 * discrete Gaussian noise, the country's TOTAL and a set of partitions:
 * SEXAGE (12 cells) when the country reported it -- SEX, AGE and GROUP are
 * then its sums -- otherwise SEX, AGE and GROUP as far as reported; FORM
 * and CIT.  With k measured partitions (the total included) one person
 * changes k cells by one each: L2 sensitivity sqrt(k), so the country's
 * noise has sigma^2 = k / (2 rho_table) and every table costs exactly
 * rho_table in zero-concentrated DP, whatever k a country has.
 *
 * The split.  The release's budget rho is split equally over the
 * (indicator, year) tables: rho_table = rho / n_tables (in whole nano-rho,
 * see dpcube_table, so that the recorded split adds up exactly).  A person can
 * appear in several tables (a trafficker prosecuted in one year and
 * convicted the next), and zCDP composes by addition, so a person in every
 * table still loses at most rho.  Aggregates (subregion, region, world)
 * are not measured: they are sums of the country estimates, which is
 * post-processing and costs nothing, and keeps every level consistent.
 * Quarters are not published (not available in the release).
 *
 * Censored inputs: a country's interval [lo, hi] is measured at its
 * midpoint (lo when unbounded): any function of the data may be measured,
 * and the interval itself was published by the country.
 *
 * Post-processing, per country and table: the weighted least-squares
 * estimate under "every complete, additive partition sums to the total"
 * (closed form for a total with several partitions: the total is the
 * precision-weighted mean of its own measurement and the partitions' sums;
 * each partition's residual is spread equally over its cells), then
 * non-negative integers with the same sums: the total rounded and clamped
 * at 0, each partition projected onto {x >= 0, sum = total} and rounded by
 * largest remainders.  The estimates are exact integers that add up at
 * every level.
 *
 * Margins of error: 90% intervals [value - moe_lo, value + moe_hi], not
 * symmetric in general.  Clamping at 0 and the projection of each
 * partition make the released integers non-linear in the noise (a true 0
 * is released as exactly 0 about 60% of the time, cells near 0 are pushed
 * up, the large cells of a partition with many empty ones down), by an
 * amount that depends on the unknown truth of the other cells.  So the
 * intervals are a Neyman construction on the linear WLS estimate before
 * clamping and rounding, whose error is a known linear combination of the
 * noise (normal in shape, variance in closed form) whatever the truth: the
 * acceptance region of a truth t is central, [t - z95 s, t + z95 s], from
 * t = z95 s up, and one-sided, below t + z90 s, under it, so a true 0 is
 * covered when its linear estimate is below z90 s, 90% of the time, and no
 * interval is empty.  The interval is then widened, if need be, to hold the
 * released value (dpcube.c says why and what it costs).  An aggregate's
 * linear estimate and variance are the sums of its countries'.
 * tests/unit/test_dpcube.c measures the coverage, overall and by group of
 * the true count, at three noise levels and two seed bases
 * (docs/reports.md has the table): 0.902-0.906 overall, 0.887-0.911 by
 * group.  A pure function of the measurements: a re-issue is identical.
 *
 * Noise comes from a caller's function (the privacy sampler, or a test's),
 * so that this module holds no randomness and the same measurements always
 * give the same release: dpcube_measure draws, dpcube_estimate is pure.
 *
 * Ownership: a dpcube_result owns its arrays (dpcube_result_free).
 */
#ifndef TIPSTAT_DPCUBE_H
#define TIPSTAT_DPCUBE_H

#include <stddef.h>
#include <stdint.h>
#include "aggregator/cube.h"
#include "core/diag.h"

/* Draw one discrete Gaussian sample with variance num/den into *out. */
typedef int (*dpcube_noise_fn)(void *ctx, uint64_t sigma2_num, uint64_t sigma2_den,
                               int64_t *out, diag *d);

#define DPCUBE_NONE INT64_MIN     /* "not measured" in a measurement array */

enum dpcube_status { DPCUBE_NA = 0, DPCUBE_NOISY = 1 };

typedef struct dpcube_report {
	size_t n_tables;          /* (indicator, year) tables */
	size_t n_measured;        /* noisy measurements drawn */
	size_t n_published;       /* cells published (noisy) */
	uint64_t rho_nano;        /* the release's budget, in 1e-9 rho */
	double rho_table;         /* rho / n_tables */
	unsigned max_partitions;  /* largest k (sensitivity^2) of a country */
} dpcube_report;

typedef struct dpcube_result {
	size_t n;                 /* cells in cube_next order */
	uint8_t *status;          /* enum dpcube_status */
	int64_t *value;           /* estimate (status NOISY), else 0 */
	double *moe_lo, *moe_hi;  /* its 90% interval: [value - moe_lo, value + moe_hi] */
	int64_t *raw;             /* measurement of a country cell, DPCUBE_NONE if none */
	dpcube_report report;
} dpcube_result;

/* Draw the measurements of every country cell the mechanism measures
 * into a new array of cube_n_cells entries (cube_next order; DPCUBE_NONE
 * elsewhere), malloc'd, the caller frees.  rho_nano >= n_tables. */
int dpcube_measure(const cube *c, uint64_t rho_nano, dpcube_noise_fn noise, void *ctx,
                   int64_t **raw, size_t *n, diag *d);

/* Post-process measurements (from dpcube_measure, or stored ones: a
 * re-run never draws again) into the release's values and margins. */
int dpcube_estimate(const cube *c, uint64_t rho_nano, const int64_t *raw, size_t n,
                    dpcube_result *out, diag *d);

void dpcube_result_free(dpcube_result *r);

/* Number of cells of the cube in cube_next order. */
size_t dpcube_n_cells(const cube *c);

/* The split: table t (0 .. n_tables-1; year-major, indicator-minor) gets
 * rho_nano / n_tables nano-rho, the first rho_nano % n_tables tables one
 * more, so the shares add up to rho exactly.  -1 when t is out of range. */
int dpcube_table(const cube *c, uint64_t rho_nano, size_t t, int *indicator, int *year,
                 uint64_t *table_nano);

/* sigma^2 = num/den of a country measuring k partitions in a table whose
 * share is table_nano: k / (2 rho_table) = k * 1e9 / (2 table_nano). */
void dpcube_sigma2(unsigned k, uint64_t table_nano, uint64_t *num, uint64_t *den);

#endif
