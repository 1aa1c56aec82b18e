/* tipstat query: answer a researcher's signed request (privacy/query.h):
 * checked, answered with discrete Gaussian noise (or from the answer
 * cache), charged atomically, written as CSV with 90% margins. */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "aggregator/warehouse.h"
#include "cli/cli.h"
#include "core/atomic.h"
#include "privacy/dprng.h"
#include "privacy/ledger.h"
#include "privacy/query.h"
#include "privacy/request.h"

static const char usage_text[] =
"usage: tipstat query [-w DB] REQUEST.signed -o ANSWER.csv\n"
"\n"
"Answer a researcher's signed request (tipstat request sign): the\n"
"signature is checked against the researcher's account key, the account\n"
"must be active (not revoked, not expired) and its budget must hold the\n"
"answer's rho. Every cell of the asked table gets discrete Gaussian noise\n"
"(sigma^2 = 1/(2 rho); each person is in one cell, so the L2 sensitivity is\n"
"1), negative values become 0, and the 90% margin of error is given per\n"
"cell. The charge, the stored answer and the audit entry are one\n"
"transaction. A question asked before (by anyone) is answered from the\n"
"store at no cost with the same numbers; a margin of a stored table (fewer\n"
"group-by dimensions, or a coarser geography) is summed from it at no\n"
"cost. The budget left is printed.\n"
"\n"
"options:\n"
"  -w, --warehouse DB    warehouse (default $TIPSTAT_WAREHOUSE or ./warehouse.db)\n"
"  -o, --output FILE     the answer, CSV: group-by columns,value,moe_lo,moe_hi\n"
"      --codelists DIR   codelists (default datasets/codelists)\n"
"      --test-seed N     reproducible noise for tests (needs\n"
"                        TIPSTAT_ALLOW_TEST_SEED=1); output is NOT PRIVATE\n"
"  -h, --help            this help\n"
"\n"
"exit codes: 0 ok, 64 usage, 65 bad request, 66 no input or warehouse,\n"
"            73 cannot create output, 75 warehouse locked, 77 refused (bad\n"
"            signature, unknown/revoked/expired account, budget too small:\n"
"            nothing is charged)\n";

#define CMD "query"

/* The answer into the atomic temporary, on disk before the charge commits
 * (qry_ask_to): a full disk here charges nothing. */
struct sink_arg {
	atomic_file *af;
	const char *path;
};

static int write_answer(const qry_answer *a, void *arg, diag *d)
{
	const struct sink_arg *s = arg;
	errno = 0;
	if (qry_write_csv(a, s->af->fp, d) != 0 || fflush(s->af->fp) != 0 ||
	    fsync(fileno(s->af->fp)) != 0)
		return diag_fail(d, EX_IOERR, "%s: cannot write the answer: %s; nothing was charged",
		                 s->path, errno ? strerror(errno) : "write error");
	return 0;
}

