# The malformed-input corpus (tests/bad/ingest/NN_name/): every case must
# exit with its expected code, print exactly its expected diagnostics, never
# crash, and leave no output behind.  UPDATE=1 rewrites the expected files
# (review the diff before committing them).
source "$REPO/tests/e2e/lib.sh"
"$TIPSTAT" keygen --type pseudonym -o "$WORK/p.key" >/dev/null
corpus="$REPO/tests/bad/ingest"
# generated case: a 10 MB single field
mkdir -p "$WORK/gen/90_ten_mb_field"
{ echo 'id,date,sex,age,form,cit,name,notes'
  printf 'A1,2024-01-05,w,23,SEX,DEU,N1,'; head -c 10485760 /dev/zero | tr '\0' 'x'; echo
  echo 'A2,2024-01-06,m,30,LAB,POL,N2,y'; } > "$WORK/gen/90_ten_mb_field/input.csv"
echo 65 > "$WORK/gen/90_ten_mb_field/exit"
n=0
for dir in "$corpus"/[0-9]*/ "$WORK"/gen/*/; do
	name=$(basename "$dir")
	map="$corpus/$(cat "$dir/mapping" 2>/dev/null || echo base.map)"
	args=$(cat "$dir/args" 2>/dev/null || true)
	want=$(cat "$dir/exit" 2>/dev/null || echo 65)
	rm -rf "$WORK/out"; mkdir "$WORK/out"
	set +e
	(cd "$dir" && "$TIPSTAT" ingest --mapping "$map" --key-file "$WORK/p.key" $args \
		input.csv -o "$WORK/out/sub.csv") >/dev/null 2>"$WORK/err"
	got=$?
	set -e
	[ "$got" -lt 128 ] || die "$name: crashed (exit $got)"
	[ "$got" -eq "$want" ] || { cat "$WORK/err"; die "$name: exit $got, expected $want"; }
	# nothing partial: no output, no manifest, no temporaries
	[ -z "$(ls -A "$WORK/out")" ] || die "$name: left output: $(ls -A "$WORK/out")"
	sed "s|$corpus/||g" "$WORK/err" > "$WORK/err.rel"
	if [ -f "$dir/expected" ]; then
		diff -u "$dir/expected" "$WORK/err.rel" || die "$name: diagnostics differ"
	elif [ "${UPDATE:-}" = 1 ] && [ "${dir#$corpus}" != "$dir" ]; then
		cp "$WORK/err.rel" "$dir/expected"
	elif [ "${dir#$corpus}" != "$dir" ]; then
		die "$name: no expected file (run with UPDATE=1 and review)"
	fi
	n=$((n + 1))
done
echo "bad ingest corpus: $n cases ok"
[ "$n" -ge 30 ] || die "corpus too small: $n"
