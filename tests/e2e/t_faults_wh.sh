# Fault injection on the commands that write the warehouse while they read
# or answer from it: query and submission export (opening the warehouse
# writes its -wal/-shm, query writes the audit trail, the answer store and
# the ledger), trust rotate and revoke, budget set and spend, and the other
# writers' faults the older t_faults* scripts leave out (a real full file
# system for the multi-file writers, a read-only warehouse for accept,
# researcher, protect, and SIGKILL during researcher grant and revoke, report and
# export).  tests/e2e/README.md has the whole table (command x fault ->
# script).
# Faults (helpers in lib.sh): a full disk as a file-size limit (`full`), a
# real full file system, ENOSPC (`on_full_fs`: a filled tmpfs on the output
# directory), a read-only warehouse directory, file, or both (`ro_run`),
# and SIGKILL at several moments (`kill_after`).  Each case checks the exit
# code, that the message names the file, that no output (complete or
# partial, or a temporary) is left, and that the warehouse is unchanged
# (wh_fingerprint: audit chain and head, trust store, budgets and spends,
# researchers, submissions, integrity_check and every row), with nothing
# charged for an answer that was not written.  After a kill the state is
# the old one or the new one, never a mix.
source "$REPO/tests/e2e/lib.sh"
mkdir -p whd
export TIPSTAT_WAREHOUSE="$WORK/whd/wh.db"
make_warehouse de_case
T=$TIPSTAT
k="$WORK/keys"
$T budget set releases 10 >/dev/null
$T keygen --demo --type office --country FRA -o alice.key >/dev/null
$T researcher grant alice --key alice.key.pub --rho 1 --expires 2099-12-31 >/dev/null
printf 'researcher=alice\nindicator=VIC\ngroup-by=country,year,sex\nrho=0.1\n' > q1
$T request sign --key alice.key q1 -o q1.signed >/dev/null
id=$($T submission list | awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $1; exit }')
[ -n "$id" ] || die "no submission id"
$T submission export "$id" -o good.csv >/dev/null
n=0
spent() { $T budget show "$1" | awk '$1 == "spent" { print $2 }'; }
spent_nano() { $T budget show "$1" | awk '$1 == "spent" { print $3 }'; }
# settled: no -wal/-shm beside the warehouse (a read-only open, of tipstat
# or of SQLite's shell, leaves them; the last read-write one to close
# removes them: `trust list` opens read-write)
settled() {
	$T trust list >/dev/null
	assert_no_file whd/wh.db-wal; assert_no_file whd/wh.db-shm
}
fp0=$(wh_fingerprint)
# the fingerprint sees a change (it is not blind): a spend, then the same
# budget in another warehouse state cannot match
cp whd/wh.db ctl.db
TIPSTAT_WAREHOUSE="$WORK/ctl.db" $T budget spend releases control 0.001 >/dev/null
[ "$(TIPSTAT_WAREHOUSE="$WORK/ctl.db" wh_fingerprint)" != "$fp0" ] || die "the fingerprint missed a spend"
rm -f ctl.db
mkdir -p out

# --- query -------------------------------------------------------------------
# full disk: opening the warehouse writes (WAL); refused before anything
full 0 74 "wh.db" $T query q1.signed -o out/a.csv
nothing_like out a.csv
wh_unchanged "$fp0"
# the answer meets a full file system: nothing charged, stored or audited
# (the answer is written before the charge commits; it used to be charged)
on_full_fs out 74 "out/a.csv.*No space left on device.*nothing was charged" \
	$T query q1.signed -o out/a.csv
wh_unchanged "$fp0"
[ "$(spent researcher:alice)" = 0 ] || die "charged for an answer not written"
# a read-only warehouse: its directory (no -wal/-shm, and they cannot be
# made), the file, both
settled
ro_run dir whd 74 "wh.db.*directory read-only" $T query q1.signed -o out/a.csv
ro_run file whd/wh.db 66 "wh.db: cannot open" $T query q1.signed -o out/a.csv
ro_run both whd 66 "wh.db: cannot open" $T query q1.signed -o out/a.csv
nothing_like out a.csv
wh_unchanged "$fp0"
# answered once (charged 0.1); asked again, the stored answer meets the
# full file system: no "query.cached" audit entry, still 0.1
$T query q1.signed -o first.csv >/dev/null
fp1=$(wh_fingerprint)
on_full_fs out 74 "out/a.csv.*No space left" $T query q1.signed -o out/a.csv
wh_unchanged "$fp1"
[ "$(spent researcher:alice)" = 0.1 ] || die "alice charged $(spent researcher:alice), not 0.1"

