# Researcher accounts and `tipstat query`: grant, sign, ask, budget left;
# refusals (bad signature, unsigned, unknown, expired, revoked, exhausted
# budget) exit 77 and charge nothing; bad requests (grouping by the case
# key, unknown dimensions) exit 65; a repeated question is answered from
# the store, identical and free; a margin of a stored table is derived
# free and equals the sums of the stored cells; 10 rounds of two queries
# racing for the last of a budget: exactly one wins; every query audited.
source "$REPO/tests/e2e/lib.sh"
export TIPSTAT_WAREHOUSE="$WORK/wh.db"
T=$TIPSTAT
make_warehouse de_case

# --- help, usage ------------------------------------------------------------
for c in researcher request query; do
	$T $c --help > help.txt
	assert_grep "exit codes" help.txt
	$T --help | grep -q "^  $c " || die "$c not listed in tipstat --help"
done
expect_exit 64 $T researcher
expect_exit 64 $T researcher grant alice
expect_exit 64 $T researcher grant alice --key x --rho 1 --expires 2099-13-01
expect_exit 64 $T query
expect_exit 64 $T request sign x

# --- accounts ---------------------------------------------------------------
$T keygen --demo --type office --country FRA -o alice.key >/dev/null
$T keygen --demo --type office --country ITA -o bob.key >/dev/null
$T keygen --demo --type office --country ESP -o carol.key >/dev/null
$T keygen --demo --type office --country PRT -o dave.key >/dev/null
$T researcher grant alice --key alice.key.pub --rho 0.5 --expires 2099-12-31 > g.txt
assert_grep "budget 0.5 rho, valid through 2099-12-31" g.txt
expect_exit 65 $T researcher grant alice --key bob.key.pub --rho 1 --expires 2099-12-31
assert_grep "already has an account" "$WORK/err"
expect_exit 65 $T researcher grant other --key alice.key.pub --rho 1 --expires 2099-12-31
assert_grep "already belongs to another account" "$WORK/err"
$T researcher grant carol --key carol.key.pub --rho 1 --expires 2020-01-01 >/dev/null
$T researcher grant dave --key dave.key.pub --rho 1 --expires 2099-12-31 >/dev/null
$T researcher revoke dave > r.txt
assert_grep "dave: revoked" r.txt
$T researcher list > list.txt
grep -q '^alice .* active .*0\.5 ' list.txt || { cat list.txt; die "alice not active"; }
grep -q '^carol .* expired ' list.txt || { cat list.txt; die "carol not expired"; }
grep -q '^dave .* revoked ' list.txt || { cat list.txt; die "dave not revoked"; }
$T log show > log.txt
assert_grep "researcher.grant .*researcher=alice .*rho=0.5 expires=2099-12-31" log.txt
assert_grep "researcher.revoke .*researcher=dave" log.txt

# --- requests ---------------------------------------------------------------
ask() { # ask ID FILE LINES... : write a request and sign it with ID's key
	local id=$1 f=$2; shift 2
	{ echo "researcher=$id"; printf '%s\n' "$@"; } > "$f"
	$T request sign --key "$id.key" "$f" -o "$f.signed" >/dev/null
}
ask alice bad1 indicator=VIC group-by=country,key rho=0.1 2>/dev/null || true
expect_exit 65 $T request check bad1
assert_grep "bad1:3:.*refused: grouping by 'key' would single out records" "$WORK/err"
printf 'researcher=alice\nindicator=VIC\ngroup-by=country,shoe_size\nrho=0.1\n' > bad2
expect_exit 65 $T request check bad2
assert_grep "bad2:3:18: error: cannot group by 'shoe_size'" "$WORK/err"
printf 'researcher=alice\nindicator=VIC\nfilter=form:nonsense\nrho=0.1\n' > bad3
expect_exit 65 $T request check bad3
assert_grep "unknown form code 'nonsense'" "$WORK/err"

# --- two questions, budget left -------------------------------------------
ask alice q1 indicator=VIC group-by=country,year,sex rho=0.1
$T request check q1 > chk.txt
assert_grep "indicator=VIC;group-by=country,year,sex" chk.txt
assert_grep "researcher alice, rho 0.1, not signed" chk.txt
$T request check q1.signed > chk.txt
assert_grep "signed (verified by tipstat query)" chk.txt
$T query q1.signed -o a1.csv > o1.txt
assert_grep "fresh, 96 cells, noise rho 0.1, charged 0.1 rho" o1.txt
assert_grep "budget researcher:alice: 0.4 rho left of 0.5" o1.txt
head -1 a1.csv | grep -qx 'country,year,sex,value,moe_lo,moe_hi' || die "answer header"
[ "$(wc -l < a1.csv)" -eq 97 ] || die "96 cells expected"
ask alice q2 indicator=victims group-by=age moe=10 "filter=form:LAB,country:AUT"
$T query q2.signed -o a2.csv > o2.txt
assert_grep "indicator=VIC;group-by=world,age;filter=country:AUT,form:LAB" o2.txt
assert_grep "fresh, 3 cells" o2.txt
awk -F, 'NR > 1 && ($NF > 10 || $(NF-1) > 10) { exit 1 }' a2.csv || die "moe=10 not met"
$T budget show researcher:alice > b.txt
grep -q '^  spent   0\.1[0-9]* ' b.txt || { cat b.txt; die "spent"; }

