/* Unit tests for aggregator/auditlog: the hash-chained audit trail.
 *
 * The module is tested on a bare in-memory SQLite database holding only the
 * audit table (AUDIT_SCHEMA_SQL), so these tests do not depend on the
 * warehouse.  Tampering is done the way an attacker with the file would:
 * drop the append-only triggers, then edit, delete, renumber or swap rows
 * with plain SQL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "aggregator/auditlog.h"
#include "core/text.h"

/* --- fixtures ---------------------------------------------------------- */

static int setup(void **state)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, AUDIT_SCHEMA_SQL, NULL, NULL, NULL), SQLITE_OK);
	*state = db;
	return 0;
}

static int teardown(void **state)
{
	sqlite3_close(*state);
	return 0;
}

static void sql(sqlite3 *db, const char *s)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, s, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		fail_msg("SQL failed: %s: %s", s, err ? err : "?");
}

static int64_t count(sqlite3 *db)
{
	int64_t n = -1;
	diag d = DIAG_INIT;
	assert_int_equal(audit_count(db, &n, &d), 0);
	diag_free(&d);
	return n;
}

/* Append n entries "i=1", "i=2", ... in one transaction. */
static void append_n(sqlite3 *db, int n)
{
	diag d = DIAG_INIT;
	sql(db, "BEGIN IMMEDIATE");
	for (int i = 1; i <= n; i++) {
		char detail[64];
		snprintf(detail, sizeof detail, "i=%d country=DEU rows=%d", i, 10 * i);
		int64_t seq = 0;
		assert_int_equal(audit_append(db, "accept", "submission.load", detail, &seq, &d), 0);
		assert_int_equal(seq, count(db));
	}
	sql(db, "COMMIT");
	diag_free(&d);
}

static void untrigger(sqlite3 *db)
{
	sql(db, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;");
}

/* Verify and check the verdict: problem, first bad seq, and a phrase of
 * the message. */
static void expect_verify(sqlite3 *db, int64_t head_seq, const char *head_hex, int problem,
                          int64_t bad_seq, const char *phrase)
{
	diag d = DIAG_INIT;
	audit_report r;
	int rc = audit_verify(db, head_seq, head_hex, &r, &d);
	if (problem == AUDIT_OK) {
		if (rc != 0)
			fail_msg("expected an intact log, got: %s", r.msg);
		assert_int_equal(r.problem, AUDIT_OK);
		assert_string_equal(r.msg, "");
	} else {
		assert_int_equal(rc, -1);
		if (r.problem != problem)
			fail_msg("expected problem '%s', got '%s': %s", audit_problem_name(problem),
			         audit_problem_name(r.problem), r.msg);
		assert_int_equal(r.bad_seq, bad_seq);
		assert_int_equal(d.code, EX_DATAERR);
		if (phrase && !strstr(r.msg, phrase))
			fail_msg("message '%s' lacks '%s'", r.msg, phrase);
		assert_non_null(strstr(d.msg, r.msg));
	}
	diag_free(&d);
}

/* --- the hash ---------------------------------------------------------- */

/* Known answers computed independently (Python hashlib.blake2b,
 * digest_size=32) over the documented encoding. */
static void test_known_answer(void **state)
{
	(void)state;
	unsigned char zero[32] = {0}, h1[32], h2[32];
	char hex[65];
	const char *ts = "2024-05-01T12:00:00Z", *actor = "accept", *action = "submission.load",
	           *detail = "id=1 country=DEU rows=3";
	audit_entry_hash(1, ts, strlen(ts), actor, strlen(actor), action, strlen(action), detail,
	                 strlen(detail), zero, h1);
	text_hex(h1, 32, hex);
	assert_string_equal(hex, "b573d834afcb91ad43781a7681dcafb9c3ae323cfbdbce26296ff441d6ce9cbf");
	const char *ts2 = "2024-05-01T12:00:05Z", *actor2 = "ops@unodc", *action2 = "key.add";
	audit_entry_hash(2, ts2, strlen(ts2), actor2, strlen(actor2), action2, strlen(action2), "", 0,
	                 h1, h2);
	text_hex(h2, 32, hex);
	assert_string_equal(hex, "d0316842f91f3c8c594dfdd7592a6e954524c8e77ece25e7fc6277a1745fbddd");
}

/* Length prefixes make the encoding unambiguous: moving a byte from one
 * field to the next changes the hash. */
static void test_encoding_unambiguous(void **state)
{
	(void)state;
	unsigned char zero[32] = {0}, a[32], b[32];
	audit_entry_hash(1, "t", 1, "ab", 2, "c", 1, "", 0, zero, a);
	audit_entry_hash(1, "t", 1, "a", 1, "bc", 2, "", 0, zero, b);
	assert_memory_not_equal(a, b, 32);
	audit_entry_hash(2, "t", 1, "ab", 2, "c", 1, "", 0, zero, b);
	assert_memory_not_equal(a, b, 32);
}

/* --- appending ------------------------------------------------------------ */

static void test_chain_links(void **state)
{
	sqlite3 *db = *state;
	append_n(db, 3);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT seq, ts, actor, action, detail, prev_hash, hash "
	                                    "FROM audit ORDER BY seq",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	unsigned char prev[32] = {0};
	int64_t expect = 1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		assert_int_equal(sqlite3_column_int64(st, 0), expect);
		assert_memory_equal(sqlite3_column_blob(st, 5), prev, 32);
		/* recompute independently of the verifier */
		unsigned char h[32];
		const char *f[4];
		for (int i = 0; i < 4; i++)
			f[i] = (const char *)sqlite3_column_text(st, 1 + i);
		assert_int_equal(strlen(f[0]), 20);  /* YYYY-MM-DDTHH:MM:SSZ */
		audit_entry_hash(expect, f[0], strlen(f[0]), f[1], strlen(f[1]), f[2], strlen(f[2]), f[3],
		                 strlen(f[3]), prev, h);
		assert_memory_equal(sqlite3_column_blob(st, 6), h, 32);
		memcpy(prev, h, 32);
		expect++;
	}
	sqlite3_finalize(st);
	assert_int_equal(expect, 4);

	char hex[AUDIT_HEX], want[65];
	int64_t seq;
	diag d = DIAG_INIT;
	assert_int_equal(audit_head(db, &seq, hex, &d), 0);
	text_hex(prev, 32, want);
	assert_int_equal(seq, 3);
	assert_string_equal(hex, want);
	diag_free(&d);
}

