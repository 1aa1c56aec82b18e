/* tabrel: see tabrel.h. */
#include "privacy/tabrel.h"

#include <stdio.h>
#include <sysexits.h>

static int add_submissions(const whcube_info *info, rel_table *t, diag *d)
{
	for (size_t i = 0; i < info->n_parts; i++) {
		char id[24];
		snprintf(id, sizeof id, "%lld", (long long)info->parts[i].submission_id);
		if (rel_add_submission(t, info->parts[i].country, info->parts[i].period,
		                       info->parts[i].version, id, d) != 0)
			return -1;
	}
	return 0;
}

int tabrel_fill(const cube *c, const codelists *cl, const whcube_info *info,
                const tabrel_cells *cells, rel_table *t, diag *d)
{
	if (cells && !cells->status)
		return diag_fail(d, EX_SOFTWARE, "protection arrays without statuses");
	if (info && add_submissions(info, t, d) != 0)
		return -1;
	cube_iter it;
	cube_cell cc;
	cube_iter_init(&it);
	size_t i = 0;
	while (cube_next(c, &it, &cc)) {
		if (cells && i >= cells->n)
			return diag_fail(d, EX_SOFTWARE, "protection arrays cover %zu cells; the cube "
			                 "has more", cells->n);
		const char *geo = cc.geo.kind == CUBE_GEO_COUNTRY ? cl->countries[cc.geo.index].iso3
		                : cl->regions[cc.geo.index].code;
		rel_row r;
		rel_row_from_cube(&r, cc.geo.kind, geo, cc.period, cc.indicator, cc.slot, &cc.v);
		if (cells && cc.v.avail) {
			int s = cells->status[i];
			if (s == REL_PRIMARY || s == REL_SECONDARY || s == REL_MISSING)
				rel_row_suppress(&r, s);
			else if (s == REL_NOISY && cells->noisy && cells->moe_lo && cells->moe_hi)
				rel_row_noisy(&r, cells->noisy[i], cells->moe_lo[i], cells->moe_hi[i]);
			else if (s != REL_FREE)
				return diag_fail(d, EX_SOFTWARE, "protection status %d of cell %zu is not "
				                 "one a release can publish", s, i);
		}
		if (rel_add_row(t, &r, d) != 0)
			return -1;
		i++;
	}
	if (cells && i != cells->n)
		return diag_fail(d, EX_SOFTWARE, "protection arrays cover %zu cells; the cube has %zu",
		                 cells->n, i);
	return 0;
}
