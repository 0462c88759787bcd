#!/usr/bin/env bash
# Adversarial inputs to the binary: scripts that misbehave at the end of
# their life, runaway memory, binary TSPLIB files, odd flag values. Each
# must end with a clear message and a defined exit status, never a crash.
set -u
. "$(dirname "$0")/common.bash"

tmp=$(e2e_tmpdir adversarial)
gr24="$NEROX_DATA_DIR/tsplib/gr24.tsp"

# A finalizer that runs after the job's own at exit once crashed (SIGSEGV).
cat > "$tmp/late_gc.lua" <<LUA
local nerox = require "nerox"
local c = nerox.Client()
local keep = setmetatable({}, { __gc = function(t) t.job:status() end })
keep.job = c.optimize:tsp{ tsplib = "$gr24", time_limit = 30 }
print("end")
LUA
"$NEROX" run "$tmp/late_gc.lua" >"$tmp/out" 2>"$tmp/err"
e2e_expect_eq "$?" 0 "a finalizer using a closed job does not crash"

# Runaway memory: Lua's own error under the cap, not the OOM killer.
cat > "$tmp/hog.lua" <<'LUA'
local t = {}
for i = 1, 1e9 do t[i] = string.rep("x", 1000) .. i end
LUA
NEROX_LUA_MEMORY_MB=64 timeout 20 "$NEROX" run "$tmp/hog.lua" 2>"$tmp/err"
e2e_expect_eq "$?" 1 "a runaway script exits 1"
e2e_expect_grep "$tmp/err" "not enough memory.*NEROX_LUA_MEMORY_MB" \
  "runaway memory is named"

# Binary garbage in a TSPLIB file is not echoed raw.
printf 'NAME: x\n\033[2J\001\377 junk\n' >"$tmp/bin.tsp"
"$NEROX" solve "$tmp/bin.tsp" 2>"$tmp/err"
e2e_expect_eq "$?" 1 "a binary file exits 1"
e2e_expect_grep "$tmp/err" "bin.tsp:2: unexpected token" "names file:line"
if LC_ALL=C grep -q $'[\001\033\377]' "$tmp/err"; then
  e2e_bad "raw control bytes reached stderr"
else
  e2e_ok "no raw control bytes on stderr"
fi

# Too many cities for the kernel: refused on the DIMENSION line.
printf 'NAME: x\nTYPE: TSP\nDIMENSION: 100001\n' >"$tmp/big.tsp"
"$NEROX" solve "$tmp/big.tsp" --sweeps 1 2>"$tmp/err"
e2e_expect_eq "$?" 1 "an oversized file exits 1"
e2e_expect_grep "$tmp/err" "big.tsp:3: DIMENSION" "names the DIMENSION line"

# Flags: repeated, non-decimal, beyond the kernel's limits.
for args in "--sweeps 5 --sweeps 6" "--sweeps 0x10" "--seed 1e3" \
            "--replicas 300" "--time-limit 0x1"; do
  # shellcheck disable=SC2086
  "$NEROX" solve "$gr24" $args 2>"$tmp/err"
  e2e_expect_eq "$?" 2 "usage error: $args"
  e2e_expect_grep "$tmp/err" "${args%% *}" "flag named: $args"
done
"$NEROX" solve "$gr24" --sweeps 20 --target-energy 1e300 >"$tmp/out" 2>&1
e2e_expect_eq "$?" 0 "a target beyond the integers is met at once"

e2e_finish
