/* harmonise: see harmonise.h.
 *
 * Shape: everything that depends only on the mapping and the header is
 * resolved once in harm_init(); harm_row() then only looks values up.
 * Each input column gets a `harm_col` with its field, its value map
 * (normalised national value -> resolved integer) and a small cache of raw
 * values already resolved, so a file with a million rows of "w" and "m"
 * normalises each spelling once.
 *
 * Resolved integers: for code fields the codelist index (or STD_TOTAL /
 * STD_UNKNOWN); for `dimension` a bit set of broken-down fields; for
 * `category` CAT(field, index); for `count` a packed interval.
 */
#include "ingest/harmonise.h"

#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "core/period.h"
#include "core/text.h"

#define NORM_MAX 256
#define CACHE_MAX 4096      /* raw spellings cached per column */
#define NO_CONST INT32_MIN

/* dimension bits */
enum { DIM_SEX = 1, DIM_AGE = 2, DIM_FORM = 4, DIM_CIT = 8 };

struct harm_col {
	const map_column *mc;   /* NULL when the column is not in the mapping */
	int field;              /* enum map_field, MF_NONE if dropped/ignored */
	int quotable;           /* may its values appear in messages? */
	hmap map;               /* normalised national value -> resolved */
	hmap cache;             /* raw value -> resolved (successes only) */
	int fallback;           /* resolved fallback, or NO_CONST */
	int has_fallback;
	int free_text_checked;  /* unmapped column: content check done */
	const char *name;       /* header name, for messages */
};

/* --- packing of resolved values ---------------------------------------- */

#define CAT(field, idx) ((int64_t)(field) * 100000 + (int64_t)(idx) + 10)
#define CAT_FIELD(v) ((int)((v) / 100000))
#define CAT_IDX(v) ((int)((v) % 100000) - 10)

static int64_t pack_interval(int64_t lo, int64_t hi)
{
	/* hi < 0 means unbounded; counts are bounded to 2^31 */
	return lo * 4294967296LL + (hi < 0 ? 0 : hi + 1);
}

static void unpack_interval(int64_t v, int64_t *lo, int64_t *hi)
{
	*lo = v / 4294967296LL;
	int64_t h = v % 4294967296LL;
	*hi = h == 0 ? -1 : h - 1;
}

/* --- small helpers --------------------------------------------------- */

const char *harm_code(const codelists *cl, int field, int v)
{
	if (v == STD_TOTAL)
		return "_T";
	if (v == STD_UNKNOWN)
		return "U";
	if (v < 0)
		return "";
	switch (field) {
	case MF_COUNTRY:
	case MF_CITIZENSHIP: return cl->countries[v].iso3;
	case MF_INDICATOR: return cl->indicators.codes[v].code;
	case MF_SEX: return cl->sex.codes[v].code;
	case MF_AGE_GROUP: return cl->age.codes[v].code;
	case MF_FORM: return cl->forms.codes[v].code;
	default: return "";
	}
}

static int is_total_word(const char *norm)
{
	return !strcmp(norm, "_t") || !strcmp(norm, "total") || !strcmp(norm, "all");
}

