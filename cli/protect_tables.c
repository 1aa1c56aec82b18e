/* protect_tables: the table methods of `tipstat protect`. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "cli/protect.h"

void protect_opts_default(protect_opts *po)
{
	memset(po, 0, sizeof *po);
	po->indicator = "VIC";
	po->max_suppress_pct = -1;
	po->threshold = 5;
	po->supp_method = "auto";
	po->rho = 0.5;
	po->budget = "release";
}

int protect_parse_option(protect_opts *po, int c, const char *arg)
{
	switch (c) {
	case 1001: po->threshold = atol(arg); return po->threshold >= 1 ? 0 : -1;
	case 1002:
		if (!strcmp(arg, "publish")) po->zeros_sensitive = 0;
		else if (!strcmp(arg, "sensitive")) po->zeros_sensitive = 1;
		else return -1;
		return 0;
	case 1003: po->supp_method = arg; return 0;
	case 1004: po->rho = atof(arg); return po->rho > 0 ? 0 : -1;
	case 1005: po->seed = arg; return 0;
	case 1006: po->budget = arg; return 0;
	default: return -1;
	}
}

void protect_remove_dir(const char *dir)
{
	DIR *dd = opendir(dir);
	if (!dd)
		return;
	struct dirent *e;
	char path[4096];
	while ((e = readdir(dd)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(dd);
	rmdir(dir);
}

int protect_tables(const protect_opts *po, wh *w, const codelists *cl, diag *d)
{
	(void)w;
	(void)cl;
	if (!strcmp(po->method, "suppression") || !strcmp(po->method, "dp"))
		return diag_fail(d, EX_USAGE, "method '%s' is not available in this build; only "
		                 "kanon (record releases) is", po->method);
	return diag_fail(d, EX_USAGE, "unknown method '%s' (kanon)", po->method);
}
