/* audit: see audit.h.  The column-generation attacker is the heart; the
 * audit proper (sdca_run) is a loop over suppressed cells around it.
 *
 * Invariants of an attacker:
 *  - every cell in the region ("in_reg") that has a column has all of its
 *    constraints as rows of the LP (so a row added later never contains a
 *    region column it does not list);
 *  - rows are `sum_j a_rj (y+_j - y-_j) = 0` with a = +1 for the total and
 *    -1 for a part; cells outside the region sit at y = 0, i.e. at x*;
 *  - the basis is always primal feasible or repairable by phase 1: new
 *    rows are basic at 0, new columns non-basic at their lower bound 0;
 *  - witness ranges (wmin/wmax) are valid for the current statuses only
 *    when their epoch equals the attacker's: publishing a cell bumps it.
 */
#include "privacy/audit.h"
#include "privacy/lpguard.h"

#include <glpk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#define PV_MAX 24       /* candidate 1-D vectors per dimension */
#define PV_LEN 24       /* entries of one 1-D vector */
#define PV_SUP 4096     /* cells of one pattern */
#define PV_PATTERNS 32  /* patterns per witness */

struct pvec {
	uint32_t code[PV_LEN];
	int8_t sign[PV_LEN];
	uint32_t len;
	int64_t gain;
};

#define PRICE_TOL 1e-7
#define GOAL_TOL 1e-7
#define INT_TOL 1e-6
#define SDCA_JOINT 64   /* primary cells per joint LP of the audit */

static int64_t iceil(double v);
static int64_t ifloor(double v);

struct sdca_attacker {
	const sdct_table *t;
	int64_t *x;
	glp_prob *P;            /* NULL once GLPK failed (lpguard.h) */
	char lp_error[240];      /* why, for the calls after that */
	glp_smcp parm;
	size_t cap;
	int shortcuts;

	uint8_t *in_reg;
	int *colp, *colm;          /* GLPK column of y+ / y- (0 = none) */
	int *row_of;               /* GLPK row of a constraint (0 = none) */
	uint32_t *reg;             /* region cells */
	size_t n_reg, cap_reg;
	uint32_t *col_cell;        /* GLPK column -> cell */
	size_t cap_col;
	uint32_t *row_con;         /* GLPK row -> constraint */
	size_t cap_row;

	double *wmin, *wmax;       /* witness ranges, valid when wep == epoch */
	uint32_t *wep;
	uint32_t epoch;

	int *ind;                  /* scratch for glp_set_mat_col, 1-based */
	double *val;
	size_t cap_iv;
	uint32_t *cand;
	double *cscore;
	size_t cap_cand, max_enter;
	uint8_t *mark;
	uint64_t *cgroup;          /* per constraint: joint groups using it (lazy) */

	uint32_t *sup[2];          /* support of the last solution per direction */
	size_t n_sup[2], cap_sup[2];
	uint32_t *csup;            /* merged support for sdca_last_support */
	size_t n_csup, cap_csup;

	size_t n_lp, max_cols;
	size_t opt_cap;            /* columns one optimisation may grow to; 0 = none */
	int capped;                /* the last optimisation stopped at opt_cap */

	/* integer witness certificates for cross tables (pattern search) */
	int patterns;
	int last_witness;          /* the last certify was settled by witnesses */
	int64_t *pdevp, *pdevm;    /* deviations of the raising / lowering table */
	uint32_t *ptouch;
	size_t n_ptouch;
	uint8_t *ptmark;
	uint32_t *rowmark;         /* constraints checked (stamp) */
	uint32_t rowstamp;
	struct pvec *pv;           /* candidate vectors, PV_MAX per dimension */
	size_t pnv[16], pord[16], pchoice[16], pbest[16];
	uint32_t pco[16];
	uint32_t *pscell;          /* pattern under construction */
	int8_t *pssign;
	size_t plvl_end[17];
	int64_t plvl_up[17], plvl_dn[17];
	int64_t pU, pD, pW, pcu, pcd, pdef0, pbest_def, pbest_up, pbest_dn;
	size_t pbudget;
	int pfound;
	uint32_t pi;
	size_t n_witness;          /* cells settled by witness certificates */
};

static int grow(void **p, size_t *cap, size_t need, size_t sz)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 64;
	while (nc < need)
		nc *= 2;
	void *q = realloc(*p, nc * sz);
	if (!q)
		return -1;
	*p = q;
	*cap = nc;
	return 0;
}

/* Attacker's bounds for cell j under its current status. */
static void bounds(const sdca_attacker *a, uint32_t j, int64_t *lo, int64_t *hi)
{
	const sdct_cell *c = &a->t->cells[j];
	if (c->status == SDCT_PUBLISHED) {
		*lo = c->lo;
		*hi = c->hi;
	} else {
		*lo = sdct_attacker_lo(c);
		*hi = sdct_attacker_hi(c);
	}
}

/* Room above and below x*: +inf is HUGE_VAL. */
static double room_up(const sdca_attacker *a, uint32_t j)
{
	int64_t lo, hi;
	bounds(a, j, &lo, &hi);
	(void)lo;
	return hi >= SDCT_HUGE ? HUGE_VAL : (double)(hi - a->x[j]);
}

static double room_dn(const sdca_attacker *a, uint32_t j)
{
	int64_t lo, hi;
	bounds(a, j, &lo, &hi);
	(void)hi;
	return (double)(a->x[j] - lo);
}

static double coef(const sdct_table *t, uint32_t r, uint32_t j)
{
	return t->con_total[r] == j ? 1.0 : -1.0;
}

static void witness_get(const sdca_attacker *a, uint32_t j, double *lo, double *hi)
{
	if (a->wep[j] == a->epoch) {
		*lo = a->wmin[j];
		*hi = a->wmax[j];
	} else {
		*lo = *hi = (double)a->x[j];
	}
}

static void witness_put(sdca_attacker *a, uint32_t j, double v)
{
	if (a->wep[j] != a->epoch) {
		a->wep[j] = a->epoch;
		a->wmin[j] = a->wmax[j] = (double)a->x[j];
	}
	if (v < a->wmin[j])
		a->wmin[j] = v;
	if (v > a->wmax[j])
		a->wmax[j] = v;
}

static void region_reset(sdca_attacker *a)
{
	for (size_t k = 0; k < a->n_reg; k++) {
		uint32_t j = a->reg[k];
		a->in_reg[j] = 0;
		a->colp[j] = a->colm[j] = 0;
	}
	a->n_reg = 0;
	int m = glp_get_num_rows(a->P);
	for (int r = 1; r <= m; r++)
		a->row_of[a->row_con[r]] = 0;
	glp_erase_prob(a->P);
}

static int ensure_rows(sdca_attacker *a, uint32_t j, diag *d)
{
	const sdct_table *t = a->t;
	for (uint32_t k = t->cell_start[j]; k < t->cell_start[j + 1]; k++) {
		uint32_t r = t->cell_cons[k];
		if (a->row_of[r])
			continue;
		int row = glp_add_rows(a->P, 1);
		if (grow((void **)&a->row_con, &a->cap_row, (size_t)row + 1, sizeof *a->row_con))
			return diag_fail(d, EX_OSERR, "audit: out of memory");
		a->row_con[row] = r;
		a->row_of[r] = row;
		glp_set_row_bnds(a->P, row, GLP_FX, 0.0, 0.0);
	}
	return 0;
}

static void set_col_bounds(glp_prob *P, int col, double room)
{
	if (room <= 0)
		glp_set_col_bnds(P, col, GLP_FX, 0.0, 0.0);
	else if (room == HUGE_VAL)
		glp_set_col_bnds(P, col, GLP_LO, 0.0, 0.0);
	else
		glp_set_col_bnds(P, col, GLP_DB, 0.0, room);
}

static int add_col(sdca_attacker *a, uint32_t j, double sign, double room, diag *d)
{
	const sdct_table *t = a->t;
	int col = glp_add_cols(a->P, 1);
	size_t deg = t->cell_start[j + 1] - t->cell_start[j];
	if (grow((void **)&a->col_cell, &a->cap_col, (size_t)col + 1, sizeof *a->col_cell))
		return diag_fail(d, EX_OSERR, "audit: out of memory");
	if (deg + 1 > a->cap_iv) {
		size_t nc = 2 * (deg + 1);
		int *ni = realloc(a->ind, nc * sizeof *ni);
		if (ni)
			a->ind = ni;
		double *nv = realloc(a->val, nc * sizeof *nv);
		if (nv)
			a->val = nv;
		if (!ni || !nv)
			return diag_fail(d, EX_OSERR, "audit: out of memory");
		a->cap_iv = nc;
	}
	a->col_cell[col] = j;
	int len = 0;
	for (uint32_t k = t->cell_start[j]; k < t->cell_start[j + 1]; k++) {
		uint32_t r = t->cell_cons[k];
		a->ind[++len] = a->row_of[r];
		a->val[len] = sign * coef(t, r, j);
	}
	glp_set_mat_col(a->P, col, len, a->ind, a->val);
	set_col_bounds(a->P, col, room);
	glp_set_col_stat(a->P, col, room > 0 ? GLP_NL : GLP_NS);
	if (sign > 0)
		a->colp[j] = col;
	else
		a->colm[j] = col;
	if ((size_t)col > a->max_cols)
		a->max_cols = (size_t)col;
	return 0;
}

