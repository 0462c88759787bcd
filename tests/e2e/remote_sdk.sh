#!/usr/bin/env bash
# End-to-end: the Lua SDK's remote client against a real `nerox serve` on
# loopback. The same script gives the same result locally and remotely;
# error kinds (ValidationError with its field, AuthError, NotFoundError,
# PermissionError); the key never appears in output; the examples
# (submit_with_retry, early_stop unchanged, usage); and the batch of
# twenty jobs on a plan of low request rate and two concurrent jobs: every
# job succeeds, 429s are hit and counted by the SDK metric, and the server
# holds exactly one job per matrix.
set -uo pipefail

: "${NEROX:?path to the nerox binary}"
. "$(dirname "$0")/common.bash"
tmp=$(e2e_tmpdir e2e-remote-sdk)
db="$tmp/serve.db"
. "$(dirname "$0")/serve.bash"

key=$(mkkey acme jobs:write,jobs:read,usage:read)
rkey=$(mkkey acme jobs:read)
# The batch account: 54 requests a minute (the batch needs 60), 2 concurrent jobs.
bkey=$("$NEROX" keys create --account batch --plan enterprise \
  --scopes jobs:write,jobs:read,usage:read \
  --limits requests_per_minute=54,concurrent_jobs=2,jobs_per_month=unlimited \
  --db "$db" | tail -n 1)
serve_start "$db" || exit 1
export NEROX_API_URL="$base"

# The same script, local then remote: same energy, tour, error kinds and
# events (job:events() equal to the stream, resumed after N, a snapshot
# of a running job at once).
cat >"$tmp/same.lua" <<'LUA'
local nerox = require "nerox"
local c = nerox.Client()
local m = {{0,2,9,10},{2,0,6,4},{9,6,0,8},{10,4,8,0}}
local r = c.optimize:tsp{distance_matrix = m, sweeps = 300, seed = 3,
                         solver = "cpu"}:wait{timeout = 20}
print("result", r.status, r.energy, math.type(r.energy), #r.tour, r.seed,
      r.sweeps, r.solver, r.stop)
local function show(ev)  -- every field but the clock
  return string.format("%d %s %s %s %s %s %s %s %s", ev.seq, ev.type,
    ev.final, ev.best_energy, math.type(ev.best_energy), ev.energy,
    ev.sweep, ev.replicas, ev.job_id ~= nil)
end
local done = c.optimize:tsp{distance_matrix = m, sweeps = 300, seed = 3,
                            solver = "cpu"}
