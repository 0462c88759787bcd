-- Specs for the plugins that put constraints into penalties on the binary
-- kernel: knapsack, number_partitioning, graph_coloring and
-- max_independent_set. Each: validation errors, the kernel's energy
-- against decode's, feasibility reporting, and the brute-force optimum
-- reached by a sweeps-limited run (checked with the plugin's energy).

local nerox = require "nerox"
local knapsack = require "nerox.plugins.knapsack"
local np = require "nerox.plugins.number_partitioning"
local gc = require "nerox.plugins.graph_coloring"
local mis = require "nerox.plugins.max_independent_set"

local client = nerox.Client()

local function each_assignment(n, f)
  for bits = 0, (1 << n) - 1 do
    local x = {}
    for i = 1, n do x[i] = (bits >> (i - 1)) & 1 end
    f(x)
  end
end

local function field_of(plugin, payload)
  local ok, err = pcall(plugin.validate, payload)
  assert.is_false(ok, "accepted")
  assert.is_true(nerox.is(err, nerox.ValidationError), tostring(err))
  return err.field, err.message
end

local function solve(plugin, payload, sweeps, seed)
  local sub = { problem_type = plugin.name, sweeps = sweeps, seed = seed }
  for k, v in pairs(payload) do sub[k] = v end
  local res = client.optimize:submit(sub):wait()
  assert.equal("succeeded", res.status)
  assert.equal(res.objective, plugin.energy(payload, res.solution))
  return res
end

local KNAP = { values = { 10, 13, 7, 8, 4, 9 }, weights = { 5, 7, 4, 3, 2, 6 },
               capacity = 12 }

describe("knapsack plugin", function()
  it("names the field at fault", function()
    assert.equal("values", field_of(knapsack, {}))
    assert.equal("values", field_of(knapsack, { values = {} }))
    assert.equal("values[2]", field_of(knapsack, { values = { 1, -1 },
      weights = { 1, 1 }, capacity = 1 }))
    assert.equal("weights", field_of(knapsack, { values = { 1, 2 },
      weights = { 1 }, capacity = 1 }))
    assert.equal("weights[1]", field_of(knapsack, { values = { 1 },
      weights = { 1.5 }, capacity = 1 }))
    assert.equal("capacity", field_of(knapsack, { values = { 1 },
      weights = { 1 } }))
    assert.equal("capacity", field_of(knapsack, { values = { 1 },
      weights = { 1 }, capacity = -1 }))
    assert.equal("penalty", field_of(knapsack, { values = { 1 },
      weights = { 1 }, capacity = 1, penalty = 0 }))
  end)

  it("makes slack that reaches every value 0..capacity", function()
    for cap = 0, 40 do
      local c, total = knapsack.slack_coefficients(cap), 0
      for _, v in ipairs(c) do total = total + v end
      assert.equal(cap, total)
      assert.is_true(#c <= math.floor(math.log(cap + 1, 2)) + 1)
    end
    assert.same({ 1, 2, 4, 3 }, knapsack.slack_coefficients(10))
  end)

  it("decodes the slack at best and reports overweight", function()
    local payload = { values = { 5, 4 }, weights = { 3, 2 }, capacity = 4 }
    local model, enc = knapsack.encode(payload)
    local n = model:n()
    assert.equal(2 + 3, n)  -- slack 1, 2, 1
    local best = {}
    each_assignment(n, function(x)
      local key = x[1] .. x[2]
      best[key] = math.min(best[key] or math.huge, model:energy(x))
    end)
    for key, e in pairs(best) do
      local x = { tonumber(key:sub(1, 1)), tonumber(key:sub(2, 2)), 0, 0, 0 }
      assert.equal(e, knapsack.decode(payload, { x = x }, enc).energy)
    end
    local res = knapsack.decode(payload, { x = { 1, 1, 0, 0, 0 } }, enc)
    assert.is_false(res.feasible)
    assert.same({ excess_weight = 1 }, res.violation)
    assert.equal(9, res.objective)
    assert.same({ 1, 1 }, res.solution)
  end)

  it("reaches the brute-force optimum, feasible", function()
    local best = 0
    each_assignment(6, function(x)
      local v, w = knapsack.totals(KNAP, x)
      if w <= KNAP.capacity then best = math.max(best, v) end
    end)
    local res = solve(knapsack, KNAP, 5000, 1)
    assert.equal(best, res.objective)
    assert.is_true(res.feasible)
    assert.is_nil(res.violation)
    assert.equal(-best, res.energy)
    assert.is_true(res.weight <= KNAP.capacity)
  end)
end)

describe("number_partitioning plugin", function()
  it("names the field at fault", function()
    assert.equal("numbers", field_of(np, {}))
    assert.equal("numbers", field_of(np, { numbers = {} }))
    assert.equal("numbers[2]", field_of(np, { numbers = { 1, 0 / 0 } }))
  end)

  it("has energy (A - B)^2", function()
    local payload = { numbers = { 3, 1, 4, 1, 5 } }
    local model, enc = np.encode(payload)
    each_assignment(5, function(x)
      local res = np.decode(payload, { x = x }, enc)
      assert.equal(model:energy(x), res.energy)
      assert.equal(res.sums[1] - res.sums[2], (function()
        local d = 0
        for i, v in ipairs(payload.numbers) do
          d = d + (x[i] == 1 and v or -v)
        end
        return d
      end)())
      assert.is_true(res.feasible)
    end)
  end)

  it("finds a perfect partition", function()
    local payload = { numbers = { 4, 5, 6, 7, 8, 9, 13, 2, 11, 3 } }
    local res = solve(np, payload, 500, 1)
    assert.equal(0, res.objective)
    assert.equal(res.sums[1], res.sums[2])
  end)

  it("keeps float numbers in the caller's units", function()
    local payload = { numbers = { 0.5, 0.25, 0.25 } }
    local res = solve(np, payload, 200, 1)
    assert.near(0, res.objective, 1e-12)
  end)
end)

-- A 5-cycle with a chord: 3-colourable, not 2-colourable.
local CYCLE = { n = 5, edges = { { 0, 1 }, { 1, 2 }, { 2, 3 }, { 3, 4 },
                                 { 4, 0 }, { 0, 2 } } }

describe("graph_coloring plugin", function()
  it("names the field at fault", function()
    assert.equal("edges", field_of(gc, { colors = 2 }))
    assert.equal("colors", field_of(gc, { edges = { { 0, 1 } } }))
    assert.equal("colors", field_of(gc, { edges = { { 0, 1 } },
                                         colors = 0 }))
    assert.equal("edges[1]", field_of(gc, { edges = { { 1, 1 } },
                                           colors = 2 }))
    assert.equal("edges[1][2]", field_of(gc, { n = 2, edges = { { 0, 2 } },
                                              colors = 2 }))
  end)

  it("reports conflicts and vertices without one colour", function()
    local payload = { n = 3, edges = { { 0, 1 }, { 1, 2 } }, colors = 2 }
    local model, enc = gc.encode(payload)
    assert.equal(6, model:n())
    local x = { 1, 0, 1, 0, 1, 1 }  -- 0: colour 0, 1: colour 0, 2: both
    local res = gc.decode(payload, { x = x }, enc)
    assert.same({ 0, 0, -1 }, res.solution)
    assert.is_false(res.feasible)
    assert.same({ conflicts = 1, uncolored = 1 }, res.violation)
    assert.equal(model:energy(x), res.energy)
    res = gc.decode(payload, { x = { 1, 0, 0, 1, 1, 0 } }, enc)
    assert.is_true(res.feasible)
    assert.equal(0, res.energy)
  end)

  it("finds a proper colouring when there is one", function()
    local res = solve(gc, { n = 5, edges = CYCLE.edges, colors = 3 }, 500, 1)
    assert.is_true(res.feasible)
    assert.equal(0, res.objective)
    assert.equal(0, res.energy)
  end)

  it("reports the fewest conflicts when there is none", function()
    local payload = { n = 5, edges = CYCLE.edges, colors = 2 }
    local best = math.huge
    each_assignment(5, function(x)
      best = math.min(best, gc.energy(payload, x))
    end)
    local res = solve(gc, payload, 500, 1)
    assert.equal(best, res.objective)
    assert.is_false(res.feasible)
    assert.same({ conflicts = best, uncolored = 0 }, res.violation)
  end)
end)

describe("max_independent_set plugin", function()
  it("names the field at fault", function()
    assert.equal("edges", field_of(mis, {}))
    assert.equal("weights[2]", field_of(mis, { edges = { { 0, 1 } },
                                              weights = { 1, -1 } }))
    assert.equal("weights", field_of(mis, { edges = { { 0, 2 } },
                                           weights = { 1, 1 } }))
    assert.equal("edges[1][1]", field_of(mis, { edges = { { 0.5, 1 } } }))
  end)

  it("reports edges inside the set", function()
    local model, enc = mis.encode(CYCLE)
    local x = { 1, 1, 0, 1, 0 }
    local res = mis.decode(CYCLE, { x = x }, enc)
    assert.is_false(res.feasible)
    assert.same({ edges = 1 }, res.violation)
    assert.equal(3, res.objective)
    assert.equal(model:energy(x), res.energy)
  end)

  it("reaches the brute-force optimum, weighted and not", function()
    math.randomseed(7)
    local edges = {}
    for i = 0, 11 do
      for j = i + 1, 11 do
        if math.random() < 0.3 then edges[#edges + 1] = { i, j } end
      end
    end
    local weights = {}
    for i = 1, 12 do weights[i] = math.random(1, 9) end
    for _, payload in ipairs{ { n = 12, edges = edges },
                              { edges = edges, weights = weights } } do
      local best = 0
      each_assignment(12, function(x)
        if mis.inner_edges(x, edges) == 0 then
          best = math.max(best, mis.energy(payload, x))
        end
      end)
      local res = solve(mis, payload, 500, 2)
      assert.equal(best, res.objective)
      assert.is_true(res.feasible)
      assert.equal(-best, res.energy)
    end
  end)
end)
