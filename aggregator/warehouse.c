/* warehouse: see warehouse.h and docs/warehouse.md.
 *
 * Layout of this file: helpers; schema and migrations; open/close;
 * loading (line reader, field checks, order checks, manifest); export;
 * refusals; queries; trust store.
 */
#include "aggregator/warehouse.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "aggregator/auditlog.h"
#include "core/json.h"
#include "core/sha256.h"
#include "core/sqlx.h"
#include "core/text.h"

struct wh {
	sqlite3 *db;
	char *path;
	int readonly;
	int busy_ms;
	progress_hook pg;   /* told the data bytes read by wh_load_submission */
};

static const char RECORDS_HEADER[] =
	"country,period,indicator,sex,age,age_band,form,citizenship,case_key";
static const char CELLS_HEADER[] =
	"country,period,indicator,sex,age,form,citizenship,lo,hi,flags";

#define N_REC_FIELDS 9
#define N_CELL_FIELDS 10
#define CODE_MAX 16
#define MAX_PERIODS 256

/* --- helpers ------------------------------------------------------------- */

static int db_fail(wh *w, int rc, diag *d, const char *what)
{
	if ((rc & 0xff) == SQLITE_NOTADB)
		return diag_fail(d, EX_DATAERR, "%s: not a SQLite database (not a tipstat warehouse)",
		                 w->path);
	if ((rc & 0xff) == SQLITE_BUSY)
		return diag_fail(d, EX_TEMPFAIL,
		                 "%s: %s: the warehouse stayed locked by another process for "
		                 "more than %d s; try again",
		                 w->path, what, w->busy_ms / 1000);
	if ((rc & 0xff) == SQLITE_CANTOPEN)   /* the file itself is open: a sidecar */
		return diag_fail(d, EX_IOERR,
		                 "%s: %s: %s (the warehouse needs its -wal and -shm files beside "
		                 "it: is its directory read-only?)",
		                 w->path, what, sqlite3_errmsg(w->db));
	return diag_fail(d, sqlx_code(rc), "%s: %s: %s", w->path, what, sqlite3_errmsg(w->db));
}

static int prep(wh *w, const char *sql, sqlite3_stmt **st, diag *d)
{
	int rc = sqlite3_prepare_v2(w->db, sql, -1, st, NULL);
	if (rc != SQLITE_OK) {
		*st = NULL;
		return db_fail(w, rc, d, "cannot prepare a query");
	}
	return 0;
}

