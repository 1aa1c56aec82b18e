/* csvr: see csvr.h.
 *
 * Shape of the reader
 * -------------------
 * Input goes into a window buffer (win[0..end)) that always holds the
 * current record from its first byte (rec) on; cur is the next byte not
 * yet handed on.  Everything about the current record is kept as offsets
 * from rec, so compacting the window (moving win[rec..end) to the front
 * before a read) changes nothing.  A csvr_open_mem buffer is used as the
 * window in place (never written to).
 *
 * The window is consumed a piece at a time: a whole line (through its
 * '\n'), the last line at end of input, or a cut of at most `piece` bytes
 * of a longer line (cut on a UTF-8 character boundary and never between CR
 * and LF).  Because pieces end at line ends, a row can only end at the end
 * of a piece, and r->line (the line of win[cur]) advances by one per
 * piece that ends in '\n'.
 *
 * Before a piece is handed to libcsv one scan (8 bytes at a time) looks
 * for the bytes libcsv must not see unchecked: NUL, invalid UTF-8 and CR
 * not followed by LF.  libcsv is fed up to such a byte; then a CR inside an
 * open quoted field is content and is fed too, anything else is an error at
 * that byte.  libcsv runs in strict mode with a space function that says
 * "no space" (so spaces are kept and a quote after a space or a character
 * after a closing quote is a strict error); strict errors return the index
 * of the offending byte, which gives the position.
 *
 * Field positions are not given by libcsv: the field callback works out
 * where the field started from its unescaped length (a quoted field's raw
 * length is len + 2 + the number of quotes in it, since every inner quote
 * was doubled, and nothing may follow a closing quote but the delimiter or
 * the end of the row).  Offsets become line/col when the record is
 * complete: col = offset + 1 for a one-line ASCII record, otherwise by one
 * pass over the record counting '\n' and UTF-8 lead bytes.
 *
 * Limits: after each piece libcsv's field length (entry_pos) and the raw
 * record length are checked, so libcsv's buffer stays below max_field +
 * piece and the window below max_record + piece + block.
 *
 * Fast path: a whole line at the start of a record with nothing for the
 * scan to flag, and either no quote char or only quoted fields that close
 * on the line, is split without libcsv; for such a line libcsv (strict,
 * spaces kept) would give exactly these fields.  It is one pass over the
 * line, 16 bytes at a time (fast_split: SSE2 compares and movemask on
 * x86-64, a byte loop elsewhere), that checks what the scan checks and
 * lists the delimiters and quotes with the UTF-8 continuation bytes before
 * each, then a walk over that short list that cuts the fields and their
 * columns: a usual row is read once instead of once per memchr (newline
 * aside), scan, and column count.  Lines with more delimiters and quotes
 * than the list holds take the older way (scan, memchr per field).  The
 * differential tests (test_csvr) compare it with libcsv byte for byte.
 */
#include "core/csvr.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "core/text.h"

/* The structural scan of the fast path uses SSE2 on x86-64 (always there);
 * elsewhere, or with -DCSVR_NO_SIMD, the same masks come from a byte loop. */
#if defined(__SSE2__) && !defined(CSVR_NO_SIMD)
#include <emmintrin.h>
#define CSVR_SSE2 1
#endif

/* libcsv's parser states (private #defines in libcsv.c, stable since 1.0);
 * we read them from the public struct csv_parser.pstate. */
enum { LC_ROW_NOT_BEGUN = 0, LC_FIELD_NOT_BEGUN = 1, LC_FIELD_BEGUN = 2,
       LC_FIELD_MIGHT_HAVE_ENDED = 3 };

#define DEF_MAX_FIELD  65536u
#define DEF_MAX_RECORD (1u << 20)
#define DEF_MAX_FIELDS 4096u
#define DEF_BLOCK      (256u << 10)
#define MAX_PIECE      (64u << 10)
#define MIN_PIECE      8u
#define LIBCSV_BLK     8192u

/* Reasons: fixed phrases for reject counts (csvr_bad_reason). */
static const char R_QUOTING[] = "bad quoting";
static const char R_CR[] = "stray carriage return";
static const char R_FIELD[] = "field too long";
static const char R_RECORD[] = "record too long";
static const char R_UTF8[] = "invalid UTF-8";
static const char R_NUL[] = "NUL byte";
static const char R_FIELDS[] = "too many fields";
static const char R_UNTERM[] = "unterminated quote";

enum { PIECE_CUT = 0, PIECE_LINE = 1, PIECE_LAST = 2 };

/* Structural bytes (delimiters, quotes) a line may have for the one-pass
 * fast path; a line with more goes the older way (memchr per field). */
#define MAX_STRUCT 256u

typedef struct slot {
	size_t aoff;  /* offset of the field's copy in the arena */
	size_t roff;  /* offset of the field's first raw byte from rec */
} slot;

struct csvr {
	char *name;
	csvr_opts o;
	size_t block, piece;

	/* source */
	FILE *fp;
	int close_fp;
	const unsigned char *mem;
	size_t mem_len, mem_pos;
	unsigned char pre[3];       /* first bytes read while looking for a BOM */
	size_t pre_n, pre_pos;
	int direct;                 /* window is the caller's memory */
	int src_eof;
	unsigned char *raw;         /* Latin-1 read buffer (block bytes) */
	uint64_t raw_read;          /* input bytes read from the source */
	uint64_t total;
	uint64_t in_off0;           /* input offset of win[0] (not Latin-1) */
	uint64_t hi;                /* bytes_read high-water mark */

	/* window */
	unsigned char *win;
	size_t cap, end, cur;
	unsigned long line;         /* line of win[cur] */
	int skip;                   /* drop input through the next '\n' */

	/* current piece (for resynchronisation) */
	size_t pe;
	int pnl;

	/* current record */
	size_t rec;
	unsigned long rec_line;
	int rec_nonascii;
	size_t feed_end;            /* absolute end of the bytes fed so far */
	size_t next_off;            /* raw offset of the next field's start */
	csvr_field *f;
	slot *slots;
	size_t nf, capf;
	char *arena;
	size_t alen, acap;
	int row_done;
	uint32_t spos[MAX_STRUCT];  /* fast path: offsets of delimiters and quotes */
	uint32_t scont[MAX_STRUCT]; /* and the UTF-8 continuation bytes before each */
	const char *cb_reason;      /* first problem seen by the field callback */
	size_t cb_off;
	int oom;

