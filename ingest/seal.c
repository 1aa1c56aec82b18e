/* seal: see seal.h for the format and why it is shaped so.
 *
 * Both directions are one streaming pass over 64 KiB chunks.  The sealer
 * produces the plaintext (length prefixes, manifest, data, zero padding)
 * chunk by chunk from the two input files, feeding each chunk to the
 * signature and to secretstream.  The opener does the reverse, checking
 * each chunk before anything of it is written, and writes to temporaries
 * that are committed only at the very end.  Keys, stream and signature
 * states live in sodium_malloc memory. */
#include "ingest/seal.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "core/atomic.h"
#include "core/period.h"
#include "core/sha256.h"
#include "core/text.h"

#define FINAL_CHUNK (crypto_sign_BYTES + SEAL_CHUNK_OVERHEAD)
#define MAX_PADDED ((uint64_t)1 << 48) /* 256 TiB: keeps size arithmetic exact */

_Static_assert(SEAL_BOX_BYTES == crypto_box_SEALBYTES + 64, "box size");
_Static_assert(SEAL_STREAM_HEADER == crypto_secretstream_xchacha20poly1305_HEADERBYTES,
               "stream header size");
_Static_assert(SEAL_CHUNK_OVERHEAD == crypto_secretstream_xchacha20poly1305_ABYTES,
               "chunk overhead");

