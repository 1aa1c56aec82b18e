/* ledger: see ledger.h. */
#include "privacy/ledger.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include "aggregator/auditlog.h"
#include "core/sqlx.h"
#include "core/vec.h"

#define DB_WHAT "privacy-budget ledger" /* the prefix of SQLite errors */

/* --- values ------------------------------------------------------------------ */

static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* value = digits (no leading zeros, at most 40) x 10^scale, then
 * nano-rho = value x 10^9.  Refuses (returns -1) unless whole and <= MAX. */
static int digits_to_units(const char *dg, size_t nd, long scale, int64_t *units)
{
	while (nd && dg[nd - 1] == '0') { /* trailing zeros into the scale */
		nd--;
		scale++;
	}
	if (nd == 0) {
		*units = 0;
		return 0;
	}
	long k = scale + 9;
	if (k < 0)
		return -1; /* finer than a nano-rho: no trailing zeros left to absorb it */
	if ((long)nd + k > 16)
		return -2; /* at least 10^16 nano-rho: beyond LEDGER_MAX */
	int64_t v = 0;
	for (size_t i = 0; i < nd; i++)
		v = v * 10 + (dg[i] - '0');
	for (long i = 0; i < k; i++)
		v *= 10;
	if (v > LEDGER_MAX_UNITS)
		return -2;
	*units = v;
	return 0;
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* A whole decimal number up to 18 digits. */
static int parse_uint(const char *s, size_t n, uint64_t *v)
{
	if (n == 0 || n > 18)
		return -1;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return 0;
}

int ledger_parse_rho(const char *s, int64_t *units, diag *d)
{
	*units = 0;
	if (!s)
		return diag_fail(d, EX_DATAERR, "rho: no value");
	const char *slash = strchr(s, '/');
	if (slash) { /* N/D: reduce, then D must divide 10^9 */
		uint64_t num, den;
		if (parse_uint(s, (size_t)(slash - s), &num) != 0 ||
		    parse_uint(slash + 1, strlen(slash + 1), &den) != 0)
			return diag_fail(d, EX_DATAERR, "rho '%s': a fraction is N/D with whole "
			                 "numbers of at most 18 digits", s);
		if (den == 0)
			return diag_fail(d, EX_DATAERR, "rho '%s': division by zero", s);
		uint64_t g = gcd_u64(num, den);
		if (g > 1) {
			num /= g;
			den /= g;
		}
		if ((uint64_t)LEDGER_UNITS_PER_RHO % den != 0)
			return diag_fail(d, EX_DATAERR, "rho '%s' is not a whole number of nano-rho "
			                 "(1e-9); the ledger never rounds", s);
		uint64_t per = (uint64_t)LEDGER_UNITS_PER_RHO / den;
		if (num > (uint64_t)LEDGER_MAX_UNITS / per)
			return diag_fail(d, EX_DATAERR, "rho '%s' is more than %lld", s,
			                 (long long)LEDGER_MAX_RHO);
		*units = (int64_t)(num * per);
		return 0;
	}
	const char *p = s;
	if (*p == '+')
		p++;
	char dg[41];
	size_t nd = 0, n_int = 0, n_frac = 0;
	long scale = 0;
	for (; is_digit(*p); p++, n_int++)
		if (nd || *p != '0') {
			if (nd == sizeof dg - 1)
				goto bad_long;
			dg[nd++] = *p;
		}
	if (*p == '.') {
		for (p++; is_digit(*p); p++, n_frac++) {
			scale--;
			if (nd || *p != '0') {
				if (nd == sizeof dg - 1)
					goto bad_long;
				dg[nd++] = *p;
			}
		}
	}
	if (n_int + n_frac == 0)
		goto bad;
	if (*p == 'e' || *p == 'E') {
		p++;
		int neg = 0;
		if (*p == '+' || *p == '-')
			neg = *p++ == '-';
		size_t ne = 0;
		long e = 0;
		for (; is_digit(*p); p++, ne++) {
			if (ne == 4)
				goto bad;
			e = e * 10 + (*p - '0');
		}
		if (ne == 0)
			goto bad;
		scale += neg ? -e : e;
	}
	if (*p)
		goto bad;
	int r = digits_to_units(dg, nd, scale, units);
	if (r == -1)
		return diag_fail(d, EX_DATAERR, "rho '%s' is not a whole number of nano-rho "
		                 "(1e-9); the ledger never rounds", s);
	if (r == -2)
		return diag_fail(d, EX_DATAERR, "rho '%s' is more than %lld", s,
		                 (long long)LEDGER_MAX_RHO);
	return 0;
bad_long:
	return diag_fail(d, EX_DATAERR, "rho '%s': too many significant digits", s);
bad:
	return diag_fail(d, EX_DATAERR, "rho '%s': not a number (a decimal such as 0.5 or 1e-3, "
	                 "or a fraction such as 1/8; never negative)", s);
}

void ledger_format_rho(int64_t units, char buf[LEDGER_RHO_STR])
{
	const char *sign = "";
	uint64_t u = (uint64_t)units;
	if (units < 0) {
		sign = "-";
		u = 0 - u;
	}
	uint64_t ip = u / (uint64_t)LEDGER_UNITS_PER_RHO, fp = u % (uint64_t)LEDGER_UNITS_PER_RHO;
	if (!fp) {
		snprintf(buf, LEDGER_RHO_STR, "%s%llu", sign, (unsigned long long)ip);
		return;
	}
	char frac[10];
	snprintf(frac, sizeof frac, "%09llu", (unsigned long long)fp);
	size_t n = 9;
	while (frac[n - 1] == '0')
		n--;
	frac[n] = 0;
	snprintf(buf, LEDGER_RHO_STR, "%s%llu.%s", sign, (unsigned long long)ip, frac);
}

int ledger_rho_from_double(double rho, int64_t *units, diag *d)
{
	*units = 0;
	if (!isfinite(rho) || rho < 0)
		return diag_fail(d, EX_DATAERR, "rho %g: must be a finite number >= 0", rho);
	double x = rho * (double)LEDGER_UNITS_PER_RHO;
	if (x > (double)LEDGER_MAX_UNITS)
		return diag_fail(d, EX_DATAERR, "rho %.17g is more than %lld", rho,
		                 (long long)LEDGER_MAX_RHO);
	int64_t u = (int64_t)llround(x);
	/* u / 1e9 is a correctly rounded division of two exact doubles: the
	 * double nearest the decimal u x 1e-9, which is what strtod gives. */
	if ((double)u / (double)LEDGER_UNITS_PER_RHO != rho)
		return diag_fail(d, EX_DATAERR, "rho %.17g is not a whole number of nano-rho (1e-9); "
		                 "the ledger never rounds", rho);
	*units = u;
	return 0;
}

double ledger_epsilon(int64_t units, double delta)
{
	double rho = (double)units / (double)LEDGER_UNITS_PER_RHO;
	if (rho <= 0)
		return 0;
	return rho + 2.0 * sqrt(rho * log(1.0 / delta));
}

int ledger_valid_name(const char *s)
{
	if (!s)
		return 0;
	size_t n = strlen(s);
	if (!n || n > LEDGER_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c);
		if (!alnum && c != '_' && c != '.' && c != ':' && c != '-')
			return 0;
	}
	return 1;
}

