/* mapping: the declarative description of one national file layout.
 *
 * A new national layout needs a new mapping file, never new code: this
 * module parses the mapping format documented in docs/mapping.md into the
 * plain structure below, which the harmoniser (ingest/harmonise.h) applies
 * row by row.  Errors in a mapping file are reported with the mapping's own
 * line and column, all of them (up to the diag cap), exit code EX_CONFIG.
 *
 * Value maps are stored with their national side already normalised with
 * text_norm(), so matching a value is one normalisation and one lookup.
 * Right-hand sides are checked against the codelists when the parser is
 * given them (a typo such as "-> FEM" is a mapping error, not a silent
 * miss at ingest time).
 *
 * Ownership: mapping_parse()/mapping_load() fill a caller-owned struct;
 * mapping_free() releases every string and array in it.
 */
#ifndef TIPSTAT_MAPPING_H
#define TIPSTAT_MAPPING_H

#include <stddef.h>
#include "core/codelist.h"
#include "core/diag.h"

/* Standard fields a national column (or a constant) can feed. */
enum map_field {
	MF_NONE = 0,
	MF_COUNTRY,      /* reporting country, any accepted spelling */
	MF_PERIOD,       /* YYYY-Qn or YYYY (also "2024Q1", "Q1 2024") */
	MF_YEAR,         /* YYYY; with MF_QUARTER makes the period */
	MF_QUARTER,      /* 1-4 or Q1-Q4 */
	MF_DATE,         /* a date, turned into its quarter (needs formats) */
	MF_INDICATOR,
	MF_SEX,
	MF_AGE_GROUP,    /* values map to age codes (group or band) */
	MF_AGE_YEARS,    /* exact age in whole years -> age band */
	MF_BIRTH_DATE,   /* date of birth -> age at the reference date */
	MF_FORM,
	MF_CITIZENSHIP,  /* any country spelling, or mapped to "U" */
	MF_CASE_ID,      /* national case id -> pseudonymous key */
	MF_COUNT,        /* cells: the count, possibly censored */
	MF_DIMENSION,    /* cells: which breakdown a row belongs to */
	MF_CATEGORY,     /* cells: the category within that breakdown */
	MF__COUNT
};

enum map_kind { MAP_RECORDS = 1, MAP_CELLS = 2 };
enum map_encoding { ENC_UTF8 = 0, ENC_LATIN1 = 1 };
enum map_drop { DROP_NONE = 0, DROP_IDENTIFIER, DROP_FREE_TEXT, DROP_OTHER };
enum map_dup { DUP_ERROR = 0, DUP_KEEP_FIRST, DUP_SUM };

/* One "national value(s) -> code" pair.  For MF_CATEGORY the code has
 * the form "field:CODE" (e.g. "form:SEX") or "_T"; for MF_DIMENSION it is
 * a field name ("form", "sex", "age", "sex_age", "citizenship") or
 * "total"; for MF_COUNT it is an interval "a-b" or "a-" (unbounded). */
typedef struct map_pair {
	char *from;          /* normalised national value ("" for empty) */
	char *to;            /* standard code as written in the mapping */
	unsigned line, col;  /* where the pair is in the mapping file: the
	                        position of its right-hand code (all values of
	                        one map line share it) */
} map_pair;

typedef struct map_column {
	char *name;          /* header name; NULL when addressed by index */
	unsigned index;      /* 1-based column number when name == NULL */
	int field;           /* enum map_field; MF_NONE when dropped */
	int drop;            /* enum map_drop */
	map_pair *pairs; size_t n_pairs;
	char *fallback;      /* code for unmapped values, NULL = error */
	char **formats; size_t n_formats; /* date formats, tried in order */
	int censored_min;    /* lower bound for "<N" counts (0 or 1) */
	unsigned line;       /* line of the [column] header in the mapping */
} map_column;

/* A yes/no column that, when "yes", contributes a form of exploitation. */
typedef struct map_flag {
	char *column;        /* header name */
	char *code;          /* form code, e.g. "LAB" */
	unsigned line;
} map_flag;

typedef struct mapping {
	char *path;                   /* as given */
	unsigned char sha256[32];     /* of the mapping file's bytes */
	int kind;                     /* enum map_kind */
	char delimiter;               /* default ',' */
	char quote;                   /* default '"' */
	int encoding;                 /* enum map_encoding */
	unsigned header_line;         /* 1-based; 0 = no header row */
	int duplicates;               /* enum map_dup */
	size_t max_field_bytes;       /* default 65536 */
	char *constants[MF__COUNT];   /* constant value per field, or NULL */
	map_column *cols; size_t n_cols;
	map_flag *flags; size_t n_flags;
	char **flag_yes; size_t n_flag_yes; /* normalised "yes" spellings */
	char **flag_no;  size_t n_flag_no;  /* normalised "no" spellings */
	char *flag_none;              /* form when no flag is set (default "U") */
	char *age_reference;          /* column giving the reference date for
	                                 MF_BIRTH_DATE; NULL = the MF_DATE column,
	                                 else the end of the period */
} mapping;

/* Parse mapping text (`name` is used in diagnostics).  cl may be NULL to
 * skip checking codes against the codelists.  On error returns -1 with
 * positioned diagnostics in d and d->code = EX_CONFIG; m is then already
 * released and zeroed (mapping_free on it is a harmless no-op).  Warnings
 * (e.g. a value mapped twice to the same code) may be added on success.
 * The rules beyond the syntax are listed at the top of mapping.c. */
int mapping_parse(const char *text, size_t len, const char *name,
                  const codelists *cl, mapping *m, diag *d);
/* Read and parse a file (EX_NOINPUT if it cannot be read). */
int mapping_load(const char *path, const codelists *cl, mapping *m, diag *d);
void mapping_free(mapping *m);

/* "sex", "age_years", ... as written in mapping files; NULL if out of range. */
const char *mapping_field_name(int field);
/* Inverse of mapping_field_name, MF_NONE if unknown. */
int mapping_field_from_name(const char *name);
/* Find a column by header name (exact, then normalised), NULL if none.
 * "#N" also finds a column addressed by number ([column #N]). */
const map_column *mapping_column(const mapping *m, const char *name);

#endif
