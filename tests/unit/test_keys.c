/* Unit tests for ingest/keys: key file generation, permissions, parsing
 * (with FILE:LINE diagnostics), round trips, and that the keys loaded are
 * the keys generated (checked with libsodium directly, independently of
 * the module). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "core/diag.h"
#include "ingest/keys.h"

static char tmpdir[256];

static const char *P(const char *name)
{
	static char buf[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
	return buf[k];
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	unlink(path);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static char *read_text(const char *path)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	static char buf[8192];
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = 0;
	return buf;
}

static unsigned file_mode(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (unsigned)st.st_mode & 0777u;
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Number of entries in the temporary directory (catches stray temp files). */
static int dir_entries(void)
{
	DIR *dp = opendir(tmpdir);
	assert_non_null(dp);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(dp)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(dp);
	return n;
}

static void clean_dir(void)
{
	DIR *dp = opendir(tmpdir);
	if (!dp)
		return;
	struct dirent *e;
	while ((e = readdir(dp)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlink(P(e->d_name));
	closedir(dp);
}

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/tipstat-keys-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	clean_dir();
	rmdir(tmpdir);
	return 0;
}

static int per_test(void **state)
{
	(void)state;
	clean_dir();
	return 0;
}

/* The value of "name: value" in a key file text ("" if absent). */
static const char *field(const char *text, const char *name)
{
	static char val[256];
	char pat[64];
	snprintf(pat, sizeof pat, "\n%s: ", name);
	const char *p = strstr(text, pat);
	val[0] = 0;
	if (!p)
		return val;
	p += strlen(pat);
	size_t n = strcspn(p, "\n");
	snprintf(val, sizeof val, "%.*s", (int)n, p);
	return val;
}

/* 1-based number of the line of text that starts with prefix, or 0. */
static unsigned long line_of(const char *text, const char *prefix)
{
	unsigned long n = 1;
	for (const char *p = text; *p; n++) {
		if (!strncmp(p, prefix, strlen(prefix)))
			return n;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return 0;
}

/* Index of the first diagnostic item on `line` whose message contains sub,
 * or -1. */
static int find_item(const diag *d, unsigned long line, const char *sub)
{
	for (size_t i = 0; i < d->n_items; i++)
		if (d->items[i].line == line && strstr(d->items[i].msg, sub))
			return (int)i;
	return -1;
}

static void expect_id_of(const char *hex, const unsigned char pk[32])
{
	unsigned char h[32];
	crypto_generichash(h, sizeof h, pk, 32, NULL, 0);
	char want[17];
	sodium_bin2hex(want, sizeof want, h, 8);
	assert_string_equal(hex, want);
}

static void test_office_round_trip(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	assert_int_equal(keys_generate_office("DEU", 1, P("deu.sec"), P("deu.pub"), &d), 0);
	assert_int_equal(file_mode(P("deu.sec")), 0600);
	assert_int_equal(file_mode(P("deu.pub")), 0644);
	assert_int_equal(dir_entries(), 2);

	char pubtext[8192];
	snprintf(pubtext, sizeof pubtext, "%s", read_text(P("deu.pub")));
	assert_memory_equal(pubtext, "tipstat-key/1\n", 14);
	assert_string_equal(field(pubtext, "type"), "office-public");
	assert_string_equal(field(pubtext, "country"), "DEU");
	assert_string_equal(field(pubtext, "demo"), "yes");
	const char *sectext = read_text(P("deu.sec"));
	assert_string_equal(field(sectext, "type"), "office-secret");
	assert_string_equal(field(sectext, "key-id"), field(pubtext, "key-id"));

	keys_office_secret *sk = NULL;
	keys_office_public pk;
	assert_int_equal(keys_load_office_secret(P("deu.sec"), &sk, &d), 0);
	assert_int_equal(keys_load_office_public(P("deu.pub"), &pk, &d), 0);
	assert_int_equal(sk->info.type, KEYS_OFFICE_SECRET);
	assert_int_equal(pk.info.type, KEYS_OFFICE_PUBLIC);
	assert_string_equal(sk->info.country, "DEU");
	assert_string_equal(pk.info.country, "DEU");
	assert_int_equal(pk.info.demo, 1);
	assert_memory_equal(sk->pk, pk.pk, 32);
	assert_string_equal(sk->info.id_hex, pk.info.id_hex);
	assert_string_equal(sk->info.created, pk.info.created);
	assert_int_equal(strlen(pk.info.created), 20);
	assert_int_equal(pk.info.created[19], 'Z');

	/* the key line of the public file is base64 of the public key, and
	 * the key id is the first 8 bytes of BLAKE2b-256 of it */
	unsigned char raw[64];
	size_t raw_len;
	const char *b64 = field(pubtext, "key");
	assert_int_equal(sodium_base642bin(raw, sizeof raw, b64, strlen(b64), NULL, &raw_len, NULL,
	                                   sodium_base64_VARIANT_ORIGINAL), 0);
	assert_int_equal(raw_len, 32);
	assert_memory_equal(raw, pk.pk, 32);
	expect_id_of(pk.info.id_hex, pk.pk);
	assert_string_equal(field(pubtext, "key-id"), pk.info.id_hex);

	/* the loaded secret signs what the loaded public key verifies */
	unsigned char sig[64];
	const unsigned char msg[] = "submission";
	crypto_sign_detached(sig, NULL, msg, sizeof msg, sk->sk);
	assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof msg, pk.pk), 0);

	keys_info info;
	assert_int_equal(keys_describe(P("deu.sec"), &info, &d), 0);
	assert_int_equal(info.type, KEYS_OFFICE_SECRET);
	assert_string_equal(info.id_hex, pk.info.id_hex);
	keys_free_office_secret(sk);
	diag_free(&d);
}