# --- submission export (opens the warehouse read-only) ------------------------
full 0 74 "error" $T submission export "$id" -o out/back.csv
nothing_like out back.csv
on_full_fs out 74 "out/back.csv.*No space left" $T submission export "$id" -o out/back.csv
settled
ro_run dir whd 74 "wh.db.*directory read-only" $T submission export "$id" -o out/back.csv
ro_run both whd 74 "wh.db.*directory read-only" $T submission export "$id" -o out/back.csv
nothing_like out back.csv
# a read-only file in a writable directory is enough to read from
ro_run file whd/wh.db 0 "" $T submission export "$id" -o out/back.csv
cmp good.csv out/back.csv || die "export from a read-only warehouse differs"
rm -f out/back.csv
wh_unchanged "$fp1"

# --- trust rotate and revoke ---------------------------------------------------
# Key files are only read: after every fault they are byte-identical and
# the secret stays 0600.  The trust store is the old one or the new one.
keyid() { $T trust list "$1" | awk -v s="$2" 'NR > 1 && $3 == s { print $2 }'; }
key_state() { sha256sum "$@"; stat -c '%a %n' "$@"; }
old=$(keyid AUT active)
$T keygen --demo --type office --country AUT -o aut2.key >/dev/null
ks=$(key_state aut2.key aut2.key.pub "$k/AUT.key")
full 0 74 "wh.db" $T trust rotate "$old" aut2.key.pub
full 0 74 "wh.db" $T trust revoke CHE "$(keyid CHE active)"
settled
ro_run file whd/wh.db 66 "wh.db: cannot open" $T trust rotate "$old" aut2.key.pub
ro_run dir whd 74 "wh.db.*directory read-only" $T trust revoke CHE "$(keyid CHE active)"
ro_run both whd 66 "wh.db: cannot open" $T trust rotate "$old" aut2.key.pub
wh_unchanged "$fp1"
[ "$(key_state aut2.key aut2.key.pub "$k/AUT.key")" = "$ks" ] || die "a key file changed"
[ "$(stat -c %a aut2.key)" = 600 ] || die "the secret key is not 0600"
# SIGKILL during rotate: old key active and the new one unknown, or the
# old one revoked and the new one active; the chain intact
kills=0 rotated=0 active_key="$k/AUT.key"
for delay in 0 0.001 0.003 0.006 0.01 0.02 0.05; do
	$T keygen --demo --type office --country AUT -o "aut_$kills.key" >/dev/null
	new=$($T keygen --describe "aut_$kills.key.pub" | awk '$1 == "key-id:" { print $2 }')
	kill_after "$delay" $T trust rotate "$old" "aut_$kills.key.pub"
	$T log verify >/dev/null || die "audit trail broken after SIGKILL during rotate"
	st_old=$($T trust list AUT | awk -v i="$old" '$2 == i { print $3 }')
	st_new=$($T trust list AUT | awk -v i="$new" '$2 == i { print $3 }')
	case "$st_old/$st_new" in
	active/) ;;
	revoked/active) old=$new active_key="aut_$kills.key" rotated=$((rotated + 1)) ;;
	*) die "trust store mixed after SIGKILL during rotate: old=$st_old new=$st_new" ;;
	esac
	[ "$($T trust list AUT | grep -c ' active ')" = 1 ] || die "AUT has not exactly one active key"
	kills=$((kills + 1))
done
# SIGKILL during revoke: the key active or revoked, nothing else changed
for c in CHE LIE LUX; do
	kid=$(keyid "$c" active)
	kill_after 0.00$((kills % 7)) $T trust revoke "$c" "$kid"
	$T log verify >/dev/null || die "audit trail broken after SIGKILL during revoke"
	case "$($T trust list "$c" | awk -v i="$kid" '$2 == i { print $3 }')" in
	active|revoked) ;; *) die "$c: key $kid neither active nor revoked" ;;
	esac
	kills=$((kills + 1))
