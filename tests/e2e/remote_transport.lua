-- The remote SDK against tests/e2e/fake_server.py (FAKE_URL): split,
-- stalled and dropped event streams, heartbeats, 429s with every form of
-- Retry-After, and a submit whose connection drops. Prints one line a
-- fact; remote_transport.sh checks them.
local nerox = require "nerox"
local http = require "nerox.http"
local json = require "nerox.json"
local loop = require "nerox.loop"

io.stdout:setvbuf("line")
local base = assert(os.getenv("FAKE_URL"), "FAKE_URL")

local function client(case)
  return nerox.Client{ url = base .. "/case/" .. case, key = "k-test" }
end

-- The fake server's log of `case`: requests (and "closed" marks).
local function log(case)
  local res = http.request{ url = base .. "/_log" }
  local out = {}
  for _, e in ipairs(json.decode(res.body).log) do
    if e.case == case then out[#out + 1] = e end
  end
  return out
end

-- Prints "NAME ok" when lo <= v <= hi, else "NAME BAD v".
local function within(name, v, lo, hi)
  local good = type(v) == "number" and v >= lo and v <= hi
  print(name, good and "ok" or "BAD " .. tostring(v))
end

-- ---- event streams ---------------------------------------------------

local function stream(case)
  local job = client(case).jobs:get("job-1")
  local got, at = {}, {}
  local t0 = loop.now()
  for ev in job:stream{ timeout = 10 } do
    got[#got + 1] = string.format("%d:%s:%s", ev.seq, ev.type:sub(1, 1),
                                  tostring(ev.best_energy))
    at[ev.seq] = loop.now()
  end
  local conns, ids, closed = {}, {}, nil
  for _, e in ipairs(log(case)) do
    if e.closed then closed = e.closed
    elseif e.path:match("/events") then
      conns[#conns + 1] = e
      ids[#ids + 1] = e.last_event_id or "-"
    end
  end
  print(case, table.concat(got, " "), "connections=" .. #conns,
        "last-event-id=" .. table.concat(ids, ","))
  return at, conns, closed, loop.now() - t0
end

stream("split")
local stall_s = tonumber(os.getenv("NEROX_STREAM_STALL_S"))
local at = stream("stall")
within("stall detected within the stall time", at[4] - at[3],
       stall_s * 0.9, stall_s + 0.6)
for _, case in ipairs{ "drop", "chunk" } do
  local _, conns, closed = stream(case)
  within(case .. ": reconnect after retry:", conns[2] and closed and
         conns[2].t - closed, 0.2, 1.5)
end
local _, _, _, took = stream("beat")
within("heartbeats keep a quiet stream", took, 1.7, 5)

-- ---- 429 and Retry-After -----------------------------------------------

-- case, expected retry_after range (nil: none), expected wait range of a
-- retry (nil: raised at once)
local RA = {
  { "ra-secs", 1, 1, 1, 1.5 },
  { "ra-future", 1, 2, 1, 2.5 },
  { "ra-past", 0, 0, 0, 0.4 },
  { "ra-negative", 0, 0, 0, 0.4 },
  { "ra-huge", http.MAX_RETRY_AFTER_S, http.MAX_RETRY_AFTER_S },
  { "ra-garbled", nil, nil, 0, 0.4 },
  { "ra-missing", nil, nil, 0, 0.4 },
  { "ra-reset", 0, 2, 0, 2.5 },
}
for _, t in ipairs(RA) do
  local case = t[1]
  local c = client(case)
  local ok, e = pcall(c.usage.get, c.usage)
  print(case, ok and "ok" or e.kind, "status=" .. tostring(e.status))
  if t[2] then
    within(case .. " retry_after", e.retry_after, t[2], t[3])
  else
    print(case .. " retry_after", e.retry_after == nil and "ok" or
          "BAD " .. tostring(e.retry_after))
  end
  local delays = {}
  local p = nerox.retry{ max_retries = 2, base = 0.05, cap = 3,
    on_retry = function(info) delays[#delays + 1] = info.delay end }
  local t0 = loop.now()
  local rok, res = pcall(p, function() return c.usage:get() end)
  local waited = loop.now() - t0
  if t[4] then
    print(case .. " retried", rok and res.case == case and "ok" or
          "BAD " .. tostring(res))
    within(case .. " wait", waited, t[4], t[5])
    within(case .. " delay", delays[1], t[4], t[5])
  else
    print(case .. " retried", not rok and res.kind == "RateLimitError" and
          #delays == 0 and "raised at once" or "BAD " .. tostring(res))
    within(case .. " wait", waited, 0, 0.15)
  end
end

-- ---- a submit whose connection drops ---------------------------------

local TSP = { problem_type = "tsp", distance_matrix = { { 0, 1 }, { 1, 0 } } }
local c = client("submit")
local p = nerox.retry{ max_retries = 3, base = 0.05, cap = 0.2 }
local ok, job = pcall(p, function() return c.optimize:submit(TSP) end)
print("submit", ok and job.id or "BAD " .. tostring(job))
local keys = {}
for _, e in ipairs(log("submit")) do keys[#keys + 1] = e.idempotency_key end
print("submit attempts", #keys)
print("transport retries reuse the key", keys[1] and keys[1] == keys[2] and
      keys[2] == keys[3] and "ok" or "BAD")
print("policy retries reuse the key", keys[4] and keys[4] == keys[1] and
      "ok" or "BAD")
local c2 = client("submit-ok")
c2.optimize:submit(TSP)
c2.optimize:submit(TSP)
local k2 = log("submit-ok")
print("a new submit has a new key", #k2 == 2 and k2[1].idempotency_key and
      k2[1].idempotency_key ~= k2[2].idempotency_key and
      k2[1].idempotency_key ~= keys[1] and "ok" or "BAD")
