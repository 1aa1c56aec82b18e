/* Unit tests for reading on threads: core/csvsplit (where a file can be
 * cut), core/csvpar through ingest_run and ingest_count (threads = 1
 * against threads = 2 or 3).
 *
 * The boundary finder is checked on hand-made cases (quotes, doubled
 * quotes, CRLF, quoted CR and LF, a BOM, a last line without newline, a
 * parity carried in) with answers worked out by hand, and against a
 * byte-by-byte reference on random buffers.  The parallel runs are
 * checked for identity with the serial run: the submission, its manifest,
 * the rejects file, every diagnostic (FILE:LINE:COL text, in order, with
 * the counts past the cap) and the failure message, over generated
 * es_case files with quoted newlines, doubled quotes, stray quotes (which
 * flip the quote parity for the rest of the file), unknown codes, wrong
 * field counts, stray CRs, invalid UTF-8, blank lines, duplicate ids, an
 * unterminated quote and a last line without newline, for many chunk
 * sizes (so chunk boundaries fall everywhere, including inside quoted
 * fields, where the reader must repair its guess). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/codelist.h"
#include "core/csvsplit.h"
#include "core/diag.h"
#include "ingest/hcount.h"
#include "ingest/ingest.h"
#include "ingest/mapping.h"

static codelists cl;
static char tmpdir[256];

static const char *datasets(void)
{
	const char *e = getenv("TIPSTAT_DATASETS");
	return e ? e : "datasets";
}

static int setup(void **state)
{
	(void)state;
	char dir[4096];
	diag d;
	diag_init(&d, 10);
	snprintf(dir, sizeof dir, "%s/codelists", datasets());
	int rc = codelists_load(dir, &cl, &d);
	diag_free(&d);
	snprintf(tmpdir, sizeof tmpdir, "/tmp/tipstat-ingestpar-%ld", (long)getpid());
	char cmd[300];
	snprintf(cmd, sizeof cmd, "mkdir -p %s", tmpdir);
	if (system(cmd) != 0)
		return -1;
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	codelists_free(&cl);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* --- csvsplit ------------------------------------------------------------ */

static size_t cut(const char *s, int parity_in, uint64_t *nl, int *par)
{
	return csvsplit_cut((const unsigned char *)s, strlen(s), '"', parity_in, nl, par);
}

static void test_split_cases(void **state)
{
	(void)state;
	uint64_t nl;
	int par;
	/* plain lines: the last newline */
	assert_int_equal(cut("a,b\nc,d\n", 0, &nl, &par), 8);
	assert_int_equal(nl, 2);
	assert_int_equal(par, 0);
	/* last line without newline: cut after the newline before it */
	assert_int_equal(cut("a,b\nc,d", 0, &nl, &par), 4);
	assert_int_equal(nl, 1);
	/* no newline at all */
	assert_int_equal(cut("a,b,c", 0, &nl, &par), 0);
	assert_int_equal(nl, 0);
	/* a quoted newline is not a boundary: "x\ny" then a real newline */
	assert_int_equal(cut("1,\"x\ny\"\n2,\"p\nq", 0, &nl, &par), 8);
	assert_int_equal(nl, 2);
	assert_int_equal(par, 0);
	/* doubled quotes never change the parity */
	assert_int_equal(cut("\"a\"\"b\",c\n\"d\"\"\ne\"\"\",f", 0, &nl, &par), 9);
	assert_int_equal(nl, 1);
	/* CRLF, and a quoted CR LF */
	assert_int_equal(cut("a\r\n\"b\r\nc\"\r\nd", 0, &nl, &par), 11);
	assert_int_equal(nl, 3);
	assert_int_equal(cut("a\r\n\"b\r\nc", 0, &nl, &par), 3);
	assert_int_equal(nl, 1);
	/* a BOM is just bytes */
	assert_int_equal(cut("\xEF\xBB\xBFid,x\r\n1,2", 0, &nl, &par), 9);
	assert_int_equal(nl, 1);
	/* parity carried in: the buffer starts inside a quoted field */
	assert_int_equal(cut("x\ny\",1\nz", 1, &nl, &par), 7);
	assert_int_equal(nl, 2);
	assert_int_equal(par, 0);
	/* every newline inside quotes: fall back to the last newline, and say
	 * the parity there */
	assert_int_equal(cut("\"a\nb\nc", 0, &nl, &par), 5);
	assert_int_equal(nl, 2);
	assert_int_equal(par, 1);
}

