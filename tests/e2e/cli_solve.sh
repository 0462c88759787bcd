#!/usr/bin/env bash
# End-to-end: `nerox solve` on TSPLIB files; --json fields (checked with
# the binary's own Lua and cjson), errors naming file and line, usage
# errors, the same answer on the cpu and gpu backends, and a clear failure
# for a gpu job on a machine without a Vulkan device.
set -euo pipefail

: "${NEROX:?path to the nerox binary}"
: "${NEROX_DATA_DIR:?folder of the public instances}"
tmp="${NEROX_TEST_TMP:-/tmp}/e2e-cli-solve"
mkdir -p "$tmp"
fail() { echo "FAIL: $*" >&2; exit 1; }
gr24="$NEROX_DATA_DIR/tsplib/gr24.tsp"

# --json: one object with the documented fields.
"$NEROX" solve "$gr24" --sweeps 300 --seed 11 --json >"$tmp/out.json" \
  || fail "solve --json exited $?"
cat >"$tmp/check.lua" <<'LUA'
local cjson = require "cjson"
local f = assert(io.open(arg[1]))
local r = cjson.decode(f:read("a"))
f:close()
for _, k in ipairs{ "problem_type", "instance", "energy", "solution",
    "status", "solver", "device", "seed", "sweeps", "replicas",
    "elapsed_s", "model_hash", "version" } do
  assert(r[k] ~= nil, "missing field " .. k)
end
assert(r.problem_type == "tsp" and r.instance == "gr24", "names")
assert(r.status == "succeeded" and r.sweeps == 300 and r.seed == 11)
assert(#r.solution == 24, "tour size")
local seen = {}
for _, c in ipairs(r.solution) do
  assert(c >= 0 and c < 24 and not seen[c], "not a tour")
  seen[c] = true
end
assert(r.energy >= 1272, "below the optimum")
print("json ok: " .. r.energy)
LUA
"$NEROX" run "$tmp/check.lua" "$tmp/out.json" || fail "bad --json output"

# Same seed and sweeps: same answer.
"$NEROX" solve "$gr24" --sweeps 300 --seed 11 --json >"$tmp/again.json"
cmp -s <(grep -o '"solution":\[[^]]*\]' "$tmp/out.json") \
       <(grep -o '"solution":\[[^]]*\]' "$tmp/again.json") \
  || fail "same seed and sweeps gave another tour"

# Human summary.
out=$("$NEROX" solve "$gr24" --sweeps 100) || fail "summary exited $?"
grep -q "^length " <<<"$out" || fail "summary without a length"

# A bad file: non-zero exit and "file:line:" on stderr.
printf 'NAME: bad\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\n' \
  >"$tmp/bad.tsp"
printf 'NODE_COORD_SECTION\n1 0 0\n2 oops 1\n' >>"$tmp/bad.tsp"
if "$NEROX" solve "$tmp/bad.tsp" --sweeps 10 2>"$tmp/err.txt"; then
  fail "a bad file was accepted"
fi
grep -Eq "$tmp/bad.tsp:[0-9]+:" "$tmp/err.txt" \
  || fail "no file:line: in: $(cat "$tmp/err.txt")"

# Usage errors name the flag and exit 2.
set +e
"$NEROX" solve "$gr24" --sweeps many 2>"$tmp/err.txt"
rc=$?
set -e
[[ $rc == 2 ]] || fail "bad flag: exit $rc, expected 2"
grep -q -- "--sweeps" "$tmp/err.txt" || fail "bad flag not named"

# The same seed, sweeps and replicas give the same answer on both
# backends; results name the device that ran them.
for solver in cpu gpu; do
  "$NEROX" solve "$gr24" --solver $solver --sweeps 400 --seed 9 \
    --replicas 7 --json >"$tmp/$solver.json" || fail "--solver $solver"
done
same=$("$NEROX" run /dev/stdin "$tmp/cpu.json" "$tmp/gpu.json" <<'LUA'
local cjson = require "cjson"
local function load(p)
  local f = assert(io.open(p)); local t = cjson.decode(f:read("a"))
  f:close(); return t
end
local c, g = load(arg[1]), load(arg[2])
print(c.energy == g.energy and table.concat(c.solution, ",") ==
      table.concat(g.solution, ",") and g.device:match("^gpu: ") ~= nil)
LUA
)
[[ $same == true ]] || fail "cpu and gpu differ for the same seed"

# A gpu job on a machine with no Vulkan device fails clearly.
if VK_ICD_FILENAMES=/nonexistent.json VK_DRIVER_FILES=/nonexistent.json \
   "$NEROX" solve "$gr24" --solver gpu --sweeps 10 2>"$tmp/err.txt"; then
  fail "--solver gpu succeeded without a Vulkan device"
fi
grep -qi "no Vulkan device" "$tmp/err.txt" || fail "gpu failure unclear"
echo "cli_solve: ok"
