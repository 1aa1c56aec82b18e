/* sqlx: the SQLite conventions shared by every module that writes the
 * warehouse (ledger, release register, researchers, queries, ...).
 *
 * Every write is one BEGIN IMMEDIATE ... COMMIT transaction, so two
 * processes never interleave and a failure leaves nothing half done: on
 * any error the caller rolls back.  SQLite's result codes become sysexits
 * codes the same way everywhere (a busy or locked database is temporary,
 * EX_TEMPFAIL; a read-only one or a refused permission is EX_NOPERM; a
 * damaged database, a broken constraint or a type mismatch is bad data,
 * EX_DATAERR; anything else is an I/O error, EX_IOERR), and messages read
 * "FILE: WHAT: SQLite's message" (FILE the database's, so that a full or
 * read-only disk names it; "WHAT: ..." for an in-memory database).  The
 * warehouse and its audit log use the same mapping, so a command's exit
 * code does not depend on which module met the error.
 *
 * Timestamps stored in the warehouse are UTC, ISO 8601, to the second:
 * "2026-12-05T18:00:00Z" (sqlx_now_utc).
 */
#ifndef TIPSTAT_SQLX_H
#define TIPSTAT_SQLX_H

#include <sqlite3.h>
#include "core/diag.h"

#define SQLX_TS_LEN 21    /* "YYYY-MM-DDTHH:MM:SSZ" and its NUL */

/* The sysexits code of an SQLite result code. */
int sqlx_code(int rc);
/* Fill d with "file: what: <sqlite3_errmsg>" under sqlx_code(rc); returns -1. */
int sqlx_fail(sqlite3 *db, int rc, const char *what, diag *d);
/* BEGIN IMMEDIATE: 0, or -1 with d filled. */
int sqlx_begin(sqlite3 *db, const char *what, diag *d);
/* COMMIT: 0, or -1 with d filled and the transaction rolled back. */
int sqlx_commit(sqlite3 *db, const char *what, diag *d);
/* Roll back the open transaction, if any; returns -1 (for `return`). */
int sqlx_rollback(sqlite3 *db);
/* *has = whether a table of that name exists.  Readers use it instead of
 * creating a module's tables on first use: a command that fails must not
 * leave even an empty table behind, so tables are created only inside the
 * transaction that first writes them. */
int sqlx_has_table(sqlite3 *db, const char *name, int *has, diag *d);
/* The current UTC time as stored in the warehouse. */
void sqlx_now_utc(char ts[SQLX_TS_LEN]);

#endif
