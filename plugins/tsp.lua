-- The "tsp" problem type: symmetric travelling salesman over a distance
-- matrix, a list of {x, y} coordinates (Euclidean, not rounded) or a
-- TSPLIB file (its path, or its contents as tsplib_text). It maps the
-- payload onto the `perm` kernel, whose costs are integers: non-integer
-- distances are scaled by 10^p (see scale_for) and energies are
-- recomputed from the caller's own numbers, in their units.
--
-- Payload: exactly one of distance_matrix, coordinates, tsplib,
-- tsplib_text; optional name. Tours are 0-based lists of city indices;
-- field names in errors use Lua's 1-based indices ("distance_matrix[3][1]").

local check = require "nerox.check"
local errors = require "nerox.errors"

local tsp = { name = "tsp" }

-- Fewest cities a tour can have.
tsp.MIN_CITIES = 3
-- Most cities the perm kernel accepts (PERM_MAX_N in host/anneal/perm.h).
tsp.MAX_CITIES = 100000
-- Largest scaled distance for non-integer inputs, and the most decimal
-- digits kept: the scale is 10^p, the largest p <= MAX_PRECISION with
-- max_distance * 10^p <= MAX_SCALED (p goes below 0 for huge distances).
tsp.MAX_SCALED = 1 << 28
tsp.MAX_PRECISION = 6
-- Largest integer distance taken as is (the kernel stores int32).
tsp.MAX_INT_DISTANCE = 0x7fffffff
-- Relative difference tolerated between d[i][j] and d[j][i].
tsp.SYMMETRY_TOLERANCE = 1e-9

-- The payload fields this plugin knows.
tsp.fields = { distance_matrix = true, coordinates = true, tsplib = true,
               tsplib_text = true, name = true }
-- Fields that name a file on this machine, and the field that takes the
-- file's contents instead (the server accepts only the latter).
tsp.file_fields = { tsplib = "tsplib_text" }
local SOURCES = { "distance_matrix", "coordinates", "tsplib", "tsplib_text" }

local function core()
  return require "nerox.core"
end

-- Which source the payload uses; raises unless there is exactly one.
local function source_of(payload)
  local found
  for _, key in ipairs(SOURCES) do
    if payload[key] ~= nil then
      if found then
        check.fail(key, "give only one of distance_matrix, coordinates, " ..
                   "tsplib and tsplib_text (%s is given too)", found)
      end
      found = key
    end
  end
  if not found then
    check.fail("distance_matrix", "required: give distance_matrix, " ..
               "coordinates, tsplib or tsplib_text")
  end
  return found
end

-- Check the number of cities of a list field.
local function check_count(list, field)
  local _, n = check.list(list, field)
  if n < tsp.MIN_CITIES then
    check.fail(field, "needs at least %d cities, got %d", tsp.MIN_CITIES, n)
  end
  if n > tsp.MAX_CITIES then
    check.fail(field, "at most %d cities, got %d", tsp.MAX_CITIES, n)
  end
  return n
end

-- Raise the precise error for a bad matrix entry.
local function bad_entry(i, j, v)
  local field = string.format("distance_matrix[%d][%d]", i, j)
  check.number(v, field)
  check.fail(field, "is negative (%s)", v)
end

