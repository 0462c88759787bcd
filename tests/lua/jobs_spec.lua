-- Specs for jobs on the local engine, end to end: streaming, cancel,
-- wait, results, reproducibility, units; and the job wrapper's error
-- handling against a stub engine job.

local nerox = require "nerox"
local Job = require "nerox.job"
local tsp = require "nerox.plugins.tsp"

local DATA = os.getenv("NEROX_DATA_DIR")
local BERLIN = DATA .. "/tsplib/berlin52.tsp"
local GR24 = DATA .. "/tsplib/gr24.tsp"

local client = nerox.Client()

-- n points on a circle of radius r: the optimal tour is the polygon.
local function circle(n, r)
  local pts = {}
  for i = 1, n do
    local a = 2 * math.pi * (i - 1) / n
    pts[i] = { r * math.cos(a), r * math.sin(a) }
  end
  return pts, n * 2 * r * math.sin(math.pi / n)
end

-- A symmetric matrix of non-integer distances (Euclidean on a grid).
local function float_matrix(n)
  local m = {}
  for i = 1, n do
    m[i] = {}
    for j = 1, n do
      local dx, dy = (i % 4) - (j % 4), (i // 4) - (j // 4)
      m[i][j] = math.sqrt(dx * dx + dy * dy) * 1.37
    end
  end
  return m
end

describe("jobs on the local engine", function()
  it("streams events with increasing seq and one final event", function()
    local job = client.optimize:tsp{ tsplib = BERLIN, time_limit = 0.5,
                                     seed = 7 }
    assert.matches("^job%-%d+$", job.id)
    local last, finals, best = 0, 0, math.huge
    local final
    for ev in job:stream() do
      assert.is_true(ev.seq > last, "seq goes up")
      last = ev.seq
      assert.is_true(ev.best_energy <= best, "best never worsens")
      best = ev.best_energy
      if ev.final then finals = finals + 1; final = ev end
    end
    assert.equal(1, finals)
    assert.equal("succeeded", final.type)
    assert.equal("succeeded", job:status())
    local res = job:result()
    assert.equal(best, res.energy)
    -- a late consumer sees the same history, and can resume
    local again = {}
    for ev in job:stream() do again[#again + 1] = ev.seq end
    assert.equal(last, again[#again])
    local tail = {}
    for ev in job:stream{ after = last - 1 } do tail[#tail + 1] = ev end
    assert.equal(1, #tail)
    assert.is_true(tail[1].final)
    assert.equal(last, #job:events(0))
  end)

  it("keeps the best tour when cancelled", function()
    local job = client.optimize:tsp{ tsplib = BERLIN, time_limit = 30 }
    local seen
    for ev in job:stream() do
      seen = ev
      if ev.seq >= 3 then break end
    end
    local t0 = os.time()
    assert.is_true(job:cancel())
    assert.is_true(os.time() - t0 <= 2)
    assert.equal("cancelled", job:status())
    local res = job:result()
    assert.equal("cancelled", res.status)
    assert.equal("cancel", res.stop)
    assert.is_true(tsp.is_tour(res.tour, 52))
    assert.is_true(res.energy <= seen.best_energy)
    assert.equal(res.energy, tsp.energy({ tsplib = BERLIN }, res.tour))
    assert.is_false(job:cancel())
  end)

  it("raises TimeoutError from wait and keeps the job running", function()
    local job = client.optimize:tsp{ tsplib = BERLIN, time_limit = 20 }
    local ok, err = pcall(job.wait, job, { timeout = 0.2 })
    assert.is_false(ok)
    assert.is_true(nerox.is(err, nerox.TimeoutError), tostring(err))
    assert.equal(job.id, err.job_id)
    assert.is_true(job:status() == "running" or job:status() == "queued")
    ok, err = pcall(job.result, job)
    assert.is_false(ok)
    assert.is_true(nerox.is(err, nerox.ConflictError), tostring(err))
    job:cancel()
    assert.equal("cancelled", job:wait{ timeout = 5 }.status)
  end)

  it("repeats a sweep-limited run with the same seed", function()
    local function run()
      return client.optimize:tsp{ tsplib = GR24, sweeps = 300, seed = 42,
                                  replicas = 4 }:wait{ timeout = 30 }
    end
    local a, b = run(), run()
    assert.equal("succeeded", a.status)
    assert.equal("sweeps", a.stop)
    assert.equal(300, a.sweeps)
    assert.equal(4, a.replicas)
    assert.equal(42, a.seed)
    assert.same(a.tour, b.tour)
    assert.equal(a.energy, b.energy)
    assert.equal(a.model_hash, b.model_hash)
  end)

  it("carries what is needed to trust and repeat a result", function()
    local res = client.optimize:tsp{ tsplib = GR24, sweeps = 100,
                                     solver = "cpu" }:wait()
    assert.equal("tsp", res.problem_type)
    assert.equal("gr24", res.instance)
    assert.equal("cpu", res.solver)
    assert.matches("^cpu", res.device)
    assert.equal(nerox.version(), res.version)
    assert.equal("0.1.0", res.version)
    assert.equal("string", type(res.model_hash))
    assert.equal("integer", math.type(res.seed))
    assert.equal("number", type(res.queued_s))
    assert.equal("number", type(res.run_s))
    assert.equal(res.energy, res.objective)
    assert.equal(res.energy, tsp.energy({ tsplib = GR24 }, res.solution))
    assert.is_true(res.energy >= 1272)
  end)

  it("stops at target_energy", function()
    local res = client.optimize:tsp{ tsplib = GR24, target_energy = 1400,
                                     time_limit = 10 }:wait()
    assert.equal("target", res.stop)
    assert.is_true(res.energy <= 1400)
  end)

  it("reports float-matrix energies in the caller's units", function()
    local m = float_matrix(12)
    local job = client.optimize:tsp{ distance_matrix = m, sweeps = 400,
                                     seed = 1 }
    local best
    for ev in job:stream() do best = ev.best_energy end
    local res = job:result()
    local length = 0
    for k = 1, 12 do
      length = length + m[res.tour[k] + 1][res.tour[k % 12 + 1] + 1]
    end
    assert.equal("float", math.type(res.energy))
    assert.near(length, res.energy, 1e-9)
    -- events are scaled back too (to within the kernel's rounding)
    assert.near(res.energy, best, 12 / 1e6)
    assert.is_true(res.energy >= 12 * 1.37 - 1e-9)
  end)

  it("solves coordinates with Euclidean distances", function()
    local pts, optimum = circle(16, 10)
    local res = client.optimize:tsp{ coordinates = pts, sweeps = 2000,
                                     seed = 3 }:wait()
    assert.is_true(tsp.is_tour(res.tour, 16))
    assert.is_true(res.energy >= optimum - 1e-9)
    assert.near(optimum, res.energy, optimum * 0.01)
  end)

  it("gives the same tour on the gpu and the cpu", function()
    local function run(solver)
      return client.optimize:tsp{ tsplib = GR24, sweeps = 300, seed = 11,
                                  replicas = 5, solver = solver }:wait()
    end
    local cpu, gpu = run("cpu"), run("gpu")
    assert.equal("cpu", cpu.solver)
    assert.equal("gpu", gpu.solver)
    assert.matches("^gpu: ", gpu.device)
    assert.equal(cpu.energy, gpu.energy)
    assert.same(cpu.tour, gpu.tour)
    assert.equal(cpu.model_hash, gpu.model_hash)
  end)

  it("says which backend auto chose and why", function()
    local res = client.optimize:tsp{ tsplib = GR24, sweeps = 50,
                                     solver = "auto" }:wait()
    assert.is_true(res.solver == "cpu" or res.solver == "gpu")
    assert.matches("^" .. res.solver .. ": ", res.solver_reason)
  end)

  it("runs through optimize:submit as well", function()
    local res = client.optimize:submit{ problem_type = "tsp",
      distance_matrix = { { 0, 2, 9, 10 }, { 2, 0, 6, 4 }, { 9, 6, 0, 8 },
                          { 10, 4, 8, 0 } }, sweeps = 200 }:wait()
    assert.equal(23, res.energy)
    assert.equal("integer", math.type(res.energy))
  end)
end)

-- A stub of a core job, to drive the wrapper into states a real run
-- reaches only by accident.
local function stub_job(state, result)
  return {
    id = function() return "job-stub" end,
    state = function() return state end,
    wait = function() return state ~= "running" end,
    result = function() return result end,
    cancel = function() return false end,
  }
end

local function wrap(core_job)
  return Job.new{ core_job = core_job, plugin = tsp, problem_type = "tsp",
                  payload = { distance_matrix = { { 0, 1, 1 }, { 1, 0, 1 },
                                                  { 1, 1, 0 } } },
                  enc = { scale = 1, n = 3 } }
end

describe("job wrapper", function()
  it("raises JobFailedError for a failed job", function()
    local job = wrap(stub_job("failed", { status = "failed", tour = {},
                                          error = "out of memory" }))
    local ok, err = pcall(job.wait, job)
    assert.is_false(ok)
    assert.is_true(nerox.is(err, nerox.JobFailedError))
    assert.matches("out of memory", err.message)
    assert.equal("job-stub", err.job_id)
    assert.equal("failed", err.result.status)
    ok, err = pcall(job.result, job)
    assert.is_true(nerox.is(err, nerox.JobFailedError))
  end)

  it("raises ConflictError for the result of a running job", function()
    local job = wrap(stub_job("running", nil))
    local ok, err = pcall(job.result, job)
    assert.is_false(ok)
    assert.is_true(nerox.is(err, nerox.ConflictError))
    assert.matches("running", err.message)
  end)

  it("checks the wait timeout", function()
    local job = wrap(stub_job("running", nil))
    local ok, err = pcall(job.wait, job, { timeout = "soon" })
    assert.is_false(ok)
    assert.equal("timeout", err.field)
    ok, err = pcall(job.wait, job, 0.01)
    assert.is_true(nerox.is(err, nerox.TimeoutError))
  end)
end)