done
n=$((n + kills))
echo "trust: $kills kills, $rotated rotations completed"

# --- budget set and spend -------------------------------------------------------
fp2=$(wh_fingerprint)
full 0 74 "wh.db" $T budget spend releases by-hand 0.25
full 0 74 "wh.db" $T budget set releases 20
settled
ro_run file whd/wh.db 66 "wh.db: cannot open" $T budget spend releases by-hand 0.25
ro_run dir whd 74 "wh.db.*directory read-only" $T budget set releases 20
ro_run both whd 66 "wh.db: cannot open" $T budget spend releases by-hand 0.25
wh_unchanged "$fp2"
# SIGKILL during spend: each spend is recorded and counted in "spent", or
# neither; the chain intact
kills=0 base=$(spent_nano releases)
for delay in 0 0.001 0.003 0.006 0.01 0.02 0.05; do
	kill_after "$delay" $T budget spend releases "kill_$kills" 0.125
	$T log verify >/dev/null || die "audit trail broken after SIGKILL during spend"
	k_spends=$($T budget spends releases | grep -c " kill_" || true)
	[ "$(spent_nano releases)" = $((base + k_spends * 125000000)) ] ||
		die "releases spent $(spent releases) but $k_spends kill_ spends of 0.125 recorded"
	[ "$($T log show | grep -c "kill_")" = "$k_spends" ] || die "audit and ledger disagree after SIGKILL"
	kills=$((kills + 1))
done
n=$((n + kills))
echo "budget: $kills kills, $k_spends spends completed"

# SIGKILL during budget set, researcher raise and trust add: the old value
# or the new one, each change with its audit entry or neither
total_nano() { $T budget show "$1" | awk '$1 == "total" { print $3 }'; }
kills=0 i=0
for delay in 0 0.001 0.003 0.006 0.01 0.02 0.05; do
	sets=$($T log show | grep -c " budget.set ")
	was=$(total_nano releases) want=$((20 + i))
	kill_after "$delay" $T budget set releases "$want"
	$T log verify >/dev/null || die "audit trail broken after SIGKILL during budget set"
	now=$(total_nano releases) sets2=$($T log show | grep -c " budget.set ")
	if [ "$now" = "$was" ]; then
		[ "$sets2" = "$sets" ] || die "budget set audited but not applied"
	elif [ "$now" = $((want * 1000000000)) ]; then
		[ "$sets2" = $((sets + 1)) ] || die "budget set applied but not audited"
	else
		die "releases total $now after SIGKILL during budget set (was $was, set $want)"
	fi
	# alice's total is 1 + i before (granted 1, raised to 2 + i below)
	kill_after "$delay" $T researcher raise alice --rho "$((2 + i))"
	$T log verify >/dev/null || die "audit trail broken after SIGKILL during researcher raise"
	case "$(total_nano researcher:alice)" in
	$((1 + i))000000000|$((2 + i))000000000) ;;
	*) die "alice's total $(total_nano researcher:alice) after SIGKILL during raise to $((2 + i))" ;;
	esac
	$T researcher raise alice --rho "$((2 + i))" >/dev/null
	c=$(echo ITA ESP PRT NLD BEL DNK SWE | cut -d' ' -f$((i + 1)))
	$T keygen --demo --type office --country "$c" -o "x_$i.key" >/dev/null
	kill_after "$delay" $T trust add "x_$i.key.pub"
	$T log verify >/dev/null || die "audit trail broken after SIGKILL during trust add"
	kid=$($T keygen --describe "x_$i.key.pub" | awk '$1 == "key-id:" { print $2 }')
	in_store=0; $T trust list | grep -q " $kid active " && in_store=1
	audited=0; $T log show | grep -q "$kid" && audited=1
	[ "$in_store" = "$audited" ] || die "trust add killed: stored=$in_store audited=$audited"
	kills=$((kills + 3)) i=$((i + 1))
done
n=$((n + kills))
echo "budget set, researcher raise, trust add: $kills kills"

