/* ingest: one national file in, one harmonised submission out.
 *
 * ingest_run() streams the input through csvr and the harmoniser, sorts
 * the harmonised rows in bounded memory (core/extsort) and writes the
 * canonical submission and its manifest (docs/standard.md) atomically:
 * either both appear complete, or nothing does.
 *
 * Policy: any row-level error makes the run fail (EX_DATAERR) with every
 * problem reported, unless a rejects file is requested, in which case bad
 * rows are set aside there (line, reason and code columns only: never an
 * identifier or free text) and counted in the manifest.  File-level
 * problems (the layout does not fit the mapping, an unmapped identifier
 * column, a duplicate under policy "error") always fail.
 */
#ifndef TIPSTAT_INGEST_H
#define TIPSTAT_INGEST_H

#include <stdint.h>
#include "core/codelist.h"
#include "core/diag.h"
#include "ingest/hcount.h"
#include "ingest/mapping.h"

typedef struct ingest_opts {
	const char *input;             /* national file */
	const char *output;            /* submission; manifest at OUTPUT.manifest */
	const char *rejects;           /* optional rejects file, NULL = none */
	const mapping *m;
	const codelists *cl;
	const unsigned char *pkey;     /* 32-byte pseudonym key, or NULL */
	int period_override;           /* packed period, or -1 */
	int strict;                    /* additivity problems are errors */
	int allow_empty;               /* a file with no data rows is valid */
	int only_country;              /* country index to keep (a multi-country
	                                  table split per office), or -1 */
	size_t sort_mem;               /* bytes held before spilling; 0 = 16 MiB */
	int threads;                   /* threads that parse and harmonise: 0 =
	                                  2, 1 = one serial pass; the outputs,
	                                  rejects and diagnostics are the same
	                                  bytes either way (Latin-1 input and
	                                  non-regular files are read serially) */
	size_t chunk_size;             /* bytes per parallel chunk; 0 = 512 KiB
	                                  (for tests of chunk boundaries) */
	/* progress: called now and then with bytes done and total (may be 0) */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
} ingest_opts;

#define INGEST_MAX_REASONS 32

typedef struct ingest_stats {
	uint64_t rows_read;            /* data rows (after the header) */
	uint64_t rows_written;
	uint64_t rows_rejected;
	uint64_t rows_other_country;   /* skipped by only_country */
	uint64_t input_bytes;
	struct { const char *reason; uint64_t n; } reasons[INGEST_MAX_REASONS];
	size_t n_reasons;
	unsigned char output_hash[32]; /* BLAKE2b-256 of the submission */
} ingest_stats;

int ingest_run(const ingest_opts *o, ingest_stats *st, diag *d);

/* Harmonise-and-count: every data row validated and harmonised as by
 * ingest_run (same diagnostics, same rejections, only_country applied),
 * and counted by the cube's dimensions (ingest/hcount) instead of being
 * sorted and written.  On threads, each chunk is counted apart and the
 * partial counts are merged exactly, in file order (a cell table's rows
 * are counted as rows: their values are not added up).  Row errors do not
 * fail the count (they are in d and in rows_rejected); output, rejects
 * and sort_mem are not used.  0, or -1 on a file-level or fatal error. */
typedef struct ingest_counts {
	hcount counts;
	uint64_t rows_read, rows_rejected, rows_other_country;
} ingest_counts;

int ingest_count(const ingest_opts *o, ingest_counts *out, diag *d);
void ingest_counts_free(ingest_counts *c);

#endif
