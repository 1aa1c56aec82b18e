/* libFuzzer harness: csvr's fast paths against libcsv.
 * The reader splits simple lines itself (no quote, or quoted fields that
 * close on the same line) and hands everything else to libcsv;
 * opts.libcsv_only feeds every line to libcsv.  Both must give the same
 * records, fields, positions, reasons and diagnostics on any input.  The
 * first byte picks the delimiter and small limits, as in fuzz_csvr. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/csvr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A running digest of everything the reader says (FNV-1a, 64 bits). */
static void mix(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		*h ^= s[i];
		*h *= 0x100000001b3ULL;
	}
}

static uint64_t digest(const uint8_t *data, size_t size, const csvr_opts *o)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	diag d;
	diag_init(&d, 8);
	csvr *r;
	if (csvr_open_mem(data, size, "fuzz", o, &r, &d) == 0) {
		csvr_record rec;
		int rc;
		while ((rc = csvr_next(r, &rec, &d)) > 0) {
			mix(&h, &rc, sizeof rc);
			mix(&h, &rec.line, sizeof rec.line);
			mix(&h, &rec.n_lines, sizeof rec.n_lines);
			mix(&h, &rec.n, sizeof rec.n);
			const char *why = csvr_bad_reason(r);
			if (why)
				mix(&h, why, strlen(why));
			for (size_t i = 0; i < rec.n; i++) {
				mix(&h, rec.f[i].s, rec.f[i].len + 1);
				mix(&h, &rec.f[i].line, sizeof rec.f[i].line);
				mix(&h, &rec.f[i].col, sizeof rec.f[i].col);
				mix(&h, &rec.f[i].quoted, sizeof rec.f[i].quoted);
			}
		}
		mix(&h, &rc, sizeof rc);
		csvr_close(r);
	}
	for (size_t i = 0; i < d.n_items; i++) {
		mix(&h, &d.items[i].line, sizeof d.items[i].line);
		mix(&h, &d.items[i].col, sizeof d.items[i].col);
		mix(&h, d.items[i].msg, strlen(d.items[i].msg));
	}
	mix(&h, &d.n_errors, sizeof d.n_errors);
	diag_free(&d);
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const char delims[] = {',', ';', '\t', '|'};
	csvr_opts o = {.delim = delims[data[0] & 3], .quote = '"',
	               .max_field = (data[0] & 8) ? 16 : 0, .max_record = (data[0] & 16) ? 64 : 0,
	               .max_fields = (data[0] & 32) ? 4 : 0};
	uint64_t a = digest(data + 1, size - 1, &o);
	o.libcsv_only = 1;
	if (digest(data + 1, size - 1, &o) != a)
		abort();
	return 0;
}
