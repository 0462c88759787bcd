-- nerox.retry: the production guide's backoff as a policy object.
--
--   local retry = nerox.retry{max_retries = 5, base = 1, cap = 60}
--   local result = retry(function()
--     return client.optimize:tsp{distance_matrix = m}:wait{timeout = 600}
--   end)
--
-- Attempt k (0-based) that fails with a retryable error sleeps a random
-- time in [0, min(cap, base * 2^k)] (full jitter), and never less than
-- the server's Retry-After; a Retry-After beyond `cap` is not waited out
-- (the RateLimitError is raised at once: its retry_after says when to
-- come back, and the caller asked never to wait longer). Job failures,
-- bad input, auth and permission errors, missing jobs and conflicts are
-- never retried. Inside an
-- attempt, the n-th submit reuses the Idempotency-Key of the n-th submit
-- of the first attempt, so a retried submit returns the same job.

local async = require "nerox.async"
local check = require "nerox.check"
local errors = require "nerox.errors"

local retry = {}

-- Kinds retried unless `retry_on` says otherwise.
retry.DEFAULT_KINDS = { "RateLimitError", "ServerError" }
-- Kinds never retried, whatever `retry_on` says: retrying cannot help.
retry.NEVER = {
  JobFailedError = true, ValidationError = true, AuthError = true,
  PermissionError = true, NotFoundError = true, ConflictError = true,
}

local Policy = {}
Policy.__index = Policy

-- nerox.retry{max_retries = 5, base = 1, cap = 60, jitter = "full",
-- retry_on = {kinds}, on_retry = function(info) end}.
function retry.new(opts)
  opts = check.table(opts or {}, "options")
  check.known_keys(opts, { max_retries = true, base = true, cap = true,
                           jitter = true, retry_on = true, on_retry = true,
                           random = true })
  local p = setmetatable({}, Policy)
  p.max_retries = check.integer(opts.max_retries or 5, "max_retries", 0,
                                1000)
  p.base = check.number(opts.base or 1, "base")
  p.cap = check.number(opts.cap or 60, "cap")
  if p.base <= 0 then check.fail("base", "must be positive") end
  if p.cap < p.base then check.fail("cap", "must be at least base") end
  p.jitter = check.choice(opts.jitter or "full", "jitter",
                          { "full", "none" })
  p.kinds = {}
  for i, k in ipairs(opts.retry_on or retry.DEFAULT_KINDS) do
    local name = tostring(k)
    if not errors[name] or name == "Error" then
      check.fail(string.format("retry_on[%d]", i), "not an error kind: %s",
                 check.describe(k))
    end
    if retry.NEVER[name] then
      check.fail(string.format("retry_on[%d]", i), "%s is never retried",
                 name)
    end
    p.kinds[name] = true
  end
  if opts.on_retry ~= nil and type(opts.on_retry) ~= "function" then
    check.fail("on_retry", "expected a function")
  end
  p.on_retry = opts.on_retry
  p.random = opts.random or math.random
  return p
end

-- Whether `err` is worth another attempt under this policy.
function Policy:retryable(err)
  return errors.is_error(err) and self.kinds[err.kind] == true
end

-- The pause before the retry that follows failed attempt `attempt`
-- (0-based) with `err`, or nil when the server asks for a longer one
-- than the cap.
function Policy:delay(attempt, err)
  local ceiling = math.min(self.cap, self.base * 2 ^ attempt)
  local d = ceiling
  if self.jitter == "full" then d = self.random() * ceiling end
  local floor = errors.is_error(err) and tonumber(err.retry_after)
  if floor and floor > self.cap then return nil end
  if floor and floor > d then d = floor end
  return d
end

-- policy(fn, ...): fn(...) until it succeeds, fails with an error that is
-- not retried, or has failed max_retries + 1 times (the last error is
-- raised).
function Policy:call(fn, ...)
  if type(fn) ~= "function" then
    check.fail("fn", "expected a function, got %s", check.describe(fn))
  end
  local remote = require "nerox.remote"
  local ctx = {}
  for attempt = 0, self.max_retries do
    local prev = remote.begin_attempt(ctx)
    local res = table.pack(pcall(fn, ...))
    remote.end_attempt(prev)
    if res[1] then return table.unpack(res, 2, res.n) end
    local err = res[2]
    if attempt == self.max_retries or not self:retryable(err) then
      error(err, 0)
    end
    local d = self:delay(attempt, err)
    if not d then error(err, 0) end
    if self.on_retry then
      self.on_retry{ attempt = attempt + 1, max_retries = self.max_retries,
                     delay = d, error = err }
    end
    async.sleep(d)
  end
end
Policy.__call = Policy.call

return retry
