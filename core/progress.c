/* progress: see progress.h. */
#include "core/progress.h"

#include <stdio.h>
#include <string.h>

void progress_init(progress *p, const char *label, uint64_t total, double now)
{
	memset(p, 0, sizeof *p);
	snprintf(p->label, sizeof p->label, "%s", label ? label : "");
	p->total = total;
	p->start = now;
	p->last = now;
	p->min_interval = 0.1;
}

void progress_init_items(progress *p, const char *label, const char *unit, uint64_t total,
                         double now)
{
	progress_init(p, label, total, now);
	snprintf(p->unit, sizeof p->unit, "%s", unit && *unit ? unit : "items");
}

/* M:SS, or H:MM:SS from an hour; seconds rounded up so "0:00 left" only
 * shows when nothing is left. */
static void fmt_time(double s, char *buf, size_t size)
{
	unsigned long t = s <= 0 ? 0 : (unsigned long)s;
	if (s > (double)t)
		t++;
	if (t >= 3600)
		snprintf(buf, size, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, size, "%lu:%02lu", t / 60, t % 60);
}

size_t progress_format(const progress *p, uint64_t done, double now, char *buf, size_t size)
{
	double el = now - p->start;
	double rate = el > 0 ? (double)done / el : 0;
	char rate_s[48], tail[48] = "";
	int items = p->unit[0] != 0;
	if (items && rate > 0)
		snprintf(rate_s, sizeof rate_s, "%.2f %s/s", rate, p->unit);
	else if (items)
		snprintf(rate_s, sizeof rate_s, "-- %s/s", p->unit);
	else if (rate > 0)
		snprintf(rate_s, sizeof rate_s, "%.1f MB/s", rate / 1e6);
	else if (!items)
		snprintf(rate_s, sizeof rate_s, "-- MB/s");
	if (p->total) {
		char t[24];
		if (done >= p->total) {
			fmt_time(el, t, sizeof t);
			snprintf(tail, sizeof tail, "  done in %s", t);
		} else if (rate > 0) {
			fmt_time((double)(p->total - done) / rate, t, sizeof t);
			snprintf(tail, sizeof tail, "  %s left", t);
		} else {
			snprintf(tail, sizeof tail, "  -:-- left");
		}
	}
	int n;
	if (items && p->total)
		n = snprintf(buf, size, "%s  %llu / %llu %s  %s%s", p->label, (unsigned long long)done,
		             (unsigned long long)p->total, p->unit, rate_s, tail);
	else if (items)
		n = snprintf(buf, size, "%s  %llu %s  %s", p->label, (unsigned long long)done, p->unit,
		             rate_s);
	else if (p->total)
		n = snprintf(buf, size, "%s  %.1f MB / %.1f MB  %s%s", p->label, (double)done / 1e6,
		             (double)p->total / 1e6, rate_s, tail);
	else
		n = snprintf(buf, size, "%s  %.1f MB  %s", p->label, (double)done / 1e6, rate_s);
	return n < 0 ? 0 : (size_t)n;
}

int progress_update(progress *p, uint64_t done, double now, char *buf, size_t size)
{
	int reached = p->total && done >= p->total;
	if (p->finished)
		return 0;
	/* 1e-9: clock values are doubles; 10.10 - 10.00 is 0.0999... */
	if (p->shown && !reached && now - p->last < p->min_interval - 1e-9)
		return 0;
	progress_format(p, done, now, buf, size);
	p->last = now;
	p->shown++;
	if (reached)
		p->finished = 1;
	return 1;
}
