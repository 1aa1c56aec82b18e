/* rbuf (rep_buf_): what reports add to core/strbuf.
 *
 * Reports are rendered completely in memory into a strbuf (a release is at
 * most a few hundred thousand cells) and then written in one atomic step,
 * so a failed report never leaves half a file, and tests can inspect
 * exactly the bytes that would be written.  Out of memory is sticky (see
 * core/strbuf.h): rep_buf_write() reports it.
 *
 * Escaping lives here and in core/strbuf so that every report escapes the
 * same way: CSV fields (RFC 4180 quoting when needed), HTML/XML text and
 * attributes; JSON strings are strbuf_json.
 */
#ifndef TIPSTAT_RBUF_H
#define TIPSTAT_RBUF_H

#include <stddef.h>
#include "core/diag.h"
#include "core/strbuf.h"

/* A CSV field, quoted when it holds a comma, quote, CR or LF. */
void rep_buf_csv(strbuf *b, const char *s);
/* Text with & < > " ' escaped (valid in HTML/XML text and attributes). */
void rep_buf_html(strbuf *b, const char *s);
/* Write the buffer to path atomically (core/atomic.h), mode 0644. */
int rep_buf_write(const strbuf *b, const char *path, diag *d);
/* Write b[i] to dir/names[i] for i < n, all or nothing; stops at the
 * first failure (EX_CANTCREAT / EX_IOERR) and removes what it wrote.  A
 * missing dir is filled as dir.partial-XXXXXX beside it and renamed into
 * place, so a crash leaves it complete or absent (perhaps a .partial-*
 * beside it); in an existing dir each file is written atomically. */
int rep_buf_write_dir(const char *dir, const char *const *names, const strbuf *b, size_t n,
                      diag *d);

#endif
