/* Unit tests for aggregator/whcube: the cube built from warehouse contents.
 *
 * Two hand-written canonical submissions of one country share a case key
 * across a year boundary: the person must count once (at the first
 * appearance), a keyless record always counts, an indicator a manifest
 * declares without rows is a zero (not missing), and a resubmission
 * (version 2) replaces version 1 for the cube while --as-of rebuilds the
 * earlier state exactly.  Expected values are worked out by hand below. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "aggregator/auditlog.h"
#include "aggregator/whcube.h"
#include "core/period.h"
#include "core/text.h"
#include "wh_fixture.h"

static codelists cl;
static char dir[64];

static int setup(void **state)
{
	(void)state;
	char cdir[4096];
	diag d;
	diag_init(&d, 10);
	int rc = codelists_load(codelists_default_dir(cdir, sizeof cdir), &cl, &d);
	diag_free(&d);
	snprintf(dir, sizeof dir, "/tmp/whcube.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	codelists_free(&cl);
	return fx_rm_tree(dir);
}


static int64_t total(const cube *c, int geo_kind, int geo_index, int period, const char *ind)
{
	int g = cube_geo_find(c, geo_kind, geo_index);
	assert_true(g >= 0);
	cube_value v;
	assert_int_equal(cube_get(c, g, period, cl_find(&cl.indicators, ind, strlen(ind)),
	                          CUBE_S_TOTAL, &v), 0);
	if (!v.avail)
		return -1;
	assert_int_equal(v.lo, v.hi);
	return v.lo;
}

static void test_dedup_zero_and_supersession(void **state)
{
	(void)state;
	char db[128];
	snprintf(db, sizeof db, "%s/w.db", dir);
	wh *w;
	diag d;
	diag_init(&d, 10);
	assert_int_equal(wh_open(db, WH_CREATE, &w, &d), 0);
	/* 2023-Q4: persons FX_K1, FX_K2; 2024-Q1: FX_K1 again (counted in
	 * 2023-Q4 already), FX_K3, one keyless */
	fx_load_aut(w, dir);
	int64_t seq_v1;
	char hx[AUDIT_HEX];
	assert_int_equal(audit_head(wh_db(w), &seq_v1, hx, &d), 0);
	cube *c;
	whcube_info info;
	assert_int_equal(whcube_build(w, &cl, 0, 0, &c, &info, &d), 0);
	int aut = cl_find_country(&cl, "AUT", 3);
	assert_int_equal(total(c, CUBE_GEO_COUNTRY, aut, period_make(2023, 4), "VIC"), 2);
	assert_int_equal(total(c, CUBE_GEO_COUNTRY, aut, period_make(2024, 1), "VIC"), 2);
	/* SUS declared by both manifests, no rows: zero, not missing */
	assert_int_equal(total(c, CUBE_GEO_COUNTRY, aut, period_make(2024, 1), "SUS"), 0);
	assert_int_equal(total(c, CUBE_GEO_WORLD, 0, period_make(2024, 1), "VIC"), 2);
	assert_int_equal(info.records, 5);
	assert_int_equal(info.stats.records_duplicate, 1);
	/* a boy of 17 among girls: the SEXAGE slot of M x Y_GE18 has FX_K2 only */
	int g = cube_geo_find(c, CUBE_GEO_COUNTRY, aut);
	cube_value v;
	cube_get(c, g, period_make(2023, 4), 0, CUBE_SLOT_SEXAGE(CUBE_SEX_M, CUBE_AGE_ADULT), &v);
	assert_int_equal(v.lo, 1);
	cube_get(c, g, period_make(2024, 1), 0, CUBE_S_CIT + CUBE_CIT_OTHERREG, &v);
	assert_int_equal(v.lo, 1); /* NGA: another region than AUT's */
	cube_free(c);
	whcube_info_free(&info);
	/* version 2 of 2024-Q1 drops the keyless record */
	fx_load(w, dir, "b2", "\"2024-Q1\"", "2024-Q1",
	     FX_HDR "AUT,2024-Q1,VIC,F,Y_GE18,,SEX,NGA," FX_K3 "\n", 2);
	assert_int_equal(whcube_build(w, &cl, 0, 0, &c, &info, &d), 0);
	assert_int_equal(total(c, CUBE_GEO_COUNTRY, aut, period_make(2024, 1), "VIC"), 1);
	cube_free(c);
	whcube_info_free(&info);
	/* as of the earlier state: the release built then is rebuilt exactly */
	assert_int_equal(whcube_build(w, &cl, seq_v1, 0, &c, &info, &d), 0);
	assert_int_equal(total(c, CUBE_GEO_COUNTRY, aut, period_make(2024, 1), "VIC"), 2);
	cube_free(c);
	whcube_info_free(&info);
	wh_close(w);
	diag_free(&d);
}

