/* Tests of core/csvr: every decided behaviour with exact lines, columns and
 * messages, the memory bound, resynchronisation, and properties:
 *
 *  - a transcript (records with fields and positions, bad records with
 *    their reason and diagnostics) is the same however the input arrives:
 *    in place from memory, copied in blocks of every size from 1 byte, from
 *    a file, and with or without the quote-free fast path;
 *  - on random inputs the reader agrees with a small reference model of
 *    the documented rules written independently here (byte by byte, no
 *    libcsv), never crashes, and reports positions inside the input;
 *  - random records written out with CSV quoting read back exactly, at the
 *    line and column where the writer put them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sysexits.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/csvr.h"

/* ---- transcripts -------------------------------------------------------- */

typedef struct buf {
	char *s;
	size_t len, cap;
} buf;

static void put(buf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 256;
		while (nc < b->len + n + 1)
			nc *= 2;
		b->s = realloc(b->s, nc);
		assert_non_null(b->s);
		b->cap = nc;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void putf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(buf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Field text with \n \r \t \\ and other control bytes escaped. */
static void put_esc(buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n')
			put(b, "\\n", 2);
		else if (c == '\r')
			put(b, "\\r", 2);
		else if (c == '\t')
			put(b, "\\t", 2);
		else if (c == '\\')
			put(b, "\\\\", 2);
		else if (c < 0x20 || c == 0x7f)
			putf(b, "\\x%02x", c);
		else
			put(b, (const char *)&c, 1);
	}
}

enum { M_DIRECT, M_BLOCKS, M_FILE };

static char *write_temp(const void *in, size_t n)
{
	char *path = strdup("/tmp/test_csvr_XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *fp = fdopen(fd, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(in, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
	return path;
}

static csvr *open_mode(const void *in, size_t n, const csvr_opts *o0, int mode, size_t block,
                       char **tmp, diag *d)
{
	csvr_opts o = o0 ? *o0 : (csvr_opts){0};
	csvr *r = NULL;
	*tmp = NULL;
	if (mode != M_DIRECT)
		o.block_size = block;
	if (mode == M_FILE) {
		*tmp = write_temp(in, n);
		assert_int_equal(csvr_open(*tmp, &o, &r, d), 0);
	} else {
		assert_int_equal(csvr_open_mem(in, n, "t.csv", &o, &r, d), 0);
	}
	return r;
}

typedef struct tstats {
	size_t ok, bad;
	size_t peak;
	uint64_t bytes_read, bytes_total;
} tstats;

/* Read everything and describe it, one line per result:
 *   OK <line>(<n_lines>) [field]<line>:<col>[q] ...
 *   BAD <line>(<n_lines>) <reason>
 * followed by the diagnostics it added, "  <line>:<col>: <sev>: <msg>" (or
 * "  @<line>:<col>" when msgs is 0), then "EOF". */
static char *transcript(const void *in, size_t n, const csvr_opts *o, int mode, size_t block,
                        int msgs, tstats *st)
{
	diag d;
	diag_init(&d, 100000);
	char *tmp;
	csvr *r = open_mode(in, n, o, mode, block, &tmp, &d);
	buf b = {0};
	size_t seen = 0;
	tstats s0 = {0};
	csvr_record rec;
	int rc;
	put(&b, "", 0);
	/* diagnostics added at open (a Latin-1 BOM warning) */
	for (; seen < d.n_items; seen++)
		putf(&b, "  %lu:%lu: %s\n", d.items[seen].line, d.items[seen].col, d.items[seen].msg);
	for (;;) {
		rc = csvr_next(r, &rec, &d);
		if (rc == CSVR_OK) {
			s0.ok++;
			putf(&b, "OK %lu(%lu)", rec.line, rec.n_lines);
			for (size_t i = 0; i < rec.n; i++) {
				assert_int_equal(strlen(rec.f[i].s) <= rec.f[i].len, 1);
				assert_int_equal(rec.f[i].s[rec.f[i].len], '\0');
				put(&b, " [", 2);
				put_esc(&b, rec.f[i].s, rec.f[i].len);
				putf(&b, "]%lu:%lu%s", rec.f[i].line, rec.f[i].col, rec.f[i].quoted ? "q" : "");
			}
			put(&b, "\n", 1);
			assert_null(csvr_bad_reason(r));
		} else if (rc == CSVR_BAD) {
			s0.bad++;
			assert_non_null(csvr_bad_reason(r));
			assert_int_equal(rec.n, 0);
			assert_null(rec.f);
			putf(&b, "BAD %lu(%lu) %s\n", rec.line, rec.n_lines, csvr_bad_reason(r));
		} else if (rc == CSVR_EOF) {
			put(&b, "EOF\n", 4);
		} else {
			putf(&b, "FATAL %s\n", d.msg);
		}
		for (; seen < d.n_items; seen++) {
			const diag_item *it = &d.items[seen];
			if (msgs)
				putf(&b, "  %lu:%lu: %s: %s\n", it->line, it->col,
				     it->severity == DIAG_ERROR ? "error" : "warning", it->msg);
			else
				putf(&b, "  @%lu:%lu\n", it->line, it->col);
		}
		if (rc == CSVR_EOF || rc < 0)
			break;
	}
	/* EOF is sticky */
	assert_int_equal(csvr_next(r, &rec, &d), rc);
	s0.peak = csvr_peak_bytes(r);
	s0.bytes_read = csvr_bytes_read(r);
	s0.bytes_total = csvr_bytes_total(r);
	if (st)
		*st = s0;
	csvr_close(r);
	diag_free(&d);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	return b.s;
}

static void same(const char *what, const char *want, const char *got)
{
	if (strcmp(want, got) != 0) {
		print_error("%s differs\n--- want\n%s--- got\n%s", what, want, got);
		fail();
	}
}

/* The known answer, in every way of reading. */
static void expect_o(const char *in, size_t n, const csvr_opts *o, const char *want)
{
	static const size_t blocks[] = {1, 2, 3, 5, 7, 8, 13, 64, 4096};
	char *got = transcript(in, n, o, M_DIRECT, 0, 1, NULL);
	same("direct", want, got);
	free(got);
	for (size_t i = 0; i < sizeof blocks / sizeof *blocks; i++) {
		got = transcript(in, n, o, M_BLOCKS, blocks[i], 1, NULL);
		same("blocks", want, got);
		free(got);
	}
	got = transcript(in, n, o, M_FILE, 3, 1, NULL);
	same("file", want, got);
	free(got);
	csvr_opts lo = o ? *o : (csvr_opts){0};
	lo.libcsv_only = 1;
	got = transcript(in, n, &lo, M_DIRECT, 0, 1, NULL);
	same("libcsv only", want, got);
	free(got);
}

static void expect(const char *in, const char *want)
{
	expect_o(in, strlen(in), NULL, want);
}

#define MSG_QUOTE "quote character inside an unquoted field (quote the whole field and double the inner quotes)"
#define MSG_AFTER "text after the closing quote of a quoted field"
#define MSG_CR "stray carriage return (a CR not followed by LF, outside quotes)"
#define MSG_UTF8 "invalid UTF-8 (is the file in another encoding, such as Latin-1?)"
#define MSG_NUL "NUL byte in the input"
#define MSG_SPACEQ "quote character after spaces at the start of a field (spaces around fields are kept, so the field is not quoted)"
#define MSG_UNTERM_EOF "unterminated quote: the quoted field opened here is still open at the end of the file"

/* ---- decided behaviours ------------------------------------------------- */

static void test_basic(void **state)
{
	(void)state;
	expect("id,name\n1,Ann\n",
	       "OK 1(1) [id]1:1 [name]1:4\n"
	       "OK 2(1) [1]2:1 [Ann]2:3\n"
	       "EOF\n");
	/* empty fields, last line without newline */
	expect(",\na,\n,b\na,",
	       "OK 1(1) []1:1 []1:2\n"
	       "OK 2(1) [a]2:1 []2:3\n"
	       "OK 3(1) []3:1 [b]3:2\n"
	       "OK 4(1) [a]4:1 []4:3\n"
	       "EOF\n");
	expect("\"a\",\"\"", "OK 1(1) [a]1:1q []1:5q\nEOF\n");
	expect("x,\"y\"\n", "OK 1(1) [x]1:1 [y]1:3q\nEOF\n");
}

/* A long line keeps exact columns, ASCII and not, also when small blocks
 * cut it into pieces. */
static void test_long_line_columns(void **state)
{
	(void)state;
	for (int utf = 0; utf < 2; utf++) {
		buf in = {0}, want = {0};
		put(&want, "OK 1(1)", 7);
		unsigned long col = 1;
		for (int i = 0; i < 3000; i++) {
			char f[32];
			int n = snprintf(f, sizeof f, "%s%d", utf && i % 3 == 0 ? "é" : "f", i * 37 % 1001);
			if (i)
				put(&in, ",", 1);
			put(&in, f, (size_t)n);
			putf(&want, " [%s]1:%lu", f, col);
			col += (unsigned long)n + 1 - (utf && i % 3 == 0 ? 1 : 0);
		}
		put(&in, "\n", 1);
		put(&want, "\nEOF\n", 5);
		expect_o(in.s, in.len, NULL, want.s);
		free(in.s);
		free(want.s);
	}
}

static void test_spaces_kept(void **state)
{
	(void)state;
	expect(" a , b ,\t c\t\n  x\n",
	       "OK 1(1) [ a ]1:1 [ b ]1:5 [\\t c\\t]1:9\n"
	       "OK 2(1) [  x]2:1\n"
	       "EOF\n");
	/* spaces inside quotes are content too */
	expect("\" a \",b\n", "OK 1(1) [ a ]1:1q [b]1:7\nEOF\n");
	/* a space before an opening quote makes the field unquoted */
	expect("a, \"b\"\nc\n",
	       "BAD 1(1) bad quoting\n"
	       "  1:4: error: " MSG_SPACEQ "\n"
	       "OK 2(1) [c]2:1\n"
	       "EOF\n");
	/* and a space after a closing quote is text after it */
	expect("\"a\" ,b\nc\n",
	       "BAD 1(1) bad quoting\n"
	       "  1:4: error: " MSG_AFTER "\n"
	       "OK 2(1) [c]2:1\n"
	       "EOF\n");
}

static void test_blank_lines(void **state)
{
	(void)state;
	expect("a\n\n   \n\t \nb\r\n \r\n\r\nc\n\n",
	       "OK 1(1) [a]1:1\n"
	       "OK 5(1) [b]5:1\n"
	       "OK 8(1) [c]8:1\n"
	       "EOF\n");
	/* leading blank lines, blank last line without newline */
	expect("\n \nx\n  ", "OK 3(1) [x]3:1\nEOF\n");
	/* with a tab delimiter a line of tabs is a record of empty fields */
	csvr_opts o = {.delim = '\t'};
	const char *in = "a\tb\n\t\n \n";
	expect_o(in, strlen(in), &o,
	         "OK 1(1) [a]1:1 [b]1:3\n"
	         "OK 2(1) []2:1 []2:2\n"
	         "EOF\n");
	/* inside a quoted field a blank line is content */
	expect("\"a\n\n  \nb\",c\nd\n",
	       "OK 1(4) [a\\n\\n  \\nb]1:1q [c]4:4\n"
	       "OK 5(1) [d]5:1\n"
	       "EOF\n");
}

static void test_crlf(void **state)
{
	(void)state;
	expect("h1,h2\r\n1,\"x\"\r\n\r\n\"multi\r\nline\",2\r\n3,\"\"\r\n",
	       "OK 1(1) [h1]1:1 [h2]1:4\n"
	       "OK 2(1) [1]2:1 [x]2:3q\n"
	       "OK 4(2) [multi\\r\\nline]4:1q [2]5:7\n"
	       "OK 6(1) [3]6:1 []6:3q\n"
	       "EOF\n");
	/* mixed endings are fine; no newline at the end */
	expect("a\r\nb\nc\r\nd", "OK 1(1) [a]1:1\nOK 2(1) [b]2:1\nOK 3(1) [c]3:1\nOK 4(1) [d]4:1\nEOF\n");
}

static void test_stray_cr(void **state)
{
	(void)state;
	expect("a,b\rc,d\ne,f\n",
	       "BAD 1(1) stray carriage return\n"
	       "  1:4: error: " MSG_CR "\n"
	       "OK 2(1) [e]2:1 [f]2:3\n"
	       "EOF\n");
	/* a CR inside quotes is content, even alone */
	expect("\"a\rb\",c\n", "OK 1(1) [a\\rb]1:1q [c]1:7\nEOF\n");
	/* after a closing quote, at the start of a line, at the end of the file */
	expect("\"a\"\r,b\n\rx\ny\nz\r",
	       "BAD 1(1) stray carriage return\n"
	       "  1:4: error: " MSG_CR "\n"
	       "BAD 2(1) stray carriage return\n"
	       "  2:1: error: " MSG_CR "\n"
	       "OK 3(1) [y]3:1\n"
	       "BAD 4(1) stray carriage return\n"
	       "  4:2: error: " MSG_CR "\n"
	       "EOF\n");
	/* a classic Mac file (CR only) is one line with a stray CR */
	expect("a,b\rc,d\re,f\r",
	       "BAD 1(1) stray carriage return\n"
	       "  1:4: error: " MSG_CR "\n"
	       "EOF\n");
	/* CR CR LF: the first CR is stray */
	expect("a\r\r\nb\n",
	       "BAD 1(1) stray carriage return\n"
	       "  1:2: error: " MSG_CR "\n"
	       "OK 2(1) [b]2:1\n"
	       "EOF\n");
}

static void test_quote_in_unquoted(void **state)
{
	(void)state;
	expect("1,ab\"c,3\n2,x\n",
	       "BAD 1(1) bad quoting\n"
	       "  1:5: error: " MSG_QUOTE "\n"
	       "OK 2(1) [2]2:1 [x]2:3\n"
	       "EOF\n");
	/* the column counts characters, not bytes */
	expect("é,ü\"\n", "BAD 1(1) bad quoting\n  1:4: error: " MSG_QUOTE "\nEOF\n");
}

static void test_text_after_quote(void **state)
{
	(void)state;
	/* libcsv alone reads this as the one field ab"cd,ef */
	expect("\"ab\"cd,ef\",g\nnext\n",
	       "BAD 1(1) bad quoting\n"
	       "  1:5: error: " MSG_AFTER "\n"
	       "OK 2(1) [next]2:1\n"
	       "EOF\n");
	/* after a multi-line quoted field: the position is on its last line */
	expect("1,\"a\nbc\"x\n2\n",
	       "BAD 1(2) bad quoting\n"
	       "  2:4: error: " MSG_AFTER "\n"
	       "OK 3(1) [2]3:1\n"
	       "EOF\n");
}

static void test_quoted_fields(void **state)
{
	(void)state;
	expect("id,text,n\n"
	       "1,\"line one\nline \"\"two\"\"\n\nline four, end\",x\n"
	       "2,\"a,b\",\"\"\"\"\n"
	       "3,plain,y\n",
	       "OK 1(1) [id]1:1 [text]1:4 [n]1:9\n"
	       "OK 2(4) [1]2:1 [line one\\nline \"two\"\\n\\nline four, end]2:3q [x]5:17\n"
	       "OK 6(1) [2]6:1 [a,b]6:3q [\"]6:9q\n"
	       "OK 7(1) [3]7:1 [plain]7:3 [y]7:9\n"
	       "EOF\n");
	/* a field of only a quoted newline, then later lines stay right */
	expect("\"\n\",a\nb\n", "OK 1(2) [\\n]1:1q [a]2:3\nOK 3(1) [b]3:1\nEOF\n");
}

static void test_delims_and_quote(void **state)
{
	(void)state;
	const char *in = "a;\"b;c\";'d'\n";
	csvr_opts o = {.delim = ';'};
	expect_o(in, strlen(in), &o, "OK 1(1) [a]1:1 [b;c]1:3q ['d']1:9\nEOF\n");
	o = (csvr_opts){.delim = '|', .quote = '\''};
	in = "a|'b|''c'|\"d\"\n";
	expect_o(in, strlen(in), &o, "OK 1(1) [a]1:1 [b|'c]1:3q [\"d\"]1:11\nEOF\n");
	o = (csvr_opts){.delim = '\t'};
	in = "a b\t\"c\td\"\t\n";
	expect_o(in, strlen(in), &o, "OK 1(1) [a b]1:1 [c\\td]1:5q []1:11\nEOF\n");
	/* the configured quote is the one that is checked */
	o = (csvr_opts){.quote = '\''};
	in = "it's,x\n";
	expect_o(in, strlen(in), &o,
	         "BAD 1(1) bad quoting\n  1:3: error: " MSG_QUOTE "\nEOF\n");
}

static void test_bom(void **state)
{
	(void)state;
	/* removed at the start of the file only; columns count from after it */
	expect("\xEF\xBB\xBFid,x\n\xEF\xBB\xBF" "a,b\n",
	       "OK 1(1) [id]1:1 [x]1:4\n"
	       "OK 2(1) [\xEF\xBB\xBF" "a]2:1 [b]2:4\n"
	       "EOF\n");
	expect("\xEF\xBB\xBF", "EOF\n");
	expect("\xEF\xBB\xBF\"q\"", "OK 1(1) [q]1:1q\nEOF\n");
	/* a Latin-1 file that starts with a UTF-8 BOM: removed, with a warning */
	csvr_opts o = {.latin1 = 1};
	const char *in = "\xEF\xBB\xBFid\n";
	expect_o(in, strlen(in), &o,
	         "  1:1: the file starts with a UTF-8 byte order mark but is read as Latin-1\n"
	         "OK 1(1) [id]1:1\nEOF\n");
}

static void test_latin1(void **state)
{
	(void)state;
	csvr_opts o = {.latin1 = 1};
	const char *in = "nom,pays\nJos\xE9,C\xF4te d'Ivoire\n\xFF\xE9\"\n";
	expect_o(in, strlen(in), &o,
	         "OK 1(1) [nom]1:1 [pays]1:5\n"
	         "OK 2(1) [José]2:1 [Côte d'Ivoire]2:6\n"
	         "BAD 3(1) bad quoting\n"
	         "  3:3: error: " MSG_QUOTE "\n"
	         "EOF\n");
	/* the same bytes read as UTF-8 are invalid */
	expect(in,
	       "OK 1(1) [nom]1:1 [pays]1:5\n"
	       "BAD 2(1) invalid UTF-8\n"
	       "  2:4: error: " MSG_UTF8 "\n"
	       "BAD 3(1) invalid UTF-8\n"
	       "  3:1: error: " MSG_UTF8 "\n"
	       "EOF\n");
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	expect("é,\xFF,x\nok\n",
	       "BAD 1(1) invalid UTF-8\n  1:3: error: " MSG_UTF8 "\nOK 2(1) [ok]2:1\nEOF\n");
	/* overlong, surrogate, above U+10FFFF, cut short at the end */
	expect("a\xC0\xAF\n\xED\xA0\x80\nb,\xF4\x90\x80\x80\n€\xE2\x82",
	       "BAD 1(1) invalid UTF-8\n  1:2: error: " MSG_UTF8 "\n"
	       "BAD 2(1) invalid UTF-8\n  2:1: error: " MSG_UTF8 "\n"
	       "BAD 3(1) invalid UTF-8\n  3:3: error: " MSG_UTF8 "\n"
	       "BAD 4(1) invalid UTF-8\n  4:2: error: " MSG_UTF8 "\n"
	       "EOF\n");
	/* inside a multi-line quoted field: the position of the byte */
	expect("1,\"ab\nc\xFF\"\n2\n",
	       "BAD 1(2) invalid UTF-8\n  2:2: error: " MSG_UTF8 "\nOK 3(1) [2]3:1\nEOF\n");
	/* valid multi-byte text keeps character columns */
	expect("日本,€x,\"ü\"\n", "OK 1(1) [日本]1:1 [€x]1:4 [ü]1:7q\nEOF\n");
}

static void test_nul(void **state)
{
	(void)state;
	const char in[] = "a,b\0c\nd\n\"\0\"\n";
	expect_o(in, sizeof in - 1, NULL,
	         "BAD 1(1) NUL byte\n  1:4: error: " MSG_NUL "\n"
	         "OK 2(1) [d]2:1\n"
	         "BAD 3(1) NUL byte\n  3:2: error: " MSG_NUL "\n"
	         "EOF\n");
}

static void test_field_too_long(void **state)
{
	(void)state;
	csvr_opts o = {.max_field = 4};
	const char *in = "abcd,abcde,x\nok\n\"abcde\",x\n\"ab\"\"cd\",y\n";
	expect_o(in, strlen(in), &o,
	         "BAD 1(1) field too long\n  1:6: error: field longer than 4 bytes\n"
	         "OK 2(1) [ok]2:1\n"
	         "BAD 3(1) field too long\n  3:1: error: field longer than 4 bytes\n"
	         "BAD 4(1) field too long\n  4:1: error: field longer than 4 bytes\n"
	         "EOF\n");
	/* the limit counts the field's bytes, not the quotes around it */
	in = "\"abcd\",\"a\"\"b\"\n";
	expect_o(in, strlen(in), &o, "OK 1(1) [abcd]1:1q [a\"b]1:8q\nEOF\n");
	/* too long and then a bad byte on the same line: the first problem wins */
	in = "abcdefgh\xFF\n";
	expect_o(in, strlen(in), &o,
	         "BAD 1(1) field too long\n  1:1: error: field longer than 4 bytes\nEOF\n");
}

static void test_unterminated(void **state)
{
	(void)state;
	/* detected once the open field passes max_field, reported where it
	 * opened, reading resumes on the line after that one */
	csvr_opts o = {.max_field = 16};
	const char *in = "a,b\n1,\"open\n2,x\n3,y\n4,z\n5,w\n6,v\n";
	expect_o(in, strlen(in), &o,
	         "OK 1(1) [a]1:1 [b]1:3\n"
	         "BAD 2(1) unterminated quote\n"
	         "  2:3: error: unterminated quote: the quoted field opened here is still open "
	         "after 16 bytes; reading resumes on the next line\n"
	         "OK 3(1) [2]3:1 [x]3:3\n"
	         "OK 4(1) [3]4:1 [y]4:3\n"
	         "OK 5(1) [4]5:1 [z]5:3\n"
	         "OK 6(1) [5]6:1 [w]6:3\n"
	         "OK 7(1) [6]7:1 [v]7:3\n"
	         "EOF\n");
	/* at the end of the file */
	expect("a\n\"x,y\nb,c\n",
	       "OK 1(1) [a]1:1\n"
	       "BAD 2(1) unterminated quote\n  2:1: error: " MSG_UNTERM_EOF "\n"
	       "OK 3(1) [b]3:1 [c]3:3\n"
	       "EOF\n");
	expect("a,\"x", "BAD 1(1) unterminated quote\n  1:3: error: " MSG_UNTERM_EOF "\nEOF\n");
	/* a record that began on an earlier line */
	expect("1,\"a\nb\",\"c\nd\n",
	       "BAD 1(2) unterminated quote\n  2:4: error: " MSG_UNTERM_EOF "\n"
	       "OK 3(1) [d]3:1\n"
	       "EOF\n");
	/* a long quoted field on one line is "too long", not unterminated */
	o.max_field = 4;
	in = "\"abcdefgh\",x\nz\n";
	expect_o(in, strlen(in), &o,
	         "BAD 1(1) field too long\n  1:1: error: field longer than 4 bytes\n"
	         "OK 2(1) [z]2:1\nEOF\n");
}

static void test_too_many_fields(void **state)
{
	(void)state;
	csvr_opts o = {.max_fields = 3};
	const char *in = "a,b,c\na,b,c,d\n\"a\",b,c,\"d\"\nx,y\n";
	expect_o(in, strlen(in), &o,
	         "OK 1(1) [a]1:1 [b]1:3 [c]1:5\n"
	         "BAD 2(1) too many fields\n  2:7: error: record has more than 3 fields\n"
	         "BAD 3(1) too many fields\n  3:9: error: record has more than 3 fields\n"
	         "OK 4(1) [x]4:1 [y]4:3\n"
	         "EOF\n");
}

static void test_record_too_long(void **state)
{
	(void)state;
	csvr_opts o = {.max_record = 10};
	const char *in = "aaaa,bbbb,cccc\nok\n\"a\nb\",cccccccc\nshort,1\n";
	expect_o(in, strlen(in), &o,
	         "BAD 1(1) record too long\n  1:1: error: record longer than 10 bytes\n"
	         "OK 2(1) [ok]2:1\n"
	         "BAD 3(2) record too long\n  3:1: error: record longer than 10 bytes\n"
	         "OK 5(1) [short]5:1 [1]5:7\n"
	         "EOF\n");
}

static void test_empty_inputs(void **state)
{
	(void)state;
	expect("", "EOF\n");
	expect("\n\n  \n\t\r\n", "EOF\n");
	expect("a,b", "OK 1(1) [a]1:1 [b]1:3\nEOF\n");
	expect("a,b\n", "OK 1(1) [a]1:1 [b]1:3\nEOF\n");
	tstats st;
	char *t = transcript("", 0, NULL, M_FILE, 0, 1, &st);
	same("empty file", "EOF\n", t);
	free(t);
	assert_int_equal(st.bytes_total, 0);
}

static void test_messages_never_quote_content(void **state)
{
	(void)state;
	const char in[] = "SECRET1\"x\n\"SECRET2\"SECRET3\nSECRET4\r5\nSECRET6\0\nSECRET7\xFF\n"
	                  "\"SECRET8\nSECRET9";
	diag d = DIAG_INIT;
	csvr *r;
	csvr_opts o = {.max_field = 3, .max_fields = 1};
	assert_int_equal(csvr_open_mem(in, sizeof in - 1, "t.csv", NULL, &r, &d), 0);
	csvr_record rec;
	int rc, nbad = 0, nok = 0;
	while ((rc = csvr_next(r, &rec, &d)) != CSVR_EOF) {
		assert_true(rc == CSVR_BAD || rc == CSVR_OK);
		nbad += rc == CSVR_BAD;
		nok += rc == CSVR_OK;
	}
	assert_int_equal(nok, 1); /* SECRET9, read again after the unterminated quote */
	csvr_close(r);
	assert_int_equal(csvr_open_mem("SECRETA,SECRETB\n", 16, "t.csv", &o, &r, &d), 0);
	assert_int_equal(csvr_next(r, &rec, &d), CSVR_BAD);
	csvr_close(r);
	assert_int_equal(nbad, 6);
	assert_int_equal(d.n_items, 7);
	for (size_t i = 0; i < d.n_items; i++) {
		char line[600];
		diag_format(&d.items[i], line, sizeof line);
		assert_null(strstr(line, "SECRET"));
		assert_null(strstr(line, "ECR"));
		assert_non_null(strstr(line, "t.csv:"));
	}
	/* compiler style */
	char first[600];
	diag_format(&d.items[0], first, sizeof first);
	assert_string_equal(first, "t.csv:1:8: error: " MSG_QUOTE);
	diag_free(&d);
}

static void test_reasons(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t n;
		const char *reason;
	} cases[] = {
		{"a\"b\n", 4, "bad quoting"},
		{"a\rb\n", 4, "stray carriage return"},
		{"abcdef\n", 7, "field too long"},
		{"\xFF\n", 2, "invalid UTF-8"},
		{"a\0\n", 3, "NUL byte"},
		{"a,b,c\n", 6, "too many fields"},
		{"\"abc", 4, "unterminated quote"},
		{"a,b,\nc\n", 7, "record too long"},
	};
	csvr_opts o = {.max_field = 5, .max_fields = 2, .max_record = 4};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		diag d = DIAG_INIT;
		csvr *r;
		csvr_record rec;
		csvr_opts oi = o;
		if (i == 7)
			oi.max_fields = 9;
		assert_int_equal(csvr_open_mem(cases[i].in, cases[i].n, "t", &oi, &r, &d), 0);
		assert_int_equal(csvr_next(r, &rec, &d), CSVR_BAD);
		assert_string_equal(csvr_bad_reason(r), cases[i].reason);
		assert_int_equal(d.n_errors, 1);
		csvr_close(r);
		diag_free(&d);
	}
}

