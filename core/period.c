/* period: see period.h. */
#include "core/period.h"

#include <stdio.h>
#include <string.h>

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int year_ok(int y)
{
	return y >= PERIOD_MIN_YEAR && y <= PERIOD_MAX_YEAR;
}

int period_parse(const char *s, size_t n)
{
	int y, q;
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 4)
		return digits(s, 4, &y) == 0 && year_ok(y) ? period_make(y, 0) : -1;
	/* YYYY-Qn, YYYY Qn, YYYYQn */
	if ((n == 7 || n == 6) && digits(s, 4, &y) == 0) {
		const char *r = s + 4;
		if (n == 7) {
			if (*r != '-' && *r != ' ')
				return -1;
			r++;
		}
		if ((r[0] == 'Q' || r[0] == 'q') && r[1] >= '1' && r[1] <= '4' && year_ok(y))
			return period_make(y, r[1] - '0');
		return -1;
	}
	/* Qn YYYY, Qn-YYYY */
	if (n == 7 && (s[0] == 'Q' || s[0] == 'q') && s[1] >= '1' && s[1] <= '4' &&
	    (s[2] == ' ' || s[2] == '-') && digits(s + 3, 4, &y) == 0 && year_ok(y)) {
		q = s[1] - '0';
		return period_make(y, q);
	}
	return -1;
}

void period_format(int p, char *buf)
{
	unsigned y = (unsigned)period_year(p) % 10000u, q = (unsigned)period_quarter(p) % 10u;
	buf[0] = (char)('0' + y / 1000);
	buf[1] = (char)('0' + y / 100 % 10);
	buf[2] = (char)('0' + y / 10 % 10);
	buf[3] = (char)('0' + y % 10);
	if (q) {
		buf[4] = '-';
		buf[5] = 'Q';
		buf[6] = (char)('0' + q);
		buf[7] = '\0';
	} else {
		buf[4] = '\0';
	}
}

static int days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

int period_valid_date(int y, int m, int d)
{
	return year_ok(y) && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

/* Walk fmt; tokens: YYYY, MM, DD (exactly two digits), M, D (one or two). */
int period_parse_date(const char *s, size_t n, const char *fmt, int *y, int *m, int *d)
{
	size_t i = 0;
	int yy = -1, mm = -1, dd = -1;
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (*fmt) {
		int *dst = NULL;
		size_t minw = 0, maxw = 0, tok = 0;
		/* tokens compared a byte at a time (&& stops at the NUL): this
		 * runs for every date of every row, and strncmp calls were 3% of
		 * harmonise-and-count */
		if (fmt[0] == 'Y' && fmt[1] == 'Y' && fmt[2] == 'Y' && fmt[3] == 'Y') {
			dst = &yy; minw = maxw = 4; tok = 4;
		} else if (fmt[0] == 'M' && fmt[1] == 'M') {
			dst = &mm; minw = maxw = 2; tok = 2;
		} else if (fmt[0] == 'D' && fmt[1] == 'D') {
			dst = &dd; minw = maxw = 2; tok = 2;
		} else if (*fmt == 'M') {
			dst = &mm; minw = 1; maxw = 2; tok = 1;
		} else if (*fmt == 'D') {
			dst = &dd; minw = 1; maxw = 2; tok = 1;
		}
		if (dst) {
			/* the value is taken as the digits are counted */
			size_t w = 0;
			int v = 0;
			while (w < maxw && i + w < n && s[i + w] >= '0' && s[i + w] <= '9') {
				v = v * 10 + (s[i + w] - '0');
				w++;
			}
			if (w < minw)
				return -1;
			*dst = v;
			i += w;
			fmt += tok;
		} else {
			if (i >= n || s[i] != *fmt)
				return -1;
			i++;
			fmt++;
		}
	}
	if (i != n || !period_valid_date(yy, mm, dd))
		return -1;
	*y = yy;
	*m = mm;
	*d = dd;
	return 0;
}

int period_check_format(const char *fmt)
{
	int have_y = 0, have_m = 0, have_d = 0;
	while (*fmt) {
		if (!strncmp(fmt, "YYYY", 4)) {
			have_y++; fmt += 4;
		} else if (!strncmp(fmt, "MM", 2)) {
			have_m++; fmt += 2;
		} else if (!strncmp(fmt, "DD", 2)) {
			have_d++; fmt += 2;
		} else if (*fmt == 'M') {
			have_m++; fmt++;
		} else if (*fmt == 'D') {
			have_d++; fmt++;
		} else if ((*fmt >= '0' && *fmt <= '9') || (*fmt >= 'A' && *fmt <= 'Z') ||
		           (*fmt >= 'a' && *fmt <= 'z')) {
			return -1;
		} else {
			fmt++;
		}
	}
	return have_y == 1 && have_m == 1 && have_d == 1 ? 0 : -1;
}

int period_age_years(int by, int bm, int bd, int ry, int rm, int rd)
{
	int age = ry - by;
	if (rm < bm || (rm == bm && rd < bd))
		age--;
	return age;
}

void period_end_date(int p, int *y, int *m, int *d)
{
	int q = period_quarter(p);
	*y = period_year(p);
	*m = q ? q * 3 : 12;
	*d = days_in_month(*y, *m);
}
