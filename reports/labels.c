/* labels: see labels.h. */
#include "reports/labels.h"

#include <string.h>
#include "aggregator/cube.h"
#include "privacy/release.h"

static const char *const ind_labels[REL_NIND] = {"Detected trafficking victims",
	"Persons brought into formal contact", "Persons prosecuted", "Persons convicted"};

static const char *const sex_tidy[CUBE_NSEX] = {"Female", "Male", "Other", "Unknown"};
static const char *const age_tidy[CUBE_NAGE] = {"Minor", "Adult", "Unknown"};
static const char *const sex_sdmx[CUBE_NSEX] = {"F", "M", "O", "U"};
static const char *const age_sdmx[CUBE_NAGE] = {"Y0T17", "Y_GE18", "U"};
/* UNODC's category labels in its published long tables. */
static const char *const form_tidy[CUBE_NFORM] = {"Sexual exploitation", "Forced labour",
	"Forced criminal activity", "Forced begging", "Forced marriage", "Removal of organs",
	"Illegal adoption", "Mixed exploitation", "Other purposes", "Not specified"};
static const char *const form_sdmx[CUBE_NFORM] = {"SEX", "LAB", "CRIM", "BEG", "MAR", "ORG",
	"ADOP", "MIX", "OTH", "U"};
static const char *const cit_tidy[CUBE_NCIT] = {"Domestic", "Same subregion",
	"Other subregion", "Other region", "Unknown"};
static const char *const cit_sdmx[CUBE_NCIT] = {"DOMESTIC", "SAME_SUBREGION",
	"OTHER_SUBREGION", "OTHER_REGION", "U"};
static const char *const group_labels[CUBE_NGROUP] = {"Women", "Men", "Girls", "Boys",
	"Unknown sex or age"};
static const char *const sexage_labels[CUBE_NSEX * CUBE_NAGE] = {
	"Female, minor", "Female, adult", "Female, age unknown",
	"Male, minor", "Male, adult", "Male, age unknown",
	"Other sex, minor", "Other sex, adult", "Other sex, age unknown",
	"Sex unknown, minor", "Sex unknown, adult", "Sex and age unknown"};
static const char *const sex_labels[CUBE_NSEX] = {"Female", "Male", "Other sex", "Sex unknown"};
static const char *const age_labels[CUBE_NAGE] = {"Minors", "Adults", "Age unknown"};

const char *rep_indicator_label(int ind)
{
	return ind >= 0 && ind < REL_NIND ? ind_labels[ind] : NULL;
}

int rep_slot_tidy(int slot, rep_tidy_labels *o)
{
	*o = (rep_tidy_labels){"Total", "Total", "Total", "Total"};
	int fam = cube_slot_family(slot), k = slot - cube_family_first(fam);
	switch (fam) {
	case CUBE_FAM_TOTAL: return 0;
	case CUBE_FAM_SEXAGE:
		o->sex = sex_tidy[k / CUBE_NAGE];
		o->age = age_tidy[k % CUBE_NAGE];
		return 0;
	case CUBE_FAM_SEX: o->sex = sex_tidy[k]; return 0;
	case CUBE_FAM_AGE: o->age = age_tidy[k]; return 0;
	case CUBE_FAM_FORM:
		o->dimension = "by form of exploitation";
		o->category = form_tidy[k];
		return 0;
	case CUBE_FAM_CIT:
		o->dimension = "by citizenship";
		o->category = cit_tidy[k];
		return 0;
	default: return -1;
	}
}

int rep_slot_sdmx(int slot, rep_sdmx_codes *o)
{
	*o = (rep_sdmx_codes){"_T", "_T", "_T", "_T"};
	int fam = cube_slot_family(slot), k = slot - cube_family_first(fam);
	switch (fam) {
	case CUBE_FAM_TOTAL: return 0;
	case CUBE_FAM_SEXAGE:
		o->sex = sex_sdmx[k / CUBE_NAGE];
		o->age = age_sdmx[k % CUBE_NAGE];
		return 0;
	case CUBE_FAM_SEX: o->sex = sex_sdmx[k]; return 0;
	case CUBE_FAM_AGE: o->age = age_sdmx[k]; return 0;
	case CUBE_FAM_FORM: o->form = form_sdmx[k]; return 0;
	case CUBE_FAM_CIT: o->cit = cit_sdmx[k]; return 0;
	default: return -1;
	}
}

const char *rep_slot_label(int slot)
{
	int fam = cube_slot_family(slot), k = slot - cube_family_first(fam);
	switch (fam) {
	case CUBE_FAM_TOTAL: return "Total";
	case CUBE_FAM_SEXAGE: return sexage_labels[k];
	case CUBE_FAM_SEX: return sex_labels[k];
	case CUBE_FAM_AGE: return age_labels[k];
	case CUBE_FAM_GROUP: return group_labels[k];
	case CUBE_FAM_FORM: return form_tidy[k];
	case CUBE_FAM_CIT: return cit_tidy[k];
	default: return NULL;
	}
}

