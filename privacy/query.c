/* query: researchers' questions answered with discrete Gaussian noise,
 * charged atomically, cached and derived (privacy/query.h). */
#include "privacy/query.h"

#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include "aggregator/auditlog.h"
#include "aggregator/whcube.h"
#include "core/hmap.h"
#include "core/period.h"
#include "privacy/dpsample.h"
#include "privacy/ledger.h"
#include "privacy/researcher.h"
#include "core/sqlx.h"

#define DB_WHAT "warehouse" /* the prefix of SQLite errors */

#define NAXES (1 + REQ_NDIM)      /* geo, then the dims */
#define CODE_MAX 16

static const char *const cit_classes[] = {"domestic", "samesub", "othersub", "otherreg", "U"};

/* --- small helpers ---------------------------------------------------------- */

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

void qry_answer_free(qry_answer *a)
{
	if (!a)
		return;
	free(a->header);
	free(a->body);
	a->header = a->body = NULL;
}

int qry_init(sqlite3 *db, diag *d)
{
	int rc = sqlite3_exec(db,
	                      "CREATE TABLE IF NOT EXISTS qry_answer(\n"
	                      "  id INTEGER PRIMARY KEY,\n"
	                      "  qid TEXT NOT NULL,\n"
	                      "  question TEXT NOT NULL,\n"
	                      "  indicator TEXT NOT NULL,\n"
	                      "  geo INTEGER NOT NULL,\n"
	                      "  dims INTEGER NOT NULL,\n"
	                      "  filters TEXT NOT NULL,\n"
	                      "  rho INTEGER NOT NULL,\n"
	                      "  eff_rho INTEGER NOT NULL,\n"
	                      "  seeded INTEGER NOT NULL,\n"
	                      "  as_of_seq INTEGER NOT NULL,\n"
	                      "  created TEXT NOT NULL,\n"
	                      "  researcher TEXT NOT NULL,\n"
	                      "  source TEXT NOT NULL,\n"
	                      "  from_id INTEGER,\n"
	                      "  header TEXT NOT NULL,\n"
	                      "  body TEXT NOT NULL,\n"
	                      "  n_cells INTEGER NOT NULL,\n"
	                      "  audit_seq INTEGER NOT NULL);\n"
	                      "CREATE INDEX IF NOT EXISTS qry_answer_qid ON qry_answer(qid);\n"
	                      "CREATE TRIGGER IF NOT EXISTS qry_answer_no_update BEFORE UPDATE ON "
	                      "qry_answer BEGIN SELECT RAISE(ABORT, 'released answers are "
	                      "final'); END;\n",
	                      NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : sqlx_fail(db, rc, DB_WHAT, d);
}

void qry_sigma2(int64_t rho, uint64_t *num, uint64_t *den)
{
	uint64_t a = (uint64_t)LEDGER_UNITS_PER_RHO, b = 2 * (uint64_t)rho;
	uint64_t x = a, y = b;
	while (y) {
		uint64_t t = x % y;
		x = y;
		y = t;
	}
	*num = a / x;
	*den = b / x;
}

static int moe_of(int64_t rho, int64_t *m, diag *d)
{
	uint64_t num, den;
	qry_sigma2(rho, &num, &den);
	return dp_gauss_moe(num, den, QRY_LEVEL, m, d);
}

int qry_rho_for_moe(int64_t moe, int64_t *rho, diag *d)
{
	if (moe < 1)
		return diag_fail(d, EX_DATAERR, "a margin of error must be 1 or more");
	int64_t lo = 1, hi = LEDGER_MAX_UNITS, m;
	if (moe_of(lo, &m, d) != 0)
		return -1;
	if (m <= moe) {
		*rho = lo;
		return 0;
	}
	/* invariant: moe(lo) > moe, moe(hi) <= moe */
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;
		if (moe_of(mid, &m, d) != 0)
			return -1;
		if (m <= moe)
			hi = mid;
		else
			lo = mid;
	}
	*rho = hi;
	return 0;
}

/* The margin of a sum of k independent noisy cells of variance s2. */
static int64_t moe_k(int64_t rho, int64_t moe1, int64_t k)
{
	if (k <= 1)
		return moe1;
	uint64_t num, den;
	qry_sigma2(rho, &num, &den);
	double s2 = (double)num / (double)den;
	return (int64_t)ceil(1.6448536269514722 * sqrt((double)k * s2));
}

/* --- 90% intervals (query.h) ------------------------------------------------ */

int qry_interval_new(int64_t rho, qry_interval *iv, diag *d)
{
	uint64_t num, den;
	if (rho < 1)
		return diag_fail(d, EX_SOFTWARE, "an answer's rho must be positive");
	qry_sigma2(rho, &num, &den);
	iv->s2 = (double)num / (double)den;
	/* P(Z <= m) = (1 + P(|Z| <= m)) / 2 for a symmetric Z: the one-sided
	 * 90% point is the two-sided 80% margin */
	if (dp_gauss_moe(num, den, QRY_LEVEL, &iv->m95, d) != 0 ||
	    dp_gauss_moe(num, den, 2 * QRY_LEVEL - 1, &iv->m90, d) != 0)
		return -1;
	return 0;
}

