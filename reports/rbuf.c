/* rbuf: see rbuf.h. */
#include "reports/rbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/atomic.h"

void rep_buf_csv(strbuf *b, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		strbuf_puts(b, s);
		return;
	}
	strbuf_puts(b, "\"");
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			strbuf_puts(b, "\"\"");
		else
			strbuf_put(b, p, 1);
	}
	strbuf_puts(b, "\"");
}

void rep_buf_html(strbuf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '&': strbuf_puts(b, "&amp;"); break;
		case '<': strbuf_puts(b, "&lt;"); break;
		case '>': strbuf_puts(b, "&gt;"); break;
		case '"': strbuf_puts(b, "&quot;"); break;
		case '\'': strbuf_puts(b, "&#39;"); break;
		default:
			if (*p < 0x20 && *p != '\n' && *p != '\t')
				strbuf_puts(b, " "); /* not allowed in XML 1.0 */
			else
				strbuf_put(b, (const char *)p, 1);
		}
	}
}

int rep_buf_write(const strbuf *b, const char *path, diag *d)
{
	if (strbuf_ok(b, d) != 0)
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

int rep_buf_write_dir(const char *dir, const char *const *names, const strbuf *b, size_t n,
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
