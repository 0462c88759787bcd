-- Specs from adversarial testing of the binary plugins and `nerox solve`:
-- integer coefficients whose sums or products wrap around in Lua's int64
-- arithmetic, sums that overflow a double, offsets the kernel cannot
-- carry, and JSON files with a byte order mark or bad parameters. Each
-- once gave a silently wrong energy or an error without a field.

local nerox = require "nerox"
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
  local ok, err = pcall(client.optimize.submit, client.optimize, payload)
  assert.is_false(ok, "payload was accepted")
  assert.is_true(nerox.is(err, nerox.ValidationError), tostring(err))
  assert.equal(field, err.field, tostring(err))
  assert.is_nil(err.message:find("%.lua:%d+:"), err.message)
  return err
end

describe("huge integer coefficients", function()
  it("qubo: repeated pairs near maxinteger do not wrap", function()
    -- 2 * maxinteger wrapped to -2: the all-ones state looked best
    local r = solve{ problem_type = "qubo", Q = { { 0, 1, M }, { 0, 1, M } } }
    assert.equal(0, r.energy)
    assert.is_true(r.solution[1] == 0 or r.solution[2] == 0)
  end)

  it("qubo: a mininteger linear term is scaled, not refused", function()
    local r = solve{ problem_type = "qubo",
                     Q = { { 0, 0, math.mininteger }, { 0, 1, 1 } } }
    assert.equal(1, r.solution[1])
    assert.is_true(r.energy < -9e18)
  end)

  it("maxcut: an edge of weight maxinteger is cut", function()
    local r = solve{ problem_type = "maxcut", edges = { { 0, 1, M } } }
    assert.equal(M, r.objective)
    assert.are_not.equal(r.solution[1], r.solution[2])
  end)

  it("number_partitioning: 2^40 numbers balance exactly", function()
    local r = solve{ problem_type = "number_partitioning",
                     numbers = { 1 << 40, 1 << 40, 1 } }
    assert.equal(1, r.objective)
    assert.equal(1, r.energy)
  end)

  it("knapsack: values near maxinteger keep a feasible answer", function()
    local r = solve{ problem_type = "knapsack", values = { M, M },
                     weights = { 1, 1 }, capacity = 1 }
    assert.is_true(r.feasible)
    assert.equal(M, r.objective)
    assert.is_true(r.energy < 0)
  end)

  it("max_independent_set: weights near maxinteger", function()
    local r = solve{ problem_type = "max_independent_set",
                     edges = { { 0, 1 } }, weights = { M, M } }
    assert.is_true(r.feasible)
    assert.equal(M, r.objective)
  end)
end)

describe("overflowing models", function()
  it("names the payload when sums reach infinity", function()
    reject({ problem_type = "qubo", Q = { { 0, 1, 1e308 }, { 0, 1, 1e308 } },
             sweeps = 1 }, "payload")
  end)

  it("names offset when the kernel cannot carry it", function()
    local err = reject({ problem_type = "qubo", Q = { { 0, 0, 1 } },
                         offset = 1e300, sweeps = 1 }, "offset")
    assert.matches("2%^53", err.message)
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
