/* tipstat submission: list the stored submissions, or write one back as
 * its canonical file (byte-identical to what the office sealed; the stored
 * SHA-256 is re-checked). */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "aggregator/warehouse.h"
#include "cli/cli.h"
#include "core/atomic.h"

static const char usage_text[] =
"usage: tipstat submission [--warehouse DB] list\n"
"       tipstat submission [--warehouse DB] export ID -o FILE\n"
"\n"
"`list` prints every stored submission version (id, country, periods,\n"
"version, kind, rows, received, signer key, package SHA-256); `export`\n"
"writes submission ID back exactly as it was sealed, after checking its\n"
"stored hash.\n"
"\n"
"options:\n"
"  -w, --warehouse DB    warehouse (default $TIPSTAT_WAREHOUSE or ./warehouse.db)\n"
"  -o, --output FILE     export: where to write\n"
"  -h, --help            this help\n"
"\n"
"exit codes: 0 ok, 64 usage, 65 stored data damaged or no such id, 66 no\n"
"            warehouse, 73/74 cannot write\n";

static int list(wh *w, diag *d)
{
	printf("%5s %-7s %-8s %-44s %-8s %8s  %-20s %-16s\n", "id", "country", "version", "periods",
	       "kind", "rows", "received", "signer");
	for (int64_t id = 1;; id++) {
		wh_submission s;
		diag tmp;
		diag_init(&tmp, 2);
		int rc = wh_submission_get(w, id, &s, &tmp);
		diag_free(&tmp);
		if (rc != 0)
			break;
		char per[45];
		size_t pl = strlen(s.periods);
		memcpy(per, s.periods, pl < 44 ? pl + 1 : 44);
		per[44] = 0;
		if (pl > 44)
			memcpy(per + 40, "...", 4);
		printf("%5lld %-7s %-8u %-44s %-8s %8lld  %-20s %-16s\n", (long long)s.id, s.country,
		       s.version, per, s.kind == WH_RECORDS ? "records" : "cells", (long long)s.n_rows,
		       s.received_at, s.signer_key_id[0] ? s.signer_key_id : "-");
	}
	(void)d;
	return 0;
}

int cmd_submission(int argc, char **argv)
{
	static const struct option lo[] = {
		{"warehouse", required_argument, 0, 'w'}, {"output", required_argument, 0, 'o'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *whp = NULL, *out = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "w:o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'w': whp = optarg; break;
		case 'o': out = optarg; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return cli_usage_error("submission", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("submission", "give a subcommand: list or export");
	const char *sub = argv[optind];
	int is_export = !strcmp(sub, "export");
	if (!is_export && strcmp(sub, "list"))
		return cli_usage_error("submission", "unknown subcommand '%s'", sub);
	if (is_export && (optind + 2 != argc || !out))
		return cli_usage_error("submission", "export needs ID and -o FILE");
	if (!is_export && optind + 1 != argc)
		return cli_usage_error("submission", "list takes no argument");
	if (sodium_init() < 0)
		return EX_SOFTWARE;
	wh *w = NULL;
	diag d;
	diag_init(&d, 20);
	int rc = cli_open_warehouse(cli_warehouse_path(whp), WH_READONLY, &w, "submission");
	if (rc)
		goto done;
	if (!is_export) {
		list(w, &d);
		goto done;
	}
	char *end;
	long long id = strtoll(argv[optind + 1], &end, 10);
	if (*end || id < 1) {
		rc = cli_usage_error("submission", "ID must be a submission number");
		goto done;
	}
	atomic_file af;
	if (atomic_open(out, 0600, &af, &d) != 0) {
		rc = cli_report(&d, "submission");
		goto done;
	}
	if (wh_export_submission(w, id, af.fp, &d) != 0) {
		if (d.code == EX_IOERR) {   /* the library does not know the file's name */
			char msg[sizeof d.msg];
			memcpy(msg, d.msg, sizeof msg);
			diag_fail(&d, EX_IOERR, "%s: %s", out, msg);
		}
		atomic_abort(&af);
		rc = cli_report(&d, "submission");
	} else if (atomic_commit(&af, &d) != 0) {
		atomic_abort(&af);
		rc = cli_report(&d, "submission");
	}
done:
	wh_close(w);
	diag_free(&d);
	return rc;
}
