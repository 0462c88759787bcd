-- Specs for input validation: every bad payload or parameter raises a
-- ValidationError naming the field at fault, before anything is run.

local nerox = require "nerox"
local spec_util = require "spec_util"

local client = nerox.Client()

-- A valid symmetric n x n integer matrix.
local function matrix(n)
  local m = {}
  for i = 1, n do
    m[i] = {}
    for j = 1, n do m[i][j] = (i == j) and 0 or (i + j) end
  end
  return m
end

-- Submit and return the ValidationError raised.
local function reject(payload)
  return spec_util.rejects(function(p) return client.optimize:tsp(p) end,
                           payload)
end

local function with(extra)
  local p = { distance_matrix = matrix(4), sweeps = 1 }
  for k, v in pairs(extra) do p[k] = v end
  return p
end

describe("validation of distance_matrix", function()
  it("names a ragged row", function()
    local m = matrix(4)
    m[3] = { 5, 5 }
    local err = reject{ distance_matrix = m }
    assert.equal("distance_matrix[3]", err.field)
    assert.equal("ValidationError: distance_matrix[3]: has 2 entries, " ..
                 "expected 4", tostring(err))
  end)

  it("names a row that is not a table", function()
    local m = matrix(4)
    m[2] = 7
    assert.equal("distance_matrix[2]", reject{ distance_matrix = m }.field)
  end)

  it("names a negative distance", function()
    local m = matrix(4)
    m[2][4] = -1
    local err = reject{ distance_matrix = m }
    assert.equal("distance_matrix[2][4]", err.field)
    assert.matches("negative", err.message)
  end)

  it("names NaN and infinite distances", function()
    local m = matrix(4)
    m[1][2] = 0 / 0
    local err = reject{ distance_matrix = m }
    assert.equal("distance_matrix[1][2]", err.field)
    assert.matches("NaN", err.message)
    m = matrix(4)
    m[4][1] = math.huge
    err = reject{ distance_matrix = m }
    assert.equal("distance_matrix[4][1]", err.field)
    assert.matches("infinite", err.message)
  end)

  it("names a non-numeric distance", function()
    local m = matrix(4)
    m[3][1] = "7"
    local err = reject{ distance_matrix = m }
    assert.equal("distance_matrix[3][1]", err.field)
    assert.matches("expected a number", err.message)
  end)

  it("refuses fewer than 3 cities", function()
    local err = reject{ distance_matrix = { { 0, 1 }, { 1, 0 } } }
    assert.equal("distance_matrix", err.field)
    assert.matches("at least 3", err.message)
  end)

  it("refuses a matrix that is not a table", function()
    assert.equal("distance_matrix",
                 reject{ distance_matrix = "0 1 1 0" }.field)
  end)

  it("refuses an asymmetric matrix, saying why", function()
    local m = matrix(4)
    m[1][3] = 99
    local err = reject{ distance_matrix = m }
    assert.equal("distance_matrix[1][3]", err.field)
    assert.matches("asymmetric TSP is not supported", err.message)
  end)
end)

