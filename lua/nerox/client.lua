-- The client: nerox.Client() runs jobs on the engine inside this process
-- (the local client). client.optimize submits problems through the plugin
-- of their problem type and returns nerox.job objects.

local check = require "nerox.check"
local errors = require "nerox.errors"
local params = require "nerox.params"
local plugins = require "nerox.plugins"
local Job = require "nerox.job"

local client = {}

local Optimize = {}
Optimize.__index = Optimize

local Client = {}
Client.__index = Client

-- Call fn(...) and turn a plain error (a string from a plugin) into an
-- error value of `kind`; nerox errors pass through.
local function protect(kind, fn, ...)
  local res = table.pack(pcall(fn, ...))
  if not res[1] then error(errors.wrap(res[2], kind), 0) end
  return table.unpack(res, 2, res.n)
end

-- A target in kernel units: rounded down, and clamped to the integers
-- (a target beyond them is met by any tour, or by none).
local function kernel_target(target, scale)
  local t = math.floor(target * scale)
  if t >= 2.0 ^ 63 then return math.maxinteger end
  if t < -(2.0 ^ 63) then return math.mininteger end
  return math.tointeger(t)
end

-- Parameters for nerox.core.submit; target_energy goes to kernel units.
local function core_params(p, problem_type, scale)
  local out = {
    problem_type = problem_type, solver = p.solver, seed = p.seed,
    replicas = p.replicas, sweeps = p.sweeps, time_limit = p.time_limit,
  }
  if p.target_energy ~= nil then
    out.target_energy = kernel_target(p.target_energy, scale)
  end
  return out
end

-- Submit to the engine. Its errors about a parameter start with the
-- parameter's name ("replicas: ..."), and become ValidationErrors on it.
local function core_submit(core, model, cp)
  local ok, job = pcall(core.submit, model, cp)
  if ok then return job end
  local msg = tostring(job)
  local field, rest = msg:match("^([%w_]+): (.*)$")
  if field and cp[field] ~= nil then
    errors.raise("ValidationError", rest, { field = field })
  end
  errors.raise("ServerError", msg)
end

-- Catch client.optimize.tsp{...} (a dot where a colon belongs).
local function check_self(self, method)
  if getmetatable(self) ~= Optimize then
    check.fail("payload", "call client.optimize:%s{...} with a colon",
               method)
  end
end

-- Reject options that are neither parameters nor fields of the plugin
-- (when the plugin lists its fields; its validate may check them too).
local function check_options(submission, plugin)
  if type(plugin.fields) ~= "table" then return end
  local known = {}
  for k in pairs(params.NAMES) do known[k] = true end
  for k in pairs(plugin.fields) do known[k] = true end
  check.known_keys(submission, known)
end

-- Submit a problem: {problem_type = NAME, <payload fields>, solver, seed,
-- replicas, sweeps, time_limit, target_energy}. Returns a job.
function Optimize:submit(submission)
  check_self(self, "submit")
  check.table(submission, "payload")
  if self._client.kind == "remote" then
    return require("nerox.remote").submit(self._client, submission)
  end
  local common, payload = params.split(submission)
  if common.problem_type == nil then
    check.fail("problem_type", "required (for example \"tsp\")")
  end
  local plugin = plugins.get(common.problem_type)
  check_options(submission, plugin)
  local p = params.normalize(common)
  protect("ValidationError", plugin.validate, payload)
  local model, enc = protect("ValidationError", plugin.encode, payload)
  enc = enc or {}
  local core = self._client._core
  local cp = core_params(p, plugin.name, enc.scale or 1)
  return Job.new{
    core_job = core_submit(core, model, cp), plugin = plugin,
    payload = payload, enc = enc, params = p, problem_type = plugin.name,
    model_hash = model:hash(), version = core.version(),
    nometrics = self._nometrics,
  }
end

-- Submit `payload` as problem type `name` (what optimize:tsp{...} and
-- the other shortcuts do).
local function submit_as(self, name, payload)
  check_self(self, name)
  check.table(payload, "payload")
  if payload.problem_type ~= nil and payload.problem_type ~= name then
    check.fail("problem_type", "optimize:%s submits \"%s\", got %s", name,
               name, check.describe(payload.problem_type))
  end
  local submission = { problem_type = name }
  for k, v in pairs(payload) do submission[k] = v end
  return self:submit(submission)
end

-- Submit a travelling salesman problem (problem_type "tsp").
function Optimize:tsp(payload)
  return submit_as(self, "tsp", payload)
end

-- Submit a QUBO (problem_type "qubo"): Q, matrix or bqp; see docs/sdk.md.
function Optimize:qubo(payload)
  return submit_as(self, "qubo", payload)
end

-- Submit an Ising model (problem_type "ising"): h and J.
function Optimize:ising(payload)
  return submit_as(self, "ising", payload)
end

-- Submit a Max-Cut problem (problem_type "maxcut"): edges or rudy.
function Optimize:maxcut(payload)
  return submit_as(self, "maxcut", payload)
end

-- nerox.Client(opts): the local engine, or a remote server when a URL is
-- given (opts.url, else NEROX_API_URL) with its key (opts.key, else
-- NEROX_API_KEY). opts.mode = "local" or "remote" forces one; `nerox
-- serve` asks for "local" so its own environment cannot redirect it.
client.OPTIONS = {
  mode = true, url = true, key = true, api_url = true, api_key = true,
  timeout = true, stall_timeout = true, metrics = true,
}

function client.new(opts)
  opts = opts or {}
  check.table(opts, "options")
  check.known_keys(opts, client.OPTIONS)
  if opts.mode ~= nil then
    check.choice(opts.mode, "mode", { "local", "remote" })
  end
  local url = opts.url or opts.api_url or os.getenv("NEROX_API_URL")
  local self
  if opts.mode == "remote" or (opts.mode == nil and url ~= nil and
                               url ~= "") then
    self = require("nerox.remote").new(opts)
    require("nerox.remote").attach(self)
  else
    self = setmetatable({ kind = "local" }, Client)
    self._core = require "nerox.core"
    self.usage = { get = function()
      check.fail("NEROX_API_URL", "usage is an account's, kept by a " ..
                 "server; the local engine has none")
    end }
  end
  self.optimize = setmetatable({ _client = self,
                                 _nometrics = opts.metrics == false },
                               Optimize)
  return self
end

require("nerox.metrics").instrument(Optimize, { "submit" })

return client
