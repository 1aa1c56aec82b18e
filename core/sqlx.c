/* sqlx: see sqlx.h. */
#include "core/sqlx.h"

#include <sysexits.h>
#include <time.h>

int sqlx_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EX_TEMPFAIL;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return EX_NOPERM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
		return EX_DATAERR;
	default:
		return EX_IOERR;
	}
}

int sqlx_fail(sqlite3 *db, int rc, const char *what, diag *d)
{
	/* the file first, so that a full or read-only disk names it */
	const char *file = db ? sqlite3_db_filename(db, "main") : NULL;
	if (file && *file)
		return diag_fail(d, sqlx_code(rc), "%s: %s: %s", file, what, sqlite3_errmsg(db));
	return diag_fail(d, sqlx_code(rc), "%s: %s", what, sqlite3_errmsg(db));
}

int sqlx_begin(sqlite3 *db, const char *what, diag *d)
{
	int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : sqlx_fail(db, rc, what, d);
}

int sqlx_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int sqlx_commit(sqlite3 *db, const char *what, diag *d)
{
	int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		return 0;
	sqlx_fail(db, rc, what, d);
	return sqlx_rollback(db);
}

int sqlx_has_table(sqlite3 *db, const char *name, int *has, diag *d)
{
	*has = 0;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlx_fail(db, rc, "schema", d);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*has = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sqlx_fail(db, rc, "schema", d);
	return 0;
}

void sqlx_now_utc(char ts[SQLX_TS_LEN])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, SQLX_TS_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
