/* cube: see cube.h (the rules) and docs/cube.md (the prose).
 *
 * Two phases.  Accumulation keeps one block per (country, period,
 * indicator): records as per-slot counters (a record adds 1 to one slot of
 * every family), cells as the rows themselves (the derivation of missing
 * cells needs to see which breakdowns were reported).  cube_finish() turns
 * blocks into country values, quarters into years, countries into
 * aggregates, in that order; the dense output arrays are rebuilt from the
 * blocks each time, so merging is just adding blocks.
 */
#include "aggregator/cube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "core/hmap.h"
#include "core/period.h"

/* --- slot layout ---------------------------------------------------------- */

static const char *const slot_names[CUBE_NSLOTS] = {
	"TOTAL",
	"SEXAGE:F:Y0T17", "SEXAGE:F:Y_GE18", "SEXAGE:F:U",
	"SEXAGE:M:Y0T17", "SEXAGE:M:Y_GE18", "SEXAGE:M:U",
	"SEXAGE:O:Y0T17", "SEXAGE:O:Y_GE18", "SEXAGE:O:U",
	"SEXAGE:U:Y0T17", "SEXAGE:U:Y_GE18", "SEXAGE:U:U",
	"SEX:F", "SEX:M", "SEX:O", "SEX:U",
	"AGE:Y0T17", "AGE:Y_GE18", "AGE:U",
	"GROUP:women", "GROUP:men", "GROUP:girls", "GROUP:boys", "GROUP:unknown",
	"FORM:SEX", "FORM:LAB", "FORM:CRIM", "FORM:BEG", "FORM:MAR",
	"FORM:ORG", "FORM:ADOP", "FORM:MIX", "FORM:OTH", "FORM:U",
	"CIT:domestic", "CIT:same_subregion", "CIT:other_subregion",
	"CIT:other_region", "CIT:unknown",
};

static const char *const sex_codes[CUBE_NSEX] = {"F", "M", "O", "U"};
static const char *const age_codes[CUBE_NAGE] = {"Y0T17", "Y_GE18", "U"};
static const char *const form_codes[CUBE_NFORM] = {"SEX", "LAB", "CRIM", "BEG",
	"MAR", "ORG", "ADOP", "MIX", "OTH", "U"};

static const int fam_first[CUBE_NFAM] = {CUBE_S_TOTAL, CUBE_S_SEXAGE, CUBE_S_SEX,
	CUBE_S_AGE, CUBE_S_GROUP, CUBE_S_FORM, CUBE_S_CIT};
static const int fam_size[CUBE_NFAM] = {1, CUBE_NSEX * CUBE_NAGE, CUBE_NSEX,
	CUBE_NAGE, CUBE_NGROUP, CUBE_NFORM, CUBE_NCIT};

int cube_slot_family(int slot)
{
	for (int f = CUBE_NFAM - 1; f >= 0; f--)
		if (slot >= fam_first[f] && slot < fam_first[f] + fam_size[f])
			return f;
	return -1;
}

int cube_family_first(int fam)
{
	return fam >= 0 && fam < CUBE_NFAM ? fam_first[fam] : -1;
}

int cube_family_size(int fam)
{
	return fam >= 0 && fam < CUBE_NFAM ? fam_size[fam] : 0;
}

const char *cube_slot_name(int slot)
{
	return slot >= 0 && slot < CUBE_NSLOTS ? slot_names[slot] : NULL;
}

void cube_flags_str(unsigned flags, char buf[8])
{
	size_t n = 0;
	if (flags & CUBE_F_NONADDITIVE)
		buf[n++] = 'a';
	if (flags & CUBE_F_CENSORED)
		buf[n++] = 'c';
	if (flags & CUBE_F_DERIVED)
		buf[n++] = 'd';
	if (flags & CUBE_F_PARTIAL)
		buf[n++] = 'p';
	buf[n] = 0;
}

static int group_of(int sex, int age)
{
	if (age == CUBE_AGE_ADULT && sex == CUBE_SEX_F)
		return CUBE_G_WOMEN;
	if (age == CUBE_AGE_ADULT && sex == CUBE_SEX_M)
		return CUBE_G_MEN;
	if (age == CUBE_AGE_MINOR && sex == CUBE_SEX_F)
		return CUBE_G_GIRLS;
	if (age == CUBE_AGE_MINOR && sex == CUBE_SEX_M)
		return CUBE_G_BOYS;
	return CUBE_G_UNKNOWN;
}

/* --- structures ----------------------------------------------------------- */

/* One reported cell as fed (dimensions already in cube codes, -1 = total),
 * with what is needed to recognise the same cell fed twice. */
typedef struct raw_cell {
	int8_t sex, age, form, cit;
	int8_t band;           /* 1: reported at age-band level */
	int orig_age;          /* codelist age code as given (band or group) */
	int orig_cit;          /* citizenship as given */
	int64_t lo, hi;
	unsigned flags;
	unsigned long line;
} raw_cell;

typedef struct blk {
	int country, period, indicator, kind;
	int64_t rec[CUBE_NSLOTS];      /* records */
	raw_cell *cells;               /* cells */
	size_t n_cells, cap_cells;
} blk;

typedef struct run_ent {
	int country, indicator, last_period;
} run_ent;

struct cube {
	const codelists *cl;
	int *sex_map, *age_map, *age_band, *form_map; /* per codelist index */
	size_t nind;

	hmap bix;                      /* (country, period, indicator) -> block */
	blk *b;
	size_t nb, capb;