/* Reference: byte by byte. */
static size_t ref_cut(const unsigned char *b, size_t n, int pin, uint64_t *nl, int *par)
{
	int p = pin;
	size_t best = 0, last = 0;
	int pbest = 0, plast = 0;
	for (size_t i = 0; i < n; i++) {
		if (b[i] == '"')
			p ^= 1;
		if (b[i] == '\n') {
			last = i + 1;
			plast = p;
			if (!p)
				best = i + 1, pbest = p;
		}
	}
	size_t c = best ? best : last;
	*par = best ? pbest : last ? plast : pin;
	*nl = 0;
	for (size_t i = 0; i < c; i++)
		*nl += b[i] == '\n';
	return c;
}

static uint64_t rs = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static void test_split_random(void **state)
{
	(void)state;
	static const unsigned char alpha[] = {'a', ',', '"', '\n', '\r', 0xC3, 0xA9, 0};
	unsigned char buf[300];
	for (int t = 0; t < 20000; t++) {
		size_t n = (size_t)(rnd() % sizeof buf);
		size_t off = (size_t)(rnd() % 8); /* alignment */
		if (n + off > sizeof buf)
			n = sizeof buf - off;
		for (size_t i = 0; i < n; i++)
			buf[off + i] = alpha[rnd() % sizeof alpha];
		int pin = (int)(rnd() & 1);
		uint64_t nl1, nl2, q, nl;
		int p1, p2;
		size_t c1 = csvsplit_cut(buf + off, n, '"', pin, &nl1, &p1);
		size_t c2 = ref_cut(buf + off, n, pin, &nl2, &p2);
		assert_int_equal(c1, c2);
		assert_int_equal(nl1, nl2);
		assert_int_equal(p1, p2);
		csvsplit_count(buf + off, n, '"', &q, &nl);
		uint64_t rq = 0, rn = 0;
		for (size_t i = 0; i < n; i++)
			rq += buf[off + i] == '"', rn += buf[off + i] == '\n';
		assert_int_equal(q, rq);
		assert_int_equal(nl, rn);
	}
}

/* --- generated national files ----------------------------------------------- */

typedef struct sbuf {
	char *s;
	size_t n, cap;
} sbuf;

static void put(sbuf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int k = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		assert_true(k >= 0);
		if ((size_t)k < b->cap - b->n) {
			b->n += (size_t)k;
			return;
		}
		b->cap = b->cap * 2 + (size_t)k + 64;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
}

/* An es_case file of `rows` rows, a mix of good and bad ones (seeded). */
static char *gen_file(unsigned rows, uint64_t seed, int unterminated, int last_nl, size_t *len)
{
	sbuf b = {0};
	rs = seed * 2654435761u + 1;
	put(&b, "\xEF\xBB\xBFid_caso,pais_informante,fecha_registro,calidad,nombre_completo,"
	        "documento_identidad,sexo,edad,nacionalidad,finalidad,fiscalia,observaciones\r\n");
	static const char *const forms[] = {"explotación sexual", "trabajo forzoso", "mixta",
	                                    "reclutamiento forzado"};
	for (unsigned i = 1; i <= rows; i++) {
		unsigned kind = (unsigned)(rnd() % 40);
		unsigned id = kind == 39 && i > 3 ? i - 2 : i; /* a duplicate id */
		const char *name = "Rosa Quispe", *sex = "2", *note = "";
		char age[8];
		snprintf(age, sizeof age, "%u", (unsigned)(rnd() % 60) + 5);
		switch (kind) {
		case 0: name = "\"Quispe Mamani, Rosa\""; break;
		case 1: note = "\"línea uno\nlínea dos\""; break;
		case 2: note = "\"con CR LF\r\ny más\r\n\""; break;
		case 3: note = "\"caso \"\"reservado\"\"\""; break;
		case 4: name = "Ana \"La\" Quispe"; break;                     /* stray quote */
		case 5: sex = "x"; break;                                      /* unknown code */
		case 6: snprintf(age, sizeof age, "abc"); break;              /* bad age */
		case 7: note = "sin observaciones,extra"; break;               /* too many fields */
		case 8: name = "Rosa\rQuispe"; break;                          /* stray CR */
		case 9: name = "Rosa \xC3 Quispe"; break;                      /* invalid UTF-8 */
		case 10: put(&b, "\r\n   \r\n"); break;                        /* blank lines */
		case 11: note = "\"\"\"\n\"\"\""; break;                       /* quotes and newline */
		default: break;
		}
		if (unterminated && i == rows / 2) {
			put(&b, "PE-V-2020-%07u,Perú,01/02/2020,víctima,\"Rosa,,2,30,PE,mixta,x,\r\n", i);
			continue;
		}
		put(&b, "PE-V-2020-%07u,Perú,%02u/%02u/2020,víctima,%s,,%s,%s,PE,%s,Lima,%s", id,
		    (unsigned)(rnd() % 28) + 1, (unsigned)(rnd() % 12) + 1, name, sex, age,
		    forms[rnd() % 4], note);
		if (i < rows || last_nl)
			put(&b, "\r\n");
	}
	*len = b.n;
	return b.s;
}

