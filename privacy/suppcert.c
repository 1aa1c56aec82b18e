/* suppcert: see suppcert.h.  The checker keeps two dense deviation arrays
 * (zero outside the certificate being checked) so that each constraint
 * touching a moved cell is summed once, in time proportional to the
 * certificate's moves and their constraints; the arrays are cleared again
 * from the move list, never by a pass over the table. */
#include "privacy/suppcert.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

void scert_init(scert_set *s)
{
	memset(s, 0, sizeof *s);
}

void scert_free(scert_set *s)
{
	free(s->base);
	free(s->c);
	free(s->mcell);
	free(s->mup);
	free(s->mdn);
	memset(s, 0, sizeof *s);
}

int scert_set_base(scert_set *s, const int64_t *x, size_t n, diag *d)
{
	int64_t *b = malloc((n ? n : 1) * sizeof *b);
	if (!b)
		return diag_fail(d, EX_OSERR, "suppcert: out of memory");
	if (n)
		memcpy(b, x, n * sizeof *b);
	free(s->base);
	s->base = b;
	s->n_cells = n;
	return 0;
}

int scert_add(scert_set *s, uint32_t cell, const uint32_t *cells, const int64_t *up,
              const int64_t *dn, size_t n, diag *d)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? 2 * s->cap : 64;
		scert *q = realloc(s->c, nc * sizeof *q);
		if (!q)
			return diag_fail(d, EX_OSERR, "suppcert: out of memory");
		s->c = q;
		s->cap = nc;
	}
	if (s->n_moves + n > s->cap_moves) {
		size_t nc = s->cap_moves ? 2 * s->cap_moves : 256;
		while (nc < s->n_moves + n)
			nc *= 2;
		uint32_t *mc = realloc(s->mcell, nc * sizeof *mc);
		if (mc)
			s->mcell = mc;
		int64_t *mu = mc ? realloc(s->mup, nc * sizeof *mu) : NULL;
		if (mu)
			s->mup = mu;
		int64_t *md = mu ? realloc(s->mdn, nc * sizeof *md) : NULL;
		if (!md)
			return diag_fail(d, EX_OSERR, "suppcert: out of memory");
		s->mdn = md;
		s->cap_moves = nc;
	}
	if (n) {
		memcpy(s->mcell + s->n_moves, cells, n * sizeof *cells);
		memcpy(s->mup + s->n_moves, up, n * sizeof *up);
		memcpy(s->mdn + s->n_moves, dn, n * sizeof *dn);
	}
	s->c[s->n++] = (scert){cell, s->n_moves, n};
	s->n_moves += n;
	return 0;
}

const char *scert_verdict_str(int v)
{
	switch (v) {
	case SCERT_OK: return "valid";
	case SCERT_BASE: return "base table inconsistent with the table";
	case SCERT_NOT_PRIMARY: return "not a primary cell";
	case SCERT_BAD_CELL: return "moves a cell that does not exist";
	case SCERT_REPEATED: return "lists a cell twice";
	case SCERT_KNOWN: return "moves a cell the attacker knows";
	case SCERT_BOUNDS: return "leaves a cell's known bounds";
	case SCERT_CONSTRAINT: return "breaks a constraint";
	case SCERT_TOO_LITTLE: return "moves the cell too little";
	default: return "unknown verdict";
	}
}

struct scert_checker {
	const sdct_table *t;
	const scert_set *s;
	int base_ok;
	int64_t *dup, *ddn;        /* deviations of the certificate being checked */
	uint8_t *listed;
	uint32_t *rowmark;         /* constraints summed (stamp) */
	uint32_t stamp;
};

/* Is the base a table of the true values' kind? */
static int base_ok(const sdct_table *t, const scert_set *s)
{
	if (!s->base || s->n_cells != t->n_cells)
		return 0;
	for (size_t j = 0; j < t->n_cells; j++)
		if (s->base[j] < t->cells[j].lo || s->base[j] > t->cells[j].hi)
			return 0;
	for (size_t r = 0; r < t->n_cons; r++) {
		int64_t sum = s->base[t->con_total[r]];
		for (uint32_t e = t->con_start[r]; e < t->con_start[r + 1]; e++)
			sum -= s->base[t->con_parts[e]];
		if (sum)
			return 0;
	}
	return 1;
}

int scert_checker_new(const sdct_table *t, const scert_set *s, scert_checker **out, diag *d)
{
	*out = NULL;
	if (!t->finalized)
		return diag_fail(d, EX_SOFTWARE, "suppcert: table not finalized");
	scert_checker *k = calloc(1, sizeof *k);
	size_t n = t->n_cells ? t->n_cells : 1;
	if (k) {
		k->dup = calloc(n, sizeof *k->dup);
		k->ddn = calloc(n, sizeof *k->ddn);
		k->listed = calloc(n, 1);
		k->rowmark = calloc(t->n_cons + 1, sizeof *k->rowmark);
	}
	if (!k || !k->dup || !k->ddn || !k->listed || !k->rowmark) {
		scert_checker_free(k);
		return diag_fail(d, EX_OSERR, "suppcert: out of memory");
	}
	k->t = t;
	k->s = s;
	k->base_ok = base_ok(t, s);
	*out = k;
	return 0;
}