/* Reading a piece of a file (ingest's chunks): a first line number, a
 * BOM that is content, a record left open at the end of a chunk handed
 * back with its offset and line, a start offset in a file, positions. */
static void test_chunk_options(void **state)
{
	(void)state;
	diag d;
	diag_init(&d, 10);
	csvr *r;
	csvr_record rec;
	uint64_t off;
	unsigned long line;
	/* a chunk from line 10 on; its last record goes on after the end */
	static const char chunk[] = "\xEF\xBB\xBF" "a,b\r\nc,\"x\ny\"\n\"open\nmore,d\n";
	csvr_opts o = {.first_line = 10, .no_bom = 1, .more_follows = 1};
	assert_int_equal(csvr_open_mem(chunk, sizeof chunk - 1, "f.csv", &o, &r, &d), 0);
	csvr_position(r, &off, &line);
	assert_int_equal(off, 0);
	assert_int_equal(line, 10);
	assert_int_equal(csvr_next(r, &rec, &d), CSVR_OK);
	assert_int_equal(rec.line, 10);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.f[0].len, 4); /* the BOM is content here */
	assert_memory_equal(rec.f[0].s, "\xEF\xBB\xBF" "a", 4);
	assert_int_equal(rec.f[1].col, 4); /* the BOM is one character */
	csvr_position(r, &off, &line);
	assert_int_equal(off, 8);
	assert_int_equal(line, 11);
	assert_int_equal(csvr_next(r, &rec, &d), CSVR_OK);
	assert_int_equal(rec.line, 11);
	assert_int_equal(rec.n_lines, 2);
	assert_string_equal(rec.f[1].s, "x\ny");
	assert_int_equal(csvr_tail(r, &off, &line), 0);
	assert_int_equal(csvr_next(r, &rec, &d), CSVR_EOF);
	assert_int_equal(csvr_tail(r, &off, &line), 1);
	assert_int_equal(off, 16); /* the opening quote of "open */
	assert_int_equal(line, 13);
	assert_int_equal(d.n_items, 0); /* not reported: read again with more */
	csvr_close(r);

	/* the same bytes as the end of a file: the open quote is an error */
	o.more_follows = 0;
	assert_int_equal(csvr_open_mem(chunk, sizeof chunk - 1, "f.csv", &o, &r, &d), 0);
	int rc, bad = 0;
	while ((rc = csvr_next(r, &rec, &d)) != CSVR_EOF)
		bad += rc == CSVR_BAD;
	assert_int_equal(bad, 1);
	assert_int_equal(d.n_errors, 1);
	assert_int_equal(d.items[0].line, 13);
	assert_int_equal(csvr_tail(r, &off, &line), 0);
	csvr_close(r);

	/* a chunk that ends without a newline hands its last line back */
	o.more_follows = 1;
	assert_int_equal(csvr_open_mem("a,b\nc,d", 7, "f.csv", &o, &r, &d), 0);
	assert_int_equal(csvr_next(r, &rec, &d), CSVR_OK);
	assert_int_equal(csvr_next(r, &rec, &d), CSVR_EOF);
	assert_int_equal(csvr_tail(r, &off, &line), 1);
	assert_int_equal(off, 4);
	assert_int_equal(line, 11);
	csvr_close(r);

	/* a file read from an offset: positions count from the file's start */
	char path[] = "/tmp/tipstat-csvr-chunk-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char file[] = "\xEF\xBB\xBFh1,h2\nx,1\ny,2\n";
	assert_int_equal(write(fd, file, sizeof file - 1), (ssize_t)(sizeof file - 1));
	close(fd);
	csvr_opts fo = {.offset = 13, .first_line = 3, .no_bom = 1};
	assert_int_equal(csvr_open(path, &fo, &r, &d), 0);
	assert_int_equal(csvr_next(r, &rec, &d), CSVR_OK);
	assert_int_equal(rec.line, 3);
	assert_string_equal(rec.f[0].s, "y");
	csvr_position(r, &off, &line);
	assert_int_equal(off, sizeof file - 1);
	assert_int_equal(line, 4);
	assert_int_equal(csvr_next(r, &rec, &d), CSVR_EOF);
	csvr_close(r);
	csvr_opts lo = {.offset = 3, .latin1 = 1};
	assert_int_equal(csvr_open(path, &lo, &r, &d), -1); /* offsets are of UTF-8 input */
	assert_int_equal(d.code, EX_USAGE);
	unlink(path);
	diag_free(&d);
}

