/* gen_synth: deterministic synthetic national trafficking-in-persons
 * submissions, with the harmonised rows they must give (ground truth).
 *
 *   gen_synth OUTDIR     writes OUTDIR/submissions/<layout>/<file> and
 *                        OUTDIR/truth/<layout>/<file>.std.csv, plus
 *                        OUTDIR/truth/planted_identifiers.txt
 *
 * Why it is shaped so:
 *   - Byte-identical output on every machine.  Randomness comes from our
 *     own xoshiro256** seeded through splitmix64 (never rand()); each
 *     reporting country has its own stream, and each person's identifiers
 *     their own sub-stream, so changing one country does not shift the
 *     others.  Arithmetic is integer or IEEE-exact (+ - * / and sqrt,
 *     which IEEE 754 rounds correctly; exp is our own series built from
 *     those), no libm transcendental whose last bit may vary by platform.
 *     Doubles never reach the output: only integers are printed.
 *   - A latent population is simulated first (persons with indicator,
 *     date, sex, exact age, form of exploitation, citizenship), then
 *     rendered into five deliberately different national layouts.  The
 *     truth of each file is worked out from what was written into that
 *     file, by the rules of docs/standard.md and the layout's mapping in
 *     datasets/mappings/ (value tables, fallback, MIX rule for several
 *     flags, censoring to intervals, additivity flag), never from
 *     tipstat's code.
 *   - Magnitudes follow UNODC's published global picture (see
 *     datasets/README.md): about 70,000 detected victims a year across
 *     about 150 countries, regional detection rates per million
 *     inhabitants, composition roughly 39% women, 23% men, 22% girls,
 *     16% boys with regional variation, sexual exploitation and forced
 *     labour the two largest forms.
 *
 * Layouts (datasets/mappings/<layout>.map):
 *   de_case        German police case file, ';', Latin-1, flags per form
 *   es_case        Spanish case file, ',', UTF-8 BOM, CRLF, case ids
 *   en_case        English tab-delimited case register, case ids
 *   unodc_long     UNODC long-format annual aggregates, several countries
 *   pipe_quarterly pipe-delimited quarterly cells, title lines, offices
 *
 * Standalone: libc and libm only; not linked against libtipstat.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#define SEED        0x7469707374617431ULL /* "tipstat1" */
#define FIRST_YEAR  2019
#define LAST_YEAR   2024
#define NYEARS      (LAST_YEAR - FIRST_YEAR + 1)
#define NQ          (NYEARS * 4)

/* ------------------------------------------------------------------------
 * Small utilities
 * ---------------------------------------------------------------------- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("gen_synth: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(70);
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die("out of memory");
	return q;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = xrealloc(NULL, n);
	memcpy(d, s, n);
	return d;
}

/* Growable byte buffer. */
typedef struct sbuf {
	char *s;
	size_t n, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc < b->n + n + 1)
			nc *= 2;
		b->s = xrealloc(b->s, nc);
		b->cap = nc;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp)
		die("formatted text too long");
	sb_put(b, tmp, (size_t)n);
}

static void sb_free(sbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof *b);
}

/* One CSV field (RFC 4180): quoted when it holds the delimiter, a quote,
 * CR or LF; inner quotes doubled. */
static void sb_field(sbuf *b, const char *s, char delim)
{
	if (!strchr(s, delim) && !strchr(s, '"') && !strchr(s, '\n') && !strchr(s, '\r')) {
		sb_puts(b, s);
		return;
	}
	sb_put(b, "\"", 1);
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			sb_put(b, "\"", 1);
		sb_put(b, p, 1);
	}
	sb_put(b, "\"", 1);
}

/* A list of strings (truth lines, planted identifiers). */
typedef struct strv {
	char **v;
	size_t n, cap;
} strv;

static void sv_add(strv *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = xstrdup(s);
}

static void sv_addf(strv *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sv_addf(strv *l, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp)
		die("line too long");
	sv_add(l, tmp);
}

/* Byte-wise order, as LC_ALL=C sort. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sv_free(strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static void mkdirs(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);
	if (n >= sizeof buf)
		die("path too long: %s", path);
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] == '/' || buf[i] == '\0') {
			char c = buf[i];
			buf[i] = '\0';
			if (mkdir(buf, 0777) != 0 && errno != EEXIST)
				die("cannot create %s: %s", buf, strerror(errno));
			buf[i] = c;
		}
	}
}

static void write_file(const char *path, const char *data, size_t n)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		mkdirs(dir);
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		die("cannot write %s: %s", path, strerror(errno));
	if ((n && fwrite(data, 1, n, f) != n) || fclose(f) != 0)
		die("cannot write %s", path);
}

/* UTF-8 (as in this source) to Latin-1; every character must fit. */
static void to_latin1(const sbuf *in, sbuf *out)
{
	const unsigned char *p = (const unsigned char *)in->s;
	for (size_t i = 0; i < in->n; i++) {
		unsigned char c = p[i];
		if (c < 0x80) {
			sb_put(out, (const char *)&c, 1);
		} else if ((c == 0xC2 || c == 0xC3) && i + 1 < in->n) {
			unsigned char l = (unsigned char)(((c & 0x03) << 6) | (p[i + 1] & 0x3F));
			sb_put(out, (const char *)&l, 1);
			i++;
		} else {
			die("character outside Latin-1 in a Latin-1 layout");
		}
	}
}

/* ------------------------------------------------------------------------
 * Deterministic randomness
 * ---------------------------------------------------------------------- */

typedef struct rng {
	uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xCBF29CE484222325ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001B3ULL;
	return h;
}

