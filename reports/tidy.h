/* tidy (rep_tidy_): the release as a tidy CSV in the columns of UNODC's
 * published long data, plus the columns that say how each value was
 * protected.
 *
 *   Iso3_code,Country,Region,Subregion,Indicator,Dimension,Category,Sex,
 *   Age,Year,Unit of measurement,VALUE,Status,Flags,Lower,Upper,MOE,Countries
 *
 * One row per release row (except the UNODC group slots, which repeat the
 * sex x age cells), in release order, with Unit "Counts"; then for each
 * free or noisy annual TOTAL whose population is known a second row with
 * Unit "Rate per 100,000 population".  An aggregate's rate needs every
 * contributing country's population: the contributors are the release's
 * country TOTAL rows of that aggregate that are not missing, and the rate
 * is given only when their number equals the aggregate's Countries.
 *
 * Aggregates (world, regions, subregions) have an empty Iso3_code and their
 * name in Country.  Year is the period ("2021", or "2021-Q3" for a
 * quarter).  A suppressed or missing cell has VALUE, Lower, Upper and MOE
 * empty and Status primary / secondary / missing; a free interval has VALUE
 * empty and Lower / Upper (Upper empty = unbounded); a noisy cell has VALUE
 * and its 90% interval in Lower / Upper (decimals: value - moe_lo and
 * value + moe_hi of the release; not symmetric in general, privacy/dpcube.h),
 * with MOE the margin only when the interval is symmetric.  Everything is
 * post-processing of the release: no number that the release does not
 * publish can appear here.
 *
 * docs/reports.md lists every label.  Ownership: the caller owns the
 * release, codelists, population and buffer.
 */
#ifndef TIPSTAT_TIDY_H
#define TIPSTAT_TIDY_H

#include "aggregator/population.h"
#include "core/codelist.h"
#include "core/diag.h"
#include "privacy/release.h"
#include "reports/rbuf.h"

#define REP_TIDY_HEADER "Iso3_code,Country,Region,Subregion,Indicator,Dimension,Category," \
	"Sex,Age,Year,Unit of measurement,VALUE,Status,Flags,Lower,Upper,MOE,Countries"

/* Append the tidy CSV (header included) to out.  pop may be NULL (no rate
 * rows).  A geography missing from the codelists is an error
 * (EX_DATAERR). */
int rep_tidy_render(const rel_table *rel, const codelists *cl, const pop_table *pop,
                    strbuf *out, diag *d);
/* Render and write atomically to path. */
int rep_tidy_write(const rel_table *rel, const codelists *cl, const pop_table *pop,
                   const char *path, diag *d);

#endif
