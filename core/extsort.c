/* extsort: see extsort.h.
 *
 * In memory an item is [u32 length][u64 sequence][bytes]; the sequence
 * number makes qsort (which is not stable) order equal items by insertion,
 * and is kept in the runs so the merge is stable too.  The merge uses a
 * binary heap of run heads. */
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
	unsigned char **ptrs;
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

static int ptr_cmp(const void *a, const void *b)
{
	return item_cmp(*(unsigned char *const *)a, *(unsigned char *const *)b);
}

int extsort_new(size_t mem_limit, extsort **out, diag *d)
{
	extsort *s = calloc(1, sizeof *s);
	if (!s)
		return diag_fail(d, EX_OSERR, "out of memory");
	s->limit = mem_limit < 65536 ? 65536 : mem_limit;
	*out = s;
	return 0;
}

/* Rebuild the pointer array over the buffer (pointers move on realloc). */
static int index_buffer(extsort *s, diag *d)
{
	size_t n = 0;
	for (size_t off = 0; off < s->len; off += HDR + item_len(s->buf + off))
		n++;
	if (n > s->capptrs) {
		unsigned char **np = realloc(s->ptrs, n * sizeof *np);
		if (!np)
			return diag_fail(d, EX_OSERR, "out of memory");
		s->ptrs = np;
		s->capptrs = n;
	}
	s->nptrs = 0;
	for (size_t off = 0; off < s->len; off += HDR + item_len(s->buf + off))
		s->ptrs[s->nptrs++] = s->buf + off;
	qsort(s->ptrs, s->nptrs, sizeof *s->ptrs, ptr_cmp);
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
		const unsigned char *p = s->ptrs[i];
		if (fwrite(p, 1, HDR + item_len(p), r->fp) != HDR + item_len(p))
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
	unsigned char hdr[HDR];
	size_t got = fread(hdr, 1, HDR, r->fp);
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
	if (n && fread(r->cur + HDR, 1, n, r->fp) != n)
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
		const unsigned char *p = s->ptrs[s->mem_pos++];
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
	free(s->ptrs);
	free(s);
}
