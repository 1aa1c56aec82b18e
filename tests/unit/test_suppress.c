/* suppress: primary rule, known answers worked out by hand, and the
 * attack.
 *
 * Every table that supp_secondary returns is attacked by the independent
 * LP of lp_attacker.h (plain GLPK, no code of privacy/audit.c): for every
 * primary cell it computes min and max from the published cells, the
 * constraints, non-negativity and the public intervals, and the interval
 * must reach the cell's own interval and be at least `threshold` wide
 * (or as wide as the cell's public interval).  Random hierarchical
 * tables (fixed seeds) are attacked after both methods, and the audit of
 * privacy/audit.h must agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "privacy/audit.h"
#include "privacy/suppress.h"
#include "tests/unit/lp_attacker.h"
#include "tests/unit/rand_tables.h"

static size_t count_status(const sdct_table *t, int st)
{
	size_t n = 0;
	for (size_t c = 0; c < t->n_cells; c++)
		n += t->cells[c].status == st;
	return n;
}

static void attack_ok(const sdct_table *t, int64_t T)
{
	size_t first;
	size_t bad = lpa_check_all(t, T, 0, &first);
	if (bad) {
		char b[128];
		fail_msg("attacker narrows %zu primary cells, first '%s'", bad,
		         sdct_label(t, (uint32_t)first, b, sizeof b));
	}
}

/* 2x2 table with margins (rows r1 r2, columns c1 c2):
 *        c1  c2 | T
 *   r1    2  10 | 12
 *   r2    8  20 | 28
 *   T    10  30 | 40
 * The 2 is primary.  Hiding it alone, its row gives it back (12 - 10).
 * The least pattern is the rectangle of the four inner cells: 3
 * secondary cells, margins all published; the attacker sees 2 + t for
 * t in [-2, 8], i.e. [0, 10], 10 wide. */
static void build_2x2(sdct_table *t, diag *d)
{
	static const char *rc[] = {"T", "r1", "r2"};
	static const char *cc[] = {"T", "c1", "c2"};
	static const int32_t par[] = {-1, 0, 0};
	sdct_dim dims[2] = {{"row", 3, rc, par}, {"col", 3, cc, par}};
	sdct_init(t);
	assert_int_equal(sdct_cross_init(t, dims, 2, d), 0);
	int64_t v[2][2] = {{2, 10}, {8, 20}};
	for (uint32_t i = 0; i < 2; i++)
		for (uint32_t j = 0; j < 2; j++) {
			uint32_t co[2] = {i + 1, j + 1};
			assert_int_equal(sdct_set_value(t, sdct_cross_cell(t, co), v[i][j], v[i][j], 0, d), 0);
		}
	assert_int_equal(sdct_cross_sum_leaves(t, d), 0);
	assert_int_equal(sdct_finalize(t, d), 0);
}

static void check_2x2(int method)
{
	sdct_table t;
	diag d = DIAG_INIT;
	build_2x2(&t, &d);
	supp_params p;
	supp_params_default(&p);
	size_t np;
	assert_int_equal(supp_primary(&t, &p, &np, &d), 0);
	assert_int_equal(np, 1);
	uint32_t co[2] = {1, 1};
	uint32_t prim = sdct_cross_cell(&t, co);
	assert_int_equal(t.cells[prim].status, SDCT_PRIMARY);
	assert_int_equal(t.cells[prim].req_width, 5);
	assert_int_equal(t.cells[prim].req_lo, 2);
	assert_int_equal(t.cells[prim].req_hi, 2);

	/* the attack on "primary only" succeeds: that is why secondaries exist */
	size_t first;
	assert_int_equal(lpa_check_all(&t, 5, 0, &first), 1);
	assert_int_equal(first, prim);

	supp_opts o;
	supp_opts_default(&o);
	o.method = method;
	supp_stats st;
	assert_int_equal(supp_secondary(&t, &o, &st, &d), 0);
	assert_int_equal(st.n_primary, 1);
	assert_int_equal(st.n_secondary, 3);
	assert_int_equal(count_status(&t, SDCT_SECONDARY), 3);
	/* exactly the other three inner cells, no margin */
	for (uint32_t i = 0; i < 3; i++)
		for (uint32_t j = 0; j < 3; j++) {
			uint32_t cc2[2] = {i, j};
			uint32_t c = sdct_cross_cell(&t, cc2);
			int inner = i > 0 && j > 0;
			if (c == prim)
				continue;
			assert_int_equal(t.cells[c].status, inner ? SDCT_SECONDARY : SDCT_PUBLISHED);
		}
	/* cost of the pattern: values 10 + 8 + 20 */
	assert_int_equal(st.value_secondary, 38);
	assert_int_equal(st.value_primary, 2);
	attack_ok(&t, 5);
	double lo, hi;
	assert_int_equal(lpa_range(&t, prim, 0, &lo, &hi), 0);
	assert_true(lo == 0.0 && hi == 10.0);
	sdca_report r;
	assert_int_equal(sdca_run(&t, NULL, &r, &d), 0);
	assert_int_equal(r.n_exposed, 0);
	sdca_report_free(&r);
	sdct_free(&t);
	diag_free(&d);
}

