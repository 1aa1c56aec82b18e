/* protect_tables: the table methods of `tipstat protect`. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "aggregator/whcube.h"
#include "cli/cli.h"
#include "cli/protect.h"
#include "privacy/cubesupp.h"
#include "privacy/relreg.h"
#include "privacy/tabrel.h"

void protect_opts_default(protect_opts *po)
{
	memset(po, 0, sizeof *po);
	po->indicator = "VIC";
	po->max_suppress_pct = -1;
	po->threshold = 5;
	po->supp_method = "auto";
	po->rho = 0.5;
	po->budget = "release";
	po->cleanup_s = 20;
	po->threads = 2;
}

static int parse_long(const char *arg, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int protect_parse_option(protect_opts *po, int c, const char *arg)
{
	switch (c) {
	case 1001: return parse_long(arg, 1, 1000000, &po->threshold);
	case 1002:
		if (!strcmp(arg, "publish")) po->zeros_sensitive = 0;
		else if (!strcmp(arg, "sensitive")) po->zeros_sensitive = 1;
		else return -1;
		return 0;
	case 1003: po->supp_method = arg; return 0;
	case 1004: po->rho = atof(arg); return po->rho > 0 ? 0 : -1;
	case 1005: po->seed = arg; return 0;
	case 1006: po->budget = arg; return 0;
	case 1007: po->quarters = 1; return 0;
	case 1008: return parse_long(arg, 0, 86400, &po->cleanup_s);
	case 1009: return parse_long(arg, 1, 64, &po->threads);
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

/* Every output file of a table release with its SHA-256, for the register. */
static int release_outputs(const char *dir, char *out, size_t size, diag *d)
{
	static const char *const files[] = {"release.csv", "release.json"};
	size_t used = 0;
	out[0] = 0;
	for (size_t i = 0; i < 2; i++) {
		char path[4096], hex[65];
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		if (cli_file_sha256(path, hex, d) != 0) {
			d->code = EX_IOERR;
			return -1;
		}
		used += (size_t)snprintf(out + used, size - used, "%s%s:%s", i ? "," : "", files[i],
		                         hex);
	}
	return 0;
}

static int parse_supp_method(const char *s, int *method)
{
	if (!strcmp(s, "auto")) *method = SUPP_AUTO;
	else if (!strcmp(s, "glpk")) *method = SUPP_GLPK;
	else if (!strcmp(s, "heuristic")) *method = SUPP_HEURISTIC;
	else return -1;
	return 0;
}

static void print_suppression(const protect_opts *po, const cubesupp_report *rep)
{
	size_t avail = rep->n_cells;
	size_t hidden = rep->n_primary + rep->n_secondary;
	printf("release %s (cell suppression, threshold %ld, zeros %s): %zu tables, %zu cells "
	       "available\n  primary %zu, secondary %zu: %.2f%% of cells suppressed "
	       "(value %lld + %lld)\n", po->name, po->threshold,
	       po->zeros_sensitive ? "sensitive" : "published", rep->n_tables, avail,
	       rep->n_primary, rep->n_secondary, avail ? 100.0 * (double)hidden / (double)avail : 0.0,
	       (long long)rep->value_primary, (long long)rep->value_secondary);
	if (rep->narrow_cell != SIZE_MAX)
		printf("  audit: every primary cell protected; narrowest attacker interval "
		       "[%.0f, %.0f] (%zu LPs)\n", rep->narrow_lo, rep->narrow_hi, rep->n_lp);
	if (rep->n_cut)
		printf("  clean-up ran out of time with %zu hidden cells unexamined (more time: "
		       "--cleanup-seconds)\n", rep->n_cut);
	printf("  %s tables; time (summed over %ld threads): build %.1f s, suppression %.1f s, "
	       "audit %.1f s\n  -> %s/release.csv\n", po->quarters ? "year and quarter" : "annual",
	       po->threads, rep->seconds_build, rep->seconds_suppress, rep->seconds_audit, po->out);
}

