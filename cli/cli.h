/* cli: what the command front ends share.
 *
 * Only cli/ prints to the user or exits.  Each command is a function
 * `int cmd_NAME(int argc, char **argv)` returning a sysexits.h code; it
 * parses options, calls the library, prints diagnostics and a summary.
 */
#ifndef TIPSTAT_CLI_H
#define TIPSTAT_CLI_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include "core/codelist.h"
#include "core/progress.h"
#include "core/diag.h"
#include "aggregator/warehouse.h"

typedef int (*cli_cmd_fn)(int argc, char **argv);

/* Print "tipstat CMD: error: MSG" and a hint to --help; returns EX_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print every diagnostic and the failure message to stderr; return the
 * exit code to use (d->code, or EX_SOFTWARE if a failure set none). */
int cli_report(const diag *d, const char *cmd);
/* Load the codelists from dir (NULL: the default directory). */
int cli_load_codelists(const char *dir, codelists *cl, const char *cmd);
/* The front end of the commands that turn a release directory into files
 * (report, export): RELEASE_DIR -o OUT_DIR [--codelists DIR] [-h], the
 * release and the population table loaded, write() called, a one-line
 * summary naming `files` printed.  Returns the exit code. */
struct rel_table;
struct codelists;
struct pop_table;
typedef int (*cli_release_writer)(const struct rel_table *rel, const struct codelists *cl,
                                  const struct pop_table *pop, const char *outdir, diag *d);
int cli_release_files(int argc, char **argv, const char *cmd, const char *usage,
                      cli_release_writer write, const char *files);
/* Parse an unsigned number option; -1 and a usage message when bad. */
int cli_parse_size(const char *cmd, const char *opt, const char *s, size_t *out);
/* 1 if stderr is a terminal (progress bars only then). */
int cli_is_tty(void);
/* The progress line on stderr for library callbacks (ingest_opts.progress
 * and the like): formatted by core/progress, at most ten times a second.
 * The caller decides whether to show it at all (a terminal, not --quiet).
 * cli_progress_end closes the line (with the final figures when ok; total
 * 0 = the last total reported). */
typedef struct cli_progress_state {
	progress p;
	int shown;
} cli_progress_state;
void cli_progress_init(cli_progress_state *s, const char *label);
/* The same over counted items (e.g. "tables"). */
void cli_progress_init_items(cli_progress_state *s, const char *label, const char *unit,
                             uint64_t total);
void cli_progress(void *ctx, uint64_t done, uint64_t total);
/* The hook for a library call: the line of s on a terminal unless quiet,
 * else a hook that reports nothing. */
progress_hook cli_progress_hook(cli_progress_state *s, int quiet);
void cli_progress_end(cli_progress_state *s, int ok, uint64_t total);

/* The warehouse path: the option if given, else $TIPSTAT_WAREHOUSE, else
 * "warehouse.db" in the current directory. */
const char *cli_warehouse_path(const char *opt);
/* Open the warehouse (flags of wh_open); on failure print and return the
 * exit code, else 0. */
int cli_open_warehouse(const char *path, int flags, wh **out, const char *cmd);
/* SHA-256 of a whole file as 64 lower-case hex digits (EX_NOINPUT when it
 * cannot be opened, EX_IOERR on a read error). */
int cli_file_sha256(const char *path, char hex[65], diag *d);
/* Current UTC time as "YYYY-MM-DDTHH:MM:SSZ". */
void cli_now(char buf[21]);

#endif