static int exec(wh *w, const char *sql, diag *d, const char *what)
{
	int rc = sqlite3_exec(w->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : db_fail(w, rc, d, what);
}

/* Write transactions take the write lock up front (IMMEDIATE), so two
 * writers queue on the busy timeout instead of deadlocking on upgrade. */
static int tx_begin(wh *w, diag *d)
{
	if (w->readonly)
		return diag_fail(d, EX_NOPERM, "%s: opened read-only", w->path);
	return exec(w, "BEGIN IMMEDIATE", d, "cannot start a transaction");
}

static int tx_commit(wh *w, diag *d)
{
	return exec(w, "COMMIT", d, "cannot commit");
}

static void tx_rollback(wh *w)
{
	if (!sqlite3_get_autocommit(w->db))
		sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_upper(int c) { return c >= 'A' && c <= 'Z'; }
static int is_lhex(int c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }

static int valid_lhex(const char *s, size_t n)
{
	if (!s || strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_lhex((unsigned char)s[i]))
			return 0;
	return 1;
}

static int valid_country(const char *s)
{
	return s && strlen(s) == 3 && is_upper(s[0]) && is_upper(s[1]) && is_upper(s[2]);
}

/* "YYYY-MM-DDTHH:MM:SSZ" */
static int valid_ts(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
	if (!s || strlen(s) != sizeof pat - 1)
		return 0;
	for (size_t i = 0; pat[i]; i++)
		if (pat[i] == 'd' ? !is_digit((unsigned char)s[i]) : s[i] != pat[i])
			return 0;
	return 1;
}

/* A canonical period "YYYY" or "YYYY-Qn": packed year*10+q, or -1. */
static int period_canon(const char *s, size_t n)
{
	if (n != 4 && n != 7)
		return -1;
	for (int i = 0; i < 4; i++)
		if (!is_digit((unsigned char)s[i]))
			return -1;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	if (y < 1900 || y > 2100)
		return -1;
	if (n == 4)
		return y * 10;
	if (s[4] != '-' || s[5] != 'Q' || s[6] < '1' || s[6] > '4')
		return -1;
	return y * 10 + (s[6] - '0');
}

/* The periods of a submission, parsed from "2024-Q1,2024-Q2". */
typedef struct periods {
	size_t n;
	int packed[MAX_PERIODS];
	char text[MAX_PERIODS][8];
} periods;

static int parse_periods(const char *s, periods *p)
{
	p->n = 0;
	if (!s || !*s || strlen(s) > WH_PERIODS_MAX)
		return -1;
	for (;;) {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		int v = period_canon(s, n);
		if (v < 0 || p->n == MAX_PERIODS || (p->n && v <= p->packed[p->n - 1]))
			return -1;
		p->packed[p->n] = v;
		memcpy(p->text[p->n], s, n);
		p->text[p->n][n] = '\0';
		p->n++;
		if (!e)
			return 0;
		s = e + 1;
	}
}

static int find_period(const periods *p, const char *s, size_t n)
{
	for (size_t i = 0; i < p->n; i++)
		if (strlen(p->text[i]) == n && !memcmp(p->text[i], s, n))
			return (int)i;
	return -1;
}

/* An upper-case code token: [A-Z][A-Z0-9_]*, at most CODE_MAX bytes. */
static int is_code(const char *s, size_t n)
{
	if (n == 0 || n > CODE_MAX || !is_upper((unsigned char)s[0]))
		return 0;
	for (size_t i = 1; i < n; i++) {
		int c = (unsigned char)s[i];
		if (!is_upper(c) && !is_digit(c) && c != '_')
			return 0;
	}
	return 1;
}

static int is_total(const char *s, size_t n)
{
	return n == 2 && s[0] == '_' && s[1] == 'T';
}

/* Quote a value for a message only when it looks like a code (short,
 * harmless characters): a malformed file might carry something else in a
 * code column, and that must not be echoed. */
static const char *qv(const char *s, size_t n, char *buf, size_t sz)
{
	int codeish = n > 0 && n <= 24;
	for (size_t i = 0; codeish && i < n; i++) {
		int c = (unsigned char)s[i];
		codeish = is_upper(c) || is_digit(c) || (c >= 'a' && c <= 'z') || c == '_' || c == '-' ||
		          c == '.';
	}
	if (n == 0)
		snprintf(buf, sz, "an empty value");
	else if (codeish)
		snprintf(buf, sz, "'%.*s'", (int)n, s);
	else
		snprintf(buf, sz, "a value of %zu bytes (not quoted)", n);
	return buf;
}

/* Canonical non-negative decimal without leading zeros, at most 18
 * digits.  0 and *v, or -1. */
static int parse_count(const char *s, size_t n, int64_t *v)
{
	if (n == 0 || n > 18 || (n > 1 && s[0] == '0'))
		return -1;
	int64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return 0;
}

/* Lower-case hex digit -> value + 1; 0 = not one.  A table, not branches:
 * case keys are random, so a digit-or-letter branch per character was
 * mispredicted half the time (a fifth of the cube's time once records were
 * read from blocks). */
static const unsigned char HEXV[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
	['f'] = 16};

static int unhex16(const char *s, unsigned char out[16])
{
	unsigned bad = 0;
	for (int i = 0; i < 16; i++) {
		unsigned hi = HEXV[(unsigned char)s[2 * i]], lo = HEXV[(unsigned char)s[2 * i + 1]];
		bad |= (hi == 0) | (lo == 0);
		out[i] = (unsigned char)((((hi - 1) & 15) << 4) | ((lo - 1) & 15));
	}
	return bad ? -1 : 0;
}

static const char *kind_name(int kind)
{
	return kind == WH_RECORDS ? "records" : kind == WH_CELLS ? "cells" : "unknown";
}

static int kind_parse(const char *s)
{
	if (s && !strcmp(s, "records"))
		return WH_RECORDS;
	if (s && !strcmp(s, "cells"))
		return WH_CELLS;
	return -1;
}

static void copy_col(sqlite3_stmt *st, int i, char *out, size_t sz)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(out, sz, "%s", t ? (const char *)t : "");
}

/* --- schema and migrations ----------------------------------------------- */

/* Version 1.  Frozen once released: later changes are new migrations. */
static const char SCHEMA_V1[] =
	"PRAGMA application_id = 1414090835;\n"   /* WH_APPLICATION_ID */
	"CREATE TABLE schema_migration(\n"
	"  version    INTEGER PRIMARY KEY,\n"
	"  name       TEXT NOT NULL,\n"
	"  applied_at TEXT NOT NULL\n"
	");\n"
	/* trust store */
	"CREATE TABLE office_key(\n"
	"  key_id     TEXT PRIMARY KEY CHECK(length(key_id) = 16),\n"
	"  country    TEXT NOT NULL CHECK(length(country) = 3),\n"
	"  public_key BLOB NOT NULL UNIQUE CHECK(length(public_key) = 32),\n"
	"  status     TEXT NOT NULL CHECK(status IN ('active', 'revoked')),\n"
	"  added_at   TEXT NOT NULL,\n"
	"  revoked_at TEXT,\n"
	"  CHECK((status = 'active') = (revoked_at IS NULL))\n"
	");\n"
	"CREATE INDEX office_key_country ON office_key(country, status);\n"
	"CREATE TRIGGER office_key_no_delete BEFORE DELETE ON office_key\n"
	"  BEGIN SELECT RAISE(ABORT, 'office keys are revoked, never deleted'); END;\n"
	"CREATE TRIGGER office_key_revoke_only BEFORE UPDATE ON office_key\n"
	"  WHEN NOT (OLD.status = 'active' AND NEW.status = 'revoked'\n"
	"            AND NEW.key_id = OLD.key_id AND NEW.country = OLD.country\n"
	"            AND NEW.public_key = OLD.public_key AND NEW.added_at = OLD.added_at)\n"
	"  BEGIN SELECT RAISE(ABORT, 'an office key can only be revoked'); END;\n"
	/* submissions */
	"CREATE TABLE submission(\n"
	"  id             INTEGER PRIMARY KEY,\n"
	"  country        TEXT NOT NULL CHECK(length(country) = 3),\n"
	"  periods        TEXT NOT NULL,\n"
	"  version        INTEGER NOT NULL CHECK(version >= 1),\n"
	"  kind           TEXT NOT NULL CHECK(kind IN ('records', 'cells')),\n"
	"  received_at    TEXT NOT NULL,\n"
	"  loaded_by      TEXT NOT NULL,\n"
	"  package_sha256 TEXT CHECK(package_sha256 IS NULL OR length(package_sha256) = 64),\n"
	"  signer_key_id  TEXT REFERENCES office_key(key_id),\n"
	"  manifest_json  TEXT NOT NULL,\n"
	"  data_sha256    TEXT CHECK(data_sha256 IS NULL OR length(data_sha256) = 64),\n"
	"  data_bytes     INTEGER,\n"
	"  n_rows         INTEGER,\n"
	"  audit_seq      INTEGER REFERENCES audit(seq)\n"
	");\n"
	"CREATE INDEX submission_country ON submission(country);\n"
	"CREATE TRIGGER submission_no_delete BEFORE DELETE ON submission\n"
	"  BEGIN SELECT RAISE(ABORT, 'submissions are never deleted'); END;\n"
	"CREATE TRIGGER submission_frozen BEFORE UPDATE ON submission\n"
	"  WHEN OLD.audit_seq IS NOT NULL\n"
	"  BEGIN SELECT RAISE(ABORT, 'a loaded submission is immutable'); END;\n"
	/* which submission holds which (country, period), and what superseded it */
	"CREATE TABLE submission_period(\n"
	"  submission_id INTEGER NOT NULL REFERENCES submission(id),\n"
	"  period        TEXT NOT NULL,\n"
	"  country       TEXT NOT NULL,\n"
	"  version       INTEGER NOT NULL,\n"
	"  superseded_by INTEGER REFERENCES submission(id),\n"
	"  PRIMARY KEY(submission_id, period),\n"
	"  UNIQUE(country, period, version)\n"
	") WITHOUT ROWID;\n"
	"CREATE TRIGGER submission_period_no_delete BEFORE DELETE ON submission_period\n"
	"  BEGIN SELECT RAISE(ABORT, 'submissions are never deleted'); END;\n"
	"CREATE TRIGGER submission_period_supersede_once BEFORE UPDATE ON submission_period\n"
	"  WHEN OLD.superseded_by IS NOT NULL OR NEW.submission_id IS NOT OLD.submission_id\n"
	"       OR NEW.period IS NOT OLD.period OR NEW.country IS NOT OLD.country\n"
	"       OR NEW.version IS NOT OLD.version\n"
	"  BEGIN SELECT RAISE(ABORT, 'only superseded_by may be set, once'); END;\n"
	/* the rows; line = line number in the canonical file (header = 1) */
	"CREATE TABLE record(\n"
	"  submission_id INTEGER NOT NULL REFERENCES submission(id),\n"
	"  line          INTEGER NOT NULL,\n"
	"  period        TEXT NOT NULL,\n"
	"  indicator     TEXT NOT NULL,\n"
	"  sex           TEXT NOT NULL,\n"
	"  age           TEXT NOT NULL,\n"
	"  age_band      TEXT,\n"
	"  form          TEXT NOT NULL,\n"
	"  citizenship   TEXT NOT NULL,\n"
	"  case_key      BLOB CHECK(case_key IS NULL OR length(case_key) = 16),\n"
	"  PRIMARY KEY(submission_id, line)\n"
	") WITHOUT ROWID;\n"
	"CREATE TRIGGER record_no_update BEFORE UPDATE ON record\n"
	"  BEGIN SELECT RAISE(ABORT, 'stored rows are immutable'); END;\n"
	"CREATE TRIGGER record_no_delete BEFORE DELETE ON record\n"
	"  BEGIN SELECT RAISE(ABORT, 'stored rows are immutable'); END;\n"
	"CREATE TABLE cell(\n"
	"  submission_id INTEGER NOT NULL REFERENCES submission(id),\n"
	"  line          INTEGER NOT NULL,\n"
	"  period        TEXT NOT NULL,\n"
	"  indicator     TEXT NOT NULL,\n"
	"  sex           TEXT NOT NULL,\n"
	"  age           TEXT NOT NULL,\n"
	"  form          TEXT NOT NULL,\n"
	"  citizenship   TEXT NOT NULL,\n"
	"  lo            INTEGER NOT NULL CHECK(lo >= 0),\n"
	"  hi            INTEGER CHECK(hi IS NULL OR hi >= lo),\n"
	"  flags         TEXT NOT NULL,\n"
	"  PRIMARY KEY(submission_id, line)\n"
	") WITHOUT ROWID;\n"
	"CREATE TRIGGER cell_no_update BEFORE UPDATE ON cell\n"
	"  BEGIN SELECT RAISE(ABORT, 'stored rows are immutable'); END;\n"
	"CREATE TRIGGER cell_no_delete BEFORE DELETE ON cell\n"
	"  BEGIN SELECT RAISE(ABORT, 'stored rows are immutable'); END;\n"
	/* the audit trail (aggregator/auditlog.h) */
	AUDIT_SCHEMA_SQL;

/* Version 2: case-level records stored as blocks of their canonical lines
 * (a row per record cost most of `accept`'s time and most of the cube's
 * reading; a block is one insert and one read for ~900 records, and the
 * export is the blocks end to end).  Rows of an older warehouse become
 * blocks of one line each, rebuilt from the columns exactly as
 * wh_export_submission wrote them (its SHA-256 check still holds). */
static const char SCHEMA_V2[] =
	"CREATE TABLE record_block(\n"
	"  submission_id INTEGER NOT NULL REFERENCES submission(id),\n"
	"  first_line    INTEGER NOT NULL CHECK(first_line >= 2),\n"
	"  n_rows        INTEGER NOT NULL CHECK(n_rows >= 1),\n"
	"  data          BLOB NOT NULL,\n"
	"  PRIMARY KEY(submission_id, first_line)\n"
	");\n"
	"CREATE TRIGGER record_block_no_update BEFORE UPDATE ON record_block\n"
	"  BEGIN SELECT RAISE(ABORT, 'stored rows are immutable'); END;\n"
	"CREATE TRIGGER record_block_no_delete BEFORE DELETE ON record_block\n"
	"  BEGIN SELECT RAISE(ABORT, 'stored rows are immutable'); END;\n"
	"INSERT INTO record_block(submission_id, first_line, n_rows, data)\n"
	"  SELECT r.submission_id, r.line, 1, CAST(s.country || ',' || r.period || ',' ||\n"
	"         r.indicator || ',' || r.sex || ',' || r.age || ',' || ifnull(r.age_band, '') ||\n"
	"         ',' || r.form || ',' || r.citizenship || ',' ||\n"
	"         lower(ifnull(hex(r.case_key), '')) || char(10) AS BLOB)\n"
	"  FROM record r JOIN submission s ON s.id = r.submission_id;\n"
	"DROP TRIGGER record_no_update;\n"
	"DROP TRIGGER record_no_delete;\n"
	"DROP TABLE record;\n";

/* A new warehouse's page size.  Records are stored in blocks of up to
 * WH_BLOCK_BYTES, so most pages are overflow pages of a block; 16 KiB pages
 * make a block 4-5 pages rather than 16-17.  That matters for `accept` of a
 * large submission: its one transaction writes every page to the WAL, and
 * SQLite's WAL index grows by 32 KiB per 4,096 frames until the commit
 * (+1.4 MB of memory for a 0.7 GB package at 4 KiB pages, the whole of
 * accept's growth with the number of rows; a quarter of it at 16 KiB).
 * Must run before the first table is created; an existing warehouse keeps
 * the page size it was created with. */
#define WH_PAGE_SIZE_SQL "PRAGMA page_size = 16384;"

static const wh_migration MIGRATIONS[] = {
	{1, "submissions, records, cells, trust store, audit log", SCHEMA_V1},
	{2, "records stored as blocks of canonical lines", SCHEMA_V2},
};

const wh_migration *wh_migrations(size_t *n)
{
	*n = sizeof MIGRATIONS / sizeof MIGRATIONS[0];
	return MIGRATIONS;
}

static int user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int table_exists(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
	                       -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

int wh_migrate(sqlite3 *db, const wh_migration *list, size_t n, int *from, int *to, diag *d)
{
	for (size_t i = 0; i < n; i++)
		if (list[i].version != (int)i + 1 || !list[i].sql || !list[i].name)
			return diag_fail(d, EX_SOFTWARE,
			                 "migration list is not versions 1, 2, 3, ... in order (entry %zu)", i);
	const char *file = sqlite3_db_filename(db, "main");
	if (!file || !*file)
		file = "warehouse";
	int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return diag_fail(d, sqlx_code(rc), "%s: cannot start the migration: %s", file,
		                 sqlite3_errmsg(db));
	int cur = 0;
	rc = user_version(db, &cur);
	if (rc != SQLITE_OK) {
		int code = sqlx_code(rc);
		diag_fail(d, code, "%s: cannot read the schema version: %s", file, sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (from)
		*from = cur;
	if (to)
		*to = cur;
	if (cur > (int)n) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return diag_fail(d, EX_DATAERR,
		                 "%s: schema version %d is newer than this tipstat knows (%zu); "
		                 "refusing to touch it: use a newer tipstat",
		                 file, cur, n);
	}
	if (cur < 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return diag_fail(d, EX_DATAERR, "%s: invalid schema version %d", file, cur);
	}
	if (cur == (int)n) {
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		return 0;
	}
	char ts[SQLX_TS_LEN];
	sqlx_now_utc(ts);
	for (int v = cur + 1; v <= (int)n; v++) {
		const wh_migration *m = &list[v - 1];
		char *err = NULL;
		rc = sqlite3_exec(db, m->sql, NULL, NULL, &err);
		if (rc == SQLITE_OK) {
			sqlite3_stmt *st = NULL;
			rc = sqlite3_prepare_v2(db,
			                        "INSERT INTO schema_migration(version, name, applied_at) "
			                        "VALUES(?1, ?2, ?3)",
			                        -1, &st, NULL);
			if (rc == SQLITE_OK) {
				sqlite3_bind_int(st, 1, v);
				sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 3, ts, -1, SQLITE_STATIC);
				rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
			}
			sqlite3_finalize(st);
		}
		if (rc == SQLITE_OK) {
			char pragma[64];
			snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v);
			rc = sqlite3_exec(db, pragma, NULL, NULL, NULL);
		}
		if (rc != SQLITE_OK) {
			diag_fail(d, EX_SOFTWARE,
			          "%s: migration to schema version %d (%s) failed: %s; the warehouse is "
			          "unchanged (still version %d)",
			          file, v, m->name, err ? err : sqlite3_errmsg(db), cur);
			sqlite3_free(err);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	if (table_exists(db, "audit")) {
		char detail[64];
		snprintf(detail, sizeof detail, "from=%d to=%zu", cur, n);
		if (audit_append(db, "tipstat", "schema.migrate", detail, NULL, d) != 0) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		diag_fail(d, sqlx_code(rc), "%s: cannot commit the migration: %s", file,
		          sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (to)
		*to = (int)n;
	return 0;
}

/* --- open / close ------------------------------------------------------------ */

/* Create the file 0600 ourselves (SQLite gives -wal and -shm the mode of
 * the database file) and tighten an existing one. */
static int prepare_file(const char *path, int create, diag *d)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT && !create)
			return diag_fail(d, EX_NOINPUT, "%s: no warehouse there", path);
		/* an existing warehouse that cannot be opened for writing (a
		 * read-only file or file system) is the same failure for every
		 * command, whether or not it may create one */
		int exists = access(path, F_OK) == 0;
		return diag_fail(d, create && !exists ? EX_CANTCREAT : EX_NOINPUT,
		                 "%s: cannot open%s: %s", path, exists ? " for writing" : "", strerror(e));
	}
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return diag_fail(d, EX_USAGE, "%s: not a regular file", path);
	}
	if ((sb.st_mode & 07777) != 0600 && fchmod(fd, 0600) != 0) {
		int e = errno;
		close(fd);
		return diag_fail(d, EX_NOPERM, "%s: mode %04o and cannot be made 0600: %s", path,
		                 (unsigned)(sb.st_mode & 07777), strerror(e));
	}
	close(fd);
	return 0;
}

static int secure_sidecars(const char *path, diag *d)
{
	static const char *const sfx[] = {"-wal", "-shm", "-journal"};
	size_t n = strlen(path);
	char *p = malloc(n + 16);
	if (!p)
		return diag_fail(d, EX_OSERR, "out of memory");
	for (size_t i = 0; i < 3; i++) {
		memcpy(p, path, n);
		strcpy(p + n, sfx[i]);
		struct stat sb;
		if (stat(p, &sb) == 0 && (sb.st_mode & 07777) != 0600 && chmod(p, 0600) != 0) {
			int e = errno;
			diag_fail(d, EX_NOPERM, "%s: cannot be made 0600: %s", p, strerror(e));
			free(p);
			return -1;
		}
	}
	free(p);
	return 0;
}

int wh_open(const char *path, int flags, wh **out, diag *d)
{
	*out = NULL;
	if (!path || !*path)
		return diag_fail(d, EX_USAGE, "wh_open: no path");
	int ro = (flags & WH_READONLY) != 0;
	if (ro) {
		if (access(path, R_OK) != 0)
			return diag_fail(d, EX_NOINPUT, "%s: cannot read: %s", path, strerror(errno));
	} else if (prepare_file(path, flags & WH_CREATE, d) != 0) {
		return -1;
	}
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db,
	                         (ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
	                                 SQLITE_OPEN_NOMUTEX,
	                         NULL);
	if (rc != SQLITE_OK) {
		diag_fail(d, ro ? EX_NOINPUT : EX_CANTCREAT, "%s: cannot open: %s", path,
		          db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return -1;
	}
	wh *w = calloc(1, sizeof *w);
	char *pcopy = strdup(path);
	if (!w || !pcopy) {
		free(w);
		free(pcopy);
		sqlite3_close(db);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	w->db = db;
	w->path = pcopy;
	w->readonly = ro;
	w->busy_ms = WH_BUSY_MS_DEFAULT;
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, w->busy_ms);

	char pragmas[256];
	snprintf(pragmas, sizeof pragmas,
	         "PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF; "
	         "PRAGMA cache_size = -%d; PRAGMA mmap_size = 0; PRAGMA temp_store = FILE;",
	         WH_CACHE_KIB);
	if (exec(w, pragmas, d, "cannot configure") != 0)
		goto fail;

	/* Is it ours?  (The first read also tells a non-database file.) */
	int app_id = 0, ver = 0, n_objects = 0;
	{
		sqlite3_stmt *st;
		rc = sqlite3_prepare_v2(db,
		                        "SELECT (SELECT application_id FROM pragma_application_id), "
		                        "(SELECT user_version FROM pragma_user_version), "
		                        "(SELECT count(*) FROM sqlite_schema)",
		                        -1, &st, NULL);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(st);
			if (rc == SQLITE_ROW) {
				app_id = sqlite3_column_int(st, 0);
				ver = sqlite3_column_int(st, 1);
				n_objects = sqlite3_column_int(st, 2);
				rc = SQLITE_OK;
			}
			sqlite3_finalize(st);
		}
		if (rc != SQLITE_OK) {
			if ((rc & 0xff) == SQLITE_NOTADB)
				diag_fail(d, EX_DATAERR, "%s: not a SQLite database (not a tipstat warehouse)",
				          path);
			else
				db_fail(w, rc, d, "cannot read the schema");
			goto fail;
		}
	}
	if (app_id != 0 && app_id != WH_APPLICATION_ID) {
		diag_fail(d, EX_DATAERR,
		          "%s: not a tipstat warehouse (SQLite application_id %d, expected %d)", path,
		          app_id, WH_APPLICATION_ID);
		goto fail;
	}
	if (ver > WH_SCHEMA_VERSION) {
		diag_fail(d, EX_DATAERR,
		          "%s: schema version %d is newer than this tipstat knows (%d); refusing to "
		          "touch it: use a newer tipstat",
		          path, ver, WH_SCHEMA_VERSION);
		goto fail;
	}
	if (ver == 0 && n_objects > 0) {
		diag_fail(d, EX_DATAERR,
		          "%s: not a tipstat warehouse (it has tables but no tipstat schema version)",
		          path);
		goto fail;
	}
	if (!ro && n_objects == 0 && exec(w, WH_PAGE_SIZE_SQL, d, "cannot configure") != 0)
		goto fail;
	if (!ro) {
		/* WAL is persistent; NORMAL is durable enough with WAL (a crash may
		 * lose the last commits, never corrupt).  A bounded WAL after
		 * checkpoints. */
		sqlite3_stmt *st;
		rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
		const char *mode = "";
		if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(st, 0);
			mode = t ? (const char *)t : "";
			rc = strcmp(mode, "wal") ? SQLITE_ERROR : SQLITE_OK;
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_OK) {
			db_fail(w, rc, d, "cannot switch to WAL mode");
			goto fail;
		}
		if (exec(w, "PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 67108864;", d,
		         "cannot configure") != 0)
			goto fail;
	}
	if (ver < WH_SCHEMA_VERSION) {
		if (ro) {
			diag_fail(d, EX_DATAERR,
			          "%s: schema version %d needs migrating to %d; open it read-write once",
			          path, ver, WH_SCHEMA_VERSION);
			goto fail;
		}
		size_t n;
		const wh_migration *m = wh_migrations(&n);
		if (wh_migrate(db, m, n, NULL, NULL, d) != 0)
			goto fail;
	}
	if (!ro && secure_sidecars(path, d) != 0)
		goto fail;
	*out = w;
	return 0;
fail:
	wh_close(w);
	return -1;
}