/* Secrets of one seal/open, in guarded memory. */
typedef struct seal_secrets {
	crypto_secretstream_xchacha20poly1305_state ss;
	crypto_sign_state sign;
	unsigned char box_plain[64];   /* file key || hash of the clear header */
	unsigned char hdr_hash[32];    /* hash of the header as read */
	unsigned char sig[crypto_sign_BYTES];
} seal_secrets;

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (24 - 8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

const char *seal_kind_name(int kind)
{
	return kind == SEAL_KIND_RECORDS ? "records" : kind == SEAL_KIND_CELLS ? "cells" : "unknown";
}

int seal_kind_parse(const char *s)
{
	if (s && !strcmp(s, "records"))
		return SEAL_KIND_RECORDS;
	if (s && !strcmp(s, "cells"))
		return SEAL_KIND_CELLS;
	return -1;
}

static int periods_ok(const char *s, size_t n)
{
	if (n == 0 || n > SEAL_PERIODS_MAX)
		return 0;
	int prev = -1;
	size_t i = 0;
	while (i <= n) {
		const char *c = memchr(s + i, ',', n - i);
		size_t j = c ? (size_t)(c - s) : n;
		size_t len = j - i;
		if (len != 4 && len != 7)
			return 0;
		int p = period_parse(s + i, len);
		if (p < 0)
			return 0;
		char canon[8];
		period_format(p, canon);
		if (strlen(canon) != len || memcmp(canon, s + i, len) != 0 || p <= prev)
			return 0;
		prev = p;
		i = j + 1;
	}
	return 1;
}

int seal_valid_periods(const char *s)
{
	return s && periods_ok(s, strlen(s));
}

static uint64_t package_size(size_t header_size, uint64_t padded)
{
	return header_size + SEAL_BOX_BYTES + SEAL_STREAM_HEADER +
	       padded / SEAL_CHUNK * (SEAL_CHUNK + SEAL_CHUNK_OVERHEAD) + FINAL_CHUNK;
}

/* --- header ------------------------------------------------------------- */

static size_t header_encode(const seal_meta *m, const unsigned char signer_id[KEYS_ID_BYTES],
                            const unsigned char agg_id[KEYS_ID_BYTES], uint64_t padded,
                            unsigned char *h)
{
	size_t np = strlen(m->periods);
	memcpy(h, SEAL_MAGIC, SEAL_MAGIC_LEN);
	put16(h + 8, SEAL_FORMAT);
	put16(h + 10, (unsigned)(SEAL_FIXED_HEADER + np));
	h[12] = (unsigned char)m->kind;
	memcpy(h + 13, m->country, 3);
	put32(h + 16, m->version);
	memcpy(h + 20, signer_id, KEYS_ID_BYTES);
	memcpy(h + 28, agg_id, KEYS_ID_BYTES);
	put64(h + 36, padded);
	put16(h + 44, (unsigned)np);
	memcpy(h + 46, m->periods, np);
	return SEAL_FIXED_HEADER + np;
}

static int header_parse(const unsigned char *b, size_t len, seal_header *h,
                        const char *name, diag *d)
{
	memset(h, 0, sizeof *h);
	size_t m = len < SEAL_MAGIC_LEN ? len : SEAL_MAGIC_LEN;
	if (memcmp(b, SEAL_MAGIC, m) != 0)
		return diag_fail(d, EX_NOPERM, "%s: not a tipstat sealed package (bad magic)", name);
	if (len < SEAL_FIXED_HEADER)
		return diag_fail(d, EX_NOPERM, "%s: truncated inside the clear header (%zu bytes)",
		                 name, len);
	h->format = get16(b + 8);
	if (h->format != SEAL_FORMAT)
		return diag_fail(d, EX_NOPERM, "%s: sealed package format %u is not supported "
		                 "(this tipstat reads format %d)", name, h->format, SEAL_FORMAT);
	size_t hs = get16(b + 10), np = get16(b + 44);
	if (np < 1 || np > SEAL_PERIODS_MAX || hs != SEAL_FIXED_HEADER + np)
		return diag_fail(d, EX_NOPERM, "%s: malformed header: header length %zu and "
		                 "periods length %zu disagree", name, hs, np);
	if (len < hs)
		return diag_fail(d, EX_NOPERM, "%s: truncated inside the clear header (%zu of "
		                 "%zu bytes)", name, len, hs);
	h->header_size = hs;
	h->kind = b[12];
	if (h->kind != SEAL_KIND_RECORDS && h->kind != SEAL_KIND_CELLS)
		return diag_fail(d, EX_NOPERM, "%s: malformed header: unknown kind %d", name, h->kind);
	memcpy(h->country, b + 13, 3);
	h->country[3] = 0;
	if (!keys_valid_country(h->country))
		return diag_fail(d, EX_NOPERM, "%s: malformed header: country is not an ISO "
		                 "alpha-3 code", name);
	h->version = get32(b + 16);
	memcpy(h->signer_id, b + 20, KEYS_ID_BYTES);
	memcpy(h->aggregator_id, b + 28, KEYS_ID_BYTES);
	keys_id_hex(h->signer_id, h->signer_id_hex);
	keys_id_hex(h->aggregator_id, h->aggregator_id_hex);
	h->padded_size = get64(b + 36);
	if (h->padded_size == 0 || h->padded_size % SEAL_CHUNK || h->padded_size > MAX_PADDED)
		return diag_fail(d, EX_NOPERM, "%s: malformed header: padded size %llu is not a "
		                 "positive multiple of %d", name,
		                 (unsigned long long)h->padded_size, SEAL_CHUNK);
	if (!periods_ok((const char *)b + 46, np))
		return diag_fail(d, EX_NOPERM, "%s: malformed header: periods are not canonical "
		                 "ascending YYYY-Qn / YYYY separated by commas", name);
	memcpy(h->periods, b + 46, np);
	h->periods[np] = 0;
	h->package_size = package_size(hs, h->padded_size);
	return 0;
}

int seal_header_parse(const unsigned char *buf, size_t len, seal_header *out, diag *d)
{
	return header_parse(buf, len, out, "package", d);
}

/* --- input abstraction (file or memory) --------------------------------- */

typedef struct rd {
	FILE *fp;
	const unsigned char *mem;
	size_t len, pos;
	sha256_ctx *sha;   /* NULL, or hash every byte read */
	const progress_hook *pg; /* NULL, or told the bytes read of total */
	uint64_t done, total;
} rd;

static size_t rd_read(rd *r, unsigned char *buf, size_t n)
{
	if (r->fp) {
		size_t k = fread(buf, 1, n, r->fp);
		if (r->sha && k)
			sha256_update(r->sha, buf, k);
		r->done += k;
		if (r->pg && (k >= SEAL_CHUNK || r->done == r->total))
			progress_report(r->pg, r->done, r->total);
		return k;
	}
	size_t k = r->len - r->pos < n ? r->len - r->pos : n;
	memcpy(buf, r->mem + r->pos, k);
	r->pos += k;
	return k;
}

static int rd_failed(rd *r)
{
	return r->fp && ferror(r->fp);
}

/* Read the clear header into hdr (SEAL_HEADER_MAX bytes) and decode it. */
static int read_header(rd *r, const char *name, unsigned char *hdr, seal_header *h, diag *d)
{
	size_t got = rd_read(r, hdr, SEAL_FIXED_HEADER);
	if (got == SEAL_FIXED_HEADER && !memcmp(hdr, SEAL_MAGIC, SEAL_MAGIC_LEN) &&
	    get16(hdr + 8) == SEAL_FORMAT) {
		size_t hs = get16(hdr + 10);
		if (hs > SEAL_FIXED_HEADER && hs <= SEAL_HEADER_MAX)
			got += rd_read(r, hdr + got, hs - SEAL_FIXED_HEADER);
	}
	if (rd_failed(r))
		return diag_fail(d, EX_IOERR, "%s: read error: %s", name, strerror(errno));
	return header_parse(hdr, got, h, name, d);
}

static int check_size(const seal_header *h, uint64_t size, const char *name, diag *d)
{
	if (size < h->package_size)
		return diag_fail(d, EX_NOPERM, "%s: truncated: %llu bytes, but its header "
		                 "announces %llu", name, (unsigned long long)size,
		                 (unsigned long long)h->package_size);
	if (size > h->package_size)
		return diag_fail(d, EX_NOPERM, "%s: %llu unexpected trailing bytes after the end "
		                 "of the package", name,
		                 (unsigned long long)(size - h->package_size));
	return 0;
}

int seal_peek(const char *path, seal_header *out, diag *d)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return diag_fail(d, EX_NOINPUT, "%s: cannot open: %s", path, strerror(errno));
	unsigned char hdr[SEAL_HEADER_MAX];
	rd r = {.fp = fp};
	int rc = read_header(&r, path, hdr, out, d);
	struct stat st;
	if (rc == 0 && fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode))
		rc = check_size(out, (uint64_t)st.st_size, path, d);
	fclose(fp);
	return rc;
}

