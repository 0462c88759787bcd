-- Tasks on the host's event loop: coroutines scheduled on libcurl's
-- multi interface (nerox.loop) and woken by the local engine.
--
--   local t = nerox.async(function(x) ... return y end, x)  -- a task
--   local ys = nerox.gather{t1, t2}          -- results in order
--   local sem = nerox.semaphore(5)
--   do local slot <close> = sem:acquire() ... end  -- or sem:with(fn)
--   nerox.sleep(0.5)
--
-- A call that waits (an HTTP answer, a local job's event, a sleep, a
-- semaphore, another task) yields inside a task and lets the others run;
-- outside a task it runs the loop itself until its own wait is over, so
-- plain scripts need no tasks at all.
--
-- An error in a task reaches whoever reads it (task:result(),
-- task:error(), nerox.gather); one nobody read is reported on stderr as
-- "nerox: task error not gathered: ..." when the task is collected, at
-- the latest when the script ends, so it never vanishes.

local loop = require "nerox.loop"
local check = require "nerox.check"
local errors = require "nerox.errors"

local async = {}

-- Longest single poll while something waits only on a local job: the
-- engine wakes the poll, this bounds a missed wakeup.
async.ENGINE_POLL_S = 0.25
-- Longest single poll otherwise (the loop polls again after it).
async.MAX_POLL_S = 5

local WAIT = {}          -- marks our yields
local tasks = {}         -- coroutine -> task (live tasks)
local n_live = 0
local ready = {}         -- tasks to resume, in order
local waiters = {}       -- waiter -> true (task or blocked caller)
local by_req = {}        -- request -> waiter
local timed = {}         -- waiters with a deadline
local on_engine = {}     -- waiters woken by any local job's change
local caller_woken = false  -- a blocked caller (not a task) may go on

local Task = {}
Task.__index = Task

-- Where an error no one read goes (tests replace it).
function async.report_lost(err)
  io.stderr:write("nerox: task error not gathered: ", tostring(err), "\n")
end

-- A task collected (or left at the end) with an error no one read.
function Task.__gc(task)
  if task.err ~= nil and not task.err_read then
    pcall(async.report_lost, task.err)
  end
end

local Semaphore = {}
Semaphore.__index = Semaphore

-- The task running now, or nil outside one.
function async.current()
  local co = coroutine.running()
  return tasks[co]
end

-- Whether any task is not finished.
function async.busy()
  return n_live > 0
end

-- Register a waiter's wait spec: {req = R, engine = true, deadline = T,
-- signal = true}. Any one of them ends the wait.
local function arm(w, spec)
  w.spec = spec
  w.woken = nil
  waiters[w] = true
  if spec.req then by_req[spec.req] = w end
  if spec.deadline then timed[w] = true end
  if spec.engine then on_engine[w] = true end
end

