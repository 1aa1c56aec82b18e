/* kanon: see kanon.h.
 *
 * A node's equivalence classes are found by packing each record's
 * generalised quasi-identifiers into one 64-bit mixed-radix key and
 * counting keys in an open-addressing table that is reused (cleared) for
 * every node.  The sensitive values seen in a class are kept as a 64-bit
 * set, so l-diversity costs one OR per record. */
#include "privacy/kanon.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#define MAX_NODES 100000

typedef struct slot {
	uint64_t key;     /* key + 1; 0 = empty */
	uint64_t count;
	uint64_t sens;    /* bit set of sensitive values */
} slot;

typedef struct table {
	slot *s;
	size_t cap;       /* power of two */
} table;

static slot *tab_find(table *t, uint64_t key)
{
	uint64_t k1 = key + 1;
	size_t i = (size_t)((k1 * 0x9E3779B97F4A7C15ULL) >> 20) & (t->cap - 1);
	while (t->s[i].key && t->s[i].key != k1)
		i = (i + 1) & (t->cap - 1);
	t->s[i].key = k1;
	return &t->s[i];
}

typedef struct node_eval {
	double dm, prec;
	size_t suppressed, classes, min_class;
} node_eval;

static uint64_t record_key(const uint32_t *qi, const kanon_hier *h, size_t n_qi,
                           const int *lv, const uint64_t *radix)
{
	uint64_t key = 0;
	for (size_t q = 0; q < n_qi; q++)
		key += (uint64_t)kanon_gen(&h[q], lv[q], qi[q]) * radix[q];
	return key;
}

static void evaluate(const uint32_t *qi, const uint32_t *sens, size_t n,
                     const kanon_hier *h, size_t n_qi, const kanon_params *p,
                     const int *lv, const uint64_t *radix, table *t, node_eval *e)
{
	memset(t->s, 0, t->cap * sizeof *t->s);
	for (size_t r = 0; r < n; r++) {
		slot *s = tab_find(t, record_key(qi + r * n_qi, h, n_qi, lv, radix));
		s->count++;
		if (sens)
			s->sens |= 1ULL << (sens[r] & 63);
	}
	memset(e, 0, sizeof *e);
	e->min_class = SIZE_MAX;
	for (size_t i = 0; i < t->cap; i++) {
		slot *s = &t->s[i];
		if (!s->key)
			continue;
		int diverse = p->l <= 1 || (unsigned)__builtin_popcountll(s->sens) >= p->l;
		if (s->count < p->k || !diverse) {
			e->suppressed += s->count;
		} else {
			e->classes++;
			e->dm += (double)s->count * (double)s->count;
			if (s->count < e->min_class)
				e->min_class = s->count;
		}
	}
	e->dm += (double)e->suppressed * (double)n;
	double pl = 0;
	for (size_t q = 0; q < n_qi; q++)
		pl += h[q].n_levels > 1 ? (double)lv[q] / (h[q].n_levels - 1) : 0;
	e->prec = n_qi ? pl / (double)n_qi : 0;
	if (!e->classes)
		e->min_class = 0;
}