static char *slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		*n = 0;
		return NULL;
	}
	sbuf b = {0};
	char tmp[4096];
	size_t k;
	while ((k = fread(tmp, 1, sizeof tmp, fp)) > 0) {
		if (b.n + k > b.cap) {
			b.cap = (b.n + k) * 2;
			b.s = realloc(b.s, b.cap);
			assert_non_null(b.s);
		}
		memcpy(b.s + b.n, tmp, k);
		b.n += k;
	}
	fclose(fp);
	*n = b.n;
	return b.s ? b.s : calloc(1, 1);
}

static void write_file(const char *path, const char *s, size_t n)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(s, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

/* Everything a run leaves: return code, diag text, output files. */
typedef struct outcome {
	int rc;
	sbuf diag;
	char *files[3];
	size_t lens[3];
	ingest_stats st;
} outcome;

static void diag_text(const diag *d, sbuf *b)
{
	char line[2048];
	for (size_t i = 0; i < d->n_items; i++) {
		diag_format(&d->items[i], line, sizeof line);
		put(b, "%s\n", line);
	}
	put(b, "errors=%zu warnings=%zu dropped=%zu code=%d msg=%s\n", d->n_errors, d->n_warnings,
	    d->n_dropped, d->code, d->msg);
}

static void run_ingest(const char *input, const mapping *m, int threads, size_t chunk,
                       size_t cap, int with_rejects, outcome *out)
{
	static const unsigned char key[32] = {7, 7, 7};
	char o[400], man[420], rej[400];
	snprintf(o, sizeof o, "%s/out.csv", tmpdir);
	snprintf(man, sizeof man, "%s.manifest", o);
	snprintf(rej, sizeof rej, "%s/rej.csv", tmpdir);
	unlink(o);
	unlink(man);
	unlink(rej);
	ingest_opts io;
	memset(&io, 0, sizeof io);
	io.input = input;
	io.output = o;
	io.rejects = with_rejects ? rej : NULL;
	io.m = m;
	io.cl = &cl;
	io.pkey = key;
	io.period_override = -1;
	io.only_country = -1;
	io.threads = threads;
	io.chunk_size = chunk;
	io.sort_mem = 65536; /* spill: runs and merges too */
	diag d;
	diag_init(&d, cap);
	memset(out, 0, sizeof *out);
	out->rc = ingest_run(&io, &out->st, &d);
	diag_text(&d, &out->diag);
	diag_free(&d);
	const char *paths[3] = {o, man, rej};
	for (int i = 0; i < 3; i++)
		out->files[i] = slurp(paths[i], &out->lens[i]);
}

static void outcome_free(outcome *o)
{
	free(o->diag.s);
	for (int i = 0; i < 3; i++)
		free(o->files[i]);
}

static void assert_same(const outcome *a, const outcome *b, size_t chunk)
{
	if (a->diag.n != b->diag.n || memcmp(a->diag.s, b->diag.s, a->diag.n))
		fail_msg("chunk %zu: diagnostics differ:\n--- serial\n%.*s--- parallel\n%.*s", chunk,
		         (int)a->diag.n, a->diag.s, (int)b->diag.n, b->diag.s);
	assert_int_equal(a->rc, b->rc);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(a->files[i] != NULL, b->files[i] != NULL);
		if (a->lens[i] != b->lens[i] || (a->lens[i] && memcmp(a->files[i], b->files[i], a->lens[i])))
			fail_msg("chunk %zu: output file %d differs", chunk, i);
	}
	assert_int_equal(a->st.rows_read, b->st.rows_read);
	assert_int_equal(a->st.rows_written, b->st.rows_written);
	assert_int_equal(a->st.rows_rejected, b->st.rows_rejected);
}

