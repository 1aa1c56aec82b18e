/* harm_count: tipstat's harmonise-and-count path, without the warehouse.
 *
 *   harm_count [-v] [-j THREADS] MAPPING FILE [PSEUDONYM_KEY]
 *
 * Counts FILE's rows by the cube's dimensions with ingest_count (the same
 * reading, validation, code mapping and minimisation as `tipstat ingest`,
 * on THREADS threads, default 2: chunks counted apart and the partial
 * counts merged exactly), then reports the groups of (country, quarter,
 * sex, age band, form): the group-by of the DuckDB and libcsv baselines
 * of `make bench`, but over harmonised codes.  With PSEUDONYM_KEY the
 * case ids are hashed as in ingest (the mapping must then have a case_id
 * column); without it the mapping must not have one (bench/run.sh derives
 * es_case_nokey.map, where id_caso is dropped as an identifier).  No sort,
 * no output file: this is the floor of "national file to cube counts"
 * inside tipstat.
 *
 * Prints "rows=<n> rejected=<n> groups=<n>" (-v: every group too).
 * Needs TIPSTAT_DATASETS (or the installed codelists).
 *
 * Build: like the other bench programs, against build/libtipstat.a:
 *   cc -O2 -I. bench/harm_count.c build/libtipstat.a \
 *      $(pkg-config --cflags --libs gsl libsodium sqlite3) -lcsv -lglpk -lm
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codelist.h"
#include "core/diag.h"
#include "core/period.h"
#include "ingest/harmonise.h"
#include "ingest/ingest.h"
#include "ingest/keys.h"
#include "ingest/mapping.h"

typedef struct slot {
	uint64_t key; /* 0 = empty */
	uint64_t n;
} slot;

typedef struct table {
	slot *s;
	size_t cap, used;
} table;

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static int t_add(table *t, uint64_t key, uint64_t n)
{
	if (2 * (t->used + 1) > t->cap) {
		size_t oc = t->cap, nc = oc ? oc * 2 : 4096;
		slot *ns = calloc(nc, sizeof *ns);
		if (!ns)
			return -1;
		for (size_t i = 0; i < oc; i++)
			if (t->s[i].key) {
				size_t j = (size_t)mix(t->s[i].key) & (nc - 1);
				while (ns[j].key)
					j = (j + 1) & (nc - 1);
				ns[j] = t->s[i];
			}
		free(t->s);
		t->s = ns;
		t->cap = nc;
	}
	size_t i = (size_t)mix(key) & (t->cap - 1);
	while (t->s[i].key && t->s[i].key != key)
		i = (i + 1) & (t->cap - 1);
	if (!t->s[i].key) {
		t->s[i].key = key;
		t->used++;
	}
	t->s[i].n += n;
	return 0;
}

/* The 5-dimension group of a harmonised count cell: 8 bits per dimension
 * (24 for the period), +8 so negative sentinels fit; bit 63 set so a key
 * is never 0. */
static uint64_t pack_cell(const hcount_key *k)
{
	uint64_t v = 1ULL << 63;
	v |= (uint64_t)(k->country + 8) << 48;
	v |= (uint64_t)(unsigned)k->period << 24;
	v |= (uint64_t)(k->sex + 8) << 16;
	v |= (uint64_t)(k->age + 8) << 8;
	v |= (uint64_t)(k->form + 8);
	return v;
}

int main(int argc, char **argv)
{
	int verbose = 0, threads = 2, a = 1;
	for (; a < argc && argv[a][0] == '-'; a++) {
		if (!strcmp(argv[a], "-v"))
			verbose = 1;
		else if (!strcmp(argv[a], "-j") && a + 1 < argc)
			threads = atoi(argv[++a]);
		else
			break;
	}
	if (argc - a < 2 || argc - a > 3 || threads < 1) {
		fprintf(stderr, "usage: harm_count [-v] [-j THREADS] MAPPING FILE [PSEUDONYM_KEY]\n");
		return 64;
	}
	const char *map_path = argv[a], *file = argv[a + 1];
	const char *key_path = argc - a == 3 ? argv[a + 2] : NULL;
	if (sodium_init() < 0)
		return 70;
	diag d;
	diag_init(&d, 20);
	codelists cl;
	char dir[4096];
	mapping m;
	memset(&m, 0, sizeof m);
	unsigned char *pkey = NULL;
	int rc = 1;
	table t = {0};
	ingest_counts ic;
	memset(&ic, 0, sizeof ic);
	if (codelists_load(codelists_default_dir(dir, sizeof dir), &cl, &d) != 0) {
		diag_print(&d, stderr, "harm_count");
		return 78;
	}
	if (mapping_load(map_path, &cl, &m, &d) != 0)
		goto out;
	if (key_path && keys_load_pseudonym(key_path, &pkey, &d) != 0)
		goto out;
	ingest_opts o;
	memset(&o, 0, sizeof o);
	o.input = file;
	o.m = &m;
	o.cl = &cl;
	o.pkey = pkey;
	o.period_override = -1;
	o.only_country = -1;
	o.threads = threads;
	if (ingest_count(&o, &ic, &d) != 0)
		goto out;
	hcount_cell *cells;
	size_t ncells;
	if (hcount_sorted(&ic.counts, &cells, &ncells) != 0)
		goto out;
	for (size_t i = 0; i < ncells; i++)
		if (t_add(&t, pack_cell(&cells[i].k), cells[i].n) != 0) {
			free(cells);
			goto out;
		}
	free(cells);
	printf("rows=%llu rejected=%llu groups=%zu\n", (unsigned long long)ic.rows_read,
	       (unsigned long long)ic.rows_rejected, t.used);
	for (size_t i = 0; verbose && i < t.cap; i++)
		if (t.s[i].key) {
			uint64_t k = t.s[i].key;
			char per[8];
			period_format((int)((k >> 24) & 0xffffff), per);
			int age = (int)((k >> 8) & 0xff) - 8;
			printf("%s|%s|%s|%s|%s %llu\n",
			       harm_code(&cl, MF_COUNTRY, (int)((k >> 48) & 0x7fff) - 8), per,
			       harm_code(&cl, MF_SEX, (int)((k >> 16) & 0xff) - 8),
			       harm_code(&cl, MF_AGE_GROUP, age),
			       harm_code(&cl, MF_FORM, (int)(k & 0xff) - 8), (unsigned long long)t.s[i].n);
		}
	rc = 0;
out:
	if (rc)
		diag_print(&d, stderr, "harm_count");
	free(t.s);
	ingest_counts_free(&ic);
	keys_free_pseudonym(pkey);
	mapping_free(&m);
	codelists_free(&cl);
	diag_free(&d);
	return rc;
}
