/* dpsample: constant-time integer samplers for the discrete Gaussian and
 * discrete Laplace, and zCDP accounting (see dpsample.h for the design and
 * the guarantees).
 *
 * Layout: everything between the BEGIN EXACT and END EXACT markers is the
 * sampling path and the table construction; it uses integers only (64-bit,
 * unsigned __int128 and a 320-bit fixed-point type built on them), never
 * float/double or libm, and test_dpsample.c checks that by reading this
 * file.  The accounting after END EXACT uses double/long double. */
#include "privacy/dpsample.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

__extension__ typedef unsigned __int128 u128;

#define U128_MAX (~(u128)0)

/* BEGIN EXACT */

/* ---------- 320-bit fixed point, for building tables (setup only) ------
 * l[4] is the integer part, l[3..0] 256 fraction bits (l[3] the most
 * significant).  Every operation truncates; the error analysis in
 * dpsample.h counts one ulp (2^-256) per operation. */
#define MPL 5
typedef struct mp {
	uint64_t l[MPL];
} mp;

static mp mp_int(uint64_t v)
{
	mp a;
	memset(&a, 0, sizeof a);
	a.l[4] = v;
	return a;
}

static int mp_is_zero(const mp *a)
{
	uint64_t o = 0;
	for (int i = 0; i < MPL; i++)
		o |= a->l[i];
	return o == 0;
}

static int mp_cmp(const mp *a, const mp *b)
{
	for (int i = MPL - 1; i >= 0; i--) {
		if (a->l[i] != b->l[i])
			return a->l[i] < b->l[i] ? -1 : 1;
	}
	return 0;
}

static mp mp_add(const mp *a, const mp *b)
{
	mp c;
	u128 carry = 0;
	for (int i = 0; i < MPL; i++) {
		carry += (u128)a->l[i] + b->l[i];
		c.l[i] = (uint64_t)carry;
		carry >>= 64;
	}
	return c;
}

/* a - b, a >= b */
static mp mp_sub(const mp *a, const mp *b)
{
	mp c;
	uint64_t borrow = 0;
	for (int i = 0; i < MPL; i++) {
		uint64_t x = a->l[i], y = b->l[i];
		uint64_t t = x - y - borrow;
		borrow = (x < y) || (x == y && borrow);
		c.l[i] = t;
	}
	return c;
}

static mp mp_shr(const mp *a, unsigned s)
{
	mp c;
	memset(&c, 0, sizeof c);
	unsigned w = s / 64, b = s % 64;
	for (unsigned i = 0; i + w < MPL; i++) {
		uint64_t lo = a->l[i + w];
		uint64_t hi = i + w + 1 < MPL ? a->l[i + w + 1] : 0;
		c.l[i] = b ? (lo >> b) | (hi << (64 - b)) : lo;
	}
	return c;
}

static mp mp_shl1(const mp *a)
{
	mp c;
	for (int i = MPL - 1; i > 0; i--)
		c.l[i] = (a->l[i] << 1) | (a->l[i - 1] >> 63);
	c.l[0] = a->l[0] << 1;
	return c;
}

/* a * b, truncated to 256 fraction bits; the integer part must fit in
 * 64 bits (all uses multiply values <= 1). */
static mp mp_mul(const mp *a, const mp *b)
{
	uint64_t t[2 * MPL + 1];
	memset(t, 0, sizeof t);
	for (int i = 0; i < MPL; i++) {
		u128 carry = 0;
		for (int j = 0; j < MPL; j++) {
			carry += (u128)a->l[i] * b->l[j] + t[i + j];
			t[i + j] = (uint64_t)carry;
			carry >>= 64;
		}
		t[i + MPL] = (uint64_t)carry;
	}
	mp c;
	for (int i = 0; i < MPL; i++)
		c.l[i] = t[i + 4];
	return c;
}

static mp mp_div_u64(const mp *a, uint64_t m)
{
	mp c;
	u128 rem = 0;
	for (int i = MPL - 1; i >= 0; i--) {
		u128 cur = (rem << 64) | a->l[i];
		c.l[i] = (uint64_t)(cur / m);
		rem = cur % m;
	}
	return c;
}

/* exp(-x) for x >= 0: halve x below 1/2, alternating Taylor series, then
 * square back.  Relative error about 2^(s-250) for s halvings (s <= 66). */