/* --- sealing ------------------------------------------------------------ */

/* Produces the plaintext: M, manifest, N, data, zero padding. */
typedef struct producer {
	FILE *fm, *fd;
	const char *mpath, *dpath;
	uint64_t m, n, pos;
} producer;

static int produce(producer *p, unsigned char *buf, size_t len, diag *d)
{
	size_t off = 0;
	while (off < len) {
		uint64_t pos = p->pos, room = len - off, take;
		unsigned char pre[8];
		if (pos < 8) {
			put64(pre, p->m);
			take = 8 - pos < room ? 8 - pos : room;
			memcpy(buf + off, pre + pos, take);
		} else if (pos < 8 + p->m) {
			take = 8 + p->m - pos < room ? 8 + p->m - pos : room;
			if (fread(buf + off, 1, take, p->fm) != take)
				return diag_fail(d, EX_IOERR, "%s: %s while sealing", p->mpath,
				                 ferror(p->fm) ? strerror(errno) : "shrank");
		} else if (pos < 16 + p->m) {
			put64(pre, p->n);
			take = 16 + p->m - pos < room ? 16 + p->m - pos : room;
			memcpy(buf + off, pre + (pos - 8 - p->m), take);
		} else if (pos < 16 + p->m + p->n) {
			take = 16 + p->m + p->n - pos < room ? 16 + p->m + p->n - pos : room;
			if (fread(buf + off, 1, take, p->fd) != take)
				return diag_fail(d, EX_IOERR, "%s: %s while sealing", p->dpath,
				                 ferror(p->fd) ? strerror(errno) : "shrank");
		} else {
			take = room;
			memset(buf + off, 0, take);
		}
		off += take;
		p->pos += take;
	}
	return 0;
}

