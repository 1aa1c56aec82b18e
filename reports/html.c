/* html: see html.h.  The page is built top to bottom into one buffer;
 * every figure is read from the release through rel_find(), so a value the
 * release does not publish is never in reach of this file. */
#include "reports/html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "core/period.h"
#include "reports/labels.h"
#include "reports/trend.h"

#define H(b, s) rep_buf_html((b), (s))
#define P(b, s) strbuf_puts((b), (s))

static const char *const palette[] = {"#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000",
	"#2e75b6", "#a50021", "#00827f", "#7f6000", "#595959"};
#define NPAL (sizeof palette / sizeof palette[0])
/* world + regions + subregions with a table (the M49 codelist has 1 + 5 + 17) */
#define REP_HTML_MAXAREAS 64

static const char CSS[] =
	"body{font-family:Georgia,'Times New Roman',serif;max-width:60rem;margin:2rem auto;"
	"padding:0 1rem;color:#222;line-height:1.45}"
	"h1{font-size:1.7rem;margin-bottom:.2rem}h2{font-size:1.25rem;border-bottom:1px solid #999;"
	"margin-top:2.2rem}h3{font-size:1.05rem}"
	".sub{color:#555;margin-top:0}"
	".banner{border:4px solid #a50021;background:#fde8ec;color:#a50021;padding:1rem;"
	"font-size:1.3rem;font-weight:bold;margin:1rem 0}"
	"table{border-collapse:collapse;margin:.6rem 0;font-size:.88rem}"
	"th,td{border:1px solid #bbb;padding:.2rem .45rem;text-align:right;vertical-align:top}"
	"th{background:#eee}td.l,th.l{text-align:left}"
	"td.x{color:#a50021;font-weight:bold;text-align:center}td.na{color:#888;text-align:center}"
	"td.noisy{background:#fff8e1;white-space:nowrap}td.iv{background:#eef5fb;white-space:nowrap}"
	"h3.subr{font-size:1rem;margin-left:1rem}h3 .in{font-weight:normal;color:#555}"
	"figure.chart{margin:1rem 0}figcaption{margin-top:.4rem}"
	"sup{font-size:.7em;color:#555}"
	"code{font-family:monospace;font-size:.85rem;white-space:pre-wrap;word-break:break-all}"
	".note{font-size:.85rem;color:#444}"
	"svg{max-width:100%;height:auto;font-family:Arial,Helvetica,sans-serif}"
	"ol.fn li,ul.fn li{font-size:.88rem;margin:.2rem 0}"
	"@media print{body{max-width:none;margin:0}.banner{border-width:3px}"
	"section{page-break-inside:avoid}h2{page-break-after:avoid}}";

/* --- what the release holds ------------------------------------------------- */

typedef struct page {
	const rel_table *rel;
	const codelists *cl;
	int years[REP_TREND_MAXY];
	int n_years;
	int *ctry;              /* countries present in the release, codelist order */
	size_t n_ctry;
	size_t n_status[REL_NSTATUS];
	size_t n_interval, n_flag[4];
} page;

