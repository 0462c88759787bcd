-- The "qubo" problem type: minimise E(x) = offset + sum of w * x_i * x_j
-- over every entry (i, j, w) given, x in {0,1}^n, on the `binary` kernel.
-- Entries with i == j are linear terms (x_i^2 = x_i); (i, j) and (j, i)
-- both count, and repeated entries add up, so a dense matrix Q means
-- E = x'Qx (both triangles count) as in dwave's BQM.from_qubo.
--
-- Payload: exactly one of
--   Q       a list of {i, j, w} entries (0-based ids)
--   matrix  a dense n x n list of lists
--   bqp     the path of an OR-Library bqp file, with `instance` (1-based,
--           default 1); its objective is maximised (see below)
--   bqp_text  the contents of such a file, like bqp
-- and optionally n (variables; default: the largest id + 1), offset and
-- name. Integer weights are exact; others are scaled (nerox.bqm) and the
-- energy is recomputed from the caller's numbers.
--
-- Result: solution = x (0/1 per variable, 0-based order), energy = E(x)
-- and objective = E(x) (sense "minimize"); for a bqp file, objective is
-- the OR-Library value sum q_ii x_i + 2 sum_{i<j} q_ij x_i x_j (sense
-- "maximize") and energy = -objective. bqp_text works exactly like bqp.

local bqm = require "nerox.bqm"
local check = require "nerox.check"
local errors = require "nerox.errors"

local qubo = { name = "qubo" }

qubo.fields = { Q = true, matrix = true, bqp = true, bqp_text = true,
                instance = true, n = true, offset = true, name = true }
-- Fields that name a file on this machine, and the field that takes the
-- file's contents instead (the server accepts only the latter).
qubo.file_fields = { bqp = "bqp_text" }
local SOURCES = { "Q", "matrix", "bqp", "bqp_text" }

-- Whether the payload is an OR-Library instance (bqp or bqp_text).
local function is_bqp(payload)
  return payload.bqp ~= nil or payload.bqp_text ~= nil
end

local function core()
  return require "nerox.core"
end

local function source_of(payload)
  local found
  for _, key in ipairs(SOURCES) do
    if payload[key] ~= nil then
      if found then
        check.fail(key, "give only one of Q, matrix, bqp and bqp_text " ..
                   "(%s is given too)", found)
      end
      found = key
    end
  end
  if not found then
    check.fail("Q", "required: give Q (a list of {i, j, w}), matrix, " ..
               "bqp or bqp_text")
  end
  return found
end

