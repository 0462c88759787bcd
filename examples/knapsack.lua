-- A 0/1 knapsack through the knapsack plugin: the binary kernel with
-- slack variables for the capacity; the result says whether the chosen
-- items fit (feasible) and their value.
-- Usage: nerox run examples/knapsack.lua [SWEEPS]

local nerox = require "nerox"

local items = {
  { name = "tent",      value = 60, weight = 10 },
  { name = "stove",     value = 35, weight = 6 },
  { name = "rope",      value = 20, weight = 3 },
  { name = "camera",    value = 40, weight = 5 },
  { name = "books",     value = 10, weight = 8 },
  { name = "first aid", value = 45, weight = 2 },
  { name = "lamp",      value = 25, weight = 4 },
  { name = "food",      value = 55, weight = 9 },
}
local capacity = 25

local values, weights = {}, {}
for i, it in ipairs(items) do values[i], weights[i] = it.value, it.weight end

local client = nerox.Client()
local sweeps = math.tointeger(tonumber(arg and arg[1] or "")) or 20000
local result = client.optimize:submit{
  problem_type = "knapsack", values = values, weights = weights,
  capacity = capacity, sweeps = sweeps, seed = 7,
}:wait()

local chosen = {}
for i, take in ipairs(result.solution) do
  if take == 1 then chosen[#chosen + 1] = items[i].name end
end
print("items " .. table.concat(chosen, ", "))
print(string.format("value %s", result.objective))
print(string.format("weight %d of %d", result.weight, capacity))
print("feasible " .. tostring(result.feasible))
