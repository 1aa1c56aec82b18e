/* tipstat: the single binary, git style: `tipstat <command> [options]`.
 *
 * This file only dispatches; each command lives in cli/cmd_<name>.c as a
 * thin front end over the library.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include "cli/cli.h"
#include "cli/commands.h"

static const struct {
	const char *name;
	cli_cmd_fn fn;
	const char *summary;
} commands[] = {
#define X(name, summary) {#name, cmd_##name, summary},
	TIPSTAT_COMMANDS
#undef X
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage: tipstat <command> [options]\n\n"
	            "tipstat turns national trafficking-in-persons statistics into comparable,\n"
	            "privacy-protected global trend tables.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(fp, "\n'tipstat <command> --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("tipstat %s\n", TIPSTAT_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "tipstat: '%s' is not a command; see 'tipstat --help'\n", argv[1]);
	return EX_USAGE;
}
