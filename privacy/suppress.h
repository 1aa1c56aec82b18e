/* suppress (supp_): primary and secondary cell suppression for tables.
 *
 * Primary suppression marks the small counts: a cell whose interval
 * [lo, hi] meets 1 .. threshold-1 (0 .. threshold-1 when zeros are
 * sensitive) must not be published, and gets a protection requirement:
 *
 *   Protection rule (tau-Argus / Fischetti & Salazar-Gonzalez protection
 *   levels, expressed relative to the threshold T):
 *     UPL = ceil(upl_pct * T / 100), LPL = ceil(lpl_pct * T / 100),
 *     SPL = ceil(spl_pct * T / 100);
 *     with [A, B] what the attacker knows of the cell anyway ([0, inf), or
 *     its public bounds), the attacker's interval [a, b] for the cell must
 *     satisfy
 *       a <= max(A, lo - LPL),  b >= min(B, hi + UPL),
 *       b - a >= min(SPL, B - A)                       (sliding level).
 *   Default upl = lpl = 0, spl = 100: the interval must be at least T wide.
 *   Since such an interval contains the true value v (0 < v < T), it
 *   contains 0 or T: an attacker can never conclude "this count is small
 *   and non-zero".  A censored cell whose interval is public can only be
 *   required not to be narrowed below that interval.  More generally,
 *   when the table has public bounds, [A, B] is what the attacker derives
 *   from the public bounds and the constraints with every cell hidden
 *   (two LPs per primary cell): no release can hide more than that, so
 *   the requirement is clamped to it.
 *
 * Secondary suppression chooses further cells so that every primary cell
 * meets its requirement against the attacker of privacy/audit.h, at least
 * cost.  Costs (supp_costs): 1 per cell (SUPP_OBJ_CELLS) or value + 1
 * (SUPP_OBJ_VALUE), times (1 + total_weight)^k where k is the number of
 * constraints the cell is the total of, times top_weight for a cell that is
 * a total and part of nothing (the grand total): grand totals go only when
 * nothing else works.
 *
 * Methods:
 *   SUPP_GLPK       first a global MIP over every published cell: the
 *                   conditions of each single constraint (a relaxation),
 *                   then rounds that add capacity cuts (Fischetti &
 *                   Salazar-Gonzalez, from the duals of an attacker LP)
 *                   for the cells its choice leaves open, while time
 *                   allows (global_time_ms, global_rounds); then,
 *                   exact per cell: for each primary cell that the attacker
 *                   LP cannot show to be protected, a MIP (GLPK) over its
 *                   neighbourhood chooses the cheapest set of cells that
 *                   admits two feasible tables, one raising the cell to its
 *                   upper requirement and one lowering it, with the width
 *                   between them; then a clean-up pass publishes again every
 *                   secondary cell whose removal leaves all primary cells
 *                   protected (re-checked by LP).  Small and medium tables.
 *   SUPP_HEURISTIC  for cross-product tables: every deviation that keeps
 *                   all the constraints of a cross table is a sum of
 *                   "patterns", outer products of one-dimensional balanced
 *                   vectors (a code and a sibling with opposite signs, or a
 *                   path up the hierarchy; the hypercube method uses the
 *                   sibling kind only).  For each primary cell a branch and
 *                   bound over patterns picks the cheapest whose capacity
 *                   (how far the attacker can move the cell before another
 *                   cell hits its bounds) meets the requirement, free
 *                   patterns (all cells already hidden) first; the chosen
 *                   patterns are integer witness tables, so protection holds
 *                   even against an integer attacker.  Then a clean-up
 *                   with witnesses rebuilt from free patterns only.
 *                   Linear in the number of primary cells.  Generic tables
 *                   and cells the search cannot protect fall back to adding
 *                   the cheapest partner cells until the attacker LP agrees.
 *                   Its clean-up never calls the LP: a secondary cell is
 *                   published again only when every primary whose witness
 *                   moves it finds a new pattern witness over the cells
 *                   still hidden.  The final witnesses are the primaries'
 *                   certificates (supp_secondary_cert, privacy/suppcert.h),
 *                   which the audit checks in linear time.
 *   SUPP_AUTO       GLPK up to auto_max_cells cells, else the heuristic;
 *                   cross tables with more than 250,000 primaries x cells
 *                   go to the heuristic too (the GLPK clean-up's LPs grow
 *                   with both: 216 s on the bench's 1,125-cell table with
 *                   475 primaries, 0.1 s for the heuristic).
 *
 * Ownership: these functions change statuses, requirements and costs of
 * the caller's table and nothing else.
 */
