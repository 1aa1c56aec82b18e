/* diag: see diag.h.  Messages are heap copies so callers may pass stack
 * buffers; growth is geometric and bounded by the item cap, so a file with
 * a million bad rows costs a hundred strings, not a million. */
#include "core/diag.h"

#include <stdlib.h>
#include <string.h>

static const char *sev_name[] = {"note", "warning", "error"};

void diag_init(diag *d, size_t max_items)
{
	memset(d, 0, sizeof *d);
	d->max_items = max_items;
}

void diag_reset(diag *d)
{
	size_t max = d->max_items;
	diag_free(d);
	d->max_items = max;
}

void diag_free(diag *d)
{
	for (size_t i = 0; i < d->n_items; i++) {
		free(d->items[i].file);
		free(d->items[i].msg);
	}
	free(d->items);
	size_t max = d->max_items;
	memset(d, 0, sizeof *d);
	d->max_items = max;
}

int diag_fail(diag *d, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof d->msg, fmt, ap);
	va_end(ap);
	d->code = code;
	return -1;
}

static char *vformat(const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

void diag_vadd(diag *d, int severity, const char *file, unsigned long line,
               unsigned long col, const char *fmt, va_list ap)
{
	if (severity == DIAG_ERROR)
		d->n_errors++;
	else if (severity == DIAG_WARNING)
		d->n_warnings++;
	size_t max = d->max_items ? d->max_items : DIAG_DEFAULT_MAX;
	if (d->n_items >= max) {
		d->n_dropped++;
		return;
	}
	if (d->n_items == d->cap_items) {
		size_t nc = d->cap_items ? d->cap_items * 2 : 16;
		if (nc > max)
			nc = max;
		diag_item *ni = realloc(d->items, nc * sizeof *ni);
		if (!ni) {
			d->n_dropped++;
			return;
		}
		d->items = ni;
		d->cap_items = nc;
	}
	diag_item *it = &d->items[d->n_items];
	it->severity = severity;
	it->line = line;
	it->col = col;
	it->file = file ? strdup(file) : NULL;
	it->msg = vformat(fmt, ap);
	if (!it->msg || (file && !it->file)) {
		free(it->file);
		free(it->msg);
		d->n_dropped++;
		return;
	}
	d->n_items++;
}

void diag_add(diag *d, int severity, const char *file, unsigned long line,
              unsigned long col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(d, severity, file, line, col, fmt, ap);
	va_end(ap);
}

void diag_merge(diag *into, const diag *from)
{
	size_t kept_err = 0, kept_warn = 0;
	for (size_t i = 0; i < from->n_items; i++) {
		const diag_item *it = &from->items[i];
		kept_err += it->severity == DIAG_ERROR;
		kept_warn += it->severity == DIAG_WARNING;
		diag_add(into, it->severity, it->file, it->line, it->col, "%s", it->msg);
	}
	into->n_errors += from->n_errors - kept_err;
	into->n_warnings += from->n_warnings - kept_warn;
	into->n_dropped += from->n_dropped;
	if (from->code) {
		into->code = from->code;
		memcpy(into->msg, from->msg, sizeof into->msg);
	}
}

void diag_format(const diag_item *it, char *buf, size_t size)
{
	const char *sev = sev_name[it->severity < 0 || it->severity > 2 ? 2 : it->severity];
	if (it->file && it->line && it->col)
		snprintf(buf, size, "%s:%lu:%lu: %s: %s", it->file, it->line, it->col, sev, it->msg);
	else if (it->file && it->line)
		snprintf(buf, size, "%s:%lu: %s: %s", it->file, it->line, sev, it->msg);
	else if (it->file)
		snprintf(buf, size, "%s: %s: %s", it->file, sev, it->msg);
	else
		snprintf(buf, size, "%s: %s", sev, it->msg);
}

void diag_print(const diag *d, FILE *fp, const char *prog)
{
	char line[2048];
	for (size_t i = 0; i < d->n_items; i++) {
		diag_format(&d->items[i], line, sizeof line);
		fprintf(fp, "%s\n", line);
	}
	if (d->n_dropped)
		fprintf(fp, "%s: %zu more diagnostics not shown (raise --max-errors)\n",
		        prog, d->n_dropped);
	if (d->n_items || d->n_dropped)
		fprintf(fp, "%s: %zu error%s, %zu warning%s\n", prog, d->n_errors,
		        d->n_errors == 1 ? "" : "s", d->n_warnings,
		        d->n_warnings == 1 ? "" : "s");
	if (d->msg[0])
		fprintf(fp, "%s: error: %s\n", prog, d->msg);
}
