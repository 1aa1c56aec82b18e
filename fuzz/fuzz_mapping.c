/* libFuzzer harness: the mapping-file parser on arbitrary text, checked
 * against the real codelists.  It must never crash, and a parse that fails
 * must leave the mapping released (mapping_free is then a no-op). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "core/codelist.h"
#include "ingest/mapping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static codelists *the_codelists(void)
{
	static codelists cl;
	static int loaded;
	if (!loaded) {
		char dir[4096];
		diag d;
		diag_init(&d, 4);
		if (codelists_load(codelists_default_dir(dir, sizeof dir), &cl, &d) != 0)
			abort(); /* run from the repository root or set TIPSTAT_DATASETS */
		diag_free(&d);
		loaded = 1;
	}
	return &cl;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	codelists *cl = the_codelists();
	mapping m;
	diag d;
	diag_init(&d, 16);
	int rc = mapping_parse((const char *)data, size, "fuzz.map", (size & 1) ? cl : NULL, &m, &d);
	if (rc != 0 && d.code == 0)
		abort(); /* a failure always says why */
	mapping_free(&m);
	diag_free(&d);
	return 0;
}
