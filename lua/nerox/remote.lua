-- The remote client: the same calls as the local one (nerox.client,
-- nerox.job), over the HTTP API of `nerox serve` (docs/server.md). Jobs
-- are nerox.remote jobs with the local jobs' methods; answers become the
-- local results and error kinds (nerox.http maps them).

local check = require "nerox.check"
local errors = require "nerox.errors"
local http = require "nerox.http"
local json = require "nerox.json"
local loop = require "nerox.loop"
local async = require "nerox.async"
local common = require "nerox.job_common"

local remote = {}

-- Seconds without a byte (heartbeats included) after which an event
-- stream counts as stalled and is reopened; the server's heartbeat comes
-- every 15 s by default. NEROX_STREAM_STALL_S or stall_timeout set it.
remote.STALL_S = 45
-- Reopening a broken stream: at most this many tries in a row without a
-- new event, waiting RECONNECT_BASE_S * 2^k (at most RECONNECT_MAX_S).
remote.MAX_RECONNECTS = 5
remote.RECONNECT_BASE_S = 0.1
remote.RECONNECT_MAX_S = 2
-- Polling of the job when the server has no event stream: intervals grow
-- from the first to the last.
remote.POLL_FIRST_S = 0.05
remote.POLL_MAX_S = 1
-- Default limit of one ordinary request, in seconds.
remote.TIMEOUT_S = 60

local FINAL = common.FINAL

local secrets = setmetatable({}, { __mode = "k" })  -- client -> key

local Client = {}
Client.__index = Client
function Client.__tostring(c) return "nerox remote client " .. c.url end

local Job = {}
Job.__index = Job
remote.Job = Job

-- ---- idempotency keys -------------------------------------------------

local function random_hex(nbytes)
  local f = io.open("/dev/urandom", "rb")
  local bytes = f and f:read(nbytes)
  if f then f:close() end
  if not bytes or #bytes ~= nbytes then
    local t = {}
    for i = 1, nbytes do t[i] = string.char(math.random(0, 255)) end
    bytes = table.concat(t)
  end
  return (bytes:gsub(".", function(c)
    return string.format("%02x", c:byte())
  end))
end

-- nerox.retry runs each attempt in a context: the k-th submit of a retry
-- reuses the key of the k-th submit of the first attempt, so a retried
-- submit returns the job already made instead of a second one.
local contexts = setmetatable({}, { __mode = "k" })  -- coroutine -> ctx

function remote.begin_attempt(ctx)
  local co = coroutine.running()
  local prev = contexts[co]
  ctx.n = 0
  contexts[co] = ctx
  return prev
end

function remote.end_attempt(prev)
  contexts[coroutine.running()] = prev
end

local function idempotency_key()
  local ctx = contexts[coroutine.running()]
  if not ctx then return "nrx-" .. random_hex(16) end
  ctx.n = ctx.n + 1
  ctx.keys = ctx.keys or {}
  ctx.keys[ctx.n] = ctx.keys[ctx.n] or ("nrx-" .. random_hex(16))
  return ctx.keys[ctx.n]
end
remote.idempotency_key = idempotency_key

-- ---- the client -------------------------------------------------------

local function env_number(name, default)
  local v = tonumber(os.getenv(name) or "")
  if v and v > 0 then return v end
  return default
end

-- remote.new{url, key, timeout, stall_timeout}: url and key default to
-- NEROX_API_URL and NEROX_API_KEY.
function remote.new(opts)
  local url = opts.url or opts.api_url or os.getenv("NEROX_API_URL")
  local key = opts.key or opts.api_key or os.getenv("NEROX_API_KEY")
  if type(url) ~= "string" or not url:match("^https?://[^/]") then
    check.fail("url", "expected an http:// or https:// URL")
  end
  if type(key) ~= "string" or key == "" then
    errors.raise("AuthError", "no API key: set NEROX_API_KEY or pass " ..
                 "nerox.Client{key = ...}")
  end
  if key:find("[%c ]") then
    errors.raise("AuthError", "the API key holds a space or control " ..
                 "character")
  end
  url = url:gsub("/+$", ""):gsub("/v1$", "")
  local self = setmetatable({ kind = "remote", url = url }, Client)
  secrets[self] = key
  self.timeout = opts.timeout and check.number(opts.timeout, "timeout") or
                 remote.TIMEOUT_S
  self.stall_timeout = opts.stall_timeout and
    check.number(opts.stall_timeout, "stall_timeout") or
    env_number("NEROX_STREAM_STALL_S", remote.STALL_S)
  return self
