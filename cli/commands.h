/* commands: the list of tipstat commands, one X(name, summary) each.
 * Adding a command is adding a line here and a cli/cmd_<name>.c. */
#ifndef TIPSTAT_COMMANDS_H
#define TIPSTAT_COMMANDS_H

#define TIPSTAT_COMMANDS \
	X(ingest, "validate and harmonise a national file into the data standard") \
	X(keygen, "make an office, aggregator or pseudonym key") \
	X(seal, "sign and encrypt a harmonised submission for the aggregator") \
	X(accept, "verify, decrypt and load sealed packages into the warehouse") \
	X(trust, "add, rotate, revoke and list the office keys the aggregator trusts") \
	X(status, "coverage matrix: who reported which periods, with versions") \
	X(submission, "list stored submissions, or write one back byte for byte") \
	X(log, "show and verify the hash-chained audit trail") \
	X(aggregate, "build the cube from the warehouse and show the unprotected overview") \
	X(protect, "make a protected release: k-anonymous records or protected tables") \
	X(budget, "privacy budgets (rho-zCDP): set totals, show what is left, list spends") \
	X(report, "tidy CSV, SDMX-CSV and an HTML report from a release") \
	X(researcher, "researcher accounts: grant, raise, revoke and list, with their budgets") \
	X(request, "sign (or check) a researcher's request for tipstat query") \
	X(query, "answer a researcher's signed request with noise, charged to their budget") \
	X(export, "a release's tables for researchers: CSV, SDMX-CSV and a README")

#define X(name, summary) int cmd_##name(int argc, char **argv);
TIPSTAT_COMMANDS
#undef X

#endif