static int valid_label(const char *s, size_t n)
{
	if (!n || n > LEDGER_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
		      strchr("_./+#-", c)))
			return 0;
	}
	return 1;
}

int ledger_split_canon(const char *split, int64_t rho, char *out, size_t out_size, diag *d)
{
	if (out_size)
		out[0] = 0;
	if (!split || !*split)
		return 0;
	if (strlen(split) > LEDGER_SPLIT_MAX)
		return diag_fail(d, EX_DATAERR, "split: longer than %d characters", LEDGER_SPLIT_MAX);
	size_t len = 0;
	int64_t sum = 0;
	const char *p = split;
	for (size_t item = 1;; item++) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *colon = memchr(p, ':', n);
		if (!colon)
			return diag_fail(d, EX_DATAERR, "split item %zu '%.*s': want LABEL:RHO", item,
			                 (int)n, p);
		size_t ln = (size_t)(colon - p);
		if (!valid_label(p, ln))
			return diag_fail(d, EX_DATAERR, "split item %zu: label '%.*s': use 1-64 of "
			                 "A-Z a-z 0-9 _ . / + # -", item, (int)ln, p);
		/* unique labels: look for ",LABEL:" or "^LABEL:" in what came before */
		for (const char *q = split; q < p;) {
			const char *qc = strchr(q, ':');
			if ((size_t)(qc - q) == ln && !memcmp(q, p, ln))
				return diag_fail(d, EX_DATAERR, "split: label '%.*s' given twice", (int)ln, p);
			q = strchr(q, ',') + 1;
		}
		char val[64];
		size_t vn = n - ln - 1;
		if (vn >= sizeof val)
			return diag_fail(d, EX_DATAERR, "split item %zu: amount too long", item);
		memcpy(val, colon + 1, vn);
		val[vn] = 0;
		int64_t u;
		if (ledger_parse_rho(val, &u, d) != 0) {
			char m[sizeof d->msg];
			snprintf(m, sizeof m, "%s", d->msg);
			return diag_fail(d, EX_DATAERR, "split item %zu: %s", item, m);
		}
		if (u > LEDGER_MAX_UNITS - sum)
			return diag_fail(d, EX_DATAERR, "split: the amounts add up to more than %lld",
			                 (long long)LEDGER_MAX_RHO);
		sum += u;
		char fv[LEDGER_RHO_STR];
		ledger_format_rho(u, fv);
		int w = snprintf(out + len, out_size > len ? out_size - len : 0, "%s%.*s:%s",
		                 len ? "," : "", (int)ln, p, fv);
		if (w < 0 || (size_t)w >= (out_size > len ? out_size - len : 0) ||
		    len + (size_t)w > LEDGER_SPLIT_MAX) {
			if (out_size)
				out[0] = 0;
			return diag_fail(d, EX_DATAERR, "split: longer than %d characters in canonical "
			                 "form", LEDGER_SPLIT_MAX);
		}
		len += (size_t)w;
		if (!end)
			break;
		p = end + 1;
	}
	if (sum != rho) {
		char a[LEDGER_RHO_STR], b[LEDGER_RHO_STR];
		ledger_format_rho(sum, a);
		ledger_format_rho(rho, b);
		if (out_size)
			out[0] = 0;
		return diag_fail(d, EX_DATAERR, "split: the parts add up to %s rho, not the %s rho "
		                 "spent", a, b);
	}
	return 0;
}

