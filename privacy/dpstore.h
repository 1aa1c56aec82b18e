/* dpstore: the raw noisy measurements of a differentially private
 * release, kept in the warehouse.
 *
 * A DP release is paid for once.  Drawing fresh noise for the same
 * question again and averaging would buy precision the budget never paid
 * for, so the measurements are stored with the release (in the same
 * transaction: relreg_info.in_tx) and a re-run of the release rebuilds its
 * tables from them (dpcube_estimate is deterministic) instead of drawing.
 * They are not published: the release holds only post-processed values.
 *
 * Stored sparse: the measured cells' positions (cube_next order) and
 * values, as little-endian (uint32 index, int64 value) pairs in one blob,
 * with the cube's cell count to check the layout on reading.
 *
 * Ownership: dpstore_get returns a malloc'd array the caller frees.
 */
#ifndef TIPSTAT_DPSTORE_H
#define TIPSTAT_DPSTORE_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "core/diag.h"

typedef struct dpstore_put_ctx {
	const int64_t *raw;      /* DPCUBE_NONE where not measured */
	size_t n;
	uint64_t rho_nano;
	int seeded;              /* the noise came from a test seed */
} dpstore_put_ctx;

int dpstore_init(sqlite3 *db, diag *d);
/* relreg_info.in_tx callback: ctx is a dpstore_put_ctx. */
int dpstore_put_tx(sqlite3 *db, int64_t release_id, void *ctx, diag *d);

typedef struct dpstore_release {
	int64_t id, as_of_seq;
	uint64_t rho_nano;
	int seeded;
	int64_t *raw;            /* n entries, DPCUBE_NONE where not measured */
	size_t n;
} dpstore_release;

/* The stored measurements of release `name`; *found = 0 when no DP
 * release of that name has any (then nothing is allocated). */
int dpstore_get(sqlite3 *db, const char *name, dpstore_release *out, int *found, diag *d);
void dpstore_release_free(dpstore_release *r);

#endif
