/* tipstat request: the researcher's side of `tipstat query`: check and
 * sign a request file (privacy/request.h).  Needs no warehouse. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "cli/cli.h"
#include "core/atomic.h"
#include "ingest/keys.h"
#include "privacy/ledger.h"
#include "privacy/request.h"

static const char usage_text[] =
"usage: tipstat request sign --key RESEARCHER.key REQUEST -o REQUEST.signed\n"
"       tipstat request check REQUEST\n"
"\n"
"A request is a small text file of key=value lines:\n"
"\n"
"  researcher=alice\n"
"  indicator=VIC\n"
"  group-by=region,year,sex\n"
"  filter=form:LAB\n"
"  rho=0.01            (or moe=5: the wanted 90% margin of error per cell)\n"
"\n"
"group-by: one of world|region|subregion|country, and year, sex, age, form,\n"
"citizenship. filter: DIM:CODE items (country, region, year, sex, age,\n"
"form, citizenship), comma separated. `sign` checks the request and\n"
"appends the Ed25519 signature line made with the researcher's key;\n"
"`check` parses it and prints the canonical question.\n"
"\n"
"options:\n"
"  -k, --key FILE        the researcher's secret key (tipstat keygen --type office)\n"
"  -o, --output FILE     the signed request\n"
"      --codelists DIR   codelists (default datasets/codelists)\n"
"  -h, --help            this help\n"
"\n"
"exit codes: 0 ok, 64 usage, 65 bad request, 66 no input, 73 cannot\n"
"            create output, 77 key file refused\n";

#define CMD "request"

static int read_file(const char *path, char **out, size_t *len, diag *d)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return diag_fail(d, EX_NOINPUT, "%s: cannot open", path);
	char *buf = malloc(REQ_TEXT_MAX + 2);
	if (!buf) {
		fclose(fp);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	size_t n = fread(buf, 1, REQ_TEXT_MAX + 1, fp);
	int err = ferror(fp);
	fclose(fp);
	if (err) {
		free(buf);
		return diag_fail(d, EX_IOERR, "%s: read error", path);
	}
	buf[n] = 0;
	*out = buf;
	*len = n;
	return 0;
}

int cmd_request(int argc, char **argv)
{
	static const struct option lo[] = {
		{"key", required_argument, 0, 'k'}, {"output", required_argument, 0, 'o'},
		{"codelists", required_argument, 0, 'C'}, {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}};
	const char *keyp = NULL, *outp = NULL, *cl_dir = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "k:o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'k': keyp = optarg; break;
		case 'o': outp = optarg; break;
		case 'C': cl_dir = optarg; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return cli_usage_error(CMD, "unknown option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(CMD, "give a subcommand (sign or check) and a REQUEST file");
	const char *sub = argv[optind], *path = argv[optind + 1];
	int sign = !strcmp(sub, "sign");
	if (!sign && strcmp(sub, "check"))
		return cli_usage_error(CMD, "unknown subcommand '%s'", sub);
	if (sign && (!keyp || !outp))
		return cli_usage_error(CMD, "sign needs --key and -o");
	if (sodium_init() < 0) {
		fprintf(stderr, "tipstat %s: error: libsodium failed to initialise\n", CMD);
		return EX_SOFTWARE;
	}
	codelists cl;
	int rc = cli_load_codelists(cl_dir, &cl, CMD);
	if (rc)
		return rc;
	diag d = DIAG_INIT;
	char *text = NULL, *signed_text = NULL;
	size_t len = 0, slen = 0;
	req_request r;
	keys_office_secret *k = NULL;
	atomic_file af = {0};
	char q[REQ_QUESTION_MAX], qid[REQ_QID_HEX];
	if (read_file(path, &text, &len, &d) != 0 ||
	    req_parse(text, len, path, &cl, 0, &r, &d) != 0 ||
	    req_question(&r, q, sizeof q, qid, &d) != 0)
		goto fail;
	if (!sign) {
		char cost[LEDGER_RHO_STR + 8];
		if (r.rho) {
			char rb[LEDGER_RHO_STR];
			ledger_format_rho(r.rho, rb);
			snprintf(cost, sizeof cost, "rho %s", rb);
		} else {
			snprintf(cost, sizeof cost, "moe %lld", (long long)r.moe);
		}
		printf("question %s: %s\nresearcher %s, %s, %s\n", qid, q, r.researcher, cost,
		       r.signed_ ? "signed (verified by tipstat query)" : "not signed");
		goto done;
	}
	if (r.signed_) {
		diag_fail(&d, EX_DATAERR, "%s: already signed", path);
		goto fail;
	}
	if (keys_load_office_secret(keyp, &k, &d) != 0 ||
	    req_sign(text, len, k->sk, &signed_text, &slen, &d) != 0 ||
	    atomic_open(outp, 0644, &af, &d) != 0)
		goto fail;
	fwrite(signed_text, 1, slen, af.fp);
	if (atomic_commit(&af, &d) != 0)
		goto fail;
	printf("signed question %s for researcher %s with key %s: %s\n", qid, r.researcher,
	       k->info.id_hex, outp);
done:
	keys_free_office_secret(k);
	free(text);
	free(signed_text);
	codelists_free(&cl);
	diag_free(&d);
	return 0;
fail:
	atomic_abort(&af);
	rc = cli_report(&d, CMD);
	keys_free_office_secret(k);
	free(text);
	free(signed_text);
	codelists_free(&cl);
	diag_free(&d);
	return rc;
}
