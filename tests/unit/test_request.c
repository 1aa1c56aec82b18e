/* Unit tests for privacy/request: parsing, canonical questions, refusals
 * with positions, and the Ed25519 signature round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "privacy/request.h"

static codelists cl;

static int setup(void **state)
{
	(void)state;
	char cdir[4096];
	diag d = DIAG_INIT;
	int rc = codelists_load(codelists_default_dir(cdir, sizeof cdir), &cl, &d);
	diag_free(&d);
	return rc != 0 || sodium_init() < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	codelists_free(&cl);
	return 0;
}

static int parse(const char *text, req_request *r, diag *d)
{
	return req_parse(text, strlen(text), "req", &cl, 0, r, d);
}

/* The first positioned error, formatted. */
static const char *first(const diag *d, char *buf, size_t n)
{
	assert_true(d->n_items > 0);
	diag_format(&d->items[0], buf, n);
	return buf;
}

static void test_canonical_question(void **state)
{
	(void)state;
	req_request a, b;
	diag d = DIAG_INIT;
	assert_int_equal(parse("researcher=alice\nindicator=victims\n# a comment\n\n"
	                       "group-by=sex,year,region\nfilter=sex:F,form:LAB,sex:F\nrho=1/8\n",
	                       &a, &d), 0);
	assert_string_equal(a.indicator, "VIC");
	assert_int_equal(a.rho, 125000000);
	assert_int_equal(a.geo, REQ_GEO_REGION);
	assert_int_equal(a.n_filters, 2);       /* sex:F once */
	char q[REQ_QUESTION_MAX], qa[REQ_QID_HEX], qb[REQ_QID_HEX];
	assert_int_equal(req_question(&a, q, sizeof q, qa, &d), 0);
	assert_string_equal(q, "indicator=VIC;group-by=region,year,sex;filter=sex:F,form:LAB");
	/* another researcher, other order, other cost, CRLF: the same question */
	assert_int_equal(parse("indicator=VIC\r\nrho=0.5\r\nresearcher=bob\r\n"
	                       "filter=form:LAB,sex:F\r\ngroup-by=region,sex,year\r\nnonce=x1\r\n",
	                       &b, &d), 0);
	char q2[REQ_QUESTION_MAX];
	assert_int_equal(req_question(&b, q2, sizeof q2, qb, &d), 0);
	assert_string_equal(q, q2);
	assert_string_equal(qa, qb);
	assert_int_equal(strlen(qa), 16);
	/* no geography: world; moe instead of rho */
	assert_int_equal(parse("researcher=c\nindicator=VIC\nmoe=5\n", &b, &d), 0);
	assert_int_equal(req_question(&b, q2, sizeof q2, NULL, &d), 0);
	assert_string_equal(q2, "indicator=VIC;group-by=world");
	assert_int_equal(b.moe, 5);
	assert_int_equal(b.rho, 0);
	diag_free(&d);
}

