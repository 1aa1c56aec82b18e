/* tipstat report: a release directory -> tidy CSV (UNODC columns), SDMX-CSV
 * with its structure, and a self-contained HTML report (reports/report.h).
 * Also the option parsing and release loading that tipstat export shares
 * (cli_release_files). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "aggregator/population.h"
#include "cli/cli.h"
#include "privacy/release.h"
#include "reports/report.h"

static const char usage_text[] =
"usage: tipstat report RELEASE_DIR -o OUT_DIR\n"
"\n"
"Write the publication files of a release (tipstat protect, or the NOT\n"
"PRIVATE internal cube of tipstat aggregate -o): OUT_DIR/tidy.csv in the\n"
"columns of UNODC's published data plus status and flag columns,\n"
"OUT_DIR/sdmx.csv with OBS_STATUS/CONF_STATUS codes, OUT_DIR/dsd.json and\n"
"OUT_DIR/report.html (no network, inline SVG charts). All or nothing.\n"
"Reports read only the release: suppressed cells carry no number anywhere.\n"
"\n"
"options:\n"
"  -o, --output DIR      where to write (created if missing)\n"
"      --codelists DIR   codelists directory\n"
"  -h, --help            this help\n"
"\n"
"exit codes: 0 ok, 64 usage, 65 malformed release, 66 no release, 73/74 cannot write\n";

int cli_release_files(int argc, char **argv, const char *cmd, const char *usage,
                      cli_release_writer write, const char *files)
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
		case 'h': fputs(usage, stdout); return 0;
		default: return cli_usage_error(cmd, "unknown option");
		}
	}
	if (optind != argc - 1 || !out)
		return cli_usage_error(cmd, "give one release directory and -o OUT_DIR");
	codelists cl;
	int rc = cli_load_codelists(cl_dir, &cl, cmd);
	if (rc)
		return rc;
	diag d;
	diag_init(&d, 50);
	rel_table rel; /* rel_read_dir initialises it, and frees it on failure */
	int have_rel = 0;
	pop_table pop = {0};
	char pop_path[4096];
	snprintf(pop_path, sizeof pop_path, "%s/../reference/population.csv", cl.dir);
	if (rel_read_dir(argv[optind], &rel, &d) != 0 || !(have_rel = 1) ||
	    pop_load(pop_path, &cl, &pop, &d) != 0 || write(&rel, &cl, &pop, out, &d) != 0) {
		rc = cli_report(&d, cmd);
	} else {
		printf("%s: %s from %zu release cells%s\n", out, files, rel_n_rows(&rel),
		       rel.meta.is_private ? "" : " (NOT PRIVATE release)");
	}
	if (have_rel)
		rel_free(&rel);
	pop_free(&pop);
	codelists_free(&cl);
	diag_free(&d);
	return rc;
}

int cmd_report(int argc, char **argv)
{
	return cli_release_files(argc, argv, "report", usage_text, rep_write_all,
	                         "tidy.csv, sdmx.csv, dsd.json, report.html");
}
