-- The "knapsack" problem type (0/1 knapsack): pick items of the largest
-- total value whose total weight is at most the capacity. On the `binary`
-- kernel: one variable per item, plus slack variables s_k with integer
-- coefficients c_k that can add up to any value 0..capacity, and
--   energy = -sum_i v_i x_i + P * (sum_i w_i x_i + sum_k c_k s_k - C)^2.
-- With P > max v_i every lowest-energy state is feasible: removing an item
-- from an overweight selection lowers the penalty by at least P (weights
-- are integers) and loses less than P in value. The default P is
-- bqm.default_penalty(values): max v_i + 1 for integer values, 1.5 * max
-- v_i otherwise (1 when every value is 0); the payload may give `penalty`.
-- A small P keeps the landscape smooth for single flips.
--
-- Payload: values (numbers >= 0), weights (integers >= 0, as many),
-- capacity (integer >= 0), optional penalty and name. Result: solution =
-- 0/1 per item, objective = value (sense "maximize"), weight, feasible
-- (weight <= capacity) and, when not, violation = {excess_weight}; energy
-- = -value + P * max(0, weight - capacity)^2 (the slack chosen at best).

local bqm = require "nerox.bqm"
local check = require "nerox.check"

local knapsack = { name = "knapsack" }

knapsack.fields = { values = true, weights = true, capacity = true,
                    penalty = true, name = true }

-- Largest weight or capacity: keeps P * w^2 terms exact in the kernel.
knapsack.MAX_WEIGHT = 1 << 24

function knapsack.validate(payload)
  check.table(payload, "payload")
  check.known_keys(payload, knapsack.fields)
  if payload.name ~= nil and type(payload.name) ~= "string" then
    check.fail("name", "expected a string, got %s",
               check.describe(payload.name))
  end
  if payload.values == nil then check.fail("values", "required") end
  local n = bqm.check_numbers(payload.values, "values", 0)
  if payload.weights == nil then check.fail("weights", "required") end
  local _, nw = check.list(payload.weights, "weights")
  if nw ~= n then
    check.fail("weights", "has %d entries but values has %d", nw, n)
  end
  for i = 1, n do
    check.integer(payload.weights[i], string.format("weights[%d]", i), 0,
                  knapsack.MAX_WEIGHT)
  end
  if payload.capacity == nil then check.fail("capacity", "required") end
  check.integer(payload.capacity, "capacity", 0, knapsack.MAX_WEIGHT)
  bqm.check_penalty(payload.penalty, "penalty")
  -- the value of a selection adds some of the values: a finite, exact
  -- total (check.total); the penalty's terms are checked with the model
  local total = check.total("the sum of |values|")
  for i = 1, n do
    total:add(payload.values[i], string.format("values[%d]", i))
  end
  total:done()
  -- the energy of an overweight selection adds P * excess^2, excess at
  -- most the total weight
  local weight = 0
  for i = 1, n do weight = weight + math.tointeger(payload.weights[i]) end
  local P = knapsack.penalty_of(payload)
  if total.sum + P * (weight + 0.0) ^ 2 == math.huge then
    check.fail(payload.penalty and "penalty" or "values", "penalty %s " ..
               "times the total weight %d squared overflows to infinity, " ..
               "so energies would not be finite", P, weight)
  end
end

-- The slack coefficients: 1, 2, 4, ..., and a last one so that they add
-- up to `cap`; every sum 0..cap is then some subset.
function knapsack.slack_coefficients(cap)
  local out, total, c = {}, 0, 1
  while total + c <= cap do
    out[#out + 1] = c
    total = total + c
    c = c * 2
  end
  if total < cap then out[#out + 1] = cap - total end
  return out
end

function knapsack.penalty_of(payload)
  return payload.penalty or bqm.default_penalty(payload.values)
end

function knapsack.encode(payload)
  local n = #payload.values
  local cap = math.tointeger(payload.capacity)
  local slack = knapsack.slack_coefficients(cap)
  local P = knapsack.penalty_of(payload)
  local m = bqm.new(n + #slack, payload.penalty and "penalty" or "values")
  local ids, coefs = {}, {}
  for i = 1, n do
    m:add_linear(i - 1, bqm.mul(-1, payload.values[i]))
    ids[i], coefs[i] = i - 1, math.tointeger(payload.weights[i])
  end
  for k, c in ipairs(slack) do
    ids[n + k], coefs[n + k] = n + k - 1, c
  end
  m:add_squared(ids, coefs, cap, P)
  local model, scale = m:build()
  return model, { scale = scale, n = n, penalty = P }
end

-- Total value and weight of a selection (0/1 per item).
function knapsack.totals(payload, x)
  local value, weight = 0, 0
  for i = 1, #payload.values do
    if x[i] == 1 then
      value = bqm.add(value, payload.values[i])
      weight = weight + math.tointeger(payload.weights[i])
    end
  end
  return value, weight
end

-- The objective: total value of the selection.
function knapsack.energy(payload, x)
  return (knapsack.totals(payload, x))
end

function knapsack.decode(payload, raw, enc)
  local out = { instance = payload.name, n = enc.n, sense = "maximize",
                penalty = enc.penalty }
  local x = raw.x
  if x == nil or #x == 0 then return out end
  local items = table.move(x, 1, enc.n, 1, {})
  bqm.check_assignment(items, enc.n, "x")
  local value, weight = knapsack.totals(payload, items)
  local excess = math.max(0, weight - math.tointeger(payload.capacity))
  out.solution, out.objective, out.weight = items, value, weight
  out.feasible = excess == 0
  if excess > 0 then out.violation = { excess_weight = excess } end
  out.energy = bqm.add(bqm.mul(-1, value),
                       bqm.mul(enc.penalty, excess * excess))
  return out
end

return knapsack