end

function Client:_headers(extra)
  local h = { "Authorization: Bearer " .. secrets[self],
              "Accept: application/json" }
  for _, line in ipairs(extra or {}) do h[#h + 1] = line end
  return h
end

-- One API call: the decoded JSON answer, or the mapped error raised.
function Client:_call(method, path, body, extra)
  local headers = self:_headers(extra)
  if body then headers[#headers + 1] = "Content-Type: application/json" end
  local res = http.request{ method = method, url = self.url .. path,
                            headers = headers, body = body,
                            timeout = self.timeout }
  http.raise_for(res)
  local doc, err = json.decode(res.body)
  if doc == nil then
    errors.raise("ServerError", string.format("%s %s: the answer is not " ..
                 "JSON (%s)", method, path, err))
  end
  return doc, res
end

-- File fields (tsplib = PATH) name files on this machine: the server
-- gets their contents instead (tsplib_text), as each plugin's
-- file_fields says.
local function inline_files(submission)
  local ok, plugin = pcall(require("nerox.plugins").get,
                           submission.problem_type)
  if not ok or type(plugin.file_fields) ~= "table" then return submission end
  local out = nil
  for field, text_field in pairs(plugin.file_fields) do
    local path = submission[field]
    if path ~= nil then
      if type(path) ~= "string" then
        check.fail(field, "expected a file path, got %s",
                   check.describe(path))
      end
      local f, err = io.open(path, "rb")
      if not f then check.fail(field, "%s", err) end
      local text = f:read("a")
      f:close()
      out = out or {}
      out[text_field] = text
    end
  end
  if not out then return submission end
  for k, v in pairs(submission) do
    if not plugin.file_fields[k] then out[k] = v end
  end
  return out
end

-- client.optimize:submit through the API; returns a remote job.
function remote.submit(self, submission)
  submission = inline_files(submission)
  local ok, body = pcall(json.encode, submission)
  if not ok then
    errors.raise("ValidationError", tostring(body), { field = "payload" })
  end
  local view = self:_call("POST", "/v1/jobs", body,
                          { "Idempotency-Key: " .. idempotency_key() })
  return Job.new(self, view)
end

-- client.usage:get(): the account's usage this period.
local Usage = {}
Usage.__index = Usage
function Usage:get()
  if getmetatable(self) ~= Usage then
    check.fail("usage", "call client.usage:get() with a colon")
  end
  return (self._client:_call("GET", "/v1/usage"))
end

-- client.jobs: list, get, cancel_all.
local Jobs = {}
Jobs.__index = Jobs

-- client.jobs:list{status, limit, offset}: {jobs = {view...}, limit,
-- offset}.
function Jobs:list(opts)
  opts = check.table(opts or {}, "options")
  local q = {}
  for _, k in ipairs{ "status", "limit", "offset" } do
    if opts[k] ~= nil then
      q[#q + 1] = k .. "=" .. loop.escape(tostring(opts[k]))
    end
  end
  local path = "/v1/jobs" .. (#q > 0 and "?" .. table.concat(q, "&") or "")
  return (self._client:_call("GET", path))
end

-- client.jobs:get(id): a job object for a job already submitted.
function Jobs:get(id)
  check.table(self, "jobs")
  if type(id) ~= "string" then check.fail("id", "expected a job id") end
  local view = self._client:_call("GET", "/v1/jobs/" .. loop.escape(id))
  return Job.new(self._client, view)
end

-- client.jobs:cancel_all(): cancel every queued or running job of the
-- account; returns the list of ids.
function Jobs:cancel_all()
  local doc = self._client:_call("POST", "/v1/jobs/cancel", "")
  return doc.cancelled or {}
end

function remote.attach(self)
  self.usage = setmetatable({ _client = self }, Usage)
  self.jobs = setmetatable({ _client = self }, Jobs)
  return self
end

-- ---- jobs ---------------------------------------------------------------

local function check_self(self, method)
  common.check_self(Job, self, method)
end

function Job.new(client, view)
  local job = setmetatable({}, Job)
  job.id = view.id
  job.problem_type = view.problem_type
  job.view = view
  job._client = client
  job._path = "/v1/jobs/" .. loop.escape(tostring(view.id))
  return job
end

-- Events and results in the same shape as local jobs'.
Job._event = common.event
Job._checked = common.checked

-- The job view now (GET /v1/jobs/{id}).
function Job:refresh()
  check_self(self, "refresh")
  self.view = self._client:_call("GET", self._path)
  return self.view
end

function Job:status()
  check_self(self, "status")
  if self._result then return self._result.status end
  if FINAL[self.view.status] then return self.view.status end
  return self:refresh().status
end

function Job:done()
  check_self(self, "done")
  return FINAL[self:status()] == true
end

-- ---- the event stream -------------------------------------------------

local Stream = {}
Stream.__index = Stream

-- The job's events after seq `after`; with `snapshot`, only those there
-- are now (?follow=false: the server ends the stream after them).
function Job:_stream(after, snapshot)
  return setmetatable({ job = self, last = after or 0, queue = {},
                        failures = 0, snapshot = snapshot }, Stream)
end

function Stream:open()
  local c = self.job._client
  local headers = c:_headers{ "Accept: text/event-stream" }
  if self.last > 0 then
    headers[#headers + 1] = "Last-Event-ID: " .. self.last
  end
  local url = c.url .. self.job._path .. "/events"
  if self.snapshot then url = url .. "?follow=false" end
  -- curl's own stall check (a speed averaged over seconds) is a backstop;
  -- `heard` finds a silent stream within the stall time.
  self.req = loop.request{ method = "GET", headers = headers, url = url,
                           timeout = 0, stall = c.stall_timeout }
  self.heard = loop.now()
  self.parser = http.sse_parser()
  self.raw = nil
end

function Stream:close()
  if self.req then self.req:close() end
  self.req = nil
end

-- Reopen after a failure (or complain when it keeps failing).
function Stream:reopen(why)
  self:close()
  self.failures = self.failures + 1
  if self.failures > remote.MAX_RECONNECTS then
    errors.raise("ServerError", string.format("the event stream of job " ..
      "%s failed %d times in a row: %s", self.job.id, self.failures - 1,
      why), { job_id = self.job.id })
  end
  local delay = self.parser and self.parser.retry_ms and
                self.parser.retry_ms / 1000 or
                remote.RECONNECT_BASE_S * 2 ^ (self.failures - 1)
  async.sleep(math.min(delay, remote.RECONNECT_MAX_S))
  self:open()
end

-- Queue the events in `chunk`, in order, dropping repeats; a gap (an
-- event missed) reopens from the last one seen.
function Stream:feed(chunk)
  for _, e in ipairs(self.parser:feed(chunk)) do
    local d = json.decode(e.data)
    local seq = type(d) == "table" and math.tointeger(d.seq) or
                math.tointeger(tonumber(e.id))
    if type(d) == "table" and seq then
      if seq > self.last + 1 and self.gap ~= seq then
        self.gap = seq  -- reopen once; a server without them is believed
        return "gap"
      elseif seq > self.last then
        d.seq, d.type = seq, d.type or e.event
        self.queue[#self.queue + 1] = d
        self.last = seq
      end
    end
  end
end

-- Wait for news on the open stream until `deadline`; a stream silent for
-- the stall time (no byte, not even a heartbeat) is reopened. Returns
-- false when the deadline came.
function Stream:idle(deadline)
  local stall = self.job._client.stall_timeout
  local stalled_at = self.heard + stall
  local now = loop.now()
  if now >= stalled_at then
    self:reopen(string.format("no byte for %g s", stall))
    return true
  end
  if deadline and now >= deadline then return false end
  async.wait{ req = self.req, deadline = math.min(deadline or stalled_at,
                                                    stalled_at) }
  return true
end

-- The next event, waiting until `deadline` (loop.now() time; nil: no
-- limit). Returns the decoded data, nil at the end of the stream, or
-- false when the deadline came first.
function Stream:next(deadline)
  while true do
    if #self.queue > 0 then
      self.failures = 0
      return table.remove(self.queue, 1)
    end
    if self.ended then return nil end
    if not self.req then self:open() end
    local chunk = self.req:take()
    if #chunk > 0 then self.heard = loop.now() end
    local done, status, err = self.req:info()
    if status ~= 0 and status ~= 200 then
      self.raw = (self.raw or "") .. chunk
      if done and not err then
        local res = { status = status, body = self.raw,
                      headers = http.parse_headers(self.req:headers()) }
        self:close()
        http.raise_for(res)
      end
    elseif #chunk > 0 then
      if self:feed(chunk) == "gap" then self:reopen("an event was missed")
      end
    end
    if #self.queue > 0 and self.queue[#self.queue].type ~= "progress" then
      self.ended = true
      self:close()
    elseif #self.queue == 0 and self.req and done then
      if err then self:reopen(err)
      elseif status == 200 and self.snapshot then
        self.ended = true
        self:close()
      elseif status == 200 then self:reopen("closed before the end") end
    elseif #self.queue == 0 and self.req then
      if self:idle(deadline) == false then return false end
    end
  end
end

-- Does the server have event streams? Decided on the first 404 from
-- one for a job that exists.
local function no_sse(job, err)
  if not errors.is(err, "NotFoundError") then return false end
  job:refresh()  -- raises NotFoundError if the job is the one missing
  job._client._no_sse = true
  return true
end

-- Iterator over the job's events (see nerox.job): resumes with
-- Last-Event-ID after a broken connection, never repeating or skipping
-- an event.
function Job:stream(opts)
  check_self(self, "stream")
  local st
  return common.stream(self, opts, function(last, timeout)
    st = st or self:_stream(last)
    local ok, d = pcall(st.next, st, timeout and loop.now() + timeout)
    if not ok then st:close(); error(d, 0) end
    return d
  end)
end

-- The events there are now, after seq `after` (GET .../events with
-- follow=false: the server sends them and ends the stream).
function Job:events(after)
  check_self(self, "events")
  return common.events(self, after, function(from)
    local st, out = self:_stream(from, true), {}
    while true do
      local ok, d = pcall(st.next, st)
      if not ok then st:close(); error(d, 0) end
      if not d then return out end
      out[#out + 1] = d
    end
  end)
end

-- ---- cancel, result, wait -------------------------------------------------

function Job:cancel()
  check_self(self, "cancel")
  local ok, view = pcall(self._client._call, self._client, "POST",
                         self._path .. "/cancel", "")
  if ok then self.view = view; return true end
  if errors.is(view, "ConflictError") then return false end
  error(view, 0)
end

function Job:result()
  check_self(self, "result")
  if not self._result then
    local res = self._client:_call("GET", self._path .. "/result")
    res.job_id = self.id
    self._result = res
    self.view.status = res.status
  end
  return self:_checked(self._result)
end

-- Wait by polling the job (a server without event streams), with
-- intervals growing from POLL_FIRST_S to POLL_MAX_S.
function Job:_poll_until(deadline)
  local interval = remote.POLL_FIRST_S
  while not FINAL[self:refresh().status] do
    if deadline and loop.now() >= deadline then return false end
    local pause = interval
    if deadline then pause = math.min(pause, deadline - loop.now()) end
    async.sleep(math.max(0, pause))
    interval = math.min(interval * 2, remote.POLL_MAX_S)
  end
  return true
end

function Job:_until_final(deadline)
  if FINAL[self.view.status] then return true end
  if not self._client._no_sse then
    local st = self:_stream(self._last_seq or 0)
    while true do
      local ok, d = pcall(st.next, st, deadline)
      if not ok then
        st:close()
        if no_sse(self, d) then break end
        error(d, 0)
      end
      if d == false then st:close(); return false end
      if d == nil then return true end
      self._last_seq = d.seq
      if d.type ~= "progress" then
        self.view.status = d.type
        st:close()
        return true
      end
    end
  end
  return self:_poll_until(deadline)
end

function Job:wait(opts)
  check_self(self, "wait")
  local timeout = common.wait_timeout(opts)
  local deadline = timeout and loop.now() + timeout
  if not self:_until_final(deadline) then
    local ok, state = pcall(self.status, self)
    common.wait_timeout_error(self, timeout,
                              ok and state or self.view.status)
  end
  return self:result()
end

require("nerox.metrics").instrument(Job, { "wait", "result" })

return remote
