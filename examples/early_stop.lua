-- Cost control (production guide, last snippet): stream a job's progress
-- and cancel it as soon as its best tour is within 0.5 % of the known
-- optimum, instead of paying for full convergence; the best tour found so
-- far is kept. Usage: nerox run examples/early_stop.lua [berlin52.tsp]

local nerox = require "nerox"

-- berlin52.tsp beside this script (examples/data/), unless given.
local function default_instance()
  local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
  return dir .. "/data/berlin52.tsp"
end

local path = arg and arg[1] or default_instance()
local known_optimal = 7542  -- berlin52's optimal tour length
local target_gap = 0.005    -- accept within 0.5 % of optimal

local client = nerox.Client()
-- The GPU backend runs on any Vulkan device (Mesa's lavapipe where there
-- is no GPU); time_limit caps the bill should the target never be reached.
local job = client.optimize:tsp{tsplib = path, solver = "gpu",
                                time_limit = 60}

local reached = false
for event in job:stream() do
  local best = event.best_energy or math.huge
  local gap = (best - known_optimal) / known_optimal
  if gap <= target_gap then
    job:cancel()
    print(string.format("Target reached: gap=%.3f%%", gap * 100))
    reached = true
    break
  end
end

local result = job:result()
print(string.format("length %s, status %s, %d sweeps in %.2f s on %s",
                    result.energy, result.status, result.sweeps,
                    result.run_s, result.device))
if not reached then
  print("Target not reached within the time limit")
  os.exit(1)
end
