-- Cost control for Max-Cut: stream a job on the G-set graph G1 and cancel
-- it as soon as its best cut is within 0.5 % of the best known cut
-- (11624); the best cut found so far is kept. The kernel minimises energy
-- = -cut, so progress events carry -cut.
-- Usage: nerox run examples/maxcut_early_stop.lua [G1]
-- Without an argument the graph is $NEROX_DATA_DIR/gset/G1, else
-- ../../shared/data/gset/G1 relative to this script.

local nerox = require "nerox"

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

-- G1 from the argument, $NEROX_DATA_DIR or the shared data folder.
local function default_instance()
  local data = os.getenv("NEROX_DATA_DIR")
  if data and exists(data .. "/gset/G1") then return data .. "/gset/G1" end
  local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
  return dir .. "/../../shared/data/gset/G1"
end

local path = arg and arg[1] or default_instance()
local best_known = 11624  -- G1's best known cut
local target_gap = 0.005  -- accept within 0.5 % of it

local client = nerox.Client()
-- solver "auto": the binary kernel runs on the CPU for now; time_limit
-- caps the bill should the target never be reached.
local job = client.optimize:maxcut{rudy = path, time_limit = 60}

local reached = false
for event in job:stream() do
  local cut = -(event.best_energy or 0)
  local gap = (best_known - cut) / best_known
  if gap <= target_gap then
    job:cancel()
    print(string.format("Target reached: cut=%d gap=%.3f%%", cut,
                        gap * 100))
    reached = true
    break
  end
end

local result = job:result()
print(string.format("cut %s, status %s, %d sweeps in %.2f s on %s",
                    result.cut, result.status, result.sweeps,
                    result.run_s, result.device))
if not reached then
  print("Target not reached within the time limit")
  os.exit(1)
end
