# The HTML report in a real browser: a DP release and a suppression release
# of a small warehouse (the German case files) are reported, and each
# report.html is rendered by headless Chromium to PNG and PDF.  The test
# fails when the page is blank, when a chart figure has no SVG or the SVG
# was not painted, or when a number shown in the page's tables differs
# from tidy.csv (every table cell carries data- attributes naming its
# cell; tests/e2e/report_check.py matches them to tidy.csv rows on the DOM
# Chromium serialises after loading the page).
#
# Without Chromium the test is skipped with a message (CI installs the
# Debian package `chromium`, see .ci/run).
source "$REPO/tests/e2e/lib.sh"
CHROMIUM=${CHROMIUM:-}
if [ -z "$CHROMIUM" ]; then
	for c in chromium chromium-browser google-chrome; do
		if command -v "$c" >/dev/null 2>&1; then CHROMIUM=$(command -v "$c"); break; fi
	done
fi
if [ -z "$CHROMIUM" ]; then
	echo "SKIP t_report_browser: no chromium (Debian: apt-get install chromium)"
	exit 0
fi
command -v python3 >/dev/null || { echo "SKIP t_report_browser: no python3"; exit 0; }
CHECK="python3 $REPO/tests/e2e/report_check.py"

export TIPSTAT_WAREHOUSE="$WORK/wh.db"
make_warehouse de_case
T=$TIPSTAT
$T budget set releases 1 > /dev/null
$T protect --method dp --rho 0.5 --name dp1 -o rd > /dev/null
$T protect --method suppression --supp-method heuristic --name supp1 -o rs > /dev/null
$T report rd -o repd > /dev/null
$T report rs -o reps > /dev/null

# Chromium wants a writable home and profile; no sandbox (root, containers)
export HOME="$WORK/home"
mkdir -p "$HOME"
chrome() { # chrome OUTFILE_OR_- ARGS... : run headless, quiet, bounded in time
	timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$WORK/profile" "$@" 2>>"$WORK/chromium.log"
}
size() { stat -c %s "$1"; }

for rep in repd reps; do
	page="file://$WORK/$rep/report.html"
	chrome --screenshot="$WORK/$rep.png" --window-size=1200,3000 "$page" > /dev/null \
		|| { tail -n 20 "$WORK/chromium.log" >&2; die "$rep: chromium screenshot failed"; }
	chrome --print-to-pdf="$WORK/$rep.pdf" --no-pdf-header-footer "$page" > /dev/null \
		|| { tail -n 20 "$WORK/chromium.log" >&2; die "$rep: chromium print-to-pdf failed"; }
	chrome --dump-dom "$page" > "$WORK/$rep.dom" \
		|| { tail -n 20 "$WORK/chromium.log" >&2; die "$rep: chromium dump-dom failed"; }
	[ -s "$rep.png" ] && [ "$(size "$rep.png")" -gt 20000 ] || die "$rep: PNG missing or tiny"
	[ -s "$rep.pdf" ] && [ "$(size "$rep.pdf")" -gt 20000 ] || die "$rep: PDF missing or tiny"
	[ "$(size "$rep.dom")" -gt 10000 ] || die "$rep: DOM dump missing or tiny"
	$CHECK png "$rep.png" || die "$rep: blank or chartless screenshot"
	$CHECK pdf "$rep.pdf" || die "$rep: bad PDF"
done
# the DOM: charts, and the tables' numbers against tidy.csv, with the
# statuses each kind of release must show
$CHECK dom repd.dom repd/tidy.csv --expect noisy || die "DP report"
$CHECK dom reps.dom reps/tidy.csv --expect free,primary,secondary || die "suppression report"
# the suppression page explains its marks; the DP page its margins
grep -q "suppressed: a small cell" reps.dom || die "no footnote for primary suppression"
grep -q "90% margin of error" repd.dom || die "no footnote for the margins"
grep -q "Coverage: countries contributing" reps.dom || die "no coverage footnote"
# subregions have tables of their own (the warehouse is Western Europe)
grep -q 'data-kind="subregion"' reps.dom || die "no subregion table"
echo "report in the browser ok"
