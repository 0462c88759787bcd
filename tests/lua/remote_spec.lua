-- Specs for the remote client's pieces that need no server: JSON with
-- integers kept apart from reals, the HTTP error mapping and Retry-After
-- parsing, the Server-Sent Events parser, the retry policy, and tasks on
-- the event loop (gather, semaphores, errors, sleep, local jobs).

local nerox = require "nerox"
local json = require "nerox.json"
local http = require "nerox.http"
local loop = require "nerox.loop"

describe("nerox.json", function()
  it("keeps integers and reals apart both ways", function()
    local v = json.decode('{"a": 23, "b": 23.0, "c": [1, 2.5]}')
    assert.equal("integer", math.type(v.a))
    assert.equal("float", math.type(v.b))
    assert.equal(2.5, v.c[2])
    assert.equal('{"a":23,"b":23.0}', json.encode{ a = 23, b = 23.0 })
  end)

  it("round-trips doubles exactly and sorts keys", function()
    local x = 0.1 + 0.2
    assert.equal(x, json.decode(json.encode{ x })[1])
    assert.equal('{"a":1,"b":2,"c":3}', json.encode{ c = 3, a = 1, b = 2 })
  end)

  it("drops nulls in objects, keeps json.null in arrays", function()
    local v = json.decode('{"a": null, "b": [null, 1]}')
    assert.is_nil(v.a)
    assert.equal(json.null, v.b[1])
  end)

  it("reports bad text and refuses what JSON cannot hold", function()
    local v, err = json.decode('{"a": ')
    assert.is_nil(v)
    assert.matches("line 1", err)
    assert.has_error(function() json.encode{ f = print } end)
    assert.has_error(function() json.encode{ 0 / 0 } end)
    local t = {}
    t.self = t
    assert.has_error(function() json.encode(t) end)
  end)
end)

describe("HTTP answers as error values", function()
  local function answer(status, body, headers)
    return http.error_for{ status = status, body = body,
                           headers = headers or {} }
  end

  it("maps each status to its kind, in one place", function()
    local cases = { [400] = "ValidationError", [413] = "ValidationError",
      [401] = "AuthError", [403] = "PermissionError",
      [404] = "NotFoundError", [409] = "ConflictError",
      [429] = "RateLimitError", [500] = "ServerError",
      [503] = "ServerError", [502] = "ServerError" }
    for status, kind in pairs(cases) do
      assert.equal(kind, answer(status, "{}").kind, tostring(status))
    end
  end)

  it("keeps the field and strips it from the message", function()
    local e = answer(400, '{"error": {"type": "validation_error", ' ..
      '"message": "seed: must be at least 0", "field": "seed"}}')
    assert.equal("seed", e.field)
    assert.equal("must be at least 0", e.message)
    assert.equal("ValidationError: seed: must be at least 0", tostring(e))
  end)

  it("reads retry_after, reset_at and limit from a 429", function()
    local e = answer(429, '{"error": {"type": "rate_limited", ' ..
      '"message": "slow", "limit": "requests_per_minute"}}',
      { ["retry-after"] = "7", ["x-ratelimit-reset"] = "1800000000" })
    assert.equal(7, e.retry_after)
    assert.equal(1800000000, e.reset_at)
    assert.equal("requests_per_minute", e.limit)
  end)

  it("survives a body that is not JSON", function()
    local e = answer(502, "<html>bad gateway</html>")
    assert.equal("ServerError", e.kind)
    assert.equal("HTTP 502", e.message)
  end)
end)

describe("Retry-After", function()
  local now = 1800000000
  it("reads seconds and HTTP dates", function()
    assert.equal(120, http.retry_after("120", now))
    assert.equal(30, http.retry_after(" 30 ", now))
    local date = os.date("!%a, %d %b %Y %H:%M:%S GMT", now + 42)
    assert.equal(42, http.retry_after(date, now))
  end)

  it("gives 0 for the past and negatives, the cap for huge", function()
    local past = os.date("!%a, %d %b %Y %H:%M:%S GMT", now - 100)
    assert.equal(0, http.retry_after(past, now))
    assert.equal(0, http.retry_after("-5", now))
    assert.equal(http.MAX_RETRY_AFTER_S, http.retry_after("99999999", now))
    assert.equal(http.MAX_RETRY_AFTER_S,
                 http.retry_after("99999999999999999999999999", now))
  end)

  it("ignores garbage", function()
    for _, v in ipairs{ "", "soon", "12abc", "1e400", "Wed, 99 Foo",
                        "--3" } do
      assert.is_nil(http.retry_after(v, now), v)
    end
    assert.is_nil(http.retry_after(nil, now))
  end)
end)

