#!/usr/bin/env bash
# make bench: tipstat against its baselines, on the same generated file in
# the same run, and bench/results.md written from the measurements.
#
#   bash bench/run.sh BUILD_DIR            (make bench)
#
# Steps:
#   1. tools: /usr/bin/time (apt-get if missing), DuckDB through npm
#      (@duckdb/node-api into WORK/node; skipped with a note if npm fails)
#   2. build the bench programs (gen_big, csv_baseline, harm_count,
#      csvparse_bench, suppress_bench, dp_bench if bench/dp_bench.c exists)
#   3. per size N in BENCH_ROWS: generate the es_case file (bench/gen_big),
#      then BENCH_RUNS runs each of wc -l, libcsv parse, libcsv group-by,
#      DuckDB group-by, tipstat harmonise-and-count (without and with
#      pseudonyms), tipstat ingest; then seal, accept and aggregate of the
#      ingested submission (BENCH_PIPE_RUNS runs, default 1: they are the
#      slow stages)
#   4. csvr overhead (bench/csvparse_bench) and a perf profile of ingest
#   5. suppression + audit at 1k, 10k, 100k cells, each under a timeout
#   6. discrete Gaussian sampling (bench/dp_bench, when present)
#   7. bench/results.md (or BENCH_OUT)
#
# Environment:
#   BENCH_ROWS="1000000 3000000 10000000"   sizes; the largest is the headline
#   BENCH_RUNS=3            runs of each fast measurement (median reported)
#   BENCH_PIPE_RUNS=1       runs of seal / accept / aggregate
#   BENCH_QUICK=1           smoke test: tiny sizes, one run, 1k cells only
#   BENCH_WORK=bench/work   scratch directory (generated files; removed at
#                           the end unless KEEP=1)
#   BENCH_OUT=bench/results.md
#   BENCH_SUPP_SIZES="1k 10k 100k"  BENCH_SUPP_TIMEOUT=300 (seconds each;
#                           a size is not run once a smaller one timed out;
#                           BENCH_SUPP_SIZES="" skips suppression)
#   BENCH_DUCKDB=0          skip DuckDB;  BENCH_PROFILE=0  skip perf
#   BENCH_PROFILE_ROWS      size to profile (default: the largest, the 10M file)
#   BENCH_BEFORE_TIPSTAT=PATH  also time ingest with this (older) binary at
#                           the largest size: before/after of a speed-up
#   KEEP=1                  keep the generated files
#
# Times are wall-clock seconds from /usr/bin/time; CPU seconds (user+sys)
# are recorded too because the machine may be shared.  Ratios are
# baseline time / tipstat time: above 1 tipstat is faster.
set -euo pipefail

B=${1:?usage: run.sh BUILD_DIR}
B=$(cd "$B" && pwd)
REPO=$(cd "$(dirname "$0")/.." && pwd)
T=$B/tipstat
export TIPSTAT_DATASETS=$REPO/datasets
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	ROWS=${BENCH_ROWS:-"20000 50000 100000"}
	RUNS=${BENCH_RUNS:-1}
	SUPP_SIZES=${BENCH_SUPP_SIZES-"1k"}
	SUPP_TIMEOUT=${BENCH_SUPP_TIMEOUT:-20}
	PROFILE=${BENCH_PROFILE:-0}
	CSVR=${BENCH_CSVR:-0}
else
	ROWS=${BENCH_ROWS:-"1000000 3000000 10000000"}
	RUNS=${BENCH_RUNS:-3}
	SUPP_SIZES=${BENCH_SUPP_SIZES-"1k 10k 100k"}
	SUPP_TIMEOUT=${BENCH_SUPP_TIMEOUT:-300}
	PROFILE=${BENCH_PROFILE:-1}
	CSVR=${BENCH_CSVR:-1}
fi
PIPE_RUNS=${BENCH_PIPE_RUNS:-1}
DUCKDB=${BENCH_DUCKDB:-1}
WORK=${BENCH_WORK:-$REPO/bench/work}
OUT=${BENCH_OUT:-$REPO/bench/results.md}
KEEP=${KEEP:-0}
NPROC=$(nproc)
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
RAW=$WORK/raw.txt        # label rows run wall user sys rss_kb rc
NOTES=$WORK/notes.txt
: >"$RAW"
: >"$NOTES"
T_START=$(date +%s)