void qry_interval_of(const qry_interval *iv, int64_t value, int64_t k, const int64_t *x,
                     int64_t *moe_lo, int64_t *moe_hi)
{
	if (k <= 1) {
		/* belt: [t - m95, t + m95] from t* = m95 + 1 up (a region
		 * without 0), [0, t + m90] below */
		int64_t ts = iv->m95 + 1;
		int64_t L = value - iv->m90 < ts ? (value > iv->m90 ? value - iv->m90 : 0)
		                                 : (value - iv->m95 > ts ? value - iv->m95 : ts);
		*moe_lo = value - L;
		*moe_hi = iv->m95;
		return;
	}
	double kk = (double)k, z = 1.6448536269514722, sd = sqrt(iv->s2);
	if (x) {
		/* the sum's unclamped value X = T + N(0, k sigma^2): the belt of
		 * privacy/dpcube.c, central from t* = z95 s, one-sided below; the
		 * whole numbers in it, widened to hold the value */
		double X = (double)*x, s = sqrt(kk * iv->s2), ts = z * s, U = X + z * s, L;
		if (U < ts)
			U = ts;
		if (X - 1.2815515655446004 * s < ts)
			L = X - 1.2815515655446004 * s > 0 ? X - 1.2815515655446004 * s : 0;
		else
			L = X - z * s > ts ? X - z * s : ts;
		int64_t Li = (int64_t)ceil(L - 1e-9), Ui = (int64_t)floor(U + 1e-9);
		*moe_lo = value > Li ? value - Li : 0;
		*moe_hi = Ui > value ? Ui - value : 0;
		return;
	}
	/* stored without its unclamped value: value - T lies between the sum
	 * of the k noises and the sum of their positive parts (see query.h) */
	int64_t up = (int64_t)ceil(z * sqrt(kk * iv->s2));
	int64_t down = (int64_t)ceil(kk * sd * 0.3989422804014327 +
	                             z * sd * sqrt(kk * (0.5 - 0.15915494309189535)));
	*moe_lo = value < down ? value : down;
	*moe_hi = up;
}

/* --- the table of a question ----------------------------------------------- */

typedef struct axis {
	int on;
	size_t n;
	char (*codes)[CODE_MAX];
	hmap pos;                     /* code -> position */
} axis;

typedef struct table {
	axis ax[NAXES];
	size_t n_cells;
	int64_t *count;
	int ind;                      /* indicator index */
	const req_request *r;
	const codelists *cl;
	hmap seen;                    /* (country, key) already counted */
	char world[4];
} table;

static void table_free(table *t)
{
	for (int i = 0; i < NAXES; i++) {
		free(t->ax[i].codes);
		hmap_free(&t->ax[i].pos);
	}
	hmap_free(&t->seen);
	free(t->count);
}

static int axis_add(axis *a, const char *code, diag *d)
{
	if (hmap_get(&a->pos, code, strlen(code), NULL))
		return 0;
	char (*c)[CODE_MAX] = realloc(a->codes, (a->n + 1) * sizeof *a->codes);
	if (!c)
		return diag_fail(d, EX_OSERR, "out of memory");
	a->codes = c;
	snprintf(a->codes[a->n], CODE_MAX, "%s", code);
	if (hmap_put(&a->pos, code, strlen(code), (int64_t)a->n, NULL) < 0)
		return diag_fail(d, EX_OSERR, "out of memory");
	a->n++;
	return 0;
}

/* 1 if the code passes the filters of filter dimension fd (none = pass). */
static int passes(const req_request *r, int fd, const char *code)
{
	int any = 0;
	for (size_t i = 0; i < r->n_filters; i++)
		if (r->filters[i].dim == fd) {
			any = 1;
			if (!strcmp(r->filters[i].code, code))
				return 1;
		}
	return !any;
}

static int geo_passes(const table *t, int c)
{
	const codelists *cl = t->cl;
	const cl_country *k = &cl->countries[c];
	if (!passes(t->r, REQ_F_COUNTRY, k->iso3))
		return 0;
	int any = 0;
	for (size_t i = 0; i < t->r->n_filters; i++)
		if (t->r->filters[i].dim == REQ_F_REGION) {
			any = 1;
			const char *f = t->r->filters[i].code;
			if ((k->region >= 0 && !strcmp(cl->regions[k->region].code, f)) ||
			    (k->subregion >= 0 && !strcmp(cl->regions[k->subregion].code, f)))
				return 1;
		}
	return !any;
}

static const char *geo_code(const table *t, int level, int c)
{
	const cl_country *k = &t->cl->countries[c];
	switch (level) {
	case REQ_GEO_COUNTRY: return k->iso3;
	case REQ_GEO_SUBREGION: return k->subregion >= 0 ? t->cl->regions[k->subregion].code : "";
	case REQ_GEO_REGION: return k->region >= 0 ? t->cl->regions[k->region].code : "";
	default: return t->world;
	}
}

static int cit_class(const codelists *cl, int country, int cit)
{
	if (cit == STD_UNKNOWN || cit < 0)
		return 4;
	if (cit == country)
		return 0;
	const cl_country *a = &cl->countries[country], *b = &cl->countries[cit];
	if (a->subregion >= 0 && a->subregion == b->subregion)
		return 1;
	if (a->region >= 0 && a->region == b->region)
		return 2;
	return 3;
}

/* Codes of a record on every axis (geo at the requested level). */
static int row_codes(const table *t, const std_row *row, char codes[NAXES][CODE_MAX])
{
	const codelists *cl = t->cl;
	if (row->sex < 0 || row->age < 0 || row->form < 0)
		return -1;
	int ag = cl_age_group(cl, row->age);
	if (ag < 0)
		return -1;
	snprintf(codes[0], CODE_MAX, "%s", geo_code(t, t->r->geo, row->country));
	snprintf(codes[1 + REQ_D_YEAR], CODE_MAX, "%04d", period_year(row->period));
	snprintf(codes[1 + REQ_D_SEX], CODE_MAX, "%s", cl->sex.codes[row->sex].code);
	snprintf(codes[1 + REQ_D_AGE], CODE_MAX, "%s", cl->age.codes[ag].code);
	snprintf(codes[1 + REQ_D_FORM], CODE_MAX, "%s", cl->forms.codes[row->form].code);
	snprintf(codes[1 + REQ_D_CIT], CODE_MAX, "%s",
	         cit_classes[cit_class(cl, row->country, row->citizenship)]);
	return 0;
}

static const int axis_fdim[NAXES] = {-1, REQ_F_YEAR, REQ_F_SEX, REQ_F_AGE, REQ_F_FORM,
                                     REQ_F_CIT};