static int suppression_meta(const protect_opts *po, const cubesupp_params *p,
                            const cubesupp_report *rep, rel_table *t, diag *d)
{
	char params[512], audit[768];
	snprintf(params, sizeof params, "{\"threshold\": %ld, \"zeros\": \"%s\", "
	         "\"secondary_method\": \"%s\", \"protection_width_pct\": %u, "
	         "\"audit\": \"%s\", \"periods\": \"%s\", \"cleanup_seconds\": %ld}",
	         po->threshold, po->zeros_sensitive ? "sensitive" : "publish", po->supp_method,
	         p->primary.spl_pct, p->audit_mode == SDCA_EXACT ? "exact" : "certify",
	         p->quarters ? "years and quarters" : "years", po->cleanup_s);
	snprintf(audit, sizeof audit, "{\"tables\": %zu, \"cells\": %zu, \"constraints\": %zu, "
	         "\"primary\": %zu, \"secondary\": %zu, \"value_primary\": %lld, "
	         "\"value_secondary\": %lld, \"share_suppressed\": %.6f, \"narrowest_width\": %.0f, "
	         "\"lps\": %zu, \"cleanup_unexamined\": %zu, \"protected\": true}", rep->n_tables, rep->n_cells,
	         rep->n_constraints, rep->n_primary, rep->n_secondary,
	         (long long)rep->value_primary, (long long)rep->value_secondary,
	         rep->n_cells ? (double)(rep->n_primary + rep->n_secondary) / (double)rep->n_cells
	                      : 0.0,
	         rep->narrow_cell != SIZE_MAX && isfinite(rep->narrow_hi - rep->narrow_lo)
	             ? rep->narrow_hi - rep->narrow_lo : -1.0, rep->n_lp,
	         rep->n_cut);
	if (rel_set_name(t, po->name, d) != 0 ||
	    rel_set_protection(t, REL_M_SUPPRESSION, 1, "", d) != 0 ||
	    rel_set_params(t, params, d) != 0 || rel_set_audit(t, audit, d) != 0)
		return -1;
	return 0;
}

static int register_release(const protect_opts *po, wh *w, const whcube_info *info,
                            const char *method, double rho, int is_private, diag *d)
{
	char outputs[512], params[256];
	if (release_outputs(po->out, outputs, sizeof outputs, d) != 0)
		return -1;
	snprintf(params, sizeof params, "threshold=%ld zeros=%s supp_method=%s", po->threshold,
	         po->zeros_sensitive ? "sensitive" : "publish", po->supp_method);
	relreg_info ri = {.name = po->name, .method = method, .params = params,
	                  .as_of_seq = info->as_of_seq, .rho = rho, .private_ = is_private,
	                  .outputs = outputs};
	return relreg_record(wh_db(w), "protect", &ri, NULL, d);
}

static int protect_suppression(const protect_opts *po, wh *w, const codelists *cl, diag *d)
{
	cubesupp_params p;
	cubesupp_params_default(&p);
	p.primary.threshold = po->threshold;
	p.primary.zeros = po->zeros_sensitive ? SUPP_ZEROS_SENSITIVE : SUPP_ZEROS_PUBLISH;
	p.quarters = po->quarters;
	p.threads = (unsigned)po->threads;
	p.secondary.cleanup_ms = (unsigned)(po->cleanup_s * 1000);
	p.secondary.no_cleanup = po->cleanup_s == 0;
	if (parse_supp_method(po->supp_method, &p.secondary.method) != 0)
		return diag_fail(d, EX_USAGE, "--supp-method '%s': use auto, glpk or heuristic",
		                 po->supp_method);
	cube *cb = NULL;
	whcube_info info = {0};
	cubesupp_result res = {0};
	rel_table t;
	rel_init(&t);
	int rc = -1;
	if (whcube_build(w, cl, po->as_of, 0, &cb, &info, d) != 0 ||
	    cubesupp_protect(cb, &p, &res, d) != 0)
		goto done;
	tabrel_cells cells = {.n = res.n, .suppress = res.status};
	if (suppression_meta(po, &p, &res.report, &t, d) != 0 ||
	    tabrel_fill(cb, cl, &info, &cells, &t, d) != 0 || rel_write_dir(&t, po->out, d) != 0 ||
	    register_release(po, w, &info, "suppression", 0.0, 1, d) != 0)
		goto done;
	print_suppression(po, &res.report);
	rc = 0;
done:
	rel_free(&t);
	cubesupp_result_free(&res);
	whcube_info_free(&info);
	cube_free(cb);
	return rc;
}

int protect_tables(const protect_opts *po, wh *w, const codelists *cl, diag *d)
{
	if (!strcmp(po->method, "suppression"))
		return protect_suppression(po, w, cl, d);
	if (!strcmp(po->method, "dp"))
		return diag_fail(d, EX_USAGE, "method 'dp' is not available in this build yet");
	return diag_fail(d, EX_USAGE, "unknown method '%s' (kanon, suppression)", po->method);
}
