-- A submitted job as the SDK user sees it: stream its events, cancel it,
-- wait for it, read its result. Wraps a job of the local engine
-- (nerox.core) and converts energies to the caller's units through the
-- plugin that encoded the problem.

local errors = require "nerox.errors"
local check = require "nerox.check"
local async = require "nerox.async"
local loop = require "nerox.loop"

local Job = {}
Job.__index = Job

-- How long cancel() waits for the job to stop, in seconds. The engine
-- stops within one kernel dispatch; this only bounds a stuck engine.
Job.CANCEL_WAIT_S = 5

-- States after which a job never changes again.
local FINAL = { succeeded = true, failed = true, cancelled = true,
                timed_out = true }

-- Catch job.cancel() (a dot where a colon belongs) with a clear error.
local function check_self(self, method)
  if getmetatable(self) ~= Job then
    check.fail("job", "call job:%s(...) with a colon", method)
  end
end

-- A timeout in seconds: nil, or a finite number >= 0.
local function check_timeout(timeout)
  if timeout == nil then return nil end
  check.number(timeout, "timeout")
  if timeout < 0 then check.fail("timeout", "must not be negative") end
  return timeout
end

-- Whether waits go through the event loop: inside a task, or while tasks
-- are live (so they keep running); else the engine's blocking calls.
local function on_loop()
  return async.current() ~= nil or async.busy()
end

-- Wait on the loop until pred() holds or `timeout` (seconds, nil: none)
-- runs out; the engine wakes the loop on every event. Returns pred().
local function loop_wait(pred, timeout)
  local deadline = timeout and loop.now() + timeout
  while not pred() do
    if deadline and loop.now() >= deadline then return pred() end
    async.wait{ engine = true, deadline = deadline }
  end
  return true
end

-- Wrap a core job. `spec` holds core_job, plugin, payload, enc (what the
-- plugin's encode returned besides the model), params, problem_type,
-- model_hash and version.
function Job.new(spec)
  local job = setmetatable({}, Job)
  job.id = spec.core_job:id()
  job.problem_type = spec.problem_type
  job._core = spec.core_job
  job._spec = spec
  job._scale = (spec.enc and spec.enc.scale) or 1
  job._nometrics = spec.nometrics
  return job
end

-- Energy in kernel units -> caller's units.
function Job:_energy(e)
  if e == nil or self._scale == 1 then return e end
  return e / self._scale
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

function Job:_event(raw)
  return setmetatable({
    seq = raw.seq, type = raw.type, final = raw.type ~= "progress",
    best_energy = self:_energy(raw.best_energy),
    energy = self:_energy(raw.energy), sweep = raw.sweep,
    elapsed_s = raw.elapsed_s, replicas = raw.replicas, job_id = self.id,
  }, Event)
end

-- The job's state: "queued", "running", "succeeded", "failed",
-- "cancelled" or "timed_out".
function Job:status()
  check_self(self, "status")
  if self._plugin_failed then return "failed" end
  return self._core:state()
end

-- Whether the job has reached a final state.
function Job:done()
  check_self(self, "done")
  return FINAL[self._core:state()] == true
end

-- Iterator over the job's events, from the first (or after seq
-- opts.after, to resume); it ends after the final event. opts.timeout
-- bounds the wait for each event: when it runs out a TimeoutError is
-- raised and the job goes on.
function Job:stream(opts)
  check_self(self, "stream")
  opts = check.table(opts or {}, "options")
  local last = check.integer(opts.after or 0, "after", 0)
  local timeout = check_timeout(opts.timeout)
  local finished = false
  return function()
    if finished then return nil end
    local raw
    if on_loop() then
      loop_wait(function()
        raw = self._core:next_event(last, 0)
        return raw ~= nil or self:done()
      end, timeout)
    else
      raw = self._core:next_event(last, timeout)
    end
    if raw == nil then
      if self:done() then finished = true; return nil end
      if timeout == nil then
        errors.raise("ServerError", "the event stream of job " .. self.id ..
                     " ended before the job finished")
      end
      errors.raise("TimeoutError", string.format(
        "no event from job %s within %g s", self.id, timeout),
        { job_id = self.id, timeout = timeout })
    end
    last = raw.seq
    local ev = self:_event(raw)
    finished = ev.final
    return ev
  end
