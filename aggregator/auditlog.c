/* auditlog: see auditlog.h. */
#include "aggregator/auditlog.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include "core/sqlx.h"
#include "core/text.h"

static const unsigned char ZERO_HASH[AUDIT_HASH_BYTES];

/* --- encoding ------------------------------------------------------------ */

static void put_u64(crypto_generichash_state *s, uint64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (56 - 8 * i));
	crypto_generichash_update(s, b, 8);
}

static void put_field(crypto_generichash_state *s, const char *p, size_t n)
{
	put_u64(s, (uint64_t)n);
	if (n)
		crypto_generichash_update(s, (const unsigned char *)p, n);
}

void audit_entry_hash(int64_t seq, const char *ts, size_t ts_len,
                      const char *actor, size_t actor_len,
                      const char *action, size_t action_len,
                      const char *detail, size_t detail_len,
                      const unsigned char prev_hash[AUDIT_HASH_BYTES],
                      unsigned char out[AUDIT_HASH_BYTES])
{
	crypto_generichash_state s;
	crypto_generichash_init(&s, NULL, 0, AUDIT_HASH_BYTES);
	crypto_generichash_update(&s, (const unsigned char *)AUDIT_CONTEXT,
	                          sizeof AUDIT_CONTEXT - 1);
	put_u64(&s, (uint64_t)seq);
	put_field(&s, ts, ts_len);
	put_field(&s, actor, actor_len);
	put_field(&s, action, action_len);
	put_field(&s, detail, detail_len);
	crypto_generichash_update(&s, prev_hash, AUDIT_HASH_BYTES);
	crypto_generichash_final(&s, out, AUDIT_HASH_BYTES);
}

/* --- token shapes --------------------------------------------------------- */

static int in_set(int c, const char *extra)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr(extra, c) != NULL);
}

int audit_valid_actor(const char *s)
{
	if (!s || !*s || strlen(s) > AUDIT_TOKEN_MAX)
		return 0;
	for (; *s; s++)
		if (!in_set((unsigned char)*s, "_.@:-"))
			return 0;
	return 1;
}

int audit_valid_action(const char *s)
{
	if (!s || !(*s >= 'a' && *s <= 'z') || strlen(s) > AUDIT_TOKEN_MAX)
		return 0;
	for (; *s; s++) {
		int c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

int audit_valid_detail(const char *s)
{
	if (!s || strlen(s) > AUDIT_DETAIL_MAX)
		return 0;
	if (!*s)
		return 1;
	for (;;) {
		/* key */
		if (!(*s >= 'a' && *s <= 'z'))
			return 0;
		while ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')
			s++;
		if (*s++ != '=')
			return 0;
		/* value */
		while (*s && *s != ' ') {
			if (!in_set((unsigned char)*s, "_.:,/+#-"))
				return 0;
			s++;
		}
		if (!*s)
			return 1;
		s++;             /* one space, then the next token */
	}
}

/* --- helpers --------------------------------------------------------------- */

static int db_fail(sqlite3 *db, int rc, diag *d, const char *what)
{
	const char *file = sqlite3_db_filename(db, "main");   /* "" in memory */
	return diag_fail(d, sqlx_code(rc), "%s%saudit log: %s: %s", file ? file : "",
	                 file && *file ? ": " : "", what, sqlite3_errmsg(db));
}

/* Last entry: seq and hash (0 and zeros when empty). */
static int last_entry(sqlite3 *db, int64_t *seq, unsigned char hash[AUDIT_HASH_BYTES], diag *d)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, d, "cannot read the head");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		const void *h = sqlite3_column_blob(st, 1);
		if (!h || sqlite3_column_bytes(st, 1) != AUDIT_HASH_BYTES) {
			sqlite3_finalize(st);
			return diag_fail(d, EX_DATAERR,
			                 "audit log: entry %lld has a malformed hash; run audit verify",
			                 (long long)*seq);
		}
		memcpy(hash, h, AUDIT_HASH_BYTES);
		rc = SQLITE_DONE;
	} else if (rc == SQLITE_DONE) {
		*seq = 0;
		memset(hash, 0, AUDIT_HASH_BYTES);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, rc, d, "cannot read the head");
	return 0;
}

