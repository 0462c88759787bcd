-- The "maxcut" problem type: split the vertices of a weighted graph in two
-- sides so that the weight of the edges between the sides (the cut) is as
-- large as possible. On the `binary` kernel each edge {i, j, w} adds
-- w * (2 x_i x_j - x_i - x_j), which is -w when the edge is cut and 0
-- otherwise, so the kernel minimises energy = -cut.
--
-- Payload: either
--   edges   a list of {i, j} or {i, j, w} (0-based vertices, w default 1,
--           any finite sign; repeated edges add up; no self-loops)
--   n       optional: vertices (default: the largest id + 1; give it for
--           isolated vertices)
-- or
--   rudy       the path of a rudy / G-set file (1-based in the file)
-- or
--   rudy_text  the contents of such a file
-- and optionally name. Result: solution = side of each vertex (0/1), cut,
-- objective = cut (sense "maximize"), energy = -cut.

local bqm = require "nerox.bqm"
local check = require "nerox.check"
local errors = require "nerox.errors"

local maxcut = { name = "maxcut" }

maxcut.fields = { edges = true, n = true, rudy = true, rudy_text = true,
                  name = true }
-- Fields that name a file on this machine, and the field that takes the
-- file's contents instead (the server accepts only the latter).
maxcut.file_fields = { rudy = "rudy_text" }

local function core()
  return require "nerox.core"
end

local TRIPLE_OPTS = { default_w = 1, what = "vertex",
                      self_hint = " (a self-loop is never cut)" }

-- A graph from a file: `file` ("rudy" or "rudy_text") and nothing else.
local function validate_file(payload, file)
  if file == "rudy" and payload.rudy_text ~= nil then
    check.fail("rudy_text", "give either rudy or rudy_text, not both")
  end
  if payload.edges ~= nil or payload.n ~= nil then
    check.fail(payload.edges ~= nil and "edges" or "n", "give either " ..
               "%s or edges (and n), not both", file)
  end
  local v = payload[file]
  if type(v) ~= "string" or v == "" then
    check.fail(file, file == "rudy" and "expected a file path, got %s" or
               "expected the contents of a rudy file, got %s",
               check.describe(v))
  end
end

function maxcut.validate(payload)
  check.table(payload, "payload")
  check.known_keys(payload, maxcut.fields)
  if payload.name ~= nil and type(payload.name) ~= "string" then
    check.fail("name", "expected a string, got %s",
               check.describe(payload.name))
  end
  local file = payload.rudy ~= nil and "rudy" or
               payload.rudy_text ~= nil and "rudy_text" or nil
  if file then
    validate_file(payload, file)
    return
  end
  local n = bqm.check_n(payload.n, "n")
  if payload.edges == nil then
    check.fail("edges", "required: a list of {i, j} or {i, j, w}, rudy " ..
               "or rudy_text")
  end
  local edges, top = bqm.check_triples(payload.edges, "edges", n,
                                       TRIPLE_OPTS)
  if not n and top == 0 then
    check.fail("edges", "is empty: give n, or at least one edge")
  end
  -- a cut adds some of the weights: |w| must add up to a finite, exact
  -- total (check.total)
  local total = check.total("the sum of |edge weights|")
  for k, e in ipairs(edges) do
    total:add(e[3], string.format("edges[%d][3]", k))
  end
  total:done()
end

-- Read a rudy file into {n, edges = flat list i, j, w (0-based)}.
function maxcut.read_rudy(path)
  local ok, g = pcall(core().read_rudy, path)
  if not ok then
    errors.raise("ValidationError", tostring(g), { field = "rudy" })
  end
  return g
end

-- The same from a rudy file's contents; errors read "rudy_text:LINE: ...".
function maxcut.read_rudy_text(text)
  local ok, g = pcall(core().read_rudy_text, text, "rudy_text")
  if not ok then
    errors.raise("ValidationError", tostring(g), { field = "rudy_text" })
  end
  return g
end

-- The graph as n and a flat list of (i, j, w).
local function graph(payload)
  if payload.rudy or payload.rudy_text then
    local g = payload.rudy and maxcut.read_rudy(payload.rudy) or
              maxcut.read_rudy_text(payload.rudy_text)
    local file = payload.rudy and "rudy" or "rudy_text"
    local total = check.total("the sum of |edge weights| of the file")
    for p = 3, #g.edges, 3 do total:add(g.edges[p], file) end
    total:done()
    return g.n, g.edges
  end
  local t, top = bqm.check_triples(payload.edges, "edges", payload.n,
                                   TRIPLE_OPTS)
  local flat = {}
  for k, e in ipairs(t) do
    flat[3 * k - 2], flat[3 * k - 1], flat[3 * k] = e[1], e[2], e[3]
  end
  return payload.n and math.tointeger(payload.n) or top, flat
end

function maxcut.encode(payload)
  local n, edges = graph(payload)
  local m = bqm.new(n, payload.rudy and "rudy" or
                      payload.rudy_text and "rudy_text" or "edges")
  for p = 1, #edges, 3 do
    local i, j, w = edges[p], edges[p + 1], edges[p + 2]
    m:add(i, j, bqm.mul(2, w))
    m:add_linear(i, bqm.mul(-1, w))
    m:add_linear(j, bqm.mul(-1, w))
  end
  local model, scale = m:build()
  return model, { scale = scale, n = n, edges = edges }
end

-- The cut of a side assignment (0/1 per vertex); `edges` (flat, from
-- encode) saves reading the graph again.
function maxcut.energy(payload, sides, edges)
  if not edges then
    local _
    _, edges = graph(payload)
  end
  local cut = 0
  for p = 1, #edges, 3 do
    if sides[edges[p] + 1] ~= sides[edges[p + 1] + 1] then
      cut = bqm.add(cut, edges[p + 2])
    end
  end
  return cut
end

local function instance_name(payload)
  if payload.name then return payload.name end
  if payload.rudy then return payload.rudy:match("([^/]+)$") end
  return nil
end

function maxcut.decode(payload, raw, enc)
  local out = { instance = instance_name(payload), n = enc.n,
                sense = "maximize" }
  local x = raw.x
  if x == nil or #x == 0 then return out end
  bqm.check_assignment(x, enc.n, "x")
  local cut = maxcut.energy(payload, x, enc.edges)
  out.solution, out.sides = x, x
  out.cut, out.objective = cut, cut
  out.energy = -cut
  return out
end

return maxcut