static int check_inputs(const uint32_t *qi, const uint32_t *sens, size_t n,
                        const kanon_hier *h, size_t n_qi, const kanon_params *p,
                        uint64_t *radix, diag *d)
{
	if (n_qi == 0 || n_qi > KANON_MAX_QI)
		return diag_fail(d, EX_USAGE, "k-anonymity needs 1 to %d quasi-identifiers",
		                 KANON_MAX_QI);
	if (p->k < 2)
		return diag_fail(d, EX_USAGE, "k must be at least 2");
	if (p->l > 1 && !sens)
		return diag_fail(d, EX_USAGE, "l-diversity needs a sensitive attribute");
	uint64_t prod = 1;
	for (size_t q = 0; q < n_qi; q++) {
		if (h[q].n_levels < 1 || h[q].n_levels > KANON_MAX_LEVELS || h[q].n_values == 0)
			return diag_fail(d, EX_USAGE, "hierarchy '%s' is malformed", h[q].name);
		radix[q] = prod;
		if (prod > UINT64_MAX / h[q].n_values)
			return diag_fail(d, EX_USAGE, "too many quasi-identifier combinations");
		prod *= h[q].n_values;
		for (int l = 1; l < h[q].n_levels; l++)
			for (size_t v = 0; h[q].gen[l] && v < h[q].n_values; v++)
				if (h[q].gen[l][v] >= h[q].n_values)
					return diag_fail(d, EX_USAGE, "hierarchy '%s' level %d maps value "
					                 "%zu out of range", h[q].name, l, v);
	}
	for (size_t r = 0; r < n; r++) {
		for (size_t q = 0; q < n_qi; q++)
			if (qi[r * n_qi + q] >= h[q].n_values)
				return diag_fail(d, EX_DATAERR, "record %zu: %s value out of range", r,
				                 h[q].name);
		if (sens && p->l > 1 && sens[r] >= 64)
			return diag_fail(d, EX_DATAERR, "record %zu: sensitive value >= 64", r);
	}
	return 0;
}

int kanon_run(const uint32_t *qi, const uint32_t *sens, size_t n, const kanon_hier *h,
              size_t n_qi, const kanon_params *p, kanon_result *out, diag *d)
{
	uint64_t radix[KANON_MAX_QI];
	memset(out, 0, sizeof *out);
	if (check_inputs(qi, sens, n, h, n_qi, p, radix, d) != 0)
		return -1;
	size_t nodes = 1;
	for (size_t q = 0; q < n_qi; q++)
		nodes *= (size_t)h[q].n_levels;
	if (nodes > MAX_NODES)
		return diag_fail(d, EX_USAGE, "generalisation lattice too large (%zu nodes)", nodes);
	table t = {0};
	t.cap = 16;
	while (t.cap < 2 * n + 2)
		t.cap *= 2;
	t.s = malloc(t.cap * sizeof *t.s);
	out->keep = malloc(n ? n : 1);
	if (!t.s || !out->keep) {
		free(t.s);
		kanon_result_free(out);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	int lv[KANON_MAX_QI] = {0}, best[KANON_MAX_QI] = {0};
	node_eval be = {0};
	int have = 0;
	for (size_t node = 0; node < nodes; node++) {
		size_t x = node;
		for (size_t q = 0; q < n_qi; q++) {
			lv[q] = (int)(x % (size_t)h[q].n_levels);
			x /= (size_t)h[q].n_levels;
		}
		node_eval e;
		evaluate(qi, sens, n, h, n_qi, p, lv, radix, &t, &e);
		out->nodes_evaluated++;
		if (e.suppressed > p->max_suppress)
			continue;
		out->nodes_feasible++;
		if (!have || e.dm < be.dm || (e.dm == be.dm && e.prec < be.prec)) {
			be = e;
			memcpy(best, lv, sizeof lv);
			have = 1;
		}
	}
	if (!have) {
		free(t.s);
		kanon_result_free(out);
		return diag_fail(d, EX_DATAERR,
		                 "no generalisation reaches k=%u%s with at most %zu records "
		                 "suppressed", p->k, p->l > 1 ? " and the l-diversity" : "",
		                 p->max_suppress);
	}
	/* final pass at the chosen node: mark the records to publish */
	evaluate(qi, sens, n, h, n_qi, p, best, radix, &t, &be);
	for (size_t r = 0; r < n; r++) {
		slot *s = tab_find(&t, record_key(qi + r * n_qi, h, n_qi, best, radix));
		int diverse = p->l <= 1 || (unsigned)__builtin_popcountll(s->sens) >= p->l;
		out->keep[r] = s->count >= p->k && diverse;
	}
	memcpy(out->levels, best, sizeof best);
	out->n_suppressed = be.suppressed;
	out->n_published = n - be.suppressed;
	out->n_classes = be.classes;
	out->min_class = be.min_class;
	out->discernibility = be.dm;
	out->precision_loss = be.prec;
	free(t.s);
	return 0;
}

void kanon_result_free(kanon_result *r)
{
	free(r->keep);
	r->keep = NULL;
}
