/* hmap: see hmap.h.  Load factor <= 1/2.  The hash takes the key 8 bytes
 * at a time (a multiply and a shift per word, splitmix64's finaliser at
 * the end) rather than FNV-1a's multiply per byte: every mapped field of
 * every row is looked up here, and the byte loop was 5% of
 * harmonise-and-count.  0 is remapped to 1 so that 0 can mark an empty
 * slot.  Nothing depends on the hash values or on the iteration order
 * (hmap_next's callers only count). */
#include "core/hmap.h"

#include <stdlib.h>
#include <string.h>

void hmap_init(hmap *h)
{
	memset(h, 0, sizeof *h);
}

void hmap_free(hmap *h)
{
	free(h->slots);
	free(h->keys);
	memset(h, 0, sizeof *h);
}

static uint64_t fmix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint64_t hkey(const char *k, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)n * 0xC2B2AE3D27D4EB4FULL);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, k + i, 8);
		h = (h ^ w) * 0x9FB21C651E98DF25ULL;
		h ^= h >> 29;
	}
	if (i < n) {
		/* the last 1-7 bytes with fixed-size loads (a memcpy of a variable
		 * length is a library call): the last 8 bytes when there are that
		 * many (overlapping the loop's), else two overlapping 4-byte
		 * loads, else first, middle and last byte.  The length is in the
		 * seed, so equal hashes still come only from equal keys or from
		 * real collisions. */
		uint64_t w;
		if (n >= 8) {
			memcpy(&w, k + n - 8, 8);
		} else if (n >= 4) {
			uint32_t lo, hi;
			memcpy(&lo, k, 4);
			memcpy(&hi, k + n - 4, 4);
			w = (uint64_t)lo | (uint64_t)hi << 32;
		} else {
			w = (uint64_t)(unsigned char)k[0] | (uint64_t)(unsigned char)k[n / 2] << 8 |
			    (uint64_t)(unsigned char)k[n - 1] << 16;
		}
		h = (h ^ w) * 0x9FB21C651E98DF25ULL;
		h ^= h >> 29;
	}
	h = fmix(h);
	return h ? h : 1;
}

static int grow(hmap *h)
{
	size_t nc = h->cap ? h->cap * 2 : 16;
	hmap_slot *ns = calloc(nc, sizeof *ns);
	if (!ns)
		return -1;
	for (size_t i = 0; i < h->cap; i++) {
		hmap_slot *s = &h->slots[i];
		if (!s->hash)
			continue;
		size_t j = s->hash & (nc - 1);
		while (ns[j].hash)
			j = (j + 1) & (nc - 1);
		ns[j] = *s;
	}
	free(h->slots);
	h->slots = ns;
	h->cap = nc;
	return 0;
}

/* a[0..n) == b[0..n) with fixed-size loads (no library call for the short
 * keys of codes; the hash has already matched, so this nearly always
 * succeeds): whole words, then the last word again, overlapping. */
static int key_eq(const char *a, const char *b, size_t n)
{
	if (n >= 8) {
		uint64_t x, y;
		for (size_t i = 0; i + 8 <= n; i += 8) {
			memcpy(&x, a + i, 8);
			memcpy(&y, b + i, 8);
			if (x != y)
				return 0;
		}
		memcpy(&x, a + n - 8, 8);
		memcpy(&y, b + n - 8, 8);
		return x == y;
	}
	if (n >= 4) {
		uint32_t x0, y0, x1, y1;
		memcpy(&x0, a, 4);
		memcpy(&y0, b, 4);
		memcpy(&x1, a + n - 4, 4);
		memcpy(&y1, b + n - 4, 4);
		return x0 == y0 && x1 == y1;
	}
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

static hmap_slot *find(const hmap *h, const char *k, size_t n, uint64_t hv)
{
	if (!h->cap)
		return NULL;
	size_t j = hv & (h->cap - 1);
	for (;;) {
		hmap_slot *s = &h->slots[j];
		if (!s->hash)
			return s;
		if (s->hash == hv && s->klen == n && key_eq(h->keys + s->koff, k, n))
			return s;
		j = (j + 1) & (h->cap - 1);
	}
}

int hmap_put(hmap *h, const char *key, size_t n, int64_t val, int64_t *old)
{
	if (n > UINT32_MAX)
		return -1;
	if ((h->n + 1) * 2 > h->cap && grow(h) != 0)
		return -1;
	uint64_t hv = hkey(key, n);
	hmap_slot *s = find(h, key, n, hv);
	if (!s)
		return -1; /* unreachable: grow() above guarantees a free slot */
	if (s->hash) {
		if (old)
			*old = s->val;
		return 1;
	}
	if (h->keys_len + n > h->keys_cap) {
		size_t nc = h->keys_cap ? h->keys_cap * 2 : 256;
		while (nc < h->keys_len + n)
			nc *= 2;
		if (nc > UINT32_MAX)
			return -1;
		char *nk = realloc(h->keys, nc);
		if (!nk)
			return -1;
		h->keys = nk;
		h->keys_cap = nc;
	}
	if (n)
		memcpy(h->keys + h->keys_len, key, n);
	s->hash = hv;
	s->koff = (uint32_t)h->keys_len;
	s->klen = (uint32_t)n;
	s->val = val;
	h->keys_len += n;
	h->n++;
	return 0;
}

int hmap_get(const hmap *h, const char *key, size_t n, int64_t *val)
{
	const hmap_slot *s = find(h, key, n, hkey(key, n));
	if (!s || !s->hash)
		return 0;
	if (val)
		*val = s->val;
	return 1;
}

int hmap_next(const hmap *h, size_t *it, const char **key, size_t *n, int64_t *val)
{
	while (*it < h->cap) {
		const hmap_slot *s = &h->slots[(*it)++];
		if (!s->hash)
			continue;
		if (key)
			*key = h->keys + s->koff;
		if (n)
			*n = s->klen;
		if (val)
			*val = s->val;
		return 1;
	}
	return 0;
}
