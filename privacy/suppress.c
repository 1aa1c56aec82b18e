/* suppress: see suppress.h.
 *
 * Layout of this file:
 *   1. parameters, primary suppression, costs;
 *   2. the shared context (reference table, attacker oracle, witness
 *      supports used by the clean-up);
 *   3. the partner fallback (any table);
 *   4. the GLPK method (per-cell MIP);
 *   5. the pattern heuristic (cross tables);
 *   6. clean-up and the entry point.
 *
 * A "witness" of a primary cell is a pair of feasible tables (for the
 * attacker's system) that move the cell up to its upper requirement and
 * down to its lower one with the required width between them.  A primary
 * cell is protected exactly when witnesses exist.  Both methods remember
 * which cells each witness moves (its support): publishing a cell again
 * can only break witnesses that move it, which is what makes the clean-up
 * cheap.
 */
#include "privacy/suppress.h"

#include <glpk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "core/vec.h"
#include "privacy/audit.h"
#include "privacy/lpguard.h"

/* ---------------------------------------------------------------- 1 --- */

void supp_params_default(supp_params *p)
{
	memset(p, 0, sizeof *p);
	p->threshold = 5;
	p->zeros = SUPP_ZEROS_PUBLISH;
	p->upl_pct = 0;
	p->lpl_pct = 0;
	p->spl_pct = 100;
}

void supp_opts_default(supp_opts *o)
{
	memset(o, 0, sizeof *o);
	o->method = SUPP_AUTO;
	o->objective = SUPP_OBJ_CELLS;
	o->total_weight = 1.0;
	o->top_weight = 1000.0;
	o->auto_max_cells = 4000;
	o->mip_time_ms = 2000;
	o->mip_max_cells = 300;
}

static int64_t pct_of(unsigned pct, int64_t t)
{
	return ((int64_t)pct * t + 99) / 100; /* ceil */
}

/* What public intervals alone reveal: with every cell hidden, an attacker
 * still knows the public bounds and the constraints, so a primary cell is
 * known to lie in [A, B] before anything is released.  No release can
 * widen that, so the requirement is clamped to it (a requirement beyond
 * it could never be met, and would be pointless).  Only public bounds can
 * make [A, B] narrower than [0, inf), so tables without any are skipped. */
static int clamp_public(sdct_table *t, size_t np, diag *d)
{
	int any = 0;
	for (size_t c = 0; c < t->n_cells && !any; c++)
		any = (t->cells[c].flags & SDCT_F_PUBLIC_BOUNDS) != 0;
	if (!any || !np)
		return 0;
	uint8_t *saved = malloc(t->n_cells);
	if (!saved)
		return diag_fail(d, EX_OSERR, "suppress: out of memory");
	for (size_t c = 0; c < t->n_cells; c++) {
		saved[c] = t->cells[c].status;
		if (saved[c] == SDCT_PUBLISHED)
			t->cells[c].status = SDCT_SECONDARY;
	}
	sdca_attacker *a = NULL;
	int rc = sdca_attacker_new(t, NULL, 0, &a, d);
	for (size_t c = 0; c < t->n_cells && !rc; c++) {
		sdct_cell *cl = &t->cells[c];
		if (cl->status != SDCT_PRIMARY)
			continue;
		/* Solve only as far as the requirement needs: when a witness
		 * reaches req_lo below and max(req_hi, that + req_width) above,
		 * nothing is clamped.  Otherwise both ends are made exact, since
		 * a clamp must come from the true [A, B] (a witness value in
		 * place of A would lower the width requirement too far). */
		double mn, mx;
		int ex, in;
		uint32_t ci = (uint32_t)c;
		if (sdca_optimize(a, ci, -1, (double)cl->req_lo, &mn, &ex, &in, d)) {
			rc = -1;
			break;
		}
		double goal = (double)cl->req_hi;
		if (mn + (double)cl->req_width > goal)
			goal = mn + (double)cl->req_width;
		if (sdca_optimize(a, ci, +1, goal, &mx, &ex, &in, d)) {
			rc = -1;
			break;
		}
		if (mx >= goal - 1e-6 && mn <= (double)cl->req_lo + 1e-6)
			continue;
		if (sdca_optimize(a, ci, -1, -HUGE_VAL, &mn, &ex, &in, d) ||
		    sdca_optimize(a, ci, +1, HUGE_VAL, &mx, &ex, &in, d)) {
			rc = -1;
			break;
		}
		int64_t A = (int64_t)ceil(mn - 1e-6);
		int64_t B = mx >= 9.2e18 ? SDCT_INF : (int64_t)floor(mx + 1e-6);
		if (cl->req_lo < A)
			cl->req_lo = A;
		if (B != SDCT_INF && cl->req_hi > B)
			cl->req_hi = B;
		if (B != SDCT_INF && cl->req_width > B - A)
			cl->req_width = B - A;
	}
	sdca_attacker_free(a);
	for (size_t c = 0; c < t->n_cells; c++)
		t->cells[c].status = saved[c];
	free(saved);
	return rc;
}

int supp_primary(sdct_table *t, const supp_params *p, size_t *n_primary, diag *d)
{
	supp_params def;
	if (!p) {
		supp_params_default(&def);
		p = &def;
	}
	if (!t->finalized)
		return diag_fail(d, EX_SOFTWARE, "suppress: table not finalized");
	if (p->threshold < 1 || p->threshold > (int64_t)1 << 40)
		return diag_fail(d, EX_USAGE, "suppress: threshold %lld out of range",
		                 (long long)p->threshold);
	if (p->upl_pct > 10000 || p->lpl_pct > 10000 || p->spl_pct > 10000)
		return diag_fail(d, EX_USAGE, "suppress: protection percentages above 10000");
	int64_t T = p->threshold;
	int64_t upl = pct_of(p->upl_pct, T), lpl = pct_of(p->lpl_pct, T), spl = pct_of(p->spl_pct, T);
	int64_t sens_lo = p->zeros == SUPP_ZEROS_SENSITIVE ? 0 : 1, sens_hi = T - 1;
	size_t np = 0;
	for (size_t c = 0; c < t->n_cells; c++) {
		sdct_cell *cl = &t->cells[c];
		if (cl->status == SDCT_SECONDARY)
			cl->status = SDCT_PUBLISHED;
		/* sensitive when [lo, hi] meets [sens_lo, sens_hi] */
		if (cl->lo <= sens_hi && cl->hi >= sens_lo && sens_lo <= sens_hi)
			cl->status = SDCT_PRIMARY;
		if (cl->status != SDCT_PRIMARY) {
			cl->req_lo = cl->req_hi = cl->req_width = 0;
			continue;
		}
		np++;
		int64_t A = sdct_attacker_lo(cl), B = sdct_attacker_hi(cl);
		/* "lo or more" (hi at SDCT_HUGE): no release can keep the upper
		 * end open once totals are published, so ask for what protects a
		 * count: the attacker must not exclude lo .. lo + max(UPL, SPL) */
		int64_t rh = cl->hi >= SDCT_HUGE ? cl->lo + (upl > spl ? upl : spl) : cl->hi + upl;
		int64_t rl = cl->lo - lpl;
		cl->req_hi = (B != SDCT_INF && rh > B) ? B : rh;
		cl->req_lo = rl < A ? A : rl;
		cl->req_width = (B != SDCT_INF && B - A < spl) ? B - A : spl;
	}
	if (n_primary)
		*n_primary = np;
	return clamp_public(t, np, d);
}

void supp_costs(sdct_table *t, int objective, double total_weight, double top_weight)
{
	uint32_t *as_total = calloc(t->n_cells + 1, sizeof *as_total);
	uint8_t *as_part = calloc(t->n_cells + 1, 1);
	if (!as_total || !as_part) {
		free(as_total);
		free(as_part);
		for (size_t c = 0; c < t->n_cells; c++)
			t->cells[c].cost = objective == SUPP_OBJ_VALUE ? (double)t->cells[c].hi + 1 : 1;
		return;
	}
	for (size_t r = 0; r < t->n_cons; r++) {
		as_total[t->con_total[r]]++;
		for (uint32_t k = t->con_start[r]; k < t->con_start[r + 1]; k++)
			as_part[t->con_parts[k]] = 1;
	}
	for (size_t c = 0; c < t->n_cells; c++) {
		double base = objective == SUPP_OBJ_VALUE ? (double)t->cells[c].hi + 1.0 : 1.0;
		base *= pow(1.0 + total_weight, (double)as_total[c]);
		if (as_total[c] && !as_part[c])
			base *= top_weight;
		t->cells[c].cost = base;
	}
	free(as_total);
	free(as_part);
}

/* ---------------------------------------------------------------- 2 --- */

typedef struct vec32 {
	uint32_t *v;
	uint32_t n, cap;
} vec32;

static int v32_push(vec32 *v, uint32_t x)
{
	if (v->n == v->cap) {
		uint32_t nc = v->cap ? v->cap * 2 : 8;
		uint32_t *q = realloc(v->v, nc * sizeof *q);
		if (!q)
			return -1;
		v->v = q;
		v->cap = nc;
	}
	v->v[v->n++] = x;
	return 0;
}

/* Room for n entries in all (contents kept up to v->n). */
static int v32_reserve(vec32 *v, size_t n)
{
	if (n <= v->cap)
		return 0;
	size_t nc = v->cap ? v->cap : 8;
	while (nc < n)
		nc *= 2;
	uint32_t *q = realloc(v->v, nc * sizeof *q);
	if (!q)
		return -1;
	v->v = q;
	v->cap = (uint32_t)nc;
	return 0;
}

typedef struct ctx {
	sdct_table *t;
	const supp_opts *o;
	supp_stats *st;
	int64_t *x;              /* reference table */
	sdca_attacker *att;      /* created on demand */
	uint32_t *prim;          /* primary cells in processing order */
	size_t n_prim;
	/* witness support per primary (index into prim), and users per cell */
	vec32 *sup;              /* n_prim */
	vec32 *users;            /* n_cells: primaries (by position) that may use it */
	uint8_t *lpwit;          /* per primary: witness from the attacker LP */
	uint8_t *mark;           /* scratch, n_cells */
	int64_t max_hi;
} ctx;

static int need_attacker(ctx *c, diag *d)
{
	if (c->att)
		return 0;
	if (sdca_attacker_new(c->t, c->x, 0, &c->att, d))
		return -1;
	sdca_attacker_shortcuts(c->att, 0); /* supports must be complete */
	return 0;
}

static void set_status(ctx *c, uint32_t j, int status)
{
	if (c->t->cells[j].status == status)
		return;
	c->t->cells[j].status = (uint8_t)status;
	if (c->att)
		sdca_attacker_refresh(c->att, j);
}

/* Record the witness support of primary number p. */
static int set_support(ctx *c, size_t p, const uint32_t *cells, size_t n, diag *d)
{
	vec32 *s = &c->sup[p];
	/* p is already a user of every cell of its old support: mark them,
	 * so that a support rebuilt again and again (the clean-up) does not
	 * pile up repeated entries (they took 20% of the time and most of
	 * the memory of the 100k bench table) */
	for (uint32_t k = 0; k < s->n; k++)
		c->mark[s->v[k]] = 1;
	int rc = 0;
	for (size_t k = 0; k < n && !rc; k++) {
		uint32_t j = cells[k];
		/* users may hold stale or repeated entries; readers re-check */
		vec32 *u = &c->users[j];
		if (!c->mark[j] && !(u->n && u->v[u->n - 1] == (uint32_t)p) &&
		    v32_push(u, (uint32_t)p))
			rc = -1;
	}
	for (uint32_t k = 0; k < s->n; k++)
		c->mark[s->v[k]] = 0;
	s->n = 0;
	if (!rc && v32_reserve(s, n))
		rc = -1;
	if (rc)
		return diag_fail(d, EX_OSERR, "suppress: out of memory");
	if (n)
		memcpy(s->v, cells, n * sizeof *cells);
	s->n = (uint32_t)n;
	return 0;
}

