/* tabrel: the cube as a release table (privacy/release.h), with the
 * protection a table method decided for each cell.
 *
 * Every table release -- unprotected (aggregate -o), suppressed, noisy --
 * is the same walk over the cube in cube_next order: one row per cell, the
 * geography named by the codelists, the contributing submissions listed in
 * the metadata.  Only what the method decided differs, so it comes in as
 * per-cell arrays indexed in cube_next order (cubesupp_result.status uses
 * that order, see privacy/cubesupp.h).  Rows are built with
 * rel_row_from_cube and then rel_row_suppress / rel_row_noisy, so a
 * suppressed cell can never carry a number into the table.
 *
 * The caller sets the table's name, protection, params and audit (they
 * depend on the method); tabrel fills rows and submissions.
 *
 * Ownership: *t is the caller's (rel_init before; rel_free after, also on
 * failure).  The arrays are borrowed.
 */
#ifndef TIPSTAT_TABREL_H
#define TIPSTAT_TABREL_H

#include <stddef.h>
#include <stdint.h>
#include "aggregator/cube.h"
#include "aggregator/whcube.h"
#include "core/codelist.h"
#include "core/diag.h"
#include "privacy/release.h"

typedef struct tabrel_cells {
	size_t n;                 /* cells in cube_next order; must match the cube */
	/* Per cell, what to publish (enum rel_status):
	 *   REL_FREE       the cube's value, as counted
	 *   REL_PRIMARY,
	 *   REL_SECONDARY  suppressed: no number
	 *   REL_MISSING    not published at all (e.g. the quarters of an
	 *                  annual release): no number
	 *   REL_NOISY      noisy[i] with its 90% interval [noisy[i] - moe_lo[i],
	 *                  noisy[i] + moe_hi[i]] (all three required)
	 * Cells the cube does not have are missing whatever is given. */
	const uint8_t *status;
	const int64_t *noisy;     /* with REL_NOISY: the published value */
	const double *moe_lo;     /* with REL_NOISY: its 90% margins below and above */
	const double *moe_hi;
} tabrel_cells;

/* Append the cube's cells (and info's submissions) to t.  cells may be
 * NULL: every available cell is published as counted.  EX_SOFTWARE when
 * the arrays do not match the cube or a status is not one of the above. */
int tabrel_fill(const cube *c, const codelists *cl, const whcube_info *info,
                const tabrel_cells *cells, rel_table *t, diag *d);

#endif