/* Give cell j the columns its current bounds call for. */
static int region_cols(sdca_attacker *a, uint32_t j, diag *d)
{
	double rp = room_up(a, j), rm = room_dn(a, j);
	if ((rp > 0 && !a->colp[j]) || (rm > 0 && !a->colm[j]))
		if (ensure_rows(a, j, d))
			return -1;
	if (a->colp[j])
		set_col_bounds(a->P, a->colp[j], rp);
	else if (rp > 0 && add_col(a, j, 1.0, rp, d))
		return -1;
	if (a->colm[j])
		set_col_bounds(a->P, a->colm[j], rm);
	else if (rm > 0 && add_col(a, j, -1.0, rm, d))
		return -1;
	return 0;
}

static int region_add(sdca_attacker *a, uint32_t j, diag *d)
{
	if (a->in_reg[j])
		return 0;
	if (grow((void **)&a->reg, &a->cap_reg, a->n_reg + 1, sizeof *a->reg))
		return diag_fail(d, EX_OSERR, "audit: out of memory");
	a->in_reg[j] = 1;
	a->reg[a->n_reg++] = j;
	return region_cols(a, j, d);
}

int sdca_attacker_new(const sdct_table *t, const int64_t *xref, size_t region_cap,
                      sdca_attacker **out, diag *d)
{
	*out = NULL;
	if (!t->finalized)
		return diag_fail(d, EX_SOFTWARE, "audit: table not finalized");
	sdca_attacker *a = calloc(1, sizeof *a);
	if (!a)
		return diag_fail(d, EX_OSERR, "audit: out of memory");
	size_t n = t->n_cells ? t->n_cells : 1;
	a->t = t;
	a->cap = region_cap ? region_cap : 3000;
	a->shortcuts = 1;
	a->max_enter = 16; /* columns entering per pricing round */
	a->x = malloc(n * sizeof *a->x);
	a->in_reg = calloc(n, 1);
	a->mark = calloc(n, 1);
	a->colp = calloc(n, sizeof *a->colp);
	a->colm = calloc(n, sizeof *a->colm);
	a->row_of = calloc(t->n_cons + 1, sizeof *a->row_of);
	a->wmin = malloc(n * sizeof *a->wmin);
	a->wmax = malloc(n * sizeof *a->wmax);
	a->wep = calloc(n, sizeof *a->wep);
	a->epoch = 1;
	if (!a->x || !a->in_reg || !a->mark || !a->colp || !a->colm || !a->row_of || !a->wmin ||
	    !a->wmax || !a->wep) {
		sdca_attacker_free(a);
		return diag_fail(d, EX_OSERR, "audit: out of memory");
	}
	if (xref) {
		memcpy(a->x, xref, t->n_cells * sizeof *a->x);
	} else if (sdct_reference_point(t, a->x, d)) {
		sdca_attacker_free(a);
		return -1;
	}
	/* The reference must be a table the releaser could have: check it, do
	 * not trust it (every witness is built on it). */
	char lab[256];
	for (size_t c = 0; c < t->n_cells; c++)
		if (a->x[c] < t->cells[c].lo || a->x[c] > t->cells[c].hi) {
			sdca_attacker_free(a);
			return diag_fail(d, EX_SOFTWARE, "audit: reference value of '%s' outside its interval",
			                 sdct_label(t, (uint32_t)c, lab, sizeof lab));
		}
	for (size_t r = 0; r < t->n_cons; r++) {
		int64_t s = 0;
		for (uint32_t k = t->con_start[r]; k < t->con_start[r + 1]; k++)
			s += a->x[t->con_parts[k]];
		if (s != a->x[t->con_total[r]]) {
			sdca_attacker_free(a);
			return diag_fail(d, EX_SOFTWARE, "audit: reference table breaks the constraint on '%s'",
			                 sdct_label(t, t->con_total[r], lab, sizeof lab));
		}
	}
	a->patterns = t->n_dims > 0;
	if (a->patterns) {
		a->pdevp = calloc(n, sizeof *a->pdevp);
		a->pdevm = calloc(n, sizeof *a->pdevm);
		a->ptouch = malloc(n * sizeof *a->ptouch);
		a->ptmark = calloc(n, 1);
		a->rowmark = calloc(t->n_cons + 1, sizeof *a->rowmark);
		a->pv = malloc(t->n_dims * PV_MAX * sizeof *a->pv);
		a->pscell = malloc(PV_SUP * sizeof *a->pscell);
		a->pssign = malloc(PV_SUP * sizeof *a->pssign);
		if (!a->pdevp || !a->pdevm || !a->ptouch || !a->ptmark || !a->rowmark || !a->pv ||
		    !a->pscell || !a->pssign) {
			sdca_attacker_free(a);
			return diag_fail(d, EX_OSERR, "audit: out of memory");
		}
	}
	lpguard g;
	lpg_arm(&g);
	if (setjmp(g.jb)) {
		a->P = NULL;
		sdca_attacker_free(a);
		return lpg_fail(&g, "audit", d);
	}
	a->P = glp_create_prob();
	lpg_disarm();
	glp_init_smcp(&a->parm);
	a->parm.msg_lev = GLP_MSG_OFF; /* per call; glp_term_out would be global */
	a->parm.meth = GLP_PRIMAL;
	a->parm.presolve = GLP_OFF;    /* keep the warm basis */
	*out = a;
	return 0;
}

void sdca_attacker_free(sdca_attacker *a)
{
	if (!a)
		return;
	if (a->P)
		glp_delete_prob(a->P);
	free(a->x);
	free(a->in_reg);
	free(a->mark);
	free(a->colp);
	free(a->colm);
	free(a->row_of);
	free(a->reg);
	free(a->col_cell);
	free(a->row_con);
	free(a->wmin);
	free(a->wmax);
	free(a->wep);
	free(a->ind);
	free(a->val);
	free(a->cand);
	free(a->cscore);
	free(a->sup[0]);
	free(a->sup[1]);
	free(a->csup);
	free(a->pdevp);
	free(a->pdevm);
	free(a->ptouch);
	free(a->ptmark);
	free(a->rowmark);
	free(a->pv);
	free(a->pscell);
	free(a->pssign);
	free(a->cgroup);
	free(a);
}

void sdca_attacker_lp_lost(sdca_attacker *a, const char *why)
{
	if (!a || !a->P)
		return;
	a->P = NULL; /* freed with GLPK's environment; never delete it */
	const char *w = why && *why ? why : "the LP solver failed";
	size_t n = strlen(w);
	if (n >= sizeof a->lp_error)
		n = sizeof a->lp_error - 1;
	memcpy(a->lp_error, w, n);
	a->lp_error[n] = '\0';
}

void sdca_attacker_refresh(sdca_attacker *a, uint32_t cell)
{
	if (cell >= a->t->n_cells)
		return;
	if (a->t->cells[cell].status == SDCT_PUBLISHED)
		a->epoch++; /* bounds tightened: old witnesses may be infeasible */
	if (a->in_reg[cell] && a->P) {
		diag d = DIAG_INIT;
		lpguard g;
		lpg_arm(&g);
		if (setjmp(g.jb)) {
			/* GLPK failed: the next sdca_optimize reports it */
			lpg_fail(&g, "audit", &d);
			sdca_attacker_lp_lost(a, d.msg);
			diag_free(&d);
			return;
		}
		if (region_cols(a, cell, &d)) {
			/* out of memory: fall back to a clean region */
			region_reset(a);
		}
		lpg_disarm();
		diag_free(&d);
	}
}

const int64_t *sdca_reference(const sdca_attacker *a)
{
	return a->x;
}

size_t sdca_lp_count(const sdca_attacker *a)
{
	return a->n_lp;
}

void sdca_witnessed(const sdca_attacker *a, uint32_t cell, double *lo, double *hi)
{
	witness_get(a, cell, lo, hi);
}

static int simplex(sdca_attacker *a, diag *d)
{
	int ret = glp_simplex(a->P, &a->parm);
	a->n_lp++;
	if (ret == GLP_EBADB || ret == GLP_ESING || ret == GLP_ECOND) {
		glp_std_basis(a->P); /* y = 0: always primal feasible */
		ret = glp_simplex(a->P, &a->parm);
		a->n_lp++;
	}
	if (!ret && glp_get_status(a->P) == GLP_NOFEAS) {
		/* y = 0 is feasible by construction, so "no feasible solution"
		 * is round-off on a long warm-started run (bounds up to 2^40
		 * beside unit steps): restart from the basis of y = 0. */
		glp_std_basis(a->P);
		ret = glp_simplex(a->P, &a->parm);
		a->n_lp++;
	}
	if (ret)
		return diag_fail(d, EX_SOFTWARE, "audit: GLPK simplex failed (code %d)", ret);
	return 0;
}