	struct csv_parser p;
	int p_init;
	const char *reason;
	int fatal;
	size_t peak;
	int tail;                   /* more_follows: a record was open at the end */
	uint64_t tail_off;
	unsigned long tail_line;
};

/* ---- small helpers ------------------------------------------------------ */

static int no_space(unsigned char c)
{
	(void)c;
	return 0;
}

/* Length of the valid UTF-8 sequence at s[0..n) (s[0] >= 0x80), 0 if it is
 * invalid or cut short.  Same rules as text_utf8_valid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned cp;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2; cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3; cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4; cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
#define CRS   0x0d0d0d0d0d0d0d0dULL

/* Offset of the first byte in s[0..n) that libcsv must not see unchecked:
 * NUL, CR not followed by LF, or the start of an invalid UTF-8 sequence;
 * n if none.  Sets *nonascii when it passes valid non-ASCII text. */
static size_t scan(const unsigned char *s, size_t n, int *nonascii)
{
	size_t i = 0;
	while (i < n) {
		if (i + 8 <= n) {
			uint64_t w, x;
			memcpy(&w, s + i, 8);
			x = w ^ CRS;
			if (!((((w - ONES) & ~w) | ((x - ONES) & ~x) | w) & HIGHS)) {
				i += 8;
				continue;
			}
		}
		unsigned char c = s[i];
		if (c < 0x80) {
			if (c == 0 || (c == '\r' && (i + 1 >= n || s[i + 1] != '\n')))
				return i;
			i++;
			continue;
		}
		size_t len = utf8_seq(s + i, n - i);
		if (!len)
			return i;
		*nonascii = 1;
		i += len;
	}
	return n;
}

/* Number of bytes c in s[0..n): 8 bytes at a time, fields rarely hold one. */
static size_t count_byte(const unsigned char *s, size_t n, unsigned char c)
{
	size_t k = 0, i = 0;
	uint64_t pat = ONES * c;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		w ^= pat;
		if (((w - ONES) & ~w & HIGHS) == 0)
			continue;
		for (size_t j = i; j < i + 8; j++)
			k += s[j] == c;
	}
	for (; i < n; i++)
		k += s[i] == c;
	return k;
}

static void note_mem(csvr *r)
{
	size_t m = (r->direct ? 0 : r->cap) + (r->raw ? r->block : 0) + r->p.entry_size +
	           r->acap + r->capf * (sizeof *r->f + sizeof *r->slots);
	if (m > r->peak)
		r->peak = m;
}

static int fatal_oom(csvr *r, diag *d)
{
	r->fatal = 1;
	return diag_fail(d, EX_OSERR, "%s: out of memory", r->name);
}

static void reset_parser(csvr *r)
{
	r->p.pstate = LC_ROW_NOT_BEGUN;
	r->p.quoted = 0;
	r->p.spaces = 0;
	r->p.entry_pos = 0;
	r->p.status = 0;
}

static void reset_record(csvr *r)
{
	r->nf = 0;
	r->alen = 0;
	r->next_off = 0;
	r->row_done = 0;
	r->cb_reason = NULL;
	r->rec_nonascii = 0;
}

/* ---- source and window -------------------------------------------------- */

static size_t src_read(csvr *r, unsigned char *buf, size_t n, diag *d)
{
	size_t got = 0;
	while (got < n && r->pre_pos < r->pre_n)
		buf[got++] = r->pre[r->pre_pos++];
	if (got < n) {
		if (r->fp) {
			size_t k = fread(buf + got, 1, n - got, r->fp);
			if (k == 0 && ferror(r->fp)) {
				r->fatal = 1;
				diag_fail(d, EX_IOERR, "%s: read error: %s", r->name, strerror(errno));
				return 0;
			}
			got += k;
		} else {
			size_t k = r->mem_len - r->mem_pos;
			if (k > n - got)
				k = n - got;
			if (k) /* mem may be NULL for an empty input */
				memcpy(buf + got, r->mem + r->mem_pos, k);
			r->mem_pos += k;
			got += k;
		}
	}
	r->raw_read += got;
	return got;
}

/* Append input to the window, first moving the current record to its
 * front.  Sets src_eof when the source is exhausted. */
static int fill(csvr *r, diag *d)
{
	if (r->direct || r->src_eof) {
		r->src_eof = 1;
		return 0;
	}
	if (r->rec > 0) {
		memmove(r->win, r->win + r->rec, r->end - r->rec);
		r->in_off0 += r->rec;
		r->cur -= r->rec;
		r->end -= r->rec;
		r->rec = 0;
	}
	size_t room = r->cap - r->end, n;
	if (r->o.latin1) {
		size_t want = (room - 1) / 2;
		if (want > r->block)
			want = r->block;
		n = src_read(r, r->raw, want, d);
		r->end += text_latin1_to_utf8((const char *)r->raw, n, (char *)r->win + r->end);
	} else {
		n = src_read(r, r->win + r->end, room < r->block ? room : r->block, d);
		r->end += n;
	}
	if (r->fatal)
		return -1;
	if (n == 0)
		r->src_eof = 1;
	return 0;
}

/* Cut a long line at x (win[x] exists): back off to the lead byte of a
 * UTF-8 character, and never split CR LF. */
static size_t cut_at(const csvr *r, size_t x)
{
	size_t x0 = x;
	for (int k = 0; k < 3 && (r->win[x] & 0xC0) == 0x80; k++)
		x--;
	if ((r->win[x] & 0xC0) == 0x80)
		x = x0; /* not a valid sequence anyway: the scan flags it wherever cut */
	if (r->win[x] == '\n' && r->win[x - 1] == '\r')
		x--;
	return x;
}

/* Next piece [cur, *pe).  Returns 1 with *kind, 0 at end of input, -1. */
static int get_piece(csvr *r, size_t *pe, int *kind, diag *d)
{
	for (;;) {
		size_t avail = r->end - r->cur;
		size_t lim = avail < r->piece ? avail : r->piece;
		const unsigned char *q = memchr(r->win + r->cur, '\n', lim);
		if (q) {
			*pe = (size_t)(q - r->win) + 1;
			*kind = PIECE_LINE;
			return 1;
		}
		if (avail > r->piece) {
			*pe = cut_at(r, r->cur + r->piece);
			*kind = PIECE_CUT;
			return 1;
		}
		if (r->src_eof) {
			if (!avail)
				return 0;
			*pe = r->end;
			*kind = PIECE_LAST;
			return 1;
		}
		if (fill(r, d) < 0)
			return -1;
	}
}

