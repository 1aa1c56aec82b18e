/* Unit tests for ingest/mapping: the mapping-file parser.
 *
 * The full example of docs/mapping.md is read from the document itself and
 * every field of the result is checked against values worked out by hand
 * from the example's text; every broken mapping in tests/bad/mapping must
 * give exactly the diagnostics of its .expected file.  Paths are found
 * from $TIPSTAT_DATASETS (set by `make unit`) or the current directory.
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
#include <sysexits.h>
#include <unistd.h>
#include "core/codelist.h"
#include "core/diag.h"
#include "core/text.h"
#include "ingest/mapping.h"

/* --- helpers ------------------------------------------------------------ */

/* A path inside the repository: $TIPSTAT_DATASETS/../rel, else rel. */
static void repo_path(const char *rel, char *buf, size_t size)
{
	const char *ds = getenv("TIPSTAT_DATASETS");
	if (ds && *ds) {
		snprintf(buf, size, "%s/../%s", ds, rel);
		if (access(buf, F_OK) == 0)
			return;
	}
	snprintf(buf, size, "%s", rel);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n, fp)) > 0) {
		n += got;
		if (n == cap) {
			char *nb = realloc(buf, 2 * cap + 1);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	fclose(fp);
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

/* Codelists for the code-checking tests (NULL when they cannot be loaded:
 * those tests are then skipped, everything else runs with cl = NULL). */
static codelists g_cl;
static int g_have_cl;

static int load_cl(void **state)
{
	(void)state;
	char dir[4096];
	diag d = DIAG_INIT;
	codelists_default_dir(dir, sizeof dir);
	g_have_cl = codelists_load(dir, &g_cl, &d) == 0;
	diag_free(&d);
	return 0;
}

static int free_cl(void **state)
{
	(void)state;
	if (g_have_cl)
		codelists_free(&g_cl);
	return 0;
}

static int parse(const char *text, const codelists *cl, mapping *m, diag *d)
{
	diag_init(d, 0);
	return mapping_parse(text, strlen(text), "t.map", cl, m, d);
}

/* The i-th diagnostic, formatted. */
static const char *item(const diag *d, size_t i, char *buf, size_t size)
{
	assert_true(i < d->n_items);
	diag_format(&d->items[i], buf, size);
	return buf;
}

/* Parse text expecting failure with exactly the given lines (NULL-ended). */
static void expect_errors(const char *text, const codelists *cl, ...)
{
	mapping m;
	diag d;
	char buf[1024];
	assert_int_equal(parse(text, cl, &m, &d), -1);
	assert_int_equal(d.code, EX_CONFIG);
	va_list ap;
	va_start(ap, cl);
	size_t i = 0;
	const char *want;
	while ((want = va_arg(ap, const char *)) != NULL) {
		if (i >= d.n_items)
			fail_msg("missing diagnostic %zu: %s", i, want);
		assert_string_equal(item(&d, i, buf, sizeof buf), want);
		i++;
	}
	va_end(ap);
	if (i != d.n_items)
		fail_msg("unexpected diagnostic: %s", item(&d, i, buf, sizeof buf));
	/* a failed parse leaves nothing behind */
	assert_null(m.cols);
	assert_null(m.path);
	mapping_free(&m);
	diag_free(&d);
}

/* 1-based line of the first line of text containing needle; the 1-based
 * character column of needle's occurrence (+ skip bytes) in that line. */
static unsigned line_of(const char *text, const char *needle, unsigned *col, size_t skip)
{
	const char *p = strstr(text, needle);
	assert_non_null(p);
	unsigned line = 1;
	const char *ls = text;
	for (const char *q = text; q < p; q++)
		if (*q == '\n') {
			line++;
			ls = q + 1;
		}
	if (col)
		*col = (unsigned)text_utf8_len(ls, (size_t)(p - ls) + skip) + 1;
	return line;
}

static void assert_pair(const map_column *c, size_t i, const char *from, const char *to)
{
	assert_true(i < c->n_pairs);
	assert_string_equal(c->pairs[i].from, from);
	assert_string_equal(c->pairs[i].to, to);
}

static const char *const base_records =
	"[file]\nkind = records\n\n[constant]\ncountry = DEU\nindicator = VIC\n"
	"period = 2024-Q1\n\n";

/* --- the full example of docs/mapping.md -------------------------------- */

static char *doc_example(void)
{
	char path[4096];
	size_t len;
	repo_path("docs/mapping.md", path, sizeof path);
	char *doc = read_all(path, &len);
	assert_non_null(doc);
	char *b = strstr(doc, "```ini\n");
	assert_non_null(b);
	b += 7;
	char *e = strstr(b, "```");
	assert_non_null(e);
	size_t n = (size_t)(e - b);
	char *ex = malloc(n + 1);
	assert_non_null(ex);
	memcpy(ex, b, n);
	ex[n] = '\0';
	free(doc);
	return ex;
}

static void test_doc_example(void **state)
{
	(void)state;
	char *ex = doc_example();
	mapping m;
	diag d;
	assert_int_equal(parse(ex, NULL, &m, &d), 0);
	assert_int_equal(d.n_items, 0);
	assert_int_equal(d.code, 0);

	assert_string_equal(m.path, "t.map");
	unsigned char h[32];
	crypto_hash_sha256(h, (const unsigned char *)ex, strlen(ex));
	assert_memory_equal(m.sha256, h, 32);

	/* [file] */
	assert_int_equal(m.kind, MAP_RECORDS);
	assert_int_equal(m.delimiter, ';');
	assert_int_equal(m.quote, '"');
	assert_int_equal(m.encoding, ENC_LATIN1);
	assert_int_equal(m.header_line, 1);
	assert_int_equal(m.duplicates, DUP_ERROR);
	assert_int_equal(m.max_field_bytes, 65536);
	assert_null(m.age_reference);

	/* [constant] */
	for (int f = 0; f < MF__COUNT; f++) {
		if (f == MF_COUNTRY)
			assert_string_equal(m.constants[f], "RUR");
		else if (f == MF_INDICATOR)
			assert_string_equal(m.constants[f], "VIC");
		else
			assert_null(m.constants[f]);
	}

	/* columns, in file order */
	static const char *const names[] = {"Fallnummer", "Datum", "Geschlecht", "Geburtsdatum",
	                                    "Staatsangehörigkeit", "Name", "Bemerkung",
	                                    "Dienststelle"};
	static const int fields[] = {MF_CASE_ID, MF_DATE, MF_SEX, MF_BIRTH_DATE, MF_CITIZENSHIP,
	                             MF_NONE, MF_NONE, MF_NONE};
	static const int drops[] = {DROP_NONE, DROP_NONE, DROP_NONE, DROP_NONE, DROP_NONE,
	                            DROP_IDENTIFIER, DROP_FREE_TEXT, DROP_OTHER};
	assert_int_equal(m.n_cols, 8);
	for (size_t i = 0; i < 8; i++) {
		const map_column *c = &m.cols[i];
		char hdr[96];
		snprintf(hdr, sizeof hdr, "[column \"%s\"]", names[i]);
		assert_string_equal(c->name, names[i]);
		assert_int_equal(c->index, 0);
		assert_int_equal(c->field, fields[i]);
		assert_int_equal(c->drop, drops[i]);
		assert_int_equal(c->censored_min, 0);
		assert_int_equal(c->line, line_of(ex, hdr, NULL, 0));
		if (i != 2 && i != 4)
			assert_int_equal(c->n_pairs, 0);
		if (i != 2)
			assert_null(c->fallback);
		if (i != 1 && i != 3)
			assert_int_equal(c->n_formats, 0);
	}
	const map_column *datum = &m.cols[1], *sex = &m.cols[2], *birth = &m.cols[3],
	                 *cit = &m.cols[4];
	assert_int_equal(datum->n_formats, 2);
	assert_string_equal(datum->formats[0], "DD.MM.YYYY");
	assert_string_equal(datum->formats[1], "YYYY-MM-DD");
	assert_int_equal(birth->n_formats, 1);
	assert_string_equal(birth->formats[0], "DD.MM.YYYY");

	/* national values normalised, codes as written, one pair per value */
	assert_int_equal(sex->n_pairs, 8);
	assert_pair(sex, 0, "w", "F");
	assert_pair(sex, 1, "weiblich", "F");
	assert_pair(sex, 2, "m", "M");
	assert_pair(sex, 3, "männlich", "M");
	assert_pair(sex, 4, "d", "O");
	assert_pair(sex, 5, "divers", "O");
	assert_pair(sex, 6, "", "U");
	assert_pair(sex, 7, "k.a.", "U");
	assert_string_equal(sex->fallback, "U");
	/* each pair is placed at its right-hand code */
	static const char *const maplines[] = {"map      = w, weiblich -> F",
	                                       "map      = m, männlich -> M",
	                                       "map      = d, divers   -> O",
	                                       "map      = \"\", k.A.    -> U"};
	for (size_t k = 0; k < 8; k++) {
		unsigned col, line = line_of(ex, maplines[k / 2], &col, strlen(maplines[k / 2]) - 1);
		assert_int_equal(sex->pairs[k].line, line);
		assert_int_equal(sex->pairs[k].col, col);
	}
	assert_int_equal(cit->n_pairs, 2);
	assert_pair(cit, 0, "staatenlos", "U");
	assert_pair(cit, 1, "ungeklärt", "U");

	/* [flags form] */
	assert_int_equal(m.n_flags, 3);
	assert_string_equal(m.flags[0].column, "Sexuelle Ausbeutung");
	assert_string_equal(m.flags[0].code, "SEX");
	assert_string_equal(m.flags[1].column, "Arbeitsausbeutung");
	assert_string_equal(m.flags[1].code, "LAB");
	assert_string_equal(m.flags[2].column, "Bettelei");
	assert_string_equal(m.flags[2].code, "BEG");
	assert_int_equal(m.flags[0].line, line_of(ex, "column \"Sexuelle Ausbeutung\"", NULL, 0));
	assert_int_equal(m.flags[2].line, line_of(ex, "column \"Bettelei\"", NULL, 0));
	assert_int_equal(m.n_flag_yes, 4);
	assert_string_equal(m.flag_yes[0], "ja");
	assert_string_equal(m.flag_yes[1], "j");
	assert_string_equal(m.flag_yes[2], "x");
	assert_string_equal(m.flag_yes[3], "1");
	assert_int_equal(m.n_flag_no, 4);
	assert_string_equal(m.flag_no[0], "nein");
	assert_string_equal(m.flag_no[1], "n");
	assert_string_equal(m.flag_no[2], "0");
	assert_string_equal(m.flag_no[3], "");
	assert_string_equal(m.flag_none, "U");

	/* lookups */
	assert_ptr_equal(mapping_column(&m, "Geschlecht"), sex);
	assert_ptr_equal(mapping_column(&m, "  GESCHLECHT "), sex);
	assert_ptr_equal(mapping_column(&m, "STAATSANGEHÖRIGKEIT"), cit);
	assert_null(mapping_column(&m, "Sexuelle Ausbeutung")); /* a flag, not a column */
	assert_null(mapping_column(&m, "Geschlecht2"));

	mapping_free(&m);
	mapping_free(&m); /* zeroed: a second free is harmless */
	diag_free(&d);
	free(ex);
}

/* With the codelists the example's constant "RUR" (an invented country)
 * is the one error; everything else in it is valid. */
static void test_doc_example_codelists(void **state)
{
	(void)state;
	if (!g_have_cl)
		skip();
	char *ex = doc_example();
	unsigned col, line = line_of(ex, "country   = RUR", &col, 12);
	char want[512];
	snprintf(want, sizeof want, "t.map:%u:%u: error: unknown country 'RUR' (expected an ISO "
	         "3166 alpha-3 or alpha-2 code, an M49 number or a country name); did you mean "
	         "RUS (Russian Federation)?", line, col);
	expect_errors(ex, &g_cl, want, NULL);
	free(ex);
}

/* --- the malformed-mapping corpus ---------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every line the parse produced, joined with '\n'. */
static char *diag_text(const diag *d)
{
	size_t cap = 1024, n = 0;
	char *out = malloc(cap), buf[2048];
	assert_non_null(out);
	out[0] = '\0';
	for (size_t i = 0; i < d->n_items; i++) {
		diag_format(&d->items[i], buf, sizeof buf);
		size_t l = strlen(buf);
		while (n + l + 2 > cap) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		memcpy(out + n, buf, l);
		n += l;
		out[n++] = '\n';
		out[n] = '\0';
	}
	return out;
}

static void test_bad_corpus(void **state)
{
	(void)state;
	char dir[4096];
	repo_path("tests/bad/mapping", dir, sizeof dir);
	DIR *dp = opendir(dir);
	assert_non_null(dp);
	char *names[256];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(dp)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l > 4 && !strcmp(e->d_name + l - 4, ".map") && n < 256)
			names[n++] = strdup(e->d_name);
	}
	closedir(dp);
	qsort(names, n, sizeof *names, cmp_str);
	assert_true(n >= 12);
	for (size_t i = 0; i < n; i++) {
		char path[4608], exp_path[4608];
		size_t len, elen;
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		snprintf(exp_path, sizeof exp_path, "%s/%.*s.expected", dir,
		         (int)(strlen(names[i]) - 4), names[i]);
		char *text = read_all(path, &len);
		char *want = read_all(exp_path, &elen);
		assert_non_null(text);
		if (!want)
			fail_msg("%s: no .expected file", names[i]);
		if (!g_have_cl && (strstr(want, " code '") || strstr(want, "country '"))) {
			print_message("skipping %s: needs the codelists\n", names[i]);
			free(text);
			free(want);
			free(names[i]);
			continue;
		}
		mapping m;
		diag d;
		diag_init(&d, 0);
		int rc = mapping_parse(text, len, names[i], g_have_cl ? &g_cl : NULL, &m, &d);
		char *got = diag_text(&d);
		if (rc != -1 || d.code != EX_CONFIG || strcmp(got, want))
			fail_msg("%s: rc %d code %d\n--- expected\n%s--- got\n%s", names[i], rc, d.code,
			         want, got);
		assert_int_equal(d.n_errors, d.n_items);
		assert_null(m.cols);
		mapping_free(&m);
		diag_free(&d);

		/* without codelists only code checks are lost: every line then
		 * reported is one of the expected lines */
		diag_init(&d, 0);
		mapping_parse(text, len, names[i], NULL, &m, &d);
		char buf[2048];
		for (size_t k = 0; k < d.n_items; k++) {
			diag_format(&d.items[k], buf, sizeof buf);
			if (!strstr(want, buf))
				fail_msg("%s without codelists: unexpected %s", names[i], buf);
		}
		mapping_free(&m);
		diag_free(&d);
		free(got);
		free(text);
		free(want);
		free(names[i]);
	}
}

