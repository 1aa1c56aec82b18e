/* recrel: see recrel.h.
 *
 * Records are read once into a compact array of base values (six small
 * integers each); a hash of (country, indicator, case key) keeps only the
 * first appearance of a person.  The hierarchies are plain lookup arrays
 * built from the codelists, so kanon.c stays independent of the standard. */
#include "privacy/recrel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "aggregator/whcube.h"
#include "core/atomic.h"
#include "core/hmap.h"
#include "core/period.h"

#define MAX_PERIODS 512

typedef struct store {
	uint32_t *gen[RQ_N][KANON_MAX_LEVELS];
	int periods[MAX_PERIODS];   /* base period value -> packed period */
	size_t n_periods;
	int year_min, year_max;
} store;

void recrel_params_default(recrel_params *p)
{
	memset(p, 0, sizeof *p);
	p->k = 11;
	p->max_suppress_pct = 2.0;
	p->indicator = 0;
}

typedef struct reader {
	const codelists *cl;
	const recrel_params *p;
	recrel_result *out;
	store *st;
	size_t cap;
	hmap seen;                   /* person -> record index */
} reader;

static int period_id(store *st, int period, diag *d)
{
	for (size_t i = 0; i < st->n_periods; i++)
		if (st->periods[i] == period)
			return (int)i;
	if (st->n_periods == MAX_PERIODS)
		return diag_fail(d, EX_DATAERR, "more than %d periods", MAX_PERIODS);
	st->periods[st->n_periods] = period;
	return (int)st->n_periods++;
}

static int on_row(void *ctx, const std_row *r, diag *d)
{
	reader *rd = ctx;
	recrel_result *o = rd->out;
	if (r->indicator != rd->p->indicator)
		return 0;
	int pid = period_id(rd->st, r->period, d);
	if (pid < 0)
		return -1;
	uint32_t v[RQ_N];
	v[RQ_COUNTRY] = (uint32_t)r->country;
	v[RQ_PERIOD] = (uint32_t)pid;
	v[RQ_SEX] = (uint32_t)r->sex;
	v[RQ_AGE] = (uint32_t)(r->age_band >= 0 ? r->age_band : r->age);
	v[RQ_CIT] = r->citizenship >= 0 ? (uint32_t)r->citizenship : (uint32_t)rd->cl->n_countries;
	v[RQ_FORM] = (uint32_t)r->form;
	if (r->has_key) {
		char k[24];
		memcpy(k, r->key, 16);
		memcpy(k + 16, &r->country, 4);
		memcpy(k + 20, &r->indicator, 4);
		int64_t at;
		if (hmap_get(&rd->seen, k, sizeof k, &at)) {
			/* the same person again: keep the earliest appearance */
			uint32_t *prev = o->qi + (size_t)at * RQ_N;
			if (rd->st->periods[prev[RQ_PERIOD]] > r->period)
				memcpy(prev, v, sizeof v);
			o->n_duplicates++;
			return 0;
		}
		if (hmap_put(&rd->seen, k, sizeof k, (int64_t)o->n_records, NULL) != 0)
			return diag_fail(d, EX_OSERR, "out of memory");
	}
	if (o->n_records == rd->cap) {
		size_t nc = rd->cap ? rd->cap * 2 : 4096;
		uint32_t *q = realloc(o->qi, nc * RQ_N * sizeof *q);
		if (!q)
			return diag_fail(d, EX_OSERR, "out of memory");
		o->qi = q;
		rd->cap = nc;
	}
	memcpy(o->qi + o->n_records * RQ_N, v, sizeof v);
	o->n_records++;
	return 0;
}

static uint32_t *alloc_gen(store *st, int qi, int level, size_t n)
{
	st->gen[qi][level] = calloc(n ? n : 1, sizeof(uint32_t));
	return st->gen[qi][level];
}

