/* Allocation failure: every allocation our code makes, made to fail in turn.
 *
 * This test is linked with -Wl,--wrap=malloc,calloc,realloc (Makefile), so
 * every malloc/calloc/realloc call in libtipstat goes through the counters
 * below.  For each operation, run k = 0, 1, 2, ...: the k-th allocation
 * fails; the operation must then fail cleanly (return -1 with an exit code
 * in its diag), free what it had (the ASan and valgrind builds check for
 * leaks), leave no output file, and never crash -- until a run makes no
 * more than k allocations, i.e. every allocation has been failed once.
 * Allocations inside the libraries we call (SQLite, GLPK, libcsv, libc's
 * own strdup) are not counted: only ours.
 *
 * Operations: loading the codelists; parsing a mapping file; ingesting a
 * national file; writing and reading back a release; building a cube,
 * protecting it with differential privacy (measure + estimate) and with
 * cell suppression and its audit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "aggregator/cube.h"
#include "core/codelist.h"
#include "core/period.h"
#include "ingest/ingest.h"
#include "ingest/mapping.h"
#include "privacy/cubesupp.h"
#include "privacy/dpcube.h"
#include "privacy/release.h"
#include "tests/unit/cube_fixture.h"

/* --- the counting allocator ------------------------------------------------ */

static long fail_at = -1; /* index of the allocation to fail, -1 = none */
static long n_alloc;      /* allocations so far in this run */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);

static int fail_now(void)
{
	return fail_at >= 0 && n_alloc++ == fail_at;
}

void *__wrap_malloc(size_t n)
{
	if (fail_now())
		return NULL;
	return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	if (fail_now())
		return NULL;
	return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	if (fail_now())
		return NULL;
	return __real_realloc(p, n);
}

typedef int (*op_fn)(void *ctx, diag *d);

/* Fail each allocation of op in turn; returns how many failure points were
 * exercised.  check (may be NULL) runs after every failed run. */
static long sweep(const char *name, op_fn op, void *ctx, void (*check)(void *ctx))
{
	long points = 0, tolerated = 0;
	for (long k = 0;; k++) {
		diag d;
		diag_init(&d, 4);
		n_alloc = 0;
		fail_at = k;
		int rc = op(ctx, &d);
		long used = n_alloc;
		fail_at = -1;
		if (rc == 0) {
			diag_free(&d);
			if (used <= k)
				break; /* nothing left to fail */
			tolerated++; /* a failure the operation could do without */
			continue;
		}
		if (d.code == 0)
			fail_msg("%s: allocation %ld failed and the error has no exit code", name, k);
		if (check)
			check(ctx);
		diag_free(&d);
		points++;
		if (k > 200000)
			fail_msg("%s: does not converge", name);
	}
	print_message("%s: %ld allocation failures handled, %ld tolerated\n", name, points,
	              tolerated);
	return points;
}

static const char *datasets(void)
{
	const char *e = getenv("TIPSTAT_DATASETS");
	return e && *e ? e : "datasets";
}

/* --- operations ------------------------------------------------------------ */

static int op_codelists(void *ctx, diag *d)
{
	(void)ctx;
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/codelists", datasets());
	codelists cl;
	int rc = codelists_load(dir, &cl, d);
	codelists_free(&cl);
	return rc;
}

typedef struct ingest_ctx {
	codelists cl;
	char out[256];
	int threads;       /* ingest_opts.threads (0: the default, 2) */
	size_t chunk_size; /* ingest_opts.chunk_size (0: the default) */
} ingest_ctx;

static int op_mapping(void *vc, diag *d)
{
	ingest_ctx *c = vc;
	char path[4096];
	snprintf(path, sizeof path, "%s/mappings/es_case.map", datasets());
	mapping m;
	int rc = mapping_load(path, &c->cl, &m, d);
	if (rc == 0)
		mapping_free(&m);
	return rc;
}

static int op_ingest(void *vc, diag *d)
{
	ingest_ctx *c = vc;
	char path[4096], in[4096];
	snprintf(path, sizeof path, "%s/mappings/es_case.map", datasets());
	snprintf(in, sizeof in, "%s/submissions/es_case/URY_2019.csv", datasets());
	mapping m;
	diag md;
	diag_init(&md, 4);
	long saved = fail_at;
	fail_at = -1; /* the mapping is op_mapping's business */
	int rc = mapping_load(path, &c->cl, &m, &md);
	fail_at = saved;
	diag_free(&md);
	assert_int_equal(rc, 0);
	static const unsigned char key[32] = {1, 2, 3};
	ingest_opts o;
	memset(&o, 0, sizeof o);
	o.input = in;
	o.output = c->out;
	o.m = &m;
	o.cl = &c->cl;
	o.pkey = key;
	o.period_override = -1;
	o.only_country = -1;
	o.threads = c->threads;
	o.chunk_size = c->chunk_size;
	ingest_stats st;
	rc = ingest_run(&o, &st, d);
	mapping_free(&m);
	if (rc == 0) {
		unlink(c->out);
		char man[300];
		snprintf(man, sizeof man, "%s.manifest", c->out);
		unlink(man);
	}
	return rc;
}