/* Read the solution: update witnesses, the support for direction slot s,
 * and report whether it is integral. */
static int harvest(sdca_attacker *a, int s, int *integral, diag *d)
{
	*integral = 1;
	a->n_sup[s] = 0;
	for (size_t k = 0; k < a->n_reg; k++) {
		uint32_t j = a->reg[k];
		double y = 0;
		if (a->colp[j])
			y += glp_get_col_prim(a->P, a->colp[j]);
		if (a->colm[j])
			y -= glp_get_col_prim(a->P, a->colm[j]);
		if (fabs(y) <= 1e-9)
			continue;
		if (fabs(y - nearbyint(y)) > INT_TOL)
			*integral = 0;
		witness_put(a, j, (double)a->x[j] + y);
		if (grow((void **)&a->sup[s], &a->cap_sup[s], a->n_sup[s] + 1, sizeof *a->sup[s]))
			return diag_fail(d, EX_OSERR, "audit: out of memory");
		a->sup[s][a->n_sup[s]++] = j;
	}
	return 0;
}

/* Cells adjacent to the LP whose columns have an improving reduced cost. */
static int price(sdca_attacker *a, int dir, size_t *n_cand, diag *d)
{
	const sdct_table *t = a->t;
	*n_cand = 0;
	int m = glp_get_num_rows(a->P);
	for (int ri = 1; ri <= m; ri++) {
		double pi = glp_get_row_dual(a->P, ri);
		if (fabs(pi) <= 1e-12)
			continue;
		uint32_t r = a->row_con[ri];
		uint32_t first = t->con_start[r], last = t->con_start[r + 1];
		for (uint32_t k = first; k <= last; k++) {
			uint32_t j = (k == last) ? t->con_total[r] : t->con_parts[k];
			if (a->in_reg[j] || a->mark[j] || !sdct_is_var(&t->cells[j]))
				continue;
			a->mark[j] = 1;
			if (*n_cand + 1 > a->cap_cand) {
				size_t nc = a->cap_cand ? 2 * a->cap_cand : 256;
				uint32_t *q1 = realloc(a->cand, nc * sizeof *q1);
				if (q1)
					a->cand = q1;
				double *q2 = realloc(a->cscore, nc * sizeof *q2);
				if (q2)
					a->cscore = q2;
				if (!q1 || !q2)
					return diag_fail(d, EX_OSERR, "audit: out of memory");
				a->cap_cand = nc;
			}
			a->cand[(*n_cand)++] = j;
		}
	}
	/* keep only the improving ones */
	size_t keep = 0;
	for (size_t q = 0; q < *n_cand; q++) {
		uint32_t j = a->cand[q];
		a->mark[j] = 0;
		double g = 0;
		for (uint32_t k = t->cell_start[j]; k < t->cell_start[j + 1]; k++) {
			uint32_t r = t->cell_cons[k];
			if (a->row_of[r])
				g += glp_get_row_dual(a->P, a->row_of[r]) * coef(t, r, j);
		}
		/* reduced cost of y+ is -g, of y- is +g; GLPK: d = c - A'pi */
		double gu = dir > 0 ? -g : g; /* improvement rate of y+ */
		double best = 0;
		if (gu > PRICE_TOL && room_up(a, j) > 0)
			best = gu;
		if (-gu > PRICE_TOL && room_dn(a, j) > 0 && -gu > best)
			best = -gu;
		if (best > 0) {
			a->cand[keep] = j;
			a->cscore[keep++] = best;
		}
	}
	/* partial pricing: only the most improving columns enter, so that the
	 * LP grows along the directions that matter */
	if (keep > a->max_enter) {
		for (size_t q = 0; q < a->max_enter; q++) {
			size_t b = q;
			for (size_t e = q + 1; e < keep; e++)
				if (a->cscore[e] > a->cscore[b])
					b = e;
			uint32_t tj = a->cand[q];
			double ts = a->cscore[q];
			a->cand[q] = a->cand[b];
			a->cscore[q] = a->cscore[b];
			a->cand[b] = tj;
			a->cscore[b] = ts;
		}
		keep = a->max_enter;
	}
	*n_cand = keep;
	return 0;
}

static int optimize_lp(sdca_attacker *a, uint32_t i, int dir, double goal, double *value,
                       int *exact, int *integral, diag *d)
{
	const sdct_table *t = a->t;
	int s = dir > 0 ? 0 : 1;
	/* A goal at "no bound" (SDCT_HUGE) asks for the optimum: capping the
	 * column there would put a 2^40 bound into the LP (see sdc_table.h) */
	if (isfinite(goal) && fabs(goal) >= (double)SDCT_HUGE)
		goal = dir * HUGE_VAL;
	a->n_sup[s] = 0;
	a->capped = 0;
	*integral = 1;
	*exact = 1;
	*value = (double)a->x[i];
	if (i >= t->n_cells)
		return diag_fail(d, EX_SOFTWARE, "audit: no cell %u", i);
	if (!sdct_is_var(&t->cells[i]))
		return 0;
	if ((dir > 0 ? room_up(a, i) : room_dn(a, i)) <= 0)
		return 0; /* cannot move that way at all */
	if (a->shortcuts) {
		double wl, wh;
		witness_get(a, i, &wl, &wh);
		double w = dir > 0 ? wh : wl;
		if (dir * w >= dir * goal - GOAL_TOL) {
			*value = w;
			*exact = 0;
			*integral = 0;
			return 0;
		}
	}
	if (a->n_reg && (size_t)glp_get_num_cols(a->P) > a->cap)
		region_reset(a);
	if (region_add(a, i, d))
		return -1;
	if (glp_get_num_rows(a->P) == 0) {
		/* a cell in no constraint: only its bounds hold it */
		double r = dir > 0 ? room_up(a, i) : room_dn(a, i);
		*value = (double)a->x[i] + dir * r;
		return 0;
	}
	/* A finite goal caps the target's own column, so that the LP stays
	 * bounded: an unbounded ray has no finite witness table, and callers
	 * need the witness (its support) to know which cells it moves. */
	int goal_capped = 0;
	if (isfinite(goal)) {
		int col = dir > 0 ? a->colp[i] : a->colm[i];
		double room = dir > 0 ? room_up(a, i) : room_dn(a, i);
		double lim = dir > 0 ? goal - (double)a->x[i] : (double)a->x[i] - goal;
		if (lim < 0)
			lim = 0;
		if (col && lim < room) {
			set_col_bounds(a->P, col, lim);
			goal_capped = 1;
		}
	}
	glp_set_obj_dir(a->P, dir > 0 ? GLP_MAX : GLP_MIN);
	if (a->colp[i])
		glp_set_obj_coef(a->P, a->colp[i], 1.0);
	if (a->colm[i])
		glp_set_obj_coef(a->P, a->colm[i], -1.0);
	int rc = 0;
	for (int round = 0;; round++) {
		if (simplex(a, d)) {
			rc = -1;
			break;
		}
		int st = glp_get_status(a->P);
		if (st == GLP_UNBND) {
			*value = dir * HUGE_VAL;
			*integral = 0;
			a->n_sup[s] = 0;
			break;
		}
		if (st != GLP_OPT) {
			char lab[256];
			rc = diag_fail(d, EX_SOFTWARE, "audit: unexpected LP status %d optimising '%s'",
			               st, sdct_label(t, i, lab, sizeof lab));
			break;
		}
		*value = (double)a->x[i] + glp_get_obj_val(a->P);
		if (harvest(a, s, integral, d)) {
			rc = -1;
			break;
		}
		if (dir * *value >= dir * goal - GOAL_TOL) {
			*exact = 0; /* good enough; optimum not proven */
			break;
		}
		size_t nc;
		if (price(a, dir, &nc, d)) {
			rc = -1;
			break;
		}
		if (!nc)
			break; /* no column prices out: LP optimum of the whole system */
		if (a->opt_cap && (size_t)glp_get_num_cols(a->P) > a->opt_cap) {
			*exact = 0; /* gave up growing: value is an inner bound */
			a->capped = 1;
			break;
		}
		if (round > 100000) {
			rc = diag_fail(d, EX_SOFTWARE, "audit: column generation does not converge");
			break;
		}
		for (size_t q = 0; q < nc && rc == 0; q++)
			rc = region_add(a, a->cand[q], d);
		if (rc)
			break;
	}
	if (a->colp[i])
		glp_set_obj_coef(a->P, a->colp[i], 0.0);
	if (a->colm[i])
		glp_set_obj_coef(a->P, a->colm[i], 0.0);
	if (goal_capped && !rc && region_cols(a, i, d))
		rc = -1; /* restores the target's true bounds */
	if (rc)
		region_reset(a);
	return rc;
}