static int open_input(const char *path, FILE **fp, uint64_t *size, diag *d)
{
	*fp = fopen(path, "rb");
	if (!*fp)
		return diag_fail(d, EX_NOINPUT, "%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fileno(*fp), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(*fp);
		*fp = NULL;
		return diag_fail(d, EX_NOINPUT, "%s: not a regular file", path);
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

int seal_package(const char *data_path, const char *manifest_path,
                 const keys_office_secret *signer, const unsigned char aggregator_pk[32],
                 const seal_meta *meta, const char *out_path, const progress_hook *pg,
                 diag *d)
{
	if (signer->info.type != KEYS_OFFICE_SECRET)
		return diag_fail(d, EX_NOPERM, "sealing needs an office secret key, not a %s key",
		                 keys_type_name(signer->info.type));
	if (!keys_valid_country(meta->country))
		return diag_fail(d, EX_DATAERR, "country '%s' is not an ISO 3166-1 alpha-3 code",
		                 meta->country ? meta->country : "");
	if (strcmp(meta->country, signer->info.country) != 0)
		return diag_fail(d, EX_NOPERM, "the office key %s is for %s; it cannot sign a "
		                 "submission of %s", signer->info.id_hex, signer->info.country,
		                 meta->country);
	if (!seal_valid_periods(meta->periods))
		return diag_fail(d, EX_DATAERR, "periods '%.64s' are not canonical ascending "
		                 "YYYY-Qn / YYYY separated by commas (at most %d bytes)",
		                 meta->periods ? meta->periods : "", SEAL_PERIODS_MAX);
	if (meta->kind != SEAL_KIND_RECORDS && meta->kind != SEAL_KIND_CELLS)
		return diag_fail(d, EX_DATAERR, "unknown submission kind %d", meta->kind);

	int rc = -1;
	producer p = {.mpath = manifest_path, .dpath = data_path};
	atomic_file af = {0};
	seal_secrets *s = NULL;
	unsigned char *plain = NULL, *cipher = NULL;
	if (open_input(manifest_path, &p.fm, &p.m, d) != 0 ||
	    open_input(data_path, &p.fd, &p.n, d) != 0)
		goto done;
	if (p.m > MAX_PADDED / 4 || p.n > MAX_PADDED / 4) {
		diag_fail(d, EX_DATAERR, "input too large to seal");
		goto done;
	}
	uint64_t padded = (16 + p.m + p.n + SEAL_CHUNK - 1) / SEAL_CHUNK * SEAL_CHUNK;

	unsigned char hdr[SEAL_HEADER_MAX], agg_id[KEYS_ID_BYTES];
	keys_id(aggregator_pk, agg_id);
	size_t hs = header_encode(meta, signer->info.id, agg_id, padded, hdr);

	s = sodium_malloc(sizeof *s);
	plain = malloc(SEAL_CHUNK);
	cipher = malloc(SEAL_CHUNK + SEAL_CHUNK_OVERHEAD);
	if (!s || !plain || !cipher) {
		diag_fail(d, EX_OSERR, "out of memory");
		goto done;
	}
	unsigned char box[SEAL_BOX_BYTES], ssh[SEAL_STREAM_HEADER];
	crypto_secretstream_xchacha20poly1305_keygen(s->box_plain);
	crypto_generichash(s->box_plain + 32, 32, hdr, hs, NULL, 0);
	if (crypto_box_seal(box, s->box_plain, 64, aggregator_pk) != 0) {
		char hex[KEYS_ID_HEX];
		keys_id_hex(agg_id, hex);
		diag_fail(d, EX_NOPERM, "the aggregator public key %s is not usable (a "
		          "low-order point)", hex);
		goto done;
	}
	crypto_secretstream_xchacha20poly1305_init_push(&s->ss, ssh, s->box_plain);
	crypto_sign_init(&s->sign);
	crypto_sign_update(&s->sign, (const unsigned char *)SEAL_SIG_CONTEXT,
	                   strlen(SEAL_SIG_CONTEXT));
	crypto_sign_update(&s->sign, hdr, hs);

	if (atomic_open(out_path, 0644, &af, d) != 0)
		goto done;
	if (fwrite(hdr, 1, hs, af.fp) != hs || fwrite(box, 1, sizeof box, af.fp) != sizeof box ||
	    fwrite(ssh, 1, sizeof ssh, af.fp) != sizeof ssh)
		goto write_error;
	for (uint64_t i = 0; i < padded / SEAL_CHUNK; i++) {
		if (produce(&p, plain, SEAL_CHUNK, d) != 0)
			goto done;
		crypto_sign_update(&s->sign, plain, SEAL_CHUNK);
		crypto_secretstream_xchacha20poly1305_push(
			&s->ss, cipher, NULL, plain, SEAL_CHUNK, hdr, hs,
			crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
		if (fwrite(cipher, 1, SEAL_CHUNK + SEAL_CHUNK_OVERHEAD, af.fp) !=
		    SEAL_CHUNK + SEAL_CHUNK_OVERHEAD)
			goto write_error;
		progress_report(pg, (i + 1) * SEAL_CHUNK, padded);
	}
	if (fgetc(p.fm) != EOF || fgetc(p.fd) != EOF) {
		diag_fail(d, EX_IOERR, "%s or %s grew while sealing; seal again", manifest_path,
		          data_path);
		goto done;
	}
	crypto_sign_final_create(&s->sign, s->sig, NULL, signer->sk);
	crypto_secretstream_xchacha20poly1305_push(
		&s->ss, cipher, NULL, s->sig, sizeof s->sig, hdr, hs,
		crypto_secretstream_xchacha20poly1305_TAG_FINAL);
	if (fwrite(cipher, 1, FINAL_CHUNK, af.fp) != FINAL_CHUNK)
		goto write_error;
	rc = atomic_commit(&af, d);
	goto done;
write_error:
	diag_fail(d, EX_IOERR, "%s: write failed: %s", out_path, strerror(errno));
done:
	if (rc != 0)
		atomic_abort(&af);
	if (p.fm)
		fclose(p.fm);
	if (p.fd)
		fclose(p.fd);
	if (s)
		sodium_free(s);
	if (plain) {
		sodium_memzero(plain, SEAL_CHUNK);
		free(plain);
	}
	free(cipher);
	return rc;
}

/* --- opening ------------------------------------------------------------ */

/* Takes the plaintext apart: M, manifest, N, data, zero padding. */
typedef struct consumer {
	FILE *om, *od;
	uint64_t padded, m, n, pos;
	unsigned char pre[8];
} consumer;

static int consume(consumer *c, const unsigned char *buf, size_t len, const char *name,
                   diag *d)
{
	size_t off = 0;
	while (off < len) {
		uint64_t pos = c->pos, room = len - off, take;
		if (pos < 8) {
			take = 8 - pos < room ? 8 - pos : room;
			memcpy(c->pre + pos, buf + off, take);
			if (pos + take == 8) {
				c->m = get64(c->pre);
				if (c->m > c->padded - 16)
					return diag_fail(d, EX_NOPERM, "%s: inconsistent lengths inside the "
					                 "package (manifest length)", name);
			}
		} else if (pos < 8 + c->m) {
			take = 8 + c->m - pos < room ? 8 + c->m - pos : room;
			if (fwrite(buf + off, 1, take, c->om) != take)
				return diag_fail(d, EX_IOERR, "cannot write the manifest: %s",
				                 strerror(errno));
		} else if (pos < 16 + c->m) {
			take = 16 + c->m - pos < room ? 16 + c->m - pos : room;
			memcpy(c->pre + (pos - 8 - c->m), buf + off, take);
			if (pos + take == 16 + c->m) {
				c->n = get64(c->pre);
				if (c->n > c->padded - 16 - c->m ||
				    c->padded - 16 - c->m - c->n >= SEAL_CHUNK)
					return diag_fail(d, EX_NOPERM, "%s: inconsistent lengths inside the "
					                 "package (data length)", name);
			}
		} else if (pos < 16 + c->m + c->n) {
			take = 16 + c->m + c->n - pos < room ? 16 + c->m + c->n - pos : room;
			if (fwrite(buf + off, 1, take, c->od) != take)
				return diag_fail(d, EX_IOERR, "cannot write the data: %s", strerror(errno));
		} else {
			take = room;
			for (size_t i = 0; i < take; i++)
				if (buf[off + i])
					return diag_fail(d, EX_NOPERM, "%s: nonzero padding inside the "
					                 "package", name);
		}
		off += take;
		c->pos += take;
	}
	return 0;
}

/* Decrypt and verify from r (size bytes, or UINT64_MAX when unknown) into
 * om / od.  Nothing read from the package is trusted before the chunk that
 * carries it authenticated. */
static int open_core(rd *r, uint64_t size, const char *name, const keys_aggregator_secret *agg,
                     const unsigned char office_pk[32], FILE *om, FILE *od, seal_header *h,
                     diag *d)
{
	unsigned char hdr[SEAL_HEADER_MAX];
	if (read_header(r, name, hdr, h, d) != 0)
		return -1;
	if (size != UINT64_MAX && check_size(h, size, name, d) != 0)
		return -1;
	if (memcmp(h->aggregator_id, agg->info.id, KEYS_ID_BYTES) != 0)
		return diag_fail(d, EX_NOPERM, "%s: sealed to aggregator key %s, not to this key "
		                 "(%s)", name, h->aggregator_id_hex, agg->info.id_hex);
	unsigned char office_id[KEYS_ID_BYTES];
	char office_hex[KEYS_ID_HEX];
	keys_id(office_pk, office_id);
	keys_id_hex(office_id, office_hex);
	if (memcmp(h->signer_id, office_id, KEYS_ID_BYTES) != 0)
		return diag_fail(d, EX_NOPERM, "%s: signed by office key %s, but the office key "
		                 "given is %s", name, h->signer_id_hex, office_hex);

	int rc = -1;
	unsigned char *plain = malloc(SEAL_CHUNK), *cipher = malloc(SEAL_CHUNK + SEAL_CHUNK_OVERHEAD);
	seal_secrets *s = sodium_malloc(sizeof *s);
	if (!plain || !cipher || !s) {
		diag_fail(d, EX_OSERR, "out of memory");
		goto done;
	}
	unsigned char box[SEAL_BOX_BYTES], ssh[SEAL_STREAM_HEADER];
	if (rd_read(r, box, sizeof box) != sizeof box || rd_read(r, ssh, sizeof ssh) != sizeof ssh) {
		diag_fail(d, EX_NOPERM, "%s: truncated inside the key box", name);
		goto done;
	}
	if (crypto_box_seal_open(s->box_plain, box, sizeof box, agg->pk, agg->sk) != 0) {
		diag_fail(d, EX_NOPERM, "%s: the key box does not open with aggregator key %s: "
		          "the package was altered or damaged", name, agg->info.id_hex);
		goto done;
	}
	crypto_generichash(s->hdr_hash, 32, hdr, h->header_size, NULL, 0);
	if (sodium_memcmp(s->hdr_hash, s->box_plain + 32, 32) != 0) {
		diag_fail(d, EX_NOPERM, "%s: the clear header was altered after sealing "
		          "(country %s, periods %s, version %lu as it reads now)", name,
		          h->country, h->periods, (unsigned long)h->version);
		goto done;
	}
	if (crypto_secretstream_xchacha20poly1305_init_pull(&s->ss, ssh, s->box_plain) != 0) {
		diag_fail(d, EX_NOPERM, "%s: bad stream header", name);
		goto done;
	}
	crypto_sign_init(&s->sign);
	crypto_sign_update(&s->sign, (const unsigned char *)SEAL_SIG_CONTEXT,
	                   strlen(SEAL_SIG_CONTEXT));
	crypto_sign_update(&s->sign, hdr, h->header_size);

	consumer c = {.om = om, .od = od, .padded = h->padded_size};
	uint64_t nchunks = h->padded_size / SEAL_CHUNK;
	unsigned char tag;
	unsigned long long mlen;
	for (uint64_t i = 0; i <= nchunks; i++) {
		size_t want = i < nchunks ? SEAL_CHUNK + SEAL_CHUNK_OVERHEAD : FINAL_CHUNK;
		size_t got = rd_read(r, cipher, want);
		if (rd_failed(r)) {
			diag_fail(d, EX_IOERR, "%s: read error: %s", name, strerror(errno));
			goto done;
		}
		if (got != want) {
			diag_fail(d, EX_NOPERM, "%s: truncated in chunk %llu of %llu", name,
			          (unsigned long long)i + 1, (unsigned long long)nchunks + 1);
			goto done;
		}
		if (crypto_secretstream_xchacha20poly1305_pull(&s->ss, plain, &mlen, &tag, cipher,
		                                               want, hdr, h->header_size) != 0) {
			diag_fail(d, EX_NOPERM, "%s: chunk %llu of %llu does not authenticate: the "
			          "encrypted body was altered or damaged", name,
			          (unsigned long long)i + 1, (unsigned long long)nchunks + 1);
			goto done;
		}
		if (i < nchunks) {
			if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) {
				diag_fail(d, EX_NOPERM, "%s: the encrypted stream ends early (chunk %llu "
				          "of %llu is not a message chunk)", name,
				          (unsigned long long)i + 1, (unsigned long long)nchunks + 1);
				goto done;
			}
			crypto_sign_update(&s->sign, plain, SEAL_CHUNK);
			if (consume(&c, plain, SEAL_CHUNK, name, d) != 0)
				goto done;
		} else {
			if (tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL ||
			    mlen != crypto_sign_BYTES) {
				diag_fail(d, EX_NOPERM, "%s: the encrypted stream does not end with its "
				          "final signature chunk", name);
				goto done;
			}
			memcpy(s->sig, plain, crypto_sign_BYTES);
		}
	}
	if (rd_read(r, plain, 1) != 0) {
		diag_fail(d, EX_NOPERM, "%s: unexpected trailing bytes after the end of the "
		          "package", name);
		goto done;
	}
	if (crypto_sign_final_verify(&s->sign, s->sig, office_pk) != 0) {
		diag_fail(d, EX_NOPERM, "%s: the signature does not verify with office key %s: "
		          "not sealed by that office (or forged)", name, office_hex);
		goto done;
	}
	rc = 0;
done:
	if (s)
		sodium_free(s);
	if (plain) {
		sodium_memzero(plain, SEAL_CHUNK);
		free(plain);
	}
	free(cipher);
	return rc;
}

/* Open a package for reading; *size is its length, or UINT64_MAX when it
 * is not a regular file (a pipe: the size check is then skipped). */
static FILE *open_package(const char *path, uint64_t *size, diag *d)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		diag_fail(d, EX_NOINPUT, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	*size = UINT64_MAX;
	if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode))
		*size = (uint64_t)st.st_size;
	return fp;
}