static int on_row(void *ctx, const std_row *row, diag *d)
{
	table *t = ctx;
	if (row->indicator != t->ind)
		return 0;
	/* a person counts once, at the first appearance (parts arrive country
	 * by country in period order), before any filter: a filter on a later
	 * year must not count again someone counted earlier */
	if (row->has_key) {
		char k[4 + 16];
		memcpy(k, t->cl->countries[row->country].iso3, 4);
		memcpy(k + 4, row->key, 16);
		int rc = hmap_put(&t->seen, k, sizeof k, 1, NULL);
		if (rc < 0)
			return diag_fail(d, EX_OSERR, "out of memory");
		if (rc == 1)
			return 0;             /* this person was counted already */
	}
	if (!geo_passes(t, row->country))
		return 0;
	char codes[NAXES][CODE_MAX];
	if (row_codes(t, row, codes) != 0)
		return 0;                 /* a total in a record: not a person */
	for (int a = 1; a < NAXES; a++)
		if (!passes(t->r, axis_fdim[a], codes[a]))
			return 0;
	size_t idx = 0;
	for (int a = 0; a < NAXES; a++) {
		if (!t->ax[a].on)
			continue;
		int64_t p;
		if (!hmap_get(&t->ax[a].pos, codes[a], strlen(codes[a]), &p))
			return 0;             /* outside the table's domain */
		idx = idx * t->ax[a].n + (size_t)p;
	}
	t->count[idx]++;
	return 0;
}

/* True counts of the question's cells, from the latest case-level
 * submissions as of audit entry as_of. */
static int table_count(wh *w, const codelists *cl, const req_request *r, int64_t as_of,
                       table *t, diag *d)
{
	memset(t, 0, sizeof *t);
	t->r = r;
	t->cl = cl;
	for (int i = 0; i < NAXES; i++)
		hmap_init(&t->ax[i].pos);
	hmap_init(&t->seen);
	snprintf(t->world, sizeof t->world, "001");
	for (size_t i = 0; i < cl->n_regions; i++)
		if (cl->regions[i].kind == CL_WORLD)
			snprintf(t->world, sizeof t->world, "%s", cl->regions[i].code);
	t->ind = cl_find(&cl->indicators, r->indicator, strlen(r->indicator));
	if (t->ind < 0)
		return diag_fail(d, EX_DATAERR, "unknown indicator '%s'", r->indicator);
	wh_part *parts;
	size_t n;
	if (wh_latest(w, NULL, as_of, &parts, &n, d) != 0)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (parts[i].kind == WH_RECORDS)
			parts[k++] = parts[i];
	n = k;
	/* the domain: geographies and years covered, every code otherwise */
	t->ax[0].on = 1;
	for (int i = 0; i < REQ_NDIM; i++)
		t->ax[1 + i].on = (r->dims >> i) & 1;
	unsigned char *present = calloc(cl->n_countries ? cl->n_countries : 1, 1);
	int years[256], n_years = 0;
	if (!present) {
		free(parts);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		int c = cl_find_country(cl, parts[i].country, strlen(parts[i].country));
		if (c >= 0)
			present[c] = 1;
		int y = atoi(parts[i].period), dup = 0;
		for (int j = 0; j < n_years; j++)
			dup |= years[j] == y;
		if (!dup && n_years < 256)
			years[n_years++] = y;
	}
	int rc = 0;
	/* geography in codelist order of the level */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		if (r->geo == REQ_GEO_COUNTRY || r->geo == REQ_GEO_WORLD) {
			for (size_t c = 0; c < cl->n_countries && rc == 0; c++)
				if (present[c] && geo_passes(t, (int)c))
					rc = axis_add(&t->ax[0], geo_code(t, r->geo, (int)c), d);
			break;
		}
		for (size_t g = 0; g < cl->n_regions && rc == 0; g++)
			for (size_t c = 0; c < cl->n_countries && rc == 0; c++)
				if (present[c] && geo_passes(t, (int)c) &&
				    !strcmp(geo_code(t, r->geo, (int)c), cl->regions[g].code))
					rc = axis_add(&t->ax[0], cl->regions[g].code, d);
		break;
	}
	free(present);
	for (int i = 0; i < n_years; i++)
		for (int j = i + 1; j < n_years; j++)
			if (years[j] < years[i]) {
				int x = years[i];
				years[i] = years[j];
				years[j] = x;
			}
	char buf[CODE_MAX];
	for (int i = 0; i < n_years && rc == 0; i++) {
		snprintf(buf, sizeof buf, "%04d", years[i]);
		if (passes(r, REQ_F_YEAR, buf))
			rc = axis_add(&t->ax[1 + REQ_D_YEAR], buf, d);
	}
	for (size_t i = 0; i < cl->sex.n && rc == 0; i++)
		if (passes(r, REQ_F_SEX, cl->sex.codes[i].code))
			rc = axis_add(&t->ax[1 + REQ_D_SEX], cl->sex.codes[i].code, d);
	for (size_t i = 0; i < cl->age.n && rc == 0; i++)
		if (cl->age.codes[i].parent < 0 && passes(r, REQ_F_AGE, cl->age.codes[i].code))
			rc = axis_add(&t->ax[1 + REQ_D_AGE], cl->age.codes[i].code, d);
	for (size_t i = 0; i < cl->forms.n && rc == 0; i++)
		if (passes(r, REQ_F_FORM, cl->forms.codes[i].code))
			rc = axis_add(&t->ax[1 + REQ_D_FORM], cl->forms.codes[i].code, d);
	for (int i = 0; i < 5 && rc == 0; i++)
		if (passes(r, REQ_F_CIT, cit_classes[i]))
			rc = axis_add(&t->ax[1 + REQ_D_CIT], cit_classes[i], d);
	if (rc != 0) {
		free(parts);
		return -1;
	}
	size_t cells = 1;
	for (int a = 0; a < NAXES; a++) {
		if (!t->ax[a].on)
			continue;
		if (t->ax[a].n && cells > QRY_MAX_CELLS / t->ax[a].n) {
			free(parts);
			return diag_fail(d, EX_DATAERR, "the question has more than %d cells; ask for a "
			                 "coarser table", QRY_MAX_CELLS);
		}
		cells *= t->ax[a].n;
	}
	if (!n || !cells) {
		free(parts);
		return diag_fail(d, EX_DATAERR, "nothing to answer from: no case-level submission "
		                 "matches the question's geography and years");
	}
	t->n_cells = cells;
	t->count = calloc(cells, sizeof *t->count);
	if (!t->count) {
		free(parts);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	rc = whcube_each_record(w, cl, parts, n, on_row, t, d);
	free(parts);
	return rc;
}

