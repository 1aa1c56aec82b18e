/* tipstat protect: turn the warehouse's data into a protected release,
 * recorded in the warehouse's release register and audit trail. */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "aggregator/auditlog.h"
#include "aggregator/warehouse.h"
#include "cli/cli.h"
#include "cli/protect.h"
#include "core/atomic.h"
#include "privacy/recrel.h"
#include "privacy/relreg.h"
#include "privacy/release.h"

static const char usage_text[] =
"usage: tipstat protect --method METHOD --name NAME -o DIR [options]\n"
"\n"
"Build a protected release from the latest accepted submissions and record\n"
"it (method, parameters, the warehouse state it used, its privacy cost and\n"
"the hashes of its files) in the warehouse. Reports are built from releases.\n"
"\n"
"methods:\n"
"  kanon         case records, k-anonymous: quasi-identifiers generalised\n"
"                along the standard's hierarchies (country -> subregion ->\n"
"                region; quarter -> year; age band -> 0-17/18+; citizenship\n"
"                -> subregion -> region), the few records left in classes\n"
"                smaller than k suppressed; writes DIR/records.csv\n"
PROTECT_METHODS_HELP
"\n"
"options:\n"
"  -m, --method METHOD   see above (required)\n"
"  -n, --name NAME       release name, unique in the warehouse (required)\n"
"  -o, --output DIR      directory to write (must not exist)\n"
"  -w, --warehouse DB    warehouse (default $TIPSTAT_WAREHOUSE or ./warehouse.db)\n"
"  -k K                  kanon: smallest class size (default 11)\n"
"  -l L                  kanon: l-diversity of the form of exploitation (default off)\n"
"      --max-suppress P  kanon: at most P% of records suppressed (default 2)\n"
"      --indicator CODE  kanon: VIC, SUS, PROS or CONV (default VIC)\n"
PROTECT_OPTIONS_HELP
"      --as-of SEQ       use the warehouse as it was after audit entry SEQ\n"
"      --codelists DIR   codelists directory\n"
"  -q, --quiet           no progress line (it shows only on a terminal)\n"
"  -h, --help            this help\n"
"\n"
"exit codes: 0 ok, 64 usage, 65 bad data, 66 no warehouse, 73 output exists,\n"
"            77 refused (protection cannot be met, or the budget is spent)\n";

static int protect_kanon(const protect_opts *po, wh *w, const codelists *cl, diag *d)
{
	recrel_params p;
	recrel_params_default(&p);
	p.k = po->k ? po->k : 11;
	p.l = po->l;
	p.max_suppress_pct = po->max_suppress_pct >= 0 ? po->max_suppress_pct : 2.0;
	p.as_of_seq = po->as_of;
	p.indicator = cl_find(&cl->indicators, po->indicator, strlen(po->indicator));
	if (p.indicator < 0)
		return diag_fail(d, EX_USAGE, "--indicator '%s' is not an indicator code", po->indicator);
	recrel_result r;
	char path[4096], desc[256], hex[65], params[512], outputs[256];
	int rc = -1;
	if (recrel_build(w, cl, &p, &r, d) != 0)
		goto done;
	snprintf(path, sizeof path, "%s/records.csv", po->out);
	if (recrel_write(&r, cl, &p, path, d) != 0)
		goto done;
	recrel_describe(&r, desc, sizeof desc);
	if (cli_file_sha256(path, hex, d) != 0) {
		d->code = EX_IOERR; /* our own output could not be read back */
		goto done;
	}
	snprintf(outputs, sizeof outputs, "records.csv:%s", hex);
	snprintf(params, sizeof params, "k=%u l=%u indicator=%s suppressed=%zu published=%zu "
	         "min_class=%zu", p.k, p.l, po->indicator, r.k.n_suppressed, r.k.n_published,
	         r.k.min_class);
	int64_t seq = 0;
	char head[AUDIT_HEX];
	if (po->as_of == 0 && audit_head(wh_db(w), &seq, head, d) != 0)
		goto done;
	relreg_info ri = {.name = po->name, .method = "kanon", .params = params,
	                  .as_of_seq = po->as_of ? po->as_of : seq, .rho = 0, .private_ = 1,
	                  .outputs = outputs};
	/* the release note: what was generalised and how much was suppressed */
	snprintf(path, sizeof path, "%s/release.json", po->out);
	atomic_file af;
	if (atomic_open(path, 0644, &af, d) != 0)
		goto done;
	fprintf(af.fp,
	        "{\n  \"format\": \"" REL_FORMAT "\",\n  \"name\": \"%s\",\n"
	        "  \"method\": \"kanon\",\n  \"private\": true,\n  \"notice\": \"\",\n"
	        "  \"params\": {\"k\": %u, \"l\": %u, \"indicator\": \"%s\", "
	        "\"max_suppress_pct\": %g},\n"
	        "  \"generalisation\": \"%s\",\n"
	        "  \"records\": {\"persons\": %zu, \"re_reports_merged\": %zu, \"published\": %zu, "
	        "\"suppressed\": %zu},\n"
	        "  \"classes\": {\"count\": %zu, \"smallest\": %zu},\n"
	        "  \"utility\": {\"discernibility\": %.0f, \"precision_loss\": %.4f, "
	        "\"lattice_nodes\": %zu, \"feasible_nodes\": %zu},\n"
	        "  \"as_of_seq\": %lld,\n  \"outputs\": {\"records.csv\": \"%s\"}\n}\n",
	        po->name, p.k, p.l, po->indicator, p.max_suppress_pct, desc, r.n_records,
	        r.n_duplicates, r.k.n_published, r.k.n_suppressed, r.k.n_classes, r.k.min_class,
	        r.k.discernibility, r.k.precision_loss, r.k.nodes_evaluated, r.k.nodes_feasible,
	        (long long)ri.as_of_seq, hex);
	if (atomic_commit(&af, d) != 0)
		goto done;
	if (relreg_record(wh_db(w), "protect", &ri, NULL, d) != 0)
		goto done;
	printf("release %s (k-anonymity, k=%u%s): %zu of %zu records published, %zu suppressed "
	       "(%.2f%%), smallest class %zu\n  generalised: %s\n  discernibility %.0f, "
	       "precision loss %.3f\n  -> %s/records.csv\n", po->name, p.k,
	       p.l > 1 ? ", l-diverse forms" : "", r.k.n_published, r.n_records, r.k.n_suppressed,
	       r.n_records ? 100.0 * (double)r.k.n_suppressed / (double)r.n_records : 0.0,
	       r.k.min_class, desc, r.k.discernibility, r.k.precision_loss, po->dest);
	rc = 0;
done:
	recrel_result_free(&r);
	return rc;
}

