/* researcher: accounts of researchers and their budgets
 * (privacy/researcher.h). */
#include "privacy/researcher.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include "aggregator/auditlog.h"
#include "core/period.h"
#include "ingest/keys.h"
#include "privacy/ledger.h"
#include "privacy/request.h"
#include "core/sqlx.h"
#include "core/vec.h"

#define DB_WHAT "warehouse" /* the prefix of SQLite errors */

void rsr_budget_name(const char *id, char *buf, size_t size)
{
	snprintf(buf, size, RSR_BUDGET_PREFIX "%s", id);
}

int rsr_valid_date(const char *s)
{
	int y, m, dd;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = atoi(s);
	m = atoi(s + 5);
	dd = atoi(s + 8);
	return period_valid_date(y, m, dd);
}

int rsr_init(sqlite3 *db, diag *d)
{
	int rc = sqlite3_exec(db,
	                      "CREATE TABLE IF NOT EXISTS rsr_account(\n"
	                      "  id TEXT PRIMARY KEY,\n"
	                      "  public_key BLOB NOT NULL UNIQUE CHECK(length(public_key) = 32),\n"
	                      "  key_id TEXT NOT NULL,\n"
	                      "  created TEXT NOT NULL,\n"
	                      "  expires TEXT NOT NULL,\n"
	                      "  revoked_at TEXT,\n"
	                      "  audit_seq INTEGER NOT NULL)",
	                      NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : sqlx_fail(db, rc, DB_WHAT, d);
}

static int check_id(const char *id, diag *d)
{
	if (!id || !req_valid_id(id))
		return diag_fail(d, EX_USAGE, "researcher id '%s': use 1-32 of a-z 0-9 _ . - "
		                 "(starting with a letter or digit)", id ? id : "");
	return 0;
}

int rsr_grant(sqlite3 *db, const char *actor, const char *id, const unsigned char pk[32],
              int64_t rho, const char *expires, diag *d)
{
	if (check_id(id, d) != 0)
		return -1;
	if (!rsr_valid_date(expires))
		return diag_fail(d, EX_USAGE, "expiry '%s': use YYYY-MM-DD", expires);
	unsigned char tmp[32];
	if (crypto_sign_ed25519_pk_to_curve25519(tmp, pk) != 0)
		return diag_fail(d, EX_DATAERR, "researcher '%s': not a valid Ed25519 public key", id);
	/* one transaction: the table (on first use), the checks, the budget
	 * and the account land together or not at all */
	if (sqlx_begin(db, DB_WHAT, d) != 0)
		return -1;
	if (rsr_init(db, d) != 0)
		return sqlx_rollback(db);
	rsr_account a;
	diag d2 = DIAG_INIT;
	int exists = rsr_get(db, id, &a, &d2) == 0;
	diag_free(&d2);
	if (exists) {
		diag_fail(d, EX_DATAERR, "researcher '%s' already has an account (raise, or revoke "
		          "it; ids are never reused)", id);
		return sqlx_rollback(db);
	}
	{
		sqlite3_stmt *q;
		int qrc = sqlite3_prepare_v2(db, "SELECT id FROM rsr_account WHERE public_key = ?", -1,
		                             &q, NULL);
		if (qrc != SQLITE_OK) {
			sqlx_fail(db, qrc, DB_WHAT, d);
			return sqlx_rollback(db);
		}
		sqlite3_bind_blob(q, 1, pk, 32, SQLITE_STATIC);
		qrc = sqlite3_step(q);
		sqlite3_finalize(q);
		if (qrc == SQLITE_ROW) {
			diag_fail(d, EX_DATAERR, "researcher '%s': that public key already belongs to "
			          "another account", id);
			return sqlx_rollback(db);
		}
	}
	char budget[64];
	rsr_budget_name(id, budget, sizeof budget);
	if (ledger_set_total_tx(db, actor, budget, rho, d) != 0)
		return sqlx_rollback(db);
	unsigned char kid[KEYS_ID_BYTES];
	char kid_hex[KEYS_ID_HEX], r[LEDGER_RHO_STR], detail[256], ts[SQLX_TS_LEN];
	keys_id(pk, kid);
	keys_id_hex(kid, kid_hex);
	ledger_format_rho(rho, r);
	snprintf(detail, sizeof detail, "researcher=%s key_id=%s rho=%s expires=%s", id, kid_hex, r,
	         expires);
	int64_t seq;
	if (audit_append(db, actor, "researcher.grant", detail, &seq, d) != 0)
		return sqlx_rollback(db);
	sqlx_now_utc(ts);
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "INSERT INTO rsr_account(id, public_key, key_id, created, "
	                            "expires, revoked_at, audit_seq) VALUES(?,?,?,?,?,NULL,?)",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK) {
		sqlx_fail(db, rc, DB_WHAT, d);
		return sqlx_rollback(db);
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, pk, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, kid_hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, expires, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, seq);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	/* the id and the key were checked above, in this transaction, so a
	 * constraint failing here is another one: SQLite's message says which
	 * (EX_DATAERR through sqlx_code) */
	if (rc != SQLITE_DONE) {
		sqlx_fail(db, rc, DB_WHAT, d);
		return sqlx_rollback(db);
	}
	return sqlx_commit(db, DB_WHAT, d);
}

/* Run sql, an UPDATE of one account with two text parameters (the new
 * value, then the id).  0, or -1 with d set. */
static int set_text(sqlite3 *db, const char *sql, const char *value, const char *id, diag *d)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlx_fail(db, rc, DB_WHAT, d);
	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sqlx_fail(db, rc, DB_WHAT, d);
}

