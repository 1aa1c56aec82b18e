/* cube: the aggregation cube of detected victims and offenders.
 *
 * Harmonised rows (ingest/harmonise.h std_row) go in; counts come out for
 * every indicator (VIC, SUS, PROS, CONV), every geography (country,
 * M49 subregion, region, world), every period (quarter and year) and a
 * fixed set of breakdown slots.  The cube does not know where rows come
 * from (a submission file, the warehouse, another cube): callers feed them
 * with cube_add_record() / cube_add_cell(), then call cube_finish(), which
 * derives everything else.  docs/cube.md explains the rules in prose.
 *
 * Values are intervals [lo, hi] with flags, because countries censor small
 * cells ("<5" = [0,4]) and the cube never turns an interval into a guess:
 * a sum of intervals is the interval of the sums, and hi may be unbounded.
 *
 * Rules (all decided here, so every stage downstream agrees):
 *
 *  - Records: one row per person.  A record whose case key was already
 *    seen for the same country and indicator is not counted again: a
 *    person counts once, in the first period they appear, with that
 *    appearance's attributes, so a year stays the sum of its quarters.
 *    CONTRACT: the rows of one (country, indicator, key) must arrive
 *    consecutively among rows with that key (i.e. inside one run of rows
 *    with the same key), periods ascending.  Both ORDER BY country,
 *    indicator, key, period and the submission file's own order (key
 *    first) satisfy it; rows read submission by submission do not when a
 *    key recurs in a later one (sort with cube_record_cmp).  Only the
 *    current run of rows is kept
 *    in memory; a period going backwards inside a run is an error, a key
 *    that comes back in a later run cannot be detected and counts again.
 *    Records without a key are counted individually.
 *  - Cells: a country's own reported cells.  Age bands are summed into
 *    their age group (a group row, when given, wins over its bands),
 *    citizenships into the five citizenship classes.  A cell is (1) the
 *    reported row; else (2) 0 when the country reported other cells of the
 *    same breakdown (a long table lists every non-zero category); else
 *    (3) derived (flag d) as the sum of a finer breakdown the country
 *    reported; else (4) not available.  The same cell fed twice is an
 *    error at cube_finish().
 *  - A (country, period, indicator) holds either records or cells, never
 *    both.  cube_declare() says that a submission covered it even when no
 *    row came (no victim in a quarter): every slot is then 0, for records
 *    and for cells alike (a breakdown of nobody is zero everywhere).
 *  - Years: when the country has an annual (YYYY) block for the indicator,
 *    the year is that block and its quarters are ignored for the year;
 *    else the year is the sum of the quarters present, flagged p (partial)
 *    when fewer than four.  A breakdown missing in one quarter is missing
 *    for the year.
 *  - Aggregates (subregion, region, world) sum, per slot, the countries
 *    that have that slot; which ones is the cell's coverage.  Flags of the
 *    parts carry over to every sum that includes them.
 *
 * Merging: cube_merge() adds the accumulated rows of one cube to another;
 * after cube_finish() the result is exactly the cube of all rows, provided
 * the two row sets do not split a (country, indicator, key) group or a
 * (country, period, indicator) cells submission (split by country, or by
 * country and indicator).
 *
 * Memory: rows are accumulated per (country, period, indicator) block
 * (records as 40 counters, cells as their reported rows); cube_finish()
 * lays out dense arrays over the geographies and periods actually present:
 * n_geo x n_periods x n_indicators x CUBE_NSLOTS values, plus a coverage
 * bitset over the present countries for each aggregate value.
 *
 * Ownership: cube_new() returns a cube that refers to (does not copy) the
 * codelists, which must outlive it; cube_free() releases the rest.  Values
 * returned by the accessors are copies.  Not thread-safe: one cube per
 * thread, then cube_merge().
 */
#ifndef TIPSTAT_CUBE_H
#define TIPSTAT_CUBE_H

#include <stddef.h>
#include <stdint.h>
#include "core/codelist.h"
#include "core/diag.h"
#include "ingest/harmonise.h"

