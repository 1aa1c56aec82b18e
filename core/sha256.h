/* sha256: streaming SHA-256 that uses the CPU's SHA extensions when it has
 * them.
 *
 * `accept` hashes every package twice (the sealed package for the audit
 * log, the decrypted canonical file for data_sha256), and libsodium's
 * portable SHA-256 was the largest single cost left in it once records
 * were stored in blocks.  On x86-64 processors with the SHA extensions
 * (sha_ni: AMD since Zen, Intel since Ice Lake / Goldmont) the compression
 * function runs on them, several times faster; elsewhere, or when built for
 * another architecture, this is libsodium's crypto_hash_sha256 unchanged.
 * The choice is made once per context (sha256_init) from the CPU; both
 * paths give the same digest (tests/unit/test_core.c checks the published
 * test vectors and agreement with libsodium on random inputs and splits).
 *
 * Ownership: a sha256_ctx is a plain value (no allocation); nothing to free.
 */
#ifndef TIPSTAT_SHA256_H
#define TIPSTAT_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

typedef struct sha256_ctx {
	int ni;                          /* 1: SHA extensions, 0: libsodium */
	crypto_hash_sha256_state lib;    /* when ni = 0 */
	uint32_t h[8];                   /* when ni = 1 */
	uint64_t bytes;
	unsigned char buf[64];
	size_t nbuf;
} sha256_ctx;

/* force_portable: 1 = libsodium even on a CPU with the extensions (tests). */
void sha256_init(sha256_ctx *c, int force_portable);
void sha256_update(sha256_ctx *c, const void *data, size_t n);
void sha256_final(sha256_ctx *c, unsigned char out[32]);
/* 1 when this CPU (and build) can use the SHA extensions. */
int sha256_has_ni(void);

#endif