static void test_empty_head(void **state)
{
	sqlite3 *db = *state;
	char hex[AUDIT_HEX];
	int64_t seq = -1;
	diag d = DIAG_INIT;
	assert_int_equal(audit_head(db, &seq, hex, &d), 0);
	assert_int_equal(seq, 0);
	assert_string_equal(hex, "0000000000000000000000000000000000000000000000000000000000000000");
	expect_verify(db, 0, NULL, AUDIT_OK, 0, NULL);
	diag_free(&d);
}

static void test_append_needs_transaction(void **state)
{
	sqlite3 *db = *state;
	diag d = DIAG_INIT;
	assert_int_equal(audit_append(db, "accept", "submission.load", "id=1", NULL, &d), -1);
	assert_int_equal(d.code, EX_SOFTWARE);
	assert_non_null(strstr(d.msg, "inside the caller's write transaction"));
	assert_int_equal(count(db), 0);
	diag_free(&d);
}

static void test_rollback_leaves_nothing(void **state)
{
	sqlite3 *db = *state;
	diag d = DIAG_INIT;
	append_n(db, 2);
	sql(db, "BEGIN IMMEDIATE");
	assert_int_equal(audit_append(db, "accept", "submission.load", "id=3", NULL, &d), 0);
	assert_int_equal(count(db), 3);
	sql(db, "ROLLBACK");
	assert_int_equal(count(db), 2);
	expect_verify(db, 0, NULL, AUDIT_OK, 0, NULL);
	diag_free(&d);
}

