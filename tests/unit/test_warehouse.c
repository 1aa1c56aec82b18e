/* Unit tests for aggregator/warehouse: the SQLite warehouse, its loading
 * of canonical submissions, supersession, trust store and audit entries.
 *
 * Every test gets a fresh directory with a fresh warehouse.  Submissions
 * are written as canonical files with a manifest whose hash and row count
 * are computed here, independently of the loader.
 *
 * Environment:
 *   TIPSTAT_DATASETS        bundled datasets/ (truth files as fixtures);
 *                           the test is skipped when absent
 *   TIPSTAT_WH_BENCH_ROWS   rows for the load benchmark (default 20000)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "aggregator/auditlog.h"
#include "aggregator/warehouse.h"
#include "core/text.h"

/* --- fixtures and helpers ------------------------------------------------ */

typedef struct fx {
	char dir[64];
	char db[128];
	wh *w;
} fx;

static void remove_tree(const char *dir)
{
	DIR *dp = opendir(dir);
	if (!dp)
		return;
	struct dirent *e;
	while ((e = readdir(dp)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char p[512];
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(dp);
	rmdir(dir);
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/whtest.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof f->db, "%s/warehouse.db", f->dir);
	diag d = DIAG_INIT;
	if (wh_open(f->db, WH_CREATE, &f->w, &d) != 0)
		fail_msg("wh_open: %s", d.msg);
	diag_free(&d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	wh_close(f->w);
	remove_tree(f->dir);
	free(f);
	return 0;
}

static void write_file(const char *path, const char *data, size_t n)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static char *slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	long len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	char *buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	buf[len] = '\0';
	*n = (size_t)len;
	return buf;
}

/* Manifest of a data text: the periods and rows are read from the data
 * (second column of every line after the first), the hash computed here. */
static void write_manifest(const char *path, const char *kind, const char *country,
                           const char *data, size_t n, long rows_override,
                           const char *hash_override)
{
	unsigned char h[32];
	char hex[65];
	crypto_generichash(h, 32, (const unsigned char *)data, n, NULL, 0);
	text_hex(h, 32, hex);
	char periods[256] = "";
	long rows = 0;
	const char *p = memchr(data, '\n', n);
	while (p && (size_t)(p + 1 - data) < n) {
		const char *line = p + 1;
		const char *c1 = memchr(line, ',', n - (size_t)(line - data));
		p = memchr(line, '\n', n - (size_t)(line - data));
		rows++;
		if (!c1)
			continue;
		const char *c2 = memchr(c1 + 1, ',', n - (size_t)(c1 + 1 - data));
		if (!c2 || c2 - c1 > 12)
			continue;
		char per[16];
		snprintf(per, sizeof per, "\"%.*s\"", (int)(c2 - c1 - 1), c1 + 1);
		if (!strstr(periods, per) && strlen(periods) + strlen(per) + 3 < sizeof periods) {
			if (periods[0])
				strcat(periods, ", ");
			strcat(periods, per);
		}
	}
	if (rows_override >= 0)
		rows = rows_override;
	char m[1024];
	int k = snprintf(m, sizeof m,
	                 "{\n  \"format\": \"tipstat-submission/1\",\n  \"tool\": \"tipstat 0.1.0\",\n"
	                 "  \"kind\": \"%s\",\n  \"countries\": [%s%s%s],\n  \"periods\": [%s],\n"
	                 "  \"indicators\": [],\n"
	                 "  \"input\": {\"file\": \"x.csv\", \"blake2b\": \"%s\", \"bytes\": 1},\n"
	                 "  \"output\": {\"blake2b\": \"%s\", \"rows\": %ld},\n"
	                 "  \"pseudonymised\": true,\n  \"warnings\": 0\n}\n",
	                 kind, rows ? "\"" : "", rows ? country : "", rows ? "\"" : "", periods, hex,
	                 hash_override ? hash_override : hex, rows);
	write_file(path, m, (size_t)k);
}

typedef struct sub {
	char data[256], manifest[280];
} sub;

static void make_sub(fx *f, sub *s, const char *name, const char *kind, const char *country,
                     const char *data)
{
	snprintf(s->data, sizeof s->data, "%s/%s", f->dir, name);
	snprintf(s->manifest, sizeof s->manifest, "%s.manifest", s->data);
	write_file(s->data, data, strlen(data));
	write_manifest(s->manifest, kind, country, data, strlen(data), -1, NULL);
}

static wh_submission_meta meta_of(int kind, const char *country, const char *periods,
                                  uint32_t version)
{
	wh_submission_meta m;
	memset(&m, 0, sizeof m);
	m.actor = "accept";
	m.country = country;
	m.periods = periods;
	m.version = version;
	m.kind = kind;
	return m;
}

/* Stored case-level records (schema 2 keeps them in blocks of lines). */
#define N_RECORDS_SQL "SELECT ifnull(sum(n_rows), 0) FROM record_block"

static int64_t count_sql(wh *w, const char *q)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(wh_db(w), q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Row counts of every table a load touches, to prove nothing changed. */
typedef struct counts {
	int64_t sub, per, rec, cell, audit;
} counts;

static counts counts_of(wh *w)
{
	counts c;
	c.sub = count_sql(w, "SELECT count(*) FROM submission");
	c.per = count_sql(w, "SELECT count(*) FROM submission_period");
	c.rec = count_sql(w, N_RECORDS_SQL);
	c.cell = count_sql(w, "SELECT count(*) FROM cell");
	c.audit = count_sql(w, "SELECT count(*) FROM audit");
	return c;
}

static void assert_counts_equal(counts a, counts b)
{
	assert_int_equal(a.sub, b.sub);
	assert_int_equal(a.per, b.per);
	assert_int_equal(a.rec, b.rec);
	assert_int_equal(a.cell, b.cell);
	assert_int_equal(a.audit, b.audit);
}

static int64_t load_ok(fx *f, const wh_submission_meta *m, const sub *s)
{
	diag d = DIAG_INIT;
	int64_t id = 0;
	if (wh_load_submission(f->w, m, s->data, s->manifest, &id, &d) != 0) {
		char buf[512] = "";
		if (d.n_items)
			diag_format(&d.items[0], buf, sizeof buf);
		fail_msg("load failed: %s [%s]", d.msg, buf);
	}
	diag_free(&d);
	assert_true(id > 0);
	return id;
}

/* Export into memory and compare with the file as loaded. */
static void assert_exports_identically(fx *f, int64_t id, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	diag d = DIAG_INIT;
	int rc = wh_export_submission(f->w, id, mem, &d);
	fclose(mem);
	if (rc != 0)
		fail_msg("export failed: %s", d.msg);
	size_t n;
	char *orig = slurp(path, &n);
	assert_int_equal(len, n);
	assert_memory_equal(buf, orig, n);
	free(orig);
	free(buf);
	diag_free(&d);
}

/* Index+1 of the error at file:line whose message has phrase, else 0. */
static size_t has_item(const diag *d, const char *file, unsigned long line, const char *phrase)
{
	for (size_t i = 0; i < d->n_items; i++) {
		const diag_item *it = &d->items[i];
		if (it->severity == DIAG_ERROR && it->line == line && it->file && !strcmp(it->file, file) &&
		    strstr(it->msg, phrase))
			return i + 1;
	}
	return 0;
}

static void dump_items(const diag *d)
{
	for (size_t i = 0; i < d->n_items; i++) {
		char buf[512];
		diag_format(&d->items[i], buf, sizeof buf);
		print_message("    %s\n", buf);
	}
}

static const char RECORDS[] =
	"country,period,indicator,sex,age,age_band,form,citizenship,case_key\n"
	"DEU,2024-Q1,VIC,F,Y_GE18,Y25T34,SEX,NGA,0a1b2c3d4e5f60718293a4b5c6d7e8f9\n"
	"DEU,2024-Q1,SUS,M,Y_GE18,,LAB,DEU,3c4d5e6f708192a3b4c5d6e7f8091a2b\n"
	"DEU,2024-Q1,VIC,F,Y0T17,Y15T17,SEX,ROU,3c4d5e6f708192a3b4c5d6e7f8091a2b\n"
	"DEU,2024-Q1,VIC,M,U,,BEG,U,f0e1d2c3b4a5968778695a4b3c2d1e0f\n"
	"DEU,2024-Q1,CONV,M,Y_GE18,Y35T44,LAB,DEU,\n"
	"DEU,2024-Q1,VIC,F,Y_GE18,,MIX,UKR,\n"
	"DEU,2024-Q1,VIC,F,Y_GE18,,MIX,UKR,\n";

static const char CELLS[] =
	"country,period,indicator,sex,age,form,citizenship,lo,hi,flags\n"
	"DEU,2024,VIC,F,Y0T17,_T,_T,0,4,c\n"
	"DEU,2024,VIC,F,Y_GE18,_T,_T,120,120,\n"
	"DEU,2024,VIC,F,_T,_T,_T,121,124,\n"
	"DEU,2024,VIC,M,Y_GE18,SEX,_T,0,,c\n"
	"DEU,2024,VIC,M,_T,_T,_T,30,30,a\n"
	"DEU,2024,VIC,U,_T,_T,_T,3,7,cd\n"
	"DEU,2024,VIC,_T,_T,_T,_T,160,160,\n";

/* --- opening ------------------------------------------------------------------ */

static void test_create_open_reopen(void **state)
{
	fx *f = *state;
	diag d = DIAG_INIT;
	int v = -1;
	assert_int_equal(wh_schema_version(f->w, &v, &d), 0);
	assert_int_equal(v, WH_SCHEMA_VERSION);
	assert_int_equal(count_sql(f->w, "SELECT count(*) FROM schema_migration"), WH_SCHEMA_VERSION);
	assert_int_equal(count_sql(f->w, "PRAGMA application_id"), WH_APPLICATION_ID);
	assert_int_equal(count_sql(f->w, "PRAGMA foreign_keys"), 1);
	/* 16 KiB pages: a record block spans 4-5 of them (warehouse.c) */
	assert_int_equal(count_sql(f->w, "PRAGMA page_size"), 16384);
	/* creation is itself audited */
	assert_int_equal(count_sql(f->w, "SELECT count(*) FROM audit WHERE action = 'schema.migrate' "
	                                 "AND detail = 'from=0 to=2'"),
	                 1);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(wh_db(f->w), "PRAGMA journal_mode", -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);

	/* reopen: no second migration */
	wh_close(f->w);
	f->w = NULL;
	assert_int_equal(wh_open(f->db, 0, &f->w, &d), 0);
	assert_int_equal(count_sql(f->w, "SELECT count(*) FROM audit"), 1);
	wh_close(f->w);
	f->w = NULL;
	/* read-only */
	assert_int_equal(wh_open(f->db, WH_READONLY, &f->w, &d), 0);
	assert_int_equal(wh_schema_version(f->w, &v, &d), 0);
	assert_int_equal(v, WH_SCHEMA_VERSION);
	wh_close(f->w);
	f->w = NULL;
	assert_int_equal(wh_open(f->db, 0, &f->w, &d), 0);

	/* no file, no create */
	wh *w2 = NULL;
	char p[160];
	snprintf(p, sizeof p, "%s/none.db", f->dir);
	assert_int_equal(wh_open(p, 0, &w2, &d), -1);
	assert_int_equal(d.code, EX_NOINPUT);
	assert_null(w2);
	assert_int_equal(access(p, F_OK), -1);
	diag_free(&d);
}

static void test_file_modes(void **state)
{
	fx *f = *state;
	/* a write makes sure -wal and -shm exist while the connection is open */
	diag d = DIAG_INIT;
	unsigned char pk[32], sk[64];
	crypto_sign_keypair(pk, sk);
	assert_int_equal(wh_key_add(f->w, "ops", "DEU", pk, NULL, &d), 0);
	const char *sfx[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		char p[160];
		struct stat sb;
		snprintf(p, sizeof p, "%s%s", f->db, sfx[i]);
		if (stat(p, &sb) != 0)
			fail_msg("%s missing", p);
		assert_int_equal(sb.st_mode & 0777, 0600);
	}
	/* an existing file with loose permissions is tightened on open */
	char p[160];
	snprintf(p, sizeof p, "%s/loose.db", f->dir);
	write_file(p, "", 0);
	assert_int_equal(chmod(p, 0644), 0);
	wh *w2 = NULL;
	assert_int_equal(wh_open(p, 0, &w2, &d), 0);
	struct stat sb;
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	wh_close(w2);
	/* and creation under a permissive umask still gives 0600 */
	mode_t old = umask(0);
	snprintf(p, sizeof p, "%s/umask.db", f->dir);
	assert_int_equal(wh_open(p, WH_CREATE, &w2, &d), 0);
	umask(old);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(p, sizeof p, "%s/umask.db-wal", f->dir);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	wh_close(w2);
	diag_free(&d);
}

static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
	sqlite3_close(db);
}

static void test_future_version_refused(void **state)
{
	fx *f = *state;
	wh_close(f->w);
	f->w = NULL;
	raw_exec(f->db, "PRAGMA user_version = 3");
	diag d = DIAG_INIT;
	assert_int_equal(wh_open(f->db, 0, &f->w, &d), -1);
	assert_null(f->w);
	assert_int_equal(d.code, EX_DATAERR);
	assert_non_null(strstr(d.msg, "schema version 3 is newer than this tipstat knows (2)"));
	diag_free(&d);
	/* untouched: still version 3 */
	raw_exec(f->db, "PRAGMA user_version = 2");
	diag_init(&d, 0);
	assert_int_equal(wh_open(f->db, 0, &f->w, &d), 0);
	diag_free(&d);
}

static void test_foreign_files_refused(void **state)
{
	fx *f = *state;
	diag d = DIAG_INIT;
	wh *w2 = NULL;
	char p[160];
	/* some other application's database */
	snprintf(p, sizeof p, "%s/other.db", f->dir);
	raw_exec(p, "CREATE TABLE t(x); INSERT INTO t VALUES(1);");
	assert_int_equal(wh_open(p, 0, &w2, &d), -1);
	assert_non_null(strstr(d.msg, "not a tipstat warehouse"));
	assert_int_equal(count_sql(f->w, "SELECT 1"), 1);
	raw_exec(p, "SELECT count(*) FROM t");   /* still intact */
	/* another application id */
	snprintf(p, sizeof p, "%s/app.db", f->dir);
	raw_exec(p, "PRAGMA application_id = 42");
	diag_reset(&d);
	assert_int_equal(wh_open(p, 0, &w2, &d), -1);
	assert_non_null(strstr(d.msg, "application_id 42"));
	/* not a database at all */
	snprintf(p, sizeof p, "%s/text.db", f->dir);
	const char *txt = "this is not a database, just some text that is long enough......"
	                  "................................................................";
	write_file(p, txt, strlen(txt));
	diag_reset(&d);
	assert_int_equal(wh_open(p, 0, &w2, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_non_null(strstr(d.msg, "not a SQLite database"));
	assert_null(w2);
	diag_free(&d);
}

/* An empty SQLite file is schema version 0: opening migrates it to the
 * current version (1, then 2). */
static void test_migrate_v0_to_v1(void **state)
{
	fx *f = *state;
	char p[160];
	snprintf(p, sizeof p, "%s/v0.db", f->dir);
	raw_exec(p, "PRAGMA user_version = 0");
	wh *w2 = NULL;
	diag d = DIAG_INIT;
	assert_int_equal(wh_open(p, 0, &w2, &d), 0);
	int v = 0;
	assert_int_equal(wh_schema_version(w2, &v, &d), 0);
	assert_int_equal(v, WH_SCHEMA_VERSION);
	assert_int_equal(count_sql(w2, "SELECT count(*) FROM schema_migration WHERE version = 1"), 1);
	assert_int_equal(count_sql(w2, "SELECT count(*) FROM schema_migration WHERE version = 2"), 1);
	assert_int_equal(count_sql(w2, "SELECT count(*) FROM sqlite_schema WHERE name = 'record'"), 0);
	assert_int_equal(count_sql(w2, "SELECT count(*) FROM sqlite_schema WHERE name IN "
	                               "('submission','record_block','cell','office_key','audit',"
	                               "'submission_period')"),
	                 6);
	audit_report r;
	assert_int_equal(audit_verify(wh_db(w2), 0, NULL, &r, &d), 0);
	assert_int_equal(r.n_entries, 1);
	wh_close(w2);
	diag_free(&d);
}

/* The mechanism itself: later migrations apply in order, in one
 * transaction; a failing one leaves the database at the version before. */
static void test_migration_mechanism(void **state)
{
	fx *f = *state;
	char p[160];
	snprintf(p, sizeof p, "%s/mig.db", f->dir);
	size_t n;
	const wh_migration *builtin = wh_migrations(&n);
	assert_int_equal(n, WH_SCHEMA_VERSION);
	wh_migration list[4];
	memcpy(list, builtin, sizeof list[0]);
	list[1] = (wh_migration){2, "release table", "CREATE TABLE release_(id INTEGER PRIMARY KEY);"};
	list[2] = (wh_migration){3, "release index", "CREATE INDEX release_i ON release_(id);"};
	list[3] = (wh_migration){4, "broken", "CREATE TABLE t4(x); SELECT * FROM no_such_table;"};

	sqlite3 *db;
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	diag d = DIAG_INIT;
	int from = -1, to = -1;
	assert_int_equal(wh_migrate(db, list, 3, &from, &to, &d), 0);
	assert_int_equal(from, 0);
	assert_int_equal(to, 3);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT group_concat(version) FROM "
	                                        "(SELECT version FROM schema_migration ORDER BY version)",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "1,2,3");
	sqlite3_finalize(st);

	/* v4 fails: rolled back to 3, t4 absent */
	assert_int_equal(wh_migrate(db, list, 4, &from, &to, &d), -1);
	assert_non_null(strstr(d.msg, "migration to schema version 4 (broken) failed"));
	assert_non_null(strstr(d.msg, "still version 3"));
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT user_version FROM pragma_user_version),"
	                                        " (SELECT count(*) FROM sqlite_schema WHERE name='t4')",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 3);
	assert_int_equal(sqlite3_column_int(st, 1), 0);
	sqlite3_finalize(st);

	/* a list shorter than the database: refused as a future version */
	diag_reset(&d);
	assert_int_equal(wh_migrate(db, list, 1, NULL, NULL, &d), -1);
	assert_non_null(strstr(d.msg, "schema version 3 is newer"));
	/* a list out of order is a programming error */
	wh_migration bad[2] = {list[1], list[0]};
	diag_reset(&d);
	assert_int_equal(wh_migrate(db, bad, 2, NULL, NULL, &d), -1);
	assert_int_equal(d.code, EX_SOFTWARE);
	sqlite3_close(db);

	/* wh_open (which knows only v1 and v2) refuses it */
	wh *w2 = NULL;
	diag_reset(&d);
	assert_int_equal(wh_open(p, 0, &w2, &d), -1);
	assert_non_null(strstr(d.msg, "schema version 3 is newer than this tipstat knows (2)"));
	diag_free(&d);
}