/* A stream named by (a, b); the global seed is mixed in. */
static void rng_seed(rng *r, uint64_t a, uint64_t b)
{
	uint64_t x = SEED ^ a;
	x = splitmix64(&x) ^ (b * 0xD1B54A32D192ED03ULL);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r) /* xoshiro256** */
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, n) (multiply-shift; the tiny bias is irrelevant here). */
static unsigned rng_below(rng *r, unsigned n)
{
	return (unsigned)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static double rng_unit(rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* True with probability per10k / 10000. */
static int rng_chance(rng *r, unsigned per10k)
{
	return rng_below(r, 10000) < per10k;
}

static int rng_pick(rng *r, const unsigned *w, int n)
{
	unsigned total = 0;
	for (int i = 0; i < n; i++)
		total += w[i];
	if (!total)
		die("empty distribution");
	unsigned u = rng_below(r, total);
	for (int i = 0; i < n; i++) {
		if (u < w[i])
			return i;
		u -= w[i];
	}
	return n - 1;
}

static const char *rng_of(rng *r, const char *const *v, unsigned n)
{
	return v[rng_below(r, n)];
}
#define PICK(r, arr) rng_of((r), (arr), (unsigned)(sizeof(arr) / sizeof *(arr)))

/* exp(x) for x <= 0 from + * / only: exp(x/1024)^1024 by a Taylor series. */
static double det_exp(double x)
{
	double y = x / 1024.0, term = 1.0, sum = 1.0;
	for (int k = 1; k < 14; k++) {
		term *= y / k;
		sum += term;
	}
	for (int k = 0; k < 10; k++)
		sum *= sum;
	return sum;
}

static int poisson(rng *r, double lambda)
{
	if (lambda <= 0)
		return 0;
	if (lambda < 30) { /* Knuth */
		double lim = det_exp(-lambda), p = 1.0;
		int k = 0;
		do {
			k++;
			p *= rng_unit(r);
		} while (p > lim);
		return k - 1;
	}
	/* normal approximation, Irwin-Hall(12) for the normal deviate */
	double z = -6.0;
	for (int i = 0; i < 12; i++)
		z += rng_unit(r);
	double v = lambda + sqrt(lambda) * z;
	return v < 0 ? 0 : (int)(v + 0.5);
}

/* ------------------------------------------------------------------------
 * Codes of the standard (datasets/codelists)
 * ---------------------------------------------------------------------- */

enum { IND_VIC, IND_SUS, IND_PROS, IND_CONV, N_IND };
static const char *const IND_CODE[N_IND] = {"VIC", "SUS", "PROS", "CONV"};

enum { SX_F, SX_M, SX_O, SX_U };
static const char *const SEX_CODE[] = {"F", "M", "O", "U"};

enum { F_SEX, F_LAB, F_CRIM, F_BEG, F_MAR, F_ORG, F_ADOP, F_MIX, F_OTH, F_U, N_FORM };
static const char *const FORM_CODE[N_FORM] = {"SEX", "LAB", "CRIM", "BEG", "MAR",
                                              "ORG", "ADOP", "MIX", "OTH", "U"};

#define N_BAND 10
static const struct {
	int lo, hi;
	const char *code, *label;
} BAND[N_BAND] = {
	{0, 4, "Y0T4", "0-4"},       {5, 9, "Y5T9", "5-9"},       {10, 14, "Y10T14", "10-14"},
	{15, 17, "Y15T17", "15-17"}, {18, 24, "Y18T24", "18-24"}, {25, 34, "Y25T34", "25-34"},
	{35, 44, "Y35T44", "35-44"}, {45, 54, "Y45T54", "45-54"}, {55, 64, "Y55T64", "55-64"},
	{65, 200, "Y_GE65", "65+"},
};

static int band_of(int age)
{
	for (int i = 0; i < N_BAND; i++)
		if (age >= BAND[i].lo && age <= BAND[i].hi)
			return i;
	die("age %d has no band", age);
}

static const char *group_code(int age)
{
	return age < 0 ? "U" : age < 18 ? "Y0T17" : "Y_GE18";
}

/* ------------------------------------------------------------------------
 * Countries (names as in datasets/codelists/countries.csv; German names
 * are accepted spellings in country_aliases.csv)
 * ---------------------------------------------------------------------- */

typedef struct ctry {
	const char *iso3, *iso2, *sub, *name, *de;
} ctry;

static const ctry CT[] = {
	{"AUT", "AT", "155", "Austria", "Österreich"},
	{"CHE", "CH", "155", "Switzerland", "Schweiz"},
	{"LUX", "LU", "155", "Luxembourg", "Luxemburg"},
	{"LIE", "LI", "155", "Liechtenstein", "Liechtenstein"},
	{"PER", "PE", "419", "Peru", NULL},
	{"CHL", "CL", "419", "Chile", NULL},
	{"GTM", "GT", "419", "Guatemala", NULL},
	{"CRI", "CR", "419", "Costa Rica", NULL},
	{"URY", "UY", "419", "Uruguay", NULL},
	{"PRY", "PY", "419", "Paraguay", NULL},
	{"GHA", "GH", "202", "Ghana", NULL},
	{"UGA", "UG", "202", "Uganda", NULL},
	{"LKA", "LK", "034", "Sri Lanka", NULL},
	{"NZL", "NZ", "053", "New Zealand", NULL},
	{"FJI", "FJ", "054", "Fiji", NULL},
	{"USA", "US", "021", "United States of America", NULL},
	{"CAN", "CA", "021", "Canada", NULL},
	{"BRA", "BR", "419", "Brazil", "Brasilien"},
	{"MEX", "MX", "419", "Mexico", NULL},
	{"DEU", "DE", "155", "Germany", "Deutschland"},
	{"ITA", "IT", "039", "Italy", "Italien"},
	{"ALB", "AL", "039", "Albania", "Albanien"},
	{"SWE", "SE", "154", "Sweden", NULL},
	{"ROU", "RO", "151", "Romania", "Rumänien"},
	{"UKR", "UA", "151", "Ukraine", "Ukraine"},
	{"NGA", "NG", "202", "Nigeria", "Nigeria"},
	{"EGY", "EG", "015", "Egypt", NULL},
	{"IND", "IN", "034", "India", "Indien"},
	{"IDN", "ID", "035", "Indonesia", NULL},
	{"TUR", "TR", "145", "Türkiye", "Türkei"},
	{"JPN", "JP", "030", "Japan", NULL},
	{"AUS", "AU", "053", "Australia", NULL},
	{"NLD", "NL", "155", "Netherlands", "Niederlande"},
	{"NAM", "NA", "202", "Namibia", NULL},
	{"KAZ", "KZ", "143", "Kazakhstan", NULL},
	{"BGR", "BG", "151", "Bulgaria", "Bulgarien"},
	{"HUN", "HU", "151", "Hungary", "Ungarn"},
	{"POL", "PL", "151", "Poland", "Polen"},
	{"SVK", "SK", "151", "Slovakia", "Slowakei"},
	{"CZE", "CZ", "151", "Czechia", "Tschechien"},
	{"SRB", "RS", "039", "Serbia", "Serbien"},
	{"MDA", "MD", "151", "Republic of Moldova", "Republik Moldau"},
	{"VNM", "VN", "035", "Viet Nam", "Vietnam"},
	{"DOM", "DO", "419", "Dominican Republic", "Dominikanische Republik"},
	{"MAR", "MA", "015", "Morocco", "Marokko"},
	{"AFG", "AF", "034", "Afghanistan", "Afghanistan"},
	{"SYR", "SY", "145", "Syrian Arab Republic", "Syrien"},
	{"IRQ", "IQ", "145", "Iraq", "Irak"},
	{"ERI", "ER", "202", "Eritrea", "Eritrea"},
	{"CMR", "CM", "202", "Cameroon", "Kamerun"},
	{"PHL", "PH", "035", "Philippines", "Philippinen"},
	{"FRA", "FR", "155", "France", "Frankreich"},
	{"BEL", "BE", "155", "Belgium", "Belgien"},
	{"ESP", "ES", "039", "Spain", "Spanien"},
	{"RUS", "RU", "151", "Russian Federation", "Russland"},
	{"GEO", "GE", "145", "Georgia", "Georgien"},
	{"COL", "CO", "419", "Colombia", "Kolumbien"},
	{"LTU", "LT", "154", "Lithuania", NULL},
	{"LVA", "LV", "154", "Latvia", NULL},
	{"SOM", "SO", "202", "Somalia", NULL},
	{"MNG", "MN", "030", "Mongolia", NULL},
	{"PAK", "PK", "034", "Pakistan", NULL},
	{"BGD", "BD", "034", "Bangladesh", NULL},
	{"CIV", "CI", "202", "Côte d’Ivoire", NULL},
	{"GMB", "GM", "202", "Gambia", NULL},
	{"SEN", "SN", "202", "Senegal", NULL},
	{"GRC", "GR", "039", "Greece", NULL},
	{"MKD", "MK", "039", "North Macedonia", NULL},
	{"TUN", "TN", "015", "Tunisia", NULL},
	{"BLR", "BY", "151", "Belarus", NULL},
	{"UZB", "UZ", "143", "Uzbekistan", NULL},
	{"KGZ", "KG", "143", "Kyrgyzstan", NULL},
	{"TJK", "TJ", "143", "Tajikistan", NULL},
	{"HND", "HN", "419", "Honduras", NULL},
	{"SLV", "SV", "419", "El Salvador", NULL},
	{"THA", "TH", "035", "Thailand", "Thailand"},
	{"KOR", "KR", "030", "Republic of Korea", NULL},
	{"HTI", "HT", "419", "Haiti", NULL},
	{"JAM", "JM", "419", "Jamaica", NULL},
	{"VEN", "VE", "419", "Venezuela (Bolivarian Republic of)", NULL},
	{"BOL", "BO", "419", "Bolivia (Plurinational State of)", NULL},
	{"ECU", "EC", "419", "Ecuador", NULL},
	{"NIC", "NI", "419", "Nicaragua", NULL},
	{"CUB", "CU", "419", "Cuba", NULL},
	{"ARG", "AR", "419", "Argentina", NULL},
	{"PAN", "PA", "419", "Panama", NULL},
	{"BEN", "BJ", "202", "Benin", NULL},
	{"TGO", "TG", "202", "Togo", NULL},
	{"NER", "NE", "202", "Niger", NULL},
	{"BFA", "BF", "202", "Burkina Faso", NULL},
	{"KEN", "KE", "202", "Kenya", NULL},
	{"RWA", "RW", "202", "Rwanda", NULL},
	{"COD", "CD", "202", "Democratic Republic of the Congo", NULL},
	{"BDI", "BI", "202", "Burundi", NULL},
	{"SSD", "SS", "202", "South Sudan", NULL},
	{"TZA", "TZ", "202", "United Republic of Tanzania", NULL},
	{"AGO", "AO", "202", "Angola", NULL},
	{"ZAF", "ZA", "202", "South Africa", NULL},
	{"ZMB", "ZM", "202", "Zambia", NULL},
	{"ZWE", "ZW", "202", "Zimbabwe", NULL},
	{"BWA", "BW", "202", "Botswana", NULL},
	{"MLI", "ML", "202", "Mali", NULL},
	{"ETH", "ET", "202", "Ethiopia", NULL},
	{"SDN", "SD", "015", "Sudan", NULL},
	{"YEM", "YE", "145", "Yemen", NULL},
	{"NPL", "NP", "034", "Nepal", NULL},
	{"MMR", "MM", "035", "Myanmar", NULL},
	{"KHM", "KH", "035", "Cambodia", NULL},
	{"LAO", "LA", "035", "Lao People's Democratic Republic", NULL},
	{"MYS", "MY", "035", "Malaysia", NULL},
	{"TLS", "TL", "035", "Timor-Leste", NULL},
	{"TKM", "TM", "143", "Turkmenistan", NULL},
	{"AZE", "AZ", "145", "Azerbaijan", NULL},
	{"IRN", "IR", "034", "Iran (Islamic Republic of)", NULL},
	{"CHN", "CN", "030", "China", "China"},
	{"TON", "TO", "061", "Tonga", NULL},
	{"WSM", "WS", "061", "Samoa", NULL},
	{"SLB", "SB", "054", "Solomon Islands", NULL},
	{"VUT", "VU", "054", "Vanuatu", NULL},
	{"PNG", "PG", "054", "Papua New Guinea", NULL},
};
#define N_CT ((int)(sizeof CT / sizeof *CT))

static int ct_find(const char *iso3)
{
	for (int i = 0; i < N_CT; i++)
		if (!strcmp(CT[i].iso3, iso3))
			return i;
	die("country %s is not in the generator's table", iso3);
}

/* M49 sub-regions: name, region code, region name (regions.csv). */
typedef struct subregion {
	const char *code, *name, *region, *region_name;
	/* victims: composition women/men/girls/boys (per mille), share of
	 * nationals (per 10000) and the pool of foreign citizenships */
	unsigned comp[4];
	unsigned domestic;
	const char *pool;
	/* form multipliers per mille (SEX, LAB, BEG, MAR), 0 = 1000 */
	unsigned fm_sex, fm_lab, fm_beg, fm_mar;
} subregion;

static const subregion SUB[] = {
	{"015", "Northern Africa", "002", "Africa", {300, 280, 220, 200}, 6000,
	 "SDN 10 ETH 8 ERI 6 SYR 5 SSD 3 NGA 2 BGD 3 YEM 3 SOM 3 PHL 2 IDN 2 MAR 2 TUN 1", 0, 1200, 1200, 0},
	{"202", "Sub-Saharan Africa", "002", "Africa", {210, 200, 270, 320}, 8500,
	 "BEN 6 TGO 6 NER 5 GHA 5 NGA 8 BFA 5 CIV 4 KEN 6 RWA 4 COD 5 BDI 3 SSD 3 TZA 4 AGO 4 "
	 "ZAF 3 ZMB 3 ZWE 4 BWA 2 MLI 3 CMR 3 UGA 3 ETH 4 CHN 2 IND 2 NAM 1", 600, 1500, 1500, 1500},
	{"053", "Australia and New Zealand", "009", "Oceania", {420, 330, 150, 100}, 4500,
	 "CHN 10 THA 10 MYS 6 KOR 5 PHL 6 VNM 4 IND 8 FJI 4 TON 3 WSM 3 NZL 3 AUS 3 IDN 3", 1100, 1000, 0, 0},
	{"054", "Melanesia", "009", "Oceania", {380, 200, 280, 140}, 8500,
	 "CHN 10 IND 5 PHL 4 TON 3 WSM 3 SLB 4 VUT 3 PNG 3 NZL 2 AUS 2 BGD 2", 0, 0, 0, 0},
	{"021", "Northern America", "019", "Americas", {520, 150, 230, 100}, 7000,
	 "MEX 20 HND 8 GTM 8 SLV 5 PHL 5 CHN 5 IND 4 THA 3 KOR 2 VNM 2 NGA 2 HTI 2 JAM 2 USA 3 "
	 "CAN 2 COL 2 VEN 2", 1200, 900, 0, 0},
	{"419", "Latin America and the Caribbean", "019", "Americas", {460, 160, 280, 100}, 8000,
	 "VEN 20 COL 15 BOL 10 PER 8 PRY 6 ECU 5 HND 6 SLV 5 GTM 4 NIC 4 DOM 3 HTI 3 CUB 2 CHN 2 "
	 "BRA 3 ARG 2 MEX 3 CHL 1 URY 1 CRI 1 PAN 1 ESP 1 USA 1", 1300, 800, 0, 0},
	{"030", "Eastern Asia", "142", "Asia", {500, 200, 200, 100}, 6000,
	 "PHL 20 VNM 15 THA 10 CHN 10 KOR 5 IDN 5 KHM 4 MNG 2 MMR 2 BGD 1 NPL 1 COL 1", 0, 0, 0, 0},
	{"034", "Southern Asia", "142", "Asia", {300, 280, 230, 190}, 8500,
	 "BGD 20 NPL 20 IND 10 LKA 3 PAK 5 MMR 3 AFG 2 CHN 1 THA 1 MYS 1", 0, 1300, 1300, 2000},
	{"035", "South-eastern Asia", "142", "Asia", {430, 250, 200, 120}, 8000,
	 "MMR 10 KHM 8 LAO 6 VNM 8 PHL 8 THA 6 IDN 6 MYS 5 CHN 4 TLS 2 BGD 2", 0, 1100, 0, 0},
	{"143", "Central Asia", "142", "Asia", {330, 520, 80, 70}, 8500,
	 "UZB 30 KGZ 20 TJK 15 TKM 5 RUS 5 CHN 3 MNG 2 UKR 1", 800, 1300, 0, 0},
	{"145", "Western Asia", "142", "Asia", {380, 300, 160, 160}, 4500,
	 "SYR 20 UZB 8 TKM 6 GEO 5 AZE 3 IRN 5 AFG 8 KGZ 4 UKR 3 RUS 3 MDA 2 IRQ 4 NGA 1 ETH 1", 0, 1300, 0, 0},
	{"039", "Southern Europe", "150", "Europe", {520, 220, 160, 100}, 3000,
	 "NGA 20 ROU 15 ALB 8 MAR 6 CHN 4 PAK 4 BGD 3 CIV 3 GMB 2 SEN 2 GHA 2 UKR 2 BGR 3 ITA 3 "
	 "GRC 2 MKD 2 SRB 3 BRA 2 DOM 1 COL 1 TUN 2 EGY 2", 1250, 800, 0, 0},
	{"151", "Eastern Europe", "150", "Europe", {420, 340, 130, 110}, 8500,
	 "MDA 15 UKR 10 RUS 8 BLR 5 ROU 6 BGR 5 HUN 3 POL 3 GEO 3 UZB 4 KGZ 2 TJK 2 VNM 3 CHN 2 "
	 "NGA 2 TUR 2", 1100, 900, 0, 0},
	{"154", "Northern Europe", "150", "Europe", {480, 260, 160, 100}, 3500,
	 "ROU 15 NGA 10 THA 6 LTU 4 LVA 3 POL 5 BGR 5 UKR 4 VNM 5 CHN 4 ERI 3 SOM 3 AFG 3 IRQ 2 "
	 "SYR 3 ALB 2 HUN 2 PHL 2 MNG 2", 1250, 800, 0, 0},
	{"155", "Western Europe", "150", "Europe", {500, 230, 170, 100}, 3500,
	 "ROU 20 BGR 12 HUN 8 NGA 10 CHN 5 THA 5 POL 4 SVK 3 CZE 2 SRB 3 ALB 3 MDA 3 UKR 5 VNM 4 "
	 "BRA 3 DOM 2 MAR 2 IND 2 AFG 2 SYR 2 IRQ 1 ERI 1 CMR 1 PHL 2 TUR 2 DEU 4 FRA 2 ITA 2 "
	 "BEL 1 NLD 1 AUT 2 CHE 1 ESP 1 RUS 2 GEO 1 COL 1", 1250, 800, 0, 0},
};
#define N_SUB ((int)(sizeof SUB / sizeof *SUB))

static const subregion *sub_of(const char *code)
{
	for (int i = 0; i < N_SUB; i++)
		if (!strcmp(SUB[i].code, code))
			return &SUB[i];
	die("sub-region %s unknown", code);
}

/* Detected victims per million inhabitants and year, by M49 region,
 * chosen so that regional totals sum to about 70,000 a year worldwide. */
static double region_rate(const char *region)
{
	if (!strcmp(region, "002")) return 9.0;   /* Africa */
	if (!strcmp(region, "019")) return 14.0;  /* Americas */
	if (!strcmp(region, "142")) return 6.0;   /* Asia */
	if (!strcmp(region, "150")) return 18.0;  /* Europe */
	return 15.0;                              /* Oceania */
}

/* Year effect (per mille): the 2020 pandemic dip, then growth. */
static const unsigned YEAR_FACTOR[NYEARS] = {1000, 880, 950, 1120, 1180, 1220};
static const unsigned QUARTER_W[4] = {235, 250, 265, 250};

/* ------------------------------------------------------------------------
 * Reporting countries and their layouts
 * ---------------------------------------------------------------------- */

enum { L_DE, L_ES, L_EN, L_UNODC, L_PIPE, N_LAYOUT };
static const char *const LAYOUT_DIR[N_LAYOUT] = {"de_case", "es_case", "en_case", "unodc_long",
                                                 "pipe_quarterly"};

typedef struct reporter {
	const char *iso3;
	int layout;
	double pop;          /* millions, about 2019 */
	double mult;         /* detection intensity relative to the regional rate */
	const char *first;   /* first quarter with data, "2019Q1" */
	const char *skip;    /* quarters or whole years without data */
	int style;           /* layout variant (value spellings) */
	int censor;          /* aggregates: small counts censored */
	int offices;         /* pipe layout: reporting offices */
	const char *phone;   /* identifier generation: phone prefix */
	const char *places;  /* '|'-separated places (cities, districts) */
	const char *local;   /* name in the layout's language, NULL = English */
} reporter;

static const reporter REP[] = {
	/* de_case: German-language police case files */
	{"AUT", L_DE, 8.88, 1.00, "2019Q1", "", 0, 0, 0, "+43 664 ",
	 "1160 Wien|8010 Graz|4020 Linz|5020 Salzburg|6020 Innsbruck", NULL},
	{"CHE", L_DE, 8.58, 0.90, "2019Q1", "2022Q3", 1, 0, 0, "+41 79 ",
	 "8004 Zurich|4051 Basel|3011 Bern|6003 Luzern|1201 Geneve", NULL},
	{"LUX", L_DE, 0.62, 1.30, "2019Q1", "", 2, 0, 0, "+352 621 ",
	 "1611 Luxembourg|4001 Esch-sur-Alzette|9001 Ettelbruck", NULL},
	{"LIE", L_DE, 0.038, 6.00, "2021Q1", "", 3, 0, 0, "+423 79",
	 "9490 Vaduz|9494 Schaan|9495 Triesen", NULL},
	/* es_case: Spanish-language prosecution case files */
	{"PER", L_ES, 32.5, 1.00, "2019Q1", "", 0, 0, 0, "+51 9",
	 "Lima|Cusco|Arequipa|Madre de Dios|Puno", "Perú"},
	{"CHL", L_ES, 19.0, 0.80, "2019Q1", "", 1, 0, 0, "+56 9 ",
	 "Santiago|Arica|Antofagasta|Iquique", NULL},
	{"GTM", L_ES, 17.6, 0.90, "2019Q1", "2024Q4", 0, 0, 0, "+502 ",
	 "Ciudad de Guatemala|Quetzaltenango|Escuintla|Petén", NULL},
	{"CRI", L_ES, 5.05, 1.00, "2019Q1", "", 1, 0, 0, "+506 ",
	 "San José|Limón|Puntarenas|Guanacaste", NULL},
	{"URY", L_ES, 3.46, 1.10, "2019Q1", "2021", 0, 0, 0, "+598 9",
	 "Montevideo|Maldonado|Rivera|Salto", NULL},
	{"PRY", L_ES, 7.04, 0.90, "2020Q1", "", 1, 0, 0, "+595 98",
	 "Asunción|Ciudad del Este|Encarnación|Pedro Juan Caballero", NULL},
	/* en_case: English tab-delimited case registers */
	{"GHA", L_EN, 30.4, 1.00, "2019Q1", "", 0, 0, 0, "+233 24 ",
	 "Greater Accra|Ashanti|Volta|Central|Northern", NULL},
	{"UGA", L_EN, 44.3, 0.90, "2019Q1", "", 0, 0, 0, "+256 77 ",
	 "Kampala|Wakiso|Busia|Gulu|Mbale", NULL},
	{"LKA", L_EN, 21.8, 0.80, "2019Q1", "2020Q2 2020Q3", 0, 0, 0, "+94 77 ",
	 "Colombo|Gampaha|Kandy|Jaffna|Galle", NULL},
	{"NZL", L_EN, 4.98, 0.80, "2019Q1", "", 0, 0, 0, "+64 21 ",
	 "Auckland|Wellington|Canterbury|Waikato", NULL},
	{"FJI", L_EN, 0.89, 1.50, "2019Q1", "2020 2023Q2", 0, 0, 0, "+679 7",
	 "Central|Western|Northern|Eastern", NULL},
	/* unodc_long: UNODC long-format annual aggregates */
	{"ALB", L_UNODC, 2.85, 1.50, "2019Q1", "", 0, 0, 0, NULL, NULL, NULL},
	{"AUS", L_UNODC, 25.4, 0.60, "2019Q1", "", 0, 1, 0, NULL, NULL, NULL},
	{"BRA", L_UNODC, 211.0, 0.35, "2019Q1", "", 0, 0, 0, NULL, NULL, NULL},
	{"CAN", L_UNODC, 37.6, 0.80, "2019Q1", "", 0, 1, 0, NULL, NULL, NULL},
	{"DEU", L_UNODC, 83.1, 0.60, "2019Q1", "", 0, 1, 0, NULL, NULL, NULL},
	{"EGY", L_UNODC, 100.4, 0.30, "2020Q1", "", 1, 0, 0, NULL, NULL, NULL},
	{"IDN", L_UNODC, 270.6, 0.40, "2019Q1", "", 0, 0, 0, NULL, NULL, NULL},
	{"IND", L_UNODC, 1366.4, 0.55, "2019Q1", "", 0, 0, 0, NULL, NULL, NULL},
	{"ITA", L_UNODC, 59.7, 0.90, "2019Q1", "", 0, 1, 0, NULL, NULL, NULL},
	{"JPN", L_UNODC, 126.3, 0.15, "2019Q1", "2019", 0, 1, 0, NULL, NULL, NULL},
	{"MEX", L_UNODC, 127.6, 0.50, "2019Q1", "", 0, 0, 0, NULL, NULL, NULL},
	{"NGA", L_UNODC, 201.0, 0.60, "2019Q1", "", 0, 0, 0, NULL, NULL, NULL},
	{"ROU", L_UNODC, 19.4, 1.60, "2019Q1", "", 0, 0, 0, NULL, NULL, NULL},
	{"SWE", L_UNODC, 10.3, 1.00, "2019Q1", "", 0, 1, 0, NULL, NULL, NULL},
	{"TUR", L_UNODC, 83.4, 0.50, "2019Q1", "", 0, 0, 0, NULL, NULL, NULL},
	{"UKR", L_UNODC, 44.4, 0.50, "2019Q1", "2022", 0, 0, 0, NULL, NULL, NULL},
	{"USA", L_UNODC, 328.3, 0.45, "2019Q1", "", 0, 0, 0, NULL, NULL, NULL},
	/* pipe_quarterly: quarterly cells from national referral mechanisms */
	{"NLD", L_PIPE, 17.3, 1.10, "2019Q1", "", 0, 1, 1, NULL, "CoMensha", NULL},
	{"NAM", L_PIPE, 2.49, 1.20, "2019Q1", "2020Q2 2020Q3 2021Q1", 0, 0, 1, NULL, "Windhoek", NULL},
	{"KAZ", L_PIPE, 18.5, 0.90, "2020Q3", "", 0, 1, 3, NULL, "Almaty|Astana|Shymkent", NULL},
};
#define N_REP ((int)(sizeof REP / sizeof *REP))

/* The one deliberately non-additive total (datasets/README.md): the
 * 2021 victims total of Romania in the UNODC table includes 31 victims
 * identified by NGOs whose sex, age, form and citizenship were not
 * recorded, so it exceeds the sum of every breakdown by 31. */
#define NONADD_ISO3  "ROU"
#define NONADD_YEAR  2021
#define NONADD_EXTRA 31

static int parse_quarter(const char *s)
{
	int y = atoi(s), q = s[5] - '0';
	if (y < FIRST_YEAR || y > LAST_YEAR || s[4] != 'Q' || q < 1 || q > 4)
		die("bad quarter '%s'", s);
	return (y - FIRST_YEAR) * 4 + q - 1;
}

/* active[qi]: the country submitted data for quarter index qi. */
static void active_quarters(const reporter *R, unsigned char *active)
{
	int first = parse_quarter(R->first);
	for (int qi = 0; qi < NQ; qi++)
		active[qi] = qi >= first;
	for (const char *p = R->skip; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		int y = atoi(p);
		if (y < FIRST_YEAR || y > LAST_YEAR)
			die("bad skip '%s' for %s", R->skip, R->iso3);
		if (p[4] == 'Q') {
			active[parse_quarter(p)] = 0;
			p += 6;
		} else {
			for (int q = 0; q < 4; q++)
				active[(y - FIRST_YEAR) * 4 + q] = 0;
			p += 4;
		}
	}
}

/* k-th '|'-separated item of list (modulo the number of items). */
static void list_item(const char *list, unsigned k, char *out, size_t outsz)
{
	unsigned n = 1;
	for (const char *p = list; *p; p++)
		n += *p == '|';
	k %= n;
	const char *p = list;
	while (k--)
		p = strchr(p, '|') + 1;
	const char *e = strchr(p, '|');
	size_t len = e ? (size_t)(e - p) : strlen(p);
	if (len >= outsz)
		len = outsz - 1;
	memcpy(out, p, len);
	out[len] = '\0';
}

/* ------------------------------------------------------------------------
 * The latent population
 * ---------------------------------------------------------------------- */

typedef struct person {
	unsigned char ind, sex, form, qi, month, day;
	signed char age;      /* exact age in years at the registration date, -1 unknown */
	short cit;            /* index into CT, -1 unknown */
	short year;
	unsigned char rerep;  /* es_case: re-report of an earlier row (same case id) */
	unsigned char dup;    /* es_case: exact double entry of the previous row */
	unsigned char office; /* pipe layout: reporting office */
	int pid;              /* identity: same person, same identifiers */
	int idno;             /* case-id number (es_case, en_case) */
	short idyear;         /* year of the first registration (case id) */
	unsigned char idns;   /* case-id namespace: 0 victims, 1 offenders */
} person;

typedef struct sim {
	const reporter *R;
	const ctry *C;
	const subregion *S;
	int ci;
	unsigned char active[NQ];
	person *p;
	size_t n, cap;
	int next_pid;
	long victims_by_year[NYEARS]; /* distinct detected victims */
} sim;

static person *sim_add(sim *s)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->p = xrealloc(s->p, s->cap * sizeof *s->p);
	}
	person *p = &s->p[s->n++];
	memset(p, 0, sizeof *p);
	return p;
}

