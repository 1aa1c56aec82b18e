/* csvr: a streaming CSV reader over libcsv that knows where it is.
 *
 * libcsv does the quoting; this module decides every lenient default on
 * purpose and tracks positions itself, because libcsv reports none:
 *
 *   - spaces and tabs around fields are kept (a custom space function;
 *     libcsv would trim them even in strict mode); callers normalise.
 *   - blank lines (empty or only spaces/tabs) are skipped, but line numbers
 *     always count physical lines ('\n'), so positions never drift.
 *   - CRLF and LF both end a record; a lone CR outside quotes is an error
 *     ("stray carriage return"), not a silent record break.
 *   - a quote inside an unquoted field, or text after a closing quote
 *     ("ab"cd,ef"), is an error at its position, not a merged field.
 *   - a UTF-8 BOM at the start of the file is removed; Latin-1 input is
 *     converted to UTF-8 (iconv); invalid UTF-8 and NUL bytes are errors
 *     at their line and column.
 *   - fields, records and the number of fields are bounded: an unterminated
 *     quote is reported at the line where it opened as soon as the quoted
 *     field passes max_field bytes, instead of swallowing the rest of the
 *     file; the reader then resynchronises at the next line.
 *
 * A bad record is reported (positioned diagnostic in the diag) and skipped:
 * csvr_next() returns CSVR_BAD and reading continues, so a whole file's
 * problems come out in one pass.  Memory is bounded by max_record, never by
 * the file size.
 *
 * Columns are 1-based UTF-8 character positions of the field's first byte
 * (the opening quote for a quoted field); lines are 1-based.
 */
#ifndef TIPSTAT_CSVR_H
#define TIPSTAT_CSVR_H

#include <stddef.h>
#include <stdint.h>
#include "core/diag.h"

typedef struct csvr_opts {
	char delim;            /* default ',' */
	char quote;            /* default '"' */
	int latin1;            /* 1: input is Latin-1, convert to UTF-8 */
	size_t max_field;      /* bytes, default 65536 */
	size_t max_record;     /* bytes, default 1 MiB */
	size_t max_fields;     /* default 4096 */
} csvr_opts;

typedef struct csvr_field {
	const char *s;         /* NUL-terminated UTF-8, valid until next call */
	size_t len;
	unsigned long line, col;
	int quoted;            /* 1 if the field was quoted */
} csvr_field;

typedef struct csvr_record {
	csvr_field *f;         /* owned by the reader */
	size_t n;
	unsigned long line;    /* line where the record starts */
	unsigned long n_lines; /* physical lines it spans (>1: quoted newline) */
} csvr_record;

enum { CSVR_EOF = 0, CSVR_OK = 1, CSVR_BAD = 2 };

typedef struct csvr csvr;

/* Open a file ("-" = stdin).  `name` in diagnostics is the path.  NULL
 * opts means defaults.  EX_NOINPUT when it cannot be opened. */
int csvr_open(const char *path, const csvr_opts *o, csvr **out, diag *d);
/* Read from memory (not copied; must outlive the reader). */
int csvr_open_mem(const void *buf, size_t len, const char *name,
                  const csvr_opts *o, csvr **out, diag *d);
/* Next record: CSVR_OK (rec filled), CSVR_BAD (diagnostic added, record
 * skipped; csvr_bad_reason() says why in a short fixed phrase, for reject
 * counts), CSVR_EOF, or -1 on a fatal error (I/O, out of memory). */
int csvr_next(csvr *r, csvr_record *rec, diag *d);
const char *csvr_bad_reason(const csvr *r);
const char *csvr_name(const csvr *r);
uint64_t csvr_bytes_read(const csvr *r);   /* input bytes consumed */
uint64_t csvr_bytes_total(const csvr *r);  /* file size, 0 if unknown */
void csvr_close(csvr *r);

#endif
