/* k-anonymity: known answers on a hand-made table, and an independent
 * checker (a plain O(n^2) comparison, not the module's hash table) on
 * random data: every published class has >= k records and >= l distinct
 * sensitive values, and suppression stays within its cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "privacy/kanon.h"

/* age: 4 bands (0:0-9, 1:10-17, 2:18-39, 3:40+) -> 2 groups -> any */
static const uint32_t age_l1[] = {0, 0, 1, 1};
static const uint32_t age_l2[] = {0, 0, 0, 0};
/* country: 4 countries -> 2 subregions -> world */
static const uint32_t geo_l1[] = {0, 0, 1, 1};
static const uint32_t geo_l2[] = {0, 0, 0, 0};

static void hiers(kanon_hier h[2])
{
	memset(h, 0, 2 * sizeof *h);
	h[0].name = "age";
	h[0].n_values = 4;
	h[0].n_levels = 3;
	h[0].gen[1] = age_l1;
	h[0].gen[2] = age_l2;
	h[1].name = "country";
	h[1].n_values = 4;
	h[1].n_levels = 3;
	h[1].gen[1] = geo_l1;
	h[1].gen[2] = geo_l2;
}

/* Independent checker: for each published record count the published
 * records with the same generalised tuple, and their distinct sensitive
 * values, by direct comparison. */
static void check_release(const uint32_t *qi, const uint32_t *sens, size_t n,
                          const kanon_hier *h, size_t nq, const kanon_result *r,
                          unsigned k, unsigned l)
{
	for (size_t a = 0; a < n; a++) {
		if (!r->keep[a])
			continue;
		size_t same = 0;
		uint64_t seen = 0;
		for (size_t b = 0; b < n; b++) {
			if (!r->keep[b])
				continue;
			int eq = 1;
			for (size_t q = 0; q < nq; q++) {
				uint32_t va = h[q].gen[r->levels[q]] && r->levels[q] ? h[q].gen[r->levels[q]][qi[a * nq + q]] : qi[a * nq + q];
				uint32_t vb = h[q].gen[r->levels[q]] && r->levels[q] ? h[q].gen[r->levels[q]][qi[b * nq + q]] : qi[b * nq + q];
				eq &= va == vb;
			}
			if (eq) {
				same++;
				if (sens)
					seen |= 1ULL << sens[b];
			}
		}
		assert_true(same >= k);
		if (l > 1)
			assert_true((unsigned)__builtin_popcountll(seen) >= l);
	}
}

static void test_known_answer(void **state)
{
	(void)state;
	kanon_hier h[2];
	hiers(h);
	/* 12 records: (age band, country).  At level (0,0) classes are
	 * small; generalising country to subregion gives classes
	 * {band0,sub0}=3, {band1,sub0}=3, {band2,sub1}=3, {band3,sub1}=3,
	 * which is 3-anonymous with DM = 4*9 = 36.  Generalising age instead
	 * gives {child,c0}=3,{child,c1}=3,{adult,c2}=3,{adult,c3}=3: also
	 * DM 36 with the same precision loss (1/2 of one QI), so the tie goes
	 * to the first node in lattice order: age level 1 (age varies fastest). */
	const uint32_t qi[] = {0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 1,
	                       2, 2, 2, 2, 3, 2, 3, 3, 3, 3, 2, 3};
	kanon_params p = {.k = 3, .l = 0, .max_suppress = 0};
	kanon_result r;
	diag d;
	diag_init(&d, 10);
	assert_int_equal(kanon_run(qi, NULL, 12, h, 2, &p, &r, &d), 0);
	assert_int_equal(r.levels[0], 1);
	assert_int_equal(r.levels[1], 0);
	assert_int_equal(r.n_suppressed, 0);
	assert_int_equal(r.n_classes, 4);
	assert_int_equal(r.min_class, 3);
	assert_true(r.discernibility == 36.0);
	assert_true(r.precision_loss == 0.25);
	assert_int_equal(r.nodes_evaluated, 9);
	check_release(qi, NULL, 12, h, 2, &r, 3, 0);
	kanon_result_free(&r);

	/* k = 7: only classes of 6 exist at level (1,1)/(2,0)...; the full
	 * generalisation (2,2) gives one class of 12 (DM 144); (1,2) and (2,1)
	 * give two classes of 6 -> not 7-anonymous; so (2,2) or suppression.
	 * With max_suppress = 0 the answer is one class: DM 144. */
	p.k = 7;
	assert_int_equal(kanon_run(qi, NULL, 12, h, 2, &p, &r, &d), 0);
	assert_int_equal(r.n_classes, 1);
	assert_true(r.discernibility == 144.0);
	check_release(qi, NULL, 12, h, 2, &r, 7, 0);
	kanon_result_free(&r);
	diag_free(&d);
}