	int run_on;                    /* dedup: the current run of one key */
	unsigned char run_key[16];
	run_ent *run;
	size_t nrun, caprun;

	cube_stats st;

	/* finished */
	int finished;
	int *ctry;                     /* present countries, ascending */
	size_t nctry;
	int *cpos;                     /* codelist country -> position, -1 */
	cube_geo *geo;
	size_t ngeo, nagg;             /* aggregates are positions 0..nagg-1 */
	int *per;
	size_t nper;
	cube_value *val;               /* [geo][period][indicator][slot] */
	uint64_t *cov;                 /* [agg][period][indicator][slot][covw] */
	size_t covw;
};

/* --- helpers --------------------------------------------------------------- */

static const char *ctry_code(const cube *c, int country)
{
	if (country >= 0 && (size_t)country < c->cl->n_countries)
		return c->cl->countries[country].iso3;
	return "?";
}

static const char *ind_code(const cube *c, int ind)
{
	if (ind >= 0 && (size_t)ind < c->cl->indicators.n)
		return c->cl->indicators.codes[ind].code;
	return "?";
}

static int find_code(const cl_table *t, const char *code)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->codes[i].code && strcmp(t->codes[i].code, code) == 0)
			return (int)i;
	return -1;
}

static int valid_period(int p)
{
	int y = period_year(p), q = period_quarter(p);
	return p >= 0 && y >= PERIOD_MIN_YEAR && y <= PERIOD_MAX_YEAR && q >= 0 && q <= 4;
}

static void where(const cube *c, int country, int period, int ind, char *buf, size_t n)
{
	char pb[16] = "?";
	if (valid_period(period))
		period_format(period, pb);
	snprintf(buf, n, "%s %s %s", ctry_code(c, country), pb, ind_code(c, ind));
}

static int cit_class(const codelists *cl, int country, int cit)
{
	if (cit == STD_UNKNOWN)
		return CUBE_CIT_U;
	if (cit == country)
		return CUBE_CIT_DOMESTIC;
	const cl_country *a = &cl->countries[country], *b = &cl->countries[cit];
	if (a->subregion >= 0 && a->subregion == b->subregion)
		return CUBE_CIT_SAMESUB;
	if (a->region >= 0 && a->region == b->region)
		return CUBE_CIT_OTHERSUB;
	return CUBE_CIT_OTHERREG;
}

/* Interval sum into acc (hi < 0 = unbounded). */
static void iv_add(int64_t *lo, int64_t *hi, int64_t vlo, int64_t vhi)
{
	*lo += vlo;
	*hi = (*hi < 0 || vhi < 0) ? CUBE_UNBOUNDED : *hi + vhi;
}

/* Sum of available values: acc becomes available on the first part. */
static void val_add(cube_value *acc, const cube_value *v)
{
	if (!v->avail)
		return;
	if (!acc->avail) {
		memset(acc, 0, sizeof *acc);
		acc->avail = 1;
	}
	iv_add(&acc->lo, &acc->hi, v->lo, v->hi);
	acc->flags |= v->flags;
	acc->n_countries += v->n_countries;
}

/* --- life cycle ------------------------------------------------------------- */

static void clear_finished(cube *c)
{
	free(c->ctry);
	free(c->cpos);
	free(c->geo);
	free(c->per);
	free(c->val);
	free(c->cov);
	c->ctry = c->cpos = c->per = NULL;
	c->geo = NULL;
	c->val = NULL;
	c->cov = NULL;
	c->nctry = c->ngeo = c->nagg = c->nper = c->covw = 0;
	c->finished = 0;
}

void cube_free(cube *c)
{
	if (!c)
		return;
	clear_finished(c);
	for (size_t i = 0; i < c->nb; i++)
		free(c->b[i].cells);
	free(c->b);
	free(c->run);
	hmap_free(&c->bix);
	free(c->sex_map);
	free(c->age_map);
	free(c->age_band);
	free(c->form_map);
	free(c);
}

static int *map_alloc(size_t n)
{
	int *m = malloc((n ? n : 1) * sizeof *m);
	if (m)
		for (size_t i = 0; i < n; i++)
			m[i] = -1;
	return m;
}

