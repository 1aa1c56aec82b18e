# Helpers for end-to-end tests (sourced).
set -euo pipefail
die() { echo "FAILED: $*" >&2; exit 1; }
# expect_exit CODE cmd...: run, capture stderr in $WORK/err, check the code
expect_exit() {
	local want=$1; shift
	set +e; "$@" >"$WORK/out" 2>"$WORK/err"; local got=$?; set -e
	[ "$got" -eq "$want" ] || { cat "$WORK/err" >&2; die "exit $got, expected $want: $*"; }
}
# assert_grep PATTERN FILE
assert_grep() { grep -q -- "$1" "$2" || { cat "$2" >&2; die "'$1' not in $2"; }; }
assert_no_file() { [ ! -e "$1" ] || die "$1 should not exist"; }
