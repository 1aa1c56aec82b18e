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
# make_warehouse LAYOUT...: keys, then ingest + seal + accept every bundled
# file of the given layouts into $TIPSTAT_WAREHOUSE (unodc_long is split per
# country).  Keys end up in $WORK/keys.
make_warehouse() {
	local ds="$REPO/datasets" k="$WORK/keys" layout f b c
	mkdir -p "$k" "$WORK/pk"
	[ -f "$k/agg.key" ] || "$TIPSTAT" keygen --demo --type aggregator -o "$k/agg.key" >/dev/null
	_office() {
		[ -f "$k/$1.key" ] && return 0
		"$TIPSTAT" keygen --demo --type office --country "$1" -o "$k/$1.key" >/dev/null
		"$TIPSTAT" keygen --demo --type pseudonym -o "$k/$1.p" >/dev/null
		"$TIPSTAT" trust add "$k/$1.key.pub" >/dev/null
	}
	_submit() { # layout file country name [opts]
		local l=$1 f=$2 c=$3 n=$4; shift 4
		_office "$c"
		"$TIPSTAT" ingest -q --mapping "$ds/mappings/$l.map" --key-file "$k/$c.p" "$@" \
			"$f" -o "$WORK/pk/$n.std" 2>/dev/null
		"$TIPSTAT" seal --key "$k/$c.key" --to "$k/agg.key.pub" "$WORK/pk/$n.std" \
			-o "$WORK/pk/$n.sealed" >/dev/null
	}
	for layout in "$@"; do
		for f in "$ds/submissions/$layout"/*; do
			b=$(basename "$f"); b=${b%.*}
			if [ "$layout" = unodc_long ]; then
				for c in $(tail -n +2 "$f" | cut -d, -f1 | sort -u); do
					_submit "$layout" "$f" "$c" "$layout.$b.$c" --country "$c"
				done
			else
				_submit "$layout" "$f" "${b%%_*}" "$layout.$b"
			fi
		done
	done
	"$TIPSTAT" accept -q --key "$k/agg.key" "$WORK"/pk/*.sealed
	rm -f "$WORK"/pk/*.sealed
}