static int scan(page *pg, diag *d)
{
	const rel_table *rel = pg->rel;
	const codelists *cl = pg->cl;
	unsigned char *seen = calloc(cl->n_countries ? cl->n_countries : 1, 1);
	pg->ctry = malloc((cl->n_countries ? cl->n_countries : 1) * sizeof *pg->ctry);
	if (!seen || !pg->ctry) {
		free(seen);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	int y0, y1;
	if (rep_trend_years(rel, &y0, &y1) == 0) {
		if (y1 - y0 >= REP_TREND_MAXY)
			y0 = y1 - REP_TREND_MAXY + 1;
		for (int y = y0; y <= y1; y++)
			pg->years[pg->n_years++] = y;
	}
	for (size_t i = 0; i < rel_n_rows(rel); i++) {
		const rel_row *r = rel_row_at(rel, i);
		rep_geo_info g;
		if (rep_geo_lookup(cl, r->geo_kind, r->geo, &g) != 0) {
			free(seen);
			return diag_fail(d, EX_DATAERR, "release geography %s %s is not in the codelists",
			                 rel_geo_kind_name(r->geo_kind), r->geo);
		}
		if (g.country >= 0)
			seen[g.country] = 1;
		pg->n_status[r->status]++;
		if (r->status == REL_FREE && !r->has_value)
			pg->n_interval++;
		static const unsigned fl[4] = {CUBE_F_NONADDITIVE, CUBE_F_CENSORED, CUBE_F_DERIVED,
			CUBE_F_PARTIAL};
		for (int k = 0; k < 4; k++)
			if (r->flags & fl[k])
				pg->n_flag[k]++;
	}
	for (size_t c = 0; c < cl->n_countries; c++)
		if (seen[c])
			pg->ctry[pg->n_ctry++] = (int)c;
	free(seen);
	return 0;
}

/* Aggregates of a kind present in the release (any row), codelist order. */
static size_t aggregates(const page *pg, int cl_kind, const char *parent, int *out)
{
	size_t n = 0;
	for (size_t i = 0; i < pg->cl->n_regions; i++) {
		const cl_region *r = &pg->cl->regions[i];
		if (r->kind != cl_kind)
			continue;
		if (parent && (r->parent < 0 || strcmp(pg->cl->regions[r->parent].code, parent) != 0))
			continue;
		int present = 0;
		for (int y = 0; y < pg->n_years && !present; y++)
			for (int ind = 0; ind < REL_NIND && !present; ind++)
				present = rel_find(pg->rel, r->code, period_make(pg->years[y], 0), ind,
				                   CUBE_S_TOTAL) != NULL;
		if (present)
			out[n++] = (int)i;
	}
	return n;
}

/* --- cells ------------------------------------------------------------------ */

static void flags_sup(strbuf *b, unsigned flags)
{
	char fl[8];
	cube_flags_str(flags, fl);
	if (*fl) {
		P(b, "<sup>");
		H(b, fl);
		P(b, "</sup>");
	}
}

/* A noisy value's 90% interval as shown after the value, one decimal (the
 * CSV files keep it exact): " +- m" when symmetric at that precision, else
 * " -lo +hi" (the interval [value - lo, value + hi]; privacy/dpcube.h);
 * sp is the space (non-breaking in a table cell). */
static void moe_text(strbuf *b, double lo, double hi, const char *sp)
{
	char a[64], c[64];
	snprintf(a, sizeof a, "%.1f", lo);
	snprintf(c, sizeof c, "%.1f", hi);
	if (strcmp(a, c) == 0)
		strbuf_printf(b, "%s&#177;%s%s", sp, sp, a);
	else
		strbuf_printf(b, "%s&#8722;%s%s+%s", sp, a, sp, c);
}

/* Where a table cell comes from: the data- attributes every figure cell
 * carries, so that a reader (or a test) can match it to exactly one row of
 * the release and of tidy.csv.  area is the tidy Country column. */
typedef struct cell_key {
	const char *geo, *area;
	int year, indicator, slot;
} cell_key;

static void data_attrs(strbuf *b, const cell_key *k, const char *status)
{
	P(b, " data-geo=\"");
	H(b, k->geo);
	P(b, "\" data-area=\"");
	H(b, k->area);
	strbuf_printf(b, "\" data-year=\"%d\" data-indicator=\"%s\" data-slot=\"", k->year,
	               rel_indicator_code(k->indicator));
	H(b, cube_slot_name(k->slot));
	strbuf_printf(b, "\" data-status=\"%s\"", status);
}

/* One table cell for a release row (NULL = no row: data-status "absent"). */
static void td_cell(strbuf *b, const rel_row *r, const cell_key *k)
{
	if (!r || r->status == REL_MISSING) {
		P(b, "<td class=\"na\" title=\"not available\"");
		data_attrs(b, k, r ? "missing" : "absent");
		P(b, ">..</td>");
		return;
	}
	switch (r->status) {
	case REL_PRIMARY:
		P(b, "<td class=\"x\" title=\"suppressed: small cell\"");
		data_attrs(b, k, "primary");
		P(b, ">x<sup>1</sup></td>");
		return;
	case REL_SECONDARY:
		P(b, "<td class=\"x\" title=\"suppressed to protect another cell\"");
		data_attrs(b, k, "secondary");
		P(b, ">x<sup>2</sup></td>");
		return;
	case REL_NOISY:
		P(b, "<td class=\"noisy\" title=\"noisy value, 90% margin of error\"");
		data_attrs(b, k, "noisy");
		strbuf_printf(b, ">%lld", (long long)r->value);
		moe_text(b, r->moe_lo, r->moe_hi, "&#160;");
		P(b, "<sup>&#8224;</sup>");
		break;
	default:
		if (r->has_value) {
			P(b, "<td");
			data_attrs(b, k, "free");
			strbuf_printf(b, ">%lld", (long long)r->value);
		} else {
			P(b, "<td class=\"iv\" title=\"censored interval\"");
			data_attrs(b, k, "free");
			if (r->hi == REL_UNBOUNDED)
				strbuf_printf(b, ">&#8805;%lld<sup>&#8225;</sup>", (long long)r->lo);
			else
				strbuf_printf(b, ">%lld&#8211;%lld<sup>&#8225;</sup>", (long long)r->lo,
				               (long long)r->hi);
		}
	}
	flags_sup(b, r->flags);
	P(b, "</td>");
}

/* A plottable number: exact free, noisy, or the midpoint of a bounded
 * interval.  0 when the cell must not be plotted. */
static int plot_value(const rel_row *r, double *v, double *lo, double *hi, int *kind)
{
	if (!r)
		return 0;
	if (r->status == REL_FREE && r->has_value) {
		*v = *lo = *hi = (double)r->value;
		*kind = 0;
		return 1;
	}
	if (r->status == REL_NOISY) {
		*v = (double)r->value;
		*lo = *v - r->moe_lo;
		*hi = *v + r->moe_hi;
		*kind = 1;
		return 1;
	}
	if (r->status == REL_FREE && r->has_interval && r->hi != REL_UNBOUNDED) {
		*lo = (double)r->lo;
		*hi = (double)r->hi;
		*v = (*lo + *hi) / 2;
		*kind = 2;
		return 1;
	}
	return 0;
}

/* --- line chart ------------------------------------------------------------- */

static double nice_max(double m)
{
	if (m <= 0)
		return 1;
	double p = pow(10, floor(log10(m)));
	static const double steps[] = {1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (steps[i] * p >= m)
			return steps[i] * p;
	return 10 * p;
}

static void line_chart(strbuf *b, const page *pg, const int *kinds, const char *const *codes,
                       size_t n_series)
{
	const double W = 760, Hh = 360, L = 70, R = 200, T = 20, B = 40;
	const double pw = W - L - R, ph = Hh - T - B;
	double maxv = 0;
	for (size_t s = 0; s < n_series; s++)
		for (int y = 0; y < pg->n_years; y++) {
			double v, lo, hi;
			int k;
			if (plot_value(rel_find(pg->rel, codes[s], period_make(pg->years[y], 0), REL_VIC,
			                        CUBE_S_TOTAL), &v, &lo, &hi, &k) && hi > maxv)
				maxv = hi;
		}
	double ymax = nice_max(maxv);
	int ny = pg->n_years;
#define XP(i) (L + (ny > 1 ? pw * (double)(i) / (double)(ny - 1) : pw / 2))
#define YP(v) (T + ph - ph * ((v) < 0 ? 0 : (v)) / ymax)
	strbuf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
	               "width=\"%.0f\" height=\"%.0f\" role=\"img\" aria-labelledby=\"lc-title\">"
	               "<title id=\"lc-title\">Detected victims per year, world and regions</title>",
	               W, Hh, W, Hh);
	for (int t = 0; t <= 4; t++) {
		double v = ymax * t / 4;
		strbuf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
		               "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%.0f</text>",
		               L, YP(v), L + pw, YP(v), L - 6, YP(v) + 4, v);
	}
	for (int y = 0; y < ny; y++)
		strbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%d</text>",
		               XP(y), T + ph + 18, pg->years[y]);
	strbuf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>",
	               L, T + ph, L + pw, T + ph);
	for (size_t s = 0; s < n_series; s++) {
		const char *col = palette[s % NPAL];
		/* path: breaks at every value that cannot be plotted */
		strbuf_puts(b, "<path fill=\"none\" stroke-width=\"2\" stroke=\"");
		P(b, col);
		P(b, "\" d=\"");
		int pen = 0;
		for (int y = 0; y < ny; y++) {
			double v, lo, hi;
			int k;
			const rel_row *r = rel_find(pg->rel, codes[s], period_make(pg->years[y], 0), REL_VIC,
			                            CUBE_S_TOTAL);
			if (!plot_value(r, &v, &lo, &hi, &k)) {
				pen = 0;
				continue;
			}
			strbuf_printf(b, "%s%.1f %.1f ", pen ? "L" : "M", XP(y), YP(v));
			pen = 1;
		}
		P(b, "\"/>");
		for (int y = 0; y < ny; y++) {
			double v, lo, hi;
			int k;
			const rel_row *r = rel_find(pg->rel, codes[s], period_make(pg->years[y], 0), REL_VIC,
			                            CUBE_S_TOTAL);
			if (!plot_value(r, &v, &lo, &hi, &k))
				continue;
			double x = XP(y);
			if (k != 0) /* error bar (noisy) or interval (censored, dashed) */
				strbuf_printf(b, "<path d=\"M%.1f %.1f V%.1f M%.1f %.1f H%.1f M%.1f %.1f H%.1f\" "
				               "stroke=\"%s\" stroke-width=\"1.5\"%s/>",
				               x, YP(lo), YP(hi), x - 4, YP(lo), x + 4, x - 4, YP(hi), x + 4,
				               col, k == 2 ? " stroke-dasharray=\"3 2\"" : "");
			int partial = (r->flags & CUBE_F_PARTIAL) != 0;
			strbuf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" stroke=\"%s\" fill=\"%s\">"
			               "<title>", x, YP(v), col, (k == 2 || partial) ? "#fff" : col);
			rep_geo_info g;
			rep_geo_lookup(pg->cl, kinds[s], codes[s], &g);
			H(b, g.name ? g.name : codes[s]);
			strbuf_printf(b, " %d: ", pg->years[y]);
			if (k == 0)
				strbuf_printf(b, "%lld", (long long)r->value);
			else if (k == 1) {
				strbuf_printf(b, "%lld", (long long)r->value);
				moe_text(b, r->moe_lo, r->moe_hi, " ");
				P(b, " (noisy, 90% interval)");
			} else
				strbuf_printf(b, "%lld&#8211;%lld (censored interval)", (long long)r->lo,
				               (long long)r->hi);
			if (partial)
				P(b, " (partial year)");
			P(b, "</title></circle>");
		}
		/* legend */
		double ly = T + 10 + 18 * (double)s;
		strbuf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
		               "stroke-width=\"3\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">",
		               L + pw + 14, ly, L + pw + 34, ly, col, L + pw + 40, ly + 4);
		rep_geo_info g;
		if (rep_geo_lookup(pg->cl, kinds[s], codes[s], &g) == 0)
			H(b, g.name);
		P(b, "</text>");
	}
	P(b, "</svg>");
