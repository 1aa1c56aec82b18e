/* population (pop_): total population by country and year, the
 * denominator of every rate (aggregator/measures.h).
 *
 * Read from datasets/reference/population.csv, a CSV with the header
 * iso3,year,population (columns found by name, any order).  Countries are
 * matched by exact ISO alpha-3 code against the codelists (no alias
 * lookup: the reference file is project data in the standard's codes).
 * A missing value is missing, never zero: pop_get() returns -1 for a
 * country/year the file does not give, or gives with an empty population.
 *
 * Errors (all positioned, the whole file is checked in one pass; then
 * -1 with EX_DATAERR): a year outside 1900..2100, a population that is
 * not a whole number >= 0, the same country and year twice.  A code that
 * is not a country of the codelists is a warning and the row is skipped
 * (the reference may cover more areas than the codelists).
 *
 * Ownership: pop_load()/pop_load_mem() fill a caller-owned pop_table;
 * pop_free() releases its array.  The table does not refer to the
 * codelists after loading.
 */
#ifndef TIPSTAT_POPULATION_H
#define TIPSTAT_POPULATION_H

#include <stddef.h>
#include <stdint.h>
#include "core/codelist.h"
#include "core/diag.h"

typedef struct pop_table {
	size_t n_countries;   /* = codelists.n_countries at load time */
	int year0, n_years;   /* years year0 .. year0 + n_years - 1 */
	int64_t *v;           /* [country * n_years + year - year0]; -1 missing */
} pop_table;

int pop_load(const char *path, const codelists *cl, pop_table *p, diag *d);
/* The same from memory (name is used in diagnostics). */
int pop_load_mem(const void *buf, size_t len, const char *name,
                 const codelists *cl, pop_table *p, diag *d);
/* Population of a country (codelist index) in a year, or -1 if missing. */
int64_t pop_get(const pop_table *p, int country, int year);
void pop_free(pop_table *p);

#endif