/* --- body text ------------------------------------------------------------- */

typedef struct sbuf {
	char *p;
	size_t n, cap;
} sbuf;

static int sb_add(sbuf *b, const char *s, size_t n, diag *d)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return diag_fail(d, EX_OSERR, "out of memory");
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
	return 0;
}

static char *make_header(int geo, unsigned dims)
{
	char h[256];
	size_t n = (size_t)snprintf(h, sizeof h, "%s", req_geo_name(geo));
	for (int i = 0; i < REQ_NDIM; i++)
		if ((dims >> i) & 1)
			n += (size_t)snprintf(h + n, sizeof h - n, ",%s", req_dim_name(i));
	return xstrdup(h);
}

/* The noisy, clamped table as body text. */
static int table_release(const table *t, int64_t rho, dprng *rng, sbuf *body, diag *d)
{
	uint64_t num, den;
	qry_sigma2(rho, &num, &den);
	dp_gauss *g;
	int64_t moe;
	if (dp_gauss_new(num, den, &g, d) != 0)
		return -1;
	if (dp_gauss_moe(num, den, QRY_LEVEL, &moe, d) != 0) {
		dp_gauss_free(g);
		return -1;
	}
	size_t pos[NAXES] = {0};
	for (size_t i = 0; i < t->n_cells; i++) {
		/* decode i into positions (last axis fastest) */
		size_t x = i;
		for (int a = NAXES - 1; a >= 0; a--)
			if (t->ax[a].on) {
				pos[a] = x % t->ax[a].n;
				x /= t->ax[a].n;
			}
		int64_t un = t->count[i] + dp_gauss_sample(g, rng), v = un > 0 ? un : 0;
		char line[256];
		size_t n = 0;
		for (int a = 0; a < NAXES; a++)
			if (t->ax[a].on)
				n += (size_t)snprintf(line + n, sizeof line - n, "%s,", t->ax[a].codes[pos[a]]);
		n += (size_t)snprintf(line + n, sizeof line - n, "%lld,%lld,1,%lld\n", (long long)v,
		                      (long long)moe, (long long)un);
		if (sb_add(body, line, n, d) != 0) {
			dp_gauss_free(g);
			return -1;
		}
	}
	dp_gauss_free(g);
	return 0;
}

/* --- the cache ------------------------------------------------------------- */

typedef struct stored {
	int64_t id, rho, eff_rho, as_of_seq, n_cells;
	int geo;
	unsigned dims;
	char *header, *body, *filters;
} stored;

static void stored_free(stored *s)
{
	free(s->header);
	free(s->body);
	free(s->filters);
	memset(s, 0, sizeof *s);
}

static void filters_text(const req_request *r, char *buf, size_t size)
{
	size_t n = 0;
	buf[0] = 0;
	for (size_t i = 0; i < r->n_filters && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s:%s", i ? "," : "",
		                      req_fdim_name(r->filters[i].dim), r->filters[i].code);
}

