-- Specs for the plugins of the binary kernel that need no penalty: qubo,
-- ising and maxcut, and the model builder they share (lua/nerox/bqm.lua).
-- Every run is limited by sweeps with a fixed seed, and every solved
-- result is checked with the plugin's own energy function.

local bqm = require "nerox.bqm"
local nerox = require "nerox"
local qubo = require "nerox.plugins.qubo"
local ising = require "nerox.plugins.ising"
local maxcut = require "nerox.plugins.maxcut"

local DATA = os.getenv("NEROX_DATA_DIR")

local client = nerox.Client()

-- Every 0/1 list of length n, in turn, to f.
local function each_assignment(n, f)
  for bits = 0, (1 << n) - 1 do
    local x = {}
    for i = 1, n do x[i] = (bits >> (i - 1)) & 1 end
    f(x)
  end
end

-- The field of the ValidationError raised by plugin.validate(payload).
local function field_of(plugin, payload)
  local ok, err = pcall(plugin.validate, payload)
  assert.is_false(ok, "accepted")
  assert.is_true(nerox.is(err, nerox.ValidationError), tostring(err))
  return err.field, err.message
end

-- Solve through the SDK and check the result with the plugin's energy.
local function solve(plugin, payload, sweeps, seed)
  local sub = { problem_type = plugin.name, sweeps = sweeps or 300,
                seed = seed or 1 }
  for k, v in pairs(payload) do sub[k] = v end
  local res = client.optimize:submit(sub):wait()
  assert.equal("succeeded", res.status)
  assert.equal(res.objective, plugin.energy(payload, res.solution))
  return res
end

-- The kernel's energy of x equals decode's energy times the scale.
local function check_round_trip(plugin, payload, n)
  local model, enc = plugin.encode(payload)
  assert.equal("binary", model:kind())
  assert.equal(n, model:n())
  each_assignment(n, function(x)
    local res = plugin.decode(payload, { x = x }, enc)
    assert.near(model:energy(x), res.energy * enc.scale, 1e-6)
    assert.equal(res.objective, plugin.energy(payload, res.solution))
  end)
end

