/* text: small string utilities shared by every stage.
 *
 * The one normalisation rule of tipstat lives here: national values and
 * codes are compared after text_norm(), which trims, collapses runs of
 * white space to one space and lower-cases ASCII and the Latin-1 letters
 * of UTF-8 (so "  Forced   Labour" == "forced labour", "ÉTÉ" == "été").
 */
#ifndef TIPSTAT_TEXT_H
#define TIPSTAT_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Normalise s[0..n) into out (size outsz, always NUL-terminated).
 * Returns the length written (truncated to outsz-1). */
size_t text_norm(const char *s, size_t n, char *out, size_t outsz);

/* 1 if s[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF),
 * else 0 and *bad_at = byte offset of the first bad sequence. */
int text_utf8_valid(const char *s, size_t n, size_t *bad_at);

/* Number of UTF-8 characters in s[0..n) (counts lead bytes). */
size_t text_utf8_len(const char *s, size_t n);

/* Latin-1 to UTF-8: out must have room for 2*n+1 bytes.  Returns length. */
size_t text_latin1_to_utf8(const char *s, size_t n, char *out);

/* Levenshtein distance between two short strings (bytes), capped at cap. */
unsigned text_edit_distance(const char *a, const char *b, unsigned cap);

/* Copy s[0..n) into out for quoting in a message: at most outsz-1 bytes,
 * control characters replaced by '?', "..." appended when cut. */
void text_quote(const char *s, size_t n, char *out, size_t outsz);

/* Hex encode n bytes into out (2n+1). */
void text_hex(const unsigned char *in, size_t n, char *out);

/* FNV-1a 64-bit hash, for hash tables (not for security). */
uint64_t text_hash(const char *s, size_t n);

#endif
