/* Unit tests for the small core modules: text, hmap, period, extsort,
 * diag, atomic.  Expected values are worked out by hand in each test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "core/atomic.h"
#include "core/diag.h"
#include "core/extsort.h"
#include "core/hmap.h"
#include "core/period.h"
#include "core/sha256.h"
#include "core/sqlx.h"
#include "core/strbuf.h"
#include "core/text.h"
#include "core/vec.h"

static void test_text_norm(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(text_norm("  Forced   Labour ", 18, out, sizeof out), 13);
	assert_string_equal(out, "forced labour");
	text_norm("\tÉTÉ Ü\n", strlen("\tÉTÉ Ü\n"), out, sizeof out);
	assert_string_equal(out, "été ü");
	text_norm("×", strlen("×"), out, sizeof out); /* U+00D7 has no lower case */
	assert_string_equal(out, "×");
	assert_int_equal(text_norm("   ", 3, out, sizeof out), 0);
	assert_string_equal(out, "");
	/* truncation keeps the buffer terminated */
	assert_int_equal(text_norm("abcdef", 6, out, 4), 3);
	assert_string_equal(out, "abc");
}

static void test_text_utf8(void **state)
{
	(void)state;
	size_t at = 99;
	assert_true(text_utf8_valid("abc", 3, &at));
	assert_true(text_utf8_valid("Gößnitz", strlen("Gößnitz"), &at));
	assert_false(text_utf8_valid("ab\xff", 3, &at));
	assert_int_equal(at, 2);
	assert_false(text_utf8_valid("a\xc0\x80", 3, &at)); /* overlong NUL */
	assert_int_equal(at, 1);
	assert_false(text_utf8_valid("\xed\xa0\x80", 3, &at)); /* surrogate */
	assert_false(text_utf8_valid("\xe2\x82", 2, &at));     /* truncated */
	assert_int_equal(text_utf8_len("añb", strlen("añb")), 3);
	char out[16];
	assert_int_equal(text_latin1_to_utf8("\xe9t\xe9", 3, out), 5);
	assert_string_equal(out, "été");
}

static void test_text_misc(void **state)
{
	(void)state;
	assert_int_equal(text_edit_distance("female", "femal", 9), 1);
	assert_int_equal(text_edit_distance("sex", "lab", 9), 3);
	assert_int_equal(text_edit_distance("kitten", "sitting", 9), 3);
	assert_int_equal(text_edit_distance("abcdef", "uvwxyz", 2), 2); /* capped */
	char q[12];
	text_quote("a\nb", 3, q, sizeof q);
	assert_string_equal(q, "a?b");
	text_quote("abcdefghijklmnop", 16, q, sizeof q);
	assert_string_equal(q, "abcdefgh...");
	char hex[9];
	text_hex((const unsigned char *)"\x01\xab\xff\x00", 4, hex);
	assert_string_equal(hex, "01abff00");
	/* FNV-1a of "a" is a published test vector */
	assert_true(text_hash("a", 1) == 0xaf63dc4c8601ec8cULL);
}

static void test_hmap(void **state)
{
	(void)state;
	hmap h;
	hmap_init(&h);
	int64_t v;
	assert_int_equal(hmap_get(&h, "x", 1, &v), 0);
	char key[16];
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(key, sizeof key, "k%d", i);
		assert_int_equal(hmap_put(&h, key, (size_t)n, i * 3, NULL), 0);
	}
	assert_int_equal(h.n, 5000);
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(key, sizeof key, "k%d", i);
		assert_int_equal(hmap_get(&h, key, (size_t)n, &v), 1);
		assert_int_equal(v, i * 3);
	}
	int64_t old = 0;
	assert_int_equal(hmap_put(&h, "k7", 2, 99, &old), 1);
	assert_int_equal(old, 21);
	assert_int_equal(hmap_get(&h, "k7", 2, &v), 1);
	assert_int_equal(v, 21); /* unchanged */
	/* keys are byte strings: a prefix is another key */
	assert_int_equal(hmap_get(&h, "k", 1, &v), 0);
	assert_int_equal(hmap_put(&h, "", 0, -5, NULL), 0);
	assert_int_equal(hmap_get(&h, "", 0, &v), 1);
	assert_int_equal(v, -5);
	size_t it = 0, count = 0;
	while (hmap_next(&h, &it, NULL, NULL, NULL))
		count++;
	assert_int_equal(count, 5001);
	hmap_free(&h);
}

