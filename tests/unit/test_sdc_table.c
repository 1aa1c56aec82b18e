/* sdc_table: the table model.  Known answers on hand-built tables (cells,
 * constraints, the cross product of two hierarchies and its sums worked
 * out by hand), the consistency check of intervals, cycle detection, and
 * the reference point of a table with censored cells. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "privacy/sdc_table.h"

static void test_generic_known_answer(void **state)
{
	(void)state;
	sdct_table t;
	diag d = DIAG_INIT;
	sdct_init(&t);
	uint32_t tot, a, b, c;
	assert_int_equal(sdct_add_cell(&t, 17, 17, 0, "total", &tot, &d), 0);
	assert_int_equal(sdct_add_cell(&t, 2, 2, 0, "a", &a, &d), 0);
	assert_int_equal(sdct_add_cell(&t, 5, 5, 0, "b", &b, &d), 0);
	assert_int_equal(sdct_add_cell(&t, 10, 10, 0, NULL, &c, &d), 0);
	uint32_t parts[3] = {a, b, c};
	assert_int_equal(sdct_add_constraint(&t, tot, parts, 3, &d), 0);
	assert_int_equal(sdct_finalize(&t, &d), 0);
	assert_int_equal(t.n_cells, 4);
	assert_int_equal(t.n_cons, 1);
	/* every cell is in the one constraint */
	for (uint32_t k = 0; k < 4; k++)
		assert_int_equal(t.cell_start[k + 1] - t.cell_start[k], 1);
	char buf[64];
	assert_string_equal(sdct_label(&t, a, buf, sizeof buf), "a");
	assert_string_equal(sdct_label(&t, c, buf, sizeof buf), "#3");
	int64_t x[4];
	assert_int_equal(sdct_reference_point(&t, x, &d), 0);
	assert_int_equal(x[0], 17);
	assert_int_equal(x[1], 2);
	/* adding after finalize is refused */
	assert_int_equal(sdct_add_cell(&t, 1, 1, 0, "late", NULL, &d), -1);
	assert_int_equal(d.code, EX_SOFTWARE);
	sdct_free(&t);
	diag_free(&d);
}

