/* seal: sealed submission packages, from a national office to the
 * aggregator: encrypted to the aggregator, signed by the office, with a
 * small clear header that reveals no counts.
 *
 * A national office seals its harmonised submission (the data file and
 * its manifest, docs/standard.md) with seal_package(); the aggregator reads
 * the clear header with seal_peek() to find which office key to trust, then
 * decrypts and verifies with seal_open().  docs/sealing.md has the threat
 * model and how to check a package by hand.
 *
 * Why it is shaped so:
 *  - Confidentiality: the content is encrypted with a fresh random key
 *    (crypto_secretstream_xchacha20poly1305) that only the aggregator can
 *    recover (crypto_box_seal to its X25519 key).
 *  - Nothing in clear reveals counts: no hash of the plaintext (small tables
 *    could be recovered by hashing guesses), no signature in clear (the same
 *    attack with the office's public key), and the plaintext length is
 *    padded to a multiple of 64 KiB.
 *  - Integrity and origin: every chunk is authenticated with the clear
 *    header as additional data, so an edited header (country, periods,
 *    version, ...) breaks decryption; the stream must end with a TAG_FINAL
 *    chunk exactly at the end of the file (no truncation, no trailing
 *    bytes); an Ed25519ph signature by the office key over the header and
 *    the whole plaintext travels encrypted in that final chunk.
 *  - Flat memory: both directions stream 64 KiB chunks, in one pass, so
 *    files of any size (GBs) need the same ~200 KiB.
 *  - Nothing half-done: seal_package writes through core/atomic.h;
 *    seal_open decrypts into temporaries and renames them into place only
 *    after the last chunk authenticated and the signature verified.
 *
 * Format version 1, byte by byte (integers unsigned, big-endian):
 *
 *   clear header, H = 46 + P bytes
 *     0   8  magic "TIPSEAL\0" (54 49 50 53 45 41 4c 00)
 *     8   2  format version = 1
 *    10   2  H, the header length in bytes (46 + P)
 *    12   1  kind: 1 = records, 2 = cells
 *    13   3  country, ISO 3166-1 alpha-3, upper-case ASCII ("DEU")
 *    16   4  submission version (1 first submission, 2 resubmission, ...)
 *    20   8  signer key id (office public key, keys_id())
 *    28   8  aggregator key id (aggregator public key, keys_id())
 *    36   8  L, padded plaintext length: a positive multiple of 65536
 *    44   2  P, length of the periods text, 1..1024
 *    46   P  periods: canonical periods ("2024-Q1" or "2024"), comma
 *            separated, strictly ascending, no spaces ("2024-Q1,2024-Q2")
 *   key box, 112 bytes
 *     H       112  crypto_box_seal(aggregator pk) of 64 bytes:
 *                  file key (32) || BLAKE2b-256 (crypto_generichash,
 *                  unkeyed) of the H header bytes.  The header is public,
 *                  so its hash reveals nothing; it lets seal_open tell an
 *                  edited header from an edited body (the binding itself
 *                  is the additional data of every chunk).
 *   encrypted stream, crypto_secretstream_xchacha20poly1305 under file key
 *     H+112    24  secretstream header
 *     H+136   L/65536 chunks of 65536+17 bytes: 65536 plaintext bytes each,
 *                  tag TAG_MESSAGE, additional data = the H header bytes
 *     end-81   81  last chunk: the 64-byte signature, tag TAG_FINAL,
 *                  additional data = the H header bytes
 *   so a package has exactly H + 136 + (L/65536)*65553 + 81 bytes.
 *
 *   plaintext (L bytes, the concatenation of the TAG_MESSAGE chunks)
 *     0      8  M, manifest length
 *     8      M  manifest bytes
 *     8+M    8  N, data length
 *     16+M   N  data bytes
 *     16+M+N    zero bytes up to L; L is the smallest multiple of 65536
 *               that is >= 16+M+N (so L >= 65536)
 *
 *   signature: Ed25519ph (crypto_sign_init/update/final_create) by the
 *   office secret key over "tipstat-seal-v1-signature" (25 bytes) || the
 *   H header bytes || the L plaintext bytes.
 *
 * Errors: every problem with a package (malformed header, wrong key,
 * anything that does not authenticate, truncation, trailing bytes, bad
 * signature) is EX_NOPERM (77) with a message saying which; a package that
 * cannot be read is EX_NOINPUT; input files that cannot be read or change
 * while being sealed are EX_NOINPUT/EX_IOERR; bad metadata is EX_DATAERR;
 * a signer key for another country is EX_NOPERM; outputs EX_CANTCREAT /
 * EX_IOERR (core/atomic.h).
 *
 * Ownership: the library keeps nothing; keys are borrowed.  seal_open_mem
 * returns malloc'd buffers that the caller free()s.  sodium_init() must
 * have been called.
 */
#ifndef TIPSTAT_SEAL_H
#define TIPSTAT_SEAL_H

#include <stddef.h>
#include <stdint.h>
#include "core/diag.h"
#include "core/progress.h"
#include "ingest/keys.h"

