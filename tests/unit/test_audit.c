/* audit: the interval audit must refuse what an attacker can break and
 * report what the attacker sees.
 *
 *  - a table where only the primary cell is suppressed is refused with
 *    EX_NOPERM, naming the cell (the attacker recomputes it exactly);
 *  - censored intervals the country published are used: a partner whose
 *    public interval is narrow does not protect;
 *  - EXACT intervals equal the independent attacker's (lp_attacker.h,
 *    plain GLPK) on random tables with random suppression patterns, and
 *    CERTIFY (which settles most cells by joint LPs over runs of primary
 *    cells) gives the same verdict as EXACT on every one of them;
 *  - sdca_certify_set gives sdca_certify's verdicts, and a cell outside
 *    the support it reports can be published without breaking them. */
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
#include "privacy/audit.h"
#include "privacy/suppress.h"
#include "tests/unit/lp_attacker.h"
#include "tests/unit/rand_tables.h"

/* total = a + b + c: 32 = 2 + 10 + 20 */
static void build_abc(sdct_table *t, unsigned b_flags, diag *d)
{
	sdct_init(t);
	uint32_t tot, a, b, c;
	assert_int_equal(sdct_add_cell(t, 32, 32, 0, "total", &tot, d), 0);
	assert_int_equal(sdct_add_cell(t, 2, 2, 0, "AAA/girls/MAR", &a, d), 0);
	assert_int_equal(sdct_add_cell(t, 10, 10, b_flags, "b", &b, d), 0);
	assert_int_equal(sdct_add_cell(t, 20, 20, 0, "c", &c, d), 0);
	uint32_t parts[3] = {a, b, c};
	assert_int_equal(sdct_add_constraint(t, tot, parts, 3, d), 0);
	assert_int_equal(sdct_finalize(t, d), 0);
	assert_int_equal(supp_primary(t, NULL, NULL, d), 0);
	assert_int_equal(t->cells[a].status, SDCT_PRIMARY);
}

static void test_primary_only_refused(void **state)
{
	(void)state;
	for (int mode = SDCA_EXACT; mode <= SDCA_CERTIFY; mode++) {
		sdct_table t;
		diag d = DIAG_INIT;
		build_abc(&t, 0, &d);
		sdca_opts o = {0};
		o.mode = mode;
		sdca_report r;
		assert_int_equal(sdca_run(&t, &o, &r, &d), -1);
		assert_int_equal(d.code, EX_NOPERM);
		assert_non_null(strstr(d.msg, "AAA/girls/MAR"));
		assert_int_equal(r.n_exposed, 1);
		assert_int_equal(r.first_exposed, 1);
		assert_int_equal(r.n_iv, 1);
		/* the attacker pins it: [2, 2] */
		assert_int_equal(r.iv[0].lo, 2);
		assert_int_equal(r.iv[0].hi, 2);
		assert_false(r.iv[0].ok);
		assert_true(d.n_errors >= 1);
		sdca_report_free(&r);
		/* the independent attacker agrees */
		double lo, hi;
		assert_int_equal(lpa_range(&t, 1, 0, &lo, &hi), 0);
		assert_true(lo == 2.0 && hi == 2.0);

		/* with b hidden as well: a in [0, 12], accepted */
		t.cells[2].status = SDCT_SECONDARY;
		diag_reset(&d);
		assert_int_equal(sdca_run(&t, &o, &r, &d), 0);
		assert_int_equal(r.n_exposed, 0);
		assert_int_equal(r.n_primary, 1);
		if (mode == SDCA_EXACT) {
			assert_int_equal(r.iv[0].lo, 0);
			assert_int_equal(r.iv[0].hi, 12);
			assert_int_equal(r.iv[1].lo, 0);
			assert_int_equal(r.iv[1].hi, 12);
			assert_true(r.iv[0].exact && r.iv[0].int_exact);
		}
		sdca_report_free(&r);
		sdct_free(&t);
		diag_free(&d);
	}
}

/* b was published by the country itself as [8, 12] (a censored range):
 * hiding b here hides nothing the attacker does not know, so a stays in
 * 32 - 20 - [8, 12] = [0, 4], 4 wide < 5: refused.  Without the flag the
 * same pattern passes. */
