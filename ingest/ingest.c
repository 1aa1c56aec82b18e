/* ingest: see ingest.h.
 *
 * Data flow: csvr -> harm_row -> (records) extsort keyed by the
 * pseudonymous key, or (cells) an in-memory table, since aggregate files
 * are small by nature and their additivity check needs a whole country-
 * period at once -> canonical text through a BLAKE2b hasher into an
 * atomic file.  Memory for records is bounded by sort_mem whatever the
 * number of rows.
 *
 * Threads: every data row goes through sink_row(), which validates and
 * harmonises it and hands the result to a sink.  Serially (threads = 1)
 * the sink is the run itself.  In parallel the main thread reads the
 * header (and, without one, the first data row) serially, then
 * core/csvpar cuts the rest into chunks; each worker has its own harm and
 * a chunk sink that collects counts, reasons in order of first
 * appearance, rejects text and ready-made sort items; the main thread
 * merges the chunk sinks in file order (merge_sink), which is exactly
 * what the serial sink would have seen.  Everything the output depends
 * on is either merged in order or a sum.
 */
#include "ingest/ingest.h"

#include <csv.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include "core/atomic.h"
#include "core/csvpar.h"
#include "core/csvr.h"
#include "core/extsort.h"
#include "core/period.h"
#include "core/text.h"
#include "ingest/harmonise.h"
#include "ingest/hcount.h"

#define N_PERIODS ((PERIOD_MAX_YEAR - PERIOD_MIN_YEAR + 1) * 10)

static const char RECORDS_HEADER[] =
	"country,period,indicator,sex,age,age_band,form,citizenship,case_key\n";
static const char CELLS_HEADER[] =
	"country,period,indicator,sex,age,form,citizenship,lo,hi,flags\n";

typedef struct ctx ctx;

typedef struct reason_n {
	const char *reason;            /* static string */
	uint64_t n;
} reason_n;

enum { SINK_DIRECT = 0, SINK_ITEMS, SINK_COUNT };

/* Where harmonised rows go, with everything counted on the way. */
typedef struct rowsink {
	const ingest_opts *o;
	harm *h;
	int mode;                      /* SINK_* */
	uint64_t rows_read, rows_rejected, rows_other;
	reason_n *reasons;             /* in order of first appearance */
	size_t n_reasons, cap_reasons;
	int want_rej;
	char *rej;                     /* rejects file text not yet written */
	size_t rej_len, rej_cap;
	unsigned char *seen_country;   /* [n_countries] */
	unsigned char seen_period[N_PERIODS];
	unsigned char seen_indicator[64];
	ctx *c;                        /* SINK_DIRECT */
	unsigned char *items;          /* SINK_ITEMS: records [u32 n][item],
	                                  cells std_row */
	size_t ilen, icap;
	hcount counts;                 /* SINK_COUNT */
} rowsink;

typedef struct header_copy {
	csvr_record rec;
	char *buf;
} header_copy;

struct ctx {
	const ingest_opts *o;
	ingest_stats *st;
	harm h;
	extsort *sorter;              /* records */
	std_row *cells;               /* cells */
	size_t n_cells, cap_cells;
	rowsink k;                    /* the run's own sink */
	atomic_file rej;
	int have_rej;
	header_copy hdr;
	size_t ncols;                 /* width of the first row (no header) */
	int count_mode;               /* ingest_count */
	crypto_generichash_state in_hs;  /* parallel: input hash on the way */
	uint64_t in_bytes;
};

/* --- small pieces ---------------------------------------------------- */

static void count_reason_n(ingest_stats *st, const char *reason, uint64_t n)
{
	if (!reason)
		reason = "other";
	for (size_t i = 0; i < st->n_reasons; i++)
		if (!strcmp(st->reasons[i].reason, reason)) {
			st->reasons[i].n += n;
			return;
		}
	if (st->n_reasons < INGEST_MAX_REASONS) {
		st->reasons[st->n_reasons].reason = reason;
		st->reasons[st->n_reasons].n = n;
		st->n_reasons++;
	}
}

