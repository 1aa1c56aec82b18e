/* cube: known answers on a small hand-made dataset (every expected number
 * is worked out in the comments, not by calling the cube), error cases,
 * and properties on a random dataset with a fixed seed, checked against
 * the generator's own truth and by independent re-summing:
 *   - case-level counts equal a brute-force dedup (first appearance of
 *     each (country, indicator, key), that appearance's attributes);
 *   - every interval contains the true count; exact where nothing is
 *     censored; breakdowns not reported are not available;
 *   - every total equals the sum of its parts at every level;
 *   - subregion = sum of its countries, region = sum of its subregions,
 *     world = sum of its regions; no country counted twice;
 *   - annual = sum of quarters;
 *   - merge(A, B) == cube of all rows, for splits by country and by
 *     indicator, with the two feeding orders the contract allows.
 *
 * The codelists are built by hand (no codelist.c, no files): a few
 * countries in two regions, and the sex/age/form/indicator tables with
 * index = NULL; codes are looked up here with plain strcmp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "aggregator/cube.h"
#include "core/period.h"
#include "tests/unit/cube_known.h"

static cube_value val(const cube *c, const fixture *f, const char *g, const char *p,
                      const char *ind, int slot)
{
	cube_value v;
	int gp = geo(c, f, g);
	assert_true(gp >= 0);
	assert_int_equal(cube_get(c, gp, per(p), code_of(&f->cl.indicators, ind), slot, &v), 0);
	return v;
}

/* available, [lo, hi], flags, contributing countries */
static void expect_v(cube_value v, int64_t lo, int64_t hi, const char *flags, unsigned n)
{
	char fb[8];
	cube_flags_str(v.flags, fb);
	if (!v.avail || v.lo != lo || v.hi != hi || strcmp(fb, flags) != 0 || v.n_countries != n)
		fail_msg("got avail=%d [%lld,%lld] '%s' n=%u; expected [%lld,%lld] '%s' n=%u",
		         v.avail, (long long)v.lo, (long long)v.hi, fb, v.n_countries,
		         (long long)lo, (long long)hi, flags, n);
}

#define EXPECT(g, p, ind, slot, lo, hi, fl, n) expect_v(val(c, f, g, p, ind, slot), lo, hi, fl, n)
#define EXPECT_NA(g, p, ind, slot) assert_int_equal(val(c, f, g, p, ind, slot).avail, 0)

#define S_GROUP(g) (CUBE_S_GROUP + (g))
#define S_FORM(x) (CUBE_S_FORM + (x))
#define S_CIT(x) (CUBE_S_CIT + (x))

/* --- known answers -------------------------------------------------------------- */

static void test_slot_layout(void **state)
{
	(void)state;
	int seen[CUBE_NSLOTS] = {0};
	int total = 0;
	for (int fam = 0; fam < CUBE_NFAM; fam++) {
		total += cube_family_size(fam);
		for (int k = 0; k < cube_family_size(fam); k++) {
			int s = cube_family_first(fam) + k;
			assert_int_equal(cube_slot_family(s), fam);
			seen[s]++;
		}
	}
	assert_int_equal(total, CUBE_NSLOTS);
	for (int s = 0; s < CUBE_NSLOTS; s++)
		assert_int_equal(seen[s], 1);
	assert_string_equal(cube_slot_name(CUBE_SLOT_SEXAGE(CUBE_SEX_F, CUBE_AGE_MINOR)), "SEXAGE:F:Y0T17");
	assert_string_equal(cube_slot_name(CUBE_SLOT_SEXAGE(CUBE_SEX_U, CUBE_AGE_U)), "SEXAGE:U:U");
	assert_string_equal(cube_slot_name(S_GROUP(CUBE_G_GIRLS)), "GROUP:girls");
	assert_string_equal(cube_slot_name(S_FORM(CUBE_FORM_U)), "FORM:U");
	assert_string_equal(cube_slot_name(S_CIT(CUBE_CIT_OTHERREG)), "CIT:other_region");
	assert_null(cube_slot_name(CUBE_NSLOTS));
	char b[8];
	cube_flags_str(CUBE_F_PARTIAL | CUBE_F_CENSORED | CUBE_F_DERIVED | CUBE_F_NONADDITIVE, b);
	assert_string_equal(b, "acdp");
}

static void test_known_country_totals(void **state)
{
	(void)state;
	fixture *f = fx_small();
	cube *c = build_known(f);
	/* geographies: world, R1, R2, S11, S12, S21, then the 4 reporting
	 * countries; EEE never reported so it is not in the cube */
	assert_int_equal(cube_n_geo(c), 10);
	assert_int_equal(cube_n_countries(c), 4);
	assert_int_equal(geo(c, f, "EEE"), -1);
	assert_int_equal(cube_geo_at(c, 0).kind, CUBE_GEO_WORLD);
	assert_int_equal(cube_geo_at(c, 1).kind, CUBE_GEO_REGION);
	assert_int_equal(cube_geo_at(c, 3).kind, CUBE_GEO_SUBREGION);
	assert_int_equal(cube_geo_at(c, 6).kind, CUBE_GEO_COUNTRY);
	assert_int_equal(cube_geo_at(c, 6).index, 0);
	/* periods: 2020, 2020-Q1..Q4, 2021, ..., 2022-Q4 */
	assert_int_equal(cube_n_periods(c), 15);
	assert_int_equal(cube_period_at(c, 0), per("2020"));
	assert_int_equal(cube_period_at(c, 1), per("2020-Q1"));
	assert_int_equal(cube_period_at(c, 14), per("2022-Q4"));

	/* AAA: quarters 2,1,2,1 / 2,1,2,3 / 2,3,2,2 */
	EXPECT("AAA", "2020-Q1", "VIC", CUBE_S_TOTAL, 2, 2, "", 1);
	EXPECT("AAA", "2020-Q3", "VIC", CUBE_S_TOTAL, 2, 2, "", 1);
	EXPECT("AAA", "2020", "VIC", CUBE_S_TOTAL, 6, 6, "", 1);
	EXPECT("AAA", "2021-Q2", "VIC", CUBE_S_TOTAL, 1, 1, "", 1);
	EXPECT("AAA", "2021-Q4", "VIC", CUBE_S_TOTAL, 3, 3, "", 1);
	EXPECT("AAA", "2021", "VIC", CUBE_S_TOTAL, 8, 8, "", 1);
	EXPECT("AAA", "2022-Q1", "VIC", CUBE_S_TOTAL, 2, 2, "", 1);
	EXPECT("AAA", "2022-Q4", "VIC", CUBE_S_TOTAL, 2, 2, "", 1);
	EXPECT("AAA", "2022", "VIC", CUBE_S_TOTAL, 9, 9, "", 1);
	/* K10 under suspects counts although it is a victim key too; one
	 * quarter only: a partial year */
	EXPECT("AAA", "2021-Q3", "SUS", CUBE_S_TOTAL, 1, 1, "", 1);
	EXPECT("AAA", "2021", "SUS", CUBE_S_TOTAL, 1, 1, "p", 1);
	EXPECT_NA("AAA", "2021-Q1", "SUS", CUBE_S_TOTAL);
	EXPECT_NA("AAA", "2021", "PROS", CUBE_S_TOTAL);
	/* BBB: 5, 6, and 2022 = 1+2+1 = 4 from three quarters */
	EXPECT("BBB", "2020", "VIC", CUBE_S_TOTAL, 5, 5, "", 1);
	EXPECT("BBB", "2021", "VIC", CUBE_S_TOTAL, 6, 6, "", 1);
	EXPECT("BBB", "2022", "VIC", CUBE_S_TOTAL, 4, 4, "p", 1);
	EXPECT_NA("BBB", "2022-Q3", "VIC", CUBE_S_TOTAL);
	/* CCC: the annual submission is the year (30, not 30 + 2 from its
	 * 2022-Q1 records); the quarter keeps its own 2 */
	EXPECT("CCC", "2020", "VIC", CUBE_S_TOTAL, 20, 20, "", 1);
	EXPECT("CCC", "2021", "VIC", CUBE_S_TOTAL, 25, 25, "", 1);
	EXPECT("CCC", "2022", "VIC", CUBE_S_TOTAL, 30, 30, "", 1);
	EXPECT("CCC", "2022-Q1", "VIC", CUBE_S_TOTAL, 2, 2, "", 1);
	EXPECT_NA("CCC", "2021-Q1", "VIC", CUBE_S_TOTAL);
	/* DDD: totals derived from its breakdown (flag d) */
	EXPECT("DDD", "2021-Q1", "VIC", CUBE_S_TOTAL, 4, 4, "d", 1);
	EXPECT("DDD", "2021-Q3", "VIC", CUBE_S_TOTAL, 4, 4, "d", 1);
	EXPECT("DDD", "2021", "VIC", CUBE_S_TOTAL, 14, 14, "d", 1);
	EXPECT("DDD", "2022-Q2", "VIC", CUBE_S_TOTAL, 4, 4, "d", 1);
	EXPECT("DDD", "2022-Q4", "VIC", CUBE_S_TOTAL, 6, 6, "d", 1);
	EXPECT("DDD", "2022", "VIC", CUBE_S_TOTAL, 16, 16, "d", 1);
	EXPECT_NA("DDD", "2020", "VIC", CUBE_S_TOTAL);

	/* records: 28 AAA rows (4 re-reports: K1, K10, K2, K20; 3 keyless),
	 * 15 BBB and 2 CCC keyless rows; 37 cells */
	cube_stats st;
	cube_get_stats(c, &st);
	assert_int_equal(st.records_in, 45);
	assert_int_equal(st.records_duplicate, 4);
	assert_int_equal(st.records_counted, 41);
	assert_int_equal(st.records_keyless, 20);
	assert_int_equal(st.cells_in, 37);
	cube_free(c);
	free(f);
}

