-- Specs for the file fields of the plugins (tsp's tsplib, maxcut's rudy,
-- qubo's bqp) and their text fields (tsplib_text, rudy_text, bqp_text):
-- the text field gives the same model, result and errors as the path
-- field, with the field's name in place of the path; nerox.files inlines
-- files for a remote server and refuses paths; nerox.server refuses them.

local nerox = require "nerox"
local files = require "nerox.files"
local server = require "nerox.server"
local tsp = require "nerox.plugins.tsp"
local maxcut = require "nerox.plugins.maxcut"
local qubo = require "nerox.plugins.qubo"

local DATA = os.getenv("NEROX_DATA_DIR")
local TESTDATA = "tests/data"
local BERLIN52 = "examples/data/berlin52.tsp"
local GR24 = DATA .. "/tsplib/gr24.tsp"
local G1 = DATA .. "/gset/G1"
local BQP50 = DATA .. "/bqp/bqp50.txt"

local client = nerox.Client()

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

-- The files of a test data folder whose names end in `suffix`, sorted.
local function listing(dir, suffix)
  local out = {}
  local p = assert(io.popen("ls " .. dir))
  for name in p:lines() do
    if name:sub(-#suffix) == suffix then out[#out + 1] = dir .. "/" .. name end
  end
  p:close()
  return out
end

-- s with every occurrence of `from` replaced by `to`, literally.
local function replace(s, from, to)
  local out, i = {}, 1
  while true do
    local a, b = s:find(from, i, true)
    if not a then break end
    out[#out + 1] = s:sub(i, a - 1) .. to
    i = b + 1
  end
  out[#out + 1] = s:sub(i)
  return table.concat(out)
end

-- The ValidationError raised by fn(...).
local function verr(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "accepted")
  assert.is_true(nerox.is(err, nerox.ValidationError), tostring(err))
  return err
end

local function submit(sub)
  return client.optimize:submit(sub):wait()
end

describe("plugins declare their file fields", function()
  it("maps each path field to its text field", function()
    assert.same({ tsplib = "tsplib_text" }, tsp.file_fields)
    assert.same({ rudy = "rudy_text" }, maxcut.file_fields)
    assert.same({ bqp = "bqp_text" }, qubo.file_fields)
    for path_field, text_field in pairs(tsp.file_fields) do
      assert.is_true(tsp.fields[path_field] and tsp.fields[text_field])
    end
  end)

  it("lists no path fields for the other built-in plugins", function()
    for _, name in ipairs{ "ising", "knapsack", "number_partitioning",
                           "graph_coloring", "max_independent_set" } do
      assert.same({}, files.fields(name), name)
    end
  end)
end)

describe("tsplib_text", function()
  it("builds the same model as the file", function()
    for _, path in ipairs{ BERLIN52, GR24 } do
      local a, ea = tsp.encode{ tsplib = path }
      local b, eb = tsp.encode{ tsplib_text = slurp(path) }
      assert.equal(a:hash(), b:hash())
      assert.equal(a:name(), b:name())
      assert.equal(ea.n, eb.n)
      assert.equal("tsplib_text", eb.source)
    end
  end)

  it("solves like the file, with the same tour and energy", function()
    local function run(field, value)
      return submit{ problem_type = "tsp", [field] = value, seed = 3,
                     sweeps = 300, solver = "cpu" }
    end
    local a = run("tsplib", GR24)
    local b = run("tsplib_text", slurp(GR24))
    assert.equal("succeeded", b.status)
    assert.same(a.tour, b.tour)
    assert.equal(a.energy, b.energy)
    assert.equal(a.model_hash, b.model_hash)
    assert.equal("gr24", b.instance)
    assert.equal(b.energy, tsp.energy({ tsplib_text = slurp(GR24) },
                                      b.tour))
  end)

  it("reaches berlin52's optimum 7542", function()
    local res = submit{ problem_type = "tsp", tsplib_text = slurp(BERLIN52),
                        seed = 1, target_energy = 7542, time_limit = 20,
                        solver = "cpu" }
    assert.equal(7542, res.energy)
    assert.equal("berlin52", res.instance)
  end)

  it("gives the file's errors, labelled tsplib_text", function()
    local cases = listing(TESTDATA .. "/tsplib_bad", ".tsp")
    assert.is_true(#cases > 0)
    for _, path in ipairs(cases) do
      local a = verr(tsp.encode, { tsplib = path })
      local b = verr(tsp.encode, { tsplib_text = slurp(path) })
      assert.equal("tsplib", a.field)
      assert.equal("tsplib_text", b.field)
      assert.equal(replace(a.message, path, "tsplib_text"), b.message)
      assert.matches("^tsplib_text:%d+: ", b.message)
    end
  end)

  it("names the line of a bad text", function()
    local text = "NAME: t\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: " ..
                 "EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 1 x\n3 2 2\nEOF\n"
    local err = verr(client.optimize.tsp, client.optimize,
                     { tsplib_text = text, sweeps = 1 })
    assert.equal("tsplib_text", err.field)
    assert.matches("^tsplib_text:7: ", err.message)
  end)

  it("needs three cities, like the file", function()
    local text = "NAME: t\nTYPE: TSP\nDIMENSION: 2\nEDGE_WEIGHT_TYPE: " ..
                 "EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 1 1\nEOF\n"
    local err = verr(tsp.encode, { tsplib_text = text })
    assert.equal("tsplib_text", err.field)
    assert.matches("^tsplib_text:3: DIMENSION 2 is too small", err.message)
  end)

  it("takes only one source, and a non-empty string", function()
    local e = verr(tsp.validate, { tsplib = GR24, tsplib_text = "x" })
    assert.equal("tsplib_text", e.field)
    assert.matches("tsplib is given too", e.message)
    e = verr(tsp.validate, { coordinates = { { 0, 0 } }, tsplib_text = "x" })
    assert.equal("tsplib_text", e.field)
    assert.equal("tsplib_text", verr(tsp.validate, { tsplib_text = "" }).field)
    assert.equal("tsplib_text", verr(tsp.validate, { tsplib_text = 3 }).field)
  end)
end)

describe("rudy_text", function()
  it("reads the same graph as the file", function()
    for _, path in ipairs(listing(TESTDATA .. "/rudy_ok", ".rudy")) do
      assert.same(maxcut.read_rudy(path), maxcut.read_rudy_text(slurp(path)))
    end
  end)

  it("gives the file's errors, labelled rudy_text", function()
    local cases = listing(TESTDATA .. "/rudy_bad", ".rudy")
    assert.is_true(#cases > 0)
    for _, path in ipairs(cases) do
      local a = verr(maxcut.read_rudy, path)
      local b = verr(maxcut.read_rudy_text, slurp(path))
      assert.equal("rudy_text", b.field)
      assert.equal(replace(a.message, path, "rudy_text"), b.message)
      assert.matches("^rudy_text:%d+: ", b.message)
    end
  end)

  it("cuts G1 like the file", function()
    local function run(field, value)
      return submit{ problem_type = "maxcut", [field] = value, seed = 2,
                     sweeps = 100, solver = "cpu" }
    end
    local a = run("rudy", G1)
    local b = run("rudy_text", slurp(G1))
    assert.equal("succeeded", b.status)
    assert.equal(a.cut, b.cut)
    assert.same(a.solution, b.solution)
    assert.equal(a.model_hash, b.model_hash)
    assert.equal(b.cut, maxcut.energy({ rudy_text = slurp(G1) }, b.solution))
  end)

  it("names the field and the line of a bad text", function()
    local err = verr(client.optimize.maxcut, client.optimize,
                     { rudy_text = "3 2\n1 2 1\n2 2 1\n", sweeps = 1 })
    assert.equal("rudy_text", err.field)
    assert.matches("^rudy_text:3: ", err.message)
  end)

  it("takes one source", function()
    assert.equal("rudy_text", verr(maxcut.validate,
      { rudy = G1, rudy_text = "1 0\n" }).field)
    assert.equal("edges", verr(maxcut.validate,
      { rudy_text = "1 0\n", edges = {} }).field)
    assert.equal("n", verr(maxcut.validate, { rudy_text = "1 0\n", n = 1 })
      .field)
    assert.equal("rudy_text", verr(maxcut.validate, { rudy_text = {} }).field)
  end)
end)

describe("bqp_text", function()
  it("reads the same instances as the file", function()
    for _, path in ipairs(listing(TESTDATA .. "/bqp_ok", ".txt")) do
      assert.same(qubo.read_bqp(path, 1), qubo.read_bqp_text(slurp(path), 1))
    end
    assert.same(qubo.read_bqp(BQP50, 4), qubo.read_bqp_text(slurp(BQP50), 4))
  end)

  it("gives the file's errors, labelled bqp_text", function()
    local cases = listing(TESTDATA .. "/bqp_bad", ".txt")
    assert.is_true(#cases > 0)
    for _, path in ipairs(cases) do
      local a = verr(qubo.read_bqp, path, 1)
      local b = verr(qubo.read_bqp_text, slurp(path), 1)
      assert.equal(a.field == "bqp" and "bqp_text" or a.field, b.field)
      assert.equal(replace(a.message, path, "bqp_text"), b.message)
    end
  end)

  it("solves instance 3 of bqp50 like the file", function()
    local function run(field, value)
      return submit{ problem_type = "qubo", [field] = value, instance = 3,
                     seed = 5, sweeps = 200, solver = "cpu" }
    end
    local a = run("bqp", BQP50)
    local b = run("bqp_text", slurp(BQP50))
    assert.equal("succeeded", b.status)
    assert.equal("maximize", b.sense)
    assert.equal(a.objective, b.objective)
    assert.equal(a.energy, b.energy)
    assert.same(a.solution, b.solution)
    assert.equal(a.model_hash, b.model_hash)
    assert.equal(b.objective, qubo.energy({ bqp_text = slurp(BQP50),
                                            instance = 3 }, b.solution))
  end)

  it("names instance when it is out of range", function()
    local err = verr(client.optimize.qubo, client.optimize,
                     { bqp_text = slurp(BQP50), instance = 11, sweeps = 1 })
    assert.equal("instance", err.field)
    assert.matches("^bqp_text:%d+: instance 11 out of range", err.message)
  end)

  it("names the field and the line of a bad text", function()
    local err = verr(client.optimize.qubo, client.optimize,
                     { bqp_text = "1\n2 2\n1 2 3\n1 x 1\n", sweeps = 1 })
    assert.equal("bqp_text", err.field)
    assert.matches("^bqp_text:4: ", err.message)
  end)

  it("takes one source; instance goes with bqp or bqp_text", function()
    assert.equal("bqp_text", verr(qubo.validate,
      { bqp = BQP50, bqp_text = "x" }).field)
    assert.equal("bqp_text", verr(qubo.validate,
      { Q = { { 0, 0, 1 } }, bqp_text = "x" }).field)
    assert.equal("instance", verr(qubo.validate,
      { Q = { { 0, 0, 1 } }, instance = 1 }).field)
    assert.equal("n", verr(qubo.validate, { bqp_text = "x", n = 2 }).field)
    qubo.validate{ bqp_text = "x", instance = 2 }
  end)
end)

describe("files.inline", function()
  it("replaces each path field by its text field", function()
    local payload = { tsplib = GR24, name = "g" }
    local out = files.inline(tsp, payload)
    assert.same({ tsplib_text = slurp(GR24), name = "g" }, out)
    assert.same({ tsplib = GR24, name = "g" }, payload)
    assert.same({ rudy_text = slurp(G1) }, files.inline("maxcut",
                                                        { rudy = G1 }))
    assert.same({ bqp_text = slurp(BQP50), instance = 2 },
                files.inline(qubo, { bqp = BQP50, instance = 2 }))
  end)

  it("leaves payloads without file fields as they are", function()
    local m = { { 0, 1, 2 }, { 1, 0, 3 }, { 2, 3, 0 } }
    local out = files.inline(tsp, { distance_matrix = m })
    assert.same({ distance_matrix = m }, out)
    assert.same({ h = { 1 } }, files.inline("ising", { h = { 1 } }))
    assert.same({ tsplib_text = "x" }, files.inline(tsp,
                                                   { tsplib_text = "x" }))
  end)

  it("solves the inlined payload like the file", function()
    local sub = files.inline(tsp, { problem_type = "tsp", tsplib = GR24,
                                    seed = 3, sweeps = 300,
                                    solver = "cpu" })
    local a = submit(sub)
    local b = submit{ problem_type = "tsp", tsplib = GR24, seed = 3,
                      sweeps = 300, solver = "cpu" }
    assert.same(b.tour, a.tour)
    assert.equal(b.energy, a.energy)
  end)

  it("names the field and the path of a file it cannot read", function()
    local path = DATA .. "/no/such/file.tsp"
    local err = verr(files.inline, tsp, { tsplib = path })
    assert.equal("tsplib", err.field)
    assert.matches("cannot read", err.message)
    assert.truthy(err.message:find(path, 1, true))
    err = verr(files.inline, "qubo", { bqp = DATA })
    assert.equal("bqp", err.field)
    assert.truthy(err.message:find(DATA, 1, true))
    assert.equal("rudy", verr(files.inline, maxcut, { rudy = 7 }).field)
  end)

  it("refuses a path field with its text field", function()
    local err = verr(files.inline, tsp, { tsplib = GR24, tsplib_text = "x" })
    assert.equal("tsplib_text", err.field)
  end)

  it("raises for an unknown problem type", function()
    assert.equal("problem_type", verr(files.inline, "nope", {}).field)
  end)
end)

describe("server.submit", function()
  it("refuses file paths, naming the field", function()
    local cases = {
      { problem_type = "tsp", tsplib = "/etc/passwd" },
      { problem_type = "maxcut", rudy = "/etc/passwd" },
      { problem_type = "qubo", bqp = "/etc/passwd", instance = 1 },
      { problem_type = "tsp", params = { sweeps = 1 }, tsplib = GR24 },
    }
    local fields = { "tsplib", "rudy", "bqp", "tsplib" }
    for k, sub in ipairs(cases) do
      local err = verr(server.submit, sub)
      assert.equal(fields[k], err.field)
      assert.matches("file paths are not accepted over HTTP; send the " ..
                     "file's contents as " .. fields[k] .. "_text",
                     err.message)
      assert.is_nil(err.message:find("root:", 1, true))
    end
    local err = verr(server.submit, { problem_type = "tsp",
                                      tsplib = "/etc/passwd" })
    assert.equal("tsplib: file paths are not accepted over HTTP; send " ..
                 "the file's contents as tsplib_text (or POST the TSPLIB " ..
                 "file as the request body)",
                 (tostring(err):gsub("^ValidationError: ", "")))
  end)

  it("takes the contents as text fields", function()
    local job, info = server.submit{ problem_type = "tsp",
                                     tsplib_text = slurp(GR24),
                                     params = { sweeps = 50, seed = 1,
                                                solver = "cpu" } }
    assert.equal("tsp", info.problem_type)
    job:wait()
    local res = server.result(info.id)
    assert.equal("gr24", res.instance)
    assert.equal(res.energy, tsp.energy({ tsplib = GR24 }, res.tour))
    server.forget(info.id)
  end)
end)
