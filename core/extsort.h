/* extsort: sort byte strings in bounded memory.
 *
 * Canonical submissions must be in a stable sorted order, yet ingest must
 * stream a 10-million-row file in flat memory.  Items are collected in a
 * buffer of at most mem_limit bytes; a full buffer is sorted and spilled as
 * a run to an anonymous temporary file; extsort_next() then merges the runs
 * (or just walks the buffer when nothing was spilled).  Order: memcmp on
 * the common prefix, shorter first; equal items keep insertion order
 * (stable), so callers can detect duplicates as neighbours.
 *
 * Ownership: the sorter owns its buffers and temporaries; an item returned
 * by extsort_next() is valid until the next call.  extsort_free() removes
 * everything.
 */
#ifndef TIPSTAT_EXTSORT_H
#define TIPSTAT_EXTSORT_H

#include <stddef.h>
#include <stdint.h>
#include "core/diag.h"

typedef struct extsort extsort;

/* mem_limit: bytes of items held before a spill (minimum 64 KiB, at most
 * 1 GiB). */
int extsort_new(size_t mem_limit, extsort **out, diag *d);
int extsort_add(extsort *s, const void *item, size_t n, diag *d);
/* End of input: sort what is left.  No extsort_add() after this. */
int extsort_finish(extsort *s, diag *d);
/* 1 and the next item, 0 at the end, -1 on an I/O error. */
int extsort_next(extsort *s, const void **item, size_t *n, diag *d);
uint64_t extsort_count(const extsort *s);
size_t extsort_runs(const extsort *s);
void extsort_free(extsort *s);

#endif