/* Rates (per 10000) of values a layout leaves unknown. */
typedef struct unknowns {
	unsigned sex_u, sex_o, age_u, form_u;
} unknowns;

static unknowns layout_unknowns(int layout)
{
	switch (layout) {
	case L_DE: return (unknowns){100, 30, 250, 150};
	case L_ES: return (unknowns){150, 0, 300, 200};
	case L_EN: return (unknowns){120, 0, 350, 150};
	case L_UNODC: return (unknowns){0, 0, 0, 80};
	default: return (unknowns){100, 0, 300, 150};
	}
}

/* Forms by victim group (women, men, girls, boys), per 10000; order as
 * F_SEX .. F_OTH (F_U is added per layout). */
static const unsigned FORM_W[4][F_U] = {
	{6200, 2000, 500, 100, 200, 10, 0, 900, 90},
	{600, 6800, 1200, 150, 10, 60, 0, 1000, 180},
	{6000, 1500, 800, 300, 250, 0, 30, 1000, 120},
	{1000, 4800, 2200, 400, 10, 20, 40, 1200, 330},
};

static int draw_form(rng *r, const subregion *S, int group, unsigned form_u)
{
	unsigned w[N_FORM];
	for (int f = 0; f < F_U; f++)
		w[f] = FORM_W[group][f];
	if (S->fm_sex) w[F_SEX] = w[F_SEX] * S->fm_sex / 1000;
	if (S->fm_lab) w[F_LAB] = w[F_LAB] * S->fm_lab / 1000;
	if (S->fm_beg) w[F_BEG] = w[F_BEG] * S->fm_beg / 1000;
	if (S->fm_mar) w[F_MAR] = w[F_MAR] * S->fm_mar / 1000;
	unsigned sum = 0;
	for (int f = 0; f < F_U; f++)
		sum += w[f];
	w[F_U] = (unsigned)((uint64_t)sum * form_u / 10000);
	return rng_pick(r, w, N_FORM);
}

