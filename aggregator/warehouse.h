/* warehouse (wh_): the aggregator's store of accepted submissions, its
 * trust store of office keys, and (through aggregator/auditlog.h) its audit
 * trail, in one SQLite database.
 *
 * `tipstat accept` opens a sealed package (ingest/seal.h), then calls
 * wh_load_submission() with the decrypted canonical file and manifest
 * (docs/standard.md); the cube and releases read submissions back with
 * wh_latest() and wh_each_record() / wh_each_cell().  docs/warehouse.md
 * has the schema, supersession and the audit chain.
 *
 * Why it is shaped so:
 *  - One database file, WAL mode, foreign_keys=ON, a busy timeout (two
 *    `accept` processes on different packages queue on the write lock
 *    rather than fail), every write in a BEGIN IMMEDIATE transaction.
 *    The file and its -wal/-shm are 0600: they hold case keys.
 *  - Nothing is ever deleted or updated in place.  A resubmission (a
 *    higher version for a country and period) supersedes the earlier one
 *    for later releases, and the earlier one stays: any past state can be
 *    rebuilt exactly (wh_latest with as_of_seq).  An older or equal version
 *    is a replay and is refused (EX_NOPERM).
 *  - Loading is all or nothing: the whole file, the supersession and the
 *    audit entry go in one transaction; any problem rolls everything back.
 *    The file is validated field by field (syntax of every code, canonical
 *    order, intervals, flags, case keys) with FILE:LINE:COL diagnostics,
 *    streamed line by line with prepared statements in flat memory (a
 *    bounded page cache; a 1 GB file needs no more memory than a 1 KB one).
 *    Case-level records are stored as blocks of their canonical lines
 *    (table record_block, up to WH_BLOCK_BYTES each): one insert per ~900
 *    records instead of one per record, which was most of the load's
 *    time; readers split the lines again (they were validated on load).
 *  - Rows are stored with their line number, so wh_export_submission()
 *    writes back the byte-identical canonical file; the data's SHA-256 is
 *    stored and re-checked on export.
 *  - Schema versions: PRAGMA user_version and the table schema_migration;
 *    migrations are applied in order, all in one transaction, on open.  A
 *    database from a newer tipstat is refused, not guessed at.
 *
 * Errors: EX_DATAERR (65) bad data or a damaged/foreign database, EX_NOPERM
 * (77) replay or an untrusted signer, EX_NOINPUT (66) missing files,
 * EX_TEMPFAIL (75) the database stayed locked past the busy timeout,
 * EX_IOERR / EX_CANTCREAT for I/O, EX_USAGE for bad arguments.
 *
 * Threads and ownership: a wh is one SQLite connection; use it from one
 * thread at a time (open one wh per thread or process).  wh_close()
 * releases it.  Arrays returned by wh_latest(), wh_status(), wh_key_list()
 * and wh_key_active() are malloc'd and the caller free()s them.  Strings
 * passed in are borrowed for the duration of the call.
 */
#ifndef TIPSTAT_WAREHOUSE_H
#define TIPSTAT_WAREHOUSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>
#include "core/diag.h"
#include "core/progress.h"

#define WH_SCHEMA_VERSION 2          /* what this code creates and reads */
#define WH_APPLICATION_ID 0x54495053 /* PRAGMA application_id, "TIPS" */
#define WH_BUSY_MS_DEFAULT 300000    /* wait up to 5 minutes for the lock */
#define WH_CACHE_KIB 8192            /* page cache per connection */
#define WH_LINE_MAX 1024             /* longest canonical line accepted */
#define WH_BLOCK_BYTES 65536         /* records are stored in blocks of lines
                                        of at most this many bytes */
#define WH_PERIODS_MAX 1024          /* like SEAL_PERIODS_MAX */
#define WH_MANIFEST_MAX (1u << 20)   /* manifest size cap */

enum wh_open_flags {
	WH_CREATE = 1,     /* create the file if missing */
	WH_READONLY = 2    /* open for queries only (no migration) */
};

/* Same values as enum seal_kind (ingest/seal.h). */
enum wh_kind { WH_RECORDS = 1, WH_CELLS = 2 };

typedef struct wh wh;

/* --- opening ------------------------------------------------------------- */

/* Create (WH_CREATE) or open the warehouse at path and bring its schema up
 * to WH_SCHEMA_VERSION.  Refuses a file that is not a tipstat warehouse or
 * whose schema is newer than this code (EX_DATAERR). */
int wh_open(const char *path, int flags, wh **out, diag *d);
void wh_close(wh *w);

/* The connection, for modules storing their own tables in the warehouse
 * (audit_append, later stages).  Owned by the wh. */
sqlite3 *wh_db(wh *w);
/* Current schema version (PRAGMA user_version). */
int wh_schema_version(wh *w, int *version, diag *d);
/* How long to wait for another writer's lock, in milliseconds. */
int wh_set_busy_timeout(wh *w, int ms, diag *d);
/* Progress of the long loads: wh_load_submission tells pg (copied; NULL
 * = none) the data bytes read so far, every 65,536 lines. */