static void load_map(mapping *m, int dup_error)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/mappings/es_case.map", datasets());
	size_t n;
	char *text = slurp(path, &n);
	assert_non_null(text);
	if (dup_error) {
		char *p = strstr(text, "keep-first");
		assert_non_null(p);
		memcpy(p, "error     ", 10);
	}
	diag d;
	diag_init(&d, 10);
	assert_int_equal(mapping_parse(text, n, "es_case.map", &cl, m, &d), 0);
	diag_free(&d);
	free(text);
}

/* Serial against parallel over the chunk sizes given (0-terminated). */
static void check_file(const char *csv, size_t len, const mapping *m, const size_t *chunks,
                       size_t cap, int with_rejects)
{
	char in[400];
	snprintf(in, sizeof in, "%s/in.csv", tmpdir);
	write_file(in, csv, len);
	outcome ser;
	run_ingest(in, m, 1, 0, cap, with_rejects, &ser);
	for (size_t i = 0; chunks[i]; i++) {
		outcome par;
		run_ingest(in, m, 2 + (int)(i % 2), chunks[i], cap, with_rejects, &par);
		assert_same(&ser, &par, chunks[i]);
		outcome_free(&par);
	}
	outcome_free(&ser);
}

static const size_t CHUNKS[] = {1, 7, 64, 100, 257, 1000, 4096, 65536, 1 << 20, 0};

static void test_identity_clean(void **state)
{
	(void)state;
	mapping m;
	load_map(&m, 0);
	/* good rows only, with quoted newlines and doubled quotes */
	sbuf b = {0};
	put(&b, "\xEF\xBB\xBFid_caso,pais_informante,fecha_registro,calidad,nombre_completo,"
	        "documento_identidad,sexo,edad,nacionalidad,finalidad,fiscalia,observaciones\r\n");
	for (unsigned i = 1; i <= 400; i++)
		put(&b, "PE-V-2021-%05u,Perú,%02u/03/2021,víctima,%s,,1,%u,PE,mixta,\"Lima, Sur\",%s\r\n", i,
		    i % 28 + 1, i % 3 ? "Juan" : "\"Quispe, Juan\"", 20 + i % 40,
		    i % 5 == 0 ? "\"dos\nlíneas \"\"aquí\"\"\"" : "");
	check_file(b.s, b.n, &m, CHUNKS, 100, 0);
	check_file(b.s, b.n, &m, CHUNKS, 100, 1);
	free(b.s);
	mapping_free(&m);
}

static void test_identity_bad_rows(void **state)
{
	(void)state;
	mapping m;
	load_map(&m, 0);
	for (uint64_t seed = 1; seed <= 3; seed++) {
		size_t len;
		char *f = gen_file(250, seed, seed == 2, seed != 3, &len);
		char in[400];
		snprintf(in, sizeof in, "%s/in.csv", tmpdir);
		write_file(in, f, len);
		outcome ser;
		run_ingest(in, &m, 1, 0, 100, 1, &ser);
		assert_int_equal(ser.rc, 0);              /* bad rows set aside ... */
		assert_true(ser.st.rows_rejected >= 10);  /* ... and there are some */
		assert_true(ser.st.rows_written > 100);
		outcome_free(&ser);
		check_file(f, len, &m, CHUNKS, 100, 1);  /* bad rows set aside */
		check_file(f, len, &m, CHUNKS, 100, 0);  /* the run fails: same messages */
		check_file(f, len, &m, CHUNKS, 7, 1);    /* past the diagnostics cap */
		free(f);
	}
	mapping_free(&m);
	load_map(&m, 1); /* duplicates are errors */
	size_t len;
	char *f = gen_file(250, 5, 0, 1, &len);
	check_file(f, len, &m, CHUNKS, 100, 1);
	free(f);
	mapping_free(&m);
}

/* A line of 3 MiB without a newline: no cut within the reader's limit,
 * so the rest of the file is read serially on the main thread (and the
 * rows before it still in parallel). */