/* Drop input through the next '\n'.  Returns 0, or -1. */
static int do_skip(csvr *r, diag *d)
{
	for (;;) {
		const unsigned char *q = memchr(r->win + r->cur, '\n', r->end - r->cur);
		if (q) {
			r->cur = (size_t)(q - r->win) + 1;
			r->line++;
			break;
		}
		r->cur = r->end;
		r->rec = r->cur;
		if (r->src_eof)
			break;
		if (fill(r, d) < 0)
			return -1;
	}
	r->rec = r->cur;
	r->skip = 0;
	return 0;
}

/* ---- positions ---------------------------------------------------------- */

/* Line and column of window offset `at` (>= rec) in the current record. */
static void pos_of(const csvr *r, size_t at, unsigned long *line, unsigned long *col)
{
	unsigned long ln = r->rec_line, c = 1;
	for (size_t i = r->rec; i < at; i++) {
		unsigned char b = r->win[i];
		if (b == '\n') {
			ln++;
			c = 1;
		} else if ((b & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = ln;
	*col = c;
}

/* Hand the record's fields (pointers, lines and columns set) to out. */
static void publish(const csvr *r, csvr_record *out, unsigned long n_lines)
{
	out->f = r->f;
	out->n = r->nf;
	out->line = r->rec_line;
	out->n_lines = n_lines;
}

/* Fill the csvr_field array of a complete record. */
static void set_fields(csvr *r, csvr_record *out, unsigned long n_lines)
{
	for (size_t i = 0; i < r->nf; i++) {
		r->f[i].s = r->arena + r->slots[i].aoff;
	}
	if (n_lines == 1 && !r->rec_nonascii) {
		for (size_t i = 0; i < r->nf; i++) {
			r->f[i].line = r->rec_line;
			r->f[i].col = (unsigned long)r->slots[i].roff + 1;
		}
	} else if (n_lines == 1) {
		/* One line with UTF-8: a column counts characters, that is the
		 * bytes before the field that are not continuation bytes.  A
		 * branch-free count (the compiler vectorises it) instead of the
		 * general loop below: every row of a file with "Perú" in a
		 * column came here, 6% of ingest (bench/results.md). */
		const unsigned char *w = r->win + r->rec;
		size_t i = 0, cont = 0;
		for (size_t k = 0; k < r->nf; k++) {
			size_t to = r->slots[k].roff;
			/* 8 bytes at a time: a continuation byte has bit 7 set and
			 * bit 6 clear */
			for (; i + 8 <= to; i += 8) {
				uint64_t x;
				memcpy(&x, w + i, 8);
				x = x & ~(x << 1) & HIGHS;
				cont += (size_t)(((x >> 7) * ONES) >> 56);
			}
			for (; i < to; i++)
				cont += (w[i] & 0xC0) == 0x80;
			r->f[k].line = r->rec_line;
			r->f[k].col = (unsigned long)(to - cont) + 1;
		}
	} else {
		/* one pass: fields are in increasing offset order */
		unsigned long ln = r->rec_line, c = 1;
		size_t i = 0;
		for (size_t k = 0; k < r->nf; k++) {
			size_t to = r->slots[k].roff;
			for (; i < to; i++) {
				unsigned char b = r->win[r->rec + i];
				if (b == '\n') {
					ln++;
					c = 1;
				} else if ((b & 0xC0) != 0x80) {
					c++;
				}
			}
			r->f[k].line = ln;
			r->f[k].col = c;
		}
	}
	publish(r, out, n_lines);
}

/* ---- fields ------------------------------------------------------------- */

static int grow_fields(csvr *r)
{
	size_t nc = r->capf ? r->capf * 2 : 64;
	if (nc > r->o.max_fields)
		nc = r->o.max_fields;
	csvr_field *nf = realloc(r->f, nc * sizeof *nf);
	if (!nf)
		return -1;
	r->f = nf;
	slot *ns = realloc(r->slots, nc * sizeof *ns);
	if (!ns)
		return -1;
	r->slots = ns;
	r->capf = nc;
	return 0;
}

static int reserve_arena(csvr *r, size_t more)
{
	if (r->alen + more <= r->acap)
		return 0;
	size_t nc = r->acap ? r->acap : 4096;
	while (nc < r->alen + more)
		nc *= 2;
	char *na = realloc(r->arena, nc);
	if (!na)
		return -1;
	r->arena = na;
	r->acap = nc;
	return 0;
}

static void on_field(void *s, size_t len, void *data)
{
	csvr *r = data;
	size_t off = r->next_off;
	unsigned char q = (unsigned char)r->o.quote;
	int quoted = r->rec + off < r->feed_end && r->win[r->rec + off] == q;
	size_t rawlen = len;
	if (quoted)
		rawlen += 2 + count_byte(s, len, q);
	r->next_off = off + rawlen + 1;
	if (r->cb_reason || r->oom)
		return;
	if (len > r->o.max_field || r->nf == r->o.max_fields) {
		r->cb_reason = len > r->o.max_field ? R_FIELD : R_FIELDS;
		r->cb_off = off;
		return;
	}
	if ((r->nf == r->capf && grow_fields(r) != 0) || reserve_arena(r, len + 1) != 0) {
		r->oom = 1;
		return;
	}
	memcpy(r->arena + r->alen, s, len);
	r->arena[r->alen + len] = '\0';
	r->slots[r->nf].aoff = r->alen;
	r->slots[r->nf].roff = off;
	r->f[r->nf].len = len;
	r->f[r->nf].quoted = quoted;
	r->alen += len + 1;
	r->nf++;
}

static void on_row(int c, void *data)
{
	(void)c;
	((csvr *)data)->row_done = 1;
}

/* ---- bad records -------------------------------------------------------- */

/* Report a problem at window offset `at` of the current record, skip the
 * record and resume at `resume` (inside the current piece, or its end):
 * on the next line if resume is not at a line start. */
static int bad(csvr *r, csvr_record *out, diag *d, const char *reason, size_t at,
               size_t resume, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static int bad(csvr *r, csvr_record *out, diag *d, const char *reason, size_t at,
               size_t resume, const char *fmt, ...)
{
	unsigned long line, col;
	pos_of(r, at, &line, &col);
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(d, DIAG_ERROR, r->name, line, col, fmt, ap);
	va_end(ap);
	r->reason = reason;
	out->line = r->rec_line;
	out->n_lines = r->line - r->rec_line + 1; /* through the current piece */
	out->n = 0;
	out->f = NULL;
	reset_parser(r);
	reset_record(r);
	r->cur = resume;
	if (resume == r->pe && r->pnl)
		r->line++;
	else if (resume < r->end || !r->src_eof)
		r->skip = 1;
	r->rec = r->cur;
	return CSVR_BAD;
}

/* The quoted field starting at window offset fo is still open: report it
 * where it opened and read again from the line after that one. */
static int unterminated(csvr *r, csvr_record *out, diag *d, size_t fo, size_t limit)
{
	unsigned long line, col;
	pos_of(r, fo, &line, &col);
	if (limit)
		diag_add(d, DIAG_ERROR, r->name, line, col,
		         "unterminated quote: the quoted field opened here is still open after "
		         "%zu bytes; reading resumes on the next line",
		         limit);
	else
		diag_add(d, DIAG_ERROR, r->name, line, col,
		         "unterminated quote: the quoted field opened here is still open at the "
		         "end of the file");
	r->reason = R_UNTERM;
	out->line = r->rec_line;
	out->n_lines = line - r->rec_line + 1;
	out->n = 0;
	out->f = NULL;
	reset_parser(r);
	reset_record(r);
	const unsigned char *q = memchr(r->win + fo, '\n', r->end - fo);
	if (q) {
		r->cur = (size_t)(q - r->win) + 1;
		r->line = line + 1;
	} else {
		r->cur = r->end; /* only at end of input */
	}
	r->skip = 0;
	r->rec = r->cur;
	return CSVR_BAD;
}

static int quote_error(csvr *r, csvr_record *out, diag *d, size_t at)
{
	if (r->p.pstate == LC_FIELD_BEGUN && !r->p.quoted) {
		size_t fo = r->rec + r->next_off, i = fo;
		while (i < at && (r->win[i] == ' ' || r->win[i] == '\t'))
			i++;
		if (i == at)
			return bad(r, out, d, R_QUOTING, at, at,
			           "quote character after spaces at the start of a field (spaces "
			           "around fields are kept, so the field is not quoted)");
		return bad(r, out, d, R_QUOTING, at, at,
		           "quote character inside an unquoted field (quote the whole field "
		           "and double the inner quotes)");
	}
	return bad(r, out, d, R_QUOTING, at, at,
	           "text after the closing quote of a quoted field");
}

/* ---- feeding libcsv ----------------------------------------------------- */

/* The limits, checked with win[..upto) fed: the open field's length
 * (libcsv's entry_pos) and the record's raw length.  An open quoted field
 * that already holds a newline is reported as an unterminated quote.  0 if
 * within limits, else CSVR_BAD (resuming at upto). */
static int over_limit(csvr *r, size_t upto, csvr_record *out, diag *d)
{
	int field = !r->row_done && r->p.entry_pos > r->o.max_field;
	int record = upto - r->rec > r->o.max_record;
	if (!field && !record)
		return 0;
	size_t fo = r->rec + r->next_off;
	if (!r->row_done && r->p.quoted && r->p.pstate == LC_FIELD_BEGUN && fo < upto &&
	    memchr(r->win + fo, '\n', upto - fo))
		return unterminated(r, out, d, fo, field ? r->o.max_field : r->o.max_record);
	if (field)
		return bad(r, out, d, R_FIELD, fo, upto, "field longer than %zu bytes",
		           r->o.max_field);
	return bad(r, out, d, R_RECORD, r->rec, upto, "record longer than %zu bytes",
	           r->o.max_record);
}

/* Feed win[a..b).  0, CSVR_BAD or -1. */
static int feed(csvr *r, size_t a, size_t b, csvr_record *out, diag *d)
{
	r->feed_end = b;
	size_t n = csv_parse(&r->p, r->win + a, b - a, on_field, on_row, r);
	note_mem(r);
	if (r->oom)
		return fatal_oom(r, d);
	if (r->cb_reason) {
		size_t at = r->rec + r->cb_off;
		if (r->cb_reason == R_FIELD)
			return bad(r, out, d, R_FIELD, at, a + n, "field longer than %zu bytes",
			           r->o.max_field);
		return bad(r, out, d, R_FIELDS, at, a + n, "record has more than %zu fields",
		           r->o.max_fields);
	}
	if (n < b - a) {
		if (csv_error(&r->p) != CSV_EPARSE)
			return fatal_oom(r, d);
		int rc = over_limit(r, a + n, out, d);
		return rc ? rc : quote_error(r, out, d, a + n);
	}
	return 0;
}

/* Hand the piece [cur, pe) to libcsv, stopping at bytes the scan flags. */
static int slow_piece(csvr *r, size_t pe, int nl, csvr_record *out, diag *d)
{
	size_t pos = r->cur;
	int rc;
	r->pe = pe;
	r->pnl = nl;
	while (pos < pe) {
		int na = 0;
		size_t b = pos + scan(r->win + pos, pe - pos, &na);
		if (na)
			r->rec_nonascii = 1;
		if (b > pos && (rc = feed(r, pos, b, out, d)) != 0)
			return rc;
		if (b == pe)
			break;
		unsigned char c = r->win[b];
		if (c == '\r' && r->p.pstate == LC_FIELD_BEGUN && r->p.quoted) {
			if ((rc = feed(r, b, b + 1, out, d)) != 0)
				return rc;
			pos = b + 1;
			continue;
		}
		if ((rc = over_limit(r, b, out, d)) != 0)
			return rc;
		if (c == '\r')
			return bad(r, out, d, R_CR, b, b,
			           "stray carriage return (a CR not followed by LF, outside quotes)");
		if (c == 0)
			return bad(r, out, d, R_NUL, b, b, "NUL byte in the input");
		return bad(r, out, d, R_UTF8, b, b,
		           "invalid UTF-8 (is the file in another encoding, such as Latin-1?)");
	}
	/* the whole piece is in libcsv */
	if ((rc = over_limit(r, pe, out, d)) != 0)
		return rc;
	r->cur = pe;
	if (nl)
		r->line++;
	if (r->row_done) {
		set_fields(r, out, r->line - r->rec_line);
		r->rec = r->cur;
		return CSVR_OK;
	}
	return 0;
}

/* The end of a record read by a fast path. */
/* The fast path's record is complete: move past its line. */
static int fast_next(csvr *r, size_t pe, int nl)
{
	r->cur = pe;
	if (nl)
		r->line++;
	r->rec = r->cur;
	note_mem(r);
	return 1;
}

static int fast_done(csvr *r, int na, size_t pe, int nl, csvr_record *out)
{
	r->rec_nonascii = na;
	set_fields(r, out, 1);
	return fast_next(r, pe, nl);
}

/* fast_done when the fields are already complete (fast_split). */
static int fast_done_cols(csvr *r, int na, size_t pe, int nl, csvr_record *out)
{
	r->rec_nonascii = na;
	publish(r, out, 1);
	return fast_next(r, pe, nl);
}

/* A whole line with quote chars: split it without libcsv when every
 * quoted field opens at its first byte and closes on this line, followed
 * by the delimiter or the end of the line, and no unquoted field holds a
 * quote.  For such a line libcsv (strict, spaces kept) gives exactly these
 * fields: inner doubled quotes become one.  Anything else (a field that
 * goes on to the next line, text after a closing quote, a stray quote, a
 * limit) is left to libcsv, which also reports errors.  The arena needs
 * at most body + 1 bytes: each field's NUL takes the place of its
 * delimiter or of a quote.  1 done, 0 not, -1 fatal. */
static int fast_quoted(csvr *r, const unsigned char *s, size_t body, int na, size_t pe, int nl,
                       csvr_record *out, diag *d)
{
	unsigned char q = (unsigned char)r->o.quote, delim = (unsigned char)r->o.delim;
	if (reserve_arena(r, body + 1) != 0)
		return fatal_oom(r, d);
	size_t i = 0, a = 0;
	r->nf = 0;
	for (;;) {
		if (r->nf == r->o.max_fields)
			goto slow;
		if (r->nf == r->capf && grow_fields(r) != 0)
			return fatal_oom(r, d);
		size_t start = i, a0 = a;
		int quoted = i < body && s[i] == q;
		if (quoted) {
			i++;
			for (;;) {
				const unsigned char *p = memchr(s + i, q, body - i);
				if (!p)
					goto slow; /* closes on a later line, or never */
				size_t k = (size_t)(p - s);
				memcpy(r->arena + a, s + i, k - i);
				a += k - i;
				if (k + 1 < body && s[k + 1] == q) {
					r->arena[a++] = (char)q;
					i = k + 2;
					continue;
				}
				i = k + 1;
				break;
			}
			if (i < body && s[i] != delim)
				goto slow; /* text after the closing quote */
		} else {
			const unsigned char *p = memchr(s + i, delim, body - i);
			size_t e = p ? (size_t)(p - s) : body;
			if (memchr(s + i, q, e - i))
				goto slow; /* a quote inside an unquoted field */
			memcpy(r->arena + a, s + i, e - i);
			a += e - i;
			i = e;
		}
		if (a - a0 > r->o.max_field)
			goto slow;
		r->arena[a++] = '\0';
		r->slots[r->nf].aoff = a0;
		r->slots[r->nf].roff = start;
		r->f[r->nf].len = a - a0 - 1;
		r->f[r->nf].quoted = quoted;
		r->nf++;
		if (i >= body)
			break;
		i++; /* the delimiter; a last one is followed by an empty field */
	}
	r->alen = a;
	return fast_done(r, na, pe, nl, out);
slow:
	r->nf = 0;
	return 0;
}

/* fast_line the older way: scan, then memchr for each field (or
 * fast_quoted).  Used when a line has more than MAX_STRUCT delimiters and
 * quotes for fast_split.  s[0..n) is the line (n <= max_record, checked by
 * fast_line), s[0..body) without its line end.  1 done, 0 not, -1 fatal. */
static int fast_line_memchr(csvr *r, const unsigned char *s, size_t n, size_t body, size_t pe,
                            int nl, csvr_record *out, diag *d)
{
	int na = 0;
	if (scan(s, n, &na) != n)
		return 0;
	if (memchr(s, (unsigned char)r->o.quote, body)) {
		/* a last line without newline is checked by libcsv with the row
		 * still open, when its entry length counts a closing quote: leave
		 * it to libcsv, for the same "field too long" at the limit */
		if (!nl)
			return 0;
		return fast_quoted(r, s, body, na, pe, nl, out, d);
	}
	if (reserve_arena(r, body + 1) != 0)
		return fatal_oom(r, d);
	unsigned char delim = (unsigned char)r->o.delim;
	size_t start = 0;
	for (;;) {
		const unsigned char *q = memchr(s + start, delim, body - start);
		size_t e = q ? (size_t)(q - s) : body;
		if (e - start > r->o.max_field || r->nf == r->o.max_fields) {
			r->nf = 0;
			return 0;
		}
		if (r->nf == r->capf && grow_fields(r) != 0)
			return fatal_oom(r, d);
		r->slots[r->nf].aoff = start;
		r->slots[r->nf].roff = start;
		r->f[r->nf].len = e - start;
		r->f[r->nf].quoted = 0;
		r->nf++;
		if (!q)
			break;
		start = e + 1;
	}
	memcpy(r->arena, s, body);
	for (size_t k = 1; k < r->nf; k++)
		r->arena[r->slots[k].aoff - 1] = '\0';
	r->arena[body] = '\0';
	r->alen = body + 1;
	return fast_done(r, na, pe, nl, out);
}

/* Bit masks of one 16-byte block (bit j = byte j): delimiters, quotes,
 * bytes that keep a line off the fast path (NUL, CR: the scan would flag
 * them inside a line's body), bytes >= 0x80, and UTF-8 continuation bytes
 * (10xxxxxx, which do not start a character, for columns). */
typedef struct blk_masks {
	unsigned delim, quote, stop, high, cont;
} blk_masks;

static inline void block_masks(const unsigned char *b, unsigned char delim, unsigned char quote,
                               blk_masks *m)
{
#ifdef CSVR_SSE2
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)b);
	m->delim = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)delim)));
	m->quote = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)quote)));
	m->stop = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_setzero_si128()),
	                                                   _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))));
	m->high = (unsigned)_mm_movemask_epi8(v);
	/* signed, 0x80..0xBF are -128..-65: below -64 */
	m->cont = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, _mm_set1_epi8(-64)));
