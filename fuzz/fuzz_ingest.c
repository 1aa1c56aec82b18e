/* libFuzzer harness: CSV + mapping ingest (reader, header binding,
 * harmonisation of every row) on arbitrary bytes with the case-level
 * mapping of the malformed-input corpus (tests/bad/ingest/base.map).  The
 * first byte picks the mapping: records or cells. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/codelist.h"
#include "core/csvr.h"
#include "ingest/harmonise.h"
#include "ingest/mapping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct setup {
	codelists cl;
	mapping m[2];
	unsigned char key[32];
} setup;

static setup *the_setup(void)
{
	static setup s;
	static int loaded;
	if (!loaded) {
		char dir[4096];
		diag d;
		diag_init(&d, 4);
		if (codelists_load(codelists_default_dir(dir, sizeof dir), &s.cl, &d) != 0 ||
		    mapping_load("tests/bad/ingest/base.map", &s.cl, &s.m[0], &d) != 0 ||
		    mapping_load("tests/bad/ingest/cells.map", &s.cl, &s.m[1], &d) != 0)
			abort(); /* run from the repository root */
		diag_free(&d);
		memset(s.key, 7, sizeof s.key);
		loaded = 1;
	}
	return &s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	setup *s = the_setup();
	const mapping *m = &s->m[data[0] & 1];
	csvr_opts o = {.delim = m->delimiter ? m->delimiter : ',', .quote = '"',
	               .max_field = 4096};
	diag d;
	diag_init(&d, 16);
	csvr *r;
	if (csvr_open_mem(data + 1, size - 1, "fuzz.csv", &o, &r, &d) != 0) {
		diag_free(&d);
		return 0;
	}
	harm h;
	memset(&h, 0, sizeof h);
	csvr_record rec;
	int rc, inited = 0;
	while ((rc = csvr_next(r, &rec, &d)) > 0) {
		if (!inited) {
			if (rc != CSVR_OK)
				break;
			if (harm_init(&h, m, &s->cl, "fuzz.csv", &rec, 0, s->key, -1, &d) != 0)
				break;
			inited = 1;
			continue;
		}
		if (rc != CSVR_OK)
			continue;
		std_row row;
		int hr = harm_row(&h, &rec, &row, &d);
		if (hr < 0)
			break;
		if (hr == 0 && (row.country < 0 || row.country >= (int)s->cl.n_countries))
			abort(); /* an accepted row always has a real country */
	}
	harm_free(&h); /* also after a failed harm_init (safe on a zeroed harm) */
	csvr_close(r);
	diag_free(&d);
	return 0;
}
