/* ledger (ledger_): the privacy-budget ledger, kept in the warehouse.
 *
 * Releases under zero-concentrated differential privacy cost rho, and rho
 * composes by addition.  A budget is a named total ("releases" for the
 * aggregator's table releases, "researcher:<id>" for a researcher account);
 * every spend against it is a row (budget, what was bought, rho, how the
 * rho was split across levels and tables, time, the audit entry recording
 * it).  A spend that would take the budget past its total is refused with
 * EX_NOPERM (77), and so is a spend against a budget that does not exist:
 * no budget, nothing may be spent.
 *
 * Why it is shaped so:
 *  - Exact arithmetic.  rho is stored and added as an int64 count of
 *    nano-rho (LEDGER_UNIT = 1e-9 rho), never as a double, so sums never
 *    drift and exactly the amount left can be spent.  Text is parsed
 *    exactly (ledger_parse_rho): a decimal ("0.5", "1e-3", "2.5E-7") or a
 *    fraction ("1/8") whose value is an exact whole number of nano-rho and
 *    at most LEDGER_MAX_RHO rho; anything else ("1/3", "1e-10", "-1") is
 *    refused, never rounded.  A double (relreg_info.rho) is accepted only
 *    when it is exactly the double nearest to a whole number of nano-rho
 *    (what strtod gives for a decimal of at most 9 places).
 *  - Atomic.  The check (total - spent >= rho) and the insert of the spend
 *    happen inside one BEGIN IMMEDIATE transaction, which holds SQLite's
 *    write lock: two processes racing for the last of a budget are
 *    serialised, the second sees the first's spend and is refused.
 *    ledger_charge_tx() runs inside a caller's transaction, so a release
 *    (privacy/relreg.h) or a researcher's answer is recorded and charged
 *    together or not at all.  A refused charge writes nothing.  Triggers
 *    in the schema refuse, as a second line, an overspending insert and
 *    any UPDATE or DELETE of a spend.
 *  - Splits.  A spend may carry its split: comma separated LABEL:RHO
 *    items ("country:0.25,region:0.125,world:1/8"), labels 1-64 of
 *    [A-Za-z0-9_./+#-], unique, amounts exact as above and summing
 *    EXACTLY to the spend.  It is stored (and put in the audit entry) in
 *    canonical form, amounts as canonical decimals.
 *  - Audited.  Setting a total appends "budget.set"; ledger_charge()
 *    appends "budget.spend"; a charge inside a release is recorded by the
 *    caller's own entry (relreg: "release.create"), whose seq the spend
 *    row keeps.
 *
 * Tables (created idempotently by ledger_init; docs/privacy-budget.md):
 *   ledger_budget(name PRIMARY KEY, total, created, updated, audit_seq)
 *   ledger_spend(id, budget, what, rho, split, ts, audit_seq)
 *
 * Errors: EX_NOPERM refused (overspend, unknown budget), EX_DATAERR a bad
 * value (unparsable or inexact rho, a split that does not add up, a total
 * below what is spent), EX_USAGE a malformed name, EX_TEMPFAIL locked,
 * EX_IOERR database errors, EX_SOFTWARE a _tx call outside a transaction.
 *
 * Ownership: the sqlite3 handle and every string passed in are borrowed
 * for the call; arrays returned by the list functions are malloc'd and the
 * caller free()s them.  The module keeps no state.
 */
#ifndef TIPSTAT_LEDGER_H
#define TIPSTAT_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "core/diag.h"

#define LEDGER_UNITS_PER_RHO INT64_C(1000000000)  /* 1 nano-rho = 1e-9 rho */
#define LEDGER_MAX_RHO INT64_C(1000000)           /* largest total or spend */
#define LEDGER_MAX_UNITS (LEDGER_MAX_RHO * LEDGER_UNITS_PER_RHO)
#define LEDGER_NAME_MAX 64     /* budget names, what, split labels */
#define LEDGER_SPLIT_MAX 2048  /* canonical split text */
#define LEDGER_RHO_STR 32      /* buffer for ledger_format_rho */
#define LEDGER_DELTA_DEFAULT 1e-9