typedef struct rec_acc {
	int n, keyed, no_band;
	char first[128];
} rec_acc;

static int rec_cb(void *ctx, const wh_record *r, diag *d)
{
	(void)d;
	rec_acc *a = ctx;
	if (a->n == 0)
		snprintf(a->first, sizeof a->first, "%s,%s,%s,%s,%s,%s,%s,%s,%lu", r->country, r->period,
		         r->indicator, r->sex, r->age, r->age_band, r->form, r->citizenship, r->line);
	a->n++;
	a->keyed += r->has_key;
	a->no_band += !*r->age_band;
	return 0;
}

/* --- loading and export --------------------------------------------------------- */

/* A schema-1 warehouse (a row per record) with a loaded submission opens
 * as schema 2: its rows become blocks, it exports byte for byte as loaded
 * (the stored SHA-256 is checked) and reads back row by row. */
static void test_migrate_v1_records(void **state)
{
	fx *f = *state;
	char p[160];
	snprintf(p, sizeof p, "%s/v1.db", f->dir);
	const char *text =
		"country,period,indicator,sex,age,age_band,form,citizenship,case_key\n"
		"DEU,2024-Q1,VIC,F,Y_GE18,Y25T34,SEX,NGA,0123456789abcdef0123456789abcdef\n"
		"DEU,2024-Q1,VIC,F,Y_GE18,,LAB,ROU,a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0\n"
		"DEU,2024-Q1,SUS,M,Y0T17,,LAB,DEU,\n";
	unsigned char h[32];
	char hex[65];
	crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
	text_hex(h, 32, hex);
	size_t n;
	const wh_migration *builtin = wh_migrations(&n);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	diag d = DIAG_INIT;
	int from = -1, to = -1;
	assert_int_equal(wh_migrate(db, builtin, 1, &from, &to, &d), 0);
	assert_int_equal(to, 1);
	assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys = ON; BEGIN IMMEDIATE", NULL, NULL,
	                              NULL), SQLITE_OK);
	int64_t seq = 0;
	assert_int_equal(audit_append(db, "test", "submission.load", "id=1", &seq, &d), 0);
	char sql[2048];
	snprintf(sql, sizeof sql,
	         "INSERT INTO submission(id, country, periods, version, kind, received_at, loaded_by, "
	         "manifest_json, data_sha256, data_bytes, n_rows, audit_seq) VALUES(1, 'DEU', "
	         "'2024-Q1', 1, 'records', '2025-01-01T00:00:00Z', 'test', '{}', '%s', %zu, 3, %lld);"
	         "INSERT INTO submission_period(submission_id, period, country, version) "
	         "VALUES(1, '2024-Q1', 'DEU', 1);"
	         "INSERT INTO record VALUES(1, 2, '2024-Q1', 'VIC', 'F', 'Y_GE18', 'Y25T34', 'SEX', "
	         "'NGA', x'0123456789abcdef0123456789abcdef');"
	         "INSERT INTO record VALUES(1, 3, '2024-Q1', 'VIC', 'F', 'Y_GE18', NULL, 'LAB', "
	         "'ROU', x'a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0');"
	         "INSERT INTO record VALUES(1, 4, '2024-Q1', 'SUS', 'M', 'Y0T17', NULL, 'LAB', "
	         "'DEU', NULL);"
	         "COMMIT;",
	         hex, strlen(text), (long long)seq);
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s", err);
	sqlite3_close(db);

	wh *w2 = NULL;
	assert_int_equal(wh_open(p, 0, &w2, &d), 0);
	int v = 0;
	assert_int_equal(wh_schema_version(w2, &v, &d), 0);
	assert_int_equal(v, 2);
	assert_int_equal(count_sql(w2, "SELECT count(*) FROM sqlite_schema WHERE name = 'record'"), 0);
	assert_int_equal(count_sql(w2, N_RECORDS_SQL), 3);
	assert_int_equal(count_sql(w2, "SELECT count(*) FROM audit WHERE action = 'schema.migrate' "
	                               "AND detail = 'from=1 to=2'"), 1);
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	int rc = wh_export_submission(w2, 1, mem, &d);
	fclose(mem);
	if (rc != 0)
		fail_msg("export: %s", d.msg);
	assert_int_equal(len, strlen(text));
	assert_memory_equal(buf, text, len);
	free(buf);
	rec_acc a;
	memset(&a, 0, sizeof a);
	wh_part part;
	memset(&part, 0, sizeof part);
	part.submission_id = 1;
	assert_int_equal(wh_each_record(w2, &part, 1, rec_cb, &a, &d), 0);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.keyed, 2);
	assert_int_equal(a.no_band, 2);
	assert_string_equal(a.first, "DEU,2024-Q1,VIC,F,Y_GE18,Y25T34,SEX,NGA,2");
	/* and a new submission loads beside it, in blocks */
	wh_close(w2);
	audit_report r;
	assert_int_equal(wh_open(p, 0, &w2, &d), 0);
	assert_int_equal(audit_verify(wh_db(w2), 0, NULL, &r, &d), 0);
	wh_close(w2);
	diag_free(&d);
}




