-- The server's side of the SDK: `nerox serve` submits the problems it
-- receives over HTTP through the same client, validation and plugins as a
-- Lua script does (nerox.client), keeps each job object until its result
-- has been read, and decodes results through the job's plugin.

local client = require "nerox.client"
local errors = require "nerox.errors"
local params = require "nerox.params"

local server = {}

local local_client -- created on first use
local jobs = {}    -- job id -> nerox.job, until forget(id)

local function get_client()
  -- Always the engine of this process, whatever NEROX_API_URL says.
  if not local_client then local_client = client.new{ mode = "local",
                                                   metrics = false } end
  return local_client
end

-- Job parameters may also come grouped as `params = {...}`: they join the
-- submission's top level (a parameter given twice is an error).
local function flatten(submission)
  local grouped = submission.params
  if grouped == nil then return submission end
  if type(grouped) ~= "table" then
    errors.raise("ValidationError", "expected an object of job parameters",
                 { field = "params" })
  end
  submission.params = nil
  for k, v in pairs(grouped) do
    if not params.NAMES[k] or k == "problem_type" then
      errors.raise("ValidationError", "not a job parameter",
                   { field = "params." .. tostring(k) })
    end
    if submission[k] ~= nil then
      errors.raise("ValidationError", "given both at the top level and " ..
                   "in params", { field = k })
    end
    submission[k] = v
  end
  return submission
end

-- Extra advice when a path field is refused (nerox.files.refuse).
local PATH_HINTS = {
  tsplib = " (or POST the TSPLIB file as the request body)",
}

-- Refuse the file fields of the submission's plugin (tsplib, rudy, bqp):
-- a path would make the server read its own files for any API user.
local function refuse_paths(submission)
  local name = submission.problem_type
  if type(name) ~= "string" then return end -- the client reports it
  local files = require "nerox.files"
  files.refuse(name, submission, PATH_HINTS)
end

-- Submit a decoded JSON body. Returns the engine job (nerox.core) and
-- {id, problem_type, scale, params}.
function server.submit(submission)
  submission = flatten(submission)
  refuse_paths(submission)
  local job = get_client().optimize:submit(submission)
  jobs[job.id] = job
  return job._core, { id = job.id, problem_type = job.problem_type,
                      scale = job._scale, params = job._spec.params }
end

-- The decoded result of a finished job (the SDK's fields), failed jobs
-- included.
function server.result(id)
  local job = jobs[id]
  if not job then
    errors.raise("NotFoundError", "no live job " .. tostring(id))
  end
  local ok, res = pcall(job.result, job)
  if ok then return res end
  if errors.is(res, "JobFailedError") and res.result then
    return res.result
  end
  error(res, 0)
end

-- Drop a job object once its result is stored.
function server.forget(id)
  jobs[id] = nil
end

return server