/* The bundled national mappings are valid, with the codelists. */
static void test_dataset_mappings(void **state)
{
	(void)state;
	if (!g_have_cl)
		skip();
	static const char *const files[] = {"de_case.map", "en_case.map", "es_case.map",
	                                    "pipe_quarterly.map", "unodc_long.map"};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		char rel[128], path[4096];
		snprintf(rel, sizeof rel, "datasets/mappings/%s", files[i]);
		repo_path(rel, path, sizeof path);
		if (access(path, R_OK) != 0)
			continue; /* someone else's file, not there yet */
		mapping m;
		diag d;
		diag_init(&d, 0);
		if (mapping_load(path, &g_cl, &m, &d) != 0) {
			char buf[1024] = "";
			if (d.n_items)
				diag_format(&d.items[0], buf, sizeof buf);
			fail_msg("%s: %s %s", files[i], d.msg, buf);
		}
		assert_int_equal(d.n_items, 0);
		assert_string_equal(m.path, path);
		mapping_free(&m);
		diag_free(&d);
	}
}

/* --- syntax ---------------------------------------------------------------- */

static void test_quoting_and_comments(void **state)
{
	(void)state;
	char text[2048];
	snprintf(text, sizeof text, "%s"
	         "# a comment line\n"
	         "   # an indented comment\n"
	         "[column \"Sex  # not a comment\"]   # a comment\n"
	         "field = sex#comment right after the value\n"
	         "map = \"a, b\", \"c # d\", \"say \\\"hi\\\"\", \"back\\\\slash\" -> F # note\n"
	         "map = k.  A. ,\t  Not   Known -> \"U\"\n"
	         "map = \"\" -> U\n"
	         "fallback = \"  O  \"\n"
	         "\t\n"
	         "[column remark#1]\n"
	         "drop = other\n",
	         base_records);
	mapping m;
	diag d;
	assert_int_equal(parse(text, NULL, &m, &d), 0);
	assert_int_equal(m.n_cols, 2);
	const map_column *c = &m.cols[0];
	assert_string_equal(c->name, "Sex  # not a comment");
	assert_int_equal(c->field, MF_SEX);
	assert_int_equal(c->n_pairs, 7);
	assert_pair(c, 0, "a, b", "F");
	assert_pair(c, 1, "c # d", "F");
	assert_pair(c, 2, "say \"hi\"", "F");
	assert_pair(c, 3, "back\\slash", "F");
	assert_pair(c, 4, "k. a.", "U");
	assert_pair(c, 5, "not known", "U");
	assert_pair(c, 6, "", "U");
	assert_string_equal(c->fallback, "  O  "); /* quoted: spaces kept */
	/* the pairs of one line share the position of their code */
	unsigned col, line = line_of(text, "-> F # note", &col, 3);
	for (size_t k = 0; k < 4; k++) {
		assert_int_equal(c->pairs[k].line, line);
		assert_int_equal(c->pairs[k].col, col);
	}
	/* '#' inside an unquoted column name in a header is part of the name */
	assert_string_equal(m.cols[1].name, "remark#1");
	assert_int_equal(m.cols[1].drop, DROP_OTHER);
	mapping_free(&m);
	diag_free(&d);
}