#else
	m->delim = m->quote = m->stop = m->high = m->cont = 0;
	for (unsigned j = 0; j < 16; j++) {
		unsigned bit = 1u << j;
		m->delim |= b[j] == delim ? bit : 0;
		m->quote |= b[j] == quote ? bit : 0;
		m->stop |= (b[j] == 0 || b[j] == '\r') ? bit : 0;
		m->high |= b[j] >= 0x80 ? bit : 0;
		m->cont |= (b[j] & 0xC0) == 0x80 ? bit : 0;
	}
#endif
}

/* Set bits of a 16-bit mask (the baseline x86-64 has no popcnt
 * instruction: __builtin_popcount would be a libgcc call). */
static inline unsigned pop16(unsigned x)
{
	x = x - ((x >> 1) & 0x5555u);
	x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
	x = (x + (x >> 4)) & 0x0F0Fu;
	return (x + (x >> 8)) & 0x1Fu;
}

/* Bits of a 16-bit mask at positions >= k (k <= 16). */
static inline unsigned bits_from(unsigned k)
{
	return k >= 16 ? 0u : 0xFFFFu & ~((1u << k) - 1);
}

/* fast_line in two stages.  Stage 1, one pass over the line's body 16
 * bytes at a time: leave (0) at a NUL or CR (the scan would flag it),
 * check UTF-8 only where a block has bytes >= 0x80, and list every
 * delimiter and quote with the number of continuation bytes before it
 * (so columns need no second pass).  Stage 2 walks that list (a dozen
 * entries for a usual row) and cuts the fields exactly as fast_line_memchr
 * and fast_quoted do: same fields, same arena, same fallbacks to libcsv.
 * A line with more than MAX_STRUCT delimiters and quotes is handed to
 * fast_line_memchr (return 2).  1 done, 0 not, 2 use the older way, -1. */