describe("the Server-Sent Events parser", function()
  local text = "retry: 2000\n\nid: 1\nevent: progress\ndata: {\"seq\":1}" ..
    "\n\n: heartbeat\n\nid: 2\r\nevent: succeeded\r\ndata: {\"seq\":2}" ..
    "\r\n\r\n"

  it("reassembles events split at every byte", function()
    local p, got = http.sse_parser(), {}
    for i = 1, #text do
      for _, e in ipairs(p:feed(text:sub(i, i))) do got[#got + 1] = e end
    end
    assert.equal(2, #got)
    assert.same({ id = "1", event = "progress", data = '{"seq":1}' }, got[1])
    assert.same({ id = "2", event = "succeeded", data = '{"seq":2}' },
                got[2])
    assert.equal(1, p.heartbeats)
    assert.equal(2000, p.retry_ms)
  end)

  it("joins data lines and holds a partial event", function()
    local p = http.sse_parser()
    assert.equal(0, #p:feed("data: a\ndata: b\n"))
    local evs = p:feed("\n")
    assert.equal("a\nb", evs[1].data)
  end)
end)

describe("nerox.retry", function()
  local function rate_limited(after)
    return nerox.RateLimitError("slow", { retry_after = after })
  end

  it("uses full jitter under the exponential cap", function()
    local p = nerox.retry{ base = 1, cap = 8, random = function()
      return 0.5 end }
    assert.equal(0.5, p:delay(0))
    assert.equal(2, p:delay(2))
    assert.equal(4, p:delay(10))  -- capped at 8, half of it
  end)

  it("never waits less than Retry-After", function()
    local p = nerox.retry{ random = function() return 0 end }
    assert.equal(3, p:delay(0, rate_limited(3)))
  end)

  it("raises at once when Retry-After is over the cap", function()
    local p = nerox.retry{ base = 0.001, cap = 2 }
    assert.is_nil(p:delay(0, rate_limited(300)))
    assert.equal(2, p:delay(0, rate_limited(2)))
    local calls = 0
    local ok, err = pcall(p, function()
      calls = calls + 1
      error(rate_limited(300), 0)
    end)
    assert.is_false(ok)
    assert.equal(300, err.retry_after)
    assert.equal(1, calls)
  end)

  it("retries rate limits until success", function()
    local calls = 0
    local p = nerox.retry{ max_retries = 3, base = 0.001, cap = 0.002 }
    local v = p(function()
      calls = calls + 1
      if calls < 3 then error(rate_limited(0), 0) end
      return "done"
    end)
    assert.equal("done", v)
    assert.equal(3, calls)
  end)

  it("never retries job failures, bad input or auth errors", function()
    for _, kind in ipairs{ "JobFailedError", "ValidationError",
                           "AuthError", "PermissionError" } do
      local calls = 0
      local p = nerox.retry{ max_retries = 3, base = 0.001, cap = 0.002 }
      local ok, err = pcall(p, function()
        calls = calls + 1
        error(nerox[kind]("no"), 0)
      end)
      assert.is_false(ok)
      assert.equal(kind, err.kind)
      assert.equal(1, calls, kind)
    end
    assert.has_error(function()
      nerox.retry{ retry_on = { "JobFailedError" } }
    end)
  end)

  it("raises the last error after max_retries", function()
    local calls = 0
    local p = nerox.retry{ max_retries = 2, base = 0.001, cap = 0.002 }
    local ok, err = pcall(p, function()
      calls = calls + 1
      error(nerox.ServerError("down"), 0)
    end)
    assert.is_false(ok)
    assert.equal("ServerError", err.kind)
    assert.equal(3, calls)
  end)

  it("reuses the idempotency key of a retried submit", function()
    local remote = require "nerox.remote"
    local keys = {}
    local p = nerox.retry{ max_retries = 2, base = 0.001, cap = 0.002 }
    p(function()
      keys[#keys + 1] = remote.idempotency_key()
      keys[#keys + 1] = remote.idempotency_key()
      if #keys < 6 then error(rate_limited(0), 0) end
    end)
    assert.equal(keys[1], keys[3])
    assert.equal(keys[1], keys[5])
    assert.equal(keys[2], keys[6])
    assert.are_not.equal(keys[1], keys[2])
    assert.are_not.equal(remote.idempotency_key(),
                         remote.idempotency_key())
  end)
end)

describe("tasks on the event loop", function()
  it("gathers results in order while the tasks interleave", function()
    local order = {}
    local tasks = {}
    for i = 1, 3 do
      tasks[i] = nerox.async(function()
        nerox.sleep(0.2 * (4 - i))
        order[#order + 1] = i
        return i * 10
      end)
    end
    local t0 = loop.now()
    assert.same({ 10, 20, 30 }, nerox.gather(tasks))
    assert.same({ 3, 2, 1 }, order)
    -- Concurrent: about 0.6 s, where one after another would take 1.2 s
    -- (a margin for a loaded machine).
    assert.is_true(loop.now() - t0 < 1.0)
  end)

  it("caps concurrency with a semaphore", function()
    local sem = nerox.semaphore(2)
    local live, peak = 0, 0
    local tasks = {}
    for i = 1, 6 do
      tasks[i] = nerox.async(function()
        local slot <close> = sem:acquire()
        live = live + 1
        peak = math.max(peak, live)
        nerox.sleep(0.01)
        live = live - 1
      end)
    end
    nerox.gather(tasks)
    assert.equal(2, peak)
    assert.equal(0, sem:count())
  end)

  it("hands an error to the gatherer and frees the slot", function()
    local sem = nerox.semaphore(1)
    local done = 0
    local tasks = {
      nerox.async(function()
        return sem:with(function() error(nerox.ServerError("boom"), 0) end)
      end),
      nerox.async(function()
        return sem:with(function() nerox.sleep(0.01); done = done + 1
          return "ok" end)
      end),
    }
    local ok, err = pcall(nerox.gather, tasks)
    assert.is_false(ok)
    assert.equal("ServerError", err.kind)
    assert.equal(1, done)  -- the other task went on
    assert.equal(0, sem:count())
    local res = nerox.gather(tasks, { return_errors = true })
    assert.equal("ServerError", res[1].kind)
    assert.equal("ok", res[2])
  end)

  it("reports an error no one read when the task is collected", function()
    local async = require "nerox.async"
    local lost, report = {}, async.report_lost
    async.report_lost = function(err) lost[#lost + 1] = tostring(err) end
    local a = nerox.async(function() error("unread", 0) end)
    local b = nerox.async(function() error("gathered", 0) end)
    local c = nerox.async(function() error("read", 0) end)
    pcall(nerox.gather, { b })
    nerox.run()
    assert.equal("read", c:error())
    a, b, c = nil, nil, nil
    collectgarbage()
    collectgarbage()
    async.report_lost = report
    assert.same({ "unread" }, lost)
  end)

  it("runs local jobs concurrently, woken by the engine", function()
    local client = nerox.Client{ mode = "local" }
    local m = { { 0, 2, 9, 10 }, { 2, 0, 6, 4 }, { 9, 6, 0, 8 },
                { 10, 4, 8, 0 } }
    local tasks = {}
    for i = 1, 4 do
      tasks[i] = nerox.async(function()
        local job = client.optimize:tsp{ distance_matrix = m, sweeps = 200,
                                         seed = i, solver = "cpu" }
        local n = 0
        for _ in job:stream() do n = n + 1 end
        assert.is_true(n >= 1)
        return job:wait{ timeout = 20 }.energy
      end)
    end
    assert.same({ 23, 23, 23, 23 }, nerox.gather(tasks))
  end)

  it("times out a wait inside a task without cancelling", function()
    local client = nerox.Client{ mode = "local" }
    local job = client.optimize:tsp{ coordinates = { { 0, 0 }, { 1, 5 },
      { 4, 2 }, { 6, 6 }, { 3, 9 } }, time_limit = 5, solver = "cpu" }
    local t = nerox.async(function()
      local ok, err = pcall(job.wait, job, { timeout = 0.1 })
      return ok, err.kind
    end)
    local r = nerox.gather{ t }
    assert.is_false(r[1])
    assert.is_true(job:cancel())
    assert.equal("cancelled", job:status())
  end)
end)
