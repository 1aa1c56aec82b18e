/* Allocation failure inside GLPK: cell suppression and its audit must fail
 * cleanly (-1, EX_OSERR, a message naming the LP solver) when GLPK runs out
 * of memory, instead of GLPK's abort().
 *
 * GLPK is a shared library: -Wl,--wrap (test_alloc) does not reach its
 * malloc calls.  It has its own allocator with a memory limit instead
 * (glp_mem_limit, in MiB; every GLPK allocation goes through it and
 * exceeding the limit is the same fatal error as malloc returning NULL).
 * To fail GLPK at a chosen point the test fills the limit with one block of
 * its own (glp_alloc) and leaves `slack` bytes free: GLPK's first allocation
 * that does not fit fails.  The slack is swept from 0 to the peak the
 * operation needs, so failures land in every phase (problem set-up, the
 * reference point's MIP, each secondary-suppression MIP, the attacker's
 * simplex runs in supp_secondary and in the audit).
 *
 * Each run must return 0 (enough memory) or -1 with EX_OSERR and "the LP
 * solver failed" in the message; it must not crash, print (GLPK's message
 * is captured into the diag), or leak (the valgrind and ASan runs check).
 * Under valgrind (TIPSTAT_UNDER_VALGRIND) fewer slack values are tried. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glpk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "privacy/audit.h"
#include "privacy/suppress.h"
#include "tests/unit/rand_tables.h"

/* GLPK's documented recovery (glp_free_env after its error hook) frees
 * every block of GLPK's own allocator, but the LU factorisation grows one
 * work array with plain realloc outside it (seen under glp_simplex): that
 * block is lost when GLPK fails mid-factorisation.  It is GLPK's, not
 * ours, so LeakSanitizer (make asan) is told to ignore leaks from inside
 * libglpk; valgrind gets the same rule in scripts/valgrind.supp. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libglpk.so\n";
}

typedef struct tcase {
	const char *name;
	uint64_t seed;
	size_t dims;
	unsigned p_cens; /* censored [0, 4] cells: the reference point needs a MIP */
	int method;
	int audit_only;  /* the limit only for the audit (after protecting) */
} tcase;

/* Arms the limit (glp_mem_limit + filler) for the rest of a run. */
typedef struct armer {
	int limit_mib;
	size_t slack;
} armer;

static size_t glpk_in_use(void)
{
	size_t total;
	glp_mem_usage(NULL, NULL, &total, NULL);
	return total;
}

static void arm(const armer *a)
{
	if (!a)
		return;
	size_t limit = (size_t)a->limit_mib << 20;
	glp_mem_limit(a->limit_mib);
	/* the filler, in blocks of at most 1 MiB (glp_alloc takes int
	 * sizes), each with GLPK's block header on top: stop 256 bytes
	 * short of limit - slack */
	for (;;) {
		size_t used = glpk_in_use();
		if (used + a->slack + 256 >= limit)
			break;
		size_t n = limit - used - a->slack - 256;
		if (n > (1u << 20))
			n = 1u << 20;
		assert_non_null(glp_alloc(1, (int)n));
	}
}

/* Build the table, protect it, audit it; the limit from before the
 * protection or only for the audit. */
static int op(const tcase *tc, const armer *a, diag *d)
{
	if (!tc->audit_only)
		arm(a);
	rt_rng rng = {tc->seed};
	sdct_table t;
	int rc = rt_build(&t, &rng, tc->dims, 25, 10, tc->p_cens, d);
	if (rc)
		return rc;
	rc = supp_primary(&t, NULL, NULL, d);
	supp_opts o;
	supp_opts_default(&o);
	o.method = tc->method;
	if (!rc)
		rc = supp_secondary(&t, &o, NULL, d);
	if (!rc) {
		if (tc->audit_only)
			arm(a);
		sdca_report r;
		rc = sdca_run(&t, NULL, &r, d);
		sdca_report_free(&r);
	}
	sdct_free(&t);
	return rc;
}