static int fast_split(csvr *r, const unsigned char *s, size_t body, size_t pe, int nl,
                      csvr_record *out, diag *d)
{
	unsigned char delim = (unsigned char)r->o.delim, quote = (unsigned char)r->o.quote;
	size_t npos = 0, cont = 0, utf_ok = 0;
	int na = 0, anyq = 0;
	for (size_t i = 0; i < body; i += 16) {
		blk_masks m;
		size_t len = body - i;
		if (len >= 16) {
			block_masks(s + i, delim, quote, &m);
		} else {
			unsigned char t[16] = {0};
			memcpy(t, s + i, len);
			block_masks(t, delim, quote, &m);
			unsigned keep = (1u << len) - 1;
			m.delim &= keep;
			m.quote &= keep;
			m.stop &= keep;
			m.high &= keep;
			m.cont &= keep;
		}
		if (m.stop)
			return 0;
		if (m.high) {
			/* lead bytes not covered by the sequence before */
			unsigned h = m.high & (utf_ok > i ? bits_from((unsigned)(utf_ok - i)) : 0xFFFFu);
			while (h) {
				size_t j = i + (size_t)__builtin_ctz(h);
				size_t sl = utf8_seq(s + j, body - j);
				if (!sl)
					return 0;
				utf_ok = j + sl;
				h &= bits_from((unsigned)(utf_ok - i < 16 ? utf_ok - i : 16));
			}
			na = 1;
		}
		anyq |= m.quote != 0;
		unsigned sm = m.delim | m.quote;
		while (sm) {
			unsigned b = (unsigned)__builtin_ctz(sm);
			if (npos == MAX_STRUCT)
				return 2;
			r->spos[npos] = (uint32_t)(i + b);
			r->scont[npos] = (uint32_t)(cont + (m.cont ? pop16(m.cont & ((1u << b) - 1)) : 0));
			npos++;
			sm &= sm - 1;
		}
		if (m.cont)
			cont += pop16(m.cont);
	}
	/* a last line without newline with a quote: see fast_line_memchr */
	if (anyq && !nl)
		return 0;
	if (reserve_arena(r, body + 1) != 0)
		return fatal_oom(r, d);
	/* The line is copied once; each field is then cut in place in the
	 * copy: a NUL where its delimiter (or closing quote, or the end) is,
	 * and for a quoted field its start moved past the opening quote and
	 * its doubled quotes closed up (rare), never past its closing quote. */
	char *ar = r->arena;
	memcpy(ar, s, body);
	ar[body] = '\0';
	const uint32_t *pos = r->spos;
	size_t k = 0, start = 0, cstart = 0;
	for (;;) {
		if (r->nf == r->o.max_fields)
			goto slow;
		if (r->nf == r->capf && grow_fields(r) != 0)
			return fatal_oom(r, d);
		size_t a0, flen, e;
		int quoted = k < npos && pos[k] == start && s[start] == quote;
		if (quoted) {
			size_t seg = start + 1, w = start + 1;
			k++;
			for (;;) {
				while (k < npos && s[pos[k]] != quote)
					k++; /* a delimiter inside the quotes is content */
				if (k == npos)
					goto slow; /* closes on a later line, or never */
				size_t qp = pos[k];
				if (w != seg)
					memmove(ar + w, ar + seg, qp - seg);
				w += qp - seg;
				if (qp + 1 < body && s[qp + 1] == quote) {
					ar[w++] = (char)quote;
					k += 2; /* the next entry is that second quote */
					seg = qp + 2;
					continue;
				}
				k++;
				e = qp + 1;
				break;
			}
			if (e < body && s[e] != delim)
				goto slow; /* text after the closing quote */
			a0 = start + 1;
			flen = w - a0;
			ar[w] = '\0'; /* w <= the closing quote */
		} else {
			if (k < npos && s[pos[k]] == quote)
				goto slow; /* a quote inside an unquoted field */
			e = k < npos ? pos[k] : body;
			a0 = start;
			flen = e - start;
			ar[e] = '\0';
		}
		if (flen > r->o.max_field)
			goto slow;
		r->slots[r->nf].aoff = a0;
		r->slots[r->nf].roff = start;
		r->f[r->nf].len = flen;
		r->f[r->nf].quoted = quoted;
		r->f[r->nf].col = (unsigned long)(start - cstart) + 1;
		r->f[r->nf].line = r->rec_line;
		r->f[r->nf].s = ar + a0; /* the arena is reserved: it does not move */
		r->nf++;
		if (e >= body)
			break;
		/* pos[k] is the delimiter at e; a last one is followed by an
		 * empty field */
		cstart = r->scont[k];
		k++;
		start = e + 1;
	}
	r->alen = body + 1;
	return fast_done_cols(r, na, pe, nl, out);
slow:
	r->nf = 0;
	return 0;
}

