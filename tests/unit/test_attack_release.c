/* The independent LP attack on a real suppression release.
 *
 * Run by tests/e2e/t_protect_tables.sh on a release made from the bundled
 * data (skipped when TIPSTAT_ATTACK_WH and TIPSTAT_ATTACK_REL are not set):
 * the attacker reads the release (release.csv: what is published, what is
 * hidden), knows how the cube is built (every aggregate is the sum of its
 * countries; every breakdown of a country partitions its total; sex and age
 * are the margins of sex x age; women, men, girls and boys are sex x age
 * cells), and knows what the countries published themselves (their
 * censored intervals).  For every (indicator, year) table it solves, with
 * tests/unit/lp_attacker.h (GLPK, sharing no code with privacy/audit.c),
 * the min and max of every primary cell; each must keep an interval of
 * width 5 around the cell's own (or what the countries' public intervals
 * alone reveal).  Then the secondary cells are published, and the same
 * attacker must narrow some primary cell: the test can fail.
 *
 * The true values come from the warehouse's cube (the attacker's unknowns
 * are bounded only as stated above; values are used for published cells
 * and as the reference point). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aggregator/warehouse.h"
#include "aggregator/whcube.h"
#include "core/codelist.h"
#include "core/period.h"
#include "privacy/release.h"
#include "tests/unit/lp_attacker.h"

#define BIG ((int64_t)1 << 40)

typedef struct table {
	sdct_table t;
	uint32_t *cell;      /* per (geo, slot): cell, UINT32_MAX = not in the table */
	size_t ngeo;
} table;

static uint32_t at(const table *a, size_t g, int slot)
{
	return a->cell[g * CUBE_NSLOTS + (size_t)slot];
}

static void con(table *a, uint32_t tot, const uint32_t *parts, size_t n)
{
	if (tot == UINT32_MAX || !n)
		return;
	for (size_t k = 0; k < n; k++)
		if (parts[k] == UINT32_MAX)
			return;
	diag d = DIAG_INIT;
	if (sdct_add_constraint(&a->t, tot, parts, n, &d) != 0)
		fail_msg("constraint: %s", d.msg);
	diag_free(&d);
}

/* The attacker's table of (indicator, year) as the release shows it. */
static size_t build(table *a, const cube *c, const codelists *cl, const rel_table *rel, int ind,
                    int year)
{
	diag d = DIAG_INIT;
	sdct_init(&a->t);
	a->ngeo = cube_n_geo(c);
	a->cell = malloc(a->ngeo * CUBE_NSLOTS * sizeof *a->cell);
	size_t n_primary = 0;
	int per = period_make(year, 0);
	for (size_t g = 0; g < a->ngeo; g++) {
		cube_geo cg = cube_geo_at(c, g);
		const char *geo = cg.kind == CUBE_GEO_COUNTRY ? cl->countries[cg.index].iso3
		                                              : cl->regions[cg.index].code;
		for (int s = 0; s < CUBE_NSLOTS; s++) {
			a->cell[g * CUBE_NSLOTS + (size_t)s] = UINT32_MAX;
			cube_value v;
			if (cube_get(c, (int)g, per, ind, s, &v) != 0 || !v.avail)
				continue;
			const rel_row *r = rel_find(rel, geo, per, ind, s);
			assert_non_null(r);
			int64_t hi = v.hi == CUBE_UNBOUNDED || v.hi > BIG ? BIG : v.hi;
			unsigned fl = cg.kind == CUBE_GEO_COUNTRY && (v.flags & CUBE_F_CENSORED)
			                  ? SDCT_F_PUBLIC_BOUNDS : 0;
			uint32_t k;
			char lab[64];
			snprintf(lab, sizeof lab, "%s/%d/%d/%s", geo, year, ind, cube_slot_name(s));
			assert_int_equal(sdct_add_cell(&a->t, v.lo, hi, fl, lab, &k, &d), 0);
			a->cell[g * CUBE_NSLOTS + (size_t)s] = k;
			/* what the release says about the cell */
			int st = r->status;
			assert_true(st == REL_FREE || st == REL_PRIMARY || st == REL_SECONDARY);
			if (st == REL_FREE) /* published numbers are the cube's */
				assert_true(r->has_value ? r->value == v.lo && v.lo == v.hi
				                         : r->has_interval && r->lo == v.lo);
			a->t.cells[k].status = st == REL_PRIMARY ? SDCT_PRIMARY :
			                       st == REL_SECONDARY ? SDCT_SECONDARY : SDCT_PUBLISHED;
			n_primary += st == REL_PRIMARY;
		}
	}
	size_t nc = cube_n_countries(c), nagg = a->ngeo - nc;
	uint32_t parts[512];
	for (size_t g = 0; g < nagg; g++)
		for (int s = 0; s < CUBE_NSLOTS; s++) {
			size_t n = 0;
			for (size_t cp = 0; cp < nc; cp++)
				if (cube_contributes(c, (int)g, per, ind, s, cp))
					parts[n++] = at(a, nagg + cp, s);
			con(a, at(a, g, s), parts, n);
		}
	for (size_t g = nagg; g < a->ngeo; g++) {
		cube_value tv;
		cube_get(c, (int)g, per, ind, CUBE_S_TOTAL, &tv);
		if (tv.flags & CUBE_F_NONADDITIVE)
			continue; /* the country said its parts do not add up */
		for (int fam = CUBE_FAM_SEXAGE; fam < CUBE_NFAM; fam++) {
			int n = cube_family_size(fam);
			for (int k = 0; k < n; k++)
				parts[k] = at(a, g, cube_family_first(fam) + k);
			con(a, at(a, g, CUBE_S_TOTAL), parts, (size_t)n);
		}
		for (int sx = 0; sx < CUBE_NSEX; sx++) {
			for (int ag = 0; ag < CUBE_NAGE; ag++)
				parts[ag] = at(a, g, CUBE_SLOT_SEXAGE(sx, ag));
			con(a, at(a, g, CUBE_S_SEX + sx), parts, CUBE_NAGE);
		}
		for (int ag = 0; ag < CUBE_NAGE; ag++) {
			for (int sx = 0; sx < CUBE_NSEX; sx++)
				parts[sx] = at(a, g, CUBE_SLOT_SEXAGE(sx, ag));
			con(a, at(a, g, CUBE_S_AGE + ag), parts, CUBE_NSEX);
		}
		static const int gs[4] = {CUBE_SEX_F, CUBE_SEX_M, CUBE_SEX_F, CUBE_SEX_M};
		static const int ga[4] = {CUBE_AGE_ADULT, CUBE_AGE_ADULT, CUBE_AGE_MINOR, CUBE_AGE_MINOR};
		for (int k = 0; k < 4; k++) {
			parts[0] = at(a, g, CUBE_SLOT_SEXAGE(gs[k], ga[k]));
			con(a, at(a, g, CUBE_S_GROUP + k), parts, 1);
		}
	}
	assert_int_equal(sdct_finalize(&a->t, &d), 0);
	diag_free(&d);
	return n_primary;
}

