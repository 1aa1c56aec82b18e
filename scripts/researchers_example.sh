#!/bin/bash
# The end-to-end example of docs/researchers.md, in one run:
#   make && bash scripts/researchers_example.sh
# (a scratch warehouse of the bundled de_case submissions, removed after).
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
export TIPSTAT=$REPO/build/tipstat TIPSTAT_DATASETS=$REPO/datasets
WORK=$(mktemp -d /tmp/rex.XXXX); export WORK
export TIPSTAT_WAREHOUSE=$WORK/warehouse.db
source $REPO/tests/e2e/lib.sh
make_warehouse de_case
set +e
cd $WORK
tipstat() { "$TIPSTAT" "$@"; }
show() { echo "\$ $*"; "$@" 2>&1; echo; }
printf 'researcher=amira\nindicator=victims\ngroup-by=country,year,sex\nfilter=form:LAB\nrho=0.1\n' > labour.req
printf 'researcher=amira\nindicator=victims\ngroup-by=country,age\nmoe=3\n' > age.req
printf 'researcher=amira\nindicator=victims\ngroup-by=region,sex\nfilter=form:LAB\nrho=0.004\n' > margin.req
{
show tipstat keygen --type office --country GBR -o amira.key
show tipstat researcher grant amira --key amira.key.pub --rho 0.5 --expires 2027-06-30
show cat labour.req
show tipstat request sign --key amira.key labour.req -o labour.signed
show tipstat query labour.signed -o labour.csv
show head -5 labour.csv
show tipstat request sign --key amira.key age.req -o age.signed
show tipstat query age.signed -o age.csv
show head -4 age.csv
show tipstat query labour.signed -o labour-again.csv
show cmp labour.csv labour-again.csv
show cat margin.req
show tipstat request sign --key amira.key margin.req -o margin.signed
show tipstat query margin.signed -o margin.csv
show cat margin.csv
show tipstat researcher list
show tipstat budget show researcher:amira
echo "\$ sed 's/^rho=0.1\$/rho=0.3/' labour.signed > forged.signed"
sed 's/^rho=0.1$/rho=0.3/' labour.signed > forged.signed
echo
echo '$ tipstat query forged.signed -o x.csv'
tipstat query forged.signed -o x.csv 2>&1; rc=$?
echo '$ echo $?'; echo $rc; echo
echo '$ tipstat log show | tail -6'
tipstat log show | tail -6
}
rm -rf "$WORK"
