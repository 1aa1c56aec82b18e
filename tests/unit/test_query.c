/* Unit tests for privacy/researcher and privacy/query.
 *
 * A warehouse with two hand-written case-level submissions of AUT:
 *   2023-Q4: FX_K1 F Y0T17 SEX AUT (domestic), FX_K2 M Y_GE18 LAB ROU (other
 *            subregion of Europe)
 *   2024-Q1: FX_K1 again (already counted in 2023), FX_K3 F Y_GE18 SEX NGA
 *            (other region), one keyless U U U U.
 * True counts by year x sex: 2023 F 1, M 1; 2024 F 1, U 1; the rest 0.
 * With rho = 10^5 (sigma^2 = 5e-6) the discrete Gaussian is 0 except with
 * probability ~ 2 exp(-10^5): the answer must be the true counts exactly.
 * Then: the same question is served from the store (identical, free), a
 * margin is derived (sums of the stored cells, free), and every refusal
 * (bad signature, expired, revoked, overspend, unknown account) leaves
 * ledger and store unchanged.  moe -> rho is checked against dp_gauss_moe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "aggregator/auditlog.h"
#include "core/text.h"
#include "wh_fixture.h"
#include "privacy/dpsample.h"
#include "privacy/ledger.h"
#include "privacy/query.h"
#include "privacy/researcher.h"

static codelists cl;
static char dir[64];
static unsigned char pk_a[32], sk_a[64], pk_b[32], sk_b[64];

static int setup(void **state)
{
	(void)state;
	char cdir[4096];
	diag d = DIAG_INIT;
	if (sodium_init() < 0)
		return -1;
	int rc = codelists_load(codelists_default_dir(cdir, sizeof cdir), &cl, &d);
	diag_free(&d);
	snprintf(dir, sizeof dir, "/tmp/query.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	crypto_sign_keypair(pk_a, sk_a);
	crypto_sign_keypair(pk_b, sk_b);
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	codelists_free(&cl);
	return fx_rm_tree(dir);
}


static wh *make_wh(const char *name)
{
	char db[128];
	snprintf(db, sizeof db, "%s/%s.db", dir, name);
	wh *w;
	diag d = DIAG_INIT;
	assert_int_equal(wh_open(db, WH_CREATE, &w, &d), 0);
	fx_load_aut(w, dir);
	diag_free(&d);
	return w;
}

/* Sign a request text with sk into a malloc'd buffer and parse it. */
static char *signed_req(const char *text, const unsigned char *sk, req_request *r, size_t *n)
{
	char *s;
	diag d = DIAG_INIT;
	assert_int_equal(req_sign(text, strlen(text), sk, &s, n, &d), 0);
	assert_int_equal(req_parse(s, *n, "req", &cl, 1, r, &d), 0);
	diag_free(&d);
	return s;
}

static int64_t count_rows(wh *w, const char *sql)
{
	return fx_count(wh_db(w), sql);
}

static int ask(wh *w, const char *text, const unsigned char *sk, const char *now, dprng *rng,
               qry_answer *a, diag *d)
{
	req_request r;
	size_t n;
	char *s = signed_req(text, sk, &r, &n);
	int rc = qry_ask(w, &cl, &r, s, n, rng, now, a, d);
	free(s);
	return rc;
}