static void test_load_export_records(void **state)
{
	fx *f = *state;
	sub s;
	make_sub(f, &s, "deu_q1.csv", "records", "DEU", RECORDS);
	wh_submission_meta m = meta_of(WH_RECORDS, "DEU", "2024-Q1", 1);
	m.package_sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	m.received_at = "2025-01-15T09:30:00Z";
	int64_t id = load_ok(f, &m, &s);
	assert_int_equal(count_sql(f->w, N_RECORDS_SQL), 7);
	/* empty case keys and age bands read back as empty */
	{
		rec_acc a;
		memset(&a, 0, sizeof a);
		wh_part part;
		memset(&part, 0, sizeof part);
		part.submission_id = id;
		diag d0 = DIAG_INIT;
		assert_int_equal(wh_each_record(f->w, &part, 1, rec_cb, &a, &d0), 0);
		assert_int_equal(a.n, 7);
		assert_int_equal(a.n - a.keyed, 3);
		assert_int_equal(a.no_band, 4);
		diag_free(&d0);
	}
	assert_exports_identically(f, id, s.data);

	wh_submission info;
	diag d = DIAG_INIT;
	assert_int_equal(wh_submission_get(f->w, id, &info, &d), 0);
	assert_string_equal(info.country, "DEU");
	assert_string_equal(info.periods, "2024-Q1");
	assert_int_equal(info.version, 1);
	assert_int_equal(info.kind, WH_RECORDS);
	assert_int_equal(info.n_rows, 7);
	assert_int_equal(info.data_bytes, (int64_t)strlen(RECORDS));
	assert_string_equal(info.received_at, "2025-01-15T09:30:00Z");
	assert_string_equal(info.package_sha256, m.package_sha256);
	assert_string_equal(info.signer_key_id, "");
	unsigned char h[32];
	char hex[65];
	crypto_hash_sha256(h, (const unsigned char *)RECORDS, strlen(RECORDS));
	text_hex(h, 32, hex);
	assert_string_equal(info.data_sha256, hex);

	/* the audit entry of the load, with counts and hashes, no values */
	assert_true(info.audit_seq > 0);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(wh_db(f->w),
	                                    "SELECT actor, action, detail FROM audit WHERE seq = ?1",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	sqlite3_bind_int64(st, 1, info.audit_seq);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "accept");
	assert_string_equal((const char *)sqlite3_column_text(st, 1), "submission.load");
	const char *detail = (const char *)sqlite3_column_text(st, 2);
	char want[256];
	snprintf(want, sizeof want, "id=%lld country=DEU periods=2024-Q1 version=1 kind=records rows=7",
	         (long long)id);
	assert_non_null(strstr(detail, want));
	assert_non_null(strstr(detail, hex));
	assert_null(strstr(detail, "3c4d5e6f"));   /* no case key in the log */
	sqlite3_finalize(st);

	/* the manifest is kept as sent */
	char *json = NULL;
	size_t n;
	char *orig = slurp(s.manifest, &n);
	assert_int_equal(wh_submission_manifest(f->w, id, &json, &d), 0);
	assert_string_equal(json, orig);
	free(json);
	free(orig);
	diag_free(&d);
}

static void test_load_export_cells(void **state)
{
	fx *f = *state;
	sub s;
	make_sub(f, &s, "deu_2024.csv", "cells", "DEU", CELLS);
	wh_submission_meta m = meta_of(WH_CELLS, "DEU", "2024", 1);
	int64_t id = load_ok(f, &m, &s);
	assert_int_equal(count_sql(f->w, "SELECT count(*) FROM cell"), 7);
	assert_int_equal(count_sql(f->w, "SELECT count(*) FROM cell WHERE hi IS NULL"), 1);
	assert_int_equal(count_sql(f->w, "SELECT sum(lo) FROM cell"), 0 + 120 + 121 + 0 + 30 + 3 + 160);
	assert_int_equal(count_sql(f->w, "SELECT count(*) FROM cell WHERE flags = 'cd'"), 1);
	assert_exports_identically(f, id, s.data);
}

