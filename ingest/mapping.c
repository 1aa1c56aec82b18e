/* mapping: see mapping.h; the format is docs/mapping.md.
 *
 * Shape: one pass over the lines builds the structure and collects every
 * syntax problem; a second pass over the finished structure checks what
 * needs the whole file (a field fed twice, the fields a kind needs, codes
 * against the codelists, keys that only make sense for some fields).
 * Problems are collected in the parser, sorted by position and only then
 * handed to the diag, so a user reads them top to bottom whatever pass
 * found them.  Positions are the mapping's own: 1-based line, 1-based
 * UTF-8 character column of the offending token.
 *
 * Every line is lexed on its own (a quoted value never spans lines), so one
 * bad line costs one diagnostic and the next line parses normally.  Echoes
 * are held back: settings under a broken section header are skipped, a
 * column section with an error inside is not also told it lacks a field,
 * and "a records mapping needs X" is only said of an otherwise sound file.
 *
 * Lexical choices the format leaves open: section names and keys are
 * exact (lower case); word values (kind, delimiter words, encoding,
 * duplicates, drop, field names, dimension words) are compared after
 * text_norm, so "Records" or "UTF-8" are accepted.  A bare value must not
 * contain the quote character (quote the whole value instead); in quoted
 * values only \" and \\ are escapes.  A UTF-8 BOM at the start is skipped
 * (columns count from the character after it); a NUL byte makes the file
 * binary (one error, nothing else); invalid UTF-8 or a CR that does not end
 * a line loses that line.
 *
 * Rules beyond the syntax:
 *   - [file] kind is required.
 *   - records need country, a period source, indicator and at least one of
 *     sex, age_group, age_years, birth_date, form ([flags form] counts),
 *     citizenship; cells need country, a period source (not date),
 *     indicator and a count column; a category column needs dimension.
 *   - the period comes from exactly one of: period, year (+ quarter),
 *     date; quarter needs year.
 *   - fields of the other kind (date, age_years, birth_date, case_id are
 *     records-only; count, dimension, category cells-only) are errors.
 *   - a field is fed by at most one source (constant, column, flags).
 *   - constants only for fields that do not vary per row by nature:
 *     country, period, year, quarter, indicator, sex, age_group, form,
 *     citizenship; values checked like map codes.
 *   - map/fallback only for code fields (not date, birth_date, age_years,
 *     case_id; no fallback for count); formats only for date/birth_date and
 *     required there (checked with period_check_format); censored_min only
 *     for count; a dropped column takes none of them.
 *   - map right-hand sides: count "a-b"/"a-"; dimension total, sex, age,
 *     sex_age, form, citizenship; category "_T" or field:CODE (field sex,
 *     age, age_group, form, citizenship); "_T" for sex/age/form/citizenship
 *     in cells only; with codelists, codes/labels/aliases of the field's
 *     table, any country spelling (citizenship also U).  A national value
 *     mapped twice: an error if to another code, a warning if to the same.
 *   - [flags form] is for records mappings, needs at least one column and
 *     excludes a form column or constant; its codes are form codes; yes and
 *     no (explicit or default) must not overlap; a flag column cannot also
 *     have a [column] section.
 *   - header_line = 0 means columns (and flag columns) are addressed by
 *     number only; the same column cannot be described twice.
 *   - delimiter and quote differ; duplicates = sum is for cells;
 *     age_reference is for records with a birth_date column and must name
 *     another [column] of the mapping.
 */
#include "ingest/mapping.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "core/period.h"
#include "core/text.h"

/* The harmoniser normalises national values into 256-byte buffers: a map
 * value longer than this after normalisation could never match. */
#define MAP_VALUE_MAX 255
#define MAPPING_MAX_FILE (16u << 20)
#define MAX_FIELD_LIMIT (1u << 30)
#define COLUMN_NUMBER_MAX 1000000u
#define COUNT_MAX 2000000000LL

/* --- fields ------------------------------------------------------------ */

static const char *const field_names[MF__COUNT] = {
	[MF_NONE] = NULL,
	[MF_COUNTRY] = "country",
	[MF_PERIOD] = "period",
	[MF_YEAR] = "year",
	[MF_QUARTER] = "quarter",
	[MF_DATE] = "date",
	[MF_INDICATOR] = "indicator",
	[MF_SEX] = "sex",
	[MF_AGE_GROUP] = "age_group",
	[MF_AGE_YEARS] = "age_years",
	[MF_BIRTH_DATE] = "birth_date",
	[MF_FORM] = "form",
	[MF_CITIZENSHIP] = "citizenship",
	[MF_CASE_ID] = "case_id",
	[MF_COUNT] = "count",
	[MF_DIMENSION] = "dimension",
	[MF_CATEGORY] = "category",
};

#define FIELD_LIST "country, period, year, quarter, date, indicator, sex, age_group, " \
	"age_years, birth_date, form, citizenship, case_id, count, dimension, category"

const char *mapping_field_name(int field)
{
	if (field <= MF_NONE || field >= MF__COUNT)
		return NULL;
	return field_names[field];
}

int mapping_field_from_name(const char *name)
{
	if (!name)
		return MF_NONE;
	for (int f = MF_NONE + 1; f < MF__COUNT; f++)
		if (!strcmp(field_names[f], name))
			return f;
	return MF_NONE;
}

enum { K_REC = 1, K_CELLS = 2 };

static int field_kinds(int f)
{
	switch (f) {
	case MF_DATE: case MF_AGE_YEARS: case MF_BIRTH_DATE: case MF_CASE_ID:
		return K_REC;
	case MF_COUNT: case MF_DIMENSION: case MF_CATEGORY:
		return K_CELLS;
	default:
		return K_REC | K_CELLS;
	}
}

static int field_constant_ok(int f)
{
	switch (f) {
	case MF_COUNTRY: case MF_PERIOD: case MF_YEAR: case MF_QUARTER: case MF_INDICATOR:
	case MF_SEX: case MF_AGE_GROUP: case MF_FORM: case MF_CITIZENSHIP:
		return 1;
	default:
		return 0;
	}
}

static int field_mappable(int f)
{
	switch (f) {
	case MF_DATE: case MF_AGE_YEARS: case MF_BIRTH_DATE: case MF_CASE_ID: case MF_NONE:
		return 0;
	default:
		return 1;
	}
}

/* --- the parser -------------------------------------------------------- */

typedef struct pos {
	unsigned line, col;
} pos;

typedef struct problem {
	int severity;
	unsigned line, col;
	size_t seq;          /* emission order, for a stable sort */
	char *msg;
} problem;

/* Parse-time facts about one [column] section (parallel to m->cols). */
typedef struct colx {
	pos name;            /* the name or number in the section header */
	pos field, drop, map, fallback, formats, censored; /* line 0: absent */
	size_t cap_pairs, cap_formats;
	int dup;             /* repeats an earlier section: skipped in checks */
	int field_bad;       /* field given but unknown (already reported) */
	int had_error;       /* an error inside the section: no follow-up errors */
} colx;

typedef struct flagx {
	pos name, code;
} flagx;

enum sec { SEC_NONE, SEC_FILE, SEC_CONST, SEC_COLUMN, SEC_FLAGS, SEC_BAD };

enum fkey { FK_KIND, FK_DELIM, FK_QUOTE, FK_ENC, FK_HEADER, FK_DUPS, FK_MAXF, FK_AGEREF, FK__N };
static const char *const file_keys[FK__N] = {
	"kind", "delimiter", "quote", "encoding", "header_line", "duplicates",
	"max_field_bytes", "age_reference",
};
#define FILE_KEY_LIST "kind, delimiter, quote, encoding, header_line, duplicates, " \
	"max_field_bytes, age_reference"

static const char *const column_keys[] = {
	"field", "drop", "map", "fallback", "formats", "censored_min",
};
#define COLUMN_KEY_LIST "field, drop, map, fallback, formats, censored_min"

static const char *const flag_keys[] = {"column", "yes", "no", "none"};
#define FLAG_KEY_LIST "column, yes, no, none"

static const char *const section_names[] = {"file", "constant", "column", "flags"};

#define NELEM(a) (sizeof(a) / sizeof *(a))

/* A token of the current line.  s points into the line (bare) or into the
 * line's scratch buffer (quoted, unescaped); it is not NUL-terminated. */
typedef struct tok {
	const char *s;
	size_t n;
	size_t at;           /* byte offset in the line of its first character */
	int quoted;
} tok;

typedef struct parser {
	const char *name;
	const codelists *cl;
	mapping *m;
	problem *probs; size_t n_probs, cap_probs;
	size_t n_errors;
	int oom;
	int sec;
	colx *cx; size_t cap_cols;
	flagx *fx; size_t cap_flags;
	size_t cap_yes, cap_no;
	pos *yes_at, *no_at;   /* position of each explicit yes/no value */
	pos fk[FK__N];         /* value positions of [file] keys */
	pos konst_key[MF__COUNT], konst_val[MF__COUNT];
	pos file_sec, flags_sec, yes, no, none;
	int kind_set;          /* kind given and valid */
	int delim_set, quote_set;
	int nonempty;          /* any section or setting seen */
	int binary;            /* NUL byte: nothing else is checked */
	int parsing;           /* first pass (errors belong to the section) */
	int flags_had_error;
	int file_broken;       /* an error in or at a [file] section: a missing
	                          kind is then probably an echo */
	/* the current line */
	const char *ln; size_t len; unsigned lineno;
	char *scratch; size_t scratch_cap, scratch_used;
	tok *toks; size_t cap_toks;
} parser;