static void test_answers_cache_derived(void **state)
{
	(void)state;
	wh *w = make_wh("w1");
	diag d = DIAG_INIT;
	sqlite3 *db = wh_db(w);
	int64_t big = 300000 * LEDGER_UNITS_PER_RHO;
	assert_int_equal(rsr_grant(db, "test", "alice", pk_a, big, "2099-12-31", &d), 0);
	assert_int_equal(rsr_grant(db, "test", "bob", pk_b, LEDGER_UNITS_PER_RHO, "2099-12-31", &d), 0);
	dprng *rng;
	assert_int_equal(dprng_new_seeded(42, &rng, &d), 0);
	qry_answer a, b, c;
	assert_int_equal(ask(w, "researcher=alice\nindicator=VIC\ngroup-by=year,sex\nrho=100000\n",
	                     sk_a, "2026-01-01", rng, &a, &d), 0);
	assert_int_equal(a.source, QRY_FRESH);
	assert_int_equal(a.seeded, 1);
	assert_int_equal(a.charged, 100000 * LEDGER_UNITS_PER_RHO);
	assert_int_equal(a.left, 200000 * LEDGER_UNITS_PER_RHO);
	assert_string_equal(a.header, "world,year,sex");
	assert_string_equal(a.body, "001,2023,F,1,0,1,1\n001,2023,M,1,0,1,1\n001,2023,O,0,0,1,0\n"
	                            "001,2023,U,0,0,1,0\n001,2024,F,1,0,1,1\n001,2024,M,0,0,1,0\n"
	                            "001,2024,O,0,0,1,0\n001,2024,U,1,0,1,1\n");
	assert_int_equal(a.n_cells, 8);
	/* the same question from bob, worded otherwise, asking a smaller rho:
	 * the stored answer, free, identical */
	assert_int_equal(ask(w, "indicator=victims\nresearcher=bob\ngroup-by=sex,world,year\n"
	                        "rho=0.5\nnonce=7\n", sk_b, "2026-01-01", rng, &b, &d), 0);
	assert_int_equal(b.source, QRY_CACHED);
	assert_int_equal(b.charged, 0);
	assert_int_equal(b.left, LEDGER_UNITS_PER_RHO);
	assert_string_equal(b.body, a.body);
	assert_string_equal(b.qid, a.qid);
	assert_int_equal(b.answer_id, a.answer_id);
	/* a margin: by sex only, derived = sums over years, free; the margin of a
	 * sum of 2 cells is the normal one, ceil(1.645 sqrt(2 sigma^2)) = 1 */
	assert_int_equal(ask(w, "researcher=bob\nindicator=VIC\ngroup-by=sex\nrho=1\n", sk_b,
	                     "2026-01-01", rng, &c, &d), 0);
	assert_int_equal(c.source, QRY_DERIVED);
	assert_int_equal(c.from_id, a.answer_id);
	assert_int_equal(c.charged, 0);
	assert_int_equal(c.left, LEDGER_UNITS_PER_RHO);
	assert_string_equal(c.body, "001,F,2,1,2,2\n001,M,1,1,2,1\n001,O,0,1,2,0\n001,U,1,1,2,1\n");
	qry_answer_free(&c);
	/* asked again: now stored itself, identical */
	assert_int_equal(ask(w, "researcher=alice\nindicator=VIC\ngroup-by=sex\nrho=1\n", sk_a,
	                     "2026-01-01", rng, &c, &d), 0);
	assert_true(c.source == QRY_CACHED);
	assert_string_equal(c.body, "001,F,2,1,2,2\n001,M,1,1,2,1\n001,O,0,1,2,0\n001,U,1,1,2,1\n");
	qry_answer_free(&c);
	/* the same margin asked more accurately than 2 summed cells of rho 10^5
	 * allow (rho / 2 = 50000 < 60000): fresh, and charged */
	assert_int_equal(ask(w, "researcher=alice\nindicator=VIC\ngroup-by=sex\nrho=60000\n", sk_a,
	                     "2026-01-01", rng, &c, &d), 0);
	assert_int_equal(c.source, QRY_FRESH);
	assert_int_equal(c.charged, 60000 * LEDGER_UNITS_PER_RHO);
	assert_string_equal(c.body, "001,F,2,0,1,2\n001,M,1,0,1,1\n001,O,0,0,1,0\n001,U,1,0,1,1\n");
	qry_answer_free(&c);
	/* a selection: girls and women only, by year, from the year x sex table */
	assert_int_equal(ask(w, "researcher=bob\nindicator=VIC\ngroup-by=year\nfilter=sex:F\nrho=1\n",
	                     sk_b, "2026-01-01", rng, &c, &d), 0);
	assert_int_equal(c.source, QRY_DERIVED);
	assert_int_equal(c.from_id, a.answer_id);
	assert_string_equal(c.body, "001,2023,1,0,1,1\n001,2024,1,0,1,1\n");
	qry_answer_free(&c);
	/* sex:F,M kept by sex, from the same table */
	assert_int_equal(ask(w, "researcher=bob\nindicator=VIC\ngroup-by=sex\nfilter=sex:M,sex:F\n"
	                        "rho=1\n", sk_b, "2026-01-01", rng, &c, &d), 0);
	assert_int_equal(c.source, QRY_DERIVED);
	assert_string_equal(c.body, "001,F,2,1,2,2\n001,M,1,1,2,1\n");
	qry_answer_free(&c);
	/* a geography filter is not a selection of a world table: fresh */
	assert_int_equal(ask(w, "researcher=bob\nindicator=VIC\ngroup-by=year\nfilter=country:AUT\n"
	                        "rho=0.5\n", sk_b, "2026-01-01", rng, &c, &d), 0);
	assert_int_equal(c.source, QRY_FRESH);
	assert_int_equal(c.left, LEDGER_UNITS_PER_RHO / 2);
	qry_answer_free(&c);
	/* citizenship classes and a filter, fresh (different filters) */
	assert_int_equal(ask(w, "researcher=alice\nindicator=VIC\ngroup-by=country,citizenship\n"
	                        "filter=year:2024\nrho=100000\n", sk_a, "2026-01-01", rng, &c, &d), 0);
	assert_int_equal(c.source, QRY_FRESH);
	/* 2024: FX_K3 (NGA, other region) and the keyless unknown; FX_K1 counted in 2023 */
	assert_string_equal(c.body, "AUT,domestic,0,0,1,0\nAUT,samesub,0,0,1,0\nAUT,othersub,0,0,1,0\n"
	                            "AUT,otherreg,1,0,1,1\nAUT,U,1,0,1,1\n");
	qry_answer_free(&c);
	/* CSV: NOT PRIVATE stamp, header, k dropped */
	char *buf = NULL;
	size_t bl = 0;
	FILE *fp = open_memstream(&buf, &bl);
	assert_int_equal(qry_write_csv(&a, fp, &d), 0);
	fclose(fp);
	assert_non_null(strstr(buf, "# NOT PRIVATE"));
	assert_non_null(strstr(buf, "\nworld,year,sex,value,moe_lo,moe_hi\n001,2023,F,1,0,0\n"));
	free(buf);
	/* audit: answer, cached, derived */
	assert_int_equal(count_rows(w, "SELECT count(*) FROM audit WHERE action = 'query.answer'"), 4);
	assert_int_equal(count_rows(w, "SELECT count(*) FROM audit WHERE action = 'query.cached'"), 2);
	assert_int_equal(count_rows(w, "SELECT count(*) FROM audit WHERE action = 'query.derived'"), 3);
	/* a derived answer's audit entry says how accurate its cells are */
	assert_int_equal(count_rows(w, "SELECT count(*) FROM audit WHERE action = 'query.derived' "
	                               "AND detail GLOB '* eff_rho=[0-9]* charged=0 from=[0-9]*'"),
	                 3);
	/* an answer stored before the unclamped values were kept (its body
	 * without the last field) still derives: its sums have no unclamped
	 * value, and their CSV interval is the conservative one (k = 4 cells of
	 * sigma^2 5e-6: both margins round up to 1, moe_lo at most the value).
	 * The store is append-only: its trigger is dropped to write the old
	 * body in place (qry_init, on the next question, makes it again). */
	char *old_body = sqlite3_mprintf("DROP TRIGGER qry_answer_no_update; "
	                                 "UPDATE qry_answer SET body = '001,2023,F,1,0,1\n"
	                                 "001,2023,M,1,0,1\n001,2023,O,0,0,1\n001,2023,U,0,0,1\n"
	                                 "001,2024,F,1,0,1\n001,2024,M,0,0,1\n001,2024,O,0,0,1\n"
	                                 "001,2024,U,1,0,1\n' WHERE id = %lld",
	                                 (long long)a.answer_id);
	assert_int_equal(sqlite3_exec(wh_db(w), old_body, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_free(old_body);
	assert_int_equal(ask(w, "researcher=bob\nindicator=VIC\ngroup-by=year\nrho=1\n", sk_b,
	                     "2026-01-01", rng, &c, &d), 0);
	assert_int_equal(c.source, QRY_DERIVED);
	assert_int_equal(c.from_id, a.answer_id);
	assert_string_equal(c.body, "001,2023,2,1,4\n001,2024,2,1,4\n");
	buf = NULL;
	fp = open_memstream(&buf, &bl);
	assert_int_equal(qry_write_csv(&c, fp, &d), 0);
	fclose(fp);
	assert_non_null(strstr(buf, "\nworld,year,value,moe_lo,moe_hi\n001,2023,2,1,1\n001,2024,2,1,1\n"));
	free(buf);
	qry_answer_free(&c);
	assert_int_equal(count_rows(w, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
	                               "AND name = 'qry_answer_no_update'"), 1);
	qry_answer_free(&a);
	qry_answer_free(&b);
	dprng_free(rng);
	wh_close(w);
	diag_free(&d);
}

static void test_refusals_change_nothing(void **state)
{
	(void)state;
	wh *w = make_wh("w2");
	diag d = DIAG_INIT;
	sqlite3 *db = wh_db(w);
	assert_int_equal(rsr_grant(db, "test", "alice", pk_a, LEDGER_UNITS_PER_RHO / 2, "2030-06-30",
	                           &d), 0);
	assert_int_equal(rsr_grant(db, "test", "bob", pk_b, LEDGER_UNITS_PER_RHO, "2099-12-31", &d), 0);
	assert_int_equal(rsr_revoke(db, "test", "bob", &d), 0);
	dprng *rng;
	assert_int_equal(dprng_new(&rng, &d), 0);
	qry_answer a;
	/* one paid answer, so the refusals below start from a non-trivial state */
	assert_int_equal(ask(w, "researcher=alice\nindicator=VIC\ngroup-by=sex\nrho=0.3\n", sk_a,
	                     "2026-01-01", rng, &a, &d), 0);
	assert_int_equal(a.seeded, 0);
	qry_answer_free(&a);
	int64_t spends = count_rows(w, "SELECT count(*) FROM ledger_spend");
	int64_t answers = count_rows(w, "SELECT count(*) FROM qry_answer");
	int64_t spent = count_rows(w, "SELECT total(rho) FROM ledger_spend");
	struct { const char *text; const unsigned char *sk; const char *now; const char *msg; } c[] = {
		{"researcher=alice\nindicator=VIC\ngroup-by=age\nrho=0.1\n", sk_b, "2026-01-01",
		 "bad signature"},
		{"researcher=alice\nindicator=VIC\ngroup-by=age\nrho=0.1\n", sk_a, "2030-07-01",
		 "expired on 2030-06-30"},
		{"researcher=bob\nindicator=VIC\ngroup-by=age\nrho=0.1\n", sk_b, "2026-01-01",
		 "revoked"},
		{"researcher=carol\nindicator=VIC\ngroup-by=age\nrho=0.1\n", sk_b, "2026-01-01",
		 "no researcher account 'carol'"},
		{"researcher=alice\nindicator=VIC\ngroup-by=age\nrho=0.200000001\n", sk_a, "2026-01-01",
		 "but only 0.2 rho is left"},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		diag_reset(&d);
		assert_int_equal(ask(w, c[i].text, c[i].sk, c[i].now, rng, &a, &d), -1);
		assert_int_equal(d.code, EX_NOPERM);
		if (!strstr(d.msg, c[i].msg))
			fail_msg("case %zu: '%s' lacks '%s'", i, d.msg, c[i].msg);
		assert_null(a.body);
		assert_int_equal(count_rows(w, "SELECT count(*) FROM ledger_spend"), spends);
		assert_int_equal(count_rows(w, "SELECT total(rho) FROM ledger_spend"), spent);
		assert_int_equal(count_rows(w, "SELECT count(*) FROM qry_answer"), answers);
	}
	assert_int_equal(count_rows(w, "SELECT count(*) FROM audit WHERE action = 'query.refused'"), 5);
	/* exactly what is left may be spent (the last day of validity too) */
	diag_reset(&d);
	assert_int_equal(ask(w, "researcher=alice\nindicator=VIC\ngroup-by=age\nrho=0.2\n", sk_a,
	                     "2030-06-30", rng, &a, &d), 0);
	assert_int_equal(a.left, 0);
	qry_answer_free(&a);
	audit_report rep;
	assert_int_equal(audit_verify(db, 0, NULL, &rep, &d), 0);
	assert_int_equal(rep.problem, AUDIT_OK);
	dprng_free(rng);
	wh_close(w);
	diag_free(&d);
}

/* qry_ask_to: the sink sees the complete answer before the commit; a
 * failing sink (a full disk at the answer file) rolls everything back:
 * nothing charged, stored or audited, for a fresh answer and for a stored
 * one; a working sink is called once and the answer commits. */
struct sink_log {
	int calls, fail;
	char body[256];
};

static int test_sink(const qry_answer *a, void *arg, diag *d)
{
	struct sink_log *l = arg;
	l->calls++;
	snprintf(l->body, sizeof l->body, "%s", a->body ? a->body : "");
	return l->fail ? diag_fail(d, EX_IOERR, "answer.csv: no space") : 0;
}

static void test_sink_failure_charges_nothing(void **state)
{
	(void)state;
	wh *w = make_wh("w4");
	diag d = DIAG_INIT;
	sqlite3 *db = wh_db(w);
	assert_int_equal(rsr_grant(db, "test", "alice", pk_a, 300000 * LEDGER_UNITS_PER_RHO,
	                           "2099-12-31", &d), 0);
	dprng *rng;
	assert_int_equal(dprng_new_seeded(7, &rng, &d), 0);
	const char *q = "researcher=alice\nindicator=VIC\ngroup-by=year,sex\nrho=100000\n";
	req_request r;
	size_t n;
	char *s = signed_req(q, sk_a, &r, &n);
	int64_t audit0 = count_rows(w, "SELECT count(*) FROM audit");
	struct sink_log l = {0, 1, ""};
	qry_answer a;
	assert_int_equal(qry_ask_to(w, &cl, &r, s, n, rng, "2026-01-01", test_sink, &l, &a, &d), -1);
	qry_answer_free(&a);
	assert_int_equal(d.code, EX_IOERR);
	assert_string_equal(d.msg, "answer.csv: no space");
	assert_int_equal(l.calls, 1);
	assert_string_equal(l.body, "001,2023,F,1,0,1,1\n001,2023,M,1,0,1,1\n001,2023,O,0,0,1,0\n"
	                            "001,2023,U,0,0,1,0\n001,2024,F,1,0,1,1\n001,2024,M,0,0,1,0\n"
	                            "001,2024,O,0,0,1,0\n001,2024,U,1,0,1,1\n");
	/* nothing stored: the answer store was never even made (its table is
	 * created inside the transaction the failure rolled back) */
	assert_int_equal(count_rows(w, "SELECT count(*) FROM sqlite_master WHERE name = "
	                            "'qry_answer'"), 0);
	assert_int_equal(count_rows(w, "SELECT count(*) FROM ledger_spend"), 0);
	assert_int_equal(count_rows(w, "SELECT count(*) FROM audit"), audit0);
	/* the sink works: called once, charged, stored */
	l.fail = 0;
	l.calls = 0;
	assert_int_equal(qry_ask_to(w, &cl, &r, s, n, rng, "2026-01-01", test_sink, &l, &a, &d), 0);
	assert_int_equal(l.calls, 1);
	assert_int_equal(a.source, QRY_FRESH);
	assert_string_equal(l.body, a.body);
	qry_answer_free(&a);
	assert_int_equal(count_rows(w, "SELECT count(*) FROM qry_answer"), 1);
	assert_int_equal(count_rows(w, "SELECT count(*) FROM ledger_spend"), 1);
	int64_t audit1 = count_rows(w, "SELECT count(*) FROM audit");
	assert_int_equal(audit1, audit0 + 1);
	/* served from the store, the sink fails: no "query.cached" entry */
	l.fail = 1;
	assert_int_equal(qry_ask_to(w, &cl, &r, s, n, rng, "2026-01-01", test_sink, &l, &a, &d), -1);
	qry_answer_free(&a);
	assert_int_equal(l.calls, 2);
	assert_int_equal(count_rows(w, "SELECT count(*) FROM audit"), audit1);
	assert_int_equal(count_rows(w, "SELECT count(*) FROM ledger_spend"), 1);
	free(s);
	dprng_free(rng);
	diag_free(&d);
	wh_close(w);
}

static void test_accounts(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/acct.db", dir);
	wh *w;
	diag d = DIAG_INIT;
	assert_int_equal(wh_open(path, WH_CREATE, &w, &d), 0);
	sqlite3 *db = wh_db(w);
	int64_t half = LEDGER_UNITS_PER_RHO / 2;
	assert_int_equal(rsr_grant(db, "agg", "alice", pk_a, half, "2027-06-30", &d), 0);
	rsr_account a;
	assert_int_equal(rsr_get(db, "alice", &a, &d), 0);
	assert_int_equal(a.total, half);
	assert_int_equal(a.spent, 0);
	assert_string_equal(a.expires, "2027-06-30");
	assert_string_equal(a.revoked_at, "");
	assert_memory_equal(a.public_key, pk_a, 32);
	/* known id, reused key, bad id, bad date: refused, nothing added */
	assert_int_equal(rsr_grant(db, "agg", "alice", pk_b, half, "2027-06-30", &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	diag_reset(&d);
	assert_int_equal(rsr_grant(db, "agg", "other", pk_a, half, "2027-06-30", &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	diag_reset(&d);
	assert_int_equal(rsr_grant(db, "agg", "Bad Id", pk_b, half, "2027-06-30", &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_reset(&d);
	assert_int_equal(rsr_grant(db, "agg", "bob", pk_b, half, "2027-02-30", &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_reset(&d);
	int64_t t, s;
	assert_int_equal(ledger_get(db, "researcher:other", &t, &s, &d), -1);  /* no budget made */
	diag_reset(&d);
	/* active through the expiry day */
	assert_int_equal(rsr_check_active(&a, "2027-06-30T23:59:59Z", &d), 0);
	assert_int_equal(rsr_check_active(&a, "2027-07-01T00:00:00Z", &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	diag_reset(&d);
	/* raise, move the expiry; lowering below the spent is the ledger's refusal */
	assert_int_equal(rsr_raise(db, "agg", "alice", 2 * half, "2028-01-31", &d), 0);
	assert_int_equal(rsr_get(db, "alice", &a, &d), 0);
	assert_int_equal(a.total, 2 * half);
	assert_string_equal(a.expires, "2028-01-31");
	assert_int_equal(ledger_charge(db, "agg", "researcher:alice", "x", half, NULL, NULL, &d), 0);
	assert_int_equal(rsr_raise(db, "agg", "alice", half - 1, NULL, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	diag_reset(&d);
	/* revoke once */
	assert_int_equal(rsr_revoke(db, "agg", "alice", &d), 0);
	assert_int_equal(rsr_revoke(db, "agg", "alice", &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	diag_reset(&d);
	assert_int_equal(rsr_get(db, "alice", &a, &d), 0);
	assert_true(a.revoked_at[0] != 0);
	assert_int_equal(rsr_check_active(&a, "2026-01-01", &d), -1);
	assert_non_null(strstr(d.msg, "revoked"));
	diag_reset(&d);
	assert_int_equal(rsr_get(db, "nobody", &a, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	diag_reset(&d);
	rsr_account *list;
	size_t n;
	assert_int_equal(rsr_list(db, &list, &n, &d), 0);
	assert_int_equal(n, 1);
	free(list);
	/* a grant whose last write fails leaves nothing, not even its budget:
	 * the budget and the account are one transaction (a trigger here makes
	 * the account insert fail after the budget was set) */
	int64_t audit0 = count_rows(w, "SELECT count(*) FROM audit");
	assert_int_equal(sqlite3_exec(db, "CREATE TEMP TRIGGER no_acct BEFORE INSERT ON rsr_account "
	                              "BEGIN SELECT RAISE(ABORT, 'injected'); END", NULL, NULL, NULL),
	                 SQLITE_OK);
	unsigned char pk_c[32], sk_c[64];
	crypto_sign_keypair(pk_c, sk_c);
	assert_int_equal(rsr_grant(db, "agg", "carol", pk_c, half, "2027-06-30", &d), -1);
	/* the trigger's abort: a constraint failure of the insert, in SQLite's
	 * words */
	assert_int_equal(d.code, EX_DATAERR);
	assert_non_null(strstr(d.msg, "injected"));
	diag_reset(&d);
	assert_int_equal(ledger_get(db, "researcher:carol", &t, &s, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	diag_reset(&d);
	assert_int_equal(count_rows(w, "SELECT count(*) FROM audit"), audit0);
	/* and a raise whose account update fails keeps the old total */
	assert_int_equal(sqlite3_exec(db, "CREATE TEMP TRIGGER no_upd BEFORE UPDATE ON rsr_account "
	                              "BEGIN SELECT RAISE(ABORT, 'injected'); END", NULL, NULL, NULL),
	                 SQLITE_OK);
	assert_int_equal(rsr_raise(db, "agg", "alice", 3 * half, "2029-01-31", &d), -1);
	diag_reset(&d);
	assert_int_equal(rsr_get(db, "alice", &a, &d), 0);
	assert_int_equal(a.total, 2 * half);
	assert_string_equal(a.expires, "2028-01-31");
	assert_int_equal(count_rows(w, "SELECT count(*) FROM audit"), audit0);
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER temp.no_acct; DROP TRIGGER temp.no_upd",
	                              NULL, NULL, NULL), SQLITE_OK);
	/* every change audited */
	assert_int_equal(count_rows(w, "SELECT count(*) FROM audit WHERE action = 'researcher.grant'"), 1);
	assert_int_equal(count_rows(w, "SELECT count(*) FROM audit WHERE action = 'researcher.raise'"), 1);
	assert_int_equal(count_rows(w, "SELECT count(*) FROM audit WHERE action = 'researcher.revoke'"), 1);
	wh_close(w);
	diag_free(&d);
}

static void test_rho_for_moe(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	int64_t moes[] = {1, 5, 10, 100};
	for (size_t i = 0; i < 4; i++) {
		int64_t rho, m;
		uint64_t num, den;
		assert_int_equal(qry_rho_for_moe(moes[i], &rho, &d), 0);
		qry_sigma2(rho, &num, &den);
		assert_int_equal(dp_gauss_moe(num, den, 0.90, &m, &d), 0);
		assert_true(m <= moes[i]);
		qry_sigma2(rho - 1, &num, &den);
		assert_int_equal(dp_gauss_moe(num, den, 0.90, &m, &d), 0);
		assert_true(m > moes[i]);      /* the cheapest such rho */
	}
	/* sigma^2 = 1/(2 rho): rho 0.5 -> 1, rho 1/8 -> 4 */
	uint64_t num, den;
	qry_sigma2(LEDGER_UNITS_PER_RHO / 2, &num, &den);
	assert_int_equal(num, 1);
	assert_int_equal(den, 1);
	qry_sigma2(LEDGER_UNITS_PER_RHO / 8, &num, &den);
	assert_int_equal(num, 4);
	assert_int_equal(den, 1);
	diag_free(&d);
}

/* The 90% intervals of answers (qry_interval_of).
 *
 * Known answers: with m95 = 10, m90 = 8 by hand, the lower end of a fresh
 * cell is max(0, E - 8) while that is below t* = 11, then max(11, E - 10);
 * the upper end E + 10.  A derived cell of k = 4 at sigma^2 = 100 (s = 20)
 * with its unclamped sum X: X = 100 is above t* + z90 s = 58.5, so the
 * belt's interval is [100 - 32.9, 100 + 32.9], whole numbers [68, 132]; X =
 * -30 gives [0, t*] = [0, 32]; X = 200 with E = 150 (pushed far) gives
 * [168, 232], widened to hold 150.  Without X (an answer stored before it
 * was kept): moe_hi = ceil(1.645 * 20) = 33, moe_lo = ceil(4 * 10 / sqrt(2
 * pi) + 1.645 * 10 * sqrt(4 (1/2 - 1/(2 pi)))) = ceil(35.17) = 36, at most
 * E.
 *
 * Exact coverage of a fresh cell: for every truth t in 0..300 the chance
 * that [E - moe_lo, E + moe_hi] holds t, E = max(t + Z, 0), summed over
 * the discrete Gaussian's pmf (dp_gauss_pmf, |z| <= 12 sigma): at least
 * 0.90 for every t (the Neyman guarantee) and at most 0.92 at sigma = 20
 * (rho = 0.00125); at sigma^2 = 5 (rho = 0.1, the documentation's example)
 * the integer margins give up to 0.96, which is what the docs say.  No
 * randomness: no false failure.
 *
 * Monte Carlo through the sampler: 20,000 seeded draws (dp_gauss_sample,
 * dprng seed 90) of the clamped release per truth (0, 5, 30, 200) at sigma =
 * 20, coverage within [0.88, 0.93]: the exact figures are 0.90-0.92, so a
 * bound is at least 0.01 away, 4.7 binomial standard errors (0.0021):
 * false failure below 2e-6 per comparison.  Derived sums of k = 4
 * clamped cells at sigma = 20, all four truths 0, all 200, two of each:
 * with the unclamped sum, 20,000 draws each, within [0.88, 0.93] (the same
 * 4.7 standard errors from 0.90 +- 1: false failure below 2e-6 each);
 * without it, 5,000 draws each, at least 0.88 (the bound promises >= 0.90
 * up to its normal approximation; 0.88 is 4.7 standard errors (0.0042)
 * below) and at most 0.97 (it can reach 0.95 when every cell is far from 0
 * or all are 0: the clamping of the summed cells is unknown). */
static double exact_cover(const qry_interval *iv, uint64_t num, uint64_t den, int64_t t,
                          int64_t zmax)
{
	double p = 0;
	for (int64_t z = -zmax; z <= zmax; z++) {
		int64_t E = t + z > 0 ? t + z : 0, lo, hi;
		qry_interval_of(iv, E, 1, NULL, &lo, &hi);
		if (E - lo <= t && t <= E + hi)
			p += dp_gauss_pmf(num, den, z);
	}
	return p;
}

static void test_interval_coverage(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	/* known answers */
	qry_interval hand = {.s2 = 100, .m95 = 10, .m90 = 8};
	int64_t vals[] = {0, 5, 8, 9, 17, 18, 19, 20, 21, 100};
	int64_t want[] = {0, 5, 8, 8, 8, 8, 8, 9, 10, 10};
	for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
		int64_t lo, hi;
		qry_interval_of(&hand, vals[i], 1, NULL, &lo, &hi);
		assert_int_equal(lo, want[i]);
		assert_int_equal(hi, 10);
	}
	int64_t lo, hi, X = 100;
	qry_interval_of(&hand, 105, 4, &X, &lo, &hi);
	assert_int_equal(lo, 105 - 68);
	assert_int_equal(hi, 132 - 105);
	X = -30;
	qry_interval_of(&hand, 5, 4, &X, &lo, &hi);
	assert_int_equal(lo, 5);
	assert_int_equal(hi, 32 - 5);
	X = 200;
	qry_interval_of(&hand, 150, 4, &X, &lo, &hi);
	assert_int_equal(lo, 0);
	assert_int_equal(hi, 232 - 150);
	qry_interval_of(&hand, 100, 4, NULL, &lo, &hi);
	assert_int_equal(lo, 36);
	assert_int_equal(hi, 33);
	qry_interval_of(&hand, 20, 4, NULL, &lo, &hi);
	assert_int_equal(lo, 20);
	assert_int_equal(hi, 33);
	/* exact coverage of a fresh cell */
	struct { int64_t rho; double max; } lv[] = {{1250000, 0.92}, {100000000, 0.96}};
	for (size_t l = 0; l < 2; l++) {
		qry_interval iv;
		uint64_t num, den;
		assert_int_equal(qry_interval_new(lv[l].rho, &iv, &d), 0);
		qry_sigma2(lv[l].rho, &num, &den);
		int64_t zmax = (int64_t)ceil(12 * sqrt(iv.s2));
		double mn = 1, mx = 0;
		for (int64_t t = 0; t <= 300; t++) {
			double p = exact_cover(&iv, num, den, t, zmax);
			mn = p < mn ? p : mn;
			mx = p > mx ? p : mx;
		}
		print_message("rho %lld nano (sigma^2 %g, m95 %lld, m90 %lld): exact coverage "
		              "%.4f-%.4f over t = 0..300\n", (long long)lv[l].rho, iv.s2,
		              (long long)iv.m95, (long long)iv.m90, mn, mx);
		assert_true(mn >= 0.90 - 1e-9);
		assert_true(mx <= lv[l].max);
	}
	/* Monte Carlo through the sampler, sigma = 20 */
	qry_interval iv;
	uint64_t num, den;
	assert_int_equal(qry_interval_new(1250000, &iv, &d), 0);
	qry_sigma2(1250000, &num, &den);
	dp_gauss *g;
	dprng *rng;
	assert_int_equal(dp_gauss_new(num, den, &g, &d), 0);
	assert_int_equal(dprng_new_seeded(90, &rng, &d), 0);
	int64_t ts[] = {0, 5, 30, 200};
	for (size_t i = 0; i < 4; i++) {
		int in = 0, n = 20000;
		for (int r = 0; r < n; r++) {
			int64_t E = ts[i] + dp_gauss_sample(g, rng);
			E = E > 0 ? E : 0;
			qry_interval_of(&iv, E, 1, NULL, &lo, &hi);
			in += E - lo <= ts[i] && ts[i] <= E + hi;
		}
		print_message("fresh cell, t = %lld: coverage %.4f of %d\n", (long long)ts[i],
		              (double)in / n, n);
		assert_true((double)in / n >= 0.88 && (double)in / n <= 0.93);
	}
	int64_t mix[3][4] = {{0, 0, 0, 0}, {200, 200, 200, 200}, {0, 0, 200, 200}};
	for (int known = 1; known >= 0; known--)
		for (size_t i = 0; i < 3; i++) {
			int in = 0, n = known ? 20000 : 5000;
			for (int r = 0; r < n; r++) {
				int64_t E = 0, T = 0, Xs = 0;
				for (int j = 0; j < 4; j++) {
					int64_t e = mix[i][j] + dp_gauss_sample(g, rng);
					E += e > 0 ? e : 0;
					Xs += e;
					T += mix[i][j];
				}
				qry_interval_of(&iv, E, 4, known ? &Xs : NULL, &lo, &hi);
				in += E - lo <= T && T <= E + hi;
			}
			double cov = (double)in / n;
			print_message("derived sum of 4, truths %lld %lld %lld %lld, unclamped sum %s: "
			              "coverage %.4f of %d\n", (long long)mix[i][0], (long long)mix[i][1],
			              (long long)mix[i][2], (long long)mix[i][3], known ? "kept" : "not kept",
			              cov, n);
			assert_true(cov >= 0.88 && cov <= (known ? 0.93 : 0.97));
		}
	dprng_free(rng);
	dp_gauss_free(g);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_cache_derived),
		cmocka_unit_test(test_refusals_change_nothing),
		cmocka_unit_test(test_sink_failure_charges_nothing),
		cmocka_unit_test(test_accounts),
		cmocka_unit_test(test_rho_for_moe),
		cmocka_unit_test(test_interval_coverage),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
