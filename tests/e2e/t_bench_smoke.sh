# make bench, smoke test: bench/run.sh end to end on tiny generated files
# (no DuckDB, no suppression, no profile), into a temporary directory.
# Checks that every way of counting saw every row, that the generated file
# ingests cleanly, and that results.md has its sections and targets.
source "$REPO/tests/e2e/lib.sh"
# the bench programs link the library without sanitizer flags, and timings
# under ASan mean nothing: the sanitizer build skips this test
if [ "$(nm "$BUILD/libtipstat.a" 2>/dev/null | grep -c __asan_init)" -gt 0 ]; then
	echo "SKIP t_bench_smoke: sanitizer build"; exit 0
fi
BENCH_QUICK=1 BENCH_ROWS="2000 5000" BENCH_RUNS=1 BENCH_DUCKDB=0 BENCH_SUPP_SIZES="" \
	BENCH_PROFILE=0 BENCH_CSVR=0 BENCH_WORK="$WORK/bench" BENCH_OUT="$WORK/results.md" \
	bash "$REPO/bench/run.sh" "$BUILD" >"$WORK/bench.log" 2>&1 || { cat "$WORK/bench.log" >&2; die "bench/run.sh failed"; }
R=$WORK/results.md
for n in 2000 5000; do
	assert_grep "rows: csv_baseline rows=$n, duckdb -, harm_count rows=$n rejected=0" "$WORK/bench.log"
done
if grep -q FAILED "$WORK/bench.log"; then cat "$WORK/bench.log" >&2; die "a measurement failed"; fi
assert_grep "^## Headline: 5000 rows" "$R"
assert_grep "^| tipstat ingest (validate" "$R"
assert_grep "^| \*\*tipstat ingest-to-cube\*\*" "$R"
assert_grep "^| peak RSS of ingest <= 32 MB | .* | \*\*met\*\* |" "$R"
assert_grep "^## Scaling" "$R"
assert_grep "^| \*\*b\*\* |" "$R"
assert_grep "dp_bench" "$R"
assert_grep "^## Benchmark (draft README section)" "$R"
# the generator is deterministic: same rows, same bytes
"$WORK/bench/bin/gen_big" 300 "$WORK/a.csv"
"$WORK/bench/bin/gen_big" 300 "$WORK/b.csv"
cmp "$WORK/a.csv" "$WORK/b.csv" || die "gen_big is not deterministic"
# nothing generated is left behind (KEEP unset)
[ -z "$(ls "$WORK/bench"/cases_*.csv 2>/dev/null)" ] || die "generated files left in the work directory"