end

-- Events available now, after seq `after` (default 0), without waiting.
function Job:events(after)
  check_self(self, "events")
  after = check.integer(after or 0, "after", 0)
  local out = {}
  for i, raw in ipairs(self._core:events(after)) do
    out[i] = self:_event(raw)
  end
  return out
end

-- Cancel the job; the best solution found so far is kept. Returns true if
-- the job was still queued or running, and returns once it has stopped
-- (so result() can be read right after).
function Job:cancel()
  check_self(self, "cancel")
  local was_live = self._core:cancel()
  if on_loop() then
    loop_wait(function() return self:done() end, Job.CANCEL_WAIT_S)
  else
    self._core:wait(Job.CANCEL_WAIT_S)
  end
  return was_live
end

-- The result of a finished job (see docs/sdk.md for its fields). Raises
-- ConflictError while the job is queued or running, JobFailedError if it
-- failed. A cancelled or timed-out job has a result: the best found.
function Job:result()
  check_self(self, "result")
  if self._result then return self:_checked(self._result) end
  local raw = self._core:result()
  if raw == nil then
    errors.raise("ConflictError", string.format(
      "job %s is %s; its result is available when it finishes (use " ..
      "wait)", self.id, self._core:state()), { job_id = self.id })
  end
  self._result = self:_decode(raw)
  return self:_checked(self._result)
end

function Job:_checked(result)
  if result.status == "failed" then
    errors.raise("JobFailedError", string.format("job %s failed: %s",
      self.id, tostring(result.error)), { job_id = self.id,
      result = result })
  end
  return result
end

-- Wait for the job to finish and return its result. opts.timeout (or a
-- number) bounds the wait in seconds: when it runs out a TimeoutError is
-- raised and the job keeps running; waiting never cancels.
function Job:wait(opts)
  check_self(self, "wait")
  local timeout = opts
  if type(opts) == "table" then timeout = opts.timeout end
  timeout = check_timeout(timeout)
  local finished
  if on_loop() then
    finished = loop_wait(function() return self:done() end, timeout)
  else
    finished = self._core:wait(timeout)
  end
  if not finished then
    errors.raise("TimeoutError", string.format(
      "job %s did not finish within %g s; it is still %s (wait again or " ..
      "cancel it)", self.id, timeout, self._core:state()),
      { job_id = self.id, timeout = timeout })
  end
  return self:result()
end

-- Build the user's result from the core's: the plugin's part (solution,
-- energy, objective, instance) plus what makes the run repeatable.
function Job:_decode(raw)
  local spec = self._spec
  local ok, res = pcall(spec.plugin.decode, spec.payload, raw, spec.enc)
  if not ok or type(res) ~= "table" then
    -- A plugin error fails this job (and only this job): the result
    -- becomes a failed one that names the plugin's error.
    local why = ok and "decode returned " .. type(res) or
                tostring(errors.wrap(res, "ServerError").message or res)
    self._plugin_failed = true
    res = { error = string.format("plugin %s: decode failed: %s",
                                  spec.problem_type, why) }
    raw = setmetatable({ status = "failed", error = res.error },
                       { __index = raw })
  end
  res.status = raw.status
  res.problem_type = spec.problem_type
  res.job_id = self.id
  res.solver, res.device = raw.solver, raw.device
  res.solver_reason = raw.solver_reason
  res.seed, res.sweeps, res.replicas = raw.seed, raw.sweeps, raw.replicas
  res.proposals, res.stop = raw.proposals, raw.stop
  res.queued_s, res.run_s = raw.queued_s, raw.run_s
  res.model_hash, res.version = spec.model_hash, spec.version
  res.error = raw.error
  return res
end

require("nerox.metrics").instrument(Job, { "wait", "result" })

return Job
