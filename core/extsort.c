/* extsort: see extsort.h.
 *
 * In memory an item is [u32 length][u64 sequence][bytes]; the sequence
 * number orders equal items by insertion, and is kept in the runs so the
 * merge is stable too.  The merge uses a binary heap of run heads.
 *
 * Sorting a full buffer: each item becomes one u64, its first 4 bytes
 * (big-endian, zero-padded) above its 32-bit offset in the buffer, sorted
 * by an LSD radix sort on the prefix bytes (passes where every item has
 * the same byte are skipped).  Offsets grow with insertion, so equal
 * prefixes stay in insertion order; each run of equal prefixes is then
 * put in full item order by a stable merge sort.  Ingest's items start
 * with a 16-byte keyed hash, so runs are almost always of one item and
 * the sort costs a few linear passes instead of n log n memcmp calls
 * (17% of ingest before).  Items without a key (0xff...) share their
 * prefix and fall back to the merge sort, as costly as qsort was.  The
 * buffer is held under 4 GiB (mem_limit is capped at 1 GiB) so that
 * offsets fit 32 bits.  Runs are written and read with the unlocked stdio
 * calls (a sorter belongs to one thread): two calls per item.
 */
#include "core/extsort.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#define HDR (sizeof(uint32_t) + sizeof(uint64_t))
#define MAX_ITEM (1u << 24)

typedef struct run {
	FILE *fp;
	unsigned char *cur;   /* current item incl. header */
	size_t cap;
	int live;
} run;

struct extsort {
	size_t limit;
	unsigned char *buf;
	size_t len, cap;
	uint64_t *ord;        /* sorted: prefix << 32 | offset */
	uint64_t *tmp;        /* radix / merge scratch */
	size_t nptrs, capptrs;
	uint64_t seq, count;
	run *runs;
	size_t nruns;
	size_t *heap, nheap;
	size_t mem_pos;       /* next in-memory item when nothing spilled */
	int finished, merging;
};

static uint32_t item_len(const unsigned char *p)
{
	uint32_t n;
	memcpy(&n, p, sizeof n);
	return n;
}

static uint64_t item_seq(const unsigned char *p)
{
	uint64_t q;
	memcpy(&q, p + sizeof(uint32_t), sizeof q);
	return q;
}

static int item_cmp(const unsigned char *a, const unsigned char *b)
{
	uint32_t na = item_len(a), nb = item_len(b);
	int c = memcmp(a + HDR, b + HDR, na < nb ? na : nb);
	if (c)
		return c;
	if (na != nb)
		return na < nb ? -1 : 1;
	uint64_t qa = item_seq(a), qb = item_seq(b);
	return qa < qb ? -1 : qa > qb;
}

static const unsigned char *ord_item(const extsort *s, uint64_t e)
{
	return s->buf + (uint32_t)e;
}

int extsort_new(size_t mem_limit, extsort **out, diag *d)
{
	extsort *s = calloc(1, sizeof *s);
	if (!s)
		return diag_fail(d, EX_OSERR, "out of memory");
	s->limit = mem_limit < 65536 ? 65536 : mem_limit > (1u << 30) ? (1u << 30) : mem_limit;
	*out = s;
	return 0;
}

/* Stable merge sort of a[0..n) by full item order, tmp as scratch. */
static void merge_sort(const extsort *s, uint64_t *a, uint64_t *tmp, size_t n)
{
	if (n < 2)
		return;
	if (n <= 16) {
		for (size_t i = 1; i < n; i++) {
			uint64_t v = a[i];
			size_t j = i;
			while (j > 0 && item_cmp(ord_item(s, a[j - 1]), ord_item(s, v)) > 0) {
				a[j] = a[j - 1];
				j--;
			}
			a[j] = v;
		}
		return;
	}
	size_t h = n / 2;
	merge_sort(s, a, tmp, h);
	merge_sort(s, a + h, tmp, n - h);
	if (item_cmp(ord_item(s, a[h - 1]), ord_item(s, a[h])) <= 0)
		return;
	memcpy(tmp, a, n * sizeof *a);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		a[k++] = item_cmp(ord_item(s, tmp[j]), ord_item(s, tmp[i])) < 0 ? tmp[j++] : tmp[i++];
	while (i < h)
		a[k++] = tmp[i++];
	while (j < n)
		a[k++] = tmp[j++];
}