int sdca_optimize(sdca_attacker *a, uint32_t i, int dir, double goal, double *value,
                  int *exact, int *integral, diag *d)
{
	if (!a->P)
		return diag_fail(d, EX_OSERR, "%s", a->lp_error);
	lpguard g;
	lpg_arm(&g);
	if (setjmp(g.jb)) {
		/* every allocation of ours here belongs to a: nothing to free */
		lpg_fail(&g, "audit", d);
		sdca_attacker_lp_lost(a, d->msg);
		return -1;
	}
	int rc = optimize_lp(a, i, dir, goal, value, exact, integral, d);
	lpg_disarm();
	return rc;
}

int sdca_meets(const sdct_cell *c, int64_t lo, int64_t hi)
{
	if (lo > c->req_lo || hi < c->req_hi)
		return 0;
	if (hi == SDCT_INF)
		return 1;
	return hi - lo >= c->req_width;
}

static int64_t iceil(double v)
{
	return (int64_t)ceil(v - INT_TOL);
}

static int64_t ifloor(double v)
{
	if (v >= 9.2e18)
		return SDCT_INF;
	return (int64_t)floor(v + INT_TOL);
}

/* ---- joint optimisation: one LP moves many cells at once ----
 *
 * Every feasible table is a witness for every cell it moves, so one LP
 * that pushes a whole set of cells towards their goals (maximise, or
 * minimise, the sum of their deviations, each capped at its goal so that
 * no cell's gain can pay for another's shortfall beyond it) settles every
 * cell it brings to its goal.  Cells it leaves short are not proven
 * unprotected (the joint optimum trades them off against each other);
 * the caller decides them one by one.  reached[k] tells which. */
static int optimize_set(sdca_attacker *a, const uint32_t *cells, size_t n, int dir,
                        const double *goal, uint8_t *reached, double *val, diag *d)
{
	const sdct_table *t = a->t;
	int s = dir > 0 ? 0 : 1;
	size_t n_in = 0;
	memset(reached, 0, n);
	for (size_t k = 0; k < n; k++)
		val[k] = (double)a->x[cells[k]];
	a->n_sup[s] = 0;
	if (a->n_reg && (size_t)glp_get_num_cols(a->P) > a->cap)
		region_reset(a);
	for (size_t k = 0; k < n; k++) {
		uint32_t i = cells[k];
		double room = dir > 0 ? room_up(a, i) : room_dn(a, i);
		double lim = dir > 0 ? goal[k] - (double)a->x[i] : (double)a->x[i] - goal[k];
		if (lim <= GOAL_TOL) {
			reached[k] = 1; /* the reference table already reaches it */
			continue;
		}
		if (!sdct_is_var(&t->cells[i]) || room <= 0 || !isfinite(lim) ||
		    lim >= (double)SDCT_HUGE)
			continue; /* left to the one-by-one path */
		if (region_add(a, i, d))
			return -1;
		int col = dir > 0 ? a->colp[i] : a->colm[i];
		if (!col)
			continue;
		if (lim < room)
			set_col_bounds(a->P, col, lim);
		glp_set_obj_coef(a->P, col, 1.0);
		int opp = dir > 0 ? a->colm[i] : a->colp[i];
		if (opp)
			glp_set_obj_coef(a->P, opp, -1.0);
		n_in++;
	}
	int rc = 0;
	/* many targets pull many columns in: let more enter per round */
	size_t me = a->max_enter;
	if (a->max_enter < 4 * n_in)
		a->max_enter = 4 * n_in;
	if (n_in && glp_get_num_rows(a->P) > 0) {
		glp_set_obj_dir(a->P, GLP_MAX);
		for (int round = 0;; round++) {
			if (simplex(a, d)) {
				rc = -1;
				break;
			}
			if (glp_get_status(a->P) != GLP_OPT)
				break; /* every target is capped: not expected; decide one by one */
			int integral;
			if (harvest(a, s, &integral, d)) {
				rc = -1;
				break;
			}
			int all = 1;
			for (size_t k = 0; k < n; k++) {
				uint32_t i = cells[k];
				if (reached[k] || !a->in_reg[i])
					continue;
				double y = 0;
				if (a->colp[i])
					y += glp_get_col_prim(a->P, a->colp[i]);
				if (a->colm[i])
					y -= glp_get_col_prim(a->P, a->colm[i]);
				double v = (double)a->x[i] + y;
				val[k] = v;
				if (dir * v >= dir * goal[k] - GOAL_TOL)
					reached[k] = 1;
				else
					all = 0;
			}
			if (all)
				break;
			size_t nc;
			if (price(a, +1, &nc, d)) {
				rc = -1;
				break;
			}
			if (!nc || (a->cap && (size_t)glp_get_num_cols(a->P) > a->cap) || round > 100000)
				break;
			for (size_t q = 0; q < nc && rc == 0; q++)
				rc = region_add(a, a->cand[q], d);
			if (rc)
				break;
		}
	}
	a->max_enter = me;
	/* objective back to zero, target columns back to their true bounds */
	for (size_t k = 0; k < n && a->n_reg; k++) {
		uint32_t i = cells[k];
		if (!a->in_reg[i])
			continue;
		if (a->colp[i])
			glp_set_obj_coef(a->P, a->colp[i], 0.0);
		if (a->colm[i])
			glp_set_obj_coef(a->P, a->colm[i], 0.0);
		if (!rc && region_cols(a, i, d))
			rc = -1;
	}
	if (rc)
		region_reset(a);
	return rc;
}

static int uappend(uint32_t **u, size_t *n, size_t *cap, const uint32_t *v, size_t k)
{
	if (grow((void **)u, cap, *n + k + 1, sizeof **u))
		return -1;
	if (k) /* v may be NULL when there is nothing to add */
		memcpy(*u + *n, v, k * sizeof *v);
	*n += k;
	return 0;
}

/* Joint optimisation in direction dir over sub[0..m) (goals g), repeated
 * over the cells left short while it settles some: a cell the joint
 * optimum sacrificed to the others often gets there once they are out of
 * the way.  Settled cells get done[map[q]] = 1; short[map[q]] is how far
 * the last attempt left a cell from its goal.  Supports are appended to
 * U. */
static int joint_dir(sdca_attacker *a, int dir, uint32_t *sub, double *g, size_t *map, size_t m,
                     uint8_t *rch, double *val, uint8_t *done, double *shortfall, uint32_t **U,
                     size_t *n_u, size_t *cap_u, diag *d)
{
	int s = dir > 0 ? 0 : 1;
	while (m) {
		if (optimize_set(a, sub, m, dir, g, rch, val, d))
			return -1;
		if (uappend(U, n_u, cap_u, a->sup[s], a->n_sup[s]))
			return diag_fail(d, EX_OSERR, "audit: out of memory");
		size_t keep = 0;
		for (size_t q = 0; q < m; q++) {
			if (rch[q]) {
				done[map[q]] = 1;
				continue;
			}
			shortfall[map[q]] = dir * (g[q] - val[q]);
			sub[keep] = sub[q];
			g[keep] = g[q];
			map[keep++] = map[q];
		}
		/* again only while it pays: a round that settles few cells
		 * costs as much as one that settles many */
		if (keep == m || (m - keep) * 4 < m)
			break;
		m = keep;
	}
	return 0;
}

/* Cells in a common constraint pull against each other (raising one
 * lowers its partners when the total is published), so a joint LP over
 * both settles at most one.  The set is split into groups in which no two
 * cells share a constraint (greedy colouring; at most 64 groups, the rest
 * share the last), and each group gets its own joint LPs. */
