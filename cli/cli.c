/* cli: see cli.h. */
#include "cli/cli.h"

#include <sodium.h>
#include "core/sha256.h"
#include "core/text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "tipstat %s: error: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'tipstat %s --help'.\n", cmd);
	return EX_USAGE;
}

int cli_report(const diag *d, const char *cmd)
{
	char prog[64];
	snprintf(prog, sizeof prog, "tipstat %s", cmd);
	diag_print(d, stderr, prog);
	if (d->code)
		return d->code;
	return d->msg[0] ? EX_SOFTWARE : 0;
}

int cli_load_codelists(const char *dir, codelists *cl, const char *cmd)
{
	char buf[4096];
	diag d;
	diag_init(&d, 20);
	if (!dir)
		dir = codelists_default_dir(buf, sizeof buf);
	if (codelists_load(dir, cl, &d) != 0) {
		int rc = cli_report(&d, cmd);
		fprintf(stderr, "tipstat %s: cannot load the codelists from %s "
		        "(set TIPSTAT_DATASETS or --codelists)\n", cmd, dir);
		diag_free(&d);
		return rc ? rc : EX_CONFIG;
	}
	diag_free(&d);
	return 0;
}

int cli_parse_size(const char *cmd, const char *opt, const char *s, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-') {
		cli_usage_error(cmd, "%s needs a whole number, not '%s'", opt, s);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

int cli_is_tty(void)
{
	return isatty(STDERR_FILENO);
}

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_init(cli_progress_state *s, const char *label)
{
	s->shown = 0;
	progress_init(&s->p, label, 0, mono_now());
}

void cli_progress_init_items(cli_progress_state *s, const char *label, const char *unit,
                             uint64_t total)
{
	s->shown = 0;
	progress_init_items(&s->p, label, unit, total, mono_now());
}

void cli_progress(void *ctx, uint64_t done, uint64_t total)
{
	cli_progress_state *s = ctx;
	char line[128];
	if (total)
		s->p.total = total;
	if (progress_update(&s->p, done, mono_now(), line, sizeof line)) {
		fprintf(stderr, "\r%s\033[K", line);
		s->shown = 1;
	}
}

progress_hook cli_progress_hook(cli_progress_state *s, int quiet)
{
	progress_hook h = {NULL, NULL};
	if (!quiet && cli_is_tty()) {
		h.fn = cli_progress;
		h.ctx = s;
	}
	return h;
}

void cli_progress_end(cli_progress_state *s, int ok, uint64_t total)
{
	if (!s->shown)
		return;
	if (!total)
		total = s->p.total;
	if (ok)
		cli_progress(s, total, total);
	fputc('\n', stderr);
}

const char *cli_warehouse_path(const char *opt)
{
	if (opt && *opt)
		return opt;
	const char *e = getenv("TIPSTAT_WAREHOUSE");
	return e && *e ? e : "warehouse.db";
}

int cli_open_warehouse(const char *path, int flags, wh **out, const char *cmd)
{
	diag d;
	diag_init(&d, 20);
	int rc = 0;
	if (!(flags & WH_CREATE) && access(path, F_OK) != 0) {
		fprintf(stderr, "tipstat %s: error: no warehouse at %s (accept a package first, "
		        "or give --warehouse)\n", cmd, path);
		rc = EX_NOINPUT;
	} else if (wh_open(path, flags, out, &d) != 0) {
		rc = cli_report(&d, cmd);
	}
	diag_free(&d);
	return rc;
}

void cli_now(char buf[21])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int cli_file_sha256(const char *path, char hex[65], diag *d)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return diag_fail(d, EX_NOINPUT, "%s: cannot open", path);
	sha256_ctx st;
	sha256_init(&st, 0);
	unsigned char buf[65536], h[32];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		sha256_update(&st, buf, n);
	int err = ferror(f);
	fclose(f);
	if (err)
		return diag_fail(d, EX_IOERR, "%s: read error", path);
	sha256_final(&st, h);
	text_hex(h, 32, hex);
	return 0;
}