void wh_close(wh *w)
{
	if (!w)
		return;
	sqlite3_close(w->db);
	free(w->path);
	free(w);
}

sqlite3 *wh_db(wh *w)
{
	return w ? w->db : NULL;
}

int wh_schema_version(wh *w, int *version, diag *d)
{
	int rc = user_version(w->db, version);
	return rc == SQLITE_OK ? 0 : db_fail(w, rc, d, "cannot read the schema version");
}

int wh_set_busy_timeout(wh *w, int ms, diag *d)
{
	if (ms < 0)
		return diag_fail(d, EX_USAGE, "busy timeout must be >= 0");
	w->busy_ms = ms;
	int rc = sqlite3_busy_timeout(w->db, ms);
	return rc == SQLITE_OK ? 0 : db_fail(w, rc, d, "cannot set the busy timeout");
}

void wh_set_progress(wh *w, const progress_hook *pg)
{
	w->pg = pg ? *pg : (progress_hook){NULL, NULL};
}

/* --- loading: the line reader ---------------------------------------------------- */

#define LR_BUF (1u << 16)

typedef struct lreader {
	FILE *fp;
	char *buf;               /* LR_BUF bytes */
	size_t pos, len;
	int eof;
	uint64_t bytes;
	sha256_ctx sha;
	crypto_generichash_state b2;
} lreader;

/* 1: a line at *s (length *n, without its '\n'; *nl = 1 if it had one;
 * the caller may write into s[0..n]); 0: end of file; -1: read error;
 * -2: a line longer than WH_LINE_MAX. */
static int lr_next(lreader *r, char **s, size_t *n, int *nl)
{
	for (;;) {
		char *p = memchr(r->buf + r->pos, '\n', r->len - r->pos);
		if (p) {
			*s = r->buf + r->pos;
			*n = (size_t)(p - *s);
			*nl = 1;
			r->pos = (size_t)(p - r->buf) + 1;
			return *n > WH_LINE_MAX ? -2 : 1;
		}
		if (r->len - r->pos > WH_LINE_MAX)
			return -2;
		if (r->eof) {
			if (r->pos == r->len)
				return 0;
			*s = r->buf + r->pos;
			*n = r->len - r->pos;
			*nl = 0;
			r->pos = r->len;
			(*s)[*n] = '\0';  /* room kept: len <= LR_BUF - 1 */
			return 1;
		}
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
		size_t got = fread(r->buf + r->len, 1, LR_BUF - 1 - r->len, r->fp);
		if (got) {
			sha256_update(&r->sha, (unsigned char *)r->buf + r->len, got);
			crypto_generichash_update(&r->b2, (unsigned char *)r->buf + r->len, got);
			r->bytes += got;
			r->len += got;
		} else {
			if (ferror(r->fp))
				return -1;
			r->eof = 1;
		}
	}
}

/* --- loading: the manifest -------------------------------------------------------- */

typedef struct manifest_expect {
	int64_t rows;              /* -1 if not given */
	char b2[65], sha[65];      /* "" if not given */
} manifest_expect;

static int read_small_file(const char *path, size_t max, char **out, size_t *len, diag *d)
{
	*out = NULL;
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return diag_fail(d, EX_NOINPUT, "%s: cannot open: %s", path, strerror(errno));
	char *buf = malloc(max + 1);
	if (!buf) {
		fclose(fp);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	size_t n = fread(buf, 1, max + 1, fp);
	int err = ferror(fp);
	fclose(fp);
	if (err) {
		free(buf);
		return diag_fail(d, EX_IOERR, "%s: read error", path);
	}
	if (n > max) {
		free(buf);
		return diag_fail(d, EX_DATAERR, "%s: larger than %zu bytes: not a manifest", path, max);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static void mf_err(diag *d, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void mf_err(diag *d, const char *file, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(d, DIAG_ERROR, file, 0, 0, fmt, ap);
	va_end(ap);
}

/* Check the manifest against the meta; what it says about the data is
 * checked after the data (exp). */
static void check_manifest(const json_value *root, const char *file, const wh_submission_meta *m,
                           const periods *ps, manifest_expect *exp, diag *d)
{
	exp->rows = -1;
	exp->b2[0] = exp->sha[0] = '\0';
	if (!root || root->type != JSON_OBJECT) {
		mf_err(d, file, "the manifest is not a JSON object");
		return;
	}
	const char *fmt = json_get_str(root, "format");
	if (!fmt || strcmp(fmt, "tipstat-submission/1"))
		mf_err(d, file, "format is not \"tipstat-submission/1\"");
	const char *kind = json_get_str(root, "kind");
	if (kind_parse(kind) != m->kind)
		mf_err(d, file, "kind is not \"%s\" as the package says", kind_name(m->kind));
	const json_value *c = json_get(root, "countries");
	if (!c || c->type != JSON_ARRAY)
		mf_err(d, file, "countries is not an array");
	else
		for (size_t i = 0; i < c->len; i++)
			if (c->items[i]->type != JSON_STRING || strcmp(c->items[i]->str, m->country))
				mf_err(d, file, "countries[%zu] is not %s, the package's country", i,
				       m->country);
	const json_value *p = json_get(root, "periods");
	if (!p || p->type != JSON_ARRAY)
		mf_err(d, file, "periods is not an array");
	else
		for (size_t i = 0; i < p->len; i++)
			if (p->items[i]->type != JSON_STRING ||
			    find_period(ps, p->items[i]->str, p->items[i]->len) < 0)
				mf_err(d, file, "periods[%zu] is not one of the package's periods (%s)", i,
				       m->periods);
	const json_value *o = json_get(root, "output");
	if (!o || o->type != JSON_OBJECT) {
		mf_err(d, file, "output is not an object");
		return;
	}
	const json_value *rows = json_get(o, "rows");
	if (!rows || rows->type != JSON_NUMBER || rows->num < 0 || rows->num > 9e15 ||
	    rows->num != (double)(int64_t)rows->num)
		mf_err(d, file, "output.rows is not a row count");
	else
		exp->rows = (int64_t)rows->num;
	const char *b2 = json_get_str(o, "blake2b");
	const char *sha = json_get_str(o, "sha256");
	if (b2 && valid_lhex(b2, 64))
		memcpy(exp->b2, b2, 65);
	else if (b2)
		mf_err(d, file, "output.blake2b is not 64 lower-case hex digits");
	if (sha && valid_lhex(sha, 64))
		memcpy(exp->sha, sha, 65);
	else if (sha)
		mf_err(d, file, "output.sha256 is not 64 lower-case hex digits");
	if (!b2 && !sha)
		mf_err(d, file, "output has no hash of the data (blake2b or sha256)");
}

/* --- loading: rows ----------------------------------------------------------------- */

typedef struct loader {
	wh *w;
	const wh_submission_meta *m;
	const periods *ps;
	const char *file;
	diag *d;
	int64_t sub_id;
	sqlite3_stmt *ins;
	int inserting;            /* 0 after the first error: validate only */
	/* records: the block being filled (canonical lines, WH_BLOCK_BYTES) */
	char *blk;
	size_t blk_len;
	int64_t blk_first, blk_rows;
	size_t errors0;
	unsigned long line;
	int64_t n_rows;
	uint64_t file_size;       /* for progress; 0 when unknown */
	unsigned char period_seen[MAX_PERIODS];
	/* order */
	char prev[WH_LINE_MAX + 1];
	size_t prev_n;
	unsigned long prev_line;
	int cr_reported;
} loader;

static void row_err(loader *L, size_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void row_err(loader *L, size_t col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(L->d, DIAG_ERROR, L->file, L->line, (unsigned long)col, fmt, ap);
	va_end(ap);
	L->inserting = 0;
}

/* Split s[0..n) on ',' in place; up to max fields (the count goes on past
 * max).  Returns the number of fields. */
static size_t split(char *s, size_t n, char **f, size_t *fl, size_t *col, size_t max)
{
	size_t k = 0, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == ',') {
			if (k < max) {
				f[k] = s + start;
				fl[k] = i - start;
				col[k] = start + 1;
			}
			k++;
			if (i < n)
				s[i] = '\0';
			start = i + 1;
		}
	}
	if (k <= max)
		s[n] = '\0';
	return k;
}

static int bytes_cmp(const char *a, size_t na, const char *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);
	if (c)
		return c;
	return na < nb ? -1 : na > nb;
}

/* Offset just past the k-th comma of s[0..n), or n. */
static size_t after_comma(const char *s, size_t n, int k)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == ',' && --k == 0)
			return i + 1;
	return n;
}

