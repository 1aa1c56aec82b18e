/* tidy: see tidy.h. */
#include "reports/tidy.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include "core/period.h"
#include "reports/labels.h"

/* Population behind a TOTAL cell, or -1 when unknown (see tidy.h). */
static int64_t cell_population(const rel_table *rel, const codelists *cl, const pop_table *pop,
                               const rel_row *r, const rep_geo_info *g)
{
	int year = period_year(r->period);
	if (r->geo_kind == REL_GEO_COUNTRY)
		return pop_get(pop, g->country, year);
	int64_t sum = 0;
	uint32_t n = 0;
	for (size_t c = 0; c < cl->n_countries; c++) {
		if (!rep_country_in(cl, (int)c, r->geo))
			continue;
		const rel_row *cr = rel_find(rel, cl->countries[c].iso3, r->period, r->indicator,
		                             CUBE_S_TOTAL);
		if (!cr || cr->status == REL_MISSING)
			continue;
		int64_t p = pop_get(pop, (int)c, year);
		if (p < 0)
			return -1;
		sum += p;
		n++;
	}
	return n == r->countries && n > 0 && sum > 0 ? sum : -1;
}

static void row_start(strbuf *b, const rep_geo_info *g, int ind, const rep_tidy_labels *l,
                      const char *year, const char *unit)
{
	const char *f[11] = {g->iso3, g->name, g->region, g->subregion, rep_indicator_label(ind),
		l->dimension, l->category, l->sex, l->age, year, unit};
	for (int i = 0; i < 11; i++) {
		rep_buf_csv(b, f[i]);
		strbuf_puts(b, ",");
	}
}

/* A noisy row's Lower, Upper and MOE fields (no trailing comma): its 90%
 * interval [value - moe_lo, value + moe_hi] times k, and MOE the margin
 * when the interval is symmetric, else empty (then Lower and Upper are the
 * interval).  fixed3: "%.3f" (rates), else exact. */
static void noisy_bounds(strbuf *out, const rel_row *r, double k, int fixed3)
{
	double v = (double)r->value, b[2] = {(v - r->moe_lo) * k, (v + r->moe_hi) * k};
	for (int i = 0; i < 2; i++) {
		if (fixed3)
			strbuf_printf(out, "%.3f", b[i]);
		else
			strbuf_double(out, b[i]);
		strbuf_puts(out, ",");
	}
	if (r->moe_lo == r->moe_hi) {
		if (fixed3)
			strbuf_printf(out, "%.3f", r->moe_lo * k);
		else
			strbuf_double(out, r->moe_lo * k);
	}
}

int rep_tidy_render(const rel_table *rel, const codelists *cl, const pop_table *pop,
                    strbuf *out, diag *d)
{
	strbuf_puts(out, REP_TIDY_HEADER "\n");
	for (size_t i = 0; i < rel_n_rows(rel); i++) {
		const rel_row *r = rel_row_at(rel, i);
		rep_tidy_labels l;
		if (rep_slot_tidy(r->slot, &l) != 0)
			continue;
		rep_geo_info g;
		if (rep_geo_lookup(cl, r->geo_kind, r->geo, &g) != 0)
			return diag_fail(d, EX_DATAERR, "release geography %s %s is not in the codelists",
			                 rel_geo_kind_name(r->geo_kind), r->geo);
		char year[16], fl[8];
		period_format(r->period, year);
		cube_flags_str(r->flags, fl);
		row_start(out, &g, r->indicator, &l, year, "Counts");
		/* VALUE */
		if (r->has_value)
			strbuf_printf(out, "%lld", (long long)r->value);
		strbuf_printf(out, ",%s,%s,", rel_status_name(r->status), fl);
		/* Lower, Upper, MOE */
		if (r->has_interval) {
			strbuf_printf(out, "%lld,", (long long)r->lo);
			if (r->hi != REL_UNBOUNDED)
				strbuf_printf(out, "%lld", (long long)r->hi);
			strbuf_puts(out, ",");
		} else if (r->status == REL_NOISY)
			noisy_bounds(out, r, 1, 0);
		else
			strbuf_puts(out, ",,");
		strbuf_printf(out, ",%lu\n", (unsigned long)r->countries);

		/* the rate row */
		if (!pop || r->slot != CUBE_S_TOTAL || period_quarter(r->period) != 0 ||
		    (r->status != REL_FREE && r->status != REL_NOISY))
			continue;
		int64_t p = cell_population(rel, cl, pop, r, &g);
		if (p <= 0)
			continue;
		double k = 100000.0 / (double)p;
		row_start(out, &g, r->indicator, &l, year, "Rate per 100,000 population");
		if (r->has_value)
			strbuf_printf(out, "%.3f", (double)r->value * k);
		strbuf_printf(out, ",%s,%s,", rel_status_name(r->status), fl);
		if (r->has_interval) {
			strbuf_printf(out, "%.3f,", (double)r->lo * k);
			if (r->hi != REL_UNBOUNDED)
				strbuf_printf(out, "%.3f", (double)r->hi * k);
			strbuf_puts(out, ",");
		} else if (r->status == REL_NOISY)
			noisy_bounds(out, r, k, 1);
		else
			strbuf_puts(out, ",,");
		strbuf_printf(out, ",%lu\n", (unsigned long)r->countries);
	}
	return strbuf_ok(out, d);
}

int rep_tidy_write(const rel_table *rel, const codelists *cl, const pop_table *pop,
                   const char *path, diag *d)
{
	strbuf b = {0};
	int rc = rep_tidy_render(rel, cl, pop, &b, d);
	if (rc == 0)
		rc = rep_buf_write(&b, path, d);
	strbuf_free(&b);
	return rc;
}
