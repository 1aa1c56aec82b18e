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
	const char *method, *name, *indicator;
	int quiet;                    /* no progress line */
	const char *out;              /* where the files are written: a private
	                                 temporary directory next to `dest` */
	const char *dest;             /* the -o directory the user named */
	int64_t as_of;
	/* kanon */
	unsigned k, l;
	double max_suppress_pct;
	/* suppression */
	long threshold;               /* primary: 0 < v < threshold */
	int zeros_sensitive;
	const char *supp_method;      /* auto | glpk | heuristic */
	int quarters;                 /* publish quarters too */
	long cleanup_s;               /* clean-up budget per table, seconds */
	long threads;                 /* tables protected at once */
	/* dp */
	const char *rho;              /* exact decimal (ledger_parse_rho) */
	const char *seed;             /* deterministic test seed: NOT PRIVATE */
	const char *budget;           /* ledger principal charged */
} protect_opts;

void protect_opts_default(protect_opts *po);

#define PROTECT_METHODS_HELP \
"  suppression   the cube's tables (every indicator and year: geography x\n" \
"                period x breakdowns, linked by all their totals) with small\n" \
"                counts hidden (primary), enough other cells hidden that no\n" \
"                small count can be worked out from the totals (secondary),\n" \
"                and an LP audit of every hidden cell; refused (77) if any\n" \
"                small count could be narrowed; writes DIR/release.csv\n" \
"  dp            the cube's annual tables with discrete Gaussian noise\n" \
"                (zero-concentrated DP, budget --rho charged to the ledger\n" \
"                budget --budget), post-processed to consistent non-negative\n" \
"                integers with 90%% margins of error; re-running a release\n" \
"                name re-issues its stored answers without new noise\n"

#define PROTECT_OPTIONS_HELP \
"      --threshold T     suppression: counts 1..T-1 are sensitive (default 5)\n" \
"      --zeros POLICY    suppression: publish (default) or sensitive\n" \
"      --supp-method M   suppression: auto (default), glpk or heuristic\n" \
"      --quarters        suppression: publish quarters as well as years (much\n" \
"                        slower; default: annual tables, quarters unpublished)\n" \
"      --cleanup-seconds S  suppression: time for publishing again hidden cells\n" \
"                        that turn out not to be needed, per table (default 20;\n" \
"                        less time hides more, never protects less)\n" \
"      --threads N       suppression: tables protected at once (default 2)\n" \
"      --rho R           dp: the release's zCDP budget, exact decimal (default 0.5),\n" \
"                        split equally over the (indicator, year) tables\n" \
"      --budget NAME     dp: ledger budget charged (default releases; see\n" \
"                        tipstat budget)\n" \
"      --seed N          dp, TESTS ONLY: reproducible noise; the release is stamped\n" \
"                        NOT PRIVATE and charges nothing; needs the environment\n" \
"                        variable TIPSTAT_ALLOW_TEST_SEED=1\n"

#define PROTECT_LONG_OPTIONS \
	{"threshold", required_argument, 0, 1001}, {"zeros", required_argument, 0, 1002}, \
	{"supp-method", required_argument, 0, 1003}, {"rho", required_argument, 0, 1004}, \
	{"seed", required_argument, 0, 1005}, {"budget", required_argument, 0, 1006}, \
	{"quarters", no_argument, 0, 1007}, {"cleanup-seconds", required_argument, 0, 1008}, \
	{"threads", required_argument, 0, 1009},

/* 0 if c was one of the table options (stored in po), -1 otherwise. */
int protect_parse_option(protect_opts *po, int c, const char *arg);
/* Run a table method (po->method "suppression" or "dp") into po->out. */
int protect_tables(const protect_opts *po, wh *w, const codelists *cl, diag *d);
/* Remove what a failed run left in dir, then dir itself. */
void protect_remove_dir(const char *dir);

#endif
