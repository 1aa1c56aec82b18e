/* audit (sdca_): the interval audit of a suppressed table, by linear
 * programming, independent of how the suppressions were chosen.
 *
 * The attacker knows every published value, every additivity constraint,
 * that counts are non-negative, and every interval that is public
 * (published intervals, and SDCT_F_PUBLIC_BOUNDS cells even when
 * suppressed).  For a suppressed cell c the audit computes
 *     min and max of x_c  subject to  A x = 0 (the constraints),
 *     published exact cells fixed, published intervals and public bounds
 *     as bounds, other suppressed cells in [0, inf)
 * with GLPK's primal simplex.  A primary cell is protected when the
 * integer interval [ceil(min), floor(max)] satisfies its requirement
 * (sdct_cell.req_lo / req_hi / req_width).  A release with an unprotected
 * primary cell is refused: -1 with EX_NOPERM (77), naming the cell.
 *
 * How it stays fast on 10^5 cells: the LPs are solved in deviation form
 * around a reference table x* (the true values; sdct_reference_point), and
 * by column generation.  Each suppressed cell j has columns y+_j, y-_j >= 0
 * (x_j = x*_j + y+_j - y-_j, bounded by the attacker's bounds), so y = 0 is
 * always feasible and a warm basis stays primal feasible when columns or
 * rows are added.  The LP starts from the target cell and its constraints;
 * after each solve, the cells of the current constraints that are not yet
 * in the LP are priced with the row duals (reduced cost of y+_j is
 * -sum_r pi_r a_rj; rows not yet in the LP have pi_r = 0) and those that
 * could improve the objective are added with their constraints.  When no
 * cell prices out, the restricted optimum is the optimum of the whole
 * system (LP duality: the duals are feasible for the omitted columns, which
 * sit at y = 0 inside their bounds).  Cells outside the LP stay at x*, so
 * every intermediate solution is a feasible table: a witness.  One GLPK
 * problem object is reused across cells (only the objective changes; the
 * basis is kept), and reset when it grows past a cap.
 *
 * Certificates first: given witness certificates (sdca_opts.certs, made by
 * supp_secondary_cert), CERTIFY mode checks every one with suppcert's own
 * linear checker -- nothing of the code that made them is trusted, only
 * the table.  Every accepted certificate is two integer tables the
 * attacker cannot rule out, so the range of a cell over all accepted
 * tables is inside the attacker's interval; a primary cell whose range
 * meets its requirement is protected (how = SDCA_BY_CERT), without an LP.
 * Every other primary cell, including those whose certificate was
 * rejected, gets the LP path below, so the verdict is exact either way;
 * the attacker LP is not even built when every primary is certified.
 * This is what makes the 100,000-cell bench table auditable in seconds.
 *
 * Two modes:
 *   SDCA_EXACT    min and max of every suppressed cell to LP optimality
 *                 (certificates are ignored).
 *   SDCA_CERTIFY  for primary cells, solve only until a witness table
 *                 proves the requirement (or the exact optimum shows it
 *                 cannot be met); the verdict is the same as EXACT's, but
 *                 reported intervals may be inner bounds (exact == 0).
 *                 Secondary cells get the range their witnesses showed.
 *                 Witness ranges found for one cell are reused for others:
 *                 when the whole system fits in one LP (2 x unknowns <=
 *                 region_cap), joint LPs over runs of 64 primary cells
 *                 (sdca_certify_set without its one-by-one step) first
 *                 push many cells to their goals at once, so that most
 *                 cells are settled by a witness range with no solve of
 *                 their own (bench 1k table: 514 -> 120 simplex calls,
 *                 audit 51 s -> 17 s side by side on a loaded machine).
 *                 Larger systems skip it: there the joint LPs grow by
 *                 column generation and cost more than they save.
 *
 * LP versus integers: the LP interval contains the integer one.  Rounding
 * inward ([ceil(min), floor(max)]) is exact when the optimal vertex is
 * integral -- always for totally unimodular systems (one dimension, and
 * two-dimensional tables), and reported per cell (int_exact).  For three or
 * more dimensions an attacker reasoning over integers can in rare cases
 * narrow a cell further than the LP shows; int_exact == 0 marks where the
 * guarantee is only the LP one.
 *
 * GLPK output is silenced per call (msg_lev = GLP_MSG_OFF), never through
 * the global glp_term_out.
 *
 * Ownership: an attacker borrows the table (which must outlive it and stay
 * finalized) and owns its GLPK problem; sdca_attacker_free releases it.  A
 * report owns its array; sdca_report_free releases it.
 */
#ifndef TIPSTAT_SDC_AUDIT_H
#define TIPSTAT_SDC_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include "core/diag.h"
#include "privacy/sdc_table.h"
#include "privacy/suppcert.h"

enum sdca_mode { SDCA_EXACT = 0, SDCA_CERTIFY = 1 };

typedef struct sdca_opts {
	int mode;              /* enum sdca_mode */
	size_t region_cap;     /* LP columns before the problem is reset; 0 = 3000 */
	/* CERTIFY mode: witness certificates (privacy/suppcert.h, e.g. from
	 * supp_secondary_cert) checked first; NULL = none.  EXACT ignores them. */
	const scert_set *certs;
} sdca_opts;

/* How a primary cell was settled (sdca_interval.how). */
enum sdca_how {
	SDCA_BY_LP = 0,        /* the attacker LP (exact or stopped at the goal) */
	SDCA_BY_PATTERN = 1,   /* integer witnesses the audit searched itself */
	SDCA_BY_CERT = 2       /* a supplied certificate, checked by suppcert */
};