static void test_identity_long_line(void **state)
{
	(void)state;
	mapping m;
	load_map(&m, 0);
	size_t len;
	char *f = gen_file(200, 21, 0, 1, &len);
	size_t big = 3u << 20, half = len / 2;
	while (f[half - 1] != '\n')
		half++;
	char *g = malloc(len + big + 2);
	assert_non_null(g);
	memcpy(g, f, half);
	memset(g + half, 'x', big);
	memcpy(g + half + big, "\r\n", 2);
	memcpy(g + half + big + 2, f + half, len - half);
	static const size_t chunks[] = {4096, 100000, 0};
	check_file(g, len + big + 2, &m, chunks, 100, 1);
	free(g);
	free(f);
	mapping_free(&m);
}

/* Many chunk sizes, every one from 1 to 300 bytes and then some: chunk
 * boundaries fall on every byte of the rows around them. */
static void test_identity_property(void **state)
{
	(void)state;
	mapping m;
	load_map(&m, 0);
	size_t len;
	char *f = gen_file(60, 9, 1, 0, &len);
	size_t chunks[400], k = 0;
	for (size_t c = 1; c <= 300; c++)
		chunks[k++] = c;
	for (size_t c = 301; k < 399; c = c > 200000 ? 301 + k : c * 5 / 4 + (size_t)(rnd() % 37))
		chunks[k++] = c;
	chunks[k] = 0;
	check_file(f, len, &m, chunks, 100, 1);
	free(f);
	mapping_free(&m);
}

/* The bundled layouts (case records in three languages and encodings,
 * quarterly and long aggregate tables: cells), two files each. */
static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_identity_datasets(void **state)
{
	(void)state;
	static const char *const layouts[] = {"de_case", "en_case", "es_case", "pipe_quarterly",
	                                      "unodc_long"};
	static const size_t chunks[] = {97, 4096, 0};
	for (size_t l = 0; l < sizeof layouts / sizeof *layouts; l++) {
		char path[8192], dir[4096];
		snprintf(path, sizeof path, "%s/mappings/%s.map", datasets(), layouts[l]);
		mapping m;
		diag d;
		diag_init(&d, 10);
		assert_int_equal(mapping_load(path, &cl, &m, &d), 0);
		diag_free(&d);
		snprintf(dir, sizeof dir, "%s/submissions/%s", datasets(), layouts[l]);
		DIR *dp = opendir(dir);
		assert_non_null(dp);
		char *names[256];
		size_t nn = 0;
		struct dirent *e;
		while ((e = readdir(dp)) && nn < 256)
			if (e->d_name[0] != '.')
				names[nn++] = strdup(e->d_name);
		closedir(dp);
		qsort(names, nn, sizeof *names, name_cmp);
		assert_true(nn >= 2);
		for (size_t i = 0; i < 2; i++) {
			snprintf(path, sizeof path, "%s/%s", dir, names[i]);
			size_t len;
			char *f = slurp(path, &len);
			assert_non_null(f);
			/* the bundled files ingest cleanly: the identity below is
			 * about real output, not two identical failures */
			outcome ok;
			run_ingest(path, &m, 1, 0, 100, 1, &ok);
			assert_int_equal(ok.rc, 0);
			assert_true(ok.st.rows_written > 0);
			outcome_free(&ok);
			check_file(f, len, &m, chunks, 100, 1);
			free(f);
		}
		for (size_t i = 0; i < nn; i++)
			free(names[i]);
		mapping_free(&m);
	}
}

/* --- ingest_count ----------------------------------------------------------- */

static void count_file(const char *path, const mapping *m, int threads, size_t chunk,
                       ingest_counts *c, sbuf *dt)
{
	ingest_opts io;
	memset(&io, 0, sizeof io);
	io.input = path;
	io.m = m;
	io.cl = &cl;
	static const unsigned char key[32] = {1};
	io.pkey = key;
	io.period_override = -1;
	io.only_country = -1;
	io.threads = threads;
	io.chunk_size = chunk;
	diag d;
	diag_init(&d, 50);
	assert_int_equal(ingest_count(&io, c, &d), 0);
	diag_text(&d, dt);
	diag_free(&d);
}

