/* request (req_): a researcher's question, as a small signed text file.
 *
 * A request is UTF-8 text of key=value lines ('#' comments and blank lines
 * allowed), each key at most once:
 *
 *   researcher=alice              account id (1-32 of [a-z0-9_.-])
 *   indicator=VIC                 an indicator code of the codelists
 *   group-by=region,year,sex      harmonised dimensions only (below)
 *   filter=form:LAB,sex:F         DIM:CODE items; OR within a dimension,
 *                                 AND across dimensions (optional)
 *   rho=0.01  or  moe=5           the privacy cost, or the wanted 90%
 *                                 margin of error per cell (one of them)
 *   nonce=... / date=...          optional, free tokens, not part of the
 *                                 question
 *   signature=<128 hex>           LAST line: Ed25519 over the bytes before
 *                                 it, prefixed by REQ_SIG_CONTEXT
 *
 * group-by dimensions: at most one geography level (world | region |
 * subregion | country; none = world), year, sex, age, form, citizenship
 * (the five citizenship classes of the cube).  Anything that could single
 * out a record (key, case_key, id, line, submission, pseudonym, ...) is
 * refused, and so is any other name: only questions over the harmonised
 * dimensions are answered.  Filter dimensions: country, region (M49 code of
 * a region or subregion), year, sex, age, form, citizenship.
 *
 * Canonical question (req_question): "indicator=VIC;group-by=region,year,
 * sex;filter=form:LAB,sex:F" with group-by in the fixed order geo, year,
 * sex, age, form, citizenship and filter items sorted and unique.  It does
 * not contain the researcher, the nonce or the cost: two researchers asking
 * the same thing ask the same question, which is the answer cache's key.
 *
 * Errors: EX_DATAERR with positioned diagnostics FILE:LINE:COL for a
 * malformed request; EX_NOPERM for a missing or bad signature.
 *
 * Ownership: req_request is a plain value (fixed buffers); nothing to
 * free.  The module keeps no state.
 */
#ifndef TIPSTAT_REQUEST_H
#define TIPSTAT_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include "core/codelist.h"
#include "core/diag.h"

#define REQ_SIG_CONTEXT "tipstat-request-v1\n"
#define REQ_ID_MAX 32
#define REQ_MAX_FILTERS 32
#define REQ_TEXT_MAX 8192
#define REQ_QUESTION_MAX 1024
#define REQ_QID_HEX 17            /* 16 hex digits + NUL */

enum req_geo { REQ_GEO_WORLD = 0, REQ_GEO_REGION = 1, REQ_GEO_SUBREGION = 2,
               REQ_GEO_COUNTRY = 3 };
/* Non-geographic group-by dimensions, in canonical order (bit = 1 << dim). */
enum req_dim { REQ_D_YEAR = 0, REQ_D_SEX, REQ_D_AGE, REQ_D_FORM, REQ_D_CIT, REQ_NDIM };
/* Filter dimensions. */
enum req_fdim { REQ_F_COUNTRY = 0, REQ_F_REGION, REQ_F_YEAR, REQ_F_SEX, REQ_F_AGE,
                REQ_F_FORM, REQ_F_CIT, REQ_NFDIM };

typedef struct req_filter {
	int dim;                      /* enum req_fdim */
	char code[16];
} req_filter;

typedef struct req_request {
	char researcher[REQ_ID_MAX + 1];
	char indicator[16];
	int geo;                      /* enum req_geo */
	unsigned dims;                /* bits of enum req_dim */
	req_filter filters[REQ_MAX_FILTERS];  /* sorted, unique */
	size_t n_filters;
	int64_t rho;                  /* nano-rho, 0 when moe was given */
	int64_t moe;                  /* wanted 90% margin, 0 when rho was given */
	int signed_;                  /* a signature line was present */
	unsigned char sig[64];
	size_t signed_len;            /* bytes covered by the signature */
} req_request;

/* Names: "world".., "year".., "country"..; static strings. */
const char *req_geo_name(int geo);
const char *req_dim_name(int dim);
const char *req_fdim_name(int fdim);
/* 1 if s is a valid researcher id: 1-32 of [a-z0-9_.-], starting a-z0-9. */
int req_valid_id(const char *s);

/* Parse text (len bytes; file names the input in diagnostics).  With cl
 * non-NULL the indicator and filter codes are checked against the
 * codelists (codes only; citizenship classes are domestic, samesub,
 * othersub, otherreg, U).  require_signature: a request without a
 * signature line is EX_NOPERM. */
int req_parse(const char *text, size_t len, const char *file, const codelists *cl,
              int require_signature, req_request *out, diag *d);
/* The canonical question (see above) into buf; its id (first 8 bytes of
 * BLAKE2b-256 of the question, hex) into qid (may be NULL). */
int req_question(const req_request *r, char *buf, size_t size, char qid[REQ_QID_HEX],
                 diag *d);
/* Verify the signature of a parsed request (text as given to req_parse)
 * with an Ed25519 public key; EX_NOPERM when absent or wrong. */
int req_verify(const req_request *r, const char *text, size_t len,
               const unsigned char pk[32], diag *d);
/* Sign: append "signature=<hex>\n" over text (which must not be signed
 * already and must end with a newline) with a libsodium Ed25519 secret key
 * (64 bytes).  *out is malloc'd (caller frees), *out_len its length. */
int req_sign(const char *text, size_t len, const unsigned char sk[64], char **out,
             size_t *out_len, diag *d);

#endif
