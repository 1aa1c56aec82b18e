/* ingest: see ingest.h.
 *
 * Data flow: csvr -> harm_row -> (records) extsort keyed by the
 * pseudonymous key, or (cells) an in-memory table, since aggregate files
 * are small by nature and their additivity check needs a whole country-
 * period at once -> canonical text through a BLAKE2b hasher into an
 * atomic file.  Memory for records is bounded by sort_mem whatever the
 * number of rows.
 */
#include "ingest/ingest.h"

#include <csv.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "core/atomic.h"
#include "core/csvr.h"
#include "core/extsort.h"
#include "core/period.h"
#include "core/text.h"
#include "ingest/harmonise.h"

#define N_PERIODS ((PERIOD_MAX_YEAR - PERIOD_MIN_YEAR + 1) * 10)

static const char RECORDS_HEADER[] =
	"country,period,indicator,sex,age,age_band,form,citizenship,case_key\n";
static const char CELLS_HEADER[] =
	"country,period,indicator,sex,age,form,citizenship,lo,hi,flags\n";

typedef struct ctx {
	const ingest_opts *o;
	ingest_stats *st;
	harm h;
	extsort *sorter;              /* records */
	std_row *cells;               /* cells */
	size_t n_cells, cap_cells;
	unsigned char *seen_country;  /* [n_countries] */
	unsigned char seen_period[N_PERIODS];
	unsigned char seen_indicator[64];
	atomic_file rej;
	int have_rej;
} ctx;

/* --- small pieces ---------------------------------------------------- */

static void count_reason(ingest_stats *st, const char *reason)
{
	if (!reason)
		reason = "other";
	for (size_t i = 0; i < st->n_reasons; i++)
		if (!strcmp(st->reasons[i].reason, reason)) {
			st->reasons[i].n++;
			return;
		}
	if (st->n_reasons < INGEST_MAX_REASONS) {
		st->reasons[st->n_reasons].reason = reason;
		st->reasons[st->n_reasons].n = 1;
		st->n_reasons++;
	}
}

static int hash_file(const char *path, unsigned char out[32], uint64_t *bytes, diag *d)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return diag_fail(d, EX_NOINPUT, "%s: cannot open: %s", path, strerror(errno));
	crypto_generichash_state s;
	crypto_generichash_init(&s, NULL, 0, 32);
	unsigned char buf[1 << 16];
	size_t n;
	*bytes = 0;
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0) {
		crypto_generichash_update(&s, buf, n);
		*bytes += n;
	}
	int err = ferror(fp);
	fclose(fp);
	if (err)
		return diag_fail(d, EX_IOERR, "%s: read error", path);
	crypto_generichash_final(&s, out, 32);
	return 0;
}

static void json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c < 0x20)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* A writer that hashes everything it writes. */
typedef struct hwriter {
	FILE *fp;
	crypto_generichash_state hs;
} hwriter;

static void hw_put(hwriter *w, const char *s, size_t n)
{
	fwrite(s, 1, n, w->fp);
	crypto_generichash_update(&w->hs, (const unsigned char *)s, n);
}

/* --- records ----------------------------------------------------------- */

/* The record body "country,period,...,citizenship," (8 fields, each
 * followed by a comma).  Built with memcpy: snprintf's format parsing was
 * about 7% of ingest (bench/results.md, "where the time goes").  The
 * snprintf below is kept for a body that would not fit, so the result is
 * the same bytes either way. */