/* A whole line at the start of a record: split it without libcsv when it
 * has nothing for the scan to flag and either no quote char or only
 * quoted fields that close on the line (fast_split, fast_quoted).  1 done,
 * 0 not, -1 fatal. */
static int fast_line(csvr *r, size_t pe, int nl, csvr_record *out, diag *d)
{
	const unsigned char *s = r->win + r->cur;
	size_t n = pe - r->cur, body = n;
	if (nl) {
		body--;
		if (body && s[body - 1] == '\r')
			body--;
	}
	if (n > r->o.max_record)
		return 0;
	int rc = fast_split(r, s, body, pe, nl, out, d);
	return rc == 2 ? fast_line_memchr(r, s, n, body, pe, nl, out, d) : rc;
}

/* Only spaces and tabs (that are not the delimiter), then CR LF or LF. */
static int is_blank(const csvr *r, size_t pe, int nl)
{
	const unsigned char *s = r->win + r->cur;
	size_t n = pe - r->cur;
	if (nl) {
		n--;
		if (n && s[n - 1] == '\r')
			n--;
	}
	unsigned char delim = (unsigned char)r->o.delim;
	for (size_t i = 0; i < n; i++)
		if ((s[i] != ' ' && s[i] != '\t') || s[i] == delim)
			return 0;
	return 1;
}

