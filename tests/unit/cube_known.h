/* cube_known: the hand-made dataset of the cube tests, shared by
 * test_cube.c and test_measures.c (each expected number there is worked
 * out by hand from these rows, so both must see exactly the same rows).
 *
 * The codelists are built by hand (no codelist.c, no files): countries
 * AAA, BBB (subregion 110), CCC (120), DDD and EEE (210; EEE never
 * reports) under regions 100 and 200 of the world 001, and the
 * sex/age/form/indicator tables with index = NULL (age bands Y0T4,
 * Y15T17 under Y0T17 and Y18T24 under Y_GE18); codes are looked up with
 * plain strcmp.  K_RECS are case-level rows (keys K..), K_CELLS
 * pre-counted cells (some censored, some non-additive); build_known feeds
 * them to a new cube in the order the cube's contract asks.
 *
 * Header-only, static functions, for cmocka test programs: include it
 * from one test file each, after <cmocka.h>. */
#ifndef TIPSTAT_TEST_CUBE_KNOWN_H
#define TIPSTAT_TEST_CUBE_KNOWN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aggregator/cube.h"
#include "core/period.h"
#include "fx_codes.h"

static const char *const AGE_C[] = {"Y0T17", "Y_GE18", "U", "Y0T4", "Y15T17", "Y18T24"};
static const int AGE_P[] = {-1, -1, -1, 0, 0, 1};

static fixture *fx_new(void)
{
	return fx_alloc(AGE_C, AGE_P, 6);
}

/* World 001; R1 (100) = S11 (110) + S12 (120); R2 (200) = S21 (210).
 * AAA, BBB in S11; CCC in S12; DDD and EEE in S21 (EEE never reports). */
static fixture *fx_small(void)
{
	fixture *f = fx_new();
	fx_world(f, 1);
	return f;
}

static int code_of(const cl_table *t, const char *s)
{
	if (strcmp(s, "_T") == 0)
		return STD_TOTAL;
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->codes[i].code, s) == 0)
			return (int)i;
	fail_msg("no code %s", s);
	return -9;
}

static int ctry_of(const fixture *f, const char *s)
{
	if (strcmp(s, "_T") == 0)
		return STD_TOTAL;
	if (strcmp(s, "U") == 0)
		return STD_UNKNOWN;
	for (size_t i = 0; i < f->cl.n_countries; i++)
		if (strcmp(f->ctry[i].iso3, s) == 0)
			return (int)i;
	fail_msg("no country %s", s);
	return -9;
}

static int per(const char *s)
{
	int p = period_parse(s, strlen(s));
	assert_true(p > 0);
	return p;
}

/* --- the known-answer dataset ------------------------------------------------- */

typedef struct krec {
	const char *c, *p, *i, *sex, *age, *form, *cit, *key;
} krec;

/* Case records.  Counted (first appearance of a key per country and
 * indicator, and every keyless row) marked with +, re-reports with -.
 *
 * AAA (S11), victims:
 *  2020: Q1 +a1 women SEX dom, +a2 men LAB CCC(other subregion); Q2 +a3
 *        girls SEX BBB(same subregion); Q3 -K1, +a5 unknown/U/U, +a6 boys
 *        LAB DDD(other region); Q4 +a7 keyless women MIX dom.
 *        -> quarters 2,1,2,1 = 6.
 *  2021: Q1 +K10 women SEX dom, +K11 girls SEX dom; Q2 +K12 men LAB DDD,
 *        -K10 (re-reported with other attributes); Q3 +K13 sex O adult
 *        (unknown group) OTH dom, +K14 women CRIM CCC; Q4 +K2 girls BEG
 *        dom, +2 keyless men SEX U.  -> quarters 2,1,2,3 = 8.
 *        groups: women 2 (K10 K14), men 3 (K12, 2 keyless), girls 2 (K11
 *        K2), boys 0, unknown 1 (K13).  forms: SEX 4, LAB 1, CRIM 1,
 *        BEG 1, OTH 1.  citizenship: dom 4, same sub 0, other sub 1,
 *        other region 1, unknown 2.
 *  2022: Q1 -K2 (first seen 2021-Q4: stays there, as a girl), +K20 women
 *        SEX, +K21 men LAB; Q2 +K22 women SEX, +K23 girls SEX, +K24 boys
 *        LAB; Q3 +K25 women SEX, +K26 unknown U; Q4 +K27 women LAB, +K28
 *        men MAR, -K20.  -> quarters 2,3,2,2 = 9.  forms: SEX 4, LAB 3,
 *        MAR 1, U 1; groups: women 4, men 2, girls 1, boys 1, unknown 1.
 *  suspects: 2021-Q3 +K10 (the same key under another indicator counts).
 * BBB (S11), victims, no keys: 2020 2,1,1,1 = 5; 2021 1,2,1,2 = 6
 *  (boys LAB dom; women SEX dom, women SEX AAA; girls SEX U; men LAB CCC,
 *  unknown U DDD); 2022 1,2,-,1 = 4, 2022-Q3 missing (partial year).
 * CCC (S12): two keyless victims in 2022-Q1 (the year has an annual
 *  cells submission, which wins for the year). */
