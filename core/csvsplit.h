/* csvsplit: where a CSV file can be cut into chunks that parse alone.
 *
 * ingest reads a big national file on several threads: each thread parses
 * a chunk that must begin where a record begins.  A newline begins a
 * record unless it lies inside a quoted field, and a position is inside
 * quotes exactly when an odd number of quote characters precede it from
 * the start of the file (a doubled quote "" inside a field counts twice,
 * so it never changes the parity).  csvsplit_cut() finds the last such
 * newline in a buffer, carrying the parity from buffer to buffer.
 *
 * The parity is only a hint: a stray quote in a bad row flips it for the
 * rest of the file, and the reader (core/csvr) then resynchronises on the
 * next line.  So callers must check each cut (csvr's more_follows and
 * csvr_tail: a record still open at the end of a chunk) and read again
 * from the open record; csvsplit never has to be right, only usually
 * right, and it then falls back to the last newline of the buffer.
 *
 * Everything here is a pure function of its arguments (no state, no
 * allocation), 8 bytes at a time.
 */
#ifndef TIPSTAT_CSVSPLIT_H
#define TIPSTAT_CSVSPLIT_H

#include <stddef.h>
#include <stdint.h>

/* Number of bytes equal to `quote` and to '\n' in s[0..n). */
void csvsplit_count(const unsigned char *s, size_t n, unsigned char quote,
                    uint64_t *quotes, uint64_t *newlines);

/* A cut of buf[0..n) given the quote parity at buf[0] (0 = outside
 * quotes): the offset just after the last '\n' outside quotes; when every
 * '\n' is inside quotes (or the parity went wrong), just after the last
 * '\n'; 0 when buf holds no '\n'.  *newlines is the number of '\n' in
 * buf[0..cut) and *parity_out the quote parity at the cut. */
size_t csvsplit_cut(const unsigned char *buf, size_t n, unsigned char quote, int parity_in,
                    uint64_t *newlines, int *parity_out);

#endif