static void test_delimiter_words(void **state)
{
	(void)state;
	static const struct {
		const char *value;
		char want;
	} ok[] = {
		{"comma", ','}, {"semicolon", ';'}, {"tab", '\t'}, {"pipe", '|'},
		{"Semicolon", ';'}, {"TAB", '\t'}, {":", ':'}, {"\"#\"", '#'}, {"\"tab\"", '\t'},
		{";", ';'}, {"\" \"", ' '},
	};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		char text[512];
		snprintf(text, sizeof text, "[file]\nkind = records\ndelimiter = %s\n%s"
		         "[column sex]\nfield = sex\n", ok[i].value, base_records + 22);
		mapping m;
		diag d;
		if (parse(text, NULL, &m, &d) != 0) {
			char buf[512];
			fail_msg("delimiter = %s: %s", ok[i].value, item(&d, 0, buf, sizeof buf));
		}
		assert_int_equal(m.delimiter, ok[i].want);
		assert_int_equal(m.quote, '"');
		mapping_free(&m);
		diag_free(&d);
	}
	/* the default */
	char text[512];
	snprintf(text, sizeof text, "%s[column sex]\nfield = sex\n", base_records);
	mapping m;
	diag d;
	assert_int_equal(parse(text, NULL, &m, &d), 0);
	assert_int_equal(m.delimiter, ',');
	mapping_free(&m);
	diag_free(&d);

	expect_errors("[file]\nkind = records\ndelimiter = ::\n", NULL,
	              "t.map:3:13: error: bad delimiter '::' (expected comma, semicolon, tab, "
	              "pipe or a single ASCII character)", NULL);
	expect_errors("[file]\nkind = records\ndelimiter = §\n", NULL,
	              "t.map:3:13: error: bad delimiter '§' (expected comma, semicolon, tab, "
	              "pipe or a single ASCII character)", NULL);
	expect_errors("[file]\nkind = records\ndelimiter = \\t\n", NULL,
	              "t.map:3:13: error: bad delimiter '\\t' (expected comma, semicolon, tab, "
	              "pipe or a single ASCII character)", NULL);
	expect_errors("[file]\nkind = records\ndelimiter = pipes\n", NULL,
	              "t.map:3:13: error: bad delimiter 'pipes' (expected comma, semicolon, tab, "
	              "pipe or a single ASCII character); did you mean 'pipe'?", NULL);
	expect_errors("[file]\nkind = records\ndelimiter =\n", NULL,
	              "t.map:3:12: error: missing value for 'delimiter'", NULL);
	/* the same character as the quote */
	expect_errors("[file]\nkind = records\nquote = '\ndelimiter = '\n", NULL,
	              "t.map:4:13: error: the delimiter and the quote are the same character "
	              "(''')", NULL);
}

