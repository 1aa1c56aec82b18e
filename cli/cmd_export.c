/* tipstat export: a release's published tables for researchers, as CSV and
 * SDMX-CSV with a README on protection, flags and margins
 * (reports/export.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "aggregator/population.h"
#include "cli/cli.h"
#include "privacy/release.h"
#include "reports/export.h"

static const char usage_text[] =
"usage: tipstat export RELEASE_DIR -o OUT_DIR\n"
"\n"
"The researchers' download of a release (tipstat protect): OUT_DIR/tidy.csv\n"
"(UNODC long columns with Status, Flags, Lower, Upper, MOE), OUT_DIR/sdmx.csv\n"
"(SDMX-CSV, structure in dsd.json) and OUT_DIR/README.md describing the\n"
"protection used and how to read statuses, flags and 90% margins of error.\n"
"Only what the release publishes is exported. All or nothing.\n"
"\n"
"options:\n"
"  -o, --output DIR      where to write (created if missing)\n"
"      --codelists DIR   codelists directory\n"
"  -h, --help            this help\n"
"\n"
"exit codes: 0 ok, 64 usage, 65 malformed release, 66 no release, 73/74 cannot write\n";

#define CMD "export"

int cmd_export(int argc, char **argv)
{
	static const struct option lo[] = {
		{"output", required_argument, 0, 'o'}, {"codelists", required_argument, 0, 'C'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *out = NULL, *cl_dir = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'C': cl_dir = optarg; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return cli_usage_error(CMD, "unknown option");
		}
	}
	if (optind != argc - 1 || !out)
		return cli_usage_error(CMD, "give one release directory and -o OUT_DIR");
	codelists cl;
	int rc = cli_load_codelists(cl_dir, &cl, CMD);
	if (rc)
		return rc;
	diag d;
	diag_init(&d, 50);
	rel_table rel;
	int have_rel = 0;
	pop_table pop = {0};
	char pop_path[4096];
	snprintf(pop_path, sizeof pop_path, "%s/../reference/population.csv", cl.dir);
	if (rel_read_dir(argv[optind], &rel, &d) != 0 || !(have_rel = 1) ||
	    pop_load(pop_path, &cl, &pop, &d) != 0 || rep_export_write(&rel, &cl, &pop, out, &d) != 0) {
		rc = cli_report(&d, CMD);
	} else {
		printf("%s: tidy.csv, sdmx.csv, dsd.json, README.md from %zu release cells%s\n", out,
		       rel_n_rows(&rel), rel.meta.is_private ? "" : " (NOT PRIVATE release)");
	}
	if (have_rel)
		rel_free(&rel);
	pop_free(&pop);
	codelists_free(&cl);
	diag_free(&d);
	return rc;
}
