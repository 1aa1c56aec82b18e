/* tipstat accept: verify, decrypt and load sealed packages into the
 * warehouse, all or nothing per package.
 *
 * Order of checks (each refusal is logged in the audit trail with the
 * package's SHA-256 and a reason token, and changes nothing else):
 *   1. the clear header parses and the file has exactly the announced size
 *      (seal_peek);
 *   2. the signer key id names an ACTIVE key of the header's country in the
 *      trust store: a package "from DEU" signed by any other key is refused
 *      before decryption;
 *   3. decryption and the signature verify (seal_open_stream) into private
 *      temporary files (0600, in a 0700 directory, removed afterwards; not
 *      synced, being temporaries), the package's SHA-256 computed on the
 *      way (a refusal before that hashes the file on its own);
 *   4. the warehouse validates the inner file and manifest and refuses a
 *      replay (wh_load_submission), in one transaction with its audit entry.
 * Exit 77 for anything about the envelope or trust, 65 for bad data inside a
 * good envelope; with several packages the worst code wins and each package
 * stands alone. */
#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "aggregator/warehouse.h"
#include "cli/cli.h"
#include "ingest/keys.h"
#include "ingest/seal.h"

static const char usage_text[] =
"usage: tipstat accept --key AGGREGATOR.key [--warehouse DB] PKG...\n"
"\n"
"Verify and decrypt sealed packages (tipstat seal) and load each into the\n"
"warehouse, all or nothing. A package is refused (exit 77) when it is not\n"
"for this aggregator key, its signer is not an active key of its country in\n"
"the trust store (tipstat trust), any byte was changed, it is truncated, or\n"
"it replays a version not newer than the one stored; a good envelope with\n"
"bad data inside is refused with exit 65. Every acceptance and refusal is\n"
"written to the audit trail (tipstat log show).\n"
"\n"
"options:\n"
"  -k, --key FILE        aggregator secret key (tipstat keygen --type aggregator)\n"
"  -w, --warehouse DB    warehouse database (default $TIPSTAT_WAREHOUSE or\n"
"                        ./warehouse.db; created when missing)\n"
"  -q, --quiet           print nothing on success, no progress bar\n"
"  -h, --help            this help\n"
"\n"
"exit codes: 0 all accepted, 64 usage, 65 bad data inside a package, 66 no\n"
"            input, 74 I/O error, 75 warehouse busy, 77 package refused\n";

/* Diagnostics about the decrypted temporaries name the package instead:
 * "PKG[data]:12:5: error: ...". */
static void rename_place(diag *d, const char *tmp, const char *pkg, const char *part)
{
	char name[4096];
	snprintf(name, sizeof name, "%s[%s]", pkg, part);
	for (size_t i = 0; i < d->n_items; i++) {
		if (!d->items[i].file || strcmp(d->items[i].file, tmp))
			continue;
		char *dup = strdup(name);
		if (dup) {
			free(d->items[i].file);
			d->items[i].file = dup;
		}
	}
	size_t tl = strlen(tmp);
	if (!strncmp(d->msg, tmp, tl)) {
		char msg[sizeof d->msg + 4096];
		snprintf(msg, sizeof msg, "%s%s", name, d->msg + tl);
		memcpy(d->msg, msg, sizeof d->msg - 1);
		d->msg[sizeof d->msg - 1] = 0;
	}
}

/* A reason token for the audit log from the failure's exit code. */
static const char *reason_of(int code, const char *msg)
{
	if (strstr(msg, "replay") || strstr(msg, "not newer"))
		return "replay";
	if (code == EX_DATAERR)
		return "bad_data";
	if (strstr(msg, "signature"))
		return "bad_signature";
	if (strstr(msg, "truncat") || strstr(msg, "size"))
		return "truncated";
	return "not_authentic";
}

typedef struct accept_ctx {
	wh *w;
	const keys_aggregator_secret *agg;
	const char *tmpdir;
	int quiet;
} accept_ctx;

