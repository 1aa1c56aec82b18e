/* atomic: write a file so that readers see either the old file or the
 * complete new one, never a partial one.
 *
 * The data goes to a temporary file in the same directory (so rename(2) is
 * atomic), which atomic_commit() flushes, fsyncs and renames over the
 * target.  atomic_abort() (also safe after a failed commit) removes the
 * temporary.  Every tipstat output goes through here: bad input or a full
 * disk must never leave half a file behind.
 */
#ifndef TIPSTAT_ATOMIC_H
#define TIPSTAT_ATOMIC_H

#include <stdio.h>
#include <sys/types.h>
#include "core/diag.h"

typedef struct atomic_file {
	FILE *fp;        /* write here between open and commit */
	char *path;      /* final path (owned) */
	char *tmp;       /* temporary path (owned) */
} atomic_file;

/* Open a temporary for `path` with permission bits `mode` (e.g. 0644, or
 * 0600 for secrets).  Fails with EX_CANTCREAT. */
int atomic_open(const char *path, mode_t mode, atomic_file *af, diag *d);
/* Flush, fsync, rename into place and free; EX_IOERR on failure (the
 * temporary is removed and the target left as it was). */
int atomic_commit(atomic_file *af, diag *d);
/* Discard the temporary and free; safe on a zeroed or committed struct. */
void atomic_abort(atomic_file *af);

#endif