#undef XP
#undef YP
}

/* --- stacked bars ----------------------------------------------------------- */

typedef struct bar {
	int ok;
	const char *why;          /* reason when not ok */
	double seg[CUBE_NFORM + 1];  /* values of the family's cells, then suppressed combined */
	int kind[CUBE_NFORM + 1];    /* 0 exact, 1 noisy, 2 interval midpoint, 3 suppressed combined */
	double moe_lo[CUBE_NFORM + 1], moe_hi[CUBE_NFORM + 1]; /* a noisy segment's interval */
	double den;
} bar;

/* A family's cells as plottable numbers (see html.h for the rules). */
static void family_bar(const page *pg, const char *geo, int period, int first, int n, bar *o)
{
	memset(o, 0, sizeof *o);
	double published = 0;
	int n_supp = 0;
	for (int k = 0; k < n; k++) {
		const rel_row *r = rel_find(pg->rel, geo, period, REL_VIC, first + k);
		double v, lo, hi;
		if (!r || r->status == REL_MISSING) {
			o->why = "breakdown not available";
			return;
		}
		if (r->status == REL_PRIMARY || r->status == REL_SECONDARY) {
			n_supp++;
			o->kind[k] = 3;
			continue;
		}
		if (!plot_value(r, &v, &lo, &hi, &o->kind[k])) {
			o->why = "a category is an unbounded censored interval";
			return;
		}
		if (v < 0)
			v = 0; /* noise can go below zero; a share cannot */
		o->seg[k] = v;
		o->moe_lo[k] = o->kind[k] == 1 ? r->moe_lo : 0;
		o->moe_hi[k] = o->kind[k] == 1 ? r->moe_hi : 0;
		published += v;
	}
	o->kind[n] = 3;
	if (n_supp) {
		const rel_row *t = rel_find(pg->rel, geo, period, REL_VIC, CUBE_S_TOTAL);
		if (!t || !(t->status == REL_FREE || t->status == REL_NOISY) || !t->has_value ||
		    (t->flags & CUBE_F_NONADDITIVE)) {
			o->why = "suppressed categories, and no released total to show them combined";
			return;
		}
		double rest = (double)t->value - published;
		o->seg[n] = rest > 0 ? rest : 0;
	}
	for (int k = 0; k <= n; k++)
		o->den += o->seg[k];
	if (o->den <= 0) {
		o->why = "no victim in a known category";
		return;
	}
	o->ok = 1;
}