static void test_aggregator_round_trip(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	assert_int_equal(keys_generate_aggregator(0, P("agg.sec"), P("agg.pub"), &d), 0);
	assert_int_equal(file_mode(P("agg.sec")), 0600);
	assert_int_equal(file_mode(P("agg.pub")), 0644);
	const char *text = read_text(P("agg.pub"));
	assert_string_equal(field(text, "type"), "aggregator-public");
	assert_string_equal(field(text, "demo"), "no");
	assert_null(strstr(text, "country:"));

	keys_aggregator_secret *sk = NULL;
	keys_aggregator_public pk;
	assert_int_equal(keys_load_aggregator_secret(P("agg.sec"), &sk, &d), 0);
	assert_int_equal(keys_load_aggregator_public(P("agg.pub"), &pk, &d), 0);
	assert_int_equal(pk.info.demo, 0);
	assert_int_equal(sk->info.demo, 0);
	assert_string_equal(pk.info.country, "");
	assert_memory_equal(sk->pk, pk.pk, 32);
	expect_id_of(pk.info.id_hex, pk.pk);

	/* a box sealed to the loaded public key opens with the loaded secret */
	unsigned char c[crypto_box_SEALBYTES + 5], m[5];
	crypto_box_seal(c, (const unsigned char *)"hello", 5, pk.pk);
	assert_int_equal(crypto_box_seal_open(m, c, sizeof c, sk->pk, sk->sk), 0);
	assert_memory_equal(m, "hello", 5);
	keys_free_aggregator_secret(sk);
	diag_free(&d);
}

static void test_demo_flag_round_trip(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	for (int demo = 0; demo <= 1; demo++) {
		clean_dir();
		keys_office_secret *o;
		assert_int_equal(keys_office_new("FRA", demo, &o, &d), 0);
		assert_int_equal(o->info.demo, demo);
		assert_int_equal(keys_save_office(o, P("o.sec"), P("o.pub"), &d), 0);
		keys_office_secret *o2;
		keys_office_public op;
		assert_int_equal(keys_load_office_secret(P("o.sec"), &o2, &d), 0);
		assert_int_equal(keys_load_office_public(P("o.pub"), &op, &d), 0);
		assert_int_equal(o2->info.demo, demo);
		assert_int_equal(op.info.demo, demo);
		/* the seed round trip gives the very same key pair */
		assert_memory_equal(o2->sk, o->sk, 64);
		assert_memory_equal(op.pk, o->pk, 32);
		keys_free_office_secret(o);
		keys_free_office_secret(o2);

		assert_int_equal(keys_generate_aggregator(demo, P("a.sec"), P("a.pub"), &d), 0);
		keys_aggregator_public ap;
		assert_int_equal(keys_load_aggregator_public(P("a.pub"), &ap, &d), 0);
		assert_int_equal(ap.info.demo, demo);
		assert_int_equal(keys_generate_pseudonym(demo, P("p.key"), &d), 0);
		keys_info info;
		assert_int_equal(keys_describe(P("p.key"), &info, &d), 0);
		assert_int_equal(info.demo, demo);
		assert_string_equal(field(read_text(P("p.key")), "demo"), demo ? "yes" : "no");
	}
	diag_free(&d);
}

