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
-- integral value are accepted and returned as integers.
function check.integer(v, field, min, max)
  check.number(v, field)
  local i = math.tointeger(v)
  if not i then check.fail(field, "expected an integer, got %s", v) end
  if min and i < min then
    check.fail(field, "must be at least %d, got %d", min, i)
  end
  if max and i > max then
    check.fail(field, "must be at most %d, got %d", max, i)
  end
  return i
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