static int draw_adult_age(rng *r, int offender)
{
	static const unsigned VW[6] = {32, 35, 18, 9, 4, 2};
	static const unsigned OW[6] = {15, 35, 28, 15, 5, 2};
	int b = 4 + rng_pick(r, offender ? OW : VW, 6);
	int hi = b == 9 ? 79 : BAND[b].hi;
	return BAND[b].lo + (int)rng_below(r, (unsigned)(hi - BAND[b].lo + 1));
}

static int draw_minor_age(rng *r)
{
	static const unsigned W[4] = {4, 8, 28, 60};
	int b = rng_pick(r, W, 4);
	return BAND[b].lo + (int)rng_below(r, (unsigned)(BAND[b].hi - BAND[b].lo + 1));
}

/* Parsed citizenship pool of a sub-region. */
typedef struct pool {
	int ci[64];
	unsigned w[64];
	int n;
} pool;

static void parse_pool(const char *s, int self, pool *pl)
{
	char iso[4];
	unsigned w;
	int used;
	pl->n = 0;
	while (sscanf(s, " %3s %u%n", iso, &w, &used) == 2) {
		int ci = ct_find(iso);
		if (ci != self) {
			if (pl->n == 64)
				die("pool too long");
			pl->ci[pl->n] = ci;
			pl->w[pl->n++] = w;
		}
		s += used;
	}
}

static int draw_cit(rng *r, const sim *s, const pool *pl, int offender)
{
	if (rng_chance(r, s->R->layout == L_UNODC ? 150 : 200))
		return -1;
	unsigned dom = s->S->domestic + (offender ? 2500 : 0);
	if (dom > 9500)
		dom = 9500;
	if (rng_chance(r, dom))
		return s->ci;
	return pl->ci[rng_pick(r, pl->w, pl->n)];
}

static void random_date(rng *r, int year, int q, person *p)
{
	static const int MD[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	int total = 0;
	for (int m = 3 * q - 2; m <= 3 * q; m++)
		total += MD[m - 1] + (m == 2 && leap);
	int k = (int)rng_below(r, (unsigned)total);
	for (int m = 3 * q - 2; m <= 3 * q; m++) {
		int dm = MD[m - 1] + (m == 2 && leap);
		if (k < dm) {
			p->month = (unsigned char)m;
			p->day = (unsigned char)(k + 1);
			return;
		}
		k -= dm;
	}
}

static void draw_victim(rng *r, sim *s, const pool *pl, person *p)
{
	unknowns u = layout_unknowns(s->R->layout);
	int group = rng_pick(r, s->S->comp, 4); /* women, men, girls, boys */
	p->ind = IND_VIC;
	p->sex = (group == 0 || group == 2) ? SX_F : SX_M;
	p->age = (signed char)(group < 2 ? draw_adult_age(r, 0) : draw_minor_age(r));
	p->form = (unsigned char)draw_form(r, s->S, group, u.form_u);
	p->cit = (short)draw_cit(r, s, pl, 0);
	if (rng_chance(r, u.sex_u))
		p->sex = SX_U;
	else if (rng_chance(r, u.sex_o))
		p->sex = SX_O;
	if (rng_chance(r, u.age_u))
		p->age = -1;
}

static void draw_offender(rng *r, sim *s, const pool *pl, int ind, person *p)
{
	static const unsigned SEXW[2] = {2900, 7100};
	unknowns u = layout_unknowns(s->R->layout);
	p->ind = (unsigned char)ind;
	p->sex = (unsigned char)rng_pick(r, SEXW, 2);
	p->age = (signed char)(rng_chance(r, 150) ? 15 + (int)rng_below(r, 3) : draw_adult_age(r, 1));
	/* the form of exploitation of the case: a victim group's mix */
	p->form = (unsigned char)draw_form(r, s->S, rng_chance(r, 5500) ? 0 : 1, u.form_u);
	p->cit = (short)draw_cit(r, s, pl, 1);
	if (rng_chance(r, u.sex_u))
		p->sex = SX_U;
	if (rng_chance(r, u.age_u))
		p->age = -1;
}

static int cmp_person(const void *a, const void *b)
{
	const person *x = a, *y = b;
	if (x->year != y->year) return x->year - y->year;
	if (x->month != y->month) return x->month - y->month;
	if (x->day != y->day) return x->day - y->day;
	if (x->pid != y->pid) return x->pid < y->pid ? -1 : 1;
	if (x->ind != y->ind) return x->ind - y->ind;
	if (x->rerep != y->rerep) return x->rerep - y->rerep;
	return x->dup - y->dup;
}

/* Offender chain (es_case): persons prosecuted are earlier suspects,
 * persons convicted earlier prosecuted persons, with the same case id. */
typedef struct chain {
	size_t *v;
	size_t n, cap;
} chain;

static void chain_push(chain *c, size_t i)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->v = xrealloc(c->v, c->cap * sizeof *c->v);
	}
	c->v[c->n++] = i;
}

/* Take a random earlier (quarter < qi) entry, or return (size_t)-1. */
static size_t chain_take(chain *c, const sim *s, rng *r, int qi)
{
	size_t avail = 0;
	for (size_t k = 0; k < c->n; k++)
		avail += s->p[c->v[k]].qi < qi;
	if (!avail)
		return (size_t)-1;
	size_t want = rng_below(r, (unsigned)avail);
	for (size_t k = 0; k < c->n; k++) {
		if (s->p[c->v[k]].qi >= qi)
			continue;
		if (want-- == 0) {
			size_t i = c->v[k];
			c->v[k] = c->v[--c->n];
			return i;
		}
	}
	return (size_t)-1;
}

static void simulate(sim *s, const reporter *R)
{
	memset(s, 0, sizeof *s);
	s->R = R;
	s->ci = ct_find(R->iso3);
	s->C = &CT[s->ci];
	s->S = sub_of(s->C->sub);
	active_quarters(R, s->active);
	pool pl;
	parse_pool(s->S->pool, s->ci, &pl);
	rng r;
	rng_seed(&r, hash_str(R->iso3), 1);

	double base = R->pop * region_rate(s->S->region) * R->mult;
	/* offender ratios to victims, varied per country */
	double r_sus = 0.45 + 0.3 * rng_unit(&r), r_pros = 0.30 + 0.2 * rng_unit(&r);
	double r_conv = 0.14 + 0.12 * rng_unit(&r);
	chain sus = {0}, pros = {0};
	for (int y = 0; y < NYEARS; y++) {
		double lam_y = base * YEAR_FACTOR[y] / 1000.0 * (0.9 + 0.2 * rng_unit(&r));
		for (int q = 0; q < 4; q++) {
			int qi = y * 4 + q;
			double lam = lam_y * QUARTER_W[q] / 1000.0;
			int nv = poisson(&r, lam), ns = poisson(&r, lam * r_sus);
			int np = poisson(&r, lam * r_pros), nc = poisson(&r, lam * r_conv);
			if (!s->active[qi])
				continue;
			int counts[N_IND] = {nv, ns, np, nc};
			for (int ind = 0; ind < N_IND; ind++) {
				for (int k = 0; k < counts[ind]; k++) {
					size_t from = (size_t)-1;
					if (R->layout == L_ES && ind == IND_PROS)
						from = chain_take(&sus, s, &r, qi);
					else if (R->layout == L_ES && ind == IND_CONV)
						from = chain_take(&pros, s, &r, qi);
					person *p = sim_add(s);
					if (from != (size_t)-1) {
						*p = s->p[from];
						p->ind = (unsigned char)ind;
					} else {
						if (ind == IND_VIC)
							draw_victim(&r, s, &pl, p);
						else
							draw_offender(&r, s, &pl, ind, p);
						p->pid = ++s->next_pid;
						p->idns = ind != IND_VIC;
					}
					p->qi = (unsigned char)qi;
					p->year = (short)(FIRST_YEAR + y);
					random_date(&r, p->year, q + 1, p);
					p->office = (unsigned char)(R->offices > 1 ? rng_below(&r, (unsigned)R->offices) : 0);
					if (ind == IND_VIC)
						s->victims_by_year[y]++;
					if (R->layout == L_ES && ind == IND_SUS)
						chain_push(&sus, s->n - 1);
					if (R->layout == L_ES && ind == IND_PROS)
						chain_push(&pros, s->n - 1);
				}
			}
		}
	}
	free(sus.v);
	free(pros.v);
	if (R->layout == L_ES) {
		/* re-reports in a later quarter (same case id), and exact
		 * double entries in the same quarter */
		size_t n0 = s->n;
		for (size_t i = 0; i < n0; i++) {
			if (s->p[i].ind == IND_VIC && rng_chance(&r, 400)) {
				int qi = s->p[i].qi + 1 + (int)rng_below(&r, 2);
				if (qi < NQ && s->active[qi]) {
					person *p = sim_add(s);
					*p = s->p[i];
					p->qi = (unsigned char)qi;
					p->year = (short)(FIRST_YEAR + qi / 4);
					random_date(&r, p->year, qi % 4 + 1, p);
					p->rerep = 1;
				}
			}
		}
		n0 = s->n;
		for (size_t i = 0; i < n0; i++) {
			if (rng_chance(&r, 60)) {
				person *p = sim_add(s);
				*p = s->p[i];
				p->dup = 1;
			}
		}
	}
	qsort(s->p, s->n, sizeof *s->p, cmp_person);
	/* case ids numbered in registration order, per namespace (victims,
	 * offenders) and year of the first registration; a re-report, a
	 * double entry and a later stage of the same offender keep theirs */
	int *idno = xrealloc(NULL, (size_t)(s->next_pid + 1) * sizeof *idno);
	short *idyear = xrealloc(NULL, (size_t)(s->next_pid + 1) * sizeof *idyear);
	int counter[2][NYEARS];
	memset(idno, 0, (size_t)(s->next_pid + 1) * sizeof *idno);
	memset(counter, 0, sizeof counter);
	for (size_t i = 0; i < s->n; i++) {
		person *p = &s->p[i];
		if (!idno[p->pid]) {
			idno[p->pid] = ++counter[p->idns][p->year - FIRST_YEAR];
			idyear[p->pid] = p->year;
		}
		p->idno = idno[p->pid];
		p->idyear = idyear[p->pid];
	}
	free(idno);
	free(idyear);
}

