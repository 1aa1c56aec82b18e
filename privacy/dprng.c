/* dprng: buffered ChaCha20 key stream for DP noise (see dprng.h).
 *
 * Integers only: no floating point anywhere in this file. */
#include "privacy/dprng.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#define DPRNG_WORDS 512 /* 4 KiB of key stream per refill */

/* The secret part: key, the current block of key stream and the unused
 * bit pool.  All of it in one sodium_malloc'd region. */
typedef struct dprng_secret {
	unsigned char key[crypto_stream_chacha20_ietf_KEYBYTES];
	uint64_t buf[DPRNG_WORDS];
	uint64_t pool;
} dprng_secret;

struct dprng {
	dprng_secret *s;
	uint64_t nonce_ctr; /* one nonce per 4 KiB block, never reused per key */
	unsigned pos;       /* next unused word of s->buf; DPRNG_WORDS = empty */
	unsigned pool_bits; /* bits left in s->pool */
	int seeded;
};

/* BEGIN EXACT */
static void refill(dprng *r)
{
	unsigned char nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0};
	uint64_t c = r->nonce_ctr++;
	for (int i = 0; i < 8; i++)
		nonce[i] = (unsigned char)(c >> (8 * i));
	crypto_stream_chacha20_ietf((unsigned char *)r->s->buf, sizeof r->s->buf,
	                            nonce, r->s->key);
	r->pos = 0;
}

uint64_t dprng_u64(dprng *r)
{
	if (r->pos == DPRNG_WORDS)
		refill(r);
	uint64_t w = r->s->buf[r->pos];
	r->s->buf[r->pos++] = 0; /* a word is handed out once */
	return w;
}

void dprng_words(dprng *r, uint64_t *out, size_t n)
{
	while (n > 0) {
		if (r->pos == DPRNG_WORDS)
			refill(r);
		size_t k = DPRNG_WORDS - r->pos;
		if (k > n)
			k = n;
		memcpy(out, r->s->buf + r->pos, k * sizeof *out);
		memset(r->s->buf + r->pos, 0, k * sizeof *out);
		r->pos += (unsigned)k;
		out += k;
		n -= k;
	}
}

unsigned dprng_bit(dprng *r)
{
	if (r->pool_bits == 0) {
		r->s->pool = dprng_u64(r);
		r->pool_bits = 64;
	}
	unsigned b = (unsigned)(r->s->pool & 1u);
	r->s->pool >>= 1;
	r->pool_bits--;
	return b;
}

void dprng_bytes(dprng *r, void *buf, size_t n)
{
	unsigned char *p = buf;
	while (n > 0) {
		uint64_t w = dprng_u64(r);
		size_t k = n < 8 ? n : 8;
		memcpy(p, &w, k);
		p += k;
		n -= k;
	}
}

/* Mask with every bit up to and including the highest set bit of x. */
static uint64_t smear(uint64_t x)
{
	x |= x >> 1;
	x |= x >> 2;
	x |= x >> 4;
	x |= x >> 8;
	x |= x >> 16;
	x |= x >> 32;
	return x;
}

uint64_t dprng_uniform(dprng *r, uint64_t n)
{
	if (n <= 1)
		return 0;
	uint64_t mask = smear(n - 1);
	for (;;) {
		uint64_t v = dprng_u64(r) & mask;
		if (v < n)
			return v;
	}
}

void dprng_uniform128(dprng *r, uint64_t n_hi, uint64_t n_lo,
                      uint64_t *out_hi, uint64_t *out_lo)
{
	if (n_hi == 0) {
		*out_hi = 0;
		*out_lo = dprng_uniform(r, n_lo);
		return;
	}
	uint64_t mask = smear(n_hi);
	for (;;) {
		uint64_t hi = dprng_u64(r) & mask;
		uint64_t lo = dprng_u64(r);
		if (hi < n_hi || (hi == n_hi && lo < n_lo)) {
			*out_hi = hi;
			*out_lo = lo;
			return;
		}
	}
}
/* END EXACT */

static int make(dprng **out, int seeded, uint64_t seed, diag *d)
{
	*out = NULL;
	if (sodium_init() < 0)
		return diag_fail(d, EX_SOFTWARE, "dprng: libsodium failed to initialise");
	dprng *r = calloc(1, sizeof *r);
	if (!r)
		return diag_fail(d, EX_OSERR, "dprng: out of memory");
	r->s = sodium_malloc(sizeof *r->s);
	if (!r->s) {
		free(r);
		return diag_fail(d, EX_OSERR, "dprng: sodium_malloc failed");
	}
	memset(r->s, 0, sizeof *r->s);
	if (seeded) {
		/* Key = ChaCha20 stream keyed by the seed's bytes and a domain
		 * tag (randombytes_buf_deterministic): reproducible, not secret. */
		unsigned char sd[randombytes_SEEDBYTES] = "tipstat-dprng-seed";
		for (int i = 0; i < 8; i++)
			sd[24 + i] = (unsigned char)(seed >> (8 * i));
		randombytes_buf_deterministic(r->s->key, sizeof r->s->key, sd);
		sodium_memzero(sd, sizeof sd);
	} else {
		randombytes_buf(r->s->key, sizeof r->s->key);
	}
	r->seeded = seeded;
	r->pos = DPRNG_WORDS;
	*out = r;
	return 0;
}

int dprng_new(dprng **out, diag *d)
{
	return make(out, 0, 0, d);
}

int dprng_new_seeded(uint64_t seed, dprng **out, diag *d)
{
	return make(out, 1, seed, d);
}

int dprng_is_seeded(const dprng *r)
{
	return r->seeded;
}

void dprng_free(dprng *r)
{
	if (!r)
		return;
	if (r->s) {
		sodium_memzero(r->s, sizeof *r->s);
		sodium_free(r->s); /* sodium_free wipes again before unmapping */
	}
	sodium_memzero(r, sizeof *r);
	free(r);
}