/* --- database ---------------------------------------------------------------- */

static const char SCHEMA[] =
	"CREATE TABLE IF NOT EXISTS ledger_budget(\n"
	"  name      TEXT PRIMARY KEY,\n"
	"  total     INTEGER NOT NULL CHECK(total >= 0),  -- nano-rho\n"
	"  created   TEXT NOT NULL,\n"
	"  updated   TEXT NOT NULL,\n"
	"  audit_seq INTEGER NOT NULL                     -- last budget.set\n"
	");\n"
	"CREATE TABLE IF NOT EXISTS ledger_spend(\n"
	"  id        INTEGER PRIMARY KEY,\n"
	"  budget    TEXT NOT NULL REFERENCES ledger_budget(name),\n"
	"  what      TEXT NOT NULL,\n"
	"  rho       INTEGER NOT NULL CHECK(rho >= 0),    -- nano-rho\n"
	"  split     TEXT NOT NULL,\n"
	"  ts        TEXT NOT NULL,\n"
	"  audit_seq INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX IF NOT EXISTS ledger_spend_by_budget ON ledger_spend(budget);\n"
	"CREATE TRIGGER IF NOT EXISTS ledger_spend_within_total BEFORE INSERT ON ledger_spend\n"
	"  WHEN NEW.rho > (SELECT total FROM ledger_budget WHERE name = NEW.budget)\n"
	"            - (SELECT coalesce(sum(rho), 0) FROM ledger_spend WHERE budget = NEW.budget)\n"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: spend exceeds the budget'); END;\n"
	"CREATE TRIGGER IF NOT EXISTS ledger_spend_no_update BEFORE UPDATE ON ledger_spend\n"
	"  BEGIN SELECT RAISE(ABORT, 'ledger spends are append-only'); END;\n"
	"CREATE TRIGGER IF NOT EXISTS ledger_spend_no_delete BEFORE DELETE ON ledger_spend\n"
	"  BEGIN SELECT RAISE(ABORT, 'ledger spends are append-only'); END;\n"
	"CREATE TRIGGER IF NOT EXISTS ledger_budget_no_delete BEFORE DELETE ON ledger_budget\n"
	"  BEGIN SELECT RAISE(ABORT, 'ledger budgets are never deleted'); END;\n"
	"CREATE TRIGGER IF NOT EXISTS ledger_budget_not_below_spent BEFORE UPDATE ON ledger_budget\n"
	"  WHEN NEW.total < (SELECT coalesce(sum(rho), 0) FROM ledger_spend WHERE budget = OLD.name)\n"
	"    OR NEW.name <> OLD.name\n"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: total below what is spent'); END;\n";