/* ------------------------------------------------------------------------
 * Identifiers planted in identifier and free-text columns.  Every value is
 * ASCII (also in the Latin-1 layout, so a byte-wise grep finds it in the
 * input as well as, if it leaked, in any output) and distinctive: rare
 * syllables, or letters from g-z mixed with digits, so that it can never
 * match a code, a period or a lowercase hex key by accident.
 * ---------------------------------------------------------------------- */

typedef struct gen {
	const char *outdir;
	strv planted;
	size_t files;
	long victims_by_year[NYEARS];
	long rows_by_layout[N_LAYOUT];
	sbuf unodc[2];     /* the two UNODC tables: 2019-2021, 2022-2024 */
	strv unodc_truth[2];
	int nonadd_flagged;
} gen;

static void plant(gen *g, const char *v)
{
	sv_add(&g->planted, v);
}

static void rare_surname(rng *r, char *out, size_t sz)
{
	static const char *const A[] = {"Quar", "Zwi", "Xol", "Brz", "Vlk", "Ygg", "Krz", "Thj",
	                                "Wuq", "Pfn", "Zdr", "Gvu", "Hrq", "Jxe", "Mqo", "Sqv"};
	static const char *const B[] = {"ab", "em", "irr", "ovk", "uzz", "yx", "aq", "ijn", "oqu", "ex"};
	static const char *const C[] = {"nowitz", "hagen", "escu", "oglu", "enko", "strom",
	                                "berg", "ova", "ic", "ek", "ardt", "inger"};
	/* one draw per statement: argument evaluation order is unspecified */
	const char *a = PICK(r, A);
	const char *b = PICK(r, B);
	const char *c = PICK(r, C);
	snprintf(out, sz, "%s%s%s", a, b, c);
}

/* First names by sex (F, M); other and unknown sex draw from both. */
static const char *first_name(rng *r, int sex, const char *const *f, unsigned nf,
                              const char *const *m, unsigned nm)
{
	if (sex == SX_F || (sex != SX_M && rng_below(r, 2)))
		return rng_of(r, f, nf);
	return rng_of(r, m, nm);
}
#define FIRST(r, sex, F, M) \
	first_name((r), (sex), (F), (unsigned)(sizeof(F) / sizeof *(F)), (M), \
	           (unsigned)(sizeof(M) / sizeof *(M)))

static void name_de(rng *r, int sex, char *out, size_t sz)
{
	static const char *const F[] = {"Quirina", "Wendelgard", "Ysolde", "Odalrike", "Friedegund",
	                                "Jovanka", "Zdenka", "Ilvana", "Svetlina", "Chidinma",
	                                "Nkechi", "Mirela", "Florentina", "Vasilica", "Ploypailin"};
	static const char *const M[] = {"Xaverius", "Brixius", "Radomir", "Oluwaseun", "Thanh",
	                                "Hieronymus", "Vukasin", "Ferdl", "Emeka", "Dragutin"};
	const char *first = FIRST(r, sex, F, M);
	char sn[64];
	rare_surname(r, sn, sizeof sn);
	snprintf(out, sz, "%s %s", first, sn);
}

static void name_es(rng *r, int sex, char *out, size_t sz)
{
	static const char *const F[] = {"Yesenia", "Maribel", "Edelmira", "Xiomara", "Dorotea",
	                                "Nayeli", "Yoselin", "Rosalinda", "Leidy"};
	static const char *const M[] = {"Anacleto", "Wilmer", "Eustaquio", "Fulgencio", "Heriberto",
	                                "Jhonatan", "Segundo", "Wilber"};
	static const char *const A[] = {"Huarqu", "Xotl", "Zapqu", "Ccoyll", "Ytuarr", "Quiroxh",
	                                "Pfuy", "Llaqw", "Chuqx", "Mbyrr"};
	static const char *const B[] = {"anaga", "ezqui", "ipoma", "uchez", "ombra", "arzua",
	                                "illca", "oyuxo"};
	const char *f = FIRST(r, sex, F, M);
	const char *a1 = PICK(r, A);
	const char *b1 = PICK(r, B);
	const char *a2 = PICK(r, A);
	const char *b2 = PICK(r, B);
	snprintf(out, sz, "%s %s%s %s%s", f, a1, b1, a2, b2);
}

static void name_en(rng *r, int sex, char *out, size_t sz)
{
	static const char *const F[] = {"Akosua", "Nakato", "Nilmini", "Aroha", "Mereoni", "Apio",
	                                "Chathurika", "Losana", "Adwoa"};
	static const char *const M[] = {"Kwabena", "Ssemanda", "Tharindu", "Tevita", "Kofi",
	                                "Wiremu", "Okello", "Ruwan"};
	const char *first = FIRST(r, sex, F, M);
	char sn[64];
	rare_surname(r, sn, sizeof sn);
	snprintf(out, sz, "%s %s", first, sn);
}

/* A digit string of n digits. */
static void digits(rng *r, char *out, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = (char)('0' + rng_below(r, 10));
	out[n] = '\0';
}

static char rare_letter(rng *r)
{
	static const char L[] = "GHJKLMNPQRTVWXYZ";
	return L[rng_below(r, (unsigned)(sizeof L - 1))];
}

static void phone(rng *r, const char *prefix, char *out, size_t sz)
{
	char a[8], b[8];
	digits(r, a, 3);
	digits(r, b, 4);
	snprintf(out, sz, "%s%s %s", prefix, a, b);
}

/* ------------------------------------------------------------------------
 * Dates and ages
 * ---------------------------------------------------------------------- */

/* Completed years between a birth date and a reference date. */
static int age_at(int by, int bm, int bd, int ry, int rm, int rd)
{
	int a = ry - by;
	if (rm < bm || (rm == bm && rd < bd))
		a--;
	return a;
}

/* A date of birth giving exactly `age` at (y, m, d).  29 February is never
 * drawn (its anniversaries are a matter of convention). */
