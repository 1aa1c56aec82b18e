/* sdc_table: see sdc_table.h.  Storage is arrays grown geometrically; the
 * cell -> constraint index is a CSR built once by sdct_finalize with a
 * counting pass, so building a 10^5-cell table is linear. */
#include "privacy/sdc_table.h"
#include "privacy/lpguard.h"

#include <glpk.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

void sdct_init(sdct_table *t)
{
	memset(t, 0, sizeof *t);
}

static void free_dims(sdct_table *t)
{
	for (size_t d = 0; d < t->n_dims; d++) {
		sdct_xdim *x = &t->dims[d];
		free(x->name);
		for (uint32_t k = 0; k < x->n_codes; k++)
			free(x->codes[k]);
		free(x->codes);
		free(x->parent);
		free(x->child_start);
		free(x->child);
		free(x->depth);
	}
	free(t->dims);
}

void sdct_free(sdct_table *t)
{
	free(t->cells);
	free(t->con_total);
	free(t->con_start);
	free(t->con_parts);
	free(t->cell_start);
	free(t->cell_cons);
	free(t->label_off);
	free(t->labels);
	free_dims(t);
	memset(t, 0, sizeof *t);
}

/* Grow *p (elements of size sz, capacity *cap) to hold at least need. */
static int grow(void **p, size_t *cap, size_t need, size_t sz)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 64;
	while (nc < need)
		nc *= 2;
	if (nc > SIZE_MAX / sz)
		return -1;
	void *q = realloc(*p, nc * sz);
	if (!q)
		return -1;
	*p = q;
	*cap = nc;
	return 0;
}

static int add_cells(sdct_table *t, size_t k, diag *d)
{
	if (t->n_cells + k > UINT32_MAX - 1)
		return diag_fail(d, EX_DATAERR, "sdc table: more than %u cells", UINT32_MAX - 1);
	size_t cap = t->cap_cells;
	if (grow((void **)&t->cells, &cap, t->n_cells + k, sizeof *t->cells))
		return diag_fail(d, EX_OSERR, "sdc table: out of memory");
	if (t->label_off) {
		size_t cap2 = t->cap_cells;
		if (grow((void **)&t->label_off, &cap2, t->n_cells + k, sizeof *t->label_off))
			return diag_fail(d, EX_OSERR, "sdc table: out of memory");
	}
	t->cap_cells = cap;
	memset(&t->cells[t->n_cells], 0, k * sizeof *t->cells);
	if (t->label_off)
		for (size_t i = 0; i < k; i++)
			t->label_off[t->n_cells + i] = UINT32_MAX;
	return 0;
}

int sdct_add_cell(sdct_table *t, int64_t lo, int64_t hi, unsigned flags,
                  const char *label, uint32_t *idx, diag *d)
{
	if (t->finalized)
		return diag_fail(d, EX_SOFTWARE, "sdc table: add_cell after finalize");
	if (lo < 0 || hi < lo || hi >= SDCT_INF / 4)
		return diag_fail(d, EX_DATAERR, "sdc table: cell '%s' has a bad interval [%lld, %lld]",
		                 label ? label : "?", (long long)lo, (long long)hi);
	if (add_cells(t, 1, d))
		return -1;
	uint32_t c = (uint32_t)t->n_cells;
	if (label) {
		if (!t->label_off) {
			t->label_off = malloc(t->cap_cells * sizeof *t->label_off);
			if (!t->label_off)
				return diag_fail(d, EX_OSERR, "sdc table: out of memory");
			for (size_t i = 0; i < t->cap_cells; i++)
				t->label_off[i] = UINT32_MAX;
		}
		size_t len = strlen(label) + 1;
		if (t->labels_len + len > UINT32_MAX ||
		    grow((void **)&t->labels, &t->labels_cap, t->labels_len + len, 1))
			return diag_fail(d, EX_OSERR, "sdc table: out of memory for labels");
		memcpy(t->labels + t->labels_len, label, len);
		t->label_off[c] = (uint32_t)t->labels_len;
		t->labels_len += len;
	}
	t->cells[c].lo = lo;
	t->cells[c].hi = hi;
	t->cells[c].flags = (uint8_t)flags;
	t->cells[c].cost = 1.0;
	t->n_cells++;
	if (idx)
		*idx = c;
	return 0;
}

