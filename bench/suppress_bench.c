/* suppress_bench: secondary cell suppression + audit on hierarchical tables.
 *
 *   suppress_bench [--method auto|glpk|heuristic] [--objective cells|value]
 *                  [--spl PCT] [--total-weight W] [--no-cleanup]
 *                  [--no-certs] [--exact-audit] [--sdctable]
 *                  [SIZE ...]
 *
 * SIZE is 1k, 10k or 100k (default: all three).  Each table is
 *   geography (World > 5 regions > subregions > countries)
 *   x sex (Total > F, M) x age (Total > 4 bands)
 *   x form of exploitation (Total > forms) x time (Year > Q1..Q4),
 * with leaf counts drawn from a fixed-seed generator: every country has a
 * size (log-normal), every leaf a Poisson count around its share, so small
 * countries produce many counts of 1-4.  Margins are sums of the leaves.
 * For each table: primary suppression (threshold 5, zeros published,
 * default protection: interval at least 5 wide), secondary suppression,
 * then the audit (certify mode; --exact-audit adds the exact-interval audit
 * for tables up to 20,000 cells).  The suppression hands the audit its
 * witness certificates (supp_secondary_cert, privacy/suppcert.h): the
 * audit checks them and solves LPs only for the primaries left without a
 * valid one; stderr says how many went which way.  --no-certs audits
 * without them (the audit's own witness search and LPs, as before).
 * Each SIZE is drawn from its own seed, which depends on its position in
 * the argument list: `suppress_bench 100k` and the third table of
 * `suppress_bench 1k 10k 100k` differ (bench/run.sh runs one per call).  Printed: seconds, cells suppressed
 * (primary / secondary), value suppressed, and the growth exponent fitted
 * on log(seconds) ~ log(cells).
 *
 * --sdctable runs instead the comparison table: World > 9 regions > 10
 * countries each, by sex (Total, F, M) x age (Total + 7 bands): 2,400
 * cells, counts tuned so that ~710 cells hold 1-4 (the R package sdcTable's
 * benchmark: 710 primary, 160 secondary).  It reports both the default
 * rule and the weaker "no exact disclosure" rule (--spl 20: width >= 1,
 * which is what sdcTable's checks ask for).
 *
 * Build: cc -std=c11 -O2 -I. bench/suppress_bench.c build/libtipstat.a
 *        $(pkg-config --libs gsl libsodium sqlite3) -lcsv -lglpk -lpthread
 *        -lm -o suppress_bench     (after `make`; bench/run.sh does this)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "privacy/audit.h"
#include "privacy/sdc_table.h"
#include "privacy/suppress.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* splitmix64: reproducible synthetic data (not for privacy) */
static uint64_t rng_state;
static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}
static double unif(void)
{
	return (double)(rng() >> 11) / 9007199254740992.0;
}
static double gauss(void)
{
	double u = unif(), v = unif();
	return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}
static int64_t poisson(double lam)
{
	if (lam > 50)
		return (int64_t)fmax(0, floor(lam + sqrt(lam) * gauss() + 0.5));
	double L = exp(-lam), p = 1;
	int64_t k = 0;
	do {
		k++;
		p *= unif();
	} while (p > L);
	return k - 1;
}

/* A dimension under construction. */
typedef struct dimb {
	size_t n;
	char **codes;
	int32_t *parent;
} dimb;

static int32_t dim_add(dimb *d, const char *code, int32_t parent)
{
	d->codes = realloc(d->codes, (d->n + 1) * sizeof *d->codes);
	d->parent = realloc(d->parent, (d->n + 1) * sizeof *d->parent);
	if (!d->codes || !d->parent) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	d->codes[d->n] = strdup(code);
	d->parent[d->n] = parent;
	return (int32_t)d->n++;
}

static void dim_free(dimb *d)
{
	for (size_t k = 0; k < d->n; k++)
		free(d->codes[k]);
	free(d->codes);
	free(d->parent);
}

/* geo: World > R regions > G subregions > C countries (G = 0: no
 * subregion level).  Returns the country scale per code in *scale. */
