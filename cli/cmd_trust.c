/* tipstat trust: the aggregator's trust store of office public keys.
 * Every change goes through the warehouse in one transaction with its
 * audit entry (aggregator/warehouse.h wh_key_*). */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "aggregator/warehouse.h"
#include "cli/cli.h"
#include "ingest/keys.h"

static const char usage_text[] =
"usage: tipstat trust [--warehouse DB] add OFFICE.pub\n"
"       tipstat trust [--warehouse DB] rotate OLD_KEY_ID NEW_OFFICE.pub\n"
"       tipstat trust [--warehouse DB] revoke COUNTRY KEY_ID\n"
"       tipstat trust [--warehouse DB] list [COUNTRY]\n"
"\n"
"Manage which office keys the aggregator trusts for each country. `add`\n"
"trusts the key in an office public key file (its country is read from the\n"
"file); `rotate` trusts a new key of the same country and revokes the old\n"
"one in one step; `revoke` stops trusting a key (packages signed with it\n"
"are refused from then on; what was accepted stays). Each change is in the\n"
"audit trail. Check a key's id with the office by another channel (phone,\n"
"letter) before adding it: `tipstat keygen --describe OFFICE.pub`.\n"
"\n"
"options:\n"
"  -w, --warehouse DB    warehouse database (default $TIPSTAT_WAREHOUSE or\n"
"                        ./warehouse.db; created by add when missing)\n"
"  -h, --help            this help\n"
"\n"
"exit codes: 0 ok, 64 usage, 65 bad key or key already known, 66 no input,\n"
"            77 key file refused\n";

static int list_keys(wh *w, const char *country, diag *d)
{
	wh_key *k = NULL;
	size_t n = 0;
	if (wh_key_list(w, country, &k, &n, d) != 0)
		return -1;
	printf("%-7s %-16s %-8s %-20s %s\n", "country", "key_id", "state", "added", "revoked");
	for (size_t i = 0; i < n; i++)
		printf("%-7s %-16s %-8s %-20s %s\n", k[i].country, k[i].key_id,
		       k[i].active ? "active" : "revoked", k[i].added_at,
		       k[i].revoked_at[0] ? k[i].revoked_at : "-");
	if (!n)
		printf("(no keys%s%s)\n", country ? " for " : "", country ? country : "");
	free(k);
	return 0;
}

int cmd_trust(int argc, char **argv)
{
	static const struct option lo[] = {
		{"warehouse", required_argument, 0, 'w'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *whp = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+w:h", lo, NULL)) != -1) {
		switch (c) {
		case 'w': whp = optarg; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return cli_usage_error("trust", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("trust", "give a subcommand: add, rotate, revoke or list");
	const char *sub = argv[optind];
	int nargs = argc - optind - 1;
	char **args = argv + optind + 1;
	int want = !strcmp(sub, "add") ? 1 : !strcmp(sub, "rotate") ? 2
	         : !strcmp(sub, "revoke") ? 2 : !strcmp(sub, "list") ? -1 : -2;
	if (want == -2)
		return cli_usage_error("trust", "unknown subcommand '%s'", sub);
	if ((want >= 0 && nargs != want) || (want == -1 && nargs > 1))
		return cli_usage_error("trust", "wrong number of arguments for '%s'", sub);
	if (sodium_init() < 0)
		return EX_SOFTWARE;
	diag d;
	diag_init(&d, 20);
	wh *w = NULL;
	char id[KEYS_ID_HEX];
	int rc = cli_open_warehouse(cli_warehouse_path(whp), !strcmp(sub, "add") ? WH_CREATE : 0,
	                            &w, "trust");
	if (rc)
		goto done;
	if (!strcmp(sub, "list")) {
		if (list_keys(w, nargs ? args[0] : NULL, &d) != 0)
			rc = cli_report(&d, "trust");
	} else if (!strcmp(sub, "revoke")) {
		if (wh_key_revoke(w, "trust", args[0], args[1], &d) != 0)
			rc = cli_report(&d, "trust");
		else
			printf("revoked %s key %s\n", args[0], args[1]);
	} else {
		keys_office_public pub;
		const char *file = args[nargs - 1];
		if (keys_load_office_public(file, &pub, &d) != 0) {
			rc = cli_report(&d, "trust");
			goto done;
		}
		int r = !strcmp(sub, "add")
		      ? wh_key_add(w, "trust", pub.info.country, pub.pk, id, &d)
		      : wh_key_rotate(w, "trust", pub.info.country, args[0], pub.pk, id, &d);
		if (r != 0) {
			rc = cli_report(&d, "trust");
			goto done;
		}
		printf("%s: trusting key %s for %s%s%s%s\n", file, id, pub.info.country,
		       !strcmp(sub, "rotate") ? "; revoked " : "",
		       !strcmp(sub, "rotate") ? args[0] : "",
		       pub.info.demo ? " (DEMO key: not for real submissions)" : "");
	}
done:
	wh_close(w);
	diag_free(&d);
	return rc;
}