static void test_file_settings(void **state)
{
	(void)state;
	char text[1024];
	snprintf(text, sizeof text,
	         "[file]\nkind = cells\ndelimiter = tab\nquote = '\nencoding = UTF-8\n"
	         "header_line = 3\nduplicates = keep-first\nmax_field_bytes = 1024\n"
	         "[constant]\ncountry = NLD\nindicator = VIC\nperiod = 2023-Q4\n"
	         "[column Victims]\nfield = count\ncensored_min = 1\nmap = .. -> 0-\n"
	         "map = \"1 to 4\" -> 1-4\n");
	mapping m;
	diag d;
	assert_int_equal(parse(text, NULL, &m, &d), 0);
	assert_int_equal(m.kind, MAP_CELLS);
	assert_int_equal(m.delimiter, '\t');
	assert_int_equal(m.quote, '\'');
	assert_int_equal(m.encoding, ENC_UTF8);
	assert_int_equal(m.header_line, 3);
	assert_int_equal(m.duplicates, DUP_KEEP_FIRST);
	assert_int_equal(m.max_field_bytes, 1024);
	assert_int_equal(m.n_cols, 1);
	assert_int_equal(m.cols[0].field, MF_COUNT);
	assert_int_equal(m.cols[0].censored_min, 1);
	assert_pair(&m.cols[0], 0, "..", "0-");
	assert_pair(&m.cols[0], 1, "1 to 4", "1-4");
	assert_int_equal(m.n_flags, 0);
	assert_null(m.flag_yes);
	assert_null(m.flag_none);
	mapping_free(&m);
	diag_free(&d);

	expect_errors("[file]\nkind = records\nkind = cells\nheader_line = -1\n"
	              "max_field_bytes = 0\nencoding = latin1\nkind2 = x\n", NULL,
	              "t.map:3:1: error: 'kind' is already set at line 2",
	              "t.map:4:15: error: bad header_line '-1' (expected the header's line number, "
	              "0 when the file has no header)",
	              "t.map:5:19: error: bad max_field_bytes '0' (expected a number of bytes from 1 "
	              "to 1073741824)",
	              "t.map:6:12: error: unknown encoding 'latin1' (expected utf-8 or latin-1); did "
	              "you mean 'latin-1'?",
	              "t.map:7:1: error: unknown key 'kind2' in [file] (expected one of: kind, "
	              "delimiter, quote, encoding, header_line, duplicates, max_field_bytes, "
	              "age_reference); did you mean 'kind'?", NULL);
	expect_errors("[file]\nkind = record\n", NULL,
	              "t.map:2:8: error: unknown kind 'record' (expected records or cells); did you "
	              "mean 'records'?", NULL);
	/* keys in the wrong section say where they belong */
	expect_errors("[file]\nkind = records\nfield = sex\n[constant]\nkind = cells\n"
	              "[column x]\ndrop = other\nyes = ja\ncountry = DEU\n", NULL,
	              "t.map:3:1: error: unknown key 'field' in [file] (expected one of: kind, "
	              "delimiter, quote, encoding, header_line, duplicates, max_field_bytes, "
	              "age_reference); 'field' belongs in a [column] section",
	              "t.map:5:1: error: unknown field 'kind' in [constant] (expected one of: "
	              "country, period, year, quarter, date, indicator, sex, age_group, age_years, "
	              "birth_date, form, citizenship, case_id, count, dimension, category); 'kind' "
	              "belongs in [file]",
	              "t.map:8:1: error: unknown key 'yes' in [column] (expected one of: field, drop, "
	              "map, fallback, formats, censored_min); 'yes' belongs in [flags form]",
	              "t.map:9:1: error: unknown key 'country' in [column] (expected one of: field, "
	              "drop, map, fallback, formats, censored_min); constants such as "
	              "'country = ...' go in [constant]", NULL);
	expect_errors("[file]\nkind records\n", NULL,
	              "t.map:2:6: error: expected '=' after 'kind' (settings are key = value)", NULL);
}