-- A small random QUBO as {i, j, w} entries, integer weights.
local function random_qubo(n, seed)
  math.randomseed(seed)
  local Q = {}
  for i = 0, n - 1 do
    Q[#Q + 1] = { i, i, math.random(-10, 10) }
    for j = i + 1, n - 1 do
      if math.random() < 0.5 then
        Q[#Q + 1] = { i, j, math.random(-10, 10) }
      end
    end
  end
  return Q
end

describe("bqm", function()
  it("merges repeats, folds x_i^2 and orders pairs", function()
    local m = bqm.new(3)
    m:add(0, 1, 2)
    m:add(1, 0, 3)
    m:add(2, 2, -4)
    m:add_offset(7)
    assert.same({ { 0, 1, 5 } }, m:pairs())
    assert.same({ 0, 0, -4 }, m.lin)
    assert.equal(7 + 5, m:energy{ 1, 1, 0 })
    assert.equal(7 - 4, m:energy{ 0, 0, 1 })
  end)

  it("keeps integer models as they are and scales others", function()
    local m = bqm.new(2)
    m:add(0, 1, 3)
    assert.equal(1, m:scale())
    m:add(0, 0, 0.5)
    assert.equal(1000000, m:scale())
    assert.equal(100, bqm.scale_for(1e6))
    m = bqm.new(2)
    m:add(0, 1, 1 << 32)
    assert.is_true(m:scale() < 1)
  end)

  it("adds squared constraints exactly", function()
    local m = bqm.new(3)
    m:add_squared({ 0, 1, 2 }, { 1, 2, 3 }, 3, 5)
    each_assignment(3, function(x)
      local s = x[1] + 2 * x[2] + 3 * x[3] - 3
      assert.equal(5 * s * s, m:energy(x))
    end)
  end)

  it("builds a model whose energy matches its own", function()
    local m = bqm.new(4)
    for _, t in ipairs(random_qubo(4, 3)) do m:add(t[1], t[2], t[3]) end
    m:add_offset(-2)
    local model, scale = m:build()
    assert.equal(1, scale)
    each_assignment(4, function(x)
      assert.equal(m:energy(x), model:energy(x))
    end)
  end)
end)

describe("qubo plugin", function()
  it("names the field at fault", function()
    assert.equal("Q", field_of(qubo, {}))
    assert.equal("Q", field_of(qubo, { Q = {} }))
    assert.equal("Q[1]", field_of(qubo, { Q = { { 0, 1 } } }))
    assert.equal("Q[1][3]", field_of(qubo, { Q = { { 0, 1, 0 / 0 } } }))
    assert.equal("Q[1][3]", field_of(qubo, { Q = { { 0, 1, math.huge } } }))
    assert.equal("Q[2][1]", field_of(qubo, { Q = { { 0, 0, 1 },
                                                   { -1, 0, 1 } } }))
    assert.equal("Q[1][2]", field_of(qubo, { Q = { { 0, 1.5, 1 } } }))
    local f, msg = field_of(qubo, { n = 2, Q = { { 0, 2, 1 } } })
    assert.equal("Q[1][2]", f)
    assert.matches("0%-based", msg)
    assert.equal("matrix[2]", field_of(qubo, { matrix = { { 1, 2 }, { 3 } } }))
    assert.equal("matrix", field_of(qubo, { matrix = {} }))
    assert.equal("matrix", field_of(qubo, { Q = {}, matrix = { { 1 } } }))
    assert.equal("n", field_of(qubo, { n = 0, Q = {} }))
    assert.equal("offset", field_of(qubo, { Q = { { 0, 0, 1 } },
                                           offset = 0 / 0 }))
    assert.equal("instance", field_of(qubo, { Q = { { 0, 0, 1 } },
                                             instance = 2 }))
    assert.equal("colour", field_of(qubo, { Q = {}, n = 1, colour = 1 }))
  end)

  it("accepts an empty model with n, and counts both triangles", function()
    qubo.validate{ n = 3, Q = {} }
    local payload = { matrix = { { 1, 2 }, { 3, -4 } } }
    qubo.validate(payload)
    check_round_trip(qubo, payload, 2)
    local _, enc = qubo.encode(payload)
    assert.equal(1 + 2 + 3 - 4, qubo.decode(payload, { x = { 1, 1 } },
                                            enc).energy)
  end)

  it("encodes and decodes integer and float models", function()
    check_round_trip(qubo, { Q = random_qubo(5, 1), offset = 3 }, 5)
    local payload = { Q = { { 0, 1, 0.25 }, { 1, 0, 0.5 }, { 2, 2, -1.5 } },
                      offset = 0.125 }
    local model, enc = qubo.encode(payload)
    assert.equal(1000000, enc.scale)
    local res = qubo.decode(payload, { x = { 1, 1, 1 } }, enc)
    assert.near(0.25 + 0.5 - 1.5 + 0.125, res.energy, 1e-12)
    assert.equal(math.floor(res.energy * enc.scale + 0.5),
                 model:energy{ 1, 1, 1 })
  end)

  it("reaches the brute-force optimum", function()
    for seed = 1, 3 do
      local payload = { Q = random_qubo(10, seed) }
      local best = math.huge
      each_assignment(10, function(x)
        best = math.min(best, qubo.energy(payload, x))
      end)
      local res = solve(qubo, payload, 200, seed)
      assert.equal(best, res.energy)
      assert.equal("minimize", res.sense)
      assert.equal(10, #res.solution)
    end
  end)

  it("gives the same answer for the same seed and sweeps", function()
    local payload = { Q = random_qubo(12, 9) }
    local a = solve(qubo, payload, 50, 5)
    local b = solve(qubo, payload, 50, 5)
    assert.same(a.solution, b.solution)
    assert.equal(a.model_hash, b.model_hash)
    assert.equal(5, a.seed)
    assert.equal(50, a.sweeps)
  end)

  it("solves OR-Library bqp instances, maximising", function()
    local res = client.optimize:qubo{
      bqp = DATA .. "/bqp/bqp50.txt", instance = 1, seed = 1,
      target_energy = -2098, time_limit = 5 }:wait()
    assert.equal("bqp50.1", res.instance)
    assert.equal(2098, res.objective)
    assert.equal(-2098, res.energy)
    assert.equal("maximize", res.sense)
    assert.equal(res.objective, qubo.energy({ bqp = DATA ..
      "/bqp/bqp50.txt" }, res.solution))
  end)

  it("names instance for a bqp instance out of range", function()
    local ok, err = pcall(client.optimize.qubo, client.optimize, {
      bqp = DATA .. "/bqp/bqp50.txt", instance = 11, sweeps = 1 })
    assert.is_false(ok)
    assert.equal("instance", err.field)
    assert.matches("out of range", err.message)
  end)

  it("gives the same solution on the gpu and the cpu", function()
    local function run(solver)
      return client.optimize:qubo{ bqp = DATA .. "/bqp/bqp50.txt",
                                   instance = 1, seed = 7, replicas = 5,
                                   sweeps = 300, solver = solver }:wait()
    end
    local cpu, gpu = run("cpu"), run("gpu")
    assert.equal("cpu", cpu.solver)
    assert.equal("gpu", gpu.solver)
    assert.matches("^gpu: ", gpu.device)
    assert.equal(cpu.energy, gpu.energy)
    assert.same(cpu.solution, gpu.solution)
    assert.equal(cpu.model_hash, gpu.model_hash)
  end)
end)

describe("ising plugin", function()
  it("names the field at fault", function()
    assert.equal("h", field_of(ising, {}))
    assert.equal("h", field_of(ising, { h = {} }))
    assert.equal("h[2]", field_of(ising, { h = { 1, 0 / 0 } }))
    assert.equal("h[-1]", field_of(ising, { h = { [0] = 1, [-1] = 2 } }))
    assert.equal("J[1]", field_of(ising, { J = { { 1, 1, 2 } } }))
    assert.equal("J[1][2]", field_of(ising, { n = 2, J = { { 0, 2, 1 } } }))
    assert.equal("h[3]", field_of(ising, { n = 2, h = { [0] = 1, [3] = 1 } }))
  end)

  it("reads h as a list or a map of 0-based ids", function()
    assert.same({ { 0, 1 }, { 1, -2 } }, ising.linear_terms{ 1, -2 })
    assert.same({ { 0, 1 }, { 4, 2 } }, ising.linear_terms{ [0] = 1,
                                                            [4] = 2 })
    assert.same({ { 3, 5 } }, ising.linear_terms{ ["3"] = 5 })
  end)

  it("maps spins onto the binary kernel exactly", function()
    local payload = { h = { 1, -2, 0, 3 }, offset = 1,
                      J = { { 0, 1, 2 }, { 1, 2, -3 }, { 0, 3, 1 },
                            { 1, 0, 1 } } }
    check_round_trip(ising, payload, 4)
    local _, enc = ising.encode(payload)
    local res = ising.decode(payload, { x = { 1, 0, 1, 0 } }, enc)
    assert.same({ 1, -1, 1, -1 }, res.solution)
    -- 1 + (1 + 2 + 0 - 3) + (2 * -1 + -3 * -1 + 1 * -1 + 1 * -1)
    assert.equal(1 + 0 + (-2 + 3 - 1 - 1), res.energy)
  end)

  it("reaches the brute-force ground state of a frustrated ring", function()
    local J = {}
    for i = 0, 10 do J[#J + 1] = { i, (i + 1) % 11, 1 } end
    local payload = { J = J, h = { [0] = 0.5 } }
    local best = math.huge
    each_assignment(11, function(x)
      best = math.min(best, ising.energy(payload, ising.spins(x)))
    end)
    local res = solve(ising, payload, 300, 2)
    assert.near(best, res.energy, 1e-12)
    for _, s in ipairs(res.solution) do
      assert.is_true(s == 1 or s == -1)
    end
  end)
end)

describe("maxcut plugin", function()
  it("names the field at fault", function()
    assert.equal("edges", field_of(maxcut, {}))
    assert.equal("edges", field_of(maxcut, { edges = {} }))
    assert.equal("edges[1]", field_of(maxcut, { edges = { { 2, 2 } } }))
    assert.equal("edges[1][1]", field_of(maxcut, { edges = { { -1, 2 } } }))
    local f, msg = field_of(maxcut, { n = 3, edges = { { 0, 3 } } })
    assert.equal("edges[1][2]", f)
    assert.matches("0%-based", msg)
    assert.equal("edges[1][3]", field_of(maxcut, { edges = { { 0, 1,
                                                              0 / 0 } } }))
    assert.equal("edges", field_of(maxcut, { rudy = "G1", edges = {} }))
    assert.equal("rudy", field_of(maxcut, { rudy = 3 }))
  end)

  it("reports a bad rudy file under rudy with its line", function()
    local ok, err = pcall(client.optimize.maxcut, client.optimize, {
      rudy = DATA .. "/bqp/bqp50.txt", sweeps = 1 })
    assert.is_false(ok)
    assert.equal("rudy", err.field)
    assert.matches("bqp50.txt:%d+: ", err.message)
  end)

  it("has energy -cut and round-trips", function()
    local payload = { n = 5, edges = { { 0, 1 }, { 1, 2, 3 }, { 2, 3, -1 },
                                       { 3, 0, 2 }, { 0, 2 } } }
    check_round_trip(maxcut, payload, 5)
    local _, enc = maxcut.encode(payload)
    local res = maxcut.decode(payload, { x = { 1, 0, 1, 0, 0 } }, enc)
    assert.equal(1 + 3 - 1 + 2, res.cut)
    assert.equal(-res.cut, res.energy)
    assert.equal(5, #res.solution)
  end)

  it("reaches the brute-force maximum cut", function()
    math.randomseed(4)
    local edges = {}
    for i = 0, 11 do
      for j = i + 1, 11 do
        if math.random() < 0.4 then
          edges[#edges + 1] = { i, j, math.random(-3, 5) }
        end
      end
    end
    local payload = { n = 12, edges = edges }
    local best = -math.huge
    each_assignment(12, function(x)
      best = math.max(best, maxcut.energy(payload, x))
    end)
    local res = client.optimize:maxcut{ n = 12, edges = edges,
                                        sweeps = 300, seed = 3 }:wait()
    assert.equal(best, res.cut)
    assert.equal(res.cut, maxcut.energy(payload, res.solution))
  end)

  it("cuts G1 close to the best known within a second", function()
    local res = client.optimize:maxcut{ rudy = DATA .. "/gset/G1",
      target_energy = -11500, time_limit = 5, seed = 1 }:wait()
    assert.equal("G1", res.instance)
    assert.is_true(res.cut >= 11500)
    assert.equal(res.cut, maxcut.energy({ rudy = DATA .. "/gset/G1" },
                                        res.solution))
  end)

  it("streams -cut in progress events", function()
    local job = client.optimize:maxcut{ rudy = DATA .. "/gset/G1",
                                        sweeps = 50, seed = 1 }
    local last
    for ev in job:stream() do last = ev end
    assert.equal(-job:result().cut, last.best_energy)
  end)
end)
