/* release (rel_): the release table, the only thing reports ever read.
 *
 * The privacy stage (suppression, differential privacy, or "none" for an
 * internal unprotected run) turns a finished cube into a release; reports
 * read nothing else, so a number the release does not publish cannot leak
 * through a report.  A release is a directory holding two files:
 *
 *   release.csv   UTF-8, LF, one row per published cell, header exactly
 *     geo_kind,geo,period,indicator,slot,status,value,lo,hi,moe_lo,moe_hi,flags,countries
 *   release.json  {"format": "tipstat-release-2", "name", "created",
 *                  "method": "suppression"|"dp"|"none", "private",
 *                  "notice", "params": {...}, "rho", "seed",
 *                  "submissions": [{"country","periods","version","id"}],
 *                  "audit": {...}}
 *
 * docs/reports.md describes both files column by column.
 *
 * The status of a cell decides which numbers it may carry, and the rule is
 * enforced everywhere a row enters or leaves a table (rel_add_row,
 * rel_write_dir, rel_read_dir), so a suppressed cell can never carry its
 * number, whoever built the table:
 *
 *   free       published exactly: value = lo = hi for an exact count; for
 *              an interval (censored inputs) value empty, lo and hi (hi
 *              empty = unbounded; lo == hi is not an interval: it must be
 *              written as an exact value); moe_lo, moe_hi empty.
 *   noisy      a differentially private value: value (any integer, the
 *              noise may make it negative) and its 90% interval
 *              [value - moe_lo, value + moe_hi] (both finite, >= 0; not
 *              symmetric in general: privacy/dpcube.h); lo, hi empty.
 *   primary    suppressed small cell          } value, lo, hi, moe_* all
 *   secondary  suppressed to protect another  } empty; flags and
 *   missing    not available (not reported)   } countries may be given.
 *
 * Rows are keyed by (geo, period, indicator, slot): geo codes are ISO
 * alpha-3 (three capital letters) for countries and M49 codes (three
 * digits) for aggregates, so they never collide across kinds.  The same key
 * twice is an error.  A hash index (core/hmap.h) makes rel_find O(1).
 *
 * The metadata says how the release was protected.  private = false needs a
 * notice starting "NOT PRIVATE" (reports print it as a banner), private =
 * true needs an empty notice, and method "none" is never private.  params
 * and audit are free JSON objects kept as compact JSON text.  seed is kept
 * exactly only up to 2^53 (JSON numbers are doubles); larger seeds are
 * refused when writing.
 *
 * Ownership: a rel_table is caller-owned (rel_init / zeroed); everything it
 * points to belongs to it and is released by rel_free().  Setters copy
 * their strings.  Rows returned by rel_find / rel_row_at point into the
 * table and are valid until the next rel_add_row or rel_free.
 */
#ifndef TIPSTAT_RELEASE_H
#define TIPSTAT_RELEASE_H

#include <stddef.h>
#include <stdint.h>
#include "aggregator/cube.h"
#include "core/diag.h"
#include "core/hmap.h"

#define REL_FORMAT "tipstat-release-2" /* 2: moe split into moe_lo, moe_hi */
#define REL_CSV_HEADER \
	"geo_kind,geo,period,indicator,slot,status,value,lo,hi,moe_lo,moe_hi,flags,countries"
#define REL_UNBOUNDED CUBE_UNBOUNDED   /* hi of an interval with no bound */

/* geo_kind: the same numbers as enum cube_geo_kind. */
enum rel_geo_kind { REL_GEO_WORLD = CUBE_GEO_WORLD, REL_GEO_REGION = CUBE_GEO_REGION,
                    REL_GEO_SUBREGION = CUBE_GEO_SUBREGION,
                    REL_GEO_COUNTRY = CUBE_GEO_COUNTRY };
/* Indicators in the order of datasets/codelists/indicators.csv. */
enum rel_indicator { REL_VIC = 0, REL_SUS = 1, REL_PROS = 2, REL_CONV = 3, REL_NIND = 4 };
enum rel_status { REL_FREE = 0, REL_PRIMARY = 1, REL_SECONDARY = 2, REL_NOISY = 3,
                  REL_MISSING = 4, REL_NSTATUS = 5 };
enum rel_method { REL_M_SUPPRESSION = 0, REL_M_DP = 1, REL_M_NONE = 2 };

typedef struct rel_row {
	int geo_kind;          /* enum rel_geo_kind */
	char geo[4];           /* "AUT" or "155" */
	int period;            /* packed (core/period.h): year*10 + quarter */
	int indicator;         /* enum rel_indicator */
	int slot;              /* enum cube_slot */
	int status;            /* enum rel_status */
	int has_value;         /* free exact, noisy */
	int64_t value;
	int has_interval;      /* free only (exact: lo = hi = value) */
	int64_t lo, hi;        /* hi = REL_UNBOUNDED: no upper bound */
	double moe_lo, moe_hi; /* noisy only: [value - moe_lo, value + moe_hi]; NAN otherwise */
	unsigned flags;        /* enum cube_flag bits */
	uint32_t countries;    /* countries contributing */
} rel_row;

