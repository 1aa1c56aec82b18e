/* measures: known answers on the dataset of test_cube.c (the same
 * hand-made rows, repeated here so that each test program stands alone),
 * with every expected number worked out by hand in the comments; and the
 * population loader on small in-memory files, its errors included.
 *
 * Counts used below (victims; from test_cube.c's tables):
 *   totals   AAA 6 / 8 / 9 (2020 / 2021 / 2022), BBB 5 / 6 / 4 (2022
 *            partial: Q3 missing), CCC 20 / 25 / 30 (annual), DDD - / 14
 *            / 16 (derived from breakdowns, flag d; no 2020).
 *   girls    AAA 1 / 2 / 1, BBB 0 / 1 / 0, CCC 3 / [0,4] / 4, DDD - / 0 / 0.
 *   population (the test file below): AAA 1,000,000, BBB 500,000, CCC
 *            2,000,000 every year; DDD 400,000 in 2020 and 2021, empty
 *            (missing) in 2022; EEE (never reports) 100,000 in 2021 only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "aggregator/cube.h"
#include "aggregator/measures.h"
#include "aggregator/population.h"
#include "core/period.h"

/* --- hand-made codelists ----------------------------------------------------- */

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
static const char *const AGE_C[] = {"Y0T17", "Y_GE18", "U", "Y0T4", "Y15T17", "Y18T24"};
static const int AGE_P[] = {-1, -1, -1, 0, 0, 1};
static const char *const FORM_C[] = {"SEX", "LAB", "CRIM", "BEG", "MAR", "ORG", "ADOP",
                                     "MIX", "OTH", "U"};

static void fx_table(cl_table *t, cl_code *c, const char *const *codes, const int *parent, size_t n)
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