static const krec K_RECS[] = {
	{"AAA", "2020-Q1", "VIC", "F", "Y_GE18", "SEX", "AAA", "K1"},
	{"AAA", "2020-Q1", "VIC", "M", "Y_GE18", "LAB", "CCC", "K4"},
	{"AAA", "2020-Q2", "VIC", "F", "Y0T17", "SEX", "BBB", "K5"},
	{"AAA", "2020-Q3", "VIC", "F", "Y_GE18", "SEX", "AAA", "K1"},
	{"AAA", "2020-Q3", "VIC", "U", "U", "U", "U", "K6"},
	{"AAA", "2020-Q3", "VIC", "M", "Y0T17", "LAB", "DDD", "K7"},
	{"AAA", "2020-Q4", "VIC", "F", "Y_GE18", "MIX", "AAA", NULL},
	{"AAA", "2021-Q1", "VIC", "F", "Y_GE18", "SEX", "AAA", "K10"},
	{"AAA", "2021-Q1", "VIC", "F", "Y0T17", "SEX", "AAA", "K11"},
	{"AAA", "2021-Q2", "VIC", "M", "Y_GE18", "LAB", "DDD", "K12"},
	{"AAA", "2021-Q2", "VIC", "F", "Y_GE18", "SEX", "BBB", "K10"},
	{"AAA", "2021-Q3", "VIC", "O", "Y_GE18", "OTH", "AAA", "K13"},
	{"AAA", "2021-Q3", "VIC", "F", "Y_GE18", "CRIM", "CCC", "K14"},
	{"AAA", "2021-Q4", "VIC", "F", "Y0T17", "BEG", "AAA", "K2"},
	{"AAA", "2021-Q4", "VIC", "M", "Y_GE18", "SEX", "U", NULL},
	{"AAA", "2021-Q4", "VIC", "M", "Y_GE18", "SEX", "U", NULL},
	{"AAA", "2022-Q1", "VIC", "F", "Y_GE18", "BEG", "AAA", "K2"},
	{"AAA", "2022-Q1", "VIC", "F", "Y_GE18", "SEX", "AAA", "K20"},
	{"AAA", "2022-Q1", "VIC", "M", "Y_GE18", "LAB", "CCC", "K21"},
	{"AAA", "2022-Q2", "VIC", "F", "Y_GE18", "SEX", "AAA", "K22"},
	{"AAA", "2022-Q2", "VIC", "F", "Y0T17", "SEX", "BBB", "K23"},
	{"AAA", "2022-Q2", "VIC", "M", "Y0T17", "LAB", "AAA", "K24"},
	{"AAA", "2022-Q3", "VIC", "F", "Y_GE18", "SEX", "DDD", "K25"},
	{"AAA", "2022-Q3", "VIC", "U", "Y_GE18", "U", "U", "K26"},
	{"AAA", "2022-Q4", "VIC", "F", "Y_GE18", "LAB", "AAA", "K27"},
	{"AAA", "2022-Q4", "VIC", "M", "Y_GE18", "MAR", "AAA", "K28"},
	{"AAA", "2022-Q4", "VIC", "F", "Y_GE18", "SEX", "AAA", "K20"},
	{"AAA", "2021-Q3", "SUS", "M", "Y_GE18", "U", "AAA", "K10"},
	{"BBB", "2020-Q1", "VIC", "F", "Y_GE18", "SEX", "BBB", NULL},
	{"BBB", "2020-Q1", "VIC", "F", "Y_GE18", "SEX", "BBB", NULL},
	{"BBB", "2020-Q2", "VIC", "F", "Y_GE18", "SEX", "BBB", NULL},
	{"BBB", "2020-Q3", "VIC", "F", "Y_GE18", "SEX", "BBB", NULL},
	{"BBB", "2020-Q4", "VIC", "F", "Y_GE18", "SEX", "BBB", NULL},
	{"BBB", "2021-Q1", "VIC", "M", "Y0T17", "LAB", "BBB", NULL},
	{"BBB", "2021-Q2", "VIC", "F", "Y_GE18", "SEX", "BBB", NULL},
	{"BBB", "2021-Q2", "VIC", "F", "Y_GE18", "SEX", "AAA", NULL},
	{"BBB", "2021-Q3", "VIC", "F", "Y0T17", "SEX", "U", NULL},
	{"BBB", "2021-Q4", "VIC", "M", "Y_GE18", "LAB", "CCC", NULL},
	{"BBB", "2021-Q4", "VIC", "U", "U", "U", "DDD", NULL},
	{"BBB", "2022-Q1", "VIC", "F", "Y_GE18", "SEX", "BBB", NULL},
	{"BBB", "2022-Q2", "VIC", "F", "Y_GE18", "SEX", "BBB", NULL},
	{"BBB", "2022-Q2", "VIC", "F", "Y_GE18", "SEX", "BBB", NULL},
	{"BBB", "2022-Q4", "VIC", "F", "Y_GE18", "SEX", "BBB", NULL},
	{"CCC", "2022-Q1", "VIC", "F", "Y_GE18", "SEX", "CCC", NULL},
	{"CCC", "2022-Q1", "VIC", "F", "Y_GE18", "SEX", "CCC", NULL},
};
#define N_K_RECS (sizeof K_RECS / sizeof K_RECS[0])