/* Index the buffer and sort it (see the top of the file). */
static int index_buffer(extsort *s, diag *d)
{
	size_t n = 0;
	for (size_t off = 0; off < s->len; off += HDR + item_len(s->buf + off))
		n++;
	if (n > s->capptrs) {
		uint64_t *no = realloc(s->ord, n * sizeof *no);
		if (!no)
			return diag_fail(d, EX_OSERR, "out of memory");
		s->ord = no;
		uint64_t *nt = realloc(s->tmp, n * sizeof *nt);
		if (!nt)
			return diag_fail(d, EX_OSERR, "out of memory");
		s->tmp = nt;
		s->capptrs = n;
	}
	s->nptrs = 0;
	for (size_t off = 0; off < s->len; off += HDR + item_len(s->buf + off)) {
		const unsigned char *p = s->buf + off;
		uint32_t len = item_len(p), pre = 0;
		for (uint32_t i = 0; i < 4; i++)
			pre = (pre << 8) | (i < len ? p[HDR + i] : 0);
		s->ord[s->nptrs++] = (uint64_t)pre << 32 | (uint32_t)off;
	}
	uint64_t *a = s->ord, *b = s->tmp;
	for (int shift = 32; shift < 64; shift += 8) {
		size_t cnt[256] = {0};
		for (size_t i = 0; i < n; i++)
			cnt[(a[i] >> shift) & 0xff]++;
		if (n && cnt[(a[0] >> shift) & 0xff] == n)
			continue; /* one byte value: nothing to do */
		size_t sum = 0;
		for (int k = 0; k < 256; k++) {
			size_t c = cnt[k];
			cnt[k] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			b[cnt[(a[i] >> shift) & 0xff]++] = a[i];
		uint64_t *t = a;
		a = b;
		b = t;
	}
	if (a != s->ord)
		memcpy(s->ord, a, n * sizeof *a);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && (s->ord[j] >> 32) == (s->ord[i] >> 32))
			j++;
		if (j - i > 1)
			merge_sort(s, s->ord + i, s->tmp, j - i);
		i = j;
	}
	return 0;
}

static int spill(extsort *s, diag *d)
{
	if (index_buffer(s, d) != 0)
		return -1;
	run *nr = realloc(s->runs, (s->nruns + 1) * sizeof *nr);
	if (!nr)
		return diag_fail(d, EX_OSERR, "out of memory");
	s->runs = nr;
	run *r = &s->runs[s->nruns];
	memset(r, 0, sizeof *r);
	r->fp = tmpfile();
	if (!r->fp)
		return diag_fail(d, EX_IOERR, "cannot create a temporary file: %s", strerror(errno));
	s->nruns++;
	for (size_t i = 0; i < s->nptrs; i++) {
		const unsigned char *p = ord_item(s, s->ord[i]);
		if (fwrite_unlocked(p, 1, HDR + item_len(p), r->fp) != HDR + item_len(p))
			return diag_fail(d, EX_IOERR, "temporary file write failed: %s", strerror(errno));
	}
	if (fflush(r->fp) != 0)
		return diag_fail(d, EX_IOERR, "temporary file write failed: %s", strerror(errno));
	s->len = 0;
	s->nptrs = 0;
	return 0;
}

int extsort_add(extsort *s, const void *item, size_t n, diag *d)
{
	if (n > MAX_ITEM)
		return diag_fail(d, EX_SOFTWARE, "sort item too large");
	if (s->len + HDR + n > s->limit && s->len > 0 && spill(s, d) != 0)
		return -1;
	if (s->len + HDR + n > s->cap) {
		size_t nc = s->cap ? s->cap : 65536;
		while (nc < s->len + HDR + n)
			nc *= 2;
		unsigned char *nb = realloc(s->buf, nc);
		if (!nb)
			return diag_fail(d, EX_OSERR, "out of memory");
		s->buf = nb;
		s->cap = nc;
	}
	uint32_t len = (uint32_t)n;
	memcpy(s->buf + s->len, &len, sizeof len);
	memcpy(s->buf + s->len + sizeof len, &s->seq, sizeof s->seq);
	if (n)
		memcpy(s->buf + s->len + HDR, item, n);
	s->len += HDR + n;
	s->seq++;
	s->count++;
	return 0;
}