/* --- breakdown slots ----------------------------------------------------
 * Dimension codes inside the cube (resolved by code from the codelists):
 *   sex  0..3 = F M O U;  age 0..2 = Y0T17 Y_GE18 U;
 *   form 0..9 = SEX LAB CRIM BEG MAR ORG ADOP MIX OTH U;
 *   citizenship class 0..4 = domestic, same subregion, other subregion of
 *   the same region, other region, unknown.
 * Every family below except TOTAL partitions the total; SEX and AGE are
 * also the margins of SEXAGE. */
enum { CUBE_NSEX = 4, CUBE_NAGE = 3, CUBE_NGROUP = 5, CUBE_NFORM = 10, CUBE_NCIT = 5 };
enum cube_sex { CUBE_SEX_F, CUBE_SEX_M, CUBE_SEX_O, CUBE_SEX_U };
enum cube_age { CUBE_AGE_MINOR, CUBE_AGE_ADULT, CUBE_AGE_U };
enum cube_group { CUBE_G_WOMEN, CUBE_G_MEN, CUBE_G_GIRLS, CUBE_G_BOYS, CUBE_G_UNKNOWN };
enum cube_form { CUBE_FORM_SEX, CUBE_FORM_LAB, CUBE_FORM_CRIM, CUBE_FORM_BEG,
                 CUBE_FORM_MAR, CUBE_FORM_ORG, CUBE_FORM_ADOP, CUBE_FORM_MIX,
                 CUBE_FORM_OTH, CUBE_FORM_U };
enum cube_cit { CUBE_CIT_DOMESTIC, CUBE_CIT_SAMESUB, CUBE_CIT_OTHERSUB,
                CUBE_CIT_OTHERREG, CUBE_CIT_U };

enum cube_slot {
	CUBE_S_TOTAL = 0,
	CUBE_S_SEXAGE = 1,  /* 1..12: 1 + sex*3 + age */
	CUBE_S_SEX = 13,    /* 13..16: F M O U (margin over age) */
	CUBE_S_AGE = 17,    /* 17..19: minor adult unknown (margin over sex) */
	CUBE_S_GROUP = 20,  /* 20..24: women men girls boys unknown */
	CUBE_S_FORM = 25,   /* 25..34 */
	CUBE_S_CIT = 35,    /* 35..39 */
	CUBE_NSLOTS = 40
};
#define CUBE_SLOT_SEXAGE(s, a) (CUBE_S_SEXAGE + (s) * CUBE_NAGE + (a))

enum cube_family { CUBE_FAM_TOTAL, CUBE_FAM_SEXAGE, CUBE_FAM_SEX, CUBE_FAM_AGE,
                   CUBE_FAM_GROUP, CUBE_FAM_FORM, CUBE_FAM_CIT, CUBE_NFAM };

/* Family of a slot; first slot and size of a family. */
int cube_slot_family(int slot);
int cube_family_first(int fam);
int cube_family_size(int fam);
/* Stable name of a slot: "TOTAL", "SEXAGE:F:Y0T17", "SEX:F", "AGE:Y_GE18",
 * "GROUP:girls", "FORM:LAB", "CIT:domestic".  Static string, NULL if out
 * of range. */
const char *cube_slot_name(int slot);

/* --- values ------------------------------------------------------------- */

#define CUBE_UNBOUNDED (-1)   /* hi of an interval with no upper bound */

enum cube_flag {
	CUBE_F_CENSORED    = 1,  /* c: includes a value censored by a country */
	CUBE_F_NONADDITIVE = 2,  /* a: includes a total reported as not the sum of its parts */
	CUBE_F_PARTIAL     = 4,  /* p: includes a year built from fewer than 4 quarters */
	CUBE_F_DERIVED     = 8   /* d: includes a value derived by the cube from a finer breakdown */
};

typedef struct cube_value {
	int64_t lo, hi;          /* closed interval; hi = CUBE_UNBOUNDED: no bound */
	uint32_t n_countries;    /* countries contributing (country level: 1) */
	uint16_t flags;          /* enum cube_flag */
	uint8_t avail;           /* 0 = not available (distinct from zero) */
} cube_value;

/* Flags as sorted letters ("acdp" order: a c d p), NUL-terminated. */
void cube_flags_str(unsigned flags, char buf[8]);

/* --- geography and time -------------------------------------------------- */

enum cube_geo_kind { CUBE_GEO_WORLD = 0, CUBE_GEO_REGION = 1,
                     CUBE_GEO_SUBREGION = 2, CUBE_GEO_COUNTRY = 3 };