static void test_period_parse(void **state)
{
	(void)state;
	assert_int_equal(period_parse("2024-Q1", 7), 20241);
	assert_int_equal(period_parse("2024Q4", 6), 20244);
	assert_int_equal(period_parse("Q3 2019", 7), 20193);
	assert_int_equal(period_parse("2019 q2", 7), 20192);
	assert_int_equal(period_parse(" 2021 ", 6), 20210);
	assert_int_equal(period_parse("2024-Q5", 7), -1);
	assert_int_equal(period_parse("2024-Q0", 7), -1);
	assert_int_equal(period_parse("24-Q1", 5), -1);
	assert_int_equal(period_parse("1850", 4), -1);
	assert_int_equal(period_parse("", 0), -1);
	char buf[8];
	period_format(20243, buf);
	assert_string_equal(buf, "2024-Q3");
	period_format(20190, buf);
	assert_string_equal(buf, "2019");
	/* annual sorts before its quarters, quarters in order */
	assert_true(period_parse("2020", 4) < period_parse("2020-Q1", 7));
	assert_true(period_parse("2020-Q4", 7) < period_parse("2021", 4));
}

static void test_period_dates(void **state)
{
	(void)state;
	int y, m, d;
	assert_int_equal(period_parse_date("29.02.2024", 10, "DD.MM.YYYY", &y, &m, &d), 0);
	assert_int_equal(y * 10000 + m * 100 + d, 20240229);
	assert_int_equal(period_parse_date("29.02.2023", 10, "DD.MM.YYYY", &y, &m, &d), -1);
	assert_int_equal(period_parse_date("2100-02-29", 10, "YYYY-MM-DD", &y, &m, &d), -1);
	assert_int_equal(period_parse_date("2000-02-29", 10, "YYYY-MM-DD", &y, &m, &d), 0);
	assert_int_equal(period_parse_date("3/7/2022", 8, "M/D/YYYY", &y, &m, &d), 0);
	assert_int_equal(m * 100 + d, 307);
	assert_int_equal(period_parse_date("20221231", 8, "YYYYMMDD", &y, &m, &d), 0);
	assert_int_equal(period_parse_date("2022-12-31x", 11, "YYYY-MM-DD", &y, &m, &d), -1);
	assert_int_equal(period_parse_date("31/04/2022", 10, "DD/MM/YYYY", &y, &m, &d), -1);
	assert_int_equal(period_check_format("DD.MM.YYYY"), 0);
	assert_int_equal(period_check_format("DD.MM.YY"), -1);
	assert_int_equal(period_check_format("YYYY-MM"), -1);
	assert_int_equal(period_check_format("DD-MM-YYYY Q"), -1);
	/* birthday on the reference day counts; the day before does not */
	assert_int_equal(period_age_years(2006, 5, 10, 2024, 5, 10), 18);
	assert_int_equal(period_age_years(2006, 5, 10, 2024, 5, 9), 17);
	period_end_date(20241, &y, &m, &d);
	assert_int_equal(y * 10000 + m * 100 + d, 20240331);
	period_end_date(20240, &y, &m, &d);
	assert_int_equal(y * 10000 + m * 100 + d, 20241231);
}