static int parse_uint(const char *s, size_t n, int64_t max, int64_t *out)
{
	int64_t v = 0;
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

static void trim(const char **s, size_t *n)
{
	while (*n && ((*s)[0] == ' ' || (*s)[0] == '\t'))
		(*s)++, (*n)--;
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

#define COUNT_MAX 2000000000LL

/* "12", "<5", "1-4", "5+" is not accepted (unbounded must be mapped). */
static int parse_count(const char *s, size_t n, int censored_min, int64_t *lo,
                       int64_t *hi, unsigned *flags)
{
	int64_t a, b;
	trim(&s, &n);
	if (parse_uint(s, n, COUNT_MAX, &a) == 0) {
		*lo = *hi = a;
		return 0;
	}
	if (n >= 2 && s[0] == '<' && parse_uint(s + 1, n - 1, COUNT_MAX, &a) == 0 && a >= 1) {
		*lo = censored_min < a ? censored_min : 0;
		*hi = a - 1;
		*flags |= STD_F_CENSORED;
		return 0;
	}
	const char *dash = memchr(s, '-', n);
	if (dash && parse_uint(s, (size_t)(dash - s), COUNT_MAX, &a) == 0 &&
	    parse_uint(dash + 1, n - (size_t)(dash - s) - 1, COUNT_MAX, &b) == 0 && a <= b) {
		*lo = a;
		*hi = b;
		if (a != b)
			*flags |= STD_F_CENSORED;
		return 0;
	}
	return -1;
}

/* Interval syntax of mapping right-hand sides: "a-b" or "a-". */
static int parse_rhs_interval(const char *s, int64_t *lo, int64_t *hi)
{
	const char *dash = strchr(s, '-');
	int64_t a, b;
	if (!dash || parse_uint(s, (size_t)(dash - s), COUNT_MAX, &a) != 0)
		return -1;
	if (!dash[1]) {
		*lo = a;
		*hi = -1;
		return 0;
	}
	if (parse_uint(dash + 1, strlen(dash + 1), COUNT_MAX, &b) != 0 || b < a)
		return -1;
	*lo = a;
	*hi = b;
	return 0;
}

static int dim_from_word(const char *w)
{
	if (!strcmp(w, "total")) return 0;
	if (!strcmp(w, "sex")) return DIM_SEX;
	if (!strcmp(w, "age")) return DIM_AGE;
	if (!strcmp(w, "sex_age")) return DIM_SEX | DIM_AGE;
	if (!strcmp(w, "form")) return DIM_FORM;
	if (!strcmp(w, "citizenship")) return DIM_CIT;
	return -1;
}

static int field_from_cat(const char *w, size_t n)
{
	if (n == 3 && !strncmp(w, "sex", 3)) return MF_SEX;
	if (n == 3 && !strncmp(w, "age", 3)) return MF_AGE_GROUP;
	if (n == 9 && !strncmp(w, "age_group", 9)) return MF_AGE_GROUP;
	if (n == 4 && !strncmp(w, "form", 4)) return MF_FORM;
	if (n == 11 && !strncmp(w, "citizenship", 11)) return MF_CITIZENSHIP;
	return MF_NONE;
}

/* Resolve a standard spelling (code, label, alias) for a field, as used
 * both for mapping right-hand sides and for unmapped national values.
 * Returns 0 and *out, or -1. */
static int resolve_std(const harm *h, int field, const char *s, size_t n, int64_t *out)
{
	const codelists *cl = h->cl;
	int cells = h->m->kind == MAP_CELLS;
	char norm[NORM_MAX];
	text_norm(s, n, norm, sizeof norm);
	int v = -1;
	switch (field) {
	case MF_SEX:
	case MF_AGE_GROUP:
	case MF_FORM:
	case MF_INDICATOR: {
		const cl_table *t = field == MF_SEX ? &cl->sex : field == MF_AGE_GROUP ? &cl->age
		                  : field == MF_FORM ? &cl->forms : &cl->indicators;
		if (cells && field != MF_INDICATOR && is_total_word(norm)) {
			*out = STD_TOTAL;
			return 0;
		}
		v = cl_find(t, s, n);
		break;
	}
	case MF_COUNTRY:
		v = cl_find_country(cl, s, n);
		break;
	case MF_CITIZENSHIP:
		if (cells && is_total_word(norm)) {
			*out = STD_TOTAL;
			return 0;
		}
		if (!strcmp(norm, "u") || !strcmp(norm, "unknown")) {
			*out = STD_UNKNOWN;
			return 0;
		}
		v = cl_find_country(cl, s, n);
		break;
	case MF_PERIOD:
		v = period_parse(s, n);
		break;
	case MF_YEAR: {
		int64_t y;
		trim(&s, &n);
		if (n == 4 && parse_uint(s, n, PERIOD_MAX_YEAR, &y) == 0 && y >= PERIOD_MIN_YEAR)
			v = (int)y;
		break;
	}
	case MF_QUARTER:
		if (norm[0] == 'q' && norm[1] >= '1' && norm[1] <= '4' && !norm[2])
			v = norm[1] - '0';
		else if (norm[0] >= '1' && norm[0] <= '4' && !norm[1])
			v = norm[0] - '0';
		break;
	case MF_DIMENSION:
		v = dim_from_word(norm);
		break;
	case MF_CATEGORY: {
		if (is_total_word(norm)) {
			*out = CAT(0, 0);
			return 0;
		}
		const char *colon = memchr(s, ':', n);
		if (!colon) {
			/* A bare country name or code is a citizenship category (the
			 * UNODC long format puts the country of citizenship there);
			 * finish_cells checks it against the row's dimension. */
			int ctry = cl_find_country(cl, s, n);
			if (ctry < 0)
				return -1;
			*out = CAT(MF_CITIZENSHIP, ctry);
			return 0;
		}
		int f = field_from_cat(s, (size_t)(colon - s));
		int64_t sub;
		if (f == MF_NONE || resolve_std(h, f, colon + 1, n - (size_t)(colon - s) - 1, &sub) != 0)
			return -1;
		*out = CAT(f, sub);
		return 0;
	}
	default:
		return -1;
	}
	if (v < 0)
		return -1;
	*out = v;
	return 0;
}

/* --- identifier-looking headers -------------------------------------- */

static const char *const ident_words[] = {
	"name", "surname", "nom", "nombre", "apellido", "prenom", "prénom", "vorname",
	"passport", "pasaporte", "passeport", "reisepass", "document", "documento",
	"ausweis", "id number", "id no", "dni", "nin", "ssn", "phone", "telephone",
	"téléphone", "telefon", "teléfono", "telefono", "mobile", "handy", "address",
	"adresse", "anschrift", "dirección", "direccion", "street", "strasse", "straße",
	"calle", "email", "e-mail", "birth", "geburt", "naissance", "nacimiento", "dob",
	"note", "notes", "notiz", "bemerkung", "comment", "kommentar", "commentaire",
	"comentario", "remark", "description", "beschreibung", "observaciones",
	"observations", "narrative", "free text", "freitext",
};

/* 1 if the normalised header contains an identifier word at word
 * boundaries ("name" matches "victim name" and "name_1", not "rename"). */
static int header_looks_identifying(const char *header)
{
	char norm[NORM_MAX];
	size_t n = text_norm(header, strlen(header), norm, sizeof norm);
	for (size_t i = 0; i < n; i++)
		if (norm[i] == '_' || norm[i] == '.' || norm[i] == '-' || norm[i] == '/')
			norm[i] = ' ';
	for (size_t w = 0; w < sizeof ident_words / sizeof *ident_words; w++) {
		size_t wl = strlen(ident_words[w]);
		for (const char *p = norm; (p = strstr(p, ident_words[w])) != NULL; p++) {
			int start_ok = p == norm || p[-1] == ' ';
			char after = p[wl];
			int end_ok = after == '\0' || after == ' ' || (after >= '0' && after <= '9');
			if (start_ok && end_ok)
				return 1;
		}
	}
	return 0;
}

/* Free text: long and several words. */
static int looks_free_text(const char *s, size_t n)
{
	if (n < 40)
		return 0;
	size_t spaces = 0;
	for (size_t i = 0; i < n; i++)
		spaces += s[i] == ' ';
	return spaces >= 4;
}

/* --- init ------------------------------------------------------------- */

static int field_quotable(int field)
{
	return field != MF_CASE_ID && field != MF_BIRTH_DATE && field != MF_NONE;
}

static const char *field_label(int field)
{
	const char *n = mapping_field_name(field);
	return n ? n : "?";
}

static int build_col_map(harm *h, harm_col *c, diag *d)
{
	const map_column *mc = c->mc;
	hmap_init(&c->map);
	hmap_init(&c->cache);
	c->fallback = NO_CONST;
	for (size_t i = 0; i < mc->n_pairs; i++) {
		const map_pair *p = &mc->pairs[i];
		int64_t v;
		int ok;
		if (c->field == MF_COUNT) {
			int64_t lo, hi;
			ok = parse_rhs_interval(p->to, &lo, &hi) == 0;
			v = pack_interval(lo, hi);
		} else {
			ok = resolve_std(h, c->field, p->to, strlen(p->to), &v) == 0;
		}
		if (!ok) {
			diag_add(d, DIAG_ERROR, h->m->path, p->line, p->col,
			         "'%s' is not a valid %s code", p->to, field_label(c->field));
			continue;
		}
		if (hmap_put(&c->map, p->from, strlen(p->from), v, NULL) < 0)
			return diag_fail(d, EX_OSERR, "out of memory");
	}
	if (mc->fallback) {
		int64_t v;
		if (resolve_std(h, c->field, mc->fallback, strlen(mc->fallback), &v) != 0)
			diag_add(d, DIAG_ERROR, h->m->path, mc->line, 0,
			         "fallback '%s' is not a valid %s code", mc->fallback,
			         field_label(c->field));
		else {
			c->fallback = (int)v;
			c->has_fallback = 1;
		}
	}
	return 0;
}

static int resolve_constants(harm *h, diag *d)
{
	for (int f = 0; f < MF__COUNT; f++) {
		h->konst[f] = NO_CONST;
		const char *s = h->m->constants[f];
		if (!s)
			continue;
		int64_t v;
		if (resolve_std(h, f, s, strlen(s), &v) != 0) {
			diag_add(d, DIAG_ERROR, h->m->path, 0, 0,
			         "constant %s = '%s' is not a valid code", field_label(f), s);
			continue;
		}
		h->konst[f] = (int)v;
	}
	return 0;
}

static int bind_flags(harm *h, const csvr_record *header, diag *d)
{
	const mapping *m = h->m;
	hmap_init(&h->flag_yes);
	hmap_init(&h->flag_no);
	h->flag_form = malloc(h->ncols * sizeof *h->flag_form);
	if (!h->flag_form)
		return diag_fail(d, EX_OSERR, "out of memory");
	for (size_t i = 0; i < h->ncols; i++)
		h->flag_form[i] = -1;
	for (size_t i = 0; i < m->n_flag_yes; i++)
		if (hmap_put(&h->flag_yes, m->flag_yes[i], strlen(m->flag_yes[i]), 1, NULL) < 0)
			return diag_fail(d, EX_OSERR, "out of memory");
	for (size_t i = 0; i < m->n_flag_no; i++)
		if (hmap_put(&h->flag_no, m->flag_no[i], strlen(m->flag_no[i]), 1, NULL) < 0)
			return diag_fail(d, EX_OSERR, "out of memory");
	h->flag_none = cl_find(&h->cl->forms, "U", 1);
	if (m->flag_none) {
		int v = cl_find(&h->cl->forms, m->flag_none, strlen(m->flag_none));
		if (v < 0)
			diag_add(d, DIAG_ERROR, m->path, 0, 0, "flags: none = '%s' is not a form code",
			         m->flag_none);
		h->flag_none = v;
	}
	for (size_t k = 0; k < m->n_flags; k++) {
		const map_flag *fl = &m->flags[k];
		int form = cl_find(&h->cl->forms, fl->code, strlen(fl->code));
		if (form < 0) {
			diag_add(d, DIAG_ERROR, m->path, fl->line, 0, "'%s' is not a form code", fl->code);
			continue;
		}
		int found = -1;
		for (size_t j = 0; header && j < header->n; j++)
			if (!strcmp(header->f[j].s, fl->column))
				found = (int)j;
		if (found < 0) {
			diag_add(d, DIAG_ERROR, h->file, header ? header->line : 1, 0,
			         "flag column '%s' (mapping line %u) is not in the file", fl->column,
			         fl->line);
			continue;
		}
		h->flag_form[found] = form;
		h->cols[found].field = MF_FORM;
		h->cols[found].name = fl->column;
	}
	return 0;
}

static int find_header(const csvr_record *header, const char *name)
{
	char a[NORM_MAX], b[NORM_MAX];
	for (size_t j = 0; j < header->n; j++)
		if (!strcmp(header->f[j].s, name))
			return (int)j;
	text_norm(name, strlen(name), a, sizeof a);
	for (size_t j = 0; j < header->n; j++) {
		text_norm(header->f[j].s, header->f[j].len, b, sizeof b);
		if (!strcmp(a, b))
			return (int)j;
	}
	return -1;
}

int harm_init(harm *h, const mapping *m, const codelists *cl, const char *file,
              const csvr_record *header, size_t ncols, const unsigned char *pkey,
              int period_override, diag *d)
{
	size_t errors0 = d->n_errors;
	memset(h, 0, sizeof *h);
	h->m = m;
	h->cl = cl;
	h->file = file;
	h->pkey = pkey;
	h->period_override = period_override;
	h->age_ref_col = -1;
	h->ncols = header ? header->n : ncols;
	h->cols = calloc(h->ncols ? h->ncols : 1, sizeof *h->cols);
	if (!h->cols) {
		h->ncols = 0; /* harm_free must not walk columns that are not there */
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	for (int f = 0; f < MF__COUNT; f++)
		h->src[f] = -1;
	for (int y = 0; y <= HARM_MAX_AGE; y++)
		h->age_band_of[y] = cl_age_for_years(cl, y);
	for (size_t j = 0; j < h->ncols; j++) {
		h->cols[j].name = header ? header->f[j].s : NULL;
		h->cols[j].fallback = NO_CONST;
		hmap_init(&h->cols[j].map);
		hmap_init(&h->cols[j].cache);
	}
	resolve_constants(h, d);
	/* bind every mapped column to its position */
	for (size_t i = 0; i < m->n_cols; i++) {
		const map_column *mc = &m->cols[i];
		int pos;
		if (mc->name)
			pos = header ? find_header(header, mc->name) : -1;
		else
			pos = mc->index >= 1 && mc->index <= h->ncols ? (int)mc->index - 1 : -1;
		if (pos < 0) {
			if (mc->name)
				diag_add(d, DIAG_ERROR, file, header ? header->line : 1, 0,
				         "column '%s' (mapping %s line %u) is not in the file header",
				         mc->name, m->path, mc->line);
			else
				diag_add(d, DIAG_ERROR, file, 1, 0,
				         "column #%u (mapping %s line %u) is beyond the file's %zu columns",
				         mc->index, m->path, mc->line, h->ncols);
			continue;
		}
		harm_col *c = &h->cols[pos];
		hmap_free(&c->map);
		hmap_free(&c->cache);
		c->mc = mc;
		c->field = mc->drop ? MF_NONE : mc->field;
		c->quotable = field_quotable(c->field);
		if (mc->name)
			c->name = header->f[pos].s;
		if (c->field != MF_NONE) {
			h->src[c->field] = pos;
			if (build_col_map(h, c, d) != 0)
				return -1;
		}
	}
	if (m->age_reference && header) {
		h->age_ref_col = find_header(header, m->age_reference);
		if (h->age_ref_col < 0)
			diag_add(d, DIAG_ERROR, file, header->line, 0,
			         "age reference column '%s' is not in the file header", m->age_reference);
	}
	if (m->n_flags && bind_flags(h, header, d) != 0)
		return -1;
	/* unmapped columns: identifier-looking headers stop ingest */
	for (size_t j = 0; header && j < h->ncols; j++) {
		harm_col *c = &h->cols[j];
		if (c->mc || (h->flag_form && h->flag_form[j] >= 0))
			continue;
		if (header_looks_identifying(header->f[j].s))
			diag_add(d, DIAG_ERROR, file, header->f[j].line, header->f[j].col,
			         "column '%s' looks like a direct identifier and is neither mapped "
			         "nor dropped; add [column \"%s\"] drop = identifier to the mapping",
			         header->f[j].s, header->f[j].s);
		else
			diag_add(d, DIAG_WARNING, file, header->f[j].line, header->f[j].col,
			         "column '%s' is not in the mapping and is ignored; add "
			         "drop = other to silence this", header->f[j].s);
	}
	if (header && header->n == 1 && d->n_errors > errors0) {
		const char *hd = header->f[0].s;
		const char *cands = ";,\t|";
		for (const char *p = cands; *p; p++)
			if (*p != (m->delimiter ? m->delimiter : ',') && strchr(hd, *p)) {
				diag_add(d, DIAG_NOTE, file, header->line, 0,
				         "the header is one single column; the file seems to be "
				         "delimited by '%s' (set delimiter in the mapping's [file])",
				         *p == '\t' ? "tab" : *p == ';' ? "semicolon" : *p == ',' ? "comma" : "pipe");
				break;
			}
	}
	if (h->src[MF_CASE_ID] >= 0 && !pkey)
		return diag_fail(d, EX_USAGE,
		                 "the mapping has a case_id column: a pseudonym key is needed "
		                 "(--key-file; create one with `tipstat keygen --type pseudonym`)");
	if (d->n_errors > errors0)
		return diag_fail(d, EX_DATAERR, "%s: the file does not fit mapping %s", file, m->path);
	return 0;
}

void harm_free(harm *h)
{
	for (size_t j = 0; j < h->ncols; j++) {
		hmap_free(&h->cols[j].map);
		hmap_free(&h->cols[j].cache);
	}
	free(h->cols);
	free(h->flag_form);
	hmap_free(&h->flag_yes);
	hmap_free(&h->flag_no);
	memset(h, 0, sizeof *h);
}

int harm_col_quotable(const harm *h, size_t j)
{
	return j < h->ncols && h->cols[j].mc && h->cols[j].quotable;
}

/* --- rows ------------------------------------------------------------ */

static int reject(harm *h, const char *reason)
{
	h->reason = reason;
	return 1;
}

/* Report an unknown value with the nearest known codes. */
static void report_unknown(harm *h, const harm_col *c, const csvr_field *f, diag *d)
{
	char q[48], near[160] = "";
	const cl_table *t = NULL;
	switch (c->field) {
	case MF_SEX: t = &h->cl->sex; break;
	case MF_AGE_GROUP: t = &h->cl->age; break;
	case MF_FORM: t = &h->cl->forms; break;
	case MF_INDICATOR: t = &h->cl->indicators; break;
	default: break;
	}
	if (t) {
		const char *best[3];
		size_t k = cl_nearest(t, f->s, f->len, best, 3);
		size_t o = 0;
		for (size_t i = 0; i < k && o < sizeof near; i++)
			o += (size_t)snprintf(near + o, sizeof near - o, "%s'%s'", i ? ", " : "; nearest codes: ", best[i]);
	}
	if (c->quotable) {
		text_quote(f->s, f->len, q, sizeof q);
		diag_add(d, DIAG_ERROR, h->file, f->line, f->col,
		         "unknown %s value '%s' in column '%s'%s; add a map line or a fallback",
		         field_label(c->field), q, c->name ? c->name : "?", near);
	} else {
		diag_add(d, DIAG_ERROR, h->file, f->line, f->col, "invalid %s in column '%s'",
		         field_label(c->field), c->name ? c->name : "?");
	}
}

/* Resolve the value of column c: map, then standard spelling, then
 * fallback.  0 = ok, -1 = unknown. */
static int lookup(harm *h, harm_col *c, const csvr_field *f, int64_t *out)
{
	if (hmap_get(&c->cache, f->s, f->len, out))
		return 0;
	char norm[NORM_MAX];
	size_t n = text_norm(f->s, f->len, norm, sizeof norm);
	int ok = hmap_get(&c->map, norm, n, out);
	if (!ok && c->field != MF_COUNT)
		ok = resolve_std(h, c->field, f->s, f->len, out) == 0;
	if (!ok && c->has_fallback) {
		*out = c->fallback;
		ok = 1;
	}
	if (!ok)
		return -1;
	if (c->cache.n < CACHE_MAX && c->field != MF_COUNT)
		hmap_put(&c->cache, f->s, f->len, *out, NULL);
	return 0;
}

static int parse_date_field(const harm_col *c, const csvr_field *f, int *y, int *m, int *dd)
{
	for (size_t i = 0; i < c->mc->n_formats; i++)
		if (period_parse_date(f->s, f->len, c->mc->formats[i], y, m, dd) == 0)
			return 0;
	return -1;
}

typedef struct row_state {
	int period_src;         /* period from the row itself, or -1 */
	int year, quarter;
	int have_date, dy, dm, dd;
	int have_birth, by, bm, bd;
	int have_ref, ry, rm, rd;   /* age reference date (age_reference column) */
	int years;              /* exact age, or -1 */
	int dim;                /* cells: dimension bits, -1 if not given */
	int64_t cat;            /* cells: category, or -1 */
	int forms_set, form_flag;
	int bad;
} row_state;

static void set_dim(std_row *o, int field, int64_t v)
{
	switch (field) {
	case MF_COUNTRY: o->country = (int)v; break;
	case MF_INDICATOR: o->indicator = (int)v; break;
	case MF_SEX: o->sex = (int)v; break;
	case MF_AGE_GROUP: o->age = (int)v; break;
	case MF_FORM: o->form = (int)v; break;
	case MF_CITIZENSHIP: o->citizenship = (int)v; break;
	default: break;
	}
}

static int handle_field(harm *h, harm_col *c, size_t j, const csvr_field *f,
                        std_row *o, row_state *st, diag *d)
{
	int64_t v;
	if (h->flag_form && h->flag_form[j] >= 0) {
		char norm[NORM_MAX];
		size_t n = text_norm(f->s, f->len, norm, sizeof norm);
		if (hmap_get(&h->flag_yes, norm, n, NULL)) {
			st->forms_set++;
			st->form_flag = h->flag_form[j];
		} else if (!hmap_get(&h->flag_no, norm, n, NULL)) {
			char q[48];
			text_quote(f->s, f->len, q, sizeof q);
			diag_add(d, DIAG_ERROR, h->file, f->line, f->col,
			         "flag column '%s' has '%s', neither a yes nor a no value", c->name, q);
			st->bad = 1;
			h->reason = "bad flag value";
		}
		return 0;
	}
	switch (c->field) {
	case MF_NONE:
		if (!c->mc && !c->free_text_checked && looks_free_text(f->s, f->len)) {
			c->free_text_checked = 1;
			diag_add(d, DIAG_ERROR, h->file, f->line, f->col,
			         "column '%s' holds free text and is neither mapped nor dropped; "
			         "add drop = free_text to the mapping", c->name ? c->name : "?");
			return -1; /* file-level: stop */
		}
		return 0;
	case MF_CASE_ID: {
		const char *s = f->s;
		size_t n = f->len;
		trim(&s, &n);
		if (n) {
			crypto_generichash(o->key, sizeof o->key, (const unsigned char *)s, n,
			                   h->pkey, 32);
			o->has_key = 1;
		}
		return 0;
	}
	case MF_DATE:
		if (parse_date_field(c, f, &st->dy, &st->dm, &st->dd) != 0) {
			diag_add(d, DIAG_ERROR, h->file, f->line, f->col,
			         "invalid date in column '%s' (expected %s%s)", c->name,
			         c->mc->formats[0], c->mc->n_formats > 1 ? " or another listed format" : "");
			st->bad = 1;
			h->reason = "bad date";
		} else {
			st->have_date = 1;
		}
		return 0;
	case MF_BIRTH_DATE:
		if (f->len == 0)
			return 0;
		if (parse_date_field(c, f, &st->by, &st->bm, &st->bd) != 0) {
			diag_add(d, DIAG_ERROR, h->file, f->line, f->col,
			         "invalid date of birth in column '%s'", c->name);
			st->bad = 1;
			h->reason = "bad date";
		} else {
			st->have_birth = 1;
		}
		return 0;
	case MF_AGE_YEARS: {
		const char *s = f->s;
		size_t n = f->len;
		int64_t a;
		trim(&s, &n);
		if (n == 0)
			return 0;
		if (parse_uint(s, n, 1000, &a) != 0 || a > HARM_MAX_AGE) {
			char q[24];
			text_quote(f->s, f->len, q, sizeof q);
			diag_add(d, DIAG_ERROR, h->file, f->line, f->col,
			         "impossible age '%s' in column '%s' (expected whole years 0-120)", q,
			         c->name);
			st->bad = 1;
			h->reason = "impossible age";
			return 0;
		}
		st->years = (int)a;
		return 0;
	}
	case MF_COUNT: {
		if (lookup(h, c, f, &v) == 0) {
			unpack_interval(v, &o->lo, &o->hi);
			if (o->lo != o->hi)
				o->flags |= STD_F_CENSORED;
			return 0;
		}
		if (parse_count(f->s, f->len, c->mc->censored_min, &o->lo, &o->hi, &o->flags) != 0) {
			char q[32];
			text_quote(f->s, f->len, q, sizeof q);
			diag_add(d, DIAG_ERROR, h->file, f->line, f->col,
			         "bad count '%s' in column '%s' (expected a whole number, <N, a-b, "
			         "or a censor marker mapped to an interval)", q, c->name);
			st->bad = 1;
			h->reason = "bad count";
		}
		return 0;
	}
	default:
		break;
	}
	if (lookup(h, c, f, &v) != 0) {
		report_unknown(h, c, f, d);
		st->bad = 1;
		h->reason = "unknown code";
		return 0;
	}
	switch (c->field) {
	case MF_PERIOD: st->period_src = (int)v; break;
	case MF_YEAR: st->year = (int)v; break;
	case MF_QUARTER: st->quarter = (int)v; break;
	case MF_DIMENSION: st->dim = (int)v; break;
	case MF_CATEGORY: st->cat = v; break;
	default: set_dim(o, c->field, v); break;
	}
	return 0;
}

static void row_error(harm *h, unsigned long line, const char *reason, diag *d,
                      const char *fmt, const char *arg)
{
	diag_add(d, DIAG_ERROR, h->file, line, 0, fmt, arg);
	h->reason = reason;
}

/* Period: override > row's own period (period / year+quarter / date) >
 * constant; override and row must agree. */
static int finish_period(harm *h, std_row *o, row_state *st, diag *d)
{
	int row_p = -1;
	/* year / quarter constants complete a row that lacks them */
	if (st->year <= 0 && h->konst[MF_YEAR] != NO_CONST && (st->quarter > 0 ||
	    h->konst[MF_QUARTER] != NO_CONST || h->src[MF_QUARTER] < 0))
		st->year = h->konst[MF_YEAR];
	if (st->quarter <= 0 && h->konst[MF_QUARTER] != NO_CONST)
		st->quarter = h->konst[MF_QUARTER];
	if (st->period_src >= 0)
		row_p = st->period_src;
	else if (st->year > 0)
		row_p = period_make(st->year, st->quarter > 0 ? st->quarter : 0);
	else if (st->have_date)
		row_p = period_make(st->dy, (st->dm - 1) / 3 + 1);
	int p = h->period_override >= 0 ? h->period_override : row_p >= 0 ? row_p
	      : h->konst[MF_PERIOD] != NO_CONST ? h->konst[MF_PERIOD] : -1;
	if (p < 0) {
		row_error(h, o->line, "no period", d, "%s", "row has no period");
		return 1;
	}
	if (h->period_override >= 0 && row_p >= 0 && row_p != h->period_override) {
		char a[8], b[8];
		period_format(row_p, a);
		period_format(h->period_override, b);
		diag_add(d, DIAG_ERROR, h->file, o->line, 0,
		         "row is in period %s, outside the submission period %s", a, b);
		h->reason = "period mismatch";
		return 1;
	}
	o->period = p;
	return 0;
}

/* The age_reference column's date, parsed with the formats of its own
 * mapping when it is mapped (a date column), else with the date-of-birth
 * column's formats.  An empty value falls back to the usual reference. */
static int read_age_reference(harm *h, const csvr_record *rec, row_state *st, diag *d)
{
	const csvr_field *f = &rec->f[h->age_ref_col];
	const harm_col *c = &h->cols[h->age_ref_col];
	if (f->len == 0 || !st->have_birth)
		return 0;
	if (!c->mc || !c->mc->n_formats) {
		int b = h->src[MF_BIRTH_DATE];
		c = b >= 0 ? &h->cols[b] : NULL;
	}
	if (c && c->mc && parse_date_field(c, f, &st->ry, &st->rm, &st->rd) == 0) {
		st->have_ref = 1;
		return 0;
	}
	diag_add(d, DIAG_ERROR, h->file, f->line, f->col,
	         "invalid date in the age reference column '%s'", h->m->age_reference);
	h->reason = "bad date";
	return -1;
}

static int finish_age(harm *h, std_row *o, row_state *st, diag *d)
{
	int years = st->years;
	if (st->have_birth) {
		int ry, rm, rd;
		if (st->have_ref) {
			ry = st->ry; rm = st->rm; rd = st->rd;
		} else if (st->have_date) {
			ry = st->dy; rm = st->dm; rd = st->dd;
		} else {
			period_end_date(o->period, &ry, &rm, &rd);
		}
		int a = period_age_years(st->by, st->bm, st->bd, ry, rm, rd);
		if (a < 0 || a > HARM_MAX_AGE) {
			row_error(h, o->line, "impossible age", d, "%s",
			          a < 0 ? "date of birth is after the reference date"
			                : "date of birth gives an age over 120");
			return 1;
		}
		if (years >= 0 && years != a) {
			row_error(h, o->line, "inconsistent age", d, "%s",
			          "exact age and date of birth disagree");
			return 1;
		}
		years = a;
	}
	if (years >= 0) {
		int band = years <= HARM_MAX_AGE ? h->age_band_of[years]
		                                 : cl_age_for_years(h->cl, years);
		if (band < 0) {
			row_error(h, o->line, "impossible age", d, "%s", "age has no age band");
			return 1;
		}
		int group = cl_age_group(h->cl, band);
		if (h->src[MF_AGE_GROUP] >= 0 && o->age != group && o->age >= 0) {
			row_error(h, o->line, "inconsistent age", d, "%s",
			          "exact age contradicts the age group column");
			return 1;
		}
		o->age = group;
		o->age_band = band != group ? band : STD_NONE;
		return 0;
	}
	if (o->age >= 0) {
		int group = cl_age_group(h->cl, o->age);
		if (group != o->age)
			o->age_band = o->age;
		o->age = group;
	}
	return 0;
}

static int finish_cells(harm *h, std_row *o, row_state *st, diag *d)
{
	if (st->cat >= 0 && CAT_FIELD(st->cat) != 0) {
		int f = CAT_FIELD(st->cat);
		int bit = f == MF_SEX ? DIM_SEX : f == MF_AGE_GROUP ? DIM_AGE
		        : f == MF_FORM ? DIM_FORM : DIM_CIT;
		if (st->dim >= 0 && !(st->dim & bit)) {
			static const char *names[] = {"sex", "age group", "form of exploitation",
			                              "citizenship"};
			int k = bit == DIM_SEX ? 0 : bit == DIM_AGE ? 1 : bit == DIM_FORM ? 2 : 3;
			row_error(h, o->line, "category outside dimension", d,
			          "the category is a %s, which the row's dimension does not break "
			          "down by (check the dimension and category columns)", names[k]);
			return 1;
		}
		set_dim(o, f, CAT_IDX(st->cat));
	}
	if (st->dim >= 0) {
		/* dimensions not broken down are totals; broken-down ones need a value */
		static const int bits[] = {DIM_SEX, DIM_AGE, DIM_FORM, DIM_CIT};
		int *vals[] = {&o->sex, &o->age, &o->form, &o->citizenship};
		for (int i = 0; i < 4; i++) {
			if (!(st->dim & bits[i]) && *vals[i] != STD_TOTAL && h->src[i == 0 ? MF_SEX
			    : i == 1 ? MF_AGE_GROUP : i == 2 ? MF_FORM : MF_CITIZENSHIP] < 0)
				*vals[i] = STD_TOTAL;
			if ((st->dim & bits[i]) && *vals[i] == STD_TOTAL) {
				row_error(h, o->line, "category outside dimension", d, "%s",
				          "a broken-down dimension has a total category");
				return 1;
			}
		}
	}
	if (o->age >= 0) {
		int group = cl_age_group(h->cl, o->age);
		if (group != o->age)
			o->age_band = o->age;
		o->age = group;
	}
	return 0;
}

int harm_row(harm *h, const csvr_record *rec, std_row *o, diag *d)
{
	int cells = h->m->kind == MAP_CELLS;
	int dflt = cells ? STD_TOTAL : -1;
	row_state st = {.period_src = -1, .years = -1, .dim = -1, .cat = -1};
	memset(o, 0, sizeof *o);
	o->line = rec->line;
	o->country = o->indicator = -1;
	o->sex = o->age = o->form = o->citizenship = dflt;
	o->age_band = STD_NONE;
	h->reason = NULL;
	if (rec->n != h->ncols) {
		diag_add(d, DIAG_ERROR, h->file, rec->line, 0,
		         "row has %zu fields, the header has %zu", rec->n, h->ncols);
		return reject(h, "wrong number of fields");
	}
	/* constants first, columns override nothing (the parser forbids both) */
	static const int dims[] = {MF_COUNTRY, MF_INDICATOR, MF_SEX, MF_AGE_GROUP, MF_FORM,
	                           MF_CITIZENSHIP};
	for (size_t i = 0; i < sizeof dims / sizeof *dims; i++)
		if (h->konst[dims[i]] != NO_CONST)
			set_dim(o, dims[i], h->konst[dims[i]]);
	for (size_t j = 0; j < rec->n; j++)
		if (handle_field(h, &h->cols[j], j, &rec->f[j], o, &st, d) < 0)
			return -1;
	if (h->age_ref_col >= 0 && read_age_reference(h, rec, &st, d) != 0)
		st.bad = 1;
	if (st.bad)
		return 1;
	if (h->m->n_flags)
		o->form = st.forms_set == 0 ? h->flag_none : st.forms_set == 1 ? st.form_flag
		        : cl_find(&h->cl->forms, "MIX", 3);
	if (finish_period(h, o, &st, d) != 0)
		return 1;
	if (!cells && finish_age(h, o, &st, d) != 0)
		return 1;
	if (cells && finish_cells(h, o, &st, d) != 0)
		return 1;
	if (o->country < 0) {
		row_error(h, o->line, "no country", d, "%s", "row has no reporting country");
		return 1;
	}
	if (o->indicator < 0) {
		row_error(h, o->line, "no indicator", d, "%s", "row has no indicator");
		return 1;
	}
	if (!cells) {
		/* a record always has a value on every dimension */
		if (o->sex < 0) o->sex = cl_find(&h->cl->sex, "U", 1);
		if (o->age < 0) o->age = cl_find(&h->cl->age, "U", 1);
		if (o->form < 0) o->form = cl_find(&h->cl->forms, "U", 1);
		if (o->citizenship == -1) o->citizenship = STD_UNKNOWN;
	}
	return 0;
}
