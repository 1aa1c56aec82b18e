/* request: parsing, canonical form and signatures of researcher requests
 * (privacy/request.h). */
#include "privacy/request.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "privacy/ledger.h"

static const char *const geo_names[] = {"world", "region", "subregion", "country"};
static const char *const dim_names[] = {"year", "sex", "age", "form", "citizenship"};
static const char *const fdim_names[] = {"country", "region", "year", "sex", "age", "form",
                                         "citizenship"};
static const char *const cit_classes[] = {"domestic", "samesub", "othersub", "otherreg", "U"};
/* Names that would reach individual records: refused with a reason. */
static const char *const record_names[] = {"key", "case_key", "case-key", "casekey", "id",
                                           "case_id", "case-id", "line", "record", "row",
                                           "submission", "pseudonym", "age_years",
                                           "birth", "name", NULL};

const char *req_geo_name(int geo) { return geo >= 0 && geo < 4 ? geo_names[geo] : "?"; }
const char *req_dim_name(int dim) { return dim >= 0 && dim < REQ_NDIM ? dim_names[dim] : "?"; }
const char *req_fdim_name(int f) { return f >= 0 && f < REQ_NFDIM ? fdim_names[f] : "?"; }

int req_valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > REQ_ID_MAX || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' ||
		      s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

static int is_record_name(const char *s)
{
	for (size_t i = 0; record_names[i]; i++)
		if (!strcmp(s, record_names[i]))
			return 1;
	return 0;
}

