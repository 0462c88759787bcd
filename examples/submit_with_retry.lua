-- Exponential backoff with full jitter (production guide): submit a job
-- and wait for it, retrying rate limits (never sooner than the server's
-- Retry-After) and server errors, never job failures. The retried submit
-- carries the first attempt's Idempotency-Key, so it cannot make a second
-- job. Runs locally, or against a server with NEROX_API_URL and
-- NEROX_API_KEY set.
-- Usage: nerox run examples/submit_with_retry.lua [CITIES] [MAX_RETRIES]

local nerox = require "nerox"

local n = math.tointeger(tonumber(arg and arg[1] or "")) or 12
local max_retries = math.tointeger(tonumber(arg and arg[2] or "")) or 5

-- A random symmetric distance matrix of n cities (seeded: repeatable).
local function random_matrix(cities, seed)
  math.randomseed(seed)
  local m = {}
  for i = 1, cities do m[i] = {} end
  for i = 1, cities do
    m[i][i] = 0
    for j = i + 1, cities do
      local d = math.random(1, 100)
      m[i][j], m[j][i] = d, d
    end
  end
  math.randomseed(os.time())
  return m
end

local function submit_with_retry(client, problem_type, payload, retries)
  local policy = nerox.retry{
    max_retries = retries, base = 1, cap = 60, jitter = "full",
    on_retry = function(info)
      print(string.format("Rate limited. Retry %d/%d in %.1fs",
                          info.attempt, info.max_retries, info.delay))
    end,
  }
  return policy(function()
    local submission = { problem_type = problem_type }
    for k, v in pairs(payload) do submission[k] = v end
    local job = client.optimize:submit(submission)
    return job:wait{timeout = 600}
  end)
end

local client = nerox.Client()
local result = submit_with_retry(client, "tsp", {
  distance_matrix = random_matrix(n, 42), sweeps = 2000, seed = 7,
  solver = "cpu",
}, max_retries)
print(string.format("job %s %s: length %s on %s", result.job_id,
                    result.status, tostring(result.energy), result.device))