static void test_attack(void **state)
{
	(void)state;
	const char *whp = getenv("TIPSTAT_ATTACK_WH"), *relp = getenv("TIPSTAT_ATTACK_REL");
	if (!whp || !relp) {
		print_message("set TIPSTAT_ATTACK_WH and TIPSTAT_ATTACK_REL (t_protect_tables does)\n");
		skip();
	}
	diag d = DIAG_INIT;
	codelists cl;
	char dir[4096];
	const char *ds = getenv("TIPSTAT_DATASETS");
	snprintf(dir, sizeof dir, "%s/codelists", ds ? ds : "datasets");
	assert_int_equal(codelists_load(dir, &cl, &d), 0);
	wh *w;
	assert_int_equal(wh_open(whp, WH_READONLY, &w, &d), 0);
	cube *c;
	whcube_info info = {0};
	assert_int_equal(whcube_build(w, &cl, 0, 0, &c, &info, &d), 0);
	rel_table rel;
	if (rel_read_dir(relp, &rel, &d) != 0)
		fail_msg("release: %s", d.msg);
	size_t tables = 0, primaries = 0, exposed_without = 0;
	for (size_t pp = 0; pp < cube_n_periods(c); pp++) {
		int per = cube_period_at(c, pp);
		if (period_quarter(per))
			continue;
		for (size_t ind = 0; ind < cube_n_indicators(c); ind++) {
			table a;
			size_t np = build(&a, c, &cl, &rel, (int)ind, period_year(per));
			tables++;
			primaries += np;
			size_t first;
			size_t bad = lpa_check_all(&a.t, 5, 0, &first);
			if (bad) {
				char b[128];
				double lo, hi;
				lpa_range(&a.t, first, 0, &lo, &hi);
				glp_prob *Q = lpa_build_apriori(&a.t);
				double A = -1, B = -1;
				int r1 = lpa_opt(Q, first, -1, 0, &A), r2 = lpa_opt(Q, first, +1, 0, &B);
				print_message("a priori [%g, %g] (%d %d)\n", A, B, r1, r2);
				glp_delete_prob(Q);
				fail_msg("the attacker narrows %zu primary cells, first '%s' [%lld, %lld] to "
				         "[%g, %g]", bad, sdct_label(&a.t, (uint32_t)first, b, sizeof b),
				         (long long)a.t.cells[first].lo, (long long)a.t.cells[first].hi, lo, hi);
			}
			/* under-protected: publish the secondary cells */
			for (size_t k = 0; k < a.t.n_cells; k++)
				if (a.t.cells[k].status == SDCT_SECONDARY)
					a.t.cells[k].status = SDCT_PUBLISHED;
			if (np)
				exposed_without += lpa_check_all(&a.t, 5, 0, &first);
			sdct_free(&a.t);
			free(a.cell);
		}
	}
	print_message("%zu tables, %zu primary cells: none narrowed; without the secondary cells "
	              "%zu would be\n", tables, primaries, exposed_without);
	assert_true(primaries > 0);
	assert_true(exposed_without > 0);
	rel_free(&rel);
	whcube_info_free(&info);
	cube_free(c);
	wh_close(w);
	codelists_free(&cl);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