static void test_column_by_index(void **state)
{
	(void)state;
	const char *text =
		"[file]\nkind = records\nheader_line = 0\n"
		"[constant]\ncountry = DEU\nindicator = VIC\nperiod = 2024\n"
		"[column #3]\nfield = sex\n"
		"[column #12]\ndrop = identifier\n"
		"[column \"#4\"]\ndrop = other\n"; /* quoted: a header literally "#4" */
	mapping m;
	diag d;
	assert_int_equal(parse(text, NULL, &m, &d), -1);
	/* the quoted "#4" is a name, and names need a header */
	char buf[512];
	assert_int_equal(d.n_items, 1);
	assert_string_equal(item(&d, 0, buf, sizeof buf),
	                     "t.map:12:9: error: column '#4' is addressed by name, but "
	                     "header_line = 0 (no header row): address it by number, [column #N]");
	diag_free(&d);

	size_t cut = strstr(text, "[column \"#4\"]") - text;
	assert_int_equal(mapping_parse(text, cut, "t.map", NULL, &m, &d), 0);
	assert_int_equal(m.header_line, 0);
	assert_int_equal(m.n_cols, 2);
	assert_null(m.cols[0].name);
	assert_int_equal(m.cols[0].index, 3);
	assert_int_equal(m.cols[0].field, MF_SEX);
	assert_int_equal(m.cols[0].line, 8);
	assert_null(m.cols[1].name);
	assert_int_equal(m.cols[1].index, 12);
	assert_int_equal(m.cols[1].drop, DROP_IDENTIFIER);
	assert_ptr_equal(mapping_column(&m, "#3"), &m.cols[0]);
	assert_ptr_equal(mapping_column(&m, "#12"), &m.cols[1]);
	assert_null(mapping_column(&m, "#4"));
	assert_null(mapping_column(&m, "#"));
	mapping_free(&m);
	diag_free(&d);

	expect_errors("[file]\nkind = records\n[column #]\n[column #3a]\n[column #99999999999]\n",
	              NULL,
	              "t.map:3:9: error: expected a column number after '#' ([column #3] is the "
	              "third column)",
	              "t.map:4:9: error: expected a column number after '#' ([column #3] is the "
	              "third column)",
	              "t.map:5:9: error: column number 99999999999 out of range (columns are "
	              "numbered from 1 to 1000000)", NULL);
}

/* Independent problems anywhere in the file all come out of one parse,
 * in file order, whichever pass found them. */
static void test_multiple_errors(void **state)
{
	(void)state;
	const char *text =
		"[file]\n"
		"kind = records\n"
		"[constant]\n"
		"country = DEU\n"
		"indicator = VIC\n"
		"[column Land]\n"
		"field = country\n"          /* 7: fed twice (semantic pass) */
		"[column a]\n"
		"field = sexe\n"             /* 9: unknown field (first pass) */
		"[column b]\n"
		"field = sex\n"
		"map = x F\n"                /* 12: no arrow */
		"[column c]\n"
		"field = date\n"             /* 14: no formats (semantic pass) */
		"[column d]\n"
		"fallback = U\n";            /* 16 + the section: neither field nor drop */
	mapping m;
	diag d;
	diag_init(&d, 0);
	assert_int_equal(mapping_parse(text, strlen(text), "multi.map", NULL, &m, &d), -1);
	assert_int_equal(d.code, EX_CONFIG);
	assert_int_equal(d.n_errors, 5);
	assert_int_equal(d.n_items, 5);
	char buf[1024];
	assert_string_equal(item(&d, 0, buf, sizeof buf),
	                    "multi.map:7:9: error: field 'country' is fed twice: by the constant "
	                    "(line 4) and by column 'Land' (line 7)");
	assert_string_equal(item(&d, 1, buf, sizeof buf),
	                    "multi.map:9:9: error: unknown field 'sexe' (expected one of: country, "
	                    "period, year, quarter, date, indicator, sex, age_group, age_years, "
	                    "birth_date, form, citizenship, case_id, count, dimension, category); "
	                    "did you mean 'sex'?");
	assert_string_equal(item(&d, 2, buf, sizeof buf),
	                    "multi.map:12:7: error: map line without '->' (expected: map = value, "
	                    "value -> CODE)");
	assert_string_equal(item(&d, 3, buf, sizeof buf),
	                    "multi.map:14:9: error: field 'date' needs 'formats' (e.g. formats = "
	                    "YYYY-MM-DD)");
	assert_string_equal(item(&d, 4, buf, sizeof buf),
	                    "multi.map:15:9: error: column 'd' has neither field nor drop (add "
	                    "field = ... or drop = identifier, free_text or other)");
	assert_string_equal(d.msg, "mapping multi.map: 5 errors");
	diag_free(&d);

	/* past the diag's cap problems are counted, not kept */
	char big[8192] = "[file]\nkind = records\n[column x]\n";
	for (int i = 0; i < 50; i++)
		strcat(big, "bogus = 1\n");
	diag_init(&d, 10);
	assert_int_equal(mapping_parse(big, strlen(big), "big.map", NULL, &m, &d), -1);
	assert_int_equal(d.n_items, 10);
	assert_int_equal(d.n_errors, 50);
	assert_int_equal(d.n_dropped, 40);
	diag_free(&d);
}

