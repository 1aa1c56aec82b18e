/* suppcert (scert_): witness certificates of cell protection, checked in
 * linear time without a solver.
 *
 * Why: proving that a primary cell is protected normally takes two LPs
 * over the whole system of the table (privacy/audit.h).  But whoever
 * chose the suppressions (privacy/suppress.h's pattern heuristic) already
 * holds the proof: two integer tables that agree with everything the
 * attacker knows, one raising the cell and one lowering it.  Any table the
 * attacker cannot rule out bounds his interval from inside, so two such
 * tables that put the cell at a and b prove that the attacker's interval
 * contains [a, b].  A certificate writes them down as moves from a base
 * table, and checking it is a pass over the moved cells and the
 * constraints they touch -- anybody can do it, and it does not trust the
 * code that produced it.
 *
 * A certificate set = one base table x (a value per cell) + per certified
 * primary cell a list of moves (cell, up, dn): the raising table is
 * x + up, the lowering one x + dn (cells not listed do not move).  The
 * checker accepts a certificate for primary cell i when
 *   - the base is a table of the true values' kind: every x_j in the
 *     cell's interval [lo, hi], every constraint adding up (checked once);
 *   - every listed cell exists and is listed once;
 *   - every moved cell is an unknown of the attacker (suppressed, or
 *     published only as an interval), and both tables keep it inside what
 *     the attacker knows of it (sdct_attacker_lo/hi for a suppressed cell,
 *     [lo, hi] for a published interval; hi >= SDCT_HUGE is no bound);
 *   - every constraint touching a moved cell sums the moves to 0 in both
 *     tables (so both tables keep every constraint);
 *   - i is PRIMARY and [x_i + dn_i, x_i + up_i] meets its requirement
 *     (sdca_meets of privacy/audit.h: reaches req_lo and req_hi and is
 *     req_width wide).
 * Since both tables are integer, the proof holds against an attacker who
 * reasons over integers too.  A rejected certificate proves nothing: the
 * caller (the audit) then decides the cell with its LP.
 *
 * Ownership: a set owns its arrays (scert_free).  A checker borrows the
 * table and the set (both must outlive it and stay unchanged) and owns its
 * scratch memory (scert_checker_free).
 */
#ifndef TIPSTAT_SUPPCERT_H
#define TIPSTAT_SUPPCERT_H

#include <stddef.h>
#include <stdint.h>
#include "core/diag.h"
#include "privacy/sdc_table.h"

typedef struct scert {
	uint32_t cell;         /* the primary cell it protects */
	size_t off, n;         /* its moves: mcell/mup/mdn[off .. off + n) */
} scert;

typedef struct scert_set {
	size_t n_cells;        /* of the table the base belongs to */
	int64_t *base;         /* n_cells values; NULL until scert_set_base */
	scert *c;
	size_t n, cap;
	uint32_t *mcell;
	int64_t *mup, *mdn;
	size_t n_moves, cap_moves;
} scert_set;

void scert_init(scert_set *s);
void scert_free(scert_set *s);

/* Copy the base table (n values). */
int scert_set_base(scert_set *s, const int64_t *x, size_t n, diag *d);

/* Append a certificate for primary `cell`: n moves. */
int scert_add(scert_set *s, uint32_t cell, const uint32_t *cells, const int64_t *up,
              const int64_t *dn, size_t n, diag *d);

/* Why a certificate was rejected (SCERT_OK = accepted). */
enum scert_verdict {
	SCERT_OK = 0,
	SCERT_BASE,            /* the base is not a table of the true values' kind */
	SCERT_NOT_PRIMARY,     /* the cell is not a primary cell of the table */
	SCERT_BAD_CELL,        /* a move names a cell that does not exist */
	SCERT_REPEATED,        /* a cell is listed twice */
	SCERT_KNOWN,           /* moves a cell the attacker knows exactly */
	SCERT_BOUNDS,          /* a table leaves a moved cell's known bounds */
	SCERT_CONSTRAINT,      /* a constraint does not add up in a table */
	SCERT_TOO_LITTLE       /* the cell does not move as far as required */
};
const char *scert_verdict_str(int v);

typedef struct scert_checker scert_checker;

/* Check the base once (against the table's intervals and constraints). */
int scert_checker_new(const sdct_table *t, const scert_set *s, scert_checker **out, diag *d);
void scert_checker_free(scert_checker *k);

/* Check certificate number idx of the set; returns an enum scert_verdict.
 * On SCERT_OK, *lo and *hi (may be NULL) get the interval it proves. */
int scert_check(scert_checker *k, size_t idx, int64_t *lo, int64_t *hi);

#endif
