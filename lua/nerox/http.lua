-- HTTP for the remote client: requests on the event loop (nerox.loop),
-- and the one place where HTTP answers become the SDK's error values.
--
--   local res = http.request{method = "GET", url = ..., headers = {...}}
--   -- res.status, res.headers (lower-case names), res.body
--   http.raise_for(res)  -- an error value for a non-2xx answer
--
-- Request headers carry the API key; nothing here prints or logs them,
-- and no error message includes a header.

local loop = require "nerox.loop"
local async = require "nerox.async"
local errors = require "nerox.errors"
local json = require "nerox.json"

local http = {}

-- The longest Retry-After honoured, in seconds: a larger (or garbled
-- huge) value is capped, so one bad header cannot stall a script.
http.MAX_RETRY_AFTER_S = 300
-- Failures of the connection itself (refused, reset, timed out) are
-- retried this many times with the same request (and, for a submit, the
-- same Idempotency-Key) before a ServerError is raised.
http.TRANSPORT_RETRIES = 2
http.TRANSPORT_RETRY_BASE_S = 0.2

-- Error kinds by HTTP status; everything from 500 up is a ServerError.
local KIND_BY_STATUS = {
  [400] = "ValidationError", [413] = "ValidationError",
  [401] = "AuthError", [403] = "PermissionError", [404] = "NotFoundError",
  [405] = "ServerError", [409] = "ConflictError", [422] = "ValidationError",
  [429] = "RateLimitError",
}

-- Hooks called on every 429 (the metrics count them).
http.on_rate_limit = {}

-- Header block -> {name = value} with lower-case names (the last of a
-- repeated header wins).
function http.parse_headers(raw)
  local h = {}
  for line in raw:gmatch("[^\r\n]+") do
    local name, value = line:match("^([^:%s]+):%s*(.-)%s*$")
    if name then h[name:lower()] = value end
  end
  return h
end

-- Seconds to wait from a Retry-After value: delay-seconds ("120") or an
-- HTTP date. Past dates and negative numbers give 0, huge ones the cap;
-- anything else (garbled) gives nil. `now` is Unix time (for tests).
function http.retry_after(value, now)
  if type(value) ~= "string" then return nil end
  value = value:match("^%s*(.-)%s*$")
  local secs
  if value:match("^[+-]?%d+$") then
    secs = tonumber(value) or math.huge
  elseif value:match("^[+-]?%d*%.%d+$") then
    secs = tonumber(value)
  elseif value:match("%a") then
    local t = loop.parse_date(value)
    if not t then return nil end
    secs = t - (now or loop.wall())
  else
    return nil
  end
  if secs ~= secs then return nil end
  if secs < 0 then secs = 0 end
  if secs > http.MAX_RETRY_AFTER_S then secs = http.MAX_RETRY_AFTER_S end
  return secs
end

-- X-RateLimit-Reset as Unix seconds, or nil when missing or garbled.
local function reset_at(value)
  if type(value) ~= "string" or not value:match("^%s*%d+%s*$") then
    return nil
  end
  return math.tointeger(tonumber(value))
end

-- The error value for an HTTP answer that is not 2xx: kind from the
-- status, message and field from the body's {"error": {...}}.
function http.error_for(res)
  local status = res.status
  local kind = KIND_BY_STATUS[status] or
               (status >= 500 and "ServerError") or "ServerError"
  local body = res.body and json.decode(res.body)
  local e = type(body) == "table" and type(body.error) == "table" and
            body.error or {}
  local message = type(e.message) == "string" and e.message or
                  string.format("HTTP %d", status)
  if type(e.field) == "string" and
     message:sub(1, #e.field + 2) == e.field .. ": " then
    message = message:sub(#e.field + 3)  -- the field is kept apart
  end
  local fields = { status = status, type = e.type, field = e.field,
                   limit = e.limit }
  if status == 429 then
    local h = res.headers or {}
    fields.retry_after = http.retry_after(h["retry-after"])
    fields.reset_at = reset_at(h["x-ratelimit-reset"])
    if not fields.retry_after and fields.reset_at then
      fields.retry_after = http.retry_after(tostring(
        fields.reset_at - math.floor(loop.wall())))
    end
  end
  return errors[kind](message, fields)
end

-- Raise the error value for a non-2xx answer; return res otherwise.
function http.raise_for(res)
  if res.status >= 200 and res.status < 300 then return res end
  local err = http.error_for(res)
  if res.status == 429 then
    for _, hook in ipairs(http.on_rate_limit) do hook(err) end
  end
  error(err, 0)
end

-- Wait for request `req` to finish (yielding inside a task) and return
-- {status, headers, body} or nil and a transport error message and class
-- ("connect", "timeout", "transfer").
local function await(req)
  while true do
    local done, status, err, class = req:info()
    if done then
      if err then return nil, err, class end
      return { status = status, headers = http.parse_headers(req:headers()),
               body = req:take() }
    end
    async.wait{ req = req }
  end
end
http.await = await

-- Make a request; transport failures are retried (TRANSPORT_RETRIES)
-- and then raised as ServerError naming the method and URL (never a
-- header). Returns the answer whatever its status.
function http.request(spec)
  local attempt = 0
  while true do
    local res, err = await(loop.request(spec))
    if res then return res end
    attempt = attempt + 1
    if attempt > http.TRANSPORT_RETRIES then
      errors.raise("ServerError", string.format("%s %s: %s", spec.method or
        "GET", spec.url, err), { transport = true })
    end
    async.sleep(http.TRANSPORT_RETRY_BASE_S * 2 ^ (attempt - 1))
  end
end

-- ---- Server-Sent Events ---------------------------------------------

-- A parser fed with chunks as they arrive: events split across reads are
-- reassembled; comments (heartbeats) are counted and dropped.
local Sse = {}
Sse.__index = Sse

function http.sse_parser()
  return setmetatable({ buf = "", data = {}, heartbeats = 0 }, Sse)
end

-- Feed a chunk; returns the list of complete events {id, event, data}.
function Sse:feed(chunk)
  self.buf = self.buf .. chunk
  local out = {}
  while true do
    local s, e = self.buf:find("\r?\n")  -- lines end in LF or CRLF
    if not s then break end
    local line = self.buf:sub(1, s - 1)
    self.buf = self.buf:sub(e + 1)
    self:_line(line, out)
  end
  return out
end

function Sse:_line(line, out)
  if line == "" then  -- dispatch
    if #self.data > 0 or self.event then
      out[#out + 1] = { id = self.id, event = self.event or "message",
                        data = table.concat(self.data, "\n") }
    end
    self.data, self.event = {}, nil
    return
  end
  if line:sub(1, 1) == ":" then
    self.heartbeats = self.heartbeats + 1
    return
  end
  local field, value = line:match("^([^:]*):? ?(.*)$")
  if field == "data" then self.data[#self.data + 1] = value
  elseif field == "event" then self.event = value
  elseif field == "id" then self.id = value; self.last_id = value
  elseif field == "retry" and value:match("^%d+$") then
    self.retry_ms = tonumber(value)
  end
end

return http
