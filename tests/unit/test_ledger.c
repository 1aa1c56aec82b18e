/* ledger: exact parsing and formatting of rho, the (eps, delta) conversion,
 * splits, and the ledger itself on a bare in-memory database holding the
 * audit table: known-answer spends down to exactly zero left, refusals
 * that name the amount requested and left and write nothing, totals that
 * cannot drop below what is spent, the audit entries, the schema's own
 * guards, and a release (privacy/relreg.h) charged in its own transaction
 * and rolled back whole when refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "aggregator/auditlog.h"
#include "privacy/ledger.h"
#include "privacy/relreg.h"
#include "wh_fixture.h"

#define U LEDGER_UNITS_PER_RHO

/* --- values ----------------------------------------------------------------- */

static int64_t parse_ok(const char *s)
{
	diag d = DIAG_INIT;
	int64_t u = -1;
	if (ledger_parse_rho(s, &u, &d) != 0)
		fail_msg("'%s' refused: %s", s, d.msg);
	diag_free(&d);
	return u;
}

static void parse_bad(const char *s, const char *msg_part)
{
	diag d = DIAG_INIT;
	int64_t u = 7;
	if (ledger_parse_rho(s, &u, &d) == 0)
		fail_msg("'%s' accepted as %lld units", s, (long long)u);
	assert_int_equal(d.code, EX_DATAERR);
	assert_int_equal(u, 0);
	if (!strstr(d.msg, msg_part))
		fail_msg("'%s': message '%s' lacks '%s'", s, d.msg, msg_part);
	diag_free(&d);
}

static void test_parse_exact(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("0.5"), 500000000);
	assert_int_equal(parse_ok("1e-3"), 1000000);
	assert_int_equal(parse_ok("2.5E-7"), 250);
	assert_int_equal(parse_ok("+0.25e+1"), 2500000000);
	assert_int_equal(parse_ok("1/8"), 125000000);
	assert_int_equal(parse_ok("2/4"), 500000000);
	assert_int_equal(parse_ok("3/1000000000"), 3);
	assert_int_equal(parse_ok("0.000000001"), 1);
	assert_int_equal(parse_ok("1e-9"), 1);
	assert_int_equal(parse_ok("0.1000000000000000000"), 100000000);
	assert_int_equal(parse_ok("000123.4"), 123400000000);
	assert_int_equal(parse_ok("5."), 5 * U);
	assert_int_equal(parse_ok(".5"), 500000000);
	assert_int_equal(parse_ok("0"), 0);
	assert_int_equal(parse_ok("0e-30"), 0);
	assert_int_equal(parse_ok("1000000"), LEDGER_MAX_UNITS);
	assert_int_equal(parse_ok("1e6"), LEDGER_MAX_UNITS);
	/* the point of the unit: 0.1 + 0.2 is exactly 0.3 */
	assert_int_equal(parse_ok("0.1") + parse_ok("0.2"), parse_ok("0.3"));
	assert_true(0.1 + 0.2 != 0.3); /* ... which it is not in doubles */
	/* ten spends of 0.1 are exactly 1 */
	int64_t s = 0;
	for (int i = 0; i < 10; i++)
		s += parse_ok("0.1");
	assert_int_equal(s, parse_ok("1"));

	parse_bad("1e-10", "never rounds");
	parse_bad("0.0000000015", "never rounds");
	parse_bad("1/3", "never rounds");
	parse_bad("1/0", "division by zero");
	parse_bad("1000000.000000001", "more than 1000000");
	parse_bad("1e7", "more than 1000000");
	parse_bad("99999999999999999999", "more than");
	parse_bad("-1", "not a number");
	parse_bad("", "not a number");
	parse_bad(".", "not a number");
	parse_bad("1e", "not a number");
	parse_bad("1e99999", "not a number");
	parse_bad(" 1", "not a number");
	parse_bad("1 ", "not a number");
	parse_bad("0x10", "not a number");
	parse_bad("nan", "not a number");
	parse_bad("1/-2", "fraction");
	parse_bad("1.5/2", "fraction");
}