static void test_known_breakdowns(void **state)
{
	(void)state;
	fixture *f = fx_small();
	cube *c = build_known(f);
	/* AAA 2021 (see the table): groups 2,3,2,0,1; forms; citizenship */
	EXPECT("AAA", "2021", "VIC", S_GROUP(CUBE_G_WOMEN), 2, 2, "", 1);
	EXPECT("AAA", "2021", "VIC", S_GROUP(CUBE_G_MEN), 3, 3, "", 1);
	EXPECT("AAA", "2021", "VIC", S_GROUP(CUBE_G_GIRLS), 2, 2, "", 1);
	EXPECT("AAA", "2021", "VIC", S_GROUP(CUBE_G_BOYS), 0, 0, "", 1);
	EXPECT("AAA", "2021", "VIC", S_GROUP(CUBE_G_UNKNOWN), 1, 1, "", 1);
	EXPECT("AAA", "2021", "VIC", CUBE_SLOT_SEXAGE(CUBE_SEX_O, CUBE_AGE_ADULT), 1, 1, "", 1);
	EXPECT("AAA", "2021", "VIC", CUBE_S_SEX + CUBE_SEX_F, 4, 4, "", 1);
	EXPECT("AAA", "2021", "VIC", CUBE_S_AGE + CUBE_AGE_MINOR, 2, 2, "", 1);
	EXPECT("AAA", "2021", "VIC", S_FORM(CUBE_FORM_SEX), 4, 4, "", 1);
	EXPECT("AAA", "2021", "VIC", S_FORM(CUBE_FORM_LAB), 1, 1, "", 1);
	EXPECT("AAA", "2021", "VIC", S_FORM(CUBE_FORM_CRIM), 1, 1, "", 1);
	EXPECT("AAA", "2021", "VIC", S_FORM(CUBE_FORM_BEG), 1, 1, "", 1);
	EXPECT("AAA", "2021", "VIC", S_FORM(CUBE_FORM_OTH), 1, 1, "", 1);
	EXPECT("AAA", "2021", "VIC", S_FORM(CUBE_FORM_MIX), 0, 0, "", 1);
	EXPECT("AAA", "2021", "VIC", S_CIT(CUBE_CIT_DOMESTIC), 4, 4, "", 1);
	EXPECT("AAA", "2021", "VIC", S_CIT(CUBE_CIT_SAMESUB), 0, 0, "", 1);
	EXPECT("AAA", "2021", "VIC", S_CIT(CUBE_CIT_OTHERSUB), 1, 1, "", 1);
	EXPECT("AAA", "2021", "VIC", S_CIT(CUBE_CIT_OTHERREG), 1, 1, "", 1);
	EXPECT("AAA", "2021", "VIC", S_CIT(CUBE_CIT_U), 2, 2, "", 1);
	/* K2 counts once, as a girl in 2021-Q4 (its first appearance), not
	 * as the woman it is re-reported as in 2022-Q1 */
	EXPECT("AAA", "2021-Q4", "VIC", S_GROUP(CUBE_G_GIRLS), 1, 1, "", 1);
	EXPECT("AAA", "2022-Q1", "VIC", S_GROUP(CUBE_G_WOMEN), 1, 1, "", 1);
	EXPECT("AAA", "2022-Q1", "VIC", S_FORM(CUBE_FORM_BEG), 0, 0, "", 1);
	EXPECT("AAA", "2022", "VIC", S_GROUP(CUBE_G_WOMEN), 4, 4, "", 1);
	EXPECT("AAA", "2022", "VIC", S_GROUP(CUBE_G_GIRLS), 1, 1, "", 1);
	/* a 2020-Q1 person, re-reported in Q3 with the same attributes */
	EXPECT("AAA", "2020-Q3", "VIC", S_GROUP(CUBE_G_WOMEN), 0, 0, "", 1);
	EXPECT("AAA", "2020-Q1", "VIC", S_GROUP(CUBE_G_WOMEN), 1, 1, "", 1);
	/* BBB 2021: women 2, men 1, girls 1, boys 1, unknown 1 */
	EXPECT("BBB", "2021", "VIC", S_GROUP(CUBE_G_WOMEN), 2, 2, "", 1);
	EXPECT("BBB", "2021", "VIC", S_GROUP(CUBE_G_BOYS), 1, 1, "", 1);
	EXPECT("BBB", "2021", "VIC", S_GROUP(CUBE_G_UNKNOWN), 1, 1, "", 1);
	EXPECT("BBB", "2021", "VIC", S_CIT(CUBE_CIT_SAMESUB), 1, 1, "", 1);
	/* CCC 2021: the censored girls stay an interval, with flag c */
	EXPECT("CCC", "2021", "VIC", CUBE_SLOT_SEXAGE(CUBE_SEX_F, CUBE_AGE_MINOR), 0, 4, "c", 1);
	EXPECT("CCC", "2021", "VIC", S_GROUP(CUBE_G_GIRLS), 0, 4, "c", 1);
	EXPECT("CCC", "2021", "VIC", S_GROUP(CUBE_G_WOMEN), 12, 12, "", 1);
	/* sex x age reported for F/M only: O and U are 0 (a reported
	 * breakdown lists every non-zero category), not unavailable */
	EXPECT("CCC", "2021", "VIC", CUBE_SLOT_SEXAGE(CUBE_SEX_O, CUBE_AGE_ADULT), 0, 0, "", 1);
	EXPECT("CCC", "2021", "VIC", S_GROUP(CUBE_G_UNKNOWN), 0, 0, "", 1);
	/* sex margin not reported: derived from sex x age, F = 12 + [0,4] */
	EXPECT("CCC", "2021", "VIC", CUBE_S_SEX + CUBE_SEX_F, 12, 16, "cd", 1);
	EXPECT("CCC", "2021", "VIC", CUBE_S_SEX + CUBE_SEX_M, 10, 10, "d", 1);
	EXPECT("CCC", "2021", "VIC", CUBE_S_SEX + CUBE_SEX_U, 0, 0, "d", 1);
	EXPECT("CCC", "2021", "VIC", CUBE_S_AGE + CUBE_AGE_MINOR, 2, 6, "cd", 1);
	EXPECT("CCC", "2021", "VIC", S_FORM(CUBE_FORM_SEX), 15, 15, "", 1);
	EXPECT("CCC", "2021", "VIC", S_FORM(CUBE_FORM_MIX), 0, 0, "", 1);
	EXPECT("CCC", "2021", "VIC", S_CIT(CUBE_CIT_DOMESTIC), 20, 20, "", 1);
	EXPECT("CCC", "2021", "VIC", S_CIT(CUBE_CIT_OTHERSUB), 3, 3, "", 1);
	EXPECT("CCC", "2021", "VIC", S_CIT(CUBE_CIT_U), 2, 2, "", 1);
	/* CCC 2022 did not report forms or citizenship: not available */
	EXPECT_NA("CCC", "2022", "VIC", S_FORM(CUBE_FORM_SEX));
	EXPECT_NA("CCC", "2022", "VIC", S_FORM(CUBE_FORM_U));
	EXPECT_NA("CCC", "2022", "VIC", S_CIT(CUBE_CIT_DOMESTIC));
	EXPECT("CCC", "2022", "VIC", S_GROUP(CUBE_G_BOYS), 3, 3, "", 1);
	/* DDD: everything derived from the sex x age x form cells; the group
	 * row beats its band (2022-Q2 women 3, not 5); a band alone counts
	 * (2022-Q4 boys 3); no citizenship */
	EXPECT("DDD", "2022-Q2", "VIC", S_GROUP(CUBE_G_WOMEN), 3, 3, "d", 1);
	EXPECT("DDD", "2022-Q4", "VIC", S_GROUP(CUBE_G_BOYS), 3, 3, "d", 1);
	EXPECT("DDD", "2022", "VIC", S_GROUP(CUBE_G_WOMEN), 10, 10, "d", 1);
	EXPECT("DDD", "2022", "VIC", S_GROUP(CUBE_G_BOYS), 6, 6, "d", 1);
	EXPECT("DDD", "2022", "VIC", S_GROUP(CUBE_G_MEN), 0, 0, "d", 1);
	EXPECT("DDD", "2022", "VIC", S_FORM(CUBE_FORM_SEX), 10, 10, "d", 1);
	EXPECT("DDD", "2022", "VIC", S_FORM(CUBE_FORM_LAB), 6, 6, "d", 1);
	EXPECT("DDD", "2022", "VIC", CUBE_S_AGE + CUBE_AGE_MINOR, 6, 6, "d", 1);
	EXPECT_NA("DDD", "2022", "VIC", S_CIT(CUBE_CIT_DOMESTIC));
	EXPECT_NA("DDD", "2021-Q3", "VIC", S_CIT(CUBE_CIT_U));
	cube_free(c);
	free(f);
}