int cmd_protect(int argc, char **argv)
{
	static const struct option lo[] = {
		{"method", required_argument, 0, 'm'}, {"name", required_argument, 0, 'n'},
		{"output", required_argument, 0, 'o'}, {"warehouse", required_argument, 0, 'w'},
		{"max-suppress", required_argument, 0, 'S'}, {"indicator", required_argument, 0, 'I'},
		{"as-of", required_argument, 0, 'A'}, {"codelists", required_argument, 0, 'C'},
		PROTECT_LONG_OPTIONS
		{"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	protect_opts po;
	protect_opts_default(&po);
	const char *whp = NULL, *cl_dir = NULL;
	size_t v;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "m:n:o:w:k:l:hq", lo, NULL)) != -1) {
		switch (c) {
		case 'q': po.quiet = 1; break;
		case 'm': po.method = optarg; break;
		case 'n': po.name = optarg; break;
		case 'o': po.dest = optarg; break;
		case 'w': whp = optarg; break;
		case 'C': cl_dir = optarg; break;
		case 'I': po.indicator = optarg; break;
		case 'k':
			if (cli_parse_size("protect", "-k", optarg, &v) != 0)
				return EX_USAGE;
			po.k = (unsigned)v;
			break;
		case 'l':
			if (cli_parse_size("protect", "-l", optarg, &v) != 0)
				return EX_USAGE;
			po.l = (unsigned)v;
			break;
		case 'S': po.max_suppress_pct = atof(optarg); break;
		case 'A':
			if (cli_parse_size("protect", "--as-of", optarg, &v) != 0)
				return EX_USAGE;
			po.as_of = (int64_t)v;
			break;
		case 'h': fputs(usage_text, stdout); return 0;
		default:
			if (protect_parse_option(&po, c, optarg) == 0)
				break;
			return cli_usage_error("protect", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("protect", "unexpected argument '%s'", argv[optind]);
	if (!po.method || !po.name || !po.dest)
		return cli_usage_error("protect", "--method, --name and -o DIR are required");
	if (!relreg_valid_name(po.name))
		return cli_usage_error("protect", "--name: use 1-64 of A-Z a-z 0-9 _ . -");
	if (sodium_init() < 0)
		return EX_SOFTWARE;
	codelists cl;
	int rc = cli_load_codelists(cl_dir, &cl, "protect");
	if (rc)
		return rc;
	wh *w = NULL;
	diag d;
	diag_init(&d, 20);
	if ((rc = cli_open_warehouse(cli_warehouse_path(whp), 0, &w, "protect")) != 0)
		goto done;
	int taken = 0;
	if (relreg_exists(wh_db(w), po.name, &taken, &d) != 0) {
		rc = cli_report(&d, "protect");
		goto done;
	}
	if (taken && strcmp(po.method, "dp") != 0) {
		fprintf(stderr, "tipstat protect: error: a release named '%s' already exists "
		        "(tipstat log show lists them); pick another --name\n", po.name);
		rc = EX_DATAERR;
		goto done;
	}
	/* The release is made in a temporary directory beside -o and renamed
	 * into place only once it is registered: a crash or a refusal never
	 * leaves a complete-looking release that the register does not know. */
	struct stat sb;
	char tmp[4096];
	if (lstat(po.dest, &sb) == 0 ||
	    snprintf(tmp, sizeof tmp, "%s.partial-%ld", po.dest, (long)getpid()) >= (int)sizeof tmp ||
	    mkdir(tmp, 0755) != 0) {
		fprintf(stderr, "tipstat protect: error: cannot create %s (it must not exist yet)\n",
		        po.dest);
		rc = EX_CANTCREAT;
		goto done;
	}
	po.out = tmp;
	int r;
	if (!strcmp(po.method, "kanon"))
		r = protect_kanon(&po, w, &cl, &d);
	else
		r = protect_tables(&po, w, &cl, &d);
	if (r == 0 && rename(tmp, po.dest) != 0) {
		fprintf(stderr, "tipstat protect: error: the release is registered but could not be "
		        "moved from %s to %s: %s\n", tmp, po.dest, strerror(errno));
		rc = EX_IOERR;
	} else if (r != 0) {
		rc = cli_report(&d, "protect");
		protect_remove_dir(tmp);
		fprintf(stderr, "tipstat protect: no release was made\n");
	}
done:
	wh_close(w);
	codelists_free(&cl);
	diag_free(&d);
	return rc;
}
