-- Specs for `nerox solve` (lua/nerox/cli_solve.lua): flag parsing, exit
-- codes and output, with stdout and stderr captured.

local cli = require "nerox.cli_solve"
local cjson = require "cjson"

local GR24 = os.getenv("NEROX_DATA_DIR") .. "/tsplib/gr24.tsp"

-- Run cli.main(args) capturing what it writes; returns code, out, err.
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

local function usage_of(args)
  local ok, err = pcall(cli.parse_args, args)
  assert.is_false(ok, "accepted")
  return err.usage
end

describe("nerox solve flags", function()
  it("parses every flag, with a space or =", function()
    local o = cli.parse_args{ GR24, "--solver", "cpu", "--time-limit=2.5",
      "--sweeps", "100", "--seed=9", "--replicas", "4",
      "--target-energy", "1300", "--json" }
    assert.equal(GR24, o.file)
    assert.is_true(o.json)
    assert.same({ solver = "cpu", time_limit = 2.5, sweeps = 100,
                  seed = 9, replicas = 4, target_energy = 1300 }, o.params)
    assert.equal("integer", math.type(o.params.sweeps))
  end)

  it("takes the file after the flags too", function()
    local o = cli.parse_args{ "--sweeps", "5", GR24 }
    assert.equal(GR24, o.file)
    assert.is_false(o.json)
  end)

  it("names the flag at fault", function()
    assert.matches("^%-%-sweeps: expected an integer",
                   usage_of{ GR24, "--sweeps", "ten" })
    assert.matches("^%-%-seed: ", usage_of{ GR24, "--seed", "1.5" })
    assert.matches("^%-%-time%-limit: ", usage_of{ GR24, "--time-limit",
                                                   "-1" })
    assert.matches("^%-%-replicas: ", usage_of{ GR24, "--replicas", "0" })
    assert.matches("^%-%-solver: ", usage_of{ GR24, "--solver", "tpu" })
    assert.matches("^%-%-time%-limit: needs a value",
                   usage_of{ GR24, "--time-limit" })
    assert.matches("^%-%-fast: unknown option", usage_of{ GR24, "--fast" })
    assert.matches("^%-%-json: takes no value",
                   usage_of{ GR24, "--json=yes" })
    assert.matches("^FILE: missing", usage_of{ "--json" })
    assert.matches("only one FILE", usage_of{ GR24, GR24 })
  end)

  it("returns 2 and prints usage for a bad command line", function()
    local code, out, err = run{ GR24, "--sweeps", "x" }
    assert.equal(2, code)
    assert.equal("", out)
    assert.matches("%-%-sweeps", err)
    assert.matches("usage: nerox solve", err)
  end)

  it("prints help and returns 0", function()
    local code, out = run{ "--help" }
    assert.equal(0, code)
    assert.matches("usage: nerox solve", out)
  end)
end)

describe("nerox solve runs", function()
  it("prints one JSON object with --json", function()
    local code, out = run{ GR24, "--sweeps", "200", "--seed", "5",
                           "--json" }
    assert.equal(0, code)
    local r = cjson.decode(out)
    for _, key in ipairs{ "problem_type", "instance", "energy", "solution",
        "status", "solver", "device", "seed", "sweeps", "replicas",
        "elapsed_s", "model_hash", "version" } do
      assert.is_not_nil(r[key], key)
    end
    assert.equal("tsp", r.problem_type)
    assert.equal("gr24", r.instance)
    assert.equal(24, #r.solution)
    assert.equal(5, r.seed)
    assert.equal(200, r.sweeps)
    assert.is_true(r.energy >= 1272)
  end)

  it("prints a human summary without --json", function()
    local code, out = run{ GR24, "--sweeps", "100" }
    assert.equal(0, code)
    assert.matches("instance  gr24 %(24 cities%)", out)
    assert.matches("\nlength    %d+", out)
    assert.matches("tour %(0%-based%)", out)
  end)

  it("returns 1 with file:line: for a bad file", function()
    local path = os.getenv("NEROX_TEST_TMP") .. "/cli-bad.tsp"
    os.execute("mkdir -p '" .. os.getenv("NEROX_TEST_TMP") .. "'")
    local f = assert(io.open(path, "w"))
    f:write("NAME: x\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\n" ..
            "NODE_COORD_SECTION\n1 0 0\n2 oops 1\n")
    f:close()
    local code, out, err = run{ path, "--sweeps", "10" }
    assert.equal(1, code)
    assert.equal("", out)
    local prefix = "nerox solve: " .. path .. ":"
    assert.equal(prefix, err:sub(1, #prefix))
    assert.matches("^%d+: ", err:sub(#prefix + 1))
  end)

  it("runs --solver gpu and names the device", function()
    local code, out = run{ GR24, "--solver", "gpu", "--sweeps", "10",
                           "--json" }
    assert.equal(0, code)
    local res = cjson.decode(out)
    assert.equal("gpu", res.solver)
    assert.matches("^gpu: ", res.device)
  end)
end)
