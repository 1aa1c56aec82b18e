/* period: reporting periods of the data standard, "YYYY-Qn" or "YYYY".
 *
 * A period is packed in an int as year*10 + q (q = 1..4 for a quarter,
 * 0 for a whole year), so periods sort chronologically with annual ones
 * before the quarters of their year, and a year's quarters are
 * period_year(p)*10 + 1..4.  Dates are checked for real calendar days.
 */
#ifndef TIPSTAT_PERIOD_H
#define TIPSTAT_PERIOD_H

#include <stddef.h>

#define PERIOD_MIN_YEAR 1900
#define PERIOD_MAX_YEAR 2100

/* Parse "2024-Q1", "2024Q1", "Q1 2024", "2024 Q1", "2024-q1" or "2024".
 * Returns the packed period, or -1. */
int period_parse(const char *s, size_t n);
/* Format into buf (at least 8 bytes): "2024-Q1" or "2024". */
void period_format(int p, char *buf);
static inline int period_year(int p) { return p / 10; }
static inline int period_quarter(int p) { return p % 10; }
static inline int period_make(int year, int q) { return year * 10 + q; }

/* A calendar date as y, m, d; 1 if it exists (leap years included). */
int period_valid_date(int y, int m, int d);
/* Parse a date with a format of tokens YYYY, MM, DD, M, D and literal
 * separators ("DD.MM.YYYY", "YYYYMMDD", "M/D/YYYY").  Returns 0 and fills
 * y/m/d, or -1 when the text does not match or the day does not exist. */
int period_parse_date(const char *s, size_t n, const char *fmt, int *y, int *m, int *d);
/* Validate a date format string (known tokens only); 0 ok, -1 bad. */
int period_check_format(const char *fmt);
/* Whole years between a birth date and a reference date (negative if the
 * birth is after the reference). */
int period_age_years(int by, int bm, int bd, int ry, int rm, int rd);
/* Last day of a period: the quarter's (or year's) last calendar day. */
void period_end_date(int p, int *y, int *m, int *d);

#endif
