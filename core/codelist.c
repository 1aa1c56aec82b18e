/* codelist: see codelist.h.
 *
 * Each file is read through csvr (so a broken codelist gets the same
 * positioned errors as a national file) and every accepted spelling goes
 * into a normalised-string index.  A spelling claimed by two different
 * entries is an error: a lookup must never depend on file order.
 */
#include "core/codelist.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include "core/csvr.h"
#include "core/hmap.h"
#include "core/text.h"

#ifndef TIPSTAT_SHARE
#define TIPSTAT_SHARE "/usr/local/share/tipstat"
#endif

struct cl_index {
	hmap map;
};

#define NORM_MAX 256

/* --- reading one CSV table with named columns ------------------------ */

typedef struct table_reader {
	csvr *r;
	const char *path;
	int col[8];          /* field index per requested column, -1 absent */
	size_t ncols;
} table_reader;

static int tr_open(table_reader *t, const char *dir, const char *file,
                   const char *const *names, size_t nnames, size_t nrequired,
                   char *pathbuf, size_t pathsz, diag *d)
{
	snprintf(pathbuf, pathsz, "%s/%s", dir, file);
	t->path = pathbuf;
	t->ncols = nnames;
	if (csvr_open(pathbuf, NULL, &t->r, d) != 0)
		return -1;
	csvr_record rec;
	int rc = csvr_next(t->r, &rec, d);
	if (rc != CSVR_OK) {
		csvr_close(t->r);
		t->r = NULL;
		return diag_fail(d, EX_DATAERR, "%s: no header row", pathbuf);
	}
	for (size_t i = 0; i < nnames; i++) {
		t->col[i] = -1;
		for (size_t j = 0; j < rec.n; j++)
			if (strcmp(rec.f[j].s, names[i]) == 0)
				t->col[i] = (int)j;
		if (i < nrequired && t->col[i] < 0) {
			csvr_close(t->r);
			t->r = NULL;
			return diag_fail(d, EX_DATAERR, "%s:1: header lacks column '%s'",
			                 pathbuf, names[i]);
		}
	}
	return 0;
}

/* Next data row; 1 = row, 0 = end, -1 = error.  Bad rows are errors here:
 * a codelist is project data and must be clean. */
static int tr_next(table_reader *t, csvr_record *rec, diag *d)
{
	int rc = csvr_next(t->r, rec, d);
	if (rc == CSVR_EOF)
		return 0;
	if (rc != CSVR_OK)
		return diag_fail(d, EX_DATAERR, "%s: malformed codelist", t->path);
	for (size_t i = 0; i < t->ncols; i++)
		if (t->col[i] >= (int)rec->n)
			return diag_fail(d, EX_DATAERR, "%s:%lu: row has %zu fields",
			                 t->path, rec->line, rec->n);
	return 1;
}

static const char *tr_get(const table_reader *t, const csvr_record *rec, size_t i)
{
	return t->col[i] < 0 ? "" : rec->f[t->col[i]].s;
}

/* --- indexes ---------------------------------------------------------- */

static int index_add(struct cl_index *ix, const char *s, int val,
                     const char *path, unsigned long line, diag *d)
{
	char norm[NORM_MAX];
	size_t n = text_norm(s, strlen(s), norm, sizeof norm);
	if (n == 0)
		return 0;
	int64_t old;
	int rc = hmap_put(&ix->map, norm, n, val, &old);
	if (rc < 0)
		return diag_fail(d, EX_OSERR, "out of memory");
	if (rc == 1 && old != val)
		return diag_fail(d, EX_DATAERR,
		                 "%s:%lu: spelling '%s' already names another entry",
		                 path, line, s);
	return 0;
}

static int index_find(const struct cl_index *ix, const char *s, size_t n)
{
	char norm[NORM_MAX];
	if (!ix)
		return -1;
	size_t k = text_norm(s, n, norm, sizeof norm);
	int64_t v;
	return hmap_get(&ix->map, norm, k, &v) ? (int)v : -1;
}

static struct cl_index *index_new(void)
{
	struct cl_index *ix = calloc(1, sizeof *ix);
	if (ix)
		hmap_init(&ix->map);
	return ix;
}

static void index_free(struct cl_index *ix)
{
	if (ix) {
		hmap_free(&ix->map);
		free(ix);
	}
}

/* Add each '|'-separated alias. */
static int index_aliases(struct cl_index *ix, const char *aliases, int val,
                         const char *path, unsigned long line, diag *d)
{
	char buf[NORM_MAX];
	const char *p = aliases;
	while (*p) {
		const char *e = strchr(p, '|');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n >= sizeof buf)
			n = sizeof buf - 1;
		memcpy(buf, p, n);
		buf[n] = '\0';
		if (index_add(ix, buf, val, path, line, d) != 0)
			return -1;
		p += n + (e ? 1 : 0);
		if (!e)
			break;
	}
	return 0;
}

