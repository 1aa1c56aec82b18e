#!/usr/bin/env python3
"""Checks on a report rendered by a real browser (tests/e2e/t_report_browser.sh).

Standard library only (zlib, struct, csv, html.parser), so the test needs
nothing but python3 and the browser.

  report_check.py png FILE.png
      Decode the screenshot (8-bit RGB/RGBA, not interlaced: what Chromium
      writes) and fail when the page is blank: too few non-white pixels, too
      few colours, or no pixel of the charts' first colour (#1f4e79, used by
      the SVG charts only, never by the page's CSS), which proves an SVG was
      painted.
  report_check.py pdf FILE.pdf
      A PDF header and trailer and at least one page.
  report_check.py dom DOM.html TIDY.csv [--expect STATUS,...]
      On the DOM Chromium serialised after loading the page: every chart
      figure holds an <svg> that draws something; every table cell carrying
      data- attributes shows exactly what tidy.csv says for that cell (status,
      value, 90% margin rounded to one decimal, interval, suppression mark,
      flags; the coverage row against the Countries column); cells marked
      "absent" have no tidy row.  --expect: statuses that must occur among the
      checked cells.

Exit 0 when every check holds, 1 with a message naming the first failures.
"""
import csv
import html.parser
import struct
import sys
import zlib

CHART_RGB = (0x1F, 0x4E, 0x79)


def fail(msg):
    print("report_check: " + msg, file=sys.stderr)
    sys.exit(1)


# --- PNG --------------------------------------------------------------------

def _add_bytes(a, b):
    """Bytewise (a + b) mod 256 of two equal-length byte strings, SWAR on
    Python integers (the 'Up' filter without a Python loop per byte)."""
    n = len(a)
    x = int.from_bytes(a, "big")
    y = int.from_bytes(b, "big")
    lo = int.from_bytes(b"\x7f" * n, "big")
    hi = int.from_bytes(b"\x80" * n, "big")
    s = ((x & lo) + (y & lo)) ^ ((x ^ y) & hi)
    return s.to_bytes(n, "big")


