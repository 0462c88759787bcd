-- The "graph_coloring" problem type: give each vertex one of k colours so
-- that as few edges as possible join two vertices of the same colour (none
-- in a proper colouring). On the `binary` kernel, variable v * k + c is 1
-- when vertex v has colour c, and
--   energy = A * sum_v (1 - sum_c x_vc)^2 + sum_{edges uv} sum_c x_uc x_vc.
-- A > floor(maxdeg / k) makes every lowest-energy state one-hot: a vertex
-- with two colours loses A by dropping one, and a vertex with none can
-- take a colour shared by at most floor(deg / k) neighbours. So the
-- default A is floor(maxdeg / k) + 1 (the payload may give `penalty`).
--
-- Payload: edges (a list of {u, v}, 0-based; a third value is ignored),
-- colors (k >= 1), optional n (default: the largest id + 1), penalty and
-- name. Result: solution = colour of each vertex (0..k-1, or -1 for a
-- vertex without exactly one colour), objective = conflicts (edges whose
-- ends share a colour; sense "minimize"), feasible (every vertex one
-- colour and no conflict), violation = {conflicts, uncolored} when not,
-- energy = the expression above for the returned assignment.

local bqm = require "nerox.bqm"
local check = require "nerox.check"

local gc = { name = "graph_coloring" }

gc.fields = { edges = true, colors = true, n = true, penalty = true,
              name = true }

local TRIPLE_OPTS = { default_w = 1, what = "vertex",
                      self_hint = " (a self-loop can never be coloured)" }

-- Vertices, edges (checked {u, v, _} triples) and colours.
local function graph(payload)
  local n = bqm.check_n(payload.n, "n")
  if payload.edges == nil then
    check.fail("edges", "required: a list of {u, v} (0-based)")
  end
  local edges, top = bqm.check_triples(payload.edges, "edges", n,
                                       TRIPLE_OPTS)
  n = n or top
  if n == 0 then check.fail("edges", "is empty: give n or some edges") end
  if payload.colors == nil then check.fail("colors", "required") end
  local k = check.integer(payload.colors, "colors", 1, bqm.MAX_N)
  if n * k > bqm.MAX_N then
    check.fail("colors", "n * colors = %d variables, more than the " ..
               "kernel's %d", n * k, bqm.MAX_N)
  end
  return n, edges, k
end

function gc.validate(payload)
  check.table(payload, "payload")
  check.known_keys(payload, gc.fields)
  if payload.name ~= nil and type(payload.name) ~= "string" then
    check.fail("name", "expected a string, got %s",
               check.describe(payload.name))
  end
  graph(payload)
  bqm.check_penalty(payload.penalty, "penalty")
end

-- The default one-hot penalty A (see the header).
local function default_penalty(n, edges, k)
  local deg, maxdeg = {}, 0
  for i = 1, n do deg[i] = 0 end
  for _, e in ipairs(edges) do
    deg[e[1] + 1], deg[e[2] + 1] = deg[e[1] + 1] + 1, deg[e[2] + 1] + 1
  end
  for i = 1, n do maxdeg = math.max(maxdeg, deg[i]) end
  return maxdeg // k + 1
end

function gc.encode(payload)
  local n, edges, k = graph(payload)
  local A = payload.penalty or default_penalty(n, edges, k)
  local m = bqm.new(n * k, "penalty")
  local coefs = {}
  for c = 1, k do coefs[c] = 1 end
  for v = 0, n - 1 do
    local ids = {}
    for c = 1, k do ids[c] = v * k + c - 1 end
    m:add_squared(ids, coefs, 1, A)
  end
  for _, e in ipairs(edges) do
    for c = 0, k - 1 do m:add(e[1] * k + c, e[2] * k + c, 1) end
  end
  local model, scale = m:build()
  return model, { scale = scale, n = n, k = k, edges = edges, penalty = A }
end

-- Colour per vertex from the one-hot assignment (-1: not exactly one).
function gc.colors_of(x, n, k)
  local out = {}
  for v = 0, n - 1 do
    local color = -1
    for c = 0, k - 1 do
      if x[v * k + c + 1] == 1 then
        color = color == -1 and c or -2
      end
    end
    out[v + 1] = color >= 0 and color or -1
  end
  return out
end

-- Edges whose two ends have the same colour (vertices with -1 excepted).
function gc.energy(payload, colors, edges)
  if not edges then
    local _
    _, edges = graph(payload)
  end
  local conflicts = 0
  for _, e in ipairs(edges) do
    local a = colors[e[1] + 1]
    if a >= 0 and a == colors[e[2] + 1] then conflicts = conflicts + 1 end
  end
  return conflicts
end

-- The kernel's energy of a raw assignment, in the caller's numbers.
local function assignment_energy(x, enc)
  local n, k, e = enc.n, enc.k, 0
  for v = 0, n - 1 do
    local count = 0
    for c = 1, k do count = count + x[v * k + c] end
    e = bqm.add(e, bqm.mul(enc.penalty, (1 - count) * (1 - count)))
  end
  for _, edge in ipairs(enc.edges) do
    for c = 1, k do
      e = bqm.add(e, x[edge[1] * k + c] * x[edge[2] * k + c])
    end
  end
  return e
end

function gc.decode(payload, raw, enc)
  local out = { instance = payload.name, n = enc.n, sense = "minimize",
                penalty = enc.penalty }
  local x = raw.x
  if x == nil or #x == 0 then return out end
  bqm.check_assignment(x, enc.n * enc.k, "x")
  local colors = gc.colors_of(x, enc.n, enc.k)
  local uncolored = 0
  for _, c in ipairs(colors) do
    if c < 0 then uncolored = uncolored + 1 end
  end
  local conflicts = gc.energy(payload, colors, enc.edges)
  out.solution, out.objective = colors, conflicts
  out.feasible = conflicts == 0 and uncolored == 0
  if not out.feasible then
    out.violation = { conflicts = conflicts, uncolored = uncolored }
  end
  out.energy = assignment_energy(x, enc)
  return out
end

return gc
