-- Error values of the nerox SDK: every failure the SDK reports is a table
-- with a kind, a message and, where it applies, the field at fault. They
-- are raised with error(value), so pcall hands the table back:
--
--   local ok, err = pcall(client.optimize.tsp, client.optimize, payload)
--   if nerox.is(err, nerox.ValidationError) then print(err.field) end
--   print(tostring(err))  --> "ValidationError: distance_matrix[3]: ..."

local errors = {}

-- Metatable of kinds: a kind is called to build an error value of it.
local Kind = {}

-- Metatable of error values.
local Error = {}

function Error.__tostring(err)
  local where = err.field and (err.field .. ": ") or ""
  return err.kind .. ": " .. where .. tostring(err.message)
end

-- Build an error value of `kind`. `fields` may hold field, retry_after,
-- reset_at, job_id, result and anything else worth carrying.
local function new_error(kind, message, fields)
  local err = { kind = kind.name, message = message or kind.name }
  for k, v in pairs(fields or {}) do
    if k ~= "kind" and k ~= "message" then err[k] = v end
  end
  return setmetatable(err, Error)
end

-- Kind(message, fields) or Kind{message = ..., field = ...}.
function Kind.__call(kind, message, fields)
  if type(message) == "table" then
    return new_error(kind, message.message, message)
  end
  return new_error(kind, message, fields)
end

function Kind.__tostring(kind)
  return kind.name
end

local function kind(name, parent)
  return setmetatable({ name = name, parent = parent }, Kind)
end

-- Every nerox error is of kind Error; the others are its children.
errors.Error = kind("Error")
local names = {
  "RateLimitError",   -- too many requests; retry_after (s), reset_at (Unix)
  "JobFailedError",   -- the job ran and failed; do not retry it as is
  "AuthError",        -- missing or unknown API key
  "PermissionError",  -- the key lacks the scope for this call
  "ValidationError",  -- bad input; field names what is wrong
  "TimeoutError",     -- a client-side wait ran out; the job goes on
  "NotFoundError",    -- no such job or resource
  "ServerError",      -- the engine or server failed
  "ConflictError",    -- not now: e.g. the result of a job still running
}
for _, name in ipairs(names) do
  errors[name] = kind(name, errors.Error)
end

-- Whether `value` is a nerox error value.
function errors.is_error(value)
  return getmetatable(value) == Error
end

-- Find a kind by name ("ValidationError") or return a kind as given.
local function resolve(k)
  if type(k) == "string" then return errors[k] end
  return k
end

-- nerox.is(err, kind): err is of `kind` (a kind or its name), or of a kind
-- below it (every error is an Error).
function errors.is(err, k)
  k = resolve(k)
  if not errors.is_error(err) or getmetatable(k) ~= Kind then
    return false
  end
  local cur = errors[err.kind]
  while cur do
    if cur == k then return true end
    cur = cur.parent
  end
  return false
end

-- Raise an error value of `kind`.
function errors.raise(k, message, fields)
  error(resolve(k)(message, fields), 0)
end

-- Turn anything caught by pcall into an error value: nerox errors pass
-- through; strings (from the C core) become `default_kind`.
function errors.wrap(value, default_kind, fields)
  if errors.is_error(value) then return value end
  return resolve(default_kind or "ServerError")(tostring(value), fields)
end

return errors
