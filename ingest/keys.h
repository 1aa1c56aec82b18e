/* keys: the key files of tipstat (office signing keys, aggregator receiving
 * keys, pseudonym keys), their generation, parsing and safe handling.
 *
 * Three kinds of key exist, each in its own small text file:
 *
 *   office       Ed25519 signing key pair of one national office, bound to
 *                one country (ISO 3166-1 alpha-3).  The office signs what
 *                it seals (ingest/seal.h); the aggregator keeps the public
 *                halves of the offices it trusts, per country.
 *   aggregator   X25519 key pair (libsodium crypto_box) of the aggregator:
 *                offices seal packages to its public half, only the secret
 *                half opens them.
 *   pseudonym    32 random bytes, secret, never leaves the office: the key
 *                of the BLAKE2b hash that turns national case ids into
 *                case_key (docs/standard.md).  Losing it breaks the linking
 *                of re-reported persons across quarters; leaking it lets a
 *                holder of national ids recognise them in submissions.
 *
 * File format (UTF-8 text, LF line endings; '#' comment and blank lines are
 * allowed after the first line; every field exactly once):
 *
 *   tipstat-key/1
 *   type: office-secret | office-public | aggregator-secret |
 *         aggregator-public | pseudonym-secret
 *   country: DEU                  (office keys only; absent otherwise)
 *   key-id: 0123456789abcdef      (16 lower-case hex digits, see keys_id())
 *   created: 2024-05-01T12:00:00Z (UTC)
 *   demo: yes | no                (yes = made for demos/tests, not for use)
 *   key: <base64, libsodium sodium_base64_VARIANT_ORIGINAL, 32 bytes>
 *
 * The 32 key bytes are: office-secret the Ed25519 seed (the key pair is
 * re-derived from it), office-public the Ed25519 public key,
 * aggregator-secret the X25519 secret key, aggregator-public the X25519
 * public key, pseudonym-secret the pseudonym key.  key-id is checked against
 * the key on every load, so a file whose key line was damaged or swapped is
 * refused rather than silently used.
 *
 * Secret files (type *-secret) are written with mode 0600 and, like ssh,
 * refused on load when any group or other permission bit is set (exit code
 * EX_NOPERM, with the chmod that fixes it).  Generation never overwrites an
 * existing file: a lost pseudonym or office key is not recoverable.
 *
 * Error codes: a file that cannot be opened is EX_NOINPUT; a malformed key
 * file, a key of the wrong type, or a secret file with loose permissions is
 * EX_NOPERM ("key file refused"), malformed lines being reported as
 * positioned diagnostics FILE:LINE (values of the key line are never
 * quoted).  Output problems are EX_CANTCREAT / EX_IOERR (core/atomic.h).
 *
 * Ownership: secret key structs (keys_office_secret, keys_aggregator_secret)
 * and pseudonym keys are allocated by this module in sodium_malloc memory
 * (guard pages, never swapped where the OS allows) and must be released
 * with the matching keys_free_*(), which wipes them; all free functions
 * accept NULL.  Public key structs are plain caller-owned values.
 * sodium_init() must have been called before any function here.
 */
#ifndef TIPSTAT_KEYS_H
#define TIPSTAT_KEYS_H

#include <stddef.h>
#include "core/diag.h"

#define KEYS_ID_BYTES 8      /* key id: first 8 bytes of BLAKE2b-256(pk) */
#define KEYS_ID_HEX 17       /* 16 hex digits + NUL */
#define KEYS_KEY_BYTES 32    /* every key in a key file is 32 bytes */
#define KEYS_FILE_MAX 4096   /* a longer file is not a key file */

typedef enum keys_type {
	KEYS_OFFICE_SECRET = 1,
	KEYS_OFFICE_PUBLIC = 2,
	KEYS_AGGREGATOR_SECRET = 3,
	KEYS_AGGREGATOR_PUBLIC = 4,
	KEYS_PSEUDONYM_SECRET = 5
} keys_type;

/* What a key file says about its key (everything but the key itself). */
typedef struct keys_info {
	int type;                          /* enum keys_type */
	char country[4];                   /* office keys: "DEU"; else "" */
	unsigned char id[KEYS_ID_BYTES];
	char id_hex[KEYS_ID_HEX];
	char created[21];                  /* "2024-05-01T12:00:00Z" */
	int demo;                          /* 1 = demo/test key */
} keys_info;