static int read_stored(sqlite3_stmt *st, stored *s, diag *d)
{
	s->id = sqlite3_column_int64(st, 0);
	s->rho = sqlite3_column_int64(st, 1);
	s->as_of_seq = sqlite3_column_int64(st, 2);
	s->geo = sqlite3_column_int(st, 3);
	s->dims = (unsigned)sqlite3_column_int(st, 4);
	s->n_cells = sqlite3_column_int64(st, 5);
	s->eff_rho = sqlite3_column_int64(st, 8);
	s->header = xstrdup((const char *)sqlite3_column_text(st, 6));
	s->body = xstrdup((const char *)sqlite3_column_text(st, 7));
	s->filters = xstrdup((const char *)sqlite3_column_text(st, 9));
	if (!s->header || !s->body || !s->filters) {
		stored_free(s);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	return 0;
}

#define STORED_COLS "id, rho, as_of_seq, geo, dims, n_cells, header, body, eff_rho, filters"

/* The best stored answer to exactly this question: *found 0 or 1. */
static int find_exact(sqlite3 *db, const char *qid, int64_t rho, int seeded, stored *s,
                      int *found, diag *d)
{
	*found = 0;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "SELECT " STORED_COLS " FROM qry_answer WHERE qid = ? "
	                            "AND seeded = ? AND eff_rho >= ? ORDER BY eff_rho DESC, id LIMIT 1",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlx_fail(db, rc, DB_WHAT, d);
	sqlite3_bind_text(st, 1, qid, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, seeded);
	sqlite3_bind_int64(st, 3, rho);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*found = 1;
		rc = read_stored(st, s, d) == 0 ? SQLITE_DONE : -1;
		if (rc < 0) {
			sqlite3_finalize(st);
			return -1;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sqlx_fail(db, rc, DB_WHAT, d);
}

/* Map a geography code at level `from` to level `to` (to <= from). */
static int geo_coarsen(const codelists *cl, const char *world, const char *code, int from,
                       int to, char out[CODE_MAX])
{
	if (to == from) {
		snprintf(out, CODE_MAX, "%s", code);
		return 0;
	}
	if (to == REQ_GEO_WORLD) {
		snprintf(out, CODE_MAX, "%s", world);
		return 0;
	}
	if (from == REQ_GEO_COUNTRY) {
		int c = cl_find_country(cl, code, strlen(code));
		if (c < 0)
			return -1;
		int g = to == REQ_GEO_REGION ? cl->countries[c].region : cl->countries[c].subregion;
		if (g < 0)
			return -1;
		snprintf(out, CODE_MAX, "%s", cl->regions[g].code);
		return 0;
	}
	/* subregion -> region */
	for (size_t i = 0; i < cl->n_regions; i++)
		if (cl->regions[i].kind == CL_SUBREGION && !strcmp(cl->regions[i].code, code)) {
			int p = cl->regions[i].parent;
			if (p < 0)
				return -1;
			snprintf(out, CODE_MAX, "%s", cl->regions[p].code);
			return 0;
		}
	return -1;
}

/* Cells of a stored table a question selects: for each axis, the codes
 * kept (sel[a].n == 0: all). */
typedef struct selection {
	size_t n[NAXES];
	const char *codes[NAXES][REQ_MAX_FILTERS];
} selection;

static const int fdim_axis[REQ_NFDIM] = {-1, -1, 1 + REQ_D_YEAR, 1 + REQ_D_SEX, 1 + REQ_D_AGE,
                                         1 + REQ_D_FORM, 1 + REQ_D_CIT};

/* 1 when r's filters select cells of the stored table s (stored filters
 * text as written by filters_text): per filter dimension, the same codes,
 * or r's codes a subset of s's (all, when s has none) on a dimension s is
 * grouped by (not the geography).  sel receives the selections. */
static int selects(const stored *s, const req_request *r, selection *sel)
{
	req_filter sf[REQ_MAX_FILTERS];
	size_t ns = 0;
	char buf[REQ_QUESTION_MAX];
	snprintf(buf, sizeof buf, "%s", s->filters);
	for (char *p = buf; *p && ns < REQ_MAX_FILTERS;) {
		char *c = strchr(p, ',');
		if (c)
			*c = 0;
		char *colon = strchr(p, ':');
		if (!colon)
			return 0;
		*colon = 0;
		int f = -1;
		for (int i = 0; i < REQ_NFDIM; i++)
			if (!strcmp(req_fdim_name(i), p))
				f = i;
		if (f < 0)
			return 0;
		sf[ns].dim = f;
		snprintf(sf[ns].code, sizeof sf[ns].code, "%s", colon + 1);
		ns++;
		if (!c)
			break;
		p = c + 1;
	}
	memset(sel, 0, sizeof *sel);
	for (int f = 0; f < REQ_NFDIM; f++) {
		size_t n_s = 0, n_r = 0, in = 0;
		for (size_t i = 0; i < ns; i++)
			n_s += sf[i].dim == f;
		for (size_t j = 0; j < r->n_filters; j++) {
			if (r->filters[j].dim != f)
				continue;
			n_r++;
			for (size_t i = 0; i < ns; i++)
				in += sf[i].dim == f && !strcmp(sf[i].code, r->filters[j].code);
		}
		if (n_s == n_r && in == n_r)
			continue;                 /* the same codes */
		int a = fdim_axis[f];
		if (a < 1 || !((s->dims >> (a - 1)) & 1) || n_r == 0 || (n_s && in != n_r))
			return 0;
		for (size_t j = 0; j < r->n_filters; j++)
			if (r->filters[j].dim == f)
				sel->codes[a][sel->n[a]++] = r->filters[j].code;
	}
	return 1;
}

/* Sum the stored cells of s into the margin r asks for. */
static int derive(const codelists *cl, const stored *s, const req_request *r,
                  const selection *sel, sbuf *body, size_t *n_cells, int64_t *kmax, diag *d)
{
	char world[4] = "001";
	for (size_t i = 0; i < cl->n_regions; i++)
		if (cl->regions[i].kind == CL_WORLD)
			snprintf(world, sizeof world, "%s", cl->regions[i].code);
	int64_t moe1;
	if (moe_of(s->rho, &moe1, d) != 0)
		return -1;
	int map[NAXES], ncols = 1;    /* stored column of each axis, -1 absent */
	map[0] = 0;
	for (int i = 0; i < REQ_NDIM; i++)
		map[1 + i] = ((s->dims >> i) & 1) ? ncols++ : -1;
	hmap idx;
	hmap_init(&idx);
	char (*keys)[128] = NULL;
	int64_t *val = NULL, *kk = NULL, *xs = NULL;
	size_t n = 0, cap = 0;
	int rc = 0, all_x = 1; /* every summed line has its unclamped value */
	const char *p = s->body;
	while (*p && rc == 0) {
		const char *e = strchr(p, '\n');
		if (!e)
			e = p + strlen(p);
		char line[256], *f[NAXES + 4];
		size_t ll = (size_t)(e - p);
		if (ll >= sizeof line) {
			rc = diag_fail(d, EX_SOFTWARE, "stored answer %lld: line too long",
			               (long long)s->id);
			break;
		}
		memcpy(line, p, ll);
		line[ll] = 0;
		p = *e ? e + 1 : e;
		int nf = 0;
		for (char *q = line; nf < NAXES + 4;) {
			f[nf++] = q;
			char *c = strchr(q, ',');
			if (!c)
				break;
			*c = 0;
			q = c + 1;
		}
		if (nf != ncols + 3 && nf != ncols + 4) {
			rc = diag_fail(d, EX_SOFTWARE, "stored answer %lld: malformed", (long long)s->id);
			break;
		}
		int keep = 1;
		for (int a = 1; a < NAXES; a++)
			if (sel->n[a]) {
				int hit = 0;
				for (size_t i = 0; i < sel->n[a]; i++)
					hit |= !strcmp(sel->codes[a][i], f[map[a]]);
				keep &= hit;
			}
		if (!keep)
			continue;
		char key[128], g[CODE_MAX];
		if (geo_coarsen(cl, world, f[0], s->geo, r->geo, g) != 0) {
			rc = diag_fail(d, EX_SOFTWARE, "stored answer %lld: unknown geography '%s'",
			               (long long)s->id, f[0]);
			break;
		}
		size_t kn = (size_t)snprintf(key, sizeof key, "%s", g);
		for (int i = 0; i < REQ_NDIM; i++)
			if ((r->dims >> i) & 1)
				kn += (size_t)snprintf(key + kn, sizeof key - kn, ",%s", f[map[1 + i]]);
		int64_t at;
		if (!hmap_get(&idx, key, kn, &at)) {
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				void *a = realloc(keys, cap * sizeof *keys), *b = NULL, *c = NULL, *x = NULL;
				if (a)
					keys = a;
				if (a && (b = realloc(val, cap * sizeof *val)))
					val = b;
				if (b && (c = realloc(kk, cap * sizeof *kk)))
					kk = c;
				if (c && (x = realloc(xs, cap * sizeof *xs)))
					xs = x;
				if (!a || !b || !c || !x) {
					rc = diag_fail(d, EX_OSERR, "out of memory");
					break;
				}
			}
			at = (int64_t)n;
			memcpy(keys[n], key, kn + 1);
			val[n] = kk[n] = xs[n] = 0;
			n++;
			if (hmap_put(&idx, key, kn, at, NULL) < 0) {
				rc = diag_fail(d, EX_OSERR, "out of memory");
				break;
			}
		}
		val[at] += strtoll(f[ncols], NULL, 10);
		kk[at] += strtoll(f[ncols + 2], NULL, 10);
		if (nf == ncols + 4)
			xs[at] += strtoll(f[ncols + 3], NULL, 10);
		else
			all_x = 0; /* stored before the unclamped values were */
	}
	*kmax = 1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char line[256];
		if (kk[i] > *kmax)
			*kmax = kk[i];
		int w = snprintf(line, sizeof line, "%s,%lld,%lld,%lld", keys[i], (long long)val[i],
		                 (long long)moe_k(s->rho, moe1, kk[i]), (long long)kk[i]);
		if (all_x)
			w += snprintf(line + w, sizeof line - (size_t)w, ",%lld", (long long)xs[i]);
		line[w++] = '\n';
		rc = sb_add(body, line, (size_t)w, d);
	}
	*n_cells = n;
	hmap_free(&idx);
	free(keys);
	free(val);
	free(kk);
	free(xs);
	return rc;
}

