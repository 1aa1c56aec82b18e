/* suppcert: witness certificates, their checker, and how the suppression
 * and the audit use them.
 *
 * Known answers on the 2x2 table with margins (worked out by hand):
 *        c1  c2 | T
 *   r1    2  10 | 12
 *   r2    8  20 | 28
 *   T    10  30 | 40
 * with the 2 primary (interval needed: reaching 2, 5 wide) and the other
 * three inner cells hidden.  The certificate "up 3 / down 2 along the
 * rectangle" shows the attacker tables with the 2 at 5 and at 0: valid.
 * Each way of breaking it (a constraint, a published cell, a count below
 * 0, too small a move, ...) must be refused with its reason.  The audit
 * must settle the cell by the valid certificate without an LP, and fall
 * back to its LP when given a bad one -- still reaching the right verdict,
 * also when the table really is exposed and the bad certificate claims
 * otherwise.  Then the property: on random hierarchical tables of 2 to 5
 * dimensions, the heuristic's certificates are all accepted, and the
 * independent LP attacker (tests/unit/lp_attacker.h, no code of
 * privacy/audit.c) narrows no primary cell of its result. */
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
#include "privacy/suppcert.h"
#include "privacy/suppress.h"
#include "tests/unit/lp_attacker.h"

static uint32_t cell2(const sdct_table *t, uint32_t i, uint32_t j)
{
	uint32_t co[2] = {i, j};
	return sdct_cross_cell(t, co);
}

/* The 2x2 table, primary rule applied, the rectangle hidden. */
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
		for (uint32_t j = 0; j < 2; j++)
			assert_int_equal(sdct_set_value(t, cell2(t, i + 1, j + 1), v[i][j], v[i][j], 0, d),
			                 0);
	assert_int_equal(sdct_cross_sum_leaves(t, d), 0);
	assert_int_equal(sdct_finalize(t, d), 0);
	size_t np;
	assert_int_equal(supp_primary(t, NULL, &np, d), 0);
	assert_int_equal(np, 1);
	assert_int_equal(t->cells[cell2(t, 1, 1)].req_width, 5);
	t->cells[cell2(t, 1, 2)].status = SDCT_SECONDARY;
	t->cells[cell2(t, 2, 1)].status = SDCT_SECONDARY;
	t->cells[cell2(t, 2, 2)].status = SDCT_SECONDARY;
}

/* A certificate along the rectangle: the 2 goes up by u and down by w;
 * extra moves appended. */
static void rect_cert(const sdct_table *t, scert_set *s, int64_t u, int64_t w, size_t n_extra,
                      const uint32_t *xc, const int64_t *xu, const int64_t *xd)
{
	diag d = DIAG_INIT;
	int64_t *x = malloc(t->n_cells * sizeof *x);
	assert_non_null(x);
	for (size_t j = 0; j < t->n_cells; j++)
		x[j] = t->cells[j].lo;
	assert_int_equal(scert_set_base(s, x, t->n_cells, &d), 0);
	free(x);
	uint32_t cells[8] = {cell2(t, 1, 1), cell2(t, 1, 2), cell2(t, 2, 1), cell2(t, 2, 2)};
	int64_t up[8] = {u, -u, -u, u}, dn[8] = {-w, w, w, -w};
	for (size_t k = 0; k < n_extra; k++) {
		cells[4 + k] = xc[k];
		up[4 + k] = xu[k];
		dn[4 + k] = xd[k];
	}
	assert_int_equal(scert_add(s, cell2(t, 1, 1), cells, up, dn, 4 + n_extra, &d), 0);
	diag_free(&d);
}

static int check_one(const sdct_table *t, const scert_set *s, int64_t *lo, int64_t *hi)
{
	diag d = DIAG_INIT;
	scert_checker *k;
	assert_int_equal(scert_checker_new(t, s, &k, &d), 0);
	int v = scert_check(k, 0, lo, hi);
	scert_checker_free(k);
	diag_free(&d);
	return v;
}

