/* sdmx (rep_sdmx_): the release as SDMX-CSV (version 1 layout) and a small
 * data structure definition (dsd.json) describing it.
 *
 *   DATAFLOW,REF_AREA,TIME_PERIOD,INDICATOR,SEX,AGE,FORM,CITIZENSHIP_CLASS,
 *   UNIT_MEASURE,OBS_VALUE,OBS_STATUS,CONF_STATUS,LOWER_BOUND,UPPER_BOUND,
 *   MOE,COMMENT
 *
 * DATAFLOW is TIPSTAT:DF_TIP(1.0).  REF_AREA is the ISO alpha-3 code of a
 * country or the M49 code of an aggregate (001 world).  Dimension codes
 * come from the standard's codelists, "_T" = total (labels.h).  Status
 * codes follow the SDMX cross-domain codelists (docs/reports.md):
 *
 *   release status   OBS_VALUE   OBS_STATUS   CONF_STATUS
 *   free (exact)     value       A            F
 *   free (interval)  empty       A            F      LOWER/UPPER_BOUND set
 *   noisy            value       E            F      LOWER/UPPER_BOUND: the
 *                                                      90% interval; MOE set
 *                                                      when it is symmetric
 *   primary          empty       A            C
 *   secondary        empty       A            D
 *   missing          empty       L            F
 *
 * COMMENT carries the cube flags and contributing countries
 * ("flags=cp;countries=3").  The UNODC group slots are left out (they
 * repeat sex x age).  Counts only (UNIT_MEASURE PS); rates are in the tidy
 * file.
 */
#ifndef TIPSTAT_SDMX_H
#define TIPSTAT_SDMX_H

#include "core/diag.h"
#include "privacy/release.h"
#include "reports/rbuf.h"

#define REP_SDMX_DATAFLOW "TIPSTAT:DF_TIP(1.0)"
#define REP_SDMX_HEADER "DATAFLOW,REF_AREA,TIME_PERIOD,INDICATOR,SEX,AGE,FORM," \
	"CITIZENSHIP_CLASS,UNIT_MEASURE,OBS_VALUE,OBS_STATUS,CONF_STATUS,LOWER_BOUND," \
	"UPPER_BOUND,MOE,COMMENT"

int rep_sdmx_render(const rel_table *rel, strbuf *out, diag *d);
int rep_sdmx_write(const rel_table *rel, const char *path, diag *d);
/* The DSD as JSON: dataflow, dimensions with their codelists, the measure
 * and the attributes with their codelists. */
int rep_sdmx_render_dsd(strbuf *out, diag *d);
int rep_sdmx_write_dsd(const char *path, diag *d);

#endif