typedef struct rel_submission {
	char *country;         /* ISO alpha-3 */
	char *periods;         /* free text, e.g. "2019-2021" or "2023-Q1,2023-Q2" */
	uint32_t version;
	char *id;              /* submission id (e.g. a hash) */
} rel_submission;

typedef struct rel_meta {
	char *name;
	char *created;         /* ISO 8601 UTC; NULL: rel_write_dir stamps now */
	int method;            /* enum rel_method */
	int is_private;
	char *notice;          /* "" or "NOT PRIVATE: ..." */
	char *params_json;     /* compact JSON object text; NULL = {} */
	double rho;            /* zCDP budget; NAN = null */
	int has_seed;
	uint64_t seed;         /* when has_seed; < 2^53 */
	rel_submission *subs;
	size_t n_subs;
	char *audit_json;      /* compact JSON object text; NULL = {} */
} rel_meta;

typedef struct rel_table {
	rel_meta meta;
	rel_row *rows;
	size_t n_rows, cap_rows;
	hmap index;            /* key -> row position */
} rel_table;

/* An empty table: method none, not private, notice "NOT PRIVATE: no
 * protection applied", rho null, no seed. */
void rel_init(rel_table *t);
void rel_free(rel_table *t);

/* --- metadata (strings are copied) ---------------------------------------- */

/* Method, privacy and notice, checked together (see above): EX_DATAERR
 * when inconsistent. */
int rel_set_protection(rel_table *t, int method, int is_private,
                       const char *notice, diag *d);
int rel_set_name(rel_table *t, const char *name, diag *d);
/* created must look like 2026-11-24T19:16:22Z. */
int rel_set_created(rel_table *t, const char *iso_utc, diag *d);
/* A JSON object as text (validated with core/json.h, stored compacted). */
int rel_set_params(rel_table *t, const char *json_object, diag *d);
int rel_set_audit(rel_table *t, const char *json_object, diag *d);
int rel_add_submission(rel_table *t, const char *country, const char *periods,
                       uint32_t version, const char *id, diag *d);
/* rho (NAN = null) and seed are plain fields: set t->meta.rho,
 * t->meta.has_seed and t->meta.seed directly. */

/* --- rows ----------------------------------------------------------------- */

/* Row builders (no allocation, never fail): a row from a cube value (free
 * when available: exact or interval; missing when not); then optionally
 * suppress it (status primary or secondary: every number is cleared) or
 * replace it by a noisy value. */
void rel_row_from_cube(rel_row *r, int geo_kind, const char *geo, int period,
                       int indicator, int slot, const cube_value *v);
void rel_row_suppress(rel_row *r, int status);
void rel_row_noisy(rel_row *r, int64_t value, double moe_lo, double moe_hi);

/* Check a row against the status rules and the syntax of its codes;
 * 0 or -1 with EX_DATAERR and a message naming the key. */
int rel_row_check(const rel_row *r, diag *d);
/* Append a copy of a checked row; EX_DATAERR for a bad row or a key
 * already present. */
int rel_add_row(rel_table *t, const rel_row *r, diag *d);

size_t rel_n_rows(const rel_table *t);
const rel_row *rel_row_at(const rel_table *t, size_t i);
/* The row of a cell, or NULL. geo is "AUT" / "150"; period packed. */
const rel_row *rel_find(const rel_table *t, const char *geo, int period,
                        int indicator, int slot);

/* --- files ---------------------------------------------------------------- */

/* Write dir/release.csv and dir/release.json, each atomically (core/
 * atomic.h), creating dir (one level) when missing.  Rows are checked
 * again first: a table that breaks a rule writes nothing (EX_DATAERR);
 * write failures are EX_CANTCREAT / EX_IOERR. */
int rel_write_dir(const rel_table *t, const char *dir, diag *d);
/* Read a release directory into *out (rel_init'ed here; freed on failure).
 * Every problem in release.csv and release.json is reported as a
 * positioned diagnostic (FILE:LINE:COL) in one pass, up to the diag's cap;
 * then -1 with EX_DATAERR (EX_NOINPUT when a file is absent). */
int rel_read_dir(const char *dir, rel_table *out, diag *d);
/* The same from memory (names used in diagnostics). */
int rel_read_mem(const char *csv, size_t csv_len, const char *csv_name,
                 const char *json, size_t json_len, const char *json_name,
                 rel_table *out, diag *d);

/* --- names ---------------------------------------------------------------- */

const char *rel_status_name(int status);     /* "free" ... "missing" */
const char *rel_geo_kind_name(int kind);     /* "world" ... "country" */
const char *rel_indicator_code(int ind);     /* "VIC" ... "CONV" */
const char *rel_method_name(int method);     /* "suppression" "dp" "none" */
/* Parse a name back (exact, lower case as written); -1 if unknown. */
int rel_status_parse(const char *s);
int rel_geo_kind_parse(const char *s);
int rel_indicator_parse(const char *s);
int rel_method_parse(const char *s);
/* Slot by cube_slot_name(); -1 if unknown. */
int rel_slot_parse(const char *s);
/* Strict period "YYYY" or "YYYY-Qn" (n 1..4) -> packed, or -1. */
int rel_period_parse(const char *s, size_t n);

#endif
