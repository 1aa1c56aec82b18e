/* relreg: the register of releases, kept in the warehouse.
 *
 * A release is a named, recorded object: its method and parameters, the
 * warehouse state it was built from (the audit head, which pins exactly
 * which submission versions it used: wh_latest(as_of_seq) rebuilds them),
 * its privacy cost, whether it is private at all (a release built with a
 * deterministic test seed, or unprotected, is stamped NOT PRIVATE) and the
 * SHA-256 of each output file.  Registering is one transaction with its
 * audit entry ("release.create"), so the trail lists every release.
 *
 * A release may be charged to a privacy budget (privacy/ledger.h): with
 * relreg_info.budget set, its rho is spent from that budget in the SAME
 * transaction as the release row and its audit entry, so a release exists
 * if and only if it was paid for.  A release that would overspend (or names
 * a budget that does not exist) is refused with EX_NOPERM and leaves no
 * row, no audit entry and no spend.
 *
 * Ownership: strings in relreg_info are borrowed for the call; lists
 * returned by relreg_list are malloc'd (free()).
 */
#ifndef TIPSTAT_RELREG_H
#define TIPSTAT_RELREG_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "core/diag.h"

#define RELREG_NAME_MAX 64

typedef struct relreg_info {
	const char *name;          /* [A-Za-z0-9_.-]{1,64}, unique */
	const char *method;        /* "suppression", "dp", "kanon", "none" */
	const char *params;        /* key=value tokens (audit detail syntax) */
	int64_t as_of_seq;         /* audit head the release was built from */
	double rho;                /* zCDP cost, 0 for none */
	int private_;              /* 0 = NOT PRIVATE (unprotected or seeded) */
	const char *outputs;       /* "file:sha256,file:sha256" */
	/* Added for the ledger; NULL (a zeroed struct) = no charge. */
	const char *budget;        /* ledger budget charged rho, e.g. "releases" */
	const char *split;         /* how rho splits across levels and tables
	                              (ledger_split_canon syntax), NULL = none */
	/* Called inside the registering transaction, after the release row is
	 * in (release_id) and before the charge: a method's own tables (the
	 * stored DP measurements) commit or roll back with the release.
	 * NULL = nothing to add. */
	int (*in_tx)(sqlite3 *db, int64_t release_id, void *ctx, diag *d);
	void *in_tx_ctx;
} relreg_info;

typedef struct relreg_entry {
	int64_t id;
	char name[RELREG_NAME_MAX + 1];
	char method[16];
	char created[21];
	int64_t as_of_seq;
	double rho;
	int private_;
} relreg_entry;

/* Create the table if missing (idempotent). */
int relreg_init(sqlite3 *db, diag *d);
/* Register a release (refused with EX_DATAERR when the name is taken).
 * With r->budget, also charge r->rho (which must be a whole number of
 * nano-rho, see ledger_rho_from_double) to it in the same transaction:
 * refused with EX_NOPERM (the message names the amount requested and the
 * amount left) when it would overspend; then nothing is recorded. */
int relreg_record(sqlite3 *db, const char *actor, const relreg_info *r, int64_t *out_id,
                  diag *d);
int relreg_list(sqlite3 *db, relreg_entry **out, size_t *n, diag *d);
/* *exists = 1 when a release of that name is registered. */
int relreg_exists(sqlite3 *db, const char *name, int *exists, diag *d);
/* 1 if a valid release name. */
int relreg_valid_name(const char *s);

#endif