static void test_known_answers(void **state)
{
	(void)state;
	sdct_table t;
	diag d = DIAG_INIT;
	build_2x2(&t, &d);
	scert_set s;
	int64_t lo = -1, hi = -1;

	/* valid: tables with the 2 at 5 and at 0 */
	scert_init(&s);
	rect_cert(&t, &s, 3, 2, 0, NULL, NULL, NULL);
	assert_int_equal(check_one(&t, &s, &lo, &hi), SCERT_OK);
	assert_int_equal(lo, 0);
	assert_int_equal(hi, 5);
	scert_free(&s);

	/* the furthest it can go (up 8: 10 - 8 = 0 in r1 c2) is valid too */
	scert_init(&s);
	rect_cert(&t, &s, 8, 2, 0, NULL, NULL, NULL);
	assert_int_equal(check_one(&t, &s, &lo, &hi), SCERT_OK);
	assert_int_equal(hi, 10);
	scert_free(&s);

	/* too little: [0, 4] is 4 wide */
	scert_init(&s);
	rect_cert(&t, &s, 2, 2, 0, NULL, NULL, NULL);
	assert_int_equal(check_one(&t, &s, NULL, NULL), SCERT_TOO_LITTLE);
	scert_free(&s);

	/* below 0: the 2 lowered by 3 */
	scert_init(&s);
	rect_cert(&t, &s, 3, 3, 0, NULL, NULL, NULL);
	assert_int_equal(check_one(&t, &s, NULL, NULL), SCERT_BOUNDS);
	scert_free(&s);

	/* beyond: up 9 takes r1 c2 to -1 */
	scert_init(&s);
	rect_cert(&t, &s, 9, 2, 0, NULL, NULL, NULL);
	assert_int_equal(check_one(&t, &s, NULL, NULL), SCERT_BOUNDS);
	scert_free(&s);

	/* a constraint broken: r2 c2 moved one more in the raising table */
	{
		scert_init(&s);
		rect_cert(&t, &s, 3, 2, 0, NULL, NULL, NULL);
		s.mup[3] += 1;
		assert_int_equal(check_one(&t, &s, NULL, NULL), SCERT_CONSTRAINT);
		scert_free(&s);
	}

	/* moves a published cell (the grand total, +0 / -1) */
	{
		uint32_t xc[1] = {cell2(&t, 0, 0)};
		int64_t xu[1] = {0}, xd[1] = {-1};
		scert_init(&s);
		rect_cert(&t, &s, 3, 2, 1, xc, xu, xd);
		assert_int_equal(check_one(&t, &s, NULL, NULL), SCERT_KNOWN);
		scert_free(&s);
	}

	/* a published cell listed with no move is harmless */
	{
		uint32_t xc[1] = {cell2(&t, 0, 0)};
		int64_t xu[1] = {0}, xd[1] = {0};
		scert_init(&s);
		rect_cert(&t, &s, 3, 2, 1, xc, xu, xd);
		assert_int_equal(check_one(&t, &s, NULL, NULL), SCERT_OK);
		scert_free(&s);
	}

	/* a cell listed twice, and one that does not exist */
	{
		uint32_t xc[1] = {cell2(&t, 2, 2)};
		int64_t xu[1] = {0}, xd[1] = {0};
		scert_init(&s);
		rect_cert(&t, &s, 3, 2, 1, xc, xu, xd);
		assert_int_equal(check_one(&t, &s, NULL, NULL), SCERT_REPEATED);
		scert_free(&s);
		xc[0] = 99;
		scert_init(&s);
		rect_cert(&t, &s, 3, 2, 1, xc, xu, xd);
		assert_int_equal(check_one(&t, &s, NULL, NULL), SCERT_BAD_CELL);
		scert_free(&s);
	}

	/* a base that is not the table: r1 c1 = 3 breaks its row */
	scert_init(&s);
	rect_cert(&t, &s, 3, 2, 0, NULL, NULL, NULL);
	s.base[cell2(&t, 1, 1)] = 3;
	assert_int_equal(check_one(&t, &s, NULL, NULL), SCERT_BASE);
	scert_free(&s);

	/* a certificate for a cell that is not primary */
	scert_init(&s);
	rect_cert(&t, &s, 3, 2, 0, NULL, NULL, NULL);
	s.c[0].cell = cell2(&t, 2, 2);
	assert_int_equal(check_one(&t, &s, NULL, NULL), SCERT_NOT_PRIMARY);
	scert_free(&s);

	/* a published cell of the rectangle: the same moves are refused */
	t.cells[cell2(&t, 2, 2)].status = SDCT_PUBLISHED;
	scert_init(&s);
	rect_cert(&t, &s, 3, 2, 0, NULL, NULL, NULL);
	assert_int_equal(check_one(&t, &s, NULL, NULL), SCERT_KNOWN);
	scert_free(&s);

	assert_string_equal(scert_verdict_str(SCERT_CONSTRAINT), "breaks a constraint");
	sdct_free(&t);
	diag_free(&d);
}