/* A records submission with no rows (nothing detected) is legitimate. */
static void test_load_header_only(void **state)
{
	fx *f = *state;
	sub s;
	make_sub(f, &s, "empty.csv", "records", "LIE",
	         "country,period,indicator,sex,age,age_band,form,citizenship,case_key\n");
	wh_submission_meta m = meta_of(WH_RECORDS, "LIE", "2024-Q2", 1);
	int64_t id = load_ok(f, &m, &s);
	assert_exports_identically(f, id, s.data);
	wh_part *parts;
	size_t n;
	diag d = DIAG_INIT;
	assert_int_equal(wh_latest(f->w, "LIE", 0, &parts, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_string_equal(parts[0].period, "2024-Q2");
	free(parts);
	diag_free(&d);
}

/* The bundled truth files are real canonical files (ingest's expected
 * output): they load and come back byte-identical. */
static void test_load_dataset_truth(void **state)
{
	fx *f = *state;
	const char *ds = getenv("TIPSTAT_DATASETS");
	char p[512];
	snprintf(p, sizeof p, "%s/truth/pipe_quarterly/NLD_2019-Q1.txt.std.csv", ds ? ds : "datasets");
	if (access(p, R_OK) != 0)
		skip();
	size_t n;
	char *cells = slurp(p, &n);
	sub s;
	make_sub(f, &s, "nld.csv", "cells", "NLD", cells);
	wh_submission_meta m = meta_of(WH_CELLS, "NLD", "2019-Q1", 1);
	int64_t id = load_ok(f, &m, &s);
	assert_exports_identically(f, id, s.data);
	free(cells);

	/* a records truth file lacks case_key: append an empty one */
	snprintf(p, sizeof p, "%s/truth/es_case/CHL_2019.csv.std.csv", ds ? ds : "datasets");
	char *rec = slurp(p, &n);
	char *with_key = malloc(2 * n + 16);
	assert_non_null(with_key);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (rec[i] == '\n') {
			if (k == strlen("country,period,indicator,sex,age,age_band,form,citizenship")) {
				memcpy(with_key + k, ",case_key", 9);
				k += 9;
			} else
				with_key[k++] = ',';
		}
		with_key[k++] = rec[i];
	}
	with_key[k] = '\0';
	make_sub(f, &s, "chl.csv", "records", "CHL", with_key);
	m = meta_of(WH_RECORDS, "CHL", "2019-Q1,2019-Q2,2019-Q3,2019-Q4", 1);
	id = load_ok(f, &m, &s);
	assert_exports_identically(f, id, s.data);
	assert_int_equal(count_sql(f->w, N_RECORDS_SQL), 450);
	free(rec);
	free(with_key);
}

/* --- malformed files ---------------------------------------------------------------- */

#define RH "country,period,indicator,sex,age,age_band,form,citizenship,case_key\n"
#define CH "country,period,indicator,sex,age,form,citizenship,lo,hi,flags\n"
#define K1 "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
#define K2 "3c4d5e6f708192a3b4c5d6e7f8091a2b"

typedef struct bad_case {
	const char *name;
	int kind;
	const char *data;
	unsigned long line;
	const char *phrase;
} bad_case;

static const bad_case BAD[] = {
	{"bad header", WH_RECORDS,
	 "country,period,indicator,sex,age,form,citizenship,case_key\n"
	 "DEU,2024-Q1,VIC,F,Y_GE18,SEX,NGA,\n",
	 1, "header is not the standard's for records"},
	{"wrong kind", WH_RECORDS, CH "DEU,2024-Q1,VIC,_T,_T,_T,_T,1,1,\n", 1,
	 "this is a cells file but the submission says records"},
	{"bom", WH_RECORDS, "\xef\xbb\xbf" RH, 1, "byte order mark"},
	{"empty file", WH_RECORDS, "", 1, "empty file"},
	{"lower-case code", WH_RECORDS, RH "DEU,2024-Q1,VIC,f,Y_GE18,,SEX,NGA,\n", 2,
	 "sex: 'f' is not a code"},
	{"total in records", WH_RECORDS, RH "DEU,2024-Q1,VIC,_T,Y_GE18,,SEX,NGA,\n", 2,
	 "'_T' (total) is only allowed in cells"},
	{"empty code", WH_RECORDS, RH "DEU,2024-Q1,VIC,F,Y_GE18,,,NGA,\n", 2, "form is empty"},
	{"bad citizenship", WH_RECORDS, RH "DEU,2024-Q1,VIC,F,Y_GE18,,SEX,NG,\n", 2,
	 "citizenship: 'NG' is not an ISO alpha-3 code or U"},
	{"free text not quoted", WH_RECORDS, RH "DEU,2024-Q1,VIC,F,Y_GE18,,John Smith,NGA,\n", 2,
	 "form: a value of 10 bytes (not quoted)"},
	{"other country", WH_RECORDS, RH "FRA,2024-Q1,VIC,F,Y_GE18,,SEX,NGA,\n", 2,
	 "country 'FRA' is not the submission's country DEU"},
	{"undeclared period", WH_RECORDS, RH "DEU,2024-Q2,VIC,F,Y_GE18,,SEX,NGA,\n", 2,
	 "period '2024-Q2' is not one of the submission's periods (2024-Q1)"},
	{"period spelling", WH_RECORDS, RH "DEU,2024Q1,VIC,F,Y_GE18,,SEX,NGA,\n", 2,
	 "not a canonical period"},
	{"unsorted keys", WH_RECORDS,
	 RH "DEU,2024-Q1,VIC,F,Y_GE18,,SEX,NGA," K2 "\n"
	    "DEU,2024-Q1,VIC,F,Y_GE18,,SEX,NGA," K1 "\n",
	 3, "out of canonical order: it sorts before line 2"},
	{"keyed after unkeyed", WH_RECORDS,
	 RH "DEU,2024-Q1,VIC,F,Y_GE18,,SEX,NGA,\n"
	    "DEU,2024-Q1,VIC,F,Y_GE18,,SEX,NGA," K1 "\n",
	 3, "out of canonical order"},
	{"unsorted body", WH_RECORDS,
	 RH "DEU,2024-Q1,VIC,M,Y_GE18,,SEX,NGA,\n"
	    "DEU,2024-Q1,VIC,F,Y_GE18,,SEX,NGA,\n",
	 3, "out of canonical order"},
	{"duplicate case", WH_RECORDS,
	 RH "DEU,2024-Q1,VIC,F,Y_GE18,,LAB,NGA," K1 "\n"
	    "DEU,2024-Q1,VIC,F,Y_GE18,,SEX,NGA," K1 "\n",
	 3, "duplicate case: same case_key, period and indicator as line 2"},
	{"upper-case key", WH_RECORDS, RH "DEU,2024-Q1,VIC,F,Y_GE18,,SEX,NGA,0A1B2C3D4E5F60718293A4B5C6D7E8F9\n",
	 2, "case_key is not 32 lower-case hex digits"},
	{"short key", WH_RECORDS, RH "DEU,2024-Q1,VIC,F,Y_GE18,,SEX,NGA,0a1b2c3d4e5f60718293a4b5c6d7e8f\n",
	 2, "case_key is not 32 lower-case hex digits"},
	{"non-hex key", WH_RECORDS, RH "DEU,2024-Q1,VIC,F,Y_GE18,,SEX,NGA,0a1b2c3d4e5f60718293a4b5c6d7e8fz\n",
	 2, "case_key is not 32 lower-case hex digits"},
	{"truncated line", WH_RECORDS, RH "DEU,2024-Q1,VIC,F,Y_GE18\n", 2,
	 "truncated line: 5 fields, expected 9"},
	{"extra field", WH_RECORDS, RH "DEU,2024-Q1,VIC,F,Y_GE18,,SEX,NGA,,\n", 2,
	 "overlong line: 10 fields, expected 9"},
	{"no final newline", WH_RECORDS, RH "DEU,2024-Q1,VIC,F,Y_GE18,,SEX,NGA,", 2,
	 "last line has no newline"},
	{"crlf", WH_RECORDS, RH "DEU,2024-Q1,VIC,F,Y_GE18,,SEX,NGA,\r\n", 2, "CR LF line ending"},
	{"empty line", WH_RECORDS, RH "\n", 2, "empty line"},
	{"lo > hi", WH_CELLS, CH "DEU,2024-Q1,VIC,_T,_T,_T,_T,5,3,\n", 2, "interval lo 5 > hi 3"},
	{"leading zero", WH_CELLS, CH "DEU,2024-Q1,VIC,_T,_T,_T,_T,05,5,\n", 2,
	 "lo: '05' is not a count"},
	{"negative", WH_CELLS, CH "DEU,2024-Q1,VIC,_T,_T,_T,_T,-1,5,\n", 2, "lo: '-1' is not a count"},
	{"bad hi", WH_CELLS, CH "DEU,2024-Q1,VIC,_T,_T,_T,_T,1,x,\n", 2, "hi: 'x' is not a count"},
	{"unsorted flags", WH_CELLS, CH "DEU,2024-Q1,VIC,_T,_T,_T,_T,0,4,ca\n", 2,
	 "flags: 'ca' is not sorted letters from a, c, d"},
	{"unknown flag", WH_CELLS, CH "DEU,2024-Q1,VIC,_T,_T,_T,_T,0,4,x\n", 2, "flags: 'x'"},
	{"total indicator", WH_CELLS, CH "DEU,2024-Q1,_T,_T,_T,_T,_T,0,4,\n", 2,
	 "indicator: '_T' (total) is only allowed in breakdown columns"},
	{"duplicate cell", WH_CELLS,
	 CH "DEU,2024-Q1,VIC,F,_T,_T,_T,1,1,\n"
	    "DEU,2024-Q1,VIC,F,_T,_T,_T,2,2,\n",
	 3, "cell reported twice: same dimensions as line 2"},
	{"unsorted cells", WH_CELLS,
	 CH "DEU,2024-Q1,VIC,_T,_T,_T,_T,3,3,\n"
	    "DEU,2024-Q1,VIC,F,_T,_T,_T,1,1,\n",
	 3, "out of canonical order"},
	{"truncated cell", WH_CELLS, CH "DEU,2024-Q1,VIC,_T,_T,_T,_T,3\n", 2,
	 "truncated line: 8 fields, expected 10"},
};

static void test_malformed_refused(void **state)
{
	fx *f = *state;
	/* something already stored, so "unchanged" is not just "empty" */
	sub ok;
	make_sub(f, &ok, "ok.csv", "records", "AUT", RECORDS);
	char *ok_fixed = NULL;
	{
		/* RECORDS is for DEU; re-target to AUT */
		size_t n = strlen(RECORDS);
		ok_fixed = malloc(n + 1);
		memcpy(ok_fixed, RECORDS, n + 1);
		for (char *p = ok_fixed; (p = strstr(p, "DEU,2024")) != NULL; p++)
			memcpy(p, "AUT", 3);
		make_sub(f, &ok, "ok.csv", "records", "AUT", ok_fixed);
	}
	wh_submission_meta m0 = meta_of(WH_RECORDS, "AUT", "2024-Q1", 1);
	load_ok(f, &m0, &ok);
	free(ok_fixed);
	counts before = counts_of(f->w);

	for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
		const bad_case *c = &BAD[i];
		sub s;
		char name[64];
		snprintf(name, sizeof name, "bad%02zu.csv", i);
		make_sub(f, &s, name, c->kind == WH_RECORDS ? "records" : "cells", "DEU", c->data);
		wh_submission_meta m = meta_of(c->kind, "DEU", "2024-Q1", 1);
		diag d = DIAG_INIT;
		int64_t id = 99;
		int rc = wh_load_submission(f->w, &m, s.data, s.manifest, &id, &d);
		if (rc != -1 || d.code != EX_DATAERR) {
			dump_items(&d);
			fail_msg("case '%s': rc %d code %d (%s)", c->name, rc, d.code, d.msg);
		}
		assert_int_equal(id, 0);
		size_t at = has_item(&d, s.data, c->line, c->phrase);
		if (!at) {
			print_message("case '%s': expected %s:%lu: ...%s...; got:\n", c->name, s.data,
			              c->line, c->phrase);
			dump_items(&d);
			fail();
		}
		/* the formatted message is compiler style FILE:LINE:COL: error: */
		char buf[512], want[320];
		diag_format(&d.items[at - 1], buf, sizeof buf);
		snprintf(want, sizeof want, "%s:%lu:", s.data, c->line);
		if (strncmp(buf, want, strlen(want)) || !strstr(buf, ": error: "))
			fail_msg("case '%s': formatted as '%s'", c->name, buf);
		/* identifier-looking text never reaches a message */
		for (size_t k = 0; k < d.n_items; k++)
			assert_null(strstr(d.items[k].msg, "John"));
		assert_null(strstr(d.msg, "John"));
		assert_counts_equal(counts_of(f->w), before);
		diag_free(&d);
	}
}