static void test_known_aggregates(void **state)
{
	(void)state;
	fixture *f = fx_small();
	cube *c = build_known(f);
	/* 2020: AAA 6 + BBB 5 = 11 in S11; + CCC 20 = 31 in R1 and world (DDD
	 * has no 2020); R2 has no value */
	EXPECT("110", "2020", "VIC", CUBE_S_TOTAL, 11, 11, "", 2);
	EXPECT("100", "2020", "VIC", CUBE_S_TOTAL, 31, 31, "", 3);
	EXPECT("001", "2020", "VIC", CUBE_S_TOTAL, 31, 31, "", 3);
	EXPECT_NA("200", "2020", "VIC", CUBE_S_TOTAL);
	/* 2021: S11 8+6 = 14, S12 25, R1 39, R2 = DDD 14 (d), world 53 */
	EXPECT("110", "2021", "VIC", CUBE_S_TOTAL, 14, 14, "", 2);
	EXPECT("120", "2021", "VIC", CUBE_S_TOTAL, 25, 25, "", 1);
	EXPECT("100", "2021", "VIC", CUBE_S_TOTAL, 39, 39, "", 3);
	EXPECT("200", "2021", "VIC", CUBE_S_TOTAL, 14, 14, "d", 1);
	EXPECT("210", "2021", "VIC", CUBE_S_TOTAL, 14, 14, "d", 1);
	EXPECT("001", "2021", "VIC", CUBE_S_TOTAL, 53, 53, "d", 4);
	/* 2022: S11 9+4 (BBB partial) = 13, R1 13+30 = 43, world 43+16 = 59 */
	EXPECT("110", "2022", "VIC", CUBE_S_TOTAL, 13, 13, "p", 2);
	EXPECT("100", "2022", "VIC", CUBE_S_TOTAL, 43, 43, "p", 3);
	EXPECT("001", "2022", "VIC", CUBE_S_TOTAL, 59, 59, "dp", 4);
	/* quarters: 2021-Q1 AAA 2 + BBB 1 + DDD 4 = 7 (CCC is annual);
	 * 2022-Q1 AAA 2 + BBB 1 + CCC 2 + DDD 4 = 9 */
	EXPECT("001", "2021-Q1", "VIC", CUBE_S_TOTAL, 7, 7, "d", 3);
	EXPECT("001", "2022-Q1", "VIC", CUBE_S_TOTAL, 9, 9, "d", 4);
	EXPECT("100", "2022-Q3", "VIC", CUBE_S_TOTAL, 2, 2, "", 1);
	/* world 2021 groups: women 2+2+12+10 = 26, men 3+1+8+0 = 12, girls
	 * 2+1+[0,4]+0 = [3,7] (censored), boys 0+1+2+4 = 7, unknown 1+1 = 2 */
	EXPECT("001", "2021", "VIC", S_GROUP(CUBE_G_WOMEN), 26, 26, "d", 4);
	EXPECT("001", "2021", "VIC", S_GROUP(CUBE_G_MEN), 12, 12, "d", 4);
	EXPECT("001", "2021", "VIC", S_GROUP(CUBE_G_GIRLS), 3, 7, "cd", 4);
	EXPECT("001", "2021", "VIC", S_GROUP(CUBE_G_BOYS), 7, 7, "d", 4);
	EXPECT("001", "2021", "VIC", S_GROUP(CUBE_G_UNKNOWN), 2, 2, "d", 4);
	/* world 2021 forms: SEX 4+3+15+10 = 32, LAB 1+2+10+4 = 17, CRIM 1,
	 * BEG 1, OTH 1, U 1: sum 53 = the world total */
	EXPECT("001", "2021", "VIC", S_FORM(CUBE_FORM_SEX), 32, 32, "d", 4);
	EXPECT("001", "2021", "VIC", S_FORM(CUBE_FORM_LAB), 17, 17, "d", 4);
	EXPECT("001", "2021", "VIC", S_FORM(CUBE_FORM_U), 1, 1, "d", 4);
	/* world 2021 citizenship (DDD has none): dom 4+2+20 = 26, same sub
	 * 0+1+0 = 1, other sub 1+1+3 = 5, other region 1+1+0 = 2, unknown
	 * 2+1+2 = 5; 3 countries */
	EXPECT("001", "2021", "VIC", S_CIT(CUBE_CIT_DOMESTIC), 26, 26, "", 3);
	EXPECT("001", "2021", "VIC", S_CIT(CUBE_CIT_SAMESUB), 1, 1, "", 3);
	EXPECT("001", "2021", "VIC", S_CIT(CUBE_CIT_OTHERSUB), 5, 5, "", 3);
	EXPECT("001", "2021", "VIC", S_CIT(CUBE_CIT_OTHERREG), 2, 2, "", 3);
	EXPECT("001", "2021", "VIC", S_CIT(CUBE_CIT_U), 5, 5, "", 3);
	/* 2022 forms: CCC has none, so 3 countries */
	EXPECT("001", "2022", "VIC", S_FORM(CUBE_FORM_SEX), 18, 18, "dp", 3);
	/* coverage sets */
	int w = geo(c, f, "001"), r2 = geo(c, f, "200");
	size_t pa = (size_t)cube_country_pos(c, ctry_of(f, "AAA"));
	size_t pc = (size_t)cube_country_pos(c, ctry_of(f, "CCC"));
	size_t pd = (size_t)cube_country_pos(c, ctry_of(f, "DDD"));
	int vic = 0;
	assert_true(cube_contributes(c, w, per("2021"), vic, S_CIT(CUBE_CIT_U), pa));
	assert_false(cube_contributes(c, w, per("2021"), vic, S_CIT(CUBE_CIT_U), pd));
	assert_true(cube_contributes(c, w, per("2021"), vic, CUBE_S_TOTAL, pd));
	assert_false(cube_contributes(c, w, per("2021-Q1"), vic, CUBE_S_TOTAL, pc));
	assert_true(cube_contributes(c, w, per("2022-Q1"), vic, CUBE_S_TOTAL, pc));
	assert_false(cube_contributes(c, r2, per("2021"), vic, CUBE_S_TOTAL, pa));
	assert_true(cube_contributes(c, r2, per("2021"), vic, CUBE_S_TOTAL, pd));
	/* bad coordinates */
	cube_value v;
	assert_int_equal(cube_get(c, w, per("2019"), vic, 0, &v), -1);
	assert_int_equal(cube_get(c, 99, per("2021"), vic, 0, &v), -1);
	assert_int_equal(cube_get(c, w, per("2021"), vic, CUBE_NSLOTS, &v), -1);
	assert_int_equal(v.avail, 0);
	cube_free(c);
	free(f);
}

