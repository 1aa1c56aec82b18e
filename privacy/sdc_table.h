/* sdc_table: the table model of statistical disclosure control for tables.
 *
 * A published table is a set of cells linked by linear additivity
 * constraints `total = sum(parts)` (World = sum of regions, a region = sum
 * of its countries, Total sex = F + M, a year = sum of its quarters, ...).
 * Cell suppression (privacy/suppress.h) and its audit (privacy/audit.h)
 * need only that: values, statuses, protection requirements and the
 * constraints.  So the model is generic: n cells and m constraints in
 * compact CSR arrays (a cell or constraint costs a few dozen bytes; 10^5
 * cells and their ~5 x 10^5 constraint entries take a few megabytes),
 * plus, optionally, the cross-product structure that produced them, which
 * the fast heuristic exploits.
 *
 * Values are integer intervals [lo, hi]: exact when lo == hi, censored
 * when a country only reports "1-4".  A cell flagged SDCT_F_PUBLIC_BOUNDS
 * has an interval that is public knowledge whatever this table does (the
 * country published it itself), so an attacker uses it even when the cell
 * is suppressed here.  Otherwise a suppressed cell is known to the attacker
 * only as a non-negative count.
 *
 * Building: sdct_init, then sdct_add_cell / sdct_add_constraint (or
 * sdct_cross_init for every combination of hierarchical dimensions, then
 * sdct_set_value on the leaves and sdct_cross_sum_leaves), then
 * sdct_finalize, which checks the constraints and builds the cell ->
 * constraint index.  Statuses and protection requirements are written by
 * supp_primary / supp_secondary; the audit only reads them.
 *
 * Ownership: the table owns everything it points to (labels and dimension
 * codes are copied); sdct_free releases it.  A zeroed table is empty.
 */
#ifndef TIPSTAT_SDC_TABLE_H
#define TIPSTAT_SDC_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include "core/diag.h"

enum sdct_status {
	SDCT_PUBLISHED = 0,
	SDCT_PRIMARY = 1,   /* sensitive itself: must be protected */
	SDCT_SECONDARY = 2  /* hidden to protect primary cells */
};

enum sdct_flags {
	SDCT_F_PUBLIC_BOUNDS = 1u << 0 /* [lo, hi] is known even if suppressed */
};

/* "No upper bound": protection requirements and attacker bounds use it. */
#define SDCT_INF INT64_MAX
/* Cells need a finite hi; one at or above SDCT_HUGE stands for "no upper
 * bound" (an interval like "5 or more").  The attacker LPs treat such a
 * bound as absent: counts never come near 2^40, and LPs that keep bounds
 * of that size beside unit steps lose feasibility to round-off (seen in
 * GLPK on a 1,585-cell table of the bundled data). */
#define SDCT_HUGE ((int64_t)1 << 40)

typedef struct sdct_cell {
	int64_t lo, hi;        /* value interval; lo == hi when exact */
	/* Protection requirement of a PRIMARY cell (set by supp_primary):
	 * the attacker's feasible interval [a, b] must satisfy
	 * a <= req_lo, b >= req_hi and b - a >= req_width. */
	int64_t req_lo, req_hi, req_width;
	double cost;           /* information loss if suppressed (supp_costs) */
	uint8_t status;        /* enum sdct_status */
	uint8_t flags;         /* enum sdct_flags */
} sdct_cell;

/* One hierarchical dimension for sdct_cross_init: codes 0..n_codes-1,
 * parent[k] the parent code of k or -1 for a root (a dimension may have
 * several roots, e.g. quarters without a year).  Parents need not precede
 * children; cycles are rejected. */
typedef struct sdct_dim {
	const char *name;
	size_t n_codes;
	const char *const *codes;  /* labels of the codes, e.g. "World", "F" */
	const int32_t *parent;
} sdct_dim;

/* The stored copy of a dimension (read-only for callers). */
typedef struct sdct_xdim {
	char *name;
	uint32_t n_codes;
	char **codes;
	int32_t *parent;           /* -1 = root */
	uint32_t *child_start;     /* children of k: child[child_start[k] .. [k+1]) */
	uint32_t *child;
	uint32_t *depth;           /* 0 for roots */
	uint32_t stride;           /* cell index = sum of code * stride */
} sdct_xdim;

