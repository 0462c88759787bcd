-- The nerox Lua SDK (module "nerox"): clients, jobs and error kinds.
--
--   local nerox = require "nerox"
--   local client = nerox.Client()
--   local job = client.optimize:tsp{distance_matrix = m, time_limit = 5}
--   for event in job:stream() do print(event.best_energy) end
--   local result = job:wait{timeout = 60}
--
-- See docs/sdk.md for the whole surface.

local errors = require "nerox.errors"
local client = require "nerox.client"

local nerox = {}

-- The SDK version: the engine's, as reported in every result.
function nerox.version()
  return require("nerox.core").version()
end

-- A client: the local engine of this process, or a server when
-- NEROX_API_URL (or opts.url) is set (see nerox.client).
function nerox.Client(opts)
  return client.new(opts)
end

-- Tasks on the host's event loop (nerox.async).
local async = require "nerox.async"
nerox.async = async.spawn
nerox.gather = async.gather
nerox.semaphore = async.semaphore
nerox.sleep = async.sleep
nerox.run = async.run

-- Backoff with full jitter (nerox.retry).
function nerox.retry(opts)
  return require("nerox.retry").new(opts)
end

-- SDK metrics (NEROX_METRICS=1); nerox.metrics.enabled() tells.
nerox.metrics = require "nerox.metrics"

-- Error kinds and the test for them: nerox.is(err, nerox.TimeoutError).
nerox.Error = errors.Error
nerox.RateLimitError = errors.RateLimitError
nerox.JobFailedError = errors.JobFailedError
nerox.AuthError = errors.AuthError
nerox.PermissionError = errors.PermissionError
nerox.ValidationError = errors.ValidationError
nerox.TimeoutError = errors.TimeoutError
nerox.NotFoundError = errors.NotFoundError
nerox.ServerError = errors.ServerError
nerox.ConflictError = errors.ConflictError
nerox.is = errors.is

return nerox