static void problem_add(parser *p, int severity, unsigned line, unsigned col,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void problem_add(parser *p, int severity, unsigned line, unsigned col,
                        const char *fmt, ...)
{
	if (severity == DIAG_ERROR) {
		p->n_errors++;
		if (p->parsing && p->sec == SEC_COLUMN && p->m->n_cols)
			p->cx[p->m->n_cols - 1].had_error = 1;
		if (p->parsing && p->sec == SEC_FLAGS)
			p->flags_had_error = 1;
		if (p->parsing && p->sec == SEC_FILE)
			p->file_broken = 1;
	}
	if (p->n_probs == p->cap_probs) {
		size_t nc = p->cap_probs ? 2 * p->cap_probs : 16;
		problem *np = realloc(p->probs, nc * sizeof *np);
		if (!np) {
			p->oom = 1;
			return;
		}
		p->probs = np;
		p->cap_probs = nc;
	}
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	if (!s) {
		p->oom = 1;
		return;
	}
	problem *pr = &p->probs[p->n_probs];
	pr->severity = severity;
	pr->line = line;
	pr->col = col;
	pr->seq = p->n_probs;
	pr->msg = s;
	p->n_probs++;
}

#define ERR(p, at, ...) problem_add((p), DIAG_ERROR, (at).line, (at).col, __VA_ARGS__)
#define WARN(p, at, ...) problem_add((p), DIAG_WARNING, (at).line, (at).col, __VA_ARGS__)

static int grow(parser *p, void **arr, size_t *cap, size_t need, size_t elsz)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 4;
	while (nc < need)
		nc *= 2;
	void *na = realloc(*arr, nc * elsz);
	if (!na) {
		p->oom = 1;
		return -1;
	}
	*arr = na;
	*cap = nc;
	return 0;
}

static char *dupn(parser *p, const char *s, size_t n)
{
	char *r = malloc(n + 1);
	if (!r) {
		p->oom = 1;
		return NULL;
	}
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

/* --- small text helpers ------------------------------------------------ */

static int is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static unsigned col_of(const parser *p, size_t at)
{
	return (unsigned)text_utf8_len(p->ln, at) + 1;
}

static pos pos_at(const parser *p, size_t at)
{
	pos r = {p->lineno, col_of(p, at)};
	return r;
}

/* Quote a token for a message (bounded, control characters replaced). */
static void quote_tok(const char *s, size_t n, char *out, size_t outsz)
{
	text_quote(s, n, out, outsz);
}

/* Normalised lower-case copy of a short token for keyword comparison. */
static void norm_word(const char *s, size_t n, char *out, size_t outsz)
{
	text_norm(s, n, out, outsz);
}

static int tok_is(const tok *t, const char *w)
{
	return t->n == strlen(w) && !memcmp(t->s, w, t->n);
}

/* The closest candidate by edit distance, if close enough to be a likely
 * typo (at most 2 edits and fewer edits than the word has characters);
 * else, for words of three or more characters, a candidate it prefixes. */
static const char *nearest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	unsigned bd = 3;
	size_t wl = strlen(word);
	for (size_t i = 0; i < n; i++) {
		if (!cands[i])
			continue;
		unsigned dist = text_edit_distance(word, cands[i], 3);
		if (dist < bd && dist < wl) {
			bd = dist;
			best = cands[i];
		}
	}
	if (!best && wl >= 3)
		for (size_t i = 0; i < n; i++)
			if (cands[i] && !strncmp(cands[i], word, wl))
				return cands[i];
	return best;
}

/* "; did you mean 'x'?" or "" into buf. */
static const char *suggest(const char *word, const char *const *cands, size_t n,
                           char *buf, size_t bufsz)
{
	const char *s = nearest(word, cands, n);
	if (s)
		snprintf(buf, bufsz, "; did you mean '%s'?", s);
	else
		buf[0] = '\0';
	return buf;
}

static int find_word(const char *w, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] && !strcmp(w, list[i]))
			return (int)i;
	return -1;
}

