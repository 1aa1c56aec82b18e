/* rbuf: see rbuf.h. */
#include "reports/rbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/atomic.h"

void rep_buf_free(rep_buf *b)
{
	free(b->s);
	memset(b, 0, sizeof *b);
}

void rep_buf_put(rep_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 1024;
		while (nc < b->n + n + 1)
			nc *= 2;
		char *ns = realloc(b->s, nc);
		if (!ns) {
			b->oom = 1;
			return;
		}
		b->s = ns;
		b->cap = nc;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = 0;
}

void rep_buf_puts(rep_buf *b, const char *s)
{
	rep_buf_put(b, s, strlen(s));
}

void rep_buf_printf(rep_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (k < 0) {
		b->oom = 1;
		return;
	}
	if ((size_t)k < sizeof tmp) {
		rep_buf_put(b, tmp, (size_t)k);
		return;
	}
	char *big = malloc((size_t)k + 1);
	if (!big) {
		b->oom = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)k + 1, fmt, ap);
	va_end(ap);
	rep_buf_put(b, big, (size_t)k);
	free(big);
}

void rep_buf_csv(rep_buf *b, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		rep_buf_puts(b, s);
		return;
	}
	rep_buf_puts(b, "\"");
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			rep_buf_puts(b, "\"\"");
		else
			rep_buf_put(b, p, 1);
	}
	rep_buf_puts(b, "\"");
}

void rep_buf_html(rep_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '&': rep_buf_puts(b, "&amp;"); break;
		case '<': rep_buf_puts(b, "&lt;"); break;
		case '>': rep_buf_puts(b, "&gt;"); break;
		case '"': rep_buf_puts(b, "&quot;"); break;
		case '\'': rep_buf_puts(b, "&#39;"); break;
		default:
			if (*p < 0x20 && *p != '\n' && *p != '\t')
				rep_buf_puts(b, " "); /* not allowed in XML 1.0 */
			else
				rep_buf_put(b, (const char *)p, 1);
		}
	}
}

void rep_buf_json(rep_buf *b, const char *s)
{
	rep_buf_puts(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': rep_buf_puts(b, "\\\""); break;
		case '\\': rep_buf_puts(b, "\\\\"); break;
		case '\n': rep_buf_puts(b, "\\n"); break;
		case '\r': rep_buf_puts(b, "\\r"); break;
		case '\t': rep_buf_puts(b, "\\t"); break;
		default:
			if (*p < 0x20)
				rep_buf_printf(b, "\\u%04x", *p);
			else
				rep_buf_put(b, (const char *)p, 1);
		}
	}
	rep_buf_puts(b, "\"");
}

void rep_buf_double(rep_buf *b, double v)
{
	char out[40];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, sizeof out, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			break;
	}
	rep_buf_puts(b, out);
}

int rep_buf_ok(const rep_buf *b, diag *d)
{
	return b->oom ? diag_fail(d, EX_OSERR, "out of memory") : 0;
}

int rep_buf_write(const rep_buf *b, const char *path, diag *d)
{
	if (rep_buf_ok(b, d) != 0)
		return -1;
	atomic_file af;
	if (atomic_open(path, 0644, &af, d) != 0)
		return -1;
	if (b->n && fwrite(b->s, 1, b->n, af.fp) != b->n) {
		atomic_abort(&af);
		return diag_fail(d, EX_IOERR, "%s: write failed", path);
	}
	return atomic_commit(&af, d);
}

int rep_buf_write_dir(const char *dir, const char *const *names, const rep_buf *b, size_t n,
                      diag *d)
{
	int made_dir = mkdir(dir, 0755) == 0;
	if (!made_dir && errno != EEXIST)
		return diag_fail(d, EX_CANTCREAT, "%s: cannot create directory: %s", dir,
		                 strerror(errno));
	size_t len = strlen(dir) + 32;
	char *path = malloc(len);
	if (!path) {
		if (made_dir)
			rmdir(dir);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	int rc = 0;
	size_t i;
	for (i = 0; i < n && rc == 0; i++) {
		snprintf(path, len, "%s/%s", dir, names[i]);
		rc = rep_buf_write(&b[i], path, d);
	}
	if (rc != 0) {
		/* all or nothing: remove the files this call wrote before the
		 * failing one (each write is atomic, so the failing one left
		 * nothing), and the directory if this call made it */
		for (size_t k = 0; k + 1 < i; k++) {
			snprintf(path, len, "%s/%s", dir, names[k]);
			unlink(path);
		}
		if (made_dir)
			rmdir(dir);
	}
	free(path);
	return rc;
}
