/* dpsample: integer noise for differentially private counts, and its
 * accounting in zero-concentrated DP.
 *
 * Samplers for the discrete Gaussian N_Z(0, s2) and the discrete Laplace
 * Lap_Z(t) of Canonne, Kamath and Steinke ("The Discrete Gaussian for
 * Differential Privacy", 2020), with s2 = num/den and t = num/den given as
 * rationals so a published parameter is exactly the one sampled from.
 *
 * Why not the reference algorithms as published: their running time
 * follows the value they return (the geometric loop runs |x|/t times, the
 * Bernoulli(exp(-gamma)) loop runs ~gamma times), which is a known timing
 * attack on the noise.  Here the sampling path is integer-only (no float,
 * no double, no libm: the code between BEGIN EXACT / END EXACT in
 * dpsample.c, which a unit test greps) and its time does not depend on
 * the value produced:
 *
 *  - Discrete Gaussian, s2 <= DP_CDT_MAX_S2 (sigma <= 64): a cumulative
 *    table c_k = floor(2^127 P(|X| <= k)) built with 256-bit fixed-point
 *    integer arithmetic, ending where P(|X| > k) <= 2^-127, and a full
 *    scan of the table for every sample (127-bit uniform U,
 *    |X| = #{k : c_k <= U}, then a random sign), so every sample costs the
 *    same instructions and memory accesses.  Statistical distance to
 *    N_Z(0, s2): at most (K + 2) 2^-127 with K the table length
 *    (K = 13 at sigma = 1, 131 at sigma = 10, 836 at sigma = 64), i.e.
 *    < 2^-117.
 *
 *  - Discrete Laplace Lap_Z(t), any t: |X| = Z (1 + G) with Z a Bernoulli
 *    and G a geometric variable drawn digit by digit: the binary digits of
 *    a geometric variable are independent Bernoulli variables, with odds
 *    q_j = exp(-2^j / t) for digit j, so the digits [lo, lo + w) jointly
 *    form a geometric variable truncated to [0, 2^w) with ratio q_lo.
 *    G < 2^J (J ~ log2(90 t); 6 at t = 1, 26 at t = 10^6) is drawn in g
 *    groups - four digits at a time while 2^j < t, then the remaining
 *    (at most 7) digits together - each by a full scan of its cumulative
 *    table (127-bit fixed point) with one 127-bit uniform.  Distance to
 *    Lap_Z(t): at most (E + g + 2) 2^-127 for E table entries in all
 *    (E = 63, g = 1 at t = 1; E = 138, g = 6 at t = 10^6; E <= 260 for
 *    t < 2^50), i.e. < 2^-118, including < 2^-130 for the truncation at
 *    2^J.

 *  - Discrete Gaussian, s2 > DP_CDT_MAX_S2: CKS Algorithm 3 (proposal
 *    Lap_Z(t), t = floor(sigma) + 1, accept with probability
 *    exp(-(|y| - s2/t)^2 / (2 s2))), where every trial costs the same: the
 *    proposal is the constant-time Laplace above and the acceptance
 *    probability is computed in 128-bit fixed point with a fixed sequence
 *    of operations (gamma by a 2x4-word multiplication with a precomputed
 *    reciprocal, exp(-gamma) as a 64-factor product with masked
 *    selections; no data-dependent branches).  Trials are repeated until
 *    one accepts; in rejection sampling the number of trials is
 *    independent of the accepted value, so the running time (a number of
 *    identical trials) carries no information about the output.  Accept
 *    rate ~0.76; distance to N_Z(0, s2) < 2^-100 (fixed-point error of
 *    the acceptance probability <= 2^-110 per trial, divided by the
 *    acceptance rate, plus the proposal's).
 *
 *  - dp_bern_rational() and dp_bern_exp() are the exact Bernoulli
 *    samplers of CKS (Bernoulli(num/den) by a uniform on [0, den), and
 *    their Algorithm 1 for Bernoulli(exp(-gamma)), gamma = num/den),
 *    made output-independent in time: no early exit (all draws are made
 *    and combined with masks), Algorithm 1 runs a fixed DP_BEXP_ROUNDS = 34
 *    rounds (truncation error <= 1/34! < 2^-127) and gamma > 1 is split
 *    into floor(gamma) rounds of exp(-1) and one of the fractional part
 *    (their number depends on gamma, the public parameter, not on the
 *    output; gamma >= 128 returns 0, error < 2^-184).  They are exact up to
 *    those stated truncations and are offered for callers who need a
 *    Bernoulli of a rational exp(-gamma); the bulk samplers above use the
 *    fixed-point forms because they are far cheaper (one 128-bit
 *    comparison per Bernoulli instead of 34 rejection-sampled uniforms
 *    per unit of gamma).
 *
 * Timing caveat: "independent of the output" means the same instruction
 * sequence and memory access pattern for every value; the only variable
 * parts are the random source's buffer refill (every 4 KiB of stream, at
 * positions fixed by the number of words drawn) and, in the rejection
 * sampler, the number of trials (independent of the output, see above).
 * Comparisons in the sampling path are written as arithmetic (sign bit of
 * a wrapped difference, full-subtractor borrow) because gcc 12 compiles a
 * plain 128-bit `a < b` into a conditional jump; the unit test measures
 * the timing of small and large outputs.
 *
 * Accounting (doubles; not in the sampling path): rho of the Gaussian
 * mechanism, composition (sum of rho), conversion of rho-zCDP to
 * (eps, delta)-DP with CKS 2020 Corollary 13 (tighter than, and never
 * worse than, Bun-Steinke's eps = rho + 2 sqrt(rho ln(1/delta)), which is
 * also offered), exact pmfs and margins of error.
 *
 * Ownership: dp_gauss_new()/dp_laplace_new() allocate a sampler (its
 * tables) which dp_gauss_free()/dp_laplace_free() release; samplers are
 * read-only after construction and may be shared between threads, each
 * thread with its own dprng.  The dprng is the caller's.
 */