/* Offset just past the last comma of s[0..n), or 0.  The last field of a
 * record is its case key, empty or 32 hex digits: those two shapes are
 * checked first (this runs twice per line on the load's hot path). */
static size_t last_comma(const char *s, size_t n)
{
	if (n && s[n - 1] == ',')
		return n;
	if (n >= 33 && s[n - 33] == ',' && !memchr(s + n - 32, ',', 32))
		return n - 32;
	for (size_t i = n; i > 0; i--)
		if (s[i - 1] == ',')
			return i;
	return 0;
}

/* Records: sorted by case_key (empty last), then the rest of the line,
 * byte-wise; same key + country + period + indicator is a duplicate.
 * Cells: strictly ascending on the dimension columns. */
static void check_order(loader *L, const char *s, size_t n)
{
	if (L->prev_line) {
		const char *p = L->prev;
		size_t pn = L->prev_n;
		if (L->m->kind == WH_RECORDS) {
			size_t bs = last_comma(s, n), bp = last_comma(p, pn);
			size_t ks = n - bs, kp = pn - bp;
			int c;
			if ((ks > 0) != (kp > 0))
				c = ks > 0 ? -1 : 1;
			else {
				c = bytes_cmp(s + bs, ks, p + bp, kp);
				if (!c)
					c = bytes_cmp(s, bs, p, bp);
			}
			if (c < 0)
				row_err(L, 1,
				        "row out of canonical order: it sorts before line %lu (rows are sorted "
				        "by case_key, empty keys last, then byte-wise on the other columns)",
				        L->prev_line);
			else if (ks > 0 && ks == kp && !memcmp(s + bs, p + bp, ks)) {
				size_t a = after_comma(s, n, 3), b = after_comma(p, pn, 3);
				if (a == b && !memcmp(s, p, a))
					row_err(L, 1,
					        "duplicate case: same case_key, period and indicator as line %lu",
					        L->prev_line);
			}
		} else {
			size_t a = after_comma(s, n, 7), b = after_comma(p, pn, 7);
			int c = bytes_cmp(s, a, p, b);
			if (c < 0)
				row_err(L, 1,
				        "row out of canonical order: it sorts before line %lu (cells are sorted "
				        "byte-wise on the dimension columns)",
				        L->prev_line);
			else if (c == 0)
				row_err(L, 1, "cell reported twice: same dimensions as line %lu", L->prev_line);
		}
	}
	memcpy(L->prev, s, n);
	L->prev_n = n;
	L->prev_line = L->line;
}

static void check_country(loader *L, const char *s, size_t n, size_t col)
{
	char q[64];
	if (n != 3 || !is_upper((unsigned char)s[0]) || !is_upper((unsigned char)s[1]) ||
	    !is_upper((unsigned char)s[2]))
		row_err(L, col, "country: %s is not an ISO alpha-3 code", qv(s, n, q, sizeof q));
	else if (memcmp(s, L->m->country, 3))
		row_err(L, col, "country %s is not the submission's country %s", qv(s, n, q, sizeof q),
		        L->m->country);
}

static void check_period(loader *L, const char *s, size_t n, size_t col)
{
	char q[64];
	if (period_canon(s, n) < 0) {
		row_err(L, col, "period: %s is not a canonical period (YYYY-Qn or YYYY)",
		        qv(s, n, q, sizeof q));
		return;
	}
	int i = find_period(L->ps, s, n);
	if (i < 0)
		row_err(L, col, "period %s is not one of the submission's periods (%s)",
		        qv(s, n, q, sizeof q), L->m->periods);
	else
		L->period_seen[i] = 1;
}

/* A code column: total = `_T` allowed (cells), empty = may be empty. */
static void check_code(loader *L, const char *name, const char *s, size_t n, size_t col,
                       int total, int empty)
{
	char q[64];
	if (n == 0) {
		if (!empty)
			row_err(L, col, "%s is empty (a %s value is required)", name,
			        L->m->kind == WH_RECORDS ? "record needs a" : "cell needs a");
		return;
	}
	if (is_total(s, n)) {
		if (!total)
			row_err(L, col, "%s: '_T' (total) is only allowed in %s", name,
			        L->m->kind == WH_RECORDS ? "cells" : "breakdown columns");
		return;
	}
	if (!is_code(s, n))
		row_err(L, col, "%s: %s is not a code (upper-case A-Z, 0-9, _, starting with a letter)",
		        name, qv(s, n, q, sizeof q));
}

static void check_citizenship(loader *L, const char *s, size_t n, size_t col, int total)
{
	char q[64];
	if (total && is_total(s, n))
		return;
	int ok = (n == 1 && s[0] == 'U') ||
	         (n == 3 && is_upper((unsigned char)s[0]) && is_upper((unsigned char)s[1]) &&
	          is_upper((unsigned char)s[2]));
	if (!ok)
		row_err(L, col, "citizenship: %s is not an ISO alpha-3 code or U%s",
		        qv(s, n, q, sizeof q), total ? " or _T" : "");
}

static int step_insert(loader *L)
{
	int rc = sqlite3_step(L->ins);
	sqlite3_reset(L->ins);
	sqlite3_clear_bindings(L->ins);
	if (rc != SQLITE_DONE) {
		db_fail(L->w, rc, L->d, "cannot store a row");
		diag_add(L->d, DIAG_ERROR, L->file, L->line, 0, "cannot store this row: %s",
		         sqlite3_errmsg(L->w->db));
		return -1;
	}
	return 0;
}

static int load_record(loader *L, char *s, size_t n)
{
	char *f[N_REC_FIELDS];
	size_t fl[N_REC_FIELDS], col[N_REC_FIELDS];
	size_t k = split(s, n, f, fl, col, N_REC_FIELDS);
	if (k != N_REC_FIELDS) {
		row_err(L, 0, "%s line: %zu fields, expected %d (%s)",
		        k < N_REC_FIELDS ? "truncated" : "overlong", k, N_REC_FIELDS, RECORDS_HEADER);
		return 0;
	}
	check_country(L, f[0], fl[0], col[0]);
	check_period(L, f[1], fl[1], col[1]);
	check_code(L, "indicator", f[2], fl[2], col[2], 0, 0);
	check_code(L, "sex", f[3], fl[3], col[3], 0, 0);
	check_code(L, "age", f[4], fl[4], col[4], 0, 0);
	check_code(L, "age_band", f[5], fl[5], col[5], 0, 1);
	check_code(L, "form", f[6], fl[6], col[6], 0, 0);
	check_citizenship(L, f[7], fl[7], col[7], 0);
	unsigned char key[16];
	int has_key = fl[8] > 0;
	if (has_key && (fl[8] != 32 || unhex16(f[8], key) != 0))
		row_err(L, col[8], "case_key is not 32 lower-case hex digits (or empty)");
	return 0;   /* stored by load_rows, in blocks */
}

/* Store the block of records gathered so far (one row of record_block). */
static int flush_block(loader *L)
{
	if (!L->blk_rows)
		return 0;
	sqlite3_stmt *st = L->ins;
	sqlite3_bind_int64(st, 1, L->sub_id);
	sqlite3_bind_int64(st, 2, L->blk_first);
	sqlite3_bind_int64(st, 3, L->blk_rows);
	sqlite3_bind_blob(st, 4, L->blk, (int)L->blk_len, SQLITE_STATIC);
	L->blk_len = 0;
	L->blk_rows = 0;
	return step_insert(L);
}

static int load_cell(loader *L, char *s, size_t n)
{
	char *f[N_CELL_FIELDS];
	size_t fl[N_CELL_FIELDS], col[N_CELL_FIELDS];
	size_t k = split(s, n, f, fl, col, N_CELL_FIELDS);
	if (k != N_CELL_FIELDS) {
		row_err(L, 0, "%s line: %zu fields, expected %d (%s)",
		        k < N_CELL_FIELDS ? "truncated" : "overlong", k, N_CELL_FIELDS, CELLS_HEADER);
		return 0;
	}
	char q[64];
	check_country(L, f[0], fl[0], col[0]);
	check_period(L, f[1], fl[1], col[1]);
	check_code(L, "indicator", f[2], fl[2], col[2], 0, 0);
	check_code(L, "sex", f[3], fl[3], col[3], 1, 0);
	check_code(L, "age", f[4], fl[4], col[4], 1, 0);
	check_code(L, "form", f[5], fl[5], col[5], 1, 0);
	check_citizenship(L, f[6], fl[6], col[6], 1);
	int64_t lo = 0, hi = -1;
	int lo_ok = parse_count(f[7], fl[7], &lo) == 0;
	if (!lo_ok)
		row_err(L, col[7], "lo: %s is not a count (digits, no sign, no leading zeros)",
		        qv(f[7], fl[7], q, sizeof q));
	if (fl[8] > 0) {
		if (parse_count(f[8], fl[8], &hi) != 0) {
			row_err(L, col[8],
			        "hi: %s is not a count (digits, no sign, no leading zeros; empty = "
			        "unbounded)",
			        qv(f[8], fl[8], q, sizeof q));
			hi = -1;
		} else if (lo_ok && lo > hi) {
			row_err(L, col[7], "interval lo %lld > hi %lld", (long long)lo, (long long)hi);
		}
	}
	/* flags: sorted letters from "acd", each at most once */
	{
		const char *allowed = "acd";
		size_t a = 0, i;
		for (i = 0; i < fl[9]; i++) {
			while (allowed[a] && allowed[a] != f[9][i])
				a++;
			if (!allowed[a])
				break;
			a++;
		}
		if (i < fl[9])
			row_err(L, col[9], "flags: %s is not sorted letters from a, c, d, each at most once",
			        qv(f[9], fl[9], q, sizeof q));
	}
	if (!L->inserting)
		return 0;
	sqlite3_stmt *st = L->ins;
	sqlite3_bind_int64(st, 1, L->sub_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)L->line);
	for (int i = 1; i <= 6; i++)
		sqlite3_bind_text(st, 2 + i, f[i], (int)fl[i], SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, lo);
	if (hi >= 0)
		sqlite3_bind_int64(st, 10, hi);
	else
		sqlite3_bind_null(st, 10);
	sqlite3_bind_text(st, 11, f[9], (int)fl[9], SQLITE_STATIC);
	return step_insert(L);
}

/* Stream the file: header, then every row.  -1 only on a fatal problem
 * (I/O, database); row problems are diagnostics (L->d->n_errors). */
