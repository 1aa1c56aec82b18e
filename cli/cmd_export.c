/* tipstat export: a release's published tables for researchers, as CSV and
 * SDMX-CSV with a README on protection, flags and margins
 * (reports/export.h). */
#include "cli/cli.h"
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

int cmd_export(int argc, char **argv)
{
	return cli_release_files(argc, argv, "export", usage_text, rep_export_write,
	                         "tidy.csv, sdmx.csv, dsd.json, README.md");
}
