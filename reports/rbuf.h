/* rbuf (rep_buf_): the growing text buffer every report is rendered into.
 *
 * Reports are rendered completely in memory (a release is at most a few
 * hundred thousand cells) and then written in one atomic step, so a failed
 * report never leaves half a file, and tests can inspect exactly the bytes
 * that would be written.  Out of memory is sticky: appends after a failed
 * allocation do nothing and rep_buf_write() / rep_buf_ok() report it.
 *
 * Escaping lives here so that every report escapes the same way: CSV
 * fields (RFC 4180 quoting when needed), HTML/XML text and attributes, JSON
 * strings.
 *
 * Ownership: a zeroed rep_buf is empty; rep_buf_free() releases it.
 */
#ifndef TIPSTAT_RBUF_H
#define TIPSTAT_RBUF_H

#include <stddef.h>
#include "core/diag.h"

typedef struct rep_buf {
	char *s;          /* NUL-terminated when n > 0 */
	size_t n, cap;
	int oom;
} rep_buf;

void rep_buf_free(rep_buf *b);
void rep_buf_put(rep_buf *b, const char *s, size_t n);
void rep_buf_puts(rep_buf *b, const char *s);
void rep_buf_printf(rep_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A CSV field, quoted when it holds a comma, quote, CR or LF. */
void rep_buf_csv(rep_buf *b, const char *s);
/* Text with & < > " ' escaped (valid in HTML/XML text and attributes). */
void rep_buf_html(rep_buf *b, const char *s);
/* A JSON string literal, quotes included. */
void rep_buf_json(rep_buf *b, const char *s);
/* A double in the shortest decimal form that reads back exactly. */
void rep_buf_double(rep_buf *b, double v);
/* 0 when every append succeeded, else -1 with EX_OSERR. */
int rep_buf_ok(const rep_buf *b, diag *d);
/* Write the buffer to path atomically (core/atomic.h), mode 0644. */
int rep_buf_write(const rep_buf *b, const char *path, diag *d);
/* Create dir if missing and write b[i] to dir/names[i] for i < n, each
 * atomically; stops at the first failure (EX_CANTCREAT / EX_IOERR). */
int rep_buf_write_dir(const char *dir, const char *const *names, const rep_buf *b, size_t n,
                      diag *d);

#endif