done:wait{timeout = 20}
local evs, streamed = done:events(), {}
for ev in done:stream() do streamed[#streamed + 1] = show(ev) end
local same = #evs == #streamed  -- progress events come with the clock
for i, ev in ipairs(evs) do
  same = same and ev.seq == i and show(ev) == streamed[i]
end
print("events", same, show(evs[#evs]), tostring(evs[#evs]):match("^event"),
      #done:events(#evs - 1), #done:events(#evs))
local ok, e = pcall(c.optimize.tsp, c.optimize, {distance_matrix = {{0}}})
print("error", e.kind, e.field)
ok, e = pcall(c.optimize.submit, c.optimize, {problem_type = "nope"})
print("error", e.kind, e.field)
local job = c.optimize:tsp{coordinates = {{0,0},{3,1},{5,4},{1,5},{7,2},
  {2,8},{6,7},{9,9}}, time_limit = 30, solver = "cpu"}
ok, e = pcall(job.wait, job, {timeout = 0.2})
print("wait", e.kind, job:status())
local n = 0
for ev in job:stream{timeout = 10} do
  n = n + 1
  if n == 3 then
    local t0 = require("nerox.loop").now()
    local now, tail = job:events(), job:events(2)
    print("events now", #now >= 3, now[1].seq, tail[1].seq,
          require("nerox.loop").now() - t0 < 0.5)
    print("cancel", job:cancel())
    break
  end
end
local res = job:result()
print("cancelled", res.status, res.energy ~= nil, job:cancel())
LUA
NEROX_API_URL= "$NEROX" run "$tmp/same.lua" >"$tmp/local.out" 2>&1
NEROX_API_KEY="$key" "$NEROX" run "$tmp/same.lua" >"$tmp/remote.out" 2>&1
e2e_expect_grep "$tmp/local.out" "^result	succeeded	23	integer	4	3	300	cpu	sweeps" \
  "local result"
if diff "$tmp/local.out" "$tmp/remote.out" >"$tmp/diff"; then
  e2e_ok "remote output equals local output"
else
  e2e_bad "remote output equals local output"; sed 's/^/  | /' "$tmp/diff"
fi

# Error kinds of the HTTP answers; the key is never printed.
cat >"$tmp/kinds.lua" <<'LUA'
local nerox = require "nerox"
local function kind(f) local ok, e = pcall(f) return ok and "ok" or e.kind end
local bad = nerox.Client{key = "nrx_not_a_key"}
print("bad key", kind(function() return bad.usage:get() end))
local ro = nerox.Client{key = os.getenv("RKEY")}
print("read only", kind(function()
  return ro.optimize:tsp{distance_matrix = {{0,1,1},{1,0,1},{1,1,0}}} end))
local c = nerox.Client()
print("missing", kind(function() return c.jobs:get("job-999999") end))
print("usage", kind(function() return c.usage:get() end))
local dead = nerox.Client{url = "http://127.0.0.1:1"}
print("down", kind(function() return dead.usage:get() end))
print(tostring(c), tostring(bad))
LUA
NEROX_API_KEY="$key" RKEY="$rkey" NEROX_LOG=debug \
  "$NEROX" run "$tmp/kinds.lua" >"$tmp/kinds.out" 2>&1
e2e_expect_grep "$tmp/kinds.out" "^bad key	AuthError" "401 is AuthError"
e2e_expect_grep "$tmp/kinds.out" "^read only	PermissionError" \
  "403 is PermissionError"
e2e_expect_grep "$tmp/kinds.out" "^missing	NotFoundError" "404 NotFoundError"
e2e_expect_grep "$tmp/kinds.out" "^usage	ok" "usage readable"
e2e_expect_grep "$tmp/kinds.out" "^down	ServerError" "no server: ServerError"
if grep -qF -e "$key" -e "$rkey" "$tmp/kinds.out" "$tmp/remote.out"; then
  e2e_bad "the key is never printed"
else
  e2e_ok "the key is never printed"
fi

# Examples against the server.
export NEROX_API_KEY="$key"
"$NEROX" run examples/submit_with_retry.lua 10 >"$tmp/retry.out" 2>&1
e2e_expect_grep "$tmp/retry.out" "succeeded: length [0-9]+" \
  "submit_with_retry.lua"
"$NEROX" run examples/early_stop.lua >"$tmp/early.out" 2>&1
e2e_expect_grep "$tmp/early.out" "Target reached" "early_stop.lua remote"
e2e_expect_grep "$tmp/early.out" "status cancelled" "early_stop cancelled"
"$NEROX" run examples/usage.lua >"$tmp/usage.out" 2>&1
e2e_expect_grep "$tmp/usage.out" "^Used: [0-9]+s of 72000s" "usage.lua used"
e2e_expect_grep "$tmp/usage.out" "^Resets: [0-9]{4}-[0-9]{2}-01T00:00:00Z" \
  "usage.lua period_end"

# The batch on the low plan: 429s, every job succeeds, one job a matrix.
mport=$((20000 + RANDOM % 20000))
NEROX_API_KEY="$bkey" NEROX_METRICS=1 NEROX_METRICS_PORT=0 \
  NEROX_METRICS_FILE="$tmp/sdk.prom" timeout 60 \
  "$NEROX" run examples/batch.lua 20 2 >"$tmp/batch.out" 2>"$tmp/batch.err"
e2e_expect_grep "$tmp/batch.out" "^20 of 20 succeeded" "batch: all succeed"
hits=$(sed -n 's/^nerox_rate_limit_hits_total \([0-9]*\).*/\1/p' \
  "$tmp/sdk.prom" 2>/dev/null)
if [ "${hits:-0}" -gt 0 ]; then e2e_ok "batch hit 429s ($hits counted)"
else e2e_bad "batch hit 429s (metric: '${hits:-none}')"; fi
e2e_expect_grep "$tmp/sdk.prom" \
  '^nerox_job_duration_seconds_count\{problem_type="tsp"\} 20$' \
  "duration histogram counts 20 jobs"
# The batch spent the account's requests: wait out its Retry-After.
for _ in 1 2 3 4 5; do
  [ "$(REQ_HEADERS="" req GET "/v1/jobs?limit=1000" "$bkey")" = 200 ] && break
  sleep "$(hget Retry-After)"
done
jobs=$(python3 -c 'import json,sys
print(len(json.load(open(sys.argv[1]))["jobs"]))' "$tmp/out")
e2e_expect_eq "$jobs" 20 "server holds one job per matrix"

serve_stop
e2e_finish