typedef struct sdca_interval {
	uint32_t cell;
	uint8_t status;        /* SDCT_PRIMARY or SDCT_SECONDARY */
	uint8_t exact;         /* both ends are LP optima (not inner bounds) */
	uint8_t int_exact;     /* both ends attained by integral solutions */
	uint8_t ok;            /* primary: requirement met; secondary: 1 */
	uint8_t witness;       /* CERTIFY: settled by verified integer tables */
	uint8_t how;           /* primary: enum sdca_how */
	double lp_min, lp_max; /* lp_max = HUGE_VAL when unbounded */
	int64_t lo, hi;        /* [ceil(lp_min), floor(lp_max)]; hi = SDCT_INF if unbounded */
} sdca_interval;

typedef struct sdca_report {
	sdca_interval *iv;     /* one per suppressed cell, by cell index */
	size_t n_iv;
	size_t n_primary, n_exposed;
	uint32_t first_exposed; /* UINT32_MAX if none */
	size_t n_lp;           /* glp_simplex calls */
	size_t n_witness;      /* primary cells settled by integer witnesses
	                          (the audit's own or certificates) */
	size_t n_cert;         /* of which by supplied certificates */
	size_t n_cert_rejected; /* supplied certificates the check refused */
	size_t max_columns;    /* largest LP built */
	double seconds;
} sdca_report;

/* Audit every suppressed cell of a finalized table.  Returns 0 when every
 * primary cell meets its requirement; -1 with EX_NOPERM when one does not
 * (message names the first such cell by its label; every exposed cell is
 * also added as a DIAG_ERROR item), or another code on failure.  The report
 * is filled in both of the first two cases. */
int sdca_run(const sdct_table *t, const sdca_opts *o, sdca_report *r, diag *d);
void sdca_report_free(sdca_report *r);

/* Does [lo, hi] (integer attacker interval) meet the cell's requirement? */
int sdca_meets(const sdct_cell *c, int64_t lo, int64_t hi);

/* ---- the incremental attacker (used by the audit, and by suppress.c as
 * an oracle while it chooses cells) ---- */
typedef struct sdca_attacker sdca_attacker;

/* xref: a feasible table (one value per cell) or NULL to compute one with
 * sdct_reference_point.  It is checked against every constraint. */
int sdca_attacker_new(const sdct_table *t, const int64_t *xref,
                      size_t region_cap, sdca_attacker **out, diag *d);
void sdca_attacker_free(sdca_attacker *a);

/* Tell the attacker that the status (or flags) of `cell` changed.  Making
 * a cell published forgets every witness range (they may no longer be
 * feasible). */
void sdca_attacker_refresh(sdca_attacker *a, uint32_t cell);

/* GLPK failed in this thread (privacy/lpguard.h): its environment, and the
 * attacker's problem object with it, is gone.  The attacker forgets the
 * object; sdca_optimize then fails with `why` (EX_OSERR), and
 * sdca_attacker_free only frees our own memory.  The attacker calls this
 * itself when GLPK fails inside it; suppress.c when its own MIPs fail. */
void sdca_attacker_lp_lost(sdca_attacker *a, const char *why);

/* Optimise x_cell in direction dir (+1 max, -1 min), stopping as soon as a
 * witness reaches goal (pass dir * HUGE_VAL for the optimum).  *value is
 * the best value a feasible table attains; *exact is 1 when it is the LP
 * optimum; *integral when that optimum's solution was integral. */
int sdca_optimize(sdca_attacker *a, uint32_t cell, int dir, double goal,
                  double *value, int *exact, int *integral, diag *d);

/* Decide whether a primary cell meets its requirement, solving only as far
 * as needed.  lo/hi: the interval shown (exact or inner), may be NULL. */
int sdca_certify(sdca_attacker *a, uint32_t cell, int *ok, double *lo,
                 double *hi, int *exact, diag *d);

/* sdca_certify for a set of primary cells at once: one LP pushes every
 * cell of the set up towards its goal together (and one down, for the
 * cells that need it), each capped at its goal; every cell that LP brings
 * to its goal is settled by that one witness table.  Cells left short are
 * certified one by one with sdca_certify, so each verdict ok[k] is the
 * same as sdca_certify's; lo/hi (n entries each) get the interval shown.
 * With stop, it returns at the first cell found unprotected (later cells
 * stay ok = 0, undecided).  sdca_last_support then gives the union of the
 * supports of every witness used: a cell outside it can be published
 * without breaking any of them. */
int sdca_certify_set(sdca_attacker *a, const uint32_t *cells, size_t n, int stop, uint8_t *ok,
                     double *lo, double *hi, diag *d);

/* Integer witness certificates for cross tables (on by default when the
 * table has dimensions): sdca_certify first searches for two integer
 * tables, built from patterns over hidden cells, that meet the requirement,
 * and checks them against every constraint and bound they touch; only if
 * none is found does it solve LPs.  sdca_last_was_witness tells which way
 * the last sdca_certify was settled. */
void sdca_attacker_patterns(sdca_attacker *a, int on);
int sdca_last_was_witness(const sdca_attacker *a);

/* Cells whose value differs from x* in the witnesses of the last
 * sdca_certify (valid until the next call). */
void sdca_last_support(const sdca_attacker *a, const uint32_t **cells,
                       size_t *n);

/* The range of x_cell over every witness table seen since the last reset. */
void sdca_witnessed(const sdca_attacker *a, uint32_t cell, double *lo,
                    double *hi);

/* Witness shortcuts (on by default): a goal already reached by an earlier
 * witness is answered without solving.  Off, every answer comes from a
 * fresh solve, so sdca_last_support is complete. */
void sdca_attacker_shortcuts(sdca_attacker *a, int on);

/* The reference table the attacker works around (one value per cell). */
const int64_t *sdca_reference(const sdca_attacker *a);

size_t sdca_lp_count(const sdca_attacker *a);

#endif
