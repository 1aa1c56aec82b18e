/* auditlog (audit_): the aggregator's append-only, hash-chained audit log.
 *
 * Every change to the warehouse (a submission loaded, a package refused, an
 * office key added, rotated or revoked, a schema migration; later releases
 * and privacy-budget spending) appends one entry to the table `audit` in the
 * warehouse database, in the SAME transaction as the change itself.  So an
 * entry exists if and only if its change was committed: a rolled-back load
 * leaves no entry, and no committed change lacks one.
 *
 * The log is a hash chain.  Entry seq (1, 2, 3, ... without gaps) stores
 *     hash = BLAKE2b-256( encode(seq, ts, actor, action, detail, prev_hash) )
 * where prev_hash is the hash of entry seq-1 (32 zero bytes for entry 1),
 * libsodium crypto_generichash without key, and encode() is unambiguous
 * (every variable field length-prefixed):
 *
 *     "tipstat-audit-v1"         16 bytes, domain separation
 *     seq                        8 bytes, unsigned big-endian
 *     len(ts)     || ts          8-byte big-endian byte length, then bytes
 *     len(actor)  || actor       "
 *     len(action) || action      "
 *     len(detail) || detail      "
 *     prev_hash                  32 bytes
 *
 * Publishing the head (seq and hash of the last entry, audit_head()) in a
 * report or a release pins the whole history before it: editing, deleting,
 * inserting or reordering any earlier entry changes hashes that cannot be
 * recomputed to match the published value.  docs/warehouse.md shows how to
 * check a head by hand with sqlite3, xxd and b2sum.
 *
 * What goes in an entry: actor and action are short tokens; detail is a
 * list of key=value tokens of codes, ids, hashes and counts ONLY, never an
 * identifier value, a national value or free text.  audit_append enforces
 * the shape (see audit_valid_detail): no spaces inside values, no quotes, a
 * small character set, so a sentence or a name cannot be smuggled in by
 * accident.
 *
 * Transactions: audit_append must be called inside the caller's write
 * transaction (BEGIN IMMEDIATE ... COMMIT), after or among the changes it
 * records; it refuses to run in autocommit mode.  It reads the current head
 * and inserts the next entry, which is race-free because the caller holds
 * the database's write lock.
 *
 * The table also has triggers refusing UPDATE and DELETE; they stop mistakes,
 * not an attacker with the file (who can drop them): the chain is what
 * detects tampering, audit_verify() is how.
 *
 * Ownership: the module keeps nothing; the sqlite3 handle is borrowed.
 */
#ifndef TIPSTAT_AUDITLOG_H
#define TIPSTAT_AUDITLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "core/diag.h"

#define AUDIT_HASH_BYTES 32
#define AUDIT_HEX 65              /* 64 hex digits + NUL */
#define AUDIT_TS_LEN 21           /* "2024-05-01T12:00:00Z" + NUL */
#define AUDIT_CONTEXT "tipstat-audit-v1"
#define AUDIT_TOKEN_MAX 64        /* actor, action */
#define AUDIT_DETAIL_MAX 4096

/* The DDL of the audit table and its triggers, as a string literal so the
 * warehouse's schema v1 embeds it (the warehouse migration runs it, never
 * this module).  Frozen: a change to the audit table is a new warehouse
 * migration, never an edit here. */
#define AUDIT_SCHEMA_SQL \
	"CREATE TABLE audit(\n" \
	"  seq       INTEGER PRIMARY KEY,\n" \
	"  ts        TEXT NOT NULL,\n" \
	"  actor     TEXT NOT NULL,\n" \
	"  action    TEXT NOT NULL,\n" \
	"  detail    TEXT NOT NULL,\n" \
	"  prev_hash BLOB NOT NULL CHECK(length(prev_hash) = 32),\n" \
	"  hash      BLOB NOT NULL UNIQUE CHECK(length(hash) = 32)\n" \
	");\n" \
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit\n" \
	"  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;\n" \
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit\n" \
	"  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;\n"

/* The entry hash: BLAKE2b-256 of the encoding above.  ts, actor, action
 * and detail are byte strings of the given lengths. */
