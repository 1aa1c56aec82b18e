/* csvsplit: see csvsplit.h.
 *
 * Counting is SWAR: a byte of w equal to c is a zero byte of t = w ^ c*ONES,
 * and ~(((t & 0x7f..) + 0x7f..) | t | 0x7f..) has exactly the high bit of
 * each zero byte set (no borrow between bytes, unlike the cheaper test
 * used by csvr's scan, which only says whether there is one).  The cut is
 * then found walking back from the end, where it almost always is. */
#include "core/csvsplit.h"

#include <string.h>

#define ONES  0x0101010101010101ULL
#define LOW7  0x7f7f7f7f7f7f7f7fULL

/* Number of bytes of w equal to the byte in pat (pat = c * ONES). */
static unsigned eq_count(uint64_t w, uint64_t pat)
{
	uint64_t t = w ^ pat;
	uint64_t y = ~(((t & LOW7) + LOW7) | t | LOW7);
	return (unsigned)(((y >> 7) * ONES) >> 56);
}

void csvsplit_count(const unsigned char *s, size_t n, unsigned char quote,
                    uint64_t *quotes, uint64_t *newlines)
{
	uint64_t q = 0, nl = 0, pq = ONES * quote, pn = ONES * '\n';
	size_t i = 0;
	/* 8 words between flushes: per-word counts are at most 8, so the sum
	 * of 8 words fits the byte-sum trick's range easily; plain adds here */
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		q += eq_count(w, pq);
		nl += eq_count(w, pn);
	}
	for (; i < n; i++) {
		q += s[i] == quote;
		nl += s[i] == '\n';
	}
	*quotes = q;
	*newlines = nl;
}

size_t csvsplit_cut(const unsigned char *buf, size_t n, unsigned char quote, int parity_in,
                    uint64_t *newlines, int *parity_out)
{
	uint64_t q, nl;
	csvsplit_count(buf, n, quote, &q, &nl);
	int p = (parity_in ^ (int)(q & 1)) & 1; /* parity at buf[i + 1] below */
	uint64_t nl_after = 0;                  /* '\n' in buf[i + 1 .. n) */
	size_t last = 0;                        /* just after the last '\n' */
	uint64_t nl_after_last = 0;
	int p_last = 0;
	for (size_t i = n; i-- > 0;) {
		unsigned char c = buf[i];
		if (c == '\n') {
			if (!last) {
				last = i + 1;
				nl_after_last = nl_after;
				p_last = p;
			}
			if (!p) {
				*newlines = nl - nl_after;
				*parity_out = 0;
				return i + 1;
			}
			nl_after++;
		} else if (c == quote) {
			p ^= 1;
		}
	}
	if (!last) {
		*newlines = 0;
		*parity_out = parity_in & 1;
		return 0;
	}
	*newlines = nl - nl_after_last;
	*parity_out = p_last;
	return last;
}
