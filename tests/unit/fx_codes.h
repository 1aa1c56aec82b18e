/* fx_codes: the hand-built codelists under the cube tests' fixtures
 * (cube_fixture.h and cube_known.h): no codelist.c and no files, so a
 * cube test depends only on the cube.  Countries and regions live in the
 * fixture's own arrays; the indicator, sex and form tables are the
 * standard's codes; the age table is the including fixture's (with or
 * without the age bands under Y0T17 / Y_GE18).  Codes are found with plain
 * strcmp (index = NULL).
 *
 * Header-only, static functions, for cmocka test programs: included by
 * the fixtures, not by tests directly. */
#ifndef TIPSTAT_TEST_FX_CODES_H
#define TIPSTAT_TEST_FX_CODES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/codelist.h"

#define FX_MAX 40

typedef struct fixture {
	codelists cl;
	cl_country ctry[FX_MAX];
	cl_region reg[FX_MAX];
	char names[2 * FX_MAX][8];
	cl_code ind[4], sex[4], age[6], form[10];
} fixture;

static const char *const IND_C[] = {"VIC", "SUS", "PROS", "CONV"};
static const char *const SEX_C[] = {"F", "M", "O", "U"};
static const char *const FORM_C[] = {"SEX", "LAB", "CRIM", "BEG", "MAR", "ORG", "ADOP",
                                     "MIX", "OTH", "U"};

/* A flat code table over codes[0..n); parent NULL: no hierarchy. */
static inline void fx_table(cl_table *t, cl_code *c, const char *const *codes, const int *parent, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		c[i].code = (char *)codes[i];
		c[i].label = (char *)codes[i];
		c[i].parent = parent ? parent[i] : -1;
		c[i].min_age = c[i].max_age = -1;
	}
	t->codes = c;
	t->n = n;
	t->index = NULL;
}

/* A new fixture with the code tables and no geography; n_age <= 6. */
static inline fixture *fx_alloc(const char *const *age, const int *age_parent, size_t n_age)
{
	fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->cl.countries = f->ctry;
	f->cl.regions = f->reg;
	fx_table(&f->cl.indicators, f->ind, IND_C, NULL, 4);
	fx_table(&f->cl.sex, f->sex, SEX_C, NULL, 4);
	fx_table(&f->cl.age, f->age, age, age_parent, n_age);
	fx_table(&f->cl.forms, f->form, FORM_C, NULL, 10);
	return f;
}

static inline int fx_region(fixture *f, const char *code, int kind, int parent)
{
	size_t i = f->cl.n_regions++;
	snprintf(f->reg[i].code, sizeof f->reg[i].code, "%.3s", code);
	snprintf(f->names[i], sizeof f->names[i], "%.7s", code);
	f->reg[i].name = f->names[i];
	f->reg[i].kind = kind;
	f->reg[i].parent = parent;
	return (int)i;
}

static inline int fx_country(fixture *f, const char *iso3, int region, int subregion)
{
	size_t i = f->cl.n_countries++;
	snprintf(f->ctry[i].iso3, sizeof f->ctry[i].iso3, "%.3s", iso3);
	snprintf(f->names[FX_MAX + i], sizeof f->names[0], "%.7s", iso3);
	f->ctry[i].name = f->names[FX_MAX + i];
	f->ctry[i].region = region;
	f->ctry[i].subregion = subregion;
	return (int)i;
}

/* The fixtures' world: 001 > regions 100 (subregions 110, 120) and 200
 * (subregion 210); AAA, BBB in 110, CCC in 120, DDD in 210, and EEE in 210
 * too when with_eee. */
static inline void fx_world(fixture *f, int with_eee)
{
	int w = fx_region(f, "001", CL_WORLD, -1);
	int r1 = fx_region(f, "100", CL_REGION, w);
	int r2 = fx_region(f, "200", CL_REGION, w);
	int s11 = fx_region(f, "110", CL_SUBREGION, r1);
	int s12 = fx_region(f, "120", CL_SUBREGION, r1);
	int s21 = fx_region(f, "210", CL_SUBREGION, r2);
	fx_country(f, "AAA", r1, s11);
	fx_country(f, "BBB", r1, s11);
	fx_country(f, "CCC", r1, s12);
	fx_country(f, "DDD", r2, s21);
	if (with_eee)
		fx_country(f, "EEE", r2, s21);
}

#endif