static void test_bad_inputs(void **state)
{
	(void)state;
	sdct_table t;
	diag d = DIAG_INIT;
	sdct_init(&t);
	uint32_t tot, a, b;
	assert_int_equal(sdct_add_cell(&t, 5, 3, 0, "neg", NULL, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_non_null(strstr(d.msg, "neg"));
	diag_reset(&d);
	assert_int_equal(sdct_add_cell(&t, 10, 10, 0, "World", &tot, &d), 0);
	assert_int_equal(sdct_add_cell(&t, 2, 2, 0, "A", &a, &d), 0);
	assert_int_equal(sdct_add_cell(&t, 5, 5, 0, "B", &b, &d), 0);
	uint32_t dup[2] = {a, a};
	assert_int_equal(sdct_add_constraint(&t, tot, dup, 2, &d), -1);
	diag_reset(&d);
	uint32_t self[2] = {a, tot};
	assert_int_equal(sdct_add_constraint(&t, tot, self, 2, &d), -1);
	diag_reset(&d);
	uint32_t parts[2] = {a, b};
	assert_int_equal(sdct_add_constraint(&t, tot, parts, 2, &d), 0);
	/* 10 != 2 + 5: refused, naming the total */
	assert_int_equal(sdct_finalize(&t, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_non_null(strstr(d.msg, "World"));
	sdct_free(&t);
	diag_reset(&d);

	/* intervals: [0,4] + 5 can be 7..9 only; a total [7, 8] is consistent */
	sdct_init(&t);
	assert_int_equal(sdct_add_cell(&t, 7, 8, 0, "T", &tot, &d), 0);
	assert_int_equal(sdct_add_cell(&t, 0, 4, SDCT_F_PUBLIC_BOUNDS, "c", &a, &d), 0);
	assert_int_equal(sdct_add_cell(&t, 5, 5, 0, "e", &b, &d), 0);
	assert_int_equal(sdct_add_constraint(&t, tot, parts, 2, &d), 0);
	assert_int_equal(sdct_finalize(&t, &d), 0);
	int64_t x[3];
	assert_int_equal(sdct_reference_point(&t, x, &d), 0);
	assert_true(x[0] >= 7 && x[0] <= 8);
	assert_true(x[1] >= 0 && x[1] <= 4);
	assert_int_equal(x[2], 5);
	assert_int_equal(x[0], x[1] + x[2]);
	sdct_free(&t);
	diag_free(&d);
}

/* Dimension 0: World(0) > Africa(1) > {AAA(3), BBB(4)}, Europe(2) > CCC(5).
 * Dimension 1: Total(0) > F(1), M(2). */
static const char *geo_codes[] = {"World", "Africa", "Europe", "AAA", "BBB", "CCC"};
static const int32_t geo_par[] = {-1, 0, 0, 1, 1, 2};
static const char *sex_codes[] = {"Total", "F", "M"};
static const int32_t sex_par[] = {-1, 0, 0};

static void build_cross(sdct_table *t, diag *d)
{
	sdct_dim dims[2] = {{"geo", 6, geo_codes, geo_par}, {"sex", 3, sex_codes, sex_par}};
	sdct_init(t);
	assert_int_equal(sdct_cross_init(t, dims, 2, d), 0);
}

static void test_cross_known_answer(void **state)
{
	(void)state;
	sdct_table t;
	diag d = DIAG_INIT;
	build_cross(&t, &d);
	assert_int_equal(t.n_cells, 18);
	/* geo: 3 non-leaf codes x 3 sexes = 9 constraints; sex: 1 x 6 = 6 */
	assert_int_equal(t.n_cons, 15);
	assert_int_equal(t.dims[1].stride, 1);
	assert_int_equal(t.dims[0].stride, 3);
	/* leaves: AAA F 2 M 7; BBB F 1 M 0; CCC F 3 M [1,4] censored */
	uint32_t co[2];
	struct { uint32_t g, s; int64_t lo, hi; unsigned fl; } leaf[] = {
		{3, 1, 2, 2, 0}, {3, 2, 7, 7, 0}, {4, 1, 1, 1, 0},
		{4, 2, 0, 0, 0}, {5, 1, 3, 3, 0}, {5, 2, 1, 4, SDCT_F_PUBLIC_BOUNDS}};
	for (size_t k = 0; k < 6; k++) {
		co[0] = leaf[k].g;
		co[1] = leaf[k].s;
		uint32_t c = sdct_cross_cell(&t, co);
		assert_true(sdct_cross_is_leaf(&t, c));
		assert_int_equal(sdct_set_value(&t, c, leaf[k].lo, leaf[k].hi, leaf[k].fl, &d), 0);
	}
	assert_int_equal(sdct_cross_sum_leaves(&t, &d), 0);
	assert_int_equal(sdct_finalize(&t, &d), 0);
	/* hand sums */
	struct { uint32_t g, s; int64_t lo, hi; } want[] = {
		{0, 0, 14, 17}, {0, 1, 6, 6}, {0, 2, 8, 11}, {1, 0, 10, 10}, {1, 1, 3, 3},
		{1, 2, 7, 7}, {2, 0, 4, 7}, {2, 2, 1, 4}, {3, 0, 9, 9}, {4, 0, 1, 1}, {5, 0, 4, 7}};
	for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
		co[0] = want[k].g;
		co[1] = want[k].s;
		uint32_t c = sdct_cross_cell(&t, co);
		assert_int_equal(t.cells[c].lo, want[k].lo);
		assert_int_equal(t.cells[c].hi, want[k].hi);
		uint32_t back[2];
		sdct_cross_coords(&t, c, back);
		assert_int_equal(back[0], co[0]);
		assert_int_equal(back[1], co[1]);
	}
	char buf[64];
	co[0] = 5;
	co[1] = 2;
	uint32_t ccc_m = sdct_cross_cell(&t, co);
	assert_string_equal(sdct_label(&t, ccc_m, buf, sizeof buf), "CCC/M");
	assert_true(t.cells[ccc_m].flags & SDCT_F_PUBLIC_BOUNDS);
	co[0] = 0;
	co[1] = 0;
	assert_false(sdct_cross_is_leaf(&t, sdct_cross_cell(&t, co)));
	/* the World/Total constraint over regions: 1 + 2 region parts */
	int64_t x[18];
	assert_int_equal(sdct_reference_point(&t, x, &d), 0);
	for (size_t r = 0; r < t.n_cons; r++) {
		int64_t s = 0;
		for (uint32_t k = t.con_start[r]; k < t.con_start[r + 1]; k++)
			s += x[t.con_parts[k]];
		assert_int_equal(s, x[t.con_total[r]]);
	}
	for (size_t c = 0; c < 18; c++)
		assert_true(x[c] >= t.cells[c].lo && x[c] <= t.cells[c].hi);
	sdct_summary s;
	t.cells[ccc_m].status = SDCT_PRIMARY;
	t.cells[0].status = SDCT_SECONDARY;
	sdct_summarize(&t, &s);
	assert_int_equal(s.n_primary, 1);
	assert_int_equal(s.n_secondary, 1);
	assert_int_equal(s.value_primary, 4);
	assert_int_equal(s.value_secondary, 17);
	sdct_free(&t);
	diag_free(&d);
}

static void test_cycle_rejected(void **state)
{
	(void)state;
	static const char *codes[] = {"a", "b", "c"};
	static const int32_t par[] = {1, 2, 0};
	sdct_dim dim = {"loop", 3, codes, par};
	sdct_table t;
	diag d = DIAG_INIT;
	sdct_init(&t);
	assert_int_equal(sdct_cross_init(&t, &dim, 1, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_non_null(strstr(d.msg, "cycle"));
	sdct_free(&t);
	diag_free(&d);
}

static void test_inconsistent_intervals(void **state)
{
	(void)state;
	sdct_table t;
	diag d = DIAG_INIT;
	sdct_init(&t);
	uint32_t tot, a, b;
	/* total exact 20, parts [0,4] and [0,4]: no table fits */
	assert_int_equal(sdct_add_cell(&t, 20, 20, 0, "T", &tot, &d), 0);
	assert_int_equal(sdct_add_cell(&t, 0, 4, 0, "a", &a, &d), 0);
	assert_int_equal(sdct_add_cell(&t, 0, 4, 0, "b", &b, &d), 0);
	uint32_t parts[2] = {a, b};
	assert_int_equal(sdct_add_constraint(&t, tot, parts, 2, &d), 0);
	assert_int_equal(sdct_finalize(&t, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_non_null(strstr(d.msg, "'T'"));
	sdct_free(&t);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generic_known_answer),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_cross_known_answer),
		cmocka_unit_test(test_cycle_rejected),
		cmocka_unit_test(test_inconsistent_intervals),
	};
	return cmocka_run_group_tests_name("sdc_table", tests, NULL, NULL);
}