static int group_run(sdca_attacker *a, int dir, uint32_t *sub, double *g, size_t *map, size_t m,
                     uint8_t *rch, double *val, uint8_t *done, double *shortfall, uint32_t **U,
                     size_t *n_u, size_t *cap_u, diag *d)
{
	const sdct_table *t = a->t;
	if (m < 2)
		return joint_dir(a, dir, sub, g, map, m, rch, val, done, shortfall, U, n_u, cap_u, d);
	if (!a->cgroup && !(a->cgroup = calloc(t->n_cons + 1, sizeof *a->cgroup)))
		return diag_fail(d, EX_OSERR, "audit: out of memory");
	uint8_t *grp = malloc(m);
	uint32_t *s2 = malloc(m * sizeof *s2);
	double *g2 = malloc(m * sizeof *g2);
	size_t *m2 = malloc(m * sizeof *m2);
	int rc = 0;
	if (!grp || !s2 || !g2 || !m2) {
		rc = diag_fail(d, EX_OSERR, "audit: out of memory");
		goto out;
	}
	unsigned n_grp = 0;
	for (size_t q = 0; q < m; q++) {
		uint32_t i = sub[q];
		uint64_t used = 0;
		for (uint32_t k = t->cell_start[i]; k < t->cell_start[i + 1]; k++)
			used |= a->cgroup[t->cell_cons[k]];
		unsigned gi = 0;
		while (gi < 63 && (used >> gi & 1))
			gi++;
		grp[q] = (uint8_t)gi;
		if (gi + 1 > n_grp)
			n_grp = gi + 1;
		for (uint32_t k = t->cell_start[i]; k < t->cell_start[i + 1]; k++)
			a->cgroup[t->cell_cons[k]] |= (uint64_t)1 << gi;
	}
	for (size_t q = 0; q < m; q++) {
		uint32_t i = sub[q];
		for (uint32_t k = t->cell_start[i]; k < t->cell_start[i + 1]; k++)
			a->cgroup[t->cell_cons[k]] = 0;
	}
	for (unsigned gi = 0; gi < n_grp && !rc; gi++) {
		size_t n2 = 0;
		for (size_t q = 0; q < m; q++)
			if (grp[q] == gi) {
				s2[n2] = sub[q];
				g2[n2] = g[q];
				m2[n2++] = map[q];
			}
		rc = joint_dir(a, dir, s2, g2, m2, n2, rch, val, done, shortfall, U, n_u, cap_u, d);
	}
out:
	free(grp);
	free(s2);
	free(g2);
	free(m2);
	return rc;
}

static int certify_set(sdca_attacker *a, const uint32_t *cells, size_t n, int stop,
                       int joint_only, uint8_t *ok, double *lo, double *hi, diag *d)
{
	const sdct_table *t = a->t;
	size_t nn = n ? n : 1;
	double *gh = malloc(nn * sizeof *gh), *gl = malloc(nn * sizeof *gl);
	double *val = malloc(nn * sizeof *val), *sf = calloc(nn, sizeof *sf);
	uint8_t *rch = malloc(nn), *up = calloc(nn, 1), *dn = calloc(nn, 1);
	uint32_t *sub = malloc(nn * sizeof *sub);
	size_t *map = malloc(nn * sizeof *map);
	uint32_t *U = NULL; /* supports of every witness used (with repeats) */
	size_t n_u = 0, cap_u = 0;
	int rc = 0;
	if (!gh || !gl || !val || !sf || !rch || !up || !dn || !sub || !map) {
		rc = diag_fail(d, EX_OSERR, "audit: out of memory");
		goto out;
	}
	/* up: each cell to max(req_hi, x + width), as sdca_certify asks */
	size_t m = 0;
	for (size_t k = 0; k < n; k++) {
		const sdct_cell *c = &t->cells[cells[k]];
		double x = (double)a->x[cells[k]];
		ok[k] = 0;
		lo[k] = hi[k] = x;
		gh[k] = (double)c->req_hi;
		if (x + (double)c->req_width > gh[k])
			gh[k] = x + (double)c->req_width;
		if (c->status == SDCT_PUBLISHED)
			continue;
		sub[m] = cells[k];
		gl[m] = gh[k];
		map[m++] = k;
	}
	if (group_run(a, +1, sub, gl, map, m, rch, val, up, sf, &U, &n_u, &cap_u, d)) {
		rc = -1;
		goto out;
	}
	/* down, for the cells that went up far enough */
	m = 0;
	for (size_t k = 0; k < n; k++) {
		if (!up[k])
			continue;
		const sdct_cell *c = &t->cells[cells[k]];
		double x = (double)a->x[cells[k]];
		hi[k] = gh[k];
		double g = (double)c->req_lo;
		if (gh[k] - (double)c->req_width < g)
			g = gh[k] - (double)c->req_width;
		if (x <= g + GOAL_TOL) {
			ok[k] = (uint8_t)sdca_meets(c, iceil(x), ifloor(gh[k]));
			continue;
		}
		lo[k] = g;
		sub[m] = cells[k];
		gl[m] = g;
		map[m++] = k;
	}
	if (group_run(a, -1, sub, gl, map, m, rch, val, dn, sf, &U, &n_u, &cap_u, d)) {
		rc = -1;
		goto out;
	}
	for (size_t k = 0; k < n; k++)
		if (dn[k])
			ok[k] = (uint8_t)sdca_meets(&t->cells[cells[k]], iceil(lo[k]), ifloor(hi[k]));
	/* what the joint LPs left open: one by one, to the exact verdict,
	 * those left furthest from their goal first (with stop, a cell that
	 * fails is then found early) */
	m = 0;
	for (size_t k = 0; k < n && !joint_only; k++)
		if (!ok[k] && t->cells[cells[k]].status != SDCT_PUBLISHED)
			map[m++] = k;
	for (size_t q = 1; q < m; q++)
		for (size_t r = q; r > 0 && sf[map[r - 1]] < sf[map[r]]; r--) {
			size_t tmp = map[r];
			map[r] = map[r - 1];
			map[r - 1] = tmp;
		}
	for (size_t q = 0; q < m; q++) {
		size_t k = map[q];
		int e, okk;
		if (sdca_certify(a, cells[k], &okk, &lo[k], &hi[k], &e, d)) {
			rc = -1;
			goto out;
		}
		ok[k] = (uint8_t)okk;
		if (uappend(&U, &n_u, &cap_u, a->csup, a->n_csup)) {
			rc = diag_fail(d, EX_OSERR, "audit: out of memory");
			goto out;
		}
		if (!okk && stop)
			break; /* the caller needs no more */
	}
	/* the merged support, for sdca_last_support */
	a->n_csup = 0;
	if (grow((void **)&a->csup, &a->cap_csup, n_u + 1, sizeof *a->csup)) {
		rc = diag_fail(d, EX_OSERR, "audit: out of memory");
		goto out;
	}
	for (size_t q = 0; q < n_u; q++)
		if (!a->mark[U[q]]) {
			a->mark[U[q]] = 1;
			a->csup[a->n_csup++] = U[q];
		}
	for (size_t q = 0; q < a->n_csup; q++)
		a->mark[a->csup[q]] = 0;
	a->last_witness = 0;
out:
	free(gh);
	free(gl);
	free(val);
	free(sf);
	free(rch);
	free(up);
	free(dn);
	free(sub);
	free(map);
	free(U);
	return rc;
}

int sdca_certify_set(sdca_attacker *a, const uint32_t *cells, size_t n, int stop, uint8_t *ok,
                     double *lo, double *hi, diag *d)
{
	return certify_set(a, cells, n, stop, 0, ok, lo, hi, d);
}

/* ---- integer witness certificates (cross tables) ----
 *
 * In a cross table every deviation that keeps all constraints is a sum of
 * outer products of one-dimensional balanced vectors (i's code against a
 * sibling, or a path up the hierarchy, with chains down to leaves where a
 * code has children).  The certifier looks, among patterns whose cells are
 * all unknowns of the attacker, for ones that move the cell; it adds them
 * into two integer tables (one raising the cell, one lowering it) until the
 * requirement is met, then checks both tables against every constraint and
 * bound they touch.  Only that check makes the verdict: the search is a
 * means of finding certificates, never trusted.  A certified cell is
 * protected even against an attacker who reasons over integers. */

