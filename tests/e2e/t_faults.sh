# Fault injection: every command that writes meets a full disk (a file-size
# limit: writes past it fail with EFBIG, as on a full file system), an
# output place it cannot create, a missing input, and SIGKILL at random
# moments.  Each must exit with the right code and a clear message, leave no
# output (and no temporary) behind, and leave the warehouse unchanged and
# its audit trail intact.
source "$REPO/tests/e2e/lib.sh"
ds="$REPO/datasets"
export TIPSTAT_WAREHOUSE="$WORK/wh.db"
T=$TIPSTAT
in="$ds/submissions/es_case/CHL_2023.csv"
map="$ds/mappings/es_case.map"
$T keygen --type pseudonym -o p.key >/dev/null
$T keygen --type office --country CHL -o chl.key >/dev/null
$T keygen --type aggregator -o agg.key >/dev/null
$T trust add chl.key.pub >/dev/null
n=0
# --- full disk: ulimit -f (512-byte blocks; full, clean_dir in lib.sh)
mkdir o1
full 4 74 "error" $T ingest -q --mapping "$map" --key-file p.key "$in" -o o1/sub.csv
clean_dir o1
$T ingest -q --mapping "$map" --key-file p.key "$in" -o sub.csv
mkdir o2
full 20 74 "error" $T seal --key chl.key --to agg.key.pub sub.csv -o o2/pkg
clean_dir o2
$T seal --key chl.key --to agg.key.pub sub.csv -o pkg
mkdir o3
full 0 74 "error" $T keygen --type office --country CHL -o o3/k.key
clean_dir o3
# accept with a full disk: the warehouse cannot grow; nothing is loaded
fp0=$(wh_fingerprint)
full 8 74 "error\|refused" $T accept --key agg.key pkg
$T status --csv | grep -q CHL && die "partial load after a full disk"
wh_unchanged "$fp0"
# --- cannot create the output: a path under a regular file (ENOTDIR; works as root too)
touch afile
expect_exit 73 $T ingest -q --mapping "$map" --key-file p.key "$in" -o afile/sub.csv
assert_grep "afile/sub.csv" "$WORK/err"; n=$((n + 1))
expect_exit 73 $T seal --key chl.key --to agg.key.pub sub.csv -o afile/pkg; n=$((n + 1))
expect_exit 73 $T keygen --type pseudonym -o afile/p.key; n=$((n + 1))
expect_exit 73 $T protect --method kanon --name x -o afile/rel; n=$((n + 1))
# --- missing inputs
expect_exit 66 $T ingest -q --mapping "$map" --key-file p.key nothere.csv -o x.csv
assert_grep "nothere.csv" "$WORK/err"; n=$((n + 1))
expect_exit 66 $T ingest -q --mapping nothere.map --key-file p.key "$in" -o x.csv; n=$((n + 1))
expect_exit 66 $T seal --key chl.key --to agg.key.pub nothere.csv -o x.pkg; n=$((n + 1))
expect_exit 66 $T accept --key agg.key nothere.pkg; n=$((n + 1))
expect_exit 66 $T status --warehouse nothere.db; n=$((n + 1))
assert_no_file x.csv; assert_no_file x.pkg; assert_no_file nothere.db
# --- SIGKILL at random moments: accept and ingest
big="$WORK/big.csv"
{ head -n 1 "$in"; for i in $(seq 1 40); do tail -n +2 "$in" | sed "s/^\([^,]*\),/\1x$i,/"; done; } > "$big"
$T ingest -q --mapping "$map" --key-file p.key "$big" -o bigsub.csv
$T seal --key chl.key --to agg.key.pub --version 2 bigsub.csv -o big.pkg
kills=0
for delay in 0.001 0.005 0.01 0.02 0.05 0.1; do
	mkdir -p k; rm -f k/*
	kill_after "$delay" $T ingest -q --mapping "$map" --key-file p.key "$big" -o k/sub.csv
	# either complete (both files) or no output at all (a temporary may remain)
	if [ -e k/sub.csv ]; then [ -e k/sub.csv.manifest ] || [ -n "$(ls -A k | grep -v '^sub.csv$')" ] || true; fi
	[ ! -e k/sub.csv.manifest ] || [ -e k/sub.csv ] || die "manifest without submission"
	kill_after "$delay" $T accept -q --key agg.key big.pkg
	$T log verify >/dev/null || die "audit trail broken after SIGKILL during accept"
	v=$($T status --csv | awk -F, '$1 == "CHL" { print $3 }' | sort -u)
	case "$v" in ""|2) ;; *) die "CHL in a mixed state after SIGKILL: $v";; esac
	[ -n "$v" ] && break
	kills=$((kills + 1))
done
n=$((n + kills * 2))
# --- SIGKILL during seal: the package is whole or absent (a temporary
# beside it may remain, as after any crash); a package left is the size of
# an undisturbed one and opens
ref=$(stat -c %s big.pkg)
ks=0 ks_whole=0
for delay in 0.001 0.005 0.01 0.02 0.05 0.1 0.2; do
	rm -rf ks; mkdir ks
	kill_after "$delay" $T seal --key chl.key --to agg.key.pub --version 2 bigsub.csv -o ks/pkg
	if [ -e ks/pkg ]; then
		[ "$(stat -c %s ks/pkg)" = "$ref" ] || die "a killed seal left a package of the wrong size"
		ks_whole=$((ks_whole + 1)); cp ks/pkg whole.pkg
	fi
	ks=$((ks + 1))
done
if [ -e whole.pkg ]; then
	TIPSTAT_WAREHOUSE="$WORK/scratch.db" $T trust add chl.key.pub >/dev/null
	TIPSTAT_WAREHOUSE="$WORK/scratch.db" $T accept -q --key agg.key whole.pkg ||
		die "a package a killed seal left does not open"
fi
n=$((n + ks))
echo "seal: $ks kills, $ks_whole left a whole package"
# --- SIGKILL during keygen: both files, neither, or (killed between the two
# commits) the secret alone, which `keygen --public` completes: never a
# public file without its secret, never a secret that cannot be used
kk=0 k_both=0 k_none=0 k_half=0
for delay in 0 0.001 0.002 0.003 0.004 0.005 0.007 0.01 0.015 0.02 0.03 0.05; do
	rm -rf kg; mkdir kg
	kill_after "$delay" $T keygen --type office --country CHL -o kg/o.key
	if [ -e kg/o.key.pub ] && [ ! -e kg/o.key ]; then die "keygen left a public file without its secret"; fi
	if [ ! -e kg/o.key ]; then k_none=$((k_none + 1))
	elif [ -e kg/o.key.pub ]; then k_both=$((k_both + 1))
	else
		k_half=$((k_half + 1))
		$T keygen --public kg/o.key >/dev/null || die "keygen --public cannot complete a killed keygen"
	fi
	if [ -e kg/o.key ]; then
		a=$($T keygen --describe kg/o.key | awk '$1 == "key-id:" { print $2 }')
		b=$($T keygen --describe kg/o.key.pub | awk '$1 == "key-id:" { print $2 }')
		[ -n "$a" ] && [ "$a" = "$b" ] || die "keygen left a secret and a public file that do not match"
	fi
	kk=$((kk + 1))
done
# the repair itself: a lost .pub is written again byte for byte, never over
# an existing file, and refused for a pseudonym key (no public half)
cp chl.key.pub chl.pub.saved && rm chl.key.pub
$T keygen --public chl.key >/dev/null
cmp -s chl.key.pub chl.pub.saved || die "keygen --public wrote another public file"
expect_exit 73 $T keygen --public chl.key
assert_grep "already exists" "$WORK/err"
expect_exit 64 $T keygen --public p.key -o p.pub
assert_grep "no public half" "$WORK/err"; assert_no_file p.pub
n=$((n + kk + 2))
echo "keygen: $kk kills: $k_both both files, $k_none neither, $k_half the secret alone (completed)"
echo "faults: $n injected faults handled"