static int load_rows(loader *L, lreader *r)
{
	const char *header = L->m->kind == WH_RECORDS ? RECORDS_HEADER : CELLS_HEADER;
	const char *other = L->m->kind == WH_RECORDS ? CELLS_HEADER : RECORDS_HEADER;
	char *s;
	size_t n;
	int nl, rc;
	while ((rc = lr_next(r, &s, &n, &nl)) == 1) {
		L->line++;
		if (!(L->line & 0xffff))
			progress_report(&L->w->pg, r->bytes, L->file_size);
		if (!nl) {
			row_err(L, n + 1, "last line has no newline: the file is truncated");
			if (L->line == 1)
				return 0;
		}
		if (memchr(s, '\0', n)) {
			row_err(L, 0, "NUL byte in a line: not a canonical text file");
			continue;
		}
		if (n && s[n - 1] == '\r') {
			if (!L->cr_reported)
				row_err(L, n, "CR LF line ending: canonical files end lines with LF only");
			L->cr_reported = 1;
			n--;
		}
		if (L->line == 1) {
			if (n == strlen(header) && !memcmp(s, header, n))
				continue;
			if (n == strlen(other) && !memcmp(s, other, n))
				row_err(L, 1, "this is a %s file but the submission says %s",
				        kind_name(L->m->kind == WH_RECORDS ? WH_CELLS : WH_RECORDS),
				        kind_name(L->m->kind));
			else if (n >= 3 && (unsigned char)s[0] == 0xef && (unsigned char)s[1] == 0xbb &&
			         (unsigned char)s[2] == 0xbf)
				row_err(L, 1, "byte order mark: canonical files have none");
			else
				row_err(L, 1, "header is not the standard's for %s: expected \"%s\"",
				        kind_name(L->m->kind), header);
			return 0;   /* rows cannot be read without the right header */
		}
		if (n == 0) {
			row_err(L, 1, "empty line");
			continue;
		}
		/* order is only meaningful between lines of the right shape */
		size_t commas = 0;
		for (const char *p = s, *e = s + n; (p = memchr(p, ',', (size_t)(e - p))) != NULL; p++)
			commas++;
		if (commas + 1 == (L->m->kind == WH_RECORDS ? N_REC_FIELDS : N_CELL_FIELDS))
			check_order(L, s, n);
		L->n_rows++;
		if (L->m->kind == WH_CELLS) {
			if (load_cell(L, s, n) != 0)
				return -1;
			continue;
		}
		/* a record: keep its text (split() cuts it up), append it to the
		 * block when it checks out */
		int was = L->inserting;
		if (was)
			memcpy(L->blk + L->blk_len, s, n);
		if (load_record(L, s, n) != 0)
			return -1;
		if (was && L->inserting) {
			if (!L->blk_rows)
				L->blk_first = (int64_t)L->line;
			L->blk_len += n;
			L->blk[L->blk_len++] = '\n';
			L->blk_rows++;
			if (L->blk_len + WH_LINE_MAX + 1 > WH_BLOCK_BYTES && flush_block(L) != 0)
				return -1;
		}
	}
	if (L->inserting && flush_block(L) != 0)
		return -1;
	if (rc == -1)
		return diag_fail(L->d, EX_IOERR, "%s: read error", L->file);
	if (rc == -2) {
		diag_add(L->d, DIAG_ERROR, L->file, L->line + 1, 0,
		         "line longer than %d bytes: not a canonical submission", WH_LINE_MAX);
		return diag_fail(L->d, EX_DATAERR, "%s: not a canonical submission", L->file);
	}
	if (L->line == 0)
		diag_add(L->d, DIAG_ERROR, L->file, 1, 0, "empty file: no header");
	return 0;
}

/* --- loading: the transaction -------------------------------------------------------- */

static int check_meta(const wh_submission_meta *m, periods *ps, diag *d)
{
	if (!m)
		return diag_fail(d, EX_USAGE, "wh_load_submission: no metadata");
	if (!audit_valid_actor(m->actor))
		return diag_fail(d, EX_USAGE, "invalid actor name");
	if (!valid_country(m->country))
		return diag_fail(d, EX_DATAERR, "submission country is not an ISO alpha-3 code");
	if (parse_periods(m->periods, ps) != 0)
		return diag_fail(d, EX_DATAERR,
		                 "submission periods are not canonical periods, ascending, comma "
		                 "separated");
	if (m->version < 1)
		return diag_fail(d, EX_DATAERR, "submission version must be 1 or more");
	if (m->kind != WH_RECORDS && m->kind != WH_CELLS)
		return diag_fail(d, EX_DATAERR, "submission kind is neither records nor cells");
	if (m->package_sha256 && !valid_lhex(m->package_sha256, 64))
		return diag_fail(d, EX_DATAERR, "package_sha256 is not 64 lower-case hex digits");
	if (m->signer_key_id && !valid_lhex(m->signer_key_id, 16))
		return diag_fail(d, EX_DATAERR, "signer key id is not 16 lower-case hex digits");
	if (m->received_at && !valid_ts(m->received_at))
		return diag_fail(d, EX_DATAERR, "received_at is not YYYY-MM-DDTHH:MM:SSZ");
	return 0;
}

