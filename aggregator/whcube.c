/* whcube: see whcube.h. */
#include "aggregator/whcube.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "aggregator/auditlog.h"
#include "core/extsort.h"
#include "core/hmap.h"
#include "core/json.h"
#include "core/period.h"

/* Code caches: one hmap per kind of code, value = resolved index + 1. */
enum { K_COUNTRY, K_PERIOD, K_IND, K_SEX, K_AGE, K_FORM, K_CIT, K_N };

/* In front of each cache: a direct-mapped table for codes of up to 8
 * bytes (every code of the standard but the longest), keyed by the code's
 * bytes packed into an integer: no hashing of strings, no probing. */
#define FAST_SLOTS 64
typedef struct fastc {
	uint64_t key[FAST_SLOTS];   /* 0 = empty */
	int val[FAST_SLOTS];
} fastc;

typedef struct build {
	const codelists *cl;
	cube *c;
	extsort *sorter;
	hmap cache[K_N];
	fastc fast[K_N];
	whcube_info *info;
	uint64_t seq;           /* insertion order, the last sort key */
} build;

/* Resolve a stored code; -1 if unknown (the warehouse validated syntax,
 * the codelists may still have changed since). */
static int resolve(build *b, int kind, const char *s)
{
	uint64_t fk = 0;
	size_t n = 0;
	while (n < 8 && s[n]) {
		fk |= (uint64_t)(unsigned char)s[n] << (8 * n);
		n++;
	}
	size_t slot = 0;
	if (s[n]) {
		fk = 0;   /* longer than 8 bytes: the hash map only */
		n += strlen(s + n);
	} else if (fk) {
		slot = (size_t)((fk * 0x9e3779b97f4a7c15ull) >> 58);
		if (b->fast[kind].key[slot] == fk)
			return b->fast[kind].val[slot];
	}
	int64_t v;
	if (hmap_get(&b->cache[kind], s, n, &v)) {
		if (fk) {
			b->fast[kind].key[slot] = fk;
			b->fast[kind].val[slot] = (int)v;
		}
		return (int)v;
	}
	const codelists *cl = b->cl;
	int r;
	if (!strcmp(s, "_T") && kind != K_COUNTRY && kind != K_PERIOD && kind != K_IND)
		r = STD_TOTAL;
	else if (kind == K_CIT && !strcmp(s, "U"))
		r = STD_UNKNOWN;
	else if (kind == K_COUNTRY || kind == K_CIT)
		r = cl_find_country(cl, s, n);
	else if (kind == K_PERIOD)
		r = period_parse(s, n);
	else
		r = cl_find(kind == K_IND ? &cl->indicators : kind == K_SEX ? &cl->sex
		            : kind == K_AGE ? &cl->age : &cl->forms, s, n);
	if (r == -1)
		return -1;
	hmap_put(&b->cache[kind], s, n, r, NULL);
	return r;
}

static int to_row(build *b, const char *country, const char *period, const char *ind,
                  const char *sex, const char *age, const char *band, const char *form,
                  const char *cit, std_row *o, diag *d)
{
	memset(o, 0, sizeof *o);
	o->country = resolve(b, K_COUNTRY, country);
	o->period = resolve(b, K_PERIOD, period);
	o->indicator = resolve(b, K_IND, ind);
	o->sex = resolve(b, K_SEX, sex);
	int a = resolve(b, K_AGE, age);
	o->form = resolve(b, K_FORM, form);
	o->citizenship = resolve(b, K_CIT, cit);
	o->age_band = STD_NONE;
	if (a >= 0) {
		int g = cl_age_group(b->cl, a);
		o->age = g;
		if (g != a)
			o->age_band = a;
	} else {
		o->age = a;
	}
	if (band && *band) {
		int bb = resolve(b, K_AGE, band);
		if (bb < 0)
			return diag_fail(d, EX_DATAERR, "stored age band '%s' is not in the codelists",
			                 band);
		o->age_band = bb;
	}
	if (o->country < 0 || o->period < 0 || o->indicator < 0 || o->sex == -1 || a == -1 ||
	    o->form == -1 || o->citizenship == -1)
		return diag_fail(d, EX_DATAERR, "a stored row (%s %s %s %s %s %s %s) has a code the "
		                 "codelists do not know (were the codelists changed?)", country,
		                 period, ind, sex, age, form, cit);
	return 0;
}

