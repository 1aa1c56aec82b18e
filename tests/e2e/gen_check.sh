#!/usr/bin/env bash
# gen_check GEN_BINARY REPO_ROOT
#
# Regenerates the synthetic datasets with tools/gen_synth into a temporary
# directory and compares them byte for byte with the committed
# datasets/submissions and datasets/truth.  Proves that the generator is
# deterministic on this machine and that the committed data is exactly its
# output (nobody edited a submission or a truth file by hand).
# Exit 0 and "gen_check: ok" on success, non-zero with the differences
# otherwise.
set -u
gen=${1:?usage: gen_check.sh GEN_BINARY REPO_ROOT}
repo=${2:?usage: gen_check.sh GEN_BINARY REPO_ROOT}

[ -x "$gen" ] || { echo "gen_check: $gen is not executable" >&2; exit 2; }
for d in submissions truth; do
	[ -d "$repo/datasets/$d" ] || { echo "gen_check: $repo/datasets/$d missing" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gen_check.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

if ! "$gen" "$tmp/gen" >"$tmp/log" 2>&1; then
	echo "gen_check: the generator failed:" >&2
	cat "$tmp/log" >&2
	exit 1
fi

status=0
for d in submissions truth; do
	if ! diff -r "$repo/datasets/$d" "$tmp/gen/$d" >"$tmp/diff" 2>&1; then
		echo "gen_check: datasets/$d differs from the generator's output:" >&2
		head -n 40 "$tmp/diff" >&2
		status=1
	fi
done
# nothing else may appear in the generator's output
extra=$(cd "$tmp/gen" && ls -A | grep -v -x -e submissions -e truth)
if [ -n "$extra" ]; then
	echo "gen_check: unexpected output: $extra" >&2
	status=1
fi
[ "$status" -eq 0 ] && echo "gen_check: ok"
exit "$status"