/* Refuse a replay; collect what the new version supersedes. */
static int check_replay(wh *w, const wh_submission_meta *m, const periods *ps,
                        int64_t *superseded, diag *d)
{
	sqlite3_stmt *st;
	if (prep(w,
	         "SELECT version, submission_id FROM submission_period "
	         "WHERE country = ?1 AND period = ?2 ORDER BY version DESC LIMIT 1",
	         &st, d) != 0)
		return -1;
	int ret = 0;
	for (size_t i = 0; i < ps->n && ret == 0; i++) {
		superseded[i] = 0;
		sqlite3_bind_text(st, 1, m->country, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, ps->text[i], -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			int64_t v = sqlite3_column_int64(st, 0), id = sqlite3_column_int64(st, 1);
			if (v >= (int64_t)m->version)
				ret = diag_fail(d, EX_NOPERM,
				                "%s %s: version %u is not newer than the stored version %lld "
				                "(submission %lld); refused as a replay",
				                m->country, ps->text[i], m->version, (long long)v,
				                (long long)id);
			superseded[i] = id;
		} else if (rc != SQLITE_DONE) {
			ret = db_fail(w, rc, d, "cannot read stored versions");
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return ret;
}

static int check_signer(wh *w, const wh_submission_meta *m, diag *d)
{
	if (!m->signer_key_id)
		return 0;
	sqlite3_stmt *st;
	if (prep(w, "SELECT country, status, revoked_at FROM office_key WHERE key_id = ?1", &st, d) !=
	    0)
		return -1;
	sqlite3_bind_text(st, 1, m->signer_key_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st), ret = 0;
	if (rc == SQLITE_DONE)
		ret = diag_fail(d, EX_NOPERM, "signer key %s is not in the trust store",
		                m->signer_key_id);
	else if (rc != SQLITE_ROW)
		ret = db_fail(w, rc, d, "cannot read the trust store");
	else {
		const char *c = (const char *)sqlite3_column_text(st, 0);
		const char *s = (const char *)sqlite3_column_text(st, 1);
		const char *r = (const char *)sqlite3_column_text(st, 2);
		if (!c || strcmp(c, m->country))
			ret = diag_fail(d, EX_NOPERM, "signer key %s is trusted for %s, not %s",
			                m->signer_key_id, c ? c : "?", m->country);
		else if (!s || strcmp(s, "active"))
			ret = diag_fail(d, EX_NOPERM, "signer key %s was revoked (%s)", m->signer_key_id,
			                r ? r : "?");
	}
	sqlite3_finalize(st);
	return ret;
}

static int insert_submission(wh *w, const wh_submission_meta *m, const char *manifest,
                             size_t manifest_len, int64_t *id, diag *d)
{
	sqlite3_stmt *st;
	if (prep(w,
	         "INSERT INTO submission(country, periods, version, kind, received_at, loaded_by, "
	         "package_sha256, signer_key_id, manifest_json) "
	         "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	         &st, d) != 0)
		return -1;
	char ts[SQLX_TS_LEN];
	if (m->received_at)
		snprintf(ts, sizeof ts, "%s", m->received_at);
	else
		sqlx_now_utc(ts);
	sqlite3_bind_text(st, 1, m->country, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->periods, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, m->version);
	sqlite3_bind_text(st, 4, kind_name(m->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, m->actor, -1, SQLITE_STATIC);
	if (m->package_sha256)
		sqlite3_bind_text(st, 7, m->package_sha256, -1, SQLITE_STATIC);
	if (m->signer_key_id)
		sqlite3_bind_text(st, 8, m->signer_key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, manifest, (int)manifest_len, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(w, rc, d, "cannot store the submission");
	*id = sqlite3_last_insert_rowid(w->db);
	return 0;
}

/* submission_period rows, and mark what this version supersedes. */
static int supersede(wh *w, const wh_submission_meta *m, const periods *ps, int64_t id, diag *d)
{
	sqlite3_stmt *up, *ins;
	if (prep(w,
	         "UPDATE submission_period SET superseded_by = ?1 "
	         "WHERE country = ?2 AND period = ?3 AND superseded_by IS NULL",
	         &up, d) != 0)
		return -1;
	if (prep(w,
	         "INSERT INTO submission_period(submission_id, period, country, version) "
	         "VALUES(?1, ?2, ?3, ?4)",
	         &ins, d) != 0) {
		sqlite3_finalize(up);
		return -1;
	}
	int ret = 0;
	for (size_t i = 0; i < ps->n && ret == 0; i++) {
		sqlite3_bind_int64(up, 1, id);
		sqlite3_bind_text(up, 2, m->country, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 3, ps->text[i], -1, SQLITE_STATIC);
		int rc = sqlite3_step(up);
		sqlite3_reset(up);
		if (rc == SQLITE_DONE) {
			sqlite3_bind_int64(ins, 1, id);
			sqlite3_bind_text(ins, 2, ps->text[i], -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 3, m->country, -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins, 4, m->version);
			rc = sqlite3_step(ins);
			sqlite3_reset(ins);
		}
		if (rc != SQLITE_DONE)
			ret = db_fail(w, rc, d, "cannot record the submission's periods");
	}
	sqlite3_finalize(up);
	sqlite3_finalize(ins);
	return ret;
}

static int finish_submission(wh *w, int64_t id, const char *sha, int64_t bytes, int64_t rows,
                             int64_t seq, diag *d)
{
	sqlite3_stmt *st;
	if (prep(w,
	         "UPDATE submission SET data_sha256 = ?2, data_bytes = ?3, n_rows = ?4, "
	         "audit_seq = ?5 WHERE id = ?1",
	         &st, d) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, bytes);
	sqlite3_bind_int64(st, 4, rows);
	sqlite3_bind_int64(st, 5, seq);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(w, rc, d, "cannot finish the submission");
}

int wh_load_submission(wh *w, const wh_submission_meta *meta, const char *data_path,
                       const char *manifest_path, int64_t *out_id, diag *d)
{
	if (out_id)
		*out_id = 0;
	periods *ps = malloc(sizeof *ps);
	if (!ps)
		return diag_fail(d, EX_OSERR, "out of memory");
	if (check_meta(meta, ps, d) != 0) {
		free(ps);
		return -1;
	}
	size_t errors0 = d->n_errors;
	char *manifest = NULL;
	size_t manifest_len = 0;
	json_doc doc = {0};
	manifest_expect exp;
	lreader r = {0};
	loader *L = NULL;
	int64_t *superseded = NULL;
	int in_tx = 0, ret = -1;

	if (read_small_file(manifest_path, WH_MANIFEST_MAX, &manifest, &manifest_len, d) != 0)
		goto out;
	if (json_parse(manifest, manifest_len, manifest_path, &doc, d) != 0)
		goto out;
	/* manifest problems are reported with the data's, in one pass */
	check_manifest(doc.root, manifest_path, meta, ps, &exp, d);
	r.fp = fopen(data_path, "rb");
	if (!r.fp) {
		diag_fail(d, EX_NOINPUT, "%s: cannot open: %s", data_path, strerror(errno));
		goto out;
	}
	r.buf = malloc(LR_BUF);
	L = calloc(1, sizeof *L);
	superseded = calloc(ps->n, sizeof *superseded);
	if (L)
		L->blk = malloc(WH_BLOCK_BYTES);
	if (!r.buf || !L || !L->blk || !superseded) {
		diag_fail(d, EX_OSERR, "out of memory");
		goto out;
	}
	sha256_init(&r.sha, 0);
	crypto_generichash_init(&r.b2, NULL, 0, 32);

	if (tx_begin(w, d) != 0)
		goto out;
	in_tx = 1;
	if (check_replay(w, meta, ps, superseded, d) != 0 || check_signer(w, meta, d) != 0)
		goto out;
	L->w = w;
	L->m = meta;
	L->ps = ps;
	L->file = data_path;
	{
		struct stat fst;
		if (fstat(fileno(r.fp), &fst) == 0 && S_ISREG(fst.st_mode))
			L->file_size = (uint64_t)fst.st_size;
	}
	L->d = d;
	L->inserting = d->n_errors == errors0;   /* a bad manifest: validate only */
	L->errors0 = errors0;
	if (insert_submission(w, meta, manifest, manifest_len, &L->sub_id, d) != 0)
		goto out;
	if (prep(w,
	         meta->kind == WH_RECORDS
	                 ? "INSERT INTO record_block(submission_id, first_line, n_rows, data) "
	                   "VALUES(?1, ?2, ?3, ?4)"
	                 : "INSERT INTO cell(submission_id, line, period, indicator, sex, age, "
	                   "form, citizenship, lo, hi, flags) "
	                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	         &L->ins, d) != 0)
		goto out;
	size_t data_errors0 = d->n_errors;
	if (load_rows(L, &r) != 0)
		goto out;

	unsigned char sha[32], b2[32];
	char sha_hex[65], b2_hex[65];
	sha256_final(&r.sha, sha);
	crypto_generichash_final(&r.b2, b2, 32);
	text_hex(sha, 32, sha_hex);
	text_hex(b2, 32, b2_hex);
	if (d->n_errors == data_errors0) {
		/* the data is well formed: does the manifest describe it? */
		if (exp.rows >= 0 && exp.rows != L->n_rows)
			mf_err(d, manifest_path, "output.rows is %lld but the data has %lld rows",
			       (long long)exp.rows, (long long)L->n_rows);
		if (exp.b2[0] && strcmp(exp.b2, b2_hex))
			mf_err(d, manifest_path, "output.blake2b does not match the data");
		if (exp.sha[0] && strcmp(exp.sha, sha_hex))
			mf_err(d, manifest_path, "output.sha256 does not match the data");
	}
	if (d->n_errors > errors0) {
		diag_fail(d, EX_DATAERR, "%s: %zu error%s; nothing was loaded", data_path,
		          d->n_errors - errors0, d->n_errors - errors0 == 1 ? "" : "s");
		goto out;
	}
	if (supersede(w, meta, ps, L->sub_id, d) != 0)
		goto out;

	/* audit entry: codes, ids, hashes and counts only */
	char sup[256] = "";
	size_t off = 0;
	for (size_t i = 0; i < ps->n; i++) {
		if (!superseded[i])
			continue;
		int dup = 0;
		for (size_t j = 0; j < i; j++)
			dup |= superseded[j] == superseded[i];
		if (!dup && off < sizeof sup - 24)
			off += (size_t)snprintf(sup + off, sizeof sup - off, "%s%lld", off ? "," : "",
			                        (long long)superseded[i]);
	}
	char *detail = malloc(AUDIT_DETAIL_MAX + 1);
	if (!detail) {
		diag_fail(d, EX_OSERR, "out of memory");
		goto out;
	}
	snprintf(detail, AUDIT_DETAIL_MAX + 1,
	         "id=%lld country=%s periods=%s version=%u kind=%s rows=%lld bytes=%llu "
	         "data_sha256=%s%s%s%s%s%s%s",
	         (long long)L->sub_id, meta->country, meta->periods, meta->version,
	         kind_name(meta->kind), (long long)L->n_rows, (unsigned long long)r.bytes, sha_hex,
	         meta->package_sha256 ? " package_sha256=" : "",
	         meta->package_sha256 ? meta->package_sha256 : "",
	         meta->signer_key_id ? " signer=" : "", meta->signer_key_id ? meta->signer_key_id : "",
	         sup[0] ? " supersedes=" : "", sup);
	int64_t seq = 0;
	int arc = audit_append(w->db, meta->actor, "submission.load", detail, &seq, d);
	free(detail);
	if (arc != 0)
		goto out;
	if (finish_submission(w, L->sub_id, sha_hex, (int64_t)r.bytes, L->n_rows, seq, d) != 0)
		goto out;
	sqlite3_finalize(L->ins);
	L->ins = NULL;
	if (tx_commit(w, d) != 0)
		goto out;
	in_tx = 0;
	if (out_id)
		*out_id = L->sub_id;
	ret = 0;
out:
	if (L && L->ins)
		sqlite3_finalize(L->ins);
	if (in_tx)
		tx_rollback(w);
	if (r.fp)
		fclose(r.fp);
	free(r.buf);
	if (L)
		free(L->blk);
	free(L);
	free(superseded);
	json_free(&doc);
	free(manifest);
	free(ps);
	return ret;
}

/* --- export ------------------------------------------------------------------------ */

/* fwrite, remembering the errno of the first failure in *err */
static void put(const void *p, size_t n, FILE *out, int *err)
{
	if (fwrite(p, 1, n, out) != n && !*err)
		*err = errno ? errno : EIO;
}

int wh_export_submission(wh *w, int64_t id, FILE *out, diag *d)
{
	wh_submission s;
	if (wh_submission_get(w, id, &s, d) != 0)
		return -1;
	sqlite3_stmt *st;
	if (prep(w,
	         s.kind == WH_RECORDS
	                 ? "SELECT n_rows, data FROM record_block WHERE submission_id = ?1 "
	                   "ORDER BY first_line"
	                 : "SELECT period, indicator, sex, age, form, citizenship, lo, hi, flags "
	                   "FROM cell WHERE submission_id = ?1 ORDER BY line",
	         &st, d) != 0)
		return -1;
	int began = sqlite3_get_autocommit(w->db);
	if (began && exec(w, "BEGIN", d, "cannot start reading") != 0) {
		sqlite3_finalize(st);
		return -1;
	}
	sha256_ctx hs;
	sha256_init(&hs, 0);
	char line[WH_LINE_MAX + 64];
	int werr = 0;   /* errno of the first failed write: the message says why */
	int n = snprintf(line, sizeof line, "%s\n", s.kind == WH_RECORDS ? RECORDS_HEADER : CELLS_HEADER);
	put(line, (size_t)n, out, &werr);
	sha256_update(&hs, (unsigned char *)line, (size_t)n);
	sqlite3_bind_int64(st, 1, id);
	int rc;
	int64_t rows = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (s.kind == WH_RECORDS) {
			/* a block: its lines as they were loaded */
			const void *blob = sqlite3_column_blob(st, 1);
			size_t len = (size_t)sqlite3_column_bytes(st, 1);
			if (len)
				put(blob, len, out, &werr);
			sha256_update(&hs, blob ? blob : (const void *)"", len);
			rows += sqlite3_column_int64(st, 0);
			continue;
		}
		const char *c[7];
		for (int i = 0; i < 7; i++) {
			const unsigned char *t = sqlite3_column_text(st, i);
			c[i] = t ? (const char *)t : "";
		}
		{
			char hi[24] = "";
			if (sqlite3_column_type(st, 7) != SQLITE_NULL)
				snprintf(hi, sizeof hi, "%lld", (long long)sqlite3_column_int64(st, 7));
			const unsigned char *fl = sqlite3_column_text(st, 8);
			n = snprintf(line, sizeof line, "%s,%s,%s,%s,%s,%s,%s,%lld,%s,%s\n", s.country, c[0],
			             c[1], c[2], c[3], c[4], c[5], (long long)sqlite3_column_int64(st, 6), hi,
			             fl ? (const char *)fl : "");
		}
		if (n < 0 || (size_t)n >= sizeof line) {
			rc = SQLITE_TOOBIG;
			break;
		}
		put(line, (size_t)n, out, &werr);
		sha256_update(&hs, (unsigned char *)line, (size_t)n);
		rows++;
	}
	sqlite3_finalize(st);
	if (began)
		sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_DONE)
		return db_fail(w, rc, d, "cannot read the submission's rows");
	if (fflush(out) != 0 && !werr)
		werr = errno ? errno : EIO;
	if (werr || ferror(out))
		return diag_fail(d, EX_IOERR, "write error while exporting submission %lld: %s",
		                 (long long)id, strerror(werr ? werr : EIO));
	unsigned char h[32];
	char hex[65];
	sha256_final(&hs, h);
	text_hex(h, 32, hex);
	if (strcmp(hex, s.data_sha256) || rows != s.n_rows)
		return diag_fail(d, EX_DATAERR,
		                 "%s: submission %lld exported differently from what was loaded "
		                 "(sha256 %s, stored %s): the warehouse was altered",
		                 w->path, (long long)id, hex, s.data_sha256);
	return 0;
}

/* --- refusals ------------------------------------------------------------------------- */

static int valid_reason(const char *s)
{
	if (!s || !*s || strlen(s) > 48)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || is_digit((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

int wh_refusal(wh *w, const wh_refusal_info *r, int64_t *out_seq, diag *d)
{
	if (!r || !audit_valid_actor(r->actor))
		return diag_fail(d, EX_USAGE, "wh_refusal: invalid actor");
	/* sized for the longest fields (periods: WH_PERIODS_MAX); the guards
	 * keep a surprise from ever writing past the end */
	char detail[WH_PERIODS_MAX + 1024];
	char malformed[128] = "";
	size_t off = 0, moff = 0;
#define ADD(...) (off < sizeof detail \
                  ? (off += (size_t)snprintf(detail + off, sizeof detail - off, __VA_ARGS__)) : off)
#define BAD(name) (moff < sizeof malformed \
                   ? (moff += (size_t)snprintf(malformed + moff, sizeof malformed - moff, \
                                               "%s%s", moff ? "," : "", name)) : moff)
	ADD("reason=%s", valid_reason(r->reason) ? r->reason : "unspecified");
	if (r->reason && !valid_reason(r->reason))
		BAD("reason");
	ADD(" code=%d", r->code);
	if (r->package_sha256) {
		if (valid_lhex(r->package_sha256, 64))
			ADD(" package_sha256=%s", r->package_sha256);
		else
			BAD("package_sha256");
	}
	if (r->country) {
		if (valid_country(r->country))
			ADD(" country=%s", r->country);
		else
			BAD("country");
	}
	if (r->periods) {
		periods *ps = malloc(sizeof *ps);
		if (!ps)
			return diag_fail(d, EX_OSERR, "out of memory");
		if (parse_periods(r->periods, ps) == 0)
			ADD(" periods=%s", r->periods);
		else
			BAD("periods");
		free(ps);
	}
	if (r->version)
		ADD(" version=%u", r->version);
	if (r->signer_key_id) {
		if (valid_lhex(r->signer_key_id, 16))
			ADD(" signer=%s", r->signer_key_id);
		else
			BAD("signer");
	}
	if (r->line)
		ADD(" line=%lu", r->line);
	if (r->n_errors)
		ADD(" errors=%lu", r->n_errors);
	if (moff)
		ADD(" malformed=%s", malformed);
#undef ADD
#undef BAD
	if (off >= sizeof detail)
		return diag_fail(d, EX_SOFTWARE, "wh_refusal: detail too long");
	if (tx_begin(w, d) != 0)
		return -1;
	if (audit_append(w->db, r->actor, "package.refused", detail, out_seq, d) != 0 ||
	    tx_commit(w, d) != 0) {
		tx_rollback(w);
		return -1;
	}
	return 0;
}

/* --- queries --------------------------------------------------------------------------- */

int wh_submission_get(wh *w, int64_t id, wh_submission *out, diag *d)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st;
	if (prep(w,
	         "SELECT id, country, periods, version, kind, received_at, loaded_by, package_sha256, "
	         "data_sha256, signer_key_id, data_bytes, n_rows, audit_seq "
	         "FROM submission WHERE id = ?1 AND audit_seq IS NOT NULL",
	         &st, d) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		copy_col(st, 1, out->country, sizeof out->country);
		copy_col(st, 2, out->periods, sizeof out->periods);
		out->version = (uint32_t)sqlite3_column_int64(st, 3);
		out->kind = kind_parse((const char *)sqlite3_column_text(st, 4));
		copy_col(st, 5, out->received_at, sizeof out->received_at);
		copy_col(st, 6, out->loaded_by, sizeof out->loaded_by);
		copy_col(st, 7, out->package_sha256, sizeof out->package_sha256);
		copy_col(st, 8, out->data_sha256, sizeof out->data_sha256);
		copy_col(st, 9, out->signer_key_id, sizeof out->signer_key_id);
		out->data_bytes = sqlite3_column_int64(st, 10);
		out->n_rows = sqlite3_column_int64(st, 11);
		out->audit_seq = sqlite3_column_int64(st, 12);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return diag_fail(d, EX_USAGE, "%s: no submission %lld", w->path, (long long)id);
	if (rc != SQLITE_ROW)
		return db_fail(w, rc, d, "cannot read a submission");
	if (out->kind < 0)
		return diag_fail(d, EX_DATAERR, "%s: submission %lld has an unknown kind", w->path,
		                 (long long)id);
	return 0;
}

int wh_submission_manifest(wh *w, int64_t id, char **json, diag *d)
{
	*json = NULL;
	sqlite3_stmt *st;
	if (prep(w, "SELECT manifest_json FROM submission WHERE id = ?1", &st, d) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		*json = strdup(t ? (const char *)t : "");
		if (!*json)
			rc = SQLITE_NOMEM;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return diag_fail(d, EX_USAGE, "%s: no submission %lld", w->path, (long long)id);
	return rc == SQLITE_ROW ? 0 : db_fail(w, rc, d, "cannot read a manifest");
}

/* A growable array of fixed-size items. */
static int grow(void **arr, size_t *cap, size_t n, size_t item, diag *d)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, nc * item);
	if (!p)
		return diag_fail(d, EX_OSERR, "out of memory");
	*arr = p;
	*cap = nc;
	return 0;
}

int wh_latest(wh *w, const char *country, int64_t as_of_seq, wh_part **out, size_t *n, diag *d)
{
	*out = NULL;
	*n = 0;
	if (country && !valid_country(country))
		return diag_fail(d, EX_USAGE, "not an ISO alpha-3 country code");
	sqlite3_stmt *st;
	const char *sql =
		as_of_seq <= 0
			? "SELECT sp.submission_id, sp.country, sp.period, sp.version, s.kind "
			  "FROM submission_period sp JOIN submission s ON s.id = sp.submission_id "
			  "WHERE sp.superseded_by IS NULL AND (?1 IS NULL OR sp.country = ?1) "
			  "ORDER BY sp.country, sp.period"
			: "SELECT sp.submission_id, sp.country, sp.period, sp.version, s.kind "
			  "FROM submission_period sp JOIN submission s ON s.id = sp.submission_id "
			  "WHERE s.audit_seq <= ?2 AND (?1 IS NULL OR sp.country = ?1) "
			  "AND sp.version = (SELECT max(x.version) FROM submission_period x "
			  "  JOIN submission y ON y.id = x.submission_id "
			  "  WHERE x.country = sp.country AND x.period = sp.period AND y.audit_seq <= ?2) "
			  "ORDER BY sp.country, sp.period";
	if (prep(w, sql, &st, d) != 0)
		return -1;
	if (country)
		sqlite3_bind_text(st, 1, country, -1, SQLITE_STATIC);
	if (as_of_seq > 0)
		sqlite3_bind_int64(st, 2, as_of_seq);
	wh_part *a = NULL;
	size_t cap = 0, k = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (grow((void **)&a, &cap, k, sizeof *a, d) != 0) {
			sqlite3_finalize(st);
			free(a);
			return -1;
		}
		wh_part *p = &a[k++];
		memset(p, 0, sizeof *p);
		p->submission_id = sqlite3_column_int64(st, 0);
		copy_col(st, 1, p->country, sizeof p->country);
		copy_col(st, 2, p->period, sizeof p->period);
		p->version = (uint32_t)sqlite3_column_int64(st, 3);
		p->kind = kind_parse((const char *)sqlite3_column_text(st, 4));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(a);
		return db_fail(w, rc, d, "cannot list the latest submissions");
	}
	*out = a;
	*n = k;
	return 0;
}

int wh_status(wh *w, wh_status_entry **out, size_t *n, diag *d)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st;
	if (prep(w,
	         "SELECT sp.country, sp.period, sp.version, sp.submission_id, s.kind, s.received_at, "
	         "(SELECT count(*) FROM submission_period x "
	         " WHERE x.country = sp.country AND x.period = sp.period) "
	         "FROM submission_period sp JOIN submission s ON s.id = sp.submission_id "
	         "WHERE sp.superseded_by IS NULL ORDER BY sp.country, sp.period",
	         &st, d) != 0)
		return -1;
	wh_status_entry *a = NULL;
	size_t cap = 0, k = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (grow((void **)&a, &cap, k, sizeof *a, d) != 0) {
			sqlite3_finalize(st);
			free(a);
			return -1;
		}
		wh_status_entry *e = &a[k++];
		memset(e, 0, sizeof *e);
		copy_col(st, 0, e->country, sizeof e->country);
		copy_col(st, 1, e->period, sizeof e->period);
		e->version = (uint32_t)sqlite3_column_int64(st, 2);
		e->submission_id = sqlite3_column_int64(st, 3);
		e->kind = kind_parse((const char *)sqlite3_column_text(st, 4));
		copy_col(st, 5, e->received_at, sizeof e->received_at);
		e->n_versions = sqlite3_column_int64(st, 6);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(a);
		return db_fail(w, rc, d, "cannot read the coverage");
	}
	*out = a;
	*n = k;
	return 0;
}

/* --- reading stored records: blocks of canonical lines ------------------------------- */

typedef struct blkrd {
	wh *w;
	sqlite3_stmt *st;         /* the submission's blocks in line order */
	int64_t id;
	const char *p, *end;      /* the rest of the current block */
	int64_t left;             /* its rows not read yet */
	unsigned long line;       /* line number of the next row */
	char buf[WH_LINE_MAX + 2];
} blkrd;

static int blkrd_open(wh *w, int64_t id, blkrd *b, diag *d)
{
	memset(b, 0, sizeof *b);
	b->w = w;
	b->id = id;
	if (prep(w,
	         "SELECT first_line, n_rows, data FROM record_block WHERE submission_id = ?1 "
	         "ORDER BY first_line",
	         &b->st, d) != 0)
		return -1;
	sqlite3_bind_int64(b->st, 1, id);
	return 0;
}

static void blkrd_close(blkrd *b)
{
	sqlite3_finalize(b->st);
	b->st = NULL;
}

static int blkrd_damaged(blkrd *b, diag *d)
{
	return diag_fail(d, EX_DATAERR, "%s: submission %lld: the stored records near line %lu "
	                 "are damaged: the warehouse was altered", b->w->path, (long long)b->id,
	                 b->line);
}

/* The next stored record (strings into b->buf, valid until the next call):
 * 1, 0 at the end, -1 on error.  The lines were checked on load; a line
 * that is not of the canonical shape now means the database was altered. */
static int blkrd_next(blkrd *b, wh_record *r, diag *d)
{
	while (b->p == b->end) {
		if (b->left)
			return blkrd_damaged(b, d);
		int rc = sqlite3_step(b->st);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_ROW)
			return db_fail(b->w, rc, d, "cannot read rows");
		b->line = (unsigned long)sqlite3_column_int64(b->st, 0);
		b->left = sqlite3_column_int64(b->st, 1);
		b->p = sqlite3_column_blob(b->st, 2);
		b->end = b->p + sqlite3_column_bytes(b->st, 2);
		if (!b->p || b->left < 1)
			return blkrd_damaged(b, d);
	}
	const char *nl = memchr(b->p, '\n', (size_t)(b->end - b->p));
	size_t n = nl ? (size_t)(nl - b->p) : 0;
	if (!nl || n > WH_LINE_MAX || b->left < 1)
		return blkrd_damaged(b, d);
	memcpy(b->buf, b->p, n);
	char *f[N_REC_FIELDS];
	size_t fl[N_REC_FIELDS], col[N_REC_FIELDS];
	if (split(b->buf, n, f, fl, col, N_REC_FIELDS) != N_REC_FIELDS ||
	    (fl[8] && (fl[8] != 32 || unhex16(f[8], r->case_key) != 0)))
		return blkrd_damaged(b, d);
	r->submission_id = b->id;
	r->line = b->line++;
	r->country = f[0];
	r->period = f[1];
	r->indicator = f[2];
	r->sex = f[3];
	r->age = f[4];
	r->age_band = f[5];
	r->form = f[6];
	r->citizenship = f[7];
	r->has_key = fl[8] > 0;
	if (!r->has_key)
		memset(r->case_key, 0, sizeof r->case_key);
	b->p = nl + 1;
	b->left--;
	return 1;
}