/* End of input with a record begun. */
static int at_eof(csvr *r, csvr_record *out, diag *d)
{
	size_t fo = r->rec + r->next_off;
	if (r->p.quoted && r->p.pstate == LC_FIELD_BEGUN)
		return unterminated(r, out, d, fo, 0);
	r->pe = r->end;
	r->pnl = 0;
	r->feed_end = r->end;
	csv_fini(&r->p, on_field, on_row, r);
	if (r->oom)
		return fatal_oom(r, d);
	if (r->cb_reason) {
		if (r->cb_reason == R_FIELD)
			return bad(r, out, d, R_FIELD, r->rec + r->cb_off, r->end,
			           "field longer than %zu bytes", r->o.max_field);
		return bad(r, out, d, R_FIELDS, r->rec + r->cb_off, r->end,
		           "record has more than %zu fields", r->o.max_fields);
	}
	set_fields(r, out, r->line - r->rec_line + 1);
	r->rec = r->cur;
	return CSVR_OK;
}

/* Input offset of win[0] (for csvr_position and csvr_tail). */
static uint64_t base_off(const csvr *r)
{
	return r->direct ? 0 : r->in_off0;
}

/* ---- interface ---------------------------------------------------------- */

int csvr_next(csvr *r, csvr_record *out, diag *d)
{
	memset(out, 0, sizeof *out);
	if (r->fatal)
		return -1;
	r->reason = NULL;
	reset_record(r);
	for (;;) {
		if (r->skip && do_skip(r, d) != 0)
			return -1;
		size_t pe;
		int kind, rc = get_piece(r, &pe, &kind, d);
		if (rc < 0)
			return -1;
		if (rc == 0 || (kind == PIECE_LAST && r->o.more_follows)) {
			uint64_t b = csvr_bytes_read(r);
			if (b > r->hi)
				r->hi = b;
			if (r->cur == r->rec && rc == 0)
				return CSVR_EOF;
			if (r->o.more_follows) {
				/* the record goes on in the next chunk: read it again
				 * there, from its first byte */
				r->tail = 1;
				r->tail_off = base_off(r) + r->rec;
				r->tail_line = r->cur == r->rec ? r->line : r->rec_line;
				reset_parser(r);
				reset_record(r);
				r->cur = r->rec = r->end;
				r->src_eof = 1;
				r->skip = 0;
				return CSVR_EOF;
			}
			return at_eof(r, out, d);
		}
		int nl = kind == PIECE_LINE;
		if (r->cur == r->rec) {
			if (kind != PIECE_CUT && is_blank(r, pe, nl)) {
				r->cur = pe;
				r->line += (unsigned long)nl;
				r->rec = r->cur;
				continue;
			}
			r->rec_line = r->line;
			if (kind != PIECE_CUT && !r->o.libcsv_only) {
				rc = fast_line(r, pe, nl, out, d);
				if (rc)
					return rc < 0 ? -1 : CSVR_OK;
			}
		}
		rc = slow_piece(r, pe, nl, out, d);
		if (rc)
			return rc;
	}
}