/* Whole decimal number without sign, at most max.  0 ok, -1 not. */
static int parse_num(const char *s, size_t n, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

/* --- lexing one line --------------------------------------------------- */

static void skip_ws(const parser *p, size_t *i)
{
	while (*i < p->len && is_ws(p->ln[*i]))
		(*i)++;
}

static int at_end(const parser *p, size_t i)
{
	return i >= p->len || p->ln[i] == '#';
}

/* A quoted value starting at ln[*i] == '"'.  0 ok, -1 reported. */
static int read_quoted(parser *p, size_t *i, tok *t)
{
	size_t open = *i, j = *i + 1;
	char *out = p->scratch + p->scratch_used;
	size_t o = 0;
	for (;;) {
		if (j >= p->len) {
			ERR(p, pos_at(p, open),
			    "unterminated quote (a quoted value must end with '\"' on the same line)");
			return -1;
		}
		char c = p->ln[j];
		if (c == '\\') {
			if (j + 1 >= p->len) {
				ERR(p, pos_at(p, open),
				    "unterminated quote (a quoted value must end with '\"' on the same line)");
				return -1;
			}
			char e = p->ln[j + 1];
			if (e != '"' && e != '\\') {
				char q[16];
				size_t el = 1;
				while (j + 1 + el < p->len && ((unsigned char)p->ln[j + 1 + el] & 0xC0) == 0x80)
					el++;
				quote_tok(p->ln + j + 1, el, q, sizeof q);
				ERR(p, pos_at(p, j),
				    "unknown escape '\\%s' in a quoted value (only \\\" and \\\\ are escapes)", q);
				return -1;
			}
			out[o++] = e;
			j += 2;
			continue;
		}
		if (c == '"')
			break;
		out[o++] = c;
		j++;
	}
	out[o] = '\0';
	p->scratch_used += o + 1;
	t->s = out;
	t->n = o;
	t->at = open;
	t->quoted = 1;
	*i = j + 1;
	return 0;
}

enum { STOP_COMMA = 1, STOP_ARROW = 2 };

static int is_arrow(const parser *p, size_t i)
{
	return i + 1 < p->len && p->ln[i] == '-' && p->ln[i + 1] == '>';
}

/* A bare value from ln[*i]: up to '#', the end, and per stop flags ',' or
 * "->"; trailing blanks trimmed.  A quote inside is an error. */
static int read_bare(parser *p, size_t *i, tok *t, int stop)
{
	size_t s = *i, j = *i;
	while (j < p->len && p->ln[j] != '#') {
		char c = p->ln[j];
		if ((stop & STOP_COMMA) && c == ',')
			break;
		if ((stop & STOP_ARROW) && is_arrow(p, j))
			break;
		if (c == '"') {
			ERR(p, pos_at(p, j),
			    "quote inside an unquoted value (quote the whole value: \"...\", "
			    "with \\\" for a quote)");
			return -1;
		}
		j++;
	}
	size_t e = j;
	while (e > s && is_ws(p->ln[e - 1]))
		e--;
	t->s = p->ln + s;
	t->n = e - s;
	t->at = s;
	t->quoted = 0;
	*i = j;
	return 0;
}

/* One value after '='.  An empty bare value is returned as n == 0,
 * !quoted (the caller reports it as missing). */
static int read_scalar(parser *p, size_t *i, tok *t)
{
	skip_ws(p, i);
	if (*i < p->len && p->ln[*i] == '"') {
		if (read_quoted(p, i, t) != 0)
			return -1;
		skip_ws(p, i);
		if (!at_end(p, *i)) {
			ERR(p, pos_at(p, *i), "unexpected text after the closing quote");
			return -1;
		}
		return 0;
	}
	return read_bare(p, i, t, 0);
}

static int push_tok(parser *p, size_t *n, const tok *t)
{
	if (grow(p, (void **)&p->toks, &p->cap_toks, *n + 1, sizeof *p->toks) != 0)
		return -1;
	p->toks[(*n)++] = *t;
	return 0;
}

/* A comma-separated list into p->toks.  With arrow, the list ends at "->"
 * and *arrow_at is set to the byte after it (0 when there is none). */
static int read_list(parser *p, size_t *i, size_t *n, int arrow, size_t *arrow_at)
{
	*n = 0;
	if (arrow_at)
		*arrow_at = 0;
	for (;;) {
		tok t;
		skip_ws(p, i);
		if (*i < p->len && p->ln[*i] == '"') {
			if (read_quoted(p, i, &t) != 0)
				return -1;
			skip_ws(p, i);
		} else {
			if (read_bare(p, i, &t, STOP_COMMA | (arrow ? STOP_ARROW : 0)) != 0)
				return -1;
			if (t.n == 0) {
				if (arrow && is_arrow(p, *i))
					ERR(p, pos_at(p, *i), "missing national value before '->' "
					    "(write \"\" for the empty value)");
				else
					ERR(p, pos_at(p, t.at), "empty value in the list "
					    "(write \"\" for the empty value)");
				return -1;
			}
		}
		if (push_tok(p, n, &t) != 0)
			return -1;
		if (*i < p->len && p->ln[*i] == ',') {
			(*i)++;
			continue;
		}
		if (arrow && is_arrow(p, *i)) {
			*i += 2;
			*arrow_at = *i;
			return 0;
		}
		if (at_end(p, *i))
			return 0;
		ERR(p, pos_at(p, *i), "expected ','%s or the end of the line after the quoted value",
		    arrow ? ", '->'" : "");
		return -1;
	}
}

/* --- section headers --------------------------------------------------- */

static map_column *cur_col(parser *p)
{
	return &p->m->cols[p->m->n_cols - 1];
}

static colx *cur_cx(parser *p)
{
	return &p->cx[p->m->n_cols - 1];
}

static const char *col_label(const map_column *c, char *buf, size_t bufsz)
{
	if (c->name) {
		char q[72];
		quote_tok(c->name, strlen(c->name), q, sizeof q);
		snprintf(buf, bufsz, "'%s'", q);
	} else {
		snprintf(buf, bufsz, "#%u", c->index);
	}
	return buf;
}

static int names_equal(const char *a, const char *b)
{
	if (!strcmp(a, b))
		return 1;
	size_t la = strlen(a), lb = strlen(b);
	char *na = malloc(la + 1), *nb = malloc(lb + 1);
	int eq = 0;
	if (na && nb) {
		text_norm(a, la, na, la + 1);
		text_norm(b, lb, nb, lb + 1);
		eq = !strcmp(na, nb);
	}
	free(na);
	free(nb);
	return eq;
}

static void start_column(parser *p, const tok *name, unsigned number, pos at)
{
	mapping *m = p->m;
	if (grow(p, (void **)&m->cols, &p->cap_cols, m->n_cols + 1, sizeof *m->cols) != 0)
		return;
	size_t capx = p->cap_cols;
	colx *nx = realloc(p->cx, capx * sizeof *nx);
	if (!nx) {
		p->oom = 1;
		return;
	}
	p->cx = nx;
	map_column *c = &m->cols[m->n_cols];
	colx *x = &p->cx[m->n_cols];
	memset(c, 0, sizeof *c);
	memset(x, 0, sizeof *x);
	c->line = p->lineno;
	c->field = MF_NONE;
	x->name = at;
	if (name) {
		c->name = dupn(p, name->s, name->n);
		if (!c->name)
			return;
	} else {
		c->index = number;
	}
	m->n_cols++;
	/* the same column described twice */
	for (size_t i = 0; i + 1 < m->n_cols; i++) {
		const map_column *o = &m->cols[i];
		int same = c->name ? o->name && names_equal(o->name, c->name)
		                   : !o->name && o->index == c->index;
		if (same) {
			char lb[96];
			ERR(p, at, "column %s is already described at line %u",
			    col_label(c, lb, sizeof lb), o->line);
			x->dup = 1;
			break;
		}
	}
}

static void section_header(parser *p, size_t i, int *word)
{
	size_t open = i;
	i++; /* '[' */
	p->sec = SEC_BAD;
	skip_ws(p, &i);
	size_t ws = i;
	while (i < p->len && (p->ln[i] == '_' || p->ln[i] == '-' ||
	       (p->ln[i] >= 'a' && p->ln[i] <= 'z') || (p->ln[i] >= 'A' && p->ln[i] <= 'Z') ||
	       (p->ln[i] >= '0' && p->ln[i] <= '9')))
		i++;
	size_t wn = i - ws;
	if (wn == 0) {
		ERR(p, pos_at(p, ws), "expected a section name: [file], [constant], "
		    "[column \"Header\"] or [flags form]");
		return;
	}
	char w[64], sb[64];
	snprintf(w, sizeof w, "%.*s", (int)(wn < 63 ? wn : 63), p->ln + ws);
	int s = find_word(w, section_names, NELEM(section_names));
	if (s < 0) {
		char q[72], lw[64];
		quote_tok(p->ln + ws, wn, q, sizeof q);
		norm_word(p->ln + ws, wn, lw, sizeof lw);
		ERR(p, pos_at(p, ws), "unknown section '%s' (expected one of: file, constant, "
		    "column, flags)%s", q, suggest(lw, section_names, NELEM(section_names), sb, sizeof sb));
		return;
	}
	*word = s;
	skip_ws(p, &i);
	/* the argument */
	tok arg = {0};
	int have_arg = 0;
	size_t arg_at = i;
	unsigned number = 0;
	if (i < p->len && p->ln[i] == '"') {
		if (read_quoted(p, &i, &arg) != 0)
			return;
		have_arg = 1;
	} else if (i < p->len && p->ln[i] != ']') {
		size_t b = i;
		while (i < p->len && !is_ws(p->ln[i]) && p->ln[i] != ']') {
			if (p->ln[i] == '"') {
				ERR(p, pos_at(p, i), "quote inside an unquoted column name "
				    "(quote the whole name: [column \"...\"])");
				return;
			}
			i++;
		}
		arg.s = p->ln + b;
		arg.n = i - b;
		arg.at = b;
		have_arg = 2;
	}
	skip_ws(p, &i);
	if (i >= p->len || p->ln[i] != ']') {
		if (have_arg == 2 && s == 2 && i < p->len && p->ln[i] != '#')
			ERR(p, pos_at(p, arg_at), "a column name with spaces must be quoted: "
			    "[column \"Header name\"]");
		else
			ERR(p, pos_at(p, i), "expected ']' to close the section header");
		return;
	}
	i++;
	skip_ws(p, &i);
	if (!at_end(p, i)) {
		ERR(p, pos_at(p, i), "unexpected text after the section header");
		return;
	}
	pos here = {p->lineno, col_of(p, open)};
	switch (s) {
	case 0:
	case 1:
		if (have_arg) {
			ERR(p, pos_at(p, arg_at), "[%s] takes no name", section_names[s]);
			return;
		}
		if (s == 0 && !p->file_sec.line)
			p->file_sec = here;
		p->sec = s == 0 ? SEC_FILE : SEC_CONST;
		return;
	case 2:
		if (!have_arg) {
			ERR(p, pos_at(p, arg_at), "expected a column: [column \"Header\"], "
			    "[column Header] or [column #N]");
			return;
		}
		if (have_arg == 2 && arg.s[0] == '#') {
			unsigned long long v;
			if (parse_num(arg.s + 1, arg.n - 1, ULLONG_MAX / 16, &v) != 0) {
				ERR(p, pos_at(p, arg_at), "expected a column number after '#' "
				    "([column #3] is the third column)");
				return;
			}
			if (v == 0 || v > COLUMN_NUMBER_MAX) {
				ERR(p, pos_at(p, arg_at), "column number %llu out of range "
				    "(columns are numbered from 1 to %u)", v, COLUMN_NUMBER_MAX);
				return;
			}
			number = (unsigned)v;
			start_column(p, NULL, number, pos_at(p, arg_at));
		} else {
			if (arg.n == 0) {
				ERR(p, pos_at(p, arg_at), "empty column name");
				return;
			}
			start_column(p, &arg, 0, pos_at(p, arg_at));
		}
		if (!p->oom)
			p->sec = SEC_COLUMN;
		return;
	default: /* flags */
		if (!have_arg || !tok_is(&arg, "form")) {
			char q[72];
			if (have_arg)
				quote_tok(arg.s, arg.n, q, sizeof q);
			if (have_arg)
				ERR(p, pos_at(p, arg_at), "unknown flags target '%s' (expected [flags form])", q);
			else
				ERR(p, pos_at(p, arg_at), "expected [flags form]");
			return;
		}
		if (!p->flags_sec.line)
			p->flags_sec = here;
		p->sec = SEC_FLAGS;
		return;
	}
}

static void parse_section(parser *p, size_t i)
{
	int word = -1;
	size_t errs0 = p->n_errors;
	section_header(p, i, &word);
	if (word == 0 && p->n_errors > errs0)
		p->file_broken = 1;
}

/* --- settings ---------------------------------------------------------- */

static const char *section_title(int sec)
{
	switch (sec) {
	case SEC_FILE: return "[file]";
	case SEC_CONST: return "[constant]";
	case SEC_COLUMN: return "[column]";
	default: return "[flags form]";
	}
}

/* Unknown key: say which keys the section has, and where the key would
 * belong if it is another section's. */
static void unknown_key(parser *p, const tok *key)
{
	char q[72], lw[64], hint[160] = "";
	quote_tok(key->s, key->n, q, sizeof q);
	norm_word(key->s, key->n, lw, sizeof lw);
	const char *list, *what = "key";
	const char *const *cands;
	size_t nc;
	switch (p->sec) {
	case SEC_FILE: list = FILE_KEY_LIST; cands = file_keys; nc = FK__N; break;
	case SEC_CONST:
		list = FIELD_LIST; cands = field_names; nc = MF__COUNT; what = "field";
		break;
	case SEC_COLUMN: list = COLUMN_KEY_LIST; cands = column_keys; nc = NELEM(column_keys); break;
	default: list = FLAG_KEY_LIST; cands = flag_keys; nc = NELEM(flag_keys); break;
	}
	if (p->sec != SEC_FILE && find_word(lw, file_keys, FK__N) >= 0)
		snprintf(hint, sizeof hint, "; '%s' belongs in [file]", lw);
	else if (p->sec != SEC_COLUMN && find_word(lw, column_keys, NELEM(column_keys)) >= 0)
		snprintf(hint, sizeof hint, "; '%s' belongs in a [column] section", lw);
	else if (p->sec != SEC_FLAGS && find_word(lw, flag_keys, NELEM(flag_keys)) >= 0)
		snprintf(hint, sizeof hint, "; '%s' belongs in [flags form]", lw);
	else if (p->sec != SEC_CONST && mapping_field_from_name(lw) != MF_NONE)
		snprintf(hint, sizeof hint, "; constants such as '%s = ...' go in [constant]", lw);
	else
		suggest(lw, cands, nc, hint, sizeof hint);
	ERR(p, pos_at(p, key->at), "unknown %s '%s' in %s (expected one of: %s)%s", what, q,
	    section_title(p->sec), list, hint);
}

static void unknown_field(parser *p, const tok *t, const char *where)
{
	char q[72], lw[64], sb[64];
	quote_tok(t->s, t->n, q, sizeof q);
	norm_word(t->s, t->n, lw, sizeof lw);
	const char *hint = suggest(lw, field_names, MF__COUNT, sb, sizeof sb);
	if (!hint[0] && !strcmp(lw, "age"))
		hint = "; did you mean 'age_group' or 'age_years'?";
	ERR(p, pos_at(p, t->at), "unknown field '%s'%s (expected one of: " FIELD_LIST ")%s", q,
	    where, hint);
}

static int missing_value(parser *p, const tok *t, const char *key)
{
	if (t->n == 0 && !t->quoted) {
		ERR(p, pos_at(p, t->at), "missing value for '%s'", key);
		return 1;
	}
	return 0;
}

static int already(parser *p, pos prev, const tok *key)
{
	if (!prev.line)
		return 0;
	char q[72];
	quote_tok(key->s, key->n, q, sizeof q);
	ERR(p, pos_at(p, key->at), "'%s' is already set at line %u", q, prev.line);
	return 1;
}

static void file_setting(parser *p, const tok *key, size_t i)
{
	mapping *m = p->m;
	char w[64], lw[64], sb[64], q[72];
	norm_word(key->s, key->n, w, sizeof w);
	int k = tok_is(key, w) ? find_word(w, file_keys, FK__N) : -1;
	if (k < 0) {
		unknown_key(p, key);
		return;
	}
	if (already(p, p->fk[k], key))
		return;
	tok t;
	if (read_scalar(p, &i, &t) != 0 || missing_value(p, &t, file_keys[k]))
		return;
	pos at = pos_at(p, t.at);
	p->fk[k] = at;
	quote_tok(t.s, t.n, q, sizeof q);
	norm_word(t.s, t.n, lw, sizeof lw);
	unsigned long long v;
	switch (k) {
	case FK_KIND: {
		static const char *const kinds[] = {"records", "cells"};
		int kk = find_word(lw, kinds, 2);
		if (kk < 0) {
			ERR(p, at, "unknown kind '%s' (expected records or cells)%s", q,
			    suggest(lw, kinds, 2, sb, sizeof sb));
			return;
		}
		m->kind = kk == 0 ? MAP_RECORDS : MAP_CELLS;
		p->kind_set = 1;
		return;
	}
	case FK_DELIM: {
		static const char *const words[] = {"comma", "semicolon", "tab", "pipe"};
		static const char chars[] = {',', ';', '\t', '|'};
		int wk = find_word(lw, words, 4);
		if (wk >= 0 && t.n > 1) {
			m->delimiter = chars[wk];
		} else if (t.n == 1 && (unsigned char)t.s[0] < 0x80 && t.s[0] != '\n' &&
		           t.s[0] != '\r') {
			m->delimiter = t.s[0];
		} else {
			ERR(p, at, "bad delimiter '%s' (expected comma, semicolon, tab, pipe or a "
			    "single ASCII character)%s", q, suggest(lw, words, 4, sb, sizeof sb));
			return;
		}
		p->delim_set = 1;
		return;
	}
	case FK_QUOTE:
		if (t.n == 1 && (unsigned char)t.s[0] < 0x80 && t.s[0] != '\n' && t.s[0] != '\r') {
			m->quote = t.s[0];
			p->quote_set = 1;
		} else {
			ERR(p, at, "bad quote '%s' (expected a single ASCII character)", q);
		}
		return;
	case FK_ENC: {
		static const char *const encs[] = {"utf-8", "latin-1"};
		int e = find_word(lw, encs, 2);
		if (e < 0) {
			ERR(p, at, "unknown encoding '%s' (expected utf-8 or latin-1)%s", q,
			    suggest(lw, encs, 2, sb, sizeof sb));
			return;
		}
		m->encoding = e == 0 ? ENC_UTF8 : ENC_LATIN1;
		return;
	}
	case FK_HEADER:
		if (parse_num(t.s, t.n, UINT_MAX, &v) != 0) {
			ERR(p, at, "bad header_line '%s' (expected the header's line number, "
			    "0 when the file has no header)", q);
			return;
		}
		m->header_line = (unsigned)v;
		return;
	case FK_DUPS: {
		static const char *const pol[] = {"error", "keep-first", "sum"};
		int d = find_word(lw, pol, 3);
		if (d < 0) {
			ERR(p, at, "unknown duplicates policy '%s' (expected error, keep-first or sum)%s",
			    q, suggest(lw, pol, 3, sb, sizeof sb));
			return;
		}
		m->duplicates = d == 0 ? DUP_ERROR : d == 1 ? DUP_KEEP_FIRST : DUP_SUM;
		return;
	}
	case FK_MAXF:
		if (parse_num(t.s, t.n, MAX_FIELD_LIMIT, &v) != 0 || v == 0) {
			ERR(p, at, "bad max_field_bytes '%s' (expected a number of bytes from 1 to %u)",
			    q, MAX_FIELD_LIMIT);
			return;
		}
		m->max_field_bytes = (size_t)v;
		return;
	default: /* FK_AGEREF */
		m->age_reference = dupn(p, t.s, t.n);
		return;
	}
}

static void constant_setting(parser *p, const tok *key, size_t i)
{
	mapping *m = p->m;
	char w[64];
	norm_word(key->s, key->n, w, sizeof w);
	int f = tok_is(key, w) ? mapping_field_from_name(w) : MF_NONE;
	if (f == MF_NONE) {
		if (find_word(w, file_keys, FK__N) >= 0 ||
		    find_word(w, column_keys, NELEM(column_keys)) >= 0 ||
		    find_word(w, flag_keys, NELEM(flag_keys)) >= 0)
			unknown_key(p, key);
		else
			unknown_field(p, key, " in [constant]");
		return;
	}
	if (p->konst_key[f].line) {
		ERR(p, pos_at(p, key->at), "constant '%s' is already set at line %u", w,
		    p->konst_key[f].line);
		return;
	}
	tok t;
	if (read_scalar(p, &i, &t) != 0 || missing_value(p, &t, w))
		return;
	p->konst_key[f] = pos_at(p, key->at);
	p->konst_val[f] = pos_at(p, t.at);
	if (!field_constant_ok(f)) {
		ERR(p, pos_at(p, key->at), "field '%s' cannot be a constant (it varies from row "
		    "to row: give it a [column])", w);
		return;
	}
	m->constants[f] = dupn(p, t.s, t.n);
}

/* map = a, b, "c d" -> CODE */
static void map_setting(parser *p, map_column *c, colx *x, const tok *key, size_t i)
{
	size_t n, arrow;
	skip_ws(p, &i);
	if (at_end(p, i)) {
		ERR(p, pos_at(p, i), "missing value for 'map' (expected: map = value, value -> CODE)");
		return;
	}
	if (read_list(p, &i, &n, 1, &arrow) != 0)
		return;
	if (!arrow) {
		ERR(p, pos_at(p, p->toks[0].at), "map line without '->' (expected: map = value, "
		    "value -> CODE)");
		return;
	}
	tok rhs;
	size_t ri = i;
	skip_ws(p, &ri);
	if (ri < p->len && p->ln[ri] == '"') {
		if (read_quoted(p, &ri, &rhs) != 0)
			return;
		skip_ws(p, &ri);
		if (!at_end(p, ri)) {
			ERR(p, pos_at(p, ri), "unexpected text after the code (one code after '->')");
			return;
		}
	} else {
		if (read_bare(p, &ri, &rhs, 0) != 0)
			return;
		for (size_t k = 0; k < rhs.n; k++) {
			size_t at = rhs.at + k;
			if (is_arrow(p, at)) {
				ERR(p, pos_at(p, at), "more than one '->' (quote a value that "
				    "contains '->')");
				return;
			}
			if (p->ln[at] == ',') {
				ERR(p, pos_at(p, at), "one code after '->', not a list");
				return;
			}
		}
		if (rhs.n == 0) {
			ERR(p, pos_at(p, rhs.at), "missing code after '->'");
			return;
		}
	}
	if (!x->map.line)
		x->map = pos_at(p, key->at);
	pos rpos = pos_at(p, rhs.at);
	for (size_t k = 0; k < n; k++) {
		const tok *v = &p->toks[k];
		char *norm = malloc(v->n + 1);
		if (!norm) {
			p->oom = 1;
			return;
		}
		size_t nl = text_norm(v->s, v->n, norm, v->n + 1);
		char q[72];
		quote_tok(v->s, v->n, q, sizeof q);
		if (nl > MAP_VALUE_MAX) {
			ERR(p, pos_at(p, v->at), "national value '%s' is longer than %d bytes "
			    "(normalised); it could never match", q, MAP_VALUE_MAX);
			free(norm);
			continue;
		}
		const map_pair *prev = NULL;
		for (size_t j = 0; j < c->n_pairs; j++)
			if (!strcmp(c->pairs[j].from, norm)) {
				prev = &c->pairs[j];
				break;
			}
		if (prev) {
			char a[64], b[64];
			size_t nr = rhs.n < sizeof b ? rhs.n : sizeof b - 1;
			text_norm(prev->to, strlen(prev->to), a, sizeof a);
			text_norm(rhs.s, nr, b, sizeof b);
			char qp[72], qr[72];
			quote_tok(prev->to, strlen(prev->to), qp, sizeof qp);
			quote_tok(rhs.s, rhs.n, qr, sizeof qr);
			if (!strcmp(a, b))
				WARN(p, pos_at(p, v->at), "'%s' is already mapped to '%s' at line %u "
				     "(repeated, ignored)", q, qp, prev->line);
			else
				ERR(p, pos_at(p, v->at), "'%s' is already mapped to '%s' at line %u; "
				    "it cannot also map to '%s'", q, qp, prev->line, qr);
			free(norm);
			continue;
		}
		if (grow(p, (void **)&c->pairs, &x->cap_pairs, c->n_pairs + 1, sizeof *c->pairs) != 0) {
			free(norm);
			return;
		}
		map_pair *pr = &c->pairs[c->n_pairs];
		pr->from = norm;
		pr->to = dupn(p, rhs.s, rhs.n);
		if (!pr->to) {
			free(norm);
			return;
		}
		pr->line = rpos.line;
		pr->col = rpos.col;
		c->n_pairs++;
	}
}

static void column_setting(parser *p, const tok *key, size_t i)
{
	map_column *c = cur_col(p);
	colx *x = cur_cx(p);
	char w[64], lw[64], sb[64], q[72];
	norm_word(key->s, key->n, w, sizeof w);
	int k = tok_is(key, w) ? find_word(w, column_keys, NELEM(column_keys)) : -1;
	if (k < 0) {
		unknown_key(p, key);
		return;
	}
	pos kpos = pos_at(p, key->at);
	tok t;
	switch (k) {
	case 0: /* field */
		if (already(p, x->field, key))
			return;
		if (read_scalar(p, &i, &t) != 0 || missing_value(p, &t, "field"))
			return;
		norm_word(t.s, t.n, lw, sizeof lw);
		x->field = pos_at(p, t.at);
		if (x->drop.line) {
			ERR(p, kpos, "a column is either mapped (field) or dropped (drop), not both "
			    "(drop at line %u)", x->drop.line);
			return;
		}
		c->field = t.n < 64 ? mapping_field_from_name(lw) : MF_NONE;
		if (c->field == MF_NONE) {
			x->field_bad = 1;
			unknown_field(p, &t, "");
		}
		return;
	case 1: { /* drop */
		static const char *const drops[] = {"identifier", "free_text", "other"};
		if (already(p, x->drop, key))
			return;
		if (read_scalar(p, &i, &t) != 0 || missing_value(p, &t, "drop"))
			return;
		x->drop = kpos;
		if (x->field.line) {
			ERR(p, kpos, "a column is either mapped (field) or dropped (drop), not both "
			    "(field at line %u)", x->field.line);
			return;
		}
		norm_word(t.s, t.n, lw, sizeof lw);
		int d = find_word(lw, drops, 3);
		if (d < 0) {
			quote_tok(t.s, t.n, q, sizeof q);
			ERR(p, pos_at(p, t.at), "unknown drop reason '%s' (expected identifier, "
			    "free_text or other)%s", q, suggest(lw, drops, 3, sb, sizeof sb));
			c->drop = DROP_OTHER; /* dropped all the same: no cascade */
			return;
		}
		c->drop = d == 0 ? DROP_IDENTIFIER : d == 1 ? DROP_FREE_TEXT : DROP_OTHER;
		return;
	}
	case 2:
		map_setting(p, c, x, key, i);
		return;
	case 3: /* fallback */
		if (already(p, x->fallback, key))
			return;
		if (read_scalar(p, &i, &t) != 0 || missing_value(p, &t, "fallback"))
			return;
		x->fallback = pos_at(p, t.at);
		c->fallback = dupn(p, t.s, t.n);
		return;
	case 4: { /* formats */
		if (already(p, x->formats, key))
			return;
		size_t n;
		skip_ws(p, &i);
		if (at_end(p, i)) {
			ERR(p, pos_at(p, i), "missing value for 'formats'");
			return;
		}
		if (read_list(p, &i, &n, 0, NULL) != 0)
			return;
		x->formats = kpos;
		if (grow(p, (void **)&c->formats, &x->cap_formats, n, sizeof *c->formats) != 0)
			return;
		for (size_t j = 0; j < n; j++) {
			const tok *v = &p->toks[j];
			char *f = dupn(p, v->s, v->n);
			if (!f)
				return;
			if (period_check_format(f) != 0) {
				quote_tok(v->s, v->n, q, sizeof q);
				ERR(p, pos_at(p, v->at), "bad date format '%s' (use the tokens YYYY, "
				    "MM or M, DD or D once each, with any separators, e.g. DD.MM.YYYY)", q);
				free(f);
				continue;
			}
			c->formats[c->n_formats++] = f;
		}
		return;
	}
	default: /* censored_min */
		if (already(p, x->censored, key))
			return;
		if (read_scalar(p, &i, &t) != 0 || missing_value(p, &t, "censored_min"))
			return;
		x->censored = kpos;
		if (tok_is(&t, "0") || tok_is(&t, "1")) {
			c->censored_min = t.s[0] - '0';
		} else {
			quote_tok(t.s, t.n, q, sizeof q);
			ERR(p, pos_at(p, t.at), "bad censored_min '%s' (expected 0 or 1)", q);
		}
		return;
	}
}

/* yes = ... / no = ... in [flags form] */
static void flag_list(parser *p, int yes, const tok *key, size_t i)
{
	mapping *m = p->m;
	pos *seen = yes ? &p->yes : &p->no;
	if (already(p, *seen, key))
		return;
	skip_ws(p, &i);
	if (at_end(p, i)) {
		ERR(p, pos_at(p, i), "missing value for '%s'", yes ? "yes" : "no");
		return;
	}
	size_t n;
	if (read_list(p, &i, &n, 0, NULL) != 0)
		return;
	*seen = pos_at(p, key->at);
	char ***arr = yes ? &m->flag_yes : &m->flag_no;
	size_t *cnt = yes ? &m->n_flag_yes : &m->n_flag_no;
	size_t *cap = yes ? &p->cap_yes : &p->cap_no;
	pos **at = yes ? &p->yes_at : &p->no_at;
	if (grow(p, (void **)arr, cap, n, sizeof **arr) != 0)
		return;
	pos *na = realloc(*at, (n ? n : 1) * sizeof *na);
	if (!na) {
		p->oom = 1;
		return;
	}
	*at = na;
	for (size_t k = 0; k < n; k++) {
		const tok *v = &p->toks[k];
		char *norm = malloc(v->n + 1);
		if (!norm) {
			p->oom = 1;
			return;
		}
		text_norm(v->s, v->n, norm, v->n + 1);
		int again = 0;
		for (size_t j = 0; j < *cnt; j++)
			again |= !strcmp((*arr)[j], norm);
		if (again) { /* a repeated spelling is harmless */
			free(norm);
			continue;
		}
		(*at)[*cnt] = pos_at(p, v->at);
		(*arr)[(*cnt)++] = norm;
	}
}

static void flags_setting(parser *p, const tok *key, size_t i)
{
	mapping *m = p->m;
	char w[64], q[72];
	norm_word(key->s, key->n, w, sizeof w);
	int k = tok_is(key, w) ? find_word(w, flag_keys, NELEM(flag_keys)) : -1;
	tok t;
	switch (k) {
	case 0: { /* column "Header" = CODE */
		tok name;
		skip_ws(p, &i);
		if (i < p->len && p->ln[i] == '"') {
			if (read_quoted(p, &i, &name) != 0)
				return;
		} else {
			size_t b = i;
			while (i < p->len && !is_ws(p->ln[i]) && p->ln[i] != '=' && p->ln[i] != '#') {
				if (p->ln[i] == '"') {
					ERR(p, pos_at(p, i), "quote inside an unquoted column name "
					    "(quote the whole name: column \"...\" = CODE)");
					return;
				}
				i++;
			}
			name.s = p->ln + b;
			name.n = i - b;
			name.at = b;
			name.quoted = 0;
			if (name.n == 0) {
				ERR(p, pos_at(p, b), "expected a column name after 'column' "
				    "(column \"Header\" = CODE)");
				return;
			}
		}
		if (name.n == 0) {
			ERR(p, pos_at(p, name.at), "empty column name");
			return;
		}
		skip_ws(p, &i);
		if (i >= p->len || p->ln[i] != '=') {
			ERR(p, pos_at(p, i), "expected '=' after the column name "
			    "(column \"Header\" = CODE)");
			return;
		}
		i++;
		if (read_scalar(p, &i, &t) != 0)
			return;
		if (t.n == 0 && !t.quoted) {
			ERR(p, pos_at(p, t.at), "missing form code after '=' (column \"Header\" = CODE)");
			return;
		}
		char *cname = dupn(p, name.s, name.n);
		if (!cname)
			return;
		for (size_t j = 0; j < m->n_flags; j++)
			if (names_equal(m->flags[j].column, cname)) {
				quote_tok(name.s, name.n, q, sizeof q);
				ERR(p, pos_at(p, name.at), "flag column '%s' is already listed at line %u",
				    q, m->flags[j].line);
				free(cname);
				return;
			}
		if (grow(p, (void **)&m->flags, &p->cap_flags, m->n_flags + 1, sizeof *m->flags) != 0) {
			free(cname);
			return;
		}
		flagx *nx = realloc(p->fx, p->cap_flags * sizeof *nx);
		if (!nx) {
			free(cname);
			p->oom = 1;
			return;
		}
		p->fx = nx;
		map_flag *fl = &m->flags[m->n_flags];
		fl->column = cname;
		fl->code = dupn(p, t.s, t.n);
		fl->line = p->lineno;
		p->fx[m->n_flags].name = pos_at(p, name.at);
		p->fx[m->n_flags].code = pos_at(p, t.at);
		m->n_flags++;
		return;
	}
	case 1:
	case 2:
		skip_ws(p, &i);
		if (i >= p->len || p->ln[i] != '=') {
			ERR(p, pos_at(p, i), "expected '=' after '%s'", w);
			return;
		}
		flag_list(p, k == 1, key, i + 1);
		return;
	case 3:
		skip_ws(p, &i);
		if (i >= p->len || p->ln[i] != '=') {
			ERR(p, pos_at(p, i), "expected '=' after 'none'");
			return;
		}
		i++;
		if (already(p, p->none, key))
			return;
		if (read_scalar(p, &i, &t) != 0 || missing_value(p, &t, "none"))
			return;
		p->none = pos_at(p, t.at);
		m->flag_none = dupn(p, t.s, t.n);
		return;
	default:
		unknown_key(p, key);
		return;
	}
}

static void parse_setting(parser *p, size_t i)
{
	if (p->sec == SEC_BAD)
		return; /* the section header was already reported */
	if (p->sec == SEC_NONE) {
		ERR(p, pos_at(p, i), "setting outside a section (start with [file], [constant], "
		    "[column \"Header\"] or [flags form])");
		p->sec = SEC_BAD;
		return;
	}
	size_t b = i;
	while (i < p->len && !is_ws(p->ln[i]) && p->ln[i] != '=' && p->ln[i] != '#' &&
	       p->ln[i] != '"')
		i++;
	tok key = {p->ln + b, i - b, b, 0};
	if (key.n == 0) {
		ERR(p, pos_at(p, b), "expected a setting (key = value) or a [section]");
		return;
	}
	if (p->sec == SEC_FLAGS) { /* "column NAME = CODE", "yes = ...": own syntax */
		flags_setting(p, &key, i);
		return;
	}
	skip_ws(p, &i);
	if (i >= p->len || p->ln[i] != '=') {
		char q[72];
		quote_tok(key.s, key.n, q, sizeof q);
		ERR(p, pos_at(p, i), "expected '=' after '%s' (settings are key = value)", q);
		return;
	}
	i++;
	switch (p->sec) {
	case SEC_FILE: file_setting(p, &key, i); break;
	case SEC_CONST: constant_setting(p, &key, i); break;
	default: column_setting(p, &key, i); break;
	}
}

static void parse_line(parser *p)
{
	size_t i = 0;
	skip_ws(p, &i);
	if (at_end(p, i))
		return;
	p->nonempty = 1;
	p->scratch_used = 0;
	if (p->ln[i] == '[')
		parse_section(p, i);
	else
		parse_setting(p, i);
}

/* --- codes --------------------------------------------------------------- */

static const cl_table *field_table(const codelists *cl, int f)
{
	switch (f) {
	case MF_INDICATOR: return &cl->indicators;
	case MF_SEX: return &cl->sex;
	case MF_AGE_GROUP: return &cl->age;
	case MF_FORM: return &cl->forms;
	default: return NULL;
	}
}

static int field_has_total(int f)
{
	return f == MF_SEX || f == MF_AGE_GROUP || f == MF_FORM || f == MF_CITIZENSHIP;
}

/* "F, M, O, U" from a codelist table into buf. */
static void code_list(const cl_table *t, int with_total, char *buf, size_t bufsz)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < t->n && o < bufsz; i++) {
		if (i == 16) {
			snprintf(buf + o, bufsz - o, ", ...");
			return;
		}
		o += (size_t)snprintf(buf + o, bufsz - o, "%s%s", i ? ", " : "", t->codes[i].code);
	}
	if (with_total && o < bufsz)
		snprintf(buf + o, bufsz - o, ", _T");
}