static void check_sorted_run(size_t mem, size_t n_items)
{
	diag d;
	diag_init(&d, 10);
	extsort *s;
	assert_int_equal(extsort_new(mem, &s, &d), 0);
	/* items "vNNNNNN" in a scrambled order (multiplicative permutation),
	 * each twice with a suffix so stability can be checked */
	char buf[32];
	for (size_t i = 0; i < n_items; i++) {
		size_t k = (i * 7919) % n_items;
		int n = snprintf(buf, sizeof buf, "v%07zu%c", k, 'a');
		buf[n - 1] = '\0'; /* strip the suffix: sort key only */
		memcpy(buf + n, "", 1);
		assert_int_equal(extsort_add(s, buf, (size_t)n - 1, &d), 0);
	}
	assert_int_equal(extsort_finish(s, &d), 0);
	const void *it;
	size_t len, count = 0;
	char prev[32] = "";
	int rc;
	while ((rc = extsort_next(s, &it, &len, &d)) == 1) {
		char cur[32];
		memcpy(cur, it, len);
		cur[len] = '\0';
		assert_true(strcmp(prev, cur) <= 0);
		strcpy(prev, cur);
		count++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(count, n_items);
	if (mem < n_items * 8)
		assert_true(extsort_runs(s) > 1);
	extsort_free(s);
	diag_free(&d);
}

static void test_extsort(void **state)
{
	(void)state;
	check_sorted_run(1 << 20, 1000);     /* in memory */
	check_sorted_run(65536, 100003);     /* many spilled runs */
}

/* Against a reference: random short items over a 4-letter alphabet with
 * NUL and 0xff (shared prefixes, prefixes of each other, many equal
 * items), in memory and spilled; the order must be memcmp on the common
 * prefix, shorter first, then insertion order. */
typedef struct ref_item {
	unsigned char b[12];
	size_t n, idx;
} ref_item;

static int ref_cmp(const void *x, const void *y)
{
	const ref_item *a = x, *b = y;
	int c = memcmp(a->b, b->b, a->n < b->n ? a->n : b->n);
	if (c)
		return c;
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static void test_extsort_reference(void **state)
{
	(void)state;
	static const unsigned char alpha[] = {0x00, 0x01, 'a', 0xff};
	enum { N = 30000 };
	ref_item *items = malloc(N * sizeof *items);
	assert_non_null(items);
	uint64_t x = 12345;
	for (int pass = 0; pass < 2; pass++) {
		diag d;
		diag_init(&d, 10);
		extsort *s;
		assert_int_equal(extsort_new(pass ? 65536 : 1 << 24, &s, &d), 0);
		for (size_t i = 0; i < N; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			items[i].n = (size_t)(x >> 60) % 13;
			for (size_t k = 0; k < items[i].n; k++)
				items[i].b[k] = alpha[(x >> (2 * k + 8)) & 3];
			/* the tag after the key makes equal keys distinguishable,
			 * but it is not part of the item */
			items[i].idx = i;
			assert_int_equal(extsort_add(s, items[i].b, items[i].n, &d), 0);
		}
		assert_int_equal(extsort_finish(s, &d), 0);
		if (pass)
			assert_true(extsort_runs(s) > 1);
		qsort(items, N, sizeof *items, ref_cmp);
		const void *it;
		size_t len;
		for (size_t i = 0; i < N; i++) {
			assert_int_equal(extsort_next(s, &it, &len, &d), 1);
			assert_int_equal(len, items[i].n);
			assert_memory_equal(it, items[i].b, len);
		}
		assert_int_equal(extsort_next(s, &it, &len, &d), 0);
		extsort_free(s);
		diag_free(&d);
	}
	free(items);
}

static void test_extsort_stable(void **state)
{
	(void)state;
	diag d;
	diag_init(&d, 10);
	extsort *s;
	assert_int_equal(extsort_new(65536, &s, &d), 0);
	/* equal keys must come out in insertion order, across runs: the item
	 * is the key, and the insertion index is recovered from add order */
	const char *keys[] = {"b", "a", "b", "a", "c"};
	for (int round = 0; round < 20000; round++)
		assert_int_equal(extsort_add(s, keys[round % 5], 1, &d), 0);
	assert_int_equal(extsort_finish(s, &d), 0);
	const void *it;
	size_t len, na = 0, nb = 0, nc = 0;
	char last = 0;
	while (extsort_next(s, &it, &len, &d) == 1) {
		char k = *(const char *)it;
		assert_true(k >= last);
		last = k;
		na += k == 'a';
		nb += k == 'b';
		nc += k == 'c';
	}
	assert_int_equal(na, 8000);
	assert_int_equal(nb, 8000);
	assert_int_equal(nc, 4000);
	extsort_free(s);
	diag_free(&d);
}

static void test_diag_cap(void **state)
{
	(void)state;
	diag d;
	diag_init(&d, 3);
	for (int i = 1; i <= 10; i++)
		diag_add(&d, i % 2 ? DIAG_ERROR : DIAG_WARNING, "f.csv", (unsigned long)i, 2,
		         "problem %d", i);
	assert_int_equal(d.n_items, 3);
	assert_int_equal(d.n_errors, 5);
	assert_int_equal(d.n_warnings, 5);
	assert_int_equal(d.n_dropped, 7);
	char line[128];
	diag_format(&d.items[0], line, sizeof line);
	assert_string_equal(line, "f.csv:1:2: error: problem 1");
	diag_format(&d.items[1], line, sizeof line);
	assert_string_equal(line, "f.csv:2:2: warning: problem 2");
	assert_int_equal(diag_fail(&d, EX_DATAERR, "bad %s", "x"), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_string_equal(d.msg, "bad x");
	diag_free(&d);
	assert_int_equal(d.max_items, 3);
}

static void test_atomic(void **state)
{
	(void)state;
	char dir[] = "/tmp/tipstat-atomic-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/out.txt", dir);
	diag d;
	diag_init(&d, 10);
	atomic_file af;
	/* aborted: nothing appears */
	assert_int_equal(atomic_open(path, 0600, &af, &d), 0);
	fputs("partial", af.fp);
	atomic_abort(&af);
	assert_int_equal(access(path, F_OK), -1);
	/* committed: complete file with the requested mode */
	assert_int_equal(atomic_open(path, 0600, &af, &d), 0);
	fputs("complete\n", af.fp);
	assert_int_equal(atomic_commit(&af, &d), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 9);
	/* no temporaries left behind in the directory */
	char cmd[256];
	snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
	assert_int_equal(system(cmd), 0);
	/* a directory that does not exist: EX_CANTCREAT */
	snprintf(path, sizeof path, "%s/nodir/out.txt", dir);
	assert_int_equal(atomic_open(path, 0644, &af, &d), -1);
	assert_int_equal(d.code, EX_CANTCREAT);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	diag_free(&d);
}

/* vec_push: elements zeroed, earlier ones kept across growth, and an
 * impossible size refused with the array untouched. */
typedef struct vec_item { int a; char s[16]; } vec_item;

static void test_vec_push(void **state)
{
	(void)state;
	vec_item *v = NULL;
	size_t n = 0, cap = 0;
	for (int i = 0; i < 1000; i++) {
		vec_item *e = vec_push(&v, &n, &cap, sizeof *e);
		assert_non_null(e);
		assert_int_equal(e->a, 0);
		assert_int_equal(e->s[0], 0);
		e->a = i;
		snprintf(e->s, sizeof e->s, "item%d", i);
	}
	assert_int_equal(n, 1000);
	assert_true(cap >= 1000 && cap < 2000);
	for (int i = 0; i < 1000; i++) {
		char want[16];
		snprintf(want, sizeof want, "item%d", i);
		assert_int_equal(v[i].a, i);
		assert_string_equal(v[i].s, want);
	}
	/* a full array whose doubling would overflow size_t */
	size_t big_n = 4, big_cap = 4;
	vec_item *keep = v;
	assert_null(vec_push(&v, &big_n, &big_cap, SIZE_MAX / 4));
	assert_ptr_equal(v, keep);
	assert_int_equal(big_n, 4);
	assert_int_equal(big_cap, 4);
	free(v);
}

/* strbuf: appends, formatting longer than the stack buffer, JSON escaping,
 * shortest round-trip doubles, and a sticky out-of-memory flag. */
static void test_strbuf(void **state)
{
	(void)state;
	strbuf b = {0};
	strbuf_puts(&b, "a,");
	strbuf_put(&b, "bcd", 2);
	char big[600];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	strbuf_printf(&b, "|%s|", big);
	assert_int_equal(b.n, 4 + 2 + 599);
	assert_int_equal(strncmp(b.s, "a,bc|x", 6), 0);
	assert_int_equal(b.s[b.n - 1], '|');
	strbuf_free(&b);
	strbuf_json(&b, "q\"\\\n\t\x01z");
	assert_string_equal(b.s, "\"q\\\"\\\\\\n\\t\\u0001z\"");
	strbuf_free(&b);
	strbuf_double(&b, 0.1);
	strbuf_puts(&b, " ");
	strbuf_double(&b, 1.0 / 3);
	assert_string_equal(b.s, "0.1 0.3333333333333333"); /* 16 digits read back exactly */
	strbuf_free(&b);
	/* whole numbers in plain digits, never exponent form */
	double whole[] = {50, 3860, -120, 0, 123456789012.0, 2.5e6};
	for (size_t k = 0; k < sizeof whole / sizeof *whole; k++) {
		strbuf_double(&b, whole[k]);
		strbuf_puts(&b, " ");
	}
	assert_string_equal(b.s, "50 3860 -120 0 123456789012 2500000 ");
	strbuf_free(&b);
	strbuf_double(&b, 3861.5);
	assert_string_equal(b.s, "3861.5");
	diag d = DIAG_INIT;
	assert_int_equal(strbuf_ok(&b, &d), 0);
	b.oom = 1;
	size_t before = b.n;
	strbuf_puts(&b, "more");
	assert_int_equal(b.n, before);
	assert_int_equal(strbuf_ok(&b, &d), -1);
	assert_int_equal(d.code, EX_OSERR);
	strbuf_free(&b);
	diag_free(&d);
}

/* sqlx: transactions commit and roll back, errors are mapped and named. */
static void test_sqlx(void **state)
{
	(void)state;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	diag d = DIAG_INIT;
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlx_begin(db, "test", &d), 0);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO t VALUES(1)", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlx_commit(db, "test", &d), 0);
	assert_int_equal(sqlx_begin(db, "test", &d), 0);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO t VALUES(2)", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlx_rollback(db), -1);
	assert_int_equal(sqlite3_get_autocommit(db), 1);
	assert_int_equal(sqlx_rollback(db), -1); /* no transaction: harmless */
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*), sum(x) FROM t", -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	assert_int_equal(sqlite3_column_int(st, 1), 1);
	sqlite3_finalize(st);
	int rc = sqlite3_exec(db, "INSERT INTO nosuch VALUES(1)", NULL, NULL, NULL);
	assert_int_equal(sqlx_fail(db, rc, "the test table", &d), -1);
	assert_int_equal(d.code, EX_IOERR);
	assert_non_null(strstr(d.msg, "the test table: no such table: nosuch"));
	assert_int_equal(sqlx_code(SQLITE_BUSY), EX_TEMPFAIL);
	assert_int_equal(sqlx_code(SQLITE_READONLY), EX_NOPERM);
	assert_int_equal(sqlx_code(SQLITE_CORRUPT), EX_DATAERR);
	assert_int_equal(sqlx_code(SQLITE_LOCKED), EX_TEMPFAIL);
	assert_int_equal(sqlx_code(SQLITE_PERM), EX_NOPERM);
	assert_int_equal(sqlx_code(SQLITE_NOTADB), EX_DATAERR);
	assert_int_equal(sqlx_code(SQLITE_CONSTRAINT_UNIQUE), EX_DATAERR); /* extended codes too */
	assert_int_equal(sqlx_code(SQLITE_MISMATCH), EX_DATAERR);
	assert_int_equal(sqlx_code(SQLITE_FULL), EX_IOERR);
	assert_int_equal(sqlx_code(SQLITE_IOERR_WRITE), EX_IOERR);
	char ts[SQLX_TS_LEN];
	sqlx_now_utc(ts);
	assert_int_equal(strlen(ts), 20);
	assert_true(ts[4] == '-' && ts[10] == 'T' && ts[19] == 'Z');
	sqlite3_close(db);
	diag_free(&d);
}