static void bar_chart(strbuf *b, const page *pg, const char *title, const int *geo_kinds,
                      const char *const *codes, size_t n_geo, int period, int first, int n)
{
	const double L = 190, BW = 520, RH = 26, T = 10;
	double Hh = T + RH * (double)n_geo + 30 + 18 * (double)((n + 2 + 3) / 4);
	strbuf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 760 %.0f\" "
	               "width=\"760\" height=\"%.0f\" role=\"img\"><title>", Hh, Hh);
	H(b, title);
	P(b, "</title>");
	for (size_t gi = 0; gi < n_geo; gi++) {
		double y = T + RH * (double)gi;
		rep_geo_info g;
		rep_geo_lookup(pg->cl, geo_kinds[gi], codes[gi], &g);
		strbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\">",
		               L - 8, y + 15);
		H(b, g.name ? g.name : codes[gi]);
		P(b, "</text>");
		bar br;
		family_bar(pg, codes[gi], period, first, n, &br);
		if (!br.ok) {
			strbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#777\">"
			               "not shown: ", L, y + 15);
			H(b, br.why);
			P(b, "</text>");
			continue;
		}
		double x = L;
		for (int k = 0; k <= n; k++) {
			if (br.seg[k] <= 0)
				continue;
			double w = BW * br.seg[k] / br.den;
			const char *fill = br.kind[k] == 3 ? "#bbb" : palette[k % NPAL];
			strbuf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			               "fill=\"%s\" stroke=\"#fff\"%s><title>", x, y + 3, w, RH - 8, fill,
			               br.kind[k] == 2 ? " fill-opacity=\"0.6\"" : "");
			H(b, k < n ? rep_slot_label(first + k) : "Suppressed categories (combined)");
			strbuf_printf(b, ": %.1f%%%s</title></rect>", 100 * br.seg[k] / br.den,
			               br.kind[k] == 1 ? " (noisy)" : br.kind[k] == 2 ? " (censored, midpoint)" : "");
			if (w >= 34)
				strbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#fff\" "
				               "text-anchor=\"middle\">%s%.0f%%</text>", x + w / 2, y + 16,
				               br.kind[k] == 3 ? "x " : "", 100 * br.seg[k] / br.den);
			if (br.kind[k] == 1) { /* error bar on the segment's right edge */
				double el = BW * br.moe_lo[k] / br.den, eh = BW * br.moe_hi[k] / br.den;
				strbuf_printf(b, "<path d=\"M%.1f %.1f H%.1f M%.1f %.1f V%.1f M%.1f %.1f V%.1f\" "
				               "stroke=\"#000\" stroke-width=\"1.2\"/>",
				               x + w - el, y + 12, x + w + eh, x + w - el, y + 8, y + 16,
				               x + w + eh, y + 8, y + 16);
			}
			x += w;
		}
	}
	/* legend: the combined suppressed segment only when a bar has one */
	int any_supp = 0;
	for (size_t gi = 0; gi < n_geo; gi++) {
		bar br;
		family_bar(pg, codes[gi], period, first, n, &br);
		any_supp |= br.ok && br.seg[n] > 0;
	}
	double ly = T + RH * (double)n_geo + 18;
	for (int k = 0; k <= n - !any_supp; k++) {
		double lx = L + 140 * (double)(k % 4) - 170;
		double yy = ly + 18 * (double)(k / 4);
		const char *fill = k == n ? "#bbb" : palette[k % NPAL];
		strbuf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/>"
		               "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">", lx, yy - 9, fill, lx + 14, yy);
		H(b, k < n ? rep_slot_label(first + k) : "x suppressed (combined)");
		P(b, "</text>");
	}
	P(b, "</svg>");
}