int seal_open(const char *path, const keys_aggregator_secret *agg,
              const unsigned char office_pk[32], const char *out_data_path,
              const char *out_manifest_path, seal_header *out, diag *d)
{
	if (!strcmp(out_data_path, out_manifest_path))
		return diag_fail(d, EX_USAGE, "data and manifest outputs must differ (%s)",
		                 out_data_path);
	uint64_t size;
	FILE *fp = open_package(path, &size, d);
	if (!fp)
		return -1;
	atomic_file am = {0}, ad = {0};
	seal_header h;
	rd r = {.fp = fp};
	int rc = -1;
	if (atomic_open(out_manifest_path, 0600, &am, d) != 0)
		goto done;
	if (atomic_open(out_data_path, 0600, &ad, d) != 0)
		goto done;
	if (open_core(&r, size, path, agg, office_pk, am.fp, ad.fp, &h, d) != 0)
		goto done;
	/* data first, so a present manifest means a complete pair */
	if (atomic_commit(&ad, d) != 0)
		goto done;
	if (atomic_commit(&am, d) != 0) {
		unlink(out_data_path);
		goto done;
	}
	if (out)
		*out = h;
	rc = 0;
done:
	atomic_abort(&am);
	atomic_abort(&ad);
	fclose(fp);
	return rc;
}

