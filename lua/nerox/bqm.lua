-- Binary quadratic models for the plugins of the `binary` kernel (qubo,
-- ising, maxcut, knapsack, ...): a builder that collects terms in the
-- caller's own numbers, merges repeated pairs, folds x_i * x_i into the
-- linear part, scales non-integer models to kernel integers and builds
-- the nerox.core model. Also the input checks these plugins share.
--
-- The kernel minimises E(x) = offset + sum_i h_i x_i + sum_{i<j} w_ij x_i
-- x_j over x in {0,1}^n with integer h, w and offset. Integer models that
-- fit are used as they are (scale 1); any other model is multiplied by
-- 10^p, p the largest integer <= MAX_PRECISION with max |coefficient| *
-- 10^p <= MAX_SCALED, and rounded (see bqm.scale_for).

local check = require "nerox.check"

local bqm = {}

-- Largest |coupling| the kernel stores (int32).
bqm.MAX_INT_COUPLING = 0x7fffffff
-- Largest |linear term| or |offset| taken as is when the model is integral:
-- beyond 2^53 sums of the caller's numbers stop being exact in a double.
bqm.MAX_INT_LINEAR = 1 << 53
-- Largest scaled |coefficient| of a non-integer model, and the most
-- decimal digits kept (as for tsp distances).
bqm.MAX_SCALED = 1 << 28
bqm.MAX_PRECISION = 6
-- Most variables the binary kernel takes (BINARY_MAX_N in binary.h).
bqm.MAX_N = 1000000
-- Largest sum of |offset| + |h_i| + |w_ij| of a model taken at scale 1:
-- the kernel refuses rows whose |h_i| + sum_j |J_ij| add up beyond 2^61
-- (BINARY_MAX_ABS_SUM, every coupling counted in both its rows), and
-- keeps energies in int64. Larger integral models are scaled instead.
bqm.MAX_INT_SUM = 1 << 60

local Model = {}
Model.__index = Model

-- An empty model over n variables (0-based ids 0..n-1). `field` names
-- the payload field errors about the model's size blame (default
-- "payload"), e.g. "penalty" for a model its penalty makes overflow.
function bqm.new(n, field)
  local lin = {}
  for i = 1, n do lin[i] = 0 end
  return setmetatable({ n = n, lin = lin, quad = {}, offset = 0,
                        field = field or "payload" }, Model)
end

-- Sums and products of terms go through bqm.add and bqm.mul (below), so
-- integers that would wrap around become floats instead.

-- Add w * x_i * x_j (i == j is the linear term w * x_i, as x_i^2 = x_i).
function Model:add(i, j, w)
  if i == j then
    self.lin[i + 1] = bqm.add(self.lin[i + 1], w)
    return
  end
  if i > j then i, j = j, i end
  local key = i * self.n + j
  self.quad[key] = bqm.add(self.quad[key] or 0, w)
end

-- Add w * x_i.
function Model:add_linear(i, w)
  self.lin[i + 1] = bqm.add(self.lin[i + 1], w)
end

-- Add a constant.
function Model:add_offset(c)
  self.offset = bqm.add(self.offset, c)
end

-- Add penalty * (sum_k coef_k * x_{ids_k} - target)^2, expanded with
-- x^2 = x: the usual way to turn an equality constraint into energy.
function Model:add_squared(ids, coefs, target, penalty)
  local mul, add = bqm.mul, bqm.add
  self:add_offset(mul(penalty, mul(target, target)))
  for a = 1, #ids do
    local ca = coefs[a]
    self:add_linear(ids[a], mul(penalty, add(mul(ca, ca),
                                             mul(-2, mul(target, ca)))))
    for b = a + 1, #ids do
      self:add(ids[a], ids[b], mul(mul(2, penalty), mul(ca, coefs[b])))
    end
  end
end

