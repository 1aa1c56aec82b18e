/* libFuzzer harness: the CSV reader on arbitrary bytes.
 * The first byte picks options (delimiter, Latin-1, small limits) so the
 * fuzzer explores the limit and recovery paths too.  Every record must
 * have positions inside the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "core/csvr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const char delims[] = {',', ';', '\t', '|'};
	csvr_opts o = {.delim = delims[data[0] & 3], .quote = '"', .latin1 = (data[0] >> 2) & 1,
	               .max_field = (data[0] & 8) ? 16 : 0, .max_record = (data[0] & 16) ? 64 : 0,
	               .max_fields = (data[0] & 32) ? 4 : 0, .block_size = (data[0] & 64) ? 7 : 0};
	diag d;
	diag_init(&d, 8);
	csvr *r;
	if (csvr_open_mem(data + 1, size - 1, "fuzz", &o, &r, &d) == 0) {
		csvr_record rec;
		int rc;
		unsigned long lines = 1;
		for (size_t i = 1; i < size; i++)
			lines += data[i] == '\n';
		while ((rc = csvr_next(r, &rec, &d)) > 0) {
			if (rec.line < 1 || rec.line > lines)
				abort();
			for (size_t i = 0; rc == CSVR_OK && i < rec.n; i++)
				if (rec.f[i].line < rec.line || rec.f[i].line > lines || rec.f[i].col < 1)
					abort();
		}
		csvr_close(r);
	}
	diag_free(&d);
	return 0;
}