int cube_new(const codelists *cl, cube **out, diag *d)
{
	*out = NULL;
	if (!cl || cl->indicators.n == 0)
		return diag_fail(d, EX_CONFIG, "cube: codelists have no indicators");
	cube *c = calloc(1, sizeof *c);
	if (!c)
		return diag_fail(d, EX_OSERR, "out of memory");
	c->cl = cl;
	c->nind = cl->indicators.n;
	hmap_init(&c->bix);
	c->sex_map = map_alloc(cl->sex.n);
	c->age_map = map_alloc(cl->age.n);
	c->age_band = map_alloc(cl->age.n);
	c->form_map = map_alloc(cl->forms.n);
	if (!c->sex_map || !c->age_map || !c->age_band || !c->form_map) {
		cube_free(c);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	for (int s = 0; s < CUBE_NSEX; s++) {
		int i = find_code(&cl->sex, sex_codes[s]);
		if (i < 0) {
			cube_free(c);
			return diag_fail(d, EX_CONFIG, "cube: sex code '%s' missing from the codelists", sex_codes[s]);
		}
		c->sex_map[i] = s;
	}
	for (int a = 0; a < CUBE_NAGE; a++) {
		int i = find_code(&cl->age, age_codes[a]);
		if (i < 0 || cl->age.codes[i].parent >= 0) {
			cube_free(c);
			return diag_fail(d, EX_CONFIG, "cube: age group '%s' missing from the codelists", age_codes[a]);
		}
		c->age_map[i] = a;
	}
	/* bands: walk up to the top-level group */
	for (size_t i = 0; i < cl->age.n; i++) {
		int g = (int)i, steps = 0;
		while (cl->age.codes[g].parent >= 0 && (size_t)cl->age.codes[g].parent < cl->age.n &&
		       steps++ < 16)
			g = cl->age.codes[g].parent;
		if ((size_t)g != i && c->age_map[g] >= 0) {
			c->age_map[i] = c->age_map[g];
			c->age_band[i] = 1;
		} else if (c->age_map[i] >= 0) {
			c->age_band[i] = 0;
		}
	}
	for (int f = 0; f < CUBE_NFORM; f++) {
		int i = find_code(&cl->forms, form_codes[f]);
		if (i < 0) {
			cube_free(c);
			return diag_fail(d, EX_CONFIG, "cube: form code '%s' missing from the codelists", form_codes[f]);
		}
		c->form_map[i] = f;
	}
	*out = c;
	return 0;
}

/* --- accumulation ---------------------------------------------------------- */

static int get_block(cube *c, int kind, int country, int period, int ind,
                     blk **out, diag *d)
{
	int key[3] = {country, period, ind};
	int64_t v;
	if (hmap_get(&c->bix, (const char *)key, sizeof key, &v)) {
		blk *b = &c->b[v];
		if (b->kind != kind) {
			char w[64];
			where(c, country, period, ind, w, sizeof w);
			return diag_fail(d, EX_DATAERR,
			                 "cube: %s has both case records and aggregate cells", w);
		}
		*out = b;
		return 0;
	}
	if (c->nb == c->capb) {
		size_t nc = c->capb ? c->capb * 2 : 64;
		blk *nbk = realloc(c->b, nc * sizeof *nbk);
		if (!nbk)
			return diag_fail(d, EX_OSERR, "out of memory");
		c->b = nbk;
		c->capb = nc;
	}
	if (hmap_put(&c->bix, (const char *)key, sizeof key, (int64_t)c->nb, NULL) < 0)
		return diag_fail(d, EX_OSERR, "out of memory");
	blk *b = &c->b[c->nb++];
	memset(b, 0, sizeof *b);
	b->country = country;
	b->period = period;
	b->indicator = ind;
	b->kind = kind;
	*out = b;
	c->finished = 0;
	return 0;
}

static int check_coords(const cube *c, const std_row *r, const char *what, diag *d)
{
	if (r->country < 0 || (size_t)r->country >= c->cl->n_countries)
		return diag_fail(d, EX_DATAERR, "cube: %s (line %lu): bad country index %d",
		                 what, r->line, r->country);
	if (!valid_period(r->period))
		return diag_fail(d, EX_DATAERR, "cube: %s (line %lu): bad period %d",
		                 what, r->line, r->period);
	if (r->indicator < 0 || (size_t)r->indicator >= c->nind)
		return diag_fail(d, EX_DATAERR, "cube: %s (line %lu): bad indicator index %d",
		                 what, r->line, r->indicator);
	return 0;
}

int cube_declare(cube *c, int kind, int country, int period, int indicator, diag *d)
{
	std_row r;
	memset(&r, 0, sizeof r);
	r.country = country;
	r.period = period;
	r.indicator = indicator;
	if (kind != CUBE_RECORDS && kind != CUBE_CELLS)
		return diag_fail(d, EX_USAGE, "cube: bad submission kind %d", kind);
	if (check_coords(c, &r, "declaration", d) != 0)
		return -1;
	blk *b;
	return get_block(c, kind, country, period, indicator, &b, d);
}

/* Count a record (already known to be a new person for its block) into
 * every slot of its block: the total, sex x age, the margins, the form and
 * the citizenship class.  On failure records_in is taken back. */
static int count_record(cube *c, const std_row *r, int s, int a, int f, int k, diag *d)
{
	blk *b;
	if (get_block(c, CUBE_RECORDS, r->country, r->period, r->indicator, &b, d) != 0) {
		c->st.records_in--;
		return -1;
	}
	c->st.records_counted++;
	b->rec[CUBE_S_TOTAL]++;
	b->rec[CUBE_SLOT_SEXAGE(s, a)]++;
	b->rec[CUBE_S_SEX + s]++;
	b->rec[CUBE_S_AGE + a]++;
	b->rec[CUBE_S_GROUP + group_of(s, a)]++;
	b->rec[CUBE_S_FORM + f]++;
	b->rec[CUBE_S_CIT + k]++;
	c->finished = 0;
	return 0;
}

int cube_add_record(cube *c, const std_row *r, diag *d)
{
	if (check_coords(c, r, "record", d) != 0)
		return -1;
	const codelists *cl = c->cl;
	int s = r->sex >= 0 && (size_t)r->sex < cl->sex.n ? c->sex_map[r->sex] : -1;
	int a = r->age >= 0 && (size_t)r->age < cl->age.n ? c->age_map[r->age] : -1;
	int f = r->form >= 0 && (size_t)r->form < cl->forms.n ? c->form_map[r->form] : -1;
	int k = -1;
	if (r->citizenship == STD_UNKNOWN ||
	    (r->citizenship >= 0 && (size_t)r->citizenship < cl->n_countries))
		k = cit_class(cl, r->country, r->citizenship);
	if (s < 0 || a < 0 || f < 0 || k < 0)
		return diag_fail(d, EX_DATAERR,
		                 "cube: record (line %lu): sex, age, form and citizenship must be codes "
		                 "(got %d, %d, %d, %d)", r->line, r->sex, r->age, r->form, r->citizenship);
	c->st.records_in++;
	if (r->has_key) {
		if (!c->run_on || memcmp(c->run_key, r->key, sizeof c->run_key) != 0) {
			c->run_on = 1;
			memcpy(c->run_key, r->key, sizeof c->run_key);
			c->nrun = 0;
		}
		for (size_t i = 0; i < c->nrun; i++) {
			run_ent *e = &c->run[i];
			if (e->country != r->country || e->indicator != r->indicator)
				continue;
			if (r->period < e->last_period) {
				c->st.records_in--;
				char w[64];
				where(c, r->country, r->period, r->indicator, w, sizeof w);
				return diag_fail(d, EX_DATAERR,
				                 "cube: record (line %lu) %s: periods of one case key must "
				                 "ascend (records must be grouped by country, indicator and "
				                 "key, periods ascending)", r->line, w);
			}
			e->last_period = r->period;
			c->st.records_duplicate++;
			return 0;
		}
		if (c->nrun == c->caprun) {
			size_t nc = c->caprun ? c->caprun * 2 : 8;
			run_ent *ne = realloc(c->run, nc * sizeof *ne);
			if (!ne) {
				c->st.records_in--;
				return diag_fail(d, EX_OSERR, "out of memory");
			}
			c->run = ne;
			c->caprun = nc;
		}
		if (count_record(c, r, s, a, f, k, d) != 0)
			return -1;
		c->run[c->nrun++] = (run_ent){r->country, r->indicator, r->period};
		return 0;
	}
	if (count_record(c, r, s, a, f, k, d) != 0)
		return -1;
	c->st.records_keyless++;
	return 0;
}

int cube_record_cmp(const void *pa, const void *pb)
{
	const std_row *a = pa, *b = pb;
	if (a->country != b->country)
		return a->country < b->country ? -1 : 1;
	if (a->indicator != b->indicator)
		return a->indicator < b->indicator ? -1 : 1;
	if (a->has_key != b->has_key)
		return a->has_key ? -1 : 1;
	if (a->has_key) {
		int k = memcmp(a->key, b->key, sizeof a->key);
		if (k)
			return k < 0 ? -1 : 1;
	}
	if (a->period != b->period)
		return a->period < b->period ? -1 : 1;
	return (a->line > b->line) - (a->line < b->line);
}

static int push_cell(cube *c, blk *b, const raw_cell *rc, diag *d)
{
	if (b->n_cells == b->cap_cells) {
		size_t nc = b->cap_cells ? b->cap_cells * 2 : 16;
		raw_cell *n = realloc(b->cells, nc * sizeof *n);
		if (!n)
			return diag_fail(d, EX_OSERR, "out of memory");
		b->cells = n;
		b->cap_cells = nc;
	}
	b->cells[b->n_cells++] = *rc;
	c->finished = 0;
	return 0;
}

int cube_add_cell(cube *c, const std_row *r, diag *d)
{
	if (check_coords(c, r, "cell", d) != 0)
		return -1;
	const codelists *cl = c->cl;
	raw_cell rc;
	memset(&rc, 0, sizeof rc);
	rc.line = r->line;
	rc.sex = -1;
	rc.age = -1;
	rc.form = -1;
	rc.cit = -1;
	int bad = 0;
	if (r->sex != STD_TOTAL) {
		if (r->sex < 0 || (size_t)r->sex >= cl->sex.n || c->sex_map[r->sex] < 0)
			bad = 1;
		else
			rc.sex = (int8_t)c->sex_map[r->sex];
	}
	rc.orig_age = STD_TOTAL;
	if (r->age != STD_TOTAL) {
		if (r->age < 0 || (size_t)r->age >= cl->age.n || c->age_map[r->age] < 0) {
			bad = 1;
		} else {
			rc.age = (int8_t)c->age_map[r->age];
			rc.band = (int8_t)c->age_band[r->age];
			rc.orig_age = r->age;
			if (!rc.band && r->age_band != STD_NONE) {
				/* a band given beside its group: the band is the cell */
				if (r->age_band < 0 || (size_t)r->age_band >= cl->age.n ||
				    c->age_map[r->age_band] != rc.age || !c->age_band[r->age_band])
					bad = 1;
				else {
					rc.band = 1;
					rc.orig_age = r->age_band;
				}
			}
		}
	} else if (r->age_band != STD_NONE) {
		bad = 1;
	}
	if (r->form != STD_TOTAL) {
		if (r->form < 0 || (size_t)r->form >= cl->forms.n || c->form_map[r->form] < 0)
			bad = 1;
		else
			rc.form = (int8_t)c->form_map[r->form];
	}
	rc.orig_cit = r->citizenship;
	if (r->citizenship != STD_TOTAL) {
		if (r->citizenship != STD_UNKNOWN &&
		    (r->citizenship < 0 || (size_t)r->citizenship >= cl->n_countries))
			bad = 1;
		else
			rc.cit = (int8_t)cit_class(cl, r->country, r->citizenship);
	}
	if (bad)
		return diag_fail(d, EX_DATAERR, "cube: cell (line %lu): bad dimension code", r->line);
	if (r->lo < 0 || (r->hi >= 0 && r->hi < r->lo))
		return diag_fail(d, EX_DATAERR, "cube: cell (line %lu): bad interval [%lld, %lld]",
		                 r->line, (long long)r->lo, (long long)r->hi);
	rc.lo = r->lo;
	rc.hi = r->hi < 0 ? CUBE_UNBOUNDED : r->hi;
	if ((r->flags & STD_F_CENSORED) || rc.hi != rc.lo)
		rc.flags |= CUBE_F_CENSORED;
	if (r->flags & STD_F_NONADDITIVE)
		rc.flags |= CUBE_F_NONADDITIVE;
	blk *b;
	if (get_block(c, CUBE_CELLS, r->country, r->period, r->indicator, &b, d) != 0)
		return -1;
	if (push_cell(c, b, &rc, d) != 0)
		return -1;
	c->st.cells_in++;
	return 0;
}

int cube_merge(cube *dst, const cube *src, diag *d)
{
	if (dst->cl != src->cl)
		return diag_fail(d, EX_USAGE, "cube: cannot merge cubes over different codelists");
	if (dst == src)
		return diag_fail(d, EX_USAGE, "cube: cannot merge a cube into itself");
	for (size_t i = 0; i < src->nb; i++) {
		const blk *s = &src->b[i];
		blk *t;
		if (get_block(dst, s->kind, s->country, s->period, s->indicator, &t, d) != 0)
			return -1;
		for (int k = 0; k < CUBE_NSLOTS; k++)
			t->rec[k] += s->rec[k];
		for (size_t j = 0; j < s->n_cells; j++)
			if (push_cell(dst, t, &s->cells[j], d) != 0)
				return -1;
	}
	dst->st.records_in += src->st.records_in;
	dst->st.records_counted += src->st.records_counted;
	dst->st.records_duplicate += src->st.records_duplicate;
	dst->st.records_keyless += src->st.records_keyless;
	dst->st.cells_in += src->st.cells_in;
	dst->finished = 0;
	return 0;
}

void cube_get_stats(const cube *c, cube_stats *out)
{
	*out = c->st;
}

/* --- cells: from reported rows to slot values ------------------------------ */

/* Collapsed cell space: sex (T + 4) x age (T + 3) x form (T + 10) x
 * citizenship class (T + 5).  Dimension value -1 is the total. */
#define KS (CUBE_NSEX + 1)
#define KA (CUBE_NAGE + 1)
#define KF (CUBE_NFORM + 1)
#define KC (CUBE_NCIT + 1)
#define KN (KS * KA * KF * KC)

enum { M_SEX = 1, M_AGE = 2, M_FORM = 4, M_CIT = 8 };

static int kidx(int s, int a, int f, int k)
{
	return (((s + 1) * KA + (a + 1)) * KF + (f + 1)) * KC + (k + 1);
}

static void kdims(int key, int dim[4])
{
	dim[3] = key % KC - 1;
	key /= KC;
	dim[2] = key % KF - 1;
	key /= KF;
	dim[1] = key % KA - 1;
	dim[0] = key / KA - 1;
}

static int dims_mask(const int dim[4])
{
	int m = 0;
	for (int i = 0; i < 4; i++)
		if (dim[i] >= 0)
			m |= 1 << i;
	return m;
}

/* Scratch for one block: accumulators for group-level and band-level rows
 * per collapsed key, and the list of keys touched. */
typedef struct acc {
	int64_t lo, hi;
	unsigned flags;
	int n;
} acc;

typedef struct scratch {
	acc grp[KN], band[KN];
	int touched[KN];
	int ntouched;
	int mark[KN];
	/* final */
	int present[KN];              /* keys with a value */
	int npresent;
	acc val[KN];
	int fam_rep[16];
	int cand[16];                 /* masks by (popcount, value) */
} scratch;

#define CMPF(f) if (a->f != b->f) return a->f < b->f ? -1 : 1
/* Same cell as fed (the original dimensions)? */
static int cmp_dims(const raw_cell *a, const raw_cell *b)
{
	CMPF(sex);
	CMPF(age);
	CMPF(form);
	CMPF(cit);
	CMPF(band);
	CMPF(orig_age);
	CMPF(orig_cit);
	return 0;
}

/* Sort order: dimensions, then source line (deterministic messages). */
static int cmp_raw(const void *pa, const void *pb)
{
	const raw_cell *a = pa, *b = pb;
	int k = cmp_dims(a, b);
	if (k)
		return k;
	CMPF(line);
	return 0;
}
#undef CMPF

static const char *dim_text(const cube *c, int v, const cl_table *t)
{
	if (v == STD_TOTAL)
		return "_T";
	if (v == STD_UNKNOWN)
		return "U";
	if (t)
		return v >= 0 && (size_t)v < t->n ? t->codes[v].code : "?";
	return ctry_code(c, v);
}

static int cells_block(cube *c, blk *b, scratch *sc, cube_value out[CUBE_NSLOTS], diag *d)
{
	memset(out, 0, CUBE_NSLOTS * sizeof *out);
	if (b->n_cells == 0) {
		/* declared, no rows: the country's table was empty, and a
		 * breakdown of nobody is zero everywhere */
		for (int slot = 0; slot < CUBE_NSLOTS; slot++) {
			out[slot].avail = 1;
			out[slot].n_countries = 1;
		}
		return 0;
	}
	qsort(b->cells, b->n_cells, sizeof *b->cells, cmp_raw);
	for (size_t i = 1; i < b->n_cells; i++) {
		if (cmp_dims(&b->cells[i - 1], &b->cells[i]) == 0) {
			const raw_cell *r = &b->cells[i];
			char w[64];
			where(c, b->country, b->period, b->indicator, w, sizeof w);
			return diag_fail(d, EX_DATAERR,
			                 "cube: %s: cell sex=%s age=%s form=%s citizenship=%s fed twice "
			                 "(lines %lu and %lu)", w,
			                 r->sex < 0 ? "_T" : sex_codes[(int)r->sex],
			                 dim_text(c, r->orig_age, &c->cl->age),
			                 r->form < 0 ? "_T" : form_codes[(int)r->form],
			                 dim_text(c, r->orig_cit, NULL),
			                 b->cells[i - 1].line, r->line);
		}
	}
	sc->ntouched = 0;
	for (size_t i = 0; i < b->n_cells; i++) {
		const raw_cell *r = &b->cells[i];
		int k = kidx(r->sex, r->age, r->form, r->cit);
		if (!sc->mark[k]) {
			sc->mark[k] = 1;
			sc->touched[sc->ntouched++] = k;
			memset(&sc->grp[k], 0, sizeof sc->grp[k]);
			memset(&sc->band[k], 0, sizeof sc->band[k]);
		}
		acc *a = r->band ? &sc->band[k] : &sc->grp[k];
		iv_add(&a->lo, &a->hi, r->lo, r->hi);
		a->flags |= r->flags;
		a->n++;
	}
	memset(sc->fam_rep, 0, sizeof sc->fam_rep);
	sc->npresent = 0;
	for (int t = 0; t < sc->ntouched; t++) {
		int k = sc->touched[t];
		/* a group row wins over the bands of the same group; mark[k]
		 * stays set while the slots are computed: "k is reported" */
		sc->val[k] = sc->grp[k].n ? sc->grp[k] : sc->band[k];
		sc->present[sc->npresent++] = k;
		int dim[4];
		kdims(k, dim);
		sc->fam_rep[dims_mask(dim)] = 1;
	}
	/* value of the cell with dimensions dim (-1 = total) */
	for (int slot = 0; slot < CUBE_NSLOTS; slot++) {
		int fam = cube_slot_family(slot), j = slot - fam_first[fam];
		int dim[4] = {-1, -1, -1, -1};
		switch (fam) {
		case CUBE_FAM_TOTAL: break;
		case CUBE_FAM_SEXAGE: dim[0] = j / CUBE_NAGE; dim[1] = j % CUBE_NAGE; break;
		case CUBE_FAM_SEX: dim[0] = j; break;
		case CUBE_FAM_AGE: dim[1] = j; break;
		case CUBE_FAM_FORM: dim[2] = j; break;
		case CUBE_FAM_CIT: dim[3] = j; break;
		default: continue; /* groups below */
		}
		int m = dims_mask(dim);
		int k = kidx(dim[0], dim[1], dim[2], dim[3]);
		cube_value *o = &out[slot];
		if (sc->mark[k]) {
			o->avail = 1;
			o->lo = sc->val[k].lo;
			o->hi = sc->val[k].hi;
			o->flags = (uint16_t)sc->val[k].flags;
			continue;
		}
		if (sc->fam_rep[m]) {
			o->avail = 1; /* reported breakdown, category absent: 0 */
			continue;
		}
		for (int ci = 0; ci < 16; ci++) {
			int m2 = sc->cand[ci];
			if ((m2 & m) != m || m2 == m || !sc->fam_rep[m2])
				continue;
			o->avail = 1;
			o->flags = CUBE_F_DERIVED;
			for (int t = 0; t < sc->npresent; t++) {
				int d2[4];
				kdims(sc->present[t], d2);
				if (dims_mask(d2) != m2)
					continue;
				int match = 1;
				for (int x = 0; x < 4; x++)
					if (dim[x] >= 0 && d2[x] != dim[x])
						match = 0;
				if (!match)
					continue;
				const acc *a = &sc->val[sc->present[t]];
				iv_add(&o->lo, &o->hi, a->lo, a->hi);
				o->flags |= (uint16_t)a->flags;
			}
			break;
		}
	}
	for (int t = 0; t < sc->npresent; t++)
		sc->mark[sc->present[t]] = 0;
	/* the five groups are a regrouping of the sex x age cross */
	for (int s = 0; s < CUBE_NSEX; s++)
		for (int a = 0; a < CUBE_NAGE; a++) {
			const cube_value *v = &out[CUBE_SLOT_SEXAGE(s, a)];
			cube_value *g = &out[CUBE_S_GROUP + group_of(s, a)];
			if (!v->avail)
				continue;
			if (!g->avail) {
				memset(g, 0, sizeof *g);
				g->avail = 1;
			}
			iv_add(&g->lo, &g->hi, v->lo, v->hi);
			g->flags |= v->flags;
		}
	for (int slot = 0; slot < CUBE_NSLOTS; slot++)
		if (out[slot].avail)
			out[slot].n_countries = 1;
	return 0;
}

/* --- finishing --------------------------------------------------------------- */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static int per_pos(const cube *c, int period)
{
	size_t lo = 0, hi = c->nper;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->per[mid] < period)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->nper && c->per[lo] == period ? (int)lo : -1;
}