static int64_t p_min(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t p_max(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t p_deficit(const sdca_attacker *a, int64_t up, int64_t dn, int64_t *tu, int64_t *td)
{
	int64_t wu = p_max(p_max(a->pU - a->pcu, a->pW - a->pcu - a->pcd), 0);
	int64_t t_up = p_min(up, wu);
	int64_t cu = a->pcu + t_up;
	int64_t wd = p_max(p_max(a->pD - a->pcd, a->pW - cu - a->pcd), 0);
	int64_t t_dn = p_min(dn, wd);
	int64_t cd = a->pcd + t_dn;
	if (tu)
		*tu = t_up;
	if (td)
		*td = t_dn;
	return p_max(a->pU - cu, 0) + p_max(a->pD - cd, 0) + p_max(a->pW - cu - cd, 0);
}

/* Room of unknown j moved with sign sg in the raising / lowering table. */
static void p_rooms(const sdca_attacker *a, uint32_t j, int sg, int64_t *up, int64_t *dn)
{
	int64_t lo, hi;
	bounds(a, j, &lo, &hi);
	int64_t wp = a->x[j] + a->pdevp[j], wm = a->x[j] + a->pdevm[j];
	const int64_t big = SDCT_INF / 4;
	if (sg > 0) {
		*up = hi == SDCT_INF ? big : hi - wp;
		*dn = wm - lo;
	} else {
		*up = wp - lo;
		*dn = hi == SDCT_INF ? big : hi - wm;
	}
	if (*up < 0)
		*up = 0;
	if (*dn < 0)
		*dn = 0;
}

static uint32_t p_line(const sdca_attacker *a, size_t dd, uint32_t code)
{
	const sdct_xdim *x = &a->t->dims[dd];
	return a->pi - a->pco[dd] * x->stride + code * x->stride;
}

static int p_var(const sdca_attacker *a, uint32_t j)
{
	return sdct_is_var(&a->t->cells[j]);
}

/* Chain from q down to a leaf through unknown line cells (largest first). */
static int p_down(const sdca_attacker *a, size_t dd, uint32_t q, int sg, struct pvec *v)
{
	const sdct_xdim *x = &a->t->dims[dd];
	while (x->child_start[q + 1] > x->child_start[q]) {
		uint32_t best = UINT32_MAX;
		for (uint32_t k = x->child_start[q]; k < x->child_start[q + 1]; k++) {
			uint32_t ch = x->child[k], cell = p_line(a, dd, ch);
			if (!p_var(a, cell))
				continue;
			if (best == UINT32_MAX || a->x[cell] > a->x[p_line(a, dd, best)])
				best = ch;
		}
		if (best == UINT32_MAX || v->len >= PV_LEN)
			return -1;
		v->code[v->len] = best;
		v->sign[v->len++] = (int8_t)sg;
		q = best;
	}
	return 0;
}

static void p_add(sdca_attacker *a, size_t dd, struct pvec *v)
{
	int64_t up, dn;
	p_rooms(a, a->pi, 1, &up, &dn);
	for (uint32_t e = 1; e < v->len; e++) {
		uint32_t j = p_line(a, dd, v->code[e]);
		if (!p_var(a, j))
			return;
		int64_t ru, rd;
		p_rooms(a, j, v->sign[e], &ru, &rd);
		up = p_min(up, ru);
		dn = p_min(dn, rd);
	}
	v->gain = a->pdef0 - p_deficit(a, up, dn, NULL, NULL);
	if (v->gain <= 0 && v->len > 1)
		return;
	struct pvec *arr = &a->pv[dd * PV_MAX];
	size_t n = a->pnv[dd];
	if (n == PV_MAX) {
		if (v->gain <= arr[n - 1].gain)
			return;
		n--;
	}
	size_t pos = n;
	while (pos > 0 && arr[pos - 1].gain < v->gain) {
		arr[pos] = arr[pos - 1];
		pos--;
	}
	arr[pos] = *v;
	a->pnv[dd] = n + 1;
}

static void p_gen(sdca_attacker *a, size_t dd)
{
	const sdct_xdim *x = &a->t->dims[dd];
	uint32_t c0 = a->pco[dd];
	int32_t par = x->parent[c0];
	a->pnv[dd] = 0;
	struct pvec base;
	base.len = 1;
	base.code[0] = c0;
	base.sign[0] = 1;
	if (p_down(a, dd, c0, 1, &base))
		return;
	if (par < 0) {
		p_add(a, dd, &base);
		return;
	}
	for (uint32_t q = x->child_start[par]; q < x->child_start[par + 1]; q++) {
		uint32_t sb = x->child[q];
		if (sb == c0 || base.len >= PV_LEN)
			continue;
		struct pvec v = base;
		v.code[v.len] = sb;
		v.sign[v.len++] = -1;
		if (p_down(a, dd, sb, -1, &v) == 0)
			p_add(a, dd, &v);
	}
	struct pvec v = base;
	int okp = 1;
	for (int32_t an = par; an >= 0 && okp; an = x->parent[an]) {
		if (v.len >= PV_LEN)
			okp = 0;
		else {
			v.code[v.len] = (uint32_t)an;
			v.sign[v.len++] = 1;
		}
	}
	if (okp)
		p_add(a, dd, &v);
	int32_t g = x->parent[par];
	if (g >= 0)
		for (uint32_t q = x->child_start[g]; q < x->child_start[g + 1]; q++) {
			uint32_t b = x->child[q];
			if (b == (uint32_t)par || base.len + 2 > PV_LEN)
				continue;
			struct pvec w = base;
			w.code[w.len] = (uint32_t)par;
			w.sign[w.len++] = 1;
			w.code[w.len] = b;
			w.sign[w.len++] = -1;
			if (p_down(a, dd, b, -1, &w) == 0)
				p_add(a, dd, &w);
		}
}

static void p_dfs(sdca_attacker *a, size_t L)
{
	if (!a->pbudget)
		return;
	size_t k = a->t->n_dims;
	if (L == k) {
		int64_t def = p_deficit(a, a->plvl_up[L], a->plvl_dn[L], NULL, NULL);
		if (def < a->pbest_def) {
			a->pbest_def = def;
			a->pbest_up = a->plvl_up[L];
			a->pbest_dn = a->plvl_dn[L];
			memcpy(a->pbest, a->pchoice, sizeof a->pchoice);
			a->pfound = 1;
		}
		return;
	}
	size_t dd = a->pord[L];
	const sdct_xdim *x = &a->t->dims[dd];
	size_t prev = a->plvl_end[L];
	for (size_t vi = 0; vi < a->pnv[dd] && a->pbudget && a->pbest_def > 0; vi++) {
		const struct pvec *v = &a->pv[dd * PV_MAX + vi];
		if (prev * v->len > PV_SUP)
			continue;
		int64_t up = a->plvl_up[L], dn = a->plvl_dn[L];
		size_t end = prev;
		int dead = 0;
		for (uint32_t e = 1; e < v->len && !dead; e++) {
			int64_t delta = ((int64_t)v->code[e] - (int64_t)a->pco[dd]) * (int64_t)x->stride;
			for (size_t q = 0; q < prev; q++) {
				uint32_t j = (uint32_t)((int64_t)a->pscell[q] + delta);
				int sg = a->pssign[q] * v->sign[e];
				if (a->pbudget)
					a->pbudget--;
				if (!p_var(a, j)) {
					dead = 1;
					break;
				}
				a->pscell[end] = j;
				a->pssign[end++] = (int8_t)sg;
				int64_t ru, rd;
				p_rooms(a, j, sg, &ru, &rd);
				up = p_min(up, ru);
				dn = p_min(dn, rd);
			}
			if (!dead && p_deficit(a, up, dn, NULL, NULL) >= a->pbest_def)
				dead = 1;
		}
		if (dead)
			continue;
		a->pchoice[dd] = vi;
		a->plvl_end[L + 1] = end;
		a->plvl_up[L + 1] = up;
		a->plvl_dn[L + 1] = dn;
		p_dfs(a, L + 1);
	}
}

static size_t p_materialize(sdca_attacker *a)
{
	size_t n = 1;
	a->pscell[0] = a->pi;
	a->pssign[0] = 1;
	for (size_t L = 0; L < a->t->n_dims; L++) {
		size_t dd = a->pord[L];
		const struct pvec *v = &a->pv[dd * PV_MAX + a->pbest[dd]];
		size_t prev = n;
		for (uint32_t e = 1; e < v->len; e++) {
			int64_t delta = ((int64_t)v->code[e] - (int64_t)a->pco[dd]) *
			                (int64_t)a->t->dims[dd].stride;
			for (size_t q = 0; q < prev; q++) {
				a->pscell[n] = (uint32_t)((int64_t)a->pscell[q] + delta);
				a->pssign[n++] = (int8_t)(a->pssign[q] * v->sign[e]);
			}
		}
	}
	return n;
}

static void p_reset(sdca_attacker *a)
{
	for (size_t q = 0; q < a->n_ptouch; q++) {
		uint32_t j = a->ptouch[q];
		a->pdevp[j] = a->pdevm[j] = 0;
		a->ptmark[j] = 0;
	}
	a->n_ptouch = 0;
}

/* The independent check of the two witness tables x* + devp, x* + devm:
 * every touched cell an unknown within its attacker bounds, every
 * constraint touching them still adds up. */
static int p_verify(sdca_attacker *a)
{
	const sdct_table *t = a->t;
	if (++a->rowstamp == 0) {
		memset(a->rowmark, 0, (t->n_cons + 1) * sizeof *a->rowmark);
		a->rowstamp = 1;
	}
	for (size_t q = 0; q < a->n_ptouch; q++) {
		uint32_t j = a->ptouch[q];
		if (!a->pdevp[j] && !a->pdevm[j])
			continue;
		int64_t lo, hi;
		bounds(a, j, &lo, &hi);
		int64_t wp = a->x[j] + a->pdevp[j], wm = a->x[j] + a->pdevm[j];
		if (!p_var(a, j) || wp < lo || wm < lo || (hi != SDCT_INF && (wp > hi || wm > hi)))
			return 0;
		for (uint32_t k = t->cell_start[j]; k < t->cell_start[j + 1]; k++) {
			uint32_t r = t->cell_cons[k];
			if (a->rowmark[r] == a->rowstamp)
				continue;
			a->rowmark[r] = a->rowstamp;
			int64_t sp = a->pdevp[t->con_total[r]], sm = a->pdevm[t->con_total[r]];
			for (uint32_t e = t->con_start[r]; e < t->con_start[r + 1]; e++) {
				sp -= a->pdevp[t->con_parts[e]];
				sm -= a->pdevm[t->con_parts[e]];
			}
			if (sp || sm)
				return 0;
		}
	}
	return 1;
}

/* Try to certify primary i with integer witnesses.  *ok = 1 and the
 * witness interval in *lo, *hi when verified. */
static int p_certify(sdca_attacker *a, uint32_t i, int *ok, int64_t *lo, int64_t *hi)
{
	const sdct_table *t = a->t;
	const sdct_cell *c = &t->cells[i];
	size_t k = t->n_dims;
	*ok = 0;
	a->pi = i;
	sdct_cross_coords(t, i, a->pco);
	a->pU = p_max(c->req_hi - a->x[i], 0);
	a->pD = p_max(a->x[i] - c->req_lo, 0);
	a->pW = c->req_width;
	a->pcu = a->pcd = 0;
	p_reset(a);
	for (int it = 0; it < PV_PATTERNS; it++) {
		a->pdef0 = p_deficit(a, 0, 0, NULL, NULL);
		if (a->pdef0 == 0)
			break;
		int none = 0;
		for (size_t dd = 0; dd < k; dd++) {
			p_gen(a, dd);
			none |= a->pnv[dd] == 0;
			a->pord[dd] = dd;
		}
		if (none)
			break;
		for (size_t x1 = 1; x1 < k; x1++)
			for (size_t y1 = x1; y1 > 0 && a->pnv[a->pord[y1 - 1]] > a->pnv[a->pord[y1]]; y1--) {
				size_t tmp = a->pord[y1];
				a->pord[y1] = a->pord[y1 - 1];
				a->pord[y1 - 1] = tmp;
			}
		a->pbudget = 20000;
		a->pfound = 0;
		a->pbest_def = a->pdef0;
		a->plvl_end[0] = 1;
		a->pscell[0] = i;
		a->pssign[0] = 1;
		p_rooms(a, i, 1, &a->plvl_up[0], &a->plvl_dn[0]);
		p_dfs(a, 0);
		if (!a->pfound)
			break;
		size_t n = p_materialize(a);
		int64_t tu, td;
		p_deficit(a, a->pbest_up, a->pbest_dn, &tu, &td);
		for (size_t q = 0; q < n; q++) {
			uint32_t j = a->pscell[q];
			if (!a->ptmark[j]) {
				a->ptmark[j] = 1;
				a->ptouch[a->n_ptouch++] = j;
			}
			a->pdevp[j] += a->pssign[q] * tu;
			a->pdevm[j] -= a->pssign[q] * td;
		}
		a->pcu += tu;
		a->pcd += td;
	}
	int64_t wlo = a->x[i] + a->pdevm[i], whi = a->x[i] + a->pdevp[i];
	if (p_deficit(a, 0, 0, NULL, NULL) == 0 && p_verify(a) && sdca_meets(c, wlo, whi)) {
		*ok = 1;
		*lo = wlo;
		*hi = whi;
		/* witnesses are feasible tables: widen the witness ranges */
		for (size_t q = 0; q < a->n_ptouch; q++) {
			uint32_t j = a->ptouch[q];
			witness_put(a, j, (double)(a->x[j] + a->pdevp[j]));
			witness_put(a, j, (double)(a->x[j] + a->pdevm[j]));
		}
	}
	return 0;
}

void sdca_attacker_patterns(sdca_attacker *a, int on)
{
	a->patterns = on && a->t->n_dims > 0;
}

int sdca_certify(sdca_attacker *a, uint32_t i, int *ok, double *lo, double *hi, int *exact,
                 diag *d)
{
	const sdct_cell *c = &a->t->cells[i];
	double x = (double)a->x[i];
	double M, m;
	int ex1 = 1, ex2 = 1, in1, in2;
	a->n_csup = 0;
	a->last_witness = 0;
	if (a->shortcuts && c->status != SDCT_PUBLISHED) {
		/* witnesses of earlier solves (joint ones too) may settle it */
		double wl, wh;
		witness_get(a, i, &wl, &wh);
		if (sdca_meets(c, iceil(wl), ifloor(wh))) {
			*ok = 1;
			if (lo)
				*lo = wl;
			if (hi)
				*hi = wh;
			if (exact)
				*exact = 0;
			return 0;
		}
	}
	if (a->patterns && c->status != SDCT_PUBLISHED) {
		int64_t wl = 0, wh = 0;
		p_certify(a, i, ok, &wl, &wh);
		if (*ok) {
			for (size_t q = 0; q < a->n_ptouch; q++) {
				uint32_t j = a->ptouch[q];
				if (!a->pdevp[j] && !a->pdevm[j])
					continue;
				if (grow((void **)&a->csup, &a->cap_csup, a->n_csup + 1, sizeof *a->csup)) {
					p_reset(a);
					return diag_fail(d, EX_OSERR, "audit: out of memory");
				}
				a->csup[a->n_csup++] = j;
			}
			p_reset(a);
			a->last_witness = 1;
			a->n_witness++;
			if (lo)
				*lo = (double)wl;
			if (hi)
				*hi = (double)wh;
			if (exact)
				*exact = 0;
			return 0;
		}
		p_reset(a);
	}
	/* Reaching x + width above settles the width whatever the minimum.
	 * First with the growth cap; if that was not enough, without it. */
	double goal_hi = (double)c->req_hi;
	if (x + (double)c->req_width > goal_hi)
		goal_hi = x + (double)c->req_width;
	for (int pass = 0; pass < 2; pass++) {
		a->opt_cap = pass == 0 ? a->cap : 0;
		ex1 = ex2 = 1;
		if (sdca_optimize(a, i, +1, goal_hi, &M, &ex1, &in1, d))
			return -1;
		int cap1 = a->capped;
		double goal_lo = (double)c->req_lo;
		if (M != HUGE_VAL && M - (double)c->req_width < goal_lo)
			goal_lo = M - (double)c->req_width;
		a->n_sup[1] = 0;
		int cap2 = 0;
		if (x <= goal_lo + GOAL_TOL) {
			m = x;
			ex2 = 0;
		} else {
			if (sdca_optimize(a, i, -1, goal_lo, &m, &ex2, &in2, d))
				return -1;
			cap2 = a->capped;
		}
		int64_t ilo = iceil(m), ihi = M == HUGE_VAL ? SDCT_INF : ifloor(M);
		*ok = sdca_meets(c, ilo, ihi);
		if (*ok || (!cap1 && !cap2))
			break;
		region_reset(a); /* start the uncapped pass from a clean problem */
	}
	a->opt_cap = 0;
	if (lo)
		*lo = m;
	if (hi)
		*hi = M;
	if (exact)
		*exact = ex1 && ex2;
	/* merged support of the two witnesses */
	for (int sl = 0; sl < 2; sl++)
		for (size_t k = 0; k < a->n_sup[sl]; k++) {
			uint32_t j = a->sup[sl][k];
			if (a->mark[j])
				continue;
			a->mark[j] = 1;
			if (grow((void **)&a->csup, &a->cap_csup, a->n_csup + 1, sizeof *a->csup))
				return diag_fail(d, EX_OSERR, "audit: out of memory");
			a->csup[a->n_csup++] = j;
		}
	for (size_t k = 0; k < a->n_csup; k++)
		a->mark[a->csup[k]] = 0;
	return 0;
}

int sdca_last_was_witness(const sdca_attacker *a)
{
	return a->last_witness;
}

void sdca_last_support(const sdca_attacker *a, const uint32_t **cells, size_t *n)
{
	*cells = a->csup;
	*n = a->n_csup;
}

void sdca_attacker_shortcuts(sdca_attacker *a, int on)
{
	a->shortcuts = on;
}

/* ---- the audit ---- */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sdca_report_free(sdca_report *r)
{
	free(r->iv);
	memset(r, 0, sizeof *r);
}

/* Check every supplied certificate; the range of each cell over the
 * accepted witness tables goes to cwlo / cwhi (cwlo > cwhi: none). */
static int cert_ranges(const sdct_table *t, const scert_set *s, int64_t *cwlo, int64_t *cwhi,
                       sdca_report *r, diag *d)
{
	scert_checker *ck;
	if (scert_checker_new(t, s, &ck, d))
		return -1;
	for (size_t j = 0; j < t->n_cells; j++) {
		cwlo[j] = INT64_MAX;
		cwhi[j] = INT64_MIN;
	}
	for (size_t k = 0; k < s->n; k++) {
		if (scert_check(ck, k, NULL, NULL) != SCERT_OK) {
			r->n_cert_rejected++;
			continue;
		}
		/* accepted: both tables are feasible, and so is the base */
		const scert *c = &s->c[k];
		for (size_t q = 0; q < c->n; q++) {
			uint32_t j = s->mcell[c->off + q];
			int64_t x = s->base[j], v[3] = {x, x + s->mup[c->off + q], x + s->mdn[c->off + q]};
			for (int e = 0; e < 3; e++) {
				if (v[e] < cwlo[j])
					cwlo[j] = v[e];
				if (v[e] > cwhi[j])
					cwhi[j] = v[e];
			}
		}
	}
	scert_checker_free(ck);
	return 0;
}

int sdca_run(const sdct_table *t, const sdca_opts *o, sdca_report *r, diag *d)
{
	sdca_opts def = {0};
	if (!o)
		o = &def;
	memset(r, 0, sizeof *r);
	r->first_exposed = UINT32_MAX;
	double t0 = now();
	size_t n_sup = 0;
	for (size_t c = 0; c < t->n_cells; c++)
		if (t->cells[c].status != SDCT_PUBLISHED)
			n_sup++;
	r->iv = calloc(n_sup ? n_sup : 1, sizeof *r->iv);
	if (!r->iv)
		return diag_fail(d, EX_OSERR, "audit: out of memory");
	int rc = 0;
	/* certificates: checked here, independently of whoever made them */
	int64_t *cwlo = NULL, *cwhi = NULL;
	size_t n_open = 0; /* primary cells the certificates do not settle */
	if (o->certs && o->mode != SDCA_EXACT && t->finalized) {
		size_t n = t->n_cells ? t->n_cells : 1;
		cwlo = malloc(n * sizeof *cwlo);
		cwhi = malloc(n * sizeof *cwhi);
		if (!cwlo || !cwhi) {
			free(cwlo);
			free(cwhi);
			return diag_fail(d, EX_OSERR, "audit: out of memory");
		}
		if (cert_ranges(t, o->certs, cwlo, cwhi, r, d)) {
			free(cwlo);
			free(cwhi);
			return -1;
		}
	}
#define CERTIFIED(c)                                                                        \
	(cwlo && cwlo[c] <= cwhi[c] && t->cells[c].status == SDCT_PRIMARY &&                     \
	 sdca_meets(&t->cells[c], cwlo[c], cwhi[c]))
	for (size_t c = 0; c < t->n_cells; c++)
		if (t->cells[c].status == SDCT_PRIMARY && !CERTIFIED(c))
			n_open++;
	sdca_attacker *a = NULL;
	if (!cwlo || n_open) {
		if (sdca_attacker_new(t, NULL, o->region_cap, &a, d)) {
			free(cwlo);
			free(cwhi);
			return -1;
		}
		if (!a) {
			free(cwlo);
			free(cwhi);
			return diag_fail(d, EX_SOFTWARE, "audit: no attacker");
		}
	}
	size_t n_var = 0;
	for (size_t c = 0; c < t->n_cells; c++)
		n_var += sdct_is_var(&t->cells[c]);
	if (a && o->mode != SDCA_EXACT && 2 * n_var <= a->cap) {
		/* Joint LPs over runs of nearby primary cells (cell order keeps
		 * them in shared constraints) leave witness ranges that settle
		 * most cells below without a solve of their own.  Only when the
		 * attacker's whole system fits in one LP (two columns per
		 * unknown within the region cap): then a joint LP costs about
		 * what a single one does.  On larger tables the joint LPs grow
		 * by column generation over many targets at once, and cost more
		 * than they save (measured on the bench's 10k table: 20,044
		 * simplex calls against 2,358 for the same part of the audit). */
		uint32_t run[SDCA_JOINT];
		uint8_t okk[SDCA_JOINT];
		double l[SDCA_JOINT], h[SDCA_JOINT];
		size_t nr = 0;
		for (size_t c = 0; c <= t->n_cells && rc == 0; c++) {
			if (c < t->n_cells && t->cells[c].status == SDCT_PRIMARY && !CERTIFIED(c))
				run[nr++] = (uint32_t)c;
			if (nr == SDCA_JOINT || (c == t->n_cells && nr)) {
				rc = certify_set(a, run, nr, 0, 1, okk, l, h, d);
				nr = 0;
			}
		}
	}
	for (size_t c = 0; c < t->n_cells && rc == 0; c++) {
		const sdct_cell *cl = &t->cells[c];
		if (cl->status == SDCT_PUBLISHED)
			continue;
		sdca_interval *iv = &r->iv[r->n_iv++];
		iv->cell = (uint32_t)c;
		iv->status = cl->status;
		iv->ok = 1;
		if (cl->status == SDCT_PRIMARY)
			r->n_primary++;
		if (o->mode == SDCA_EXACT) {
			int e1, e2, i1, i2;
			if (sdca_optimize(a, (uint32_t)c, +1, HUGE_VAL, &iv->lp_max, &e1, &i1, d) ||
			    sdca_optimize(a, (uint32_t)c, -1, -HUGE_VAL, &iv->lp_min, &e2, &i2, d)) {
				rc = -1;
				break;
			}
			iv->exact = (uint8_t)(e1 && e2);
			iv->int_exact = (uint8_t)(e1 && e2 && i1 && i2);
		} else if (cl->status == SDCT_PRIMARY && CERTIFIED(c)) {
			iv->lp_min = (double)cwlo[c];
			iv->lp_max = (double)cwhi[c];
			iv->witness = 1;
			iv->how = SDCA_BY_CERT;
			r->n_witness++;
			r->n_cert++;
		} else if (cl->status == SDCT_PRIMARY) {
			int ok, ex;
			if (sdca_certify(a, (uint32_t)c, &ok, &iv->lp_min, &iv->lp_max, &ex, d)) {
				rc = -1;
				break;
			}
			iv->exact = (uint8_t)ex;
			iv->witness = (uint8_t)sdca_last_was_witness(a);
			iv->how = iv->witness ? SDCA_BY_PATTERN : SDCA_BY_LP;
			r->n_witness += iv->witness;
		}
	}
#undef CERTIFIED
	/* intervals of secondary cells in CERTIFY mode: what witnesses showed
	 * (the attacker's and the accepted certificates' tables) */
	for (size_t k = 0; k < r->n_iv && rc == 0; k++) {
		sdca_interval *iv = &r->iv[k];
		if (o->mode != SDCA_EXACT && iv->status != SDCT_PRIMARY) {
			uint32_t c = iv->cell;
			if (a)
				sdca_witnessed(a, c, &iv->lp_min, &iv->lp_max);
			else { /* the true values are a table the attacker cannot exclude */
				iv->lp_min = (double)t->cells[c].lo;
				iv->lp_max = (double)t->cells[c].hi;
			}
			if (cwlo && cwlo[c] <= cwhi[c]) {
				iv->lp_min = fmin(iv->lp_min, (double)cwlo[c]);
				iv->lp_max = fmax(iv->lp_max, (double)cwhi[c]);
			}
		}
		iv->lo = iceil(iv->lp_min);
		iv->hi = iv->lp_max == HUGE_VAL ? SDCT_INF : ifloor(iv->lp_max);
		if (iv->status == SDCT_PRIMARY) {
			iv->ok = (uint8_t)sdca_meets(&t->cells[iv->cell], iv->lo, iv->hi);
			if (!iv->ok) {
				char lab[256];
				const sdct_cell *cl = &t->cells[iv->cell];
				sdct_label(t, iv->cell, lab, sizeof lab);
				r->n_exposed++;
				if (r->first_exposed == UINT32_MAX)
					r->first_exposed = iv->cell;
				diag_add(d, DIAG_ERROR, NULL, 0, 0,
				         "primary cell '%s' can be narrowed to [%lld, %lld]; it needs an "
				         "interval reaching %lld and %lld, %lld wide",
				         lab, (long long)iv->lo, (long long)iv->hi, (long long)cl->req_lo,
				         (long long)cl->req_hi, (long long)cl->req_width);
			}
		}
	}
	if (a) {
		r->n_lp = a->n_lp;
		r->max_columns = a->max_cols;
		sdca_attacker_free(a);
	}
	free(cwlo);
	free(cwhi);
	r->seconds = now() - t0;
	if (rc)
		return -1;
	if (r->n_exposed) {
		char lab[256];
		const sdca_interval *iv = NULL;
		for (size_t k = 0; k < r->n_iv; k++)
			if (r->iv[k].cell == r->first_exposed)
				iv = &r->iv[k];
		sdct_label(t, r->first_exposed, lab, sizeof lab);
		return diag_fail(d, EX_NOPERM,
		                 "release refused: primary cell '%s' is exposed (an attacker narrows it "
		                 "to [%lld, %lld]); %zu of %zu primary cells are under-protected",
		                 lab, iv ? (long long)iv->lo : 0LL, iv ? (long long)iv->hi : 0LL,
		                 r->n_exposed, r->n_primary);
	}
	return 0;
}
