/* json: see json.h.  Recursive descent with an explicit depth bound; all
 * nodes and strings come from one growing arena of blocks. */
#include "core/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "core/text.h"

typedef struct block {
	struct block *next;
	size_t used, cap;
	max_align_t data[];
} block;

typedef struct parser {
	const char *s, *name;
	size_t n, i;
	block *arena;
	diag *d;
	int failed;
} parser;

static void *alloc(parser *p, size_t sz)
{
	sz = (sz + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!p->arena || p->arena->used + sz > p->arena->cap) {
		size_t cap = sz > 65536 ? sz : 65536;
		block *b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->next = p->arena;
		b->used = 0;
		b->cap = cap;
		p->arena = b;
	}
	void *r = (char *)p->arena->data + p->arena->used;
	p->arena->used += sz;
	return r;
}

static int fail(parser *p, const char *msg)
{
	if (!p->failed) {
		unsigned long line = 1, col = 1;
		for (size_t k = 0; k < p->i && k < p->n; k++) {
			if (p->s[k] == '\n') {
				line++;
				col = 1;
			} else if (((unsigned char)p->s[k] & 0xC0) != 0x80) {
				col++;
			}
		}
		diag_add(p->d, DIAG_ERROR, p->name, line, col, "%s", msg);
		p->failed = 1;
	}
	return -1;
}

static void ws(parser *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' ||
	                       p->s[p->i] == '\r'))
		p->i++;
}

static json_value *value(parser *p, int depth);

static int hex4(parser *p, unsigned *out)
{
	unsigned v = 0;
	if (p->i + 4 > p->n)
		return fail(p, "truncated \\u escape");
	for (int k = 0; k < 4; k++) {
		char c = p->s[p->i++];
		v <<= 4;
		if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
		else return fail(p, "bad \\u escape");
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) { o[0] = (char)cp; return 1; }
	if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F)); return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static const char *string(parser *p, size_t *len)
{
	p->i++; /* opening quote */
	size_t start = p->i;
	/* decoded is never longer than the source */
	size_t end = start;
	while (end < p->n && p->s[end] != '"') {
		if (p->s[end] == '\\')
			end++;
		end++;
	}
	if (end >= p->n) {
		fail(p, "unterminated string");
		return NULL;
	}
	size_t bad;
	if (!text_utf8_valid(p->s + start, end - start, &bad)) {
		p->i = start + bad;
		fail(p, "invalid UTF-8 in string");
		return NULL;
	}
	char *o = alloc(p, end - start + 1);
	if (!o) {
		fail(p, "out of memory");
		return NULL;
	}
	size_t k = 0;
	while (p->s[p->i] != '"') {
		unsigned char c = (unsigned char)p->s[p->i];
		if (c < 0x20) {
			fail(p, "control character in string");
			return NULL;
		}
		if (c != '\\') {
			o[k++] = (char)c;
			p->i++;
			continue;
		}
		p->i++;
		char e = p->s[p->i++];
		switch (e) {
		case '"': o[k++] = '"'; break;
		case '\\': o[k++] = '\\'; break;
		case '/': o[k++] = '/'; break;
		case 'b': o[k++] = '\b'; break;
		case 'f': o[k++] = '\f'; break;
		case 'n': o[k++] = '\n'; break;
		case 'r': o[k++] = '\r'; break;
		case 't': o[k++] = '\t'; break;
		case 'u': {
			unsigned cp, lo;
			if (hex4(p, &cp) != 0)
				return NULL;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (p->i + 2 > p->n || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u') {
					fail(p, "unpaired surrogate");
					return NULL;
				}
				p->i += 2;
				if (hex4(p, &lo) != 0)
					return NULL;
				if (lo < 0xDC00 || lo > 0xDFFF) {
					fail(p, "unpaired surrogate");
					return NULL;
				}
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
				fail(p, "unpaired surrogate");
				return NULL;
			}
			if (cp == 0) {
				fail(p, "\\u0000 is not allowed");
				return NULL;
			}
			k += put_utf8(o + k, cp);
			break;
		}
		default:
			fail(p, "bad escape");
			return NULL;
		}
	}
	p->i++; /* closing quote */
	o[k] = '\0';
	*len = k;
	return o;
}

static int number(parser *p, double *out)
{
	size_t st = p->i;
	if (p->s[p->i] == '-')
		p->i++;
	if (p->i >= p->n || !(p->s[p->i] >= '0' && p->s[p->i] <= '9'))
		return fail(p, "bad number");
	if (p->s[p->i] == '0' && p->i + 1 < p->n && p->s[p->i + 1] >= '0' && p->s[p->i + 1] <= '9')
		return fail(p, "leading zero in number");
	while (p->i < p->n && ((p->s[p->i] >= '0' && p->s[p->i] <= '9') || p->s[p->i] == '.' ||
	                       p->s[p->i] == 'e' || p->s[p->i] == 'E' || p->s[p->i] == '+' ||
	                       p->s[p->i] == '-'))
		p->i++;
	char buf[64];
	size_t len = p->i - st;
	if (len >= sizeof buf)
		return fail(p, "number too long");
	memcpy(buf, p->s + st, len);
	buf[len] = '\0';
	char *end;
	errno = 0;
	*out = strtod(buf, &end);
	if (*end || errno)
		return fail(p, "bad number");
	return 0;
}

