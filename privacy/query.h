/* query (qry_): answering researchers' signed questions against their
 * privacy budget, with an answer cache.
 *
 * Unit of privacy: one person's record (one case-level record of one
 * country, counted once: a re-reported case key counts in the first period
 * it appears, as in the cube).  A question is one indicator, a group-by
 * over harmonised dimensions and filters (privacy/request.h), so every
 * counted person falls in exactly one cell: the L2 sensitivity of the
 * vector of cell counts is 1, and discrete Gaussian noise with
 * sigma^2 = 1/(2 rho) on every cell gives rho-zCDP (CKS 2020, Thm 14).
 * With rho held as R nano-rho, sigma^2 = 10^9 / (2 R) exactly.  moe=M in a
 * request asks for the cheapest R whose 90% margin of error
 * (dp_gauss_moe) is at most M.
 *
 * The cells: every combination of the group-by dimensions' codes (the
 * codelists' sex, top-level age groups, forms, the five citizenship
 * classes; the geographies and years covered by case-level submissions),
 * restricted by the filters, so which cells exist reveals nothing about
 * which categories occurred.  Only case-level (records) submissions are
 * queried; countries that send aggregate cells only are not covered.
 * Post-processing: each noisy count is clamped at 0 (no privacy cost); the
 * store keeps the unclamped count too, for the intervals of sums.
 *
 * The answer cache (table qry_answer): every released answer is stored
 * with its question (privacy/request.h, canonical, without researcher or
 * cost), its rho and the warehouse state (audit seq) it was computed from.
 *  - Cached: the same question, with a stored answer at least as accurate
 *    as asked (eff_rho >= the rho asked), is answered from the store: identical numbers,
 *    nothing charged, audit "query.cached".
 *  - Derived: a question whose table is a margin or a selection of a
 *    stored one (same indicator; group-by dimensions a subset, geography
 *    equal or coarser; the same filters, except that on a dimension the
 *    stored table is grouped by (not the geography) the question may keep
 *    fewer codes) and accurate enough (every summed cell has variance at
 *    most that of the rho asked: base rho / k >= rho for k noisy cells
 *    summed, so a moe= request gets its margin), is answered by
 *    summing the stored released cells: free post-processing, consistent
 *    with the released table by construction (each derived cell IS the
 *    sum of released cells), audit "query.derived"; it is stored too.
 *    Its 90% interval is built on the sum of the summed cells' unclamped
 *    values (variance k sigma^2; qry_interval_of below).
 *  - Fresh: otherwise noise is drawn, then in ONE BEGIN IMMEDIATE
 *    transaction the account is re-checked, the audit entry
 *    "query.answer" appended, the researcher's budget charged with
 *    ledger_charge_tx and the answer stored; a refused charge rolls all
 *    back (nothing charged, nothing stored; the noise drawn is discarded)
 *    and is recorded as "query.refused" in its own transaction.  Two
 *    processes racing for the last of a budget are serialised by the
 *    write lock: the second sees the first's spend and is refused.
 * Answers made with a seeded dprng (tests) are stored as seeded, served
 * only to seeded runs, and stamped NOT PRIVATE.
 *
 * Refusals: EX_NOPERM (77) for an unknown, revoked or expired account, a
 * bad or missing signature, an overspend (the message names the amount
 * left); EX_DATAERR (65) for a question with too many cells or nothing
 * to answer from.  Every refusal of a parsed request is audited
 * ("query.refused researcher= reason=").
 *
 * Ownership: qry_answer owns its header and body (qry_answer_free).  The
 * wh, codelists and dprng are borrowed.  No state is kept.
 */
#ifndef TIPSTAT_QUERY_H
#define TIPSTAT_QUERY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "aggregator/warehouse.h"
#include "core/codelist.h"
#include "core/diag.h"
#include "privacy/dprng.h"
#include "privacy/request.h"

#define QRY_MAX_CELLS 200000
#define QRY_LEVEL 0.90

enum qry_source { QRY_FRESH = 1, QRY_CACHED = 2, QRY_DERIVED = 3 };

typedef struct qry_answer {
	char question[REQ_QUESTION_MAX];
	char qid[REQ_QID_HEX];
	int source;                   /* enum qry_source */
	int64_t answer_id;            /* row in qry_answer */
	int64_t from_id;              /* derived: the stored answer summed; else 0 */
	int64_t rho;                  /* nano-rho of the noise behind the answer */
	int64_t eff_rho;              /* accuracy per cell: rho / the most noisy
	                                 cells summed into one (rho when fresh) */
	int64_t charged;              /* nano-rho charged now (0 unless fresh) */
	int64_t total, left;          /* the researcher's budget after the answer */
	int64_t as_of_seq;            /* warehouse state (audit seq) answered from */
	int seeded;                   /* NOT PRIVATE */
	size_t n_cells;
	char *header;                 /* "region,year,sex" (group-by columns) */
	char *body;                   /* lines "code,...,value,moe90,k,x\n" (moe90: the
	                                 symmetric margin, kept in the store; the
	                                 CSV gives the interval instead; x: the
	                                 unclamped value, absent from answers
	                                 stored before it was kept) */
} qry_answer;