int cmd_query(int argc, char **argv)
{
	static const struct option lo[] = {
		{"warehouse", required_argument, 0, 'w'}, {"output", required_argument, 0, 'o'},
		{"codelists", required_argument, 0, 'C'}, {"test-seed", required_argument, 0, 'S'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *whp = NULL, *outp = NULL, *cl_dir = NULL, *seed_s = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "w:o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'w': whp = optarg; break;
		case 'o': outp = optarg; break;
		case 'C': cl_dir = optarg; break;
		case 'S': seed_s = optarg; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return cli_usage_error(CMD, "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(CMD, "give one REQUEST file");
	if (!outp)
		return cli_usage_error(CMD, "give -o ANSWER.csv");
	uint64_t seed = 0;
	if (seed_s) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(seed_s, &end, 10);
		if (errno || end == seed_s || *end)
			return cli_usage_error(CMD, "--test-seed wants an integer");
		if (!getenv("TIPSTAT_ALLOW_TEST_SEED") || strcmp(getenv("TIPSTAT_ALLOW_TEST_SEED"), "1"))
			return cli_usage_error(CMD, "--test-seed makes NOT PRIVATE noise for tests; set "
			                       "TIPSTAT_ALLOW_TEST_SEED=1 to use it");
		seed = v;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "tipstat %s: error: libsodium failed to initialise\n", CMD);
		return EX_SOFTWARE;
	}
	const char *path = argv[optind];
	diag d = DIAG_INIT;
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		fprintf(stderr, "tipstat %s: error: %s: cannot open\n", CMD, path);
		return EX_NOINPUT;
	}
	char *text = malloc(REQ_TEXT_MAX + 2);
	size_t len = text ? fread(text, 1, REQ_TEXT_MAX + 1, fp) : 0;
	fclose(fp);
	if (!text)
		return EX_OSERR;
	text[len] = 0;
	codelists cl;
	int rc = cli_load_codelists(cl_dir, &cl, CMD);
	if (rc) {
		free(text);
		return rc;
	}
	wh *w = NULL;
	dprng *rng = NULL;
	req_request r;
	qry_answer a = {0};
	atomic_file af = {0};
	if (req_parse(text, len, path, &cl, 0, &r, &d) != 0)  /* unsigned: refused (and audited) by qry_ask */
		goto fail;
	rc = cli_open_warehouse(cli_warehouse_path(whp), 0, &w, CMD);
	if (rc)
		goto out;
	if ((seed_s ? dprng_new_seeded(seed, &rng, &d) : dprng_new(&rng, &d)) != 0)
		goto fail;
	/* the answer's place before the question: nothing is charged for an
	 * answer that could not be written anywhere (the temporary is removed
	 * on every failure below) */
	if (atomic_open(outp, 0644, &af, &d) != 0)
		goto fail;
	char now[21];
	cli_now(now);
	struct sink_arg sa = {&af, outp};
	if (qry_ask_to(w, &cl, &r, text, len, rng, now, write_answer, &sa, &a, &d) != 0) {
		if (d.code == EX_NOPERM && !strstr(d.msg, "nothing was charged")) {
			size_t l = strlen(d.msg);
			snprintf(d.msg + l, sizeof d.msg - l, "; nothing was charged");
		}
		goto fail;
	}
	if (atomic_commit(&af, &d) != 0)
		goto fail;
	char rho[LEDGER_RHO_STR], ch[LEDGER_RHO_STR], left[LEDGER_RHO_STR], tot[LEDGER_RHO_STR];
	ledger_format_rho(a.rho, rho);
	ledger_format_rho(a.charged, ch);
	ledger_format_rho(a.left, left);
	ledger_format_rho(a.total, tot);
	static const char *const src[] = {"", "fresh", "cached", "derived"};
	printf("question %s: %s\n", a.qid, a.question);
	if (a.source == QRY_FRESH)
		printf("answer %lld: fresh, %zu cells, noise rho %s, charged %s rho\n",
		       (long long)a.answer_id, a.n_cells, rho, ch);
	else if (a.source == QRY_CACHED)
		printf("answer %lld: %s (asked before), %zu cells, noise rho %s, charged 0 rho\n",
		       (long long)a.answer_id, src[a.source], a.n_cells, rho);
	else
		printf("answer %lld: %s from answer %lld (its margin), %zu cells, charged 0 rho\n",
		       (long long)a.answer_id, src[a.source], (long long)a.from_id, a.n_cells);
	printf("budget researcher:%s: %s rho left of %s\n", r.researcher, left, tot);
	if (a.seeded)
		printf("NOT PRIVATE: test seed\n");
	printf("wrote %s\n", outp);
	rc = 0;
	goto out;
fail:
	atomic_abort(&af);
	rc = cli_report(&d, CMD);
out:
	qry_answer_free(&a);
	dprng_free(rng);
	if (w)
		wh_close(w);
	codelists_free(&cl);
	free(text);
	diag_free(&d);
	return rc;
}