/* --- sections --------------------------------------------------------------- */

static void protection(strbuf *b, const rel_table *rel)
{
	const rel_meta *m = &rel->meta;
	P(b, "<section id=\"protection\"><h2>How this release was protected</h2>"
	     "<table><tbody><tr><th class=\"l\">Method</th><td class=\"l\">");
	H(b, rel_method_name(m->method));
	P(b, m->method == REL_M_SUPPRESSION ? " (cell suppression: small cells and the cells that "
	                                      "would reveal them are withheld)"
	     : m->method == REL_M_DP ? " (differential privacy: published values carry random "
	                               "noise; margins of error are shown)"
	                             : " (no protection)");
	P(b, "</td></tr><tr><th class=\"l\">Private</th><td class=\"l\">");
	P(b, m->is_private ? "yes" : "<strong>NO</strong>");
	P(b, "</td></tr><tr><th class=\"l\">Parameters</th><td class=\"l\"><code>");
	H(b, m->params_json ? m->params_json : "{}");
	P(b, "</code></td></tr><tr><th class=\"l\">Privacy budget (rho, zCDP)</th><td class=\"l\">");
	if (isfinite(m->rho))
		strbuf_double(b, m->rho);
	else
		P(b, "none");
	P(b, "</td></tr><tr><th class=\"l\">Seed</th><td class=\"l\">");
	if (m->has_seed)
		strbuf_printf(b, "%llu", (unsigned long long)m->seed);
	else
		P(b, "none");
	strbuf_printf(b, "</td></tr><tr><th class=\"l\">Submissions</th><td class=\"l\">%zu",
	               m->n_subs);
	for (size_t i = 0; i < m->n_subs && i < 200; i++) {
		P(b, i ? "; " : ": ");
		H(b, m->subs[i].country);
		P(b, " ");
		H(b, m->subs[i].periods);
		strbuf_printf(b, " v%lu", (unsigned long)m->subs[i].version);
	}
	if (m->n_subs > 200)
		P(b, "; ...");
	P(b, "</td></tr></tbody></table></section>\n");
}

static void trend_table(strbuf *b, const page *pg, const int *kinds, const char *const *codes,
                        size_t n)
{
	if (pg->n_years < 2) {
		P(b, "<p class=\"note\">Fewer than two years: no trend.</p>");
		return;
	}
	int y0 = pg->years[0], y1 = pg->years[pg->n_years - 1];
	strbuf_printf(b, "<table><thead><tr><th class=\"l\">Area</th><th>Panel countries</th>"
	               "<th>%d</th><th>%d</th><th>Change %d&#8211;%d</th><th>Slope per year</th>"
	               "<th>SE</th><th>95%% CI</th></tr></thead><tbody>", y0, y1, y0, y1);
	for (size_t i = 0; i < n; i++) {
		rep_trend t;
		diag td = DIAG_INIT;
		int trc = rep_trend_compute(pg->rel, pg->cl, REL_VIC, codes[i], y0, y1, &t, &td);
		diag_free(&td);
		if (trc != 0) {
			rep_trend_free(&t);
			continue;
		}
		rep_geo_info g;
		rep_geo_lookup(pg->cl, kinds[i], codes[i], &g);
		P(b, "<tr><td class=\"l\">");
		H(b, g.name);
		strbuf_printf(b, "</td><td>%zu</td>", t.n_members);
		if (!t.ok) {
			P(b, "<td class=\"na\">..</td><td class=\"na\">..</td><td class=\"na\">..</td>"
			     "<td class=\"na\">..</td><td class=\"na\">..</td><td class=\"na\">..</td></tr>");
			rep_trend_free(&t);
			continue;
		}
		int last = t.n_years - 1;
		strbuf_printf(b, "<td>%.0f%s", t.total[0], t.moe[0] > 0 ? "&#160;&#177;&#160;" : "");
		if (t.moe[0] > 0)
			strbuf_printf(b, "%.1f<sup>&#8224;</sup>", t.moe[0]);
		strbuf_printf(b, "</td><td>%.0f%s", t.total[last], t.moe[last] > 0 ? "&#160;&#177;&#160;" : "");
		if (t.moe[last] > 0)
			strbuf_printf(b, "%.1f<sup>&#8224;</sup>", t.moe[last]);
		P(b, "</td>");
		if (isfinite(t.change_pct))
			strbuf_printf(b, "<td>%+.1f%%</td>", t.change_pct);
		else
			P(b, "<td class=\"na\">..</td>");
		if (isfinite(t.slope))
			strbuf_printf(b, "<td>%+.1f</td>", t.slope);
		else
			P(b, "<td class=\"na\">..</td>");
		if (isfinite(t.se))
			strbuf_printf(b, "<td>%.1f</td><td>[%.1f, %.1f]</td>", t.se, t.ci_lo, t.ci_hi);
		else
			P(b, "<td class=\"na\">..</td><td class=\"na\">..</td>");
		P(b, "</tr>");
		rep_trend_free(&t);
	}
	P(b, "</tbody></table>");
}