/* --- append ----------------------------------------------------------------- */

int audit_append(sqlite3 *db, const char *actor, const char *action, const char *detail,
                 int64_t *out_seq, diag *d)
{
	if (!db)
		return diag_fail(d, EX_SOFTWARE, "audit_append: no database");
	if (!audit_valid_actor(actor))
		return diag_fail(d, EX_SOFTWARE, "audit_append: invalid actor (1-%d of A-Z a-z 0-9 _ . @ : -)",
		                 AUDIT_TOKEN_MAX);
	if (!audit_valid_action(action))
		return diag_fail(d, EX_SOFTWARE, "audit_append: invalid action (1-%d of a-z 0-9 _ .)",
		                 AUDIT_TOKEN_MAX);
	if (!detail)
		detail = "";
	if (!audit_valid_detail(detail))
		return diag_fail(d, EX_SOFTWARE,
		                 "audit_append: detail must be key=value tokens of codes, ids, "
		                 "hashes and counts (no spaces or quotes in values)");
	if (sqlite3_get_autocommit(db))
		return diag_fail(d, EX_SOFTWARE,
		                 "audit_append: must be called inside the caller's write transaction");

	int64_t seq = 0;
	unsigned char prev[AUDIT_HASH_BYTES], hash[AUDIT_HASH_BYTES];
	if (last_entry(db, &seq, prev, d) != 0)
		return -1;
	seq++;
	_Static_assert(AUDIT_TS_LEN == SQLX_TS_LEN, "audit timestamps are the warehouse's");
	char ts[AUDIT_TS_LEN];
	sqlx_now_utc(ts);
	audit_entry_hash(seq, ts, strlen(ts), actor, strlen(actor), action, strlen(action), detail,
	                 strlen(detail), prev, hash);

	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
	                            "INSERT INTO audit(seq, ts, actor, action, detail, prev_hash, hash) "
	                            "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, d, "cannot append");
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_text(st, 2, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, detail, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, prev, AUDIT_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 7, hash, AUDIT_HASH_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, rc, d, "cannot append");
	if (out_seq)
		*out_seq = seq;
	return 0;
}

int audit_head(sqlite3 *db, int64_t *seq, char hex[AUDIT_HEX], diag *d)
{
	unsigned char h[AUDIT_HASH_BYTES];
	int64_t s = 0;
	if (last_entry(db, &s, h, d) != 0)
		return -1;
	if (seq)
		*seq = s;
	text_hex(h, AUDIT_HASH_BYTES, hex);
	return 0;
}

int audit_count(sqlite3 *db, int64_t *n, diag *d)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM audit", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, d, "cannot count");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_fail(db, rc, d, "cannot count");
	return 0;
}

/* --- verify ------------------------------------------------------------------- */

const char *audit_problem_name(int problem)
{
	switch (problem) {
	case AUDIT_OK: return "ok";
	case AUDIT_EDITED: return "edited";
	case AUDIT_DELETED: return "deleted";
	case AUDIT_REORDERED: return "reordered";
	case AUDIT_BROKEN_LINK: return "broken link";
	case AUDIT_MALFORMED: return "malformed";
	case AUDIT_HEAD_MISMATCH: return "head mismatch";
	case AUDIT_DB_ERROR: return "database error";
	default: return "unknown";
	}
}

