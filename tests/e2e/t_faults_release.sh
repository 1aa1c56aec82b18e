# Fault injection on the commands that write releases and the budget
# ledger: a full disk while the release files are written, an output place
# that cannot be created, a warehouse that is not there, and SIGKILL at
# random moments of a DP release.  Each must exit with the right code and a
# message, leave no release directory (complete or partial) behind, and
# leave the warehouse unchanged: no release registered, nothing charged,
# the audit chain intact.  After a kill, a release directory exists only if
# the release is registered and paid for.
source "$REPO/tests/e2e/lib.sh"
export TIPSTAT_WAREHOUSE="$WORK/wh.db"
make_warehouse de_case
T=$TIPSTAT
$T budget set releases 10 > /dev/null
n=0
unchanged() { # HEAD: the warehouse is as it was (head, chain, fingerprint)
	[ "$($T log head)" = "$1" ] || die "the warehouse changed"
	$T log verify > /dev/null
	wh_unchanged "$fp0"
	$T budget show releases | grep -q "spent *0 " || die "something was charged"
}
no_release_dirs() { # PREFIX: nothing named PREFIX or PREFIX.partial-*
	! ls -d "$1" "$1".partial-* 2>/dev/null | grep -q . || die "left behind: $(ls -d "$1"*)"
}
head0=$($T log head)
fp0=$(wh_fingerprint)
# --- full disk while writing the release files (full: tests/e2e/lib.sh)
full 64 74 "error" $T protect --method dp --rho 0.5 --name f_dp -o rel_dp
no_release_dirs rel_dp
unchanged "$head0"
full 1 74 "error" $T protect --method kanon --name f_k -o rel_k
no_release_dirs rel_k
unchanged "$head0"
full 64 74 "error" $T protect --method suppression --supp-method heuristic --cleanup-seconds 0 --name f_s -o rel_s
no_release_dirs rel_s
unchanged "$head0"
# --- the output cannot be created; an existing output is never touched
touch afile
expect_exit 73 $T protect --method dp --name f_dp2 -o afile/rel; n=$((n + 1))
mkdir keep; touch keep/mine
expect_exit 73 $T protect --method dp --name f_dp3 -o keep; n=$((n + 1))
[ -e keep/mine ] && [ "$(ls keep)" = mine ] || die "an existing directory was touched"
unchanged "$head0"
# --- no warehouse
expect_exit 66 $T protect --method dp -w nothere.db --name f_dp4 -o rel4; n=$((n + 1))
expect_exit 66 $T budget -w nothere.db show; n=$((n + 1))
assert_no_file nothere.db; no_release_dirs rel4
# --- SIGKILL at random moments of a DP release: after it, the release is
# registered, paid for and in place, or none of these
kills=0
for delay in 0.02 0.05 0.1 0.2 0.3 0.5 0.8 1.2; do
	name="k_$kills"
	kill_after "$delay" $T protect --method dp --rho 0.1 --name "$name" -o "rel_$name"
	$T log verify > /dev/null || die "audit trail broken after SIGKILL"
	registered=0
	$T log show | grep -q "release.create.*name=$name " && registered=1
	charged=0
	$T budget spends releases | grep -q "$name" && charged=1
	[ "$registered" = "$charged" ] || die "$name: registered=$registered charged=$charged"
	if [ -e "rel_$name" ]; then
		[ "$registered" = 1 ] || die "$name: a release directory without a registered release"
		[ -s "rel_$name/release.csv" ] || die "$name: incomplete release directory"
	fi
	rm -rf "rel_$name".partial-*
	kills=$((kills + 1))
done
n=$((n + kills))
# the budget spent is exactly what the registered releases cost
spent=$($T budget spends releases | grep -c "k_" || true)
echo "faults: $n injected faults handled ($spent of $kills killed releases completed)"