#define SEAL_MAGIC "TIPSEAL\0"
#define SEAL_MAGIC_LEN 8
#define SEAL_FORMAT 1
#define SEAL_FIXED_HEADER 46       /* header bytes before the periods */
#define SEAL_PERIODS_MAX 1024
#define SEAL_HEADER_MAX (SEAL_FIXED_HEADER + SEAL_PERIODS_MAX)
#define SEAL_CHUNK 65536           /* plaintext bytes per chunk = padding bucket */
#define SEAL_BOX_BYTES 112         /* crypto_box_SEALBYTES + 64 */
#define SEAL_STREAM_HEADER 24      /* crypto_secretstream_..._HEADERBYTES */
#define SEAL_CHUNK_OVERHEAD 17     /* crypto_secretstream_..._ABYTES */
#define SEAL_SIG_CONTEXT "tipstat-seal-v1-signature"

enum seal_kind { SEAL_KIND_RECORDS = 1, SEAL_KIND_CELLS = 2 };

/* What the office declares about a submission (all of it goes in clear). */
typedef struct seal_meta {
	const char *country;   /* ISO alpha-3; must be the signer key's country */
	const char *periods;   /* canonical, ascending, comma separated */
	uint32_t version;      /* submission version */
	int kind;              /* enum seal_kind */
} seal_meta;

/* A decoded clear header. */
typedef struct seal_header {
	unsigned format;                       /* SEAL_FORMAT */
	int kind;                              /* enum seal_kind */
	char country[4];
	char periods[SEAL_PERIODS_MAX + 1];
	uint32_t version;                      /* submission version */
	unsigned char signer_id[KEYS_ID_BYTES];
	unsigned char aggregator_id[KEYS_ID_BYTES];
	char signer_id_hex[KEYS_ID_HEX];
	char aggregator_id_hex[KEYS_ID_HEX];
	uint64_t padded_size;                  /* L */
	size_t header_size;                    /* H */
	uint64_t package_size;                 /* what the whole file must measure */
} seal_header;

/* "records" / "cells"; "unknown" otherwise. */
const char *seal_kind_name(int kind);
/* enum seal_kind of "records" / "cells", or -1. */
int seal_kind_parse(const char *s);
/* 1 if s is a valid periods text for the header (see the format). */
int seal_valid_periods(const char *s);

/* Seal manifest_path and data_path for the aggregator whose public key is
 * aggregator_pk, signed by signer, into out_path (mode 0644, atomically;
 * on failure nothing is left).  pg (may be NULL) is told the plaintext
 * bytes sealed of the padded total, chunk by chunk. */
int seal_package(const char *data_path, const char *manifest_path,
                 const keys_office_secret *signer, const unsigned char aggregator_pk[32],
                 const seal_meta *meta, const char *out_path, const progress_hook *pg,
                 diag *d);

/* Decode and validate a clear header from buf[0..len) (len may exceed it).
 * Checks everything that can be checked without keys, except the package
 * size (header_size and package_size are filled for the caller to compare). */
int seal_header_parse(const unsigned char *buf, size_t len, seal_header *out, diag *d);

/* Read and validate the clear header of the package at path, and check
 * the file has exactly the size the header announces. */
int seal_peek(const char *path, seal_header *out, diag *d);

/* Decrypt and verify the package at path with the aggregator's secret key
 * and the office public key trusted for its country (office_pk), writing
 * the data and manifest to out_data_path and out_manifest_path (mode
 * 0600, since they are the plaintext).  Both appear only if everything
 * verified; otherwise nothing is written and the failure is EX_NOPERM.
 * out (may be NULL) receives the header. */
int seal_open(const char *path, const keys_aggregator_secret *agg,
              const unsigned char office_pk[32], const char *out_data_path,
              const char *out_manifest_path, seal_header *out, diag *d);

/* seal_open for a caller that keeps the plaintext in its own private
 * temporary files: the data and manifest go to data_out / manifest_out
 * (not synced: they are temporaries), and pkg_sha256_hex (65 bytes)
 * receives the SHA-256 of the package computed while reading it, which
 * spares `accept` a second read of a large package.  On failure the
 * streams may hold partial plaintext, which the caller discards, and
 * pkg_sha256_hex is "" (the file may not have been read to its end).
 * pg (may be NULL) is told the package bytes read of its size. */
int seal_open_stream(const char *path, const keys_aggregator_secret *agg,
                     const unsigned char office_pk[32], FILE *data_out, FILE *manifest_out,
                     seal_header *out, char pkg_sha256_hex[65], const progress_hook *pg,
                     diag *d);

/* The same from and to memory (for tests and small tools): on success
 * *data / *manifest are malloc'd (NUL-terminated for convenience, the NUL
 * not counted in the lengths); on failure they are NULL. */
int seal_open_mem(const unsigned char *pkg, size_t pkg_len,
                  const keys_aggregator_secret *agg, const unsigned char office_pk[32],
                  unsigned char **data, size_t *data_len,
                  unsigned char **manifest, size_t *manifest_len,
                  seal_header *out, diag *d);

#endif
