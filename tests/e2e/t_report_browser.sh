# The HTML report in a real browser: a DP release and a suppression release
# of a small warehouse (the German case files) are reported, and each
# report.html is rendered by headless Chromium to PNG and PDF.  The test
# fails when the page is blank, when a chart figure has no SVG or the SVG
# was not painted, or when a number shown in the page's tables differs
# from tidy.csv (every table cell carries data- attributes naming its
# cell; tests/e2e/report_check.py matches them to tidy.csv rows on the DOM
# Chromium serialises after loading the page).
#
# Without Chromium: as root with apt-get the test installs the Debian
# package `chromium` (CI installs it up front, see .ci/run); otherwise, or
# when that fails, it is skipped with a message.  Under valgrind
# (scripts/valgrind.sh) it is skipped: it checks the page, not memory, and
# t_protect_tables already runs `tipstat report` there.
source "$REPO/tests/e2e/lib.sh"
if [ -n "${TIPSTAT_UNDER_VALGRIND:-}" ]; then
	echo "SKIP t_report_browser: not under valgrind"
	exit 0
fi
find_chromium() {
	for c in chromium chromium-browser google-chrome; do
		if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi
	done
	return 1
}
CHROMIUM=${CHROMIUM:-$(find_chromium || true)}
if [ -z "$CHROMIUM" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "t_report_browser: installing chromium (apt-get install chromium)"
	DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq chromium >/dev/null 2>&1 || true
	CHROMIUM=$(find_chromium || true)
fi
if [ -z "$CHROMIUM" ]; then
	echo "SKIP t_report_browser: chromium not installed and not installable here" \
		"(not root, no apt-get, or no network): apt-get install chromium"
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
chrome() { # chrome ARGS...: headless, own profile, stderr to a log, bounded in time
	timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$(mktemp -d "$WORK/profile.XXXXXX")" "$@" 2>>"$WORK/chromium.log"
}
size() { stat -c %s "$1"; }

# render: one Chromium run writes the screenshot, the PDF and the DOM (a
# browser that does only one per run gets three runs); both reports at once
render() {
	local rep=$1 page="file://$WORK/$1/report.html"
	chrome --screenshot="$WORK/$rep.png" --print-to-pdf="$WORK/$rep.pdf" --no-pdf-header-footer \
		--dump-dom --window-size=1200,3000 "$page" > "$WORK/$rep.dom" || return 1
	[ -s "$rep.png" ] || chrome --screenshot="$WORK/$rep.png" --window-size=1200,3000 "$page" \
		> /dev/null || return 1
	[ -s "$rep.pdf" ] || chrome --print-to-pdf="$WORK/$rep.pdf" --no-pdf-header-footer "$page" \
		> /dev/null || return 1
	grep -q "</html>" "$rep.dom" || chrome --dump-dom "$page" > "$WORK/$rep.dom"
}
render repd & pd=$!
render reps & ps=$!
wait $pd || { tail -n 20 "$WORK/chromium.log" >&2; die "repd: chromium failed"; }
wait $ps || { tail -n 20 "$WORK/chromium.log" >&2; die "reps: chromium failed"; }
for rep in repd reps; do
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
# the checks can fail: a changed number, a suppressed cell given a number,
# a chart without its SVG, a blank page
python3 - reps.dom <<'EOP'
import re, sys
s = open(sys.argv[1], encoding="utf-8").read()
# the first free exact cell, its number plus one
m = re.search(r'(data-status="free">)(\d+)', s)
open("bad1.dom", "w").write(s[:m.start(2)] + str(int(m.group(2)) + 1) + s[m.end(2):])
# the first primary cell shows a number
open("bad2.dom", "w").write(re.sub(r'(data-status="primary">)x', r'\g<1>3', s, count=1))
# the first chart loses its svg
open("bad3.dom", "w").write(re.sub(r'<svg.*?</svg>', '', s, count=1, flags=re.S))
import struct, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
w, h = 400, 300
raw = b"".join(b"\x00" + b"\xff" * (3 * w) for _ in range(h))
open("white.png", "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
EOP
expect_exit 1 $CHECK dom bad1.dom reps/tidy.csv
assert_grep "page shows" "$WORK/err"
expect_exit 1 $CHECK dom bad2.dom reps/tidy.csv
assert_grep "page shows '3'" "$WORK/err"
expect_exit 1 $CHECK dom bad3.dom reps/tidy.csv
assert_grep "holds 0 <svg>" "$WORK/err"
expect_exit 1 $CHECK png white.png
assert_grep "the page is blank" "$WORK/err"
echo "report in the browser ok"
