/* relreg: see relreg.h. */
#include "privacy/relreg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include "aggregator/auditlog.h"
#include "privacy/ledger.h"
#include "core/sqlx.h"
#include "core/vec.h"

#define DB_WHAT "release register" /* the prefix of SQLite errors */

static const char SCHEMA[] =
	"CREATE TABLE IF NOT EXISTS release(\n"
	"  id        INTEGER PRIMARY KEY,\n"
	"  name      TEXT NOT NULL UNIQUE,\n"
	"  created   TEXT NOT NULL,\n"
	"  method    TEXT NOT NULL,\n"
	"  params    TEXT NOT NULL,\n"
	"  as_of_seq INTEGER NOT NULL,\n"
	"  rho       REAL NOT NULL CHECK(rho >= 0),\n"
	"  private   INTEGER NOT NULL CHECK(private IN (0, 1)),\n"
	"  outputs   TEXT NOT NULL,\n"
	"  audit_seq INTEGER NOT NULL\n"
	");\n";

int relreg_init(sqlite3 *db, diag *d)
{
	char *err = NULL;
	if (sqlite3_exec(db, SCHEMA, NULL, NULL, &err) != SQLITE_OK) {
		sqlx_fail(db, SQLITE_IOERR, DB_WHAT, d);   /* names the file: a full disk */
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

int relreg_valid_name(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > RELREG_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '.' || *s == '-'))
			return 0;
	return 1;
}

int relreg_record(sqlite3 *db, const char *actor, const relreg_info *r, int64_t *out_id,
                  diag *d)
{
	if (!relreg_valid_name(r->name))
		return diag_fail(d, EX_USAGE, "release name '%s': use 1-64 of A-Z a-z 0-9 _ . -",
		                 r->name);
	int64_t units = 0;
	char canon[LEDGER_SPLIT_MAX + 1] = "";
	if (r->budget) {
		if (ledger_rho_from_double(r->rho, &units, d) != 0 ||
		    ledger_split_canon(r->split, units, canon, sizeof canon, d) != 0)
			return -1;
		if (!ledger_valid_name(r->budget))
			return diag_fail(d, EX_USAGE, "budget name '%s': use 1-64 of A-Z a-z 0-9 _ . : -",
			                 r->budget);
	}
	/* the tables are made inside the transaction: a refused release
	 * leaves no trace, not even an empty table */
	if (sqlx_begin(db, DB_WHAT, d) != 0)
		return -1;
	if ((r->budget && ledger_init(db, d) != 0) || relreg_init(db, d) != 0)
		return sqlx_rollback(db);
	char detail[AUDIT_DETAIL_MAX], ts[SQLX_TS_LEN];
	snprintf(detail, sizeof detail, "name=%s method=%s as_of=%lld rho=%.9g private=%d %s",
	         r->name, r->method, (long long)r->as_of_seq, r->rho, r->private_ ? 1 : 0,
	         r->params && *r->params ? r->params : "");
	size_t dl = strlen(detail);
	if (r->budget)
		snprintf(detail + dl, sizeof detail - dl, "%sbudget=%s%s%s",
		         dl && detail[dl - 1] != ' ' ? " " : "", r->budget, *canon ? " split=" : "",
		         canon);
	dl = strlen(detail);
	while (dl && detail[dl - 1] == ' ')
		detail[--dl] = 0;
	int64_t seq;
	if (audit_append(db, actor, "release.create", detail, &seq, d) != 0)
		return sqlx_rollback(db);
	sqlx_now_utc(ts);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
	                       "INSERT INTO release(name, created, method, params, as_of_seq, rho, "
	                       "private, outputs, audit_seq) VALUES(?,?,?,?,?,?,?,?,?)",
	                       -1, &st, NULL) != SQLITE_OK) {
		sqlx_fail(db, SQLITE_IOERR, DB_WHAT, d);
		return sqlx_rollback(db);
	}
	sqlite3_bind_text(st, 1, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->method, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->params ? r->params : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, r->as_of_seq);
	sqlite3_bind_double(st, 6, r->rho);
	sqlite3_bind_int(st, 7, r->private_ ? 1 : 0);
	sqlite3_bind_text(st, 8, r->outputs ? r->outputs : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, seq);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		diag_fail(d, EX_DATAERR, "a release named '%s' already exists", r->name);
		return sqlx_rollback(db);
	}
	if (rc != SQLITE_DONE) {
		sqlx_fail(db, SQLITE_IOERR, DB_WHAT, d);
		return sqlx_rollback(db);
	}
	int64_t id = sqlite3_last_insert_rowid(db);
	if (out_id)
		*out_id = id;
	if (r->in_tx && r->in_tx(db, id, r->in_tx_ctx, d) != 0)
		return sqlx_rollback(db);
	/* Paid for in the same transaction: refused = rolled back, no release. */
	if (r->budget &&
	    ledger_charge_tx(db, r->budget, r->name, units, r->split, seq, NULL, d) != 0)
		return sqlx_rollback(db);
	return sqlx_commit(db, DB_WHAT, d);
}

int relreg_list(sqlite3 *db, relreg_entry **out, size_t *n, diag *d)
{
	*out = NULL;
	*n = 0;
	int has;
	if (sqlx_has_table(db, "release", &has, d) != 0)
		return -1;
	if (!has)
		return 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT id, name, method, created, as_of_seq, rho, private "
	                       "FROM release ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		return sqlx_fail(db, SQLITE_IOERR, DB_WHAT, d);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		relreg_entry *e = vec_push(out, n, &cap, sizeof *e);
		if (!e) {
			sqlite3_finalize(st);
			free(*out);
			*out = NULL;
			*n = 0;
			return diag_fail(d, EX_OSERR, "out of memory");
		}
		e->id = sqlite3_column_int64(st, 0);
		snprintf(e->name, sizeof e->name, "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(e->method, sizeof e->method, "%s", (const char *)sqlite3_column_text(st, 2));
		snprintf(e->created, sizeof e->created, "%s", (const char *)sqlite3_column_text(st, 3));
		e->as_of_seq = sqlite3_column_int64(st, 4);
		e->rho = sqlite3_column_double(st, 5);
		e->private_ = sqlite3_column_int(st, 6);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlx_fail(db, SQLITE_IOERR, DB_WHAT, d);
	return 0;
}

int relreg_exists(sqlite3 *db, const char *name, int *exists, diag *d)
{
	*exists = 0;
	int has;
	if (sqlx_has_table(db, "release", &has, d) != 0)
		return -1;
	if (!has)
		return 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM release WHERE name = ?", -1, &st, NULL) != SQLITE_OK)
		return sqlx_fail(db, SQLITE_IOERR, DB_WHAT, d);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	*exists = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sqlx_fail(db, SQLITE_IOERR, DB_WHAT, d);
	return 0;
}
