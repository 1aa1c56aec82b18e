/* population: see population.h.  One pass over the file into a list of
 * (country, year, value), then a dense country x year array: the file is a
 * few thousand rows. */
#include "aggregator/population.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "core/csvr.h"
#include "core/hmap.h"
#include "core/period.h"

typedef struct pop_row {
	int country, year;
	int64_t v;
	unsigned long line;
} pop_row;

static int parse_i64(const char *s, int64_t *out)
{
	if (!*s || *s == '-' || *s == '+')
		return -1;
	for (const char *q = s; *q; q++)
		if (*q < '0' || *q > '9')
			return -1;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int load(csvr *r, const char *name, const codelists *cl, pop_table *p, diag *d)
{
	memset(p, 0, sizeof *p);
	hmap ix;
	hmap_init(&ix);
	pop_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;
	size_t errors0 = d->n_errors;
	for (size_t i = 0; i < cl->n_countries; i++)
		if (hmap_put(&ix, cl->countries[i].iso3, strlen(cl->countries[i].iso3),
		             (int64_t)i, NULL) < 0)
			goto oom;
	csvr_record rec;
	int st = csvr_next(r, &rec, d);
	if (st != CSVR_OK) {
		diag_fail(d, st < 0 ? EX_IOERR : EX_DATAERR, "%s: no header row", name);
		goto out;
	}
	int col[3] = {-1, -1, -1};
	static const char *const names[3] = {"iso3", "year", "population"};
	for (int k = 0; k < 3; k++) {
		for (size_t j = 0; j < rec.n; j++)
			if (strcmp(rec.f[j].s, names[k]) == 0)
				col[k] = (int)j;
		if (col[k] < 0) {
			diag_fail(d, EX_DATAERR, "%s:%lu: header lacks column '%s'", name, rec.line, names[k]);
			goto out;
		}
	}
	while ((st = csvr_next(r, &rec, d)) != CSVR_EOF) {
		if (st < 0) {
			diag_fail(d, EX_IOERR, "%s: read error", name);
			goto out;
		}
		if (st == CSVR_BAD)
			continue; /* positioned diagnostic already added */
		int need = col[0] > col[1] ? col[0] : col[1];
		need = need > col[2] ? need : col[2];
		if ((size_t)need >= rec.n) {
			diag_add(d, DIAG_ERROR, name, rec.line, 1, "row has %zu fields, expected %d",
			         rec.n, need + 1);
			continue;
		}
		const csvr_field *fi = &rec.f[col[0]], *fy = &rec.f[col[1]], *fp = &rec.f[col[2]];
		int64_t ci, year, v = -1;
		if (!hmap_get(&ix, fi->s, fi->len, &ci)) {
			diag_add(d, DIAG_WARNING, name, fi->line, fi->col,
			         "'%.8s' is not a country of the codelists; row skipped", fi->s);
			continue;
		}
		if (parse_i64(fy->s, &year) != 0 || year < PERIOD_MIN_YEAR || year > PERIOD_MAX_YEAR) {
			diag_add(d, DIAG_ERROR, name, fy->line, fy->col, "bad year '%.8s'", fy->s);
			continue;
		}
		if (fp->len && parse_i64(fp->s, &v) != 0) {
			diag_add(d, DIAG_ERROR, name, fp->line, fp->col,
			         "bad population '%.16s' (a whole number >= 0, or empty)", fp->s);
			continue;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			pop_row *nr = realloc(rows, nc * sizeof *nr);
			if (!nr)
				goto oom;
			rows = nr;
			cap = nc;
		}
		rows[n++] = (pop_row){(int)ci, (int)year, v, rec.line};
	}
	int y0 = PERIOD_MAX_YEAR, y1 = PERIOD_MIN_YEAR;
	for (size_t i = 0; i < n; i++) {
		if (rows[i].year < y0)
			y0 = rows[i].year;
		if (rows[i].year > y1)
			y1 = rows[i].year;
	}
	p->n_countries = cl->n_countries;
	p->year0 = n ? y0 : 0;
	p->n_years = n ? y1 - y0 + 1 : 0;
	size_t cells = p->n_countries * (size_t)p->n_years;
	p->v = malloc((cells ? cells : 1) * sizeof *p->v);
	unsigned char *seen = calloc(cells ? cells : 1, 1);
	if (!p->v || !seen) {
		free(seen);
		goto oom;
	}
	for (size_t i = 0; i < cells; i++)
		p->v[i] = -1;
	for (size_t i = 0; i < n; i++) {
		size_t k = (size_t)rows[i].country * (size_t)p->n_years + (size_t)(rows[i].year - p->year0);
		if (seen[k]) {
			diag_add(d, DIAG_ERROR, name, rows[i].line, 1, "%s %d given twice",
			         cl->countries[rows[i].country].iso3, rows[i].year);
			continue;
		}
		seen[k] = 1;
		p->v[k] = rows[i].v;
	}
	free(seen);
	if (d->n_errors > errors0) {
		diag_fail(d, EX_DATAERR, "%s: %zu errors", name, d->n_errors - errors0);
		goto out;
	}
	rc = 0;
	goto out;
oom:
	diag_fail(d, EX_OSERR, "out of memory");
out:
	if (rc != 0)
		pop_free(p);
	free(rows);
	hmap_free(&ix);
	return rc;
}

int pop_load(const char *path, const codelists *cl, pop_table *p, diag *d)
{
	memset(p, 0, sizeof *p);
	csvr *r;
	if (csvr_open(path, NULL, &r, d) != 0)
		return -1;
	int rc = load(r, path, cl, p, d);
	csvr_close(r);
	return rc;
}

int pop_load_mem(const void *buf, size_t len, const char *name,
                 const codelists *cl, pop_table *p, diag *d)
{
	memset(p, 0, sizeof *p);
	csvr *r;
	if (!name)
		name = "<memory>";
	if (csvr_open_mem(buf, len, name, NULL, &r, d) != 0)
		return -1;
	int rc = load(r, name, cl, p, d);
	csvr_close(r);
	return rc;
}

int64_t pop_get(const pop_table *p, int country, int year)
{
	if (!p || !p->v || country < 0 || (size_t)country >= p->n_countries ||
	    year < p->year0 || year >= p->year0 + p->n_years)
		return -1;
	return p->v[(size_t)country * (size_t)p->n_years + (size_t)(year - p->year0)];
}

void pop_free(pop_table *p)
{
	free(p->v);
	memset(p, 0, sizeof *p);
}
