/* libFuzzer harness: researchers' request files (privacy/request.h) on
 * arbitrary bytes.  Parsing must never crash; a parsed request must give
 * a canonical question, and parsing that question again must give the
 * same question (canonical form is a fixed point); a signature check
 * against a fixed key must refuse (the fuzzer cannot forge Ed25519), and
 * signing then verifying a parsed request round-trips. */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/codelist.h"
#include "privacy/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static codelists *the_codelists(void)
{
	static codelists cl;
	static int loaded;
	if (!loaded) {
		char dir[4096];
		diag d;
		diag_init(&d, 4);
		if (sodium_init() < 0 || codelists_load(codelists_default_dir(dir, sizeof dir), &cl, &d) != 0)
			abort(); /* run from the repository root or set TIPSTAT_DATASETS */
		diag_free(&d);
		loaded = 1;
	}
	return &cl;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	codelists *cl = the_codelists();
	static unsigned char pk[32], sk[64];
	static int keyed;
	if (!keyed) {
		unsigned char seed[32] = {7};
		crypto_sign_seed_keypair(pk, sk, seed);
		keyed = 1;
	}
	diag d;
	diag_init(&d, 8);
	req_request r;
	if (req_parse((const char *)data, size, "fuzz", cl, 0, &r, &d) == 0) {
		char q[4096];
		diag_reset(&d);
		int qok = req_question(&r, q, sizeof q, NULL, &d) == 0;
		if (!qok && d.code == 0)
			abort(); /* a failure must say why */
		/* the signature: absent or forged, never accepted */
		diag_reset(&d);
		if (req_verify(&r, (const char *)data, size, pk, &d) == 0)
			abort();
		/* an unsigned request that ends with a newline: signing it and
		 * reading it back must verify, and ask the same question */
		char *signed_ = NULL;
		size_t n = 0;
		diag_reset(&d);
		if (qok && !r.signed_ && size && data[size - 1] == '\n' &&
		    req_sign((const char *)data, size, sk, &signed_, &n, &d) == 0) {
			req_request r2;
			char q2[4096];
			diag_reset(&d);
			if (req_parse(signed_, n, "fuzz-signed", cl, 1, &r2, &d) != 0 ||
			    req_verify(&r2, signed_, n, pk, &d) != 0 ||
			    req_question(&r2, q2, sizeof q2, NULL, &d) != 0 || strcmp(q, q2) != 0)
				abort();
		}
		free(signed_);
	}
	diag_free(&d);
	return 0;
}