static fixture *fx_new(void)
{
	fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->cl.countries = f->ctry;
	f->cl.regions = f->reg;
	fx_table(&f->cl.indicators, f->ind, IND_C, NULL, 4);
	fx_table(&f->cl.sex, f->sex, SEX_C, NULL, 4);
	fx_table(&f->cl.age, f->age, AGE_C, AGE_P, 6);
	fx_table(&f->cl.forms, f->form, FORM_C, NULL, 10);
	return f;
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

/* World 001; R1 (100) = S11 (110) + S12 (120); R2 (200) = S21 (210).
 * AAA, BBB in S11; CCC in S12; DDD and EEE in S21 (EEE never reports). */
static fixture *fx_small(void)
{
	fixture *f = fx_new();
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
	fx_country(f, "EEE", r2, s21);
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

/* --- helpers ----------------------------------------------------------------------- */

static const char POP_CSV[] =
	"iso3,year,population\n"
	"AAA,2020,1000000\n"
	"AAA,2021,1000000\n"
	"AAA,2022,1000000\n"
	"BBB,2020,500000\n"
	"BBB,2021,500000\n"
	"BBB,2022,500000\n"
	"CCC,2020,2000000\n"
	"CCC,2021,2000000\n"
	"CCC,2022,2000000\n"
	"DDD,2020,400000\n"
	"DDD,2021,400000\n"
	"DDD,2022,\n"
	"EEE,2021,100000\n"
	"ZZZ,2021,5\n";

typedef struct env {
	fixture *f;
	cube *c;
	pop_table pop;
} env;

static int setup(void **state)
{
	env *e = calloc(1, sizeof *e);
	assert_non_null(e);
	e->f = fx_small();
	e->c = build_known(e->f);
	diag d = DIAG_INIT;
	assert_int_equal(pop_load_mem(POP_CSV, strlen(POP_CSV), "pop.csv", &e->f->cl, &e->pop, &d), 0);
	diag_free(&d);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;
	pop_free(&e->pop);
	cube_free(e->c);
	free(e->f);
	free(e);
	return 0;
}

#define NEAR(a, b) do { double a_ = (a), b_ = (b); \
	if (!(fabs(a_ - b_) <= 1e-9 * (fabs(b_) > 1 ? fabs(b_) : 1))) \
		fail_msg("%s = %.12g, expected %.12g", #a, a_, b_); } while (0)

#define VIC 0
#define SUS 1
#define S_GROUP(g) (CUBE_S_GROUP + (g))
#define S_FORM(x) (CUBE_S_FORM + (x))
#define S_CIT(x) (CUBE_S_CIT + (x))

static void flags_are(unsigned flags, const char *want)
{
	char b[8];
	cube_flags_str(flags, b);
	assert_string_equal(b, want);
}

/* --- population ------------------------------------------------------------------------ */

static void test_population_load(void **state)
{
	env *e = *state;
	const pop_table *p = &e->pop;
	assert_int_equal(p->year0, 2020);
	assert_int_equal(p->n_years, 3);
	assert_int_equal(pop_get(p, ctry_of(e->f, "AAA"), 2021), 1000000);
	assert_int_equal(pop_get(p, ctry_of(e->f, "CCC"), 2022), 2000000);
	assert_int_equal(pop_get(p, ctry_of(e->f, "EEE"), 2021), 100000);
	/* missing is missing, not zero: an empty value, no row, no year */
	assert_int_equal(pop_get(p, ctry_of(e->f, "DDD"), 2022), -1);
	assert_int_equal(pop_get(p, ctry_of(e->f, "EEE"), 2020), -1);
	assert_int_equal(pop_get(p, ctry_of(e->f, "AAA"), 2019), -1);
	assert_int_equal(pop_get(p, ctry_of(e->f, "AAA"), 2023), -1);
	assert_int_equal(pop_get(p, 99, 2021), -1);
	assert_int_equal(pop_get(p, -1, 2021), -1);

	/* columns found by name; CRLF; an unknown code is a warning */
	static const char other[] = "population,iso3,year\r\n7,BBB,2015\r\n,CCC,2016\r\n9,XKX,2015\r\n";
	pop_table q;
	diag d = DIAG_INIT;
	assert_int_equal(pop_load_mem(other, strlen(other), "o.csv", &e->f->cl, &q, &d), 0);
	assert_int_equal(pop_get(&q, ctry_of(e->f, "BBB"), 2015), 7);
	assert_int_equal(pop_get(&q, ctry_of(e->f, "CCC"), 2016), -1);
	assert_int_equal(pop_get(&q, ctry_of(e->f, "CCC"), 2015), -1);
	assert_int_equal(d.n_warnings, 1);
	assert_int_equal(d.n_errors, 0);
	char buf[256];
	diag_format(&d.items[0], buf, sizeof buf);
	assert_string_equal(buf, "o.csv:4:3: warning: 'XKX' is not a country of the codelists; row skipped");
	pop_free(&q);
	diag_free(&d);
}

static void test_population_errors(void **state)
{
	env *e = *state;
	static const char bad[] =
		"iso3,year,population\n"
		"AAA,2020,10\n"
		"AAA,20x1,10\n"          /* 3: bad year */
		"BBB,2021,-3\n"          /* 4: negative */
		"BBB,2022,1.5e6\n"       /* 5: not a whole number */
		"AAA,2020,11\n"          /* 6: twice */
		"CCC,1800,5\n";          /* 7: year out of range */
	pop_table q;
	diag d = DIAG_INIT;
	assert_int_equal(pop_load_mem(bad, strlen(bad), "bad.csv", &e->f->cl, &q, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_string_equal(d.msg, "bad.csv: 5 errors");
	assert_int_equal(d.n_errors, 5);
	assert_null(q.v);
	char buf[256];
	const char *want[] = {
		"bad.csv:3:5: error: bad year '20x1'",
		"bad.csv:4:10: error: bad population '-3' (a whole number >= 0, or empty)",
		"bad.csv:5:10: error: bad population '1.5e6' (a whole number >= 0, or empty)",
		"bad.csv:7:5: error: bad year '1800'",
		"bad.csv:6:1: error: AAA 2020 given twice",
	};
	for (size_t i = 0; i < 5; i++) {
		diag_format(&d.items[i], buf, sizeof buf);
		assert_string_equal(buf, want[i]);
	}
	diag_free(&d);
	/* a header without the population column */
	static const char nocol[] = "iso3,year,pop\nAAA,2020,1\n";
	assert_int_equal(pop_load_mem(nocol, strlen(nocol), "h.csv", &e->f->cl, &q, &d), -1);
	assert_string_equal(d.msg, "h.csv:1: header lacks column 'population'");
	diag_free(&d);
	assert_int_equal(pop_load("/nonexistent/population.csv", &e->f->cl, &q, &d), -1);
	assert_int_equal(d.code, EX_NOINPUT);
	diag_free(&d);
}

/* --- rates ----------------------------------------------------------------------------- */

static void test_rates(void **state)
{
	env *e = *state;
	fixture *f = e->f;
	cube *c = e->c;
	meas_rate r;
	diag d = DIAG_INIT;
	/* AAA 2021: 8 / 1,000,000 * 100,000 = 0.8 */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "AAA"), per("2021"), VIC, CUBE_S_TOTAL, &r, &d), 0);
	assert_true(r.avail);
	NEAR(r.lo, 0.8);
	NEAR(r.hi, 0.8);
	/* a quarter: AAA 2021-Q4 = 3 over the year's population: 0.3 */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "AAA"), per("2021-Q4"), VIC, CUBE_S_TOTAL, &r, &d), 0);
	NEAR(r.lo, 0.3);
	/* R1 2021: (8 + 6 + 25) / (1.0 + 0.5 + 2.0 million) = 39 / 3.5e6
	 * * 1e5 = 1.114285714... */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "100"), per("2021"), VIC, CUBE_S_TOTAL, &r, &d), 0);
	NEAR(r.lo, 1.1142857142857143);
	NEAR(r.population, 3.5e6);
	assert_int_equal(r.n_countries, 3);
	assert_int_equal(r.n_no_pop, 0);
	/* world 2021: 53 / 3.9e6 * 1e5 = 1.358974358...; EEE did not report,
	 * so its population is not in the denominator */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "001"), per("2021"), VIC, CUBE_S_TOTAL, &r, &d), 0);
	NEAR(r.lo, 1.358974358974359);
	NEAR(r.population, 3.9e6);
	flags_are(r.flags, "d");
	/* world 2022: DDD has no population, so DDD is left out of both
	 * sides: (9 + 4 + 30) / 3.5e6 * 1e5 = 1.228571428... */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "001"), per("2022"), VIC, CUBE_S_TOTAL, &r, &d), 0);
	NEAR(r.lo, 1.2285714285714286);
	assert_int_equal(r.num_lo, 43);
	assert_int_equal(r.n_countries, 3);
	assert_int_equal(r.n_no_pop, 1);
	flags_are(r.flags, "p");
	/* R2 2022 = DDD alone, without population: no rate */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "200"), per("2022"), VIC, CUBE_S_TOTAL, &r, &d), 0);
	assert_false(r.avail);
	assert_int_equal(r.n_no_pop, 1);
	/* girls, world 2021: [3, 7] / 3.9e6 * 1e5 = [0.0769.., 0.1794..] */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "001"), per("2021"), VIC,
	                               S_GROUP(CUBE_G_GIRLS), &r, &d), 0);
	NEAR(r.lo, 0.07692307692307693);
	NEAR(r.hi, 0.1794871794871795);
	flags_are(r.flags, "cd");
	/* not available value: CCC 2022 forms */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "CCC"), per("2022"), VIC, S_FORM(0), &r, &d), 0);
	assert_false(r.avail);
	/* bad coordinates */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "CCC"), per("2019"), VIC, 0, &r, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_free(&d);
}

