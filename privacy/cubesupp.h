/* cubesupp: cell suppression of the aggregation cube (aggregator/cube.h).
 *
 * The cube is published as linked tables: for every indicator and year,
 * geography (countries, subregions, regions, world) x period (the year
 * and its quarters) x the 40 breakdown slots.  An attacker who knows how
 * the cube is built (docs/cube.md) knows every linear relation between
 * those cells, so each (indicator, year) becomes one sdc table
 * (privacy/sdc_table.h) holding every available cell and exactly the
 * relations that hold by construction:
 *
 *   - geography: an aggregate cell = the sum of the country cells that
 *     contribute to it (cube_contributes), per period and slot.  Region =
 *     sum of subregions etc. follow from these;
 *   - breakdown families, per country and period: TOTAL = sum of each
 *     family (SEXAGE, SEX, AGE, GROUP, FORM, CIT) when the whole family is
 *     available and the total is not flagged non-additive; SEX and AGE are
 *     the margins of SEXAGE; GROUP women/men/girls/boys equal their SEXAGE
 *     cells and GROUP unknown is the sum of the other eight.  Families of
 *     aggregates are not linked directly: their coverage can differ from
 *     the total's, and where it does not, the country relations imply them;
 *   - time, per country and slot: year = sum of its quarters when the
 *     year's interval is exactly the sum of the quarters' intervals (a
 *     year built from quarters; an annual submission that happens to
 *     match only makes the attacker stronger, i.e. the check stricter).
 *   A relation is added only if the published intervals can satisfy it,
 *   so a country's inconsistent report never breaks the table.
 *
 * Cells not available are not in the table.  Unbounded intervals
 * (CUBE_UNBOUNDED) get the bound CUBESUPP_BIG.  A country cell flagged
 * censored (c) is a public interval (SDCT_F_PUBLIC_BOUNDS): the country
 * published it, so the attacker knows it even where we suppress.
 *
 * Then, per table: primary suppression (supp_primary: threshold default
 * 5, zeros published by default), secondary suppression (supp_secondary)
 * and the audit (sdca_run); any audit failure fails the whole call with
 * EX_NOPERM.
 *
 * Ownership: the result owns its arrays; cubesupp_result_free releases
 * them.  cubesupp_table gives one table and its cell -> cube index map,
 * both owned by the caller (sdct_free, free), for inspection and tests.
 */
#ifndef TIPSTAT_CUBESUPP_H
#define TIPSTAT_CUBESUPP_H

#include <stddef.h>
#include <stdint.h>
#include "aggregator/cube.h"
#include "core/diag.h"
#include "privacy/audit.h"
#include "privacy/sdc_table.h"
#include "privacy/suppress.h"

#define CUBESUPP_BIG SDCT_HUGE /* stands for "no upper bound" */

enum cubesupp_status {
	CUBESUPP_PUBLISHED = 0,
	CUBESUPP_PRIMARY = 1,
	CUBESUPP_SECONDARY = 2,
	CUBESUPP_NA = 3          /* not available: not published, not in any table */
};

typedef struct cubesupp_params {
	supp_params primary;     /* threshold 5, zeros published, levels 0/0/100 */
	supp_opts secondary;     /* supp_opts_default, but no_global = 1 */
	int audit_mode;          /* enum sdca_mode; default SDCA_EXACT */
	int quarters;            /* 1: publish quarters too; default 0 (years
	                            only: quarter cells become not available) */
	unsigned threads;        /* tables protected at once; default 2 */
	/* Called after each table with (tables done, tables in all), one call
	 * at a time (under a lock) from whichever thread finished; NULL = none. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
} cubesupp_params;

void cubesupp_params_default(cubesupp_params *p);

typedef struct cubesupp_report {
	size_t n_tables;         /* (indicator, year) tables */
	size_t n_cells;          /* available cells (in some table) */
	size_t n_na;             /* cells not available */
	size_t n_constraints;
	size_t n_primary, n_secondary;
	int64_t value_primary, value_secondary; /* sums of the cells' lower bounds */
	/* the narrowest attacker interval over all primary cells (audit) */
	size_t narrow_cell;      /* cube index, SIZE_MAX when no primary */
	double narrow_lo, narrow_hi;
	size_t n_lp;             /* simplex calls of the audits */
	size_t n_cut;            /* secondaries the clean-up had no time for */
	double seconds_build, seconds_suppress, seconds_audit;
} cubesupp_report;

typedef struct cubesupp_result {
	size_t n;                /* cells visited by cube_next */
	uint8_t *status;         /* enum cubesupp_status, in cube_next order */
	/* Per cell: suppressed -> the audit's attacker interval (exact LP
	 * bounds in SDCA_EXACT mode; HUGE_VAL when unbounded); published ->
	 * the published interval (HUGE_VAL when unbounded); NA -> NAN. */
	double *audit_lo, *audit_hi;
	cubesupp_report report;
} cubesupp_result;

/* Protect every (indicator, year) table of a finished cube.  p may be
 * NULL (defaults).  On failure nothing is left allocated in *out. */
int cubesupp_protect(const cube *c, const cubesupp_params *p, cubesupp_result *out, diag *d);
void cubesupp_result_free(cubesupp_result *r);

/* Index of a cell in cube_next order (geo position, period position,
 * indicator, slot), or SIZE_MAX when the period is not in the cube. */
size_t cubesupp_index(const cube *c, int geo_pos, int period, int indicator, int slot);

/* Build (finalized, statuses all published) the table of one indicator
 * and year; *cube_idx (n_cells entries, malloc'd) maps its cells to cube
 * indices.  Fails with EX_DATAERR when the year is not in the cube. */
int cubesupp_table(const cube *c, int indicator, int year, int quarters, sdct_table *t,
                   size_t **cube_idx, diag *d);

#endif
