#!/usr/bin/env bash
# valgrind.sh BUILD: every unit test, then the end-to-end suite with the
# tipstat binary wrapped in valgrind memcheck.  An invalid read or write,
# a use of uninitialised memory or a definite leak makes the command exit
# 99, which the tests see as a wrong exit code, so the run fails.
set -euo pipefail
B=${1:?usage: valgrind.sh BUILD}
REPO=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null || { echo "valgrind: not installed (apt-get install valgrind)" >&2; exit 1; }
VG="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --track-origins=yes"
export TIPSTAT_DATASETS="$REPO/datasets"
fail=0
for t in "$B"/tests/test_*; do
	case "$t" in *.d) continue;; esac
	if ! $VG "$t" >/dev/null 2>"$B/vg-$(basename "$t").log"; then
		echo "valgrind: $(basename "$t") FAILED"; tail -n 30 "$B/vg-$(basename "$t").log"; fail=1
	else
		echo "valgrind: $(basename "$t") clean"
	fi
done
wrap="$B/tipstat-valgrind"
cat > "$wrap" <<EOW
#!/bin/sh
exec $(echo $VG) "$B/tipstat" "\$@"
EOW
chmod +x "$wrap"
# valgrind itself cannot run under a file-size limit: t_faults skips its
# full-disk cases (they run in `make check` and `make asan`)
TIPSTAT_UNDER_VALGRIND=1 bash "$REPO/tests/e2e/run.sh" "$wrap" "$B" || fail=1
exit $fail