static int setup(csvr *r, const csvr_opts *o, diag *d)
{
	csvr_opts z = {0};
	r->o = o ? *o : z;
	if (!r->o.delim)
		r->o.delim = ',';
	if (!r->o.quote)
		r->o.quote = '"';
	if (!r->o.max_field)
		r->o.max_field = DEF_MAX_FIELD;
	if (!r->o.max_record)
		r->o.max_record = DEF_MAX_RECORD;
	if (!r->o.max_fields)
		r->o.max_fields = DEF_MAX_FIELDS;
	r->block = r->o.block_size ? r->o.block_size : DEF_BLOCK;
	unsigned char dl = (unsigned char)r->o.delim, qu = (unsigned char)r->o.quote;
	if (dl >= 0x80 || qu >= 0x80 || dl == '\n' || dl == '\r' || qu == '\n' || qu == '\r' ||
	    dl == qu)
		return diag_fail(d, EX_USAGE,
		                 "csv: delimiter and quote must be two different ASCII characters "
		                 "other than CR and LF");
	if (r->block > (16u << 20) || r->o.max_record > (1u << 30) ||
	    r->o.max_field > (1u << 30) || r->o.max_fields > (1u << 24))
		return diag_fail(d, EX_USAGE, "csv: reader limits out of range");
	r->piece = r->block < MAX_PIECE ? r->block : MAX_PIECE;
	if (r->piece < MIN_PIECE)
		r->piece = MIN_PIECE;
	if (csv_init(&r->p, CSV_STRICT) != 0)
		return diag_fail(d, EX_OSERR, "csv: cannot initialise libcsv");
	r->p_init = 1;
	csv_set_delim(&r->p, dl);
	csv_set_quote(&r->p, qu);
	csv_set_space_func(&r->p, no_space);
	csv_set_blk_size(&r->p, LIBCSV_BLK);
	r->line = r->o.first_line ? r->o.first_line : 1;
	if (r->o.more_follows && r->o.latin1)
		return diag_fail(d, EX_USAGE, "csv: chunked reading is not available for Latin-1");
	return 0;
}

/* Copying mode: allocate the window, read the first bytes and drop a BOM. */
static int start_copying(csvr *r, diag *d)
{
	r->cap = r->o.max_record + 2 * r->piece + 2 * r->block + 8;
	r->win = malloc(r->cap);
	if (r->o.latin1)
		r->raw = malloc(r->block);
	if (!r->win || (r->o.latin1 && !r->raw))
		return diag_fail(d, EX_OSERR, "%s: out of memory", r->name);
	unsigned char b[3];
	size_t n = 0, k;
	while (n < 3 && (k = src_read(r, b + n, 3 - n, d)) > 0)
		n += k;
	if (r->fatal)
		return -1;
	r->in_off0 = r->o.offset;
	if (!r->o.no_bom && n == 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
		r->in_off0 += 3;
		if (r->o.latin1)
			diag_add(d, DIAG_WARNING, r->name, 1, 1,
			         "the file starts with a UTF-8 byte order mark but is read as "
			         "Latin-1");
	} else {
		memcpy(r->pre, b, n);
		r->pre_n = n;
		r->raw_read -= n; /* counted again when served */
	}
	note_mem(r);
	return 0;
}

static csvr *new_reader(const char *name, diag *d)
{
	csvr *r = calloc(1, sizeof *r);
	if (!r) {
		diag_fail(d, EX_OSERR, "out of memory");
		return NULL;
	}
	r->name = strdup(name ? name : "<memory>");
	if (!r->name) {
		free(r);
		diag_fail(d, EX_OSERR, "out of memory");
		return NULL;
	}
	return r;
}

int csvr_open(const char *path, const csvr_opts *o, csvr **out, diag *d)
{
	*out = NULL;
	csvr *r = new_reader(path, d);
	if (!r)
		return -1;
	if (setup(r, o, d) != 0)
		goto fail;
	if (!strcmp(path, "-")) {
		r->fp = stdin;
	} else {
		r->fp = fopen(path, "rb");
		if (!r->fp) {
			diag_fail(d, EX_NOINPUT, "%s: cannot open: %s", path, strerror(errno));
			goto fail;
		}
		r->close_fp = 1;
	}
	struct stat st;
	if (fstat(fileno(r->fp), &st) == 0 && S_ISREG(st.st_mode))
		r->total = (uint64_t)st.st_size;
	if (r->o.offset) {
		if (r->o.latin1) {
			diag_fail(d, EX_USAGE, "csv: a start offset is not available for Latin-1");
			goto fail;
		}
		if (fseeko(r->fp, (off_t)r->o.offset, SEEK_SET) != 0) {
			diag_fail(d, EX_IOERR, "%s: cannot seek: %s", path, strerror(errno));
			goto fail;
		}
	}
	if (start_copying(r, d) != 0)
		goto fail;
	*out = r;
	return 0;
fail:
	csvr_close(r);
	return -1;
}

int csvr_open_mem(const void *buf, size_t len, const char *name, const csvr_opts *o,
                  csvr **out, diag *d)
{
	*out = NULL;
	csvr *r = new_reader(name, d);
	if (!r)
		return -1;
	if (setup(r, o, d) != 0)
		goto fail;
	r->mem = buf;
	r->mem_len = len;
	r->total = len;
	if (!r->o.latin1 && !r->o.block_size) {
		r->direct = 1;
		r->src_eof = 1;
		r->win = (unsigned char *)buf; /* read only: never written through */
		r->cap = r->end = len;
		r->raw_read = len;
		if (!r->o.no_bom && len >= 3 && r->win[0] == 0xEF && r->win[1] == 0xBB &&
		    r->win[2] == 0xBF)
			r->cur = r->rec = 3;
	} else if (start_copying(r, d) != 0) {
		goto fail;
	}
	*out = r;
	return 0;
fail:
	csvr_close(r);
	return -1;
}

const char *csvr_bad_reason(const csvr *r)
{
	return r->reason;
}

const char *csvr_name(const csvr *r)
{
	return r->name;
}

uint64_t csvr_bytes_read(const csvr *r)
{
	uint64_t b;
	if (r->direct)
		b = r->cur;
	else if (r->o.latin1)
		b = r->raw_read;
	else
		b = r->in_off0 + r->cur;
	return b > r->hi ? b : r->hi;
}

void csvr_position(const csvr *r, uint64_t *offset, unsigned long *line)
{
	*offset = base_off(r) + r->rec;
	*line = r->line;
}

int csvr_tail(const csvr *r, uint64_t *offset, unsigned long *line)
{
	if (!r->tail)
		return 0;
	*offset = r->tail_off;
	*line = r->tail_line;
	return 1;
}

uint64_t csvr_bytes_total(const csvr *r)
{
	return r->total;
}

size_t csvr_peak_bytes(const csvr *r)
{
	return r->peak;
}

void csvr_close(csvr *r)
{
	if (!r)
		return;
	if (r->p_init)
		csv_free(&r->p);
	if (r->close_fp && r->fp)
		fclose(r->fp);
	if (!r->direct)
		free(r->win);
	free(r->raw);
	free(r->f);
	free(r->slots);
	free(r->arena);
	free(r->name);
	free(r);
}
