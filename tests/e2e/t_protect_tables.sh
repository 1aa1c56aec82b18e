# Table releases: cell suppression and differential privacy over the cube
# of a small warehouse (the German case files), checked from the outside:
# no suppressed or unpublished cell carries a number, no small count is
# published, no hidden cell of a country's breakdown can be recovered by
# differencing it against its published total, quarters are not published;
# the DP release is consistent, charged to the ledger exactly once,
# re-issued without new noise, refused when over budget; a test seed is
# refused unless allowed and stamps NOT PRIVATE; reports are built from
# the releases.  (The full linear-programming attack on a suppressed cube
# is tests/unit/test_cubesupp.c.)
source "$REPO/tests/e2e/lib.sh"
export TIPSTAT_WAREHOUSE="$WORK/wh.db"
make_warehouse de_case
T=$TIPSTAT

# --- suppression -----------------------------------------------------------
$T protect --method suppression --supp-method heuristic --name supp1 -o rs > out.txt
assert_grep "every primary cell protected" out.txt
R=rs/release.csv
head -n 1 "$R" | grep -q '^geo_kind,geo,period,indicator,slot,status,value,lo,hi,moe_lo,moe_hi,flags,countries$' \
	|| die "release header"
# statuses present
for s in free primary secondary missing; do
	grep -q ",$s," "$R" || die "no $s cell in the release"
done
# a hidden or unpublished cell carries no number (value, lo, hi, moe_lo, moe_hi)
awk -F, 'NR > 1 && ($6 == "primary" || $6 == "secondary" || $6 == "missing") &&
	($7 != "" || $8 != "" || $9 != "" || $10 != "" || $11 != "") { print; bad++ }
	END { exit bad > 0 }' "$R" \
	|| die "a suppressed cell carries a number"
# no published count of 1..4 (threshold 5, zeros published)
awk -F, 'NR > 1 && $6 == "free" && $7 != "" && $7 >= 1 && $7 <= 4 { print; bad++ }
	END { exit bad > 0 }' "$R" || die "a small count is published"
# and no published interval that says "between 1 and 4"
awk -F, 'NR > 1 && $6 == "free" && $7 == "" && $8 >= 1 && $9 != "" && $9 <= 4 { print; bad++ }
	END { exit bad > 0 }' "$R" || die "a small interval is published"
# quarters are not published in an annual release
awk -F, 'NR > 1 && $3 ~ /-Q/ && $6 != "missing" { print; bad++ } END { exit bad > 0 }' "$R" \
	|| die "a quarter is published"
# differencing: in a country's family (SEX, AGE, GROUP, FORM, CIT) whose
# total is published, a single hidden cell would be total - the others
awk -F, 'NR > 1 && $1 == "country" && $3 !~ /-Q/ {
		k = $2 "," $3 "," $4
		if ($5 == "TOTAL") { tot[k] = $6; next }
		split($5, a, ":"); fam = a[1]; if (fam == "SEXAGE") next
		n[k "," fam]++
		if ($6 == "primary" || $6 == "secondary") h[k "," fam]++
	}
	END {
		for (f in n) {
			split(f, b, ","); k = b[1] "," b[2] "," b[3]
			if (tot[k] == "free" && h[f] == 1) { print "recoverable: " f; bad++ }
		}
		exit bad > 0
	}' "$R" || die "a hidden cell is recoverable by differencing"
# the independent LP attacker (tests/unit/test_attack_release.c) on this
# release: no primary cell narrowed; without the secondary cells it is
TIPSTAT_ATTACK_WH="$TIPSTAT_WAREHOUSE" TIPSTAT_ATTACK_REL=rs "$BUILD/tests/test_attack_release" > attack.txt 2>&1 \
	|| { cat attack.txt; die "the LP attacker narrowed a primary cell"; }
assert_grep "none narrowed" attack.txt
# registered, logged, no budget spent
$T log show | grep -q "release.create.*name=supp1 method=suppression" || die "not logged"
grep -q '"method": "suppression"' rs/release.json || die "method not in release.json"
grep -q '"private": true' rs/release.json || die "suppression release not private"
# the report from the release
$T report rs -o reps > /dev/null
assert_grep "suppress" reps/report.html
! grep -q "NOT PRIVATE" reps/report.html || die "protected report stamped NOT PRIVATE"
head -n 1 reps/tidy.csv | grep -q '^Iso3_code,Country,Region,Subregion,Indicator' || die "tidy header"
# an unknown secondary method is a usage error, nothing written
expect_exit 64 $T protect --method suppression --supp-method magic --name supp2 -o rs2
assert_no_file rs2

# --- differential privacy ----------------------------------------------------
# no budget yet: refused, nothing written
expect_exit 77 $T protect --method dp --rho 0.5 --name dp1 -o rd0
assert_grep "no budget" "$WORK/err"
assert_no_file rd0
$T budget set releases 1 > /dev/null
$T protect --method dp --rho 0.5 --name dp1 -o rd1 > dp.txt
assert_grep "charged to budget 'releases'" dp.txt
D=rd1/release.csv
# every published cell is noisy with its 90% interval [value - moe_lo,
# value + moe_hi]; quarters and unpublished cells carry nothing
awk -F, 'NR > 1 && $6 != "noisy" && $6 != "missing" { print; bad++ } END { exit bad > 0 }' "$D" \
	|| die "a DP release cell is neither noisy nor missing"
