/* strbuf: see strbuf.h. */
#include "core/strbuf.h"

#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

void strbuf_free(strbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof *b);
}

void strbuf_put(strbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 256;
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

void strbuf_puts(strbuf *b, const char *s)
{
	strbuf_put(b, s, strlen(s));
}

void strbuf_printf(strbuf *b, const char *fmt, ...)
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
		strbuf_put(b, tmp, (size_t)k);
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
	strbuf_put(b, big, (size_t)k);
	free(big);
}

void strbuf_json(strbuf *b, const char *s)
{
	strbuf_puts(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': strbuf_puts(b, "\\\""); break;
		case '\\': strbuf_puts(b, "\\\\"); break;
		case '\n': strbuf_puts(b, "\\n"); break;
		case '\r': strbuf_puts(b, "\\r"); break;
		case '\t': strbuf_puts(b, "\\t"); break;
		default:
			if (*p < 0x20)
				strbuf_printf(b, "\\u%04x", *p);
			else
				strbuf_put(b, (const char *)p, 1);
		}
	}
	strbuf_puts(b, "\"");
}

void strbuf_double(strbuf *b, double v)
{
	char out[40];
	/* %g drops to exponent form when the precision is below the number of
	 * integer digits ("5e+01" for 50): plain digits when v is a whole
	 * number a double holds exactly */
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		snprintf(out, sizeof out, "%.0f", v);
		strbuf_puts(b, out);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, sizeof out, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			break;
	}
	strbuf_puts(b, out);
}

int strbuf_ok(const strbuf *b, diag *d)
{
	return b->oom ? diag_fail(d, EX_OSERR, "out of memory") : 0;
}
