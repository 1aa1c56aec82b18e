/* recrel: record-level releases under k-anonymity.
 *
 * Reads the case-level records of the latest submissions from the
 * warehouse, generalises the quasi-identifiers along the hierarchies of
 * the data standard and suppresses the few records left in small classes
 * (privacy/kanon.h), and writes the published records.  This is the way
 * the Counter Trafficking Data Collaborative publishes case records
 * (k = 11 by default).
 *
 * Quasi-identifiers and their hierarchies (built from the codelists):
 *   country      country -> subregion -> region -> world
 *   period       quarter -> year -> all years of the release
 *   sex          sex -> any
 *   age          band (when the office gave one) -> 0-17 / 18+ -> any
 *   citizenship  country -> subregion -> region -> any (unknown stays
 *                unknown until "any")
 *   form         form -> any   (or the sensitive attribute for l-diversity)
 * What is NEVER published: the case key (the keyed pseudonym), the source
 * line, the submission.  A person reported in several submissions (same
 * key, country and indicator) is one record, at their first appearance.
 * Published rows are sorted, so their order says nothing about input order.
 *
 * Ownership: recrel_result owns its arrays (recrel_result_free).
 */
#ifndef TIPSTAT_RECREL_H
#define TIPSTAT_RECREL_H

#include <stddef.h>
#include <stdint.h>
#include "aggregator/warehouse.h"
#include "core/codelist.h"
#include "core/diag.h"
#include "privacy/kanon.h"

enum recrel_qi { RQ_COUNTRY, RQ_PERIOD, RQ_SEX, RQ_AGE, RQ_CIT, RQ_FORM, RQ_N };

typedef struct recrel_params {
	unsigned k;                /* default 11 */
	unsigned l;                /* 0/1 none; else l-diversity on the form */
	double max_suppress_pct;   /* at most this % of records suppressed (default 2) */
	int indicator;             /* codelist index of the indicator (VIC, ...) */
	int64_t as_of_seq;         /* warehouse state (0 = now) */
} recrel_params;

void recrel_params_default(recrel_params *p);

typedef struct recrel_result {
	size_t n_records;          /* distinct persons read */
	size_t n_duplicates;       /* re-reports of a key, not counted again */
	uint32_t *qi;              /* n_records x RQ_N base values */
	int n_qi;                  /* 5 (form sensitive) or 6 */
	kanon_result k;            /* levels, keep flags, utility */
	kanon_hier hier[RQ_N];
	/* storage for the hierarchies and labels (internal) */
	void *store;
} recrel_result;

/* Read, generalise and suppress.  Refuses (EX_NOPERM) when no
 * generalisation reaches k within the suppression cap. */
int recrel_build(wh *w, const codelists *cl, const recrel_params *p, recrel_result *out,
                 diag *d);
/* Write the published records as CSV (atomically):
 * indicator,country,period,sex,age,citizenship,form
 * with the generalised values (labels such as "155" for a subregion M49
 * code, "2019-2024" for all years, "_T" for any). */
int recrel_write(const recrel_result *r, const codelists *cl, const recrel_params *p,
                 const char *path, diag *d);
/* A one-line description of the chosen generalisation, e.g.
 * "country=subregion period=year sex=sex age=group citizenship=region form=form". */
void recrel_describe(const recrel_result *r, char *buf, size_t size);
void recrel_result_free(recrel_result *r);

#endif