int seal_open_stream(const char *path, const keys_aggregator_secret *agg,
                     const unsigned char office_pk[32], FILE *data_out, FILE *manifest_out,
                     seal_header *out, char pkg_sha256_hex[65], const progress_hook *pg,
                     diag *d)
{
	pkg_sha256_hex[0] = 0;
	uint64_t size;
	FILE *fp = open_package(path, &size, d);
	if (!fp)
		return -1;
	sha256_ctx sha;
	sha256_init(&sha, 0);
	seal_header h;
	rd r = {.fp = fp, .sha = &sha, .pg = pg, .total = size == UINT64_MAX ? 0 : size};
	int rc = open_core(&r, size, path, agg, office_pk, manifest_out, data_out, &h, d);
	fclose(fp);
	if (rc == 0 && (fflush(data_out) != 0 || ferror(data_out) || fflush(manifest_out) != 0 ||
	                ferror(manifest_out)))
		rc = diag_fail(d, EX_IOERR, "%s: cannot write the decrypted package: %s", path,
		               strerror(errno));
	if (rc != 0)
		return -1;
	unsigned char hb[32];
	sha256_final(&sha, hb);
	text_hex(hb, 32, pkg_sha256_hex);
	if (out)
		*out = h;
	return 0;
}

int seal_open_mem(const unsigned char *pkg, size_t pkg_len,
                  const keys_aggregator_secret *agg, const unsigned char office_pk[32],
                  unsigned char **data, size_t *data_len,
                  unsigned char **manifest, size_t *manifest_len,
                  seal_header *out, diag *d)
{
	*data = *manifest = NULL;
	*data_len = *manifest_len = 0;
	char *mb = NULL, *db = NULL;
	size_t ml = 0, dl = 0;
	FILE *om = open_memstream(&mb, &ml), *od = open_memstream(&db, &dl);
	if (!om || !od) {
		if (om)
			fclose(om);
		if (od)
			fclose(od);
		free(mb);
		free(db);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	seal_header h;
	rd r = {.mem = pkg, .len = pkg_len};
	int rc = open_core(&r, pkg_len, "package", agg, office_pk, om, od, &h, d);
	int e1 = fclose(om), e2 = fclose(od);
	if (rc == 0 && (e1 || e2))
		rc = diag_fail(d, EX_OSERR, "out of memory");
	if (rc != 0) {
		if (mb)
			sodium_memzero(mb, ml);
		if (db)
			sodium_memzero(db, dl);
		free(mb);
		free(db);
		return -1;
	}
	*manifest = (unsigned char *)mb;
	*manifest_len = ml;
	*data = (unsigned char *)db;
	*data_len = dl;
	if (out)
		*out = h;
	return 0;
}
