/* csvparse_bench: how much csvr costs on top of raw libcsv.
 *
 *   csvparse_bench [--gen MB [--quote-all]] FILE
 *
 * With --gen, first writes a synthetic trafficking-statistics-like CSV of
 * about MB megabytes to FILE (about one line in 50 has a quoted field with
 * a comma and a doubled quote, a few fields are UTF-8); with --quote-all
 * every field is quoted, as some exporters do, so no line can take csvr's
 * quote-free fast path.  Then it reads FILE
 * three times and prints MB/s for each:
 *   libcsv   raw csv_parse over 256 KiB blocks, empty callbacks
 *   csvr     csvr_next over every record (default options)
 *   csvr-lc  csvr_next with libcsv_only = 1 (no quote-free fast path)
 * Numbers depend on the page cache; run twice and keep the second.
 * Build: cc -O2 -I. core/diag.c core/text.c core/csvr.c bench/csvparse_bench.c -lcsv
 */
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/csvr.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cb1(void *s, size_t n, void *data)
{
	(void)s;
	(void)n;
	(*(unsigned long *)data)++;
}

static void cb2(int c, void *data)
{
	(void)c;
	(void)data;
}

static int gen(const char *path, long mb, int qa)
{
	FILE *fp = fopen(path, "wb");
	if (!fp) {
		perror(path);
		return -1;
	}
	static const char *forms[] = {"forced labour", "sexual exploitation", "domestic servitude",
	                              "forced criminality", "organ removal"};
	static const char *sex[] = {"F", "M", "X"};
	unsigned long long target = (unsigned long long)mb << 20, written = 0;
	unsigned long seed = 12345;
	fputs("case_id,country,year,sex,age,form,citizenship,detected_by,note\n", fp);
	for (unsigned long i = 1; written < target; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		unsigned r = (unsigned)(seed >> 33);
		int n;
		if (qa)
			n = fprintf(fp, "\"C%08lu\",\"DEU\",\"%u\",\"%s\",\"%u\",\"%s\",\"%s\",\"%s\",\"\"\n",
			            i, 2015 + r % 9, sex[r % 3], 10 + r % 60, forms[r % 5],
			            r % 7 ? "ROU" : "Bénin", r % 3 ? "labour inspectorate" : "NGO");
		else if (r % 50 == 0)
			n = fprintf(fp, "C%08lu,FRA,%u,%s,%u,\"%s, other\",\"Côte d'Ivoire\",police,"
			                "\"said \"\"no\"\"\"\n",
			            i, 2015 + r % 9, sex[r % 3], 10 + r % 60, forms[r % 5]);
		else
			n = fprintf(fp, "C%08lu,DEU,%u,%s,%u,%s,%s,%s,\n", i, 2015 + r % 9, sex[r % 3],
			            10 + r % 60, forms[r % 5], r % 7 ? "ROU" : "Bénin",
			            r % 3 ? "labour inspectorate" : "NGO");
		written += (unsigned long long)n;
	}
	return fclose(fp);
}

static double raw_libcsv(const char *path, unsigned long *fields, double *mb)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return -1;
	struct csv_parser p;
	csv_init(&p, 0);
	static char buf[256 << 10];
	size_t n, total = 0;
	double t0 = now();
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0) {
		if (csv_parse(&p, buf, n, cb1, cb2, fields) != n)
			fprintf(stderr, "libcsv: %s\n", csv_strerror(csv_error(&p)));
		total += n;
	}
	csv_fini(&p, cb1, cb2, fields);
	double t = now() - t0;
	csv_free(&p);
	fclose(fp);
	*mb = (double)total / 1048576.0;
	return t;
}

static double with_csvr(const char *path, int libcsv_only, unsigned long *fields,
                        unsigned long *bad)
{
	diag d = DIAG_INIT;
	csvr_opts o = {.libcsv_only = libcsv_only};
	csvr *r;
	if (csvr_open(path, &o, &r, &d) != 0) {
		fprintf(stderr, "%s\n", d.msg);
		return -1;
	}
	csvr_record rec;
	int rc;
	double t0 = now();
	while ((rc = csvr_next(r, &rec, &d)) != CSVR_EOF) {
		if (rc < 0) {
			fprintf(stderr, "%s\n", d.msg);
			break;
		}
		if (rc == CSVR_BAD)
			(*bad)++;
		else
			*fields += rec.n;
	}
	double t = now() - t0;
	csvr_close(r);
	diag_free(&d);
	return t;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	long mb = 0;
	int qa = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--gen") && i + 1 < argc)
			mb = atol(argv[++i]);
		else if (!strcmp(argv[i], "--quote-all"))
			qa = 1;
		else
			path = argv[i];
	}
	if (!path) {
		fprintf(stderr, "usage: csvparse_bench [--gen MB [--quote-all]] FILE\n");
		return 64;
	}
	if (mb > 0 && gen(path, mb, qa) != 0)
		return 74;
	double size;
	unsigned long f0 = 0, f1 = 0, f2 = 0, b1 = 0, b2 = 0;
	double t0 = raw_libcsv(path, &f0, &size);
	if (t0 < 0) {
		perror(path);
		return 66;
	}
	double t1 = with_csvr(path, 0, &f1, &b1);
	double t2 = with_csvr(path, 1, &f2, &b2);
	printf("file     %.1f MB\n", size);
	printf("libcsv   %7.1f MB/s  %.2f s  %lu fields\n", size / t0, t0, f0);
	printf("csvr     %7.1f MB/s  %.2f s  %lu fields, %lu bad records\n", size / t1, t1, f1, b1);
	printf("csvr-lc  %7.1f MB/s  %.2f s  %lu fields, %lu bad records\n", size / t2, t2, f2, b2);
	return 0;
}
