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
"  (suppression and dp, the table methods, are not in this build yet:\n" \
"   protect refuses them rather than publish unprotected tables)\n"

#define PROTECT_OPTIONS_HELP ""

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