/* --- sha256 ------------------------------------------------------------- */

static void sha_hex(sha256_ctx *c, char hex[65])
{
	unsigned char h[32];
	sha256_final(c, h);
	text_hex(h, 32, hex);
}

/* FIPS 180-4 examples (one block, two blocks) and the empty message, on
 * both paths; then the extension path against libsodium on random data cut
 * at random places, every length 0..300 and a 1 MB buffer. */
static void test_sha256(void **state)
{
	(void)state;
	static const char *const msg[] = {
		"", "abc", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"};
	static const char *const want[] = {
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"};
	char hex[65];
	for (int portable = 0; portable <= 1; portable++)
		for (size_t i = 0; i < 3; i++) {
			sha256_ctx c;
			sha256_init(&c, portable);
			sha256_update(&c, msg[i], strlen(msg[i]));
			sha_hex(&c, hex);
			assert_string_equal(hex, want[i]);
		}
	size_t big = 1u << 20;
	unsigned char *buf = malloc(big);
	assert_non_null(buf);
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < big; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (unsigned char)x;
	}
	for (size_t len = 0; len <= 301; len++) {
		size_t n = len == 301 ? big : len;
		unsigned char ref[32];
		char rhex[65];
		crypto_hash_sha256(ref, buf, n);
		text_hex(ref, 32, rhex);
		sha256_ctx c;
		sha256_init(&c, 0);
		size_t off = 0;
		while (off < n) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			size_t k = (size_t)(x % 150);
			if (k > n - off)
				k = n - off;
			sha256_update(&c, buf + off, k);
			off += k;
		}
		sha_hex(&c, hex);
		assert_string_equal(hex, rhex);
	}
	free(buf);
	print_message("sha256: SHA extensions %s\n", sha256_has_ni() ? "used" : "not available");
}