static void make_geo(dimb *g, int R, int G, int C, double mean, double sigma, double **scale)
{
	int32_t w = dim_add(g, "World", -1);
	char b[64];
	for (int r = 0; r < R; r++) {
		snprintf(b, sizeof b, "R%d", r + 1);
		int32_t rr = dim_add(g, b, w);
		for (int s = 0; s < (G ? G : 1); s++) {
			int32_t ss = rr;
			if (G) {
				snprintf(b, sizeof b, "R%dS%d", r + 1, s + 1);
				ss = dim_add(g, b, rr);
			}
			for (int c = 0; c < C; c++) {
				snprintf(b, sizeof b, "C%zu", g->n);
				dim_add(g, b, ss);
			}
		}
	}
	*scale = calloc(g->n, sizeof **scale);
	for (size_t k = 0; k < g->n; k++)
		(*scale)[k] = mean * exp(sigma * gauss());
}

static void make_flat(dimb *d, const char *total, const char *prefix, int n)
{
	int32_t t = dim_add(d, total, -1);
	char b[64];
	for (int k = 0; k < n; k++) {
		snprintf(b, sizeof b, "%s%d", prefix, k + 1);
		dim_add(d, b, t);
	}
}

/* Build the table from dimension builders; leaf value = Poisson(scale of
 * the country * product of per-code shares). */
static int build(sdct_table *t, dimb *dims, size_t nd, const double *scale, diag *d)
{
	sdct_dim sd[8];
	for (size_t k = 0; k < nd; k++) {
		sd[k].name = "";
		sd[k].n_codes = dims[k].n;
		sd[k].codes = (const char *const *)dims[k].codes;
		sd[k].parent = dims[k].parent;
	}
	sdct_init(t);
	if (sdct_cross_init(t, sd, nd, d))
		return -1;
	/* shares: uneven, fixed by the seed */
	double *share[8];
	for (size_t k = 0; k < nd; k++) {
		share[k] = malloc(dims[k].n * sizeof *share[k]);
		for (size_t c = 0; c < dims[k].n; c++)
			share[k][c] = 0.4 + 1.2 * unif();
	}
	uint32_t co[8];
	for (uint32_t c = 0; c < t->n_cells; c++) {
		if (!sdct_cross_is_leaf(t, c))
			continue;
		sdct_cross_coords(t, c, co);
		double lam = scale[co[0]];
		for (size_t k = 1; k < nd; k++) {
			const sdct_xdim *x = &t->dims[k];
			size_t nleaf = 0;
			for (uint32_t q = 0; q < x->n_codes; q++)
				nleaf += x->child_start[q + 1] == x->child_start[q];
			lam *= share[k][co[k]] / (double)nleaf;
		}
		int64_t v = poisson(lam);
		if (sdct_set_value(t, c, v, v, 0, d))
			return -1;
	}
	for (size_t k = 0; k < nd; k++)
		free(share[k]);
	if (sdct_cross_sum_leaves(t, d) || sdct_finalize(t, d))
		return -1;
	return 0;
}

typedef struct shape {
	const char *name;
	int R, G, C, forms;
	double mean;
} shape;

static const shape shapes[] = {
	{"1k", 2, 2, 2, 0, 60.0},
	{"10k", 5, 2, 3, 2, 100.0},
	{"100k", 5, 4, 9, 6, 160.0},
};

static int make_shape(sdct_table *t, const shape *s, diag *d)
{
	dimb dims[5];
	memset(dims, 0, sizeof dims);
	double *scale;
	make_geo(&dims[0], s->R, s->G, s->C, s->mean, 1.1, &scale);
	make_flat(&dims[1], "Tsex", "S", 2);
	make_flat(&dims[2], "Tage", "A", 4);
	make_flat(&dims[3], "Tform", "F", s->forms);
	make_flat(&dims[4], "Year", "Q", 4);
	int rc = build(t, dims, 5, scale, d);
	for (int k = 0; k < 5; k++)
		dim_free(&dims[k]);
	free(scale);
	return rc;
}

static int make_sdctable(sdct_table *t, diag *d)
{
	dimb dims[3];
	memset(dims, 0, sizeof dims);
	double *scale;
	make_geo(&dims[0], 9, 0, 10, 95.0, 0.9, &scale);
	make_flat(&dims[1], "Tsex", "S", 2);
	make_flat(&dims[2], "Tage", "A", 7);
	int rc = build(t, dims, 3, scale, d);
	for (int k = 0; k < 3; k++)
		dim_free(&dims[k]);
	free(scale);
	return rc;
}