static void test_iterator(void **state)
{
	(void)state;
	fixture *f = fx_small();
	cube *c = build_known(f);
	cube_iter it;
	cube_cell cell, prev;
	size_t n = 0, avail = 0;
	cube_iter_init(&it);
	while (cube_next(c, &it, &cell)) {
		if (n) {
			/* strictly increasing (geo, period, indicator, slot) */
			int cmp = cell.geo_pos != prev.geo_pos ? (cell.geo_pos > prev.geo_pos ? 1 : -1) :
			          cell.period != prev.period ? (cell.period > prev.period ? 1 : -1) :
			          cell.indicator != prev.indicator ? (cell.indicator > prev.indicator ? 1 : -1) :
			          (cell.slot > prev.slot ? 1 : -1);
			assert_int_equal(cmp, 1);
		}
		cube_value v;
		assert_int_equal(cube_get(c, cell.geo_pos, cell.period, cell.indicator, cell.slot, &v), 0);
		assert_memory_equal(&v, &cell.v, sizeof v);
		assert_int_equal(cube_geo_at(c, (size_t)cell.geo_pos).kind, cell.geo.kind);
		avail += cell.v.avail;
		prev = cell;
		n++;
	}
	/* 10 geographies x 15 periods x 4 indicators x 40 slots */
	assert_int_equal(n, 10 * 15 * 4 * CUBE_NSLOTS);
	assert_true(avail > 0 && avail < n);
	cube_free(c);
	free(f);
}

/* --- rules and errors -------------------------------------------------------------- */

