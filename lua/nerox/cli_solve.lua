-- `nerox solve FILE [options]`: one-shot solve of a TSPLIB (.tsp), rudy /
-- G-set (Max-Cut), OR-Library bqp (QUBO) or JSON payload file through the
-- SDK on the local engine. The C main calls main(args) with the words
-- after "solve" and exits with what it returns: 0 ok, 1 error, 2 usage.
-- Results go to stdout (one JSON object with --json); messages and the
-- live progress line (only when stderr is a terminal) go to stderr.

local nerox = require "nerox"
local errors = require "nerox.errors"
local params = require "nerox.params"

local cli = {}

cli.USAGE = [[
usage: nerox solve FILE [options]
  FILE                a TSPLIB .tsp file, a rudy / G-set graph (Max-Cut),
                      an OR-Library bqp*.txt file (QUBO) or a .json payload
                      {"problem_type": ..., ...}
  --format F          tsplib, rudy, bqp or json (default: from the file)
  --instance K        which instance of a bqp file (default 1)
  --solver NAME       cpu, gpu or auto (default auto)
  --time-limit S      stop after S seconds (default 10 unless --sweeps)
  --sweeps N          stop after N sweeps per replica (reproducible)
  --seed N            random seed (default: random, printed in the result)
  --replicas N        temperatures in the parallel-tempering ladder
  --target-energy E   stop as soon as the energy is <= E (a tour's length;
                      -cut for Max-Cut; -value for bqp files)
  --json              print the result as one JSON object on stdout
  -h, --help          show this help]]

-- Flags that take a value: flag -> {SDK parameter, kind of value}.
local VALUE_FLAGS = {
  ["--solver"] = { "solver", "string" },
  ["--time-limit"] = { "time_limit", "number" },
  ["--sweeps"] = { "sweeps", "integer" },
  ["--seed"] = { "seed", "integer" },
  ["--replicas"] = { "replicas", "integer" },
  ["--target-energy"] = { "target_energy", "number" },
}

-- Flags of the command itself: flag -> {option, kind of value}.
local OWN_FLAGS = {
  ["--format"] = { "format", "string" },
  ["--instance"] = { "instance", "integer" },
}

-- File formats and the problem type each is solved as.
cli.FORMATS = { "tsplib", "rudy", "bqp", "json" }

-- SDK parameter -> the flag that sets it, for messages.
local FLAG_OF = {}
for flag, spec in pairs(VALUE_FLAGS) do FLAG_OF[spec[1]] = flag end

-- A usage error: parse_args raises these; main prints them and returns 2.
local function usage_error(fmt, ...)
  error({ usage = string.format(fmt, ...) }, 0)
end

-- Decimal forms only: Lua's tonumber would also take "0x10" and " 10 ".
local INTEGER_FORM = "^[+-]?%d+$"
local function is_decimal(text)
  local mant, exp = text:match("^[+-]?([%d.]+)(.*)$")
  return mant ~= nil and mant:match("^%d*%.?%d*$") ~= nil
         and mant:match("%d") ~= nil
         and (exp == "" or exp:match("^[eE][+-]?%d+$") ~= nil)
end

local function convert(flag, kind, text)
  if kind == "string" then return text end
  local form_ok = kind == "integer" and text:match(INTEGER_FORM)
                  or kind == "number" and is_decimal(text)
  local v = form_ok and tonumber(text)
  if not v or (kind == "integer" and math.tointeger(v) == nil) then
    usage_error("%s: expected %s, got '%s'", flag,
                kind == "integer" and "an integer" or "a number", text)
  end
  return kind == "integer" and math.tointeger(v) or v
end

-- Check the values with the SDK's own rules, naming flags, not fields.
local function check_values(opts)
  local ok, err = pcall(params.normalize, opts.params)
  if ok then return end
  if errors.is(err, "ValidationError") and FLAG_OF[err.field] then
    usage_error("%s: %s", FLAG_OF[err.field], err.message)
  end
  error(err, 0)
end

-- Split "--flag=value" into its two parts.
local function split_flag(word)
  local flag, value = word:match("^(%-%-[%w-]+)=(.*)$")
  if flag then return flag, value end
  return word, nil
end

-- Check --format and --instance.
local function check_own(opts)
  if opts.format then
    local ok = false
    for _, f in ipairs(cli.FORMATS) do ok = ok or f == opts.format end
    if not ok then
      usage_error("--format: must be one of %s, got '%s'",
                  table.concat(cli.FORMATS, ", "), opts.format)
    end
  end
  if opts.instance and opts.instance < 1 then
    usage_error("--instance: instances are numbered from 1, got %d",
                opts.instance)
  end
end