/* --- code tables ---------------------------------------------------- */

static int parse_int(const char *s, int *out)
{
	if (!*s) {
		*out = -1;
		return 0;
	}
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < -1 || v > 1000)
		return -1;
	*out = (int)v;
	return 0;
}

static int load_table(const char *dir, const char *file, int is_age,
                      cl_table *t, diag *d)
{
	static const char *const names[] = {"code", "label", "aliases", "parent",
	                                    "min_age", "max_age"};
	char path[PATH_MAX];
	table_reader tr;
	memset(t, 0, sizeof *t);
	if (tr_open(&tr, dir, file, names, is_age ? 6 : 3, 2, path, sizeof path, d) != 0)
		return -1;
	t->index = index_new();
	char **parents = NULL;
	size_t cap = 0;
	csvr_record rec;
	int rc;
	while ((rc = tr_next(&tr, &rec, d)) == 1) {
		if (t->n == cap) {
			cap = cap ? cap * 2 : 16;
			cl_code *nc = realloc(t->codes, cap * sizeof *nc);
			char **np = realloc(parents, cap * sizeof *np);
			if (nc)
				t->codes = nc;
			if (np)
				parents = np;
			if (!nc || !np || !t->index) {
				rc = diag_fail(d, EX_OSERR, "out of memory");
				break;
			}
		}
		cl_code *c = &t->codes[t->n];
		memset(c, 0, sizeof *c);
		c->code = strdup(tr_get(&tr, &rec, 0));
		c->label = strdup(tr_get(&tr, &rec, 1));
		parents[t->n] = strdup(is_age ? tr_get(&tr, &rec, 3) : "");
		c->parent = -1;
		c->min_age = c->max_age = -1;
		t->n++;
		if (!c->code || !c->label || !parents[t->n - 1]) {
			rc = diag_fail(d, EX_OSERR, "out of memory");
			break;
		}
		if (is_age && (parse_int(tr_get(&tr, &rec, 4), &c->min_age) != 0 ||
		               parse_int(tr_get(&tr, &rec, 5), &c->max_age) != 0)) {
			rc = diag_fail(d, EX_DATAERR, "%s:%lu: bad age bound", path, rec.line);
			break;
		}
		int v = (int)(t->n - 1);
		if (index_add(t->index, c->code, v, path, rec.line, d) != 0 ||
		    index_add(t->index, c->label, v, path, rec.line, d) != 0 ||
		    index_aliases(t->index, tr_get(&tr, &rec, 2), v, path, rec.line, d) != 0) {
			rc = -1;
			break;
		}
	}
	csvr_close(tr.r);
	for (size_t i = 0; rc == 0 && i < t->n; i++) {
		if (!parents[i][0])
			continue;
		for (size_t j = 0; j < t->n; j++)
			if (strcmp(t->codes[j].code, parents[i]) == 0)
				t->codes[i].parent = (int)j;
		if (t->codes[i].parent < 0)
			rc = diag_fail(d, EX_DATAERR, "%s: parent '%s' of '%s' is not a code",
			               path, parents[i], t->codes[i].code);
	}
	for (size_t i = 0; i < t->n; i++)
		free(parents[i]);
	free(parents);
	return rc == 0 ? 0 : -1;
}

static void free_table(cl_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->codes[i].code);
		free(t->codes[i].label);
	}
	free(t->codes);
	index_free(t->index);
	memset(t, 0, sizeof *t);
}

/* --- regions and countries ------------------------------------------ */

static int find_region(const codelists *cl, const char *code)
{
	for (size_t i = 0; i < cl->n_regions; i++)
		if (strcmp(cl->regions[i].code, code) == 0)
			return (int)i;
	return -1;
}

