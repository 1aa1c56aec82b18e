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
#include "privacy/dpcube.h"
#include "privacy/dprng.h"
#include "privacy/dpsample.h"
#include "privacy/dpstore.h"
#include "privacy/ledger.h"
#include "privacy/relreg.h"
#include "privacy/tabrel.h"

void protect_opts_default(protect_opts *po)
{
	memset(po, 0, sizeof *po);
	po->indicator = "VIC";
	po->max_suppress_pct = -1;
	po->threshold = 5;
	po->supp_method = "auto";
	po->rho = "0.5";
	po->budget = "releases";
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
	case 1004: po->rho = arg; return 0;
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
	       po->threads, rep->seconds_build, rep->seconds_suppress, rep->seconds_audit, po->dest);
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
	cli_progress_state bar;
	cli_progress_init_items(&bar, "protect", "tables", 0);
	if (!po->quiet && cli_is_tty()) {
		p.progress = cli_progress;
		p.progress_ctx = &bar;
	}
	if (parse_supp_method(po->supp_method, &p.secondary.method) != 0)
		return diag_fail(d, EX_USAGE, "--supp-method '%s': use auto, glpk or heuristic",
		                 po->supp_method);
	cube *cb = NULL;
	whcube_info info = {0};
	cubesupp_result res = {0};
	rel_table t;
	rel_init(&t);
	uint8_t *st = NULL;
	int rc = -1;
	if (whcube_build(w, cl, po->as_of, 0, &cb, &info, d) != 0)
		goto done;
	int ok = cubesupp_protect(cb, &p, &res, d) == 0;
	cli_progress_end(&bar, ok, res.report.n_tables);
	if (!ok)
		goto done;
	/* cubesupp's statuses as release statuses; NA = not published */
	st = malloc(res.n ? res.n : 1);
	if (!st) {
		diag_fail(d, EX_OSERR, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < res.n; i++)
		st[i] = res.status[i] == CUBESUPP_PRIMARY ? REL_PRIMARY :
		        res.status[i] == CUBESUPP_SECONDARY ? REL_SECONDARY :
		        res.status[i] == CUBESUPP_PUBLISHED ? REL_FREE : REL_MISSING;
	tabrel_cells cells = {.n = res.n, .status = st};
	if (suppression_meta(po, &p, &res.report, &t, d) != 0 ||
	    tabrel_fill(cb, cl, &info, &cells, &t, d) != 0 || rel_write_dir(&t, po->out, d) != 0 ||
	    register_release(po, w, &info, "suppression", 0.0, 1, d) != 0)
		goto done;
	print_suppression(po, &res.report);
	rc = 0;
done:
	free(st);
	rel_free(&t);
	cubesupp_result_free(&res);
	whcube_info_free(&info);
	cube_free(cb);
	return rc;
}

/* --- differential privacy ---------------------------------------------- */

/* dpcube's noise from the samplers: one dp_gauss per variance in a row
 * (a country block's cells share theirs). */
typedef struct noise_ctx {
	dprng *r;
	dp_gauss *g;
	uint64_t num, den;
} noise_ctx;

static int gauss_noise(void *vc, uint64_t num, uint64_t den, int64_t *out, diag *d)
{
	noise_ctx *c = vc;
	if (!c->g || c->num != num || c->den != den) {
		dp_gauss_free(c->g);
		c->g = NULL;
		if (dp_gauss_new(num, den, &c->g, d) != 0)
			return -1;
		c->num = num;
		c->den = den;
	}
	*out = dp_gauss_sample(c->g, c->r);
	return 0;
}

/* The split as the ledger records it: one part per (indicator, year). */
static int dp_split(const cube *cb, const codelists *cl, uint64_t rho_nano, char *out,
                    size_t size, diag *d)
{
	size_t used = 0;
	out[0] = 0;
	uint64_t u;
	int ind, year;
	for (size_t t = 0; dpcube_table(cb, rho_nano, t, &ind, &year, &u) == 0; t++) {
		char v[LEDGER_RHO_STR];
		ledger_format_rho((int64_t)u, v);
		int n = snprintf(out + used, size - used, "%s%s.%d:%s", t ? "," : "",
		                 cl->indicators.codes[ind].code, year, v);
		if (n < 0 || (size_t)n >= size - used)
			return diag_fail(d, EX_SOFTWARE, "the split over %zu tables is too long to record",
			                 t + 1);
		used += (size_t)n;
	}
	return 0;
}