static void test_suppression_and_failure(void **state)
{
	(void)state;
	kanon_hier h[2];
	hiers(h);
	/* 10 records in one class plus one outlier (band 3, country 3) */
	uint32_t qi[22];
	for (int i = 0; i < 10; i++) {
		qi[2 * i] = 0;
		qi[2 * i + 1] = 0;
	}
	qi[20] = 3;
	qi[21] = 3;
	kanon_params p = {.k = 5, .max_suppress = 1};
	kanon_result r;
	diag d;
	diag_init(&d, 10);
	assert_int_equal(kanon_run(qi, NULL, 11, h, 2, &p, &r, &d), 0);
	/* suppressing the outlier at level (0,0): DM = 100 + 1*11 = 111,
	 * better than one class of 11 (DM 121) */
	assert_int_equal(r.levels[0], 0);
	assert_int_equal(r.levels[1], 0);
	assert_int_equal(r.n_suppressed, 1);
	assert_int_equal(r.keep[10], 0);
	assert_true(r.discernibility == 111.0);
	check_release(qi, NULL, 11, h, 2, &r, 5, 0);
	kanon_result_free(&r);
	/* k larger than the data: no node works */
	p.k = 12;
	p.max_suppress = 0;
	assert_int_equal(kanon_run(qi, NULL, 11, h, 2, &p, &r, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	diag_free(&d);
}

static void test_l_diversity(void **state)
{
	(void)state;
	kanon_hier h[2];
	hiers(h);
	/* two classes of 4 at full detail; class A has one sensitive value */
	const uint32_t qi[] = {0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2};
	const uint32_t sens[] = {5, 5, 5, 5, 1, 2, 3, 1};
	kanon_params p = {.k = 4, .l = 2, .max_suppress = 0};
	kanon_result r;
	diag d;
	diag_init(&d, 10);
	assert_int_equal(kanon_run(qi, sens, 8, h, 2, &p, &r, &d), 0);
	/* must merge A with B: a single class of 8 with 4 distinct values */
	assert_int_equal(r.n_classes, 1);
	check_release(qi, sens, 8, h, 2, &r, 4, 2);
	kanon_result_free(&r);
	/* allowing 4 suppressions keeps B at full detail instead */
	p.max_suppress = 4;
	assert_int_equal(kanon_run(qi, sens, 8, h, 2, &p, &r, &d), 0);
	assert_int_equal(r.n_suppressed, 4);
	assert_int_equal(r.levels[0], 0);
	assert_int_equal(r.levels[1], 0);
	check_release(qi, sens, 8, h, 2, &r, 4, 2);
	kanon_result_free(&r);
	diag_free(&d);
}

static uint64_t rng_state = 0x1234567;
static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static void test_random_property(void **state)
{
	(void)state;
	kanon_hier h[2];
	hiers(h);
	diag d;
	diag_init(&d, 10);
	for (int trial = 0; trial < 50; trial++) {
		size_t n = 20 + rnd(200);
		uint32_t *qi = malloc(n * 2 * sizeof *qi), *sens = malloc(n * sizeof *sens);
		for (size_t i = 0; i < n; i++) {
			qi[2 * i] = rnd(4);
			qi[2 * i + 1] = rnd(4);
			sens[i] = rnd(6);
		}
		kanon_params p = {.k = 2 + rnd(8), .l = rnd(3), .max_suppress = rnd(10)};
		kanon_result r;
		if (kanon_run(qi, sens, n, h, 2, &p, &r, &d) == 0) {
			assert_true(r.n_suppressed <= p.max_suppress);
			size_t kept = 0;
			for (size_t i = 0; i < n; i++)
				kept += r.keep[i];
			assert_int_equal(kept, r.n_published);
			check_release(qi, sens, n, h, 2, &r, p.k, p.l);
			kanon_result_free(&r);
		}
		free(qi);
		free(sens);
	}
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_suppression_and_failure),
		cmocka_unit_test(test_l_diversity),
		cmocka_unit_test(test_random_property),
	};
	return cmocka_run_group_tests_name("kanon", tests, NULL, NULL);
}