static void test_open_errors(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	csvr *r = (csvr *)1;
	assert_int_equal(csvr_open("/nonexistent/dir/x.csv", NULL, &r, &d), -1);
	assert_null(r);
	assert_int_equal(d.code, EX_NOINPUT);
	assert_non_null(strstr(d.msg, "/nonexistent/dir/x.csv"));
	diag_reset(&d);
	csvr_opts o = {.delim = '"'};
	assert_int_equal(csvr_open_mem("a", 1, "t", &o, &r, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_reset(&d);
	o = (csvr_opts){.delim = '\n'};
	assert_int_equal(csvr_open_mem("a", 1, "t", &o, &r, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_free(&d);
}

static void test_counters_and_name(void **state)
{
	(void)state;
	const char *in = "\xEF\xBB\xBFh\n1\n2\n";
	tstats st;
	char *t = transcript(in, strlen(in), NULL, M_FILE, 2, 1, &st);
	same("counters", "OK 1(1) [h]1:1\nOK 2(1) [1]2:1\nOK 3(1) [2]3:1\nEOF\n", t);
	free(t);
	assert_int_equal(st.bytes_total, strlen(in));
	assert_int_equal(st.bytes_read, strlen(in));
	t = transcript(in, strlen(in), NULL, M_DIRECT, 0, 1, &st);
	free(t);
	assert_int_equal(st.bytes_read, strlen(in));
	assert_true(st.peak < 65536); /* direct: the input buffer is not ours */
	diag d = DIAG_INIT;
	csvr *r;
	assert_int_equal(csvr_open_mem(in, strlen(in), "name.csv", NULL, &r, &d), 0);
	assert_string_equal(csvr_name(r), "name.csv");
	csvr_record rec;
	assert_int_equal(csvr_next(r, &rec, &d), CSVR_OK);
	assert_true(csvr_bytes_read(r) >= 5 && csvr_bytes_read(r) <= strlen(in));
	csvr_close(r);
	diag_free(&d);
}

/* A buffer read in place is never written to and never read past its end:
 * the input sits read-only just before an inaccessible page. */
static void test_readonly_buffer(void **state)
{
	(void)state;
	static const char *inputs[] = {"a,b\n\"c\nd\",e", "x\"y", "\"open", "a\r", "\xC3", "a,",
	                               "\"a\"\"", "\xEF\xBB", "\"a\"b", " \t"};
	long pg = sysconf(_SC_PAGESIZE);
	for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
		unsigned char *m = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE,
		                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert_true(m != MAP_FAILED);
		size_t n = strlen(inputs[i]);
		unsigned char *in = m + pg - n;
		memcpy(in, inputs[i], n);
		assert_int_equal(mprotect(m, (size_t)pg, PROT_READ), 0);
		assert_int_equal(mprotect(m + pg, (size_t)pg, PROT_NONE), 0);
		char *a = transcript(in, n, NULL, M_DIRECT, 0, 1, NULL);
		csvr_opts o = {.libcsv_only = 1};
		char *b = transcript(in, n, &o, M_DIRECT, 0, 1, NULL);
		same("read-only", a, b);
		assert_non_null(strstr(a, "EOF\n"));
		free(a);
		free(b);
		munmap(m, (size_t)pg * 2);
	}
}

/* ---- memory bound and recovery on big inputs ---------------------------- */

static void test_big_field(void **state)
{
	(void)state;
	size_t big = 10u << 20;
	char *in = malloc(big + 64);
	assert_non_null(in);
	for (int quoted = 0; quoted < 2; quoted++) {
		size_t n = 0;
		n += (size_t)sprintf(in + n, "a,b\n1,%s", quoted ? "\"" : "");
		memset(in + n, 'x', big);
		n += big;
		n += (size_t)sprintf(in + n, "%s,z\n2,ok\n", quoted ? "\"" : "");
		const char *want = "OK 1(1) [a]1:1 [b]1:3\n"
		                   "BAD 2(1) field too long\n"
		                   "  2:3: error: field longer than 65536 bytes\n"
		                   "OK 3(1) [2]3:1 [ok]3:3\n"
		                   "EOF\n";
		tstats st;
		char *t = transcript(in, n, NULL, M_DIRECT, 0, 1, &st);
		same("10 MB field, memory", want, t);
		free(t);
		/* libcsv's buffer and the field copies stay near max_field */
		assert_true(st.peak < (512u << 10));
		t = transcript(in, n, NULL, M_FILE, 0, 1, &st);
		same("10 MB field, file", want, t);
		free(t);
		/* window (max_record + blocks) + libcsv's buffer */
		assert_true(st.peak < (3u << 20));
		assert_int_equal(st.bytes_read, n);
		t = transcript(in, n, NULL, M_FILE, 100000, 1, &st);
		same("10 MB field, file, odd blocks", want, t);
		free(t);
	}
	free(in);
}

static void test_stray_quote_big_file(void **state)
{
	(void)state;
	size_t lines = 200000;
	char *in = malloc(lines * 40);
	assert_non_null(in);
	for (int variant = 0; variant < 2; variant++) {
		size_t n = 0;
		for (size_t i = 1; i <= lines; i++) {
			if (i == 3)
				n += (size_t)sprintf(in + n, variant ? "3,\"abc,x\n" : "3,ab\"c,x\n");
			else
				n += (size_t)sprintf(in + n, "%zu,name %zu,%zu\n", i, i, i * 7);
		}
		for (int mode = 0; mode < 3; mode++) {
			diag d = DIAG_INIT;
			char *tmp;
			csvr *r = open_mode(in, n, NULL, mode, mode == M_BLOCKS ? 4093 : 0, &tmp, &d);
			csvr_record rec;
			int rc;
			size_t ok = 0, badn = 0;
			unsigned long expect_line = 1;
			while ((rc = csvr_next(r, &rec, &d)) != CSVR_EOF) {
				assert_true(rc > 0);
				if (expect_line == 3)
					expect_line = 4;
				if (rc == CSVR_BAD) {
					badn++;
					continue;
				}
				/* every other record comes back, in order, on its line */
				assert_int_equal(rec.line, expect_line);
				assert_int_equal(rec.n, 3);
				assert_int_equal(strtoul(rec.f[0].s, NULL, 10), expect_line);
				assert_int_equal(strtoul(rec.f[2].s, NULL, 10), expect_line * 7);
				expect_line++;
				ok++;
			}
			assert_int_equal(ok, lines - 1);
			assert_int_equal(badn, 1);
			assert_int_equal(d.n_errors, 1);
			assert_int_equal(d.items[0].line, 3);
			assert_int_equal(d.items[0].col, variant ? 3 : 5);
			if (mode != M_DIRECT)
				assert_true(csvr_peak_bytes(r) < (2u << 20));
			csvr_close(r);
			diag_free(&d);
			if (tmp) {
				unlink(tmp);
				free(tmp);
			}
		}
	}
	free(in);
}

/* ---- reference model ---------------------------------------------------- */

/* Same validity rules as the reader (and text_utf8_valid), written again. */
static size_t ref_utf8(const unsigned char *s, size_t n)
{
	if (s[0] < 0x80)
		return 1;
	size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;
	if (s[0] < 0xC2 || s[0] > 0xF4 || len > n)
		return 0;
	uint32_t cp = s[0] & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
	for (size_t k = 1; k < len; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

/* Column of byte `at`: 1 + the characters (lead bytes) since the line
 * started at ls. */
static unsigned long ref_col(const unsigned char *s, size_t ls, size_t at)
{
	unsigned long c = 1;
	for (size_t i = ls; i < at; i++)
		if ((s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

typedef struct rfield {
	buf text;
	unsigned long line, col;
	int quoted;
} rfield;

/* The documented rules applied byte by byte, with no limits reached. */
static char *ref_transcript(const unsigned char *s, size_t n, unsigned char delim,
                            unsigned char quote)
{
	buf out = {0};
	size_t p = 0, ls = 0; /* position, start of its line */
	unsigned long line = 1;
	rfield f[64];
	put(&out, "", 0);
	if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
		p = ls = 3;
	for (;;) {
		size_t q = p;
		while (q < n && (s[q] == ' ' || s[q] == '\t') && s[q] != delim)
			q++;
		if (q == n)
			break;
		if (s[q] == '\n' || (s[q] == '\r' && q + 1 < n && s[q + 1] == '\n')) {
			p = ls = q + (s[q] == '\n' ? 1 : 2);
			line++;
			continue;
		}
		unsigned long rline = line;
		size_t nf = 0;
		const char *reason = NULL;
		size_t epos = 0;
		unsigned long eline = 0, ecol = 0;
		int done = 0;
		while (!done && !reason) {
			assert_true(nf < 64);
			rfield *fd = &f[nf++];
			memset(fd, 0, sizeof *fd);
			put(&fd->text, "", 0);
			fd->line = line;
			fd->col = ref_col(s, ls, p);
			size_t fstart = p;
			if (p < n && s[p] == quote) {
				fd->quoted = 1;
				p++;
				for (;;) {
					if (p == n) {
						/* unterminated at the end: resume after its line */
						putf(&out, "BAD %lu(%lu) unterminated quote\n  @%lu:%lu\n", rline,
						     fd->line - rline + 1, fd->line, fd->col);
						const unsigned char *nlp = memchr(s + fstart, '\n', n - fstart);
						if (nlp) {
							p = ls = (size_t)(nlp - s) + 1;
							line = fd->line + 1;
						}
						reason = "";
						break;
					}
					unsigned char c = s[p];
					if (c == 0 || (c >= 0x80 && !ref_utf8(s + p, n - p))) {
						reason = c == 0 ? "NUL byte" : "invalid UTF-8";
						epos = p;
						break;
					}
					if (c == quote) {
						if (p + 1 < n && s[p + 1] == quote) {
							put(&fd->text, (const char *)&c, 1);
							p += 2;
							continue;
						}
						p++;
						break;
					}
					size_t len = ref_utf8(s + p, n - p);
					put(&fd->text, (const char *)s + p, len);
					p += len;
					if (c == '\n') {
						line++;
						ls = p;
					}
				}
				if (reason)
					break;
				/* after the closing quote */
				if (p == n) {
					done = 1;
				} else if (s[p] == delim) {
					p++;
				} else if (s[p] == '\n' || (s[p] == '\r' && p + 1 < n && s[p + 1] == '\n')) {
					p += s[p] == '\n' ? 1 : 2;
					line++;
					ls = p;
					done = 2;
				} else {
					unsigned char c = s[p];
					reason = c == '\r' ? "stray carriage return"
					         : c == 0 ? "NUL byte"
					         : (c >= 0x80 && !ref_utf8(s + p, n - p)) ? "invalid UTF-8"
					                                                  : "bad quoting";
					epos = p;
				}
			} else {
				for (;;) {
					if (p == n) {
						done = 1;
						break;
					}
					unsigned char c = s[p];
					if (c == delim) {
						p++;
						break;
					}
					if (c == '\n' || (c == '\r' && p + 1 < n && s[p + 1] == '\n')) {
						p += c == '\n' ? 1 : 2;
						line++;
						ls = p;
						done = 2;
						break;
					}
					size_t len = c >= 0x80 ? ref_utf8(s + p, n - p) : 1;
					if (c == '\r' || c == 0 || c == quote || !len) {
						reason = c == '\r' ? "stray carriage return"
						         : c == 0 ? "NUL byte"
						         : c == quote ? "bad quoting" : "invalid UTF-8";
						epos = p;
						break;
					}
					put(&fd->text, (const char *)s + p, len);
					p += len;
				}
			}
		}
		if (reason && *reason) {
			eline = line;
			ecol = ref_col(s, ls, epos);
			putf(&out, "BAD %lu(%lu) %s\n  @%lu:%lu\n", rline, eline - rline + 1, reason,
			     eline, ecol);
			const unsigned char *nlp = memchr(s + epos, '\n', n - epos);
			if (nlp) {
				p = ls = (size_t)(nlp - s) + 1;
				line++;
			} else {
				p = n;
			}
		} else if (!reason) {
			putf(&out, "OK %lu(%lu)", rline, line - rline + (done == 1 ? 1 : 0));
			for (size_t i = 0; i < nf; i++) {
				put(&out, " [", 2);
				put_esc(&out, f[i].text.s, f[i].text.len);
				putf(&out, "]%lu:%lu%s", f[i].line, f[i].col, f[i].quoted ? "q" : "");
			}
			put(&out, "\n", 1);
		}
		for (size_t i = 0; i < nf; i++)
			free(f[i].text.s);
		if (p >= n)
			break;
	}
	put(&out, "EOF\n", 4);
	return out.s;
}

/* ---- random inputs ------------------------------------------------------ */

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static size_t gen_input(unsigned char *out, size_t max, unsigned char delim, unsigned char quote)
{
	static const char *atoms[] = {"a", "b", "x", " ", "\t", "\n", "\r\n", "\r", "\0", "é", "€",
	                              "\xFF", "\xC3", "\xE2\x82", "\xEF\xBB\xBF", "\xED\xA0\x80",
	                              "1", "DQ", "DQ", "DQ", "D", "D", "D", "D"};
	size_t n = 0, want = rnd() % max;
	while (n < want) {
		const char *a = atoms[rnd() % (sizeof atoms / sizeof *atoms)];
		size_t len = (a[0] == '\0') ? 1 : strlen(a);
		if (n + len > max)
			break;
		if (!strcmp(a, "DQ"))
			out[n++] = quote;
		else if (!strcmp(a, "D"))
			out[n++] = delim;
		else {
			memcpy(out + n, a, len);
			n += len;
		}
	}
	if (rnd() % 8 == 0 && n + 3 <= max) {
		memmove(out + 3, out, n);
		memcpy(out, "\xEF\xBB\xBF", 3);
		n += 3;
	}
	return n;
}

/* Every position a diagnostic or a field reports is inside the input. */
static void check_positions(const unsigned char *in, size_t n, const csvr_opts *o)
{
	unsigned long nlines = 1;
	size_t linelen[1024] = {0};
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\n') {
			nlines++;
			assert_true(nlines < 1024);
		} else {
			linelen[nlines]++;
		}
	}
	diag d;
	diag_init(&d, 100000);
	csvr *r;
	assert_int_equal(csvr_open_mem(in, n, "fz", o, &r, &d), 0);
	csvr_record rec;
	int rc;
	while ((rc = csvr_next(r, &rec, &d)) != CSVR_EOF) {
		assert_true(rc == CSVR_OK || rc == CSVR_BAD);
		for (size_t i = 0; rc == CSVR_OK && i < rec.n; i++) {
			assert_true(rec.f[i].line >= 1 && rec.f[i].line <= nlines);
			assert_true(rec.f[i].col >= 1 && rec.f[i].col <= linelen[rec.f[i].line] + 1);
			assert_true(rec.f[i].len <= n * 2);
		}
		assert_true(rec.line >= 1 && rec.line + rec.n_lines - 1 <= nlines);
	}
	for (size_t i = 0; i < d.n_items; i++) {
		assert_true(d.items[i].line >= 1 && d.items[i].line <= nlines);
		assert_true(d.items[i].col >= 1 && d.items[i].col <= linelen[d.items[i].line] + 1);
	}
	csvr_close(r);
	diag_free(&d);
}

static void test_fuzz_against_reference(void **state)
{
	(void)state;
	rng_state = 0x9E3779B97F4A7C15ULL;
	unsigned char in[200];
	static const size_t blocks[] = {1, 2, 3, 4, 7, 9, 16};
	for (int iter = 0; iter < 4000; iter++) {
		unsigned char delim = iter % 3 == 0 ? ';' : iter % 7 == 0 ? '\t' : ',';
		unsigned char quote = iter % 5 == 0 ? '\'' : '"';
		size_t n = gen_input(in, sizeof in, delim, quote);
		csvr_opts o = {.delim = (char)delim, .quote = (char)quote};
		char *want = ref_transcript(in, n, delim, quote);
		char *got = transcript(in, n, &o, M_DIRECT, 0, 0, NULL);
		if (strcmp(want, got)) {
			buf b = {0};
			put_esc(&b, (const char *)in, n);
			print_error("input #%d: %s\n", iter, b.s);
			free(b.s);
		}
		same("reference", want, got);
		free(got);
		o.libcsv_only = 1;
		got = transcript(in, n, &o, M_DIRECT, 0, 0, NULL);
		same("reference, libcsv only", want, got);
		free(got);
		o.libcsv_only = 0;
		got = transcript(in, n, &o, M_BLOCKS, blocks[iter % 7], 0, NULL);
		same("reference, blocks", want, got);
		free(got);
		free(want);
		check_positions(in, n, &o);
	}
}

/* Small limits, Latin-1: no reference, but no crash, positions inside the
 * input, and the same answer however the bytes arrive when a line is not
 * cut (blocks >= the input). */
static void test_fuzz_limits(void **state)
{
	(void)state;
	rng_state = 12345;
	unsigned char in[300];
	for (int iter = 0; iter < 3000; iter++) {
		size_t n = gen_input(in, sizeof in, ',', '"');
		csvr_opts o = {.max_field = 1 + rnd() % 12, .max_fields = 1 + rnd() % 5,
		               .max_record = 1 + rnd() % 40, .latin1 = rnd() % 4 == 0};
		check_positions(in, n, &o);
		char *a = transcript(in, n, &o, o.latin1 ? M_BLOCKS : M_DIRECT, 4096, 0, NULL);
		char *b = transcript(in, n, &o, M_FILE, 1024, 0, NULL);
		same("limits, file", a, b);
		free(b);
		o.libcsv_only = 1;
		b = transcript(in, n, &o, M_BLOCKS, 512, 0, NULL);
		same("limits, libcsv only", a, b);
		free(b);
		free(a);
		/* tiny blocks cut lines into pieces: still no crash */
		free(transcript(in, n, &o, M_BLOCKS, 1 + rnd() % 9, 0, NULL));
	}
}

/* Every split point of a tricky input: blocks of every size from 1 to its
 * length (so every offset is a block boundary in some run), memory and
 * file. */
static void test_chunk_boundaries(void **state)
{
	(void)state;
	const char in[] = "\xEF\xBB\xBFid;name;note\r\n"
	                  "1;\"Zoë; \"\"la\"\"\r\nsuite\";€\r\n"
	                  "\r\n   \r\n"
	                  "2;ab\"c;x\r\n"
	                  "3;\"x\"y;z\n"
	                  "4;a\rb;c\n"
	                  "5;\xC3;d\n"
	                  "6;\"\";\"\"\"\"\n"
	                  "7;\"open;\n"
	                  "8;日本語;end";
	size_t n = sizeof in - 1;
	csvr_opts o = {.delim = ';'};
	char *want = transcript(in, n, &o, M_DIRECT, 0, 1, NULL);
	same("tricky input",
	     "OK 1(1) [id]1:1 [name]1:4 [note]1:9\n"
	     "OK 2(2) [1]2:1 [Zoë; \"la\"\\r\\nsuite]2:3q [€]3:8\n"
	     "BAD 6(1) bad quoting\n  6:5: error: " MSG_QUOTE "\n"
	     "BAD 7(1) bad quoting\n  7:6: error: " MSG_AFTER "\n"
	     "BAD 8(1) stray carriage return\n  8:4: error: " MSG_CR "\n"
	     "BAD 9(1) invalid UTF-8\n  9:3: error: " MSG_UTF8 "\n"
	     "OK 10(1) [6]10:1 []10:3q [\"]10:6q\n"
	     "BAD 11(1) unterminated quote\n  11:3: error: " MSG_UNTERM_EOF "\n"
	     "OK 12(1) [8]12:1 [日本語]12:3 [end]12:7\n"
	     "EOF\n",
	     want);
	for (size_t blk = 1; blk <= n; blk++) {
		char *got = transcript(in, n, &o, M_BLOCKS, blk, 1, NULL);
		same("block size", want, got);
		free(got);
		if (blk <= 16 || blk % 11 == 0) {
			got = transcript(in, n, &o, M_FILE, blk, 1, NULL);
			same("file block size", want, got);
			free(got);
		}
	}
	free(want);
}

/* Random records written with CSV quoting come back exactly, where the
 * writer put them. */
static void test_roundtrip(void **state)
{
	(void)state;
	rng_state = 777;
	static const char *atoms[] = {"a", "Bé", "€", " ", "\t", "1", ",", ";", "\"", "\n", "\r\n",
	                              "\r", "x y", "日"};
	for (int iter = 0; iter < 1500; iter++) {
		unsigned char delim = iter % 2 ? ',' : ';';
		int crlf = rnd() % 2;
		buf in = {0}, want = {0};
		put(&in, "", 0);
		put(&want, "", 0);
		unsigned long line = 1;
		int nrec = 1 + (int)(rnd() % 6);
		for (int k = 0; k < nrec; k++) {
			unsigned long col = 1, rline = line;
			buf rec = {0};
			put(&rec, "", 0);
			int nf = 1 + (int)(rnd() % 5);
			for (int j = 0; j < nf; j++) {
				buf fv = {0};
				put(&fv, "", 0);
				int na = (int)(rnd() % 5);
				for (int a = 0; a < na; a++) {
					const char *at = atoms[rnd() % (sizeof atoms / sizeof *atoms)];
					put(&fv, at, strlen(at));
				}
				int need = strchr(fv.s, delim) || strchr(fv.s, '"') || strchr(fv.s, '\n') ||
				           strchr(fv.s, '\r') || (nf == 1 && strspn(fv.s, " \t") == fv.len);
				int quoted = need || rnd() % 4 == 0;
				if (j) {
					put(&in, (const char *)&delim, 1);
					col++;
				}
				put(&rec, " [", 2);
				put_esc(&rec, fv.s, fv.len);
				putf(&rec, "]%lu:%lu%s", line, col, quoted ? "q" : "");
				if (quoted) {
					put(&in, "\"", 1);
					col++;
				}
				for (size_t i = 0; i < fv.len; i++) {
					unsigned char c = (unsigned char)fv.s[i];
					put(&in, fv.s + i, 1);
					if (c == '"' && quoted) {
						put(&in, "\"", 1);
						col++;
					}
					if (c == '\n') {
						line++;
						col = 1;
					} else if ((c & 0xC0) != 0x80) {
						col++;
					}
				}
				if (quoted) {
					put(&in, "\"", 1);
					col++;
				}
				free(fv.s);
			}
			int last_nl = k < nrec - 1 || rnd() % 2;
			if (last_nl)
				put(&in, crlf ? "\r\n" : "\n", crlf ? 2 : 1);
			putf(&want, "OK %lu(%lu)%s\n", rline, line - rline + 1, rec.s);
			line++;
			free(rec.s);
			if (rnd() % 5 == 0 && last_nl) {
				put(&in, "  \n", 3);
				line++;
			}
		}
		put(&want, "EOF\n", 4);
		csvr_opts o = {.delim = (char)delim};
		expect_o(in.s, in.len, &o, want.s);
		free(in.s);
		free(want.s);
	}
}

/* ---- the one-pass fast path against libcsv ------------------------------ */

/* One random field in its raw CSV form, shaped to meet the fast path's
 * 16-byte blocks everywhere: empty, short and long (up to 200 bytes)
 * unquoted text, UTF-8 of 2 to 4 bytes (so sequences straddle blocks),
 * quoted fields with delimiters, doubled quotes, CR LF and LF inside, and
 * (dirty) a quote in an unquoted field, text after a closing quote,
 * invalid UTF-8, a NUL, a lone CR. */
static void gen_field(buf *b, unsigned char delim, unsigned char quote, int dirty)
{
	static const char *utf[] = {"é", "€", "日本語", "\xF0\x9D\x84\x9E", "Perú", "a", "ñ"};
	static const char *bad[] = {"\xC3", "\xFF", "\xED\xA0\x80", "\xE2\x82", "\x80"};
	char q = (char)quote, dl = (char)delim;
	size_t k, len;
	switch (rnd() % (dirty ? 17u : 12u)) {
	case 0:
		break;
	case 1:
		for (k = 0, len = 1 + rnd() % 6; k < len; k++)
			putf(b, "%c", 'a' + (int)(rnd() % 26));
		break;
	case 2:
		for (k = 0, len = 15 + rnd() % 186; k < len; k++)
			putf(b, "%c", rnd() % 7 ? 'a' + (int)(rnd() % 26) : ' ');
		break;
	case 3:
		for (k = 0, len = 1 + rnd() % 20; k < len; k++) {
			const char *u = utf[rnd() % (sizeof utf / sizeof *utf)];
			put(b, u, strlen(u));
		}
		break;
	case 4: /* quoted, with delimiters, spaces and UTF-8 inside */
		put(b, &q, 1);
		for (k = 0, len = rnd() % 60; k < len; k++) {
			uint32_t x = rnd() % 6;
			if (x == 0)
				put(b, &dl, 1);
			else if (x == 1)
				put(b, " ", 1);
			else if (x == 2)
				put(b, "ú", strlen("ú"));
			else
				putf(b, "%c", 'A' + (int)(rnd() % 26));
		}
		put(b, &q, 1);
		break;
	case 5: /* doubled quotes, some at the ends */
		put(b, &q, 1);
		for (k = 0, len = rnd() % 8; k < len; k++) {
			if (rnd() % 2) {
				put(b, &q, 1);
				put(b, &q, 1);
			} else {
				put(b, "reservado", 9);
			}
		}
		put(b, &q, 1);
		break;
	case 6:
		put(b, &q, 1);
		put(b, &q, 1);
		break;
	case 7: /* a quoted newline: the record spans lines (libcsv) */
		put(b, &q, 1);
		put(b, "x", 1);
		if (rnd() % 2)
			put(b, "\r\n", 2);
		else
			put(b, "\n", 1);
		put(b, "y", 1);
		put(b, &q, 1);
		break;
	case 8: /* long, quoted, many doubled quotes: many structural bytes */
		put(b, &q, 1);
		for (k = 0, len = 17 + rnd() % 180; k < len; k++) {
			if (rnd() % 3 == 0) {
				put(b, &q, 1);
				put(b, &q, 1);
			} else {
				putf(b, "%c", rnd() % 5 ? 'a' + (int)(rnd() % 26) : (int)delim);
			}
		}
		put(b, &q, 1);
		break;
	case 9:
		putf(b, "%u", rnd() % 100000);
		break;
	case 10:
		put(b, "  x ", 4);
		break;
	case 11: /* quoted, a multi-byte character at every offset */
		put(b, &q, 1);
		for (k = 0, len = rnd() % 20; k < len; k++)
			put(b, "a", 1);
		put(b, "\xF0\x9D\x84\x9E", 4);
		put(b, &q, 1);
		break;
	case 12:
		put(b, "ab", 2);
		put(b, &q, 1);
		put(b, "c", 1);
		break;
	case 13:
		put(b, &q, 1);
		put(b, "x", 1);
		put(b, &q, 1);
		put(b, "y", 1);
		break;
	case 14: {
		const char *x = bad[rnd() % (sizeof bad / sizeof *bad)];
		for (k = 0, len = rnd() % 20; k < len; k++)
			put(b, "b", 1);
		put(b, x, strlen(x));
		break;
	}
	case 15:
		put(b, "n\0n", 3);
		break;
	default:
		put(b, "c\rd", 3);
		break;
	}
}

/* A random file of generated lines: mostly clean, some dirty lines,
 * blank lines, LF and CR LF, sometimes no newline at the end, a BOM;
 * with `wide`, some lines of 200 to 400 fields (more structural bytes
 * than the one-pass scan lists: the older fast path takes them). */
static void gen_lines(buf *b, unsigned char delim, unsigned char quote, int wide)
{
	put(b, "", 0);
	if (rnd() % 8 == 0)
		put(b, "\xEF\xBB\xBF", 3);
	int nl = 1 + (int)(rnd() % 12);
	for (int l = 0; l < nl; l++) {
		if (rnd() % 15 == 0) {
			if (rnd() % 2)
				put(b, "\r\n", 2);
			else
				put(b, "  \n", 3);
			continue;
		}
		int nf = wide && rnd() % 4 == 0 ? 200 + (int)(rnd() % 200) : 1 + (int)(rnd() % 40);
		int dirty = rnd() % 5 == 0;
		for (int f = 0; f < nf; f++) {
			if (f)
				put(b, (const char *)&delim, 1);
			gen_field(b, delim, quote, dirty && rnd() % 4 == 0);
		}
		if (l + 1 < nl || rnd() % 3) {
			if (rnd() % 2)
				put(b, "\r\n", 2);
			else
				put(b, "\n", 1);
		}
	}
}

/* The one-pass fast path (fast_split) gives byte-identical results to
 * libcsv and to the reference model: fields, quoted flags, lines,
 * columns, bad records, diagnostics and their messages, on random files
 * of long lines, in place and in blocks of random sizes. */
static void test_fast_path_differential(void **state)
{
	(void)state;
	rng_state = 0xC0FFEE1234ULL;
	static const unsigned char delims[] = {',', ';', '\t', '|'};
	for (int iter = 0; iter < 1500; iter++) {
		unsigned char delim = delims[iter % 4], quote = iter % 3 == 2 ? '\'' : '"';
		int wide = iter % 10 == 0;
		buf in = {0};
		gen_lines(&in, delim, quote, wide);
		csvr_opts o = {.delim = (char)delim, .quote = (char)quote};
		csvr_opts lo = o;
		lo.libcsv_only = 1;
		char *want = transcript(in.s, in.len, &lo, M_DIRECT, 0, 1, NULL);
		char *got = transcript(in.s, in.len, &o, M_DIRECT, 0, 1, NULL);
		if (strcmp(want, got)) {
			buf e = {0};
			put_esc(&e, in.s, in.len);
			print_error("input #%d: %s\n", iter, e.s);
			free(e.s);
		}
		same("fast path against libcsv", want, got);
		free(got);
		got = transcript(in.s, in.len, &o, M_BLOCKS, 1 + rnd() % 300, 1, NULL);
		same("fast path in blocks", want, got);
		free(got);
		free(want);
		if (!wide) {
			/* the model lists positions without messages */
			want = ref_transcript((const unsigned char *)in.s, in.len, delim, quote);
			got = transcript(in.s, in.len, &o, M_DIRECT, 0, 0, NULL);
			same("fast path against the reference", want, got);
			free(got);
			free(want);
		}
		free(in.s);
	}
}

/* Read in[0..n) as ingest reads a chunk: with more_follows (and, when
 * `from` > 0, first_line and no_bom), appending the transcript lines
 * (records, bad records, diagnostics with messages) to b.  Returns where
 * the next chunk starts (the open record's first byte, or n) and its line. */
static size_t read_chunk(buf *b, const char *in, size_t from, size_t n, unsigned long first_line,
                         int more, int libcsv_only, unsigned long *next_line)
{
	diag d;
	diag_init(&d, 100000);
	csvr *r;
	csvr_opts o = {.delim = ';', .more_follows = more, .first_line = first_line,
	               .no_bom = from > 0, .libcsv_only = libcsv_only};
	assert_int_equal(csvr_open_mem(in + from, n - from, "t.csv", &o, &r, &d), 0);
	csvr_record rec;
	int rc;
	size_t seen = 0;
	while ((rc = csvr_next(r, &rec, &d)) != CSVR_EOF) {
		assert_true(rc == CSVR_OK || rc == CSVR_BAD);
		if (rc == CSVR_OK) {
			putf(b, "OK %lu(%lu)", rec.line, rec.n_lines);
			for (size_t i = 0; i < rec.n; i++) {
				put(b, " [", 2);
				put_esc(b, rec.f[i].s, rec.f[i].len);
				putf(b, "]%lu:%lu%s", rec.f[i].line, rec.f[i].col, rec.f[i].quoted ? "q" : "");
			}
			put(b, "\n", 1);
		} else {
			putf(b, "BAD %lu(%lu) %s\n", rec.line, rec.n_lines, csvr_bad_reason(r));
		}
		for (; seen < d.n_items; seen++)
			putf(b, "  %lu:%lu: %s\n", d.items[seen].line, d.items[seen].col, d.items[seen].msg);
	}
	for (; seen < d.n_items; seen++)
		putf(b, "  %lu:%lu: %s\n", d.items[seen].line, d.items[seen].col, d.items[seen].msg);
	uint64_t off;
	unsigned long line;
	if (!csvr_tail(r, &off, &line))
		csvr_position(r, &off, &line);
	csvr_close(r);
	diag_free(&d);
	*next_line = line;
	return from + (size_t)off;
}

/* A small file cut into two chunks at every offset, each chunk read on its
 * own as ingest does (the record open at the cut read again with the rest):
 * the two transcripts together are the whole file's, with the fast path
 * and with libcsv alone. */
static void test_fast_path_chunks(void **state)
{
	(void)state;
	const char in[] = "\xEF\xBB\xBFid_caso;pais;fecha;nombre;edad;fiscalia;obs\r\n"
	                  "PE-V-2019-0000001;Perú;22/03/2019;;25;\"Unidad de Trata; Lima\";\r\n"
	                  "PE-I-2020-0000002;Perú;21/12/2020;Percy Pfuyuchez;47;FISTRAP Cusco;\r\n"
	                  "PE-V-2021-0000003;Perú;01/01/2021;\"caso \"\"reservado\"\"\";;\"a\r\nb\";x\r\n"
	                  "\r\n"
	                  "PE-V-2021-0000004;日本語 𝄞 long text that spans several blocks;;;;;\n"
	                  "bad;ab\"c;x\r\n"
	                  "5;\"x\"y;z\n"
	                  "6;\"\";\"\"\"\";;;;\n"
	                  "PE-V-2022-0000007;Perú;02/02/2022;;3;\"Fiscalía; Piura\";last";
	size_t n = sizeof in - 1;
	for (int lc = 0; lc < 2; lc++) {
		buf whole = {0};
		put(&whole, "", 0);
		unsigned long l;
		assert_int_equal(read_chunk(&whole, in, 0, n, 1, 0, lc, &l), n);
		if (!lc) {
			buf lw = {0};
			put(&lw, "", 0);
			read_chunk(&lw, in, 0, n, 1, 0, 1, &l);
			same("whole file, fast path against libcsv", lw.s, whole.s);
			free(lw.s);
		}
		for (size_t cut = 0; cut <= n; cut++) {
			buf two = {0};
			put(&two, "", 0);
			unsigned long line;
			size_t next = read_chunk(&two, in, 0, cut, 1, 1, lc, &line);
			assert_true(next <= cut);
			read_chunk(&two, in, next, n, line, 0, lc, &line);
			if (strcmp(whole.s, two.s))
				print_error("cut at %zu (%s)\n", cut, lc ? "libcsv only" : "fast path");
			same("two chunks", whole.s, two.s);
			free(two.s);
		}
		free(whole.s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_long_line_columns),
		cmocka_unit_test(test_spaces_kept),
		cmocka_unit_test(test_blank_lines),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_stray_cr),
		cmocka_unit_test(test_quote_in_unquoted),
		cmocka_unit_test(test_text_after_quote),
		cmocka_unit_test(test_quoted_fields),
		cmocka_unit_test(test_delims_and_quote),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_latin1),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_field_too_long),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_too_many_fields),
		cmocka_unit_test(test_record_too_long),
		cmocka_unit_test(test_empty_inputs),
		cmocka_unit_test(test_messages_never_quote_content),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_chunk_options),
		cmocka_unit_test(test_counters_and_name),
		cmocka_unit_test(test_readonly_buffer),
		cmocka_unit_test(test_big_field),
		cmocka_unit_test(test_stray_quote_big_file),
		cmocka_unit_test(test_chunk_boundaries),
		cmocka_unit_test(test_fuzz_against_reference),
		cmocka_unit_test(test_fuzz_limits),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_fast_path_differential),
		cmocka_unit_test(test_fast_path_chunks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
