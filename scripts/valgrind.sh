#!/usr/bin/env bash
# valgrind.sh BUILD: every unit test, then the end-to-end suite with the
# tipstat binary wrapped in valgrind memcheck.  An invalid read or write,
# a use of uninitialised memory or a definite leak makes the command exit
# 99, which the tests see as a wrong exit code, so the run fails.
#
# Memcheck slows code down 20-50x, so the run is shaped to finish:
#  - test programs, and then e2e test scripts, run VG_JOBS at a time
#    (default 2: the machine this was written on has two cores);
#  - TIPSTAT_UNDER_VALGRIND=1 is exported.  A unit test whose property
#    checks repeat a random case many times may read it to run fewer
#    repetitions (test_suppress: a tenth of its random tables; test_seal:
#    every 13th byte of a chunk body flipped, headers and tags still every
#    bit): every assertion and every code path still runs, only the number
#    of repeated cases drops.  t_accept_crash kills accept 10 times
#    instead of 50 (a killed process reports nothing to memcheck).  The
#    t_faults* scripts read it to skip their full-disk cases, because
#    valgrind itself cannot run under a file-size limit (those cases run in
#    `make check` and `make asan`).
# Every log is kept in BUILD/vg-*.log; the wall time of each program and
# of the whole run is printed.
# A part of the run: VG_UNITS="test_keys test_dpcube" runs only those unit
# programs, VG_E2E="t_faults t_query" only those scripts; "none" runs no
# program of that kind (for re-checking what a change touched).
# Suppressions: scripts/valgrind.supp, for system libraries only (each
# entry says why); nothing of ours is suppressed.
set -euo pipefail
B=${1:?usage: valgrind.sh BUILD}
REPO=$(cd "$(dirname "$0")/.." && pwd)
JOBS=${VG_JOBS:-2}
command -v valgrind >/dev/null || { echo "valgrind: not installed (apt-get install valgrind)" >&2; exit 1; }
VG="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --track-origins=yes --suppressions=$REPO/scripts/valgrind.supp"
export TIPSTAT_DATASETS="$REPO/datasets" TIPSTAT_UNDER_VALGRIND=1 B VG
start=$(date +%s)

# one unit test program under memcheck; prints one line, returns its status
one_unit() {
	local t=$1 n s rc
	n=$(basename "$t")
	s=$(date +%s)
	if $VG "$t" >"$B/vg-$n.out" 2>"$B/vg-$n.log"; then rc=0; else rc=$?; fi
	if [ "$rc" -eq 0 ]; then
		echo "valgrind: $n clean ($(($(date +%s) - s)) s)"
	else
		echo "valgrind: $n FAILED (exit $rc, $(($(date +%s) - s)) s)"
		tail -n 40 "$B/vg-$n.log"
	fi
	return "$rc"
}
export -f one_unit

fail=0
# the slowest first, so that the two queues end together
# (VG_UNITS / VG_E2E: space-separated names to keep, or "none")
pick() { if [ -z "$1" ]; then cat; else grep -x -F -f <(printf '%s\n' $1 | sed "s|^|$2|;s|\$|$3|"); fi || true; }
{ printf "%s\n" "$B"/tests/test_{cubesupp,dpsample,seal,suppress}; ls "$B"/tests/test_* | grep -v '\.d$'; } | awk '!seen[$0]++' |
	pick "${VG_UNITS:-}" "$B/tests/" "" |
	xargs -r -P "$JOBS" -I{} bash -c 'one_unit "$1"' _ {} || fail=1

wrap="$B/tipstat-valgrind"
cat > "$wrap" <<EOW
#!/bin/sh
exec $(echo $VG) "$B/tipstat" "\$@"
EOW
chmod +x "$wrap"
# the e2e scripts, JOBS at a time (run.sh runs the ones it is given)
ls "$REPO"/tests/e2e/t_*.sh | pick "${VG_E2E:-}" "$REPO/tests/e2e/" ".sh" |
	xargs -r -P "$JOBS" -n 1 bash "$REPO/tests/e2e/run.sh" "$wrap" "$B" || fail=1
echo "valgrind: whole run $(($(date +%s) - start)) s, $JOBS at a time, $( [ $fail = 0 ] && echo clean || echo FAILED)"
exit $fail