void qry_answer_free(qry_answer *a);
/* Create the cache table if missing (idempotent). */
int qry_init(sqlite3 *db, diag *d);
/* The cheapest rho (nano-rho) whose 90% margin is <= moe. */
int qry_rho_for_moe(int64_t moe, int64_t *rho, diag *d);
/* sigma^2 = num/den of the noise for rho nano-rho. */
void qry_sigma2(int64_t rho, uint64_t *num, uint64_t *den);

/* Answer the parsed request r (text/len: the bytes it was parsed from, for
 * the signature) for its researcher, today being now (YYYY-MM-DD...). */
int qry_ask(wh *w, const codelists *cl, const req_request *r, const char *text, size_t len,
            dprng *rng, const char *now, qry_answer *out, diag *d);

/* qry_ask_to: as qry_ask, and sink(answer, arg, d) is called with the
 * complete answer (fresh, cached or derived) inside the transaction, just
 * before it commits: the caller writes the answer there (to a temporary,
 * flushed to disk; core/atomic.h renames it after the return).  A sink
 * that fails (-1, d filled: a full disk) rolls the transaction back:
 * nothing charged, stored or audited for an answer that was not written.
 * The one gap left is a crash between the commit and the rename: then the
 * answer is charged and stored but not in place, and asking again serves
 * it from the store at no cost.  sink NULL = qry_ask. */
typedef int (*qry_sink)(const qry_answer *a, void *arg, diag *d);
int qry_ask_to(wh *w, const codelists *cl, const req_request *r, const char *text, size_t len,
               dprng *rng, const char *now, qry_sink sink, void *arg, qry_answer *out,
               diag *d);
/* 90% intervals of the answers' cells, [value - moe_lo, value + moe_hi]
 * (integers), from the rho of the noise behind the answer.
 *
 * A fresh (or cached) cell is released as E = max(t + Z, 0), Z discrete
 * Gaussian.  A symmetric E +- m covers a true count far from 0 90% of the
 * time but a true 0 whenever Z <= m, about 95%: so the interval is a
 * Neyman construction for the clamped count.  The acceptance region of t is
 * [t - m95, t + m95] from t* = m95 + 1 up (m95 = dp_gauss_moe at 90%:
 * P(|Z| <= m95) >= 0.90; from t*, a region without 0) and [0, t + m90]
 * below (m90: P(Z <= m90) >= 0.90, the 80% two-sided margin), and the
 * interval is every t whose region holds E: moe_hi = m95, and the lower end
 * is max(0, E - m90) while that is below t*, else max(t*, E - m95).  A true
 * 0 is covered when Z <= m90.  Every t is covered with probability >= 0.90,
 * more only by the discreteness of Z (integer margins): exactly 0.9061-
 * 0.9074 at sigma = 20 (rho 0.00125), 0.90-0.96 at sigma^2 = 5 (rho 0.1;
 * tests/unit/test_query.c).
 *
 * A derived cell sums k clamped cells, E = sum_i max(t_i + Z_i, 0): how
 * much the clamping pushed it up depends on which t_i are near 0, which
 * the released values do not tell.  So every stored cell keeps its
 * unclamped value t_i + Z_i too (the last field of a body line; never
 * shown, and a function of the noisy answer: post-processing), and a
 * derived cell sums them: X = T + a sum of k noises, N(0, k sigma^2) in
 * shape, and the interval is the Neyman construction of privacy/dpcube.c
 * on X (central from t* = z95 s, s^2 = k sigma^2; one-sided below it), the
 * whole numbers in it, widened to hold E: coverage 90% whatever the t_i.
 * Answers stored before that field existed have no X: then E - T =
 * sum_i max(Z_i, -t_i) lies between sum Z_i and sum max(Z_i, 0) whatever
 * the t_i; moe_hi bounds the first (z95 sqrt(k sigma^2)), moe_lo the
 * second (its normal approximation's 95% point, k sigma / sqrt(2 pi) +
 * z95 sigma sqrt(k (1/2 - 1/(2 pi))), at most E): coverage at least about
 * 90%, up to 95% -- conservative.  A moe= request's margin is the noise's
 * (moe_hi of a fresh cell); a derived interval's ends depend on X, not
 * only on E, and either can be larger. */
typedef struct qry_interval {
	double s2;                    /* sigma^2 of one cell's noise */
	int64_t m95, m90;             /* two-sided 90%, one-sided 90% margins */
} qry_interval;
int qry_interval_new(int64_t rho, qry_interval *iv, diag *d);
/* The interval of a cell of value `value` summing k noisy cells (1: a
 * cell of the table itself), x its unclamped value when known (used when
 * k >= 2), else NULL. */
void qry_interval_of(const qry_interval *iv, int64_t value, int64_t k, const int64_t *x,
                     int64_t *moe_lo, int64_t *moe_hi);

/* The answer as CSV: "# NOT PRIVATE" line when seeded, then
 * header,value,moe_lo,moe_hi and one line per cell (its 90% interval:
 * qry_interval_of). */
int qry_write_csv(const qry_answer *a, FILE *fp, diag *d);

#endif