local function check_row(row, i, n)
  local field = string.format("distance_matrix[%d]", i)
  check.list(row, field)
  if #row ~= n then
    check.fail(field, "has %d entries, expected %d", #row, n)
  end
  for j = 1, n do
    local v = row[j]
    if type(v) ~= "number" or v ~= v or v < 0 or v == math.huge then
      bad_entry(i, j, v)
    end
  end
end

local function nearly_equal(a, b)
  local m = math.max(a, b)
  return math.abs(a - b) <= tsp.SYMMETRY_TOLERANCE * m
end

local function check_symmetric(m, n)
  for i = 1, n do
    local row = m[i]
    for j = i + 1, n do
      local a, b = row[j], m[j][i]
      if a ~= b and not nearly_equal(a, b) then
        check.fail(string.format("distance_matrix[%d][%d]", i, j),
                   "is %s but distance_matrix[%d][%d] is %s: asymmetric " ..
                   "TSP is not supported (the matrix must be symmetric)",
                   a, j, i, b)
      end
    end
  end
end

-- A tour adds n distances, none longer than the largest: n times it
-- must be finite, and exact when the distances are integers
-- (check.total). Names the largest entry.
local function check_tour_bound(m, n)
  local maxd, mi, mj, integral = -1, 1, 1, true
  for i = 1, n do
    local row = m[i]
    for j = 1, n do
      local v = row[j]
      if v > maxd then maxd, mi, mj = v, i, j end
      if v ~= math.floor(v) then integral = false end
    end
  end
  local total = check.total(string.format("a tour's length (%d cities " ..
                                          "x the largest distance)", n))
  total.integral = integral
  total:add(maxd, string.format("distance_matrix[%d][%d]", mi, mj), n)
  total:done()
end

local function validate_matrix(m)
  local n = check_count(m, "distance_matrix")
  for i = 1, n do check_row(m[i], i, n) end
  check_symmetric(m, n)
  check_tour_bound(m, n)
end

-- sqrt(dx^2 + dy^2) without overflow or underflow in the squares.
local function hypot(dx, dy)
  local a, b = math.abs(dx), math.abs(dy)
  if a < b then a, b = b, a end
  if a == 0 then return 0.0 end
  local r = b / a
  return a * math.sqrt(1 + r * r)
end

-- Corners of the coordinates' bounding box: x0, y0, x1, y1.
local function bbox(c)
  local x0, y0, x1, y1 = math.huge, math.huge, -math.huge, -math.huge
  for _, p in ipairs(c) do
    x0, x1 = math.min(x0, p[1]), math.max(x1, p[1])
    y0, y1 = math.min(y0, p[2]), math.max(y1, p[2])
  end
  return x0, y0, x1, y1
end

-- Distances between the points must be finite numbers, and so must a
-- tour's length: n edges, none longer than the bounding box's diagonal.
local function check_spread(c)
  local x0, y0, x1, y1 = bbox(c)
  local diagonal = hypot(x1 - x0, y1 - y0)
  if diagonal == math.huge then
    check.fail("coordinates", "the points are too far apart: x spans " ..
               "%s..%s and y %s..%s, so their distances overflow", x0, x1,
               y0, y1)
  end
  if diagonal * #c == math.huge then
    check.fail("coordinates", "the points are too far apart: x spans " ..
               "%s..%s and y %s..%s, so a tour of %d cities (each edge " ..
               "up to %s) could be infinitely long", x0, x1, y0, y1, #c,
               diagonal)
  end
end

local function validate_coordinates(c)
  local n = check_count(c, "coordinates")
  for i = 1, n do
    local field = string.format("coordinates[%d]", i)
    local p = check.list(c[i], field)
    if #p ~= 2 then
      check.fail(field, "expected an {x, y} pair, got %d values", #p)
    end
    check.number(p[1], field .. "[1]")
    check.number(p[2], field .. "[2]")
  end
  check_spread(c)
end

-- Raise a ValidationError naming the field for anything wrong in payload.
function tsp.validate(payload)
  check.table(payload, "payload")
  check.known_keys(payload, tsp.fields)
  if payload.name ~= nil and type(payload.name) ~= "string" then
    check.fail("name", "expected a string, got %s",
               check.describe(payload.name))
  end
  local src = source_of(payload)
  if src == "distance_matrix" then
    validate_matrix(payload.distance_matrix)
  elseif src == "coordinates" then
    validate_coordinates(payload.coordinates)
  elseif src == "tsplib" then
    if type(payload.tsplib) ~= "string" or payload.tsplib == "" then
      check.fail("tsplib", "expected a file path, got %s",
                 check.describe(payload.tsplib))
    end
  elseif type(payload.tsplib_text) ~= "string" or
         payload.tsplib_text == "" then
    check.fail("tsplib_text", "expected the contents of a TSPLIB file, " ..
               "got %s", check.describe(payload.tsplib_text))
  end
end

-- The scale that maps distances of at most `maxd` to kernel integers:
-- 1 for integer inputs that fit, else 10^p as described above.
function tsp.scale_for(maxd, integral)
  if integral and maxd <= tsp.MAX_INT_DISTANCE then return 1 end
  local p = tsp.MAX_PRECISION
  if maxd > 0 then
    p = math.min(p, math.floor(math.log(tsp.MAX_SCALED / maxd, 10)))
    while maxd * 10.0 ^ p > tsp.MAX_SCALED do p = p - 1 end
  end
  if p >= 0 then return math.tointeger(10 ^ p) end
  return 10.0 ^ p
end

-- Largest entry of a matrix, and whether every entry is an integer value.
local function matrix_stats(m, n)
  local maxd, integral = 0, true
  for i = 1, n do
    local row = m[i]
    for j = 1, n do
      local v = row[j]
      if v > maxd then maxd = v end
      if integral and math.tointeger(v) == nil then integral = false end
    end
  end
  return maxd, integral
end

-- Kernel distance for d under `scale`.
local function scaled(d, scale)
  if scale == 1 and math.tointeger(d) then return math.tointeger(d) end
  return math.floor(d * scale + 0.5)
end

local function encode_matrix(m)
  local n = #m
  local maxd, integral = matrix_stats(m, n)
  local scale = tsp.scale_for(maxd, integral)
  local flat = {}
  for i = 1, n do
    local row = m[i]
    flat[(i - 1) * n + i] = 0
    for j = i + 1, n do
      local d = scaled(row[j], scale)
      flat[(i - 1) * n + j] = d
      flat[(j - 1) * n + i] = d
    end
  end
  local model = core().perm_model{ n = n, matrix = flat }
  return model, { scale = scale, n = n, source = "distance_matrix" }
end

-- Length of the diagonal of the coordinates' bounding box: no distance
-- between two of the points is longer.
local function bbox_diagonal(c)
  local x0, y0, x1, y1 = bbox(c)
  return hypot(x1 - x0, y1 - y0)
end

local function encode_coordinates(c)
  local n = #c
  local scale = tsp.scale_for(bbox_diagonal(c), false)
  local flat = {}
  for i, p in ipairs(c) do
    flat[2 * i - 1], flat[2 * i] = p[1] + 0.0, p[2] + 0.0
  end
  local model = core().perm_model{ n = n, coords = flat, scale = scale }
  return model, { scale = scale, n = n, source = "coordinates" }
end

-- Load the payload's TSPLIB file (tsplib) or text (tsplib_text); errors
-- ("path:LINE: reason", "tsplib_text:LINE: reason") name the field.
local function load_tsplib(payload)
  local ok, model, field, label
  if payload.tsplib_text ~= nil then
    field, label = "tsplib_text", "tsplib_text"
    ok, model = pcall(core().tsplib_parse, payload.tsplib_text, label)
  else
    field, label = "tsplib", payload.tsplib
    ok, model = pcall(core().tsplib_load, label)
  end
  if not ok then
    errors.raise("ValidationError", tostring(model), { field = field })
  end
  if model:n() < tsp.MIN_CITIES then
    check.fail(field, "%s: needs at least %d cities, got %d", label,
               tsp.MIN_CITIES, model:n())
  end
  return model
end

local function encode_tsplib(payload)
  local model = load_tsplib(payload)
  local source = payload.tsplib_text ~= nil and "tsplib_text" or "tsplib"
  return model, { scale = 1, n = model:n(), source = source,
                  model = model }
end

-- The kernel model for a valid payload, and what decode needs to map
-- results back: {scale, n, source, model}.
function tsp.encode(payload)
  local model, enc
  if payload.distance_matrix then
    model, enc = encode_matrix(payload.distance_matrix)
  elseif payload.coordinates then
    model, enc = encode_coordinates(payload.coordinates)
  else
    model, enc = encode_tsplib(payload)
  end
  enc.model = model
  return model, enc
end

-- a + b, in floating point where integers would wrap around.
local function add(a, b)
  if math.type(a) == "integer" and math.type(b) == "integer" and
     ((b > 0 and a > math.maxinteger - b) or
      (b < 0 and a < math.mininteger - b)) then
    return a + 0.0 + b
  end
  return a + b
end

local function matrix_length(m, tour)
  local total, n = 0, #tour
  for k = 1, n do
    local a, b = tour[k] + 1, tour[k % n + 1] + 1
    total = add(total, m[a][b])
  end
  return total
end

local function euclid_length(c, tour)
  local total, n = 0.0, #tour
  for k = 1, n do
    local p, q = c[tour[k] + 1], c[tour[k % n + 1] + 1]
    total = total + hypot(p[1] - q[1], p[2] - q[2])
  end
  return total
end

-- Length of a closed 0-based tour in the caller's units. `model` (a loaded
-- TSPLIB model) saves reading the file or text again.
function tsp.energy(payload, tour, model)
  if payload.distance_matrix then
    return matrix_length(payload.distance_matrix, tour)
  elseif payload.coordinates then
    return euclid_length(payload.coordinates, tour)
  end
  model = model or load_tsplib(payload)
  return model:tour_length(tour)
end

-- Whether `tour` is a permutation of 0..n-1.
function tsp.is_tour(tour, n)
  if type(tour) ~= "table" or #tour ~= n then return false end
  local seen = {}
  for _, city in ipairs(tour) do
    if math.type(city) ~= "integer" or city < 0 or city >= n
       or seen[city] then
      return false
    end
    seen[city] = true
  end
  return true
end

local function instance_name(payload, enc)
  if payload.name then return payload.name end
  if enc.source == "tsplib" then
    return enc.model:name() or payload.tsplib:match("([^/]+)%.tsp$")
  elseif enc.source == "tsplib_text" then
    return enc.model:name()
  end
  return nil
end

-- The user's view of a kernel result `raw`: the tour (0-based, also as
-- `solution`) and its length recomputed in the caller's units.
function tsp.decode(payload, raw, enc)
  local out = { instance = instance_name(payload, enc), n = enc.n }
  local tour = raw.tour
  if tour == nil or #tour == 0 then return out end
  if not tsp.is_tour(tour, enc.n) then
    errors.raise("ServerError", "the engine returned a tour that is not " ..
                 "a permutation of the cities")
  end
  local length = tsp.energy(payload, tour, enc.model)
  out.tour, out.solution = tour, tour
  out.energy, out.objective = length, length
  return out
end

return tsp
