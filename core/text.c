/* text: see text.h.  Everything here is byte-oriented and allocation-free
 * so it can sit on the ingest hot path. */
#include "core/text.h"

#include <string.h>

static int is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

size_t text_norm(const char *s, size_t n, char *out, size_t outsz)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, i = 0;
	int pending_space = 0;
	if (!outsz)
		return 0;
	while (i < n && is_ws(p[i]))
		i++;
	for (; i < n && o + 1 < outsz; i++) {
		unsigned char c = p[i];
		if (is_ws(c)) {
			pending_space = 1;
			continue;
		}
		if (pending_space) {
			if (o + 2 >= outsz)
				break;
			out[o++] = ' ';
			pending_space = 0;
		}
		if (c >= 'A' && c <= 'Z') {
			out[o++] = (char)(c + 32);
		} else if (c == 0xC3 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9E &&
		           p[i + 1] != 0x97) {
			/* U+00C0..U+00DE (Latin-1 capitals, not U+00D7 '×'):
			 * lower case is +0x20 on the second byte. */
			if (o + 2 >= outsz)
				break;
			out[o++] = (char)c;
			out[o++] = (char)(p[++i] + 0x20);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return o;
}

int text_utf8_valid(const char *s, size_t n, size_t *bad_at)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned char c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t len;
		unsigned cp;
		if (c >= 0xC2 && c <= 0xDF) {
			len = 2; cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3; cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4; cp = c & 0x07;
		} else {
			goto bad;
		}
		if (i + len > n)
			goto bad;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				goto bad;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad;
		i += len;
		continue;
	bad:
		if (bad_at)
			*bad_at = i;
		return 0;
	}
	return 1;
}

size_t text_utf8_len(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			k++;
	return k;
}

size_t text_latin1_to_utf8(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			out[o++] = (char)c;
		} else {
			out[o++] = (char)(0xC0 | (c >> 6));
			out[o++] = (char)(0x80 | (c & 0x3F));
		}
	}
	out[o] = '\0';
	return o;
}

unsigned text_edit_distance(const char *a, const char *b, unsigned cap)
{
	size_t na = strlen(a), nb = strlen(b);
	if (na > 63 || nb > 63)
		return cap;
	unsigned row[64];
	for (size_t j = 0; j <= nb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= na; i++) {
		unsigned diag_prev = row[0];
		row[0] = (unsigned)i;
		unsigned best = row[0];
		for (size_t j = 1; j <= nb; j++) {
			unsigned up = row[j];
			unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
			unsigned v = diag_prev + cost;
			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			diag_prev = up;
			if (v < best)
				best = v;
		}
		if (best >= cap)
			return cap;
	}
	return row[nb] < cap ? row[nb] : cap;
}

void text_quote(const char *s, size_t n, char *out, size_t outsz)
{
	size_t o = 0;
	if (!outsz)
		return;
	size_t lim = outsz > 4 ? outsz - 4 : 0;
	size_t i;
	for (i = 0; i < n && o < lim; i++) {
		unsigned char c = (unsigned char)s[i];
		/* do not cut a UTF-8 sequence in the middle */
		if ((c & 0xC0) == 0xC0) {
			size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
			if (o + len > lim)
				break;
		}
		out[o++] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
	}
	if (i < n && outsz >= 4) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o < outsz ? o : outsz - 1] = '\0';
}

void text_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = '\0';
}

uint64_t text_hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}