static void test_pseudonym(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	assert_int_equal(keys_generate_pseudonym(0, P("pseu.key"), &d), 0);
	assert_int_equal(file_mode(P("pseu.key")), 0600);
	assert_int_equal(keys_generate_pseudonym(0, P("pseu2.key"), &d), 0);
	unsigned char *k1 = NULL, *k1b = NULL, *k2 = NULL;
	assert_int_equal(keys_load_pseudonym(P("pseu.key"), &k1, &d), 0);
	assert_int_equal(keys_load_pseudonym(P("pseu.key"), &k1b, &d), 0);
	assert_int_equal(keys_load_pseudonym(P("pseu2.key"), &k2, &d), 0);
	assert_memory_equal(k1, k1b, 32);
	assert_memory_not_equal(k1, k2, 32);

	/* the file's key is base64 of these 32 bytes; the id is the keyed
	 * BLAKE2b of the fixed message, worked out here independently */
	const char *text = read_text(P("pseu.key"));
	assert_string_equal(field(text, "type"), "pseudonym-secret");
	unsigned char raw[32], h[32];
	size_t raw_len;
	const char *b64 = field(text, "key");
	assert_int_equal(sodium_base642bin(raw, sizeof raw, b64, strlen(b64), NULL, &raw_len, NULL,
	                                   sodium_base64_VARIANT_ORIGINAL), 0);
	assert_memory_equal(raw, k1, 32);
	crypto_generichash(h, 32, (const unsigned char *)"tipstat-pseudonym-key-id", 24, k1, 32);
	char want[17];
	sodium_bin2hex(want, sizeof want, h, 8);
	assert_string_equal(field(text, "key-id"), want);
	keys_info info;
	assert_int_equal(keys_describe(P("pseu.key"), &info, &d), 0);
	assert_string_equal(info.id_hex, want);

	/* a pseudonym key is not an office key, and vice versa */
	keys_office_secret *o = NULL;
	assert_int_equal(keys_load_office_secret(P("pseu.key"), &o, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_true(find_item(&d, line_of(read_text(P("pseu.key")), "type: "),
	                      "type pseudonym-secret; type office-secret is needed") >= 0);
	assert_null(o);
	keys_free_pseudonym(k1);
	keys_free_pseudonym(k1b);
	keys_free_pseudonym(k2);
	keys_free_pseudonym(NULL);
	diag_free(&d);
}

static void expect_perm_refused(int (*load)(const char *, diag *), const char *path)
{
	diag d = DIAG_INIT;
	assert_int_equal(load(path, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_non_null(strstr(d.msg, path));
	char fix[600];
	snprintf(fix, sizeof fix, "chmod 600 %s", path);
	assert_non_null(strstr(d.msg, fix));
	diag_free(&d);
}

static int load_office(const char *path, diag *d)
{
	keys_office_secret *k = NULL;
	int rc = keys_load_office_secret(path, &k, d);
	if (rc == -1)
		assert_null(k);
	keys_free_office_secret(k);
	return rc;
}

static int load_agg(const char *path, diag *d)
{
	keys_aggregator_secret *k = NULL;
	int rc = keys_load_aggregator_secret(path, &k, d);
	keys_free_aggregator_secret(k);
	return rc;
}

static int load_pseu(const char *path, diag *d)
{
	unsigned char *k = NULL;
	int rc = keys_load_pseudonym(path, &k, d);
	keys_free_pseudonym(k);
	return rc;
}

static int describe(const char *path, diag *d)
{
	keys_info info;
	return keys_describe(path, &info, d);
}

static void test_secret_permissions(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	assert_int_equal(keys_generate_office("ITA", 0, P("ita.sec"), P("ita.pub"), &d), 0);
	assert_int_equal(keys_generate_aggregator(0, P("agg.sec"), P("agg.pub"), &d), 0);
	assert_int_equal(keys_generate_pseudonym(0, P("pseu.key"), &d), 0);
	static const unsigned modes[] = {0640, 0644, 0604, 0660, 0606, 0610};
	for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
		assert_int_equal(chmod(P("ita.sec"), modes[i]), 0);
		assert_int_equal(chmod(P("agg.sec"), modes[i]), 0);
		assert_int_equal(chmod(P("pseu.key"), modes[i]), 0);
		expect_perm_refused(load_office, P("ita.sec"));
		expect_perm_refused(load_agg, P("agg.sec"));
		expect_perm_refused(load_pseu, P("pseu.key"));
		expect_perm_refused(describe, P("ita.sec"));
	}
	/* the message names the mode */
	assert_int_equal(chmod(P("ita.sec"), 0644), 0);
	assert_int_equal(load_office(P("ita.sec"), &d), -1);
	assert_non_null(strstr(d.msg, "mode 0644"));
	diag_reset(&d);
	/* owner-only modes are fine, public files are fine at 0644 */
	assert_int_equal(chmod(P("ita.sec"), 0400), 0);
	assert_int_equal(load_office(P("ita.sec"), &d), 0);
	assert_int_equal(chmod(P("ita.sec"), 0600), 0);
	assert_int_equal(chmod(P("agg.sec"), 0600), 0);
	assert_int_equal(chmod(P("pseu.key"), 0600), 0);
	assert_int_equal(load_office(P("ita.sec"), &d), 0);
	assert_int_equal(load_agg(P("agg.sec"), &d), 0);
	assert_int_equal(load_pseu(P("pseu.key"), &d), 0);
	keys_office_public op;
	assert_int_equal(keys_load_office_public(P("ita.pub"), &op, &d), 0);
	/* a public file (0644) handed to a secret loader: refused for its mode
	 * before anything else, which is the safe order */
	expect_perm_refused(load_office, P("ita.pub"));
	/* a secret file handed to the public loader: wrong type */
	assert_int_equal(keys_load_office_public(P("ita.sec"), &op, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_true(find_item(&d, line_of(read_text(P("ita.sec")), "type: "),
	                      "type office-secret; type office-public is needed") >= 0);
	diag_free(&d);
}

static void test_no_overwrite(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	assert_int_equal(keys_generate_pseudonym(0, P("p.key"), &d), 0);
	char before[8192];
	snprintf(before, sizeof before, "%s", read_text(P("p.key")));
	assert_int_equal(keys_generate_pseudonym(0, P("p.key"), &d), -1);
	assert_int_equal(d.code, EX_CANTCREAT);
	assert_non_null(strstr(d.msg, "already exists"));
	assert_string_equal(read_text(P("p.key")), before);
	diag_reset(&d);
	/* a pair is written whole or not at all */
	write_text(P("x.pub"), "placeholder\n", 0644);
	assert_int_equal(keys_generate_office("DEU", 0, P("x.sec"), P("x.pub"), &d), -1);
	assert_int_equal(d.code, EX_CANTCREAT);
	assert_false(exists(P("x.sec")));
	assert_string_equal(read_text(P("x.pub")), "placeholder\n");
	assert_int_equal(dir_entries(), 2);
	diag_reset(&d);
	assert_int_equal(keys_generate_aggregator(0, P("y"), P("y"), &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_reset(&d);
	keys_office_secret *k = NULL;
	assert_int_equal(keys_office_new("deu", 0, &k, &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	assert_null(k);
	diag_reset(&d);
	assert_int_equal(keys_generate_office("DEUT", 0, P("z.sec"), P("z.pub"), &d), -1);
	assert_false(exists(P("z.sec")));
	assert_int_equal(dir_entries(), 2);
	diag_free(&d);
}

/* The public file of a secret is written again byte for byte (the state a
 * crash between keygen's two commits leaves is repaired), never over an
 * existing file, and only for secrets that have a public half. */
static void test_public_of(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	char before[8192];
	assert_int_equal(keys_generate_office("CHL", 0, P("o.sec"), P("o.pub"), &d), 0);
	snprintf(before, sizeof before, "%s", read_text(P("o.pub")));
	assert_int_equal(keys_save_public_of(P("o.sec"), P("o.pub"), &d), -1);
	assert_int_equal(d.code, EX_CANTCREAT);
	diag_reset(&d);
	assert_int_equal(unlink(P("o.pub")), 0);
	assert_int_equal(keys_save_public_of(P("o.sec"), P("o.pub"), &d), 0);
	assert_string_equal(read_text(P("o.pub")), before);
	assert_int_equal(file_mode(P("o.pub")), 0644);

	assert_int_equal(keys_generate_aggregator(1, P("a.sec"), P("a.pub"), &d), 0);
	snprintf(before, sizeof before, "%s", read_text(P("a.pub")));
	assert_int_equal(keys_save_public_of(P("a.sec"), P("a2.pub"), &d), 0);
	assert_string_equal(read_text(P("a2.pub")), before);
	keys_aggregator_public ap;
	assert_int_equal(keys_load_aggregator_public(P("a2.pub"), &ap, &d), 0);
	assert_int_equal(ap.info.demo, 1);

	/* no public half: a pseudonym key, or a public file itself */
	assert_int_equal(keys_generate_pseudonym(0, P("p.key"), &d), 0);
	int n = dir_entries();
	assert_int_equal(keys_save_public_of(P("p.key"), P("p.pub"), &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	assert_non_null(strstr(d.msg, "no public half"));
	diag_reset(&d);
	assert_int_equal(keys_save_public_of(P("a.pub"), P("a3.pub"), &d), -1);
	assert_int_equal(d.code, EX_USAGE);
	diag_reset(&d);
	/* a secret others can read is refused before anything is written */
	assert_int_equal(chmod(P("o.sec"), 0644), 0);
	assert_int_equal(keys_save_public_of(P("o.sec"), P("o2.pub"), &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_int_equal(dir_entries(), n);
	diag_free(&d);
}

static void test_malformed(void **state)
{
	(void)state;
	diag d = DIAG_INIT;
	char line[1024];

	/* not a key file at all: one error, on line 1, nothing more */
	write_text(P("a"), "hello world\ntype: office-secret\n", 0600);
	assert_int_equal(load_office(P("a"), &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_int_equal(d.n_errors, 1);
	diag_format(&d.items[0], line, sizeof line);
	snprintf(line + 512, 512, "%s:1: error: not a tipstat key file", P("a"));
	assert_memory_equal(line, line + 512, strlen(line + 512));
	diag_reset(&d);

	write_text(P("b"), "tipstat-key/2\n", 0600);
	assert_int_equal(load_office(P("b"), &d), -1);
	assert_true(find_item(&d, 1, "unsupported key file version 'tipstat-key/2'") >= 0);
	diag_reset(&d);

	write_text(P("e"), "", 0600);
	assert_int_equal(load_office(P("e"), &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_true(find_item(&d, 0, "empty file") >= 0);
	diag_reset(&d);

	/* many problems, each reported on its own line */
	write_text(P("c"),
	           "tipstat-key/1\n"                 /* 1 */
	           "# comment\n"                     /* 2 */
	           "type: office-sekret\n"           /* 3 */
	           "country: De\n"                   /* 4 */
	           "key-id: 12345\n"                 /* 5 */
	           "created: 2024-02-30T10:00:00Z\n" /* 6 */
	           "demo: maybe\n"                   /* 7 */
	           "colour: blue\n"                  /* 8 */
	           "no colon here\n"                 /* 9 */
	           "demo: yes\n"                     /* 10 */
	           "\n"                              /* 11 */
	           "key: c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw==\n", /* 12 */
	           0600);
	assert_int_equal(load_office(P("c"), &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_true(find_item(&d, 3, "unknown key type 'office-sekret'") >= 0);
	assert_true(find_item(&d, 4, "country 'De' is not an ISO 3166-1 alpha-3 code") >= 0);
	assert_true(find_item(&d, 5, "key-id '12345' is not 16 hex digits") >= 0);
	assert_true(find_item(&d, 6, "created '2024-02-30T10:00:00Z' is not a UTC time") >= 0);
	assert_true(find_item(&d, 7, "demo 'maybe' must be 'yes' or 'no'") >= 0);
	assert_true(find_item(&d, 8, "unknown field 'colour'") >= 0);
	assert_true(find_item(&d, 9, "expected 'name: value'") >= 0);
	assert_true(find_item(&d, 10, "field 'demo' given twice (first on line 7)") >= 0);
	assert_true(find_item(&d, 12, "key is not the base64 encoding of 32 bytes") >= 0);
	assert_int_equal(d.n_errors, 9);
	/* the (possibly secret) key value is never quoted */
	for (size_t i = 0; i < d.n_items; i++) {
		assert_null(strstr(d.items[i].msg, "c2VjcmV0"));
		assert_string_equal(d.items[i].file, P("c"));
	}
	assert_null(strstr(d.msg, "c2VjcmV0"));
	diag_format(&d.items[find_item(&d, 7, "demo")], line, sizeof line);
	snprintf(line + 512, 512, "%s:7: error: demo 'maybe' must be 'yes' or 'no'", P("c"));
	assert_string_equal(line, line + 512);
	diag_reset(&d);

	/* missing fields have no line; a country on an aggregator key is wrong */
	write_text(P("m"), "tipstat-key/1\ntype: aggregator-public\ncountry: DEU\n", 0644);
	keys_aggregator_public ap;
	assert_int_equal(keys_load_aggregator_public(P("m"), &ap, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_true(find_item(&d, 0, "missing field 'key-id'") >= 0);
	assert_true(find_item(&d, 0, "missing field 'created'") >= 0);
	assert_true(find_item(&d, 0, "missing field 'demo'") >= 0);
	assert_true(find_item(&d, 0, "missing field 'key'") >= 0);
	assert_true(find_item(&d, 3, "country is only for office keys") >= 0);
	diag_reset(&d);

	/* a damaged key line (still valid base64) no longer matches key-id */
	assert_int_equal(keys_generate_office("POL", 0, P("pol.sec"), P("pol.pub"), &d), 0);
	char text[8192];
	snprintf(text, sizeof text, "%s", read_text(P("pol.pub")));
	char *k = strstr(text, "\nkey: ");
	assert_non_null(k);
	k[6] = k[6] == 'A' ? 'B' : 'A';
	write_text(P("pol2.pub"), text, 0644);
	keys_office_public op;
	assert_int_equal(keys_load_office_public(P("pol2.pub"), &op, &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_true(find_item(&d, line_of(text, "key-id: "), "does not match the key") >= 0);
	diag_reset(&d);
	/* an edited key-id */
	snprintf(text, sizeof text, "%s", read_text(P("pol.sec")));
	char *id = strstr(text, "\nkey-id: ");
	assert_non_null(id);
	id[9] = id[9] == '0' ? '1' : '0';
	write_text(P("pol2.sec"), text, 0600);
	assert_int_equal(load_office(P("pol2.sec"), &d), -1);
	assert_int_equal(d.code, EX_NOPERM);
	assert_true(find_item(&d, line_of(text, "key-id: "), "does not match the key") >= 0);
	diag_reset(&d);

	/* CRLF line endings and extra blanks are tolerated */
	snprintf(text, sizeof text, "%s", read_text(P("pol.pub")));
	char crlf[9000];
	size_t j = 0;
	for (size_t i = 0; text[i]; i++) {
		if (text[i] == '\n')
			crlf[j++] = '\r';
		crlf[j++] = text[i];
	}
	crlf[j] = 0;
	write_text(P("crlf.pub"), crlf, 0644);
	assert_int_equal(keys_load_office_public(P("crlf.pub"), &op, &d), 0);

	/* missing file */
	assert_int_equal(keys_load_office_public(P("nope"), &op, &d), -1);
	assert_int_equal(d.code, EX_NOINPUT);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_office_round_trip, per_test),
		cmocka_unit_test_setup(test_aggregator_round_trip, per_test),
		cmocka_unit_test_setup(test_demo_flag_round_trip, per_test),
		cmocka_unit_test_setup(test_pseudonym, per_test),
		cmocka_unit_test_setup(test_secret_permissions, per_test),
		cmocka_unit_test_setup(test_no_overwrite, per_test),
		cmocka_unit_test_setup(test_public_of, per_test),
		cmocka_unit_test_setup(test_malformed, per_test),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
