-- The "ising" problem type: minimise E(s) = offset + sum_i h_i s_i +
-- sum over every {i, j, J} of J * s_i * s_j, spins s in {-1, +1}, on the
-- `binary` kernel through s = 2x - 1:
--   h s_i       = 2h x_i - h
--   J s_i s_j   = 4J x_i x_j - 2J x_i - 2J x_j + J
-- so integer models map to integer QUBOs exactly.
--
-- Payload:
--   h       linear terms: a list (h[1] is spin 0), or a map from 0-based
--           spin ids to values (integer keys, or digit strings as JSON
--           objects give). A table whose keys are exactly 1..m is a list.
--   J       a list of {i, j, J} couplings (0-based, i ~= j; repeats add)
--   n       optional: spins (default: the largest id + 1)
--   offset  optional constant; name optional
-- At least one of h and J. Result: solution = spins (-1/+1 per spin,
-- 0-based order), energy = objective = E(s) (sense "minimize").

local bqm = require "nerox.bqm"
local check = require "nerox.check"

local ising = { name = "ising" }

ising.fields = { h = true, J = true, n = true, offset = true, name = true }

-- A map key as a 0-based id: integers, or strings of digits.
local function key_id(k, field)
  if type(k) == "string" and k:match("^%d+$") then k = tonumber(k) end
  return bqm.check_id(k, string.format("%s[%s]", field, tostring(k)), nil,
                      "spin")
end

-- h as {id, value} pairs, 0-based, sorted by id.
function ising.linear_terms(h)
  check.table(h, "h")
  local n, count = #h, 0
  for _ in pairs(h) do count = count + 1 end
  local out = {}
  if count == n and h[0] == nil then
    for i = 1, n do
      out[i] = { i - 1, check.number(h[i], string.format("h[%d]", i)) }
    end
    return out
  end
  for k, v in pairs(h) do
    local id = key_id(k, "h")
    out[#out + 1] = { id, check.number(v, string.format("h[%s]",
                                                         tostring(k))) }
  end
  table.sort(out, function(a, b) return a[1] < b[1] end)
  for k = 2, #out do
    if out[k][1] == out[k - 1][1] then
      check.fail("h", "spin %d is given twice", out[k][1])
    end
  end
  return out
end

-- The linear terms and couplings, checked; the number of spins.
local function terms(payload)
  local n = bqm.check_n(payload.n, "n")
  local lin = payload.h ~= nil and ising.linear_terms(payload.h) or {}
  local top = 0
  for _, t in ipairs(lin) do
    if n and t[1] >= n then
      bqm.check_id(t[1], string.format("h[%d]", t[1]), n, "spin")
    end
    top = math.max(top, t[1] + 1)
  end
  local J, jtop = {}, 0
  if payload.J ~= nil then
    J, jtop = bqm.check_triples(payload.J, "J", n, {
      what = "spin", self_hint = " (s_i * s_i = 1: put J_ii in offset)" })
  end
  n = n or math.max(top, jtop)
  if n == 0 then
    check.fail("h", "the model is empty: give h, J or n")
  end
  return lin, J, n
end

function ising.validate(payload)
  check.table(payload, "payload")
  check.known_keys(payload, ising.fields)
  if payload.name ~= nil and type(payload.name) ~= "string" then
    check.fail("name", "expected a string, got %s",
               check.describe(payload.name))
  end
  if payload.offset ~= nil then check.number(payload.offset, "offset") end
  if payload.h == nil and payload.J == nil and payload.n == nil then
    check.fail("h", "required: give h, J or both")
  end
  local lin, J = terms(payload)
  -- E(s) adds or subtracts the offset, every h and every J: their
  -- absolute values must add up to a finite, exact total (check.total)
  local total = check.total("the sum of |offset| + |h| + |J|")
  if payload.offset ~= nil then total:add(payload.offset, "offset") end
  -- a list h names spin i as h[i + 1], a map as h[i]
  local base = (payload.h ~= nil and payload.h[1] ~= nil and
                #lin == #payload.h) and 1 or 0
  for _, t in ipairs(lin) do
    total:add(t[2], string.format("h[%d]", t[1] + base))
  end
  for k, t in ipairs(J) do
    total:add(t[3], string.format("J[%d][3]", k))
  end
  total:done()
end

-- The QUBO of the payload, through s = 2x - 1.
function ising.to_qubo(payload)
  local lin, J, n = terms(payload)
  local m = bqm.new(n, payload.J ~= nil and "J" or "h")
  m:add_offset(payload.offset or 0)
  for _, t in ipairs(lin) do
    m:add_linear(t[1], bqm.mul(2, t[2]))
    m:add_offset(bqm.mul(-1, t[2]))
  end
  for _, t in ipairs(J) do
    local i, j, w = t[1], t[2], t[3]
    m:add(i, j, bqm.mul(4, w))
    m:add_linear(i, bqm.mul(-2, w))
    m:add_linear(j, bqm.mul(-2, w))
    m:add_offset(w)
  end
  return m, lin, J
end

function ising.encode(payload)
  local m, lin, J = ising.to_qubo(payload)
  local model, scale = m:build()
  return model, { scale = scale, n = m.n, lin = lin, J = J }
end

-- E(s) in the caller's numbers; `enc` (from encode) saves re-checking.
function ising.energy(payload, s, enc)
  local lin, J
  if enc then lin, J = enc.lin, enc.J else
    local _
    lin, J, _ = terms(payload)
  end
  local e = payload.offset or 0
  for _, t in ipairs(lin) do e = bqm.add(e, bqm.mul(t[2], s[t[1] + 1])) end
  for _, t in ipairs(J) do
    e = bqm.add(e, bqm.mul(t[3], s[t[1] + 1] * s[t[2] + 1]))
  end
  return e
end

-- Spins of a 0/1 assignment: x = 1 is s = +1.
function ising.spins(x)
  local s = {}
  for i, v in ipairs(x) do s[i] = 2 * v - 1 end
  return s
end

function ising.decode(payload, raw, enc)
  local out = { instance = payload.name, n = enc.n, sense = "minimize" }
  local x = raw.x
  if x == nil or #x == 0 then return out end
  bqm.check_assignment(x, enc.n, "x")
  local s = ising.spins(x)
  out.solution, out.spins = s, s
  out.energy = ising.energy(payload, s, enc)
  out.objective = out.energy
  return out
end

return ising
