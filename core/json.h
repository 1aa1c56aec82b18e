/* json: a small strict JSON reader for tipstat's own manifests and
 * requests.
 *
 * Manifests travel inside sealed packages and are read again by the
 * aggregator, so the reader is strict (RFC 8259: no comments, no trailing
 * commas, valid UTF-8 in strings, \u escapes decoded) and bounded (nesting
 * depth, input size).  The whole document becomes one tree of json_value
 * nodes allocated from a single arena, freed with json_free().
 */
#ifndef TIPSTAT_JSON_H
#define TIPSTAT_JSON_H

#include <stddef.h>
#include "core/diag.h"

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

typedef struct json_value json_value;
struct json_value {
	int type;
	double num;             /* JSON_NUMBER; JSON_BOOL: 0 or 1 */
	const char *str;        /* JSON_STRING (NUL-terminated, UTF-8) */
	size_t len;             /* string length, or number of children */
	json_value **items;     /* JSON_ARRAY / JSON_OBJECT children */
	const char **keys;      /* JSON_OBJECT member names */
};

typedef struct json_doc {
	json_value *root;
	void *arena;            /* owned */
} json_doc;

#define JSON_MAX_DEPTH 32

/* Parse text; `name` is used in diagnostics (NAME:LINE:COL).  EX_DATAERR
 * on malformed input. */
int json_parse(const char *text, size_t len, const char *name, json_doc *out, diag *d);
/* Read and parse a file (at most max_bytes). */
int json_load(const char *path, size_t max_bytes, json_doc *out, diag *d);
void json_free(json_doc *doc);

/* Member of an object, NULL if absent or not an object. */
const json_value *json_get(const json_value *obj, const char *key);
/* String member or NULL. */
const char *json_get_str(const json_value *obj, const char *key);

#endif
