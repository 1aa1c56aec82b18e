/* hcount: see hcount.h.  Hash: the seven ints folded through splitmix64's
 * finaliser; a slot is empty when its count is 0 (hcount_add never stores
 * a zero count). */
#include "ingest/hcount.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint64_t key_hash(const hcount_key *k)
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

static int grow(hcount *t)
{
	size_t nc = t->cap ? t->cap * 2 : 256;
	hcount_cell *ns = calloc(nc, sizeof *ns);
	if (!ns)
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->s[i].n) {
			size_t j = (size_t)key_hash(&t->s[i].k) & (nc - 1);
			while (ns[j].n)
				j = (j + 1) & (nc - 1);
			ns[j] = t->s[i];
		}
	free(t->s);
	t->s = ns;
	t->cap = nc;
	return 0;
}

int hcount_add(hcount *t, const hcount_key *k, uint64_t n)
{
	if (!n)
		return 0;
	if (2 * (t->used + 1) > t->cap && grow(t) != 0)
		return -1;
	size_t i = (size_t)key_hash(k) & (t->cap - 1);
	while (t->s[i].n && !key_eq(&t->s[i].k, k))
		i = (i + 1) & (t->cap - 1);
	if (!t->s[i].n) {
		t->s[i].k = *k;
		t->used++;
	}
	t->s[i].n += n;
	return 0;
}

int hcount_merge(hcount *into, const hcount *from)
{
	for (size_t i = 0; i < from->cap; i++)
		if (from->s[i].n && hcount_add(into, &from->s[i].k, from->s[i].n) != 0)
			return -1;
	return 0;
}

uint64_t hcount_total(const hcount *t)
{
	uint64_t n = 0;
	for (size_t i = 0; i < t->cap; i++)
		n += t->s[i].n;
	return n;
}

static int cell_cmp(const void *a, const void *b)
{
	const hcount_key *x = &((const hcount_cell *)a)->k, *y = &((const hcount_cell *)b)->k;
	const int xv[7] = {x->country, x->period, x->indicator, x->sex, x->age, x->form,
	                   x->citizenship};
	const int yv[7] = {y->country, y->period, y->indicator, y->sex, y->age, y->form,
	                   y->citizenship};
	for (int i = 0; i < 7; i++)
		if (xv[i] != yv[i])
			return xv[i] < yv[i] ? -1 : 1;
	return 0;
}

int hcount_sorted(const hcount *t, hcount_cell **out, size_t *n)
{
	*out = malloc((t->used ? t->used : 1) * sizeof **out);
	if (!*out)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < t->cap; i++)
		if (t->s[i].n)
			(*out)[k++] = t->s[i];
	qsort(*out, k, sizeof **out, cell_cmp);
	*n = k;
	return 0;
}

void hcount_clear(hcount *t)
{
	if (t->s)
		memset(t->s, 0, t->cap * sizeof *t->s);
	t->used = 0;
}

void hcount_free(hcount *t)
{
	free(t->s);
	memset(t, 0, sizeof *t);
}
