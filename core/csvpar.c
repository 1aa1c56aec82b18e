/* csvpar: see csvpar.h.
 *
 * Slots move FREE -> READY (main filled the input) -> BUSY (a worker
 * parses it) -> DONE (result and diag ready) -> FREE (merged or thrown
 * away), under one mutex with two condition variables (work for the
 * workers, done for the main thread).  Chunks carry a sequence number;
 * workers take the lowest READY one, and the main thread merges sequence
 * numbers strictly in order, so the output never depends on scheduling.
 *
 * The main thread re-reads the bytes after each cut with pread (a few
 * hundred bytes per chunk) instead of carrying them over, which keeps a
 * slot's buffer its own.  Line numbers: each chunk starts at the line of
 * its first byte, counted by csvsplit as the chunks are cut. */
#include "core/csvpar.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "core/csvsplit.h"

#define DEF_CHUNK (512u << 10)

enum { S_FREE = 0, S_READY, S_BUSY, S_DONE };

typedef struct slot {
	int state;
	uint64_t seq;
	unsigned char *buf;
	size_t cap, len;
	uint64_t off;
	unsigned long line;
	int final;
	void *res;
	diag d;
	int rc;
	int tail;
	uint64_t tail_off;
	unsigned long tail_line;
} slot;

typedef struct pool {
	const csvpar_opts *o;
	size_t max_items;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	int quit;
	slot *slots;
	size_t nslots;
	void **wstate;
	int nworkers;
} pool;

typedef struct wargs {
	pool *p;
	void *w;
} wargs;

/* Parse one chunk (worker thread, no lock held). */
static void run_slot(pool *p, void *w, slot *s)
{
	const csvpar_opts *o = p->o;
	csvr_opts co = o->copts;
	co.first_line = s->line;
	co.no_bom = s->off > 0;
	co.more_follows = !s->final;
	co.offset = 0;
	co.block_size = 0;
	csvr *r = NULL;
	s->tail = 0;
	s->rc = csvr_open_mem(s->buf, s->len, o->path, &co, &r, &s->d);
	if (s->rc == 0)
		s->rc = o->parse(o->ctx, w, r, UINT64_MAX, s->res, &s->d);
	if (s->rc == 0 && csvr_tail(r, &s->tail_off, &s->tail_line))
		s->tail = 1, s->tail_off += s->off;
	csvr_close(r);
}

