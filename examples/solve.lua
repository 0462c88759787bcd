-- Solve any TSPLIB file on the local engine and print the tour length and
-- the tour. Usage: nerox run examples/solve.lua FILE.tsp [TIME_LIMIT_S]

local nerox = require "nerox"

local function solve(path, time_limit)
  local client = nerox.Client()
  local job = client.optimize:tsp{tsplib = path, time_limit = time_limit}
  return job:wait{timeout = time_limit + 30}
end

local path = arg and arg[1]
if not path then
  io.stderr:write("usage: nerox run examples/solve.lua FILE.tsp " ..
                  "[TIME_LIMIT_S]\n")
  os.exit(2)
end

local ok, result = pcall(solve, path, tonumber(arg[2] or "5"))
if not ok then
  io.stderr:write(tostring(result), "\n")
  os.exit(1)
end
print(string.format("instance %s", result.instance))
print(string.format("length %s", result.energy))
print(string.format("tour %s", table.concat(result.tour, " ")))