static void birth_date(rng *r, int age, int y, int m, int d, int *by, int *bm, int *bd)
{
	static const int MD[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	*bm = 1 + (int)rng_below(r, 12);
	*bd = 1 + (int)rng_below(r, (unsigned)MD[*bm - 1]);
	*by = y - age - ((m < *bm || (m == *bm && d < *bd)) ? 1 : 0);
	if (age_at(*by, *bm, *bd, y, m, d) != age)
		die("birth date arithmetic");
}

static void truth_record(strv *t, const char *iso3, int year, int month, int ind, int sex,
                         int age, const char *form, const char *cit)
{
	sv_addf(t, "%s,%d-Q%d,%s,%s,%s,%s,%s,%s", iso3, year, (month - 1) / 3 + 1, IND_CODE[ind],
	        SEX_CODE[sex], group_code(age), age >= 0 ? BAND[band_of(age)].code : "", form, cit);
}

static void truth_record_group(strv *t, const char *iso3, int year, int month, int ind, int sex,
                               const char *group, const char *form, const char *cit)
{
	sv_addf(t, "%s,%d-Q%d,%s,%s,%s,,%s,%s", iso3, year, (month - 1) / 3 + 1, IND_CODE[ind],
	        SEX_CODE[sex], group, form, cit);
}

static void write_truth(gen *g, const char *rel, strv *t, int cells)
{
	static const char REC_H[] = "country,period,indicator,sex,age,age_band,form,citizenship\n";
	static const char CELL_H[] = "country,period,indicator,sex,age,form,citizenship,lo,hi,flags\n";
	sbuf b = {0};
	sb_puts(&b, cells ? CELL_H : REC_H);
	qsort(t->v, t->n, sizeof *t->v, cmp_str);
	for (size_t i = 0; i < t->n; i++) {
		sb_puts(&b, t->v[i]);
		sb_put(&b, "\n", 1);
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/truth/%s.std.csv", g->outdir, rel);
	write_file(path, b.s, b.n);
	sb_free(&b);
	g->files++;
}

static void write_submission(gen *g, const char *rel, const sbuf *b)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/submissions/%s", g->outdir, rel);
	write_file(path, b->s, b->n);
	g->files++;
}

/* ------------------------------------------------------------------------
 * Layout a: de_case
 * ---------------------------------------------------------------------- */

static const char DE_HEADER[] =
	"Lfd. Nr.;Meldestaat;Personengruppe;Feststellungsdatum;Name;Geburtsdatum;Geschlecht;"
	"Staatsangehörigkeit;Ausweisnummer;Telefon;Anschrift;Sexuelle Ausbeutung;"
	"Arbeitsausbeutung;Ausnutzung strafbarer Handlungen;Ausbeutung der Bettelei;"
	"Zwangsheirat;Organentnahme;Sonstige Ausbeutung;Bemerkung";

/* Flag columns, in file order, and the form each stands for. */
static const int DE_FLAG_FORM[7] = {F_SEX, F_LAB, F_CRIM, F_BEG, F_MAR, F_ORG, F_OTH};

static void de_note(gen *g, rng *r, const reporter *R, sbuf *note)
{
	char nm[96], ph[64], buf[512];
	static const char *const LOKAL[] = {"Zum Quendelhof", "Xandras Bar", "Nachtfalter 7Q",
	                                    "Wuhrmatt-Stube", "Kniepf-Eck"};
	switch (rng_below(r, 5)) {
	case 0:
		name_de(r, SX_U, nm, sizeof nm);
		phone(r, R->phone, ph, sizeof ph);
		plant(g, nm);
		plant(g, ph);
		snprintf(buf, sizeof buf,
		         "Angetroffen in Lokal \"%s\"; Kontaktperson %s, Tel. %s", PICK(r, LOKAL), nm, ph);
		break;
	case 1:
		name_de(r, SX_U, nm, sizeof nm);
		plant(g, nm);
		snprintf(buf, sizeof buf,
		         "Hinweis über Hotline; Verlegung in Schutzunterkunft.\n"
		         "Betreuerin: %s (Beratungsstelle \"LEFÖ\")", nm);
		break;
	case 2: {
		char plate[32], d3[8], l[4];
		for (int k = 0; k < 4; k++)
			l[k] = rare_letter(r);
		digits(r, d3, 3);
		snprintf(plate, sizeof plate, "%c%c-%s %c%c", l[0], l[1], d3, l[2], l[3]);
		plant(g, plate);
		snprintf(buf, sizeof buf,
		         "Befragung mit Dolmetscher; Aussage \"verweigert\"\n"
		         "Fahrzeug Kennzeichen %s; weitere Ermittlungen", plate);
		break;
	}
	case 3:
		phone(r, R->phone, ph, sizeof ph);
		plant(g, ph);
		snprintf(buf, sizeof buf, "Rückruf erbeten unter %s; Opfer spricht kaum Deutsch", ph);
		break;
	default:
		snprintf(buf, sizeof buf, "Anzeige durch Arbeitsinspektorat; Lohn \"einbehalten\"; "
		                          "Unterkunft in Sammelquartier");
		break;
	}
	sb_puts(note, buf);
}

static void render_de(gen *g, sim *s)
{
	static const char *const GRUPPE[N_IND] = {"Opfer", "Tatverdächtige(r)", "Angeklagte(r)",
	                                          "Verurteilte(r)"};
	static const char *const SEXV[4][4] = {
		{"w", "m", "d", ""},
		{"weiblich", "männlich", "divers", "k.A."},
		{"W", "M", "D", ""},
		{"w", "m", "d", ""},
	};
	static const char *const YES[4] = {"ja", "x", "1", "J"};
	static const char *const NO[4] = {"nein", "", "0", "N"};
	static const char *const STREET[] = {"Quendel", "Zwirbel", "Xanthip", "Wuhrmatt",
	                                     "Bruzzel", "Kniepf", "Ygramul", "Pfnorr"};
	static const char *const SUFFIX[] = {"gasse", "weg", "strasse", "steig", "allee"};
	const reporter *R = s->R;
	int st = R->style;
	for (int y = FIRST_YEAR; y <= LAST_YEAR; y++) {
		sbuf out = {0};
		strv truth = {0};
		int nr = 0;
		sb_puts(&out, DE_HEADER);
		sb_put(&out, "\n", 1);
		for (size_t i = 0; i < s->n; i++) {
			const person *p = &s->p[i];
			if (p->year != y)
				continue;
			rng pr;
			rng_seed(&pr, hash_str(R->iso3) ^ 0xDE, (uint64_t)p->pid);
			char f[24][160];
			snprintf(f[0], sizeof f[0], "%d", ++nr);
			snprintf(f[1], sizeof f[1], "%s", s->C->de);
			snprintf(f[2], sizeof f[2], "%s", GRUPPE[p->ind]);
			snprintf(f[3], sizeof f[3], "%02d.%02d.%04d", p->day, p->month, p->year);
			f[4][0] = '\0';
			if (rng_chance(&pr, 9500)) {
				name_de(&pr, p->sex, f[4], sizeof f[4]);
				plant(g, f[4]);
			}
			int age = -1;
			f[5][0] = '\0';
			if (p->age >= 0) {
				int by, bm, bd;
				birth_date(&pr, p->age, p->year, p->month, p->day, &by, &bm, &bd);
				snprintf(f[5], sizeof f[5], "%02d.%02d.%04d", bd, bm, by);
				/* truth: the age at the registration date, from the written dates */
				age = age_at(by, bm, bd, p->year, p->month, p->day);
			}
			snprintf(f[6], sizeof f[6], "%s", SEXV[st][p->sex]);
			if (p->cit >= 0 && !CT[p->cit].de)
				die("no German name for %s", CT[p->cit].iso3);
			if (p->cit >= 0)
				snprintf(f[7], sizeof f[7], "%s", CT[p->cit].de);
			else
				snprintf(f[7], sizeof f[7], "%s",
				         rng_below(&pr, 3) == 0 ? "staatenlos" : rng_below(&pr, 2) ? "ungeklärt" : "");
			f[8][0] = f[9][0] = f[10][0] = '\0';
			if (rng_chance(&pr, 7000)) {
				char d5[8];
				char c0 = "PKUXQ"[rng_below(&pr, 5)];
				unsigned n1 = rng_below(&pr, 10);
				unsigned n2 = rng_below(&pr, 10);
				char c3 = rare_letter(&pr);
				digits(&pr, d5, 5);
				snprintf(f[8], sizeof f[8], "%c%u%u%c%s", c0, n1, n2, c3, d5);
				plant(g, f[8]);
			}
			if (rng_chance(&pr, 5000)) {
				phone(&pr, R->phone, f[9], sizeof f[9]);
				plant(g, f[9]);
			}
			if (rng_chance(&pr, 6000)) {
				char place[64];
				list_item(R->places, rng_below(&pr, 16), place, sizeof place);
				const char *street = PICK(&pr, STREET);
				const char *suffix = PICK(&pr, SUFFIX);
				unsigned no = 1 + rng_below(&pr, 180);
				const char *letter = rng_chance(&pr, 3000) ? "b" : "";
				snprintf(f[10], sizeof f[10], "%s%s %u%s, %s", street, suffix, no, letter,
				         place);
				plant(g, f[10]);
			}
			/* flags */
			int set[7] = {0};
			if (p->form == F_MIX) {
				static const unsigned MW[7] = {50, 40, 20, 10, 3, 1, 2};
				int a = rng_pick(&pr, MW, 7), b;
				do
					b = rng_pick(&pr, MW, 7);
				while (b == a);
				set[a] = set[b] = 1;
				if (rng_chance(&pr, 1500)) {
					int c;
					do
						c = rng_pick(&pr, MW, 7);
					while (c == a || c == b);
					set[c] = 1;
				}
			} else if (p->form != F_U) {
				int fm = p->form == F_ADOP ? F_OTH : p->form; /* no adoption column */
				for (int k = 0; k < 7; k++)
					set[k] = DE_FLAG_FORM[k] == fm;
			}
			int nset = 0, last = -1;
			for (int k = 0; k < 7; k++) {
				snprintf(f[11 + k], sizeof f[11 + k], "%s", set[k] ? YES[st] : NO[st]);
				if (set[k])
					nset++, last = k;
			}
			sbuf note = {0};
			if (rng_chance(&pr, 3500))
				de_note(g, &pr, R, &note);
			for (int k = 0; k < 18; k++) {
				sb_field(&out, f[k], ';');
				sb_put(&out, ";", 1);
			}
			sb_field(&out, note.s ? note.s : "", ';');
			sb_put(&out, "\n", 1);
			sb_free(&note);
			const char *form = nset == 0 ? "U" : nset == 1 ? FORM_CODE[DE_FLAG_FORM[last]] : "MIX";
			truth_record(&truth, R->iso3, p->year, p->month, p->ind, p->sex, age, form,
			             p->cit >= 0 ? CT[p->cit].iso3 : "U");
		}
		if (nr > 0) {
			char rel[256];
			sbuf lat = {0};
			to_latin1(&out, &lat);
			snprintf(rel, sizeof rel, "de_case/%s_%d.csv", R->iso3, y);
			write_submission(g, rel, &lat);
			write_truth(g, rel, &truth, 0);
			g->rows_by_layout[L_DE] += nr;
			sb_free(&lat);
		}
		sb_free(&out);
		sv_free(&truth);
	}
}

/* ------------------------------------------------------------------------
 * Layout b: es_case
 * ---------------------------------------------------------------------- */

static const char ES_HEADER[] =
	"id_caso,pais_informante,fecha_registro,calidad,nombre_completo,documento_identidad,"
	"sexo,edad,nacionalidad,finalidad,fiscalia,observaciones";

static const char *es_form(rng *r, int form, int *truth_form)
{
	*truth_form = form;
	switch (form) {
	case F_SEX: {
		static const char *const V[] = {"explotación sexual", "Explotación sexual",
		                                "EXPLOTACIÓN SEXUAL", "explotacion sexual",
		                                " explotación  sexual "};
		return PICK(r, V);
	}
	case F_LAB: return rng_below(r, 2) ? "trabajo forzoso" : "explotación laboral";
	case F_CRIM: return "actividades delictivas forzadas";
	case F_BEG: return rng_below(r, 2) ? "mendicidad forzada" : "mendicidad";
	case F_MAR: return rng_below(r, 3) ? "matrimonio forzado" : "matrimonio servil";
	case F_ORG: return "extracción de órganos";
	case F_ADOP: return "adopción ilegal";
	case F_MIX: return rng_below(r, 2) ? "mixta" : "explotación mixta";
	case F_OTH:
		if (rng_chance(r, 3000)) {
			/* values the mapping does not list: the fallback (OTH) applies */
			static const char *const V[] = {"reclutamiento forzado", "embarazo forzado",
			                                "venta de niños y niñas", "servidumbre por deudas"};
			return PICK(r, V);
		}
		return "otros fines";
	default: return rng_below(r, 4) ? "sin información" : "sin dato";
	}
}

static void render_es(gen *g, sim *s)
{
	static const char *const CAL_M[N_IND] = {"víctima", "investigado", "procesado", "condenado"};
	static const char *const CAL_F[N_IND] = {"víctima", "investigada", "procesada", "condenada"};
	static const char *const SEXO[4] = {"2", "1", "9", "9"};
	const reporter *R = s->R;
	for (int y = FIRST_YEAR; y <= LAST_YEAR; y++) {
		sbuf out = {0};
		strv truth = {0};
		int nr = 0;
		sb_puts(&out, "\xEF\xBB\xBF");
		sb_puts(&out, ES_HEADER);
		sb_puts(&out, "\r\n");
		for (size_t i = 0; i < s->n; i++) {
			const person *p = &s->p[i];
			if (p->year != y)
				continue;
			/* identifiers and value spellings: by person (pid), so a
			 * re-report repeats the person's name and document */
			rng pr, vr;
			rng_seed(&pr, hash_str(R->iso3) ^ 0xE5, (uint64_t)p->pid);
			rng_seed(&vr, hash_str(R->iso3) ^ 0xE6,
			         (uint64_t)p->pid * 16 + p->ind * 4u + p->rerep);
			char f[12][400];
			snprintf(f[0], sizeof f[0], "%s-%c-%d-%05d", s->C->iso2, p->idns ? 'I' : 'V',
			         p->idyear, p->idno);
			snprintf(f[1], sizeof f[1], "%s", R->local ? R->local : s->C->name);
			snprintf(f[2], sizeof f[2], "%02d/%02d/%04d", p->day, p->month, p->year);
			snprintf(f[3], sizeof f[3], "%s", p->sex == SX_F ? CAL_F[p->ind] : CAL_M[p->ind]);
			f[4][0] = f[5][0] = '\0';
			if (rng_chance(&pr, 9000)) {
				name_es(&pr, p->sex, f[4], sizeof f[4]);
				plant(g, f[4]);
			}
			if (rng_chance(&pr, 7500)) {
				char d7[8];
				unsigned n1 = rng_below(&pr, 10);
				char c2 = rare_letter(&pr);
				digits(&pr, d7, 7);
				snprintf(f[5], sizeof f[5], "%s%u%c%s", s->C->iso2, n1, c2, d7);
				plant(g, f[5]);
			}
			snprintf(f[6], sizeof f[6], "%s", SEXO[p->sex]);
			if (p->age >= 0)
				snprintf(f[7], sizeof f[7], "%d", p->age);
			else
				f[7][0] = '\0';
			snprintf(f[8], sizeof f[8], "%s", p->cit >= 0 ? CT[p->cit].iso2 : "ZZ");
			int tf;
			snprintf(f[9], sizeof f[9], "%s", es_form(&vr, p->form, &tf));
			char place[64];
			list_item(R->places, rng_below(&vr, 16), place, sizeof place);
			if (rng_below(&vr, 3))
				snprintf(f[10], sizeof f[10], "FISTRAP %s", place);
			else
				snprintf(f[10], sizeof f[10], "Unidad de Trata, %s", place);
			f[11][0] = '\0';
			if (rng_chance(&vr, 4000)) {
				char nm[96], ph[64];
				name_es(&vr, SX_U, nm, sizeof nm);
				phone(&vr, R->phone, ph, sizeof ph);
				plant(g, nm);
				plant(g, ph);
				switch (rng_below(&vr, 3)) {
				case 0:
					snprintf(f[11], sizeof f[11], "Rescatada en operativo en %s, derivada a "
					         "albergue; contacto de la madre %s, tel. %s", place, nm, ph);
					break;
				case 1:
					snprintf(f[11], sizeof f[11], "Denuncia anónima, línea 1818; empleador %s "
					         "(celular %s), caso \"reservado\"", nm, ph);
					break;
				default:
					snprintf(f[11], sizeof f[11], "Testigo: %s, %s; fecha de audiencia por "
					         "confirmar", nm, ph);
					break;
				}
			}
			for (int k = 0; k < 12; k++) {
				if (k)
					sb_put(&out, ",", 1);
				sb_field(&out, f[k], ',');
			}
			sb_puts(&out, "\r\n");
			nr++;
			if (p->dup)
				continue; /* keep-first: the double entry gives no row */
			char cit[4];
			snprintf(cit, sizeof cit, "%s", p->cit >= 0 ? CT[p->cit].iso3 : "U");
			static const int SEX_T[4] = {SX_F, SX_M, SX_U, SX_U}; /* 2, 1, 9 */
			truth_record(&truth, R->iso3, p->year, p->month, p->ind, SEX_T[p->sex], p->age,
			             FORM_CODE[tf], cit);
		}
		if (nr > 0) {
			char rel[256];
			snprintf(rel, sizeof rel, "es_case/%s_%d.csv", R->iso3, y);
			write_submission(g, rel, &out);
			write_truth(g, rel, &truth, 0);
			g->rows_by_layout[L_ES] += nr;
		}
		sb_free(&out);
		sv_free(&truth);
	}
}

/* ------------------------------------------------------------------------
 * Layout c: en_case
 * ---------------------------------------------------------------------- */

static const char EN_HEADER[] =
	"case_ref\treporting_country\trecord_type\tdate_identified\tfull_name\tpassport_no\t"
	"sex\tage_group\texploitation\tcitizenship\tdistrict\tnotes";

static const char *en_form(rng *r, int form)
{
	switch (form) {
	case F_SEX: return rng_below(r, 4) ? "sexual exploitation" : "Sexual Exploitation";
	case F_LAB: {
		static const char *const V[] = {"forced labor", "forced labour", "forced labor",
		                                "domestic servitude"};
		return PICK(r, V);
	}
	case F_CRIM: return "forced criminality";
	case F_BEG: return "forced begging";
	case F_MAR: return "forced marriage";
	case F_ORG: return "organ removal";
	case F_ADOP: return "illegal adoption";
	case F_MIX: return "mixed";
	case F_OTH: return "other";
	default: return "unknown";
	}
}

static void render_en(gen *g, sim *s)
{
	static const char *const TYPE[N_IND] = {"victim", "suspect", "prosecuted", "convicted"};
	static const char *const ORG[] = {"AHTU", "IOM", "Labour Inspectorate", "Social Welfare",
	                                  "Immigration Service", "Church shelter"};
	const reporter *R = s->R;
	for (int y = FIRST_YEAR; y <= LAST_YEAR; y++) {
		sbuf out = {0};
		strv truth = {0};
		int nr = 0;
		sb_puts(&out, EN_HEADER);
		sb_put(&out, "\n", 1);
		for (size_t i = 0; i < s->n; i++) {
			const person *p = &s->p[i];
			if (p->year != y)
				continue;
			rng pr;
			rng_seed(&pr, hash_str(R->iso3) ^ 0xE7, (uint64_t)p->pid);
			char f[12][400];
			snprintf(f[0], sizeof f[0], "%s/%s/%d/%05d", s->C->iso2, p->idns ? "CR" : "VR",
			         p->idyear, p->idno);
			snprintf(f[1], sizeof f[1], "%s", R->iso3);
			snprintf(f[2], sizeof f[2], "%s", TYPE[p->ind]);
			snprintf(f[3], sizeof f[3], "%04d-%02d-%02d", p->year, p->month, p->day);
			f[4][0] = f[5][0] = '\0';
			if (rng_chance(&pr, 8500)) {
				name_en(&pr, p->sex, f[4], sizeof f[4]);
				plant(g, f[4]);
			}
			if (rng_chance(&pr, 6000)) {
				char d7[8];
				digits(&pr, d7, 7);
				snprintf(f[5], sizeof f[5], "%c%c%s", s->C->iso2[0], rare_letter(&pr), d7);
				plant(g, f[5]);
			}
			/* sex: "U" mostly, sometimes empty (mapped) or "?" (fallback) */
			int sex = p->sex;
			if (sex == SX_U)
				snprintf(f[6], sizeof f[6], "%s",
				         rng_below(&pr, 5) < 3 ? "U" : rng_below(&pr, 2) ? "" : "?");
			else
				snprintf(f[6], sizeof f[6], "%s", SEX_CODE[sex]);
			const char *grp = group_code(p->age);
			if (p->age < 0) {
				static const char *const UNK[] = {"unknown", "unknown", "n/k", ""};
				snprintf(f[7], sizeof f[7], "%s", PICK(&pr, UNK));
			} else {
				snprintf(f[7], sizeof f[7], "%s", p->age < 18 ? "0-17" : "18+");
			}
			snprintf(f[8], sizeof f[8], "%s", en_form(&pr, p->form));
			snprintf(f[9], sizeof f[9], "%s", p->cit >= 0 ? CT[p->cit].iso3 : "UNK");
			list_item(R->places, rng_below(&pr, 16), f[10], sizeof f[10]);
			f[11][0] = '\0';
			if (rng_chance(&pr, 3500)) {
				char nm[96], ph[64];
				name_en(&pr, SX_U, nm, sizeof nm);
				phone(&pr, R->phone, ph, sizeof ph);
				plant(g, nm);
				plant(g, ph);
				if (rng_below(&pr, 2))
					snprintf(f[11], sizeof f[11], "referred by %s; guardian %s can be "
					         "reached on %s", PICK(&pr, ORG), nm, ph);
				else
					snprintf(f[11], sizeof f[11], "recruiter known as %s, phone %s, "
					         "promised work abroad", nm, ph);
			}
			for (int k = 0; k < 12; k++) {
				if (k)
					sb_put(&out, "\t", 1);
				sb_field(&out, f[k], '\t');
			}
			sb_put(&out, "\n", 1);
			nr++;
			const char *fc = FORM_CODE[p->form];
			truth_record_group(&truth, R->iso3, p->year, p->month, p->ind, sex, grp, fc,
			                   p->cit >= 0 ? CT[p->cit].iso3 : "U");
		}
		if (nr > 0) {
			char rel[256];
			snprintf(rel, sizeof rel, "en_case/%s_%d.tsv", R->iso3, y);
			write_submission(g, rel, &out);
			write_truth(g, rel, &truth, 0);
			g->rows_by_layout[L_EN] += nr;
		}
		sb_free(&out);
		sv_free(&truth);
	}
}

/* ------------------------------------------------------------------------
 * Aggregate cells and the additivity rule (docs/standard.md): a total is
 * flagged 'a' when the interval of the sum of its direct parts along one
 * dimension does not meet the total's own interval.  A direct part has
 * exactly one dimension broken down one level further (a code where the
 * total has _T; for age, a band under the total's group, or a group under
 * _T) and is equal on every other dimension.
 * ---------------------------------------------------------------------- */

#define TOT (-2)
#define UNK (-3)

typedef struct cell {
	int sex;    /* SX_*, TOT */
	int age;    /* -1 group Y0T17 is coded 100, Y_GE18 101, U 102; band 0..9; TOT */
	int form;   /* F_*, TOT */
	int cit;    /* CT index, UNK, TOT */
	long lo, hi; /* hi < 0: unbounded */
	int cens, dupl, nonadd;
} cell;

enum { AG_MINOR = 100, AG_ADULT = 101, AG_U = 102 };

static const char *age_cell_code(int a)
{
	if (a == TOT) return "_T";
	if (a == AG_MINOR) return "Y0T17";
	if (a == AG_ADULT) return "Y_GE18";
	if (a == AG_U) return "U";
	return BAND[a].code;
}

static int age_parent(int a)
{
	if (a >= 0 && a < N_BAND)
		return BAND[a].lo < 18 ? AG_MINOR : AG_ADULT;
	return TOT; /* groups (and U) roll up into the total */
}

/* Is b a direct part of t, and along which dimension (0..3)? */
static int is_part(const cell *t, const cell *b, int *dim)
{
	int diff = 0, which = -1;
	if (t->sex != b->sex) {
		if (t->sex != TOT || b->sex == TOT)
			return 0;
		diff++, which = 0;
	}
	if (t->age != b->age) {
		if (b->age == TOT || age_parent(b->age) != t->age)
			return 0;
		diff++, which = 1;
	}
	if (t->form != b->form) {
		if (t->form != TOT || b->form == TOT)
			return 0;
		diff++, which = 2;
	}
	if (t->cit != b->cit) {
		if (t->cit != TOT || b->cit == TOT)
			return 0;
		diff++, which = 3;
	}
	*dim = which;
	return diff == 1;
}

static void check_additivity(cell *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (int dim = 0; dim < 4; dim++) {
			long lo = 0, hi = 0;
			int unbounded = 0, parts = 0;
			for (size_t j = 0; j < n; j++) {
				int d;
				if (j == i || !is_part(&c[i], &c[j], &d) || d != dim)
					continue;
				parts++;
				lo += c[j].lo;
				if (c[j].hi < 0)
					unbounded = 1;
				else
					hi += c[j].hi;
			}
			if (!parts)
				continue;
			int meets = !(c[i].hi >= 0 && lo > c[i].hi) && (unbounded || hi >= c[i].lo);
			if (!meets)
				c[i].nonadd = 1;
		}
	}
}

