/* tipstat seal: sign and encrypt a harmonised submission for the aggregator. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "cli/cli.h"
#include "core/json.h"
#include "ingest/keys.h"
#include "ingest/seal.h"

static const char usage_text[] =
"usage: tipstat seal --key OFFICE.key --to AGGREGATOR.pub [--version N] SUB.csv -o PKG\n"
"\n"
"Sign a harmonised submission (SUB.csv and SUB.csv.manifest, written by\n"
"tipstat ingest) with the office key and encrypt it to the aggregator. The\n"
"clear header names the country, periods, kind and version, nothing else.\n"
"\n"
"options:\n"
"  -k, --key FILE        office secret key (tipstat keygen --type office)\n"
"  -t, --to FILE         aggregator public key (FILE.pub from keygen)\n"
"  -V, --version N       submission version: 1 first, 2 a resubmission, ...\n"
"                        (default 1); the aggregator refuses older versions\n"
"  -o, --output PKG      package to write (default SUB.csv.sealed)\n"
"  -q, --quiet           no summary, no progress bar\n"
"  -h, --help            this help\n"
"\n"
"exit codes: 0 ok, 64 usage, 65 bad manifest, 66 no input, 73/74 cannot write,\n"
"            77 key refused (or its country differs from the submission's)\n";

/* Read kind, the single country and the periods of a manifest. */
static int read_manifest(const char *path, char *country, char *periods, size_t psize,
                         int *kind, diag *d)
{
	json_doc doc;
	if (json_load(path, 1 << 20, &doc, d) != 0)
		return -1;
	const char *k = json_get_str(doc.root, "kind");
	const json_value *c = json_get(doc.root, "countries");
	const json_value *p = json_get(doc.root, "periods");
	int rc = -1;
	*kind = k ? seal_kind_parse(k) : -1;
	if (*kind < 0 || !c || c->type != JSON_ARRAY || !p || p->type != JSON_ARRAY || !p->len) {
		diag_fail(d, EX_DATAERR, "%s: not a tipstat manifest (kind, countries, periods)", path);
		goto out;
	}
	if (c->len != 1 || c->items[0]->type != JSON_STRING || c->items[0]->len != 3) {
		diag_fail(d, EX_DATAERR, "%s: a package holds one country; this submission has %zu "
		          "(ingest one file per country)", path, c->len);
		goto out;
	}
	memcpy(country, c->items[0]->str, 4);
	size_t o = 0;
	for (size_t i = 0; i < p->len; i++) {
		if (p->items[i]->type != JSON_STRING || o + p->items[i]->len + 2 > psize) {
			diag_fail(d, EX_DATAERR, "%s: bad periods list", path);
			goto out;
		}
		o += (size_t)snprintf(periods + o, psize - o, "%s%s", i ? "," : "", p->items[i]->str);
	}
	if (!seal_valid_periods(periods)) {
		diag_fail(d, EX_DATAERR, "%s: periods are not canonical and ascending", path);
		goto out;
	}
	rc = 0;
out:
	json_free(&doc);
	return rc;
}

int cmd_seal(int argc, char **argv)
{
	static const struct option lo[] = {
		{"key", required_argument, 0, 'k'}, {"to", required_argument, 0, 't'},
		{"version", required_argument, 0, 'V'}, {"output", required_argument, 0, 'o'},
		{"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *key = NULL, *to = NULL, *out = NULL;
	size_t version = 1;
	int c, quiet = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "k:t:V:o:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = 1; break;
		case 'k': key = optarg; break;
		case 't': to = optarg; break;
		case 'o': out = optarg; break;
		case 'V':
			if (cli_parse_size("seal", "--version", optarg, &version) != 0)
				return EX_USAGE;
			break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return cli_usage_error("seal", "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("seal", "give exactly one submission file");
	if (!key || !to)
		return cli_usage_error("seal", "--key and --to are required");
	if (version < 1 || version > 0xffffffffu)
		return cli_usage_error("seal", "--version must be 1 or more");
	if (sodium_init() < 0)
		return EX_SOFTWARE;
	const char *sub = argv[optind];
	char manifest[4096], defout[4096], country[4], periods[1025];
	snprintf(manifest, sizeof manifest, "%s.manifest", sub);
	snprintf(defout, sizeof defout, "%s.sealed", sub);
	if (!out)
		out = defout;
	diag d;
	diag_init(&d, 20);
	keys_office_secret *ok = NULL;
	keys_aggregator_public agg;
	int kind, rc;
	if (read_manifest(manifest, country, periods, sizeof periods, &kind, &d) != 0 ||
	    keys_load_office_secret(key, &ok, &d) != 0 ||
	    keys_load_aggregator_public(to, &agg, &d) != 0) {
		rc = cli_report(&d, "seal");
		goto done;
	}
	seal_meta meta = {.country = country, .periods = periods, .version = (uint32_t)version,
	                  .kind = kind};
	cli_progress_state bar;
	cli_progress_init(&bar, "seal");
	progress_hook pg = cli_progress_hook(&bar, quiet);
	int sealed = seal_package(sub, manifest, ok, agg.pk, &meta, out, &pg, &d) == 0;
	cli_progress_end(&bar, sealed, 0);
	if (!sealed) {
		rc = cli_report(&d, "seal");
		goto done;
	}
	rc = 0;
	if (!quiet)
		printf("%s: %s %s version %zu sealed for aggregator key %s%s\n", out, country,
		       periods, version, agg.info.id_hex, ok->info.demo ? " (DEMO office key)" : "");
done:
	keys_free_office_secret(ok);
	diag_free(&d);
	return rc;
}