typedef struct run {
	size_t cells, prim, sec;
	int64_t vprim, vsec;
	double t_supp, t_audit, t_exact;
	int audit_rc, exact_rc;
	size_t exposed;
} run;

static int one(sdct_table *t, const supp_params *pp, const supp_opts *so, int exact, int no_certs,
               run *out)
{
	diag d = DIAG_INIT;
	memset(out, 0, sizeof *out);
	out->cells = t->n_cells;
	if (supp_primary(t, pp, NULL, &d)) {
		fprintf(stderr, "primary: %s\n", d.msg);
		return -1;
	}
	supp_stats st;
	scert_set cs;
	scert_init(&cs);
	double t0 = now();
	if (supp_secondary_cert(t, so, &st, no_certs ? NULL : &cs, &d)) {
		fprintf(stderr, "secondary: %s\n", d.msg);
		diag_free(&d);
		scert_free(&cs);
		return -1;
	}
	out->t_supp = now() - t0;
	out->prim = st.n_primary;
	out->sec = st.n_secondary;
	out->vprim = st.value_primary;
	out->vsec = st.value_secondary;
	double cost = 0;
	for (size_t c = 0; c < t->n_cells; c++)
		if (t->cells[c].status == SDCT_SECONDARY)
			cost += t->cells[c].cost;
	fprintf(stderr, "  [method %d: %zu patterns, %zu fallback, %zu removed, %zu MIPs, %zu LPs; "
	                "cost %.1f, lower bound %.1f]\n",
	        st.method, st.n_patterns, st.n_fallback, st.n_removed, st.n_mip, st.n_lp, cost,
	        st.lower_bound);
	sdca_opts ao = {SDCA_CERTIFY, 0, no_certs ? NULL : &cs};
	sdca_report r;
	diag_reset(&d);
	t0 = now();
	out->audit_rc = sdca_run(t, &ao, &r, &d);
	out->t_audit = now() - t0;
	out->exposed = r.n_exposed;
	fprintf(stderr, "  [audit: %zu LPs, largest LP %zu columns, %zu of %zu primary cells by integer "
	                "witnesses: %zu by the suppressor's certificates (%zu of %zu supplied rejected), "
	                "%zu by the audit's own; %zu by LP]\n",
	        r.n_lp, r.max_columns, r.n_witness, r.n_primary, r.n_cert, r.n_cert_rejected, cs.n,
	        r.n_witness - r.n_cert, r.n_primary - r.n_witness);
	if (out->audit_rc)
		fprintf(stderr, "  audit: %s\n", d.msg);
	sdca_report_free(&r);
	if (exact && t->n_cells <= 20000) {
		ao.mode = SDCA_EXACT;
		diag_reset(&d);
		t0 = now();
		out->exact_rc = sdca_run(t, &ao, &r, &d);
		out->t_exact = now() - t0;
		if (out->exact_rc)
			fprintf(stderr, "  exact audit: %s\n", d.msg);
		sdca_report_free(&r);
	}
	scert_free(&cs);
	diag_free(&d);
	return 0;
}

static void print_run(const char *name, const run *r)
{
	printf("%-6s %8zu %8zu %8zu %10lld %10lld %8.2f %8.2f %8.2f  %s",
	       name, r->cells, r->prim, r->sec, (long long)r->vprim, (long long)r->vsec, r->t_supp,
	       r->t_audit, r->t_supp + r->t_audit, r->audit_rc ? "REFUSED" : "passed");
	if (r->t_exact > 0)
		printf("  (exact audit %.2f s, %s)", r->t_exact, r->exact_rc ? "REFUSED" : "passed");
	printf("\n");
}

