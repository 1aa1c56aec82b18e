/* tipstat status: the coverage matrix of the warehouse (countries x years,
 * quarter by quarter, with versions and gaps). */
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
"usage: tipstat status [--warehouse DB] [--csv]\n"
"\n"
"Print who has reported what: one line per country, one column per year.\n"
"A year shows its four quarters, each as the latest version received\n"
"(1-9, + for 10 or more) or '.' when missing; an annual submission shows as\n"
"A and its version. Then the gaps, and the audit head to quote.\n"
"\n"
"options:\n"
"  -w, --warehouse DB    warehouse database (default $TIPSTAT_WAREHOUSE or\n"
"                        ./warehouse.db)\n"
"      --csv             country,period,version,versions,kind,received_at\n"
"  -h, --help            this help\n"
"\n"
"exit codes: 0 ok, 64 usage, 66 no warehouse\n";

static char vch(uint32_t v) { return v >= 10 ? '+' : (char)('0' + v); }

static void print_matrix(const wh_status_entry *e, size_t n)
{
	int y0 = 9999, y1 = 0;
	for (size_t i = 0; i < n; i++) {
		int y = atoi(e[i].period);
		if (y < y0) y0 = y;
		if (y > y1) y1 = y;
	}
	if (!n) {
		printf("the warehouse holds no submission yet\n");
		return;
	}
	printf("%-8s", "country");
	for (int y = y0; y <= y1; y++)
		printf(" %-5d", y);
	printf("\n");
	int *per_year = calloc((size_t)(y1 - y0 + 1), sizeof *per_year);
	size_t n_countries = 0, n_gaps = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && !strcmp(e[j].country, e[i].country))
			j++;
		n_countries++;
		printf("%-8s", e[i].country);
		for (int y = y0; y <= y1; y++) {
			char cell[6] = "....";
			int any = 0;
			for (size_t k = i; k < j; k++) {
				if (atoi(e[k].period) != y)
					continue;
				any = 1;
				if (strlen(e[k].period) == 4)
					snprintf(cell, sizeof cell, "A%c", vch(e[k].version));
				else if (e[k].period[6] >= '1' && e[k].period[6] <= '4' && cell[0] != 'A')
					cell[e[k].period[6] - '1'] = vch(e[k].version);
			}
			if (any)
				per_year[y - y0]++;
			if (any && cell[0] != 'A' && strchr(cell, '.'))
				n_gaps++;
			printf(" %-5s", any ? cell : "-");
		}
		printf("\n");
		i = j;
	}
	printf("%-8s", "reported");
	for (int y = y0; y <= y1; y++)
		printf(" %-5d", per_year[y - y0]);
	printf("\n%zu countries; %zu country-years with missing quarters; '-' = nothing "
	       "for that year\n", n_countries, n_gaps);
	free(per_year);
}

int cmd_status(int argc, char **argv)
{
	static const struct option lo[] = {
		{"warehouse", required_argument, 0, 'w'}, {"csv", no_argument, 0, 'c'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *whp = NULL;
	int csv = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "w:h", lo, NULL)) != -1) {
		switch (c) {
		case 'w': whp = optarg; break;
		case 'c': csv = 1; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return cli_usage_error("status", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("status", "no arguments expected");
	if (sodium_init() < 0)
		return EX_SOFTWARE;
	wh *w = NULL;
	diag d;
	diag_init(&d, 20);
	wh_status_entry *e = NULL;
	size_t n = 0;
	int rc = cli_open_warehouse(cli_warehouse_path(whp), WH_READONLY, &w, "status");
	if (rc)
		goto done;
	if (wh_status(w, &e, &n, &d) != 0) {
		rc = cli_report(&d, "status");
		goto done;
	}
	if (csv) {
		printf("country,period,version,versions,kind,received_at\n");
		for (size_t i = 0; i < n; i++)
			printf("%s,%s,%u,%lld,%s,%s\n", e[i].country, e[i].period, e[i].version,
			       (long long)e[i].n_versions, e[i].kind == WH_RECORDS ? "records" : "cells",
			       e[i].received_at);
	} else {
		print_matrix(e, n);
		int64_t seq;
		char hex[AUDIT_HEX];
		if (audit_head(wh_db(w), &seq, hex, &d) == 0)
			printf("audit head %s@%lld\n", hex, (long long)seq);
	}
done:
	free(e);
	wh_close(w);
	diag_free(&d);
	return rc;
}
