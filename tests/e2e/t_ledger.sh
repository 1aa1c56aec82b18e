# The privacy-budget ledger through `tipstat budget`: exact amounts (0.3 +
# 0.7 spends exactly 1, then 1e-9 more is refused with the amount left),
# refusals that write nothing (same audit head, same spends), totals that
# cannot drop below what is spent, the (epsilon, delta) equivalent, exit
# codes, and a race: 20 rounds of two processes started at once, each
# asking for more than half of what is left; exactly one of each pair
# must win and the total is never exceeded.
source "$REPO/tests/e2e/lib.sh"
export TIPSTAT_WAREHOUSE="$WORK/wh.db"
T=$TIPSTAT
# a warehouse: trusting an office key creates one
$T keygen --demo --type office --country DEU -o "$WORK/deu.key" >/dev/null
$T trust add "$WORK/deu.key.pub" >/dev/null

# --- usage, missing warehouse, bad values -----------------------------------
$T budget --help > help.txt
assert_grep "aggregator only" help.txt
assert_grep "exit codes" help.txt
$T --help | grep -q "^  budget " || die "budget not listed in tipstat --help"
expect_exit 64 $T budget
expect_exit 64 $T budget frobnicate
expect_exit 64 $T budget set releases
expect_exit 64 $T budget show a b
expect_exit 64 $T budget --delta 2 show
expect_exit 64 $T budget set 'bad name' 1
expect_exit 66 $T budget --warehouse "$WORK/nothere.db" show
expect_exit 66 $T budget -w "$WORK/nothere.db" set releases 1
assert_no_file "$WORK/nothere.db"
expect_exit 65 $T budget set releases 1/3
assert_grep "never rounds" "$WORK/err"
expect_exit 65 $T budget set releases 1e-10
expect_exit 65 $T budget set releases abc
$T budget show > none.txt
assert_grep "no budgets yet" none.txt
expect_exit 65 $T budget show releases
expect_exit 77 $T budget spend releases q0 0.1
assert_grep "no budget named 'releases'" "$WORK/err"

# --- exact spending -------------------------------------------------------
$T budget set releases 1.0 > set.txt
assert_grep "total 1 rho, 1 rho left" set.txt
$T budget spend releases rel-a 0.3 --split country:0.1,region:1/5 > s1.txt
assert_grep "0.7 rho left" s1.txt
$T budget spend releases rel-b 0.7 > s2.txt
assert_grep "charged 0.7 rho to releases for rel-b" s2.txt
assert_grep " 0 rho left" s2.txt
$T log head > head_before.txt
$T budget spends releases > spends_before.txt
expect_exit 77 $T budget spend releases rel-c 1e-9
assert_grep "0.000000001 rho requested for rel-c, but only 0 rho is left" "$WORK/err"
assert_grep "nothing was charged" "$WORK/err"
# a refused spend writes nothing: same audit head, same spends
$T log head | cmp -s - head_before.txt || die "a refused spend changed the audit trail"
$T budget spends releases | cmp -s - spends_before.txt || die "a refused spend was recorded"
# the spends, with their split in canonical form
assert_grep "rel-a .*0\.3 .*country:0.1,region:0.2" spends_before.txt
[ "$(grep -c ' releases ' spends_before.txt)" -eq 2 ] || die "expected 2 spends"
# show: total, spent, left in rho and nano-rho, epsilon at delta
$T budget show releases > show.txt
grep -q '^  total   1 .* 1000000000 .* 10\.1046 @ 1e-09' show.txt || { cat show.txt; die "show total"; }
grep -q '^  left    0 .* 0 ' show.txt || { cat show.txt; die "show left"; }
# 0.5 rho at delta 1e-5: 0.5 + 2 sqrt(0.5 ln 1e5) = 5.29853
$T budget set half 0.5 >/dev/null
$T budget show half --delta 1e-5 > half.txt
assert_grep "5.29853 @ 1e-05" half.txt
# totals: never below what is spent; raising makes room
expect_exit 65 $T budget set releases 0.999999999
assert_grep "below the 1 rho already spent" "$WORK/err"
$T budget set releases 1.25 >/dev/null
expect_exit 77 $T budget spend releases rel-c 0.250000001
assert_grep "only 0.25 rho is left" "$WORK/err"
$T budget spend releases rel-c 1/4 >/dev/null
# a split that does not add up is a bad value, and nothing is charged
$T budget set researcher:alice 0.5 >/dev/null
expect_exit 65 $T budget spend researcher:alice q1 0.3 --split a:0.1,b:0.1
assert_grep "add up to 0.2 rho, not the 0.3 rho" "$WORK/err"
$T budget spends researcher:alice | grep -q q1 && die "refused split was charged"
# every change is in the audit trail, which stays intact
$T log show > log.txt
assert_grep "budget.set .*budget=releases total=1 previous=none spent=0" log.txt
assert_grep "budget.spend .*budget=releases what=rel-a rho=0.3 left=0.7 split=country:0.1,region:0.2" log.txt
$T log verify >/dev/null

# --- the race ----------------------------------------------------------------
dec() { printf '%d.%09d' $(($1 / 1000000000)) $(($1 % 1000000000)); }
left_units() { $T budget show "$1" | awk '$1 == "left" { print $3 }'; }
$T budget set race 1 >/dev/null
L=1000000000
wins=0
for i in $(seq 1 20); do
	a=$((L / 2 + 1)); b=$((L / 2 + 2))     # each more than half of what is left
	rm -f go
	( while [ ! -e go ]; do sleep 0.005; done; exec $T budget spend race "r$i.a" "$(dec $a)" ) \
		>"a$i.out" 2>"a$i.err" &
	pa=$!
	( while [ ! -e go ]; do sleep 0.005; done; exec $T budget spend race "r$i.b" "$(dec $b)" ) \
		>"b$i.out" 2>"b$i.err" &
	pb=$!
	touch go
	set +e; wait $pa; ca=$?; wait $pb; cb=$?; set -e
	if [ "$ca" -eq 0 ] && [ "$cb" -eq 77 ]; then
		L=$((L - a)); grep -q "requested for r$i.b" "b$i.err" || die "round $i: refusal message"
	elif [ "$ca" -eq 77 ] && [ "$cb" -eq 0 ]; then
		L=$((L - b)); grep -q "requested for r$i.a" "a$i.err" || die "round $i: refusal message"
	else
		cat "a$i.err" "b$i.err" >&2
		die "round $i: exits $ca and $cb, expected one 0 and one 77"
	fi
	wins=$((wins + 1))
	[ "$(left_units race)" = "$L" ] || die "round $i: left $(left_units race), expected $L"
done
[ "$wins" -eq 20 ] || die "expected 20 winners"
# exactly one spend per round, and spent + left = total, never more
$T budget spends race > race.txt
[ "$(grep -c ' race ' race.txt)" -eq 20 ] || { cat race.txt; die "expected 20 spends"; }
spent=$($T budget show race | awk '$1 == "spent" { print $3 }')
[ $((spent + L)) -eq 1000000000 ] || die "spent $spent + left $L is not the total"
[ "$spent" -le 1000000000 ] || die "overspent: $spent"
[ "$($T log show | grep -c 'budget.spend .*budget=race ')" -eq 20 ] || die "audit: expected 20 race spends"
$T log verify >/dev/null
echo "ledger ok"