/* Is s (normalised) nearer to norm, of length wl, than *bd edits (and
 * fewer edits than norm has characters)?  Then *bd becomes its distance. */
static int nearer(const char *norm, size_t wl, const char *s, unsigned *bd)
{
	if (!s)
		return 0;
	char c[128];
	text_norm(s, strlen(s), c, sizeof c);
	unsigned dist = text_edit_distance(norm, c, 3);
	if (dist >= *bd || dist >= wl)
		return 0;
	*bd = dist;
	return 1;
}

/* Nearest code of a table to s (by code or label), if a likely typo. */
static const char *near_code(const cl_table *t, const char *norm)
{
	const char *best = NULL;
	unsigned bd = 3;
	size_t wl = strlen(norm);
	for (size_t i = 0; i < t->n; i++)
		for (int w = 0; w < 2; w++)
			if (nearer(norm, wl, w ? t->codes[i].label : t->codes[i].code, &bd))
				best = t->codes[i].code;
	return best;
}

static const char *near_country(const codelists *cl, const char *norm, char *buf, size_t bufsz)
{
	int best = -1;
	unsigned bd = 3;
	size_t wl = strlen(norm);
	for (size_t i = 0; i < cl->n_countries; i++)
		for (int w = 0; w < 2; w++)
			if (nearer(norm, wl, w ? cl->countries[i].name : cl->countries[i].iso3, &bd))
				best = (int)i;
	if (best < 0)
		return NULL;
	snprintf(buf, bufsz, "%s (%s)", cl->countries[best].iso3,
	         cl->countries[best].name ? cl->countries[best].name : "");
	return buf;
}

