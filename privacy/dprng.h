/* dprng: the random source of tipstat's differential-privacy noise.
 *
 * A ChaCha20 (IETF) key stream from libsodium, read 4 KiB at a time into
 * a buffer and handed out as 64-bit words, so a sampler that needs a few
 * hundred random bits per noise value pays for one stream call per few
 * hundred values instead of one randombytes_buf() call per bit.
 *
 * Two ways to key it:
 *   - dprng_new():        a fresh 256-bit key from randombytes_buf (the
 *                         operating system's CSPRNG).  The only mode whose
 *                         output may protect a release.
 *   - dprng_new_seeded(): the key is derived from a 64-bit seed, so the
 *                         stream is reproducible.  For tests and benches:
 *                         anything produced with it is NOT PRIVATE, and a
 *                         caller that writes output must ask
 *                         dprng_is_seeded() and stamp it so.
 *
 * Key and buffer live in sodium_malloc'd memory (guard pages, mlock'd
 * where the system allows) and are wiped with sodium_memzero on free.
 * There is no global state: each context is owned by its caller and must
 * not be shared between threads without a lock.
 *
 * Timing: every function here takes time that depends only on how many
 * words are asked for (and, for dprng_uniform*, on a rejection count that
 * is independent of the value returned), never on the values themselves.
 *
 * Ownership: dprng_new*() allocates the context; dprng_free() wipes and
 * releases it (NULL is accepted).
 */
#ifndef TIPSTAT_DPRNG_H
#define TIPSTAT_DPRNG_H

#include <stddef.h>
#include <stdint.h>
#include "core/diag.h"

typedef struct dprng dprng;

/* Production context keyed from the OS CSPRNG (calls sodium_init). */
int dprng_new(dprng **out, diag *d);
/* Deterministic context keyed from `seed`: reproducible, NOT PRIVATE. */
int dprng_new_seeded(uint64_t seed, dprng **out, diag *d);
void dprng_free(dprng *r);

/* 1 if the context was made by dprng_new_seeded (output is not private),
 * 0 if it was keyed from the OS. */
int dprng_is_seeded(const dprng *r);

/* The next 64 uniform bits of the stream. */
uint64_t dprng_u64(dprng *r);
/* The next n words of the stream into out[] (same as n dprng_u64 calls,
 * at the cost of one). */
void dprng_words(dprng *r, uint64_t *out, size_t n);
/* One uniform bit (0 or 1), taken from a 64-bit pool. */
unsigned dprng_bit(dprng *r);
/* Fill buf with n uniform bytes. */
void dprng_bytes(dprng *r, void *buf, size_t n);
/* Uniform on [0, n) for n >= 1 (n == 0 returns 0): draw as many bits as n
 * needs and reject values >= n.  The number of rejections is independent
 * of the value finally returned. */
uint64_t dprng_uniform(dprng *r, uint64_t n);
/* The same for 128-bit bounds, given as hi:lo words; the result is
 * written to *out_hi, *out_lo. */
void dprng_uniform128(dprng *r, uint64_t n_hi, uint64_t n_lo,
                      uint64_t *out_hi, uint64_t *out_lo);

#endif
