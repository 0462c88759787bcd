-- Input checks shared by the SDK and the plugins. Each check raises a
-- nerox.ValidationError naming the field at fault, or returns the value
-- in the form the engine wants (integers as Lua integers).

local errors = require "nerox.errors"

local check = {}

-- Raise a ValidationError for `field` with a formatted message.
function check.fail(field, fmt, ...)
  errors.raise("ValidationError", string.format(fmt, ...), { field = field })
end

-- A short description of a value for messages: its type, or the number.
function check.describe(v)
  if type(v) == "number" then return tostring(v) end
  if type(v) == "string" then return string.format("%q", v) end
  return type(v)
end

-- A finite number (not NaN, not infinite).
function check.number(v, field)
  if type(v) ~= "number" then
    check.fail(field, "expected a number, got %s", check.describe(v))
  end
  if v ~= v then check.fail(field, "is NaN") end
  if v == math.huge or v == -math.huge then
    check.fail(field, "is infinite (%s)", tostring(v))
  end
  return v
end

-- An integer within [min, max] (either bound may be nil). Floats with an
-- integral value are accepted and returned as integers; one beyond the
-- 64-bit integers (1e19, or 2^63 from JSON's 9223372036854775807) is
-- refused against the bound it passes.
function check.integer(v, field, min, max)
  check.number(v, field)
  local i = math.tointeger(v)
  if not i and v == math.floor(v) then
    if max and v > max then
      check.fail(field, "must be at most %d, got %.17g", max, v)
    elseif min and v < min then
      check.fail(field, "must be at least %d, got %.17g", min, v)
    end
  end
  if not i then check.fail(field, "expected an integer, got %s", v) end
  if min and i < min then
    check.fail(field, "must be at least %d, got %d", min, i)
  end
  if max and i > max then
    check.fail(field, "must be at most %d, got %d", max, i)
  end
  return i
end

-- Largest total of integers that is exact: beyond 2^53 a double, and so
-- a JSON number, no longer holds every integer, and sums lose units.
check.MAX_EXACT = 1 << 53

-- A running total of |v| over the numbers that make up a result the
-- plugin reports (an energy, an objective, a sum): t = check.total(what),
-- t:add(v, field[, times]) for each number, then t:done(). Raises a
-- ValidationError naming the field of the number that makes the total
-- infinite, or, when every number is an integer (a float beyond 2^53
-- is one), the field of the first number that takes it past MAX_EXACT:
-- sums in Lua or in a double would then not be exact. Numbers with a
-- fraction are rounded in any case, so they need only a finite total.
local Total = {}
Total.__index = Total

-- `what` names the total in messages ("the sum of |numbers|").
function check.total(what)
  return setmetatable({ sum = 0, integral = true, what = what }, Total)
end

-- times * |v| as an integer, or nil when v is not one or it would wrap.
local function int_abs_times(v, times)
  local i = math.tointeger(v)
  if not i or i == math.mininteger then return nil end
  if i < 0 then i = -i end
  if i ~= 0 and times > math.maxinteger // i then return nil end
  return i * times
end

-- Add times * |v| (times defaults to 1); v is a finite number. The sum
-- stays an integer while it can, so 2^53 + 1 is not rounded to 2^53.
function Total:add(v, field, times)
  times = times or 1
  local a = math.type(self.sum) == "integer" and int_abs_times(v, times)
  if a and self.sum <= math.maxinteger - a then
    self.sum = self.sum + a
  else
    self.sum = self.sum + math.abs(v + 0.0) * times
  end
  if v ~= math.floor(v) then self.integral = false end
  if self.sum == math.huge then
    check.fail(field, "%s makes %s overflow to infinity, so energies " ..
               "and objectives would not be finite", check.describe(v),
               self.what)
  end
  if not self.over and self.sum > check.MAX_EXACT then
    self.over = { field = field, v = v, sum = self.sum }
  end
  return self
end

-- Raise unless the total is exact (see above).
function Total:done()
  local o = self.over
  if self.integral and o then
    check.fail(o.field, "%s brings %s to %.17g, beyond 2^53 (%d), " ..
               "where sums of integers stop being exact",
               check.describe(o.v), self.what, o.sum, check.MAX_EXACT)
  end
end

-- A string from a fixed set; `choices` is a list.
function check.choice(v, field, choices)
  for _, c in ipairs(choices) do
    if v == c then return v end
  end
  check.fail(field, "must be one of %s, got %s",
             table.concat(choices, ", "), check.describe(v))
end

-- A table, or a ValidationError naming `field`.
function check.table(v, field)
  if type(v) ~= "table" then
    check.fail(field, "expected a table, got %s", check.describe(v))
  end
  return v
end

-- A list: a table whose keys are exactly 1..#v, so no value is lost to a
-- hole or to a key the length does not count. Returns the list and #v.
function check.list(v, field)
  check.table(v, field)
  local n, count = #v, 0
  for k in pairs(v) do
    if math.type(k) ~= "integer" or k < 1 or k > n then
      check.fail(field, "expected a list, but it has key %s besides " ..
                 "entries 1..%d (a hole or a named key)", check.describe(k),
                 n)
    end
    count = count + 1
  end
  if count ~= n then
    local i = 1
    while v[i] ~= nil do i = i + 1 end
    check.fail(string.format("%s[%d]", field, i), "missing: a hole in " ..
               "the list (%d values for length %d)", count, n)
  end
  return v, n
end

-- Reject any key of `t` not in the set `known`, naming the first one (in
-- sorted order, so the message does not depend on table traversal).
function check.known_keys(t, known)
  local unknown = {}
  for k in pairs(t) do
    if not known[k] then unknown[#unknown + 1] = tostring(k) end
  end
  if #unknown == 0 then return end
  table.sort(unknown)
  local names = {}
  for k in pairs(known) do names[#names + 1] = k end
  table.sort(names)
  check.fail(unknown[1], "unknown option '%s' (known: %s)", unknown[1],
             table.concat(names, ", "))
end

return check
