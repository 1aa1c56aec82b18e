/* codelist: the public codelists of the data standard (docs/standard.md).
 *
 * Loaded once from a directory (datasets/codelists by default) and then
 * read-only, so every stage can share one instance without locking.  The
 * codelists define the domain of every table: a cell exists for every code,
 * whether or not any record has it, so the set of published keys never
 * reveals which categories occurred.
 *
 * Files (all CSV with a header, UTF-8):
 *   countries.csv        iso3,iso2,m49,name,region_code,subregion_code
 *   country_aliases.csv  alias,iso3     (extra accepted spellings)
 *   regions.csv          code,name,kind,parent   kind = world|region|subregion
 *   indicators.csv, sex.csv, forms.csv   code,label[,aliases]
 *   age.csv              code,label,parent,min_age,max_age[,aliases]
 *   (aliases: further accepted spellings separated by '|')
 *
 * Ownership: codelists_load() fills a caller-owned struct; codelists_free()
 * releases everything.  Indices returned by the lookups are stable for the
 * life of the struct.
 */
#ifndef TIPSTAT_CODELIST_H
#define TIPSTAT_CODELIST_H

#include <stddef.h>
#include "core/diag.h"

typedef struct cl_code {
	char *code;     /* standard code, e.g. "SEX" */
	char *label;    /* English label, e.g. "Sexual exploitation" */
	int parent;     /* index of the parent code in the same table, -1 none */
	int min_age, max_age; /* age.csv only: inclusive bounds, -1 if open/none */
} cl_code;

typedef struct cl_table {
	cl_code *codes;
	size_t n;
	struct cl_index *index; /* normalised code/label/alias -> position */
} cl_table;

typedef struct cl_country {
	char iso3[4], iso2[3], m49[4];
	char *name;       /* name used in reports (UNODC usage) */
	int region;       /* index into codelists.regions */
	int subregion;    /* index into codelists.regions */
} cl_country;

enum cl_region_kind { CL_WORLD = 0, CL_REGION = 1, CL_SUBREGION = 2 };

typedef struct cl_region {
	char code[4];     /* M49 code, e.g. "002" */
	char *name;
	int kind;         /* enum cl_region_kind */
	int parent;       /* index of parent region, -1 for world */
} cl_region;

typedef struct codelists {
	cl_country *countries; size_t n_countries;
	cl_region *regions; size_t n_regions;
	cl_table indicators, sex, age, forms;
	struct cl_index *country_index; /* every accepted spelling -> country */
	char *dir;
} codelists;

/* Default directory: $TIPSTAT_DATASETS/codelists, else ./datasets/codelists,
 * else the installed share directory.  Written into buf; returns buf. */
const char *codelists_default_dir(char *buf, size_t size);

int codelists_load(const char *dir, codelists *cl, diag *d);
void codelists_free(codelists *cl);

/* Country by any accepted spelling (alpha-3, alpha-2, M49 numeric, names,
 * aliases), compared after text_norm().  Returns the index or -1. */
int cl_find_country(const codelists *cl, const char *s, size_t n);
/* Code in a table by code, label or alias (normalised).  Index or -1. */
int cl_find(const cl_table *t, const char *s, size_t n);
/* Up to k nearest codes/labels by edit distance, for "did you mean"
 * messages: fills out[] with pointers into the table, returns how many. */
size_t cl_nearest(const cl_table *t, const char *s, size_t n,
                  const char **out, size_t k);
/* The age band (finest code) containing an exact age, or -1. */
int cl_age_for_years(const codelists *cl, int years);
/* The top-level age group of an age code (itself when it has no parent). */
int cl_age_group(const codelists *cl, int age_code);

#endif