# --- repeated: identical, free ----------------------------------------------
$T budget spends researcher:alice > spends0.txt
$T query q1.signed -o a1b.csv > o1b.txt
cmp a1.csv a1b.csv || die "a repeated question got another answer"
assert_grep "cached (asked before).*charged 0 rho" o1b.txt
# the same question from another researcher (different words, same canonical question)
$T researcher grant bob --key bob.key.pub --rho 0.01 --expires 2099-12-31 >/dev/null
ask bob q1bob indicator=VIC group-by=sex,year,country rho=0.05 nonce=1
$T query q1bob.signed -o a1c.csv > o1c.txt
cmp a1.csv a1c.csv || die "the same question from bob got another answer"
assert_grep "budget researcher:bob: 0.01 rho left of 0.01" o1c.txt

# --- derived: a margin of the stored table, free and consistent ------------
# summing 24 cells of rho 0.1 gives the accuracy of rho 0.1/24: enough for 0.004
ask alice q3 indicator=VIC group-by=region,sex rho=0.004
$T query q3.signed -o a3.csv > o3.txt
assert_grep "derived from answer 1 (its margin), 4 cells, charged 0 rho" o3.txt
awk -F, 'NR > 1 { s[$3] += $4 } END { for (k in s) print k "," s[k] }' a1.csv | sort > sums1
awk -F, 'NR > 1 { print $2 "," $3 }' a3.csv | sort > sums3
cmp sums1 sums3 || die "derived cells are not the sums of the stored cells"
ask alice q4 indicator=VIC group-by=year rho=0.005
$T query q4.signed -o a4.csv > o4.txt
assert_grep "derived" o4.txt
awk -F, 'NR > 1 { s[$2] += $4 } END { for (k in s) print k "," s[k] }' a1.csv | sort > y1
tail -n +2 a4.csv | cut -d, -f2,3 | sort > y4
cmp y1 y4 || die "derived year totals differ from the stored cells"
$T budget spends researcher:alice | cmp -s - spends0.txt || die "free answers were charged"
# a selection: sex F only, by year, from the country x year x sex table
ask alice q4s indicator=VIC group-by=year filter=sex:F rho=0.01
$T query q4s.signed -o a4s.csv > o4s.txt
assert_grep "derived from answer 1" o4s.txt
awk -F, 'NR > 1 && $3 == "F" { s[$2] += $4 } END { for (k in s) print k "," s[k] }' a1.csv | sort > yf1
tail -n +2 a4s.csv | cut -d, -f2,3 | sort > yf4
cmp yf1 yf4 || die "selected cells differ from the stored cells"
# a margin asked more accurately than the stored table allows is answered fresh
ask alice q3m indicator=VIC group-by=region,sex moe=5
$T query q3m.signed -o a3m.csv > o3m.txt
assert_grep "fresh, 4 cells" o3m.txt
awk -F, 'NR > 1 && ($NF > 5 || $(NF-1) > 5) { exit 1 }' a3m.csv || die "moe=5 not met"
# every interval [value - moe_lo, value + moe_hi] lies in [0, inf): fresh and derived
for f in a1.csv a3.csv a3m.csv; do
	awk -F, 'NR > 1 && ($(NF-2) - $(NF-1) < 0 || $(NF-1) < 0 || $NF < 0) { exit 1 }' "$f" ||
		die "$f: an interval reaches below 0"
done
# a derived sum of 24 cells (sigma^2 5) is built on its unclamped sum: the belt's
# interval is 2 x 1.645 sqrt(120) = 36 wide, at least 1.645 sqrt(120) = 18 near 0
# (whole numbers inside: 17 or more), widened if need be to hold the value
awk -F, 'NR > 1 && $(NF-1) + $NF < 17 { exit 1 }' a3.csv ||
	die "derived interval narrower than its belt allows"