static void test_public_bounds_used(void **state)
{
	(void)state;
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
	/* b's public interval; the reference point must still lie inside */
	t.cells[b].lo = 8;
	t.cells[b].hi = 12;
	t.cells[b].flags = SDCT_F_PUBLIC_BOUNDS;
	assert_int_equal(supp_primary(&t, NULL, NULL, &d), 0);
	t.cells[b].status = SDCT_SECONDARY;
	sdca_report r;
	assert_int_equal(sdca_run(&t, NULL, &r, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_int_equal(r.iv[0].lo, 0);
	assert_int_equal(r.iv[0].hi, 4);
	sdca_report_free(&r);
	double lo, hi;
	assert_int_equal(lpa_range(&t, a, 0, &lo, &hi), 0);
	assert_true(lo == 0.0 && hi == 4.0);

	t.cells[b].flags = 0;
	diag_reset(&d);
	assert_int_equal(sdca_run(&t, NULL, &r, &d), 0);
	sdca_report_free(&r);

	/* and the suppression routine, given the flag, finds more */
	t.cells[b].flags = SDCT_F_PUBLIC_BOUNDS;
	supp_opts o;
	supp_opts_default(&o);
	o.method = SUPP_GLPK;
	assert_int_equal(supp_secondary(&t, &o, NULL, &d), 0);
	size_t first;
	assert_int_equal(lpa_check_all(&t, 5, 0, &first), 0);
	assert_int_equal(sdca_run(&t, NULL, &r, &d), 0);
	sdca_report_free(&r);
	sdct_free(&t);
	diag_free(&d);
}

/* Random suppression patterns (not produced by supp_): the audit's
 * intervals against the independent attacker's, cell by cell. */
static void test_random_against_attacker(void **state)
{
	(void)state;
	rt_rng rng = {0x853c49e6748fea9bull};
	size_t n_refused = 0, n_passed = 0, n_cells_compared = 0;
	for (size_t k = 0; k < 150; k++) {
		sdct_table t;
		diag d = DIAG_INIT;
		size_t nd = 1 + rt_below(&rng, 3);
		assert_int_equal(rt_build(&t, &rng, nd, 20, 10, 5, &d), 0);
		assert_int_equal(supp_primary(&t, NULL, NULL, &d), 0);
		unsigned p_hide = 5 + rt_below(&rng, 50);
		for (size_t c = 0; c < t.n_cells; c++)
			if (t.cells[c].status == SDCT_PUBLISHED && rt_below(&rng, 100) < p_hide)
				t.cells[c].status = SDCT_SECONDARY;
		sdca_opts oe = {0}, oc = {0};
		oe.mode = SDCA_EXACT;
		oc.mode = SDCA_CERTIFY;
		sdca_report re, rc;
		diag d2 = DIAG_INIT;
		int e = sdca_run(&t, &oe, &re, &d);
		int c2 = sdca_run(&t, &oc, &rc, &d2);
		assert_true(e == 0 || d.code == EX_NOPERM);
		assert_int_equal(e, c2);
		assert_int_equal(re.n_exposed, rc.n_exposed);
		assert_int_equal(re.first_exposed, rc.first_exposed);
		if (e)
			n_refused++;
		else
			n_passed++;
		glp_prob *P = lpa_build(&t, 0);
		for (size_t q = 0; q < re.n_iv; q++) {
			const sdca_interval *iv = &re.iv[q];
			double lo, hi;
			assert_int_equal(lpa_opt(P, iv->cell, -1, 0, &lo), 0);
			assert_int_equal(lpa_opt(P, iv->cell, +1, 0, &hi), 0);
			assert_true(fabs(lo - iv->lp_min) < 1e-6);
			if (hi == HUGE_VAL)
				assert_true(iv->lp_max == HUGE_VAL);
			else
				assert_true(fabs(hi - iv->lp_max) < 1e-6);
			/* CERTIFY shows an inner interval of the exact one */
			const sdca_interval *ic = &rc.iv[q];
			assert_int_equal(ic->cell, iv->cell);
			assert_true(ic->lp_min >= lo - 1e-6);
			assert_true(hi == HUGE_VAL || ic->lp_max <= hi + 1e-6);
			assert_int_equal(ic->ok, iv->ok);
			n_cells_compared++;
		}
		glp_delete_prob(P);
		sdca_report_free(&re);
		sdca_report_free(&rc);
		sdct_free(&t);
		diag_free(&d);
		diag_free(&d2);
	}
	/* the generator produces both outcomes */
	assert_true(n_refused > 10);
	assert_true(n_passed > 10);
	assert_true(n_cells_compared > 1000);
}

/* sdca_certify_set (joint LPs over a set of primary cells) against
 * sdca_certify one cell at a time, on random tables and suppression
 * patterns (fixed seed): the same verdict for every primary cell.  And
 * the support it reports is honest: when every cell of the set is
 * protected, publishing again any hidden cell outside that support leaves
 * every one of them protected (checked by the one-by-one path on a fresh
 * attacker). */
static void test_certify_set_same_verdicts(void **state)
{
	(void)state;
	rt_rng rng = {0x2545f4914f6cdd1dull};
	size_t n_ok = 0, n_not = 0, n_republished = 0;
	for (size_t k = 0; k < 120; k++) {
		sdct_table t;
		diag d = DIAG_INIT;
		size_t nd = 1 + rt_below(&rng, 3);
		assert_int_equal(rt_build(&t, &rng, nd, 20, 10, 5, &d), 0);
		assert_int_equal(supp_primary(&t, NULL, NULL, &d), 0);
		unsigned p_hide = 10 + rt_below(&rng, 60);
		for (size_t c = 0; c < t.n_cells; c++)
			if (t.cells[c].status == SDCT_PUBLISHED && rt_below(&rng, 100) < p_hide)
				t.cells[c].status = SDCT_SECONDARY;
		uint32_t *prim = malloc((t.n_cells + 1) * sizeof *prim);
		uint8_t *ok = malloc(t.n_cells + 1);
		double *lo = malloc((t.n_cells + 1) * sizeof *lo);
		double *hi = malloc((t.n_cells + 1) * sizeof *hi);
		assert_non_null(prim);
		assert_non_null(ok);
		assert_non_null(lo);
		assert_non_null(hi);
		size_t np = 0;
		for (size_t c = 0; c < t.n_cells; c++)
			if (t.cells[c].status == SDCT_PRIMARY)
				prim[np++] = (uint32_t)c;
		sdca_attacker *a1, *a2;
		assert_int_equal(sdca_attacker_new(&t, NULL, 0, &a1, &d), 0);
		assert_int_equal(sdca_attacker_new(&t, NULL, 0, &a2, &d), 0);
		sdca_attacker_shortcuts(a1, 0);
		assert_int_equal(sdca_certify_set(a1, prim, np, 0, ok, lo, hi, &d), 0);
		int all = 1;
		for (size_t q = 0; q < np; q++) {
			int o1;
			assert_int_equal(sdca_certify(a2, prim[q], &o1, NULL, NULL, NULL, &d), 0);
			assert_int_equal(ok[q], o1);
			if (o1) {
				/* the interval shown meets the requirement */
				int64_t il = (int64_t)ceil(lo[q] - 1e-6), ih = (int64_t)floor(hi[q] + 1e-6);
				assert_true(sdca_meets(&t.cells[prim[q]], il, ih));
				n_ok++;
			} else {
				n_not++;
			}
			all &= o1;
		}
		if (all && np) {
			const uint32_t *sc;
			size_t ns;
			sdca_last_support(a1, &sc, &ns);
			uint8_t *in = calloc(t.n_cells + 1, 1);
			assert_non_null(in);
			for (size_t q = 0; q < ns; q++)
				in[sc[q]] = 1;
			for (size_t c = 0; c < t.n_cells; c++)
				if (t.cells[c].status == SDCT_SECONDARY && !in[c]) {
					t.cells[c].status = SDCT_PUBLISHED;
					n_republished++;
				}
			free(in);
			sdca_attacker *a3;
			assert_int_equal(sdca_attacker_new(&t, NULL, 0, &a3, &d), 0);
			for (size_t q = 0; q < np; q++) {
				int o3;
				assert_int_equal(sdca_certify(a3, prim[q], &o3, NULL, NULL, NULL, &d), 0);
				assert_true(o3);
			}
			sdca_attacker_free(a3);
		}
		sdca_attacker_free(a1);
		sdca_attacker_free(a2);
		free(prim);
		free(ok);
		free(lo);
		free(hi);
		sdct_free(&t);
		diag_free(&d);
	}
	/* both verdicts occur, and the support test publishes cells */
	assert_true(n_ok > 100);
	assert_true(n_not > 10);
	assert_true(n_republished > 20);
}

static void test_meets(void **state)
{
	(void)state;
	sdct_cell c;
	memset(&c, 0, sizeof c);
	c.req_lo = 2;
	c.req_hi = 2;
	c.req_width = 5;
	assert_true(sdca_meets(&c, 0, 5));
	assert_true(sdca_meets(&c, 2, 7));
	assert_false(sdca_meets(&c, 0, 4));
	assert_false(sdca_meets(&c, 3, 9));
	assert_true(sdca_meets(&c, 0, SDCT_INF));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_primary_only_refused),
		cmocka_unit_test(test_public_bounds_used),
		cmocka_unit_test(test_random_against_attacker),
		cmocka_unit_test(test_certify_set_same_verdicts),
		cmocka_unit_test(test_meets),
	};
	return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
