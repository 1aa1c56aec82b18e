# Record-level releases under k-anonymity: every published combination of
# quasi-identifiers is shared by at least k records (checked here
# independently of privacy/kanon.c), no case key or identifier is
# published, the release is registered and logged, and impossible
# requirements are refused without leaving anything behind.
source "$REPO/tests/e2e/lib.sh"
export TIPSTAT_WAREHOUSE="$WORK/wh.db"
make_warehouse de_case es_case en_case
T=$TIPSTAT
check_k() { # FILE K NCOLS: every combination of the first NCOLS columns occurs >= K times
	tail -n +2 "$1" | cut -d, -f1-"$3" | sort | uniq -c | awk -v k="$2" '$1 < k { bad++ } END { exit bad > 0 }' \
		|| die "$1: a class smaller than $2"
}
$T protect --method kanon --name rec_k11 -o rel11 > out.txt
assert_grep "records published" out.txt
check_k rel11/records.csv 11 7
[ "$(tail -n +2 rel11/records.csv | wc -l)" -gt 5000 ] || die "too few records published"
$T protect --method kanon -k 3 -l 2 --name rec_k3 -o rel3 > out3.txt
check_k rel3/records.csv 3 6   # form is the sensitive attribute
# l-diversity: every class of the five QIs has >= 2 forms
tail -n +2 rel3/records.csv | awk -F, '{ q=$1","$2","$3","$4","$5","$6; f[q","$7]=1 }
	END { for (x in f) { split(x, a, ","); n[a[1]","a[2]","a[3]","a[4]","a[5]","a[6]]++ }
	      for (q in n) if (n[q] < 2) bad++; exit bad > 0 }' || die "a class with one form"
# nothing identifying: no 32-hex case key, no planted identifier
! grep -qE '[0-9a-f]{32}' rel11/records.csv rel3/records.csv || die "case key published"
! grep -F -f "$REPO/datasets/truth/planted_identifiers.txt" -r rel11 rel3 || die "identifier leaked"
# registered and in the audit trail
$T log show | grep -q "release.create.*name=rec_k11 method=kanon" || die "release not logged"
$T log verify >/dev/null
# the same name twice: refused, nothing written
expect_exit 65 $T protect --method kanon --name rec_k11 -o again
assert_grep "already exists" "$WORK/err"
assert_no_file again
# an impossible k within the suppression cap: refused with 77, no output
expect_exit 77 $T protect --method kanon -k 100000 --max-suppress 0 --name too_big -o big
assert_no_file big
# an existing output directory is never overwritten
mkdir keep; expect_exit 73 $T protect --method kanon --name x1 -o keep
# the aggregator overview over the same warehouse
$T aggregate > agg.txt
assert_grep "^World " agg.txt
assert_grep "comparable panel" agg.txt
expect_exit 66 $T aggregate --warehouse nothere.db
# the internal cube as a NOT PRIVATE release, and its reports
$T aggregate -o cube >/dev/null
grep -q '"private": false' cube/release.json || die "cube release not stamped"
$T report cube -o rep >/dev/null
for f in tidy.csv sdmx.csv dsd.json report.html; do [ -s "rep/$f" ] || die "report: no $f"; done
assert_grep "NOT PRIVATE" rep/report.html
head -n 1 rep/tidy.csv | grep -q '^Iso3_code,Country,Region,Subregion,Indicator,Dimension,Category,Sex,Age,Year,Unit of measurement,VALUE' || die "tidy header"
# a damaged release is refused and nothing is written
sed -i '3s/,free,/,primary,/' cube/release.csv
expect_exit 65 $T report cube -o rep2
assert_no_file rep2
echo "kanon releases ok"