static int parse_hex32(const char *s, unsigned char out[AUDIT_HASH_BYTES])
{
	if (!s || strlen(s) != 2 * AUDIT_HASH_BYTES)
		return -1;
	for (int i = 0; i < AUDIT_HASH_BYTES; i++) {
		int v = 0;
		for (int k = 0; k < 2; k++) {
			int c = (unsigned char)s[2 * i + k];
			int x = c >= '0' && c <= '9' ? c - '0'
			      : c >= 'a' && c <= 'f' ? c - 'a' + 10
			      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
			if (x < 0)
				return -1;
			v = v * 16 + x;
		}
		out[i] = (unsigned char)v;
	}
	return 0;
}

/* One row as read from the table. */
typedef struct row {
	int64_t seq;
	const char *f[4];        /* ts, actor, action, detail */
	size_t n[4];
	const unsigned char *prev, *hash;
} row;

static const char *const FIELD[4] = {"ts", "actor", "action", "detail"};

/* Fill r from the current row of st; NULL when well formed, else what is
 * wrong. */
static const char *read_row(sqlite3_stmt *st, row *r)
{
	r->seq = sqlite3_column_int64(st, 0);
	for (int i = 0; i < 4; i++) {
		if (sqlite3_column_type(st, 1 + i) != SQLITE_TEXT)
			return FIELD[i];
		r->f[i] = (const char *)sqlite3_column_text(st, 1 + i);
		r->n[i] = (size_t)sqlite3_column_bytes(st, 1 + i);
	}
	if (sqlite3_column_type(st, 5) != SQLITE_BLOB || sqlite3_column_bytes(st, 5) != AUDIT_HASH_BYTES)
		return "prev_hash";
	r->prev = sqlite3_column_blob(st, 5);
	if (sqlite3_column_type(st, 6) != SQLITE_BLOB || sqlite3_column_bytes(st, 6) != AUDIT_HASH_BYTES)
		return "hash";
	r->hash = sqlite3_column_blob(st, 6);
	return NULL;
}

static void row_hash(const row *r, int64_t seq, unsigned char out[AUDIT_HASH_BYTES])
{
	audit_entry_hash(seq, r->f[0], r->n[0], r->f[1], r->n[1], r->f[2], r->n[2], r->f[3], r->n[3],
	                 r->prev, out);
}

/* Seq of the stored entry whose hash is h, 0 if none, -1 on error. */
static int64_t seq_of_hash(sqlite3 *db, const unsigned char *h)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT seq FROM audit WHERE hash = ?1 LIMIT 1", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_blob(st, 1, h, AUDIT_HASH_BYTES, SQLITE_STATIC);
	int64_t s = 0;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		s = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		s = -1;
	sqlite3_finalize(st);
	return s;
}

/* The seq an entry was written at, if its stored hash matches its content
 * under some seq other than `at`: searched outward from `at` within
 * [1, limit].  0 if none. */
static int64_t written_seq(const row *r, int64_t at, int64_t limit)
{
	unsigned char h[AUDIT_HASH_BYTES];
	const int64_t max_tries = 1000000;
	for (int64_t k = 1, tries = 0; tries < max_tries && (at - k >= 1 || at + k <= limit); k++) {
		int64_t c[2] = {at - k, at + k};
		for (int i = 0; i < 2; i++) {
			if (c[i] < 1 || c[i] > limit)
				continue;
			tries++;
			row_hash(r, c[i], h);
			if (!sodium_memcmp(h, r->hash, AUDIT_HASH_BYTES))
				return c[i];
		}
	}
	return 0;
}

static int report_bad(audit_report *out, diag *d, int problem, int64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int report_bad(audit_report *out, diag *d, int problem, int64_t seq, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->msg, sizeof out->msg, fmt, ap);
	va_end(ap);
	out->problem = problem;
	out->bad_seq = seq;
	return diag_fail(d, problem == AUDIT_DB_ERROR ? EX_IOERR : EX_DATAERR, "audit log: %s",
	                 out->msg);
}