void audit_entry_hash(int64_t seq, const char *ts, size_t ts_len,
                      const char *actor, size_t actor_len,
                      const char *action, size_t action_len,
                      const char *detail, size_t detail_len,
                      const unsigned char prev_hash[AUDIT_HASH_BYTES],
                      unsigned char out[AUDIT_HASH_BYTES]);

/* 1 if s is an acceptable actor: 1..64 of [A-Za-z0-9_.@:-]. */
int audit_valid_actor(const char *s);
/* 1 if s is an acceptable action: 1..64 of [a-z0-9_.], starting a-z. */
int audit_valid_action(const char *s);
/* 1 if s is an acceptable detail: "" or key=value tokens separated by
 * single spaces, key [a-z][a-z0-9_]*, value [A-Za-z0-9_.:,/+#-]*, at most
 * AUDIT_DETAIL_MAX bytes. */
int audit_valid_detail(const char *s);

/* Append one entry (timestamp: now, UTC) inside the caller's transaction.
 * out_seq (may be NULL) receives its seq.  Bad tokens: EX_SOFTWARE (the
 * caller composed them); not in a transaction: EX_SOFTWARE; database
 * errors: EX_IOERR / EX_TEMPFAIL. */
int audit_append(sqlite3 *db, const char *actor, const char *action, const char *detail,
                 int64_t *out_seq, diag *d);

/* The head: seq and lower-case hex hash of the last entry, for
 * publication.  An empty log gives seq 0 and 64 zeros. */
int audit_head(sqlite3 *db, int64_t *seq, char hex[AUDIT_HEX], diag *d);

/* One entry as read back; strings valid during the callback only. */
typedef struct audit_entry {
	int64_t seq;
	const char *ts, *actor, *action, *detail;
	char hash_hex[AUDIT_HEX];
} audit_entry;

/* Call fn for every entry with seq >= from_seq, in seq order (at most
 * limit entries; 0 = all).  fn returns 0 to go on, -1 to stop (then -1). */
int audit_each(sqlite3 *db, int64_t from_seq, int64_t limit,
               int (*fn)(void *ctx, const audit_entry *e), void *ctx, diag *d);

/* Number of entries (a convenience for tests and the status command). */
int audit_count(sqlite3 *db, int64_t *n, diag *d);

enum audit_problem {
	AUDIT_OK = 0,
	AUDIT_EDITED,       /* an entry's content does not match its hash */
	AUDIT_DELETED,      /* seq gap, or an entry renumbered after a deletion */
	AUDIT_REORDERED,    /* an entry sits at another seq than it was written at */
	AUDIT_BROKEN_LINK,  /* self-consistent entry whose prev_hash is not its
	                       predecessor's hash (predecessor rewritten and
	                       rehashed, or an entry substituted) */
	AUDIT_MALFORMED,    /* a field of the wrong type or size */
	AUDIT_HEAD_MISMATCH,/* the chain is intact but does not contain the
	                       published head (truncated or rewritten) */
	AUDIT_DB_ERROR      /* could not read the log */
};

typedef struct audit_report {
	int problem;              /* enum audit_problem; AUDIT_OK when intact */
	int64_t bad_seq;          /* the first bad entry (for DELETED: the first
	                             missing seq); 0 when ok */
	int64_t n_entries;        /* entries checked */
	int64_t last_seq;         /* seq of the last entry read */
	char head_hex[AUDIT_HEX]; /* hash of the last intact entry */
	int64_t head_found_at;    /* seq where the published head was found, 0 */
	char msg[384];            /* what is wrong, "" when ok */
} audit_report;

/* "edited", "deleted", ...; "ok". */
const char *audit_problem_name(int problem);

/* Walk the whole chain in seq order and check every entry: seq 1, 2, ...
 * without gaps, each hash recomputed, each prev_hash equal to the hash
 * before it.  The walk stops at the FIRST bad entry and classifies it.
 * When head_hex is given (a published head), it must be the hash of entry
 * head_seq (or, with head_seq 0, of some entry): a log may have grown since
 * publication, but must still contain the published head.
 * Returns 0 when intact; -1 when not (EX_DATAERR, d->msg = out->msg) or
 * when the log cannot be read (out->problem = AUDIT_DB_ERROR).  out is
 * always filled. */
int audit_verify(sqlite3 *db, int64_t head_seq, const char *head_hex, audit_report *out,
                 diag *d);

#endif