static uint64_t core_rs = 0x2545F4914F6CDD1DULL;
static uint64_t core_rnd(void)
{
	core_rs ^= core_rs << 13;
	core_rs ^= core_rs >> 7;
	core_rs ^= core_rs << 17;
	return core_rs;
}

/* Property: hmap against a naive list, on keys made to trouble a
 * word-at-a-time hash: lengths 0 to 40 (every tail length), long shared
 * prefixes, keys that differ in one byte at any position or only in
 * length, zero bytes inside and at the end. */
static void test_hmap_property(void **state)
{
	(void)state;
	enum { NK = 3000 };
	static char keys[NK][40];
	static size_t lens[NK];
	static int64_t vals[NK];
	size_t nk = 0;
	for (int round = 0; round < 3; round++) {
		hmap h;
		hmap_init(&h);
		nk = 0;
		while (nk < NK) {
			size_t n = core_rnd() % 41;
			char k[40];
			uint64_t kind = core_rnd() % 4;
			if (kind == 0 && nk) {
				/* a known key with one byte changed, or one byte shorter or longer */
				size_t o = core_rnd() % nk;
				n = lens[o];
				memcpy(k, keys[o], n);
				uint64_t how = core_rnd() % 3;
				if (how == 0 && n)
					k[core_rnd() % n] ^= (char)(1 + core_rnd() % 255);
				else if (how == 1 && n)
					n--;
				else if (n < 40)
					k[n++] = (char)(core_rnd() % 3 ? 0 : 'x');
			} else {
				for (size_t i = 0; i < n; i++)
					k[i] = kind == 1 ? (char)(i < n - 1 ? 'a' : 'a' + (int)(core_rnd() % 26))
					                 : (char)(core_rnd() % 256);
			}
			size_t j = 0;
			while (j < nk && !(lens[j] == n && !memcmp(keys[j], k, n)))
				j++;
			int64_t v = (int64_t)(core_rnd() % 1000000) - 500000, old = 0;
			int rc = hmap_put(&h, k, n, v, &old);
			if (j < nk) {
				assert_int_equal(rc, 1);
				assert_int_equal(old, vals[j]);
				continue;
			}
			assert_int_equal(rc, 0);
			memcpy(keys[nk], k, n);
			lens[nk] = n;
			vals[nk++] = v;
		}
		assert_int_equal(h.n, nk);
		for (size_t j = 0; j < nk; j++) {
			int64_t v = 0;
			assert_int_equal(hmap_get(&h, keys[j], lens[j], &v), 1);
			assert_int_equal(v, vals[j]);
		}
		/* absent keys: one byte past a 40-byte key, a changed byte */
		for (int a = 0; a < 2000; a++) {
			char k[41];
			size_t n = core_rnd() % 41;
			for (size_t i = 0; i < n; i++)
				k[i] = (char)(core_rnd() % 256);
			size_t j = 0;
			while (j < nk && !(lens[j] == n && !memcmp(keys[j], k, n)))
				j++;
			assert_int_equal(hmap_get(&h, k, n, NULL), j < nk);
		}
		size_t it = 0, count = 0;
		const char *kp;
		size_t kn;
		int64_t kv;
		while (hmap_next(&h, &it, &kp, &kn, &kv)) {
			int64_t v = 0;
			assert_int_equal(hmap_get(&h, kp, kn, &v), 1);
			assert_int_equal(v, kv);
			count++;
		}
		assert_int_equal(count, nk);
		hmap_free(&h);
	}
}

