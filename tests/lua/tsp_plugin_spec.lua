-- Specs for plugins/tsp.lua: scaling, encode, decode, energy.

local tsp = require "nerox.plugins.tsp"
local core = require "nerox.core"

local DATA = os.getenv("NEROX_DATA_DIR")

local function identity(n)
  local t = {}
  for i = 1, n do t[i] = i - 1 end
  return t
end

describe("tsp plugin", function()
  it("has the plugin shape", function()
    assert.equal("tsp", tsp.name)
    for _, fn in ipairs{ "validate", "encode", "decode", "energy" } do
      assert.equal("function", type(tsp[fn]))
    end
  end)

  describe("scale_for", function()
    it("keeps integer distances as they are", function()
      assert.equal(1, tsp.scale_for(1000, true))
      assert.equal(1, tsp.scale_for(tsp.MAX_INT_DISTANCE, true))
    end)

    it("keeps 6 decimals for small non-integer distances", function()
      assert.equal(1000000, tsp.scale_for(1.5, false))
      assert.equal(1000000, tsp.scale_for(0, false))
    end)

    it("picks the largest 10^p keeping max * scale <= 2^28", function()
      assert.equal(100000, tsp.scale_for(1000, false))   -- 1e8 <= 2.7e8
      assert.equal(10000, tsp.scale_for(10000, false))   -- 1e8
      assert.equal(1000, tsp.scale_for(100000, false))
      assert.equal(1, tsp.scale_for(2.5e8, false))
      assert.near(0.1, tsp.scale_for(1e9, false), 1e-12)
      assert.near(0.01, tsp.scale_for(1e10, true), 1e-12)
      for _, maxd in ipairs{ 0.3, 7.7, 268.4, 268.5, 3e5, 1.2e7 } do
        assert.is_true(maxd * tsp.scale_for(maxd, false) <= tsp.MAX_SCALED)
        assert.is_true(maxd * tsp.scale_for(maxd, false) * 10 >
                       tsp.MAX_SCALED or tsp.scale_for(maxd, false) ==
                       10 ^ tsp.MAX_PRECISION)
      end
    end)
  end)

  describe("encode", function()
    it("encodes an integer matrix exactly", function()
      local m = { { 0, 3, 4 }, { 3, 0, 5 }, { 4, 5, 0 } }
      tsp.validate{ distance_matrix = m }
      local model, enc = tsp.encode{ distance_matrix = m }
      assert.equal(1, enc.scale)
      assert.equal(3, model:n())
      assert.equal(5, model:dist(1, 2))
      assert.equal(12, model:tour_length{ 0, 1, 2 })
    end)

    it("scales a float matrix to integers", function()
      local m = { { 0, 1.25, 2.5 }, { 1.25, 0, 0.125 }, { 2.5, 0.125, 0 } }
      local model, enc = tsp.encode{ distance_matrix = m }
      assert.equal(1000000, enc.scale)
      assert.equal(1250000, model:dist(0, 1))
      assert.equal(125000, model:dist(2, 1))
    end)

    it("encodes coordinates with Euclidean, unrounded distances", function()
      local c = { { 0, 0 }, { 3, 4 }, { 3, 0 } }
      local model, enc = tsp.encode{ coordinates = c }
      assert.equal(1000000, enc.scale)
      assert.equal(5000000, model:dist(0, 1))
      assert.equal(4000000, model:dist(1, 2))
    end)

    it("loads TSPLIB files with TSPLIB's distances", function()
      local model, enc = tsp.encode{ tsplib = DATA .. "/tsplib/gr24.tsp" }
      assert.equal(1, enc.scale)
      assert.equal(24, model:n())
      assert.equal("gr24", model:name())
      local opt = core.tsplib_read_tour(DATA .. "/tsplib/gr24.opt.tour")
      assert.equal(1272, model:tour_length(opt))
    end)

    it("gives the same model hash for the same model", function()
      local m = { { 0, 3, 4 }, { 3, 0, 5 }, { 4, 5, 0 } }
      local a = tsp.encode{ distance_matrix = m }
      local b = tsp.encode{ distance_matrix = m }
      assert.equal(a:hash(), b:hash())
      m[1][2], m[2][1] = 6, 6
      assert.are_not.equal(a:hash(), tsp.encode{ distance_matrix = m }:hash())
    end)
  end)

  describe("decode and energy", function()
    it("recomputes float energies in the caller's units", function()
      local m = { { 0, 1.25, 2.5 }, { 1.25, 0, 0.125 }, { 2.5, 0.125, 0 } }
      local payload = { distance_matrix = m }
      local _, enc = tsp.encode(payload)
      local res = tsp.decode(payload, { tour = { 0, 2, 1 },
                                        energy = 3875000 }, enc)
      assert.near(3.875, res.energy, 1e-12)
      assert.equal(res.energy, res.objective)
      assert.same({ 0, 2, 1 }, res.solution)
      assert.equal(res.solution, res.tour)
    end)

    it("measures coordinates tours exactly", function()
      local payload = { coordinates = { { 0, 0 }, { 3, 4 }, { 3, 0 } },
                        name = "triangle" }
      local _, enc = tsp.encode(payload)
      local res = tsp.decode(payload, { tour = { 0, 1, 2 } }, enc)
      assert.near(12, res.energy, 1e-12)
      assert.equal("triangle", res.instance)
    end)

    it("names TSPLIB instances and uses TSPLIB lengths", function()
      local payload = { tsplib = DATA .. "/tsplib/berlin52.tsp" }
      local _, enc = tsp.encode(payload)
      local opt = core.tsplib_read_tour(DATA .. "/tsplib/berlin52.opt.tour")
      local res = tsp.decode(payload, { tour = opt }, enc)
      assert.equal("berlin52", res.instance)
      assert.equal(7542, res.energy)
      assert.equal(7542, tsp.energy(payload, opt))
    end)

    it("refuses a tour that is not a permutation", function()
      local payload = { distance_matrix = { { 0, 1, 1 }, { 1, 0, 1 },
                                            { 1, 1, 0 } } }
      local _, enc = tsp.encode(payload)
      assert.has_error(function()
        tsp.decode(payload, { tour = { 0, 0, 1 } }, enc)
      end)
      assert.is_true(tsp.is_tour(identity(3), 3))
      assert.is_false(tsp.is_tour({ 0, 1, 3 }, 3))
      assert.is_false(tsp.is_tour({ 0, 1 }, 3))
    end)

    it("leaves out the tour of a run that produced none", function()
      local payload = { distance_matrix = { { 0, 1, 1 }, { 1, 0, 1 },
                                            { 1, 1, 0 } } }
      local _, enc = tsp.encode(payload)
      local res = tsp.decode(payload, { tour = {} }, enc)
      assert.is_nil(res.solution)
      assert.is_nil(res.energy)
    end)
  end)
end)
