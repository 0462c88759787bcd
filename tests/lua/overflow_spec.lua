-- Specs from adversarial testing of the binary plugins and `nerox solve`:
-- integer coefficients whose sums or products wrap around in Lua's int64
-- arithmetic, sums that overflow a double, offsets the kernel cannot
-- carry, totals that overflow to infinity or pass 2^53, and JSON files
-- with a byte order mark or bad parameters. Each once gave a silently
-- wrong energy or an error without a field.

local nerox = require "nerox"
local spec_util = require "spec_util"
local plugins = require "nerox.plugins"
local cli = require "nerox.cli_solve"

local client = nerox.Client()
local M = math.maxinteger

local function solve(payload)
  payload.sweeps, payload.seed, payload.solver = 300, 1, "cpu"
  local res = client.optimize:submit(payload):wait(20)
  local p = plugins.get(payload.problem_type)
  local body = {}
  for k, v in pairs(payload) do
    if k ~= "sweeps" and k ~= "seed" and k ~= "solver" and
       k ~= "problem_type" then body[k] = v end
  end
  assert.equal(p.energy(body, res.solution), res.objective)
  return res
end

local function reject(payload, field)
  return spec_util.rejects(function(p) return client.optimize:submit(p) end,
                           payload, field)
end

describe("huge integer coefficients", function()
  -- Sums of integers beyond 2^53 (check.MAX_EXACT) once wrapped around in
  -- int64 and then went to floating point, silently inexact: every
  -- plugin now refuses them, naming the entry that takes the sum past.
  it("qubo: weights whose sum passes 2^53 are refused", function()
    local err = reject({ problem_type = "qubo", sweeps = 1,
                         Q = { { 0, 1, 1 << 52 }, { 0, 1, 1 << 52 },
                               { 1, 1, 1 } } }, "Q[3][3]")
    assert.matches("beyond 2%^53", err.message)
    reject({ problem_type = "qubo", sweeps = 1,
             Q = { { 0, 0, math.mininteger }, { 0, 1, 1 } } }, "Q[1][3]")
    reject({ problem_type = "qubo", sweeps = 1, Q = { { 0, 0, 1 } },
             offset = M }, "offset")
  end)

  it("qubo: weights summing to exactly 2^53 stay exact", function()
    local r = solve{ problem_type = "qubo",
                     Q = { { 0, 0, -(1 << 52) }, { 1, 1, -(1 << 52) } } }
    assert.equal(-(1 << 53), r.energy)
    assert.equal("integer", math.type(r.energy))
  end)

  it("maxcut: an edge of weight maxinteger is refused", function()
    reject({ problem_type = "maxcut", edges = { { 0, 1, M } },
             sweeps = 1 }, "edges[1][3]")
    local r = solve{ problem_type = "maxcut",
                     edges = { { 0, 1, 1 << 52 }, { 1, 2, 1 << 52 } } }
    assert.equal(1 << 53, r.objective)
  end)

  it("number_partitioning: 2^40 numbers balance exactly", function()
    local r = solve{ problem_type = "number_partitioning",
                     numbers = { 1 << 40, 1 << 40, 1 } }
    assert.equal(1, r.objective)
    assert.equal(1, r.energy)
  end)

  it("number_partitioning: numbers beyond 2^53 are refused", function()
    -- once {M, M, 1} gave objective 0.0 where the difference is 1
    local err = reject({ problem_type = "number_partitioning",
                         numbers = { M, M, 1 }, sweeps = 1 }, "numbers[1]")
    assert.matches("2%^53", err.message)
    reject({ problem_type = "number_partitioning", sweeps = 1,
             numbers = { 1 << 52, 1 << 52, 1 } }, "numbers[3]")
    -- JSON carries 9223372036854775807 as the float 2^63
    reject({ problem_type = "number_partitioning", sweeps = 1,
             numbers = { 2.0 ^ 63, 2.0 ^ 63, 1 } }, "numbers[1]")
  end)

  it("knapsack: values near maxinteger are refused", function()
    reject({ problem_type = "knapsack", values = { 1, M }, sweeps = 1,
             weights = { 1, 1 }, capacity = 1 }, "values[2]")
  end)

  it("max_independent_set: weights near maxinteger are refused", function()
    reject({ problem_type = "max_independent_set", edges = { { 0, 1 } },
             weights = { M, M }, sweeps = 1 }, "weights[1]")
  end)

  it("ising: h and J summing past 2^53 are refused", function()
    reject({ problem_type = "ising", h = { 1 << 52 },
             J = { { 0, 1, (1 << 52) + 1 } }, sweeps = 1 }, "J[1][3]")
    reject({ problem_type = "ising", h = { [3] = 1 << 53, [0] = 1 },
             sweeps = 1 }, "h[3]")
  end)
end)

describe("overflowing models", function()
  it("names the entry when sums reach infinity", function()
    reject({ problem_type = "qubo", Q = { { 0, 1, 1e308 }, { 0, 1, 1e308 } },
             sweeps = 1 }, "Q[2][3]")
  end)

  it("names offset when the kernel cannot carry it", function()
    local err = reject({ problem_type = "qubo", Q = { { 0, 0, 1 } },
                         offset = 1e300, sweeps = 1 }, "offset")
    assert.matches("2%^53", err.message)
    err = reject({ problem_type = "qubo", Q = { { 0, 0, 0.5 } },
                   offset = 1e300, sweeps = 1 }, "offset")
    assert.matches("2%^53", err.message)
  end)
end)