static int load_regions(const char *dir, codelists *cl, diag *d)
{
	static const char *const names[] = {"code", "name", "kind", "parent"};
	char path[PATH_MAX];
	table_reader tr;
	if (tr_open(&tr, dir, "regions.csv", names, 4, 4, path, sizeof path, d) != 0)
		return -1;
	char (*parent)[4] = NULL;
	size_t cap = 0;
	csvr_record rec;
	int rc;
	while ((rc = tr_next(&tr, &rec, d)) == 1) {
		if (cl->n_regions == cap) {
			cap = cap ? cap * 2 : 64;
			cl_region *nr = realloc(cl->regions, cap * sizeof *nr);
			char (*np)[4] = realloc(parent, cap * sizeof *np);
			if (nr)
				cl->regions = nr;
			if (np)
				parent = np;
			if (!nr || !np) {
				rc = diag_fail(d, EX_OSERR, "out of memory");
				break;
			}
		}
		cl_region *g = &cl->regions[cl->n_regions];
		const char *code = tr_get(&tr, &rec, 0), *kind = tr_get(&tr, &rec, 2);
		memset(g, 0, sizeof *g);
		snprintf(g->code, sizeof g->code, "%s", code);
		snprintf(parent[cl->n_regions], 4, "%s", tr_get(&tr, &rec, 3));
		g->name = strdup(tr_get(&tr, &rec, 1));
		g->kind = !strcmp(kind, "world") ? CL_WORLD : !strcmp(kind, "region") ? CL_REGION
		        : !strcmp(kind, "subregion") ? CL_SUBREGION : -1;
		cl->n_regions++;
		if (!g->name) {
			rc = diag_fail(d, EX_OSERR, "out of memory");
			break;
		}
		if (strlen(code) != 3 || g->kind < 0) {
			rc = diag_fail(d, EX_DATAERR, "%s:%lu: bad region code or kind", path, rec.line);
			break;
		}
	}
	csvr_close(tr.r);
	for (size_t i = 0; rc == 0 && i < cl->n_regions; i++) {
		cl->regions[i].parent = parent[i][0] ? find_region(cl, parent[i]) : -1;
		if ((cl->regions[i].parent < 0) != (cl->regions[i].kind == CL_WORLD))
			rc = diag_fail(d, EX_DATAERR, "%s: region %s has a bad parent",
			               path, cl->regions[i].code);
	}
	free(parent);
	return rc == 0 ? 0 : -1;
}

static int load_countries(const char *dir, codelists *cl, diag *d)
{
	static const char *const names[] = {"iso3", "iso2", "m49", "name",
	                                    "region_code", "subregion_code"};
	char path[PATH_MAX];
	table_reader tr;
	if (tr_open(&tr, dir, "countries.csv", names, 6, 6, path, sizeof path, d) != 0)
		return -1;
	cl->country_index = index_new();
	size_t cap = 0;
	csvr_record rec;
	int rc;
	while ((rc = tr_next(&tr, &rec, d)) == 1) {
		if (cl->n_countries == cap) {
			cap = cap ? cap * 2 : 256;
			cl_country *nc = realloc(cl->countries, cap * sizeof *nc);
			if (nc)
				cl->countries = nc;
			if (!nc || !cl->country_index) {
				rc = diag_fail(d, EX_OSERR, "out of memory");
				break;
			}
		}
		cl_country *c = &cl->countries[cl->n_countries];
		memset(c, 0, sizeof *c);
		const char *iso3 = tr_get(&tr, &rec, 0), *iso2 = tr_get(&tr, &rec, 1);
		const char *m49 = tr_get(&tr, &rec, 2);
		if (strlen(iso3) != 3 || strlen(iso2) > 2 || strlen(m49) > 3) {
			rc = diag_fail(d, EX_DATAERR, "%s:%lu: bad country codes", path, rec.line);
			break;
		}
		memcpy(c->iso3, iso3, 4);
		memcpy(c->iso2, iso2, strlen(iso2) + 1);
		memcpy(c->m49, m49, strlen(m49) + 1);
		c->name = strdup(tr_get(&tr, &rec, 3));
		c->region = find_region(cl, tr_get(&tr, &rec, 4));
		c->subregion = find_region(cl, tr_get(&tr, &rec, 5));
		cl->n_countries++;
		if (!c->name) {
			rc = diag_fail(d, EX_OSERR, "out of memory");
			break;
		}
		if (c->region < 0 || c->subregion < 0 ||
		    cl->regions[c->subregion].parent != c->region) {
			rc = diag_fail(d, EX_DATAERR, "%s:%lu: %s: unknown region or subregion",
			               path, rec.line, iso3);
			break;
		}
		int v = (int)cl->n_countries - 1;
		if (index_add(cl->country_index, iso3, v, path, rec.line, d) != 0 ||
		    index_add(cl->country_index, iso2, v, path, rec.line, d) != 0 ||
		    index_add(cl->country_index, m49, v, path, rec.line, d) != 0 ||
		    index_add(cl->country_index, c->name, v, path, rec.line, d) != 0) {
			rc = -1;
			break;
		}
	}
	csvr_close(tr.r);
	return rc == 0 ? 0 : -1;
}