int sdct_add_constraint(sdct_table *t, uint32_t total, const uint32_t *parts,
                        size_t n_parts, diag *d)
{
	if (t->finalized)
		return diag_fail(d, EX_SOFTWARE, "sdc table: add_constraint after finalize");
	if (total >= t->n_cells || n_parts == 0)
		return diag_fail(d, EX_DATAERR, "sdc table: constraint with bad total %u or no parts", total);
	for (size_t k = 0; k < n_parts; k++) {
		if (parts[k] >= t->n_cells || parts[k] == total)
			return diag_fail(d, EX_DATAERR,
			                 "sdc table: constraint on total #%u has a bad part %u", total, parts[k]);
		/* duplicates: constraints are short, a quadratic check is fine */
		for (size_t l = 0; l < k; l++)
			if (parts[l] == parts[k])
				return diag_fail(d, EX_DATAERR,
				                 "sdc table: constraint on total #%u lists part %u twice",
				                 total, parts[k]);
	}
	if (t->n_parts + n_parts > UINT32_MAX)
		return diag_fail(d, EX_DATAERR, "sdc table: too many constraint entries");
	size_t cc = t->cap_cons, cs = t->cap_cons;
	if (grow((void **)&t->con_total, &cc, t->n_cons + 1, sizeof *t->con_total) ||
	    grow((void **)&t->con_start, &cs, t->n_cons + 2, sizeof *t->con_start) ||
	    grow((void **)&t->con_parts, &t->cap_parts, t->n_parts + n_parts, sizeof *t->con_parts))
		return diag_fail(d, EX_OSERR, "sdc table: out of memory");
	t->cap_cons = cc < cs ? cc : cs;
	if (t->n_cons == 0)
		t->con_start[0] = 0;
	t->con_total[t->n_cons] = total;
	memcpy(t->con_parts + t->n_parts, parts, n_parts * sizeof *parts);
	t->n_parts += n_parts;
	t->n_cons++;
	t->con_start[t->n_cons] = (uint32_t)t->n_parts;
	return 0;
}

int sdct_set_value(sdct_table *t, uint32_t cell, int64_t lo, int64_t hi,
                   unsigned flags, diag *d)
{
	if (cell >= t->n_cells)
		return diag_fail(d, EX_SOFTWARE, "sdc table: no cell %u", cell);
	if (lo < 0 || hi < lo || hi >= SDCT_INF / 4) {
		char b[128];
		return diag_fail(d, EX_DATAERR, "sdc table: cell '%s' has a bad interval [%lld, %lld]",
		                 sdct_label(t, cell, b, sizeof b), (long long)lo, (long long)hi);
	}
	t->cells[cell].lo = lo;
	t->cells[cell].hi = hi;
	t->cells[cell].flags = (uint8_t)flags;
	return 0;
}

static int64_t sat_add(int64_t a, int64_t b)
{
	return (a > SDCT_INF - b) ? SDCT_INF : a + b;
}

int sdct_finalize(sdct_table *t, diag *d)
{
	if (t->finalized)
		return 0;
	for (size_t r = 0; r < t->n_cons; r++) {
		const sdct_cell *tc = &t->cells[t->con_total[r]];
		int64_t slo = 0, shi = 0;
		for (uint32_t k = t->con_start[r]; k < t->con_start[r + 1]; k++) {
			slo = sat_add(slo, t->cells[t->con_parts[k]].lo);
			shi = sat_add(shi, t->cells[t->con_parts[k]].hi);
		}
		if (slo > tc->hi || shi < tc->lo) {
			char b[256];
			return diag_fail(d, EX_DATAERR,
			                 "sdc table: total '%s' = [%lld, %lld] but its parts sum to [%lld, %lld]",
			                 sdct_label(t, t->con_total[r], b, sizeof b), (long long)tc->lo,
			                 (long long)tc->hi, (long long)slo, (long long)shi);
		}
	}
	free(t->cell_start);
	free(t->cell_cons);
	t->cell_start = calloc(t->n_cells + 1, sizeof *t->cell_start);
	t->cell_cons = malloc((t->n_parts + t->n_cons + 1) * sizeof *t->cell_cons);
	if (!t->cell_start || !t->cell_cons)
		return diag_fail(d, EX_OSERR, "sdc table: out of memory");
	for (size_t r = 0; r < t->n_cons; r++) {
		t->cell_start[t->con_total[r] + 1]++;
		for (uint32_t k = t->con_start[r]; k < t->con_start[r + 1]; k++)
			t->cell_start[t->con_parts[k] + 1]++;
	}
	for (size_t c = 0; c < t->n_cells; c++)
		t->cell_start[c + 1] += t->cell_start[c];
	uint32_t *fill = malloc((t->n_cells + 1) * sizeof *fill);
	if (!fill)
		return diag_fail(d, EX_OSERR, "sdc table: out of memory");
	memcpy(fill, t->cell_start, (t->n_cells + 1) * sizeof *fill);
	for (size_t r = 0; r < t->n_cons; r++) {
		t->cell_cons[fill[t->con_total[r]]++] = (uint32_t)r;
		for (uint32_t k = t->con_start[r]; k < t->con_start[r + 1]; k++)
			t->cell_cons[fill[t->con_parts[k]]++] = (uint32_t)r;
	}
	free(fill);
	t->finalized = 1;
	return 0;
}

