/* hcount: see hcount.h.  Packing: each of the seven values plus BIAS (so
 * the sentinels -1..-3 are small non-negative numbers) must fit W[i] bits;
 * the fields are laid out most significant first in key order, so packed
 * keys compare like keys.  Hash: splitmix64's finaliser of the packed key
 * (of the seven ints folded for the wide table); a slot is empty when its
 * count is 0 (hcount_add never stores a zero count). */
#include "ingest/hcount.h"

#include <stdlib.h>
#include <string.h>

#define NDIM 7
#define BIAS 4
/* country, period, indicator, sex, age, form, citizenship: 64 bits */
static const unsigned W[NDIM] = {10, 17, 7, 5, 8, 7, 10};

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void key_vals(const hcount_key *k, int v[NDIM])
{
	v[0] = k->country;
	v[1] = k->period;
	v[2] = k->indicator;
	v[3] = k->sex;
	v[4] = k->age;
	v[5] = k->form;
	v[6] = k->citizenship;
}

/* 0 and *p set, or -1 when a value does not fit its width.  Written out
 * field by field (constant shifts; a loop over W[] stayed a loop), same
 * layout as unpack() reads: country in the top bits, citizenship in the
 * bottom. */
static inline int pack(const hcount_key *k, uint64_t *p)
{
	uint64_t c = (uint64_t)((int64_t)k->country + BIAS),
	         pe = (uint64_t)((int64_t)k->period + BIAS),
	         in = (uint64_t)((int64_t)k->indicator + BIAS),
	         sx = (uint64_t)((int64_t)k->sex + BIAS),
	         ag = (uint64_t)((int64_t)k->age + BIAS),
	         fo = (uint64_t)((int64_t)k->form + BIAS),
	         ci = (uint64_t)((int64_t)k->citizenship + BIAS);
	uint64_t bad = (c >> 10) | (pe >> 17) | (in >> 7) | (sx >> 5) | (ag >> 8) | (fo >> 7) |
	               (ci >> 10);
	*p = c << 54 | pe << 37 | in << 30 | sx << 25 | ag << 17 | fo << 10 | ci;
	return bad ? -1 : 0;
}

static void unpack(uint64_t p, hcount_key *k)
{
	int v[NDIM];
	for (int i = NDIM - 1; i >= 0; i--) {
		v[i] = (int)(p & ((1ULL << W[i]) - 1)) - BIAS;
		p >>= W[i];
	}
	k->country = v[0];
	k->period = v[1];
	k->indicator = v[2];
	k->sex = v[3];
	k->age = v[4];
	k->form = v[5];
	k->citizenship = v[6];
}

static uint64_t wide_hash(const hcount_key *k)
{
	uint64_t h = (uint64_t)(uint32_t)k->country;
	h = mix(h ^ ((uint64_t)(uint32_t)k->period << 32));
	h = mix(h ^ (uint64_t)(uint32_t)k->indicator ^ ((uint64_t)(uint32_t)k->sex << 32));
	h = mix(h ^ (uint64_t)(uint32_t)k->age ^ ((uint64_t)(uint32_t)k->form << 32));
	return mix(h ^ (uint64_t)(uint32_t)k->citizenship);
}

static int key_eq(const hcount_key *a, const hcount_key *b)
{
	return a->country == b->country && a->period == b->period &&
	       a->indicator == b->indicator && a->sex == b->sex && a->age == b->age &&
	       a->form == b->form && a->citizenship == b->citizenship;
}

void hcount_key_of(const std_row *r, hcount_key *k)
{
	k->country = r->country;
	k->period = r->period;
	k->indicator = r->indicator;
	k->sex = r->sex;
	k->age = r->age_band >= 0 ? r->age_band : r->age;
	k->form = r->form;
	k->citizenship = r->citizenship;
}

static int grow_packed(hcount *t)
{
	size_t nc = t->cap ? t->cap * 2 : 256;
	hcount_pcell *ns = calloc(nc, sizeof *ns);
	if (!ns)
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->s[i].n) {
			size_t j = (size_t)mix(t->s[i].key) & (nc - 1);
			while (ns[j].n)
				j = (j + 1) & (nc - 1);
			ns[j] = t->s[i];
		}
	free(t->s);
	t->s = ns;
	t->cap = nc;
	return 0;
}

static int grow_wide(hcount *t)
{
	size_t nc = t->wcap ? t->wcap * 2 : 16;
	hcount_cell *ns = calloc(nc, sizeof *ns);
	if (!ns)
		return -1;
	for (size_t i = 0; i < t->wcap; i++)
		if (t->w[i].n) {
			size_t j = (size_t)wide_hash(&t->w[i].k) & (nc - 1);
			while (ns[j].n)
				j = (j + 1) & (nc - 1);
			ns[j] = t->w[i];
		}
	free(t->w);
	t->w = ns;
	t->wcap = nc;
	return 0;
}

