#!/usr/bin/env bash
# End-to-end test runner: runs every tests/e2e/t_*.sh with
#   TIPSTAT (the binary), BUILD (build dir), REPO (repository root),
#   WORK (a fresh temporary directory per test)
# and prints one line per test and a closing "N passed, N failed" line.
# Further arguments name the test scripts to run (default: all of them);
# scripts/valgrind.sh uses that to run two at a time.
set -u
TIPSTAT=${1:?usage: run.sh TIPSTAT BUILD [t_x.sh...]}
BUILD=${2:?usage: run.sh TIPSTAT BUILD [t_x.sh...]}
shift 2
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export TIPSTAT BUILD REPO
export TIPSTAT_DATASETS="$REPO/datasets"
pass=0; fail=0; failed=()
[ $# -gt 0 ] || set -- "$REPO"/tests/e2e/t_*.sh
for t in "$@"; do
	name=$(basename "$t" .sh)
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/tipstat-e2e-$name.XXXXXX")
	export WORK
	if (cd "$WORK" && bash "$t") >"$WORK.log" 2>&1; then
		pass=$((pass + 1)); echo "ok   $name"
		grep -h '^SKIP' "$WORK.log" | sed 's/^/     | /' || true
		rm -rf "$WORK" "$WORK.log"
	else
		fail=$((fail + 1)); failed+=("$name"); echo "FAIL $name (log: $WORK.log)"
		tail -n 30 "$WORK.log" | sed 's/^/     | /'
	fi
done
echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