/* Read the next item of a run into r->cur; 1 ok, 0 end, -1 error. */
static int run_read(run *r, diag *d)
{
	unsigned char hdr[HDR] = {0};
	size_t got = fread_unlocked(hdr, 1, HDR, r->fp);
	if (got == 0 && feof(r->fp)) {
		r->live = 0;
		return 0;
	}
	if (got != HDR)
		return diag_fail(d, EX_IOERR, "temporary file read failed");
	uint32_t n = item_len(hdr);
	if (n > MAX_ITEM)
		return diag_fail(d, EX_IOERR, "temporary file corrupt");
	if (HDR + n > r->cap) {
		unsigned char *nc = realloc(r->cur, HDR + n);
		if (!nc)
			return diag_fail(d, EX_OSERR, "out of memory");
		r->cur = nc;
		r->cap = HDR + n;
	}
	memcpy(r->cur, hdr, HDR);
	if (n && fread_unlocked(r->cur + HDR, 1, n, r->fp) != n)
		return diag_fail(d, EX_IOERR, "temporary file read failed");
	r->live = 1;
	return 1;
}

static int heap_less(const extsort *s, size_t a, size_t b)
{
	return item_cmp(s->runs[a].cur, s->runs[b].cur) < 0;
}

static void heap_down(extsort *s, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->nheap && heap_less(s, s->heap[l], s->heap[m]))
			m = l;
		if (r < s->nheap && heap_less(s, s->heap[r], s->heap[m]))
			m = r;
		if (m == i)
			return;
		size_t t = s->heap[i];
		s->heap[i] = s->heap[m];
		s->heap[m] = t;
		i = m;
	}
}

int extsort_finish(extsort *s, diag *d)
{
	s->finished = 1;
	if (s->nruns == 0)
		return index_buffer(s, d);
	if (s->len && spill(s, d) != 0)
		return -1;
	free(s->buf);
	s->buf = NULL;
	s->cap = 0;
	free(s->ord); /* the merge reads the runs: no index needed */
	free(s->tmp);
	s->ord = s->tmp = NULL;
	s->nptrs = s->capptrs = 0;
	s->heap = malloc(s->nruns * sizeof *s->heap);
	if (!s->heap)
		return diag_fail(d, EX_OSERR, "out of memory");
	for (size_t i = 0; i < s->nruns; i++) {
		run *r = &s->runs[i];
		if (fseek(r->fp, 0, SEEK_SET) != 0)
			return diag_fail(d, EX_IOERR, "temporary file seek failed");
		setvbuf(r->fp, NULL, _IOFBF, 65536);
		int rc = run_read(r, d);
		if (rc < 0)
			return -1;
		if (rc == 1)
			s->heap[s->nheap++] = i;
	}
	for (size_t i = s->nheap; i-- > 0;)
		heap_down(s, i);
	s->merging = 1;
	return 0;
}

int extsort_next(extsort *s, const void **item, size_t *n, diag *d)
{
	if (!s->merging) {
		if (s->mem_pos >= s->nptrs)
			return 0;
		const unsigned char *p = ord_item(s, s->ord[s->mem_pos++]);
		*item = p + HDR;
		*n = item_len(p);
		return 1;
	}
	/* The previous top was handed out: advance its run first. */
	if (s->mem_pos) {
		size_t top = s->heap[0];
		int rc = run_read(&s->runs[top], d);
		if (rc < 0)
			return -1;
		if (rc == 0)
			s->heap[0] = s->heap[--s->nheap];
		if (s->nheap)
			heap_down(s, 0);
	}
	if (!s->nheap)
		return 0;
	s->mem_pos = 1;
	const unsigned char *p = s->runs[s->heap[0]].cur;
	*item = p + HDR;
	*n = item_len(p);
	return 1;
}

uint64_t extsort_count(const extsort *s)
{
	return s->count;
}

size_t extsort_runs(const extsort *s)
{
	return s->nruns;
}

void extsort_free(extsort *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nruns; i++) {
		if (s->runs[i].fp)
			fclose(s->runs[i].fp);
		free(s->runs[i].cur);
	}
	free(s->runs);
	free(s->heap);
	free(s->buf);
	free(s->ord);
	free(s->tmp);
	free(s);
}
