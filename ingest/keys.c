/* keys: see keys.h.
 *
 * Every key file is read whole (it is at most KEYS_FILE_MAX bytes) into
 * sodium_malloc memory, parsed line by line into a keys_info and 32 key
 * bytes (decoded straight into the caller's secure buffer), then checked
 * against its type: the public key is re-derived from a secret, and the
 * key-id line must match it.  The file buffer is wiped on every path. */
#include "ingest/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "core/atomic.h"
#include "core/period.h"
#include "core/text.h"

#define KF_MAGIC "tipstat-key/1"
#define PSEUDONYM_ID_MSG "tipstat-pseudonym-key-id"

static const char *const type_names[] = {
	NULL, "office-secret", "office-public", "aggregator-secret",
	"aggregator-public", "pseudonym-secret"};

const char *keys_type_name(int type)
{
	if (type < KEYS_OFFICE_SECRET || type > KEYS_PSEUDONYM_SECRET)
		return "unknown";
	return type_names[type];
}

static int type_is_secret(int type)
{
	return type == KEYS_OFFICE_SECRET || type == KEYS_AGGREGATOR_SECRET ||
	       type == KEYS_PSEUDONYM_SECRET;
}

static int type_is_office(int type)
{
	return type == KEYS_OFFICE_SECRET || type == KEYS_OFFICE_PUBLIC;
}

void keys_id(const unsigned char pk[32], unsigned char id[KEYS_ID_BYTES])
{
	unsigned char h[crypto_generichash_BYTES];
	crypto_generichash(h, sizeof h, pk, 32, NULL, 0);
	memcpy(id, h, KEYS_ID_BYTES);
}

static void pseudonym_id(const unsigned char key[32], unsigned char id[KEYS_ID_BYTES])
{
	unsigned char h[crypto_generichash_BYTES];
	crypto_generichash(h, sizeof h, (const unsigned char *)PSEUDONYM_ID_MSG,
	                   strlen(PSEUDONYM_ID_MSG), key, 32);
	memcpy(id, h, KEYS_ID_BYTES);
	sodium_memzero(h, sizeof h);
}

void keys_id_hex(const unsigned char id[KEYS_ID_BYTES], char hex[KEYS_ID_HEX])
{
	sodium_bin2hex(hex, KEYS_ID_HEX, id, KEYS_ID_BYTES);
}

int keys_valid_country(const char *s)
{
	return s && strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
	       s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z';
}

