/* Allocation failure inside SQLite: every allocation SQLite makes while
 * tipstat opens a warehouse, accepts a submission, builds the cube and
 * charges the privacy ledger, made to fail in turn.
 *
 * test_alloc fails tipstat's own allocations through -Wl,--wrap; SQLite is
 * a shared library whose calls to malloc that cannot reach.  SQLite has its
 * own hook instead: sqlite3_config(SQLITE_CONFIG_MALLOC) before
 * sqlite3_initialize() installs the allocator below, which passes through
 * to SQLite's default one except for the k-th xMalloc/xRealloc of a run.
 *
 * For k = 0, 1, 2, ... on a fresh copy of the same warehouse: the sequence
 * must either succeed (SQLite absorbed the failure) or stop with -1 and a
 * diag carrying an exit code and a message; never crash or leak (the
 * valgrind and ASan runs check that).  Afterwards the warehouse, reopened
 * with the allocator failing nothing, must pass PRAGMA integrity_check and
 * the audit chain check, and hold exactly what the steps that succeeded
 * wrote: a load that failed stored nothing, a charge that failed spent
 * nothing.  Under valgrind (TIPSTAT_UNDER_VALGRIND, scripts/valgrind.sh)
 * every 29th k is tried and the full sweep runs in `make check`/`make asan`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "aggregator/auditlog.h"
#include "aggregator/warehouse.h"
#include "aggregator/whcube.h"
#include "core/codelist.h"
#include "core/text.h"
#include "privacy/ledger.h"
#include "wh_fixture.h"

/* --- the failing allocator (test-global: SQLite's hook has no context) ---- */

static sqlite3_mem_methods real_mem;
static long fail_at = -1; /* index of the allocation to fail, -1 = none */
static long n_alloc;      /* xMalloc/xRealloc calls in this run */

static int fail_now(void)
{
	return fail_at >= 0 && n_alloc++ == fail_at;
}

static void *fa_malloc(int n)
{
	return fail_now() ? NULL : real_mem.xMalloc(n);
}

static void *fa_realloc(void *p, int n)
{
	return fail_now() ? NULL : real_mem.xRealloc(p, n);
}

/* --- fixture ---------------------------------------------------------------- */

static codelists cl;
static char dir[64], base_db[128], work_db[128], data_b[128], man_b[160];

static int copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	int ok = in && out;
	char buf[65536];
	size_t n;
	while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
		ok = fwrite(buf, 1, n, out) == n;
	if (in)
		fclose(in);
	if (out && fclose(out))
		ok = 0;
	return ok ? 0 : -1;
}

static void fresh_work_db(void)
{
	char p[160];
	static const char *const sfx[] = {"-wal", "-shm", "-journal"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", work_db, sfx[i]);
		unlink(p);
	}
	assert_int_equal(copy_file(base_db, work_db), 0);
}

