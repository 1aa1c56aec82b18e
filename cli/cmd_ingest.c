/* tipstat ingest: national file -> harmonised submission + manifest. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include "cli/cli.h"
#include "core/period.h"
#include "core/progress.h"
#include "ingest/ingest.h"
#include "ingest/keys.h"
#include "ingest/mapping.h"

static const char usage_text[] =
"usage: tipstat ingest --mapping MAP [options] IN.csv -o OUT\n"
"\n"
"Validate a national file against its mapping, harmonise it into the data\n"
"standard (docs/standard.md) and write the canonical submission OUT and its\n"
"manifest OUT.manifest. Every problem in the file is reported, compiler\n"
"style (FILE:LINE:COL: error: ...); on any error nothing is written.\n"
"\n"
"options:\n"
"  -m, --mapping MAP     mapping file for this national layout (required)\n"
"  -o, --output OUT      harmonised submission to write (required)\n"
"  -p, --period P        submission period (YYYY-Qn or YYYY); rows must agree\n"
"  -k, --key-file F      pseudonym key for case ids (tipstat keygen --type pseudonym)\n"
"  -r, --rejects F       set bad rows aside in F (line, reason, code columns)\n"
"                        and write the rest instead of failing\n"
"      --strict          non-additive totals are errors, not warnings\n"
"      --allow-empty     accept a file with a header and no rows (no cases)\n"
"  -c, --country ISO3    keep only this country's rows (split a multi-country\n"
"                        table into one submission per country)\n"
"      --max-errors N    diagnostics shown (default 100; all are counted)\n"
"      --codelists DIR   codelists directory (default datasets/codelists)\n"
"      --sort-mem MB     memory for sorting before spilling to disk (default 16)\n"
"  -j, --threads N       threads that parse and harmonise (default 2; 1 = one\n"
"                        serial pass; the output is the same bytes either way)\n"
"  -q, --quiet           no summary, no progress bar\n"
"  -h, --help            this help\n"
"\n"
"exit codes: 0 ok, 64 usage, 65 bad data, 66 no input, 73/74 cannot write,\n"
"            77 key file refused, 78 bad mapping file\n";

int cmd_ingest(int argc, char **argv)
{
	static const struct option lo[] = {
		{"mapping", required_argument, 0, 'm'}, {"output", required_argument, 0, 'o'},
		{"period", required_argument, 0, 'p'}, {"key-file", required_argument, 0, 'k'},
		{"rejects", required_argument, 0, 'r'}, {"strict", no_argument, 0, 's'},
		{"max-errors", required_argument, 0, 'E'}, {"codelists", required_argument, 0, 'C'},
		{"sort-mem", required_argument, 0, 'S'}, {"allow-empty", no_argument, 0, 'A'},
		{"country", required_argument, 0, 'c'}, {"quiet", no_argument, 0, 'q'},
		{"threads", required_argument, 0, 'j'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *map_path = NULL, *out = NULL, *period = NULL, *key_file = NULL;
	const char *rejects = NULL, *cl_dir = NULL, *only = NULL;
	int strict = 0, quiet = 0, allow_empty = 0, c;
	size_t max_errors = 100, sort_mb = 16, threads = 2;
	optind = 1;
	while ((c = getopt_long(argc, argv, "m:o:p:k:r:j:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'm': map_path = optarg; break;
		case 'o': out = optarg; break;
		case 'p': period = optarg; break;
		case 'k': key_file = optarg; break;
		case 'r': rejects = optarg; break;
		case 's': strict = 1; break;
		case 'A': allow_empty = 1; break;
		case 'c': only = optarg; break;
		case 'q': quiet = 1; break;
		case 'C': cl_dir = optarg; break;
		case 'E':
			if (cli_parse_size("ingest", "--max-errors", optarg, &max_errors) != 0)
				return EX_USAGE;
			break;
		case 'S':
			if (cli_parse_size("ingest", "--sort-mem", optarg, &sort_mb) != 0)
				return EX_USAGE;
			break;
		case 'j':
			if (cli_parse_size("ingest", "--threads", optarg, &threads) != 0)
				return EX_USAGE;
			if (threads < 1 || threads > 64)
				return cli_usage_error("ingest", "--threads must be 1 to 64");
			break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return cli_usage_error("ingest", "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("ingest", "give exactly one input file");
	if (!map_path)
		return cli_usage_error("ingest", "--mapping is required");
	if (!out)
		return cli_usage_error("ingest", "-o OUT is required");
	int per = -1;
	if (period && (per = period_parse(period, strlen(period))) < 0)
		return cli_usage_error("ingest", "--period '%s' is not YYYY-Qn or YYYY", period);
	if (sodium_init() < 0)
		return EX_SOFTWARE;

	codelists cl;
	int rc = cli_load_codelists(cl_dir, &cl, "ingest");
	if (rc)
		return rc;
	int only_idx = -1;
	if (only && (only_idx = cl_find_country(&cl, only, strlen(only))) < 0) {
		codelists_free(&cl);
		return cli_usage_error("ingest", "--country '%s' is not a known country", only);
	}
	diag d;
	diag_init(&d, max_errors);
	mapping m;
	memset(&m, 0, sizeof m);
	unsigned char *pkey = NULL;
	if (mapping_load(map_path, &cl, &m, &d) != 0)
		goto fail;
	if (key_file && keys_load_pseudonym(key_file, &pkey, &d) != 0)
		goto fail;
	/* the rate counts from the start of the command (with -j 1 ingest
	 * first hashes the input, then parses it; on threads it hashes while
	 * parsing; the callback reports the parse) */
	cli_progress_state bar;
	cli_progress_init(&bar, "ingest");
	ingest_opts o = {.input = argv[optind], .output = out, .rejects = rejects, .m = &m,
	                 .cl = &cl, .pkey = pkey, .period_override = per, .strict = strict,
	                 .allow_empty = allow_empty, .only_country = only_idx,
	                 .sort_mem = sort_mb << 20, .threads = (int)threads};
	if (!quiet && cli_is_tty()) {
		o.progress = cli_progress;
		o.progress_ctx = &bar;
	}
	ingest_stats st;
	int ok = ingest_run(&o, &st, &d) == 0;
	cli_progress_end(&bar, ok, st.input_bytes);
	if (!ok)
		goto fail;
	rc = cli_report(&d, "ingest");
	if (!quiet) {
		fprintf(stderr, "tipstat ingest: %s: %llu rows read, %llu written, %llu rejected -> %s\n",
		        argv[optind], (unsigned long long)st.rows_read,
		        (unsigned long long)st.rows_written, (unsigned long long)st.rows_rejected, out);
	}
	goto done;
fail:
	rc = cli_report(&d, "ingest");
done:
	keys_free_pseudonym(pkey);
	mapping_free(&m);
	codelists_free(&cl);
	diag_free(&d);
	return rc;
}