static void put_be(unsigned char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

/* Sort key in cube_record_cmp order: country, indicator, keyed first,
 * key, period, insertion order; then the row itself. */
#define SORT_KEY 40
static int on_record(void *ctx, const wh_record *r, diag *d)
{
	build *b = ctx;
	unsigned char item[SORT_KEY + sizeof(std_row)];
	std_row row;
	if (to_row(b, r->country, r->period, r->indicator, r->sex, r->age, r->age_band, r->form,
	           r->citizenship, &row, d) != 0)
		return -1;
	row.has_key = r->has_key;
	memcpy(row.key, r->case_key, sizeof row.key);
	row.line = r->line;
	put_be(item, (uint64_t)row.country, 4);
	put_be(item + 4, (uint64_t)row.indicator, 4);
	item[8] = row.has_key ? 0 : 1;
	if (row.has_key)
		memcpy(item + 9, row.key, 16);
	else
		memset(item + 9, 0, 16);
	put_be(item + 25, (uint64_t)row.period, 4);
	put_be(item + 29, b->seq++, 8);
	memset(item + 37, 0, 3);
	memcpy(item + SORT_KEY, &row, sizeof row);
	b->info->records++;
	return extsort_add(b->sorter, item, sizeof item, d);
}

static int on_cell(void *ctx, const wh_cell *c, diag *d)
{
	build *b = ctx;
	std_row row;
	if (to_row(b, c->country, c->period, c->indicator, c->sex, c->age, NULL, c->form,
	           c->citizenship, &row, d) != 0)
		return -1;
	row.lo = c->lo;
	row.hi = c->hi;
	row.line = c->line;
	for (const char *f = c->flags; *f; f++)
		row.flags |= *f == 'c' ? STD_F_CENSORED : *f == 'a' ? STD_F_NONADDITIVE
		           : *f == 'd' ? STD_F_DUPLICATE : 0;
	b->info->cells++;
	return cube_add_cell(b->c, &row, d);
}

/* Declare every indicator the submission's manifest lists for the part. */
static int declare_part(build *b, wh *w, const wh_part *p, diag *d)
{
	char *json = NULL;
	json_doc doc;
	if (wh_submission_manifest(w, p->submission_id, &json, d) != 0)
		return -1;
	int rc = json_parse(json, strlen(json), "manifest", &doc, d);
	free(json);
	if (rc != 0)
		return -1;
	const json_value *inds = json_get(doc.root, "indicators");
	int country = resolve(b, K_COUNTRY, p->country);
	int period = resolve(b, K_PERIOD, p->period);
	for (size_t i = 0; rc == 0 && inds && inds->type == JSON_ARRAY && i < inds->len; i++) {
		const json_value *v = inds->items[i];
		int ind = v->type == JSON_STRING ? resolve(b, K_IND, v->str) : -1;
		if (ind < 0 || country < 0 || period < 0)
			rc = diag_fail(d, EX_DATAERR, "submission %lld: manifest lists an unknown "
			               "indicator", (long long)p->submission_id);
		else
			rc = cube_declare(b->c, p->kind == WH_RECORDS ? CUBE_RECORDS : CUBE_CELLS,
			                  country, period, ind, d);
	}
	json_free(&doc);
	return rc;
}

static int feed(build *b, wh *w, int kind, diag *d)
{
	whcube_info *in = b->info;
	for (size_t i = 0; i < in->n_parts; i++) {
		if (in->parts[i].kind != kind)
			continue;
		if (declare_part(b, w, &in->parts[i], d) != 0)
			return -1;
		int rc = kind == WH_RECORDS ? wh_each_record(w, &in->parts[i], 1, on_record, b, d)
		                            : wh_each_cell(w, &in->parts[i], 1, on_cell, b, d);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int drain_records(build *b, diag *d)
{
	if (extsort_finish(b->sorter, d) != 0)
		return -1;
	const void *item;
	size_t n;
	int rc;
	while ((rc = extsort_next(b->sorter, &item, &n, d)) == 1) {
		std_row row;
		memcpy(&row, (const unsigned char *)item + SORT_KEY, sizeof row);
		if (cube_add_record(b->c, &row, d) != 0)
			return -1;
	}
	return rc < 0 ? -1 : 0;
}

/* --- the merge path ------------------------------------------------------------ */

/* One records submission of the country being merged: its cursor, which
 * of its periods are in use (period string -> part index), and its
 * current row. */
typedef struct src {
	wh_rcursor *cur;
	int64_t sub;            /* its submission id */
	hmap periods;
	int has;                /* row is a current row */
	int prev_keyed;         /* the row before had a key (order check) */
	unsigned char prev_key[16];
	std_row row;
	size_t part;            /* index of row's part in info->parts: seq order */
} src;

/* A row of a key group with its position in cube_record_cmp order. */
typedef struct grow_ent {
	std_row row;
	size_t part;
} grow_ent;

/* Order of a key group: indicator, period, part, line (the rest of
 * cube_record_cmp and whcube's insertion order; country and key are equal). */
static int grp_before(const grow_ent *a, const grow_ent *b)
{
	if (a->row.indicator != b->row.indicator)
		return a->row.indicator < b->row.indicator;
	if (a->row.period != b->row.period)
		return a->row.period < b->row.period;
	if (a->part != b->part)
		return a->part < b->part;
	return a->row.line < b->row.line;
}

typedef struct merge {
	build *b;
	wh *w;
	src *s;
	size_t n;
	grow_ent *g;            /* the key group */
	size_t ng, capg;
	int unsorted;           /* a submission's rows are not in key order */
} merge;

/* Next row of s in use (its period is one of the parts); 0 ok, -1 error,
 * with s->has = 0 at the end.  A key smaller than the one before (or a
 * key after keyless rows) sets m->unsorted and ends s. */
static int advance(merge *m, src *s, diag *d)
{
	wh_record r;
	int rc;
	int64_t part;
	s->has = 0;
	while ((rc = wh_rcursor_next(s->cur, &r, d)) == 1) {
		if (!hmap_get(&s->periods, r.period, strlen(r.period), &part))
			continue;
		if (r.has_key) {
			if (s->prev_keyed < 0 || (s->prev_keyed && memcmp(r.case_key, s->prev_key, 16) < 0)) {
				m->unsorted = 1;
				return 0;
			}
			s->prev_keyed = 1;
			memcpy(s->prev_key, r.case_key, 16);
		} else {
			s->prev_keyed = -1;
		}
		if (to_row(m->b, r.country, r.period, r.indicator, r.sex, r.age, r.age_band, r.form,
		           r.citizenship, &s->row, d) != 0)
			return -1;
		s->row.has_key = r.has_key;
		memcpy(s->row.key, r.case_key, sizeof s->row.key);
		s->row.line = r.line;
		s->part = (size_t)part;
		s->has = 1;
		m->b->info->records++;
		return 0;
	}
	return rc < 0 ? -1 : 0;
}

static int group_push(merge *m, const src *s, diag *d)
{
	if (m->ng == m->capg) {
		size_t nc = m->capg ? m->capg * 2 : 16;
		grow_ent *ng = realloc(m->g, nc * sizeof *ng);
		if (!ng)
			return diag_fail(d, EX_OSERR, "out of memory");
		m->g = ng;
		m->capg = nc;
	}
	m->g[m->ng].row = s->row;
	m->g[m->ng].part = s->part;
	m->ng++;
	return 0;
}

/* Merge the submissions m->s[0..n) of one country by case key.  Within
 * one submission rows are sorted by key (the canonical order the
 * warehouse checked on load), so every row of a key is at the head of
 * some cursors at once: gather them, put them in cube_record_cmp order,
 * count.  Keyless rows (last in every file) each count on their own. */
static int merge_country(merge *m, diag *d)
{
	for (size_t i = 0; i < m->n; i++)
		if (advance(m, &m->s[i], d) != 0)
			return -1;
	for (;;) {
		if (m->unsorted)
			return 0;
		const unsigned char *mk = NULL;
		for (size_t i = 0; i < m->n; i++)
			if (m->s[i].has && m->s[i].row.has_key &&
			    (!mk || memcmp(m->s[i].row.key, mk, 16) < 0))
				mk = m->s[i].row.key;
		if (!mk)
			break;
		unsigned char key[16];
		memcpy(key, mk, sizeof key);
		m->ng = 0;
		for (size_t i = 0; i < m->n; i++) {
			src *s = &m->s[i];
			while (s->has && s->row.has_key && !memcmp(s->row.key, key, 16)) {
				if (group_push(m, s, d) != 0 || advance(m, s, d) != 0)
					return -1;
			}
		}
		if (m->unsorted)
			return 0;
		/* insertion sort: a group is one person's few rows */
		for (size_t i = 1; i < m->ng; i++) {
			grow_ent t = m->g[i];
			size_t j = i;
			for (; j > 0 && grp_before(&t, &m->g[j - 1]); j--)
				m->g[j] = m->g[j - 1];
			m->g[j] = t;
		}
		for (size_t i = 0; i < m->ng; i++)
			if (cube_add_record(m->b->c, &m->g[i].row, d) != 0)
				return -1;
	}
	for (size_t i = 0; i < m->n; i++) {
		src *s = &m->s[i];
		while (s->has) {
			if (s->row.has_key) {   /* cannot happen: advance() ends a source on it */
				m->unsorted = 1;
				return 0;
			}
			if (cube_add_record(m->b->c, &s->row, d) != 0 || advance(m, s, d) != 0)
				return -1;
			if (m->unsorted)
				return 0;
		}
	}
	return 0;
}

static void merge_close(merge *m)
{
	for (size_t i = 0; i < m->n; i++) {
		wh_rcursor_close(m->s[i].cur);
		hmap_free(&m->s[i].periods);
	}
	m->n = 0;
}

/* The records of every records part, country by country, one pass over
 * each submission.  Returns 0, -1 on error, 1 when a stored submission is
 * not in canonical key order (the caller then sorts instead). */
static int merge_records(build *b, wh *w, diag *d)
{
	whcube_info *in = b->info;
	merge m = {.b = b, .w = w};
	m.s = calloc(in->n_parts ? in->n_parts : 1, sizeof *m.s);
	if (!m.s)
		return diag_fail(d, EX_OSERR, "out of memory");
	int rc = 0;
	for (size_t i = 0; i < in->n_parts && rc == 0;) {
		size_t j = i;
		while (j < in->n_parts && !strcmp(in->parts[j].country, in->parts[i].country))
			j++;
		for (size_t p = i; p < j && rc == 0; p++) {
			const wh_part *pt = &in->parts[p];
			if (pt->kind != WH_RECORDS)
				continue;
			size_t k = 0;
			while (k < m.n && m.s[k].sub != pt->submission_id)
				k++;
			if (k == m.n) {
				src *s = &m.s[m.n++];
				memset(s, 0, sizeof *s);
				hmap_init(&s->periods);
				s->sub = pt->submission_id;
				rc = wh_rcursor_open(w, pt->submission_id, &s->cur, d);
			}
			if (rc == 0 && hmap_put(&m.s[k].periods, pt->period, strlen(pt->period),
			                        (int64_t)p, NULL) < 0)
				rc = diag_fail(d, EX_OSERR, "out of memory");
		}
		if (rc == 0)
			rc = merge_country(&m, d);
		if (rc == 0 && m.unsorted)
			rc = 1;
		merge_close(&m);
		i = j;
	}
	merge_close(&m);
	free(m.s);
	free(m.g);
	return rc;
}

/* Build the cube from info->parts; 1 = the merge path found a submission
 * out of key order (nothing built). */
static int build_cube(wh *w, const codelists *cl, size_t sort_mem, int use_merge, cube **out,
                      whcube_info *info, diag *d)
{
	build b = {.cl = cl, .info = info};
	*out = NULL;
	info->records = info->cells = 0;
	for (int k = 0; k < K_N; k++)
		hmap_init(&b.cache[k]);
	int rc = -1;
	if (cube_new(cl, &b.c, d) != 0 ||
	    (!use_merge && extsort_new(sort_mem ? sort_mem : (16u << 20), &b.sorter, d) != 0))
		goto done;
	if (feed(&b, w, WH_CELLS, d) != 0)
		goto done;
	if (use_merge) {
		for (size_t i = 0; i < info->n_parts; i++)
			if (info->parts[i].kind == WH_RECORDS && declare_part(&b, w, &info->parts[i], d) != 0)
				goto done;
		int mr = merge_records(&b, w, d);
		if (mr != 0) {
			rc = mr;
			goto done;
		}
	} else if (feed(&b, w, WH_RECORDS, d) != 0 || drain_records(&b, d) != 0) {
		goto done;
	}
	if (cube_finish(b.c, d) != 0)
		goto done;
	cube_get_stats(b.c, &info->stats);
	*out = b.c;
	b.c = NULL;
	rc = 0;
done:
	cube_free(b.c);
	extsort_free(b.sorter);
	for (int k = 0; k < K_N; k++)
		hmap_free(&b.cache[k]);
	return rc;
}

int whcube_build_with(wh *w, const codelists *cl, int64_t as_of_seq, size_t sort_mem,
                      int method, cube **out, whcube_info *info, diag *d)
{
	memset(info, 0, sizeof *info);
	*out = NULL;
	int began = 0, rc = -1;
	if (method != WHCUBE_AUTO && method != WHCUBE_MERGE && method != WHCUBE_EXTSORT)
		return diag_fail(d, EX_USAGE, "whcube: unknown method %d", method);
	if (wh_read_begin(w, &began, d) != 0)
		return -1;
	if (audit_head(wh_db(w), &info->as_of_seq, info->as_of_hash, d) != 0)
		goto done;
	if (as_of_seq > 0) {
		if (as_of_seq > info->as_of_seq) {
			diag_fail(d, EX_USAGE, "audit entry %lld does not exist yet (head is %lld)",
			          (long long)as_of_seq, (long long)info->as_of_seq);
			goto done;
		}
		info->as_of_seq = as_of_seq;
		info->as_of_hash[0] = 0;
	}
	if (wh_latest(w, NULL, as_of_seq, &info->parts, &info->n_parts, d) != 0)
		goto done;
	if (!info->n_parts) {
		diag_fail(d, EX_DATAERR, "the warehouse holds no submission: nothing to aggregate");
		goto done;
	}
	rc = build_cube(w, cl, sort_mem, method != WHCUBE_EXTSORT, out, info, d);
	if (rc == 1 && method == WHCUBE_AUTO)
		rc = build_cube(w, cl, sort_mem, 0, out, info, d);
	if (rc == 1)
		rc = diag_fail(d, EX_DATAERR, "whcube: a stored submission's records are not in "
		               "canonical order (sorted by case key)");
done:
	wh_read_end(w, began);
	return rc;
}

int whcube_build(wh *w, const codelists *cl, int64_t as_of_seq, size_t sort_mem,
                 cube **out, whcube_info *info, diag *d)
{
	return whcube_build_with(w, cl, as_of_seq, sort_mem, WHCUBE_AUTO, out, info, d);
}

void whcube_info_free(whcube_info *info)
{
	free(info->parts);
	info->parts = NULL;
	info->n_parts = 0;
}

typedef struct row_iter {
	build b;
	whcube_row_fn fn;
	void *ctx;
} row_iter;

static int on_plain_record(void *ctx, const wh_record *r, diag *d)
{
	row_iter *it = ctx;
	std_row row;
	if (to_row(&it->b, r->country, r->period, r->indicator, r->sex, r->age, r->age_band,
	           r->form, r->citizenship, &row, d) != 0)
		return -1;
	row.has_key = r->has_key;
	memcpy(row.key, r->case_key, sizeof row.key);
	row.line = r->line;
	return it->fn(it->ctx, &row, d);
}

int whcube_each_record(wh *w, const codelists *cl, const wh_part *parts, size_t n,
                       whcube_row_fn fn, void *ctx, diag *d)
{
	row_iter it = {.b = {.cl = cl}, .fn = fn, .ctx = ctx};
	for (int k = 0; k < K_N; k++)
		hmap_init(&it.b.cache[k]);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (parts[i].kind == WH_RECORDS)
			rc = wh_each_record(w, &parts[i], 1, on_plain_record, &it, d);
	for (int k = 0; k < K_N; k++)
		hmap_free(&it.b.cache[k]);
	return rc;
}