static int support_has(const ctx *c, size_t p, uint32_t j)
{
	const vec32 *s = &c->sup[p];
	for (uint32_t k = 0; k < s->n; k++)
		if (s->v[k] == j)
			return 1;
	return 0;
}

/* Certify primary number p with the LP attacker and store its support. */
static int lp_certify(ctx *c, size_t p, int *ok, diag *d)
{
	if (need_attacker(c, d))
		return -1;
	c->st->n_checked++;
	if (sdca_certify(c->att, c->prim[p], ok, NULL, NULL, NULL, d))
		return -1;
	if (*ok) {
		const uint32_t *cells;
		size_t n;
		sdca_last_support(c->att, &cells, &n);
		c->lpwit[p] = 1;
		return set_support(c, p, cells, n, d);
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- 3 --- */

/* Protect primary number p by hiding, one at a time, the cheapest
 * published cell in a constraint of the cell or of its current witness,
 * until the attacker LP agrees.  Slow but works on any table.  Returns 1
 * when it finds no further cell to hide (the caller then uses its last
 * resort), 0 when protected, -1 on failure. */
static int protect_partner(ctx *c, size_t p, diag *d)
{
	sdct_table *t = c->t;
	uint32_t i = c->prim[p];
	vec32 near = {0};
	int rc = 0;
	c->st->n_fallback++;
	for (size_t round = 0;; round++) {
		int ok;
		if (lp_certify(c, p, &ok, d)) {
			rc = -1;
			break;
		}
		if (ok)
			break;
		/* cells whose constraints we look in: i and the last witnesses */
		near.n = 0;
		const uint32_t *sc;
		size_t ns;
		sdca_last_support(c->att, &sc, &ns);
		if (v32_push(&near, i)) {
			rc = diag_fail(d, EX_OSERR, "suppress: out of memory");
			break;
		}
		for (size_t k = 0; k < ns; k++)
			if (sc[k] != i && v32_push(&near, sc[k])) {
				rc = diag_fail(d, EX_OSERR, "suppress: out of memory");
				break;
			}
		if (rc)
			break;
		uint32_t best = UINT32_MAX;
		for (int widen = 0; widen < 3 && best == UINT32_MAX; widen++) {
			size_t lim = near.n;
			for (size_t q = 0; q < lim; q++) {
				uint32_t u = near.v[q];
				for (uint32_t k = t->cell_start[u]; k < t->cell_start[u + 1]; k++) {
					uint32_t r = t->cell_cons[k];
					for (uint32_t e = t->con_start[r]; e <= t->con_start[r + 1]; e++) {
						uint32_t j = e == t->con_start[r + 1] ? t->con_total[r]
						                                      : t->con_parts[e];
						if (t->cells[j].status != SDCT_PUBLISHED) {
							if (widen && !c->mark[j]) {
								c->mark[j] = 1;
								if (v32_push(&near, j))
									rc = -1;
							}
							continue;
						}
						if (best == UINT32_MAX || t->cells[j].cost < t->cells[best].cost ||
						    (t->cells[j].cost == t->cells[best].cost &&
						     c->x[j] > c->x[best]))
							best = j;
					}
				}
			}
			for (size_t q = 0; q < near.n; q++)
				c->mark[near.v[q]] = 0;
			if (rc) {
				rc = diag_fail(d, EX_OSERR, "suppress: out of memory");
				break;
			}
		}
		if (rc)
			break;
		if (best == UINT32_MAX || round > t->n_cells) {
			rc = 1; /* gave up: the caller has a last resort */
			break;
		}
		set_status(c, best, SDCT_SECONDARY);
	}
	free(near.v);
	return rc;
}

/* ---------------------------------------------------------------- 4 --- */

/* Neighbourhood of cell i for the MIP: for cross tables a box of codes
 * near i's in every dimension (i's code, parent, children, siblings,
 * further ancestors, parent's siblings), trimmed to cap cells; otherwise a
 * breadth-first ball in the cell graph. */
static int neighbourhood(ctx *c, uint32_t i, size_t cap, vec32 *out, diag *d)
{
	sdct_table *t = c->t;
	out->n = 0;
	if (t->n_dims) {
		size_t k = t->n_dims;
		vec32 F[16];
		memset(F, 0, sizeof F);
		uint32_t co[16];
		sdct_cross_coords(t, i, co);
		int rc = 0;
		for (size_t dd = 0; dd < k && !rc; dd++) {
			const sdct_xdim *x = &t->dims[dd];
			uint32_t cd = co[dd];
			int32_t par = x->parent[cd];
			rc |= v32_push(&F[dd], cd);
			if (par >= 0)
				rc |= v32_push(&F[dd], (uint32_t)par);
			for (uint32_t q = x->child_start[cd]; q < x->child_start[cd + 1]; q++)
				rc |= v32_push(&F[dd], x->child[q]);
			if (par >= 0) {
				for (uint32_t q = x->child_start[par]; q < x->child_start[par + 1]; q++)
					if (x->child[q] != cd)
						rc |= v32_push(&F[dd], x->child[q]);
				int32_t g = x->parent[par];
				if (g >= 0)
					for (uint32_t q = x->child_start[g]; q < x->child_start[g + 1]; q++)
						if (x->child[q] != (uint32_t)par)
							rc |= v32_push(&F[dd], x->child[q]);
				for (int32_t a = g; a >= 0; a = x->parent[a])
					rc |= v32_push(&F[dd], (uint32_t)a);
			}
		}
		if (!rc) {
			for (;;) {
				double box = 1;
				size_t big = 0;
				for (size_t dd = 0; dd < k; dd++) {
					box *= F[dd].n;
					if (F[dd].n > F[big].n)
						big = dd;
				}
				if (box <= (double)cap || F[big].n <= 2)
					break;
				F[big].n--;
			}
			uint32_t idx[16] = {0};
			for (;;) {
				uint32_t cell = i;
				for (size_t dd = 0; dd < k; dd++)
					cell = cell - co[dd] * t->dims[dd].stride + F[dd].v[idx[dd]] * t->dims[dd].stride;
				if (v32_push(out, cell)) {
					rc = -1;
					break;
				}
				size_t dd = k;
				while (dd-- > 0) {
					if (++idx[dd] < F[dd].n)
						break;
					idx[dd] = 0;
				}
				if (dd == (size_t)-1)
					break;
			}
		}
		for (size_t dd = 0; dd < k; dd++)
			free(F[dd].v);
		return rc ? diag_fail(d, EX_OSERR, "suppress: out of memory") : 0;
	}
	if (v32_push(out, i))
		return diag_fail(d, EX_OSERR, "suppress: out of memory");
	c->mark[i] = 1;
	for (size_t q = 0; q < out->n && out->n < cap; q++) {
		uint32_t u = out->v[q];
		for (uint32_t k = t->cell_start[u]; k < t->cell_start[u + 1] && out->n < cap; k++) {
			uint32_t r = t->cell_cons[k];
			for (uint32_t e = t->con_start[r]; e <= t->con_start[r + 1] && out->n < cap; e++) {
				uint32_t j = e == t->con_start[r + 1] ? t->con_total[r] : t->con_parts[e];
				if (c->mark[j])
					continue;
				c->mark[j] = 1;
				if (v32_push(out, j))
					return diag_fail(d, EX_OSERR, "suppress: out of memory");
			}
		}
	}
	for (size_t q = 0; q < out->n; q++)
		c->mark[out->v[q]] = 0;
	return 0;
}

/* Attacker bounds of j: current ones, or (hyp) those it would have if it
 * were suppressed. */
static void cell_bounds(const sdct_cell *cl, int hyp, int64_t *lo, int64_t *hi)
{
	if (cl->status == SDCT_PUBLISHED && !hyp) {
		*lo = cl->lo;
		*hi = cl->hi;
	} else {
		*lo = sdct_attacker_lo(cl);
		*hi = sdct_attacker_hi(cl);
	}
}

/* The MIP for primary number p over neighbourhood N:
 *   two deviation vectors dp (raising the cell) and dm (lowering it), each
 *   keeping every constraint (cells outside N do not move);
 *   a published exact cell may move only if chosen (binary s_j, cost c_j);
 *   dp_i >= req_hi - x_i, dm_i <= req_lo - x_i, dp_i - dm_i >= req_width.
 * Minimise the cost of the chosen cells.  Chosen cells are written to
 * *chosen.  *feasible = 0 when N admits no witness. */
static int select_mip(ctx *c, size_t p, const vec32 *N, vec32 *chosen, int *feasible, diag *d)
{
	sdct_table *t = c->t;
	uint32_t i = c->prim[p];
	const sdct_cell *ci = &t->cells[i];
	size_t n = N->n;
	chosen->n = 0;
	*feasible = 0;
	int *pos = calloc(t->n_cells, sizeof *pos);  /* 1 + index in N */
	int *cp = malloc(n * sizeof *cp), *cm = malloc(n * sizeof *cm), *cs = malloc(n * sizeof *cs);
	int *rowmark = calloc(t->n_cons + 1, sizeof *rowmark);
	size_t maxlen = 16 + 2 * n;
	int *ind = malloc((maxlen + 1) * sizeof *ind);
	double *val = malloc((maxlen + 1) * sizeof *val);
	if (!pos || !cp || !cm || !cs || !rowmark || !ind || !val) {
		free(pos);
		free(cp);
		free(cm);
		free(cs);
		free(rowmark);
		free(ind);
		free(val);
		return diag_fail(d, EX_OSERR, "suppress: out of memory");
	}
	double need = (double)(ci->req_hi - c->x[i]) + (double)ci->req_width + 1;
	double big = (double)c->max_hi + need;
	lpguard g;
	lpg_arm(&g);
	if (setjmp(g.jb)) {
		free(pos);
		free(cp);
		free(cm);
		free(cs);
		free(rowmark);
		free(ind);
		free(val);
		lpg_fail(&g, "suppress", d);
		sdca_attacker_lp_lost(c->att, d->msg); /* GLPK freed it */
		return -1;
	}
	glp_prob *P = glp_create_prob();
	glp_set_obj_dir(P, GLP_MIN);
	for (size_t q = 0; q < n; q++) {
		uint32_t j = N->v[q];
		pos[j] = (int)q + 1;
		const sdct_cell *cl = &t->cells[j];
		int binary = cl->status == SDCT_PUBLISHED && cl->lo == cl->hi;
		int64_t lo, hi;
		cell_bounds(cl, binary, &lo, &hi);
		double up = hi == SDCT_INF ? big : (double)(hi - c->x[j]);
		double dn = (double)(c->x[j] - lo);
		cp[q] = glp_add_cols(P, 1);
		cm[q] = glp_add_cols(P, 1);
		double lp_ = -dn, up_ = up, lm = -dn, um = up;
		if (j == i) {
			double need_up = (double)(ci->req_hi - c->x[i]);
			double need_dn = (double)(ci->req_lo - c->x[i]);
			if (need_up > lp_)
				lp_ = need_up;
			if (need_dn < um)
				um = need_dn;
		}
		if (lp_ > up_ || lm > um) {
			/* requirement beyond the cell's own bounds: cannot be met */
			glp_delete_prob(P);
			lpg_disarm();
			goto out;
		}
		glp_set_col_bnds(P, cp[q], lp_ == up_ ? GLP_FX : GLP_DB, lp_, up_);
		glp_set_col_bnds(P, cm[q], lm == um ? GLP_FX : GLP_DB, lm, um);
		cs[q] = 0;
		if (binary) {
			cs[q] = glp_add_cols(P, 1);
			glp_set_col_kind(P, cs[q], GLP_BV);
			glp_set_obj_coef(P, cs[q], cl->cost);
			/* |dp_j| <= room * s_j, |dm_j| likewise */
			int cols[2] = {cp[q], cm[q]};
			for (int w = 0; w < 2; w++) {
				int row = glp_add_rows(P, 2);
				int ii[3] = {0, cols[w], cs[q]};
				double vv[3] = {0, 1.0, -up};
				glp_set_mat_row(P, row, 2, ii, vv);
				glp_set_row_bnds(P, row, GLP_UP, 0, 0);
				vv[1] = -1.0;
				vv[2] = -dn;
				glp_set_mat_row(P, row + 1, 2, ii, vv);
				glp_set_row_bnds(P, row + 1, GLP_UP, 0, 0);
			}
		}
	}
	/* the additivity constraints touching N, for both deviations */
	for (size_t q = 0; q < n; q++) {
		uint32_t j = N->v[q];
		for (uint32_t k = t->cell_start[j]; k < t->cell_start[j + 1]; k++) {
			uint32_t r = t->cell_cons[k];
			if (rowmark[r])
				continue;
			rowmark[r] = 1;
			for (int w = 0; w < 2; w++) {
				int len = 0;
				for (uint32_t e = t->con_start[r]; e <= t->con_start[r + 1]; e++) {
					uint32_t u = e == t->con_start[r + 1] ? t->con_total[r] : t->con_parts[e];
					if (!pos[u])
						continue;
					ind[++len] = w ? cm[pos[u] - 1] : cp[pos[u] - 1];
					val[len] = u == t->con_total[r] ? 1.0 : -1.0;
				}
				int row = glp_add_rows(P, 1);
				glp_set_mat_row(P, row, len, ind, val);
				glp_set_row_bnds(P, row, GLP_FX, 0, 0);
			}
		}
	}
	{
		int row = glp_add_rows(P, 1);
		int q = pos[i] - 1;
		int ii[3] = {0, cp[q], cm[q]};
		double vv[3] = {0, 1.0, -1.0};
		glp_set_mat_row(P, row, 2, ii, vv);
		glp_set_row_bnds(P, row, GLP_LO, (double)ci->req_width, 0);
	}
	glp_iocp parm;
	glp_init_iocp(&parm);
	parm.msg_lev = GLP_MSG_OFF; /* per call, not the global glp_term_out */
	parm.presolve = GLP_ON;
	parm.tm_lim = (int)(c->o->mip_time_ms ? c->o->mip_time_ms : 2000);
	parm.mip_gap = 1e-6;
	int ret = glp_intopt(P, &parm);
	c->st->n_mip++;
	int ms = glp_mip_status(P);
	if ((ret == 0 || ret == GLP_ETMLIM) && (ms == GLP_OPT || ms == GLP_FEAS)) {
		*feasible = 1;
		for (size_t q = 0; q < n; q++)
			if (cs[q] && glp_mip_col_val(P, cs[q]) > 0.5)
				if (v32_push(chosen, N->v[q]))
					ret = -1;
	} else if (ret == GLP_ETMLIM || ret == 0) {
		/* no integer solution in time: round the LP relaxation up */
		glp_smcp sp;
		glp_init_smcp(&sp);
		sp.msg_lev = GLP_MSG_OFF;
		sp.presolve = GLP_ON;
		if (glp_simplex(P, &sp) == 0 && glp_get_status(P) == GLP_OPT) {
			*feasible = 1;
			for (size_t q = 0; q < n; q++)
				if (cs[q] && glp_get_col_prim(P, cs[q]) > 1e-9)
					if (v32_push(chosen, N->v[q]))
						ret = -1;
		}
	}
	glp_delete_prob(P);
	lpg_disarm();
	if (ret == -1) {
		free(pos);
		free(cp);
		free(cm);
		free(cs);
		free(rowmark);
		free(ind);
		free(val);
		return diag_fail(d, EX_OSERR, "suppress: out of memory");
	}
out:
	free(pos);
	free(cp);
	free(cm);
	free(cs);
	free(rowmark);
	free(ind);
	free(val);
	return 0;
}

/* Room of cell j above / below x*, as the attacker would see it if j were
 * hidden (current bounds for cells already hidden or interval-published). */
static void rooms_hyp(const ctx *c, uint32_t j, double *up, double *dn)
{
	const sdct_cell *cl = &c->t->cells[j];
	int64_t lo, hi;
	cell_bounds(cl, !sdct_is_var(cl), &lo, &hi);
	*up = hi == SDCT_INF ? HUGE_VAL : (double)(hi - c->x[j]);
	*dn = (double)(c->x[j] - lo);
}

/* Global phase of the GLPK method: one MIP over the binaries s_j of every
 * published cell (1 = hide), in two parts.
 *
 * Relaxation rows, the conditions each single constraint imposes:
 *   - no hidden cell is alone in a constraint (it would be recomputed);
 *   - for a primary cell i in constraint r, the other cells of r can absorb
 *     the moves protection needs: raising i needs room N_up =
 *     max(U, W - room_below(i)) in the other parts going down or the total
 *     going up; lowering i likewise with N_dn (roles swapped when i is the
 *     total).  Each cell contributes min(its room, N).
 *
 * Capacity cuts (Fischetti & Salazar-Gonzalez), generated: the attacker
 * LP checks every primary cell against the MIP's choice; for each cell i
 * it finds unprotected, an LP over the whole table (deviations y from the
 * reference table, y_j = 0 for published cells, within the rooms of hidden
 * ones) maximises and minimises y_i.  Its reduced costs d_j bound the
 * attacker for EVERY choice s (weak duality: the row duals stay feasible
 * whatever the bounds):
 *       max y_i <= sum_j s_j (d_j+ room_up_j + d_j- room_dn_j)
 * so "max y_i >= U", "-min y_i >= D" and "max - min >= W" become linear
 * cuts in s that the current choice violates.  The MIP is solved again
 * with them, until its choice protects every primary cell or the budget
 * (global_time_ms) runs out.  All rows are valid for every protecting
 * suppression, so each optimum is a lower bound on the best one.
 *
 * Cells the last MIP chooses become secondary; the per-cell phase repairs
 * whatever is still open (when the rounds were cut short), and the
 * clean-up removes what turns out unnecessary.  *lower_bound gets the
 * last proven bound. */

/* The cuts, in the arrays GLPK reads: the entries of cut k are
 * ind/val[start[k] .. start[k+1] - 1], its right-hand side rhs[k].  Entry 0
 * is never used, so that ind + start[k] - 1 (GLPK reads a row's entries
 * from index 1) always points into the arrays.  Grown with core/vec;
 * gc_init makes the empty set, gc_free releases it. */
typedef struct gcuts {
	int *ind;                /* columns (1-based) of all cuts, end to end */
	double *val;
	size_t n, cap_ind, cap_val;        /* entries, entry 0 included */
	size_t *start;                     /* n_cut + 1 of them */
	double *rhs;                       /* n_cut of them */
	size_t n_cut, cap_start, cap_rhs;
} gcuts;

static int gc_push(gcuts *g, int col, double v)
{
	/* vec_push advances its count; the two arrays share g->n. */
	size_t ni = g->n;
	size_t nv = ni;
	int *a = vec_push(&g->ind, &ni, &g->cap_ind, sizeof *g->ind);
	double *b = a ? vec_push(&g->val, &nv, &g->cap_val, sizeof *g->val) : NULL;
	if (!b)
		return -1;
	*a = col;
	*b = v;
	g->n++;
	return 0;
}

/* Close the cut whose entries were pushed since the last close. */
static int gc_close(gcuts *g, double rhs)
{
	size_t ns = g->n_cut + 1, nr = g->n_cut;
	size_t *a = vec_push(&g->start, &ns, &g->cap_start, sizeof *g->start);
	double *b = a ? vec_push(&g->rhs, &nr, &g->cap_rhs, sizeof *g->rhs) : NULL;
	if (!b)
		return -1;
	*a = g->n;
	*b = rhs;
	g->n_cut++;
	return 0;
}

/* No cuts yet: entry 0 (unused) and start[0] = 1. */
static int gc_init(gcuts *g)
{
	memset(g, 0, sizeof *g);
	size_t ns = 0;
	size_t *a = vec_push(&g->start, &ns, &g->cap_start, sizeof *g->start);
	if (!a || gc_push(g, 0, 0) != 0)
		return -1;
	*a = 1;
	return 0;
}

static void gc_free(gcuts *g)
{
	free(g->ind);
	free(g->val);
	free(g->start);
	free(g->rhs);
}

/* The relaxation rows of the global MIP (columns col[j] exist already). */
static void glob_relax(ctx *c, glp_prob *P, const int *col, int *ind, double *val,
                       uint32_t *cells)
{
	sdct_table *t = c->t;
	for (size_t r = 0; r < t->n_cons; r++) {
		size_t n = 0, nfix = 0;
		cells[n++] = t->con_total[r];
		for (uint32_t e = t->con_start[r]; e < t->con_start[r + 1]; e++)
			cells[n++] = t->con_parts[e];
		for (size_t q = 0; q < n; q++)
			nfix += !col[cells[q]];
		/* no lone hidden cell */
		if (nfix == 0) {
			for (size_t q = 0; q < n; q++) {
				int len = 0;
				for (size_t e = 0; e < n; e++) {
					ind[++len] = col[cells[e]];
					val[len] = e == q ? 1.0 : -1.0;
				}
				int row = glp_add_rows(P, 1);
				glp_set_mat_row(P, row, len, ind, val);
				glp_set_row_bnds(P, row, GLP_UP, 0, 0);
			}
		}
		/* capacities around each primary (and the lone-fixed-cell rule) */
		for (size_t q = 0; q < n; q++) {
			uint32_t i = cells[q];
			if (col[i])
				continue;
			const sdct_cell *ci = &t->cells[i];
			double ru_i, rd_i;
			rooms_hyp(c, i, &ru_i, &rd_i);
			double U = 0, D = 0, W = 0;
			if (ci->status == SDCT_PRIMARY) {
				U = (double)(ci->req_hi - c->x[i]);
				D = (double)(c->x[i] - ci->req_lo);
				W = (double)ci->req_width;
			}
			for (int dir = 0; dir < 2; dir++) {
				/* dir 0: raise i; dir 1: lower i */
				double N = dir == 0 ? fmax(U, W - rd_i) : fmax(D, W - ru_i);
				if (ci->status != SDCT_PRIMARY || N < 1)
					N = nfix == 1 ? 1 : 0; /* only "not alone" */
				if (N <= 0)
					continue;
				int len = 0;
				double rhs = N;
				for (size_t e = 0; e < n; e++) {
					if (e == q)
						continue;
					uint32_t k = cells[e];
					double ru, rd;
					rooms_hyp(c, k, &ru, &rd);
					/* same side as i moves the other way, total the same way */
					int same_way = (q == 0) != (e == 0);
					double room = (dir == 0) == same_way ? ru : rd;
					double cf = fmin(room, N);
					if (cf <= 0)
						continue;
					if (col[k]) {
						ind[++len] = col[k];
						val[len] = cf;
					} else {
						rhs -= cf;
					}
				}
				if (rhs <= 1e-9)
					continue;
				int row = glp_add_rows(P, 1);
				glp_set_mat_row(P, row, len, ind, val);
				glp_set_row_bnds(P, row, GLP_LO, rhs, 0);
			}
		}
	}
}

/* One solve of the global MIP: the relaxation plus the cuts.  sel[k]
 * (k = 1 .. ncol) gets the chosen candidates; *found = 0 when GLPK found
 * no solution in time; *bound the optimum when proven (else 0). */
static int glob_solve(ctx *c, const int *col, int ncol, const gcuts *G, unsigned tm_ms,
                      uint8_t *sel, int *found, double *bound, diag *d)
{
	sdct_table *t = c->t;
	*found = 0;
	*bound = 0;
	size_t maxr = 2;
	for (size_t r = 0; r < t->n_cons; r++) {
		size_t len = t->con_start[r + 1] - t->con_start[r] + 1;
		if (len + 1 > maxr)
			maxr = len + 1;
	}
	int *ind = malloc((maxr + 1) * sizeof *ind);
	double *val = malloc((maxr + 1) * sizeof *val);
	uint32_t *cells = malloc((maxr + 1) * sizeof *cells);
	if (!ind || !val || !cells) {
		free(ind);
		free(val);
		free(cells);
		return diag_fail(d, EX_OSERR, "suppress: out of memory");
	}
	lpguard g;
	lpg_arm(&g);
	if (setjmp(g.jb)) {
		free(ind);
		free(val);
		free(cells);
		lpg_fail(&g, "suppress", d);
		sdca_attacker_lp_lost(c->att, d->msg); /* GLPK freed it */
		return -1;
	}
	glp_prob *P = glp_create_prob();
	glp_set_obj_dir(P, GLP_MIN);
	glp_add_cols(P, ncol);
	for (size_t j = 0; j < t->n_cells; j++)
		if (col[j]) {
			glp_set_col_kind(P, col[j], GLP_BV);
			glp_set_obj_coef(P, col[j], t->cells[j].cost);
		}
	glob_relax(c, P, col, ind, val, cells);
	for (size_t k = 0; k < G->n_cut; k++) {
		int row = glp_add_rows(P, 1);
		size_t a = G->start[k];
		/* GLPK reads entries 1..len: pass the arrays one before the cut
		 * (a >= 1: entry 0 is never a cut's) */
		glp_set_mat_row(P, row, (int)(G->start[k + 1] - a), G->ind + a - 1, G->val + a - 1);
		glp_set_row_bnds(P, row, GLP_LO, G->rhs[k], 0);
	}
	glp_iocp parm;
	glp_init_iocp(&parm);
	parm.msg_lev = GLP_MSG_OFF; /* per call, not the global glp_term_out */
	parm.presolve = GLP_ON;
	parm.fp_heur = GLP_ON;
	parm.tm_lim = (int)tm_ms;
	parm.mip_gap = 1e-4;
	int ret = glp_intopt(P, &parm);
	int ms = glp_mip_status(P);
	c->st->n_mip++;
	if ((ret == 0 || ret == GLP_ETMLIM) && (ms == GLP_OPT || ms == GLP_FEAS)) {
		*found = 1;
		for (int k = 1; k <= ncol; k++)
			sel[k] = glp_mip_col_val(P, k) > 0.5;
		*bound = ms == GLP_OPT ? glp_mip_obj_val(P) : 0;
	}
	glp_delete_prob(P);
	lpg_disarm();
	free(ind);
	free(val);
	free(cells);
	return 0;
}

/* Capacity cuts for the unprotected primaries fail[0 .. nf-1] (primary
 * numbers) under the current statuses, appended to G.  rows of the LP are
 * the table's constraints, its columns the cells' deviations. */
static int glob_cuts(ctx *c, const int *col, const uint32_t *fail, size_t nf, gcuts *G,
                     diag *d)
{
	sdct_table *t = c->t;
	size_t nc = t->n_cells;
	size_t maxr = 2;
	for (size_t r = 0; r < t->n_cons; r++) {
		size_t len = t->con_start[r + 1] - t->con_start[r] + 1;
		if (len + 1 > maxr)
			maxr = len + 1;
	}
	int *ind = malloc((maxr + 1) * sizeof *ind);
	double *val = malloc((maxr + 1) * sizeof *val);
	double *dup = malloc((nc + 1) * sizeof *dup), *ddn = malloc((nc + 1) * sizeof *ddn);
	double *ru = malloc((nc + 1) * sizeof *ru), *rd = malloc((nc + 1) * sizeof *rd);
	if (!ind || !val || !dup || !ddn || !ru || !rd) {
		free(ind);
		free(val);
		free(dup);
		free(ddn);
		free(ru);
		free(rd);
		return diag_fail(d, EX_OSERR, "suppress: out of memory");
	}
	for (size_t j = 0; j < nc; j++)
		rooms_hyp(c, (uint32_t)j, &ru[j], &rd[j]);
	int rc = 0;
	lpguard g;
	lpg_arm(&g);
	if (setjmp(g.jb)) {
		free(ind);
		free(val);
		free(dup);
		free(ddn);
		free(ru);
		free(rd);
		lpg_fail(&g, "suppress", d);
		sdca_attacker_lp_lost(c->att, d->msg); /* GLPK freed it */
		return -1;
	}
	glp_prob *P = glp_create_prob();
	glp_add_cols(P, (int)nc);
	for (size_t j = 0; j < nc; j++) {
		int cj = (int)j + 1;
		if (!sdct_is_var(&t->cells[j]))
			glp_set_col_bnds(P, cj, GLP_FX, 0, 0);
		else if (ru[j] == HUGE_VAL)
			glp_set_col_bnds(P, cj, GLP_LO, -rd[j], 0);
		else
			glp_set_col_bnds(P, cj, ru[j] + rd[j] > 0 ? GLP_DB : GLP_FX, -rd[j], ru[j]);
	}
	glp_add_rows(P, (int)t->n_cons);
	for (size_t r = 0; r < t->n_cons; r++) {
		int len = 0;
		ind[++len] = (int)t->con_total[r] + 1;
		val[len] = 1.0;
		for (uint32_t e = t->con_start[r]; e < t->con_start[r + 1]; e++) {
			ind[++len] = (int)t->con_parts[e] + 1;
			val[len] = -1.0;
		}
		glp_set_mat_row(P, (int)r + 1, len, ind, val);
		glp_set_row_bnds(P, (int)r + 1, GLP_FX, 0, 0);
	}
	glp_smcp sp;
	glp_init_smcp(&sp);
	sp.msg_lev = GLP_MSG_OFF;
	sp.presolve = GLP_OFF; /* the reduced costs are wanted */
	for (size_t f = 0; f < nf && !rc; f++) {
		uint32_t i = c->prim[fail[f]];
		const sdct_cell *ci = &t->cells[i];
		double U = (double)(ci->req_hi - c->x[i]), D = (double)(c->x[i] - ci->req_lo);
		double W = (double)ci->req_width;
		double cap[2];     /* attacker's reach up, down at the current s */
		int bounded[2];
		glp_set_obj_coef(P, (int)i + 1, 1.0);
		for (int dir = 0; dir < 2; dir++) {
			double *dd = dir ? ddn : dup;
			glp_set_obj_dir(P, dir ? GLP_MIN : GLP_MAX);
			bounded[dir] = 0;
			cap[dir] = HUGE_VAL;
			if (glp_simplex(P, &sp) != 0) {
				glp_adv_basis(P, 0); /* a fresh start after a failure */
				if (glp_simplex(P, &sp) != 0)
					continue;
			}
			if (glp_get_status(P) != GLP_OPT)
				continue; /* unbounded: that side is protected */
			bounded[dir] = 1;
			cap[dir] = dir ? -glp_get_obj_val(P) : glp_get_obj_val(P);
			for (size_t j = 0; j < nc; j++) {
				double dj = glp_get_col_dual(P, (int)j + 1);
				/* dir 1 minimises y_i, i.e. maximises -y_i: flip */
				dd[j] = dir ? -dj : dj;
			}
		}
		glp_set_obj_coef(P, (int)i + 1, 0.0);
		/* the cuts the current choice violates */
		for (int kind = 0; kind < 3 && !rc; kind++) {
			double need = kind == 0 ? U : kind == 1 ? D : W;
			if (need <= 0)
				continue;
			int use_up = kind != 1, use_dn = kind != 0;
			if ((use_up && !bounded[0]) || (use_dn && !bounded[1]))
				continue;
			double have = (use_up ? cap[0] : 0) + (use_dn ? cap[1] : 0);
			if (have >= need - 1e-6)
				continue;
			double rhs = need;
			size_t mark = G->n;
			/* constants first (cells hidden whatever s is) */
			for (size_t j = 0; j < nc; j++) {
				if (col[j])
					continue;
				double a = 0;
				if (use_up)
					a += (dup[j] > 1e-9 ? dup[j] * ru[j] : 0) +
					     (dup[j] < -1e-9 ? -dup[j] * rd[j] : 0);
				if (use_dn)
					a += (ddn[j] > 1e-9 ? ddn[j] * ru[j] : 0) +
					     (ddn[j] < -1e-9 ? -ddn[j] * rd[j] : 0);
				if (sdct_is_var(&t->cells[j]))
					rhs -= a;
			}
			if (rhs <= 1e-6)
				continue; /* numerically a non-cut */
			for (size_t j = 0; j < nc && !rc; j++) {
				if (!col[j])
					continue;
				double a = 0;
				if (use_up)
					a += (dup[j] > 1e-9 ? fmin(dup[j] * ru[j], rhs) : 0) +
					     (dup[j] < -1e-9 ? fmin(-dup[j] * rd[j], rhs) : 0);
				if (use_dn)
					a += (ddn[j] > 1e-9 ? fmin(ddn[j] * ru[j], rhs) : 0) +
					     (ddn[j] < -1e-9 ? fmin(-ddn[j] * rd[j], rhs) : 0);
				a = fmin(a, rhs);
				if (a > 1e-9 && gc_push(G, col[j], a))
					rc = -1;
			}
			if (!rc && G->n == mark)
				continue; /* nothing can help: leave it to the per-cell phase */
			if (!rc && gc_close(G, rhs))
				rc = -1;
		}
	}
	glp_delete_prob(P);
	lpg_disarm();
	free(ind);
	free(val);
	free(dup);
	free(ddn);
	free(ru);
	free(rd);
	return rc ? diag_fail(d, EX_OSERR, "suppress: out of memory") : 0;
}

static int global_phase(ctx *c, double *lower_bound, diag *d)
{
	sdct_table *t = c->t;
	*lower_bound = 0;
	int *col = calloc(t->n_cells + 1, sizeof *col);
	uint32_t *cand = malloc((t->n_cells + 1) * sizeof *cand);
	uint8_t *sel = calloc(t->n_cells + 1, 1);
	uint32_t *fail = malloc((c->n_prim + 1) * sizeof *fail);
	gcuts G;
	int rc = 0;
	if (gc_init(&G) != 0 || !col || !cand || !sel || !fail) {
		rc = diag_fail(d, EX_OSERR, "suppress: out of memory");
		goto out;
	}
	int ncol = 0;
	for (size_t j = 0; j < t->n_cells; j++)
		if (!sdct_is_var(&t->cells[j])) {
			col[j] = ++ncol;
			cand[ncol - 1] = (uint32_t)j;
		}
	if (ncol == 0)
		goto out; /* nothing to choose from */
	unsigned budget = c->o->global_time_ms ? c->o->global_time_ms : 20000;
	double t0 = now(), t_end = t0 + budget / 1000.0;
	size_t max_rounds = c->o->global_rounds ? c->o->global_rounds : SIZE_MAX;
	for (size_t round = 0; !rc && round < max_rounds; round++) {
		double left = t_end - now();
		if (round > 0 && left < 0.2)
			break;
		int found;
		double bound;
		/* The first MIP may take the whole budget (it did alone
		 * before the cuts).  The later ones share at most five times
		 * what it took, plus half a second, a sixth of the budget each
		 * at most: GLPK seldom proves them optimal, and their
		 * incumbents after a few seconds are what counts.  Measured on
		 * the 200 random tables of the unit test (1-3 dimensions, up to
		 * 576 cells): secondaries 2052 -> 1875 in 18 -> 28 s; with the
		 * whole budget for the rounds, 1844 in 91 s. */
		unsigned tm = round == 0 ? budget : (unsigned)(fmin(left, budget / 6000.0) * 1000.0);
		if ((rc = glob_solve(c, col, ncol, &G, tm, sel, &found, &bound, d)))
			break;
		if (round == 0) {
			double t1 = now(), e = t1 + 5 * (t1 - t0) + 0.5;
			if (e < t_end)
				t_end = e;
		}
		if (!found)
			break; /* the last choice stays; the per-cell phase repairs */
		if (bound > *lower_bound)
			*lower_bound = bound;
		for (int k = 1; k <= ncol; k++)
			set_status(c, cand[k - 1], sel[k] ? SDCT_SECONDARY : SDCT_PUBLISHED);
		size_t nf = 0;
		for (size_t p = 0; p < c->n_prim && !rc; p++) {
			int ok;
			if ((rc = lp_certify(c, p, &ok, d)))
				break;
			if (!ok)
				fail[nf++] = (uint32_t)p;
		}
		size_t before = G.n_cut;
		if (!rc && nf && round + 1 < max_rounds)
			rc = glob_cuts(c, col, fail, nf, &G, d);
		if (rc || !nf || G.n_cut == before)
			break;
	}
out:
	gc_free(&G);
	free(fail);
	free(sel);
	free(cand);
	free(col);
	return rc;
}

/* Last resort for primary number p: hide every published cell, certify,
 * then publish again every cell so hidden that the witness does not move
 * (witnesses of other primaries never move a cell that was published, so
 * they stay valid).  Only if even that fails is the cell unprotectable. */
static int protect_all(ctx *c, size_t p, diag *d)
{
	sdct_table *t = c->t;
	vec32 hid = {0};
	int rc = 0, ok = 0;
	for (size_t j = 0; j < t->n_cells && !rc; j++)
		if (t->cells[j].status == SDCT_PUBLISHED) {
			if (v32_push(&hid, (uint32_t)j))
				rc = diag_fail(d, EX_OSERR, "suppress: out of memory");
			else
				set_status(c, (uint32_t)j, SDCT_SECONDARY);
		}
	if (!rc)
		rc = lp_certify(c, p, &ok, d);
	if (!rc && !ok) {
		char lab[256];
		rc = diag_fail(d, EX_DATAERR,
		               "suppress: primary cell '%s' cannot be protected, even with every "
		               "other cell suppressed (public bounds or the table's structure pin it)",
		               sdct_label(t, c->prim[p], lab, sizeof lab));
	}
	for (uint32_t k = 0; k < hid.n; k++) {
		uint32_t j = hid.v[k];
		if (rc || !support_has(c, p, j))
			set_status(c, j, SDCT_PUBLISHED);
	}
	free(hid.v);
	return rc;
}

/* Protect primary number p, whatever it takes: the attacker LP first (it
 * may be protected already), then the cheapest cells of a neighbourhood
 * by MIP, then partners one by one, then the last resort. */
static int protect_one(ctx *c, size_t p, int use_mip, vec32 *N, vec32 *chosen, diag *d)
{
	int ok;
	if (lp_certify(c, p, &ok, d))
		return -1;
	if (ok)
		return 0;
	if (use_mip) {
		int feasible = 0;
		size_t cap = c->o->mip_max_cells ? c->o->mip_max_cells : 300;
		if (neighbourhood(c, c->prim[p], cap, N, d) ||
		    select_mip(c, p, N, chosen, &feasible, d))
			return -1;
		if (feasible) {
			for (size_t q = 0; q < chosen->n; q++)
				set_status(c, chosen->v[q], SDCT_SECONDARY);
			if (lp_certify(c, p, &ok, d))
				return -1;
			if (ok)
				return 0;
		}
	}
	/* After a failed MIP, the witnesses of the attacker with every cell
	 * hidden (protect_all) give a small protecting set at once; the
	 * one-at-a-time partner search was measured to hide 100-600 cells
	 * for one small world total of the cube, then left the clean-up to
	 * undo them slowly.  Without a MIP (method_partner) partners come
	 * first: they keep the hidden set local on tables too large for an
	 * attacker LP over everything. */
	if (use_mip)
		return protect_all(c, p, d);
	int rc = protect_partner(c, p, d);
	if (rc <= 0)
		return rc;
	return protect_all(c, p, d);
}

static int method_glpk(ctx *c, diag *d)
{
	double lb = 0;
	if (!c->o->no_global && global_phase(c, &lb, d))
		return -1;
	c->st->lower_bound = lb;
	vec32 N = {0}, chosen = {0};
	int rc = 0;
	for (size_t p = 0; p < c->n_prim && !rc; p++)
		rc = protect_one(c, p, 1, &N, &chosen, d);
	free(N.v);
	free(chosen.v);
	return rc;
}

/* ---------------------------------------------------------------- 5 --- */

#define HX_MAXV 24        /* candidate 1-D vectors per dimension */
#define HX_MAXLEN 24      /* entries of one 1-D vector */
#define HX_MAXSUP 4096    /* cells of one pattern */
#define HX_MAXPAT 24      /* patterns per primary cell */

typedef struct hx_vec {
	uint32_t code[HX_MAXLEN];
	int8_t sign[HX_MAXLEN];
	uint32_t len;
	double lcost;          /* cost of its cells on i's line */
	int64_t gain;          /* deficit reduction its line cells allow at most */
} hx_vec;

typedef struct hx {
	ctx *c;
	sdct_table *t;
	size_t k;
	int64_t *devp, *devm;  /* deviations of the two witness tables */
	uint32_t *touched;
	size_t n_touched;
	uint8_t *tmark;
	hx_vec *vecs;          /* k * HX_MAXV */
	size_t nvec[16];
	size_t ord[16];
	uint32_t co[16];
	uint32_t i;
	/* requirement and progress of the current cell */
	int64_t U, D, W, cu, cd;
	/* search */
	uint32_t *scell;       /* partial support stack */
	int8_t *ssign;
	size_t lvl_end[17];
	double lvl_cost[17];
	int64_t lvl_up[17], lvl_dn[17];
	size_t choice[16], best_choice[16];
	double best_score;
	int64_t best_up, best_dn;
	int found, free_only;
	int64_t def0;          /* deficit before the pattern being searched */
	size_t budget;
	double lambda;
	uint32_t *rowmark;     /* constraints checked by hx_verify (stamp) */
	uint32_t rowstamp;
	struct hx_wit *wit;    /* per primary: its last verified witnesses */
} hx;

/* The two witness tables of a primary as moves from the reference table:
 * what becomes its certificate (privacy/suppcert.h). */
typedef struct hx_wit {
	uint32_t *cell;
	int64_t *up, *dn;
	uint32_t n, cap;
	int valid;
} hx_wit;

static void hx_wit_free(hx_wit *w)
{
	free(w->cell);
	free(w->up);
	free(w->dn);
	memset(w, 0, sizeof *w);
}

/* Store the moves of the verified witnesses (touched cells, deviations
 * devp / devm) as the witness of primary number p. */
static int hx_wit_store(hx *h, size_t p)
{
	hx_wit *w = &h->wit[p];
	w->valid = 0;
	if (h->n_touched > w->cap) {
		uint32_t nc = (uint32_t)h->n_touched;
		uint32_t *c2 = realloc(w->cell, nc * sizeof *c2);
		if (c2)
			w->cell = c2;
		int64_t *u2 = c2 ? realloc(w->up, nc * sizeof *u2) : NULL;
		if (u2)
			w->up = u2;
		int64_t *d2 = u2 ? realloc(w->dn, nc * sizeof *d2) : NULL;
		if (!d2)
			return -1;
		w->dn = d2;
		w->cap = nc;
	}
	for (size_t q = 0; q < h->n_touched; q++) {
		uint32_t j = h->touched[q];
		w->cell[q] = j;
		w->up[q] = h->devp[j];
		w->dn[q] = h->devm[j];
	}
	w->n = (uint32_t)h->n_touched;
	w->valid = 1;
	return 0;
}

static int64_t i64min(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t i64max(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* Deficit left after using capacities (aup, adn) as well as possible. */
static int64_t hx_deficit(const hx *h, int64_t aup, int64_t adn, int64_t *tu, int64_t *td)
{
	int64_t wu = i64max(i64max(h->U - h->cu, h->W - h->cu - h->cd), 0);
	int64_t t_up = i64min(aup, wu);
	int64_t cu = h->cu + t_up;
	int64_t wd = i64max(i64max(h->D - h->cd, h->W - cu - h->cd), 0);
	int64_t t_dn = i64min(adn, wd);
	int64_t cd = h->cd + t_dn;
	if (tu)
		*tu = t_up;
	if (td)
		*td = t_dn;
	return i64max(h->U - cu, 0) + i64max(h->D - cd, 0) + i64max(h->W - cu - cd, 0);
}

/* How far the up witness (raising i) and the down witness can move cell j
 * with sign s before j leaves its attacker bounds. */
static void hx_rooms(const hx *h, uint32_t j, int s, int64_t *up, int64_t *dn)
{
	const sdct_cell *cl = &h->t->cells[j];
	int64_t lo, hi;
	cell_bounds(cl, !sdct_is_var(cl), &lo, &hi);
	int64_t wp = h->c->x[j] + h->devp[j], wm = h->c->x[j] + h->devm[j];
	if (s > 0) {
		*up = hi == SDCT_INF ? SDCT_INF / 4 : hi - wp;
		*dn = wm - lo;
	} else {
		*up = wp - lo;
		*dn = hi == SDCT_INF ? SDCT_INF / 4 : hi - wm;
	}
	if (*up < 0)
		*up = 0;
	if (*dn < 0)
		*dn = 0;
}

static double hx_cost(const hx *h, uint32_t j)
{
	const sdct_cell *cl = &h->t->cells[j];
	return sdct_is_var(cl) ? 0.0 : cl->cost;
}

static uint32_t hx_line(const hx *h, size_t dd, uint32_t code)
{
	const sdct_xdim *x = &h->t->dims[dd];
	return h->i - h->co[dd] * x->stride + code * x->stride;
}

/* Greedy chain from code q down to a leaf, appended with sign s. */
static int hx_down(const hx *h, size_t dd, uint32_t q, int s, hx_vec *v, int skip_first_best)
{
	const sdct_xdim *x = &h->t->dims[dd];
	int first = 1;
	while (x->child_start[q + 1] > x->child_start[q]) {
		uint32_t best = UINT32_MAX, second = UINT32_MAX;
		double bs = 0, ss = 0;
		for (uint32_t k = x->child_start[q]; k < x->child_start[q + 1]; k++) {
			uint32_t ch = x->child[k];
			uint32_t cell = hx_line(h, dd, ch);
			/* hidden cells first, then the largest value */
			double sc = (sdct_is_var(&h->t->cells[cell]) ? 1e18 : 0) + (double)h->c->x[cell];
			if (best == UINT32_MAX || sc > bs) {
				second = best;
				ss = bs;
				best = ch;
				bs = sc;
			} else if (second == UINT32_MAX || sc > ss) {
				second = ch;
				ss = sc;
			}
		}
		uint32_t pick = (first && skip_first_best && second != UINT32_MAX) ? second : best;
		if (first && skip_first_best && second == UINT32_MAX)
			return -1;
		first = 0;
		if (v->len >= HX_MAXLEN)
			return -1;
		v->code[v->len] = pick;
		v->sign[v->len++] = (int8_t)s;
		q = pick;
	}
	return 0;
}

/* Order of candidate vectors: cheap first, then more capacity, then short. */
static int hx_before(const hx_vec *a, const hx_vec *b)
{
	if (a->lcost != b->lcost)
		return a->lcost < b->lcost;
	if (a->gain != b->gain)
		return a->gain > b->gain;
	return a->len < b->len;
}

static void hx_addvec(hx *h, size_t dd, const hx_vec *v)
{
	hx_vec *arr = &h->vecs[dd * HX_MAXV];
	hx_vec w = *v;
	w.lcost = 0;
	/* the line cells (the pattern's cells that differ from i only in this
	 * dimension) bound the capacity of every pattern using the vector */
	int64_t up, dn;
	hx_rooms(h, h->i, 1, &up, &dn);
	for (uint32_t e = 1; e < w.len; e++) {
		uint32_t j = hx_line(h, dd, w.code[e]);
		int64_t ru, rd;
		w.lcost += hx_cost(h, j);
		hx_rooms(h, j, w.sign[e], &ru, &rd);
		up = i64min(up, ru);
		dn = i64min(dn, rd);
	}
	int64_t def0 = hx_deficit(h, 0, 0, NULL, NULL);
	w.gain = def0 - hx_deficit(h, up, dn, NULL, NULL);
	if (w.gain <= 0 && w.len > 1)
		return; /* useless whatever the other dimensions do */
	/* keep the HX_MAXV best */
	size_t n = h->nvec[dd];
	if (n == HX_MAXV) {
		if (!hx_before(&w, &arr[n - 1]))
			return;
		n--;
	}
	size_t pos = n;
	while (pos > 0 && hx_before(&w, &arr[pos - 1])) {
		arr[pos] = arr[pos - 1];
		pos--;
	}
	arr[pos] = w;
	h->nvec[dd] = n + 1;
}

/* The 1-D balanced vectors through i's code in dimension dd (first entry
 * is always i's code with sign +). */
static void hx_gen(hx *h, size_t dd)
{
	const sdct_xdim *x = &h->t->dims[dd];
	uint32_t c0 = h->co[dd];
	int32_t par = x->parent[c0];
	int leaf = x->child_start[c0 + 1] == x->child_start[c0];
	h->nvec[dd] = 0;
	for (int alt = 0; alt < (leaf ? 1 : 2); alt++) {
		hx_vec base;
		base.len = 1;
		base.code[0] = c0;
		base.sign[0] = 1;
		if (!leaf && hx_down(h, dd, c0, 1, &base, alt))
			continue;
		if (par < 0) {
			hx_addvec(h, dd, &base);
			continue;
		}
		/* sibling: c0 (+) against s (-) under the same parent */
		for (uint32_t q = x->child_start[par]; q < x->child_start[par + 1]; q++) {
			uint32_t s = x->child[q];
			if (s == c0)
				continue;
			hx_vec v = base;
			if (v.len >= HX_MAXLEN)
				continue;
			v.code[v.len] = s;
			v.sign[v.len++] = -1;
			if (hx_down(h, dd, s, -1, &v, 0) == 0)
				hx_addvec(h, dd, &v);
		}
		/* path up to the root, all + */
		{
			hx_vec v = base;
			int okp = 1;
			for (int32_t a = par; a >= 0; a = x->parent[a]) {
				if (v.len >= HX_MAXLEN) {
					okp = 0;
					break;
				}
				v.code[v.len] = (uint32_t)a;
				v.sign[v.len++] = 1;
			}
			if (okp)
				hx_addvec(h, dd, &v);
		}
		/* cousins: up to the parent (+), across to its sibling (-) */
		int32_t g = x->parent[par];
		if (g >= 0)
			for (uint32_t q = x->child_start[g]; q < x->child_start[g + 1]; q++) {
				uint32_t b = x->child[q];
				if (b == (uint32_t)par)
					continue;
				hx_vec v = base;
				if (v.len + 2 > HX_MAXLEN)
					continue;
				v.code[v.len] = (uint32_t)par;
				v.sign[v.len++] = 1;
				v.code[v.len] = b;
				v.sign[v.len++] = -1;
				if (hx_down(h, dd, b, -1, &v, 0) == 0)
					hx_addvec(h, dd, &v);
			}
	}
}

static double hx_score(const hx *h, double cost, int64_t up, int64_t dn)
{
	int64_t def = hx_deficit(h, up, dn, NULL, NULL);
	if (h->free_only)
		return (double)def;
	return cost + h->lambda * (double)def;
}

static void hx_dfs(hx *h, size_t L)
{
	if (h->budget == 0)
		return;
	if (L == h->k) {
		double sc = hx_score(h, h->lvl_cost[L], h->lvl_up[L], h->lvl_dn[L]);
		if (sc < h->best_score) {
			h->best_score = sc;
			h->best_up = h->lvl_up[L];
			h->best_dn = h->lvl_dn[L];
			memcpy(h->best_choice, h->choice, sizeof h->choice);
			h->found = 1;
			/* a free pattern that closes the deficit cannot be beaten
			 * (later ties never replace it): stop searching */
			if (h->free_only && sc <= 0)
				h->budget = 0;
		}
		return;
	}
	size_t dd = h->ord[L];
	const sdct_xdim *x = &h->t->dims[dd];
	const hx_vec *arr = &h->vecs[dd * HX_MAXV];
	size_t prev = h->lvl_end[L];
	for (size_t vi = 0; vi < h->nvec[dd] && h->budget; vi++) {
		const hx_vec *v = &arr[vi];
		if (prev * v->len > HX_MAXSUP)
			continue;
		double cost = h->lvl_cost[L];
		int64_t up = h->lvl_up[L], dn = h->lvl_dn[L];
		size_t end = prev;
		int pruned = 0;
		for (uint32_t e = 1; e < v->len && !pruned; e++) {
			int64_t delta = ((int64_t)v->code[e] - (int64_t)h->co[dd]) * (int64_t)x->stride;
			for (size_t q = 0; q < prev; q++) {
				uint32_t j = (uint32_t)((int64_t)h->scell[q] + delta);
				int s = h->ssign[q] * v->sign[e];
				h->scell[end] = j;
				h->ssign[end] = (int8_t)s;
				end++;
				double cj = hx_cost(h, j);
				if (cj > 0 && h->free_only) {
					pruned = 1;
					break;
				}
				cost += cj;
				int64_t ru, rd;
				hx_rooms(h, j, s, &ru, &rd);
				if (ru < up)
					up = ru;
				if (rd < dn)
					dn = rd;
				if (h->budget)
					h->budget--;
			}
			/* bound: cost only grows and capacities only shrink */
			if (!pruned && (hx_score(h, cost, up, dn) >= h->best_score ||
			                hx_deficit(h, up, dn, NULL, NULL) >= h->def0))
				pruned = 1;
		}
		if (pruned)
			continue;
		h->choice[dd] = vi;
		h->lvl_end[L + 1] = end;
		h->lvl_cost[L + 1] = cost;
		h->lvl_up[L + 1] = up;
		h->lvl_dn[L + 1] = dn;
		hx_dfs(h, L + 1);
	}
}

/* Rebuild the chosen pattern into scell/ssign; returns its size. */
static size_t hx_materialize(hx *h)
{
	size_t n = 1;
	h->scell[0] = h->i;
	h->ssign[0] = 1;
	for (size_t L = 0; L < h->k; L++) {
		size_t dd = h->ord[L];
		const hx_vec *v = &h->vecs[dd * HX_MAXV + h->best_choice[dd]];
		size_t prev = n;
		for (uint32_t e = 1; e < v->len; e++) {
			int64_t delta = ((int64_t)v->code[e] - (int64_t)h->co[dd]) *
			                (int64_t)h->t->dims[dd].stride;
			for (size_t q = 0; q < prev; q++) {
				h->scell[n] = (uint32_t)((int64_t)h->scell[q] + delta);
				h->ssign[n] = (int8_t)(h->ssign[q] * v->sign[e]);
				n++;
			}
		}
	}
	return n;
}

static int hx_touch(hx *h, uint32_t j)
{
	if (h->tmark[j])
		return 0;
	h->tmark[j] = 1;
	h->touched[h->n_touched++] = j;
	return 0;
}

static void hx_reset(hx *h)
{
	for (size_t q = 0; q < h->n_touched; q++) {
		uint32_t j = h->touched[q];
		h->devp[j] = h->devm[j] = 0;
		h->tmark[j] = 0;
	}
	h->n_touched = 0;
}

static int hx_search(hx *h, int free_only, size_t budget)
{
	h->free_only = free_only;
	h->budget = budget;
	h->found = 0;
	int64_t def0 = hx_deficit(h, 0, 0, NULL, NULL);
	h->def0 = def0;
	/* only patterns that reduce the deficit are of any use */
	h->best_score = free_only ? (double)def0 : HUGE_VAL;
	h->lvl_end[0] = 1;
	h->scell[0] = h->i;
	h->ssign[0] = 1;
	h->lvl_cost[0] = 0;
	hx_rooms(h, h->i, 1, &h->lvl_up[0], &h->lvl_dn[0]);
	hx_dfs(h, 0);
	if (!h->found)
		return 0;
	return hx_deficit(h, h->best_up, h->best_dn, NULL, NULL) < def0;
}

/* The independent check of the two witness tables x* + devp and x* + devm
 * built from patterns: every moved cell is an unknown of the attacker and
 * stays within its attacker bounds, every constraint touching a moved
 * cell still adds up, and cell i reaches its requirement.  Only this check
 * lets a pattern witness count: the search itself is never trusted. */
static int hx_verify(hx *h)
{
	const sdct_table *t = h->t;
	const int64_t *x = h->c->x;
	if (++h->rowstamp == 0) {
		memset(h->rowmark, 0, (t->n_cons + 1) * sizeof *h->rowmark);
		h->rowstamp = 1;
	}
	for (size_t q = 0; q < h->n_touched; q++) {
		uint32_t j = h->touched[q];
		if (!h->devp[j] && !h->devm[j])
			continue;
		const sdct_cell *cl = &t->cells[j];
		if (!sdct_is_var(cl))
			return 0;
		int64_t lo, hi;
		cell_bounds(cl, 0, &lo, &hi);
		int64_t wp = x[j] + h->devp[j], wm = x[j] + h->devm[j];
		if (wp < lo || wm < lo || (hi != SDCT_INF && (wp > hi || wm > hi)))
			return 0;
		for (uint32_t k = t->cell_start[j]; k < t->cell_start[j + 1]; k++) {
			uint32_t r = t->cell_cons[k];
			if (h->rowmark[r] == h->rowstamp)
				continue;
			h->rowmark[r] = h->rowstamp;
			int64_t sp = h->devp[t->con_total[r]], sm = h->devm[t->con_total[r]];
			for (uint32_t e = t->con_start[r]; e < t->con_start[r + 1]; e++) {
				sp -= h->devp[t->con_parts[e]];
				sm -= h->devm[t->con_parts[e]];
			}
			if (sp || sm)
				return 0;
		}
	}
	const sdct_cell *ci = &t->cells[h->i];
	int64_t whi = x[h->i] + h->devp[h->i], wlo = x[h->i] + h->devm[h->i];
	return whi >= ci->req_hi && wlo <= ci->req_lo && whi - wlo >= ci->req_width;
}

/* Build witnesses for primary number p from patterns; with allow_cost,
 * published cells may be hidden.  *closed tells whether the requirement
 * is met.  The witness support is recorded. */
static int hx_protect(hx *h, size_t p, int allow_cost, int *closed, diag *d)
{
	ctx *c = h->c;
	sdct_table *t = h->t;
	uint32_t i = c->prim[p];
	const sdct_cell *ci = &t->cells[i];
	*closed = 0;
	h->i = i;
	sdct_cross_coords(t, i, h->co);
	h->U = ci->req_hi - c->x[i];
	h->D = c->x[i] - ci->req_lo;
	h->W = ci->req_width;
	if (h->U < 0)
		h->U = 0;
	if (h->D < 0)
		h->D = 0;
	h->cu = h->cd = 0;
	hx_reset(h);
	for (size_t dd = 0; dd < h->k; dd++)
		hx_gen(h, dd);
	/* forced dimensions first, then the most selective */
	for (size_t dd = 0; dd < h->k; dd++)
		h->ord[dd] = dd;
	for (size_t a = 1; a < h->k; a++)
		for (size_t b = a; b > 0 && h->nvec[h->ord[b - 1]] > h->nvec[h->ord[b]]; b--) {
			size_t tmp = h->ord[b];
			h->ord[b] = h->ord[b - 1];
			h->ord[b - 1] = tmp;
		}
	int rc = 0;
	for (int it = 0; it < HX_MAXPAT; it++) {
		if (hx_deficit(h, 0, 0, NULL, NULL) == 0) {
			*closed = 1;
			break;
		}
		int none = 0;
		for (size_t dd = 0; dd < h->k; dd++)
			none |= h->nvec[dd] == 0;
		if (none)
			break; /* some dimension offers no useful vector */
		int got = hx_search(h, 1, 20000);
		if (!got) {
			if (!allow_cost)
				break;
			got = hx_search(h, 0, 60000);
			if (!got)
				break;
		}
		size_t n = hx_materialize(h);
		int64_t tu, td;
		hx_deficit(h, h->best_up, h->best_dn, &tu, &td);
		for (size_t q = 0; q < n; q++) {
			uint32_t j = h->scell[q];
			hx_touch(h, j);
			h->devp[j] += h->ssign[q] * tu;
			h->devm[j] -= h->ssign[q] * td;
			if (!sdct_is_var(&t->cells[j]))
				set_status(c, j, SDCT_SECONDARY);
		}
		h->cu += tu;
		h->cd += td;
		c->st->n_patterns++;
		/* new cells and used capacity change the candidates */
		for (size_t dd = 0; dd < h->k; dd++)
			hx_gen(h, dd);
	}
	if (!*closed && hx_deficit(h, 0, 0, NULL, NULL) == 0)
		*closed = 1;
	if (*closed && !hx_verify(h))
		*closed = 0; /* the witnesses do not hold: let the LP decide */
	if (*closed) {
		/* support: cells the witnesses move */
		size_t m = 0;
		for (size_t q = 0; q < h->n_touched; q++) {
			uint32_t j = h->touched[q];
			if (h->devp[j] || h->devm[j])
				h->touched[m++] = j;
			else {
				h->tmark[j] = 0;
			}
		}
		h->n_touched = m;
		c->lpwit[p] = 0;
		rc = set_support(c, p, h->touched, m, d);
		if (!rc && h->wit && hx_wit_store(h, p))
			rc = diag_fail(d, EX_OSERR, "suppress: out of memory");
	}
	hx_reset(h);
	return rc;
}

static int hx_init(hx *h, ctx *c, diag *d)
{
	memset(h, 0, sizeof *h);
	h->c = c;
	h->t = c->t;
	h->k = c->t->n_dims;
	size_t n = c->t->n_cells;
	h->devp = calloc(n, sizeof *h->devp);
	h->devm = calloc(n, sizeof *h->devm);
	h->touched = malloc(n * sizeof *h->touched);
	h->tmark = calloc(n, 1);
	h->vecs = malloc(h->k * HX_MAXV * sizeof *h->vecs);
	h->scell = malloc(HX_MAXSUP * 2 * sizeof *h->scell);
	h->ssign = malloc(HX_MAXSUP * 2 * sizeof *h->ssign);
	h->rowmark = calloc(c->t->n_cons + 1, sizeof *h->rowmark);
	h->wit = calloc(c->n_prim + 1, sizeof *h->wit);
	if (!h->devp || !h->devm || !h->touched || !h->tmark || !h->vecs || !h->scell || !h->ssign ||
	    !h->rowmark || !h->wit)
		return diag_fail(d, EX_OSERR, "suppress: out of memory");
	/* a unit of deficit is worth about one published cell */
	double sum = 0;
	size_t cnt = 0;
	for (size_t j = 0; j < n; j++)
		if (c->t->cells[j].status == SDCT_PUBLISHED) {
			sum += c->t->cells[j].cost;
			cnt++;
		}
	h->lambda = cnt ? 1.0 * sum / (double)cnt : 1.0;
	return 0;
}

static void hx_free(hx *h)
{
	free(h->devp);
	free(h->devm);
	free(h->touched);
	free(h->tmark);
	free(h->vecs);
	free(h->scell);
	free(h->ssign);
	free(h->rowmark);
	if (h->wit)
		for (size_t p = 0; p < h->c->n_prim; p++)
			hx_wit_free(&h->wit[p]);
	free(h->wit);
}

/* ---------------------------------------------------------------- 6 --- */

/* Re-establish the witness of primary p after a cell was published.  The
 * heuristic (h) uses patterns over hidden cells only and never the LP:
 * when no pattern witness is found the cell stays hidden, which costs
 * some loss but keeps the clean-up linear (re-proving a primary by LP
 * took ~93% of the time, each a solve over the whole component).  The
 * GLPK method re-proves by LP. */
static int rewitness(ctx *c, hx *h, size_t p, int *ok, diag *d)
{
	if (h)
		return hx_protect(h, p, 0, ok, d);
	return lp_certify(c, p, ok, d);
}

/* Does cell u share a constraint with cell j? */
static int adjacent(const sdct_table *t, uint32_t u, uint32_t j)
{
	for (uint32_t k = t->cell_start[u]; k < t->cell_start[u + 1]; k++)
		for (uint32_t e = t->cell_start[j]; e < t->cell_start[j + 1]; e++)
			if (t->cell_cons[k] == t->cell_cons[e])
				return 1;
	return 0;
}

typedef struct cand {
	double cost;
	uint32_t cell;
} cand;

static int cmp_cand(const void *a, const void *b)
{
	const cand *x = a, *y = b;
	if (x->cost != y->cost)
		return x->cost > y->cost ? -1 : 1;
	return x->cell < y->cell ? -1 : (x->cell > y->cell);
}

/* Publish again every secondary cell whose removal keeps all primary cells
 * protected, most expensive first. */
static int cleanup(ctx *c, hx *h, diag *d)
{
	sdct_table *t = c->t;
	size_t nc = 0;
	for (size_t j = 0; j < t->n_cells; j++)
		if (t->cells[j].status == SDCT_SECONDARY)
			nc++;
	cand *cs = malloc((nc ? nc : 1) * sizeof *cs);
	vec32 deps = {0}, saved = {0};
	uint32_t *savoff = NULL;
	hx_wit *wsave = NULL;
	size_t cap_wsave = 0;
	uint32_t *nfail = h ? calloc(c->n_prim + 1, sizeof *nfail) : NULL;
	if (!cs || (h && !nfail)) {
		free(cs);
		free(nfail);
		return diag_fail(d, EX_OSERR, "suppress: out of memory");
	}
	nc = 0;
	for (size_t j = 0; j < t->n_cells; j++)
		if (t->cells[j].status == SDCT_SECONDARY)
			cs[nc++] = (cand){t->cells[j].cost, (uint32_t)j};
	qsort(cs, nc, sizeof *cs, cmp_cand);
	int rc = 0;
	double t_end = c->o->cleanup_ms ? now() + c->o->cleanup_ms / 1000.0 : HUGE_VAL;
	for (size_t q = 0; q < nc && !rc; q++) {
		if (now() > t_end) {
			/* out of time: the rest stay hidden, which only protects more */
			c->st->cleanup_cut = nc - q;
			break;
		}
		uint32_t j = cs[q].cell;
		/* the primaries whose witnesses move j */
		deps.n = 0;
		vec32 *u = &c->users[j];
		for (uint32_t k = 0; k < u->n; k++) {
			uint32_t p = u->v[k];
			if (c->mark[c->prim[p]] || !support_has(c, p, j))
				continue;
			c->mark[c->prim[p]] = 1;
			if (v32_push(&deps, p)) {
				rc = diag_fail(d, EX_OSERR, "suppress: out of memory");
				break;
			}
		}
		for (uint32_t k = 0; k < deps.n; k++)
			c->mark[c->prim[deps.v[k]]] = 0;
		if (rc)
			break;
		/* Most candidates cannot be published again, and the primary
		 * that needs j is nearly always one in a constraint with it:
		 * check those first, so that a failure costs one certification
		 * rather than one per dependant. */
		size_t front = 0;
		for (uint32_t k = 0; k < deps.n; k++)
			if (adjacent(t, c->prim[deps.v[k]], j)) {
				uint32_t tmp = deps.v[front];
				deps.v[front++] = deps.v[k];
				deps.v[k] = tmp;
			}
		/* The heuristic's failures come mostly from a few primaries with
		 * little room (100k bench: failed candidates re-proved ~10
		 * dependants each before the one that failed): those that
		 * failed most often go first, adjacency breaking ties. */
		if (nfail) {
			for (uint32_t k = 1; k < deps.n; k++) {
				uint32_t v = deps.v[k], w = k;
				while (w > 0 && nfail[deps.v[w - 1]] < nfail[v]) {
					deps.v[w] = deps.v[w - 1];
					w--;
				}
				deps.v[w] = v;
			}
		}
		/* compact the user list while we are here */
		u->n = 0;
		for (uint32_t k = 0; k < deps.n; k++)
			u->v[u->n++] = deps.v[k];
		/* keep the old supports to restore them on failure */
		saved.n = 0;
		free(savoff);
		savoff = malloc((deps.n + 1) * sizeof *savoff);
		if (!savoff) {
			rc = diag_fail(d, EX_OSERR, "suppress: out of memory");
			break;
		}
		for (uint32_t k = 0; k < deps.n && !rc; k++) {
			savoff[k] = saved.n;
			vec32 *s = &c->sup[deps.v[k]];
			if (v32_reserve(&saved, (size_t)saved.n + s->n + 1)) {
				rc = -1;
				break;
			}
			if (s->n)
				memcpy(saved.v + saved.n, s->v, s->n * sizeof *s->v);
			saved.n += s->n;
			saved.v[saved.n++] = c->lpwit[deps.v[k]];
		}
		savoff[deps.n] = saved.n;
		if (rc) {
			rc = diag_fail(d, EX_OSERR, "suppress: out of memory");
			break;
		}
		/* the heuristic's witnesses (certificates) are kept aside too */
		if (h && h->wit) {
			if (deps.n > cap_wsave) {
				hx_wit *nw = realloc(wsave, deps.n * sizeof *nw);
				if (!nw) {
					rc = diag_fail(d, EX_OSERR, "suppress: out of memory");
					break;
				}
				wsave = nw;
				cap_wsave = deps.n;
			}
			for (uint32_t k = 0; k < deps.n; k++) {
				wsave[k] = h->wit[deps.v[k]];
				memset(&h->wit[deps.v[k]], 0, sizeof h->wit[deps.v[k]]);
			}
		}
		set_status(c, j, SDCT_PUBLISHED);
		int all = 1;
		for (uint32_t k = 0; k < deps.n && all; k++) {
			int ok;
			if (rewitness(c, h, deps.v[k], &ok, d)) {
				rc = -1;
				break;
			}
			all = ok;
			if (!ok && nfail)
				nfail[deps.v[k]]++;
		}
		if (h && h->wit)
			for (uint32_t k = 0; k < deps.n; k++) {
				hx_wit *w = &h->wit[deps.v[k]];
				if (all && !rc) {
					hx_wit_free(&wsave[k]);
				} else {
					hx_wit_free(w);
					*w = wsave[k];
				}
			}
		if (rc)
			break;
		if (all) {
			c->st->n_removed++;
			continue;
		}
		set_status(c, j, SDCT_SECONDARY);
		for (uint32_t k = 0; k < deps.n; k++) {
			size_t p = deps.v[k];
			uint32_t a = savoff[k], b = savoff[k + 1] - 1;
			if (set_support(c, p, saved.v + a, b - a, d)) {
				rc = -1;
				break;
			}
			c->lpwit[p] = (uint8_t)saved.v[b];
		}
	}
	free(cs);
	free(deps.v);
	free(saved.v);
	free(savoff);
	free(wsave);
	free(nfail);
	return rc;
}

/* Certificates (privacy/suppcert.h) for the primaries of the final table:
 * the heuristic's verified witnesses where it has them, otherwise, on
 * cross tables, a pattern witness searched now over the hidden cells
 * (this only reads statuses).  Primaries left without one are decided by
 * the audit's LP. */
static int make_certs(ctx *c, hx *h, scert_set *out, diag *d)
{
	if (scert_set_base(out, c->x, c->t->n_cells, d))
		return -1;
	for (size_t p = 0; p < c->n_prim; p++) {
		hx_wit *w = h ? &h->wit[p] : NULL;
		if (w && !(w->valid && !c->lpwit[p])) {
			int ok;
			if (hx_protect(h, p, 0, &ok, d))
				return -1;
			if (!ok)
				continue;
		}
		if (!w || !w->valid)
			continue;
		if (scert_add(out, c->prim[p], w->cell, w->up, w->dn, w->n, d))
			return -1;
		c->st->n_cert++;
	}
	return 0;
}

static int method_heuristic(ctx *c, hx *h, diag *d)
{
	vec32 N = {0}, chosen = {0};
	int rc = 0;
	for (size_t p = 0; p < c->n_prim && !rc; p++) {
		int closed;
		if ((rc = hx_protect(h, p, 1, &closed, d)))
			break;
		if (!closed)
			rc = protect_one(c, p, 1, &N, &chosen, d);
	}
	free(N.v);
	free(chosen.v);
	return rc;
}

/* Generic tables without a cross structure, large: partners only. */
static int method_partner(ctx *c, diag *d)
{
	vec32 N = {0}, chosen = {0};
	int rc = 0;
	for (size_t p = 0; p < c->n_prim && !rc; p++)
		rc = protect_one(c, p, 0, &N, &chosen, d);
	free(N.v);
	free(chosen.v);
	return rc;
}

static int cmp_prim(const void *a, const void *b, const sdct_table *t)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	double cx = t->cells[x].cost, cy = t->cells[y].cost;
	if (cx != cy)
		return cx > cy ? -1 : 1;
	return x < y ? -1 : (x > y);
}

/* qsort has no context argument in C11: sort indices by cost with a
 * simple merge sort instead. */
static void sort_prim(uint32_t *a, uint32_t *tmp, size_t n, const sdct_table *t)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	sort_prim(a, tmp, h, t);
	sort_prim(a + h, tmp, n - h, t);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = cmp_prim(&a[j], &a[i], t) < 0 ? a[j++] : a[i++];
	while (i < h)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, n * sizeof *a);
}

/* AUTO: cross tables above this many primaries x cells use the heuristic
 * (the sdctable comparison table, 2,400 cells with ~710 primaries, names
 * its methods; the cube's tables are generic and not concerned). */
#define SUPP_AUTO_GLPK_WORK 250000.0

int supp_secondary(sdct_table *t, const supp_opts *o, supp_stats *st, diag *d)
{
	return supp_secondary_cert(t, o, st, NULL, d);
}

int supp_secondary_cert(sdct_table *t, const supp_opts *o, supp_stats *st, scert_set *certs,
                        diag *d)
{
	supp_opts def;
	supp_stats dummy;
	if (!o) {
		supp_opts_default(&def);
		o = &def;
	}
	if (!st)
		st = &dummy;
	memset(st, 0, sizeof *st);
	double t0 = now();
	if (!t->finalized)
		return diag_fail(d, EX_SOFTWARE, "suppress: table not finalized");
	double tw = o->total_weight > 0 ? o->total_weight : 0;
	double top = o->top_weight > 0 ? o->top_weight : 1;
	supp_costs(t, o->objective, tw, top);
	for (size_t j = 0; j < t->n_cells; j++)
		if (t->cells[j].status == SDCT_SECONDARY)
			t->cells[j].status = SDCT_PUBLISHED;

	ctx c;
	memset(&c, 0, sizeof c);
	c.t = t;
	c.o = o;
	c.st = st;
	size_t n = t->n_cells ? t->n_cells : 1;
	c.x = malloc(n * sizeof *c.x);
	c.users = calloc(n, sizeof *c.users);
	c.mark = calloc(n, 1);
	for (size_t j = 0; j < t->n_cells; j++)
		if (t->cells[j].status == SDCT_PRIMARY)
			c.n_prim++;
	c.prim = malloc((c.n_prim + 1) * sizeof *c.prim);
	c.sup = calloc(c.n_prim + 1, sizeof *c.sup);
	c.lpwit = calloc(c.n_prim + 1, 1);
	uint32_t *tmp = malloc((c.n_prim + 1) * sizeof *tmp);
	int rc = 0;
	hx h;
	int have_hx = 0;
	if (!c.x || !c.users || !c.mark || !c.prim || !c.sup || !c.lpwit || !tmp) {
		rc = diag_fail(d, EX_OSERR, "suppress: out of memory");
		goto done;
	}
	if ((rc = sdct_reference_point(t, c.x, d)))
		goto done;
	for (size_t j = 0; j < t->n_cells; j++)
		if (t->cells[j].hi > c.max_hi)
			c.max_hi = t->cells[j].hi;
	c.n_prim = 0;
	for (size_t j = 0; j < t->n_cells; j++)
		if (t->cells[j].status == SDCT_PRIMARY)
			c.prim[c.n_prim++] = (uint32_t)j;
	/* totals first: their patterns hide cells the leaves can then use */
	sort_prim(c.prim, tmp, c.n_prim, t);

	int method = o->method;
	if (method == SUPP_AUTO) {
		method = t->n_cells <= (o->auto_max_cells ? o->auto_max_cells : 4000) ? SUPP_GLPK
		                                                                      : SUPP_HEURISTIC;
		/* A cross table with many primaries goes to the heuristic even
		 * when small: the GLPK clean-up re-proves primaries by LP over
		 * the whole system for every secondary it tries, about
		 * primaries x cells work (bench 1k table, 1,125 cells and 475
		 * primaries: 216 s against 0.1 s for the heuristic, which also
		 * hands the audit certificates). */
		if (t->n_dims && (double)c.n_prim * (double)t->n_cells > SUPP_AUTO_GLPK_WORK)
			method = SUPP_HEURISTIC;
	}
	st->method = method;
	if (method == SUPP_GLPK) {
		rc = method_glpk(&c, d);
	} else if (method == SUPP_HEURISTIC && t->n_dims) {
		have_hx = 1; /* hx_free copes with a partial hx_init */
		if (!(rc = hx_init(&h, &c, d)))
			rc = method_heuristic(&c, &h, d);
	} else if (method == SUPP_HEURISTIC) {
		rc = method_partner(&c, d);
	} else {
		rc = diag_fail(d, EX_USAGE, "suppress: unknown method %d", method);
	}
	if (!rc && !o->no_cleanup)
		rc = cleanup(&c, have_hx ? &h : NULL, d);
	if (!rc && certs) {
		/* the GLPK method has no pattern witnesses: search them now */
		if (!have_hx && t->n_dims) {
			have_hx = 1;
			rc = hx_init(&h, &c, d);
		}
		if (!rc)
			rc = make_certs(&c, have_hx ? &h : NULL, certs, d);
	}
done:
	if (have_hx)
		hx_free(&h);
	if (c.att) {
		st->n_lp = sdca_lp_count(c.att);
		sdca_attacker_free(c.att);
	}
	if (c.users)
		for (size_t j = 0; j < t->n_cells; j++)
			free(c.users[j].v);
	if (c.sup)
		for (size_t p = 0; p < c.n_prim; p++)
			free(c.sup[p].v);
	free(c.users);
	free(c.sup);
	free(c.lpwit);
	free(c.x);
	free(c.mark);
	free(c.prim);
	free(tmp);
	sdct_summary s;
	sdct_summarize(t, &s);
	st->n_primary = s.n_primary;
	st->n_secondary = s.n_secondary;
	st->value_primary = s.value_primary;
	st->value_secondary = s.value_secondary;
	st->seconds = now() - t0;
	return rc;
}