-- End a waiter's wait with `reason` and queue it if it is a task.
local function wake(w, reason)
  if not waiters[w] then return end
  waiters[w] = nil
  timed[w], on_engine[w] = nil, nil
  if w.spec.req and by_req[w.spec.req] == w then by_req[w.spec.req] = nil end
  w.spec = nil
  w.woken = reason
  if w.co then ready[#ready + 1] = w else caller_woken = true end
end
async._wake = wake

local function finish(task, ok, ...)
  task.done = true
  n_live = n_live - 1
  tasks[task.co] = nil
  if ok then
    task.values = table.pack(...)
  else
    task.err = (...)
    if task.err == nil then task.err = errors.Error("a task failed") end
    -- A coroutine that dies of an error keeps its to-be-closed
    -- variables open (semaphore slots among them) until closed.
    coroutine.close(task.co)
  end
  for _, w in ipairs(task.joiners) do wake(w, "signal") end
  task.joiners = {}
end

local function resume(task)
  if coroutine.status(task.co) ~= "suspended" then return end
  local reason = task.woken
  task.woken = nil
  local res = table.pack(coroutine.resume(task.co, reason))
  if coroutine.status(task.co) == "dead" then
    finish(task, table.unpack(res, 1, res.n))
  elseif res[2] == WAIT then
    arm(task, res[3])
  else  -- a plain coroutine.yield() inside a task: run again next step
    ready[#ready + 1] = task
  end
end

-- One turn of the loop: run the ready tasks, then poll the network and
-- the engine for at most `max_wait` seconds (less when a deadline comes
-- sooner) and wake whoever they concern.
local function step(max_wait)
  local batch = ready
  ready = {}
  for _, task in ipairs(batch) do resume(task) end
  if caller_woken then  -- a task ended a blocked caller's wait
    caller_woken = false
    return
  end
  local now = loop.now()
  local wait = #ready > 0 and 0 or max_wait
  for w in pairs(timed) do
    wait = math.min(wait, math.max(0, w.spec.deadline - now))
  end
  local bounded = next(on_engine) ~= nil and wait >= async.ENGINE_POLL_S
  if bounded then wait = async.ENGINE_POLL_S end
  local changed, engine = loop.poll(math.max(0, wait))
  for _, req in ipairs(changed) do
    local w = by_req[req]
    if w then wake(w, "req") end
  end
  if engine or bounded then  -- a job changed, or look again anyway
    for w in pairs(on_engine) do wake(w, "engine") end
  end
  now = loop.now()
  for w in pairs(timed) do
    if now >= w.spec.deadline then wake(w, "timeout") end
  end
end

-- Wait for `spec` (see arm). Inside a task: yield to the loop. Outside:
-- drive the loop (running the tasks too) until the wait is over. Returns
-- why it ended: "req", "engine", "timeout" or "signal".
function async.wait(spec)
  if async.current() then
    return (coroutine.yield(WAIT, spec))
  end
  local me = {}
  arm(me, spec)
  while not me.woken do step(async.MAX_POLL_S) end
  return me.woken
end

-- The waiter for the running code: the task, or a record for a caller
-- blocked outside any task (filled in by async.wait's arm).
local function self_waiter()
  return async.current()
end

-- ---- tasks ----------------------------------------------------------

-- nerox.async(fn, ...): run fn(...) as a task; it starts at the loop's
-- next turn. Returns the task.
function async.spawn(fn, ...)
  if type(fn) ~= "function" then
    check.fail("fn", "expected a function, got %s", check.describe(fn))
  end
  local args = table.pack(...)
  local task = setmetatable({ joiners = {}, done = false }, Task)
  task.co = coroutine.create(function()
    return fn(table.unpack(args, 1, args.n))
  end)
  tasks[task.co] = task
  n_live = n_live + 1
  ready[#ready + 1] = task
  return task
end

-- Wait until `task` is finished (yields inside a task).
local function join(task)
  while not task.done do
    local me = self_waiter()
    if me then
      task.joiners[#task.joiners + 1] = me
      async.wait{ signal = true }
    else
      -- Outside a task: drive the loop until it is done.
      local rec = {}
      task.joiners[#task.joiners + 1] = rec
      arm(rec, { signal = true })
      while not rec.woken do step(async.MAX_POLL_S) end
    end
  end
end

-- task:result(): wait for the task; its values, or raise its error.
function Task:result()
  join(self)
  if self.err then
    self.err_read = true
    error(self.err, 0)
  end
  return table.unpack(self.values, 1, self.values.n)
end

function Task:is_done()
  return self.done
end

-- The task's error value (nil while running or if it succeeded).
function Task:error()
  if self.err ~= nil then self.err_read = true end
  return self.err
end

-- nerox.gather(tasks, {return_errors = bool}): wait for every task (each
-- a task or a function to spawn) and return their first values in order.
-- The others go on when one fails; once all are done, the first error in
-- list order is raised, or with return_errors the error values stand in
-- the list in place of results.
function async.gather(list, opts)
  check.table(list, "tasks")
  opts = check.table(opts or {}, "options")
  local ts = {}
  for i, t in ipairs(list) do
    ts[i] = type(t) == "function" and async.spawn(t) or t
    if getmetatable(ts[i]) ~= Task then
      check.fail(string.format("tasks[%d]", i),
                 "expected a task or a function, got %s",
                 check.describe(t))
    end
  end
  local out = {}
  for i, t in ipairs(ts) do
    join(t)
    if t.err then
      t.err_read = true  -- raised or returned: the gatherer has it
      out[i] = t.err
    else
      out[i] = t.values[1]
    end
  end
  if not opts.return_errors then
    for _, t in ipairs(ts) do
      if t.err then error(t.err, 0) end
    end
  end
  return out
end

-- nerox.sleep(s): pause for s seconds.
function async.sleep(s)
  check.number(s, "seconds")
  if s < 0 then check.fail("seconds", "must not be negative") end
  local deadline = loop.now() + s
  repeat
    async.wait{ deadline = deadline }
  until loop.now() >= deadline
end

-- Run the loop until every task is finished.
function async.run()
  while n_live > 0 do step(async.MAX_POLL_S) end
end

-- ---- semaphores -------------------------------------------------------

-- nerox.semaphore(n): at most n holders at a time.
function async.semaphore(n)
  n = check.integer(n, "n", 1)
  return setmetatable({ limit = n, held = 0, queue = {}, head = 1 },
                      Semaphore)
end

local Slot = {}
Slot.__index = Slot
function Slot:release()
  if self.released then return end
  self.released = true
  local sem = self.sem
  while sem.head <= #sem.queue do
    local w = sem.queue[sem.head]
    sem.queue[sem.head] = nil
    sem.head = sem.head + 1
    if waiters[w] then  -- hand the slot over
      w.granted = true
      wake(w, "signal")
      return
    end
  end
  sem.queue, sem.head = {}, 1
  sem.held = sem.held - 1
end
Slot.__close = Slot.release

-- sem:acquire(): wait for a slot; returns it (slot:release(), or a
-- `local s <close> = sem:acquire()` variable releases it).
function Semaphore:acquire()
  if self.held < self.limit then
    self.held = self.held + 1
    return setmetatable({ sem = self }, Slot)
  end
  local me = self_waiter() or {}
  me.granted = false
  self.queue[#self.queue + 1] = me
  if me.co then
    repeat async.wait{ signal = true } until me.granted
  else
    arm(me, { signal = true })
    while not me.woken do step(async.MAX_POLL_S) end
  end
  me.granted = nil
  return setmetatable({ sem = self }, Slot)
end

-- sem:with(fn, ...): fn(...) holding a slot; the slot is released when
-- fn returns or raises.
function Semaphore:with(fn, ...)
  local slot <close> = self:acquire()
  return fn(...)
end

-- Holders now.
function Semaphore:count()
  return self.held
end

return async
