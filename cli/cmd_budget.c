/* tipstat budget: the privacy-budget ledger in the warehouse
 * (privacy/ledger.h): set totals, show what is left, list the spends. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "aggregator/warehouse.h"
#include "cli/cli.h"
#include "privacy/ledger.h"

static const char usage_text[] =
"usage: tipstat budget [-w DB] set NAME RHO\n"
"       tipstat budget [-w DB] show [NAME] [--delta D]\n"
"       tipstat budget [-w DB] spends [NAME]\n"
"       tipstat budget [-w DB] spend NAME WHAT RHO [--split S]   (aggregator only)\n"
"\n"
"Privacy budgets in zero-concentrated differential privacy (rho-zCDP). A\n"
"budget (\"releases\" for the aggregator's table releases, \"researcher:ID\"\n"
"for a researcher) has a total; every release or answer charged to it is\n"
"recorded as a spend, and a spend that would take it past its total is\n"
"refused (exit 77) with the amount left. Amounts are exact: whole numbers\n"
"of nano-rho (1e-9), written as decimals (0.5, 1e-3) or fractions (1/8);\n"
"a value finer than 1e-9 is refused, never rounded.\n"
"\n"
"  set NAME RHO      create a budget or change its total (never below what\n"
"                    is already spent); recorded in the audit trail\n"
"  show [NAME]       total, spent and left, in rho, nano-rho and the\n"
"                    (epsilon, delta)-DP equivalent\n"
"                    eps = rho + 2 sqrt(rho ln(1/delta))\n"
"  spends [NAME]     every spend: when, for what, rho and its split\n"
"  spend NAME WHAT RHO\n"
"                    charge RHO to NAME for WHAT by hand (aggregator only:\n"
"                    maintenance and tests; releases are charged by\n"
"                    `tipstat protect`). --split LABEL:RHO,... records how\n"
"                    it divides across levels/tables and must add up to RHO\n"
"\n"
"options:\n"
"  -w, --warehouse DB    warehouse (default $TIPSTAT_WAREHOUSE or ./warehouse.db)\n"
"      --delta D         delta for the epsilon equivalent (default 1e-9)\n"
"      --split S         spend: the split, e.g. country:0.25,region:0.25\n"
"  -h, --help            this help\n"
"\n"
"docs/privacy-budget.md explains units, the transaction and the conversion.\n"
"\n"
"exit codes: 0 ok, 64 usage, 65 bad value (or no such budget), 66 no\n"
"            warehouse, 75 warehouse locked, 77 refused (overspend, or no\n"
"            budget to spend from)\n";

#define CMD "budget"

static void show_budget(const ledger_budget *b, double delta)
{
	char t[LEDGER_RHO_STR], s[LEDGER_RHO_STR], l[LEDGER_RHO_STR];
	ledger_format_rho(b->total, t);
	ledger_format_rho(b->spent, s);
	ledger_format_rho(b->total - b->spent, l);
	printf("budget %s (%lld spend%s; total set %s)\n", b->name, (long long)b->n_spends,
	       b->n_spends == 1 ? "" : "s", b->updated);
	printf("  %-7s %-14s %-18s %s\n", "", "rho", "nano-rho", "epsilon at delta");
	printf("  %-7s %-14s %-18lld %.6g @ %g\n", "total", t, (long long)b->total,
	       ledger_epsilon(b->total, delta), delta);
	printf("  %-7s %-14s %-18lld %.6g @ %g\n", "spent", s, (long long)b->spent,
	       ledger_epsilon(b->spent, delta), delta);
	printf("  %-7s %-14s %-18lld %.6g @ %g\n", "left", l, (long long)(b->total - b->spent),
	       ledger_epsilon(b->total - b->spent, delta), delta);
}

static int do_show(sqlite3 *db, const char *name, double delta, diag *d)
{
	ledger_budget *b;
	size_t n;
	if (ledger_list_budgets(db, &b, &n, d) != 0)
		return cli_report(d, CMD);
	int found = 0;
	for (size_t i = 0; i < n; i++) {
		if (name && strcmp(b[i].name, name))
			continue;
		if (found)
			putchar('\n');
		show_budget(&b[i], delta);
		found = 1;
	}
	free(b);
	if (name && !found) {
		fprintf(stderr, "tipstat budget: error: no budget named '%s' (tipstat budget set "
		        "creates one)\n", name);
		return EX_DATAERR;
	}
	if (!found)
		printf("no budgets yet (tipstat budget set NAME RHO creates one)\n");
	return 0;
}

static int do_spends(sqlite3 *db, const char *name, diag *d)
{
	if (name) {
		int64_t t, s;
		if (ledger_get(db, name, &t, &s, d) != 0)
			return cli_report(d, CMD);
	}
	ledger_spend *sp;
	size_t n;
	if (ledger_list_spends(db, name, &sp, &n, d) != 0)
		return cli_report(d, CMD);
	printf("%5s  %-20s  %-16s %-24s %-14s %6s  %s\n", "id", "time (UTC)", "budget", "what",
	       "rho", "audit", "split");
	for (size_t i = 0; i < n; i++) {
		char r[LEDGER_RHO_STR];
		ledger_format_rho(sp[i].rho, r);
		printf("%5lld  %-20s  %-16s %-24s %-14s %6lld  %s\n", (long long)sp[i].id, sp[i].ts,
		       sp[i].budget, sp[i].what, r, (long long)sp[i].audit_seq,
		       *sp[i].split ? sp[i].split : "-");
	}
	free(sp);
	return 0;
}

int cmd_budget(int argc, char **argv)
{
	static const struct option lo[] = {
		{"warehouse", required_argument, 0, 'w'}, {"delta", required_argument, 0, 'D'},
		{"split", required_argument, 0, 'S'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *whp = NULL, *split = NULL;
	double delta = LEDGER_DELTA_DEFAULT;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "w:h", lo, NULL)) != -1) {
		switch (c) {
		case 'w': whp = optarg; break;
		case 'S': split = optarg; break;
		case 'D': {
			char *end;
			delta = strtod(optarg, &end);
			if (end == optarg || *end || !(delta > 0 && delta < 1))
				return cli_usage_error(CMD, "--delta wants a number between 0 and 1, not '%s'",
				                       optarg);
			break;
		}
		case 'h': fputs(usage_text, stdout); return 0;
		default: return cli_usage_error(CMD, "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error(CMD, "give a subcommand: set, show, spends or spend");
	const char *sub = argv[optind];
	int nargs = argc - optind - 1;
	char **args = argv + optind + 1;
	int writes;
	if (!strcmp(sub, "set")) {
		if (nargs != 2)
			return cli_usage_error(CMD, "set wants NAME RHO");
		writes = 1;
	} else if (!strcmp(sub, "spend")) {
		if (nargs != 3)
			return cli_usage_error(CMD, "spend wants NAME WHAT RHO");
		writes = 1;
	} else if (!strcmp(sub, "show") || !strcmp(sub, "spends")) {
		if (nargs > 1)
			return cli_usage_error(CMD, "%s wants at most one NAME", sub);
		writes = 0;
	} else {
		return cli_usage_error(CMD, "unknown subcommand '%s'", sub);
	}
	if (split && strcmp(sub, "spend"))
		return cli_usage_error(CMD, "--split goes with spend");
	if (nargs >= 1 && !ledger_valid_name(args[0]))
		return cli_usage_error(CMD, "budget name '%s': use 1-64 of A-Z a-z 0-9 _ . : -",
		                       args[0]);
	if (!strcmp(sub, "spend") && !ledger_valid_name(args[1]))
		return cli_usage_error(CMD, "WHAT '%s': use 1-64 of A-Z a-z 0-9 _ . : -", args[1]);
	diag d;
	diag_init(&d, 20);
	int64_t rho = 0;
	if (writes && ledger_parse_rho(args[nargs - 1], &rho, &d) != 0) {
		int rc = cli_report(&d, CMD);
		diag_free(&d);
		return rc;
	}
	if (sodium_init() < 0) {
		diag_free(&d);
		return EX_SOFTWARE;
	}
	wh *w = NULL;
	int rc = cli_open_warehouse(cli_warehouse_path(whp), writes ? 0 : WH_READONLY, &w, CMD);
	if (rc)
		goto done;
	sqlite3 *db = wh_db(w);
	char r[LEDGER_RHO_STR], l[LEDGER_RHO_STR];
	ledger_format_rho(rho, r);
	if (!strcmp(sub, "set")) {
		int64_t t, s;
		if (ledger_set_total(db, CMD, args[0], rho, &d) != 0 ||
		    ledger_get(db, args[0], &t, &s, &d) != 0) {
			rc = cli_report(&d, CMD);
			goto done;
		}
		ledger_format_rho(t - s, l);
		printf("budget %s: total %s rho, %s rho left\n", args[0], r, l);
	} else if (!strcmp(sub, "spend")) {
		int64_t id, t, s;
		if (ledger_charge(db, CMD, args[0], args[1], rho, split, &id, &d) != 0 ||
		    ledger_get(db, args[0], &t, &s, &d) != 0) {
			rc = cli_report(&d, CMD);
			if (rc == EX_NOPERM)
				fprintf(stderr, "tipstat budget: nothing was charged\n");
			goto done;
		}
		ledger_format_rho(t - s, l);
		printf("charged %s rho to %s for %s (spend %lld); %s rho left\n", r, args[0], args[1],
		       (long long)id, l);
	} else if (!strcmp(sub, "show")) {
		rc = do_show(db, nargs ? args[0] : NULL, delta, &d);
	} else {
		rc = do_spends(db, nargs ? args[0] : NULL, &d);
	}
done:
	wh_close(w);
	diag_free(&d);
	return rc;
}