static size_t vidx(const cube *c, size_t g, size_t p, size_t i, size_t s)
{
	return ((g * c->nper + p) * c->nind + i) * CUBE_NSLOTS + s;
}

int cube_finish(cube *c, diag *d)
{
	clear_finished(c);
	const codelists *cl = c->cl;
	int rc = -1;
	unsigned char *present = NULL;
	scratch *sc = NULL;
	int *rpos = NULL;

	/* countries and periods present */
	c->cpos = map_alloc(cl->n_countries);
	c->ctry = malloc((cl->n_countries ? cl->n_countries : 1) * sizeof *c->ctry);
	c->per = malloc((2 * c->nb + 1) * sizeof *c->per);
	rpos = map_alloc(cl->n_regions);
	if (!c->cpos || !c->ctry || !c->per || !rpos)
		goto oom;
	for (size_t i = 0; i < c->nb; i++) {
		c->cpos[c->b[i].country] = 0;
		c->per[c->nper++] = c->b[i].period;
		if (period_quarter(c->b[i].period) != 0)
			c->per[c->nper++] = period_make(period_year(c->b[i].period), 0);
	}
	for (size_t i = 0; i < cl->n_countries; i++)
		if (c->cpos[i] == 0) {
			c->cpos[i] = (int)c->nctry;
			c->ctry[c->nctry++] = (int)i;
		}
	qsort(c->per, c->nper, sizeof *c->per, cmp_int);
	size_t np = 0;
	for (size_t i = 0; i < c->nper; i++)
		if (np == 0 || c->per[np - 1] != c->per[i])
			c->per[np++] = c->per[i];
	c->nper = np;

	/* geographies: world, regions, subregions, countries */
	c->geo = malloc((cl->n_regions + c->nctry + 1) * sizeof *c->geo);
	if (!c->geo)
		goto oom;
	if (c->nctry) {
		int world = -1;
		for (size_t r = 0; r < cl->n_regions; r++)
			if (cl->regions[r].kind == CL_WORLD && world < 0)
				world = (int)r;
		c->geo[c->ngeo++] = (cube_geo){CUBE_GEO_WORLD, world};
		if (world >= 0)
			rpos[world] = 0;
		static const int kinds[2] = {CL_REGION, CL_SUBREGION};
		for (int kk = 0; kk < 2; kk++)
			for (size_t r = 0; r < cl->n_regions; r++) {
				if (cl->regions[r].kind != kinds[kk])
					continue;
				int used = 0;
				for (size_t j = 0; j < c->nctry && !used; j++) {
					const cl_country *ct = &cl->countries[c->ctry[j]];
					used = (kk == 0 ? ct->region : ct->subregion) == (int)r;
				}
				if (!used)
					continue;
				rpos[r] = (int)c->ngeo;
				c->geo[c->ngeo++] = (cube_geo){kk == 0 ? CUBE_GEO_REGION : CUBE_GEO_SUBREGION, (int)r};
			}
	}
	c->nagg = c->ngeo;
	for (size_t j = 0; j < c->nctry; j++)
		c->geo[c->ngeo++] = (cube_geo){CUBE_GEO_COUNTRY, c->ctry[j]};

	size_t ncell = c->ngeo * c->nper * c->nind * CUBE_NSLOTS;
	c->val = calloc(ncell ? ncell : 1, sizeof *c->val);
	c->covw = (c->nctry + 63) / 64;
	size_t ncov = c->nagg * c->nper * c->nind * CUBE_NSLOTS * c->covw;
	c->cov = calloc(ncov ? ncov : 1, sizeof *c->cov);
	present = calloc(c->nctry * c->nper * c->nind + 1, 1);
	sc = calloc(1, sizeof *sc);
	if (!c->val || !c->cov || !present || !sc)
		goto oom;
	for (int pc = 0, ci = 0; pc <= 4; pc++)
		for (int m = 0; m < 16; m++)
			if (__builtin_popcount((unsigned)m) == pc)
				sc->cand[ci++] = m;

	/* 1. country blocks */
	for (size_t i = 0; i < c->nb; i++) {
		blk *b = &c->b[i];
		size_t g = c->nagg + (size_t)c->cpos[b->country];
		size_t p = (size_t)per_pos(c, b->period);
		cube_value *o = &c->val[vidx(c, g, p, (size_t)b->indicator, 0)];
		if (b->kind == CUBE_RECORDS) {
			for (int s = 0; s < CUBE_NSLOTS; s++) {
				o[s].lo = o[s].hi = b->rec[s];
				o[s].avail = 1;
				o[s].n_countries = 1;
			}
		} else if (cells_block(c, b, sc, o, d) != 0) {
			goto fail;
		}
		present[((size_t)c->cpos[b->country] * c->nper + p) * c->nind + (size_t)b->indicator] = 1;
	}

	/* 2. years without an annual block: the sum of their quarters */
	for (size_t j = 0; j < c->nctry; j++)
		for (size_t p = 0; p < c->nper; p++) {
			if (period_quarter(c->per[p]) != 0)
				continue;
			int y = period_year(c->per[p]);
			for (size_t i = 0; i < c->nind; i++) {
				if (present[(j * c->nper + p) * c->nind + i])
					continue;
				cube_value *o = &c->val[vidx(c, c->nagg + j, p, i, 0)];
				int nq = 0, qp[4];
				for (int q = 1; q <= 4; q++) {
					int pp = per_pos(c, period_make(y, q));
					if (pp >= 0 && present[(j * c->nper + (size_t)pp) * c->nind + i])
						qp[nq++] = pp;
				}
				if (nq == 0)
					continue;
				for (int s = 0; s < CUBE_NSLOTS; s++) {
					cube_value sum;
					memset(&sum, 0, sizeof sum);
					int all = 1;
					for (int q = 0; q < nq; q++) {
						const cube_value *v = &c->val[vidx(c, c->nagg + j, (size_t)qp[q], i, (size_t)s)];
						if (!v->avail)
							all = 0;
						val_add(&sum, v);
					}
					if (!all)
						continue;
					sum.n_countries = 1;
					if (nq < 4)
						sum.flags |= CUBE_F_PARTIAL;
					o[s] = sum;
				}
			}
		}

	/* 3. aggregates: each country into world, its region, its subregion */
	for (size_t j = 0; j < c->nctry; j++) {
		const cl_country *ct = &cl->countries[c->ctry[j]];
		int ag[3] = {0, -1, -1};
		if (ct->region >= 0 && (size_t)ct->region < cl->n_regions)
			ag[1] = rpos[ct->region];
		if (ct->subregion >= 0 && (size_t)ct->subregion < cl->n_regions)
			ag[2] = rpos[ct->subregion];
		for (size_t p = 0; p < c->nper; p++)
			for (size_t i = 0; i < c->nind; i++)
				for (size_t s = 0; s < CUBE_NSLOTS; s++) {
					const cube_value *v = &c->val[vidx(c, c->nagg + j, p, i, s)];
					if (!v->avail)
						continue;
					for (int a = 0; a < 3; a++) {
						/* (a region that is the world itself is not
						 * counted twice) */
						if (ag[a] < 0 || (a > 0 && ag[a] == ag[0]))
							continue;
						size_t vi = vidx(c, (size_t)ag[a], p, i, s);
						val_add(&c->val[vi], v);
						c->cov[vi * c->covw + j / 64] |= (uint64_t)1 << (j % 64);
					}
				}
	}
	c->finished = 1;
	rc = 0;
	goto done;
oom:
	diag_fail(d, EX_OSERR, "out of memory");
fail:
	clear_finished(c);
done:
	free(present);
	free(sc);
	free(rpos);
	return rc;
}