int audit_verify(sqlite3 *db, int64_t head_seq, const char *head_hex, audit_report *out,
                 diag *d)
{
	memset(out, 0, sizeof *out);
	text_hex(ZERO_HASH, AUDIT_HASH_BYTES, out->head_hex);
	unsigned char pub[AUDIT_HASH_BYTES];
	int have_pub = head_hex && *head_hex;
	if (have_pub && parse_hex32(head_hex, pub) != 0)
		return report_bad(out, d, AUDIT_HEAD_MISMATCH, 0,
		                  "the published head is not 64 hex digits");

	int64_t max_seq = 0;
	{
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, "SELECT coalesce(max(seq), 0) FROM audit", -1, &st, NULL) !=
		    SQLITE_OK)
			return report_bad(out, d, AUDIT_DB_ERROR, 0, "cannot read: %s", sqlite3_errmsg(db));
		if (sqlite3_step(st) == SQLITE_ROW)
			max_seq = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}

	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
	                            "SELECT seq, ts, actor, action, detail, prev_hash, hash "
	                            "FROM audit ORDER BY seq",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK)
		return report_bad(out, d, AUDIT_DB_ERROR, 0, "cannot read: %s", sqlite3_errmsg(db));

	unsigned char prev_hash[AUDIT_HASH_BYTES];   /* hash of the last good entry */
	memcpy(prev_hash, ZERO_HASH, AUDIT_HASH_BYTES);
	int64_t prev_seq = 0;
	int result = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row r;
		memset(&r, 0, sizeof r);
		const char *bad = read_row(st, &r);
		int64_t expect = prev_seq + 1;
		out->last_seq = r.seq;
		if (r.seq != expect) {
			if (r.seq - 1 == expect)
				result = report_bad(out, d, AUDIT_DELETED, expect,
				                    "entry %lld is missing (deleted): entry %lld follows "
				                    "entry %lld",
				                    (long long)expect, (long long)r.seq, (long long)prev_seq);
			else
				result = report_bad(out, d, AUDIT_DELETED, expect,
				                    "entries %lld to %lld are missing (deleted): entry %lld "
				                    "follows entry %lld",
				                    (long long)expect, (long long)(r.seq - 1), (long long)r.seq,
				                    (long long)prev_seq);
			break;
		}
		if (bad) {
			result = report_bad(out, d, AUDIT_MALFORMED, r.seq,
			                    "entry %lld is malformed: field %s has the wrong type or size",
			                    (long long)r.seq, bad);
			break;
		}
		unsigned char h[AUDIT_HASH_BYTES];
		row_hash(&r, r.seq, h);
		if (sodium_memcmp(h, r.hash, AUDIT_HASH_BYTES) != 0) {
			/* Content and hash disagree.  Was this entry written at
			 * another seq (moved), or edited in place? */
			int64_t orig = written_seq(&r, r.seq, max_seq + 1);
			if (orig) {
				/* Moved within the log if the entry it followed is still
				 * there (or it was the genesis entry); otherwise its
				 * predecessor was deleted and it was renumbered. */
				int moved = sodium_is_zero(r.prev, AUDIT_HASH_BYTES)
				                    ? orig == 1
				                    : seq_of_hash(db, r.prev) > 0;
				if (moved)
					result = report_bad(out, d, AUDIT_REORDERED, r.seq,
					                    "entry %lld was written as entry %lld: entries were "
					                    "reordered (moved or swapped)",
					                    (long long)r.seq, (long long)orig);
				else
					result = report_bad(out, d, AUDIT_DELETED, r.seq,
					                    "entry %lld was written as entry %lld and the entry it "
					                    "followed is gone: entries were deleted and later "
					                    "ones renumbered",
					                    (long long)r.seq, (long long)orig);
			} else {
				result = report_bad(out, d, AUDIT_EDITED, r.seq,
				                    "entry %lld was edited: its content does not match its hash",
				                    (long long)r.seq);
			}
			break;
		}
		if (sodium_memcmp(r.prev, prev_hash, AUDIT_HASH_BYTES) != 0) {
			if (prev_seq == 0)
				result = report_bad(out, d, AUDIT_BROKEN_LINK, r.seq,
				                    "entry %lld is the first entry but does not start the chain "
				                    "(prev_hash is not zero): earlier entries were removed",
				                    (long long)r.seq);
			else
				result = report_bad(out, d, AUDIT_BROKEN_LINK, r.seq,
				                    "entry %lld does not follow entry %lld (its prev_hash is not "
				                    "entry %lld's hash): entry %lld was rewritten with a "
				                    "recomputed hash, or replaced",
				                    (long long)r.seq, (long long)prev_seq, (long long)prev_seq,
				                    (long long)prev_seq);
			break;
		}
		/* entry r.seq is good */
		memcpy(prev_hash, r.hash, AUDIT_HASH_BYTES);
		prev_seq = r.seq;
		out->n_entries++;
		text_hex(prev_hash, AUDIT_HASH_BYTES, out->head_hex);
		if (have_pub && !out->head_found_at) {
			int same = !sodium_memcmp(prev_hash, pub, AUDIT_HASH_BYTES);
			if (head_seq == 0 && same)
				out->head_found_at = r.seq;
			else if (head_seq == r.seq) {
				if (same)
					out->head_found_at = r.seq;
				else {
					result = report_bad(out, d, AUDIT_HEAD_MISMATCH, r.seq,
					                    "entry %lld is not the published head: the log was "
					                    "rewritten at or before entry %lld",
					                    (long long)r.seq, (long long)r.seq);
					break;
				}
			}
		}
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		result = report_bad(out, d, AUDIT_DB_ERROR, prev_seq + 1, "cannot read: %s",
		                    sqlite3_errmsg(db));
	sqlite3_finalize(st);
	if (result != 0)
		return result;
	if (have_pub && !out->head_found_at) {
		if (head_seq > prev_seq)
			return report_bad(out, d, AUDIT_HEAD_MISMATCH, prev_seq + 1,
			                  "the published head is entry %lld but the log ends at entry %lld: "
			                  "entries were deleted from the end",
			                  (long long)head_seq, (long long)prev_seq);
		return report_bad(out, d, AUDIT_HEAD_MISMATCH, 0,
		                  "the published head is not in the log (which ends at entry %lld): "
		                  "entries were deleted from the end or the log was rewritten",
		                  (long long)prev_seq);
	}
	return 0;
}

