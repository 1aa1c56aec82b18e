/* report: see report.h. */
#include "reports/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include "reports/html.h"
#include "reports/rbuf.h"
#include "reports/sdmx.h"
#include "reports/tidy.h"

int rep_write_all(const rel_table *rel, const codelists *cl, const pop_table *pop,
                  const char *outdir, diag *d)
{
	enum { NF = 4 };
	static const char *const names[NF] = {"tidy.csv", "sdmx.csv", "dsd.json", "report.html"};
	strbuf b[NF];
	memset(b, 0, sizeof b);
	int rc = -1;
	if (rep_tidy_render(rel, cl, pop, &b[0], d) != 0 || rep_sdmx_render(rel, &b[1], d) != 0 ||
	    rep_sdmx_render_dsd(&b[2], d) != 0 || rep_html_render(rel, cl, &b[3], d) != 0)
		goto out;
	rc = rep_buf_write_dir(outdir, names, b, NF, d);
out:
	for (int i = 0; i < NF; i++)
		strbuf_free(&b[i]);
	return rc;
}