static void test_2x2_glpk(void **state)
{
	(void)state;
	check_2x2(SUPP_GLPK);
}

static void test_2x2_heuristic(void **state)
{
	(void)state;
	check_2x2(SUPP_HEURISTIC);
}

/* total = a + b + c with a = 2, b = 10, c = 20 (total 32).  Hiding a alone,
 * 32 - 10 - 20 = 2 gives it back: it needs a partner.  One partner is
 * enough (b: a in [0, 12]); the total stays published. */
static void test_one_dim_partner(void **state)
{
	(void)state;
	for (int method = SUPP_GLPK; method <= SUPP_HEURISTIC; method++) {
		sdct_table t;
		diag d = DIAG_INIT;
		sdct_init(&t);
		uint32_t tot, a, b, c;
		assert_int_equal(sdct_add_cell(&t, 32, 32, 0, "total", &tot, &d), 0);
		assert_int_equal(sdct_add_cell(&t, 2, 2, 0, "a", &a, &d), 0);
		assert_int_equal(sdct_add_cell(&t, 10, 10, 0, "b", &b, &d), 0);
		assert_int_equal(sdct_add_cell(&t, 20, 20, 0, "c", &c, &d), 0);
		uint32_t parts[3] = {a, b, c};
		assert_int_equal(sdct_add_constraint(&t, tot, parts, 3, &d), 0);
		assert_int_equal(sdct_finalize(&t, &d), 0);
		assert_int_equal(supp_primary(&t, NULL, NULL, &d), 0);
		assert_int_equal(t.cells[a].status, SDCT_PRIMARY);
		supp_opts o;
		supp_opts_default(&o);
		o.method = method;
		o.objective = SUPP_OBJ_VALUE; /* the smaller partner is cheaper */
		supp_stats st;
		assert_int_equal(supp_secondary(&t, &o, &st, &d), 0);
		assert_int_equal(st.n_secondary, 1);
		assert_int_equal(t.cells[b].status, SDCT_SECONDARY);
		assert_int_equal(t.cells[tot].status, SDCT_PUBLISHED);
		assert_int_equal(t.cells[c].status, SDCT_PUBLISHED);
		attack_ok(&t, 5);
		double lo, hi;
		assert_int_equal(lpa_range(&t, a, 0, &lo, &hi), 0);
		assert_true(lo == 0.0 && hi == 12.0);
		sdct_free(&t);
		diag_free(&d);
	}
}

/* Zeros are published by default and primary on request; a censored
 * public [0, 4] is primary with a requirement of its own width. */
