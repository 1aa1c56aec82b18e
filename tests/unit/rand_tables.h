/* rand_tables: random hierarchical cross tables for the property tests of
 * the suppression modules.  Deterministic (a fixed-seed xorshift: test
 * data, not privacy randomness).  Each dimension is a root, optionally a
 * level of groups, and leaves; leaf values are a mix of zeros, small
 * counts (1..4), larger counts and, optionally, censored cells published
 * by the country as [0, 4] (public bounds).  Totals are the sums of the
 * leaves (sdct_cross_sum_leaves).  Header only, static functions.
 */
#ifndef TIPSTAT_TEST_RAND_TABLES_H
#define TIPSTAT_TEST_RAND_TABLES_H

#include <stdint.h>
#include <stdio.h>
#include "privacy/sdc_table.h"

typedef struct rt_rng { uint64_t s; } rt_rng;

static uint64_t rt_next(rt_rng *r)
{
	uint64_t x = r->s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	r->s = x;
	return x;
}

static uint32_t rt_below(rt_rng *r, uint32_t n)
{
	return (uint32_t)(rt_next(r) % n);
}

#define RT_MAXCODES 24

typedef struct rt_dim {
	size_t n;
	char names[RT_MAXCODES][16];
	const char *codes[RT_MAXCODES];
	int32_t parent[RT_MAXCODES];
} rt_dim;

/* A dimension with `groups` groups (0: leaves directly under the root) of
 * 2..max_leaves leaves each. */
static void rt_make_dim(rt_rng *r, rt_dim *dm, char tag, uint32_t groups, uint32_t max_leaves)
{
	dm->n = 0;
	snprintf(dm->names[dm->n], 16, "%cT", tag);
	dm->parent[dm->n++] = -1;
	uint32_t ng = groups ? groups : 1;
	for (uint32_t g = 0; g < ng; g++) {
		int32_t par = 0;
		if (groups) {
			snprintf(dm->names[dm->n], 16, "%cG%u", tag, g);
			par = (int32_t)dm->n;
			dm->parent[dm->n++] = 0;
		}
		uint32_t nl = 2 + rt_below(r, max_leaves - 1);
		for (uint32_t l = 0; l < nl && dm->n < RT_MAXCODES; l++) {
			snprintf(dm->names[dm->n], 16, "%c%u.%u", tag, g, l);
			dm->parent[dm->n++] = par;
		}
	}
	for (size_t k = 0; k < dm->n; k++)
		dm->codes[k] = dm->names[k];
}

/* Build a random table with n_dims (1..3) dimensions.  p_small, p_zero,
 * p_cens: percentages of leaves that are small, zero, censored [0,4]. */
static int rt_build(sdct_table *t, rt_rng *r, size_t n_dims, unsigned p_small, unsigned p_zero,
                    unsigned p_cens, diag *d)
{
	rt_dim dm[3];
	sdct_dim sd[3];
	for (size_t k = 0; k < n_dims; k++) {
		uint32_t groups = rt_below(r, 3); /* 0, 1 or 2 levels of groups */
		rt_make_dim(r, &dm[k], (char)('a' + k), groups == 0 ? 0 : groups, n_dims == 3 ? 3 : 4);
		sd[k].name = dm[k].names[0];
		sd[k].n_codes = dm[k].n;
		sd[k].codes = dm[k].codes;
		sd[k].parent = dm[k].parent;
	}
	sdct_init(t);
	if (sdct_cross_init(t, sd, n_dims, d))
		return -1;
	for (uint32_t c = 0; c < t->n_cells; c++) {
		if (!sdct_cross_is_leaf(t, c))
			continue;
		uint32_t u = rt_below(r, 100);
		int64_t lo, hi;
		unsigned fl = 0;
		if (u < p_zero) {
			lo = hi = 0;
		} else if (u < p_zero + p_small) {
			lo = hi = 1 + rt_below(r, 4);
		} else if (u < p_zero + p_small + p_cens) {
			lo = 0;
			hi = 4;
			fl = SDCT_F_PUBLIC_BOUNDS;
		} else {
			lo = hi = 5 + rt_below(r, 60);
		}
		if (sdct_set_value(t, c, lo, hi, fl, d))
			return -1;
	}
	if (sdct_cross_sum_leaves(t, d))
		return -1;
	return sdct_finalize(t, d);
}

#endif