static void expect_refused(const char *text, const char *want)
{
	req_request r;
	diag d = DIAG_INIT;
	char buf[512];
	assert_int_equal(parse(text, &r, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	const char *got = first(&d, buf, sizeof buf);
	if (!strstr(got, want))
		fail_msg("got '%s', want '%s'", got, want);
	diag_free(&d);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refused("researcher=a\nindicator=VIC\ngroup-by=country,key\nrho=1\n",
	               "req:3:18: error: refused: grouping by 'key' would single out records");
	expect_refused("researcher=a\nindicator=VIC\ngroup-by=case_key\nrho=1\n",
	               "refused: grouping by 'case_key'");
	expect_refused("researcher=a\nindicator=VIC\nfilter=submission:3\nrho=1\n",
	               "refused: filtering on 'submission'");
	expect_refused("researcher=a\nindicator=VIC\ngroup-by=town\nrho=1\n", "cannot group by 'town'");
	expect_refused("researcher=a\nindicator=VIC\ngroup-by=region,country\nrho=1\n",
	               "req:3:17: error: at most one geography level");
	expect_refused("researcher=a\nindicator=VIC\nrho=1\nrho=2\n", "req:4:1: error: 'rho' given twice");
	expect_refused("researcher=a\nindicator=VIC\ncolour=red\nrho=1\n", "unknown key 'colour'");
	expect_refused("researcher=a\nindicator=VIC\nrho=1/3\n", "req:3:5: error: rho must be");
	expect_refused("researcher=a\nindicator=VIC\nrho=1\nmoe=3\n", "not both");
	expect_refused("researcher=a\nindicator=VIC\n", "missing rho= or moe=");
	expect_refused("researcher=Alice!\nindicator=VIC\nrho=1\n", "researcher id");
	expect_refused("researcher=a\nindicator=DOGS\nrho=1\n", "unknown indicator 'DOGS'");
	expect_refused("researcher=a\nindicator=VIC\nfilter=sex:Q\nrho=1\n", "unknown sex code 'Q'");
	expect_refused("researcher=a\nindicator=VIC\nfilter=age:Y25T34\nrho=1\n",
	               "unknown age code");      /* a band, not a top-level group */
	expect_refused("researcher=a\nindicator=VIC\nrho=1\nsignature=00\n",
	               "signature must be 128 hex");
}

static void test_sign_verify(void **state)
{
	(void)state;
	unsigned char pk[32], sk[64], pk2[32], sk2[64];
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	const char *text = "researcher=alice\nindicator=VIC\ngroup-by=sex\nrho=0.1\n";
	char *s;
	size_t n;
	diag d = DIAG_INIT;
	assert_int_equal(req_sign(text, strlen(text), sk, &s, &n, &d), 0);
	assert_int_equal(n, strlen(text) + 10 + 128 + 1);
	assert_memory_equal(s, text, strlen(text));
	req_request r;
	assert_int_equal(req_parse(s, n, "s", &cl, 1, &r, &d), 0);
	assert_int_equal(r.signed_, 1);
	assert_int_equal(r.signed_len, strlen(text));
	assert_int_equal(req_verify(&r, s, n, pk, &d), 0);
	/* another key */
	assert_int_equal(req_verify(&r, s, n, pk2, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_non_null(strstr(d.msg, "bad signature"));
	diag_reset(&d);
	/* one byte changed before the signature (rho 0.1 -> 0.2) */
	char *t = strdup(s);
	t[strlen("researcher=alice\nindicator=VIC\ngroup-by=sex\nrho=0.")] = '2';
	assert_int_equal(req_parse(t, n, "t", &cl, 1, &r, &d), 0);
	assert_int_equal(r.rho, 200000000);
	assert_int_equal(req_verify(&r, t, n, pk, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	diag_reset(&d);
	/* signing twice is refused; a line after the signature is refused */
	char *s2;
	size_t n2;
	assert_int_equal(req_sign(s, n, sk, &s2, &n2, &d), -1);
	diag_reset(&d);
	char *u = malloc(n + 16);
	memcpy(u, s, n);
	memcpy(u + n, "nonce=1\n", 9);
	assert_int_equal(req_parse(u, n + 8, "u", &cl, 1, &r, &d), -1);
	assert_int_equal(d.code, EX_DATAERR);
	diag_reset(&d);
	/* unsigned, signature required: EX_NOPERM */
	assert_int_equal(req_parse(text, strlen(text), "x", &cl, 1, &r, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	free(u);
	free(t);
	free(s);
	diag_free(&d);
}

/* Regression (found by fuzz_request): req_sign read past a request that
 * is not NUL-terminated.  The text sits at the very end of its own
 * allocation here, so the ASan build catches any read beyond len. */
static void test_sign_unterminated(void **state)
{
	(void)state;
	static const char req[] = "researcher=amira\nindicator=victims\ngroup-by=sex\nrho=0.1\n";
	size_t len = sizeof req - 1;
	char *text = malloc(len);
	assert_non_null(text);
	memcpy(text, req, len);
	unsigned char pk[32], sk[64];
	crypto_sign_keypair(pk, sk);
	char *s = NULL;
	size_t n = 0;
	diag d = DIAG_INIT;
	assert_int_equal(req_sign(text, len, sk, &s, &n, &d), 0);
	assert_int_equal(n, len + 10 + 128 + 1);
	assert_memory_equal(s, req, len);
	/* a signature line not at the start is found without a terminator too */
	char *twice = malloc(n);
	assert_non_null(twice);
	memcpy(twice, s, n);
	char *s2 = NULL;
	size_t n2 = 0;
	assert_int_equal(req_sign(twice, n, sk, &s2, &n2, &d), -1);
	free(twice);
	free(s);
	free(text);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_question),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_sign_unterminated),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
