#!/usr/bin/env bash
# fuzz.sh SECONDS: build every fuzz/fuzz_*.c with libFuzzer + ASan + UBSan
# (clang) and run each for SECONDS, seeded from fuzz/seeds/<name>/ and the
# bundled data.  Fails on any crash, leak or sanitizer report; prints the
# executions per second and the corpus size of each harness.
set -euo pipefail
SECS=${1:-60}
cd "$(dirname "$0")/.."
B=build-fuzz
CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (apt-get install clang)" >&2; exit 1; }
FLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I. -g -O1 -DTIPSTAT_VERSION=\"fuzz\"
  -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
  $(pkg-config --cflags gsl libsodium sqlite3)"
LIBS="$(pkg-config --libs gsl libsodium sqlite3) -lcsv -lglpk -lpthread -lm"
mkdir -p "$B/obj"
objs=()
for f in core/*.c ingest/*.c aggregator/*.c privacy/*.c reports/*.c; do
	[ -f "$f" ] || continue
	o="$B/obj/$(echo "$f" | tr / _).o"
	if [ ! -f "$o" ] || [ "$f" -nt "$o" ]; then $CC $FLAGS -c "$f" -o "$o"; fi
	objs+=("$o")
done
rm -f "$B/libtipstat.a"
ar rcs "$B/libtipstat.a" "${objs[@]}"
status=0
for h in fuzz/fuzz_*.c; do
	name=$(basename "$h" .c)
	$CC $FLAGS -fsanitize=fuzzer "$h" "$B/libtipstat.a" $LIBS -o "$B/$name"
	corpus="$B/corpus-$name"
	mkdir -p "$corpus"
	seeds=()
	[ -d "fuzz/seeds/$name" ] && seeds+=("fuzz/seeds/$name")
	log="$B/$name.log"
	if ! "$B/$name" -max_total_time="$SECS" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -max_len=65536 "$corpus" "${seeds[@]}" >"$log" 2>&1; then
		echo "fuzz: $name FAILED (see $log)"; tail -n 40 "$log"; status=1; continue
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	size=$(ls "$corpus" | wc -l)
	echo "fuzz: $name ok: ${runs:-?} executions, ${secs:-?} exec/s, corpus $size inputs"
done
exit $status