static int valid_interval(const char *s, size_t n)
{
	const char *dash = memchr(s, '-', n);
	unsigned long long a, b;
	if (!dash || parse_num(s, (size_t)(dash - s), COUNT_MAX, &a) != 0)
		return 0;
	size_t rest = n - (size_t)(dash - s) - 1;
	if (rest == 0)
		return 1;
	return parse_num(dash + 1, rest, COUNT_MAX, &b) == 0 && a <= b;
}

/* Is s[0..n) a valid value of field f (as a map right-hand side, fallback
 * or constant)?  Writes the problem into msg and returns 1 if not.
 * Code lists are consulted only when the parser has them. */
static int code_problem(const parser *p, int f, const char *s, size_t n, int allow_total,
                        char *msg, size_t msgsz)
{
	const codelists *cl = p->cl;
	int cells = p->kind_set && p->m->kind == MAP_CELLS;
	int records = p->kind_set && p->m->kind == MAP_RECORDS;
	char norm[128], q[72], sb[96];
	text_norm(s, n, norm, sizeof norm);
	quote_tok(s, n, q, sizeof q);
	const char *fname = mapping_field_name(f);
	if (field_has_total(f) && !strcmp(norm, "_t")) {
		if (!allow_total) {
			snprintf(msg, msgsz, "'_T' (total) is not a %s code here", fname);
			return 1;
		}
		if (records) {
			snprintf(msg, msgsz, "'_T' (total) is only for cells mappings; a record "
			         "always has a %s", fname);
			return 1;
		}
		return 0;
	}
	switch (f) {
	case MF_COUNT:
		if (!valid_interval(s, n)) {
			snprintf(msg, msgsz, "bad count interval '%s' (expected a-b, or a- for "
			         "unbounded: e.g. 1-4, 0-, or 0-0 for an exact zero)", q);
			return 1;
		}
		return 0;
	case MF_DIMENSION: {
		static const char *const dims[] = {"total", "sex", "age", "sex_age", "form",
		                                   "citizenship"};
		if (find_word(norm, dims, NELEM(dims)) < 0) {
			snprintf(msg, msgsz, "unknown dimension '%s' (expected one of: total, sex, age, "
			         "sex_age, form, citizenship)%s", q,
			         suggest(norm, dims, NELEM(dims), sb, sizeof sb));
			return 1;
		}
		return 0;
	}
	case MF_CATEGORY: {
		static const char *const cf[] = {"sex", "age", "age_group", "form", "citizenship"};
		static const int cfield[] = {MF_SEX, MF_AGE_GROUP, MF_AGE_GROUP, MF_FORM,
		                             MF_CITIZENSHIP};
		if (!strcmp(norm, "_t"))
			return 0;
		const char *colon = memchr(s, ':', n);
		int k = -1;
		if (colon) {
			char w[32];
			size_t wl = (size_t)(colon - s);
			if (wl < sizeof w) {
				memcpy(w, s, wl);
				w[wl] = '\0';
				k = find_word(w, cf, NELEM(cf));
			}
		}
		size_t rest = colon ? n - (size_t)(colon - s) - 1 : 0;
		if (k < 0 || rest == 0) {
			snprintf(msg, msgsz, "bad category '%s' (expected _T or field:CODE with field "
			         "sex, age, age_group, form or citizenship, e.g. form:SEX)", q);
			return 1;
		}
		char sub[384];
		text_norm(colon + 1, rest, norm, sizeof norm);
		if (!strcmp(norm, "_t")) {
			snprintf(msg, msgsz, "bad category '%s' (a total category is written _T)", q);
			return 1;
		}
		if (code_problem(p, cfield[k], colon + 1, rest, 0, sub, sizeof sub)) {
			snprintf(msg, msgsz, "in category '%s': %s", q, sub);
			return 1;
		}
		return 0;
	}
	case MF_PERIOD:
		if (period_parse(s, n) < 0) {
			snprintf(msg, msgsz, "bad period '%s' (expected YYYY-Qn or YYYY)", q);
			return 1;
		}
		return 0;
	case MF_YEAR: {
		unsigned long long y;
		if (parse_num(s, n, 9999, &y) != 0 || n != 4 || y < PERIOD_MIN_YEAR ||
		    y > PERIOD_MAX_YEAR) {
			snprintf(msg, msgsz, "bad year '%s' (expected YYYY, %d-%d)", q, PERIOD_MIN_YEAR,
			         PERIOD_MAX_YEAR);
			return 1;
		}
		return 0;
	}
	case MF_QUARTER:
		if (!((norm[0] == 'q' && norm[1] >= '1' && norm[1] <= '4' && !norm[2]) ||
		      (norm[0] >= '1' && norm[0] <= '4' && !norm[1]))) {
			snprintf(msg, msgsz, "bad quarter '%s' (expected 1-4 or Q1-Q4)", q);
			return 1;
		}
		return 0;
	case MF_COUNTRY:
	case MF_CITIZENSHIP:
		if (f == MF_CITIZENSHIP && (!strcmp(norm, "u") || !strcmp(norm, "unknown")))
			return 0;
		if (!cl || cl_find_country(cl, s, n) >= 0)
			return 0;
		{
			char nb[96];
			const char *near = near_country(cl, norm, nb, sizeof nb);
			char hint[128] = "";
			if (near)
				snprintf(hint, sizeof hint, "; did you mean %s?", near);
			snprintf(msg, msgsz, "unknown %s '%s' (expected an ISO 3166 alpha-3 or alpha-2 "
			         "code, an M49 number or a country name%s)%s",
			         f == MF_COUNTRY ? "country" : "citizenship", q,
			         f == MF_CITIZENSHIP ? ", or U for unknown" : "", hint);
		}
		return 1;
	default: {
		const cl_table *t = cl ? field_table(cl, f) : NULL;
		if (!t || cl_find(t, s, n) >= 0)
			return 0;
		char list[256], hint[96] = "";
		code_list(t, allow_total && cells && field_has_total(f), list, sizeof list);
		const char *near = near_code(t, norm);
		if (near)
			snprintf(hint, sizeof hint, "; did you mean '%s'?", near);
		snprintf(msg, msgsz, "unknown %s code '%s' (expected one of: %s)%s", fname, q, list,
		         hint);
		return 1;
	}
	}
}