/* One row of an area table: an indicator's TOTAL of one geography per year. */
static void row_line(strbuf *b, const page *pg, const char *label, int kind, const char *geo,
                     int ind)
{
	rep_geo_info g;
	rep_geo_lookup(pg->cl, kind, geo, &g);
	cell_key k = {geo, g.name ? g.name : geo, 0, ind, CUBE_S_TOTAL};
	P(b, "<tr><td class=\"l\">");
	H(b, label);
	P(b, "</td>");
	for (int y = 0; y < pg->n_years; y++) {
		k.year = pg->years[y];
		td_cell(b, rel_find(pg->rel, geo, period_make(pg->years[y], 0), ind, CUBE_S_TOTAL), &k);
	}
	P(b, "</tr>");
}

static size_t countries_in(const codelists *cl, const char *geo)
{
	size_t n = 0;
	for (size_t c = 0; c < cl->n_countries; c++)
		n += rep_country_in(cl, (int)c, geo);
	return n;
}

/* 1 when the aggregate with M49 code geo has a table of its own. */
static int has_table(const char *const *codes, size_t n, const char *geo)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(codes[i], geo) == 0)
			return 1;
	return 0;
}

/* The table of one area: the four indicators, coverage, then its parts:
 * the regions of the world, the subregions of a region (and the countries
 * of the region that no subregion table lists), the countries of a
 * subregion.  codes[0..n) are the areas that have a table. */
static void area_table(strbuf *b, const page *pg, int kind, const char *geo,
                       const char *const *codes, size_t n)
{
	rep_geo_info g;
	rep_geo_lookup(pg->cl, kind, geo, &g);
	const char *name = g.name ? g.name : geo;
	strbuf_printf(b, "<h3 id=\"area-%s\"%s>", geo, kind == REL_GEO_SUBREGION ? " class=\"subr\"" : "");
	H(b, name);
	if (kind == REL_GEO_SUBREGION && g.region && *g.region) {
		P(b, " <span class=\"in\">(subregion of ");
		H(b, g.region);
		P(b, ")</span>");
	}
	strbuf_printf(b, "</h3><table class=\"area\" data-geo=\"%s\" data-kind=\"%s\"><thead><tr>"
	               "<th class=\"l\"></th>", geo, rel_geo_kind_name(kind));
	for (int y = 0; y < pg->n_years; y++)
		strbuf_printf(b, "<th>%d</th>", pg->years[y]);
	P(b, "</tr></thead><tbody>");
	for (int ind = 0; ind < REL_NIND; ind++)
		row_line(b, pg, rep_indicator_label(ind), kind, geo, ind);
	/* coverage: countries contributing to the victims total */
	size_t in = countries_in(pg->cl, geo);
	P(b, "<tr class=\"cov\"><td class=\"l\">Countries reporting victims (coverage)<sup>&#167;</sup></td>");
	cell_key k = {geo, name, 0, REL_VIC, CUBE_S_TOTAL};
	for (int y = 0; y < pg->n_years; y++) {
		const rel_row *r = rel_find(pg->rel, geo, period_make(pg->years[y], 0), REL_VIC,
		                            CUBE_S_TOTAL);
		k.year = pg->years[y];
		if (!r || r->status == REL_MISSING) {
			P(b, "<td class=\"na\" data-measure=\"countries\"");
			data_attrs(b, &k, r ? "missing" : "absent");
			P(b, ">..</td>");
		} else {
			P(b, "<td data-measure=\"countries\"");
			data_attrs(b, &k, rel_status_name(r->status));
			strbuf_printf(b, ">%lu/%zu</td>", (unsigned long)r->countries, in);
		}
	}
	P(b, "</tr>");
	char lab[256];
	if (kind == REL_GEO_WORLD || kind == REL_GEO_REGION) {
		int parts[64];
		size_t np = aggregates(pg, kind == REL_GEO_WORLD ? CL_REGION : CL_SUBREGION,
		                       kind == REL_GEO_WORLD ? NULL : geo, parts);
		for (size_t i = 0; i < np; i++) {
			snprintf(lab, sizeof lab, "Victims, %s", pg->cl->regions[parts[i]].name);
			row_line(b, pg, lab, kind == REL_GEO_WORLD ? REL_GEO_REGION : REL_GEO_SUBREGION,
			         pg->cl->regions[parts[i]].code, REL_VIC);
		}
	}
	if (kind != REL_GEO_WORLD)
		for (size_t i = 0; i < pg->n_ctry; i++) {
			if (!rep_country_in(pg->cl, pg->ctry[i], geo))
				continue;
			if (kind == REL_GEO_REGION) {
				rep_geo_info cg;
				rep_geo_lookup(pg->cl, REL_GEO_COUNTRY, pg->cl->countries[pg->ctry[i]].iso3, &cg);
				if (cg.subregion_code && *cg.subregion_code &&
				    has_table(codes, n, cg.subregion_code))
					continue; /* listed in its subregion's table */
			}
			snprintf(lab, sizeof lab, "Victims, %s", pg->cl->countries[pg->ctry[i]].name);
			row_line(b, pg, lab, REL_GEO_COUNTRY, pg->cl->countries[pg->ctry[i]].iso3, REL_VIC);
		}
	P(b, "</tbody></table>");
}