static int find_name(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

static int is_token(const char *s)
{
	if (!*s || strlen(s) > 15)
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

/* Resolve a filter code to its canonical code (codelists when given). */
static int resolve_code(const codelists *cl, int fdim, const char *v, char out[16])
{
	int i;
	if (fdim == REQ_F_CIT) {
		i = find_name(cit_classes, 5, v);
		if (i < 0)
			return -1;
		snprintf(out, 16, "%s", cit_classes[i]);
		return 0;
	}
	if (fdim == REQ_F_YEAR) {
		if (strlen(v) != 4 || !isdigit((unsigned char)v[0]) || !isdigit((unsigned char)v[1]) ||
		    !isdigit((unsigned char)v[2]) || !isdigit((unsigned char)v[3]))
			return -1;
		snprintf(out, 16, "%s", v);
		return 0;
	}
	if (!cl) {
		if (!is_token(v))
			return -1;
		snprintf(out, 16, "%s", v);
		return 0;
	}
	size_t n = strlen(v);
	switch (fdim) {
	case REQ_F_COUNTRY:
		i = cl_find_country(cl, v, n);
		if (i < 0)
			return -1;
		snprintf(out, 16, "%s", cl->countries[i].iso3);
		return 0;
	case REQ_F_REGION:
		for (size_t k = 0; k < cl->n_regions; k++)
			if (cl->regions[k].kind != CL_WORLD && !strcmp(cl->regions[k].code, v)) {
				snprintf(out, 16, "%s", v);
				return 0;
			}
		return -1;
	case REQ_F_SEX: i = cl_find(&cl->sex, v, n);
		if (i < 0) return -1;
		snprintf(out, 16, "%s", cl->sex.codes[i].code);
		return 0;
	case REQ_F_AGE: i = cl_find(&cl->age, v, n);
		if (i < 0 || cl->age.codes[i].parent >= 0) return -1;  /* top-level groups only */
		snprintf(out, 16, "%s", cl->age.codes[i].code);
		return 0;
	case REQ_F_FORM: i = cl_find(&cl->forms, v, n);
		if (i < 0) return -1;
		snprintf(out, 16, "%s", cl->forms.codes[i].code);
		return 0;
	}
	return -1;
}

static int filter_cmp(const void *a, const void *b)
{
	const req_filter *x = a, *y = b;
	if (x->dim != y->dim)
		return x->dim - y->dim;
	return strcmp(x->code, y->code);
}

#define PERR(col, ...) (diag_add(d, DIAG_ERROR, file, lineno, (col), __VA_ARGS__), bad = 1)

int req_parse(const char *text, size_t len, const char *file, const codelists *cl,
              int require_signature, req_request *out, diag *d)
{
	memset(out, 0, sizeof *out);
	out->geo = REQ_GEO_WORLD;
	if (!file)
		file = "request";
	if (len > REQ_TEXT_MAX)
		return diag_fail(d, EX_DATAERR, "%s: a request is at most %d bytes", file, REQ_TEXT_MAX);
	if (memchr(text, '\0', len))
		return diag_fail(d, EX_DATAERR, "%s: a request is text (NUL byte found)", file);
	enum { K_RES, K_IND, K_GB, K_FIL, K_RHO, K_MOE, K_NONCE, K_DATE, K_SIG, K_N };
	static const char *const keys[K_N] = {"researcher", "indicator", "group-by", "filter",
	                                      "rho", "moe", "nonce", "date", "signature"};
	unsigned long seen_line[K_N] = {0};
	int bad = 0, geo_set = 0;
	unsigned long lineno = 0;
	size_t pos = 0;
	char line[1024];
	while (pos < len) {
		size_t start = pos;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		pos = nl ? end + 1 : len;
		lineno++;
		if (seen_line[K_SIG]) {
			PERR(1, "the signature line must be the last line");
			break;
		}
		size_t ll = end - start;
		if (ll && text[start + ll - 1] == '\r')
			ll--;
		if (ll >= sizeof line) {
			PERR(1, "line longer than %zu bytes", sizeof line - 1);
			continue;
		}
		memcpy(line, text + start, ll);
		line[ll] = 0;
		if (!ll || line[0] == '#')
			continue;
		char *eq = strchr(line, '=');
		if (!eq) {
			PERR(1, "expected key=value");
			continue;
		}
		*eq = 0;
		char *val = eq + 1;
		unsigned long vcol = (unsigned long)(val - line) + 1;
		int k = find_name(keys, K_N, line);
		if (k < 0) {
			PERR(1, "unknown key '%s' (researcher, indicator, group-by, filter, rho, moe, "
			     "nonce, date, signature)", line);
			continue;
		}
		if (seen_line[k]) {
			PERR(1, "'%s' given twice (first on line %lu)", keys[k], seen_line[k]);
			continue;
		}
		seen_line[k] = lineno;
		switch (k) {
		case K_RES:
			if (!req_valid_id(val))
				PERR(vcol, "researcher id must be 1-32 of [a-z0-9_.-]");
			else
				snprintf(out->researcher, sizeof out->researcher, "%s", val);
			break;
		case K_IND: {
			if (cl) {
				int i = cl_find(&cl->indicators, val, strlen(val));
				if (i < 0)
					PERR(vcol, "unknown indicator '%s'", val);
				else
					snprintf(out->indicator, sizeof out->indicator, "%s",
					         cl->indicators.codes[i].code);
			} else if (!is_token(val)) {
				PERR(vcol, "indicator must be a code");
			} else {
				snprintf(out->indicator, sizeof out->indicator, "%s", val);
			}
			break;
		}
		case K_GB: {
			char *s = val;
			while (1) {
				char *c = strchr(s, ',');
				if (c)
					*c = 0;
				unsigned long col = vcol + (unsigned long)(s - val);
				int g = find_name(geo_names, 4, s), dm = find_name(dim_names, REQ_NDIM, s);
				if (g >= 0) {
					if (geo_set)
						PERR(col, "at most one geography level in group-by");
					geo_set = 1;
					out->geo = g;
				} else if (dm >= 0) {
					if (out->dims & (1u << dm))
						PERR(col, "'%s' twice in group-by", s);
					out->dims |= 1u << dm;
				} else if (is_record_name(s)) {
					PERR(col, "refused: grouping by '%s' would single out records; only "
					     "harmonised dimensions can be grouped by", s);
				} else {
					PERR(col, "cannot group by '%s': use world, region, subregion, country, "
					     "year, sex, age, form, citizenship", s);
				}
				if (!c)
					break;
				s = c + 1;
			}
			break;
		}
		case K_FIL: {
			char *s = val;
			while (1) {
				char *c = strchr(s, ',');
				if (c)
					*c = 0;
				unsigned long col = vcol + (unsigned long)(s - val);
				char *colon = strchr(s, ':');
				if (!colon) {
					PERR(col, "filter items are DIM:CODE");
				} else {
					*colon = 0;
					int f = find_name(fdim_names, REQ_NFDIM, s);
					if (f < 0) {
						if (is_record_name(s))
							PERR(col, "refused: filtering on '%s' would single out records", s);
						else
							PERR(col, "cannot filter on '%s': use country, region, year, sex, "
							     "age, form, citizenship", s);
					} else if (out->n_filters == REQ_MAX_FILTERS) {
						PERR(col, "at most %d filter items", REQ_MAX_FILTERS);
					} else {
						req_filter *rf = &out->filters[out->n_filters];
						if (resolve_code(cl, f, colon + 1, rf->code) != 0) {
							PERR(col + (unsigned long)(colon + 1 - s), "unknown %s code '%s'",
							     fdim_names[f], colon + 1);
						} else {
							rf->dim = f;
							out->n_filters++;
						}
					}
				}
				if (!c)
					break;
				s = c + 1;
			}
			break;
		}
		case K_RHO: {
			diag d2 = DIAG_INIT;
			if (ledger_parse_rho(val, &out->rho, &d2) != 0 || out->rho <= 0)
				PERR(vcol, "rho must be a positive exact amount (e.g. 0.01, 1/8)");
			diag_free(&d2);
			break;
		}
		case K_MOE: {
			char *e;
			long long m = strtoll(val, &e, 10);
			if (e == val || *e || m < 1 || m > 1000000000LL)
				PERR(vcol, "moe must be a whole number of persons, 1 or more");
			else
				out->moe = m;
			break;
		}
		case K_NONCE: case K_DATE:
			if (strlen(val) > 64)
				PERR(vcol, "%s is at most 64 characters", keys[k]);
			break;
		case K_SIG: {
			size_t bl;
			if (strlen(val) != 128 ||
			    sodium_hex2bin(out->sig, 64, val, 128, NULL, &bl, NULL) != 0 || bl != 64) {
				PERR(vcol, "signature must be 128 hex digits");
			} else {
				out->signed_ = 1;
				out->signed_len = start;
			}
			break;
		}
		}
	}
	if (!seen_line[K_RES])
		PERR(0, "missing researcher=");
	if (!seen_line[K_IND])
		PERR(0, "missing indicator=");
	if (seen_line[K_RHO] && seen_line[K_MOE])
		PERR(seen_line[K_MOE] ? 1 : 0, "give rho= or moe=, not both");
	else if (!seen_line[K_RHO] && !seen_line[K_MOE])
		PERR(0, "missing rho= or moe= (the cost, or the wanted 90%% margin of error)");
	if (bad)
		return diag_fail(d, EX_DATAERR, "%s: request refused (%zu problem%s)", file,
		                 d->n_errors, d->n_errors == 1 ? "" : "s");
	if (require_signature && !out->signed_)
		return diag_fail(d, EX_NOPERM, "%s: the request is not signed (tipstat request sign)",
		                 file);
	qsort(out->filters, out->n_filters, sizeof out->filters[0], filter_cmp);
	size_t w = 0;
	for (size_t i = 0; i < out->n_filters; i++)
		if (!w || filter_cmp(&out->filters[w - 1], &out->filters[i]))
			out->filters[w++] = out->filters[i];
	out->n_filters = w;
	return 0;
}

int req_question(const req_request *r, char *buf, size_t size, char qid[REQ_QID_HEX], diag *d)
{
	char tmp[REQ_QUESTION_MAX];
	size_t n = 0;
	int w = snprintf(tmp, sizeof tmp, "indicator=%s;group-by=%s", r->indicator,
	                 geo_names[r->geo]);
	n = (size_t)w;
	for (int i = 0; i < REQ_NDIM; i++)
		if (r->dims & (1u << i))
			n += (size_t)snprintf(tmp + n, sizeof tmp - n, ",%s", dim_names[i]);
	for (size_t i = 0; i < r->n_filters; i++)
		n += (size_t)snprintf(tmp + n, sizeof tmp - n, "%s%s:%s", i ? "," : ";filter=",
		                      fdim_names[r->filters[i].dim], r->filters[i].code);
	if (n >= sizeof tmp || n >= size)
		return diag_fail(d, EX_SOFTWARE, "question too long");
	memcpy(buf, tmp, n + 1);
	if (qid) {
		unsigned char h[32];
		crypto_generichash(h, sizeof h, (const unsigned char *)tmp, n, NULL, 0);
		sodium_bin2hex(qid, REQ_QID_HEX, h, 8);
	}
	return 0;
}

static int sig_message(const char *text, size_t len, unsigned char **msg, size_t *mlen,
                       diag *d)
{
	size_t c = strlen(REQ_SIG_CONTEXT);
	*msg = malloc(c + len + 1);
	if (!*msg)
		return diag_fail(d, EX_OSERR, "out of memory");
	memcpy(*msg, REQ_SIG_CONTEXT, c);
	memcpy(*msg + c, text, len);
	*mlen = c + len;
	return 0;
}

int req_verify(const req_request *r, const char *text, size_t len, const unsigned char pk[32],
               diag *d)
{
	if (!r->signed_)
		return diag_fail(d, EX_NOPERM, "the request is not signed");
	if (r->signed_len > len)
		return diag_fail(d, EX_SOFTWARE, "signature span beyond the text");
	unsigned char *m = NULL;
	size_t ml = 0;
	if (sig_message(text, r->signed_len, &m, &ml, d) != 0)
		return -1;
	int ok = crypto_sign_verify_detached(r->sig, m, ml, pk) == 0;
	free(m);
	if (!ok)
		return diag_fail(d, EX_NOPERM, "bad signature: the request was not signed by the key of "
		                 "researcher '%s' (or was changed after signing)", r->researcher);
	return 0;
}

int req_sign(const char *text, size_t len, const unsigned char sk[64], char **out,
             size_t *out_len, diag *d)
{
	if (!len || text[len - 1] != '\n')
		return diag_fail(d, EX_DATAERR, "a request to sign must end with a newline");
	/* text is len bytes, not a C string: never strstr */
	int already = len >= 10 && !memcmp(text, "signature=", 10);
	for (size_t i = 0; !already && i + 11 <= len; i++)
		already = text[i] == '\n' && !memcmp(text + i + 1, "signature=", 10);
	if (already)
		return diag_fail(d, EX_DATAERR, "the request is already signed");
	unsigned char *m = NULL, sig[64];
	size_t ml = 0;
	if (sig_message(text, len, &m, &ml, d) != 0)
		return -1;
	crypto_sign_detached(sig, NULL, m, ml, sk);
	free(m);
	*out = malloc(len + 10 + 128 + 2);
	if (!*out)
		return diag_fail(d, EX_OSERR, "out of memory");
	memcpy(*out, text, len);
	memcpy(*out + len, "signature=", 10);
	sodium_bin2hex(*out + len + 10, 129, sig, 64);
	(*out)[len + 10 + 128] = '\n';
	*out_len = len + 10 + 128 + 1;
	(*out)[*out_len] = 0;
	return 0;
}