step() { printf '\n== %s (%ds)\n' "$*" "$(( $(date +%s) - T_START ))"; }
note() { echo "bench: $*"; echo "- $*" >>"$NOTES"; }

# m LABEL N CMD...: run CMD once under /usr/bin/time, record a line in RAW.
# stdout goes to WORK/out.LABEL.N, stderr to WORK/err.LABEL.N.
m() {
	local label=$1 n=$2 rc=0
	shift 2
	/usr/bin/time -f "%e %U %S %M" -o "$WORK/time.tmp" "$@" \
		>"$WORK/out.$label.$n" 2>"$WORK/err.$label.$n" || rc=$?
	local w u s k
	read -r w u s k < <(tail -n 1 "$WORK/time.tmp")
	echo "$label $n $w $u $s $k $rc" >>"$RAW"
	if [ "$rc" != 0 ]; then
		echo "bench: $label ($n rows) failed with status $rc:" >&2
		tail -n 5 "$WORK/err.$label.$n" >&2
	fi
	printf '  %-14s %10s rows  %7.2f s  (cpu %5.2f s)  %7.1f MB RSS%s\n' "$label" "$n" \
		"$w" "$(echo "$u $s" | awk '{print $1 + $2}')" "$(echo "$k" | awk '{print $1 / 1024}')" \
		"$([ "$rc" = 0 ] || echo "  FAILED ($rc)")"
}
# runs K LABEL N CMD...: m, K times
runs() {
	local k=$1 i
	shift
	for ((i = 0; i < k; i++)); do m "$@"; done
}
# med LABEL N COL: median of column COL (3 wall, 4 user, 5 sys, 6 rss KB,
# 8 = user+sys) over the successful runs; "-" if none.
med() {
	awk -v l="$1" -v n="$2" -v c="$3" '
		$1 == l && $2 == n && $7 == 0 { v[k++] = (c == 8 ? $4 + $5 : $c) }
		END {
			if (!k) { print "-"; exit }
			for (i = 0; i < k; i++) for (j = i + 1; j < k; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
			print (k % 2) ? v[int(k / 2)] : (v[k / 2 - 1] + v[k / 2]) / 2
		}' "$RAW"
}
# maxv LABEL N COL: the largest value (peak RSS over runs)
maxv() {
	awk -v l="$1" -v n="$2" -v c="$3" '$1 == l && $2 == n && $7 == 0 && $c > x { x = $c } END { print x ? x : "-" }' "$RAW"
}
# calc EXPR with a, b: awk arithmetic, "-" if an operand is "-"
calc() {
	local e=$1 a=${2:--} b=${3:--}
	if [ "$a" = - ] || [ "$b" = - ]; then echo -; return; fi
	awk -v a="$a" -v b="$b" "BEGIN { if (b + 0 == 0) print \"-\"; else printf \"%.2f\", $e }"
}
mb() { [ "$1" = - ] && echo - || awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# --- 1. tools -------------------------------------------------------------
step "tools"
if [ ! -x /usr/bin/time ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y time >/dev/null 2>&1; } || true
	fi
	[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 69; }
fi
HAVE_DUCKDB=0
if [ "$DUCKDB" = 1 ]; then
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		note "DuckDB skipped: node/npm not installed"
	else
		mkdir -p "$WORK/node"
		if [ ! -d "$WORK/node/node_modules/@duckdb/node-api" ]; then
			echo "installing @duckdb/node-api into $WORK/node"
			(cd "$WORK/node" && { [ -f package.json ] || npm init -y >/dev/null; } &&
				timeout 300 npm install --no-audit --no-fund @duckdb/node-api >npm.log 2>&1) ||
				note "DuckDB skipped: npm install @duckdb/node-api failed (see $WORK/node/npm.log)"
		fi
		if [ -d "$WORK/node/node_modules/@duckdb/node-api" ]; then
			cp "$REPO/bench/duckdb_groupby.mjs" "$WORK/node/"
			HAVE_DUCKDB=1
			DUCKDB_VERSION=$(cd "$WORK/node" && node -e 'console.log(require("@duckdb/node-api/package.json").version)' 2>/dev/null || echo "?")
		fi
	fi
else
	note "DuckDB skipped: BENCH_DUCKDB=0"
fi
if python3 -c 'import pandas' 2>/dev/null; then
	note "pandas is installed but no pandas baseline is written yet"
else
	note "pandas baseline skipped: pandas is not installed (PyPI is unreachable here)"
fi

# --- 2. build ---------------------------------------------------------------
step "build bench programs"
BIN=$WORK/bin
mkdir -p "$BIN"
CF="-O2 -g -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -I$REPO"
PC=$(pkg-config --cflags --libs gsl libsodium sqlite3)
LIBS="$B/libtipstat.a $PC -lcsv -lglpk -lpthread -lm"
cc $CF -o "$BIN/gen_big" "$REPO/bench/gen_big.c"
cc $CF -o "$BIN/csv_baseline" "$REPO/bench/csv_baseline.c" -lcsv
# shellcheck disable=SC2086
cc $CF -o "$BIN/harm_count" "$REPO/bench/harm_count.c" $LIBS
# shellcheck disable=SC2086
cc $CF -o "$BIN/csvparse_bench" "$REPO/bench/csvparse_bench.c" $LIBS
# shellcheck disable=SC2086
cc $CF -o "$BIN/suppress_bench" "$REPO/bench/suppress_bench.c" $LIBS
HAVE_DP=0
if [ -f "$REPO/bench/dp_bench.c" ]; then
	# shellcheck disable=SC2086
	if cc $CF -o "$BIN/dp_bench" "$REPO/bench/dp_bench.c" $LIBS; then
		HAVE_DP=1
	else
		note "dp_bench: bench/dp_bench.c did not build"
	fi
else
	echo "dp_bench: not built (bench/dp_bench.c missing)"
	note "dp_bench: not built (bench/dp_bench.c missing)"
fi

# --- keys --------------------------------------------------------------------
K=$WORK/keys
rm -rf "$K"
mkdir -p "$K"
$T keygen --demo --type pseudonym -o "$K/per.pseudonym" >/dev/null
$T keygen --demo --type office --country PER -o "$K/per.key" >/dev/null
$T keygen --demo --type aggregator -o "$K/agg.key" >/dev/null
MAP=$TIPSTAT_DATASETS/mappings/es_case.map
# the same layout with the case id dropped as an identifier: no pseudonyms
MAP_NOKEY=$WORK/es_case_nokey.map
sed 's/^field = case_id/drop = identifier/' "$MAP" >"$MAP_NOKEY"

# --- 3. per size -------------------------------------------------------------
declare -A BYTES BYTES_SUB BYTES_PKG
LARGEST=0
for N in $ROWS; do if [ "$N" -gt "$LARGEST" ]; then LARGEST=$N; fi; done
PROF_N=${BENCH_PROFILE_ROWS:-$LARGEST}
for N in $ROWS; do
	F=$WORK/cases_$N.csv
	step "$N rows: generate"
	t0=$(date +%s.%N)
	"$BIN/gen_big" "$N" "$F"
	BYTES[$N]=$(stat -c %s "$F")
	printf '  %s: %.1f MB in %.1f s\n' "$F" "$(echo "${BYTES[$N]}" | awk '{print $1 / 1e6}')" \
		"$(echo "$t0 $(date +%s.%N)" | awk '{print $2 - $1}')"
	cat "$F" >/dev/null   # into the page cache: every reader starts warm

	step "$N rows: baselines"
	runs "$RUNS" wc "$N" wc -l "$F"
	runs "$RUNS" csv_parse "$N" "$BIN/csv_baseline" parse "$F"
	runs "$RUNS" csv_groupby "$N" "$BIN/csv_baseline" groupby "$F"
	if [ "$HAVE_DUCKDB" = 1 ]; then
		runs "$RUNS" duckdb "$N" node "$WORK/node/duckdb_groupby.mjs" "$F" "$NPROC"
	fi

	step "$N rows: tipstat"
	runs "$RUNS" harm_nokey "$N" "$BIN/harm_count" "$MAP_NOKEY" "$F"
	runs "$RUNS" harm_key "$N" "$BIN/harm_count" "$MAP" "$F" "$K/per.pseudonym"
	runs "$RUNS" ingest "$N" "$T" ingest -q --mapping "$MAP" --key-file "$K/per.pseudonym" \
		"$F" -o "$WORK/sub_$N.csv"
	if [ -n "${BENCH_BEFORE_TIPSTAT:-}" ] && [ "$N" = "$LARGEST" ]; then
		# the same ingest with an older binary: before/after of a speed-up
		runs "$RUNS" ingest_before "$N" "$BENCH_BEFORE_TIPSTAT" ingest -q --mapping "$MAP" \
			--key-file "$K/per.pseudonym" "$F" -o "$WORK/sub_before_$N.csv"
		cmp -s "$WORK/sub_before_$N.csv" "$WORK/sub_$N.csv" ||
			note "ingest before/after: the two binaries wrote different submissions"
		rm -f "$WORK/sub_before_$N.csv" "$WORK/sub_before_$N.csv.manifest"
	fi
	BYTES_SUB[$N]=$(stat -c %s "$WORK/sub_$N.csv" 2>/dev/null || echo 0)
	for ((r = 0; r < PIPE_RUNS; r++)); do
		W=$WORK/wh_$N
		rm -rf "$W" "$WORK/pkg_$N.sealed" "$WORK/cube_$N"
		mkdir -p "$W"
		export TIPSTAT_WAREHOUSE=$W/warehouse.db
		$T trust add "$K/per.key.pub" >/dev/null 2>&1
		m seal "$N" "$T" seal --key "$K/per.key" --to "$K/agg.key.pub" "$WORK/sub_$N.csv" \
			-o "$WORK/pkg_$N.sealed"
		m accept "$N" "$T" accept -q --key "$K/agg.key" "$WORK/pkg_$N.sealed"
		m aggregate "$N" "$T" aggregate -o "$WORK/cube_$N"
		unset TIPSTAT_WAREHOUSE
	done
	BYTES_PKG[$N]=$(stat -c %s "$WORK/pkg_$N.sealed" 2>/dev/null || echo 0)
	# check: every way of counting saw the same rows
	echo "  rows: csv_baseline $(grep -o 'rows=[0-9]*' "$WORK/out.csv_groupby.$N" || true)," \
		"duckdb $(grep -o 'rows=[0-9]*' "$WORK/out.duckdb.$N" 2>/dev/null || echo '-')," \
		"harm_count $(grep -o 'rows=[0-9]* rejected=[0-9]*' "$WORK/out.harm_nokey.$N" || true)"
	if [ "$N" != "$LARGEST" ] && [ "$KEEP" != 1 ]; then
		rm -rf "$WORK/wh_$N" "$WORK/pkg_$N.sealed" "$WORK/sub_$N.csv" "$WORK/sub_$N.csv.manifest"
		[ "$N" = "$PROF_N" ] || rm -f "$F"
	fi
done

# --- 4. csvr overhead and profile ----------------------------------------------
CSVR_OUT=""
if [ "$CSVR" = 1 ]; then
	step "csvr overhead over raw libcsv ($LARGEST rows)"
	"$BIN/csvparse_bench" "$WORK/cases_$LARGEST.csv" | tee "$WORK/csvr.txt"
	CSVR_OUT=$(cat "$WORK/csvr.txt")
fi
PROFILE_OUT=""
if [ "$PROFILE" = 1 ]; then
	step "perf profile of ingest ($PROF_N rows)"
	# flat profile only: the build has no frame pointers, so call graphs
	# would be noise; the stages below group the symbols instead
	if command -v perf >/dev/null &&
		perf record -F 999 -o "$WORK/perf.data" -- "$T" ingest -q --mapping "$MAP" \
			--key-file "$K/per.pseudonym" "$WORK/cases_$PROF_N.csv" -o "$WORK/sub_prof.csv" \
			>/dev/null 2>"$WORK/perf.err"; then
		perf report -i "$WORK/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
			grep '%' | sed 's/ *$//' >"$WORK/perf.all" || true
		head -n 25 "$WORK/perf.all" >"$WORK/perf.flat"
		# stage of each symbol: by name, then by library
		awk -f "$REPO/bench/perf_stages.awk" "$WORK/perf.all" | sort -rn >"$WORK/perf.stages"
		PROFILE_OUT=1
		cat "$WORK/perf.stages"
	else
		note "perf profile skipped: perf is missing or not permitted here ($(tail -n 1 "$WORK/perf.err" 2>/dev/null))"
	fi
	rm -f "$WORK/sub_prof.csv" "$WORK/sub_prof.csv.manifest"
fi

# --- 5. suppression ----------------------------------------------------------------
step "suppression + audit (timeout ${SUPP_TIMEOUT}s per size)"
declare -A SUPP_LINE SUPP_STATUS
skip_rest=""
for S in $SUPP_SIZES; do
	if [ -n "$skip_rest" ]; then
		# a smaller table already exceeded the timeout: this one would too
		SUPP_STATUS[$S]="timeout (not run: $skip_rest already exceeded ${SUPP_TIMEOUT} s)"
		echo "  $S: ${SUPP_STATUS[$S]}"
		continue
	fi
	m supp "$S" timeout "$SUPP_TIMEOUT" stdbuf -oL "$BIN/suppress_bench" "$S" || true
	rc=$(awk -v s="$S" '$1 == "supp" && $2 == s { r = $7 } END { print r }' "$RAW")
	if [ "$rc" = 124 ]; then
		SUPP_STATUS[$S]="timeout (> ${SUPP_TIMEOUT} s)"
		skip_rest=$S
	elif [ "$rc" != 0 ]; then
		SUPP_STATUS[$S]="failed (status $rc)"
	else
		SUPP_STATUS[$S]=ok
		SUPP_LINE[$S]=$(grep -E "^$S " "$WORK/out.supp.$S" | head -n 1)
	fi
	echo "  $S: ${SUPP_STATUS[$S]} ${SUPP_LINE[$S]:-}"
done

# --- 6. discrete Gaussian ------------------------------------------------------------
DP_OUT=""
if [ "$HAVE_DP" = 1 ]; then
	step "discrete Gaussian sampling"
	if "$BIN/dp_bench" 1 10 1000 1000000 >"$WORK/dp.txt" 2>"$WORK/dp.err"; then
		DP_OUT=$(cat "$WORK/dp.txt")
		cat "$WORK/dp.txt"
	else
		note "dp_bench failed: $(tail -n 1 "$WORK/dp.err")"
	fi
fi

# --- 7. results.md ---------------------------------------------------------------------
step "results"
L=$LARGEST
MBL=$(awk -v b="${BYTES[$L]}" 'BEGIN { printf "%.1f", b / 1e6 }')
w() { med "$1" "$2" 3; }
ingest_w=$(w ingest $L)
cube_w=$(awk -v a="$ingest_w" -v b="$(w seal $L)" -v c="$(w accept $L)" -v d="$(w aggregate $L)" \
	'BEGIN { if (a == "-" || b == "-" || c == "-" || d == "-") print "-"; else printf "%.2f", a + b + c + d }')
cube_rss=$(for x in ingest seal accept aggregate; do maxv $x $L 6; done | sort -n | tail -n 1)
duck_w=$(w duckdb $L)
met() { # VALUE OP TARGET -> met / missed / not measured
	[ "$1" = - ] && { echo "not measured"; return; }
	awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? v >= t : (op == "<=") ? v <= t : v < t; print ok ? "**met**" : "**missed**" }'
}
fit() { # pairs "x y" on stdin -> least-squares slope of log y on log x
	awk 'BEGIN { n = 0 } $1 > 0 && $2 > 0 { x[n] = log($1); y[n] = log($2); n++ }
		END { if (n < 2) { print "-"; exit }
			for (i = 0; i < n; i++) { mx += x[i]; my += y[i] } mx /= n; my /= n
			for (i = 0; i < n; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ^ 2 }
			printf "%.2f", sxy / sxx }'
}
{
	echo "# tipstat benchmark results"
	echo
	echo "Written by \`make bench\` (bench/run.sh); do not edit by hand."
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); tipstat $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?')"
	echo "- machine: $NPROC cores ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)), $(free -g | awk '/^Mem:/ { print $2 }') GB RAM, $(uname -sr)"
	echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows every figure alike; CPU seconds are given too)"
	echo "- input: bench/gen_big, es_case layout (UTF-8 BOM, CRLF, quoted fields with embedded commas and doubled quotes, name / identity-document / free-text columns), sizes: $ROWS rows; $RUNS runs each (median), seal/accept/aggregate $PIPE_RUNS run(s)"
	echo "- DuckDB: $([ "$HAVE_DUCKDB" = 1 ] && echo "@duckdb/node-api ${DUCKDB_VERSION:-?}, threads = $NPROC, read_csv all_varchar + GROUP BY ALL (bench/duckdb_groupby.mjs); time includes node start-up" || echo "not run")"
	echo
	echo "## Headline: $L rows, $MBL MB"
	echo
	echo "| what | wall s | CPU s | MB/s | rows/s | peak RSS MB | DuckDB / this |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	for lab in wc csv_parse csv_groupby duckdb harm_nokey harm_key ingest ingest_before seal accept aggregate; do
		x=$(w $lab $L)
		[ "$x" = - ] && continue
		bytes=${BYTES[$L]}
		case $lab in seal) bytes=${BYTES_SUB[$L]:-0} ;; accept) bytes=${BYTES_PKG[$L]:-0} ;; esac
		case $lab in
			wc) name="wc -l" ;; csv_parse) name="libcsv parse, empty callbacks" ;;
			csv_groupby) name="libcsv group-by (C hash map)" ;; duckdb) name="DuckDB group-by" ;;
			harm_nokey) name="tipstat harmonise-and-count, no pseudonyms" ;;
			harm_key) name="tipstat harmonise-and-count, with pseudonyms" ;;
			ingest) name="tipstat ingest (validate, harmonise, minimise, key hashing, sort, write)" ;;
			ingest_before) name="tipstat ingest, binary before the speed-ups (BENCH_BEFORE_TIPSTAT)" ;;
			seal) name="tipstat seal of the submission ($(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1e6 }') MB)" ;;
			accept) name="tipstat accept of the package ($(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1e6 }') MB)" ;;
			aggregate) name="tipstat aggregate (warehouse to cube)" ;;
		esac
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$x" "$(med $lab $L 8)" \
			"$(calc 'a / b' "$(awk -v b="$bytes" 'BEGIN { print b / 1e6 }')" "$x")" \
			"$(awk -v n="$L" -v t="$x" 'BEGIN { if (t + 0 == 0) print "-"; else printf "%.0f", n / t }')" \
			"$(mb "$(maxv $lab $L 6)")" "$(calc 'a / b' "$duck_w" "$x")"
	done
	printf '| **tipstat ingest-to-cube** (ingest + seal + accept + aggregate) | %s | | %s | %s | %s | %s |\n' \
		"$cube_w" "$(calc 'a / b' "$MBL" "$cube_w")" \
		"$([ "$cube_w" = - ] && echo - || awk -v n="$L" -v t="$cube_w" 'BEGIN { printf "%.0f", n / t }')" \
		"$(mb "$cube_rss")" "$(calc 'a / b' "$duck_w" "$cube_w")"
	echo
	echo "Ratios of tipstat to each baseline (baseline time / tipstat time; above 1 means tipstat is faster):"
	echo
	echo "| tipstat figure | vs wc -l | vs libcsv parse | vs libcsv group-by | vs DuckDB |"
	echo "|---|---:|---:|---:|---:|"
	for lab in harm_nokey harm_key ingest cube; do
		x=$([ $lab = cube ] && echo "$cube_w" || w $lab $L)
		printf '| %s | %s | %s | %s | %s |\n' "$lab" "$(calc 'a / b' "$(w wc $L)" "$x")" \
			"$(calc 'a / b' "$(w csv_parse $L)" "$x")" "$(calc 'a / b' "$(w csv_groupby $L)" "$x")" \
			"$(calc 'a / b' "$duck_w" "$x")"
	done
	echo
	echo "## Targets"
	echo
	r1=$(calc 'a / b' "$duck_w" "$cube_w")
	r2=$(calc 'a / b' "$duck_w" "$(w harm_nokey $L)")
	echo "| target | measured | |"
	echo "|---|---|---|"
	echo "| ingest-to-cube >= 1.0x DuckDB group-by | ${r1}x | $(met "$r1" ">=" 1.0) |"
	echo "| harmonise-and-count without pseudonyms >= 1.5x DuckDB | ${r2}x | $(met "$r2" ">=" 1.5) |"
	S1=$(echo $ROWS | tr ' ' '\n' | sort -n | head -n 1)
	for lab in ingest seal accept aggregate; do
		hi=$(maxv $lab $L 6)
		lo=$(maxv $lab "$S1" 6)
		mbhi=$(mb "$hi")
		grow=$(calc '(a / b - 1) * 100' "$hi" "$lo")
		echo "| peak RSS of $lab <= 32 MB | $mbhi MB at $L rows | $(met "$mbhi" "<=" 32) |"
		if [ "$S1" != "$L" ]; then
			echo "| peak RSS of $lab flat in rows ($S1 vs $L differ < 10%) | $(mb "$lo") MB vs $mbhi MB (${grow}%) | $(met "$(echo "$grow" | tr -d -)" "<" 10) |"
		fi
	done
	s100=-
	[ "${SUPP_STATUS[100k]:-}" = ok ] && s100=$(echo "${SUPP_LINE[100k]}" | awk '{ print $9 }')
	echo "| suppression + audit of 100k cells < 60 s | $([ "$s100" = - ] && echo "${SUPP_STATUS[100k]:-not run}" || echo "$s100 s") | $([ "$s100" = - ] && { case "${SUPP_STATUS[100k]:-}" in timeout*) echo "**missed** (timeout)" ;; *) echo "not measured" ;; esac; } || met "$s100" "<" 60) |"
	sfit=$(for S in $SUPP_SIZES; do if [ "${SUPP_STATUS[$S]}" = ok ]; then echo "${SUPP_LINE[$S]}" | awk '{ print $2, $9 }'; fi; done | fit)
	echo "| suppression growth <= n^1.5 | exponent $sfit (sizes that finished) | $(met "$sfit" "<=" 1.5) |"
	dp10=$(echo "$DP_OUT" | sed -n 's/^sigma=10 .*samples_per_sec=\([0-9.e+]*\).*/\1/p' | head -n 1)
	echo "| >= 1M discrete Gaussian samples/s at sigma = 10 | ${dp10:-not measured} | $([ -z "$dp10" ] && echo "not measured (dp_bench missing)" || met "$dp10" ">=" 1000000) |"
	echo
	echo "## Scaling"
	echo
	echo "Median wall seconds; exponent b of seconds ~ rows^b (log-log least squares; 1.00 = linear)."
	echo
	echo "| rows | MB | wc -l | libcsv parse | libcsv group-by | DuckDB | harmonise-count | ingest | ingest MB/s | ingest rows/s | ingest RSS MB | seal | accept | aggregate | cube path RSS MB |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for N in $(echo $ROWS | tr ' ' '\n' | sort -n); do
		iw=$(w ingest "$N")
		crss=$(for x in ingest seal accept aggregate; do maxv $x "$N" 6; done | sort -n | tail -n 1)
		printf '| %s | %.1f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$N" \
			"$(awk -v b="${BYTES[$N]}" 'BEGIN { print b / 1e6 }')" "$(w wc "$N")" "$(w csv_parse "$N")" \
			"$(w csv_groupby "$N")" "$(w duckdb "$N")" "$(w harm_nokey "$N")" "$iw" \
			"$(calc 'a / b' "$(awk -v b="${BYTES[$N]}" 'BEGIN { print b / 1e6 }')" "$iw")" \
			"$([ "$iw" = - ] && echo - || awk -v n="$N" -v t="$iw" 'BEGIN { printf "%.0f", n / t }')" \
			"$(mb "$(maxv ingest "$N" 6)")" "$(w seal "$N")" "$(w accept "$N")" "$(w aggregate "$N")" "$(mb "$crss")"
	done
	printf '| **b** | | %s | %s | %s | %s | %s | %s | | | | %s | %s | %s | |\n' \
		"$(for N in $ROWS; do echo "$N $(w wc "$N")"; done | fit)" \
		"$(for N in $ROWS; do echo "$N $(w csv_parse "$N")"; done | fit)" \
		"$(for N in $ROWS; do echo "$N $(w csv_groupby "$N")"; done | fit)" \
		"$(for N in $ROWS; do echo "$N $(w duckdb "$N")"; done | fit)" \
		"$(for N in $ROWS; do echo "$N $(w harm_nokey "$N")"; done | fit)" \
		"$(for N in $ROWS; do echo "$N $(w ingest "$N")"; done | fit)" \
		"$(for N in $ROWS; do echo "$N $(w seal "$N")"; done | fit)" \
		"$(for N in $ROWS; do echo "$N $(w accept "$N")"; done | fit)" \
		"$(for N in $ROWS; do echo "$N $(w aggregate "$N")"; done | fit)"
	echo
	echo "## Suppression + audit (bench/suppress_bench, timeout ${SUPP_TIMEOUT} s per size)"
	echo
	echo "| table | cells | primary | secondary | suppress s | audit s | total s | audit | peak RSS MB |"
	echo "|---|---:|---:|---:|---:|---:|---:|---|---:|"
	for S in $SUPP_SIZES; do
		if [ "${SUPP_STATUS[$S]}" = ok ]; then
			echo "${SUPP_LINE[$S]}" | awk -v r="$(mb "$(maxv supp "$S" 6)")" '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $7, $8, $9, $10, r }'
		else
			echo "| $S | | | | | | ${SUPP_STATUS[$S]} | | |"
		fi
	done
	echo
	echo "Growth exponent over the sizes that finished: $sfit."
	echo
	echo "## Discrete Gaussian sampling (bench/dp_bench)"
	echo
	if [ -n "$DP_OUT" ]; then
		echo '```'
		echo "$DP_OUT"
		echo '```'
	else
		echo "dp_bench: not built (bench/dp_bench.c missing)"
	fi
	if [ -n "$CSVR_OUT" ]; then
		echo
		echo "## CSV reader overhead ($L rows; bench/csvparse_bench: raw libcsv, core/csvr, csvr without its quote-free fast path)"
		echo
		echo '```'
		echo "$CSVR_OUT"
		echo '```'
	fi
	echo
	echo "## Where the time goes (perf, ingest of $PROF_N rows)"
	echo
	if [ -n "$PROFILE_OUT" ]; then
		echo "Samples by stage (self time of each symbol, grouped by name and library):"
		echo
		echo '```'
		cat "$WORK/perf.stages"
		echo '```'
		echo
		echo "Top symbols (self time):"
		echo
		echo '```'
		cat "$WORK/perf.flat"
		echo '```'
		if [ -f "$REPO/bench/profile_notes.md" ]; then
			echo
			cat "$REPO/bench/profile_notes.md"
		fi
	else
		echo "not profiled in this run"
	fi
	echo
	echo "## Notes"
	echo
	cat "$NOTES"
	echo "- bench time: $(( $(date +%s) - T_START )) s"
	echo
	echo "## Benchmark (draft README section)"
	echo
	echo "On $NPROC cores ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)), a $MBL MB es_case file of $L rows"
	echo "(quoted fields, identifiers, free text), median of $RUNS runs, \`make bench\`:"
	echo
	echo "- \`tipstat ingest\` (validate, harmonise, minimise, pseudonymise, sort, write): $ingest_w s, $(calc 'a / b' "$MBL" "$ingest_w") MB/s, peak RSS $(mb "$(maxv ingest $L 6)") MB;"
	echo "  DuckDB's group-by of the same file takes $duck_w s ($(calc 'a / b' "$duck_w" "$ingest_w")x of ingest's speed)."
	if [ "$(w ingest_before $L)" != - ]; then
		echo "- This change's ingest speed-ups: $(w ingest_before $L) s before, $ingest_w s after (wall, $(calc 'a / b' "$(w ingest_before $L)" "$ingest_w")x); CPU $(med ingest_before $L 8) s before, $(med ingest $L 8) s after ($(calc 'a / b' "$(med ingest_before $L 8)" "$(med ingest $L 8)")x)."
	fi
	echo "- Harmonise-and-count inside tipstat without pseudonyms: $(w harm_nokey $L) s ($(calc 'a / b' "$duck_w" "$(w harm_nokey $L)")x DuckDB; libcsv group-by alone $(w csv_groupby $L) s)."
	echo "- Whole path to the cube (ingest, seal, accept, aggregate): $cube_w s ($(calc 'a / b' "$duck_w" "$cube_w")x DuckDB), peak RSS $(mb "$cube_rss") MB."
	echo "- Suppression with audit: $(for S in $SUPP_SIZES; do printf '%s %s; ' "$S" "$([ "${SUPP_STATUS[$S]}" = ok ] && echo "$(echo "${SUPP_LINE[$S]}" | awk '{ print $9 }') s" || echo "${SUPP_STATUS[$S]}")"; done)"
	echo "- Discrete Gaussian at sigma = 10: ${dp10:-not measured} samples/s."
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "wrote $OUT"

if [ "$KEEP" != 1 ]; then
	rm -rf "$WORK"/cases_*.csv "$WORK"/sub_*.csv* "$WORK"/pkg_*.sealed "$WORK"/wh_* "$WORK"/cube_* \
		"$WORK/perf.data" "$WORK"/perf.data.old
fi
echo "bench done in $(( $(date +%s) - T_START )) s"