typedef struct kcell {
	const char *c, *p, *sex, *age, *band, *form, *cit;
	int64_t lo, hi;
	unsigned flags;
} kcell;

/* Aggregate cells, all victims.
 * CCC (S12), annual:
 *  2020: total 20; F adult 10, M adult 6, F minor 3, M minor 1; SEX 12,
 *        LAB 8.
 *  2021: total 25; F adult 12, M adult 8, F minor "<5" = [0,4] c, M minor
 *        2; SEX 15, LAB 10; citizenship CCC 20, AAA 3 (other subregion),
 *        unknown 2.
 *  2022: total 30; F adult 14, M adult 9, F minor 4, M minor 3; no forms,
 *        no citizenship (not available).
 * DDD (S21), quarterly, no total rows: sex x age x form cells only, so
 * every DDD value is derived (d):
 *  2021: Q1 F-adult-SEX 3, M-minor-LAB 1; Q2 2, 2; Q3 4 (M-minor omitted:
 *        0); Q4 1, 1  -> 4, 4, 4, 2 = 14; women 10, boys 4.
 *  2022: Q1 2, 2; Q2 F-adult-SEX 3 given both as the group row and as
 *        band Y18T24 = 2 (the group row wins), M-minor 1; Q3 2; Q4 3 and
 *        M band Y15T17-LAB 3 (a band alone counts for its group)
 *        -> 4, 4, 2, 6 = 16; women 10, boys 6. */