static void footnotes(strbuf *b, const page *pg)
{
	P(b, "<section id=\"notes\"><h2>Notes</h2><ul class=\"fn\">");
	strbuf_printf(b, "<li><strong>x<sup>1</sup></strong> suppressed: a small cell "
	               "(primary suppression; %zu cells in this release).</li>",
	               pg->n_status[REL_PRIMARY]);
	strbuf_printf(b, "<li><strong>x<sup>2</sup></strong> suppressed to protect another "
	               "cell, which could otherwise be worked out from the totals (secondary "
	               "suppression; %zu cells).</li>", pg->n_status[REL_SECONDARY]);
	strbuf_printf(b, "<li><strong>&#177;<sup>&#8224;</sup></strong> differentially "
	               "private value with its 90%% margin of error as an interval, rounded to one "
	               "decimal (the CSV "
	               "files give it exactly; %zu cells): &#8220;v &#177; m&#8221; is [v &#8722; m, "
	               "v + m], &#8220;v &#8722;a +b&#8221; is [v &#8722; a, v + b]; charts draw it "
	               "as an error bar. The interval allows for the rounding and for keeping every "
	               "value non-negative and consistent, which pushes small counts up and the "
	               "large counts of the same breakdown down, so it is not symmetric in general; "
	               "it is built to cover the true count 90%% of the time, true zeros "
	               "included.</li>",
	               pg->n_status[REL_NOISY]);
	strbuf_printf(b, "<li><strong>lo&#8211;hi<sup>&#8225;</sup></strong> the value lies in "
	               "this interval because a country censored a small count (e.g. &#8220;&lt;5&#8221;);"
	               " &#8805;lo: no upper bound (%zu cells). Charts plot the midpoint with a dashed "
	               "range.</li>", pg->n_interval);
	strbuf_printf(b, "<li><strong>..</strong> not available: not reported, or not published "
	               "in this release, e.g. the quarters of an annual release (%zu cells). Not "
	               "available is never zero.</li>", pg->n_status[REL_MISSING]);
	strbuf_printf(b, "<li><sup>p</sup> partial year: built from fewer than four quarters "
	               "(%zu cells); hollow points in charts, left out of the panel.</li>",
	               pg->n_flag[3]);
	strbuf_printf(b, "<li><sup>c</sup> includes a censored value (%zu cells); "
	               "<sup>a</sup> includes a total reported as not the sum of its parts "
	               "(%zu); <sup>d</sup> includes a value derived from a finer breakdown "
	               "(%zu).</li>", pg->n_flag[1], pg->n_flag[0], pg->n_flag[2]);
	P(b, "<li><sup>&#167;</sup> Coverage: countries contributing to a world, regional or "
	     "subregional figure / countries of the area in the codelists. Aggregates sum the "
	     "reporting countries only, so a change in coverage changes the figure; compare years "
	     "with the comparable panel. Coverage is shown for suppressed totals too (the number "
	     "of countries is published, the count is not).</li>"
	     "<li>Comparable panel: countries with a single published total (exact or noisy, not "
	     "partial) for every year; trend by ordinary least squares of the panel total on the "
	     "year, SE and 95% confidence interval from Student&#8217;s t.</li>"
	     "<li>Charts never plot a suppressed or missing value: lines break there. Stacked bars "
	     "show suppressed categories as one grey segment (released total minus released "
	     "categories), or are left out when that cannot be computed.</li>"
	     "<li>Every number on this page is a released value or computed from released values "
	     "only.</li></ul></section>\n");
}