const char *sdct_label(const sdct_table *t, uint32_t cell, char *buf, size_t size)
{
	if (!size)
		return buf;
	buf[0] = 0;
	if (cell >= t->n_cells) {
		snprintf(buf, size, "#%u", cell);
	} else if (t->label_off && t->label_off[cell] != UINT32_MAX) {
		snprintf(buf, size, "%s", t->labels + t->label_off[cell]);
	} else if (t->n_dims) {
		size_t used = 0;
		for (size_t dd = 0; dd < t->n_dims && used + 1 < size; dd++) {
			const sdct_xdim *x = &t->dims[dd];
			uint32_t code = (cell / x->stride) % x->n_codes;
			int n = snprintf(buf + used, size - used, "%s%s", dd ? "/" : "", x->codes[code]);
			if (n < 0)
				break;
			used += (size_t)n;
		}
	} else {
		snprintf(buf, size, "#%u", cell);
	}
	return buf;
}

/* ---- cross-product tables ---- */

static int copy_dim(sdct_xdim *x, const sdct_dim *s, size_t di, diag *d)
{
	if (s->n_codes == 0 || s->n_codes > UINT32_MAX / 2 || !s->parent || !s->codes)
		return diag_fail(d, EX_DATAERR, "sdc table: dimension %zu is empty or incomplete", di);
	uint32_t n = (uint32_t)s->n_codes;
	x->n_codes = n;
	x->name = strdup(s->name ? s->name : "");
	x->codes = calloc(n, sizeof *x->codes);
	x->parent = malloc(n * sizeof *x->parent);
	x->child_start = calloc((size_t)n + 1, sizeof *x->child_start);
	x->child = malloc(n * sizeof *x->child);
	x->depth = malloc(n * sizeof *x->depth);
	if (!x->name || !x->codes || !x->parent || !x->child_start || !x->child || !x->depth)
		return diag_fail(d, EX_OSERR, "sdc table: out of memory");
	for (uint32_t k = 0; k < n; k++) {
		x->codes[k] = strdup(s->codes[k] ? s->codes[k] : "");
		if (!x->codes[k])
			return diag_fail(d, EX_OSERR, "sdc table: out of memory");
		int32_t p = s->parent[k];
		if (p < -1 || p >= (int32_t)n || p == (int32_t)k)
			return diag_fail(d, EX_DATAERR, "sdc table: dimension '%s': code '%s' has a bad parent %d",
			                 x->name, x->codes[k], p);
		x->parent[k] = p;
		if (p >= 0)
			x->child_start[p + 1]++;
	}
	for (uint32_t k = 0; k < n; k++)
		x->child_start[k + 1] += x->child_start[k];
	uint32_t *fill = malloc(((size_t)n + 1) * sizeof *fill);
	if (!fill)
		return diag_fail(d, EX_OSERR, "sdc table: out of memory");
	memcpy(fill, x->child_start, ((size_t)n + 1) * sizeof *fill);
	for (uint32_t k = 0; k < n; k++)
		if (x->parent[k] >= 0)
			x->child[fill[x->parent[k]]++] = k;
	free(fill);
	/* depth by walking up; a walk longer than n means a cycle */
	for (uint32_t k = 0; k < n; k++) {
		uint32_t dep = 0;
		int32_t p = x->parent[k];
		while (p >= 0) {
			if (++dep > n)
				return diag_fail(d, EX_DATAERR, "sdc table: dimension '%s' has a cycle at code '%s'",
				                 x->name, x->codes[k]);
			p = x->parent[p];
		}
		x->depth[k] = dep;
	}
	return 0;
}