static const kcell K_CELLS[] = {
	{"CCC", "2020", "_T", "_T", NULL, "_T", "_T", 20, 20, 0},
	{"CCC", "2020", "F", "Y_GE18", NULL, "_T", "_T", 10, 10, 0},
	{"CCC", "2020", "M", "Y_GE18", NULL, "_T", "_T", 6, 6, 0},
	{"CCC", "2020", "F", "Y0T17", NULL, "_T", "_T", 3, 3, 0},
	{"CCC", "2020", "M", "Y0T17", NULL, "_T", "_T", 1, 1, 0},
	{"CCC", "2020", "_T", "_T", NULL, "SEX", "_T", 12, 12, 0},
	{"CCC", "2020", "_T", "_T", NULL, "LAB", "_T", 8, 8, 0},
	{"CCC", "2021", "_T", "_T", NULL, "_T", "_T", 25, 25, 0},
	{"CCC", "2021", "F", "Y_GE18", NULL, "_T", "_T", 12, 12, 0},
	{"CCC", "2021", "M", "Y_GE18", NULL, "_T", "_T", 8, 8, 0},
	{"CCC", "2021", "F", "Y0T17", NULL, "_T", "_T", 0, 4, STD_F_CENSORED},
	{"CCC", "2021", "M", "Y0T17", NULL, "_T", "_T", 2, 2, 0},
	{"CCC", "2021", "_T", "_T", NULL, "SEX", "_T", 15, 15, 0},
	{"CCC", "2021", "_T", "_T", NULL, "LAB", "_T", 10, 10, 0},
	{"CCC", "2021", "_T", "_T", NULL, "_T", "CCC", 20, 20, 0},
	{"CCC", "2021", "_T", "_T", NULL, "_T", "AAA", 3, 3, 0},
	{"CCC", "2021", "_T", "_T", NULL, "_T", "U", 2, 2, 0},
	{"CCC", "2022", "_T", "_T", NULL, "_T", "_T", 30, 30, 0},
	{"CCC", "2022", "F", "Y_GE18", NULL, "_T", "_T", 14, 14, 0},
	{"CCC", "2022", "M", "Y_GE18", NULL, "_T", "_T", 9, 9, 0},
	{"CCC", "2022", "F", "Y0T17", NULL, "_T", "_T", 4, 4, 0},
	{"CCC", "2022", "M", "Y0T17", NULL, "_T", "_T", 3, 3, 0},
	{"DDD", "2021-Q1", "F", "Y_GE18", NULL, "SEX", "_T", 3, 3, 0},
	{"DDD", "2021-Q1", "M", "Y0T17", NULL, "LAB", "_T", 1, 1, 0},
	{"DDD", "2021-Q2", "F", "Y_GE18", NULL, "SEX", "_T", 2, 2, 0},
	{"DDD", "2021-Q2", "M", "Y0T17", NULL, "LAB", "_T", 2, 2, 0},
	{"DDD", "2021-Q3", "F", "Y_GE18", NULL, "SEX", "_T", 4, 4, 0},
	{"DDD", "2021-Q4", "F", "Y_GE18", NULL, "SEX", "_T", 1, 1, 0},
	{"DDD", "2021-Q4", "M", "Y0T17", NULL, "LAB", "_T", 1, 1, 0},
	{"DDD", "2022-Q1", "F", "Y_GE18", NULL, "SEX", "_T", 2, 2, 0},
	{"DDD", "2022-Q1", "M", "Y0T17", NULL, "LAB", "_T", 2, 2, 0},
	{"DDD", "2022-Q2", "F", "Y_GE18", NULL, "SEX", "_T", 3, 3, 0},
	{"DDD", "2022-Q2", "F", "Y_GE18", "Y18T24", "SEX", "_T", 2, 2, 0},
	{"DDD", "2022-Q2", "M", "Y0T17", NULL, "LAB", "_T", 1, 1, 0},
	{"DDD", "2022-Q3", "F", "Y_GE18", NULL, "SEX", "_T", 2, 2, 0},
	{"DDD", "2022-Q4", "F", "Y_GE18", NULL, "SEX", "_T", 3, 3, 0},
	{"DDD", "2022-Q4", "M", "Y0T17", "Y15T17", "LAB", "_T", 3, 3, 0},
};
#define N_K_CELLS (sizeof K_CELLS / sizeof K_CELLS[0])

