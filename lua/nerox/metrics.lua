-- SDK metrics in Prometheus form, on when NEROX_METRICS=1:
--
--   nerox_job_duration_seconds{problem_type}  histogram of queued + run
--                                              time of finished jobs
--   nerox_job_errors_total{kind}               errors raised to the caller
--                                              by submit, wait and result
--   nerox_rate_limit_hits_total                 HTTP 429 answers received
--
-- served on http://127.0.0.1:NEROX_METRICS_PORT/metrics (default 9464;
-- 0 picks a free port, logged on stderr) and, with NEROX_METRICS_FILE,
-- written to that file for node_exporter's textfile collector (at most
-- once per FILE_INTERVAL_S while jobs run, and at exit). The registry and
-- its text format are the server's (host/util/metrics.h).

local metrics = {}

metrics.DEFAULT_PORT = 9464
metrics.FILE_INTERVAL_S = 1
-- Job duration buckets, in seconds: small jobs up to long runs.
metrics.DURATION_BUCKETS = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
                             120, 300, 600, 1800, 3600 }

local state       -- {reg, duration, errors, rate_limits, file, port}
local observed = setmetatable({}, { __mode = "k" })  -- results counted
local depth = setmetatable({}, { __mode = "k" })     -- coroutine -> calls

-- Whether the metrics are on (NEROX_METRICS=1, true or yes).
function metrics.enabled()
  local v = (os.getenv("NEROX_METRICS") or ""):lower()
  return v == "1" or v == "true" or v == "yes"
end

local function write_file(force)
  if not state or not state.file then return end
  local now = require("nerox.loop").now()
  if not force and state.written and
     now - state.written < metrics.FILE_INTERVAL_S then
    return
  end
  state.written = now
  local ok, err = state.reg:write_file(state.file)
  if not ok then io.stderr:write("nerox: metrics: ", err, "\n") end
end

local function start()
  if state then return state end
  local c = require "nerox.metrics_c"
  local reg = c.new()
  state = { reg = reg }
  state.duration = reg:histogram("nerox_job_duration_seconds",
    "Time from submit to the end of finished jobs (queued + run).",
    "problem_type", metrics.DURATION_BUCKETS)
  state.errors = reg:counter("nerox_job_errors_total",
    "Errors raised to the caller by submit, wait and result, by kind.",
    "kind")
  state.rate_limits = reg:counter("nerox_rate_limit_hits_total",
    "HTTP 429 answers received from the server.", "")
  state.file = os.getenv("NEROX_METRICS_FILE")
  if state.file == "" then state.file = nil end
  local port = tonumber(os.getenv("NEROX_METRICS_PORT") or "") or
               metrics.DEFAULT_PORT
  local ok, bound = pcall(reg.serve, reg, math.tointeger(port) or -1)
  if ok then
    state.port = bound
    if port == 0 then
      io.stderr:write("nerox: metrics on http://127.0.0.1:", bound,
                      "/metrics\n")
    end
  else  -- a busy port must not stop the script
    io.stderr:write("nerox: ", tostring(bound), "\n")
  end
  -- The textfile's last write, when the Lua state closes.
  state.closer = setmetatable({}, { __gc = function() write_file(true) end })
  require("nerox.http").on_rate_limit[#require("nerox.http").on_rate_limit
    + 1] = function() metrics.rate_limited() end
  return state
end

-- The endpoint's port (nil when off or not listening).
function metrics.port()
  return state and state.port
end

-- The metrics as text (empty when off).
function metrics.render()
  return state and state.reg:render() or ""
end

-- Write the textfile now.
function metrics.flush()
  write_file(true)
end

function metrics.rate_limited()
  if not state then return end
  state.reg:add(state.rate_limits, 1)
  write_file(false)
end

function metrics.job_error(err)
  if not state then return end
  local kind = type(err) == "table" and err.kind or "Error"
  state.reg:add(state.errors, 1, tostring(kind))
  write_file(false)
end

function metrics.job_finished(result)
  if not state or type(result) ~= "table" or observed[result] then return end
  observed[result] = true
  local d = (tonumber(result.queued_s) or 0) + (tonumber(result.run_s) or 0)
  state.reg:observe(state.duration, d, tostring(result.problem_type))
  write_file(false)
end

-- Wrap the methods `names` of class `cls` so that the outermost call
-- counts its error (by kind) or its finished result. Nothing happens
-- when the metrics are off.
-- Objects with `_nometrics` set (the server's own jobs) are not counted;
-- the registry starts with the first counted call.
function metrics.instrument(cls, names)
  if not metrics.enabled() then return end
  for _, name in ipairs(names) do
    local inner = cls[name]
    cls[name] = function(self, ...)
      if type(self) == "table" and self._nometrics then
        return inner(self, ...)
      end
      start()
      local co = coroutine.running()
      depth[co] = (depth[co] or 0) + 1
      local res = table.pack(pcall(inner, self, ...))
      depth[co] = depth[co] - 1
      local outer = depth[co] == 0
      if not res[1] then
        if outer then metrics.job_error(res[2]) end
        error(res[2], 0)
      end
      if outer and (name == "wait" or name == "result") then
        metrics.job_finished(res[2])
      end
      return table.unpack(res, 2, res.n)
    end
  end
end

-- Start now (the endpoint serves zeros until the first job).
function metrics.start()
  if metrics.enabled() then start() end
end

return metrics