int main(int argc, char **argv)
{
	supp_params pp;
	supp_opts so;
	supp_params_default(&pp);
	supp_opts_default(&so);
	int exact = 0, sdct = 0, no_certs = 0;
	const char *sizes[8];
	int n_sizes = 0;
	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--method") && a + 1 < argc) {
			a++;
			so.method = !strcmp(argv[a], "glpk") ? SUPP_GLPK
			            : !strcmp(argv[a], "heuristic") ? SUPP_HEURISTIC : SUPP_AUTO;
		} else if (!strcmp(argv[a], "--objective") && a + 1 < argc) {
			so.objective = !strcmp(argv[++a], "value") ? SUPP_OBJ_VALUE : SUPP_OBJ_CELLS;
		} else if (!strcmp(argv[a], "--spl") && a + 1 < argc) {
			pp.spl_pct = (unsigned)atoi(argv[++a]);
		} else if (!strcmp(argv[a], "--total-weight") && a + 1 < argc) {
			so.total_weight = atof(argv[++a]);
			if (so.total_weight == 0)
				so.top_weight = 1;
		} else if (!strcmp(argv[a], "--no-cleanup")) {
			so.no_cleanup = 1;
		} else if (!strcmp(argv[a], "--no-certs")) {
			no_certs = 1;
		} else if (!strcmp(argv[a], "--exact-audit")) {
			exact = 1;
		} else if (!strcmp(argv[a], "--sdctable")) {
			sdct = 1;
		} else if (n_sizes < 8 && argv[a][0] != '-') {
			sizes[n_sizes++] = argv[a];
		} else {
			fprintf(stderr, "usage: %s [--method auto|glpk|heuristic] [--objective cells|value] "
			                "[--spl PCT] [--no-cleanup] [--no-certs] [--exact-audit] [--sdctable] "
			                "[1k|10k|100k ...]\n",
			        argv[0]);
			return 64;
		}
	}
	printf("%-6s %8s %8s %8s %10s %10s %8s %8s %8s\n", "table", "cells", "primary", "second.",
	       "v.primary", "v.second.", "supp s", "audit s", "total s");
	diag d = DIAG_INIT;
	if (sdct) {
		unsigned spls[2] = {pp.spl_pct, 20};
		int methods[2] = {SUPP_GLPK, SUPP_HEURISTIC};
		for (int m = 0; m < 2; m++)
			for (int k = 0; k < 2; k++) {
				sdct_table t;
				rng_state = 20240501;
				if (make_sdctable(&t, &d)) {
					fprintf(stderr, "%s\n", d.msg);
					return 1;
				}
				supp_params p2 = pp;
				p2.spl_pct = spls[k];
				supp_opts o2 = so;
				o2.method = methods[m];
				run r;
				printf("# %s, spl %u%% (width >= %lld)\n", m ? "heuristic" : "glpk", spls[k],
				       (long long)((spls[k] * pp.threshold + 99) / 100));
				if (one(&t, &p2, &o2, exact, no_certs, &r) == 0)
					print_run("2400", &r);
				sdct_free(&t);
			}
		return 0;
	}
	if (!n_sizes) {
		sizes[0] = "1k";
		sizes[1] = "10k";
		sizes[2] = "100k";
		n_sizes = 3;
	}
	double lx[8], ly[8];
	int npts = 0;
	for (int s = 0; s < n_sizes; s++) {
		const shape *sh = NULL;
		for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
			if (!strcmp(shapes[k].name, sizes[s]))
				sh = &shapes[k];
		if (!sh) {
			fprintf(stderr, "unknown size %s\n", sizes[s]);
			return 64;
		}
		sdct_table t;
		rng_state = 7 + (uint64_t)s;
		if (make_shape(&t, sh, &d)) {
			fprintf(stderr, "%s\n", d.msg);
			return 1;
		}
		run r;
		if (one(&t, &pp, &so, exact, no_certs, &r) == 0) {
			print_run(sh->name, &r);
			lx[npts] = log((double)r.cells);
			ly[npts] = log(r.t_supp + r.t_audit);
			npts++;
		}
		sdct_free(&t);
	}
	if (npts >= 2) {
		double mx = 0, my = 0, sxy = 0, sxx = 0;
		for (int k = 0; k < npts; k++) {
			mx += lx[k];
			my += ly[k];
		}
		mx /= npts;
		my /= npts;
		for (int k = 0; k < npts; k++) {
			sxy += (lx[k] - mx) * (ly[k] - my);
			sxx += (lx[k] - mx) * (lx[k] - mx);
		}
		printf("fitted growth exponent (seconds ~ cells^b): b = %.2f\n", sxy / sxx);
	}
	diag_free(&d);
	return 0;
}