static int dp_meta(const protect_opts *po, const dpcube_report *rep, int seeded,
                   uint64_t seed, rel_table *t, diag *d)
{
	char params[512], audit[512], eps[64] = "null";
	double e;
	diag tmp = DIAG_INIT;
	if (dp_zcdp_eps((double)rep->rho_nano / 1e9, 1e-9, &e, &tmp) == 0)
		snprintf(eps, sizeof eps, "%.6g", e);
	diag_free(&tmp);
	snprintf(params, sizeof params, "{\"mechanism\": \"discrete Gaussian\", \"rho\": %.9g, "
	         "\"tables\": %zu, \"rho_per_table\": %.9g, \"split\": \"equal over (indicator, "
	         "year) tables; countries measured, aggregates summed\", \"sensitivity\": "
	         "\"sqrt(k) per country, k = partitions measured, at most %u\", \"epsilon\": %s, "
	         "\"delta\": 1e-9, \"periods\": \"years\", \"margin\": \"90%%\", \"budget\": \"%s\"}",
	         (double)rep->rho_nano / 1e9, rep->n_tables, rep->rho_table, rep->max_partitions,
	         eps, seeded ? "" : po->budget);
	snprintf(audit, sizeof audit, "{\"measurements\": %zu, \"published\": %zu, "
	         "\"post_processing\": \"weighted least squares per country, non-negative integer "
	         "rounding, aggregates as sums\"}", rep->n_measured, rep->n_published);
	if (rel_set_name(t, po->name, d) != 0 ||
	    rel_set_protection(t, REL_M_DP, !seeded,
	                       seeded ? "NOT PRIVATE: noise from a fixed test seed" : "", d) != 0 ||
	    rel_set_params(t, params, d) != 0 || rel_set_audit(t, audit, d) != 0)
		return -1;
	t->meta.rho = (double)rep->rho_nano / 1e9;
	if (seeded) {
		t->meta.has_seed = 1;
		t->meta.seed = seed;
	}
	return 0;
}

static int parse_seed(const char *s, uint64_t *seed, diag *d)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v >= (1ull << 53))
		return diag_fail(d, EX_USAGE, "--seed '%s': use an integer below 2^53", s);
	if (!getenv("TIPSTAT_ALLOW_TEST_SEED") || strcmp(getenv("TIPSTAT_ALLOW_TEST_SEED"), "1"))
		return diag_fail(d, EX_USAGE, "--seed makes reproducible, NOT PRIVATE noise for tests; "
		                 "set TIPSTAT_ALLOW_TEST_SEED=1 to use it");
	*seed = v;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Utility, for the aggregator's eyes only (computed from the confidential
 * counts, so it is printed, never written into the release): the median
 * absolute percent error of the annual totals at each level, and of the
 * country-years with at least 100. */
static void print_dp_utility(const cube *cb, const dpcube_result *res)
{
	static const char *const lvl[] = {"world", "regions", "subregions", "countries",
	                                  "countries >= 100"};
	size_t n = res->n, k[5] = {0};
	double *e[5];
	for (int l = 0; l < 5; l++)
		e[l] = malloc((n ? n : 1) * sizeof *e[l]);
	if (!e[0] || !e[1] || !e[2] || !e[3] || !e[4])
		goto out;
	cube_iter it;
	cube_cell cc;
	cube_iter_init(&it);
	for (size_t i = 0; cube_next(cb, &it, &cc); i++) {
		if (res->status[i] != DPCUBE_NOISY || cc.slot != CUBE_S_TOTAL || cc.indicator != 0 ||
		    cc.v.lo != cc.v.hi || cc.v.lo <= 0)
			continue;
		double ape = 100.0 * fabs((double)(res->value[i] - cc.v.lo)) / (double)cc.v.lo;
		e[cc.geo.kind][k[cc.geo.kind]++] = ape;
		if (cc.geo.kind == CUBE_GEO_COUNTRY && cc.v.lo >= 100)
			e[4][k[4]++] = ape;
	}
	printf("  utility (victims, annual totals; from the confidential counts, not published):\n"
	       "   median absolute %% error:");
	for (int l = 0; l < 5; l++) {
		if (!k[l])
			continue;
		qsort(e[l], k[l], sizeof *e[l], cmp_double);
		double med = k[l] % 2 ? e[l][k[l] / 2] : (e[l][k[l] / 2 - 1] + e[l][k[l] / 2]) / 2;
		printf(" %s %.2f%% (%zu)%s", lvl[l], med, k[l], l < 4 ? "," : "");
	}
	printf("\n");
out:
	for (int l = 0; l < 5; l++)
		free(e[l]);
}