static void test_field_names(void **state)
{
	(void)state;
	static const char *const want[MF__COUNT] = {
		NULL, "country", "period", "year", "quarter", "date", "indicator", "sex",
		"age_group", "age_years", "birth_date", "form", "citizenship", "case_id", "count",
		"dimension", "category",
	};
	for (int f = MF_NONE + 1; f < MF__COUNT; f++) {
		assert_string_equal(mapping_field_name(f), want[f]);
		assert_int_equal(mapping_field_from_name(mapping_field_name(f)), f);
	}
	assert_null(mapping_field_name(MF_NONE));
	assert_null(mapping_field_name(MF__COUNT));
	assert_null(mapping_field_name(-1));
	assert_int_equal(mapping_field_from_name("sexe"), MF_NONE);
	assert_int_equal(mapping_field_from_name("Sex"), MF_NONE);
	assert_int_equal(mapping_field_from_name(""), MF_NONE);
	assert_int_equal(mapping_field_from_name(NULL), MF_NONE);
}

static void test_crlf_bom(void **state)
{
	(void)state;
	const char *lf = "[file]\nkind = records\n[constant]\ncountry = DEU\nindicator = VIC\n"
	                 "period = 2024\n[column \"Geschlecht\"]\nfield = sex\nmap = w -> F\n";
	char crlf[512], bom[520];
	size_t o = 0;
	for (const char *p = lf; *p; p++) {
		if (*p == '\n')
			crlf[o++] = '\r';
		crlf[o++] = *p;
	}
	crlf[o] = '\0';
	snprintf(bom, sizeof bom, "\xEF\xBB\xBF%s", crlf);
	const char *texts[] = {lf, crlf, bom};
	unsigned char sha[3][32];
	for (int i = 0; i < 3; i++) {
		mapping m;
		diag d;
		assert_int_equal(parse(texts[i], NULL, &m, &d), 0);
		assert_int_equal(m.n_cols, 1);
		assert_string_equal(m.cols[0].name, "Geschlecht");
		assert_int_equal(m.cols[0].line, 7);
		assert_pair(&m.cols[0], 0, "w", "F");
		assert_int_equal(m.cols[0].pairs[0].line, 9);
		assert_int_equal(m.cols[0].pairs[0].col, 12);
		assert_string_equal(m.constants[MF_INDICATOR], "VIC");
		memcpy(sha[i], m.sha256, 32);
		mapping_free(&m);
		diag_free(&d);
	}
	/* the hash is of the bytes as given */
	assert_memory_not_equal(sha[0], sha[1], 32);
	assert_memory_not_equal(sha[1], sha[2], 32);

	/* positions after a BOM count from the first character after it; a
	 * BOM later in the file is content */
	expect_errors("\xEF\xBB\xBF[file] x\n", NULL,
	              "t.map:1:8: error: unexpected text after the section header", NULL);
	expect_errors("[file]\n\xEF\xBB\xBFkind = records\n", NULL,
	              "t.map:2:1: error: unknown key '\xEF\xBB\xBFkind' in [file] (expected one of: "
	              "kind, delimiter, quote, encoding, header_line, duplicates, max_field_bytes, "
	              "age_reference)", NULL);
	/* a lone CR is not a line end */
	expect_errors("[file]\rkind = records\n", NULL,
	              "t.map:1:7: error: stray carriage return (lines end with LF or CRLF)", NULL);
}

static void test_encoding_errors(void **state)
{
	(void)state;
	/* invalid UTF-8 is reported per line with its character column, and
	 * the other lines still parse */
	expect_errors("[file]\nkind = records\n[column \"Stra\xdf\x65\"]\nfield = sex\n"
	              "[column b]\nfield = f\xc3\xb6rm\xff\n", NULL,
	              "t.map:3:14: error: invalid UTF-8 (a mapping file is UTF-8; `encoding` "
	              "describes the data file, not the mapping)",
	              "t.map:6:13: error: invalid UTF-8 (a mapping file is UTF-8; `encoding` "
	              "describes the data file, not the mapping)", NULL);
	/* a NUL byte anywhere: one error, nothing else */
	static const char nul[] = "[file]\nkind = sex\n\nab\0cd\n[column";
	mapping m;
	diag d;
	diag_init(&d, 0);
	assert_int_equal(mapping_parse(nul, sizeof nul - 1, "n.map", NULL, &m, &d), -1);
	char buf[512];
	assert_int_equal(d.n_items, 1);
	assert_string_equal(item(&d, 0, buf, sizeof buf),
	                    "n.map:4:3: error: NUL byte: a mapping is a text file (is this a "
	                    "binary file?)");
	diag_free(&d);
	/* an empty text and a text of comments only */
	expect_errors("", NULL, "t.map:1:1: error: empty mapping (expected a [file] section with "
	              "kind = records or cells, then the columns)", NULL);
	expect_errors("# nothing yet\n\n   \n", NULL, "t.map:1:1: error: empty mapping (expected a "
	              "[file] section with kind = records or cells, then the columns)", NULL);
}

static void test_map_values(void **state)
{
	(void)state;
	char text[1024];
	/* a value repeated with the same code is a warning, not an error */
	snprintf(text, sizeof text, "%s[column s]\nfield = sex\nmap = w, W -> F\nmap = w -> f\n"
	         "map = ÄRZTIN -> F\n", base_records);
	mapping m;
	diag d;
	assert_int_equal(parse(text, NULL, &m, &d), 0);
	assert_int_equal(d.n_warnings, 2);
	assert_int_equal(d.n_errors, 0);
	char buf[512];
	assert_string_equal(item(&d, 0, buf, sizeof buf),
	                    "t.map:11:10: warning: 'W' is already mapped to 'F' at line 11 "
	                    "(repeated, ignored)");
	assert_string_equal(item(&d, 1, buf, sizeof buf),
	                    "t.map:12:7: warning: 'w' is already mapped to 'F' at line 11 "
	                    "(repeated, ignored)");
	assert_int_equal(m.cols[0].n_pairs, 2);
	assert_pair(&m.cols[0], 0, "w", "F");
	assert_pair(&m.cols[0], 1, "ärztin", "F"); /* text_norm lower-cases Latin-1 letters */
	mapping_free(&m);
	diag_free(&d);

	/* a value too long to ever match (the harmoniser's buffer) */
	char longv[300];
	memset(longv, 'a', 256);
	longv[256] = '\0';
	snprintf(text, sizeof text, "%s[column s]\nfield = sex\nmap = %s -> F\n", base_records,
	         longv);
	expect_errors(text, NULL, "t.map:11:7: error: national value "
	              "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' "
	              "is longer than 255 bytes (normalised); it could never match", NULL);

	/* map where it makes no sense */
	snprintf(text, sizeof text, "%s[column s]\nfield = sex\n[column a]\nfield = age_years\n"
	         "map = unknown -> 0-0\nfallback = U\n[column n]\nfield = count\nfallback = 0-0\n",
	         base_records);
	expect_errors(text, NULL,
	              "t.map:13:1: error: 'map' is not allowed for field 'age_years'",
	              "t.map:14:12: error: 'fallback' is not allowed for field 'age_years'",
	              "t.map:16:9: error: field 'count' is only for cells mappings (this mapping "
	              "is kind = records)",
	              "t.map:17:12: error: 'fallback' is not allowed for field 'count' (map each "
	              "censor marker to an interval)", NULL);
	/* `_T` is a cells code */
	snprintf(text, sizeof text, "%s[column s]\nfield = sex\nmap = all -> _T\n", base_records);
	expect_errors(text, NULL, "t.map:11:14: error: '_T' (total) is only for cells mappings; "
	              "a record always has a sex", NULL);
}