/* The audit: a valid certificate settles the cell without an LP; a bad
 * one is refused and the LP decides. */
static void test_audit_uses_and_refuses(void **state)
{
	(void)state;
	sdct_table t;
	diag d = DIAG_INIT;
	build_2x2(&t, &d);
	uint32_t prim = cell2(&t, 1, 1);
	sdca_opts o = {SDCA_CERTIFY, 0, NULL};
	sdca_report r;
	scert_set s;

	/* the independent attacker's interval contains the certified one */
	double alo, ahi;
	assert_int_equal(lpa_range(&t, prim, 0, &alo, &ahi), 0);
	assert_true(alo == 0.0 && ahi == 10.0);
	scert_init(&s);
	rect_cert(&t, &s, 3, 2, 0, NULL, NULL, NULL);
	o.certs = &s;
	assert_int_equal(sdca_run(&t, &o, &r, &d), 0);
	assert_int_equal(r.n_cert, 1);
	assert_int_equal(r.n_cert_rejected, 0);
	assert_int_equal(r.n_lp, 0);
	for (size_t k = 0; k < r.n_iv; k++)
		if (r.iv[k].cell == prim) {
			assert_int_equal(r.iv[k].how, SDCA_BY_CERT);
			assert_int_equal(r.iv[k].lo, 0);
			assert_int_equal(r.iv[k].hi, 5);
		}
	sdca_report_free(&r);
	scert_free(&s);

	/* too little: refused; the audit's own path says protected */
	scert_init(&s);
	rect_cert(&t, &s, 2, 2, 0, NULL, NULL, NULL);
	o.certs = &s;
	assert_int_equal(sdca_run(&t, &o, &r, &d), 0);
	assert_int_equal(r.n_cert, 0);
	assert_int_equal(r.n_cert_rejected, 1);
	assert_int_equal(r.n_exposed, 0);
	for (size_t k = 0; k < r.n_iv; k++)
		if (r.iv[k].cell == prim)
			assert_int_not_equal(r.iv[k].how, SDCA_BY_CERT);
	sdca_report_free(&r);
	scert_free(&s);

	/* exposed table (r2 c2 published: the row gives the 2 back) and a
	 * forged certificate claiming protection: refused, and the release
	 * is refused by the LP */
	t.cells[cell2(&t, 2, 2)].status = SDCT_PUBLISHED;
	scert_init(&s);
	rect_cert(&t, &s, 3, 2, 0, NULL, NULL, NULL);
	o.certs = &s;
	assert_int_equal(sdca_run(&t, &o, &r, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_int_equal(r.n_cert_rejected, 1);
	assert_int_equal(r.n_exposed, 1);
	assert_int_equal(r.first_exposed, prim);
	sdca_report_free(&r);
	scert_free(&s);
	sdct_free(&t);
	diag_free(&d);
}

/* splitmix64 for the random tables (test data, not privacy) */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* A random cross table of nd hierarchical dimensions (a root, maybe a
 * level of groups, 2-3 leaves per parent), small enough for the LP
 * attacker: leaves are 0, 1-4 or larger counts. */
static void random_cross(sdct_table *t, uint64_t *seed, size_t nd, diag *d)
{
	char names[5][12][8];
	const char *codes[5][12];
	int32_t par[5][12];
	sdct_dim dims[5];
	for (size_t k = 0; k < nd; k++) {
		size_t n = 0;
		snprintf(names[k][n], 8, "%cT", (char)('a' + k));
		par[k][n++] = -1;
		int groups = nd <= 3 && rnd(seed) % 2;
		size_t ng = groups ? 2 : 1;
		for (size_t g = 0; g < ng; g++) {
			int32_t p = 0;
			if (groups) {
				snprintf(names[k][n], 8, "%cG%zu", (char)('a' + k), g);
				p = (int32_t)n;
				par[k][n++] = 0;
			}
			size_t nl = 2 + (nd <= 3 ? rnd(seed) % 2 : 0);
			for (size_t l = 0; l < nl; l++) {
				snprintf(names[k][n], 8, "%c%zu.%zu", (char)('a' + k), g, l);
				par[k][n++] = p;
			}
		}
		for (size_t q = 0; q < n; q++)
			codes[k][q] = names[k][q];
		dims[k] = (sdct_dim){names[k][0], n, codes[k], par[k]};
	}
	sdct_init(t);
	assert_int_equal(sdct_cross_init(t, dims, nd, d), 0);
	for (uint32_t c = 0; c < t->n_cells; c++) {
		if (!sdct_cross_is_leaf(t, c))
			continue;
		uint64_t u = rnd(seed) % 100;
		int64_t v = u < 15 ? 0 : u < 45 ? 1 + (int64_t)(rnd(seed) % 4) : 5 + (int64_t)(rnd(seed) % 40);
		assert_int_equal(sdct_set_value(t, c, v, v, 0, d), 0);
	}
	assert_int_equal(sdct_cross_sum_leaves(t, d), 0);
	assert_int_equal(sdct_finalize(t, d), 0);
}

static void random_run(int method, size_t n_tables, uint64_t seed)
{
	const char *vg = getenv("TIPSTAT_UNDER_VALGRIND");
	if (vg && *vg)
		n_tables = (n_tables + 9) / 10;
	size_t total_cert = 0, total_prim = 0, max_cells = 0;
	for (size_t k = 0; k < n_tables; k++) {
		sdct_table t;
		diag d = DIAG_INIT;
		size_t nd = 2 + (size_t)(rnd(&seed) % 4);
		random_cross(&t, &seed, nd, &d);
		if (t.n_cells > max_cells)
			max_cells = t.n_cells;
		assert_int_equal(supp_primary(&t, NULL, NULL, &d), 0);
		supp_opts o;
		supp_opts_default(&o);
		o.method = method;
		supp_stats st;
		scert_set s;
		scert_init(&s);
		int rc = supp_secondary_cert(&t, &o, &st, &s, &d);
		if (rc) {
			/* only an unprotectable table may fail */
			assert_int_equal(d.code, EX_DATAERR);
			scert_free(&s);
			sdct_free(&t);
			diag_free(&d);
			continue;
		}
		assert_int_equal(st.n_cert, s.n);
		total_cert += s.n;
		total_prim += st.n_primary;
		/* every certificate holds, checked on its own */
		scert_checker *ck;
		assert_int_equal(scert_checker_new(&t, &s, &ck, &d), 0);
		for (size_t q = 0; q < s.n; q++)
			assert_int_equal(scert_check(ck, q, NULL, NULL), SCERT_OK);
		scert_checker_free(ck);
		/* the independent attacker narrows nothing */
		size_t first;
		size_t bad = lpa_check_all(&t, 5, 0, &first);
		if (bad) {
			char b[128];
			fail_msg("table %zu (%zu dims): the attacker narrows %zu primary cells, first '%s'",
			         k, nd, bad, sdct_label(&t, (uint32_t)first, b, sizeof b));
		}
		/* the audit with certificates, and the exact one, agree */
		sdca_opts ao = {SDCA_CERTIFY, 0, &s};
		sdca_report r;
		assert_int_equal(sdca_run(&t, &ao, &r, &d), 0);
		assert_int_equal(r.n_cert_rejected, 0);
		assert_int_equal(r.n_cert, s.n);
		sdca_report_free(&r);
		ao.mode = SDCA_EXACT;
		assert_int_equal(sdca_run(&t, &ao, &r, &d), 0);
		assert_int_equal(r.n_cert, 0);
		sdca_report_free(&r);
		scert_free(&s);
		sdct_free(&t);
		diag_free(&d);
	}
	print_message("%s: %zu tables, %zu primary cells, %zu certificates, largest %zu cells\n",
	              method == SUPP_HEURISTIC ? "heuristic" : "glpk", n_tables, total_prim,
	              total_cert, max_cells);
	assert_true(total_prim > n_tables);
	/* the heuristic certifies nearly everything it protects */
	if (method == SUPP_HEURISTIC)
		assert_true(total_cert * 10 >= total_prim * 9);
}

static void test_random_heuristic(void **state)
{
	(void)state;
	random_run(SUPP_HEURISTIC, 60, 0x5eed5eedull);
}

static void test_random_glpk(void **state)
{
	(void)state;
	random_run(SUPP_GLPK, 12, 0xabcdef01ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_audit_uses_and_refuses),
		cmocka_unit_test(test_random_heuristic),
		cmocka_unit_test(test_random_glpk),
	};
	return cmocka_run_group_tests_name("suppcert", tests, NULL, NULL);
}