/* Returns how many of the three GLPK users were hit. */
static int sweep(const tcase *tc)
{
	/* the run with no limit: it succeeds, and its peak */
	glp_free_env();
	diag d = DIAG_INIT;
	size_t base = glpk_in_use();
	if (tc->audit_only) {
		/* the peak of the audit alone */
		rt_rng rng = {tc->seed};
		sdct_table t;
		supp_opts o;
		supp_opts_default(&o);
		o.method = tc->method;
		assert_int_equal(rt_build(&t, &rng, tc->dims, 25, 10, tc->p_cens, &d), 0);
		assert_int_equal(supp_primary(&t, NULL, NULL, &d), 0);
		assert_int_equal(supp_secondary(&t, &o, NULL, &d), 0);
		glp_free_env();
		base = glpk_in_use();
		sdca_report r;
		assert_int_equal(sdca_run(&t, NULL, &r, &d), 0);
		sdca_report_free(&r);
		sdct_free(&t);
	} else if (op(tc, NULL, &d))
		fail_msg("%s: fails without a memory limit: %s", tc->name, d.msg);
	diag_free(&d);
	size_t peak;
	glp_mem_usage(NULL, NULL, NULL, &peak);
	peak -= base;
	glp_free_env();
	assert_true(peak > 1000); /* GLPK was used */

	const char *vg = getenv("TIPSTAT_UNDER_VALGRIND");
	int steps = vg && *vg ? 12 : 60;
	int limit_mib = (int)(peak >> 20) + 2;
	int failed = 0, passed = 0, by_sdct = 0, by_supp = 0, by_audit = 0;
	for (int s = 0; s <= steps + 2; s++) {
		/* slack: 0, then spread over (0, peak], then beyond the peak */
		size_t slack = s <= steps ? peak / (size_t)steps * (size_t)s : peak + 4096u * (size_t)s;
		glp_free_env();
		armer am = {limit_mib, slack};
		diag_init(&d, 4);
		int rc = op(tc, &am, &d);
		if (rc) {
			if (d.code != EX_OSERR || !strstr(d.msg, "the LP solver failed") ||
			    !strstr(d.msg, "memory"))
				fail_msg("%s, slack %zu of %zu: code %d, '%s'", tc->name, slack, peak, d.code,
				         d.msg);
			failed++;
			by_sdct += !strncmp(d.msg, "sdc table:", 10);
			by_supp += !strncmp(d.msg, "suppress:", 9);
			by_audit += !strncmp(d.msg, "audit:", 6);
		} else {
			passed++;
		}
		diag_free(&d);
		glp_free_env(); /* the filler (and, after a failure, nothing else) */
		if (s > steps)
			assert_int_equal(rc, 0); /* room for the whole peak: no failure */
	}
	print_message("%s: GLPK peak %zu bytes; %d runs failed cleanly (in sdc table %d, suppress %d, "
	              "audit %d), %d had room\n",
	              tc->name, peak, failed, by_sdct, by_supp, by_audit, passed);
	assert_true(failed >= steps / 2);
	assert_int_equal(by_sdct + by_supp + by_audit, failed);
	return (by_sdct > 0) + (by_supp > 0) + (by_audit > 0);
}

static void test_glpk_method(void **state)
{
	(void)state;
	/* the reference point's MIP is the peak here: it takes the failures */
	static const tcase tc = {"supp GLPK + audit, 2-D with censored cells", 0x1234567ull, 2, 30,
	                         SUPP_GLPK, 0};
	assert_true(sweep(&tc) >= 1);
	/* without censored cells the audit's own LPs take them */
	static const tcase ta = {"audit alone, 2-D, no censored cells", 0x1234567ull, 2, 0,
	                         SUPP_GLPK, 1};
	assert_true(sweep(&ta) >= 1);
}

static void test_glpk_method_3d(void **state)
{
	(void)state;
	static const tcase tc = {"supp GLPK + audit, 3-D", 0x9e3779b97f4a7c15ull, 3, 5, SUPP_GLPK, 0};
	assert_int_equal(sweep(&tc), 3); /* the reference MIP, suppression, audit */
}

static void test_heuristic(void **state)
{
	(void)state;
	static const tcase tc = {"supp heuristic + audit, 2-D", 0x2545f4914f6cdd1dull, 2, 5,
	                         SUPP_HEURISTIC, 0};
	assert_true(sweep(&tc) >= 1); /* its only GLPK user is the attacker */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glpk_method),
		cmocka_unit_test(test_glpk_method_3d),
		cmocka_unit_test(test_heuristic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
