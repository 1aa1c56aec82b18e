# The cube's merge path (aggregator/whcube.h: each country's submissions
# read once and merged by case key) against its reference (every record
# through the external sort), on a warehouse built from the bundled
# submissions of every layout: the same cube, cell for cell, now and as of
# every load (tools/cube_compare).
source "$REPO/tests/e2e/lib.sh"
export TIPSTAT_WAREHOUSE="$WORK/wh.db"
make_warehouse de_case es_case en_case unodc_long pipe_quarterly
"$BUILD/tools/cube_compare" "$TIPSTAT_WAREHOUSE" >cmp.txt || { cat cmp.txt; die "the merge and the sort give different cubes"; }
assert_grep "^as of 0: identical" cmp.txt
# every load was compared, and persons re-reported in a later submission
# were merged (so the key merge across submissions was exercised)
loads=$(grep -c "identical" cmp.txt)
[ "$loads" -gt 20 ] || die "only $loads states compared"
grep "^as of 0:" cmp.txt | grep -Eq "\([1-9][0-9]* re-reports" || die "no re-report merged: $(grep '^as of 0:' cmp.txt)"
echo "cube merge = sort ok ($loads states)"