void wh_set_progress(wh *w, const progress_hook *pg);

/* A schema migration: SQL that brings version-1 to `version`. */
typedef struct wh_migration {
	int version;
	const char *name;
	const char *sql;
} wh_migration;

/* The built-in list (versions 1..WH_SCHEMA_VERSION, in order). */
const wh_migration *wh_migrations(size_t *n);
/* The mechanism wh_open uses, exposed so tests and tools can prove it:
 * inside one BEGIN IMMEDIATE transaction, read user_version, refuse a
 * version beyond the list's last (EX_DATAERR), apply each later migration
 * in order, record it in schema_migration, set user_version, append an
 * audit entry (when the audit table exists), commit.  Any failure rolls
 * back to the version before (EX_SOFTWARE, naming the migration).  The
 * list must hold versions 1, 2, 3, ... in order.  from/to may be NULL. */
int wh_migrate(sqlite3 *db, const wh_migration *list, size_t n, int *from, int *to, diag *d);

/* --- loading -------------------------------------------------------------- */

/* What `accept` knows about a submission from the verified seal header. */
typedef struct wh_submission_meta {
	const char *actor;           /* who loads it (audit), e.g. "accept" */
	const char *country;         /* ISO alpha-3 of the submitting office */
	const char *periods;         /* canonical, ascending, comma separated */
	uint32_t version;            /* >= 1 */
	int kind;                    /* enum wh_kind */
	const char *package_sha256;  /* 64 hex of the sealed package, or NULL */
	const char *signer_key_id;   /* 16 hex; must be an active key of the
	                                country in the trust store; NULL = the
	                                caller vouches (tests, manual loads) */
	const char *received_at;     /* "YYYY-MM-DDTHH:MM:SSZ", NULL = now */
} wh_submission_meta;

/* Validate and load the canonical file data_path with its manifest, in one
 * transaction with its audit entry ("submission.load").  The file must be
 * exactly canonical (docs/standard.md): the header of its kind, every
 * field well formed (upper-case code tokens; `_T` only in cells; country =
 * meta country; period canonical and one of meta periods; lo <= hi, hi
 * empty = unbounded; flags sorted from "acd"; case_key 32 lower-case hex or
 * empty), rows in canonical order, LF line endings, a final newline.  The
 * manifest must agree (kind, countries, periods, output rows and hash).
 * Every problem is a positioned diagnostic; then -1, EX_DATAERR, nothing
 * stored.  A version not newer than the stored one for any of its periods
 * is refused as a replay (EX_NOPERM, naming the stored version).  *out_id
 * (may be NULL) receives the new submission id. */
int wh_load_submission(wh *w, const wh_submission_meta *meta, const char *data_path,
                       const char *manifest_path, int64_t *out_id, diag *d);

/* Write submission id back as its canonical file, byte-identical to what
 * was loaded (checked against the stored SHA-256: EX_DATAERR if not). */
int wh_export_submission(wh *w, int64_t id, FILE *out, diag *d);

/* A refused package, for the audit log ("package.refused").  Fields that
 * are NULL/0 are unknown; fields that are malformed (they may come from a
 * forged clear header) are left out and named in malformed=. */
typedef struct wh_refusal_info {
	const char *actor;           /* e.g. "accept" */
	const char *package_sha256;  /* 64 hex of the package file, or NULL */
	const char *country;
	const char *periods;
	uint32_t version;
	const char *signer_key_id;
	const char *reason;          /* short token: "replay", "bad_signature",
	                                "unknown_key", "bad_data", ... */
	int code;                    /* the exit code of the refusal */
	unsigned long line;          /* first bad line of the data, or 0 */
	unsigned long n_errors;      /* problems found, or 0 */
} wh_refusal_info;

/* Record a refusal in its own transaction.  out_seq may be NULL. */
int wh_refusal(wh *w, const wh_refusal_info *r, int64_t *out_seq, diag *d);

/* --- reading -------------------------------------------------------------- */

typedef struct wh_submission {
	int64_t id;
	char country[4];
	char periods[WH_PERIODS_MAX + 1];
	uint32_t version;
	int kind;                    /* enum wh_kind */
	char received_at[21];
	char loaded_by[65];
	char package_sha256[65];     /* "" when not given */
	char data_sha256[65];
	char signer_key_id[17];      /* "" when not given */
	int64_t data_bytes;
	int64_t n_rows;
	int64_t audit_seq;           /* the audit entry that recorded the load */
} wh_submission;

int wh_submission_get(wh *w, int64_t id, wh_submission *out, diag *d);
/* The stored manifest text; *json is malloc'd (caller frees). */
int wh_submission_manifest(wh *w, int64_t id, char **json, diag *d);

