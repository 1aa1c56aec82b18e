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

/* b[i] to dir/names[i], each atomically; on a failure the files written
 * before it are removed (the failing one left nothing) */
static int write_files(const char *dir, const char *const *names, const strbuf *b, size_t n,
                       diag *d)
{
	size_t len = strlen(dir) + 32;
	char *path = malloc(len);
	if (!path)
		return diag_fail(d, EX_OSERR, "out of memory");
	int rc = 0;
	size_t i;
	for (i = 0; i < n && rc == 0; i++) {
		snprintf(path, len, "%s/%s", dir, names[i]);
		rc = rep_buf_write(&b[i], path, d);
	}
	if (rc != 0) {
		for (size_t k = 0; k + 1 < i; k++) {
			snprintf(path, len, "%s/%s", dir, names[k]);
			unlink(path);
		}
	}
	free(path);
	return rc;
}

int rep_buf_write_dir(const char *dir, const char *const *names, const strbuf *b, size_t n,
                      diag *d)
{
	struct stat sb;
	if (stat(dir, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode))
			return diag_fail(d, EX_CANTCREAT, "%s: cannot create directory: %s", dir,
			                 strerror(EEXIST));
		return write_files(dir, names, b, n, d);
	}
	/* a new directory is filled beside its place and renamed into it, so
	 * that even a crash (SIGKILL) leaves it complete or absent: at most a
	 * dir.partial-XXXXXX, as protect leaves one */
	size_t len = strlen(dir) + 32;
	char *tmp = malloc(len);
	if (!tmp)
		return diag_fail(d, EX_OSERR, "out of memory");
	snprintf(tmp, len, "%s.partial-XXXXXX", dir);
	if (!mkdtemp(tmp)) {
		int e = errno;
		free(tmp);
		return diag_fail(d, EX_CANTCREAT, "%s: cannot create directory: %s", dir,
		                 strerror(e));
	}
	int rc = chmod(tmp, 0755) == 0 ? 0
	         : diag_fail(d, EX_CANTCREAT, "%s: cannot create directory: %s", dir,
	                     strerror(errno));
	if (rc == 0)
		rc = write_files(tmp, names, b, n, d);
	if (rc == 0 && rename(tmp, dir) != 0) {
		int e = errno;
		rc = diag_fail(d, e == EEXIST || e == ENOTEMPTY ? EX_CANTCREAT : EX_IOERR,
		               "%s: cannot move the written directory into place: %s", dir,
		               strerror(e));
		char *path = malloc(len + 32);
		for (size_t k = 0; path && k < n; k++) {
			snprintf(path, len + 32, "%s/%s", tmp, names[k]);
			unlink(path);
		}
		free(path);
	}
	if (rc != 0)
		rmdir(tmp);
	free(tmp);
	return rc;
}