/* --- shares ---------------------------------------------------------------------------- */

static void test_shares(void **state)
{
	env *e = *state;
	fixture *f = e->f;
	cube *c = e->c;
	meas_share s;
	diag d = DIAG_INIT;
	/* S11 2021 = AAA + BBB: women 2+2 = 4, men 3+1 = 4, girls 2+1 = 3,
	 * boys 0+1 = 1, unknown 1+1 = 2.  Known 12: women 4/12 = 33.33%,
	 * girls 3/12 = 25%, boys 1/12 = 8.33%; unknown 2/14 = 14.29% */
	assert_int_equal(meas_shares(c, geo(c, f, "110"), per("2021"), VIC, CUBE_FAM_GROUP, &s, &d), 0);
	assert_true(s.avail);
	assert_int_equal(s.n_known, 4);
	assert_int_equal(s.slot[2], S_GROUP(CUBE_G_GIRLS));
	assert_int_equal(s.unknown_slot, S_GROUP(CUBE_G_UNKNOWN));
	assert_int_equal(s.known_lo, 12);
	NEAR(s.lo[CUBE_G_WOMEN], 100.0 / 3);
	NEAR(s.hi[CUBE_G_WOMEN], 100.0 / 3);
	NEAR(s.lo[CUBE_G_MEN], 100.0 / 3);
	NEAR(s.lo[CUBE_G_GIRLS], 25.0);
	NEAR(s.lo[CUBE_G_BOYS], 100.0 / 12);
	NEAR(s.unknown_lo, 100.0 * 2 / 14);
	NEAR(s.unknown_hi, 100.0 * 2 / 14);
	assert_int_equal(s.n_countries, 2);
	/* world 2021, girls censored: women 26, men 12, girls [3,7], boys 7,
	 * unknown 2.  women: lowest 26/(26+12+7+7) = 50%, highest
	 * 26/(26+12+3+7) = 54.17%; girls 3/48 = 6.25% .. 7/52 = 13.46%;
	 * unknown 2/54 = 3.70% .. 2/50 = 4% */
	assert_int_equal(meas_shares(c, geo(c, f, "001"), per("2021"), VIC, CUBE_FAM_GROUP, &s, &d), 0);
	NEAR(s.lo[CUBE_G_WOMEN], 50.0);
	NEAR(s.hi[CUBE_G_WOMEN], 54.166666666666664);
	NEAR(s.lo[CUBE_G_GIRLS], 6.25);
	NEAR(s.hi[CUBE_G_GIRLS], 13.461538461538462);
	NEAR(s.unknown_lo, 3.7037037037037033);
	NEAR(s.unknown_hi, 4.0);
	assert_int_equal(s.known_lo, 48);
	assert_int_equal(s.known_hi, 52);
	flags_are(s.flags, "cd");
	/* world 2022 forms (CCC reported none: AAA, BBB, DDD): SEX 4+4+10 =
	 * 18, LAB 3+0+6 = 9, MAR 1, unknown 1.  Known 28: SEX 64.29%, LAB
	 * 32.14%, MAR 3.57%; unknown 1/29 = 3.45% */
	assert_int_equal(meas_shares(c, geo(c, f, "001"), per("2022"), VIC, CUBE_FAM_FORM, &s, &d), 0);
	assert_int_equal(s.n_known, 9);
	NEAR(s.lo[CUBE_FORM_SEX], 64.28571428571429);
	NEAR(s.lo[CUBE_FORM_LAB], 32.142857142857146);
	NEAR(s.lo[CUBE_FORM_MAR], 3.571428571428571);
	NEAR(s.lo[CUBE_FORM_ORG], 0.0);
	NEAR(s.unknown_lo, 3.4482758620689653);
	assert_int_equal(s.n_countries, 3);
	flags_are(s.flags, "dp");
	/* CCC 2021 citizenship: domestic 20/23 = 86.96%, other subregion
	 * 3/23 = 13.04%; unknown 2/25 = 8% */
	assert_int_equal(meas_shares(c, geo(c, f, "CCC"), per("2021"), VIC, CUBE_FAM_CIT, &s, &d), 0);
	NEAR(s.lo[CUBE_CIT_DOMESTIC], 86.95652173913044);
	NEAR(s.lo[CUBE_CIT_OTHERSUB], 13.043478260869565);
	NEAR(s.unknown_lo, 8.0);
	/* not available breakdown: CCC 2022 forms */
	assert_int_equal(meas_shares(c, geo(c, f, "CCC"), per("2022"), VIC, CUBE_FAM_FORM, &s, &d), 0);
	assert_false(s.avail);
	/* nobody known: AAA 2021 suspects (one man of unknown form) */
	assert_int_equal(meas_shares(c, geo(c, f, "AAA"), per("2021"), SUS, CUBE_FAM_FORM, &s, &d), 0);
	assert_false(s.avail);
	assert_int_equal(meas_shares(c, geo(c, f, "AAA"), per("2021"), SUS, CUBE_FAM_SEX, &s, &d), 0);
	assert_true(s.avail);
	NEAR(s.lo[CUBE_SEX_M], 100.0);
	/* no shares of the total or of the full cross */
	assert_int_equal(meas_shares(c, geo(c, f, "AAA"), per("2021"), VIC, CUBE_FAM_SEXAGE, &s, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_free(&d);
}

/* --- coverage -------------------------------------------------------------------------- */

static void test_coverage(void **state)
{
	env *e = *state;
	fixture *f = e->f;
	cube *c = e->c;
	meas_coverage cv;
	diag d = DIAG_INIT;
	/* R2 2021: DDD reports, EEE does not: 1 of 2; population 400,000 of
	 * 500,000 = 80% */
	assert_int_equal(meas_coverage_get(c, &e->pop, geo(c, f, "200"), per("2021"), VIC, CUBE_S_TOTAL, &cv, &d), 0);
	assert_int_equal(cv.n_reporting, 1);
	assert_int_equal(cv.n_countries, 2);
	NEAR(cv.pop_reporting, 400000);
	NEAR(cv.pop_total, 500000);
	NEAR(cv.pop_share, 80.0);
	/* R2 2022: neither has a population figure */
	assert_int_equal(meas_coverage_get(c, &e->pop, geo(c, f, "200"), per("2022"), VIC, CUBE_S_TOTAL, &cv, &d), 0);
	assert_int_equal(cv.n_reporting, 1);
	assert_int_equal(cv.n_no_pop, 2);
	assert_int_equal(cv.n_reporting_no_pop, 1);
	assert_true(isnan(cv.pop_share));
	/* world 2021: 4 of 5 countries; 3.9 of 4.0 million = 97.5% */
	assert_int_equal(meas_coverage_get(c, &e->pop, geo(c, f, "001"), per("2021"), VIC, CUBE_S_TOTAL, &cv, &d), 0);
	assert_int_equal(cv.n_reporting, 4);
	assert_int_equal(cv.n_countries, 5);
	NEAR(cv.pop_share, 97.5);
	/* world 2022 forms: AAA, BBB, DDD (CCC none); population known for
	 * AAA, BBB, CCC: 1.5 of 3.5 million = 42.86% */
	assert_int_equal(meas_coverage_get(c, &e->pop, geo(c, f, "001"), per("2022"), VIC, S_FORM(0), &cv, &d), 0);
	assert_int_equal(cv.n_reporting, 3);
	NEAR(cv.pop_share, 100.0 * 1.5 / 3.5);
	/* world 2021 citizenship: 3 (DDD has none) */
	assert_int_equal(meas_coverage_get(c, &e->pop, geo(c, f, "001"), per("2021"), VIC, S_CIT(0), &cv, &d), 0);
	assert_int_equal(cv.n_reporting, 3);
	/* a country: itself */
	assert_int_equal(meas_coverage_get(c, &e->pop, geo(c, f, "BBB"), per("2022-Q3"), VIC, 0, &cv, &d), 0);
	assert_int_equal(cv.n_countries, 1);
	assert_int_equal(cv.n_reporting, 0);
	diag_free(&d);
}

/* --- panel ------------------------------------------------------------------------------ */

static void test_panel(void **state)
{
	env *e = *state;
	fixture *f = e->f;
	cube *c = e->c;
	meas_panel pn;
	diag d = DIAG_INIT;
	/* 2020-2022: BBB drops out (2022 partial), DDD too (no 2020) */
	assert_int_equal(meas_panel_build(c, VIC, 2020, 2022, &pn, &d), 0);
	assert_int_equal(pn.n, 2);
	assert_int_equal(pn.countries[0], ctry_of(f, "AAA"));
	assert_int_equal(pn.countries[1], ctry_of(f, "CCC"));
	assert_true(meas_panel_has(&pn, ctry_of(f, "CCC")));
	assert_false(meas_panel_has(&pn, ctry_of(f, "BBB")));
	/* panel totals: 6+20 = 26, 8+25 = 33, 9+30 = 39 */
	cube_value v;
	static const int64_t want[3] = {26, 33, 39};
	for (int y = 2020; y <= 2022; y++) {
		assert_int_equal(meas_panel_total(c, &pn, geo(c, f, "001"), y, CUBE_S_TOTAL, &v, &d), 0);
		assert_true(v.avail);
		assert_int_equal(v.lo, want[y - 2020]);
		assert_int_equal(v.hi, want[y - 2020]);
		assert_int_equal(v.n_countries, 2);
		flags_are(v.flags, "");
	}
	/* by geography: S11 = AAA alone (9 in 2022), R2 has no member, a
	 * country outside the panel has no panel total */
	assert_int_equal(meas_panel_total(c, &pn, geo(c, f, "110"), 2022, CUBE_S_TOTAL, &v, &d), 0);
	assert_int_equal(v.lo, 9);
	assert_int_equal(v.n_countries, 1);
	assert_int_equal(meas_panel_total(c, &pn, geo(c, f, "200"), 2022, CUBE_S_TOTAL, &v, &d), 0);
	assert_false(v.avail);
	assert_int_equal(meas_panel_total(c, &pn, geo(c, f, "CCC"), 2021, CUBE_S_TOTAL, &v, &d), 0);
	assert_int_equal(v.lo, 25);
	assert_int_equal(meas_panel_total(c, &pn, geo(c, f, "BBB"), 2021, CUBE_S_TOTAL, &v, &d), 0);
	assert_false(v.avail);
	/* girls 2021: AAA 2 + CCC [0,4] = [2,6] */
	assert_int_equal(meas_panel_total(c, &pn, geo(c, f, "001"), 2021, S_GROUP(CUBE_G_GIRLS), &v, &d), 0);
	assert_int_equal(v.lo, 2);
	assert_int_equal(v.hi, 6);
	flags_are(v.flags, "c");
	/* a year outside the window */
	assert_int_equal(meas_panel_total(c, &pn, geo(c, f, "001"), 2019, CUBE_S_TOTAL, &v, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	meas_panel_free(&pn);
	/* 2021-2022: AAA, CCC, DDD; 2020-2021: AAA, BBB, CCC */
	assert_int_equal(meas_panel_build(c, VIC, 2021, 2022, &pn, &d), 0);
	assert_int_equal(pn.n, 3);
	assert_int_equal(pn.countries[2], ctry_of(f, "DDD"));
	meas_panel_free(&pn);
	assert_int_equal(meas_panel_build(c, VIC, 2020, 2021, &pn, &d), 0);
	assert_int_equal(pn.n, 3);
	assert_int_equal(pn.countries[1], ctry_of(f, "BBB"));
	meas_panel_free(&pn);
	/* suspects 2021: AAA has one quarter only (partial): nobody */
	assert_int_equal(meas_panel_build(c, SUS, 2021, 2021, &pn, &d), 0);
	assert_int_equal(pn.n, 0);
	meas_panel_free(&pn);
	/* a year nobody reported: nobody */
	assert_int_equal(meas_panel_build(c, VIC, 2019, 2021, &pn, &d), 0);
	assert_int_equal(pn.n, 0);
	meas_panel_free(&pn);
	assert_int_equal(meas_panel_build(c, VIC, 2022, 2021, &pn, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_free(&d);
}

static void test_pct_change(void **state)
{
	env *e = *state;
	fixture *f = e->f;
	cube *c = e->c;
	meas_panel pn;
	meas_change ch;
	diag d = DIAG_INIT;
	assert_int_equal(meas_panel_build(c, VIC, 2021, 2022, &pn, &d), 0);
	/* world, panel AAA+CCC+DDD: 8+25+14 = 47 -> 9+30+16 = 55:
	 * +8/47 = +17.02% (BBB, whose 2022 is partial, is not in it) */
	assert_int_equal(meas_pct_change(c, &pn, geo(c, f, "001"), CUBE_S_TOTAL, 2021, 2022, &ch, &d), 0);
	assert_true(ch.avail);
	assert_int_equal(ch.a.lo, 47);
	assert_int_equal(ch.b.lo, 55);
	NEAR(ch.pct, 17.02127659574468);
	NEAR(ch.lo, 17.02127659574468);
	NEAR(ch.hi, 17.02127659574468);
	flags_are(ch.flags, "d");
	/* R1: 33 -> 39 = +18.18%; R2 (DDD): 14 -> 16 = +14.29% */
	assert_int_equal(meas_pct_change(c, &pn, geo(c, f, "100"), CUBE_S_TOTAL, 2021, 2022, &ch, &d), 0);
	NEAR(ch.pct, 18.181818181818183);
	assert_int_equal(meas_pct_change(c, &pn, geo(c, f, "200"), CUBE_S_TOTAL, 2021, 2022, &ch, &d), 0);
	NEAR(ch.pct, 14.285714285714285);
	/* backwards: 55 -> 47 = -14.55% */
	assert_int_equal(meas_pct_change(c, &pn, geo(c, f, "001"), CUBE_S_TOTAL, 2022, 2021, &ch, &d), 0);
	NEAR(ch.pct, 100.0 * (47.0 - 55.0) / 55.0);
	/* girls: 2021 = AAA 2 + CCC [0,4] + DDD 0 = [2,6]; 2022 = 1 + 4 + 0
	 * = 5.  Change between 5/6 - 1 = -16.67% and 5/2 - 1 = +150%;
	 * midpoints 4 -> 5: +25% */
	assert_int_equal(meas_pct_change(c, &pn, geo(c, f, "001"), S_GROUP(CUBE_G_GIRLS), 2021, 2022, &ch, &d), 0);
	NEAR(ch.lo, -100.0 / 6);
	NEAR(ch.hi, 150.0);
	NEAR(ch.pct, 25.0);
	flags_are(ch.flags, "cd");
	/* boys: 2021 = 0 + 2 + 4 = 6, 2022 = 1 + 3 + 6 = 10: +66.67% */
	assert_int_equal(meas_pct_change(c, &pn, geo(c, f, "001"), S_GROUP(CUBE_G_BOYS), 2021, 2022, &ch, &d), 0);
	NEAR(ch.pct, 100.0 * 4 / 6);
	/* from zero: men in R2 (DDD 0 -> 0): not defined */
	assert_int_equal(meas_pct_change(c, &pn, geo(c, f, "200"), S_GROUP(CUBE_G_MEN), 2021, 2022, &ch, &d), 0);
	assert_false(ch.avail);
	assert_int_equal(meas_pct_change(c, &pn, geo(c, f, "001"), CUBE_S_TOTAL, 2020, 2022, &ch, &d), -1);
	meas_panel_free(&pn);
	diag_free(&d);
}

static void test_trend(void **state)
{
	env *e = *state;
	fixture *f = e->f;
	cube *c = e->c;
	meas_panel pn;
	meas_trend t;
	diag d = DIAG_INIT;
	assert_int_equal(meas_panel_build(c, VIC, 2020, 2022, &pn, &d), 0);
	/* world panel totals 26, 33, 39 at x = 0, 1, 2 (years since 2020):
	 * mean x 1, mean y 98/3; Sxx = 2; Sxy = -1*(26-98/3) + 1*(39-98/3)
	 * = 13; slope 6.5; intercept 98/3 - 6.5 = 26.1667; residuals -1/6,
	 * 1/3, -1/6, SSE = 1/6, s^2 = SSE/(n-2) = 1/6, SE = sqrt(s^2/Sxx) =
	 * sqrt(1/12) = 0.288675; t(0.975, 1 df) = 12.7062047362; CI = 6.5 -/+
	 * 3.667965 = [2.832035, 10.167965]; slope/mean = 19.898% a year */
	assert_int_equal(meas_trend_fit(c, &pn, geo(c, f, "001"), CUBE_S_TOTAL, &t, &d), 0);
	assert_true(t.avail);
	assert_int_equal(t.n, 3);
	NEAR(t.slope, 6.5);
	NEAR(t.intercept, 26.0 + 1.0 / 6);
	NEAR(t.se, 0.28867513459481287);
	NEAR(t.t_crit, 12.7062047361747);
	NEAR(t.ci_lo, 2.83203463759552);
	NEAR(t.ci_hi, 10.16796536240448);
	NEAR(t.mean, 98.0 / 3);
	NEAR(t.slope_pct, 19.89795918367347);
	flags_are(t.flags, "");
	/* girls: 1+3 = 4, 2+[0,4] = [2,6] (midpoint 4), 1+4 = 5: slope
	 * Sxy/Sxx = (-(4-13/3) + (5-13/3))/2 = 0.5; residuals 1/6, -1/3,
	 * 1/6: SE sqrt(1/12) again; flag c */
	assert_int_equal(meas_trend_fit(c, &pn, geo(c, f, "001"), S_GROUP(CUBE_G_GIRLS), &t, &d), 0);
	NEAR(t.slope, 0.5);
	NEAR(t.se, 0.28867513459481287);
	flags_are(t.flags, "c");
	/* S11 = AAA: 6, 8, 9: slope (9-6)/2 = 1.5; intercept 23/3 - 1.5 =
	 * 6.1667; residuals -1/6, 1/3, -1/6: SE sqrt(1/12) */
	assert_int_equal(meas_trend_fit(c, &pn, geo(c, f, "110"), CUBE_S_TOTAL, &t, &d), 0);
	NEAR(t.slope, 1.5);
	NEAR(t.se, 0.28867513459481287);
	/* R2 has no panel member */
	assert_int_equal(meas_trend_fit(c, &pn, geo(c, f, "200"), CUBE_S_TOTAL, &t, &d), 0);
	assert_false(t.avail);
	meas_panel_free(&pn);
	/* two years: no standard error, no trend */
	assert_int_equal(meas_panel_build(c, VIC, 2021, 2022, &pn, &d), 0);
	assert_int_equal(meas_trend_fit(c, &pn, geo(c, f, "001"), CUBE_S_TOTAL, &t, &d), 0);
	assert_false(t.avail);
	meas_panel_free(&pn);
	diag_free(&d);
}

/* unbounded totals; exact straight line; calls on an unfinished cube */
static void test_unbounded_and_bad_calls(void **state)
{
	env *e = *state;
	fixture *f = e->f;
	cube *c;
	diag d = DIAG_INIT;
	assert_int_equal(cube_new(&f->cl, &c, &d), 0);
	/* AAA annual totals 2019..2022: 5, ".." = [0, unbounded), 7, 9;
	 * BBB 10, 12, 14, 16 */
	static const kcell cells[] = {
		{"AAA", "2019", "_T", "_T", NULL, "_T", "_T", 5, 5, 0},
		{"AAA", "2020", "_T", "_T", NULL, "_T", "_T", 0, -1, STD_F_CENSORED},
		{"AAA", "2021", "_T", "_T", NULL, "_T", "_T", 7, 7, 0},
		{"AAA", "2022", "_T", "_T", NULL, "_T", "_T", 9, 9, 0},
		{"BBB", "2019", "_T", "_T", NULL, "_T", "_T", 10, 10, 0},
		{"BBB", "2020", "_T", "_T", NULL, "_T", "_T", 12, 12, 0},
		{"BBB", "2021", "_T", "_T", NULL, "_T", "_T", 14, 14, 0},
		{"BBB", "2022", "_T", "_T", NULL, "_T", "_T", 16, 16, 0},
	};
	for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
		std_row r = krow_cell(f, &cells[i], i + 1);
		assert_int_equal(cube_add_cell(c, &r, &d), 0);
	}
	meas_panel pn;
	meas_rate r;
	assert_int_equal(meas_panel_build(c, VIC, 2019, 2022, &pn, &d), -1);
	assert_int_equal(d.code, EX_SOFTWARE);
	assert_int_equal(meas_rate_get(c, &e->pop, 0, per("2020"), VIC, 0, &r, &d), -1);
	assert_int_equal(cube_finish(c, &d), 0);
	assert_int_equal(meas_panel_build(c, VIC, 2019, 2022, &pn, &d), 0);
	assert_int_equal(pn.n, 2);
	meas_change ch;
	meas_trend t;
	/* AAA 5 -> [0, inf): between -100% and +inf, no midpoint */
	assert_int_equal(meas_pct_change(c, &pn, geo(c, f, "AAA"), CUBE_S_TOTAL, 2019, 2020, &ch, &d), 0);
	assert_true(ch.avail);
	NEAR(ch.lo, -100.0);
	assert_true(isinf(ch.hi));
	assert_true(isnan(ch.pct));
	assert_int_equal(meas_trend_fit(c, &pn, geo(c, f, "AAA"), CUBE_S_TOTAL, &t, &d), 0);
	assert_false(t.avail);
	flags_are(t.flags, "c");
	/* BBB is a straight line: slope 2, SE 0, CI [2, 2] */
	assert_int_equal(meas_trend_fit(c, &pn, geo(c, f, "BBB"), CUBE_S_TOTAL, &t, &d), 0);
	assert_true(t.avail);
	assert_int_equal(t.n, 4);
	NEAR(t.slope, 2.0);
	NEAR(t.se, 0.0);
	NEAR(t.ci_lo, 2.0);
	NEAR(t.ci_hi, 2.0);
	NEAR(t.intercept, 10.0);
	/* rate with an unbounded numerator: AAA 2020 population 1e6 */
	assert_int_equal(meas_rate_get(c, &e->pop, geo(c, f, "AAA"), per("2020"), VIC, 0, &r, &d), 0);
	NEAR(r.lo, 0.0);
	assert_true(isinf(r.hi));
	meas_panel_free(&pn);
	cube_free(c);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_population_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_population_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shares, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coverage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_panel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pct_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unbounded_and_bad_calls, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
