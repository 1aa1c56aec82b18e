/* labels (rep_): names and codes shared by every report.
 *
 * One table maps each cube slot to the UNODC tidy columns (Dimension,
 * Category, Sex, Age) and to the SDMX dimension codes (SEX, AGE, FORM,
 * CITIZENSHIP_CLASS), so the tidy file, the SDMX file, the DSD and the HTML
 * report can never disagree on what a cell is.  Geography codes of the
 * release (ISO alpha-3 or M49) are resolved against the codelists here.
 *
 * The UNODC groups (GROUP:women ...) are a regrouping of sex x age: tidy
 * and SDMX publish sex x age and leave the group slots out (the same cell
 * would appear twice); the HTML report uses them for its charts.
 *
 * All returned strings are static or point into the codelists.
 */
#ifndef TIPSTAT_LABELS_H
#define TIPSTAT_LABELS_H

#include "core/codelist.h"

typedef struct rep_geo_info {
	const char *code;       /* the release's geo code */
	const char *name;       /* country or aggregate name */
	const char *iso3;       /* country: ISO alpha-3; aggregates: "" */
	const char *region;     /* region name (a region: itself); "" for the world */
	const char *subregion;  /* subregion name or "" */
	const char *region_code, *subregion_code;  /* M49 or "" */
	int country;            /* codelist index of a country, else -1 */
} rep_geo_info;

/* Resolve a geography; 0, or -1 when the code is not in the codelists
 * (or not of that kind). */
int rep_geo_lookup(const codelists *cl, int geo_kind, const char *geo, rep_geo_info *out);
/* 1 when country index c belongs to the aggregate with M49 code geo
 * ("001" = every country). */
int rep_country_in(const codelists *cl, int c, const char *geo);

typedef struct rep_tidy_labels {
	const char *dimension;  /* "Total", "by form of exploitation", "by citizenship" */
	const char *category;
	const char *sex;        /* Female, Male, Other, Unknown, Total */
	const char *age;        /* Adult, Minor, Unknown, Total */
} rep_tidy_labels;

typedef struct rep_sdmx_codes {
	const char *sex;        /* F M O U _T */
	const char *age;        /* Y0T17 Y_GE18 U _T */
	const char *form;       /* SEX ... U, _T */
	const char *cit;        /* DOMESTIC SAME_SUBREGION OTHER_SUBREGION OTHER_REGION U, _T */
} rep_sdmx_codes;

/* 0 and the labels / codes of a slot; -1 for slots the file does not
 * publish (the UNODC groups) or out of range. */
int rep_slot_tidy(int slot, rep_tidy_labels *out);
int rep_slot_sdmx(int slot, rep_sdmx_codes *out);
/* A short English label for charts and tables: "Total", "Women",
 * "Female, minor", "Sexual exploitation", "Domestic", ... */
const char *rep_slot_label(int slot);
/* UNODC's indicator label ("Detected trafficking victims", ...). */
const char *rep_indicator_label(int ind);

/* SDMX codelists for the DSD: the codes of a dimension and their labels,
 * NULL-terminated arrays (static). */
typedef struct rep_code { const char *code, *label; } rep_code;
const rep_code *rep_sdmx_codelist(const char *dimension);

#endif
