/* cube_fixture: a small hand-made codelist for cube tests (shared by the
 * cubesupp and dpcube tests): World 001 > regions 100, 200 > subregions
 * 110, 120 (of 100) and 210 (of 200); countries AAA, BBB (110), CCC (120),
 * DDD (210); the four indicators, sexes, ages and forms of the standard.
 * Header-only, static functions: include it from one test file each. */
#ifndef TIPSTAT_TEST_CUBE_FIXTURE_H
#define TIPSTAT_TEST_CUBE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aggregator/cube.h"
#include "core/codelist.h"
#include "core/period.h"


#define FX_MAX 16

typedef struct fixture {
	codelists cl;
	cl_country ctry[FX_MAX];
	cl_region reg[FX_MAX];
	char names[2 * FX_MAX][8];
	cl_code ind[4], sex[4], age[3], form[10];
} fixture;

static const char *const IND_C[] = {"VIC", "SUS", "PROS", "CONV"};
static const char *const SEX_C[] = {"F", "M", "O", "U"};
static const char *const AGE_C[] = {"Y0T17", "Y_GE18", "U"};
static const char *const FORM_C[] = {"SEX", "LAB", "CRIM", "BEG", "MAR", "ORG", "ADOP",
                                     "MIX", "OTH", "U"};

static void fx_table(cl_table *t, cl_code *c, const char *const *codes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		c[i].code = (char *)codes[i];
		c[i].label = (char *)codes[i];
		c[i].parent = -1;
		c[i].min_age = c[i].max_age = -1;
	}
	t->codes = c;
	t->n = n;
	t->index = NULL;
}

static int fx_region(fixture *f, const char *code, int kind, int parent)
{
	size_t i = f->cl.n_regions++;
	snprintf(f->reg[i].code, sizeof f->reg[i].code, "%.3s", code);
	snprintf(f->names[i], sizeof f->names[i], "%.7s", code);
	f->reg[i].name = f->names[i];
	f->reg[i].kind = kind;
	f->reg[i].parent = parent;
	return (int)i;
}

static int fx_country(fixture *f, const char *iso3, int region, int subregion)
{
	size_t i = f->cl.n_countries++;
	snprintf(f->ctry[i].iso3, sizeof f->ctry[i].iso3, "%.3s", iso3);
	snprintf(f->names[FX_MAX + i], sizeof f->names[0], "%.7s", iso3);
	f->ctry[i].name = f->names[FX_MAX + i];
	f->ctry[i].region = region;
	f->ctry[i].subregion = subregion;
	return (int)i;
}

enum { AAA, BBB, CCC, DDD };

static fixture *fx_new(void)
{
	fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->cl.countries = f->ctry;
	f->cl.regions = f->reg;
	fx_table(&f->cl.indicators, f->ind, IND_C, 4);
	fx_table(&f->cl.sex, f->sex, SEX_C, 4);
	fx_table(&f->cl.age, f->age, AGE_C, 3);
	fx_table(&f->cl.forms, f->form, FORM_C, 10);
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
	return f;
}

/* n keyless records of indicator 0 (victims) of one kind in (year,
 * quarter), fed to an unfinished cube; lines 1..n. */
static inline void fx_recs(cube *c, int country, int year, int q, int sex, int age, int form,
                           int cit, int n)
{
	diag d = DIAG_INIT;
	for (int k = 0; k < n; k++) {
		std_row r;
		memset(&r, 0, sizeof r);
		r.country = country;
		r.period = period_make(year, q);
		r.indicator = 0;
		r.sex = sex;
		r.age = age;
		r.age_band = STD_NONE;
		r.form = form;
		r.citizenship = cit;
		r.line = (unsigned long)k + 1;
		assert_int_equal(cube_add_record(c, &r, &d), 0);
	}
	diag_free(&d);
}

#endif