static void test_flags(void **state)
{
	(void)state;
	char text[1024];
	snprintf(text, sizeof text, "%s[flags form]\ncolumn Sex = SEX\ncolumn \"Forced labour\" = "
	         "LAB\n", base_records);
	mapping m;
	diag d;
	assert_int_equal(parse(text, NULL, &m, &d), 0);
	assert_int_equal(m.n_flags, 2);
	assert_string_equal(m.flags[0].column, "Sex");
	assert_string_equal(m.flags[1].column, "Forced labour");
	assert_int_equal(m.flags[1].line, 11);
	/* the documented defaults */
	static const char *const yes[] = {"yes", "y", "1", "true", "x"};
	static const char *const no[] = {"no", "n", "0", "false", ""};
	assert_int_equal(m.n_flag_yes, 5);
	assert_int_equal(m.n_flag_no, 5);
	for (int i = 0; i < 5; i++) {
		assert_string_equal(m.flag_yes[i], yes[i]);
		assert_string_equal(m.flag_no[i], no[i]);
	}
	assert_string_equal(m.flag_none, "U");
	mapping_free(&m);
	diag_free(&d);

	/* explicit lists are normalised; one overlapping a default list */
	snprintf(text, sizeof text, "%s[flags form]\ncolumn a = SEX\nyes = JA,  Oui  , 0\n"
	         "none = OTH\n", base_records);
	expect_errors(text, NULL, "t.map:11:19: error: '0' is both a yes and a no value (the other "
	              "list is the default)", NULL);

	snprintf(text, sizeof text, "%s[column form]\nfield = form\n[flags form]\ncolumn a = SEX\n"
	         "column A = LAB\ncolumn form = BEG\ncolumn = MAR\nyes = ja\nyes = si\n",
	         base_records);
	expect_errors(text, NULL,
	              "t.map:11:1: error: field 'form' is fed twice: by column 'form' (line 10) "
	              "and by [flags form] (line 11)",
	              "t.map:13:8: error: flag column 'A' is already listed at line 12",
	              "t.map:14:8: error: column 'form' is both a flag column of [flags form] "
	              "(line 14) and a [column] section (line 9)",
	              "t.map:15:8: error: expected a column name after 'column' (column \"Header\" "
	              "= CODE)",
	              "t.map:17:1: error: 'yes' is already set at line 16", NULL);
}

/* Checks that need the codelists. */
static void test_codes(void **state)
{
	(void)state;
	if (!g_have_cl)
		skip();
	char text[1024];
	/* labels, aliases and any country spelling are valid right-hand sides */
	snprintf(text, sizeof text,
	         "[file]\nkind = cells\n[constant]\ncountry = Germany\nindicator = victims\n"
	         "period = 2024\n[column s]\nfield = sex\nmap = w -> Female\nmap = t -> _T\n"
	         "[column f]\nfield = form\nmap = lab -> forced labor\n"
	         "[column c]\nfield = citizenship\nmap = de -> DE\nmap = x -> 276\nmap = ? -> U\n"
	         "[column a]\nfield = age_group\nmap = kid -> Y0T17\nmap = adult -> 18+\n"
	         "[column n]\nfield = count\n[column d]\nfield = dimension\nmap = Sex -> SEX_AGE\n"
	         "[column k]\nfield = category\nmap = Nigeria -> citizenship:NGA\n"
	         "map = tot -> _T\nmap = girls -> age:Y0T17\n");
	mapping m;
	diag d;
	if (parse(text, &g_cl, &m, &d) != 0) {
		char buf[1024];
		fail_msg("%s", item(&d, 0, buf, sizeof buf));
	}
	mapping_free(&m);
	diag_free(&d);

	snprintf(text, sizeof text,
	         "[file]\nkind = records\n[constant]\ncountry = DEU\nindicator = VICT\n"
	         "period = 2024\n[column c]\nfield = citizenship\nmap = x -> Narnia\n"
	         "[column a]\nfield = age_group\nfallback = Y0T18\n"
	         "[flags form]\ncolumn x = SEX\nnone = _T\n");
	expect_errors(text, &g_cl,
	              "t.map:5:13: error: unknown indicator code 'VICT' (expected one of: VIC, SUS, "
	              "PROS, CONV); did you mean 'VIC'?",
	              "t.map:9:12: error: unknown citizenship 'Narnia' (expected an ISO 3166 alpha-3 "
	              "or alpha-2 code, an M49 number or a country name, or U for unknown)",
	              "t.map:12:12: error: unknown age_group code 'Y0T18' (expected one of: Y0T17, "
	              "Y_GE18, U, Y0T4, Y5T9, Y10T14, Y15T17, Y18T24, Y25T34, Y35T44, Y45T54, "
	              "Y55T64, Y_GE65); did you mean 'Y0T17'?",
	              "t.map:15:8: error: '_T' (total) is not a form code here", NULL);

	/* a near miss of a country's name or code is named, one edit away */
	snprintf(text, sizeof text,
	         "[file]\nkind = records\n[constant]\ncountry = Germny\nindicator = VIC\n"
	         "period = 2024\n[column c]\nfield = citizenship\nmap = x -> Nigerja\n");
	expect_errors(text, &g_cl,
	              "t.map:4:11: error: unknown country 'Germny' (expected an ISO 3166 alpha-3 "
	              "or alpha-2 code, an M49 number or a country name); did you mean DEU "
	              "(Germany)?",
	              "t.map:9:12: error: unknown citizenship 'Nigerja' (expected an ISO 3166 alpha-3 "
	              "or alpha-2 code, an M49 number or a country name, or U for unknown); did you "
	              "mean NGA (Nigeria)?",
	              NULL);
}

