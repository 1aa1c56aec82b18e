/* kanon: k-anonymity (and optional l-diversity) for record-level releases.
 *
 * The way the Counter Trafficking Data Collaborative publishes case
 * records (k = 11): every combination of quasi-identifier values that is
 * published must be shared by at least k records.  Each quasi-identifier
 * has a generalisation hierarchy (quarter -> year -> all years; country
 * of citizenship -> subregion -> region -> any; age band -> 0-17/18+ ->
 * any; ...), given here as plain tables so this module knows nothing of
 * codelists: the caller builds them from datasets/.
 *
 * The search walks the whole generalisation lattice (one level per
 * quasi-identifier; a few hundred nodes for tipstat's hierarchies) and
 * keeps, among the nodes that reach k-anonymity after suppressing at most
 * `max_suppress` records (records in classes smaller than k, or without
 * l distinct sensitive values), the one with the least information loss.
 * Utility measure: the discernibility metric DM = sum over published
 * classes of |class|^2 plus n * (suppressed records), the standard
 * measure of Bayardo & Agrawal (2005); ties are broken by Sweeney's
 * precision loss (mean of level/height over quasi-identifiers), then by
 * the lattice order, so the choice is deterministic.
 * Every node is evaluated (one pass over the records with a hash table
 * each): the lattice is small and DM is not monotone in the lattice.
 *
 * Ownership: the caller owns records and hierarchies; kanon_result holds
 * the chosen levels and per-record keep flags (kanon_result_free).
 */
#ifndef TIPSTAT_KANON_H
#define TIPSTAT_KANON_H

#include <stddef.h>
#include <stdint.h>
#include "core/diag.h"

#define KANON_MAX_QI 8
#define KANON_MAX_LEVELS 6

/* One quasi-identifier's hierarchy: values are 0..n_values-1 at level 0;
 * gen[l][v] is the generalised value (an id at level l) of base value v.
 * Level 0 is the identity; the last level is usually "any" (one value). */
typedef struct kanon_hier {
	const char *name;                 /* e.g. "citizenship" */
	size_t n_values;                  /* base values */
	int n_levels;                     /* >= 1 (level 0 included) */
	const uint32_t *gen[KANON_MAX_LEVELS]; /* gen[0] may be NULL = identity */
	const char *level_names[KANON_MAX_LEVELS]; /* e.g. "country", "subregion" */
} kanon_hier;

typedef struct kanon_params {
	unsigned k;                       /* >= 2 */
	unsigned l;                       /* 0/1 = no l-diversity check */
	size_t max_suppress;              /* records that may be suppressed */
} kanon_params;

typedef struct kanon_result {
	int levels[KANON_MAX_QI];         /* chosen level per quasi-identifier */
	unsigned char *keep;              /* per record: 1 published, 0 suppressed */
	size_t n_published, n_suppressed;
	size_t n_classes, min_class;      /* among published classes */
	double discernibility;            /* DM of the chosen node */
	double precision_loss;            /* mean level/height, 0..1 */
	size_t nodes_evaluated, nodes_feasible;
} kanon_result;

/* qi: n_records x n_qi base values, row-major; sens: n_records sensitive
 * values (NULL when l <= 1).  Fails with EX_DATAERR (77 is for callers)
 * when no node of the lattice satisfies the parameters. */
int kanon_run(const uint32_t *qi, const uint32_t *sens, size_t n_records,
              const kanon_hier *hier, size_t n_qi, const kanon_params *p,
              kanon_result *out, diag *d);
void kanon_result_free(kanon_result *r);

/* Generalised value of base value v of hierarchy h at level l. */
static inline uint32_t kanon_gen(const kanon_hier *h, int l, uint32_t v)
{
	return (l == 0 || !h->gen[l]) ? v : h->gen[l][v];
}

#endif