local function validate_matrix(m, n)
  local _, rows = check.list(m, "matrix")
  if rows == 0 then check.fail("matrix", "is empty: a model needs at " ..
                               "least one variable") end
  if n and n ~= rows then
    check.fail("n", "is %d but matrix has %d rows", n, rows)
  end
  if rows > bqm.MAX_N then
    check.fail("matrix", "at most %d variables, got %d", bqm.MAX_N, rows)
  end
  for i = 1, rows do
    local f = string.format("matrix[%d]", i)
    check.list(m[i], f)
    if #m[i] ~= rows then
      check.fail(f, "has %d entries, expected %d (the matrix is square)",
                 #m[i], rows)
    end
    for j = 1, rows do
      check.number(m[i][j], string.format("%s[%d]", f, j))
    end
  end
end

-- The energy of any x is a sum of some of the weights and the offset:
-- their absolute values must add up to a finite total, exact when they
-- are integers (check.total).
local function check_total(payload, src)
  local total = check.total("the sum of |offset| + |weights|")
  if payload.offset ~= nil then total:add(payload.offset, "offset") end
  if src == "Q" then
    for k, t in ipairs(payload.Q) do
      total:add(t[3], string.format("Q[%d][3]", k))
    end
  elseif src == "matrix" then
    for i, row in ipairs(payload.matrix) do
      for j, w in ipairs(row) do
        total:add(w, string.format("matrix[%d][%d]", i, j))
      end
    end
  end
  total:done()
end

-- Raise a ValidationError naming the field for anything wrong in payload.
function qubo.validate(payload)
  check.table(payload, "payload")
  check.known_keys(payload, qubo.fields)
  if payload.name ~= nil and type(payload.name) ~= "string" then
    check.fail("name", "expected a string, got %s",
               check.describe(payload.name))
  end
  if payload.offset ~= nil then check.number(payload.offset, "offset") end
  local n = bqm.check_n(payload.n, "n")
  local src = source_of(payload)
  if src ~= "bqp" and src ~= "bqp_text" and payload.instance ~= nil then
    check.fail("instance", "only for bqp files (bqp or bqp_text)")
  end
  if src == "Q" then
    local _, top = bqm.check_triples(payload.Q, "Q", n, { self_ok = true })
    if not n and top == 0 then
      check.fail("Q", "is empty: give n, or at least one entry")
    end
  elseif src == "matrix" then
    validate_matrix(payload.matrix, n)
  else
    local v = payload[src]
    if type(v) ~= "string" or v == "" then
      check.fail(src, src == "bqp" and "expected a file path, got %s" or
                 "expected the contents of a bqp file, got %s",
                 check.describe(v))
    end
    if payload.instance ~= nil then
      check.integer(payload.instance, "instance", 1)
    end
    if payload.n ~= nil then
      check.fail("n", "comes from the bqp file; do not give it")
    end
  end
  check_total(payload, src)
end

-- Read instance k with `reader`; `field` names the source in errors and
-- `label` the file in messages.
local function read_instance(reader, source, k, field, label)
  local ok, data = pcall(reader, source, k, label)
  if not ok then
    local msg = tostring(data)
    local bad = msg:match("instance %d+ out of range") and "instance"
                or field
    errors.raise("ValidationError", msg, { field = bad })
  end
  if data.count and k > data.count then
    check.fail("instance", "%s holds %d instances, got instance %d", label,
               data.count, k)
  end
  return data
end

-- Read instance k of a bqp file: {n, count, entries (flat i, j, q)}.
function qubo.read_bqp(path, k)
  return read_instance(core().read_bqp, path, k, "bqp", path)
end

-- The same from a bqp file's contents; errors read "bqp_text:LINE: ...".
function qubo.read_bqp_text(text, k)
  return read_instance(core().read_bqp_text, text, k, "bqp_text",
                       "bqp_text")
end

-- The model E(x) of the payload, in the caller's numbers.
local function build(payload)
  local src = source_of(payload)
  local m
  if src == "Q" then
    local t, top = bqm.check_triples(payload.Q, "Q", payload.n,
                                     { self_ok = true })
    m = bqm.new(payload.n and math.tointeger(payload.n) or top)
    for _, e in ipairs(t) do m:add(e[1], e[2], e[3]) end
  elseif src == "matrix" then
    local rows = #payload.matrix
    m = bqm.new(rows)
    for i = 1, rows do
      local row = payload.matrix[i]
      for j = 1, rows do
        if row[j] ~= 0 then m:add(i - 1, j - 1, row[j]) end
      end
    end
  else
    local k = math.tointeger(payload.instance or 1)
    local data
    if src == "bqp" then
      data = qubo.read_bqp(payload.bqp, k)
    else
      data = qubo.read_bqp_text(payload.bqp_text, k)
    end
    m = bqm.new(data.n, src)
    local e = data.entries
    local total = check.total("the sum of |offset| + |weights| of the " ..
                              "instance")
    total:add(payload.offset or 0, "offset")
    for p = 1, #e, 3 do
      local i, j, q = e[p], e[p + 1], e[p + 2]
      total:add(q, src, i == j and 1 or 2)
      m:add(i, j, bqm.mul(i == j and -1 or -2, q))
    end
    total:done()
    m.bqp = data
  end
  m:add_offset(payload.offset or 0)
  return m
end

-- The kernel model for a valid payload, and what decode needs.
function qubo.encode(payload)
  local m = build(payload)
  local model, scale = m:build()
  return model, { scale = scale, n = m.n, bqm = m }
end

-- E(x) of the payload's model in the caller's numbers: offset plus every
-- entry (i, j, w) with x_i = x_j = 1 (bqp files: minus the OR-Library
-- value). `m` (from encode) saves building the model again.
function qubo.qubo_value(payload, x, m)
  if not m and payload.Q then
    local e = payload.offset or 0
    for _, t in ipairs(payload.Q) do
      if x[t[1] + 1] == 1 and x[t[2] + 1] == 1 then
        e = bqm.add(e, t[3])
      end
    end
    return e
  end
  return (m or build(payload)):energy(x)
end

-- The objective of a solution x: E(x), or the OR-Library value (to be
-- maximised) for a bqp file or text.
function qubo.energy(payload, x, m)
  local e = qubo.qubo_value(payload, x, m)
  if is_bqp(payload) then return -e end
  return e
end

local function instance_name(payload)
  if payload.name then return payload.name end
  if payload.bqp then
    local base = payload.bqp:match("([^/]+)$"):gsub("%.txt$", "")
    return string.format("%s.%d", base, payload.instance or 1)
  end
  return nil
end

-- The user's view of a kernel result: x, E(x) and the objective.
function qubo.decode(payload, raw, enc)
  local out = { instance = instance_name(payload), n = enc.n,
                sense = is_bqp(payload) and "maximize" or "minimize" }
  local x = raw.x
  if x == nil or #x == 0 then return out end
  bqm.check_assignment(x, enc.n, "x")
  out.solution, out.x = x, x
  out.energy = qubo.qubo_value(payload, x, enc.bqm)
  out.objective = is_bqp(payload) and -out.energy or out.energy
  return out
end

return qubo
