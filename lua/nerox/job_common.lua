-- What local jobs (nerox.job) and remote ones (nerox.remote) share: the
-- final states, argument checks, the shape of events and the errors a
-- wait raises, so both kinds look the same to a script.

local check = require "nerox.check"
local errors = require "nerox.errors"

local common = {}

-- States after which a job never changes again.
common.FINAL = { succeeded = true, failed = true, cancelled = true,
                 timed_out = true }

-- Catch job.cancel() (a dot where a colon belongs) with a clear error.
function common.check_self(class, self, method)
  if getmetatable(self) ~= class then
    check.fail("job", "call job:%s(...) with a colon", method)
  end
end

-- A timeout in seconds: nil, or a finite number >= 0.
function common.check_timeout(timeout)
  if timeout == nil then return nil end
  check.number(timeout, "timeout")
  if timeout < 0 then check.fail("timeout", "must not be negative") end
  return timeout
end

-- wait's argument: {timeout = s}, a number of seconds, or nil.
function common.wait_timeout(opts)
  if type(opts) == "table" then opts = opts.timeout end
  return common.check_timeout(opts)
end

-- Metatable of event objects, so they print readably.
local Event = {}
Event.__index = Event
function Event.__tostring(ev)
  return string.format("event %d %s best=%s energy=%s sweep=%s %.3fs",
                       ev.seq, ev.type, tostring(ev.best_energy),
                       tostring(ev.energy), tostring(ev.sweep),
                       ev.elapsed_s or 0)
end

-- Energy in kernel units -> caller's units (job._scale kernel units per
-- caller unit; a remote job's events are in the caller's units already).
local function energy(job, e)
  local scale = job._scale or 1
  if e == nil or scale == 1 then return e end
  return e / scale
end

-- job:_event(raw): the event object the script sees.
function common.event(job, raw)
  return setmetatable({
    seq = raw.seq, type = raw.type, final = raw.type ~= "progress",
    best_energy = energy(job, raw.best_energy),
    energy = energy(job, raw.energy), sweep = raw.sweep,
    elapsed_s = raw.elapsed_s, replicas = raw.replicas, job_id = job.id,
  }, Event)
end

-- job:stream(opts) for both kinds: an iterator over the job's events
-- from the first (or after seq opts.after); it ends after the final
-- event. next_raw(last, timeout) gives the raw event after seq `last`,
-- nil when the stream is over, or false when `timeout` (opts.timeout:
-- seconds for each event, nil for none) ran out first, which raises a
-- TimeoutError and leaves the job going.
function common.stream(job, opts, next_raw)
  opts = check.table(opts or {}, "options")
  local last = check.integer(opts.after or 0, "after", 0)
  local timeout = common.check_timeout(opts.timeout)
  local finished = false
  return function()
    if finished then return nil end
    local raw = next_raw(last, timeout)
    if raw == false then common.event_timeout(job, timeout) end
    if raw == nil then finished = true; return nil end
    last = raw.seq
    local ev = job:_event(raw)
    finished = ev.final
    return ev
  end
end

-- job:events(after) for both kinds: fetch(after) lists the raw events
-- there are now after seq `after` (default 0).
function common.events(job, after, fetch)
  after = check.integer(after or 0, "after", 0)
  local out = {}
  for i, raw in ipairs(fetch(after)) do out[i] = job:_event(raw) end
  return out
end

-- job:_checked(result): the result, or JobFailedError for a failed job.
function common.checked(job, result)
  if result.status == "failed" then
    errors.raise("JobFailedError", string.format("job %s failed: %s",
      job.id, tostring(result.error)), { job_id = job.id,
      result = result })
  end
  return result
end

-- The TimeoutError of stream{timeout}: no event in time.
function common.event_timeout(job, timeout)
  errors.raise("TimeoutError", string.format(
    "no event from job %s within %g s", job.id, timeout),
    { job_id = job.id, timeout = timeout })
end

-- The TimeoutError of wait{timeout}: the job is still `state`.
function common.wait_timeout_error(job, timeout, state)
  errors.raise("TimeoutError", string.format(
    "job %s did not finish within %g s; it is still %s (wait again or " ..
    "cancel it)", job.id, timeout, state),
    { job_id = job.id, timeout = timeout })
end

return common