/* A stored answer this question is a margin of, accurate enough: summing
 * k cells of noise rho gives a cell of variance k sigma^2, i.e. the
 * accuracy of rho / k; it must be at least the rho asked.  On success
 * *found = 1, s is the base and body the derived cells. */
static int find_base(sqlite3 *db, const codelists *cl, const req_request *r, int64_t rho,
                     int seeded, stored *s, sbuf *body, size_t *n_cells, int64_t *eff,
                     int *found, diag *d)
{
	*found = 0;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "SELECT " STORED_COLS " FROM qry_answer WHERE indicator "
	                            "= ? AND seeded = ? AND eff_rho >= ? AND geo >= ? "
	                            "AND (dims & ?) = ? ORDER BY eff_rho DESC, n_cells, id LIMIT 256",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlx_fail(db, rc, DB_WHAT, d);
	sqlite3_bind_text(st, 1, r->indicator, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, seeded);
	sqlite3_bind_int64(st, 3, rho);
	sqlite3_bind_int(st, 4, r->geo);
	sqlite3_bind_int(st, 5, (int)r->dims);
	sqlite3_bind_int(st, 6, (int)r->dims);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t kmax;
		selection sel;
		if (read_stored(st, s, d) != 0) {
			sqlite3_finalize(st);
			return -1;
		}
		if (!selects(s, r, &sel)) {
			stored_free(s);
			continue;
		}
		if (derive(cl, s, r, &sel, body, n_cells, &kmax, d) != 0) {
			sqlite3_finalize(st);
			stored_free(s);
			free(body->p);
			memset(body, 0, sizeof *body);
			return -1;
		}
		/* the base's cells may be sums themselves: its eff_rho is per cell */
		int64_t e = s->eff_rho / kmax;
		if (e >= rho && *n_cells > 0) {   /* no cell selected: ask afresh */
			*eff = e;
			*found = 1;
			break;
		}
		stored_free(s);
		free(body->p);
		memset(body, 0, sizeof *body);
	}
	sqlite3_finalize(st);
	return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sqlx_fail(db, rc, DB_WHAT, d);
}

static int store(sqlite3 *db, const req_request *r, const qry_answer *a, const char *source,
                 int64_t audit_seq, int64_t *id, diag *d)
{
	char filters[REQ_QUESTION_MAX], ts[SQLX_TS_LEN];
	filters_text(r, filters, sizeof filters);
	sqlx_now_utc(ts);
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "INSERT INTO qry_answer(qid, question, indicator, geo, dims,"
	                            " filters, rho, eff_rho, seeded, as_of_seq, created, researcher, source, "
	                            "from_id, header, body, n_cells, audit_seq) VALUES(?,?,?,?,?,?,"
	                            "?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlx_fail(db, rc, DB_WHAT, d);
	sqlite3_bind_text(st, 1, a->qid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->question, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->indicator, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, r->geo);
	sqlite3_bind_int(st, 5, (int)r->dims);
	sqlite3_bind_text(st, 6, filters, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, a->rho);
	sqlite3_bind_int64(st, 8, a->eff_rho);
	sqlite3_bind_int(st, 9, a->seeded);
	sqlite3_bind_int64(st, 10, a->as_of_seq);
	sqlite3_bind_text(st, 11, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, r->researcher, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, source, -1, SQLITE_STATIC);
	if (a->from_id)
		sqlite3_bind_int64(st, 14, a->from_id);
	else
		sqlite3_bind_null(st, 14);
	sqlite3_bind_text(st, 15, a->header, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 16, a->body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 17, (int64_t)a->n_cells);
	sqlite3_bind_int64(st, 18, audit_seq);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlx_fail(db, rc, DB_WHAT, d);
	*id = sqlite3_last_insert_rowid(db);
	return 0;
}

/* --- asking ---------------------------------------------------------------- */

static void refuse_audit(sqlite3 *db, const req_request *r, const char *qid,
                         const char *reason)
{
	diag d2 = DIAG_INIT;
	if (sqlx_begin(db, DB_WHAT, &d2) == 0) {
		char detail[256];
		snprintf(detail, sizeof detail, "researcher=%s qid=%s reason=%s", r->researcher,
		         qid[0] ? qid : "none", reason);
		if (audit_append(db, "query", "query.refused", detail, NULL, &d2) != 0 ||
		    sqlx_commit(db, DB_WHAT, &d2) != 0)
			sqlx_rollback(db);
	}
	diag_free(&d2);
}

