/* tipstat aggregate: build the cube from the warehouse and show the
 * aggregator its unprotected overview (world and regions by year, coverage,
 * the comparable panel's trend). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <sys/stat.h>
#include <unistd.h>
#include "aggregator/measures.h"
#include "aggregator/population.h"
#include "aggregator/whcube.h"
#include "privacy/tabrel.h"
#include "cli/cli.h"

#include "core/period.h"
#include "privacy/release.h"

static const char usage_text[] =
"usage: tipstat aggregate [--warehouse DB] [-o DIR] [--as-of SEQ] [--indicator CODE]\n"
"\n"
"Build the aggregation cube (country, subregion, region, world; quarters and\n"
"years; sex x age, forms, citizenship classes) from the latest accepted\n"
"version of every submission, and print the overview: the indicator by\n"
"region and year with the countries reporting and the population they\n"
"cover, and the comparable panel's trend. These are UNPROTECTED numbers for\n"
"the aggregator's own checks; publish only releases (tipstat protect).\n"
"\n"
"options:\n"
"  -w, --warehouse DB    warehouse (default $TIPSTAT_WAREHOUSE or ./warehouse.db)\n"
"  -o, --output DIR      also write the whole cube as an unprotected release\n"
"                        (release.csv, release.json) stamped NOT PRIVATE\n"
"      --as-of SEQ       the warehouse as it was after audit entry SEQ\n"
"      --indicator CODE  VIC (default), SUS, PROS or CONV for the overview\n"
"      --codelists DIR   codelists directory\n"
"  -h, --help            this help\n"
"\n"
"exit codes: 0 ok, 64 usage, 65 bad data / empty warehouse, 66 no warehouse,\n"
"            73/74 cannot write\n";

static void fmt_value(const cube_value *v, char *buf, size_t size)
{
	if (!v->avail)
		snprintf(buf, size, "..");
	else if (v->lo == v->hi)
		snprintf(buf, size, "%lld", (long long)v->lo);
	else if (v->hi == CUBE_UNBOUNDED)
		snprintf(buf, size, ">=%lld", (long long)v->lo);
	else
		snprintf(buf, size, "%lld-%lld", (long long)v->lo, (long long)v->hi);
}

static void overview(const cube *c, const codelists *cl, const pop_table *pop, int ind,
                     diag *d)
{
	int years[64], ny = 0;
	for (size_t i = 0; i < cube_n_periods(c) && ny < 64; i++) {
		int p = cube_period_at(c, i);
		if (period_quarter(p) == 0)
			years[ny++] = p;
	}
	printf("%s by region and year (countries reporting / population covered):\n",
	       cl->indicators.codes[ind].label);
	printf("%-34s", "");
	for (int y = 0; y < ny; y++)
		printf(" %14d", period_year(years[y]));
	printf("\n");
	for (size_t g = 0; g < cube_n_geo(c); g++) {
		cube_geo geo = cube_geo_at(c, g);
		if (geo.kind > CUBE_GEO_REGION)
			continue;
		const char *name = geo.kind == CUBE_GEO_WORLD ? "World" : cl->regions[geo.index].name;
		printf("%-34.34s", name);
		for (int y = 0; y < ny; y++) {
			cube_value v;
			char b[32];
			cube_get(c, (int)g, years[y], ind, CUBE_S_TOTAL, &v);
			fmt_value(&v, b, sizeof b);
			printf(" %14s", b);
		}
		printf("\n%-34s", "");
		for (int y = 0; y < ny; y++) {
			meas_coverage cov;
			if (meas_coverage_get(c, pop, (int)g, years[y], ind, CUBE_S_TOTAL, &cov, d) == 0 &&
			    cov.n_reporting && !isnan(cov.pop_share))
				printf("   %3u / %5.1f%%", cov.n_reporting, cov.pop_share);
			else
				printf(" %14s", "");
		}
		printf("\n");
	}
	if (ny >= 3) {
		meas_panel pn;
		if (meas_panel_build(c, ind, period_year(years[0]), period_year(years[ny - 1]), &pn,
		                     d) == 0) {
			meas_trend t;
			int world = cube_geo_find(c, CUBE_GEO_WORLD, 0);
			if (world >= 0 && meas_trend_fit(c, &pn, world, CUBE_S_TOTAL, &t, d) == 0 &&
			    t.avail)
				printf("\ncomparable panel %d-%d: %zu countries reporting every year; world "
				       "trend %+.1f per year (95%% CI %+.1f to %+.1f), %+.2f%% of the level "
				       "per year\n", period_year(years[0]), period_year(years[ny - 1]), pn.n,
				       t.slope, t.ci_lo, t.ci_hi, t.slope_pct);
			meas_panel_free(&pn);
		}
	}
}

/* The whole cube as a release of method none (NOT PRIVATE). */
static int write_release(const cube *c, const codelists *cl, const whcube_info *info,
                         const char *dir, diag *d)
{
	rel_table t;
	rel_init(&t);
	int rc = -1;
	if (rel_set_name(&t, "cube", d) != 0 ||
	    rel_set_protection(&t, REL_M_NONE, 0, "NOT PRIVATE: unprotected counts for the "
	                       "aggregator's internal checks; never publish", d) != 0)
		goto done;
	if (tabrel_fill(c, cl, info, NULL, &t, d) != 0)
		goto done;
	/* A new directory is written beside its place and renamed into it, as
	 * protect does: a crash leaves the release complete or absent (perhaps
	 * a DIR.partial-PID), never release.csv without its release.json. */
	struct stat sb;
	char tmp[4096];
	if (stat(dir, &sb) == 0 ||
	    snprintf(tmp, sizeof tmp, "%s.partial-%ld", dir, (long)getpid()) >= (int)sizeof tmp) {
		rc = rel_write_dir(&t, dir, d);
		goto done;
	}
	if (mkdir(tmp, 0755) != 0) {
		diag_fail(d, EX_CANTCREAT, "%s: cannot create directory: %s", dir, strerror(errno));
		goto done;
	}
	if (rel_write_dir(&t, tmp, d) != 0) {
		rmdir(tmp);  /* it removed what it wrote */
		goto done;
	}
	if (rename(tmp, dir) != 0) {
		int e = errno;
		char f[4200];
		snprintf(f, sizeof f, "%s/release.csv", tmp);
		unlink(f);
		snprintf(f, sizeof f, "%s/release.json", tmp);
		unlink(f);
		rmdir(tmp);
		diag_fail(d, EX_CANTCREAT, "%s: cannot move the release into place: %s", dir,
		          strerror(e));
		goto done;
	}
	rc = 0;
done:
	rel_free(&t);
	return rc;
}

