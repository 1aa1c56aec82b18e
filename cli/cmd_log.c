/* tipstat log: read and check the warehouse's hash-chained audit trail
 * (aggregator/auditlog.h). */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "aggregator/auditlog.h"
#include "aggregator/warehouse.h"
#include "cli/cli.h"

static const char usage_text[] =
"usage: tipstat log [--warehouse DB] show [--from SEQ] [--limit N]\n"
"       tipstat log [--warehouse DB] verify [--head HASH[@SEQ]]\n"
"       tipstat log [--warehouse DB] head\n"
"\n"
"The audit trail records every accepted and refused package, key change,\n"
"release and budget charge, each entry holding the hash of the one before.\n"
"`show` prints it; `head` prints the last entry's sequence number and hash,\n"
"to publish (in a report, a release note); `verify` recomputes the chain and\n"
"names the first edited, deleted or reordered entry, and with --head checks\n"
"that a hash published earlier is still in the chain.\n"
"\n"
"options:\n"
"  -w, --warehouse DB    warehouse database (default $TIPSTAT_WAREHOUSE or\n"
"                        ./warehouse.db)\n"
"      --from SEQ        show entries from SEQ on (default 1)\n"
"      --limit N         show at most N entries\n"
"      --head HASH[@SEQ] a published head to look for\n"
"  -h, --help            this help\n"
"\n"
"exit codes: 0 ok (verify: intact), 64 usage, 65 the chain is broken,\n"
"            66 no warehouse\n";

static int print_entry(void *ctx, const audit_entry *e)
{
	(void)ctx;
	printf("%6lld  %s  %-8s %-20s %s\n", (long long)e->seq, e->ts, e->actor, e->action,
	       e->detail);
	return 0;
}

int cmd_log(int argc, char **argv)
{
	static const struct option lo[] = {
		{"warehouse", required_argument, 0, 'w'}, {"from", required_argument, 0, 'F'},
		{"limit", required_argument, 0, 'L'}, {"head", required_argument, 0, 'H'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *whp = NULL, *head = NULL;
	size_t from = 1, limit = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "w:h", lo, NULL)) != -1) {
		switch (c) {
		case 'w': whp = optarg; break;
		case 'H': head = optarg; break;
		case 'F':
			if (cli_parse_size("log", "--from", optarg, &from) != 0)
				return EX_USAGE;
			break;
		case 'L':
			if (cli_parse_size("log", "--limit", optarg, &limit) != 0)
				return EX_USAGE;
			break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return cli_usage_error("log", "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("log", "give one subcommand: show, verify or head");
	const char *sub = argv[optind];
	if (strcmp(sub, "show") && strcmp(sub, "verify") && strcmp(sub, "head"))
		return cli_usage_error("log", "unknown subcommand '%s'", sub);
	if (sodium_init() < 0)
		return EX_SOFTWARE;
	wh *w = NULL;
	diag d;
	diag_init(&d, 20);
	int rc = cli_open_warehouse(cli_warehouse_path(whp), WH_READONLY, &w, "log");
	if (rc)
		goto done;
	sqlite3 *db = wh_db(w);
	if (!strcmp(sub, "show")) {
		printf("%6s  %-20s  %-8s %-20s %s\n", "seq", "time (UTC)", "actor", "action", "detail");
		if (audit_each(db, (int64_t)from, (int64_t)limit, print_entry, NULL, &d) != 0)
			rc = cli_report(&d, "log");
	} else if (!strcmp(sub, "head")) {
		int64_t seq;
		char hex[AUDIT_HEX];
		if (audit_head(db, &seq, hex, &d) != 0)
			rc = cli_report(&d, "log");
		else
			printf("%s@%lld\n", hex, (long long)seq);
	} else {
		char hh[AUDIT_HEX] = "";
		int64_t hseq = 0;
		if (head) {
			const char *at = strchr(head, '@');
			size_t hl = at ? (size_t)(at - head) : strlen(head);
			if (hl != 64) {
				rc = cli_usage_error("log", "--head wants 64 hex digits, optionally @SEQ");
				goto done;
			}
			memcpy(hh, head, 64);
			hh[64] = 0;
			if (at)
				hseq = strtoll(at + 1, NULL, 10);
		}
		audit_report rep;
		if (audit_verify(db, hseq, head ? hh : NULL, &rep, &d) != 0) {
			fprintf(stderr, "tipstat log: error: audit trail NOT intact: %s "
			        "(problem: %s, entry %lld)\n", rep.msg, audit_problem_name(rep.problem),
			        (long long)rep.bad_seq);
			rc = d.code ? d.code : EX_DATAERR;
		} else {
			printf("audit trail intact: %lld entries, head %s@%lld%s\n",
			       (long long)rep.n_entries, rep.head_hex, (long long)rep.last_seq,
			       head ? "; the published head is in the chain" : "");
		}
	}
done:
	wh_close(w);
	diag_free(&d);
	return rc;
}
