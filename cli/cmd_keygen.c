/* tipstat keygen: make an office, aggregator or pseudonym key file. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include "cli/cli.h"
#include "ingest/keys.h"

static const char usage_text[] =
"usage: tipstat keygen --type TYPE [--country ISO3] [--demo] -o FILE\n"
"       tipstat keygen --describe FILE\n"
"       tipstat keygen --public SECRET [-o FILE]\n"
"\n"
"Make a key. Secret files are written 0600 and never overwritten; a\n"
"secret file that others can read is refused when loaded, like ssh.\n"
"\n"
"types:\n"
"  office       Ed25519 signing key of a national office (needs --country);\n"
"               writes FILE (secret) and FILE.pub (public, for the aggregator)\n"
"  aggregator   X25519 receiving key of the aggregator; FILE and FILE.pub\n"
"  pseudonym    secret key for hashing national case ids (stays in the office)\n"
"\n"
"options:\n"
"  -t, --type TYPE       office | aggregator | pseudonym\n"
"  -c, --country ISO3    the office's country (office keys)\n"
"      --demo            mark the key as a demo/test key\n"
"  -o, --output FILE     where to write the (secret) key\n"
"  -d, --describe FILE   print what a key file is (never the key)\n"
"  -p, --public SECRET   write the public file of an office or aggregator\n"
"                        secret again (to SECRET.pub, or -o FILE): for a lost\n"
"                        .pub, or one a crash of keygen did not write\n"
"  -h, --help            this help\n"
"\n"
"exit codes: 0 ok, 64 usage, 66 no input, 73 exists/cannot create, 77 refused\n";

static int describe(const char *path)
{
	diag d;
	diag_init(&d, 10);
	keys_info ki;
	int rc = 0;
	if (keys_describe(path, &ki, &d) != 0) {
		rc = cli_report(&d, "keygen");
	} else {
		printf("file:    %s\ntype:    %s\n", path, keys_type_name(ki.type));
		if (ki.country[0])
			printf("country: %s\n", ki.country);
		printf("key-id:  %s\ncreated: %s\ndemo:    %s\n", ki.id_hex, ki.created,
		       ki.demo ? "yes (not for real use)" : "no");
	}
	diag_free(&d);
	return rc;
}

/* --public SECRET [-o FILE] */
static int public_of(const char *secret, const char *out)
{
	char pub[4096];
	if (!out) {
		snprintf(pub, sizeof pub, "%s.pub", secret);
		out = pub;
	}
	diag d;
	diag_init(&d, 10);
	int rc = keys_save_public_of(secret, out, &d) == 0 ? 0 : cli_report(&d, "keygen");
	if (rc == 0)
		printf("%s\n", out);
	diag_free(&d);
	return rc;
}

int cmd_keygen(int argc, char **argv)
{
	static const struct option lo[] = {
		{"type", required_argument, 0, 't'}, {"country", required_argument, 0, 'c'},
		{"demo", no_argument, 0, 'D'}, {"output", required_argument, 0, 'o'},
		{"describe", required_argument, 0, 'd'}, {"public", required_argument, 0, 'p'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}};
	const char *type = NULL, *country = NULL, *out = NULL, *desc = NULL, *pubof = NULL;
	int demo = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:c:o:d:p:h", lo, NULL)) != -1) {
		switch (c) {
		case 't': type = optarg; break;
		case 'c': country = optarg; break;
		case 'D': demo = 1; break;
		case 'o': out = optarg; break;
		case 'd': desc = optarg; break;
		case 'p': pubof = optarg; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return cli_usage_error("keygen", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("keygen", "unexpected argument '%s'", argv[optind]);
	if (sodium_init() < 0)
		return EX_SOFTWARE;
	if (desc)
		return describe(desc);
	if (pubof)
		return public_of(pubof, out);
	if (!type || !out)
		return cli_usage_error("keygen", "--type and -o are required");
	char pub[4096];
	snprintf(pub, sizeof pub, "%s.pub", out);
	diag d;
	diag_init(&d, 10);
	int ok;
	if (!strcmp(type, "office")) {
		if (!country || !keys_valid_country(country)) {
			diag_free(&d);
			return cli_usage_error("keygen", "office keys need --country ISO3 (e.g. DEU)");
		}
		ok = keys_generate_office(country, demo, out, pub, &d) == 0;
	} else if (!strcmp(type, "aggregator")) {
		ok = keys_generate_aggregator(demo, out, pub, &d) == 0;
	} else if (!strcmp(type, "pseudonym")) {
		ok = keys_generate_pseudonym(demo, out, &d) == 0;
	} else {
		diag_free(&d);
		return cli_usage_error("keygen", "--type must be office, aggregator or pseudonym");
	}
	int rc = ok ? 0 : cli_report(&d, "keygen");
	if (ok)
		printf("%s%s%s\n", out, strcmp(type, "pseudonym") ? " and " : "",
		       strcmp(type, "pseudonym") ? pub : "");
	diag_free(&d);
	return rc;
}