static void test_empty_warehouse(void **state)
{
	(void)state;
	char db[128];
	snprintf(db, sizeof db, "%s/empty.db", dir);
	wh *w;
	diag d;
	diag_init(&d, 10);
	assert_int_equal(wh_open(db, WH_CREATE, &w, &d), 0);
	cube *c;
	whcube_info info;
	assert_int_equal(whcube_build(w, &cl, 0, 0, &c, &info, &d), -1);
	assert_non_null(strstr(d.msg, "no submission"));
	assert_null(c);
	whcube_info_free(&info);
	wh_close(w);
	diag_free(&d);
}

/* --- the merge path against the reference sort ------------------------------- */

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)((rnd_state >> 33) % n);
}

static int line_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	const char *kx = strrchr(x, ',') + 1, *ky = strrchr(y, ',') + 1;
	int ex = *kx == '\n', ey = *ky == '\n';
	if (ex != ey)
		return ex ? 1 : -1;
	int c = strcmp(kx, ky);
	return c ? c : strcmp(x, y);
}

/* Load a random canonical records submission of country for the given
 * periods: keys from a small pool (so persons recur across periods,
 * indicators and submissions), a share keyless. */
static void load_random(wh *w, const char *name, const char *country, const char *const *per,
                        size_t nper, uint32_t v, size_t nrows)
{
	static const char *inds[] = {"VIC", "SUS", "PROS"};
	static const char *sex[] = {"F", "M", "U"};
	static const char *age[][2] = {{"Y0T17", ""}, {"Y_GE18", "Y25T34"}, {"Y_GE18", ""}, {"U", ""}};
	static const char *form[] = {"SEX", "LAB", "U"};
	static const char *cit[] = {"AUT", "DEU", "ROU", "NGA", "U"};
	char **lines = calloc(nrows, sizeof *lines);
	assert_non_null(lines);
	size_t n = 0;
	for (size_t i = 0; i < nrows; i++) {
		char key[33] = "";
		if (rnd(5)) {
			unsigned k = rnd(40);
			for (int j = 0; j < 32; j++)
				key[j] = "0123456789abcdef"[(k * 7 + (unsigned)j * (k % 5 + 1)) % 16];
		}
		const char *p = per[rnd((unsigned)nper)], *in = inds[rnd(3)];
		unsigned a = rnd(4);
		char l[160];
		snprintf(l, sizeof l, "%s,%s,%s,%s,%s,%s,%s,%s,%s\n", country, p, in, sex[rnd(3)],
		         age[a][0], age[a][1], form[rnd(3)], cit[rnd(5)], key);
		/* one (key, period, indicator) per file */
		int dup = 0;
		size_t pre = strlen(country) + 1 + strlen(p) + 1 + strlen(in) + 1;
		for (size_t j = 0; j < n && !dup && *key; j++)
			dup = !strncmp(lines[j], l, pre) &&
			      !strcmp(strrchr(l, ',') + 1, strrchr(lines[j], ',') + 1);
		if (dup)
			continue;
		lines[n] = strdup(l);
		assert_non_null(lines[n]);
		n++;
	}
	qsort(lines, n, sizeof *lines, line_cmp);
	size_t cap = 128 + n * 160;
	char *data = malloc(cap), pj[512] = "", ps[512] = "";
	assert_non_null(data);
	size_t off = (size_t)snprintf(data, cap, "%s", FX_HDR);
	for (size_t i = 0; i < n; i++) {
		off += (size_t)snprintf(data + off, cap - off, "%s", lines[i]);
		free(lines[i]);
	}
	free(lines);
	for (size_t i = 0; i < nper; i++) {
		snprintf(pj + strlen(pj), sizeof pj - strlen(pj), "%s\"%s\"", i ? ", " : "", per[i]);
		snprintf(ps + strlen(ps), sizeof ps - strlen(ps), "%s%s", i ? "," : "", per[i]);
	}
	char dp[256], mp[256];
	snprintf(dp, sizeof dp, "%s/%s", dir, name);
	snprintf(mp, sizeof mp, "%s/%s.manifest", dir, name);
	fx_write_sub(dp, mp, country, pj, "\"VIC\", \"SUS\", \"PROS\"", data);
	free(data);
	wh_submission_meta meta = {.actor = "test", .country = country, .periods = ps,
	                           .version = v, .kind = WH_RECORDS};
	fx_load_files(w, &meta, dp, mp);
}

