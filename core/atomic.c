/* atomic: see atomic.h. */
#include "core/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

static void af_release(atomic_file *af)
{
	free(af->path);
	free(af->tmp);
	memset(af, 0, sizeof *af);
}

int atomic_open(const char *path, mode_t mode, atomic_file *af, diag *d)
{
	memset(af, 0, sizeof *af);
	size_t n = strlen(path);
	af->path = strdup(path);
	af->tmp = malloc(n + 16);
	if (!af->path || !af->tmp) {
		af_release(af);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	snprintf(af->tmp, n + 16, "%s.tmp.XXXXXX", path);
	int fd = mkstemp(af->tmp);
	if (fd < 0) {
		int e = errno;
		af_release(af);
		return diag_fail(d, EX_CANTCREAT, "%s: cannot create: %s", path, strerror(e));
	}
	if (fchmod(fd, mode) != 0 || !(af->fp = fdopen(fd, "wb"))) {
		int e = errno;
		close(fd);
		unlink(af->tmp);
		af_release(af);
		return diag_fail(d, EX_CANTCREAT, "%s: cannot create: %s", path, strerror(e));
	}
	return 0;
}

int atomic_commit(atomic_file *af, diag *d)
{
	int err = 0;
	if (fflush(af->fp) != 0 || ferror(af->fp))
		err = errno ? errno : EIO;
	if (!err && fsync(fileno(af->fp)) != 0)
		err = errno;
	if (fclose(af->fp) != 0 && !err)
		err = errno ? errno : EIO;
	af->fp = NULL;
	if (!err && rename(af->tmp, af->path) != 0)
		err = errno;
	if (err) {
		unlink(af->tmp);
		diag_fail(d, EX_IOERR, "%s: write failed: %s", af->path, strerror(err));
		af_release(af);
		return -1;
	}
	af_release(af);
	return 0;
}

void atomic_abort(atomic_file *af)
{
	if (af->fp)
		fclose(af->fp);
	if (af->tmp)
		unlink(af->tmp);
	af_release(af);
}