/* Shared walk of wh_each_record / wh_each_cell. */
static int each_row(wh *w, int kind, const wh_part *parts, size_t n, wh_record_fn rfn,
                    wh_cell_fn cfn, void *ctx, diag *d)
{
	sqlite3_stmt *kst, *st;
	if (prep(w, "SELECT kind, country FROM submission WHERE id = ?1 AND audit_seq IS NOT NULL",
	         &kst, d) != 0)
		return -1;
	if (prep(w,
	         "SELECT line, period, indicator, sex, age, form, citizenship, lo, hi, "
	         "flags FROM cell WHERE submission_id = ?1 "
	         "AND (?2 = '' OR period = ?2) ORDER BY line",
	         &st, d) != 0) {
		sqlite3_finalize(kst);
		return -1;
	}
	int began = sqlite3_get_autocommit(w->db);
	int ret = 0;
	if (began && exec(w, "BEGIN", d, "cannot start reading") != 0)
		ret = -1;
	for (size_t i = 0; i < n && ret == 0; i++) {
		char country[4] = "";
		sqlite3_bind_int64(kst, 1, parts[i].submission_id);
		int rc = sqlite3_step(kst);
		if (rc == SQLITE_ROW) {
			int k = kind_parse((const char *)sqlite3_column_text(kst, 0));
			copy_col(kst, 1, country, sizeof country);
			if (k != kind)
				ret = diag_fail(d, EX_USAGE, "submission %lld holds %s, not %s",
				                (long long)parts[i].submission_id, kind_name(k), kind_name(kind));
		} else if (rc == SQLITE_DONE) {
			ret = diag_fail(d, EX_USAGE, "%s: no submission %lld", w->path,
			                (long long)parts[i].submission_id);
		} else {
			ret = db_fail(w, rc, d, "cannot read a submission");
		}
		sqlite3_reset(kst);
		if (ret)
			break;
		if (kind == WH_RECORDS) {
			blkrd *b = malloc(sizeof *b);
			if (!b) {
				ret = diag_fail(d, EX_OSERR, "out of memory");
				break;
			}
			const char *per = parts[i].period;
			wh_record r = {0};
			if (blkrd_open(w, parts[i].submission_id, b, d) != 0)
				ret = -1;
			while (ret == 0 && (rc = blkrd_next(b, &r, d)) == 1) {
				if (*per && strcmp(r.period, per))
					continue;
				ret = rfn(ctx, &r, d);
				if (ret != 0 && !d->code)
					diag_fail(d, EX_SOFTWARE, "iteration stopped by its callback");
			}
			if (ret == 0 && rc < 0)
				ret = -1;
			blkrd_close(b);
			free(b);
			continue;
		}
		sqlite3_bind_int64(st, 1, parts[i].submission_id);
		sqlite3_bind_text(st, 2, parts[i].period, -1, SQLITE_STATIC);
		while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *c[6];
			for (int j = 0; j < 6; j++) {
				const unsigned char *t = sqlite3_column_text(st, 1 + j);
				c[j] = t ? (const char *)t : "";
			}
			{
				wh_cell c2;
				memset(&c2, 0, sizeof c2);
				c2.submission_id = parts[i].submission_id;
				c2.line = (unsigned long)sqlite3_column_int64(st, 0);
				c2.country = country;
				c2.period = c[0];
				c2.indicator = c[1];
				c2.sex = c[2];
				c2.age = c[3];
				c2.form = c[4];
				c2.citizenship = c[5];
				c2.lo = sqlite3_column_int64(st, 7);
				c2.hi = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1
				                                                   : sqlite3_column_int64(st, 8);
				const unsigned char *t = sqlite3_column_text(st, 9);
				c2.flags = t ? (const char *)t : "";
				ret = cfn(ctx, &c2, d);
			}
			if (ret != 0 && !d->code)
				diag_fail(d, EX_SOFTWARE, "iteration stopped by its callback");
		}
		if (ret == 0 && rc != SQLITE_DONE)
			ret = db_fail(w, rc, d, "cannot read rows");
		sqlite3_reset(st);
	}
	sqlite3_finalize(kst);
	sqlite3_finalize(st);
	if (began)
		sqlite3_exec(w->db, ret == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
	return ret == 0 ? 0 : -1;
}

