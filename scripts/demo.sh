#!/usr/bin/env bash
# make demo: the whole pipeline on the bundled datasets/, as the national
# offices and the aggregator would run it, into OUT (default ./out).
#
#   offices:     keygen (office + pseudonym keys), ingest every national file
#                with its layout's mapping, seal each submission for the
#                aggregator
#   aggregator:  keygen, trust every office key, accept every package (and
#                refuse a tampered one), status, audit-log verification,
#                aggregate, protect, report
#
# All keys are demo keys (marked as such), made fresh on every run.
set -euo pipefail
T=${1:?usage: demo.sh TIPSTAT [OUT]}
OUT=${2:-out}
REPO=$(cd "$(dirname "$0")/.." && pwd)
DS="$REPO/datasets"
export TIPSTAT_DATASETS="$DS"
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
# only ever remove a directory this script made
if [ -e "$OUT" ]; then
	[ -f "$OUT/.tipstat-demo" ] || { echo "demo: $OUT exists and is not a demo output; remove it or pick another" >&2; exit 73; }
	rm -rf "$OUT"
fi
mkdir -p "$OUT"/{keys,offices,packages,aggregator}
touch "$OUT/.tipstat-demo"
export TIPSTAT_WAREHOUSE="$OUT/aggregator/warehouse.db"
step() { printf '\n== %s\n' "$*"; }
t0=$(date +%s)

step "aggregator: receiving key"
$T keygen --demo --type aggregator -o "$OUT/keys/aggregator.key"

office_keys() { # ISO3: make the office's keys once
	[ -f "$OUT/keys/$1.key" ] && return 0
	$T keygen --demo --type office --country "$1" -o "$OUT/keys/$1.key" >/dev/null
	$T keygen --demo --type pseudonym -o "$OUT/keys/$1.pseudonym" >/dev/null
	$T trust add "$OUT/keys/$1.key.pub" >/dev/null
}
submit() { # LAYOUT FILE ISO3 NAME [ingest options]: ingest and seal
	local layout=$1 file=$2 c=$3 name=$4; shift 4
	office_keys "$c"
	$T ingest -q --mapping "$DS/mappings/$layout.map" --key-file "$OUT/keys/$c.pseudonym" \
		"$@" "$file" -o "$OUT/offices/$name.std.csv"
	$T seal --key "$OUT/keys/$c.key" --to "$OUT/keys/aggregator.key.pub" \
		"$OUT/offices/$name.std.csv" -o "$OUT/packages/$name.sealed" >/dev/null
}

step "offices: ingest and seal every bundled national file"
n=0
for layout in de_case es_case en_case pipe_quarterly; do
	for f in "$DS/submissions/$layout"/*; do
		b=$(basename "$f"); b=${b%.*}
		c=${b%%_*}
		submit "$layout" "$f" "$c" "$layout.$b"
		n=$((n + 1))
	done
done
# the UNODC long table holds 17 countries: one submission per country
for f in "$DS/submissions/unodc_long"/*; do
	b=$(basename "$f" .csv)
	for c in $(tail -n +2 "$f" | cut -d, -f1 | sort -u); do
		submit unodc_long "$f" "$c" "unodc_long.$b.$c" --country "$c"
		n=$((n + 1))
	done
done
echo "$n submissions ingested and sealed ($(du -sh "$OUT/packages" | cut -f1) of packages)"

step "aggregator: accept every package"
$T accept -q --key "$OUT/keys/aggregator.key" "$OUT"/packages/*.sealed
echo "accepted $(ls "$OUT"/packages/*.sealed | wc -l) packages"

step "aggregator: a tampered package is refused (expected)"
pkgs=("$OUT"/packages/*.sealed); pkg=${pkgs[0]}
cp "$pkg" "$OUT/aggregator/tampered.sealed"
printf '\x55' | dd of="$OUT/aggregator/tampered.sealed" bs=1 seek=5000 conv=notrunc 2>/dev/null
if $T accept --key "$OUT/keys/aggregator.key" "$OUT/aggregator/tampered.sealed" 2>"$OUT/aggregator/refusal.txt"; then
	echo "demo: a tampered package was accepted" >&2; exit 1
fi
sed 's/^/  /' "$OUT/aggregator/refusal.txt"

step "aggregator: coverage"
$T status | tee "$OUT/aggregator/status.txt"

step "aggregator: audit trail"
$T log verify
$T log show | tail -n 3

if $T aggregate --help >/dev/null 2>&1; then
	step "aggregator: cube, protection and reports"
	$T aggregate -o "$OUT/aggregator/cube" | tee "$OUT/aggregator/overview.txt"
fi
step "aggregator: a k-anonymous record release (k = 11)"
$T protect --method kanon --name demo_records_k11 -o "$OUT/release_records"

step "aggregator: privacy budget for table releases (rho-zCDP)"
$T budget set releases 12
step "aggregator: a differentially private release of the cube's annual tables (rho = 6: 1 per year of data)"
$T protect --method dp --rho 6 --name demo_dp -o "$OUT/release_dp"
step "aggregator: the same release again: its stored answers, no new noise, nothing spent"
$T protect --method dp --rho 6 --name demo_dp -o "$OUT/release_dp_again" | tail -n 2
cmp -s "$OUT/release_dp/release.csv" "$OUT/release_dp_again/release.csv" && echo "  identical"
$T budget show releases
if [ "${DEMO_SUPPRESSION:-0}" = 1 ]; then
	step "aggregator: a cell-suppression release with its LP audit (several minutes)"
	$T protect --method suppression --supp-method heuristic --name demo_supp -o "$OUT/release_supp"
	$T report "$OUT/release_supp" -o "$OUT/report_supp" >/dev/null
fi

step "reports"
$T report "$OUT/release_dp" -o "$OUT/report"
$T report "$OUT/aggregator/cube" -o "$OUT/report_internal" >/dev/null
printf '\ndemo done in %ss; everything is under %s\n' "$(( $(date +%s) - t0 ))" "$OUT"
echo "report (differentially private): $OUT/report/report.html"
echo "  tables: $OUT/report/tidy.csv (UNODC columns), $OUT/report/sdmx.csv (SDMX-CSV) + dsd.json"
echo "internal, NOT PRIVATE: $OUT/report_internal/report.html"
[ -d "$OUT/report_supp" ] && echo "cell suppression: $OUT/report_supp/report.html"
echo "(DEMO_SUPPRESSION=1 make demo adds the cell-suppression release)"
