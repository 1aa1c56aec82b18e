/* hcount: counts of harmonised rows by the cube's dimensions.
 *
 * The group-by at the heart of "national file to cube": one count per
 * (country, period, indicator, sex, age, form, citizenship) of std_rows,
 * age being the finer band when there is one.  Counts are exact integers
 * and hcount_merge() adds one table into another, so partial counts made
 * anywhere (a chunk of a file on one thread, one office's pre-aggregate)
 * combine into exactly the count of the whole, in any order.
 *
 * An open-addressing hash table with linear probing, kept under half full.
 * Ownership: the table owns its array; hcount_free() releases it; a zeroed
 * struct is an empty table.
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

typedef struct hcount {
	hcount_cell *s;
	size_t cap, used;
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
/* The cells in key order (country, period, indicator, sex, age, form,
 * citizenship), a new array the caller frees; *n cells.  0 or -1. */
int hcount_sorted(const hcount *t, hcount_cell **out, size_t *n);
/* Empty the table, keeping its memory. */
void hcount_clear(hcount *t);
void hcount_free(hcount *t);

#endif