/* An office signing key.  Lives in sodium_malloc memory (see above). */
typedef struct keys_office_secret {
	keys_info info;
	unsigned char pk[32];              /* Ed25519 public key */
	unsigned char sk[64];              /* libsodium Ed25519 secret key */
} keys_office_secret;

typedef struct keys_office_public {
	keys_info info;
	unsigned char pk[32];
} keys_office_public;

/* The aggregator's receiving key.  Lives in sodium_malloc memory. */
typedef struct keys_aggregator_secret {
	keys_info info;
	unsigned char pk[32];              /* X25519 public key */
	unsigned char sk[32];              /* X25519 secret key */
} keys_aggregator_secret;

typedef struct keys_aggregator_public {
	keys_info info;
	unsigned char pk[32];
} keys_aggregator_public;

/* "office-secret", ...; "unknown" for anything else. */
const char *keys_type_name(int type);

/* Key id of a public key: the first 8 bytes of its unkeyed BLAKE2b-256
 * hash (crypto_generichash, 32-byte output). */
void keys_id(const unsigned char pk[32], unsigned char id[KEYS_ID_BYTES]);
/* 16 lower-case hex digits + NUL. */
void keys_id_hex(const unsigned char id[KEYS_ID_BYTES], char hex[KEYS_ID_HEX]);
/* 1 if s is three upper-case ASCII letters (the shape of an ISO alpha-3
 * code; whether the country exists is the codelists' business). */
int keys_valid_country(const char *s);

/* --- in memory ----------------------------------------------------------- */

/* A fresh key pair (created = now).  *out is sodium_malloc memory. */
int keys_office_new(const char *country, int demo, keys_office_secret **out, diag *d);
int keys_aggregator_new(int demo, keys_aggregator_secret **out, diag *d);
/* The public half, with the same country, id, created and demo. */
void keys_office_public_of(const keys_office_secret *k, keys_office_public *out);
void keys_aggregator_public_of(const keys_aggregator_secret *k, keys_aggregator_public *out);

void keys_free_office_secret(keys_office_secret *k);
void keys_free_aggregator_secret(keys_aggregator_secret *k);
void keys_free_pseudonym(unsigned char *key);

/* --- files ------------------------------------------------------------- */

/* Write key files (secret 0600, public 0644), atomically, refusing with
 * EX_CANTCREAT when a target already exists.  The pair functions write both
 * files or neither (if the second cannot be committed, the first is
 * removed again). */
int keys_save_office(const keys_office_secret *k, const char *secret_path,
                     const char *public_path, diag *d);
int keys_save_aggregator(const keys_aggregator_secret *k, const char *secret_path,
                         const char *public_path, diag *d);
/* Write the public file of an office or aggregator secret key file again
 * (the same bytes keygen wrote: country, id, created and demo come from the
 * secret), refusing with EX_CANTCREAT when public_path exists.  This makes
 * the one non-atomic moment of the pair functions harmless: they commit the
 * secret, then the public file, and a crash between the two leaves a
 * secret whose public half this recreates.  A pseudonym key or a public
 * file is refused with EX_USAGE. */
int keys_save_public_of(const char *secret_path, const char *public_path, diag *d);
/* Generate and save in one step. */
int keys_generate_office(const char *country, int demo, const char *secret_path,
                         const char *public_path, diag *d);
int keys_generate_aggregator(int demo, const char *secret_path, const char *public_path,
                             diag *d);
int keys_generate_pseudonym(int demo, const char *path, diag *d);

/* Load a key file of the given kind.  Secret loaders refuse a file with
 * group/other permission bits (EX_NOPERM) before reading it. */
int keys_load_office_secret(const char *path, keys_office_secret **out, diag *d);
int keys_load_office_public(const char *path, keys_office_public *out, diag *d);
int keys_load_aggregator_secret(const char *path, keys_aggregator_secret **out, diag *d);
int keys_load_aggregator_public(const char *path, keys_aggregator_public *out, diag *d);
/* The 32-byte pseudonym key, in sodium_malloc memory (keys_free_pseudonym).
 * The id of a pseudonym key is the first 8 bytes of
 * BLAKE2b-256(message "tipstat-pseudonym-key-id", key = the pseudonym key),
 * so two files can be compared (keys_describe) without revealing the key. */
int keys_load_pseudonym(const char *path, unsigned char **out, diag *d);

/* Read any key file and describe it (no key material kept).  A secret file
 * with loose permissions is refused like by the loaders. */
int keys_describe(const char *path, keys_info *out, diag *d);

#endif
