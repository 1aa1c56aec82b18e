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
echo "faults: $n injected faults handled"