static void truth_cell(strv *t, const char *iso3, const char *period, int ind, const cell *c)
{
	char hi[24] = "", flags[4];
	int k = 0;
	if (c->hi >= 0)
		snprintf(hi, sizeof hi, "%ld", c->hi);
	if (c->nonadd) flags[k++] = 'a';
	if (c->cens) flags[k++] = 'c';
	if (c->dupl) flags[k++] = 'd';
	flags[k] = '\0';
	sv_addf(t, "%s,%s,%s,%s,%s,%s,%s,%ld,%s,%s", iso3, period, IND_CODE[ind],
	        c->sex == TOT ? "_T" : SEX_CODE[c->sex], age_cell_code(c->age),
	        c->form == TOT ? "_T" : FORM_CODE[c->form],
	        c->cit == TOT ? "_T" : c->cit == UNK ? "U" : CT[c->cit].iso3, c->lo, hi, flags);
}

/* ------------------------------------------------------------------------
 * Layout d: unodc_long
 * ---------------------------------------------------------------------- */

static const char UNODC_HEADER[] =
	"Iso3_code,Country,Region,Subregion,Indicator,Dimension,Category,Sex,Age,Year,"
	"Unit of measurement,VALUE\n";
static const char *const UNODC_IND[N_IND] = {"Detected trafficking victims",
                                             "Persons brought into formal contact",
                                             "Persons prosecuted", "Persons convicted"};
static const char *const UNODC_FORM[N_FORM] = {
	"Sexual exploitation", "Forced labour", "Forced criminal activity", "Forced begging",
	"Forced marriage", "Removal of organs", "Illegal adoption", "Mixed exploitation",
	"Other purposes", "Not specified"};

/* Cell value as written, and its interval. */
static void unodc_value(const reporter *R, int ind, int agev, long v, char *out, size_t sz,
                        cell *c)
{
	c->cens = 0;
	/* Egypt records no age for offenders: age cells are ".." */
	if (!strcmp(R->iso3, "EGY") && ind != IND_VIC && agev != TOT) {
		snprintf(out, sz, "..");
		c->lo = 0, c->hi = -1, c->cens = 1;
	} else if (R->censor && v >= 1 && v <= 4) {
		snprintf(out, sz, "<5");
		c->lo = 0, c->hi = 4, c->cens = 1;
	} else {
		snprintf(out, sz, "%ld", v);
		c->lo = c->hi = v;
	}
}

static int cmp_cit_name(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return strcmp(CT[x].name, CT[y].name);
}

