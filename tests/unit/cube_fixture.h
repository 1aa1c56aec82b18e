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
#include "fx_codes.h"

static const char *const AGE_C[] = {"Y0T17", "Y_GE18", "U"};

enum { AAA, BBB, CCC, DDD };

static fixture *fx_new(void)
{
	fixture *f = fx_alloc(AGE_C, NULL, 3);
	fx_world(f, 0);
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