static void test_detail_shape(void **state)
{
	sqlite3 *db = *state;
	assert_true(audit_valid_detail(""));
	assert_true(audit_valid_detail("id=12 country=DEU periods=2024-Q1,2024-Q2 sha=ab12"));
	assert_true(audit_valid_detail("supersedes="));
	assert_false(audit_valid_detail("name=John Smith"));     /* a sentence cannot pass */
	assert_false(audit_valid_detail("note='x'"));
	assert_false(audit_valid_detail("a=b  c=d"));
	assert_false(audit_valid_detail("a=b "));
	assert_false(audit_valid_detail("Country=DEU"));
	assert_false(audit_valid_detail("city=M\xc3\xbcnchen"));
	assert_false(audit_valid_detail("a=b\nc=d"));
	assert_false(audit_valid_detail("justtext"));
	assert_true(audit_valid_actor("ops@unodc.org"));
	assert_false(audit_valid_actor("Jane Doe"));
	assert_false(audit_valid_actor(""));
	assert_true(audit_valid_action("submission.load"));
	assert_false(audit_valid_action("Load"));

	diag d = DIAG_INIT;
	sql(db, "BEGIN IMMEDIATE");
	assert_int_equal(audit_append(db, "accept", "submission.load", "name=John Smith", NULL, &d),
	                 -1);
	assert_non_null(strstr(d.msg, "key=value"));
	assert_int_equal(audit_append(db, "Jane Doe", "submission.load", "", NULL, &d), -1);
	assert_int_equal(audit_append(db, "accept", "Bad Action", "", NULL, &d), -1);
	sql(db, "COMMIT");
	assert_int_equal(count(db), 0);
	diag_free(&d);
}

static void test_triggers_block_edits(void **state)
{
	sqlite3 *db = *state;
	append_n(db, 2);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE audit SET detail = 'x=1' WHERE seq = 1", NULL,
	                                  NULL, NULL),
	                     SQLITE_OK);
	assert_non_null(strstr(sqlite3_errmsg(db), "append-only"));
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit WHERE seq = 2", NULL, NULL, NULL),
	                     SQLITE_OK);
	assert_int_equal(count(db), 2);
}

/* --- verification ---------------------------------------------------------- */

static void test_verify_clean(void **state)
{
	sqlite3 *db = *state;
	append_n(db, 8);
	diag d = DIAG_INIT;
	audit_report r;
	assert_int_equal(audit_verify(db, 0, NULL, &r, &d), 0);
	assert_int_equal(r.n_entries, 8);
	assert_int_equal(r.last_seq, 8);
	char hex[AUDIT_HEX];
	int64_t seq;
	assert_int_equal(audit_head(db, &seq, hex, &d), 0);
	assert_string_equal(r.head_hex, hex);

	/* the published head, with and without its seq */
	assert_int_equal(audit_verify(db, 8, hex, &r, &d), 0);
	assert_int_equal(r.head_found_at, 8);
	assert_int_equal(audit_verify(db, 0, hex, &r, &d), 0);
	assert_int_equal(r.head_found_at, 8);

	/* a head published earlier: the log has grown since, still fine */
	append_n(db, 3);
	assert_int_equal(audit_verify(db, 8, hex, &r, &d), 0);
	assert_int_equal(r.head_found_at, 8);
	assert_int_equal(r.n_entries, 11);
	diag_free(&d);
}

static void test_verify_edited(void **state)
{
	sqlite3 *db = *state;
	append_n(db, 8);
	untrigger(db);
	sql(db, "UPDATE audit SET detail = 'i=4 country=FRA rows=40' WHERE seq = 4");
	expect_verify(db, 0, NULL, AUDIT_EDITED, 4, "entry 4 was edited");
}

static void test_verify_edited_timestamp(void **state)
{
	sqlite3 *db = *state;
	append_n(db, 5);
	untrigger(db);
	sql(db, "UPDATE audit SET ts = '1999-01-01T00:00:00Z' WHERE seq = 2");
	expect_verify(db, 0, NULL, AUDIT_EDITED, 2, "entry 2 was edited");
}

static void test_verify_deleted(void **state)
{
	sqlite3 *db = *state;
	append_n(db, 8);
	untrigger(db);
	sql(db, "DELETE FROM audit WHERE seq = 4");
	expect_verify(db, 0, NULL, AUDIT_DELETED, 4, "entry 4 is missing");
}

static void test_verify_deleted_range(void **state)
{
	sqlite3 *db = *state;
	append_n(db, 8);
	untrigger(db);
	sql(db, "DELETE FROM audit WHERE seq IN (3, 4, 5)");
	expect_verify(db, 0, NULL, AUDIT_DELETED, 3, "entries 3 to 5 are missing");
}

static void test_verify_deleted_first(void **state)
{
	sqlite3 *db = *state;
	append_n(db, 4);
	untrigger(db);
	sql(db, "DELETE FROM audit WHERE seq = 1");
	expect_verify(db, 0, NULL, AUDIT_DELETED, 1, "entry 1 is missing");
}

/* Deleting an entry and renumbering the later ones closes the seq gap;
 * the hashes (which cover seq) still tell. */