int rep_html_render(const rel_table *rel, const codelists *cl, strbuf *b, diag *d)
{
	page pg;
	memset(&pg, 0, sizeof pg);
	pg.rel = rel;
	pg.cl = cl;
	if (scan(&pg, d) != 0) {
		free(pg.ctry);
		return -1;
	}
	const rel_meta *m = &rel->meta;
	P(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"/>"
	     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/><title>");
	if (!m->is_private)
		P(b, "NOT PRIVATE &#8211; ");
	P(b, "Trafficking in persons: global trends");
	if (m->name && *m->name) {
		P(b, " &#8211; ");
		H(b, m->name);
	}
	P(b, "</title><style>");
	P(b, CSS);
	P(b, "</style></head>\n<body>\n<h1>Trafficking in persons: global trends</h1>"
	     "<p class=\"sub\">Release ");
	H(b, m->name && *m->name ? m->name : "(unnamed)");
	P(b, ", created ");
	H(b, m->created ? m->created : "(unknown)");
	P(b, "</p>\n");
	if (!m->is_private) {
		P(b, "<div class=\"banner\" id=\"not-private\" role=\"alert\">NOT PRIVATE: these figures "
		     "are not protected and must not be published.<br/>");
		H(b, m->notice ? m->notice : "");
		P(b, "</div>\n");
	}
	protection(b, rel);

	/* world and regions (charts); with their subregions (panel, tables):
	 * world, then each region followed by its subregions */
	int regs[16];
	size_t nr = aggregates(&pg, CL_REGION, NULL, regs);
	int kinds[17];
	const char *codes[17];
	size_t ns = 0;
	int akinds[REP_HTML_MAXAREAS];
	const char *acodes[REP_HTML_MAXAREAS];
	size_t na = 0;
	int world[1];
	if (aggregates(&pg, CL_WORLD, NULL, world) == 1) {
		kinds[ns] = akinds[na] = REL_GEO_WORLD;
		codes[ns] = acodes[na] = "001";
		ns++;
		na++;
	}
	for (size_t i = 0; i < nr && ns < 17; i++) {
		kinds[ns] = akinds[na] = REL_GEO_REGION;
		codes[ns] = acodes[na] = cl->regions[regs[i]].code;
		ns++;
		na++;
		int subs[64];
		size_t nsub = aggregates(&pg, CL_SUBREGION, cl->regions[regs[i]].code, subs);
		for (size_t j = 0; j < nsub && na < REP_HTML_MAXAREAS; j++) {
			akinds[na] = REL_GEO_SUBREGION;
			acodes[na++] = cl->regions[subs[j]].code;
		}
	}

	P(b, "<section id=\"trend\"><h2>Detected victims per year</h2>");
	if (pg.n_years && ns) {
		P(b, "<figure class=\"chart\" id=\"chart-victims\">");
		line_chart(b, &pg, kinds, codes, ns);
		P(b, "<figcaption class=\"note\">Totals of the reporting countries (coverage varies by "
		     "year: see the tables). Gaps: suppressed or not available. Error bars: 90% margin "
		     "of error of noisy values; dashed ranges: censored intervals; hollow points: partial "
		     "years or intervals.</figcaption></figure>");
	} else
		P(b, "<p class=\"note\">No annual world or regional figures in this release.</p>");
	P(b, "</section>\n<section id=\"panel\"><h2>Comparable panel and trend</h2>"
	     "<p class=\"note\">Countries with a published total in every year, so that years "
	     "compare like with like.</p>");
	trend_table(b, &pg, akinds, acodes, na);
	P(b, "</section>\n");

	int latest = pg.n_years ? pg.years[pg.n_years - 1] : 0;
	if (latest && ns) {
		strbuf_printf(b, "<section id=\"groups\"><h2>Women, men, girls and boys among detected "
		               "victims, %d</h2><figure class=\"chart\" id=\"chart-groups\">", latest);
		bar_chart(b, &pg, "Share of detected victims by sex and age group", kinds, codes, ns,
		          period_make(latest, 0), CUBE_S_GROUP, CUBE_NGROUP);
		strbuf_printf(b, "</figure></section>\n<section id=\"forms\"><h2>Forms of exploitation, "
		               "%d</h2><figure class=\"chart\" id=\"chart-forms\">", latest);
		bar_chart(b, &pg, "Share of detected victims by form of exploitation", kinds, codes, ns,
		          period_make(latest, 0), CUBE_S_FORM, CUBE_NFORM);
		P(b, "<figcaption class=\"note\">Shares of the categories shown (unknown included). "
		     "Error bars: noisy values.</figcaption></figure></section>\n");
	}

	P(b, "<section id=\"regions\"><h2>Tables by region and subregion</h2>");
	for (size_t i = 0; i < na; i++)
		area_table(b, &pg, akinds[i], acodes[i], acodes, na);
	P(b, "</section>\n");
	footnotes(b, &pg);
	P(b, "</body>\n</html>\n");
	free(pg.ctry);
	return strbuf_ok(b, d);
}

int rep_html_write(const rel_table *rel, const codelists *cl, const char *path, diag *d)
{
	strbuf b = {0};
	int rc = rep_html_render(rel, cl, &b, d);
	if (rc == 0)
		rc = rep_buf_write(&b, path, d);
	strbuf_free(&b);
	return rc;
}