int audit_each(sqlite3 *db, int64_t from_seq, int64_t limit,
               int (*fn)(void *ctx, const audit_entry *e), void *ctx, diag *d)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
	                       "SELECT seq, ts, actor, action, detail, hash FROM audit "
	                       "WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
	                       -1, &st, NULL) != SQLITE_OK)
		return diag_fail(d, EX_IOERR, "audit log: cannot read: %s", sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, from_seq);
	sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
	int rc, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		audit_entry e = {.seq = sqlite3_column_int64(st, 0)};
		e.ts = (const char *)sqlite3_column_text(st, 1);
		e.actor = (const char *)sqlite3_column_text(st, 2);
		e.action = (const char *)sqlite3_column_text(st, 3);
		e.detail = (const char *)sqlite3_column_text(st, 4);
		const void *h = sqlite3_column_blob(st, 5);
		if (!e.ts || !e.actor || !e.action || !e.detail || !h ||
		    sqlite3_column_bytes(st, 5) != AUDIT_HASH_BYTES) {
			ret = diag_fail(d, EX_DATAERR, "audit log: entry %lld is malformed",
			                (long long)e.seq);
			break;
		}
		text_hex(h, AUDIT_HASH_BYTES, e.hash_hex);
		if (fn(ctx, &e) != 0) {
			ret = -1;
			break;
		}
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = diag_fail(d, EX_IOERR, "audit log: cannot read: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return ret;
}
