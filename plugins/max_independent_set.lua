-- The "max_independent_set" problem type: the set of vertices of largest
-- total weight (or size) with no edge between two of its vertices. On the
-- `binary` kernel (x_v = 1 puts v in the set):
--   energy = -sum_v w_v x_v + P * sum_{edges uv} x_u x_v.
-- With P > max w_v every lowest-energy state is independent: dropping one
-- end of an edge inside the set gains P and loses less. The default P is
-- bqm.default_penalty(weights): max w + 1 for integer weights (2 when
-- unweighted), 1.5 * max w otherwise; the payload may give `penalty`.
--
-- Payload: edges (a list of {u, v}, 0-based; a third value is ignored),
-- optional n (default: the largest id + 1), weights (n numbers >= 0,
-- default 1 each), penalty and name. Result: solution = 0/1 per vertex,
-- objective = total weight of the set (its size when unweighted; sense
-- "maximize"), size, feasible (no edge inside the set), violation =
-- {edges = edges inside the set} when not, energy as above.

local bqm = require "nerox.bqm"
local check = require "nerox.check"

local mis = { name = "max_independent_set" }

mis.fields = { edges = true, n = true, weights = true, penalty = true,
               name = true }

local TRIPLE_OPTS = { default_w = 1, what = "vertex",
                      self_hint = " (a self-loop excludes its vertex; " ..
                                  "drop the vertex instead)" }

local function graph(payload)
  local n = bqm.check_n(payload.n, "n")
  if payload.edges == nil then
    check.fail("edges", "required: a list of {u, v} (0-based)")
  end
  local edges, top = bqm.check_triples(payload.edges, "edges", n,
                                       TRIPLE_OPTS)
  if payload.weights ~= nil then
    local nw = bqm.check_numbers(payload.weights, "weights", 0)
    if n and nw ~= n then
      check.fail("weights", "has %d entries but n is %d", nw, n)
    end
    if nw < top then
      check.fail("weights", "has %d entries but the edges use vertex %d",
                 nw, top - 1)
    end
    n = n or nw
  end
  n = n or top
  if n == 0 then check.fail("edges", "is empty: give n or some edges") end
  return n, edges
end

function mis.validate(payload)
  check.table(payload, "payload")
  check.known_keys(payload, mis.fields)
  if payload.name ~= nil and type(payload.name) ~= "string" then
    check.fail("name", "expected a string, got %s",
               check.describe(payload.name))
  end
  graph(payload)
  bqm.check_penalty(payload.penalty, "penalty")
  -- the objective adds some of the weights: a finite, exact total
  -- (check.total); the penalty's terms are checked with the model
  if payload.weights ~= nil then
    local total = check.total("the sum of |weights|")
    for v, w in ipairs(payload.weights) do
      total:add(w, string.format("weights[%d]", v))
    end
    total:done()
  end
end

local function weight_of(payload, v)
  return payload.weights and payload.weights[v + 1] or 1
end

function mis.penalty_of(payload, n)
  if payload.penalty then return payload.penalty end
  local w = {}
  for v = 0, n - 1 do w[v + 1] = weight_of(payload, v) end
  return bqm.default_penalty(w)
end

function mis.encode(payload)
  local n, edges = graph(payload)
  local P = mis.penalty_of(payload, n)
  local m = bqm.new(n, payload.penalty and "penalty" or "weights")
  for v = 0, n - 1 do
    m:add_linear(v, bqm.mul(-1, weight_of(payload, v)))
  end
  for _, e in ipairs(edges) do m:add(e[1], e[2], P) end
  local model, scale = m:build()
  return model, { scale = scale, n = n, edges = edges, penalty = P }
end

-- The objective: total weight of the vertices with x_v = 1.
function mis.energy(payload, x)
  local total = 0
  for v, xv in ipairs(x) do
    if xv == 1 then total = bqm.add(total, weight_of(payload, v - 1)) end
  end
  return total
end

-- Edges with both ends in the set.
function mis.inner_edges(x, edges)
  local count = 0
  for _, e in ipairs(edges) do
    if x[e[1] + 1] == 1 and x[e[2] + 1] == 1 then count = count + 1 end
  end
  return count
end

function mis.decode(payload, raw, enc)
  local out = { instance = payload.name, n = enc.n, sense = "maximize",
                penalty = enc.penalty }
  local x = raw.x
  if x == nil or #x == 0 then return out end
  bqm.check_assignment(x, enc.n, "x")
  local size = 0
  for _, xv in ipairs(x) do size = size + xv end
  local inner = mis.inner_edges(x, enc.edges)
  out.solution, out.size = x, size
  out.objective = mis.energy(payload, x)
  out.feasible = inner == 0
  if inner > 0 then out.violation = { edges = inner } end
  out.energy = bqm.add(bqm.mul(-1, out.objective),
                       bqm.mul(enc.penalty, inner))
  return out
end

return mis