#ifndef TIPSTAT_DPSAMPLE_H
#define TIPSTAT_DPSAMPLE_H

#include <stddef.h>
#include <stdint.h>
#include "core/diag.h"
#include "privacy/dprng.h"

/* Largest sigma^2 sampled with the constant-time table (sigma = 64). */
#define DP_CDT_MAX_S2 4096
/* Rounds of CKS Algorithm 1 in dp_bern_exp (1/34! < 2^-127). */
#define DP_BEXP_ROUNDS 34

/* ---- exact Bernoulli primitives (CKS 2020, Algorithms 1-2) ---- */

/* *out = 1 with probability num/den (0 <= num <= den, den >= 1). */
int dp_bern_rational(dprng *r, uint64_t num, uint64_t den, int *out, diag *d);
/* *out = 1 with probability exp(-num/den) (den >= 1). */
int dp_bern_exp(dprng *r, uint64_t num, uint64_t den, int *out, diag *d);

/* ---- discrete Gaussian N_Z(0, num/den) ---- */

typedef struct dp_gauss dp_gauss;

/* Precompute a sampler for sigma^2 = num/den (reduced by their gcd).
 * Limits: num, den >= 1, num < 2^62, den < 2^62, and for sigma > 64
 * 2 num den (floor(sigma) + 1)^2 < 2^120 (with den = 1: sigma < ~2^29.5);
 * outside them EX_USAGE.  Building costs ~1 ms (table) or ~0.1 ms. */
int dp_gauss_new(uint64_t num, uint64_t den, dp_gauss **out, diag *d);
void dp_gauss_free(dp_gauss *g);
/* One sample.  Never fails. */
int64_t dp_gauss_sample(const dp_gauss *g, dprng *r);
/* n samples into out[]. */
void dp_gauss_fill(const dp_gauss *g, dprng *r, int64_t *out, size_t n);
/* "cdt" or "rejection": which method this sampler uses. */
const char *dp_gauss_method(const dp_gauss *g);

/* ---- discrete Laplace Lap_Z(num/den): P(x) proportional to exp(-|x|/t) */

typedef struct dp_laplace dp_laplace;