static size_t format_record_body(const codelists *cl, const std_row *r, char *buf, size_t sz)
{
	char per[8];
	period_format(r->period, per);
	const char *part[8] = {harm_code(cl, MF_COUNTRY, r->country), per,
	                       harm_code(cl, MF_INDICATOR, r->indicator),
	                       harm_code(cl, MF_SEX, r->sex), harm_code(cl, MF_AGE_GROUP, r->age),
	                       r->age_band >= 0 ? harm_code(cl, MF_AGE_GROUP, r->age_band) : "",
	                       harm_code(cl, MF_FORM, r->form),
	                       harm_code(cl, MF_CITIZENSHIP, r->citizenship)};
	size_t len[8], total = 0;
	for (int i = 0; i < 8; i++)
		total += (len[i] = strlen(part[i])) + 1;
	if (total < sz) {
		char *p = buf;
		for (int i = 0; i < 8; i++) {
			memcpy(p, part[i], len[i]);
			p += len[i];
			*p++ = ',';
		}
		*p = '\0';
		return total;
	}
	int n = snprintf(buf, sz, "%s,%s,%s,%s,%s,%s,%s,%s,",
	                 harm_code(cl, MF_COUNTRY, r->country), per,
	                 harm_code(cl, MF_INDICATOR, r->indicator),
	                 harm_code(cl, MF_SEX, r->sex), harm_code(cl, MF_AGE_GROUP, r->age),
	                 r->age_band >= 0 ? harm_code(cl, MF_AGE_GROUP, r->age_band) : "",
	                 harm_code(cl, MF_FORM, r->form),
	                 harm_code(cl, MF_CITIZENSHIP, r->citizenship));
	return n < 0 ? 0 : (size_t)n;
}

/* Sort item: 16 key bytes (0xff.. when there is no key, so those sort
 * last), the line body, a NUL, and the 8-byte big-endian source line. */
static int emit_record(ctx *c, const std_row *r, diag *d)
{
	unsigned char item[16 + 160 + 1 + 8];
	if (r->has_key)
		memcpy(item, r->key, 16);
	else
		memset(item, 0xff, 16);
	size_t n = format_record_body(c->o->cl, r, (char *)item + 16, 160);
	item[16 + n] = 0;
	for (int i = 0; i < 8; i++)
		item[16 + n + 1 + i] = (unsigned char)((uint64_t)r->line >> (56 - 8 * i));
	return extsort_add(c->sorter, item, 16 + n + 1 + 8, d);
}

static unsigned long item_line(const unsigned char *item, size_t n)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | item[n - 8 + i];
	return (unsigned long)v;
}

