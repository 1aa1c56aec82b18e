/* hcount: counts of harmonised rows by the cube's dimensions.
 *
 * The group-by at the heart of "national file to cube": one count per
 * (country, period, indicator, sex, age, form, citizenship) of std_rows,
 * age being the finer band when there is one.  Counts are exact integers
 * and hcount_merge() adds one table into another, so partial counts made
 * anywhere (a chunk of a file on one thread, one office's pre-aggregate)
 * combine into exactly the count of the whole, in any order.
 *
 * Shaped for the hot loop of harmonise-and-count (issue 7): every key whose
 * seven values fit their bit widths (all real codes and sentinels do:
 * codelist indices, STD_* sentinels, packed periods up to year 13106) is
 * packed into one 64-bit word, in an open-addressing table of 16-byte cells
 * (key, count) with linear probing, kept under half full: a file's few
 * thousand groups stay inside the L2 cache.  The packing keeps key order
 * (biased values, country in the top bits), so a packed key's order is the
 * key order.  A key with a value outside its width (a codelist far larger
 * than today's, a corrupt value) is not refused: it goes to a second,
 * checked table of full keys with the same probing, so the counts are
 * exact whatever the values.
 *
 * Ownership: the table owns its arrays; hcount_free() releases them; a
 * zeroed struct is an empty table.  The fields are private to hcount.c:
 * read the cells through hcount_sorted().
 */
#ifndef TIPSTAT_HCOUNT_H
#define TIPSTAT_HCOUNT_H

#include <stddef.h>
#include <stdint.h>
#include "ingest/harmonise.h"

typedef struct hcount_key {
	int country, period, indicator, sex, age, form, citizenship;
} hcount_key;

typedef struct hcount_cell {
	hcount_key k;
	uint64_t n;      /* 0 = empty slot */
} hcount_cell;

typedef struct hcount_pcell {
	uint64_t key;    /* the packed key */
	uint64_t n;      /* 0 = empty slot */
} hcount_pcell;

typedef struct hcount {
	hcount_pcell *s;        /* keys that pack */
	size_t cap, used;
	hcount_cell *w;         /* keys that do not (rare) */
	size_t wcap, wused;
} hcount;

/* The key of a row. */
void hcount_key_of(const std_row *r, hcount_key *k);
/* Add n to k's count.  0, or -1 when out of memory (table unchanged). */
int hcount_add(hcount *t, const hcount_key *k, uint64_t n);
/* Add every count of from to into.  0, or -1 out of memory (into then
 * holds part of from: callers fail the whole count). */
int hcount_merge(hcount *into, const hcount *from);
/* Total of all counts. */
uint64_t hcount_total(const hcount *t);
/* Number of distinct keys counted. */
size_t hcount_size(const hcount *t);
/* The cells in key order (country, period, indicator, sex, age, form,
 * citizenship), a new array the caller frees; *n cells (padding bytes
 * zeroed, so two results compare with memcmp).  0 or -1. */
int hcount_sorted(const hcount *t, hcount_cell **out, size_t *n);
/* Empty the table, keeping its memory. */
void hcount_clear(hcount *t);
void hcount_free(hcount *t);

#endif
