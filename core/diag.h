/* diag: errors and positioned diagnostics, the one error type of tipstat.
 *
 * Every library function that can fail takes a `diag *` last, returns 0 on
 * success or -1 on failure, and on failure has set the diag's exit code
 * (a sysexits.h value) and message.  Functions that validate a whole file
 * (ingest, mapping parsing) also append positioned diagnostics, compiler
 * style (FILE:LINE:COL: error: msg), so that one pass reports every problem
 * up to a cap; past the cap they are only counted.
 *
 * Library code never prints: the command front ends in cli/ format the
 * diagnostics with diag_format() and write them where the user sees them.
 *
 * Ownership: a diag owns its messages; diag_free() releases them.  A zeroed
 * struct (or DIAG_INIT) is a valid empty diag with the default cap.
 */
#ifndef TIPSTAT_DIAG_H
#define TIPSTAT_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

enum diag_severity { DIAG_NOTE = 0, DIAG_WARNING = 1, DIAG_ERROR = 2 };

typedef struct diag_item {
	int severity;
	char *file;      /* NULL when the message has no place */
	unsigned long line, col; /* 1-based; 0 = unknown */
	char *msg;
} diag_item;

typedef struct diag {
	int code;        /* sysexits.h code of the failure, 0 if none */
	char msg[512];   /* the failure message (fatal error), "" if none */
	diag_item *items;
	size_t n_items, cap_items;
	size_t max_items;        /* cap on kept items; 0 means DIAG_DEFAULT_MAX */
	size_t n_errors, n_warnings; /* counted even past the cap */
	size_t n_dropped;        /* items counted but not kept */
} diag;

#define DIAG_DEFAULT_MAX 100
#define DIAG_INIT {0}

void diag_init(diag *d, size_t max_items);
void diag_free(diag *d);
/* Forget items and counts and the failure, keep the cap. */
void diag_reset(diag *d);

/* Record a fatal failure with its exit code; always returns -1 so that
 * `return diag_fail(d, EX_DATAERR, "...")` reads naturally. */
int diag_fail(diag *d, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Append a positioned diagnostic (file may be NULL, line/col may be 0). */
void diag_add(diag *d, int severity, const char *file, unsigned long line,
              unsigned long col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void diag_vadd(diag *d, int severity, const char *file, unsigned long line,
               unsigned long col, const char *fmt, va_list ap);

/* Append from's items to into, in order, as if they had been added to
 * into directly (the cap applies; items from dropped past its own cap
 * are counted as dropped), and add from's error and warning counts.  A
 * failure in from (code != 0) becomes into's failure.  For work done in
 * pieces (ingest's threads) whose diagnostics must read as one pass. */
void diag_merge(diag *into, const diag *from);

/* Format one item as "file:line:col: error: msg" into buf (always
 * NUL-terminated, truncated to size). */
void diag_format(const diag_item *it, char *buf, size_t size);

/* Write every item, then a "N errors, M warnings" summary line when any
 * item exists, then the failure message if one is set and differs from the
 * items.  For the cli only: library code never calls it. */
void diag_print(const diag *d, FILE *fp, const char *prog);

#endif