static void test_declare_zero_quarters(void **state)
{
	(void)state;
	fixture *f = fx_small();
	cube *c;
	diag d = DIAG_INIT;
	assert_int_equal(cube_new(&f->cl, &c, &d), 0);
	/* an empty cube finishes to nothing; rows may follow a finish */
	assert_int_equal(cube_finish(c, &d), 0);
	assert_int_equal(cube_n_geo(c), 0);
	assert_int_equal(cube_n_periods(c), 0);
	cube_iter it;
	cube_cell cell;
	cube_iter_init(&it);
	assert_int_equal(cube_next(c, &it, &cell), 0);
	/* AAA reported every quarter of 2023 but had victims only in Q2:
	 * the year is complete (no p), the other quarters are 0 */
	for (int q = 1; q <= 4; q++)
		assert_int_equal(cube_declare(c, CUBE_RECORDS, 0, period_make(2023, q), 0, &d), 0);
	krec k = {"AAA", "2023-Q2", "VIC", "F", "Y_GE18", "SEX", "AAA", NULL};
	std_row r = krow_rec(f, &k, 1);
	assert_int_equal(cube_add_record(c, &r, &d), 0);
	assert_int_equal(cube_declare(c, CUBE_CELLS, 2, period_make(2023, 0), 0, &d), 0);
	/* BBB without declarations: a single quarter makes a partial year */
	k.c = "BBB";
	r = krow_rec(f, &k, 2);
	assert_int_equal(cube_add_record(c, &r, &d), 0);
	assert_int_equal(cube_finish(c, &d), 0);
	EXPECT("AAA", "2023", "VIC", CUBE_S_TOTAL, 1, 1, "", 1);
	EXPECT("AAA", "2023-Q1", "VIC", CUBE_S_TOTAL, 0, 0, "", 1);
	EXPECT("AAA", "2023-Q1", "VIC", S_FORM(CUBE_FORM_SEX), 0, 0, "", 1);
	EXPECT("BBB", "2023", "VIC", CUBE_S_TOTAL, 1, 1, "p", 1);
	EXPECT("110", "2023", "VIC", CUBE_S_TOTAL, 2, 2, "p", 2);
	/* a declared cells table without rows is zero, breakdowns included */
	EXPECT("CCC", "2023", "VIC", CUBE_S_TOTAL, 0, 0, "", 1);
	EXPECT("CCC", "2023", "VIC", S_CIT(CUBE_CIT_U), 0, 0, "", 1);
	EXPECT("100", "2023", "VIC", CUBE_S_TOTAL, 2, 2, "p", 3);
	/* declared kind must match the rows */
	assert_int_equal(cube_declare(c, CUBE_CELLS, 0, period_make(2023, 1), 0, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_non_null(strstr(d.msg, "both case records and aggregate cells"));
	assert_non_null(strstr(d.msg, "AAA 2023-Q1 VIC"));
	cube_free(c);
	diag_free(&d);
	free(f);
}

static void test_errors(void **state)
{
	(void)state;
	fixture *f = fx_small();
	cube *c;
	diag d = DIAG_INIT;
	assert_int_equal(cube_new(&f->cl, &c, &d), 0);
	/* a key's periods going backwards break the ordering contract */
	krec k = {"AAA", "2021-Q3", "VIC", "F", "Y_GE18", "SEX", "AAA", "K9"};
	std_row r = krow_rec(f, &k, 7);
	assert_int_equal(cube_add_record(c, &r, &d), 0);
	k.p = "2021-Q1";
	r = krow_rec(f, &k, 8);
	assert_int_equal(cube_add_record(c, &r, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_non_null(strstr(d.msg, "line 8"));
	assert_non_null(strstr(d.msg, "ascend"));
	diag_reset(&d);
	/* totals are not allowed in a record */
	k.p = "2021-Q4";
	r = krow_rec(f, &k, 9);
	r.sex = STD_TOTAL;
	assert_int_equal(cube_add_record(c, &r, &d), -1);
	assert_non_null(strstr(d.msg, "must be codes"));
	diag_reset(&d);
	/* records then cells for the same country, period, indicator */
	kcell kc = {"AAA", "2021-Q3", "_T", "_T", NULL, "_T", "_T", 5, 5, 0};
	r = krow_cell(f, &kc, 3);
	assert_int_equal(cube_add_cell(c, &r, &d), -1);
	assert_non_null(strstr(d.msg, "both case records and aggregate cells"));
	diag_reset(&d);
	/* bad intervals, bad codes */
	kc.c = "BBB";
	r = krow_cell(f, &kc, 4);
	r.lo = 5;
	r.hi = 3;
	assert_int_equal(cube_add_cell(c, &r, &d), -1);
	assert_non_null(strstr(d.msg, "bad interval"));
	diag_reset(&d);
	r = krow_cell(f, &kc, 4);
	r.form = 17;
	assert_int_equal(cube_add_cell(c, &r, &d), -1);
	assert_non_null(strstr(d.msg, "bad dimension code"));
	diag_reset(&d);
	r = krow_cell(f, &kc, 4);
	r.period = 20215;
	assert_int_equal(cube_add_cell(c, &r, &d), -1);
	assert_non_null(strstr(d.msg, "bad period"));
	diag_reset(&d);
	/* the same cell fed twice: found when finishing */
	kcell k2 = {"BBB", "2021", "F", "Y_GE18", "Y18T24", "SEX", "_T", 2, 2, 0};
	r = krow_cell(f, &k2, 11);
	assert_int_equal(cube_add_cell(c, &r, &d), 0);
	r.line = 12;
	assert_int_equal(cube_add_cell(c, &r, &d), 0);
	assert_int_equal(cube_finish(c, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_non_null(strstr(d.msg, "BBB 2021 VIC"));
	assert_non_null(strstr(d.msg, "age=Y18T24"));
	assert_non_null(strstr(d.msg, "fed twice (lines 11 and 12)"));
	assert_false(cube_finished(c));
	cube_value v;
	assert_int_equal(cube_get(c, 0, per("2021"), 0, 0, &v), -1);
	cube_free(c);
	diag_reset(&d);
	/* codelists without a code the layout needs */
	f->form[9].code = (char *)"UNK";
	assert_int_equal(cube_new(&f->cl, &c, &d), -1);
	assert_int_equal(d.code, EX_CONFIG);
	assert_non_null(strstr(d.msg, "form code 'U'"));
	diag_free(&d);
	free(f);
}

static void test_nonadditive_unbounded(void **state)
{
	(void)state;
	fixture *f = fx_small();
	cube *c;
	diag d = DIAG_INIT;
	assert_int_equal(cube_new(&f->cl, &c, &d), 0);
	/* AAA: total 10 reported as not the sum of its parts (5 + 3);
	 * BBB: total ".." = [0, unbounded), censored */
	static const kcell cells[] = {
		{"AAA", "2021", "_T", "_T", NULL, "_T", "_T", 10, 10, STD_F_NONADDITIVE},
		{"AAA", "2021", "F", "Y_GE18", NULL, "_T", "_T", 5, 5, 0},
		{"AAA", "2021", "M", "Y_GE18", NULL, "_T", "_T", 3, 3, 0},
		{"BBB", "2021", "_T", "_T", NULL, "_T", "_T", 0, -1, STD_F_CENSORED},
		{"BBB", "2021", "F", "Y_GE18", NULL, "_T", "_T", 1, 4, STD_F_CENSORED},
	};
	for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
		std_row r = krow_cell(f, &cells[i], i + 1);
		assert_int_equal(cube_add_cell(c, &r, &d), 0);
	}
	assert_int_equal(cube_finish(c, &d), 0);
	EXPECT("AAA", "2021", "VIC", CUBE_S_TOTAL, 10, 10, "a", 1);
	EXPECT("AAA", "2021", "VIC", S_GROUP(CUBE_G_WOMEN), 5, 5, "", 1);
	EXPECT("BBB", "2021", "VIC", CUBE_S_TOTAL, 0, CUBE_UNBOUNDED, "c", 1);
	/* the sums carry both flags and the unbounded side */
	EXPECT("110", "2021", "VIC", CUBE_S_TOTAL, 10, CUBE_UNBOUNDED, "ac", 2);
	EXPECT("001", "2021", "VIC", CUBE_S_TOTAL, 10, CUBE_UNBOUNDED, "ac", 2);
	EXPECT("001", "2021", "VIC", S_GROUP(CUBE_G_WOMEN), 6, 9, "c", 2);
	EXPECT("001", "2021", "VIC", S_GROUP(CUBE_G_MEN), 3, 3, "", 2);
	cube_free(c);
	diag_free(&d);
	free(f);
}

/* --- random dataset ---------------------------------------------------------------- */

typedef struct rng { uint64_t s; } rng;

static uint64_t rnext(rng *r)
{
	/* xorshift64* */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

static int rint_(rng *r, int n)
{
	return (int)(rnext(r) % (uint64_t)n);
}

/* 3 regions x 2 subregions x 3 countries = 18 countries:
 *   0..9   case records, quarterly 2019-2022, keys from a small pool
 *          (re-reports across quarters and years), some keyless;
 *          country 1, 5, 9 miss 2021-Q2 (partial year)
 *   10..14 cells, quarterly, three layouts (below); 10, 12 and 13
 *          censor counts 1..4 as [0,4]; 12 misses 2022-Q4
 *   15..16 cells, annual (YYYY); 15 censors; 16 misses 2020
 *   17     never reports */
#define RN 18
#define RY0 2019
#define RY 4
#define RP (RY * 5)
static int rp_idx(int period) { return (period_year(period) - RY0) * 5 + period_quarter(period); }

static fixture *fx_big(void)
{
	fixture *f = fx_new();
	int w = fx_region(f, "001", CL_WORLD, -1);
	int reg[3], sub[6];
	for (int i = 0; i < 3; i++) {
		char b[16];
		snprintf(b, sizeof b, "%d00", i + 1);
		reg[i] = fx_region(f, b, CL_REGION, w);
	}
	for (int i = 0; i < 6; i++) {
		char b[16];
		snprintf(b, sizeof b, "%d%d0", i / 2 + 1, i % 2 + 1);
		sub[i] = fx_region(f, b, CL_SUBREGION, reg[i / 2]);
	}
	/* countries interleaved over subregions so that every kind of
	 * submission occurs in several regions */
	for (int i = 0; i < RN; i++) {
		char b[16];
		snprintf(b, sizeof b, "C%02d", i);
		fx_country(f, b, reg[(i % 6) / 2], sub[i % 6]);
	}
	return f;
}

/* The test's own classification (independent of the cube's). */
static int t_group(int sex, int age)
{
	/* codelist order: sex F M O U, age Y0T17 Y_GE18 U */
	if (sex == 0 && age == 1) return CUBE_G_WOMEN;
	if (sex == 1 && age == 1) return CUBE_G_MEN;
	if (sex == 0 && age == 0) return CUBE_G_GIRLS;
	if (sex == 1 && age == 0) return CUBE_G_BOYS;
	return CUBE_G_UNKNOWN;
}

static int t_cit(const fixture *f, int country, int cit)
{
	if (cit == STD_UNKNOWN) return CUBE_CIT_U;
	if (cit == country) return CUBE_CIT_DOMESTIC;
	if (f->ctry[cit].subregion == f->ctry[country].subregion) return CUBE_CIT_SAMESUB;
	if (f->ctry[cit].region == f->ctry[country].region) return CUBE_CIT_OTHERSUB;
	return CUBE_CIT_OTHERREG;
}

/* add one person to a 40-slot truth vector */
static void t_add(int64_t *t, const fixture *f, int country, int sex, int age, int form, int cit)
{
	t[CUBE_S_TOTAL]++;
	t[CUBE_SLOT_SEXAGE(sex, age)]++;
	t[CUBE_S_SEX + sex]++;
	t[CUBE_S_AGE + age]++;
	t[CUBE_S_GROUP + t_group(sex, age)]++;
	t[CUBE_S_FORM + form]++;
	t[CUBE_S_CIT + t_cit(f, country, cit)]++;
}

typedef struct rset {
	std_row *rec;  size_t nrec, caprec;
	std_row *cell; size_t ncell, capcell;
	int *decl;     size_t ndecl, capdecl;   /* (country, period, indicator) triples */
	/* truth per country, period index, indicator, slot (persons; for
	 * records after dedup, computed by brute force below) */
	int64_t truth[RN][RP][4][CUBE_NSLOTS];
	int has[RN][RP][4];        /* block exists */
	int fam_avail[RN][CUBE_NFAM];
	int censors[RN];
	uint64_t distinct;         /* expected counted records */
} rset;

static void push(std_row **a, size_t *n, size_t *cap, const std_row *r)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*a = realloc(*a, *cap * sizeof **a);
		assert_non_null(*a);
	}
	(*a)[(*n)++] = *r;
}

static void push_cell(rset *s, int country, int period, int ind, int sex, int age, int band,
                      int form, int cit, int64_t v)
{
	if (v == 0)
		return; /* long tables omit zeros */
	std_row r;
	memset(&r, 0, sizeof r);
	r.country = country;
	r.period = period;
	r.indicator = ind;
	r.sex = sex;
	r.age = age;
	r.age_band = band;
	r.form = form;
	r.citizenship = cit;
	r.lo = r.hi = v;
	if (s->censors[country] && v >= 1 && v <= 4) {
		r.lo = 0;
		r.hi = 4;
		r.flags = STD_F_CENSORED;
	}
	r.line = s->ncell + 1;
	push(&s->cell, &s->ncell, &s->capcell, &r);
}

typedef struct person { int sex, age, band, form, cit; } person;

/* cells layouts:
 *   A: sex x age x form cross only (no totals, no citizenship)
 *   B: total + sex x age + forms + citizenship by country
 *   C: total + sex x age band (bands summed into groups by the cube) */
static void gen_cells(rset *s, const fixture *f, rng *g, int country, int period, int ind, int layout)
{
	person ps[40];
	int n = 1 + rint_(g, 29); /* empty tables: test_declare_zero_quarters */
	int64_t *t = s->truth[country][rp_idx(period)][ind];
	for (int i = 0; i < n; i++) {
		person *p = &ps[i];
		p->sex = rint_(g, 4);
		p->age = rint_(g, 3);
		/* bands: Y0T4 (3) / Y15T17 (4) for minors, Y18T24 (5) for adults */
		p->band = p->age == 0 ? 3 + rint_(g, 2) : p->age == 1 ? 5 : STD_NONE;
		p->form = rint_(g, 10);
		p->cit = rint_(g, 5) == 0 ? STD_UNKNOWN : (rint_(g, 2) ? country : rint_(g, RN));
		t_add(t, f, country, p->sex, p->age, p->form, p->cit);
	}
	s->has[country][rp_idx(period)][ind] = 1;
	if (layout == 0) {
		for (int sx = 0; sx < 4; sx++)
			for (int a = 0; a < 3; a++)
				for (int fo = 0; fo < 10; fo++) {
					int64_t v = 0;
					for (int i = 0; i < n; i++)
						v += ps[i].sex == sx && ps[i].age == a && ps[i].form == fo;
					push_cell(s, country, period, ind, sx, a, STD_NONE, fo, STD_TOTAL, v);
				}
		return;
	}
	push_cell(s, country, period, ind, STD_TOTAL, STD_TOTAL, STD_NONE, STD_TOTAL, STD_TOTAL, n);
	if (layout == 1) {
		for (int sx = 0; sx < 4; sx++)
			for (int a = 0; a < 3; a++) {
				int64_t v = 0;
				for (int i = 0; i < n; i++)
					v += ps[i].sex == sx && ps[i].age == a;
				push_cell(s, country, period, ind, sx, a, STD_NONE, STD_TOTAL, STD_TOTAL, v);
			}
		for (int fo = 0; fo < 10; fo++) {
			int64_t v = 0;
			for (int i = 0; i < n; i++)
				v += ps[i].form == fo;
			push_cell(s, country, period, ind, STD_TOTAL, STD_TOTAL, STD_NONE, fo, STD_TOTAL, v);
		}
		for (int ci = -1; ci < RN; ci++) {
			int cit = ci < 0 ? STD_UNKNOWN : ci;
			int64_t v = 0;
			for (int i = 0; i < n; i++)
				v += ps[i].cit == cit;
			push_cell(s, country, period, ind, STD_TOTAL, STD_TOTAL, STD_NONE, STD_TOTAL, cit, v);
		}
		return;
	}
	for (int sx = 0; sx < 4; sx++)
		for (int b = 2; b < 6; b++) {
			/* b = 2: age U (a group, no band); 3..5 bands */
			int64_t v = 0;
			for (int i = 0; i < n; i++)
				v += ps[i].sex == sx && (b == 2 ? ps[i].age == 2 : ps[i].band == b);
			int grp = b == 2 ? 2 : AGE_P[b];
			push_cell(s, country, period, ind, sx, grp, b == 2 ? STD_NONE : b, STD_TOTAL, STD_TOTAL, v);
		}
}

/* warehouse order: country, indicator, key (keyless last), period, seq */
static int cmp_wh(const void *pa, const void *pb)
{
	const std_row *a = pa, *b = pb;
	if (a->country != b->country)
		return a->country < b->country ? -1 : 1;
	if (a->indicator != b->indicator)
		return a->indicator < b->indicator ? -1 : 1;
	if (a->has_key != b->has_key)
		return a->has_key ? -1 : 1;
	int k = memcmp(a->key, b->key, sizeof a->key);
	if (k)
		return k;
	if (a->period != b->period)
		return a->period < b->period ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

static rset *gen(const fixture *f, uint64_t seed)
{
	rset *s = calloc(1, sizeof *s);
	assert_non_null(s);
	rng g = {seed};
	s->censors[10] = s->censors[12] = s->censors[13] = s->censors[15] = 1;
	unsigned long line = 0;
	for (int c = 0; c < RN - 1; c++)
		for (int y = RY0; y < RY0 + RY; y++)
			for (int q = 1; q <= 4; q++) {
				int p = period_make(y, q);
				if ((c == 1 || c == 5 || c == 9) && y == 2021 && q == 2)
					continue;
				if (c == 12 && y == 2022 && q == 4)
					continue;
				for (int ind = 0; ind < 4; ind++) {
					if (c < 10) {
						int dl[3] = {c, p, ind};
						for (int k = 0; k < 3; k++) {
							if (s->ndecl == s->capdecl) {
								s->capdecl = s->capdecl ? s->capdecl * 2 : 768;
								s->decl = realloc(s->decl, s->capdecl * sizeof *s->decl);
								assert_non_null(s->decl);
							}
							s->decl[s->ndecl++] = dl[k];
						}
						s->has[c][rp_idx(p)][ind] = 1;
						int n = rint_(&g, 7);
						for (int i = 0; i < n; i++) {
							std_row r;
							memset(&r, 0, sizeof r);
							r.country = c;
							r.period = p;
							r.indicator = ind;
							r.sex = rint_(&g, 4);
							r.age = rint_(&g, 3);
							r.age_band = STD_NONE;
							r.form = rint_(&g, 10);
							r.citizenship = rint_(&g, 5) == 0 ? STD_UNKNOWN :
							                (rint_(&g, 2) ? c : rint_(&g, RN));
							if (rint_(&g, 5) != 0) {
								/* the same key may appear under several
								 * indicators: dedup is per indicator */
								r.has_key = 1;
								r.key[0] = (unsigned char)c;
								r.key[1] = (unsigned char)rint_(&g, 25);
								r.key[15] = 0xA5;
							}
							r.line = ++line;
							push(&s->rec, &s->nrec, &s->caprec, &r);
						}
					} else if (c < 15) {
						gen_cells(s, f, &g, c, p, ind, c % 3);
					}
				}
			}
	for (int c = 15; c <= 16; c++)
		for (int y = RY0; y < RY0 + RY; y++) {
			if (c == 16 && y == 2020)
				continue;
			for (int ind = 0; ind < 4; ind++)
				gen_cells(s, f, &g, c, period_make(y, 0), ind, 1);
		}
	/* families each country makes available */
	for (int c = 0; c < RN - 1; c++) {
		int lay = c < 10 ? -1 : c < 15 ? c % 3 : 1;
		for (int fam = 0; fam < CUBE_NFAM; fam++)
			s->fam_avail[c][fam] = lay == -1 || lay == 1 ||
			        (lay == 0 && fam != CUBE_FAM_CIT) ||
			        (lay == 2 && fam != CUBE_FAM_CIT && fam != CUBE_FAM_FORM);
	}
	/* records truth by brute force: in warehouse order, the first row of
	 * each (country, indicator, key) counts, with its attributes */
	std_row *sorted = malloc(s->nrec * sizeof *sorted);
	assert_non_null(sorted);
	memcpy(sorted, s->rec, s->nrec * sizeof *sorted);
	qsort(sorted, s->nrec, sizeof *sorted, cmp_wh);
	for (size_t i = 0; i < s->nrec; i++) {
		const std_row *r = &sorted[i];
		if (r->has_key && i > 0 && sorted[i - 1].has_key && sorted[i - 1].country == r->country &&
		    sorted[i - 1].indicator == r->indicator &&
		    memcmp(sorted[i - 1].key, r->key, sizeof r->key) == 0)
			continue;
		s->distinct++;
		t_add(s->truth[r->country][rp_idx(r->period)][r->indicator], f, r->country, r->sex,
		      r->age, r->form, r->citizenship);
	}
	free(sorted);
	return s;
}

static void rset_free(rset *s)
{
	free(s->rec);
	free(s->cell);
	free(s->decl);
	free(s);
}

/* Build a cube from the rows selected by keep(country, indicator); order
 * 0 = submission order (key first), 1 = warehouse order. */
typedef int (*keep_fn)(int country, int indicator);
static int keep_all(int c, int i) { (void)c; (void)i; return 1; }
static int keep_even(int c, int i) { (void)i; return c % 2 == 0; }
static int keep_odd(int c, int i) { (void)i; return c % 2 == 1; }
static int keep_vic(int c, int i) { (void)c; return i == 0; }
static int keep_notvic(int c, int i) { (void)c; return i != 0; }
static int keep_quarterly(int c, int i) { (void)i; return c < 15; }

static cube *build(const fixture *f, const rset *s, keep_fn keep, int order)
{
	cube *c;
	diag d = DIAG_INIT;
	assert_int_equal(cube_new(&f->cl, &c, &d), 0);
	std_row *rows = malloc((s->nrec + 1) * sizeof *rows);
	assert_non_null(rows);
	size_t n = 0;
	for (size_t i = 0; i < s->nrec; i++)
		if (keep(s->rec[i].country, s->rec[i].indicator))
			rows[n++] = s->rec[i];
	qsort(rows, n, sizeof *rows, order == 0 ? cmp_sub : cmp_wh);
	for (size_t i = 0; i < s->ndecl; i += 3)
		if (keep(s->decl[i], s->decl[i + 2]))
			assert_int_equal(cube_declare(c, CUBE_RECORDS, s->decl[i], s->decl[i + 1],
			                              s->decl[i + 2], &d), 0);
	for (size_t i = 0; i < n; i++)
		if (cube_add_record(c, &rows[i], &d) != 0)
			fail_msg("%s", d.msg);
	/* cells in reverse order: order must not matter for cells */
	for (size_t i = s->ncell; i-- > 0;)
		if (keep(s->cell[i].country, s->cell[i].indicator))
			assert_int_equal(cube_add_cell(c, &s->cell[i], &d), 0);
	if (cube_finish(c, &d) != 0)
		fail_msg("%s", d.msg);
	free(rows);
	diag_free(&d);
	return c;
}

static int contains(const cube_value *v, int64_t x)
{
	return v->lo <= x && (v->hi < 0 || x <= v->hi);
}

/* country level: dedup, truth, availability, flags */
static void check_countries(const fixture *f, const rset *s, const cube *c)
{
	cube_stats st;
	cube_get_stats(c, &st);
	assert_int_equal(st.records_in, s->nrec);
	assert_int_equal(st.records_counted, s->distinct);
	assert_int_equal(st.records_counted + st.records_duplicate, st.records_in);
	assert_int_equal(cube_n_countries(c), RN - 1);
	size_t checked = 0;
	for (int ct = 0; ct < RN - 1; ct++) {
		int g = cube_geo_find(c, CUBE_GEO_COUNTRY, ct);
		assert_true(g >= 0);
		for (int y = RY0; y < RY0 + RY; y++)
			for (int q = 0; q <= 4; q++)
				for (int ind = 0; ind < 4; ind++) {
					int p = period_make(y, q);
					int64_t t[CUBE_NSLOTS];
					int nq = 0, annual = s->has[ct][rp_idx(p)][ind];
					memcpy(t, s->truth[ct][rp_idx(p)][ind], sizeof t);
					if (q == 0 && !annual) {
						memset(t, 0, sizeof t);
						for (int k = 1; k <= 4; k++) {
							int pk = rp_idx(period_make(y, k));
							if (!s->has[ct][pk][ind])
								continue;
							nq++;
							for (int sl = 0; sl < CUBE_NSLOTS; sl++)
								t[sl] += s->truth[ct][pk][ind][sl];
						}
					}
					int exists = annual || nq > 0;
					for (int sl = 0; sl < CUBE_NSLOTS; sl++) {
						cube_value v;
						if (cube_get(c, g, p, ind, sl, &v) != 0) {
							/* a quarter nobody reported is not in the cube */
							assert_false(exists);
							continue;
						}
						int want = exists && s->fam_avail[ct][cube_slot_family(sl)];
						assert_int_equal(v.avail, want);
						if (!want)
							continue;
						if (!contains(&v, t[sl]))
							fail_msg("%s %d %d %s: %lld not in [%lld,%lld]", f->ctry[ct].iso3, p,
							         ind, cube_slot_name(sl), (long long)t[sl],
							         (long long)v.lo, (long long)v.hi);
						if (!s->censors[ct])
							assert_true(v.lo == v.hi && !(v.flags & CUBE_F_CENSORED));
						assert_int_equal(!!(v.flags & CUBE_F_PARTIAL), q == 0 && !annual && nq < 4);
						assert_int_equal(v.n_countries, 1);
						checked++;
					}
				}
	}
	assert_true(checked > 10000);
}

static int agg_kind(int region_kind)
{
	return region_kind == CL_WORLD ? CUBE_GEO_WORLD :
	       region_kind == CL_REGION ? CUBE_GEO_REGION : CUBE_GEO_SUBREGION;
}

/* sum the values of parts (intervals add exactly, flags OR) */
static void sum_into(cube_value *acc, const cube_value *v)
{
	if (!v->avail)
		return;
	if (!acc->avail) {
		memset(acc, 0, sizeof *acc);
		acc->avail = 1;
	}
	acc->lo += v->lo;
	acc->hi = (acc->hi < 0 || v->hi < 0) ? -1 : acc->hi + v->hi;
	acc->flags |= v->flags;
	acc->n_countries += v->n_countries;
}

static void same_value(const cube_value *a, const cube_value *b)
{
	assert_int_equal(a->avail, b->avail);
	if (!a->avail)
		return;
	assert_int_equal(a->lo, b->lo);
	assert_int_equal(a->hi, b->hi);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->n_countries, b->n_countries);
}

/* geography: subregion = sum of its countries, region = sum of its
 * subregions, world = sum of its regions; coverage bits match; no country
 * counted twice */
static void check_geography(const fixture *f, const cube *c)
{
	size_t np = cube_n_periods(c), nc = cube_n_countries(c);
	size_t checked = 0;
	for (size_t pi = 0; pi < np; pi++) {
		int p = cube_period_at(c, pi);
		for (int ind = 0; ind < 4; ind++)
			for (int sl = 0; sl < CUBE_NSLOTS; sl++) {
				cube_value want[FX_MAX];
				memset(want, 0, sizeof want);
				cube_value wr;
				memset(&wr, 0, sizeof wr);
				/* subregions from countries */
				for (size_t j = 0; j < nc; j++) {
					int ct = cube_country_at(c, j);
					cube_value v;
					assert_int_equal(cube_get(c, cube_geo_find(c, CUBE_GEO_COUNTRY, ct), p, ind, sl, &v), 0);
					sum_into(&want[f->ctry[ct].subregion], &v);
					/* this country is in its own aggregates only */
					for (size_t r = 0; r < f->cl.n_regions; r++) {
						int gr = cube_geo_find(c, agg_kind(f->reg[r].kind), (int)r);
						if (gr < 0)
							continue;
						int member = f->reg[r].kind == CL_WORLD || (int)r == f->ctry[ct].region ||
						             (int)r == f->ctry[ct].subregion;
						assert_int_equal(cube_contributes(c, gr, p, ind, sl, j), member && v.avail);
					}
				}
				/* regions from subregions, world from regions */
				for (size_t r = 0; r < f->cl.n_regions; r++)
					if (f->reg[r].kind == CL_SUBREGION) {
						int gr = cube_geo_find(c, CUBE_GEO_SUBREGION, (int)r);
						cube_value v;
						if (gr < 0)
							continue;
						assert_int_equal(cube_get(c, gr, p, ind, sl, &v), 0);
						same_value(&v, &want[r]);
						sum_into(&want[f->reg[r].parent], &v);
						checked++;
					}
				for (size_t r = 0; r < f->cl.n_regions; r++)
					if (f->reg[r].kind == CL_REGION) {
						int gr = cube_geo_find(c, CUBE_GEO_REGION, (int)r);
						cube_value v;
						assert_true(gr >= 0);
						assert_int_equal(cube_get(c, gr, p, ind, sl, &v), 0);
						same_value(&v, &want[r]);
						sum_into(&wr, &v);
					}
				cube_value v;
				assert_int_equal(cube_get(c, cube_geo_find(c, CUBE_GEO_WORLD, 0), p, ind, sl, &v), 0);
				same_value(&v, &wr);
				/* each country at most once in the world */
				size_t ncov = 0;
				for (size_t j = 0; j < nc; j++)
					ncov += (size_t)cube_contributes(c, 0, p, ind, sl, j);
				assert_int_equal(ncov, v.avail ? v.n_countries : 0);
			}
	}
	assert_true(checked > 1000);
}

/* every total equals the sum of its parts (exact values), at every level */
static void check_parts(const cube *c)
{
	size_t checked = 0;
	cube_iter it;
	cube_cell cell;
	cube_iter_init(&it);
	while (cube_next(c, &it, &cell)) {
		if (cell.slot != CUBE_S_TOTAL)
			continue;
		cube_value v[CUBE_NSLOTS];
		for (int sl = 0; sl < CUBE_NSLOTS; sl++)
			assert_int_equal(cube_get(c, cell.geo_pos, cell.period, cell.indicator, sl, &v[sl]), 0);
		for (int fam = 1; fam < CUBE_NFAM; fam++) {
			int first = cube_family_first(fam), n = cube_family_size(fam);
			int exact = 1, same_cov = 1;
			int64_t sum = 0;
			for (int k = 0; k < n; k++) {
				const cube_value *x = &v[first + k];
				exact &= x->avail && x->lo == x->hi;
				sum += x->lo;
				same_cov &= x->avail && x->n_countries == v[0].n_countries;
			}
			if (!exact || !v[0].avail || v[0].lo != v[0].hi || !same_cov)
				continue;
			assert_int_equal(sum, v[0].lo);
			checked++;
		}
		/* margins of sex x age, and groups */
		int exact = 1;
		for (int k = 0; k < CUBE_NSEX * CUBE_NAGE; k++)
			exact &= v[CUBE_S_SEXAGE + k].avail && v[CUBE_S_SEXAGE + k].lo == v[CUBE_S_SEXAGE + k].hi;
		if (!exact)
			continue;
		for (int sx = 0; sx < CUBE_NSEX; sx++) {
			int64_t m = 0;
			for (int a = 0; a < CUBE_NAGE; a++)
				m += v[CUBE_SLOT_SEXAGE(sx, a)].lo;
			assert_int_equal(m, v[CUBE_S_SEX + sx].lo);
		}
		for (int a = 0; a < CUBE_NAGE; a++) {
			int64_t m = 0;
			for (int sx = 0; sx < CUBE_NSEX; sx++)
				m += v[CUBE_SLOT_SEXAGE(sx, a)].lo;
			assert_int_equal(m, v[CUBE_S_AGE + a].lo);
		}
		assert_int_equal(v[CUBE_S_GROUP + CUBE_G_GIRLS].lo,
		                 v[CUBE_SLOT_SEXAGE(CUBE_SEX_F, CUBE_AGE_MINOR)].lo);
		checked++;
	}
	assert_true(checked > 5000);
}

/* annual = sum of quarters, at every level, when no country submitted
 * annually (lo and hi both add; flags OR, plus p when a country had
 * fewer than four quarters) */
static void check_years(const cube *c)
{
	size_t checked = 0;
	for (size_t g = 0; g < cube_n_geo(c); g++)
		for (int y = RY0; y < RY0 + RY; y++)
			for (int ind = 0; ind < 4; ind++)
				for (int sl = 0; sl < CUBE_NSLOTS; sl++) {
					cube_value a, sum;
					memset(&sum, 0, sizeof sum);
					assert_int_equal(cube_get(c, (int)g, period_make(y, 0), ind, sl, &a), 0);
					unsigned qflags = 0;
					uint32_t ncov = 0; /* countries in any quarter */
					for (size_t j = 0; j < cube_n_countries(c); j++) {
						int any = 0;
						for (int q = 1; q <= 4; q++)
							any |= cube_contributes(c, (int)g, period_make(y, q), ind, sl, j);
						ncov += (uint32_t)any;
					}
					for (int q = 1; q <= 4; q++) {
						cube_value v;
						if (cube_get(c, (int)g, period_make(y, q), ind, sl, &v) != 0)
							continue;
						sum_into(&sum, &v);
						qflags |= v.flags;
					}
					assert_int_equal(a.avail, sum.avail);
					if (!a.avail)
						continue;
					assert_int_equal(a.lo, sum.lo);
					assert_int_equal(a.hi, sum.hi);
					assert_int_equal(a.flags & ~CUBE_F_PARTIAL, qflags);
					assert_int_equal(a.n_countries, ncov);
					checked++;
				}
	assert_true(checked > 2000);
}

static void same_cube(const cube *a, const cube *b)
{
	assert_int_equal(cube_n_geo(a), cube_n_geo(b));
	assert_int_equal(cube_n_periods(a), cube_n_periods(b));
	assert_int_equal(cube_n_countries(a), cube_n_countries(b));
	for (size_t g = 0; g < cube_n_geo(a); g++) {
		assert_int_equal(cube_geo_at(a, g).kind, cube_geo_at(b, g).kind);
		assert_int_equal(cube_geo_at(a, g).index, cube_geo_at(b, g).index);
	}
	cube_iter ia, ib;
	cube_cell ca, cb;
	cube_iter_init(&ia);
	cube_iter_init(&ib);
	size_t n = 0;
	while (cube_next(a, &ia, &ca)) {
		assert_int_equal(cube_next(b, &ib, &cb), 1);
		assert_int_equal(ca.geo_pos, cb.geo_pos);
		assert_int_equal(ca.period, cb.period);
		assert_int_equal(ca.indicator, cb.indicator);
		assert_int_equal(ca.slot, cb.slot);
		assert_memory_equal(&ca.v, &cb.v, sizeof ca.v);
		if (ca.geo.kind != CUBE_GEO_COUNTRY && ca.v.avail)
			for (size_t j = 0; j < cube_n_countries(a); j++)
				assert_int_equal(cube_contributes(a, ca.geo_pos, ca.period, ca.indicator, ca.slot, j),
				                 cube_contributes(b, cb.geo_pos, cb.period, cb.indicator, cb.slot, j));
		n++;
	}
	assert_int_equal(cube_next(b, &ib, &cb), 0);
	assert_true(n > 0);
	cube_stats sa, sb;
	cube_get_stats(a, &sa);
	cube_get_stats(b, &sb);
	assert_memory_equal(&sa, &sb, sizeof sa);
}

static void test_random_properties(void **state)
{
	(void)state;
	fixture *f = fx_big();
	rset *s = gen(f, 0x7469707374617431ULL);
	/* submission order and warehouse order give the same cube */
	cube *all = build(f, s, keep_all, 0);
	cube *all2 = build(f, s, keep_all, 1);
	same_cube(all, all2);
	check_countries(f, s, all);
	check_geography(f, all);
	check_parts(all);
	cube *qonly = build(f, s, keep_quarterly, 1);
	check_years(qonly);
	check_parts(qonly);
	cube_free(qonly);
	cube_free(all2);
	cube_free(all);
	rset_free(s);
	free(f);
}

/* Records read part by part (one submission after another, each in file
 * order) break the contract when a key recurs in a later part: the cube
 * counts such a person again.  Sorting with cube_record_cmp first gives
 * the right cube, from any starting order. */
static void test_record_cmp(void **state)
{
	(void)state;
	fixture *f = fx_big();
	rset *s = gen(f, 0x5EEDULL);
	cube *want = build(f, s, keep_all, 1);
	/* the records in random order, then sorted with the helper */
	std_row *rows = malloc(s->nrec * sizeof *rows);
	assert_non_null(rows);
	memcpy(rows, s->rec, s->nrec * sizeof *rows);
	rng g = {42};
	for (size_t i = s->nrec; i > 1; i--) {
		size_t j = (size_t)rint_(&g, (int)i);
		std_row t = rows[i - 1];
		rows[i - 1] = rows[j];
		rows[j] = t;
	}
	qsort(rows, s->nrec, sizeof *rows, cube_record_cmp);
	cube *c;
	diag d = DIAG_INIT;
	assert_int_equal(cube_new(&f->cl, &c, &d), 0);
	for (size_t i = 0; i < s->ndecl; i += 3)
		assert_int_equal(cube_declare(c, CUBE_RECORDS, s->decl[i], s->decl[i + 1], s->decl[i + 2], &d), 0);
	for (size_t i = 0; i < s->nrec; i++)
		assert_int_equal(cube_add_record(c, &rows[i], &d), 0);
	for (size_t i = 0; i < s->ncell; i++)
		assert_int_equal(cube_add_cell(c, &s->cell[i], &d), 0);
	assert_int_equal(cube_finish(c, &d), 0);
	same_cube(want, c);
	cube_free(c);
	/* part by part (by country and year, keys sorted inside each part):
	 * re-reports across years are counted again -- the contract matters */
	qsort(rows, s->nrec, sizeof *rows, cmp_sub);
	std_row *parts = malloc(s->nrec * sizeof *parts);
	assert_non_null(parts);
	size_t n = 0;
	for (int ct = 0; ct < RN; ct++)
		for (int y = RY0; y < RY0 + RY; y++)
			for (size_t i = 0; i < s->nrec; i++)
				if (rows[i].country == ct && period_year(rows[i].period) == y)
					parts[n++] = rows[i];
	assert_int_equal(n, s->nrec);
	assert_int_equal(cube_new(&f->cl, &c, &d), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(cube_add_record(c, &parts[i], &d), 0);
	cube_stats st;
	cube_get_stats(c, &st);
	assert_true(st.records_counted > s->distinct);
	cube_free(c);
	free(parts);
	free(rows);
	cube_free(want);
	diag_free(&d);
	rset_free(s);
	free(f);
}

static void test_random_merge(void **state)
{
	(void)state;
	fixture *f = fx_big();
	for (uint64_t seed = 1; seed <= 3; seed++) {
		rset *s = gen(f, seed * 0x9E3779B97F4A7C15ULL);
		cube *all = build(f, s, keep_all, 1);
		/* by country (national offices) */
		cube *a = build(f, s, keep_even, 0), *b = build(f, s, keep_odd, 1);
		diag d = DIAG_INIT;
		assert_int_equal(cube_merge(a, b, &d), 0);
		assert_false(cube_finished(a));
		assert_int_equal(cube_finish(a, &d), 0);
		same_cube(all, a);
		/* merging into an empty cube, then finishing twice, changes nothing */
		cube *e;
		assert_int_equal(cube_new(&f->cl, &e, &d), 0);
		assert_int_equal(cube_merge(e, a, &d), 0);
		assert_int_equal(cube_finish(e, &d), 0);
		assert_int_equal(cube_finish(e, &d), 0);
		same_cube(all, e);
		cube_free(e);
		cube_free(a);
		cube_free(b);
		/* by indicator (two threads) */
		a = build(f, s, keep_vic, 1);
		b = build(f, s, keep_notvic, 0);
		assert_int_equal(cube_merge(b, a, &d), 0);
		assert_int_equal(cube_finish(b, &d), 0);
		same_cube(all, b);
		assert_int_equal(cube_merge(b, b, &d), -1);
		cube_free(a);
		cube_free(b);
		cube_free(all);
		diag_free(&d);
		rset_free(s);
	}
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slot_layout),
		cmocka_unit_test(test_known_country_totals),
		cmocka_unit_test(test_known_breakdowns),
		cmocka_unit_test(test_known_aggregates),
		cmocka_unit_test(test_iterator),
		cmocka_unit_test(test_declare_zero_quarters),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nonadditive_unbounded),
		cmocka_unit_test(test_random_properties),
		cmocka_unit_test(test_record_cmp),
		cmocka_unit_test(test_random_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