-- Parse the words after "solve" into {file, json, help, params, format,
-- instance}. Raises {usage = message} on a bad command line.
function cli.parse_args(args)
  local opts = { params = {}, json = false, help = false }
  local i = 1
  while i <= #args do
    local flag, value = split_flag(args[i])
    local spec = VALUE_FLAGS[flag] or OWN_FLAGS[flag]
    if spec then
      if value == nil then
        i = i + 1
        value = args[i]
        if value == nil then usage_error("%s: needs a value", flag) end
      end
      local into = VALUE_FLAGS[flag] and opts.params or opts
      if into[spec[1]] ~= nil then
        usage_error("%s: given more than once", flag)
      end
      into[spec[1]] = convert(flag, spec[2], value)
    elseif flag == "--json" or flag == "-h" or flag == "--help" then
      if value ~= nil then usage_error("%s: takes no value", flag) end
      opts[flag == "--json" and "json" or "help"] = true
    elseif flag:sub(1, 1) == "-" and flag ~= "-" then
      usage_error("%s: unknown option", flag)
    elseif opts.file then
      usage_error("%s: only one FILE may be given", args[i])
    else
      opts.file = args[i]
    end
    i = i + 1
  end
  if not opts.help then
    if not opts.file then usage_error("FILE: missing") end
    check_values(opts)
    check_own(opts)
  end
  return opts
end

-- The live progress line, rewritten in place with \r.
local function progress_line(ev)
  io.stderr:write(string.format("\r%-8s sweep %-10s best %-14s %7.2f s ",
    ev.type, tostring(ev.sweep), tostring(ev.best_energy),
    ev.elapsed_s or 0))
  io.stderr:flush()
end

-- A UTF-8 byte order mark, skipped at the start of a file (as the C
-- readers do).
local BOM = "\239\187\191"

-- The whole text of a file less a leading BOM, or nil and a message
-- naming the file (a folder cannot be read, though io.open opens it).
local function read_text(path)
  local f, err = io.open(path, "r")
  if not f then return nil, err end
  local text, rerr = f:read("a")
  f:close()
  if not text then return nil, path .. ": " .. tostring(rerr) end
  if text:sub(1, 3) == BOM then text = text:sub(4) end
  return text
end

-- The first line of a file that is not blank, or nil and a message.
local function first_line(path)
  local text, err = read_text(path)
  if not text then return nil, err end
  for line in text:gmatch("[^\n]*") do
    if line:match("%S") then return line end
  end
  return ""
end

-- The format of FILE: --format, else the name (.tsp, .json, bqp*.txt),
-- else the first line ("n m": rudy; one count: bqp; "KEY:": TSPLIB).
-- Raises {failure = message} when it cannot tell.
function cli.detect_format(path)
  local base = path:match("([^/]*)$")
  if base:match("%.tsp$") then return "tsplib" end
  if base:match("%.json$") then return "json" end
  if base:match("^bqp.*%.txt$") then return "bqp" end
  local line, err = first_line(path)
  if not line then error({ failure = err }, 0) end
  if line:match("^%s*%d+%s+%d+%s*$") then return "rudy" end
  if line:match("^%s*%d+%s*$") then return "bqp" end
  if line:match("^%s*[%a_]+%s*:") then return "tsplib" end
  error({ failure = path .. ": cannot tell the format of this file (use " ..
          "--format " .. table.concat(cli.FORMATS, "|") .. ")" }, 0)
end

-- Paths inside a JSON payload are relative to the JSON file's folder.
local PATH_FIELDS = { tsplib = true, rudy = true, bqp = true }

-- A JSON payload file as a submission (raises {failure = message}).
local function read_json(path)
  local text, err = read_text(path)
  if not text then error({ failure = err }, 0) end
  local ok, obj = pcall(require("cjson").decode, text)
  if not ok then
    error({ failure = path .. ": not valid JSON: " .. tostring(obj) }, 0)
  end
  if type(obj) ~= "table" or type(obj.problem_type) ~= "string" then
    error({ failure = path .. ": expected an object with a " ..
            "\"problem_type\" string" }, 0)
  end
  local dir = path:match("^(.*)/[^/]*$")
  for k in pairs(PATH_FIELDS) do
    local v = obj[k]
    if dir and type(v) == "string" and v:sub(1, 1) ~= "/" then
      obj[k] = dir .. "/" .. v
    end
  end
  return obj
end

-- The submission for FILE in `format`, before the command's parameters.
function cli.submission(opts, format)
  if format == "tsplib" then
    return { problem_type = "tsp", tsplib = opts.file }
  elseif format == "rudy" then
    return { problem_type = "maxcut", rudy = opts.file }
  elseif format == "bqp" then
    return { problem_type = "qubo", bqp = opts.file,
             instance = opts.instance or 1 }
  end
  return read_json(opts.file)
end

-- Solve the file; returns the result (raises nerox errors).
local function solve(opts, format)
  local client = nerox.Client()
  local submission = cli.submission(opts, format)
  for k, v in pairs(opts.params) do submission[k] = v end
  local job = client.optimize:submit(submission)
  if os.getenv("NEROX_STDERR_TTY") == "1" then
    for ev in job:stream() do progress_line(ev) end
    io.stderr:write("\n")
  end
  return job:wait()
end