/* --- reading ---------------------------------------------------------------- */

const codelists *cube_codelists(const cube *c) { return c->cl; }
int cube_finished(const cube *c) { return c->finished; }
size_t cube_n_indicators(const cube *c) { return c->nind; }
size_t cube_n_geo(const cube *c) { return c->finished ? c->ngeo : 0; }
size_t cube_n_countries(const cube *c) { return c->finished ? c->nctry : 0; }
size_t cube_n_periods(const cube *c) { return c->finished ? c->nper : 0; }

cube_geo cube_geo_at(const cube *c, size_t pos)
{
	if (!c->finished || pos >= c->ngeo)
		return (cube_geo){-1, -1};
	return c->geo[pos];
}

int cube_geo_find(const cube *c, int kind, int index)
{
	if (!c->finished)
		return -1;
	if (kind == CUBE_GEO_COUNTRY) {
		if (index < 0 || (size_t)index >= c->cl->n_countries || c->cpos[index] < 0)
			return -1;
		return (int)c->nagg + c->cpos[index];
	}
	for (size_t g = 0; g < c->nagg; g++)
		if (c->geo[g].kind == kind && (kind == CUBE_GEO_WORLD || c->geo[g].index == index))
			return (int)g;
	return -1;
}

int cube_country_at(const cube *c, size_t pos)
{
	return c->finished && pos < c->nctry ? c->ctry[pos] : -1;
}

