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
 *   - a UTF-8 BOM at the start of the file is removed (elsewhere it is
 *     content; a Latin-1 file that starts with one gets a warning); Latin-1
 *     input is converted to UTF-8 (a fixed mapping, text_latin1_to_utf8);
 *     invalid UTF-8 and NUL bytes are errors at their line and column.
 *   - fields, records and the number of fields are bounded ("field too
 *     long", "record too long", "too many fields"): an unterminated quote
 *     is reported at the line where it opened as soon as the quoted field
 *     passes max_field bytes (or max_record, or at the end of the file),
 *     instead of swallowing the rest of the file; the reader then
 *     resynchronises at the next line.  A quoted field that passes
 *     max_field while still on its first line is "field too long".
 *
 * A bad record is reported (positioned diagnostic in the diag) and skipped:
 * csvr_next() returns CSVR_BAD and reading continues, so a whole file's
 * problems come out in one pass.  Memory is bounded by max_record, never by
 * the file size.
 *
 * Resynchronisation: after an unterminated quote, reading resumes on the
 * line after the one where the quote opened (the lines it swallowed are
 * read again, so one stray quote costs one row, not a max_field's worth of
 * rows).  After any other problem it resumes at the first line that starts
 * after the problem.  Diagnostics describe the problem and never quote the
 * field's content (fields may hold personal identifiers).
 *
 * Reading: input is read in blocks (opts.block_size) into a window that
 * holds only the current record; libcsv is fed a line (or a piece of at
 * most 64 KiB of a longer line) at a time and its buffer is checked after
 * each piece.  So the reader holds at most about max_record + 2 blocks +
 * 128 KiB (window) + max_field + 64 KiB (libcsv) + the current record's
 * field copies, whatever the file size (under 2 MiB with the defaults).  When
 * a line has several problems the first in the line is reported; limits
 * count as crossed when checked, after each piece.  Lines with nothing
 * else to check and no quote character, or only quoted fields that close on
 * the line, are split directly (one vectorised pass; libcsv gives the same
 * fields for them; opts.libcsv_only turns this off for comparison).
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
	/* Added for tests and benchmarks; zero means the default. */
	size_t block_size;     /* bytes per read, default 256 KiB (at most
	                          16 MiB); it also caps the piece handed to
	                          libcsv at once (at most 64 KiB, at least 8).
	                          With csvr_open_mem a non-zero value makes the
	                          reader copy the buffer block by block as it
	                          does for a file (tests of block boundaries). */
	int libcsv_only;       /* 1: feed every line to libcsv, no quote-free
	                          fast path (same results, for comparison) */
	/* Reading a piece of a file (ingest's parallel chunks): */
	unsigned long first_line; /* line number of the first byte; 0 = 1 */
	int no_bom;            /* the input does not start the file: a leading
	                          BOM is content, not a mark to drop */
	int more_follows;      /* the input is a chunk that the file continues
	                          after: a record still open at its end is not
	                          reported; csvr_next() returns CSVR_EOF and
	                          csvr_tail() says where that record began */
	uint64_t offset;       /* csvr_open only: start reading at this byte
	                          of the file (not with latin1) */
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
/* Read from memory (read in place, not copied, unless opts.latin1 or
 * opts.block_size asks for block-by-block copies; must outlive the
 * reader).  `name` (NULL: "<memory>") is used in diagnostics. */
int csvr_open_mem(const void *buf, size_t len, const char *name,
                  const csvr_opts *o, csvr **out, diag *d);
/* Next record: CSVR_OK (rec filled), CSVR_BAD (diagnostic added, record
 * skipped; csvr_bad_reason() says why in a short fixed phrase, for reject
 * counts), CSVR_EOF, or -1 on a fatal error (I/O, out of memory).
 * On CSVR_BAD rec->line is the line where the skipped record started and
 * rec->n_lines the lines it spans up to where its reading stopped (for an
 * unterminated quote: up to the line where the quote opened); rec->n is 0
 * and rec->f NULL.
 * After -1 every further call returns -1. */
int csvr_next(csvr *r, csvr_record *rec, diag *d);
/* Reason of the last CSVR_BAD, one of: "bad quoting", "stray carriage
 * return", "field too long", "record too long", "invalid UTF-8",
 * "NUL byte", "too many fields", "unterminated quote"; NULL after a
 * record that was not bad.  Static strings. */
const char *csvr_bad_reason(const csvr *r);
const char *csvr_name(const csvr *r);
/* Input bytes consumed (Latin-1: bytes read, to the block). */
uint64_t csvr_bytes_read(const csvr *r);
uint64_t csvr_bytes_total(const csvr *r);  /* file size, 0 if unknown */
/* Between records (after CSVR_OK, CSVR_BAD, or before the first call):
 * the input offset of the next record's first byte (counted from the
 * start of the buffer, or of the file including opts.offset) and its line.
 * Not with latin1 (offsets are of converted text).  When csvr_next() has
 * returned CSVR_EOF this is the end of the input. */
void csvr_position(const csvr *r, uint64_t *offset, unsigned long *line);
/* With opts.more_follows, after CSVR_EOF: 1 and the offset and line of
 * the record that was still open at the end of the input (it must be read
 * again with what follows), 0 when the input ended between records. */
int csvr_tail(const csvr *r, uint64_t *offset, unsigned long *line);
/* Largest number of bytes the reader has held in its own buffers at once
 * (window, libcsv's field buffer, field copies; not a csvr_open_mem
 * buffer read in place).  For tests of the memory bound. */
size_t csvr_peak_bytes(const csvr *r);
void csvr_close(csvr *r);

#endif
