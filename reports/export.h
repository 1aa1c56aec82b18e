/* export (rep_export_): the researchers' download of a released table.
 *
 * `tipstat export RELEASE -o DIR` gives researchers what a release
 * publishes, in the two machine-readable forms of the reports (tidy.csv in
 * UNODC's long columns, sdmx.csv in SDMX-CSV with its dsd.json) and a
 * README.md that says how the release was protected (method, privacy
 * parameters, NOT PRIVATE banner when it is not private) and how to read
 * the Status / OBS_STATUS / CONF_STATUS values, the cube flags and the 90%
 * margins of error.  Everything is post-processing of the release: no
 * number that the release does not publish can appear (the writers read
 * the release only).
 *
 * Files are rendered in memory first and each written atomically; when a
 * rendering fails nothing is written.  DIR is created (one level).
 *
 * Ownership: the caller owns the release, codelists and population.
 */
#ifndef TIPSTAT_EXPORT_H
#define TIPSTAT_EXPORT_H

#include "aggregator/population.h"
#include "core/codelist.h"
#include "core/diag.h"
#include "privacy/release.h"
#include "reports/rbuf.h"

/* The README.md text for rel. */
int rep_export_readme(const rel_table *rel, strbuf *out, diag *d);
/* tidy.csv, sdmx.csv, dsd.json and README.md into outdir. pop may be NULL. */
int rep_export_write(const rel_table *rel, const codelists *cl, const pop_table *pop,
                     const char *outdir, diag *d);

#endif