/* The hierarchies of recrel.h over the codelists and the periods read. */
static int build_hier(recrel_result *o, const codelists *cl, store *st, diag *d)
{
	size_t nc = cl->n_countries;
	kanon_hier *h = o->hier;
	static const char *geo_levels[] = {"country", "subregion", "region", "world"};
	static const char *cit_levels[] = {"country", "subregion", "region", "any"};
	static const char *per_levels[] = {"quarter", "year", "all"};
	static const char *sex_levels[] = {"sex", "any"};
	static const char *age_levels[] = {"band", "group", "any"};
	static const char *form_levels[] = {"form", "any"};
	/* country */
	uint32_t *sub = alloc_gen(st, RQ_COUNTRY, 1, nc), *reg = alloc_gen(st, RQ_COUNTRY, 2, nc);
	uint32_t *any = alloc_gen(st, RQ_COUNTRY, 3, nc);
	/* citizenship: countries, then unknown at index nc */
	uint32_t *csub = alloc_gen(st, RQ_CIT, 1, nc + 1), *creg = alloc_gen(st, RQ_CIT, 2, nc + 1);
	uint32_t *cany = alloc_gen(st, RQ_CIT, 3, nc + 1);
	/* period */
	size_t np = st->n_periods;
	uint32_t *py = alloc_gen(st, RQ_PERIOD, 1, np), *pall = alloc_gen(st, RQ_PERIOD, 2, np);
	/* sex, age, form */
	uint32_t *sany = alloc_gen(st, RQ_SEX, 1, cl->sex.n);
	uint32_t *ag = alloc_gen(st, RQ_AGE, 1, cl->age.n), *aany = alloc_gen(st, RQ_AGE, 2, cl->age.n);
	uint32_t *fany = alloc_gen(st, RQ_FORM, 1, cl->forms.n);
	if (!sub || !reg || !any || !csub || !creg || !cany || !py || !pall || !sany || !ag ||
	    !aany || !fany)
		return diag_fail(d, EX_OSERR, "out of memory");
	for (size_t i = 0; i < nc; i++) {
		sub[i] = csub[i] = (uint32_t)cl->countries[i].subregion;
		reg[i] = creg[i] = (uint32_t)cl->countries[i].region;
	}
	csub[nc] = creg[nc] = (uint32_t)cl->n_regions; /* unknown stays apart */
	st->year_min = 9999;
	st->year_max = 0;
	for (size_t i = 0; i < np; i++) {
		int y = period_year(st->periods[i]);
		if (y < st->year_min) st->year_min = y;
		if (y > st->year_max) st->year_max = y;
	}
	for (size_t i = 0; i < np; i++)
		py[i] = (uint32_t)(period_year(st->periods[i]) - st->year_min);
	for (size_t i = 0; i < cl->age.n; i++) {
		int g = cl_age_group(cl, (int)i);
		ag[i] = (uint32_t)(g >= 0 ? g : (int)i);
	}
	h[RQ_COUNTRY] = (kanon_hier){"country", nc, 4, {NULL, sub, reg, any}, {0}};
	h[RQ_PERIOD] = (kanon_hier){"period", np, 3, {NULL, py, pall}, {0}};
	h[RQ_SEX] = (kanon_hier){"sex", cl->sex.n, 2, {NULL, sany}, {0}};
	h[RQ_AGE] = (kanon_hier){"age", cl->age.n, 3, {NULL, ag, aany}, {0}};
	h[RQ_CIT] = (kanon_hier){"citizenship", nc + 1, 4, {NULL, csub, creg, cany}, {0}};
	h[RQ_FORM] = (kanon_hier){"form", cl->forms.n, 2, {NULL, fany}, {0}};
	for (int l = 0; l < 4; l++) {
		h[RQ_COUNTRY].level_names[l] = geo_levels[l];
		h[RQ_CIT].level_names[l] = cit_levels[l];
	}
	for (int l = 0; l < 3; l++) {
		h[RQ_PERIOD].level_names[l] = per_levels[l];
		h[RQ_AGE].level_names[l] = age_levels[l];
	}
	for (int l = 0; l < 2; l++) {
		h[RQ_SEX].level_names[l] = sex_levels[l];
		h[RQ_FORM].level_names[l] = form_levels[l];
	}
	return 0;
}

int recrel_build(wh *w, const codelists *cl, const recrel_params *p, recrel_result *out,
                 diag *d)
{
	memset(out, 0, sizeof *out);
	store *st = calloc(1, sizeof *st);
	if (!st)
		return diag_fail(d, EX_OSERR, "out of memory");
	out->store = st;
	if (p->k < 2)
		return diag_fail(d, EX_USAGE, "k must be at least 2");
	wh_part *parts = NULL;
	size_t n = 0;
	if (wh_latest(w, NULL, p->as_of_seq, &parts, &n, d) != 0)
		return -1;
	reader rd = {.cl = cl, .p = p, .out = out, .st = st};
	hmap_init(&rd.seen);
	int rc = whcube_each_record(w, cl, parts, n, on_row, &rd, d);
	hmap_free(&rd.seen);
	free(parts);
	if (rc != 0)
		return -1;
	if (!out->n_records)
		return diag_fail(d, EX_DATAERR, "no case-level records of indicator %s in the "
		                 "warehouse", cl->indicators.codes[p->indicator].code);
	if (build_hier(out, cl, st, d) != 0)
		return -1;
	/* the form is a quasi-identifier unless it is the sensitive attribute */
	out->n_qi = p->l > 1 ? RQ_FORM : RQ_N;
	uint32_t *qi = out->qi, *sens = NULL;
	if (p->l > 1) {
		/* repack: the first five columns are the QIs, form is sensitive */
		qi = malloc(out->n_records * RQ_FORM * sizeof *qi);
		sens = malloc(out->n_records * sizeof *sens);
		if (!qi || !sens) {
			free(qi);
			free(sens);
			return diag_fail(d, EX_OSERR, "out of memory");
		}
		for (size_t i = 0; i < out->n_records; i++) {
			memcpy(qi + i * RQ_FORM, out->qi + i * RQ_N, RQ_FORM * sizeof *qi);
			sens[i] = out->qi[i * RQ_N + RQ_FORM];
		}
	}
	kanon_params kp = {.k = p->k, .l = p->l,
	                   .max_suppress = (size_t)((double)out->n_records * p->max_suppress_pct / 100.0)};
	rc = kanon_run(qi, sens, out->n_records, out->hier, (size_t)out->n_qi, &kp, &out->k, d);
	if (qi != out->qi)
		free(qi);
	free(sens);
	if (rc != 0) {
		d->code = EX_NOPERM;
		return -1;
	}
	return 0;
}