static void *worker_main(void *arg)
{
	wargs *a = arg;
	pool *p = a->p;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		slot *best = NULL;
		for (size_t i = 0; i < p->nslots; i++)
			if (p->slots[i].state == S_READY && (!best || p->slots[i].seq < best->seq))
				best = &p->slots[i];
		if (!best) {
			if (p->quit)
				break;
			pthread_cond_wait(&p->work, &p->mu);
			continue;
		}
		best->state = S_BUSY;
		pthread_mutex_unlock(&p->mu);
		run_slot(p, a->w, best);
		pthread_mutex_lock(&p->mu);
		best->state = S_DONE;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* pread until n bytes or the end of the file.  Returns bytes, or -1. */
static ssize_t read_at(int fd, unsigned char *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = pread(fd, buf + got, n - got, (off_t)(off + got));
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static int reserve(slot *s, size_t n)
{
	if (s->cap >= n)
		return 0;
	unsigned char *nb = realloc(s->buf, n);
	if (!nb)
		return -1;
	s->buf = nb;
	s->cap = n;
	return 0;
}

/* Hash [from, to) of the file through on_bytes, using s's buffer. */
static int hash_range(const csvpar_opts *o, int fd, slot *s, uint64_t from, uint64_t to, diag *d)
{
	while (from < to) {
		size_t n = to - from > s->cap ? s->cap : (size_t)(to - from);
		ssize_t k = read_at(fd, s->buf, n, from);
		if (k <= 0)
			return diag_fail(d, EX_IOERR, "%s: read error: %s", o->path,
			                 k < 0 ? strerror(errno) : "file shrank");
		o->on_bytes(o->ctx, s->buf, (size_t)k);
		from += (uint64_t)k;
	}
	return 0;
}

/* The rest of the file from (pos, line) on the main thread. */
static int serial_rest(pool *p, void *w, slot *s, uint64_t pos, unsigned long line,
                       uint64_t total, diag *d)
{
	const csvpar_opts *o = p->o;
	size_t chunk = o->chunk_size ? o->chunk_size : DEF_CHUNK;
	csvr_opts co = o->copts;
	co.first_line = line;
	co.no_bom = pos > 0;
	co.more_follows = 0;
	co.offset = pos;
	csvr *r = NULL;
	if (csvr_open(o->path, &co, &r, d) != 0)
		return -1;
	int rc = 0;
	for (;;) {
		uint64_t at;
		unsigned long ln;
		csvr_position(r, &at, &ln);
		if (at >= total)
			break;
		diag_reset(&s->d);
		rc = o->parse(o->ctx, w, r, at + chunk, s->res, &s->d);
		diag_merge(d, &s->d);
		if (rc == 0)
			rc = o->merge(o->ctx, s->res, d);
		o->res_clear(o->ctx, s->res);
		if (rc != 0)
			break;
		uint64_t after;
		csvr_position(r, &after, &ln);
		if (o->progress)
			o->progress(o->ctx, after, total);
		if (after == at)
			break; /* nothing read: the end */
	}
	csvr_close(r);
	return rc;
}

/* Wait for every slot after `seq` that is in flight and free it. */
static void discard_after(pool *p, uint64_t seq)
{
	const csvpar_opts *o = p->o;
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->nslots; i++) {
		slot *s = &p->slots[i];
		if (s->state == S_FREE || s->seq <= seq)
			continue;
		while (s->state == S_BUSY)
			pthread_cond_wait(&p->done, &p->mu);
		s->state = S_FREE;
		o->res_clear(o->ctx, s->res);
		diag_reset(&s->d);
	}
	pthread_mutex_unlock(&p->mu);
}

int csvpar_run(const csvpar_opts *o, diag *d)
{
	pool p;
	memset(&p, 0, sizeof p);
	p.o = o;
	p.max_items = d->max_items ? d->max_items : DIAG_DEFAULT_MAX;
	size_t chunk = o->chunk_size ? o->chunk_size : DEF_CHUNK;
	size_t max_rec = o->copts.max_record ? o->copts.max_record : (1u << 20);
	/* a cut must be found within this many bytes, else serial_rest */
	size_t limit = 2 * max_rec + 4 * chunk + (256u << 10);
	unsigned char quote = (unsigned char)(o->copts.quote ? o->copts.quote : '"');
	int nthreads = o->threads < 1 ? 1 : o->threads;
	int rc = -1, started = 0, mu_ok = 0;
	pthread_t *tids = NULL;
	wargs *wa = NULL;
	void *wmain = NULL;

	int fd = open(o->path, O_RDONLY);
	if (fd < 0)
		return diag_fail(d, EX_NOINPUT, "%s: cannot open: %s", o->path, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return diag_fail(d, EX_USAGE, "%s: parallel reading needs a regular file", o->path);
	}
	uint64_t total = (uint64_t)sb.st_size;

	p.nslots = (size_t)nthreads + 2;
	p.slots = calloc(p.nslots, sizeof *p.slots);
	p.wstate = calloc((size_t)nthreads, sizeof *p.wstate);
	tids = calloc((size_t)nthreads, sizeof *tids);
	wa = calloc((size_t)nthreads, sizeof *wa);
	if (!p.slots || !p.wstate || !tids || !wa) {
		diag_fail(d, EX_OSERR, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < p.nslots; i++) {
		diag_init(&p.slots[i].d, p.max_items);
		if (reserve(&p.slots[i], chunk) != 0 || !(p.slots[i].res = o->res_new(o->ctx))) {
			diag_fail(d, EX_OSERR, "out of memory");
			goto out;
		}
	}
	for (int i = 0; i < nthreads; i++) {
		if (!(p.wstate[i] = o->worker_new(o->ctx, d)))
			goto out;
		p.nworkers = i + 1;
	}
	if (pthread_mutex_init(&p.mu, NULL) != 0) {
		diag_fail(d, EX_OSERR, "cannot create a mutex");
		goto out;
	}
	if (pthread_cond_init(&p.work, NULL) != 0) {
		pthread_mutex_destroy(&p.mu);
		diag_fail(d, EX_OSERR, "cannot create a condition variable");
		goto out;
	}
	if (pthread_cond_init(&p.done, NULL) != 0) {
		pthread_cond_destroy(&p.work);
		pthread_mutex_destroy(&p.mu);
		diag_fail(d, EX_OSERR, "cannot create a condition variable");
		goto out;
	}
	mu_ok = 1;
	for (int i = 0; i < nthreads; i++) {
		wa[i].p = &p;
		wa[i].w = p.wstate[i];
		if (pthread_create(&tids[i], NULL, worker_main, &wa[i]) != 0) {
			diag_fail(d, EX_OSERR, "cannot start a thread");
			goto out;
		}
		started = i + 1;
	}

	/* bytes before the first record: hashed here, parsed by the caller */
	if (o->on_bytes && hash_range(o, fd, &p.slots[0], o->hash_from, o->start, d) != 0)
		goto out;
	uint64_t pos = o->start, hashed = o->start;
	unsigned long line = o->start_line;
	int parity = 0, eof = pos >= total, fallback = 0;
	uint64_t next_seq = 0, merge_seq = 0, min_end = 0;
	for (;;) {
		/* cut and hand out chunks while a slot is free */
		while (!eof && !fallback) {
			slot *s = NULL;
			pthread_mutex_lock(&p.mu);
			for (size_t i = 0; i < p.nslots && !s; i++)
				if (p.slots[i].state == S_FREE)
					s = &p.slots[i];
			pthread_mutex_unlock(&p.mu);
			if (!s)
				break;
			size_t want = chunk;
			if (min_end > pos && min_end - pos + chunk > want)
				want = (size_t)(min_end - pos) + chunk;
			size_t cut = 0;
			uint64_t nl = 0;
			int par = 0, final = 0;
			for (;;) {
				if (reserve(s, want) != 0) {
					diag_fail(d, EX_OSERR, "out of memory");
					goto out;
				}
				ssize_t k = read_at(fd, s->buf, want, pos);
				if (k < 0) {
					diag_fail(d, EX_IOERR, "%s: read error: %s", o->path, strerror(errno));
					goto out;
				}
				size_t n = (size_t)k;
				if (pos + n >= total) {
					cut = n;
					final = 1;
					break;
				}
				cut = csvsplit_cut(s->buf, n, quote, parity, &nl, &par);
				if (cut && pos + cut <= min_end) {
					/* a repair must read past the chunk it repairs */
					const unsigned char *q = s->buf + n;
					while (q > s->buf && q[-1] != '\n')
						q--;
					cut = (size_t)(q - s->buf);
					if (pos + cut <= min_end)
						cut = 0;
					else {
						uint64_t qs;
						csvsplit_count(s->buf, cut, quote, &qs, &nl);
						par = (parity ^ (int)(qs & 1)) & 1;
					}
				}
				if (cut)
					break;
				if (want >= limit) {
					fallback = 1;
					break;
				}
				want = want * 2 > limit ? limit : want * 2;
			}
			if (fallback)
				break;
			if (!cut) {
				eof = 1; /* an empty rest */
				break;
			}
			if (o->on_bytes && pos + cut > hashed) {
				uint64_t from = hashed > pos ? hashed : pos;
				o->on_bytes(o->ctx, s->buf + (from - pos), (size_t)(pos + cut - from));
				hashed = pos + cut;
			}
			s->off = pos;
			s->len = cut;
			s->line = line;
			s->final = final;
			s->seq = next_seq++;
			s->rc = 0;
			s->tail = 0;
			diag_reset(&s->d);
			pthread_mutex_lock(&p.mu);
			s->state = S_READY;
			pthread_cond_signal(&p.work);
			pthread_mutex_unlock(&p.mu);
			pos += cut;
			line += (unsigned long)nl;
			parity = par;
			min_end = 0;
			if (final)
				eof = 1;
		}
		/* merge the oldest chunk, if any is in flight */
		slot *s = NULL;
		pthread_mutex_lock(&p.mu);
		for (size_t i = 0; i < p.nslots; i++)
			if (p.slots[i].state != S_FREE && p.slots[i].seq == merge_seq)
				s = &p.slots[i];
		if (s)
			while (s->state != S_DONE)
				pthread_cond_wait(&p.done, &p.mu);
		pthread_mutex_unlock(&p.mu);
		if (!s) {
			if (fallback) {
				if (!wmain && !(wmain = o->worker_new(o->ctx, d)))
					goto out;
				if (serial_rest(&p, wmain, &p.slots[0], pos, line, total, d) != 0)
					goto out;
				if (o->on_bytes && hash_range(o, fd, &p.slots[0], hashed, total, d) != 0)
					goto out;
			}
			break;
		}
		diag_merge(d, &s->d);
		if (s->rc != 0)
			goto out;
		if (o->merge(o->ctx, s->res, d) != 0)
			goto out;
		if (o->progress)
			o->progress(o->ctx, s->off + s->len, total);
		if (s->tail) {
			/* read again from the open record, past this chunk */
			discard_after(&p, s->seq);
			min_end = s->off + s->len;
			pos = s->tail_off;
			line = s->tail_line;
			parity = 0;
			eof = 0;
			fallback = 0;
			next_seq = s->seq + 1;
		}
		o->res_clear(o->ctx, s->res);
		diag_reset(&s->d);
		pthread_mutex_lock(&p.mu);
		s->state = S_FREE;
		pthread_mutex_unlock(&p.mu);
		merge_seq++;
	}
	rc = 0;
out:
	if (mu_ok) {
		pthread_mutex_lock(&p.mu);
		p.quit = 1;
		/* READY slots will not be taken: workers see quit once idle */
		for (size_t i = 0; i < p.nslots; i++)
			if (p.slots[i].state == S_READY)
				p.slots[i].state = S_FREE;
		pthread_cond_broadcast(&p.work);
		pthread_mutex_unlock(&p.mu);
	}
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (mu_ok) {
		pthread_cond_destroy(&p.done);
		pthread_cond_destroy(&p.work);
		pthread_mutex_destroy(&p.mu);
	}
	if (rc != 0 && d->code == 0)
		d->code = EX_SOFTWARE;
	for (int i = 0; i < p.nworkers; i++)
		o->worker_free(o->ctx, p.wstate[i]);
	if (wmain)
		o->worker_free(o->ctx, wmain);
	for (size_t i = 0; p.slots && i < p.nslots; i++) {
		if (p.slots[i].res)
			o->res_free(o->ctx, p.slots[i].res);
		diag_free(&p.slots[i].d);
		free(p.slots[i].buf);
	}
	free(p.slots);
	free(p.wstate);
	free(tids);
	free(wa);
	close(fd);
	return rc;
}