static void now_utc(char out[21])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int num(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "YYYY-MM-DDTHH:MM:SSZ" naming a real day and time. */
static int valid_created(const char *s, size_t n)
{
	if (n != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z')
		return 0;
	int y = num(s, 4), mo = num(s + 5, 2), da = num(s + 8, 2);
	int h = num(s + 11, 2), mi = num(s + 14, 2), se = num(s + 17, 2);
	return y >= 0 && mo >= 0 && da >= 0 && h >= 0 && mi >= 0 && se >= 0 &&
	       period_valid_date(y, mo, da) && h < 24 && mi < 60 && se < 61;
}

/* --- in memory ----------------------------------------------------------- */

static void *secure_alloc(size_t n, diag *d)
{
	void *p = sodium_malloc(n);
	if (!p) {
		diag_fail(d, EX_OSERR, "cannot allocate secure memory for a key");
		return NULL;
	}
	memset(p, 0, n);
	return p;
}

int keys_office_new(const char *country, int demo, keys_office_secret **out, diag *d)
{
	*out = NULL;
	if (!keys_valid_country(country))
		return diag_fail(d, EX_USAGE,
		                 "office key country must be an ISO 3166-1 alpha-3 code "
		                 "(three upper-case letters, e.g. DEU)");
	keys_office_secret *k = secure_alloc(sizeof *k, d);
	if (!k)
		return -1;
	crypto_sign_keypair(k->pk, k->sk);
	k->info.type = KEYS_OFFICE_SECRET;
	memcpy(k->info.country, country, 4);
	keys_id(k->pk, k->info.id);
	keys_id_hex(k->info.id, k->info.id_hex);
	now_utc(k->info.created);
	k->info.demo = demo ? 1 : 0;
	*out = k;
	return 0;
}

int keys_aggregator_new(int demo, keys_aggregator_secret **out, diag *d)
{
	*out = NULL;
	keys_aggregator_secret *k = secure_alloc(sizeof *k, d);
	if (!k)
		return -1;
	crypto_box_keypair(k->pk, k->sk);
	k->info.type = KEYS_AGGREGATOR_SECRET;
	keys_id(k->pk, k->info.id);
	keys_id_hex(k->info.id, k->info.id_hex);
	now_utc(k->info.created);
	k->info.demo = demo ? 1 : 0;
	*out = k;
	return 0;
}

void keys_office_public_of(const keys_office_secret *k, keys_office_public *out)
{
	memset(out, 0, sizeof *out);
	out->info = k->info;
	out->info.type = KEYS_OFFICE_PUBLIC;
	memcpy(out->pk, k->pk, 32);
}

void keys_aggregator_public_of(const keys_aggregator_secret *k, keys_aggregator_public *out)
{
	memset(out, 0, sizeof *out);
	out->info = k->info;
	out->info.type = KEYS_AGGREGATOR_PUBLIC;
	memcpy(out->pk, k->pk, 32);
}

void keys_free_office_secret(keys_office_secret *k)
{
	if (k)
		sodium_free(k); /* sodium_free wipes before releasing */
}

void keys_free_aggregator_secret(keys_aggregator_secret *k)
{
	if (k)
		sodium_free(k);
}

void keys_free_pseudonym(unsigned char *key)
{
	if (key)
		sodium_free(key);
}

/* --- writing ------------------------------------------------------------ */

static int refuse_existing(const char *path, diag *d)
{
	struct stat st;
	if (lstat(path, &st) == 0)
		return diag_fail(d, EX_CANTCREAT,
		                 "%s: already exists; refusing to overwrite a key file "
		                 "(move it away first if you really mean to replace it)",
		                 path);
	if (errno != ENOENT)
		return diag_fail(d, EX_CANTCREAT, "%s: cannot check: %s", path, strerror(errno));
	return 0;
}

/* Open the temporary for path and write the key file into it (unbuffered,
 * so no copy of a secret is left in a stdio buffer).  The caller commits
 * or aborts af. */
static int kf_write(const char *path, const keys_info *info, const unsigned char key[32],
                    atomic_file *af, diag *d)
{
	int secret = type_is_secret(info->type);
	if (refuse_existing(path, d) != 0)
		return -1;
	if (atomic_open(path, secret ? 0600 : 0644, af, d) != 0)
		return -1;
	setvbuf(af->fp, NULL, _IONBF, 0);
	enum { TXT = 1024 };
	char *txt = sodium_malloc(TXT);
	if (!txt) {
		atomic_abort(af);
		return diag_fail(d, EX_OSERR, "cannot allocate secure memory for a key");
	}
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(b64, sizeof b64, key, 32, sodium_base64_VARIANT_ORIGINAL);
	const char *comment;
	switch (info->type) {
	case KEYS_OFFICE_SECRET:
		comment = "# SECRET signing key of a national office: keep it private (mode 0600),\n"
		          "# never send it; give the aggregator the office-public file instead.\n";
		break;
	case KEYS_AGGREGATOR_SECRET:
		comment = "# SECRET receiving key of the aggregator: keep it private (mode 0600);\n"
		          "# offices need only the aggregator-public file.\n";
		break;
	case KEYS_PSEUDONYM_SECRET:
		comment = "# SECRET pseudonym key of a national office: keep it private (mode 0600)\n"
		          "# and keep a backup; the same key must be used every quarter.\n";
		break;
	case KEYS_OFFICE_PUBLIC:
		comment = "# Public key of a national office; the aggregator trusts it for its country.\n";
		break;
	default:
		comment = "# Public key of the aggregator; offices seal their submissions to it.\n";
		break;
	}
	char country_line[32] = "";
	if (type_is_office(info->type))
		snprintf(country_line, sizeof country_line, "country: %s\n", info->country);
	int n = snprintf(txt, TXT,
	                 KF_MAGIC "\n%stype: %s\n%skey-id: %s\ncreated: %s\ndemo: %s\nkey: %s\n",
	                 comment, keys_type_name(info->type), country_line, info->id_hex,
	                 info->created, info->demo ? "yes" : "no", b64);
	sodium_memzero(b64, sizeof b64);
	int ok = n > 0 && n < TXT && fwrite(txt, 1, (size_t)n, af->fp) == (size_t)n;
	int e = errno;
	sodium_free(txt);
	if (!ok) {
		atomic_abort(af);
		return diag_fail(d, EX_IOERR, "%s: write failed: %s", path, strerror(e));
	}
	return 0;
}

/* Write a secret and a public file, both or neither. */
static int save_pair(const keys_info *sinfo, const unsigned char skey[32],
                     const keys_info *pinfo, const unsigned char pkey[32],
                     const char *secret_path, const char *public_path, diag *d)
{
	if (!strcmp(secret_path, public_path))
		return diag_fail(d, EX_USAGE, "the secret and public key files must differ (%s)",
		                 secret_path);
	if (refuse_existing(secret_path, d) != 0 || refuse_existing(public_path, d) != 0)
		return -1;
	atomic_file as, ap;
	if (kf_write(secret_path, sinfo, skey, &as, d) != 0)
		return -1;
	if (kf_write(public_path, pinfo, pkey, &ap, d) != 0) {
		atomic_abort(&as);
		return -1;
	}
	/* narrow the window in which another process may have created one */
	if (refuse_existing(secret_path, d) != 0 || refuse_existing(public_path, d) != 0) {
		atomic_abort(&as);
		atomic_abort(&ap);
		return -1;
	}
	if (atomic_commit(&as, d) != 0) {
		atomic_abort(&ap);
		return -1;
	}
	if (atomic_commit(&ap, d) != 0) {
		unlink(secret_path);
		return -1;
	}
	return 0;
}

int keys_save_office(const keys_office_secret *k, const char *secret_path,
                     const char *public_path, diag *d)
{
	keys_office_public pub;
	keys_office_public_of(k, &pub);
	/* the file keeps the 32-byte seed, the first half of libsodium's sk */
	return save_pair(&k->info, k->sk, &pub.info, pub.pk, secret_path, public_path, d);
}

int keys_save_aggregator(const keys_aggregator_secret *k, const char *secret_path,
                         const char *public_path, diag *d)
{
	keys_aggregator_public pub;
	keys_aggregator_public_of(k, &pub);
	return save_pair(&k->info, k->sk, &pub.info, pub.pk, secret_path, public_path, d);
}

/* Commit one key file written by kf_write. */
static int save_one(const keys_info *info, const unsigned char key[32], const char *path,
                    diag *d)
{
	atomic_file af;
	if (kf_write(path, info, key, &af, d) != 0)
		return -1;
	return atomic_commit(&af, d);
}

int keys_save_public_of(const char *secret_path, const char *public_path, diag *d)
{
	keys_info ki;
	if (keys_describe(secret_path, &ki, d) != 0)
		return -1;
	if (ki.type == KEYS_OFFICE_SECRET) {
		keys_office_secret *k;
		if (keys_load_office_secret(secret_path, &k, d) != 0)
			return -1;
		keys_office_public pub;
		keys_office_public_of(k, &pub);
		keys_free_office_secret(k);
		return save_one(&pub.info, pub.pk, public_path, d);
	}
	if (ki.type == KEYS_AGGREGATOR_SECRET) {
		keys_aggregator_secret *k;
		if (keys_load_aggregator_secret(secret_path, &k, d) != 0)
			return -1;
		keys_aggregator_public pub;
		keys_aggregator_public_of(k, &pub);
		keys_free_aggregator_secret(k);
		return save_one(&pub.info, pub.pk, public_path, d);
	}
	return diag_fail(d, EX_USAGE,
	                 "%s: a %s file has no public half (only office and aggregator "
	                 "secret keys do)",
	                 secret_path, keys_type_name(ki.type));
}

int keys_generate_office(const char *country, int demo, const char *secret_path,
                         const char *public_path, diag *d)
{
	keys_office_secret *k;
	if (keys_office_new(country, demo, &k, d) != 0)
		return -1;
	int rc = keys_save_office(k, secret_path, public_path, d);
	keys_free_office_secret(k);
	return rc;
}

int keys_generate_aggregator(int demo, const char *secret_path, const char *public_path,
                             diag *d)
{
	keys_aggregator_secret *k;
	if (keys_aggregator_new(demo, &k, d) != 0)
		return -1;
	int rc = keys_save_aggregator(k, secret_path, public_path, d);
	keys_free_aggregator_secret(k);
	return rc;
}

int keys_generate_pseudonym(int demo, const char *path, diag *d)
{
	unsigned char *key = secure_alloc(32, d);
	if (!key)
		return -1;
	randombytes_buf(key, 32);
	keys_info info;
	memset(&info, 0, sizeof info);
	info.type = KEYS_PSEUDONYM_SECRET;
	pseudonym_id(key, info.id);
	keys_id_hex(info.id, info.id_hex);
	now_utc(info.created);
	info.demo = demo ? 1 : 0;
	atomic_file af;
	int rc = kf_write(path, &info, key, &af, d);
	sodium_free(key);
	if (rc != 0)
		return -1;
	if (refuse_existing(path, d) != 0) {
		atomic_abort(&af);
		return -1;
	}
	return atomic_commit(&af, d);
}

/* --- reading ------------------------------------------------------------ */

enum { F_TYPE, F_COUNTRY, F_KEYID, F_CREATED, F_DEMO, F_KEY, F__N };
static const char *const field_names[F__N] = {"type", "country", "key-id",
                                              "created", "demo", "key"};

typedef struct kf {
	const char *path;
	keys_info info;
	unsigned long line[F__N]; /* where each field was given, 0 = absent */
	size_t errors;
	int loose_perms;          /* group/other bits set on the file */
	unsigned mode;
} kf;

static void kf_err(kf *k, diag *d, unsigned long line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void kf_err(kf *k, diag *d, unsigned long line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(d, DIAG_ERROR, k->path, line, 0, fmt, ap);
	va_end(ap);
	k->errors++;
}

static int perm_refusal(const char *path, unsigned mode, diag *d)
{
	return diag_fail(d, EX_NOPERM,
	                 "%s: secret key file is accessible by group or others (mode %04o); "
	                 "it must be private to its owner: chmod 600 %s",
	                 path, mode & 07777u, path);
}

/* Parse buf[0..len) into k and key[32].  Problems are counted in k->errors
 * and reported as FILE:LINE diagnostics. */
static void kf_parse(kf *k, const char *buf, size_t len, unsigned char key[32], diag *d)
{
	unsigned long lineno = 0;
	size_t pos = 0;
	while (pos < len) {
		const char *s = buf + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		pos += n + (nl ? 1 : 0);
		lineno++;
		if (n && s[n - 1] == '\r')
			n--;
		if (memchr(s, '\0', n)) {
			kf_err(k, d, lineno, "line contains a NUL byte");
			if (lineno == 1)
				return;
			continue;
		}
		if (lineno == 1) {
			if (n == strlen(KF_MAGIC) && !memcmp(s, KF_MAGIC, n))
				continue;
			char q[40];
			text_quote(s, n, q, sizeof q);
			if (n > 12 && !memcmp(s, "tipstat-key/", 12))
				kf_err(k, d, 1, "unsupported key file version '%s' (this tipstat reads "
				       KF_MAGIC ")", q);
			else
				kf_err(k, d, 1, "not a tipstat key file: the first line must be '"
				       KF_MAGIC "'");
			return; /* not worth reporting every line of some other file */
		}
		size_t i = 0;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == n || s[i] == '#')
			continue;
		const char *colon = memchr(s, ':', n);
		if (!colon || colon == s) {
			kf_err(k, d, lineno, "expected 'name: value'");
			continue;
		}
		size_t nlen = (size_t)(colon - s);
		const char *v = colon + 1;
		size_t vlen = n - nlen - 1;
		while (vlen && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		int f = -1;
		for (int j = 0; j < F__N; j++)
			if (strlen(field_names[j]) == nlen && !memcmp(field_names[j], s, nlen))
				f = j;
		if (f < 0) {
			char q[40];
			text_quote(s, nlen, q, sizeof q);
			kf_err(k, d, lineno, "unknown field '%s' (known: type, country, key-id, "
			       "created, demo, key)", q);
			continue;
		}
		if (k->line[f]) {
			kf_err(k, d, lineno, "field '%s' given twice (first on line %lu)",
			       field_names[f], k->line[f]);
			continue;
		}
		k->line[f] = lineno;
		char q[40];
		if (f != F_KEY)
			text_quote(v, vlen, q, sizeof q);
		switch (f) {
		case F_TYPE: {
			int t = 0;
			for (int j = KEYS_OFFICE_SECRET; j <= KEYS_PSEUDONYM_SECRET; j++)
				if (strlen(type_names[j]) == vlen && !memcmp(type_names[j], v, vlen))
					t = j;
			if (!t)
				kf_err(k, d, lineno, "unknown key type '%s' (expected office-secret, "
				       "office-public, aggregator-secret, aggregator-public or "
				       "pseudonym-secret)", q);
			k->info.type = t;
			break;
		}
		case F_COUNTRY:
			if (vlen == 3) {
				memcpy(k->info.country, v, 3);
				k->info.country[3] = 0;
			}
			if (vlen != 3 || !keys_valid_country(k->info.country)) {
				k->info.country[0] = 0;
				kf_err(k, d, lineno, "country '%s' is not an ISO 3166-1 alpha-3 code "
				       "(three upper-case letters)", q);
			}
			break;
		case F_KEYID:
			if (vlen != 16 ||
			    sodium_hex2bin(k->info.id, KEYS_ID_BYTES, v, vlen, NULL, NULL, NULL) != 0)
				kf_err(k, d, lineno, "key-id '%s' is not 16 hex digits", q);
			else
				keys_id_hex(k->info.id, k->info.id_hex);
			break;
		case F_CREATED:
			if (!valid_created(v, vlen))
				kf_err(k, d, lineno, "created '%s' is not a UTC time "
				       "YYYY-MM-DDTHH:MM:SSZ", q);
			else {
				memcpy(k->info.created, v, 20);
				k->info.created[20] = 0;
			}
			break;
		case F_DEMO:
			if (vlen == 3 && !memcmp(v, "yes", 3))
				k->info.demo = 1;
			else if (vlen == 2 && !memcmp(v, "no", 2))
				k->info.demo = 0;
			else
				kf_err(k, d, lineno, "demo '%s' must be 'yes' or 'no'", q);
			break;
		case F_KEY: {
			size_t bin_len = 0;
			const char *end = NULL;
			if (sodium_base642bin(key, 32, v, vlen, NULL, &bin_len, &end,
			                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
			    bin_len != 32 || end != v + vlen) {
				sodium_memzero(key, 32);
				/* never quote it: it may be (part of) a secret */
				kf_err(k, d, lineno, "key is not the base64 encoding of 32 bytes");
			}
			break;
		}
		}
	}
	if (lineno == 0)
		kf_err(k, d, 0, "empty file, not a tipstat key file");
	if (lineno == 0 || (lineno == 1 && k->errors))
		return;
	for (int j = 0; j < F__N; j++) {
		if (j == F_COUNTRY)
			continue;
		if (!k->line[j])
			kf_err(k, d, 0, "missing field '%s'", field_names[j]);
	}
	if (k->info.type && type_is_office(k->info.type) && !k->line[F_COUNTRY])
		kf_err(k, d, 0, "missing field 'country' (an office key is bound to its country)");
	if (k->info.type && !type_is_office(k->info.type) && k->line[F_COUNTRY])
		kf_err(k, d, k->line[F_COUNTRY], "country is only for office keys, not for %s keys",
		       keys_type_name(k->info.type));
}

/* Report counted parse errors as the failure. */
static int kf_fail(kf *k, diag *d)
{
	if (k->errors)
		diag_fail(d, EX_NOPERM, "%s: malformed key file (%zu problem%s), refused",
		          k->path, k->errors, k->errors == 1 ? "" : "s");
	return -1;
}

/* Read and parse path.  want_secret: refuse loose permissions before
 * reading.  Secret files are refused for loose permissions after parsing
 * too (describe, or a public loader pointed at a secret file).  key is a
 * 32-byte secure buffer.  Returns 0 when the file parsed cleanly, or -1
 * with the failure set (parse errors are listed, then counted in it). */
static int kf_read(const char *path, int want_secret, kf *k, unsigned char key[32], diag *d)
{
	memset(k, 0, sizeof *k);
	k->path = path;
	int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return diag_fail(d, errno == EACCES ? EX_NOPERM : EX_NOINPUT,
		                 "%s: cannot open key file: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return diag_fail(d, EX_NOINPUT, "%s: cannot stat key file: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return diag_fail(d, EX_NOPERM, "%s: not a regular file", path);
	}
	k->mode = (unsigned)st.st_mode;
	k->loose_perms = (st.st_mode & 077) != 0;
	if (want_secret && k->loose_perms) {
		close(fd);
		return perm_refusal(path, k->mode, d);
	}
	char *buf = sodium_malloc(KEYS_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		return diag_fail(d, EX_OSERR, "cannot allocate secure memory for a key");
	}
	size_t len = 0;
	for (;;) {
		ssize_t r = read(fd, buf + len, KEYS_FILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			sodium_free(buf);
			return diag_fail(d, EX_IOERR, "%s: read error: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > KEYS_FILE_MAX)
			break;
	}
	close(fd);
	if (len > KEYS_FILE_MAX) {
		sodium_free(buf);
		return diag_fail(d, EX_NOPERM, "%s: more than %d bytes, not a tipstat key file",
		                 path, KEYS_FILE_MAX);
	}
	kf_parse(k, buf, len, key, d);
	sodium_free(buf);
	if (!k->errors && type_is_secret(k->info.type) && k->loose_perms)
		return perm_refusal(path, k->mode, d);
	return k->errors ? kf_fail(k, d) : 0;
}

static int kf_expect(kf *k, int type, diag *d)
{
	if (k->info.type == type)
		return 0;
	diag_add(d, DIAG_ERROR, k->path, k->line[F_TYPE], 0,
	         "this key file is of type %s; type %s is needed here",
	         keys_type_name(k->info.type), keys_type_name(type));
	return diag_fail(d, EX_NOPERM, "%s: wrong kind of key file", k->path);
}

/* Read a key file that must be of the given type (a secret type is read
 * with the secret's permission checks). */
static int kf_load(const char *path, int type, kf *k, unsigned char key[32], diag *d)
{
	if (kf_read(path, type_is_secret(type), k, key, d) != 0)
		return -1;
	return kf_expect(k, type, d);
}

static int kf_check_id(kf *k, const unsigned char id[KEYS_ID_BYTES], diag *d)
{
	if (sodium_memcmp(id, k->info.id, KEYS_ID_BYTES) == 0)
		return 0;
	char hex[KEYS_ID_HEX];
	keys_id_hex(id, hex);
	diag_add(d, DIAG_ERROR, k->path, k->line[F_KEYID], 0,
	         "key-id %s does not match the key (whose id is %s): the file is damaged "
	         "or was edited", k->info.id_hex, hex);
	return diag_fail(d, EX_NOPERM, "%s: key-id does not match the key, refused", k->path);
}

int keys_load_office_secret(const char *path, keys_office_secret **out, diag *d)
{
	*out = NULL;
	keys_office_secret *k = secure_alloc(sizeof *k, d);
	if (!k)
		return -1;
	kf f;
	unsigned char id[KEYS_ID_BYTES];
	if (kf_load(path, KEYS_OFFICE_SECRET, &f, k->sk, d) != 0)
		goto fail;
	/* the file holds the 32-byte seed (now in sk[0..32)); re-derive the
	 * pair from a copy rather than rely on in-place behaviour */
	unsigned char *seed = secure_alloc(32, d);
	if (!seed)
		goto fail;
	memcpy(seed, k->sk, 32);
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	sodium_free(seed);
	keys_id(k->pk, id);
	if (kf_check_id(&f, id, d) != 0)
		goto fail;
	k->info = f.info;
	*out = k;
	return 0;
fail:
	sodium_free(k);
	return -1;
}

int keys_load_office_public(const char *path, keys_office_public *out, diag *d)
{
	memset(out, 0, sizeof *out);
	kf f;
	unsigned char *key = secure_alloc(32, d); /* could be a secret, if misfiled */
	if (!key)
		return -1;
	unsigned char id[KEYS_ID_BYTES];
	int rc = -1;
	if (kf_load(path, KEYS_OFFICE_PUBLIC, &f, key, d) != 0)
		goto done;
	keys_id(key, id);
	if (kf_check_id(&f, id, d) != 0)
		goto done;
	if (!crypto_core_ed25519_is_valid_point(key)) {
		diag_add(d, DIAG_ERROR, path, f.line[F_KEY], 0,
		         "key is not a valid Ed25519 public key");
		diag_fail(d, EX_NOPERM, "%s: not a usable office public key, refused", path);
		goto done;
	}
	out->info = f.info;
	memcpy(out->pk, key, 32);
	rc = 0;
done:
	sodium_free(key);
	return rc;
}

int keys_load_aggregator_secret(const char *path, keys_aggregator_secret **out, diag *d)
{
	*out = NULL;
	keys_aggregator_secret *k = secure_alloc(sizeof *k, d);
	if (!k)
		return -1;
	kf f;
	unsigned char id[KEYS_ID_BYTES];
	if (kf_load(path, KEYS_AGGREGATOR_SECRET, &f, k->sk, d) != 0)
		goto fail;
	crypto_scalarmult_base(k->pk, k->sk);
	keys_id(k->pk, id);
	if (kf_check_id(&f, id, d) != 0)
		goto fail;
	k->info = f.info;
	*out = k;
	return 0;
fail:
	sodium_free(k);
	return -1;
}

int keys_load_aggregator_public(const char *path, keys_aggregator_public *out, diag *d)
{
	memset(out, 0, sizeof *out);
	kf f;
	unsigned char *key = secure_alloc(32, d);
	if (!key)
		return -1;
	unsigned char id[KEYS_ID_BYTES];
	int rc = -1;
	if (kf_load(path, KEYS_AGGREGATOR_PUBLIC, &f, key, d) != 0)
		goto done;
	keys_id(key, id);
	if (kf_check_id(&f, id, d) != 0)
		goto done;
	out->info = f.info;
	memcpy(out->pk, key, 32);
	rc = 0;
done:
	sodium_free(key);
	return rc;
}

int keys_load_pseudonym(const char *path, unsigned char **out, diag *d)
{
	*out = NULL;
	unsigned char *key = secure_alloc(32, d);
	if (!key)
		return -1;
	kf f;
	unsigned char id[KEYS_ID_BYTES];
	if (kf_load(path, KEYS_PSEUDONYM_SECRET, &f, key, d) != 0)
		goto fail;
	pseudonym_id(key, id);
	if (kf_check_id(&f, id, d) != 0)
		goto fail;
	*out = key;
	return 0;
fail:
	sodium_free(key);
	return -1;
}

int keys_describe(const char *path, keys_info *out, diag *d)
{
	memset(out, 0, sizeof *out);
	unsigned char *key = secure_alloc(32, d);
	if (!key)
		return -1;
	kf f;
	unsigned char id[KEYS_ID_BYTES];
	unsigned char *pair = NULL;
	int rc = -1;
	if (kf_read(path, 0, &f, key, d) != 0)
		goto done;
	unsigned char pk[32];
	switch (f.info.type) {
	case KEYS_OFFICE_SECRET:
		if (!(pair = secure_alloc(64, d)))
			goto done;
		crypto_sign_seed_keypair(pk, pair, key);
		keys_id(pk, id);
		break;
	case KEYS_AGGREGATOR_SECRET:
		crypto_scalarmult_base(pk, key);
		keys_id(pk, id);
		break;
	case KEYS_PSEUDONYM_SECRET:
		pseudonym_id(key, id);
		break;
	default:
		keys_id(key, id);
		break;
	}
	if (kf_check_id(&f, id, d) != 0)
		goto done;
	*out = f.info;
	rc = 0;
done:
	if (pair)
		sodium_free(pair);
	sodium_free(key);
	return rc;
}