static void log_refusal(accept_ctx *a, const char *pkg_sha, const seal_header *h, int have_h,
                        const char *reason, const diag *d)
{
	wh_refusal_info r = {.actor = "accept", .package_sha256 = pkg_sha[0] ? pkg_sha : NULL,
	                     .reason = reason, .code = d->code ? d->code : EX_NOPERM,
	                     .n_errors = d->n_errors};
	if (have_h) {
		r.country = h->country;
		r.periods = h->periods;
		r.version = h->version;
		r.signer_key_id = h->signer_id_hex;
	}
	diag d2;
	diag_init(&d2, 4);
	if (wh_refusal(a->w, &r, NULL, &d2) != 0)
		cli_report(&d2, "accept");
	diag_free(&d2);
}

/* A refusal before seal_open_stream hashed the package: hash it now.  0,
 * or -1 with *d replaced by the read error (a package that cannot be read
 * is reported, not logged). */
static int hash_now(const char *pkg, char sha[65], diag *d)
{
	if (sha[0])
		return 0;
	diag d2;
	diag_init(&d2, 4);
	if (cli_file_sha256(pkg, sha, &d2) == 0) {
		diag_free(&d2);
		return 0;
	}
	diag_free(d);
	*d = d2;
	return -1;
}

/* A private temporary file for plaintext (0600; the directory is 0700). */
static FILE *tmp_create(const char *path, diag *d)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		diag_fail(d, EX_CANTCREAT, "%s: cannot create a private temporary file", path);
	}
	return f;
}

/* Accept one package; returns its exit code (0 accepted). */
static int accept_one(accept_ctx *a, const char *pkg)
{
	diag d;
	diag_init(&d, 50);
	char sha[65] = "";
	seal_header h;
	int rc;
	char data[4200], man[4200]; /* tmpdir (< 4096) + a file name */
	snprintf(data, sizeof data, "%s/data", a->tmpdir);
	snprintf(man, sizeof man, "%s/manifest", a->tmpdir);
	FILE *od = NULL, *om = NULL;
	if (seal_peek(pkg, &h, &d) != 0) {
		if (hash_now(pkg, sha, &d) != 0)
			goto refused_nolog;
		log_refusal(a, sha, &h, 0, "malformed_header", &d);
		goto refused;
	}
	if (strcmp(h.aggregator_id_hex, a->agg->info.id_hex) != 0) {
		diag_fail(&d, EX_NOPERM, "%s: sealed for aggregator key %s, not for this key %s",
		          pkg, h.aggregator_id_hex, a->agg->info.id_hex);
		if (hash_now(pkg, sha, &d) != 0)
			goto refused_nolog;
		log_refusal(a, sha, &h, 1, "wrong_aggregator", &d);
		goto refused;
	}
	wh_key *keys = NULL;
	size_t nk = 0;
	if (wh_key_active(a->w, h.country, &keys, &nk, &d) != 0)
		goto refused_nolog;
	const unsigned char *pk = NULL;
	for (size_t i = 0; i < nk; i++)
		if (!strcmp(keys[i].key_id, h.signer_id_hex))
			pk = keys[i].public_key;
	if (!pk) {
		diag_fail(&d, EX_NOPERM, "%s: signed by key %s, which is not an active key of %s "
		          "in the trust store (tipstat trust list %s)", pkg, h.signer_id_hex,
		          h.country, h.country);
		free(keys);
		if (hash_now(pkg, sha, &d) != 0)
			goto refused_nolog;
		log_refusal(a, sha, &h, 1, "unknown_key", &d);
		goto refused;
	}
	unsigned char office_pk[32];
	memcpy(office_pk, pk, 32);
	free(keys);
	if (!(od = tmp_create(data, &d)) || !(om = tmp_create(man, &d)))
		goto refused_nolog;
	cli_progress_state bar;
	cli_progress_init(&bar, "decrypt");
	progress_hook pg = cli_progress_hook(&bar, a->quiet);
	int so = seal_open_stream(pkg, a->agg, office_pk, od, om, NULL, sha, &pg, &d);
	cli_progress_end(&bar, so == 0, 0);
	int e1 = fclose(od), e2 = fclose(om);
	od = om = NULL;
	if (so == 0 && (e1 != 0 || e2 != 0)) {
		diag_fail(&d, EX_IOERR, "%s: cannot write the decrypted package to %s", pkg,
		          a->tmpdir);
		goto refused_nolog;
	}
	if (so != 0) {
		if (hash_now(pkg, sha, &d) != 0)
			goto refused_nolog;
		log_refusal(a, sha, &h, 1, reason_of(d.code, d.msg), &d);
		goto refused;
	}
	wh_submission_meta meta = {.actor = "accept", .country = h.country, .periods = h.periods,
	                           .version = h.version, .kind = h.kind, .package_sha256 = sha,
	                           .signer_key_id = h.signer_id_hex};
	int64_t id = 0;
	cli_progress_init(&bar, "load");
	pg = cli_progress_hook(&bar, a->quiet);
	wh_set_progress(a->w, &pg);
	int lr = wh_load_submission(a->w, &meta, data, man, &id, &d);
	wh_set_progress(a->w, NULL);
	cli_progress_end(&bar, lr == 0, 0);
	unlink(data);
	unlink(man);
	if (lr != 0) {
		rename_place(&d, data, pkg, "data");
		rename_place(&d, man, pkg, "manifest");
		log_refusal(a, sha, &h, 1, reason_of(d.code, d.msg), &d);
		goto refused;
	}
	if (!a->quiet)
		printf("accepted %s: %s %s version %u (%s) as submission %lld\n", pkg, h.country,
		       h.periods, h.version, seal_kind_name(h.kind), (long long)id);
	diag_free(&d);
	return 0;
refused:
	rc = cli_report(&d, "accept");
	fprintf(stderr, "tipstat accept: %s refused; the warehouse is unchanged (the refusal "
	        "is logged)\n", pkg);
	goto out;
refused_nolog:
	rc = cli_report(&d, "accept");
out:
	if (od)
		fclose(od);
	if (om)
		fclose(om);
	diag_free(&d);
	unlink(data);
	unlink(man);
	return rc ? rc : EX_NOPERM;
}