static int protect_dp(const protect_opts *po, wh *w, const codelists *cl, diag *d)
{
	int64_t units = 0;
	uint64_t seed = 0;
	int seeded = po->seed != NULL;
	if ((seeded && parse_seed(po->seed, &seed, d) != 0) ||
	    ledger_parse_rho(po->rho, &units, d) != 0 || units <= 0) {
		if (!d->code)
			diag_fail(d, EX_USAGE, "--rho must be positive");
		d->code = EX_USAGE;
		return -1;
	}
	dpstore_release stored;
	int again = 0, taken = 0;
	if (dpstore_get(wh_db(w), po->name, &stored, &again, d) != 0 ||
	    relreg_exists(wh_db(w), po->name, &taken, d) != 0)
		return -1;
	if (taken && !again)
		return diag_fail(d, EX_DATAERR, "a release named '%s' already exists", po->name);
	cube *cb = NULL;
	whcube_info info = {0};
	dpcube_result res = {0};
	noise_ctx nc = {0};
	int64_t *raw = NULL;
	size_t n = 0;
	rel_table t;
	rel_init(&t);
	uint8_t *st = NULL;
	char split[LEDGER_SPLIT_MAX + 1];
	int rc = -1;
	uint64_t rho_nano = again ? stored.rho_nano : (uint64_t)units;
	if (whcube_build(w, cl, again ? stored.as_of_seq : po->as_of, 0, &cb, &info, d) != 0)
		goto done;
	if (again) {
		/* the stored answers, never new noise */
		seeded = stored.seeded;
		raw = stored.raw;
		n = stored.n;
		stored.raw = NULL;
	} else {
		if ((seeded ? dprng_new_seeded(seed, &nc.r, d) : dprng_new(&nc.r, d)) != 0 ||
		    dpcube_measure(cb, rho_nano, gauss_noise, &nc, &raw, &n, d) != 0)
			goto done;
	}
	if (dpcube_estimate(cb, rho_nano, raw, n, &res, d) != 0 ||
	    dp_split(cb, cl, rho_nano, split, sizeof split, d) != 0)
		goto done;
	st = malloc(n ? n : 1);
	if (!st) {
		diag_fail(d, EX_OSERR, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		st[i] = res.status[i] == DPCUBE_NOISY ? REL_NOISY : REL_MISSING;
	tabrel_cells cells = {.n = n, .status = st, .noisy = res.value,
	                     .moe_lo = res.moe_lo, .moe_hi = res.moe_hi};
	if (dp_meta(po, &res.report, seeded, seed, &t, d) != 0 ||
	    tabrel_fill(cb, cl, &info, &cells, &t, d) != 0 || rel_write_dir(&t, po->out, d) != 0)
		goto done;
	if (!again) {
		char outputs[512], params[256];
		if (release_outputs(po->out, outputs, sizeof outputs, d) != 0)
			goto done;
		snprintf(params, sizeof params, "mechanism=discrete_gaussian tables=%zu seeded=%d",
		         res.report.n_tables, seeded);
		dpstore_put_ctx pc = {.raw = raw, .n = n, .rho_nano = rho_nano, .seeded = seeded};
		/* a seeded release protects nothing and costs nothing */
		relreg_info ri = {.name = po->name, .method = "dp", .params = params,
		                  .as_of_seq = info.as_of_seq, .rho = (double)rho_nano / 1e9,
		                  .private_ = !seeded, .outputs = outputs,
		                  .budget = seeded ? NULL : po->budget, .split = seeded ? NULL : split,
		                  .in_tx = dpstore_put_tx, .in_tx_ctx = &pc};
		if (relreg_record(wh_db(w), "protect", &ri, NULL, d) != 0)
			goto done;
	}
	const dpcube_report *rep = &res.report;
	printf("release %s (differential privacy, discrete Gaussian%s): rho %.9g over %zu tables "
	       "(%.3g each)\n  %zu noisy measurements of country cells; %zu cells published "
	       "with 90%% margins of error\n", po->name, seeded ? ", TEST SEED: NOT PRIVATE" : "",
	       (double)rho_nano / 1e9, rep->n_tables, rep->rho_table, rep->n_measured,
	       rep->n_published);
	print_dp_utility(cb, &res);
	if (again)
		printf("  re-issued from the stored measurements: no new noise, nothing charged\n");
	else if (!seeded)
		printf("  charged to budget '%s'\n", po->budget);
	printf("  -> %s/release.csv\n", po->dest);
	rc = 0;
done:
	free(st);
	free(raw);
	rel_free(&t);
	dpcube_result_free(&res);
	dp_gauss_free(nc.g);
	dprng_free(nc.r);
	dpstore_release_free(&stored);
	whcube_info_free(&info);
	cube_free(cb);
	return rc;
}

int protect_tables(const protect_opts *po, wh *w, const codelists *cl, diag *d)
{
	if (!strcmp(po->method, "suppression"))
		return protect_suppression(po, w, cl, d);
	if (!strcmp(po->method, "dp"))
		return protect_dp(po, w, cl, d);
	return diag_fail(d, EX_USAGE, "unknown method '%s' (kanon, suppression, dp)", po->method);
}