awk -F, 'NR > 1 && $6 == "noisy" && ($7 == "" || $7 < 0 || $10 == "" || $11 == "" || $10 < 0 ||
	$11 < 0 || $10 + $11 <= 0) { print; bad++ }
	END { exit bad > 0 }' "$D" || die "a noisy cell without value or margins, or negative"
# the interval never reaches below 0 and is not symmetric in general
# (true zeros released as 0 are covered by [0, hi])
awk -F, 'NR > 1 && $6 == "noisy" && $7 - $10 < -1e-9 { print; bad++ } END { exit bad > 0 }' "$D" \
	|| die "a noisy cell's interval reaches below 0"
awk -F, 'NR > 1 && $6 == "noisy" && $10 != $11 { n++ } END { exit n == 0 }' "$D" \
	|| die "no asymmetric interval in the DP release"
# margins in plain decimals (whole ones are common: 50, not 5e+01)
! grep -q 'e[+-][0-9]' "$D" || die "a number in exponent form in the DP release"
awk -F, 'NR > 1 && $6 == "missing" && ($7 != "" || $10 != "" || $11 != "") { print; bad++ }
	END { exit bad > 0 }' "$D" \
	|| die "a missing cell carries a number"
# consistency: the world total of a year is the sum of the country totals,
# and every country's SEX family sums to its total
awk -F, 'NR > 1 && $6 == "noisy" && $5 == "TOTAL" {
		if ($1 == "world") w[$3 "," $4] = $7; if ($1 == "country") c[$3 "," $4] += $7 }
	NR > 1 && $6 == "noisy" && $1 == "country" && $5 ~ /^SEX:/ { s[$2 "," $3 "," $4] += $7 }
	NR > 1 && $6 == "noisy" && $1 == "country" && $5 == "TOTAL" { t[$2 "," $3 "," $4] = $7 }
	END {
		for (k in w) if (w[k] != c[k]) { print "world " k; bad++ }
		for (k in s) if (s[k] != t[k]) { print "sex " k; bad++ }
		exit bad > 0
	}' "$D" || die "DP release not consistent"
grep -q '"method": "dp"' rd1/release.json || die "method"
grep -q '"private": true' rd1/release.json || die "DP release not private"
# one spend of exactly 0.5, split over the tables
$T budget show releases > b.txt
assert_grep "0.5" b.txt
[ "$($T budget spends releases | grep -c dp1)" -ge 1 ] || die "spend not listed"
# re-running the release re-issues the stored answers: same numbers, no charge
head_before=$($T log head)
$T protect --method dp --rho 0.5 --name dp1 -o rd1b > again.txt
assert_grep "no new noise" again.txt
cmp -s rd1/release.csv rd1b/release.csv || die "re-run drew new noise"
[ "$($T log head)" = "$head_before" ] || die "re-run changed the warehouse"
# over budget (0.6 > 0.5 left): refused with 77, nothing written, nothing charged
expect_exit 77 $T protect --method dp --rho 0.6 --name dp2 -o rd2
assert_grep "only 0.5 rho is left" "$WORK/err"
assert_no_file rd2
[ "$($T log head)" = "$head_before" ] || die "a refused release changed the warehouse"
# an inexact or non-positive rho is a usage error
expect_exit 64 $T protect --method dp --rho 1e-12 --name dp3 -o rd3
expect_exit 64 $T protect --method dp --rho 0 --name dp3 -o rd3
# the exact rest of the budget can be spent
$T protect --method dp --rho 0.5 --name dp4 -o rd4 > /dev/null
$T budget show releases | grep -q "left *0 " || die "budget not exactly spent"
# a test seed: refused unless allowed; then NOT PRIVATE, free, reproducible
expect_exit 64 $T protect --method dp --seed 7 --name seeded -o rs7
assert_grep "TIPSTAT_ALLOW_TEST_SEED" "$WORK/err"
TIPSTAT_ALLOW_TEST_SEED=1 $T protect --method dp --seed 7 --name seeded -o rs7 > seed.txt
assert_grep "NOT PRIVATE" seed.txt
grep -q '"private": false' rs7/release.json || die "seeded release claims privacy"
grep -q '"seed": 7' rs7/release.json || die "seed not recorded"
# ... the seed is not a way around the ledger: the budget is spent, yet the
# seeded release was made; and the same seed gives the same noise
wh2="$WORK/wh2.db"; cp "$TIPSTAT_WAREHOUSE" "$wh2"
TIPSTAT_ALLOW_TEST_SEED=1 $T protect -w "$wh2" --method dp --seed 7 --name seeded2 -o rs7b > /dev/null
cmp -s rs7/release.csv rs7b/release.csv || die "same seed, different noise"
# reports from the DP release show margins; from the seeded one, the stamp
$T report rd1 -o repd > /dev/null
assert_grep "90% margin" repd/report.html
! grep -q "NOT PRIVATE" repd/report.html || die "DP report stamped NOT PRIVATE"
$T report rs7 -o rep7 > /dev/null
assert_grep "NOT PRIVATE" rep7/report.html
$T log verify > /dev/null
echo "table releases ok"
