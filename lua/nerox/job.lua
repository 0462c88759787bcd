-- A submitted job as the SDK user sees it: stream its events, cancel it,
-- wait for it, read its result. Wraps a job of the local engine
-- (nerox.core) and converts energies to the caller's units through the
-- plugin that encoded the problem.

local errors = require "nerox.errors"
local check = require "nerox.check"
local async = require "nerox.async"
local loop = require "nerox.loop"
local common = require "nerox.job_common"

local Job = {}
Job.__index = Job

-- How long cancel() waits for the job to stop, in seconds. The engine
-- stops within one kernel dispatch; this only bounds a stuck engine.
Job.CANCEL_WAIT_S = 5

local FINAL = common.FINAL

local function check_self(self, method)
  common.check_self(Job, self, method)
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

Job._event = common.event
Job._checked = common.checked

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
  return common.stream(self, opts, function(last, timeout)
    local raw
    if on_loop() then
      loop_wait(function()
        -- done first: a job that has ended has published all its events,
        -- so reading after the check misses none.
        local done = self:done()
        raw = self._core:next_event(last, 0)
        return raw ~= nil or done
      end, timeout)
    else
      raw = self._core:next_event(last, timeout)
    end
    if raw ~= nil then return raw end
    if self:done() then return self._core:next_event(last, 0) end
    if timeout == nil then
      errors.raise("ServerError", "the event stream of job " .. self.id ..
                   " ended before the job finished")
    end
    return false
  end)
end

-- Events available now, after seq `after` (default 0), without waiting.
function Job:events(after)
  check_self(self, "events")
  return common.events(self, after, function(from)
    return self._core:events(from)
  end)
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

-- Wait for the job to finish and return its result. opts.timeout (or a
-- number) bounds the wait in seconds: when it runs out a TimeoutError is
-- raised and the job keeps running; waiting never cancels.
function Job:wait(opts)
  check_self(self, "wait")
  local timeout = common.wait_timeout(opts)
  local finished
  if on_loop() then
    finished = loop_wait(function() return self:done() end, timeout)
  else
    finished = self._core:wait(timeout)
  end
  if not finished then
    common.wait_timeout_error(self, timeout, self._core:state())
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
