/* cube_compare: build the cube of a warehouse both ways and compare them.
 *
 *   cube_compare WAREHOUSE     exit 0 when whcube's merge path and its
 *                              reference path (every record through the
 *                              external sort) give the same cube, cell for
 *                              cell, for the warehouse now and as of every
 *                              submission load in its audit log; exit 1 at
 *                              the first difference (printed); 2 on error.
 *
 * Why it exists: the merge path replaced a global sort for speed
 * (aggregator/whcube.h); tests/e2e/t_cube_merge.sh runs this on warehouses
 * built from the bundled submissions, so "the same cube as before" is
 * proved on real layouts and not only on the unit test's random data.
 * Reads the codelists from $TIPSTAT_DATASETS (or the installed default).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aggregator/whcube.h"
#include "core/codelist.h"

static int same(const cube *a, const whcube_info *ia, const cube *b, const whcube_info *ib,
                long long as_of, size_t *cells)
{
	if (ia->records != ib->records || memcmp(&ia->stats, &ib->stats, sizeof ia->stats)) {
		printf("as of %lld: statistics differ (records %llu vs %llu, duplicates %llu vs "
		       "%llu)\n", as_of, (unsigned long long)ia->records,
		       (unsigned long long)ib->records, (unsigned long long)ia->stats.records_duplicate,
		       (unsigned long long)ib->stats.records_duplicate);
		return 0;
	}
	cube_iter x, y;
	cube_iter_init(&x);
	cube_iter_init(&y);
	cube_cell ca, cb;
	*cells = 0;
	for (;;) {
		int ra = cube_next(a, &x, &ca), rb = cube_next(b, &y, &cb);
		if (ra != rb) {
			printf("as of %lld: the cubes have different numbers of cells\n", as_of);
			return 0;
		}
		if (!ra)
			return 1;
		if (ca.geo.kind != cb.geo.kind || ca.geo.index != cb.geo.index ||
		    ca.period != cb.period || ca.indicator != cb.indicator || ca.slot != cb.slot ||
		    ca.v.lo != cb.v.lo || ca.v.hi != cb.v.hi || ca.v.n_countries != cb.v.n_countries ||
		    ca.v.flags != cb.v.flags || ca.v.avail != cb.v.avail) {
			printf("as of %lld: cell %zu differs (geo %d/%d period %d indicator %d slot %d: "
			       "%lld..%lld vs %lld..%lld)\n", as_of, *cells, ca.geo.kind, ca.geo.index,
			       ca.period, ca.indicator, ca.slot, (long long)ca.v.lo, (long long)ca.v.hi,
			       (long long)cb.v.lo, (long long)cb.v.hi);
			return 0;
		}
		++*cells;
	}
}

/* 1 same, 0 different, -1 error. */
static int compare_at(wh *w, const codelists *cl, long long as_of)
{
	diag d;
	diag_init(&d, 10);
	cube *m = NULL, *e = NULL;
	whcube_info im, ie;
	int rc = -1;
	if (whcube_build_with(w, cl, as_of, 0, WHCUBE_MERGE, &m, &im, &d) != 0 ||
	    whcube_build_with(w, cl, as_of, 1u << 20, WHCUBE_EXTSORT, &e, &ie, &d) != 0) {
		fprintf(stderr, "cube_compare: as of %lld: %s\n", as_of, d.msg);
	} else {
		size_t cells = 0;
		rc = same(m, &im, e, &ie, as_of, &cells);
		if (rc == 1)
			printf("as of %lld: identical, %zu cells, %llu records (%llu re-reports "
			       "merged)\n", as_of, cells, (unsigned long long)im.records,
			       (unsigned long long)im.stats.records_duplicate);
	}
	cube_free(m);
	cube_free(e);
	whcube_info_free(&im);
	whcube_info_free(&ie);
	diag_free(&d);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: cube_compare WAREHOUSE\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 2;
	char dir[4096];
	codelists cl;
	diag d;
	diag_init(&d, 10);
	wh *w = NULL;
	int ret = 2;
	if (codelists_load(codelists_default_dir(dir, sizeof dir), &cl, &d) != 0) {
		fprintf(stderr, "cube_compare: %s\n", d.msg);
		diag_free(&d);
		return 2;
	}
	if (wh_open(argv[1], WH_READONLY, &w, &d) != 0) {
		fprintf(stderr, "cube_compare: %s\n", d.msg);
		goto out;
	}
	/* now, and just after every load */
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(wh_db(w), "SELECT audit_seq FROM submission WHERE audit_seq IS NOT "
	                       "NULL ORDER BY audit_seq", -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "cube_compare: %s\n", sqlite3_errmsg(wh_db(w)));
		goto out;
	}
	int r = compare_at(w, &cl, 0);
	while (r == 1 && sqlite3_step(st) == SQLITE_ROW)
		r = compare_at(w, &cl, sqlite3_column_int64(st, 0));
	ret = r == 1 ? 0 : r == 0 ? 1 : 2;
	sqlite3_finalize(st);
out:
	wh_close(w);
	codelists_free(&cl);
	diag_free(&d);
	return ret;
}
