# Every bundled national file, in all five layouts, ingests with its mapping
# to exactly the rows its truth file lists (datasets/truth, computed by the
# generator independently of tipstat), and no planted identifier, free-text
# value or raw case id reaches any output or message.
source "$REPO/tests/e2e/lib.sh"
"$TIPSTAT" keygen --type pseudonym -o "$WORK/p.key" >/dev/null
ds="$REPO/datasets"
n=0
mkdir -p "$WORK/out"
for dir in "$ds"/submissions/*/; do
	layout=$(basename "$dir")
	for f in "$dir"*; do
		name=$(basename "$f")
		out="$WORK/out/$layout.$name.std.csv"
		"$TIPSTAT" ingest -q --mapping "$ds/mappings/$layout.map" --key-file "$WORK/p.key" \
			"$f" -o "$out" 2>>"$WORK/messages" || die "$layout/$name: ingest failed"
		truth="$ds/truth/$layout/$name.std.csv"
		hdr=$(head -n 1 "$truth")
		if grep -q '^country,period,indicator,sex,age,age_band' "$truth"; then
			# records: drop case_key (depends on the key), sort to compare
			{ echo "$hdr"; tail -n +2 "$out" | cut -d, -f1-8 | LC_ALL=C sort; } > "$WORK/got"
			[ "$(head -n 1 "$out")" = "$hdr,case_key" ] || die "$layout/$name: header $(head -n 1 "$out")"
		else
			{ echo "$hdr"; tail -n +2 "$out" | LC_ALL=C sort; } > "$WORK/got"
			[ "$(head -n 1 "$out")" = "$hdr" ] || die "$layout/$name: header $(head -n 1 "$out")"
		fi
		diff -q "$truth" "$WORK/got" >/dev/null || {
			diff "$truth" "$WORK/got" | head -n 20; die "$layout/$name: rows differ from truth"; }
		n=$((n + 1))
	done
done
[ "$n" -ge 100 ] || die "only $n files"
echo "layouts: $n files match their truth"
# minimisation: nothing planted leaks into submissions, manifests or messages
if grep -F -f "$ds/truth/planted_identifiers.txt" -r "$WORK/out" "$WORK/messages" >"$WORK/leak"; then
	head "$WORK/leak"; die "planted identifiers leaked"
fi
# raw case ids (es_case id_caso, en_case case_ref) never leave ingest
ids="$WORK/case_ids"
for f in "$ds"/submissions/es_case/*; do tail -n +2 "$f" | cut -d, -f1; done > "$ids"
for f in "$ds"/submissions/en_case/*; do tail -n +2 "$f" | cut -f1; done >> "$ids"
sed -i 's/\r$//; /^$/d' "$ids"
[ "$(wc -l < "$ids")" -gt 1000 ] || die "too few case ids collected"
if grep -w -F -f "$ids" -r "$WORK/out" "$WORK/messages" >"$WORK/leak"; then
	head "$WORK/leak"; die "raw case ids leaked"
fi
echo "no identifier leaked ($(wc -l < "$ds/truth/planted_identifiers.txt") planted values, $(wc -l < "$ids") case ids)"