describe("validation of coordinates and tsplib", function()
  it("names a point that is not a pair", function()
    local err = reject{ coordinates = { { 0, 0 }, { 1, 1 }, { 2 } } }
    assert.equal("coordinates[3]", err.field)
  end)

  it("names a bad coordinate", function()
    local err = reject{ coordinates = { { 0, 0 }, { 1, 0 / 0 }, { 2, 2 } } }
    assert.equal("coordinates[2][2]", err.field)
    err = reject{ coordinates = { { 0, 0 }, { "a", 1 }, { 2, 2 } } }
    assert.equal("coordinates[2][1]", err.field)
  end)

  it("refuses two sources at once", function()
    local err = reject{ distance_matrix = matrix(3),
                        coordinates = { { 0, 0 }, { 1, 1 }, { 2, 2 } } }
    assert.equal("coordinates", err.field)
  end)

  it("refuses a payload with no source", function()
    assert.equal("distance_matrix", reject{ seed = 1 }.field)
  end)

  it("reports a missing TSPLIB file under tsplib", function()
    local err = reject{ tsplib = "/nonexistent/x.tsp" }
    assert.equal("tsplib", err.field)
    assert.matches("/nonexistent/x.tsp", err.message, 1, true)
  end)

  it("reports a bad TSPLIB file with its line", function()
    local path = os.getenv("NEROX_TEST_TMP") .. "/bad.tsp"
    os.execute("mkdir -p '" .. os.getenv("NEROX_TEST_TMP") .. "'")
    local f = assert(io.open(path, "w"))
    f:write("NAME: bad\nTYPE: TSP\nDIMENSION: x\n")
    f:close()
    local err = reject{ tsplib = path }
    assert.equal("tsplib", err.field)
    local rest = err.message:sub(#path + 1)
    assert.equal(path, err.message:sub(1, #path))
    assert.matches("^:%d+: ", rest)
  end)
end)

describe("validation of options", function()
  it("names an unknown option", function()
    local err = reject(with{ temprature = 3 })
    assert.equal("temprature", err.field)
    assert.matches("unknown option 'temprature'", err.message)
  end)

  it("refuses a bad solver", function()
    local err = reject(with{ solver = "quantum" })
    assert.equal("solver", err.field)
    assert.matches("cpu", err.message)
  end)

  it("refuses bad types for seed, replicas, sweeps and time_limit", function()
    assert.equal("seed", reject(with{ seed = "42" }).field)
    assert.equal("seed", reject(with{ seed = 1.5 }).field)
    assert.equal("seed", reject(with{ seed = -1 }).field)
    assert.equal("replicas", reject(with{ replicas = 0 }).field)
    assert.equal("replicas", reject(with{ replicas = {} }).field)
    assert.equal("sweeps", reject(with{ sweeps = 0 }).field)
    assert.equal("time_limit", reject(with{ time_limit = "10" }).field)
    assert.equal("time_limit", reject(with{ time_limit = -1 }).field)
    assert.equal("time_limit", reject(with{ time_limit = 0 / 0 }).field)
    assert.equal("target_energy",
                 reject(with{ target_energy = math.huge }).field)
  end)

  it("refuses a name that is not a string", function()
    assert.equal("name", reject(with{ name = 5 }).field)
  end)

  it("refuses a payload that is not a table", function()
    local ok, err = pcall(client.optimize.tsp, client.optimize, "m")
    assert.is_false(ok)
    assert.equal("payload", err.field)
  end)

  it("catches optimize.tsp called with a dot", function()
    local ok, err = pcall(client.optimize.tsp, { distance_matrix = {} })
    assert.is_false(ok)
    assert.matches("colon", err.message)
  end)

  it("refuses an unknown problem type, naming problem_type", function()
    local ok, err = pcall(client.optimize.submit, client.optimize,
                          { problem_type = "no_such_type", x = 1 })
    assert.is_false(ok)
    assert.is_true(nerox.is(err, nerox.ValidationError))
    assert.equal("problem_type", err.field)
    assert.matches("no_such_type", err.message)
    ok, err = pcall(client.optimize.submit, client.optimize, { x = 1 })
    assert.equal("problem_type", err.field)
    ok, err = pcall(client.optimize.submit, client.optimize,
                    { problem_type = "../tsp" })
    assert.equal("problem_type", err.field)
  end)

  it("checks a remote client's url and key", function()
    local ok, err = pcall(nerox.Client, { url = "ftp://x", key = "k" })
    assert.is_false(ok)
    assert.is_true(nerox.is(err, nerox.ValidationError))
    assert.equal("url", err.field)
    ok, err = pcall(nerox.Client, { url = "http://127.0.0.1:1", key = "" })
    assert.is_true(nerox.is(err, nerox.AuthError))
    ok, err = pcall(nerox.Client, { mode = "elsewhere" })
    assert.equal("mode", err.field)
    local c = nerox.Client{ url = "http://127.0.0.1:1/v1/", key = "k" }
    assert.equal("remote", c.kind)
    assert.equal("http://127.0.0.1:1", c.url)
    assert.is_nil(tostring(c):find("k$"))
  end)
end)