/* One pass reports every problem, not just the first. */
static void test_all_errors_reported(void **state)
{
	fx *f = *state;
	sub s;
	make_sub(f, &s, "many.csv", "cells", "DEU",
	         CH "DEU,2024-Q1,VIC,f,_T,_T,_T,1,1,\n"
	            "DEU,2024-Q1,VIC,M,_T,_T,_T,9,3,\n"
	            "DEU,2024-Q1,VIC,U,_T,_T,_T,1,1,zz\n"
	            "DEU,2024-Q1,VIC,_T,_T,_T,_T,11,11,\n");
	wh_submission_meta m = meta_of(WH_CELLS, "DEU", "2024-Q1", 1);
	diag d = DIAG_INIT;
	counts before = counts_of(f->w);
	assert_int_equal(wh_load_submission(f->w, &m, s.data, s.manifest, NULL, &d), -1);
	assert_true(has_item(&d, s.data, 2, "sex: 'f' is not a code"));
	assert_true(has_item(&d, s.data, 2, "out of canonical order") == 0);
	assert_true(has_item(&d, s.data, 3, "interval lo 9 > hi 3"));
	assert_true(has_item(&d, s.data, 4, "flags: 'zz'"));
	/* "f" > "M" byte-wise, so line 3 is also out of order */
	assert_true(has_item(&d, s.data, 3, "out of canonical order"));
	assert_int_equal(d.n_errors, 4);
	assert_non_null(strstr(d.msg, "4 errors; nothing was loaded"));
	assert_counts_equal(counts_of(f->w), before);
	diag_free(&d);
}