int sdct_cross_init(sdct_table *t, const sdct_dim *dims, size_t n_dims, diag *d)
{
	if (t->n_cells || t->n_cons || t->finalized)
		return diag_fail(d, EX_SOFTWARE, "sdc table: cross_init needs an empty table");
	if (n_dims == 0 || n_dims > 16)
		return diag_fail(d, EX_DATAERR, "sdc table: %zu dimensions (1..16 allowed)", n_dims);
	t->dims = calloc(n_dims, sizeof *t->dims);
	if (!t->dims)
		return diag_fail(d, EX_OSERR, "sdc table: out of memory");
	t->n_dims = n_dims;
	uint64_t total = 1;
	for (size_t dd = 0; dd < n_dims; dd++) {
		if (copy_dim(&t->dims[dd], &dims[dd], dd, d))
			return -1;
		total *= t->dims[dd].n_codes;
		if (total > UINT32_MAX / 2)
			return diag_fail(d, EX_DATAERR, "sdc table: the cross product has too many cells");
	}
	uint32_t stride = 1;
	for (size_t dd = n_dims; dd-- > 0;) {
		t->dims[dd].stride = stride;
		stride *= t->dims[dd].n_codes;
	}
	if (add_cells(t, (size_t)total, d))
		return -1;
	for (size_t c = 0; c < total; c++)
		t->cells[c].cost = 1.0;
	t->n_cells = (size_t)total;

	uint32_t parts[4096];
	uint32_t *big = NULL;
	for (size_t dd = 0; dd < n_dims; dd++) {
		const sdct_xdim *x = &t->dims[dd];
		for (uint32_t c = 0; c < (uint32_t)total; c++) {
			uint32_t code = (c / x->stride) % x->n_codes;
			uint32_t nch = x->child_start[code + 1] - x->child_start[code];
			if (!nch)
				continue;
			uint32_t *pp = parts;
			if (nch > sizeof parts / sizeof parts[0]) {
				free(big);
				big = malloc(nch * sizeof *big);
				if (!big)
					return diag_fail(d, EX_OSERR, "sdc table: out of memory");
				pp = big;
			}
			size_t np = 0;
			for (uint32_t k = 0; k < nch; k++) {
				uint32_t ch = x->child[x->child_start[code] + k];
				pp[np++] = c - code * x->stride + ch * x->stride;
			}
			if (sdct_add_constraint(t, c, pp, np, d)) {
				free(big);
				return -1;
			}
		}
	}
	free(big);
	return 0;
}

uint32_t sdct_cross_cell(const sdct_table *t, const uint32_t *codes)
{
	uint32_t c = 0;
	for (size_t dd = 0; dd < t->n_dims; dd++)
		c += codes[dd] * t->dims[dd].stride;
	return c;
}

void sdct_cross_coords(const sdct_table *t, uint32_t cell, uint32_t *codes)
{
	for (size_t dd = 0; dd < t->n_dims; dd++)
		codes[dd] = (cell / t->dims[dd].stride) % t->dims[dd].n_codes;
}

static int is_leaf_code(const sdct_xdim *x, uint32_t code)
{
	return x->child_start[code + 1] == x->child_start[code];
}

int sdct_cross_is_leaf(const sdct_table *t, uint32_t cell)
{
	for (size_t dd = 0; dd < t->n_dims; dd++) {
		const sdct_xdim *x = &t->dims[dd];
		if (!is_leaf_code(x, (cell / x->stride) % x->n_codes))
			return 0;
	}
	return 1;
}

int sdct_cross_sum_leaves(sdct_table *t, diag *d)
{
	if (!t->n_dims)
		return diag_fail(d, EX_SOFTWARE, "sdc table: sum_leaves needs a cross table");
	/* Invariant after dimension dd: every cell whose coordinates in the
	 * dimensions after dd are leaves holds its correct sum.  Within a
	 * dimension, deeper codes first so children are ready. */
	for (size_t dd = 0; dd < t->n_dims; dd++) {
		const sdct_xdim *x = &t->dims[dd];
		uint32_t maxdep = 0;
		for (uint32_t k = 0; k < x->n_codes; k++)
			if (x->depth[k] > maxdep)
				maxdep = x->depth[k];
		for (uint32_t lev = maxdep + 1; lev-- > 0;) {
			for (uint32_t c = 0; c < t->n_cells; c++) {
				uint32_t code = (c / x->stride) % x->n_codes;
				if (x->depth[code] != lev || is_leaf_code(x, code))
					continue;
				int later_leaf = 1;
				for (size_t e = dd + 1; e < t->n_dims && later_leaf; e++) {
					const sdct_xdim *y = &t->dims[e];
					later_leaf = is_leaf_code(y, (c / y->stride) % y->n_codes);
				}
				if (!later_leaf)
					continue;
				int64_t lo = 0, hi = 0;
				for (uint32_t k = x->child_start[code]; k < x->child_start[code + 1]; k++) {
					uint32_t ch = c - code * x->stride + x->child[k] * x->stride;
					lo = sat_add(lo, t->cells[ch].lo);
					hi = sat_add(hi, t->cells[ch].hi);
				}
				if (hi >= SDCT_INF / 4)
					return diag_fail(d, EX_DATAERR, "sdc table: totals overflow");
				t->cells[c].lo = lo;
				t->cells[c].hi = hi;
				t->cells[c].flags = 0;
			}
		}
	}
	return 0;
}