static void check_code(parser *p, int f, const char *s, int allow_total, pos at)
{
	char msg[640];
	if (code_problem(p, f, s, strlen(s), allow_total, msg, sizeof msg))
		ERR(p, at, "%s", msg);
}

/* --- whole-mapping checks ---------------------------------------------- */

typedef struct source {
	pos at;              /* where to report (the field value / key) */
	char desc[128];      /* "column 'Sex' (line 20)" */
} source;

static int src_cmp(const void *a, const void *b)
{
	const source *x = a, *y = b;
	if (x->at.line != y->at.line)
		return x->at.line < y->at.line ? -1 : 1;
	return x->at.col < y->at.col ? -1 : x->at.col > y->at.col;
}

/* All sources of field f, sorted by position.  Returns how many (at most
 * max; the count is exact). */
static size_t field_sources(const parser *p, int f, source *out, size_t max)
{
	const mapping *m = p->m;
	size_t n = 0;
	if (m->constants[f]) {
		if (n < max) {
			out[n].at = p->konst_key[f];
			snprintf(out[n].desc, sizeof out[n].desc, "the constant (line %u)",
			         p->konst_key[f].line);
		}
		n++;
	}
	for (size_t i = 0; i < m->n_cols; i++) {
		const map_column *c = &m->cols[i];
		if (p->cx[i].dup || c->field != f || !p->cx[i].field.line)
			continue;
		if (n < max) {
			char lb[96];
			out[n].at = p->cx[i].field;
			snprintf(out[n].desc, sizeof out[n].desc, "column %s (line %u)",
			         col_label(c, lb, sizeof lb), p->cx[i].field.line);
		}
		n++;
	}
	if (f == MF_FORM && p->flags_sec.line) {
		if (n < max) {
			out[n].at = p->flags_sec;
			snprintf(out[n].desc, sizeof out[n].desc, "[flags form] (line %u)",
			         p->flags_sec.line);
		}
		n++;
	}
	qsort(out, n < max ? n : max, sizeof *out, src_cmp);
	return n;
}

static int has_source(const parser *p, int f)
{
	source s[1];
	return field_sources(p, f, s, 1) > 0;
}

static pos first_source(const parser *p, int f)
{
	source s[1];
	pos none = {0, 0};
	return field_sources(p, f, s, 1) ? s[0].at : none;
}

static void check_fed_twice(parser *p)
{
	source s[16];
	for (int f = MF_NONE + 1; f < MF__COUNT; f++) {
		size_t n = field_sources(p, f, s, NELEM(s));
		if (n > NELEM(s))
			n = NELEM(s);
		for (size_t k = 1; k < n; k++)
			ERR(p, s[k].at, "field '%s' is fed twice: by %s and by %s", mapping_field_name(f),
			    s[0].desc, s[k].desc);
	}
}