void scert_checker_free(scert_checker *k)
{
	if (!k)
		return;
	free(k->dup);
	free(k->ddn);
	free(k->listed);
	free(k->rowmark);
	free(k);
}

/* What the attacker knows of cell j: [lo, hi], hi = INT64_MAX for none. */
static void known(const sdct_cell *c, int64_t *lo, int64_t *hi)
{
	if (c->status == SDCT_PUBLISHED || (c->flags & SDCT_F_PUBLIC_BOUNDS)) {
		*lo = c->lo;
		*hi = c->hi >= SDCT_HUGE ? INT64_MAX : c->hi;
	} else {
		*lo = 0;
		*hi = INT64_MAX;
	}
}

static int verdict(scert_checker *k, const scert *c)
{
	const sdct_table *t = k->t;
	const scert_set *s = k->s;
	/* every moved cell: an unknown, kept within what is known of it */
	for (size_t q = 0; q < c->n; q++) {
		uint32_t j = s->mcell[c->off + q];
		int64_t u = s->mup[c->off + q], w = s->mdn[c->off + q];
		if (!u && !w)
			continue;
		const sdct_cell *cl = &t->cells[j];
		if (cl->status == SDCT_PUBLISHED && cl->lo == cl->hi)
			return SCERT_KNOWN;
		int64_t lo, hi, x = s->base[j];
		known(cl, &lo, &hi);
		/* x is within [cl->lo, cl->hi], so the differences cannot overflow
		 * for moves of sensible size; reject absurd ones first */
		if (u > INT64_MAX / 4 || u < -(INT64_MAX / 4) || w > INT64_MAX / 4 ||
		    w < -(INT64_MAX / 4))
			return SCERT_BOUNDS;
		if (x + u < lo || x + w < lo || (hi != INT64_MAX && (x + u > hi || x + w > hi)))
			return SCERT_BOUNDS;
	}
	/* every constraint touching a moved cell adds up in both tables */
	for (size_t q = 0; q < c->n; q++) {
		uint32_t j = s->mcell[c->off + q];
		if (!k->dup[j] && !k->ddn[j])
			continue;
		for (uint32_t e = t->cell_start[j]; e < t->cell_start[j + 1]; e++) {
			uint32_t r = t->cell_cons[e];
			if (k->rowmark[r] == k->stamp)
				continue;
			k->rowmark[r] = k->stamp;
			int64_t su = k->dup[t->con_total[r]], sd = k->ddn[t->con_total[r]];
			for (uint32_t p = t->con_start[r]; p < t->con_start[r + 1]; p++) {
				su -= k->dup[t->con_parts[p]];
				sd -= k->ddn[t->con_parts[p]];
			}
			if (su || sd)
				return SCERT_CONSTRAINT;
		}
	}
	/* the requirement of the primary cell */
	const sdct_cell *ci = &t->cells[c->cell];
	int64_t a = s->base[c->cell] + k->ddn[c->cell], b = s->base[c->cell] + k->dup[c->cell];
	if (a > ci->req_lo || b < ci->req_hi)
		return SCERT_TOO_LITTLE;
	if (b - a < ci->req_width)
		return SCERT_TOO_LITTLE;
	return SCERT_OK;
}

int scert_check(scert_checker *k, size_t idx, int64_t *lo, int64_t *hi)
{
	const sdct_table *t = k->t;
	const scert_set *s = k->s;
	if (!k->base_ok)
		return SCERT_BASE;
	if (idx >= s->n)
		return SCERT_BAD_CELL;
	const scert *c = &s->c[idx];
	if (c->cell >= t->n_cells || t->cells[c->cell].status != SDCT_PRIMARY)
		return SCERT_NOT_PRIMARY;
	/* scatter the moves, refusing unknown and repeated cells */
	size_t q, placed = 0;
	int v = SCERT_OK;
	for (q = 0; q < c->n; q++, placed++) {
		uint32_t j = s->mcell[c->off + q];
		if (j >= t->n_cells) {
			v = SCERT_BAD_CELL;
			break;
		}
		if (k->listed[j]) {
			v = SCERT_REPEATED;
			break;
		}
		k->listed[j] = 1;
		k->dup[j] = s->mup[c->off + q];
		k->ddn[j] = s->mdn[c->off + q];
	}
	if (v == SCERT_OK) {
		if (++k->stamp == 0) {
			memset(k->rowmark, 0, (t->n_cons + 1) * sizeof *k->rowmark);
			k->stamp = 1;
		}
		v = verdict(k, c);
	}
	if (v == SCERT_OK) {
		int64_t a = s->base[c->cell] + k->ddn[c->cell], b = s->base[c->cell] + k->dup[c->cell];
		if (lo)
			*lo = a;
		if (hi)
			*hi = b;
	}
	for (q = 0; q < placed; q++) {
		uint32_t j = s->mcell[c->off + q];
		k->listed[j] = 0;
		k->dup[j] = k->ddn[j] = 0;
	}
	return v;
}
