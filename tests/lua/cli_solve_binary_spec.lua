-- Specs for `nerox solve` on rudy / G-set, OR-Library bqp and JSON payload
-- files (lua/nerox/cli_solve.lua): format detection, --format,
-- --instance, --json fields, and errors.

local cli = require "nerox.cli_solve"
local cjson = require "cjson"

local DATA = os.getenv("NEROX_DATA_DIR")
local TMP = os.getenv("NEROX_TEST_TMP") .. "/cli-binary"
local G1 = DATA .. "/gset/G1"
local BQP50 = DATA .. "/bqp/bqp50.txt"

local function run(args)
  local out, err = {}, {}
  local function sink(buf)
    return { write = function(self, ...)
      for _, s in ipairs{ ... } do buf[#buf + 1] = tostring(s) end
      return self
    end, flush = function() end }
  end
  local saved_out, saved_err = io.stdout, io.stderr
  io.stdout, io.stderr = sink(out), sink(err)
  local ok, code = pcall(cli.main, args)
  io.stdout, io.stderr = saved_out, saved_err
  assert(ok, code)
  return code, table.concat(out), table.concat(err)
end

local function write(name, text)
  os.execute("mkdir -p '" .. TMP .. "'")
  local f = assert(io.open(TMP .. "/" .. name, "w"))
  f:write(text)
  f:close()
  return TMP .. "/" .. name
end

local FIELDS = { "problem_type", "instance", "energy", "objective",
  "solution", "status", "solver", "device", "seed", "sweeps", "replicas",
  "elapsed_s", "model_hash", "version" }

local function json_run(args)
  local code, out, err = run(args)
  assert.equal(0, code, err)
  local r = cjson.decode(out)
  for _, k in ipairs(FIELDS) do assert.is_not_nil(r[k], k) end
  return r
end

describe("nerox solve formats", function()
  it("tells formats apart by name and first line", function()
    assert.equal("tsplib", cli.detect_format(DATA .. "/tsplib/gr24.tsp"))
    assert.equal("rudy", cli.detect_format(G1))
    assert.equal("bqp", cli.detect_format(BQP50))
    assert.equal("bqp", cli.detect_format(write("plain", "2\n1 1\n1 1 3\n")))
    assert.equal("json", cli.detect_format(write("p.json", "{}")))
    local ok, err = pcall(cli.detect_format, write("odd", "hello\n"))
    assert.is_false(ok)
    assert.matches("%-%-format", err.failure)
  end)

  it("parses --format and --instance", function()
    local o = cli.parse_args{ BQP50, "--format", "bqp", "--instance=3" }
    assert.equal("bqp", o.format)
    assert.equal(3, o.instance)
    local ok, err = pcall(cli.parse_args, { BQP50, "--format", "xml" })
    assert.is_false(ok)
    assert.matches("^%-%-format: ", err.usage)
    ok, err = pcall(cli.parse_args, { BQP50, "--instance", "0" })
    assert.matches("^%-%-instance: ", err.usage)
  end)
end)

describe("nerox solve on binary problems", function()
  it("solves G1 as Max-Cut", function()
    local r = json_run{ G1, "--sweeps", "200", "--seed", "3", "--json" }
    assert.equal("maxcut", r.problem_type)
    assert.equal("G1", r.instance)
    assert.equal(800, #r.solution)
    assert.equal(-r.energy, r.objective)
    assert.equal("maximize", r.sense)
    assert.is_true(r.objective > 11000)
    local again = json_run{ G1, "--sweeps", "200", "--seed", "3", "--json" }
    assert.same(r.solution, again.solution)
  end)

  it("reaches bqp50.1's optimum 2098 quickly", function()
    local r = json_run{ BQP50, "--target-energy", "-2098", "--time-limit",
                        "5", "--seed", "1", "--json" }
    assert.equal("qubo", r.problem_type)
    assert.equal("bqp50.1", r.instance)
    assert.equal(2098, r.objective)
    assert.equal(-2098, r.energy)
    assert.equal("target", r.stop)
  end)

  it("picks the instance of a bqp file", function()
    local r = json_run{ BQP50, "--instance", "2", "--sweeps", "300",
                        "--seed", "1", "--json" }
    assert.equal("bqp50.2", r.instance)
    assert.is_true(r.objective <= 3702)
  end)

  it("fails clearly for an instance out of range", function()
    local code, out, err = run{ BQP50, "--instance", "11", "--sweeps", "1" }
    assert.equal(1, code)
    assert.equal("", out)
    assert.matches("instance 11 out of range", err)
    code, out, err = run{ G1, "--instance", "2", "--sweeps", "1" }
    assert.equal(2, code)
    assert.matches("%-%-instance: only for bqp", err)
  end)

  it("solves JSON payload files, flags winning over the file", function()
    local path = write("knap.json", cjson.encode{
      problem_type = "knapsack", values = { 10, 13, 7, 8 },
      weights = { 5, 7, 4, 3 }, capacity = 10, sweeps = 5 })
    local r = json_run{ path, "--sweeps", "3000", "--seed", "1", "--json" }
    assert.equal("knapsack", r.problem_type)
    assert.equal(3000, r.sweeps)
    assert.equal(21, r.objective)
    assert.is_true(r.feasible)
    path = write("cut.json", '{"problem_type": "maxcut", "rudy": "' ..
                 G1 .. '", "name": "g1"}')
    r = json_run{ path, "--sweeps", "10", "--json" }
    assert.equal("g1", r.instance)
  end)

  it("names the field of a bad JSON payload", function()
    local path = write("bad.json", '{"problem_type": "maxcut", ' ..
                       '"edges": [[0, 1], [1, -2]]}')
    local code, _, err = run{ path, "--sweeps", "1" }
    assert.equal(1, code)
    assert.matches("edges%[2%]%[2%]: ", err)
    code, _, err = run{ write("broken.json", "{"), "--sweeps", "1" }
    assert.equal(1, code)
    assert.matches("not valid JSON", err)
  end)

  it("prints a summary with the objective and its sense", function()
    local code, out = run{ BQP50, "--sweeps", "100", "--seed", "2" }
    assert.equal(0, code)
    assert.matches("instance  bqp50.1 %(qubo, 50 variables%)", out)
    assert.matches("\nobjective %-?%d+ %(maximize%)", out)
  end)
end)
