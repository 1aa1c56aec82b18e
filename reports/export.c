/* export: released tables for researchers, with a README
 * (reports/export.h). */
#include "reports/export.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include "reports/sdmx.h"
#include "reports/tidy.h"

int rep_export_readme(const rel_table *rel, strbuf *b, diag *d)
{
	const rel_meta *m = &rel->meta;
	size_t counts[5] = {0};
	for (size_t i = 0; i < rel_n_rows(rel); i++) {
		const rel_row *r = rel_row_at(rel, i);
		if (r->status >= 0 && r->status < 5)
			counts[r->status]++;
	}
	strbuf_printf(b, "# Release %s\n\n", m->name ? m->name : "(unnamed)");
	if (!m->is_private)
		strbuf_printf(b, "**%s** These tables are not protected and must not be "
		               "published.\n\n", m->notice && *m->notice ? m->notice : "NOT PRIVATE");
	strbuf_printf(b, "Created %s. %zu cells: %zu free, %zu noisy, %zu primary, %zu secondary, "
	               "%zu missing.\n\n", m->created ? m->created : "-", rel_n_rows(rel),
	               counts[REL_FREE], counts[REL_NOISY], counts[REL_PRIMARY],
	               counts[REL_SECONDARY], counts[REL_MISSING]);
	strbuf_puts(b, "## Files\n\n"
	             "- `tidy.csv`: one row per cell in the columns of UNODC's published long data "
	             "(Iso3_code, Country, Region, Subregion, Indicator, Dimension, Category, Sex, "
	             "Age, Year, Unit of measurement, VALUE) plus Status, Flags, Lower, Upper, MOE "
	             "and Countries; rates per 100,000 population where the population is known.\n"
	             "- `sdmx.csv`: the same cells as SDMX-CSV (dataflow " REP_SDMX_DATAFLOW "), "
	             "structure in `dsd.json`.\n\n");
	strbuf_puts(b, "## How the tables were protected\n\n");
	switch (m->method) {
	case REL_M_SUPPRESSION:
		strbuf_puts(b, "Cell suppression. Small cells are suppressed (primary), and further "
		             "cells are suppressed (secondary) so that a suppressed value cannot be "
		             "recovered from the published totals by subtraction. Published values are "
		             "exact counts.\n\n");
		break;
	case REL_M_DP:
		strbuf_puts(b, "Differential privacy (zero-concentrated, rho-zCDP). Every published "
		             "count carries discrete Gaussian noise; the tables were then made "
		             "consistent (totals equal the sums of their parts) and non-negative "
		             "integers, which costs no privacy.");
		if (!isnan(m->rho))
			strbuf_printf(b, " Privacy budget spent on this release: rho = %.9g.", m->rho);
		strbuf_puts(b, " The unit of privacy is one person: a person who appears in "
		             "several tables (indicators, years) loses at most that rho in total.\n\n");
		break;
	default:
		strbuf_puts(b, "None: an internal, unprotected run.\n\n");
	}
	if (m->has_seed)
		strbuf_puts(b, "The noise was made with a fixed test seed: the values are NOT "
		             "PRIVATE.\n\n");
	strbuf_puts(b, "## Reading the cells\n\n"
	             "| Status (tidy) | OBS_STATUS / CONF_STATUS (SDMX) | Meaning |\n"
	             "|---|---|---|\n"
	             "| free | A / F | published as counted: VALUE exact, or empty with Lower and "
	             "Upper when a country censored small numbers (Upper empty = no bound) |\n"
	             "| noisy | E / F | differentially private estimate: VALUE with its MOE |\n"
	             "| primary | A / C | suppressed: a small cell |\n"
	             "| secondary | A / D | suppressed to protect another cell |\n"
	             "| missing | L / F | not available: not reported by the country |\n\n"
	             "Flags (tidy `Flags`, SDMX `COMMENT` as `flags=...`): `c` the value includes a "
	             "number a country censored (reported as a range), `a` it includes a total a "
	             "country reported as not the sum of its parts, `d` it was derived from a finer "
	             "breakdown, `p` the year is built from fewer than four quarters. "
	             "`Countries` is the number of countries an aggregate covers.\n\n"
	             "Margins of error (`MOE`) are 90% margins: the true count lies within VALUE +/- "
	             "MOE with probability at least 90% (over the noise). They describe the noise "
	             "added for privacy only, not reporting errors. A noisy cell may be 0 where the "
	             "true count is small but not zero.\n\n"
	             "Researchers with an account may also ask their own questions "
	             "(`tipstat query`, see docs/researchers.md).\n");
	return strbuf_ok(b, d);
}

int rep_export_write(const rel_table *rel, const codelists *cl, const pop_table *pop,
                     const char *outdir, diag *d)
{
	enum { NF = 4 };
	static const char *const names[NF] = {"tidy.csv", "sdmx.csv", "dsd.json", "README.md"};
	strbuf b[NF];
	memset(b, 0, sizeof b);
	int rc = -1;
	if (rep_tidy_render(rel, cl, pop, &b[0], d) != 0 || rep_sdmx_render(rel, &b[1], d) != 0 ||
	    rep_sdmx_render_dsd(&b[2], d) != 0 || rep_export_readme(rel, &b[3], d) != 0)
		goto out;
	rc = rep_buf_write_dir(outdir, names, b, NF, d);
out:
	for (int i = 0; i < NF; i++)
		strbuf_free(&b[i]);
	return rc;
}
