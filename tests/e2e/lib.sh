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

# --- fault injection (the t_faults* scripts) ---------------------------------
# Each helper below injects one fault, checks the exit code, the message
# and that nothing (complete or partial) is left behind, and counts the
# fault in $n.  The faults:
#  - full: a full disk as a file-size limit (ulimit -f, SIGXFSZ ignored, so
#    a write past it fails with EFBIG).  Valgrind cannot run under such a
#    limit, so these skip under TIPSTAT_UNDER_VALGRIND (they run in
#    `make check` and `make asan`).
#  - on_full_fs: a real full file system (ENOSPC): a one-page tmpfs, filled
#    up, mounted on the output directory in a private mount namespace
#    (unshare -rm; where user namespaces are not allowed it skips, saying
#    so).  The tmpfs lives only as long as the command, so what is left in
#    it is listed inside the namespace.
#  - ro_run: a read-only directory or file.  chmod does not stop root, so
#    as root the place is bind-mounted read-only in a private mount
#    namespace (EROFS); as another user it is chmod a-w (EACCES).
#  - on_full_wh: the warehouse itself on a full file system (ENOSPC),
#    likewise in a private mount namespace.
#  - kill_after: SIGKILL at a given moment.
n=${n:-0}
die_err() { cat "$WORK/err" >&2; die "$@"; }
# full BLOCKS CODE PATTERN cmd...
full() {
	local blocks=$1 code=$2 pat=$3; shift 3
	[ -z "${TIPSTAT_UNDER_VALGRIND:-}" ] || return 0
	set +e
	# stderr goes through a pipe: the size limit must not swallow the message
	( trap '' XFSZ; ulimit -f "$blocks"; "$@" 2>&1 >/dev/null ) | cat > "$WORK/err"
	local got=${PIPESTATUS[0]}
	set -e
	[ "$got" -eq "$code" ] || die_err "full disk: exit $got, expected $code: $*"
	assert_grep "$pat" "$WORK/err"
	n=$((n + 1))
}
# can_unshare: may this user make a private mount namespace?  (cached)
can_unshare() {
	if [ -z "${_can_unshare:-}" ]; then
		_can_unshare=no
		if command -v unshare >/dev/null && unshare -rm true 2>/dev/null; then _can_unshare=yes; fi
	fi
	[ "$_can_unshare" = yes ]
}
# on_full_fs DIR CODE PATTERN cmd...: DIR (made if missing) is a full file
# system while cmd runs; afterwards nothing but the filler may be in it.
# FULL_FS_PAGES=N leaves N 4 KiB pages free first (tmpfs gives each file
# whole pages): with 1, a command's first small file fits and its second
# does not.
on_full_fs() {
	local dir=$1 code=$2 pat=$3 free=${FULL_FS_PAGES:-0}; shift 3
	can_unshare || { echo "SKIP full file system (no user namespaces): $*"; return 0; }
	mkdir -p "$dir"
	set +e
	unshare -rm bash -c '
		d=$1 free=$2; shift 2
		mount -t tmpfs -o size=$(( (free + 1) * 4 ))k tipstat-full "$d" || exit 201
		head -c 4096 /dev/zero > "$d/.filler" || exit 202
		[ "$free" -gt 0 ] || ! printf x 2>/dev/null >> "$d/.filler" || exit 202
		"$@" >/dev/null 2>"$WORK/err"; rc=$?
		ls -A "$d" | grep -v -x -F .filler > "$WORK/left"
		exit $rc' on_full_fs "$dir" "$free" "$@"
	local got=$?
	set -e
	[ "$got" -ne 201 ] && [ "$got" -ne 202 ] || die "on_full_fs: could not make a full file system on $dir"
	[ "$got" -eq "$code" ] || die_err "full file system: exit $got, expected $code: $*"
	assert_grep "$pat" "$WORK/err"
	[ ! -s "$WORK/left" ] || die "full file system: left behind in $dir: $(cat "$WORK/left")"
	n=$((n + 1))
}
# on_full_wh CODE PATTERN cmd...: the warehouse's directory is a tmpfs
# holding a copy of the warehouse and nothing more (full: ENOSPC for its
# -wal/-shm and any growth) while cmd runs; the warehouse must then be
# unchanged (wh_fingerprint, taken inside the namespace, where the tmpfs
# is).  The real warehouse is not touched.  FULL_WH_KIB=K leaves K KiB
# free: 32 holds the -shm index, so that the open works and the first
# write of the transaction meets the full file system.
on_full_wh() {
	local code=$1 pat=$2 got; shift 2
	can_unshare || { echo "SKIP warehouse on a full file system (no user namespaces): $*"; return 0; }
	local before; before=$(wh_fingerprint)
	set +e
	FP_BEFORE=$before unshare -rm bash -c '
		source "$REPO/tests/e2e/lib.sh"
		wh=$TIPSTAT_WAREHOUSE d=$(dirname "$TIPSTAT_WAREHOUSE")
		cp "$wh" "$WORK/.wh-full-copy" || exit 201
		kib=$(( ($(stat -c %s "$wh") + 4095) / 4096 * 4 ))
		mount -t tmpfs -o size=$((kib + ${FULL_WH_KIB:-0}))k tipstat-full "$d" || exit 201
		cp "$WORK/.wh-full-copy" "$wh" && chmod 600 "$wh" || exit 202
		rm -f "$WORK/.wh-full-copy"
		[ "${FULL_WH_KIB:-0}" -gt 0 ] || ! printf x 2>/dev/null > "$d/.probe" || exit 202
		rm -f "$d/.probe"
		"$@" >/dev/null 2>"$WORK/err"; rc=$?
		# the fingerprint itself needs room for the -wal/-shm: 256 KiB more
		mount -o remount,size=$((kib + 256))k "$d" || exit 203
		now=$(wh_fingerprint) || exit 204
		[ "$now" = "$FP_BEFORE" ] || { diff <(echo "$FP_BEFORE") <(echo "$now") >&2; exit 205; }
		exit $rc' on_full_wh "$@"
	got=$?
	set -e
	case $got in
	201|202|203) die "on_full_wh: could not put the warehouse on a full file system ($got)" ;;
	204|205) die_err "warehouse on a full file system: it changed ($got): $*" ;;
	esac
	[ "$got" -eq "$code" ] || die_err "warehouse on a full file system: exit $got, expected $code: $*"
	if [ -n "$pat" ]; then assert_grep "$pat" "$WORK/err"
	else [ ! -s "$WORK/err" ] || die_err "warehouse on a full file system: a message from a success: $*"; fi
	n=$((n + 1))
}
# ro_run WHAT PATH CODE PATTERN cmd...: run cmd with PATH read-only, WHAT
# being dir (the directory PATH read-only, its files still writable), file
# (the file PATH read-only in a writable directory) or both (the directory
# and everything in it read-only, as on read-only media); PATTERN "" wants
# no message at all (a command that must work on a read-only warehouse)
ro_run() {
	local what=$1 p=$2 code=$3 pat=$4 got; shift 4
	set +e
	if [ "$(id -u)" != 0 ]; then
		case $what in
		dir) chmod a-w "$p" ;;
		file) chmod a-w "$p" ;;
		both) chmod a-w "$p" "$p"/* ;;
		esac
		"$@" >/dev/null 2>"$WORK/err"; got=$?
		case $what in both) chmod u+w "$p" "$p"/* ;; *) chmod u+w "$p" ;; esac
	elif can_unshare; then
		unshare -rm bash -c '
			what=$1 p=$2; shift 2
			mount --bind -o ro "$p" "$p" || exit 201
			if [ "$what" = dir ]; then
				for f in "$p"/*; do
					[ -f "$f" ] || continue
					mount --bind "$f" "$f" && mount -o remount,bind,rw "$f" || exit 201
				done
			fi
			exec "$@" >/dev/null 2>"$WORK/err"' ro_run "$what" "$p" "$@"
		got=$?
		[ "$got" -ne 201 ] || die "ro_run: could not make $p read-only"
	else
		set -e
		echo "SKIP read-only $what (root without user namespaces): $*"
		return 0
	fi
	set -e
	[ "$got" -eq "$code" ] || die_err "read-only $what $p: exit $got, expected $code: $*"
	if [ -n "$pat" ]; then assert_grep "$pat" "$WORK/err"
	else [ ! -s "$WORK/err" ] || die_err "read-only $what $p: a message from a success: $*"; fi
	n=$((n + 1))
}
# kill_after DELAY cmd...: start cmd, SIGKILL it after DELAY seconds
kill_after() {
	local delay=$1 pid; shift
	"$@" >/dev/null 2>&1 & pid=$!
	sleep "$delay"; kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
}
# clean_dir DIR KEEP...: nothing in DIR but the files named
clean_dir() {
	local extra; extra=$(ls -A "$1" | grep -v -x -F -f <(printf '%s\n' "${@:2}") || true)
	[ -z "$extra" ] || die "left behind in $1: $extra"
}
# nothing_like DIR NAME: nothing in DIR whose name contains NAME (the
# output, a NAME.partial-* directory or a temporary beside it)
nothing_like() {
	local left; left=$(ls -A "$1" | grep -F -- "$2" || true)
	[ -z "$left" ] || die "left behind in $1: $left"
}
# wh_fingerprint: one line per fact about $TIPSTAT_WAREHOUSE that a failed
# command must not change: the audit chain verified and its head, the trust
# store, budgets and spends, researchers and submissions, and (with the
# sqlite3 shell) PRAGMA integrity_check, the schema version and the hash of
# every row (the INSERT lines of a .dump), and the names of every table,
# index and trigger: a module creates its tables inside the transaction
# that first writes them, so a failed command leaves not even an empty
# table.
# Compare two with wh_unchanged "$before".
wh_fingerprint() {
	"$TIPSTAT" log verify >/dev/null || die "the audit chain does not verify"
	"$TIPSTAT" log head
	"$TIPSTAT" trust list
	"$TIPSTAT" budget show 2>/dev/null || true
	"$TIPSTAT" budget spends 2>/dev/null || true
	"$TIPSTAT" researcher list 2>/dev/null || true
	"$TIPSTAT" submission list
	if command -v sqlite3 >/dev/null; then
		# read-write connections that only read: the last one to close
		# checkpoints and removes the -wal and -shm files, as tipstat does
		# (a read-only one would leave them, changing what a read-only
		# directory test meets)
		local db="file:$TIPSTAT_WAREHOUSE?mode=rw" ic
		ic=$(sqlite3 "$db" 'PRAGMA integrity_check')
		[ "$ic" = ok ] || die "integrity_check: $ic"
		sqlite3 "$db" 'PRAGMA user_version'
		sqlite3 "$db" "SELECT type || ' ' || name FROM sqlite_master ORDER BY name" | tr '\n' ' '; echo
		sqlite3 "$db" .dump | grep '^INSERT INTO' | sha256sum
	fi
}
# wh_unchanged BEFORE: the fingerprint is still BEFORE
wh_unchanged() {
	local now; now=$(wh_fingerprint)
	[ "$now" = "$1" ] || { diff <(echo "$1") <(echo "$now") >&2 || true; die "the warehouse changed"; }
}
