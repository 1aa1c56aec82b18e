/* html (rep_html_): the report as ONE self-contained HTML file.
 *
 * No network, no script, no external font or image: inline CSS and
 * hand-written inline SVG, so the file can be mailed, archived and printed
 * as it is, and read without JavaScript.  The page is also well-formed XML
 * (every element closed, only numeric character references), so it can be
 * checked with any XML parser.
 *
 * Content: title; how the release was protected (method, parameters, rho,
 * seed, submissions) and, when release.json says private = false, a
 * prominent NOT PRIVATE banner with the notice; a line chart of detected
 * victims per year for the world and the regions; the comparable panel and
 * its trend (trend.h) for the world and each region; stacked bars of the
 * UNODC groups (women, men, girls, boys, unknown) and of the forms of
 * exploitation for the latest year; one table per area the release has
 * (world, each region, then its subregions: indicators, coverage =
 * countries reporting against countries of the area, then the area's
 * parts: regions, subregions or countries); footnotes.
 *
 * Machine-checkable: every chart is a <figure class="chart"> holding one
 * <svg>, and every figure cell of the tables carries data-geo, data-area
 * (the tidy Country column), data-year, data-indicator, data-slot and
 * data-status (the release status, or "absent" when the release has no
 * row), so a cell can be matched to exactly one release and tidy.csv row
 * (tests/e2e/t_report_browser.sh does so on the page Chromium rendered).
 *
 * Honesty rules: every number shown is a released value or computed from
 * released values only.  Suppressed cells show "x" with a footnote saying
 * why (primary: small cell; secondary: protects another cell), noisy values
 * show their 90% margin of error rounded to one decimal (exact in the CSV
 * files; error bars in charts), censored
 * intervals show as lo-hi, partial years and other cube flags as
 * superscripts.  Charts never plot a suppressed or missing value (the line
 * breaks); a stacked bar with suppressed parts shows them as one combined
 * grey segment (released total minus released parts) or is left out, with
 * the reason, when that cannot be computed.  All text is escaped.
 */
#ifndef TIPSTAT_HTML_H
#define TIPSTAT_HTML_H

#include "core/codelist.h"
#include "core/diag.h"
#include "privacy/release.h"
#include "reports/rbuf.h"

int rep_html_render(const rel_table *rel, const codelists *cl, strbuf *out, diag *d);
int rep_html_write(const rel_table *rel, const codelists *cl, const char *path, diag *d);

#endif