typedef struct ledger_budget {
	char name[LEDGER_NAME_MAX + 1];
	int64_t total, spent;          /* nano-rho */
	int64_t n_spends;
	char updated[21];              /* when the total was last set */
} ledger_budget;

typedef struct ledger_spend {
	int64_t id;
	char budget[LEDGER_NAME_MAX + 1];
	char what[LEDGER_NAME_MAX + 1];
	int64_t rho;                   /* nano-rho */
	char split[LEDGER_SPLIT_MAX + 1]; /* canonical, "" when none */
	char ts[21];
	int64_t audit_seq;
} ledger_spend;

/* --- values ----------------------------------------------------------------- */

/* Parse rho text exactly into nano-rho (rules above); EX_DATAERR naming
 * the text when it is not a whole number of nano-rho in [0, MAX]. */
int ledger_parse_rho(const char *s, int64_t *units, diag *d);
/* Canonical decimal of units: "0", "1", "0.3", "0.000000001". */
void ledger_format_rho(int64_t units, char buf[LEDGER_RHO_STR]);
/* A double rho as nano-rho, when it is exactly representable (above). */
int ledger_rho_from_double(double rho, int64_t *units, diag *d);
/* The (epsilon, delta)-DP guarantee implied by rho-zCDP:
 * eps = rho + 2 sqrt(rho ln(1/delta)); delta in (0, 1). */
double ledger_epsilon(int64_t units, double delta);
/* 1 if s is a valid budget name or spend subject (what): 1-64 of
 * [A-Za-z0-9_.:-] (every release name is one). */
int ledger_valid_name(const char *s);
/* Check a split against rho and write its canonical form to out
 * (LEDGER_SPLIT_MAX + 1 bytes is always enough).  NULL or "" is no split
 * (out = "").  EX_DATAERR when malformed or when it does not sum to rho. */
int ledger_split_canon(const char *split, int64_t rho, char *out, size_t out_size, diag *d);

/* --- the ledger ------------------------------------------------------------- */

/* Create the tables if missing (idempotent).  Writers call it inside their
 * transaction, so a rolled-back write leaves no empty table behind. */
int ledger_init(sqlite3 *db, diag *d);
/* Set (create, raise or lower) budget's total to total nano-rho, in its own
 * transaction with the audit entry "budget.set".  A total below what is
 * already spent is refused (EX_DATAERR, naming both). */
int ledger_set_total(sqlite3 *db, const char *actor, const char *budget, int64_t total,
                     diag *d);
/* The same inside the caller's open transaction (the caller commits, or
 * rolls back on -1): for a command whose budget change must land together
 * with its other writes (researcher grant and raise). */
int ledger_set_total_tx(sqlite3 *db, const char *actor, const char *budget, int64_t total,
                        diag *d);
/* Total and spent (nano-rho) of budget; unknown budget: EX_DATAERR.  Works
 * on a read-only connection, also before ledger_init. */
int ledger_get(sqlite3 *db, const char *budget, int64_t *total, int64_t *spent, diag *d);
/* Every budget, by name. */
int ledger_list_budgets(sqlite3 *db, ledger_budget **out, size_t *n, diag *d);
/* Every spend (budget NULL) or budget's spends, in the order made. */
int ledger_list_spends(sqlite3 *db, const char *budget, ledger_spend **out, size_t *n,
                       diag *d);
/* Charge rho nano-rho to budget for `what`, INSIDE the caller's open
 * BEGIN IMMEDIATE transaction (refused otherwise, EX_SOFTWARE).  audit_seq
 * is the caller's audit entry recording the spend (in the same
 * transaction).  Refused with EX_NOPERM when the budget does not exist or
 * when rho exceeds what is left (the message names the amount requested
 * and the amount left); then nothing was written, and the caller rolls its
 * transaction back.  out_id (may be NULL) receives the spend's id. */
int ledger_charge_tx(sqlite3 *db, const char *budget, const char *what, int64_t rho,
                     const char *split, int64_t audit_seq, int64_t *out_id, diag *d);
/* ledger_charge_tx in its own transaction, with the audit entry
 * "budget.spend" (budget, what, rho, left after, split). */
int ledger_charge(sqlite3 *db, const char *actor, const char *budget, const char *what,
                  int64_t rho, const char *split, int64_t *out_id, diag *d);

#endif
