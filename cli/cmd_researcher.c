/* tipstat researcher: researcher accounts (privacy/researcher.h): grant,
 * raise, revoke, list.  Aggregator commands; each change is audited. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "aggregator/warehouse.h"
#include "cli/cli.h"
#include "ingest/keys.h"
#include "privacy/ledger.h"
#include "privacy/researcher.h"

static const char usage_text[] =
"usage: tipstat researcher [-w DB] grant ID --key RESEARCHER.pub --rho R --expires YYYY-MM-DD\n"
"       tipstat researcher [-w DB] raise ID --rho R [--expires YYYY-MM-DD]\n"
"       tipstat researcher [-w DB] revoke ID\n"
"       tipstat researcher [-w DB] list\n"
"\n"
"Researcher accounts: who may ask their own questions of the warehouse with\n"
"`tipstat query`, against which privacy budget (rho-zCDP, the ledger budget\n"
"researcher:ID) and until when. The researcher makes an Ed25519 key pair\n"
"with `tipstat keygen --type office --country ISO3 -o me.key` (the country\n"
"of their institution) and sends the aggregator me.key.pub; requests are\n"
"signed with `tipstat request sign --key me.key`.\n"
"\n"
"  grant ID     create the account with its budget; valid through --expires\n"
"  raise ID     set the budget's total to --rho (never below what is spent);\n"
"               --expires also moves the expiry\n"
"  revoke ID    no more answers for this account (it stays listed)\n"
"  list         accounts, expiry, status, total, spent and left\n"
"\n"
"options:\n"
"  -w, --warehouse DB    warehouse (default $TIPSTAT_WAREHOUSE or ./warehouse.db)\n"
"  -k, --key FILE        the researcher's public key file (grant)\n"
"  -r, --rho R           budget total: decimal or fraction, exact to 1e-9\n"
"  -e, --expires DATE    last valid day, YYYY-MM-DD (UTC)\n"
"  -h, --help            this help\n"
"\n"
"exit codes: 0 ok, 64 usage, 65 bad value, unknown or known account, 66 no\n"
"            warehouse or key file, 75 warehouse locked, 77 key file refused\n";

#define CMD "researcher"

int cmd_researcher(int argc, char **argv)
{
	static const struct option lo[] = {
		{"warehouse", required_argument, 0, 'w'}, {"key", required_argument, 0, 'k'},
		{"rho", required_argument, 0, 'r'}, {"expires", required_argument, 0, 'e'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *whp = NULL, *keyp = NULL, *rho_s = NULL, *exp_s = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "w:k:r:e:h", lo, NULL)) != -1) {
		switch (c) {
		case 'w': whp = optarg; break;
		case 'k': keyp = optarg; break;
		case 'r': rho_s = optarg; break;
		case 'e': exp_s = optarg; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return cli_usage_error(CMD, "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error(CMD, "give a subcommand: grant, raise, revoke or list");
	const char *sub = argv[optind];
	int nargs = argc - optind - 1;
	const char *id = nargs >= 1 ? argv[optind + 1] : NULL;
	int is_grant = !strcmp(sub, "grant"), is_raise = !strcmp(sub, "raise"),
	    is_revoke = !strcmp(sub, "revoke"), is_list = !strcmp(sub, "list");
	if (!is_grant && !is_raise && !is_revoke && !is_list)
		return cli_usage_error(CMD, "unknown subcommand '%s'", sub);
	if (nargs != (is_list ? 0 : 1))
		return cli_usage_error(CMD, "%s takes %s", sub, is_list ? "no argument" : "one ID");
	if (is_grant && (!keyp || !rho_s || !exp_s))
		return cli_usage_error(CMD, "grant needs --key, --rho and --expires");
	if (is_raise && !rho_s)
		return cli_usage_error(CMD, "raise needs --rho");
	if ((is_revoke || is_list) && (keyp || rho_s || exp_s))
		return cli_usage_error(CMD, "%s takes no --key, --rho or --expires", sub);
	if (exp_s && !rsr_valid_date(exp_s))
		return cli_usage_error(CMD, "--expires '%s': use YYYY-MM-DD", exp_s);
	if (sodium_init() < 0) {
		fprintf(stderr, "tipstat %s: error: libsodium failed to initialise\n", CMD);
		return EX_SOFTWARE;
	}
	diag d = DIAG_INIT;
	int64_t rho = -1;
	if (rho_s && ledger_parse_rho(rho_s, &rho, &d) != 0) {
		int rc = cli_report(&d, CMD);
		diag_free(&d);
		return rc;
	}
	keys_office_public pub;
	if (keyp && keys_load_office_public(keyp, &pub, &d) != 0) {
		int rc = cli_report(&d, CMD);
		diag_free(&d);
		return rc;
	}
	wh *w;
	int rc = cli_open_warehouse(cli_warehouse_path(whp), 0, &w, CMD);
	if (rc)
		return rc;
	sqlite3 *db = wh_db(w);
	char r[LEDGER_RHO_STR];
	if (is_grant) {
		if (rsr_grant(db, "researcher", id, pub.pk, rho, exp_s, &d) != 0)
			goto fail;
		ledger_format_rho(rho, r);
		printf("researcher %s: account granted, key %s, budget %s rho, valid through %s\n", id,
		       pub.info.id_hex, r, exp_s);
	} else if (is_raise) {
		if (rsr_raise(db, "researcher", id, rho, exp_s, &d) != 0)
			goto fail;
		rsr_account a;
		if (rsr_get(db, id, &a, &d) != 0)
			goto fail;
		char l[LEDGER_RHO_STR];
		ledger_format_rho(a.total, r);
		ledger_format_rho(a.total - a.spent, l);
		printf("researcher %s: budget total %s rho, %s rho left, valid through %s\n", id, r, l,
		       a.expires);
	} else if (is_revoke) {
		if (rsr_revoke(db, "researcher", id, &d) != 0)
			goto fail;
		printf("researcher %s: revoked\n", id);
	} else {
		rsr_account *a;
		size_t n;
		if (rsr_list(db, &a, &n, &d) != 0)
			goto fail;
		char today[21];
		cli_now(today);
		if (!n)
			printf("no researcher accounts (tipstat researcher grant creates one)\n");
		else
			printf("%-20s %-16s %-10s %-8s %-12s %-12s %s\n", "id", "key id", "expires",
			       "status", "total", "spent", "left");
		for (size_t i = 0; i < n; i++) {
			char t[LEDGER_RHO_STR], s[LEDGER_RHO_STR], l[LEDGER_RHO_STR];
			ledger_format_rho(a[i].total, t);
			ledger_format_rho(a[i].spent, s);
			ledger_format_rho(a[i].total - a[i].spent, l);
			const char *st = a[i].revoked_at[0] ? "revoked"
			                 : strncmp(today, a[i].expires, 10) > 0 ? "expired" : "active";
			printf("%-20s %-16s %-10s %-8s %-12s %-12s %s\n", a[i].id, a[i].key_id,
			       a[i].expires, st, t, s, l);
		}
		free(a);
	}
	wh_close(w);
	diag_free(&d);
	return 0;
fail:
	rc = cli_report(&d, CMD);
	diag_free(&d);
	wh_close(w);
	return rc;
}
