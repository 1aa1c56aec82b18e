/* researcher (rsr_): researcher accounts in the warehouse.
 *
 * A researcher may ask their own questions of the warehouse (privacy/
 * query.h) against a privacy budget the aggregator grants.  An account is
 * an id (1-32 of [a-z0-9_.-]), the Ed25519 public key that signs the
 * researcher's requests (an office-type key file of ingest/keys.h: the
 * same format, the country line naming the researcher's institution), an
 * expiry date (valid through that day, UTC) and, once revoked, the time of
 * revocation.  The budget is the ledger budget "researcher:<id>"
 * (privacy/ledger.h); spends against it are the researcher's answers.
 *
 * Why it is shaped so:
 *  - Granting sets the ledger total first (ledger_set_total, its own
 *    transaction and "budget.set" entry) and then inserts the account with
 *    its "researcher.grant" entry: a crash between the two leaves a budget
 *    nobody can spend from (no account), never an account without budget.
 *  - Revocation keeps the row (the audit trail refers to it); an account
 *    id is never reused with another key (grant refuses a known id).
 *  - rsr_check_active is the one rule for "may this account be answered
 *    today": not revoked and today <= expires.  Refusals are EX_NOPERM.
 *
 * Table (created idempotently by rsr_init):
 *   rsr_account(id PRIMARY KEY, public_key BLOB(32), key_id, created,
 *               expires 'YYYY-MM-DD', revoked_at or NULL, audit_seq)
 *
 * Ownership: the sqlite3 handle and strings are borrowed; rsr_list
 * returns a malloc'd array the caller free()s.  No state is kept.
 */
#ifndef TIPSTAT_RESEARCHER_H
#define TIPSTAT_RESEARCHER_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "core/diag.h"

#define RSR_BUDGET_PREFIX "researcher:"

typedef struct rsr_account {
	char id[33];
	unsigned char public_key[32];
	char key_id[17];
	char created[21];
	char expires[11];             /* YYYY-MM-DD, last valid day (UTC) */
	char revoked_at[21];          /* "" while not revoked */
	int64_t total, spent;         /* the ledger budget, nano-rho */
} rsr_account;

/* "researcher:<id>" into buf (at least 45 bytes). */
void rsr_budget_name(const char *id, char *buf, size_t size);
/* 1 if s is YYYY-MM-DD naming a real day. */
int rsr_valid_date(const char *s);

int rsr_init(sqlite3 *db, diag *d);
/* grant, raise and revoke are each one transaction: their checks, the
 * budget change (ledger_set_total_tx, audited "budget.set") and the account
 * change with its audit entry commit together or not at all.
 *
 * Create an account with a budget of rho nano-rho, expiring after
 * `expires`.  A known id is refused (EX_DATAERR); so is a key already used
 * by another account. */
int rsr_grant(sqlite3 *db, const char *actor, const char *id, const unsigned char pk[32],
              int64_t rho, const char *expires, diag *d);
/* Set the account's budget total to rho (raise; lowering below what is
 * spent is refused by the ledger), audited "researcher.raise".  expires
 * non-NULL also moves the expiry. */
int rsr_raise(sqlite3 *db, const char *actor, const char *id, int64_t rho,
              const char *expires, diag *d);
/* Revoke (EX_DATAERR unknown or already revoked), "researcher.revoke". */
int rsr_revoke(sqlite3 *db, const char *actor, const char *id, diag *d);
/* The account with its budget; unknown: EX_NOPERM "no researcher account". */
int rsr_get(sqlite3 *db, const char *id, rsr_account *out, diag *d);
/* Every account, by id. */
int rsr_list(sqlite3 *db, rsr_account **out, size_t *n, diag *d);
/* 0 when the account may be answered on `today` (YYYY-MM-DD...), else
 * EX_NOPERM naming why (revoked, expired). */
int rsr_check_active(const rsr_account *a, const char *today, diag *d);

#endif