static inline int add_packed(hcount *t, uint64_t key, uint64_t n)
{
	if (2 * (t->used + 1) > t->cap && grow_packed(t) != 0)
		return -1;
	size_t mask = t->cap - 1, i = (size_t)mix(key) & mask;
	hcount_pcell *s = t->s;
	while (s[i].n && s[i].key != key)
		i = (i + 1) & mask;
	if (!s[i].n) {
		s[i].key = key;
		t->used++;
	}
	s[i].n += n;
	return 0;
}

static int add_wide(hcount *t, const hcount_key *k, uint64_t n)
{
	if (2 * (t->wused + 1) > t->wcap && grow_wide(t) != 0)
		return -1;
	size_t i = (size_t)wide_hash(k) & (t->wcap - 1);
	while (t->w[i].n && !key_eq(&t->w[i].k, k))
		i = (i + 1) & (t->wcap - 1);
	if (!t->w[i].n) {
		t->w[i].k = *k;
		t->wused++;
	}
	t->w[i].n += n;
	return 0;
}

int hcount_add(hcount *t, const hcount_key *k, uint64_t n)
{
	if (!n)
		return 0;
	uint64_t p;
	if (pack(k, &p) == 0)
		return add_packed(t, p, n);
	return add_wide(t, k, n);
}

int hcount_merge(hcount *into, const hcount *from)
{
	for (size_t i = 0; i < from->cap; i++)
		if (from->s[i].n && add_packed(into, from->s[i].key, from->s[i].n) != 0)
			return -1;
	for (size_t i = 0; i < from->wcap; i++)
		if (from->w[i].n && add_wide(into, &from->w[i].k, from->w[i].n) != 0)
			return -1;
	return 0;
}

uint64_t hcount_total(const hcount *t)
{
	uint64_t n = 0;
	for (size_t i = 0; i < t->cap; i++)
		n += t->s[i].n;
	for (size_t i = 0; i < t->wcap; i++)
		n += t->w[i].n;
	return n;
}

size_t hcount_size(const hcount *t)
{
	return t->used + t->wused;
}

static int cell_cmp(const void *a, const void *b)
{
	int xv[NDIM], yv[NDIM];
	key_vals(&((const hcount_cell *)a)->k, xv);
	key_vals(&((const hcount_cell *)b)->k, yv);
	for (int i = 0; i < NDIM; i++)
		if (xv[i] != yv[i])
			return xv[i] < yv[i] ? -1 : 1;
	return 0;
}

static int pcell_cmp(const void *a, const void *b)
{
	uint64_t x = ((const hcount_pcell *)a)->key, y = ((const hcount_pcell *)b)->key;
	return x < y ? -1 : x > y;
}

int hcount_sorted(const hcount *t, hcount_cell **out, size_t *n)
{
	if (!t->wused) {
		/* packed keys only: their order is the key order, so sort the
		 * 16-byte cells on one integer, then unpack */
		hcount_pcell *p = malloc((t->used ? t->used : 1) * sizeof *p);
		*out = calloc(t->used ? t->used : 1, sizeof **out);
		if (!p || !*out) {
			free(p);
			free(*out);
			*out = NULL;
			return -1;
		}
		size_t k = 0;
		for (size_t i = 0; i < t->cap; i++)
			if (t->s[i].n)
				p[k++] = t->s[i];
		qsort(p, k, sizeof *p, pcell_cmp);
		for (size_t i = 0; i < k; i++) {
			unpack(p[i].key, &(*out)[i].k);
			(*out)[i].n = p[i].n;
		}
		free(p);
		*n = k;
		return 0;
	}
	size_t all = t->used + t->wused;
	*out = calloc(all ? all : 1, sizeof **out);
	if (!*out)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < t->cap; i++)
		if (t->s[i].n) {
			unpack(t->s[i].key, &(*out)[k].k);
			(*out)[k++].n = t->s[i].n;
		}
	for (size_t i = 0; i < t->wcap; i++)
		if (t->w[i].n) {
			(*out)[k].k = t->w[i].k;
			(*out)[k++].n = t->w[i].n;
		}
	qsort(*out, k, sizeof **out, cell_cmp);
	*n = k;
	return 0;
}

void hcount_clear(hcount *t)
{
	if (t->s)
		memset(t->s, 0, t->cap * sizeof *t->s);
	if (t->w)
		memset(t->w, 0, t->wcap * sizeof *t->w);
	t->used = t->wused = 0;
}

void hcount_free(hcount *t)
{
	free(t->s);
	free(t->w);
	memset(t, 0, sizeof *t);
}
