-- The "number_partitioning" problem type: split a list of numbers in two
-- sides A and B with sums as close as possible. On the `binary` kernel
-- (x_i = 1 puts number i in A, with S the sum of all numbers):
--   energy = (sum_A - sum_B)^2 = (2 sum_i a_i x_i - S)^2
--          = S^2 + sum_i 4 a_i (a_i - S) x_i + sum_{i<j} 8 a_i a_j x_i x_j.
-- No constraint, so every answer is feasible. Integers are exact while
-- 8 * a_i * a_j fits an int32 (numbers up to 16383); larger or non-integer
-- numbers are scaled (see nerox.bqm) and the difference is recomputed from
-- the caller's numbers.
--
-- Payload: numbers (a non-empty list of finite numbers), optional name.
-- Result: solution = side of each number (1: A, 0: B), sums = {A, B},
-- objective = difference |A - B| (sense "minimize"), energy =
-- difference^2, feasible = true.

local bqm = require "nerox.bqm"
local check = require "nerox.check"

local np = { name = "number_partitioning" }

np.fields = { numbers = true, name = true }

-- Most numbers: the model couples every pair, n(n-1)/2 couplings.
np.MAX_NUMBERS = 2000

function np.validate(payload)
  check.table(payload, "payload")
  check.known_keys(payload, np.fields)
  if payload.name ~= nil and type(payload.name) ~= "string" then
    check.fail("name", "expected a string, got %s",
               check.describe(payload.name))
  end
  if payload.numbers == nil then check.fail("numbers", "required") end
  local n = bqm.check_numbers(payload.numbers, "numbers")
  if n > np.MAX_NUMBERS then
    check.fail("numbers", "at most %d numbers (the model couples every " ..
               "pair), got %d", np.MAX_NUMBERS, n)
  end
  -- both sums and their difference are at most sum |a_i|: finite, and
  -- exact for integers (check.total: at most 2^53)
  local total = check.total("the sum of |numbers|")
  for k = 1, n do
    total:add(payload.numbers[k], string.format("numbers[%d]", k))
  end
  total:done()
end

function np.encode(payload)
  local a = payload.numbers
  local add, mul = bqm.add, bqm.mul
  local n, total = #a, 0
  for i = 1, n do total = add(total, a[i]) end
  local m = bqm.new(n, "numbers")
  m:add_offset(mul(total, total))
  for i = 1, n do
    m:add_linear(i - 1, mul(mul(4, a[i]), add(a[i], mul(-1, total))))
    for j = i + 1, n do m:add(i - 1, j - 1, mul(mul(8, a[i]), a[j])) end
  end
  local model, scale = m:build()
  return model, { scale = scale, n = n }
end

-- Sums of side A (x = 1) and side B (x = 0).
function np.sums(payload, x)
  local a, b = 0, 0
  for i, v in ipairs(payload.numbers) do
    if x[i] == 1 then a = bqm.add(a, v) else b = bqm.add(b, v) end
  end
  return a, b
end

-- |a - b|, in floating point where integers would wrap around.
function np.difference(a, b)
  local d = bqm.add(a, bqm.mul(-1, b))
  if d == math.mininteger then return -(d + 0.0) end
  return math.abs(d)
end

-- The objective: |sum_A - sum_B|.
function np.energy(payload, x)
  local a, b = np.sums(payload, x)
  return np.difference(a, b)
end

function np.decode(payload, raw, enc)
  local out = { instance = payload.name, n = enc.n, sense = "minimize" }
  local x = raw.x
  if x == nil or #x == 0 then return out end
  bqm.check_assignment(x, enc.n, "x")
  local a, b = np.sums(payload, x)
  out.solution, out.sums = x, { a, b }
  out.objective = np.difference(a, b)
  out.energy = bqm.mul(out.objective, out.objective)
  out.feasible = true
  return out
end

return np