static void test_count_parallel(void **state)
{
	(void)state;
	mapping m;
	load_map(&m, 0);
	char in[400];
	snprintf(in, sizeof in, "%s/count.csv", tmpdir);
	for (uint64_t seed = 11; seed <= 13; seed++) {
		size_t len;
		char *f = gen_file(300, seed, seed == 12, 1, &len);
		write_file(in, f, len);
		free(f);
		ingest_counts ser;
		sbuf dser = {0};
		count_file(in, &m, 1, 0, &ser, &dser);
		/* known answer: every row read is counted once or rejected */
		assert_int_equal(hcount_total(&ser.counts) + ser.rows_rejected, ser.rows_read);
		assert_true(ser.rows_rejected > 0);
		hcount_cell *cs;
		size_t ns;
		assert_int_equal(hcount_sorted(&ser.counts, &cs, &ns), 0);
		for (size_t c = 1; c < 5000; c = c * 3 + 1) {
			ingest_counts par;
			sbuf dpar = {0};
			count_file(in, &m, 2, c, &par, &dpar);
			assert_int_equal(par.rows_read, ser.rows_read);
			assert_int_equal(par.rows_rejected, ser.rows_rejected);
			assert_int_equal(dpar.n, dser.n);
			assert_memory_equal(dpar.s, dser.s, dser.n);
			hcount_cell *cp;
			size_t np;
			assert_int_equal(hcount_sorted(&par.counts, &cp, &np), 0);
			assert_int_equal(np, ns);
			assert_memory_equal(cp, cs, ns * sizeof *cs);
			free(cp);
			free(dpar.s);
			ingest_counts_free(&par);
		}
		free(cs);
		free(dser.s);
		ingest_counts_free(&ser);
	}
	mapping_free(&m);
}

/* The exact merge: counts of two halves merged equal the count of the
 * whole, in either order. */
static void test_count_merge(void **state)
{
	(void)state;
	hcount a = {0}, b = {0}, all = {0}, ab = {0}, ba = {0};
	rs = 4242;
	for (int i = 0; i < 5000; i++) {
		hcount_key k = {(int)(rnd() % 3), 20201 + (int)(rnd() % 4), (int)(rnd() % 4),
		                (int)(rnd() % 3) - 1, (int)(rnd() % 9), (int)(rnd() % 12) - 2,
		                (int)(rnd() % 5) - 3};
		assert_int_equal(hcount_add(i % 3 ? &a : &b, &k, 1), 0);
		assert_int_equal(hcount_add(&all, &k, 1), 0);
	}
	assert_int_equal(hcount_merge(&ab, &a), 0);
	assert_int_equal(hcount_merge(&ab, &b), 0);
	assert_int_equal(hcount_merge(&ba, &b), 0);
	assert_int_equal(hcount_merge(&ba, &a), 0);
	assert_int_equal(hcount_total(&ab), 5000);
	hcount_cell *x, *y, *z;
	size_t nx, ny, nz;
	assert_int_equal(hcount_sorted(&all, &x, &nx), 0);
	assert_int_equal(hcount_sorted(&ab, &y, &ny), 0);
	assert_int_equal(hcount_sorted(&ba, &z, &nz), 0);
	assert_int_equal(nx, ny);
	assert_int_equal(nx, nz);
	assert_memory_equal(x, y, nx * sizeof *x);
	assert_memory_equal(x, z, nx * sizeof *x);
	free(x);
	free(y);
	free(z);
	hcount_free(&a);
	hcount_free(&b);
	hcount_free(&all);
	hcount_free(&ab);
	hcount_free(&ba);
}

/* One value of a random key dimension: mostly small codes and the
 * sentinels, sometimes a value at or past the packed widths' edges (a
 * large period, a big or very negative index, INT_MIN / INT_MAX), so both
 * the packed table and its wide fallback are exercised. */
static int in_range_only;  /* 1: no value outside the packed widths */

static int rnd_dim(int lo, int hi)
{
	switch (in_range_only ? 15 : rnd() % 16) {
	case 0:
		return (int)(rnd() % 5) - 8;           /* -8..-4: below the bias */
	case 1:
		return (int)(rnd() % 2048);            /* past 10 and 7 bits */
	case 2:
		return rnd() % 2 ? INT32_MAX : INT32_MIN;
	case 3:
		return 131060 + (int)(rnd() % 16);     /* the 17-bit period edge */
	default:
		return lo + (int)(rnd() % (uint64_t)(hi - lo + 1));
	}
}

