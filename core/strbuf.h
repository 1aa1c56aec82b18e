/* strbuf: a growing, NUL-terminated text buffer.
 *
 * Reports, release manifests and JSON documents are rendered into memory
 * first and written in one atomic step, so a failure never leaves half a
 * file.  To keep the renderers readable, appending never fails on the
 * spot: an allocation failure sets `oom`, later appends do nothing, and
 * strbuf_ok() turns it into an error once, where the text is used.
 *
 * Ownership: a zeroed strbuf is empty and owns nothing; strbuf_free()
 * releases the text and leaves an empty buffer.
 */
#ifndef TIPSTAT_STRBUF_H
#define TIPSTAT_STRBUF_H

#include <stddef.h>
#include "core/diag.h"

typedef struct strbuf {
	char *s;          /* NUL-terminated when n > 0 */
	size_t n, cap;
	int oom;          /* an append failed: the text is incomplete */
} strbuf;

void strbuf_free(strbuf *b);
void strbuf_put(strbuf *b, const char *s, size_t n);
void strbuf_puts(strbuf *b, const char *s);
void strbuf_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a JSON string, quotes included (UTF-8 in; controls as \u00XX) */
void strbuf_json(strbuf *b, const char *s);
/* the shortest decimal that reads back as the same double (a whole number
 * in plain digits: 50, not 5e+01) */
void strbuf_double(strbuf *b, double v);
/* 0, or -1 with EX_OSERR "out of memory" if an append failed */
int strbuf_ok(const strbuf *b, diag *d);

#endif