static json_value *container(parser *p, int depth, int is_obj)
{
	json_value *v = alloc(p, sizeof *v);
	if (!v) {
		fail(p, "out of memory");
		return NULL;
	}
	memset(v, 0, sizeof *v);
	v->type = is_obj ? JSON_OBJECT : JSON_ARRAY;
	char close = is_obj ? '}' : ']';
	p->i++;
	size_t cap = 0;
	ws(p);
	if (p->i < p->n && p->s[p->i] == close) {
		p->i++;
		return v;
	}
	for (;;) {
		const char *key = NULL;
		size_t klen;
		ws(p);
		if (is_obj) {
			if (p->i >= p->n || p->s[p->i] != '"') {
				fail(p, "expected a member name");
				return NULL;
			}
			if (!(key = string(p, &klen)))
				return NULL;
			ws(p);
			if (p->i >= p->n || p->s[p->i] != ':') {
				fail(p, "expected ':'");
				return NULL;
			}
			p->i++;
		}
		json_value *child = value(p, depth + 1);
		if (!child)
			return NULL;
		if (v->len == cap) {
			size_t nc = cap ? cap * 2 : 8;
			json_value **ni = alloc(p, nc * sizeof *ni);
			const char **nk = is_obj ? alloc(p, nc * sizeof *nk) : NULL;
			if (!ni || (is_obj && !nk)) {
				fail(p, "out of memory");
				return NULL;
			}
			if (v->len)
				memcpy(ni, v->items, v->len * sizeof *ni);
			if (is_obj && v->len)
				memcpy(nk, v->keys, v->len * sizeof *nk);
			v->items = ni;
			v->keys = nk;
			cap = nc;
		}
		if (is_obj)
			v->keys[v->len] = key;
		v->items[v->len++] = child;
		ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == close) {
			p->i++;
			return v;
		}
		fail(p, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
		return NULL;
	}
}

static json_value *value(parser *p, int depth)
{
	if (depth > JSON_MAX_DEPTH) {
		fail(p, "nesting too deep");
		return NULL;
	}
	ws(p);
	if (p->i >= p->n) {
		fail(p, "unexpected end of input");
		return NULL;
	}
	char c = p->s[p->i];
	if (c == '{' || c == '[')
		return container(p, depth, c == '{');
	json_value *v = alloc(p, sizeof *v);
	if (!v) {
		fail(p, "out of memory");
		return NULL;
	}
	memset(v, 0, sizeof *v);
	if (c == '"') {
		v->type = JSON_STRING;
		if (!(v->str = string(p, &v->len)))
			return NULL;
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		v->type = JSON_NUMBER;
		if (number(p, &v->num) != 0)
			return NULL;
	} else if (p->n - p->i >= 4 && !strncmp(p->s + p->i, "true", 4)) {
		v->type = JSON_BOOL, v->num = 1, p->i += 4;
	} else if (p->n - p->i >= 5 && !strncmp(p->s + p->i, "false", 5)) {
		v->type = JSON_BOOL, p->i += 5;
	} else if (p->n - p->i >= 4 && !strncmp(p->s + p->i, "null", 4)) {
		v->type = JSON_NULL, p->i += 4;
	} else {
		fail(p, "unexpected character");
		return NULL;
	}
	return v;
}

static void free_arena(block *b)
{
	while (b) {
		block *n = b->next;
		free(b);
		b = n;
	}
}

int json_parse(const char *text, size_t len, const char *name, json_doc *out, diag *d)
{
	parser p = {.s = text, .n = len, .name = name, .d = d};
	memset(out, 0, sizeof *out);
	json_value *root = value(&p, 0);
	if (root) {
		ws(&p);
		if (p.i != p.n) {
			fail(&p, "trailing characters after the document");
			root = NULL;
		}
	}
	if (!root) {
		free_arena(p.arena);
		return diag_fail(d, EX_DATAERR, "%s: malformed JSON", name);
	}
	out->root = root;
	out->arena = p.arena;
	return 0;
}

int json_load(const char *path, size_t max_bytes, json_doc *out, diag *d)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return diag_fail(d, EX_NOINPUT, "%s: cannot open: %s", path, strerror(errno));
	char *buf = malloc(max_bytes + 1);
	if (!buf) {
		fclose(fp);
		return diag_fail(d, EX_OSERR, "out of memory");
	}
	size_t n = fread(buf, 1, max_bytes + 1, fp);
	int err = ferror(fp);
	fclose(fp);
	if (err || n > max_bytes) {
		free(buf);
		return diag_fail(d, err ? EX_IOERR : EX_DATAERR, "%s: %s", path,
		                 err ? "read error" : "file too large");
	}
	int rc = json_parse(buf, n, path, out, d);
	free(buf);
	return rc;
}

void json_free(json_doc *doc)
{
	free_arena(doc->arena);
	memset(doc, 0, sizeof *doc);
}

const json_value *json_get(const json_value *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->len; i++)
		if (!strcmp(obj->keys[i], key))
			return obj->items[i];
	return NULL;
}

const char *json_get_str(const json_value *obj, const char *key)
{
	const json_value *v = json_get(obj, key);
	return v && v->type == JSON_STRING ? v->str : NULL;
}