static const rep_code cl_sex[] = {{"F", "Female"}, {"M", "Male"}, {"O", "Other"},
	{"U", "Unknown"}, {"_T", "Total"}, {NULL, NULL}};
static const rep_code cl_age[] = {{"Y0T17", "Under 18 years (minor)"},
	{"Y_GE18", "18 years or over (adult)"}, {"U", "Unknown"}, {"_T", "Total"}, {NULL, NULL}};
static const rep_code cl_form[] = {{"SEX", "Sexual exploitation"}, {"LAB", "Forced labour"},
	{"CRIM", "Forced criminal activity"}, {"BEG", "Forced begging"},
	{"MAR", "Forced marriage"}, {"ORG", "Removal of organs"}, {"ADOP", "Illegal adoption"},
	{"MIX", "Mixed exploitation"}, {"OTH", "Other forms of exploitation"},
	{"U", "Not specified"}, {"_T", "Total"}, {NULL, NULL}};
static const rep_code cl_cit[] = {{"DOMESTIC", "Citizens of the reporting country"},
	{"SAME_SUBREGION", "Citizens of another country of the same subregion"},
	{"OTHER_SUBREGION", "Citizens of a country of another subregion of the same region"},
	{"OTHER_REGION", "Citizens of a country of another region"},
	{"U", "Unknown citizenship"}, {"_T", "Total"}, {NULL, NULL}};
static const rep_code cl_ind[] = {{"VIC", "Detected trafficking victims"},
	{"SUS", "Persons brought into formal contact"}, {"PROS", "Persons prosecuted"},
	{"CONV", "Persons convicted"}, {NULL, NULL}};
static const rep_code cl_unit[] = {{"PS", "Persons"}, {NULL, NULL}};
static const rep_code cl_obs_status[] = {{"A", "Normal value"},
	{"E", "Estimated value (differentially private noisy value)"},
	{"L", "Missing value; data exist but were not collected (not reported)"}, {NULL, NULL}};
static const rep_code cl_conf_status[] = {{"F", "Free"},
	{"C", "Confidential statistical information (primary suppression)"},
	{"D", "Secondary confidentiality set by the sender, not for publication"}, {NULL, NULL}};

const rep_code *rep_sdmx_codelist(const char *dim)
{
	static const struct { const char *dim; const rep_code *cl; } t[] = {
		{"SEX", cl_sex}, {"AGE", cl_age}, {"FORM", cl_form},
		{"CITIZENSHIP_CLASS", cl_cit}, {"INDICATOR", cl_ind}, {"UNIT_MEASURE", cl_unit},
		{"OBS_STATUS", cl_obs_status}, {"CONF_STATUS", cl_conf_status}};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (strcmp(t[i].dim, dim) == 0)
			return t[i].cl;
	return NULL;
}

int rep_geo_lookup(const codelists *cl, int kind, const char *geo, rep_geo_info *o)
{
	memset(o, 0, sizeof *o);
	o->code = geo;
	o->iso3 = o->region = o->subregion = o->region_code = o->subregion_code = "";
	o->country = -1;
	if (kind == REL_GEO_COUNTRY) {
		int c = -1;
		for (size_t i = 0; i < cl->n_countries; i++)
			if (strcmp(cl->countries[i].iso3, geo) == 0)
				c = (int)i;
		if (c < 0)
			return -1;
		const cl_country *cc = &cl->countries[c];
		o->country = c;
		o->name = cc->name;
		o->iso3 = cc->iso3;
		if (cc->region >= 0) {
			o->region = cl->regions[cc->region].name;
			o->region_code = cl->regions[cc->region].code;
		}
		if (cc->subregion >= 0) {
			o->subregion = cl->regions[cc->subregion].name;
			o->subregion_code = cl->regions[cc->subregion].code;
		}
		return 0;
	}
	static const int want[3] = {CL_WORLD, CL_REGION, CL_SUBREGION};
	if (kind < 0 || kind > 2)
		return -1;
	for (size_t i = 0; i < cl->n_regions; i++) {
		const cl_region *r = &cl->regions[i];
		if (r->kind != want[kind] || strcmp(r->code, geo) != 0)
			continue;
		o->name = r->name;
		if (kind == REL_GEO_REGION) {
			o->region = r->name;
			o->region_code = r->code;
		} else if (kind == REL_GEO_SUBREGION) {
			o->subregion = r->name;
			o->subregion_code = r->code;
			if (r->parent >= 0) {
				o->region = cl->regions[r->parent].name;
				o->region_code = cl->regions[r->parent].code;
			}
		}
		return 0;
	}
	return -1;
}

int rep_country_in(const codelists *cl, int c, const char *geo)
{
	if (c < 0 || (size_t)c >= cl->n_countries)
		return 0;
	if (strcmp(geo, "001") == 0)
		return 1;
	const cl_country *cc = &cl->countries[c];
	return (cc->region >= 0 && strcmp(cl->regions[cc->region].code, geo) == 0) ||
	       (cc->subregion >= 0 && strcmp(cl->regions[cc->subregion].code, geo) == 0);
}