int cmd_accept(int argc, char **argv)
{
	static const struct option lo[] = {
		{"key", required_argument, 0, 'k'}, {"warehouse", required_argument, 0, 'w'},
		{"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *key = NULL, *whp = NULL;
	int quiet = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "k:w:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'k': key = optarg; break;
		case 'w': whp = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return cli_usage_error("accept", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("accept", "give at least one package");
	if (!key)
		return cli_usage_error("accept", "--key (the aggregator secret key) is required");
	if (sodium_init() < 0)
		return EX_SOFTWARE;
	diag d;
	diag_init(&d, 20);
	keys_aggregator_secret *agg = NULL;
	wh *w = NULL;
	int rc = 0;
	if (keys_load_aggregator_secret(key, &agg, &d) != 0) {
		rc = cli_report(&d, "accept");
		goto done;
	}
	if ((rc = cli_open_warehouse(cli_warehouse_path(whp), WH_CREATE, &w, "accept")) != 0)
		goto done;
	char tmpl[4096];
	const char *td = getenv("TMPDIR");
	snprintf(tmpl, sizeof tmpl, "%s/tipstat-accept.XXXXXX", td && *td ? td : "/tmp");
	if (!mkdtemp(tmpl)) {
		fprintf(stderr, "tipstat accept: error: cannot create a private temporary "
		        "directory in %s\n", td && *td ? td : "/tmp");
		rc = EX_CANTCREAT;
		goto done;
	}
	accept_ctx a = {.w = w, .agg = agg, .tmpdir = tmpl, .quiet = quiet};
	int n_ok = 0, n_bad = 0;
	for (int i = optind; i < argc; i++) {
		int r = accept_one(&a, argv[i]);
		if (r == 0)
			n_ok++;
		else {
			n_bad++;
			/* worst code: refusal (77) over bad data (65) over others */
			if (rc == 0 || r == EX_NOPERM || (r == EX_DATAERR && rc != EX_NOPERM))
				rc = r;
		}
	}
	rmdir(tmpl);
	if (n_bad && argc - optind > 1)
		fprintf(stderr, "tipstat accept: %d accepted, %d refused\n", n_ok, n_bad);
done:
	wh_close(w);
	keys_free_aggregator_secret(agg);
	diag_free(&d);
	return rc;
}