static void check_columns(parser *p)
{
	mapping *m = p->m;
	const char *kname = m->kind == MAP_CELLS ? "cells" : "records";
	for (size_t i = 0; i < m->n_cols; i++) {
		map_column *c = &m->cols[i];
		colx *x = &p->cx[i];
		char lb[96];
		col_label(c, lb, sizeof lb);
		if (c->name && p->fk[FK_HEADER].line && m->header_line == 0)
			ERR(p, x->name, "column %s is addressed by name, but header_line = 0 (no "
			    "header row): address it by number, [column #N]", lb);
		if (x->dup)
			continue;
		if (c->drop) {
			static const char *const what[] = {"map", "fallback", "formats", "censored_min"};
			const pos at[] = {x->map, x->fallback, x->formats, x->censored};
			for (int k = 0; k < 4; k++)
				if (at[k].line)
					ERR(p, at[k], "'%s' is not allowed on a dropped column", what[k]);
			continue;
		}
		if (c->field == MF_NONE) {
			/* an unknown field, or field and drop together: already reported */
			if (!x->field_bad && !x->drop.line && !x->had_error)
				ERR(p, x->name, "column %s has neither field nor drop (add field = ... "
				    "or drop = identifier, free_text or other)", lb);
			continue;
		}
		const char *fname = mapping_field_name(c->field);
		if (p->kind_set && !(field_kinds(c->field) & (m->kind == MAP_CELLS ? K_CELLS : K_REC)))
			ERR(p, x->field, "field '%s' is only for %s mappings (this mapping is kind = %s)",
			    fname, m->kind == MAP_CELLS ? "records" : "cells", kname);
		if (x->map.line && !field_mappable(c->field))
			ERR(p, x->map, "'map' is not allowed for field '%s'", fname);
		if (x->fallback.line && (!field_mappable(c->field) || c->field == MF_COUNT))
			ERR(p, x->fallback, "'fallback' is not allowed for field '%s'%s", fname,
			    c->field == MF_COUNT ? " (map each censor marker to an interval)" : "");
		int is_date = c->field == MF_DATE || c->field == MF_BIRTH_DATE;
		if (x->formats.line && !is_date)
			ERR(p, x->formats, "'formats' is only for date and birth_date columns (this "
			    "column has field = %s)", fname);
		if (is_date && !x->formats.line)
			ERR(p, x->field, "field '%s' needs 'formats' (e.g. formats = YYYY-MM-DD)", fname);
		if (x->censored.line && c->field != MF_COUNT)
			ERR(p, x->censored, "'censored_min' is only for count columns (this column has "
			    "field = %s)", fname);
		if (field_mappable(c->field)) {
			for (size_t k = 0; k < c->n_pairs; k++) {
				const map_pair *pr = &c->pairs[k];
				if (k && pr->line == c->pairs[k - 1].line && pr->col == c->pairs[k - 1].col)
					continue; /* same right-hand side as the previous value */
				pos at = {pr->line, pr->col};
				check_code(p, c->field, pr->to, 1, at);
			}
			if (c->fallback && c->field != MF_COUNT)
				check_code(p, c->field, c->fallback, 1, x->fallback);
		}
	}
}

static void check_flags(parser *p)
{
	mapping *m = p->m;
	if (!p->flags_sec.line)
		return;
	if (p->kind_set && m->kind == MAP_CELLS)
		ERR(p, p->flags_sec, "[flags form] is for records mappings (one person's forms of "
		    "exploitation); a cells mapping takes the form from a column or a category");
	if (!m->n_flags && !p->flags_had_error)
		ERR(p, p->flags_sec, "[flags form] lists no columns (expected lines "
		    "column \"Header\" = CODE)");
	for (size_t k = 0; k < m->n_flags; k++) {
		const map_flag *fl = &m->flags[k];
		if (p->fk[FK_HEADER].line && m->header_line == 0)
			ERR(p, p->fx[k].name, "flag column '%s' is addressed by name, but header_line "
			    "= 0 (no header row)", fl->column);
		if (fl->code)
			check_code(p, MF_FORM, fl->code, 0, p->fx[k].code);
		for (size_t i = 0; i < m->n_cols; i++) {
			const map_column *c = &m->cols[i];
			if (!c->name || !names_equal(c->name, fl->column))
				continue;
			int flag_later = fl->line > c->line;
			char q[72];
			quote_tok(fl->column, strlen(fl->column), q, sizeof q);
			ERR(p, flag_later ? p->fx[k].name : p->cx[i].name, "column '%s' is both a flag "
			    "column of [flags form] (line %u) and a [column] section (line %u)", q,
			    fl->line, c->line);
		}
	}
	if (m->flag_none)
		check_code(p, MF_FORM, m->flag_none, 0, p->none);
	/* yes and no must not overlap (explicit lists against the other list,
	 * explicit or default) */
	for (size_t i = 0; i < m->n_flag_yes; i++)
		for (size_t j = 0; j < m->n_flag_no; j++) {
			if (strcmp(m->flag_yes[i], m->flag_no[j]))
				continue;
			int yes_explicit = p->yes.line != 0, no_explicit = p->no.line != 0;
			pos at;
			if (yes_explicit && no_explicit)
				at = p->yes_at[i].line > p->no_at[j].line ||
				     (p->yes_at[i].line == p->no_at[j].line && p->yes_at[i].col > p->no_at[j].col)
				     ? p->yes_at[i] : p->no_at[j];
			else
				at = yes_explicit ? p->yes_at[i] : p->no_at[j];
			char q[72];
			quote_tok(m->flag_yes[i], strlen(m->flag_yes[i]), q, sizeof q);
			ERR(p, at, "'%s' is both a yes and a no value%s", q,
			    yes_explicit && no_explicit ? "" : " (the other list is the default)");
		}
}

static int fill_flag_defaults(parser *p)
{
	mapping *m = p->m;
	static const char *const dyes[] = {"yes", "y", "1", "true", "x"};
	static const char *const dno[] = {"no", "n", "0", "false", ""};
	if (!p->flags_sec.line)
		return 0;
	if (!p->yes.line) {
		if (grow(p, (void **)&m->flag_yes, &p->cap_yes, NELEM(dyes), sizeof *m->flag_yes) != 0)
			return -1;
		for (size_t i = 0; i < NELEM(dyes); i++)
			if (!(m->flag_yes[m->n_flag_yes++] = dupn(p, dyes[i], strlen(dyes[i]))))
				return (m->n_flag_yes--, -1);
	}
	if (!p->no.line) {
		if (grow(p, (void **)&m->flag_no, &p->cap_no, NELEM(dno), sizeof *m->flag_no) != 0)
			return -1;
		for (size_t i = 0; i < NELEM(dno); i++)
			if (!(m->flag_no[m->n_flag_no++] = dupn(p, dno[i], strlen(dno[i]))))
				return (m->n_flag_no--, -1);
	}
	if (!m->flag_none && !(m->flag_none = dupn(p, "U", 1)))
		return -1;
	return 0;
}

static void check_constants(parser *p)
{
	mapping *m = p->m;
	for (int f = MF_NONE + 1; f < MF__COUNT; f++) {
		if (!m->constants[f])
			continue;
		if (p->kind_set && !(field_kinds(f) & (m->kind == MAP_CELLS ? K_CELLS : K_REC)))
			ERR(p, p->konst_key[f], "field '%s' is only for %s mappings (this mapping is "
			    "kind = %s)", mapping_field_name(f), m->kind == MAP_CELLS ? "records" : "cells",
			    m->kind == MAP_CELLS ? "cells" : "records");
		check_code(p, f, m->constants[f], 1, p->konst_val[f]);
	}
}

static void check_period_sources(parser *p)
{
	static const int pf[] = {MF_PERIOD, MF_YEAR, MF_DATE};
	source s[3];
	memset(s, 0, sizeof s);
	size_t n = 0;
	for (size_t k = 0; k < NELEM(pf); k++) {
		source one[1];
		if (field_sources(p, pf[k], one, 1)) {
			s[n] = one[0];
			snprintf(s[n].desc, sizeof s[n].desc, "%s from %.110s", mapping_field_name(pf[k]),
			         one[0].desc);
			n++;
		}
	}
	qsort(s, n, sizeof *s, src_cmp);
	for (size_t k = 1; k < n; k++)
		ERR(p, s[k].at, "the period has two sources: %s and %s; keep one (period, year with "
		    "an optional quarter, or date)", s[0].desc, s[k].desc);
	if (has_source(p, MF_QUARTER) && !has_source(p, MF_YEAR))
		ERR(p, first_source(p, MF_QUARTER), "quarter without year: a quarter makes the period "
		    "only together with a year");
}

static void check_coverage(parser *p)
{
	mapping *m = p->m;
	pos at = p->fk[FK_KIND];
	const char *k = m->kind == MAP_CELLS ? "cells" : "records";
	if (!has_source(p, MF_COUNTRY))
		ERR(p, at, "a %s mapping needs the reporting country: a [constant] country = ... or "
		    "a column with field = country", k);
	if (!has_source(p, MF_PERIOD) && !has_source(p, MF_YEAR) &&
	    !(m->kind == MAP_RECORDS && has_source(p, MF_DATE)))
		ERR(p, at, "a %s mapping needs a period: a [constant] period = ..., or a column "
		    "with field = period, year (+ quarter)%s", k, m->kind == MAP_RECORDS ? " or date" : "");
	if (!has_source(p, MF_INDICATOR))
		ERR(p, at, "a %s mapping needs the indicator: a [constant] indicator = ... or a "
		    "column with field = indicator", k);
	if (m->kind == MAP_RECORDS) {
		static const int bd[] = {MF_SEX, MF_AGE_GROUP, MF_AGE_YEARS, MF_BIRTH_DATE, MF_FORM,
		                         MF_CITIZENSHIP};
		int any = 0;
		for (size_t i = 0; i < NELEM(bd); i++)
			any |= has_source(p, bd[i]);
		if (!any)
			ERR(p, at, "a records mapping needs at least one breakdown: a column or "
			    "constant for sex, age_group, age_years, birth_date, form or citizenship");
	} else {
		int count_col = 0;
		for (size_t i = 0; i < m->n_cols; i++)
			count_col |= !p->cx[i].dup && m->cols[i].field == MF_COUNT;
		if (!count_col)
			ERR(p, at, "a cells mapping needs a column with field = count");
		if (has_source(p, MF_CATEGORY) && !has_source(p, MF_DIMENSION))
			ERR(p, first_source(p, MF_CATEGORY), "a category column needs a dimension "
			    "column (field = dimension) saying which breakdown each row is");
	}
}