# --- other writers --------------------------------------------------------------
fp3=$(wh_fingerprint)
ds="$REPO/datasets"
aut="$ds/submissions/de_case/AUT_2023.csv"
[ -f "$aut" ] || aut=$(ls "$ds"/submissions/de_case/AUT* | head -n 1)
# two files per command (ingest: OUT and OUT.manifest; keygen: FILE and
# FILE.pub): with room for the first only, neither is left
FULL_FS_PAGES=1 on_full_fs out 74 "out/k.key.pub.*No space left" \
	$T keygen --type office --country AUT -o out/k.key
$T ingest -q --mapping "$ds/mappings/de_case.map" --key-file "$k/AUT.p" "$aut" -o sub.csv
# room for the submission (whole pages), none for the manifest beside it
pages=$(( ($(stat -c %s sub.csv) + 4095) / 4096 ))
FULL_FS_PAGES=$pages on_full_fs out 74 "out/sub.csv.*No space left" \
	$T ingest -q --mapping "$ds/mappings/de_case.map" --key-file "$k/AUT.p" "$aut" -o out/sub.csv
on_full_fs out 74 "No space left" $T seal --key "$active_key" --to "$k/agg.key.pub" --version 9 \
	sub.csv -o out/pkg
on_full_fs out 74 "No space left" $T request sign --key alice.key q1 -o out/q.signed
# the warehouse read-only for its other writers
$T seal --key "$active_key" --to "$k/agg.key.pub" --version 9 sub.csv -o pkg >/dev/null
settled
ro_run file whd/wh.db 66 "wh.db: cannot open" $T accept --key "$k/agg.key" pkg
ro_run dir whd 74 "wh.db.*directory read-only" $T accept --key "$k/agg.key" pkg
ro_run file whd/wh.db 66 "wh.db: cannot open" $T researcher grant bob --key alice.key.pub \
	--rho 1 --expires 2099-12-31
ro_run both whd 66 "wh.db: cannot open" $T protect --method dp --rho 0.1 --name ro -o out/rel
nothing_like out rel
wh_unchanged "$fp3"
# the warehouse itself on a full file system (ENOSPC, SQLITE_FULL): with
# no room at all the open fails; with room for the -shm index only, the
# transaction's first write fails and rolls back.  Readers still work.
printf 'researcher=alice\nindicator=VIC\ngroup-by=region,year\nrho=0.1\n' > q2
$T request sign --key alice.key q2 -o q2.signed >/dev/null
on_full_wh 74 "wh.db.*disk I/O error" $T query q2.signed -o out/a2.csv
FULL_WH_KIB=32 on_full_wh 74 "wh.db.*disk is full" $T query q2.signed -o out/a2.csv
nothing_like out a2.csv
FULL_WH_KIB=32 on_full_wh 74 "wh.db.*disk is full" $T budget spend releases by-hand 0.25
FULL_WH_KIB=32 on_full_wh 74 "wh.db.*disk is full" $T budget set releases 40
FULL_WH_KIB=32 on_full_wh 74 "wh.db.*disk is full" $T trust revoke AUT "$old"
$T keygen --demo --type office --country ITA -o bob.key >/dev/null
FULL_WH_KIB=32 on_full_wh 74 "wh.db.*disk is full" $T researcher grant bob --key bob.key.pub \
	--rho 1 --expires 2099-12-31
FULL_WH_KIB=32 on_full_wh 74 "wh.db.*disk is full" $T accept --key "$k/agg.key" pkg
FULL_WH_KIB=32 on_full_wh 74 "wh.db.*disk is full" $T protect --method dp --rho 0.1 --name fw \
	-o out/relfw
nothing_like out relfw
FULL_WH_KIB=32 on_full_wh 0 "" $T submission export "$id" -o out/back.csv
cmp good.csv out/back.csv || die "export from a warehouse on a full file system differs"
rm -f out/back.csv
# the refused writes were good ones: with room, they go through
$T accept -q --key "$k/agg.key" pkg || die "the package refused on a full disk is not acceptable"
$T query q2.signed -o a2.csv >/dev/null || die "the query refused on a full disk does not answer"
$T researcher grant bob --key bob.key.pub --rho 1 --expires 2099-12-31 >/dev/null ||
	die "the grant refused on a full disk does not go through"