/* period_parse_date written again as a model: the format cut into tokens
 * first (YYYY, MM, DD, M, D, or one literal byte; longest first), then the
 * input matched token by token, digits taken greedily. */
static int model_parse_date(const char *s, size_t n, const char *fmt, int *y, int *m, int *d)
{
	while (n && (s[0] == ' ' || s[0] == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	int v[3] = {-1, -1, -1};
	size_t i = 0, fl = strlen(fmt), p = 0;
	while (p < fl) {
		int which = -1;
		size_t minw = 0, maxw = 0, tl = 1;
		if (fl - p >= 4 && memcmp(fmt + p, "YYYY", 4) == 0)
			which = 0, minw = maxw = 4, tl = 4;
		else if (fl - p >= 2 && (memcmp(fmt + p, "MM", 2) == 0 || memcmp(fmt + p, "DD", 2) == 0))
			which = fmt[p] == 'M' ? 1 : 2, minw = maxw = 2, tl = 2;
		else if (fmt[p] == 'M' || fmt[p] == 'D')
			which = fmt[p] == 'M' ? 1 : 2, minw = 1, maxw = 2;
		if (which < 0) {
			if (i >= n || s[i] != fmt[p])
				return -1;
			i++;
		} else {
			size_t w = 0;
			int x = 0;
			while (w < maxw && i + w < n && s[i + w] >= '0' && s[i + w] <= '9')
				x = x * 10 + (s[i + w++] - '0');
			if (w < minw)
				return -1;
			v[which] = x;
			i += w;
		}
		p += tl;
	}
	if (i != n || !period_valid_date(v[0], v[1], v[2]))
		return -1;
	*y = v[0];
	*m = v[1];
	*d = v[2];
	return 0;
}

/* Property: period_parse_date agrees with the model on random formats
 * (the real ones and random strings of Y, M, D and separators, cut
 * anywhere, so tokens end at the format's end) and random inputs built
 * to match them or nearly. */
static void test_period_parse_date_model(void **state)
{
	(void)state;
	static const char *fmts[] = {"YYYY-MM-DD", "DD/MM/YYYY", "M/D/YYYY", "YYYYMMDD",
	                             "DD.MM.YYYY", "D-M-YYYY", "YYY-MM-DD", "YYYY-M", "MMDD"};
	static const char alpha[] = "YMD-/. x";
	static const char in_alpha[] = "0123456789-/. \tx";
	int agree_ok = 0;
	for (int it = 0; it < 200000; it++) {
		char fmt[16], s[24];
		if (core_rnd() % 2) {
			const char *f = fmts[core_rnd() % (sizeof fmts / sizeof *fmts)];
			size_t cut = strlen(f) - (core_rnd() % 4 == 0 ? core_rnd() % 3 : 0);
			memcpy(fmt, f, cut);
			fmt[cut] = '\0';
		} else {
			size_t fl = core_rnd() % 12;
			for (size_t i = 0; i < fl; i++)
				fmt[i] = alpha[core_rnd() % (sizeof alpha - 1)];
			fmt[fl] = '\0';
		}
		size_t n = 0;
		if (core_rnd() % 2) {
			/* follow the format, with valid-looking digits */
			if (core_rnd() % 4 == 0)
				s[n++] = ' ';
			int ys = 0; /* Y digits so far: years start "20" */
			for (const char *f = fmt; *f && n < 20; f++) {
				ys = *f == 'Y' ? ys + 1 : 0;
				s[n++] = *f == 'Y' ? (ys == 1 ? '2' : ys == 2 ? '0' : (char)('0' + (int)(core_rnd() % 10)))
				         : (*f == 'M' || *f == 'D') ? (char)('0' + (int)(core_rnd() % 3))
				         : *f;
			}
			if (core_rnd() % 4 == 0 && n < 20)
				s[n++] = (char)('0' + (int)(core_rnd() % 10));
		} else {
			n = core_rnd() % 14;
			for (size_t i = 0; i < n; i++)
				s[i] = in_alpha[core_rnd() % (sizeof in_alpha - 1)];
		}
		int y1 = 0, m1 = 0, d1 = 0, y2 = 0, m2 = 0, d2 = 0;
		int r1 = period_parse_date(s, n, fmt, &y1, &m1, &d1);
		int r2 = model_parse_date(s, n, fmt, &y2, &m2, &d2);
		assert_int_equal(r1, r2);
		if (r1 == 0) {
			assert_int_equal(y1, y2);
			assert_int_equal(m1, m2);
			assert_int_equal(d1, d2);
			agree_ok++;
		}
	}
	assert_true(agree_ok > 1000); /* the inputs do reach valid dates */
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_norm),     cmocka_unit_test(test_text_utf8),
		cmocka_unit_test(test_text_misc),     cmocka_unit_test(test_hmap),
		cmocka_unit_test(test_hmap_property), cmocka_unit_test(test_period_parse_date_model),
		cmocka_unit_test(test_period_parse),  cmocka_unit_test(test_period_dates),
		cmocka_unit_test(test_extsort),       cmocka_unit_test(test_extsort_stable),
		cmocka_unit_test(test_extsort_reference),
		cmocka_unit_test(test_diag_cap),      cmocka_unit_test(test_atomic),
		cmocka_unit_test(test_vec_push),      cmocka_unit_test(test_strbuf),
		cmocka_unit_test(test_sqlx),          cmocka_unit_test(test_sha256),
	};
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