static void audit_detail(const req_request *r, const qry_answer *a, const char *extra,
                         char *buf, size_t size)
{
	char filters[REQ_QUESTION_MAX], rho[LEDGER_RHO_STR], gb[128];
	filters_text(r, filters, sizeof filters);
	ledger_format_rho(a->rho, rho);
	size_t n = (size_t)snprintf(gb, sizeof gb, "%s", req_geo_name(r->geo));
	for (int i = 0; i < REQ_NDIM; i++)
		if ((r->dims >> i) & 1)
			n += (size_t)snprintf(gb + n, sizeof gb - n, ",%s", req_dim_name(i));
	snprintf(buf, size, "researcher=%s qid=%s indicator=%s group_by=%s%s%s rho=%s %s",
	         r->researcher, a->qid, r->indicator, gb, filters[0] ? " filter=" : "", filters,
	         rho, extra);
}

/* Serve a stored answer (cached), or a margin of one (derived, body
 * already summed), inside the caller's transaction. */
static int serve_stored(sqlite3 *db, const req_request *r, stored *s, sbuf *derived,
                        size_t n_cells, int64_t eff, qry_answer *a, diag *d)
{
	a->rho = s->rho;
	a->as_of_seq = s->as_of_seq;
	a->charged = 0;
	char extra[128], detail[AUDIT_DETAIL_MAX];
	if (!derived) {
		a->source = QRY_CACHED;
		a->answer_id = s->id;
		a->eff_rho = s->eff_rho;
		a->header = s->header;
		a->body = s->body;
		a->n_cells = (size_t)s->n_cells;
		s->header = s->body = NULL;
		snprintf(extra, sizeof extra, "charged=0 answer=%lld", (long long)s->id);
		audit_detail(r, a, extra, detail, sizeof detail);
		return audit_append(db, "query", "query.cached", detail, NULL, d);
	}
	a->source = QRY_DERIVED;
	a->from_id = s->id;
	a->eff_rho = eff;
	a->n_cells = n_cells;
	a->body = derived->p ? derived->p : xstrdup("");
	derived->p = NULL;
	a->header = make_header(r->geo, r->dims);
	if (!a->body || !a->header)
		return diag_fail(d, EX_OSERR, "out of memory");
	char eff_s[LEDGER_RHO_STR]; /* what a cell of the margin is as accurate as */
	ledger_format_rho(eff, eff_s);
	snprintf(extra, sizeof extra, "eff_rho=%s charged=0 from=%lld", eff_s, (long long)s->id);
	audit_detail(r, a, extra, detail, sizeof detail);
	int64_t seq;
	if (audit_append(db, "query", "query.derived", detail, &seq, d) != 0)
		return -1;
	return store(db, r, a, "derived", seq, &a->answer_id, d);
}

static int budget_left(sqlite3 *db, const char *id, qry_answer *a, diag *d)
{
	char budget[64];
	int64_t spent;
	rsr_budget_name(id, budget, sizeof budget);
	if (ledger_get(db, budget, &a->total, &spent, d) != 0)
		return -1;
	a->left = a->total - spent;
	return 0;
}

/* Look the question up in the store inside a transaction; *done = 1 when
 * it was served (committed). */
static int try_store(sqlite3 *db, const codelists *cl, const req_request *r, int64_t rho,
                     int seeded, qry_answer *a, int *done, diag *d)
{
	*done = 0;
	stored s = {0};
	sbuf body = {0};
	size_t n_cells = 0;
	int64_t eff = 0;
	int found;
	if (find_exact(db, a->qid, rho, seeded, &s, &found, d) != 0)
		return -1;
	int derived = 0;
	if (!found) {
		if (find_base(db, cl, r, rho, seeded, &s, &body, &n_cells, &eff, &found, d) != 0)
			return -1;
		derived = found;
	}
	if (!found)
		return 0;
	int rc = serve_stored(db, r, &s, derived ? &body : NULL, n_cells, eff, a, d);
	stored_free(&s);
	free(body.p);
	if (rc != 0)
		return -1;
	*done = 1;
	return 0;
}

int qry_ask(wh *w, const codelists *cl, const req_request *r, const char *text, size_t len,
            dprng *rng, const char *now, qry_answer *out, diag *d)
{
	return qry_ask_to(w, cl, r, text, len, rng, now, NULL, NULL, out, d);
}

/* BEGIN IMMEDIATE, then the answer store's and the ledger's tables: made
 * inside the transaction, so a failed query leaves no empty table. */
static int begin_tx(sqlite3 *db, diag *d)
{
	if (sqlx_begin(db, DB_WHAT, d) != 0)
		return -1;
	if (qry_init(db, d) != 0 || ledger_init(db, d) != 0)
		return sqlx_rollback(db);
	return 0;
}