# SIGKILL during researcher grant: the account is there with its budget, or neither
kills=0
for delay in 0 0.002 0.005 0.01 0.03; do
	kill_after "$delay" $T researcher grant "r$kills" --key alice.key.pub --rho 1 --expires 2099-12-31
	$T log verify >/dev/null || die "audit trail broken after SIGKILL during grant"
	acct=0; $T researcher list | grep -q "^r$kills " && acct=1
	bud=0; $T budget show "researcher:r$kills" >/dev/null 2>&1 && bud=1
	[ "$acct" = "$bud" ] || die "r$kills: account=$acct budget=$bud after SIGKILL"
	kills=$((kills + 1))
done
# SIGKILL during researcher revoke: the account is revoked and the audit
# trail says so, or neither (the account stays active and unaudited)
revokes=0 done_rev=0
for delay in 0 0.002 0.005 0.01 0.03; do
	$T keygen --demo --type office --country FRA -o "v$revokes.key" >/dev/null
	$T researcher grant "v$revokes" --key "v$revokes.key.pub" --rho 1 --expires 2099-12-31 >/dev/null ||
		die "grant v$revokes"
	kill_after "$delay" $T researcher revoke "v$revokes"
	$T log verify >/dev/null || die "audit trail broken after SIGKILL during revoke"
	st=$($T researcher list | awk -v id="v$revokes" '$1 == id { print $4 }')
	aud=0; $T log show | grep -q "researcher.revoke  *researcher=v$revokes\$" && aud=1
	case "$st/$aud" in
	revoked/1 | active/0) ;;
	*) die "v$revokes: status '$st', revoke audited=$aud after SIGKILL during revoke" ;;
	esac
	if [ "$st" = active ]; then
		$T researcher revoke "v$revokes" >/dev/null || die "v$revokes: revoke after a killed one fails"
	else
		done_rev=$((done_rev + 1))
	fi
	revokes=$((revokes + 1))
done
echo "researcher revoke: $revokes kills, $done_rev revocations completed"
kills=$((kills + revokes))
# SIGKILL during report and export of a release: the output directory is
# complete (as a run to the end makes it) or absent; a kill may leave a
# k_report.partial-* beside it, as protect's releases may.  The files are
# written at the end of the run, so the kills are spread over the time one
# whole run takes here (they used to find a directory with tidy.csv alone)
$T protect -q --method dp --rho 0.1 --name kr -o rel >/dev/null
for c in report export; do
	t0=$(date +%s%N); $T "$c" rel -o "full_$c" >/dev/null; t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
	for pct in 20 40 55 65 70 75 80 85 90 95 100 110; do
		rm -rf "k_$c" "k_$c".partial-*
		kill_after "$(awk -v m="$ms" -v p="$pct" 'BEGIN { printf "%.3f", m * p / 100000 }')" \
			$T "$c" rel -o "k_$c"
		if [ -e "k_$c" ]; then
			[ "$(ls "k_$c")" = "$(ls "full_$c")" ] || die "$c killed: partial directory: $(ls -A "k_$c")"
			for f in "full_$c"/*; do
				cmp -s "$f" "k_$c/$(basename "$f")" || die "$c killed: $(basename "$f") differs"
			done
		fi
		kills=$((kills + 1))
	done
done
# SIGKILL during aggregate -o: the unprotected cube release is complete or
# absent (a cube.partial-* may remain), never release.csv without its
# release.json (kills used to find that, an empty directory or temporaries)
t0=$(date +%s%N); $T aggregate -o full_cube >/dev/null; t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
for pct in 50 70 80 85 88 90 92 94 96 98 100 110; do
	rm -rf k_cube k_cube.partial-*
	kill_after "$(awk -v m="$ms" -v p="$pct" 'BEGIN { printf "%.3f", m * p / 100000 }')" \
		$T aggregate -o k_cube
	if [ -e k_cube ]; then
		[ "$(ls -A k_cube)" = "$(ls -A full_cube)" ] || die "aggregate killed: partial: $(ls -A k_cube)"
		cmp -s k_cube/release.csv full_cube/release.csv || die "aggregate killed: release.csv differs"
		[ -s k_cube/release.json ] || die "aggregate killed: empty release.json"
	fi
	kills=$((kills + 1))
done
n=$((n + kills))
echo "faults: $n injected faults handled"
