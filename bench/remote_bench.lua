-- Remote client benchmark (bench/run_remote.sh runs it): per-job overhead
-- of remote versus local for a small TSP, run one after another, and the
-- throughput of JOBS tiny jobs submitted with concurrency CONC through
-- one client. Usage: nerox run bench/remote_bench.lua MODE N [CONC]
--   MODE "seq": N jobs one after another; "conc": N jobs, CONC at a time.

local nerox = require "nerox"
local loop = require "nerox.loop"

local mode, n = arg[1], math.tointeger(tonumber(arg[2])) or 50
local conc = math.tointeger(tonumber(arg[3] or "")) or 20
local m = { { 0, 2, 9, 10 }, { 2, 0, 6, 4 }, { 9, 6, 0, 8 },
            { 10, 4, 8, 0 } }
local client = nerox.Client()

local function one(seed)
  local job = client.optimize:tsp{ distance_matrix = m, sweeps = 50,
                                   replicas = 2, seed = seed,
                                   solver = "cpu" }
  local r = job:wait{ timeout = 60 }
  assert(r.energy == 23, "wrong energy")
  return r.run_s
end

one(0)  -- warm up (connections, plugins)
local t0, run = loop.now(), 0
if mode == "seq" then
  for i = 1, n do run = run + one(i) end
else
  local sem = nerox.semaphore(conc)
  local tasks = {}
  for i = 1, n do
    tasks[i] = nerox.async(function()
      local slot <close> = sem:acquire()
      return one(i)
    end)
  end
  for _, r in ipairs(nerox.gather(tasks)) do run = run + r end
end
local wall = loop.now() - t0
print(string.format("%s %s n=%d conc=%d wall=%.3f s per_job=%.2f ms " ..
                    "engine_run=%.2f ms/job jobs_per_s=%.1f", client.kind,
                    mode, n, mode == "seq" and 1 or conc, wall,
                    wall / n * 1000, run / n * 1000, n / wall))