-- The couplings as a sorted list of {i, j, w}, zero weights dropped.
function Model:pairs()
  local keys = {}
  for key, w in pairs(self.quad) do
    if w ~= 0 then keys[#keys + 1] = key end
  end
  table.sort(keys)
  local out, n = {}, self.n
  for k, key in ipairs(keys) do
    out[k] = { key // n, key % n, self.quad[key] }
  end
  return out
end

-- Largest |h_i| and |w_ij|, whether every number is an integer, and the
-- sum of |offset| + |h_i| + |w_ij| (in floating point): no energy of the
-- model is larger in magnitude.
function Model:stats()
  local maxh, maxw = 0, 0
  local integral = math.tointeger(self.offset) ~= nil
  -- abs in floating point: math.abs(math.mininteger) is negative
  local total = math.abs(self.offset + 0.0)
  for _, v in ipairs(self.lin) do
    local a = math.abs(v + 0.0)
    if a > maxh then maxh = a end
    total = total + a
    if integral and math.tointeger(v) == nil then integral = false end
  end
  for _, w in pairs(self.quad) do
    local a = math.abs(w + 0.0)
    if a > maxw then maxw = a end
    total = total + a
    if integral and math.tointeger(w) == nil then integral = false end
  end
  return maxh, maxw, integral, total
end

-- The scale mapping coefficients of at most `maxc` in magnitude to kernel
-- integers: 10^p for the largest p <= MAX_PRECISION with maxc * 10^p <=
-- MAX_SCALED (p < 0 for huge coefficients).
function bqm.scale_for(maxc)
  local p = bqm.MAX_PRECISION
  if maxc > 0 then
    p = math.min(p, math.floor(math.log(bqm.MAX_SCALED / maxc, 10)))
    while maxc * 10.0 ^ p > bqm.MAX_SCALED do p = p - 1 end
  end
  if p >= 0 then return math.tointeger(10 ^ p) end
  return 10.0 ^ p
end

-- The scale of this model: 1 when it is integral and fits the kernel.
function Model:scale()
  local maxh, maxw, integral, total = self:stats()
  if integral and maxw <= bqm.MAX_INT_COUPLING and
     maxh <= bqm.MAX_INT_LINEAR and total <= bqm.MAX_INT_SUM and
     math.abs(self.offset + 0.0) <= bqm.MAX_INT_LINEAR then
    return 1
  end
  return bqm.scale_for(math.max(maxh, maxw))
end

local function to_kernel(v, scale)
  if scale == 1 and math.tointeger(v) then return math.tointeger(v) end
  local r = math.floor(v * scale + 0.5)
  return math.tointeger(r) or error("a coefficient is too large: " .. v)
end

-- The nerox.core model and the scale used.
function Model:build()
  local _, _, _, total = self:stats()
  if total ~= total or total == math.huge then
    check.fail(self.field, "the model's coefficients overflow: the sum " ..
               "of |offset| + |linear terms| + |couplings| (penalties " ..
               "included) is beyond the range of a double, so energies " ..
               "would not be finite")
  end
  local scale = self:scale()
  local h = {}
  for i, v in ipairs(self.lin) do h[i] = to_kernel(v, scale) end
  local flat = {}
  for _, p in ipairs(self:pairs()) do
    local w = to_kernel(p[3], scale)
    if w ~= 0 then
      flat[#flat + 1], flat[#flat + 2], flat[#flat + 3] = p[1], p[2], w
    end
  end
  -- The offset is a constant that does not set the scale: refuse one the
  -- kernel's int64 energies cannot carry, naming it.
  if math.abs(self.offset * scale) > bqm.MAX_INT_LINEAR then
    check.fail("offset", "%s is too large next to the coefficients: " ..
               "|offset| * scale %s must be at most 2^53 (drop it and " ..
               "add it to the energies yourself)", self.offset, scale)
  end
  local offset = to_kernel(self.offset, scale)
  local core = require "nerox.core"
  return core.binary_model{ n = self.n, h = h, couplings = flat,
                            offset = offset }, scale
end

-- a + b, in floating point where integers would wrap around.
function bqm.add(a, b)
  if math.type(a) == "integer" and math.type(b) == "integer" and
     ((b > 0 and a > math.maxinteger - b) or
      (b < 0 and a < math.mininteger - b)) then
    return a + 0.0 + b
  end
  return a + b
end

-- a * b, in floating point where integers would wrap around (or give
-- math.mininteger, whose negation wraps).
function bqm.mul(a, b)
  if math.type(a) == "integer" and math.type(b) == "integer" and
     math.abs((a + 0.0) * b) >= 2.0 ^ 62 then
    return (a + 0.0) * b
  end
  return a * b
end

-- E(x) of a 0/1 list (x[1] is variable 0) in the model's own numbers.
function Model:energy(x)
  local e, add = self.offset, bqm.add
  for i, v in ipairs(self.lin) do
    if x[i] == 1 then e = add(e, v) end
  end
  local n = self.n
  for key, w in pairs(self.quad) do
    if x[key // n + 1] == 1 and x[key % n + 1] == 1 then e = add(e, w) end
  end
  return e
end

-- ---- input checks shared by the binary plugins ----------------------

-- A 0-based variable id in [0, n) (n may be nil: any id >= 0). `what`
-- names the thing ("vertex", "variable") in the message.
function bqm.check_id(v, field, n, what)
  check.number(v, field)
  local i = math.tointeger(v)
  if not i then check.fail(field, "expected a 0-based integer id, got %s",
                           v) end
  if i < 0 then
    check.fail(field, "%s ids are 0-based and not negative, got %d",
               what or "variable", i)
  end
  if n and i >= n then
    local hint = i == n and " (ids are 0-based: the last one is n - 1)"
                 or ""
    check.fail(field, "%s %d is out of range 0..%d%s", what or "variable",
               i, n - 1, hint)
  end
  if i >= bqm.MAX_N then
    check.fail(field, "%s %d is beyond the kernel's %d variables",
               what or "variable", i, bqm.MAX_N)
  end
  return i
end

-- An optional variable count `n` (nil stays nil).
function bqm.check_n(v, field, min)
  if v == nil then return nil end
  return check.integer(v, field, min or 1, bqm.MAX_N)
end

-- A list of {i, j, w} triples (w optional when `default_w` is given).
-- Checks the ids against n (nil: any id >= 0); `self_ok` allows i == j.
-- Returns the triples as integers/numbers and the largest id + 1.
function bqm.check_triples(list, field, n, opts)
  opts = opts or {}
  local _, count = check.list(list, field)
  local out, top = {}, 0
  for k = 1, count do
    local f = string.format("%s[%d]", field, k)
    local t = check.list(list[k], f)
    local want = opts.default_w ~= nil and "{i, j} or {i, j, w}"
                 or "{i, j, w}"
    if #t ~= 3 and not (#t == 2 and opts.default_w ~= nil) then
      check.fail(f, "expected %s, got %d values", want, #t)
    end
    local i = bqm.check_id(t[1], f .. "[1]", n, opts.what)
    local j = bqm.check_id(t[2], f .. "[2]", n, opts.what)
    local w = t[3]
    if w == nil then w = opts.default_w end
    check.number(w, f .. "[3]")
    if i == j and not opts.self_ok then
      check.fail(f, "{%d, %d} joins %s %d with itself%s", i, j,
                 opts.what or "variable", i, opts.self_hint or "")
    end
    out[k] = { i, j, math.tointeger(w) or w }
    top = math.max(top, i + 1, j + 1)
  end
  return out, top
end

-- A 0/1 list of length n, as the engine returns it.
function bqm.check_assignment(x, n, field)
  if type(x) ~= "table" or #x ~= n then
    check.fail(field or "solution", "expected %d values 0/1, got %s", n,
               type(x) == "table" and #x or check.describe(x))
  end
  for i = 1, n do
    if x[i] ~= 0 and x[i] ~= 1 then
      check.fail(string.format("%s[%d]", field or "solution", i),
                 "expected 0 or 1, got %s", check.describe(x[i]))
    end
  end
  return x
end

-- A non-empty list of finite numbers, each >= min when min is given.
function bqm.check_numbers(list, field, min)
  local _, count = check.list(list, field)
  if count == 0 then check.fail(field, "is empty") end
  for k = 1, count do
    local f = string.format("%s[%d]", field, k)
    local v = check.number(list[k], f)
    if min and v < min then
      check.fail(f, "must be at least %s, got %s", min, v)
    end
  end
  return count
end

-- The default penalty for "drop a gain of at most max(gains) or pay P":
-- strictly above every gain, and no larger than needed so the landscape
-- stays smooth for single flips. max + 1 for integers (every violation
-- then costs at least 1 more than any gain), 1.5 * max otherwise, and 1
-- when every gain is 0.
function bqm.default_penalty(gains)
  local maxg, integral = 0, true
  for _, g in ipairs(gains) do
    maxg = math.max(maxg, g)
    integral = integral and math.tointeger(g) ~= nil
  end
  if maxg <= 0 then return 1 end
  if integral then return bqm.add(math.tointeger(maxg), 1) end
  return 1.5 * maxg
end

-- A penalty weight: nil (the plugin's default) or a finite number > 0.
function bqm.check_penalty(v, field)
  if v == nil then return nil end
  check.number(v, field)
  if v <= 0 then check.fail(field, "must be positive, got %s", v) end
  return v
end

return bqm