int cube_country_pos(const cube *c, int country)
{
	if (!c->finished || country < 0 || (size_t)country >= c->cl->n_countries)
		return -1;
	return c->cpos[country];
}

int cube_period_at(const cube *c, size_t pos)
{
	return c->finished && pos < c->nper ? c->per[pos] : -1;
}

int cube_get(const cube *c, int geo, int period, int indicator, int slot, cube_value *out)
{
	memset(out, 0, sizeof *out);
	if (!c->finished || geo < 0 || (size_t)geo >= c->ngeo || indicator < 0 ||
	    (size_t)indicator >= c->nind || slot < 0 || slot >= CUBE_NSLOTS)
		return -1;
	int p = per_pos(c, period);
	if (p < 0)
		return -1;
	*out = c->val[vidx(c, (size_t)geo, (size_t)p, (size_t)indicator, (size_t)slot)];
	return 0;
}

int cube_contributes(const cube *c, int geo, int period, int indicator, int slot, size_t cpos)
{
	cube_value v;
	if (cube_get(c, geo, period, indicator, slot, &v) != 0 || !v.avail || cpos >= c->nctry)
		return 0;
	if ((size_t)geo >= c->nagg)
		return (size_t)geo - c->nagg == cpos;
	size_t vi = vidx(c, (size_t)geo, (size_t)per_pos(c, period), (size_t)indicator, (size_t)slot);
	return (c->cov[vi * c->covw + cpos / 64] >> (cpos % 64)) & 1;
}

void cube_iter_init(cube_iter *it)
{
	it->i = 0;
}

int cube_next(const cube *c, cube_iter *it, cube_cell *out)
{
	if (!c->finished)
		return 0;
	size_t n = c->ngeo * c->nper * c->nind * CUBE_NSLOTS;
	if (it->i >= n)
		return 0;
	size_t i = it->i++;
	out->v = c->val[i];
	out->slot = (int)(i % CUBE_NSLOTS);
	i /= CUBE_NSLOTS;
	out->indicator = (int)(i % c->nind);
	i /= c->nind;
	out->period = c->per[i % c->nper];
	i /= c->nper;
	out->geo_pos = (int)i;
	out->geo = c->geo[i];
	return 1;
}