static int setup(void **state)
{
	(void)state;
	char cdir[4096];
	diag d = DIAG_INIT;
	if (codelists_load(codelists_default_dir(cdir, sizeof cdir), &cl, &d))
		return -1;
	/* a few thousand warehouse copies, each synced by SQLite: in memory
	 * when the machine has a /dev/shm */
	snprintf(dir, sizeof dir, "%s/tipstat-sqlalloc.XXXXXX",
	         access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(base_db, sizeof base_db, "%s/base.db", dir);
	snprintf(work_db, sizeof work_db, "%s/work.db", dir);
	snprintf(data_b, sizeof data_b, "%s/b.csv", dir);
	snprintf(man_b, sizeof man_b, "%s/b.csv.manifest", dir);
	/* the base warehouse: one submission (2023-Q4) and a budget */
	char da[128], ma[160];
	snprintf(da, sizeof da, "%s/a.csv", dir);
	snprintf(ma, sizeof ma, "%s/a.csv.manifest", dir);
	fx_write_sub(da, ma, "AUT", "\"2023-Q4\"", "\"VIC\"",
	             FX_HDR "AUT,2023-Q4,VIC,F,Y0T17,,SEX,AUT," FX_K1 "\n"
	                    "AUT,2023-Q4,VIC,M,Y_GE18,Y25T34,LAB,ROU," FX_K2 "\n");
	fx_write_sub(data_b, man_b, "AUT", "\"2024-Q1\"", "\"VIC\"",
	             FX_HDR "AUT,2024-Q1,VIC,F,Y0T17,,SEX,AUT," FX_K1 "\n"
	                    "AUT,2024-Q1,VIC,F,Y_GE18,,SEX,NGA," FX_K3 "\n"
	                    "AUT,2024-Q1,VIC,U,U,,U,U,\n");
	wh *w;
	int rc = wh_open(base_db, WH_CREATE, &w, &d);
	wh_submission_meta m = fx_meta("2023-Q4", 1);
	if (!rc)
		rc = wh_load_submission(w, &m, da, ma, NULL, &d);
	if (!rc)
		rc = ledger_set_total(wh_db(w), "test", "releases", LEDGER_MAX_UNITS / 2, &d);
	if (!rc)
		wh_close(w);
	if (rc)
		print_error("setup: %s\n", d.msg);
	diag_free(&d);
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	codelists_free(&cl);
	return fx_rm_tree(dir);
}

/* --- the operation and its check ------------------------------------------- */

/* Open, load b, build the cube, charge the ledger; returns the step that
 * failed (1-4) or 0. */
static int run_steps(diag *d)
{
	wh *w = NULL;
	if (wh_open(work_db, 0, &w, d))
		return 1;
	int step = 0;
	wh_submission_meta m = fx_meta("2024-Q1", 1);
	if (wh_load_submission(w, &m, data_b, man_b, NULL, d))
		step = 2;
	cube *c = NULL;
	whcube_info info;
	memset(&info, 0, sizeof info);
	if (!step && whcube_build(w, &cl, 0, 0, &c, &info, d))
		step = 3;
	cube_free(c);
	whcube_info_free(&info); /* filled even when the build fails */
	if (!step && ledger_charge(wh_db(w), "test", "releases", "rel1", 1000, NULL, NULL, d))
		step = 4;
	wh_close(w);
	return step;
}

/* The warehouse after a run: intact, and holding what the steps before the
 * failed one wrote (failed 0: all of them). */
static void check_after(int failed)
{
	wh *w;
	diag d = DIAG_INIT;
	if (wh_open(work_db, 0, &w, &d))
		fail_msg("reopen after a failed step %d: %s", failed, d.msg);
	sqlite3 *db = wh_db(w);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	audit_report r;
	if (audit_verify(db, 0, NULL, &r, &d))
		fail_msg("audit chain after a failed step %d: %s", failed, r.msg);
	int loaded = failed == 0 || failed > 2;
	assert_int_equal(fx_count(db, "SELECT count(*) FROM submission"), loaded ? 2 : 1);
	int64_t total, spent;
	assert_int_equal(ledger_get(db, "releases", &total, &spent, &d), 0);
	assert_int_equal(spent, failed == 0 ? 1000 : 0);
	wh_close(w);
	diag_free(&d);
}

static void test_sqlite_alloc_sweep(void **state)
{
	(void)state;
	/* the run without failures: how many allocations it makes */
	fresh_work_db();
	diag d = DIAG_INIT;
	n_alloc = 0;
	fail_at = 1L << 40;
	int step = run_steps(&d);
	long total = n_alloc;
	fail_at = -1;
	if (step)
		fail_msg("the sequence fails without injected faults (step %d): %s", step, d.msg);
	diag_free(&d);
	check_after(0);
	assert_true(total > 100);

	const char *vg = getenv("TIPSTAT_UNDER_VALGRIND");
	long stride = vg && *vg ? 29 : 1;
	long failed_at_step[5] = {0}, absorbed = 0, nomem_msgs = 0;
	for (long k = 0; k < total + 20; k += stride) {
		fresh_work_db();
		diag_init(&d, 4);
		n_alloc = 0;
		fail_at = k;
		step = run_steps(&d);
		fail_at = -1;
		if (step) {
			if (d.code == 0 || !d.msg[0])
				fail_msg("allocation %ld failed in step %d: -1 without exit code or message", k,
				         step);
			nomem_msgs += strstr(d.msg, "memory") != NULL;
			failed_at_step[step]++;
		} else {
			absorbed++;
		}
		diag_free(&d);
		check_after(step);
	}
	print_message("sqlite allocations per run: %ld; failures: open %ld, load %ld, cube %ld, "
	              "charge %ld (%ld say 'memory'); absorbed by SQLite: %ld\n",
	              total, failed_at_step[1], failed_at_step[2], failed_at_step[3],
	              failed_at_step[4], nomem_msgs, absorbed);
	/* each step was hit */
	for (int s = 1; s <= 4; s++)
		assert_true(failed_at_step[s] > 0);
}

int main(void)
{
	sqlite3_mem_methods m;
	if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real_mem) != SQLITE_OK)
		return 1;
	m = real_mem;
	m.xMalloc = fa_malloc;
	m.xRealloc = fa_realloc;
	if (sqlite3_config(SQLITE_CONFIG_MALLOC, &m) != SQLITE_OK || sqlite3_initialize() != SQLITE_OK)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sqlite_alloc_sweep),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