int wh_each_record(wh *w, const wh_part *parts, size_t n, wh_record_fn fn, void *ctx, diag *d)
{
	return each_row(w, WH_RECORDS, parts, n, fn, NULL, ctx, d);
}

int wh_each_cell(wh *w, const wh_part *parts, size_t n, wh_cell_fn fn, void *ctx, diag *d)
{
	return each_row(w, WH_CELLS, parts, n, NULL, fn, ctx, d);
}

/* --- record cursors ------------------------------------------------------------------------ */

struct wh_rcursor {
	blkrd b;
};

int wh_rcursor_open(wh *w, int64_t submission_id, wh_rcursor **out, diag *d)
{
	*out = NULL;
	sqlite3_stmt *kst;
	if (prep(w, "SELECT kind FROM submission WHERE id = ?1 AND audit_seq IS NOT NULL",
	         &kst, d) != 0)
		return -1;
	sqlite3_bind_int64(kst, 1, submission_id);
	int rc = sqlite3_step(kst), ret = 0;
	if (rc == SQLITE_ROW) {
		int k = kind_parse((const char *)sqlite3_column_text(kst, 0));
		if (k != WH_RECORDS)
			ret = diag_fail(d, EX_USAGE, "submission %lld holds %s, not %s",
			                (long long)submission_id, kind_name(k), kind_name(WH_RECORDS));
	} else if (rc == SQLITE_DONE) {
		ret = diag_fail(d, EX_USAGE, "%s: no submission %lld", w->path,
		                (long long)submission_id);
	} else {
		ret = db_fail(w, rc, d, "cannot read a submission");
	}
	sqlite3_finalize(kst);
	if (ret)
		return -1;
	wh_rcursor *c = malloc(sizeof *c);
	if (!c)
		return diag_fail(d, EX_OSERR, "out of memory");
	if (blkrd_open(w, submission_id, &c->b, d) != 0) {
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int wh_rcursor_next(wh_rcursor *c, wh_record *r, diag *d)
{
	return blkrd_next(&c->b, r, d);
}

void wh_rcursor_close(wh_rcursor *c)
{
	if (!c)
		return;
	blkrd_close(&c->b);
	free(c);
}

int wh_read_begin(wh *w, int *began, diag *d)
{
	*began = 0;
	if (!sqlite3_get_autocommit(w->db))
		return 0;
	if (exec(w, "BEGIN", d, "cannot start reading") != 0)
		return -1;
	*began = 1;
	return 0;
}

void wh_read_end(wh *w, int began)
{
	if (began && !sqlite3_get_autocommit(w->db))
		sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL);
}

/* --- trust store ------------------------------------------------------------------------- */

static void key_id_of(const unsigned char pk[32], char hex[17])
{
	unsigned char h[32];
	crypto_generichash(h, sizeof h, pk, 32, NULL, 0);
	text_hex(h, 8, hex);
}

static int check_key_args(const char *actor, const char *country, diag *d)
{
	if (!audit_valid_actor(actor))
		return diag_fail(d, EX_USAGE, "invalid actor name");
	if (!valid_country(country))
		return diag_fail(d, EX_USAGE, "not an ISO alpha-3 country code");
	return 0;
}

/* Insert a new active key (inside the caller's transaction). */
static int key_insert(wh *w, const char *country, const unsigned char pk[32], char id[17],
                      diag *d)
{
	if (crypto_core_ed25519_is_valid_point(pk) != 1)
		return diag_fail(d, EX_DATAERR, "not a valid Ed25519 public key");
	key_id_of(pk, id);
	sqlite3_stmt *st;
	if (prep(w, "SELECT country, status FROM office_key WHERE key_id = ?1 OR public_key = ?2",
	         &st, d) != 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, pk, 32, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		char c[4], s[16];
		copy_col(st, 0, c, sizeof c);
		copy_col(st, 1, s, sizeof s);
		sqlite3_finalize(st);
		return diag_fail(d, EX_DATAERR, "key %s is already in the trust store (%s, %s)", id, c,
		                 s);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(w, rc, d, "cannot read the trust store");
	if (prep(w,
	         "INSERT INTO office_key(key_id, country, public_key, status, added_at) "
	         "VALUES(?1, ?2, ?3, 'active', ?4)",
	         &st, d) != 0)
		return -1;
	char ts[SQLX_TS_LEN];
	sqlx_now_utc(ts);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, country, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, pk, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ts, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(w, rc, d, "cannot add the key");
}

/* Revoke an active key of country (inside the caller's transaction). */
static int key_revoke(wh *w, const char *country, const char *key_id, diag *d)
{
	if (!valid_lhex(key_id, 16))
		return diag_fail(d, EX_USAGE, "key id is not 16 lower-case hex digits");
	sqlite3_stmt *st;
	if (prep(w, "SELECT country, status FROM office_key WHERE key_id = ?1", &st, d) != 0)
		return -1;
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	char c[4] = "", s[16] = "";
	if (rc == SQLITE_ROW) {
		copy_col(st, 0, c, sizeof c);
		copy_col(st, 1, s, sizeof s);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return diag_fail(d, EX_DATAERR, "key %s is not in the trust store", key_id);
	if (rc != SQLITE_ROW)
		return db_fail(w, rc, d, "cannot read the trust store");
	if (strcmp(c, country))
		return diag_fail(d, EX_DATAERR, "key %s belongs to %s, not %s", key_id, c, country);
	if (strcmp(s, "active"))
		return diag_fail(d, EX_DATAERR, "key %s is already revoked", key_id);
	if (prep(w,
	         "UPDATE office_key SET status = 'revoked', revoked_at = ?2 WHERE key_id = ?1",
	         &st, d) != 0)
		return -1;
	char ts[SQLX_TS_LEN];
	sqlx_now_utc(ts);
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ts, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(w, rc, d, "cannot revoke the key");
}

int wh_key_add(wh *w, const char *actor, const char *country, const unsigned char pk[32],
               char *key_id_out, diag *d)
{
	if (check_key_args(actor, country, d) != 0)
		return -1;
	char id[17], detail[96];
	if (tx_begin(w, d) != 0)
		return -1;
	if (key_insert(w, country, pk, id, d) != 0)
		goto fail;
	snprintf(detail, sizeof detail, "country=%s key_id=%s", country, id);
	if (audit_append(w->db, actor, "key.add", detail, NULL, d) != 0 || tx_commit(w, d) != 0)
		goto fail;
	if (key_id_out)
		memcpy(key_id_out, id, 17);
	return 0;
fail:
	tx_rollback(w);
	return -1;
}

int wh_key_rotate(wh *w, const char *actor, const char *country, const char *old_key_id,
                  const unsigned char new_pk[32], char *key_id_out, diag *d)
{
	if (check_key_args(actor, country, d) != 0)
		return -1;
	char id[17], detail[128];
	if (tx_begin(w, d) != 0)
		return -1;
	if (key_revoke(w, country, old_key_id, d) != 0 || key_insert(w, country, new_pk, id, d) != 0)
		goto fail;
	snprintf(detail, sizeof detail, "country=%s key_id=%s revoked=%s", country, id, old_key_id);
	if (audit_append(w->db, actor, "key.rotate", detail, NULL, d) != 0 || tx_commit(w, d) != 0)
		goto fail;
	if (key_id_out)
		memcpy(key_id_out, id, 17);
	return 0;
fail:
	tx_rollback(w);
	return -1;
}

int wh_key_revoke(wh *w, const char *actor, const char *country, const char *key_id, diag *d)
{
	if (check_key_args(actor, country, d) != 0)
		return -1;
	char detail[96];
	if (tx_begin(w, d) != 0)
		return -1;
	if (key_revoke(w, country, key_id, d) != 0)
		goto fail;
	snprintf(detail, sizeof detail, "country=%s key_id=%s", country, key_id);
	if (audit_append(w->db, actor, "key.revoke", detail, NULL, d) != 0 || tx_commit(w, d) != 0)
		goto fail;
	return 0;
fail:
	tx_rollback(w);
	return -1;
}

static int key_query(wh *w, const char *country, int active_only, wh_key **out, size_t *n,
                     diag *d)
{
	*out = NULL;
	*n = 0;
	if (country && !valid_country(country))
		return diag_fail(d, EX_USAGE, "not an ISO alpha-3 country code");
	sqlite3_stmt *st;
	if (prep(w,
	         "SELECT country, key_id, public_key, status, added_at, revoked_at FROM office_key "
	         "WHERE (?1 IS NULL OR country = ?1) AND (?2 = 0 OR status = 'active') "
	         "ORDER BY country, added_at, key_id",
	         &st, d) != 0)
		return -1;
	if (country)
		sqlite3_bind_text(st, 1, country, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, active_only);
	wh_key *a = NULL;
	size_t cap = 0, k = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (grow((void **)&a, &cap, k, sizeof *a, d) != 0) {
			sqlite3_finalize(st);
			free(a);
			return -1;
		}
		wh_key *e = &a[k++];
		memset(e, 0, sizeof *e);
		copy_col(st, 0, e->country, sizeof e->country);
		copy_col(st, 1, e->key_id, sizeof e->key_id);
		if (sqlite3_column_bytes(st, 2) == 32)
			memcpy(e->public_key, sqlite3_column_blob(st, 2), 32);
		const unsigned char *s = sqlite3_column_text(st, 3);
		e->active = s && !strcmp((const char *)s, "active");
		copy_col(st, 4, e->added_at, sizeof e->added_at);
		copy_col(st, 5, e->revoked_at, sizeof e->revoked_at);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(a);
		return db_fail(w, rc, d, "cannot read the trust store");
	}
	*out = a;
	*n = k;
	return 0;
}

int wh_key_list(wh *w, const char *country, wh_key **out, size_t *n, diag *d)
{
	return key_query(w, country, 0, out, n, d);
}

int wh_key_active(wh *w, const char *country, wh_key **out, size_t *n, diag *d)
{
	if (!country)
		return diag_fail(d, EX_USAGE, "wh_key_active: which country?");
	return key_query(w, country, 1, out, n, d);
}