static void test_line_too_long(void **state)
{
	fx *f = *state;
	size_t n = strlen(RH) + 2000;
	char *data = malloc(n + 2);
	memcpy(data, RH, strlen(RH));
	memset(data + strlen(RH), 'A', 2000);
	data[n] = '\n';
	data[n + 1] = '\0';
	sub s;
	make_sub(f, &s, "long.csv", "records", "DEU", data);
	free(data);
	wh_submission_meta m = meta_of(WH_RECORDS, "DEU", "2024-Q1", 1);
	diag d = DIAG_INIT;
	counts before = counts_of(f->w);
	assert_int_equal(wh_load_submission(f->w, &m, s.data, s.manifest, NULL, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_true(has_item(&d, s.data, 2, "line longer than 1024 bytes"));
	assert_counts_equal(counts_of(f->w), before);
	diag_free(&d);
}

static void test_manifest_must_agree(void **state)
{
	fx *f = *state;
	sub s;
	make_sub(f, &s, "deu.csv", "records", "DEU", RECORDS);
	wh_submission_meta m = meta_of(WH_RECORDS, "DEU", "2024-Q1", 1);
	counts before = counts_of(f->w);
	struct {
		long rows;
		const char *hash, *kind, *country, *phrase;
	} cases[] = {
		{6, NULL, "records", "DEU", "output.rows is 6 but the data has 7 rows"},
		{-1, "1111111111111111111111111111111111111111111111111111111111111111", "records", "DEU",
		 "output.blake2b does not match the data"},
		{-1, NULL, "cells", "DEU", "kind is not \"records\""},
		{-1, NULL, "records", "FRA", "countries[0] is not DEU"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		write_manifest(s.manifest, cases[i].kind, cases[i].country, RECORDS, strlen(RECORDS),
		               cases[i].rows, cases[i].hash);
		diag d = DIAG_INIT;
		assert_int_equal(wh_load_submission(f->w, &m, s.data, s.manifest, NULL, &d), -1);
		assert_int_equal(d.code, EX_DATAERR);
		if (!has_item(&d, s.manifest, 0, cases[i].phrase)) {
			dump_items(&d);
			fail_msg("manifest case %zu: no '%s'", i, cases[i].phrase);
		}
		assert_counts_equal(counts_of(f->w), before);
		diag_free(&d);
	}
	/* not JSON at all */
	write_file(s.manifest, "{\"format\": ", 11);
	diag d = DIAG_INIT;
	assert_int_equal(wh_load_submission(f->w, &m, s.data, s.manifest, NULL, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_counts_equal(counts_of(f->w), before);
	diag_free(&d);
}

static void test_bad_meta(void **state)
{
	fx *f = *state;
	sub s;
	make_sub(f, &s, "deu.csv", "records", "DEU", RECORDS);
	diag d = DIAG_INIT;
	wh_submission_meta m = meta_of(WH_RECORDS, "DEU", "2024-Q2,2024-Q1", 1);
	assert_int_equal(wh_load_submission(f->w, &m, s.data, s.manifest, NULL, &d), -1);
	assert_non_null(strstr(d.msg, "ascending"));
	m = meta_of(WH_RECORDS, "de", "2024-Q1", 1);
	assert_int_equal(wh_load_submission(f->w, &m, s.data, s.manifest, NULL, &d), -1);
	m = meta_of(WH_RECORDS, "DEU", "2024-Q1", 0);
	assert_int_equal(wh_load_submission(f->w, &m, s.data, s.manifest, NULL, &d), -1);
	m = meta_of(WH_RECORDS, "DEU", "2024-Q1", 1);
	m.signer_key_id = "XYZ";
	assert_int_equal(wh_load_submission(f->w, &m, s.data, s.manifest, NULL, &d), -1);
	m = meta_of(WH_RECORDS, "DEU", "2024-Q1", 1);
	assert_int_equal(wh_load_submission(f->w, &m, "/nonexistent/x.csv", s.manifest, NULL, &d), -1);
	assert_int_equal(d.code, EX_NOINPUT);
	assert_int_equal(count_sql(f->w, "SELECT count(*) FROM submission"), 0);
	diag_free(&d);
}

/* A large file with its only error on the last line: the rows inserted
 * before it are rolled back with everything else, and no audit entry. */
static void test_rollback_leaves_nothing(void **state)
{
	fx *f = *state;
	size_t cap = 200000, k = 0;
	char *data = malloc(cap);
	k += (size_t)snprintf(data + k, cap - k, "%s", RH);
	for (int i = 0; i < 2000; i++)
		k += (size_t)snprintf(data + k, cap - k,
		                      "DEU,2024-Q1,VIC,F,Y_GE18,,SEX,NGA,%032x\n", i);
	k += (size_t)snprintf(data + k, cap - k, "DEU,2024-Q1,VIC,F,Y_GE18,,SEX,NGA,%032x\n", 5);
	sub s;
	make_sub(f, &s, "big.csv", "records", "DEU", data);
	free(data);
	counts before = counts_of(f->w);
	wh_submission_meta m = meta_of(WH_RECORDS, "DEU", "2024-Q1", 1);
	diag d = DIAG_INIT;
	assert_int_equal(wh_load_submission(f->w, &m, s.data, s.manifest, NULL, &d), -1);
	assert_true(has_item(&d, s.data, 2002, "out of canonical order"));
	assert_counts_equal(counts_of(f->w), before);
	audit_report r;
	assert_int_equal(audit_verify(wh_db(f->w), 0, NULL, &r, &d), 0);
	assert_int_equal(r.n_entries, before.audit);
	/* the warehouse is still usable afterwards */
	make_sub(f, &s, "deu.csv", "records", "DEU", RECORDS);
	load_ok(f, &m, &s);
	diag_free(&d);
}

/* --- versions ------------------------------------------------------------------------ */

static const char RECORDS_V2[] =
	"country,period,indicator,sex,age,age_band,form,citizenship,case_key\n"
	"DEU,2024-Q1,VIC,F,Y_GE18,Y25T34,SEX,NGA,0a1b2c3d4e5f60718293a4b5c6d7e8f9\n"
	"DEU,2024-Q1,CONV,M,Y_GE18,Y35T44,LAB,DEU,\n";

static void test_resubmission_supersedes(void **state)
{
	fx *f = *state;
	sub s1, s2;
	make_sub(f, &s1, "v1.csv", "records", "DEU", RECORDS);
	make_sub(f, &s2, "v2.csv", "records", "DEU", RECORDS_V2);
	wh_submission_meta m1 = meta_of(WH_RECORDS, "DEU", "2024-Q1", 1);
	wh_submission_meta m2 = meta_of(WH_RECORDS, "DEU", "2024-Q1", 2);
	int64_t id1 = load_ok(f, &m1, &s1);
	diag d = DIAG_INIT;
	wh_submission info1;
	assert_int_equal(wh_submission_get(f->w, id1, &info1, &d), 0);
	int64_t id2 = load_ok(f, &m2, &s2);

	wh_part *parts;
	size_t n;
	assert_int_equal(wh_latest(f->w, NULL, 0, &parts, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_int_equal(parts[0].submission_id, id2);
	assert_int_equal(parts[0].version, 2);
	assert_string_equal(parts[0].country, "DEU");
	assert_string_equal(parts[0].period, "2024-Q1");
	assert_int_equal(parts[0].kind, WH_RECORDS);
	free(parts);

	/* v1 is kept and still exports exactly */
	assert_exports_identically(f, id1, s1.data);
	assert_exports_identically(f, id2, s2.data);
	assert_int_equal(count_sql(f->w, N_RECORDS_SQL), 9);
	char q[128];
	snprintf(q, sizeof q, "SELECT superseded_by FROM submission_period WHERE submission_id = %lld",
	         (long long)id1);
	assert_int_equal(count_sql(f->w, q), id2);

	/* the state as of v1's load is rebuilt exactly */
	assert_int_equal(wh_latest(f->w, "DEU", info1.audit_seq, &parts, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_int_equal(parts[0].submission_id, id1);
	assert_int_equal(parts[0].version, 1);
	free(parts);

	/* coverage */
	wh_status_entry *st;
	assert_int_equal(wh_status(f->w, &st, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_int_equal(st[0].version, 2);
	assert_int_equal(st[0].n_versions, 2);
	assert_int_equal(st[0].submission_id, id2);
	free(st);

	/* the audit entry names what was superseded */
	snprintf(q, sizeof q, "SELECT count(*) FROM audit WHERE detail LIKE '%% supersedes=%lld%%'",
	         (long long)id1);
	assert_int_equal(count_sql(f->w, q), 1);
	diag_free(&d);
}

typedef struct cell_sum {
	int64_t lo;
	int n;
} cell_sum;

static int cell_sum_cb(void *ctx, const wh_cell *c, diag *d)
{
	(void)d;
	cell_sum *acc = ctx;
	assert_string_equal(c->country, "NAM");
	assert_string_equal(c->indicator, "VIC");
	assert_string_equal(c->sex, "_T");
	assert_int_equal(c->hi, c->lo);
	assert_string_equal(c->flags, "");
	acc->lo += c->lo;
	acc->n++;
	return 0;
}

/* A package covering two quarters, later corrected for one of them. */
static void test_partial_supersession(void **state)
{
	fx *f = *state;
	static const char two[] =
		CH "NAM,2024-Q1,VIC,_T,_T,_T,_T,3,3,\n"
		   "NAM,2024-Q2,VIC,_T,_T,_T,_T,4,4,\n";
	static const char fix[] = CH "NAM,2024-Q2,VIC,_T,_T,_T,_T,5,5,\n";
	sub s1, s2;
	make_sub(f, &s1, "two.csv", "cells", "NAM", two);
	make_sub(f, &s2, "fix.csv", "cells", "NAM", fix);
	wh_submission_meta m1 = meta_of(WH_CELLS, "NAM", "2024-Q1,2024-Q2", 1);
	wh_submission_meta m2 = meta_of(WH_CELLS, "NAM", "2024-Q2", 2);
	int64_t id1 = load_ok(f, &m1, &s1), id2 = load_ok(f, &m2, &s2);
	wh_part *parts;
	size_t n;
	diag d = DIAG_INIT;
	assert_int_equal(wh_latest(f->w, "NAM", 0, &parts, &n, &d), 0);
	assert_int_equal(n, 2);
	assert_string_equal(parts[0].period, "2024-Q1");
	assert_int_equal(parts[0].submission_id, id1);
	assert_string_equal(parts[1].period, "2024-Q2");
	assert_int_equal(parts[1].submission_id, id2);

	/* iterating the latest parts gives Q1 from v1 and Q2 from v2 only */
	cell_sum acc = {0, 0};
	assert_int_equal(wh_each_cell(f->w, parts, n, cell_sum_cb, &acc, &d), 0);
	assert_int_equal(acc.n, 2);
	assert_int_equal(acc.lo, 3 + 5);
	free(parts);

	/* Q1 at version 1 again is a replay even though Q2 is at 2 */
	diag_reset(&d);
	assert_int_equal(wh_load_submission(f->w, &m1, s1.data, s1.manifest, NULL, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	diag_free(&d);
}

static void test_replay_refused(void **state)
{
	fx *f = *state;
	sub s1, s2;
	make_sub(f, &s1, "v1.csv", "records", "DEU", RECORDS);
	make_sub(f, &s2, "v2.csv", "records", "DEU", RECORDS_V2);
	wh_submission_meta m1 = meta_of(WH_RECORDS, "DEU", "2024-Q1", 1);
	wh_submission_meta m2 = meta_of(WH_RECORDS, "DEU", "2024-Q1", 2);
	load_ok(f, &m1, &s1);
	int64_t id2 = load_ok(f, &m2, &s2);
	counts before = counts_of(f->w);
	diag d = DIAG_INIT;
	/* equal version */
	assert_int_equal(wh_load_submission(f->w, &m2, s2.data, s2.manifest, NULL, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	char want[160];
	snprintf(want, sizeof want,
	         "DEU 2024-Q1: version 2 is not newer than the stored version 2 (submission %lld); "
	         "refused as a replay",
	         (long long)id2);
	assert_string_equal(d.msg, want);
	assert_counts_equal(counts_of(f->w), before);
	/* older version */
	diag_reset(&d);
	assert_int_equal(wh_load_submission(f->w, &m1, s1.data, s1.manifest, NULL, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_non_null(strstr(d.msg, "version 1 is not newer than the stored version 2"));
	assert_counts_equal(counts_of(f->w), before);
	/* another country's version 1 is not a replay */
	make_sub(f, &s1, "aut.csv", "records", "AUT",
	         RH "AUT,2024-Q1,VIC,F,Y_GE18,,SEX,NGA,\n");
	wh_submission_meta ma = meta_of(WH_RECORDS, "AUT", "2024-Q1", 1);
	load_ok(f, &ma, &s1);
	diag_free(&d);
}

/* --- refusals ------------------------------------------------------------------------- */

static void test_refusal_logged(void **state)
{
	fx *f = *state;
	diag d = DIAG_INIT;
	wh_refusal_info r;
	memset(&r, 0, sizeof r);
	r.actor = "accept";
	r.package_sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	r.country = "DEU";
	r.periods = "2024-Q1";
	r.version = 2;
	r.signer_key_id = "df5f2345bdabbe8b";
	r.reason = "replay";
	r.code = EX_NOPERM;
	int64_t seq = 0;
	assert_int_equal(wh_refusal(f->w, &r, &seq, &d), 0);
	assert_true(seq > 0);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(wh_db(f->w),
	                                    "SELECT action, detail FROM audit WHERE seq = ?1", -1,
	                                    &st, NULL),
	                 SQLITE_OK);
	sqlite3_bind_int64(st, 1, seq);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "package.refused");
	assert_string_equal((const char *)sqlite3_column_text(st, 1),
	                    "reason=replay code=77 package_sha256=00112233445566778899aabbccddeeff"
	                    "00112233445566778899aabbccddeeff country=DEU periods=2024-Q1 version=2 "
	                    "signer=df5f2345bdabbe8b");
	sqlite3_finalize(st);

	/* a forged header with garbage fields: recorded, garbage left out */
	memset(&r, 0, sizeof r);
	r.actor = "accept";
	r.country = "Deutschland";
	r.periods = "Q1 2024";
	r.reason = "bad_data";
	r.code = EX_DATAERR;
	r.line = 17;
	r.n_errors = 3;
	assert_int_equal(wh_refusal(f->w, &r, &seq, &d), 0);
	assert_int_equal(sqlite3_prepare_v2(wh_db(f->w), "SELECT detail FROM audit WHERE seq = ?1", -1,
	                                    &st, NULL),
	                 SQLITE_OK);
	sqlite3_bind_int64(st, 1, seq);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0),
	                    "reason=bad_data code=65 line=17 errors=3 malformed=country,periods");
	sqlite3_finalize(st);
	audit_report rep;
	assert_int_equal(audit_verify(wh_db(f->w), 0, NULL, &rep, &d), 0);
	diag_free(&d);
}

/* --- trust store ------------------------------------------------------------------------ */

static int64_t audit_actions(fx *f, const char *action)
{
	char q[128];
	snprintf(q, sizeof q, "SELECT count(*) FROM audit WHERE action = '%s'", action);
	return count_sql(f->w, q);
}

static void test_trust_store(void **state)
{
	fx *f = *state;
	diag d = DIAG_INIT;
	unsigned char pk1[32], pk2[32], pk3[32], sk[64];
	crypto_sign_keypair(pk1, sk);
	crypto_sign_keypair(pk2, sk);
	crypto_sign_keypair(pk3, sk);
	char id1[17], id2[17], id3[17];

	assert_int_equal(wh_key_add(f->w, "ops", "DEU", pk1, id1, &d), 0);
	/* the id is keys_id(): first 8 bytes of BLAKE2b-256 of the key */
	unsigned char h[32];
	char want[17];
	crypto_generichash(h, 32, pk1, 32, NULL, 0);
	text_hex(h, 8, want);
	assert_string_equal(id1, want);
	assert_int_equal(audit_actions(f, "key.add"), 1);

	wh_key *k;
	size_t n;
	assert_int_equal(wh_key_active(f->w, "DEU", &k, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_string_equal(k[0].key_id, id1);
	assert_memory_equal(k[0].public_key, pk1, 32);
	assert_int_equal(k[0].active, 1);
	assert_string_equal(k[0].revoked_at, "");
	free(k);

	/* rotate: new active, old revoked, one transaction, one entry */
	assert_int_equal(wh_key_rotate(f->w, "ops", "DEU", id1, pk2, id2, &d), 0);
	assert_int_equal(audit_actions(f, "key.rotate"), 1);
	assert_int_equal(wh_key_active(f->w, "DEU", &k, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_string_equal(k[0].key_id, id2);
	free(k);
	assert_int_equal(wh_key_list(f->w, "DEU", &k, &n, &d), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(k[i].key_id, id1)) {
			assert_int_equal(k[i].active, 0);
			assert_int_equal(strlen(k[i].revoked_at), 20);
		}
	free(k);

	/* a failed rotation (old key not active) changes nothing */
	counts c0 = counts_of(f->w);
	diag_reset(&d);
	assert_int_equal(wh_key_rotate(f->w, "ops", "DEU", id1, pk3, NULL, &d), -1);
	assert_non_null(strstr(d.msg, "already revoked"));
	assert_int_equal(wh_key_list(f->w, NULL, &k, &n, &d), 0);
	assert_int_equal(n, 2);
	free(k);
	assert_counts_equal(counts_of(f->w), c0);

	/* refusals */
	diag_reset(&d);
	assert_int_equal(wh_key_add(f->w, "ops", "FRA", pk1, NULL, &d), -1);   /* known key */
	assert_non_null(strstr(d.msg, "already in the trust store"));
	diag_reset(&d);
	assert_int_equal(wh_key_revoke(f->w, "ops", "FRA", id2, &d), -1);      /* wrong country */
	assert_non_null(strstr(d.msg, "belongs to DEU, not FRA"));
	unsigned char junk[32];
	memset(junk, 0, sizeof junk);
	diag_reset(&d);
	assert_int_equal(wh_key_add(f->w, "ops", "FRA", junk, NULL, &d), -1);  /* not a key */
	assert_non_null(strstr(d.msg, "not a valid Ed25519 public key"));
	diag_reset(&d);
	assert_int_equal(wh_key_add(f->w, "ops", "France", pk3, NULL, &d), -1);
	assert_int_equal(audit_actions(f, "key.add"), 1);

	/* a key trusted for another country; then revoke */
	assert_int_equal(wh_key_add(f->w, "ops", "FRA", pk3, id3, &d), 0);
	assert_int_equal(wh_key_revoke(f->w, "ops", "DEU", id2, &d), 0);
	assert_int_equal(audit_actions(f, "key.revoke"), 1);
	assert_int_equal(wh_key_active(f->w, "DEU", &k, &n, &d), 0);
	assert_int_equal(n, 0);
	free(k);
	/* keys are never deleted */
	assert_int_not_equal(sqlite3_exec(wh_db(f->w), "DELETE FROM office_key", NULL, NULL, NULL),
	                     SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(wh_db(f->w),
	                                  "UPDATE office_key SET status = 'active'", NULL, NULL, NULL),
	                     SQLITE_OK);
	audit_report r;
	assert_int_equal(audit_verify(wh_db(f->w), 0, NULL, &r, &d), 0);
	assert_int_equal(r.n_entries, 1 + 1 + 1 + 1 + 1);   /* migrate, add, rotate, add, revoke */

	/* loads check the signer */
	sub s;
	make_sub(f, &s, "deu.csv", "records", "DEU", RECORDS);
	wh_submission_meta m = meta_of(WH_RECORDS, "DEU", "2024-Q1", 1);
	struct {
		const char *key, *phrase;
	} cases[] = {
		{id1, "was revoked"},
		{id2, "was revoked"},
		{id3, "trusted for FRA, not DEU"},
		{"0123456789abcdef", "not in the trust store"},
	};
	for (size_t i = 0; i < 4; i++) {
		m.signer_key_id = cases[i].key;
		diag_reset(&d);
		assert_int_equal(wh_load_submission(f->w, &m, s.data, s.manifest, NULL, &d), -1);
		assert_int_equal(d.code, EX_NOPERM);
		assert_non_null(strstr(d.msg, cases[i].phrase));
	}
	char id4[17];
	assert_int_equal(wh_key_add(f->w, "ops", "DEU", pk1 /* revoked: refused */, id4, &d), -1);
	crypto_sign_keypair(pk1, sk);
	diag_reset(&d);
	assert_int_equal(wh_key_add(f->w, "ops", "DEU", pk1, id4, &d), 0);
	m.signer_key_id = id4;
	int64_t sid = load_ok(f, &m, &s);
	wh_submission info;
	assert_int_equal(wh_submission_get(f->w, sid, &info, &d), 0);
	assert_string_equal(info.signer_key_id, id4);
	diag_free(&d);
}

/* --- iteration ------------------------------------------------------------------------------ */


static int stop_cb(void *ctx, const wh_record *r, diag *d)
{
	(void)r;
	int *n = ctx;
	if (++*n == 3)
		return diag_fail(d, EX_SOFTWARE, "enough");
	return 0;
}

static void test_iterate(void **state)
{
	fx *f = *state;
	sub s;
	make_sub(f, &s, "deu.csv", "records", "DEU", RECORDS);
	wh_submission_meta m = meta_of(WH_RECORDS, "DEU", "2024-Q1", 1);
	int64_t id = load_ok(f, &m, &s);
	make_sub(f, &s, "cells.csv", "cells", "DEU", CELLS);
	wh_submission_meta mc = meta_of(WH_CELLS, "DEU", "2024", 1);
	int64_t cid = load_ok(f, &mc, &s);

	wh_part part;
	memset(&part, 0, sizeof part);
	part.submission_id = id;
	rec_acc a;
	memset(&a, 0, sizeof a);
	diag d = DIAG_INIT;
	assert_int_equal(wh_each_record(f->w, &part, 1, rec_cb, &a, &d), 0);
	assert_int_equal(a.n, 7);
	assert_int_equal(a.keyed, 4);
	assert_string_equal(a.first, "DEU,2024-Q1,VIC,F,Y_GE18,Y25T34,SEX,NGA,2");

	/* a period filter that matches nothing */
	snprintf(part.period, sizeof part.period, "2024-Q2");
	memset(&a, 0, sizeof a);
	assert_int_equal(wh_each_record(f->w, &part, 1, rec_cb, &a, &d), 0);
	assert_int_equal(a.n, 0);

	/* the callback can stop the walk */
	part.period[0] = '\0';
	int cnt = 0;
	assert_int_equal(wh_each_record(f->w, &part, 1, stop_cb, &cnt, &d), -1);
	assert_int_equal(cnt, 3);
	assert_string_equal(d.msg, "enough");

	/* kinds are not mixed */
	part.submission_id = cid;
	diag_reset(&d);
	assert_int_equal(wh_each_record(f->w, &part, 1, rec_cb, &a, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_free(&d);
}

/* --- concurrency ------------------------------------------------------------------------------- */

static void gen_records(const char *path, const char *country, long n, unsigned char b2[32])
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	crypto_generichash_state hs;
	crypto_generichash_init(&hs, NULL, 0, 32);
	static const char *const sex[] = {"F", "M", "U"};
	static const char *const age[] = {"Y0T17", "Y_GE18", "U"};
	static const char *const form[] = {"SEX", "LAB", "CRIM", "BEG", "MIX"};
	static const char *const cit[] = {"NGA", "ROU", "UKR", "U", "DEU"};
	char line[256];
	int k = snprintf(line, sizeof line, "%s", RH);
	fwrite(line, 1, (size_t)k, fp);
	crypto_generichash_update(&hs, (unsigned char *)line, (size_t)k);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (long i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		/* keys ascending (i is the high part), so the file is canonical */
		k = snprintf(line, sizeof line, "%s,2024-Q%d,%s,%s,%s,,%s,%s,%016lx%016llx\n", country,
		             (int)(x % 4) + 1, x % 7 ? "VIC" : "SUS", sex[x % 3], age[(x >> 8) % 3],
		             form[(x >> 16) % 5], cit[(x >> 24) % 5], (unsigned long)i,
		             (unsigned long long)(x & 0xffffffffffffull));
		fwrite(line, 1, (size_t)k, fp);
		crypto_generichash_update(&hs, (unsigned char *)line, (size_t)k);
	}
	assert_int_equal(fclose(fp), 0);
	crypto_generichash_final(&hs, b2, 32);
}

static void gen_sub(fx *f, sub *s, const char *country, long n)
{
	snprintf(s->data, sizeof s->data, "%s/gen_%s.csv", f->dir, country);
	snprintf(s->manifest, sizeof s->manifest, "%s.manifest", s->data);
	unsigned char b2[32];
	char hex[65], m[1024];
	gen_records(s->data, country, n, b2);
	text_hex(b2, 32, hex);
	int k = snprintf(m, sizeof m,
	                 "{\"format\": \"tipstat-submission/1\", \"kind\": \"records\", "
	                 "\"countries\": [\"%s\"], \"periods\": [\"2024-Q1\", \"2024-Q2\", "
	                 "\"2024-Q3\", \"2024-Q4\"], \"output\": {\"blake2b\": \"%s\", \"rows\": %ld}}\n",
	                 country, hex, n);
	write_file(s->manifest, m, (size_t)k);
}

/* Two processes load different packages while a third holds the write
 * lock: both wait (busy timeout) and both succeed. */
static void test_concurrent_loads(void **state)
{
	fx *f = *state;
	sub a, b;
	gen_sub(f, &a, "AUT", 30000);
	gen_sub(f, &b, "CHE", 30000);
	wh_close(f->w);
	f->w = NULL;

	/* No connection may be open in this process across fork() (SQLite
	 * keeps per-process lock state): fork first, then take the lock. */
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t pid[2];
	const sub *subs[2] = {&a, &b};
	const char *cc[2] = {"AUT", "CHE"};
	for (int i = 0; i < 2; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) {
			close(go[1]);
			char c;
			if (read(go[0], &c, 1) != 1)
				_exit(90);
			wh *w = NULL;
			diag d = DIAG_INIT;
			if (wh_open(f->db, 0, &w, &d) != 0)
				_exit(91);
			wh_submission_meta m = meta_of(WH_RECORDS, cc[i], "2024-Q1,2024-Q2,2024-Q3,2024-Q4", 1);
			struct timespec t0, t1;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			int rc = wh_load_submission(w, &m, subs[i]->data, subs[i]->manifest, NULL, &d);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			wh_close(w);
			if (rc != 0)
				_exit(d.code ? d.code : 92);
			/* it must have waited for the holder (~300 ms) */
			double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
			_exit(ms >= 200 ? 0 : 93);
		}
	}
	close(go[0]);
	sqlite3 *holder;
	assert_int_equal(sqlite3_open(f->db, &holder), SQLITE_OK);
	assert_int_equal(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(write(go[1], "gg", 2), 2);
	close(go[1]);
	usleep(300000);
	assert_int_equal(sqlite3_exec(holder, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(holder);
	for (int i = 0; i < 2; i++) {
		int st = 0;
		assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
		assert_true(WIFEXITED(st));
		if (WEXITSTATUS(st) != 0)
			fail_msg("child %d exited %d", i, WEXITSTATUS(st));
	}
	diag d = DIAG_INIT;
	assert_int_equal(wh_open(f->db, 0, &f->w, &d), 0);
	assert_int_equal(count_sql(f->w, N_RECORDS_SQL), 60000);
	assert_int_equal(count_sql(f->w, "SELECT count(*) FROM submission"), 2);
	audit_report r;
	assert_int_equal(audit_verify(wh_db(f->w), 0, NULL, &r, &d), 0);
	assert_int_equal(r.n_entries, 3);
	diag_free(&d);
}

/* With a short timeout, a held lock is a clear, temporary failure. */
static void test_busy_timeout_expires(void **state)
{
	fx *f = *state;
	sub s;
	make_sub(f, &s, "deu.csv", "records", "DEU", RECORDS);
	wh *other = NULL;
	diag d = DIAG_INIT;
	assert_int_equal(wh_open(f->db, 0, &other, &d), 0);
	assert_int_equal(sqlite3_exec(wh_db(other), "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(wh_set_busy_timeout(f->w, 100, &d), 0);
	wh_submission_meta m = meta_of(WH_RECORDS, "DEU", "2024-Q1", 1);
	assert_int_equal(wh_load_submission(f->w, &m, s.data, s.manifest, NULL, &d), -1);
	assert_int_equal(d.code, EX_TEMPFAIL);
	assert_non_null(strstr(d.msg, "locked by another process"));
	sqlite3_exec(wh_db(other), "ROLLBACK", NULL, NULL, NULL);
	wh_close(other);
	diag_reset(&d);
	load_ok(f, &m, &s);
	diag_free(&d);
}

/* --- audit integration ----------------------------------------------------------------------- */

static void test_audit_chain_in_warehouse(void **state)
{
	fx *f = *state;
	sub s;
	make_sub(f, &s, "deu.csv", "records", "DEU", RECORDS);
	wh_submission_meta m = meta_of(WH_RECORDS, "DEU", "2024-Q1", 1);
	load_ok(f, &m, &s);
	unsigned char pk[32], sk[64];
	crypto_sign_keypair(pk, sk);
	diag d = DIAG_INIT;
	assert_int_equal(wh_key_add(f->w, "ops", "DEU", pk, NULL, &d), 0);
	char head[AUDIT_HEX];
	int64_t seq;
	assert_int_equal(audit_head(wh_db(f->w), &seq, head, &d), 0);
	assert_int_equal(seq, 3);
	audit_report r;
	assert_int_equal(audit_verify(wh_db(f->w), seq, head, &r, &d), 0);
	/* the rows are immutable too */
	assert_int_not_equal(sqlite3_exec(wh_db(f->w), "DELETE FROM record_block", NULL, NULL, NULL),
	                     SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(wh_db(f->w), "UPDATE record_block SET n_rows = 1", NULL,
	                                  NULL, NULL),
	                     SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(wh_db(f->w), "UPDATE submission SET version = 9", NULL,
	                                  NULL, NULL),
	                     SQLITE_OK);
	assert_int_equal(count_sql(f->w, N_RECORDS_SQL), 7);
	/* audit_append outside a transaction is refused */
	assert_int_equal(audit_append(wh_db(f->w), "ops", "note", "x=1", NULL, &d), -1);
	diag_free(&d);
}

/* --- benchmark ---------------------------------------------------------------------------------- */

static void test_bench_load(void **state)
{
	fx *f = *state;
	const char *env = getenv("TIPSTAT_WH_BENCH_ROWS");
	long n = env ? atol(env) : 20000;
	if (n <= 0)
		n = 20000;
	sub s;
	gen_sub(f, &s, "GHA", n);
	struct stat sb;
	assert_int_equal(stat(s.data, &sb), 0);
	wh_submission_meta m = meta_of(WH_RECORDS, "GHA", "2024-Q1,2024-Q2,2024-Q3,2024-Q4", 1);
	struct timespec t0, t1, t2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int64_t id = load_ok(f, &m, &s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* export and check (the export verifies the stored hash itself) */
	FILE *null = fopen("/dev/null", "wb");
	assert_non_null(null);
	diag d = DIAG_INIT;
	assert_int_equal(wh_export_submission(f->w, id, null, &d), 0);
	fclose(null);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	double load_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	double exp_s = (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	print_message("    bench: %ld records (%.1f MB) loaded in %.2f s = %.0f rows/s; "
	              "exported in %.2f s; max RSS %.1f MB\n",
	              n, (double)sb.st_size / 1e6, load_s, (double)n / load_s, exp_s,
	              (double)ru.ru_maxrss / 1024.0);
	assert_int_equal(count_sql(f->w, N_RECORDS_SQL), n);
	diag_free(&d);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_create_open_reopen),
		T(test_file_modes),
		T(test_future_version_refused),
		T(test_foreign_files_refused),
		T(test_migrate_v0_to_v1),
		T(test_migration_mechanism),
		T(test_migrate_v1_records),
		T(test_load_export_records),
		T(test_load_export_cells),
		T(test_load_header_only),
		T(test_load_dataset_truth),
		T(test_malformed_refused),
		T(test_all_errors_reported),
		T(test_line_too_long),
		T(test_manifest_must_agree),
		T(test_bad_meta),
		T(test_rollback_leaves_nothing),
		T(test_resubmission_supersedes),
		T(test_partial_supersession),
		T(test_replay_refused),
		T(test_refusal_logged),
		T(test_trust_store),
		T(test_iterate),
		T(test_concurrent_loads),
		T(test_busy_timeout_expires),
		T(test_audit_chain_in_warehouse),
		T(test_bench_load),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