/* ---- reference point ---- */

int sdct_reference_point(const sdct_table *t, int64_t *x, diag *d)
{
	if (!t->finalized)
		return diag_fail(d, EX_SOFTWARE, "sdc table: reference_point before finalize");
	size_t nvar = 0;
	for (size_t c = 0; c < t->n_cells; c++) {
		x[c] = t->cells[c].lo;
		if (t->cells[c].lo < t->cells[c].hi)
			nvar++;
	}
	if (!nvar)
		return 0; /* finalize checked every constraint exactly */

	/* Integer feasibility problem over the interval cells. */
	int *col = calloc(t->n_cells, sizeof *col);
	int *ind = malloc((t->n_cells + 2) * sizeof *ind);
	double *val = malloc((t->n_cells + 2) * sizeof *val);
	if (!col || !ind || !val) {
		free(col);
		free(ind);
		free(val);
		return diag_fail(d, EX_OSERR, "sdc table: out of memory");
	}
	lpguard g;
	lpg_arm(&g);
	if (setjmp(g.jb)) {
		free(col);
		free(ind);
		free(val);
		return lpg_fail(&g, "sdc table", d);
	}
	glp_prob *P = glp_create_prob();
	int nc = 0;
	for (size_t c = 0; c < t->n_cells; c++) {
		col[c] = 0;
		if (t->cells[c].lo < t->cells[c].hi) {
			col[c] = ++nc;
			glp_add_cols(P, 1);
			glp_set_col_bnds(P, nc, GLP_DB, (double)t->cells[c].lo, (double)t->cells[c].hi);
			glp_set_col_kind(P, nc, GLP_IV);
		}
	}
	for (size_t r = 0; r < t->n_cons; r++) {
		/* row: total - sum(parts) = 0, exact cells moved to the rhs */
		int len = 0;
		double rhs = 0;
		uint32_t tot = t->con_total[r];
		if (col[tot]) {
			ind[++len] = col[tot];
			val[len] = 1;
		} else {
			rhs -= (double)t->cells[tot].lo;
		}
		for (uint32_t k = t->con_start[r]; k < t->con_start[r + 1]; k++) {
			uint32_t p = t->con_parts[k];
			if (col[p]) {
				ind[++len] = col[p];
				val[len] = -1;
			} else {
				rhs += (double)t->cells[p].lo;
			}
		}
		if (!len)
			continue;
		int row = glp_add_rows(P, 1);
		glp_set_row_bnds(P, row, GLP_FX, rhs, rhs);
		glp_set_mat_row(P, row, len, ind, val);
	}
	glp_iocp parm;
	glp_init_iocp(&parm);
	parm.msg_lev = GLP_MSG_OFF; /* per call: no global glp_term_out */
	parm.presolve = GLP_ON;
	int ret = glp_intopt(P, &parm);
	int st = ret == 0 ? glp_mip_status(P) : 0;
	int rc = 0;
	if (st == GLP_OPT || st == GLP_FEAS) {
		for (size_t c = 0; c < t->n_cells; c++)
			if (col[c])
				x[c] = llround(glp_mip_col_val(P, col[c]));
	} else {
		rc = diag_fail(d, EX_DATAERR,
		               "sdc table: the published intervals are inconsistent "
		               "(no table satisfies every constraint)");
	}
	glp_delete_prob(P);
	lpg_disarm();
	free(col);
	free(ind);
	free(val);
	return rc;
}

void sdct_summarize(const sdct_table *t, sdct_summary *s)
{
	memset(s, 0, sizeof *s);
	for (size_t c = 0; c < t->n_cells; c++) {
		if (t->cells[c].status == SDCT_PRIMARY) {
			s->n_primary++;
			s->value_primary += t->cells[c].hi;
		} else if (t->cells[c].status == SDCT_SECONDARY) {
			s->n_secondary++;
			s->value_secondary += t->cells[c].hi;
		}
	}
}
