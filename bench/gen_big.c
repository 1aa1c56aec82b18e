/* gen_big: a big deterministic national case file for `make bench`.
 *
 *   gen_big ROWS OUT.csv [SEED]
 *
 * Writes ROWS data rows in the bundled es_case layout
 * (datasets/mappings/es_case.map: UTF-8 with BOM, CRLF, comma-separated,
 * header on line 1) for one reporting country (Perú), dates 2019-2024.
 * Every row ingests cleanly with es_case.map.  The file has what real
 * exports have: quoted fields with embedded commas ("Unidad de Trata,
 * Lima") and doubled quotes (caso ""reservado""), direct identifiers
 * (name, identity document) and a free-text column that is mostly empty
 * and sometimes long.  About 97 bytes a row, so 10M rows are about 1 GB.
 *
 * Same ROWS and SEED, same bytes (splitmix64, no clock, no locale).  The
 * case ids are unique, so no row is a duplicate.
 *
 * Build: cc -O2 -o gen_big bench/gen_big.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t st;
static uint64_t rnd(void)
{
	uint64_t z = (st += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}
static unsigned below(unsigned n) { return (unsigned)(rnd() % n); }

#define PICK(a) (a[below(sizeof a / sizeof a[0])])

static const char *const GIVEN_F[] = {"Rosa", "María", "Yoselin", "Dorotea", "Nayeli",
                                      "Flor", "Ana Lucía", "Quispe"};
static const char *const GIVEN_M[] = {"Fulgencio", "Wilmer", "Anacleto", "Eustaquio",
                                      "Segundo", "Juan", "Percy"};
static const char *const SUR[] = {"Mamani", "Quispe", "Huamán", "Condori", "Ccoyllipoma",
                                  "Zapquezqui", "Pfuyuchez", "Ytuarrombra", "Flores"};
static const char *const PLACE[] = {"Lima", "Cusco", "Arequipa", "Madre de Dios", "Puno"};
static const char *const NAC[] = {"PE", "PE", "PE", "PE", "VE", "CO", "BO", "EC", "ZZ", ""};
static const char *const FORM[] = {
	"explotación sexual", "explotación sexual", "Explotación sexual", "explotacion sexual",
	"trabajo forzoso", "explotación laboral", "explotación laboral",
	"actividades delictivas forzadas", "mendicidad forzada", "matrimonio forzado",
	"extracción de órganos", "adopción ilegal", "mixta", "otros fines",
	"reclutamiento forzado", "sin información"};
static const char *const CAL_M[] = {"víctima", "investigado", "procesado", "condenado"};
static const char *const CAL_F[] = {"víctima", "investigada", "procesada", "condenada"};

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: gen_big ROWS OUT.csv [SEED]\n");
		return 64;
	}
	unsigned long long rows = strtoull(argv[1], NULL, 10);
	st = argc > 3 ? strtoull(argv[3], NULL, 10) : 20241;
	FILE *fp = fopen(argv[2], "wb");
	if (!fp) {
		perror(argv[2]);
		return 73;
	}
	static char iobuf[1 << 20];
	setvbuf(fp, iobuf, _IOFBF, sizeof iobuf);
	fputs("\xEF\xBB\xBFid_caso,pais_informante,fecha_registro,calidad,nombre_completo,"
	      "documento_identidad,sexo,edad,nacionalidad,finalidad,fiscalia,observaciones\r\n",
	      fp);
	for (unsigned long long i = 1; i <= rows; i++) {
		unsigned ind = below(10) < 6 ? 0 : 1 + below(3);
		unsigned sx = below(20); /* 2 mujer, 1 hombre, 9 sin dato */
		int fem = sx < 13, unk = sx == 19;
		int year = 2019 + (int)below(6), month = 1 + (int)below(12), day = 1 + (int)below(28);
		char name[96] = "", doc[16] = "", age[4] = "", note[200] = "";
		if (below(2)) {
			if (below(8) == 0) /* "Surname Surname, Given": quoted, embedded comma */
				snprintf(name, sizeof name, "\"%s %s, %s\"", PICK(SUR), PICK(SUR),
				         fem ? PICK(GIVEN_F) : PICK(GIVEN_M));
			else
				snprintf(name, sizeof name, "%s %s", fem ? PICK(GIVEN_F) : PICK(GIVEN_M),
				         PICK(SUR));
		}
		if (below(3) == 0)
			snprintf(doc, sizeof doc, "PE%u%c%07u", below(10), 'A' + below(26),
			         below(10000000));
		if (below(12))
			snprintf(age, sizeof age, "%u", ind == 0 ? 6 + below(50) : 18 + below(50));
		switch (below(16)) {
		case 0:
			snprintf(note, sizeof note, "\"Denuncia anónima, línea 1818; empleador %s %s "
			         "(celular +51 9%08u), caso \"\"reservado\"\"\"",
			         PICK(GIVEN_M), PICK(SUR), below(100000000));
			break;
		case 1:
			snprintf(note, sizeof note, "\"Rescatada en %s, derivada a albergue\"",
			         PICK(PLACE));
			break;
		case 2:
			snprintf(note, sizeof note, "sin observaciones");
			break;
		default:
			break;
		}
		const char *place = PICK(PLACE);
		int unit = below(3) != 0; /* "Unidad de Trata, Lima" needs quotes */
		fprintf(fp, "PE-%c-%d-%07llu,Perú,%02d/%02d/%04d,%s,%s,%s,%s,%s,%s,%s,%s%s%s,%s\r\n",
		        ind ? 'I' : 'V', year, i, day, month, year,
		        fem ? CAL_F[ind] : CAL_M[ind], name, doc, unk ? "9" : fem ? "2" : "1", age,
		        PICK(NAC), PICK(FORM), unit ? "\"Unidad de Trata, " : "FISTRAP ", place,
		        unit ? "\"" : "", note);
	}
	if (fclose(fp) != 0) {
		perror(argv[2]);
		return 74;
	}
	return 0;
}