/* Length of "country,period,indicator," in a record body. */
static size_t dup_prefix(const char *body)
{
	const char *p = body;
	for (int k = 0; k < 3 && p; k++) {
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return p ? (size_t)(p - body) : strlen(body);
}

static int write_records(ctx *c, hwriter *w, diag *d)
{
	const ingest_opts *o = c->o;
	const void *it;
	size_t n;
	int rc;
	unsigned char prev[16 + 160 + 1 + 8];
	size_t prev_n = 0;
	size_t errors0 = d->n_errors;
	if (extsort_finish(c->sorter, d) != 0)
		return -1;
	hw_put(w, RECORDS_HEADER, sizeof RECORDS_HEADER - 1);
	while ((rc = extsort_next(c->sorter, &it, &n, d)) == 1) {
		const unsigned char *item = it;
		const char *body = (const char *)item + 16;
		int has_key = 0;
		for (int i = 0; i < 16; i++)
			has_key |= item[i] != 0xff;
		if (has_key && prev_n && !memcmp(prev, item, 16) &&
		    !strncmp((const char *)prev + 16, body, dup_prefix(body)) &&
		    dup_prefix(body) == dup_prefix((const char *)prev + 16)) {
			if (o->m->duplicates == DUP_ERROR) {
				diag_add(d, DIAG_ERROR, o->input, item_line(item, n), 0,
				         "duplicate case id: the same case is already on line %lu "
				         "for this period and indicator",
				         item_line(prev, prev_n));
				count_reason(c->st, "duplicate case id");
				c->st->rows_rejected++;
			} else {
				diag_add(d, DIAG_WARNING, o->input, item_line(item, n), 0,
				         "duplicate case id (first on line %lu): kept the first",
				         item_line(prev, prev_n));
				count_reason(c->st, "duplicate case id (kept first)");
				c->st->rows_rejected++;
			}
			continue;
		}
		memcpy(prev, item, n);
		prev_n = n;
		/* one write and one hash update per line */
		char line[160 + 33 + 1];
		size_t bl = strlen(body);
		if (bl > 160)
			bl = 160;
		memcpy(line, body, bl);
		if (has_key) {
			text_hex(item, 16, line + bl);
			bl += 32;
		}
		line[bl++] = '\n';
		hw_put(w, line, bl);
		c->st->rows_written++;
	}
	if (rc < 0)
		return -1;
	if (d->n_errors > errors0)
		return diag_fail(d, EX_DATAERR, "%s: duplicate case ids", o->input);
	return 0;
}

/* --- cells ------------------------------------------------------------- */

static int emit_cell(ctx *c, const std_row *r, diag *d)
{
	if (c->n_cells == c->cap_cells) {
		size_t nc = c->cap_cells ? c->cap_cells * 2 : 256;
		std_row *nr = realloc(c->cells, nc * sizeof *nr);
		if (!nr)
			return diag_fail(d, EX_OSERR, "out of memory");
		c->cells = nr;
		c->cap_cells = nc;
	}
	c->cells[c->n_cells++] = *r;
	return 0;
}

static int cell_age(const std_row *r)
{
	return r->age_band >= 0 ? r->age_band : r->age;
}

static size_t format_cell_key(const codelists *cl, const std_row *r, char *buf, size_t sz)
{
	char per[8];
	period_format(r->period, per);
	int n = snprintf(buf, sz, "%s,%s,%s,%s,%s,%s,%s,", harm_code(cl, MF_COUNTRY, r->country),
	                 per, harm_code(cl, MF_INDICATOR, r->indicator),
	                 harm_code(cl, MF_SEX, r->sex), harm_code(cl, MF_AGE_GROUP, cell_age(r)),
	                 harm_code(cl, MF_FORM, r->form),
	                 harm_code(cl, MF_CITIZENSHIP, r->citizenship));
	return n < 0 ? 0 : (size_t)n;
}

typedef struct keyed_cell {
	char key[128];
	std_row *row;
} keyed_cell;

static int kc_cmp(const void *a, const void *b)
{
	const keyed_cell *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return x->row->line < y->row->line ? -1 : x->row->line > y->row->line;
}

/* Is b a direct part of a along one dimension (equal elsewhere)? */
static int is_part(const codelists *cl, const std_row *a, const std_row *b, int *dim)
{
	int diff = 0, which = -1;
	if (a->sex != b->sex) {
		if (a->sex != STD_TOTAL || b->sex == STD_TOTAL)
			return 0;
		diff++, which = 0;
	}
	if (cell_age(a) != cell_age(b)) {
		int ba = cell_age(b), aa = cell_age(a);
		if (ba == STD_TOTAL)
			return 0;
		int parent = cl->age.codes[ba].parent;
		if (!(aa == STD_TOTAL && parent < 0) && !(aa >= 0 && parent == aa))
			return 0;
		diff++, which = 1;
	}
	if (a->form != b->form) {
		if (a->form != STD_TOTAL || b->form == STD_TOTAL)
			return 0;
		diff++, which = 2;
	}
	if (a->citizenship != b->citizenship) {
		if (a->citizenship != STD_TOTAL || b->citizenship == STD_TOTAL)
			return 0;
		diff++, which = 3;
	}
	*dim = which;
	return diff == 1;
}

static const char *const dim_names[] = {"sex", "age", "form", "citizenship"};

static void check_group(ctx *c, keyed_cell *g, size_t n, diag *d)
{
	const codelists *cl = c->o->cl;
	int sev = c->o->strict ? DIAG_ERROR : DIAG_WARNING;
	for (size_t i = 0; i < n; i++) {
		std_row *t = g[i].row;
		for (int dim = 0; dim < 4; dim++) {
			int64_t lo = 0, hi = 0;
			int unbounded = 0;
			size_t parts = 0;
			char lines[96] = "";
			size_t lo_off = 0;
			for (size_t j = 0; j < n; j++) {
				int dd;
				std_row *p = g[j].row;
				if (i == j || !is_part(cl, t, p, &dd) || dd != dim)
					continue;
				lo += p->lo;
				if (p->hi < 0)
					unbounded = 1;
				else
					hi += p->hi;
				if (parts < 8 && lo_off < sizeof lines)
					lo_off += (size_t)snprintf(lines + lo_off, sizeof lines - lo_off,
					                           "%s%lu", parts ? ", " : "", p->line);
				parts++;
			}
			if (!parts)
				continue;
			int ok = !(t->hi >= 0 && lo > t->hi) && (unbounded || hi >= t->lo);
			if (ok)
				continue;
			t->flags |= STD_F_NONADDITIVE;
			char tv[48], pv[48];
			if (t->lo == t->hi)
				snprintf(tv, sizeof tv, "%lld", (long long)t->lo);
			else
				snprintf(tv, sizeof tv, "%lld-%lld", (long long)t->lo, (long long)t->hi);
			if (!unbounded && lo == hi)
				snprintf(pv, sizeof pv, "%lld", (long long)lo);
			else if (unbounded)
				snprintf(pv, sizeof pv, "at least %lld", (long long)lo);
			else
				snprintf(pv, sizeof pv, "%lld-%lld", (long long)lo, (long long)hi);
			diag_add(d, sev, c->o->input, t->line, 0,
			         "total %s is not the sum of its %zu %s parts, %s (lines %s%s); "
			         "the reported total is kept and flagged 'a'",
			         tv, parts, dim_names[dim], pv, lines, parts > 8 ? ", ..." : "");
		}
	}
}

static int write_cells(ctx *c, hwriter *w, diag *d)
{
	const ingest_opts *o = c->o;
	const codelists *cl = o->cl;
	size_t errors0 = d->n_errors;
	keyed_cell *kc = malloc((c->n_cells ? c->n_cells : 1) * sizeof *kc);
	if (!kc)
		return diag_fail(d, EX_OSERR, "out of memory");
	for (size_t i = 0; i < c->n_cells; i++) {
		kc[i].row = &c->cells[i];
		format_cell_key(cl, kc[i].row, kc[i].key, sizeof kc[i].key);
	}
	qsort(kc, c->n_cells, sizeof *kc, kc_cmp);
	/* duplicates: neighbours with the same key */
	size_t k = 0;
	for (size_t i = 0; i < c->n_cells; i++) {
		if (k && !strcmp(kc[k - 1].key, kc[i].key)) {
			std_row *first = kc[k - 1].row, *dup = kc[i].row;
			if (o->m->duplicates == DUP_ERROR) {
				diag_add(d, DIAG_ERROR, o->input, dup->line, 0,
				         "cell reported twice: same cell as line %lu", first->line);
				count_reason(c->st, "duplicate cell");
			} else if (o->m->duplicates == DUP_SUM) {
				first->lo += dup->lo;
				first->hi = first->hi < 0 || dup->hi < 0 ? -1 : first->hi + dup->hi;
				first->flags |= STD_F_DUPLICATE | (dup->flags & STD_F_CENSORED);
				count_reason(c->st, "duplicate cell (summed)");
			} else {
				first->flags |= STD_F_DUPLICATE;
				count_reason(c->st, "duplicate cell (kept first)");
			}
			c->st->rows_rejected++;
			continue;
		}
		kc[k++] = kc[i];
	}
	if (d->n_errors > errors0) {
		free(kc);
		return diag_fail(d, EX_DATAERR, "%s: cells reported twice", o->input);
	}
	/* additivity within each country, period, indicator */
	for (size_t i = 0; i < k;) {
		size_t j = i;
		std_row *a = kc[i].row;
		while (j < k && kc[j].row->country == a->country && kc[j].row->period == a->period &&
		       kc[j].row->indicator == a->indicator)
			j++;
		check_group(c, kc + i, j - i, d);
		i = j;
	}
	if (d->n_errors > errors0) {
		free(kc);
		return diag_fail(d, EX_DATAERR, "%s: totals are not additive (--strict)", o->input);
	}
	hw_put(w, CELLS_HEADER, sizeof CELLS_HEADER - 1);
	for (size_t i = 0; i < k; i++) {
		const std_row *r = kc[i].row;
		char line[200], flags[4];
		size_t f = 0;
		if (r->flags & STD_F_NONADDITIVE) flags[f++] = 'a';
		if (r->flags & STD_F_CENSORED) flags[f++] = 'c';
		if (r->flags & STD_F_DUPLICATE) flags[f++] = 'd';
		flags[f] = '\0';
		char hi[24] = "";
		if (r->hi >= 0)
			snprintf(hi, sizeof hi, "%lld", (long long)r->hi);
		int n = snprintf(line, sizeof line, "%s%lld,%s,%s\n", kc[i].key, (long long)r->lo, hi,
		                 flags);
		hw_put(w, line, (size_t)n);
		c->st->rows_written++;
	}
	free(kc);
	return 0;
}

/* --- rejects ------------------------------------------------------------ */

static void write_reject(ctx *c, const csvr_record *rec, unsigned long line, const char *reason)
{
	if (!c->have_rej)
		return;
	FILE *fp = c->rej.fp;
	fprintf(fp, "%lu,", line);
	csv_fwrite(fp, reason, strlen(reason));
	for (size_t j = 0; rec && j < rec->n && j < c->h.ncols; j++) {
		if (!harm_col_quotable(&c->h, j))
			continue;
		fputc(',', fp);
		char q[64];
		text_quote(rec->f[j].s, rec->f[j].len, q, sizeof q);
		csv_fwrite(fp, q, strlen(q));
	}
	fputc('\n', fp);
}

/* --- manifest ----------------------------------------------------------- */

static int write_manifest(ctx *c, const unsigned char in_hash[32], diag *d)
{
	const ingest_opts *o = c->o;
	const ingest_stats *st = c->st;
	char path[4096], hex[65];
	snprintf(path, sizeof path, "%s.manifest", o->output);
	atomic_file af;
	if (atomic_open(path, 0644, &af, d) != 0)
		return -1;
	FILE *fp = af.fp;
	fprintf(fp, "{\n  \"format\": \"tipstat-submission/1\",\n");
	fprintf(fp, "  \"tool\": \"tipstat %s\",\n", TIPSTAT_VERSION);
	fprintf(fp, "  \"kind\": \"%s\",\n", o->m->kind == MAP_CELLS ? "cells" : "records");
	fprintf(fp, "  \"countries\": [");
	int first = 1;
	for (size_t i = 0; i < o->cl->n_countries; i++)
		if (c->seen_country[i]) {
			fprintf(fp, "%s\"%s\"", first ? "" : ", ", o->cl->countries[i].iso3);
			first = 0;
		}
	fprintf(fp, "],\n  \"periods\": [");
	first = 1;
	for (int p = 0; p < N_PERIODS; p++)
		if (c->seen_period[p]) {
			char per[8];
			period_format(p + PERIOD_MIN_YEAR * 10, per);
			fprintf(fp, "%s\"%s\"", first ? "" : ", ", per);
			first = 0;
		}
	fprintf(fp, "],\n  \"indicators\": [");
	first = 1;
	for (size_t i = 0; i < o->cl->indicators.n && i < 64; i++)
		if (c->seen_indicator[i]) {
			fprintf(fp, "%s\"%s\"", first ? "" : ", ", o->cl->indicators.codes[i].code);
			first = 0;
		}
	text_hex(in_hash, 32, hex);
	fprintf(fp, "],\n  \"input\": {\"file\": ");
	json_str(fp, base_name(o->input));
	fprintf(fp, ", \"blake2b\": \"%s\", \"bytes\": %llu},\n", hex,
	        (unsigned long long)st->input_bytes);
	text_hex(o->m->sha256, 32, hex);
	fprintf(fp, "  \"mapping\": {\"file\": ");
	json_str(fp, base_name(o->m->path ? o->m->path : "mapping"));
	fprintf(fp, ", \"sha256\": \"%s\"},\n", hex);
	text_hex(st->output_hash, 32, hex);
	fprintf(fp, "  \"output\": {\"blake2b\": \"%s\", \"rows\": %llu},\n", hex,
	        (unsigned long long)st->rows_written);
	fprintf(fp, "  \"rows\": {\"read\": %llu, \"written\": %llu, \"rejected\": %llu,\n",
	        (unsigned long long)st->rows_read, (unsigned long long)st->rows_written,
	        (unsigned long long)st->rows_rejected);
	if (o->only_country >= 0)
		fprintf(fp, "           \"other_countries_skipped\": %llu,\n",
		        (unsigned long long)st->rows_other_country);
	fprintf(fp, "           \"rejected_by_reason\": {");
	for (size_t i = 0; i < st->n_reasons; i++) {
		fprintf(fp, "%s", i ? ", " : "");
		json_str(fp, st->reasons[i].reason);
		fprintf(fp, ": %llu", (unsigned long long)st->reasons[i].n);
	}
	fprintf(fp, "}},\n  \"pseudonymised\": %s,\n",
	        c->h.src[MF_CASE_ID] >= 0 ? "true" : "false");
	fprintf(fp, "  \"warnings\": %zu\n}\n", d->n_warnings);
	return atomic_commit(&af, d);
}

/* --- driver ------------------------------------------------------------- */

typedef struct header_copy {
	csvr_record rec;
	char *buf;
} header_copy;

static int copy_header(const csvr_record *src, header_copy *h)
{
	size_t total = 0;
	for (size_t i = 0; i < src->n; i++)
		total += src->f[i].len + 1;
	h->rec = *src;
	h->rec.f = calloc(src->n ? src->n : 1, sizeof *h->rec.f);
	h->buf = malloc(total ? total : 1);
	if (!h->rec.f || !h->buf)
		return -1;
	char *p = h->buf;
	for (size_t i = 0; i < src->n; i++) {
		h->rec.f[i] = src->f[i];
		memcpy(p, src->f[i].s, src->f[i].len + 1);
		h->rec.f[i].s = p;
		p += src->f[i].len + 1;
	}
	return 0;
}

static int note_row(ctx *c, const std_row *r, diag *d)
{
	if (c->o->only_country >= 0 && r->country != c->o->only_country) {
		c->st->rows_other_country++;
		return 0;
	}
	c->seen_country[r->country] = 1;
	c->seen_period[r->period - PERIOD_MIN_YEAR * 10] = 1;
	if (r->indicator < 64)
		c->seen_indicator[r->indicator] = 1;
	return c->o->m->kind == MAP_CELLS ? emit_cell(c, r, d) : emit_record(c, r, d);
}

static int read_rows(ctx *c, csvr *r, header_copy *hdr, diag *d)
{
	const ingest_opts *o = c->o;
	csvr_record rec;
	int rc, have_header = o->m->header_line == 0;
	size_t ncols = 0;
	uint64_t tick = 0;
	while ((rc = csvr_next(r, &rec, d)) != CSVR_EOF) {
		if (rc < 0)
			return -1;
		if (!have_header) {
			if (rc == CSVR_OK && rec.line >= o->m->header_line) {
				if (rec.line > o->m->header_line)
					diag_add(d, DIAG_WARNING, o->input, rec.line, 0,
					         "header expected on line %u, found on line %lu",
					         o->m->header_line, rec.line);
				if (copy_header(&rec, hdr) != 0)
					return diag_fail(d, EX_OSERR, "out of memory");
				if (harm_init(&c->h, o->m, o->cl, o->input, &hdr->rec, 0, o->pkey,
				              o->period_override, d) != 0)
					return -1;
				have_header = 1;
			}
			continue;
		}
		if (!ncols) {
			ncols = rc == CSVR_OK ? rec.n : 1;
			if (o->m->header_line == 0 &&
			    harm_init(&c->h, o->m, o->cl, o->input, NULL, ncols, o->pkey,
			              o->period_override, d) != 0)
				return -1;
		}
		c->st->rows_read++;
		if (o->progress && (++tick & 0xffff) == 0)
			o->progress(o->progress_ctx, csvr_bytes_read(r), csvr_bytes_total(r));
		if (rc == CSVR_BAD) {
			c->st->rows_rejected++;
			count_reason(c->st, csvr_bad_reason(r));
			write_reject(c, NULL, rec.line, csvr_bad_reason(r));
			continue;
		}
		std_row row;
		int hr = harm_row(&c->h, &rec, &row, d);
		if (hr < 0)
			return diag_fail(d, EX_DATAERR, "%s: ingest stopped", o->input);
		if (hr == 1) {
			c->st->rows_rejected++;
			count_reason(c->st, c->h.reason);
			write_reject(c, &rec, rec.line, c->h.reason ? c->h.reason : "other");
			continue;
		}
		if (note_row(c, &row, d) != 0)
			return -1;
	}
	if (!have_header)
		return diag_fail(d, EX_DATAERR, "%s: no header row (expected on line %u)", o->input,
		                 o->m->header_line);
	if (!ncols && o->m->header_line == 0)
		return diag_fail(d, EX_DATAERR, "%s: the file is empty", o->input);
	return 0;
}

int ingest_run(const ingest_opts *o, ingest_stats *st, diag *d)
{
	ctx c;
	header_copy hdr = {0};
	unsigned char in_hash[32];
	atomic_file out = {0};
	int rc = -1;
	memset(st, 0, sizeof *st);
	memset(&c, 0, sizeof c);
	c.o = o;
	c.st = st;
	if (sodium_init() < 0)
		return diag_fail(d, EX_SOFTWARE, "libsodium failed to initialise");
	if (hash_file(o->input, in_hash, &st->input_bytes, d) != 0)
		return -1;
	csvr_opts copts = {.delim = o->m->delimiter ? o->m->delimiter : ',',
	                   .quote = o->m->quote ? o->m->quote : '"',
	                   .latin1 = o->m->encoding == ENC_LATIN1,
	                   .max_field = o->m->max_field_bytes};
	csvr *r = NULL;
	if (csvr_open(o->input, &copts, &r, d) != 0)
		return -1;
	c.seen_country = calloc(o->cl->n_countries ? o->cl->n_countries : 1, 1);
	if (!c.seen_country) {
		diag_fail(d, EX_OSERR, "out of memory");
		goto done;
	}
	if (o->m->kind != MAP_CELLS &&
	    extsort_new(o->sort_mem ? o->sort_mem : (16u << 20), &c.sorter, d) != 0)
		goto done;
	if (o->rejects) {
		if (atomic_open(o->rejects, 0600, &c.rej, d) != 0)
			goto done;
		c.have_rej = 1;
		fprintf(c.rej.fp, "line,reason,values\n");
	}
	size_t errors0 = d->n_errors;
	if (read_rows(&c, r, &hdr, d) != 0)
		goto done;
	if (st->rows_read == 0 && !o->allow_empty) {
		diag_fail(d, EX_DATAERR,
		          "%s: no data rows after the header (a truncated export?); if the "
		          "period really had no cases, pass --allow-empty", o->input);
		goto done;
	}
	if (o->only_country >= 0 && st->rows_read > 0 &&
	    st->rows_other_country + st->rows_rejected == st->rows_read && !o->allow_empty) {
		diag_fail(d, EX_DATAERR, "%s: no row of %s in the file", o->input,
		          o->cl->countries[o->only_country].iso3);
		goto done;
	}
	if (d->n_errors > errors0 && !o->rejects) {
		diag_fail(d, EX_DATAERR, "%s: %zu error%s; nothing was written", o->input,
		          d->n_errors - errors0, d->n_errors - errors0 == 1 ? "" : "s");
		goto done;
	}
	if (atomic_open(o->output, 0644, &out, d) != 0)
		goto done;
	hwriter w = {.fp = out.fp};
	crypto_generichash_init(&w.hs, NULL, 0, 32);
	if ((o->m->kind == MAP_CELLS ? write_cells(&c, &w, d) : write_records(&c, &w, d)) != 0)
		goto done;
	crypto_generichash_final(&w.hs, st->output_hash, 32);
	if (atomic_commit(&out, d) != 0)
		goto done;
	if (write_manifest(&c, in_hash, d) != 0) {
		remove(o->output);
		goto done;
	}
	if (c.have_rej) {
		c.have_rej = 0;
		if (atomic_commit(&c.rej, d) != 0)
			goto done;
	}
	rc = 0;
done:
	if (rc != 0 && d->code == 0)
		d->code = EX_DATAERR;
	atomic_abort(&out);
	if (c.have_rej)
		atomic_abort(&c.rej);
	csvr_close(r);
	extsort_free(c.sorter);
	harm_free(&c.h);
	free(c.cells);
	free(c.seen_country);
	free(hdr.rec.f);
	free(hdr.buf);
	return rc;
}