static int load_aliases(const char *dir, codelists *cl, diag *d)
{
	static const char *const names[] = {"alias", "iso3"};
	char path[PATH_MAX];
	table_reader tr;
	if (tr_open(&tr, dir, "country_aliases.csv", names, 2, 2, path, sizeof path, d) != 0)
		return -1;
	csvr_record rec;
	int rc;
	while ((rc = tr_next(&tr, &rec, d)) == 1) {
		const char *iso3 = tr_get(&tr, &rec, 1);
		int v = index_find(cl->country_index, iso3, strlen(iso3));
		if (v < 0 || strcmp(cl->countries[v].iso3, iso3) != 0) {
			rc = diag_fail(d, EX_DATAERR, "%s:%lu: '%s' is not a country code",
			               path, rec.line, iso3);
			break;
		}
		if (index_add(cl->country_index, tr_get(&tr, &rec, 0), v, path, rec.line, d) != 0) {
			rc = -1;
			break;
		}
	}
	csvr_close(tr.r);
	return rc == 0 ? 0 : -1;
}

/* --- public ------------------------------------------------------------ */

const char *codelists_default_dir(char *buf, size_t size)
{
	struct stat st;
	const char *env = getenv("TIPSTAT_DATASETS");
	if (env && *env)
		snprintf(buf, size, "%s/codelists", env);
	else if (stat("datasets/codelists", &st) == 0)
		snprintf(buf, size, "datasets/codelists");
	else
		snprintf(buf, size, "%s/codelists", TIPSTAT_SHARE);
	return buf;
}

int codelists_load(const char *dir, codelists *cl, diag *d)
{
	memset(cl, 0, sizeof *cl);
	cl->dir = strdup(dir);
	if (!cl->dir)
		return diag_fail(d, EX_OSERR, "out of memory");
	if (load_regions(dir, cl, d) != 0 || load_countries(dir, cl, d) != 0 ||
	    load_aliases(dir, cl, d) != 0 ||
	    load_table(dir, "indicators.csv", 0, &cl->indicators, d) != 0 ||
	    load_table(dir, "sex.csv", 0, &cl->sex, d) != 0 ||
	    load_table(dir, "age.csv", 1, &cl->age, d) != 0 ||
	    load_table(dir, "forms.csv", 0, &cl->forms, d) != 0) {
		codelists_free(cl);
		return -1;
	}
	return 0;
}

void codelists_free(codelists *cl)
{
	for (size_t i = 0; i < cl->n_countries; i++)
		free(cl->countries[i].name);
	free(cl->countries);
	for (size_t i = 0; i < cl->n_regions; i++)
		free(cl->regions[i].name);
	free(cl->regions);
	free_table(&cl->indicators);
	free_table(&cl->sex);
	free_table(&cl->age);
	free_table(&cl->forms);
	index_free(cl->country_index);
	free(cl->dir);
	memset(cl, 0, sizeof *cl);
}

int cl_find_country(const codelists *cl, const char *s, size_t n)
{
	return index_find(cl->country_index, s, n);
}

int cl_find(const cl_table *t, const char *s, size_t n)
{
	return index_find(t->index, s, n);
}

size_t cl_nearest(const cl_table *t, const char *s, size_t n,
                  const char **out, size_t k)
{
	char norm[NORM_MAX], cand[NORM_MAX];
	text_norm(s, n, norm, sizeof norm);
	unsigned best[8];
	size_t got = 0;
	if (k > 8)
		k = 8;
	for (size_t i = 0; i < t->n; i++) {
		for (int w = 0; w < 2; w++) {
			const char *c = w ? t->codes[i].label : t->codes[i].code;
			text_norm(c, strlen(c), cand, sizeof cand);
			unsigned dist = text_edit_distance(norm, cand, 64);
			/* insertion sort into the k best, one entry per code */
			size_t pos = got;
			int dup = 0;
			for (size_t j = 0; j < got; j++)
				if (out[j] == t->codes[i].code) {
					dup = 1;
					if (dist < best[j])
						best[j] = dist;
				}
			if (dup)
				continue;
			while (pos > 0 && best[pos - 1] > dist)
				pos--;
			if (pos >= k)
				continue;
			size_t last = got < k ? got : k - 1;
			for (size_t j = last; j > pos; j--) {
				best[j] = best[j - 1];
				out[j] = out[j - 1];
			}
			best[pos] = dist;
			out[pos] = t->codes[i].code;
			if (got < k)
				got++;
		}
	}
	return got;
}

int cl_age_for_years(const codelists *cl, int years)
{
	int found = -1;
	for (size_t i = 0; i < cl->age.n; i++) {
		const cl_code *c = &cl->age.codes[i];
		if (c->min_age < 0 || years < c->min_age || (c->max_age >= 0 && years > c->max_age))
			continue;
		/* prefer the finest code: one that has a parent */
		if (found < 0 || c->parent >= 0)
			found = (int)i;
	}
	return found;
}

int cl_age_group(const codelists *cl, int age_code)
{
	while (age_code >= 0 && cl->age.codes[age_code].parent >= 0)
		age_code = cl->age.codes[age_code].parent;
	return age_code;
}
