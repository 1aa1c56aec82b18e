/* csv_baseline: the libcsv baselines of `make bench`.
 *
 *   csv_baseline parse FILE      raw csv_parse over 256 KiB blocks, empty
 *                                callbacks (only counts fields and rows)
 *   csv_baseline groupby FILE    the group-by of the DuckDB baseline:
 *                                count(*) by (country, year-quarter, sex,
 *                                age band, form) over an es_case-layout
 *                                file (bench/gen_big.c), raw values as in
 *                                the file, in a small open-addressing map
 *
 * parse prints "rows=<n> fields=<n> bytes=<n>"; groupby prints
 * "rows=<n> groups=<n> bytes=<n>" and, with -v before the mode, every
 * group.  The column positions are those of es_case.map: country 1,
 * fecha_registro 2 (DD/MM/YYYY), sexo 6, edad 7, finalidad 9 (0-based);
 * the header row is skipped.  This is what a hand-written C tool does
 * with no validation, no harmonisation and no pseudonyms: the floor that
 * tipstat's ingest is compared against.  (bench/csvparse_bench.c measures
 * what core/csvr adds on top of raw libcsv.)
 *
 * Build: cc -O2 -o csv_baseline bench/csv_baseline.c -lcsv
 */
#include <csv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct group {
	char key[96];
	size_t klen;
	unsigned long n;
} group;

typedef struct st {
	unsigned long rows, fields;
	size_t col;
	/* group-by state */
	char country[32], date[16], sex[8], age[8], form[64];
	size_t lc, ld, ls, la, lf;
	group *tab;
	size_t cap, used;
} st;

static void cb_parse_field(void *s, size_t n, void *data)
{
	(void)s;
	(void)n;
	((st *)data)->fields++;
}

static void cb_parse_row(int c, void *data)
{
	(void)c;
	((st *)data)->rows++;
}

static void keep(char *dst, size_t cap, size_t *len, const void *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	*len = n;
}

static void cb_gb_field(void *s, size_t n, void *data)
{
	st *t = data;
	switch (t->col++) {
	case 1: keep(t->country, sizeof t->country, &t->lc, s, n); break;
	case 2: keep(t->date, sizeof t->date, &t->ld, s, n); break;
	case 6: keep(t->sex, sizeof t->sex, &t->ls, s, n); break;
	case 7: keep(t->age, sizeof t->age, &t->la, s, n); break;
	case 9: keep(t->form, sizeof t->form, &t->lf, s, n); break;
	default: break;
	}
}

static uint64_t fnv(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static const char *age_band(const char *s, size_t n)
{
	if (!n)
		return "U";
	int a = 0;
	for (size_t i = 0; i < n; i++)
		a = a * 10 + (s[i] - '0');
	static const int lim[] = {4, 9, 14, 17, 24, 34, 44, 54, 64};
	static const char *const nm[] = {"0-4",   "5-9",   "10-14", "15-17", "18-24",
	                                 "25-34", "35-44", "45-54", "55-64", "65+"};
	for (int i = 0; i < 9; i++)
		if (a <= lim[i])
			return nm[i];
	return nm[9];
}

static void grow(st *t);

static void add(st *t, const char *k, size_t n)
{
	if (2 * (t->used + 1) > t->cap)
		grow(t);
	size_t i = (size_t)fnv(k, n) & (t->cap - 1);
	while (t->tab[i].klen) {
		if (t->tab[i].klen == n && !memcmp(t->tab[i].key, k, n)) {
			t->tab[i].n++;
			return;
		}
		i = (i + 1) & (t->cap - 1);
	}
	memcpy(t->tab[i].key, k, n);
	t->tab[i].klen = n;
	t->tab[i].n = 1;
	t->used++;
}

static void grow(st *t)
{
	group *old = t->tab;
	size_t oc = t->cap;
	t->cap = oc ? oc * 2 : 1024;
	t->tab = calloc(t->cap, sizeof *t->tab);
	if (!t->tab) {
		perror("calloc");
		exit(71);
	}
	t->used = 0;
	for (size_t i = 0; i < oc; i++)
		if (old[i].klen) {
			size_t j = (size_t)fnv(old[i].key, old[i].klen) & (t->cap - 1);
			while (t->tab[j].klen)
				j = (j + 1) & (t->cap - 1);
			t->tab[j] = old[i];
			t->used++;
		}
	free(old);
}

static void cb_gb_row(int c, void *data)
{
	(void)c;
	st *t = data;
	t->col = 0;
	if (t->rows++ == 0)
		return; /* header */
	char k[96];
	int q = 0;
	if (t->ld == 10)
		q = ((t->date[3] - '0') * 10 + (t->date[4] - '0') + 2) / 3;
	int n = snprintf(k, sizeof k, "%.*s|%.4s-Q%d|%.*s|%s|%.*s", (int)t->lc, t->country,
	                 t->ld == 10 ? t->date + 6 : "????", q, (int)t->ls, t->sex,
	                 age_band(t->age, t->la), (int)t->lf, t->form);
	add(t, k, n < (int)sizeof k ? (size_t)n : sizeof k - 1);
	t->lc = t->ld = t->ls = t->la = t->lf = 0;
}

int main(int argc, char **argv)
{
	int verbose = 0, a = 1;
	if (a < argc && !strcmp(argv[a], "-v"))
		verbose = 1, a++;
	if (argc - a != 2 || (strcmp(argv[a], "parse") && strcmp(argv[a], "groupby"))) {
		fprintf(stderr, "usage: csv_baseline [-v] parse|groupby FILE\n");
		return 64;
	}
	int gb = !strcmp(argv[a], "groupby");
	FILE *fp = fopen(argv[a + 1], "rb");
	if (!fp) {
		perror(argv[a + 1]);
		return 66;
	}
	struct csv_parser p;
	csv_init(&p, 0);
	st t;
	memset(&t, 0, sizeof t);
	static char buf[256 << 10];
	size_t n;
	unsigned long long bytes = 0;
	void (*cf)(void *, size_t, void *) = gb ? cb_gb_field : cb_parse_field;
	void (*cr)(int, void *) = gb ? cb_gb_row : cb_parse_row;
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0) {
		if (csv_parse(&p, buf, n, cf, cr, &t) != n) {
			fprintf(stderr, "libcsv: %s\n", csv_strerror(csv_error(&p)));
			return 65;
		}
		bytes += n;
	}
	csv_fini(&p, cf, cr, &t);
	csv_free(&p);
	fclose(fp);
	if (!gb) {
		printf("rows=%lu fields=%lu bytes=%llu\n", t.rows, t.fields, bytes);
		return 0;
	}
	printf("rows=%lu groups=%zu bytes=%llu\n", t.rows ? t.rows - 1 : 0, t.used, bytes);
	for (size_t i = 0; verbose && i < t.cap; i++)
		if (t.tab[i].klen)
			printf("%.*s %lu\n", (int)t.tab[i].klen, t.tab[i].key, t.tab[i].n);
	free(t.tab);
	return 0;
}