static void test_format(void **state)
{
	(void)state;
	static const struct { int64_t u; const char *s; } k[] = {
		{0, "0"}, {1, "0.000000001"}, {300000000, "0.3"}, {1000000000, "1"},
		{1500000000, "1.5"}, {123456789, "0.123456789"}, {LEDGER_MAX_UNITS, "1000000"},
		{-250000000, "-0.25"}};
	for (size_t i = 0; i < sizeof k / sizeof *k; i++) {
		char b[LEDGER_RHO_STR];
		ledger_format_rho(k[i].u, b);
		assert_string_equal(b, k[i].s);
		if (k[i].u >= 0)
			assert_int_equal(parse_ok(b), k[i].u); /* round trip */
	}
}

static void test_from_double(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	int64_t u;
	assert_int_equal(ledger_rho_from_double(0.1, &u, &d), 0);
	assert_int_equal(u, 100000000);
	assert_int_equal(ledger_rho_from_double(0.3, &u, &d), 0);
	assert_int_equal(u, 300000000);
	assert_int_equal(ledger_rho_from_double(1e-9, &u, &d), 0);
	assert_int_equal(u, 1);
	assert_int_equal(ledger_rho_from_double(0.0, &u, &d), 0);
	assert_int_equal(u, 0);
	assert_int_equal(ledger_rho_from_double(strtod("0.123456789", NULL), &u, &d), 0);
	assert_int_equal(u, 123456789);
	/* 0.1 + 0.2 in doubles is 0.30000000000000004: not 0.3, and refused
	 * rather than silently rounded */
	assert_int_equal(ledger_rho_from_double(0.1 + 0.2, &u, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_non_null(strstr(d.msg, "never rounds"));
	diag_reset(&d);
	assert_int_equal(ledger_rho_from_double(1e-10, &u, &d), -1);
	diag_reset(&d);
	assert_int_equal(ledger_rho_from_double(-0.5, &u, &d), -1);
	diag_reset(&d);
	assert_int_equal(ledger_rho_from_double(NAN, &u, &d), -1);
	diag_reset(&d);
	assert_int_equal(ledger_rho_from_double(2e6, &u, &d), -1);
	assert_non_null(strstr(d.msg, "more than"));
	diag_free(&d);
}

static void test_epsilon(void **state)
{
	(void)state;
	/* worked out separately: 1 + 2 sqrt(ln 1e9); 0.5 + 2 sqrt(0.5 ln 1e5) */
	assert_true(fabs(ledger_epsilon(U, 1e-9) - 10.104562776310878) < 1e-12);
	assert_true(fabs(ledger_epsilon(U / 2, 1e-5) - 5.298525912188081) < 1e-12);
	assert_true(ledger_epsilon(0, 1e-9) == 0.0);
	/* more rho, more epsilon; smaller delta, more epsilon */
	assert_true(ledger_epsilon(2, 1e-9) > ledger_epsilon(1, 1e-9));
	assert_true(ledger_epsilon(U, 1e-12) > ledger_epsilon(U, 1e-9));
}

static void test_split(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	char out[LEDGER_SPLIT_MAX + 1];
	assert_int_equal(ledger_split_canon("country:0.1,region:1/5,world/VIC:0e0", parse_ok("0.3"),
	                                    out, sizeof out, &d), 0);
	assert_string_equal(out, "country:0.1,region:0.2,world/VIC:0");
	assert_int_equal(ledger_split_canon(NULL, 5, out, sizeof out, &d), 0);
	assert_string_equal(out, "");
	assert_int_equal(ledger_split_canon("", 5, out, sizeof out, &d), 0);
	assert_string_equal(out, "");
	/* 0.1 + 0.2 is exactly 0.3: no tolerance needed, none given */
	assert_int_equal(ledger_split_canon("a:0.1,b:0.2", parse_ok("0.3") + 1, out, sizeof out, &d),
	                 -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_non_null(strstr(d.msg, "add up to 0.3 rho, not the 0.300000001 rho"));
	static const char *bad[] = {"a:0.1,a:0.2", "a0.3", "a:0.1,", ":0.3", "a b:0.3",
	                            "a:0.1,b:1/3", "a:-0.1,b:0.4", ",a:0.3"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		diag_reset(&d);
		if (ledger_split_canon(bad[i], parse_ok("0.3"), out, sizeof out, &d) == 0)
			fail_msg("split '%s' accepted", bad[i]);
		assert_int_equal(d.code, EX_DATAERR);
	}
	diag_reset(&d);
	ledger_split_canon("a:0.1,a:0.2", parse_ok("0.3"), out, sizeof out, &d);
	assert_non_null(strstr(d.msg, "label 'a' given twice"));
	diag_free(&d);
}

/* --- the ledger --------------------------------------------------------------- */

static int setup(void **state)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, AUDIT_SCHEMA_SQL "PRAGMA foreign_keys = ON;", NULL, NULL,
	                              NULL), SQLITE_OK);
	*state = db;
	return 0;
}

