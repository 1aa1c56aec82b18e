/* protect: what cmd_protect.c (options, the record method) shares with
 * protect_tables.c (the table methods: suppression and differential
 * privacy over the cube). */
#ifndef TIPSTAT_CLI_PROTECT_H
#define TIPSTAT_CLI_PROTECT_H

#include <getopt.h>
#include <stdint.h>
#include "aggregator/warehouse.h"
#include "core/codelist.h"
#include "core/diag.h"

typedef struct protect_opts {
	const char *method, *name, *out, *indicator;
	int64_t as_of;
	/* kanon */
	unsigned k, l;
	double max_suppress_pct;
	/* suppression */
	long threshold;               /* primary: 0 < v < threshold */
	int zeros_sensitive;
	const char *supp_method;      /* auto | glpk | heuristic */
	/* dp */
	double rho;
	const char *seed;             /* deterministic test seed: NOT PRIVATE */
	const char *budget;           /* ledger principal charged */
} protect_opts;

void protect_opts_default(protect_opts *po);

#define PROTECT_METHODS_HELP \
"  suppression   tables: primary suppression of counts below --threshold and\n" \
"                secondary suppression across every linked margin (country\n" \
"                within subregion within region within world, sex x age,\n" \
"                forms, citizenship, quarters within the year), then an LP\n" \
"                audit of every suppressed cell; refused (77) if any small\n" \
"                cell could be narrowed below its protection interval\n" \
"  dp            tables: discrete Gaussian noise (zCDP, --rho) on country\n" \
"                figures, aggregates derived by summation; charged to the\n" \
"                privacy-budget ledger, refused (77) when it would overspend\n"

#define PROTECT_OPTIONS_HELP \
"      --threshold N     suppression: counts 1..N-1 are sensitive (default 5)\n" \
"      --zeros MODE      suppression: publish (default) or sensitive\n" \
"      --supp-method M   suppression: auto (default), glpk or heuristic\n" \
"      --rho R           dp: zCDP cost of the release (default 0.5)\n" \
"      --budget NAME     dp: ledger principal charged (default \"release\")\n" \
"      --seed N          dp: deterministic noise for tests; the release is\n" \
"                        stamped NOT PRIVATE\n"

#define PROTECT_LONG_OPTIONS \
	{"threshold", required_argument, 0, 1001}, {"zeros", required_argument, 0, 1002}, \
	{"supp-method", required_argument, 0, 1003}, {"rho", required_argument, 0, 1004}, \
	{"seed", required_argument, 0, 1005}, {"budget", required_argument, 0, 1006},

/* 0 if c was one of the table options (stored in po), -1 otherwise. */
int protect_parse_option(protect_opts *po, int c, const char *arg);
/* Run a table method (po->method "suppression" or "dp") into po->out. */
int protect_tables(const protect_opts *po, wh *w, const codelists *cl, diag *d);
/* Remove what a failed run left in dir, then dir itself. */
void protect_remove_dir(const char *dir);

#endif