int qry_ask_to(wh *w, const codelists *cl, const req_request *r, const char *text, size_t len,
               dprng *rng, const char *now, qry_sink sink, void *arg, qry_answer *out,
               diag *d)
{
	memset(out, 0, sizeof *out);
	sqlite3 *db = wh_db(w);
	if (req_question(r, out->question, sizeof out->question, out->qid, d) != 0)
		return -1;
	out->seeded = dprng_is_seeded(rng);
	/* who is asking: account, signature, validity */
	rsr_account acct;
	if (rsr_get(db, r->researcher, &acct, d) != 0) {
		if (d->code == EX_NOPERM)
			refuse_audit(db, r, out->qid, "no_account");
		return -1;
	}
	if (req_verify(r, text, len, acct.public_key, d) != 0) {
		refuse_audit(db, r, out->qid, "bad_signature");
		return -1;
	}
	if (rsr_check_active(&acct, now, d) != 0) {
		refuse_audit(db, r, out->qid, acct.revoked_at[0] ? "revoked" : "expired");
		return -1;
	}
	int64_t rho = r->rho;
	if (!rho && qry_rho_for_moe(r->moe, &rho, d) != 0)
		return -1;
	/* the store first: free answers need no data and no noise */
	int done;
	if (begin_tx(db, d) != 0)
		return -1;
	if (try_store(db, cl, r, rho, out->seeded, out, &done, d) != 0)
		return sqlx_rollback(db);
	if (done) {
		if ((sink && sink(out, arg, d) != 0) || sqlx_commit(db, DB_WHAT, d) != 0)
			return sqlx_rollback(db);
		return budget_left(db, r->researcher, out, d);
	}
	sqlx_rollback(db);
	/* fresh: count and add noise outside the lock, then charge and store */
	int64_t head;
	char head_hex[AUDIT_HEX];
	if (audit_head(db, &head, head_hex, d) != 0)
		return -1;
	table t;
	if (table_count(w, cl, r, head, &t, d) != 0) {
		table_free(&t);
		return -1;
	}
	sbuf body = {0};
	int rc = table_release(&t, rho, rng, &body, d);
	out->n_cells = t.n_cells;
	table_free(&t);
	if (rc != 0) {
		free(body.p);
		return -1;
	}
	if (begin_tx(db, d) != 0) {
		free(body.p);
		return -1;
	}
	/* someone may have answered the same question meanwhile */
	if (try_store(db, cl, r, rho, out->seeded, out, &done, d) != 0) {
		free(body.p);
		return sqlx_rollback(db);
	}
	if (done) {
		free(body.p);             /* our noise is never released */
		if ((sink && sink(out, arg, d) != 0) || sqlx_commit(db, DB_WHAT, d) != 0)
			return sqlx_rollback(db);
		return budget_left(db, r->researcher, out, d);
	}
	out->source = QRY_FRESH;
	out->rho = rho;
	out->eff_rho = rho;
	out->charged = rho;
	out->as_of_seq = head;
	out->body = body.p;
	out->header = make_header(r->geo, r->dims);
	if (!out->header) {
		sqlx_rollback(db);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	/* re-check the account under the lock (revoked meanwhile?) */
	if (rsr_get(db, r->researcher, &acct, d) != 0 || rsr_check_active(&acct, now, d) != 0) {
		sqlx_rollback(db);
		qry_answer_free(out);
		refuse_audit(db, r, out->qid, "revoked");
		return -1;
	}
	if (budget_left(db, r->researcher, out, d) != 0) {
		sqlx_rollback(db);
		qry_answer_free(out);
		return -1;
	}
	char extra[160], detail[AUDIT_DETAIL_MAX], left[LEDGER_RHO_STR], what[64], budget[64];
	ledger_format_rho(out->left - rho >= 0 ? out->left - rho : 0, left);
	{
		char c[LEDGER_RHO_STR];
		ledger_format_rho(rho, c);
		snprintf(extra, sizeof extra, "charged=%s left=%s cells=%zu as_of=%lld%s", c, left,
		         out->n_cells, (long long)head, out->seeded ? " seeded=yes" : "");
	}
	audit_detail(r, out, extra, detail, sizeof detail);
	int64_t seq;
	if (audit_append(db, "query", "query.answer", detail, &seq, d) != 0) {
		sqlx_rollback(db);
		qry_answer_free(out);
		return -1;
	}
	rsr_budget_name(r->researcher, budget, sizeof budget);
	snprintf(what, sizeof what, "query:%s", out->qid);
	if (ledger_charge_tx(db, budget, what, rho, NULL, seq, NULL, d) != 0) {
		sqlx_rollback(db);
		qry_answer_free(out);
		refuse_audit(db, r, out->qid, d->code == EX_NOPERM ? "overspend" : "error");
		return -1;
	}
	if (store(db, r, out, "fresh", seq, &out->answer_id, d) != 0 ||
	    (sink && sink(out, arg, d) != 0)) {
		sqlx_rollback(db);
		qry_answer_free(out);
		return -1;
	}
	if (sqlx_commit(db, DB_WHAT, d) != 0) {
		qry_answer_free(out);
		return -1;
	}
	out->left -= rho;
	return 0;
}

int qry_write_csv(const qry_answer *a, FILE *fp, diag *d)
{
	qry_interval iv;
	if (qry_interval_new(a->rho, &iv, d) != 0)
		return -1;
	int ncols = 1;
	for (const char *h = a->header; h && *h; h++)
		ncols += *h == ',';
	if (a->seeded)
		fputs("# NOT PRIVATE: made with a test seed\n", fp);
	fprintf(fp, "%s,value,moe_lo,moe_hi\n", a->header);
	const char *p = a->body;
	while (p && *p) {
		const char *e = strchr(p, '\n');
		if (!e)
			e = p + strlen(p);
		/* codes, value, the stored symmetric margin (replaced by the
		 * interval), k (internal), and the unclamped value when stored */
		const char *f[NAXES + 4];
		int nf = 0;
		f[nf++] = p;
		for (const char *q = p; q < e && nf < NAXES + 4; q++)
			if (*q == ',')
				f[nf++] = q + 1;
		if (nf != ncols + 3 && nf != ncols + 4)
			return diag_fail(d, EX_SOFTWARE, "answer %lld: malformed line",
			                 (long long)a->answer_id);
		int64_t lo, hi, x = nf == ncols + 4 ? strtoll(f[ncols + 3], NULL, 10) : 0;
		int64_t value = strtoll(f[ncols], NULL, 10), k = strtoll(f[ncols + 2], NULL, 10);
		qry_interval_of(&iv, value, k, nf == ncols + 4 ? &x : NULL, &lo, &hi);
		fwrite(p, 1, (size_t)(f[ncols + 1] - 1 - p), fp);
		fprintf(fp, ",%lld,%lld\n", (long long)lo, (long long)hi);
		p = *e ? e + 1 : e;
	}
	if (ferror(fp))
		return diag_fail(d, EX_IOERR, "writing the answer failed");
	return 0;
}
