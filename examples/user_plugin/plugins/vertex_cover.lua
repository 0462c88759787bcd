-- A user plugin: minimum vertex cover, the fewest vertices touching every
-- edge, as a problem type found on NEROX_PLUGIN_PATH. On the `binary`
-- kernel (x_v = 1 puts v in the cover):
--   energy = sum_v x_v + P * sum_{edges uv} (1 - x_u) (1 - x_v)
-- and P = 2 (> 1, the cost of one vertex) makes every lowest-energy
-- state a cover. Payload: n and edges ({u, v}, 0-based).

local bqm = require "nerox.bqm"
local check = require "nerox.check"

local vc = { name = "vertex_cover" }
vc.fields = { n = true, edges = true }
local PENALTY = 2

function vc.validate(payload)
  check.known_keys(payload, vc.fields)
  local n = check.integer(payload.n, "n", 1, bqm.MAX_N)
  bqm.check_triples(payload.edges, "edges", n,
                    { default_w = 1, what = "vertex" })
end

function vc.encode(payload)
  local m = bqm.new(payload.n)
  for v = 0, payload.n - 1 do m:add_linear(v, 1) end
  for _, e in ipairs(payload.edges) do
    -- P (1 - x_u)(1 - x_v) = P - P x_u - P x_v + P x_u x_v
    m:add_offset(PENALTY)
    m:add_linear(e[1], -PENALTY)
    m:add_linear(e[2], -PENALTY)
    m:add(e[1], e[2], PENALTY)
  end
  local model, scale = m:build()
  return model, { scale = scale }
end

-- Edges with neither end in the cover.
local function uncovered(payload, x)
  local count = 0
  for _, e in ipairs(payload.edges) do
    if x[e[1] + 1] == 0 and x[e[2] + 1] == 0 then count = count + 1 end
  end
  return count
end

-- The objective: the size of the cover.
function vc.energy(payload, x)
  local size = 0
  for _, v in ipairs(x) do size = size + v end
  return size
end

function vc.decode(payload, raw)
  local x = raw.x
  if x == nil then return {} end  -- the job failed before any answer
  local size, missed = vc.energy(payload, x), uncovered(payload, x)
  return { solution = x, objective = size, sense = "minimize",
           energy = size + PENALTY * missed, feasible = missed == 0,
           violation = missed > 0 and { edges = missed } or nil }
end

return vc
