-- Specs from adversarial testing: odd payloads, parameters and calls that
-- once crashed, hung, failed late or gave a wrong answer. Each must now
-- raise a ValidationError naming the field, or give the right result.

local nerox = require "nerox"
local spec_util = require "spec_util"
local core = require "nerox.core"

local client = nerox.Client()
local SQ = { { 0, 1, 2 }, { 1, 0, 3 }, { 2, 3, 0 } }

local function reject(payload, field)
  return spec_util.rejects(function(p) return client.optimize:tsp(p) end,
                           payload, field)
end

local function solve(payload)
  payload.sweeps = payload.sweeps or 20
  payload.seed = payload.seed or 1
  return client.optimize:tsp(payload):wait(10)
end

local function sym(a, b)
  return { { 0, a, 2 }, { a, 0, b }, { 2, b, 0 } }
end

describe("payload lists", function()
  it("names a hole in the matrix", function()
    reject({ distance_matrix = { SQ[1], nil, SQ[3] } }, "distance_matrix[2]")
  end)
  it("refuses keys beyond the length", function()
    local m = { SQ[1], SQ[2], SQ[3], [5] = { 1 } }
    local err = reject({ distance_matrix = m }, "distance_matrix")
    assert.matches("key 5", err.message)
  end)
  it("refuses named keys in a row and in a pair", function()
    local m = { SQ[1], { 1, 0, 3, extra = 9 }, SQ[3] }
    reject({ distance_matrix = m }, "distance_matrix[2]")
    reject({ coordinates = { { 0, 0 }, { 1, 0, z = 1 }, { 0, 1 } } },
           "coordinates[2]")
  end)
end)

describe("extreme numbers", function()
  it("integer distances up to 2^31 - 1 are used as they are", function()
    assert.equal(2147483647 + 5, solve{ distance_matrix = sym(2147483647, 3)
                                        }.energy)
    assert.equal(1000000005, solve{ distance_matrix = sym(1000000000, 3)
                                  }.energy)
  end)
  it("math.maxinteger distances are refused, not summed inexactly",
     function()
    -- once they wrapped to a negative length, then summed in a double
    local err = reject({ distance_matrix = sym(math.maxinteger, 3) },
                       "distance_matrix[1][2]")
    assert.matches("2%^53", err.message)
  end)
  it("huge coordinates give a finite length", function()
    local r = solve{ coordinates = { { 0, 0 }, { 1e300, 0 }, { 0, 1e300 } } }
    assert.is_true(r.energy > 3.4e300 and r.energy < math.huge,
                   tostring(r.energy))
  end)
  it("coordinates whose distances overflow are refused", function()
    reject({ coordinates = { { -1e308, 0 }, { 1e308, 0 }, { 0, 1 } } },
           "coordinates")
  end)
  it("a target beyond the integers stops at once or never", function()
    local r = solve{ distance_matrix = SQ, target_energy = 1e300,
                     sweeps = 1000000, time_limit = 5 }
    assert.equal("target", r.stop)
    r = solve{ distance_matrix = SQ, target_energy = -1e300,
               sweeps = 50 }
    assert.equal("sweeps", r.stop)
  end)
  it("replicas above the kernel's limit are refused up front", function()
    reject({ distance_matrix = SQ, replicas = 257 }, "replicas")
    assert.equal(256, solve{ distance_matrix = SQ, replicas = 256 }.replicas)
  end)
end)

describe("nerox.core messages", function()
  it("name the limit instead of a format error", function()
    local ok, err = pcall(core.perm_model,
                          { n = 3, coords = { 0, 0, 1, 0, 0, 1 }, scale = 0 })
    assert.is_false(ok)
    assert.matches("scale: expected a number in %(0, 1e9%]", err)
    local m = core.perm_model{ n = 3, matrix = { 0, 1, 2, 1, 0, 3, 2, 3, 0 } }
    ok, err = pcall(core.submit, m, { time_limit = -1 })
    assert.is_false(ok)
    assert.matches("time_limit: expected seconds in %(0, 86400%]", err)
  end)
  it("a finalized model or job is closed, not freed memory", function()
    local m = core.perm_model{ n = 3, matrix = { 0, 1, 2, 1, 0, 3, 2, 3, 0 } }
    assert.equal("nerox.model", getmetatable(m))
    debug.getmetatable(m).__gc(m)
    local ok, err = pcall(m.n, m)
    assert.is_false(ok)
    assert.matches("closed", err)
    local j = core.submit(core.perm_model{ n = 3,
      matrix = { 0, 1, 2, 1, 0, 3, 2, 3, 0 } }, { sweeps = 5 })
    debug.getmetatable(j).__gc(j)
    ok, err = pcall(j.state, j)
    assert.is_false(ok)
    assert.matches("closed", err)
  end)
end)

describe("job calls", function()
  local job = client.optimize:tsp{ distance_matrix = SQ, sweeps = 5 }
  job:wait(10)

  it("with a dot name the mistake", function()
    for _, name in ipairs{ "status", "done", "stream", "events", "cancel",
                           "wait", "result" } do
      local ok, err = pcall(job[name])
      assert.is_false(ok)
      assert.is_true(nerox.is(err, nerox.ValidationError), tostring(err))
      assert.matches("job:" .. name, err.message)
    end
  end)
  it("check their arguments", function()
    local function bad(fn, field)
      local ok, err = pcall(fn)
      assert.is_false(ok)
      assert.is_true(nerox.is(err, nerox.ValidationError), tostring(err))
      assert.equal(field, err.field)
    end
    bad(function() job:events("x") end, "after")
    bad(function() job:events(1e300) end, "after")
    bad(function() for _ in job:stream{ timeout = -1 } do end end, "timeout")
    bad(function() job:stream(5) end, "options")
  end)
  it("wait with an enormous timeout returns when the job ends", function()
    local j = client.optimize:tsp{ distance_matrix = SQ, sweeps = 5 }
    local t0 = core.clock()
    assert.equal("succeeded", j:wait(1e300).status)
    local n = 0
    for _ in j:stream{ timeout = 1e300 } do n = n + 1 end
    assert.is_true(n >= 1)
    assert.is_true(core.clock() - t0 < 5)
  end)
  it("cancel twice and stream twice after the end", function()
    assert.is_false(job:cancel())
    assert.is_false(job:cancel())
    local a, b = 0, 0
    for _ in job:stream() do a = a + 1 end
    for _ in job:stream() do b = b + 1 end
    assert.equal(a, b)
  end)
end)
