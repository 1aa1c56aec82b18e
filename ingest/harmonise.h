/* harmonise: apply a mapping to the rows of a national file.
 *
 * harm_init() binds a parsed mapping to the actual header of one file
 * (which column is where, which value maps to which code, which unmapped
 * columns must stop ingest because they look like identifiers) and
 * pre-resolves every map line to a codelist index, so harm_row() is a
 * handful of hash lookups per field.
 *
 * A harmonised row (std_row) holds codelist indices, never national text:
 * minimisation is structural, a value that is not a code has nowhere to
 * go.  The national case id leaves this module only as a keyed BLAKE2b
 * hash (16 bytes) under the office's pseudonym key.
 *
 * Diagnostics quote values only from mapped code columns (capped and
 * sanitised); values from dropped, case-id and date-of-birth columns are
 * never quoted.
 *
 * Ownership: harm_free() releases what harm_init() built; the mapping,
 * codelists and key must outlive the harm.
 */
#ifndef TIPSTAT_HARMONISE_H
#define TIPSTAT_HARMONISE_H

#include <stdint.h>
#include "core/codelist.h"
#include "core/csvr.h"
#include "core/diag.h"
#include "core/hmap.h"
#include "ingest/mapping.h"

#define STD_TOTAL   (-2)   /* "_T": total over the dimension (cells only) */
#define STD_UNKNOWN (-3)   /* citizenship "U" (not a country) */
#define STD_NONE    (-1)   /* not given (age_band) */

enum std_flag { STD_F_CENSORED = 1, STD_F_NONADDITIVE = 2, STD_F_DUPLICATE = 4 };

typedef struct std_row {
	int country;       /* country index */
	int period;        /* packed (core/period.h) */
	int indicator;     /* index in cl->indicators */
	int sex;           /* index in cl->sex, or STD_TOTAL */
	int age;           /* age group index (top level), or STD_TOTAL */
	int age_band;      /* finer band index, or STD_NONE */
	int form;          /* index in cl->forms, or STD_TOTAL */
	int citizenship;   /* country index, STD_UNKNOWN, or STD_TOTAL */
	int has_key;
	unsigned char key[16];
	int64_t lo, hi;    /* cells: interval; hi < 0 = unbounded */
	unsigned flags;    /* enum std_flag */
	unsigned long line;/* source line */
} std_row;

typedef struct harm_col harm_col;

#define HARM_MAX_AGE 120   /* whole years; older is an impossible age */

typedef struct harm {
	const mapping *m;
	const codelists *cl;
	const char *file;              /* input name for diagnostics */
	const unsigned char *pkey;     /* 32-byte pseudonym key or NULL */
	int period_override;           /* packed period or -1 */
	harm_col *cols;                /* one per input column */
	size_t ncols;
	int konst[MF__COUNT];          /* resolved constants, or INT32_MIN */
	int src[MF__COUNT];            /* input column feeding each field, -1 */
	int *flag_form;                /* per input column: form index or -1 */
	hmap flag_yes, flag_no;
	int flag_none;                 /* form index when no flag is set */
	int age_ref_col;               /* column with the reference date, -1 */
	/* cl_age_for_years for every age 0..HARM_MAX_AGE, worked out once
	 * (a walk over the age codelist per row was 3% of harmonising) */
	int age_band_of[HARM_MAX_AGE + 1];
	const char *reason;            /* why the last row was rejected */
} harm;

/* Bind mapping to the file's header (NULL when header_line = 0; then
 * ncols is the width of the first row).  File-level problems (a mapped
 * column missing from the file, an unmapped identifier-like column) are
 * positioned errors; returns -1 with d->code = EX_DATAERR. */
int harm_init(harm *h, const mapping *m, const codelists *cl, const char *file,
              const csvr_record *header, size_t ncols,
              const unsigned char *pkey, int period_override, diag *d);
/* Harmonise one data row.  0 = ok (*out filled), 1 = rejected (diagnostics
 * added, h->reason set), -1 = fatal. */
int harm_row(harm *h, const csvr_record *rec, std_row *out, diag *d);
void harm_free(harm *h);
/* 1 if the values of input column j may be quoted in messages and rejects
 * files: a mapped code column (not dropped, not case id, not birth date). */
int harm_col_quotable(const harm *h, size_t j);

/* Code text of a std_row dimension value ("F", "_T", "U", "NGA"). */
const char *harm_code(const codelists *cl, int field, int v);

#endif
