-- Specs for the limits on a job's count parameters (sweeps, replicas,
-- colours): each is a named constant, refused above it with a
-- ValidationError naming the field, so no job can ask for more work than
-- the time limits let it do.

local nerox = require "nerox"
local spec_util = require "spec_util"
local params = require "nerox.params"
local check = require "nerox.check"

local client = nerox.Client()
local SQ = { { 0, 1, 2 }, { 1, 0, 3 }, { 2, 3, 0 } }

local function reject(payload, field)
  return spec_util.rejects(function(p) return client.optimize:submit(p) end,
                           payload, field)
end

local function tsp(extra)
  local p = { problem_type = "tsp", distance_matrix = SQ, seed = 1 }
  for k, v in pairs(extra) do p[k] = v end
  return p
end

describe("sweeps", function()
  it("has a documented upper bound", function()
    assert.equal(1000000000, params.MAX_SWEEPS)
    assert.equal(params.MAX_SWEEPS,
                 params.normalize{ sweeps = params.MAX_SWEEPS }.sweeps)
  end)

  it("refuses sweeps above the bound, however given", function()
    -- once these made jobs that would have run for centuries
    local err = reject(tsp{ sweeps = math.maxinteger }, "sweeps")
    assert.matches("at most 1000000000", err.message)
    reject(tsp{ sweeps = params.MAX_SWEEPS + 1 }, "sweeps")
    reject(tsp{ sweeps = 1e18 }, "sweeps")
    -- JSON's 9223372036854775807 arrives as the float 2^63
    err = reject(tsp{ sweeps = 2.0 ^ 63 }, "sweeps")
    assert.matches("at most", err.message)
    reject(tsp{ sweeps = 1e300 }, "sweeps")
  end)

  it("does not lift the time limit: a job stopped by it times out",
     function()
    local res = client.optimize:submit(tsp{ sweeps = params.MAX_SWEEPS,
                                            time_limit = 0.3 }):wait(20)
    assert.equal("timed_out", res.status)
    assert.equal("time", res.stop)
    assert.is_true(res.sweeps < params.MAX_SWEEPS)
  end)

  it("leaves a job without time_limit to the engine's cap", function()
    local p = params.normalize{ sweeps = 10 }
    assert.is_nil(p.time_limit)
    assert.is_true(params.SWEEPS_TIME_CAP <= params.MAX_TIME_LIMIT)
    assert.equal(params.DEFAULT_TIME_LIMIT, params.normalize{}.time_limit)
  end)
end)

describe("other counts", function()
  it("replicas, seed and time_limit are bounded", function()
    reject(tsp{ replicas = params.MAX_REPLICAS + 1, sweeps = 1 },
           "replicas")
    reject(tsp{ replicas = 1e300, sweeps = 1 }, "replicas")
    reject(tsp{ seed = 2.0 ^ 64, sweeps = 1 }, "seed")
    reject(tsp{ time_limit = params.MAX_TIME_LIMIT + 1 }, "time_limit")
    reject(tsp{ time_limit = math.huge }, "time_limit")
  end)

  it("graph_coloring colours are bounded before n * colors", function()
    local err = reject({ problem_type = "graph_coloring", sweeps = 1,
                         edges = { { 0, 1 } }, colors = math.maxinteger },
                       "colors")
    assert.matches("at most", err.message)
  end)

  it("qubo instance numbers beyond the integers are refused", function()
    reject({ problem_type = "qubo", bqp_text = "1\n2 1\n1 2 3\n",
             instance = 1e300, sweeps = 1 }, "instance")
  end)
end)

describe("check.integer", function()
  it("names the bound a huge integral float passes", function()
    local ok, err = pcall(check.integer, 2.0 ^ 70, "x", 1, 10)
    assert.is_false(ok)
    assert.equal("x", err.field)
    assert.matches("at most 10", err.message)
    ok, err = pcall(check.integer, -(2.0 ^ 70), "x", 1, 10)
    assert.matches("at least 1", err.message)
    ok, err = pcall(check.integer, 2.0 ^ 70, "x")
    assert.matches("expected an integer", err.message)
  end)
end)

describe("check.total", function()
  it("keeps integer sums exact past 2^53 and names the entry", function()
    local t = check.total("the sum")
    t:add(1 << 52, "a"):add(1 << 52, "b")
    t:done()
    t:add(1, "c")
    local ok, err = pcall(t.done, t)
    assert.is_false(ok)
    assert.equal("c", err.field)
  end)

  it("needs only a finite sum once a number has a fraction", function()
    local t = check.total("the sum")
    t:add(2.0 ^ 60, "a"):add(0.5, "b")
    t:done()
    local ok, err = pcall(t.add, t, 1.7e308, "c", 2)
    assert.is_false(ok)
    assert.equal("c", err.field)
    assert.matches("infinity", err.message)
  end)
end)
