/* csvpar: read one CSV file on several threads, merge in file order.
 *
 * The main thread cuts the file into chunks that begin where records
 * begin (core/csvsplit: the last newline outside quotes), hands them to
 * worker threads through a bounded ring of slots, and merges the workers'
 * results strictly in file order.  Each worker parses its chunk with its
 * own core/csvr reader started at the chunk's first line, so positions
 * (FILE:LINE:COL) are those of a single pass, and collects diagnostics in
 * a diag of its own that the merge appends in order (diag_merge): the
 * caller sees exactly what one serial pass would have produced.
 *
 * Speculation and repair: a cut is only a guess (a stray quote in a bad
 * row flips the quote parity).  A chunk is parsed with csvr's
 * more_follows, so a record still open at its end is not reported but
 * handed back (csvr_tail).  When the merge meets such a chunk it keeps the
 * records before the open one, throws away the chunks read after it, and
 * reads again from the open record's first byte with a longer chunk.  A
 * line longer than the largest chunk (several MiB with no newline) ends
 * the parallel reading: the rest of the file is read on the main thread
 * by one csvr, in slices, through the same callbacks.
 *
 * Memory is bounded: threads + 2 slots of about chunk_size bytes each
 * (more only while repairing around a long record, at most about the
 * reader's max_record more), plus what the callbacks keep per slot.
 *
 * Callbacks (ctx is o->ctx): worker_new is called on the main thread once
 * per worker before any thread starts (and once more for the main
 * thread's fallback reader); parse runs on a worker thread with that
 * worker's state and must touch nothing shared; merge runs on the main
 * thread, in file order.  res_new makes one result per slot; res_clear
 * empties a result for reuse (after a merge, or when a speculative chunk
 * is thrown away).  on_bytes sees every byte of the file from hash_from
 * on exactly once, in order (the input hash).
 *
 * Ownership: csvpar_run owns its threads, slots and readers and releases
 * them (and the results, through res_free) before it returns.
 */
#ifndef TIPSTAT_CSVPAR_H
#define TIPSTAT_CSVPAR_H

#include <stddef.h>
#include <stdint.h>
#include "core/csvr.h"
#include "core/diag.h"

typedef struct csvpar_opts {
	const char *path;          /* a regular file */
	csvr_opts copts;           /* delim, quote, limits (not latin1) */
	uint64_t start;            /* offset of the first record to read */
	unsigned long start_line;  /* its line */
	uint64_t hash_from;        /* on_bytes sees [hash_from, end of file) */
	int threads;               /* worker threads, >= 1 */
	size_t chunk_size;         /* bytes per chunk; 0 = 512 KiB */
	void *ctx;
	void *(*worker_new)(void *ctx, diag *d);
	void (*worker_free)(void *ctx, void *w);
	void *(*res_new)(void *ctx);
	void (*res_clear)(void *ctx, void *res);
	void (*res_free)(void *ctx, void *res);
	/* Read records from r into res until r's position reaches stop
	 * (checked after each record) or the end: 0, or -1 on a fatal error
	 * (with d's failure set); d is the chunk's own diag. */
	int (*parse)(void *ctx, void *w, csvr *r, uint64_t stop, void *res, diag *d);
	int (*merge)(void *ctx, void *res, diag *d);
	void (*on_bytes)(void *ctx, const unsigned char *p, size_t n);
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
} csvpar_opts;

/* 0, or -1 with d's failure set (a worker's fatal error, a merge error,
 * I/O, out of memory).  d receives every chunk's diagnostics in order. */
int csvpar_run(const csvpar_opts *o, diag *d);

#endif