static std_row krow_rec(const fixture *f, const krec *k, unsigned long line)
{
	std_row r;
	memset(&r, 0, sizeof r);
	r.country = ctry_of(f, k->c);
	r.period = per(k->p);
	r.indicator = code_of(&f->cl.indicators, k->i);
	r.sex = code_of(&f->cl.sex, k->sex);
	r.age = code_of(&f->cl.age, k->age);
	r.age_band = STD_NONE;
	r.form = code_of(&f->cl.forms, k->form);
	r.citizenship = ctry_of(f, k->cit);
	if (k->key) {
		r.has_key = 1;
		memcpy(r.key, k->key, strlen(k->key) < sizeof r.key ? strlen(k->key) : sizeof r.key);
	}
	r.line = line;
	return r;
}

static std_row krow_cell(const fixture *f, const kcell *k, unsigned long line)
{
	std_row r;
	memset(&r, 0, sizeof r);
	r.country = ctry_of(f, k->c);
	r.period = per(k->p);
	r.indicator = code_of(&f->cl.indicators, "VIC");
	r.sex = code_of(&f->cl.sex, k->sex);
	r.age = code_of(&f->cl.age, k->age);
	r.age_band = k->band ? code_of(&f->cl.age, k->band) : STD_NONE;
	r.form = code_of(&f->cl.forms, k->form);
	r.citizenship = ctry_of(f, k->cit);
	r.lo = k->lo;
	r.hi = k->hi;
	r.flags = k->flags;
	r.line = line;
	return r;
}

/* Submission-file order: by key (keyless last), then country, period,
 * indicator -- the order `tipstat ingest` writes. */
static int cmp_sub(const void *pa, const void *pb)
{
	const std_row *a = pa, *b = pb;
	if (a->has_key != b->has_key)
		return a->has_key ? -1 : 1;
	int k = memcmp(a->key, b->key, sizeof a->key);
	if (k)
		return k;
	if (a->country != b->country)
		return a->country < b->country ? -1 : 1;
	if (a->period != b->period)
		return a->period < b->period ? -1 : 1;
	if (a->indicator != b->indicator)
		return a->indicator < b->indicator ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

static cube *build_known(const fixture *f)
{
	cube *c;
	diag d = DIAG_INIT;
	assert_int_equal(cube_new(&f->cl, &c, &d), 0);
	std_row rows[N_K_RECS];
	for (size_t i = 0; i < N_K_RECS; i++)
		rows[i] = krow_rec(f, &K_RECS[i], i + 1);
	qsort(rows, N_K_RECS, sizeof rows[0], cmp_sub);
	for (size_t i = 0; i < N_K_RECS; i++)
		assert_int_equal(cube_add_record(c, &rows[i], &d), 0);
	for (size_t i = 0; i < N_K_CELLS; i++) {
		std_row r = krow_cell(f, &K_CELLS[i], i + 1);
		assert_int_equal(cube_add_cell(c, &r, &d), 0);
	}
	assert_int_equal(cube_finish(c, &d), 0);
	diag_free(&d);
	return c;
}

/* geo: "AAA" (country), "001" world, "100"/"200" regions, "110".. subregions */
static int geo(const cube *c, const fixture *f, const char *g)
{
	for (size_t i = 0; i < f->cl.n_countries; i++)
		if (strcmp(f->ctry[i].iso3, g) == 0)
			return cube_geo_find(c, CUBE_GEO_COUNTRY, (int)i);
	for (size_t i = 0; i < f->cl.n_regions; i++)
		if (strcmp(f->reg[i].code, g) == 0)
			return cube_geo_find(c, f->reg[i].kind == CL_WORLD ? CUBE_GEO_WORLD :
			                        f->reg[i].kind == CL_REGION ? CUBE_GEO_REGION :
			                        CUBE_GEO_SUBREGION, (int)i);
	return -1;
}


#endif