static void check_age_reference(parser *p)
{
	mapping *m = p->m;
	if (!m->age_reference)
		return;
	pos at = p->fk[FK_AGEREF];
	if (p->kind_set && m->kind == MAP_CELLS) {
		ERR(p, at, "age_reference is only for records mappings");
		return;
	}
	if (!has_source(p, MF_BIRTH_DATE)) {
		ERR(p, at, "age_reference is set but no column has field = birth_date");
		return;
	}
	const map_column *c = mapping_column(m, m->age_reference);
	char q[72];
	quote_tok(m->age_reference, strlen(m->age_reference), q, sizeof q);
	if (!c || !c->name)
		ERR(p, at, "age_reference '%s' is not a [column] of this mapping", q);
	else if (c->field == MF_BIRTH_DATE)
		ERR(p, at, "age_reference '%s' is the birth_date column itself", q);
}

static void check_all(parser *p)
{
	mapping *m = p->m;
	if (!p->nonempty) {
		pos at = {1, 1};
		ERR(p, at, "empty mapping (expected a [file] section with kind = records or cells, "
		    "then the columns)");
		return;
	}
	if (p->delim_set || p->quote_set) {
		char dl = m->delimiter, qc = m->quote;
		if (dl == qc) {
			pos at = !p->quote_set ? p->fk[FK_DELIM] : !p->delim_set ? p->fk[FK_QUOTE]
			       : p->fk[FK_DELIM].line > p->fk[FK_QUOTE].line ? p->fk[FK_DELIM]
			       : p->fk[FK_QUOTE];
			ERR(p, at, "the delimiter and the quote are the same character ('%c')", dl);
		}
	}
	if (!p->fk[FK_KIND].line && !p->file_broken) {
		pos one = {1, 1};
		if (p->file_sec.line)
			ERR(p, p->file_sec, "missing kind in [file] (expected kind = records or "
			    "kind = cells)");
		else
			ERR(p, one, "no [file] section (expected [file] with kind = records or cells)");
	}
	if (fill_flag_defaults(p) != 0)
		return;
	check_columns(p);
	check_flags(p);
	check_constants(p);
	check_fed_twice(p);
	check_period_sources(p);
	check_age_reference(p);
	if (p->kind_set && m->kind == MAP_RECORDS && m->duplicates == DUP_SUM)
		ERR(p, p->fk[FK_DUPS], "duplicates = sum is only for cells mappings (records: "
		    "error or keep-first)");
	/* what a kind needs is only worth saying about an otherwise sound
	 * mapping: after a broken section it is mostly an echo */
	if (p->kind_set && !p->n_errors)
		check_coverage(p);
}

/* --- driver ------------------------------------------------------------ */

static int prob_cmp(const void *a, const void *b)
{
	const problem *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void parser_free(parser *p)
{
	for (size_t i = 0; i < p->n_probs; i++)
		free(p->probs[i].msg);
	free(p->probs);
	free(p->cx);
	free(p->fx);
	free(p->yes_at);
	free(p->no_at);
	free(p->scratch);
	free(p->toks);
}

/* A line that cannot be read loses its settings; if it was a section
 * header, what follows belongs to no known section (and if that was
 * [file], a missing kind is no news). */
static void line_lost(parser *p, size_t n)
{
	size_t i = 0;
	p->nonempty = 1;
	while (i < n && is_ws(p->ln[i]))
		i++;
	if (i < n && p->ln[i] == '[') {
		p->sec = SEC_BAD;
		i++;
		while (i < n && is_ws(p->ln[i]))
			i++;
		if (n - i >= 4 && !memcmp(p->ln + i, "file", 4))
			p->file_broken = 1;
	}
}

/* Split into lines and parse them; encoding problems per line. */
static void parse_text(parser *p, const char *text, size_t len)
{
	size_t at = 0;
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
		at = 3;
	/* a NUL byte means this is not a text file: one error, nothing else */
	/* cppcheck-suppress pointerOutOfBounds ; at <= len by the test above */
	const char *nul = memchr(text + at, '\0', len - at);
	if (nul) {
		size_t off = (size_t)(nul - text);
		unsigned line = 1;
		size_t ls = at;
		for (size_t i = at; i < off; i++)
			if (text[i] == '\n') {
				line++;
				ls = i + 1;
			}
		p->ln = text + ls;
		p->lineno = line;
		size_t bad;
		/* column in characters of the valid prefix */
		unsigned col = text_utf8_valid(text + ls, off - ls, &bad)
		             ? (unsigned)text_utf8_len(text + ls, off - ls) + 1
		             : (unsigned)text_utf8_len(text + ls, bad) + 1;
		pos where = {line, col};
		ERR(p, where, "NUL byte: a mapping is a text file (is this a binary file?)");
		p->binary = 1;
		return;
	}
	unsigned line = 0;
	while (at < len) {
		const char *s = text + at;
		const char *nl = memchr(s, '\n', len - at);
		size_t n = nl ? (size_t)(nl - s) : len - at;
		at += n + (nl ? 1 : 0);
		line++;
		if (n && s[n - 1] == '\r')
			n--;
		p->ln = s;
		p->len = n;
		p->lineno = line;
		size_t bad;
		if (!text_utf8_valid(s, n, &bad)) {
			ERR(p, pos_at(p, bad), "invalid UTF-8 (a mapping file is UTF-8; `encoding` "
			    "describes the data file, not the mapping)");
			line_lost(p, bad);
			continue;
		}
		const char *cr = memchr(s, '\r', n);
		if (cr) {
			ERR(p, pos_at(p, (size_t)(cr - s)), "stray carriage return (lines end with LF "
			    "or CRLF)");
			line_lost(p, (size_t)(cr - s));
			continue;
		}
		if (grow(p, (void **)&p->scratch, &p->scratch_cap, n + 1, 1) != 0)
			return;
		parse_line(p);
		if (p->oom)
			return;
	}
}

int mapping_parse(const char *text, size_t len, const char *name, const codelists *cl,
                  mapping *m, diag *d)
{
	parser p;
	memset(&p, 0, sizeof p);
	memset(m, 0, sizeof *m);
	if (!name)
		name = "mapping";
	if (sodium_init() < 0)
		return diag_fail(d, EX_SOFTWARE, "libsodium failed to initialise");
	crypto_hash_sha256(m->sha256, (const unsigned char *)(text ? text : ""), text ? len : 0);
	m->delimiter = ',';
	m->quote = '"';
	m->encoding = ENC_UTF8;
	m->header_line = 1;
	m->duplicates = DUP_ERROR;
	m->max_field_bytes = 65536;
	m->path = strdup(name);
	if (!m->path) {
		mapping_free(m);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	p.name = name;
	p.cl = cl;
	p.m = m;
	p.parsing = 1;
	parse_text(&p, text ? text : "", text ? len : 0);
	p.parsing = 0;
	if (!p.oom && !p.binary)
		check_all(&p);
	if (p.oom) {
		parser_free(&p);
		mapping_free(m);
		return diag_fail(d, EX_OSERR, "out of memory while reading mapping %s", name);
	}
	if (p.n_probs)
		qsort(p.probs, p.n_probs, sizeof *p.probs, prob_cmp);
	for (size_t i = 0; i < p.n_probs; i++)
		diag_add(d, p.probs[i].severity, name, p.probs[i].line, p.probs[i].col, "%s",
		         p.probs[i].msg);
	size_t nerr = p.n_errors;
	parser_free(&p);
	if (nerr) {
		mapping_free(m);
		return diag_fail(d, EX_CONFIG, "mapping %s: %zu error%s", name, nerr,
		                 nerr == 1 ? "" : "s");
	}
	return 0;
}

int mapping_load(const char *path, const codelists *cl, mapping *m, diag *d)
{
	memset(m, 0, sizeof *m);
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return diag_fail(d, EX_NOINPUT, "cannot open mapping %s: %s", path, strerror(errno));
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	if (!buf) {
		fclose(fp);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	for (;;) {
		if (n == cap) {
			if (cap >= MAPPING_MAX_FILE) {
				free(buf);
				fclose(fp);
				return diag_fail(d, EX_CONFIG, "mapping %s is larger than %u bytes; "
				                 "is it really a mapping file?", path, MAPPING_MAX_FILE);
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				fclose(fp);
				return diag_fail(d, EX_OSERR, "out of memory");
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n, fp);
		n += got;
		if (got == 0)
			break;
	}
	int err = ferror(fp);
	int saved = errno;
	fclose(fp);
	if (err) {
		free(buf);
		return diag_fail(d, EX_NOINPUT, "cannot read mapping %s: %s", path, strerror(saved));
	}
	int rc = mapping_parse(buf, n, path, cl, m, d);
	free(buf);
	return rc;
}

void mapping_free(mapping *m)
{
	if (!m)
		return;
	free(m->path);
	for (int f = 0; f < MF__COUNT; f++)
		free(m->constants[f]);
	for (size_t i = 0; i < m->n_cols; i++) {
		map_column *c = &m->cols[i];
		free(c->name);
		for (size_t k = 0; k < c->n_pairs; k++) {
			free(c->pairs[k].from);
			free(c->pairs[k].to);
		}
		free(c->pairs);
		free(c->fallback);
		for (size_t k = 0; k < c->n_formats; k++)
			free(c->formats[k]);
		free(c->formats);
	}
	free(m->cols);
	for (size_t k = 0; k < m->n_flags; k++) {
		free(m->flags[k].column);
		free(m->flags[k].code);
	}
	free(m->flags);
	for (size_t k = 0; k < m->n_flag_yes; k++)
		free(m->flag_yes[k]);
	free(m->flag_yes);
	for (size_t k = 0; k < m->n_flag_no; k++)
		free(m->flag_no[k]);
	free(m->flag_no);
	free(m->flag_none);
	free(m->age_reference);
	memset(m, 0, sizeof *m);
}

const map_column *mapping_column(const mapping *m, const char *name)
{
	if (!m || !name)
		return NULL;
	for (size_t i = 0; i < m->n_cols; i++)
		if (m->cols[i].name && !strcmp(m->cols[i].name, name))
			return &m->cols[i];
	for (size_t i = 0; i < m->n_cols; i++)
		if (m->cols[i].name && names_equal(m->cols[i].name, name))
			return &m->cols[i];
	if (name[0] == '#') {
		unsigned long long v;
		if (parse_num(name + 1, strlen(name + 1), COLUMN_NUMBER_MAX, &v) == 0)
			for (size_t i = 0; i < m->n_cols; i++)
				if (!m->cols[i].name && m->cols[i].index == v)
					return &m->cols[i];
	}
	return NULL;
}
