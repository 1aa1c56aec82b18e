# The committed synthetic datasets are exactly the deterministic output of
# tools/gen_synth (nobody edited a submission or truth file by hand).
source "$REPO/tests/e2e/lib.sh"
bash "$REPO/tests/e2e/gen_check.sh" "$BUILD/tools/gen_synth" "$REPO"