typedef struct cube_geo {
	int kind;       /* enum cube_geo_kind */
	int index;      /* cl->countries index for a country, else cl->regions index */
} cube_geo;

/* --- building ------------------------------------------------------------ */

enum cube_kind { CUBE_RECORDS = 1, CUBE_CELLS = 2 };

typedef struct cube_stats {
	uint64_t records_in;        /* records fed */
	uint64_t records_counted;   /* counted (keyless + first appearances) */
	uint64_t records_duplicate; /* re-reports of a key already counted */
	uint64_t records_keyless;   /* counted without a key */
	uint64_t cells_in;          /* cells fed */
} cube_stats;

typedef struct cube cube;

/* A new empty cube over the codelists.  Fails (EX_CONFIG) when a code the
 * slot layout needs is missing from the codelists. */
int cube_new(const codelists *cl, cube **out, diag *d);
void cube_free(cube *c);

/* Feed one case-level record (sex/age/form/citizenship must be codes, not
 * totals; lo/hi/flags are ignored).  See the ordering contract above. */
int cube_add_record(cube *c, const std_row *r, diag *d);
/* A qsort/extsort comparator over std_row that puts records in an order
 * meeting the contract: country, indicator, keyed before keyless, key,
 * period, source line.  Rows read part by part (one submission after
 * another) do not meet it when a key recurs in a later submission: sort
 * them with this first. */
int cube_record_cmp(const void *a, const void *b);
/* Feed one aggregate cell (dimensions may be STD_TOTAL; lo, hi, flags as
 * in the standard). */
int cube_add_cell(cube *c, const std_row *r, diag *d);
/* A submission of this kind covered (country, period, indicator), rows or
 * not. */
int cube_declare(cube *c, int kind, int country, int period, int indicator, diag *d);
/* Add everything src accumulated to dst (same codelists).  dst must then
 * be finished again.  src is unchanged. */
int cube_merge(cube *dst, const cube *src, diag *d);
/* Compute all values.  May be called again after more rows or a merge. */
int cube_finish(cube *c, diag *d);

void cube_get_stats(const cube *c, cube_stats *out);

/* --- reading (finished cube only) ---------------------------------------- */

const codelists *cube_codelists(const cube *c);
int cube_finished(const cube *c);
size_t cube_n_indicators(const cube *c);

/* Geographies present, in stable order: world, regions, subregions (each
 * in codelist order), countries (codelist order).  Only aggregates with at
 * least one country present. */
size_t cube_n_geo(const cube *c);
cube_geo cube_geo_at(const cube *c, size_t pos);
/* Position of a geography, or -1 when it is not in the cube. */
int cube_geo_find(const cube *c, int kind, int index);

/* Countries present (ascending codelist index); position <-> index. */
size_t cube_n_countries(const cube *c);
int cube_country_at(const cube *c, size_t pos);
int cube_country_pos(const cube *c, int country);

/* Periods present, ascending (packed, core/period.h): every quarter that
 * has a block, and the year (YYYY) of every period present. */
size_t cube_n_periods(const cube *c);
int cube_period_at(const cube *c, size_t pos);

/* The value of one cell: geo is a position (cube_geo_find), period packed,
 * indicator a codelist index, slot an enum cube_slot.  0 = *out filled
 * (possibly not available), -1 = coordinates not in the cube (*out zeroed,
 * not available) or cube not finished. */
int cube_get(const cube *c, int geo, int period, int indicator, int slot,
             cube_value *out);
/* 1 when the country at position cpos contributes to the cell. */
int cube_contributes(const cube *c, int geo, int period, int indicator,
                     int slot, size_t cpos);

/* Iterator over every cell (available or not) in stable order: geography
 * position, period, indicator, slot. */
typedef struct cube_cell {
	cube_geo geo;
	int geo_pos;
	int period;
	int indicator;
	int slot;
	cube_value v;
} cube_cell;

typedef struct cube_iter { size_t i; } cube_iter;

void cube_iter_init(cube_iter *it);
/* 1 = *out filled, 0 = end (or cube not finished). */
int cube_next(const cube *c, cube_iter *it, cube_cell *out);

#endif