/* Both cubes cell for cell, and the same statistics. */
static void assert_same_cube(const cube *a, const whcube_info *ia, const cube *b,
                             const whcube_info *ib)
{
	assert_int_equal(ia->records, ib->records);
	assert_memory_equal(&ia->stats, &ib->stats, sizeof ia->stats);
	assert_int_equal(cube_n_geo(a), cube_n_geo(b));
	assert_int_equal(cube_n_periods(a), cube_n_periods(b));
	cube_iter x, y;
	cube_iter_init(&x);
	cube_iter_init(&y);
	cube_cell ca, cb;
	size_t n = 0, nonzero = 0;
	for (;;) {
		int ra = cube_next(a, &x, &ca), rb = cube_next(b, &y, &cb);
		assert_int_equal(ra, rb);
		if (!ra)
			break;
		assert_int_equal(ca.geo.kind, cb.geo.kind);
		assert_int_equal(ca.geo.index, cb.geo.index);
		assert_int_equal(ca.period, cb.period);
		assert_int_equal(ca.indicator, cb.indicator);
		assert_int_equal(ca.slot, cb.slot);
		assert_int_equal(ca.v.lo, cb.v.lo);
		assert_int_equal(ca.v.hi, cb.v.hi);
		assert_int_equal(ca.v.n_countries, cb.v.n_countries);
		assert_int_equal(ca.v.flags, cb.v.flags);
		assert_int_equal(ca.v.avail, cb.v.avail);
		n++;
		nonzero += ca.v.avail && ca.v.lo > 0;
	}
	assert_true(n > 1000);
	assert_true(nonzero > 100);
}

static void build3(wh *w, int64_t as_of, int expect_merge_ok)
{
	diag d;
	diag_init(&d, 10);
	cube *cm = NULL, *ce = NULL, *ca = NULL;
	whcube_info im, ie, ia;
	assert_int_equal(whcube_build_with(w, &cl, as_of, 4096, WHCUBE_EXTSORT, &ce, &ie, &d), 0);
	assert_int_equal(whcube_build_with(w, &cl, as_of, 0, WHCUBE_AUTO, &ca, &ia, &d), 0);
	assert_same_cube(ce, &ie, ca, &ia);
	/* the run-of-one-key dedup really happened */
	assert_true(ie.stats.records_duplicate > 10);
	assert_true(ie.stats.records_keyless > 10);
	if (expect_merge_ok) {
		assert_int_equal(whcube_build_with(w, &cl, as_of, 0, WHCUBE_MERGE, &cm, &im, &d), 0);
		assert_same_cube(ce, &ie, cm, &im);
		cube_free(cm);
		whcube_info_free(&im);
	} else {
		assert_int_equal(whcube_build_with(w, &cl, as_of, 0, WHCUBE_MERGE, &cm, &im, &d), -1);
		assert_int_equal(d.code, EX_DATAERR);
		assert_non_null(strstr(d.msg, "canonical order"));
		assert_null(cm);
		whcube_info_free(&im);
	}
	cube_free(ce);
	cube_free(ca);
	whcube_info_free(&ie);
	whcube_info_free(&ia);
	diag_free(&d);
}

static void test_merge_equals_sort(void **state)
{
	(void)state;
	char db[128];
	snprintf(db, sizeof db, "%s/m.db", dir);
	wh *w;
	diag d;
	diag_init(&d, 10);
	assert_int_equal(wh_open(db, WH_CREATE, &w, &d), 0);
	static const char *y22[] = {"2022-Q1", "2022-Q2", "2022-Q3", "2022-Q4"};
	static const char *y23[] = {"2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4"};
	static const char *q23[] = {"2023-Q2", "2023-Q3"};
	static const char *a24[] = {"2024"};
	load_random(w, "a22", "AUT", y22, 4, 1, 900);
	load_random(w, "a23", "AUT", y23, 4, 1, 900);
	load_random(w, "a24", "AUT", a24, 1, 1, 300);
	load_random(w, "d22", "DEU", y22, 4, 1, 700);
	load_random(w, "d23", "DEU", y23, 4, 1, 700);
	int64_t seq1;
	char hx[AUDIT_HEX];
	assert_int_equal(audit_head(wh_db(w), &seq1, hx, &d), 0);
	/* a resubmission of two quarters: AUT 2023 is then read from two
	 * submissions, each only for its own periods */
	load_random(w, "a23v2", "AUT", q23, 2, 2, 500);
	build3(w, 0, 1);
	build3(w, seq1, 1);
	/* a stored submission put out of key order (by hand, past the
	 * immutability trigger): the merge refuses it, AUTO falls back to the
	 * sort and still agrees with it */
	assert_int_equal(sqlite3_exec(wh_db(w),
	                              "DROP TRIGGER record_block_no_update; "
	                              "UPDATE record_block SET data = CAST("
	                              "substr(CAST(data AS TEXT), 1, instr(CAST(data AS TEXT), "
	                              "char(10)) - 33) || 'ffffffffffffffffffffffffffffffff' || "
	                              "substr(CAST(data AS TEXT), instr(CAST(data AS TEXT), char(10)))"
	                              " AS BLOB) WHERE submission_id = 2 AND first_line = 2",
	                              NULL, NULL, NULL), SQLITE_OK);
	build3(w, 0, 0);
	wh_close(w);
	diag_free(&d);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dedup_zero_and_supersession),
		cmocka_unit_test(test_empty_warehouse),
		cmocka_unit_test(test_merge_equals_sort),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