static void count_reason(ingest_stats *st, const char *reason)
{
	count_reason_n(st, reason, 1);
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

/* A writer that hashes everything it writes, a buffer at a time (one
 * fwrite and one BLAKE2b update per 64 KiB, not per line; the hash of
 * the bytes is the same however they are split). */
typedef struct hwriter {
	FILE *fp;
	crypto_generichash_state hs;
	size_t len;
	unsigned char buf[1 << 16];
} hwriter;

static void hw_flush(hwriter *w)
{
	if (!w->len)
		return;
	fwrite(w->buf, 1, w->len, w->fp);
	crypto_generichash_update(&w->hs, w->buf, w->len);
	w->len = 0;
}

static void hw_put(hwriter *w, const char *s, size_t n)
{
	if (w->len + n > sizeof w->buf) {
		hw_flush(w);
		if (n > sizeof w->buf) {
			fwrite(s, 1, n, w->fp);
			crypto_generichash_update(&w->hs, (const unsigned char *)s, n);
			return;
		}
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
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
#define ITEM_MAX (16 + 160 + 1 + 8)

static size_t make_item(const codelists *cl, const std_row *r, unsigned char *item)
{
	if (r->has_key)
		memcpy(item, r->key, 16);
	else
		memset(item, 0xff, 16);
	size_t n = format_record_body(cl, r, (char *)item + 16, 160);
	item[16 + n] = 0;
	for (int i = 0; i < 8; i++)
		item[16 + n + 1 + i] = (unsigned char)((uint64_t)r->line >> (56 - 8 * i));
	return 16 + n + 1 + 8;
}

static int emit_record(ctx *c, const std_row *r, diag *d)
{
	unsigned char item[ITEM_MAX];
	size_t n = make_item(c->o->cl, r, item);
	return extsort_add(c->sorter, item, n, d);
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

/* --- rows: validation, harmonisation, sinks ------------------------------ */

static int sink_init(rowsink *k, const ingest_opts *o, int mode, int want_rej)
{
	memset(k, 0, sizeof *k);
	k->o = o;
	k->mode = mode;
	k->want_rej = want_rej;
	k->seen_country = calloc(o->cl->n_countries ? o->cl->n_countries : 1, 1);
	return k->seen_country ? 0 : -1;
}

/* Empty the sink for the next chunk, keeping its memory. */
static void sink_clear(rowsink *k)
{
	k->rows_read = k->rows_rejected = k->rows_other = 0;
	k->n_reasons = 0;
	k->rej_len = 0;
	k->ilen = 0;
	memset(k->seen_country, 0, k->o->cl->n_countries ? k->o->cl->n_countries : 1);
	memset(k->seen_period, 0, sizeof k->seen_period);
	memset(k->seen_indicator, 0, sizeof k->seen_indicator);
	hcount_clear(&k->counts);
}

static void sink_free(rowsink *k)
{
	free(k->reasons);
	free(k->rej);
	free(k->seen_country);
	free(k->items);
	hcount_free(&k->counts);
	memset(k, 0, sizeof *k);
}

static int sink_reason(rowsink *k, const char *reason, uint64_t n, diag *d)
{
	if (!reason)
		reason = "other";
	for (size_t i = 0; i < k->n_reasons; i++)
		if (k->reasons[i].reason == reason || !strcmp(k->reasons[i].reason, reason)) {
			k->reasons[i].n += n;
			return 0;
		}
	if (k->n_reasons == k->cap_reasons) {
		size_t nc = k->cap_reasons ? k->cap_reasons * 2 : 8;
		reason_n *nr = realloc(k->reasons, nc * sizeof *nr);
		if (!nr)
			return diag_fail(d, EX_OSERR, "out of memory");
		k->reasons = nr;
		k->cap_reasons = nc;
	}
	k->reasons[k->n_reasons].reason = reason;
	k->reasons[k->n_reasons].n = n;
	k->n_reasons++;
	return 0;
}

static int buf_reserve(char **b, size_t *cap, size_t len, size_t more)
{
	if (len + more <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 4096;
	while (nc < len + more)
		nc *= 2;
	char *nb = realloc(*b, nc);
	if (!nb)
		return -1;
	*b = nb;
	*cap = nc;
	return 0;
}

/* Append src as one quoted CSV field (libcsv's csv_write: the same bytes
 * as csv_fwrite). */
static int rej_field(rowsink *k, const char *src, size_t n)
{
	if (buf_reserve(&k->rej, &k->rej_cap, k->rej_len, 2 * n + 3) != 0)
		return -1;
	k->rej_len += csv_write(k->rej + k->rej_len, 2 * n + 3, src, n);
	return 0;
}

/* The rejects file line of a bad row: line, reason and the values of the
 * quotable code columns (never identifiers or free text). */
static int sink_reject(rowsink *k, const csvr_record *rec, unsigned long line,
                       const char *reason, diag *d)
{
	if (!k->want_rej)
		return 0;
	char num[32];
	int nn = snprintf(num, sizeof num, "%lu,", line);
	if (buf_reserve(&k->rej, &k->rej_cap, k->rej_len, (size_t)nn) != 0)
		goto oom;
	memcpy(k->rej + k->rej_len, num, (size_t)nn);
	k->rej_len += (size_t)nn;
	if (rej_field(k, reason, strlen(reason)) != 0)
		goto oom;
	for (size_t j = 0; rec && j < rec->n && j < k->h->ncols; j++) {
		if (!harm_col_quotable(k->h, j))
			continue;
		char q[64];
		text_quote(rec->f[j].s, rec->f[j].len, q, sizeof q);
		if (buf_reserve(&k->rej, &k->rej_cap, k->rej_len, 1) != 0)
			goto oom;
		k->rej[k->rej_len++] = ',';
		if (rej_field(k, q, strlen(q)) != 0)
			goto oom;
	}
	if (buf_reserve(&k->rej, &k->rej_cap, k->rej_len, 1) != 0)
		goto oom;
	k->rej[k->rej_len++] = '\n';
	return 0;
oom:
	return diag_fail(d, EX_OSERR, "out of memory");
}

static int sink_emit(rowsink *k, const std_row *r, diag *d)
{
	switch (k->mode) {
	case SINK_DIRECT:
		return k->o->m->kind == MAP_CELLS ? emit_cell(k->c, r, d) : emit_record(k->c, r, d);
	case SINK_COUNT: {
		hcount_key key;
		hcount_key_of(r, &key);
		if (hcount_add(&k->counts, &key, 1) != 0)
			return diag_fail(d, EX_OSERR, "out of memory");
		return 0;
	}
	default:
		break;
	}
	size_t need = k->o->m->kind == MAP_CELLS ? sizeof *r : 4 + ITEM_MAX;
	if (buf_reserve((char **)&k->items, &k->icap, k->ilen, need) != 0)
		return diag_fail(d, EX_OSERR, "out of memory");
	if (k->o->m->kind == MAP_CELLS) {
		memcpy(k->items + k->ilen, r, sizeof *r);
		k->ilen += sizeof *r;
	} else {
		uint32_t n = (uint32_t)make_item(k->o->cl, r, k->items + k->ilen + 4);
		memcpy(k->items + k->ilen, &n, 4);
		k->ilen += 4 + n;
	}
	return 0;
}

/* One data row (after the header): rc is csvr_next's CSVR_OK or CSVR_BAD
 * (bad_reason: csvr_bad_reason).  0, or -1 fatal. */
static int sink_row(rowsink *k, const csvr_record *rec, int rc, const char *bad_reason, diag *d)
{
	k->rows_read++;
	if (rc == CSVR_BAD) {
		k->rows_rejected++;
		if (sink_reason(k, bad_reason, 1, d) != 0)
			return -1;
		return sink_reject(k, NULL, rec->line, bad_reason, d);
	}
	std_row row;
	int hr = harm_row(k->h, rec, &row, d);
	if (hr < 0)
		return diag_fail(d, EX_DATAERR, "%s: ingest stopped", k->o->input);
	if (hr == 1) {
		k->rows_rejected++;
		if (sink_reason(k, k->h->reason, 1, d) != 0)
			return -1;
		return sink_reject(k, rec, rec->line, k->h->reason ? k->h->reason : "other", d);
	}
	if (k->o->only_country >= 0 && row.country != k->o->only_country) {
		k->rows_other++;
		return 0;
	}
	k->seen_country[row.country] = 1;
	k->seen_period[row.period - PERIOD_MIN_YEAR * 10] = 1;
	if (row.indicator < 64)
		k->seen_indicator[row.indicator] = 1;
	return sink_emit(k, &row, d);
}

/* Write out the run's pending rejects text. */
static void flush_rejects(ctx *c)
{
	if (c->have_rej && c->k.rej_len)
		fwrite(c->k.rej, 1, c->k.rej_len, c->rej.fp);
	c->k.rej_len = 0;
}

/* Merge a chunk's sink into the run's, in file order. */
static int merge_sink(ctx *c, rowsink *from, diag *d)
{
	rowsink *k = &c->k;
	k->rows_read += from->rows_read;
	k->rows_rejected += from->rows_rejected;
	k->rows_other += from->rows_other;
	for (size_t i = 0; i < from->n_reasons; i++)
		if (sink_reason(k, from->reasons[i].reason, from->reasons[i].n, d) != 0)
			return -1;
	for (size_t i = 0; i < c->o->cl->n_countries; i++)
		k->seen_country[i] |= from->seen_country[i];
	for (size_t i = 0; i < sizeof k->seen_period; i++)
		k->seen_period[i] |= from->seen_period[i];
	for (size_t i = 0; i < sizeof k->seen_indicator; i++)
		k->seen_indicator[i] |= from->seen_indicator[i];
	if (c->have_rej && from->rej_len)
		fwrite(from->rej, 1, from->rej_len, c->rej.fp);
	if (from->mode == SINK_COUNT)
		return hcount_merge(&k->counts, &from->counts) == 0
		       ? 0 : diag_fail(d, EX_OSERR, "out of memory");
	if (c->o->m->kind == MAP_CELLS) {
		for (size_t off = 0; off + sizeof(std_row) <= from->ilen; off += sizeof(std_row)) {
			std_row r;
			memcpy(&r, from->items + off, sizeof r);
			if (emit_cell(c, &r, d) != 0)
				return -1;
		}
		return 0;
	}
	for (size_t off = 0; off < from->ilen;) {
		uint32_t n;
		memcpy(&n, from->items + off, 4);
		if (extsort_add(c->sorter, from->items + off + 4, n, d) != 0)
			return -1;
		off += 4 + n;
	}
	return 0;
}

/* The run's counts into its stats (the reasons capped as before). */
static void sink_to_stats(ctx *c)
{
	ingest_stats *st = c->st;
	st->rows_read += c->k.rows_read;
	st->rows_rejected += c->k.rows_rejected;
	st->rows_other_country += c->k.rows_other;
	for (size_t i = 0; i < c->k.n_reasons; i++)
		count_reason_n(st, c->k.reasons[i].reason, c->k.reasons[i].n);
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
		if (c->k.seen_country[i]) {
			fprintf(fp, "%s\"%s\"", first ? "" : ", ", o->cl->countries[i].iso3);
			first = 0;
		}
	fprintf(fp, "],\n  \"periods\": [");
	first = 1;
	for (int p = 0; p < N_PERIODS; p++)
		if (c->k.seen_period[p]) {
			char per[8];
			period_format(p + PERIOD_MIN_YEAR * 10, per);
			fprintf(fp, "%s\"%s\"", first ? "" : ", ", per);
			first = 0;
		}
	fprintf(fp, "],\n  \"indicators\": [");
	first = 1;
	for (size_t i = 0; i < o->cl->indicators.n && i < 64; i++)
		if (c->k.seen_indicator[i]) {
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

/* Bind a harm to the file's header (or width), as the run did: workers
 * each have their own, since harm_row caches lookups. */
static int init_harm(const ctx *c, harm *h, diag *d)
{
	const ingest_opts *o = c->o;
	return harm_init(h, o->m, o->cl, o->input, o->m->header_line ? &c->hdr.rec : NULL,
	                 o->m->header_line ? 0 : c->ncols, o->pkey, o->period_override, d);
}

/* Read rows serially.  With `handoff`, stop as soon as the harm is bound
 * and a record was read whole (after the header, or after the first data
 * row of a file without one) and return 1: the rest is read in parallel
 * from csvr_position.  0 at the end of the file, -1 on failure. */
static int read_rows(ctx *c, csvr *r, int handoff, diag *d)
{
	const ingest_opts *o = c->o;
	csvr_record rec;
	int rc, have_header = o->m->header_line == 0;
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
				if (copy_header(&rec, &c->hdr) != 0)
					return diag_fail(d, EX_OSERR, "out of memory");
				if (init_harm(c, &c->h, d) != 0)
					return -1;
				have_header = 1;
				if (handoff)
					return 1;
			}
			continue;
		}
		if (!c->ncols) {
			c->ncols = rc == CSVR_OK ? rec.n : 1;
			if (o->m->header_line == 0) {
				if (init_harm(c, &c->h, d) != 0)
					return -1;
			}
		}
		if (o->progress && (++tick & 0xffff) == 0)
			o->progress(o->progress_ctx, csvr_bytes_read(r), csvr_bytes_total(r));
		if (sink_row(&c->k, &rec, rc, csvr_bad_reason(r), d) != 0)
			return -1;
		if (c->k.rej_len >= (64u << 10))
			flush_rejects(c);
		if (handoff && rc == CSVR_OK)
			return 1;
	}
	if (!have_header)
		return diag_fail(d, EX_DATAERR, "%s: no header row (expected on line %u)", o->input,
		                 o->m->header_line);
	if (!c->ncols && o->m->header_line == 0)
		return diag_fail(d, EX_DATAERR, "%s: the file is empty", o->input);
	return 0;
}

/* --- parallel reading (core/csvpar callbacks) --------------------------- */

typedef struct worker {
	harm h;
} worker;

static void *par_worker_new(void *vc, diag *d)
{
	ctx *c = vc;
	worker *w = calloc(1, sizeof *w);
	if (!w) {
		diag_fail(d, EX_OSERR, "out of memory");
		return NULL;
	}
	/* the run's harm already reported what binding finds */
	diag scratch;
	diag_init(&scratch, 1);
	int rc = init_harm(c, &w->h, &scratch);
	if (rc != 0) {
		d->code = scratch.code ? scratch.code : EX_SOFTWARE;
		memcpy(d->msg, scratch.msg, sizeof d->msg);
		harm_free(&w->h);
		free(w);
		w = NULL;
	}
	diag_free(&scratch);
	return w;
}

static void par_worker_free(void *vc, void *vw)
{
	(void)vc;
	worker *w = vw;
	if (!w)
		return;
	harm_free(&w->h);
	free(w);
}

static void *par_res_new(void *vc)
{
	ctx *c = vc;
	rowsink *k = malloc(sizeof *k);
	if (!k)
		return NULL;
	if (sink_init(k, c->o, c->count_mode ? SINK_COUNT : SINK_ITEMS, c->have_rej) != 0) {
		free(k);
		return NULL;
	}
	return k;
}

static void par_res_clear(void *vc, void *res)
{
	(void)vc;
	sink_clear(res);
}

static void par_res_free(void *vc, void *res)
{
	(void)vc;
	sink_free(res);
	free(res);
}

static int par_parse(void *vc, void *vw, csvr *r, uint64_t stop, void *res, diag *d)
{
	(void)vc;
	worker *w = vw;
	rowsink *k = res;
	k->h = &w->h;
	csvr_record rec;
	int rc;
	while ((rc = csvr_next(r, &rec, d)) != CSVR_EOF) {
		if (rc < 0)
			return -1;
		if (sink_row(k, &rec, rc, csvr_bad_reason(r), d) != 0)
			return -1;
		if (stop != UINT64_MAX) {
			uint64_t at;
			unsigned long ln;
			csvr_position(r, &at, &ln);
			if (at >= stop)
				break;
		}
	}
	return 0;
}

static int par_merge(void *vc, void *res, diag *d)
{
	return merge_sink(vc, res, d);
}

static void par_bytes(void *vc, const unsigned char *p, size_t n)
{
	ctx *c = vc;
	crypto_generichash_update(&c->in_hs, p, n);
	c->in_bytes += n;
}

static void par_progress(void *vc, uint64_t done, uint64_t total)
{
	ctx *c = vc;
	if (c->o->progress)
		c->o->progress(c->o->progress_ctx, done, total);
}

static int n_threads(const ingest_opts *o)
{
	return o->threads ? o->threads : 2;
}

/* Read the whole input into the run's sink: serially, or the header
 * serially and the rest on threads.  in_hash (may be NULL: no hash) gets
 * the input's BLAKE2b-256 and st->input_bytes its size. */
static int read_all(ctx *c, unsigned char *in_hash, diag *d)
{
	const ingest_opts *o = c->o;
	struct stat sb;
	int par = n_threads(o) > 1 && o->m->encoding != ENC_LATIN1 && strcmp(o->input, "-") &&
	          stat(o->input, &sb) == 0 && S_ISREG(sb.st_mode);
	if (in_hash && !par && hash_file(o->input, in_hash, &c->st->input_bytes, d) != 0)
		return -1;
	csvr_opts copts = {.delim = o->m->delimiter ? o->m->delimiter : ',',
	                   .quote = o->m->quote ? o->m->quote : '"',
	                   .latin1 = o->m->encoding == ENC_LATIN1,
	                   .max_field = o->m->max_field_bytes};
	csvr *r = NULL;
	if (csvr_open(o->input, &copts, &r, d) != 0)
		return -1;
	int rc = read_rows(c, r, par, d);
	flush_rejects(c);
	if (rc < 0 || !par) {
		csvr_close(r);
		return rc < 0 ? -1 : 0;
	}
	csvpar_opts po = {.path = o->input, .copts = copts, .threads = n_threads(o),
	                  .chunk_size = o->chunk_size, .ctx = c,
	                  .worker_new = par_worker_new, .worker_free = par_worker_free,
	                  .res_new = par_res_new, .res_clear = par_res_clear,
	                  .res_free = par_res_free, .parse = par_parse, .merge = par_merge,
	                  .on_bytes = in_hash ? par_bytes : NULL, .progress = par_progress};
	if (rc == 1) {
		csvr_position(r, &po.start, &po.start_line);
	} else {
		/* the serial part read the whole file: only the hash is left */
		po.start = csvr_bytes_total(r);
		po.start_line = 1;
	}
	csvr_close(r);
	if (in_hash)
		crypto_generichash_init(&c->in_hs, NULL, 0, 32);
	if (csvpar_run(&po, d) != 0)
		return -1;
	flush_rejects(c);
	if (in_hash) {
		crypto_generichash_final(&c->in_hs, in_hash, 32);
		c->st->input_bytes = c->in_bytes;
	}
	return 0;
}

static void ctx_free(ctx *c)
{
	extsort_free(c->sorter);
	harm_free(&c->h); /* also a harm_init that failed half-way (c is zeroed) */
	free(c->cells);
	sink_free(&c->k);
	free(c->hdr.rec.f);
	free(c->hdr.buf);
}

int ingest_run(const ingest_opts *o, ingest_stats *st, diag *d)
{
	ctx c;
	unsigned char in_hash[32];
	atomic_file out = {0};
	hwriter *w = NULL;
	int rc = -1;
	memset(st, 0, sizeof *st);
	memset(&c, 0, sizeof c);
	c.o = o;
	c.st = st;
	if (sodium_init() < 0)
		return diag_fail(d, EX_SOFTWARE, "libsodium failed to initialise");
	if (sink_init(&c.k, o, SINK_DIRECT, o->rejects != NULL) != 0) {
		diag_fail(d, EX_OSERR, "out of memory");
		goto done;
	}
	c.k.c = &c;
	c.k.h = &c.h;
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
	if (read_all(&c, in_hash, d) != 0)
		goto done;
	sink_to_stats(&c);
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
	w = malloc(sizeof *w);
	if (!w) {
		diag_fail(d, EX_OSERR, "out of memory");
		goto done;
	}
	w->fp = out.fp;
	w->len = 0;
	crypto_generichash_init(&w->hs, NULL, 0, 32);
	if ((o->m->kind == MAP_CELLS ? write_cells(&c, w, d) : write_records(&c, w, d)) != 0)
		goto done;
	hw_flush(w);
	crypto_generichash_final(&w->hs, st->output_hash, 32);
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
	free(w);
	atomic_abort(&out);
	if (c.have_rej)
		atomic_abort(&c.rej);
	ctx_free(&c);
	return rc;
}

int ingest_count(const ingest_opts *o, ingest_counts *out, diag *d)
{
	ctx c;
	ingest_stats st;
	int rc = -1;
	memset(out, 0, sizeof *out);
	memset(&st, 0, sizeof st);
	memset(&c, 0, sizeof c);
	c.o = o;
	c.st = &st;
	c.count_mode = 1;
	if (sodium_init() < 0)
		return diag_fail(d, EX_SOFTWARE, "libsodium failed to initialise");
	if (sink_init(&c.k, o, SINK_COUNT, 0) != 0) {
		diag_fail(d, EX_OSERR, "out of memory");
		goto done;
	}
	c.k.c = &c;
	c.k.h = &c.h;
	if (read_all(&c, NULL, d) != 0)
		goto done;
	out->rows_read = c.k.rows_read;
	out->rows_rejected = c.k.rows_rejected;
	out->rows_other_country = c.k.rows_other;
	out->counts = c.k.counts;
	memset(&c.k.counts, 0, sizeof c.k.counts);
	rc = 0;
done:
	if (rc != 0 && d->code == 0)
		d->code = EX_DATAERR;
	ctx_free(&c);
	return rc;
}

void ingest_counts_free(ingest_counts *c)
{
	hcount_free(&c->counts);
	memset(c, 0, sizeof *c);
}