describe("energies that overflow to infinity", function()
  -- Each of these once "succeeded" with energy inf, -inf or NaN.
  it("tsp: coordinates whose tour length overflows", function()
    local err = reject({ problem_type = "tsp", sweeps = 1,
                         coordinates = { { 0, 0 }, { 1e308, 0 },
                                         { 0, 1e308 } } }, "coordinates")
    assert.matches("tour", err.message)
  end)

  it("tsp: a matrix whose tour length overflows", function()
    local B = 1e308
    local err = reject({ problem_type = "tsp", sweeps = 1,
                         distance_matrix = { { 0, 0.5, B }, { 0.5, 0, B },
                                             { B, B, 0 } } },
                       "distance_matrix[1][3]")
    assert.matches("infinity", err.message)
    -- fractional distances only need a finite tour
    local r = solve{ problem_type = "tsp",
                     distance_matrix = { { 0, 0.5, 1e300 },
                                         { 0.5, 0, 1e300 },
                                         { 1e300, 1e300, 0 } } }
    assert.is_true(r.energy < math.huge)
  end)

  it("qubo: linear terms whose sum is -inf", function()
    reject({ problem_type = "qubo", sweeps = 1,
             Q = { { 0, 0, -1e308 }, { 1, 1, -1e308 } } }, "Q[2][3]")
    reject({ problem_type = "qubo", sweeps = 1,
             matrix = { { 0.5, 1e308 }, { 1e308, 0 } } }, "matrix[2][1]")
  end)

  it("qubo: entries that cancel but overflow on the way", function()
    reject({ problem_type = "qubo", sweeps = 1,
             Q = { { 0, 1, 0.5 }, { 0, 1, 1e308 }, { 0, 1, 1e308 },
                   { 0, 1, -1e308 }, { 0, 1, -1e308 } } }, "Q[3][3]")
  end)

  it("ising, maxcut and number_partitioning", function()
    reject({ problem_type = "ising", h = { 0.5, 1e308 },
             J = { { 0, 1, 1e308 } }, sweeps = 1 }, "J[1][3]")
    reject({ problem_type = "maxcut", sweeps = 1,
             edges = { { 0, 1, 0.5 }, { 1, 2, 1e308 }, { 0, 2, 1e308 } } },
           "edges[3][3]")
    reject({ problem_type = "number_partitioning", sweeps = 1,
             numbers = { 0.5, 1e308, 1e308 } }, "numbers[3]")
  end)

  it("knapsack and max_independent_set: penalties", function()
    reject({ problem_type = "knapsack", values = { 0.5, 1 }, sweeps = 1,
             weights = { 1 << 24, 1 << 24 }, capacity = 1,
             penalty = 1e300 }, "penalty")
    reject({ problem_type = "knapsack", values = { 0.5, 1e300 }, sweeps = 1,
             weights = { 1 << 24, 1 << 24 }, capacity = 1 }, "values")
    reject({ problem_type = "max_independent_set", sweeps = 1,
             edges = { { 0, 1 }, { 0, 1 } }, penalty = 1e308 }, "penalty")
  end)

  it("graph_coloring: a penalty or a colour count that overflows",
     function()
    reject({ problem_type = "graph_coloring", edges = { { 0, 1 } },
             colors = 3, penalty = 1e308, sweeps = 1 }, "penalty")
    -- n * colors once wrapped around and passed the variable limit
    reject({ problem_type = "graph_coloring", edges = { { 0, 1 },
             { 1, 2 }, { 2, 3 } }, colors = 1 << 62, sweeps = 1 },
           "colors")
  end)
end)

describe("nerox solve files", function()
  local TMP = os.getenv("NEROX_TEST_TMP") .. "/overflow"
  local function write(name, text)
    os.execute("mkdir -p '" .. TMP .. "'")
    local f = assert(io.open(TMP .. "/" .. name, "wb"))
    f:write(text)
    f:close()
    return TMP .. "/" .. name
  end
  local function run(args)
    local out, err = {}, {}
    local function sink(buf)
      return { write = function(self, ...)
        for _, s in ipairs{ ... } do buf[#buf + 1] = tostring(s) end
        return self
      end, flush = function() end }
    end
    local so, se = io.stdout, io.stderr
    io.stdout, io.stderr = sink(out), sink(err)
    local ok, code = pcall(cli.main, args)
    io.stdout, io.stderr = so, se
    assert(ok, code)
    return code, table.concat(out), table.concat(err)
  end

  it("skips a byte order mark in JSON and rudy files", function()
    local path = write("bom.json", "\239\187\191" ..
                       '{"problem_type": "maxcut", "edges": [[0, 1]]}')
    local code, out, err = run{ path, "--sweeps", "5", "--seed", "1" }
    assert.equal(0, code, err)
    assert.matches("objective 1 ", out)
    path = write("bomrudy", "\239\187\1913 1\n1 2 1\n")
    assert.equal("rudy", cli.detect_format(path))
  end)

  it("names the file, not a flag, for a parameter in the JSON", function()
    local path = write("neg.json", '{"problem_type": "maxcut", ' ..
                       '"edges": [[0, 1]], "sweeps": -1}')
    local code, _, err = run{ path }
    assert.equal(1, code)
    assert.matches("neg%.json: sweeps: must be at least 1", err)
    assert.is_nil(err:find("%-%-sweeps"))
    code, _, err = run{ path, "--sweeps", "0" }
    assert.equal(2, code)
    assert.matches("%-%-sweeps", err)
  end)

  it("names the file of a bad JSON field and of a folder", function()
    local path = write("inf.json", '{"problem_type": "maxcut", ' ..
                       '"edges": [[0, 1, 1e400]]}')
    local code, _, err = run{ path, "--sweeps", "1" }
    assert.equal(1, code)
    assert.matches("inf%.json: edges%[1%]%[3%]: is infinite", err)
    code, _, err = run{ TMP, "--sweeps", "1" }
    assert.equal(1, code)
    assert.matches(TMP:gsub("%p", "%%%0") .. ": Is a directory", err)
  end)
end)
