/* hmap: a string -> integer hash map (open addressing, linear probing).
 *
 * The codelists, the harmoniser's value maps and the aggregator's indexes
 * are all "short string to small integer" lookups done once per field on
 * the ingest hot path, so the map stores keys inline in one arena and
 * never allocates on lookup.  Keys are byte strings (not necessarily
 * NUL-terminated); the map copies them.
 *
 * Ownership: hmap_free() releases the table and its key copies.
 */
#ifndef TIPSTAT_HMAP_H
#define TIPSTAT_HMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct hmap_slot {
	uint64_t hash;    /* 0 = empty slot */
	uint32_t koff, klen; /* key bytes in keys[] */
	int64_t val;
} hmap_slot;

typedef struct hmap {
	hmap_slot *slots;
	size_t cap, n;    /* cap is a power of two */
	char *keys;
	size_t keys_len, keys_cap;
} hmap;

void hmap_init(hmap *h);
void hmap_free(hmap *h);
/* Insert key -> val.  Returns 0 when inserted, 1 when the key was already
 * present (its value is left unchanged and *old, if non-NULL, receives it),
 * -1 when out of memory. */
int hmap_put(hmap *h, const char *key, size_t n, int64_t val, int64_t *old);
/* 1 and *val when found, 0 when absent. */
int hmap_get(const hmap *h, const char *key, size_t n, int64_t *val);
/* Iterate: for (size_t i = 0; hmap_next(h, &i, &k, &kn, &v);) ... */
int hmap_next(const hmap *h, size_t *it, const char **key, size_t *n, int64_t *val);

#endif