int rsr_raise(sqlite3 *db, const char *actor, const char *id, int64_t rho, const char *expires,
              diag *d)
{
	if (check_id(id, d) != 0)
		return -1;
	if (expires && !rsr_valid_date(expires))
		return diag_fail(d, EX_USAGE, "expiry '%s': use YYYY-MM-DD", expires);
	if (sqlx_begin(db, DB_WHAT, d) != 0)
		return -1;
	rsr_account a;
	if (rsr_get(db, id, &a, d) != 0) {
		d->code = EX_DATAERR;
		return sqlx_rollback(db);
	}
	char budget[64];
	rsr_budget_name(id, budget, sizeof budget);
	if (rho >= 0 && ledger_set_total_tx(db, actor, budget, rho, d) != 0)
		return sqlx_rollback(db);
	char r[LEDGER_RHO_STR], detail[256];
	ledger_format_rho(rho >= 0 ? rho : a.total, r);
	snprintf(detail, sizeof detail, "researcher=%s rho=%s expires=%s", id, r,
	         expires ? expires : a.expires);
	if (audit_append(db, actor, "researcher.raise", detail, NULL, d) != 0)
		return sqlx_rollback(db);
	if (expires) {
		if (set_text(db, "UPDATE rsr_account SET expires = ? WHERE id = ?", expires, id, d) != 0)
			return sqlx_rollback(db);
	}
	return sqlx_commit(db, DB_WHAT, d);
}

int rsr_revoke(sqlite3 *db, const char *actor, const char *id, diag *d)
{
	if (check_id(id, d) != 0)
		return -1;
	if (sqlx_begin(db, DB_WHAT, d) != 0)
		return -1;
	rsr_account a;
	if (rsr_get(db, id, &a, d) != 0) {
		d->code = EX_DATAERR;
		return sqlx_rollback(db);
	}
	if (a.revoked_at[0]) {
		diag_fail(d, EX_DATAERR, "researcher '%s' was already revoked at %s", id, a.revoked_at);
		return sqlx_rollback(db);
	}
	char detail[128], ts[SQLX_TS_LEN];
	snprintf(detail, sizeof detail, "researcher=%s", id);
	if (audit_append(db, actor, "researcher.revoke", detail, NULL, d) != 0)
		return sqlx_rollback(db);
	sqlx_now_utc(ts);
	if (set_text(db, "UPDATE rsr_account SET revoked_at = ? WHERE id = ?", ts, id, d) != 0)
		return sqlx_rollback(db);
	return sqlx_commit(db, DB_WHAT, d);
}

static void copy_col(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(dst, size, "%s", t ? (const char *)t : "");
}

static int read_rows(sqlite3 *db, const char *id, rsr_account **out, size_t *n, diag *d)
{
	*out = NULL;
	*n = 0;
	int yes = 0;
	if (sqlx_has_table(db, "rsr_account", &yes, d) != 0)
		return -1;
	if (!yes)
		return 0;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, id ? "SELECT id, public_key, key_id, created, expires, "
	                                     "revoked_at FROM rsr_account WHERE id = ?"
	                                   : "SELECT id, public_key, key_id, created, expires, "
	                                     "revoked_at FROM rsr_account ORDER BY id",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlx_fail(db, rc, DB_WHAT, d);
	if (id)
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	size_t cap = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rsr_account *a = vec_push(out, n, &cap, sizeof *a);
		if (!a) {
			sqlite3_finalize(st);
			free(*out);
			*out = NULL;
			*n = 0;
			return diag_fail(d, EX_OSERR, "out of memory");
		}
		copy_col(a->id, sizeof a->id, st, 0);
		if (sqlite3_column_bytes(st, 1) == 32)
			memcpy(a->public_key, sqlite3_column_blob(st, 1), 32);
		copy_col(a->key_id, sizeof a->key_id, st, 2);
		copy_col(a->created, sizeof a->created, st, 3);
		copy_col(a->expires, sizeof a->expires, st, 4);
		copy_col(a->revoked_at, sizeof a->revoked_at, st, 5);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		return sqlx_fail(db, rc, DB_WHAT, d);
	}
	for (size_t i = 0; i < *n; i++) {
		char budget[64];
		rsr_budget_name((*out)[i].id, budget, sizeof budget);
		diag d2 = DIAG_INIT;
		if (ledger_get(db, budget, &(*out)[i].total, &(*out)[i].spent, &d2) != 0)
			(*out)[i].total = (*out)[i].spent = 0;
		diag_free(&d2);
	}
	return 0;
}

int rsr_get(sqlite3 *db, const char *id, rsr_account *out, diag *d)
{
	rsr_account *a;
	size_t n;
	if (read_rows(db, id, &a, &n, d) != 0)
		return -1;
	if (!n || !a) {
		free(a);
		return diag_fail(d, EX_NOPERM, "no researcher account '%s'", id);
	}
	*out = a[0];
	free(a);
	return 0;
}

int rsr_list(sqlite3 *db, rsr_account **out, size_t *n, diag *d)
{
	return read_rows(db, NULL, out, n, d);
}

int rsr_check_active(const rsr_account *a, const char *today, diag *d)
{
	if (a->revoked_at[0])
		return diag_fail(d, EX_NOPERM, "researcher '%s': the account was revoked at %s", a->id,
		                 a->revoked_at);
	if (strncmp(today, a->expires, 10) > 0)
		return diag_fail(d, EX_NOPERM, "researcher '%s': the account expired on %s", a->id,
		                 a->expires);
	return 0;
}
