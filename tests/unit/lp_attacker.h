/* lp_attacker: the independent attacker of the suppression tests.
 *
 * Deliberately written from scratch with GLPK, sharing no code with
 * privacy/audit.c: one plain LP (or MIP) over every cell of the table,
 * built afresh for each question.  What the attacker knows is stated here
 * once, from the published table only:
 *   - a published exact cell is fixed at its value;
 *   - a published interval [lo, hi] bounds its cell;
 *   - a suppressed cell whose interval the country published itself
 *     (SDCT_F_PUBLIC_BOUNDS) is bounded by it;
 *   - any other suppressed cell is a non-negative count, nothing more;
 *   - every additivity constraint total = sum(parts) holds.
 * lpa_range() returns min and max of one cell over that polytope, over
 * the reals (integer = 0) or over the integers (integer = 1, a MIP).
 *
 * Header only (static functions) because it is included by several test
 * programs; it is not a module of the library.
 */
#ifndef TIPSTAT_TEST_LP_ATTACKER_H
#define TIPSTAT_TEST_LP_ATTACKER_H

#include <glpk.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include "privacy/sdc_table.h"

#define LPA_INF HUGE_VAL

/* The attacker's bounds for cell c. */
static void lpa_bounds(const sdct_table *t, size_t c, double *lo, double *hi)
{
	const sdct_cell *cl = &t->cells[c];
	if (cl->status == SDCT_PUBLISHED || (cl->flags & SDCT_F_PUBLIC_BOUNDS)) {
		*lo = (double)cl->lo;
		/* "lo or more" is no upper bound (a 2^40 bound breaks the LP) */
		*hi = cl->hi >= SDCT_HUGE ? LPA_INF : (double)cl->hi;
	} else {
		*lo = 0;
		*hi = LPA_INF;
	}
}

static glp_prob *lpa_build(const sdct_table *t, int integer)
{
	glp_prob *P = glp_create_prob();
	if (t->n_cells)
		glp_add_cols(P, (int)t->n_cells);
	for (size_t c = 0; c < t->n_cells; c++) {
		double lo, hi;
		lpa_bounds(t, c, &lo, &hi);
		int col = (int)c + 1;
		if (hi == LPA_INF)
			glp_set_col_bnds(P, col, GLP_LO, lo, 0);
		else if (lo == hi)
			glp_set_col_bnds(P, col, GLP_FX, lo, hi);
		else
			glp_set_col_bnds(P, col, GLP_DB, lo, hi);
		if (integer)
			glp_set_col_kind(P, col, GLP_IV);
	}
	int *ind = malloc((t->n_cells + 2) * sizeof *ind);
	double *val = malloc((t->n_cells + 2) * sizeof *val);
	for (size_t r = 0; r < t->n_cons; r++) {
		int len = 0;
		ind[++len] = (int)t->con_total[r] + 1;
		val[len] = 1.0;
		for (uint32_t k = t->con_start[r]; k < t->con_start[r + 1]; k++) {
			ind[++len] = (int)t->con_parts[k] + 1;
			val[len] = -1.0;
		}
		int row = glp_add_rows(P, 1);
		glp_set_mat_row(P, row, len, ind, val);
		glp_set_row_bnds(P, row, GLP_FX, 0, 0);
	}
	free(ind);
	free(val);
	return P;
}

/* Optimise x_cell in direction dir over an already built problem.
 * Returns 0 and *v (HUGE_VAL / -HUGE_VAL when unbounded), -1 on a solver
 * failure or an infeasible system. */