# --- refusals: 77, nothing charged ---------------------------------------
$T log head > head0.txt
$T budget spends > allspends0.txt
ask alice q5 indicator=VIC group-by=country,form rho=0.1
sed 's/^group-by=country,form$/group-by=country,age/' q5.signed > q5.forged
expect_exit 77 $T query q5.forged -o x.csv
assert_grep "bad signature" "$WORK/err"
assert_grep "nothing was charged" "$WORK/err"
assert_no_file x.csv
grep -v '^signature=' q5.signed > q5.unsigned
expect_exit 77 $T query q5.unsigned -o x.csv
assert_grep "not signed" "$WORK/err"
sed 's/^researcher=alice$/researcher=bob/' q5 > q5b
$T request sign --key alice.key q5b -o q5b.signed >/dev/null
expect_exit 77 $T query q5b.signed -o x.csv
assert_grep "bad signature" "$WORK/err"
ask carol q6 indicator=VIC group-by=country,form rho=0.1
expect_exit 77 $T query q6.signed -o x.csv
assert_grep "expired on 2020-01-01" "$WORK/err"
ask dave q7 indicator=VIC group-by=country,form rho=0.1
expect_exit 77 $T query q7.signed -o x.csv
assert_grep "revoked" "$WORK/err"
ask alice q8 indicator=VIC group-by=country,form rho=1
expect_exit 77 $T query q8.signed -o x.csv
grep -q "only 0\.[0-9]* rho is left" "$WORK/err" || { cat "$WORK/err"; die "amount left"; }
assert_no_file x.csv
$T budget spends | cmp -s - allspends0.txt || die "a refused query was charged"
$T log show > log2.txt
[ "$(grep -c 'query.refused' log2.txt)" -eq 6 ] || { grep query log2.txt; die "6 refusals audited"; }
assert_grep "query.refused .*researcher=alice .*reason=overspend" log2.txt
assert_grep "query.refused .*researcher=carol .*reason=expired" log2.txt
assert_grep "query.answer .*researcher=alice .*charged=0.1 left=0.4" log2.txt
[ "$(grep -c 'query.answer' log2.txt)" -eq 3 ] || die "3 paid answers"
assert_grep "query.cached .*researcher=bob " log2.txt
assert_grep "query.derived .*researcher=alice .*eff_rho=[0-9.]* charged=0 from=1" log2.txt
$T log verify > /dev/null

# --- race: two queries for the last of a budget ---------------------------
$T keygen --demo --type office --country DEU -o erin.key >/dev/null
$T researcher grant erin --key erin.key.pub --rho 1 --expires 2099-12-31 >/dev/null
n=0
for y in 2019 2020 2021 2022 2023; do for s in F M O U; do
	n=$((n + 1)); ask erin "race$n" indicator=VIC group-by=country,age rho=0.6 \
		"filter=year:$y,sex:$s"
done; done
for round in $(seq 1 10); do
	total=$(awk -v r="$round" 'BEGIN { printf "%.1f", 0.6 * (r - 1) + 1 }')
	$T researcher raise erin --rho "$total" >/dev/null   # left: 1 each round
	a=$((2 * round - 1)); b=$((2 * round))
	set +e
	$T query "race$a.signed" -o "ra$round.csv" >/dev/null 2>"ea$round" & pa=$!
	$T query "race$b.signed" -o "rb$round.csv" >/dev/null 2>"eb$round" & pb=$!
	wait $pa; ca=$?; wait $pb; cb=$?
	set -e
	wins=$(( (ca == 0) + (cb == 0) )); loss=$(( (ca == 77) + (cb == 77) ))
	[ "$wins" -eq 1 ] && [ "$loss" -eq 1 ] || { cat "ea$round" "eb$round"; die "round $round: exits $ca $cb"; }
done
$T budget show researcher:erin > be.txt
grep -q '^  spent   6 ' be.txt || { cat be.txt; die "erin should have spent exactly 10 x 0.6"; }

# --- export: published tables for researchers ------------------------------
$T export --help > help.txt
assert_grep "README.md" help.txt
expect_exit 64 $T export rd
expect_exit 66 $T export nothere -o ex0
$T budget set releases 1 > /dev/null
$T protect --method dp --rho 0.5 --name dp1 -o rd > /dev/null
$T export rd -o ex > ex.txt
assert_grep "tidy.csv, sdmx.csv, dsd.json, README.md" ex.txt
for f in tidy.csv sdmx.csv dsd.json README.md; do [ -s "ex/$f" ] || die "export: no $f"; done
head -1 ex/tidy.csv | grep -q '^Iso3_code,.*,Status,Flags,Lower,Upper,MOE,Countries$' || die "tidy header"
head -1 ex/sdmx.csv | grep -q '^DATAFLOW,REF_AREA,.*OBS_STATUS,CONF_STATUS' || die "sdmx header"
grep -q ',noisy,' ex/tidy.csv || die "no noisy cells in the DP export"
assert_grep "Differential privacy" ex/README.md
assert_grep "rho = 0.5" ex/README.md
assert_grep "90% margins" ex/README.md
assert_grep "| secondary | A / D |" ex/README.md
if grep -q "NOT PRIVATE" ex/README.md; then die "a private release called NOT PRIVATE"; fi
$T protect --method suppression --supp-method heuristic --name supp1 -o rs > /dev/null
$T export rs -o exs > /dev/null
assert_grep "Cell suppression" exs/README.md
grep -q ',primary,' exs/tidy.csv || die "no primary cells in the suppression export"
echo "t_query ok"
