/* progress: the exact lines for known bytes and clock values, and the rate
 * limit driven by an injected clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include "core/progress.h"

/* 412 MB of 967 MB after 5 s (clock origin 100 s): 82.4 MB/s, 555 MB left
 * at that rate is 6.735 s, shown rounded up as 0:07. */
static void test_format_known(void **state)
{
	(void)state;
	progress p;
	char buf[128];
	progress_init(&p, "ingest", 967000000, 100.0);
	size_t n = progress_format(&p, 412000000, 105.0, buf, sizeof buf);
	assert_string_equal(buf, "ingest  412.0 MB / 967.0 MB  82.4 MB/s  0:07 left");
	assert_int_equal(n, strlen(buf));
	/* the example of issue 7: 85.2 MB/s with 6 s left */
	progress_init(&p, "ingest", 967000000, 0.0);
	progress_format(&p, 426000000, 5.0, buf, sizeof buf);
	assert_string_equal(buf, "ingest  426.0 MB / 967.0 MB  85.2 MB/s  0:07 left");
	progress_format(&p, 455800000, 5.35, buf, sizeof buf);
	/* 85.196 MB/s; 511.2 MB left takes 6.0003 s: rounds up to 0:07 */
	assert_string_equal(buf, "ingest  455.8 MB / 967.0 MB  85.2 MB/s  0:07 left");
	progress_format(&p, 456000000, 5.35, buf, sizeof buf);
	/* 85.234 MB/s; 511 MB left: 5.995 s -> 0:06 */
	assert_string_equal(buf, "ingest  456.0 MB / 967.0 MB  85.2 MB/s  0:06 left");
}

/* Counted items (protect's tables): 6 of 24 tables after 60 s is 0.10
 * tables/s, 18 left take 180 s. */
static void test_format_items(void **state)
{
	(void)state;
	progress p;
	char buf[128];
	progress_init_items(&p, "protect", "tables", 24, 10.0);
	progress_format(&p, 6, 70.0, buf, sizeof buf);
	assert_string_equal(buf, "protect  6 / 24 tables  0.10 tables/s  3:00 left");
	progress_format(&p, 0, 10.0, buf, sizeof buf);
	assert_string_equal(buf, "protect  0 / 24 tables  -- tables/s  -:-- left");
	progress_format(&p, 24, 250.0, buf, sizeof buf);
	assert_string_equal(buf, "protect  24 / 24 tables  0.10 tables/s  done in 4:00");
	/* no unit given: "items"; no total: no time left */
	progress_init_items(&p, "x", NULL, 0, 0.0);
	progress_format(&p, 3, 2.0, buf, sizeof buf);
	assert_string_equal(buf, "x  3 items  1.50 items/s");
}

static void test_format_edges(void **state)
{
	(void)state;
	progress p;
	char buf[128];
	/* no time elapsed, nothing done: no rate, no estimate */
	progress_init(&p, "seal", 2000000, 7.0);
	progress_format(&p, 0, 7.0, buf, sizeof buf);
	assert_string_equal(buf, "seal  0.0 MB / 2.0 MB  -- MB/s  -:-- left");
	/* finished: elapsed time instead of time left */
	progress_format(&p, 2000000, 9.5, buf, sizeof buf);
	assert_string_equal(buf, "seal  2.0 MB / 2.0 MB  0.8 MB/s  done in 0:03");
	/* unknown total (a pipe): bytes and rate only */
	progress_init(&p, "ingest", 0, 0.0);
	progress_format(&p, 50000000, 2.0, buf, sizeof buf);
	assert_string_equal(buf, "ingest  50.0 MB  25.0 MB/s");
	/* hours: 1 MB/s with 3,725 MB left */
	progress_init(&p, "ingest", 3726000000ULL, 0.0);
	progress_format(&p, 1000000, 1.0, buf, sizeof buf);
	assert_string_equal(buf, "ingest  1.0 MB / 3726.0 MB  1.0 MB/s  1:02:05 left");
	/* a long label is cut at 15 bytes; a short buffer is cut and terminated */
	progress_init(&p, "a-very-long-command-name", 0, 0.0);
	assert_string_equal(p.label, "a-very-long-com");
	char small[8];
	size_t n = progress_format(&p, 0, 0.0, small, sizeof small);
	assert_string_equal(small, "a-very-");
	assert_true(n > sizeof small);
}

/* At most one line per 0.1 s: the first update is due, updates inside the
 * interval are not, and reaching the total is always due, once. */
static void test_rate_limit(void **state)
{
	(void)state;
	progress p;
	char buf[128];
	strcpy(buf, "untouched");
	progress_init(&p, "ingest", 1000, 10.0);
	assert_int_equal(progress_update(&p, 10, 10.0, buf, sizeof buf), 1);
	strcpy(buf, "untouched");
	assert_int_equal(progress_update(&p, 20, 10.05, buf, sizeof buf), 0);
	assert_string_equal(buf, "untouched");
	assert_int_equal(progress_update(&p, 30, 10.099, buf, sizeof buf), 0);
	assert_int_equal(progress_update(&p, 40, 10.10, buf, sizeof buf), 1);
	assert_int_equal(progress_update(&p, 50, 10.15, buf, sizeof buf), 0);
	/* the end is due even inside the interval, and only once */
	assert_int_equal(progress_update(&p, 1000, 10.16, buf, sizeof buf), 1);
	assert_non_null(strstr(buf, "done in 0:01"));
	assert_int_equal(progress_update(&p, 1000, 20.0, buf, sizeof buf), 0);
	assert_int_equal(p.shown, 3);

	/* a simulated 10 s run with an update every millisecond: at most
	 * 10 lines a second (101 = 100 intervals + the first) */
	progress_init(&p, "ingest", 10000000, 0.0);
	int lines = 0;
	for (int ms = 0; ms < 10000; ms++)
		lines += progress_update(&p, (uint64_t)ms * 1000, ms / 1000.0, buf, sizeof buf);
	assert_true(lines >= 95 && lines <= 101);
	lines += progress_update(&p, 10000000, 10.0, buf, sizeof buf);
	assert_string_equal(buf, "ingest  10.0 MB / 10.0 MB  1.0 MB/s  done in 0:10");
	/* a custom interval */
	progress_init(&p, "x", 0, 0.0);
	p.min_interval = 1.0;
	assert_int_equal(progress_update(&p, 1, 0.0, buf, sizeof buf), 1);
	assert_int_equal(progress_update(&p, 2, 0.5, buf, sizeof buf), 0);
	assert_int_equal(progress_update(&p, 3, 1.0, buf, sizeof buf), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_known),
		cmocka_unit_test(test_format_items),
		cmocka_unit_test(test_format_edges),
		cmocka_unit_test(test_rate_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