typedef struct ref_cell {
	hcount_key k;
	uint64_t n;
} ref_cell;

static int key_cmp_ref(const hcount_key *a, const hcount_key *b)
{
	const int x[7] = {a->country, a->period, a->indicator, a->sex, a->age, a->form,
	                  a->citizenship};
	const int y[7] = {b->country, b->period, b->indicator, b->sex, b->age, b->form,
	                  b->citizenship};
	for (int i = 0; i < 7; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

static int ref_cmp(const void *a, const void *b)
{
	return key_cmp_ref(&((const ref_cell *)a)->k, &((const ref_cell *)b)->k);
}

/* Property: random keys (small codes, sentinels, values outside the
 * packed widths) with random counts, added to parts in random order;
 * each part's and every merge order's cells equal a naive reference (a
 * list searched linearly, then sorted), in strictly increasing key
 * order; totals add up; a cleared table is empty and reusable. */
static void test_count_property(void **state)
{
	(void)state;
	rs = 777;
	for (int round = 0; round < 20; round++) {
		enum { PARTS = 4 };
		size_t nkeys = 1 + (size_t)(rnd() % 600), nadds = 1 + (size_t)(rnd() % 4000);
		int narrow = round % 3 == 0;  /* few dimensions varying: many repeats */
		in_range_only = round % 4 == 1; /* every key packs: the sort on packed keys */
		hcount_key *keys = malloc(nkeys * sizeof *keys);
		assert_non_null(keys);
		for (size_t i = 0; i < nkeys; i++) {
			keys[i].country = narrow ? (int)(rnd() % 3) : rnd_dim(0, 247);
			keys[i].period = narrow ? 20201 : rnd_dim(20100, 20304);
			keys[i].indicator = rnd_dim(0, 4);
			keys[i].sex = rnd_dim(-2, 4);
			keys[i].age = rnd_dim(-2, 13);
			keys[i].form = narrow ? 1 : rnd_dim(-2, 10);
			keys[i].citizenship = rnd_dim(-3, 247);
		}
		ref_cell *ref = calloc(nadds, sizeof *ref);
		assert_non_null(ref);
		size_t nref = 0;
		uint64_t total = 0;
		hcount part[PARTS];
		memset(part, 0, sizeof part);
		for (size_t a = 0; a < nadds; a++) {
			const hcount_key *k = &keys[rnd() % nkeys];
			uint64_t n = rnd() % 8 == 0 ? rnd() % 1000000 : rnd() % 3;
			assert_int_equal(hcount_add(&part[rnd() % PARTS], k, n), 0);
			total += n;
			if (!n)
				continue;  /* a zero count makes no cell */
			size_t j = 0;
			while (j < nref && key_cmp_ref(&ref[j].k, k) != 0)
				j++;
			if (j == nref)
				ref[nref++].k = *k;
			ref[j].n += n;
		}
		qsort(ref, nref, sizeof *ref, ref_cmp);
		/* three merge orders: 0123, 3210, and a random one through a
		 * merged pair */
		hcount m1 = {0}, m2 = {0}, m3 = {0}, pair = {0};
		for (int i = 0; i < PARTS; i++) {
			assert_int_equal(hcount_merge(&m1, &part[i]), 0);
			assert_int_equal(hcount_merge(&m2, &part[PARTS - 1 - i]), 0);
		}
		int perm[PARTS] = {0, 1, 2, 3};
		for (int i = PARTS - 1; i > 0; i--) {
			int j = (int)(rnd() % (uint64_t)(i + 1)), t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
		}
		assert_int_equal(hcount_merge(&pair, &part[perm[0]]), 0);
		assert_int_equal(hcount_merge(&pair, &part[perm[1]]), 0);
		assert_int_equal(hcount_merge(&m3, &part[perm[2]]), 0);
		assert_int_equal(hcount_merge(&m3, &pair), 0);
		assert_int_equal(hcount_merge(&m3, &part[perm[3]]), 0);
		const hcount *all[3] = {&m1, &m2, &m3};
		for (int t = 0; t < 3; t++) {
			assert_int_equal(hcount_total(all[t]), total);
			assert_int_equal(hcount_size(all[t]), nref);
			hcount_cell *c;
			size_t nc;
			assert_int_equal(hcount_sorted(all[t], &c, &nc), 0);
			assert_int_equal(nc, nref);
			for (size_t i = 0; i < nc; i++) {
				assert_int_equal(key_cmp_ref(&c[i].k, &ref[i].k), 0);
				assert_int_equal(c[i].n, ref[i].n);
				if (i)
					assert_true(key_cmp_ref(&c[i - 1].k, &c[i].k) < 0);
			}
			free(c);
		}
		uint64_t sum = 0;
		for (int i = 0; i < PARTS; i++)
			sum += hcount_total(&part[i]);
		assert_int_equal(sum, total);
		/* clear keeps the memory and empties the table; it counts again */
		hcount_clear(&m1);
		assert_int_equal(hcount_total(&m1), 0);
		assert_int_equal(hcount_size(&m1), 0);
		assert_int_equal(hcount_add(&m1, &keys[0], 5), 0);
		hcount_cell *c;
		size_t nc;
		assert_int_equal(hcount_sorted(&m1, &c, &nc), 0);
		assert_int_equal(nc, 1);
		assert_int_equal(key_cmp_ref(&c[0].k, &keys[0]), 0);
		assert_int_equal(c[0].n, 5);
		free(c);
		for (int i = 0; i < PARTS; i++)
			hcount_free(&part[i]);
		hcount_free(&m1);
		hcount_free(&m2);
		hcount_free(&m3);
		hcount_free(&pair);
		free(ref);
		free(keys);
	}
}

/* Hand-worked: the sentinels and both edges of every packed width are
 * kept exactly (the largest values that pack, the first that do not),
 * and a packed and a wide key that differ in one dimension stay two
 * cells, sorted by that dimension. */
static void test_count_edges(void **state)
{
	(void)state;
	hcount t = {0};
	/* widths 10, 17, 7, 5, 8, 7, 10 bits with a bias of 4: the largest
	 * value that packs is 2^w - 5, the smallest -4 */
	const hcount_key fits = {1019, 131067, 123, 27, 251, 123, 1019};
	const hcount_key low = {-4, -4, -4, -4, -4, -4, -4};
	const hcount_key past = {1019, 131068, 123, 27, 251, 123, 1019};
	const hcount_key below = {-5, -4, -4, -4, -4, -4, -4};
	const hcount_key sent = {0, 20241, 0, STD_TOTAL, STD_TOTAL, STD_TOTAL, STD_UNKNOWN};
	assert_int_equal(hcount_add(&t, &fits, 1), 0);
	assert_int_equal(hcount_add(&t, &low, 2), 0);
	assert_int_equal(hcount_add(&t, &past, 3), 0);
	assert_int_equal(hcount_add(&t, &below, 4), 0);
	assert_int_equal(hcount_add(&t, &sent, 5), 0);
	assert_int_equal(hcount_add(&t, &past, 10), 0);
	assert_int_equal(hcount_add(&t, &sent, 0), 0);
	hcount_cell *c;
	size_t n;
	assert_int_equal(hcount_sorted(&t, &c, &n), 0);
	assert_int_equal(n, 5);
	/* key order: below (-5), low (-4), sent (0), fits, past */
	assert_int_equal(key_cmp_ref(&c[0].k, &below), 0);
	assert_int_equal(c[0].n, 4);
	assert_int_equal(key_cmp_ref(&c[1].k, &low), 0);
	assert_int_equal(c[1].n, 2);
	assert_int_equal(key_cmp_ref(&c[2].k, &sent), 0);
	assert_int_equal(c[2].n, 5);
	assert_int_equal(key_cmp_ref(&c[3].k, &fits), 0);
	assert_int_equal(c[3].n, 1);
	assert_int_equal(key_cmp_ref(&c[4].k, &past), 0);
	assert_int_equal(c[4].n, 13);
	assert_int_equal(hcount_total(&t), 25);
	free(c);
	hcount_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_cases),
		cmocka_unit_test(test_split_random),
		cmocka_unit_test(test_identity_clean),
		cmocka_unit_test(test_identity_bad_rows),
		cmocka_unit_test(test_identity_long_line),
		cmocka_unit_test(test_identity_datasets),
		cmocka_unit_test(test_identity_property),
		cmocka_unit_test(test_count_parallel),
		cmocka_unit_test(test_count_merge),
		cmocka_unit_test(test_count_property),
		cmocka_unit_test(test_count_edges),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
