#!/usr/bin/env bash
# End-to-end: the binary-kernel examples. maxcut_early_stop must reach its
# target on G1 and cancel; knapsack must print a feasible value; the user
# plugin (examples/user_plugin) is found through NEROX_PLUGIN_PATH; and
# `nerox solve` handles a G-set graph and a bqp file with --json.
set -euo pipefail

: "${NEROX:?path to the nerox binary}"
: "${NEROX_DATA_DIR:?folder of the public instances}"
cd "${NEROX_SOURCE_DIR:-.}"
source tests/e2e/common.bash

out=$("$NEROX" run examples/maxcut_early_stop.lua "$NEROX_DATA_DIR/gset/G1" \
      2>&1) || e2e_bad "maxcut_early_stop exited $?"
echo "$out"
grep -q "Target reached" <<<"$out" && e2e_ok "maxcut target reached" \
  || e2e_bad "maxcut_early_stop: no 'Target reached'"
grep -q "status cancelled" <<<"$out" && e2e_ok "maxcut cancelled" \
  || e2e_bad "maxcut_early_stop: not cancelled"

out=$("$NEROX" run examples/knapsack.lua 2>&1) || e2e_bad "knapsack exited"
echo "$out"
e2e_expect_eq "$(sed -n 's/^value //p' <<<"$out")" "195" "knapsack optimum"
e2e_expect_eq "$(sed -n 's/^feasible //p' <<<"$out")" "true" \
  "knapsack feasible"

out=$(NEROX_PLUGIN_PATH="$PWD/examples/user_plugin/plugins" \
      "$NEROX" run examples/user_plugin/vertex_cover.lua 2>&1) \
  || e2e_bad "vertex_cover exited"
echo "$out"
grep -q "^size 6, feasible true" <<<"$out" && e2e_ok "vertex cover of 6" \
  || e2e_bad "vertex_cover: $out"
if "$NEROX" run examples/user_plugin/vertex_cover.lua >/dev/null 2>&1; then
  e2e_bad "vertex_cover found without NEROX_PLUGIN_PATH"
else
  e2e_ok "vertex_cover needs NEROX_PLUGIN_PATH"
fi

tmp=$(e2e_tmpdir e2e-examples-binary)
"$NEROX" solve "$NEROX_DATA_DIR/gset/G1" --sweeps 100 --seed 1 --json \
  >"$tmp/g1.json" || e2e_bad "solve G1 exited $?"
e2e_expect_grep "$tmp/g1.json" '"problem_type":"maxcut"' "solve G1 maxcut"
e2e_expect_grep "$tmp/g1.json" '"instance":"G1"' "solve G1 instance"
"$NEROX" solve "$NEROX_DATA_DIR/bqp/bqp50.txt" --target-energy -2098 \
  --time-limit 5 --json >"$tmp/bqp.json" || e2e_bad "solve bqp50 exited $?"
e2e_expect_grep "$tmp/bqp.json" '"objective":2098' "bqp50.1 reaches 2098"
e2e_expect_grep "$tmp/bqp.json" '"instance":"bqp50.1"' "bqp50 instance"
e2e_finish