static void test_primary_rule(void **state)
{
	(void)state;
	sdct_table t;
	diag d = DIAG_INIT;
	sdct_init(&t);
	uint32_t tot, z, s, cens, big;
	assert_int_equal(sdct_add_cell(&t, 12, 16, 0, "total", &tot, &d), 0);
	assert_int_equal(sdct_add_cell(&t, 0, 0, 0, "zero", &z, &d), 0);
	assert_int_equal(sdct_add_cell(&t, 5, 5, 0, "five", &s, &d), 0);
	assert_int_equal(sdct_add_cell(&t, 0, 4, SDCT_F_PUBLIC_BOUNDS, "cens", &cens, &d), 0);
	assert_int_equal(sdct_add_cell(&t, 7, 7, 0, "seven", &big, &d), 0);
	uint32_t parts[4] = {z, s, cens, big};
	assert_int_equal(sdct_add_constraint(&t, tot, parts, 4, &d), 0);
	assert_int_equal(sdct_finalize(&t, &d), 0);

	supp_params p;
	supp_params_default(&p);
	assert_int_equal(p.threshold, 5);
	assert_int_equal(p.zeros, SUPP_ZEROS_PUBLISH);
	size_t np;
	assert_int_equal(supp_primary(&t, &p, &np, &d), 0);
	assert_int_equal(np, 1);
	assert_int_equal(t.cells[z].status, SDCT_PUBLISHED);
	assert_int_equal(t.cells[s].status, SDCT_PUBLISHED); /* 5 is not < 5 */
	assert_int_equal(t.cells[cens].status, SDCT_PRIMARY);
	assert_int_equal(t.cells[cens].req_lo, 0);
	assert_int_equal(t.cells[cens].req_hi, 4);
	assert_int_equal(t.cells[cens].req_width, 4);

	p.zeros = SUPP_ZEROS_SENSITIVE;
	assert_int_equal(supp_primary(&t, &p, &np, &d), 0);
	assert_int_equal(np, 2);
	assert_int_equal(t.cells[z].status, SDCT_PRIMARY);
	assert_int_equal(t.cells[z].req_width, 5);

	/* a cell already primary stays primary (manual suppression) */
	p.zeros = SUPP_ZEROS_PUBLISH;
	assert_int_equal(supp_primary(&t, &p, &np, &d), 0);
	assert_int_equal(np, 2);
	assert_int_equal(t.cells[z].status, SDCT_PRIMARY);
	for (size_t c = 0; c < t.n_cells; c++)
		t.cells[c].status = SDCT_PUBLISHED;
	p.threshold = 6;
	assert_int_equal(supp_primary(&t, &p, &np, &d), 0);
	assert_int_equal(np, 2);
	assert_int_equal(t.cells[s].status, SDCT_PRIMARY);
	assert_int_equal(t.cells[s].req_width, 6);
	assert_int_equal(t.cells[z].status, SDCT_PUBLISHED);

	/* protection levels: upl 50% of 6 = 3 above the value */
	p.upl_pct = 50;
	assert_int_equal(supp_primary(&t, &p, &np, &d), 0);
	assert_int_equal(t.cells[s].req_hi, 8);
	assert_int_equal(t.cells[s].req_lo, 5);

	p.threshold = 0;
	assert_int_equal(supp_primary(&t, &p, &np, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	sdct_free(&t);
	diag_free(&d);
}

/* total = a + b = 12 and b = 10, both published by the country itself
 * (public bounds): a = 2 is public knowledge already.  The requirement is
 * clamped to what public bounds reveal ([2, 2], width 0), so nothing is
 * hidden for it.  A caller insisting on width 5 gets EX_DATAERR naming
 * the cell: nothing can protect it. */
static void test_unprotectable(void **state)
{
	(void)state;
	for (int method = SUPP_GLPK; method <= SUPP_HEURISTIC; method++) {
		sdct_table t;
		diag d = DIAG_INIT;
		sdct_init(&t);
		uint32_t tot, a, b;
		assert_int_equal(sdct_add_cell(&t, 12, 12, SDCT_F_PUBLIC_BOUNDS, "total", &tot, &d), 0);
		assert_int_equal(sdct_add_cell(&t, 2, 2, 0, "girls", &a, &d), 0);
		assert_int_equal(sdct_add_cell(&t, 10, 10, SDCT_F_PUBLIC_BOUNDS, "boys", &b, &d), 0);
		uint32_t parts[2] = {a, b};
		assert_int_equal(sdct_add_constraint(&t, tot, parts, 2, &d), 0);
		assert_int_equal(sdct_finalize(&t, &d), 0);
		assert_int_equal(supp_primary(&t, NULL, NULL, &d), 0);
		assert_int_equal(t.cells[a].status, SDCT_PRIMARY);
		assert_int_equal(t.cells[a].req_lo, 2);
		assert_int_equal(t.cells[a].req_hi, 2);
		assert_int_equal(t.cells[a].req_width, 0);
		supp_opts o;
		supp_opts_default(&o);
		o.method = method;
		supp_stats st;
		assert_int_equal(supp_secondary(&t, &o, &st, &d), 0);
		assert_int_equal(st.n_secondary, 0);
		attack_ok(&t, 5);

		t.cells[a].req_width = 5;
		t.cells[a].req_lo = 0;
		assert_int_equal(supp_secondary(&t, &o, NULL, &d), -1);
		assert_int_equal(d.code, EX_DATAERR);
		assert_non_null(strstr(d.msg, "girls"));
		sdct_free(&t);
		diag_free(&d);
	}
}

/* The property test: random 1-3 dimensional hierarchical tables.  Under
 * valgrind (scripts/valgrind.sh sets TIPSTAT_UNDER_VALGRIND) a tenth of the
 * tables are drawn: the same generator, assertions and code paths, fewer
 * random cases (the full count costs most of an hour under memcheck). */
static void random_tables(int method, size_t n_tables, uint64_t seed, unsigned p_cens, int zeros,
                          int with_integer)
{
	const char *vg = getenv("TIPSTAT_UNDER_VALGRIND");
	if (vg && *vg)
		n_tables = (n_tables + 9) / 10;
	rt_rng rng = {seed};
	size_t total_prim = 0, total_sec = 0, n_int_checked = 0;
	for (size_t k = 0; k < n_tables; k++) {
		sdct_table t;
		diag d = DIAG_INIT;
		size_t nd = 1 + rt_below(&rng, 3);
		assert_int_equal(rt_build(&t, &rng, nd, 25, 10, p_cens, &d), 0);
		supp_params p;
		supp_params_default(&p);
		p.zeros = zeros;
		assert_int_equal(supp_primary(&t, &p, NULL, &d), 0);
		supp_opts o;
		supp_opts_default(&o);
		o.method = method;
		supp_stats st;
		int rc = supp_secondary(&t, &o, &st, &d);
		if (rc) {
			/* only a genuinely unprotectable table may fail: the
			 * attacker, with every non-primary cell hidden, must then
			 * narrow some primary cell */
			assert_int_equal(d.code, EX_DATAERR);
			for (size_t c = 0; c < t.n_cells; c++)
				if (t.cells[c].status != SDCT_PRIMARY)
					t.cells[c].status = SDCT_SECONDARY;
			size_t first;
			assert_true(lpa_check_all(&t, p.threshold, 0, &first) > 0);
			sdct_free(&t);
			diag_free(&d);
			continue;
		}
		/* the stats report the pattern actually left in the table */
		assert_int_equal(st.n_primary, count_status(&t, SDCT_PRIMARY));
		assert_int_equal(st.n_secondary, count_status(&t, SDCT_SECONDARY));
		total_prim += st.n_primary;
		total_sec += st.n_secondary;
		attack_ok(&t, p.threshold);
		if (with_integer) {
			/* one- and two-way tables are totally unimodular: the
			 * integer attacker gets no further than the LP one; for
			 * three-way tables that is not guaranteed, but on these
			 * tables it holds too */
			size_t first;
			assert_int_equal(lpa_check_all(&t, p.threshold, 1, &first), 0);
			n_int_checked++;
		}
		sdca_report r;
		assert_int_equal(sdca_run(&t, NULL, &r, &d), 0);
		sdca_report_free(&r);
		sdct_free(&t);
		diag_free(&d);
	}
	assert_true(total_prim > n_tables); /* the generator does make small cells */
	(void)total_sec;
	(void)n_int_checked;
}

static void test_random_glpk(void **state)
{
	(void)state;
	random_tables(SUPP_GLPK, 200, 0x9e3779b97f4a7c15ull, 5, SUPP_ZEROS_PUBLISH, 1);
}

static void test_random_heuristic(void **state)
{
	(void)state;
	random_tables(SUPP_HEURISTIC, 200, 0x2545f4914f6cdd1dull, 5, SUPP_ZEROS_PUBLISH, 1);
}

/* many censored cells (public bounds) and sensitive zeros */
static void test_random_censored_and_zeros(void **state)
{
	(void)state;
	random_tables(SUPP_GLPK, 100, 0x1234567ull, 30, SUPP_ZEROS_PUBLISH, 0);
	random_tables(SUPP_HEURISTIC, 100, 0x1234567ull, 30, SUPP_ZEROS_PUBLISH, 0);
	random_tables(SUPP_GLPK, 100, 0xfeedbeefull, 5, SUPP_ZEROS_SENSITIVE, 0);
	random_tables(SUPP_HEURISTIC, 100, 0xfeedbeefull, 5, SUPP_ZEROS_SENSITIVE, 0);
}

/* Regression, found by the attack above: aT = aG0 = a0.0 + a0.1 with
 * a0.0 censored [0, 4] by the country and a0.1 = 0.  The totals are
 * primary ([0, 4]); only hiding the zero a0.1 leaves them unbounded above.
 * An unbounded LP ray once counted as a witness that moved nothing, and
 * the clean-up published the zero again. */
static void test_unbounded_witness(void **state)
{
	(void)state;
	static const char *codes[] = {"aT", "aG0", "a0.0", "a0.1"};
	static const int32_t par[] = {-1, 0, 1, 1};
	sdct_dim dm = {"a", 4, codes, par};
	for (int method = SUPP_GLPK; method <= SUPP_HEURISTIC; method++) {
		sdct_table t;
		diag d = DIAG_INIT;
		sdct_init(&t);
		assert_int_equal(sdct_cross_init(&t, &dm, 1, &d), 0);
		assert_int_equal(sdct_set_value(&t, 2, 0, 4, SDCT_F_PUBLIC_BOUNDS, &d), 0);
		assert_int_equal(sdct_cross_sum_leaves(&t, &d), 0);
		assert_int_equal(sdct_finalize(&t, &d), 0);
		size_t np;
		assert_int_equal(supp_primary(&t, NULL, &np, &d), 0);
		assert_int_equal(np, 3);
		supp_opts o;
		supp_opts_default(&o);
		o.method = method;
		assert_int_equal(supp_secondary(&t, &o, NULL, &d), 0);
		assert_int_equal(t.cells[3].status, SDCT_SECONDARY);
		attack_ok(&t, 5);
		sdct_free(&t);
		diag_free(&d);
	}
}

/* The capacity cuts of the GLPK method's global phase, on a 4 x 4 table
 * with margins (rows r1..r4, columns c1..c4; P = primary):
 *        c1   c2   c3   c4 |   T
 *   r1    1P  40   16    9 |  66
 *   r2   52    4P  18   61 | 135
 *   r3   37   26   19    2P|  84
 *   r4   17    2P   4P  59 |  82
 *   T   107   72   57  131 | 367
 * Rows r1, r2 and r3 hold one primary cell each, so each needs a second
 * hidden cell of its own: at least 3 secondaries.  Three suffice: 9, 18
 * and 37 close two alternating rectangles, 1 9 2 37 (the attacker sees
 * 1 + t for t in [-1, 7], 8 wide) and 4 18 4 2 (4 + t, t in [-4, 2],
 * 6 wide), every margin published.  The relaxation MIP alone (one
 * round, as before the cuts) chose cells that the per-cell MIPs then had
 * to complete: 4 secondaries.  With the cuts: the 3, which the exact
 * audit and the independent attacker accept; and the search over every
 * set of at most 2 non-primary cells finds none that protects. */
static void build_4x4(sdct_table *t, diag *d)
{
	static const char *rc[] = {"T", "r1", "r2", "r3", "r4"};
	static const char *cc[] = {"T", "c1", "c2", "c3", "c4"};
	static const int32_t par[] = {-1, 0, 0, 0, 0};
	sdct_dim dims[2] = {{"row", 5, rc, par}, {"col", 5, cc, par}};
	static const int64_t v[4][4] = {
	    {1, 40, 16, 9}, {52, 4, 18, 61}, {37, 26, 19, 2}, {17, 2, 4, 59}};
	sdct_init(t);
	assert_int_equal(sdct_cross_init(t, dims, 2, d), 0);
	for (uint32_t i = 0; i < 4; i++)
		for (uint32_t j = 0; j < 4; j++) {
			uint32_t co[2] = {i + 1, j + 1};
			assert_int_equal(sdct_set_value(t, sdct_cross_cell(t, co), v[i][j], v[i][j], 0, d),
			                 0);
		}
	assert_int_equal(sdct_cross_sum_leaves(t, d), 0);
	assert_int_equal(sdct_finalize(t, d), 0);
}

static size_t secondaries_4x4(unsigned rounds, sdct_table *t)
{
	diag d = DIAG_INIT;
	build_4x4(t, &d);
	size_t np;
	assert_int_equal(supp_primary(t, NULL, &np, &d), 0);
	assert_int_equal(np, 5);
	supp_opts o;
	supp_opts_default(&o);
	o.method = SUPP_GLPK;
	o.global_rounds = rounds;
	supp_stats st;
	assert_int_equal(supp_secondary(t, &o, &st, &d), 0);
	assert_int_equal(st.n_secondary, count_status(t, SDCT_SECONDARY));
	/* whatever the path, protection holds: independent attacker, exact audit */
	attack_ok(t, 5);
	sdca_opts ao = {.mode = SDCA_EXACT};
	sdca_report r;
	assert_int_equal(sdca_run(t, &ao, &r, &d), 0);
	assert_int_equal(r.n_exposed, 0);
	sdca_report_free(&r);
	diag_free(&d);
	return st.n_secondary;
}

static void test_global_cuts(void **state)
{
	(void)state;
	sdct_table t;
	size_t old = secondaries_4x4(1, &t);
	sdct_free(&t);
	size_t now_ = secondaries_4x4(0, &t);
	assert_int_equal(old, 4);
	assert_int_equal(now_, 3);
	static const uint32_t want[3][2] = {{1, 4}, {2, 3}, {3, 1}};
	for (int k = 0; k < 3; k++) {
		uint32_t co[2] = {want[k][0], want[k][1]};
		assert_int_equal(t.cells[sdct_cross_cell(&t, co)].status, SDCT_SECONDARY);
	}
	/* minimality: no set of 0, 1 or 2 non-primary cells protects */
	uint32_t cand[25];
	size_t nc = 0;
	for (uint32_t c = 0; c < t.n_cells; c++) {
		if (t.cells[c].status == SDCT_SECONDARY)
			t.cells[c].status = SDCT_PUBLISHED;
		if (t.cells[c].status == SDCT_PUBLISHED)
			cand[nc++] = c;
	}
	assert_int_equal(nc, 20);
	size_t first, tried = 0;
	for (size_t a = 0; a <= nc; a++)
		for (size_t b = a; b <= nc; b++) {
			if (a < nc)
				t.cells[cand[a]].status = SDCT_SECONDARY;
			if (b < nc)
				t.cells[cand[b]].status = SDCT_SECONDARY;
			assert_true(lpa_check_all(&t, 5, 0, &first) > 0);
			tried++;
			if (a < nc)
				t.cells[cand[a]].status = SDCT_PUBLISHED;
			if (b < nc)
				t.cells[cand[b]].status = SDCT_PUBLISHED;
		}
	assert_int_equal(tried, 21 * 22 / 2);
	sdct_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_2x2_glpk),
		cmocka_unit_test(test_2x2_heuristic),
		cmocka_unit_test(test_one_dim_partner),
		cmocka_unit_test(test_primary_rule),
		cmocka_unit_test(test_unprotectable),
		cmocka_unit_test(test_random_glpk),
		cmocka_unit_test(test_random_heuristic),
		cmocka_unit_test(test_random_censored_and_zeros),
		cmocka_unit_test(test_unbounded_witness),
		cmocka_unit_test(test_global_cuts),
	};
	return cmocka_run_group_tests_name("suppress", tests, NULL, NULL);
}