static int lpa_opt(glp_prob *P, size_t cell, int dir, int integer, double *v)
{
	int col = (int)cell + 1;
	int n = glp_get_num_cols(P);
	for (int j = 1; j <= n; j++)
		glp_set_obj_coef(P, j, 0);
	glp_set_obj_coef(P, col, 1.0);
	glp_set_obj_dir(P, dir > 0 ? GLP_MAX : GLP_MIN);
	glp_smcp sp;
	glp_init_smcp(&sp);
	sp.msg_lev = GLP_MSG_OFF;
	sp.presolve = GLP_OFF;
	if (glp_simplex(P, &sp) != 0) {
		glp_std_basis(P);
		if (glp_simplex(P, &sp) != 0)
			return -1;
	}
	int st = glp_get_status(P);
	if (st == GLP_UNBND) {
		*v = dir > 0 ? HUGE_VAL : -HUGE_VAL;
		return 0;
	}
	if (st != GLP_OPT)
		return -1;
	if (!integer) {
		*v = glp_get_obj_val(P);
		return 0;
	}
	glp_iocp ip;
	glp_init_iocp(&ip);
	ip.msg_lev = GLP_MSG_OFF;
	if (glp_intopt(P, &ip) != 0)
		return -1;
	st = glp_mip_status(P);
	if (st != GLP_OPT)
		return -1;
	*v = glp_mip_obj_val(P);
	return 0;
}

/* [*lo, *hi] = what the attacker can conclude about one cell. */
static int lpa_range(const sdct_table *t, size_t cell, int integer, double *lo, double *hi)
{
	glp_prob *P = lpa_build(t, integer);
	int rc = lpa_opt(P, cell, -1, integer, lo);
	if (!rc)
		rc = lpa_opt(P, cell, +1, integer, hi);
	glp_delete_prob(P);
	return rc;
}

/* The attacker's a priori range of a cell: every cell hidden, so only the
 * public bounds (SDCT_F_PUBLIC_BOUNDS) and the constraints are known. */
static glp_prob *lpa_build_apriori(const sdct_table *t)
{
	sdct_table tmp = *t; /* shallow: only the statuses differ */
	sdct_cell *cells = malloc((t->n_cells + 1) * sizeof *cells);
	for (size_t c = 0; c < t->n_cells; c++) {
		cells[c] = t->cells[c];
		cells[c].status = SDCT_SECONDARY;
	}
	tmp.cells = cells;
	glp_prob *P = lpa_build(&tmp, 0);
	free(cells);
	return P;
}

/* Does the attacker's interval for every primary cell reach the cell's own
 * interval and span at least `width` (typically the threshold, given by
 * the test, not read from the table's requirements)?  A cell known only
 * as "lo or more" must keep lo .. lo + width.  Both are limited to
 * what the public bounds alone reveal: the a priori range [A, B] (every
 * cell hidden), computed here too.  Returns the number of primary cells
 * that fail; *first the first one. */
static size_t lpa_check_all(const sdct_table *t, int64_t width, int integer, size_t *first)
{
	size_t bad = 0;
	*first = SIZE_MAX;
	glp_prob *P = lpa_build(t, integer);
	glp_prob *Q = lpa_build_apriori(t);
	for (size_t c = 0; c < t->n_cells; c++) {
		const sdct_cell *cl = &t->cells[c];
		if (cl->status != SDCT_PRIMARY)
			continue;
		double lo, hi, A, B;
		if (lpa_opt(P, c, -1, integer, &lo) || lpa_opt(P, c, +1, integer, &hi) ||
		    lpa_opt(Q, c, -1, 0, &A) || lpa_opt(Q, c, +1, 0, &B)) {
			bad++;
			if (*first == SIZE_MAX)
				*first = c;
			continue;
		}
		/* inward rounding: the attacker knows counts are integers */
		A = ceil(A - 1e-6);
		B = B == HUGE_VAL ? HUGE_VAL : floor(B + 1e-6);
		double need = (double)width;
		if (B != HUGE_VAL && B - A < need)
			need = B - A;
		/* a cell known only as "lo or more" (hi at SDCT_HUGE) must keep
		 * lo .. lo + width: no published table can leave it unbounded */
		double chi = cl->hi >= SDCT_HUGE ? (double)(cl->lo + width) : (double)cl->hi;
		double want_lo = fmax((double)cl->lo, A), want_hi = fmin(chi, B);
		double ilo = ceil(lo - 1e-6), ihi = hi == HUGE_VAL ? HUGE_VAL : floor(hi + 1e-6);
		int ok = ilo <= want_lo && ihi >= want_hi && ihi - ilo >= need;
		if (!ok) {
			bad++;
			if (*first == SIZE_MAX)
				*first = c;
		}
	}
	glp_delete_prob(P);
	glp_delete_prob(Q);
	return bad;
}

#endif