/* One (submission, period) slice: the unit a release is built from. */
typedef struct wh_part {
	int64_t submission_id;
	char country[4];
	char period[8];              /* "" in a query = every period */
	uint32_t version;
	int kind;
} wh_part;

/* The latest version for every (country, period), country NULL = all, in
 * country then period order.  as_of_seq 0 = now; otherwise the state just
 * after audit entry as_of_seq (what a release built then saw). */
int wh_latest(wh *w, const char *country, int64_t as_of_seq, wh_part **out, size_t *n,
              diag *d);

/* Coverage: for every country and period, its latest version. */
typedef struct wh_status_entry {
	char country[4];
	char period[8];
	uint32_t version;            /* latest */
	int64_t submission_id;
	int kind;
	int64_t n_versions;          /* versions received for this period */
	char received_at[21];        /* of the latest */
} wh_status_entry;

int wh_status(wh *w, wh_status_entry **out, size_t *n, diag *d);

/* A stored case-level record / aggregate cell, as iterated.  Strings point
 * into SQLite's row and are valid only during the callback. */
typedef struct wh_record {
	int64_t submission_id;
	unsigned long line;          /* line in the canonical file */
	const char *country, *period, *indicator, *sex, *age;
	const char *age_band;        /* "" when not given */
	const char *form, *citizenship;
	int has_key;
	unsigned char case_key[16];
} wh_record;

typedef struct wh_cell {
	int64_t submission_id;
	unsigned long line;
	const char *country, *period, *indicator, *sex, *age, *form, *citizenship;
	int64_t lo, hi;              /* hi = -1: unbounded */
	const char *flags;           /* "" or sorted letters of "acd" */
} wh_cell;

/* Callbacks return 0 to go on, or -1 (having set d) to stop; the
 * iteration then returns -1. */
typedef int (*wh_record_fn)(void *ctx, const wh_record *r, diag *d);
typedef int (*wh_cell_fn)(void *ctx, const wh_cell *c, diag *d);

/* Every row of the given parts, part by part in the order given, rows in
 * file order, from one consistent snapshot.  A part of the other kind is
 * EX_USAGE. */
int wh_each_record(wh *w, const wh_part *parts, size_t n, wh_record_fn fn, void *ctx, diag *d);
int wh_each_cell(wh *w, const wh_part *parts, size_t n, wh_cell_fn fn, void *ctx, diag *d);

/* A pull cursor over one records submission, all its rows in file order
 * (whatever their period), for callers that merge several submissions
 * (aggregator/whcube.h).  Several cursors may be open at once on one wh;
 * the caller holds a read transaction around them for one snapshot
 * (wh_read_begin).  The strings of *r are valid until the next call.
 * wh_rcursor_next returns 1 with a row, 0 at the end, -1 on error.  A
 * submission that does not exist, is not loaded or holds cells is
 * EX_USAGE.  wh_rcursor_close(NULL) is a no-op. */
typedef struct wh_rcursor wh_rcursor;
int wh_rcursor_open(wh *w, int64_t submission_id, wh_rcursor **out, diag *d);
int wh_rcursor_next(wh_rcursor *c, wh_record *r, diag *d);
void wh_rcursor_close(wh_rcursor *c);

/* Start a read transaction (one snapshot for several queries) unless one
 * is already open; *began says whether this call opened it, to be passed
 * to wh_read_end, which ends it only then. */
int wh_read_begin(wh *w, int *began, diag *d);
void wh_read_end(wh *w, int began);

/* --- trust store: office public keys ---------------------------------------- */

typedef struct wh_key {
	char country[4];
	char key_id[17];             /* first 8 bytes of BLAKE2b-256(pk), hex
	                                (keys_id() of ingest/keys.h) */
	unsigned char public_key[32];/* Ed25519 */
	int active;                  /* 1 active, 0 revoked */
	char added_at[21];
	char revoked_at[21];         /* "" while active */
} wh_key;

/* Trust pk (Ed25519 public key) for country.  A key already known (even
 * revoked) is refused (EX_DATAERR); so is a point that is not a valid
 * Ed25519 key.  key_id_out (17 bytes, may be NULL) receives its id. */
int wh_key_add(wh *w, const char *actor, const char *country, const unsigned char pk[32],
               char *key_id_out, diag *d);
/* Add new_pk and revoke old_key_id (which must be active for country) in
 * one transaction. */
int wh_key_rotate(wh *w, const char *actor, const char *country, const char *old_key_id,
                  const unsigned char new_pk[32], char *key_id_out, diag *d);
/* Stop trusting key_id (must be active for country); it stays listed. */
int wh_key_revoke(wh *w, const char *actor, const char *country, const char *key_id,
                  diag *d);
/* Every key (country NULL) or a country's keys, active and revoked. */
int wh_key_list(wh *w, const char *country, wh_key **out, size_t *n, diag *d);
/* The keys `accept` may verify a package of country with. */
int wh_key_active(wh *w, const char *country, wh_key **out, size_t *n, diag *d);

#endif
