/* sdmx: see sdmx.h. */
#include "reports/sdmx.h"

#include <stdio.h>
#include <string.h>
#include "core/period.h"
#include "reports/labels.h"

static const char *obs_status(int st)
{
	return st == REL_NOISY ? "E" : st == REL_MISSING ? "L" : "A";
}

static const char *conf_status(int st)
{
	return st == REL_PRIMARY ? "C" : st == REL_SECONDARY ? "D" : "F";
}

int rep_sdmx_render(const rel_table *rel, strbuf *out, diag *d)
{
	strbuf_puts(out, REP_SDMX_HEADER "\n");
	for (size_t i = 0; i < rel_n_rows(rel); i++) {
		const rel_row *r = rel_row_at(rel, i);
		rep_sdmx_codes c;
		if (rep_slot_sdmx(r->slot, &c) != 0)
			continue;
		char per[16], fl[8];
		period_format(r->period, per);
		cube_flags_str(r->flags, fl);
		strbuf_printf(out, "%s,%s,%s,%s,%s,%s,%s,%s,PS,", REP_SDMX_DATAFLOW, r->geo, per,
		               rel_indicator_code(r->indicator), c.sex, c.age, c.form, c.cit);
		if (r->has_value)
			strbuf_printf(out, "%lld", (long long)r->value);
		strbuf_printf(out, ",%s,%s,", obs_status(r->status), conf_status(r->status));
		if (r->has_interval && !r->has_value) {
			strbuf_printf(out, "%lld,", (long long)r->lo);
			if (r->hi != REL_UNBOUNDED)
				strbuf_printf(out, "%lld", (long long)r->hi);
			strbuf_puts(out, ",");
		} else if (r->status == REL_NOISY) {
			/* the 90% interval; MOE only when it is symmetric */
			strbuf_double(out, (double)r->value - r->moe_lo);
			strbuf_puts(out, ",");
			strbuf_double(out, (double)r->value + r->moe_hi);
			strbuf_puts(out, ",");
			if (r->moe_lo == r->moe_hi)
				strbuf_double(out, r->moe_lo);
		} else
			strbuf_puts(out, ",,");
		strbuf_printf(out, ",flags=%s;countries=%lu\n", fl, (unsigned long)r->countries);
	}
	return strbuf_ok(out, d);
}

int rep_sdmx_write(const rel_table *rel, const char *path, diag *d)
{
	strbuf b = {0};
	int rc = rep_sdmx_render(rel, &b, d);
	if (rc == 0)
		rc = rep_buf_write(&b, path, d);
	strbuf_free(&b);
	return rc;
}

static void codelist_json(strbuf *b, const char *id, const rep_code *cl)
{
	strbuf_puts(b, "\"codelist\": ");
	strbuf_json(b, id);
	strbuf_puts(b, ", \"codes\": [");
	for (size_t i = 0; cl && cl[i].code; i++) {
		strbuf_puts(b, i ? ", {\"id\": " : "{\"id\": ");
		strbuf_json(b, cl[i].code);
		strbuf_puts(b, ", \"name\": ");
		strbuf_json(b, cl[i].label);
		strbuf_puts(b, "}");
	}
	strbuf_puts(b, "]");
}

int rep_sdmx_render_dsd(strbuf *b, diag *d)
{
	static const struct { const char *id, *cl, *desc; } dims[] = {
		{"REF_AREA", "CL_AREA_TIPSTAT", "ISO 3166-1 alpha-3 code of a country, or UN M49 "
		 "code of a region, subregion or the world (001), as in datasets/codelists"},
		{"TIME_PERIOD", NULL, "Year (YYYY) or quarter (YYYY-Qn)"},
		{"INDICATOR", "CL_TIP_INDICATOR", NULL},
		{"SEX", "CL_TIP_SEX", NULL},
		{"AGE", "CL_TIP_AGE", NULL},
		{"FORM", "CL_TIP_FORM", NULL},
		{"CITIZENSHIP_CLASS", "CL_TIP_CITIZENSHIP_CLASS", NULL},
		{"UNIT_MEASURE", "CL_UNIT_MEASURE", NULL},
	};
	static const struct { const char *id, *cl, *desc; } attrs[] = {
		{"OBS_STATUS", "CL_OBS_STATUS", "SDMX cross-domain observation status"},
		{"CONF_STATUS", "CL_CONF_STATUS", "SDMX cross-domain confidentiality status"},
		{"LOWER_BOUND", NULL, "Lower bound of a free interval (censored input)"},
		{"UPPER_BOUND", NULL, "Upper bound of a free interval; empty = unbounded"},
		{"MOE", NULL, "90% margin of error of a noisy (differentially private) value"},
		{"COMMENT", NULL, "flags=<letters of acdp>;countries=<contributing countries>"},
	};
	strbuf_puts(b, "{\n  \"dataflow\": ");
	strbuf_json(b, REP_SDMX_DATAFLOW);
	strbuf_puts(b, ",\n  \"agency\": \"TIPSTAT\", \"id\": \"DF_TIP\", \"version\": \"1.0\","
	                "\n  \"name\": \"Trafficking in persons: detected victims and offenders\","
	                "\n  \"dimensions\": [");
	for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
		strbuf_printf(b, "%s\n    {\"id\": ", i ? "," : "");
		strbuf_json(b, dims[i].id);
		strbuf_printf(b, ", \"position\": %zu, ", i + 1);
		if (dims[i].cl)
			codelist_json(b, dims[i].cl, rep_sdmx_codelist(dims[i].id));
		else
			strbuf_puts(b, "\"codelist\": null");
		if (dims[i].desc) {
			strbuf_puts(b, ", \"description\": ");
			strbuf_json(b, dims[i].desc);
		}
		strbuf_puts(b, "}");
	}
	strbuf_puts(b, "\n  ],\n  \"measure\": {\"id\": \"OBS_VALUE\", \"type\": \"integer\", "
	                "\"description\": \"Empty when the cell is suppressed, missing or an interval\"},"
	                "\n  \"attributes\": [");
	for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
		strbuf_printf(b, "%s\n    {\"id\": ", i ? "," : "");
		strbuf_json(b, attrs[i].id);
		strbuf_puts(b, ", ");
		if (attrs[i].cl)
			codelist_json(b, attrs[i].cl, rep_sdmx_codelist(attrs[i].id));
		else
			strbuf_puts(b, "\"codelist\": null");
		strbuf_puts(b, ", \"description\": ");
		strbuf_json(b, attrs[i].desc);
		strbuf_puts(b, "}");
	}
	strbuf_puts(b, "\n  ]\n}\n");
	return strbuf_ok(b, d);
}

int rep_sdmx_write_dsd(const char *path, diag *d)
{
	strbuf b = {0};
	int rc = rep_sdmx_render_dsd(&b, d);
	if (rc == 0)
		rc = rep_buf_write(&b, path, d);
	strbuf_free(&b);
	return rc;
}
