/* sha256: see sha256.h.
 *
 * The SHA-extension path follows FIPS 180-4 directly: the state is kept as
 * the two vectors the instructions want (A,B,E,F and C,D,G,H), each group of
 * four rounds adds four message words plus their round constants and runs
 * sha256rnds2 twice, and the message schedule for words 16..63 is
 * sha256msg1 (sigma0 part), the add of W[t-7], then sha256msg2 (sigma1
 * part).  Padding and the length are done here in C for both paths'
 * callers; only the compression differs. */
#include "core/sha256.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define SHA256_HAVE_NI_CODE 1
#else
#define SHA256_HAVE_NI_CODE 0
#endif

static const uint32_t IV[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

#if SHA256_HAVE_NI_CODE
static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2};

__attribute__((target("sha,sse4.1,ssse3")))
static void blocks_ni(uint32_t h[8], const unsigned char *p, size_t nblocks)
{
	/* big-endian words: reverse the bytes of each 32-bit lane */
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	__m128i dcba = _mm_loadu_si128((const __m128i *)&h[0]);   /* lanes: a b c d */
	__m128i hgfe = _mm_loadu_si128((const __m128i *)&h[4]);   /* lanes: e f g h */
	__m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
	__m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
	__m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
	__m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
	while (nblocks--) {
		__m128i abef0 = abef, cdgh0 = cdgh, w[4];
		for (int i = 0; i < 4; i++)
			w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
		for (int g = 0; g < 16; g++) {
			__m128i cur;
			if (g < 4) {
				cur = w[g];
			} else {
				/* W[t..t+3] from W[t-16..t-1] kept in w[(g-4)..(g-1)] mod 4 */
				__m128i m16 = w[g & 3], m12 = w[(g + 1) & 3], m8 = w[(g + 2) & 3],
				        m4 = w[(g + 3) & 3];
				__m128i x = _mm_sha256msg1_epu32(m16, m12);
				x = _mm_add_epi32(x, _mm_alignr_epi8(m4, m8, 4));
				cur = _mm_sha256msg2_epu32(x, m4);
				w[g & 3] = cur;
			}
			__m128i msg = _mm_add_epi32(cur, _mm_loadu_si128((const __m128i *)&K[4 * g]));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, msg);
			msg = _mm_shuffle_epi32(msg, 0x0E);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, msg);
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
		p += 64;
	}
	__m128i feba = _mm_shuffle_epi32(abef, 0x1B);
	__m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
	dcba = _mm_blend_epi16(feba, dchg, 0xF0);
	hgfe = _mm_alignr_epi8(dchg, feba, 8);
	_mm_storeu_si128((__m128i *)&h[0], dcba);
	_mm_storeu_si128((__m128i *)&h[4], hgfe);
}
#endif

int sha256_has_ni(void)
{
#if SHA256_HAVE_NI_CODE
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	int sse = (c & (1u << 19)) && (c & (1u << 9));   /* SSE4.1, SSSE3 */
	if (!sse || !__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return (b & (1u << 29)) != 0;                      /* SHA */
#else
	return 0;
#endif
}

void sha256_init(sha256_ctx *c, int force_portable)
{
	memset(c, 0, sizeof *c);
	c->ni = !force_portable && sha256_has_ni();
	if (c->ni)
		memcpy(c->h, IV, sizeof c->h);
	else
		crypto_hash_sha256_init(&c->lib);
}

void sha256_update(sha256_ctx *c, const void *data, size_t n)
{
	if (!c->ni) {
		crypto_hash_sha256_update(&c->lib, data, n);
		return;
	}
#if SHA256_HAVE_NI_CODE
	const unsigned char *p = data;
	c->bytes += n;
	if (c->nbuf) {
		size_t k = 64 - c->nbuf < n ? 64 - c->nbuf : n;
		memcpy(c->buf + c->nbuf, p, k);
		c->nbuf += k;
		p += k;
		n -= k;
		if (c->nbuf < 64)
			return;
		blocks_ni(c->h, c->buf, 1);
		c->nbuf = 0;
	}
	if (n >= 64) {
		blocks_ni(c->h, p, n / 64);
		p += n / 64 * 64;
		n %= 64;
	}
	if (n) {
		memcpy(c->buf, p, n);
		c->nbuf = n;
	}
#endif
}

void sha256_final(sha256_ctx *c, unsigned char out[32])
{
	if (!c->ni) {
		crypto_hash_sha256_final(&c->lib, out);
		return;
	}
#if SHA256_HAVE_NI_CODE
	uint64_t bits = c->bytes * 8;
	unsigned char pad[72];
	size_t np = (c->nbuf < 56 ? 56 : 120) - c->nbuf;
	memset(pad, 0, sizeof pad);
	pad[0] = 0x80;
	for (int i = 0; i < 8; i++)
		pad[np + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
	uint64_t keep = c->bytes;
	sha256_update(c, pad, np + 8);
	c->bytes = keep;
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
#endif
}