def png_pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s: not a PNG" % path)
    pos, idat, ihdr = 8, [], None
    while pos + 8 <= len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if typ == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", chunk)
        elif typ == b"IDAT":
            idat.append(chunk)
        elif typ == b"IEND":
            break
    if not ihdr:
        fail("%s: no IHDR" % path)
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        fail("%s: unsupported PNG (depth %d, colour type %d, interlace %d)"
             % (path, depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    if len(raw) != h * (stride + 1):
        fail("%s: truncated image data" % path)
    prev = bytes(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
        if f == 0:
            cur = line
        elif f == 2:
            cur = _add_bytes(line, prev)
        else:
            cur = bytearray(line)
            for i in range(stride):
                a = cur[i - bpp] if i >= bpp else 0
                if f == 1:
                    cur[i] = (cur[i] + a) & 255
                elif f == 3:
                    cur[i] = (cur[i] + ((a + prev[i]) >> 1)) & 255
                elif f == 4:
                    b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                    cur[i] = (cur[i] + pr) & 255
                else:
                    fail("%s: bad filter %d on row %d" % (path, f, y))
            cur = bytes(cur)
        rows.append(cur)
        prev = cur
    return w, h, bpp, rows


def _flags(channel, value):
    """An integer with one bit per pixel: 1 where the channel differs from
    value (bytes.translate and big-integer logic: no loop per pixel)."""
    table = bytes(0 if i == value else 1 for i in range(256))
    return int.from_bytes(channel.translate(table), "big")


def check_png(path):
    w, h, bpp, rows = png_pixels(path)
    nonwhite = chart = 0
    colours = set()
    ones = int.from_bytes(b"\x01" * w, "big")
    for y, row in enumerate(rows):
        r, g, b = row[0::bpp], row[1::bpp], row[2::bpp]
        nonwhite += (_flags(r, 255) | _flags(g, 255) | _flags(b, 255)).bit_count()
        same = ones ^ (_flags(r, CHART_RGB[0]) | _flags(g, CHART_RGB[1]) | _flags(b, CHART_RGB[2]))
        chart += same.bit_count()
        if y % 8 == 0 and len(colours) < 5000:
            colours.update(zip(r, g, b))
    frac = nonwhite / float(w * h)
    print("png %dx%d: %.2f%% non-white pixels, %d colours sampled, %d chart-colour pixels"
          % (w, h, 100 * frac, len(colours), chart))
    if frac < 0.01:
        fail("%s: the page is blank (%.3f%% non-white)" % (path, 100 * frac))
    if len(colours) < 16:
        fail("%s: only %d colours: nothing but flat areas" % (path, len(colours)))
    if chart < 200:
        fail("%s: no chart painted (%d pixels of #1f4e79)" % (path, chart))


def check_pdf(path):
    data = open(path, "rb").read()
    if not data.startswith(b"%PDF-"):
        fail("%s: not a PDF" % path)
    if b"%%EOF" not in data[-1024:]:
        fail("%s: no PDF trailer" % path)
    pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
    pages += data.count(b"/Type/Page") - data.count(b"/Type/Pages")
    if pages < 1:
        fail("%s: no page" % path)
    print("pdf: %d bytes, %d pages" % (len(data), pages))


# --- DOM --------------------------------------------------------------------

class Dom(html.parser.HTMLParser):
    """Collects chart figures (and what their SVG draws) and data cells
    (their attributes, text outside <sup>, and the texts of the <sup>s)."""

    DRAW = {"path", "rect", "circle", "line", "polyline", "polygon"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.figures = []     # [id, n_svg, n_drawn]
        self.fig = None
        self.fig_depth = 0
        self.cells = []
        self.cell = None
        self.in_sup = 0
        self.svgs = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "figure" and "chart" in (a.get("class") or "").split():
            self.fig = [a.get("id", "?"), 0, 0]
            self.figures.append(self.fig)
            self.fig_depth = 0
        if tag == "figure" and self.fig is not None:
            self.fig_depth += 1
        if tag == "svg":
            self.svgs += 1
            if self.fig is not None:
                self.fig[1] += 1
        if tag in self.DRAW and self.fig is not None:
            self.fig[2] += 1
        if tag == "td" and "data-geo" in a:
            self.cell = {"attrs": a, "text": "", "sups": []}
            self.cells.append(self.cell)
        if tag == "sup" and self.cell is not None:
            self.in_sup += 1
            self.cell["sups"].append("")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag == "figure" and self.fig is not None:
            self.fig_depth -= 1
            if self.fig_depth == 0:
                self.fig = None
        if tag == "sup" and self.in_sup:
            self.in_sup -= 1
        if tag == "td":
            self.cell = None
            self.in_sup = 0

    def handle_data(self, data):
        if self.cell is None:
            return
        if self.in_sup:
            self.cell["sups"][-1] += data
        else:
            self.cell["text"] += data


INDICATORS = {"VIC": "Detected trafficking victims", "SUS": "Persons brought into formal contact",
              "PROS": "Persons prosecuted", "CONV": "Persons convicted"}


def check_dom(dom_path, tidy_path, expect):
    p = Dom()
    p.feed(open(dom_path, encoding="utf-8").read())
    p.close()
    errors = []
    # charts
    if len(p.figures) < 3:
        errors.append("%d chart figures, expected the line chart and two bar charts"
                      % len(p.figures))
    for fid, nsvg, ndrawn in p.figures:
        if nsvg != 1:
            errors.append("chart %s holds %d <svg>" % (fid, nsvg))
        elif ndrawn < 3:
            errors.append("chart %s draws nothing (%d shapes)" % (fid, ndrawn))
    if p.svgs != len(p.figures):
        errors.append("%d <svg> on the page but %d chart figures" % (p.svgs, len(p.figures)))
    # tidy rows of the totals, keyed like the cells
    tidy = {}
    with open(tidy_path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if (r["Dimension"], r["Category"], r["Sex"], r["Age"], r["Unit of measurement"]) != \
                    ("Total", "Total", "Total", "Total", "Counts"):
                continue
            tidy[(r["Iso3_code"] or r["Country"], r["Indicator"], r["Year"])] = r
    seen = {}
    for c in p.cells:
        a = c["attrs"]
        geo, area, year, ind, slot = (a.get("data-geo"), a.get("data-area"), a.get("data-year"),
                                      a.get("data-indicator"), a.get("data-slot"))
        status, measure = a.get("data-status"), a.get("data-measure")
        where = "%s %s %s %s" % (geo, year, ind, slot)
        if slot != "TOTAL" or ind not in INDICATORS:
            errors.append("%s: unexpected cell" % where)
            continue
        key = (geo if geo.isalpha() else area, INDICATORS[ind], year)
        r = tidy.get(key)
        text = " ".join(c["text"].split())
        sups = [s.strip() for s in c["sups"]]
        seen[status] = seen.get(status, 0) + 1
        if status == "absent":
            if r is not None:
                errors.append("%s: shown as absent but tidy.csv has it" % where)
            if text != "..":
                errors.append("%s: absent cell shows %r" % (where, text))
            continue
        if r is None:
            errors.append("%s: no row in tidy.csv" % where)
            continue
        if r["Status"] != status:
            errors.append("%s: status %s in the page, %s in tidy.csv" % (where, status, r["Status"]))
            continue
        if measure == "countries":
            if status == "missing":
                if text != "..":
                    errors.append("%s: coverage of a missing total shows %r" % (where, text))
            elif text.split("/")[0] != r["Countries"]:
                errors.append("%s: coverage %r, tidy Countries %s" % (where, text, r["Countries"]))
            continue
        flags = "".join(s for s in sups if s not in ("1", "2", "\u2020", "\u2021"))
        if status == "free" and r["VALUE"] != "":
            want = r["VALUE"]
        elif status == "free":
            want = ("\u2265" + r["Lower"]) if r["Upper"] == "" else r["Lower"] + "\u2013" + r["Upper"]
        elif status == "noisy":
            # the 90% interval [Lower, Upper]: "v +- m" when symmetric at one
            # decimal, else "v -lo +hi"
            v = float(r["VALUE"])
            lo = "%.1f" % (v - float(r["Lower"]))
            hi = "%.1f" % (float(r["Upper"]) - v)
            if r["MOE"]:
                lo = hi = "%.1f" % float(r["MOE"])
            want = ("%s \u00b1 %s" % (r["VALUE"], lo) if lo == hi
                    else "%s \u2212%s +%s" % (r["VALUE"], lo, hi))
        elif status in ("primary", "secondary"):
            want = "x"
            mark = "1" if status == "primary" else "2"
            if mark not in sups:
                errors.append("%s: suppressed without footnote mark %s" % (where, mark))
            if r["VALUE"] or r["Lower"] or r["Upper"] or r["MOE"]:
                errors.append("%s: tidy.csv carries a number for a suppressed cell" % where)
        else:
            want = ".."
        if text != want:
            errors.append("%s: page shows %r, tidy.csv says %r" % (where, text, want))
        if status == "noisy" and "\u2020" not in sups:
            errors.append("%s: noisy value without its footnote mark" % where)
        if flags != r["Flags"] and status not in ("primary", "secondary", "missing"):
            errors.append("%s: flags %r in the page, %r in tidy.csv" % (where, flags, r["Flags"]))
    for s in expect:
        if not seen.get(s):
            errors.append("no %s cell in the page's tables" % s)
    print("dom: %d chart figures, %d data cells checked against tidy.csv (%s)"
          % (len(p.figures), len(p.cells),
             ", ".join("%s %d" % kv for kv in sorted(seen.items()))))
    if len(p.cells) < 20:
        errors.append("only %d data cells" % len(p.cells))
    if errors:
        fail("%d problems:\n  " % len(errors) + "\n  ".join(errors[:20]))


def main(argv):
    if len(argv) >= 3 and argv[1] == "png":
        check_png(argv[2])
    elif len(argv) >= 3 and argv[1] == "pdf":
        check_pdf(argv[2])
    elif len(argv) >= 4 and argv[1] == "dom":
        expect = []
        if len(argv) >= 6 and argv[4] == "--expect":
            expect = [s for s in argv[5].split(",") if s]
        check_dom(argv[2], argv[3], expect)
    else:
        print(__doc__, file=sys.stderr)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