int ledger_init(sqlite3 *db, diag *d)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, SCHEMA, NULL, NULL, &err);
	if (rc != SQLITE_OK) {
		sqlx_fail(db, rc, DB_WHAT, d);   /* names the file: a full disk */
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/* 1 when the ledger's tables exist (a read-only warehouse may predate them). */
static int tables_exist(sqlite3 *db, int *exists, diag *d)
{
	int b, sp;
	if (sqlx_has_table(db, "ledger_budget", &b, d) != 0 ||
	    sqlx_has_table(db, "ledger_spend", &sp, d) != 0)
		return -1;
	*exists = b && sp;
	return 0;
}

/* total/spent of budget in the current snapshot; *found 0 when unknown. */
static int read_budget(sqlite3 *db, const char *budget, int *found, int64_t *total,
                       int64_t *spent, diag *d)
{
	*found = 0;
	*total = *spent = 0;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "SELECT total, (SELECT coalesce(sum(rho), 0) FROM "
	                            "ledger_spend WHERE budget = ?1) FROM ledger_budget "
	                            "WHERE name = ?1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlx_fail(db, rc, DB_WHAT, d);
	sqlite3_bind_text(st, 1, budget, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*found = 1;
		*total = sqlite3_column_int64(st, 0);
		*spent = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sqlx_fail(db, rc, DB_WHAT, d);
	return 0;
}

/* A budget name and total a budget may have (before any transaction). */
static int total_args(const char *budget, int64_t total, diag *d)
{
	if (!ledger_valid_name(budget))
		return diag_fail(d, EX_USAGE, "budget name '%s': use 1-64 of A-Z a-z 0-9 _ . : -",
		                 budget ? budget : "");
	if (total < 0 || total > LEDGER_MAX_UNITS)
		return diag_fail(d, EX_DATAERR, "budget '%s': a total must be between 0 and %lld rho",
		                 budget, (long long)LEDGER_MAX_RHO);
	return 0;
}

int ledger_set_total_tx(sqlite3 *db, const char *actor, const char *budget, int64_t total,
                        diag *d)
{
	if (total_args(budget, total, d) != 0 || ledger_init(db, d) != 0)
		return -1;
	int found;
	int64_t old_total, spent;
	if (read_budget(db, budget, &found, &old_total, &spent, d) != 0)
		return -1;
	char t[LEDGER_RHO_STR], o[LEDGER_RHO_STR], s[LEDGER_RHO_STR];
	ledger_format_rho(total, t);
	ledger_format_rho(old_total, o);
	ledger_format_rho(spent, s);
	if (total < spent) {
		diag_fail(d, EX_DATAERR, "budget '%s': a total of %s rho is below the %s rho already "
		          "spent; spending cannot be undone", budget, t, s);
		return -1;
	}
	char detail[256], ts[SQLX_TS_LEN];
	snprintf(detail, sizeof detail, "budget=%s total=%s previous=%s spent=%s", budget, t,
	         found ? o : "none", s);
	int64_t seq;
	if (audit_append(db, actor, "budget.set", detail, &seq, d) != 0)
		return -1;
	sqlx_now_utc(ts);
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
	                            found ? "UPDATE ledger_budget SET total = ?2, updated = ?3, "
	                                    "audit_seq = ?4 WHERE name = ?1"
	                                  : "INSERT INTO ledger_budget(name, total, created, "
	                                    "updated, audit_seq) VALUES(?1, ?2, ?3, ?3, ?4)",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlx_fail(db, rc, DB_WHAT, d);
	sqlite3_bind_text(st, 1, budget, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, total);
	sqlite3_bind_text(st, 3, ts, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, seq);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlx_fail(db, rc, DB_WHAT, d);
	return 0;
}

int ledger_set_total(sqlite3 *db, const char *actor, const char *budget, int64_t total,
                     diag *d)
{
	if (total_args(budget, total, d) != 0 || sqlx_begin(db, DB_WHAT, d) != 0)
		return -1;
	if (ledger_set_total_tx(db, actor, budget, total, d) != 0)
		return sqlx_rollback(db);
	return sqlx_commit(db, DB_WHAT, d);
}

int ledger_get(sqlite3 *db, const char *budget, int64_t *total, int64_t *spent, diag *d)
{
	*total = *spent = 0;
	int exists, found = 0;
	if (tables_exist(db, &exists, d) != 0)
		return -1;
	if (exists && read_budget(db, budget, &found, total, spent, d) != 0)
		return -1;
	if (!found)
		return diag_fail(d, EX_DATAERR, "no budget named '%s' (tipstat budget set creates "
		                 "one)", budget);
	return 0;
}

int ledger_list_budgets(sqlite3 *db, ledger_budget **out, size_t *n, diag *d)
{
	*out = NULL;
	*n = 0;
	int exists;
	if (tables_exist(db, &exists, d) != 0)
		return -1;
	if (!exists)
		return 0;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
	                            "SELECT b.name, b.total, coalesce(sum(s.rho), 0), count(s.id), "
	                            "b.updated FROM ledger_budget b LEFT JOIN ledger_spend s "
	                            "ON s.budget = b.name GROUP BY b.name ORDER BY b.name",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlx_fail(db, rc, DB_WHAT, d);
	size_t cap = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ledger_budget *b = vec_push(out, n, &cap, sizeof *b);
		if (!b) {
			sqlite3_finalize(st);
			free(*out);
			*out = NULL;
			*n = 0;
			return diag_fail(d, EX_OSERR, "out of memory");
		}
		snprintf(b->name, sizeof b->name, "%s", (const char *)sqlite3_column_text(st, 0));
		b->total = sqlite3_column_int64(st, 1);
		b->spent = sqlite3_column_int64(st, 2);
		b->n_spends = sqlite3_column_int64(st, 3);
		snprintf(b->updated, sizeof b->updated, "%s", (const char *)sqlite3_column_text(st, 4));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlx_fail(db, rc, DB_WHAT, d);
	return 0;
}

int ledger_list_spends(sqlite3 *db, const char *budget, ledger_spend **out, size_t *n,
                       diag *d)
{
	*out = NULL;
	*n = 0;
	int exists;
	if (tables_exist(db, &exists, d) != 0)
		return -1;
	if (!exists)
		return 0;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
	                            "SELECT id, budget, what, rho, split, ts, audit_seq FROM "
	                            "ledger_spend WHERE ?1 IS NULL OR budget = ?1 ORDER BY id",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlx_fail(db, rc, DB_WHAT, d);
	if (budget)
		sqlite3_bind_text(st, 1, budget, -1, SQLITE_STATIC);
	size_t cap = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ledger_spend *s = vec_push(out, n, &cap, sizeof *s);
		if (!s) {
			sqlite3_finalize(st);
			free(*out);
			*out = NULL;
			*n = 0;
			return diag_fail(d, EX_OSERR, "out of memory");
		}
		s->id = sqlite3_column_int64(st, 0);
		snprintf(s->budget, sizeof s->budget, "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(s->what, sizeof s->what, "%s", (const char *)sqlite3_column_text(st, 2));
		s->rho = sqlite3_column_int64(st, 3);
		snprintf(s->split, sizeof s->split, "%s", (const char *)sqlite3_column_text(st, 4));
		snprintf(s->ts, sizeof s->ts, "%s", (const char *)sqlite3_column_text(st, 5));
		s->audit_seq = sqlite3_column_int64(st, 6);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlx_fail(db, rc, DB_WHAT, d);
	return 0;
}

/* Everything a charge checks before touching the database. */
static int charge_args(const char *budget, const char *what, int64_t rho, const char *split,
                       char canon[LEDGER_SPLIT_MAX + 1], diag *d)
{
	if (!ledger_valid_name(budget))
		return diag_fail(d, EX_USAGE, "budget name '%s': use 1-64 of A-Z a-z 0-9 _ . : -",
		                 budget ? budget : "");
	if (!ledger_valid_name(what))
		return diag_fail(d, EX_USAGE, "what a spend is for ('%s'): use 1-64 of "
		                 "A-Z a-z 0-9 _ . : -", what ? what : "");
	if (rho < 0 || rho > LEDGER_MAX_UNITS)
		return diag_fail(d, EX_DATAERR, "a spend must be between 0 and %lld rho",
		                 (long long)LEDGER_MAX_RHO);
	return ledger_split_canon(split, rho, canon, LEDGER_SPLIT_MAX + 1, d);
}

/* The check and the insert; split already canonical. */
static int charge_in_tx(sqlite3 *db, const char *budget, const char *what, int64_t rho,
                        const char *canon, int64_t audit_seq, int64_t *out_id, diag *d)
{
	int found;
	int64_t total, spent;
	if (read_budget(db, budget, &found, &total, &spent, d) != 0)
		return -1;
	char r[LEDGER_RHO_STR], l[LEDGER_RHO_STR], t[LEDGER_RHO_STR];
	ledger_format_rho(rho, r);
	if (!found)
		return diag_fail(d, EX_NOPERM, "refused: no budget named '%s', so nothing may be "
		                 "spent from it (%s rho requested for %s)", budget, r, what);
	int64_t left = total - spent;
	ledger_format_rho(left, l);
	ledger_format_rho(total, t);
	if (rho > left)
		return diag_fail(d, EX_NOPERM, "refused: %s rho requested for %s, but only %s rho "
		                 "is left of budget '%s' (total %s)", r, what, l, budget, t);
	char ts[SQLX_TS_LEN];
	sqlx_now_utc(ts);
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "INSERT INTO ledger_spend(budget, what, rho, split, ts, "
	                            "audit_seq) VALUES(?,?,?,?,?,?)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlx_fail(db, rc, DB_WHAT, d);
	sqlite3_bind_text(st, 1, budget, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, what, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, rho);
	sqlite3_bind_text(st, 4, canon, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ts, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, audit_seq);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlx_fail(db, rc, DB_WHAT, d);
	if (out_id)
		*out_id = sqlite3_last_insert_rowid(db);
	return 0;
}

int ledger_charge_tx(sqlite3 *db, const char *budget, const char *what, int64_t rho,
                     const char *split, int64_t audit_seq, int64_t *out_id, diag *d)
{
	if (sqlite3_get_autocommit(db))
		return diag_fail(d, EX_SOFTWARE, "ledger_charge_tx: not inside a transaction");
	if (audit_seq < 1)
		return diag_fail(d, EX_SOFTWARE, "ledger_charge_tx: no audit entry for the spend");
	char canon[LEDGER_SPLIT_MAX + 1];
	if (charge_args(budget, what, rho, split, canon, d) != 0)
		return -1;
	if (ledger_init(db, d) != 0)
		return -1;
	return charge_in_tx(db, budget, what, rho, canon, audit_seq, out_id, d);
}

int ledger_charge(sqlite3 *db, const char *actor, const char *budget, const char *what,
                  int64_t rho, const char *split, int64_t *out_id, diag *d)
{
	char canon[LEDGER_SPLIT_MAX + 1];
	if (charge_args(budget, what, rho, split, canon, d) != 0)
		return -1;
	if (sqlx_begin(db, DB_WHAT, d) != 0)
		return -1;
	if (ledger_init(db, d) != 0)
		return sqlx_rollback(db);
	int found;
	int64_t total, spent;
	if (read_budget(db, budget, &found, &total, &spent, d) != 0)
		return sqlx_rollback(db);
	/* The audit entry comes first (its seq goes in the spend row); the
	 * check below refuses before anything is committed. */
	char detail[LEDGER_SPLIT_MAX + 512], r[LEDGER_RHO_STR], l[LEDGER_RHO_STR];
	ledger_format_rho(rho, r);
	ledger_format_rho(found && total - spent >= rho ? total - spent - rho : 0, l);
	snprintf(detail, sizeof detail, "budget=%s what=%s rho=%s left=%s%s%s", budget, what, r, l,
	         *canon ? " split=" : "", canon);
	int64_t seq;
	if (audit_append(db, actor, "budget.spend", detail, &seq, d) != 0)
		return sqlx_rollback(db);
	if (charge_in_tx(db, budget, what, rho, canon, seq, out_id, d) != 0)
		return sqlx_rollback(db);
	return sqlx_commit(db, DB_WHAT, d);
}
