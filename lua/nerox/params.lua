-- Job parameters common to every problem type (solver, seed, limits): they
-- are split from the problem's own payload, checked, and given defaults.

local check = require "nerox.check"

local params = {}

-- Time limit when a job gives neither time_limit nor sweeps, in seconds.
params.DEFAULT_TIME_LIMIT = 10
-- Longest time limit the local engine accepts, in seconds (one day).
params.MAX_TIME_LIMIT = 86400
-- Most replicas (temperatures of the parallel-tempering ladder) a job asks:
-- the perm kernel's limit (PERM_MAX_REPLICAS in host/anneal/perm.h).
params.MAX_REPLICAS = 256
-- Most sweeps (per replica) a job asks. Far more than any useful run
-- (a 1000-variable model does a few thousand sweeps a second), and small
-- enough that counts of moves (sweeps x variables x replicas) fit in 64
-- bits. Whatever the sweeps, a job without time_limit still stops after
-- SWEEPS_TIME_CAP seconds, ending timed_out (stop = "time").
params.MAX_SWEEPS = 1000000000
-- The time limit the engine applies to a job that gives sweeps (or a
-- target) but no time_limit: ENGINE_DEFAULT_TIME_CAP_S in
-- host/engine/engine.h. Give time_limit (up to MAX_TIME_LIMIT) to run
-- longer.
params.SWEEPS_TIME_CAP = 3600
-- Largest seed: seeds are non-negative 63-bit integers.
params.MAX_SEED = math.maxinteger
-- Solvers a job may ask for; "auto" lets the engine choose.
params.SOLVERS = { "auto", "cpu", "gpu" }
params.DEFAULT_SOLVER = "auto"

-- Names of the common parameters (anything else belongs to the payload).
params.NAMES = {
  problem_type = true, solver = true, seed = true, replicas = true,
  sweeps = true, time_limit = true, target_energy = true,
}

-- Split a submission into (common parameters, problem payload).
function params.split(submission)
  local common, payload = {}, {}
  for k, v in pairs(submission) do
    if params.NAMES[k] then common[k] = v else payload[k] = v end
  end
  return common, payload
end

-- A seed for jobs that give none: random, and reported in the result so
-- the run can be repeated.
local function random_seed()
  return math.random(0, 0x7fffffff)
end

-- Check the common parameters and fill in defaults. target_energy stays in
-- the caller's units here; the client converts it with the plugin's scale.
function params.normalize(common)
  local out = {}
  out.solver = check.choice(common.solver or params.DEFAULT_SOLVER,
                            "solver", params.SOLVERS)
  if common.seed ~= nil then
    out.seed = check.integer(common.seed, "seed", 0, params.MAX_SEED)
  else
    out.seed = random_seed()
  end
  if common.replicas ~= nil then
    out.replicas = check.integer(common.replicas, "replicas", 1,
                                 params.MAX_REPLICAS)
  end
  if common.sweeps ~= nil then
    out.sweeps = check.integer(common.sweeps, "sweeps", 1,
                               params.MAX_SWEEPS)
  end
  if common.time_limit ~= nil then
    local t = check.number(common.time_limit, "time_limit")
    if t <= 0 or t > params.MAX_TIME_LIMIT then
      check.fail("time_limit", "must be in (0, %d] seconds, got %s",
                 params.MAX_TIME_LIMIT, t)
    end
    out.time_limit = t
  elseif out.sweeps == nil then
    out.time_limit = params.DEFAULT_TIME_LIMIT
  end
  if common.target_energy ~= nil then
    out.target_energy = check.number(common.target_energy, "target_energy")
  end
  return out
end

return params