int cmd_aggregate(int argc, char **argv)
{
	static const struct option lo[] = {
		{"warehouse", required_argument, 0, 'w'}, {"output", required_argument, 0, 'o'}, 		{"as-of", required_argument, 0, 'A'}, {"indicator", required_argument, 0, 'I'},
		{"codelists", required_argument, 0, 'C'}, {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}};
	const char *whp = NULL, *out = NULL, *ind_s = "VIC", *cl_dir = NULL;
	size_t as_of = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "w:o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'w': whp = optarg; break;
		case 'o': out = optarg; break;
		case 'I': ind_s = optarg; break;
		case 'C': cl_dir = optarg; break;
		case 'A':
			if (cli_parse_size("aggregate", "--as-of", optarg, &as_of) != 0)
				return EX_USAGE;
			break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return cli_usage_error("aggregate", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("aggregate", "unexpected argument '%s'", argv[optind]);
	if (sodium_init() < 0)
		return EX_SOFTWARE;
	codelists cl;
	int rc = cli_load_codelists(cl_dir, &cl, "aggregate");
	if (rc)
		return rc;
	int ind = cl_find(&cl.indicators, ind_s, strlen(ind_s));
	if (ind < 0) {
		codelists_free(&cl);
		return cli_usage_error("aggregate", "--indicator '%s' is not an indicator", ind_s);
	}
	wh *w = NULL;
	cube *cb = NULL;
	whcube_info info = {0};
	pop_table pop = {0};
	diag d;
	diag_init(&d, 20);
	char pop_path[4096];
	snprintf(pop_path, sizeof pop_path, "%s/../reference/population.csv", cl.dir);
	if ((rc = cli_open_warehouse(cli_warehouse_path(whp), WH_READONLY, &w, "aggregate")) != 0)
		goto done;
	if (whcube_build(w, &cl, (int64_t)as_of, 0, &cb, &info, &d) != 0 ||
	    pop_load(pop_path, &cl, &pop, &d) != 0) {
		rc = cli_report(&d, "aggregate");
		goto done;
	}
	printf("cube of %zu submission periods (warehouse as of audit entry %lld): %llu records "
	       "(%llu counted, %llu re-reports of a known case merged), %llu cells\n\n",
	       info.n_parts, (long long)info.as_of_seq, (unsigned long long)info.records,
	       (unsigned long long)info.stats.records_counted,
	       (unsigned long long)info.stats.records_duplicate, (unsigned long long)info.cells);
	overview(cb, &cl, &pop, ind, &d);
	if (out && write_release(cb, &cl, &info, out, &d) != 0) {
		rc = cli_report(&d, "aggregate");
		goto done;
	}
	if (out)
		printf("\nwrote %s/release.csv: UNPROTECTED, stamped NOT PRIVATE; never publish\n", out);
done:
	cube_free(cb);
	whcube_info_free(&info);
	pop_free(&pop);
	wh_close(w);
	codelists_free(&cl);
	diag_free(&d);
	return rc;
}