static void no_ingest_output(void *vc)
{
	ingest_ctx *c = vc;
	struct stat sb;
	assert_int_not_equal(stat(c->out, &sb), 0);
}

static int op_release(void *ctx, diag *d)
{
	const char *dir = ctx;
	rel_table t, back;
	rel_init(&t);
	memset(&back, 0, sizeof back); /* rel_read_dir initialises it */
	int rc = rel_set_name(&t, "alloc", d);
	if (!rc)
		rc = rel_set_protection(&t, REL_M_DP, 1, "", d);
	if (!rc)
		rc = rel_set_params(&t, "{\"rho\": 0.5, \"tables\": [1, 2]}", d);
	if (!rc)
		rc = rel_add_submission(&t, "AAA", "2022", 1, "1", d);
	for (int k = 0; k < 40 && !rc; k++) {
		cube_value v = {.lo = k, .hi = k, .n_countries = 1, .avail = 1};
		rel_row r;
		rel_row_from_cube(&r, REL_GEO_COUNTRY, "AAA", period_make(2022, 0), 0, k, &v);
		if (k % 3 == 0)
			rel_row_noisy(&r, k + 1, 2.5, 3.5);
		else if (k % 3 == 1)
			rel_row_suppress(&r, REL_PRIMARY);
		rc = rel_add_row(&t, &r, d);
	}
	if (!rc)
		rc = rel_write_dir(&t, dir, d);
	if (!rc)
		rc = rel_read_dir(dir, &back, d);
	rel_free(&t);
	rel_free(&back);
	char p[600];
	snprintf(p, sizeof p, "%s/release.csv", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/release.json", dir);
	unlink(p);
	return rc;
}

static int zero_noise(void *ctx, uint64_t num, uint64_t den, int64_t *out, diag *d)
{
	(void)ctx;
	(void)num;
	(void)den;
	(void)d;
	*out = 0;
	return 0;
}

static int op_cube(void *ctx, diag *d)
{
	const fixture *f = ctx;
	cube *c = NULL;
	if (cube_new(&f->cl, &c, d) != 0)
		return -1;
	int rc = 0;
	for (int q = 1; q <= 4 && !rc; q++) {
		long saved = fail_at; /* records: the cube's accumulation is below */
		fail_at = -1;
		fx_recs(c, AAA, 2022, q, 0, 1, 0, AAA, 3 + q);
		fx_recs(c, BBB, 2022, q, 1, 0, 1, BBB, 2);
		fx_recs(c, DDD, 2022, q, 1, 1, 1, DDD, 7);
		fail_at = saved;
	}
	if (!rc)
		rc = cube_finish(c, d);
	int64_t *raw = NULL;
	size_t n = 0;
	dpcube_result r = {0};
	cubesupp_result s = {0};
	if (!rc)
		rc = dpcube_measure(c, 1000000000u, zero_noise, NULL, &raw, &n, d);
	if (!rc)
		rc = dpcube_estimate(c, 1000000000u, raw, n, &r, d);
	cubesupp_params p;
	cubesupp_params_default(&p);
	p.threads = 1;
	if (!rc)
		rc = cubesupp_protect(c, &p, &s, d);
	free(raw);
	dpcube_result_free(&r);
	cubesupp_result_free(&s);
	cube_free(c);
	return rc;
}

/* --- tests ------------------------------------------------------------------ */

static void test_codelists(void **state)
{
	(void)state;
	assert_true(sweep("codelists_load", op_codelists, NULL, NULL) > 50);
}

static void test_mapping_and_ingest(void **state)
{
	(void)state;
	ingest_ctx c;
	diag d = DIAG_INIT;
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/codelists", datasets());
	assert_int_equal(codelists_load(dir, &c.cl, &d), 0);
	snprintf(c.out, sizeof c.out, "/tmp/tipstat-alloc-%ld.csv", (long)getpid());
	assert_true(sweep("mapping_load", op_mapping, &c, NULL) > 20);
	c.threads = 0;
	c.chunk_size = 0;
	assert_true(sweep("ingest_run", op_ingest, &c, no_ingest_output) > 20);
	/* the serial pass, and the threads with many small chunks (allocations
	 * on the worker threads too; the counter is then only approximately
	 * ordered, the checks hold whatever fails) */
	c.threads = 1;
	assert_true(sweep("ingest_run, threads = 1", op_ingest, &c, no_ingest_output) > 20);
	c.threads = 2;
	c.chunk_size = 2048;
	assert_true(sweep("ingest_run, threads = 2, small chunks", op_ingest, &c,
	                  no_ingest_output) > 20);
	codelists_free(&c.cl);
	diag_free(&d);
}

static void test_release(void **state)
{
	(void)state;
	char dir[256];
	snprintf(dir, sizeof dir, "/tmp/tipstat-alloc-rel-%ld", (long)getpid());
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_true(sweep("release write + read", op_release, dir, NULL) > 20);
	assert_int_equal(rmdir(dir), 0); /* and nothing was left in it */
}

static void test_cube_protection(void **state)
{
	(void)state;
	fixture *f = fx_new();
	assert_true(sweep("cube + dp + suppression", op_cube, f, NULL) > 20);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codelists),
		cmocka_unit_test(test_mapping_and_ingest),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_cube_protection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