typedef struct sdct_table {
	size_t n_cells, cap_cells;
	sdct_cell *cells;

	/* constraints: con_total[r] = sum of con_parts[con_start[r] ..
	 * con_start[r + 1]) */
	size_t n_cons, cap_cons;
	uint32_t *con_total;
	uint32_t *con_start;       /* n_cons + 1 entries once any exists */
	uint32_t *con_parts;
	size_t n_parts, cap_parts;

	/* built by sdct_finalize: constraints touching cell c are
	 * cell_cons[cell_start[c] .. cell_start[c + 1]) */
	uint32_t *cell_start, *cell_cons;
	int finalized;

	/* labels given to sdct_add_cell (cross tables derive theirs) */
	uint32_t *label_off;       /* UINT32_MAX = none */
	char *labels;
	size_t labels_len, labels_cap;

	/* cross-product structure, n_dims == 0 for a generic table */
	size_t n_dims;
	sdct_xdim *dims;
} sdct_table;

void sdct_init(sdct_table *t);
void sdct_free(sdct_table *t);

/* Append a cell; *idx (may be NULL) receives its index.  Requires
 * 0 <= lo <= hi; label may be NULL.  Fails after sdct_finalize. */
int sdct_add_cell(sdct_table *t, int64_t lo, int64_t hi, unsigned flags,
                  const char *label, uint32_t *idx, diag *d);

/* Append the constraint cells[total] = sum of cells[parts[k]].  Parts must
 * be distinct, exist, and differ from the total. */
int sdct_add_constraint(sdct_table *t, uint32_t total, const uint32_t *parts,
                        size_t n_parts, diag *d);

/* Replace the value of an existing cell (before or after finalize; after,
 * the caller must keep the constraints consistent). */
int sdct_set_value(sdct_table *t, uint32_t cell, int64_t lo, int64_t hi,
                   unsigned flags, diag *d);

/* Check every constraint for consistency of the intervals (some choice of
 * values in the intervals can satisfy it: sum of lo(parts) <= hi(total)
 * and sum of hi(parts) >= lo(total); equality when all are exact) and build
 * the cell -> constraint index.  EX_DATAERR names the first bad
 * constraint by its total's label. */
int sdct_finalize(sdct_table *t, diag *d);

/* The cell's label: the one given, or for cross tables the codes joined by
 * '/', or "#index".  Written into buf (always terminated); returns buf. */
const char *sdct_label(const sdct_table *t, uint32_t cell, char *buf,
                       size_t size);

/* Build every combination of the dimensions' codes as a cell (value 0) and
 * every additivity constraint: for each dimension, each non-leaf code p and
 * each combination of the other dimensions' codes, cell(.., p, ..) = sum of
 * cell(.., child, ..) over p's children.  The table must be empty.  Cell
 * index = sum over d of code_d * dims[d].stride (last dimension fastest). */
int sdct_cross_init(sdct_table *t, const sdct_dim *dims, size_t n_dims,
                    diag *d);
uint32_t sdct_cross_cell(const sdct_table *t, const uint32_t *codes);
void sdct_cross_coords(const sdct_table *t, uint32_t cell, uint32_t *codes);
/* Is every coordinate of the cell a leaf code? */
int sdct_cross_is_leaf(const sdct_table *t, uint32_t cell);
/* Overwrite every non-leaf cell with the sum of its children, dimension by
 * dimension (intervals add as [sum lo, sum hi]; totals get no flags), so
 * that the caller sets only the leaf cells.  Before sdct_finalize. */
int sdct_cross_sum_leaves(sdct_table *t, diag *d);

/* A point x (one value per cell) that satisfies every constraint with each
 * x[c] in [lo, hi]: the values themselves when every cell is exact,
 * otherwise an integer solution found with GLPK.  Fails with EX_DATAERR
 * when the intervals are inconsistent.  Needs sdct_finalize. */
int sdct_reference_point(const sdct_table *t, int64_t *x, diag *d);

/* What a suppressed cell is known to be by the attacker: [lo, hi] when its
 * bounds are public, [0, SDCT_INF] otherwise. */
static inline int64_t sdct_attacker_lo(const sdct_cell *c)
{
	return (c->flags & SDCT_F_PUBLIC_BOUNDS) ? c->lo : 0;
}
static inline int64_t sdct_attacker_hi(const sdct_cell *c)
{
	return (c->flags & SDCT_F_PUBLIC_BOUNDS) ? c->hi : SDCT_INF;
}

/* Is the cell an unknown of the attacker's system: suppressed, or published
 * only as an interval? */
static inline int sdct_is_var(const sdct_cell *c)
{
	return c->status != SDCT_PUBLISHED || c->lo < c->hi;
}

typedef struct sdct_summary {
	size_t n_primary, n_secondary;
	int64_t value_primary, value_secondary; /* sums of hi */
} sdct_summary;
void sdct_summarize(const sdct_table *t, sdct_summary *s);

#endif
