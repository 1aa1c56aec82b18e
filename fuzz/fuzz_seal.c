/* libFuzzer harness: opening a sealed package.  At start-up a real package
 * is sealed with fixed keys.  An input whose first byte is even is a list
 * of edits to that valid package (a truncation length, then (offset, xor)
 * pairs), so the fuzzer explores near-valid headers, key boxes and chunks;
 * an odd first byte means the rest is a package as is.  Only the unedited
 * package may ever open. */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ingest/keys.h"
#include "ingest/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct setup {
	keys_aggregator_secret *agg;
	keys_office_secret *office;
	unsigned char *pkg;
	size_t pkg_len;
} setup;

static void make_package(setup *s)
{
	char data[] = "/tmp/fuzz_seal_dataXXXXXX", man[] = "/tmp/fuzz_seal_manXXXXXX";
	char out[] = "/tmp/fuzz_seal_pkgXXXXXX";
	int fd1 = mkstemp(data), fd2 = mkstemp(man), fd3 = mkstemp(out);
	if (fd1 < 0 || fd2 < 0 || fd3 < 0)
		abort();
	static const char body[] = "country,period,indicator,sex,age,form,citizenship,lo,hi,flags\n"
	                           "DEU,2024,VIC,F,Y0T17,_T,_T,2,2,\n";
	static const char mf[] = "{\"kind\": \"cells\", \"countries\": [\"DEU\"]}\n";
	if (write(fd1, body, sizeof body - 1) < 0 || write(fd2, mf, sizeof mf - 1) < 0)
		abort();
	close(fd1);
	close(fd2);
	close(fd3);
	diag d;
	diag_init(&d, 4);
	seal_meta meta = {.country = "DEU", .periods = "2024", .version = 1, .kind = SEAL_KIND_CELLS};
	if (seal_package(data, man, s->office, s->agg->pk, &meta, out, NULL, &d) != 0)
		abort();
	FILE *f = fopen(out, "rb");
	if (!f)
		abort();
	s->pkg = malloc(1 << 20);
	s->pkg_len = fread(s->pkg, 1, 1 << 20, f);
	fclose(f);
	unlink(data);
	unlink(man);
	unlink(out);
	diag_free(&d);
}

/* Fixed keys: derived from constant seeds so every run and the seed
 * packages in fuzz/seeds/fuzz_seal agree. */
static setup *the_setup(void)
{
	static setup s;
	static int loaded;
	if (!loaded) {
		diag d;
		diag_init(&d, 4);
		if (sodium_init() < 0 || keys_aggregator_new(1, &s.agg, &d) != 0 ||
		    keys_office_new("DEU", 1, &s.office, &d) != 0)
			abort();
		unsigned char seed[32];
		memset(seed, 1, sizeof seed);
		crypto_box_seed_keypair(s.agg->pk, s.agg->sk, seed);
		keys_id(s.agg->pk, s.agg->info.id);
		keys_id_hex(s.agg->info.id, s.agg->info.id_hex);
		memset(seed, 2, sizeof seed);
		crypto_sign_seed_keypair(s.office->pk, s.office->sk, seed);
		diag_free(&d);
		make_package(&s);
		loaded = 1;
	}
	return &s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup *s = the_setup();
	unsigned char *buf = NULL;
	int edited = 0;
	if (size >= 1 && !(data[0] & 1)) {
		/* edits to the valid package */
		size_t len = s->pkg_len;
		if (size >= 3) {
			size_t cut = ((size_t)data[1] << 8 | data[2]) % (s->pkg_len + 1);
			if (data[0] & 2)
				len = cut;
		}
		buf = malloc(len ? len : 1);
		memcpy(buf, s->pkg, len);
		for (size_t i = 3; i + 2 < size; i += 3) {
			size_t off = ((size_t)data[i] << 8 | data[i + 1]) % (len ? len : 1);
			if (len && data[i + 2]) {
				buf[off] ^= data[i + 2];
				edited = 1;
			}
		}
		edited |= len != s->pkg_len;
		data = buf;
		size = len;
	} else if (size >= 1) {
		data++;
		size--;
		edited = size != s->pkg_len || memcmp(data, s->pkg, size) != 0;
	}
	diag d;
	diag_init(&d, 4);
	unsigned char *out = NULL, *man = NULL;
	size_t out_len = 0, man_len = 0;
	seal_header h;
	if (seal_open_mem(data, size, s->agg, s->office->pk, &out, &out_len, &man, &man_len, &h,
	                  &d) == 0) {
		/* only the unedited package can open */
		if (edited || !out || !man || strcmp(h.country, "DEU") != 0)
			abort();
	} else if (out || man || d.code == 0) {
		abort();
	}
	free(out);
	free(man);
	free(buf);
	diag_free(&d);
	return 0;
}
