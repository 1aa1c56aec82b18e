/* progress: the text of a progress line for long commands, and when to
 * show the next one.
 *
 * A command that streams a big file (ingest of a 1 GB national file takes
 * a minute or more) feeds this object with bytes done and the total, and
 * gets back, at most every min_interval seconds, a line such as
 *
 *   ingest  412.0 MB / 967.0 MB  85.2 MB/s  0:06 left
 *
 * Library code never prints, so the object only formats into a caller
 * buffer; cli/ decides whether to show it (stderr is a terminal and the
 * command is not --quiet).  The clock is a parameter (seconds from any
 * fixed origin, e.g. CLOCK_MONOTONIC), so tests drive time by hand and the
 * object holds no hidden state beyond this struct.
 *
 * MB are 10^6 bytes.  The rate is the average since progress_init (a
 * stable figure for a single sequential pass); time left is the bytes
 * still to do at that rate, shown as M:SS (H:MM:SS from an hour).  With
 * total 0 (unknown) the line has no "/ total" and no time left.  The
 * first update after init and the update that reaches total are always
 * due; in between, one line per min_interval.
 *
 * Ownership: a plain value; nothing to free.
 */
#ifndef TIPSTAT_PROGRESS_H
#define TIPSTAT_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct progress {
	char label[16];         /* "ingest", truncated to 15 bytes */
	uint64_t total;         /* bytes, 0 = unknown */
	double start;           /* clock at init */
	double last;            /* clock of the last line handed out */
	double min_interval;    /* seconds between lines (default 0.1) */
	int shown;              /* lines handed out so far */
	int finished;           /* the line reaching total was handed out */
	char unit[12];          /* "" = bytes (MB); else counted items, e.g. "tables" */
} progress;

/* How library code reports progress without printing: a function of the
 * caller's (cli/ formats and shows it), called now and then with the work
 * done and the total (bytes, or 0 total when unknown).  A NULL hook, or a
 * hook with a NULL fn, reports nothing. */
typedef void (*progress_fn)(void *ctx, uint64_t done, uint64_t total);
typedef struct progress_hook {
	progress_fn fn;
	void *ctx;
} progress_hook;

static inline void progress_report(const progress_hook *h, uint64_t done, uint64_t total)
{
	if (h && h->fn)
		h->fn(h->ctx, done, total);
}

/* Start a progress for label over total bytes at clock now. */
void progress_init(progress *p, const char *label, uint64_t total, double now);

/* The same over counted items ("12 / 24 tables  0.10 tables/s  2:00 left"). */
void progress_init_items(progress *p, const char *label, const char *unit, uint64_t total,
                         double now);

/* Format the line for done bytes at clock now into buf (always
 * NUL-terminated when size > 0); returns its length as snprintf would. */
size_t progress_format(const progress *p, uint64_t done, double now, char *buf, size_t size);

/* If a line is due at clock now (see above), format it into buf, record
 * it as shown and return 1; otherwise leave buf alone and return 0. */
int progress_update(progress *p, uint64_t done, double now, char *buf, size_t size);

#endif
