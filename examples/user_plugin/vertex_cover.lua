-- Solve a problem type that nerox does not ship: plugins/vertex_cover.lua
-- beside this script. Run it with that folder on NEROX_PLUGIN_PATH:
--   NEROX_PLUGIN_PATH=examples/user_plugin/plugins \
--     nerox run examples/user_plugin/vertex_cover.lua

local nerox = require "nerox"

-- The Petersen graph: 10 vertices, 15 edges, smallest cover 6.
local edges = {
  { 0, 1 }, { 1, 2 }, { 2, 3 }, { 3, 4 }, { 4, 0 },
  { 0, 5 }, { 1, 6 }, { 2, 7 }, { 3, 8 }, { 4, 9 },
  { 5, 7 }, { 7, 9 }, { 9, 6 }, { 6, 8 }, { 8, 5 },
}

local client = nerox.Client()
local result = client.optimize:submit{
  problem_type = "vertex_cover", n = 10, edges = edges,
  sweeps = 2000, seed = 1,
}:wait()

local cover = {}
for v, x in ipairs(result.solution) do
  if x == 1 then cover[#cover + 1] = v - 1 end
end
print("cover " .. table.concat(cover, " "))
print(string.format("size %d, feasible %s, energy %s", result.objective,
                    tostring(result.feasible), tostring(result.energy)))
