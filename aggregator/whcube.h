/* whcube: build the aggregation cube from the warehouse.
 *
 * The one place where stored submissions become cube input: the latest
 * version of every (country, period) as of an audit sequence number (0 =
 * now), so a release can be rebuilt exactly later from the seq it recorded.
 *
 * Why it is shaped so:
 *  - Records must reach the cube in cube_record_cmp order (a person who
 *    appears in two submissions, e.g. two years, counts once).  Each
 *    submission is stored sorted by case key, so the submissions of a
 *    country are read once each, in file order, and merged by key; only
 *    one person's rows are held at a time, so memory stays bounded
 *    whatever the number of records (whcube_build_with has the old
 *    global external sort as the reference and the fallback).
 *  - Every (country, period, indicator) a submission covered is declared
 *    (from its manifest's "indicators"), so a quarter without any victim is
 *    a zero, not a gap.
 *  - Codes are resolved through the codelists once per distinct string
 *    (small caches), not once per row.
 *
 * Ownership: *out is a new cube (cube_free); info->parts is malloc'd
 * (whcube_info_free).  The codelists must outlive the cube.
 */
#ifndef TIPSTAT_WHCUBE_H
#define TIPSTAT_WHCUBE_H

#include <stddef.h>
#include <stdint.h>
#include "aggregator/cube.h"
#include "aggregator/warehouse.h"
#include "core/codelist.h"
#include "core/diag.h"

typedef struct whcube_info {
	wh_part *parts;            /* the (submission, period) slices used */
	size_t n_parts;
	int64_t as_of_seq;         /* audit head the cube reflects */
	char as_of_hash[65];       /* its hash (hex) */
	uint64_t records, cells;   /* rows read */
	cube_stats stats;
} whcube_info;

/* Build and finish the cube of the latest submissions as of audit entry
 * as_of_seq (0 = now).  sort_mem bytes for sorting records (0 = 16 MiB).
 * An empty warehouse is an error (EX_DATAERR: nothing to aggregate). */
int whcube_build(wh *w, const codelists *cl, int64_t as_of_seq, size_t sort_mem,
                 cube **out, whcube_info *info, diag *d);
void whcube_info_free(whcube_info *info);

/* How records reach the cube (whcube_build uses WHCUBE_AUTO):
 *  - WHCUBE_MERGE: one pass over each submission, the submissions of a
 *    country merged by case key (each is stored in canonical order,
 *    sorted by case key: docs/standard.md), every key's few rows put in
 *    cube_record_cmp order in memory.  No sort of all records.  A stored
 *    submission out of key order is EX_DATAERR.
 *  - WHCUBE_EXTSORT: every record through core/extsort (the reference:
 *    slower, any stored order).
 *  - WHCUBE_AUTO: the merge, and the sort when a submission turns out
 *    not to be in key order.
 * All give the same cube (tests/unit/test_whcube.c compares them). */
enum whcube_method { WHCUBE_AUTO = 0, WHCUBE_MERGE = 1, WHCUBE_EXTSORT = 2 };
int whcube_build_with(wh *w, const codelists *cl, int64_t as_of_seq, size_t sort_mem,
                      int method, cube **out, whcube_info *info, diag *d);

/* The case-level records of the given parts as harmonised rows (codes
 * resolved through the codelists, case key kept), part by part in file
 * order.  fn returns 0 to go on or -1 (having set d) to stop. */
typedef int (*whcube_row_fn)(void *ctx, const std_row *r, diag *d);
int whcube_each_record(wh *w, const codelists *cl, const wh_part *parts, size_t n,
                       whcube_row_fn fn, void *ctx, diag *d);

#endif