/* Label of a generalised value. */
static void label(const recrel_result *r, const codelists *cl, int qi, int level, uint32_t base,
                  char *buf, size_t size)
{
	const store *st = r->store;
	const kanon_hier *h = &r->hier[qi];
	if (level == h->n_levels - 1 && level > 0) {
		if (qi == RQ_PERIOD && st->year_min != st->year_max)
			snprintf(buf, size, "%d-%d", st->year_min, st->year_max);
		else if (qi == RQ_PERIOD)
			snprintf(buf, size, "%d", st->year_min);
		else if (qi == RQ_COUNTRY)
			snprintf(buf, size, "001");
		else
			snprintf(buf, size, "_T");
		return;
	}
	uint32_t v = kanon_gen(h, level, base);
	switch (qi) {
	case RQ_COUNTRY:
		snprintf(buf, size, "%s", level == 0 ? cl->countries[v].iso3 : cl->regions[v].code);
		break;
	case RQ_CIT:
		if (base == cl->n_countries)
			snprintf(buf, size, "U");
		else
			snprintf(buf, size, "%s", level == 0 ? cl->countries[v].iso3 : cl->regions[v].code);
		break;
	case RQ_PERIOD: {
		int p = st->periods[base];
		char pb[16];
		period_format(p, pb);
		if (level == 0)
			snprintf(buf, size, "%s", pb);
		else
			snprintf(buf, size, "%d", period_year(p));
		break;
	}
	case RQ_SEX: snprintf(buf, size, "%s", cl->sex.codes[v].code); break;
	case RQ_AGE: snprintf(buf, size, "%s", cl->age.codes[v].code); break;
	default: snprintf(buf, size, "%s", cl->forms.codes[v].code); break;
	}
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int recrel_write(const recrel_result *r, const codelists *cl, const recrel_params *p,
                 const char *path, diag *d)
{
	size_t n = r->k.n_published, k = 0;
	char **lines = calloc(n ? n : 1, sizeof *lines);
	if (!lines)
		return diag_fail(d, EX_OSERR, "out of memory");
	int rc = -1;
	for (size_t i = 0; i < r->n_records; i++) {
		if (!r->k.keep[i])
			continue;
		char f[RQ_N][32], line[256];
		for (int q = 0; q < RQ_N; q++) {
			int level = q < r->n_qi ? r->k.levels[q] : 0;
			label(r, cl, q, level, r->qi[i * RQ_N + q], f[q], sizeof f[q]);
		}
		snprintf(line, sizeof line, "%s,%s,%s,%s,%s,%s,%s\n",
		         cl->indicators.codes[p->indicator].code, f[RQ_COUNTRY], f[RQ_PERIOD],
		         f[RQ_SEX], f[RQ_AGE], f[RQ_CIT], f[RQ_FORM]);
		if (k < n && !(lines[k++] = strdup(line))) {
			diag_fail(d, EX_OSERR, "out of memory");
			goto done;
		}
	}
	qsort(lines, k, sizeof *lines, line_cmp);
	atomic_file af;
	if (atomic_open(path, 0644, &af, d) != 0)
		goto done;
	fputs("indicator,country,period,sex,age,citizenship,form\n", af.fp);
	for (size_t i = 0; i < k; i++)
		fputs(lines[i], af.fp);
	rc = atomic_commit(&af, d);
done:
	for (size_t i = 0; i < k; i++)
		free(lines[i]);
	free(lines);
	return rc;
}

void recrel_describe(const recrel_result *r, char *buf, size_t size)
{
	size_t o = 0;
	buf[0] = 0;
	for (int q = 0; q < RQ_N && o < size; q++) {
		const kanon_hier *h = &r->hier[q];
		const char *lv = q < r->n_qi ? h->level_names[r->k.levels[q]] : "sensitive";
		o += (size_t)snprintf(buf + o, size - o, "%s%s=%s", q ? " " : "", h->name,
		                      lv ? lv : "?");
	}
}

void recrel_result_free(recrel_result *r)
{
	store *st = r->store;
	if (st) {
		for (int q = 0; q < RQ_N; q++)
			for (int l = 0; l < KANON_MAX_LEVELS; l++)
				free(st->gen[q][l]);
		free(st);
	}
	free(r->qi);
	kanon_result_free(&r->k);
	memset(r, 0, sizeof *r);
}