static void test_verify_deleted_renumbered(void **state)
{
	sqlite3 *db = *state;
	append_n(db, 8);
	untrigger(db);
	sql(db, "DELETE FROM audit WHERE seq = 4");
	for (int s = 5; s <= 8; s++) {
		char q[80];
		snprintf(q, sizeof q, "UPDATE audit SET seq = %d WHERE seq = %d", s - 1, s);
		sql(db, q);
	}
	expect_verify(db, 0, NULL, AUDIT_DELETED, 4, "renumbered");
}

static void test_verify_reordered(void **state)
{
	sqlite3 *db = *state;
	append_n(db, 8);
	untrigger(db);
	/* swap entries 4 and 5 */
	sql(db, "UPDATE audit SET seq = 100 WHERE seq = 4");
	sql(db, "UPDATE audit SET seq = 4 WHERE seq = 5");
	sql(db, "UPDATE audit SET seq = 5 WHERE seq = 100");
	expect_verify(db, 0, NULL, AUDIT_REORDERED, 4, "entry 4 was written as entry 5");
}

static void test_verify_reordered_far(void **state)
{
	sqlite3 *db = *state;
	append_n(db, 8);
	untrigger(db);
	/* swap entries 2 and 7 */
	sql(db, "UPDATE audit SET seq = 100 WHERE seq = 2");
	sql(db, "UPDATE audit SET seq = 2 WHERE seq = 7");
	sql(db, "UPDATE audit SET seq = 7 WHERE seq = 100");
	expect_verify(db, 0, NULL, AUDIT_REORDERED, 2, "entry 2 was written as entry 7");
}

/* An attacker who edits an entry and recomputes its hash breaks the link
 * from the next entry. */
static void test_verify_rehashed(void **state)
{
	sqlite3 *db = *state;
	append_n(db, 8);
	untrigger(db);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT ts, actor, action, prev_hash FROM audit "
	                                    "WHERE seq = 4",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	const char *ts = (const char *)sqlite3_column_text(st, 0);
	const char *actor = (const char *)sqlite3_column_text(st, 1);
	const char *action = (const char *)sqlite3_column_text(st, 2);
	const char *detail = "i=4 country=FRA rows=0";
	unsigned char h[32];
	audit_entry_hash(4, ts, strlen(ts), actor, strlen(actor), action, strlen(action), detail,
	                 strlen(detail), sqlite3_column_blob(st, 3), h);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "UPDATE audit SET detail = ?1, hash = ?2 WHERE seq = 4",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	sqlite3_bind_text(st, 1, detail, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, h, 32, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	expect_verify(db, 0, NULL, AUDIT_BROKEN_LINK, 5, "entry 5 does not follow entry 4");
}

static void test_verify_malformed(void **state)
{
	sqlite3 *db = *state;
	append_n(db, 4);
	untrigger(db);
	sql(db, "UPDATE audit SET actor = X'00ff' WHERE seq = 3");
	expect_verify(db, 0, NULL, AUDIT_MALFORMED, 3, "field actor");
}

/* Deleting the newest entries leaves a valid chain: only the published
 * head catches it. */
static void test_verify_truncated_tail(void **state)
{
	sqlite3 *db = *state;
	append_n(db, 8);
	char hex[AUDIT_HEX];
	int64_t seq;
	diag d = DIAG_INIT;
	assert_int_equal(audit_head(db, &seq, hex, &d), 0);
	untrigger(db);
	sql(db, "DELETE FROM audit WHERE seq >= 7");
	expect_verify(db, 0, NULL, AUDIT_OK, 0, NULL);
	expect_verify(db, seq, hex, AUDIT_HEAD_MISMATCH, 7, "log ends at entry 6");
	expect_verify(db, 0, hex, AUDIT_HEAD_MISMATCH, 0, "not in the log");
	/* ...and re-appending to reach seq 8 again does not help */
	append_n(db, 2);
	expect_verify(db, seq, hex, AUDIT_HEAD_MISMATCH, 8, "entry 8 is not the published head");
	expect_verify(db, seq, "not-hex", AUDIT_HEAD_MISMATCH, 0, "64 hex");
	diag_free(&d);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_encoding_unambiguous),
		cmocka_unit_test_setup_teardown(test_chain_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_needs_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detail_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_triggers_block_edits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_edited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_edited_timestamp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_deleted_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_deleted_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_deleted_renumbered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_reordered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_reordered_far, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_rehashed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_truncated_tail, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