/* Limits: num, den >= 1, num < 2^62, den < 2^62, t <= 2^50. */
int dp_laplace_new(uint64_t num, uint64_t den, dp_laplace **out, diag *d);
void dp_laplace_free(dp_laplace *l);
int64_t dp_laplace_sample(const dp_laplace *l, dprng *r);
void dp_laplace_fill(const dp_laplace *l, dprng *r, int64_t *out, size_t n);

/* Add noise to n counts: out[i] = in[i] + noise (in and out may alias).
 * EX_DATAERR if a sum would overflow int64 (nothing is written then). */
int dp_gauss_add(const dp_gauss *g, dprng *r, const int64_t *in, size_t n,
                 int64_t *out, diag *d);
int dp_laplace_add(const dp_laplace *l, dprng *r, const int64_t *in, size_t n,
                   int64_t *out, diag *d);

/* ---- accounting (double precision; not part of the sampling path) ---- */

/* rho of the discrete Gaussian mechanism with L2 sensitivity `sens` and
 * sigma^2 = num/den: rho = sens^2 / (2 sigma^2) (CKS 2020, Theorem 14). */
int dp_gauss_rho(double sens, uint64_t num, uint64_t den, double *rho, diag *d);
/* The smallest sigma^2 = *num/den (for the given den) whose rho for
 * sensitivity sens is <= rho. */
int dp_gauss_s2_for_rho(double sens, double rho, uint64_t den, uint64_t *num,
                        diag *d);
/* zCDP composition: *total = sum of rho[0..n). */
int dp_zcdp_compose(const double *rho, size_t n, double *total, diag *d);
/* rho-zCDP => (eps, delta)-DP.  dp_zcdp_eps uses CKS 2020 Corollary 13:
 * delta = inf_{a>1} exp((a-1)(a rho - eps)) / (a-1) * (1 - 1/a)^a, i.e.
 * eps = inf_{a>1} a rho + (ln(1/delta) + a ln(1 - 1/a) - ln(a - 1))/(a-1),
 * minimised numerically over a (any a gives a valid eps, so an imprecise
 * minimum is only conservative); the result is never above the standard
 * bound.  dp_zcdp_eps_standard is Bun & Steinke 2016, Proposition 1.3:
 * eps = rho + 2 sqrt(rho ln(1/delta)). */
int dp_zcdp_eps(double rho, double delta, double *eps, diag *d);
int dp_zcdp_eps_standard(double rho, double delta, double *eps, diag *d);
/* The delta of CKS Corollary 13 for a given eps (minimised over a). */
int dp_zcdp_delta(double rho, double eps, double *delta, diag *d);
/* Pure eps of the discrete Laplace mechanism: sens / t. */
int dp_laplace_eps(double sens, uint64_t num, uint64_t den, double *eps, diag *d);

/* Exact pmfs (double, for tests and documentation).  The Gaussian's
 * normaliser is sum_x exp(-x^2/2s2) = sigma sqrt(2 pi) sum_k
 * exp(-2 pi^2 s2 k^2) (Poisson summation), evaluated to double precision. */
double dp_gauss_pmf(uint64_t num, uint64_t den, int64_t x);
double dp_laplace_pmf(uint64_t num, uint64_t den, int64_t x);

/* Margin of error at `level` (e.g. 0.90): the smallest integer m >= 0
 * with P(|X| <= m) >= level.  Laplace: closed form
 * P(|X| <= m) = 1 - 2 r^(m+1)/(1+r), r = exp(-1/t), exact up to double
 * rounding.  Gaussian: the pmf summed in long double for sigma <= 10^4;
 * above, the continuity-corrected normal P(|N| <= m + 1/2), whose error
 * is below 0.02/s2 <= 2e-10 (Euler-Maclaurin), so m can differ from the
 * exact one only if the exact P(|X| <= m) lies within 2e-10 of `level`. */
int dp_gauss_moe(uint64_t num, uint64_t den, double level, int64_t *m, diag *d);
int dp_laplace_moe(uint64_t num, uint64_t den, double level, int64_t *m,
                   diag *d);

#endif
