-- Bounded concurrency (production guide): solve a batch of TSP instances
-- in parallel with at most MAX_CONCURRENT jobs at a time (your plan's
-- concurrent-job limit), on coroutines of the host's event loop. Each job
-- is submitted and awaited under nerox.retry, so a 429 waits (full jitter,
-- never before Retry-After) instead of failing the batch, and a retried
-- submit never makes a second job.
-- Usage: nerox run examples/batch.lua [JOBS] [MAX_CONCURRENT]
--   (MAX_CONCURRENT defaults to NEROX_MAX_CONCURRENT, else 5: pro)

local nerox = require "nerox"

local jobs = math.tointeger(tonumber(arg and arg[1] or "")) or 20
local max_concurrent = math.tointeger(tonumber(arg and arg[2] or "")) or
  math.tointeger(tonumber(os.getenv("NEROX_MAX_CONCURRENT") or "")) or 5

-- Instance k: 8 to 12 cities on a grid, distances rounded (repeatable).
local function matrix(k)
  local n, pts = 8 + k % 5, {}
  for i = 1, n do pts[i] = { (i * 37 + k * 11) % 50, (i * 53 + k * 7) % 50 } end
  local m = {}
  for i = 1, n do
    m[i] = {}
    for j = 1, n do
      local dx, dy = pts[i][1] - pts[j][1], pts[i][2] - pts[j][2]
      m[i][j] = math.floor(math.sqrt(dx * dx + dy * dy) + 0.5)
    end
  end
  return m
end

local function process_batch(matrices, limit)
  local client = nerox.Client()
  local semaphore = nerox.semaphore(limit)
  local retry = nerox.retry{ max_retries = 8, base = 0.5, cap = 30 }
  local hits = 0
  -- Count the 429s seen, then let the policy decide.
  local function counted(fn)
    return function()
      local ok, res = pcall(fn)
      if ok then return res end
      if nerox.is(res, nerox.RateLimitError) then hits = hits + 1 end
      error(res, 0)
    end
  end
  local function solve_one(m)
    local slot <close> = semaphore:acquire()
    -- Submit and wait are retried apart: a 429 while waiting does not
    -- submit again (and a retried submit would return the same job).
    local job = retry(counted(function()
      return client.optimize:tsp{ distance_matrix = m, sweeps = 500,
                                  seed = 1, solver = "cpu" }
    end))
    return retry(counted(function() return job:wait{ timeout = 600 } end))
  end
  local tasks = {}
  for i, m in ipairs(matrices) do tasks[i] = nerox.async(solve_one, m) end
  return nerox.gather(tasks), hits
end

local matrices = {}
for k = 1, jobs do matrices[k] = matrix(k) end
local t0 = os.time()
local results, hits = process_batch(matrices, max_concurrent)
local ok = 0
for i, r in ipairs(results) do
  if r.status == "succeeded" then ok = ok + 1 end
  print(string.format("%2d %s %s length %s", i, r.job_id, r.status,
                      tostring(r.energy)))
end
print(string.format("%d of %d succeeded, %d rate-limited attempts, " ..
                    "concurrency %d, %d s", ok, jobs, hits, max_concurrent,
                    os.time() - t0))
if ok ~= jobs then os.exit(1) end
