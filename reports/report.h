/* report (rep_): every report of a release in one call, for the
 * `tipstat report` command.
 *
 * Writes into outdir (created, one level, when missing), each file
 * atomically:
 *   tidy.csv     UNODC-style long table with status columns (tidy.h)
 *   sdmx.csv     SDMX-CSV (sdmx.h)
 *   dsd.json     the data structure definition of sdmx.csv (sdmx.h)
 *   report.html  the self-contained HTML report (html.h)
 * All four are rendered in memory first: when any rendering fails nothing
 * is written.  Reports read only the release (plus the public codelists
 * and population), never the cube.
 */
#ifndef TIPSTAT_REPORT_H
#define TIPSTAT_REPORT_H

#include "aggregator/population.h"
#include "core/codelist.h"
#include "core/diag.h"
#include "privacy/release.h"

/* pop may be NULL (no rate rows). */
int rep_write_all(const rel_table *rel, const codelists *cl, const pop_table *pop,
                  const char *outdir, diag *d);

#endif