static int teardown(void **state)
{
	sqlite3_close(*state);
	return 0;
}

static int64_t n_audit(sqlite3 *db) { return fx_count(db, "SELECT count(*) FROM audit"); }

static void set_ok(sqlite3 *db, const char *budget, const char *rho)
{
	diag d = DIAG_INIT;
	if (ledger_set_total(db, "test", budget, parse_ok(rho), &d) != 0)
		fail_msg("set %s %s: %s", budget, rho, d.msg);
	diag_free(&d);
}

static void get(sqlite3 *db, const char *budget, int64_t *total, int64_t *spent)
{
	diag d = DIAG_INIT;
	if (ledger_get(db, budget, total, spent, &d) != 0)
		fail_msg("get %s: %s", budget, d.msg);
	diag_free(&d);
}

static int collect(void *ctx, const audit_entry *e)
{
	char *buf = ctx;
	size_t n = strlen(buf);
	snprintf(buf + n, 4096 - n, "%s %s\n", e->action, e->detail);
	return 0;
}

static void test_spend_to_exactly_zero(void **state)
{
	sqlite3 *db = *state;
	diag d = DIAG_INIT;
	int64_t total, spent, id;
	set_ok(db, "releases", "1.0");
	get(db, "releases", &total, &spent);
	assert_int_equal(total, U);
	assert_int_equal(spent, 0);
	assert_int_equal(ledger_charge(db, "test", "releases", "rel1", parse_ok("0.3"),
	                               "country:0.1,region:0.2", &id, &d), 0);
	assert_int_equal(id, 1);
	assert_int_equal(ledger_charge(db, "test", "releases", "rel2", parse_ok("0.7"), NULL, &id,
	                               &d), 0);
	get(db, "releases", &total, &spent);
	assert_int_equal(spent, total); /* exactly all of it, nothing lost to rounding */
	int64_t audit_before = n_audit(db);
	/* one nano-rho more is refused, naming what was asked and what is left */
	assert_int_equal(ledger_charge(db, "test", "releases", "rel3", 1, NULL, NULL, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_non_null(strstr(d.msg, "0.000000001 rho requested for rel3"));
	assert_non_null(strstr(d.msg, "only 0 rho is left"));
	/* and wrote nothing: no spend, no audit entry */
	assert_int_equal(n_audit(db), audit_before);
	ledger_spend *sp;
	size_t n;
	assert_int_equal(ledger_list_spends(db, "releases", &sp, &n, &d), 0);
	assert_int_equal(n, 2);
	assert_string_equal(sp[0].what, "rel1");
	assert_int_equal(sp[0].rho, 300000000);
	assert_string_equal(sp[0].split, "country:0.1,region:0.2");
	assert_string_equal(sp[1].what, "rel2");
	assert_int_equal(sp[1].rho, 700000000);
	assert_string_equal(sp[1].split, "");
	assert_true(sp[0].audit_seq == 2 && sp[1].audit_seq == 3);
	free(sp);
	/* the audit trail: one budget.set, one budget.spend per spend */
	char log[4096] = "";
	assert_int_equal(audit_each(db, 1, 0, collect, log, &d), 0);
	assert_string_equal(log,
	                    "budget.set budget=releases total=1 previous=none spent=0\n"
	                    "budget.spend budget=releases what=rel1 rho=0.3 left=0.7 "
	                    "split=country:0.1,region:0.2\n"
	                    "budget.spend budget=releases what=rel2 rho=0.7 left=0\n");
	audit_report rep;
	assert_int_equal(audit_verify(db, 0, NULL, &rep, &d), 0);
	/* raising the total makes room again */
	set_ok(db, "releases", "1.25");
	diag_reset(&d);
	assert_int_equal(ledger_charge(db, "test", "releases", "rel3", parse_ok("0.26"), NULL,
	                               NULL, &d), -1);
	assert_non_null(strstr(d.msg, "0.26 rho requested for rel3, but only 0.25 rho is left of "
	                       "budget 'releases' (total 1.25)"));
	assert_int_equal(ledger_charge(db, "test", "releases", "rel3", parse_ok("1/4"), NULL, NULL,
	                               &d), 0);
	get(db, "releases", &total, &spent);
	assert_int_equal(spent, parse_ok("1.25"));
	diag_free(&d);
}

static void test_total_not_below_spent(void **state)
{
	sqlite3 *db = *state;
	diag d = DIAG_INIT;
	int64_t total, spent;
	set_ok(db, "b", "1");
	assert_int_equal(ledger_charge(db, "test", "b", "x", parse_ok("0.6"), NULL, NULL, &d), 0);
	int64_t audit_before = n_audit(db);
	assert_int_equal(ledger_set_total(db, "test", "b", parse_ok("0.5"), &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_non_null(strstr(d.msg, "a total of 0.5 rho is below the 0.6 rho already spent"));
	assert_int_equal(n_audit(db), audit_before);
	get(db, "b", &total, &spent);
	assert_int_equal(total, U);
	/* lowering to exactly what is spent is allowed; then nothing is left */
	set_ok(db, "b", "0.6");
	get(db, "b", &total, &spent);
	assert_int_equal(total, spent);
	diag_reset(&d);
	assert_int_equal(ledger_charge(db, "test", "b", "y", 1, NULL, NULL, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	/* a negative or enormous total is a bad value */
	diag_reset(&d);
	assert_int_equal(ledger_set_total(db, "test", "b", -1, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	diag_free(&d);
}

static void test_unknown_budget(void **state)
{
	sqlite3 *db = *state;
	diag d = DIAG_INIT;
	int64_t total, spent;
	/* before the tables exist: nothing to get, nothing listed */
	assert_int_equal(ledger_get(db, "releases", &total, &spent, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	ledger_budget *b;
	size_t n;
	assert_int_equal(ledger_list_budgets(db, &b, &n, &d), 0);
	assert_int_equal(n, 0);
	free(b);
	diag_reset(&d);
	assert_int_equal(ledger_charge(db, "test", "researcher:r1", "q1", 1, NULL, NULL, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_non_null(strstr(d.msg, "no budget named 'researcher:r1'"));
	assert_int_equal(n_audit(db), 0);
	/* refused: not even the ledger's tables were left behind */
	assert_int_equal(fx_count(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE "
	                            "'ledger%'"), 0);
	/* a zero charge against no budget is refused too: no budget, no spending */
	diag_reset(&d);
	assert_int_equal(ledger_charge(db, "test", "nobody", "q1", 0, NULL, NULL, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	/* malformed names are usage errors */
	diag_reset(&d);
	assert_int_equal(ledger_charge(db, "test", "a b", "q1", 1, NULL, NULL, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_reset(&d);
	assert_int_equal(ledger_set_total(db, "test", "", 1, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_free(&d);
}

static void test_charge_tx(void **state)
{
	sqlite3 *db = *state;
	diag d = DIAG_INIT;
	set_ok(db, "releases", "0.5");
	/* outside a transaction: a programming error */
	assert_int_equal(ledger_charge_tx(db, "releases", "x", 1, NULL, 1, NULL, &d), -1);
	assert_int_equal(d.code, EX_SOFTWARE);
	/* inside one: charged with the caller's audit entry, visible after commit */
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	int64_t seq, id;
	assert_int_equal(audit_append(db, "test", "query.answer", "id=q1", &seq, &d), 0);
	assert_int_equal(ledger_charge_tx(db, "releases", "q1", parse_ok("0.5"), "a:0.25,b:0.25",
	                                  seq, &id, &d), 0);
	/* a second charge in the same transaction sees the first */
	diag_reset(&d);
	assert_int_equal(ledger_charge_tx(db, "releases", "q2", 1, NULL, seq, NULL, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	ledger_spend *sp;
	size_t n;
	assert_int_equal(ledger_list_spends(db, NULL, &sp, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sp[0].audit_seq, seq);
	assert_int_equal(sp[0].id, id);
	free(sp);
	/* a caller's rollback takes the spend with it */
	assert_int_equal(ledger_set_total(db, "test", "releases", U, &d), 0);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(audit_append(db, "test", "query.answer", "id=q3", &seq, &d), 0);
	assert_int_equal(ledger_charge_tx(db, "releases", "q3", parse_ok("0.1"), NULL, seq, NULL,
	                                  &d), 0);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	int64_t total, spent;
	get(db, "releases", &total, &spent);
	assert_int_equal(spent, parse_ok("0.5"));
	diag_free(&d);
}

/* The schema refuses, on its own, what the code never does. */
static void test_schema_guards(void **state)
{
	sqlite3 *db = *state;
	set_ok(db, "b", "1");
	diag d = DIAG_INIT;
	assert_int_equal(ledger_charge(db, "test", "b", "x", parse_ok("0.5"), NULL, NULL, &d), 0);
	static const char *bad[] = {
		"INSERT INTO ledger_spend(budget, what, rho, split, ts, audit_seq) "
		"VALUES('b', 'y', 500000001, '', 'now', 1)",
		"INSERT INTO ledger_spend(budget, what, rho, split, ts, audit_seq) "
		"VALUES('nobudget', 'y', 1, '', 'now', 1)",
		"INSERT INTO ledger_spend(budget, what, rho, split, ts, audit_seq) "
		"VALUES('b', 'y', -1, '', 'now', 1)",
		"UPDATE ledger_spend SET rho = 0",
		"DELETE FROM ledger_spend",
		"DELETE FROM ledger_budget",
		"UPDATE ledger_budget SET total = 400000000",
		"UPDATE ledger_budget SET name = 'c'"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (sqlite3_exec(db, bad[i], NULL, NULL, NULL) == SQLITE_OK)
			fail_msg("accepted: %s", bad[i]);
	int64_t total, spent;
	get(db, "b", &total, &spent);
	assert_int_equal(total, U);
	assert_int_equal(spent, parse_ok("0.5"));
	/* exactly the rest is fine even by hand */
	assert_int_equal(sqlite3_exec(db, "INSERT INTO ledger_spend(budget, what, rho, split, ts, "
	                              "audit_seq) VALUES('b', 'y', 500000000, '', 'now', 1)",
	                              NULL, NULL, NULL), SQLITE_OK);
	diag_free(&d);
}

static void test_init_idempotent(void **state)
{
	sqlite3 *db = *state;
	diag d = DIAG_INIT;
	assert_int_equal(ledger_init(db, &d), 0);
	set_ok(db, "b", "2");
	assert_int_equal(ledger_init(db, &d), 0);
	int64_t total, spent;
	get(db, "b", &total, &spent);
	assert_int_equal(total, 2 * U);
	ledger_budget *b;
	size_t n;
	set_ok(db, "a", "1e-9");
	assert_int_equal(ledger_list_budgets(db, &b, &n, &d), 0);
	assert_int_equal(n, 2);
	assert_string_equal(b[0].name, "a");
	assert_int_equal(b[0].total, 1);
	assert_string_equal(b[1].name, "b");
	free(b);
	diag_free(&d);
}

/* --- releases charged through the register ------------------------------------- */

static void test_relreg_charged(void **state)
{
	sqlite3 *db = *state;
	diag d = DIAG_INIT;
	set_ok(db, "releases", "1");
	relreg_info r = {.name = "dp2024", .method = "dp", .params = "seed=none", .as_of_seq = 1,
	                 .rho = 0.75, .private_ = 1, .outputs = "release.csv:ab",
	                 .budget = "releases", .split = "country:0.5,region:0.25"};
	int64_t id;
	assert_int_equal(relreg_record(db, "protect", &r, &id, &d), 0);
	ledger_spend *sp;
	size_t n;
	assert_int_equal(ledger_list_spends(db, "releases", &sp, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_string_equal(sp[0].what, "dp2024");
	assert_int_equal(sp[0].rho, 750000000);
	assert_string_equal(sp[0].split, "country:0.5,region:0.25");
	/* the spend points at the release's own audit entry */
	assert_int_equal(fx_count(db, "SELECT count(*) FROM audit a JOIN ledger_spend s ON "
	                            "s.audit_seq = a.seq WHERE a.action = 'release.create' AND "
	                            "a.detail LIKE '%name=dp2024 %budget=releases "
	                            "split=country:0.5,region:0.25'"), 1);
	free(sp);
	/* over budget: refused, and the release row goes with it */
	int64_t audit_before = n_audit(db);
	r.name = "dp2025";
	r.rho = 0.5;
	r.split = NULL;
	assert_int_equal(relreg_record(db, "protect", &r, &id, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_non_null(strstr(d.msg, "0.5 rho requested for dp2025, but only 0.25 rho is left"));
	int exists = 1;
	assert_int_equal(relreg_exists(db, "dp2025", &exists, &d), 0);
	assert_int_equal(exists, 0);
	assert_int_equal(n_audit(db), audit_before);
	assert_int_equal(fx_count(db, "SELECT count(*) FROM ledger_spend"), 1);
	assert_int_equal(fx_count(db, "SELECT count(*) FROM release"), 1);
	/* an unknown budget refuses the release too */
	diag_reset(&d);
	r.budget = "elsewhere";
	r.rho = 0.25;
	assert_int_equal(relreg_record(db, "protect", &r, &id, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_int_equal(fx_count(db, "SELECT count(*) FROM release"), 1);
	/* a rho the ledger cannot hold exactly, or a split that does not add up */
	diag_reset(&d);
	r.budget = "releases";
	r.rho = 1e-10;
	assert_int_equal(relreg_record(db, "protect", &r, &id, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	diag_reset(&d);
	r.rho = 0.25;
	r.split = "a:0.2";
	assert_int_equal(relreg_record(db, "protect", &r, &id, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	assert_int_equal(n_audit(db), audit_before);
	/* exactly the rest: accepted */
	r.split = NULL;
	assert_int_equal(relreg_record(db, "protect", &r, &id, &d), 0);
	int64_t total, spent;
	get(db, "releases", &total, &spent);
	assert_int_equal(spent, total);
	/* a release without a budget is not charged (the old behaviour) */
	relreg_info plain = {.name = "kanon1", .method = "kanon", .as_of_seq = 1, .private_ = 1};
	assert_int_equal(relreg_record(db, "protect", &plain, &id, &d), 0);
	assert_int_equal(fx_count(db, "SELECT count(*) FROM ledger_spend"), 2);
	assert_int_equal(fx_count(db, "SELECT count(*) FROM release"), 3);
	diag_free(&d);
}

/* A refused release on a fresh warehouse leaves no trace, not even the
 * empty tables of the register and the ledger: they are made inside the
 * transaction that first writes them, and the readers do not make them. */
static void test_refused_leaves_no_table(void **state)
{
	sqlite3 *db = *state;
	diag d = DIAG_INIT;
	const char *tables = "SELECT count(*) FROM sqlite_master WHERE name IN "
	                     "('release', 'ledger_budget', 'ledger_spend')";
	int64_t before = fx_count(db, "SELECT count(*) FROM sqlite_master");
	int exists = 1;
	relreg_entry *e = NULL;
	size_t n = 9;
	assert_int_equal(relreg_exists(db, "x", &exists, &d), 0);
	assert_int_equal(exists, 0);
	assert_int_equal(relreg_list(db, &e, &n, &d), 0);
	assert_int_equal(n, 0);
	relreg_info r = {.name = "dp1", .method = "dp", .as_of_seq = 1, .rho = 0.5, .private_ = 1,
	                 .budget = "nothere"};
	int64_t id;
	assert_int_equal(relreg_record(db, "protect", &r, &id, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_int_equal(fx_count(db, tables), 0);
	assert_int_equal(fx_count(db, "SELECT count(*) FROM sqlite_master"), before);
	assert_int_equal(n_audit(db), 0);
	/* the first release that succeeds makes the register */
	relreg_info plain = {.name = "k1", .method = "kanon", .as_of_seq = 1, .private_ = 1};
	assert_int_equal(relreg_record(db, "protect", &plain, &id, &d), 0);
	assert_int_equal(fx_count(db, "SELECT count(*) FROM release"), 1);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_exact),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_from_double),
		cmocka_unit_test(test_epsilon),
		cmocka_unit_test(test_split),
		cmocka_unit_test_setup_teardown(test_spend_to_exactly_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_total_not_below_spent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_charge_tx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_guards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relreg_charged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_leaves_no_table, setup, teardown),
	};
	return cmocka_run_group_tests_name("ledger", tests, NULL, NULL);
}
