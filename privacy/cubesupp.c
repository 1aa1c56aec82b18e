/* cubesupp: see cubesupp.h.  One pass per (indicator, year): collect the
 * available cells into an sdc table (a dense local index over geography x
 * period-of-the-year x slot finds them), add the relations, suppress,
 * audit, and copy statuses and intervals back in cube_next order. */
#include "privacy/cubesupp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <pthread.h>
#include <glpk.h>

#include "core/period.h"

void cubesupp_params_default(cubesupp_params *p)
{
	memset(p, 0, sizeof *p);
	supp_params_default(&p->primary);
	supp_opts_default(&p->secondary);
	/* The cube's tables are generic (no cross structure): the global MIP
	 * of the GLPK method is slow on them and its choices are worse than
	 * the per-cell MIPs alone (measured on the test cube: 108 secondary
	 * cells in 7 s against 58 in 1.5 s). */
	p->secondary.no_global = 1;
	/* The clean-up (publishing again what is not needed) is what costs
	 * on the cube's tables: measured on the bundled 2019 victims table
	 * (1,910 cells, 276 primary), 459 secondaries without it in 2 s,
	 * 397 after 15 s, 210 after 59 s.  A budget keeps a release to
	 * minutes; what it does not reach stays hidden. */
	p->secondary.cleanup_ms = 20000;
	p->threads = 2;
	p->audit_mode = SDCA_EXACT;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int period_pos(const cube *c, int period)
{
	size_t np = cube_n_periods(c);
	for (size_t k = 0; k < np; k++)
		if (cube_period_at(c, k) == period)
			return (int)k;
	return -1;
}

size_t cubesupp_index(const cube *c, int geo_pos, int period, int indicator, int slot)
{
	int pp = period_pos(c, period);
	if (pp < 0 || geo_pos < 0)
		return SIZE_MAX;
	return (((size_t)geo_pos * cube_n_periods(c) + (size_t)pp) * cube_n_indicators(c) +
	        (size_t)indicator) * CUBE_NSLOTS + (size_t)slot;
}

/* The table under construction. */
typedef struct build {
	const cube *c;
	sdct_table *t;
	size_t ngeo, nagg, nper;     /* nper: periods of this year (year first) */
	int per[5];
	int ind;
	uint32_t *loc;               /* (geo * nper + p) * NSLOTS + slot -> cell */
	uint8_t *nonadd;             /* per cell: the cube value was flagged a */
	size_t **idx;                /* cell -> cube index */
	size_t cap_idx;
} build;

#define NONE UINT32_MAX

static uint32_t cell_at(const build *b, size_t g, size_t p, int slot)
{
	return b->loc[(g * b->nper + p) * CUBE_NSLOTS + (size_t)slot];
}

static void geo_label(const cube *c, size_t g, char *buf, size_t size)
{
	const codelists *cl = cube_codelists(c);
	cube_geo cg = cube_geo_at(c, g);
	if (cg.kind == CUBE_GEO_COUNTRY)
		snprintf(buf, size, "%s", cl->countries[cg.index].iso3);
	else if (cg.index >= 0 && (size_t)cg.index < cl->n_regions)
		snprintf(buf, size, "%s", cl->regions[cg.index].code);
	else
		snprintf(buf, size, "World");
}

static int add_cells(build *b, diag *d)
{
	const cube *c = b->c;
	const codelists *cl = cube_codelists(c);
	char lab[160], gl[16], pl[16];
	for (size_t g = 0; g < b->ngeo; g++) {
		int is_country = g >= b->nagg;
		geo_label(c, g, gl, sizeof gl);
		for (size_t p = 0; p < b->nper; p++) {
			int per = b->per[p];
			if (period_quarter(per))
				snprintf(pl, sizeof pl, "%d-Q%d", period_year(per), period_quarter(per));
			else
				snprintf(pl, sizeof pl, "%d", period_year(per));
			for (int s = 0; s < CUBE_NSLOTS; s++) {
				cube_value v;
				if (cube_get(c, (int)g, per, b->ind, s, &v) != 0 || !v.avail)
					continue;
				int64_t hi = v.hi == CUBE_UNBOUNDED ? CUBESUPP_BIG : v.hi;
				if (v.lo < 0 || hi < v.lo || hi > CUBESUPP_BIG)
					return diag_fail(d, EX_DATAERR, "cubesupp: cell %s %s %s has a bad interval",
					                 gl, pl, cube_slot_name(s));
				unsigned fl = (is_country && (v.flags & CUBE_F_CENSORED)) ? SDCT_F_PUBLIC_BOUNDS : 0;
				snprintf(lab, sizeof lab, "%s/%s/%s/%s", gl, pl,
				         cl->indicators.codes[b->ind].code, cube_slot_name(s));
				uint32_t k;
				if (sdct_add_cell(b->t, v.lo, hi, fl, lab, &k, d))
					return -1;
				b->loc[(g * b->nper + p) * CUBE_NSLOTS + (size_t)s] = k;
				if (k >= b->cap_idx) {
					size_t nc = b->cap_idx ? 2 * b->cap_idx : 1024;
					size_t *q = realloc(*b->idx, nc * sizeof *q);
					uint8_t *q2 = realloc(b->nonadd, nc);
					if (q)
						*b->idx = q;
					if (q2)
						b->nonadd = q2;
					if (!q || !q2)
						return diag_fail(d, EX_OSERR, "cubesupp: out of memory");
					b->cap_idx = nc;
				}
				(*b->idx)[k] = cubesupp_index(c, (int)g, per, b->ind, s);
				b->nonadd[k] = (v.flags & CUBE_F_NONADDITIVE) != 0;
			}
		}
	}
	return 0;
}

/* Add total = sum(parts) when every cell exists and the intervals allow it. */
static int relate(build *b, uint32_t total, const uint32_t *parts, size_t n, diag *d)
{
	if (total == NONE || n == 0)
		return 0;
	const sdct_cell *cs = b->t->cells;
	int64_t slo = 0, shi = 0;
	for (size_t k = 0; k < n; k++) {
		if (parts[k] == NONE)
			return 0;
		slo += cs[parts[k]].lo;
		shi += cs[parts[k]].hi;
	}
	/* CUBESUPP_BIG stands for infinity: a sum reaching it is unbounded */
	if (shi > CUBESUPP_BIG)
		shi = CUBESUPP_BIG;
	if (slo > cs[total].hi || shi < cs[total].lo)
		return 0; /* the country's figures do not add up: no relation */
	return sdct_add_constraint(b->t, total, parts, n, d);
}

static int add_geo(build *b, diag *d)
{
	const cube *c = b->c;
	size_t nc = b->ngeo - b->nagg;
	uint32_t *parts = malloc((nc + 1) * sizeof *parts);
	if (!parts)
		return diag_fail(d, EX_OSERR, "cubesupp: out of memory");
	int rc = 0;
	for (size_t g = 0; g < b->nagg && !rc; g++)
		for (size_t p = 0; p < b->nper && !rc; p++)
			for (int s = 0; s < CUBE_NSLOTS && !rc; s++) {
				uint32_t tot = cell_at(b, g, p, s);
				if (tot == NONE)
					continue;
				size_t n = 0;
				for (size_t cp = 0; cp < nc; cp++)
					if (cube_contributes(c, (int)g, b->per[p], b->ind, s, cp))
						parts[n++] = cell_at(b, b->nagg + cp, p, s);
				/* an aggregate is exactly the sum of its contributors */
				rc = relate(b, tot, parts, n, d);
			}
	free(parts);
	return rc;
}

static int add_families(build *b, diag *d)
{
	int rc = 0;
	uint32_t parts[16];
	for (size_t g = b->nagg; g < b->ngeo && !rc; g++)
		for (size_t p = 0; p < b->nper && !rc; p++) {
			uint32_t tot = cell_at(b, g, p, CUBE_S_TOTAL);
			int additive = tot != NONE && !b->nonadd[tot];
			/* TOTAL = sum of each family */
			for (int fam = CUBE_FAM_SEXAGE; fam < CUBE_NFAM && additive && !rc; fam++) {
				int first = cube_family_first(fam), n = cube_family_size(fam);
				for (int k = 0; k < n; k++)
					parts[k] = cell_at(b, g, p, first + k);
				rc = relate(b, tot, parts, (size_t)n, d);
			}
			/* SEX and AGE margins of SEXAGE */
			for (int sx = 0; sx < CUBE_NSEX && !rc; sx++) {
				for (int a = 0; a < CUBE_NAGE; a++)
					parts[a] = cell_at(b, g, p, CUBE_SLOT_SEXAGE(sx, a));
				rc = relate(b, cell_at(b, g, p, CUBE_S_SEX + sx), parts, CUBE_NAGE, d);
			}
			for (int a = 0; a < CUBE_NAGE && !rc; a++) {
				for (int sx = 0; sx < CUBE_NSEX; sx++)
					parts[sx] = cell_at(b, g, p, CUBE_SLOT_SEXAGE(sx, a));
				rc = relate(b, cell_at(b, g, p, CUBE_S_AGE + a), parts, CUBE_NSEX, d);
			}
			if (rc)
				break;
			/* UNODC groups: a regrouping of SEXAGE */
			static const int grp[4][2] = {
				{CUBE_SEX_F, CUBE_AGE_ADULT}, {CUBE_SEX_M, CUBE_AGE_ADULT},
				{CUBE_SEX_F, CUBE_AGE_MINOR}, {CUBE_SEX_M, CUBE_AGE_MINOR}};
			for (int k = 0; k < 4 && !rc; k++) {
				parts[0] = cell_at(b, g, p, CUBE_SLOT_SEXAGE(grp[k][0], grp[k][1]));
				rc = relate(b, cell_at(b, g, p, CUBE_S_GROUP + k), parts, 1, d);
			}
			size_t n = 0;
			for (int sx = 0; sx < CUBE_NSEX; sx++)
				for (int a = 0; a < CUBE_NAGE; a++)
					if (sx > CUBE_SEX_M || a == CUBE_AGE_U)
						parts[n++] = cell_at(b, g, p, CUBE_SLOT_SEXAGE(sx, a));
			if (!rc)
				rc = relate(b, cell_at(b, g, p, CUBE_S_GROUP + CUBE_G_UNKNOWN), parts, n, d);
		}
	return rc;
}

static int add_time(build *b, diag *d)
{
	if (b->nper < 2)
		return 0;
	const sdct_cell *cs = b->t->cells;
	int rc = 0;
	uint32_t parts[4];
	for (size_t g = b->nagg; g < b->ngeo && !rc; g++) {
		/* quarters in which the country has a block (any slot available) */
		int present[5] = {0};
		for (size_t p = 1; p < b->nper; p++)
			for (int s = 0; s < CUBE_NSLOTS && !present[p]; s++)
				present[p] = cell_at(b, g, p, s) != NONE;
		for (int s = 0; s < CUBE_NSLOTS && !rc; s++) {
			uint32_t y = cell_at(b, g, 0, s);
			if (y == NONE)
				continue;
			size_t n = 0;
			int64_t slo = 0, shi = 0;
			int all = 1;
			for (size_t p = 1; p < b->nper; p++) {
				if (!present[p])
					continue;
				uint32_t q = cell_at(b, g, p, s);
				if (q == NONE) {
					all = 0;
					break;
				}
				parts[n++] = q;
				slo += cs[q].lo;
				shi += cs[q].hi;
			}
			if (shi > CUBESUPP_BIG)
				shi = CUBESUPP_BIG;
			/* a year built from its quarters is exactly their sum */
			if (!all || n == 0 || slo != cs[y].lo || shi != cs[y].hi)
				continue;
			rc = relate(b, y, parts, n, d);
		}
	}
	return rc;
}

int cubesupp_table(const cube *c, int indicator, int year, int quarters, sdct_table *t,
                   size_t **cube_idx, diag *d)
{
	*cube_idx = NULL;
	sdct_init(t);
	if (!cube_finished(c))
		return diag_fail(d, EX_SOFTWARE, "cubesupp: cube not finished");
	if (indicator < 0 || (size_t)indicator >= cube_n_indicators(c))
		return diag_fail(d, EX_USAGE, "cubesupp: no indicator %d", indicator);
	build b;
	memset(&b, 0, sizeof b);
	b.c = c;
	b.t = t;
	b.ind = indicator;
	b.ngeo = cube_n_geo(c);
	b.nagg = b.ngeo - cube_n_countries(c);
	if (period_pos(c, period_make(year, 0)) < 0)
		return diag_fail(d, EX_DATAERR, "cubesupp: year %d is not in the cube", year);
	b.per[b.nper++] = period_make(year, 0);
	for (int q = 1; q <= 4 && quarters; q++)
		if (period_pos(c, period_make(year, q)) >= 0)
			b.per[b.nper++] = period_make(year, q);
	size_t nloc = b.ngeo * b.nper * CUBE_NSLOTS;
	b.loc = malloc((nloc + 1) * sizeof *b.loc);
	b.idx = cube_idx;
	if (!b.loc)
		return diag_fail(d, EX_OSERR, "cubesupp: out of memory");
	for (size_t k = 0; k < nloc; k++)
		b.loc[k] = NONE;
	int rc = add_cells(&b, d);
	if (!rc)
		rc = add_geo(&b, d);
	if (!rc)
		rc = add_families(&b, d);
	if (!rc)
		rc = add_time(&b, d);
	if (!rc)
		rc = sdct_finalize(t, d);
	free(b.loc);
	free(b.nonadd);
	if (rc) {
		sdct_free(t);
		free(*cube_idx);
		*cube_idx = NULL;
	}
	return rc;
}

void cubesupp_result_free(cubesupp_result *r)
{
	free(r->status);
	free(r->audit_lo);
	free(r->audit_hi);
	memset(r, 0, sizeof *r);
}

/* Suppress and audit one table, and write its cells into the result. */
static int protect_table(const cubesupp_params *p, sdct_table *t, const size_t *idx,
                         cubesupp_result *r, diag *d)
{
	cubesupp_report *rep = &r->report;
	double t0 = now();
	if (supp_primary(t, &p->primary, NULL, d))
		return -1;
	supp_stats st;
	if (supp_secondary(t, &p->secondary, &st, d))
		return -1;
	double t1 = now();
	rep->seconds_suppress += t1 - t0;
	rep->n_cut += st.cleanup_cut;
	sdca_opts ao = {0};
	ao.mode = p->audit_mode;
	sdca_report ar;
	int rc = sdca_run(t, &ao, &ar, d);
	rep->seconds_audit += now() - t1;
	rep->n_lp += ar.n_lp;
	if (rc) {
		sdca_report_free(&ar);
		return -1;
	}
	for (size_t k = 0; k < t->n_cells; k++) {
		const sdct_cell *cl = &t->cells[k];
		size_t ci = idx[k];
		r->status[ci] = cl->status == SDCT_PRIMARY ? CUBESUPP_PRIMARY :
		                cl->status == SDCT_SECONDARY ? CUBESUPP_SECONDARY : CUBESUPP_PUBLISHED;
		r->audit_lo[ci] = (double)cl->lo;
		r->audit_hi[ci] = cl->hi >= CUBESUPP_BIG ? HUGE_VAL : (double)cl->hi;
		if (cl->status == SDCT_PRIMARY) {
			rep->n_primary++;
			rep->value_primary += cl->lo;
		} else if (cl->status == SDCT_SECONDARY) {
			rep->n_secondary++;
			rep->value_secondary += cl->lo;
		}
	}
	for (size_t q = 0; q < ar.n_iv; q++) {
		const sdca_interval *iv = &ar.iv[q];
		size_t ci = idx[iv->cell];
		/* CUBESUPP_BIG is the stand-in for infinity */
		double hi = iv->lp_max >= (double)CUBESUPP_BIG ? HUGE_VAL : iv->lp_max;
		r->audit_lo[ci] = iv->lp_min;
		r->audit_hi[ci] = hi;
		if (iv->status != SDCT_PRIMARY)
			continue;
		double w = hi - iv->lp_min;
		if (rep->narrow_cell == SIZE_MAX || w < rep->narrow_hi - rep->narrow_lo) {
			rep->narrow_cell = ci;
			rep->narrow_lo = iv->lp_min;
			rep->narrow_hi = hi;
		}
	}
	sdca_report_free(&ar);
	return 0;
}

typedef struct job {
	int ind, year;
	int failed;
	diag d;
	cubesupp_report rep;
} job;

typedef struct work {
	const cube *c;
	const cubesupp_params *p;
	cubesupp_result *out;
	job *jobs;               /* one per (indicator, year) table, calloc'd */
	size_t n_jobs;
	size_t next;             /* next job to take, under mu */
	size_t done;             /* jobs finished, under mu */
	int stop;                /* a job failed: take no more */
	pthread_mutex_t mu;
} work;

static void run_job(work *wk, job *jb)
{
	double t0 = now();
	sdct_table t;
	size_t *idx = NULL;
	cubesupp_result part = *wk->out;  /* same arrays, own report */
	memset(&part.report, 0, sizeof part.report);
	part.report.narrow_cell = SIZE_MAX;
	if (cubesupp_table(wk->c, jb->ind, jb->year, wk->p->quarters, &t, &idx, &jb->d)) {
		jb->failed = 1;
		return;
	}
	part.report.seconds_build = now() - t0;
	part.report.n_tables = 1;
	part.report.n_cells = t.n_cells;
	part.report.n_constraints = t.n_cons;
	if (t.n_cells && protect_table(wk->p, &t, idx, &part, &jb->d))
		jb->failed = 1;
	jb->rep = part.report;
	sdct_free(&t);
	free(idx);
}

static void job_done(work *wk, const job *jb)
{
	pthread_mutex_lock(&wk->mu);
	if (jb->failed)
		wk->stop = 1;
	wk->done++;
	if (wk->p->progress && !wk->stop)
		wk->p->progress(wk->p->progress_ctx, wk->done, wk->n_jobs);
	pthread_mutex_unlock(&wk->mu);
}

static void *worker(void *arg)
{
	work *wk = arg;
	for (;;) {
		pthread_mutex_lock(&wk->mu);
		size_t j = wk->stop ? wk->n_jobs : wk->next++;
		pthread_mutex_unlock(&wk->mu);
		if (j >= wk->n_jobs)
			break;
		run_job(wk, &wk->jobs[j]);
		job_done(wk, &wk->jobs[j]);
	}
	glp_free_env(); /* GLPK keeps an environment per thread */
	return NULL;
}

static int run_jobs(work *wk, diag *d)
{
	unsigned nt = wk->p->threads ? wk->p->threads : 1;
	if (nt > 64)
		nt = 64;
	if (nt > wk->n_jobs)
		nt = wk->n_jobs ? (unsigned)wk->n_jobs : 1;
	if (pthread_mutex_init(&wk->mu, NULL))
		return diag_fail(d, EX_OSERR, "cubesupp: cannot create a mutex");
	pthread_t th[64];
	unsigned started = 0;
	for (unsigned k = 1; k < nt; k++) {
		if (pthread_create(&th[started], NULL, worker, wk))
			break; /* fewer threads: the others share the work */
		started++;
	}
	/* the calling thread works too, but keeps its GLPK environment */
	for (;;) {
		pthread_mutex_lock(&wk->mu);
		size_t j = wk->stop ? wk->n_jobs : wk->next++;
		pthread_mutex_unlock(&wk->mu);
		if (j >= wk->n_jobs)
			break;
		run_job(wk, &wk->jobs[j]);
		job_done(wk, &wk->jobs[j]);
	}
	for (unsigned k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	pthread_mutex_destroy(&wk->mu);
	return 0;
}

static void merge_report(cubesupp_report *to, const cubesupp_report *r)
{
	to->n_tables += r->n_tables;
	to->n_cells += r->n_cells;
	to->n_constraints += r->n_constraints;
	to->n_primary += r->n_primary;
	to->n_secondary += r->n_secondary;
	to->value_primary += r->value_primary;
	to->value_secondary += r->value_secondary;
	to->n_lp += r->n_lp;
	to->n_cut += r->n_cut;
	to->seconds_build += r->seconds_build;
	to->seconds_suppress += r->seconds_suppress;
	to->seconds_audit += r->seconds_audit;
	if (r->narrow_cell != SIZE_MAX &&
	    (to->narrow_cell == SIZE_MAX ||
	     r->narrow_hi - r->narrow_lo < to->narrow_hi - to->narrow_lo)) {
		to->narrow_cell = r->narrow_cell;
		to->narrow_lo = r->narrow_lo;
		to->narrow_hi = r->narrow_hi;
	}
}

int cubesupp_protect(const cube *c, const cubesupp_params *p, cubesupp_result *out, diag *d)
{
	cubesupp_params def;
	if (!p) {
		cubesupp_params_default(&def);
		p = &def;
	}
	memset(out, 0, sizeof *out);
	if (!cube_finished(c))
		return diag_fail(d, EX_SOFTWARE, "cubesupp: cube not finished");
	size_t n = cube_n_geo(c) * cube_n_periods(c) * cube_n_indicators(c) * CUBE_NSLOTS;
	out->n = n;
	out->status = malloc(n ? n : 1);
	out->audit_lo = malloc((n ? n : 1) * sizeof *out->audit_lo);
	out->audit_hi = malloc((n ? n : 1) * sizeof *out->audit_hi);
	if (!out->status || !out->audit_lo || !out->audit_hi) {
		cubesupp_result_free(out);
		return diag_fail(d, EX_OSERR, "cubesupp: out of memory");
	}
	cubesupp_report *rep = &out->report;
	rep->narrow_cell = SIZE_MAX;
	/* every cell starts not available; the tables overwrite theirs, and
	 * the iterator confirms the index layout */
	cube_iter it;
	cube_cell cc;
	cube_iter_init(&it);
	size_t k = 0;
	while (cube_next(c, &it, &cc)) {
		if (k >= n || cubesupp_index(c, cc.geo_pos, cc.period, cc.indicator, cc.slot) != k) {
			cubesupp_result_free(out);
			return diag_fail(d, EX_SOFTWARE, "cubesupp: cube iteration order changed");
		}
		out->status[k] = CUBESUPP_NA;
		out->audit_lo[k] = out->audit_hi[k] = NAN;
		k++;
	}
	if (k != n) {
		cubesupp_result_free(out);
		return diag_fail(d, EX_SOFTWARE, "cubesupp: cube iteration order changed");
	}
	/* The (indicator, year) tables share no cell, so they are protected
	 * independently, by up to p->threads workers taking tables in turn;
	 * each writes only its own tables' cells of *out, and its own report,
	 * merged below in table order (so the result does not depend on the
	 * number of threads). */
	work wk;
	memset(&wk, 0, sizeof wk);
	wk.c = c;
	wk.p = p;
	wk.out = out;
	size_t years = 0;
	for (size_t pp = 0; pp < cube_n_periods(c); pp++)
		years += period_quarter(cube_period_at(c, pp)) == 0;
	wk.jobs = calloc(years * cube_n_indicators(c) + 1, sizeof *wk.jobs);
	if (!wk.jobs) {
		cubesupp_result_free(out);
		return diag_fail(d, EX_OSERR, "cubesupp: out of memory");
	}
	for (size_t pp = 0; pp < cube_n_periods(c); pp++) {
		int per = cube_period_at(c, pp);
		if (period_quarter(per) == 0)
			for (size_t ind = 0; ind < cube_n_indicators(c); ind++) {
				wk.jobs[wk.n_jobs].ind = (int)ind;
				wk.jobs[wk.n_jobs].year = period_year(per);
				diag_init(&wk.jobs[wk.n_jobs].d, 4);
				wk.n_jobs++;
			}
	}
	int rc = run_jobs(&wk, d);
	for (size_t j = 0; j < wk.n_jobs; j++) {
		job *jb = &wk.jobs[j];
		if (!rc && jb->failed) {
			const codelists *cl = cube_codelists(c);
			diag_fail(d, jb->d.code ? jb->d.code : EX_SOFTWARE, "table %s %d: %s",
			          cl->indicators.codes[jb->ind].code, jb->year, jb->d.msg);
			rc = -1;
		}
		if (!rc)
			merge_report(rep, &jb->rep);
		diag_free(&jb->d);
	}
	free(wk.jobs);
	if (rc) {
		cubesupp_result_free(out);
		return -1;
	}
	rep->n_na = n - rep->n_cells;
	return 0;
}
