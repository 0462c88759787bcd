#!/usr/bin/env bash
# End-to-end: a problem type from a folder on NEROX_PLUGIN_PATH is found
# by client.optimize:submit, and NEROX_API_URL (the remote client, not in
# this version) is refused with a clear message.
set -euo pipefail

: "${NEROX:?path to the nerox binary}"
tmp="${NEROX_TEST_TMP:-/tmp}/e2e-plugin-path"
mkdir -p "$tmp/plugins"
fail() { echo "FAIL: $*" >&2; exit 1; }

# "ring": n cities evenly spaced on a circle, solved through tsp's model.
cat >"$tmp/plugins/ring.lua" <<'LUA'
local tsp = require "nerox.plugins.tsp"
local function points(p)
  local pts = {}
  for i = 1, p.cities do
    local a = 2 * math.pi * i / p.cities
    pts[i] = { math.cos(a), math.sin(a) }
  end
  return { coordinates = pts }
end
return {
  name = "ring",
  validate = function(p)
    if math.type(p.cities) ~= "integer" or p.cities < 3 then
      error(require("nerox.errors").ValidationError(
        "expected an integer >= 3", { field = "cities" }), 0)
    end
  end,
  encode = function(p) return tsp.encode(points(p)) end,
  decode = function(p, raw, enc) return tsp.decode(points(p), raw, enc) end,
  energy = function(p, tour) return tsp.energy(points(p), tour) end,
}
LUA

cat >"$tmp/ring.lua" <<'LUA'
local nerox = require "nerox"
local client = nerox.Client()
local res = client.optimize:submit{ problem_type = "ring", cities = 8,
                                    sweeps = 500, seed = 1 }:wait()
local optimum = 16 * math.sin(math.pi / 8)
assert(math.abs(res.energy - optimum) < 1e-6, "length " .. res.energy)
local ok, err = pcall(client.optimize.submit, client.optimize,
                      { problem_type = "ring", cities = 2 })
assert(not ok and err.field == "cities", tostring(err))
print("ring ok")
LUA
out=$(NEROX_PLUGIN_PATH="/nonexistent:$tmp/plugins" \
      "$NEROX" run "$tmp/ring.lua" 2>&1) || fail "ring plugin: $out"
grep -q "ring ok" <<<"$out" || fail "ring plugin: $out"

# Without the folder on the path, the type is unknown.
if out=$("$NEROX" run "$tmp/ring.lua" 2>&1); then
  fail "ring found without NEROX_PLUGIN_PATH"
fi
grep -q "problem_type" <<<"$out" || fail "unknown type unclear: $out"

# A plugin that fails in decode fails its own job, not the process; a
# plugin missing a function is refused with its file and the reason.
cat >"$tmp/plugins/crash.lua" <<'LUA'
local qubo = require "nerox.plugins.qubo"
local p = {}
for k, v in pairs(qubo) do p[k] = v end
p.name = "crash"
p.decode = function() error("decode exploded") end
return p
LUA
printf 'return { name = "partial", validate = function() end }\n' \
  >"$tmp/plugins/partial.lua"
cat >"$tmp/crash.lua" <<'LUA'
local nerox = require "nerox"
local client = nerox.Client()
local Q = { { 0, 0, -1 }, { 0, 1, 2 }, { 1, 1, -1 } }
local job = client.optimize:submit{ problem_type = "crash", Q = Q,
                                    sweeps = 10 }
local ok, err = pcall(job.wait, job)
assert(not ok and nerox.is(err, nerox.JobFailedError), tostring(err))
assert(tostring(err):find("decode exploded"), tostring(err))
assert(job:status() == "failed")
local ok2, err2 = pcall(client.optimize.submit, client.optimize,
                        { problem_type = "partial" })
assert(not ok2 and tostring(err2):find("partial.lua"), tostring(err2))
assert(tostring(err2):find("encode"), tostring(err2))
print("after", client.optimize:qubo{ Q = Q, sweeps = 10 }:wait().energy)
LUA
out=$(NEROX_PLUGIN_PATH="$tmp/plugins" "$NEROX" run "$tmp/crash.lua" 2>&1) \
  || fail "crash plugin took the script down: $out"
grep -q "after	-1" <<<"$out" || fail "jobs after a plugin error: $out"

# NEROX_API_URL makes the client remote; without a key it says so.
if out=$(NEROX_API_URL=http://127.0.0.1:9 NEROX_API_KEY= "$NEROX" solve \
         "$NEROX_DATA_DIR/tsplib/gr24.tsp" --sweeps 10 2>&1); then
  fail "NEROX_API_URL without a key was not refused"
fi
grep -q "AuthError: no API key" <<<"$out" ||
  fail "remote refusal unclear: $out"
echo "plugin_path: ok"
