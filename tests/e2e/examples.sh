#!/usr/bin/env bash
# End-to-end: run the examples with the nerox binary. early_stop must reach
# its target; solve on gr24 must print a valid tour and its length.
set -euo pipefail

: "${NEROX:?path to the nerox binary}"
: "${NEROX_DATA_DIR:?folder of the public instances}"
cd "${NEROX_SOURCE_DIR:-.}"
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$NEROX" run examples/early_stop.lua) || fail "early_stop exited $?"
echo "$out"
grep -q "Target reached" <<<"$out" || fail "early_stop: no 'Target reached'"
grep -q "status cancelled" <<<"$out" || fail "early_stop: not cancelled"

out=$("$NEROX" run examples/solve.lua "$NEROX_DATA_DIR/tsplib/gr24.tsp" 2) \
  || fail "solve exited $?"
echo "$out"
length=$(sed -n 's/^length //p' <<<"$out")
tour=$(sed -n 's/^tour //p' <<<"$out")
[[ "$length" =~ ^[0-9]+$ ]] || fail "solve: bad length '$length'"
(( length >= 1272 )) || fail "solve: length $length below the optimum 1272"
# a valid tour of gr24: each of 0..23 exactly once
sorted=$(tr ' ' '\n' <<<"$tour" | sort -n | tr '\n' ' ')
expected=$(seq 0 23 | tr '\n' ' ')
[[ "$sorted" == "$expected" ]] || fail "solve: not a tour: $tour"

if "$NEROX" run examples/solve.lua 2>/dev/null; then
  fail "solve without a file should fail"
fi
echo "examples: ok"
