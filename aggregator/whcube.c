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

typedef struct build {
	const codelists *cl;
	cube *c;
	extsort *sorter;
	hmap cache[K_N];
	whcube_info *info;
	uint64_t seq;           /* insertion order, the last sort key */
} build;

/* Resolve a stored code; -1 if unknown (the warehouse validated syntax,
 * the codelists may still have changed since). */
static int resolve(build *b, int kind, const char *s)
{
	size_t n = strlen(s);
	int64_t v;
	if (hmap_get(&b->cache[kind], s, n, &v))
		return (int)v;
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

int whcube_build(wh *w, const codelists *cl, int64_t as_of_seq, size_t sort_mem,
                 cube **out, whcube_info *info, diag *d)
{
	build b = {.cl = cl, .info = info};
	memset(info, 0, sizeof *info);
	*out = NULL;
	for (int k = 0; k < K_N; k++)
		hmap_init(&b.cache[k]);
	int rc = -1;
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
	if (cube_new(cl, &b.c, d) != 0 ||
	    extsort_new(sort_mem ? sort_mem : (16u << 20), &b.sorter, d) != 0)
		goto done;
	if (feed(&b, w, WH_CELLS, d) != 0 || feed(&b, w, WH_RECORDS, d) != 0 ||
	    drain_records(&b, d) != 0 || cube_finish(b.c, d) != 0)
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