-- The instance's name: the result's, else the file's name less .json.
local function instance_of(res, file)
  if res.instance ~= nil or file == nil then return res.instance end
  return (file:match("([^/]+)$"):gsub("%.json$", ""))
end

-- The result as printed by --json.
function cli.json_object(res, file)
  return {
    problem_type = res.problem_type, instance = instance_of(res, file),
    file = file, n = res.n, energy = res.energy, objective = res.objective,
    solution = res.solution, status = res.status, stop = res.stop,
    solver = res.solver, device = res.device, seed = res.seed,
    sweeps = res.sweeps, replicas = res.replicas,
    elapsed_s = (res.queued_s or 0) + (res.run_s or 0),
    queued_s = res.queued_s, run_s = res.run_s,
    model_hash = res.model_hash, version = res.version, job_id = res.job_id,
    feasible = res.feasible, violation = res.violation, sense = res.sense,
  }
end

-- A tour as lines of at most `width` columns, each indented by `indent`.
local function wrap_tour(tour, indent, width)
  local lines, line = {}, indent
  for _, city in ipairs(tour) do
    local word = tostring(city)
    if #line + #word + 1 > width and line ~= indent then
      lines[#lines + 1] = line
      line = indent
    end
    line = line .. (line == indent and "" or " ") .. word
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n")
end

-- The short human summary of a binary-kernel result (Max-Cut, QUBO, ...).
local function binary_summary(res)
  local feasible = ""
  if res.feasible ~= nil then
    feasible = res.feasible and ", feasible" or ", NOT feasible"
  end
  local out = {
    string.format("instance  %s (%s, %d variables)", tostring(res.instance),
                  res.problem_type, res.n or 0),
    string.format("energy    %s", tostring(res.energy)),
    string.format("objective %s (%s%s)", tostring(res.objective),
                  res.sense or "minimize", feasible),
    string.format("status    %s (stopped by %s after %d sweeps, %.2f s)",
                  res.status, tostring(res.stop), res.sweeps or 0,
                  res.run_s or 0),
    string.format("solver    %s on %s, seed %d, %d replicas", res.solver,
                  tostring(res.device), res.seed, res.replicas or 0),
    "solution (0-based order)",
    wrap_tour(res.solution or {}, "  ", 78),
  }
  return table.concat(out, "\n")
end

-- The short human summary.
function cli.summary(res)
  if res.problem_type ~= "tsp" then return binary_summary(res) end
  local out = {
    string.format("instance  %s (%d cities)", tostring(res.instance),
                  res.n or 0),
    string.format("length    %s", tostring(res.energy)),
    string.format("status    %s (stopped by %s after %d sweeps, %.2f s)",
                  res.status, tostring(res.stop), res.sweeps or 0,
                  res.run_s or 0),
    string.format("solver    %s on %s, seed %d, %d replicas", res.solver,
                  tostring(res.device), res.seed, res.replicas or 0),
    "tour (0-based)",
    wrap_tour(res.tour or {}, "  ", 78),
  }
  return table.concat(out, "\n")
end

-- A message for an error caught while solving. A parameter's error names
-- its flag when the flag gave it; any other field of a JSON payload is
-- named after the file.
local function failure_message(err, opts, format)
  if type(err) == "table" and err.failure then return err.failure end
  if errors.is(err, "ValidationError") then
    local flag = FLAG_OF[err.field]
    if flag and (not opts or opts.params[err.field] ~= nil) then
      return flag .. ": " .. err.message
    end
    if err.field == nil or PATH_FIELDS[err.field] or
       err.message:match("^[^:]+:%d+: ") then
      return err.message
    end
    local where = format == "json" and opts.file .. ": " or ""
    return where .. err.field .. ": " .. err.message
  end
  return tostring(err)
end

function cli.main(args)
  local ok, opts = pcall(cli.parse_args, args or {})
  if not ok then
    local msg = type(opts) == "table" and opts.usage or tostring(opts)
    io.stderr:write("nerox solve: ", msg, "\n", cli.USAGE, "\n")
    return 2
  end
  if opts.help then
    io.stdout:write(cli.USAGE, "\n")
    return 0
  end
  local format = opts.format
  if not format then
    ok, format = pcall(cli.detect_format, opts.file)
    if not ok then
      io.stderr:write("nerox solve: ", failure_message(format), "\n")
      return 1
    end
  end
  if opts.instance and format ~= "bqp" then
    io.stderr:write("nerox solve: --instance: only for bqp files (this " ..
                    "one is read as ", format, ")\n", cli.USAGE, "\n")
    return 2
  end
  local res
  ok, res = pcall(solve, opts, format)
  if not ok then
    io.stderr:write("nerox solve: ", failure_message(res, opts, format),
                    "\n")
    return 1
  end
  res.instance = instance_of(res, opts.file)
  if opts.json then
    io.stdout:write(require("cjson").encode(cli.json_object(res, opts.file)),
                    "\n")
  else
    io.stdout:write(cli.summary(res), "\n")
  end
  return 0
end

return cli