#ifndef TIPSTAT_SUPPRESS_H
#define TIPSTAT_SUPPRESS_H

#include <stddef.h>
#include <stdint.h>
#include "core/diag.h"
#include "privacy/sdc_table.h"
#include "privacy/suppcert.h"

enum supp_zeros { SUPP_ZEROS_PUBLISH = 0, SUPP_ZEROS_SENSITIVE = 1 };

typedef struct supp_params {
	int64_t threshold;             /* 0 < v < threshold is sensitive; default 5 */
	int zeros;                     /* enum supp_zeros; default publish */
	unsigned upl_pct, lpl_pct, spl_pct; /* of the threshold; default 0, 0, 100 */
} supp_params;

void supp_params_default(supp_params *p);

/* Mark primary cells and set their requirements (sdct_cell.req_*).
 * Cells already PRIMARY stay primary (manual suppression) and get a
 * requirement too; SECONDARY cells become PUBLISHED again.  Needs a
 * finalized table.  *n_primary may be NULL. */
int supp_primary(sdct_table *t, const supp_params *p, size_t *n_primary, diag *d);

enum supp_method { SUPP_AUTO = 0, SUPP_GLPK = 1, SUPP_HEURISTIC = 2 };
enum supp_objective { SUPP_OBJ_CELLS = 0, SUPP_OBJ_VALUE = 1 };

typedef struct supp_opts {
	int method;                    /* enum supp_method */
	int objective;                 /* enum supp_objective */
	double total_weight;           /* default 1: cost doubles per total-ness */
	double top_weight;             /* default 1000 */
	size_t auto_max_cells;         /* default 4000 */
	int no_cleanup;                /* skip the redundancy clean-up */
	unsigned mip_time_ms;          /* GLPK method, per MIP; default 2000 */
	size_t mip_max_cells;          /* GLPK method neighbourhood; default 300 */
	int no_global;                 /* GLPK method: skip the global MIP */
	unsigned global_time_ms;       /* its time limit (all rounds); default 20000 */
	unsigned global_rounds;        /* GLPK method: solves of the global MIP,
	                                  each after adding capacity cuts for the
	                                  cells the last left open; 0 = until all
	                                  are protected or out of time, 1 = the
	                                  relaxation alone */
	unsigned cleanup_ms;           /* time budget of the clean-up; 0 = none.
	                                  Cells it has not reached stay hidden:
	                                  more loss, never less protection. */
} supp_opts;

void supp_opts_default(supp_opts *o);

typedef struct supp_stats {
	int method;                    /* the method actually used */
	size_t n_primary, n_secondary;
	int64_t value_primary, value_secondary; /* sums of hi */
	size_t n_checked;              /* attacker certifications */
	size_t n_mip;                  /* MIPs solved (GLPK method) */
	size_t n_patterns;             /* patterns applied (heuristic) */
	size_t n_fallback;             /* cells protected by the partner fallback */
	size_t n_removed;              /* secondaries published again by clean-up */
	size_t cleanup_cut;            /* candidates left unexamined (budget) */
	size_t n_lp;                   /* simplex calls of the attacker */
	double lower_bound;            /* GLPK method: proven lower bound on the
	                                  cost of any protecting suppression (the
	                                  best of the global MIP's rounds solved
	                                  to optimality; 0 when none was) */
	size_t n_cert;                 /* primaries given a witness certificate
	                                  (supp_secondary_cert) */
	double seconds;
} supp_stats;

/* Set every cell's cost for the objective (supp_secondary calls it). */
void supp_costs(sdct_table *t, int objective, double total_weight, double top_weight);

/* Choose secondary cells.  Call after supp_primary.  Fails with EX_DATAERR
 * (naming the cell) if some primary cell cannot be protected even with
 * every other cell hidden -- e.g. public bounds of other cells pin it. */
int supp_secondary(sdct_table *t, const supp_opts *o, supp_stats *st, diag *d);

/* supp_secondary, and certificates of protection (privacy/suppcert.h) in
 * *certs (an scert_init'ed set; the caller frees it): for every primary
 * cell of a cross table that has integer witness tables -- the
 * heuristic's own, or for the GLPK method ones searched over the hidden
 * cells of the result -- so that the audit (sdca_opts.certs) checks them
 * in linear time and solves LPs only for the rest.  Generic tables get
 * no certificates. */
int supp_secondary_cert(sdct_table *t, const supp_opts *o, supp_stats *st, scert_set *certs,
                        diag *d);

#endif
