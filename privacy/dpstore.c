/* dpstore: see dpstore.h. */
#include "privacy/dpstore.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "core/sqlx.h"
#include "privacy/dpcube.h"

static const char SCHEMA[] =
	"CREATE TABLE IF NOT EXISTS dp_measurement(\n"
	"  release_id INTEGER PRIMARY KEY REFERENCES release(id),\n"
	"  rho_nano   INTEGER NOT NULL CHECK(rho_nano > 0),\n"
	"  seeded     INTEGER NOT NULL CHECK(seeded IN (0, 1)),\n"
	"  n_cells    INTEGER NOT NULL,\n"
	"  data       BLOB NOT NULL\n"
	");\n";

int dpstore_init(sqlite3 *db, diag *d)
{
	char *err = NULL;
	if (sqlite3_exec(db, SCHEMA, NULL, NULL, &err) != SQLITE_OK) {
		sqlx_fail(db, SQLITE_IOERR, "dp measurements", d);   /* names the file */
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
	for (int k = 0; k < bytes; k++)
		p[k] = (unsigned char)(v >> (8 * k));
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
	uint64_t v = 0;
	for (int k = 0; k < bytes; k++)
		v |= (uint64_t)p[k] << (8 * k);
	return v;
}

int dpstore_put_tx(sqlite3 *db, int64_t release_id, void *vctx, diag *d)
{
	const dpstore_put_ctx *c = vctx;
	if (c->n > UINT32_MAX)
		return diag_fail(d, EX_SOFTWARE, "dp measurements: cube too large to store");
	if (dpstore_init(db, d) != 0)
		return -1;
	size_t m = 0;
	for (size_t i = 0; i < c->n; i++)
		m += c->raw[i] != DPCUBE_NONE;
	unsigned char *blob = malloc(m * 12 + 1);
	if (!blob)
		return diag_fail(d, EX_OSERR, "dp measurements: out of memory");
	size_t k = 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->raw[i] != DPCUBE_NONE) {
			put_le(blob + 12 * k, i, 4);
			put_le(blob + 12 * k + 4, (uint64_t)c->raw[i], 8);
			k++;
		}
	sqlite3_stmt *st;
	int rc = -1;
	if (sqlite3_prepare_v2(db, "INSERT INTO dp_measurement(release_id, rho_nano, seeded, "
	                       "n_cells, data) VALUES(?,?,?,?,?)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, release_id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)c->rho_nano);
		sqlite3_bind_int(st, 3, c->seeded ? 1 : 0);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)c->n);
		sqlite3_bind_blob(st, 5, blob, (int)(m * 12), SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
		sqlite3_finalize(st);
	}
	free(blob);
	if (rc)
		return sqlx_fail(db, SQLITE_IOERR, "dp measurements", d);
	return 0;
}

int dpstore_get(sqlite3 *db, const char *name, dpstore_release *out, int *found, diag *d)
{
	memset(out, 0, sizeof *out);
	*found = 0;
	int has_m, has_r;
	if (sqlx_has_table(db, "dp_measurement", &has_m, d) != 0 ||
	    sqlx_has_table(db, "release", &has_r, d) != 0)
		return -1;
	if (!has_m || !has_r)
		return 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT r.id, r.as_of_seq, m.rho_nano, m.seeded, m.n_cells, "
	                       "m.data FROM release r JOIN dp_measurement m ON m.release_id = r.id "
	                       "WHERE r.name = ? AND r.method = 'dp'", -1, &st, NULL) != SQLITE_OK)
		return sqlx_fail(db, SQLITE_IOERR, "dp measurements", d);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = 0, s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->as_of_seq = sqlite3_column_int64(st, 1);
		out->rho_nano = (uint64_t)sqlite3_column_int64(st, 2);
		out->seeded = sqlite3_column_int(st, 3);
		sqlite3_int64 n = sqlite3_column_int64(st, 4);
		const unsigned char *b = sqlite3_column_blob(st, 5);
		size_t bl = (size_t)sqlite3_column_bytes(st, 5);
		if (n < 0 || n > UINT32_MAX || bl % 12)
			rc = diag_fail(d, EX_DATAERR, "dp measurements of '%s' are damaged", name);
		else if (!(out->raw = malloc(((size_t)n ? (size_t)n : 1) * sizeof *out->raw)))
			rc = diag_fail(d, EX_OSERR, "dp measurements: out of memory");
		if (!rc) {
			out->n = (size_t)n;
			for (size_t i = 0; i < out->n; i++)
				out->raw[i] = DPCUBE_NONE;
			for (size_t k = 0; k < bl / 12 && !rc; k++) {
				uint64_t i = get_le(b + 12 * k, 4);
				if (i >= out->n)
					rc = diag_fail(d, EX_DATAERR, "dp measurements of '%s' are damaged", name);
				else
					out->raw[i] = (int64_t)get_le(b + 12 * k + 4, 8);
			}
			*found = !rc;
		}
	} else if (s != SQLITE_DONE) {
		rc = sqlx_fail(db, SQLITE_IOERR, "dp measurements", d);
	}
	sqlite3_finalize(st);
	if (rc)
		dpstore_release_free(out);
	return rc;
}

void dpstore_release_free(dpstore_release *r)
{
	free(r->raw);
	memset(r, 0, sizeof *r);
}