static void test_semantics(void **state)
{
	(void)state;
	char text[1024];
	/* age_reference: records, with a birth_date column, naming another column */
	snprintf(text, sizeof text, "[file]\nkind = records\nage_reference = Meldedatum\n"
	         "[constant]\ncountry = DEU\nindicator = VIC\n[column Meldedatum]\nfield = date\n"
	         "formats = YYYY-MM-DD\n[column Geb]\nfield = birth_date\nformats = DD.MM.YYYY\n");
	mapping m;
	diag d;
	assert_int_equal(parse(text, NULL, &m, &d), 0);
	assert_string_equal(m.age_reference, "Meldedatum");
	mapping_free(&m);
	diag_free(&d);
	snprintf(text, sizeof text, "[file]\nkind = records\nage_reference = Geb\n"
	         "[constant]\ncountry = DEU\nindicator = VIC\nperiod = 2024\n[column Geb]\n"
	         "field = birth_date\nformats = DD.MM.YYYY\n");
	expect_errors(text, NULL, "t.map:3:17: error: age_reference 'Geb' is the birth_date column "
	              "itself", NULL);
	snprintf(text, sizeof text, "[file]\nkind = records\nage_reference = X\n"
	         "[constant]\ncountry = DEU\nindicator = VIC\nperiod = 2024\nsex = F\n");
	expect_errors(text, NULL, "t.map:3:17: error: age_reference is set but no column has "
	              "field = birth_date", NULL);

	/* year + quarter make a period; quarter alone does not */
	snprintf(text, sizeof text, "[file]\nkind = cells\n[constant]\ncountry = DEU\n"
	         "indicator = VIC\nyear = 2023\nquarter = Q2\n[column n]\nfield = count\n");
	assert_int_equal(parse(text, NULL, &m, &d), 0);
	assert_string_equal(m.constants[MF_YEAR], "2023");
	assert_string_equal(m.constants[MF_QUARTER], "Q2");
	mapping_free(&m);
	diag_free(&d);
	snprintf(text, sizeof text, "[file]\nkind = cells\n[constant]\ncountry = DEU\n"
	         "indicator = VIC\nyear = 23\nquarter = 5\n[column n]\nfield = count\n");
	expect_errors(text, NULL, "t.map:6:8: error: bad year '23' (expected YYYY, 1900-2100)",
	              "t.map:7:11: error: bad quarter '5' (expected 1-4 or Q1-Q4)", NULL);

	/* fields a kind does not have, as constants or columns */
	snprintf(text, sizeof text, "[file]\nkind = cells\n[constant]\ncountry = DEU\n"
	         "indicator = VIC\nperiod = 2024\ncase_id = 7\n[column n]\nfield = count\n"
	         "[column b]\nfield = age_years\n");
	expect_errors(text, NULL,
	              "t.map:7:1: error: field 'case_id' cannot be a constant (it varies from row "
	              "to row: give it a [column])",
	              "t.map:11:9: error: field 'age_years' is only for records mappings (this "
	              "mapping is kind = cells)", NULL);
}

static void test_sha256_and_load(void **state)
{
	(void)state;
	/* digest of these exact bytes computed with coreutils sha256sum */
	static const char text[] = "[file]\nkind = cells\n[constant]\ncountry = DEU\n"
	                           "indicator = VIC\nperiod = 2024\n[column n]\nfield = count\n";
	static const char want[] =
		"35ecb40bf58b62119b15eacc08dcc10807ff264c88b0ca1c51912c2a68ae0954";
	mapping m;
	diag d;
	assert_int_equal(parse(text, NULL, &m, &d), 0);
	char hex[65];
	text_hex(m.sha256, 32, hex);
	assert_string_equal(hex, want);
	mapping_free(&m);
	diag_free(&d);

	/* mapping_load: same result from a file, path kept as given */
	char path[] = "/tmp/test_mapping_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
	close(fd);
	diag_init(&d, 0);
	assert_int_equal(mapping_load(path, NULL, &m, &d), 0);
	text_hex(m.sha256, 32, hex);
	assert_string_equal(hex, want);
	assert_string_equal(m.path, path);
	assert_int_equal(m.kind, MAP_CELLS);
	mapping_free(&m);
	diag_free(&d);
	unlink(path);

	diag_init(&d, 0);
	assert_int_equal(mapping_load("/nonexistent/x.map", NULL, &m, &d), -1);
	assert_int_equal(d.code, EX_NOINPUT);
	assert_non_null(strstr(d.msg, "/nonexistent/x.map"));
	assert_null(m.path);
	mapping_free(&m);
	diag_free(&d);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doc_example),
		cmocka_unit_test(test_doc_example_codelists),
		cmocka_unit_test(test_bad_corpus),
		cmocka_unit_test(test_dataset_mappings),
		cmocka_unit_test(test_quoting_and_comments),
		cmocka_unit_test(test_delimiter_words),
		cmocka_unit_test(test_file_settings),
		cmocka_unit_test(test_column_by_index),
		cmocka_unit_test(test_multiple_errors),
		cmocka_unit_test(test_field_names),
		cmocka_unit_test(test_crlf_bom),
		cmocka_unit_test(test_encoding_errors),
		cmocka_unit_test(test_map_values),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_semantics),
		cmocka_unit_test(test_sha256_and_load),
	};
	return cmocka_run_group_tests(tests, load_cl, free_cl);
}
