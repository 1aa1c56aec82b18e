# Fault injection on the write paths that t_faults and t_faults_release do
# not cover: aggregate -o, report, export, request sign, query, submission
# export (files), and trust add, budget set, researcher grant/raise/revoke
# (warehouse writes).  Each meets a full disk (a file-size limit: writes
# past it fail with EFBIG, as on a full file system) and an output place
# that cannot be created (a path under a regular file: ENOTDIR, works as
# root too); query also SIGKILL at random moments (a temporary may remain
# beside the answer after a kill, as after any crash; the answer itself is
# complete or absent).
# Opening the warehouse writes to it, so a command that reads it needs a
# limit above its size (about 400 KB here): the limit is 512 KB for the
# multi-megabyte outputs of aggregate, report and export; the answers of
# query and submission export are smaller than the warehouse, so they get
# the unwritable place and (query) the kills, not the size limit.  The
# warehouse writers meet a limit of 0: refused at the first write.  Each must exit with the
# right code (74 I/O error, 73 cannot create) and a message, leave no
# output (complete or partial) behind, and leave the warehouse unchanged:
# same audit head, chain intact, nothing charged.
source "$REPO/tests/e2e/lib.sh"
export TIPSTAT_WAREHOUSE="$WORK/wh.db"
make_warehouse de_case
T=$TIPSTAT
$T budget set releases 10 >/dev/null
$T protect -q --method dp --rho 0.5 --name r1 -o rd >/dev/null
$T keygen --demo --type office --country FRA -o alice.key >/dev/null
$T keygen --demo --type office --country ITA -o bob.key >/dev/null
$T researcher grant alice --key alice.key.pub --rho 1 --expires 2099-12-31 >/dev/null
printf 'researcher=alice\nindicator=VIC\ngroup-by=country,year,sex\nrho=0.1\n' > q1
$T request sign --key alice.key q1 -o q1.signed >/dev/null
id=$($T submission list | awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $1; exit }')
[ -n "$id" ] || die "no submission id"
n=0
unchanged() { # HEAD: same audit head, chain intact, no spends, same fingerprint
	[ "$($T log head)" = "$1" ] || die "the warehouse changed: $($T log show | tail -n 2)"
	$T log verify >/dev/null
	wh_unchanged "$fp0"
	$T budget spends | grep -q "r1" || die "the release's spend is gone"
	[ "$($T budget spends | grep -c .)" = "$spends" ] || die "something was charged"
}
spends=$($T budget spends | grep -c .)
head0=$($T log head)
fp0=$(wh_fingerprint)
# full BLOCKS CODE PATTERN cmd... and nothing_like DIR NAME: tests/e2e/lib.sh
touch afile
mkdir o

# --- aggregate -o: the whole cube as an unprotected release
full 1024 74 "error" $T aggregate -o o/cube
nothing_like o cube
expect_exit 73 $T aggregate -o afile/cube; n=$((n + 1))
assert_grep "afile/cube" "$WORK/err"
unchanged "$head0"

# --- report and export of a release
for c in report export; do
	full 1024 74 "error" $T $c rd -o o/$c
	# an output directory may be created, but nothing in it
	[ ! -e o/$c ] || [ -z "$(ls -A o/$c)" ] || die "$c: partial output: $(ls -A o/$c)"
	rm -rf o/$c
	nothing_like o $c
	expect_exit 73 $T $c rd -o afile/$c; n=$((n + 1))
	assert_grep "afile/$c" "$WORK/err"
done
unchanged "$head0"

# --- request sign
full 0 74 "error" $T request sign --key alice.key q1 -o o/q1.signed
nothing_like o q1
expect_exit 73 $T request sign --key alice.key q1 -o afile/q1.signed; n=$((n + 1))
assert_grep "afile/q1.signed" "$WORK/err"

# --- submission export
expect_exit 73 $T submission export "$id" -o afile/back.csv; n=$((n + 1))
assert_grep "afile/back.csv" "$WORK/err"
unchanged "$head0"

# --- query: the answer cannot be written -> nothing charged, no answer
expect_exit 73 $T query q1.signed -o afile/a.csv; n=$((n + 1))
assert_grep "afile/a.csv" "$WORK/err"
unchanged "$head0"
$T budget show researcher:alice | grep -q "spent *0 " || die "a failed query was charged"
unchanged "$head0"

# --- warehouse writes on a full disk: refused, nothing stored
full 0 74 "error" $T trust add bob.key.pub
$T trust list | grep -q ITA && die "a key was trusted on a full disk"
full 0 74 "error" $T budget set other 1
$T budget show other >/dev/null 2>&1 && die "a budget was created on a full disk"
full 0 74 "error" $T researcher grant bob --key bob.key.pub --rho 1 --expires 2099-12-31
$T researcher list | grep -q "^bob " && die "bob was granted on a full disk"
full 0 74 "error" $T researcher raise alice --rho 2
$T researcher list | grep -q "^alice .* 1 " || { $T researcher list; die "alice's budget changed on a full disk"; }
full 0 74 "error" $T researcher revoke alice
$T researcher list | grep -q "^alice .* active " || die "alice was revoked on a full disk"
unchanged "$head0"

# --- SIGKILL at random moments of a query: afterwards the answer is
# complete or absent, the chain intact, and alice is charged 0 or 0.1 (a
# query killed after its charge is answered free from the store next time)
kills=0
for delay in 0.005 0.02 0.05 0.1 0.2 0.4; do
	rm -f k.csv
	kill_after "$delay" $T query q1.signed -o k.csv
	$T log verify >/dev/null || die "audit trail broken after SIGKILL during query"
	if [ -e k.csv ]; then
		[ "$(wc -l < k.csv)" -eq 97 ] || die "a killed query left a partial answer"
	fi
	spent=$($T budget show researcher:alice | awk '$1 == "spent" { print $2 }')
	case "$spent" in 0|0.1) ;; *) die "alice charged $spent after a killed query";; esac
	kills=$((kills + 1))
done
$T query q1.signed -o final.csv >/dev/null
[ "$(wc -l < final.csv)" -eq 97 ] || die "the query does not complete after the kills"
$T budget show researcher:alice | grep -q "spent *0.1 " || die "charged more than once"
n=$((n + kills))
echo "faults: $n injected faults handled"