static void render_unodc(gen *g, sim *s)
{
	const reporter *R = s->R;
	static const char *const SEXN[3] = {"Total", "Female", "Male"};
	static const char *const AGEN[3] = {"Total", "Adult", "Minor"};
	static const int SEXV[3] = {TOT, SX_F, SX_M};
	static const int AGEV[3] = {TOT, AG_ADULT, AG_MINOR};
	for (int y = FIRST_YEAR; y <= LAST_YEAR; y++) {
		int yi = y - FIRST_YEAR, any = 0;
		for (int q = 0; q < 4; q++)
			any |= s->active[yi * 4 + q];
		if (!any)
			continue;
		int fi = y <= 2021 ? 0 : 1;
		sbuf *out = &g->unodc[fi];
		char period[24];
		snprintf(period, sizeof period, "%d", y);
		for (int ind = 0; ind < N_IND; ind++) {
			/* counts[form+1][sex][age]: index 0 of form = all forms */
			static long cnt[N_FORM + 1][3][3];
			long *cit = xrealloc(NULL, (N_CT + 1) * sizeof *cit);
			memset(cnt, 0, sizeof cnt);
			memset(cit, 0, (N_CT + 1) * sizeof *cit);
			for (size_t i = 0; i < s->n; i++) {
				const person *p = &s->p[i];
				if (p->year != y || p->ind != ind)
					continue;
				if (p->sex > SX_M || p->age < 0)
					die("unodc layout: unknown sex or age");
				int sx = p->sex == SX_F ? 1 : 2, ag = p->age >= 18 ? 1 : 2;
				for (int a = 0; a < 2; a++)
					for (int b = 0; b < 2; b++) {
						cnt[0][a ? sx : 0][b ? ag : 0]++;
						cnt[1 + p->form][a ? sx : 0][b ? ag : 0]++;
					}
				cit[p->cit >= 0 ? p->cit : N_CT]++;
			}
			cell cells[2048];
			size_t nc = 0;
			char val[16];
			/* Dimension Total: sex x age grid */
			for (int fidx = 0; fidx <= (ind == IND_VIC ? N_FORM : 0); fidx++) {
				if (fidx > 0 && cnt[fidx][0][0] == 0)
					continue;
				for (int a = 0; a < 3; a++)
					for (int b = 0; b < 3; b++) {
						cell *c = &cells[nc++];
						memset(c, 0, sizeof *c);
						c->sex = SEXV[a];
						c->age = AGEV[b];
						c->form = fidx ? fidx - 1 : TOT;
						c->cit = TOT;
						long v = cnt[fidx][a][b];
						if (fidx == 0 && a == 0 && b == 0 && ind == IND_VIC &&
						    !strcmp(R->iso3, NONADD_ISO3) && y == NONADD_YEAR)
							v += NONADD_EXTRA;
						unodc_value(R, ind, c->age, v, val, sizeof val, c);
						sb_printf(out, "%s,", R->iso3);
						sb_field(out, s->C->name, ',');
						sb_printf(out, ",%s,", s->S->region_name);
						sb_field(out, s->S->name, ',');
						sb_printf(out, ",%s,%s,%s,%s,%s,%d,Counts,%s\n", UNODC_IND[ind],
						          fidx ? "by form of exploitation" : "Total",
						          fidx ? UNODC_FORM[fidx - 1] : "Total", SEXN[a], AGEN[b], y,
						          val);
					}
			}
			if (ind == IND_VIC) {
				int order[N_CT + 1], no = 0;
				for (int k = 0; k < N_CT; k++)
					if (cit[k])
						order[no++] = k;
				qsort(order, (size_t)no, sizeof *order, cmp_cit_name);
				if (cit[N_CT])
					order[no++] = N_CT;
				for (int k = 0; k < no; k++) {
					cell *c = &cells[nc++];
					memset(c, 0, sizeof *c);
					c->sex = c->age = c->form = TOT;
					c->cit = order[k] == N_CT ? UNK : order[k];
					unodc_value(R, ind, TOT, cit[order[k]], val, sizeof val, c);
					sb_printf(out, "%s,", R->iso3);
					sb_field(out, s->C->name, ',');
					sb_printf(out, ",%s,", s->S->region_name);
					sb_field(out, s->S->name, ',');
					sb_printf(out, ",%s,by citizenship,", UNODC_IND[ind]);
					sb_field(out, order[k] == N_CT ? "Unknown" : CT[order[k]].name, ',');
					sb_printf(out, ",Total,Total,%d,Counts,%s\n", y, val);
				}
			}
			if (nc > sizeof cells / sizeof *cells)
				die("too many cells");
			check_additivity(cells, nc);
			for (size_t k = 0; k < nc; k++) {
				if (cells[k].nonadd) {
					if (strcmp(R->iso3, NONADD_ISO3) || y != NONADD_YEAR || ind != IND_VIC ||
					    cells[k].sex != TOT || cells[k].age != TOT || cells[k].form != TOT ||
					    cells[k].cit != TOT)
						die("unplanned non-additive total in %s %d", R->iso3, y);
					g->nonadd_flagged++;
				}
				truth_cell(&g->unodc_truth[fi], R->iso3, period, ind, &cells[k]);
			}
			g->rows_by_layout[L_UNODC] += (long)nc;
			free(cit);
		}
	}
}

/* ------------------------------------------------------------------------
 * Layout e: pipe_quarterly
 * ---------------------------------------------------------------------- */

static void render_pipe(gen *g, sim *s)
{
	static const char *const SEXW[3] = {"F", "M", "X"};
	static const char *const FORMW[N_FORM] = {"sexual", "labour", "criminal", "begging",
	                                          "marriage", "organs", "adoption", "mixed",
	                                          "other", "unknown"};
	const reporter *R = s->R;
	for (int qi = 0; qi < NQ; qi++) {
		if (!s->active[qi])
			continue;
		int y = FIRST_YEAR + qi / 4, q = qi % 4 + 1;
		/* counts[office][sex F/M/X][age band 0..9, 10 = unknown][form] */
		static long cnt[4][3][N_BAND + 1][N_FORM];
		memset(cnt, 0, sizeof cnt);
		for (size_t i = 0; i < s->n; i++) {
			const person *p = &s->p[i];
			if (p->qi != qi || p->ind != IND_VIC)
				continue;
			int sx = p->sex == SX_F ? 0 : p->sex == SX_M ? 1 : 2;
			int ag = p->age >= 0 ? band_of(p->age) : N_BAND;
			cnt[p->office][sx][ag][p->form]++;
		}
		sbuf out = {0};
		strv truth = {0};
		sb_puts(&out, "Identified presumed victims of trafficking in human beings\n");
		sb_printf(&out, "Reporting country: %s - reporting period: Q%d %d\n", s->C->name, q, y);
		sb_puts(&out, "ISO2|Quarter|Office|Sex|Age band|Exploitation type|Victims\n");
		int rows = 0;
		for (int o = 0; o < (R->offices > 0 ? R->offices : 1); o++) {
			char office[64];
			list_item(R->places, (unsigned)o, office, sizeof office);
			for (int sx = 0; sx < 3; sx++)
				for (int ag = 0; ag <= N_BAND; ag++)
					for (int f = 0; f < N_FORM; f++) {
						long v = cnt[o][sx][ag][f];
						if (!v)
							continue;
						char val[16];
						if (R->censor && v <= 4)
							snprintf(val, sizeof val, "1-4");
						else
							snprintf(val, sizeof val, "%ld", v);
						sb_printf(&out, "%s|Q%d %d|%s|%s|%s|%s|%s\n", s->C->iso2, q, y, office,
						          SEXW[sx], ag == N_BAND ? "unknown" : BAND[ag].label, FORMW[f],
						          val);
						rows++;
					}
		}
		/* truth: the same cell from several offices is summed (duplicates = sum) */
		char period[24];
		snprintf(period, sizeof period, "%d-Q%d", y, q);
		for (int sx = 0; sx < 3; sx++)
			for (int ag = 0; ag <= N_BAND; ag++)
				for (int f = 0; f < N_FORM; f++) {
					cell c;
					memset(&c, 0, sizeof c);
					int nrows = 0;
					for (int o = 0; o < 4; o++) {
						long v = cnt[o][sx][ag][f];
						if (!v)
							continue;
						nrows++;
						if (R->censor && v <= 4)
							c.lo += 1, c.hi += 4, c.cens = 1;
						else
							c.lo += v, c.hi += v;
					}
					if (!nrows)
						continue;
					c.dupl = nrows > 1;
					c.sex = sx == 0 ? SX_F : sx == 1 ? SX_M : SX_U; /* X = not specified */
					c.age = ag == N_BAND ? AG_U : ag;
					c.form = f;
					c.cit = TOT;
					truth_cell(&truth, R->iso3, period, IND_VIC, &c);
				}
		char rel[256];
		snprintf(rel, sizeof rel, "pipe_quarterly/%s_%d-Q%d.txt", R->iso3, y, q);
		write_submission(g, rel, &out);
		write_truth(g, rel, &truth, 1);
		g->rows_by_layout[L_PIPE] += rows;
		sb_free(&out);
		sv_free(&truth);
	}
}

/* ------------------------------------------------------------------------ */

static void usage(FILE *fp)
{
	fputs("usage: gen_synth OUTDIR\n"
	      "\n"
	      "Writes deterministic synthetic national trafficking-in-persons submissions\n"
	      "in five layouts (datasets/mappings/*.map) under OUTDIR/submissions/, and for\n"
	      "each file the harmonised rows tipstat ingest must produce under\n"
	      "OUTDIR/truth/<same path>.std.csv, plus OUTDIR/truth/planted_identifiers.txt\n"
	      "(identifier values planted in dropped columns; none may reach any output).\n"
	      "The output is byte-identical on every machine.  Generate into an empty\n"
	      "directory: existing files are overwritten, stale ones are not removed.\n",
	      fp);
}

int main(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		usage(stderr);
		return 64;
	}
	gen g;
	memset(&g, 0, sizeof g);
	g.outdir = argv[1];
	mkdirs(g.outdir);
	for (int k = 0; k < 2; k++)
		sb_puts(&g.unodc[k], UNODC_HEADER);

	for (int i = 0; i < N_REP; i++) {
		sim s;
		simulate(&s, &REP[i]);
		for (int y = 0; y < NYEARS; y++)
			g.victims_by_year[y] += s.victims_by_year[y];
		switch (REP[i].layout) {
		case L_DE: render_de(&g, &s); break;
		case L_ES: render_es(&g, &s); break;
		case L_EN: render_en(&g, &s); break;
		case L_UNODC: render_unodc(&g, &s); break;
		default: render_pipe(&g, &s); break;
		}
		free(s.p);
	}
	if (g.nonadd_flagged != 1)
		die("expected exactly one non-additive total, found %d", g.nonadd_flagged);
	static const char *const UNODC_FILE[2] = {"unodc_long/unodc_tip_2019-2021.csv",
	                                          "unodc_long/unodc_tip_2022-2024.csv"};
	for (int k = 0; k < 2; k++) {
		write_submission(&g, UNODC_FILE[k], &g.unodc[k]);
		write_truth(&g, UNODC_FILE[k], &g.unodc_truth[k], 1);
		sb_free(&g.unodc[k]);
		sv_free(&g.unodc_truth[k]);
	}

	/* planted identifiers: sorted, unique */
	qsort(g.planted.v, g.planted.n, sizeof *g.planted.v, cmp_str);
	sbuf pb = {0};
	size_t distinct = 0;
	for (size_t i = 0; i < g.planted.n; i++) {
		if (i && !strcmp(g.planted.v[i], g.planted.v[i - 1]))
			continue;
		sb_puts(&pb, g.planted.v[i]);
		sb_put(&pb, "\n", 1);
		distinct++;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/truth/planted_identifiers.txt", g.outdir);
	write_file(path, pb.s, pb.n);
	sb_free(&pb);
	sv_free(&g.planted);

	printf("gen_synth: %zu files, %zu planted identifiers; rows:", g.files + 1, distinct);
	for (int l = 0; l < N_LAYOUT; l++)
		printf(" %s %ld", LAYOUT_DIR[l], g.rows_by_layout[l]);
	printf("\ngen_synth: detected victims (distinct persons) by year, %d countries:", N_REP);
	for (int y = 0; y < NYEARS; y++)
		printf(" %d %ld", FIRST_YEAR + y, g.victims_by_year[y]);
	printf("\n");
	return 0;
}
