/* release: see release.h.  Rows live in one growing array with a hash
 * index over "geo|period|indicator|slot"; the CSV is written and read here
 * field by field, and release.json is hand-written with full escaping and
 * read back with core/json.h. */
#include "privacy/release.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sysexits.h>
#include <time.h>
#include "core/atomic.h"
#include "core/csvr.h"
#include "core/json.h"
#include "core/sqlx.h"
#include "core/strbuf.h"
#include "core/period.h"
#include "core/text.h"

#define REL_JSON_MAX (64u << 20)
#define REL_SEED_MAX (UINT64_C(1) << 53)

/* --- names ------------------------------------------------------------------ */

static const char *const status_names[REL_NSTATUS] = {"free", "primary", "secondary",
	"noisy", "missing"};
static const char *const kind_names[4] = {"world", "region", "subregion", "country"};
static const char *const ind_codes[REL_NIND] = {"VIC", "SUS", "PROS", "CONV"};
static const char *const method_names[3] = {"suppression", "dp", "none"};

static int find_name(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

const char *rel_status_name(int s) { return s >= 0 && s < REL_NSTATUS ? status_names[s] : NULL; }
const char *rel_geo_kind_name(int k) { return k >= 0 && k < 4 ? kind_names[k] : NULL; }
const char *rel_indicator_code(int i) { return i >= 0 && i < REL_NIND ? ind_codes[i] : NULL; }
const char *rel_method_name(int m) { return m >= 0 && m < 3 ? method_names[m] : NULL; }
int rel_status_parse(const char *s) { return find_name(status_names, REL_NSTATUS, s); }
int rel_geo_kind_parse(const char *s) { return find_name(kind_names, 4, s); }
int rel_indicator_parse(const char *s) { return find_name(ind_codes, REL_NIND, s); }
int rel_method_parse(const char *s) { return find_name(method_names, 3, s); }

int rel_slot_parse(const char *s)
{
	for (int i = 0; i < CUBE_NSLOTS; i++)
		if (strcmp(cube_slot_name(i), s) == 0)
			return i;
	return -1;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

int rel_period_parse(const char *s, size_t n)
{
	if (n != 4 && n != 7)
		return -1;
	for (size_t i = 0; i < 4; i++)
		if (!is_digit(s[i]))
			return -1;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	if (y < PERIOD_MIN_YEAR || y > PERIOD_MAX_YEAR)
		return -1;
	if (n == 4)
		return period_make(y, 0);
	if (s[4] != '-' || s[5] != 'Q' || s[6] < '1' || s[6] > '4')
		return -1;
	return period_make(y, s[6] - '0');
}

static int geo_syntax_ok(int kind, const char *g)
{
	if (strlen(g) != 3)
		return 0;
	for (int i = 0; i < 3; i++) {
		if (kind == REL_GEO_COUNTRY ? (g[i] < 'A' || g[i] > 'Z') : !is_digit(g[i]))
			return 0;
	}
	if (kind == REL_GEO_WORLD)
		return strcmp(g, "001") == 0;
	return 1;
}

/* --- JSON and CSV text (core/strbuf) ------------------------------------- */

static void json_value_write(strbuf *b, const json_value *v)
{
	switch (v->type) {
	case JSON_NULL: strbuf_puts(b, "null"); break;
	case JSON_BOOL: strbuf_puts(b, v->num != 0 ? "true" : "false"); break;
	case JSON_NUMBER:
		if (!isfinite(v->num))
			strbuf_puts(b, "null");
		else {
			strbuf_double(b, v->num);
		}
		break;
	case JSON_STRING: strbuf_json(b, v->str); break;
	case JSON_ARRAY:
		strbuf_puts(b, "[");
		for (size_t i = 0; i < v->len; i++) {
			if (i)
				strbuf_puts(b, ",");
			json_value_write(b, v->items[i]);
		}
		strbuf_puts(b, "]");
		break;
	case JSON_OBJECT:
		strbuf_puts(b, "{");
		for (size_t i = 0; i < v->len; i++) {
			if (i)
				strbuf_puts(b, ",");
			strbuf_json(b, v->keys[i]);
			strbuf_puts(b, ":");
			json_value_write(b, v->items[i]);
		}
		strbuf_puts(b, "}");
		break;
	}
}

/* --- table ------------------------------------------------------------------ */

void rel_init(rel_table *t)
{
	memset(t, 0, sizeof *t);
	hmap_init(&t->index);
	t->meta.method = REL_M_NONE;
	t->meta.is_private = 0;
	t->meta.notice = strdup("NOT PRIVATE: no protection applied");
	t->meta.rho = NAN;
}

void rel_free(rel_table *t)
{
	rel_meta *m = &t->meta;
	free(m->name);
	free(m->created);
	free(m->notice);
	free(m->params_json);
	free(m->audit_json);
	for (size_t i = 0; i < m->n_subs; i++) {
		free(m->subs[i].country);
		free(m->subs[i].periods);
		free(m->subs[i].id);
	}
	free(m->subs);
	free(t->rows);
	hmap_free(&t->index);
	memset(t, 0, sizeof *t);
	hmap_init(&t->index);
	t->meta.rho = NAN;
}

static int set_str(char **dst, const char *s, diag *d)
{
	char *c = strdup(s ? s : "");
	if (!c)
		return diag_fail(d, EX_OSERR, "out of memory");
	free(*dst);
	*dst = c;
	return 0;
}

static int protection_ok(int method, int is_private, const char *notice, char *why, size_t wn)
{
	if (method < 0 || method > REL_M_NONE) {
		snprintf(why, wn, "unknown method %d", method);
		return 0;
	}
	if (method == REL_M_NONE && is_private) {
		snprintf(why, wn, "method \"none\" cannot be private");
		return 0;
	}
	if (!is_private && strncmp(notice, "NOT PRIVATE", 11) != 0) {
		snprintf(why, wn, "a release that is not private needs a notice starting \"NOT PRIVATE\"");
		return 0;
	}
	if (is_private && *notice) {
		snprintf(why, wn, "a private release has an empty notice");
		return 0;
	}
	return 1;
}

int rel_set_protection(rel_table *t, int method, int is_private, const char *notice, diag *d)
{
	char why[160];
	if (!notice)
		notice = "";
	if (!protection_ok(method, is_private != 0, notice, why, sizeof why))
		return diag_fail(d, EX_DATAERR, "release protection: %s", why);
	if (set_str(&t->meta.notice, notice, d) != 0)
		return -1;
	t->meta.method = method;
	t->meta.is_private = is_private != 0;
	return 0;
}

int rel_set_name(rel_table *t, const char *name, diag *d)
{
	if (name && !text_utf8_valid(name, strlen(name), NULL))
		return diag_fail(d, EX_DATAERR, "release name is not valid UTF-8");
	return set_str(&t->meta.name, name, d);
}

static int created_ok(const char *s)
{
	/* YYYY-MM-DDThh:mm:ssZ */
	static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
	if (strlen(s) != sizeof pat - 1)
		return 0;
	for (size_t i = 0; pat[i]; i++)
		if (pat[i] == 'd' ? !is_digit(s[i]) : s[i] != pat[i])
			return 0;
	int y = atoi(s), mo = atoi(s + 5), dd = atoi(s + 8);
	return period_valid_date(y, mo, dd) && atoi(s + 11) < 24 && atoi(s + 14) < 60 &&
	       atoi(s + 17) < 61;
}

int rel_set_created(rel_table *t, const char *iso, diag *d)
{
	if (!iso || !created_ok(iso))
		return diag_fail(d, EX_DATAERR, "release created time must be YYYY-MM-DDThh:mm:ssZ");
	return set_str(&t->meta.created, iso, d);
}

static int set_json_object(char **dst, const char *what, const char *text, diag *d)
{
	json_doc doc;
	diag local = DIAG_INIT;
	if (json_parse(text, strlen(text), what, &doc, &local) != 0) {
		diag_fail(d, EX_DATAERR, "release %s: %s", what, local.msg);
		diag_free(&local);
		return -1;
	}
	diag_free(&local);
	if (doc.root->type != JSON_OBJECT) {
		json_free(&doc);
		return diag_fail(d, EX_DATAERR, "release %s must be a JSON object", what);
	}
	strbuf b = {0};
	json_value_write(&b, doc.root);
	json_free(&doc);
	if (b.oom) {
		free(b.s);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	free(*dst);
	*dst = b.s;
	return 0;
}

int rel_set_params(rel_table *t, const char *json_object, diag *d)
{
	return set_json_object(&t->meta.params_json, "params", json_object, d);
}

int rel_set_audit(rel_table *t, const char *json_object, diag *d)
{
	return set_json_object(&t->meta.audit_json, "audit", json_object, d);
}

int rel_add_submission(rel_table *t, const char *country, const char *periods,
                       uint32_t version, const char *id, diag *d)
{
	rel_meta *m = &t->meta;
	const char *strs[3] = {country ? country : "", periods ? periods : "", id ? id : ""};
	for (int i = 0; i < 3; i++)
		if (!text_utf8_valid(strs[i], strlen(strs[i]), NULL))
			return diag_fail(d, EX_DATAERR, "submission text is not valid UTF-8");
	rel_submission *ns = realloc(m->subs, (m->n_subs + 1) * sizeof *ns);
	if (!ns)
		return diag_fail(d, EX_OSERR, "out of memory");
	m->subs = ns;
	rel_submission *s = &m->subs[m->n_subs];
	s->country = strdup(strs[0]);
	s->periods = strdup(strs[1]);
	s->id = strdup(strs[2]);
	s->version = version;
	if (!s->country || !s->periods || !s->id) {
		free(s->country);
		free(s->periods);
		free(s->id);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	m->n_subs++;
	return 0;
}

/* --- rows ------------------------------------------------------------------- */

static void row_key(const char *geo, int period, int ind, int slot, char out[48])
{
	snprintf(out, 48, "%.3s|%d|%d|%d", geo, period, ind, slot);
}

static void row_name(const rel_row *r, char out[96])
{
	char per[16];
	if (r->period > 0)
		period_format(r->period, per);
	else
		snprintf(per, sizeof per, "?");
	const char *ind = rel_indicator_code(r->indicator);
	const char *slot = cube_slot_name(r->slot);
	snprintf(out, 96, "%.3s %s %s %s", r->geo, per, ind ? ind : "?", slot ? slot : "?");
}

void rel_row_from_cube(rel_row *r, int geo_kind, const char *geo, int period,
                       int indicator, int slot, const cube_value *v)
{
	memset(r, 0, sizeof *r);
	r->geo_kind = geo_kind;
	if (geo && strlen(geo) == 3)
		memcpy(r->geo, geo, 4);
	/* else left empty: rel_row_check rejects it (no silent truncation) */
	r->period = period;
	r->indicator = indicator;
	r->slot = slot;
	r->moe_lo = r->moe_hi = NAN;
	r->hi = REL_UNBOUNDED;
	if (!v || !v->avail) {
		r->status = REL_MISSING;
		r->hi = 0;
		if (v)
			r->flags = v->flags;
		return;
	}
	r->status = REL_FREE;
	r->flags = v->flags;
	r->countries = v->n_countries;
	r->has_interval = 1;
	r->lo = v->lo;
	r->hi = v->hi;
	if (v->hi != CUBE_UNBOUNDED && v->lo == v->hi) {
		r->has_value = 1;
		r->value = v->lo;
	}
}

void rel_row_suppress(rel_row *r, int status)
{
	r->status = status;
	r->has_value = 0;
	r->value = 0;
	r->has_interval = 0;
	r->lo = r->hi = 0;
	r->moe_lo = r->moe_hi = NAN;
}

void rel_row_noisy(rel_row *r, int64_t value, double moe_lo, double moe_hi)
{
	r->status = REL_NOISY;
	r->has_value = 1;
	r->value = value;
	r->has_interval = 0;
	r->lo = r->hi = 0;
	r->moe_lo = moe_lo;
	r->moe_hi = moe_hi;
}

/* Why a row breaks a rule, or NULL. */
static const char *row_problem(const rel_row *r)
{
	if (r->geo_kind < 0 || r->geo_kind > REL_GEO_COUNTRY)
		return "bad geo_kind";
	if (!geo_syntax_ok(r->geo_kind, r->geo))
		return r->geo_kind == REL_GEO_COUNTRY ? "geo of a country must be an ISO alpha-3 code"
		       : r->geo_kind == REL_GEO_WORLD ? "geo of the world must be 001"
		                                      : "geo of an aggregate must be a 3-digit M49 code";
	if (period_year(r->period) < PERIOD_MIN_YEAR || period_year(r->period) > PERIOD_MAX_YEAR ||
	    period_quarter(r->period) < 0 || period_quarter(r->period) > 4)
		return "bad period";
	if (r->indicator < 0 || r->indicator >= REL_NIND)
		return "bad indicator";
	if (r->slot < 0 || r->slot >= CUBE_NSLOTS)
		return "bad slot";
	if (r->flags & ~(unsigned)(CUBE_F_CENSORED | CUBE_F_NONADDITIVE | CUBE_F_PARTIAL | CUBE_F_DERIVED))
		return "unknown flag bits";
	if (r->geo_kind == REL_GEO_COUNTRY && r->countries > 1)
		return "a country cell has at most 1 contributing country";
	switch (r->status) {
	case REL_FREE:
		if (!r->has_interval)
			return "a free cell needs its value or interval";
		if (r->lo < 0 || (r->hi != REL_UNBOUNDED && r->hi < r->lo))
			return "bad interval (need 0 <= lo <= hi, or hi unbounded)";
		if (r->has_value && (r->hi != r->lo || r->value != r->lo))
			return "an exact free cell has lo = hi = value";
		if (!r->has_value && r->hi == r->lo)
			return "an interval with lo = hi must be published as an exact value";
		if (!isnan(r->moe_lo) || !isnan(r->moe_hi))
			return "only a noisy cell has a margin of error";
		return NULL;
	case REL_NOISY:
		if (!r->has_value)
			return "a noisy cell needs its value";
		if (r->has_interval)
			return "a noisy cell has no lo/hi";
		if (!isfinite(r->moe_lo) || r->moe_lo < 0 || !isfinite(r->moe_hi) || r->moe_hi < 0)
			return "a noisy cell needs finite margins of error >= 0";
		return NULL;
	case REL_PRIMARY:
	case REL_SECONDARY:
	case REL_MISSING:
		if (r->has_value || r->has_interval || !isnan(r->moe_lo) || !isnan(r->moe_hi))
			return r->status == REL_MISSING
			       ? "a missing cell carries no value, interval or margin"
			       : "a suppressed cell carries no value, interval or margin";
		return NULL;
	default:
		return "bad status";
	}
}

int rel_row_check(const rel_row *r, diag *d)
{
	const char *p = row_problem(r);
	if (!p)
		return 0;
	char nm[96];
	row_name(r, nm);
	return diag_fail(d, EX_DATAERR, "release row %s: %s", nm, p);
}

/* Append without the rule check (callers checked); 1 = duplicate key. */
static int add_row_raw(rel_table *t, const rel_row *r, diag *d)
{
	char key[48];
	row_key(r->geo, r->period, r->indicator, r->slot, key);
	int64_t old;
	int st = hmap_put(&t->index, key, strlen(key), (int64_t)t->n_rows, &old);
	if (st < 0)
		return diag_fail(d, EX_OSERR, "out of memory");
	if (st == 1)
		return 1;
	if (t->n_rows == t->cap_rows) {
		size_t nc = t->cap_rows ? t->cap_rows * 2 : 256;
		rel_row *nr = realloc(t->rows, nc * sizeof *nr);
		if (!nr)
			return diag_fail(d, EX_OSERR, "out of memory");
		t->rows = nr;
		t->cap_rows = nc;
	}
	t->rows[t->n_rows++] = *r;
	return 0;
}

int rel_add_row(rel_table *t, const rel_row *r, diag *d)
{
	if (rel_row_check(r, d) != 0)
		return -1;
	int st = add_row_raw(t, r, d);
	if (st == 1) {
		char nm[96];
		row_name(r, nm);
		return diag_fail(d, EX_DATAERR, "release row %s given twice", nm);
	}
	return st;
}

size_t rel_n_rows(const rel_table *t) { return t->n_rows; }

const rel_row *rel_row_at(const rel_table *t, size_t i)
{
	return i < t->n_rows ? &t->rows[i] : NULL;
}

const rel_row *rel_find(const rel_table *t, const char *geo, int period, int indicator, int slot)
{
	char key[48];
	row_key(geo, period, indicator, slot, key);
	int64_t v;
	if (!hmap_get(&t->index, key, strlen(key), &v))
		return NULL;
	return &t->rows[v];
}

/* --- writing ---------------------------------------------------------------- */

static void csv_row(strbuf *b, const rel_row *r)
{
	char per[16], fl[8];
	period_format(r->period, per);
	cube_flags_str(r->flags, fl);
	strbuf_printf(b, "%s,%s,%s,%s,%s,%s,", kind_names[r->geo_kind], r->geo, per,
	          ind_codes[r->indicator], cube_slot_name(r->slot), status_names[r->status]);
	if (r->has_value)
		strbuf_printf(b, "%lld", (long long)r->value);
	strbuf_puts(b, ",");
	if (r->has_interval) {
		strbuf_printf(b, "%lld,", (long long)r->lo);
		if (r->hi != REL_UNBOUNDED)
			strbuf_printf(b, "%lld", (long long)r->hi);
	} else
		strbuf_puts(b, ",");
	strbuf_puts(b, ",");
	if (r->status == REL_NOISY)
		strbuf_double(b, r->moe_lo);
	strbuf_puts(b, ",");
	if (r->status == REL_NOISY)
		strbuf_double(b, r->moe_hi);
	strbuf_printf(b, ",%s,%lu\n", fl, (unsigned long)r->countries);
}

static void json_meta(strbuf *b, const rel_meta *m, const char *created)
{
	strbuf_puts(b, "{\n  \"format\": ");
	strbuf_json(b, REL_FORMAT);
	strbuf_puts(b, ",\n  \"name\": ");
	strbuf_json(b, m->name ? m->name : "");
	strbuf_puts(b, ",\n  \"created\": ");
	strbuf_json(b, created);
	strbuf_puts(b, ",\n  \"method\": ");
	strbuf_json(b, method_names[m->method]);
	strbuf_printf(b, ",\n  \"private\": %s", m->is_private ? "true" : "false");
	strbuf_puts(b, ",\n  \"notice\": ");
	strbuf_json(b, m->notice ? m->notice : "");
	strbuf_puts(b, ",\n  \"params\": ");
	strbuf_puts(b, m->params_json ? m->params_json : "{}");
	strbuf_puts(b, ",\n  \"rho\": ");
	if (isfinite(m->rho)) {
		strbuf_double(b, m->rho);
	} else
		strbuf_puts(b, "null");
	strbuf_puts(b, ",\n  \"seed\": ");
	if (m->has_seed)
		strbuf_printf(b, "%llu", (unsigned long long)m->seed);
	else
		strbuf_puts(b, "null");
	strbuf_puts(b, ",\n  \"submissions\": [");
	for (size_t i = 0; i < m->n_subs; i++) {
		const rel_submission *s = &m->subs[i];
		strbuf_puts(b, i ? ",\n    {\"country\": " : "\n    {\"country\": ");
		strbuf_json(b, s->country);
		strbuf_puts(b, ", \"periods\": ");
		strbuf_json(b, s->periods);
		strbuf_printf(b, ", \"version\": %lu, \"id\": ", (unsigned long)s->version);
		strbuf_json(b, s->id);
		strbuf_puts(b, "}");
	}
	strbuf_puts(b, m->n_subs ? "\n  ],\n  \"audit\": " : "],\n  \"audit\": ");
	strbuf_puts(b, m->audit_json ? m->audit_json : "{}");
	strbuf_puts(b, "\n}\n");
}

static int write_file(const char *path, const strbuf *b, diag *d)
{
	atomic_file af;
	if (atomic_open(path, 0644, &af, d) != 0)
		return -1;
	if (b->n && fwrite(b->s, 1, b->n, af.fp) != b->n) {
		atomic_abort(&af);
		return diag_fail(d, EX_IOERR, "%s: write failed", path);
	}
	return atomic_commit(&af, d);
}

int rel_write_dir(const rel_table *t, const char *dir, diag *d)
{
	const rel_meta *m = &t->meta;
	char why[160];
	if (!protection_ok(m->method, m->is_private, m->notice ? m->notice : "", why, sizeof why))
		return diag_fail(d, EX_DATAERR, "release protection: %s", why);
	if (m->has_seed && m->seed > REL_SEED_MAX)
		return diag_fail(d, EX_DATAERR, "release seed above 2^53 cannot be kept exactly in JSON");
	if (m->rho == m->rho && (!isfinite(m->rho) || m->rho < 0))
		return diag_fail(d, EX_DATAERR, "release rho must be finite and >= 0, or null");
	for (size_t i = 0; i < t->n_rows; i++)
		if (rel_row_check(&t->rows[i], d) != 0)
			return -1;
	char created[32];
	if (m->created)
		snprintf(created, sizeof created, "%s", m->created);
	else {
		sqlx_now_utc(created);
	}
	int made_dir = mkdir(dir, 0755) == 0;
	if (!made_dir && errno != EEXIST)
		return diag_fail(d, EX_CANTCREAT, "%s: cannot create directory: %s", dir, strerror(errno));
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return diag_fail(d, EX_CANTCREAT, "%s: not a directory", dir);

	strbuf csv = {0}, js = {0};
	strbuf_puts(&csv, REL_CSV_HEADER "\n");
	for (size_t i = 0; i < t->n_rows; i++)
		csv_row(&csv, &t->rows[i]);
	json_meta(&js, m, created);
	int rc = -1;
	if (csv.oom || js.oom) {
		diag_fail(d, EX_OSERR, "out of memory");
		goto out;
	}
	size_t n = strlen(dir) + 32;
	char *path = malloc(n);
	if (!path) {
		diag_fail(d, EX_OSERR, "out of memory");
		goto out;
	}
	/* The CSV first: a reader that sees the new release.json sees its rows. */
	snprintf(path, n, "%s/release.csv", dir);
	if (write_file(path, &csv, d) == 0) {
		snprintf(path, n, "%s/release.json", dir);
		rc = write_file(path, &js, d);
		if (rc != 0) {
			/* no release.csv without its release.json */
			snprintf(path, n, "%s/release.csv", dir);
			unlink(path);
		}
	}
	free(path);
out:
	free(csv.s);
	free(js.s);
	if (rc != 0 && made_dir)
		rmdir(dir); /* ours and empty again: leave nothing behind */
	return rc;
}

/* --- reading ---------------------------------------------------------------- */

enum { C_GEO_KIND, C_GEO, C_PERIOD, C_IND, C_SLOT, C_STATUS, C_VALUE, C_LO, C_HI,
       C_MOE_LO, C_MOE_HI, C_FLAGS, C_COUNTRIES, C_N };
static const char *const col_names[C_N] = {"geo_kind", "geo", "period", "indicator", "slot",
	"status", "value", "lo", "hi", "moe_lo", "moe_hi", "flags", "countries"};

static int parse_int(const char *s, int allow_neg, int64_t *out)
{
	const char *p = s;
	if (allow_neg && *p == '-')
		p++;
	if (!*p || (p[0] == '0' && p[1]))
		return -1;
	for (const char *q = p; *q; q++)
		if (!is_digit(*q))
			return -1;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_moe(const char *s, double *out)
{
	/* plain decimal: digits, optional fraction, optional exponent */
	if (!is_digit(*s))
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0)
		return -1;
	for (const char *q = s; *q; q++)
		if (!is_digit(*q) && *q != '.' && *q != 'e' && *q != 'E' && *q != '-' && *q != '+')
			return -1;
	*out = v;
	return 0;
}

static int parse_flags(const char *s, unsigned *out)
{
	static const char order[] = "acdp";
	static const unsigned bits[] = {CUBE_F_NONADDITIVE, CUBE_F_CENSORED, CUBE_F_DERIVED,
		CUBE_F_PARTIAL};
	unsigned f = 0;
	size_t k = 0;
	for (const char *p = s; *p; p++) {
		while (k < 4 && order[k] != *p)
			k++;
		if (k == 4)
			return -1; /* unknown letter, repeated or out of order */
		f |= bits[k++];
	}
	*out = f;
	return 0;
}

#define RERR(f, ...) diag_add(d, DIAG_ERROR, name, (f)->line, (f)->col, __VA_ARGS__)

static void read_csv(csvr *r, const char *name, rel_table *t, diag *d)
{
	csvr_record rec;
	int st = csvr_next(r, &rec, d);
	if (st != CSVR_OK) {
		if (st == CSVR_EOF)
			diag_add(d, DIAG_ERROR, name, 1, 1, "empty file: expected the header %s",
			         REL_CSV_HEADER);
		else if (st < 0)
			diag_add(d, DIAG_ERROR, name, 0, 0, "read error");
		return;
	}
	int header_ok = rec.n == C_N;
	for (size_t j = 0; header_ok && j < C_N; j++)
		header_ok = strcmp(rec.f[j].s, col_names[j]) == 0;
	if (!header_ok) {
		for (size_t k = 0; k < C_N; k++) {
			int found = 0;
			for (size_t j = 0; j < rec.n; j++)
				found |= strcmp(rec.f[j].s, col_names[k]) == 0;
			if (!found)
				diag_add(d, DIAG_ERROR, name, rec.line, 1, "header lacks column '%s'",
				         col_names[k]);
		}
		diag_add(d, DIAG_ERROR, name, rec.line, 1, "header must be exactly %s",
		         REL_CSV_HEADER);
		return;
	}
	while ((st = csvr_next(r, &rec, d)) != CSVR_EOF) {
		if (st < 0) {
			diag_add(d, DIAG_ERROR, name, 0, 0, "read error");
			return;
		}
		if (st == CSVR_BAD)
			continue;
		if (rec.n != C_N) {
			diag_add(d, DIAG_ERROR, name, rec.line, 1, "row has %zu fields, expected %d",
			         rec.n, C_N);
			continue;
		}
		const csvr_field *f = rec.f;
		size_t e0 = d->n_errors;
		rel_row row;
		memset(&row, 0, sizeof row);
		row.moe_lo = row.moe_hi = NAN;
		row.geo_kind = rel_geo_kind_parse(f[C_GEO_KIND].s);
		if (row.geo_kind < 0)
			RERR(&f[C_GEO_KIND], "bad geo_kind (world, region, subregion or country)");
		else if (!geo_syntax_ok(row.geo_kind, f[C_GEO].s))
			RERR(&f[C_GEO], "bad geo for geo_kind %s (%s)", f[C_GEO_KIND].s,
			     row.geo_kind == REL_GEO_COUNTRY ? "ISO alpha-3"
			     : row.geo_kind == REL_GEO_WORLD ? "001" : "3-digit M49 code");
		else
			memcpy(row.geo, f[C_GEO].s, 4);
		row.period = rel_period_parse(f[C_PERIOD].s, f[C_PERIOD].len);
		if (row.period < 0)
			RERR(&f[C_PERIOD], "bad period (YYYY or YYYY-Qn)");
		row.indicator = rel_indicator_parse(f[C_IND].s);
		if (row.indicator < 0)
			RERR(&f[C_IND], "bad indicator (VIC, SUS, PROS or CONV)");
		row.slot = rel_slot_parse(f[C_SLOT].s);
		if (row.slot < 0)
			RERR(&f[C_SLOT], "unknown slot");
		row.status = rel_status_parse(f[C_STATUS].s);
		if (row.status < 0)
			RERR(&f[C_STATUS], "bad status (free, primary, secondary, noisy or missing)");
		int64_t v;
		if (f[C_VALUE].len) {
			if (parse_int(f[C_VALUE].s, row.status == REL_NOISY, &v) != 0)
				RERR(&f[C_VALUE], "bad value (a whole number%s)",
				     row.status == REL_NOISY ? "" : " >= 0");
			else {
				row.has_value = 1;
				row.value = v;
			}
		}
		int has_lo = 0, has_hi = 0;
		if (f[C_LO].len) {
			if (parse_int(f[C_LO].s, 0, &v) != 0)
				RERR(&f[C_LO], "bad lo (a whole number >= 0)");
			else {
				has_lo = 1;
				row.lo = v;
			}
		}
		if (f[C_HI].len) {
			if (parse_int(f[C_HI].s, 0, &v) != 0)
				RERR(&f[C_HI], "bad hi (a whole number >= 0, or empty = unbounded)");
			else {
				has_hi = 1;
				row.hi = v;
			}
		}
		if (f[C_MOE_LO].len && parse_moe(f[C_MOE_LO].s, &row.moe_lo) != 0)
			RERR(&f[C_MOE_LO], "bad moe_lo (a decimal >= 0)");
		if (f[C_MOE_HI].len && parse_moe(f[C_MOE_HI].s, &row.moe_hi) != 0)
			RERR(&f[C_MOE_HI], "bad moe_hi (a decimal >= 0)");
		if (parse_flags(f[C_FLAGS].s, &row.flags) != 0)
			RERR(&f[C_FLAGS], "bad flags (letters of \"acdp\", in that order)");
		if (parse_int(f[C_COUNTRIES].s, 0, &v) != 0 || v > UINT32_MAX)
			RERR(&f[C_COUNTRIES], "bad countries (a whole number >= 0)");
		else
			row.countries = (uint32_t)v;
		if (d->n_errors > e0)
			continue;
		/* Numbers allowed by the status, each reported where it stands. */
		switch (row.status) {
		case REL_FREE:
			if (!has_lo)
				RERR(&f[C_LO], "a free cell needs lo");
			if (row.has_value && !has_hi)
				RERR(&f[C_HI], "an exact free cell has hi = value");
			if (f[C_MOE_LO].len || f[C_MOE_HI].len)
				RERR(&f[f[C_MOE_LO].len ? C_MOE_LO : C_MOE_HI],
				     "only a noisy cell has a margin of error");
			if (d->n_errors > e0)
				continue;
			row.has_interval = 1;
			if (!has_hi)
				row.hi = REL_UNBOUNDED;
			break;
		case REL_NOISY:
			if (!row.has_value)
				RERR(&f[C_VALUE], "a noisy cell needs its value");
			if (has_lo || has_hi)
				RERR(&f[has_lo ? C_LO : C_HI],
				     "a noisy cell has no lo/hi (its interval is moe_lo, moe_hi)");
			if (!f[C_MOE_LO].len || !f[C_MOE_HI].len)
				RERR(&f[f[C_MOE_LO].len ? C_MOE_HI : C_MOE_LO],
				     "a noisy cell needs its margins of error (moe_lo and moe_hi)");
			break;
		default: {
			const char *what = row.status == REL_MISSING ? "a missing" : "a suppressed";
			int cols[5] = {C_VALUE, C_LO, C_HI, C_MOE_LO, C_MOE_HI};
			for (int k = 0; k < 5; k++)
				if (f[cols[k]].len)
					RERR(&f[cols[k]], "%s cell must leave %s empty", what,
					     col_names[cols[k]]);
		}
		}
		if (d->n_errors > e0)
			continue;
		const char *p = row_problem(&row);
		if (p) {
			diag_add(d, DIAG_ERROR, name, rec.line, 1, "%s", p);
			continue;
		}
		int ad = add_row_raw(t, &row, d);
		if (ad < 0)
			return;
		if (ad == 1) {
			diag_add(d, DIAG_ERROR, name, rec.line, 1,
			         "cell %s %s %s %s given twice", row.geo, f[C_PERIOD].s, f[C_IND].s,
			         f[C_SLOT].s);
		}
	}
}

static void jerr(diag *d, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void jerr(diag *d, const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(d, DIAG_ERROR, name, 0, 0, fmt, ap);
	va_end(ap);
}

static const json_value *jmember(const json_value *o, const char *key, int type,
                                 int null_ok, const char *name, diag *d)
{
	const json_value *v = json_get(o, key);
	if (!v) {
		jerr(d, name, "missing member \"%s\"", key);
		return NULL;
	}
	if (v->type == JSON_NULL && null_ok)
		return v;
	if (v->type != type) {
		static const char *const tn[] = {"null", "a boolean", "a number", "a string",
			"an array", "an object"};
		jerr(d, name, "member \"%s\" must be %s%s", key, tn[type], null_ok ? " or null" : "");
		return NULL;
	}
	return v;
}

static int dup_json(const json_value *v, char **out)
{
	strbuf b = {0};
	json_value_write(&b, v);
	if (b.oom) {
		free(b.s);
		return -1;
	}
	free(*out);
	*out = b.s;
	return 0;
}

static void read_json(const json_value *root, const char *name, rel_table *t, diag *d)
{
	rel_meta *m = &t->meta;
	if (root->type != JSON_OBJECT) {
		jerr(d, name, "release.json must hold a JSON object");
		return;
	}
	const json_value *v;
	if ((v = jmember(root, "format", JSON_STRING, 0, name, d)) && strcmp(v->str, REL_FORMAT) != 0)
		jerr(d, name, "format is \"%.40s\", expected \"" REL_FORMAT "\"", v->str);
	if ((v = jmember(root, "name", JSON_STRING, 0, name, d)) && set_str(&m->name, v->str, d))
		return;
	if ((v = jmember(root, "created", JSON_STRING, 0, name, d))) {
		if (!created_ok(v->str))
			jerr(d, name, "created must be YYYY-MM-DDThh:mm:ssZ");
		else if (set_str(&m->created, v->str, d))
			return;
	}
	int method = -1, priv = -1;
	if ((v = jmember(root, "method", JSON_STRING, 0, name, d))) {
		method = rel_method_parse(v->str);
		if (method < 0)
			jerr(d, name, "method must be \"suppression\", \"dp\" or \"none\"");
	}
	if ((v = jmember(root, "private", JSON_BOOL, 0, name, d)))
		priv = v->num != 0;
	const json_value *nv = jmember(root, "notice", JSON_STRING, 0, name, d);
	if (method >= 0 && priv >= 0 && nv) {
		char why[160];
		if (!protection_ok(method, priv, nv->str, why, sizeof why))
			jerr(d, name, "%s", why);
		else {
			if (set_str(&m->notice, nv->str, d))
				return;
			m->method = method;
			m->is_private = priv;
		}
	}
	if ((v = jmember(root, "params", JSON_OBJECT, 0, name, d)) && dup_json(v, &m->params_json))
		goto oom;
	if ((v = jmember(root, "audit", JSON_OBJECT, 0, name, d)) && dup_json(v, &m->audit_json))
		goto oom;
	if ((v = jmember(root, "rho", JSON_NUMBER, 1, name, d))) {
		if (v->type == JSON_NULL)
			m->rho = NAN;
		else if (!isfinite(v->num) || v->num < 0)
			jerr(d, name, "rho must be >= 0 or null");
		else
			m->rho = v->num;
	}
	if ((v = jmember(root, "seed", JSON_NUMBER, 1, name, d))) {
		if (v->type == JSON_NULL)
			m->has_seed = 0;
		else if (v->num < 0 || v->num > (double)REL_SEED_MAX || v->num != floor(v->num))
			jerr(d, name, "seed must be a whole number in 0..2^53 or null");
		else {
			m->has_seed = 1;
			m->seed = (uint64_t)v->num;
		}
	}
	if ((v = jmember(root, "submissions", JSON_ARRAY, 0, name, d))) {
		for (size_t i = 0; i < v->len; i++) {
			const json_value *s = v->items[i];
			if (s->type != JSON_OBJECT) {
				jerr(d, name, "submissions[%zu] must be an object", i);
				continue;
			}
			const char *c = json_get_str(s, "country"), *p = json_get_str(s, "periods"),
			           *id = json_get_str(s, "id");
			const json_value *ver = json_get(s, "version");
			if (!c || !p || !id || !ver || ver->type != JSON_NUMBER || ver->num < 0 ||
			    ver->num > UINT32_MAX || ver->num != floor(ver->num)) {
				jerr(d, name, "submissions[%zu] needs \"country\", \"periods\", \"id\" "
				     "(strings) and \"version\" (a whole number)", i);
				continue;
			}
			if (rel_add_submission(t, c, p, (uint32_t)ver->num, id, d) != 0)
				return;
		}
	}
	return;
oom:
	diag_fail(d, EX_OSERR, "out of memory");
}

static int finish_read(rel_table *out, size_t e0, const char *what, diag *d)
{
	if (d->code == EX_OSERR) {
		rel_free(out);
		return -1;
	}
	if (d->n_errors > e0) {
		rel_free(out);
		return diag_fail(d, EX_DATAERR, "%s: %zu errors in the release", what, d->n_errors - e0);
	}
	return 0;
}

int rel_read_mem(const char *csv, size_t csv_len, const char *csv_name,
                 const char *json, size_t json_len, const char *json_name,
                 rel_table *out, diag *d)
{
	rel_init(out);
	size_t e0 = d->n_errors;
	csv_name = csv_name ? csv_name : "release.csv";
	json_name = json_name ? json_name : "release.json";
	json_doc doc;
	diag jd = DIAG_INIT;
	if (json_parse(json, json_len, json_name, &doc, &jd) != 0) {
		/* keep the parser's positioned messages, or its failure message */
		for (size_t i = 0; i < jd.n_items; i++)
			diag_add(d, jd.items[i].severity, jd.items[i].file, jd.items[i].line,
			         jd.items[i].col, "%s", jd.items[i].msg);
		if (!jd.n_items)
			diag_add(d, DIAG_ERROR, NULL, 0, 0, "%s", jd.msg);
	} else {
		read_json(doc.root, json_name, out, d);
		json_free(&doc);
	}
	diag_free(&jd);
	csvr *r;
	if (csvr_open_mem(csv, csv_len, csv_name, NULL, &r, d) != 0) {
		rel_free(out);
		return -1;
	}
	read_csv(r, csv_name, out, d);
	csvr_close(r);
	return finish_read(out, e0, csv_name, d);
}

int rel_read_dir(const char *dir, rel_table *out, diag *d)
{
	rel_init(out);
	size_t n = strlen(dir) + 32;
	char *cpath = malloc(n), *jpath = malloc(n);
	if (!cpath || !jpath) {
		free(cpath);
		free(jpath);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	snprintf(cpath, n, "%s/release.csv", dir);
	snprintf(jpath, n, "%s/release.json", dir);
	int rc = -1;
	size_t e0 = d->n_errors;
	json_doc doc;
	diag jd = DIAG_INIT;
	struct stat st;
	if (stat(jpath, &st) != 0) {
		diag_fail(d, EX_NOINPUT, "%s: cannot open: %s", jpath, strerror(errno));
		goto out;
	}
	if (stat(cpath, &st) != 0) {
		diag_fail(d, EX_NOINPUT, "%s: cannot open: %s", cpath, strerror(errno));
		goto out;
	}
	if (json_load(jpath, REL_JSON_MAX, &doc, &jd) != 0) {
		for (size_t i = 0; i < jd.n_items; i++)
			diag_add(d, jd.items[i].severity, jd.items[i].file, jd.items[i].line,
			         jd.items[i].col, "%s", jd.items[i].msg);
		if (!jd.n_items)
			diag_add(d, DIAG_ERROR, jpath, 0, 0, "%s", jd.msg);
	} else {
		read_json(doc.root, jpath, out, d);
		json_free(&doc);
	}
	csvr *r;
	if (csvr_open(cpath, NULL, &r, d) != 0)
		goto out;
	read_csv(r, cpath, out, d);
	csvr_close(r);
	rc = finish_read(out, e0, dir, d);
	free(cpath);
	free(jpath);
	diag_free(&jd);
	return rc;
out:
	rel_free(out);
	free(cpath);
	free(jpath);
	diag_free(&jd);
	return rc;
}