static mp mp_exp_neg(mp x)
{
	unsigned s = 0;
	while (x.l[4] != 0 || (x.l[3] >> 63) != 0) {
		x = mp_shr(&x, 1);
		s++;
	}
	mp sum = mp_int(1), term = mp_int(1);
	for (uint64_t k = 1;; k++) {
		term = mp_mul(&term, &x);
		term = mp_div_u64(&term, k);
		if (mp_is_zero(&term))
			break;
		sum = (k & 1) ? mp_sub(&sum, &term) : mp_add(&sum, &term);
	}
	while (s-- > 0)
		sum = mp_mul(&sum, &sum);
	return sum;
}

/* floor(2^128 * s / z) for 0 <= s <= z (z > 0, integer part < 2^62),
 * saturated at 2^128 - 1. */
static u128 mp_ratio128(const mp *s, const mp *z)
{
	if (mp_cmp(s, z) >= 0)
		return U128_MAX;
	mp r = *s;
	u128 q = 0;
	for (int i = 0; i < 128; i++) {
		r = mp_shl1(&r);
		q <<= 1;
		if (mp_cmp(&r, z) >= 0) {
			r = mp_sub(&r, z);
			q |= 1;
		}
	}
	return q;
}

/* floor(2^128 * a) for 0 <= a < 1 */
static u128 mp_frac128(const mp *a)
{
	return ((u128)a->l[3] << 64) | a->l[2];
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static uint64_t isqrt128(u128 v, int round_up)
{
	u128 lo = 0, hi = (u128)1 << 64; /* answer in [lo, hi) */
	while (hi - lo > 1) {
		u128 mid = lo + (hi - lo) / 2;
		if (mid * mid <= v)
			lo = mid;
		else
			hi = mid;
	}
	if (round_up && lo * lo < v)
		lo++;
	return (uint64_t)lo;
}

/* ---------- constant-time primitives ---------- */

static inline u128 rnd128(dprng *r)
{
	u128 hi = dprng_u64(r);
	return (hi << 64) | dprng_u64(r);
}

/* All-ones if c (0/1) is 1, else 0. */
static inline u128 mask128(u128 c)
{
	return (u128)0 - c;
}

/* Comparisons as arithmetic, never as branches: gcc compiles a plain
 * `(u128)(a < b)` into a conditional jump, which leaks through the branch
 * predictor (and was 5x slower in the division below).
 * lt127: a < b for a, b < 2^127 (sign bit of the wrapped difference). */
static inline u128 lt127(u128 a, u128 b)
{
	return (a - b) >> 127;
}

/* a < b for full 128-bit values given as 64-bit halves: the borrow out of
 * a - b, from the full-subtractor formula. */
static inline uint64_t lt128w(uint64_t a1, uint64_t a0, uint64_t b1, uint64_t b0)
{
	uint64_t d0 = a0 - b0;
	uint64_t br = ((~a0 & b0) | (~(a0 ^ b0) & d0)) >> 63;
	uint64_t d1 = a1 - b1 - br;
	return ((~a1 & b1) | (~(a1 ^ b1) & d1)) >> 63;
}

static inline uint64_t lt128(u128 a, u128 b)
{
	return lt128w((uint64_t)(a >> 64), (uint64_t)a, (uint64_t)(b >> 64), (uint64_t)b);
}

/* floor(a * b / 2^128): the 0.128 fixed-point product, fixed sequence. */
static inline u128 mulhi128(u128 a, u128 b)
{
	uint64_t a0 = (uint64_t)a, a1 = (uint64_t)(a >> 64);
	uint64_t b0 = (uint64_t)b, b1 = (uint64_t)(b >> 64);
	u128 p00 = (u128)a0 * b0, p01 = (u128)a0 * b1;
	u128 p10 = (u128)a1 * b0, p11 = (u128)a1 * b1;
	u128 mid = (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10;
	return p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
}

/* Geometric digits: a Laplace magnitude sampler (dpsample.h).
 * G < 2^J has independent binary digits, digit j being 1 with odds
 * q_j = r^(2^j).  Digits are drawn in groups: the digits [lo, lo + w) of
 * G jointly form a geometric variable truncated to [0, 2^w) with ratio
 * q_lo, drawn by one constant-time scan of its cumulative table (one
 * 127-bit uniform per group instead of one per digit).  Groups: four
 * digits at a time while q_j > 1/e (2^j < t), then all remaining digits
 * (at most 7: q_(j+7) <= e^-128) in one group. */
#define GEO_MAX_GROUPS 24
#define GEO_MAX_ENTRIES 1024
typedef struct lapbits {
	unsigned J;                       /* G < 2^J */
	unsigned ng;                      /* digit groups */
	unsigned lo[GEO_MAX_GROUPS];      /* lowest digit of group g */
	unsigned off[GEO_MAX_GROUPS + 1]; /* its table is c[off[g] .. off[g+1]) */
	u128 pz;                          /* floor(2^127 P(|X| >= 1)) = 2r/(1+r) */
	u128 c[GEO_MAX_ENTRIES];          /* floor(2^127 P(V <= v)) per group */
} lapbits;

/* Cumulative table of V on [0, 2^w), P(V = v) proportional to Q^v, into
 * b->c from b->off[g]; ends at the last v or where P(V > v) <= 2^-127. */
static int geo_table(lapbits *b, unsigned g, const mp *Q, unsigned w)
{
	mp one = mp_int(1), z = mp_int(0), p = one;
	for (uint64_t v = 0; v < ((uint64_t)1 << w); v++) {
		z = mp_add(&z, &p);
		p = mp_mul(&p, Q);
	}
	unsigned n = b->off[g];
	mp s = mp_int(0);
	p = one;
	for (uint64_t v = 0; v + 1 < ((uint64_t)1 << w); v++) {
		s = mp_add(&s, &p);
		p = mp_mul(&p, Q);
		u128 c = mp_ratio128(&s, &z) >> 1;
		if (c == U128_MAX >> 1)
			break;
		if (n == GEO_MAX_ENTRIES)
			return -1;
		b->c[n++] = c;
	}
	b->off[g + 1] = n;
	return 0;
}

/* r = exp(-x).  Fails (returns -1) only if more than max_j digits would
 * be needed. */
static int lapbits_init(lapbits *b, const mp *x, unsigned max_j)
{
	memset(b, 0, sizeof *b);
	mp q[64];
	q[0] = mp_exp_neg(*x);
	mp one = mp_int(1);
	mp twoq = mp_add(&q[0], &q[0]), den = mp_add(&one, &q[0]);
	b->pz = mp_ratio128(&twoq, &den) >> 1;
	unsigned j = 0;
	for (;;) {
		/* stop once q_j = r^(2^j) < 2^-130: P(G >= 2^j) = q_j */
		if (q[j].l[4] == 0 && q[j].l[3] == 0 && (q[j].l[2] >> 62) == 0)
			break;
		if (j >= max_j || j >= 63)
			return -1;
		q[j + 1] = mp_mul(&q[j], &q[j]);
		j++;
	}
	b->J = j;
	/* first "high" digit: x 2^j >= 1 */
	unsigned hi = 0;
	mp xj = *x;
	while (hi < b->J && mp_cmp(&xj, &one) < 0) {
		xj = mp_shl1(&xj);
		hi++;
	}
	unsigned g = 0;
	for (j = 0; j < b->J;) {
		unsigned w = j < hi ? (hi - j < 4 ? hi - j : 4) : b->J - j;
		if (g == GEO_MAX_GROUPS || w > 8)
			return -1;
		b->lo[g] = j;
		if (geo_table(b, g, &q[j], w) != 0)
			return -1;
		g++;
		j += w;
	}
	b->ng = g;
	return 0;
}

/* |X| for X ~ Lap_Z: Z (1 + G), every group's table scanned in full every
 * time; 127-bit uniforms compared with 127-bit probabilities. */
static inline uint64_t lap_mag(const lapbits *b, dprng *r)
{
	uint64_t w[2 * GEO_MAX_GROUPS + 2];
	unsigned ng = b->ng;
	dprng_words(r, w, 2 * (size_t)ng + 2);
	uint64_t g = 0;
	for (unsigned k = 0; k < ng; k++) {
		u128 u = (((u128)w[2 * k] << 64) | w[2 * k + 1]) >> 1;
		uint64_t below = 0;
		for (unsigned e = b->off[k]; e < b->off[k + 1]; e++)
			below += (uint64_t)lt127(u, b->c[e]);
		g |= ((uint64_t)(b->off[k + 1] - b->off[k]) - below) << b->lo[k];
	}
	u128 u = (((u128)w[2 * ng] << 64) | w[2 * ng + 1]) >> 1;
	uint64_t z = (uint64_t)lt127(u, b->pz);
	return (g + 1) & ((uint64_t)0 - z);
}

static inline int64_t with_sign(uint64_t mag, dprng *r)
{
	uint64_t s = dprng_bit(r);
	return (int64_t)((mag ^ ((uint64_t)0 - s)) + s);
}

struct dp_gauss {
	uint64_t num, den; /* sigma^2, reduced */
	int rej;           /* 0: table, 1: rejection */
	/* table */
	size_t K;
	u128 *cdt;         /* c_k = floor(2^127 P(|X| <= k)), k < K */
	/* rejection (CKS Algorithm 3) */
	uint64_t t;        /* floor(sigma) + 1 */
	u128 B;            /* 2 num den t^2: gamma = (|y| t den - num)^2 / B */
	uint64_t a_cap;    /* |y| t den - num >= a_cap  <=>  gamma >= 128 */
	u128 E[64];        /* floor(2^128 exp(-2^(j-57))) */
	uint64_t R[4];     /* floor(2^249 / B), little-endian words */
	lapbits lb;
};

struct dp_laplace {
	uint64_t num, den;
	lapbits lb;
};

/* exp(-A/B) in 0.128 fixed point, A < 128 B, B < 2^120.
 * gamma = A/B with 121 fraction bits as floor(A R / 2^128), R =
 * floor(2^249 / B) (a fixed 2x4-word product; error < 2 ulps), then
 * exp(-gamma) = product over gamma's 64 high bits of exp(-2^i) (masked
 * multiplications in four independent chains), times (1 - low part) for
 * the remaining < 2^-57.  Error <= 2^-110. */
static inline u128 fx_exp_neg(const dp_gauss *g, u128 A)
{
	uint64_t a0 = (uint64_t)A, a1 = (uint64_t)(A >> 64);
	const uint64_t *R = g->R;
	uint64_t p[6] = {0, 0, 0, 0, 0, 0};
	for (int i = 0; i < 4; i++) {
		u128 c = (u128)a0 * R[i] + p[i];
		p[i] = (uint64_t)c;
		c = (c >> 64) + (u128)a1 * R[i] + p[i + 1];
		p[i + 1] = (uint64_t)c;
		p[i + 2] += (uint64_t)(c >> 64);
	}
	uint64_t qh = p[3], ql = p[2]; /* gamma 2^121 = qh:ql */
	u128 r0 = U128_MAX, r1 = U128_MAX, r2 = U128_MAX, r3 = U128_MAX;
	const u128 *E = g->E;
#define DP_SEL(r, j)                                                    \
	do {                                                            \
		u128 m_ = mask128((qh >> (j)) & 1);                     \
		u128 t_ = mulhi128(r, E[j]);                            \
		r = (t_ & m_) | (r & ~m_);                              \
	} while (0)
	for (int j = 0; j < 64; j += 4) {
		DP_SEL(r0, j);
		DP_SEL(r1, j + 1);
		DP_SEL(r2, j + 2);
		DP_SEL(r3, j + 3);
	}
#undef DP_SEL
	u128 r01 = mulhi128(r0, r1), r23 = mulhi128(r2, r3);
	u128 xlo = (u128)ql << 7;
	return mulhi128(mulhi128(r01, r23), ~xlo);
}

/* |X| = #{k : c_k <= u} = K - #{k : u < c_k}, full scan. */
static inline uint64_t cdt_mag(const dp_gauss *g, dprng *r)
{
	u128 u = rnd128(r) >> 1;
	uint64_t cnt = 0;
	const u128 *c = g->cdt;
	size_t K = g->K;
	for (size_t k = 0; k < K; k++)
		cnt += (uint64_t)lt127(u, c[k]);
	return (uint64_t)K - cnt;
}

/* One CKS trial, the same operations whatever the proposal: *acc = 1 if
 * accepted; returns the proposal's magnitude. */
static inline uint64_t rej_trial(const dp_gauss *g, dprng *r, unsigned *acc)
{
	uint64_t k = lap_mag(&g->lb, r);
	u128 ktd = (u128)k * g->t * g->den;
	u128 n = g->num;
	u128 lt = mask128(lt127(ktd, n));
	u128 a = ((ktd - n) & ~lt) | ((n - ktd) & lt);
	u128 cap = mask128(1 ^ lt127(a, g->a_cap));
	uint64_t a64 = (uint64_t)(a & ~cap);
	u128 p = fx_exp_neg(g, (u128)a64 * a64) & ~cap;
	u128 u = rnd128(r);
	*acc = (unsigned)lt128(u, p);
	return k;
}

int64_t dp_gauss_sample(const dp_gauss *g, dprng *r)
{
	if (!g->rej)
		return with_sign(cdt_mag(g, r), r);
	for (;;) {
		unsigned acc;
		uint64_t k = rej_trial(g, r, &acc);
		if (acc)
			return with_sign(k, r);
	}
}

void dp_gauss_fill(const dp_gauss *g, dprng *r, int64_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = dp_gauss_sample(g, r);
}

const char *dp_gauss_method(const dp_gauss *g)
{
	return g->rej ? "rejection" : "cdt";
}

int64_t dp_laplace_sample(const dp_laplace *l, dprng *r)
{
	return with_sign(lap_mag(&l->lb, r), r);
}

void dp_laplace_fill(const dp_laplace *l, dprng *r, int64_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = dp_laplace_sample(l, r);
}

/* Bernoulli(num/den) for 128-bit num <= den. */
static unsigned bern128(dprng *r, u128 num, u128 den)
{
	uint64_t hi, lo;
	dprng_uniform128(r, (uint64_t)(den >> 64), (uint64_t)den, &hi, &lo);
	u128 u = ((u128)hi << 64) | lo;
	return (unsigned)lt128(u, num);
}

/* CKS Algorithm 1 for gamma = a/b in [0, 1], DP_BEXP_ROUNDS fixed rounds:
 * K = 1 + number of leading successes of Bernoulli(gamma/k); 1 if K odd. */
static unsigned bexp_le1(dprng *r, uint64_t a, uint64_t b)
{
	unsigned alive = 1, K = 1;
	for (unsigned k = 1; k <= DP_BEXP_ROUNDS; k++) {
		alive &= bern128(r, a, (u128)b * k);
		K += alive;
	}
	return K & 1u;
}

int dp_bern_rational(dprng *r, uint64_t num, uint64_t den, int *out, diag *d)
{
	if (den == 0 || num > den)
		return diag_fail(d, EX_USAGE,
		                 "dp_bern_rational: need 0 <= num <= den, den >= 1 (got %llu/%llu)",
		                 (unsigned long long)num, (unsigned long long)den);
	*out = (int)bern128(r, num, den);
	return 0;
}

int dp_bern_exp(dprng *r, uint64_t num, uint64_t den, int *out, diag *d)
{
	if (den == 0)
		return diag_fail(d, EX_USAGE, "dp_bern_exp: denominator is 0");
	uint64_t n = num / den, f = num % den;
	if (n >= 128) { /* exp(-gamma) < 2^-184: answer 0 */
		*out = 0;
		return 0;
	}
	unsigned res = 1;
	for (uint64_t i = 0; i < n; i++)
		res &= bexp_le1(r, 1, 1);
	res &= bexp_le1(r, f, den);
	*out = (int)res;
	return 0;
}

/* ---------- construction ---------- */

#define CDT_MAX_ENTRIES 2048

static int gauss_build_cdt(dp_gauss *g, diag *d)
{
	/* r = exp(-den/(2 num)); w(k) = r^(k^2), w(k+1) = w(k) r^(2k+1) */
	mp x = mp_int(g->den);
	x = mp_div_u64(&x, g->num);
	x = mp_shr(&x, 1);
	mp r = mp_exp_neg(x);
	mp r2 = mp_mul(&r, &r);
	mp one = mp_int(1);
	mp z = one, w = one, q = r;
	for (;;) { /* normaliser, to 2^-256 */
		w = mp_mul(&w, &q);
		q = mp_mul(&q, &r2);
		if (mp_is_zero(&w))
			break;
		mp w2 = mp_add(&w, &w);
		z = mp_add(&z, &w2);
	}
	g->cdt = malloc(CDT_MAX_ENTRIES * sizeof *g->cdt);
	if (!g->cdt)
		return diag_fail(d, EX_OSERR, "dp_gauss_new: out of memory");
	mp s = one;
	w = one;
	q = r;
	size_t k = 0;
	for (;;) {
		u128 c = mp_ratio128(&s, &z) >> 1;
		if (c == U128_MAX >> 1) /* P(|X| > k) <= 2^-127 */
			break;
		if (k == CDT_MAX_ENTRIES)
			return diag_fail(d, EX_SOFTWARE, "dp_gauss_new: table too long");
		g->cdt[k++] = c;
		w = mp_mul(&w, &q);
		q = mp_mul(&q, &r2);
		mp w2 = mp_add(&w, &w);
		s = mp_add(&s, &w2);
	}
	g->K = k;
	return 0;
}

static int gauss_build_rej(dp_gauss *g, diag *d)
{
	uint64_t t = isqrt128(g->num / g->den, 0) + 1;
	if (t > ((uint64_t)1 << 31) + 1)
		return diag_fail(d, EX_USAGE, "dp_gauss_new: sigma above 2^31");
	g->t = t;
	u128 t2 = (u128)t * t;
	u128 nd = (u128)g->num * g->den;
	if (nd >= ((u128)1 << 119) / t2)
		return diag_fail(d, EX_USAGE,
		                 "dp_gauss_new: sigma^2 = %llu/%llu too large for the 120-bit "
		                 "acceptance arithmetic (2 num den t^2 >= 2^120)",
		                 (unsigned long long)g->num, (unsigned long long)g->den);
	g->B = 2 * nd * t2;
	g->a_cap = isqrt128(128 * g->B, 1);
	/* R = floor(2^249 / B) by restoring division (B < 2^120, so the
	 * remainder's doubling fits) */
	{
		u128 rem = 0;
		memset(g->R, 0, sizeof g->R);
		for (int i = 249; i >= 0; i--) {
			rem <<= 1;
			if (i == 249)
				rem |= 1;
			if (rem >= g->B) {
				rem -= g->B;
				g->R[i / 64] |= (uint64_t)1 << (i % 64);
			}
		}
	}
	mp x = mp_int(1);
	x = mp_div_u64(&x, t);
	if (lapbits_init(&g->lb, &x, 62) != 0)
		return diag_fail(d, EX_SOFTWARE, "dp_gauss_new: proposal needs too many digits");
	/* k t den < 2^127 for every proposal k <= 2^J */
	u128 lim = ((u128)1 << 127) / ((u128)t * g->den);
	if ((((u128)1 << g->lb.J) + 1) >= lim)
		return diag_fail(d, EX_USAGE, "dp_gauss_new: sigma^2 = %llu/%llu out of range",
		                 (unsigned long long)g->num, (unsigned long long)g->den);
	for (int j = 0; j < 64; j++) {
		mp e;
		if (j >= 57) {
			e = mp_int((uint64_t)1 << (j - 57));
		} else {
			e = mp_int(1);
			e = mp_shr(&e, (unsigned)(57 - j));
		}
		mp v = mp_exp_neg(e);
		g->E[j] = mp_frac128(&v);
	}
	return 0;
}

int dp_gauss_new(uint64_t num, uint64_t den, dp_gauss **out, diag *d)
{
	*out = NULL;
	if (num == 0 || den == 0)
		return diag_fail(d, EX_USAGE, "dp_gauss_new: sigma^2 = %llu/%llu must be positive",
		                 (unsigned long long)num, (unsigned long long)den);
	uint64_t c = gcd64(num, den);
	num /= c;
	den /= c;
	if (num >= ((uint64_t)1 << 62) || den >= ((uint64_t)1 << 62))
		return diag_fail(d, EX_USAGE, "dp_gauss_new: sigma^2 numerator and denominator "
		                 "must be below 2^62");
	dp_gauss *g = calloc(1, sizeof *g);
	if (!g)
		return diag_fail(d, EX_OSERR, "dp_gauss_new: out of memory");
	g->num = num;
	g->den = den;
	g->rej = (u128)num > (u128)DP_CDT_MAX_S2 * den;
	int rc = g->rej ? gauss_build_rej(g, d) : gauss_build_cdt(g, d);
	if (rc != 0) {
		dp_gauss_free(g);
		return -1;
	}
	*out = g;
	return 0;
}

void dp_gauss_free(dp_gauss *g)
{
	if (!g)
		return;
	free(g->cdt);
	free(g);
}

int dp_laplace_new(uint64_t num, uint64_t den, dp_laplace **out, diag *d)
{
	*out = NULL;
	if (num == 0 || den == 0)
		return diag_fail(d, EX_USAGE, "dp_laplace_new: t = %llu/%llu must be positive",
		                 (unsigned long long)num, (unsigned long long)den);
	uint64_t c = gcd64(num, den);
	num /= c;
	den /= c;
	if (num >= ((uint64_t)1 << 62) || den >= ((uint64_t)1 << 62) ||
	    num / den >= ((uint64_t)1 << 50))
		return diag_fail(d, EX_USAGE, "dp_laplace_new: t = %llu/%llu out of range "
		                 "(num, den < 2^62, t < 2^50)",
		                 (unsigned long long)num, (unsigned long long)den);
	dp_laplace *l = calloc(1, sizeof *l);
	if (!l)
		return diag_fail(d, EX_OSERR, "dp_laplace_new: out of memory");
	l->num = num;
	l->den = den;
	mp x = mp_int(den);
	x = mp_div_u64(&x, num);
	if (lapbits_init(&l->lb, &x, 62) != 0) {
		free(l);
		return diag_fail(d, EX_SOFTWARE, "dp_laplace_new: too many digits");
	}
	*out = l;
	return 0;
}

void dp_laplace_free(dp_laplace *l)
{
	free(l);
}

/* END EXACT */

static int add_noise(const void *s, int gauss, dprng *r, const int64_t *in,
                     size_t n, int64_t *out, diag *d)
{
	int64_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
	if (!tmp)
		return diag_fail(d, EX_OSERR, "dp_add: out of memory");
	for (size_t i = 0; i < n; i++) {
		int64_t e = gauss ? dp_gauss_sample(s, r) : dp_laplace_sample(s, r);
		if ((e > 0 && in[i] > INT64_MAX - e) || (e < 0 && in[i] < INT64_MIN - e)) {
			free(tmp);
			return diag_fail(d, EX_DATAERR, "dp_add: count %zu overflows with noise", i);
		}
		tmp[i] = in[i] + e;
	}
	memcpy(out, tmp, n * sizeof *out);
	free(tmp);
	return 0;
}

int dp_gauss_add(const dp_gauss *g, dprng *r, const int64_t *in, size_t n,
                 int64_t *out, diag *d)
{
	return add_noise(g, 1, r, in, n, out, d);
}

int dp_laplace_add(const dp_laplace *l, dprng *r, const int64_t *in, size_t n,
                   int64_t *out, diag *d)
{
	return add_noise(l, 0, r, in, n, out, d);
}

/* ---------- accounting ---------- */

int dp_gauss_rho(double sens, uint64_t num, uint64_t den, double *rho, diag *d)
{
	if (!(sens >= 0) || num == 0 || den == 0)
		return diag_fail(d, EX_USAGE, "dp_gauss_rho: need sens >= 0 and sigma^2 > 0");
	*rho = sens * sens * (double)den / (2.0 * (double)num);
	return 0;
}

int dp_gauss_s2_for_rho(double sens, double rho, uint64_t den, uint64_t *num,
                        diag *d)
{
	if (!(sens > 0) || !(rho > 0) || den == 0)
		return diag_fail(d, EX_USAGE, "dp_gauss_s2_for_rho: need sens > 0, rho > 0, den >= 1");
	double s2 = sens * sens / (2.0 * rho);
	double n = ceil(s2 * (double)den);
	if (!(n < 4e18))
		return diag_fail(d, EX_USAGE, "dp_gauss_s2_for_rho: sigma^2 too large");
	uint64_t v = n < 1 ? 1 : (uint64_t)n;
	/* rounding in s2 * den may land one below */
	while (sens * sens * (double)den / (2.0 * (double)v) > rho)
		v++;
	*num = v;
	return 0;
}

int dp_zcdp_compose(const double *rho, size_t n, double *total, diag *d)
{
	double s = 0;
	for (size_t i = 0; i < n; i++) {
		if (!(rho[i] >= 0) || isinf(rho[i]))
			return diag_fail(d, EX_USAGE, "dp_zcdp_compose: rho[%zu] is not a finite "
			                 "non-negative number", i);
		s += rho[i];
	}
	*total = s;
	return 0;
}

int dp_zcdp_eps_standard(double rho, double delta, double *eps, diag *d)
{
	if (!(rho >= 0) || !(delta > 0) || !(delta < 1))
		return diag_fail(d, EX_USAGE, "dp_zcdp_eps: need rho >= 0, 0 < delta < 1");
	*eps = rho + 2.0 * sqrt(rho * log(1.0 / delta));
	return 0;
}

/* CKS Corollary 13 as a function of u = ln(a - 1), a > 1. */
static double cks_eps_at(double rho, double ldelta_inv, double u)
{
	double am1 = exp(u), a = 1.0 + am1;
	return a * rho + (ldelta_inv + a * log1p(-1.0 / a) - u) / am1;
}

static double cks_logdelta_at(double rho, double eps, double u)
{
	double am1 = exp(u), a = 1.0 + am1;
	return am1 * (a * rho - eps) + a * log1p(-1.0 / a) - u;
}

/* Minimise f over u in [-20, 40]: grid, then golden section around the
 * best grid point.  Any u gives a valid bound. */
static double minimise(double (*f)(double, double, double), double p1, double p2)
{
	const int n = 600;
	double lo = -20, hi = 40, step = (hi - lo) / n;
	double bu = lo, bf = f(p1, p2, lo);
	for (int i = 1; i <= n; i++) {
		double u = lo + i * step, v = f(p1, p2, u);
		if (v < bf) {
			bf = v;
			bu = u;
		}
	}
	double a = bu - step, b = bu + step;
	const double gr = 0.6180339887498949;
	double c = b - gr * (b - a), e = a + gr * (b - a);
	double fc = f(p1, p2, c), fe = f(p1, p2, e);
	for (int i = 0; i < 100; i++) {
		if (fc < fe) {
			b = e;
			e = c;
			fe = fc;
			c = b - gr * (b - a);
			fc = f(p1, p2, c);
		} else {
			a = c;
			c = e;
			fc = fe;
			e = a + gr * (b - a);
			fe = f(p1, p2, e);
		}
	}
	double m = fc < fe ? fc : fe;
	return m < bf ? m : bf;
}

int dp_zcdp_eps(double rho, double delta, double *eps, diag *d)
{
	double std;
	if (dp_zcdp_eps_standard(rho, delta, &std, d) != 0)
		return -1;
	if (rho == 0) {
		*eps = 0;
		return 0;
	}
	double v = minimise(cks_eps_at, rho, log(1.0 / delta));
	*eps = v < std ? v : std;
	return 0;
}

int dp_zcdp_delta(double rho, double eps, double *delta, diag *d)
{
	if (!(rho >= 0) || !(eps >= 0))
		return diag_fail(d, EX_USAGE, "dp_zcdp_delta: need rho >= 0, eps >= 0");
	if (rho == 0) {
		*delta = 0;
		return 0;
	}
	double l = minimise(cks_logdelta_at, rho, eps);
	double v = exp(l);
	*delta = v < 1 ? v : 1;
	return 0;
}

int dp_laplace_eps(double sens, uint64_t num, uint64_t den, double *eps, diag *d)
{
	if (!(sens >= 0) || num == 0 || den == 0)
		return diag_fail(d, EX_USAGE, "dp_laplace_eps: need sens >= 0 and t > 0");
	*eps = sens * (double)den / (double)num;
	return 0;
}

/* sum_x exp(-x^2/(2 s2)) */
static long double gauss_norm(long double s2)
{
	const long double pi = 3.141592653589793238462643383279503L;
	long double z = 0;
	if (s2 < 1) {
		long double lim = 40 * sqrtl(s2) + 10;
		for (long double x = 1; x <= lim; x += 1)
			z += expl(-x * x / (2 * s2));
		return 1 + 2 * z;
	}
	for (int k = 1; k < 10; k++)
		z += expl(-2 * pi * pi * s2 * k * k);
	return sqrtl(2 * pi * s2) * (1 + 2 * z);
}

double dp_gauss_pmf(uint64_t num, uint64_t den, int64_t x)
{
	if (num == 0 || den == 0)
		return x == 0 ? 1.0 : 0.0;
	long double s2 = (long double)num / den, xx = (long double)x;
	return (double)(expl(-xx * xx / (2 * s2)) / gauss_norm(s2));
}

double dp_laplace_pmf(uint64_t num, uint64_t den, int64_t x)
{
	if (num == 0 || den == 0)
		return x == 0 ? 1.0 : 0.0;
	long double t = (long double)num / den;
	long double ax = x < 0 ? -(long double)x : (long double)x;
	return (double)(tanhl(1 / (2 * t)) * expl(-ax / t));
}

int dp_gauss_moe(uint64_t num, uint64_t den, double level, int64_t *m, diag *d)
{
	if (num == 0 || den == 0 || !(level > 0) || !(level < 1))
		return diag_fail(d, EX_USAGE, "dp_gauss_moe: need sigma^2 > 0 and 0 < level < 1");
	long double s2 = (long double)num / den;
	if (s2 <= 1e8L) { /* sigma <= 10^4: exact pmf sum */
		long double z = gauss_norm(s2), acc = 1;
		int64_t k = 0;
		while (acc / z < level) {
			k++;
			long double kk = (long double)k;
			acc += 2 * expl(-kk * kk / (2 * s2));
		}
		*m = k;
		return 0;
	}
	double sigma = sqrt((double)s2);
	double zq = gsl_cdf_ugaussian_Pinv(0.5 + level / 2);
	double c = ceil(zq * sigma - 0.5);
	int64_t k = c < 0 ? 0 : (int64_t)c;
	while (k > 0 && erf((k - 0.5) / (sigma * 1.4142135623730951)) >= level)
		k--;
	while (erf((k + 0.5) / (sigma * 1.4142135623730951)) < level)
		k++;
	*m = k;
	return 0;
}

int dp_laplace_moe(uint64_t num, uint64_t den, double level, int64_t *m, diag *d)
{
	if (num == 0 || den == 0 || !(level > 0) || !(level < 1))
		return diag_fail(d, EX_USAGE, "dp_laplace_moe: need t > 0 and 0 < level < 1");
	/* P(|X| > m) = 2 r^(m+1) / (1 + r) <= 1 - level  <=>
	 * (m + 1)/t >= ln(2 / ((1 + r)(1 - level))) */
	double t = (double)num / (double)den, r = exp(-1.0 / t);
	double need = t * log(2.0 / ((1.0 + r) * (1.0 - level)));
	double c = ceil(need) - 1;
	int64_t k = c < 0 ? 0 : (int64_t)c;
	while (k > 0 && 2.0 * exp(-(double)k / t) / (1.0 + r) <= 1.0 - level)
		k--;
	while (2.0 * exp(-(double)(k + 1) / t) / (1.0 + r) > 1.0 - level)
		k++;
	*m = k;
	return 0;
}
